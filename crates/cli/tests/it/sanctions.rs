//! Sanctions screening end to end over HTTP, on SQLite and PostgreSQL: lists uploaded as
//! versions, users screened as they are created, payments refused for a listed payer or
//! counterparty and held for a near miss, a reviewer's clearance releasing it, a list update
//! re-screening everyone, bad lists and names refused with nothing written, and the real OFAC
//! and UN publications fetched from a URL.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::common::{App, Backend};
use serde_json::{json, Value};

/// A UN consolidated list of individuals: (DATAID, first, second, third, year of birth).
fn un_xml(people: &[(&str, &str, &str, &str, &str)]) -> String {
    let mut x = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><CONSOLIDATED_LIST><INDIVIDUALS>"#);
    for (id, first, second, third, year) in people {
        x.push_str(&format!(
            "<INDIVIDUAL><DATAID>{id}</DATAID><FIRST_NAME>{first}</FIRST_NAME><SECOND_NAME>{second}</SECOND_NAME>\
             <THIRD_NAME>{third}</THIRD_NAME><UN_LIST_TYPE>TEST</UN_LIST_TYPE>\
             <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><YEAR>{year}</YEAR></INDIVIDUAL_DATE_OF_BIRTH>\
             </INDIVIDUAL>"
        ));
    }
    x.push_str(
        "</INDIVIDUALS><ENTITIES><ENTITY><DATAID>9001</DATAID><FIRST_NAME>ACME MARITIME SHIPPING LLC</FIRST_NAME>\
                <UN_LIST_TYPE>TEST</UN_LIST_TYPE></ENTITY></ENTITIES></CONSOLIDATED_LIST>",
    );
    x
}

const BASE: &[(&str, &str, &str, &str, &str)] = &[
    ("1001", "IVAN", "PETROVICH", "SIDOROV", "1960"),
    ("1002", "AHMED", "KHALIL", "MANSOUR", "1971"),
    ("1003", "LUCIA", "FERNANDA", "QUISPE", "1980"),
];

async fn upload(app: &App, people: &[(&str, &str, &str, &str, &str)]) -> (u16, Value) {
    app.post("/v1/sanctions/lists/un", json!({"files": {"consolidated.xml": un_xml(people)}})).await
}

async fn reviewer(app: &App) -> App {
    let (_, k) = app.post("/v1/api-keys", json!({"name": "reviewer", "role": "reviewer"})).await;
    app.with_key(k["secret"].as_str().unwrap())
}

/// A user with a funded wallet, and a merchant: (user, wallet, merchant).
async fn payer(app: &App, name: &str) -> (String, String, String) {
    let (s, u) = app.post("/v1/users", json!({"name": name})).await;
    assert_eq!(s, 201, "{u}");
    let (_, wallet) = app.funded("USD", 100_000).await;
    let merchant = app.account("USD", false).await;
    (u["id"].as_str().unwrap().to_string(), wallet, merchant)
}

fn pay(p: &(String, String, String), amount: i64) -> Value {
    json!({"user_id": p.0, "source_account_id": p.1, "destination_account_id": p.2, "amount": amount, "currency": "USD"})
}

async fn screening(app: &App, user: &str) -> Value {
    app.get(&format!("/v1/users/{user}/screening")).await.1
}

async fn balance(app: &App, account: &str) -> i64 {
    app.get(&format!("/v1/accounts/{account}")).await.1["balance"]["available"].as_i64().unwrap()
}

both!(listed_payers_are_refused_near_misses_held_and_cleared, |app: App| async move {
    let (s, v) = upload(&app, BASE).await;
    assert_eq!((s, v["version"].as_i64(), v["added"].as_i64()), (200, Some(1), Some(4)), "{v}");
    // The listed person: screened as created, every payment refused, no money moved.
    let listed = payer(&app, "Ivan Petrovich Sidorov").await;
    let sc = screening(&app, &listed.0).await;
    assert_eq!(sc["status"], "hit", "{sc}");
    assert_eq!(sc["matches"][0]["entry_id"], "1001");
    assert_eq!(sc["versions"], json!([{"source": "un", "version": 1}]));
    let (s, p) = app.post("/v1/payments", pay(&listed, 500)).await;
    assert_eq!(
        (s, p["status"].as_str(), p["failure_code"].as_str()),
        (201, Some("failed"), Some("compliance_rejected")),
        "{p}"
    );
    assert_eq!(balance(&app, &listed.1).await, 100_000);
    // A near miss (an initial for the middle name): held for review, funds reserved.
    let near = payer(&app, "Ivan P. Sidorov").await;
    assert_eq!(screening(&app, &near.0).await["status"], "review");
    let (_, held) = app.post("/v1/payments", pay(&near, 700)).await;
    assert_eq!(held["status"], "requires_review", "{held}");
    // A reviewer clears the pair as a false positive: the user is clear, the held payment
    // can be approved, and new payments pass.
    let rev = reviewer(&app).await;
    let path = format!("/v1/users/{}/screening/clearances", near.0);
    let (s, c) =
        rev.post(&path, json!({"source": "un", "entry_id": "1001", "reason": "born 1994, passport checked"})).await;
    assert_eq!((s, c["screening"]["status"].as_str()), (201, Some("clear")), "{c}");
    let documented =
        rialto_api::operation(&axum::http::Method::POST, "/v1/users/{id}/screening/clearances").map(|o| o.status);
    assert_eq!(documented, Some(201), "the answer's status is the documented one");
    assert_eq!(screening(&app, &near.0).await["clearances"][0]["entry_id"], "1001");
    let (s, a) = rev.post(&format!("/v1/payments/{}/approve", held["id"].as_str().unwrap()), json!({})).await;
    assert_eq!((s, a["status"].as_str()), (200, Some("completed")), "{a}");
    assert_eq!(app.post("/v1/payments", pay(&near, 300)).await.1["status"], "completed");
    assert_eq!(balance(&app, &near.1).await, 100_000 - 1_000);
    // Clearing an entry that does not match, or without a reason, is refused.
    assert_eq!(rev.post(&path, json!({"source": "un", "entry_id": "1003", "reason": "x"})).await.0, 409);
    assert_eq!(rev.post(&path, json!({"source": "un", "entry_id": "1001", "reason": " "})).await.0, 400);
    assert_eq!(
        app.with_key(&writer_key(&app).await)
            .post(&path, json!({"source": "un", "entry_id": "1001", "reason": "x"}))
            .await
            .0,
        403
    );
    // Every decision is audited with its scores and list versions.
    let (_, audit) = app.get(&format!("/v1/audit-events?resource_id={}&action=sanctions.clear", near.0)).await;
    let details = &audit["data"][0]["details"];
    assert_eq!(details["clearance"]["entry_id"], "1001", "{audit}");
    assert!(details["clearance"]["score"].as_f64().unwrap() > 0.86);
    assert_eq!(details["screening"]["versions"][0]["version"], 1);
    let (_, audit) = app.get(&format!("/v1/audit-events?resource_id={}&action=user.create", listed.0)).await;
    assert_eq!(audit["data"][0]["details"]["screening"]["status"], "hit", "{audit}");
    // A counterparty named on a payment is screened too.
    let clean = payer(&app, "Jane Whitfield").await;
    let mut body = pay(&clean, 200);
    body["counterparty"] = json!({"name": "Acme Maritime Shipping L.L.C.", "country": "AE"});
    let (_, p) = app.post("/v1/payments", body).await;
    assert_eq!(p["failure_code"], "compliance_rejected", "{p}");
    assert_eq!(p["context"]["counterparty"]["name"], "Acme Maritime Shipping L.L.C.");
    assert_eq!(app.post("/v1/payments", pay(&clean, 200)).await.1["status"], "completed");
    app.verify_ok().await;
    app.stop().await;
});

async fn writer_key(app: &App) -> String {
    let (_, k) = app.post("/v1/api-keys", json!({"name": "w", "role": "writer"})).await;
    k["secret"].as_str().unwrap().to_string()
}

/// A list update re-screens every user: one listed after onboarding is caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_update_rescreens_users_sqlite() {
    rescreen(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn a_list_update_rescreens_users_postgres() {
    rescreen(Backend::Postgres).await;
}

async fn rescreen(backend: Backend) {
    let Some(app) = App::start_with(backend, |c| c.sanctions_rescreen_interval = Duration::from_millis(150)).await
    else {
        return;
    };
    upload(&app, BASE).await;
    let later = payer(&app, "Maria Gonzalez Herrera").await;
    assert_eq!(screening(&app, &later.0).await["status"], "clear");
    assert_eq!(app.post("/v1/payments", pay(&later, 100)).await.1["status"], "completed");
    let mut v2 = BASE.to_vec();
    v2.push(("1004", "MARIA", "GONZALEZ", "HERRERA", "1975"));
    let (s, v) = upload(&app, &v2).await;
    assert_eq!(
        (s, v["version"].as_i64(), v["added"].as_i64(), v["removed"].as_i64()),
        (200, Some(2), Some(1), Some(0)),
        "{v}"
    );
    let mut sc = Value::Null;
    for _ in 0..100 {
        sc = screening(&app, &later.0).await;
        if sc["status"] == "hit" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sc["status"], "hit", "{sc}");
    assert_eq!(sc["versions"], json!([{"source": "un", "version": 2}]));
    assert_eq!(app.post("/v1/payments", pay(&later, 100)).await.1["failure_code"], "compliance_rejected");
    let (_, audit) = app.get(&format!("/v1/audit-events?resource_id={}&action=sanctions.screen", later.0)).await;
    assert!(audit["data"].as_array().unwrap().iter().any(|a| a["details"]["status"] == "hit"), "{audit}");
    // The same list again is no new version.
    let (s, same) = upload(&app, &v2).await;
    assert_eq!((s, same["version"].as_i64(), same["created"].as_bool()), (200, Some(2), Some(false)), "{same}");
    let (_, events) = app.get("/v1/events?type=sanctions_list.updated").await;
    assert_eq!(events["data"].as_array().unwrap().len(), 2);
    app.stop().await;
}

both!(bad_lists_and_names_are_refused_and_nothing_changes, |app: App| async move {
    upload(&app, BASE).await;
    let xml = un_xml(BASE);
    for (files, code) in [
        (json!({"consolidated.xml": &xml[..xml.len() / 2]}), "invalid_list"),
        (json!({"consolidated.xml": xml.replace("</SECOND_NAME>", "</SECOND>")}), "invalid_list"),
        (json!({"consolidated.xml": "<OTHER/>"}), "invalid_list"),
        (json!({"a.xml": xml.clone(), "b.xml": xml.clone()}), "invalid_list"),
        (
            json!({"consolidated.xml": un_xml(&BASE[..1]).replace("<ENTITIES><ENTITY><DATAID>9001</DATAID><FIRST_NAME>ACME MARITIME SHIPPING LLC</FIRST_NAME><UN_LIST_TYPE>TEST</UN_LIST_TYPE></ENTITY></ENTITIES>", "")}),
            "list_shrank",
        ),
    ] {
        let (s, e) = app.post("/v1/sanctions/lists/un", json!({"files": files})).await;
        assert!(s == 422 || s == 409, "{s} {e}");
        assert_eq!(e["error"]["code"], code, "{e}");
    }
    let (s, e) = app.post("/v1/sanctions/lists/ofac", json!({"files": {"sdn.csv": "1,\"A\",-0-\n"}})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("invalid_list")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("line 1"), "{e}");
    assert_eq!(app.post("/v1/sanctions/lists/eu", json!({"files": {}})).await.0, 404);
    let (_, lists) = app.get("/v1/sanctions/lists").await;
    assert_eq!(lists["versions"].as_array().unwrap().len(), 1, "{lists}");
    assert_eq!(lists["in_force"][0]["version"], 1);
    assert_eq!(lists["screener"]["entries"], 4);
    // Names: empty, too long, a script with no transliteration, bad fields.
    for (body, status, code) in [
        (json!({"name": " .,- "}), 422, "name_empty"),
        (json!({"name": "x".repeat(301)}), 400, "invalid_request"),
        (json!({"name": "習近平"}), 422, "unsupported_script"),
        (json!({"name": "A B", "type": "robot"}), 400, "invalid_request"),
        (json!({"name": "A B", "date_of_birth": "1990-13-01"}), 400, "invalid_request"),
        (json!({"name": "A B", "min_score": 2}), 400, "invalid_request"),
        (json!({"name": "A B", "identifiers": vec!["x"; 11]}), 400, "invalid_request"),
        (json!({"name": "A B", "extra": 1}), 400, "invalid_request"),
    ] {
        let (s, e) = app.post("/v1/sanctions/screen", body.clone()).await;
        assert_eq!((s, e["error"]["code"].as_str()), (status, Some(code)), "{body}: {e}");
    }
    let (s, c) = app.post("/v1/sanctions/compare", json!({"name1": "Mohammed Omar", "name2": "OMAR, Muhammad"})).await;
    assert_eq!(s, 200, "{c}");
    assert!(c["score"].as_f64().unwrap() > 0.85 && c["explanation"]["tokens"].as_array().unwrap().len() == 2, "{c}");
    assert_eq!(app.post("/v1/sanctions/compare", json!({"name1": "A"})).await.0, 400);
    // A payment's counterparty must have a name.
    let p = payer(&app, "Someone Else").await;
    let mut body = pay(&p, 100);
    body["counterparty"] = json!({"country": "DE"});
    assert_eq!(app.post("/v1/payments", body).await.0, 400);
    app.stop().await;
});

/// The real publications, served by a local HTTP server as a deployment would fetch them:
/// both lists import on the schedule, and real listed names are caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_lists_are_fetched_from_a_url_and_screen_sqlite() {
    real_lists(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn the_real_lists_are_fetched_from_a_url_and_screen_postgres() {
    real_lists(Backend::Postgres).await;
}

async fn real_lists(backend: Backend) {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sanctions");
    if !dir.is_dir() {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let files = axum::Router::new().route(
        "/{*path}",
        axum::routing::get(move |axum::extract::Path(path): axum::extract::Path<String>| {
            let dir = dir.clone();
            async move {
                match std::fs::read(dir.join(&path)) {
                    Ok(b) => (axum::http::StatusCode::OK, b),
                    Err(_) => (axum::http::StatusCode::NOT_FOUND, Vec::new()),
                }
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, files).await });
    let sources = vec![
        (rialto_compliance::Source::Ofac, format!("{base}/ofac")),
        (rialto_compliance::Source::Un, format!("{base}/un/consolidated.xml")),
    ];
    let Some(app) = App::start_with(backend, |c| {
        c.sanctions_sources = sources;
        c.sanctions_refresh_interval = Duration::from_millis(300);
    })
    .await
    else {
        return;
    };
    let mut lists = Value::Null;
    for _ in 0..200 {
        lists = app.get("/v1/sanctions/lists").await.1;
        if lists["screener"]["versions"].as_array().is_some_and(|v| v.len() == 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(lists["screener"]["entries"], 7379 + 1003, "{lists}");
    for (name, source) in [("Usama bin Laden", "ofac"), ("Badege, Eric", "un")] {
        let (_, r) = app.post("/v1/sanctions/screen", json!({"name": name, "type": "individual"})).await;
        assert_eq!(r["decision"], "hit", "{r}");
        let found =
            r["matches"].as_array().unwrap().iter().any(|m| m["source"] == source && m["score"].as_f64() >= Some(0.95));
        assert!(found, "{name} not found on {source}: {r}");
    }
    let (_, r) = app.post("/v1/sanctions/screen", json!({"name": "Jennifer Whitaker-Lindqvist"})).await;
    assert_eq!(r["decision"], "clear", "{r}");
    // Refreshing the same files makes no new version.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, lists) = app.get("/v1/sanctions/lists").await;
    assert_eq!(lists["versions"].as_array().unwrap().len(), 2, "{lists}");
    app.stop().await;
}

/// Two processes on one PostgreSQL: a list imported through one is in force in the other
/// within its reload interval, for screening, new users and payments alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn a_list_imported_by_one_process_is_in_force_in_another() {
    let url = crate::common::fresh_database(Backend::Postgres).await.unwrap();
    let fast = |c: &mut rialto_api::Config| c.sanctions_rescreen_interval = Duration::from_millis(150);
    let a = App::start_on(url.clone(), fast).await;
    let b = App::start_on(url, fast).await;
    let before = payer(&b, "Ahmed Khalil Mansour").await;
    assert_eq!(screening(&b, &before.0).await["status"], "clear");
    assert_eq!(upload(&a, BASE).await.0, 200);
    let mut decision = Value::Null;
    for _ in 0..100 {
        decision = b.post("/v1/sanctions/screen", json!({"name": "Ahmed Khalil Mansour"})).await.1["decision"].clone();
        if decision == "hit" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(decision, "hit");
    let later = payer(&b, "Lucia Fernanda Quispe").await;
    assert_eq!(screening(&b, &later.0).await["status"], "hit");
    assert_eq!(b.post("/v1/payments", pay(&later, 100)).await.1["failure_code"], "compliance_rejected");
    // The user screened before the list came is caught by the re-screening, whichever
    // process runs it.
    let mut status = Value::Null;
    for _ in 0..100 {
        status = screening(&a, &before.0).await["status"].clone();
        if status == "hit" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "hit");
    assert_eq!(a.post("/v1/payments", pay(&before, 100)).await.1["failure_code"], "compliance_rejected");
    a.verify_ok().await;
    a.stop().await;
    b.stop().await;
}

/// A scheduled refresh that fetches a truncated file (or nothing) is a failed task run naming
/// the line, and the version in force stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_refresh_keeps_the_version_in_force() {
    let good = un_xml(BASE);
    let cut = good[..good.len() * 2 / 3].to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let files = axum::Router::new().route("/un.xml", axum::routing::get(move || std::future::ready(cut.clone())));
    tokio::spawn(async move { axum::serve(listener, files).await });
    let sources = vec![
        (rialto_compliance::Source::Un, format!("{base}/un.xml")),
        (rialto_compliance::Source::Ofac, format!("{base}/missing")),
    ];
    let Some(app) = App::start_with(Backend::Sqlite, |c| {
        c.sanctions_sources = sources;
        c.sanctions_refresh_interval = Duration::from_millis(200);
    })
    .await
    else {
        return;
    };
    assert_eq!(upload(&app, BASE).await.0, 200);
    let mut runs = Value::Null;
    for _ in 0..100 {
        runs = app.get("/v1/tasks?name=sanctions_refresh").await.1;
        if runs["data"].as_array().is_some_and(|r| !r.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let run = &runs["data"][0];
    assert_eq!(run["status"], "failed", "{runs}");
    let error = run["error"].as_str().unwrap();
    assert!(error.contains("un:") && error.contains("line") && error.contains("HTTP 404"), "{error}");
    let (_, lists) = app.get("/v1/sanctions/lists").await;
    assert_eq!(lists["versions"].as_array().unwrap().len(), 1, "{lists}");
    assert_eq!(lists["screener"]["entries"], 4);
    app.stop().await;
}
