//! Credit scoring: `POST /v1/credit-scores` answers a 300–850 score from a logistic scorecard
//! (scaled by points-to-double-the-odds: 600 points at bad-odds 1:19, 50 points to double),
//! its grade, risk level, approval probability, and the reason codes that lowered it.
//!
//! The scorecard (`models/credit_scorecard.json`) was trained by `rialto model train-credit`:
//! its main part on `modeldata::credit_data` (4,454 real applicants: age, years in the job,
//! default records, debt and income), its bureau part on `modeldata::lending_club` (9,857 loans:
//! revolving utilisation and inquiries in 6 months).
//! No public dataset has both, so the parts are joined by adding the bureau part's log-odds
//! contributions (relative to its average applicant) to the main part's: an assumption that the
//! two groups of features carry independent evidence. Fields no part reads (credit history
//! months, open accounts, on-time and late payments) are validated and reported as `not_scored`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rialto_core::ids;
use rialto_risk::ml::{grade, Logistic, Scaling};
use rialto_store::{Command, CreditScoreRecord};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Ctx;
use crate::contract::{handler, Operation, Verb};
use crate::error::ApiError;
use crate::http::{respond, write, Body};
use crate::input::PathId;
use crate::permissions::Permission::{Read, Write};
use crate::AppState;

/// The scorecard's inputs, in order.
pub const FEATURES: [&str; 4] = ["age", "employment_years", "has_defaults", "debt_to_income"];

/// Debt-to-income above this counts as this (a few extreme ratios should not dominate).
const DTI_CAP: f64 = 50.0;

/// The model inputs of an applicant. `debt` and `income` are in the same units (income per month).
pub fn features(age: f64, employment_years: f64, has_defaults: bool, debt: f64, income: f64) -> [f64; 4] {
    let dti = if income > 0.0 { (debt / income).min(DTI_CAP) } else { DTI_CAP };
    [age, employment_years, f64::from(u8::from(has_defaults)), dti]
}

/// The bureau part's inputs, in order (both optional in a request). Delinquencies and account
/// counts were tried and left out: in the data their weights were near zero with the wrong sign
/// (loans that were granted had already passed on them), and a scorecard must not reward them.
pub const BUREAU_FEATURES: [&str; 2] = ["credit_utilization", "hard_inquiries_6m"];

/// Utilisation above this counts as this.
const UTILIZATION_CAP: f64 = 1.5;

/// The bureau part's inputs: revolving utilisation as a ratio (0.5 = 50%), inquiries in 6 months.
pub fn bureau_features(utilization: f64, inquiries: f64) -> [f64; 2] {
    [utilization.min(UTILIZATION_CAP), inquiries]
}

#[derive(Deserialize)]
struct Card {
    metadata: Value,
    model: Logistic,
    scaling: Scaling,
    /// A second logistic part on credit-bureau features, from another dataset: its
    /// contributions (relative to its average applicant) are added to the log-odds.
    #[serde(default)]
    bureau: Option<Part>,
}

#[derive(Deserialize)]
struct Part {
    metadata: Value,
    model: Logistic,
}

fn card() -> &'static Card {
    static CARD: std::sync::OnceLock<Card> = std::sync::OnceLock::new();
    CARD.get_or_init(|| {
        serde_json::from_str(include_str!("../models/credit_scorecard.json")).unwrap_or_else(|_| Card {
            metadata: json!({"error": "the built-in scorecard did not parse"}),
            model: Logistic { features: Vec::new(), weights: Vec::new(), bias: 0.0, means: Vec::new() },
            scaling: Scaling::default(),
            bureau: None,
        })
    })
}

/// Why each feature can lower a score.
fn reason(feature: &str) -> (&'static str, &'static str) {
    match feature {
        "age" => ("C01", "age of the applicant"),
        "employment_years" => ("C02", "too few years with the current employer"),
        "has_defaults" => ("C03", "a record of defaults or arrears"),
        "debt_to_income" => ("C04", "debt is high relative to income"),
        "credit_utilization" => ("C05", "high use of available revolving credit"),
        "hard_inquiries_6m" => ("C06", "many recent credit inquiries"),
        _ => ("C99", "other"),
    }
}

/// Fields accepted with their ranges: (name, min, max, required, scored).
const FIELDS: [(&str, f64, f64, bool, bool); 11] = [
    ("age", 18.0, 120.0, true, true),
    ("income", 0.0, 1e12, true, true),
    ("employment_years", 0.0, 80.0, true, true),
    ("total_debt", 0.0, 1e12, true, true),
    ("defaults", 0.0, 1000.0, true, true),
    ("credit_history_months", 0.0, 1200.0, false, false),
    ("open_accounts", 0.0, 1000.0, false, false),
    ("on_time_payments", 0.0, 100_000.0, false, false),
    ("late_payments", 0.0, 100_000.0, false, false),
    ("credit_utilization", 0.0, 10.0, false, false),
    ("hard_inquiries_6m", 0.0, 1000.0, false, false),
];

/// An applicant's features: the schema is [`FIELDS`], the table the handler checks.
pub struct CreditApplicant;

impl utoipa::PartialSchema for CreditApplicant {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{Object, Type};
        let mut o = Object::builder().schema_type(Type::Object).description(Some(
            "An applicant: income and total_debt per month in the same units; the answer is a 300-850 score, grade, risk level, approval probability and reason codes",
        ));
        for (name, min, max, required, _) in FIELDS {
            o = o.property(name, Object::builder().schema_type(Type::Number).minimum(Some(min)).maximum(Some(max)));
            if required {
                o = o.required(name);
            }
        }
        o.examples([serde_json::json!({
            "age": 35, "income": 5200, "employment_years": 6, "total_debt": 1800, "defaults": 0,
        })])
        .into()
    }
}

impl utoipa::ToSchema for CreditApplicant {
    fn name() -> std::borrow::Cow<'static, str> {
        "CreditApplicant".into()
    }
}

crate::contract::described!(
    /// A kept credit score.
    CreditScore,
    "`id`, `object` = `credit_score`, `score` (300-850), `grade`, `risk_level`, `approval_probability`, `reason_codes`, `applicant` (the features as given), `created_at`"
);

/// `POST /v1/credit-scores`: scores the applicant and keeps the answer (with the applicant's
/// features) so it can be shown again; audited in the same transaction. Answers 201.
pub async fn score(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, body: Body) -> Response {
    let actor = ctx.caller.key_id.clone();
    write(&s, &ctx, &h, "/v1/credit-scores", body, StatusCode::CREATED, |b| {
        let (applicant, mut answer) = score_body(b)?;
        let id = ids::new_id::<ids::CreditScoreId>();
        answer["id"] = json!(id);
        let score = answer["score"].as_i64().unwrap_or(0);
        let grade = answer["grade"].as_str().unwrap_or("F").to_string();
        Ok(Command::RecordCreditScore(Box::new(CreditScoreRecord {
            id,
            applicant: applicant.to_string(),
            answer: answer.to_string(),
            score,
            grade,
            created_by: actor,
            created_at_us: 0,
        })))
    })
    .await
}

/// `GET /v1/credit-scores/{id}`
pub async fn get(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = crate::input::id_of::<rialto_core::ids::CreditScoreId>(&id)?;
            let r = s.db.credit_score(&id).await?.ok_or_else(|| ApiError::not_found("credit score", &id))?;
            Ok(crate::present::credit_score(&r))
        }
        .await,
    )
}

/// The applicant's validated features and the answer.
fn score_body(bytes: &[u8]) -> Result<(Value, Value), ApiError> {
    let doc: Value = crate::input::json_body(bytes)?;
    let Some(m) = doc.as_object() else { return Err(ApiError::invalid("the body must be a JSON object")) };
    if let Some(k) = m.keys().find(|k| !FIELDS.iter().any(|f| f.0 == k.as_str())) {
        return Err(ApiError::invalid(format!("unknown field `{k}`")).param(k));
    }
    let mut v = std::collections::HashMap::new();
    let mut not_scored = Vec::new();
    for (name, min, max, required, scored) in FIELDS {
        match m.get(name) {
            None if required => return Err(ApiError::invalid(format!("`{name}` is required")).param(name)),
            None => {}
            Some(x) => {
                let n = x.as_f64().filter(|n| n.is_finite() && (min..=max).contains(n)).ok_or_else(|| {
                    ApiError::invalid(format!("`{name}` must be a number from {min} to {max}")).param(name)
                })?;
                let bureau = card().bureau.as_ref().is_some_and(|b| b.model.features.iter().any(|f| f == name));
                if !scored && !bureau {
                    not_scored.push(name);
                }
                v.insert(name, n);
            }
        }
    }
    let c = card();
    let x = features(v["age"], v["employment_years"], v["defaults"] > 0.0, v["total_debt"], v["income"]);
    let mut log_odds = c.model.log_odds(&x);
    let mut contributions: Vec<(String, f64)> =
        c.model.features.iter().cloned().zip(c.model.contributions(&x)).collect();
    // The bureau part adds how far its features move the odds from its average applicant; a
    // field not given stays at that average (no effect).
    if let Some(b) = &c.bureau {
        let given = |i: usize| {
            let mean = b.model.means.get(i).copied().unwrap_or(0.0);
            BUREAU_FEATURES.get(i).and_then(|n| v.get(n).copied()).unwrap_or(mean)
        };
        let xb = bureau_features(given(0), given(1));
        for (f, contribution) in b.model.features.iter().zip(b.model.contributions(&xb)) {
            if v.contains_key(f.as_str()) {
                log_odds += contribution;
                contributions.push((f.clone(), contribution));
            }
        }
    }
    let p_bad = 1.0 / (1.0 + (-log_odds).exp());
    let score = c.scaling.score(p_bad);
    let factor = c.scaling.factor();
    // Points each feature moved the score from the average applicant's; the most negative
    // are the adverse-action reasons.
    let mut reasons: Vec<(String, f64)> = contributions
        .into_iter()
        .map(|(f, contribution)| (f, -contribution * factor))
        .filter(|(_, points)| *points < -0.5)
        .collect();
    reasons.sort_by(|a, b| a.1.total_cmp(&b.1));
    let reasons: Vec<Value> = reasons
        .iter()
        .take(4)
        .map(|(f, points)| {
            let (code, text) = reason(f);
            json!({"code": code, "feature": f, "description": text, "points": (points * 10.0).round() / 10.0})
        })
        .collect();
    let level = match p_bad {
        p if p < 0.10 => "low",
        p if p < 0.25 => "medium",
        p if p < 0.50 => "high",
        _ => "very_high",
    };
    let applicant = Value::Object(m.clone());
    Ok((
        applicant,
        json!({
            "object": "credit_score", "score": score, "grade": grade(score), "risk_level": level,
            "probability_of_default": p_bad, "approval_probability": 1.0 - p_bad,
            "reason_codes": reasons, "not_scored": not_scored,
            "model": {"type": c.metadata["type"], "dataset": c.metadata["dataset"], "trained_at": c.metadata["trained_at"],
                      "roc_auc": c.metadata["metrics"]["roc_auc"], "ks": c.metadata["metrics"]["ks"],
                      "bureau": c.bureau.as_ref().map(|b| json!({"dataset": b.metadata["dataset"],
                          "roc_auc": b.metadata["metrics"]["roc_auc"], "ks": b.metadata["metrics"]["ks"]}))},
        }),
    ))
}

/// The operations of this module: the router, the permission check and the API description read them.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    Operation::new::<CreditScore>(Verb::Post, "/v1/credit-scores", Write, "Score an applicant: 300-850 scorecard score, grade, risk level, approval probability, reason codes; the answer is kept and audited", handler!(score))
        .body::<CreditApplicant>()
        .status(201),
    Operation::new::<CreditScore>(Verb::Get, "/v1/credit-scores/{id}", Read, "A kept credit score: the answer as given, with the applicant's features", handler!(get)),
];
