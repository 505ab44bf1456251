//! Sliding windows over past payments: the entries a window store keeps, the aggregates the
//! rules ask for, and the history facts (new device, new country, distance, travel speed).
//!
//! A window of `w` seconds at time `now` holds the entries with `now - w < at <= now`: a
//! payment exactly `w` seconds old has left the window. Entries are ordered by time.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::rule::{Aggregate, AggregateFn, Key, WINDOW_SECONDS_MAX};

/// One accepted payment as the windows see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Payment id (unique).
    pub id: String,
    /// When, µs since the epoch.
    pub at_us: i64,
    /// Amount, minor units.
    pub amount: i64,
    /// Paying user.
    pub user: String,
    /// Source account.
    pub account: String,
    /// Device, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Client IP, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// ISO country, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Merchant, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant: Option<String>,
    /// Latitude and longitude in degrees, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<(f64, f64)>,
}

impl Entry {
    /// The entry's value for a grouping key.
    pub fn key(&self, key: Key) -> Option<&str> {
        match key {
            Key::User => Some(&self.user),
            Key::Account => Some(&self.account),
            Key::Device => self.device.as_deref(),
            Key::Ip => self.ip.as_deref(),
            Key::Merchant => self.merchant.as_deref(),
        }
    }

    /// The value of a field `distinct_count` can count.
    pub fn field(&self, name: &str) -> Option<&str> {
        match name {
            "device_id" => self.device.as_deref(),
            "ip_address" => self.ip.as_deref(),
            "country" => self.country.as_deref(),
            "merchant_id" => self.merchant.as_deref(),
            "user_id" => Some(&self.user),
            _ => None,
        }
    }
}

/// Every grouping key.
pub const KEYS: [Key; 5] = [Key::User, Key::Account, Key::Device, Key::Ip, Key::Merchant];

/// The name of a key in storage (`user`, `device`...).
pub fn key_name(key: Key) -> &'static str {
    key.as_str()
}

/// The oldest time a window of `seconds` at `now_us` still holds is just after this.
pub fn window_start(now_us: i64, seconds: i64) -> i64 {
    now_us.saturating_sub(seconds.saturating_mul(1_000_000))
}

/// An aggregate over the entries of one key (any order), as of `now_us`.
#[allow(clippy::cast_precision_loss)]
pub fn aggregate(entries: &[Entry], a: &Aggregate, now_us: i64) -> f64 {
    let since = window_start(now_us, a.window_seconds);
    let inside = entries.iter().filter(|e| e.at_us > since && e.at_us <= now_us);
    match a.func {
        AggregateFn::Count => inside.count() as f64,
        AggregateFn::Sum => inside.map(|e| e.amount as f64).sum(),
        AggregateFn::Average => {
            let (n, sum) = inside.fold((0u64, 0i128), |(n, s), e| (n + 1, s + i128::from(e.amount)));
            if n == 0 {
                0.0
            } else {
                sum as f64 / n as f64
            }
        }
        AggregateFn::DistinctCount => {
            let of = a.of.as_deref().unwrap_or("device_id");
            inside.filter_map(|e| e.field(of)).collect::<HashSet<_>>().len() as f64
        }
    }
}

/// What a payment's history says about it (its user's earlier payments, up to 30 days).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The device was not used by this user before (absent without a device).
    pub new_device: Option<bool>,
    /// Seconds since the user first used this device (0 when new).
    pub device_age_seconds: Option<i64>,
    /// The country is not one the user paid from before.
    pub new_country: Option<bool>,
    /// Great-circle distance from the previous located payment, km.
    pub distance_km: Option<f64>,
    /// Distance over time since that payment, km/h ("impossible travel" above ~900).
    pub travel_kmh: Option<f64>,
    /// Seconds since the user's previous payment.
    pub seconds_since_last: Option<i64>,
    /// Mean amount of the user's earlier payments.
    pub mean_amount: Option<f64>,
    /// Standard deviation of those amounts.
    pub std_amount: Option<f64>,
}

/// Earth's mean radius, km.
const EARTH_KM: f64 = 6371.0;

/// Great-circle distance between two points (degrees), km.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * EARTH_KM * h.sqrt().min(1.0).asin()
}

/// The history facts of `current` from its user's earlier entries (any order; entries at or
/// after `current.at_us`, and `current` itself, are ignored).
#[allow(clippy::cast_precision_loss)]
pub fn history(earlier: &[Entry], current: &Entry) -> History {
    let mut past: Vec<&Entry> = earlier.iter().filter(|e| e.at_us < current.at_us && e.id != current.id).collect();
    past.sort_by_key(|e| e.at_us);
    let mut h = History::default();
    if let Some(d) = &current.device {
        let first = past.iter().find(|e| e.device.as_ref() == Some(d));
        h.new_device = Some(first.is_none());
        h.device_age_seconds = Some(first.map_or(0, |e| (current.at_us - e.at_us) / 1_000_000));
    }
    if let Some(c) = &current.country {
        h.new_country = Some(!past.iter().any(|e| e.country.as_ref() == Some(c)));
    }
    if let Some(last) = past.last() {
        h.seconds_since_last = Some((current.at_us - last.at_us) / 1_000_000);
    }
    if let (Some(here), Some(prev)) = (current.location, past.iter().rev().find(|e| e.location.is_some())) {
        let there = prev.location.unwrap_or(here);
        let km = haversine_km(there, here);
        h.distance_km = Some(km);
        // At least one second apart, so two payments in the same instant are not infinitely fast.
        let hours = ((current.at_us - prev.at_us).max(1_000_000)) as f64 / 3.6e9;
        h.travel_kmh = Some(km / hours);
    }
    if !past.is_empty() {
        let n = past.len() as f64;
        let mean = past.iter().map(|e| e.amount as f64).sum::<f64>() / n;
        let var = past.iter().map(|e| (e.amount as f64 - mean).powi(2)).sum::<f64>() / n;
        h.mean_amount = Some(mean);
        h.std_amount = Some(var.sqrt());
    }
    h
}

/// An in-memory window index: per (key, value), the entries of the last 30 days in time order.
#[derive(Debug, Default)]
pub struct Index {
    by_key: HashMap<(Key, String), VecDeque<Entry>>,
    newest_us: i64,
    inserts: u64,
}

impl Index {
    /// Adds an accepted payment under each of its keys (again: ignored).
    pub fn insert(&mut self, e: &Entry) {
        self.newest_us = self.newest_us.max(e.at_us);
        for key in KEYS {
            let Some(value) = e.key(key) else { continue };
            let list = self.by_key.entry((key, value.to_string())).or_default();
            // Usually the newest: append; otherwise keep the order (and skip a duplicate).
            let at = list.partition_point(|x| x.at_us <= e.at_us);
            if list.iter().rev().take_while(|x| x.at_us >= e.at_us).any(|x| x.id == e.id) {
                continue;
            }
            list.insert(at, e.clone());
            let horizon = window_start(self.newest_us, WINDOW_SECONDS_MAX);
            while list.front().is_some_and(|x| x.at_us <= horizon) {
                list.pop_front();
            }
        }
        self.inserts += 1;
        if self.inserts.is_multiple_of(100_000) {
            self.prune();
        }
    }

    /// Drops entries older than 30 days and empty keys.
    pub fn prune(&mut self) {
        let horizon = window_start(self.newest_us, WINDOW_SECONDS_MAX);
        self.by_key.retain(|_, list| {
            while list.front().is_some_and(|x| x.at_us <= horizon) {
                list.pop_front();
            }
            !list.is_empty()
        });
    }

    /// The entries of one key after `since_us`, oldest first.
    pub fn since(&self, key: Key, value: &str, since_us: i64) -> Vec<Entry> {
        self.by_key.get(&(key, value.to_string())).map_or_else(Vec::new, |list| {
            let from = list.partition_point(|x| x.at_us <= since_us);
            list.range(from..).cloned().collect()
        })
    }

    /// Number of keys held.
    pub fn keys(&self) -> usize {
        self.by_key.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    fn entry(id: &str, at_s: i64, amount: i64, device: &str) -> Entry {
        Entry {
            id: id.into(),
            at_us: at_s * S,
            amount,
            user: "u1".into(),
            account: "a1".into(),
            device: Some(device.into()),
            ip: None,
            country: None,
            merchant: None,
            location: None,
        }
    }

    fn agg(func: AggregateFn, window_seconds: i64, of: Option<&str>) -> Aggregate {
        Aggregate { func, key: Key::User, of: of.map(str::to_string), window_seconds }
    }

    #[test]
    fn every_window_function_at_the_edges() {
        // Now is t=1000; a 300 s window holds (700, 1000].
        let es = vec![
            entry("p1", 700, 100, "d1"),  // exactly at the boundary: out
            entry("p2", 701, 200, "d2"),  // just inside
            entry("p3", 1000, 300, "d2"), // now: inside
            entry("p4", 1001, 999, "d3"), // the future: out
        ];
        let now = 1000 * S;
        assert_eq!(aggregate(&es, &agg(AggregateFn::Count, 300, None), now), 2.0);
        assert_eq!(aggregate(&es, &agg(AggregateFn::Sum, 300, None), now), 500.0);
        assert_eq!(aggregate(&es, &agg(AggregateFn::Average, 300, None), now), 250.0);
        assert_eq!(aggregate(&es, &agg(AggregateFn::DistinctCount, 300, Some("device_id")), now), 1.0);
        assert_eq!(aggregate(&es, &agg(AggregateFn::Count, 301, None), now), 3.0);
        assert_eq!(aggregate(&es, &agg(AggregateFn::DistinctCount, 301, Some("device_id")), now), 2.0);
        assert_eq!(aggregate(&es, &agg(AggregateFn::Average, 1, None), 5000 * S), 0.0);
        assert_eq!(aggregate(&[], &agg(AggregateFn::Sum, 60, None), now), 0.0);
    }

    #[test]
    fn the_index_keeps_order_drops_duplicates_and_forgets_after_30_days() {
        let mut ix = Index::default();
        ix.insert(&entry("p2", 20, 1, "d1"));
        ix.insert(&entry("p1", 10, 1, "d1"));
        ix.insert(&entry("p2", 20, 1, "d1"));
        let got: Vec<String> = ix.since(Key::User, "u1", 0).into_iter().map(|e| e.id).collect();
        assert_eq!(got, ["p1", "p2"]);
        assert_eq!(ix.since(Key::Device, "d1", 10 * S).len(), 1, "strictly after `since`");
        ix.insert(&entry("p3", 10 + WINDOW_SECONDS_MAX, 1, "d1"));
        let got: Vec<String> = ix.since(Key::User, "u1", 0).into_iter().map(|e| e.id).collect();
        assert_eq!(got, ["p2", "p3"], "p1 is exactly 30 days old");
        ix.prune();
        assert_eq!(ix.keys(), 3, "user, account, device");
    }

    #[test]
    fn history_finds_new_devices_countries_and_impossible_travel() {
        let mut berlin = entry("p1", 0, 1000, "d1");
        berlin.country = Some("DE".into());
        berlin.location = Some((52.52, 13.405));
        let mut same = entry("p2", 3600, 3000, "d1");
        same.country = Some("DE".into());
        let mut ny = entry("p3", 7200, 2000, "d9");
        ny.country = Some("US".into());
        ny.location = Some((40.7128, -74.006));
        let h = history(&[berlin.clone(), same.clone()], &ny);
        assert_eq!((h.new_device, h.device_age_seconds, h.new_country), (Some(true), Some(0), Some(true)));
        let km = h.distance_km.unwrap_or_default();
        assert!((km - 6385.0).abs() < 15.0, "Berlin–New York is about 6,385 km, got {km}");
        // Two hours since the located Berlin payment.
        assert!((h.travel_kmh.unwrap_or_default() - km / 2.0).abs() < 1e-6);
        assert_eq!(h.seconds_since_last, Some(3600));
        assert_eq!((h.mean_amount, h.std_amount), (Some(2000.0), Some(1000.0)));
        let again = history(&[berlin.clone(), same.clone()], &same);
        assert_eq!(
            (again.new_device, again.device_age_seconds, again.new_country),
            (Some(false), Some(3600), Some(false))
        );
        assert_eq!(again.distance_km, None, "no location on this payment");
        let first = history(&[], &berlin);
        assert_eq!((first.new_device, first.seconds_since_last, first.mean_amount), (Some(true), None, None));
    }

    #[test]
    fn haversine_known_distances() {
        assert!(haversine_km((0.0, 0.0), (0.0, 0.0)).abs() < 1e-9);
        // A quarter of the equator.
        assert!((haversine_km((0.0, 0.0), (0.0, 90.0)) - 10_007.5).abs() < 1.0);
        // Antipodes: half the circumference, no NaN.
        assert!((haversine_km((0.0, 0.0), (0.0, 180.0)) - 20_015.1).abs() < 1.0);
    }
}
