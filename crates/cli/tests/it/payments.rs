//! Payments end to end over HTTP, on SQLite and PostgreSQL: the gates, review, refunds,
//! cancellation, and concurrency. After each scenario the ledger verifies and balances are
//! what a hand calculation says.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use crate::common::{App, Backend};
use rialto_payments::{KycComplianceGate, LimitsRiskGate};
use serde_json::{json, Value};

/// Gates with small thresholds so each path is easy to reach: review above 10.00, reject
/// above 1,000.00, KYC needed above 500.00, velocity generous unless a test tightens it.
fn policies(velocity_max_count: i64) -> Arc<rialto_store::Policies> {
    Arc::new(rialto_store::Policies {
        risk: Arc::new(LimitsRiskGate {
            reject_above_minor: 100_000,
            review_above_minor: 1_000,
            velocity_window_secs: 3600,
            velocity_max_count,
            velocity_max_sum_minor: 1_000_000_000,
        }),
        compliance: Arc::new(KycComplianceGate { kyc_required_above_minor: 50_000 }),
        velocity_window_us: 3_600_000_000,
        fees: rialto_store::FeeSchedule { fixed_minor: 30, bps: 290 },
        ..Default::default()
    })
}

macro_rules! both_with {
    ($name:ident, $velocity:expr, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let Some(app) = App::start_with(Backend::Sqlite, |c| c.policies = policies($velocity)).await else {
                    return;
                };
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
            async fn postgres() {
                let Some(app) = App::start_with(Backend::Postgres, |c| c.policies = policies($velocity)).await else {
                    return;
                };
                ($body)(app).await;
            }
        }
    };
}

struct World {
    user: String,
    wallet: String,
    merchant: String,
}

async fn world(app: &App, funds: i64) -> World {
    let (_, u) = app.post("/v1/users", json!({"name": "Payer"})).await;
    let (_, wallet) = app.funded("USD", funds).await;
    let merchant = app.account("USD", false).await;
    World { user: u["id"].as_str().unwrap().to_string(), wallet, merchant }
}

fn pay(w: &World, amount: i64) -> Value {
    json!({"user_id": w.user, "source_account_id": w.wallet, "destination_account_id": w.merchant,
           "amount": amount, "currency": "USD", "type": "transfer", "method": "card",
           "device_id": "dev-1", "ip_address": "203.0.113.7", "location": {"country": "DE", "lat": 52.5, "lon": 13.4}})
}

fn history(p: &Value) -> Vec<String> {
    p["history"].as_array().unwrap().iter().map(|t| t["to"].as_str().unwrap().to_string()).collect()
}

async fn reviewer(app: &App) -> App {
    let (_, k) = app.post("/v1/api-keys", json!({"name": "reviewer", "role": "reviewer"})).await;
    app.with_key(k["secret"].as_str().unwrap())
}

both_with!(approve_review_decline_reject_cancel, 1000, |app: App| async move {
    let w = world(&app, 10_000).await;

    // Approved: every gate passes, money moves.
    let (s, p) = app.post("/v1/payments", pay(&w, 500)).await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["status"], "completed");
    assert_eq!(history(&p), ["pending", "processing", "completed"]);
    assert_eq!(p["context"]["location"]["country"], "DE");
    assert_eq!(app.balance(&w.wallet).await["posted"], 9_500);
    assert_eq!(app.balance(&w.merchant).await["posted"], 500);
    let (_, t) = app.get(&format!("/v1/transfers/{}", p["transfer_id"].as_str().unwrap())).await;
    assert_eq!((t["status"].as_str(), t["amount"].as_i64()), (Some("posted"), Some(500)));

    // Held for review, then approved by a reviewer: the hold becomes the movement.
    let (_, held) = app.post("/v1/payments", pay(&w, 2_000)).await;
    assert_eq!(held["status"], "requires_review", "{held}");
    assert!(held["history"][2]["reason"].as_str().unwrap().contains("review threshold"));
    assert_eq!(
        app.balance(&w.wallet).await,
        json!({"posted": 9_500, "available": 7_500, "pending_debits": 2_000, "pending_credits": 0})
    );
    let id = held["id"].as_str().unwrap();
    let (s, e) = app.with_key(&app.key).post(&format!("/v1/payments/{id}/approve"), json!({})).await;
    assert_eq!(s, 200, "an admin may approve: {e}");
    assert_eq!(e["status"], "completed");
    assert_eq!(history(&e), ["pending", "processing", "requires_review", "completed"]);
    assert_eq!(
        app.balance(&w.wallet).await,
        json!({"posted": 7_500, "available": 7_500, "pending_debits": 0, "pending_credits": 0})
    );
    assert_eq!(app.balance(&w.merchant).await["posted"], 2_500);

    // Held, then declined: released, nothing moves.
    let rev = reviewer(&app).await;
    let (_, held) = app.post("/v1/payments", pay(&w, 3_000)).await;
    let id = held["id"].as_str().unwrap().to_string();
    let (_, writer_key) = app.post("/v1/api-keys", json!({"name": "w", "role": "writer"})).await;
    let writer = app.with_key(writer_key["secret"].as_str().unwrap());
    assert_eq!(writer.post(&format!("/v1/payments/{id}/decline"), json!({})).await.0, 403, "writers may not review");
    let (s, d) = rev.post(&format!("/v1/payments/{id}/decline"), json!({"note": "looks odd"})).await;
    assert_eq!((s, d["status"].as_str(), d["failure_code"].as_str()), (200, Some("failed"), Some("declined")));
    assert_eq!(d["failure_reason"], "looks odd");
    assert_eq!(app.balance(&w.wallet).await["available"], 7_500);
    let (s, e) = rev.post(&format!("/v1/payments/{id}/approve"), json!({})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("invalid_state_transition")));

    // Rejected by risk (over the limit), by compliance (KYC), by the balance: no money moves.
    for (amount, code) in [(200_000, "amount_over_limit"), (60_000, "kyc_required"), (9_000, "insufficient_funds")] {
        let (s, f) = app.post("/v1/payments", pay(&w, amount)).await;
        assert_eq!((s, f["status"].as_str(), f["failure_code"].as_str()), (201, Some("failed"), Some(code)), "{f}");
        assert!(f["failure_reason"].as_str().is_some_and(|r| !r.is_empty()));
        assert!(f["transfer_id"].is_null());
    }
    let mut unknown = pay(&w, 100);
    unknown["user_id"] = json!("user_0000000000000000000000000000abcd");
    assert_eq!(app.post("/v1/payments", unknown).await.1["failure_code"], "user_not_found");
    let eur = app.account("EUR", false).await;
    let mut mismatch = pay(&w, 100);
    mismatch["destination_account_id"] = json!(eur);
    assert_eq!(app.post("/v1/payments", mismatch).await.1["failure_code"], "currency_mismatch");
    app.post(&format!("/v1/accounts/{}/freeze", w.merchant), json!({})).await;
    assert_eq!(app.post("/v1/payments", pay(&w, 100)).await.1["failure_code"], "account_frozen");
    app.post(&format!("/v1/accounts/{}/unfreeze", w.merchant), json!({})).await;
    assert_eq!(
        app.balance(&w.wallet).await,
        json!({"posted": 7_500, "available": 7_500, "pending_debits": 0, "pending_credits": 0})
    );

    // Cancelled while held: released. A completed payment cannot be cancelled.
    let (_, held) = app.post("/v1/payments", pay(&w, 1_500)).await;
    let id = held["id"].as_str().unwrap();
    let (s, c) = app.post(&format!("/v1/payments/{id}/cancel"), json!({"reason": "customer asked"})).await;
    assert_eq!((s, c["status"].as_str()), (200, Some("cancelled")));
    assert_eq!(app.balance(&w.wallet).await["available"], 7_500);
    let (s, e) = app.post(&format!("/v1/payments/{}/cancel", p["id"].as_str().unwrap()), json!({})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("invalid_state_transition")));

    // Lists and filters; events; bad input.
    let (_, failed) = app.get(&format!("/v1/payments?user_id={}&status=failed&limit=100", w.user)).await;
    // Declined, three refusals by the gates and the balance, a currency mismatch, a frozen account.
    assert_eq!(failed["data"].as_array().unwrap().len(), 6);
    let (_, all) = app.get(&format!("/v1/payments?account_id={}&limit=100", w.merchant)).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 9);
    let (_, ev) = app.get("/v1/events?type=payment.completed").await;
    assert_eq!(ev["data"].as_array().unwrap().len(), 2);
    assert_eq!(app.get("/v1/payments?status=weird").await.0, 400);
    for (field, value) in [
        ("type", json!("gift")),
        ("method", json!("cheque")),
        ("ip_address", json!("1.2.3")),
        ("location", json!({"country": "Germany"})),
    ] {
        let mut bad = pay(&w, 100);
        bad[field] = value;
        let (s, e) = app.post("/v1/payments", bad).await;
        assert_eq!((s, e["error"]["code"].as_str()), (400, Some("invalid_request")), "{field}");
    }
    // Refused input wrote nothing: still nine payments to the merchant.
    let (_, all) = app.get(&format!("/v1/payments?account_id={}&limit=100", w.merchant)).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 9);
    assert_eq!(app.get("/v1/payments/pay_0000000000000000000000000000abcd").await.0, 404);
    app.verify_ok().await;
    app.stop().await;
});

both_with!(refunds_partial_full_and_never_more, 1000, |app: App| async move {
    let w = world(&app, 10_000).await;
    let (_, p) = app.post("/v1/payments", pay(&w, 1_000)).await;
    let id = p["id"].as_str().unwrap();
    let refunds = format!("/v1/payments/{id}/refunds");
    let (s, r) = app.post(&refunds, json!({"amount": 300, "reason": "damaged"})).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!((r["amount"].as_i64(), r["payment"]["status"].as_str()), (Some(300), Some("partially_refunded")));
    let (s, e) = app.post(&refunds, json!({"amount": 701})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("refund_exceeds_payment")));
    let (s, r) = app.post(&refunds, json!({})).await;
    assert_eq!((s, r["amount"].as_i64(), r["payment"]["status"].as_str()), (201, Some(700), Some("refunded")));
    let (s, e) = app.post(&refunds, json!({"amount": 1})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("invalid_state_transition")));
    let (_, got) = app.get(&format!("/v1/payments/{id}")).await;
    assert_eq!(got["amount_refunded"], 1_000);
    assert_eq!(got["refunds"].as_array().unwrap().len(), 2);
    assert_eq!(history(&got), ["pending", "processing", "completed", "partially_refunded", "refunded"]);
    assert_eq!(app.balance(&w.wallet).await["posted"], 10_000);
    assert_eq!(app.balance(&w.merchant).await["posted"], 0);
    // A failed payment cannot be refunded.
    let (_, f) = app.post("/v1/payments", pay(&w, 200_000)).await;
    let (s, _) = app.post(&format!("/v1/payments/{}/refunds", f["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(s, 409);
    app.verify_ok().await;
    app.stop().await;
});

both_with!(concurrent_refunds_never_exceed_the_payment, 1000, |app: App| async move {
    let w = world(&app, 10_000).await;
    let (_, p) = app.post("/v1/payments", pay(&w, 1_000)).await;
    let path = format!("/v1/payments/{}/refunds", p["id"].as_str().unwrap());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let (c, path) = (app.with_key(&app.key), path.clone());
        tasks.spawn(async move { c.post(&path, json!({"amount": 100})).await.0 });
    }
    let (mut ok, mut refused) = (0, 0);
    while let Some(s) = tasks.join_next().await {
        match s.unwrap() {
            201 => ok += 1,
            422 | 409 => refused += 1,
            s => panic!("unexpected {s}"),
        }
    }
    assert_eq!((ok, refused), (10, 30));
    let (_, got) = app.get(&format!("/v1/payments/{}", p["id"].as_str().unwrap())).await;
    assert_eq!((got["amount_refunded"].as_i64(), got["status"].as_str()), (Some(1_000), Some("refunded")));
    assert_eq!(app.balance(&w.merchant).await["posted"], 0);
    app.verify_ok().await;
    app.stop().await;
});

both_with!(concurrent_payments_never_overdraw, 1000, |app: App| async move {
    let w = world(&app, 5_000).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let (c, body) = (app.with_key(&app.key), pay(&w, 100));
        tasks.spawn(async move { c.post("/v1/payments", body).await });
    }
    let (mut completed, mut failed) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        let (s, p) = r.unwrap();
        assert_eq!(s, 201);
        match p["status"].as_str().unwrap() {
            "completed" => completed += 1,
            "failed" => {
                assert_eq!(p["failure_code"], "insufficient_funds");
                failed += 1;
            }
            other => panic!("{other}"),
        }
    }
    assert_eq!((completed, failed), (50, 50));
    assert_eq!(app.balance(&w.wallet).await["available"], 0);
    app.verify_ok().await;
    app.stop().await;
});

both_with!(velocity_sends_a_burst_to_review, 3, |app: App| async move {
    let w = world(&app, 10_000).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(app.post("/v1/payments", pay(&w, 100)).await.1["status"].as_str().unwrap().to_string());
    }
    assert_eq!(statuses, ["completed", "completed", "completed", "requires_review", "requires_review"]);
    // Payments are idempotent like transfers.
    let (s1, p1, _) = app.post_idem("/v1/payments", pay(&w, 100), "order-77").await;
    let (s2, p2, replayed) = app.post_idem("/v1/payments", pay(&w, 100), "order-77").await;
    assert_eq!((s1, s2, replayed), (201, 201, true));
    assert_eq!(p1, p2);
    app.verify_ok().await;
    app.stop().await;
});

both_with!(settlement_groups_payments_and_posts_fees, 1000, |app: App| async move {
    let w = world(&app, 100_000).await;
    let other = app.account("USD", false).await;
    // Three payments to the merchant (one partly refunded), one to another merchant, one
    // fully refunded (reversed clearing), one failed (no clearing).
    let mut ids = Vec::new();
    for amount in [1_000, 800, 999] {
        ids.push(app.post("/v1/payments", pay(&w, amount)).await.1["id"].as_str().unwrap().to_string());
    }
    app.post(&format!("/v1/payments/{}/refunds", ids[1]), json!({"amount": 300})).await;
    let (_, gone) = app.post("/v1/payments", pay(&w, 700)).await;
    app.post(&format!("/v1/payments/{}/refunds", gone["id"].as_str().unwrap()), json!({})).await;
    app.post("/v1/payments", pay(&w, 500_000)).await; // rejected: over the limit
    let mut to_other = pay(&w, 400);
    to_other["destination_account_id"] = json!(other);
    app.post("/v1/payments", to_other).await;

    let (s, run) = app.post("/v1/settlements", json!({"destination_account_id": w.merchant})).await;
    assert_eq!(s, 201, "{run}");
    let batches = run["data"].as_array().unwrap();
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    // Gross 1,000 + (800 - 300) + 999 = 2,499 over 3 payments.
    // Fees 3 x 30 + ceil(2,499 x 2.9%) = 90 + ceil(72.471) = 163; net 2,336.
    assert_eq!(
        (b["gross"].as_i64(), b["fees"].as_i64(), b["net"].as_i64(), b["payment_count"].as_i64()),
        (Some(2_499), Some(163), Some(2_336), Some(3))
    );
    assert_eq!(b["status"], "completed");
    assert_eq!(app.balance(&w.merchant).await["posted"], 0, "the merchant account is settled out");
    let (_, got) = app.get(&format!("/v1/settlements/{}", b["id"].as_str().unwrap())).await;
    assert_eq!(got["payments"].as_array().unwrap().len(), 3);
    let (_, j) = app.get(&format!("/v1/journal-entries/{}", b["journal_entry_id"].as_str().unwrap())).await;
    let credits: Vec<i64> = j["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["direction"] == "credit")
        .map(|l| l["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(credits, [163, 2_336]);
    let fee_account = j["lines"][1]["account_id"].as_str().unwrap().to_string();
    assert_eq!(app.balance(&fee_account).await["posted"], 163);

    // Nothing left for that merchant; the other merchant settles in a run of its own.
    let (_, again) = app.post("/v1/settlements", json!({"destination_account_id": w.merchant})).await;
    assert!(again["data"].as_array().unwrap().is_empty());
    let (_, rest) = app.post("/v1/settlements", json!({})).await;
    let rest = rest["data"].as_array().unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(
        (rest[0]["gross"].as_i64(), rest[0]["fees"].as_i64(), rest[0]["net"].as_i64()),
        (Some(400), Some(42), Some(358))
    );
    // The same fee account is used again.
    assert_eq!(app.balance(&fee_account).await["posted"], 205);
    let (_, ev) = app.get("/v1/events?type=settlement.completed").await;
    assert_eq!(ev["data"].as_array().unwrap().len(), 2);
    app.verify_ok().await;
    app.stop().await;
});

both_with!(kyc_and_blocking_feed_the_compliance_gate, 1000, |app: App| async move {
    let w = world(&app, 100_000).await;
    assert_eq!(app.post("/v1/payments", pay(&w, 60_000)).await.1["failure_code"], "kyc_required");
    let path = format!("/v1/users/{}", w.user);
    let (_, wk) = app.post("/v1/api-keys", json!({"name": "w", "role": "writer"})).await;
    assert_eq!(
        app.with_key(wk["secret"].as_str().unwrap()).post(&path, json!({"kyc_status": "verified"})).await.0,
        403
    );
    let rev = reviewer(&app).await;
    let (s, u) = rev.post(&path, json!({"kyc_status": "verified"})).await;
    assert_eq!((s, u["kyc_status"].as_str()), (200, Some("verified")), "{u}");
    // KYC passed; the amount still asks for a review.
    assert_eq!(app.post("/v1/payments", pay(&w, 60_000)).await.1["status"], "requires_review");
    rev.post(&path, json!({"status": "blocked"})).await;
    assert_eq!(app.post("/v1/payments", pay(&w, 100)).await.1["failure_code"], "user_blocked");
    assert_eq!(rev.post(&path, json!({"kyc_status": "maybe"})).await.0, 400);
    assert_eq!(rev.post(&path, json!({})).await.0, 400);
    assert_eq!(rev.post("/v1/users/user_0000000000000000000000000000abcd", json!({"status": "active"})).await.0, 404);
    let (_, ev) = app.get("/v1/events?type=user.updated").await;
    assert_eq!(ev["data"].as_array().unwrap().len(), 2);
    let (_, audit) = app.get(&format!("/v1/audit-events?resource_id={}&action=user.update", w.user)).await;
    assert_eq!(
        audit["data"].as_array().unwrap().len(),
        2,
        "two changes; the writer key's 403 is an auth.forbidden record"
    );
    app.stop().await;
});

/// Two processes on one PostgreSQL, 40 payments of one user fired at both at once, each from
/// its own wallet (so no account lock orders them) and to its own merchant: the velocity
/// limit (20 an hour) lets exactly 20 through and holds the rest for review, in every round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn velocity_is_exact_across_two_processes() {
    let url = crate::common::fresh_database(Backend::Postgres).await.unwrap();
    let a = App::start_on(url.clone(), |c| c.policies = policies(20)).await;
    let b = App::start_on(url, |c| c.policies = policies(20)).await;
    for round in 0..2 {
        let (_, u) = a.post("/v1/users", json!({"name": format!("Payer {round}")})).await;
        let user = u["id"].as_str().unwrap().to_string();
        let mut bodies = Vec::new();
        for _ in 0..40 {
            let (_, wallet) = a.funded("USD", 1_000).await;
            let merchant = a.account("USD", false).await;
            bodies.push(pay(&World { user: user.clone(), wallet, merchant }, 100));
        }
        let sends = bodies.into_iter().enumerate().map(|(i, body)| (if i % 2 == 0 { &a } else { &b }, body)).collect();
        let answers = crate::common::post_all("/v1/payments", sends).await;
        assert!(answers.iter().all(|(s, _)| *s == 201), "round {round}: {answers:?}");
        let count = |status: &str| answers.iter().filter(|(_, p)| p["status"] == status).count();
        let statuses: Vec<&Value> = answers.iter().map(|(_, p)| &p["status"]).collect();
        assert_eq!((count("completed"), count("requires_review")), (20, 20), "round {round}: {statuses:?}");
    }
    a.verify_ok().await;
    a.stop().await;
    b.stop().await;
}
