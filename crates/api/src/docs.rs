//! The OpenAPI 3.1 description of the API, read from the operations (`crate::operations`) and
//! the types they take and answer, and an offline HTML page that renders it.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::contract::{Answer, Components, Operation, Schema, Verb};

/// The error shape: every error answer is `{"error": {...}}`.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `invalid_request_error`, `authentication_error`, `permission_error`, `rate_limit_error`,
    /// `idempotency_error`, `api_error`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Stable, for programs: `invalid_request`, `invalid_id`, `insufficient_funds`, ...
    pub code: String,
    /// For people; quotes of the input are cut to 64 characters.
    pub message: String,
    /// The field, query parameter or header at fault (`lines[1].amount`), if one is.
    pub param: Option<String>,
    /// Every problem of a refused document (risk rules), when there are several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<Problem>>,
}

/// One problem of a refused document.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    pub param: String,
    pub message: String,
}

/// Every `(method, path)` documented.
pub fn documented() -> Vec<(&'static str, &'static str)> {
    crate::operations().map(|o| (o.verb.as_str(), o.path)).collect()
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn schema_ref(s: &Schema) -> Value {
    r(&(s.name)())
}

/// One query parameter, as the handlers read it.
fn query_parameter(path: &str, name: &str) -> Value {
    let time = json!({"type": "string", "format": "date-time"});
    let (schema, description) = match name {
        "limit" => (json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 10}), "page size"),
        "starting_after" => (json!({"type": "string"}), "the last id of the previous page"),
        "ending_before" => (json!({"type": "string"}), "the first id of the next page"),
        "at" | "from" | "to" => (time, "RFC 3339 time"),
        "after" => (json!({"type": "integer", "minimum": 0}), "the last sequence seen"),
        "min_amount" => (json!({"type": "integer", "minimum": 0}), "minor units"),
        "currency" => (json!({"type": "string", "pattern": "^[A-Z]{3}$"}), "ISO 4217 code"),
        "status" => (
            json!({"enum": rialto_payments::PaymentStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()}),
            "payment status",
        ),
        "result" => (json!({"enum": ["success", "failure"]}), "outcome"),
        "user_id" | "account_id" => (json!({"type": "string"}), "an id of that kind"),
        _ => (json!({"type": "string"}), "exact match"),
    };
    json!({"name": name, "in": "query", "required": path.ends_with("/balance") && name == "at",
           "schema": schema, "description": description})
}

/// The error answers an operation can give, each in the error shape: the ones every `/v1`
/// operation can give (401, 403, 429, 503), those of a path id (404), of a body (400, 413, 415,
/// 422 and 409 for a state or idempotency conflict), and 4XX for the rest (431, 408, 405).
fn error_responses(o: &Operation) -> Value {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": r("Error")}}});
    let mut out = serde_json::Map::new();
    out.insert(
        "4XX".into(),
        error("Another client error (headers too large, a request too slow, a method not allowed)"),
    );
    if !o.path.starts_with("/v1/") {
        if o.path == "/readyz" {
            out.insert("503".into(), error("The database does not answer"));
        }
        return Value::Object(out);
    }
    out.insert(
        "400".into(),
        error("Invalid input: `code` and `param` say what and where (invalid_request, invalid_id, ...)"),
    );
    out.insert("401".into(), error("No API key, or not a valid one (`WWW-Authenticate: Bearer`)"));
    out.insert("403".into(), error("The key's role lacks the permission this operation needs"));
    out.insert("429".into(), error("Too many failed API keys from this address; `Retry-After` says when to retry"));
    out.insert("503".into(), error("The database is unavailable; nothing was applied unless the code says otherwise; retry with the same Idempotency-Key"));
    if o.path.contains('{') {
        out.insert("404".into(), error("No such resource"));
    }
    if o.request.is_some() || o.verb != Verb::Get {
        out.insert(
            "409".into(),
            error("A state or idempotency conflict (invalid_state_transition, idempotency_key_in_use, ...)"),
        );
        out.insert("413".into(), error("The body is too large (1 MiB; model uploads 64 MiB)"));
        out.insert("415".into(), error("The body is not `application/json`"));
        out.insert(
            "422".into(),
            error(
                "Refused by the ledger or a gate (insufficient_funds, currency_mismatch, idempotency_key_reused, ...)",
            ),
        );
    }
    Value::Object(out)
}

/// The OpenAPI document.
pub fn spec() -> Value {
    let mut paths = serde_json::Map::new();
    let mut components: Components = Vec::new();
    let mut requests: Components = Vec::new();
    <ErrorBody as ToSchema>::schemas(&mut components);
    components.push(("Error".into(), <ErrorBody as utoipa::PartialSchema>::schema()));
    for o in crate::operations() {
        let (media, schema) = match o.answer {
            Answer::Json(s) => {
                (s.collect)(&mut components);
                ("application/json", schema_ref(&s))
            }
            Answer::Text(media) => (media, json!({"type": "string"})),
            Answer::OpenApi => ("application/json", json!({"type": "object", "description": "OpenAPI 3.1"})),
        };
        let mut operation = json!({
            "summary": o.summary,
            "operationId": format!("{}{}", o.verb.as_str(), o.path.replace(['/', '{', '}', '-', '.'], "_")),
            "responses": error_responses(o),
        });
        operation["responses"][o.status.to_string()] =
            json!({"description": "Success", "content": {media: {"schema": schema}}});
        if let Some(needed) = o.permission {
            operation["security"] = json!([{"apiKey": []}]);
            operation["description"] =
                json!(format!("Needs the `{}` permission (roles: {}).", needed.as_str(), needed.roles().join(", ")));
        } else {
            operation["security"] = json!([]);
        }
        let mut parameters = Vec::new();
        for name in o.path.split('/').filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}')) {
            parameters.push(json!({"name": name, "in": "path", "required": true,
                "schema": {"type": "string", "minLength": 1, "maxLength": crate::input::SEGMENT_CHARS_MAX}}));
        }
        parameters.extend(o.queries.iter().map(|name| query_parameter(o.path, name)));
        if o.verb == Verb::Post && o.idempotent {
            parameters.push(json!({"name": "Idempotency-Key", "in": "header", "required": false,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255}}));
        }
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        if let Some(req) = o.request {
            (req.collect)(&mut requests);
            operation["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": schema_ref(&req)}}});
        }
        let entry = paths.entry(o.path.to_string()).or_insert_with(|| json!({}));
        entry[o.verb.as_str()] = operation;
    }
    let mut schemas = serde_json::Map::new();
    for (name, schema) in requests {
        let mut value = serde_json::to_value(schema).unwrap_or(Value::Null);
        close_objects(&mut value);
        schemas.entry(name).or_insert(value);
    }
    for (name, schema) in components {
        schemas.entry(name).or_insert_with(|| serde_json::to_value(schema).unwrap_or(Value::Null));
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Rialto API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Accounts, a double-entry ledger, transfers, payments through risk and compliance gates, refunds, settlements, risk rules and models, webhooks and a tamper-evident audit log. Amounts are integers in minor units."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
    })
}

/// Request objects refuse unknown fields (`Fields::of`): every request object schema with
/// properties says so (`additionalProperties: false`); maps (metadata) keep theirs. Answers
/// stay open, as clients should read them (fields may be added).
fn close_objects(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.contains_key("properties") && !m.contains_key("additionalProperties") {
                m.insert("additionalProperties".into(), Value::Bool(false));
            }
            m.values_mut().for_each(close_objects);
        }
        Value::Array(a) => a.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// `GET /openapi.json`
pub async fn openapi() -> Response {
    Json(spec()).into_response()
}

/// `GET /docs`: an interactive page with no outside resources: it reads `/openapi.json` and
/// sends requests from the browser.
pub async fn page() -> Response {
    ([(header::CONTENT_SECURITY_POLICY, DOCS_CSP)], Html(include_str!("docs.html"))).into_response()
}

/// `GET /docs/app.js`: the page's script (a file of its own, so the page's policy allows no
/// inline script).
pub async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("docs.js")).into_response()
}

/// What `/docs` may load: its own script, inline styles, requests to this server; no frames,
/// no forms, no other origin.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; \
     img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
