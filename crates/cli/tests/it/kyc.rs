//! KYC end to end over HTTP, on SQLite and PostgreSQL: documents through the manual review
//! workflow (numbers masked), the level they give, the per-level limits the compliance gate
//! enforces from what the payer paid, documents lapsing by the expiry task, bad input.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::common::{App, Backend};
use serde_json::{json, Value};

/// Level none: 300.00 a payment, 500.00 a day; basic: 900.00 and 1,500.00 (below the KYC
/// threshold of 1,000.00 a payment, so only the limits are tried).
fn limits(c: &mut rialto_api::Config) {
    let l = rialto_compliance::kyc::KycLimits::parse("none:30000/50000/-,basic:90000/150000/-,full:-/-/-").unwrap();
    c.policies = std::sync::Arc::new((*c.policies).clone().with_kyc_limits(l));
    c.kyc_expiry_interval = Duration::from_millis(100);
}

macro_rules! both_kyc {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let Some(app) = App::start_with(Backend::Sqlite, limits).await else { return };
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
            async fn postgres() {
                let Some(app) = App::start_with(Backend::Postgres, limits).await else { return };
                ($body)(app).await;
            }
        }
    };
}

async fn pay(app: &App, user: &str, wallet: &str, merchant: &str, amount: i64) -> Value {
    let body = json!({"user_id": user, "source_account_id": wallet, "destination_account_id": merchant, "amount": amount, "currency": "USD"});
    let (s, p) = app.post("/v1/payments", body).await;
    assert_eq!(s, 201, "{p}");
    p
}

both_kyc!(documents_raise_the_level_and_the_limits_follow, |app: App| async move {
    let (_, u) = app.post("/v1/users", json!({"name": "Hanna Berg"})).await;
    let user = u["id"].as_str().unwrap().to_string();
    let (_, wallet) = app.funded("USD", 1_000_000).await;
    let merchant = app.account("USD", false).await;
    // Level none: 300.00 a payment, 500.00 a day.
    assert_eq!(pay(&app, &user, &wallet, &merchant, 30_000).await["status"], "completed");
    let p = pay(&app, &user, &wallet, &merchant, 30_001).await;
    assert_eq!(
        (p["failure_code"].as_str(), p["failure_reason"].as_str().unwrap().contains("single")),
        (Some("kyc_limit_exceeded"), true),
        "{p}"
    );
    assert_eq!(pay(&app, &user, &wallet, &merchant, 20_000).await["status"], "completed");
    let p = pay(&app, &user, &wallet, &merchant, 1).await;
    assert!(p["failure_reason"].as_str().is_some_and(|r| r.contains("daily")), "{p}");
    // A passport, submitted then verified by a reviewer: level basic.
    let path = format!("/v1/users/{user}/kyc/documents");
    let (s, d) = app
        .post(
            &path,
            json!({"type": "passport", "issuing_country": "DE", "number": "C01X-00T47", "expires_on": "2031-05-31"}),
        )
        .await;
    assert_eq!((s, d["status"].as_str(), d["number"].as_str()), (201, Some("submitted"), Some("•••• 0T47")), "{d}");
    let documented = |route: &str| rialto_api::operation(&axum::http::Method::POST, route).map(|o| o.status);
    assert_eq!(documented("/v1/users/{id}/kyc/documents"), Some(201), "the answer's status is the documented one");
    assert!(!d.to_string().contains("C01X00T47"));
    assert_eq!(app.get(&format!("/v1/users/{user}/kyc")).await.1["level"], "none");
    let (_, wk) = app.post("/v1/api-keys", json!({"name": "w", "role": "writer"})).await;
    let verify = format!("/v1/kyc/documents/{}/verify", d["id"].as_str().unwrap());
    assert_eq!(app.with_key(wk["secret"].as_str().unwrap()).post(&verify, json!({})).await.0, 403);
    let (_, rk) = app.post("/v1/api-keys", json!({"name": "r", "role": "reviewer"})).await;
    let rev = app.with_key(rk["secret"].as_str().unwrap());
    let (s, v) = rev.post(&verify, json!({})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("verified")), "{v}");
    assert_eq!(rev.post(&verify, json!({})).await.0, 409);
    let (_, k) = app.get(&format!("/v1/users/{user}/kyc")).await;
    assert_eq!((k["level"].as_str(), k["limits"]["daily_max"].as_i64()), (Some("basic"), Some(150_000)), "{k}");
    // Basic: 900.00 a payment, 1,500.00 a day (500.00 paid already, then 900.00).
    let p = pay(&app, &user, &wallet, &merchant, 90_000).await;
    assert_eq!(p["status"], "completed", "{p}");
    assert_eq!(pay(&app, &user, &wallet, &merchant, 10_001).await["failure_code"], "kyc_limit_exceeded");
    assert_eq!(pay(&app, &user, &wallet, &merchant, 10_000).await["status"], "completed");
    // A proof of address rejected (a reason is required), an expired document refused by the
    // provider at once.
    let (_, poa) =
        app.post(&path, json!({"type": "proof_of_address", "issuing_country": "DE", "number": "STROM-2026-1"})).await;
    let reject = format!("/v1/kyc/documents/{}/reject", poa["id"].as_str().unwrap());
    assert_eq!(rev.post(&reject, json!({})).await.0, 400);
    assert_eq!(rev.post(&reject, json!({"reason": "name does not match"})).await.1["status"], "rejected");
    let (_, old) = app
        .post(
            &path,
            json!({"type": "national_id", "issuing_country": "DE", "number": "L01X00T47", "expires_on": "2020-01-31"}),
        )
        .await;
    assert_eq!(
        (old["status"].as_str(), old["reason"].as_str()),
        (Some("rejected"), Some("the document has expired")),
        "{old}"
    );
    // The passport lapses (its date moved to yesterday): the expiry task marks it expired and
    // the level falls back to none.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    sqlx::query("UPDATE kyc_documents SET expires_on_day = expires_on_day - 100000 WHERE id = $1")
        .bind(d["id"].as_str().unwrap())
        .execute(&pool)
        .await
        .unwrap();
    let mut k = Value::Null;
    for _ in 0..100 {
        k = app.get(&format!("/v1/users/{user}/kyc")).await.1;
        if k["documents"][0]["status"] == "expired" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!((k["documents"][0]["status"].as_str(), k["level"].as_str()), (Some("expired"), Some("none")), "{k}");
    let (_, audit) = app.get(&format!("/v1/audit-events?resource_id={}", d["id"].as_str().unwrap())).await;
    let actions: Vec<&str> = audit["data"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    for a in ["kyc_document.submit", "kyc_document.verify", "kyc_document.expire"] {
        assert!(actions.contains(&a), "{actions:?}");
    }
    app.verify_ok().await;
    app.stop().await;
});

both_kyc!(bad_documents_are_refused, |app: App| async move {
    let (_, u) = app.post("/v1/users", json!({"name": "Ola Nordmann"})).await;
    let path = format!("/v1/users/{}/kyc/documents", u["id"].as_str().unwrap());
    let good = json!({"type": "passport", "issuing_country": "NO", "number": "AB1234567", "expires_on": "2030-01-01"});
    for (field, value) in [
        ("type", json!("selfie")),
        ("issuing_country", json!("XX")),
        ("issuing_country", json!("no")),
        ("number", json!("12")),
        ("number", json!("AB12*4567")),
        ("expires_on", json!("2031-13-01")),
        ("expires_on", json!(null)),
    ] {
        let mut body = good.clone();
        body[field] = value.clone();
        let (s, e) = app.post(&path, body).await;
        assert_eq!((s, e["error"]["param"].as_str()), (400, Some(field)), "{field}={value}: {e}");
    }
    assert_eq!(app.post("/v1/users/user_0000000000000000000000000000abcd/kyc/documents", good).await.0, 404);
    assert_eq!(app.post("/v1/kyc/documents/kyd_0000000000000000000000000000abcd/verify", json!({})).await.0, 404);
    let (_, k) = app.get(&format!("/v1/users/{}/kyc", u["id"].as_str().unwrap())).await;
    assert_eq!(k["documents"], json!([]));
    app.stop().await;
});
