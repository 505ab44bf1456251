//! Settlement fees: fixed per payment plus basis points of the gross, rounded up, never more
//! than the gross.

/// Fee schedule of settlements.
#[derive(Debug, Clone, Copy)]
pub struct FeeSchedule {
    /// Fixed fee per payment, minor units.
    pub fixed_minor: i64,
    /// Proportional fee, basis points of the gross.
    pub bps: i64,
}

impl Default for FeeSchedule {
    fn default() -> Self {
        FeeSchedule { fixed_minor: 30, bps: 290 }
    }
}

/// The fee of a group: `count x fixed + ceil(gross x bps / 10 000)`, at most `gross`.
pub fn fee(schedule: FeeSchedule, count: i64, gross: i64) -> Option<i64> {
    let fixed = count.checked_mul(schedule.fixed_minor)?;
    let proportional = i128::from(gross) * i128::from(schedule.bps);
    let proportional = i64::try_from((proportional + 9_999) / 10_000).ok()?;
    Some(fixed.checked_add(proportional)?.min(gross))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fees_round_up_and_never_exceed_the_gross() {
        let s = FeeSchedule { fixed_minor: 30, bps: 290 };
        // 2.9% of 10.00 = 0.29 exactly, plus 0.30.
        assert_eq!(fee(s, 1, 1_000), Some(59));
        // 2.9% of 10.01 = 0.29029 -> 0.30, plus 2 x 0.30.
        assert_eq!(fee(s, 2, 1_001), Some(90));
        assert_eq!(fee(s, 1, 10), Some(10), "capped at the gross");
        assert_eq!(fee(s, 0, 0), Some(0));
        assert_eq!(fee(FeeSchedule { fixed_minor: 0, bps: 0 }, 5, 123), Some(0));
        assert_eq!(fee(s, i64::MAX, 1), None, "overflow is an error");
    }

    proptest! {
        #[test]
        fn a_fee_is_never_negative_nor_above_the_gross(fixed in 0i64..10_000, bps in 0i64..10_000,
                                                        count in 1i64..1_000, gross in 0i64..1_000_000_000_000) {
            let f = fee(FeeSchedule { fixed_minor: fixed, bps }, count, gross).unwrap();
            prop_assert!((0..=gross).contains(&f));
        }
    }
}
