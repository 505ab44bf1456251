//! Credit scoring: a points scorecard over the applicant's whole record.
//!
//! - [`applicant`]: the request fields, their types and ranges, impossible combinations
//!   refused, and the characteristics derived from them (ratios of burden to means). Age is
//!   taken only for eligibility and plausibility; protected attributes are refused.
//! - [`card`]: the published scorecard (characteristics, bins, points, grades) and scoring:
//!   base points plus each characteristic's points, scaled so 600 points are bad-odds 1:19 and
//!   50 points double the odds; adverse-action reasons against the reference applicant (every
//!   characteristic at its most points), only where points were lost.
//! - [`fit`]: monotone binning, weight of evidence, the logistic fit, policy bins, folds.
//! - [`design`]: which characteristics each part fits, their directions and reasons.
//!
//! A missing or `"unknown"` value scores its characteristic's missing points, never more than
//! the worst bin's: leaving data out cannot raise a score.

pub mod applicant;
pub mod card;
pub mod design;
pub mod fit;
#[cfg(test)]
mod tests;

pub use applicant::{Applicant, Invalid};
pub use card::{Input, Scorecard, Scored};

/// The scorecard compiled into the binary (`rialto model train-credit` writes it).
pub fn served() -> &'static Scorecard {
    static CARD: std::sync::OnceLock<Scorecard> = std::sync::OnceLock::new();
    CARD.get_or_init(|| {
        Scorecard::from_json(include_str!("../../models/credit_scorecard.json")).unwrap_or_else(|e| Scorecard {
            scaling: crate::ml::Scaling::default(),
            base_points: 0.0,
            characteristics: Vec::new(),
            grades: Vec::new(),
            metadata: serde_json::json!({"error": format!("the built-in scorecard did not parse: {e}")}),
        })
    })
}

/// A scorecard from its JSON text, checked ([`Scorecard::check`]).
pub fn load(text: &str) -> Result<Scorecard, String> {
    let card = Scorecard::from_json(text).map_err(|e| format!("not a scorecard: {e}"))?;
    card.check()?;
    Ok(card)
}

/// Validates a request and scores it on `card`.
pub fn score(
    card: &Scorecard,
    doc: &serde_json::Map<String, serde_json::Value>,
) -> Result<(Applicant, Scored), Invalid> {
    let a = Applicant::parse(doc)?;
    let scored = card.score(&a.inputs());
    Ok((a, scored))
}
