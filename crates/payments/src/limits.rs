//! The business limits an operator sets: when a payment is held for review or refused, when
//! KYC is required, the velocity a user may reach, and what settlement charges. All amounts are
//! minor units of the payment's currency (the same number for every currency).

use crate::{FeeSchedule, KycComplianceGate, LimitsRiskGate};

/// The limits of the payment gates and of settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Payments above this amount are held for a reviewer.
    pub review_above_minor: i64,
    /// Payments above this amount are refused.
    pub reject_above_minor: i64,
    /// Payments above this amount need a user whose KYC is verified.
    pub kyc_required_above_minor: i64,
    /// The window of the velocity limits, seconds.
    pub velocity_window_seconds: i64,
    /// More payments than this by one user in the window are held for review.
    pub velocity_max_count: i64,
    /// A user's payments summing above this in the window (the new one included) are held.
    pub velocity_max_sum_minor: i64,
    /// Settlement fee per payment, minor units.
    pub settlement_fee_fixed_minor: i64,
    /// Settlement fee on the gross, basis points (290 = 2.9%).
    pub settlement_fee_bps: i64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            review_above_minor: 1_000_000,
            reject_above_minor: 10_000_000,
            kyc_required_above_minor: 100_000,
            velocity_window_seconds: 3600,
            velocity_max_count: 20,
            velocity_max_sum_minor: 5_000_000,
            settlement_fee_fixed_minor: 30,
            settlement_fee_bps: 290,
        }
    }
}

/// Largest amount any limit may name: the largest amount a payment may have.
const AMOUNT_LIMIT_MAX: i64 = rialto_core::AMOUNT_MAX_MINOR;

impl Limits {
    /// Every limit by name, as configuration names them.
    pub fn named(&self) -> [(&'static str, i64); 8] {
        [
            ("review_above_minor", self.review_above_minor),
            ("reject_above_minor", self.reject_above_minor),
            ("kyc_required_above_minor", self.kyc_required_above_minor),
            ("velocity_window_seconds", self.velocity_window_seconds),
            ("velocity_max_count", self.velocity_max_count),
            ("velocity_max_sum_minor", self.velocity_max_sum_minor),
            ("settlement_fee_fixed_minor", self.settlement_fee_fixed_minor),
            ("settlement_fee_bps", self.settlement_fee_bps),
        ]
    }

    /// Every problem at once (empty when the limits are usable).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut range = |name: &str, v: i64, min: i64, max: i64| {
            if !(min..=max).contains(&v) {
                out.push(format!("{name} is {v}; it must be from {min} to {max}"));
            }
        };
        range("review_above_minor", self.review_above_minor, 0, AMOUNT_LIMIT_MAX);
        range("reject_above_minor", self.reject_above_minor, 1, AMOUNT_LIMIT_MAX);
        range("kyc_required_above_minor", self.kyc_required_above_minor, 0, AMOUNT_LIMIT_MAX);
        range("velocity_window_seconds", self.velocity_window_seconds, 1, 30 * 86_400);
        range("velocity_max_count", self.velocity_max_count, 1, 1_000_000);
        range("velocity_max_sum_minor", self.velocity_max_sum_minor, 1, AMOUNT_LIMIT_MAX);
        range("settlement_fee_fixed_minor", self.settlement_fee_fixed_minor, 0, AMOUNT_LIMIT_MAX);
        range("settlement_fee_bps", self.settlement_fee_bps, 0, 10_000);
        if self.review_above_minor > self.reject_above_minor {
            out.push(format!(
                "review_above_minor ({}) is above reject_above_minor ({}): no payment would be reviewed for its amount",
                self.review_above_minor, self.reject_above_minor
            ));
        }
        out
    }

    /// The amount and velocity gate.
    pub fn risk_gate(&self) -> LimitsRiskGate {
        LimitsRiskGate {
            reject_above_minor: self.reject_above_minor,
            review_above_minor: self.review_above_minor,
            velocity_window_secs: self.velocity_window_seconds,
            velocity_max_count: self.velocity_max_count,
            velocity_max_sum_minor: self.velocity_max_sum_minor,
        }
    }

    /// The KYC gate.
    pub fn compliance_gate(&self) -> KycComplianceGate {
        KycComplianceGate { kyc_required_above_minor: self.kyc_required_above_minor }
    }

    /// The settlement fees.
    pub fn fees(&self) -> FeeSchedule {
        FeeSchedule { fixed_minor: self.settlement_fee_fixed_minor, bps: self.settlement_fee_bps }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_gates_defaults_and_usable() {
        let l = Limits::default();
        assert!(l.problems().is_empty());
        let (risk, kyc, fees) = (LimitsRiskGate::default(), KycComplianceGate::default(), FeeSchedule::default());
        let gate = l.risk_gate();
        assert_eq!(
            (gate.reject_above_minor, gate.review_above_minor, gate.velocity_window_secs),
            (risk.reject_above_minor, risk.review_above_minor, risk.velocity_window_secs)
        );
        assert_eq!(
            (gate.velocity_max_count, gate.velocity_max_sum_minor),
            (risk.velocity_max_count, risk.velocity_max_sum_minor)
        );
        assert_eq!(l.compliance_gate().kyc_required_above_minor, kyc.kyc_required_above_minor);
        assert_eq!((l.fees().fixed_minor, l.fees().bps), (fees.fixed_minor, fees.bps));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let l = Limits {
            review_above_minor: 50,
            reject_above_minor: 10,
            settlement_fee_bps: 10_001,
            velocity_max_count: 0,
            ..Limits::default()
        };
        let problems = l.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("settlement_fee_bps")));
        assert!(problems.iter().any(|p| p.starts_with("velocity_max_count")));
        assert!(problems.iter().any(|p| p.contains("above reject_above_minor")));
    }
}
