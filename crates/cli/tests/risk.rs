//! Risk rules as data over HTTP: validation with paths, versions, audit, roles.
#![allow(clippy::unwrap_used)]

mod common;

use common::App;
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
