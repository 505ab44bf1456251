//! Fraud models over HTTP: trained from the API's labels (logistic regression and
//! gradient-boosted trees), deployed as the champion, scoring live payments with their top
//! features, a challenger recorded beside it, rollback; uploads validated; a model that does
//! not answer in time leaves the decision to the rules.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::common::{App, Backend};
use serde_json::{json, Value};

struct Shop {
    user: String,
    wallet: String,
    merchant: String,
}

async fn shop(app: &App) -> Shop {
    let (_, u) = app.post("/v1/users", json!({"name": "Payer"})).await;
    let (_, wallet) = app.funded("USD", 100_000_000).await;
    let merchant = app.account("USD", false).await;
    Shop { user: u["id"].as_str().unwrap().to_string(), wallet, merchant }
}

impl Shop {
    /// A fraud-like payment (large, new device, risky merchant) or an ordinary one.
    async fn pay(&self, app: &App, i: usize, fraudish: bool) -> Value {
        let (amount, device, merchant_id) = if fraudish {
            (80_000 + 100 * (i % 100) as i64, format!("new-{i}"), "m_risky")
        } else {
            (1_500, "phone".into(), "m_grocer")
        };
        let (s, p) = app
            .post(
                "/v1/payments",
                json!({"user_id": self.user, "source_account_id": self.wallet,
                       "destination_account_id": self.merchant, "amount": amount, "currency": "USD",
                       "device_id": device, "merchant_id": merchant_id}),
            )
            .await;
        assert_eq!(s, 201, "{p}");
        p
    }
}

async fn label(app: &App, payment: &Value, fraud: bool) {
    let id = payment["id"].as_str().unwrap();
    let body = json!({"label": if fraud { "fraud" } else { "legitimate" }, "source": "chargeback"});
    let (s, l) = app.post(&format!("/v1/payments/{id}/labels"), body).await;
    assert_eq!(s, 201, "{l}");
}

/// Waits for a model's background training to end.
async fn trained(app: &App, id: &str) -> Value {
    for _ in 0..300 {
        let (_, m) = app.get(&format!("/v1/risk/models/{id}")).await;
        if m["status"] != "training" {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("model {id} still training after 30 s");
}

async fn assessment(app: &App, p: &Value) -> Value {
    let id = p["risk_assessment_id"].as_str().unwrap_or_else(|| panic!("not assessed: {p}"));
    app.get(&format!("/v1/risk/assessments/{id}")).await.1
}

both!(models_train_from_labels_deploy_challenge_and_roll_back, |app: App| async move {
    // Too few labels: refused, nothing registered.
    let (st, e) = app.post("/v1/risk/models/train", json!({"name": "fraud", "type": "logistic_regression"})).await;
    assert_eq!((st, e["error"]["code"].as_str()), (422, Some("not_enough_labels")), "{e}");
    for (body, param) in [
        (json!({"name": "fraud", "type": "svm"}), "type"),
        (json!({"name": "", "type": "logistic_regression"}), "name"),
        (json!({"name": "f", "type": "gradient_boosting", "rounds": 0}), "rounds"),
        (json!({"name": "f", "type": "onnx"}), "type"),
        (json!({"name": "f", "type": "logistic_regression", "colour": 1}), "colour"),
    ] {
        let (st, e) = app.post("/v1/risk/models/train", body.clone()).await;
        assert_eq!((st, e["error"]["param"].as_str()), (400, Some(param)), "{body} -> {e}");
    }
    assert_eq!(app.get("/v1/risk/models").await.1["data"], json!([]));

    // Labelled history of several payers (the payment limits allow 20 an hour each): one
    // payment in six is fraud (chargebacks), the rest legitimate.
    let mut payers = Vec::new();
    for _ in 0..6 {
        payers.push(shop(&app).await);
    }
    for i in 0..60 {
        let fraud = i % 6 == 0;
        let p = payers[i % 5].pay(&app, i, fraud).await;
        assert_eq!(p["status"], "completed", "{p}");
        label(&app, &p, fraud).await;
    }
    let s = &payers[5];
    let (st, lr) = app.post("/v1/risk/models/train", json!({"name": "fraud", "type": "logistic_regression"})).await;
    assert_eq!((st, lr["status"].as_str(), lr["version"].as_i64()), (202, Some("training"), Some(1)), "{lr}");
    // Under an Idempotency-Key a retried training answers the first 202 and trains nothing more.
    let body = json!({"name": "fraud", "type": "gradient_boosting", "rounds": 30, "max_depth": 3});
    let (st, gbt, replayed) = app.post_idem("/v1/risk/models/train", body.clone(), "train-gbt-1").await;
    assert_eq!((st, gbt["version"].as_i64(), replayed), (202, Some(2), false), "{gbt}");
    let (st, again, replayed) = app.post_idem("/v1/risk/models/train", body, "train-gbt-1").await;
    assert_eq!((st, &again["id"], replayed), (202, &gbt["id"], true), "{again}");
    let other = json!({"name": "fraud", "type": "gradient_boosting", "rounds": 31});
    let (st, e, _) = app.post_idem("/v1/risk/models/train", other, "train-gbt-1").await;
    assert_eq!((st, e["error"]["code"].as_str()), (422, Some("idempotency_key_reused")), "{e}");
    assert_eq!(app.get("/v1/risk/models").await.1["data"].as_array().unwrap().len(), 2);
    let lr = trained(&app, lr["id"].as_str().unwrap()).await;
    let gbt = trained(&app, gbt["id"].as_str().unwrap()).await;
    for m in [&lr, &gbt] {
        assert_eq!(m["status"], "testing", "{m}");
        assert_eq!(m["dataset_rows"], 60);
        assert_eq!(m["metadata"]["test_rows"], 12, "{m}");
        assert!(m["metadata"]["metrics"]["roc_auc"].as_f64().unwrap() > 0.9, "{m}");
        assert!(
            m["merchant_risk"]["merchants"]["m_risky"].as_f64() > m["merchant_risk"]["merchants"]["m_grocer"].as_f64()
        );
    }
    let (lr_id, gbt_id) = (lr["id"].as_str().unwrap().to_string(), gbt["id"].as_str().unwrap().to_string());

    // The same labelled features, as CSV for training elsewhere.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rialto"))
        .args(["model", "features", "--database", &app.database_url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!((header[0], header[3], header.last().copied()), ("payment_id", "amount_log", Some("fraud")), "{csv}");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 60);
    assert_eq!(rows.iter().filter(|r| r.last() == Some(&"1")).count(), 10);
    assert!(rows.iter().all(|r| r.len() == header.len()));

    // Not deployed yet: payments are not scored.
    let p = s.pay(&app, 100, true).await;
    assert!(p["risk_assessment_id"].is_null(), "{p}");

    let (st, d) = app.post(&format!("/v1/risk/models/{lr_id}/deploy"), json!({})).await;
    assert_eq!((st, d["status"].as_str()), (200, Some("deployed")), "{d}");
    let p = s.pay(&app, 101, true).await;
    let a = assessment(&app, &p).await;
    let m = &a["details"]["model"];
    assert_eq!((m["model_id"].as_str(), m["outcome"].as_str()), (Some(lr_id.as_str()), Some("scored")), "{a}");
    assert!(m["probability"].as_f64().unwrap() > 0.5, "{a}");
    assert!(!m["top_features"].as_array().unwrap().is_empty(), "{a}");
    assert!(a["score"].as_i64() >= m["score"].as_i64(), "{a}");
    assert_ne!(p["status"], "completed", "a likely fraud is held or refused: {p}");
    let ordinary = s.pay(&app, 102, false).await;
    let a2 = assessment(&app, &ordinary).await;
    assert!(a2["details"]["model"]["probability"].as_f64().unwrap() < 0.5, "{a2}");
    assert_eq!(ordinary["status"], "completed", "{ordinary} {a2}");

    // A challenger on every payment: both scores recorded, only the champion's counts.
    for (body, code, status) in
        [(json!({"share_bp": 10_001}), "invalid_request", 400), (json!({"share": 5}), "invalid_request", 400)]
    {
        let (st, e) = app.post(&format!("/v1/risk/models/{gbt_id}/challenger"), body).await;
        assert_eq!((st, e["error"]["code"].as_str()), (status, Some(code)), "{e}");
    }
    let (st, e) = app.post(&format!("/v1/risk/models/{lr_id}/challenger"), json!({"share_bp": 100})).await;
    assert_eq!((st, e["error"]["code"].as_str()), (409, Some("model_state")), "the champion cannot challenge: {e}");
    let (st, e) = app.post("/v1/risk/models/mdl_nope/deploy", json!({})).await;
    assert_eq!((st, e["error"]["code"].as_str()), (400, Some("invalid_id")), "{e}");
    let (st, e) = app.post("/v1/risk/models/mdl_0000000000000000000000000000abcd/deploy", json!({})).await;
    assert_eq!(st, 404, "{e}");
    let (st, c) = app.post(&format!("/v1/risk/models/{gbt_id}/challenger"), json!({"share_bp": 10_000})).await;
    assert_eq!((st, c["challenger_share_bp"].as_i64()), (200, Some(10_000)), "{c}");
    let p = s.pay(&app, 103, false).await;
    let a = assessment(&app, &p).await;
    let roles: Vec<&str> = a["model_scores"].as_array().unwrap().iter().map(|r| r["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["challenger", "champion"], "{a}");
    assert_eq!(a["details"]["challenger"]["model_id"], gbt_id.as_str(), "{a}");

    // Deploy the trees, then roll back to the logistic model.
    let (_, d) = app.post(&format!("/v1/risk/models/{gbt_id}/deploy"), json!({})).await;
    assert_eq!((d["status"].as_str(), d["previous_id"].as_str()), (Some("deployed"), Some(lr_id.as_str())), "{d}");
    assert_eq!(d["challenger_share_bp"], 0);
    assert_eq!(app.get(&format!("/v1/risk/models/{lr_id}")).await.1["status"], "deprecated");
    let p = s.pay(&app, 104, false).await;
    assert_eq!(assessment(&app, &p).await["details"]["model"]["model_id"], gbt_id.as_str());
    let (st, r) = app.post("/v1/risk/models/rollback", json!({})).await;
    assert_eq!((st, r["id"].as_str(), r["status"].as_str()), (200, Some(lr_id.as_str()), Some("deployed")), "{r}");
    assert_eq!(app.get(&format!("/v1/risk/models/{gbt_id}")).await.1["status"], "deprecated");
    let (st, e) = app.post("/v1/risk/models/rollback", json!({})).await;
    assert_eq!((st, e["error"]["code"].as_str()), (409, Some("model_state")), "nothing before the first: {e}");
    let p = s.pay(&app, 105, false).await;
    assert_eq!(assessment(&app, &p).await["details"]["model"]["model_id"], lr_id.as_str());

    // Live results per model, and every change in the audit log.
    let (_, live) = app.get(&format!("/v1/risk/models/{lr_id}")).await;
    assert!(live["live"]["scored"].as_i64().unwrap() >= 4, "{live}");
    assert_eq!(live["live"]["by_role"]["champion"]["scored"].as_i64(), live["live"]["scored"].as_i64(), "{live}");
    let (_, gl) = app.get(&format!("/v1/risk/models/{gbt_id}")).await;
    assert_eq!(gl["live"]["by_role"]["challenger"]["scored"], 1, "{gl}");
    // A training whose process stopped is marked failed when a server starts.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    sqlx::query("UPDATE risk_models SET status = 'training', updated_at = 0 WHERE id = $1")
        .bind(&gbt_id)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let url = app.database_url.clone();
    app.stop().await;
    let app = App::start_on(url, |_| {}).await;
    let (_, g) = app.get(&format!("/v1/risk/models/{gbt_id}")).await;
    assert_eq!((g["status"].as_str(), g["error"].as_str().is_some()), (Some("deprecated"), true), "{g}");
    for action in [
        "risk_model.register",
        "risk_model.trained",
        "risk_model.deploy",
        "risk_model.challenger",
        "risk_model.rollback",
    ] {
        let (_, audit) = app.get(&format!("/v1/audit-events?action={action}")).await;
        assert!(!audit["data"].as_array().unwrap().is_empty(), "{action}: {audit}");
    }
});

fn logistic_artifact(features: &[&str], weights: &[f64], bias: f64) -> Value {
    json!({"features": features, "weights": weights, "bias": bias, "means": vec![0.0; features.len()]})
}

both!(uploaded_models_are_checked_before_they_are_registered, |app: App| async move {
    let ok = logistic_artifact(&["amount_log", "new_device"], &[0.5, 2.0], -8.0);
    for (body, param) in [
        (
            json!({"name": "m", "type": "logistic_regression", "features": ["V1"], "artifact": logistic_artifact(&["V1"], &[1.0], 0.0)}),
            "features",
        ),
        (
            json!({"name": "m", "type": "logistic_regression", "features": ["amount_log", "new_device"], "artifact": "{"}),
            "artifact",
        ),
        (json!({"name": "m", "type": "logistic_regression", "features": ["amount_log"], "artifact": ok}), "artifact"),
        (
            json!({"name": "m", "type": "gradient_boosting", "features": ["amount_log"], "artifact": {"trees": 3}}),
            "artifact",
        ),
        (
            json!({"name": "m", "type": "logistic_regression", "features": ["amount_log", "new_device"], "artifact": ok,
                "merchant_risk": {"merchants": {"m": 3.0}}}),
            "merchant_risk",
        ),
        (json!({"name": "m", "type": "logistic_regression", "features": "amount_log", "artifact": ok}), "features"),
        (json!({"name": "m", "type": "perceptron", "features": ["amount_log"], "artifact": ok}), "type"),
    ] {
        let (st, e) = app.post("/v1/risk/models", body.clone()).await;
        assert_eq!(st, 400, "{body} -> {e}");
        assert_eq!(e["error"]["param"].as_str(), Some(param), "{body} -> {e}");
    }
    assert_eq!(app.get("/v1/risk/models").await.1["data"], json!([]), "nothing was registered");
    // A reader cannot register models.
    let body =
        json!({"name": "m", "type": "logistic_regression", "features": ["amount_log", "new_device"], "artifact": ok});
    let (_, key) = app.post("/v1/api-keys", json!({"name": "reader", "role": "reader"})).await;
    let (st, _) = app.with_key(key["secret"].as_str().unwrap()).post("/v1/risk/models", body.clone()).await;
    assert_eq!(st, 403);
    let (st, m) = app.post("/v1/risk/models", body).await;
    assert_eq!(
        (st, m["status"].as_str(), m["type"].as_str()),
        (201, Some("testing"), Some("logistic_regression")),
        "{m}"
    );
    let id = m["id"].as_str().unwrap();
    let (st, d) = app.post(&format!("/v1/risk/models/{id}/deploy"), json!({})).await;
    assert_eq!(st, 200, "{d}");
    let s = shop(&app).await;
    let p = s.pay(&app, 1, true).await;
    let a = assessment(&app, &p).await;
    // 0.5 ln(1 + 80,100) + 2 (a new device) - 8 = -0.35 log-odds: about 0.41.
    let prob = a["details"]["model"]["probability"].as_f64().unwrap();
    assert!((prob - 1.0 / (1.0 + (-(0.5 * 80_101f64.ln() - 6.0)).exp())).abs() < 1e-9, "{a}");
    assert_eq!(a["details"]["model"]["top_features"][0]["feature"], "amount_log", "{a}");
    // Model uploads may exceed the 1 MiB of other requests (large boosters); other routes may not.
    let notes = "x".repeat(2 << 20);
    let big = json!({"name": "big", "type": "logistic_regression", "features": ["amount_log", "new_device"],
                     "artifact": ok, "metadata": {"notes": notes}});
    let (st, m) = app.post("/v1/risk/models", big).await;
    assert_eq!((st, m["version"].as_i64()), (201, Some(1)), "{}", m["error"]);
    let (st, e) = app.post("/v1/risk/rules", json!({"id": "r", "name": notes})).await;
    assert_eq!((st, e["error"]["code"].as_str()), (413, Some("payload_too_large")));
});

/// A model that does not answer within the timeout (it is held until the test releases it):
/// the payment is decided by the rules, and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_does_not_answer_in_time_falls_back_to_the_rules() {
    let (release, held) = std::sync::mpsc::channel::<()>();
    let held = std::sync::Mutex::new(held);
    let hold: std::sync::Arc<dyn Fn() + Send + Sync> = std::sync::Arc::new(move || {
        // Returns when the test drops `release`.
        let _ = held.lock().map(|rx| rx.recv());
    });
    let app = App::start_with(Backend::Sqlite, |c| {
        let mut p = (*c.policies).clone();
        let server = rialto_store::ModelServer::new(Duration::from_millis(50)).with_before_predict(hold);
        p.models = std::sync::Arc::new(server);
        c.policies = std::sync::Arc::new(p);
    })
    .await
    .unwrap();
    let x: Vec<Vec<f64>> = (0..200).map(|i| vec![f64::from(i % 97), f64::from(i % 13)]).collect();
    let y: Vec<bool> = (0..200).map(|i| (i % 97) > 50 && (i % 13) < 6).collect();
    let opts = rialto_risk::model::TreeOptions {
        rounds: 10,
        max_depth: 3,
        learning_rate: 0.1,
        parallel: false,
        log_rounds: false,
    };
    let artifact = rialto_risk::model::train_trees(&x, &y, opts).unwrap();
    let body = json!({"name": "slow", "type": "gradient_boosting", "features": ["amount_log", "count_24h"], "artifact": artifact});
    let (st, m) = app.post("/v1/risk/models", body).await;
    assert_eq!(st, 201, "{m}");
    app.post(&format!("/v1/risk/models/{}/deploy", m["id"].as_str().unwrap()), json!({})).await;
    let s = shop(&app).await;
    let p = s.pay(&app, 1, false).await;
    assert_eq!(p["status"], "completed", "{p}");
    let a = assessment(&app, &p).await;
    assert_eq!(a["details"]["model"]["outcome"], "timeout", "{a}");
    assert!(a["reason"].as_str().unwrap().contains("decided by the rules alone"), "{a}");
    assert_eq!(a["model_scores"][0]["outcome"], "timeout", "{a}");
    // Operators see it in the metrics.
    let text = app.http.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("rialto_model_scores_total{outcome=\"timeout\"} 1"), "{text}");
    assert!(text.contains("rialto_model_scores_total{outcome=\"scored\"} 0"), "{text}");
    drop(release);
    app.stop().await;
}

/// A scikit-learn model exported to ONNX (crates/risk/tests/data, from
/// scripts/export-onnx-models.py) registered over HTTP, deployed and scoring payments.
#[cfg(feature = "onnx")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_onnx_model_from_scikit_learn_scores_payments() {
    use base64::Engine;
    let app = App::start(Backend::Sqlite).await.unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../risk/tests/data");
    let expected: Value = serde_json::from_slice(&std::fs::read(format!("{dir}/onnx_expected.json")).unwrap()).unwrap();
    let onnx = base64::engine::general_purpose::STANDARD.encode(std::fs::read(format!("{dir}/fraud_lr.onnx")).unwrap());
    let mut body = json!({"name": "sklearn-lr", "type": "onnx", "features": expected["features"], "artifact": onnx,
                          "merchant_risk": {"merchants": {"m_risky": 0.5}, "default": 0.01}});
    let (st, m) = app.post("/v1/risk/models", body.clone()).await;
    assert_eq!((st, m["type"].as_str()), (201, Some("onnx")), "{m}");
    body["features"] = json!(["amount_log", "count_1h"]);
    let (st, e) = app.post("/v1/risk/models", body).await;
    assert_eq!((st, e["error"]["param"].as_str()), (400, Some("artifact")), "the graph reads five: {e}");
    app.post(&format!("/v1/risk/models/{}/deploy", m["id"].as_str().unwrap()), json!({})).await;
    let s = shop(&app).await;
    let p = s.pay(&app, 1, true).await;
    let a = assessment(&app, &p).await;
    let model = &a["details"]["model"];
    assert_eq!(model["outcome"], "scored", "{a}");
    // Large, from a new device, at a merchant the table calls risky: the exported model's
    // coefficients put that near certain.
    assert!(model["probability"].as_f64().unwrap() > 0.5, "{a}");
    app.stop().await;
}
