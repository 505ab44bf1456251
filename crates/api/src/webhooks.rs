//! Webhook endpoints over HTTP: registering one, listing its deliveries. The deliveries
//! themselves (signing, retries) are the worker's (`crate::worker::delivery`).

use rialto_core::ids::{self, Id};

use axum::extract::State;
use axum::response::Response;
use rialto_store::{Command, Output, Reply, WebhookEndpoint};
use serde_json::{json, Value};

use crate::auth::Ctx;
use crate::error::ApiError;
use crate::input::{id_of, Fields, PathId};
use crate::routes::{body_bytes, paging, params, respond, Body, Params};
use crate::{present, AppState};

pub use crate::worker::delivery::{signature, WEBHOOK_ATTEMPTS_MAX};

fn endpoint_json(e: &WebhookEndpoint, with_secret: bool) -> Value {
    let mut v = json!({
        "id": e.id, "object": "webhook_endpoint", "url": e.url, "event_types": e.event_types,
        "status": e.status, "created_at": present::time_text(e.created_at_us),
    });
    if with_secret {
        v["secret"] = json!(e.secret);
    }
    v
}

/// `POST /v1/webhook-endpoints` with `url` and optional `event_types`; the signing secret is
/// in the answer.
pub async fn create(State(s): State<AppState>, ctx: Ctx, body: Body) -> Response {
    respond(
        async {
            let b = body_bytes(body)?;
            let mut f = Fields::parse(&b, &["url", "event_types"])?;
            let url = f.string("url", 2048)?;
            let parsed =
                reqwest::Url::parse(&url).map_err(|_| ApiError::invalid("url is not a valid URL").param("url"))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(ApiError::invalid("url must be an http or https URL").param("url"));
            }
            let mut event_types = Vec::new();
            if let Some(Value::Array(types)) = f.opt_value("event_types") {
                for t in types {
                    let Value::String(t) = t else {
                        return Err(ApiError::invalid("event_types must be strings").param("event_types"));
                    };
                    if t.is_empty() || t.len() > 64 {
                        return Err(ApiError::invalid("event types are 1 to 64 characters").param("event_types"));
                    }
                    event_types.push(t);
                }
            }
            let mut secret = [0u8; 32];
            rand::Rng::fill(&mut rand::rngs::OsRng, &mut secret);
            let endpoint = WebhookEndpoint {
                id: ids::new_id::<ids::WebhookEndpointId>(),
                url,
                secret: format!("whsec_{}", hex::encode(secret)),
                event_types,
                status: "active".into(),
                created_at_us: rialto_store::now_us(),
            };
            // Through the writer, so that its audit record commits with it.
            let command = Command::CreateWebhookEndpoint(Box::new(endpoint));
            match s.writer.submit(command, None, Some(ctx.audit())).await {
                Reply::Done { outcome: Ok(Output::WebhookEndpoint(e)), .. } => Ok(endpoint_json(&e, true)),
                Reply::Done { outcome: Err(e), .. } => Err(ApiError::from(&e)),
                _ => Err(ApiError::unavailable("unexpected answer from the ledger writer")),
            }
        }
        .await,
    )
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
            let page = s.db.deliveries(&id, &cursor, limit).await?;
            Ok(present::page(&page, |d| {
                json!({
                    "id": d.id, "object": "webhook_delivery", "endpoint_id": d.endpoint_id, "event_sequence": d.event_seq,
                    "status": d.status, "attempts": d.attempts, "next_attempt_at": present::time_text(d.next_attempt_at_us),
                    "last_status_code": d.last_status_code, "last_error": d.last_error,
                    "created_at": present::time_text(d.created_at_us), "updated_at": present::time_text(d.updated_at_us),
                })
            }))
        }
        .await,
    )
}
