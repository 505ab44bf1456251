//! Window aggregates read through the index equal a brute-force recomputation over every
//! entry, whatever the insertion order, duplicates or window.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rialto_risk::window::{aggregate, window_start, Entry, Index, KEYS};
use rialto_risk::{Aggregate, AggregateFn};

fn entries() -> impl Strategy<Value = Vec<Entry>> {
    prop::collection::vec((0i64..4_000, 1i64..10_000, 0u8..3, 0u8..4, 0u8..3), 0..60).prop_map(|raw| {
        raw.into_iter()
            .enumerate()
            .map(|(i, (t, amount, user, device, merchant))| Entry {
                id: format!("p{i}"),
                at_us: t * 1_000_000,
                amount,
                user: format!("u{user}"),
                account: format!("a{user}"),
                device: (device > 0).then(|| format!("d{device}")),
                ip: None,
                country: None,
                merchant: (merchant > 0).then(|| format!("m{merchant}")),
                location: None,
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn index_aggregates_equal_brute_force(
        es in entries(),
        now_s in 0i64..4_500,
        window in 1i64..5_000,
        func in 0u8..4,
        repeat in any::<bool>(),
    ) {
        let func = [AggregateFn::Count, AggregateFn::Sum, AggregateFn::Average, AggregateFn::DistinctCount][func as usize];
        let mut ix = Index::default();
        for e in &es {
            ix.insert(e);
            if repeat {
                ix.insert(e);
            }
        }
        let now = now_s * 1_000_000;
        for key in KEYS {
            let a = Aggregate { func, key, of: (func == AggregateFn::DistinctCount).then(|| "device_id".into()), window_seconds: window };
            let mut values: Vec<&str> = es.iter().filter_map(|e| e.key(key)).collect();
            values.sort_unstable();
            values.dedup();
            for v in values {
                let got = aggregate(&ix.since(key, v, window_start(now, window)), &a, now);
                // Brute force: every entry of this key inside (now - window, now].
                let inside: Vec<&Entry> = es.iter().filter(|e| e.key(key) == Some(v)
                    && e.at_us > now - window * 1_000_000 && e.at_us <= now).collect();
                #[allow(clippy::cast_precision_loss)]
                let want = match func {
                    AggregateFn::Count => inside.len() as f64,
                    AggregateFn::Sum => inside.iter().map(|e| e.amount as f64).sum(),
                    AggregateFn::Average if inside.is_empty() => 0.0,
                    AggregateFn::Average => inside.iter().map(|e| e.amount as f64).sum::<f64>() / inside.len() as f64,
                    AggregateFn::DistinctCount => {
                        let mut d: Vec<&str> = inside.iter().filter_map(|e| e.device.as_deref()).collect();
                        d.sort_unstable();
                        d.dedup();
                        d.len() as f64
                    }
                };
                prop_assert!((got - want).abs() < 1e-9, "{key:?}={v} {func:?} window {window}: {got} vs {want}");
            }
        }
    }
}
