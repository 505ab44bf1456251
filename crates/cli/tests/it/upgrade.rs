//! A database written by the previous release (0.1, commit 4fa8d6f) opens with this binary,
//! migrates, verifies (ledger and audit chain), reads back in today's shapes and takes new
//! writes. The fixtures in `tests/data` are dumps of databases that
//! `scripts/make-release-fixture.sh` wrote with that release's binary.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use sqlx::Connection;

use crate::common::{fresh_database, App, Backend};

const SQLITE_DUMP: &str = include_str!("../data/release-0.1-sqlite.sql");
const POSTGRES_DUMP: &str = include_str!("../data/release-0.1-postgres.sql");

/// A fresh database of `backend` holding the release's data.
async fn released_database(backend: Backend) -> String {
    let url = fresh_database(backend).await.unwrap();
    match backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc")).await.unwrap();
            sqlx::raw_sql(SQLITE_DUMP).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(POSTGRES_DUMP).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
    }
    url
}

fn cli(args: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rialto")).args(args).output().unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

async fn released_data_opens_migrates_and_verifies(backend: Backend) {
    let url = released_database(backend).await;
    let app = App::start_on(url.clone(), |_| {}).await;
    app.verify_ok().await;
    assert_eq!(app.get("/v1/audit/verify").await.1["ok"], true);

    // Rule actions stored as Debug text by 0.1 read back as rule-document JSON.
    let (_, payments) = app.get("/v1/payments?limit=100").await;
    let mut actions = Vec::new();
    for p in payments["data"].as_array().unwrap() {
        let Some(id) = p["risk_assessment_id"].as_str() else { continue };
        let (s, a) = app.get(&format!("/v1/risk/assessments/{id}")).await;
        assert_eq!(s, 200, "{a}");
        for rule in a["rules"].as_array().unwrap() {
            actions.extend(rule["actions"].as_array().unwrap_or_else(|| panic!("actions not migrated: {a}")).clone());
        }
    }
    for expected in [
        json!({"type": "review"}),
        json!({"type": "increase_score", "by": 40}),
        json!({"type": "flag"}),
        json!({"type": "notify"}),
        json!({"type": "block"}),
        json!({"type": "reject"}),
        json!({"type": "rate_limit", "key": "user", "seconds": 60}),
        json!({"type": "require_2fa"}),
    ] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }

    // New writes land on the old data: a transfer between the release's accounts.
    let (_, accounts) = app.get("/v1/accounts?limit=100").await;
    let usd: Vec<&Value> = accounts["data"].as_array().unwrap().iter().filter(|a| a["currency"] == "USD").collect();
    let funding = usd.iter().find(|a| a["allow_negative_balance"] == true).unwrap()["id"].as_str().unwrap();
    let shop = usd.iter().find(|a| a["name"] == "shop").unwrap()["id"].as_str().unwrap();
    let (s, t) = app.transfer(funding, shop, 123, "USD").await;
    assert_eq!(s, 201, "{t}");
    app.verify_ok().await;
    assert_eq!(app.get("/v1/audit/verify").await.1["ok"], true);
    app.stop().await;

    let (code, out) = cli(&["verify", "--database", &url]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = cli(&["audit", "verify", "--database", &url]);
    assert_eq!(code, Some(0), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_data_opens_migrates_and_verifies_sqlite() {
    released_data_opens_migrates_and_verifies(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn released_data_opens_migrates_and_verifies_postgres() {
    released_data_opens_migrates_and_verifies(Backend::Postgres).await;
}
