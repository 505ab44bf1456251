//! Data migrations: rewrites of stored values that SQL cannot express on both databases, run
//! in Rust after the schema migrations, each once. A migration's name is inserted into
//! `data_migrations` in the same transaction as its rewrite, first, so that two processes
//! starting together cannot both apply it (the second one's insert conflicts and it skips).

use serde_json::Value;
use sqlx::Row;

use crate::{now_us, Db, DbKind, StoreError};

/// `risk_assessments.fired` held each rule's actions as Rust `Debug` text
/// (`"[Review, IncreaseScore(40)]"`) until this release; it now holds the actions as a rule
/// document writes them (`[{"type": "review"}, {"type": "increase_score", "by": 40}]`).
const FIRED_ACTIONS_JSON: &str = "0014_fired_actions_json";

impl Db {
    /// Applies the data migrations not yet applied.
    pub(crate) async fn migrate_data(&self) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        if self.kind() == DbKind::Postgres {
            // Serialises processes starting together; released at COMMIT.
            sqlx::query("SELECT pg_advisory_xact_lock(7405142)").execute(&mut *tx).await?;
        }
        let claimed =
            sqlx::query("INSERT INTO data_migrations (name, applied_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(FIRED_ACTIONS_JSON)
                .bind(now_us())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if claimed == 1 {
            let rows = sqlx::query("SELECT id, fired FROM risk_assessments WHERE fired LIKE '%\"actions\":\"%'")
                .fetch_all(&mut *tx)
                .await?;
            for row in rows {
                let id: String = row.try_get("id")?;
                let fired: String = row.try_get("fired")?;
                let Some(rewritten) = fired_actions_as_json(&fired) else {
                    return Err(StoreError::Corrupt(format!("risk assessment {id}: fired does not parse: {fired}")));
                };
                sqlx::query("UPDATE risk_assessments SET fired = $1 WHERE id = $2")
                    .bind(rewritten)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// `fired` with every `"actions": "<Debug text>"` replaced by the JSON actions; None when the
/// text is not one this code ever wrote.
fn fired_actions_as_json(fired: &str) -> Option<String> {
    let mut entries: Value = serde_json::from_str(fired).ok()?;
    for entry in entries.as_array_mut()? {
        let actions = entry.get_mut("actions")?;
        if let Some(text) = actions.as_str() {
            *actions = Value::Array(legacy_actions(text)?);
        }
    }
    Some(entries.to_string())
}

/// Parses the `Debug` text of a `Vec<rialto_risk::Action>` as releases before this one stored
/// it: `[Reject, IncreaseScore(40), RateLimit { key: User, seconds: 600 }]`.
fn legacy_actions(text: &str) -> Option<Vec<Value>> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?.trim();
    let mut out = Vec::new();
    let mut rest = inner;
    while !rest.is_empty() {
        let (action, tail) = legacy_action(rest)?;
        out.push(action);
        rest = tail.trim_start();
        rest = rest.strip_prefix(',').map(str::trim_start).unwrap_or(rest);
    }
    Some(out)
}

/// One action at the start of `text`, and what follows it.
fn legacy_action(text: &str) -> Option<(Value, &str)> {
    let simple = [
        ("Reject", "reject"),
        ("Review", "review"),
        ("Block", "block"),
        ("Flag", "flag"),
        ("Notify", "notify"),
        ("Require2fa", "require_2fa"),
    ];
    if let Some(tail) = text.strip_prefix("IncreaseScore(") {
        let (by, tail) = tail.split_once(')')?;
        let by: i64 = by.trim().parse().ok()?;
        return Some((serde_json::json!({"type": "increase_score", "by": by}), tail));
    }
    if let Some(tail) = text.strip_prefix("RateLimit {") {
        let (body, tail) = tail.split_once('}')?;
        let mut key = None;
        let mut seconds = None;
        for part in body.split(',') {
            match part.split_once(':').map(|(k, v)| (k.trim(), v.trim())) {
                Some(("key", v)) => key = Some(v.to_ascii_lowercase()),
                Some(("seconds", v)) => seconds = v.parse::<i64>().ok(),
                _ => return None,
            }
        }
        let key = rialto_risk::Key::parse(&key?)?;
        return Some((serde_json::json!({"type": "rate_limit", "key": key.as_str(), "seconds": seconds?}), tail));
    }
    for (debug, name) in simple {
        if let Some(tail) = text.strip_prefix(debug) {
            if tail.is_empty() || tail.starts_with([',', ' ']) {
                return Some((serde_json::json!({"type": name}), tail));
            }
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rialto_risk::{Action, Key};

    #[test]
    fn every_action_written_as_debug_reads_back_as_its_json() {
        let all = vec![
            Action::Reject,
            Action::Review,
            Action::Block,
            Action::Flag,
            Action::Notify,
            Action::IncreaseScore(40),
            Action::Require2fa,
            Action::RateLimit { key: Key::User, seconds: 600 },
            Action::RateLimit { key: Key::Ip, seconds: 1 },
        ];
        // What the old code stored, produced by the same Debug formatting.
        let legacy = format!("{all:?}");
        let expected: Vec<Value> = all.iter().map(Action::to_json).collect();
        assert_eq!(legacy_actions(&legacy), Some(expected));
        assert_eq!(legacy_actions("[]"), Some(vec![]));
        assert_eq!(legacy_actions("[Explode]"), None);
        assert_eq!(legacy_actions("[RateLimit { key: Planet, seconds: 1 }]"), None);
    }

    #[test]
    fn fired_is_rewritten_and_new_rows_are_left_alone() {
        let old = r#"[{"rule_id":"big","contribution":40,"actions":"[Review, IncreaseScore(40)]"}]"#;
        let new = fired_actions_as_json(old).unwrap();
        let v: Value = serde_json::from_str(&new).unwrap();
        assert_eq!(v[0]["actions"], serde_json::json!([{"type": "review"}, {"type": "increase_score", "by": 40}]));
        assert_eq!(v[0]["rule_id"], "big");
        assert_eq!(fired_actions_as_json(&new).as_deref(), Some(new.as_str()), "already JSON: unchanged");
    }
}
