//! The group-commit writer.
//!
//! One task per process owns the backend (one database connection). Requests arrive on a
//! bounded channel; the task takes everything that is waiting (up to
//! [`WriterConfig::batch_commands_max`]) and applies it in ONE database transaction:
//!
//! 1. look up the idempotency records of the batch (replay, or refuse a reused key);
//! 2. load, and lock in [`crate::LOCK_ORDER`], everything the batch touches;
//! 3. apply each command to the loaded state; each succeeds or fails on its own, and a failed
//!    command leaves the state as it was; a key repeated inside the batch is answered from its
//!    first occurrence;
//! 4. persist what changed, the idempotency record of every keyed command (its stored answer
//!    rendered once), then the events and audit records;
//! 5. commit, then answer every request.
//!
//! While one batch waits for its commit (the fsync), the next one fills up: the cost of a
//! durable commit is shared by every request in the batch. A batch that keeps failing is split
//! in halves until the command the database refuses fails alone; a failed COMMIT (outcome
//! unknown) is never retried: its clients are told to retry with their idempotency keys.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::backend::{Abort, AnswerRow, Backend, Unavailable};
use crate::outbox::{self, AuditContext};

/// Renders the HTTP answer to store with an idempotency record: `(status, body)`; `None`
/// stores nothing (for outcomes a retry may change, such as the database being unavailable).
pub type Renderer<O, E> = Arc<dyn Fn(&Result<O, E>) -> Option<(u16, String)> + Send + Sync>;

/// The idempotency part of a request.
pub struct Idempotency<O, E> {
    /// `<api key id>:<Idempotency-Key>`.
    pub scope_key: String,
    /// SHA-256 of method, path and body.
    pub request_hash: String,
    /// How long the record lives, µs.
    pub ttl_us: i64,
    /// Renders the stored answer.
    pub render: Renderer<O, E>,
}

impl<O, E> Clone for Idempotency<O, E> {
    fn clone(&self) -> Self {
        Idempotency {
            scope_key: self.scope_key.clone(),
            request_hash: self.request_hash.clone(),
            ttl_us: self.ttl_us,
            render: self.render.clone(),
        }
    }
}

/// The writer's answer to one request. (Moved once per request; boxing would only add an
/// allocation.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Reply<O, E> {
    /// Applied (or refused) now.
    Done {
        /// The outcome.
        outcome: Result<O, E>,
        /// The stored answer, when an idempotency key was given and stored.
        stored: Option<(u16, String)>,
    },
    /// An earlier request with the same key and body: its stored answer.
    Replayed {
        /// Stored HTTP status.
        status: u16,
        /// Stored body.
        body: String,
    },
    /// The key was used before with a different request.
    KeyReused,
}

/// Writer tuning.
#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Most commands in one transaction.
    pub batch_commands_max: usize,
    /// Requests that may wait for the writer before callers wait for room.
    pub queue_depth_max: usize,
    /// Attempts of a batch after database errors (lock timeouts, conflicts) before failing it.
    pub attempts_max: u32,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig { batch_commands_max: 2048, queue_depth_max: 65_536, attempts_max: 5 }
    }
}

/// Counters the writer keeps for `/metrics`.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Committed batches.
    pub batches: AtomicU64,
    /// Commands in committed batches.
    pub commands: AtomicU64,
    /// Batches retried after a database error.
    pub retries: AtomicU64,
    /// Batches failed after all attempts.
    pub failures: AtomicU64,
    /// Total time in batches, µs.
    pub batch_time_us: AtomicU64,
}

type ReplyOf<B> = Reply<<B as Backend>::Output, <B as Backend>::Error>;

struct Envelope<B: Backend> {
    command: B::Command,
    idempotency: Option<Idempotency<B::Output, B::Error>>,
    audit: Option<AuditContext>,
    reply: oneshot::Sender<ReplyOf<B>>,
}

/// Handle to the writer task. Cheap to clone.
pub struct Writer<B: Backend> {
    tx: mpsc::Sender<Envelope<B>>,
    stats: Arc<WriterStats>,
}

impl<B: Backend> Clone for Writer<B> {
    fn clone(&self) -> Self {
        Writer { tx: self.tx.clone(), stats: self.stats.clone() }
    }
}

impl<B: Backend> Writer<B> {
    /// Starts the writer on its own thread and runtime, with the backend `open` makes there:
    /// when the database answers, the writer continues at once instead of queueing behind
    /// hundreds of HTTP tasks, so the database is never left idle waiting for it.
    pub async fn start<F, Fut, X>(config: WriterConfig, open: F) -> Result<Self, X>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<B, X>>,
        X: From<std::io::Error> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(config.queue_depth_max);
        let stats = Arc::new(WriterStats::default());
        let (ready_tx, ready_rx) = oneshot::channel::<Result<(), X>>();
        let task_stats = stats.clone();
        std::thread::Builder::new()
            .name("rialto-writer".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let backend = match open().await {
                        Ok(b) => b,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    Task { backend, rx, config, stats: task_stats }.run().await;
                });
            })
            .map_err(X::from)?;
        let ended = || X::from(std::io::Error::other("the writer thread ended before it started"));
        ready_rx.await.map_err(|_| ended())??;
        Ok(Writer { tx, stats })
    }

    /// Submits a command and waits for its answer.
    pub async fn submit(
        &self,
        command: B::Command,
        idempotency: Option<Idempotency<B::Output, B::Error>>,
        audit: Option<AuditContext>,
    ) -> ReplyOf<B> {
        let (reply, rx) = oneshot::channel();
        let gone = || Reply::Done { outcome: Err(Unavailable("writer stopped".into()).into()), stored: None };
        if self.tx.send(Envelope { command, idempotency, audit, reply }).await.is_err() {
            return gone();
        }
        rx.await.unwrap_or_else(|_| gone())
    }

    /// The writer's counters.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }
}

struct Task<B: Backend> {
    backend: B,
    rx: mpsc::Receiver<Envelope<B>>,
    config: WriterConfig,
    stats: Arc<WriterStats>,
}

/// A stored answer by scope key, inside one batch: (request hash, answer).
type Seen<'a> = HashMap<&'a str, (&'a str, Option<(u16, String)>)>;

impl<B: Backend> Task<B> {
    async fn run(mut self) {
        while let Some(first) = self.rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < self.config.batch_commands_max {
                match self.rx.try_recv() {
                    Ok(e) => batch.push(e),
                    Err(_) => break,
                }
            }
            self.process(batch).await;
        }
    }

    /// Commits a batch. If it keeps failing with a database error, it is split in halves and
    /// each half tried alone, so that one command the database refuses (a poison pill) fails
    /// alone instead of taking the other requests of its batch with it.
    async fn process(&mut self, batch: Vec<Envelope<B>>) {
        let mut pending = vec![batch];
        while let Some(batch) = pending.pop() {
            if let Some(mut failed) = self.try_batch(batch).await {
                let second = failed.split_off(failed.len() / 2);
                pending.push(second);
                pending.push(failed);
            }
        }
    }

    /// Tries a batch a few times. Returns it back when it failed and is worth splitting.
    async fn try_batch(&mut self, batch: Vec<Envelope<B>>) -> Option<Vec<Envelope<B>>> {
        let started = Instant::now();
        let mut last_error = String::new();
        // A batch of several commands is split after two failures; one command alone gets
        // every attempt.
        let attempts = if batch.len() > 1 { self.config.attempts_max.min(2) } else { self.config.attempts_max };
        let mut split = batch.len() > 1;
        for attempt in 0..attempts {
            if attempt > 0 {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5 << attempt.min(6))).await;
            }
            if let Err(e) = self.backend.connect().await {
                // The database is unreachable: splitting would not help.
                tracing::warn!(error = %e, attempt, "ledger writer cannot connect");
                split = false;
                last_error = "the database is unreachable; nothing was applied".into();
                continue;
            }
            match self.attempt(&batch).await {
                Ok(replies) => {
                    self.backend.committed().await;
                    self.count(batch.len(), started);
                    for (envelope, reply) in batch.into_iter().zip(replies) {
                        let _ = envelope.reply.send(reply);
                    }
                    return None;
                }
                Err((abort, commit_failed)) => {
                    self.backend.roll_back().await;
                    if commit_failed {
                        // The COMMIT itself failed: it may or may not have landed. Do not
                        // apply the batch twice; tell the clients to retry with their keys.
                        tracing::error!(error = %abort, commands = batch.len(), "ledger commit outcome unknown");
                        self.backend.disconnect();
                        split = false;
                        last_error = "commit outcome unknown; retry with the same Idempotency-Key".into();
                        break;
                    }
                    match abort {
                        Abort::KeyRace => last_error = "idempotency key committed concurrently".into(),
                        Abort::Db(e) => {
                            tracing::warn!(error = %e, attempt, commands = batch.len(), "ledger batch failed; retrying");
                            // Clients get our words, not the database's internals.
                            last_error = "the database failed this request; nothing was applied".into();
                        }
                    }
                }
            }
        }
        if split {
            return Some(batch);
        }
        self.stats.failures.fetch_add(1, Ordering::Relaxed);
        tracing::error!(error = %last_error, commands = batch.len(), "ledger batch failed");
        for envelope in batch {
            let outcome = Err(Unavailable(last_error.clone()).into());
            let _ = envelope.reply.send(Reply::Done { outcome, stored: None });
        }
        None
    }

    fn count(&self, commands: usize, started: Instant) {
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        self.stats.commands.fetch_add(commands as u64, Ordering::Relaxed);
        let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.stats.batch_time_us.fetch_add(us, Ordering::Relaxed);
    }

    /// One attempt of a batch. On error, the bool says whether COMMIT itself failed.
    async fn attempt(&mut self, batch: &[Envelope<B>]) -> Result<Vec<ReplyOf<B>>, (Abort, bool)> {
        self.backend.begin().await.map_err(|e| (e, false))?;
        let replies = self.apply(batch).await.map_err(|e| (e, false))?;
        self.backend.commit().await.map_err(|e| (e, true))?;
        Ok(replies)
    }

    async fn apply(&mut self, batch: &[Envelope<B>]) -> Result<Vec<ReplyOf<B>>, Abort> {
        let now = self.backend.now();
        let mut replies = self.replay(batch, now).await?;
        let live: Vec<usize> = (0..batch.len()).filter(|&i| replies[i].is_none()).collect();
        let commands: Vec<&B::Command> = live.iter().map(|&i| &batch[i].command).collect();
        let mut loaded = self.backend.load(&commands, now).await?;
        let (mut answers, mut events, mut audits) = (Vec::new(), Vec::new(), Vec::new());
        // A key may appear twice in one batch (a client retrying after its first connection
        // dropped): the first occurrence runs, later ones are answered from it.
        let mut seen: Seen<'_> = HashMap::new();
        for &i in &live {
            let envelope = &batch[i];
            if let Some(reply) = envelope.idempotency.as_ref().and_then(|idem| repeated(&seen, idem)) {
                replies[i] = Some(reply);
                continue;
            }
            let outcome = self.backend.apply(&mut loaded, &envelope.command);
            let stored = envelope.idempotency.as_ref().and_then(|idem| {
                let stored = (idem.render)(&outcome);
                if let Some((status, body)) = &stored {
                    answers.push(AnswerRow {
                        scope_key: idem.scope_key.clone(),
                        request_hash: idem.request_hash.clone(),
                        status: *status,
                        body: body.clone(),
                        created_at_us: now,
                        expires_at_us: now.saturating_add(idem.ttl_us),
                    });
                }
                seen.insert(idem.scope_key.as_str(), (idem.request_hash.as_str(), stored.clone()));
                stored
            });
            let answer = stored.as_ref().map(|(_, body)| body.as_str());
            let described =
                self.backend.describe(&mut loaded, &envelope.command, &outcome, answer, envelope.audit.is_some());
            outbox::record(described, envelope.audit.as_ref(), outcome.is_ok(), &mut events, &mut audits);
            replies[i] = Some(Reply::Done { outcome, stored });
        }
        self.backend.persist(loaded).await?;
        if !answers.is_empty() {
            self.backend.store_answers(answers).await?;
        }
        self.backend.append_outbox(now, events, audits).await?;
        Ok(replies.into_iter().map(|r| r.unwrap_or(Reply::KeyReused)).collect())
    }

    /// The answers of requests whose key has a live stored answer (`None` for the others).
    async fn replay(&mut self, batch: &[Envelope<B>], now: i64) -> Result<Vec<Option<ReplyOf<B>>>, Abort> {
        let mut replies: Vec<Option<ReplyOf<B>>> = batch.iter().map(|_| None).collect();
        let keys: Vec<&str> =
            batch.iter().filter_map(|e| e.idempotency.as_ref().map(|i| i.scope_key.as_str())).collect();
        if keys.is_empty() {
            return Ok(replies);
        }
        let found = self.backend.stored_answers(&keys, now).await?;
        for (i, e) in batch.iter().enumerate() {
            let Some(idem) = &e.idempotency else { continue };
            if let Some(answer) = found.get(&idem.scope_key) {
                replies[i] = Some(if answer.request_hash == idem.request_hash {
                    Reply::Replayed { status: answer.status, body: answer.body.clone() }
                } else {
                    Reply::KeyReused
                });
            }
        }
        Ok(replies)
    }
}

/// The answer to a key already run earlier in the same batch.
fn repeated<O, E: From<Unavailable>>(seen: &Seen<'_>, idem: &Idempotency<O, E>) -> Option<Reply<O, E>> {
    let (hash, stored) = seen.get(idem.scope_key.as_str())?;
    Some(match stored {
        Some((status, body)) if *hash == idem.request_hash => Reply::Replayed { status: *status, body: body.clone() },
        Some(_) => Reply::KeyReused,
        None => {
            Reply::Done { outcome: Err(Unavailable("the same key is being processed".into()).into()), stored: None }
        }
    })
}
