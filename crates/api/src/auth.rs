//! Bearer API keys, with a short-lived cache of verified key hashes, and role checks.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rialto_store::{ApiKey, AuditContext, Role};

use crate::error::ApiError;
use crate::refusals::Refusal;
use crate::AppState;

/// How long a verified key is trusted without asking the database again. A key revoked
/// by another process stops working within this time; in this process, at once.
pub const AUTH_CACHE_TTL: Duration = Duration::from_secs(5);
/// Most keys cached.
const AUTH_CACHE_ENTRIES_MAX: usize = 10_000;

/// The authenticated caller, available to handlers as an extension.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Key id (scopes idempotency keys).
    pub key_id: String,
    /// Role.
    pub role: Role,
}

/// Cache of key hash -> (the key, or None for a hash no key has; fetched at). Unknown hashes
/// are remembered too, so that a client repeating a bad key costs no database read.
#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<String, (Option<ApiKey>, Instant)>>,
}

/// What the cache knows of a hash.
enum Cached {
    Key(ApiKey),
    Unknown,
    Miss,
}

impl AuthCache {
    fn get(&self, hash: &str) -> Cached {
        let Ok(entries) = self.entries.lock() else { return Cached::Miss };
        match entries.get(hash).filter(|(_, at)| at.elapsed() < AUTH_CACHE_TTL) {
            Some((Some(k), _)) => Cached::Key(k.clone()),
            Some((None, _)) => Cached::Unknown,
            None => Cached::Miss,
        }
    }

    fn put(&self, hash: String, key: Option<ApiKey>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= AUTH_CACHE_ENTRIES_MAX {
                entries.retain(|_, (_, at)| at.elapsed() < AUTH_CACHE_TTL);
                if entries.len() >= AUTH_CACHE_ENTRIES_MAX {
                    entries.clear();
                }
            }
            entries.insert(hash, (key, Instant::now()));
        }
    }

    /// Forgets every cached key (after a key is created or revoked).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// The request id given by the outermost middleware.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Who is calling, as handlers and the audit log see it.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The authenticated key.
    pub caller: Caller,
    /// Request id (also in the `Request-Id` header).
    pub request_id: Option<String>,
    /// Client address.
    pub ip: Option<String>,
}

impl Ctx {
    /// The audit context of this request.
    pub fn audit(&self) -> AuditContext {
        AuditContext { actor: self.caller.key_id.clone(), request_id: self.request_id.clone(), ip: self.ip.clone() }
    }
}

fn request_context(parts: &axum::http::Extensions, actor: &str) -> AuditContext {
    AuditContext {
        actor: actor.to_string(),
        request_id: parts.get::<RequestId>().map(|r| r.0.clone()),
        ip: parts.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "no API key"))?;
        let audit = request_context(&parts.extensions, &caller.key_id);
        Ok(Ctx { caller, request_id: audit.request_id, ip: audit.ip })
    }
}

/// Refuses a request. The refusal is counted for the audit log (written by the background
/// flush, `crate::refusals`), not written on the request path.
fn refuse(state: &AppState, req: &Request, actor: &str, action: &'static str, error: ApiError) -> Response {
    state.metrics.auth_failure();
    let ctx = request_context(req.extensions(), actor);
    state.refusals.record(&Refusal {
        action,
        actor,
        reason: &error.message,
        method: crate::edge::method_label(req.method()),
        path: req.uri().path(),
        request_id: ctx.request_id.as_deref(),
        ip: ctx.ip.as_deref(),
    });
    error.into_response()
}

/// What the throttle counts a failed key against: the client's address. Not the key's prefix:
/// prefixes are shown in key listings, and throttling one would lock its owner out.
fn subject(req: &Request) -> Option<String> {
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| client_subject(addr.ip()))
}

/// An IPv4 client is its address; an IPv6 client its /64, which one host usually holds whole
/// (so rotating through its addresses does not reset the count).
fn client_subject(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("ip6:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        other => format!("ip:{}", other.to_canonical()),
    }
}

/// Middleware on `/v1`: 401 without a valid key, 403 when the role may not, 429 when this
/// address failed too often. All are audited (in aggregate).
pub async fn require_key(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 200)
        .map(str::to_string);
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
    let Some(secret) = bearer else {
        let e = unauthorized("send an API key as `Authorization: Bearer <key>`");
        return refuse(&state, &req, "anonymous", "auth.failure", e);
    };
    let hash = rialto_store::hash_secret(&secret);
    let key = match state.auth.get(&hash) {
        Cached::Key(k) => Some(k),
        Cached::Unknown => None,
        Cached::Miss => {
            if let Some(wait) = subject(&req).and_then(|s| state.throttle.retry_after(&s)) {
                return throttled(&state, &req, wait);
            }
            match state.db.api_key_by_secret(&secret).await {
                Ok(found) => {
                    state.auth.put(hash, found.clone());
                    found
                }
                Err(e) => return ApiError::from(e).into_response(),
            }
        }
    };
    let Some(key) = key.filter(|k| k.revoked_at_us.is_none()) else {
        if let Some(subject) = subject(&req) {
            state.throttle.failed(&subject);
            if let Some(wait) = state.throttle.retry_after(&subject) {
                return throttled(&state, &req, wait);
            }
        }
        return refuse(&state, &req, "anonymous", "auth.failure", unauthorized("the API key is not valid"));
    };
    let route = req.extensions().get::<MatchedPath>().map_or("", MatchedPath::as_str);
    // A route without an operation (none today) needs the most: what is forgotten is closed.
    let needed = crate::operation(req.method(), route)
        .and_then(|o| o.permission)
        .unwrap_or(crate::permissions::Permission::Administer);
    if !crate::permissions::allows(key.role, needed) {
        let message = format!(
            "this {} key may not do this: it needs the `{}` permission (roles: {})",
            key.role.as_str(),
            needed.as_str(),
            needed.roles().join(", ")
        );
        let e = ApiError::new(StatusCode::FORBIDDEN, "forbidden", message);
        return refuse(&state, &req, &key.id, "auth.forbidden", e);
    }
    req.extensions_mut().insert(Caller { key_id: key.id, role: key.role });
    next.run(req).await
}

/// 429 with `Retry-After`: too many failed keys from this address.
fn throttled(state: &AppState, req: &Request, wait_s: u64) -> Response {
    let message = format!("too many failed API keys from this client; retry in {wait_s} s");
    let e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_auth_failures", message);
    let mut response = refuse(state, req, "anonymous", "auth.throttled", e);
    if let Ok(v) = axum::http::HeaderValue::from_str(&wait_s.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::client_subject;

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let a = client_subject("2001:db8:1:2::1".parse().unwrap_or(std::net::Ipv6Addr::LOCALHOST.into()));
        let b = client_subject("2001:db8:1:2:ffff::9".parse().unwrap_or(std::net::Ipv6Addr::LOCALHOST.into()));
        let c = client_subject("2001:db8:1:3::1".parse().unwrap_or(std::net::Ipv6Addr::LOCALHOST.into()));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mapped = client_subject("::ffff:10.0.0.1".parse().unwrap_or(std::net::Ipv6Addr::LOCALHOST.into()));
        assert_eq!(mapped, client_subject("10.0.0.1".parse().unwrap_or(std::net::Ipv6Addr::LOCALHOST.into())));
    }
}
