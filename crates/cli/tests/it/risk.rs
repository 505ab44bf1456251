//! Risk rules as data over HTTP: validation with paths, versions, audit, roles.
#![allow(clippy::unwrap_used)]

use crate::common::App;
use serde_json::json;

both!(rules_are_validated_versioned_and_audited, |app: App| async move {
    let rule = json!({"id": "big_abroad", "name": "Big payment abroad", "priority": 10, "weight": 40,
        "condition": {"all": [{"field": "amount", "op": "gt", "value": 100000},
                              {"field": "country", "op": "not_in", "value": ["DE", "FR"]}]},
        "actions": [{"type": "review"}]});
    let (s, r) = app.post("/v1/risk/rules", rule.clone()).await;
    assert_eq!((s, r["version"].as_i64()), (201, Some(1)), "{r}");
    assert_eq!(r["document"], rule);
    let (s, e) = app.post("/v1/risk/rules", rule.clone()).await;
    assert_eq!((s, e["error"]["code"].as_str()), (409, Some("rule_exists")));

    // A malformed or contradictory rule is refused with the path of the problem.
    let mut bad = rule.clone();
    bad["condition"]["all"][1]["op"] = json!("nope");
    let (s, e) = app.post("/v1/risk/rules", bad).await;
    assert_eq!(
        (s, e["error"]["code"].as_str(), e["error"]["param"].as_str()),
        (400, Some("invalid_rule"), Some("$.condition.all[1].op"))
    );
    let mut contradictory = rule.clone();
    contradictory["id"] = json!("never");
    contradictory["condition"]["all"][1] = json!({"field": "amount", "op": "lt", "value": 10});
    let (s, e) = app.post("/v1/risk/rules", contradictory).await;
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("$.condition.all[1]")));

    // Replace: a new version; the id comes from the path.
    let mut v2 = rule.clone();
    v2.as_object_mut().unwrap().remove("id");
    v2["weight"] = json!(50);
    let (s, r) = app
        .http
        .put(format!("{}/v1/risk/rules/big_abroad", app.base))
        .bearer_auth(&app.key)
        .json(&v2)
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    let r: serde_json::Value = r.json().await.unwrap();
    assert_eq!((s, r["version"].as_i64(), r["document"]["weight"].as_i64()), (200, Some(2), Some(50)), "{r}");
    let (_, got) = app.get("/v1/risk/rules/big_abroad").await;
    assert_eq!(got["versions"].as_array().unwrap().len(), 2);
    assert_eq!(got["versions"][0]["document"]["weight"], 40);

    // A writer may read but not change rules.
    let (_, k) = app.post("/v1/api-keys", json!({"name": "w", "role": "writer"})).await;
    let writer = app.with_key(k["secret"].as_str().unwrap());
    assert_eq!(writer.get("/v1/risk/rules").await.0, 200);
    let mut other = rule.clone();
    other["id"] = json!("other");
    assert_eq!(writer.post("/v1/risk/rules", other).await.0, 403);

    // Delete keeps the history.
    let r =
        app.http.delete(format!("{}/v1/risk/rules/big_abroad", app.base)).bearer_auth(&app.key).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(app.get("/v1/risk/rules").await.1["data"].as_array().unwrap().is_empty());
    let (_, got) = app.get("/v1/risk/rules/big_abroad").await;
    assert_eq!((got["deleted"].as_bool(), got["versions"].as_array().unwrap().len()), (Some(true), 3));
    let r =
        app.http.delete(format!("{}/v1/risk/rules/big_abroad", app.base)).bearer_auth(&app.key).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);

    let (_, audit) = app.get("/v1/audit-events?resource_id=big_abroad&limit=100").await;
    let actions: Vec<&str> = audit["data"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["risk_rule.delete", "risk_rule.delete", "risk_rule.update", "risk_rule.create", "risk_rule.create"]
    );
    app.stop().await;
});

both!(rules_decide_payments_and_explain_themselves, |app: App| async move {
    let (_, u) = app.post("/v1/users", json!({"name": "Payer"})).await;
    let user = u["id"].as_str().unwrap().to_string();
    let (_, wallet) = app.funded("USD", 1_000_000).await;
    let merchant = app.account("USD", false).await;
    let pay = |amount: i64, device: &str| {
        json!({"user_id": user, "source_account_id": wallet, "destination_account_id": merchant, "amount": amount,
               "currency": "USD", "device_id": device, "location": {"country": "DE"}})
    };
    // Without rules, payments carry no rule assessment.
    let (_, p0) = app.post("/v1/payments", pay(100, "d1")).await;
    assert_eq!((p0["status"].as_str(), p0["risk_assessment_id"].is_null()), (Some("completed"), true));

    app.post(
        "/v1/risk/rules",
        json!({"id": "mid_amount", "name": "mid amount", "priority": 1, "weight": 35,
        "condition": {"field": "amount", "op": "gte", "value": 5000}}),
    )
    .await;
    app.post(
        "/v1/risk/rules",
        json!({"id": "device_burst", "name": "device burst", "priority": 2,
        "condition": {"aggregate": {"fn": "count", "key": "device", "window_seconds": 3600}, "op": "gte", "value": 2},
        "actions": [{"type": "reject"}]}),
    )
    .await;

    // Score 0: approved, with an assessment that explains it.
    let (_, p1) = app.post("/v1/payments", pay(100, "d2")).await;
    assert_eq!(p1["status"], "completed", "{p1}");
    let (_, a1) = app.get(&format!("/v1/risk/assessments/{}", p1["risk_assessment_id"].as_str().unwrap())).await;
    assert_eq!(
        (a1["score"].as_i64(), a1["level"].as_str(), a1["decision"].as_str()),
        (Some(0), Some("low"), Some("approve"))
    );
    // Score 35 (medium): held for review, and the assessment names the rule.
    let (_, p2) = app.post("/v1/payments", pay(6000, "d3")).await;
    assert_eq!(p2["status"], "requires_review", "{p2}");
    let (_, a2) = app.get(&format!("/v1/risk/assessments/{}", p2["risk_assessment_id"].as_str().unwrap())).await;
    assert_eq!((a2["score"].as_i64(), a2["level"].as_str()), (Some(35), Some("medium")));
    assert_eq!(a2["rules"][0]["rule_id"], "mid_amount");
    // Device d1 already paid twice (p0, then this one's predecessor): the aggregate rule rejects.
    let (_, p3) = app.post("/v1/payments", pay(100, "d1")).await;
    assert_eq!(p3["status"], "completed", "one earlier payment on d1: {p3}");
    let (_, p4) = app.post("/v1/payments", pay(100, "d1")).await;
    assert_eq!((p4["status"].as_str(), p4["failure_code"].as_str()), (Some("failed"), Some("risk_rejected")), "{p4}");
    assert!(p4["failure_reason"].as_str().unwrap().contains("device_burst"));
    // The user's risk: the latest score first, every assessment in the history.
    let (_, risk) = app.get(&format!("/v1/users/{user}/risk")).await;
    assert_eq!(risk["history"].as_array().unwrap().len(), 4, "{risk}");
    assert_eq!(risk["history"][0]["payment_id"], p4["id"]);
    assert_eq!(risk["current"]["level"], "low");
    assert_eq!(app.get("/v1/users/user_0000000000000000000000000000abcd/risk").await.0, 404);
    // Rules take effect without a restart: delete the burst rule and d1 pays again.
    app.http.delete(format!("{}/v1/risk/rules/device_burst", app.base)).bearer_auth(&app.key).send().await.unwrap();
    assert_eq!(app.post("/v1/payments", pay(100, "d1")).await.1["status"], "completed");
    app.verify_ok().await;
    app.stop().await;
});

both!(named_lists_feed_in_list_conditions, |app: App| async move {
    let (_, u) = app.post("/v1/users", json!({"name": "Payer"})).await;
    let (_, wallet) = app.funded("USD", 100_000).await;
    let merchant = app.account("USD", false).await;
    let pay = |device: &str| {
        json!({"user_id": u["id"], "source_account_id": wallet, "destination_account_id": merchant, "amount": 100,
               "currency": "USD", "device_id": device})
    };
    let (s, r) = app
        .post(
            "/v1/risk/rules",
            json!({"id": "blocked_device", "name": "blocked device", "priority": 0,
        "condition": {"field": "device_id", "in_list": "blocked_devices"}, "actions": [{"type": "block"}]}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(app.post("/v1/payments", pay("bad-1")).await.1["status"], "completed");
    let (s, item) = app.post("/v1/risk/lists/blocked_devices/items", json!({"value": "bad-1"})).await;
    assert_eq!((s, item["on_list"].as_bool()), (200, Some(true)), "{item}");
    let (_, list) = app.get("/v1/risk/lists/blocked_devices").await;
    assert_eq!(list["values"], json!(["bad-1"]));
    let (_, p) = app.post("/v1/payments", pay("bad-1")).await;
    assert_eq!((p["status"].as_str(), p["failure_code"].as_str()), (Some("failed"), Some("risk_blocked")), "{p}");
    assert_eq!(app.post("/v1/payments", pay("good-1")).await.1["status"], "completed");
    let r = app
        .http
        .delete(format!("{}/v1/risk/lists/blocked_devices/items/bad-1", app.base))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(app.post("/v1/payments", pay("bad-1")).await.1["status"], "completed");
    assert_eq!(app.post("/v1/risk/lists/bad%20name/items", json!({"value": "x"})).await.0, 400);
    let (_, audit) = app.get("/v1/audit-events?resource_id=blocked_devices").await;
    let actions: Vec<&str> = audit["data"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["risk_list.remove", "risk_list.add"]);
    assert_eq!(audit["data"][1]["details"]["value"], "bad-1");
    app.verify_ok().await;
    app.stop().await;
});

both!(review_queue_round_trip_with_labels, |app: App| async move {
    let (_, u) = app.post("/v1/users", json!({"name": "Payer"})).await;
    let user = u["id"].as_str().unwrap().to_string();
    let (_, wallet) = app.funded("USD", 1_000_000).await;
    let merchant = app.account("USD", false).await;
    let pay = |amount: i64| {
        json!({"user_id": user, "source_account_id": wallet, "destination_account_id": merchant, "amount": amount,
               "currency": "USD"})
    };
    app.post(
        "/v1/risk/rules",
        json!({"id": "big", "name": "big", "priority": 1,
        "condition": {"field": "amount", "op": "gte", "value": 5000}, "actions": [{"type": "review"}]}),
    )
    .await;
    let mut held = Vec::new();
    for amount in [5000, 100, 7000, 9000] {
        let (_, p) = app.post("/v1/payments", pay(amount)).await;
        if amount >= 5000 {
            assert_eq!(p["status"], "requires_review", "{p}");
            held.push(p["id"].as_str().unwrap().to_string());
        }
    }
    // Oldest first, filters, paging.
    let (s, q) = app.get("/v1/reviews").await;
    let ids: Vec<&str> = q["data"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!((s, ids), (200, held.iter().map(String::as_str).collect::<Vec<_>>()));
    let (_, q) = app.get("/v1/reviews?min_amount=7000").await;
    assert_eq!(q["data"].as_array().unwrap().len(), 2);
    let (_, q) = app.get(&format!("/v1/reviews?limit=1&starting_after={}", held[0])).await;
    assert_eq!((q["data"][0]["id"].as_str(), q["has_more"].as_bool()), (Some(held[1].as_str()), Some(true)));
    assert_eq!(app.get("/v1/reviews?currency=EUR").await.1["data"].as_array().unwrap().len(), 0);
    assert_eq!(app.get("/v1/reviews?currency=XXZ").await.0, 400);
    assert_eq!(app.get("/v1/reviews?min_amount=-1").await.0, 400);

    // A writer cannot decide or label; a reviewer can, with a note; decisions label the payment.
    let (_, k) = app.post("/v1/api-keys", json!({"name": "w", "role": "writer"})).await;
    let writer = app.with_key(k["secret"].as_str().unwrap());
    assert_eq!(writer.post(&format!("/v1/payments/{}/approve", held[0]), json!({})).await.0, 403);
    let (_, k) = app.post("/v1/api-keys", json!({"name": "r", "role": "reviewer"})).await;
    let reviewer = app.with_key(k["secret"].as_str().unwrap());
    let (s, p) = reviewer.post(&format!("/v1/payments/{}/approve", held[0]), json!({"note": "known customer"})).await;
    assert_eq!((s, p["status"].as_str()), (200, Some("completed")), "{p}");
    let (s, p) = reviewer.post(&format!("/v1/payments/{}/decline", held[1]), json!({"note": "stolen card"})).await;
    assert_eq!((s, p["status"].as_str()), (200, Some("failed")), "{p}");
    let bad = reviewer.post(&format!("/v1/payments/{}/decline", held[2]), json!({"label": "maybe"})).await;
    assert_eq!((bad.0, bad.1["error"]["param"].as_str()), (400, Some("label")));
    let (_, p) = reviewer.post(&format!("/v1/payments/{}/decline", held[2]), json!({"label": "none"})).await;
    assert_eq!(p["status"], "failed");
    let (_, q) = app.get("/v1/reviews").await;
    assert_eq!(q["data"].as_array().unwrap().len(), 0, "the queue is worked off");

    let (_, l0) = app.get(&format!("/v1/payments/{}/labels", held[0])).await;
    assert_eq!(
        (l0["data"][0]["label"].as_str(), l0["data"][0]["source"].as_str()),
        (Some("legitimate"), Some("review"))
    );
    let (_, l1) = app.get(&format!("/v1/payments/{}/labels", held[1])).await;
    assert_eq!((l1["data"][0]["label"].as_str(), l1["data"][0]["note"].as_str()), (Some("fraud"), Some("stolen card")));
    assert_eq!(app.get(&format!("/v1/payments/{}/labels", held[2])).await.1["data"].as_array().unwrap().len(), 0);

    // A chargeback relabels the approved payment; the last label counts.
    let (s, l) = reviewer
        .post(&format!("/v1/payments/{}/labels", held[0]), json!({"label": "fraud", "source": "chargeback"}))
        .await;
    assert_eq!((s, l["label"].as_str()), (201, Some("fraud")), "{l}");
    let (_, l0) = app.get(&format!("/v1/payments/{}/labels", held[0])).await;
    assert_eq!(l0["data"].as_array().unwrap().len(), 2);
    for (body, param) in [
        (json!({"label": "evil"}), "label"),
        (json!({"label": "fraud", "source": "rumour"}), "source"),
        (json!({}), "label"),
    ] {
        let (s, e) = reviewer.post(&format!("/v1/payments/{}/labels", held[0]), body).await;
        assert_eq!((s, e["error"]["param"].as_str()), (400, Some(param)), "{e}");
    }
    let missing = "/v1/payments/pay_0000000000000000000000000000abcd/labels";
    assert_eq!(reviewer.post(missing, json!({"label": "fraud"})).await.0, 404);
    assert_eq!(app.get(&format!("/v1/payments/{}/labels", held[0])).await.1["data"].as_array().unwrap().len(), 2);

    // Every decision and label is audited, with the note.
    let (_, audit) = app.get(&format!("/v1/audit-events?resource_id={}", held[1])).await;
    let decline = audit["data"].as_array().unwrap().iter().find(|a| a["action"] == "payment.decline").unwrap();
    assert_eq!(
        (decline["details"]["note"].as_str(), decline["details"]["label"].as_str()),
        (Some("stolen card"), Some("fraud"))
    );
    let (_, audit) = app.get(&format!("/v1/audit-events?resource_id={}&action=payment.label", held[0])).await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 1);
    app.verify_ok().await;
    app.stop().await;
});

both!(backtests_replay_candidate_rules_without_changing_anything, |app: App| async move {
    let (_, u) = app.post("/v1/users", json!({"name": "Payer"})).await;
    let (_, wallet) = app.funded("USD", 1_000_000).await;
    let merchant = app.account("USD", false).await;
    let start = time::OffsetDateTime::now_utc() - time::Duration::seconds(5);
    let mut ids = Vec::new();
    for amount in [100, 200, 6000, 7000, 150, 8000] {
        let (_, p) = app
            .post(
                "/v1/payments",
                json!({"user_id": u["id"], "source_account_id": wallet, "destination_account_id": merchant,
                       "amount": amount, "currency": "USD"}),
            )
            .await;
        assert_eq!(p["status"], "completed");
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    for (i, label) in [(0, "legitimate"), (2, "fraud"), (3, "legitimate"), (5, "fraud")] {
        let (s, _) =
            app.post(&format!("/v1/payments/{}/labels", ids[i]), json!({"label": label, "source": "chargeback"})).await;
        assert_eq!(s, 201);
    }
    let from = start.format(&time::format_description::well_known::Rfc3339).unwrap();
    let rules = json!([
        {"id": "big", "name": "big", "priority": 1, "condition": {"field": "amount", "op": "gte", "value": 6500},
         "actions": [{"type": "review"}]},
        {"id": "burst", "name": "burst", "priority": 2,
         "condition": {"aggregate": {"fn": "count", "key": "user", "window_seconds": 3600}, "op": "gte", "value": 5},
         "actions": [{"type": "reject"}]}]);
    let (_, events_before) = app.get("/v1/events?type=payment.completed&limit=100").await;
    let (s, r) = app.post("/v1/risk/rules/backtest", json!({"from": from, "rules": rules})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["payments"], 6);
    assert_eq!(
        r["rules"][0],
        json!({"rule_id": "big", "hits": 2, "hits_fraud": 1, "hits_legitimate": 1, "precision": 0.5})
    );
    assert_eq!(r["rules"][1]["hits"], 1, "only the sixth payment has five before it: {r}");
    assert_eq!(r["decisions"], json!({"approve": 4, "review": 1, "reject": 1}));
    assert_eq!(r["changed"]["count"], 2);
    assert_eq!(r["changed"]["by_transition"], json!({"approve->reject": 1, "approve->review": 1}));
    assert_eq!(r["changed"]["examples"][1]["payment_id"], ids[5].as_str());
    let l = &r["labels"];
    assert_eq!(
        (l["labelled"].as_i64(), l["true_positives"].as_i64(), l["false_positives"].as_i64()),
        (Some(4), Some(1), Some(1))
    );
    assert_eq!(
        (l["false_negatives"].as_i64(), l["precision"].as_f64(), l["recall"].as_f64()),
        (Some(1), Some(0.5), Some(0.5))
    );

    // Nothing changed: no rules, no new events, the payments as they were.
    assert!(app.get("/v1/risk/rules").await.1["data"].as_array().unwrap().is_empty());
    assert_eq!(app.get("/v1/events?type=payment.completed&limit=100").await.1, events_before);
    // Without `rules`, the current (none) rules: every decision stays.
    let (_, r) = app.post("/v1/risk/rules/backtest", json!({"from": from})).await;
    assert_eq!((r["payments"].as_i64(), r["changed"]["count"].as_i64()), (Some(6), Some(0)), "{r}");

    // Bad input names the problem; a writer may not run it, a reviewer may.
    let mut bad_rules = rules.clone();
    bad_rules[1]["condition"]["op"] = json!("nope");
    for (body, param) in [
        (json!({"rules": rules}), "from"),
        (json!({"from": "yesterday"}), "from"),
        (json!({"from": from, "to": from}), "from"),
        (json!({"from": from, "rules": bad_rules}), "$.rules[1].condition.op"),
        (json!({"from": from, "rules": {"id": "x"}}), "rules"),
        (json!({"from": from, "colour": 1}), "colour"),
    ] {
        let (s, e) = app.post("/v1/risk/rules/backtest", body).await;
        assert_eq!((s, e["error"]["param"].as_str()), (400, Some(param)), "{e}");
    }
    let (_, k) = app.post("/v1/api-keys", json!({"name": "w", "role": "writer"})).await;
    let writer = app.with_key(k["secret"].as_str().unwrap());
    assert_eq!(writer.post("/v1/risk/rules/backtest", json!({"from": from})).await.0, 403);
    let (_, k) = app.post("/v1/api-keys", json!({"name": "r", "role": "reviewer"})).await;
    let reviewer = app.with_key(k["secret"].as_str().unwrap());
    assert_eq!(reviewer.post("/v1/risk/rules/backtest", json!({"from": from})).await.0, 200);
    app.stop().await;
});

both!(credit_scores_come_from_the_scorecard_with_reasons, |app: App| async move {
    let steady = json!({"age": 45, "income": 3000, "employment_years": 15, "total_debt": 0, "defaults": 0,
                        "late_payments": 0, "on_time_payments": 150, "credit_history_months": 240, "open_accounts": 4,
                        "accounts_opened_12m": 0, "credit_utilization": 0.2, "hard_inquiries_6m": 0,
                        "employment_type": "permanent", "housing": "owner", "loan_amount": 6000,
                        "purchase_price": 15000, "term_months": 24, "monthly_expenses": 600, "assets": 80000});
    let (s, good) = app.post("/v1/credit-scores", steady.clone()).await;
    assert_eq!(s, 201, "{good}");
    // Kept as answered, with the applicant, and audited.
    let (s, kept) = app.get(&format!("/v1/credit-scores/{}", good["id"].as_str().unwrap())).await;
    assert_eq!(s, 200, "{kept}");
    assert_eq!(
        (kept["score"].clone(), kept["reason_codes"].clone()),
        (good["score"].clone(), good["reason_codes"].clone())
    );
    assert_eq!(kept["applicant"], steady);
    let (_, audit) = app.get("/v1/audit-events?action=credit_score.create").await;
    assert_eq!(audit["data"][0]["resource_id"], good["id"], "{audit}");
    assert_eq!(app.get("/v1/credit-scores/cs_nope").await.0, 400);
    assert_eq!(app.get("/v1/credit-scores/cs_0000000000000000000000000000abcd").await.0, 404);
    // A thin, risky record: defaults, late payments, heavy use of credit, no loan details.
    let risky = json!({"age": 21, "income": 800, "employment_years": 0, "total_debt": 20000, "defaults": 2,
                       "months_since_last_default": 4, "late_payments": 7, "credit_utilization": 0.95,
                       "hard_inquiries_6m": 6});
    let (s, bad) = app.post("/v1/credit-scores", risky).await;
    assert_eq!(s, 201, "{bad}");
    let (gs, bs) = (good["score"].as_i64().unwrap(), bad["score"].as_i64().unwrap());
    assert!((300..=850).contains(&gs) && (300..=850).contains(&bs));
    assert!(gs > bs + 150, "{good} vs {bad}");
    assert!(["A+", "A"].contains(&good["grade"].as_str().unwrap()), "{good}");
    assert_eq!(bad["grade"], "F", "{bad}");
    let p = bad["probability_of_default"].as_f64().unwrap();
    assert!((bad["approval_probability"].as_f64().unwrap() - (1.0 - p)).abs() < 1e-12);
    // The score is the scaled log-odds: 600 at 1:19, 50 points to double.
    let p = good["probability_of_default"].as_f64().unwrap();
    let raw = 387.604 - 72.135 * (p / (1.0 - p)).ln();
    assert!((raw.clamp(300.0, 850.0) - gs as f64).abs() <= 0.51, "{raw} vs {gs}");
    // Reasons: the factors that lost the most points, only where points were lost.
    let codes: Vec<&str> =
        bad["reason_codes"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 4, "{bad}");
    assert!(codes.contains(&"R03") && codes.contains(&"R01"), "{bad}");
    for r in bad["reason_codes"].as_array().unwrap().iter().chain(good["reason_codes"].as_array().unwrap()) {
        assert!(r["points"].as_f64().unwrap() <= -1.0, "{r}");
        let c = r["characteristic"].as_str().unwrap();
        let row = bad["points"]
            .as_array()
            .unwrap()
            .iter()
            .chain(good["points"].as_array().unwrap())
            .find(|a| a["characteristic"] == c && a["points"].as_f64() < a["max_points"].as_f64())
            .cloned();
        assert!(row.is_some(), "{c} lost no points: {bad}");
    }
    // Bad input names the field and keeps nothing.
    for (change, param, code) in [
        (json!({"age": 12}), "age", "invalid_request"),
        (json!({"income": "lots"}), "income", "invalid_request"),
        (json!({"defaults": 0.5}), "defaults", "invalid_request"),
        (json!({"credit_utilization": -1}), "credit_utilization", "invalid_request"),
        (json!({"age": 18, "employment_years": 60}), "employment_years", "invalid_request"),
        (json!({"credit_history_months": 900}), "credit_history_months", "invalid_request"),
        (json!({"salary": 1}), "salary", "invalid_request"),
        (json!({"marital_status": "single"}), "marital_status", "protected_attribute"),
        (json!({"sex": "f"}), "sex", "protected_attribute"),
    ] {
        let mut body = steady.clone();
        body.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        let (s, e) = app.post("/v1/credit-scores", body).await;
        assert_eq!(
            (s, e["error"]["param"].as_str(), e["error"]["code"].as_str()),
            (400, Some(param), Some(code)),
            "{e}"
        );
    }
    let mut missing = steady.clone();
    missing.as_object_mut().unwrap().remove("defaults");
    assert_eq!(app.post("/v1/credit-scores", missing).await.1["error"]["param"], "defaults");
    // Age changes nothing; leaving a bureau field out or sending "unknown" never beats its worst value.
    let mut older = steady.clone();
    older["age"] = json!(70);
    let (_, o) = app.post("/v1/credit-scores", older).await;
    assert_eq!((o["score"].clone(), o["reason_codes"].clone()), (good["score"].clone(), good["reason_codes"].clone()));
    let mut unknown = steady.clone();
    unknown["late_payments"] = json!("unknown");
    let mut worst = steady.clone();
    worst["late_payments"] = json!(100_000);
    let (_, u) = app.post("/v1/credit-scores", unknown).await;
    let (_, w) = app.post("/v1/credit-scores", worst).await;
    assert!(u["score"].as_i64().unwrap() <= w["score"].as_i64().unwrap(), "{u} vs {w}");
    assert!(w["score"].as_i64().unwrap() < gs);
    // The scorecard is published whole.
    let (s, card) = app.get("/v1/credit-scorecard").await;
    assert_eq!(s, 200);
    assert!(card["characteristics"].as_array().unwrap().len() >= 15, "{card}");
    assert!(card["metadata"]["cross_validation"]["scorecard"]["roc_auc"]["mean"].as_f64().unwrap() >= 0.80);
    // Refused applications keep nothing: five kept, each audited.
    let (_, audit) = app.get("/v1/audit-events?action=credit_score.create").await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 5, "{audit}");
    app.stop().await;
});

/// `hour_of_day` is local to the configured zone: an IANA name follows its own offset.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hour_of_day_is_local_to_a_named_time_zone() {
    let app = crate::common::App::start_with(crate::common::Backend::Sqlite, |c| {
        let mut p = (*c.policies).clone();
        // UTC+14 all year: the local hour is never the UTC hour.
        p.time_zone = rialto_risk::TimeZone::parse("Pacific/Kiritimati").unwrap();
        c.policies = std::sync::Arc::new(p);
    })
    .await
    .unwrap();
    let utc_hour = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 3600 % 24;
    let local = |h: u64| (h + 14) % 24;
    // This hour or the next one, in case the hour turns during the test.
    let rule = json!({"id": "local_hour", "name": "local hour", "condition":
        {"field": "hour_of_day", "op": "in", "value": [local(utc_hour), local(utc_hour + 1)]},
        "actions": [{"type": "review"}]});
    assert_eq!(app.post("/v1/risk/rules", rule).await.0, 201);
    let (_, u) = app.post("/v1/users", json!({"name": "Payer"})).await;
    let (_, wallet) = app.funded("USD", 100_000).await;
    let merchant = app.account("USD", false).await;
    let (_, p) = app
        .post(
            "/v1/payments",
            json!({"user_id": u["id"], "source_account_id": wallet, "destination_account_id": merchant,
                   "amount": 100, "currency": "USD"}),
        )
        .await;
    assert_eq!(p["status"], "requires_review", "{p}");
    let (_, a) = app.get(&format!("/v1/risk/assessments/{}", p["risk_assessment_id"].as_str().unwrap())).await;
    assert_eq!(
        (a["details"]["time_zone"].as_str(), a["details"]["time_zone_offset_seconds"].as_i64()),
        (Some("Pacific/Kiritimati"), Some(50_400)),
        "{a}"
    );
    app.stop().await;
}

/// Each process keeps its parsed rules, but a rule changed through one process applies at once
/// to payments through another (the batch compares the stored rules' versions).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
async fn a_rule_changed_in_one_process_applies_in_the_other() {
    let url = crate::common::fresh_database(crate::common::Backend::Postgres).await.unwrap();
    let a = App::start_on(url.clone(), |_| {}).await;
    let b = App::start_on(url, |_| {}).await;
    let (_, u) = a.post("/v1/users", json!({"name": "Payer"})).await;
    let (_, wallet) = a.funded("USD", 100_000).await;
    let merchant = a.account("USD", false).await;
    let pay = json!({"user_id": u["id"], "source_account_id": wallet, "destination_account_id": merchant,
                     "amount": 500, "currency": "USD"});
    let status = |p: serde_json::Value| p["status"].as_str().unwrap().to_string();
    assert_eq!(status(b.post("/v1/payments", pay.clone()).await.1), "completed", "b has parsed no rules");
    let rule = json!({"id": "all", "name": "everything", "priority": 1,
                      "condition": {"field": "amount", "op": "gte", "value": 1}, "actions": [{"type": "review"}]});
    assert_eq!(a.post("/v1/risk/rules", rule.clone()).await.0, 201);
    assert_eq!(status(b.post("/v1/payments", pay.clone()).await.1), "requires_review");
    let mut blocking = rule.clone();
    blocking.as_object_mut().unwrap().remove("id");
    blocking["actions"] = json!([{"type": "block"}]);
    let r = a.http.put(format!("{}/v1/risk/rules/all", a.base)).bearer_auth(&a.key).json(&blocking).send().await;
    assert_eq!(r.unwrap().status().as_u16(), 200);
    let p = b.post("/v1/payments", pay.clone()).await.1;
    assert_eq!((status(p.clone()), p["failure_code"].as_str()), ("failed".into(), Some("risk_blocked")), "{p}");
    let r = a.http.delete(format!("{}/v1/risk/rules/all", a.base)).bearer_auth(&a.key).send().await;
    assert_eq!(r.unwrap().status().as_u16(), 200);
    assert_eq!(status(b.post("/v1/payments", pay).await.1), "completed");
    a.stop().await;
    b.stop().await;
}

/// A lender's own scorecard (here the compiled-in one with 40 more base points and a
/// stricter grade) is served instead, whole: scores move by exactly the points, grades follow.
fn own_scorecard(c: &mut rialto_api::Config) {
    let mut card = (*c.credit_scorecard).clone();
    card.base_points += 40.0;
    card.metadata["type"] = json!("lenders_own");
    c.credit_scorecard =
        std::sync::Arc::new(rialto_risk::credit::load(&serde_json::to_string(&card).unwrap()).unwrap());
}

both!(a_configured_scorecard_is_the_one_served, own_scorecard, |app: App| async move {
    let applicant = json!({"age": 35, "income": 5200, "employment_years": 6, "total_debt": 1800, "defaults": 0,
        "late_payments": 0, "on_time_payments": 60, "credit_history_months": 96, "open_accounts": 4,
        "accounts_opened_12m": 1, "credit_utilization": 0.7, "hard_inquiries_6m": 1, "employment_type": "self_employed",
        "housing": "rent", "loan_amount": 12000, "purchase_price": 13000, "term_months": 60, "monthly_expenses": 2500,
        "assets": 2000});
    let (s, own) = app.post("/v1/credit-scores", applicant.clone()).await;
    assert_eq!(s, 201, "{own}");
    let served = rialto_risk::credit::served();
    let (_, built_in) = rialto_risk::credit::score(served, applicant.as_object().unwrap()).unwrap();
    assert!(built_in.score > 300 && built_in.score < 800, "{built_in:?}");
    assert_eq!(own["score"].as_i64().unwrap(), (built_in.raw_score + 40.0).round() as i64, "{own}");
    assert_eq!(own["model"]["type"], "lenders_own");
    let (_, card) = app.get("/v1/credit-scorecard").await;
    assert!((card["base_points"].as_f64().unwrap() - served.base_points - 40.0).abs() < 1e-9);
    app.stop().await;
});
