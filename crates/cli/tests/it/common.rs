//! Test harness: a real Rialto server on an ephemeral port, on SQLite (a fresh file) or on
//! PostgreSQL (a fresh database on `RIALTO_TEST_POSTGRES_URL`).
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{json, Value};

pub const ADMIN_KEY: &str = "rialto_test_admin_key";

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database URL for `backend` (always `Some`; the `Option` keeps call sites short).
pub async fn fresh_database(backend: Backend) -> Option<String> {
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("rialto-test-{}.db", uuid::Uuid::new_v4().simple()));
            Some(format!("sqlite://{}", path.display()))
        }
        Backend::Postgres => {
            // A variant built without the URL is #[ignore]d (build.rs); run anyway, it fails here.
            let base = std::env::var("RIALTO_TEST_POSTGRES_URL").expect(
                "RIALTO_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) must be set when the \
                 suite is built and run; .ci/run sets it",
            );
            use sqlx::Connection;
            let name = format!("rialto_t_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(&base).await.expect("connect to RIALTO_TEST_POSTGRES_URL");
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str()).await.unwrap();
            conn.close().await.ok();
            let (prefix, _) = base.rsplit_once('/').expect("URL has a database path");
            Some(format!("{prefix}/{name}"))
        }
    }
}

/// The Redis of the shared-window tests.
pub fn redis_url() -> Option<String> {
    // Tests that need it are #[ignore]d when the suite was built without it (build.rs).
    let url = std::env::var("RIALTO_TEST_REDIS_URL")
        .expect("RIALTO_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379) must be set; .ci/run sets it");
    Some(url)
}

/// A running server and an HTTP client for it.
pub struct App {
    pub base: String,
    pub http: reqwest::Client,
    pub key: String,
    pub database_url: String,
    pub server: Option<rialto_api::Running>,
}

impl App {
    /// Starts a server on a fresh database, or returns None when the backend is not configured.
    pub async fn start(backend: Backend) -> Option<App> {
        Self::start_with(backend, |_| {}).await
    }

    /// Like `start`, adjusting the configuration first.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut rialto_api::Config)) -> Option<App> {
        let url = fresh_database(backend).await?;
        Some(Self::start_on(url, adjust).await)
    }

    /// Starts a server on an existing database (another process sharing it, or a restart).
    pub async fn start_on(url: String, adjust: impl FnOnce(&mut rialto_api::Config)) -> App {
        let mut config = rialto_api::Config::new(url.clone(), "127.0.0.1:0".parse().unwrap());
        config.admin_key = Some(ADMIN_KEY.into());
        config.expiry_sweep_interval = Duration::from_millis(100);
        // The webhook tests' receivers listen on loopback, which deliveries refuse by default.
        config.webhook_targets.allowed = vec!["127.0.0.0/8".parse().unwrap()];
        adjust(&mut config);
        let running = rialto_api::start(config).await.expect("server starts");
        App {
            base: format!("http://{}", running.addr),
            http: reqwest::Client::new(),
            key: ADMIN_KEY.into(),
            database_url: url,
            server: Some(running),
        }
    }

    /// A client for an already running server.
    pub fn client(base: String, database_url: String) -> App {
        App { base, http: reqwest::Client::new(), key: ADMIN_KEY.into(), database_url, server: None }
    }

    pub fn with_key(&self, key: &str) -> App {
        App {
            base: self.base.clone(),
            http: self.http.clone(),
            key: key.into(),
            database_url: self.database_url.clone(),
            server: None,
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.key).send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_raw(path, body.to_string(), None).await
    }

    pub async fn post_idem(&self, path: &str, body: Value, key: &str) -> (u16, Value, bool) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .header("content-type", "application/json")
            .header("Idempotency-Key", key)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        let replayed = r.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
        (s, r.json().await.unwrap_or(Value::Null), replayed)
    }

    pub async fn post_raw(&self, path: &str, body: String, content_type: Option<&str>) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .header("content-type", content_type.unwrap_or("application/json"))
            .body(body)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    /// Creates an account and returns its id.
    pub async fn account(&self, currency: &str, allow_negative: bool) -> String {
        let (s, v) =
            self.post("/v1/accounts", json!({"currency": currency, "allow_negative_balance": allow_negative})).await;
        assert_eq!(s, 201, "{v}");
        v["id"].as_str().unwrap().to_string()
    }

    /// Posts a transfer and returns (status, body).
    pub async fn transfer(&self, src: &str, dst: &str, amount: i64, currency: &str) -> (u16, Value) {
        self.post(
            "/v1/transfers",
            json!({"source_account_id": src, "destination_account_id": dst, "amount": amount, "currency": currency}),
        )
        .await
    }

    /// Creates a funded account: `amount` moved in from a new funding account.
    pub async fn funded(&self, currency: &str, amount: i64) -> (String, String) {
        let funding = self.account(currency, true).await;
        let a = self.account(currency, false).await;
        let (s, v) = self.transfer(&funding, &a, amount, currency).await;
        assert_eq!(s, 201, "{v}");
        (funding, a)
    }

    pub async fn balance(&self, account: &str) -> Value {
        let (s, v) = self.get(&format!("/v1/accounts/{account}")).await;
        assert_eq!(s, 200, "{v}");
        v["balance"].clone()
    }

    /// Asserts the ledger verifies and returns the report.
    pub async fn verify_ok(&self) -> Value {
        let (s, v) = self.get("/v1/ledger/verify").await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["ok"], json!(true), "ledger does not verify: {v}");
        v
    }

    /// Number of entries in the ledger.
    pub async fn entry_count(&self) -> i64 {
        self.verify_ok().await["entries"].as_i64().unwrap()
    }

    /// The audit records of `query` (`/v1/audit-events?…`), once there are at least `n` (refusals
    /// reach the audit log by a flush every second); fails after 10 s.
    pub async fn audit_at_least(&self, query: &str, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let (_, page) = self.get(&format!("/v1/audit-events?{query}&limit=100")).await;
            let rows = page["data"].as_array().cloned().unwrap_or_default();
            if rows.len() >= n {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fewer than {n} audit records for {query}");
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await.unwrap();
        }
    }
}

/// Sends every `(app, body)` as `POST path` at once (each on its own task) and returns the
/// answers (status, body) in the order given.
pub async fn post_all(path: &str, sends: Vec<(&App, Value)>) -> Vec<(u16, Value)> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (app, body)) in sends.into_iter().enumerate() {
        let (http, url, key) = (app.http.clone(), format!("{}{path}", app.base), app.key.clone());
        tasks.spawn(async move {
            let r = http.post(url).bearer_auth(key).json(&body).send().await.unwrap();
            (i, r.status().as_u16(), r.json::<Value>().await.unwrap())
        });
    }
    let mut answers = tasks.join_all().await;
    answers.sort_by_key(|(i, _, _)| *i);
    answers.into_iter().map(|(_, s, v)| (s, v)).collect()
}

/// Generates `sqlite` and `postgres` variants of an async test body taking `App` (with a
/// second argument, a function that adjusts the server's `Config` first).
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let Some(app) = $crate::common::App::start($crate::common::Backend::Sqlite).await else {
                    return;
                };
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
            async fn postgres() {
                let Some(app) = $crate::common::App::start($crate::common::Backend::Postgres).await else {
                    return;
                };
                ($body)(app).await;
            }
        }
    };
    ($name:ident, $adjust:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let Some(app) = $crate::common::App::start_with($crate::common::Backend::Sqlite, $adjust).await else {
                    return;
                };
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
            async fn postgres() {
                let Some(app) = $crate::common::App::start_with($crate::common::Backend::Postgres, $adjust).await
                else {
                    return;
                };
                ($body)(app).await;
            }
        }
    };
}
