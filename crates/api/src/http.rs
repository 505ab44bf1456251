//! The HTTP helpers every domain's handlers share: bodies, query parameters, paging, the
//! answer of a read, and the write path through the writer with idempotency. Domain modules
//! import this; this imports no domain module.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rialto_core::ids::Id;
use rialto_store::{Command, Cursor};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::auth::Ctx;
use crate::error::echo;
use crate::error::ApiError;
use crate::idem;
use crate::input::{clean_text, id_of};
use crate::AppState;

/// Default page size.
pub const LIST_LIMIT_DEFAULT: usize = 10;
/// Largest page size.
pub const LIST_LIMIT_MAX: usize = 100;
pub(crate) type Body = Result<Bytes, BytesRejection>;
pub(crate) type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

pub(crate) fn body_bytes(body: Body) -> Result<Bytes, ApiError> {
    body.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large()
        } else {
            ApiError::invalid(format!("could not read the body: {rej}"))
        }
    })
}

pub(crate) fn params(q: Params, allowed: &[&str]) -> Result<HashMap<String, String>, ApiError> {
    let Query(map) = q.map_err(|e| ApiError::invalid(format!("malformed query string: {e}")))?;
    if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::invalid(format!("unknown query parameter `{}`", echo(k))).param(echo(k)));
    }
    for (k, v) in &map {
        clean_text(k, v)?;
    }
    Ok(map)
}

/// A query filter naming an id of kind `I`: absent, or an id of that shape (else 400).
pub(crate) fn filter_id<I: Id>(p: &HashMap<String, String>, name: &str) -> Result<Option<String>, ApiError> {
    p.get(name).map(|v| id_of::<I>(v).map_err(|e| e.param(name))).transpose()
}

/// `limit`, `starting_after`, `ending_before`. `cursor_prefix` checks the cursor's shape.
/// `?limit=`: 1 to 100, default 10.
pub(crate) fn page_limit(p: &HashMap<String, String>) -> Result<usize, ApiError> {
    match p.get("limit") {
        None => Ok(LIST_LIMIT_DEFAULT),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=LIST_LIMIT_MAX).contains(n))
            .ok_or_else(|| ApiError::invalid(format!("limit must be from 1 to {LIST_LIMIT_MAX}")).param("limit")),
    }
}

/// Cursors that are not typed ids.
pub(crate) enum SeqCursor {
    /// `ent_<seq>` (entry ids are their sequence).
    Entry,
    /// A bare sequence number (audit records, whose ids are not ordered).
    Number,
    /// A name chosen by an operator (risk rule ids): 1 to 64 letters, digits, `_` or `-`.
    Name,
}

/// `limit`, `starting_after`, `ending_before`. Cursors are ids with `cursor_prefix`, or
/// sequence numbers when `seq` says so.
pub(crate) fn paging(p: &HashMap<String, String>, cursor_prefix: &str) -> Result<(Cursor, usize), ApiError> {
    paging_with(p, cursor_prefix, None)
}

pub(crate) fn paging_with(
    p: &HashMap<String, String>,
    cursor_prefix: &str,
    seq: Option<SeqCursor>,
) -> Result<(Cursor, usize), ApiError> {
    let limit = page_limit(p)?;
    let check = |name: &str, v: &String| -> Result<String, ApiError> {
        let number = match seq {
            Some(SeqCursor::Entry) => v.strip_prefix("ent_"),
            Some(SeqCursor::Number) => Some(v.as_str()),
            Some(SeqCursor::Name) | None => None,
        };
        let ok = match (&seq, number) {
            (None, _) => rialto_core::ids::looks_like(v, cursor_prefix),
            (Some(SeqCursor::Name), _) => crate::input::is_slug(v),
            (Some(_), n) => n.is_some_and(|n| n.parse::<i64>().is_ok()),
        };
        if !ok {
            return Err(ApiError::invalid(format!("`{name}` is not a valid cursor")).param(name));
        }
        Ok(number.map_or_else(|| v.clone(), str::to_string))
    };
    let cursor = match (p.get("starting_after"), p.get("ending_before")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid("use either starting_after or ending_before, not both").param("ending_before"))
        }
        (Some(a), None) => Cursor::After(check("starting_after", a)?),
        (None, Some(b)) => Cursor::Before(check("ending_before", b)?),
        (None, None) => Cursor::First,
    };
    Ok((cursor, limit))
}

/// The answer of a read: the value as JSON, or the error.
pub(crate) fn respond<T: serde::Serialize>(r: Result<T, ApiError>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Parses the body and runs the command through the writer.
pub(crate) async fn write(
    state: &AppState,
    caller: &Ctx,
    headers: &HeaderMap,
    path: &str,
    body: Body,
    success: StatusCode,
    parse: impl FnOnce(&[u8]) -> Result<Command, ApiError>,
) -> Response {
    let bytes = match body_bytes(body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let command = match parse(&bytes) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    idem::run(state, caller, headers, ("POST", path, &bytes), command, success).await
}

pub(crate) fn time_param(p: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    p.get(name).map(|v| parse_time(name, v)).transpose()
}

/// An RFC 3339 time as µs since the epoch; errors name `name`.
pub(crate) fn parse_time(name: &str, text: &str) -> Result<i64, ApiError> {
    let t = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| ApiError::invalid(format!("`{name}` must be an RFC 3339 time")).param(name))?;
    i64::try_from(t.unix_timestamp_nanos() / 1000).map_err(|_| ApiError::invalid("out of range").param(name))
}
