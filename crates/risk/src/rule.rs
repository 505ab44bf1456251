//! Rule documents, their validation and their evaluation.

use serde_json::{Map, Value};

/// Longest aggregate window: 30 days.
pub const WINDOW_SECONDS_MAX: i64 = 30 * 24 * 3600;
/// Deepest condition tree.
const DEPTH_MAX: usize = 8;
/// Most conditions in one rule.
const CONDITIONS_MAX: usize = 64;

/// The payment fields a condition may compare.
const FIELDS: [(&str, Kind); 18] = [
    ("amount", Kind::Number),
    ("currency", Kind::Text),
    ("type", Kind::Text),
    ("method", Kind::Text),
    ("country", Kind::Text),
    ("merchant_id", Kind::Text),
    ("device_id", Kind::Text),
    ("ip_address", Kind::Text),
    ("user_id", Kind::Text),
    ("hour_of_day", Kind::Number),
    ("day_of_week", Kind::Number),
    ("card_bin", Kind::Text),
    // From the user's history (see [`crate::window::history`]).
    ("new_device", Kind::Bool),
    ("new_country", Kind::Bool),
    ("device_age_seconds", Kind::Number),
    ("distance_km", Kind::Number),
    ("travel_kmh", Kind::Number),
    ("seconds_since_last", Kind::Number),
];

/// Fields computed from the user's payment history rather than the payment itself.
pub const HISTORY_FIELDS: [&str; 6] =
    ["new_device", "new_country", "device_age_seconds", "distance_km", "travel_kmh", "seconds_since_last"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Text,
    Bool,
}

/// A refused rule document: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RuleError {
    /// JSON path of the offending part, e.g. `condition.all[1].op`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err<T>(path: &str, message: impl Into<String>) -> Result<T, RuleError> {
    Err(RuleError { path: path.to_string(), message: message.into() })
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Greater than.
    Gt,
    /// Greater or equal.
    Gte,
    /// Less than.
    Lt,
    /// Less or equal.
    Lte,
    /// Member of the given array.
    In,
    /// Not a member of the given array.
    NotIn,
    /// Text contains.
    Contains,
    /// Text does not contain.
    NotContains,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "in" => Op::In,
            "not_in" => Op::NotIn,
            "contains" => Op::Contains,
            "not_contains" => Op::NotContains,
            _ => return None,
        })
    }
}

rialto_core::string_enum! {
    /// What an aggregate is keyed by.
    pub enum Key {
        /// The paying user.
        User = "user",
        /// The source account.
        Account = "account",
        /// The device.
        Device = "device",
        /// The client IP.
        Ip = "ip",
        /// The merchant.
        Merchant = "merchant",
    }
}

/// Aggregate functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateFn {
    /// Number of payments.
    Count,
    /// Sum of amounts.
    Sum,
    /// Number of distinct values of a field.
    DistinctCount,
    /// Average amount.
    Average,
}

/// A windowed aggregate over past payments, e.g. "count per user over 300 s".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Aggregate {
    /// Function.
    pub func: AggregateFn,
    /// Grouping key.
    pub key: Key,
    /// Field counted by `distinct_count` (e.g. `device_id`).
    pub of: Option<String>,
    /// Window, seconds (1..=30 days).
    pub window_seconds: i64,
}

/// A condition tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Every child holds.
    All(Vec<Condition>),
    /// At least one child holds.
    Any(Vec<Condition>),
    /// The child does not hold.
    Not(Box<Condition>),
    /// A payment field compared with a value.
    Field {
        /// Field name.
        field: String,
        /// Operator.
        op: Op,
        /// Value (an array for `in` / `not_in`).
        value: Value,
    },
    /// The field's value is (or is not) on a named list.
    InList {
        /// Field name.
        field: String,
        /// List name.
        list: String,
        /// True for "not on the list".
        negate: bool,
    },
    /// A windowed aggregate compared with a number.
    Aggregate {
        /// The aggregate.
        aggregate: Aggregate,
        /// Operator (numeric only).
        op: Op,
        /// Threshold.
        value: f64,
    },
}

/// What a rule does when it fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Decision: reject.
    Reject,
    /// Decision: hold for review.
    Review,
    /// Decision: block (reject and treat the key as compromised).
    Block,
    /// Mark the assessment.
    Flag,
    /// Emit a `risk.alert` event.
    Notify,
    /// Add to the score.
    IncreaseScore(i64),
    /// Ask for a second factor.
    Require2fa,
    /// Block a key (e.g. the user) for a while.
    RateLimit {
        /// The key blocked.
        key: Key,
        /// For how long.
        seconds: i64,
    },
}

impl Action {
    /// The action as a rule document writes it (`{"type": "increase_score", "by": 40}`): the
    /// stable form stored with assessments and shown to clients.
    pub fn to_json(&self) -> Value {
        let kind = match self {
            Action::Reject => "reject",
            Action::Review => "review",
            Action::Block => "block",
            Action::Flag => "flag",
            Action::Notify => "notify",
            Action::Require2fa => "require_2fa",
            Action::IncreaseScore(by) => return serde_json::json!({"type": "increase_score", "by": by}),
            Action::RateLimit { key, seconds } => {
                return serde_json::json!({"type": "rate_limit", "key": key.as_str(), "seconds": seconds})
            }
        };
        serde_json::json!({ "type": kind })
    }
}

/// A validated rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Stable id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Evaluation order: lower first.
    pub priority: i64,
    /// Disabled rules are kept but not evaluated.
    pub enabled: bool,
    /// Score added when it fires and no `increase_score` action says otherwise.
    pub weight: i64,
    /// When it fires.
    pub condition: Condition,
    /// What it does.
    pub actions: Vec<Action>,
}

fn obj<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, RuleError> {
    v.as_object().map_or_else(|| err(path, "must be an object"), Ok)
}

fn known(m: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<(), RuleError> {
    match m.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => err(&format!("{path}.{k}"), "unknown field"),
        None => Ok(()),
    }
}

fn string(m: &Map<String, Value>, path: &str, name: &str, max: usize) -> Result<String, RuleError> {
    match m.get(name) {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= max => Ok(s.clone()),
        Some(Value::String(_)) => err(&format!("{path}.{name}"), format!("must be 1 to {max} characters")),
        Some(_) => err(&format!("{path}.{name}"), "must be a string"),
        None => err(&format!("{path}.{name}"), "is required"),
    }
}

fn int(m: &Map<String, Value>, path: &str, name: &str, range: (i64, i64), default: i64) -> Result<i64, RuleError> {
    match m.get(name) {
        None => Ok(default),
        Some(v) => match v.as_i64() {
            Some(i) if (range.0..=range.1).contains(&i) => Ok(i),
            _ => err(&format!("{path}.{name}"), format!("must be an integer from {} to {}", range.0, range.1)),
        },
    }
}

impl Rule {
    /// Parses and validates a rule document; the first problem if any (see [`Rule::check`]).
    pub fn parse(doc: &Value) -> Result<Rule, RuleError> {
        Rule::check(doc).map_err(|mut problems| problems.swap_remove(0))
    }

    /// Parses and validates a rule document, reporting every problem of its fields, its
    /// condition and its actions at once (a condition tree reports its first problem).
    pub fn check(doc: &Value) -> Result<Rule, Vec<RuleError>> {
        let m = obj(doc, "$").map_err(|e| vec![e])?;
        let mut problems = Vec::new();
        let p = &mut problems;
        let allowed = ["id", "name", "description", "priority", "enabled", "weight", "condition", "actions"];
        for key in m.keys().filter(|k| !allowed.contains(&k.as_str())) {
            p.push(RuleError {
                path: format!("$.{key}"),
                message: format!("unknown field; known: {}", allowed.join(", ")),
            });
        }
        let id = keep(
            p,
            string(m, "$", "id", 64).and_then(|id| {
                if id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                    Ok(id)
                } else {
                    err("$.id", "may hold letters, digits, `_` and `-` only")
                }
            }),
        );
        let name = keep(p, string(m, "$", "name", 200));
        let description = keep(p, description(m));
        let priority = keep(p, int(m, "$", "priority", (0, 1_000_000), 100));
        let weight = keep(p, int(m, "$", "weight", (0, 100), 0));
        let enabled = keep(p, enabled(m));
        let mut count = 0;
        let condition = keep(
            p,
            match m.get("condition") {
                Some(c) => parse_condition(c, "$.condition", 0, &mut count)
                    .and_then(|c| contradictions(&c, "$.condition").map(|()| c)),
                None => err("$.condition", "is required"),
            },
        );
        let actions = actions(m, p);
        if actions.as_ref().is_some_and(Vec::is_empty) && weight == Some(0) {
            p.push(RuleError {
                path: "$.actions".into(),
                message: "a rule needs actions or a weight, or it can never matter".into(),
            });
        }
        match (id, name, description, priority, enabled, weight, condition, actions) {
            (
                Some(id),
                Some(name),
                Some(description),
                Some(priority),
                Some(enabled),
                Some(weight),
                Some(condition),
                Some(actions),
            ) if problems.is_empty() => {
                Ok(Rule { id, name, description, priority, enabled, weight, condition, actions })
            }
            _ => Err(problems),
        }
    }
}

fn description(m: &Map<String, Value>) -> Result<String, RuleError> {
    match m.get("description") {
        None => Ok(String::new()),
        Some(Value::String(s)) if s.chars().count() <= 2000 => Ok(s.clone()),
        Some(_) => err("$.description", "must be a string of at most 2000 characters"),
    }
}

fn enabled(m: &Map<String, Value>) -> Result<bool, RuleError> {
    match m.get("enabled") {
        None => Ok(true),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => err("$.enabled", "must be a boolean"),
    }
}

/// The actions, every bad one's problem kept.
fn actions(m: &Map<String, Value>, problems: &mut Vec<RuleError>) -> Option<Vec<Action>> {
    match m.get("actions") {
        None => Some(Vec::new()),
        Some(Value::Array(a)) => {
            let parsed: Vec<Option<Action>> = a
                .iter()
                .enumerate()
                .map(|(i, a)| keep(problems, parse_action(a, &format!("$.actions[{i}]"))))
                .collect();
            parsed.into_iter().collect()
        }
        Some(_) => keep(problems, err("$.actions", "must be an array")),
    }
}

/// The value, or None with its problem kept.
fn keep<T>(problems: &mut Vec<RuleError>, r: Result<T, RuleError>) -> Option<T> {
    r.map_err(|e| problems.push(e)).ok()
}

fn field_kind(name: &str, path: &str) -> Result<Kind, RuleError> {
    match FIELDS.iter().find(|(f, _)| *f == name) {
        Some((_, k)) => Ok(*k),
        None => err(path, format!("unknown field `{name}`; known: {}", FIELDS.map(|f| f.0).join(", "))),
    }
}

fn parse_condition(v: &Value, path: &str, depth: usize, count: &mut usize) -> Result<Condition, RuleError> {
    *count += 1;
    if *count > CONDITIONS_MAX {
        return err(path, format!("a rule has at most {CONDITIONS_MAX} conditions"));
    }
    if depth > DEPTH_MAX {
        return err(path, format!("conditions nest at most {DEPTH_MAX} deep"));
    }
    let m = obj(v, path)?;
    for group in ["all", "any"] {
        if let Some(children) = m.get(group) {
            known(m, path, &[group])?;
            let Value::Array(children) = children else { return err(&format!("{path}.{group}"), "must be an array") };
            if children.is_empty() {
                return err(&format!("{path}.{group}"), "must not be empty");
            }
            let parsed = children
                .iter()
                .enumerate()
                .map(|(i, c)| parse_condition(c, &format!("{path}.{group}[{i}]"), depth + 1, count))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(if group == "all" { Condition::All(parsed) } else { Condition::Any(parsed) });
        }
    }
    if let Some(child) = m.get("not") {
        known(m, path, &["not"])?;
        return Ok(Condition::Not(Box::new(parse_condition(child, &format!("{path}.not"), depth + 1, count)?)));
    }
    if let Some(list) = m.get("in_list").or_else(|| m.get("not_in_list")) {
        known(m, path, &["field", "in_list", "not_in_list"])?;
        let negate = m.contains_key("not_in_list");
        let field = string(m, path, "field", 64)?;
        field_kind(&field, &format!("{path}.field"))?;
        let Value::String(list) = list else { return err(path, "the list name must be a string") };
        return Ok(Condition::InList { field, list: list.clone(), negate });
    }
    let op_path = format!("{path}.op");
    let op = match m.get("op") {
        Some(Value::String(s)) => Op::parse(s).map_or_else(|| err(&op_path, format!("unknown operator `{s}`")), Ok)?,
        _ => return err(&op_path, "is required: eq ne gt gte lt lte in not_in contains not_contains"),
    };
    let value = m.get("value").cloned().map_or_else(|| err(&format!("{path}.value"), "is required"), Ok)?;
    if let Some(a) = m.get("aggregate") {
        known(m, path, &["aggregate", "op", "value"])?;
        let aggregate = parse_aggregate(a, &format!("{path}.aggregate"))?;
        if !matches!(op, Op::Eq | Op::Ne | Op::Gt | Op::Gte | Op::Lt | Op::Lte) {
            return err(&op_path, "aggregates compare with eq ne gt gte lt lte");
        }
        let Some(value) = value.as_f64() else { return err(&format!("{path}.value"), "must be a number") };
        return Ok(Condition::Aggregate { aggregate, op, value });
    }
    known(m, path, &["field", "op", "value"])?;
    let field = string(m, path, "field", 64)?;
    let kind = field_kind(&field, &format!("{path}.field"))?;
    let value_path = format!("{path}.value");
    match op {
        Op::In | Op::NotIn => {
            let Value::Array(items) = &value else { return err(&value_path, "must be an array for in / not_in") };
            if items.is_empty() || !items.iter().all(|i| matches_kind(i, kind)) {
                return err(&value_path, "must be a non-empty array of values of the field's type");
            }
        }
        _ if kind == Kind::Bool && !matches!(op, Op::Eq | Op::Ne) => {
            return err(&op_path, format!("`{field}` is true or false; use eq or ne"));
        }
        Op::Contains | Op::NotContains if kind != Kind::Text => {
            return err(&op_path, "contains / not_contains compare text fields");
        }
        Op::Gt | Op::Gte | Op::Lt | Op::Lte if kind != Kind::Number => {
            return err(&op_path, format!("`{field}` is not a number; use eq ne in not_in contains not_contains"));
        }
        _ if !matches_kind(&value, kind) => {
            return err(
                &value_path,
                format!(
                    "must be a {} like the field",
                    match kind {
                        Kind::Number => "number",
                        Kind::Text => "string",
                        Kind::Bool => "boolean",
                    }
                ),
            );
        }
        _ => {}
    }
    Ok(Condition::Field { field, op, value })
}

fn matches_kind(v: &Value, kind: Kind) -> bool {
    match kind {
        Kind::Number => v.is_number(),
        Kind::Text => v.is_string(),
        Kind::Bool => v.is_boolean(),
    }
}

fn parse_aggregate(v: &Value, path: &str) -> Result<Aggregate, RuleError> {
    let m = obj(v, path)?;
    known(m, path, &["fn", "key", "of", "window_seconds"])?;
    let func = match m.get("fn").and_then(Value::as_str) {
        Some("count") => AggregateFn::Count,
        Some("sum") => AggregateFn::Sum,
        Some("distinct_count") => AggregateFn::DistinctCount,
        Some("avg") => AggregateFn::Average,
        _ => return err(&format!("{path}.fn"), "must be count, sum, distinct_count or avg"),
    };
    let Some(key) = m.get("key").and_then(Value::as_str).and_then(Key::parse) else {
        return err(&format!("{path}.key"), format!("must be {}", Key::names()));
    };
    let window_seconds = int(m, path, "window_seconds", (1, WINDOW_SECONDS_MAX), 0)?;
    if window_seconds == 0 {
        return err(&format!("{path}.window_seconds"), "is required");
    }
    let of = match (func, m.get("of")) {
        (AggregateFn::DistinctCount, Some(Value::String(f))) => {
            field_kind(f, &format!("{path}.of"))?;
            Some(f.clone())
        }
        (AggregateFn::DistinctCount, _) => {
            return err(&format!("{path}.of"), "distinct_count needs the field to count")
        }
        (_, Some(_)) => return err(&format!("{path}.of"), "only distinct_count takes `of`"),
        (_, None) => None,
    };
    Ok(Aggregate { func, key, of, window_seconds })
}

fn parse_action(v: &Value, path: &str) -> Result<Action, RuleError> {
    let m = obj(v, path)?;
    let kind = m.get("type").and_then(Value::as_str).unwrap_or_default();
    let action = match kind {
        "reject" => Action::Reject,
        "review" => Action::Review,
        "block" => Action::Block,
        "flag" => Action::Flag,
        "notify" => Action::Notify,
        "require_2fa" => Action::Require2fa,
        "increase_score" => {
            known(m, path, &["type", "by"])?;
            return Ok(Action::IncreaseScore(int(m, path, "by", (1, 100), 0).and_then(|b| {
                if b == 0 {
                    err(&format!("{path}.by"), "is required")
                } else {
                    Ok(b)
                }
            })?));
        }
        "rate_limit" => {
            known(m, path, &["type", "key", "seconds"])?;
            let key = parse_aggregate(
                &serde_json::json!({"fn": "count", "key": m.get("key").cloned().unwrap_or(Value::Null), "window_seconds": 1}),
                path,
            )?
            .key;
            let seconds = int(m, path, "seconds", (1, WINDOW_SECONDS_MAX), 0)?;
            if seconds == 0 {
                return err(&format!("{path}.seconds"), "is required");
            }
            return Ok(Action::RateLimit { key, seconds });
        }
        _ => {
            return err(
                &format!("{path}.type"),
                "must be reject, review, block, flag, notify, increase_score, require_2fa or rate_limit",
            )
        }
    };
    known(m, path, &["type"])?;
    Ok(action)
}

/// Refuses `all` groups whose numeric bounds on one field (or one aggregate) cannot all hold,
/// and equalities on one field with different values: such a rule can never fire.
fn contradictions(c: &Condition, path: &str) -> Result<(), RuleError> {
    match c {
        Condition::All(children) => {
            let mut bounds: Vec<(String, f64, f64, bool, bool)> = Vec::new();
            let mut equal: Vec<(String, Value)> = Vec::new();
            for (i, child) in children.iter().enumerate() {
                contradictions(child, &format!("{path}.all[{i}]"))?;
                let (subject, op, value) = match child {
                    Condition::Field { field, op, value } => (field.clone(), *op, value.clone()),
                    Condition::Aggregate { aggregate, op, value } => {
                        (format!("{aggregate:?}"), *op, Value::from(*value))
                    }
                    _ => continue,
                };
                if op == Op::Eq {
                    if let Some((_, other)) = equal.iter().find(|(s, _)| *s == subject) {
                        if *other != value {
                            return err(&format!("{path}.all[{i}]"), "contradicts an earlier `eq` on the same field");
                        }
                    }
                    equal.push((subject.clone(), value.clone()));
                }
                let Some(x) = value.as_f64() else { continue };
                let entry = match bounds.iter_mut().find(|b| b.0 == subject) {
                    Some(e) => e,
                    None => {
                        bounds.push((subject.clone(), f64::NEG_INFINITY, f64::INFINITY, true, true));
                        bounds.last_mut().unwrap_or_else(|| unreachable!())
                    }
                };
                match op {
                    Op::Gt if x >= entry.1 => (entry.1, entry.3) = (x, false),
                    Op::Gte if x > entry.1 => (entry.1, entry.3) = (x, true),
                    Op::Lt if x <= entry.2 => (entry.2, entry.4) = (x, false),
                    Op::Lte if x < entry.2 => (entry.2, entry.4) = (x, true),
                    Op::Eq => (entry.1, entry.2, entry.3, entry.4) = (x.max(entry.1), x.min(entry.2), true, true),
                    _ => {}
                }
                let empty = entry.1 > entry.2 || (entry.1 == entry.2 && !(entry.3 && entry.4));
                if empty {
                    return err(
                        &format!("{path}.all[{i}]"),
                        "cannot hold together with the other conditions: the rule could never fire",
                    );
                }
            }
            Ok(())
        }
        Condition::Any(children) => {
            children.iter().enumerate().try_for_each(|(i, c)| contradictions(c, &format!("{path}.any[{i}]")))
        }
        Condition::Not(child) => contradictions(child, &format!("{path}.not")),
        _ => Ok(()),
    }
}

/// What the rules see of a payment.
pub trait Facts {
    /// A payment field (`amount`, `country`, ...), if known.
    fn field(&self, name: &str) -> Option<Value>;
    /// Whether `value` is on the named list.
    fn on_list(&self, list: &str, value: &Value) -> bool;
    /// The value of a windowed aggregate, this payment excluded.
    fn aggregate(&self, aggregate: &Aggregate) -> Option<f64>;
}

fn holds(c: &Condition, facts: &dyn Facts) -> bool {
    match c {
        Condition::All(cs) => cs.iter().all(|c| holds(c, facts)),
        Condition::Any(cs) => cs.iter().any(|c| holds(c, facts)),
        Condition::Not(c) => !holds(c, facts),
        Condition::InList { field, list, negate } => {
            facts.field(field).is_some_and(|v| facts.on_list(list, &v)) != *negate
        }
        Condition::Aggregate { aggregate, op, value } => {
            facts.aggregate(aggregate).is_some_and(|x| compare(&Value::from(x), *op, &Value::from(*value)))
        }
        Condition::Field { field, op, value } => match facts.field(field) {
            Some(actual) => compare(&actual, *op, value),
            // A missing field satisfies only the negative operators.
            None => matches!(op, Op::Ne | Op::NotIn | Op::NotContains),
        },
    }
}

fn compare(actual: &Value, op: Op, expected: &Value) -> bool {
    let num = |v: &Value| v.as_f64();
    match op {
        Op::Eq => actual == expected || num(actual).zip(num(expected)).is_some_and(|(a, b)| a == b),
        Op::Ne => !compare(actual, Op::Eq, expected),
        Op::Gt => num(actual).zip(num(expected)).is_some_and(|(a, b)| a > b),
        Op::Gte => num(actual).zip(num(expected)).is_some_and(|(a, b)| a >= b),
        Op::Lt => num(actual).zip(num(expected)).is_some_and(|(a, b)| a < b),
        Op::Lte => num(actual).zip(num(expected)).is_some_and(|(a, b)| a <= b),
        Op::In => expected.as_array().is_some_and(|items| items.iter().any(|i| compare(actual, Op::Eq, i))),
        Op::NotIn => !compare(actual, Op::In, expected),
        Op::Contains => actual.as_str().zip(expected.as_str()).is_some_and(|(a, b)| a.contains(b)),
        Op::NotContains => !compare(actual, Op::Contains, expected),
    }
}

rialto_core::string_enum! {
    /// Risk levels by score.
    pub enum Level {
        /// Below `medium`.
        Low = "low",
        /// From `medium`.
        Medium = "medium",
        /// From `high`.
        High = "high",
        /// From `critical`.
        Critical = "critical",
    }
}

/// Score thresholds of the levels (defaults 30, 60, 80).
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// Lowest medium score.
    pub medium: i64,
    /// Lowest high score.
    pub high: i64,
    /// Lowest critical score.
    pub critical: i64,
}

impl Thresholds {
    /// The level of a score.
    pub fn level(&self, score: i64) -> Level {
        match score {
            s if s >= self.critical => Level::Critical,
            s if s >= self.high => Level::High,
            s if s >= self.medium => Level::Medium,
            _ => Level::Low,
        }
    }
}

impl Level {
    /// What a level decides on its own: low approves, medium reviews, high rejects,
    /// critical blocks.
    pub fn decision(self) -> Decision {
        match self {
            Level::Low => Decision::Approve,
            Level::Medium => Decision::Review,
            Level::High => Decision::Reject,
            Level::Critical => Decision::Block,
        }
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { medium: 30, high: 60, critical: 80 }
    }
}

rialto_core::string_enum! {
    /// The outcome for the payment.
    pub enum Decision {
        /// Go on.
        Approve = "approve",
        /// Hold for a reviewer.
        Review = "review",
        /// Refuse.
        Reject = "reject",
        /// Refuse and block.
        Block = "block",
    }
}

/// A rule that fired and what it added.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    /// Rule id.
    pub rule_id: String,
    /// Score it added.
    pub contribution: i64,
    /// Its actions.
    pub actions: Vec<Action>,
}

/// An explained assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Rules that fired, in evaluation order.
    pub fired: Vec<Fired>,
    /// Total score, 0..=100.
    pub score: i64,
    /// Level of the score.
    pub level: Level,
    /// Final decision.
    pub decision: Decision,
    /// Why, in words.
    pub reason: String,
}

/// Evaluates the enabled rules in priority order. The score is the sum of contributions
/// (capped at 100); the level maps to a decision (low approve, medium review, high reject,
/// critical block); a `reject`, `review` or `block` action overrides it when stricter.
pub fn assess(rules: &[Rule], facts: &dyn Facts, thresholds: Thresholds) -> Assessment {
    let mut ordered: Vec<&Rule> = rules.iter().filter(|r| r.enabled).collect();
    ordered.sort_by(|a, b| a.priority.cmp(&b.priority).then_with(|| a.id.cmp(&b.id)));
    let mut fired = Vec::new();
    let mut score = 0i64;
    let mut forced: Option<(Decision, String)> = None;
    for rule in ordered {
        if !holds(&rule.condition, facts) {
            continue;
        }
        let explicit: i64 = rule.actions.iter().map(|a| if let Action::IncreaseScore(n) = a { *n } else { 0 }).sum();
        let contribution = if explicit > 0 { explicit } else { rule.weight };
        score = (score + contribution).min(100);
        for a in &rule.actions {
            let d = match a {
                Action::Reject => Decision::Reject,
                Action::Review => Decision::Review,
                Action::Block => Decision::Block,
                _ => continue,
            };
            if forced.as_ref().is_none_or(|(f, _)| d > *f) {
                forced = Some((d, format!("rule `{}` asks to {d}", rule.id)));
            }
        }
        fired.push(Fired { rule_id: rule.id.clone(), contribution, actions: rule.actions.clone() });
    }
    let level = thresholds.level(score);
    let by_level = level.decision();
    let (decision, reason) = match forced {
        Some((d, why)) if d > by_level => (d, why),
        _ => (by_level, format!("score {score} is {level}")),
    };
    Assessment { fired, score, level, decision, reason }
}

impl Assessment {
    /// Folds a fraud model's score (0..=100) in: the score is the higher of the rules' and the
    /// model's, and the decision the stricter of the rules' (actions included) and the level's.
    pub fn with_model_score(mut self, model_score: i64, thresholds: Thresholds) -> Assessment {
        let model_score = model_score.clamp(0, 100);
        if model_score <= self.score {
            return self;
        }
        self.score = model_score;
        self.level = thresholds.level(model_score);
        let by_level = self.level.decision();
        if by_level > self.decision {
            self.decision = by_level;
            self.reason = format!("model score {model_score} is {:?}", self.level).to_lowercase();
        }
        self
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_documented_examples_are_valid_rules() {
        let doc = include_str!("../../../docs/RISK_RULES.md");
        let examples: Vec<&str> =
            doc.split("```json\n").skip(1).filter_map(|rest| rest.split_once("\n```").map(|(json, _)| json)).collect();
        assert!(examples.len() >= 4, "the examples were found");
        for example in examples {
            let value: Value = serde_json::from_str(example).unwrap_or_else(|e| panic!("{e}: {example}"));
            if let Err(problems) = Rule::check(&value) {
                panic!("{problems:?}: {example}");
            }
        }
        let schema: Value = serde_json::from_str(include_str!("../../../docs/risk-rule.schema.json"))
            .unwrap_or_else(|e| panic!("the schema is JSON: {e}"));
        let documented: Vec<&str> = schema["$defs"]["field"]["enum"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(documented, FIELDS.map(|f| f.0), "the schema lists the fields the parser knows");
    }

    #[test]
    fn every_problem_of_a_rule_is_reported_at_once() {
        let doc = serde_json::json!({"id": "bad id", "name": 7, "weight": 500, "colour": "red",
            "condition": {"field": "amount", "op": "gtt", "value": 1},
            "actions": [{"type": "review"}, {"type": "explode"}]});
        let problems = Rule::check(&doc).err().unwrap_or_default();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            ["$.colour", "$.id", "$.name", "$.weight", "$.condition.op", "$.actions[1].type"],
            "{problems:?}"
        );
        assert_eq!(Rule::parse(&doc).err().map(|e| e.path), Some("$.colour".to_string()));
    }

    use std::collections::HashMap;

    use serde_json::json;

    use super::*;

    struct F {
        fields: HashMap<&'static str, Value>,
        lists: HashMap<&'static str, Vec<Value>>,
        count_5m: f64,
    }

    impl Facts for F {
        fn field(&self, name: &str) -> Option<Value> {
            self.fields.get(name).cloned()
        }
        fn on_list(&self, list: &str, value: &Value) -> bool {
            self.lists.get(list).is_some_and(|l| l.contains(value))
        }
        fn aggregate(&self, a: &Aggregate) -> Option<f64> {
            (a.func == AggregateFn::Count && a.window_seconds == 300).then_some(self.count_5m)
        }
    }

    fn facts(amount: i64, country: &str, count_5m: f64) -> F {
        F {
            fields: HashMap::from([("amount", json!(amount)), ("country", json!(country)), ("device_id", json!("d1"))]),
            lists: HashMap::from([("blocked_devices", vec![json!("d9")])]),
            count_5m,
        }
    }

    fn rule(doc: Value) -> Rule {
        Rule::parse(&doc).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn malformed_rules_name_the_path() {
        let base =
            json!({"id": "r1", "name": "n", "weight": 10, "condition": {"field": "amount", "op": "gt", "value": 1}});
        let cases: Vec<(Value, &str)> = vec![
            (json!({"id": "r1", "name": "n", "weight": 10}), "$.condition"),
            (json!({"id": "r 1", "name": "n", "weight": 10, "condition": base["condition"]}), "$.id"),
            (json!({"id": "r1", "name": "n", "weight": 10, "colour": 1, "condition": base["condition"]}), "$.colour"),
            (
                json!({"id": "r1", "name": "n", "weight": 10, "condition": {"all": [base["condition"], {"field": "amount", "op": "gtt", "value": 1}]}}),
                "$.condition.all[1].op",
            ),
            (
                json!({"id": "r1", "name": "n", "weight": 10, "condition": {"any": [{"field": "colour", "op": "eq", "value": 1}]}}),
                "$.condition.any[0].field",
            ),
            (
                json!({"id": "r1", "name": "n", "weight": 10, "condition": {"field": "country", "op": "gt", "value": "DE"}}),
                "$.condition.op",
            ),
            (
                json!({"id": "r1", "name": "n", "weight": 10, "condition": {"field": "amount", "op": "in", "value": 5}}),
                "$.condition.value",
            ),
            (
                json!({"id": "r1", "name": "n", "weight": 10, "condition": {"aggregate": {"fn": "count", "key": "user", "window_seconds": 99999999}, "op": "gt", "value": 3}}),
                "$.condition.aggregate.window_seconds",
            ),
            (
                json!({"id": "r1", "name": "n", "weight": 10, "condition": {"aggregate": {"fn": "distinct_count", "key": "user", "window_seconds": 60}, "op": "gt", "value": 3}}),
                "$.condition.aggregate.of",
            ),
            (
                json!({"id": "r1", "name": "n", "condition": base["condition"], "actions": [{"type": "explode"}]}),
                "$.actions[0].type",
            ),
            (json!({"id": "r1", "name": "n", "condition": base["condition"]}), "$.actions"),
            // Contradictions: amount > 100 and amount < 50; country = DE and country = FR.
            (
                json!({"id": "r1", "name": "n", "weight": 10, "condition": {"all": [{"field": "amount", "op": "gt", "value": 100}, {"field": "amount", "op": "lt", "value": 50}]}}),
                "$.condition.all[1]",
            ),
            (
                json!({"id": "r1", "name": "n", "weight": 10, "condition": {"not": {"all": [{"field": "country", "op": "eq", "value": "DE"}, {"field": "country", "op": "eq", "value": "FR"}]}}}),
                "$.condition.not.all[1]",
            ),
        ];
        for (doc, path) in cases {
            let e = Rule::parse(&doc).err().unwrap_or_else(|| panic!("accepted {doc}"));
            assert_eq!(e.path, path, "{e}");
        }
        assert!(Rule::parse(&base).is_ok());
        // Bounds that touch are fine: 100 <= amount <= 100.
        let ok = json!({"id": "r1", "name": "n", "weight": 1, "condition": {"all": [{"field": "amount", "op": "gte", "value": 100}, {"field": "amount", "op": "lte", "value": 100}]}});
        assert!(Rule::parse(&ok).is_ok());
    }

    #[test]
    fn a_model_score_raises_the_score_but_never_softens_a_rule() {
        let t = Thresholds::default();
        let base = |score, decision| Assessment {
            fired: vec![],
            score,
            level: t.level(score),
            decision,
            reason: "rules".into(),
        };
        let a = base(10, Decision::Approve).with_model_score(85, t);
        assert_eq!(
            (a.score, a.level, a.decision, a.reason.as_str()),
            (85, Level::Critical, Decision::Block, "model score 85 is critical")
        );
        let a = base(10, Decision::Reject).with_model_score(40, t);
        assert_eq!((a.score, a.decision, a.reason.as_str()), (40, Decision::Reject, "rules"), "a reject action stands");
        let a = base(70, Decision::Reject).with_model_score(20, t);
        assert_eq!((a.score, a.decision), (70, Decision::Reject), "a lower model score changes nothing");
        assert_eq!(
            base(0, Decision::Approve).with_model_score(30, t).decision,
            Decision::Review,
            "30 is the medium edge"
        );
        assert_eq!(base(0, Decision::Approve).with_model_score(29, t).decision, Decision::Approve);
    }

    #[test]
    fn assessment_explains_score_level_and_decision() {
        let rules = vec![
            rule(json!({"id": "big", "name": "big", "priority": 1, "weight": 35,
                        "condition": {"field": "amount", "op": "gt", "value": 100000}})),
            rule(json!({"id": "abroad", "name": "abroad", "priority": 2, "weight": 0,
                        "condition": {"field": "country", "op": "not_in", "value": ["DE", "FR"]},
                        "actions": [{"type": "increase_score", "by": 30}, {"type": "flag"}]})),
            rule(json!({"id": "burst", "name": "burst", "priority": 3, "weight": 10,
                        "condition": {"aggregate": {"fn": "count", "key": "user", "window_seconds": 300}, "op": "gte", "value": 3},
                        "actions": [{"type": "review"}]})),
            rule(json!({"id": "blocked", "name": "blocked device", "priority": 0,
                        "condition": {"field": "device_id", "in_list": "blocked_devices"}, "actions": [{"type": "block"}]})),
            rule(json!({"id": "off", "name": "disabled", "enabled": false, "weight": 100,
                        "condition": {"field": "amount", "op": "gt", "value": 0}})),
        ];
        let t = Thresholds::default();
        let a = assess(&rules, &facts(500, "DE", 0.0), t);
        assert_eq!((a.score, a.level, a.decision), (0, Level::Low, Decision::Approve));
        assert!(a.fired.is_empty());

        let a = assess(&rules, &facts(200_000, "US", 0.0), t);
        assert_eq!((a.score, a.level, a.decision), (65, Level::High, Decision::Reject), "{a:?}");
        assert_eq!(
            a.fired.iter().map(|f| (f.rule_id.as_str(), f.contribution)).collect::<Vec<_>>(),
            [("big", 35), ("abroad", 30)]
        );

        // A review action overrides a low score.
        let a = assess(&rules, &facts(500, "DE", 3.0), t);
        assert_eq!((a.score, a.decision), (10, Decision::Review));
        assert!(a.reason.contains("burst"));

        // A block action beats everything.
        let mut f = facts(500, "DE", 0.0);
        f.fields.insert("device_id", json!("d9"));
        assert_eq!(assess(&rules, &f, t).decision, Decision::Block);

        // Missing fields only satisfy negative operators.
        let mut f = facts(500, "DE", 0.0);
        f.fields.remove("country");
        let a = assess(&rules, &f, t);
        assert_eq!(a.fired.iter().map(|f| f.rule_id.as_str()).collect::<Vec<_>>(), ["abroad"]);
    }
}
