//! The SQL backend of the batch engine (`rialto_engine`): the store's commands, the batch
//! state they apply to, and how a batch is loaded (and on PostgreSQL locked, in
//! `rialto_engine::LOCK_ORDER`) and written on SQLite and PostgreSQL.
//!
//! The group-commit loop, the idempotency protocol and the outbox protocol are the engine's;
//! this module implements [`rialto_engine::Backend`] for one database connection ([`SqlBackend`]).
//! Writes use multi-row statements, so a hot account costs one row update per batch, not one
//! per transfer.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use rialto_core::ledger::LedgerError;
use rialto_engine::{AnswerRow, AuditEntry, Described, Event, LockOrder, StoredAnswer};
use rialto_payments::{Command as PaymentCommand, PaymentStatus};

mod assess;
mod backtest;
mod cases;
mod compliance;
mod labels;
mod ledger;
mod models;
mod payments;
mod recon;
mod rules;
mod settlement;
mod training;

pub use backtest::{BacktestError, BACKTEST_PAYMENTS_MAX};
pub use cases::{CaseChange, CaseCommand};
pub use compliance::Command as ComplianceCommand;
pub use labels::{LabelRecord, NewLabel, ReviewFilter, LABELS, LABEL_SOURCES};
pub use models::{
    merchant_table, ModelChange, ModelRecord, ModelServer, ModelStatus, NewModel, Trained, SCORE_OUTCOMES, SHARE_BP_MAX,
};
pub use payments::{NewPayment, NewRefund, PaymentFilter, PaymentRecord, Policies, RefundRecord, Transition};
pub use recon::{ReconCommand, ResolveTarget};
pub use rialto_payments::{fee, FeeSchedule};
pub use rules::RuleRecord;
pub use settlement::{SettlementRecord, SETTLEMENT_CLEARINGS_MAX};
pub use training::Example;

use crate::db::{now_us, Db, DbKind, StoreError};
use crate::keys::ApiKey;
use crate::outbox::{self, NewAudit, NewEvent};
use crate::records::{
    account_from_row, metadata_text, transfer_from_row, AccountRecord, JournalRecord, Metadata, TransferRecord,
    UserRecord, ACCOUNT_COLUMNS, TRANSFER_COLUMNS,
};
use crate::sql::{exec_values, placeholders, Conn, Get, Row, Val};
pub use rialto_engine::{AuditContext, WriterConfig, WriterStats};

pub use rialto_ledger::{Command as LedgerCommand, NewAccount, NewJournal, NewTransfer, NewUser};

/// A state change the writer applies.
#[derive(Debug, Clone)]
pub enum Command {
    /// A ledger command (`rialto_ledger::Command`: users, accounts, transfers, journal entries).
    Ledger(rialto_ledger::Command),
    /// Store an API key (its hash) and audit it.
    CreateApiKey {
        /// The key's stored part.
        key: ApiKey,
        /// SHA-256 of the secret, hex.
        key_hash: String,
    },
    /// Revoke an API key.
    RevokeApiKey {
        /// The key id.
        id: String,
    },
    /// A payments-domain command (`rialto_payments::Command`).
    Payments(rialto_payments::Command),
    /// Register a webhook endpoint.
    CreateWebhookEndpoint(Box<crate::WebhookEndpoint>),
    /// Change, rotate the secret of, or delete a webhook endpoint.
    ChangeWebhookEndpoint {
        /// The endpoint.
        id: String,
        /// What changes.
        change: crate::WebhookChange,
    },
    /// A risk administration command (`rialto_risk::admin::Command`: rules and lists).
    Risk(rialto_risk::admin::Command),
    /// Change the fraud model registry.
    Model(ModelChange),
    /// Keep a credit score as it was answered.
    RecordCreditScore(Box<CreditScoreRecord>),
    /// A compliance command (`compliance::Command`: list imports, screenings, clearances).
    Compliance(ComplianceCommand),
    /// A command about a user (create, update) with the user's screening, recorded with it in
    /// one transaction.
    Screened(Box<Command>, Box<crate::sanctions::ScreeningRecord>),
    /// A reconciliation command (settings, statement imports, runs, a person's match,
    /// unmatch and resolve).
    Recon(ReconCommand),
    /// Record a security event (no other effect): an authentication failure, a refused role.
    Audit {
        /// e.g. `auth.failure`.
        action: String,
        /// JSON details.
        details: String,
    },
}

impl From<rialto_ledger::Command> for Command {
    fn from(c: rialto_ledger::Command) -> Self {
        Command::Ledger(c)
    }
}

impl From<rialto_ledger::Error> for CommandError {
    fn from(e: rialto_ledger::Error) -> Self {
        match e {
            rialto_ledger::Error::Ledger(l) => CommandError::Ledger(l),
            rialto_ledger::Error::UserNotFound(id) => CommandError::UserNotFound(id),
        }
    }
}

impl From<rialto_ledger::Output> for Output {
    fn from(o: rialto_ledger::Output) -> Self {
        match o {
            rialto_ledger::Output::User(u) => Output::User(u),
            rialto_ledger::Output::Account(a) => Output::Account(a),
            rialto_ledger::Output::Transfer(t) => Output::Transfer(t),
            rialto_ledger::Output::Journal(j) => Output::Journal(j),
        }
    }
}

/// A credit score as answered.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditScoreRecord {
    /// `cs_…`.
    pub id: String,
    /// The applicant's features, JSON.
    pub applicant: String,
    /// The answer, JSON (score, grade, reason codes, model).
    pub answer: String,
    /// Score.
    pub score: i64,
    /// Grade.
    pub grade: String,
    /// The key that asked.
    pub created_by: String,
    /// Set by the writer, µs.
    pub created_at_us: i64,
}

impl Db {
    /// A kept credit score.
    pub async fn credit_score(&self, id: &str) -> Result<Option<CreditScoreRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM credit_scores WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(CreditScoreRecord {
            id: r.col("id")?,
            applicant: r.col("applicant")?,
            answer: r.col("answer")?,
            score: r.col("score")?,
            grade: r.col("grade")?,
            created_by: r.col("created_by")?,
            created_at_us: r.col("created_at")?,
        }))
    }
}

/// Renders a command's output as the event payload (the API's JSON of the resource).
pub type Presenter = Arc<dyn Fn(&Output) -> String + Send + Sync>;

/// What a successful command produced.
#[derive(Debug, Clone)]
pub enum Output {
    /// A user.
    User(UserRecord),
    /// An account, after the change.
    Account(AccountRecord),
    /// A transfer, after the change (for a reversal: the new reversal transfer).
    Transfer(TransferRecord),
    /// A journal entry.
    Journal(JournalRecord),
    /// An API key (created or revoked).
    ApiKey(ApiKey),
    /// A payment, after the change.
    Payment(Box<PaymentRecord>),
    /// A refund and its payment after it.
    Refund(Box<(RefundRecord, PaymentRecord)>),
    /// The settlement batches of a run.
    Settlements(Vec<SettlementRecord>),
    /// A webhook endpoint (with its secret).
    WebhookEndpoint(Box<crate::WebhookEndpoint>),
    /// A risk rule after the change.
    Rule(RuleRecord),
    /// A list item after the change: (list, value, on the list now).
    ListItem(String, String, bool),
    /// A payment label.
    Label(LabelRecord),
    /// A registered model after the change.
    Model(Box<ModelRecord>),
    /// A kept credit score.
    CreditScore(Box<CreditScoreRecord>),
    /// A list import: the version in force after it.
    ListImport(Box<crate::sanctions::ImportOutcome>),
    /// A user's screening.
    Screening(Box<crate::sanctions::ScreeningRecord>),
    /// A KYC document after the change.
    KycDocument(Box<crate::kyc::KycDocument>),
    /// A clearance and the screening after it.
    Clearance(Box<(crate::sanctions::ClearanceRecord, crate::sanctions::ScreeningRecord)>),
    /// The alerts a monitor run raised.
    Alerts(Vec<crate::cases::AlertRecord>),
    /// A compliance case after the change.
    Case(Box<crate::cases::CaseRecord>),
    /// A report made.
    Report(Box<crate::cases::ReportRecord>),
    /// Reports filed (CTRs).
    Reports(Vec<crate::cases::ReportRecord>),
    /// A mirror account's reconciliation settings.
    ReconAccount(Box<crate::recon::ReconAccount>),
    /// The statements of an imported file (each new, or found imported already).
    ReconStatements(Vec<crate::recon::StatementRecord>),
    /// A reconciliation run.
    ReconRun(Box<crate::recon::RunRecord>),
    /// A reconciliation match after the change.
    ReconMatch(Box<crate::recon::MatchRecord>),
    /// An audit record was written.
    Recorded,
}

/// Why a command failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CommandError {
    /// The ledger refused it.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The referenced user does not exist.
    #[error("no user `{0}`")]
    UserNotFound(String),
    /// No such active API key.
    #[error("no active API key `{0}`")]
    ApiKeyNotFound(String),
    /// No such payment.
    #[error("no payment `{0}`")]
    PaymentNotFound(String),
    /// No such risk rule.
    #[error("no risk rule `{0}`")]
    RuleNotFound(String),
    /// A risk rule with this id exists.
    #[error("a risk rule `{0}` exists; replace it with PUT")]
    RuleExists(String),
    /// No such model.
    #[error("no model `{0}`")]
    ModelNotFound(String),
    /// No such KYC document.
    #[error("no KYC document `{0}`")]
    KycDocumentNotFound(String),
    /// No such compliance case.
    #[error("no compliance case `{0}`")]
    CaseNotFound(String),
    /// The case's workflow does not allow it.
    #[error("{0}")]
    CaseState(String),
    /// No such reconciled account, statement line, entry or match.
    #[error("{0}")]
    ReconNotFound(String),
    /// The match's state does not allow it.
    #[error("{0}")]
    ReconState(String),
    /// The statement or settings do not fit the account.
    #[error("{0}")]
    ReconInvalid(String),
    /// A statement with this identity and other content was imported.
    #[error("{0}")]
    ReconConflict(String),
    /// No such webhook endpoint (or it was deleted).
    #[error("no webhook endpoint `{0}`")]
    WebhookEndpointNotFound(String),
    /// The registry does not allow the change.
    #[error("{0}")]
    ModelState(String),
    /// The payment's state machine does not allow it.
    #[error("a {from} payment cannot become {to}")]
    InvalidStateTransition {
        /// Current status.
        from: &'static str,
        /// Refused status.
        to: &'static str,
    },
    /// A refund larger than what remains.
    #[error("cannot refund {requested}; only {remaining} remains")]
    RefundExceedsPayment {
        /// Asked.
        requested: i64,
        /// Left to refund.
        remaining: i64,
    },
    /// A list import would shrink the list to less than half (a truncated file?).
    #[error("the new list has {after} entries, less than half the {before} in force; import it with allow_shrink if that is right")]
    ListShrank {
        /// Entries in force.
        before: usize,
        /// Entries in the new list.
        after: usize,
    },
    /// The database failed; the command was not applied (or, if `unknown`, the commit's
    /// outcome is unknown and the client should retry with its idempotency key).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

/// A command's result.
pub type Outcome = Result<Output, CommandError>;

/// Renders the HTTP answer to store with an idempotency record (see [`rialto_engine::Renderer`]).
pub type Renderer = rialto_engine::Renderer<Output, CommandError>;

/// The idempotency part of a request.
pub type Idempotency = rialto_engine::Idempotency<Output, CommandError>;

/// The writer's answer to one request.
pub type Reply = rialto_engine::Reply<Output, CommandError>;

/// Handle to the writer (the engine's group-commit loop over a [`SqlBackend`]). Cheap to clone.
pub type Writer = rialto_engine::Writer<SqlBackend>;

impl From<rialto_engine::Unavailable> for CommandError {
    fn from(u: rialto_engine::Unavailable) -> Self {
        CommandError::Unavailable(u.0)
    }
}

/// Starts the writer on `db`: its own thread, its own connection.
pub async fn start_writer(
    db: &Db,
    config: WriterConfig,
    presenter: Presenter,
    policies: Arc<Policies>,
) -> Result<Writer, StoreError> {
    let db = db.clone();
    Writer::start(config, move || async move {
        let conn = db.writer_connection().await?;
        Ok(SqlBackend {
            db,
            conn: Some(conn),
            presenter,
            policies,
            window_locks: false,
            window_entries: Vec::new(),
            locks: LockOrder::default(),
        })
    })
    .await
}

/// Why a batch attempt stopped.
enum Abort {
    /// Another process committed one of our idempotency keys meanwhile: retry the batch.
    KeyRace,
    /// A database error.
    Db(StoreError),
}

impl From<sqlx::Error> for Abort {
    fn from(e: sqlx::Error) -> Self {
        Abort::Db(StoreError::Db(e))
    }
}
impl From<StoreError> for Abort {
    fn from(e: StoreError) -> Self {
        Abort::Db(e)
    }
}

/// Everything a batch writes, gathered while applying its commands.
#[derive(Default)]
struct Writes {
    ledger: rialto_ledger::ChangeSet,
    api_keys: Vec<(ApiKey, String)>,
    revoked_keys: Vec<String>,
    /// Events a command raised while applying (risk alerts), taken by `describe`.
    events: Vec<Event>,
    new_payments: BTreeSet<String>,
    touched_payments: BTreeSet<String>,
    /// (payment id, history row).
    transitions: Vec<(String, Transition)>,
    refunds: Vec<RefundRecord>,
    clearings: Vec<Vec<Val>>,
    clearing_updates: Vec<Vec<Val>>,
    assessments: Vec<Vec<Val>>,
    list_changes: Vec<(String, String, bool)>,
    labels: Vec<LabelRecord>,
    window_entries: Vec<rialto_risk::window::Entry>,
    risk_blocks: Vec<(String, String, i64, String)>,
    rules: Vec<RuleRecord>,
    models: Vec<(ModelRecord, Option<String>)>,
    credit_scores: Vec<CreditScoreRecord>,
    model_scores: Vec<Vec<Val>>,
    webhook_endpoints: Vec<crate::WebhookEndpoint>,
    /// Endpoints changed (whole rows after the change); deleted ones cancel their deliveries.
    changed_endpoints: Vec<crate::WebhookEndpoint>,
    settlements: Vec<Vec<Val>>,
    system_accounts: Vec<Vec<Val>>,
    /// New list versions with the entries to upsert and the ids to remove.
    list_versions: Vec<(crate::sanctions::ListVersion, Vec<rialto_compliance::Entry>, Vec<String>)>,
    screenings: Vec<crate::sanctions::ScreeningRecord>,
    clearances: Vec<crate::sanctions::ClearanceRecord>,
    kyc_documents: Vec<crate::kyc::KycDocument>,
    /// Cases opened or changed (whole rows after the change).
    cases: Vec<crate::cases::CaseRecord>,
    alerts: Vec<crate::cases::AlertRecord>,
    case_notes: Vec<crate::cases::NoteRecord>,
    reports: Vec<crate::cases::ReportRecord>,
    /// Payments the AML monitor evaluated: (id, created at).
    monitored: Vec<(String, i64)>,
    recon: recon::ReconWrites,
}

/// The batch's in-memory state: the book and the descriptive fields around it.
struct State {
    /// Users, accounts, transfers and the book.
    ledger: rialto_ledger::Loaded,
    api_keys: HashMap<String, ApiKey>,
    webhook_endpoints: HashMap<String, crate::WebhookEndpoint>,
    payments: HashMap<String, PaymentRecord>,
    /// User id -> recent (count, sum) for the gates.
    velocity: HashMap<String, (i64, i64)>,
    policies: Arc<Policies>,
    /// Current risk rules and what they read, for payments in the batch.
    risk: assess::Loaded,
    /// Risk rules being changed.
    rules: HashMap<String, RuleRecord>,
    /// The model registry, when the batch changes it.
    models: HashMap<String, ModelRecord>,
    /// Pending clearings locked for a settlement run.
    clearings: Vec<settlement::Clearing>,
    /// (purpose, currency) -> account id.
    system_accounts: HashMap<(String, String), String>,
    /// Payers' (and screened users') last screenings: (status, reason).
    screenings: HashMap<String, (rialto_payments::ScreeningStatus, String)>,
    /// Lists being imported, by source.
    lists: HashMap<String, compliance::LoadedList>,
    /// KYC documents being decided.
    kyc_documents: HashMap<String, crate::kyc::KycDocument>,
    /// Payers' KYC levels (when the gate has KYC limits).
    kyc_levels: HashMap<String, rialto_payments::KycLevel>,
    /// (payer, currency) → paid over the last day and 30 days.
    paid: HashMap<(String, rialto_core::Currency), (i64, i64)>,
    /// Cases loaded (named by a command, or open for a user that may get an alert).
    cases: HashMap<String, crate::cases::CaseRecord>,
    /// User → their open case.
    open_cases: HashMap<String, String>,
    /// Payers whose open case holds their payments, with why.
    aml_holds: HashMap<String, String>,
    /// Mirror accounts being reconciled.
    recon: HashMap<String, recon::Loaded>,
    now: i64,
}

/// The engine's backend on one SQLite or PostgreSQL connection (see [`rialto_engine::Backend`]).
pub struct SqlBackend {
    db: Db,
    conn: Option<Conn>,
    presenter: Presenter,
    policies: Arc<Policies>,
    /// This batch reads shared risk windows under session-level advisory locks.
    window_locks: bool,
    /// Payments this batch accepted, for the window store once it commits.
    window_entries: Vec<rialto_risk::window::Entry>,
    /// What this batch has locked so far (checked against `LOCK_ORDER`).
    locks: LockOrder,
}

/// A batch being applied: its loaded state and what it will write.
pub struct Batch {
    state: State,
    writes: Writes,
}

impl SqlBackend {
    fn conn(&mut self) -> Result<&mut Conn, Abort> {
        self.conn.as_mut().ok_or_else(|| Abort::Db(StoreError::Corrupt("no connection".into())))
    }
}

impl From<Abort> for rialto_engine::Abort {
    fn from(a: Abort) -> Self {
        match a {
            Abort::KeyRace => rialto_engine::Abort::KeyRace,
            Abort::Db(e) => rialto_engine::Abort::Db(Box::new(e)),
        }
    }
}

impl rialto_engine::Backend for SqlBackend {
    type Command = Command;
    type Output = Output;
    type Error = CommandError;
    type Batch = Batch;

    fn now(&self) -> i64 {
        now_us()
    }

    async fn connect(&mut self) -> Result<(), rialto_engine::Abort> {
        if self.conn.is_none() {
            self.conn = Some(self.db.writer_connection().await.map_err(Abort::Db)?);
        }
        Ok(())
    }

    fn disconnect(&mut self) {
        self.conn = None;
    }

    async fn begin(&mut self) -> Result<(), rialto_engine::Abort> {
        let conn = self.conn()?;
        let kind = conn.kind();
        let begin = if kind == DbKind::Sqlite { "BEGIN IMMEDIATE" } else { "BEGIN" };
        conn.execute(begin, []).await.map_err(Abort::from)?;
        self.window_locks = assess::window_locks(kind, &self.policies);
        Ok(())
    }

    async fn stored_answers(
        &mut self,
        keys: &[&str],
        now: i64,
    ) -> Result<HashMap<String, StoredAnswer>, rialto_engine::Abort> {
        Ok(stored_answers(self.conn()?, keys, now).await?)
    }

    async fn load(&mut self, commands: &[&Command], now: i64) -> Result<Batch, rialto_engine::Abort> {
        let policies = self.policies.clone();
        let mut locks = LockOrder::default();
        let state = load_state(self.conn()?, commands, now, (&policies, &mut locks)).await?;
        self.locks = locks;
        Ok(Batch { state, writes: Writes::default() })
    }

    fn apply(&self, batch: &mut Batch, command: &Command) -> Outcome {
        apply(&mut batch.state, &mut batch.writes, command)
    }

    fn describe(
        &self,
        batch: &mut Batch,
        command: &Command,
        outcome: &Outcome,
        answer: Option<&str>,
        audited: bool,
    ) -> Described {
        // Events the command raised while applying (risk alerts) come first.
        let mut events = std::mem::take(&mut batch.writes.events);
        events.extend(events_of(command, outcome, &self.presenter, answer));
        // Subscribers choose from the published list: every event must be on it.
        debug_assert!(events.iter().all(|e| crate::is_event_type(e.kind)), "an event type missing from EVENT_TYPES");
        Described { events, audit: audited.then(|| audit_of(command, outcome)) }
    }

    async fn persist(&mut self, batch: Batch) -> Result<(), rialto_engine::Abort> {
        let Batch { state, mut writes } = batch;
        self.window_entries = std::mem::take(&mut writes.window_entries);
        Ok(write_all(self.conn()?, &state, writes).await?)
    }

    async fn store_answers(&mut self, rows: Vec<AnswerRow>) -> Result<(), rialto_engine::Abort> {
        Ok(store_answers(self.conn()?, rows).await?)
    }

    async fn append_outbox(
        &mut self,
        now: i64,
        events: Vec<NewEvent>,
        audits: Vec<NewAudit>,
    ) -> Result<(), rialto_engine::Abort> {
        self.locks.take("ledger_heads");
        Ok(outbox::append(self.conn()?, now, events, audits).await.map_err(Abort::from)?)
    }

    async fn commit(&mut self) -> Result<(), rialto_engine::Abort> {
        Ok(self.conn()?.execute("COMMIT", []).await.map_err(Abort::from).map(|_| ())?)
    }

    async fn committed(&mut self) {
        // The windows learn the accepted payments before anyone is answered, so a client's
        // next payment sees this one.
        let accepted = std::mem::take(&mut self.window_entries);
        if let Err(e) = self.policies.windows.record(&accepted).await {
            tracing::error!(error = %e, "window store missed committed payments until the next start");
        }
        let Some(conn) = &mut self.conn else { return };
        if !release_windows(conn, self.window_locks).await {
            // Closing the session releases them.
            self.conn = None;
        }
    }

    async fn roll_back(&mut self) {
        self.window_entries.clear();
        let Some(conn) = &mut self.conn else { return };
        let rolled_back = conn.execute("ROLLBACK", []).await.is_ok();
        if !rolled_back || !release_windows(conn, self.window_locks).await {
            self.conn = None;
        }
    }
}

/// Releases the shared windows' session locks if the batch took them; false when that failed
/// (the caller then drops the connection, which releases them).
async fn release_windows(conn: &mut Conn, locked: bool) -> bool {
    !locked || assess::unlock_windows(conn).await.is_ok()
}

/// The live idempotency records of these keys.
async fn stored_answers(conn: &mut Conn, keys: &[&str], now: i64) -> Result<HashMap<String, StoredAnswer>, Abort> {
    let mut found = HashMap::new();
    let select = "SELECT id, request_hash, status_code, body, expires_at FROM idempotency_keys";
    for row in conn.fetch_in(select, "id", keys, "").await? {
        // An expired record is as good as none (the sweeper deletes it later).
        if row.col::<i64>("expires_at")? <= now {
            continue;
        }
        let status: i64 = row.col("status_code")?;
        let answer = StoredAnswer {
            request_hash: row.col("request_hash")?,
            status: u16::try_from(status).unwrap_or(500),
            body: row.col("body")?,
        };
        found.insert(row.col("id")?, answer);
    }
    Ok(found)
}

/// Stores the batch's idempotency records; a live record of another process with one of the
/// keys (committed since the lookup) is a key race.
async fn store_answers(conn: &mut Conn, rows: Vec<AnswerRow>) -> Result<(), Abort> {
    let n = rows.len() as u64;
    let rows = rows
        .into_iter()
        .map(|r| {
            vec![
                Val::T(r.scope_key),
                Val::T(r.request_hash),
                Val::I(i64::from(r.status)),
                Val::T(r.body),
                Val::I(r.created_at_us),
                Val::I(r.expires_at_us),
            ]
        })
        .collect();
    let done = exec_values(
        conn,
        "INSERT INTO idempotency_keys (id, request_hash, status_code, body, created_at, expires_at)",
        6,
        rows,
        "ON CONFLICT (id) DO UPDATE SET request_hash = excluded.request_hash, status_code = excluded.status_code, \
         body = excluded.body, created_at = excluded.created_at, expires_at = excluded.expires_at \
         WHERE idempotency_keys.expires_at <= excluded.created_at",
    )
    .await?;
    if done != n {
        return Err(Abort::KeyRace);
    }
    Ok(())
}

/// What a batch's commands need loaded (and, where they change it, locked).
#[derive(Default)]
struct Keys {
    ledger: rialto_ledger::Keys,
    api_keys: BTreeSet<String>,
    webhook_endpoints: BTreeSet<String>,
    payments: rialto_payments::Keys,
    risk: rialto_risk::admin::Keys,
    /// The model registry changes.
    registry: bool,
    /// Lists being imported, documents being decided, cases (see `compliance::Keys`).
    compliance: compliance::Keys,
    /// Mirror accounts and what their reconciliation commands need.
    recon: recon::Keys,
}

/// Gathers what each command needs: one arm per command (a domain's command says it itself).
fn keys_of(commands: &[&Command]) -> Keys {
    let mut k = Keys::default();
    let mut all: Vec<&Command> = commands.to_vec();
    // A screened command needs what the command it wraps needs.
    let mut i = 0;
    while i < all.len() {
        if let Command::Screened(inner, s) = all[i] {
            k.ledger.users.insert(s.user_id.clone());
            if s.status != rialto_payments::ScreeningStatus::Clear {
                k.compliance.cases.users.insert(s.user_id.clone());
            }
            all.push(inner);
        }
        i += 1;
    }
    let ours: Vec<&ComplianceCommand> =
        all.iter().filter_map(|c| if let Command::Compliance(c) = c { Some(c) } else { None }).collect();
    compliance::keys(ours.iter().copied(), &mut k.compliance);
    for c in all {
        match c {
            Command::Compliance(c) => c.users(&mut k.ledger.users),
            Command::Screened(..) => {}
            Command::Ledger(c) => c.keys(&mut k.ledger),
            Command::Risk(c) => c.keys(&mut k.risk),
            Command::CreateWebhookEndpoint(_) => {}
            Command::ChangeWebhookEndpoint { id, .. } => {
                k.webhook_endpoints.insert(id.clone());
            }
            Command::RevokeApiKey { id } => {
                k.api_keys.insert(id.clone());
            }
            Command::Payments(c) => c.keys(&mut k.payments),
            Command::Recon(c) => {
                recon::keys(c, &mut k.recon);
                c.accounts(&mut k.ledger.accounts);
            }
            Command::Model(_) => k.registry = true,
            Command::RecordCreditScore(_) | Command::CreateApiKey { .. } | Command::Audit { .. } => {}
        }
    }
    k
}

impl State {
    /// Nothing loaded yet.
    fn new(policies: Arc<Policies>, now: i64) -> State {
        State {
            ledger: rialto_ledger::Loaded::default(),
            api_keys: HashMap::new(),
            webhook_endpoints: HashMap::new(),
            payments: HashMap::new(),
            velocity: HashMap::new(),
            policies,
            clearings: Vec::new(),
            system_accounts: HashMap::new(),
            rules: HashMap::new(),
            models: HashMap::new(),
            risk: assess::Loaded::default(),
            screenings: HashMap::new(),
            lists: HashMap::new(),
            kyc_documents: HashMap::new(),
            kyc_levels: HashMap::new(),
            paid: HashMap::new(),
            cases: HashMap::new(),
            open_cases: HashMap::new(),
            aml_holds: HashMap::new(),
            recon: HashMap::new(),
            now,
        }
    }
}

/// Loads (and on PostgreSQL locks) what the commands touch: transfers first, then accounts,
/// each in id order, so concurrent writers in other processes cannot deadlock with us.
async fn load_state(
    conn: &mut Conn,
    commands: &[&Command],
    now: i64,
    (policies, locks): (&Arc<Policies>, &mut LockOrder),
) -> Result<State, Abort> {
    let kind = conn.kind();
    let lock = if kind == DbKind::Postgres { " ORDER BY id FOR UPDATE" } else { " ORDER BY id" };
    let Keys {
        ledger,
        api_keys: key_ids,
        webhook_endpoints,
        payments: payment_keys,
        risk: risk_keys,
        registry,
        compliance: compliance_keys,
        recon: recon_keys,
    } = keys_of(commands);
    let rialto_ledger::Keys {
        transfers: mut transfer_ids,
        accounts: mut account_ids,
        users: mut user_ids,
        updated_users,
    } = ledger;
    let mut payment_ids = BTreeSet::new();
    let rialto_payments::Keys { accounts, payers, payments: payment_ids_wanted, settle: settle_filter } = payment_keys;
    account_ids.extend(accounts);
    user_ids.extend(payers.iter().cloned());
    let payment_users = payers;
    payment_ids.extend(payment_ids_wanted);
    // A settlement run locks its pending clearings before their payments.
    let mut clearings = Vec::new();
    let mut system_accounts = HashMap::new();
    if let Some(filter) = &settle_filter {
        locks.take("settlement_clearings");
        (clearings, system_accounts) = settlement::load(conn, filter.as_deref()).await?;
        for c in &clearings {
            payment_ids.insert(c.payment_id.clone());
            account_ids.insert(c.destination_account_id.clone());
        }
        account_ids.extend(system_accounts.values().cloned());
    }
    // Payments first: they name the transfers and accounts to lock next.
    let select = format!("SELECT {} FROM payments", payments::PAYMENT_COLUMNS);
    let mut loaded = HashMap::new();
    locks.take("payments");
    for row in select_in(conn, &select, &payment_ids, lock).await? {
        let p = payments::payment_from_row(&row)?;
        transfer_ids.extend(p.transfer_id.clone());
        account_ids.insert(p.source_account_id.clone());
        account_ids.insert(p.destination_account_id.clone());
        loaded.insert(p.id.clone(), p);
    }
    payments::load_details(conn, &mut loaded).await?;
    let mut state = State::new(policies.clone(), now);
    locks.take("transfers");
    for row in select_in(conn, &format!("SELECT {TRANSFER_COLUMNS} FROM transfers"), &transfer_ids, lock).await? {
        let t = transfer_from_row(&row)?;
        account_ids.insert(t.transfer.source_account_id.clone());
        account_ids.insert(t.transfer.destination_account_id.clone());
        state.ledger.book.transfers.insert(t.transfer.id.clone(), t.transfer.clone());
        state.ledger.transfers.insert(t.transfer.id.clone(), t);
    }
    locks.take("accounts");
    for row in select_in(conn, &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts"), &account_ids, lock).await? {
        let a = account_from_row(&row)?;
        state.ledger.book.accounts.insert(a.account.id.clone(), a.account.clone());
        state.ledger.accounts.insert(a.account.id.clone(), a);
    }
    // Users after accounts: the rows being updated are locked; then (PostgreSQL) each payer's
    // velocity lock, a transaction-level advisory lock, before its velocity is counted, so
    // two processes paying for one user count each other's committed payments (the limit is
    // exact across processes). An advisory lock writes nothing, unlike FOR UPDATE on the row.
    let select = format!("SELECT {} FROM users", crate::records::USER_COLUMNS);
    locks.take("users");
    for row in select_in(conn, &select, &updated_users, lock).await? {
        let u = crate::records::user_from_row(&row)?;
        state.ledger.users.insert(u.id.clone(), (u.status, u.kyc_status));
        state.ledger.user_records.insert(u.id.clone(), u);
    }
    locks.take("velocity");
    if kind == DbKind::Postgres {
        payments::lock_velocity(conn, &payment_users).await?;
    }
    let velocity = payments::load_velocity(conn, &payment_users, now - policies.velocity_window_us).await?;
    locks.take("risk_rules");
    for row in select_in(conn, "SELECT * FROM risk_rules", &risk_keys.rules, lock).await? {
        let r = rules::from_row(&row)?;
        state.rules.insert(r.id.clone(), r);
    }
    if registry {
        locks.take("risk_models");
        state.models = models::load(conn).await?;
    }
    let new_payments: Vec<&NewPayment> =
        commands.iter().filter_map(|c| if let Command::Payments(p) = c { p.new_payment() } else { None }).collect();
    locks.take("risk_windows");
    state.risk = assess::load(conn, &new_payments, now, policies).await?;
    state.payments = loaded;
    state.clearings = clearings;
    state.system_accounts = system_accounts;
    state.velocity = velocity;
    load_users(conn, &mut state, &user_ids.difference(&updated_users).cloned().collect()).await?;
    load_admin(conn, &mut state, (&key_ids, &webhook_endpoints, &payment_users, &compliance_keys), lock, locks).await?;
    recon::load(conn, &mut state, &recon_keys, locks).await?;
    Ok(state)
}

/// The other users the gates read (payers, owners of new accounts): status and KYC status.
async fn load_users(conn: &mut Conn, state: &mut State, unread: &BTreeSet<String>) -> Result<(), Abort> {
    for row in select_in(conn, "SELECT id, status, kyc_status FROM users", unread, "").await? {
        let (status, kyc): (String, String) = (row.col("status")?, row.col("kyc_status")?);
        state
            .ledger
            .users
            .insert(row.col("id")?, (crate::records::user_status(&status)?, crate::records::kyc_status(&kyc)?));
    }
    Ok(())
}

/// What `load_admin` loads: API keys, webhook endpoints, payers, compliance keys.
type AdminKeys<'a> = (&'a BTreeSet<String>, &'a BTreeSet<String>, &'a BTreeSet<String>, &'a compliance::Keys);

/// Webhook endpoints being changed (locked), API keys being revoked, then the payers'
/// screenings, the KYC documents being decided and the sanctions lists being imported.
async fn load_admin(
    conn: &mut Conn,
    state: &mut State,
    (key_ids, endpoint_ids, payers, compliance_keys): AdminKeys<'_>,
    lock: &str,
    locks: &mut LockOrder,
) -> Result<(), Abort> {
    locks.take("webhook_endpoints");
    for row in select_in(conn, "SELECT * FROM webhook_endpoints", endpoint_ids, lock).await? {
        let e = crate::webhooks::endpoint_from_row(&row)?;
        state.webhook_endpoints.insert(e.id.clone(), e);
    }
    let select = "SELECT id, name, role, prefix, created_at, revoked_at FROM api_keys";
    for row in select_in(conn, select, key_ids, "").await? {
        let key = crate::keys::key_from_row(&row)?;
        state.api_keys.insert(key.id.clone(), key);
    }
    compliance::load(conn, state, (payers, compliance_keys), locks).await
}

async fn select_in(
    conn: &mut Conn,
    select: &str,
    ids: &BTreeSet<String>,
    suffix: &str,
) -> Result<Vec<Row>, sqlx::Error> {
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    conn.fetch_in(select, "id", &ids, suffix).await
}

/// Applies one command to the batch state, recording what must be written.
fn apply(state: &mut State, writes: &mut Writes, command: &Command) -> Outcome {
    let now = state.now;
    match command {
        Command::Ledger(c) => Ok(rialto_ledger::apply(&mut state.ledger, &mut writes.ledger, now, c)?.into()),
        Command::CreateApiKey { key, key_hash } => {
            writes.api_keys.push((key.clone(), key_hash.clone()));
            Ok(Output::ApiKey(key.clone()))
        }
        Command::RevokeApiKey { id } => match state.api_keys.get(id) {
            Some(key) if key.revoked_at_us.is_none() && !writes.revoked_keys.contains(id) => {
                writes.revoked_keys.push(id.clone());
                Ok(Output::ApiKey(ApiKey { revoked_at_us: Some(now), ..key.clone() }))
            }
            _ => Err(CommandError::ApiKeyNotFound(id.clone())),
        },
        Command::Payments(c) => payments::apply(state, writes, c),
        Command::Risk(c) => rules::apply(state, writes, c),
        Command::ChangeWebhookEndpoint { id, change } => {
            // A second change in the batch applies to the first one's result.
            let current =
                writes.changed_endpoints.iter().rev().find(|e| e.id == *id).or(state.webhook_endpoints.get(id));
            let Some(mut e) = current.filter(|e| e.status != "deleted").cloned() else {
                return Err(CommandError::WebhookEndpointNotFound(id.clone()));
            };
            change.apply(&mut e, now);
            writes.changed_endpoints.push(e.clone());
            Ok(Output::WebhookEndpoint(Box::new(e)))
        }
        Command::CreateWebhookEndpoint(e) => {
            writes.webhook_endpoints.push((**e).clone());
            Ok(Output::WebhookEndpoint(e.clone()))
        }
        Command::Model(c) => models::change(state, writes, c),
        Command::RecordCreditScore(r) => {
            let mut r = (**r).clone();
            r.created_at_us = now;
            writes.credit_scores.push(r.clone());
            Ok(Output::CreditScore(Box::new(r)))
        }
        Command::Compliance(c) => compliance::apply(state, writes, c),
        Command::Recon(c) => recon::apply(state, writes, c),
        Command::Screened(inner, screening) => {
            let out = apply(state, writes, inner)?;
            if let Output::User(u) = &out {
                let s = crate::sanctions::ScreeningRecord { user_id: u.id.clone(), ..(**screening).clone() };
                compliance::screened(state, writes, &s, now);
            }
            Ok(out)
        }
        Command::Audit { .. } => Ok(Output::Recorded),
    }
}

/// The event a successful command publishes: (type, resource type, resource id).
fn event_of(command: &Command, output: &Output) -> Option<(&'static str, &'static str, String)> {
    if let Command::Screened(inner, _) = command {
        return event_of(inner, output);
    }
    if let Command::Ledger(c) = command {
        let (kind, resource_type) = rialto_ledger::event(c);
        let id = match output {
            Output::User(u) => &u.id,
            Output::Account(a) => &a.account.id,
            Output::Transfer(t) => &t.transfer.id,
            Output::Journal(j) => &j.id,
            _ => return None,
        };
        return Some((kind, resource_type, id.clone()));
    }
    match (command, output) {
        (_, Output::Payment(p)) => {
            let kind = match p.status {
                PaymentStatus::Completed => "payment.completed",
                PaymentStatus::Failed => "payment.failed",
                PaymentStatus::RequiresReview => "payment.requires_review",
                PaymentStatus::Cancelled => "payment.cancelled",
                _ => return None,
            };
            Some((kind, "payment", p.id.clone()))
        }
        (_, Output::Refund(r)) => Some(("refund.created", "payment", r.1.id.clone())),
        (_, Output::Label(l)) => Some(("payment.labeled", "payment", l.payment_id.clone())),
        (_, Output::ListImport(o)) if o.created => {
            Some(("sanctions_list.updated", "sanctions_list", o.version.id.clone()))
        }
        (_, Output::Screening(s)) => Some(("user.screened", "user", s.user_id.clone())),
        (_, Output::Clearance(c)) => Some(("user.screened", "user", c.0.user_id.clone())),
        (_, Output::KycDocument(d)) => Some(("kyc_document.updated", "kyc_document", d.id.clone())),
        (_, Output::Case(c)) => Some(("compliance_case.updated", "compliance_case", c.id.clone())),
        (_, Output::Report(r)) => Some(("compliance_report.created", "compliance_report", r.id.clone())),
        (_, Output::ReconRun(r)) => Some(("reconciliation_run.completed", "reconciliation_run", r.id.clone())),
        (_, Output::ReconMatch(m)) => Some(("reconciliation_match.updated", "reconciliation_match", m.id.clone())),
        (_, Output::ReconStatements(list)) if list.iter().any(|s| !s.already_imported) => {
            Some(("statement.imported", "account", list[0].account_id.clone()))
        }
        (Command::Model(c), Output::Model(m)) => {
            rialto_risk::registry::event(c).map(|kind| (kind, "risk_model", m.id.clone()))
        }
        _ => None,
    }
}

/// The audit action of a command, and the resource it names before it runs.
fn action_of(command: &Command) -> (String, Option<(&'static str, String)>) {
    let (action, resource) = match command {
        Command::Ledger(c) => c.action(),
        Command::CreateWebhookEndpoint(e) => ("webhook_endpoint.create", Some(("webhook_endpoint", e.id.clone()))),
        Command::ChangeWebhookEndpoint { id, change } => (change.action(), Some(("webhook_endpoint", id.clone()))),
        Command::Risk(c) => c.action(),
        Command::CreateApiKey { key, .. } => ("api_key.create", Some(("api_key", key.id.clone()))),
        Command::RevokeApiKey { id } => ("api_key.revoke", Some(("api_key", id.clone()))),
        Command::Payments(c) => c.action(),
        Command::RecordCreditScore(r) => ("credit_score.create", Some(("credit_score", r.id.clone()))),
        Command::Model(c) => {
            let (action, id) = c.action();
            return (action.to_string(), id.map(|id| ("risk_model", id)));
        }
        Command::Compliance(c) => c.action(),
        Command::Recon(c) => c.action(),
        Command::Screened(inner, _) => return action_of(inner),
        Command::Audit { action, .. } => return (action.clone(), None),
    };
    (action.to_string(), resource)
}

/// The events of one command's outcome (the resource as the API shows it).
/// The resource an event carries is the answer as the API renders it: `answer` when the
/// engine rendered it already (for the idempotency record), else rendered here.
fn events_of(command: &Command, outcome: &Outcome, presenter: &Presenter, answer: Option<&str>) -> Vec<Event> {
    let Ok(output) = outcome else { return Vec::new() };
    let mut events = Vec::new();
    if let Output::Settlements(list) = output {
        for s in list {
            events.push(Event {
                kind: match s.status {
                    rialto_payments::SettlementStatus::Completed => "settlement.completed",
                    rialto_payments::SettlementStatus::Failed => "settlement.failed",
                },
                resource_type: "settlement",
                resource_id: s.id.clone(),
                data: presenter(&Output::Settlements(vec![s.clone()])),
            });
        }
    }
    if let Output::Alerts(list) = output {
        for a in list {
            events.push(Event {
                kind: "compliance_alert.created",
                resource_type: "compliance_case",
                resource_id: a.case_id.clone(),
                data: presenter(&Output::Alerts(vec![a.clone()])),
            });
        }
    }
    if let Output::Reports(list) = output {
        for r in list {
            events.push(Event {
                kind: "compliance_report.created",
                resource_type: "compliance_report",
                resource_id: r.id.clone(),
                data: presenter(&Output::Report(Box::new(r.clone()))),
            });
        }
    }
    if let Output::ReconRun(r) = output {
        let breaks: i64 =
            ["lines_unmatched", "entries_unmatched", "lines_amount_mismatch", "lines_duplicate", "lines_bank_fee"]
                .iter()
                .filter_map(|k| r.counts.get(*k).and_then(|v| v["count"].as_i64()))
                .sum();
        if breaks > 0 {
            events.push(Event {
                kind: "reconciliation_run.breaks_found",
                resource_type: "reconciliation_run",
                resource_id: r.id.clone(),
                data: presenter(output),
            });
        }
    }
    if let Some((kind, resource_type, resource_id)) = event_of(command, output) {
        let data = answer.map_or_else(|| presenter(output), str::to_string);
        events.push(Event { kind, resource_type, resource_id, data });
    }
    events
}

/// The audit entry of one command: its action, the resource it names, and details.
fn audit_of(command: &Command, outcome: &Outcome) -> AuditEntry {
    let (action, resource) = action_of(command);
    let details = match (command, outcome) {
        (Command::Audit { details, .. }, _) => details.clone(),
        (Command::Risk(rialto_risk::admin::Command::ListItem { value, .. }), Ok(_)) => {
            format!("{{\"value\":{}}}", serde_json::Value::from(value.as_str()))
        }
        (Command::Payments(PaymentCommand::Review { note, label, .. }), Ok(_)) => {
            serde_json::json!({"note": note, "label": label.as_ref().map(|l| &l.label)}).to_string()
        }
        (Command::Payments(PaymentCommand::Label(l)), Ok(_)) => {
            serde_json::json!({"label": l.label, "source": l.source, "note": l.note}).to_string()
        }
        (Command::Model(c), Ok(Output::Model(m))) => rialto_risk::registry::audit_details(c, m),
        (Command::Compliance(c), Ok(o)) => compliance::details(c, o),
        (Command::Recon(c), Ok(o)) => recon::details(c, o),
        (Command::Screened(inner, s), Ok(_)) => {
            let mut details: serde_json::Value =
                serde_json::from_str(&audit_of(inner, outcome).details).unwrap_or_default();
            if let Some(map) = details.as_object_mut() {
                map.insert("screening".into(), compliance::screening_details(s));
            }
            details.to_string()
        }
        (_, Ok(_)) => "{}".to_string(),
        (_, Err(e)) => format!("{{\"error\":{}}}", serde_json::Value::from(e.to_string())),
    };
    // A reversal is recorded against the original transfer; its new id is in the event.
    AuditEntry { action, resource, details }
}

/// Writes everything the batch did, in foreign-key order.
async fn write_all(conn: &mut Conn, state: &State, mut w: Writes) -> Result<(), Abort> {
    ledger::write(conn, &state.ledger, &mut w.ledger, state.now).await?;
    // After transfers: payments and refunds reference them.
    payments::write(conn, state, &mut w).await?;
    labels::write(conn, &mut w).await?;
    settlement::write(conn, &mut w).await?;
    rules::write(conn, &mut w).await?;
    models::write(conn, &mut w).await?;
    assess::write(conn, &mut w).await?;
    assess::write_lists(conn, &mut w, state.now).await?;
    compliance::write(conn, &mut w).await?;
    recon::write(conn, &mut w.recon).await?;
    for c in std::mem::take(&mut w.credit_scores) {
        let q = "INSERT INTO credit_scores (id, applicant, answer, score, grade, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)";
        conn.execute(
            q,
            [
                Val::T(c.id),
                Val::T(c.applicant),
                Val::T(c.answer),
                Val::I(c.score),
                Val::T(c.grade),
                Val::T(c.created_by),
                Val::I(c.created_at_us),
            ],
        )
        .await?;
    }
    write_endpoints(conn, &mut w, state.now).await?;
    for (key, hash) in std::mem::take(&mut w.api_keys) {
        let q = "INSERT INTO api_keys (id, name, role, key_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
        conn.execute(
            q,
            [
                Val::T(key.id),
                Val::T(key.name),
                Val::T(key.role.as_str().into()),
                Val::T(hash),
                Val::T(key.prefix),
                Val::I(key.created_at_us),
            ],
        )
        .await?;
    }
    for id in std::mem::take(&mut w.revoked_keys) {
        let q = "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
        conn.execute(q, [Val::I(state.now), Val::T(id)]).await?;
    }
    Ok(())
}

/// New and changed webhook endpoints (whole rows); a deleted one's pending deliveries are
/// cancelled in the same transaction.
async fn write_endpoints(conn: &mut Conn, w: &mut Writes, now: i64) -> Result<(), sqlx::Error> {
    let q = "INSERT INTO webhook_endpoints (id, url, secret, event_types, status, created_at, description, \
             previous_secret, previous_secret_expires_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, \
             event_types = excluded.event_types, status = excluded.status, description = excluded.description, \
             previous_secret = excluded.previous_secret, \
             previous_secret_expires_at = excluded.previous_secret_expires_at, updated_at = excluded.updated_at";
    let created = std::mem::take(&mut w.webhook_endpoints);
    let changed = std::mem::take(&mut w.changed_endpoints);
    for e in created.into_iter().chain(changed) {
        let types = serde_json::to_string(&e.event_types).unwrap_or_else(|_| "[]".into());
        if e.status == "deleted" {
            let cancel = "UPDATE webhook_deliveries SET status = 'cancelled', updated_at = $1 \
                          WHERE endpoint_id = $2 AND status = 'pending'";
            conn.execute(cancel, [Val::I(now), Val::T(e.id.clone())]).await?;
        }
        let values = [
            Val::T(e.id),
            Val::T(e.url),
            Val::T(e.secret),
            Val::T(types),
            Val::T(e.status),
            Val::I(e.created_at_us),
            Val::T(e.description),
            Val::OT(e.previous_secret),
            Val::OI(e.previous_secret_expires_at_us),
            Val::I(e.updated_at_us),
        ];
        conn.execute(q, values).await?;
    }
    Ok(())
}
