//! Webhook delivery: new events fanned out to the endpoints that want them, then each due
//! delivery attempted, signed, with retries.
//!
//! Each delivery is a POST of the event JSON with
//! `Rialto-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (Stripe's
//! scheme: a receiver recomputes the HMAC and rejects old timestamps), `Rialto-Delivery-Id`
//! (the receiver's deduplication key) and `Rialto-Event-Id`. A failed attempt is retried
//! after `base x 2^attempts` (capped at one hour) times a random factor in [0.5, 1.5); after
//! [`WEBHOOK_ATTEMPTS_MAX`] attempts the delivery is `failed`. A receiver that is down loses
//! nothing: deliveries wait in the database.

use std::time::Duration;

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

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
    signatures(&[secret], t, body)
}

/// The signature header with one `v1=` per secret: during a secret rotation's overlap the
/// new secret's and the old one's, so receivers holding either accept the delivery.
pub fn signatures(secrets: &[&str], t: i64, body: &str) -> String {
    let mut out = format!("t={t}");
    for secret in secrets {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        out.push_str(",v1=");
        out.push_str(&hex::encode(mac.finalize().into_bytes()));
    }
    out
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
    let policy = &state.config.webhook_targets;
    let client = policy.client(ATTEMPT_TIMEOUT).map_err(|e| e.to_string())?;
    let mut tasks = tokio::task::JoinSet::new();
    for (delivery, endpoint, event) in due {
        let (client, state) = (client.clone(), state.clone());
        tasks.spawn(async move {
            let body = serde_json::to_string(&present::event(&event)).unwrap_or_default();
            let now = rialto_store::now_us();
            let (code, error) = match reqwest::Url::parse(&endpoint.url) {
                Err(_) => (None, Some("the endpoint's URL does not parse".to_string())),
                Ok(url) => match state.config.webhook_targets.check_literal(&url) {
                    Err(refused) => (None, Some(refused.to_string())),
                    Ok(()) => {
                        let sent = client
                            .post(url)
                            .header("content-type", "application/json")
                            .header(
                                "rialto-signature",
                                signatures(&endpoint.signing_secrets(now), now / 1_000_000, &body),
                            )
                            .header("rialto-delivery-id", &delivery.id)
                            .header("rialto-event-id", &event.id)
                            .body(body)
                            .send()
                            .await;
                        outcome(sent)
                    }
                },
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
            if let Some(e) = &error {
                let (endpoint, delivery) = (endpoint.id.as_str(), delivery.id.as_str());
                if status == "failed" {
                    tracing::error!(endpoint, delivery, attempts, error = %e, "webhook delivery failed for good");
                } else {
                    tracing::warn!(endpoint, delivery, attempts, error = %e, "webhook delivery failed; will retry");
                }
            }
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

/// (HTTP status, error) of an attempt. A refused target says only that: no port, no reply.
fn outcome(sent: reqwest::Result<reqwest::Response>) -> (Option<i64>, Option<String>) {
    match sent {
        Ok(r) if r.status().is_success() => (Some(i64::from(r.status().as_u16())), None),
        Ok(r) => (Some(i64::from(r.status().as_u16())), Some(format!("receiver answered {}", r.status()))),
        Err(e) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(s) = source {
                if s.to_string() == super::targets::REFUSED {
                    return (None, Some(super::targets::REFUSED.to_string()));
                }
                source = s.source();
            }
            (None, Some(e.to_string()))
        }
    }
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
        let both = signatures(&["whsec_test", "whsec_old"], 1_700_000_000, "{}");
        assert!(both.starts_with(&sig) && both.len() == sig.len() + ",v1=".len() + 64, "{both}");
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
