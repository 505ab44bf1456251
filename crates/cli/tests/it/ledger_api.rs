//! The ledger over HTTP: accounts, transfers, two-phase transfers, journal entries,
//! statements, lists. Every test runs on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)]

use crate::common::App;
use serde_json::json;

both!(transfer_moves_money_and_writes_entries, |app: App| async move {
    let (s, user) = app.post("/v1/users", json!({"name": "Ann", "email": "ann@example.com", "role": "merchant"})).await;
    assert_eq!(s, 201, "{user}");
    assert_eq!(user["kyc_status"], "pending");
    assert_eq!(user["status"], "active");
    let user_id = user["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/v1/users/{user_id}")).await.1, user);

    let funding = app.account("USD", true).await;
    let (s, acct) = app
        .post(
            "/v1/accounts",
            json!({"currency": "USD", "name": "wallet", "user_id": user_id, "metadata": {"tier": "gold"}}),
        )
        .await;
    assert_eq!(s, 201, "{acct}");
    assert_eq!(acct["user_id"], json!(user_id));
    assert_eq!(acct["metadata"]["tier"], "gold");
    let a = acct["id"].as_str().unwrap().to_string();
    let b = app.account("USD", false).await;

    let (s, t) = app.transfer(&funding, &a, 1050, "USD").await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["status"], "posted");
    assert_eq!(
        app.balance(&a).await,
        json!({"posted": 1050, "available": 1050, "pending_debits": 0, "pending_credits": 0})
    );
    assert_eq!(app.balance(&funding).await["posted"], -1050);

    let (s, t2) = app.transfer(&a, &b, 300, "USD").await;
    assert_eq!(s, 201, "{t2}");
    assert_eq!(app.balance(&a).await["posted"], 750);
    assert_eq!(app.balance(&b).await["posted"], 300);

    // Statement: newest first, each entry with the balance after it.
    let (s, entries) = app.get(&format!("/v1/accounts/{a}/entries")).await;
    assert_eq!(s, 200);
    let data = entries["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(
        (data[0]["direction"].as_str(), data[0]["amount"].as_i64(), data[0]["balance_after"].as_i64()),
        (Some("debit"), Some(300), Some(750))
    );
    assert_eq!(
        (data[1]["direction"].as_str(), data[1]["amount"].as_i64(), data[1]["balance_after"].as_i64()),
        (Some("credit"), Some(1050), Some(1050))
    );
    assert_eq!(data[0]["transfer_id"], t2["id"]);

    // Transfer lookups and the account filter.
    let (s, got) = app.get(&format!("/v1/transfers/{}", t["id"].as_str().unwrap())).await;
    assert_eq!((s, &got), (200, &t));
    let (_, list) = app.get(&format!("/v1/transfers?account_id={b}")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], t2["id"]);
    let (_, list) = app.get(&format!("/v1/accounts?user_id={user_id}")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    let v = app.verify_ok().await;
    assert_eq!(v["currencies"]["USD"], json!({"debits": 1350, "credits": 1350}));
    app.stop().await;
});

both!(minor_units_follow_the_currency, |app: App| async move {
    // JPY has no minor unit, KWD three: amounts are integers either way.
    for (currency, amount) in [("JPY", 1500), ("KWD", 1234), ("USD", 1)] {
        let (f, a) = app.funded(currency, amount).await;
        assert_eq!(app.balance(&a).await["posted"], amount);
        let (_, acct) = app.get(&format!("/v1/accounts/{f}")).await;
        assert_eq!(acct["currency"], currency);
    }
    app.verify_ok().await;
    app.stop().await;
});

both!(pending_transfers_reserve_post_and_void, |app: App| async move {
    let (_, a) = app.funded("EUR", 1000).await;
    let b = app.account("EUR", false).await;
    let pending = |amount: i64| json!({"source_account_id": a, "destination_account_id": b, "amount": amount, "currency": "EUR", "pending": true});
    let (s, p1) = app.post("/v1/transfers", pending(400)).await;
    assert_eq!(s, 201, "{p1}");
    assert_eq!(p1["status"], "pending");
    assert_eq!(
        app.balance(&a).await,
        json!({"posted": 1000, "available": 600, "pending_debits": 400, "pending_credits": 0})
    );
    assert_eq!(
        app.balance(&b).await,
        json!({"posted": 0, "available": 0, "pending_debits": 0, "pending_credits": 400})
    );

    // Reserved money cannot be spent twice.
    let (s, e) = app.post("/v1/transfers", pending(700)).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("insufficient_funds")));

    // Post less than reserved: the rest is released.
    let id1 = p1["id"].as_str().unwrap();
    let (s, e) = app.post(&format!("/v1/transfers/{id1}/post"), json!({"amount": 401})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("amount_exceeds_pending")));
    let (s, posted) = app.post(&format!("/v1/transfers/{id1}/post"), json!({"amount": 250})).await;
    assert_eq!(s, 200, "{posted}");
    assert_eq!((posted["status"].as_str(), posted["posted_amount"].as_i64()), (Some("posted"), Some(250)));
    assert_eq!(
        app.balance(&a).await,
        json!({"posted": 750, "available": 750, "pending_debits": 0, "pending_credits": 0})
    );
    assert_eq!(app.balance(&b).await["posted"], 250);
    let (s, e) = app.post(&format!("/v1/transfers/{id1}/post"), json!({})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("invalid_transfer_state")));

    // Void releases everything.
    let (_, p2) = app.post("/v1/transfers", pending(100)).await;
    let id2 = p2["id"].as_str().unwrap();
    let (s, voided) = app.post(&format!("/v1/transfers/{id2}/void"), json!({})).await;
    assert_eq!((s, voided["status"].as_str()), (200, Some("voided")));
    assert_eq!(app.balance(&a).await["available"], 750);
    let (s, _) = app.post(&format!("/v1/transfers/{id2}/post"), json!({})).await;
    assert_eq!(s, 409);

    // Expiry: voided automatically by the sweeper.
    let mut body = pending(50);
    body["expires_in_seconds"] = json!(1);
    let (s, p3) = app.post("/v1/transfers", body).await;
    assert_eq!(s, 201, "{p3}");
    assert!(p3["expires_at"].is_string());
    let id3 = p3["id"].as_str().unwrap();
    let mut status = String::new();
    for _ in 0..60 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        status = app.get(&format!("/v1/transfers/{id3}")).await.1["status"].as_str().unwrap().to_string();
        if status == "expired" {
            break;
        }
    }
    assert_eq!(status, "expired");
    assert_eq!(
        app.balance(&a).await,
        json!({"posted": 750, "available": 750, "pending_debits": 0, "pending_credits": 0})
    );
    app.verify_ok().await;
    app.stop().await;
});

both!(reversal_posts_the_compensating_transfer_once, |app: App| async move {
    let (_, a) = app.funded("USD", 500).await;
    let b = app.account("USD", false).await;
    let (_, t) = app.transfer(&a, &b, 200, "USD").await;
    let id = t["id"].as_str().unwrap();
    let (s, r) = app.post(&format!("/v1/transfers/{id}/reverse"), json!({})).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        (r["source_account_id"].as_str(), r["destination_account_id"].as_str()),
        (Some(b.as_str()), Some(a.as_str()))
    );
    assert_eq!(r["reversal_of"], json!(id));
    assert_eq!(app.get(&format!("/v1/transfers/{id}")).await.1["reversed_by"], r["id"]);
    assert_eq!(app.balance(&a).await["posted"], 500);
    assert_eq!(app.balance(&b).await["posted"], 0);
    let (s, e) = app.post(&format!("/v1/transfers/{id}/reverse"), json!({})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("already_reversed")));
    let rid = r["id"].as_str().unwrap();
    let (s, e) = app.post(&format!("/v1/transfers/{rid}/reverse"), json!({})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("invalid_reversal")));
    // Entries are never edited: the account shows four movements.
    let (_, entries) = app.get(&format!("/v1/accounts/{a}/entries")).await;
    assert_eq!(entries["data"].as_array().unwrap().len(), 3);
    app.verify_ok().await;
    app.stop().await;
});

both!(journal_entries_balance_per_currency_and_apply_atomically, |app: App| async move {
    let usd_cash = app.account("USD", true).await;
    let usd_rev = app.account("USD", false).await;
    let usd_fee = app.account("USD", false).await;
    let eur_cash = app.account("EUR", true).await;
    let eur_rev = app.account("EUR", false).await;
    let line = |a: &str, d: &str, amount: i64| json!({"account_id": a, "direction": d, "amount": amount});
    let (s, j) = app
        .post(
            "/v1/journal-entries",
            json!({"description": "split", "lines": [
                line(&usd_cash, "debit", 1000), line(&usd_rev, "credit", 970), line(&usd_fee, "credit", 30),
                line(&eur_cash, "debit", 500), line(&eur_rev, "credit", 500)]}),
        )
        .await;
    assert_eq!(s, 201, "{j}");
    assert_eq!(j["lines"].as_array().unwrap().len(), 5);
    assert_eq!(app.get(&format!("/v1/journal-entries/{}", j["id"].as_str().unwrap())).await.1["lines"], j["lines"]);
    assert_eq!(app.balance(&usd_rev).await["posted"], 970);
    assert_eq!(app.balance(&usd_fee).await["posted"], 30);
    assert_eq!(app.balance(&eur_rev).await["posted"], 500);
    let before = app.entry_count().await;

    // Unbalanced in one currency: refused whole.
    let (s, e) = app
        .post("/v1/journal-entries", json!({"lines": [line(&usd_cash, "debit", 10), line(&usd_rev, "credit", 9)]}))
        .await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("unbalanced_entry")));
    // Balanced by amount but one line would overdraw: refused whole.
    let (s, e) = app
        .post("/v1/journal-entries", json!({"lines": [line(&usd_fee, "debit", 31), line(&usd_rev, "credit", 31)]}))
        .await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("insufficient_funds")));
    // Balanced only across currencies: refused.
    let (s, _) = app
        .post("/v1/journal-entries", json!({"lines": [line(&usd_cash, "debit", 10), line(&eur_rev, "credit", 10)]}))
        .await;
    assert_eq!(s, 422);
    // Shape errors.
    let (s, e) = app.post("/v1/journal-entries", json!({"lines": [line(&usd_cash, "debit", 10)]})).await;
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("lines")));
    let many: Vec<_> = (0..51).map(|i| line(&usd_cash, if i % 2 == 0 { "debit" } else { "credit" }, 1)).collect();
    assert_eq!(app.post("/v1/journal-entries", json!({"lines": many})).await.0, 400);
    let (s, e) = app
        .post("/v1/journal-entries", json!({"lines": [line(&usd_cash, "sideways", 10), line(&usd_rev, "credit", 10)]}))
        .await;
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("lines[0].direction")));
    let (s, e) = app
        .post("/v1/journal-entries", json!({"lines": [line(&usd_cash, "debit", 0), line(&usd_rev, "credit", 0)]}))
        .await;
    assert_eq!((s, e["error"]["code"].as_str()), (400, Some("invalid_amount")));
    assert_eq!(app.entry_count().await, before);
    app.stop().await;
});

both!(frozen_and_closed_accounts_refuse_movements, |app: App| async move {
    let (funding, a) = app.funded("USD", 100).await;
    let (s, frozen) = app.post(&format!("/v1/accounts/{a}/freeze"), json!({})).await;
    assert_eq!((s, frozen["status"].as_str()), (200, Some("frozen")));
    let (s, e) = app.transfer(&a, &funding, 10, "USD").await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("account_frozen")));
    let (s, e) = app.transfer(&funding, &a, 10, "USD").await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("account_frozen")));
    assert_eq!(app.post(&format!("/v1/accounts/{a}/freeze"), json!({})).await.0, 409);
    assert_eq!(app.post(&format!("/v1/accounts/{a}/unfreeze"), json!({})).await.1["status"], "active");

    let (s, e) = app.post(&format!("/v1/accounts/{a}/close"), json!({})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("balance_not_zero")));
    assert_eq!(app.transfer(&a, &funding, 100, "USD").await.0, 201);
    let (s, closed) = app.post(&format!("/v1/accounts/{a}/close"), json!({})).await;
    assert_eq!((s, closed["status"].as_str()), (200, Some("closed")));
    let (s, e) = app.transfer(&funding, &a, 10, "USD").await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("account_closed")));
    assert_eq!(app.post(&format!("/v1/accounts/{a}/unfreeze"), json!({})).await.0, 409);
    app.verify_ok().await;
    app.stop().await;
});

both!(lists_paginate_with_cursors_and_keep_filters, |app: App| async move {
    let (funding, a) = app.funded("USD", 10_000).await;
    let b = app.account("USD", false).await;
    let mut ids = Vec::new();
    for i in 1..=7 {
        let (_, t) = app.transfer(&a, &b, i, "USD").await;
        ids.push(t["id"].as_str().unwrap().to_string());
    }
    // Noise on another pair of accounts must not leak into the filtered list.
    let c = app.account("USD", false).await;
    app.transfer(&funding, &c, 5, "USD").await;
    ids.reverse(); // newest first
    let mut seen = Vec::new();
    let mut path = format!("/v1/transfers?account_id={b}&limit=3");
    loop {
        let (s, page) = app.get(&path).await;
        assert_eq!(s, 200, "{page}");
        let data = page["data"].as_array().unwrap();
        seen.extend(data.iter().map(|t| t["id"].as_str().unwrap().to_string()));
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        path = format!(
            "/v1/transfers?account_id={b}&limit=3&starting_after={}",
            data.last().unwrap()["id"].as_str().unwrap()
        );
    }
    assert_eq!(seen, ids);
    // Backwards from the oldest.
    let (_, page) = app.get(&format!("/v1/transfers?account_id={b}&limit=2&ending_before={}", ids[6])).await;
    let back: Vec<_> = page["data"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(back, vec![ids[4].clone(), ids[5].clone()]);
    assert_eq!(page["has_more"], true);
    // Entries paginate by their own cursor.
    let (_, e1) = app.get(&format!("/v1/accounts/{b}/entries?limit=4")).await;
    let last = e1["data"][3]["id"].as_str().unwrap().to_string();
    let (_, e2) = app.get(&format!("/v1/accounts/{b}/entries?limit=4&starting_after={last}")).await;
    assert_eq!(e2["data"].as_array().unwrap().len(), 3);
    assert_eq!(e2["has_more"], false);
    assert_eq!(e2["data"][2]["balance_after"], 1);
    // Bad paging input.
    for q in [
        "limit=0",
        "limit=101",
        "limit=x",
        "starting_after=nope",
        "starting_after=tr_1&ending_before=tr_2",
        "colour=red",
    ] {
        let (s, e) = app.get(&format!("/v1/transfers?{q}")).await;
        assert_eq!((s, e["error"]["code"].as_str()), (400, Some("invalid_request")), "{q}");
    }
    let (_, d) = app.get("/v1/accounts").await;
    assert_eq!(d["data"].as_array().unwrap().len(), 4);
    app.stop().await;
});

both!(balance_at_a_point_in_time, |app: App| async move {
    let (funding, a) = app.funded("USD", 100).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let t1 = app.get(&format!("/v1/accounts/{a}")).await.1["updated_at"].as_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let between = time_now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.transfer(&funding, &a, 50, "USD").await;
    let at = |t: &str| format!("/v1/accounts/{a}/balance?at={}", t.replace('+', "%2B"));
    assert_eq!(app.get(&at("2000-01-01T00:00:00Z")).await.1["posted"], 0);
    assert_eq!(app.get(&at(&t1)).await.1["posted"], 100);
    assert_eq!(app.get(&at(&between)).await.1["posted"], 100);
    assert_eq!(app.get(&at("2999-01-01T00:00:00+02:00")).await.1["posted"], 150);
    assert_eq!(app.get(&format!("/v1/accounts/{a}/balance")).await.1["available"], 150);
    let (s, e) = app.get(&at("yesterday")).await;
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("at")));
    app.stop().await;
});

fn time_now() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let secs = now.as_secs();
    // Format as RFC 3339 UTC by hand (days since epoch to civil date).
    let days = (secs / 86_400) as i64;
    let (y, m, d) = civil(days);
    let rem = secs % 86_400;
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z", rem / 3600, rem / 60 % 60, rem % 60, now.subsec_micros())
}

fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}
