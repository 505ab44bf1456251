//! Models in plain Rust: L2-regularised logistic regression trained by Newton's method on
//! standardised features (the scaling is folded back into the coefficients, so a model is a
//! weight per raw feature and a bias), the evaluation metrics of fraud and credit practice
//! (ROC AUC, average precision, KS, precision/recall/F1 at a threshold), and scorecard
//! scaling by points-to-double-the-odds.
//!
//! Scores and probabilities are `f64`: they are statistics about money, never money.

use serde::{Deserialize, Serialize};

/// A trained logistic model over raw feature values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    /// Feature names, in input order.
    pub features: Vec<String>,
    /// One weight per feature (log-odds per unit).
    pub weights: Vec<f64>,
    /// Log-odds at all-zero features.
    pub bias: f64,
    /// Training means of the features (the reference point of contributions).
    pub means: Vec<f64>,
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    /// L2 penalty on standardised weights.
    pub l2: f64,
    /// Newton iterations at most.
    pub iterations: usize,
    /// Weight of a positive example relative to a negative one (1: none).
    pub positive_weight: f64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions { l2: 1.0, iterations: 25, positive_weight: 1.0 }
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Solves `a x = b` for a symmetric positive-definite `a` (Cholesky). None if it is not.
fn solve_spd(a: &[Vec<f64>], b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - s;
                if d <= 0.0 {
                    return None;
                }
                l[i][j] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        y[i] = (b[i] - (0..i).map(|k| l[i][k] * y[k]).sum::<f64>()) / l[i][i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        x[i] = (y[i] - (i + 1..n).map(|k| l[k][i] * x[k]).sum::<f64>()) / l[i][i];
    }
    Some(x)
}

impl Logistic {
    /// Trains on rows `x` (all of one width) with labels `y` (true = positive: fraud, bad).
    /// `progress(iteration, iterations, loss)` is called after each Newton step.
    #[allow(clippy::cast_precision_loss, clippy::needless_range_loop)]
    pub fn train(
        features: Vec<String>,
        x: &[Vec<f64>],
        y: &[bool],
        opts: TrainOptions,
        mut progress: impl FnMut(usize, usize, f64),
    ) -> Logistic {
        let d = features.len();
        let n = x.len().max(1) as f64;
        let means: Vec<f64> = (0..d).map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n).collect();
        let stds: Vec<f64> = (0..d)
            .map(|j| {
                let v = x.iter().map(|r| (r[j] - means[j]).powi(2)).sum::<f64>() / n;
                if v > 1e-12 {
                    v.sqrt()
                } else {
                    1.0
                }
            })
            .collect();
        // Parameters on standardised features: [w_0..w_{d-1}, bias].
        let mut beta = vec![0.0; d + 1];
        let mut z = vec![0.0; d + 1];
        z[d] = 1.0;
        for it in 0..opts.iterations {
            let mut grad = vec![0.0; d + 1];
            let mut hess = vec![vec![0.0; d + 1]; d + 1];
            let mut loss = 0.0;
            for (row, &label) in x.iter().zip(y) {
                for j in 0..d {
                    z[j] = (row[j] - means[j]) / stds[j];
                }
                let p = sigmoid(beta.iter().zip(&z).map(|(b, v)| b * v).sum());
                let w = if label { opts.positive_weight } else { 1.0 };
                let t = if label { 1.0 } else { 0.0 };
                loss -= w * if label { p.max(1e-15).ln() } else { (1.0 - p).max(1e-15).ln() };
                let g = w * (p - t);
                let h = w * p * (1.0 - p);
                for a in 0..=d {
                    grad[a] += g * z[a];
                    for b in 0..=a {
                        hess[a][b] += h * z[a] * z[b];
                    }
                }
            }
            for a in 0..=d {
                for b in 0..a {
                    hess[b][a] = hess[a][b];
                }
            }
            for j in 0..d {
                grad[j] += opts.l2 * beta[j];
                hess[j][j] += opts.l2;
                loss += 0.5 * opts.l2 * beta[j] * beta[j];
            }
            hess[d][d] += 1e-9;
            progress(it + 1, opts.iterations, loss / n);
            let Some(step) = solve_spd(&hess, &grad) else { break };
            let size: f64 = step.iter().map(|s| s.abs()).fold(0.0, f64::max);
            for (b, s) in beta.iter_mut().zip(&step) {
                *b -= s;
            }
            if size < 1e-8 {
                progress(opts.iterations, opts.iterations, loss / n);
                break;
            }
        }
        let weights: Vec<f64> = (0..d).map(|j| beta[j] / stds[j]).collect();
        let bias = beta[d] - (0..d).map(|j| beta[j] * means[j] / stds[j]).sum::<f64>();
        Logistic { features, weights, bias, means }
    }

    /// Log-odds of a positive.
    pub fn log_odds(&self, x: &[f64]) -> f64 {
        self.bias + self.weights.iter().zip(x).map(|(w, v)| w * v).sum::<f64>()
    }

    /// Probability of a positive.
    pub fn probability(&self, x: &[f64]) -> f64 {
        sigmoid(self.log_odds(x))
    }

    /// Each feature's push on the log-odds relative to the training mean, in input order.
    pub fn contributions(&self, x: &[f64]) -> Vec<f64> {
        self.weights.iter().zip(x).zip(&self.means).map(|((w, v), m)| w * (v - m)).collect()
    }
}

/// Indices sorted by score, highest first.
fn by_score(scores: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    idx
}

/// Area under the ROC curve (ties count half). 0.5 when a class is missing.
#[allow(clippy::cast_precision_loss)]
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> f64 {
    // Rank-sum (Mann–Whitney) with average ranks for ties.
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut ranks = vec![0.0; scores.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            ranks[idx[k]] = avg;
        }
        i = j + 1;
    }
    let pos = labels.iter().filter(|l| **l).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return 0.5;
    }
    let rank_sum: f64 = ranks.iter().zip(labels).filter(|(_, l)| **l).map(|(r, _)| r).sum();
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Average precision (area under the precision–recall curve, step-wise).
#[allow(clippy::cast_precision_loss)]
pub fn average_precision(scores: &[f64], labels: &[bool]) -> f64 {
    let pos = labels.iter().filter(|l| **l).count();
    if pos == 0 {
        return 0.0;
    }
    let (mut tp, mut seen, mut ap) = (0usize, 0usize, 0.0);
    let idx = by_score(scores);
    let mut i = 0;
    while i < idx.len() {
        // Scores tied at one threshold enter together.
        let mut j = i;
        let mut new_tp = 0;
        while j < idx.len() && scores[idx[j]] == scores[idx[i]] {
            new_tp += usize::from(labels[idx[j]]);
            j += 1;
        }
        seen += j - i;
        tp += new_tp;
        ap += (new_tp as f64 / pos as f64) * (tp as f64 / seen as f64);
        i = j;
    }
    ap
}

/// Kolmogorov–Smirnov statistic: the largest gap between the cumulative score
/// distributions of positives and negatives.
#[allow(clippy::cast_precision_loss)]
pub fn ks(scores: &[f64], labels: &[bool]) -> f64 {
    let pos = labels.iter().filter(|l| **l).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return 0.0;
    }
    let (mut tp, mut fp, mut best) = (0.0, 0.0, 0.0f64);
    let idx = by_score(scores);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j < idx.len() && scores[idx[j]] == scores[idx[i]] {
            if labels[idx[j]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            j += 1;
        }
        best = best.max((tp / pos - fp / neg).abs());
        i = j;
    }
    best
}

/// Precision, recall and F1 when scores at or above `threshold` are called positive.
#[allow(clippy::cast_precision_loss)]
pub fn at_threshold(scores: &[f64], labels: &[bool], threshold: f64) -> (f64, f64, f64) {
    let (mut tp, mut fp, mut fneg) = (0.0, 0.0, 0.0);
    for (s, l) in scores.iter().zip(labels) {
        match (*s >= threshold, *l) {
            (true, true) => tp += 1.0,
            (true, false) => fp += 1.0,
            (false, true) => fneg += 1.0,
            _ => {}
        }
    }
    let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
    let recall = if tp + fneg > 0.0 { tp / (tp + fneg) } else { 0.0 };
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    (precision, recall, f1)
}

/// The threshold with the best F1 on these scores.
pub fn best_f1_threshold(scores: &[f64], labels: &[bool]) -> f64 {
    let mut candidates: Vec<f64> = scores.to_vec();
    candidates.sort_by(f64::total_cmp);
    candidates.dedup();
    // At most ~200 candidates (quantiles) keep this fast on large sets.
    let step = (candidates.len() / 200).max(1);
    candidates
        .iter()
        .step_by(step)
        .map(|t| (*t, at_threshold(scores, labels, *t).2))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0.5, |(t, _)| t)
}

/// Scorecard scaling: `score = offset - factor * ln(odds_bad)` with
/// `factor = pdo / ln 2` and `offset = base_score + factor * ln(base_odds_bad)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    /// Points to double the odds.
    pub pdo: f64,
    /// The score at `base_odds_bad`.
    pub base_score: f64,
    /// Bad:good odds at the base score (1/19: a 5% bad rate).
    pub base_odds_bad: f64,
}

impl Default for Scaling {
    fn default() -> Self {
        Scaling { pdo: 50.0, base_score: 600.0, base_odds_bad: 1.0 / 19.0 }
    }
}

/// Lowest and highest published score; raw scores are clipped into this range.
pub const SCORE_RANGE: (f64, f64) = (300.0, 850.0);

impl Scaling {
    /// Points per unit of log-odds.
    pub fn factor(&self) -> f64 {
        self.pdo / std::f64::consts::LN_2
    }

    /// The score at zero log-odds.
    pub fn offset(&self) -> f64 {
        self.base_score + self.factor() * self.base_odds_bad.ln()
    }

    /// The unclipped score of a probability of going bad.
    pub fn raw_score(&self, p_bad: f64) -> f64 {
        let p = p_bad.clamp(1e-12, 1.0 - 1e-12);
        self.offset() - self.factor() * (p / (1.0 - p)).ln()
    }

    /// The published score: the raw score clipped to 300–850 and rounded.
    #[allow(clippy::cast_possible_truncation)]
    pub fn score(&self, p_bad: f64) -> i64 {
        self.raw_score(p_bad).clamp(SCORE_RANGE.0, SCORE_RANGE.1).round() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scorecard_scaling_matches_the_reference_figures() {
        let s = Scaling::default();
        assert!((s.factor() - 72.135).abs() < 1e-3);
        assert!((s.offset() - 387.604).abs() < 1e-3);
        for (p, want) in [(0.01, 719.07), (0.05, 600.00), (0.10, 546.10), (0.50, 387.60), (0.90, 229.11)] {
            assert!((s.raw_score(p) - want).abs() < 0.01, "p {p}: {} vs {want}", s.raw_score(p));
        }
        assert_eq!((s.score(0.90), s.score(1e-9), s.score(0.05)), (300, 850, 600));
    }

    #[test]
    fn metrics_on_hand_checked_examples() {
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
        let labels = [true, false, true, false, false, false];
        // Positives outrank 4 + 3 of 8 pairs... (0.9 beats 4 negatives, 0.7 beats 3).
        assert!((roc_auc(&scores, &labels) - 7.0 / 8.0).abs() < 1e-12);
        // AP: precision 1 at the first positive, 2/3 at the second.
        assert!((average_precision(&scores, &labels) - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        // KS: after 0.7, TPR 1 and FPR 1/4.
        assert!((ks(&scores, &labels) - 0.75).abs() < 1e-12);
        let (p, r, f) = at_threshold(&scores, &labels, 0.7);
        assert!((p - 2.0 / 3.0).abs() < 1e-12 && (r - 1.0).abs() < 1e-12 && (f - 0.8).abs() < 1e-12);
        // Ties count half; constant scores are uninformative.
        assert!((roc_auc(&[0.5, 0.5], &[true, false]) - 0.5).abs() < 1e-12);
        assert!((roc_auc(&[1.0, 2.0], &[true, true]) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn logistic_regression_recovers_a_known_model() {
        // Labels drawn from p = sigmoid(-1 + 2 x0 - 0.5 x1) with a deterministic generator.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            #[allow(clippy::cast_precision_loss)]
            let u = (seed >> 11) as f64 / (1u64 << 53) as f64;
            u
        };
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for _ in 0..20_000 {
            let (a, b) = (next() * 4.0 - 2.0, next() * 10.0);
            x.push(vec![a, b]);
            y.push(next() < sigmoid(-1.0 + 2.0 * a - 0.5 * b));
        }
        let mut steps = 0;
        let opts = TrainOptions { l2: 0.0, ..TrainOptions::default() };
        let m = Logistic::train(vec!["a".into(), "b".into()], &x, &y, opts, |_, _, _| steps += 1);
        assert!(steps > 2);
        assert!((m.weights[0] - 2.0).abs() < 0.15, "{m:?}");
        assert!((m.weights[1] + 0.5).abs() < 0.05, "{m:?}");
        assert!((m.bias + 1.0).abs() < 0.2, "{m:?}");
        let scores: Vec<f64> = x.iter().map(|r| m.probability(r)).collect();
        assert!(roc_auc(&scores, &y) > 0.85);
        let c = m.contributions(&[2.0, 0.0]);
        assert!(c[0] > 0.0 && c[1] > 0.0, "high a and low b push towards positive");
    }
}
