//! The served scorecard tried as a lender (and an applicant gaming it) would.
#![allow(clippy::unwrap_used, clippy::cast_precision_loss, clippy::cast_possible_truncation)]

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::applicant::{FieldKind, FIELDS, PROTECTED};
use super::card::{Input, Source};
use super::fit::{fit_part, stratified_folds, BinOptions, Direction, Kind, Spec};
use super::{served, Applicant, Invalid, Scored};
use crate::ml::Scaling;

fn score(doc: &Map<String, Value>) -> Result<(Applicant, Scored), Invalid> {
    super::score(served(), doc)
}

fn full() -> Map<String, Value> {
    json!({
        "age": 40, "income": 4000, "employment_years": 8, "total_debt": 3000, "defaults": 0,
        "late_payments": 0, "on_time_payments": 120, "credit_history_months": 180, "open_accounts": 5,
        "accounts_opened_12m": 0, "credit_utilization": 0.1, "hard_inquiries_6m": 0,
        "employment_type": "permanent", "housing": "owner", "loan_amount": 8000, "purchase_price": 16000,
        "term_months": 24, "monthly_expenses": 900, "assets": 90000,
    })
    .as_object()
    .unwrap()
    .clone()
}

fn points(doc: &Map<String, Value>) -> f64 {
    score(doc).unwrap_or_else(|e| panic!("{e:?} for {doc:?}")).1.raw_score
}

fn with(doc: &Map<String, Value>, name: &str, v: Value) -> Map<String, Value> {
    let mut d = doc.clone();
    d.insert(name.into(), v);
    d
}

/// Whether a higher value of the field should never raise the score (Some(true)), never
/// lower it (Some(false)), or either (None: the data decides, e.g. the term).
fn riskier_when_higher(name: &str) -> Option<bool> {
    match name {
        "defaults"
        | "late_payments"
        | "accounts_opened_12m"
        | "credit_utilization"
        | "hard_inquiries_6m"
        | "total_debt"
        | "loan_amount"
        | "monthly_expenses" => Some(true),
        "income"
        | "employment_years"
        | "on_time_payments"
        | "credit_history_months"
        | "open_accounts"
        | "purchase_price"
        | "assets"
        | "months_since_last_default" => Some(false),
        _ => None,
    }
}

fn values_of(name: &str) -> Vec<f64> {
    let f = FIELDS.iter().find(|f| f.name == name).unwrap();
    let top = f.max.min(1e7);
    let mut v: Vec<f64> = [0.0, 0.05, 0.3, 0.7, 1.0, 2.0, 3.0, 5.0, 11.0, 12.0, 30.0, 100.0, 1000.0, 20000.0, 1e6, top]
        .into_iter()
        .filter(|x| *x >= f.min && *x <= top)
        .filter(|x| f.kind != FieldKind::Count || x.fract() == 0.0)
        .collect();
    v.push(f.min);
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// Applicants plausible at every value tried: old enough for any history.
fn base_for(name: &str) -> Map<String, Value> {
    let mut d = with(&full(), "age", json!(120));
    if name == "months_since_last_default" {
        d.insert("defaults".into(), json!(1));
        d.insert("credit_history_months".into(), json!(1200));
    }
    if name == "credit_history_months" {
        d.insert("accounts_opened_12m".into(), json!(0));
    }
    d
}

#[test]
fn every_input_moves_the_score_its_known_way() {
    for f in FIELDS.iter().filter(|f| !matches!(f.kind, FieldKind::Category(_))) {
        let Some(riskier) = riskier_when_higher(f.name) else { continue };
        let base = base_for(f.name);
        let scores: Vec<(f64, f64)> = values_of(f.name)
            .into_iter()
            .filter_map(|v| score(&with(&base, f.name, json!(v))).ok().map(|s| (v, s.1.raw_score)))
            .collect();
        assert!(scores.len() > 2, "{}: {scores:?}", f.name);
        for w in scores.windows(2) {
            let worse = if riskier { w[1].1 > w[0].1 + 1e-9 } else { w[1].1 < w[0].1 - 1e-9 };
            assert!(
                !worse,
                "{}: {} -> {} moved the score the wrong way ({} -> {})",
                f.name, w[0].0, w[1].0, w[0].1, w[1].1
            );
        }
    }
}

#[test]
fn the_whole_record_counts() {
    let d = full();
    let s = |name: &str, v: Value| points(&with(&d, name, v));
    assert!(s("late_payments", json!(100_000)) < s("late_payments", json!(1)));
    assert!(s("late_payments", json!(1)) < s("late_payments", json!(0)));
    assert!(s("defaults", json!(1000)) < s("defaults", json!(1)));
    assert!(s("credit_history_months", json!(6)) < s("credit_history_months", json!(180)));
    assert!(s("on_time_payments", json!(0)) < s("on_time_payments", json!(120)));
    assert!(s("open_accounts", json!(0)) < s("open_accounts", json!(5)));
    assert!(s("credit_utilization", json!(0.95)) < s("credit_utilization", json!(0.1)));
    assert!(s("hard_inquiries_6m", json!(6)) < s("hard_inquiries_6m", json!(0)));
    assert!(s("total_debt", json!(200_000)) < s("total_debt", json!(0)));
    let recent = with(&with(&d, "defaults", json!(1)), "months_since_last_default", json!(3));
    let old = with(&with(&d, "defaults", json!(1)), "months_since_last_default", json!(120));
    assert!(points(&recent) < points(&old));
    // Every characteristic of the card can move the score.
    for c in &served().characteristics {
        assert!(c.max_points() - c.min_points() > 1.0, "{} cannot move the score", c.name);
    }
}

#[test]
fn leaving_a_field_out_never_beats_its_worst_value() {
    for f in FIELDS.iter().filter(|f| !f.required) {
        let doc = base_for(f.name);
        let mut without = doc.clone();
        without.remove(f.name);
        let omitted = points(&without);
        let candidates: Vec<Value> = match f.kind {
            FieldKind::Category(words) => words.iter().map(|w| json!(w)).collect(),
            _ => values_of(f.name).into_iter().map(|v| json!(v)).collect(),
        };
        let worst = candidates
            .into_iter()
            .filter_map(|v| score(&with(&doc, f.name, v)).ok())
            .map(|s| s.1.raw_score)
            .fold(f64::INFINITY, f64::min);
        assert!(worst.is_finite(), "{}", f.name);
        assert!(omitted <= worst + 1e-6, "{}: omitted {omitted} beats the worst value {worst}", f.name);
        if f.unknown {
            assert_eq!(points(&with(&without, f.name, json!("unknown"))), omitted, "{}", f.name);
        }
    }
}

#[test]
fn age_is_never_scored_and_protected_attributes_are_refused() {
    let d = full();
    let at = |age: i64| score(&with(&d, "age", json!(age))).unwrap().1;
    let base = at(40);
    for age in [32, 41, 62, 75, 120] {
        let s = at(age);
        assert_eq!((s.raw_score, &s.reasons), (base.raw_score, &base.reasons), "age {age}");
    }
    assert!(served().characteristics.iter().all(|c| !c.name.contains("age") || c.name.contains("usage")));
    for p in PROTECTED {
        let e = score(&with(&d, p, json!("x"))).unwrap_err();
        assert_eq!(e.param, *p);
    }
    assert_eq!(score(&with(&d, "age", json!(17))).unwrap_err().param, "age");
}

#[test]
fn impossible_applicants_are_refused_naming_the_field() {
    let d = full();
    let cases = [
        (json!({"age": 18, "employment_years": 60}), "employment_years"),
        (json!({"age": 30, "employment_years": 17}), "employment_years"),
        (json!({"age": 30, "credit_history_months": 400}), "credit_history_months"),
        (json!({"months_since_last_default": 5}), "months_since_last_default"),
        (json!({"defaults": 2, "months_since_last_default": 200}), "months_since_last_default"),
        (json!({"credit_history_months": 0, "accounts_opened_12m": 2}), "accounts_opened_12m"),
        (json!({"defaults": 0.5}), "defaults"),
        (json!({"late_payments": 1.5}), "late_payments"),
        (json!({"late_payments": -1}), "late_payments"),
        (json!({"late_payments": "none"}), "late_payments"),
        (json!({"income": "unknown"}), "income"),
        (json!({"housing": "castle"}), "housing"),
        (json!({"term_months": 0}), "term_months"),
        (json!({"salary": 1}), "salary"),
        (json!({"income": null}), "income"),
        (json!({"late_payments": null}), "late_payments"),
    ];
    for (change, param) in cases {
        let mut body = d.clone();
        body.extend(change.as_object().unwrap().clone());
        assert_eq!(score(&body).map(|_| ()).unwrap_err().param, param, "{change}");
    }
    // Right at the edges is fine: 14 years of work at 28, a history as long as adult life.
    let ok = json!({"age": 28, "employment_years": 14, "credit_history_months": 132});
    let mut body = d.clone();
    body.extend(ok.as_object().unwrap().clone());
    assert!(score(&body).is_ok());
}

#[test]
fn reasons_name_only_characteristics_that_lost_points() {
    let best = full();
    let s = score(&best).unwrap().1;
    for r in &s.reasons {
        let a = s.points.iter().find(|a| a.characteristic == r.characteristic).unwrap();
        assert!(a.points < a.max_points - 0.99, "{r:?} {a:?}");
        assert!(r.points < 0.0);
    }
    let mut bad = with(&with(&best, "late_payments", json!(5)), "hard_inquiries_6m", json!(4));
    bad.insert("credit_utilization".into(), json!(0.99));
    let b = score(&bad).unwrap().1;
    let codes: Vec<&str> = b.reasons.iter().map(|r| r.code.as_str()).collect();
    assert!(codes.len() <= 4 && codes[0] == "R03", "{codes:?}");
    assert!(codes.contains(&"R05") && codes.contains(&"R06"), "{codes:?}");
    // Sorted by points lost.
    assert!(b.reasons.windows(2).all(|w| w[0].points <= w[1].points), "{:?}", b.reasons);
    // An applicant at the top of the range has nothing to be told.
    let top = json!({"age": 50, "income": 9000, "employment_years": 25, "total_debt": 0, "defaults": 0,
        "late_payments": 0, "on_time_payments": 300, "credit_history_months": 300, "open_accounts": 6,
        "accounts_opened_12m": 0, "credit_utilization": 0.05, "hard_inquiries_6m": 0, "employment_type": "permanent",
        "housing": "owner", "loan_amount": 2000, "purchase_price": 10000, "term_months": 12,
        "monthly_expenses": 1000, "assets": 200_000});
    let t = score(top.as_object().unwrap()).unwrap().1;
    assert_eq!((t.score, t.reasons.len()), (850, 0), "{t:?}");
    assert!(served().reference_score() > 850.0);
}

#[test]
fn the_scaling_and_grades_hold() {
    let card = served();
    let f = card.scaling.factor();
    assert!((f - 50.0 / std::f64::consts::LN_2).abs() < 1e-9);
    // 600 points are bad-odds 1:19; 50 more halve the bad odds.
    assert!((card.probability_of_default(600.0) - 0.05).abs() < 1e-9);
    let odds = |p: f64| p / (1.0 - p);
    assert!((odds(card.probability_of_default(550.0)) / odds(card.probability_of_default(600.0)) - 2.0).abs() < 1e-9);
    let s = score(&full()).unwrap().1;
    assert_eq!(s.score, s.raw_score.clamp(300.0, 850.0).round() as i64);
    // Bad rates rise through the grades; the cut-offs fall.
    assert_eq!(card.grades.iter().map(|g| g.grade.as_str()).collect::<Vec<_>>(), ["A+", "A", "B", "C", "D", "F"]);
    assert!(card.grades.windows(2).all(|w| w[0].observed_bad_rate < w[1].observed_bad_rate));
    assert!(card.grades.windows(2).all(|w| w[0].min_score > w[1].min_score));
    assert!(card.grades.iter().all(|g| g.share > 0.05 && g.share < 0.3), "{:?}", card.grades);
    assert_eq!(card.grade(850), "A+");
    assert_eq!(card.grade(300), "F");
    let cv = &card.metadata["cross_validation"]["scorecard"]["roc_auc"]["mean"];
    assert!(cv.as_f64().unwrap() >= 0.80, "{cv}");
}

#[test]
fn the_card_scores_exactly_what_an_applicant_derives() {
    let derived: Vec<String> = Applicant::parse(&full()).unwrap().inputs().into_keys().collect();
    let mut card: Vec<String> = served().characteristics.iter().map(|c| c.name.clone()).collect();
    card.sort();
    assert_eq!(derived, card);
    let mut listed: Vec<String> = super::applicant::CHARACTERISTICS.iter().map(|s| (*s).to_string()).collect();
    listed.sort();
    assert_eq!(derived, listed);
}

#[test]
fn a_scorecard_that_would_pay_for_omission_or_score_the_unknown_is_refused() {
    assert_eq!(served().check(), Ok(()));
    let text = serde_json::to_string(served()).unwrap();
    assert!(super::load(&text).is_ok());
    let broken = |change: &dyn Fn(&mut super::Scorecard)| {
        let mut c = served().clone();
        change(&mut c);
        super::load(&serde_json::to_string(&c).unwrap()).unwrap_err()
    };
    assert!(broken(&|c| c.characteristics[0].missing.points = 1e3).contains("missing points"));
    assert!(broken(&|c| c.characteristics[0].name = "age".into()).contains("unknown"));
    assert!(broken(&|c| {
        let first = c.characteristics[0].clone();
        c.characteristics.push(first);
    })
    .contains("repeated"));
    assert!(broken(&|c| c.characteristics[0].bins.reverse()).contains("rise"));
    assert!(broken(&|c| c.grades.reverse()).contains("grades"));
    assert!(broken(&|c| c.characteristics.clear()).contains("characteristics"));
    assert!(super::load("{}").unwrap_err().contains("not a scorecard"));
}

#[test]
fn missing_points_are_never_above_the_worst_bin() {
    for c in &served().characteristics {
        assert!(c.missing.points <= c.min_points() + 1e-9, "{}", c.name);
        assert!(c.bins.iter().all(|b| b.source == Source::Policy || b.rows > 0), "{}", c.name);
    }
}

fn synthetic(n: usize) -> (Vec<Vec<Input>>, Vec<bool>) {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut rows, mut labels) = (Vec::new(), Vec::new());
    for i in 0..n {
        let (x, noise) = (next() * 10.0, next());
        let cat = ["a", "b", "c"][i % 3];
        let p = 1.0 / (1.0 + (-(x - 5.0) * 0.8 - if cat == "c" { 1.0 } else { 0.0 }).exp());
        // A tenth of x is missing; its rows are the riskiest.
        let value = if i % 10 == 0 { Input::Missing } else { Input::Number(x) };
        rows.push(vec![value, Input::Category(cat.into()), Input::Number(next())]);
        labels.push(i % 10 == 0 || noise < p);
    }
    (rows, labels)
}

#[test]
fn fitting_bins_monotonically_and_drops_what_carries_no_evidence() {
    let specs = [
        Spec { name: "x", description: "x", kind: Kind::Numeric(Direction::Riskier), reason: ("X1", "x") },
        Spec { name: "k", description: "k", kind: Kind::Categorical, reason: ("X2", "k") },
        Spec { name: "noise", description: "noise", kind: Kind::Numeric(Direction::Safer), reason: ("X3", "n") },
    ];
    let (rows, labels) = synthetic(20_000);
    let part = fit_part(&specs, &rows, &labels, "synthetic", Scaling::default(), BinOptions::default());
    let x = &part.characteristics[0];
    assert!(x.bins.len() >= 4, "{:?}", x.bins);
    assert!(x.bins.windows(2).all(|w| w[0].bad_rate <= w[1].bad_rate && w[0].points >= w[1].points), "{:?}", x.bins);
    // Missing rows were the riskiest: they score their own (lower) points.
    assert_eq!(x.missing.rule, "data");
    assert!(x.missing.points < x.min_points());
    let k = &part.characteristics[1];
    let c = k.bins.iter().find(|b| b.label == "c").unwrap();
    assert!(k.bins.iter().all(|b| b.points >= c.points));
    assert!(part.dropped.iter().any(|(n, _)| n == "noise"), "{:?}", part.dropped);
    // The same rows fit the same scorecard.
    let again = fit_part(&specs, &rows, &labels, "synthetic", Scaling::default(), BinOptions::default());
    assert_eq!(again.characteristics, part.characteristics);
}

#[test]
fn folds_are_stratified() {
    let labels: Vec<bool> = (0..1000).map(|i| i % 4 == 0).collect();
    let folds = stratified_folds(&labels, 5, 7);
    for f in 0..5 {
        let members: Vec<usize> = (0..1000).filter(|&i| folds[i] == f).collect();
        assert_eq!(members.len(), 200);
        assert_eq!(members.iter().filter(|&&i| labels[i]).count(), 50);
    }
    assert_ne!(folds, stratified_folds(&labels, 5, 8));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Any request either scores within 300-850 or is refused naming a field; never a panic.
    #[test]
    fn any_request_scores_or_is_refused(
        picks in proptest::collection::vec((0usize..FIELDS.len(), -5.0f64..2e5, any::<bool>()), 0..25),
    ) {
        let mut doc = full();
        for (i, v, as_text) in picks {
            let f = &FIELDS[i];
            let value = if as_text { json!("unknown") } else if f.kind == FieldKind::Count { json!(v.round()) } else { json!(v) };
            doc.insert(f.name.into(), value);
        }
        match score(&doc) {
            Ok((_, s)) => {
                prop_assert!((300..=850).contains(&s.score));
                prop_assert!(s.reasons.len() <= 4);
                prop_assert!(s.probability_of_default > 0.0 && s.probability_of_default < 1.0);
            }
            Err(e) => prop_assert!(FIELDS.iter().any(|f| f.name == e.param), "{e:?}"),
        }
    }
}
