//! The model registry in the writer: fraud models registered (uploaded, or trained from
//! labels), deployed as the champion, rolled back, and run as a challenger on a share of
//! payments; every change audited in its transaction. And serving: the writer loads the live
//! models once per batch (artifacts parsed once per version and cached) and scores payments
//! through a [`Runner`] bounded by a timeout.

use std::sync::Mutex;
use std::time::Duration;

use rialto_risk::model::{Model, ModelKind, Prediction, RunError, Runner};
use serde_json::{json, Value};

use super::*;

pub use rialto_risk::registry::{Command as ModelChange, ModelRecord, ModelStatus, NewModel, Trained, SHARE_BP_MAX};

pub(crate) const MODEL_COLUMNS: &str = "id, name, version, kind, status, features, merchant_risk, metadata, \
    dataset_rows, trained_at, challenger_share_bp, deployed_at, previous_id, error, created_by, created_at, updated_at";

pub(crate) fn from_row(r: &impl Get) -> Result<ModelRecord, StoreError> {
    let features: String = r.col("features")?;
    Ok(ModelRecord {
        id: r.col("id")?,
        name: r.col("name")?,
        version: r.col("version")?,
        kind: r.col("kind")?,
        status: {
            let s: String = r.col("status")?;
            crate::records::stored("model status", &s, ModelStatus::parse)?
        },
        features: serde_json::from_str(&features).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        merchant_risk: r.col("merchant_risk")?,
        metadata: r.col("metadata")?,
        dataset_rows: r.col("dataset_rows")?,
        trained_at_us: r.col("trained_at")?,
        challenger_share_bp: r.col("challenger_share_bp")?,
        deployed_at_us: r.col("deployed_at")?,
        previous_id: r.col("previous_id")?,
        error: r.col("error")?,
        created_by: r.col("created_by")?,
        created_at_us: r.col("created_at")?,
        updated_at_us: r.col("updated_at")?,
    })
}

/// Loads (and on PostgreSQL locks) the whole registry for a batch that changes it.
pub(crate) async fn load(conn: &mut Conn) -> Result<HashMap<String, ModelRecord>, Abort> {
    let lock = if conn.kind() == DbKind::Postgres { " ORDER BY id FOR UPDATE" } else { " ORDER BY id" };
    let rows = conn.fetch_all(&format!("SELECT {MODEL_COLUMNS} FROM risk_models{lock}"), []).await?;
    let mut models = HashMap::new();
    for r in &rows {
        let m = from_row(r)?;
        models.insert(m.id.clone(), m);
    }
    Ok(models)
}

/// Applies a registry change (`rialto_risk::registry::apply`) to the batch's loaded registry.
pub(crate) fn change(state: &mut State, writes: &mut Writes, c: &ModelChange) -> Outcome {
    let mut changes = rialto_risk::registry::ChangeSet::default();
    let m = rialto_risk::registry::apply(&mut state.models, &mut changes, state.now, c).map_err(|e| match e {
        rialto_risk::registry::Error::NotFound(id) => CommandError::ModelNotFound(id),
        rialto_risk::registry::Error::State(why) => CommandError::ModelState(why),
    })?;
    writes.models.extend(changes.models);
    Ok(Output::Model(Box::new(m)))
}

pub(crate) async fn write(conn: &mut Conn, w: &mut Writes) -> Result<(), Abort> {
    for (m, artifact) in std::mem::take(&mut w.models) {
        let sql = "INSERT INTO risk_models (id, name, version, kind, status, features, artifact, merchant_risk, \
                   metadata, dataset_rows, trained_at, challenger_share_bp, deployed_at, previous_id, error, \
                   created_by, created_at, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
                   ON CONFLICT (id) DO UPDATE SET status = excluded.status, features = excluded.features, \
                   artifact = COALESCE(excluded.artifact, risk_models.artifact), \
                   merchant_risk = excluded.merchant_risk, metadata = excluded.metadata, \
                   dataset_rows = excluded.dataset_rows, trained_at = excluded.trained_at, \
                   challenger_share_bp = excluded.challenger_share_bp, deployed_at = excluded.deployed_at, \
                   previous_id = excluded.previous_id, error = excluded.error, updated_at = excluded.updated_at";
        let vals = vec![
            Val::T(m.id),
            Val::T(m.name),
            Val::I(m.version),
            Val::T(m.kind),
            Val::T(m.status.as_str().into()),
            Val::T(serde_json::to_string(&m.features).unwrap_or_else(|_| "[]".into())),
            Val::OT(artifact),
            Val::T(m.merchant_risk),
            Val::T(m.metadata),
            Val::I(m.dataset_rows),
            Val::OI(m.trained_at_us),
            Val::I(m.challenger_share_bp),
            Val::OI(m.deployed_at_us),
            Val::OT(m.previous_id),
            Val::OT(m.error),
            Val::T(m.created_by),
            Val::I(m.created_at_us),
            Val::I(m.updated_at_us),
        ];
        conn.execute(sql, vals).await?;
    }
    let rows = std::mem::take(&mut w.model_scores);
    if !rows.is_empty() {
        let head = "INSERT INTO risk_model_scores (assessment_id, model_id, payment_id, role, outcome, \
                    probability_ppm, score, decision, latency_us, created_at)";
        exec_values(conn, head, 10, rows, "").await?;
    }
    Ok(())
}

/// A model as loaded from the registry, or why it does not load in this build.
pub(crate) type Loadable = Result<Arc<Model>, String>;

/// A live model: loaded from the registry, with its role.
#[derive(Clone)]
pub(crate) struct Live {
    pub id: String,
    /// None when its artifact does not load in this build (it then falls back to the rules).
    pub model: Loadable,
    pub share_bp: i64,
}

/// The models a batch serves: the champion and a challenger.
#[derive(Clone, Default)]
pub(crate) struct Serving {
    pub champion: Option<Live>,
    pub challenger: Option<Live>,
}

impl Serving {
    pub(crate) fn is_empty(&self) -> bool {
        self.champion.is_none() && self.challenger.is_none()
    }
}

/// What a model score can come to.
pub const SCORE_OUTCOMES: [&str; 4] = ["scored", "failed", "timeout", "unavailable"];

/// What serving needs across batches: parsed models by (id, updated_at), the inference
/// runner and its timeout.
pub struct ModelServer {
    cache: Mutex<HashMap<String, (i64, Loadable)>>,
    runner: Runner,
    /// Scores attempted by outcome (`SCORE_OUTCOMES` order), and their total time, µs.
    outcomes: [std::sync::atomic::AtomicU64; 4],
    time_us: std::sync::atomic::AtomicU64,
    /// The most one inference may take before the assessment falls back to the rules.
    pub timeout: Duration,
    /// Runs on the inference worker before each prediction (tests hold a model with it).
    before_predict: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl std::fmt::Debug for ModelServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelServer").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl Default for ModelServer {
    fn default() -> Self {
        ModelServer::new(Duration::from_millis(20))
    }
}

impl ModelServer {
    /// A server whose inferences answer within `timeout`.
    pub fn new(timeout: Duration) -> ModelServer {
        ModelServer {
            cache: Mutex::new(HashMap::new()),
            runner: Runner::default(),
            outcomes: Default::default(),
            time_us: Default::default(),
            timeout,
            before_predict: None,
        }
    }

    /// Runs `hook` on the inference worker before every prediction. A test makes a model
    /// that cannot answer in time with a hook that blocks until the test releases it, so the
    /// outcome does not depend on how fast the machine is.
    pub fn with_before_predict(mut self, hook: Arc<dyn Fn() + Send + Sync>) -> ModelServer {
        self.before_predict = Some(hook);
        self
    }

    /// Model scores attempted in this process by outcome, and their total time in µs (for
    /// metrics; a score in a batch that later rolled back still counts).
    pub fn counters(&self) -> ([(&'static str, u64); 4], u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let mut out = [("", 0); 4];
        for (i, name) in SCORE_OUTCOMES.iter().enumerate() {
            out[i] = (*name, self.outcomes[i].load(Relaxed));
        }
        (out, self.time_us.load(Relaxed))
    }

    fn count(&self, outcome: &str, latency_us: i64) {
        use std::sync::atomic::Ordering::Relaxed;
        if let Some(i) = SCORE_OUTCOMES.iter().position(|o| *o == outcome) {
            self.outcomes[i].fetch_add(1, Relaxed);
        }
        self.time_us.fetch_add(u64::try_from(latency_us).unwrap_or(0), Relaxed);
    }

    /// The live models, read from the registry once per batch of payments.
    pub(super) async fn load(&self, conn: &mut Conn) -> Result<Serving, Abort> {
        let sql = "SELECT id, status, challenger_share_bp, updated_at FROM risk_models \
                   WHERE status = 'deployed' OR (status = 'testing' AND challenger_share_bp > 0)";
        let rows = conn.fetch_all(sql, []).await?;
        let mut serving = Serving::default();
        for r in rows {
            let id: String = r.col("id")?;
            let updated: i64 = r.col("updated_at")?;
            let cached = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&id).cloned();
            let model = match cached {
                Some((at, m)) if at == updated => m,
                _ => {
                    let m = load_model(conn, &id).await?;
                    let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    cache.insert(id.clone(), (updated, m.clone()));
                    m
                }
            };
            let live = Live { id, model, share_bp: r.col("challenger_share_bp")? };
            if r.col::<String>("status")? == "deployed" {
                serving.champion = Some(live);
            } else {
                serving.challenger = Some(live);
            }
        }
        // Only live models stay parsed.
        let live: Vec<&str> =
            [&serving.champion, &serving.challenger].into_iter().flatten().map(|l| l.id.as_str()).collect();
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|id, _| live.contains(&id.as_str()));
        Ok(serving)
    }

    /// Scores one payment's features with a model, within the timeout: the prediction and
    /// the time it took, or why there is none (`failed: …`, `timeout`).
    pub(crate) fn score(&self, model: &Arc<Model>, features: Vec<f64>) -> (Result<Prediction, String>, i64) {
        let started = std::time::Instant::now();
        let (m, hook) = (model.clone(), self.before_predict.clone());
        let predict = move || {
            if let Some(hook) = hook {
                hook();
            }
            m.predict(&features)
        };
        let r = match self.runner.run(self.timeout, predict) {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(e)) => Err(format!("failed: {e}")),
            Err(RunError::Timeout) => Err(format!("timeout: no answer within {} µs", self.timeout.as_micros())),
            Err(RunError::Panicked) => Err("failed: the model panicked".into()),
            Err(RunError::Stuck(n)) => {
                Err(format!("timeout: not called, {n} earlier calls are still running past the timeout"))
            }
        };
        (r, i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX))
    }
}

/// What scoring one payment needs.
pub(crate) struct ScoreContext<'a> {
    pub assessment_id: &'a str,
    pub payment_id: &'a str,
    pub current: &'a rialto_risk::window::Entry,
    /// The user's window entries (30 days).
    pub user_window: &'a [rialto_risk::window::Entry],
    pub utc_offset_seconds: i64,
    pub thresholds: rialto_risk::Thresholds,
    pub now: i64,
}

impl ModelServer {
    /// Scores a payment with the champion and, if the payment is in its share, the challenger:
    /// each as the JSON the assessment explains itself with (the champion's `score` present
    /// only if it answered), and a `risk_model_scores` row each.
    pub(crate) fn score_payment(
        &self,
        serving: &Serving,
        c: &ScoreContext<'_>,
        rows: &mut Vec<Vec<Val>>,
    ) -> (Option<Value>, Option<Value>) {
        let mut scored = |live: &Live, role: &str| -> Value {
            let mut row = |outcome: &str, answer: Option<(f64, i64, rialto_risk::Decision)>, latency: i64| {
                self.count(outcome, latency);
                #[allow(clippy::cast_possible_truncation)]
                let ppm = answer.map(|(p, _, _)| (p * 1e6).round() as i64);
                rows.push(vec![
                    Val::T(c.assessment_id.to_string()),
                    Val::T(live.id.clone()),
                    Val::T(c.payment_id.to_string()),
                    Val::T(role.to_string()),
                    Val::T(outcome.to_string()),
                    Val::OI(ppm),
                    Val::OI(answer.map(|a| a.1)),
                    Val::OT(answer.map(|a| a.2.as_str().to_string())),
                    Val::I(latency),
                    Val::I(c.now),
                ]);
            };
            let model = match &live.model {
                Ok(m) => m,
                Err(e) => {
                    row("unavailable", None, 0);
                    return json!({"model_id": live.id, "role": role, "outcome": "unavailable", "error": e});
                }
            };
            let merchant = model.merchant_risk_of(c.current.merchant.as_deref());
            let features = rialto_risk::features::extract(c.current, c.user_window, c.utc_offset_seconds, merchant);
            match self.score(model, features) {
                (Ok(p), latency) => {
                    let (score, decision) = score_of(p.probability, c.thresholds);
                    row("scored", Some((p.probability, score, decision)), latency);
                    let top: Vec<Value> =
                        p.contributions.iter().map(|(f, v)| json!({"feature": f, "contribution": v})).collect();
                    json!({"model_id": live.id, "role": role, "outcome": "scored", "probability": p.probability,
                        "score": score, "decision": decision.as_str(), "top_features": top,
                        "latency_us": latency})
                }
                (Err(e), latency) => {
                    let outcome = if e.starts_with("timeout") { "timeout" } else { "failed" };
                    row(outcome, None, latency);
                    json!({"model_id": live.id, "role": role, "outcome": outcome, "error": e, "latency_us": latency})
                }
            }
        };
        let champion = serving.champion.as_ref().map(|l| scored(l, "champion"));
        let challenger =
            serving.challenger.as_ref().filter(|l| in_share(c.payment_id, l.share_bp)).map(|l| scored(l, "challenger"));
        (champion, challenger)
    }
}

async fn load_model(conn: &mut Conn, id: &str) -> Result<Loadable, Abort> {
    let sql = "SELECT kind, features, artifact, merchant_risk FROM risk_models WHERE id = $1";
    let row = conn.fetch_one(sql, [Val::T(id.to_string())]).await?;
    let kind: String = row.col("kind")?;
    let features: String = row.col("features")?;
    let artifact: Option<String> = row.col("artifact")?;
    let merchant: String = row.col("merchant_risk")?;
    let loaded = (|| {
        let kind = ModelKind::parse(&kind).ok_or_else(|| format!("unknown model kind `{kind}`"))?;
        let features: Vec<String> = serde_json::from_str(&features).map_err(|e| e.to_string())?;
        let (table, default) = merchant_table(&merchant);
        let artifact = artifact.ok_or("the model has no artifact")?;
        Model::load(kind, features, &artifact, table, default).map(Arc::new).map_err(|e| e.to_string())
    })();
    if let Err(e) = &loaded {
        tracing::warn!(model = id, error = %e, "a live model does not load; payments fall back to the rules");
    }
    Ok(loaded)
}

/// The merchant risk JSON as (table, default).
pub fn merchant_table(text: &str) -> (std::collections::BTreeMap<String, f64>, f64) {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let table = v["merchants"]
        .as_object()
        .map(|o| o.iter().filter_map(|(k, r)| r.as_f64().map(|r| (k.clone(), r))).collect())
        .unwrap_or_default();
    (table, v["default"].as_f64().unwrap_or(0.0))
}

/// Whether a payment is in a challenger's share: a stable hash of its id, so a retry lands the
/// same way.
pub(crate) fn in_share(payment_id: &str, share_bp: i64) -> bool {
    use sha2::Digest;
    let h = sha2::Sha256::digest(payment_id.as_bytes());
    let n = u64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]) % 10_000;
    i64::try_from(n).unwrap_or(0) < share_bp
}

/// The score (0..=100) of a probability, and its decision alone.
pub(crate) fn score_of(p: f64, thresholds: rialto_risk::Thresholds) -> (i64, rialto_risk::Decision) {
    #[allow(clippy::cast_possible_truncation)]
    let score = (p * 100.0).round().clamp(0.0, 100.0) as i64;
    (score, thresholds.level(score).decision())
}

impl Db {
    /// Registered models, newest first (ids are time-ordered), a page at a time.
    pub async fn models(&self, cursor: &crate::Cursor, limit: usize) -> Result<crate::Page<ModelRecord>, StoreError> {
        let select = format!("SELECT {MODEL_COLUMNS} FROM risk_models");
        let (rows, has_more) = crate::read::page(self, &select, "id", &[], cursor, limit).await?;
        Ok(crate::Page { data: rows.iter().map(from_row).collect::<Result<_, _>>()?, has_more })
    }

    /// One model.
    pub async fn model(&self, id: &str) -> Result<Option<ModelRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {MODEL_COLUMNS} FROM risk_models WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Models still `training` with no change since `before_us` (their trainer stopped).
    pub async fn stale_training_models(&self, before_us: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT id FROM risk_models WHERE status = 'training' AND updated_at < $1 ORDER BY id")
            .bind(before_us)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| r.col("id").map_err(StoreError::from)).collect()
    }

    /// A model's artifact.
    pub async fn model_artifact(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT artifact FROM risk_models WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.col::<Option<String>>("artifact")).transpose()?.flatten())
    }

    /// How a model did on live payments: scores by role and outcome, what it would have
    /// decided, and against the latest labels (fraud = positive) precision and recall of its
    /// `review`-or-stricter decisions and ROC AUC of its probabilities.
    pub async fn model_stats(&self, id: &str) -> Result<Value, StoreError> {
        let rows = sqlx::query(
            "SELECT s.role, s.outcome, s.probability_ppm, s.decision, s.latency_us, \
             (SELECT l.label FROM payment_labels l WHERE l.payment_id = s.payment_id ORDER BY l.id DESC LIMIT 1) AS label \
             FROM risk_model_scores s WHERE s.model_id = $1",
        )
        .bind(id.to_string())
        .fetch_all(self.pool())
        .await?;
        let mut by_role: std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>> =
            Default::default();
        let mut decisions: std::collections::BTreeMap<String, i64> = Default::default();
        let (mut scores, mut labels, mut latencies) = (Vec::new(), Vec::new(), Vec::new());
        let (mut tp, mut fp, mut fn_) = (0i64, 0i64, 0i64);
        for r in &rows {
            let role: String = r.col("role")?;
            let outcome: String = r.col("outcome")?;
            *by_role.entry(role).or_default().entry(outcome).or_default() += 1;
            latencies.push(r.col::<i64>("latency_us")?);
            let Some(ppm) = r.col::<Option<i64>>("probability_ppm")? else { continue };
            let decision: String = r.col::<Option<String>>("decision")?.unwrap_or_default();
            *decisions.entry(decision.clone()).or_default() += 1;
            let Some(label) = r.col::<Option<String>>("label")? else { continue };
            let fraud = label == "fraud";
            let flagged = decision != "approve";
            match (flagged, fraud) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                _ => {}
            }
            #[allow(clippy::cast_precision_loss)]
            scores.push(ppm as f64 / 1e6);
            labels.push(fraud);
        }
        latencies.sort_unstable();
        let pct = |p: usize| latencies.get((latencies.len().saturating_sub(1)) * p / 100).copied();
        #[allow(clippy::cast_precision_loss)]
        let ratio = |a: i64, b: i64| if b > 0 { Some(a as f64 / b as f64) } else { None };
        let both = labels.iter().any(|l| *l) && labels.iter().any(|l| !*l);
        Ok(json!({
            "model_id": id, "scored": rows.len(), "by_role": by_role, "decisions": decisions,
            "latency_us": {"p50": pct(50), "p99": pct(99)},
            "labelled": labels.len(),
            "precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn_),
            "roc_auc": both.then(|| rialto_risk::ml::roc_auc(&scores, &labels)),
        }))
    }

    /// A payment's model scores (champion and challenger).
    pub async fn payment_model_scores(&self, assessment_id: &str) -> Result<Vec<Value>, StoreError> {
        let rows = sqlx::query(
            "SELECT model_id, role, outcome, probability_ppm, score, decision, latency_us FROM risk_model_scores \
             WHERE assessment_id = $1 ORDER BY role",
        )
        .bind(assessment_id.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                #[allow(clippy::cast_precision_loss)]
                let p = r.col::<Option<i64>>("probability_ppm")?.map(|ppm| ppm as f64 / 1e6);
                Ok(json!({
                    "model_id": r.col::<String>("model_id")?, "role": r.col::<String>("role")?,
                    "outcome": r.col::<String>("outcome")?, "probability": p,
                    "score": r.col::<Option<i64>>("score")?,
                    "decision": r.col::<Option<String>>("decision")?,
                    "latency_us": r.col::<i64>("latency_us")?,
                }))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
