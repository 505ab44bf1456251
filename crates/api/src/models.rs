//! The fraud model registry over HTTP: register a model (upload an artifact, or train one
//! from the API's labels in the background), list and inspect models with their live
//! results, deploy, roll back, and run a challenger on a share of payments. Changes are
//! admin-only and audited by the writer; reads need a reader key.

use rialto_core::ids;
use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rialto_risk::model::{Model, ModelKind, TreeOptions};
use rialto_store::{Command, ModelChange, NewModel, Output};
use serde_json::{json, Map, Value};

use crate::auth::Ctx;
use crate::contract::names;
use crate::contract::{handler, Operation, Verb, PAGE};
use crate::error::ApiError;
use crate::http::{body_bytes, respond, write, Body};
use crate::input::{id_of, PathId};
use crate::permissions::Permission::{Administer, Read};
use crate::{present, AppState};
use rialto_core::ids::ModelId;
use utoipa::ToSchema;

/// Longest model name.
const NAME_MAX: usize = 100;

names!(
    /// A model's kind.
    ModelKindName: "logistic_regression", "gradient_boosting", "onnx"
);
names!(
    /// The kinds Rialto trains.
    TrainedKindName: "logistic_regression", "gradient_boosting"
);

/// A merchant risk table.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MerchantRisk {
    /// Merchant id to rate (0 to 1).
    merchants: Option<BTreeMap<String, f64>>,
    /// The rate of other merchants.
    default: Option<f64>,
}

/// An uploaded model, registered as `testing`.
#[derive(ToSchema)]
#[schema(example = json!({"name": "fraud-lr", "type": "logistic_regression", "features": ["amount_log", "hour_of_day"],
    "artifact": {"features": ["amount_log", "hour_of_day"], "weights": [0.8, 0.1], "bias": -3.0, "means": [0.0, 0.0]}}))]
#[allow(dead_code)]
pub struct ModelCreate {
    #[schema(max_length = 100)]
    name: String,
    #[serde(rename = "type")]
    kind: ModelKindName,
    /// Payment feature names, in the model's input order.
    features: Vec<String>,
    /// Logistic JSON `{features, weights, bias, means}`, a forust JSON dump, or base64 ONNX
    /// (needs the `onnx` build).
    artifact: Value,
    merchant_risk: Option<MerchantRisk>,
    metadata: Option<Value>,
    dataset_rows: Option<i64>,
}

/// Training from the labelled payments of a range.
#[derive(ToSchema)]
#[schema(example = json!({"name": "fraud-gbm", "type": "gradient_boosting", "from": "2026-01-01T00:00:00Z"}))]
#[allow(dead_code)]
pub struct ModelTrain {
    #[schema(max_length = 100)]
    name: String,
    #[serde(rename = "type")]
    kind: TrainedKindName,
    /// RFC 3339.
    from: Option<String>,
    /// RFC 3339.
    to: Option<String>,
    rounds: Option<i64>,
    max_depth: Option<i64>,
    learning_rate: Option<f64>,
}

/// A challenger's share of payments.
#[derive(ToSchema)]
#[schema(example = json!({"share_bp": 1000}))]
#[allow(dead_code)]
pub struct ModelChallenger {
    /// Basis points of payments: 0 stops.
    #[schema(minimum = 0, maximum = 10000)]
    share_bp: i64,
}

/// The names of `T`'s fields, for [`object`].
fn fields_of<T: utoipa::ToSchema>() -> Vec<String> {
    crate::input::field_names::<T>()
}

fn object(bytes: &[u8], allowed: &[String]) -> Result<Map<String, Value>, ApiError> {
    let doc: Value = crate::input::json_body(bytes)?;
    let Value::Object(m) = doc else { return Err(ApiError::invalid("the body must be a JSON object")) };
    if let Some(k) = m.keys().find(|k| !allowed.contains(k)) {
        return Err(
            ApiError::invalid(format!("unknown field `{}`", crate::error::echo(k))).param(crate::error::echo(k))
        );
    }
    Ok(m)
}

fn name_of(m: &Map<String, Value>) -> Result<String, ApiError> {
    match m.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() && n.len() <= NAME_MAX => Ok(n.clone()),
        _ => Err(ApiError::invalid(format!("`name` is a non-empty string of at most {NAME_MAX} bytes")).param("name")),
    }
}

fn kind_of(m: &Map<String, Value>) -> Result<ModelKind, ApiError> {
    m.get("type")
        .and_then(Value::as_str)
        .and_then(ModelKind::parse)
        .ok_or_else(|| ApiError::invalid("`type` is logistic_regression, gradient_boosting or onnx").param("type"))
}

fn invalid_model(e: impl std::fmt::Display, param: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_model", e.to_string()).param(param)
}

/// The merchant risk table of a body: `{"merchants": {"m_1": 0.2}, "default": 0.01}`.
fn merchant_risk_of(m: &Map<String, Value>) -> Result<(BTreeMap<String, f64>, f64), ApiError> {
    let Some(v) = m.get("merchant_risk") else { return Ok((BTreeMap::new(), 0.0)) };
    let bad = || invalid_model("`merchant_risk` is {\"merchants\": {id: rate}, \"default\": rate}", "merchant_risk");
    let o = v.as_object().ok_or_else(bad)?;
    if o.keys().any(|k| k != "merchants" && k != "default") {
        return Err(bad());
    }
    let mut table = BTreeMap::new();
    for (k, r) in o.get("merchants").map(|t| t.as_object().ok_or_else(bad)).transpose()?.into_iter().flatten() {
        table.insert(k.clone(), r.as_f64().ok_or_else(bad)?);
    }
    let default = o.get("default").map(|d| d.as_f64().ok_or_else(bad)).transpose()?.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&default) || table.values().any(|r| !(0.0..=1.0).contains(r)) {
        return Err(invalid_model("merchant risks are rates in 0..=1", "merchant_risk"));
    }
    Ok((table, default))
}

/// `POST /v1/risk/models`: registers an uploaded model as `testing`. The artifact must load
/// and read only payment features; a refusal is a 400 `invalid_model` naming the field.
pub async fn create(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, body: Body) -> Response {
    let actor = ctx.caller.key_id.clone();
    write(&s, &ctx, &h, "/v1/risk/models", body, StatusCode::CREATED, |b| {
        let m = object(b, &fields_of::<ModelCreate>())?;
        let name = name_of(&m)?;
        let kind = kind_of(&m)?;
        let features: Vec<String> = match m.get("features") {
            Some(Value::Array(a)) => a
                .iter()
                .map(|f| f.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| invalid_model("`features` is a list of payment feature names", "features"))?,
            _ => return Err(invalid_model("`features` is a list of payment feature names", "features")),
        };
        // Logistic and tree artifacts may come as JSON or as its text; ONNX as base64 text.
        let artifact = match m.get("artifact") {
            Some(Value::String(t)) => t.clone(),
            Some(v @ Value::Object(_)) if kind != ModelKind::Onnx => v.to_string(),
            _ => return Err(invalid_model("`artifact` is required (JSON, or base64 for onnx)", "artifact")),
        };
        let (table, default) = merchant_risk_of(&m)?;
        let metadata = match m.get("metadata") {
            None => json!({}),
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => return Err(ApiError::invalid("`metadata` is a JSON object").param("metadata")),
        };
        let dataset_rows = match m.get("dataset_rows") {
            None => 0,
            Some(v) => v
                .as_i64()
                .filter(|n| *n >= 0)
                .ok_or_else(|| ApiError::invalid("`dataset_rows` is a non-negative integer").param("dataset_rows"))?,
        };
        Model::load(kind, features.clone(), &artifact, table.clone(), default).map_err(|e| {
            let param = match e {
                rialto_risk::model::ModelError::UnknownFeature(_) | rialto_risk::model::ModelError::Features(_) => {
                    "features"
                }
                _ => "artifact",
            };
            invalid_model(e, param)
        })?;
        Ok(Command::Model(ModelChange::Register(Box::new(NewModel {
            id: ids::new_id::<ids::ModelId>(),
            name,
            kind,
            features,
            artifact: Some(artifact),
            merchant_risk: present::merchant_risk(&table, default),
            metadata: metadata.to_string(),
            dataset_rows,
            created_by: actor,
        }))))
    })
    .await
}

/// `POST /v1/risk/models/train`: trains a model on the labelled payments of a range (default:
/// the last 90 days) in the background. Answers 202 with the model in `training`; it becomes
/// `testing` with its evaluation, or `deprecated` with the error. Too few labels: 422
/// `not_enough_labels`, and nothing is registered.
pub async fn train(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, body: Body) -> Response {
    let prepared = async {
        let bytes = body_bytes(body)?;
        let m = object(&bytes, &fields_of::<ModelTrain>())?;
        let name = name_of(&m)?;
        let kind = kind_of(&m)?;
        if kind == ModelKind::Onnx {
            return Err(ApiError::invalid("ONNX models are trained outside Rialto; upload them").param("type"));
        }
        let time = |k: &str| match m.get(k) {
            None => Ok(None),
            Some(Value::String(t)) => crate::http::parse_time(k, t).map(Some),
            Some(_) => Err(ApiError::invalid(format!("`{k}` must be an RFC 3339 time")).param(k)),
        };
        let to = time("to")?.unwrap_or_else(|| rialto_store::now_us() + 1);
        let from = time("from")?.unwrap_or(to - 90 * 86_400 * 1_000_000);
        if from >= to {
            return Err(ApiError::invalid("`from` must be before `to`").param("from"));
        }
        let int = |k: &str, lo: i64, hi: i64, d: i64| -> Result<i64, ApiError> {
            match m.get(k) {
                None => Ok(d),
                Some(v) => v
                    .as_i64()
                    .filter(|n| (lo..=hi).contains(n))
                    .ok_or_else(|| ApiError::invalid(format!("`{k}` is an integer in {lo}..={hi}")).param(k)),
            }
        };
        let rounds = int("rounds", 1, 2000, 100)?;
        let max_depth = int("max_depth", 1, 12, 4)?;
        let learning_rate = match m.get("learning_rate") {
            None => 0.1,
            Some(v) => v
                .as_f64()
                .filter(|r| *r > 0.0 && *r <= 1.0)
                .ok_or_else(|| ApiError::invalid("`learning_rate` is a number in (0, 1]").param("learning_rate"))?,
        };
        let examples = s.db.training_set(from, to, &s.config.policies.time_zone).await.map_err(|e| match e {
            rialto_store::BacktestError::TooLarge(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "training_set_too_large", e.to_string()).param("from")
            }
            rialto_store::BacktestError::Store(e) => e.into(),
        })?;
        let frauds = examples.iter().filter(|e| e.fraud).count();
        let min = rialto_risk::training::LABELS_PER_CLASS_MIN;
        if frauds < min || examples.len() - frauds < min {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not_enough_labels",
                format!(
                    "training needs at least {min} fraud and {min} legitimate labelled payments in the range; \
                     there are {frauds} and {}",
                    examples.len() - frauds
                ),
            ));
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let trees = TreeOptions {
            rounds: rounds as usize,
            max_depth: max_depth as usize,
            learning_rate: learning_rate as f32,
            parallel: true,
            log_rounds: false,
        };
        Ok((bytes, name, kind, examples, trees))
    }
    .await;
    let (bytes, name, kind, examples, trees) = match prepared {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let register = Command::Model(ModelChange::Register(Box::new(NewModel {
        id: ids::new_id::<ids::ModelId>(),
        name,
        kind,
        features: rialto_risk::features::PAYMENT_FEATURES.iter().map(|f| (*f).to_string()).collect(),
        artifact: None,
        merchant_risk: present::merchant_risk(&BTreeMap::new(), 0.0),
        metadata: "{}".into(),
        dataset_rows: i64::try_from(examples.len()).unwrap_or(i64::MAX),
        created_by: ctx.caller.key_id.clone(),
    })));
    // Under the request's Idempotency-Key: a retry answers the first 202 and trains nothing.
    let request = ("POST", "/v1/risk/models/train", &bytes[..]);
    let writer = s.writer.clone();
    crate::idem::run_then(&s, &ctx, &h, request, register, StatusCode::ACCEPTED, move |outcome| {
        if let Ok(Output::Model(m)) = outcome {
            crate::worker::training::spawn(writer, m.id.clone(), examples, kind, trees);
        }
    })
    .await
}

/// `GET /v1/risk/models`
pub async fn list(State(s): State<AppState>, q: crate::http::Params) -> Response {
    respond(
        async {
            let p = crate::http::params(q, &["limit", "starting_after", "ending_before"])?;
            let (cursor, limit) = crate::http::paging(&p, <ModelId as rialto_core::ids::Id>::PREFIX)?;
            Ok(present::page(&s.db.models(&cursor, limit).await?, present::risk_model))
        }
        .await,
    )
}

/// `GET /v1/risk/models/{id}`: the model and how it did on live payments.
pub async fn get(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = id_of::<ModelId>(&id)?;
            let m = s.db.model(&id).await?.ok_or_else(|| ApiError::not_found("risk model", &id))?;
            let mut v = present::risk_model(&m);
            v.live = Some(s.db.model_stats(&id).await?);
            Ok(v)
        }
        .await,
    )
}

/// `POST /v1/risk/models/{id}/deploy`
pub async fn deploy(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, body: Body) -> Response {
    let path = format!("/v1/risk/models/{id}/deploy");
    write(&s, &ctx, &h, &path, body, StatusCode::OK, |_| {
        Ok(Command::Model(ModelChange::Deploy { id: id_of::<ModelId>(&id)? }))
    })
    .await
}

/// `POST /v1/risk/models/rollback`: the champion the current one replaced is deployed again.
pub async fn rollback(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, body: Body) -> Response {
    write(&s, &ctx, &h, "/v1/risk/models/rollback", body, StatusCode::OK, |_| Ok(Command::Model(ModelChange::Rollback)))
        .await
}

/// `POST /v1/risk/models/{id}/challenger` with `share_bp` (basis points of payments, 0 stops).
pub async fn challenger(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, body: Body) -> Response {
    let path = format!("/v1/risk/models/{id}/challenger");
    write(&s, &ctx, &h, &path, body, StatusCode::OK, |b| {
        let m = object(b, &fields_of::<ModelChallenger>())?;
        let share_bp = m
            .get("share_bp")
            .and_then(Value::as_i64)
            .filter(|n| (0..=rialto_store::SHARE_BP_MAX).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(format!("`share_bp` is an integer in 0..={}", rialto_store::SHARE_BP_MAX))
                    .param("share_bp")
            })?;
        Ok(Command::Model(ModelChange::Challenger { id: id_of::<ModelId>(&id)?, share_bp }))
    })
    .await
}

/// The operations of this module: the router, the permission check and the API description read them.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    Operation::new::<present::List<present::RiskModel>>(Verb::Get, "/v1/risk/models", Read, "Registered fraud models (newest first)", handler!(list))
        .queries(PAGE),
    Operation::new::<present::RiskModel>(Verb::Post, "/v1/risk/models", Administer, "Register an uploaded model (logistic JSON, forust trees JSON, or base64 ONNX) as testing; 400 invalid_model names the field", handler!(create))
        .body::<ModelCreate>()
        .status(201)
        .body_limit(crate::MODEL_BODY_BYTES_MAX),
    Operation::new::<present::RiskModel>(Verb::Post, "/v1/risk/models/train", Administer, "Train a model from the labelled payments of a range in the background (202, status training); 422 not_enough_labels", handler!(train))
        .body::<ModelTrain>()
        .status(202),
    Operation::new::<present::RiskModel>(Verb::Post, "/v1/risk/models/rollback", Administer, "Deploy again the champion the current one replaced", handler!(rollback)),
    Operation::new::<present::RiskModel>(Verb::Get, "/v1/risk/models/{id}", Read, "A model with its live results (scores by role and outcome, decisions, latency, precision/recall/AUC on labels)", handler!(get)),
    Operation::new::<present::RiskModel>(Verb::Post, "/v1/risk/models/{id}/deploy", Administer, "Make a model the champion (the previous one is deprecated and remembered for rollback)", handler!(deploy)),
    Operation::new::<present::RiskModel>(Verb::Post, "/v1/risk/models/{id}/challenger", Administer, "Score a share of payments with a testing model beside the champion (both scores recorded)", handler!(challenger))
        .body::<ModelChallenger>(),
];
