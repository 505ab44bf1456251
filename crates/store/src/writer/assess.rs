//! The rule-based risk assessment of payments inside the writer: the current rules (loaded
//! per batch, so a change takes effect at once in every process), the windows they read (from
//! the window store, plus payments accepted earlier in the batch), keys blocked by
//! `rate_limit`, and the stored, explained assessment with its side effects (`notify` events,
//! new blocks).

use rialto_core::ids;
use rialto_risk::window::{aggregate, history, key_name, window_start, Entry, History};
use rialto_risk::{Action, Aggregate, Assessment, Facts, Key, Rule, HISTORY_FIELDS, WINDOW_SECONDS_MAX};
use serde_json::{json, Value};

use std::collections::{BTreeMap, HashSet};

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

/// What the rules read of a payment, new or stored.
pub(crate) struct View<'a> {
    pub amount: i64,
    pub currency: &'a str,
    pub kind: &'a str,
    pub method: &'a str,
    pub user_id: &'a str,
    pub context: &'a rialto_payments::PaymentContext,
}

impl<'a> View<'a> {
    fn of(n: &'a NewPayment) -> View<'a> {
        View {
            amount: n.amount.minor(),
            currency: n.currency.code(),
            kind: n.kind.as_str(),
            method: n.method.as_str(),
            user_id: &n.user_id,
            context: &n.context,
        }
    }
}

/// The new payment as the windows will see it.
pub(crate) fn entry_of(n: &NewPayment, now: i64) -> Entry {
    crate::windows::entry(
        n.id.clone(),
        now,
        n.amount.minor(),
        n.user_id.clone(),
        n.source_account_id.clone(),
        &n.context,
    )
}

/// What the enabled rules ask for: aggregates, (list, field) pairs, field names.
#[derive(Default)]
pub(crate) struct Needs {
    pub aggregates: Vec<Aggregate>,
    pub lists: Vec<(String, String)>,
    pub fields: HashSet<String>,
}

impl Needs {
    /// What the enabled rules of a set ask for.
    pub(crate) fn of(rules: &[Rule]) -> Needs {
        let mut needs = Needs::default();
        for r in rules.iter().filter(|r| r.enabled) {
            collect(&r.condition, &mut needs);
        }
        needs
    }

    /// Whether the rules read history fields (new device, travel...).
    pub(crate) fn wants_history(&self) -> bool {
        HISTORY_FIELDS.iter().any(|f| self.fields.contains(*f))
    }
}

/// Evaluates rules for one payment, given the windows of its keys: the assessment and what
/// it saw (history facts) for the explanation.
#[allow(clippy::too_many_arguments)]
pub(crate) fn evaluate<'w>(
    rules: &[Rule],
    aggregates: &[Aggregate],
    wants_history: bool,
    view: &View<'_>,
    current: &Entry,
    window: impl Fn(Key) -> &'w [Entry],
    lists: &HashSet<(String, String)>,
    (thresholds, utc_offset_seconds): (rialto_risk::Thresholds, i64),
) -> (Assessment, serde_json::Map<String, Value>) {
    let now = current.at_us;
    let mut fields = fields_of(view, current, utc_offset_seconds);
    let mut values = HashMap::new();
    for a in aggregates {
        if current.key(a.key).is_some() {
            values.insert(a.clone(), aggregate(window(a.key), a, now));
        }
    }
    let mut details = serde_json::Map::new();
    if wants_history {
        let h = history(window(Key::User), current);
        history_fields(&h, &mut fields);
        let mut hist = serde_json::Map::new();
        for f in HISTORY_FIELDS {
            if let Some(v) = fields.get(f) {
                hist.insert(f.to_string(), v.clone());
            }
        }
        details.insert("history".into(), Value::Object(hist));
    }
    let facts = PaymentRuleFacts { fields, aggregates: values, lists };
    (rialto_risk::assess(rules, &facts, thresholds), details)
}

pub(crate) fn collect(c: &rialto_risk::Condition, needs: &mut Needs) {
    use rialto_risk::Condition as C;
    match c {
        C::All(cs) | C::Any(cs) => cs.iter().for_each(|c| collect(c, needs)),
        C::Not(c) => collect(c, needs),
        C::Aggregate { aggregate, .. } if !needs.aggregates.contains(aggregate) => {
            needs.aggregates.push(aggregate.clone());
        }
        C::InList { field, list, .. } => needs.lists.push((list.clone(), field.clone())),
        C::Field { field, .. } => {
            needs.fields.insert(field.clone());
        }
        _ => {}
    }
}

/// The payment fields the rules compare. Hour and day (0 = Monday) are local to the
/// configured UTC offset.
fn fields_of(n: &View<'_>, current: &Entry, utc_offset_seconds: i64) -> HashMap<&'static str, Value> {
    let now = current.at_us;
    let [device, ip, country, merchant] =
        [&current.device, &current.ip, &current.country, &current.merchant].map(Clone::clone);
    let mut fields: HashMap<&'static str, Value> = HashMap::from([
        ("amount", json!(n.amount)),
        ("currency", json!(n.currency)),
        ("type", json!(n.kind)),
        ("method", json!(n.method)),
        ("user_id", json!(n.user_id)),
    ]);
    for (name, v) in [("device_id", device), ("ip_address", ip), ("country", country), ("merchant_id", merchant)] {
        if let Some(v) = v {
            fields.insert(name, json!(v));
        }
    }
    if let Some(bin) = &n.context.card_bin {
        fields.insert("card_bin", json!(bin));
    }
    let secs = now.div_euclid(1_000_000) + utc_offset_seconds;
    fields.insert("hour_of_day", json!((secs / 3600).rem_euclid(24)));
    // 1970-01-01 was a Thursday (3 with Monday = 0).
    fields.insert("day_of_week", json!((secs.div_euclid(86_400) + 3).rem_euclid(7)));
    fields
}

fn history_fields(h: &History, fields: &mut HashMap<&'static str, Value>) {
    let mut put = |name: &'static str, v: Option<Value>| {
        if let Some(v) = v {
            fields.insert(name, v);
        }
    };
    put("new_device", h.new_device.map(Value::from));
    put("new_country", h.new_country.map(Value::from));
    put("device_age_seconds", h.device_age_seconds.map(Value::from));
    put("distance_km", h.distance_km.map(Value::from));
    put("travel_kmh", h.travel_kmh.map(Value::from));
    put("seconds_since_last", h.seconds_since_last.map(Value::from));
}

/// (id, version, updated_at) of each live rule, in id order.
type RuleStamps = Vec<(String, i64, i64)>;

/// The parsed risk rules, shared by batches while the stored rules stay the same: each batch
/// reads only the rules' ids, versions and update times (one small query), and reads and
/// parses the documents again when any of them changed (here or in another process).
#[derive(Default)]
pub struct RuleCache {
    /// (id, version, updated_at) of each live rule, in id order, and the rules parsed from them.
    cached: std::sync::Mutex<Option<(RuleStamps, Arc<Vec<Rule>>)>>,
}

impl RuleCache {
    async fn load(&self, conn: &mut Conn) -> Result<Arc<Vec<Rule>>, Abort> {
        let stamp = |row: &Row| -> Result<(String, i64, i64), sqlx::Error> {
            Ok((row.col("id")?, row.col("version")?, row.col("updated_at")?))
        };
        let sql = "SELECT id, version, updated_at FROM risk_rules WHERE deleted = 0 ORDER BY id";
        let stamps = conn.fetch_all(sql, []).await?.iter().map(stamp).collect::<Result<RuleStamps, _>>()?;
        if let Some((seen, rules)) = self.lock().as_ref() {
            if *seen == stamps {
                return Ok(rules.clone());
            }
        }
        // Documents and stamps from one statement, so they belong together even if another
        // process changes a rule between the two queries.
        let sql = "SELECT id, version, updated_at, document FROM risk_rules WHERE deleted = 0 ORDER BY id";
        let (mut stamps, mut rules) = (Vec::new(), Vec::new());
        for row in conn.fetch_all(sql, []).await? {
            stamps.push(stamp(&row)?);
            let doc: String = row.col("document")?;
            match serde_json::from_str::<Value>(&doc)
                .map_err(|e| e.to_string())
                .and_then(|v| Rule::parse(&v).map_err(|e| e.to_string()))
            {
                Ok(r) => rules.push(r),
                Err(e) => tracing::warn!(error = %e, "a stored risk rule no longer parses; skipped"),
            }
        }
        let rules = Arc::new(rules);
        *self.lock() = Some((stamps, rules.clone()));
        Ok(rules)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(RuleStamps, Arc<Vec<Rule>>)>> {
        self.cached.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What a batch's payments need from the rules, the windows, the lists and the blocks.
#[derive(Default)]
pub(crate) struct Loaded {
    /// Current rules.
    pub rules: Arc<Vec<Rule>>,
    /// Aggregates the enabled rules compute.
    aggregates: Vec<Aggregate>,
    /// Whether the rules read history fields (new device, travel...).
    wants_history: bool,
    /// Window entries per (key, value), kept current through the batch.
    pub windows: HashMap<(Key, String), Vec<Entry>>,
    /// (list, value) pairs of this batch's payments that are on a list.
    pub lists: HashSet<(String, String)>,
    /// (key kind, value) -> (blocked until µs, rule id).
    pub blocks: HashMap<(String, String), (i64, String)>,
    /// The fraud models serving this batch.
    pub serving: super::models::Serving,
}

/// The grouping keys of a new payment that have a value.
fn keys_of(e: &Entry) -> Vec<(Key, String)> {
    rialto_risk::window::KEYS.iter().filter_map(|k| e.key(*k).map(|v| (*k, v.to_string()))).collect()
}

/// Loads the rules and, for each new payment, the windows, list memberships and blocks.
pub(crate) async fn load(
    conn: &mut Conn,
    payments: &[&NewPayment],
    now: i64,
    policies: &Policies,
) -> Result<Loaded, Abort> {
    let kind = conn.kind();
    let mut loaded = Loaded::default();
    if payments.is_empty() {
        return Ok(loaded);
    }
    loaded.rules = policies.rules.load(conn).await?;
    let needs = Needs::of(&loaded.rules);
    loaded.wants_history = needs.wants_history();
    loaded.serving = policies.models.load(conn).await?;
    // Keys blocked by `rate_limit`: any key of any payment in the batch.
    let entries: Vec<Entry> = payments.iter().map(|p| entry_of(p, now)).collect();
    let mut all_keys: Vec<(Key, String)> = entries.iter().flat_map(keys_of).collect();
    all_keys.sort_by(|a, b| (key_name(a.0), &a.1).cmp(&(key_name(b.0), &b.1)));
    all_keys.dedup();
    for chunk in all_keys.chunks(400) {
        let mut vals = Vec::new();
        let mut tuples = Vec::new();
        for (k, v) in chunk {
            let n = vals.len();
            tuples.push(format!(
                "(key_kind = {} AND key_value = {})",
                placeholders(kind, n + 1, 1),
                placeholders(kind, n + 2, 1)
            ));
            vals.push(Val::T(key_name(*k).to_string()));
            vals.push(Val::T(v.clone()));
        }
        vals.push(Val::I(now));
        let sql = format!(
            "SELECT key_kind, key_value, until_us, rule_id FROM risk_blocks WHERE ({}) AND until_us > {}",
            tuples.join(" OR "),
            placeholders(kind, vals.len(), 1)
        );
        for row in conn.fetch_all(&sql, vals).await? {
            loaded
                .blocks
                .insert((row.col("key_kind")?, row.col("key_value")?), (row.col("until_us")?, row.col("rule_id")?));
        }
    }
    if loaded.rules.iter().all(|r| !r.enabled) && loaded.serving.is_empty() {
        return Ok(loaded);
    }
    loaded.lists = load_lists(conn, payments, &entries, &needs, policies.time_zone.offset_at(now)).await?;
    // The windows: per (key, value), as far back as the longest window over that key.
    let mut since: HashMap<(Key, String), i64> = HashMap::new();
    for e in &entries {
        let mut want = |key: Key, seconds: i64| {
            if let Some(v) = e.key(key) {
                let start = window_start(now, seconds);
                let s = since.entry((key, v.to_string())).or_insert(start);
                *s = (*s).min(start);
            }
        };
        for a in &needs.aggregates {
            want(a.key, a.window_seconds);
        }
        // History rules and the models' features read the user's last 30 days.
        if loaded.wants_history || !loaded.serving.is_empty() {
            want(Key::User, WINDOW_SECONDS_MAX);
        }
    }
    let wanted: Vec<(Key, String, i64)> = since.into_iter().map(|((k, v), s)| (k, v, s)).collect();
    if window_locks(kind, policies) {
        lock_windows(conn, &wanted).await?;
    }
    loaded.windows = policies.windows.load(&wanted).await?;
    // A payment another process committed after this batch took its time (while the batch
    // waited for the window lock, or from a clock ahead of ours) happened before this batch
    // in commit order: it counts as one microsecond before now.
    for e in loaded.windows.values_mut().flatten() {
        e.at_us = e.at_us.min(now - 1);
    }
    loaded.aggregates = needs.aggregates;
    Ok(loaded)
}

/// Which of the batch's values are on the lists the rules read: one query per list.
async fn load_lists(
    conn: &mut Conn,
    payments: &[&NewPayment],
    entries: &[Entry],
    needs: &Needs,
    utc_offset_seconds: i64,
) -> Result<HashSet<(String, String)>, Abort> {
    if needs.lists.is_empty() {
        return Ok(HashSet::new());
    }
    let mut wanted: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (p, e) in payments.iter().zip(entries) {
        let fields = fields_of(&View::of(p), e, utc_offset_seconds);
        for (list, field) in &needs.lists {
            if let Some(v) = fields.get(field.as_str()).and_then(Value::as_str) {
                wanted.entry(list.as_str()).or_default().insert(v.to_string());
            }
        }
    }
    let mut on = HashSet::new();
    for (list, values) in wanted {
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let select = "SELECT value FROM risk_list_items WHERE list_name = $1";
        for row in conn.fetch_in_where(select, vec![Val::T(list.to_string())], "value", &values, "").await? {
            on.insert((list.to_string(), row.col("value")?));
        }
    }
    Ok(on)
}

/// Whether a batch reads its windows under advisory locks (Redis on PostgreSQL), which the
/// writer must then release.
pub(crate) fn window_locks(kind: DbKind, policies: &Policies) -> bool {
    kind == DbKind::Postgres && policies.windows.shared()
}

/// Windows shared by processes (Redis on PostgreSQL) are read under a session-level advisory
/// lock per key, which the writer releases only after COMMIT and the window store has
/// recorded the batch's payments ([`unlock_windows`]): a process reading a key's window
/// therefore sees every payment another process accepted under it, even at the same instant.
/// Locks are taken in one order (sorted ids), so batches of two processes wait for each other
/// rather than deadlock; PostgreSQL's deadlock detector covers the rest (the batch retries).
async fn lock_windows(conn: &mut Conn, wanted: &[(Key, String, i64)]) -> Result<(), Abort> {
    let keys = wanted.iter().map(|(k, v, _)| crate::sql::lock_key(&[key_name(*k), v])).collect();
    crate::sql::advisory_locks(conn, "pg_advisory_lock", keys).await?;
    Ok(())
}

/// Releases the window locks of [`lock_windows`] (after COMMIT and the window store's record,
/// or after ROLLBACK).
pub(crate) async fn unlock_windows(conn: &mut Conn) -> Result<(), sqlx::Error> {
    conn.fetch_all("SELECT pg_advisory_unlock_all()", []).await.map(|_| ())
}

/// The first key of a payment that a `rate_limit` blocked: (kind, value, until, rule).
pub(crate) fn blocked(risk: &Loaded, now: i64, current: &Entry) -> Option<(String, String, i64, String)> {
    keys_of(current).into_iter().find_map(|(k, v)| {
        let kind = key_name(k).to_string();
        risk.blocks
            .get(&(kind.clone(), v.clone()))
            .filter(|(until, _)| *until > now)
            .map(|(until, rule)| (kind, v, *until, rule.clone()))
    })
}

/// Adds an accepted payment to the batch's windows (later payments of the batch see it) and
/// to what the store records after the commit.
pub(crate) fn accept(risk: &mut Loaded, writes: &mut Writes, e: Entry) {
    for key in keys_of(&e) {
        if let Some(list) = risk.windows.get_mut(&key) {
            list.push(e.clone());
        }
    }
    writes.window_entries.push(e);
}

/// Assesses a new payment with the loaded rules; stores the explained assessment and queues
/// its side effects (a `risk.alert` event for `notify`, blocks for `rate_limit`).
pub(crate) fn assess(
    loaded: &mut Loaded,
    policies: &Policies,
    now: i64,
    writes: &mut Writes,
    n: &NewPayment,
    current: &Entry,
) -> Option<(String, Assessment)> {
    if loaded.rules.iter().all(|r| !r.enabled) && loaded.serving.is_empty() {
        return None;
    }
    let offset = policies.time_zone.offset_at(now);
    let empty = Vec::new();
    let risk = &*loaded;
    let window = |key: Key| -> &[Entry] {
        current.key(key).and_then(|v| risk.windows.get(&(key, v.to_string()))).map_or(&empty[..], |l| &l[..])
    };
    let (mut a, mut details) = evaluate(
        &risk.rules,
        &risk.aggregates,
        risk.wants_history,
        &View::of(n),
        current,
        window,
        &risk.lists,
        (policies.thresholds, offset),
    );
    let id = ids::new_id::<ids::AssessmentId>();
    // The fraud models: the champion's score counts; a challenger's is only recorded.
    let thresholds = policies.thresholds;
    let ctx = super::models::ScoreContext {
        assessment_id: &id,
        payment_id: &n.id,
        current,
        user_window: window(Key::User),
        utc_offset_seconds: offset,
        thresholds,
        now,
    };
    let (champion, challenger) = policies.models.score_payment(&risk.serving, &ctx, &mut writes.model_scores);
    if let Some(c) = champion {
        match c["score"].as_i64() {
            Some(score) => a = a.with_model_score(score, thresholds),
            None => {
                a.reason = format!(
                    "{}; decided by the rules alone: the model gave no answer ({})",
                    a.reason,
                    c["outcome"].as_str().unwrap_or("failed")
                )
            }
        }
        details.insert("model".into(), c);
    }
    if let Some(c) = challenger {
        details.insert("challenger".into(), c);
    }
    // Side effects of the rules that fired.
    let mut alerts = Vec::new();
    let mut flags = Vec::new();
    let mut second_factor = false;
    for f in &a.fired {
        for action in &f.actions {
            match action {
                Action::Notify => alerts.push(f.rule_id.clone()),
                Action::Flag => flags.push(f.rule_id.clone()),
                Action::Require2fa => second_factor = true,
                Action::RateLimit { key, seconds } => {
                    if let Some(v) = current.key(*key) {
                        let until = now.saturating_add(seconds.saturating_mul(1_000_000));
                        let k = (key_name(*key).to_string(), v.to_string());
                        loaded.blocks.insert(k.clone(), (until, f.rule_id.clone()));
                        writes.risk_blocks.push((k.0, k.1, until, f.rule_id.clone()));
                        if let Some(l) = details.entry("rate_limits").or_insert_with(|| json!([])).as_array_mut() {
                            l.push(json!({"key": key_name(*key), "value": v, "until_us": until}));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    // A second factor is asked for by holding the payment until it is confirmed.
    if second_factor && a.decision == rialto_risk::Decision::Approve {
        a.decision = rialto_risk::Decision::Review;
        a.reason = "a second factor is required".into();
    }
    details.insert("flags".into(), json!(flags));
    details.insert("require_2fa".into(), json!(second_factor));
    details.insert("notified".into(), json!(alerts));
    details.insert("time_zone".into(), json!(policies.time_zone.name()));
    details.insert("time_zone_offset_seconds".into(), json!(offset));
    if !alerts.is_empty() {
        writes.events.push(rialto_engine::Event {
            kind: "risk.alert",
            resource_type: "payment",
            resource_id: n.id.clone(),
            data: json!({"object": "risk_alert", "payment_id": n.id, "user_id": n.user_id, "assessment_id": id,
                "rules": alerts, "score": a.score, "decision": a.decision.as_str()})
            .to_string(),
        });
    }
    let fired: Vec<Value> = a
        .fired
        .iter()
        .map(|f| {
            let actions: Vec<Value> = f.actions.iter().map(rialto_risk::Action::to_json).collect();
            json!({"rule_id": f.rule_id, "contribution": f.contribution, "actions": actions})
        })
        .collect();
    writes.assessments.push(vec![
        Val::T(id.clone()),
        Val::T(n.id.clone()),
        Val::T(n.user_id.clone()),
        Val::I(a.score),
        Val::T(a.level.as_str().to_string()),
        Val::T(a.decision.as_str().to_string()),
        Val::T(a.reason.clone()),
        Val::T(Value::Array(fired).to_string()),
        Val::I(now),
        Val::T(Value::Object(details).to_string()),
    ]);
    Some((id, a))
}

pub(crate) async fn write(conn: &mut Conn, w: &mut Writes) -> Result<(), Abort> {
    let rows = std::mem::take(&mut w.assessments);
    if !rows.is_empty() {
        let head = "INSERT INTO risk_assessments \
                    (id, payment_id, user_id, score, level, decision, reason, fired, created_at, details)";
        exec_values(conn, head, 10, rows, "").await?;
    }
    for (key_kind, value, until, rule) in std::mem::take(&mut w.risk_blocks) {
        let sql = "INSERT INTO risk_blocks (key_kind, key_value, until_us, rule_id, created_at) \
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key_kind, key_value) DO UPDATE \
                   SET until_us = excluded.until_us, rule_id = excluded.rule_id, created_at = excluded.created_at";
        let vals = vec![Val::T(key_kind), Val::T(value), Val::I(until), Val::T(rule), Val::I(now_us())];
        conn.execute(sql, vals).await?;
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
                    "id": r.col::<String>("id")?, "payment_id": r.col::<String>("payment_id")?,
                    "score": r.col::<i64>("score")?, "level": r.col::<String>("level")?,
                    "decision": r.col::<String>("decision")?, "reason": r.col::<String>("reason")?,
                    "created_at_us": r.col::<i64>("created_at")?,
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
        let fired: String = r.col("fired")?;
        Ok(Some(json!({
            "id": r.col::<String>("id")?, "object": "risk_assessment",
            "payment_id": r.col::<String>("payment_id")?, "user_id": r.col::<String>("user_id")?,
            "score": r.col::<i64>("score")?, "level": r.col::<String>("level")?,
            "decision": r.col::<String>("decision")?, "reason": r.col::<String>("reason")?,
            "rules": serde_json::from_str::<Value>(&fired).unwrap_or(Value::Null),
            "details": r.col::<Option<String>>("details")?
                .and_then(|d| serde_json::from_str::<Value>(&d).ok()).unwrap_or(Value::Null),
            "created_at_us": r.col::<i64>("created_at")?,
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
        rows.iter().map(|r| r.col("value").map_err(StoreError::from)).collect()
    }
}

/// Adds or removes list items (idempotent both ways).
pub(crate) async fn write_lists(conn: &mut Conn, w: &mut Writes, now: i64) -> Result<(), Abort> {
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
        conn.execute(sql, vals).await?;
    }
    Ok(())
}
