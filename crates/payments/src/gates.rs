//! The lifecycle state machine and the gates a payment passes before money moves. No I/O:
//! the backend gathers the facts, the gates decide.

use rialto_core::Currency;
pub use rialto_ledger::{KycStatus, UserStatus};

rialto_core::string_enum! {
    /// Where a payment is in its life.
    pub enum PaymentStatus {
        /// Accepted, not yet checked.
        Pending = "pending",
        /// Passing the gates.
        Processing = "processing",
        /// Held (funds reserved) for a reviewer.
        RequiresReview = "requires_review",
        /// Money moved.
        Completed = "completed",
        /// Refused by a gate, by the ledger, or by a reviewer. No money moved.
        Failed = "failed",
        /// Withdrawn before completion. No money moved.
        Cancelled = "cancelled",
        /// Completed, then partly refunded.
        PartiallyRefunded = "partially_refunded",
        /// Completed, then refunded in full.
        Refunded = "refunded",
    }
}

impl PaymentStatus {
    /// The transitions the state machine allows.
    pub fn can_become(self, to: PaymentStatus) -> bool {
        use PaymentStatus as S;
        matches!(
            (self, to),
            (S::Pending, S::Processing | S::Cancelled)
                | (S::Processing, S::RequiresReview | S::Completed | S::Failed)
                | (S::RequiresReview, S::Completed | S::Failed | S::Cancelled)
                | (S::Completed | S::PartiallyRefunded, S::PartiallyRefunded | S::Refunded)
        )
    }
}

rialto_core::string_enum! {
    /// What a payment is for (its `type`).
    pub enum PaymentKind {
        /// Between two parties (the default).
        Transfer = "transfer",
        /// Money coming in.
        Deposit = "deposit",
        /// Money going out.
        Withdrawal = "withdrawal",
        /// A charge.
        Fee = "fee",
    }
}

rialto_core::string_enum! {
    /// How a payment is paid.
    pub enum PaymentMethod {
        /// A card.
        Card = "card",
        /// A bank transfer.
        Bank = "bank",
        /// A wallet balance (the default).
        Wallet = "wallet",
        /// Cash.
        Cash = "cash",
    }
}

rialto_core::string_enum! {
    /// What sanctions screening concluded of a party.
    pub enum ScreeningStatus {
        /// No list entry matched (or every match was cleared).
        Clear = "clear",
        /// A possible match: payments are held for a reviewer.
        Review = "review",
        /// A match at or above the block threshold: payments are refused.
        Hit = "hit",
    }
}

rialto_core::string_enum! {
    /// What a user's verified documents allow.
    pub enum KycLevel {
        /// No verified identity document.
        None = "none",
        /// A verified, unexpired identity document.
        Basic = "basic",
        /// Basic, and a verified proof of address.
        Full = "full",
    }
}

/// What the gate knows of a payer's KYC: the level, and what the payer paid in the payment's
/// currency over the last day and 30 days before this payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KycFacts {
    /// The level now.
    pub level: KycLevel,
    /// Paid over the last 24 hours, minor units.
    pub day_sum: i64,
    /// Paid over the last 30 days, minor units.
    pub month_sum: i64,
}

/// What the gates know about a payment when they decide.
#[derive(Debug, Clone)]
pub struct PaymentFacts {
    /// Amount, minor units.
    pub amount_minor: i64,
    /// Currency.
    pub currency: Currency,
    /// The paying user: (status, kyc_status), if the user exists.
    pub user: Option<(UserStatus, KycStatus)>,
    /// The user's payments in the velocity window before this one: count and sum (minor units).
    pub recent_count: i64,
    /// Sum of those payments, minor units.
    pub recent_sum_minor: i64,
    /// The worst sanctions finding on the payer (as last screened) or a counterparty the
    /// payment names (screened as it came in), with the reason; none when never screened.
    pub screening: Option<(ScreeningStatus, String)>,
    /// The payer's KYC level and what the payer paid in this currency lately, when the
    /// compliance gate has limits to check.
    pub kyc: Option<KycFacts>,
    /// Why an open compliance case holds the payer's payments, if one does.
    pub aml_hold: Option<String>,
}

/// A gate's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Go on.
    Approve,
    /// Hold the funds for a reviewer, saying why.
    Review(String),
    /// Refuse: a stable code and a reason. No money moves.
    Reject {
        /// Stable failure code, e.g. `amount_over_limit`.
        code: &'static str,
        /// Human-readable reason.
        reason: String,
    },
}

/// The risk gate. The risk engine replaces the first implementation, [`LimitsRiskGate`].
pub trait RiskGate: Send + Sync {
    /// Decides on a payment.
    fn assess(&self, facts: &PaymentFacts) -> Decision;
}

/// The compliance gate. Sanctions screening and AML replace [`KycComplianceGate`].
pub trait ComplianceGate: Send + Sync {
    /// Decides on a payment.
    fn check(&self, facts: &PaymentFacts) -> Decision;
}

/// Amount and per-user velocity limits. Amounts are compared in minor units whatever the
/// currency (a per-currency table comes with FX).
#[derive(Debug, Clone)]
pub struct LimitsRiskGate {
    /// Above this amount: reject.
    pub reject_above_minor: i64,
    /// Above this amount: review.
    pub review_above_minor: i64,
    /// Velocity window, seconds.
    pub velocity_window_secs: i64,
    /// More payments than this in the window: review.
    pub velocity_max_count: i64,
    /// More than this sum in the window (this payment included): review.
    pub velocity_max_sum_minor: i64,
}

impl Default for LimitsRiskGate {
    fn default() -> Self {
        LimitsRiskGate {
            reject_above_minor: 10_000_000,
            review_above_minor: 1_000_000,
            velocity_window_secs: 3600,
            velocity_max_count: 20,
            velocity_max_sum_minor: 5_000_000,
        }
    }
}

impl RiskGate for LimitsRiskGate {
    fn assess(&self, f: &PaymentFacts) -> Decision {
        if f.amount_minor > self.reject_above_minor {
            return Decision::Reject {
                code: "amount_over_limit",
                reason: format!("amount {} is over the limit of {}", f.amount_minor, self.reject_above_minor),
            };
        }
        if f.recent_count >= self.velocity_max_count {
            return Decision::Review(format!(
                "{} payments by this user in the last {} s (limit {})",
                f.recent_count, self.velocity_window_secs, self.velocity_max_count
            ));
        }
        let sum = f.recent_sum_minor.saturating_add(f.amount_minor);
        if sum > self.velocity_max_sum_minor {
            return Decision::Review(format!(
                "{sum} paid by this user in the last {} s (limit {})",
                self.velocity_window_secs, self.velocity_max_sum_minor
            ));
        }
        if f.amount_minor > self.review_above_minor {
            return Decision::Review(format!(
                "amount {} is over the review threshold {}",
                f.amount_minor, self.review_above_minor
            ));
        }
        Decision::Approve
    }
}

/// The user must exist and not be blocked; above a threshold, the user's KYC must be verified.
#[derive(Debug, Clone)]
pub struct KycComplianceGate {
    /// Above this amount (minor units), `kyc_status` must be `verified`.
    pub kyc_required_above_minor: i64,
}

impl Default for KycComplianceGate {
    fn default() -> Self {
        KycComplianceGate { kyc_required_above_minor: 100_000 }
    }
}

impl ComplianceGate for KycComplianceGate {
    fn check(&self, f: &PaymentFacts) -> Decision {
        let Some((status, kyc)) = &f.user else {
            return Decision::Reject { code: "user_not_found", reason: "the paying user does not exist".into() };
        };
        if *status != UserStatus::Active {
            return Decision::Reject { code: "user_blocked", reason: format!("the paying user is {status}") };
        }
        if f.amount_minor > self.kyc_required_above_minor && *kyc != KycStatus::Verified {
            return Decision::Reject {
                code: "kyc_required",
                reason: format!("payments over {} need a verified user; KYC is {kyc}", self.kyc_required_above_minor),
            };
        }
        Decision::Approve
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PaymentStatus as S;

    #[test]
    fn state_machine() {
        let allowed = [
            (S::Pending, S::Processing),
            (S::Pending, S::Cancelled),
            (S::Processing, S::Completed),
            (S::Processing, S::Failed),
            (S::Processing, S::RequiresReview),
            (S::RequiresReview, S::Completed),
            (S::RequiresReview, S::Failed),
            (S::RequiresReview, S::Cancelled),
            (S::Completed, S::PartiallyRefunded),
            (S::Completed, S::Refunded),
            (S::PartiallyRefunded, S::PartiallyRefunded),
            (S::PartiallyRefunded, S::Refunded),
        ];
        let all = [
            S::Pending,
            S::Processing,
            S::RequiresReview,
            S::Completed,
            S::Failed,
            S::Cancelled,
            S::PartiallyRefunded,
            S::Refunded,
        ];
        for from in all {
            assert_eq!(S::parse(from.as_str()), Some(from));
            for to in all {
                assert_eq!(from.can_become(to), allowed.contains(&(from, to)), "{from:?} -> {to:?}");
            }
        }
    }

    fn facts(amount: i64, user: Option<(&str, &str)>, count: i64, sum: i64) -> PaymentFacts {
        PaymentFacts {
            amount_minor: amount,
            currency: Currency::parse("USD").unwrap_or_else(|_| unreachable!()),
            user: user.map(|(s, k)| {
                (
                    UserStatus::parse(s).unwrap_or_else(|| unreachable!()),
                    KycStatus::parse(k).unwrap_or_else(|| unreachable!()),
                )
            }),
            recent_count: count,
            recent_sum_minor: sum,
            screening: None,
            kyc: None,
            aml_hold: None,
        }
    }

    #[test]
    fn gates() {
        let risk = LimitsRiskGate::default();
        let kyc = KycComplianceGate::default();
        let ok = Some(("active", "verified"));
        assert_eq!(risk.assess(&facts(100, ok, 0, 0)), Decision::Approve);
        assert!(matches!(
            risk.assess(&facts(20_000_000, ok, 0, 0)),
            Decision::Reject { code: "amount_over_limit", .. }
        ));
        assert!(matches!(risk.assess(&facts(2_000_000, ok, 0, 0)), Decision::Review(_)));
        assert!(matches!(risk.assess(&facts(100, ok, 20, 0)), Decision::Review(_)));
        assert!(matches!(risk.assess(&facts(100, ok, 1, 4_999_950)), Decision::Review(_)));
        assert_eq!(kyc.check(&facts(100_000, Some(("active", "pending")), 0, 0)), Decision::Approve);
        assert!(matches!(
            kyc.check(&facts(100_001, Some(("active", "pending")), 0, 0)),
            Decision::Reject { code: "kyc_required", .. }
        ));
        assert!(matches!(
            kyc.check(&facts(1, Some(("blocked", "verified")), 0, 0)),
            Decision::Reject { code: "user_blocked", .. }
        ));
        assert!(matches!(kyc.check(&facts(1, None, 0, 0)), Decision::Reject { code: "user_not_found", .. }));
    }
}
