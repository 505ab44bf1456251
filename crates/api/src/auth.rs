//! Bearer API keys, with a short-lived cache of verified key hashes, and role checks.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rialto_store::{ApiKey, Role};

use crate::error::ApiError;
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

/// Cache of key hash -> (key, fetched at).
#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<String, (ApiKey, Instant)>>,
}

impl AuthCache {
    fn get(&self, hash: &str) -> Option<ApiKey> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < AUTH_CACHE_TTL)
            .map(|(k, _)| k.clone())
    }

    fn put(&self, hash: String, key: ApiKey) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= AUTH_CACHE_ENTRIES_MAX {
                entries.clear();
            }
            entries.insert(hash, (key, Instant::now()));
        }
    }

    /// Forgets every cached key (after a revocation).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// The role a request needs: reads need `reader`, changes `writer`, key management `admin`.
fn required_role(method: &Method, path: &str) -> Role {
    if path.starts_with("/v1/api-keys") {
        Role::Admin
    } else if method == Method::GET || method == Method::HEAD {
        Role::Reader
    } else {
        Role::Writer
    }
}

/// Middleware on `/v1`: 401 without a valid key, 403 when the role may not.
pub async fn require_key(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 200);
    let Some(secret) = bearer else {
        state.metrics.auth_failure();
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send an API key as `Authorization: Bearer <key>`",
        )
        .into_response();
    };
    let hash = rialto_store::hash_secret(secret);
    let key = match state.auth.get(&hash) {
        Some(k) => Some(k),
        None => match state.db.api_key_by_secret(secret).await {
            Ok(Some(k)) => {
                state.auth.put(hash, k.clone());
                Some(k)
            }
            Ok(None) => None,
            Err(e) => return ApiError::from(e).into_response(),
        },
    };
    let Some(key) = key.filter(|k| k.revoked_at_us.is_none()) else {
        state.metrics.auth_failure();
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the API key is not valid",
        )
        .into_response();
    };
    let needed = required_role(req.method(), req.uri().path());
    if key.role < needed {
        state.metrics.auth_failure();
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "this {} key may not do this; it needs the {} role",
                key.role.as_str(),
                needed.as_str()
            ),
        )
        .into_response();
    }
    req.extensions_mut().insert(Caller {
        key_id: key.id,
        role: key.role,
    });
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles() {
        assert_eq!(required_role(&Method::GET, "/v1/accounts"), Role::Reader);
        assert_eq!(required_role(&Method::POST, "/v1/transfers"), Role::Writer);
        assert_eq!(required_role(&Method::GET, "/v1/api-keys"), Role::Admin);
        assert!(Role::Admin > Role::Writer && Role::Writer > Role::Reader);
    }
}
