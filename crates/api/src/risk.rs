//! Risk rule management: rules are JSON documents, validated by `rialto-risk` (a refusal names
//! the offending path), versioned and audited by the writer. They take effect without a restart.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rialto_core::ids;
use rialto_risk::admin::Command as RiskCommand;
use rialto_store::Command;
use serde_json::{json, Value};

use crate::auth::Ctx;
use crate::contract::described;
use crate::contract::{handler, Operation, Verb, PAGE};
use crate::error::ApiError;
use crate::http::{respond, write, Body};
use crate::input::PathId;
use crate::permissions::Permission::{Administer, Read, Review};
use crate::{present, AppState};
use serde::Serialize;
use utoipa::ToSchema;

described!(
    /// A risk rule document.
    RuleDocument,
    "A risk rule document: `id`, `description`, `score`, `when` (a condition tree) and optional `action`; the format is in docs/RISK_RULES.md and docs/risk-rule.schema.json. Every problem of a refused document is listed in `error.problems`."
);
described!(
    /// An explained assessment.
    RiskAssessment,
    "An explained risk assessment: `id`, `payment_id`, `user_id`, `score`, `level`, `decision`, `reason`, `rules` (fired, with contributions), `model` (score and top features), `model_scores` (champion and challenger), `created_at`"
);
described!(
    /// A user's risk.
    UserRisk,
    "`object` = `user_risk`, `user_id`, `current` ({score, level} or null) and `history` (the user's latest 100 assessments, newest first)"
);
described!(
    /// A backtest report.
    BacktestReport,
    "`from`, `to`, `payments` replayed, and per rule its hits, the decisions that changed, and precision and recall on labelled payments"
);

/// A named risk list's values.
#[derive(Serialize, ToSchema)]
pub struct RiskList {
    /// Always `risk_list`.
    object: &'static str,
    name: String,
    values: Vec<String>,
}

/// A value for a named list.
#[derive(ToSchema)]
#[schema(example = json!({"value": "198.51.100.7"}))]
#[allow(dead_code)]
pub struct ListItemCreate {
    #[schema(max_length = 256)]
    value: String,
}

/// Candidate rules to replay over past payments.
#[derive(ToSchema)]
#[schema(example = json!({"from": "2026-01-01T00:00:00Z"}))]
#[allow(dead_code)]
pub struct Backtest {
    /// RFC 3339.
    from: String,
    /// RFC 3339; default now.
    to: Option<String>,
    /// Rule documents; default the current rules.
    rules: Option<Vec<Value>>,
}

fn parse(bytes: &[u8], id_from_path: Option<&str>) -> Result<(String, String), ApiError> {
    let mut doc: Value = crate::input::json_body(bytes)?;
    if let (Some(id), Some(m)) = (id_from_path, doc.as_object_mut()) {
        match m.get("id") {
            None => {
                m.insert("id".into(), json!(id));
            }
            Some(v) if v == id => {}
            Some(_) => return Err(ApiError::invalid("the document's id must match the path").param("$.id")),
        }
    }
    let rule = rialto_risk::Rule::check(&doc).map_err(|problems| ApiError::invalid_rule(problems, "$"))?;
    Ok((rule.id, doc.to_string()))
}

/// `POST /v1/risk/rules`
pub async fn create(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, body: Body) -> Response {
    write(&s, &ctx, &h, "/v1/risk/rules", body, StatusCode::CREATED, |b| {
        let (id, document) = parse(b, None)?;
        Ok(Command::Risk(RiskCommand::PutRule { id, document, create: true }))
    })
    .await
}

/// `PUT /v1/risk/rules/{id}`
pub async fn replace(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, body: Body) -> Response {
    let path = format!("/v1/risk/rules/{id}");
    write(&s, &ctx, &h, &path, body, StatusCode::OK, |b| {
        let (id, document) = parse(b, Some(&rule_id(&id)?))?;
        Ok(Command::Risk(RiskCommand::PutRule { id, document, create: false }))
    })
    .await
}

/// `DELETE /v1/risk/rules/{id}`
pub async fn delete(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, body: Body) -> Response {
    let path = format!("/v1/risk/rules/{id}");
    write(&s, &ctx, &h, &path, body, StatusCode::OK, |_| {
        Ok(Command::Risk(RiskCommand::DeleteRule { id: rule_id(&id)? }))
    })
    .await
}

/// `GET /v1/risk/rules`
pub async fn list(State(s): State<AppState>, q: crate::http::Params) -> Response {
    respond(
        async {
            let p = crate::http::params(q, &["limit", "starting_after", "ending_before"])?;
            let (cursor, limit) = crate::http::paging_with(&p, "", Some(crate::http::SeqCursor::Name))?;
            Ok(present::page(&s.db.rules_page(&cursor, limit).await?, present::risk_rule))
        }
        .await,
    )
}

/// `GET /v1/risk/rules/{id}`: the current version and every earlier one.
pub async fn get(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = rule_id(&id)?;
            let r = s.db.rule(&id).await?.ok_or_else(|| ApiError::not_found("risk rule", &id))?;
            let versions =
                s.db.rule_versions(&id)
                    .await?
                    .into_iter()
                    .map(|(version, doc, at)| present::RuleVersion {
                        version,
                        document: doc.and_then(|d| serde_json::from_str::<Value>(&d).ok()).unwrap_or(Value::Null),
                        created_at: present::Timestamp(at),
                    })
                    .collect();
            let mut v = present::risk_rule(&r);
            v.versions = Some(versions);
            Ok(v)
        }
        .await,
    )
}

/// `GET /v1/risk/assessments/{id}`: the rules that fired with their contributions, the score,
/// the level and the decision with its reason.
pub async fn assessment(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let mut a = s.db.risk_assessment(&id).await?.ok_or_else(|| ApiError::not_found("risk assessment", &id))?;
            if let Some(us) = a.get("created_at_us").and_then(Value::as_i64) {
                a["created_at"] = present::time_text(us);
            }
            if let Some(m) = a.as_object_mut() {
                m.remove("created_at_us");
            }
            // Every model score recorded for it: the champion's and a challenger's.
            a["model_scores"] = Value::Array(s.db.payment_model_scores(&id).await?);
            Ok(a)
        }
        .await,
    )
}

fn list_name(name: &str) -> Result<String, ApiError> {
    slug(name, "name", "list names")
}

/// A rule id or list name: 1 to 64 letters, digits, `_` or `-`; 400 naming `param` otherwise.
fn slug(text: &str, param: &str, what: &str) -> Result<String, ApiError> {
    if !crate::input::is_slug(text) {
        return Err(ApiError::invalid(format!("{what} are 1 to 64 letters, digits, `_` or `-`")).param(param));
    }
    Ok(text.to_string())
}

fn rule_id(id: &str) -> Result<String, ApiError> {
    slug(id, "id", "rule ids")
}

/// `GET /v1/risk/lists/{name}`
pub async fn get_list(State(s): State<AppState>, PathId(name): PathId) -> Response {
    respond(
        async {
            let name = list_name(&name)?;
            let values = s.db.risk_list(&name).await?;
            Ok(RiskList { object: "risk_list", name, values })
        }
        .await,
    )
}

/// `POST /v1/risk/lists/{name}/items` with `value`: rules test it with `in_list`.
pub async fn add_item(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(name): PathId, body: Body) -> Response {
    let path = format!("/v1/risk/lists/{name}/items");
    write(&s, &ctx, &h, &path, body, StatusCode::OK, |b| {
        let mut f = crate::input::Fields::of::<ListItemCreate>(b)?;
        let value = f.string("value", 256)?;
        Ok(Command::Risk(RiskCommand::ListItem { list: list_name(&name)?, value, add: true }))
    })
    .await
}

/// `DELETE /v1/risk/lists/{name}/items/{value}`
pub async fn remove_item(
    State(s): State<AppState>,
    ctx: Ctx,
    h: HeaderMap,
    crate::input::PathPair(name, value): crate::input::PathPair,
    body: Body,
) -> Response {
    let path = format!("/v1/risk/lists/{name}/items/{value}");
    write(&s, &ctx, &h, &path, body, StatusCode::OK, |_| {
        Ok(Command::Risk(RiskCommand::ListItem { list: list_name(&name)?, value, add: false }))
    })
    .await
}

/// `GET /v1/users/{id}/risk`: the user's current score (latest assessment) and history.
pub async fn user_risk(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = crate::input::id_of::<ids::UserId>(&id)?;
            if s.db.user(&id).await?.is_none() {
                return Err(ApiError::not_found("user", &id));
            }
            let mut history = s.db.user_assessments(&id, 100).await?;
            for a in &mut history {
                if let Some(us) = a.get("created_at_us").and_then(Value::as_i64) {
                    a["created_at"] = present::time_text(us);
                }
                if let Some(m) = a.as_object_mut() {
                    m.remove("created_at_us");
                }
            }
            let current = history.first().map(|a| json!({"score": a["score"], "level": a["level"]}));
            Ok(json!({"object": "user_risk", "user_id": id, "current": current, "history": history}))
        }
        .await,
    )
}

/// `POST /v1/risk/rules/backtest` with `from`, `to` (RFC 3339; `to` defaults to now) and
/// `rules` (candidate rule documents; default: the current rules). Changes nothing.
pub async fn backtest(State(s): State<AppState>, body: Body) -> Response {
    respond(
        async {
            let bytes = crate::http::body_bytes(body)?;
            let doc: Value = crate::input::json_body(&bytes)?;
            let Some(m) = doc.as_object() else { return Err(ApiError::invalid("the body must be a JSON object")) };
            let fields = crate::input::field_names::<Backtest>();
            if let Some(k) = m.keys().find(|k| !fields.contains(k)) {
                return Err(ApiError::invalid(format!("unknown field `{k}`")).param(k));
            }
            let time = |name: &str| -> Result<Option<i64>, ApiError> {
                match m.get(name) {
                    None => Ok(None),
                    Some(Value::String(t)) => crate::http::parse_time(name, t).map(Some),
                    Some(_) => Err(ApiError::invalid(format!("`{name}` must be an RFC 3339 time")).param(name)),
                }
            };
            let from = time("from")?.ok_or_else(|| ApiError::invalid("`from` is required").param("from"))?;
            let to = time("to")?.unwrap_or_else(rialto_store::now_us);
            if from >= to {
                return Err(ApiError::invalid("`from` must be before `to`").param("from"));
            }
            let rules = match m.get("rules") {
                None => {
                    s.db.rules()
                        .await?
                        .iter()
                        .filter_map(|r| serde_json::from_str::<Value>(&r.document).ok())
                        .filter_map(|d| rialto_risk::Rule::parse(&d).ok())
                        .collect()
                }
                Some(Value::Array(docs)) if docs.len() <= 1000 => docs
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        rialto_risk::Rule::check(d)
                            .map_err(|problems| ApiError::invalid_rule(problems, &format!("$.rules[{i}]")))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                Some(_) => {
                    return Err(ApiError::invalid("`rules` must be an array of at most 1000 rules").param("rules"))
                }
            };
            let mut ids = std::collections::HashSet::new();
            if let Some(dup) = rules.iter().find(|r| !ids.insert(r.id.clone())) {
                return Err(ApiError::invalid(format!("rule `{}` appears twice", dup.id)).param("rules"));
            }
            let p = &s.config.policies;
            let mut report =
                s.db.backtest(&rules, from, to, (p.thresholds, &p.time_zone)).await.map_err(|e| match e {
                    rialto_store::BacktestError::TooLarge(_) => {
                        ApiError::new(StatusCode::BAD_REQUEST, "backtest_too_large", e.to_string()).param("from")
                    }
                    rialto_store::BacktestError::Store(e) => e.into(),
                })?;
            report["from"] = json!(present::time_text(from));
            report["to"] = json!(present::time_text(to));
            Ok(report)
        }
        .await,
    )
}

/// The operations of this module: the router, the permission check and the API description read them.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    Operation::new::<present::List<present::RiskRule>>(Verb::Get, "/v1/risk/rules", Read, "Current risk rules", handler!(list))
        .queries(PAGE),
    Operation::new::<present::RiskRule>(Verb::Post, "/v1/risk/rules", Administer, "Create a risk rule (a JSON rule document; errors name the path)", handler!(create))
        .body::<RuleDocument>()
        .status(201),
    Operation::new::<BacktestReport>(Verb::Post, "/v1/risk/rules/backtest", Review, "Replay candidate rules over a time range of payments (changes nothing): hits per rule, changed decisions, precision and recall on labels", handler!(backtest))
        .body::<Backtest>()
        .without_idempotency(),
    Operation::new::<present::RiskRule>(Verb::Get, "/v1/risk/rules/{id}", Read, "A risk rule with every earlier version", handler!(get)),
    Operation::new::<present::RiskRule>(Verb::Put, "/v1/risk/rules/{id}", Administer, "Replace a risk rule (new version)", handler!(replace))
        .body::<RuleDocument>(),
    Operation::new::<present::RiskRule>(Verb::Delete, "/v1/risk/rules/{id}", Administer, "Delete a risk rule (its history stays)", handler!(delete)),
    Operation::new::<RiskAssessment>(Verb::Get, "/v1/risk/assessments/{id}", Read, "An explained risk assessment: rules fired, model score and top features, score, level, decision", handler!(assessment)),
    Operation::new::<UserRisk>(Verb::Get, "/v1/users/{id}/risk", Read, "A user's current risk score and assessment history", handler!(user_risk)),
    Operation::new::<RiskList>(Verb::Get, "/v1/risk/lists/{id}", Read, "The values on a named risk list", handler!(get_list)),
    Operation::new::<present::ListItem>(Verb::Post, "/v1/risk/lists/{id}/items", Administer, "Put a value on a named list (rules test it with in_list)", handler!(add_item))
        .body::<ListItemCreate>(),
    Operation::new::<present::ListItem>(Verb::Delete, "/v1/risk/lists/{name}/items/{value}", Administer, "Remove a value from a named list", handler!(remove_item)),
];
