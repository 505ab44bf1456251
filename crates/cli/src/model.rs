//! `rialto model train`: trains a logistic model on a labelled CSV (the generic tabular path:
//! numeric columns as they are, text columns one-hot), evaluates it on a held-out split and
//! writes the model with its metadata as JSON. The credit scorecard is trained by
//! `rialto model train-credit` (`credit_model.rs`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use rialto_risk::ml::{self, Logistic, TrainOptions};
use serde_json::{json, Value};

/// Which model `rialto model train` fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelType {
    /// L2-regularised logistic regression (Newton).
    Logistic,
    /// Gradient-boosted trees (forust, log loss).
    Gbt,
}

/// How rows are split into training and test sets.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Split {
    /// The first 80% of rows (in file order, e.g. by time) train; the last 20% test.
    Time,
    /// Every fifth row tests; the rest train.
    Every5,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// The labelled CSV (see scripts/fetch-datasets.sh).
    #[arg(long)]
    data: PathBuf,
    /// The label column.
    #[arg(long)]
    label: String,
    /// The label value that means positive (fraud, bad).
    #[arg(long)]
    positive: String,
    /// Columns to leave out (comma-separated).
    #[arg(long, value_delimiter = ',')]
    drop: Vec<String>,
    /// Train/test split.
    #[arg(long, value_enum, default_value = "time")]
    split: Split,
    /// L2 penalty.
    #[arg(long, default_value_t = 1.0)]
    l2: f64,
    /// A single column scored alone as the rules-only baseline (e.g. Amount).
    #[arg(long)]
    baseline: Option<String>,
    /// Where to write the model JSON.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The model to fit.
    #[arg(long, value_enum, default_value = "logistic")]
    model: ModelType,
    /// Boosting rounds (gbt).
    #[arg(long, default_value_t = 300)]
    rounds: usize,
    /// Tree depth (gbt).
    #[arg(long, default_value_t = 4)]
    max_depth: usize,
    /// Shrinkage (gbt).
    #[arg(long, default_value_t = 0.05)]
    learning_rate: f32,
}

/// A progress bar for forust's boosting rounds, which it reports through the `log` crate
/// ("Completed iteration i of n"). Installed only by `rialto model train` (the model commands
/// do not set up tracing, which would claim the `log` crate first).
struct RoundProgress;

impl RoundProgress {
    fn install() {
        static PROGRESS: RoundProgress = RoundProgress;
        if log::set_logger(&PROGRESS).is_ok() {
            log::set_max_level(log::LevelFilter::Info);
        }
    }
}

impl log::Log for RoundProgress {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target().starts_with("forust")
    }

    fn log(&self, r: &log::Record<'_>) {
        let text = r.args().to_string();
        let Some(rest) = text.strip_prefix("Completed iteration ") else { return };
        let mut parts = rest.split(" of ");
        if let (Some(Ok(i)), Some(Ok(n))) = (parts.next().map(str::parse), parts.next().map(str::parse)) {
            let i: usize = i;
            progress_bar("gradient-boosted trees")(i + 1, n, f64::NAN);
        }
    }

    fn flush(&self) {}
}

/// A CSV as header and rows of text.
pub(crate) fn read_csv(path: &PathBuf) -> anyhow::Result<(Vec<String>, Vec<Vec<String>>)> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let header: Vec<String> = r.headers()?.iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        rows.push(rec?.iter().map(str::to_string).collect());
    }
    Ok((header, rows))
}

/// A feature: a numeric column, or one category of a text column.
#[derive(Debug, Clone)]
enum Feature {
    Number(usize),
    Category(usize, String),
}

fn progress_bar(label: &str) -> impl FnMut(usize, usize, f64) + '_ {
    move |i, n, loss| {
        let width = 30;
        let done = ((i * width) / n.max(1)).min(width);
        let loss = if loss.is_nan() { String::new() } else { format!(" loss {loss:.5}") };
        eprint!("\r{label} [{}{}] {i}/{n}{loss}", "#".repeat(done), ".".repeat(width - done));
        if i >= n {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    }
}

fn split_rows(n: usize, split: Split) -> (Vec<usize>, Vec<usize>) {
    match split {
        Split::Time => {
            let cut = n * 4 / 5;
            ((0..cut).collect(), (cut..n).collect())
        }
        Split::Every5 => ((0..n).filter(|i| i % 5 != 4).collect(), (0..n).filter(|i| i % 5 == 4).collect()),
    }
}

fn metrics(scores: &[f64], labels: &[bool], threshold: f64) -> Value {
    let (precision, recall, f1) = ml::at_threshold(scores, labels, threshold);
    json!({
        "roc_auc": ml::roc_auc(scores, labels), "pr_auc": ml::average_precision(scores, labels),
        "ks": ml::ks(scores, labels), "threshold": threshold,
        "precision": precision, "recall": recall, "f1": f1,
        "test_rows": labels.len(), "test_positives": labels.iter().filter(|l| **l).count(),
    })
}

/// `rialto model train`.
pub fn train(a: &TrainArgs) -> anyhow::Result<Value> {
    let (header, rows) = read_csv(&a.data)?;
    let label = header.iter().position(|h| *h == a.label).with_context(|| format!("no column `{}`", a.label))?;
    let used: Vec<usize> = (0..header.len()).filter(|&i| i != label && !a.drop.contains(&header[i])).collect();
    // Rows with a missing value in a used column are left out.
    let rows: Vec<&Vec<String>> =
        rows.iter().filter(|r| used.iter().all(|&i| !matches!(r[i].as_str(), "" | "NA" | "nan"))).collect();
    if rows.is_empty() {
        bail!("no complete rows");
    }
    let (train_idx, test_idx) = split_rows(rows.len(), a.split);
    let mut features = Vec::new();
    for &c in &used {
        if rows.iter().all(|r| r[c].parse::<f64>().is_ok()) {
            features.push(Feature::Number(c));
        } else {
            // One-hot on the training rows' categories, leaving the most frequent out.
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for &i in &train_idx {
                *counts.entry(rows[i][c].as_str()).or_default() += 1;
            }
            let most = counts.iter().max_by_key(|(_, n)| **n).map(|(k, _)| *k).unwrap_or_default();
            for k in counts.keys().filter(|k| **k != most) {
                features.push(Feature::Category(c, (*k).to_string()));
            }
        }
    }
    let names: Vec<String> = features
        .iter()
        .map(|f| match f {
            Feature::Number(c) => header[*c].clone(),
            Feature::Category(c, v) => format!("{}={v}", header[*c]),
        })
        .collect();
    let encode = |r: &Vec<String>| -> Vec<f64> {
        features
            .iter()
            .map(|f| match f {
                Feature::Number(c) => r[*c].parse().unwrap_or(0.0),
                Feature::Category(c, v) => f64::from(u8::from(r[*c] == *v)),
            })
            .collect()
    };
    let x: Vec<Vec<f64>> = rows.iter().map(|r| encode(r)).collect();
    let y: Vec<bool> = rows.iter().map(|r| r[label] == a.positive).collect();
    let pick = |idx: &[usize]| -> (Vec<Vec<f64>>, Vec<bool>) {
        (idx.iter().map(|&i| x[i].clone()).collect(), idx.iter().map(|&i| y[i]).collect())
    };
    // The threshold is chosen on the newest eighth of the training rows, which the model does
    // not fit (a threshold chosen on fitted rows is too high for trees that fit them closely).
    let (fit_idx, val_idx) = train_idx.split_at(train_idx.len() * 7 / 8);
    let (xtr, ytr) = pick(fit_idx);
    let (xval, yval) = pick(val_idx);
    let (xte, yte) = pick(&test_idx);
    eprintln!(
        "{}: {} rows ({} positive), {} features; fit {} / threshold {} / test {}",
        a.data.display(),
        rows.len(),
        y.iter().filter(|v| **v).count(),
        names.len(),
        xtr.len(),
        xval.len(),
        xte.len()
    );
    let started = std::time::Instant::now();
    let (model, val_scores, scores) = match a.model {
        ModelType::Logistic => {
            let opts = TrainOptions { l2: a.l2, ..TrainOptions::default() };
            let model = Logistic::train(names, &xtr, &ytr, opts, progress_bar("logistic regression"));
            let score = |x: &[Vec<f64>]| -> Vec<f64> { x.iter().map(|r| model.probability(r)).collect() };
            let (val, te) = (score(&xval), score(&xte));
            (serde_json::to_value(&model)?, val, te)
        }
        ModelType::Gbt => {
            let opts = rialto_risk::model::TreeOptions {
                rounds: a.rounds,
                max_depth: a.max_depth,
                learning_rate: a.learning_rate,
                parallel: true,
                log_rounds: true,
            };
            RoundProgress::install();
            let artifact = rialto_risk::model::train_trees(&xtr, &ytr, opts).map_err(|e| anyhow::anyhow!("{e}"))?;
            let trees = rialto_risk::model::Trees::load(&artifact, names.len()).map_err(|e| anyhow::anyhow!("{e}"))?;
            let (val, te) = (trees.probabilities(&xval, true), trees.probabilities(&xte, true));
            let model = json!({"features": names, "booster": serde_json::from_str::<Value>(&artifact)?,
                "settings": {"rounds": a.rounds, "max_depth": a.max_depth, "learning_rate": a.learning_rate}});
            (model, val, te)
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let threshold = ml::best_f1_threshold(&val_scores, &yval);
    let mut report = json!({
        "type": match a.model { ModelType::Logistic => "logistic_regression", ModelType::Gbt => "gradient_boosting" }, "dataset": a.data.display().to_string(), "label": a.label,
        "positive": a.positive, "split": format!("{:?}", a.split).to_lowercase(), "rows": rows.len(),
        "train_rows": xtr.len(), "threshold_rows": xval.len(), "trained_at": now_text(),
        "training_seconds": seconds, "metrics": metrics(&scores, &yte, threshold),
    });
    if let Some(b) = &a.baseline {
        let c = header.iter().position(|h| h == b).with_context(|| format!("no column `{b}`"))?;
        let base = |idx: &[usize]| -> Vec<f64> { idx.iter().map(|&i| rows[i][c].parse().unwrap_or(0.0)).collect() };
        let t = ml::best_f1_threshold(&base(val_idx), &yval);
        report["baseline"] =
            json!({"rule": format!("{b} >= threshold"), "metrics": metrics(&base(&test_idx), &yte, t)});
    }
    if let Some(out) = &a.out {
        let doc = json!({"metadata": report, "model": model});
        std::fs::write(out, serde_json::to_string_pretty(&doc)?)?;
        eprintln!("wrote {}", out.display());
    }
    Ok(report)
}

/// Labelled payments as CSV: id, time, merchant, the payment features, `fraud` (1 or 0). The
/// `merchant_risk` column is 0: a model trained elsewhere learns its own merchant table (upload
/// it as `merchant_risk`).
pub fn write_features(sink: impl std::io::Write, examples: &[rialto_store::Example]) -> anyhow::Result<usize> {
    let mut w = csv::Writer::from_writer(sink);
    let mut header = vec!["payment_id", "created_at_us", "merchant_id"];
    header.extend(rialto_risk::features::PAYMENT_FEATURES);
    header.push("fraud");
    w.write_record(&header)?;
    for e in examples {
        let mut row = vec![e.payment_id.clone(), e.at_us.to_string(), e.merchant.clone().unwrap_or_default()];
        row.extend(e.features.iter().map(f64::to_string));
        row.push(if e.fraud { "1" } else { "0" }.into());
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(examples.len())
}

pub(crate) fn now_text() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trains_on_a_csv_with_numbers_and_categories() {
        let dir = std::env::temp_dir().join(format!("rialto-train-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let data = dir.join("d.csv");
        let mut text = String::from("amount,channel,label\n");
        let mut seed = 7u64;
        for i in 0..4000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let noise = (seed >> 33) % 100;
            let channel = ["web", "pos", "atm"][i % 3];
            // Fraud: big amounts on the web, with noise.
            let amount = (seed >> 20) % 1000;
            let fraud = (amount > 700 && channel == "web") != (noise < 5);
            text.push_str(&format!("{amount},\"{channel}\",{}\n", if fraud { "yes" } else { "no" }));
        }
        std::fs::write(&data, text).unwrap_or_default();
        let out = dir.join("m.json");
        let args = TrainArgs {
            data,
            label: "label".into(),
            positive: "yes".into(),
            drop: vec![],
            split: Split::Every5,
            l2: 1.0,
            baseline: Some("amount".into()),
            out: Some(out.clone()),
            model: ModelType::Logistic,
            rounds: 50,
            max_depth: 3,
            learning_rate: 0.3,
        };
        let report = train(&args).unwrap_or_else(|e| panic!("{e}"));
        assert!(report["metrics"]["roc_auc"].as_f64().unwrap_or(0.0) > 0.85, "{report}");
        assert!(report["baseline"]["metrics"]["roc_auc"].as_f64().is_some());
        let written: Value =
            serde_json::from_str(&std::fs::read_to_string(out).unwrap_or_default()).unwrap_or_default();
        let features = written["model"]["features"].as_array().map(Vec::len);
        assert_eq!(features, Some(3), "amount and two of three channels (one-hot): {written}");
        // Trees learn the same interaction (amount and channel), far above the amount alone.
        let trees = TrainArgs { model: ModelType::Gbt, out: None, ..args };
        let report = train(&trees).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report["type"], "gradient_boosting");
        assert!(report["metrics"]["roc_auc"].as_f64().unwrap_or(0.0) > 0.8, "{report}");
        assert!(report["metrics"]["pr_auc"].as_f64() > report["baseline"]["metrics"]["pr_auc"].as_f64(), "{report}");
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// `rialto model bench`: in-process risk latency. 100 rules (a third of them windowed
/// aggregates over user, device, IP, merchant and account, some history conditions) against an
/// in-memory window index of `history` payments, timing per payment: reading the windows,
/// computing aggregates and history, evaluating the rules; and logistic inference alone.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// Payments already in the windows.
    #[arg(long, default_value_t = 200_000)]
    history: usize,
    /// Payments assessed (timed).
    #[arg(long, default_value_t = 20_000)]
    payments: usize,
}

struct BenchFacts {
    fields: std::collections::HashMap<&'static str, Value>,
    aggregates: std::collections::HashMap<rialto_risk::Aggregate, f64>,
}

impl rialto_risk::Facts for BenchFacts {
    fn field(&self, name: &str) -> Option<Value> {
        self.fields.get(name).cloned()
    }
    fn on_list(&self, _list: &str, _value: &Value) -> bool {
        false
    }
    fn aggregate(&self, a: &rialto_risk::Aggregate) -> Option<f64> {
        self.aggregates.get(a).copied()
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0.0)
}

/// Runs the risk latency benchmark.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_wrap)]
pub fn bench(a: &BenchArgs) -> anyhow::Result<Value> {
    use rialto_risk::window::{aggregate, history, Entry, Index, KEYS};
    let keys = ["user", "device", "ip", "merchant", "account"];
    let mut rules = Vec::new();
    for i in 0..100 {
        let func = ["count", "sum", "avg"][i % 9 / 3];
        let window = [300, 3600, 86_400, 2_592_000][i % 4];
        let doc = match i % 3 {
            0 => json!({"id": format!("agg{i}"), "name": "velocity", "weight": 5, "condition": {"aggregate":
                {"fn": func, "key": keys[i % 5], "window_seconds": window},
                "op": "gt", "value": 10 + i}}),
            1 => json!({"id": format!("f{i}"), "name": "fields", "weight": 3, "condition": {"all": [
                {"field": "amount", "op": "gt", "value": 1000 * i}, {"field": "country", "op": "not_in", "value": ["DE", "FR"]}]}}),
            _ => json!({"id": format!("h{i}"), "name": "history", "weight": 7, "condition": {"any": [
                {"field": "travel_kmh", "op": "gt", "value": 900}, {"field": "new_device", "op": "eq", "value": true}]}}),
        };
        rules.push(rialto_risk::Rule::parse(&doc).map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    let aggregates: Vec<rialto_risk::Aggregate> = rules
        .iter()
        .filter_map(|r| match &r.condition {
            rialto_risk::Condition::Aggregate { aggregate, .. } => Some(aggregate.clone()),
            _ => None,
        })
        .collect();
    let mut seed = 42u64;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let now = 1_800_000_000_000_000i64;
    let mut make = |i: usize, at_us: i64| Entry {
        id: format!("p{i}"),
        at_us,
        amount: 100 + next(100_000) as i64,
        user: format!("u{}", next(20_000)),
        account: format!("a{}", next(20_000)),
        device: Some(format!("d{}", next(30_000))),
        ip: Some(format!("i{}", next(30_000))),
        country: Some(["DE", "FR", "US", "BR"][next(4) as usize].into()),
        merchant: Some(format!("m{}", next(500))),
        location: Some((next(180) as f64 - 90.0, next(360) as f64 - 180.0)),
    };
    // The served fraud model: gradient-boosted trees over the payment features (100 rounds,
    // depth 4) trained on synthetic rows, scored through the runner that bounds inference.
    let width = rialto_risk::features::PAYMENT_FEATURES.len();
    let rows: Vec<Vec<f64>> =
        (0..5000).map(|i| (0..width).map(|j| ((i * 31 + j * 17) % 97) as f64).collect()).collect();
    let labels: Vec<bool> = rows.iter().map(|r| r[0] + r[5] > 120.0).collect();
    let opts = rialto_risk::model::TreeOptions {
        rounds: 100,
        max_depth: 4,
        learning_rate: 0.1,
        parallel: true,
        log_rounds: false,
    };
    let artifact = rialto_risk::model::train_trees(&rows, &labels, opts).map_err(|e| anyhow::anyhow!("{e}"))?;
    let names: Vec<String> = rialto_risk::features::PAYMENT_FEATURES.iter().map(|f| (*f).to_string()).collect();
    let trees = std::sync::Arc::new(
        rialto_risk::model::Model::load(
            rialto_risk::model::ModelKind::GradientBoosting,
            names,
            &artifact,
            std::collections::BTreeMap::new(),
            0.01,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let runner = rialto_risk::model::Runner::default();
    let timeout = std::time::Duration::from_millis(20);
    let mut with_model = Vec::with_capacity(a.payments);
    let mut index = Index::default();
    let span = 30 * 86_400 * 1_000_000i64;
    for i in 0..a.history {
        let e = make(i, now - span + (i as i64) * (span / a.history.max(1) as i64));
        index.insert(&e);
    }
    eprintln!("window index: {} payments under {} keys", a.history, index.keys());
    let mut times = Vec::with_capacity(a.payments);
    let mut fired = 0usize;
    for i in 0..a.payments {
        let current = make(a.history + i, now + i as i64);
        let started = std::time::Instant::now();
        let windows: std::collections::HashMap<rialto_risk::Key, Vec<Entry>> =
            KEYS.iter().filter_map(|k| current.key(*k).map(|v| (*k, index.since(*k, v, now - span)))).collect();
        let mut fields =
            std::collections::HashMap::from([("amount", json!(current.amount)), ("country", json!(current.country))]);
        let h = history(&windows[&rialto_risk::Key::User], &current);
        fields.insert("new_device", json!(h.new_device));
        if let Some(t) = h.travel_kmh {
            fields.insert("travel_kmh", json!(t));
        }
        let values =
            aggregates.iter().map(|ag| (ag.clone(), aggregate(&windows[&ag.key], ag, current.at_us))).collect();
        let facts = BenchFacts { fields, aggregates: values };
        let assessment = rialto_risk::assess(&rules, &facts, rialto_risk::Thresholds::default());
        times.push(started.elapsed().as_secs_f64() * 1e6);
        // The champion model on top: features from the same windows, inference on the runner.
        let features = rialto_risk::features::extract(
            &current,
            &windows[&rialto_risk::Key::User],
            0,
            trees.merchant_risk_of(current.merchant.as_deref()),
        );
        let m = trees.clone();
        let p = runner.run(timeout, move || m.predict(&features)).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let _ = assessment
            .clone()
            .with_model_score((p.map_or(0.0, |p| p.probability) * 100.0) as i64, rialto_risk::Thresholds::default());
        with_model.push(started.elapsed().as_secs_f64() * 1e6);
        fired += assessment.fired.len();
        index.insert(&current);
    }
    times.sort_by(f64::total_cmp);
    with_model.sort_by(f64::total_cmp);
    // Tree inference alone (features given), in this thread.
    let x = vec![1.0; width];
    let mut tree_infer = Vec::with_capacity(20_000);
    for _ in 0..20_000 {
        let started = std::time::Instant::now();
        std::hint::black_box(trees.predict(std::hint::black_box(&x)).map(|p| p.probability).unwrap_or(0.0));
        tree_infer.push(started.elapsed().as_secs_f64() * 1e6);
    }
    tree_infer.sort_by(f64::total_cmp);
    // Logistic inference over 30 features (the fraud model's width).
    let model = Logistic {
        features: (0..30).map(|i| format!("v{i}")).collect(),
        weights: (0..30).map(|i| f64::from(i) / 100.0).collect(),
        bias: -3.0,
        means: vec![0.0; 30],
    };
    let x: Vec<f64> = (0..30).map(f64::from).collect();
    let mut infer = Vec::with_capacity(100_000);
    let mut sink = 0.0;
    for _ in 0..100_000 {
        let started = std::time::Instant::now();
        sink += model.probability(std::hint::black_box(&x));
        infer.push(started.elapsed().as_secs_f64() * 1e6);
    }
    infer.sort_by(f64::total_cmp);
    Ok(json!({
        "rules": rules.len(), "aggregate_rules": aggregates.len(), "history_payments": a.history,
        "assessed": a.payments, "rules_fired_per_payment": fired as f64 / a.payments.max(1) as f64,
        "assessment_us": {"p50": percentile(&times, 0.5), "p99": percentile(&times, 0.99), "max": percentile(&times, 1.0)},
        "assessment_with_model_us": {"p50": percentile(&with_model, 0.5), "p99": percentile(&with_model, 0.99),
            "max": percentile(&with_model, 1.0), "model": "gradient_boosting, 100 rounds, depth 4, 18 payment features, on the runner"},
        "tree_inference_with_contributions_us": {"p50": percentile(&tree_infer, 0.5), "p99": percentile(&tree_infer, 0.99)},
        "logistic_inference_us": {"p50": percentile(&infer, 0.5), "p99": percentile(&infer, 0.99), "checksum": sink > 0.0},
    }))
}
