//! The write-side seam: what a storage driver implements for the batch loop.

use std::collections::HashMap;

use crate::outbox::{Described, NewAudit, NewEvent};

/// Why a batch attempt stopped before its commit.
#[derive(Debug)]
pub enum Abort {
    /// Another process committed one of the batch's idempotency keys meanwhile: the batch is
    /// retried, and the retry replays that process's answer.
    KeyRace,
    /// The database failed (a lock timeout, a serialization conflict, a lost connection, a
    /// constraint the command broke). Logged, never shown to clients.
    Db(Box<dyn std::error::Error + Send + Sync>),
}

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Abort::KeyRace => f.write_str("an idempotency key was committed concurrently"),
            Abort::Db(e) => write!(f, "{e}"),
        }
    }
}

/// The failure the engine answers when a command could not be applied: the database failed,
/// the writer stopped, or the commit's outcome is unknown. A backend's command error must be
/// able to say it (`impl From<Unavailable> for MyError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

/// An idempotency record found by [`Backend::stored_answers`] (only live ones: a record past
/// its expiry is as good as none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// SHA-256 of the request that stored it.
    pub request_hash: String,
    /// Its HTTP status.
    pub status: u16,
    /// Its body.
    pub body: String,
}

/// An idempotency record to store in the batch's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerRow {
    /// `<api key id>:<Idempotency-Key>`.
    pub scope_key: String,
    /// SHA-256 of method, path and body.
    pub request_hash: String,
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: String,
    /// µs.
    pub created_at_us: i64,
    /// µs.
    pub expires_at_us: i64,
}

/// A storage driver for the batch loop. One value per process lives on the writer's own
/// thread and single-threaded runtime, so its futures need not be `Send`.
///
/// One attempt of a batch calls, in order: [`connect`](Backend::connect) (once, then only after
/// a [`disconnect`](Backend::disconnect)), [`begin`](Backend::begin),
/// [`stored_answers`](Backend::stored_answers), [`load`](Backend::load) (which takes the
/// batch's locks in [`crate::LOCK_ORDER`]), [`apply`](Backend::apply) and
/// [`describe`](Backend::describe) for each live command, [`persist`](Backend::persist),
/// [`store_answers`](Backend::store_answers), [`append_outbox`](Backend::append_outbox),
/// [`commit`](Backend::commit), then [`committed`](Backend::committed). Any error before the
/// commit leads to [`roll_back`](Backend::roll_back); an error of `commit` itself means the
/// outcome is unknown, and the engine disconnects and never retries that batch.
#[allow(async_fn_in_trait)] // the writer runs these on its own thread: no `Send` bound wanted
pub trait Backend: 'static {
    /// The commands it applies (a sum of the domains' commands).
    type Command: Send + 'static;
    /// What a command produces.
    type Output: Send + 'static;
    /// Why a command is refused.
    type Error: From<Unavailable> + Send + 'static;
    /// A batch's loaded state, and what it will persist, gathered while applying.
    type Batch;

    /// Now, µs since the epoch (one value per batch attempt).
    fn now(&self) -> i64;
    /// Makes sure there is a live connection.
    async fn connect(&mut self) -> Result<(), Abort>;
    /// Forgets the connection (the next attempt opens a new one).
    fn disconnect(&mut self);
    /// Opens the batch's transaction.
    async fn begin(&mut self) -> Result<(), Abort>;
    /// The live stored answers for these idempotency keys, by key.
    async fn stored_answers(&mut self, keys: &[&str], now: i64) -> Result<HashMap<String, StoredAnswer>, Abort>;
    /// Loads, and locks in [`crate::LOCK_ORDER`], everything the commands read or change.
    async fn load(&mut self, commands: &[&Self::Command], now: i64) -> Result<Self::Batch, Abort>;
    /// Applies one command to the batch. A refused command leaves the batch as it was.
    fn apply(&self, batch: &mut Self::Batch, command: &Self::Command) -> Result<Self::Output, Self::Error>;
    /// The events of one applied (or refused) command and, when `audited`, its audit entry.
    /// (The batch holds events the command raised while applying, such as risk alerts.)
    /// `answer` is the outcome as rendered for its idempotency record, when it has one: a
    /// backend whose event carries the same rendering reuses it instead of rendering twice.
    fn describe(
        &self,
        batch: &mut Self::Batch,
        command: &Self::Command,
        outcome: &Result<Self::Output, Self::Error>,
        answer: Option<&str>,
        audited: bool,
    ) -> Described;
    /// Writes what the batch changed.
    async fn persist(&mut self, batch: Self::Batch) -> Result<(), Abort>;
    /// Stores the batch's idempotency records. [`Abort::KeyRace`] when a live record with one of
    /// these keys appeared since [`stored_answers`](Backend::stored_answers).
    async fn store_answers(&mut self, rows: Vec<AnswerRow>) -> Result<(), Abort>;
    /// Appends the batch's events and audit records (the audit hash chain continues).
    async fn append_outbox(&mut self, now: i64, events: Vec<NewEvent>, audits: Vec<NewAudit>) -> Result<(), Abort>;
    /// Commits. An error here means the outcome is unknown.
    async fn commit(&mut self) -> Result<(), Abort>;
    /// After a commit, before anyone is answered (e.g. shared risk windows learn the batch).
    async fn committed(&mut self);
    /// Rolls the open transaction back; disconnects itself if that fails.
    async fn roll_back(&mut self);
}
