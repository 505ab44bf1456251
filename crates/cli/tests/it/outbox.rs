//! The event outbox and the hash-chained audit log, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

use crate::common::App;
use serde_json::{json, Value};

/// POST returning status, body and the `Request-Id` header.
async fn post_with_id(app: &App, path: &str, body: Value) -> (u16, Value, String) {
    let r = app.http.post(format!("{}{path}", app.base)).bearer_auth(&app.key).json(&body).send().await.unwrap();
    let id = r.headers().get("request-id").unwrap().to_str().unwrap().to_string();
    (r.status().as_u16(), r.json().await.unwrap(), id)
}

async fn events(app: &App, query: &str) -> Vec<Value> {
    let (s, v) = app.get(&format!("/v1/events?{query}")).await;
    assert_eq!(s, 200, "{v}");
    v["data"].as_array().unwrap().clone()
}

both!(every_change_publishes_one_event_in_commit_order, |app: App| async move {
    let (_, user) = app.post("/v1/users", json!({"name": "Ann"})).await;
    let funding = app.account("USD", true).await;
    let a = app.account("USD", false).await;
    let (s, t, request_id) = post_with_id(
        &app,
        "/v1/transfers",
        json!({"source_account_id": funding, "destination_account_id": a, "amount": 500, "currency": "USD"}),
    )
    .await;
    assert_eq!(s, 201);
    // A refused request publishes nothing.
    let (s, _) = app.transfer(&a, &funding, 10_000, "USD").await;
    assert_eq!(s, 422);
    let (_, p) = app
        .post("/v1/transfers", json!({"source_account_id": a, "destination_account_id": funding, "amount": 100, "currency": "USD", "pending": true}))
        .await;
    let pid = p["id"].as_str().unwrap();
    app.post(&format!("/v1/transfers/{pid}/void"), json!({})).await;
    let (_, r) = app.post(&format!("/v1/transfers/{}/reverse", t["id"].as_str().unwrap()), json!({})).await;
    app.post(&format!("/v1/accounts/{a}/freeze"), json!({})).await;

    let all = events(&app, "limit=100").await;
    let types: Vec<&str> = all.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        vec![
            "user.created",
            "account.created",
            "account.created",
            "transfer.posted",
            "transfer.pending",
            "transfer.voided",
            "transfer.reversed",
            "account.frozen",
        ]
    );
    let seqs: Vec<i64> = all.iter().map(|e| e["sequence"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>(), "gap-free, in order");
    assert_eq!(all[0]["data"]["id"], user["id"]);
    assert_eq!(all[3]["data"], t, "the event carries the resource as the API showed it");
    assert_eq!(all[3]["request_id"], json!(request_id));
    assert_eq!(all[6]["data"]["id"], r["id"]);
    assert_eq!(all[7]["data"]["status"], "frozen");

    // Following the stream with a cursor.
    let (_, page) = app.get("/v1/events?limit=3").await;
    assert_eq!(page["has_more"], true);
    assert_eq!(page["next_after"], 3);
    let rest = events(&app, "after=3&limit=100").await;
    assert_eq!(rest.len(), 5);
    assert_eq!(rest[0]["sequence"], 4);
    assert_eq!(events(&app, "type=account.created").await.len(), 2);
    assert!(events(&app, "after=8").await.is_empty());
    assert_eq!(app.get("/v1/events?after=-1").await.0, 400);
    app.stop().await;
});

both!(concurrent_changes_keep_the_event_stream_gap_free, |app: App| async move {
    let (funding, a) = app.funded("USD", 1_000).await;
    let before = events(&app, "limit=100").await.len();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..120 {
        let (c, a, f) = (app.with_key(&app.key), a.clone(), funding.clone());
        tasks.spawn(async move { c.transfer(&a, &f, 10, "USD").await.0 });
    }
    let mut ok = 0;
    while let Some(s) = tasks.join_next().await {
        if s.unwrap() == 201 {
            ok += 1;
        }
    }
    assert_eq!(ok, 100);
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let (_, page) = app.get(&format!("/v1/events?after={after}&limit=100")).await;
        seen.extend(page["data"].as_array().unwrap().iter().map(|e| e["sequence"].as_i64().unwrap()));
        after = page["next_after"].as_i64().unwrap();
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
    }
    assert_eq!(seen.len(), before + 100);
    assert_eq!(seen, (1..=seen.len() as i64).collect::<Vec<_>>());
    app.stop().await;
});

both!(every_change_and_refusal_is_audited, |app: App| async move {
    let (s, acct, request_id) = post_with_id(&app, "/v1/accounts", json!({"currency": "EUR"})).await;
    assert_eq!(s, 201);
    let id = acct["id"].as_str().unwrap();
    let admin_key_id = {
        let (_, keys) = app.get("/v1/api-keys").await;
        keys["data"][0]["id"].as_str().unwrap().to_string()
    };
    let (_, list) = app.get(&format!("/v1/audit-events?resource_id={id}")).await;
    let rec = &list["data"][0];
    assert_eq!(rec["action"], "account.create");
    assert_eq!(rec["result"], "success");
    assert_eq!(rec["actor"], json!(admin_key_id));
    assert_eq!(rec["request_id"], json!(request_id));
    assert_eq!(rec["ip"], "127.0.0.1");

    // A refusal by the ledger is audited as a failure with the reason.
    let other = app.account("USD", false).await;
    let (s, _) = app.transfer(&other, id, 5, "USD").await;
    assert_eq!(s, 422);
    let (_, failures) = app.get("/v1/audit-events?result=failure&action=transfer.create").await;
    assert_eq!(failures["data"].as_array().unwrap().len(), 1);
    assert!(failures["data"][0]["details"]["error"].as_str().unwrap().contains("currency"));

    // Security events: no key, a bad key, a role that may not.
    let r = app.http.get(format!("{}/v1/accounts", app.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = app.http.get(format!("{}/v1/accounts", app.base)).bearer_auth("rialto_nope").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let (_, reader) = app.post("/v1/api-keys", json!({"name": "r", "role": "reader"})).await;
    let reader_app = app.with_key(reader["secret"].as_str().unwrap());
    assert_eq!(reader_app.post("/v1/accounts", json!({"currency": "USD"})).await.0, 403);
    assert_eq!(reader_app.get("/v1/audit-events").await.0, 403, "the audit log is for admins");
    // Refusals are counted and written by a flush: one record per who, where and why.
    let fails = app.audit_at_least("action=auth.failure", 2).await;
    assert_eq!(fails.len(), 2, "a missing key and a bad key: {fails:?}");
    assert!(fails.iter().all(|f| f["actor"] == "anonymous" && f["details"]["count"] == 1), "{fails:?}");
    let denied = app.audit_at_least("action=auth.forbidden", 2).await;
    assert!(denied.iter().all(|d| d["actor"] == reader["id"]), "{denied:?}");
    assert!(denied.iter().any(|d| d["details"]["path"] == "/v1/audit-events"), "{denied:?}");

    // Key management is audited in the same transaction.
    let (_, created) = app.get("/v1/audit-events?action=api_key.create").await;
    assert_eq!(created["data"][0]["resource_id"], reader["id"]);
    app.post(&format!("/v1/api-keys/{}/revoke", reader["id"].as_str().unwrap()), json!({})).await;
    let (_, revoked) = app.get("/v1/audit-events?action=api_key.revoke").await;
    assert_eq!(revoked["data"].as_array().unwrap().len(), 1);

    // Filters by actor and time, and paging by sequence.
    let (_, mine) = app.get(&format!("/v1/audit-events?actor={admin_key_id}&limit=100")).await;
    assert!(mine["data"].as_array().unwrap().iter().all(|r| r["actor"] == json!(admin_key_id)));
    let (_, none) = app.get("/v1/audit-events?to=2000-01-01T00:00:00Z").await;
    assert!(none["data"].as_array().unwrap().is_empty());
    let (_, first) = app.get("/v1/audit-events?limit=2").await;
    let cursor = first["data"][1]["sequence"].as_i64().unwrap();
    let (_, next) = app.get(&format!("/v1/audit-events?limit=2&starting_after={cursor}")).await;
    assert_eq!(next["data"][0]["sequence"].as_i64().unwrap(), cursor - 1);

    let (_, v) = app.get("/v1/audit/verify").await;
    assert_eq!(v["ok"], true, "{v}");
    // Two accounts, one refused transfer, two bad keys, two refused roles, a key created and revoked.
    assert_eq!(v["records"], 9);
    app.stop().await;
});

both!(tampering_with_the_audit_log_is_detected, |app: App| async move {
    for i in 0..6 {
        app.post("/v1/accounts", json!({"currency": "USD", "name": format!("a{i}")})).await;
    }
    assert_eq!(app.get("/v1/audit/verify").await.1["ok"], true);
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let verify = || async { app.get("/v1/audit/verify").await.1 };

    // Editing a record.
    sqlx::query("UPDATE audit_events SET actor = 'someone_else' WHERE seq = 3").execute(&pool).await.unwrap();
    let v = verify().await;
    assert_eq!((v["ok"].as_bool(), v["first_broken"]["sequence"].as_i64()), (Some(false), Some(3)), "{v}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rialto"))
        .args(["audit", "verify", "--database", &app.database_url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("record 3"));

    // Recomputing that record's hash does not help: the next record names the break.
    sqlx::query("UPDATE audit_events SET hash = 'x' WHERE seq = 3").execute(&pool).await.unwrap();
    assert_eq!(verify().await["first_broken"]["sequence"], 3);

    // Deleting a record in the middle, or the newest one.
    let pool2 = pool.clone();
    sqlx::query("DELETE FROM audit_events WHERE seq >= 3 AND seq <= 3").execute(&pool2).await.unwrap();
    let v = verify().await;
    assert_eq!(v["first_broken"]["sequence"], 4, "{v}");
    assert!(v["first_broken"]["reason"].as_str().unwrap().contains("missing"));
    app.stop().await;
    pool.close().await;
});

both!(deleting_the_newest_audit_records_is_detected, |app: App| async move {
    for _ in 0..3 {
        app.post("/v1/accounts", json!({"currency": "USD"})).await;
    }
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    sqlx::query("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)")
        .execute(&pool)
        .await
        .unwrap();
    let (_, v) = app.get("/v1/audit/verify").await;
    assert_eq!(v["ok"], false, "{v}");
    assert!(v["first_broken"]["reason"].as_str().unwrap().contains("newest records are missing"));
    pool.close().await;
    app.stop().await;
});

both!(an_event_carries_the_answer_its_request_got, |app: App| async move {
    // With an Idempotency-Key the answer is rendered once, for the stored answer, and the
    // event reuses it; without one the event renders it: both must equal the answer.
    let (s, with_key, _) = app.post_idem("/v1/accounts", json!({"currency": "USD", "name": "k"}), "evt-answer-1").await;
    assert_eq!(s, 201, "{with_key}");
    let (s, without) = app.post("/v1/accounts", json!({"currency": "EUR", "name": "n"})).await;
    assert_eq!(s, 201, "{without}");
    let (_, events) = app.get("/v1/events?type=account.created").await;
    let data: Vec<&Value> = events["data"].as_array().unwrap().iter().map(|e| &e["data"]).collect();
    assert_eq!(data, [&with_key, &without], "{events}");
    app.stop().await;
});
