//! Rialto's batch engine: what every write goes through, whatever the domain and the database.
//!
//! - [`Writer`]: the group-commit loop (batching, retries, splitting a batch around a command
//!   the database refuses, the commit-outcome-unknown path) and the idempotency protocol
//!   (stored answers replayed, reused keys refused, a key repeated inside one batch answered
//!   from its first run), on its own thread ([`batch`]).
//! - [`Backend`]: the seam a storage driver implements: begin, stored answers, load in
//!   [`LOCK_ORDER`], apply, describe, persist, store answers, append the outbox, commit.
//! - the outbox and audit protocol ([`outbox`]): each command's events and audit record, built
//!   from what the backend describes and who asked, appended in the effect's transaction.
//!
//! It knows no domain, no SQL and no HTTP: no sqlx, rusqlite, axum or serde_json (the
//! architecture test checks it).

pub mod backend;
pub mod batch;
pub mod outbox;

#[cfg(test)]
mod tests;

pub use backend::{Abort, AnswerRow, Backend, StoredAnswer, Unavailable};
pub use batch::{Idempotency, Renderer, Reply, Writer, WriterConfig, WriterStats};
pub use outbox::{AuditContext, AuditEntry, Described, Event, NewAudit, NewEvent};

/// What a batch locks, in the order it locks it. Every batch takes a subsequence of this list,
/// so writers in several processes wait for each other instead of deadlocking. Rows inside a
/// table are locked in id order. On PostgreSQL: `FOR UPDATE` rows, transaction-level advisory
/// locks (`velocity`) and session-level advisory locks (`risk_windows`, released after the
/// commit and the window store's record). SQLite has one writer and locks the database.
pub const LOCK_ORDER: &[&str] = &[
    // A settlement run's pending clearings, before their payments.
    "settlement_clearings",
    "payments",
    // Named by the payments.
    "transfers",
    // Named by the transfers and payments.
    "accounts",
    // Users being updated.
    "users",
    // Each payer's velocity lock, before its velocity is counted.
    "velocity",
    "risk_rules",
    "risk_models",
    // Shared risk windows (Redis), per key, before they are read.
    "risk_windows",
    // Webhook endpoints being changed.
    "webhook_endpoints",
    // KYC documents being decided.
    "kyc_documents",
    // Sanctions lists being imported (PostgreSQL: an advisory lock per source).
    "sanctions_lists",
    // Compliance cases named or open for a user getting an alert (PostgreSQL: an advisory
    // lock per such user first).
    "compliance_cases",
    // Mirror accounts being reconciled (their settings rows).
    "recon_accounts",
    // The outbox and audit chain head, last: it serialises every batch's append.
    "ledger_heads",
];

/// Checks that one batch takes its locks in [`LOCK_ORDER`]: a backend calls [`take`] before
/// each locking step. Out of order is a bug in the backend: debug builds (every test) panic,
/// release builds log it and go on (the database's deadlock detector still protects them).
///
/// [`take`]: LockOrder::take
#[derive(Debug, Default)]
pub struct LockOrder {
    last: usize,
}

impl LockOrder {
    /// Records that the batch now locks `what`.
    ///
    /// # Panics
    /// In debug builds, when `what` is not in [`LOCK_ORDER`] or comes before something already
    /// locked.
    pub fn take(&mut self, what: &str) {
        match LOCK_ORDER.iter().position(|t| *t == what) {
            Some(at) if at >= self.last => self.last = at,
            found => {
                let why = match found {
                    Some(_) => format!("`{what}` locked after `{}`", LOCK_ORDER[self.last]),
                    None => format!("`{what}` is not in LOCK_ORDER"),
                };
                if cfg!(debug_assertions) {
                    panic!("{why}, against LOCK_ORDER {LOCK_ORDER:?}");
                }
                tracing::error!(order = ?LOCK_ORDER, "{why}");
            }
        }
    }
}
