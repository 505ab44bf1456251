//! Rialto's storage layer: one schema on SQLite (embedded default) and PostgreSQL, read
//! through sqlx's `Any` driver; the engine's SQL backend ([`SqlBackend`]), so that the
//! group-commit [`Writer`] (`rialto_engine::Writer<SqlBackend>`) applies commands in batches;
//! reads, lists and the ledger verification.
//!
//! Everything that changes the ledger goes through the [`Writer`]: it is the only place that
//! opens write transactions, so each batch's balances, entries, transfers and idempotency
//! records commit together or not at all.

mod cases;
mod data_migrations;
mod db;
mod keys;
mod kyc;
mod outbox;
mod read;
mod recon;
mod records;
mod sanctions;
mod sql;
mod tasks;
mod verify;
mod webhooks;
mod windows;
mod writer;

pub use cases::{AlertRecord, CaseFilter, CaseRecord, NoteRecord, ReportKind, ReportRecord};
pub use db::{now_us, Db, DbKind, StoreError};
pub use keys::{generate_api_key, hash_secret, ApiKey, Role};
pub use kyc::KycDocument;
pub use outbox::{AuditFilter, AuditRecord, AuditReport, EventRecord};
pub use read::{Cursor, Page, TransferFilter};
pub use recon::{LineRecord, MatchFilter, MatchRecord, NormalBalance, ReconAccount, RunRecord, StatementRecord};
pub use records::{
    context_from_json, context_json, context_value, AccountRecord, EntryRecord, JournalLine, JournalRecord,
    TransferRecord, UserRecord,
};
pub use sanctions::{ClearanceRecord, ImportOutcome, ListImport, ListVersion, ScreeningRecord};
pub use tasks::{TaskRun, TASK_RUNS_KEPT};
pub use verify::{Mismatch, VerifyReport};
pub use webhooks::{
    check_event_pattern, is_event_type, Delivery, WebhookChange, WebhookEndpoint, EVENT_TYPES, FAN_OUT_EVENTS_MAX,
};
pub use windows::Windows;
pub use writer::start_writer;
pub use writer::{
    fee, merchant_table, AuditContext, BacktestError, CaseChange, CaseCommand, Command, CommandError,
    ComplianceCommand, CreditScoreRecord, Example, FeeSchedule, Idempotency, LabelRecord, LedgerCommand, ModelChange,
    ModelRecord, ModelServer, ModelStatus, NewAccount, NewJournal, NewLabel, NewModel, NewPayment, NewRefund,
    NewTransfer, NewUser, Outcome, Output, PaymentFilter, PaymentRecord, Policies, Presenter, ReconCommand,
    RefundRecord, Renderer, Reply, ResolveTarget, ReviewFilter, RuleRecord, SettlementRecord, SqlBackend, Trained,
    Transition, Writer, WriterConfig, WriterStats, BACKTEST_PAYMENTS_MAX, LABELS, LABEL_SOURCES, SCORE_OUTCOMES,
    SETTLEMENT_CLEARINGS_MAX, SHARE_BP_MAX,
};
