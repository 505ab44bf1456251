//! Rialto's compliance domain, pure: sanctions lists read from the publishers' own formats
//! ([`ofac`] legacy CSV, [`un`] consolidated XML) into one list model ([`list`]), names
//! normalised and transliterated ([`normalize`]), compared token by token with an explanation
//! ([`matching`]), screened through an index with secondary evidence ([`screen`]), and the
//! verdict the payment gate acts on ([`verdict`], [`CompliancePolicy`]).
//!
//! No I/O (parsers take bytes), no clock, no database: the store keeps list versions, entries,
//! screenings and clearances; the API and the worker hold a [`screen::Screener`] of the
//! versions in force.

pub mod aml;
pub mod cases;
pub mod countries;
pub mod evaluate;
pub mod kyc;
pub mod list;
pub mod matching;
pub mod normalize;
pub mod ofac;
pub mod reports;
pub mod screen;
pub mod un;

pub use list::{
    BirthDate, Changes, EntityKind, Entry, Identifier, ListedName, ParseError, ParsedList, Source, Strength,
};
pub use matching::{compare, NameScore, Prepared};
pub use normalize::{normalize, NameError, Normalized};
pub use rialto_payments::ScreeningStatus;
pub use screen::{Explanation, Match, Query, Screener, VersionInUse};

use rialto_payments::{ComplianceGate, Decision, KycComplianceGate, PaymentFacts};

/// The scores that decide: at or above `block`, a hit (payments refused,
/// `compliance_rejected`); at or above `review`, held for a reviewer. Chosen from the
/// evaluation in `docs/COMPLIANCE.md`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Held for review from this score.
    pub review: f64,
    /// Refused from this score.
    pub block: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { review: 0.86, block: 0.95 }
    }
}

impl Thresholds {
    /// Both in 0..=1, review not above block.
    pub fn check(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.review) || !(0.0..=1.0).contains(&self.block) || self.review > self.block {
            return Err(format!(
                "thresholds must satisfy 0 <= review ({}) <= block ({}) <= 1",
                self.review, self.block
            ));
        }
        Ok(())
    }
}

/// A (party, list entry) pair a reviewer cleared as a false positive, while the entry's
/// digest is the one cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clearance {
    /// The list.
    pub source: String,
    /// The entry.
    pub entry_id: String,
    /// The entry as cleared.
    pub entry_digest: String,
}

/// What screening a party concluded: the status, the matches that count (clearances
/// removed) and a reason in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Clear, review or hit.
    pub status: ScreeningStatus,
    /// The best score that counts (0 when none).
    pub score: f64,
    /// The matches at or above the review threshold that no clearance covers.
    pub matches: Vec<Match>,
    /// Matches a clearance covers.
    pub cleared: Vec<Match>,
    /// Why, in words.
    pub reason: String,
}

/// The verdict on `matches` under `thresholds`, clearances applied.
pub fn verdict(matches: Vec<Match>, thresholds: Thresholds, clearances: &[Clearance]) -> Verdict {
    let (cleared, matches): (Vec<Match>, Vec<Match>) =
        matches.into_iter().filter(|m| m.score >= thresholds.review).partition(|m| {
            clearances
                .iter()
                .any(|c| c.source == m.source && c.entry_id == m.entry_id && c.entry_digest == m.entry_digest)
        });
    let score = matches.first().map_or(0.0, |m| m.score);
    let status = if score >= thresholds.block {
        ScreeningStatus::Hit
    } else if !matches.is_empty() {
        ScreeningStatus::Review
    } else {
        ScreeningStatus::Clear
    };
    let reason = match matches.first() {
        None if cleared.is_empty() => "no list entry matched".to_string(),
        None => format!("{} match(es) cleared as false positives", cleared.len()),
        Some(m) => format!("{} {} `{}` scored {:.2}", m.source, m.entry_id, m.matched_name, m.score),
    };
    Verdict { status, score, matches, cleared, reason }
}

/// The compliance gate: the KYC gate's checks (the payer exists, is not blocked, is verified
/// above the KYC threshold), the limits of the payer's KYC level, then sanctions: a hit on the payer or a counterparty refuses the
/// payment (`compliance_rejected`), a possible match holds it for review.
#[derive(Debug, Clone, Default)]
pub struct CompliancePolicy {
    /// The KYC checks.
    pub kyc: KycComplianceGate,
    /// What each KYC level may pay (`kyc_limit_exceeded` past it).
    pub limits: kyc::KycLimits,
}

impl ComplianceGate for CompliancePolicy {
    fn check(&self, facts: &PaymentFacts) -> Decision {
        match self.kyc.check(facts) {
            Decision::Approve => {}
            other => return other,
        }
        if let Some(why) = facts.kyc.as_ref().and_then(|k| kyc::over_limit(&self.limits, k, facts.amount_minor)) {
            return Decision::Reject { code: "kyc_limit_exceeded", reason: why };
        }
        match &facts.screening {
            Some((ScreeningStatus::Hit, why)) => {
                Decision::Reject { code: "compliance_rejected", reason: format!("sanctions: {why}") }
            }
            Some((ScreeningStatus::Review, why)) => Decision::Review(format!("sanctions screening: {why}")),
            _ => match &facts.aml_hold {
                Some(why) => Decision::Review(why.clone()),
                None => Decision::Approve,
            },
        }
    }
}

#[cfg(test)]
mod tests;
