//! Webhooks: endpoints, signed deliveries with retries, and the delivery task.
//!
//! Each delivery is a POST of the event JSON with
//! `Rialto-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (Stripe's
//! scheme: a receiver recomputes the HMAC and rejects old timestamps), `Rialto-Delivery-Id`
//! (the receiver's deduplication key) and `Rialto-Event-Id`. A failed attempt is retried
//! after `base x 2^attempts` (capped at one hour) times a random factor in [0.5, 1.5); after
//! [`WEBHOOK_ATTEMPTS_MAX`] attempts the delivery is `failed`. A receiver that is down loses
//! nothing: deliveries wait in the database.

use rialto_core::ids::{self, Id};
use std::time::Duration;

use axum::extract::State;
use axum::response::Response;
use hmac::{Hmac, Mac};
use rand::Rng;
use rialto_store::{Command, Output, Reply, WebhookEndpoint};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::auth::Ctx;
use crate::error::ApiError;
use crate::input::{id_of, Fields, PathId};
use crate::routes::{body_bytes, paging, params, respond, Body, Params};
use crate::{present, AppState};

/// Attempts before a delivery is given up as `failed`.
pub const WEBHOOK_ATTEMPTS_MAX: i64 = 8;
/// Deliveries attempted per task run at most.
const DELIVERIES_PER_RUN_MAX: usize = 200;
/// Timeout of one attempt.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait between attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(3600);

/// The signature header value for `body` at unix time `t`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

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
            rand::rngs::OsRng.fill(&mut secret);
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

fn backoff(base: Duration, attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    let wait = base.saturating_mul(2u32.saturating_pow(exp)).min(BACKOFF_MAX);
    wait.mul_f64(rand::thread_rng().gen_range(0.5..1.5))
}

/// The delivery task: fan new events out, then attempt what is due.
pub async fn deliver_due(state: AppState) -> Result<i64, String> {
    let now = rialto_store::now_us();
    state.db.fan_out(now).await.map_err(|e| e.to_string())?;
    let due = state.db.due_deliveries(now, DELIVERIES_PER_RUN_MAX).await.map_err(|e| e.to_string())?;
    let client = reqwest::Client::builder().timeout(ATTEMPT_TIMEOUT).build().map_err(|e| e.to_string())?;
    let mut tasks = tokio::task::JoinSet::new();
    for (delivery, endpoint, event) in due {
        let (client, state) = (client.clone(), state.clone());
        tasks.spawn(async move {
            let body = present::event(&event).to_string();
            let t = rialto_store::now_us() / 1_000_000;
            let sent = client
                .post(&endpoint.url)
                .header("content-type", "application/json")
                .header("rialto-signature", signature(&endpoint.secret, t, &body))
                .header("rialto-delivery-id", &delivery.id)
                .header("rialto-event-id", &event.id)
                .body(body)
                .send()
                .await;
            let (code, error) = match sent {
                Ok(r) if r.status().is_success() => (Some(i64::from(r.status().as_u16())), None),
                Ok(r) => (Some(i64::from(r.status().as_u16())), Some(format!("receiver answered {}", r.status()))),
                Err(e) => (None, Some(e.to_string())),
            };
            let now = rialto_store::now_us();
            let attempts = delivery.attempts + 1;
            let (status, next) = match &error {
                None => ("succeeded", now),
                Some(_) if attempts >= WEBHOOK_ATTEMPTS_MAX => ("failed", now),
                Some(_) => {
                    let wait = backoff(state.config.webhook_backoff_base, delivery.attempts);
                    ("pending", now.saturating_add(i64::try_from(wait.as_micros()).unwrap_or(i64::MAX)))
                }
            };
            let ok = error.is_none();
            state.db.record_attempt(&delivery.id, status, next, code, error, now).await.map(|()| ok)
        });
    }
    let mut delivered = 0;
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Ok(true)) => delivered += 1,
            Ok(Ok(false)) => {}
            Ok(Err(e)) => return Err(e.to_string()),
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(delivered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_stripe_style_hmac() {
        // Independently computed: HMAC-SHA256(key="whsec_test", msg="1700000000.{}").
        let sig = signature("whsec_test", 1_700_000_000, "{}");
        assert!(sig.starts_with("t=1700000000,v1="));
        assert_eq!(sig.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(sig, signature("whsec_other", 1_700_000_000, "{}"));
        assert_ne!(sig, signature("whsec_test", 1_700_000_001, "{}"));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_secs(2);
        for attempts in 0..30 {
            let w = backoff(base, attempts);
            let nominal = base
                .saturating_mul(2u32.saturating_pow(u32::try_from(attempts.min(20)).unwrap_or(20)))
                .min(BACKOFF_MAX);
            assert!(w >= nominal.mul_f64(0.5) && w <= nominal.mul_f64(1.5), "{attempts}: {w:?}");
        }
    }
}
