//! Golden snapshots of the HTTP contract and of the schema: one scripted walk through every
//! route (happy paths and refusals), each answer recorded with ids, times, secrets and hashes
//! normalised, compared with `tests/snapshots/api.txt`; `/openapi.json` with `openapi.json`;
//! the schema of each backend with `schema-<backend>.txt`. SQLite and PostgreSQL must give the
//! same answers, so both variants compare with the same `api.txt`.
//!
//! After a reviewed change, rewrite the files with `RIALTO_BLESS=1 cargo test --test it snapshots`
//! and say in the commit why the answers changed.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::PathBuf;

use crate::common::{App, Backend, ADMIN_KEY};
use serde_json::{json, Value};

fn snapshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(name)
}

/// Compares `actual` with the stored snapshot `name` (or stores it under `RIALTO_BLESS=1`),
/// failing with the first lines that differ.
fn check(name: &str, actual: &str) {
    let path = snapshot_path(name);
    if std::env::var_os("RIALTO_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; write it with RIALTO_BLESS=1", path.display()));
    if expected == actual {
        return;
    }
    let (want, got): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let first = want.iter().zip(&got).position(|(a, b)| a != b).unwrap_or(want.len().min(got.len()));
    let from = first.saturating_sub(8);
    let show = |lines: &[&str]| lines.iter().skip(from).take(24).cloned().collect::<Vec<_>>().join("\n");
    panic!(
        "snapshot {name} differs from line {} (expected {} lines, got {}).\n--- expected\n{}\n--- got\n{}\n\
         If the change is intended, rerun with RIALTO_BLESS=1 and review the diff.",
        first + 1,
        want.len(),
        got.len(),
        show(&want),
        show(&got)
    );
}

/// Replaces what differs between runs: ids by `<prefix#n>` in order of first appearance,
/// times by `<time>`, secrets and hashes by placeholders.
#[derive(Default)]
struct Normaliser {
    ids: HashMap<String, String>,
    per_prefix: HashMap<String, usize>,
}

const TIME_KEYS: &[&str] = &["at", "until", "timestamp"];
const OPAQUE_KEYS: &[&str] = &["secret", "signing_secret", "hash", "prev_hash", "key_prefix", "prefix"];

impl Normaliser {
    fn value(&mut self, key: Option<&str>, v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), self.value(Some(k.as_str()), v))).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(|v| self.value(key, v)).collect()),
            Value::String(s) if key.is_some_and(|k| OPAQUE_KEYS.contains(&k)) => json!(format!("<{}>", key.unwrap())),
            Value::String(s) if key.is_some_and(is_time_key) || looks_like_time(s) => json!("<time>"),
            Value::Number(_) if key.is_some_and(is_time_key) => json!("<time>"),
            Value::String(s) => json!(self.text(s)),
            other => other.clone(),
        }
    }

    /// `s` with every `<prefix>_<32 hex>` replaced and long digit runs (µs times) hidden.
    fn text(&mut self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut token = String::new();
        for c in s.chars().chain(std::iter::once('\u{0}')) {
            if c.is_ascii_alphanumeric() || c == '_' {
                token.push(c);
                continue;
            }
            out.push_str(&self.token(&token));
            token.clear();
            if c != '\u{0}' {
                out.push(c);
            }
        }
        out
    }

    fn token(&mut self, t: &str) -> String {
        if let Some((prefix, hex)) = t.rsplit_once('_') {
            if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) && !prefix.is_empty() {
                if let Some(known) = self.ids.get(t) {
                    return known.clone();
                }
                let n = self.per_prefix.entry(prefix.to_string()).or_insert(0);
                *n += 1;
                let name = format!("<{prefix}#{n}>");
                self.ids.insert(t.to_string(), name.clone());
                return name;
            }
        }
        if t.len() >= 13 && t.bytes().all(|b| b.is_ascii_digit()) {
            return "<time>".into();
        }
        t.to_string()
    }
}

fn is_time_key(k: &str) -> bool {
    k.ends_with("_at") || k.ends_with("_at_us") || TIME_KEYS.contains(&k)
}

/// An RFC 3339 timestamp such as `2026-12-02T06:29:56.123456Z`.
fn looks_like_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[..4].iter().all(u8::is_ascii_digit)
}

/// A scripted client that records every exchange.
struct Tape<'a> {
    app: &'a App,
    norm: Normaliser,
    out: String,
}

impl<'a> Tape<'a> {
    fn new(app: &'a App) -> Tape<'a> {
        Tape { app, norm: Normaliser::default(), out: String::new() }
    }

    async fn send(&mut self, key: Option<&str>, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.app.base);
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.app.http.request(m, url);
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(b) = &body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let answer: Value =
            serde_json::from_str(&text).unwrap_or(Value::String(format!("<{} bytes of text>", text.len())));
        let who = match key {
            None => "anonymous",
            Some(ADMIN_KEY) => "admin",
            Some(_) => "key",
        };
        let shown_path = self.norm.text(path);
        self.out.push_str(&format!("### {method} {shown_path} ({who})\n"));
        if let Some(b) = &body {
            let b = self.norm.value(None, b);
            self.out.push_str(&format!("{}\n", serde_json::to_string(&b).unwrap()));
        }
        let shown = self.norm.value(None, &answer);
        self.out.push_str(&format!("--> {status}\n{}\n\n", serde_json::to_string_pretty(&shown).unwrap()));
        answer
    }

    async fn get(&mut self, path: &str) -> Value {
        self.send(Some(ADMIN_KEY), "GET", path, None).await
    }

    async fn post(&mut self, path: &str, body: Value) -> Value {
        self.send(Some(ADMIN_KEY), "POST", path, Some(body)).await
    }

    async fn as_key(&mut self, key: &str, method: &str, path: &str, body: Option<Value>) -> Value {
        self.send(Some(key), method, path, body).await
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

async fn walk(t: &mut Tape<'_>) {
    // Probes and the edge.
    t.send(None, "GET", "/healthz", None).await;
    t.send(None, "GET", "/v1/accounts", None).await;
    t.send(Some("rialto_not_a_key"), "GET", "/v1/accounts", None).await;
    t.get("/v1/nowhere").await;
    t.send(Some(ADMIN_KEY), "POST", "/v1/accounts", None).await;

    // Users.
    let user = id(&t.post("/v1/users", json!({"name": "Ada Payer", "email": "ada@example.com"})).await);
    t.post("/v1/users", json!({"name": ""})).await;
    t.get(&format!("/v1/users/{user}")).await;
    t.post(&format!("/v1/users/{user}"), json!({"kyc_status": "verified"})).await;
    t.post(&format!("/v1/users/{user}"), json!({"status": "sleepy"})).await;
    t.get("/v1/users?limit=5").await;
    t.get("/v1/users/user_0000000000000000000000000000abcd").await;

    // Accounts.
    let funding = id(&t.post("/v1/accounts", json!({"currency": "USD", "allow_negative_balance": true})).await);
    let wallet = id(&t.post("/v1/accounts", json!({"currency": "USD", "metadata": {"owner": "ada"}})).await);
    let merchant = id(&t.post("/v1/accounts", json!({"currency": "USD"})).await);
    let euro = id(&t.post("/v1/accounts", json!({"currency": "EUR"})).await);
    t.post("/v1/accounts", json!({"currency": "XXZ"})).await;
    t.post("/v1/accounts", json!({"currency": "USD", "allow_negative_balance": "yes"})).await;
    t.get(&format!("/v1/accounts/{wallet}")).await;
    t.get("/v1/accounts?limit=2").await;
    let spare = id(&t.post("/v1/accounts", json!({"currency": "USD"})).await);
    t.post(&format!("/v1/accounts/{spare}/freeze"), json!({})).await;
    t.post(&format!("/v1/accounts/{spare}/unfreeze"), json!({})).await;
    t.post(&format!("/v1/accounts/{spare}/close"), json!({})).await;
    t.post(&format!("/v1/accounts/{spare}/freeze"), json!({})).await;

    // Transfers.
    let xfer = |src: &str, dst: &str, amount: Value, currency: &str| json!({"source_account_id": src, "destination_account_id": dst, "amount": amount, "currency": currency});
    let first = t.post("/v1/transfers", xfer(&funding, &wallet, json!(100_000), "USD")).await;
    t.post("/v1/transfers", xfer(&wallet, &merchant, json!(10_000_000), "USD")).await;
    t.post("/v1/transfers", xfer(&wallet, &euro, json!(10), "USD")).await;
    t.post("/v1/transfers", xfer(&wallet, &merchant, json!(0), "USD")).await;
    t.post("/v1/transfers", xfer(&wallet, &merchant, json!(1.5), "USD")).await;
    t.post("/v1/transfers", xfer(&wallet, &spare, json!(10), "USD")).await;
    t.post("/v1/transfers", xfer(&wallet, "acct_0000000000000000000000000000abcd", json!(10), "USD")).await;
    let mut pending = xfer(&wallet, &merchant, json!(400), "USD");
    pending["pending"] = json!(true);
    let p1 = id(&t.post("/v1/transfers", pending.clone()).await);
    t.post(&format!("/v1/transfers/{p1}/post"), json!({"amount": 401})).await;
    t.post(&format!("/v1/transfers/{p1}/post"), json!({"amount": 250})).await;
    let p2 = id(&t.post("/v1/transfers", pending).await);
    t.post(&format!("/v1/transfers/{p2}/void"), json!({})).await;
    t.post(&format!("/v1/transfers/{p2}/post"), json!({})).await;
    let small = id(&t.post("/v1/transfers", xfer(&wallet, &merchant, json!(70), "USD")).await);
    t.post(&format!("/v1/transfers/{small}/reverse"), json!({})).await;
    t.post(&format!("/v1/transfers/{small}/reverse"), json!({})).await;
    t.get(&format!("/v1/transfers/{}", id(&first))).await;
    t.get("/v1/transfers?limit=3").await;
    t.get(&format!("/v1/accounts/{wallet}/entries?limit=3")).await;
    t.get(&format!("/v1/accounts/{wallet}/balance?at=2000-01-01T00:00:00Z")).await;
    t.get(&format!("/v1/accounts/{wallet}/balance?at=yesterday")).await;

    // Journal entries.
    let line = |account: &str, direction: &str, amount: i64| json!({"account_id": account, "direction": direction, "amount": amount});
    let j = t
        .post("/v1/journal-entries", json!({"lines": [line(&funding, "debit", 30), line(&merchant, "credit", 30)]}))
        .await;
    t.get(&format!("/v1/journal-entries/{}", id(&j))).await;
    t.post("/v1/journal-entries", json!({"lines": [line(&funding, "debit", 30), line(&merchant, "credit", 29)]})).await;
    t.post("/v1/journal-entries", json!({"lines": [line(&funding, "sideways", 30), line(&merchant, "credit", 30)]}))
        .await;
    t.get("/v1/ledger/verify").await;

    // API keys and roles.
    let reviewer = t.post("/v1/api-keys", json!({"name": "rev", "role": "reviewer"})).await;
    let reviewer = reviewer["secret"].as_str().unwrap().to_string();
    let reader = t.post("/v1/api-keys", json!({"name": "ro", "role": "reader"})).await;
    let reader_id = id(&reader);
    let reader = reader["secret"].as_str().unwrap().to_string();
    t.post("/v1/api-keys", json!({"name": "x", "role": "emperor"})).await;
    t.as_key(&reader, "GET", &format!("/v1/accounts/{wallet}"), None).await;
    t.as_key(&reader, "POST", "/v1/accounts", Some(json!({"currency": "USD"}))).await;
    t.post(&format!("/v1/api-keys/{reader_id}/revoke"), json!({})).await;
    t.as_key(&reader, "GET", &format!("/v1/accounts/{wallet}"), None).await;
    t.get("/v1/api-keys").await;

    // Risk rules and lists.
    let rule = json!({"id": "big", "name": "Big payment", "priority": 10, "weight": 40,
        "condition": {"field": "amount", "op": "gte", "value": 5000}, "actions": [{"type": "review"}]});
    t.post("/v1/risk/rules", rule.clone()).await;
    t.post("/v1/risk/rules", rule.clone()).await;
    let mut bad = rule.clone();
    bad["id"] = json!("bad");
    bad["condition"]["op"] = json!("nope");
    t.post("/v1/risk/rules", bad).await;
    let device_rule = json!({"id": "bad_devices", "name": "Listed device", "priority": 5,
        "condition": {"field": "device_id", "in_list": "blocked_devices"}, "actions": [{"type": "block"}]});
    t.post("/v1/risk/rules", device_rule).await;
    t.post("/v1/risk/lists/blocked_devices/items", json!({"value": "dev-evil"})).await;
    t.post("/v1/risk/lists/bad%20name/items", json!({"value": "x"})).await;
    t.get("/v1/risk/lists/blocked_devices").await;
    t.get("/v1/risk/rules").await;

    // Payments through the gates.
    let pay = |amount: i64, device: &str| {
        json!({"user_id": user, "source_account_id": wallet, "destination_account_id": merchant,
               "amount": amount, "currency": "USD", "type": "transfer", "method": "card", "reference": "order-1",
               "device_id": device, "ip_address": "203.0.113.7", "location": {"country": "DE", "lat": 52.5, "lon": 13.4}})
    };
    let done = id(&t.post("/v1/payments", pay(1_000, "dev-1")).await);
    let held = t.post("/v1/payments", pay(6_000, "dev-1")).await;
    let held = id(&held);
    let held2 = id(&t.post("/v1/payments", pay(7_000, "dev-1")).await);
    let held3 = id(&t.post("/v1/payments", pay(8_000, "dev-1")).await);
    let blocked = t.post("/v1/payments", pay(100, "dev-evil")).await;
    t.post("/v1/payments", pay(100_000_000, "dev-1")).await;
    let mut bad = pay(100, "dev-1");
    bad["amount"] = json!(-5);
    t.post("/v1/payments", bad).await;
    let mut bad = pay(100, "dev-1");
    bad["method"] = json!("pigeon");
    t.post("/v1/payments", bad).await;
    t.get("/v1/reviews").await;
    t.post(&format!("/v1/payments/{held}/approve"), json!({})).await;
    t.as_key(&reviewer, "POST", &format!("/v1/payments/{held}/approve"), Some(json!({"note": "known customer"}))).await;
    t.as_key(&reviewer, "POST", &format!("/v1/payments/{held2}/decline"), Some(json!({"note": "stolen card"}))).await;
    t.post(&format!("/v1/payments/{held3}/cancel"), json!({"reason": "customer asked"})).await;
    t.post(&format!("/v1/payments/{held3}/cancel"), json!({})).await;
    t.post(&format!("/v1/payments/{done}/refunds"), json!({"amount": 300})).await;
    t.post(&format!("/v1/payments/{done}/refunds"), json!({"amount": 5_000})).await;
    t.as_key(
        &reviewer,
        "POST",
        &format!("/v1/payments/{done}/labels"),
        Some(json!({"label": "fraud", "source": "chargeback"})),
    )
    .await;
    t.get(&format!("/v1/payments/{done}/labels")).await;
    t.get(&format!("/v1/payments/{done}")).await;
    t.get("/v1/payments?limit=2").await;
    if let Some(a) = blocked["risk_assessment_id"].as_str() {
        t.get(&format!("/v1/risk/assessments/{a}")).await;
    }
    t.get(&format!("/v1/users/{user}/risk")).await;
    t.post("/v1/risk/rules/backtest", json!({"from": "2000-01-01T00:00:00Z"})).await;
    t.send(Some(ADMIN_KEY), "DELETE", "/v1/risk/lists/blocked_devices/items/dev-evil", None).await;
    let mut v2 = rule.clone();
    v2.as_object_mut().unwrap().remove("id");
    v2["weight"] = json!(50);
    t.send(Some(ADMIN_KEY), "PUT", "/v1/risk/rules/big", Some(v2)).await;
    t.send(Some(ADMIN_KEY), "DELETE", "/v1/risk/rules/big", None).await;
    t.get("/v1/risk/rules/big").await;

    // Settlement of the completed payments.
    let run = t.post("/v1/settlements", json!({"destination_account_id": merchant})).await;
    if let Some(s) = run["data"][0]["id"].as_str() {
        t.get(&format!("/v1/settlements/{s}")).await;
    }
    t.post("/v1/settlements", json!({"destination_account_id": merchant})).await;

    // Credit scores and models.
    let applicant = json!({"age": 45, "income": 3000, "employment_years": 15, "total_debt": 0, "defaults": 0,
                           "late_payments": 0, "hard_inquiries_6m": 1});
    let score = t.post("/v1/credit-scores", applicant).await;
    t.get(&format!("/v1/credit-scores/{}", id(&score))).await;
    t.post("/v1/credit-scores", json!({"age": "old"})).await;
    t.get("/v1/risk/models").await;
    t.post("/v1/risk/models/train", json!({"name": "fraud", "type": "logistic_regression"})).await;
    t.post("/v1/risk/models/rollback", json!({})).await;

    // Webhook endpoints (an address nothing listens on; deliveries are not waited for).
    let hook = t.post("/v1/webhook-endpoints", json!({"url": "http://127.0.0.1:9/hook"})).await;
    t.get(&format!("/v1/webhook-endpoints/{}/deliveries", id(&hook))).await;
    t.post("/v1/webhook-endpoints", json!({"url": "ftp://example.com"})).await;
    t.post("/v1/webhook-endpoints", json!({"url": "http://127.0.0.1:9/hook", "events": ["payment.completed"]})).await;

    // Events and the audit trail (the refusals above counted, then flushed at a known point).
    rialto_api::refusals::flush(&t.app.server.as_ref().unwrap().state).await;
    t.get("/v1/events?type=payment.completed").await;
    t.get("/v1/events?limit=3").await;
    t.get("/v1/audit-events?action=user.update").await;
    t.get("/v1/audit/verify").await;
    t.get("/v1/ledger/verify").await;
}

async fn api_walk(app: App) {
    let mut tape = Tape::new(&app);
    walk(&mut tape).await;
    let out = tape.out.clone();
    check("api.txt", &out);
    let (s, doc) = app.get("/openapi.json").await;
    assert_eq!(s, 200);
    check("openapi.json", &(serde_json::to_string_pretty(&doc).unwrap() + "\n"));
    app.stop().await;
}

/// No timed flush of refusals during the walk: the walk flushes them itself.
fn no_timed_flush(config: &mut rialto_api::Config) {
    config.refusal_flush_interval = std::time::Duration::from_secs(3600);
}

mod every_answer_matches_its_snapshot {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        api_walk(App::start_with(Backend::Sqlite, no_timed_flush).await.unwrap()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
    async fn postgres() {
        api_walk(App::start_with(Backend::Postgres, no_timed_flush).await.unwrap()).await;
    }
}

async fn sqlite_schema(url: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' \
         ORDER BY type, name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|(kind, name, sql)| format!("-- {kind} {name}\n{};\n", sql.unwrap_or_default())).collect()
}

async fn postgres_schema(url: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let columns: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text, column_default::text \
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT indexname::text, indexdef::text FROM pg_indexes WHERE schemaname = 'public' \
         AND tablename <> '_sqlx_migrations' ORDER BY indexname",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut out = String::new();
    for (table, column, kind, nullable, default) in columns {
        let default = default.map(|d| format!(" default {d}")).unwrap_or_default();
        let null = if nullable == "YES" { "" } else { " not null" };
        out.push_str(&format!("{table}.{column} {kind}{null}{default}\n"));
    }
    for (name, def) in indexes {
        out.push_str(&format!("-- index {name}\n{def};\n"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_schema_matches_its_snapshot() {
    let app = App::start(Backend::Sqlite).await.unwrap();
    let url = app.database_url.clone();
    app.stop().await;
    check("schema-sqlite.txt", &sqlite_schema(&url).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn the_postgres_schema_matches_its_snapshot() {
    let app = App::start(Backend::Postgres).await.unwrap();
    let url = app.database_url.clone();
    app.stop().await;
    check("schema-postgres.txt", &postgres_schema(&url).await);
}

/// The two migration directories hold the same migrations, by number and name.
#[test]
fn both_backends_have_the_same_migrations() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../store/migrations");
    let names = |backend: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir.join(backend))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let (sqlite, postgres) = (names("sqlite"), names("postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "a migration exists for one backend only");
}

/// After migrating, both backends have the same tables with the same columns, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn both_backends_agree_on_tables_and_columns() {
    use sqlx::Connection;
    let sqlite_app = App::start(Backend::Sqlite).await.unwrap();
    let pg_app = App::start(Backend::Postgres).await.unwrap();
    let (sqlite_url, pg_url) = (sqlite_app.database_url.clone(), pg_app.database_url.clone());
    sqlite_app.stop().await;
    pg_app.stop().await;
    let mut lite = sqlx::SqliteConnection::connect(&sqlite_url).await.unwrap();
    let lite_columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' \
         AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations' ORDER BY m.name, p.cid",
    )
    .fetch_all(&mut lite)
    .await
    .unwrap();
    let mut pg = sqlx::PgConnection::connect(&pg_url).await.unwrap();
    let pg_columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'public' \
         AND table_name <> '_sqlx_migrations' ORDER BY table_name COLLATE \"C\", ordinal_position",
    )
    .fetch_all(&mut pg)
    .await
    .unwrap();
    assert!(lite_columns.len() > 50, "{}", lite_columns.len());
    assert_eq!(lite_columns, pg_columns);
}
