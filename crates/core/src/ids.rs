//! Typed identifiers: a type prefix and a UUIDv7 (time-ordered), e.g. `acct_0192…`.
//!
//! Every kind of id is declared once, in the table at the bottom of this file, with its prefix
//! and the noun errors use; `define_ids!` makes a `Copy` type of each (16 bytes, the UUID),
//! displayed and stored as `<prefix>_<32 lowercase hex digits>`, so no stored data changes.
//! A test checks that no two kinds share a prefix.

use std::fmt;

/// What every id type offers; generic code (path parsing, cursors) works through it.
pub trait Id: Copy + Eq + Ord + fmt::Display + fmt::Debug {
    /// The prefix before `_`.
    const PREFIX: &'static str;
    /// What the id names, for error messages ("account", "journal entry").
    const NOUN: &'static str;
    /// A new id: UUIDv7 sorts by creation time, so ids double as stable cursors.
    fn generate() -> Self;
    /// The id in `text`, when it has this kind's prefix and shape.
    fn parse(text: &str) -> Option<Self>;
}

/// True when `id` has the shape `<prefix>_<32 lowercase hex digits>`. Used to answer a
/// malformed id with 404 without touching the database and to refuse junk cursors.
pub fn looks_like(id: &str, prefix: &str) -> bool {
    id.len() == prefix.len() + 33
        && id.starts_with(prefix)
        && id.as_bytes()[prefix.len()] == b'_'
        && id[prefix.len() + 1..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

fn parse_with(text: &str, prefix: &str) -> Option<uuid::Uuid> {
    if !looks_like(text, prefix) {
        return None;
    }
    uuid::Uuid::try_parse(&text[prefix.len() + 1..]).ok()
}

macro_rules! define_ids {
    ($( $(#[$meta:meta])* $name:ident = $prefix:literal, $noun:literal; )*) => {
        $(
            $(#[$meta])*
            #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
            pub struct $name(uuid::Uuid);

            impl Id for $name {
                const PREFIX: &'static str = $prefix;
                const NOUN: &'static str = $noun;
                fn generate() -> Self {
                    $name(uuid::Uuid::now_v7())
                }
                fn parse(text: &str) -> Option<Self> {
                    parse_with(text, $prefix).map($name)
                }
            }

            impl $name {
                /// A new id (UUIDv7, time-ordered).
                pub fn new() -> Self {
                    <Self as Id>::generate()
                }
            }

            impl Default for $name {
                fn default() -> Self {
                    Self::new()
                }
            }

            impl fmt::Display for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    write!(f, "{}_{}", $prefix, self.0.simple())
                }
            }

            impl fmt::Debug for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    fmt::Display::fmt(self, f)
                }
            }
        )*

        /// Every kind of id: (prefix, type name).
        pub const PREFIXES: &[(&str, &str)] = &[$(($prefix, stringify!($name))),*];
    };
}

define_ids! {
    /// A user (payer or customer).
    UserId = "user", "user";
    /// A ledger account.
    AccountId = "acct", "account";
    /// A transfer (posted, pending, voided, reversed).
    TransferId = "tr", "transfer";
    /// A multi-leg journal entry.
    JournalId = "je", "journal entry";
    /// An API key.
    ApiKeyId = "key", "API key";
    /// A payment.
    PaymentId = "pay", "payment";
    /// A refund of a payment.
    RefundId = "re", "refund";
    /// A fraud label on a payment.
    LabelId = "lbl", "label";
    /// A risk assessment of a payment.
    AssessmentId = "ra", "risk assessment";
    /// A clearing record of a completed payment.
    ClearingId = "clr", "clearing";
    /// A settlement run's result for one merchant and currency.
    SettlementId = "stl", "settlement";
    /// An event in the outbox.
    EventId = "evt", "event";
    /// An audit record.
    AuditId = "aud", "audit record";
    /// A webhook endpoint.
    WebhookEndpointId = "we", "webhook endpoint";
    /// A webhook delivery.
    WebhookDeliveryId = "whd", "webhook delivery";
    /// A scheduled task's run.
    TaskRunId = "run", "task run";
    /// A fraud model in the registry.
    ModelId = "mdl", "model";
    /// A stored credit score.
    CreditScoreId = "cs", "credit score";
    /// A sanctions list version (an import that changed a list).
    SanctionsListId = "slv", "sanctions list version";
    /// A reviewer's false-positive clearance of a sanctions match.
    SanctionsClearanceId = "scl", "sanctions clearance";
    /// A KYC document.
    KycDocumentId = "kyd", "KYC document";
    /// A compliance case.
    CaseId = "cas", "compliance case";
    /// An AML or sanctions alert on a case.
    AlertId = "alr", "compliance alert";
    /// A line of a case's history.
    CaseNoteId = "cnt", "case note";
    /// A regulatory report (CTR, SAR).
    ReportId = "rpt", "compliance report";
    /// An imported bank statement.
    StatementId = "rst", "statement";
    /// A line of an imported bank statement.
    StatementLineId = "rsl", "statement line";
    /// A reconciliation match (lines paired with ledger entries).
    ReconMatchId = "rcm", "reconciliation match";
    /// A reconciliation run.
    ReconRunId = "rcr", "reconciliation run";
}

/// A new id of kind `I`, as the text that is stored (while records still hold ids as text).
pub fn new_id<I: Id>() -> String {
    I::generate().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_unique_and_unambiguous() {
        let mut seen = std::collections::BTreeSet::new();
        for (prefix, name) in PREFIXES {
            assert!(seen.insert(*prefix), "{prefix} used twice ({name})");
            assert!(!prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_lowercase()), "{prefix}");
        }
    }

    #[test]
    fn shape_and_round_trip() {
        let id = AccountId::new();
        let text = id.to_string();
        assert!(looks_like(&text, AccountId::PREFIX), "{text}");
        assert_eq!(AccountId::parse(&text), Some(id));
        assert_eq!(TransferId::parse(&text), None, "another kind's prefix");
        assert_eq!(AccountId::parse("acct_xyz"), None);
        assert_eq!(AccountId::parse(&text.to_uppercase().replacen("ACCT", "acct", 1)), None, "uppercase hex");
        assert_eq!(format!("{id:?}"), text);
    }

    #[test]
    fn ids_sort_by_creation_time() {
        let first = new_id::<TransferId>();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(first < new_id::<TransferId>());
    }
}
