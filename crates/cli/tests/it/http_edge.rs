//! The HTTP edge as an attacker meets it: bounded metrics labels, NUL and malformed ids in paths
//! and queries, one error shape for every refusal, strict JSON and media types, cut echoes and
//! the hardening headers.
#![allow(clippy::unwrap_used)]

use crate::common::App;
use serde_json::{json, Value};

async fn send(app: &App, method: &str, path: &str) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let r = app.http.request(method, format!("{}{path}", app.base)).bearer_auth(&app.key).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn assert_error(what: &str, got: &(u16, Value), status: u16, code: &str) {
    assert_eq!((got.0, got.1["error"]["code"].as_str()), (status, Some(code)), "{what}: {}", got.1);
    assert!(got.1["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {}", got.1);
}

both!(metrics_labels_stay_bounded_whatever_clients_send, |app: App| async move {
    for i in 0..50 {
        let invented = format!("X{i}{}", "Q".repeat(4000));
        let (status, _) = send(&app, &invented, "/v1/accounts").await;
        assert!((400..500).contains(&status), "an invented method is refused: {status}");
        send(&app, "GET", &format!("/v1/no-such-route-{i}")).await;
    }
    let metrics = app.http.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("QQQQ"), "an invented method became a label");
    assert!(!metrics.contains("no-such-route"), "an unknown path became a label");
    assert!(metrics.contains("method=\"other\""), "invented methods are counted as `other`");
    assert!(metrics.len() < 100_000, "/metrics grew to {} bytes", metrics.len());
    app.stop().await;
});

both!(nul_and_malformed_ids_are_refused_at_the_edge, |app: App| async move {
    let (_, a) = app.funded("USD", 1000).await;
    let before = app.entry_count().await;
    let reads = [
        "/v1/users/%00",
        "/v1/accounts/%00",
        "/v1/accounts/%00/entries",
        "/v1/accounts/%00/balance?at=2026-01-01T00:00:00Z",
        "/v1/transfers/%00",
        "/v1/payments/%00",
        "/v1/risk/rules/%00",
        "/v1/risk/models/%00",
        "/v1/risk/lists/%00",
        "/v1/users/%00/risk",
        "/v1/credit-scores/%00",
        "/v1/settlements/%00",
        "/v1/journal-entries/%00",
        "/v1/webhook-endpoints/%00/deliveries",
        "/v1/risk/assessments/%00",
        "/v1/transfers?account_id=%00",
        "/v1/accounts?user_id=%00",
        "/v1/payments?user_id=%00",
        "/v1/payments?account_id=a%00b",
        "/v1/reviews?user_id=%00",
        "/v1/events?type=%00",
        "/v1/audit-events?resource_id=%00",
        "/v1/transfers?starting_after=%00",
    ];
    for path in reads {
        assert_error(path, &send(&app, "GET", path).await, 400, "invalid_request");
    }
    let shapes = [
        "/v1/transfers?account_id=bob",
        "/v1/accounts?user_id=acct_0000000000000000000000000000abcd",
        "/v1/payments?account_id=x",
        "/v1/accounts/bob",
        "/v1/payments/pay_XYZ",
    ];
    for path in shapes {
        assert_error(path, &send(&app, "GET", path).await, 400, "invalid_id");
    }
    let writes = [
        ("DELETE", "/v1/risk/rules/%00"),
        ("DELETE", "/v1/risk/lists/x/items/%00"),
        ("DELETE", "/v1/risk/lists/%00/items/x"),
        ("POST", "/v1/api-keys/%00/revoke"),
        ("POST", "/v1/accounts/%00/freeze"),
        ("POST", "/v1/transfers/%00/void"),
        ("POST", "/v1/payments/%00/approve"),
        ("POST", "/v1/risk/models/%00/deploy"),
    ];
    for (method, path) in writes {
        assert_error(path, &send(&app, method, path).await, 400, "invalid_request");
    }
    assert_error("a key of the wrong shape", &send(&app, "POST", "/v1/api-keys/nope/revoke").await, 400, "invalid_id");
    let (s, e) = send(&app, "GET", &format!("/v1/accounts/{a}")).await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(app.entry_count().await, before);
    app.stop().await;
});

both!(every_refusal_has_the_error_shape_and_cuts_what_it_echoes, |app: App| async move {
    let (funding, a) = app.funded("USD", 1000).await;
    let before = app.entry_count().await;
    assert_error(
        "bad UTF-8 in a path",
        &send(&app, "DELETE", "/v1/risk/lists/x/items/%FF").await,
        400,
        "invalid_request",
    );
    assert_error("bad UTF-8 in a path", &send(&app, "GET", "/v1/users/%FF%FE").await, 400, "invalid_request");

    // Oversized headers: a 431 with a body.
    let r = app
        .http
        .get(format!("{}/v1/accounts", app.base))
        .bearer_auth(&app.key)
        .header("x-padding", "p".repeat(40_000))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_error("huge header", &(status, r.json().await.unwrap_or(Value::Null)), 431, "headers_too_large");

    // Duplicate keys: refused, nothing moves (the last value would have won).
    let body = format!(
        r#"{{"source_account_id":"{a}","destination_account_id":"{funding}","currency":"USD","amount":1,"amount":7}}"#
    );
    let got = app.post_raw("/v1/transfers", body, None).await;
    assert_error("duplicate key", &got, 400, "invalid_request");
    assert!(got.1["error"]["message"].as_str().unwrap().contains("amount"), "{}", got.1);
    let nested = r#"{"currency":"USD","metadata":{"k":"a","k":"b"}}"#.to_string();
    assert_error("nested duplicate", &app.post_raw("/v1/accounts", nested, None).await, 400, "invalid_request");

    // Only JSON bodies.
    let good = json!({"source_account_id": a, "destination_account_id": funding, "amount": 5, "currency": "USD"});
    for media in ["text/plain", "application/xml", "application/x-www-form-urlencoded"] {
        let got = app.post_raw("/v1/transfers", good.to_string(), Some(media)).await;
        assert_error(media, &got, 415, "unsupported_media_type");
    }
    let r = app.http.post(format!("{}/v1/transfers", app.base)).bearer_auth(&app.key).body(good.to_string());
    let r = r.send().await.unwrap();
    assert_eq!(r.status().as_u16(), 415, "a body without a media type");
    let got = app.post_raw("/v1/transfers", good.to_string(), Some("application/json; charset=utf-8")).await;
    assert_eq!(got.0, 201, "{}", got.1);

    // Echoes are cut.
    let long = "z".repeat(3000);
    for path in
        [format!("/v1/accounts/{long}"), format!("/v1/accounts?{long}=1"), format!("/v1/risk/rules/{}", &long[..200])]
    {
        let (s, e) = send(&app, "GET", &path).await;
        assert!((400..500).contains(&s), "{path}: {s}");
        assert!(e.to_string().len() < 600, "the error echoes too much: {e}");
    }
    let got = app.post("/v1/accounts", json!({"currency": "USD", long.clone(): 1})).await;
    assert_error("long unknown field", &got, 400, "invalid_request");
    assert!(got.1.to_string().len() < 600, "{}", got.1);
    assert_eq!(app.entry_count().await, before + 2, "only the one good transfer moved money");
    app.stop().await;
});

both!(answers_carry_the_hardening_headers, |app: App| async move {
    let r = app.http.get(format!("{}/v1/accounts", app.base)).bearer_auth(&app.key).send().await.unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let r = app.http.get(format!("{}/v1/accounts", app.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let r = app.http.get(format!("{}/docs", app.base)).send().await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{csp}");
    let page = r.text().await.unwrap();
    assert!(!page.contains("onclick") && page.contains("/docs/app.js"), "the page runs no inline script");
    let r = app.http.get(format!("{}/docs/app.js", app.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    app.stop().await;
});

both!(every_list_pages_and_refuses_bad_limits, |app: App| async move {
    for i in 0..3 {
        let rule = json!({"id": format!("r{i}"), "name": "n", "weight": 10,
            "condition": {"field": "amount", "op": "gt", "value": 1_000_000 + i}});
        let (s, e) = app.post("/v1/risk/rules", rule).await;
        assert_eq!(s, 201, "{e}");
        let (s, e) = app.post("/v1/api-keys", json!({"name": format!("k{i}"), "role": "reader"})).await;
        assert_eq!(s, 200, "{e}");
    }
    for list in ["/v1/risk/rules", "/v1/api-keys", "/v1/risk/models"] {
        for bad in ["-1", "0", "101", "x", "1.5"] {
            let got = send(&app, "GET", &format!("{list}?limit={bad}")).await;
            assert_error(&format!("{list}?limit={bad}"), &got, 400, "invalid_request");
        }
        assert_error(list, &send(&app, "GET", &format!("{list}?colour=red")).await, 400, "invalid_request");
        assert_error(list, &send(&app, "GET", &format!("{list}?starting_after=%25")).await, 400, "invalid_request");
        let (s, v) = app.get(list).await;
        assert_eq!((s, v["object"].as_str()), (200, Some("list")), "{list}: {v}");
    }
    // Three rules, and the admin key with three more keys: two pages of two.
    for (list, total) in [("/v1/risk/rules", 3), ("/v1/api-keys", 4)] {
        let (_, first) = app.get(&format!("{list}?limit=2")).await;
        assert_eq!((first["data"].as_array().unwrap().len(), first["has_more"].as_bool()), (2, Some(true)), "{first}");
        let last = first["data"][1]["id"].as_str().unwrap();
        let (_, rest) = app.get(&format!("{list}?limit=2&starting_after={last}")).await;
        let rest = rest["data"].as_array().unwrap();
        assert_eq!(rest.len(), total - 2, "{list}");
        let mut seen: Vec<&str> =
            first["data"].as_array().unwrap().iter().chain(rest).map(|r| r["id"].as_str().unwrap()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), total, "{list}: pages overlap");
        let (_, back) = app.get(&format!("{list}?limit=2&ending_before={}", rest[0]["id"].as_str().unwrap())).await;
        assert_eq!(back["data"], first["data"], "{list}: ending_before returns the page before");
    }
    app.stop().await;
});

both!(a_flood_of_bad_keys_is_throttled_and_audited_in_a_few_records, |app: App| async move {
    assert_eq!(app.get("/v1/accounts").await.0, 200, "the good key is known before the flood");
    let flood = 300;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..flood {
        let (http, url) = (app.http.clone(), format!("{}/v1/accounts", app.base));
        tasks.spawn(async move {
            let r = http.get(url).bearer_auth(format!("rialto_bad_{i:04}_{}", "f".repeat(40))).send().await.unwrap();
            let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            (status, body["error"]["code"].as_str().unwrap_or_default().to_string(), retry)
        });
    }
    let answers = tasks.join_all().await;
    let unauthorized = answers.iter().filter(|(s, _, _)| *s == 401).count();
    let throttled: Vec<_> = answers.iter().filter(|(s, _, _)| *s == 429).collect();
    assert_eq!(unauthorized + throttled.len(), flood, "only 401 and 429");
    assert!(unauthorized <= 20, "{unauthorized} failures before the throttle; at most 20 per window");
    assert!(
        throttled
            .iter()
            .all(|(_, code, retry)| code == "too_many_auth_failures" && retry.is_some_and(|r| (1..=10).contains(&r))),
        "429s name their code and carry Retry-After"
    );
    // A good key is still served from this address while bad keys are throttled.
    assert_eq!(app.get("/v1/accounts").await.0, 200);
    // Every refusal is audited, in a handful of records that carry their counts.
    let counted = |rows: &[Value]| rows.iter().map(|r| r["details"]["count"].as_u64().unwrap()).sum::<u64>();
    let mut rows = Vec::new();
    for _ in 0..100 {
        let failures = app.audit_at_least("action=auth.failure", 1).await;
        let throttles = app.audit_at_least("action=auth.throttled", 1).await;
        rows = failures.into_iter().chain(throttles).collect();
        if counted(&rows) == flood as u64 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(counted(&rows), flood as u64, "every refusal is counted: {rows:?}");
    assert!(rows.len() <= 12, "{} audit records for {flood} refusals", rows.len());
    app.stop().await;
});

fn limits(config: &mut rialto_api::Config) {
    let limits = rialto_payments::Limits { review_above_minor: 5_000, settlement_fee_bps: 100, ..Default::default() };
    config.policies = std::sync::Arc::new((*config.policies).clone().with_limits(limits));
}

async fn the_configuration_is_shown_to_admins_and_applies(app: App) {
    let (s, c) = app.get("/v1/config").await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["limits"]["review_above_minor"], 5_000);
    assert_eq!(c["limits"]["settlement_fee_bps"], 100);
    assert_eq!(c["limits"]["kyc_required_above_minor"], 100_000, "the defaults are shown too");
    assert!(c["server"]["max_connections"].as_u64().is_some_and(|n| n > 0), "{c}");
    let text = c.to_string();
    assert!(!text.contains(crate::common::ADMIN_KEY) && !text.contains("postgres://") && !text.contains("sqlite://"));
    let (_, reader) = app.post("/v1/api-keys", json!({"name": "r", "role": "reader"})).await;
    assert_eq!(app.with_key(reader["secret"].as_str().unwrap()).get("/v1/config").await.0, 403);
    // The configured review threshold decides.
    let (s, user) = app.post("/v1/users", json!({"name": "u"})).await;
    assert_eq!(s, 201, "{user}");
    let (funding, a) = app.funded("USD", 100_000).await;
    let pay = |amount: i64| {
        json!({"user_id": user["id"], "source_account_id": a, "destination_account_id": funding, "amount": amount,
               "currency": "USD", "method": "card"})
    };
    assert_eq!(app.post("/v1/payments", pay(5_000)).await.1["status"], "completed");
    assert_eq!(app.post("/v1/payments", pay(5_001)).await.1["status"], "requires_review");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configuration_is_shown_to_admins_and_applies_sqlite() {
    let app = App::start_with(crate::common::Backend::Sqlite, limits).await.unwrap();
    the_configuration_is_shown_to_admins_and_applies(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn the_configuration_is_shown_to_admins_and_applies_postgres() {
    let app = App::start_with(crate::common::Backend::Postgres, limits).await.unwrap();
    the_configuration_is_shown_to_admins_and_applies(app).await;
}

both!(a_refused_rule_reports_every_problem_at_once, |app: App| async move {
    let doc = json!({"id": "r1", "name": 7, "weight": 500, "condition": {"field": "amount", "op": "gtt", "value": 1},
                     "actions": [{"type": "explode"}]});
    let (s, e) = app.post("/v1/risk/rules", doc).await;
    assert_eq!((s, e["error"]["code"].as_str()), (400, Some("invalid_rule")), "{e}");
    let params: Vec<&str> =
        e["error"]["problems"].as_array().unwrap().iter().map(|p| p["param"].as_str().unwrap()).collect();
    assert_eq!(params, ["$.name", "$.weight", "$.condition.op", "$.actions[0].type"], "{e}");
    assert_eq!(e["error"]["param"], "$.name");
    let backtest = json!({"from": "2026-01-01T00:00:00Z", "rules": [{"id": "ok", "name": "n", "weight": 1,
        "condition": {"field": "amount", "op": "gt", "value": 1}}, {"id": "x", "weight": -1}]});
    let (s, e) = app.post("/v1/risk/rules/backtest", backtest).await;
    assert_eq!(s, 400, "{e}");
    let params: Vec<&str> =
        e["error"]["problems"].as_array().unwrap().iter().map(|p| p["param"].as_str().unwrap()).collect();
    assert_eq!(params, ["$.rules[1].name", "$.rules[1].weight", "$.rules[1].condition"], "{e}");
    assert!(app.get("/v1/risk/rules").await.1["data"].as_array().unwrap().is_empty(), "nothing stored");
    app.stop().await;
});
