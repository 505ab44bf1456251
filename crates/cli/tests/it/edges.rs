//! Bad input, authentication, idempotency and the public endpoints. Every refused request
//! must answer a 4xx with a stable code and write nothing.
#![allow(clippy::unwrap_used)]

use crate::common::App;
use serde_json::{json, Value};

both!(bad_input_gets_a_clear_error_and_writes_nothing, |app: App| async move {
    let (funding, a) = app.funded("USD", 1000).await;
    let eur = app.account("EUR", false).await;
    let before = app.entry_count().await;
    let (_, before_list) = app.get("/v1/transfers?limit=100").await;
    let t = |extra: Value| {
        let mut body =
            json!({"source_account_id": a, "destination_account_id": funding, "amount": 10, "currency": "USD"});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body.to_string()
    };
    let cases: Vec<(&str, String, u16, &str, Option<&str>)> = vec![
        ("malformed", "{\"amount\": ".into(), 400, "invalid_request", None),
        ("not an object", "[1,2]".into(), 400, "invalid_request", None),
        ("unknown field", t(json!({"colour": "red"})), 400, "invalid_request", Some("colour")),
        ("missing amount", t(json!({"amount": null})), 400, "invalid_request", Some("amount")),
        ("missing source", t(json!({"source_account_id": null})), 400, "invalid_request", Some("source_account_id")),
        ("zero", t(json!({"amount": 0})), 400, "invalid_amount", Some("amount")),
        ("negative", t(json!({"amount": -5})), 400, "invalid_amount", Some("amount")),
        ("fraction", t(json!({"amount": 10.5})), 400, "invalid_amount", Some("amount")),
        ("string amount", t(json!({"amount": "10"})), 400, "invalid_amount", Some("amount")),
        ("over limit", t(json!({"amount": 1_000_000_000_000_001_i64})), 400, "invalid_amount", Some("amount")),
        ("huge", "{\"amount\": 123456789012345678901234567890}".into(), 400, "invalid_amount", Some("amount")),
        ("unknown currency", t(json!({"currency": "XYZ"})), 400, "invalid_currency", Some("currency")),
        ("lowercase currency", t(json!({"currency": "usd"})), 400, "invalid_currency", Some("currency")),
        ("retired currency", t(json!({"currency": "DEM"})), 400, "invalid_currency", Some("currency")),
        ("numeric currency", t(json!({"currency": 840})), 400, "invalid_currency", Some("currency")),
        (
            "same account",
            t(json!({"destination_account_id": a})),
            400,
            "invalid_request",
            Some("destination_account_id"),
        ),
        ("pending not bool", t(json!({"pending": "yes"})), 400, "invalid_request", Some("pending")),
        (
            "expiry without pending",
            t(json!({"expires_in_seconds": 10})),
            400,
            "invalid_request",
            Some("expires_in_seconds"),
        ),
        ("metadata not strings", t(json!({"metadata": {"a": 1}})), 400, "invalid_request", Some("metadata")),
        ("NUL in description", t(json!({"description": "a\u{0}b"})), 400, "invalid_request", Some("description")),
        ("NUL in metadata", t(json!({"metadata": {"k": "a\u{0}b"}})), 400, "invalid_request", Some("metadata")),
        (
            "description too long",
            t(json!({"description": "x".repeat(1001)})),
            400,
            "invalid_request",
            Some("description"),
        ),
        (
            "unknown account",
            t(json!({"destination_account_id": "acct_0000000000000000000000000000abcd"})),
            404,
            "not_found",
            None,
        ),
        (
            "malformed account id",
            t(json!({"destination_account_id": "12; DROP TABLE accounts"})),
            400,
            "invalid_id",
            Some("destination_account_id"),
        ),
        ("currency mismatch", t(json!({"destination_account_id": eur})), 422, "currency_mismatch", Some("currency")),
        ("insufficient", t(json!({"amount": 1001})), 422, "insufficient_funds", None),
    ];
    for (name, body, status, code, param) in cases {
        let (s, e) = app.post_raw("/v1/transfers", body, None).await;
        assert_eq!((s, e["error"]["code"].as_str()), (status, Some(code)), "{name}: {e}");
        if let Some(p) = param {
            assert_eq!(e["error"]["param"].as_str(), Some(p), "{name}: {e}");
        }
        assert!(e["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{name}");
        assert!(e["error"]["type"].is_string(), "{name}");
    }
    // Metadata bounds.
    let keys: serde_json::Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    let (s, _) = app.post("/v1/accounts", json!({"currency": "USD", "metadata": keys})).await;
    assert_eq!(s, 400);
    let (s, e) =
        app.post("/v1/accounts", json!({"currency": "USD", "user_id": "user_0000000000000000000000000000abcd"})).await;
    assert_eq!(
        (s, e["error"]["code"].as_str(), e["error"]["param"].as_str()),
        (404, Some("not_found"), Some("user_id"))
    );
    let (s, e) = app.post("/v1/users", json!({"name": "x", "email": "not-an-email"})).await;
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("email")));
    let (s, _) = app.post("/v1/users", json!({"name": "x", "role": "king"})).await;
    assert_eq!(s, 400);
    let (s, _) = app.post("/v1/users", json!({"email": "a@b.co"})).await;
    assert_eq!(s, 400);
    // Over 1 MiB.
    let big = format!("{{\"description\": \"{}\"}}", "x".repeat(1_100_000));
    let (s, e) = app.post_raw("/v1/transfers", big, None).await;
    assert_eq!((s, e["error"]["code"].as_str()), (413, Some("payload_too_large")));
    // Unknown things.
    assert_eq!(app.get("/v1/accounts/acct_nope").await.1["error"]["code"], "invalid_id");
    assert_eq!(app.get("/v1/accounts/acct_0000000000000000000000000000abcd").await.1["error"]["code"], "not_found");
    assert_eq!(app.get("/v1/transfers/tr_0000000000000000000000000000abcd").await.0, 404);
    assert_eq!(app.get("/v1/users/%00%ff").await.0, 400);
    assert_eq!(app.get("/v1/nothing-here").await.0, 404);
    assert_eq!(app.post("/v1/transfers/tr_0000000000000000000000000000abcd/post", json!({})).await.0, 404);
    let (s, e) = app.post("/v1/transfers/tr_0000000000000000000000000000abcd/void", json!({"x": 1})).await;
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("x")));
    let r = app.http.delete(format!("{}/v1/accounts", app.base)).bearer_auth(&app.key).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);

    assert_eq!(app.entry_count().await, before);
    assert_eq!(app.get("/v1/transfers?limit=100").await.1, before_list);
    app.stop().await;
});

both!(authentication_and_roles, |app: App| async move {
    let url = |p: &str| format!("{}{p}", app.base);
    let r = app.http.get(url("/v1/accounts")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "unauthorized");
    let r = app.http.get(url("/v1/accounts")).bearer_auth("rialto_wrong").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = app.http.get(url("/v1/accounts")).header("authorization", "Basic Zm9vOmJhcg==").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    for public in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"] {
        let r = app.http.get(url(public)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{public}");
    }

    // Keys by role, created through the API by the admin key.
    let mut keys = std::collections::HashMap::new();
    for role in ["reader", "writer"] {
        let (s, k) = app.post("/v1/api-keys", json!({"name": role, "role": role})).await;
        assert_eq!(s, 200, "{k}");
        keys.insert(role, (k["id"].as_str().unwrap().to_string(), k["secret"].as_str().unwrap().to_string()));
    }
    let reader = app.with_key(&keys["reader"].1);
    let writer = app.with_key(&keys["writer"].1);
    assert_eq!(reader.get("/v1/accounts").await.0, 200);
    let (s, e) = reader.post("/v1/accounts", json!({"currency": "USD"})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (403, Some("forbidden")));
    assert_eq!(writer.post("/v1/accounts", json!({"currency": "USD"})).await.0, 201);
    assert_eq!(writer.get("/v1/api-keys").await.0, 403);
    assert_eq!(writer.post("/v1/api-keys", json!({"name": "x", "role": "admin"})).await.0, 403);
    let (_, list) = app.get("/v1/api-keys").await;
    assert!(list.to_string().find(&keys["writer"].1).is_none(), "secrets are never listed");
    assert_eq!(list["data"].as_array().unwrap().len(), 3);

    // Revocation takes effect at once in this process.
    let (s, _) = app.post(&format!("/v1/api-keys/{}/revoke", keys["writer"].0), json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(writer.get("/v1/accounts").await.0, 401);
    assert_eq!(app.post(&format!("/v1/api-keys/{}/revoke", keys["writer"].0), json!({})).await.0, 404);

    let (_, metrics) = (0, app.http.get(url("/metrics")).send().await.unwrap().text().await.unwrap());
    assert!(metrics.contains("rialto_auth_failures_total"));
    assert!(metrics.contains("route=\"/v1/accounts\""));
    assert!(metrics.contains("rialto_ledger_batches_total"));
    app.stop().await;
});

both!(idempotent_retries_replay_and_move_money_once, |app: App| async move {
    let (funding, a) = app.funded("USD", 1000).await;
    let body = json!({"source_account_id": a, "destination_account_id": funding, "amount": 100, "currency": "USD"});
    let (s1, t1, r1) = app.post_idem("/v1/transfers", body.clone(), "order-1").await;
    assert_eq!((s1, r1), (201, false));
    // Same request again, formatted differently: the stored answer, replayed.
    let mut reordered = serde_json::Map::new();
    for k in ["currency", "amount", "destination_account_id", "source_account_id"] {
        reordered.insert(k.into(), body[k].clone());
    }
    let (s2, t2, r2) = app.post_idem("/v1/transfers", Value::Object(reordered), "order-1").await;
    assert_eq!((s2, r2), (201, true));
    assert_eq!(t1, t2);
    assert_eq!(app.balance(&a).await["posted"], 900);
    // Same key, different request.
    let mut other = body.clone();
    other["amount"] = json!(101);
    let (s, e, _) = app.post_idem("/v1/transfers", other, "order-1").await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("idempotency_key_reused")));
    let (s, _, _) = app.post_idem("/v1/accounts", json!({"currency": "USD"}), "order-1").await;
    assert_eq!(s, 422);
    // A ledger refusal is stored too: the retry gets the same refusal even after funds arrive.
    let mut too_much = body.clone();
    too_much["amount"] = json!(5000);
    let (s, e1, _) = app.post_idem("/v1/transfers", too_much.clone(), "order-2").await;
    assert_eq!(s, 422);
    app.transfer(&funding, &a, 10_000, "USD").await;
    let (s, e2, replayed) = app.post_idem("/v1/transfers", too_much, "order-2").await;
    assert_eq!((s, replayed), (422, true));
    assert_eq!(e1, e2);
    // Validation failures are not stored: fixing the request with the same key works.
    let (s, _, _) = app.post_idem("/v1/transfers", json!({"amount": 0}), "order-3").await;
    assert_eq!(s, 400);
    let (s, _, replayed) = app.post_idem("/v1/transfers", body.clone(), "order-3").await;
    assert_eq!((s, replayed), (201, false));
    // Keys are scoped to the API key.
    let (_, k) = app.post("/v1/api-keys", json!({"name": "w", "role": "writer"})).await;
    let other_client = app.with_key(k["secret"].as_str().unwrap());
    let (s, _, replayed) = other_client.post_idem("/v1/transfers", body.clone(), "order-1").await;
    assert_eq!((s, replayed), (201, false));
    // Bad keys.
    let (s, e, _) = app.post_idem("/v1/transfers", body.clone(), &"k".repeat(256)).await;
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("Idempotency-Key")));
    // Actions are idempotent too.
    let mut p = body.clone();
    p["pending"] = json!(true);
    let (_, pending, _) = app.post_idem("/v1/transfers", p, "order-4").await;
    let path = format!("/v1/transfers/{}/post", pending["id"].as_str().unwrap());
    let (s, first, _) = app.post_idem(&path, json!({}), "post-4").await;
    let (s2, again, replayed) = app.post_idem(&path, json!({}), "post-4").await;
    assert_eq!((s, s2, replayed), (200, 200, true));
    assert_eq!(first, again);
    app.verify_ok().await;
    app.stop().await;
});

both!(concurrent_retries_with_one_key_move_money_once, |app: App| async move {
    let (funding, a) = app.funded("USD", 1000).await;
    let body = json!({"source_account_id": a, "destination_account_id": funding, "amount": 7, "currency": "USD"});
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let (client, body) = (app.with_key(&app.key), body.clone());
        tasks.spawn(async move { client.post_idem("/v1/transfers", body, "same-key").await });
    }
    let (mut created, mut replayed, mut in_use) = (0, 0, 0);
    let mut ids = std::collections::HashSet::new();
    while let Some(r) = tasks.join_next().await {
        let (s, v, rep) = r.unwrap();
        match (s, rep) {
            (201, false) => created += 1,
            (201, true) => replayed += 1,
            (409, _) => {
                assert_eq!(v["error"]["code"], "idempotency_key_in_use");
                in_use += 1;
                continue;
            }
            other => panic!("unexpected {other:?}: {v}"),
        }
        ids.insert(v["id"].as_str().unwrap().to_string());
    }
    assert_eq!(created, 1, "replayed {replayed}, in use {in_use}");
    assert_eq!(ids.len(), 1);
    assert_eq!(app.balance(&a).await["posted"], 993);
    app.stop().await;
});

both!(every_route_is_documented, |app: App| async move {
    let (s, spec) =
        (200, app.http.get(format!("{}/openapi.json", app.base)).send().await.unwrap().json::<Value>().await.unwrap());
    assert_eq!(s, 200);
    assert_eq!(spec["openapi"], "3.1.0");
    let documented = rialto_api::docs::documented();
    assert!(documented.len() >= 25);
    // Every /v1 operation names its permission; the public ones need none.
    for o in rialto_api::operations() {
        assert_eq!(o.permission.is_some(), o.path.starts_with("/v1/"), "{} {}", o.verb.as_str(), o.path);
        let described = &spec["paths"][o.path][o.verb.as_str()];
        if let Some(p) = o.permission {
            assert!(
                described["description"].as_str().unwrap_or("").contains(p.as_str()),
                "{} {}",
                o.verb.as_str(),
                o.path
            );
        }
    }
    for (method, path) in documented {
        assert!(spec["paths"][path][method].is_object(), "{method} {path}");
        let concrete = path.replace("{id}", "x").replace("{name}", "x").replace("{value}", "x");
        let req = app.http.request(method.to_uppercase().parse().unwrap(), format!("{}{concrete}", app.base));
        let r = req.bearer_auth(&app.key).header("content-type", "application/json").body("{}").send().await.unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        assert!(!body.contains("no such route") && status != 405, "{method} {path} is not routed: {status} {body}");
    }
    app.stop().await;
});

// Every request schema carries an example, and the server accepts it as it is written: it
// parses and passes every check of the edge (unknown fields, types, required fields, id shapes),
// so an answer is about the state (404 for the example's ids, 409, 422), never 400. And each
// required field the document names is one the server requires.
both!(every_request_example_is_accepted_and_required_fields_are_required, |app: App| async move {
    let spec = app.http.get(format!("{}/openapi.json", app.base)).send().await.unwrap().json::<Value>().await.unwrap();
    let schemas = &spec["components"]["schemas"];
    let mut tried = 0;
    for o in rialto_api::operations().filter(|o| o.request.is_some()) {
        let (method, path) = (o.verb.as_str(), o.path);
        let name = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: no request schema"))
            .trim_start_matches("#/components/schemas/");
        let schema = &schemas[name];
        // Rule documents are checked as a whole (docs/RISK_RULES.md), not by field names.
        if name == "RuleDocument" {
            continue;
        }
        let example = schema
            .get("example")
            .or_else(|| schema["examples"].get(0))
            .unwrap_or_else(|| panic!("{name} has no example"))
            .clone();
        let concrete = path
            .replace("{id}", "user_0190f0a0b0c07d8e9fa0b1c2d3e4f5ff")
            .replace("{name}", "blocked_ips")
            .replace("{source}", "un")
            .replace("{value}", "x");
        let concrete = match path.split('/').nth(2) {
            Some("accounts") => concrete.replace("user_", "acct_"),
            Some("transfers") => concrete.replace("user_", "tr_"),
            Some("payments") => concrete.replace("user_", "pay_"),
            Some("webhook-endpoints") => concrete.replace("user_", "we_"),
            Some("kyc") => concrete.replace("user_", "kyd_"),
            Some("compliance") => concrete.replace("user_", "cas_"),
            Some("reconciliation") if path.contains("/accounts/") => concrete.replace("user_", "acct_"),
            Some("reconciliation") if path.contains("/matches/") => concrete.replace("user_", "rcm_"),
            Some("risk") if path.contains("/models/") => concrete.replace("user_", "mdl_"),
            Some("risk") if path.contains("/lists/") => {
                concrete.replace("user_0190f0a0b0c07d8e9fa0b1c2d3e4f5ff", "blocked_ips")
            }
            _ => concrete,
        };
        let send = |body: &Value| {
            app.http
                .request(method.to_uppercase().parse().unwrap(), format!("{}{concrete}", app.base))
                .bearer_auth(&app.key)
                .json(body)
                .send()
        };
        let r = send(&example).await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert!(
            status < 500 && status != 400 && status != 415,
            "{method} {path} refused its example {example}: {status} {text}"
        );
        // An accepted example answers the status the description documents.
        if status < 300 {
            assert_eq!(status, o.status, "{method} {path} answered {status}, documented {}: {text}", o.status);
        }
        tried += 1;
        for field in schema["required"].as_array().into_iter().flatten() {
            let field = field.as_str().unwrap();
            let mut without = example.clone();
            without.as_object_mut().unwrap().remove(field);
            let r = send(&without).await.unwrap();
            let (status, body) = (r.status().as_u16(), r.json::<Value>().await.unwrap());
            assert_eq!(status, 400, "{method} {path} without `{field}`: {body}");
            assert_eq!(body["error"]["param"], field, "{method} {path} without `{field}`: {body}");
        }
    }
    assert!(tried >= 20, "{tried}");
    app.stop().await;
});
