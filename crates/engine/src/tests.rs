//! The batch loop against an in-memory backend with transactions and injectable faults: what
//! the loop promises whatever the database (SQLite and PostgreSQL are tried through the HTTP
//! suite).
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use super::*;

#[derive(Debug, Clone)]
enum Cmd {
    /// Adds to a counter; refused when it would go below zero.
    Add(&'static str, i64),
    /// Applies, but the database refuses to persist any batch holding it.
    Poison,
}

#[derive(Debug, Clone, PartialEq)]
enum Error {
    Negative,
    Unavailable(String),
}

impl From<Unavailable> for Error {
    fn from(u: Unavailable) -> Self {
        Error::Unavailable(u.0)
    }
}

#[derive(Default)]
struct Db {
    counters: HashMap<&'static str, i64>,
    answers: HashMap<String, AnswerRow>,
    events: Vec<NewEvent>,
    audits: Vec<NewAudit>,
    applied: usize,
    /// Commits that land but report failure (outcome unknown).
    commits_lost: usize,
}

struct Tx {
    db: Db,
    poisoned: bool,
}

struct Memory {
    db: Arc<Mutex<Db>>,
    tx: Option<Tx>,
    /// Each `begin` waits for a permit.
    gate: Arc<Semaphore>,
}

impl Backend for Memory {
    type Command = Cmd;
    type Output = i64;
    type Error = Error;
    type Batch = Tx;

    fn now(&self) -> i64 {
        1_000_000
    }
    async fn connect(&mut self) -> Result<(), Abort> {
        Ok(())
    }
    fn disconnect(&mut self) {
        self.tx = None;
    }
    async fn begin(&mut self) -> Result<(), Abort> {
        self.gate.acquire().await.unwrap().forget();
        Ok(())
    }
    async fn stored_answers(&mut self, keys: &[&str], now: i64) -> Result<HashMap<String, StoredAnswer>, Abort> {
        let db = self.db.lock().unwrap();
        Ok(keys
            .iter()
            .filter_map(|k| db.answers.get(*k))
            .filter(|a| a.expires_at_us > now)
            .map(|a| {
                let answer =
                    StoredAnswer { request_hash: a.request_hash.clone(), status: a.status, body: a.body.clone() };
                (a.scope_key.clone(), answer)
            })
            .collect())
    }
    async fn load(&mut self, _: &[&Cmd], _: i64) -> Result<Tx, Abort> {
        let db = self.db.lock().unwrap();
        let copy = Db { counters: db.counters.clone(), applied: db.applied, ..Db::default() };
        Ok(Tx { db: copy, poisoned: false })
    }
    fn apply(&self, tx: &mut Tx, command: &Cmd) -> Result<i64, Error> {
        match command {
            Cmd::Add(key, n) => {
                let value = tx.db.counters.get(key).copied().unwrap_or(0) + n;
                if value < 0 {
                    return Err(Error::Negative);
                }
                tx.db.counters.insert(key, value);
                tx.db.applied += 1;
                Ok(value)
            }
            Cmd::Poison => {
                tx.poisoned = true;
                Ok(0)
            }
        }
    }
    fn describe(
        &self,
        _: &mut Tx,
        command: &Cmd,
        outcome: &Result<i64, Error>,
        _: Option<&str>,
        audited: bool,
    ) -> Described {
        let events = match (command, outcome) {
            (Cmd::Add(key, _), Ok(v)) => {
                vec![Event {
                    kind: "counter.added",
                    resource_type: "counter",
                    resource_id: key.to_string(),
                    data: v.to_string(),
                }]
            }
            _ => Vec::new(),
        };
        let audit = audited.then(|| AuditEntry { action: "counter.add".into(), resource: None, details: "{}".into() });
        Described { events, audit }
    }
    async fn persist(&mut self, batch: Tx) -> Result<(), Abort> {
        if batch.poisoned {
            return Err(Abort::Db("poison".into()));
        }
        self.tx = Some(batch);
        Ok(())
    }
    async fn store_answers(&mut self, rows: Vec<AnswerRow>) -> Result<(), Abort> {
        let tx = self.tx.as_mut().unwrap();
        for row in rows {
            tx.db.answers.insert(row.scope_key.clone(), row);
        }
        Ok(())
    }
    async fn append_outbox(&mut self, _: i64, events: Vec<NewEvent>, audits: Vec<NewAudit>) -> Result<(), Abort> {
        let tx = self.tx.as_mut().unwrap();
        tx.db.events.extend(events);
        tx.db.audits.extend(audits);
        Ok(())
    }
    async fn commit(&mut self) -> Result<(), Abort> {
        let tx = self.tx.take().unwrap();
        let mut db = self.db.lock().unwrap();
        db.counters = tx.db.counters;
        db.applied = tx.db.applied;
        db.answers.extend(tx.db.answers);
        db.events.extend(tx.db.events);
        db.audits.extend(tx.db.audits);
        if db.commits_lost > 0 {
            db.commits_lost -= 1;
            return Err(Abort::Db("connection reset during COMMIT".into()));
        }
        Ok(())
    }
    async fn committed(&mut self) {}
    async fn roll_back(&mut self) {
        self.tx = None;
    }
}

async fn start(permits: usize) -> (Writer<Memory>, Arc<Mutex<Db>>, Arc<Semaphore>) {
    let db = Arc::new(Mutex::new(Db::default()));
    let gate = Arc::new(Semaphore::new(permits));
    let backend = Memory { db: db.clone(), tx: None, gate: gate.clone() };
    let config = WriterConfig { attempts_max: 3, ..WriterConfig::default() };
    let writer = Writer::start(config, move || async move { Ok::<_, std::io::Error>(backend) }).await.unwrap();
    (writer, db, gate)
}

fn keyed(key: &str, hash: &str) -> Option<Idempotency<i64, Error>> {
    let render: Renderer<i64, Error> = Arc::new(|o| match o {
        Ok(v) => Some((201, format!("{{\"value\":{v}}}"))),
        Err(Error::Negative) => Some((422, "{\"error\":\"negative\"}".into())),
        Err(Error::Unavailable(_)) => None,
    });
    Some(Idempotency { scope_key: key.into(), request_hash: hash.into(), ttl_us: 60_000_000, render })
}

fn audited() -> Option<AuditContext> {
    Some(AuditContext { actor: "key_1".into(), request_id: Some("req_1".into()), ip: None })
}

/// Submits every command before the writer may begin its first batch, and returns the replies
/// in submission order.
async fn submit_all(
    writer: &Writer<Memory>,
    gate: &Semaphore,
    commands: Vec<(Cmd, Option<Idempotency<i64, Error>>)>,
) -> Vec<Reply<i64, Error>> {
    let mut handles = Vec::new();
    for (command, idem) in commands {
        let w = writer.clone();
        handles.push(tokio::spawn(async move { w.submit(command, idem, audited()).await }));
    }
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    gate.add_permits(1000);
    let mut replies = Vec::new();
    for h in handles {
        replies.push(h.await.unwrap());
    }
    replies
}

fn value(reply: &Reply<i64, Error>) -> Result<i64, Error> {
    match reply {
        Reply::Done { outcome, .. } => outcome.clone(),
        other => panic!("not applied: {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_command_is_applied_once_with_its_event_and_audit_record() {
    let (writer, db, gate) = start(0).await;
    let replies = submit_all(&writer, &gate, (0..50).map(|_| (Cmd::Add("a", 2), None)).collect()).await;
    let mut values: Vec<i64> = replies.iter().map(|r| value(r).unwrap()).collect();
    values.sort_unstable();
    assert_eq!(values, (1..=50).map(|i| i * 2).collect::<Vec<_>>());
    let db = db.lock().unwrap();
    assert_eq!((db.counters["a"], db.events.len(), db.audits.len()), (100, 50, 50));
    assert!(db.audits.iter().all(|a| a.result == "success" && a.request_id.as_deref() == Some("req_1")));
    let stats = writer.stats();
    assert_eq!(stats.commands.load(Ordering::Relaxed), 50);
    assert!(stats.batches.load(Ordering::Relaxed) < 50, "commands share batches");
}

#[tokio::test(flavor = "current_thread")]
async fn a_command_the_database_refuses_fails_alone() {
    let (writer, db, gate) = start(0).await;
    let mut commands: Vec<(Cmd, _)> = (0..20).map(|_| (Cmd::Add("a", 1), None)).collect();
    commands.insert(10, (Cmd::Poison, None));
    let replies = submit_all(&writer, &gate, commands).await;
    for (i, r) in replies.iter().enumerate() {
        match (i, value(r)) {
            (10, Err(Error::Unavailable(m))) => assert_eq!(m, "the database failed this request; nothing was applied"),
            (10, other) => panic!("the poison command answered {other:?}"),
            (_, v) => assert!(v.is_ok(), "command {i} answered {v:?}"),
        }
    }
    assert_eq!(db.lock().unwrap().counters["a"], 20);
    assert!(writer.stats().retries.load(Ordering::Relaxed) > 0);
    assert_eq!(writer.stats().failures.load(Ordering::Relaxed), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_commit_with_an_unknown_outcome_is_never_applied_twice() {
    let (writer, db, gate) = start(1000).await;
    db.lock().unwrap().commits_lost = 1;
    let reply = writer.submit(Cmd::Add("a", 5), keyed("k1", "h1"), None).await;
    assert_eq!(
        value(&reply),
        Err(Error::Unavailable("commit outcome unknown; retry with the same Idempotency-Key".into()))
    );
    let landed = db.lock().map(|db| (db.counters["a"], db.applied)).unwrap();
    assert_eq!(landed, (5, 1));
    // The client retries with its key: the commit had landed, so it gets the stored answer.
    let replies = submit_all(&writer, &gate, vec![(Cmd::Add("a", 5), keyed("k1", "h1"))]).await;
    assert!(matches!(&replies[0], Reply::Replayed { status: 201, body } if body == "{\"value\":5}"), "{replies:?}");
    assert_eq!(db.lock().unwrap().counters["a"], 5);
}

#[tokio::test(flavor = "current_thread")]
async fn a_key_replays_its_answer_and_refuses_another_request() {
    let (writer, db, gate) = start(0).await;
    // The same key twice in what is likely one batch, then again in later batches.
    let twice = vec![(Cmd::Add("a", 3), keyed("k", "h")), (Cmd::Add("a", 3), keyed("k", "h"))];
    let replies = submit_all(&writer, &gate, twice).await;
    assert!(matches!(&replies[0], Reply::Done { outcome: Ok(3), stored: Some((201, _)) }), "{replies:?}");
    assert!(matches!(&replies[1], Reply::Replayed { status: 201, .. }), "{replies:?}");
    let again = writer.submit(Cmd::Add("a", 3), keyed("k", "h"), None).await;
    assert!(matches!(again, Reply::Replayed { status: 201, ref body } if body == "{\"value\":3}"));
    let other = writer.submit(Cmd::Add("a", 4), keyed("k", "other body"), None).await;
    assert!(matches!(other, Reply::KeyReused));
    let db = db.lock().unwrap();
    assert_eq!((db.counters["a"], db.applied, db.answers.len()), (3, 1, 1));
}

#[tokio::test(flavor = "current_thread")]
async fn a_refused_command_changes_nothing_and_is_audited_as_a_failure() {
    let (writer, db, gate) = start(0).await;
    let commands = vec![(Cmd::Add("a", 1), None), (Cmd::Add("a", -5), keyed("k", "h")), (Cmd::Add("a", 1), None)];
    let replies = submit_all(&writer, &gate, commands).await;
    assert_eq!(value(&replies[1]), Err(Error::Negative));
    let Reply::Done { stored, .. } = &replies[1] else { unreachable!() };
    assert_eq!(stored.as_ref().map(|s| s.0), Some(422), "a refusal is stored with its key");
    let db = db.lock().unwrap();
    assert_eq!(db.counters["a"], 2);
    assert_eq!(db.events.len(), 2, "no event for a refusal");
    let results: Vec<&str> = db.audits.iter().map(|a| a.result).collect();
    assert_eq!(results.iter().filter(|r| **r == "failure").count(), 1);
}

#[test]
fn locks_in_order_pass_and_out_of_order_panics() {
    let mut order = LockOrder::default();
    for what in ["payments", "accounts", "accounts", "velocity", "ledger_heads"] {
        order.take(what);
    }
    let out_of_order = std::panic::catch_unwind(|| {
        let mut order = LockOrder::default();
        order.take("accounts");
        order.take("payments");
    });
    assert!(out_of_order.is_err());
    assert!(std::panic::catch_unwind(|| LockOrder::default().take("no such table")).is_err());
    let mut seen = std::collections::BTreeSet::new();
    assert!(LOCK_ORDER.iter().all(|t| seen.insert(*t)), "LOCK_ORDER names each lock once");
}
