//! The rule-based risk assessment of payments inside the writer: the current rules (loaded
//! per batch, so a change takes effect at once in every process), the windowed aggregates they
//! ask for (computed from the payments table), and the stored, explained assessment.

use rialto_risk::{Aggregate, AggregateFn, Assessment, Facts, Key, Rule, Thresholds};
use serde_json::{json, Value};

use std::collections::HashSet;

use super::*;

/// What the rules see of one payment.
pub(crate) struct PaymentRuleFacts<'a> {
    fields: HashMap<&'static str, Value>,
    aggregates: HashMap<Aggregate, f64>,
    lists: &'a HashSet<(String, String)>,
}

impl Facts for PaymentRuleFacts<'_> {
    fn field(&self, name: &str) -> Option<Value> {
        self.fields.get(name).cloned()
    }

    fn on_list(&self, list: &str, value: &Value) -> bool {
        value.as_str().is_some_and(|v| self.lists.contains(&(list.to_string(), v.to_string())))
    }

    fn aggregate(&self, a: &Aggregate) -> Option<f64> {
        self.aggregates.get(a).copied()
    }
}

fn context(n: &NewPayment) -> Value {
    serde_json::from_str(&n.context).unwrap_or(Value::Null)
}

/// The payment's context values that are also columns: (device, ip, country, merchant).
pub(crate) fn context_columns(context: &str) -> [Option<String>; 4] {
    let c: Value = serde_json::from_str(context).unwrap_or(Value::Null);
    let s = |v: &Value| v.as_str().map(str::to_string);
    [s(&c["device_id"]), s(&c["ip_address"]), s(&c["location"]["country"]), s(&c["merchant_id"])]
}

fn key_of(n: &NewPayment, key: Key) -> Option<(&'static str, String)> {
    let [device, ip, _, merchant] = context_columns(&n.context);
    match key {
        Key::User => Some(("user_id", n.user_id.clone())),
        Key::Account => Some(("source_account_id", n.source_account_id.clone())),
        Key::Device => device.map(|d| ("device_id", d)),
        Key::Ip => ip.map(|i| ("ip_address", i)),
        Key::Merchant => merchant.map(|m| ("merchant_id", m)),
    }
}

fn column_of_field(field: &str) -> Option<&'static str> {
    Some(match field {
        "device_id" => "device_id",
        "ip_address" => "ip_address",
        "country" => "country",
        "merchant_id" => "merchant_id",
        "user_id" => "user_id",
        "currency" => "currency",
        "method" => "method",
        "type" => "type",
        _ => return None,
    })
}

fn collect(c: &rialto_risk::Condition, out: &mut Vec<Aggregate>, lists: &mut Vec<(String, String)>) {
    use rialto_risk::Condition as C;
    match c {
        C::All(cs) | C::Any(cs) => cs.iter().for_each(|c| collect(c, out, lists)),
        C::Not(c) => collect(c, out, lists),
        C::Aggregate { aggregate, .. } if !out.contains(aggregate) => out.push(aggregate.clone()),
        C::InList { field, list, .. } => lists.push((list.clone(), field.clone())),
        _ => {}
    }
}

/// The payment fields the rules compare.
fn fields_of(n: &NewPayment, now: i64) -> HashMap<&'static str, Value> {
    let c = context(n);
    let [device, ip, country, merchant] = context_columns(&n.context);
    let mut fields: HashMap<&'static str, Value> = HashMap::from([
        ("amount", json!(n.amount.minor())),
        ("currency", json!(n.currency.code())),
        ("type", json!(n.kind)),
        ("method", json!(n.method)),
        ("user_id", json!(n.user_id)),
    ]);
    for (name, v) in [("device_id", device), ("ip_address", ip), ("country", country), ("merchant_id", merchant)] {
        if let Some(v) = v {
            fields.insert(name, json!(v));
        }
    }
    if let Some(bin) = c["card_bin"].as_str() {
        fields.insert("card_bin", json!(bin));
    }
    // Hour of day and day of week (0 = Monday) in UTC.
    let secs = now / 1_000_000;
    fields.insert("hour_of_day", json!((secs / 3600).rem_euclid(24)));
    fields.insert("day_of_week", json!((secs / 86_400 + 3).rem_euclid(7)));
    fields
}

/// Rules, per-payment aggregates, and the (list, value) memberships the batch needs.
pub(crate) type Loaded = (Vec<Rule>, HashMap<String, HashMap<Aggregate, f64>>, HashSet<(String, String)>);

/// Loads the rules and, for each new payment, the aggregates and list memberships they ask for.
pub(crate) async fn load(
    conn: &mut AnyConnection,
    kind: DbKind,
    payments: &[&NewPayment],
    now: i64,
) -> Result<Loaded, Abort> {
    let mut rules = Vec::new();
    if payments.is_empty() {
        return Ok((rules, HashMap::new(), HashSet::new()));
    }
    for row in sqlx::query("SELECT document FROM risk_rules WHERE deleted = 0").fetch_all(&mut *conn).await? {
        let doc: String = row.try_get("document")?;
        match serde_json::from_str::<Value>(&doc)
            .map_err(|e| e.to_string())
            .and_then(|v| Rule::parse(&v).map_err(|e| e.to_string()))
        {
            Ok(r) => rules.push(r),
            Err(e) => tracing::warn!(error = %e, "a stored risk rule no longer parses; skipped"),
        }
    }
    let mut wanted = Vec::new();
    let mut lists = Vec::new();
    for r in rules.iter().filter(|r| r.enabled) {
        collect(&r.condition, &mut wanted, &mut lists);
    }
    // List memberships of this batch's values.
    let mut members = HashSet::new();
    for p in payments {
        let fields = fields_of(p, now);
        for (list, field) in &lists {
            let Some(v) = fields.get(field.as_str()).and_then(Value::as_str) else { continue };
            let sql = format!(
                "SELECT 1 FROM risk_list_items WHERE list_name = {} AND value = {}",
                placeholders(kind, 1, 1),
                placeholders(kind, 2, 1)
            );
            let found = sqlx::query_with(&sql, args([Val::T(list.clone()), Val::T(v.to_string())])?)
                .persistent(false)
                .fetch_optional(&mut *conn)
                .await?;
            if found.is_some() {
                members.insert((list.clone(), v.to_string()));
            }
        }
    }
    let mut values = HashMap::new();
    for p in payments {
        let mut mine = HashMap::new();
        for a in &wanted {
            let Some((column, key)) = key_of(p, a.key) else { continue };
            let select = match (a.func, &a.of) {
                (AggregateFn::Count, _) => "COUNT(*)".to_string(),
                (AggregateFn::Sum, _) => "CAST(COALESCE(SUM(amount), 0) AS BIGINT)".to_string(),
                (AggregateFn::Average, _) => "CAST(COALESCE(SUM(amount), 0) AS BIGINT), COUNT(*)".to_string(),
                (AggregateFn::DistinctCount, Some(f)) => match column_of_field(f) {
                    Some(col) => format!("COUNT(DISTINCT {col})"),
                    None => continue,
                },
                (AggregateFn::DistinctCount, None) => continue,
            };
            let sql = format!(
                "SELECT {select} FROM payments WHERE {column} = {} AND created_at > {} \
                 AND status NOT IN ('failed', 'cancelled')",
                placeholders(kind, 1, 1),
                placeholders(kind, 2, 1)
            );
            let since = now.saturating_sub(a.window_seconds.saturating_mul(1_000_000));
            let row = sqlx::query_with(&sql, args([Val::T(key), Val::I(since)])?)
                .persistent(false)
                .fetch_one(&mut *conn)
                .await?;
            let first: i64 = row.try_get(0)?;
            #[allow(clippy::cast_precision_loss)]
            let value = match a.func {
                AggregateFn::Average => {
                    let n: i64 = row.try_get(1)?;
                    if n == 0 {
                        0.0
                    } else {
                        first as f64 / n as f64
                    }
                }
                _ => first as f64,
            };
            mine.insert(a.clone(), value);
        }
        values.insert(p.id.clone(), mine);
    }
    Ok((rules, values, members))
}

/// Assesses a new payment with the loaded rules; stores the explained assessment.
pub(crate) fn assess(state: &mut State, writes: &mut Writes, n: &NewPayment) -> Option<(String, Assessment)> {
    if state.risk_rules.is_empty() {
        return None;
    }
    let fields = fields_of(n, state.now);
    let aggregates = state.risk_aggregates.remove(&n.id).unwrap_or_default();
    let facts = PaymentRuleFacts { fields, aggregates, lists: &state.risk_lists };
    let a = rialto_risk::assess(&state.risk_rules, &facts, Thresholds::default());
    let id = rialto_core::ids::new_id("ra");
    let fired: Vec<Value> = a
        .fired
        .iter()
        .map(|f| json!({"rule_id": f.rule_id, "contribution": f.contribution, "actions": format!("{:?}", f.actions)}))
        .collect();
    writes.assessments.push(vec![
        Val::T(id.clone()),
        Val::T(n.id.clone()),
        Val::T(n.user_id.clone()),
        Val::I(a.score),
        Val::T(format!("{:?}", a.level).to_lowercase()),
        Val::T(format!("{:?}", a.decision).to_lowercase()),
        Val::T(a.reason.clone()),
        Val::T(Value::Array(fired).to_string()),
        Val::I(state.now),
    ]);
    Some((id, a))
}

pub(crate) async fn write(conn: &mut AnyConnection, kind: DbKind, w: &mut Writes) -> Result<(), Abort> {
    let rows = std::mem::take(&mut w.assessments);
    if !rows.is_empty() {
        let head =
            "INSERT INTO risk_assessments (id, payment_id, user_id, score, level, decision, reason, fired, created_at)";
        exec_values(conn, kind, head, 9, rows, "").await?;
    }
    Ok(())
}

impl Db {
    /// A user's assessments, newest first (at most `limit`).
    pub async fn user_assessments(&self, user_id: &str, limit: usize) -> Result<Vec<Value>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT id, payment_id, score, level, decision, reason, created_at FROM risk_assessments \
             WHERE user_id = $1 ORDER BY id DESC LIMIT {limit}"
        ))
        .bind(user_id.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(json!({
                    "id": r.try_get::<String, _>("id")?, "payment_id": r.try_get::<String, _>("payment_id")?,
                    "score": r.try_get::<i64, _>("score")?, "level": r.try_get::<String, _>("level")?,
                    "decision": r.try_get::<String, _>("decision")?, "reason": r.try_get::<String, _>("reason")?,
                    "created_at_us": r.try_get::<i64, _>("created_at")?,
                }))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// A stored risk assessment as JSON-ready parts.
    pub async fn risk_assessment(&self, id: &str) -> Result<Option<Value>, StoreError> {
        let row = sqlx::query("SELECT * FROM risk_assessments WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        let fired: String = r.try_get("fired")?;
        Ok(Some(json!({
            "id": r.try_get::<String, _>("id")?, "object": "risk_assessment",
            "payment_id": r.try_get::<String, _>("payment_id")?, "user_id": r.try_get::<String, _>("user_id")?,
            "score": r.try_get::<i64, _>("score")?, "level": r.try_get::<String, _>("level")?,
            "decision": r.try_get::<String, _>("decision")?, "reason": r.try_get::<String, _>("reason")?,
            "rules": serde_json::from_str::<Value>(&fired).unwrap_or(Value::Null),
            "created_at_us": r.try_get::<i64, _>("created_at")?,
        })))
    }
}

impl Db {
    /// The values on a named list.
    pub async fn risk_list(&self, name: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT value FROM risk_list_items WHERE list_name = $1 ORDER BY value")
            .bind(name.to_string())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| r.try_get("value").map_err(StoreError::from)).collect()
    }
}

/// Adds or removes list items (idempotent both ways).
pub(crate) async fn write_lists(conn: &mut AnyConnection, w: &mut Writes, now: i64) -> Result<(), Abort> {
    for (list, value, add) in std::mem::take(&mut w.list_changes) {
        let (sql, vals) = if add {
            (
                "INSERT INTO risk_list_items (list_name, value, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (list_name, value) DO NOTHING",
                vec![Val::T(list), Val::T(value), Val::I(now)],
            )
        } else {
            ("DELETE FROM risk_list_items WHERE list_name = $1 AND value = $2", vec![Val::T(list), Val::T(value)])
        };
        sqlx::query_with(sql, args(vals)?).execute(&mut *conn).await?;
    }
    Ok(())
}
