//! The ledger's records: what a user, an account, a transfer and a journal entry are beyond
//! their ledger state (owner, names, references, metadata, times).

use rialto_core::ledger::{Account, Direction, Transfer};
use rialto_core::{Currency, Metadata};

rialto_core::string_enum! {
    /// Whether a user may pay.
    pub enum UserStatus {
        /// May pay.
        Active = "active",
        /// Every payment is refused (`user_blocked`).
        Blocked = "blocked",
    }
}

rialto_core::string_enum! {
    /// Where a user's identity check stands.
    pub enum KycStatus {
        /// Not checked yet (a new user).
        Pending = "pending",
        /// Checked: may pay above the KYC threshold.
        Verified = "verified",
        /// Failed the check.
        Rejected = "rejected",
    }
}

/// A user (customer, merchant, staff).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// `user_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email, if given.
    pub email: Option<String>,
    /// Phone, if given.
    pub phone: Option<String>,
    /// `customer|merchant|admin|support`.
    pub role: String,
    /// `active|blocked`.
    pub status: UserStatus,
    /// `pending|verified|rejected`.
    pub kyc_status: KycStatus,
    /// Creation time, µs since epoch.
    pub created_at_us: i64,
    /// Last change, µs since epoch.
    pub updated_at_us: i64,
}

/// An account with its balances and descriptive fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// Ledger state (id, currency, status, running totals).
    pub account: Account,
    /// Owner, if any.
    pub user_id: Option<String>,
    /// Name, if given.
    pub name: Option<String>,
    /// Metadata.
    pub metadata: Metadata,
    /// Creation time, µs.
    pub created_at_us: i64,
    /// Last change, µs.
    pub updated_at_us: i64,
}

/// A transfer with its descriptive fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRecord {
    /// Ledger state.
    pub transfer: Transfer,
    /// Created as a pending (two-phase) transfer.
    pub pending: bool,
    /// Description, if given.
    pub description: Option<String>,
    /// Client reference, if given.
    pub reference: Option<String>,
    /// Metadata.
    pub metadata: Metadata,
    /// Creation time, µs.
    pub created_at_us: i64,
    /// Last change, µs.
    pub updated_at_us: i64,
}

/// One line of a journal entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalLine {
    /// Account.
    pub account_id: String,
    /// Debit or credit.
    pub direction: Direction,
    /// Amount in minor units.
    pub amount: i64,
    /// The account's currency.
    pub currency: Currency,
    /// The account's posted balance after this line.
    pub balance_after: i64,
}

/// A multi-line journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRecord {
    /// `je_…`
    pub id: String,
    /// Description, if given.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: Metadata,
    /// Lines in request order.
    pub lines: Vec<JournalLine>,
    /// Creation time, µs.
    pub created_at_us: i64,
}
