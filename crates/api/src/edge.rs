//! What every request crosses before a handler sees it: limits on headers, the body's media
//! type, and the hardening headers of every answer. Each refusal has the API's error shape.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::{AppState, BODY_BYTES_MAX};

/// Most bytes of all request headers (names and values) a request may carry.
pub const HEADER_BYTES_MAX: usize = 32 * 1024;
/// Most request headers.
pub const HEADERS_MAX: usize = 64;

/// Middleware on every route: 431 for oversized headers, 415 for a body that is not JSON, and
/// the hardening headers on whatever the handler answers.
pub async fn guard(req: Request, next: Next) -> Response {
    let bytes: usize = req.headers().iter().map(|(n, v)| n.as_str().len() + v.len()).sum();
    if req.headers().len() > HEADERS_MAX || bytes > HEADER_BYTES_MAX {
        let message = format!("request headers are limited to {HEADERS_MAX} headers and {HEADER_BYTES_MAX} bytes");
        return harden(ApiError::new(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large", message));
    }
    if has_body(req.headers()) && !is_json(req.headers()) {
        let e = ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "request bodies must be JSON, sent with `Content-Type: application/json`",
        )
        .param("Content-Type");
        return harden(e);
    }
    harden(next.run(req).await)
}

/// Route layer on `/v1`, after authentication: reads the whole body within the body read
/// timeout (408 otherwise) and within the route's size limit (413), so that a client sending
/// slowly holds no handler and no writer slot.
pub async fn read_body(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !has_body(req.headers()) {
        return next.run(req).await;
    }
    let route = req.extensions().get::<axum::extract::MatchedPath>().map(|m| m.as_str().to_string());
    let limit =
        route.and_then(|r| crate::operation(req.method(), &r)).and_then(|o| o.body_limit).unwrap_or(BODY_BYTES_MAX);
    let timeout = state.config.limits.body_read_timeout;
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(Err(e)) if is_length_limit(&e) => ApiError::payload_too_large().into_response(),
        Ok(Err(_)) => ApiError::invalid("the request body could not be read").into_response(),
        Err(_) => {
            let message = format!("the request body did not arrive within {} s", timeout.as_secs_f64());
            let mut response = ApiError::new(StatusCode::REQUEST_TIMEOUT, "request_timeout", message).into_response();
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// True when the request says it carries a body (a non-zero length, or chunks).
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().parse::<u64>().map_or(true, |n| n > 0))
}

/// `application/json`, or a `+json` type, with any parameters (`; charset=utf-8`).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Adds the headers every answer carries: no sniffing, no caching, no framing, no referrer,
/// and the authentication scheme on a 401.
fn harden(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    let unauthorized = response.status() == StatusCode::UNAUTHORIZED;
    let h = response.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    if unauthorized {
        h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"rialto\""));
    }
    response
}

/// The method as a metrics label: one of the methods the API knows, else `other`, so that no
/// client can add label values.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn media_types() {
        assert!(is_json(&headers(&[("content-type", "application/json")])));
        assert!(is_json(&headers(&[("content-type", "Application/JSON; charset=utf-8")])));
        assert!(is_json(&headers(&[("content-type", "application/merge-patch+json")])));
        assert!(!is_json(&headers(&[("content-type", "text/plain")])));
        assert!(!is_json(&headers(&[("content-type", "application/xml")])));
        assert!(!is_json(&headers(&[("content-type", "text/json+xml")])));
        assert!(!is_json(&headers(&[])));
        assert!(has_body(&headers(&[("content-length", "3")])));
        assert!(has_body(&headers(&[("transfer-encoding", "chunked")])));
        assert!(!has_body(&headers(&[("content-length", "0")])));
        assert!(!has_body(&headers(&[])));
    }

    #[test]
    fn method_labels_are_bounded() {
        assert_eq!(method_label(&Method::POST), "POST");
        let invented = Method::from_bytes(b"XYZZY").unwrap_or(Method::GET);
        assert_eq!(method_label(&invented), "other");
    }
}
