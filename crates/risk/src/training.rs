//! Training a payment fraud model from labelled examples (the API's labels): split by time
//! (the oldest 80% train, the newest 20% test; the threshold of best F1 is chosen on the
//! training part's newest eighth, held out of fitting), the merchant risk table learned on the
//! training part only (so the test part does not leak into it), logistic regression or
//! gradient-boosted trees, and the evaluation written to the model's metadata.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::features::{merchant_rates, position, PAYMENT_FEATURES};
use crate::ml::{self, Logistic, TrainOptions};
use crate::model::{train_trees, ModelError, ModelKind, TreeOptions};

/// A labelled payment: all payment features (any `merchant_risk` is replaced), its merchant,
/// fraud or not. Examples come oldest first.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// [`PAYMENT_FEATURES`] values.
    pub features: Vec<f64>,
    /// The merchant.
    pub merchant: Option<String>,
    /// Labelled fraud.
    pub fraud: bool,
}

/// A trained payment model, ready to register.
#[derive(Debug, Clone)]
pub struct TrainedModel {
    /// Features read (all of [`PAYMENT_FEATURES`]).
    pub features: Vec<String>,
    /// The artifact.
    pub artifact: String,
    /// Merchant fraud rates learned on the training part.
    pub merchant_risk: BTreeMap<String, f64>,
    /// The rate of an unseen merchant.
    pub default_merchant_risk: f64,
    /// Evaluation on the test part and the settings.
    pub metadata: Value,
}

/// Least labelled examples of each class a training needs.
pub const LABELS_PER_CLASS_MIN: usize = 5;
/// Pseudo-examples shrinking a merchant's rate toward the overall rate.
const MERCHANT_PRIOR: f64 = 5.0;

/// The evaluation of scores against labels at a threshold.
pub fn evaluation(scores: &[f64], labels: &[bool], threshold: f64) -> Value {
    let (precision, recall, f1) = ml::at_threshold(scores, labels, threshold);
    let both = labels.iter().any(|l| *l) && labels.iter().any(|l| !*l);
    json!({
        "roc_auc": both.then(|| ml::roc_auc(scores, labels)),
        "pr_auc": both.then(|| ml::average_precision(scores, labels)),
        "threshold": threshold, "precision": precision, "recall": recall, "f1": f1,
        "rows": labels.len(), "positives": labels.iter().filter(|l| **l).count(),
    })
}

/// Trains a `kind` model (logistic regression or gradient-boosted trees) on `examples`.
pub fn train(
    examples: &[Labelled],
    kind: ModelKind,
    trees: TreeOptions,
    progress: impl FnMut(usize, usize, f64),
) -> Result<TrainedModel, ModelError> {
    let frauds = examples.iter().filter(|e| e.fraud).count();
    if frauds < LABELS_PER_CLASS_MIN || examples.len() - frauds < LABELS_PER_CLASS_MIN {
        return Err(ModelError::Features(format!(
            "training needs at least {LABELS_PER_CLASS_MIN} fraud and {LABELS_PER_CLASS_MIN} legitimate labels; \
             there are {frauds} and {}",
            examples.len() - frauds
        )));
    }
    if examples.iter().any(|e| e.features.len() != PAYMENT_FEATURES.len()) {
        return Err(ModelError::Features("every example carries all payment features".into()));
    }
    // Time split; the training part must hold both classes.
    let mut cut = examples.len() * 4 / 5;
    while cut < examples.len() && !(examples[..cut].iter().any(|e| e.fraud) && examples[..cut].iter().any(|e| !e.fraud))
    {
        cut += 1;
    }
    let (train_part, test_part) = examples.split_at(cut);
    let (table, default) = merchant_rates(train_part.iter().map(|e| (e.merchant.as_deref(), e.fraud)), MERCHANT_PRIOR);
    let m = position("merchant_risk");
    let rows = |part: &[Labelled]| -> Vec<Vec<f64>> {
        part.iter()
            .map(|e| {
                let mut x = e.features.clone();
                if let Some(m) = m {
                    x[m] = e.merchant.as_deref().and_then(|k| table.get(k)).copied().unwrap_or(default);
                }
                x
            })
            .collect()
    };
    let (xtr, xte) = (rows(train_part), rows(test_part));
    let ytr: Vec<bool> = train_part.iter().map(|e| e.fraud).collect();
    let yte: Vec<bool> = test_part.iter().map(|e| e.fraud).collect();
    // The threshold of best F1 is chosen on the newest eighth of the training part, which the
    // model then does not fit (trees fit their own rows too closely to choose it there) — when
    // both that eighth and the rest hold both classes; else on the whole training part.
    let both = |y: &[bool]| y.iter().any(|v| *v) && y.iter().any(|v| !*v);
    let tail = ytr.len() - ytr.len() / 8;
    let (fit, val) = if both(&ytr[..tail]) && both(&ytr[tail..]) { (tail, tail) } else { (ytr.len(), 0) };
    let (xfit, yfit) = (&xtr[..fit], &ytr[..fit]);
    let (xval, yval) = (&xtr[val..], &ytr[val..]);
    let names: Vec<String> = PAYMENT_FEATURES.iter().map(|s| (*s).to_string()).collect();
    let started = std::time::Instant::now();
    let (artifact, settings) = match kind {
        ModelKind::LogisticRegression => {
            let model = Logistic::train(names.clone(), xfit, yfit, TrainOptions::default(), progress);
            let text = serde_json::to_string(&model).map_err(|e| ModelError::Artifact(e.to_string()))?;
            (text, json!({"l2": TrainOptions::default().l2}))
        }
        ModelKind::GradientBoosting => (
            train_trees(xfit, yfit, trees)?,
            json!({"rounds": trees.rounds, "max_depth": trees.max_depth, "learning_rate": trees.learning_rate}),
        ),
        ModelKind::Onnx => return Err(ModelError::Features("ONNX models are trained outside Rialto".into())),
    };
    let seconds = started.elapsed().as_secs_f64();
    let model = crate::model::Model::load(kind, names.clone(), &artifact, table.clone(), default)?;
    let score = |x: &[Vec<f64>]| -> Result<Vec<f64>, ModelError> {
        x.iter().map(|r| model.predict(r).map(|p| p.probability)).collect()
    };
    let threshold = ml::best_f1_threshold(&score(xval)?, yval);
    let metadata = json!({
        "type": kind.name(), "split": "time 80/20", "train_rows": yfit.len(), "test_rows": xte.len(),
        "training_seconds": seconds, "settings": settings, "threshold": threshold, "threshold_rows": yval.len(),
        "metrics": evaluation(&score(&xte)?, &yte, threshold),
        "train_metrics": evaluation(&score(xfit)?, yfit, threshold),
    });
    Ok(TrainedModel { features: names, artifact, merchant_risk: table, default_merchant_risk: default, metadata })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Synthetic payments where fraud comes in bursts from new devices at risky merchants.
    fn examples(n: usize) -> Vec<Labelled> {
        (0..n)
            .map(|i| {
                let fraud = i % 7 == 0;
                let mut f = vec![0.0; PAYMENT_FEATURES.len()];
                let noise = ((i * 37) % 11) as f64 / 11.0;
                f[position("amount_log").expect("known")] = if fraud { 9.0 } else { 7.0 } + noise;
                f[position("count_1h").expect("known")] = if fraud { 3.0 } else { 0.0 } + (i % 2) as f64;
                f[position("new_device").expect("known")] = f64::from(u8::from(fraud || i % 5 == 0));
                let merchant = Some(if fraud && i % 3 == 0 { "m_bad" } else { "m_ok" }.to_string());
                Labelled { features: f, merchant, fraud }
            })
            .collect()
    }

    #[test]
    fn both_kinds_learn_from_labels_and_report_on_the_newest_fifth() {
        for kind in [ModelKind::LogisticRegression, ModelKind::GradientBoosting] {
            let opts = TreeOptions { rounds: 20, max_depth: 3, learning_rate: 0.3, parallel: false, log_rounds: false };
            let t = train(&examples(350), kind, opts, |_, _, _| {}).expect("trains");
            assert_eq!(t.metadata["test_rows"], 70);
            assert!(t.metadata["metrics"]["roc_auc"].as_f64().expect("auc") > 0.95, "{kind:?} {}", t.metadata);
            assert!(t.merchant_risk["m_bad"] > t.merchant_risk["m_ok"]);
            let model = crate::model::Model::load(
                kind,
                t.features.clone(),
                &t.artifact,
                t.merchant_risk,
                t.default_merchant_risk,
            )
            .expect("loads");
            assert_eq!(model.features.len(), PAYMENT_FEATURES.len());
        }
    }

    #[test]
    fn too_few_labels_are_refused() {
        let few: Vec<Labelled> = examples(350).into_iter().filter(|e| !e.fraud).take(40).collect();
        let e = train(&few, ModelKind::LogisticRegression, TreeOptions::default(), |_, _, _| {}).expect_err("refused");
        assert!(e.to_string().contains("at least 5 fraud"), "{e}");
    }
}
