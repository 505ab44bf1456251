//! Credit scoring: `POST /v1/credit-scores` validates an applicant and scores it on the points
//! scorecard of `rialto_risk::credit` (the one compiled into the binary, or the one
//! `--credit-scorecard` names; `rialto model train-credit` writes both): a 300–850 score (600
//! points at bad-odds 1:19, 50 points to double the odds), its grade, risk level, probability
//! of default, each characteristic's points and the adverse-action reasons. `GET /v1/credit-scorecard` publishes the whole scorecard: every
//! characteristic's bins and points, the missing rule, the grades with their calibration, and
//! the cross-validated figures.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rialto_core::ids;
use rialto_risk::credit::applicant::{FieldKind, FIELDS, PROTECTED};
use rialto_store::{Command, CreditScoreRecord};
use serde_json::{json, Value};

use crate::auth::Ctx;
use crate::contract::{handler, Operation, Verb};
use crate::error::ApiError;
use crate::http::{respond, write, Body};
use crate::input::PathId;
use crate::permissions::Permission::{Read, Write};
use crate::AppState;

/// An applicant: the schema is [`FIELDS`], the table the scorecard's parser checks.
pub struct CreditApplicant;

impl utoipa::PartialSchema for CreditApplicant {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, Object, OneOf, Schema, Type};
        let mut o = Object::builder().schema_type(Type::Object).description(Some(
            "An applicant: income and expenses per month, debt, assets and the loan in the same currency; counts are whole numbers; a bureau field may be \"unknown\" (scored like a missing one: never better than its worst value). Age is checked for eligibility and plausibility only, never scored; protected attributes (sex, marital status, nationality, ...) are refused",
        ));
        for f in FIELDS {
            let typed = match f.kind {
                FieldKind::Category(words) => {
                    Object::builder().schema_type(Type::String).enum_values(Some(words.iter().copied()))
                }
                FieldKind::Count => {
                    Object::builder().schema_type(Type::Integer).minimum(Some(f.min)).maximum(Some(f.max))
                }
                FieldKind::Number => {
                    Object::builder().schema_type(Type::Number).minimum(Some(f.min)).maximum(Some(f.max))
                }
            }
            .description(Some(f.description));
            let schema: Schema = if f.unknown {
                let unknown = Object::builder().schema_type(Type::String).enum_values(Some(["unknown"]));
                OneOf::builder().item(typed).item(unknown).description(Some(f.description)).into()
            } else {
                typed.into()
            };
            o = o.property(f.name, schema);
            if f.required {
                o = o.required(f.name);
            }
        }
        o.additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .examples([json!({
                "age": 35, "income": 5200, "employment_years": 6, "total_debt": 1800, "defaults": 0,
                "late_payments": 0, "on_time_payments": 60, "credit_history_months": 96, "open_accounts": 4,
                "accounts_opened_12m": 0, "credit_utilization": 0.2, "hard_inquiries_6m": 0,
                "employment_type": "permanent", "housing": "owner", "loan_amount": 12000,
                "purchase_price": 15000, "term_months": 36, "monthly_expenses": 1500, "assets": 20000,
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
    "`id`, `object` = `credit_score`, `score` (300-850), `grade`, `risk_level`, `probability_of_default`, `approval_probability`, `reason_codes` (`code`, `characteristic`, `description`, `points` lost against the reference applicant), `points` (each characteristic: `bin`, `points`, `max_points`, `missing`), `base_points`, `reference_score`, `model`, `applicant` (the fields as given), `created_at`"
);

/// `POST /v1/credit-scores`: scores the applicant and keeps the answer (with the applicant's
/// features) so it can be shown again; audited in the same transaction. Answers 201.
pub async fn score(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, body: Body) -> Response {
    let actor = ctx.caller.key_id.clone();
    let card = s.config.credit_scorecard.clone();
    write(&s, &ctx, &h, "/v1/credit-scores", body, StatusCode::CREATED, |b| {
        let (applicant, mut answer) = score_body(&card, b)?;
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

/// The applicant as given and the answer.
fn score_body(card: &rialto_risk::credit::Scorecard, bytes: &[u8]) -> Result<(Value, Value), ApiError> {
    let doc: Value = crate::input::json_body(bytes)?;
    let Some(m) = doc.as_object() else { return Err(ApiError::invalid("the body must be a JSON object")) };
    let (_, scored) = rialto_risk::credit::score(card, m).map_err(|e| {
        let code = if PROTECTED.contains(&e.param.as_str()) { "protected_attribute" } else { "invalid_request" };
        ApiError::new(StatusCode::BAD_REQUEST, code, e.message).param(e.param)
    })?;
    let p_bad = scored.probability_of_default;
    let level = match p_bad {
        p if p < 0.10 => "low",
        p if p < 0.25 => "medium",
        p if p < 0.50 => "high",
        _ => "very_high",
    };
    let cv = &card.metadata["cross_validation"]["scorecard"];
    let reasons: Vec<Value> = scored
        .reasons
        .iter()
        .map(|r| json!({"code": r.code, "characteristic": r.characteristic, "description": r.description, "points": r.points}))
        .collect();
    let points: Vec<Value> = scored
        .points
        .iter()
        .map(|a| {
            json!({"characteristic": a.characteristic, "bin": a.bin, "points": round1(a.points),
                   "max_points": round1(a.max_points), "missing": a.missing})
        })
        .collect();
    Ok((
        Value::Object(m.clone()),
        json!({
            "object": "credit_score", "score": scored.score, "grade": scored.grade, "risk_level": level,
            "probability_of_default": p_bad, "approval_probability": 1.0 - p_bad,
            "reason_codes": reasons, "points": points,
            "base_points": round1(card.base_points), "reference_score": round1(card.reference_score()),
            "model": {"type": card.metadata["type"], "trained_at": card.metadata["trained_at"],
                      "cross_validated_roc_auc": cv["roc_auc"]["mean"], "cross_validated_ks": cv["ks"]["mean"]},
        }),
    ))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0 + 0.0
}

crate::contract::described!(
    /// The published scorecard.
    CreditScorecard,
    "`scaling` (`pdo`, `base_score`, `base_odds_bad`), `base_points`, `characteristics` (each: `name`, `description`, `dataset`, `coefficient`, `bins` with `label`, `upper` or `categories`, `points`, `woe`, `rows`, `bad_rate`, `source` = `data` or `policy`; `missing` with its `points` and `rule`; `reason` with `code` and `text`), `grades` (`grade`, `min_score`, `share`, `rows`, `observed_bad_rate`, `predicted_bad_rate`), `metadata` (datasets, cross-validated figures and baselines)"
);

/// `GET /v1/credit-scorecard`: the served scorecard, whole.
pub async fn scorecard(State(s): State<AppState>) -> Response {
    respond(Ok::<_, ApiError>(serde_json::to_value(&*s.config.credit_scorecard).unwrap_or_default()))
}

/// The operations of this module: the router, the permission check and the API description read them.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    Operation::new::<CreditScore>(Verb::Post, "/v1/credit-scores", Write, "Score an applicant: 300-850 scorecard score, grade, risk level, approval probability, reason codes; the answer is kept and audited", handler!(score))
        .body::<CreditApplicant>()
        .status(201),
    Operation::new::<CreditScore>(Verb::Get, "/v1/credit-scores/{id}", Read, "A kept credit score: the answer as given, with the applicant's features", handler!(get)),
    Operation::new::<CreditScorecard>(Verb::Get, "/v1/credit-scorecard", Read, "The served credit scorecard: every characteristic's bins and points, missing rules, reason codes, grades with their calibration, cross-validated figures", handler!(scorecard)),
];
