//! Running a ledger command with Stripe's idempotency semantics.
//!
//! - A request with an `Idempotency-Key` (scoped to the API key) whose answer is stored gets
//!   that answer again, with `Idempotent-Replayed: true`, and changes nothing.
//! - The same key with a different request: 422 `idempotency_key_reused`.
//! - The same key while the first request is still running in this process: 409
//!   `idempotency_key_in_use`. Across processes the database's unique key serialises them.
//! - The record is written by the writer in the same transaction as the effect. Requests
//!   refused before they reach the ledger (400s) store nothing and may be retried freely.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rialto_store::{Command, Idempotency, Outcome, Reply};
use sha2::{Digest, Sha256};

use crate::auth::Ctx;
use crate::error::ApiError;
use crate::{present, AppState};

/// Longest accepted `Idempotency-Key`.
pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 255;

/// Keys of requests now running in this process.
#[derive(Default)]
pub struct InFlight {
    keys: Mutex<HashSet<String>>,
}

/// Removes its key from the in-flight set when dropped (also when the client goes away).
struct InFlightGuard {
    set: Arc<InFlight>,
    key: String,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if let Ok(mut keys) = self.set.keys.lock() {
            keys.remove(&self.key);
        }
    }
}

/// The JSON answer of an outcome: (status, body).
pub fn render(outcome: &Outcome, success: StatusCode) -> (StatusCode, serde_json::Value) {
    match outcome {
        Ok(output) => (success, present::output(output)),
        Err(e) => {
            let e = ApiError::from(e);
            (e.status, e.body())
        }
    }
}

fn stored_response(status: u16, body: String, replayed: bool) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut resp = (status, [("content-type", "application/json")], body).into_response();
    if replayed {
        resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

/// Reads and checks the `Idempotency-Key` header.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let bad = || {
        ApiError::invalid(format!(
            "Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_CHARS_MAX} printable ASCII characters"
        ))
        .param("Idempotency-Key")
    };
    let s = v.to_str().map_err(|_| bad())?;
    if s.is_empty() || s.len() > IDEMPOTENCY_KEY_CHARS_MAX || !s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(bad());
    }
    Ok(Some(s.to_string()))
}

/// SHA-256 over method, path and the canonical form of the JSON body (key order and
/// whitespace do not matter; values do).
fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned());
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

/// Submits `command` to the writer under the request's idempotency key, if any, and
/// answers. `success` is the status of a successful answer (200 or 201).
pub async fn run(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    request: (&str, &str, &[u8]),
    command: Command,
    success: StatusCode,
) -> Response {
    run_then(state, ctx, headers, request, command, success, |_| {}).await
}

/// As [`run`], and calls `applied` with the outcome when the command was applied (or
/// refused) by this request: not for a replayed answer, a reused key or a key in flight. Work
/// that follows a change (a background training) starts there, so a retried request with
/// the same key does not start it twice.
pub async fn run_then(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    (method, path, body): (&str, &str, &[u8]),
    command: Command,
    success: StatusCode,
    applied: impl FnOnce(&Outcome),
) -> Response {
    let key = match idempotency_key(headers) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let mut _guard = None;
    let idempotency = match key {
        None => None,
        Some(key) => {
            let scope_key = format!("{}:{key}", ctx.caller.key_id);
            {
                let Ok(mut keys) = state.in_flight.keys.lock() else {
                    return ApiError::unavailable("internal lock poisoned").into_response();
                };
                if !keys.insert(scope_key.clone()) {
                    return ApiError::new(
                        StatusCode::CONFLICT,
                        "idempotency_key_in_use",
                        "a request with this Idempotency-Key is still being processed; retry shortly",
                    )
                    .into_response();
                }
            }
            _guard = Some(InFlightGuard { set: state.in_flight.clone(), key: scope_key.clone() });
            let render = Arc::new(move |outcome: &Outcome| match outcome {
                Err(rialto_store::CommandError::Unavailable(_)) => None,
                _ => {
                    let (status, body) = render(outcome, success);
                    Some((status.as_u16(), body.to_string()))
                }
            });
            Some(Idempotency {
                scope_key,
                request_hash: request_hash(method, path, body),
                ttl_us: state.config.idempotency_ttl_us,
                render,
            })
        }
    };
    let reply = match _guard.take() {
        // Keep the key "in flight" until the writer has answered, even if this client hangs
        // up: a retry must not slip in while the first attempt is still being applied.
        Some(guard) => {
            let writer = state.writer.clone();
            let audit = ctx.audit();
            let task = tokio::spawn(async move {
                let reply = writer.submit(command, idempotency, Some(audit)).await;
                drop(guard);
                reply
            });
            match task.await {
                Ok(reply) => reply,
                Err(_) => return ApiError::unavailable("the request was interrupted").into_response(),
            }
        }
        None => state.writer.submit(command, idempotency, Some(ctx.audit())).await,
    };
    match reply {
        Reply::Done { outcome, stored: Some((status, body)) } => {
            applied(&outcome);
            stored_response(status, body, false)
        }
        Reply::Done { outcome, stored: None } => {
            applied(&outcome);
            let (status, body) = render(&outcome, success);
            (status, axum::Json(body)).into_response()
        }
        Reply::Replayed { status, body } => stored_response(status, body, true),
        Reply::KeyReused => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was already used with a different request",
        )
        .param("Idempotency-Key")
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ignores_formatting_not_values() {
        let a = request_hash("POST", "/v1/transfers", br#"{"a":1,"b":2}"#);
        assert_eq!(a, request_hash("POST", "/v1/transfers", br#"{ "b": 2, "a": 1 }"#));
        assert_ne!(a, request_hash("POST", "/v1/transfers", br#"{"a":1,"b":3}"#));
        assert_ne!(a, request_hash("POST", "/v1/accounts", br#"{"a":1,"b":2}"#));
    }
}
