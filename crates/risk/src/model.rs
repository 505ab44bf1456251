//! Served fraud models: a model reads some of the [`PAYMENT_FEATURES`](crate::features) by
//! name and answers the probability that a payment is fraud, with the features that pushed it
//! most. Three kinds: logistic regression and gradient-boosted trees trained by Rialto, and
//! ONNX models a data scientist brings (with the `onnx` cargo feature; run by tract, in pure
//! Rust).
//!
//! A model's artifact is text, so it can live in the database: the JSON of a
//! [`Logistic`](crate::ml::Logistic), forust's JSON dump of a booster, or base64 of an ONNX file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::features::{position, PAYMENT_FEATURES};
use crate::ml::Logistic;

/// The kinds of model the registry serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// [`Logistic`](crate::ml::Logistic), as JSON.
    LogisticRegression,
    /// A forust `GradientBooster` (log loss), as its JSON dump.
    GradientBoosting,
    /// An ONNX binary classifier (e.g. scikit-learn via skl2onnx, `zipmap=False`), base64.
    Onnx,
}

impl ModelKind {
    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<ModelKind> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::LogisticRegression => "logistic_regression",
            ModelKind::GradientBoosting => "gradient_boosting",
            ModelKind::Onnx => "onnx",
        }
    }
}

/// Why a model cannot be loaded or did not answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The model asks for a feature Rialto does not compute.
    #[error("unknown feature `{0}` (known: {known})", known = PAYMENT_FEATURES.join(", "))]
    UnknownFeature(String),
    /// No features, or a feature twice.
    #[error("{0}")]
    Features(String),
    /// The artifact does not parse as the kind says.
    #[error("the model artifact does not load: {0}")]
    Artifact(String),
    /// This build cannot run the kind.
    #[error("this build of Rialto cannot run `{0}` models (build with the `onnx` feature)")]
    Unsupported(&'static str),
    /// Inference failed or answered something that is not a probability.
    #[error("inference failed: {0}")]
    Inference(String),
}

/// A model's answer for one payment.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Probability of fraud, 0..=1.
    pub probability: f64,
    /// The features that moved the log-odds most (name, contribution), largest first; empty
    /// where the kind cannot say (ONNX).
    pub contributions: Vec<(String, f64)>,
}

/// Gradient-boosted trees (log loss) over any numeric features, checked to be safe to run.
pub struct Trees(forust_ml::GradientBooster);

impl Trees {
    /// Loads forust's JSON dump of a log-loss booster over `width` features.
    pub fn load(artifact: &str, width: usize) -> Result<Trees, ModelError> {
        let b = forust_ml::GradientBooster::from_json(artifact).map_err(|e| ModelError::Artifact(e.to_string()))?;
        check_trees(&b, width)?;
        if !matches!(b.objective_type, forust_ml::objective::ObjectiveType::LogLoss) {
            return Err(ModelError::Artifact("the booster's objective must be log loss".into()));
        }
        Ok(Trees(b))
    }

    /// The probability of class 1 for each row (rows of the loaded width).
    pub fn probabilities(&self, rows: &[Vec<f64>], parallel: bool) -> Vec<f64> {
        let width = rows.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(rows.len() * width);
        for c in 0..width {
            data.extend(rows.iter().map(|r| r[c]));
        }
        let matrix = forust_ml::Matrix::new(&data, rows.len(), width);
        self.0.predict(&matrix, parallel).into_iter().map(sigmoid).collect()
    }

    /// One row's probability and each feature's contribution to its log-odds.
    fn explain(&self, x: &[f64]) -> (f64, Vec<f64>) {
        let data = forust_ml::Matrix::new(x, 1, x.len());
        let log_odds = self.0.predict(&data, false).first().copied().unwrap_or(f64::NAN);
        // The last contribution is the bias.
        let c = self.0.predict_contributions(&data, forust_ml::gradientbooster::ContributionsMethod::Weight, false);
        (sigmoid(log_odds), c.into_iter().take(x.len()).collect())
    }
}

enum Inner {
    Logistic(Logistic),
    Trees(Box<Trees>),
    #[cfg(feature = "onnx")]
    Onnx(crate::onnx::Plan),
}

/// A loaded model, ready to score.
pub struct Model {
    /// Its kind.
    pub kind: ModelKind,
    /// The features it reads, in its input order.
    pub features: Vec<String>,
    /// Their positions in [`PAYMENT_FEATURES`].
    columns: Vec<usize>,
    /// The smoothed fraud rate of merchants seen in training (`merchant_risk`).
    pub merchant_risk: BTreeMap<String, f64>,
    /// `merchant_risk` of a merchant not in the table.
    pub default_merchant_risk: f64,
    inner: Inner,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("kind", &self.kind).field("features", &self.features).finish_non_exhaustive()
    }
}

/// How many contributions a prediction reports.
pub const TOP_CONTRIBUTIONS: usize = 5;

impl Model {
    /// Loads a model of `kind` reading `features` from its text `artifact`.
    pub fn load(
        kind: ModelKind,
        features: Vec<String>,
        artifact: &str,
        merchant_risk: BTreeMap<String, f64>,
        default_merchant_risk: f64,
    ) -> Result<Model, ModelError> {
        if features.is_empty() {
            return Err(ModelError::Features("a model reads at least one feature".into()));
        }
        let mut columns = Vec::with_capacity(features.len());
        for f in &features {
            let c = position(f).ok_or_else(|| ModelError::UnknownFeature(f.clone()))?;
            if columns.contains(&c) {
                return Err(ModelError::Features(format!("feature `{f}` is listed twice")));
            }
            columns.push(c);
        }
        let artifact_error = |e: &dyn std::fmt::Display| ModelError::Artifact(e.to_string());
        let inner = match kind {
            ModelKind::LogisticRegression => {
                let m: Logistic = serde_json::from_str(artifact).map_err(|e| artifact_error(&e))?;
                if m.features != features || m.weights.len() != features.len() || m.means.len() != features.len() {
                    return Err(ModelError::Artifact("the weights do not match the features".into()));
                }
                if !m.bias.is_finite() || m.weights.iter().chain(&m.means).any(|w| !w.is_finite()) {
                    return Err(ModelError::Artifact("a weight is not a finite number".into()));
                }
                Inner::Logistic(m)
            }
            ModelKind::GradientBoosting => Inner::Trees(Box::new(Trees::load(artifact, features.len())?)),
            #[cfg(feature = "onnx")]
            ModelKind::Onnx => Inner::Onnx(crate::onnx::Plan::load(artifact, features.len())?),
            #[cfg(not(feature = "onnx"))]
            ModelKind::Onnx => return Err(ModelError::Unsupported("onnx")),
        };
        if !(0.0..=1.0).contains(&default_merchant_risk) || merchant_risk.values().any(|r| !(0.0..=1.0).contains(r)) {
            return Err(ModelError::Features("merchant risks are rates in 0..=1".into()));
        }
        Ok(Model { kind, features, columns, merchant_risk, default_merchant_risk, inner })
    }

    /// The merchant risk this model gives a merchant.
    pub fn merchant_risk_of(&self, merchant: Option<&str>) -> f64 {
        merchant.and_then(|m| self.merchant_risk.get(m)).copied().unwrap_or(self.default_merchant_risk)
    }

    /// The model's inputs out of the full payment feature vector.
    pub fn select(&self, all: &[f64]) -> Vec<f64> {
        self.columns.iter().map(|&c| all.get(c).copied().unwrap_or(0.0)).collect()
    }

    /// Scores a full payment feature vector (as [`extract`](crate::features::extract) gives).
    pub fn predict(&self, all: &[f64]) -> Result<Prediction, ModelError> {
        let x = self.select(all);
        let (probability, contributions) = match &self.inner {
            Inner::Logistic(m) => (m.probability(&x), m.contributions(&x)),
            Inner::Trees(t) => t.explain(&x),
            #[cfg(feature = "onnx")]
            Inner::Onnx(plan) => (plan.probability(&x)?, Vec::new()),
        };
        if !probability.is_finite() || !(0.0..=1.0).contains(&probability) {
            return Err(ModelError::Inference(format!("the model answered {probability}, not a probability")));
        }
        let mut named: Vec<(String, f64)> =
            self.features.iter().cloned().zip(contributions).filter(|(_, c)| c.is_finite() && *c != 0.0).collect();
        named.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        named.truncate(TOP_CONTRIBUTIONS);
        Ok(Prediction { probability, contributions: named })
    }
}

/// A booster from outside must not send inference out of bounds or round in circles: every
/// tree has a root, every split reads a feature the model has, and children come after their
/// parent (as forust writes them).
fn check_trees(b: &forust_ml::GradientBooster, width: usize) -> Result<(), ModelError> {
    for (t, tree) in b.trees.iter().enumerate() {
        if tree.nodes.is_empty() {
            return Err(ModelError::Artifact(format!("tree {t} has no nodes")));
        }
        for (i, n) in tree.nodes.iter().enumerate().filter(|(_, n)| !n.is_leaf) {
            if n.split_feature >= width {
                return Err(ModelError::Artifact(format!(
                    "tree {t} splits on feature {}, but the model reads {width} features",
                    n.split_feature
                )));
            }
            let ok = |c: usize| c > i && c < tree.nodes.len();
            if !(ok(n.left_child) && ok(n.right_child) && ok(n.missing_node)) {
                return Err(ModelError::Artifact(format!("tree {t} node {i} points outside the tree")));
            }
        }
    }
    Ok(())
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Why a [`Runner`] gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// No answer within the timeout (the answer, if it comes, is dropped).
    Timeout,
    /// The inference panicked.
    Panicked,
    /// Not run: this many earlier calls are still running past their timeout (a stuck model
    /// is not given another thread, nor another payment's time, until one of them ends).
    Stuck(usize),
}

/// Abandoned workers still running past their timeout, after which the runner stops starting
/// new ones and answers [`RunError::Stuck`] at once.
pub const STUCK_WORKERS_MAX: usize = 4;

type Job = Box<dyn FnOnce() + Send>;

/// Runs inference on a worker thread and waits at most a timeout for it, so a slow or stuck
/// model costs a payment no more than the timeout. After a timeout the worker is abandoned
/// (it exits when its job ends) and the next job gets a fresh one, unless
/// [`STUCK_WORKERS_MAX`] abandoned workers are still running: then jobs are refused at once
/// (a hung model costs neither a thread nor the timeout per payment) until one of them ends.
#[derive(Default)]
pub struct Runner {
    worker: std::sync::Mutex<Option<std::sync::mpsc::Sender<Job>>>,
    /// Worker threads alive: the current one and abandoned ones still running.
    alive: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// Counts a worker thread out when it ends.
struct Alive(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Runner")
    }
}

impl Runner {
    /// Runs `f` on the worker; its answer, if within `timeout`.
    pub fn run<R: Send + 'static>(
        &self,
        timeout: std::time::Duration,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, RunError> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = reply.send(r.ok());
        });
        let mut worker = self.worker.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if worker.is_none() {
            // With no current worker every live one is an abandoned one.
            let stuck = self.alive.load(std::sync::atomic::Ordering::SeqCst);
            if stuck >= STUCK_WORKERS_MAX {
                return Err(RunError::Stuck(stuck));
            }
        }
        let sender = worker.get_or_insert_with(|| {
            let (tx, rx) = std::sync::mpsc::channel::<Job>();
            self.alive.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let alive = Alive(self.alive.clone());
            std::thread::Builder::new()
                .name("rialto-model".into())
                .spawn(move || {
                    let _alive = alive;
                    rx.into_iter().for_each(|job| job());
                })
                .map(|_| tx)
                .unwrap_or_else(|_| std::sync::mpsc::channel().0)
        });
        if sender.send(job).is_err() {
            *worker = None;
            return Err(RunError::Panicked);
        }
        match answer.recv_timeout(timeout) {
            Ok(Some(r)) => Ok(r),
            Ok(None) => Err(RunError::Panicked),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                *worker = None;
                Err(RunError::Timeout)
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                *worker = None;
                Err(RunError::Panicked)
            }
        }
    }

    /// Abandoned workers still running past their timeout.
    pub fn stuck(&self) -> usize {
        let worker = self.worker.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.alive.load(std::sync::atomic::Ordering::SeqCst).saturating_sub(usize::from(worker.is_some()))
    }
}

/// Gradient-boosted trees settings.
#[derive(Debug, Clone, Copy)]
pub struct TreeOptions {
    /// Boosting rounds.
    pub rounds: usize,
    /// Depth of each tree.
    pub max_depth: usize,
    /// Shrinkage.
    pub learning_rate: f32,
    /// Use both cores while training.
    pub parallel: bool,
    /// Report each round through the `log` crate ("Completed iteration i of n").
    pub log_rounds: bool,
}

impl Default for TreeOptions {
    fn default() -> Self {
        TreeOptions { rounds: 100, max_depth: 4, learning_rate: 0.1, parallel: true, log_rounds: false }
    }
}

/// Trains gradient-boosted trees (log loss) on rows `x` with labels `y` (true = fraud); the
/// artifact is the booster's JSON. forust reports each round through the `log` crate.
pub fn train_trees(x: &[Vec<f64>], y: &[bool], opts: TreeOptions) -> Result<String, ModelError> {
    let width = x.first().map_or(0, Vec::len);
    if x.is_empty() || width == 0 || x.iter().any(|r| r.len() != width) {
        return Err(ModelError::Features("training rows must be non-empty and of one width".into()));
    }
    // forust reads column-major data.
    let mut data = Vec::with_capacity(x.len() * width);
    for c in 0..width {
        data.extend(x.iter().map(|r| r[c]));
    }
    let matrix = forust_ml::Matrix::new(&data, x.len(), width);
    let labels: Vec<f64> = y.iter().map(|&b| f64::from(u8::from(b))).collect();
    let mut booster = forust_ml::GradientBooster::default()
        .set_iterations(opts.rounds)
        .set_max_depth(opts.max_depth)
        .set_learning_rate(opts.learning_rate)
        .set_parallel(opts.parallel)
        .set_seed(7);
    booster.log_iterations = usize::from(opts.log_rounds);
    booster.fit_unweighted(&matrix, &labels, None).map_err(|e| ModelError::Artifact(e.to_string()))?;
    booster.json_dump().map_err(|e| ModelError::Artifact(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_string()).collect()
    }

    fn full(amount_log: f64, new_device: f64) -> Vec<f64> {
        let mut v = vec![0.0; PAYMENT_FEATURES.len()];
        v[position("amount_log").expect("known")] = amount_log;
        v[position("new_device").expect("known")] = new_device;
        v
    }

    #[test]
    fn the_runner_bounds_a_slow_model_and_recovers() {
        let r = Runner::default();
        let ms = std::time::Duration::from_millis;
        assert_eq!(r.run(ms(1000), || 2 + 2), Ok(4));
        assert_eq!(
            r.run(ms(20), || {
                std::thread::sleep(std::time::Duration::from_millis(300));
                1
            }),
            Err(RunError::Timeout)
        );
        // The stuck worker is abandoned: the next job answers at once.
        assert_eq!(r.run(ms(1000), || 5), Ok(5));
        // Generous: the panic hook prints (and with RUST_BACKTRACE symbolises) a backtrace
        // before the runner hears of the panic, which took over a second on a loaded CI machine.
        assert_eq!(r.run(ms(30_000), || -> i32 { panic!("a broken model") }), Err(RunError::Panicked));
        assert_eq!(r.run(ms(30_000), || 6), Ok(6), "a panic does not take the worker down");
    }

    #[test]
    fn the_runner_stops_feeding_a_model_that_hangs_and_recovers_when_it_returns() {
        let r = Runner::default();
        let ms = std::time::Duration::from_millis;
        // Each hanging call waits on its own channel until the test lets it go.
        let mut release = Vec::new();
        for _ in 0..STUCK_WORKERS_MAX {
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            release.push(tx);
            assert_eq!(r.run(ms(10), move || rx.recv().is_ok()), Err(RunError::Timeout));
        }
        assert_eq!(r.stuck(), STUCK_WORKERS_MAX);
        // No further thread is started; the call is refused without waiting for the timeout.
        assert_eq!(r.run(ms(60_000), || 1), Err(RunError::Stuck(STUCK_WORKERS_MAX)));
        assert_eq!(r.stuck(), STUCK_WORKERS_MAX);
        drop(release);
        for _ in 0..500 {
            if r.stuck() == 0 {
                break;
            }
            std::thread::sleep(ms(10));
        }
        assert_eq!(r.stuck(), 0, "the released workers end");
        assert_eq!(r.run(ms(1000), || 7), Ok(7));
    }

    #[test]
    fn logistic_models_score_and_explain() {
        let m = Logistic {
            features: names(&["new_device", "amount_log"]),
            weights: vec![2.0, 0.5],
            bias: -6.0,
            means: vec![0.1, 8.0],
        };
        let model = Model::load(
            ModelKind::LogisticRegression,
            m.features.clone(),
            &serde_json::to_string(&m).expect("json"),
            BTreeMap::new(),
            0.01,
        )
        .expect("loads");
        let p = model.predict(&full(10.0, 1.0)).expect("scores");
        assert!((p.probability - sigmoid(-6.0 + 2.0 + 5.0)).abs() < 1e-12);
        assert_eq!(p.contributions[0].0, "new_device", "{p:?}");
        assert!((p.contributions[0].1 - 1.8).abs() < 1e-12);
    }

    #[test]
    fn models_that_do_not_fit_are_refused() {
        let m = Logistic { features: names(&["amount_log"]), weights: vec![1.0], bias: 0.0, means: vec![0.0] };
        let art = serde_json::to_string(&m).expect("json");
        let load = |f: &[&str], a: &str, kind| Model::load(kind, names(f), a, BTreeMap::new(), 0.0);
        assert_eq!(
            load(&["V1"], &art, ModelKind::LogisticRegression).expect_err("refused"),
            ModelError::UnknownFeature("V1".into())
        );
        assert!(matches!(load(&["count_1h"], &art, ModelKind::LogisticRegression), Err(ModelError::Artifact(_))));
        assert!(matches!(load(&["amount_log"], "{", ModelKind::GradientBoosting), Err(ModelError::Artifact(_))));
        assert!(matches!(load(&[], &art, ModelKind::LogisticRegression), Err(ModelError::Features(_))));
        assert!(matches!(
            load(&["amount_log", "amount_log"], &art, ModelKind::LogisticRegression),
            Err(ModelError::Features(_))
        ));
        #[cfg(not(feature = "onnx"))]
        assert_eq!(
            load(&["amount_log"], "AAAA", ModelKind::Onnx).expect_err("refused"),
            ModelError::Unsupported("onnx")
        );
    }

    #[test]
    fn trees_learn_a_band_a_line_cannot() {
        // Fraud when the amount is in a middle band (not monotone: no logistic line fits it);
        // the device flag is noise.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..600 {
            let a = f64::from(i % 12);
            x.push(vec![a, f64::from((i / 12) % 2)]);
            y.push((5.0..8.0).contains(&a));
        }
        let opts = TreeOptions { rounds: 30, max_depth: 3, learning_rate: 0.3, parallel: false, log_rounds: false };
        let art = train_trees(&x, &y, opts).expect("trains");
        let model =
            Model::load(ModelKind::GradientBoosting, names(&["amount_log", "new_device"]), &art, BTreeMap::new(), 0.0)
                .expect("loads");
        let p = |a, d| model.predict(&full(a, d)).expect("scores").probability;
        assert!(p(6.0, 0.0) > 0.9 && p(7.0, 1.0) > 0.9, "{} {}", p(6.0, 0.0), p(7.0, 1.0));
        assert!(p(2.0, 0.0) < 0.1 && p(10.0, 1.0) < 0.1, "{} {}", p(2.0, 0.0), p(10.0, 1.0));
        assert_eq!(model.predict(&full(6.0, 0.0)).expect("scores").contributions[0].0, "amount_log");
        // A booster that would read past the features, or loop, is refused.
        let root = |field: &str, value: usize| {
            let mut v: serde_json::Value = serde_json::from_str(&art).expect("json");
            assert!(v["trees"][0]["nodes"][0][field].is_u64(), "{field} in {}", &art[..200.min(art.len())]);
            v["trees"][0]["nodes"][0][field] = value.into();
            let two = names(&["amount_log", "new_device"]);
            Model::load(ModelKind::GradientBoosting, two, &v.to_string(), BTreeMap::new(), 0.0).expect_err("refused")
        };
        assert!(root("split_feature", 2).to_string().contains("splits on feature 2"));
        assert!(root("left_child", 0).to_string().contains("points outside"));
    }
}
