//! Know your customer: identity documents and their verification, the level they give a
//! user, and the limits each level allows (one payment, the day's and the month's sums, per
//! currency). Verification providers sit behind [`VerificationProvider`]; the first is
//! [`ManualReview`], a reviewer deciding through the API.

pub use rialto_payments::{KycFacts, KycLevel};

rialto_core::string_enum! {
    /// A document type.
    pub enum DocumentKind {
        /// A passport.
        Passport = "passport",
        /// A national identity card.
        NationalId = "national_id",
        /// A driving licence.
        DrivingLicence = "driving_licence",
        /// A residence permit.
        ResidencePermit = "residence_permit",
        /// A utility bill, bank statement or the like, naming the address.
        ProofOfAddress = "proof_of_address",
    }
}

impl DocumentKind {
    /// Whether it proves identity (the rest prove an address).
    pub fn is_identity(self) -> bool {
        self != DocumentKind::ProofOfAddress
    }
}

rialto_core::string_enum! {
    /// Where a document's verification stands.
    pub enum DocumentStatus {
        /// Waiting for a decision.
        Submitted = "submitted",
        /// Accepted.
        Verified = "verified",
        /// Refused, with a reason.
        Rejected = "rejected",
        /// Verified once, past its expiry date now.
        Expired = "expired",
    }
}

impl DocumentStatus {
    /// The decisions the workflow allows.
    pub fn can_become(self, to: DocumentStatus) -> bool {
        use DocumentStatus as S;
        matches!((self, to), (S::Submitted, S::Verified | S::Rejected) | (S::Verified, S::Expired))
    }
}

/// What the level is computed from: a document's type, status and expiry (days since
/// 1970-01-01, none when it does not expire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentFacts {
    /// Type.
    pub kind: DocumentKind,
    /// Status.
    pub status: DocumentStatus,
    /// Expiry day, if any.
    pub expires_on_day: Option<i64>,
}

/// The level a user's documents give on `today` (days since 1970-01-01): a document past its
/// expiry counts for nothing even before the expiry task marks it.
pub fn level(docs: &[DocumentFacts], today: i64) -> KycLevel {
    let valid =
        |d: &&DocumentFacts| d.status == DocumentStatus::Verified && d.expires_on_day.is_none_or(|e| e >= today);
    let identity = docs.iter().filter(valid).any(|d| d.kind.is_identity());
    let address = docs.iter().filter(valid).any(|d| !d.kind.is_identity());
    match (identity, address) {
        (true, true) => KycLevel::Full,
        (true, false) => KycLevel::Basic,
        _ => KycLevel::None,
    }
}

/// What one level allows, in minor units of the payment's currency (the same numbers for
/// every currency until FX brings per-currency tables). `None`: no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LevelLimits {
    /// Most one payment may be.
    pub single_max: Option<i64>,
    /// Most a user's payments in one currency may sum to over the last 24 hours.
    pub daily_max: Option<i64>,
    /// Most over the last 30 days.
    pub monthly_max: Option<i64>,
}

/// The limits of each level. The default limits nothing: a deployment sets its own
/// (`--kyc-limits`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KycLimits {
    /// Level `none`.
    pub none: LevelLimits,
    /// Level `basic`.
    pub basic: LevelLimits,
    /// Level `full`.
    pub full: LevelLimits,
}

impl KycLimits {
    /// The limits of a level.
    pub fn of(&self, level: KycLevel) -> LevelLimits {
        match level {
            KycLevel::None => self.none,
            KycLevel::Basic => self.basic,
            KycLevel::Full => self.full,
        }
    }

    /// Whether any limit is set (when none is, the batch need not count sums).
    pub fn any(&self) -> bool {
        *self != KycLimits::default()
    }

    /// Parses `LEVEL:SINGLE/DAILY/MONTHLY,...` (minor units; `-` for no limit), e.g.
    /// `none:50000/100000/300000,basic:500000/1000000/5000000`.
    pub fn parse(text: &str) -> Result<KycLimits, String> {
        let mut out = KycLimits::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (level, values) =
                part.split_once(':').ok_or_else(|| format!("`{part}`: expected LEVEL:SINGLE/DAILY/MONTHLY"))?;
            let level = KycLevel::parse(level.trim())
                .ok_or_else(|| format!("`{level}`: the levels are {}", KycLevel::names()))?;
            let numbers: Vec<Option<i64>> = values
                .split('/')
                .map(|v| match v.trim() {
                    "-" => Ok(None),
                    v => v
                        .parse::<i64>()
                        .ok()
                        .filter(|n| *n > 0)
                        .map(Some)
                        .ok_or_else(|| format!("`{v}` is not a positive amount in minor units or -")),
                })
                .collect::<Result<_, _>>()?;
            let [single_max, daily_max, monthly_max] = numbers[..] else {
                return Err(format!("`{part}`: expected three values SINGLE/DAILY/MONTHLY"));
            };
            let l = LevelLimits { single_max, daily_max, monthly_max };
            match level {
                KycLevel::None => out.none = l,
                KycLevel::Basic => out.basic = l,
                KycLevel::Full => out.full = l,
            }
        }
        Ok(out)
    }
}

/// Why the limits refuse a payment of `amount`, if they do.
pub fn over_limit(limits: &KycLimits, facts: &KycFacts, amount: i64) -> Option<String> {
    let l = limits.of(facts.level);
    let level = facts.level;
    if let Some(max) = l.single_max.filter(|m| amount > *m) {
        return Some(format!("{amount} is over the single-payment limit of {max} for KYC level {level}"));
    }
    let day = facts.day_sum.saturating_add(amount);
    if let Some(max) = l.daily_max.filter(|m| day > *m) {
        return Some(format!("{day} paid in 24 hours would pass the daily limit of {max} for KYC level {level}"));
    }
    let month = facts.month_sum.saturating_add(amount);
    if let Some(max) = l.monthly_max.filter(|m| month > *m) {
        return Some(format!("{month} paid in 30 days would pass the monthly limit of {max} for KYC level {level}"));
    }
    None
}

/// A document as a provider sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentCheck<'a> {
    /// Type.
    pub kind: DocumentKind,
    /// Issuing country, ISO 3166 alpha-2.
    pub country: &'a str,
    /// Expiry day, if any.
    pub expires_on_day: Option<i64>,
}

/// What a provider decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderVerdict {
    /// A person must decide (the document stays `submitted`).
    Pending,
    /// Verified.
    Verified,
    /// Rejected, saying why.
    Rejected(String),
}

/// A verification provider: a document comes in, a verdict (or a wait for one) goes out.
pub trait VerificationProvider: Send + Sync {
    /// The provider's name, recorded with each decision.
    fn name(&self) -> &'static str;
    /// Decides on a new document, or leaves it to a person.
    fn submit(&self, doc: &DocumentCheck<'_>, today: i64) -> ProviderVerdict;
}

/// The first provider: reviewers decide every document (`POST /v1/kyc/documents/{id}/verify`
/// or `/reject`); a document already past its expiry is rejected at once.
#[derive(Debug, Clone, Copy, Default)]
pub struct ManualReview;

impl VerificationProvider for ManualReview {
    fn name(&self) -> &'static str {
        "manual"
    }

    fn submit(&self, doc: &DocumentCheck<'_>, today: i64) -> ProviderVerdict {
        match doc.expires_on_day {
            Some(e) if e < today => ProviderVerdict::Rejected("the document has expired".into()),
            _ => ProviderVerdict::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(kind: DocumentKind, status: DocumentStatus, expires: Option<i64>) -> DocumentFacts {
        DocumentFacts { kind, status, expires_on_day: expires }
    }

    #[test]
    fn levels_from_documents() {
        use DocumentKind as K;
        use DocumentStatus as S;
        let today = 20_000;
        let cases = [
            (vec![], KycLevel::None),
            (vec![doc(K::Passport, S::Submitted, None)], KycLevel::None),
            (vec![doc(K::Passport, S::Verified, Some(today))], KycLevel::Basic),
            (vec![doc(K::Passport, S::Verified, Some(today - 1))], KycLevel::None),
            (vec![doc(K::ProofOfAddress, S::Verified, None)], KycLevel::None),
            (vec![doc(K::NationalId, S::Verified, None), doc(K::ProofOfAddress, S::Verified, None)], KycLevel::Full),
            (vec![doc(K::NationalId, S::Verified, None), doc(K::ProofOfAddress, S::Rejected, None)], KycLevel::Basic),
        ];
        for (docs, want) in cases {
            assert_eq!(level(&docs, today), want, "{docs:?}");
        }
    }

    #[test]
    fn the_workflow_allows_only_its_decisions() {
        use DocumentStatus as S;
        for from in S::ALL {
            for to in S::ALL {
                let allowed = matches!(
                    (from, to),
                    (S::Submitted, S::Verified) | (S::Submitted, S::Rejected) | (S::Verified, S::Expired)
                );
                assert_eq!(from.can_become(*to), allowed, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn limits_parse_and_refuse() {
        let l = KycLimits::parse("none:1000/2000/5000, basic:10000/-/-").unwrap_or_default();
        assert_eq!(l.none, LevelLimits { single_max: Some(1000), daily_max: Some(2000), monthly_max: Some(5000) });
        assert_eq!(l.basic.daily_max, None);
        assert!(KycLimits::parse("gold:1/2/3").is_err());
        assert!(KycLimits::parse("none:1/2").is_err());
        assert!(KycLimits::parse("none:0/2/3").is_err());
        let f = |day, month| KycFacts { level: KycLevel::None, day_sum: day, month_sum: month };
        assert_eq!(over_limit(&l, &f(0, 0), 1000), None);
        assert!(over_limit(&l, &f(0, 0), 1001).is_some_and(|r| r.contains("single")));
        assert!(over_limit(&l, &f(1500, 1500), 501).is_some_and(|r| r.contains("daily")));
        assert_eq!(over_limit(&l, &f(1500, 1500), 500), None);
        assert!(over_limit(&l, &f(0, 4500), 501).is_some_and(|r| r.contains("monthly")));
        assert_eq!(over_limit(&KycLimits::default(), &f(i64::MAX, i64::MAX), 1), None);
        assert_eq!(
            ManualReview
                .submit(&DocumentCheck { kind: DocumentKind::Passport, country: "DE", expires_on_day: Some(1) }, 2),
            ProviderVerdict::Rejected("the document has expired".into())
        );
    }
}
