//! AML monitoring, compliance cases and regulatory reports end to end over HTTP, on SQLite
//! and PostgreSQL: each typology fires on a constructed scenario and not on its near miss, a
//! holding typology holds the user's payments until a reviewer closes the case, the case
//! workflow with its bad inputs, a CTR for 10,001 USD of cash in a day and none for 9,999, and
//! the CTR and SAR batches validated against FinCEN's XSDs.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::common::{App, Backend};
use serde_json::{json, Value};

fn fast(c: &mut rialto_api::Config) {
    c.aml_monitor_interval = Duration::from_millis(100);
}

fn holding(c: &mut rialto_api::Config) {
    fast(c);
    let mut p = (*c.policies).clone();
    p.aml = rialto_compliance::aml::Typologies::parse(r#"{"structuring": {"action": "hold"}}"#).unwrap();
    c.policies = std::sync::Arc::new(p);
}

macro_rules! both {
    ($name:ident, $adjust:expr, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let Some(app) = App::start_with(Backend::Sqlite, $adjust).await else { return };
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
            async fn postgres() {
                let Some(app) = App::start_with(Backend::Postgres, $adjust).await else { return };
                ($body)(app).await;
            }
        }
    };
}

/// A KYC-verified user.
async fn user(app: &App, name: &str) -> String {
    let (s, u) =
        app.post("/v1/users", json!({"name": name, "email": "someone@example.com", "phone": "+1 217 555 0101"})).await;
    assert_eq!(s, 201, "{u}");
    let id = u["id"].as_str().unwrap().to_string();
    let (s, v) = app.post(&format!("/v1/users/{id}"), json!({"kyc_status": "verified"})).await;
    assert_eq!(s, 200, "{v}");
    id
}

/// An account the user owns, holding `amount` USD.
async fn owned(app: &App, user: &str, amount: i64) -> String {
    let (s, a) = app.post("/v1/accounts", json!({"currency": "USD", "user_id": user})).await;
    assert_eq!(s, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    if amount > 0 {
        let funding = app.account("USD", true).await;
        assert_eq!(app.transfer(&funding, &id, amount, "USD").await.0, 201);
    }
    id
}

async fn pay(app: &App, user: &str, from: &str, to: &str, amount: i64, extra: Value) -> Value {
    let mut body = json!({"user_id": user, "source_account_id": from, "destination_account_id": to, "amount": amount, "currency": "USD"});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let (s, p) = app.post("/v1/payments", body).await;
    assert_eq!(s, 201, "{p}");
    assert!(p["status"] == "completed" || p["status"] == "requires_review", "{p}");
    p
}

/// A cash deposit at the till into the user's account.
async fn cash_in(app: &App, user: &str, till: &str, account: &str, amount: i64) -> Value {
    pay(app, user, till, account, amount, json!({"type": "deposit", "method": "cash"})).await
}

/// The typologies of the alerts on the user's cases.
async fn typologies(app: &App, user: &str) -> Vec<String> {
    let (s, cases) = app.get(&format!("/v1/compliance/cases?user_id={user}&limit=100")).await;
    assert_eq!(s, 200, "{cases}");
    let mut out = Vec::new();
    for c in cases["data"].as_array().unwrap() {
        let (_, detail) = app.get(&format!("/v1/compliance/cases/{}", c["id"].as_str().unwrap())).await;
        out.extend(detail["alerts"].as_array().unwrap().iter().map(|a| a["typology"].as_str().unwrap().to_string()));
    }
    out
}

/// Waits until the user has an alert of `typology`.
async fn alerted(app: &App, user: &str, typology: &str) -> Vec<String> {
    for _ in 0..200 {
        let found = typologies(app, user).await;
        if found.iter().any(|t| t == typology) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {typology} alert for {user}: {:?}", typologies(app, user).await);
}

async fn case_of(app: &App, user: &str) -> Value {
    let (_, cases) = app.get(&format!("/v1/compliance/cases?user_id={user}")).await;
    cases["data"][0].clone()
}

both!(typologies_fire_on_their_scenario_and_not_on_a_near_miss, fast, |app: App| async move {
    let till = app.account("USD", true).await;
    // Near misses first: the monitor evaluates payments in commit order, so by the time the
    // last scenario has fired every near miss has been evaluated.
    let near = user(&app, "Nora Near").await;
    let near_acct = owned(&app, &near, 5_000_000).await;
    cash_in(&app, &near, &till, &near_acct, 950_000).await;
    cash_in(&app, &near, &till, &near_acct, 500_000).await; // under the band
    for i in 0..9 {
        let m = app.account("USD", false).await;
        pay(&app, &near, &near_acct, &m, 100 + i, json!({})).await; // nine payees
    }
    let q = user(&app, "Quinn Slow").await;
    let q_acct = owned(&app, &q, 0).await;
    let funding = app.account("USD", true).await;
    pay(&app, &q, &funding, &q_acct, 1_000_000, json!({})).await;
    pay(&app, &q, &q_acct, &till, 500_000, json!({})).await; // half out again
    let (d, e) = (user(&app, "Dana Back").await, user(&app, "Eli Forth").await);
    let (d_acct, e_acct) = (owned(&app, &d, 100_000).await, owned(&app, &e, 0).await);
    pay(&app, &d, &d_acct, &e_acct, 10_000, json!({})).await;
    pay(&app, &e, &e_acct, &d_acct, 10_000, json!({})).await; // two accounts: not a cycle
    pay(&app, &q, &q_acct, &till, 100, json!({"counterparty": {"name": "Jean Dupont", "country": "FR"}})).await;
    let nine = user(&app, "Nia Nine").await;
    let nine_acct = owned(&app, &nine, 0).await;
    let cashier = user(&app, "Cal Cashier").await;
    for i in 0..9 {
        let who = json!({"counterparty": {"name": format!("Payer Number{i}")}});
        pay(&app, &cashier, &till, &nine_acct, 1_000, who).await; // nine payers in
    }

    // Structuring: cash deposits within the band.
    let s = user(&app, "Sam Struct").await;
    let s_acct = owned(&app, &s, 0).await;
    for amount in [950_000, 900_000, 990_000] {
        cash_in(&app, &s, &till, &s_acct, amount).await;
    }
    // Fan-out: ten distinct payees.
    let f = user(&app, "Fay Fanout").await;
    let f_acct = owned(&app, &f, 1_000_000).await;
    for i in 0..10 {
        let m = app.account("USD", false).await;
        pay(&app, &f, &f_acct, &m, 100 + i, json!({})).await;
    }
    // Fan-in: ten distinct counterparties paying into one customer's account.
    let b = user(&app, "Bo Funnel").await;
    let b_acct = owned(&app, &b, 0).await;
    let teller = user(&app, "Tess Teller").await;
    for i in 0..10 {
        let who = json!({"counterparty": {"name": format!("Sender Number{i}")}});
        pay(&app, &teller, &till, &b_acct, 1_000, who).await;
    }
    // Rapid movement: 10,000.00 in and 9,500.00 out again at once.
    let r = user(&app, "Ray Rapid").await;
    let r_acct = owned(&app, &r, 0).await;
    pay(&app, &r, &funding, &r_acct, 1_000_000, json!({})).await;
    pay(&app, &r, &r_acct, &till, 950_000, json!({})).await;
    // Round-tripping: a -> b -> c -> a.
    let (ua, ub, uc) = (user(&app, "Ann Cycle").await, user(&app, "Ben Cycle").await, user(&app, "Cat Cycle").await);
    let (a, bb, c) = (owned(&app, &ua, 1_000_000).await, owned(&app, &ub, 0).await, owned(&app, &uc, 0).await);
    pay(&app, &ua, &a, &bb, 500_000, json!({})).await;
    pay(&app, &ub, &bb, &c, 480_000, json!({})).await;
    pay(&app, &uc, &c, &a, 450_000, json!({})).await;
    // High-risk country: a counterparty in Iran.
    let h = user(&app, "Hal Risk").await;
    let h_acct = owned(&app, &h, 10_000).await;
    pay(&app, &h, &h_acct, &till, 100, json!({"counterparty": {"name": "Trading House", "country": "IR"}})).await;

    let found = alerted(&app, &s, "structuring").await;
    assert_eq!(found, ["structuring"], "one alert, not one per deposit");
    alerted(&app, &f, "fan_out").await;
    alerted(&app, &b, "fan_in").await;
    alerted(&app, &r, "rapid_movement").await;
    alerted(&app, &uc, "round_tripping").await;
    alerted(&app, &h, "high_risk_country").await;
    let near_misses = [
        (&near, "near misses"),
        (&q, "half out again"),
        (&d, "back and forth"),
        (&e, "back and forth"),
        (&nine, "nine payers"),
    ];
    for (who, why) in near_misses {
        assert_eq!(typologies(&app, who).await, Vec::<String>::new(), "{why}");
    }
    // The alert's evidence names the payments; the case is in the queue, oldest first.
    let case = case_of(&app, &s).await;
    assert_eq!(
        (case["status"].as_str(), case["alert_count"].as_i64(), case["hold"].as_bool()),
        (Some("open"), Some(1), Some(false))
    );
    let (_, detail) = app.get(&format!("/v1/compliance/cases/{}", case["id"].as_str().unwrap())).await;
    let alert = &detail["alerts"][0];
    // It fired on the second deposit (two in the band, 18,500.00); the third is within its
    // quiet period.
    assert_eq!(alert["evidence"].as_array().unwrap().len(), 2, "{alert}");
    assert_eq!(alert["figures"]["total"], "1850000", "{alert}");
    let (_, queue) = app.get("/v1/compliance/cases?status=open&limit=100").await;
    let opened: Vec<&str> =
        queue["data"].as_array().unwrap().iter().map(|c| c["opened_at"].as_str().unwrap()).collect();
    assert!(opened.windows(2).all(|w| w[0] <= w[1]), "oldest first: {opened:?}");
    assert!(opened.len() >= 6);
    let (first, second) = (queue["data"][0]["id"].as_str().unwrap(), queue["data"][1]["id"].as_str().unwrap());
    let (_, next) = app.get(&format!("/v1/compliance/cases?status=open&limit=1&starting_after={first}")).await;
    assert_eq!((next["data"][0]["id"].as_str(), next["has_more"].as_bool()), (Some(second), Some(true)), "{next}");
    let (_, back) = app.get(&format!("/v1/compliance/cases?status=open&limit=1&ending_before={second}")).await;
    assert_eq!((back["data"][0]["id"].as_str(), back["has_more"].as_bool()), (Some(first), Some(false)), "{back}");
    // Every alert is audited with the monitor's run, and published.
    assert!(!app.audit_at_least("action=compliance.monitor", 1).await.is_empty());
    let (_, events) = app.get("/v1/events?type=compliance_alert.created&limit=100").await;
    assert!(events["data"].as_array().unwrap().iter().any(|e| e["type"] == "compliance_alert.created"), "{events}");
});

both!(a_dormant_user_suddenly_paying_raises_an_alert, fast, |app: App| async move {
    let quiet = user(&app, "Del Dormant").await;
    let active = user(&app, "Ava Active").await;
    let (q_acct, a_acct) = (owned(&app, &quiet, 1_000_000).await, owned(&app, &active, 1_000_000).await);
    // History as it would be: both users joined 200 days ago; the active one paid 10 days ago
    // (that payment made now, evaluated, then moved back).
    let m = app.account("USD", false).await;
    let earlier = pay(&app, &active, &a_acct, &m, 100_000, json!({})).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let day = 86_400_000_000_i64;
    for u in [&quiet, &active] {
        sqlx::query("UPDATE users SET created_at = created_at - $1 WHERE id = $2")
            .bind(200 * day)
            .bind(u.clone())
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE payments SET created_at = created_at - $1 WHERE id = $2")
        .bind(10 * day)
        .bind(earlier["id"].as_str().unwrap().to_string())
        .execute(&pool)
        .await
        .unwrap();
    pay(&app, &active, &a_acct, &m, 200_000, json!({})).await;
    pay(&app, &quiet, &q_acct, &m, 200_000, json!({})).await;
    let found = alerted(&app, &quiet, "dormant_activity").await;
    assert_eq!(found, ["dormant_activity"]);
    assert!(!typologies(&app, &active).await.contains(&"dormant_activity".to_string()), "paid 10 days ago");
});

both!(a_holding_case_holds_payments_until_a_reviewer_closes_it, holding, |app: App| async move {
    let till = app.account("USD", true).await;
    let s = user(&app, "Sid Hold").await;
    let acct = owned(&app, &s, 0).await;
    for amount in [900_000, 950_000] {
        cash_in(&app, &s, &till, &acct, amount).await;
    }
    alerted(&app, &s, "structuring").await;
    let case = case_of(&app, &s).await;
    assert_eq!(case["hold"], true, "{case}");
    let id = case["id"].as_str().unwrap().to_string();
    // Held: the next payment waits for a reviewer, naming the case; its funds are reserved.
    let m = app.account("USD", false).await;
    let p = pay(&app, &s, &acct, &m, 1_000, json!({})).await;
    assert_eq!(p["status"], "requires_review", "{p}");
    assert!(p.to_string().contains(&id), "the hold names the case: {p}");

    // The workflow, by a reviewer; a writer may not.
    let (_, wk) = app.post("/v1/api-keys", json!({"name": "w", "role": "writer"})).await;
    let writer = app.with_key(wk["secret"].as_str().unwrap());
    assert_eq!(writer.post(&format!("/v1/compliance/cases/{id}/assign"), json!({})).await.0, 403);
    assert_eq!(writer.get(&format!("/v1/compliance/cases/{id}")).await.0, 200, "a writer reads");
    let (_, rk) = app.post("/v1/api-keys", json!({"name": "r", "role": "reviewer"})).await;
    let rev = app.with_key(rk["secret"].as_str().unwrap());
    let (st, c) = rev.post(&format!("/v1/compliance/cases/{id}/assign"), json!({})).await;
    assert_eq!((st, c["status"].as_str()), (200, Some("assigned")), "{c}");
    assert_eq!(c["assignee"], rk["id"], "default assignee: the caller");
    let (st, c) = rev
        .post(&format!("/v1/compliance/cases/{id}/notes"), json!({"text": "asked the customer", "evidence": [p["id"]]}))
        .await;
    assert_eq!((st, c["status"].as_str()), (201, Some("assigned")), "{c}");
    // sar_filed needs a SAR draft first.
    let close = format!("/v1/compliance/cases/{id}/close");
    let (st, e) = rev.post(&close, json!({"disposition": "sar_filed", "reason": "filed"})).await;
    assert_eq!((st, e["error"]["code"].as_str()), (409, Some("case_state")), "{e}");
    let (st, c) = rev.post(&format!("/v1/compliance/cases/{id}/escalate"), json!({"reason": "pattern"})).await;
    assert_eq!((st, c["status"].as_str()), (200, Some("escalated")), "{c}");
    let (st, e) = rev.post(&format!("/v1/compliance/cases/{id}/escalate"), json!({"reason": "again"})).await;
    assert_eq!((st, e["error"]["code"].as_str()), (409, Some("case_state")), "escalated twice: {e}");
    let (st, sar) = rev
        .post(&format!("/v1/compliance/cases/{id}/sar"), json!({"narrative": "Deposits just under the threshold."}))
        .await;
    assert_eq!((st, sar["type"].as_str(), sar["amount"].as_i64()), (201, Some("sar"), Some(1_850_000)), "{sar}");
    let narrative = sar["data"]["narrative"].as_str().unwrap();
    assert!(
        narrative.starts_with("Deposits just under")
            && narrative.contains("structuring")
            && narrative.contains("asked the customer"),
        "{narrative}"
    );
    assert_eq!(sar["data"]["classifications"][0], json!([1, 114, null]), "structuring below the CTR threshold");
    let (st, c) = rev.post(&close, json!({"disposition": "sar_filed", "reason": "SAR filed with FinCEN"})).await;
    assert_eq!((st, c["status"].as_str(), c["disposition"].as_str()), (200, Some("closed"), Some("sar_filed")), "{c}");
    // Closed is final; the hold is gone.
    let (st, e) = rev.post(&format!("/v1/compliance/cases/{id}/notes"), json!({"text": "late"})).await;
    assert_eq!((st, e["error"]["code"].as_str()), (409, Some("case_state")), "{e}");
    let p2 = pay(&app, &s, &acct, &m, 1_000, json!({})).await;
    assert_eq!(p2["status"], "completed", "{p2}");
    let (_, detail) = app.get(&format!("/v1/compliance/cases/{id}")).await;
    let kinds: Vec<&str> = detail["notes"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["assigned", "note", "escalated", "sar_drafted", "closed"]);
    for action in [
        "compliance_case.assign",
        "compliance_case.note",
        "compliance_case.escalate",
        "compliance_report.sar",
        "compliance_case.close",
    ] {
        assert!(!app.audit_at_least(&format!("action={action}"), 1).await.is_empty(), "{action} audited");
    }

    // Bad input: a clear 4xx, nothing written.
    let bad = [
        (format!("/v1/compliance/cases/{id}/close"), json!({"disposition": "maybe", "reason": "x"}), 400),
        (format!("/v1/compliance/cases/{id}/close"), json!({"disposition": "true_match"}), 400),
        (format!("/v1/compliance/cases/{id}/notes"), json!({"text": ""}), 400),
        (
            format!("/v1/compliance/cases/{id}/notes"),
            json!({"text": "x", "evidence": (0..21).map(|i| i.to_string()).collect::<Vec<_>>()}),
            400,
        ),
        (format!("/v1/compliance/cases/{id}/notes"), json!({"text": "x".repeat(4001)}), 400),
        (format!("/v1/compliance/cases/{id}/assign"), json!({"assignee": 5}), 400),
        (format!("/v1/compliance/cases/{id}/assign"), json!({"who": "x"}), 400),
        ("/v1/compliance/cases/cas_0000000000000000000000000000abcd/assign".to_string(), json!({}), 404),
        ("/v1/compliance/cases/nope/assign".to_string(), json!({}), 400),
        ("/v1/compliance/ctr-filings".to_string(), json!({"day": "2026-13-01"}), 400),
    ];
    for (path, body, want) in bad {
        let (st, e) = rev.post(&path, body.clone()).await;
        assert_eq!(st, want, "{path} {body}: {e}");
        assert!(e["error"]["code"].is_string(), "{e}");
    }
    for q in ["status=shut", "user_id=nope", "starting_after=pay_x", "bogus=1", "limit=0"] {
        assert_eq!(app.get(&format!("/v1/compliance/cases?{q}")).await.0, 400, "{q}");
    }
    let (_, detail2) = app.get(&format!("/v1/compliance/cases/{id}")).await;
    assert_eq!(detail2["notes"], detail["notes"], "nothing written by bad input");
});

/// Validates a FinCEN batch against its XSD with `scripts/validate-fincen.py` when an
/// interpreter with `xmlschema` is there (`RIALTO_TEST_XSD_PYTHON`, as CI sets it).
fn validate(form: &str, xml: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fincen");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{form}-{}.xml", std::process::id()));
    std::fs::write(&file, xml).unwrap();
    let Ok(python) = std::env::var("RIALTO_TEST_XSD_PYTHON") else {
        eprintln!("RIALTO_TEST_XSD_PYTHON not set: {form} batch written to {} but not validated", file.display());
        return;
    };
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/validate-fincen.py");
    let out = std::process::Command::new(python).arg(script).arg(form).arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "{form} batch does not validate: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn attr(xml: &str, name: &str) -> i64 {
    let start = xml.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    xml[start..].split('"').next().unwrap().parse().unwrap()
}

both!(a_ctr_for_10_001_usd_of_cash_in_a_day_and_the_batches_validate, fast, |app: App| async move {
    let till = app.account("USD", true).await;
    let over = user(&app, "Olga Over").await;
    let under = user(&app, "Uma Under").await;
    let (o_acct, u_acct) = (owned(&app, &over, 0).await, owned(&app, &under, 0).await);
    for amount in [400_000, 300_000, 300_100] {
        cash_in(&app, &over, &till, &o_acct, amount).await; // 10,001.00
    }
    for amount in [400_000, 300_000, 299_900] {
        cash_in(&app, &under, &till, &u_acct, amount).await; // 9,999.00
    }
    let (_, card) = app.post("/v1/payments", json!({"user_id": under, "source_account_id": till, "destination_account_id": u_acct, "amount": 500_000, "currency": "USD", "type": "deposit", "method": "card"})).await;
    assert_eq!(card["status"], "completed", "not cash: not counted");
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let (st, filed) = app.post("/v1/compliance/ctr-filings", json!({"day": today})).await;
    assert_eq!(st, 200, "{filed}");
    let list = filed["data"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{filed}");
    let ctr = &list[0];
    assert_eq!(
        (ctr["user_id"].as_str(), ctr["amount"].as_i64(), ctr["data"]["cash_in"].as_i64()),
        (Some(over.as_str()), Some(1_000_100), Some(1_000_100))
    );
    assert_eq!(ctr["data"]["transactions"].as_array().unwrap().len(), 3, "aggregated across three payments");
    // Filing again changes nothing.
    let (_, again) = app.post("/v1/compliance/ctr-filings", json!({"day": today})).await;
    assert_eq!(again["data"].as_array().unwrap().len(), 1);
    assert_eq!(again["data"][0]["id"], ctr["id"]);
    let (_, reports) = app.get(&format!("/v1/compliance/reports?type=ctr&day={today}")).await;
    assert_eq!(reports["data"].as_array().unwrap().len(), 1);

    // The day's batch in FinCEN's CTRX shape: totals consistent with the details.
    let r = reqwest::Client::new()
        .get(format!("{}/v1/compliance/ctr-filings/{today}/fincen.xml", app.base))
        .bearer_auth(crate::common::ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/xml");
    let xml = r.text().await.unwrap();
    assert_eq!((attr(&xml, "TotalAmount"), attr(&xml, "PartyCount"), attr(&xml, "ActivityCount")), (10_001, 1, 1));
    assert!(xml.contains("<fc2:TotalCashInReceiveAmountText>10001</fc2:TotalCashInReceiveAmountText>"), "{xml}");
    validate("ctr", &xml);

    // A SAR from a structuring case, in the SARX shape.
    for amount in [950_000, 960_000] {
        cash_in(&app, &under, &till, &u_acct, amount).await;
    }
    alerted(&app, &under, "structuring").await;
    let case = case_of(&app, &under).await;
    let (st, sar) = app.post(&format!("/v1/compliance/cases/{}/sar", case["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(st, 201, "{sar}");
    let r = reqwest::Client::new()
        .get(format!("{}/v1/compliance/reports/{}/fincen.xml", app.base, sar["id"].as_str().unwrap()))
        .bearer_auth(crate::common::ADMIN_KEY)
        .send()
        .await
        .unwrap();
    let xml = r.text().await.unwrap();
    assert_eq!(
        (attr(&xml, "TotalAmount"), attr(&xml, "PartyCount"), attr(&xml, "ActivityCount")),
        (19_100, 1, 1),
        "{xml}"
    );
    validate("sar", &xml);
    assert_eq!(app.get("/v1/compliance/reports/rpt_0000000000000000000000000000abcd/fincen.xml").await.0, 404);
    assert_eq!(app.get("/v1/compliance/ctr-filings/2020-01-01/fincen.xml").await.0, 404);
    assert_eq!(app.get("/v1/compliance/ctr-filings/yesterday/fincen.xml").await.0, 400);
});

both!(a_sanctions_match_opens_a_case_once, fast, |app: App| async move {
    let list = |extra: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1001</DATAID><FIRST_NAME>IVAN</FIRST_NAME><SECOND_NAME>PETROVICH</SECOND_NAME><THIRD_NAME>SIDOROV</THIRD_NAME><UN_LIST_TYPE>TEST</UN_LIST_TYPE></INDIVIDUAL>{extra}</INDIVIDUALS><ENTITIES/></CONSOLIDATED_LIST>"#
        )
    };
    let (st, v) = app.post("/v1/sanctions/lists/un", json!({"files": {"consolidated.xml": list("")}})).await;
    assert_eq!((st, v["created"].as_bool()), (200, Some(true)), "{v}");
    let (st, u) = app.post("/v1/users", json!({"name": "Ivan Petrovich Sidorov"})).await;
    assert_eq!(st, 201, "{u}");
    let id = u["id"].as_str().unwrap().to_string();
    let found = alerted(&app, &id, "sanctions_match").await;
    assert_eq!(found, ["sanctions_match"]);
    let case = case_of(&app, &id).await;
    let (_, detail) = app.get(&format!("/v1/compliance/cases/{}", case["id"].as_str().unwrap())).await;
    assert_eq!(detail["alerts"][0]["figures"]["status"], "hit", "{detail}");
    // A new list version re-screens everyone; the same finding raises no second alert.
    let other = "<INDIVIDUAL><DATAID>1002</DATAID><FIRST_NAME>AHMED</FIRST_NAME><SECOND_NAME>KHALIL</SECOND_NAME><THIRD_NAME>MANSOUR</THIRD_NAME><UN_LIST_TYPE>TEST</UN_LIST_TYPE></INDIVIDUAL>";
    let (st, v) = app.post("/v1/sanctions/lists/un", json!({"files": {"consolidated.xml": list(other)}})).await;
    assert_eq!((st, v["version"].as_i64()), (200, Some(2)), "{v}");
    let mut rescreened = false;
    for _ in 0..200 {
        let (_, s) = app.get(&format!("/v1/users/{id}/screening")).await;
        if s["versions"] == json!([{"source": "un", "version": 2}]) {
            rescreened = s["status"] == "hit";
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(rescreened, "the re-screening task screened the user on version 2");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(typologies(&app, &id).await, ["sanctions_match"], "one alert for one finding");
});
