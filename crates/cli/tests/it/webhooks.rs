//! Webhooks against a real receiver on an ephemeral port that fails its first attempts.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{App, Backend};
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

#[derive(Default)]
struct Received {
    /// delivery id -> attempts seen
    attempts: HashMap<String, u32>,
    /// event ids accepted (2xx), in arrival order
    accepted: Vec<String>,
    /// delivery ids accepted
    accepted_deliveries: Vec<String>,
    bad_signatures: u32,
    /// the endpoint secret, set once known
    secret: String,
}

/// Verifies `Rialto-Signature` the way a receiver would.
fn valid(secret: &str, headers: &HeaderMap, body: &str) -> bool {
    let Some(sig) = headers.get("rialto-signature").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut t = None;
    let mut v1s = Vec::new();
    for part in sig.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = x.parse::<i64>().ok(),
            Some(("v1", x)) => v1s.extend(hex::decode(x).ok()),
            _ => {}
        }
    }
    let Some(t) = t else {
        return false;
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    if (now - t).abs() > 300 {
        return false;
    }
    // During a secret rotation there is one v1 per secret: any one may match.
    v1s.iter().any(|v1| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{body}").as_bytes());
        mac.verify_slice(v1).is_ok()
    })
}

/// A receiver that answers 500 to the first `fail_first` attempts of every delivery.
async fn receiver(fail_first: u32) -> (String, Arc<Mutex<Received>>) {
    let state = Arc::new(Mutex::new(Received::default()));
    let s = state.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let s = s.clone();
            async move {
                let mut r = s.lock().unwrap();
                let delivery = headers.get("rialto-delivery-id").unwrap().to_str().unwrap().to_string();
                if !valid(&r.secret, &headers, &body) {
                    r.bad_signatures += 1;
                    return StatusCode::BAD_REQUEST;
                }
                let n = r.attempts.entry(delivery.clone()).or_default();
                *n += 1;
                if *n <= fail_first {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let event: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(headers.get("rialto-event-id").unwrap().to_str().unwrap(), event["id"].as_str().unwrap());
                r.accepted.push(event["id"].as_str().unwrap().to_string());
                r.accepted_deliveries.push(delivery);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), state)
}

async fn start(backend: Backend) -> Option<App> {
    App::start_with(backend, |c| {
        c.webhook_interval = Duration::from_millis(50);
        c.webhook_backoff_base = Duration::from_millis(20);
    })
    .await
}

async fn deliveries(app: &App, endpoint: &str) -> Vec<Value> {
    let (s, v) = app.get(&format!("/v1/webhook-endpoints/{endpoint}/deliveries?limit=100")).await;
    assert_eq!(s, 200, "{v}");
    v["data"].as_array().unwrap().clone()
}

async fn failing_receiver_gets_every_event_once(backend: Backend) {
    let Some(app) = start(backend).await else {
        return;
    };
    let (url, received) = receiver(2).await;
    let (s, ep) = app.post("/v1/webhook-endpoints", json!({"url": url})).await;
    assert_eq!(s, 200, "{ep}");
    received.lock().unwrap().secret = ep["secret"].as_str().unwrap().to_string();
    let endpoint = ep["id"].as_str().unwrap().to_string();
    // A second endpoint that only wants transfers.
    let (url2, received2) = receiver(0).await;
    let (_, ep2) = app.post("/v1/webhook-endpoints", json!({"url": url2, "event_types": ["transfer.posted"]})).await;
    received2.lock().unwrap().secret = ep2["secret"].as_str().unwrap().to_string();

    let (funding, a) = app.funded("USD", 1_000).await;
    app.transfer(&a, &funding, 10, "USD").await;
    let (_, events) = app.get("/v1/events?limit=100").await;
    let expected: Vec<String> =
        events["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(expected.len(), 4, "two accounts and two transfers");

    let mut done = false;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let d = deliveries(&app, &endpoint).await;
        if d.len() == 4 && d.iter().all(|d| d["status"] == "succeeded") && received2.lock().unwrap().accepted.len() == 2
        {
            done = true;
            break;
        }
    }
    assert!(done, "deliveries did not all succeed: {:?}", deliveries(&app, &endpoint).await);
    let (bad, accepted, accepted_deliveries, attempts) = {
        let r = received.lock().unwrap();
        (r.bad_signatures, r.accepted.clone(), r.accepted_deliveries.clone(), r.attempts.clone())
    };
    assert_eq!(bad, 0);
    let mut got = accepted;
    got.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(got, want, "every event exactly once");
    let mut ids = accepted_deliveries;
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "one delivery id per event");
    assert!(attempts.values().all(|n| *n == 3), "two failures then a success: {attempts:?}");
    for d in deliveries(&app, &endpoint).await {
        assert_eq!((d["attempts"].as_i64(), d["last_status_code"].as_i64()), (Some(3), Some(200)));
    }
    let accepted2 = received2.lock().unwrap().accepted.len();
    assert_eq!(accepted2, 2, "only transfer.posted events");
    let (_, tasks) = app.get("/v1/tasks?name=webhook_delivery").await;
    assert!(!tasks["data"].as_array().unwrap().is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_receiver_gets_every_event_once_sqlite() {
    failing_receiver_gets_every_event_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn failing_receiver_gets_every_event_once_postgres() {
    failing_receiver_gets_every_event_once(Backend::Postgres).await;
}

async fn unreachable_receiver_ends_failed_after_bounded_attempts(backend: Backend) {
    let Some(app) = start(backend).await else {
        return;
    };
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (_, ep) = app.post("/v1/webhook-endpoints", json!({"url": format!("http://127.0.0.1:{port}/gone")})).await;
    let endpoint = ep["id"].as_str().unwrap().to_string();
    app.account("USD", false).await;
    let mut last = Value::Null;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let d = deliveries(&app, &endpoint).await;
        if let Some(first) = d.first() {
            last = first.clone();
            if first["status"] == "failed" {
                break;
            }
        }
    }
    assert_eq!((last["status"].as_str(), last["attempts"].as_i64()), (Some("failed"), Some(8)), "{last}");
    assert!(last["last_error"].as_str().is_some());
    for bad in [
        json!({"url": "ftp://x"}),
        json!({"url": "not a url"}),
        json!({}),
        json!({"url": "http://h/", "event_types": [1]}),
    ] {
        assert_eq!(app.post("/v1/webhook-endpoints", bad).await.0, 400);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_receiver_ends_failed_after_bounded_attempts_sqlite() {
    unreachable_receiver_ends_failed_after_bounded_attempts(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn unreachable_receiver_ends_failed_after_bounded_attempts_postgres() {
    unreachable_receiver_ends_failed_after_bounded_attempts(Backend::Postgres).await;
}

async fn endpoints_are_checked_and_managed(backend: Backend) {
    let Some(app) = start(backend).await else { return };
    let (_, types) = app.get("/v1/event-types").await;
    let types: Vec<&str> = types["data"].as_array().unwrap().iter().map(|t| t["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"payment.completed") && types.contains(&"transfer.posted"), "{types:?}");
    let url = "http://127.0.0.1:9/hook";
    for bad in [
        json!("payment.completed"),
        json!({}),
        json!(42),
        json!([]),
        json!(["payment.complete"]),
        json!(["payment.**"]),
        json!(["nope.*"]),
        json!([7]),
    ] {
        let (s, e) = app.post("/v1/webhook-endpoints", json!({"url": url, "event_types": bad})).await;
        assert_eq!((s, e["error"]["code"].as_str()), (400, Some("invalid_event_type")), "{bad}: {e}");
        assert_eq!(e["error"]["param"], "event_types");
    }
    let (s, e) = app.post("/v1/webhook-endpoints", json!({"url": "http://u:p@127.0.0.1:9/"})).await;
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("url")), "credentials in a URL: {e}");
    let (s, a) =
        app.post("/v1/webhook-endpoints", json!({"url": url, "event_types": ["payment.*"], "description": "a"})).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["event_types"], json!(["payment.*"]));
    let (_, b) = app.post("/v1/webhook-endpoints", json!({"url": url})).await;
    assert_eq!(b["event_types"], json!(["*"]), "no event_types means every event, said explicitly");
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());

    let (s, list) = app.get("/v1/webhook-endpoints").await;
    assert_eq!((s, list["data"].as_array().unwrap().len()), (200, 2), "{list}");
    assert!(!list.to_string().contains("whsec_"), "secrets are never listed");
    let (s, got) = app.get(&format!("/v1/webhook-endpoints/{a_id}")).await;
    assert_eq!((s, got["description"].as_str(), got.get("secret")), (200, Some("a"), None), "{got}");

    let path = format!("/v1/webhook-endpoints/{a_id}");
    let (s, changed) = app.post(&path, json!({"status": "disabled", "event_types": ["refund.created"]})).await;
    assert_eq!((s, changed["status"].as_str()), (200, Some("disabled")), "{changed}");
    assert_eq!(changed["event_types"], json!(["refund.created"]));
    assert_eq!(app.post(&path, json!({"status": "deleted"})).await.0, 400, "delete with DELETE");
    assert_eq!(app.post(&path, json!({})).await.0, 400, "an update changes something");
    assert_eq!(app.post(&path, json!({"event_types": "refund.created"})).await.0, 400);

    let r = app.http.delete(format!("{}{path}", app.base)).bearer_auth(&app.key).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(app.get(&path).await.0, 404, "a deleted endpoint is gone");
    assert_eq!(app.post(&path, json!({"description": "b"})).await.0, 404);
    let r = app.http.delete(format!("{}{path}", app.base)).bearer_auth(&app.key).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404, "deleting twice");
    let (_, list) = app.get("/v1/webhook-endpoints").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], b_id);
    let (_, audit) = app.get(&format!("/v1/audit-events?resource_id={a_id}")).await;
    let actions: Vec<(&str, &str)> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("webhook_endpoint.delete", "failure"),
            ("webhook_endpoint.update", "failure"),
            ("webhook_endpoint.delete", "success"),
            ("webhook_endpoint.update", "success"),
            ("webhook_endpoint.create", "success"),
        ],
        "changes and refused changes are audited"
    );
    assert!(!audit.to_string().contains("whsec_"), "no secret in the audit log");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_are_checked_and_managed_sqlite() {
    endpoints_are_checked_and_managed(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn endpoints_are_checked_and_managed_postgres() {
    endpoints_are_checked_and_managed(Backend::Postgres).await;
}

/// Posts a transfer (a `transfer.posted` event) and waits for the receiver to accept `n` events.
async fn deliver_one(app: &App, received: &Arc<Mutex<Received>>, n: usize) {
    let (funding, a) = app.funded("USD", 100).await;
    let _ = (funding, a);
    for _ in 0..200 {
        if received.lock().unwrap().accepted.len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the receiver did not get {n} events");
}

async fn secrets_rotate_with_an_overlap(backend: Backend) {
    let Some(app) = start(backend).await else { return };
    let (url, received) = receiver(0).await;
    let (_, ep) = app.post("/v1/webhook-endpoints", json!({"url": url, "event_types": ["account.created"]})).await;
    let id = ep["id"].as_str().unwrap().to_string();
    let old = ep["secret"].as_str().unwrap().to_string();
    received.lock().unwrap().secret = old.clone();
    // Two accounts: two account.created events.
    deliver_one(&app, &received, 2).await;
    let (s, rotated) =
        app.post(&format!("/v1/webhook-endpoints/{id}/rotate-secret"), json!({"overlap_seconds": 3600})).await;
    assert_eq!(s, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert!(new != old && new.starts_with("whsec_"));
    assert!(rotated["previous_secret_expires_at"].is_string(), "{rotated}");
    // During the overlap, a receiver still holding the old secret accepts...
    deliver_one(&app, &received, 4).await;
    // ...and so does one that moved to the new secret.
    received.lock().unwrap().secret = new.clone();
    deliver_one(&app, &received, 6).await;
    // With no overlap, only the newest secret signs.
    let (_, last) = app.post(&format!("/v1/webhook-endpoints/{id}/rotate-secret"), json!({"overlap_seconds": 0})).await;
    assert!(last["previous_secret_expires_at"].is_null(), "{last}");
    received.lock().unwrap().secret = new;
    let bad_before = received.lock().unwrap().bad_signatures;
    app.funded("USD", 100).await;
    for _ in 0..200 {
        if received.lock().unwrap().bad_signatures > bad_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(received.lock().unwrap().bad_signatures > bad_before, "the replaced secret no longer signs");
    let (s, e) =
        app.post(&format!("/v1/webhook-endpoints/{id}/rotate-secret"), json!({"overlap_seconds": 8 * 86400})).await;
    assert_eq!(s, 400, "{e}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_rotate_with_an_overlap_sqlite() {
    secrets_rotate_with_an_overlap(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn secrets_rotate_with_an_overlap_postgres() {
    secrets_rotate_with_an_overlap(Backend::Postgres).await;
}

async fn deliveries_reach_only_public_addresses(backend: Backend) {
    // A server with the default policy refuses loopback, private and link-local targets.
    let strict = |c: &mut rialto_api::Config| {
        c.webhook_targets.allowed.clear();
        c.webhook_interval = Duration::from_millis(50);
        c.webhook_backoff_base = Duration::from_millis(20);
    };
    let Some(app) = App::start_with(backend, strict).await else { return };
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.7:6379/",
        "http://[::1]:9/",
        "http://[::ffff:127.0.0.1]:9/",
        "http://localhost:9/",
        "http://0.0.0.0:22/",
    ] {
        let (s, e) = app.post("/v1/webhook-endpoints", json!({"url": url})).await;
        assert_eq!((s, e["error"]["code"].as_str()), (400, Some("webhook_target_not_allowed")), "{url}: {e}");
    }
    let url = app.database_url.clone();
    app.stop().await;
    // An endpoint registered while loopback was allowed, then the policy tightened: every
    // delivery checks again, and the stored error names no port and no reply.
    let (hook, received) = receiver(0).await;
    let lax = App::start_on(url.clone(), |c| c.webhook_interval = Duration::from_millis(50)).await;
    let (_, ep) = lax.post("/v1/webhook-endpoints", json!({"url": hook})).await;
    let id = ep["id"].as_str().unwrap().to_string();
    received.lock().unwrap().secret = ep["secret"].as_str().unwrap().to_string();
    lax.stop().await;
    let app = App::start_on(url, strict).await;
    app.account("USD", false).await;
    let mut last = Vec::new();
    for _ in 0..200 {
        last = deliveries(&app, &id).await;
        if last.iter().any(|d| d["attempts"].as_i64() >= Some(2)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(received.lock().unwrap().accepted.is_empty(), "a delivery reached loopback");
    let error = last.iter().find_map(|d| d["last_error"].as_str()).unwrap_or_default().to_string();
    assert!(error.contains("not a public address"), "{last:?}");
    assert!(!error.contains("127.0.0.1") && !error.contains("refused"), "the error probes the target: {error}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_reach_only_public_addresses_sqlite() {
    deliveries_reach_only_public_addresses(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn deliveries_reach_only_public_addresses_postgres() {
    deliveries_reach_only_public_addresses(Backend::Postgres).await;
}

async fn disabled_endpoints_wait_and_deleted_ones_cancel(backend: Backend) {
    let Some(app) = start(backend).await else { return };
    let (url, received) = receiver(0).await;
    let (_, ep) = app.post("/v1/webhook-endpoints", json!({"url": url, "event_types": ["account.created"]})).await;
    let id = ep["id"].as_str().unwrap().to_string();
    received.lock().unwrap().secret = ep["secret"].as_str().unwrap().to_string();
    let path = format!("/v1/webhook-endpoints/{id}");
    assert_eq!(app.post(&path, json!({"status": "disabled"})).await.0, 200);
    app.account("USD", false).await;
    // The delivery is created but waits while the endpoint is disabled.
    let mut waiting = Vec::new();
    for _ in 0..100 {
        waiting = deliveries(&app, &id).await;
        if !waiting.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert!(received.lock().unwrap().accepted.is_empty(), "a disabled endpoint received a delivery");
    assert_eq!(deliveries(&app, &id).await[0]["attempts"], 0, "no attempt while disabled");
    // Enabled again: it arrives.
    assert_eq!(app.post(&path, json!({"status": "active"})).await.0, 200);
    for _ in 0..200 {
        if !received.lock().unwrap().accepted.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(received.lock().unwrap().accepted.len(), 1);
    // Disabled with a delivery pending, then deleted: the delivery is cancelled, never sent.
    assert_eq!(app.post(&path, json!({"status": "disabled"})).await.0, 200);
    app.account("USD", false).await;
    for _ in 0..100 {
        if deliveries(&app, &id).await.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let r = app.http.delete(format!("{}{path}", app.base)).bearer_auth(&app.key).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let statuses: Vec<String> =
        deliveries(&app, &id).await.iter().map(|d| d["status"].as_str().unwrap().to_string()).collect();
    assert_eq!(statuses, ["cancelled", "succeeded"], "newest first");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(received.lock().unwrap().accepted.len(), 1, "a deleted endpoint's delivery was sent");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_endpoints_wait_and_deleted_ones_cancel_sqlite() {
    disabled_endpoints_wait_and_deleted_ones_cancel(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn disabled_endpoints_wait_and_deleted_ones_cancel_postgres() {
    disabled_endpoints_wait_and_deleted_ones_cancel(Backend::Postgres).await;
}
