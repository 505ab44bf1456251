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

use rialto_core::ledger::{Account, Book, Effects, LedgerError, Line, StatusChange, TransferSpec, JOURNAL_LINES_MAX};
use rialto_core::{Amount, Currency};
use rialto_engine::{AnswerRow, AuditEntry, Described, Event, LockOrder, StoredAnswer};
use rialto_payments::{Command as PaymentCommand, KycStatus, PaymentStatus, UserStatus};

mod assess;
mod backtest;
mod labels;
mod models;
mod payments;
mod rules;
mod settlement;
mod training;

pub use backtest::{BacktestError, BACKTEST_PAYMENTS_MAX};
pub use labels::{LabelRecord, NewLabel, ReviewFilter, LABELS, LABEL_SOURCES};
pub use models::{
    merchant_table, ModelChange, ModelRecord, ModelServer, NewModel, Trained, MODEL_STATUSES, SCORE_OUTCOMES,
    SHARE_BP_MAX,
};
pub use payments::{NewPayment, NewRefund, PaymentFilter, PaymentRecord, Policies, RefundRecord, Transition};
pub use rialto_payments::{fee, FeeSchedule};
pub use rules::RuleRecord;
pub use settlement::{SettlementRecord, SETTLEMENT_CLEARINGS_MAX};
pub use training::Example;

use crate::db::{now_us, Db, DbKind, StoreError};
use crate::keys::ApiKey;
use crate::outbox::{self, NewAudit, NewEvent};
use crate::records::{
    account_from_row, metadata_text, transfer_from_row, AccountRecord, JournalLine, JournalRecord, Metadata,
    TransferRecord, UserRecord, ACCOUNT_COLUMNS, TRANSFER_COLUMNS,
};
use crate::sql::{exec_values, placeholders, Conn, Get, Row, Val};
pub use rialto_engine::{AuditContext, WriterConfig, WriterStats};

/// A new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Pre-assigned id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Role.
    pub role: String,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Pre-assigned id.
    pub id: String,
    /// Currency.
    pub currency: Currency,
    /// Owner; must exist.
    pub user_id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// May go below zero (funding, settlement, fee accounts).
    pub allow_negative_balance: bool,
    /// Metadata.
    pub metadata: Metadata,
}

/// A new transfer.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    /// The ledger part.
    pub spec: TransferSpec,
    /// Description.
    pub description: Option<String>,
    /// Client reference.
    pub reference: Option<String>,
    /// Metadata.
    pub metadata: Metadata,
}

/// A new journal entry.
#[derive(Debug, Clone)]
pub struct NewJournal {
    /// Pre-assigned id.
    pub id: String,
    /// Lines (2..=JOURNAL_LINES_MAX).
    pub lines: Vec<Line>,
    /// Description.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: Metadata,
}

/// A state change the writer applies.
#[derive(Debug, Clone)]
pub enum Command {
    /// Create a user.
    CreateUser(NewUser),
    /// Open an account.
    CreateAccount(NewAccount),
    /// Move or reserve money.
    Transfer(NewTransfer),
    /// Post a pending transfer, fully or partly.
    PostPending {
        /// The pending transfer.
        transfer_id: String,
        /// Smaller amount to post, if any.
        amount: Option<Amount>,
    },
    /// Release a pending transfer on request.
    VoidPending {
        /// The pending transfer.
        transfer_id: String,
    },
    /// Release a pending transfer past its expiry (the sweeper).
    Expire {
        /// The pending transfer.
        transfer_id: String,
    },
    /// Post the compensating transfer.
    Reverse {
        /// The posted transfer.
        transfer_id: String,
        /// Id of the reversal.
        new_id: String,
    },
    /// Post a multi-line journal entry.
    Journal(NewJournal),
    /// Freeze, unfreeze or close an account.
    ChangeStatus {
        /// The account.
        account_id: String,
        /// The change.
        change: StatusChange,
    },
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
    /// Change a user's status (`active|blocked`) or KYC status (`pending|verified|rejected`).
    UpdateUser {
        /// The user.
        user_id: String,
        /// New status.
        status: Option<UserStatus>,
        /// New KYC status.
        kyc_status: Option<KycStatus>,
    },
    /// Register a webhook endpoint.
    CreateWebhookEndpoint(Box<crate::WebhookEndpoint>),
    /// A risk administration command (`rialto_risk::admin::Command`: rules and lists).
    Risk(rialto_risk::admin::Command),
    /// Change the fraud model registry.
    Model(ModelChange),
    /// Keep a credit score as it was answered.
    RecordCreditScore(Box<CreditScoreRecord>),
    /// Record a security event (no other effect): an authentication failure, a refused role.
    Audit {
        /// e.g. `auth.failure`.
        action: String,
        /// JSON details.
        details: String,
    },
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
    users: Vec<UserRecord>,
    new_accounts: BTreeSet<String>,
    touched_accounts: BTreeSet<String>,
    new_transfers: BTreeSet<String>,
    touched_transfers: BTreeSet<String>,
    journals: Vec<JournalRecord>,
    entries: Vec<Vec<Val>>,
    api_keys: Vec<(ApiKey, String)>,
    revoked_keys: Vec<String>,
    events: Vec<NewEvent>,
    new_payments: BTreeSet<String>,
    touched_payments: BTreeSet<String>,
    transitions: Vec<Vec<Val>>,
    refunds: Vec<Vec<Val>>,
    clearings: Vec<Vec<Val>>,
    clearing_updates: Vec<Vec<Val>>,
    user_updates: Vec<UserRecord>,
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
    settlements: Vec<Vec<Val>>,
    system_accounts: Vec<Vec<Val>>,
}

/// The batch's in-memory state: the book and the descriptive fields around it.
struct State {
    book: Book,
    accounts: HashMap<String, AccountRecord>,
    transfers: HashMap<String, TransferRecord>,
    /// User id -> (status, kyc_status).
    users: HashMap<String, (UserStatus, KycStatus)>,
    api_keys: HashMap<String, ApiKey>,
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
    /// Full rows of users being updated.
    user_records: HashMap<String, UserRecord>,
    /// Pending clearings locked for a settlement run.
    clearings: Vec<settlement::Clearing>,
    /// (purpose, currency) -> account id.
    system_accounts: HashMap<(String, String), String>,
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
        self.window_entries.clear();
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

    fn describe(&self, batch: &mut Batch, command: &Command, outcome: &Outcome, audited: bool) -> Described {
        // Events the command raised while applying (risk alerts) come first.
        let mut events: Vec<Event> = batch
            .writes
            .events
            .drain(..)
            .map(|e| Event { kind: e.kind, resource_type: e.resource_type, resource_id: e.resource_id, data: e.data })
            .collect();
        events.extend(events_of(command, outcome, &self.presenter));
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
        if let Err(e) = self.policies.windows.record(&self.window_entries).await {
            tracing::error!(error = %e, "window store missed committed payments until the next start");
        }
        self.window_entries.clear();
        let unlocked = match (&mut self.conn, self.window_locks) {
            (Some(conn), true) => assess::unlock_windows(conn).await.is_ok(),
            _ => true,
        };
        if !unlocked {
            // Closing the session releases them.
            self.conn = None;
        }
    }

    async fn roll_back(&mut self) {
        self.window_entries.clear();
        let Some(conn) = &mut self.conn else { return };
        let rolled_back = conn.execute("ROLLBACK", []).await.is_ok();
        if !rolled_back || (self.window_locks && assess::unlock_windows(conn).await.is_err()) {
            self.conn = None;
        }
    }
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
    transfers: BTreeSet<String>,
    accounts: BTreeSet<String>,
    /// Users the gates read (payers, owners of new accounts).
    users: BTreeSet<String>,
    /// Users being changed.
    updated_users: BTreeSet<String>,
    api_keys: BTreeSet<String>,
    payments: rialto_payments::Keys,
    risk: rialto_risk::admin::Keys,
    /// The model registry changes.
    registry: bool,
}

/// Gathers what each command needs: one arm per command (a domain's command says it itself).
fn keys_of(commands: &[&Command]) -> Keys {
    let mut k = Keys::default();
    for c in commands {
        match *c {
            Command::CreateUser(_) | Command::CreateWebhookEndpoint(_) => {}
            Command::Risk(c) => c.keys(&mut k.risk),
            Command::UpdateUser { user_id, .. } => {
                k.updated_users.insert(user_id.clone());
            }
            Command::CreateAccount(a) => k.users.extend(a.user_id.clone()),
            Command::Transfer(t) => {
                k.accounts.insert(t.spec.source_account_id.clone());
                k.accounts.insert(t.spec.destination_account_id.clone());
            }
            Command::PostPending { transfer_id, .. }
            | Command::VoidPending { transfer_id }
            | Command::Expire { transfer_id }
            | Command::Reverse { transfer_id, .. } => {
                k.transfers.insert(transfer_id.clone());
            }
            Command::Journal(j) => k.accounts.extend(j.lines.iter().map(|l| l.account_id.clone())),
            Command::ChangeStatus { account_id, .. } => {
                k.accounts.insert(account_id.clone());
            }
            Command::RevokeApiKey { id } => {
                k.api_keys.insert(id.clone());
            }
            Command::Payments(c) => c.keys(&mut k.payments),
            Command::Model(_) => k.registry = true,
            Command::RecordCreditScore(_) | Command::CreateApiKey { .. } | Command::Audit { .. } => {}
        }
    }
    k
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
        transfers: mut transfer_ids,
        accounts: mut account_ids,
        users: mut user_ids,
        updated_users,
        api_keys: key_ids,
        payments: payment_keys,
        risk: risk_keys,
        registry,
    } = keys_of(commands);
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
    let mut state = State {
        book: Book::default(),
        accounts: HashMap::new(),
        transfers: HashMap::new(),
        users: HashMap::new(),
        api_keys: HashMap::new(),
        payments: HashMap::new(),
        velocity: HashMap::new(),
        policies: policies.clone(),
        clearings: Vec::new(),
        system_accounts: HashMap::new(),
        user_records: HashMap::new(),
        rules: HashMap::new(),
        models: HashMap::new(),
        risk: assess::Loaded::default(),
        now,
    };
    locks.take("transfers");
    for row in select_in(conn, &format!("SELECT {TRANSFER_COLUMNS} FROM transfers"), &transfer_ids, lock).await? {
        let t = transfer_from_row(&row)?;
        account_ids.insert(t.transfer.source_account_id.clone());
        account_ids.insert(t.transfer.destination_account_id.clone());
        state.book.transfers.insert(t.transfer.id.clone(), t.transfer.clone());
        state.transfers.insert(t.transfer.id.clone(), t);
    }
    locks.take("accounts");
    for row in select_in(conn, &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts"), &account_ids, lock).await? {
        let a = account_from_row(&row)?;
        state.book.accounts.insert(a.account.id.clone(), a.account.clone());
        state.accounts.insert(a.account.id.clone(), a);
    }
    // Users after accounts: the rows being updated are locked; then (PostgreSQL) each payer's
    // velocity lock, a transaction-level advisory lock, before its velocity is counted, so
    // two processes paying for one user count each other's committed payments (the limit is
    // exact across processes). An advisory lock writes nothing, unlike FOR UPDATE on the row.
    let select = format!("SELECT {} FROM users", crate::records::USER_COLUMNS);
    locks.take("users");
    for row in select_in(conn, &select, &updated_users, lock).await? {
        let u = crate::records::user_from_row(&row)?;
        state.users.insert(u.id.clone(), (u.status, u.kyc_status));
        state.user_records.insert(u.id.clone(), u);
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
    // The other users the gates read (payers, owners of new accounts).
    let unread: BTreeSet<String> = user_ids.difference(&updated_users).cloned().collect();
    for row in select_in(conn, "SELECT id, status, kyc_status FROM users", &unread, "").await? {
        let (status, kyc): (String, String) = (row.col("status")?, row.col("kyc_status")?);
        state.users.insert(row.col("id")?, (crate::records::user_status(&status)?, crate::records::kyc_status(&kyc)?));
    }
    let select = "SELECT id, name, role, prefix, created_at, revoked_at FROM api_keys";
    for row in select_in(conn, select, &key_ids, "").await? {
        let key = crate::keys::key_from_row(&row)?;
        state.api_keys.insert(key.id.clone(), key);
    }
    Ok(state)
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
        Command::CreateUser(u) => {
            let user = UserRecord {
                id: u.id.clone(),
                name: u.name.clone(),
                email: u.email.clone(),
                phone: u.phone.clone(),
                role: u.role.clone(),
                status: UserStatus::Active,
                kyc_status: KycStatus::Pending,
                created_at_us: now,
                updated_at_us: now,
            };
            state.users.insert(user.id.clone(), (user.status, user.kyc_status));
            writes.users.push(user.clone());
            Ok(Output::User(user))
        }
        Command::CreateAccount(a) => {
            if let Some(user_id) = &a.user_id {
                if !state.users.contains_key(user_id) {
                    return Err(CommandError::UserNotFound(user_id.clone()));
                }
            }
            let account = Account::new(a.id.clone(), a.currency, a.allow_negative_balance);
            state.book.accounts.insert(a.id.clone(), account.clone());
            let record = AccountRecord {
                account,
                user_id: a.user_id.clone(),
                name: a.name.clone(),
                metadata: a.metadata.clone(),
                created_at_us: now,
                updated_at_us: now,
            };
            state.accounts.insert(a.id.clone(), record.clone());
            writes.new_accounts.insert(a.id.clone());
            Ok(Output::Account(record))
        }
        Command::Transfer(t) => {
            let effects = state.book.transfer(&t.spec)?;
            let record = TransferRecord {
                transfer: state.book.transfers[&t.spec.id].clone(),
                pending: t.spec.pending,
                description: t.description.clone(),
                reference: t.reference.clone(),
                metadata: t.metadata.clone(),
                created_at_us: now,
                updated_at_us: now,
            };
            state.transfers.insert(t.spec.id.clone(), record);
            record_effects(state, writes, &effects, Some(&t.spec.id), None);
            Ok(Output::Transfer(state.transfers[&t.spec.id].clone()))
        }
        Command::PostPending { transfer_id, amount } => {
            let effects = state.book.post_pending(transfer_id, *amount, now)?;
            record_effects(state, writes, &effects, Some(transfer_id), None);
            Ok(Output::Transfer(state.transfers[transfer_id].clone()))
        }
        Command::VoidPending { transfer_id } | Command::Expire { transfer_id } => {
            let expired = matches!(command, Command::Expire { .. });
            let effects = state.book.void_pending(transfer_id, expired)?;
            record_effects(state, writes, &effects, Some(transfer_id), None);
            Ok(Output::Transfer(state.transfers[transfer_id].clone()))
        }
        Command::Reverse { transfer_id, new_id } => {
            let effects = state.book.reverse(transfer_id, new_id)?;
            let original = &state.transfers[transfer_id];
            let record = TransferRecord {
                transfer: state.book.transfers[new_id].clone(),
                pending: false,
                description: Some(format!("reversal of {transfer_id}")),
                reference: original.reference.clone(),
                metadata: Metadata::new(),
                created_at_us: now,
                updated_at_us: now,
            };
            state.transfers.insert(new_id.clone(), record);
            record_effects(state, writes, &effects, Some(new_id), None);
            Ok(Output::Transfer(state.transfers[new_id].clone()))
        }
        Command::Journal(j) => {
            debug_assert!(j.lines.len() >= 2 && j.lines.len() <= JOURNAL_LINES_MAX);
            let effects = state.book.journal(&j.lines)?;
            let record = JournalRecord {
                id: j.id.clone(),
                description: j.description.clone(),
                metadata: j.metadata.clone(),
                lines: journal_lines(&effects),
                created_at_us: now,
            };
            writes.journals.push(record.clone());
            record_effects(state, writes, &effects, None, Some(&j.id));
            Ok(Output::Journal(record))
        }
        Command::ChangeStatus { account_id, change } => {
            let effects = state.book.change_status(account_id, *change)?;
            record_effects(state, writes, &effects, None, None);
            Ok(Output::Account(state.accounts[account_id].clone()))
        }
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
        Command::UpdateUser { user_id, status, kyc_status } => {
            let u = state.user_records.get_mut(user_id).ok_or_else(|| CommandError::UserNotFound(user_id.clone()))?;
            if let Some(st) = status {
                u.status = *st;
            }
            if let Some(k) = kyc_status {
                u.kyc_status = *k;
            }
            u.updated_at_us = now;
            let u = u.clone();
            state.users.insert(u.id.clone(), (u.status, u.kyc_status));
            writes.user_updates.retain(|x| x.id != u.id);
            writes.user_updates.push(u.clone());
            Ok(Output::User(u))
        }
        Command::Risk(c) => rules::apply(state, writes, c),
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
        Command::Audit { .. } => Ok(Output::Recorded),
    }
}

/// The event a successful command publishes: (type, resource type, resource id).
fn event_of(command: &Command, output: &Output) -> Option<(&'static str, &'static str, String)> {
    let kind = match (command, output) {
        (Command::UpdateUser { .. }, Output::User(u)) => return Some(("user.updated", "user", u.id.clone())),
        (_, Output::Payment(p)) => {
            let kind = match p.status {
                PaymentStatus::Completed => "payment.completed",
                PaymentStatus::Failed => "payment.failed",
                PaymentStatus::RequiresReview => "payment.requires_review",
                PaymentStatus::Cancelled => "payment.cancelled",
                _ => return None,
            };
            return Some((kind, "payment", p.id.clone()));
        }
        (_, Output::Refund(r)) => return Some(("refund.created", "payment", r.1.id.clone())),
        (_, Output::Label(l)) => return Some(("payment.labeled", "payment", l.payment_id.clone())),
        (Command::Model(ModelChange::Deploy { .. } | ModelChange::Rollback), Output::Model(m)) => {
            return Some(("risk_model.deployed", "risk_model", m.id.clone()))
        }
        (Command::CreateUser(_), Output::User(u)) => return Some(("user.created", "user", u.id.clone())),
        (Command::CreateAccount(_), _) => "account.created",
        (Command::ChangeStatus { change: StatusChange::Freeze, .. }, _) => "account.frozen",
        (Command::ChangeStatus { change: StatusChange::Unfreeze, .. }, _) => "account.unfrozen",
        (Command::ChangeStatus { change: StatusChange::Close, .. }, _) => "account.closed",
        (Command::Transfer(t), _) if t.spec.pending => "transfer.pending",
        (Command::Transfer(_) | Command::PostPending { .. }, _) => "transfer.posted",
        (Command::VoidPending { .. }, _) => "transfer.voided",
        (Command::Expire { .. }, _) => "transfer.expired",
        (Command::Reverse { .. }, _) => "transfer.reversed",
        (Command::Journal(_), Output::Journal(j)) => {
            return Some(("journal_entry.posted", "journal_entry", j.id.clone()))
        }
        _ => return None,
    };
    match output {
        Output::Account(a) => Some((kind, "account", a.account.id.clone())),
        Output::Transfer(t) => Some((kind, "transfer", t.transfer.id.clone())),
        _ => None,
    }
}

/// The audit action of a command, and the resource it names before it runs.
fn action_of(command: &Command) -> (String, Option<(&'static str, String)>) {
    let (action, resource) = match command {
        Command::CreateUser(u) => ("user.create", Some(("user", u.id.clone()))),
        Command::UpdateUser { user_id, .. } => ("user.update", Some(("user", user_id.clone()))),
        Command::CreateWebhookEndpoint(e) => ("webhook_endpoint.create", Some(("webhook_endpoint", e.id.clone()))),
        Command::Risk(c) => c.action(),
        Command::CreateAccount(a) => ("account.create", Some(("account", a.id.clone()))),
        Command::Transfer(t) => ("transfer.create", Some(("transfer", t.spec.id.clone()))),
        Command::PostPending { transfer_id, .. } => ("transfer.post", Some(("transfer", transfer_id.clone()))),
        Command::VoidPending { transfer_id } => ("transfer.void", Some(("transfer", transfer_id.clone()))),
        Command::Expire { transfer_id } => ("transfer.expire", Some(("transfer", transfer_id.clone()))),
        Command::Reverse { transfer_id, .. } => ("transfer.reverse", Some(("transfer", transfer_id.clone()))),
        Command::Journal(j) => ("journal_entry.create", Some(("journal_entry", j.id.clone()))),
        Command::ChangeStatus { account_id, change } => (
            match change {
                StatusChange::Freeze => "account.freeze",
                StatusChange::Unfreeze => "account.unfreeze",
                StatusChange::Close => "account.close",
            },
            Some(("account", account_id.clone())),
        ),
        Command::CreateApiKey { key, .. } => ("api_key.create", Some(("api_key", key.id.clone()))),
        Command::RevokeApiKey { id } => ("api_key.revoke", Some(("api_key", id.clone()))),
        Command::Payments(c) => c.action(),
        Command::RecordCreditScore(r) => ("credit_score.create", Some(("credit_score", r.id.clone()))),
        Command::Model(c) => {
            let (action, id) = c.action();
            return (action.to_string(), id.map(|id| ("risk_model", id)));
        }
        Command::Audit { action, .. } => return (action.clone(), None),
    };
    (action.to_string(), resource)
}

/// The events of one command's outcome (the resource as the API shows it).
fn events_of(command: &Command, outcome: &Outcome, presenter: &Presenter) -> Vec<Event> {
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
    if let Some((kind, resource_type, resource_id)) = event_of(command, output) {
        events.push(Event { kind, resource_type, resource_id, data: presenter(output) });
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
        (Command::Model(c), Ok(Output::Model(m))) => models::audit_details(c, m),
        (_, Ok(_)) => "{}".to_string(),
        (_, Err(e)) => format!("{{\"error\":{}}}", serde_json::Value::from(e.to_string())),
    };
    // A reversal is recorded against the original transfer; its new id is in the event.
    AuditEntry { action, resource, details }
}

/// A journal entry's lines as posted (with the balance after each).
fn journal_lines(effects: &Effects) -> Vec<JournalLine> {
    effects
        .postings
        .iter()
        .map(|p| JournalLine {
            account_id: p.account_id.clone(),
            direction: p.direction,
            amount: p.amount,
            currency: p.currency,
            balance_after: p.balance_after,
        })
        .collect()
}

/// Folds a command's effects into the batch records and the pending writes.
fn record_effects(
    state: &mut State,
    writes: &mut Writes,
    effects: &Effects,
    transfer: Option<&String>,
    journal: Option<&String>,
) {
    let now = state.now;
    for id in &effects.accounts {
        if let (Some(record), Some(account)) = (state.accounts.get_mut(id), state.book.accounts.get(id)) {
            record.account = account.clone();
            record.updated_at_us = now;
        }
        writes.touched_accounts.insert(id.clone());
    }
    for id in &effects.created_transfers {
        writes.new_transfers.insert(id.clone());
    }
    for id in effects.created_transfers.iter().chain(&effects.updated_transfers) {
        if let (Some(record), Some(t)) = (state.transfers.get_mut(id), state.book.transfers.get(id)) {
            record.transfer = t.clone();
            record.updated_at_us = now;
        }
        writes.touched_transfers.insert(id.clone());
    }
    for p in &effects.postings {
        writes.entries.push(vec![
            Val::T(p.account_id.clone()),
            Val::OT(transfer.cloned()),
            Val::OT(journal.cloned()),
            Val::T(p.direction.as_str().into()),
            Val::I(p.amount),
            Val::T(p.currency.code().into()),
            Val::I(p.balance_after),
            Val::I(now),
        ]);
    }
}

/// Writes everything the batch did, in foreign-key order.
async fn write_all(conn: &mut Conn, state: &State, mut w: Writes) -> Result<(), Abort> {
    let users: Vec<Vec<Val>> = w
        .users
        .iter()
        .map(|u| {
            vec![
                Val::T(u.id.clone()),
                Val::T(u.name.clone()),
                Val::OT(u.email.clone()),
                Val::OT(u.phone.clone()),
                Val::T(u.role.clone()),
                Val::T(u.status.as_str().into()),
                Val::T(u.kyc_status.as_str().into()),
                Val::I(u.created_at_us),
                Val::I(u.updated_at_us),
            ]
        })
        .collect();
    if !users.is_empty() {
        exec_values(
            conn,
            "INSERT INTO users (id, name, email, phone, role, status, kyc_status, created_at, updated_at)",
            9,
            users,
            "",
        )
        .await?;
    }
    let account_row = |id: &String| -> Vec<Val> {
        let r = &state.accounts[id];
        let a = &r.account;
        vec![
            Val::T(a.id.clone()),
            Val::OT(r.user_id.clone()),
            Val::OT(r.name.clone()),
            Val::T(a.currency.code().into()),
            Val::I(i64::from(a.allow_negative_balance)),
            Val::T(a.status.as_str().into()),
            Val::I(a.debits_posted),
            Val::I(a.credits_posted),
            Val::I(a.debits_pending),
            Val::I(a.credits_pending),
            Val::T(metadata_text(&r.metadata)),
            Val::I(r.created_at_us),
            Val::I(r.updated_at_us),
        ]
    };
    let new_accounts: Vec<Vec<Val>> = w.new_accounts.iter().map(account_row).collect();
    if !new_accounts.is_empty() {
        exec_values(conn, &format!("INSERT INTO accounts ({ACCOUNT_COLUMNS})"), 13, new_accounts, "").await?;
    }
    let updated: Vec<Vec<Val>> = w
        .touched_accounts
        .iter()
        .filter(|id| !w.new_accounts.contains(*id))
        .map(|id| {
            let a = &state.accounts[id].account;
            vec![
                Val::T(id.clone()),
                Val::T(a.status.as_str().into()),
                Val::I(a.debits_posted),
                Val::I(a.credits_posted),
                Val::I(a.debits_pending),
                Val::I(a.credits_pending),
                Val::I(state.now),
            ]
        })
        .collect();
    if !updated.is_empty() {
        let n = updated.len() as u64;
        let done = exec_values(
            conn,
            "WITH v (id, status, dp, cp, dpe, cpe, upd) AS (",
            7,
            updated,
            ") UPDATE accounts SET status = v.status, debits_posted = v.dp, credits_posted = v.cp, \
             debits_pending = v.dpe, credits_pending = v.cpe, updated_at = v.upd FROM v WHERE accounts.id = v.id",
        )
        .await?;
        if done != n {
            return Err(Abort::Db(StoreError::Corrupt(format!("updated {done} of {n} accounts"))));
        }
    }
    let journals: Vec<Vec<Val>> = w
        .journals
        .iter()
        .map(|j| {
            vec![
                Val::T(j.id.clone()),
                Val::OT(j.description.clone()),
                Val::T(metadata_text(&j.metadata)),
                Val::I(j.created_at_us),
            ]
        })
        .collect();
    if !journals.is_empty() {
        exec_values(conn, "INSERT INTO journal_entries (id, description, metadata, created_at)", 4, journals, "")
            .await?;
    }
    let transfer_row = |id: &String| -> Vec<Val> {
        let r = &state.transfers[id];
        let t = &r.transfer;
        vec![
            Val::T(t.id.clone()),
            Val::T(t.source_account_id.clone()),
            Val::T(t.destination_account_id.clone()),
            Val::T(t.currency.code().into()),
            Val::I(t.amount),
            Val::I(t.posted_amount),
            Val::T(t.status.as_str().into()),
            Val::I(i64::from(r.pending)),
            Val::OT(r.description.clone()),
            Val::OT(r.reference.clone()),
            Val::T(metadata_text(&r.metadata)),
            Val::OI(t.expires_at_us),
            Val::OT(t.reversal_of.clone()),
            Val::OT(t.reversed_by.clone()),
            Val::I(r.created_at_us),
            Val::I(r.updated_at_us),
        ]
    };
    let new_transfers: Vec<Vec<Val>> = w.new_transfers.iter().map(transfer_row).collect();
    if !new_transfers.is_empty() {
        exec_values(conn, &format!("INSERT INTO transfers ({TRANSFER_COLUMNS})"), 16, new_transfers, "").await?;
    }
    let updated: Vec<Vec<Val>> = w
        .touched_transfers
        .iter()
        .filter(|id| !w.new_transfers.contains(*id))
        .map(|id| {
            let t = &state.transfers[id].transfer;
            vec![
                Val::T(id.clone()),
                Val::T(t.status.as_str().into()),
                Val::I(t.posted_amount),
                Val::OT(t.reversed_by.clone()),
                Val::I(state.now),
            ]
        })
        .collect();
    if !updated.is_empty() {
        exec_values(
            conn,
            "WITH v (id, status, posted, reversed_by, upd) AS (",
            5,
            updated,
            ") UPDATE transfers SET status = v.status, posted_amount = v.posted, reversed_by = v.reversed_by, \
             updated_at = v.upd FROM v WHERE transfers.id = v.id",
        )
        .await?;
    }
    if !w.entries.is_empty() {
        exec_values(
            conn,
            "INSERT INTO entries (account_id, transfer_id, journal_entry_id, direction, amount, currency, balance_after, created_at)",
            8,
            std::mem::take(&mut w.entries),
            "",
        )
        .await?;
    }
    // After transfers: payments and refunds reference them.
    payments::write(conn, state, &mut w).await?;
    labels::write(conn, &mut w).await?;
    settlement::write(conn, &mut w).await?;
    rules::write(conn, &mut w).await?;
    models::write(conn, &mut w).await?;
    assess::write(conn, &mut w).await?;
    assess::write_lists(conn, &mut w, state.now).await?;
    for u in std::mem::take(&mut w.user_updates) {
        let q = "UPDATE users SET status = $1, kyc_status = $2, updated_at = $3 WHERE id = $4";
        let vals = [
            Val::T(u.status.as_str().into()),
            Val::T(u.kyc_status.as_str().into()),
            Val::I(u.updated_at_us),
            Val::T(u.id),
        ];
        conn.execute(q, vals).await?;
    }
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
    for e in std::mem::take(&mut w.webhook_endpoints) {
        let types = serde_json::to_string(&e.event_types).unwrap_or_else(|_| "[]".into());
        let q = "INSERT INTO webhook_endpoints (id, url, secret, event_types, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)";
        conn.execute(
            q,
            [Val::T(e.id), Val::T(e.url), Val::T(e.secret), Val::T(types), Val::T(e.status), Val::I(e.created_at_us)],
        )
        .await?;
    }
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
