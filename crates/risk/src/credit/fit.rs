//! Fitting a scorecard part: monotone fine-to-coarse binning, weight of evidence, a logistic
//! regression on the weights of evidence, points by the scaling; policy bins from stated odds
//! multipliers; stratified folds for cross-validation. Deterministic: the same rows give the
//! same scorecard.

use super::card::{find_bin, Bin, Characteristic, Input, MissingRule, Reason, Source};
use crate::ml::{Logistic, Scaling, TrainOptions};

/// How a numeric characteristic's risk moves with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Higher values are riskier (bad rates may not fall from bin to bin).
    Riskier,
    /// Higher values are safer (bad rates may not rise from bin to bin).
    Safer,
    /// Unknown in advance: the data's overall trend decides, then bins follow it.
    Trend,
}

/// What a characteristic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A number binned monotonically in a direction.
    Numeric(Direction),
    /// Categories, each its own bin when it has enough rows.
    Categorical,
}

/// A characteristic to fit.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Its name.
    pub name: &'static str,
    /// How it is derived from the applicant.
    pub description: &'static str,
    /// Numeric or categorical.
    pub kind: Kind,
    /// Its adverse-action reason: code and text.
    pub reason: (&'static str, &'static str),
}

/// Binning settings.
#[derive(Debug, Clone, Copy)]
pub struct BinOptions {
    /// Fine classes before merging.
    pub fine_bins: usize,
    /// A bin holds at least this share of the rows with a value.
    pub min_share: f64,
}

impl Default for BinOptions {
    fn default() -> Self {
        BinOptions { fine_bins: 12, min_share: 0.05 }
    }
}

/// Good and bad counts.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    good: usize,
    bad: usize,
}

impl Tally {
    fn add(&mut self, bad: bool) {
        if bad {
            self.bad += 1;
        } else {
            self.good += 1;
        }
    }
    fn rows(self) -> usize {
        self.good + self.bad
    }
    #[allow(clippy::cast_precision_loss)]
    fn bad_rate(self) -> f64 {
        if self.rows() == 0 {
            0.0
        } else {
            self.bad as f64 / self.rows() as f64
        }
    }
    fn merge(self, o: Tally) -> Tally {
        Tally { good: self.good + o.good, bad: self.bad + o.bad }
    }
    /// Weight of evidence against the totals, with half a row added to each side.
    #[allow(clippy::cast_precision_loss)]
    fn woe(self, total: Tally) -> f64 {
        let g = (self.good as f64 + 0.5) / (total.good as f64 + 0.5);
        let b = (self.bad as f64 + 0.5) / (total.bad as f64 + 0.5);
        (g / b).ln()
    }
}

/// Rounds a cut point to three significant digits (a published table reads `0.352`, not
/// `0.35217391`).
fn round_cut(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 3 - 1 - x.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// Monotone bins of numeric values: quantile fine classes, then adjacent bins merged while a
/// bin is too small or the bad rates break the direction. Returns each bin's upper bound
/// (`None` on the last) with its tally.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn numeric_bins(values: &[(f64, bool)], direction: Direction, o: BinOptions) -> Vec<(Option<f64>, Tally)> {
    let mut sorted: Vec<f64> = values.iter().map(|v| v.0).collect();
    sorted.sort_by(f64::total_cmp);
    let mut cuts: Vec<f64> = (1..o.fine_bins)
        .map(|i| round_cut(sorted[((sorted.len() - 1) as f64 * i as f64 / o.fine_bins as f64) as usize]))
        .filter(|c| c.is_finite())
        .collect();
    cuts.dedup();
    cuts.retain(|c| *c < sorted[sorted.len() - 1]);
    let mut bins: Vec<(Option<f64>, Tally)> =
        cuts.iter().map(|c| (Some(*c), Tally::default())).chain([(None, Tally::default())]).collect();
    for &(x, bad) in values {
        let i = cuts.iter().position(|c| x <= *c).unwrap_or(cuts.len());
        bins[i].1.add(bad);
    }
    let riskier = match direction {
        Direction::Riskier => true,
        Direction::Safer => false,
        Direction::Trend => trend_up(values),
    };
    let min_rows = ((values.len() as f64) * o.min_share).ceil() as usize;
    while bins.len() > 1 {
        let small = bins.iter().position(|b| b.1.rows() < min_rows);
        let broken = bins.windows(2).position(|w| {
            let (a, b) = (w[0].1.bad_rate(), w[1].1.bad_rate());
            if riskier {
                b < a
            } else {
                b > a
            }
        });
        let at = match (small, broken) {
            (Some(i), _) => neighbour(&bins, i),
            (None, Some(i)) => i,
            (None, None) => break,
        };
        let right = bins.remove(at + 1);
        bins[at] = (right.0, bins[at].1.merge(right.1));
    }
    bins
}

/// Which pair a too-small bin `i` merges into: `(i-1, i)` or `(i, i+1)`, the neighbour whose
/// bad rate is closer. Returns the left index of the pair.
fn neighbour(bins: &[(Option<f64>, Tally)], i: usize) -> usize {
    if i == 0 {
        return 0;
    }
    if i + 1 == bins.len() {
        return i - 1;
    }
    let r = bins[i].1.bad_rate();
    if (bins[i - 1].1.bad_rate() - r).abs() <= (bins[i + 1].1.bad_rate() - r).abs() {
        i - 1
    } else {
        i
    }
}

/// Whether bad rates rise with the value overall (the sign of the point-biserial correlation).
#[allow(clippy::cast_precision_loss)]
fn trend_up(values: &[(f64, bool)]) -> bool {
    let n = values.len().max(1) as f64;
    let mx = values.iter().map(|v| v.0).sum::<f64>() / n;
    let my = values.iter().filter(|v| v.1).count() as f64 / n;
    values.iter().map(|(x, b)| (x - mx) * (f64::from(u8::from(*b)) - my)).sum::<f64>() > 0.0
}

/// A bin's label: `≤ 0.35`, `0.35 < x ≤ 0.5`, `> 0.5`; for whole numbers (counts, months)
/// `0`, `2–3`, `≥ 10`.
fn bound_label(lower: Option<f64>, upper: Option<f64>, whole: bool) -> String {
    if whole {
        return match (lower, upper) {
            (None, Some(u)) if u <= 0.0 => format!("{u}"),
            (None, Some(u)) => format!("≤ {u}"),
            (Some(l), Some(u)) if l + 1.0 == u => format!("{u}"),
            (Some(l), Some(u)) => format!("{}–{u}", l + 1.0),
            (Some(l), None) => format!("≥ {}", l + 1.0),
            (None, None) => "any".into(),
        };
    }
    match (lower, upper) {
        (None, Some(u)) => format!("≤ {u}"),
        (Some(l), Some(u)) => format!("{l} < x ≤ {u}"),
        (Some(l), None) => format!("> {l}"),
        (None, None) => "any".into(),
    }
}

/// A characteristic's bins (points still 0) and its missing rows' tally.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn bins_of(spec: &Spec, column: &[Input], labels: &[bool], o: BinOptions) -> (Vec<(Bin, Tally)>, Tally) {
    let mut missing = Tally::default();
    let mut bins = Vec::new();
    match spec.kind {
        Kind::Numeric(direction) => {
            let mut values = Vec::new();
            for (x, &bad) in column.iter().zip(labels) {
                match x {
                    Input::Number(v) if !v.is_nan() => values.push((*v, bad)),
                    _ => missing.add(bad),
                }
            }
            if values.is_empty() {
                return (bins, missing);
            }
            let whole = counts(spec.name);
            let mut lower = None;
            for (upper, t) in numeric_bins(&values, direction, o) {
                bins.push((bin(bound_label(lower, upper, whole), upper, Vec::new(), t), t));
                lower = upper;
            }
        }
        Kind::Categorical => {
            let mut by: std::collections::BTreeMap<&str, Tally> = std::collections::BTreeMap::new();
            for (x, &bad) in column.iter().zip(labels) {
                match x {
                    Input::Category(c) => by.entry(c.as_str()).or_default().add(bad),
                    _ => missing.add(bad),
                }
            }
            let with_value = by.values().map(|t| t.rows()).sum::<usize>();
            let min_rows = ((with_value as f64) * o.min_share / 2.0).ceil() as usize;
            for (c, t) in by {
                if t.rows() >= min_rows {
                    bins.push((bin(c.to_string(), None, vec![c.to_string()], t), t));
                } else {
                    missing = missing.merge(t);
                }
            }
        }
    }
    (bins, missing)
}

fn bin(label: String, upper: Option<f64>, categories: Vec<String>, t: Tally) -> Bin {
    Bin {
        label,
        upper,
        categories,
        points: 0.0,
        woe: 0.0,
        rows: t.rows(),
        bad_rate: t.bad_rate(),
        source: Source::Data,
    }
}

/// A characteristic binned on the training rows, before the logistic fit.
struct Binned {
    column: usize,
    bins: Vec<(Bin, Tally)>,
    missing: Tally,
    iv: f64,
}

/// Policy bins: `(upper bound, bad-odds multiplier)`, the last without a bound.
pub type Steps = [(Option<f64>, f64)];

/// A part of a scorecard fitted on one dataset.
#[derive(Debug, Clone)]
pub struct Part {
    /// Its characteristics with points.
    pub characteristics: Vec<Characteristic>,
    /// The base points the part's intercept stands for (used for the main part only; the
    /// other parts' points are relative to their own dataset's average applicant).
    pub base_points: f64,
    /// Characteristics left out, and why.
    pub dropped: Vec<(String, String)>,
}

/// Fits a part: bins each characteristic on `rows` (one column per spec), then a logistic
/// regression of the label (bad) on the weights of evidence. A characteristic whose bins
/// carry no evidence (one bin) or whose coefficient comes out with the wrong sign (it would
/// reverse its own bins) is dropped and the rest refitted.
pub fn fit_part(
    specs: &[Spec],
    rows: &[Vec<Input>],
    labels: &[bool],
    dataset: &str,
    scaling: Scaling,
    o: BinOptions,
) -> Part {
    let total = labels.iter().fold(Tally::default(), |mut t, &b| {
        t.add(b);
        t
    });
    let mut kept: Vec<Binned> = Vec::new();
    let mut dropped = Vec::new();
    for (j, spec) in specs.iter().enumerate() {
        let column: Vec<Input> = rows.iter().map(|r| r[j].clone()).collect();
        let (mut bins, missing) = bins_of(spec, &column, labels, o);
        if bins.len() < 2 {
            dropped.push((spec.name.to_string(), "no evidence in the data (a single bin)".to_string()));
            continue;
        }
        for (b, t) in &mut bins {
            b.woe = t.woe(total);
        }
        let iv = information_value(&bins, missing, total);
        if iv < INFORMATION_VALUE_MIN {
            dropped.push((spec.name.to_string(), format!("information value {iv:.4} below {INFORMATION_VALUE_MIN}")));
            continue;
        }
        kept.push(Binned { column: j, bins, missing, iv });
    }
    loop {
        let x: Vec<Vec<f64>> = rows
            .iter()
            .map(|r| kept.iter().map(|k| woe_of(&r[k.column], &k.bins, k.missing, total)).collect())
            .collect();
        let names = kept.iter().map(|k| specs[k.column].name.to_string()).collect();
        let model =
            Logistic::train(names, &x, labels, TrainOptions { l2: 1.0, ..TrainOptions::default() }, |_, _, _| {});
        // Predicting bad on WoE (higher = better) wants negative weights.
        let wrong = model.weights.iter().enumerate().filter(|(_, w)| **w >= 0.0).max_by(|a, b| a.1.total_cmp(b.1));
        if let Some((i, w)) = wrong {
            let j = kept.remove(i).column;
            dropped.push((
                specs[j].name.to_string(),
                format!("coefficient with the wrong sign ({w:.3}) beside the others"),
            ));
            continue;
        }
        let factor = scaling.factor();
        let characteristics = kept
            .iter()
            .zip(&model.weights)
            .map(|(k, w)| {
                let mut c = characteristic(&specs[k.column], &k.bins, k.missing, total, -factor * w, dataset);
                c.information_value = (k.iv * 1e4).round() / 1e4;
                c
            })
            .collect();
        return Part { characteristics, base_points: scaling.offset() - factor * model.bias, dropped };
    }
}

/// Characteristics whose information value is below this are not predictive enough to keep
/// (the usual scorecard convention: below 0.02 is "not useful for prediction").
pub const INFORMATION_VALUE_MIN: f64 = 0.02;

/// `Σ (share of goods − share of bads) × WoE` over the bins and the missing rows.
#[allow(clippy::cast_precision_loss)]
fn information_value(bins: &[(Bin, Tally)], missing: Tally, total: Tally) -> f64 {
    let term = |t: Tally| {
        let g = t.good as f64 / (total.good as f64).max(1.0);
        let b = t.bad as f64 / (total.bad as f64).max(1.0);
        (g - b) * t.woe(total)
    };
    bins.iter().map(|(_, t)| term(*t)).sum::<f64>() + if missing.rows() > 0 { term(missing) } else { 0.0 }
}

fn woe_of(x: &Input, bins: &[(Bin, Tally)], missing: Tally, total: Tally) -> f64 {
    find_bin(bins, |b| &b.0, x).map_or_else(|| missing.woe(total), |b| b.0.woe)
}

/// A fitted characteristic: points = `points_per_woe` × WoE; missing scores the lower of the
/// missing rows' own points and the worst bin's.
fn characteristic(
    spec: &Spec,
    bins: &[(Bin, Tally)],
    missing: Tally,
    total: Tally,
    points_per_woe: f64,
    dataset: &str,
) -> Characteristic {
    let bins: Vec<Bin> = bins.iter().map(|(b, _)| Bin { points: points_per_woe * b.woe, ..b.clone() }).collect();
    let worst = bins.iter().map(|b| b.points).fold(f64::INFINITY, f64::min);
    let own = points_per_woe * missing.woe(total);
    let (points, rule) = if missing.rows() >= 30 && own < worst { (own, "data") } else { (worst, "worst_bin") };
    Characteristic {
        name: spec.name.to_string(),
        description: spec.description.to_string(),
        dataset: dataset.to_string(),
        coefficient: points_per_woe,
        bins,
        missing: MissingRule { points, rows: missing.rows(), bad_rate: missing.bad_rate(), rule: rule.to_string() },
        reason: Reason { code: spec.reason.0.to_string(), text: spec.reason.1.to_string() },
        note: String::new(),
        information_value: 0.0,
    }
}

/// Replaces a numeric characteristic's last bin (`> u`) by policy bins: each `(upper, multiplier)`
/// scores the last bin's points less the points of multiplying the bad odds by `multiplier`
/// (`factor × ln multiplier`). Multipliers must not fall, so the bins stay monotone.
pub fn extend_with_policy(c: &mut Characteristic, steps: &Steps, scaling: Scaling, note: &str) {
    let Some(last) = c.bins.pop() else { return };
    let mut lower = c.bins.last().and_then(|b| b.upper);
    let whole = counts(&c.name);
    for &(upper, multiplier) in steps {
        let (points, source) = if (multiplier - 1.0).abs() < 1e-12 {
            (last.points, last.source)
        } else {
            (last.points - scaling.factor() * multiplier.ln(), Source::Policy)
        };
        let (rows, bad_rate, woe) =
            if source == Source::Data { (last.rows, last.bad_rate, last.woe) } else { (0, 0.0, 0.0) };
        c.bins.push(Bin {
            label: bound_label(lower, upper, whole),
            upper,
            categories: Vec::new(),
            points,
            woe,
            rows,
            bad_rate,
            source,
        });
        lower = upper;
    }
    c.missing.points = c.missing.points.min(c.min_points());
    c.note = note.to_string();
}

/// Whether a characteristic is a request field that only takes whole numbers (its bins are
/// labelled as ranges of counts).
fn counts(name: &str) -> bool {
    super::applicant::FIELDS.iter().any(|f| f.name == name && f.kind == super::applicant::FieldKind::Count)
}

/// A characteristic set by policy alone: bins `(upper, multiplier)` whose points are
/// `−factor × ln multiplier` (the best bin's multiplier is 1: 0 points). Missing scores as the
/// worst bin.
pub fn policy_characteristic(spec: &Spec, steps: &Steps, scaling: Scaling, note: &str) -> Characteristic {
    let mut lower = None;
    let mut bins = Vec::new();
    let whole = counts(spec.name);
    for &(upper, multiplier) in steps {
        // `+ 0.0` keeps the best bin at 0 points, not -0.
        let points = -scaling.factor() * multiplier.ln() + 0.0;
        bins.push(Bin {
            label: bound_label(lower, upper, whole),
            upper,
            categories: Vec::new(),
            points,
            woe: 0.0,
            rows: 0,
            bad_rate: 0.0,
            source: Source::Policy,
        });
        lower = upper;
    }
    let worst = bins.iter().map(|b| b.points).fold(f64::INFINITY, f64::min);
    Characteristic {
        name: spec.name.to_string(),
        description: spec.description.to_string(),
        dataset: "policy".into(),
        coefficient: 0.0,
        bins,
        missing: MissingRule { points: worst, rows: 0, bad_rate: 0.0, rule: "worst_bin".into() },
        reason: Reason { code: spec.reason.0.to_string(), text: spec.reason.1.to_string() },
        note: note.to_string(),
        information_value: 0.0,
    }
}

/// Stratified fold of each row: goods and bads each shuffled (a fixed-seed generator) and
/// dealt round-robin into `k` folds, so every fold has the data's bad rate.
pub fn stratified_folds(labels: &[bool], k: usize, seed: u64) -> Vec<usize> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut fold = vec![0; labels.len()];
    for class in [false, true] {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        for i in (1..idx.len()).rev() {
            #[allow(clippy::cast_possible_truncation)]
            let j = (next() % (i as u64 + 1)) as usize;
            idx.swap(i, j);
        }
        for (n, i) in idx.into_iter().enumerate() {
            fold[i] = n % k.max(1);
        }
    }
    fold
}
