//! The fraud model registry as a domain: models registered (uploaded, or trained from labels),
//! deployed as the champion (the one it replaces remembered for a rollback), rolled back, and
//! run as a challenger on a share of payments. A pure [`apply`] over the loaded registry; the
//! store loads and locks the registry, writes the [`ChangeSet`] and serves the models.

use std::collections::HashMap;

use serde_json::json;

use crate::model::ModelKind;

/// What a registry change persists: each changed model, with its new artifact if it has one.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ChangeSet {
    /// Changed or new models, in order.
    pub models: Vec<(ModelRecord, Option<String>)>,
}

/// Why a registry change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No such model.
    #[error("no model `{0}`")]
    NotFound(String),
    /// The registry does not allow the change.
    #[error("{0}")]
    State(String),
}

/// The event a change publishes: a new champion.
pub fn event(c: &Command) -> Option<&'static str> {
    matches!(c, Command::Deploy { .. } | Command::Rollback).then_some("risk_model.deployed")
}

rialto_core::string_enum! {
    /// Where a registered model is in its life.
    pub enum ModelStatus {
        /// Registered without an artifact; its training is under way.
        Training = "training",
        /// Trained or uploaded; may score a share of payments as the challenger.
        Testing = "testing",
        /// The champion: scores every payment.
        Deployed = "deployed",
        /// Replaced, rolled back, or failed to train.
        Deprecated = "deprecated",
    }
}

/// Challenger shares are in basis points of payments (10,000 = all).
pub const SHARE_BP_MAX: i64 = 10_000;

/// A registered model (without its artifact).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRecord {
    /// `mdl_…`.
    pub id: String,
    /// Its name; versions count per name.
    pub name: String,
    /// 1, 2, ... per name.
    pub version: i64,
    /// `logistic_regression`, `gradient_boosting` or `onnx`.
    pub kind: String,
    /// Where it is in its life.
    pub status: ModelStatus,
    /// The payment features it reads, in input order.
    pub features: Vec<String>,
    /// Merchant risk table, JSON `{"merchants": {...}, "default": r}`.
    pub merchant_risk: String,
    /// Metrics, threshold, training settings: JSON object.
    pub metadata: String,
    /// Rows it was trained (and evaluated) on.
    pub dataset_rows: i64,
    /// When training ended, µs.
    pub trained_at_us: Option<i64>,
    /// Share of payments it scores as a challenger, basis points.
    pub challenger_share_bp: i64,
    /// When it last became the champion, µs.
    pub deployed_at_us: Option<i64>,
    /// The champion its deployment replaced.
    pub previous_id: Option<String>,
    /// Why training failed.
    pub error: Option<String>,
    /// Who registered it.
    pub created_by: String,
    /// µs.
    pub created_at_us: i64,
    /// µs.
    pub updated_at_us: i64,
}

/// A model to register: with an artifact it is `testing`, without one `training` (its
/// training is under way and ends with [`Command::Trained`]).
#[derive(Debug, Clone)]
pub struct NewModel {
    /// Pre-assigned id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind (validated by the caller by loading the artifact).
    pub kind: ModelKind,
    /// Features read.
    pub features: Vec<String>,
    /// The artifact (see `rialto_risk::model`).
    pub artifact: Option<String>,
    /// Merchant risk JSON.
    pub merchant_risk: String,
    /// Metadata JSON object.
    pub metadata: String,
    /// Training rows.
    pub dataset_rows: i64,
    /// Who.
    pub created_by: String,
}

/// What training produced.
#[derive(Debug, Clone)]
pub struct Trained {
    /// Features read (the trainer may drop constant ones).
    pub features: Vec<String>,
    /// The artifact.
    pub artifact: String,
    /// Merchant risk JSON.
    pub merchant_risk: String,
    /// Metadata JSON (metrics).
    pub metadata: String,
    /// Training rows.
    pub dataset_rows: i64,
}

/// A change to the registry.
#[derive(Debug, Clone)]
pub enum Command {
    /// Register a model.
    Register(Box<NewModel>),
    /// A `training` model's training ended: `testing` with its artifact, or `deprecated` with
    /// the error.
    Trained {
        /// The model.
        id: String,
        /// The outcome.
        result: Result<Box<Trained>, String>,
    },
    /// Make a model the champion (the current one is deprecated and remembered for rollback).
    Deploy {
        /// The model.
        id: String,
    },
    /// Restore the champion the current one replaced.
    Rollback,
    /// Score a share of payments with a `testing` model beside the champion (0 stops it).
    Challenger {
        /// The model.
        id: String,
        /// Basis points of payments.
        share_bp: i64,
    },
}

impl Command {
    /// The audit action and the model it names.
    pub fn action(&self) -> (&'static str, Option<String>) {
        match self {
            Command::Register(m) => ("risk_model.register", Some(m.id.clone())),
            Command::Trained { id, .. } => ("risk_model.trained", Some(id.clone())),
            Command::Deploy { id } => ("risk_model.deploy", Some(id.clone())),
            Command::Rollback => ("risk_model.rollback", None),
            Command::Challenger { id, .. } => ("risk_model.challenger", Some(id.clone())),
        }
    }
}

/// The audit details of an applied registry change.
pub fn audit_details(c: &Command, m: &ModelRecord) -> String {
    match c {
        Command::Register(n) => json!({"name": n.name, "kind": n.kind.name(), "version": m.version}).to_string(),
        Command::Trained { result, .. } => {
            json!({"status": m.status.as_str(), "error": result.as_ref().err()}).to_string()
        }
        Command::Challenger { share_bp, .. } => json!({"share_bp": share_bp}).to_string(),
        Command::Deploy { .. } | Command::Rollback => json!({"deployed": m.id, "replaced": m.previous_id}).to_string(),
    }
}

fn state_error(why: String) -> Error {
    Error::State(why)
}

/// Models changed by one command, with a new artifact where there is one.
type Changed = Vec<(ModelRecord, Option<String>)>;

/// Applies a registry change to the loaded registry at `now`, listing the changed models (with
/// a new artifact where there is one) in `changes`. A refused change leaves both as they were.
pub fn apply(
    models: &mut HashMap<String, ModelRecord>,
    changes: &mut ChangeSet,
    now: i64,
    c: &Command,
) -> Result<ModelRecord, Error> {
    let mut changed = Changed::new();
    let out = match c {
        Command::Register(n) => register(models, now, n, &mut changed),
        Command::Trained { id, result } => trained(models, now, id, result, &mut changed)?,
        Command::Deploy { id } => deploy(models, now, id, &mut changed)?,
        Command::Rollback => rollback(models, now, &mut changed)?,
        Command::Challenger { id, share_bp } => challenger(models, now, id, *share_bp, &mut changed)?,
    };
    for (m, artifact) in changed {
        models.insert(m.id.clone(), m.clone());
        changes.models.push((m, artifact));
    }
    Ok(out)
}

fn get(models: &HashMap<String, ModelRecord>, id: &str) -> Result<ModelRecord, Error> {
    models.get(id).cloned().ok_or_else(|| Error::NotFound(id.to_string()))
}

fn champion(models: &HashMap<String, ModelRecord>) -> Option<ModelRecord> {
    models.values().find(|m| m.status == ModelStatus::Deployed).cloned()
}

/// A new version of its name: `testing` with an artifact, `training` without.
fn register(models: &HashMap<String, ModelRecord>, now: i64, n: &NewModel, changed: &mut Changed) -> ModelRecord {
    let version = models.values().filter(|m| m.name == n.name).map(|m| m.version).max().unwrap_or(0) + 1;
    let m = ModelRecord {
        id: n.id.clone(),
        name: n.name.clone(),
        version,
        kind: n.kind.name().to_string(),
        status: if n.artifact.is_some() { ModelStatus::Testing } else { ModelStatus::Training },
        features: n.features.clone(),
        merchant_risk: n.merchant_risk.clone(),
        metadata: n.metadata.clone(),
        dataset_rows: n.dataset_rows,
        trained_at_us: n.artifact.is_some().then_some(now),
        challenger_share_bp: 0,
        deployed_at_us: None,
        previous_id: None,
        error: None,
        created_by: n.created_by.clone(),
        created_at_us: now,
        updated_at_us: now,
    };
    changed.push((m.clone(), n.artifact.clone()));
    m
}

/// A `training` model's training ended.
fn trained(
    models: &HashMap<String, ModelRecord>,
    now: i64,
    id: &str,
    result: &Result<Box<Trained>, String>,
    changed: &mut Changed,
) -> Result<ModelRecord, Error> {
    let mut m = get(models, id)?;
    if m.status != ModelStatus::Training {
        return Err(state_error(format!("model `{id}` is {}, not training", m.status.as_str())));
    }
    m.trained_at_us = Some(now);
    m.updated_at_us = now;
    match result {
        Ok(t) => {
            m.status = ModelStatus::Testing;
            m.features = t.features.clone();
            m.merchant_risk = t.merchant_risk.clone();
            m.metadata = t.metadata.clone();
            m.dataset_rows = t.dataset_rows;
            changed.push((m.clone(), Some(t.artifact.clone())));
        }
        Err(e) => {
            m.status = ModelStatus::Deprecated;
            m.error = Some(e.clone());
            changed.push((m.clone(), None));
        }
    }
    Ok(m)
}

/// The model becomes the champion; the current one is deprecated and remembered.
fn deploy(
    models: &HashMap<String, ModelRecord>,
    now: i64,
    id: &str,
    changed: &mut Changed,
) -> Result<ModelRecord, Error> {
    let mut m = get(models, id)?;
    match m.status {
        ModelStatus::Deployed => return Ok(m),
        ModelStatus::Training => return Err(state_error(format!("model `{id}` is still training"))),
        _ if m.error.is_some() => return Err(state_error(format!("model `{id}` failed to train"))),
        _ => {}
    }
    m.previous_id = None;
    if let Some(mut old) = champion(models) {
        old.status = ModelStatus::Deprecated;
        old.updated_at_us = now;
        m.previous_id = Some(old.id.clone());
        changed.push((old, None));
    }
    m.status = ModelStatus::Deployed;
    m.challenger_share_bp = 0;
    m.deployed_at_us = Some(now);
    m.updated_at_us = now;
    changed.push((m.clone(), None));
    Ok(m)
}

/// The champion the current one replaced comes back.
fn rollback(models: &HashMap<String, ModelRecord>, now: i64, changed: &mut Changed) -> Result<ModelRecord, Error> {
    let Some(mut current) = champion(models) else {
        return Err(state_error("no model is deployed".into()));
    };
    let Some(prev_id) = current.previous_id.clone() else {
        return Err(state_error(format!("model `{}` replaced no earlier model", current.id)));
    };
    let mut prev = get(models, &prev_id)?;
    current.status = ModelStatus::Deprecated;
    current.updated_at_us = now;
    prev.status = ModelStatus::Deployed;
    prev.challenger_share_bp = 0;
    prev.deployed_at_us = Some(now);
    prev.updated_at_us = now;
    changed.push((current, None));
    changed.push((prev.clone(), None));
    Ok(prev)
}

/// A `testing` model scores a share of payments beside the champion (one challenger at a time).
fn challenger(
    models: &HashMap<String, ModelRecord>,
    now: i64,
    id: &str,
    share_bp: i64,
    changed: &mut Changed,
) -> Result<ModelRecord, Error> {
    let mut m = get(models, id)?;
    if !(0..=SHARE_BP_MAX).contains(&share_bp) {
        return Err(state_error(format!("a share is 0..={SHARE_BP_MAX} basis points")));
    }
    if m.status != ModelStatus::Testing || m.error.is_some() {
        return Err(state_error(format!(
            "only a trained testing model can be a challenger; `{id}` is {}",
            m.status.as_str()
        )));
    }
    for other in models.values().filter(|o| o.id != id && o.challenger_share_bp > 0) {
        let mut o = other.clone();
        o.challenger_share_bp = 0;
        o.updated_at_us = now;
        changed.push((o, None));
    }
    m.challenger_share_bp = share_bp;
    m.updated_at_us = now;
    changed.push((m.clone(), None));
    Ok(m)
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
