//! The payment features of the fraud models, after the classic fraud feature set: the amount,
//! the local hour and weekday, the user's average amount and how far this payment is from it,
//! the user's counts over 1 h / 24 h / 7 d / 30 d and sums over 1 h / 24 h, new device and
//! device age, new country and distance from the previous located payment, and the merchant's
//! risk. They are computed from the same window entries the rules read, so training (replaying
//! stored payments) and serving (the live window store) see the same numbers.
//!
//! Features are statistics, so `f64`; amounts are read from integer minor units.

use crate::window::{history, Entry};

/// Feature names, in the order of [`extract`]'s output.
pub const PAYMENT_FEATURES: [&str; 18] = [
    "amount_log",
    "hour_of_day",
    "day_of_week",
    "user_avg_amount_log",
    "amount_zscore",
    "count_1h",
    "count_24h",
    "count_7d",
    "count_30d",
    "sum_1h_log",
    "sum_24h_log",
    "new_device",
    "device_age_days",
    "new_country",
    "distance_km",
    "seconds_since_last_log",
    "has_history",
    "merchant_risk",
];

/// The position of a feature in [`PAYMENT_FEATURES`].
pub fn position(name: &str) -> Option<usize> {
    PAYMENT_FEATURES.iter().position(|f| *f == name)
}

/// ln(1 + x) of a non-negative count or amount (amounts span orders of magnitude).
#[allow(clippy::cast_precision_loss)]
fn log1p(x: i64) -> f64 {
    (x.max(0) as f64).ln_1p()
}

/// The features of `current` given its user's earlier entries (any order; entries at or after
/// `current`, and `current` itself, are ignored), the local offset in seconds east of UTC and
/// the merchant's risk (a rate in 0..=1, from the model's own table).
#[allow(clippy::cast_precision_loss)]
pub fn extract(current: &Entry, user_entries: &[Entry], utc_offset_seconds: i64, merchant_risk: f64) -> Vec<f64> {
    let now = current.at_us;
    let h = history(user_entries, current);
    let secs = now.div_euclid(1_000_000) + utc_offset_seconds;
    let hour = (secs / 3600).rem_euclid(24);
    // 1970-01-01 was a Thursday (3 with Monday = 0).
    let day = (secs.div_euclid(86_400) + 3).rem_euclid(7);
    let (mut counts, mut sums) = ([0i64; 4], [0i64; 2]);
    let windows = [3_600i64, 86_400, 7 * 86_400, 30 * 86_400];
    for e in user_entries.iter().filter(|e| e.at_us < now && e.id != current.id) {
        for (i, w) in windows.iter().enumerate() {
            // The same window as the rules' aggregates: (now − w, now].
            if e.at_us > now - w * 1_000_000 {
                counts[i] += 1;
                if i < 2 {
                    sums[i] = sums[i].saturating_add(e.amount);
                }
            }
        }
    }
    let amount = current.amount as f64;
    let zscore = match (h.mean_amount, h.std_amount) {
        (Some(m), Some(s)) => ((amount - m) / s.max(1.0)).clamp(-50.0, 50.0),
        _ => 0.0,
    };
    let flag = |b: Option<bool>| f64::from(u8::from(b.unwrap_or(false)));
    vec![
        log1p(current.amount),
        hour as f64,
        day as f64,
        h.mean_amount.map_or(0.0, f64::ln_1p),
        zscore,
        counts[0] as f64,
        counts[1] as f64,
        counts[2] as f64,
        counts[3] as f64,
        log1p(sums[0]),
        log1p(sums[1]),
        flag(h.new_device),
        h.device_age_seconds.map_or(0.0, |s| s as f64 / 86_400.0),
        flag(h.new_country),
        h.distance_km.unwrap_or(0.0),
        h.seconds_since_last.map_or(0.0, log1p),
        f64::from(u8::from(h.mean_amount.is_some())),
        merchant_risk.clamp(0.0, 1.0),
    ]
}

/// Smoothed fraud rates of merchants from labelled examples (merchant, is fraud): the rate
/// shrunk toward the overall rate by `prior_weight` pseudo-examples, so a merchant seen once
/// does not get a rate of 0 or 1. Returns (per merchant, overall rate for unseen merchants).
#[allow(clippy::cast_precision_loss)]
pub fn merchant_rates<'a>(
    examples: impl IntoIterator<Item = (Option<&'a str>, bool)>,
    prior_weight: f64,
) -> (std::collections::BTreeMap<String, f64>, f64) {
    let mut per: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    let (mut frauds, mut total) = (0.0, 0.0);
    for (m, fraud) in examples {
        let y = f64::from(u8::from(fraud));
        frauds += y;
        total += 1.0;
        if let Some(m) = m {
            let e = per.entry(m.to_string()).or_default();
            e.0 += y;
            e.1 += 1.0;
        }
    }
    let overall = if total > 0.0 { frauds / total } else { 0.0 };
    let rates = per.into_iter().map(|(m, (f, n))| (m, (f + prior_weight * overall) / (n + prior_weight))).collect();
    (rates, overall)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, at_s: i64, amount: i64, device: &str, country: &str, loc: (f64, f64)) -> Entry {
        Entry {
            id: id.into(),
            at_us: at_s * 1_000_000,
            amount,
            user: "u".into(),
            account: "a".into(),
            device: Some(device.into()),
            ip: None,
            country: Some(country.into()),
            merchant: None,
            location: Some(loc),
        }
    }

    fn f(x: &[f64], name: &str) -> f64 {
        x[position(name).expect("known feature")]
    }

    #[test]
    fn features_follow_the_history_with_window_edges() {
        // 2024-01-01 00:00:00 UTC was a Monday.
        let now = 1_704_067_200 + 10 * 86_400 + 13 * 3600;
        let past = vec![
            entry("p1", now - 3600, 1000, "d1", "DE", (52.52, 13.40)), // exactly 1 h before: outside 1 h
            entry("p2", now - 3599, 3000, "d1", "DE", (52.52, 13.40)),
            entry("p3", now - 2 * 86_400, 2000, "d2", "DE", (52.52, 13.40)),
            entry("p4", now - 31 * 86_400, 9000, "d3", "FR", (48.85, 2.35)), // beyond 30 d
            entry("later", now + 5, 7000, "d1", "DE", (52.52, 13.40)),       // ignored
        ];
        let cur = entry("c", now, 10_000, "d9", "FR", (48.85, 2.35));
        let x = extract(&cur, &past, 0, 0.25);
        assert_eq!(x.len(), PAYMENT_FEATURES.len());
        assert_eq!(f(&x, "hour_of_day"), 13.0);
        assert_eq!(f(&x, "day_of_week"), 3.0, "2024-01-11 is a Thursday");
        assert_eq!(f(&x, "count_1h"), 1.0);
        assert_eq!(f(&x, "count_24h"), 2.0);
        assert_eq!(f(&x, "count_7d"), 3.0);
        assert_eq!(f(&x, "count_30d"), 3.0);
        assert!((f(&x, "sum_1h_log") - 3001f64.ln()).abs() < 1e-12);
        assert!((f(&x, "sum_24h_log") - 4001f64.ln()).abs() < 1e-12);
        assert_eq!(f(&x, "new_device"), 1.0);
        assert_eq!(f(&x, "new_country"), 0.0, "FR was seen 31 days ago, still in the user's entries");
        assert!((f(&x, "distance_km") - 878.0).abs() < 5.0, "Berlin to Paris: {}", f(&x, "distance_km"));
        assert_eq!(f(&x, "merchant_risk"), 0.25);
        assert_eq!(f(&x, "has_history"), 1.0);
        assert!(f(&x, "amount_zscore") > 1.0);
        // A local offset moves the hour and can move the day.
        let x = extract(&cur, &past, 11 * 3600, 0.0);
        assert_eq!((f(&x, "hour_of_day"), f(&x, "day_of_week")), (0.0, 4.0));
    }

    #[test]
    fn first_payment_has_neutral_history() {
        let cur = entry("c", 1_000_000, 500, "d", "DE", (0.0, 0.0));
        let x = extract(&cur, &[], 0, 2.0);
        for name in ["count_30d", "amount_zscore", "distance_km", "has_history", "device_age_days"] {
            assert_eq!(f(&x, name), 0.0, "{name}");
        }
        assert_eq!(f(&x, "new_device"), 1.0);
        assert_eq!(f(&x, "merchant_risk"), 1.0, "clamped");
    }

    #[test]
    fn merchant_rates_are_shrunk_toward_the_overall_rate() {
        let ex = [(Some("m1"), true), (Some("m1"), true), (Some("m2"), false), (None, false)];
        let (rates, overall) = merchant_rates(ex, 2.0);
        assert_eq!(overall, 0.5);
        assert_eq!(rates["m1"], (2.0 + 1.0) / 4.0);
        assert_eq!(rates["m2"], 1.0 / 3.0);
    }
}
