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
    let mut v1 = None;
    for part in sig.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = x.parse::<i64>().ok(),
            Some(("v1", x)) => v1 = hex::decode(x).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    if (now - t).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    mac.verify_slice(&v1).is_ok()
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
