//! The scorecard as published: characteristics with their bins and points, the base points,
//! the scaling, the grades; scoring an applicant's inputs and the adverse-action reasons.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ml::{Scaling, SCORE_RANGE};

/// A characteristic's value for one applicant.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A number (counts, years, ratios). Infinite ratios (a debt against no income) fall in
    /// the last bin.
    Number(f64),
    /// One of a characteristic's categories.
    Category(String),
    /// Not given, or given as `"unknown"`: scored as the characteristic's missing points.
    Missing,
}

/// Where a bin's points come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Fitted: weight of evidence in the named dataset times the characteristic's coefficient.
    Data,
    /// Set by policy from a stated odds multiplier (no public data the project can ship
    /// supports a fitted figure); see the characteristic's `note`.
    Policy,
}

/// One bin of a characteristic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    /// As shown in the published table (`≤ 0.35`, `0.35 < x ≤ 0.5`, `rent`).
    pub label: String,
    /// Numeric bins: the bin holds values up to and including this; `None` on the last bin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper: Option<f64>,
    /// Categorical bins: the categories the bin holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Points this bin adds to the base points.
    pub points: f64,
    /// Weight of evidence, `ln(share of goods / share of bads)` (0 for policy bins).
    pub woe: f64,
    /// Training rows in the bin (0 for policy bins).
    pub rows: usize,
    /// Observed bad rate of the training rows in the bin.
    pub bad_rate: f64,
    /// Where the points come from.
    pub source: Source,
}

/// What a characteristic scores when its value is missing or `"unknown"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingRule {
    /// The points: never more than the characteristic's worst bin.
    pub points: f64,
    /// Training rows without a value.
    pub rows: usize,
    /// Their observed bad rate (0 when there were none).
    pub bad_rate: f64,
    /// `worst_bin` (the worst bin's points) or `data` (the missing rows' own, lower, points).
    pub rule: String,
}

/// The code and wording of the adverse-action reason a characteristic gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable code (`R01`…).
    pub code: String,
    /// As a lender states it on a notice.
    pub text: String,
}

/// One characteristic of the scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Characteristic {
    /// Its name (an applicant field or a ratio of them).
    pub name: String,
    /// How it is derived from the applicant's fields.
    pub description: String,
    /// The dataset its data bins were fitted on (or `policy`).
    pub dataset: String,
    /// The logistic coefficient on its weight of evidence (points = factor × coefficient × WoE).
    pub coefficient: f64,
    /// Its bins, in order (numeric: by `upper`).
    pub bins: Vec<Bin>,
    /// Its points when missing.
    pub missing: MissingRule,
    /// The reason it gives when it lost points.
    pub reason: Reason,
    /// Why policy bins have the points they have, and other caveats.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Information value of its data bins on the training rows (0 for policy characteristics).
    #[serde(default)]
    pub information_value: f64,
}

impl Characteristic {
    /// The bin an input falls in; `None` for a missing input or an unseen category.
    pub fn bin(&self, input: &Input) -> Option<&Bin> {
        find_bin(&self.bins, |b| b, input)
    }

    /// The points of an input and whether it counted as missing.
    pub fn points(&self, input: &Input) -> (f64, bool) {
        self.bin(input).map_or((self.missing.points, true), |b| (b.points, false))
    }

    /// The most points any value can earn (the reference applicant's).
    pub fn max_points(&self) -> f64 {
        self.bins.iter().map(|b| b.points).fold(f64::NEG_INFINITY, f64::max).max(self.missing.points)
    }

    /// The fewest points any value earns.
    pub fn min_points(&self) -> f64 {
        self.bins.iter().map(|b| b.points).fold(f64::INFINITY, f64::min)
    }
}

/// The element of `bins` whose bin (`bin` of it) an input falls in; `None` for a missing
/// input or an unseen category.
pub(crate) fn find_bin<'a, T>(bins: &'a [T], bin: impl Fn(&T) -> &Bin, input: &Input) -> Option<&'a T> {
    match input {
        Input::Number(x) if !x.is_nan() => bins.iter().find(|b| bin(b).upper.is_none_or(|u| *x <= u)),
        Input::Category(c) => bins.iter().find(|b| bin(b).categories.iter().any(|k| k == c)),
        _ => None,
    }
}

/// A grade and its calibration on the validation data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grade {
    /// `A+`, `A`, … `F`.
    pub grade: String,
    /// The lowest score in the grade (the last grade: the bottom of the score range).
    pub min_score: i64,
    /// Share of the validation applicants in the grade.
    pub share: f64,
    /// Validation applicants in the grade.
    pub rows: usize,
    /// Their observed bad rate.
    pub observed_bad_rate: f64,
    /// The scorecard's mean predicted bad rate for them.
    pub predicted_bad_rate: f64,
}

/// The published scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    /// Score scaling (600 points at bad-odds 1:19, 50 points to double the odds).
    pub scaling: Scaling,
    /// Points every applicant starts with.
    pub base_points: f64,
    /// The characteristics, in the order they are published.
    pub characteristics: Vec<Characteristic>,
    /// Grades from best to worst; bad rates rise through them on the validation data.
    pub grades: Vec<Grade>,
    /// How it was trained and how it did (cross-validated figures, baselines).
    #[serde(default)]
    pub metadata: serde_json::Value,
}

/// A characteristic's part in one score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribution {
    /// The characteristic.
    pub characteristic: String,
    /// The bin's label, or `missing`.
    pub bin: String,
    /// Points earned.
    pub points: f64,
    /// Points the reference applicant earns.
    pub max_points: f64,
    /// Whether the value was missing or `"unknown"`.
    pub missing: bool,
}

/// An adverse-action reason in an answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdverseReason {
    /// Stable code.
    pub code: String,
    /// The characteristic that lost the points.
    pub characteristic: String,
    /// The wording for the notice.
    pub description: String,
    /// Points below the reference applicant's (negative).
    pub points: f64,
}

/// A scored applicant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// Base points plus every characteristic's points, unclipped.
    pub raw_score: f64,
    /// The published score: `raw_score` rounded and clipped to 300–850.
    pub score: i64,
    /// The probability of going bad the raw score stands for.
    pub probability_of_default: f64,
    /// The grade of `score`.
    pub grade: String,
    /// Every characteristic's points.
    pub points: Vec<Attribution>,
    /// Up to [`REASONS_MAX`] characteristics that lost the most points, most first.
    pub reasons: Vec<AdverseReason>,
}

fn check_bins(c: &Characteristic) -> Result<(), String> {
    let name = &c.name;
    if c.bins.is_empty() || c.bins.iter().any(|b| !b.points.is_finite()) || !c.missing.points.is_finite() {
        return Err(format!("`{name}`: bins must exist and have finite points"));
    }
    let categorical = c.bins.iter().all(|b| !b.categories.is_empty() && b.upper.is_none());
    let numeric = c.bins.iter().all(|b| b.categories.is_empty());
    let ordered = c.bins.windows(2).all(|w| {
        matches!((w[0].upper, w[1].upper), (Some(a), Some(b)) if a < b) || w[1].upper.is_none() && w[0].upper.is_some()
    });
    if !(categorical || numeric && ordered && c.bins.last().is_some_and(|b| b.upper.is_none())) {
        return Err(format!("`{name}`: numeric bins must rise and end open, categorical bins must list categories"));
    }
    if c.missing.points > c.min_points() + 1e-9 {
        return Err(format!("`{name}`: missing points above the worst bin would reward leaving it out"));
    }
    Ok(())
}

/// At most this many adverse-action reasons (Regulation B: up to four principal reasons).
pub const REASONS_MAX: usize = 4;

/// A characteristic that lost less than this is not named as a reason.
pub const REASON_POINTS_MIN: f64 = 1.0;

impl Scorecard {
    /// Parses a scorecard document.
    pub fn from_json(text: &str) -> Result<Scorecard, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Refuses a scorecard the scorer could not serve faithfully: a characteristic no request
    /// derives (or one twice), numeric bins out of order or without an open last bin, missing
    /// points above the worst bin (omission would pay), points that are not finite, grades
    /// not falling to the bottom of the range.
    pub fn check(&self) -> Result<(), String> {
        if !(self.scaling.pdo > 0.0 && self.scaling.base_odds_bad > 0.0 && self.base_points.is_finite()) {
            return Err("scaling and base points must be positive and finite".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.characteristics {
            let name = c.name.as_str();
            if !super::applicant::CHARACTERISTICS.contains(&name) || !seen.insert(name) {
                return Err(format!("characteristic `{name}` is unknown or repeated"));
            }
            check_bins(c)?;
        }
        if self.characteristics.is_empty() {
            return Err("a scorecard needs characteristics".into());
        }
        let falling = self.grades.windows(2).all(|w| w[0].min_score > w[1].min_score);
        if self.grades.is_empty() || !falling || self.grades.last().is_some_and(|g| g.min_score > SCORE_RANGE.0 as i64)
        {
            return Err("grades must fall strictly, the last starting at 300".into());
        }
        Ok(())
    }

    /// The reference applicant's score: every characteristic at its most points.
    pub fn reference_score(&self) -> f64 {
        self.base_points + self.characteristics.iter().map(Characteristic::max_points).sum::<f64>()
    }

    /// The grade of a published score.
    pub fn grade(&self, score: i64) -> &str {
        self.grades.iter().find(|g| score >= g.min_score).or(self.grades.last()).map_or("F", |g| g.grade.as_str())
    }

    /// The probability of going bad a raw score stands for.
    pub fn probability_of_default(&self, raw_score: f64) -> f64 {
        let log_odds_bad = (self.scaling.offset() - raw_score) / self.scaling.factor();
        1.0 / (1.0 + (-log_odds_bad).exp())
    }

    /// Scores an applicant's characteristic values (a characteristic not in `inputs` is missing).
    pub fn score(&self, inputs: &BTreeMap<String, Input>) -> Scored {
        let mut raw = self.base_points;
        let mut points = Vec::with_capacity(self.characteristics.len());
        for c in &self.characteristics {
            let input = inputs.get(&c.name).unwrap_or(&Input::Missing);
            let (p, missing) = c.points(input);
            raw += p;
            let bin =
                if missing { "missing".to_string() } else { c.bin(input).map(|b| b.label.clone()).unwrap_or_default() };
            points.push(Attribution {
                characteristic: c.name.clone(),
                bin,
                points: p,
                max_points: c.max_points(),
                missing,
            });
        }
        #[allow(clippy::cast_possible_truncation)]
        let score = raw.clamp(SCORE_RANGE.0, SCORE_RANGE.1).round() as i64;
        let reasons = if score >= SCORE_RANGE.1 as i64 { Vec::new() } else { self.reasons(&points) };
        Scored {
            raw_score: raw,
            score,
            probability_of_default: self.probability_of_default(raw),
            grade: self.grade(score).to_string(),
            points,
            reasons,
        }
    }

    /// The characteristics that lost the most points against the reference applicant, only
    /// those that lost at least [`REASON_POINTS_MIN`], most first (ties by published order).
    fn reasons(&self, points: &[Attribution]) -> Vec<AdverseReason> {
        let mut lost: Vec<(usize, f64)> = points
            .iter()
            .enumerate()
            .map(|(i, a)| (i, a.points - a.max_points))
            .filter(|(_, d)| *d <= -REASON_POINTS_MIN)
            .collect();
        lost.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        lost.iter()
            .take(REASONS_MAX)
            .map(|&(i, d)| {
                let c = &self.characteristics[i];
                let description = if points[i].missing {
                    format!("{} (no information was given)", c.reason.text)
                } else {
                    c.reason.text.clone()
                };
                AdverseReason {
                    code: c.reason.code.clone(),
                    characteristic: c.name.clone(),
                    description,
                    points: (d * 10.0).round() / 10.0,
                }
            })
            .collect()
    }
}
