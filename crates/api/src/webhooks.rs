//! Webhook endpoints over HTTP: register, list, read, change, disable, delete, rotate the
//! secret, list deliveries; and the event types endpoints subscribe to. The deliveries
//! themselves (signing, retries) are the worker's (`crate::worker::delivery`).

use rialto_core::ids::{self, Id};

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rialto_store::{check_event_pattern, Command, Output, Reply, WebhookChange, WebhookEndpoint};
use serde_json::Value;

use crate::auth::Ctx;
use crate::contract::names;
use crate::contract::{handler, Operation, Verb, PAGE};
use crate::error::ApiError;
use crate::http::{body_bytes, paging, params, respond, Body, Params};
use crate::input::{id_of, Fields, PathId};
use crate::permissions::Permission::{Read, Write};
use crate::{present, AppState};
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::worker::delivery::{signature, WEBHOOK_ATTEMPTS_MAX};

names!(
    /// An endpoint's status: a disabled endpoint's deliveries wait.
    EndpointStatusName: "active", "disabled"
);

/// A new webhook endpoint.
#[derive(ToSchema)]
#[schema(example = json!({"url": "https://hooks.example.com/rialto", "event_types": ["payment.*"], "description": "payments to the ERP"}))]
#[allow(dead_code)]
pub struct WebhookCreate {
    /// `https://` or `http://`, a public address unless the operator allowed its network.
    #[schema(max_length = 2048)]
    url: String,
    /// Types of `GET /v1/event-types`, `*` or `<prefix>.*`; default `["*"]`.
    #[schema(min_items = 1)]
    event_types: Option<Vec<String>>,
    #[schema(max_length = 500)]
    description: Option<String>,
}

/// A change of an endpoint (any of the fields).
#[derive(ToSchema)]
#[schema(example = json!({"status": "disabled"}))]
#[allow(dead_code)]
pub struct WebhookUpdate {
    #[schema(max_length = 2048)]
    url: Option<String>,
    #[schema(min_items = 1)]
    event_types: Option<Vec<String>>,
    #[schema(max_length = 500)]
    description: Option<String>,
    status: Option<EndpointStatusName>,
}

/// A secret rotation.
#[derive(ToSchema)]
#[schema(example = json!({"overlap_seconds": 3600}))]
#[allow(dead_code)]
pub struct WebhookRotate {
    /// How long the old secret keeps signing too: default 86400, at most 604800.
    #[schema(minimum = 0, maximum = 604800)]
    overlap_seconds: Option<i64>,
}

/// A webhook endpoint (its secret only when created or rotated).
#[derive(Serialize, ToSchema)]
pub struct WebhookEndpointView {
    /// `we_` and 32 hex digits.
    id: String,
    /// Always `webhook_endpoint`.
    object: &'static str,
    url: String,
    description: String,
    event_types: Vec<String>,
    /// `active`, `disabled` or `deleted`.
    status: String,
    created_at: present::Timestamp,
    updated_at: present::Timestamp,
    /// Until then the previous secret signs too.
    previous_secret_expires_at: Option<present::Timestamp>,
    /// The signing secret: only in the answer that creates or rotates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

fn endpoint_json(e: &WebhookEndpoint, secret: Option<&str>) -> WebhookEndpointView {
    WebhookEndpointView {
        id: e.id.clone(),
        object: "webhook_endpoint",
        url: e.url.clone(),
        description: e.description.clone(),
        event_types: e.event_types.clone(),
        status: e.status.clone(),
        created_at: present::Timestamp(e.created_at_us),
        updated_at: present::Timestamp(e.updated_at_us.max(e.created_at_us)),
        previous_secret_expires_at: e.previous_secret_expires_at_us.map(present::Timestamp),
        secret: secret.map(str::to_string),
    }
}

/// A type of event endpoints can subscribe to.
#[derive(Serialize, ToSchema)]
pub struct EventType {
    /// Always `event_type`.
    object: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    description: &'static str,
}

/// An attempt, or attempts, to deliver one event to one endpoint.
#[derive(Serialize, ToSchema)]
pub struct WebhookDelivery {
    id: String,
    /// Always `webhook_delivery`.
    object: &'static str,
    endpoint_id: String,
    event_sequence: i64,
    /// `pending`, `delivered`, `failed` or `cancelled`.
    status: String,
    attempts: i64,
    next_attempt_at: present::Timestamp,
    last_status_code: Option<i64>,
    last_error: Option<String>,
    created_at: present::Timestamp,
    updated_at: present::Timestamp,
}

present::list_schemas!(WebhookEndpointView, EventType, WebhookDelivery);

/// Longest overlap of a rotated secret: 7 days.
pub const SECRET_OVERLAP_SECONDS_MAX: i64 = 7 * 24 * 3600;
/// Overlap of a rotated secret unless asked otherwise: 24 hours.
pub const SECRET_OVERLAP_SECONDS_DEFAULT: i64 = 24 * 3600;

fn new_secret() -> String {
    let mut secret = [0u8; 32];
    rand::Rng::fill(&mut rand::rngs::OsRng, &mut secret);
    format!("whsec_{}", hex::encode(secret))
}

/// A delivery URL: http or https, a host, no credentials, and (unless allowed by the operator)
/// a public address: a literal is checked here, a name is resolved here and again on every
/// delivery (it may resolve elsewhere later).
async fn delivery_url(s: &AppState, url: String) -> Result<String, ApiError> {
    let bad = |m: &str| ApiError::invalid(m).param("url");
    let parsed = reqwest::Url::parse(&url).map_err(|_| bad("url is not a valid URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("url must be an http or https URL"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("url must not carry credentials; deliveries are signed instead"));
    }
    let policy = &s.config.webhook_targets;
    let refused = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, "webhook_target_not_allowed", m).param("url");
    policy.check_literal(&parsed).map_err(refused)?;
    let host = parsed.host_str().unwrap_or_default().to_string();
    if host.parse::<std::net::IpAddr>().is_err() && !host.starts_with('[') {
        // A name that does not resolve now may later: the delivery checks it then.
        let lookup = tokio::time::timeout(Duration::from_secs(2), policy.resolve(&host)).await;
        if let Ok(Err(e)) = lookup {
            if e == crate::worker::targets::REFUSED {
                return Err(refused(&e));
            }
        }
    }
    Ok(url)
}

/// `event_types`: a non-empty array of event types, `*` or `<prefix>.*`.
fn event_types(f: &mut Fields) -> Result<Option<Vec<String>>, ApiError> {
    let Some(value) = f.opt_value("event_types") else { return Ok(None) };
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_event_type", m).param("event_types");
    let Value::Array(items) = value else {
        return Err(bad("event_types must be an array of event types (see GET /v1/event-types)".into()));
    };
    if items.is_empty() || items.len() > rialto_store::EVENT_TYPES.len() + 1 {
        return Err(bad("event_types lists one or more event types, `*` for all".into()));
    }
    let mut out = Vec::new();
    for item in items {
        let Value::String(t) = item else { return Err(bad("event_types must be strings".into())) };
        check_event_pattern(&t).map_err(|why| bad(format!("`{}` {why}", crate::error::echo(&t))))?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(Some(out))
}

/// Runs an endpoint command through the writer (audited in its transaction).
async fn submit(s: &AppState, ctx: &Ctx, command: Command) -> Result<WebhookEndpoint, ApiError> {
    match s.writer.submit(command, None, Some(ctx.audit())).await {
        Reply::Done { outcome: Ok(Output::WebhookEndpoint(e)), .. } => Ok(*e),
        Reply::Done { outcome: Err(e), .. } => Err(ApiError::from(&e)),
        _ => Err(ApiError::unavailable("unexpected answer from the ledger writer")),
    }
}

/// `POST /v1/webhook-endpoints` with `url`, optional `event_types` (default `["*"]`) and
/// `description`; the signing secret is in the answer, and only there.
pub async fn create(State(s): State<AppState>, ctx: Ctx, body: Body) -> Response {
    respond(
        async {
            let b = body_bytes(body)?;
            let mut f = Fields::of::<WebhookCreate>(&b)?;
            let url = delivery_url(&s, f.string("url", 2048)?).await?;
            let event_types = event_types(&mut f)?.unwrap_or_else(|| vec!["*".into()]);
            let description = f.opt_string("description", DESCRIPTION_CHARS_MAX)?.unwrap_or_default();
            let now = rialto_store::now_us();
            let endpoint = WebhookEndpoint {
                id: ids::new_id::<ids::WebhookEndpointId>(),
                url,
                secret: new_secret(),
                event_types,
                status: "active".into(),
                description,
                previous_secret: None,
                previous_secret_expires_at_us: None,
                created_at_us: now,
                updated_at_us: now,
            };
            let e = submit(&s, &ctx, Command::CreateWebhookEndpoint(Box::new(endpoint))).await?;
            Ok(endpoint_json(&e, Some(&e.secret)))
        }
        .await,
    )
}

/// Longest endpoint description, characters.
const DESCRIPTION_CHARS_MAX: usize = 500;

/// `GET /v1/webhook-endpoints`: newest first, never their secrets.
pub async fn list(State(s): State<AppState>, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["limit", "starting_after", "ending_before"])?;
            let (cursor, limit) = paging(&p, ids::WebhookEndpointId::PREFIX)?;
            Ok(present::page(&s.db.webhook_endpoints(&cursor, limit).await?, |e| endpoint_json(e, None)))
        }
        .await,
    )
}

async fn existing(s: &AppState, id: &str) -> Result<WebhookEndpoint, ApiError> {
    let id = id_of::<ids::WebhookEndpointId>(id)?;
    match s.db.webhook_endpoint(&id).await? {
        Some(e) if e.status != "deleted" => Ok(e),
        _ => Err(ApiError::not_found("webhook endpoint", &id)),
    }
}

/// `GET /v1/webhook-endpoints/{id}`
pub async fn get(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(async { Ok(endpoint_json(&existing(&s, &id).await?, None)) }.await)
}

/// `POST /v1/webhook-endpoints/{id}` with any of `url`, `event_types`, `description`, and
/// `status` (`active`, or `disabled`: deliveries wait until it is active again).
pub async fn update(State(s): State<AppState>, ctx: Ctx, PathId(id): PathId, body: Body) -> Response {
    respond(
        async {
            let b = body_bytes(body)?;
            let id = id_of::<ids::WebhookEndpointId>(&id)?;
            let mut f = Fields::of::<WebhookUpdate>(&b)?;
            let url = match f.opt_string("url", 2048)? {
                Some(u) => Some(delivery_url(&s, u).await?),
                None => None,
            };
            let event_types = event_types(&mut f)?;
            let description = f.opt_string("description", DESCRIPTION_CHARS_MAX)?;
            let status = f.opt_string("status", 16)?;
            if status.as_deref().is_some_and(|st| st != "active" && st != "disabled") {
                return Err(ApiError::invalid("status is `active` or `disabled`").param("status"));
            }
            if url.is_none() && event_types.is_none() && description.is_none() && status.is_none() {
                return Err(ApiError::invalid("give at least one of url, event_types, description, status"));
            }
            let change = WebhookChange::Update { url, event_types, description, status };
            Ok(endpoint_json(&submit(&s, &ctx, Command::ChangeWebhookEndpoint { id, change }).await?, None))
        }
        .await,
    )
}

/// `DELETE /v1/webhook-endpoints/{id}`: no more deliveries; pending ones are cancelled.
pub async fn delete(State(s): State<AppState>, ctx: Ctx, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = id_of::<ids::WebhookEndpointId>(&id)?;
            let change = WebhookChange::Delete;
            Ok(endpoint_json(&submit(&s, &ctx, Command::ChangeWebhookEndpoint { id, change }).await?, None))
        }
        .await,
    )
}

/// `POST /v1/webhook-endpoints/{id}/rotate-secret` with optional `overlap_seconds` (0 to 7
/// days, default 24 hours): a new secret, in the answer only; deliveries carry a signature
/// with each secret until the overlap ends.
pub async fn rotate_secret(State(s): State<AppState>, ctx: Ctx, PathId(id): PathId, body: Body) -> Response {
    respond(
        async {
            let b = body_bytes(body)?;
            let id = id_of::<ids::WebhookEndpointId>(&id)?;
            let mut f = Fields::of::<WebhookRotate>(&b)?;
            let overlap =
                f.opt_int("overlap_seconds", 0, SECRET_OVERLAP_SECONDS_MAX)?.unwrap_or(SECRET_OVERLAP_SECONDS_DEFAULT);
            let change = WebhookChange::RotateSecret { secret: new_secret(), overlap_us: overlap * 1_000_000 };
            let e = submit(&s, &ctx, Command::ChangeWebhookEndpoint { id, change }).await?;
            Ok(endpoint_json(&e, Some(&e.secret)))
        }
        .await,
    )
}

/// `GET /v1/event-types`: what endpoints can subscribe to.
pub async fn event_type_list() -> Response {
    let data = rialto_store::EVENT_TYPES
        .iter()
        .map(|(kind, description)| EventType { object: "event_type", kind, description })
        .collect();
    axum::Json(present::List::all(data)).into_response()
}

/// `GET /v1/webhook-endpoints/{id}/deliveries`
pub async fn deliveries(State(s): State<AppState>, PathId(id): PathId, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["limit", "starting_after", "ending_before"])?;
            let (cursor, limit) = paging(&p, ids::WebhookDeliveryId::PREFIX)?;
            let id = id_of::<ids::WebhookEndpointId>(&id)?;
            if s.db.webhook_endpoint(&id).await?.is_none() {
                return Err(ApiError::not_found("webhook endpoint", &id));
            }
            // A deleted endpoint's deliveries stay readable.
            let page = s.db.deliveries(&id, &cursor, limit).await?;
            Ok(present::page(&page, |d| WebhookDelivery {
                id: d.id.clone(),
                object: "webhook_delivery",
                endpoint_id: d.endpoint_id.clone(),
                event_sequence: d.event_seq,
                status: d.status.clone(),
                attempts: d.attempts,
                next_attempt_at: present::Timestamp(d.next_attempt_at_us),
                last_status_code: d.last_status_code,
                last_error: d.last_error.clone(),
                created_at: present::Timestamp(d.created_at_us),
                updated_at: present::Timestamp(d.updated_at_us),
            }))
        }
        .await,
    )
}

/// The operations of this module: the router, the permission check and the API description read them.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    Operation::new::<WebhookEndpointView>(Verb::Post, "/v1/webhook-endpoints", Write, "Register a webhook endpoint (url, event_types, description); returns its signing secret once. The URL must be a public address unless the operator allowed its network", handler!(create))
        .body::<WebhookCreate>()
        .without_idempotency(),
    Operation::new::<present::List<WebhookEndpointView>>(Verb::Get, "/v1/webhook-endpoints", Read, "Webhook endpoints (newest first, never their secrets)", handler!(list))
        .queries(PAGE),
    Operation::new::<WebhookEndpointView>(Verb::Get, "/v1/webhook-endpoints/{id}", Read, "A webhook endpoint", handler!(get)),
    Operation::new::<WebhookEndpointView>(Verb::Post, "/v1/webhook-endpoints/{id}", Write, "Change a webhook endpoint: url, event_types, description, status (active or disabled; a disabled endpoint's deliveries wait)", handler!(update))
        .body::<WebhookUpdate>()
        .without_idempotency(),
    Operation::new::<WebhookEndpointView>(Verb::Delete, "/v1/webhook-endpoints/{id}", Write, "Delete a webhook endpoint: its pending deliveries are cancelled", handler!(delete)),
    Operation::new::<WebhookEndpointView>(Verb::Post, "/v1/webhook-endpoints/{id}/rotate-secret", Write, "A new signing secret (returned once); the old one keeps signing for overlap_seconds (default 86400, at most 604800)", handler!(rotate_secret))
        .body::<WebhookRotate>()
        .without_idempotency(),
    Operation::new::<present::List<WebhookDelivery>>(Verb::Get, "/v1/webhook-endpoints/{id}/deliveries", Read, "An endpoint's deliveries with attempts and outcome", handler!(deliveries))
        .queries(PAGE),
    Operation::new::<present::List<EventType>>(Verb::Get, "/v1/event-types", Read, "The event types of the event stream, which webhook endpoints subscribe to", handler!(event_type_list)),
];
