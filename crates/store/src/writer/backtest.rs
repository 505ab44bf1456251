//! Backtesting: a candidate rule set replayed over a time range of stored payments, changing
//! nothing. Each payment is assessed as of its creation time with the windows as they were
//! (the payments accepted before it, rebuilt in memory from the table), today's lists, and
//! the configured thresholds and time zone.

use std::collections::{BTreeMap, HashSet};

use rialto_risk::window::{window_start, Entry, Index};
use rialto_risk::{Decision, Key, Rule, Thresholds, WINDOW_SECONDS_MAX};
use serde_json::{json, Value};

use super::assess::{evaluate, Needs, View};
use super::*;

/// Most payments one backtest reads (range plus window lead-in).
pub const BACKTEST_PAYMENTS_MAX: i64 = 500_000;
/// Changed decisions listed as examples.
const EXAMPLES_MAX: usize = 50;

/// Why a backtest was refused.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// Too many payments in the range.
    #[error(
        "the range holds {0} payments (with the windows' lead-in); a backtest reads at most {BACKTEST_PAYMENTS_MAX}"
    )]
    TooLarge(i64),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn decision_name(d: Decision) -> &'static str {
    match d {
        Decision::Approve => "approve",
        Decision::Review => "review",
        Decision::Reject => "reject",
        Decision::Block => "block",
    }
}

/// Precision or recall, or null when undefined.
#[allow(clippy::cast_precision_loss)]
fn ratio(n: u64, d: u64) -> Value {
    if d == 0 {
        Value::Null
    } else {
        json!(n as f64 / d as f64)
    }
}

impl Db {
    /// Replays `rules` over the payments created in `[from_us, to_us)`.
    pub async fn backtest(
        &self,
        rules: &[Rule],
        from_us: i64,
        to_us: i64,
        (thresholds, time_zone): (Thresholds, &rialto_risk::TimeZone),
    ) -> Result<Value, BacktestError> {
        let needs = Needs::of(rules);
        let wants_history = needs.wants_history();
        let lead = needs
            .aggregates
            .iter()
            .map(|a| a.window_seconds)
            .chain(wants_history.then_some(WINDOW_SECONDS_MAX))
            .max()
            .unwrap_or(0);
        let start = window_start(from_us, lead);
        let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM payments WHERE created_at >= $1 AND created_at < $2")
            .bind(start)
            .bind(to_us)
            .fetch_one(self.pool())
            .await
            .map_err(StoreError::from)?
            .col("n")
            .map_err(StoreError::from)?;
        if count > BACKTEST_PAYMENTS_MAX {
            return Err(BacktestError::TooLarge(count));
        }
        let mut lists = HashSet::new();
        for r in sqlx::query("SELECT list_name, value FROM risk_list_items")
            .fetch_all(self.pool())
            .await
            .map_err(StoreError::from)?
        {
            lists.insert((r.col("list_name").map_err(StoreError::from)?, r.col("value").map_err(StoreError::from)?));
        }
        let mut was: HashMap<String, String> = HashMap::new();
        let rows =
            sqlx::query("SELECT payment_id, decision FROM risk_assessments WHERE created_at >= $1 AND created_at < $2")
                .bind(from_us)
                .bind(to_us)
                .fetch_all(self.pool())
                .await
                .map_err(StoreError::from)?;
        for r in rows {
            was.insert(r.col("payment_id").map_err(StoreError::from)?, r.col("decision").map_err(StoreError::from)?);
        }
        let labels = self.labels_between(from_us, to_us).await?;

        let rows = sqlx::query(
            "SELECT id, user_id, source_account_id, amount, currency, type, method, context, created_at, transfer_id \
             FROM payments WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, id",
        )
        .bind(start)
        .bind(to_us)
        .fetch_all(self.pool())
        .await
        .map_err(StoreError::from)?;
        let mut index = Index::default();
        let mut per_rule: BTreeMap<String, (u64, u64, u64)> =
            rules.iter().filter(|r| r.enabled).map(|r| (r.id.clone(), (0, 0, 0))).collect();
        let mut decisions: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut transitions: BTreeMap<String, u64> = BTreeMap::new();
        let mut examples = Vec::new();
        let (mut assessed, mut changed) = (0u64, 0u64);
        let (mut tp, mut fp, mut fneg, mut labelled_fraud) = (0u64, 0u64, 0u64, 0u64);
        for r in &rows {
            let get = |c: &str| r.col::<String>(c).map_err(StoreError::from);
            let (id, user, account) = (get("id")?, get("user_id")?, get("source_account_id")?);
            let context = crate::records::context_from_json(&get("context")?);
            let (currency, kind, method) = (get("currency")?, get("type")?, get("method")?);
            let at: i64 = r.col("created_at").map_err(StoreError::from)?;
            let amount: i64 = r.col("amount").map_err(StoreError::from)?;
            let accepted = r.col::<Option<String>>("transfer_id").map_err(StoreError::from)?.is_some();
            let current = crate::windows::entry(id.clone(), at, amount, user.clone(), account, &context);
            if at >= from_us {
                assessed += 1;
                let view = View {
                    amount,
                    currency: &currency,
                    kind: &kind,
                    method: &method,
                    user_id: &user,
                    context: &context,
                };
                // The windows as of just before this payment.
                let windows: HashMap<Key, Vec<Entry>> = rialto_risk::window::KEYS
                    .iter()
                    .filter_map(|k| current.key(*k).map(|v| (*k, index.since(*k, v, start))))
                    .collect();
                let empty = Vec::new();
                let window = |k: Key| windows.get(&k).map_or(&empty[..], |l| &l[..]);
                let (a, _) = evaluate(
                    rules,
                    &needs.aggregates,
                    wants_history,
                    &view,
                    &current,
                    window,
                    &lists,
                    (thresholds, time_zone.offset_at(at)),
                );
                let now = decision_name(a.decision);
                *decisions.entry(now).or_default() += 1;
                let label = labels.get(&id).copied();
                for f in &a.fired {
                    if let Some(c) = per_rule.get_mut(&f.rule_id) {
                        c.0 += 1;
                        match label {
                            Some(true) => c.1 += 1,
                            Some(false) => c.2 += 1,
                            None => {}
                        }
                    }
                }
                let before = was.get(&id).map_or("approve", String::as_str);
                if before != now {
                    changed += 1;
                    *transitions.entry(format!("{before}->{now}")).or_default() += 1;
                    if examples.len() < EXAMPLES_MAX {
                        let fired: Vec<&str> = a.fired.iter().map(|f| f.rule_id.as_str()).collect();
                        examples.push(
                            json!({"payment_id": id, "was": before, "now": now, "score": a.score, "rules": fired}),
                        );
                    }
                }
                // A payment the candidate rules would stop (anything but approve) is a positive.
                let positive = a.decision != Decision::Approve;
                match (label, positive) {
                    (Some(true), true) => tp += 1,
                    (Some(false), true) => fp += 1,
                    (Some(true), false) => fneg += 1,
                    _ => {}
                }
                labelled_fraud += u64::from(label == Some(true));
            }
            // History is what happened: the windows hold the payments accepted at the time.
            if accepted {
                index.insert(&current);
            }
        }
        let rules_json: Vec<Value> = per_rule
            .into_iter()
            .map(|(id, (hits, fraud, legit))| {
                json!({"rule_id": id, "hits": hits, "hits_fraud": fraud, "hits_legitimate": legit,
                       "precision": ratio(fraud, fraud + legit)})
            })
            .collect();
        Ok(json!({
            "object": "risk_backtest",
            "payments": assessed,
            "rules": rules_json,
            "decisions": decisions,
            "changed": {"count": changed, "by_transition": transitions, "examples": examples},
            "labels": {
                "labelled": labels.len(), "fraud": labelled_fraud,
                "true_positives": tp, "false_positives": fp, "false_negatives": fneg,
                "precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fneg),
            },
        }))
    }
}
