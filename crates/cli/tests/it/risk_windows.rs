//! Risk windows over HTTP: history conditions (new device, impossible travel), rule actions
//! (notify, rate_limit, require_2fa), payments of one batch counting each other, windows
//! rebuilt after a restart, and two processes sharing windows through Redis.
#![allow(clippy::unwrap_used)]

use crate::common::{App, Backend};
use serde_json::{json, Value};

const BERLIN: (f64, f64) = (52.52, 13.405);
const NEW_YORK: (f64, f64) = (40.7128, -74.006);

struct Payer {
    user: String,
    wallet: String,
    merchant: String,
}

async fn payer(app: &App) -> Payer {
    let (_, u) = app.post("/v1/users", json!({"name": "Payer"})).await;
    let (_, wallet) = app.funded("USD", 10_000_000).await;
    let merchant = app.account("USD", false).await;
    Payer { user: u["id"].as_str().unwrap().to_string(), wallet, merchant }
}

impl Payer {
    fn pay(&self, amount: i64, device: &str, country: &str, at: (f64, f64)) -> Value {
        json!({"user_id": self.user, "source_account_id": self.wallet, "destination_account_id": self.merchant,
               "amount": amount, "currency": "USD", "device_id": device,
               "location": {"country": country, "lat": at.0, "lon": at.1}})
    }
    fn plain(&self, amount: i64) -> Value {
        json!({"user_id": self.user, "source_account_id": self.wallet, "destination_account_id": self.merchant,
               "amount": amount, "currency": "USD"})
    }
}

async fn rule(app: &App, doc: Value) {
    let (s, r) = app.post("/v1/risk/rules", doc).await;
    assert_eq!(s, 201, "{r}");
}

async fn assessment(app: &App, p: &Value) -> Value {
    app.get(&format!("/v1/risk/assessments/{}", p["risk_assessment_id"].as_str().unwrap())).await.1
}

both!(history_conditions_catch_new_devices_and_impossible_travel, |app: App| async move {
    rule(
        &app,
        json!({"id": "impossible_travel", "name": "impossible travel", "priority": 1,
        "condition": {"field": "travel_kmh", "op": "gt", "value": 900}, "actions": [{"type": "reject"}]}),
    )
    .await;
    rule(
        &app,
        json!({"id": "big_new_device", "name": "big payment, new device", "priority": 2,
        "condition": {"all": [{"field": "new_device", "op": "eq", "value": true},
                              {"field": "amount", "op": "gte", "value": 5000}]},
        "actions": [{"type": "review"}]}),
    )
    .await;
    let (s, e) = app
        .post(
            "/v1/risk/rules",
            json!({"id": "bad", "name": "bad", "condition": {"field": "new_device", "op": "gt", "value": 1}}),
        )
        .await;
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("$.condition.op")), "{e}");

    let p = payer(&app).await;
    let (_, p1) = app.post("/v1/payments", p.pay(100, "d1", "DE", BERLIN)).await;
    assert_eq!(p1["status"], "completed", "{p1}");
    let a1 = assessment(&app, &p1).await;
    assert_eq!(a1["details"]["history"]["new_device"], true, "{a1}");
    // Berlin to New York moments later: over 6,000 km in about no time.
    let (_, p2) = app.post("/v1/payments", p.pay(100, "d1", "US", NEW_YORK)).await;
    assert_eq!((p2["status"].as_str(), p2["failure_code"].as_str()), (Some("failed"), Some("risk_rejected")), "{p2}");
    let a2 = assessment(&app, &p2).await;
    let h = &a2["details"]["history"];
    assert!((h["distance_km"].as_f64().unwrap() - 6385.0).abs() < 15.0, "{a2}");
    assert!(h["travel_kmh"].as_f64().unwrap() > 900.0);
    assert_eq!((h["new_device"].as_bool(), h["new_country"].as_bool()), (Some(false), Some(true)));
    assert_eq!(a2["rules"][0]["rule_id"], "impossible_travel");
    // A new device with a big amount is held; the refused New York payment is not history.
    let (_, p3) = app.post("/v1/payments", p.pay(6000, "d2", "DE", BERLIN)).await;
    assert_eq!(p3["status"], "requires_review", "{p3}");
    let a3 = assessment(&app, &p3).await;
    assert_eq!(a3["details"]["history"]["distance_km"].as_f64(), Some(0.0), "{a3}");
    // The known device with the same amount passes.
    let (_, p4) = app.post("/v1/payments", p.pay(6000, "d1", "DE", BERLIN)).await;
    assert_eq!(p4["status"], "completed", "{p4}");
    assert!(assessment(&app, &p4).await["details"]["history"]["device_age_seconds"].as_i64().is_some());
    app.verify_ok().await;
    app.stop().await;
});

both!(actions_notify_rate_limit_and_require_2fa, |app: App| async move {
    rule(&app, json!({"id": "alert_big", "name": "alert on big", "priority": 1, "weight": 5,
        "condition": {"field": "amount", "op": "gte", "value": 5000}, "actions": [{"type": "notify"}, {"type": "flag"}]}))
    .await;
    rule(
        &app,
        json!({"id": "burst", "name": "burst", "priority": 2,
        "condition": {"aggregate": {"fn": "count", "key": "user", "window_seconds": 60}, "op": "gte", "value": 2},
        "actions": [{"type": "reject"}, {"type": "rate_limit", "key": "user", "seconds": 3600}]}),
    )
    .await;
    rule(
        &app,
        json!({"id": "second_factor", "name": "2fa from BR", "priority": 3, "weight": 0,
        "condition": {"field": "country", "op": "eq", "value": "BR"}, "actions": [{"type": "require_2fa"}]}),
    )
    .await;
    let p = payer(&app).await;
    let (_, p1) = app.post("/v1/payments", p.plain(5000)).await;
    assert_eq!(p1["status"], "completed", "{p1}");
    let a1 = assessment(&app, &p1).await;
    assert_eq!(
        (a1["details"]["flags"].clone(), a1["details"]["notified"].clone()),
        (json!(["alert_big"]), json!(["alert_big"]))
    );
    let (_, events) = app.get("/v1/events?type=risk.alert").await;
    let alerts = events["data"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{events}");
    assert_eq!(alerts[0]["data"]["payment_id"], p1["id"]);
    assert_eq!(alerts[0]["data"]["rules"], json!(["alert_big"]));
    // The alert names the request that raised it, as the payment's own event does.
    let (_, done) = app.get("/v1/events?type=payment.completed").await;
    let paid = done["data"].as_array().unwrap().iter().find(|e| e["data"]["id"] == p1["id"]).unwrap();
    assert!(alerts[0]["request_id"].is_string(), "{events}");
    assert_eq!(alerts[0]["request_id"], paid["request_id"]);

    assert_eq!(app.post("/v1/payments", p.plain(100)).await.1["status"], "completed");
    // The third in a minute is rejected, and the user is blocked for an hour.
    let (_, p3) = app.post("/v1/payments", p.plain(100)).await;
    assert_eq!(p3["failure_code"], "risk_rejected", "{p3}");
    assert_eq!(assessment(&app, &p3).await["details"]["rate_limits"][0]["key"], "user");
    let (_, p4) = app.post("/v1/payments", p.plain(1)).await;
    assert_eq!((p4["status"].as_str(), p4["failure_code"].as_str()), (Some("failed"), Some("rate_limited")), "{p4}");
    assert!(p4["failure_reason"].as_str().unwrap().contains("burst"), "{p4}");
    // Another user is not blocked; from BR a second factor is asked for (the payment is held).
    let q = payer(&app).await;
    let (_, r1) = app.post("/v1/payments", q.pay(100, "x1", "BR", (-23.55, -46.63))).await;
    assert_eq!(
        (r1["status"].as_str(), r1["history"].as_array().map(Vec::len)),
        (Some("requires_review"), Some(3)),
        "{r1}"
    );
    let a = assessment(&app, &r1).await;
    assert_eq!(
        (a["details"]["require_2fa"].as_bool(), a["reason"].as_str()),
        (Some(true), Some("a second factor is required"))
    );
    app.verify_ok().await;
    app.stop().await;
});

both!(payments_of_one_batch_count_each_other, |app: App| async move {
    rule(
        &app,
        json!({"id": "five_an_hour", "name": "five an hour", "priority": 1,
        "condition": {"aggregate": {"fn": "count", "key": "user", "window_seconds": 3600}, "op": "gte", "value": 5},
        "actions": [{"type": "reject"}]}),
    )
    .await;
    let p = std::sync::Arc::new(payer(&app).await);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let (client, p) = (app.with_key(crate::common::ADMIN_KEY), p.clone());
        tasks.spawn(async move {
            client.post("/v1/payments", p.plain(100)).await.1["status"].as_str().unwrap().to_string()
        });
    }
    let mut completed = 0;
    while let Some(r) = tasks.join_next().await {
        completed += usize::from(r.unwrap() == "completed");
    }
    assert_eq!(completed, 5, "exactly five pass, however the writer batched them");
    assert_eq!(app.balance(&p.merchant).await["posted"], 500);
    app.verify_ok().await;
    app.stop().await;
});

both!(windows_are_rebuilt_after_a_restart, |app: App| async move {
    rule(
        &app,
        json!({"id": "two_a_day", "name": "two a day", "priority": 1,
        "condition": {"aggregate": {"fn": "sum", "key": "user", "window_seconds": 86400}, "op": "gte", "value": 200},
        "actions": [{"type": "reject"}]}),
    )
    .await;
    let p = payer(&app).await;
    for _ in 0..2 {
        assert_eq!(app.post("/v1/payments", p.plain(100)).await.1["status"], "completed");
    }
    let url = app.database_url.clone();
    app.stop().await;
    let app = App::start_on(url, |_| {}).await;
    let (_, p3) = app.post("/v1/payments", p.plain(100)).await;
    assert_eq!(p3["failure_code"], "risk_rejected", "the restarted process remembers the window: {p3}");
    app.stop().await;
});

/// Two processes on one fresh PostgreSQL database, sharing windows through Redis if given,
/// with the rule "three an hour" over `key` (rejects a payment after three).
struct TwoProcesses {
    a: App,
    b: App,
    redis: Option<String>,
    prefix: String,
}

impl TwoProcesses {
    async fn start(redis: Option<String>, key: &str) -> Option<TwoProcesses> {
        let url = crate::common::fresh_database(Backend::Postgres).await?;
        let prefix = format!("rialto-test-{}", uuid::Uuid::new_v4().simple());
        let config = |c: &mut rialto_api::Config| {
            c.redis_url = redis.clone();
            c.redis_prefix = prefix.clone();
        };
        let a = App::start_on(url.clone(), config).await;
        let b = App::start_on(url, config).await;
        rule(
            &a,
            json!({"id": "three_an_hour", "name": "three an hour", "priority": 1,
            "condition": {"aggregate": {"fn": "count", "key": key, "window_seconds": 3600}, "op": "gte", "value": 3},
            "actions": [{"type": "reject"}]}),
        )
        .await;
        Some(TwoProcesses { a, b, redis, prefix })
    }

    /// The process for the `i`th request: they alternate.
    fn app(&self, i: usize) -> &App {
        if i.is_multiple_of(2) {
            &self.a
        } else {
            &self.b
        }
    }

    async fn stop(self) {
        if let Some(r) = &self.redis {
            rialto_store::Windows::redis(r, &self.prefix).await.unwrap().clear().await.unwrap();
        }
        self.a.stop().await;
        self.b.stop().await;
    }
}

/// Two processes on one PostgreSQL alternate a user's payments. With Redis they see one
/// window; each with its own memory sees only half (the reason Redis exists).
async fn two_processes(redis: Option<String>) -> Option<Vec<String>> {
    let two = TwoProcesses::start(redis, "user").await?;
    let p = payer(&two.a).await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        statuses.push(two.app(i).post("/v1/payments", p.plain(100)).await.1["status"].as_str().unwrap().to_string());
    }
    two.stop().await;
    Some(statuses)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(rialto_postgres, rialto_redis)),
    ignore = "needs RIALTO_TEST_POSTGRES_URL and RIALTO_TEST_REDIS_URL at build time"
)]
async fn two_processes_share_windows_through_redis() {
    let Some(redis) = crate::common::redis_url() else { return };
    let Some(shared) = two_processes(Some(redis)).await else { return };
    assert_eq!(shared, ["completed", "completed", "completed", "failed"], "one window across processes");
    let Some(apart) = two_processes(None).await else { return };
    assert_eq!(apart, ["completed", "completed", "completed", "completed"], "separate memories each see half");
}

/// Two processes on one PostgreSQL with Redis, payments from one device sent to both at once
/// (by different payers, so no account lock orders them): the windows are exact across
/// processes, so "three an hour per device" lets exactly three through. Each process reads a
/// key's window only after the other has recorded what it committed under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(rialto_postgres, rialto_redis)),
    ignore = "needs RIALTO_TEST_POSTGRES_URL and RIALTO_TEST_REDIS_URL at build time"
)]
async fn two_processes_count_concurrent_payments_once_through_redis() {
    let Some(redis) = crate::common::redis_url() else { return };
    let Some(two) = TwoProcesses::start(Some(redis), "device").await else { return };
    let mut payers = Vec::new();
    for _ in 0..12 {
        payers.push(payer(&two.a).await);
    }
    for round in 0..3 {
        let device = format!("shared-{round}");
        let sends = payers.iter().enumerate().map(|(i, p)| (two.app(i), p.pay(100, &device, "DE", BERLIN))).collect();
        let answers = crate::common::post_all("/v1/payments", sends).await;
        assert!(answers.iter().all(|(s, _)| *s == 201), "round {round}: {answers:?}");
        let completed = answers.iter().filter(|(_, v)| v["status"] == "completed").count();
        assert_eq!(completed, 3, "round {round}: three an hour across both processes: {answers:?}");
    }
    two.stop().await;
}
