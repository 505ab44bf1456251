//! The writer on its own, the same scenarios on both backends (a conformance suite below HTTP):
//! several commands in one batch, each with its own answer, and the same idempotency key twice
//! in one batch; a command the database refuses failing alone; task leases.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use rialto_core::ids::{self, new_id};
use rialto_core::ledger::TransferSpec;
use rialto_core::{Amount, Currency};
use rialto_store::{
    Command, CommandError, Db, Idempotency, NewAccount, NewTransfer, Output, Reply, Writer, WriterConfig,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, migrated database on `backend`.
async fn database(backend: Backend) -> Db {
    let url = match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("rialto-writer-{}.db", new_id::<ids::TransferId>()));
            format!("sqlite://{}", path.display())
        }
        Backend::Postgres => {
            let base = std::env::var("RIALTO_TEST_POSTGRES_URL")
                .expect("RIALTO_TEST_POSTGRES_URL must be set when the suite is built and run; .ci/run sets it");
            let admin = Db::connect(&base).await.unwrap();
            let name = format!("rialto_t_{}", new_id::<ids::TransferId>().trim_start_matches("tr_"));
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(admin.pool()).await.unwrap();
            admin.close().await;
            let (prefix, _) = base.rsplit_once('/').unwrap();
            format!("{prefix}/{name}")
        }
    };
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    db
}

/// A `sqlite` and a `postgres` test running `$body(Backend)`.
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)(Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(rialto_postgres), ignore = "needs RIALTO_TEST_POSTGRES_URL at build time")]
            async fn postgres() {
                ($body)(Backend::Postgres).await;
            }
        }
    };
}

async fn writer(db: &Db) -> Writer {
    rialto_store::start_writer(db, WriterConfig::default(), Arc::new(|_| "{}".to_string()), Default::default())
        .await
        .unwrap()
}

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

async fn account(w: &Writer, allow_negative: bool) -> String {
    let cmd = Command::Ledger(rialto_store::LedgerCommand::CreateAccount(NewAccount {
        id: new_id::<ids::AccountId>(),
        currency: usd(),
        user_id: None,
        name: None,
        allow_negative_balance: allow_negative,
        metadata: Default::default(),
    }));
    match w.submit(cmd, None, None).await {
        Reply::Done { outcome: Ok(Output::Account(a)), .. } => a.account.id,
        other => panic!("{other:?}"),
    }
}

fn transfer(src: &str, dst: &str, amount: i64) -> Command {
    Command::Ledger(rialto_store::LedgerCommand::Transfer(NewTransfer {
        spec: TransferSpec {
            id: new_id::<ids::TransferId>(),
            source_account_id: src.into(),
            destination_account_id: dst.into(),
            amount: Amount::new(amount).unwrap(),
            currency: usd(),
            pending: false,
            expires_at_us: None,
        },
        description: None,
        reference: None,
        metadata: Default::default(),
    }))
}

fn idem(key: &str, hash: &str) -> Idempotency {
    Idempotency {
        scope_key: key.into(),
        request_hash: hash.into(),
        ttl_us: 60_000_000,
        render: Arc::new(|o| match o {
            Ok(Output::Transfer(t)) => Some((201, t.transfer.id.clone())),
            Err(e) => Some((422, e.to_string())),
            _ => None,
        }),
    }
}

both!(one_batch_many_answers_and_duplicate_keys, |backend| async move {
    let db = database(backend).await;
    let w = writer(&db).await;
    // The scenario only proves the in-batch path when all four requests share one batch;
    // repeat with fresh accounts and keys until the writer happens to batch them together.
    let mut in_one_batch = false;
    for round in 0..50 {
        let fund = account(&w, true).await;
        let a = account(&w, false).await;
        let b = account(&w, false).await;
        assert!(matches!(w.submit(transfer(&fund, &a, 100), None, None).await, Reply::Done { outcome: Ok(_), .. }));
        let (k1, k2) = (format!("k1-{round}"), format!("k2-{round}"));
        let batches_before = w.stats().batches.load(std::sync::atomic::Ordering::Relaxed);
        // 60 + 60 > 100: one of the two different transfers fails alone; the duplicate key
        // is answered from its first use; the same key with another request is refused.
        let (r1, r2, r3, r4) = tokio::join!(
            w.submit(transfer(&a, &b, 60), Some(idem(&k1, "h1")), None),
            w.submit(transfer(&a, &b, 60), Some(idem(&k1, "h1")), None),
            w.submit(transfer(&a, &b, 60), Some(idem(&k2, "h2")), None),
            w.submit(transfer(&a, &b, 1), Some(idem(&k1, "other")), None),
        );
        let batches = w.stats().batches.load(std::sync::atomic::Ordering::Relaxed) - batches_before;
        let first_id = match r1 {
            Reply::Done { outcome: Ok(Output::Transfer(t)), stored: Some((201, body)) } => {
                assert_eq!(body, t.transfer.id);
                t.transfer.id
            }
            other => panic!("{other:?}"),
        };
        match r2 {
            Reply::Replayed { status: 201, body } => assert_eq!(body, first_id),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            r3,
            Reply::Done {
                outcome: Err(CommandError::Ledger(rialto_core::ledger::LedgerError::InsufficientFunds(_))),
                ..
            }
        ));
        assert!(matches!(r4, Reply::KeyReused), "{r4:?}");
        assert_eq!(db.account(&a).await.unwrap().unwrap().account.posted().unwrap(), 40);
        // Later, the same key replays from the database.
        match w.submit(transfer(&a, &b, 60), Some(idem(&k1, "h1")), None).await {
            Reply::Replayed { status: 201, body } => assert_eq!(body, first_id),
            other => panic!("{other:?}"),
        }
        if batches == 1 {
            in_one_batch = true;
            break;
        }
    }
    assert!(in_one_batch, "the writer never batched the four requests together");
    assert!(db.verify().await.unwrap().ok());
    db.close().await;
});

/// Makes a transfer the database refuses.
type Poison = Box<dyn Fn(&mut NewTransfer) + Send + Sync>;

// A command the database refuses fails alone and does not take the rest of its batch with it
// (the batch is split until it does). The poison: a transfer whose id is already stored (the
// ledger did not load it, so only the database's primary key refuses it), on both backends;
// on PostgreSQL also a NUL character in TEXT, which it refuses (the API refuses it first).
both!(a_command_the_database_refuses_fails_alone, |backend| async move {
    let db = database(backend).await;
    let w = writer(&db).await;
    let fund = account(&w, true).await;
    let a = account(&w, false).await;
    let taken = transfer(&fund, &a, 10);
    assert!(matches!(w.submit(taken.clone(), None, None).await, Reply::Done { outcome: Ok(_), .. }));
    let Command::Ledger(rialto_store::LedgerCommand::Transfer(taken)) = taken else { unreachable!() };
    let mut poisons: Vec<Poison> = vec![Box::new(move |t: &mut NewTransfer| t.spec.id = taken.spec.id.clone())];
    if backend == Backend::Postgres {
        poisons.push(Box::new(|t: &mut NewTransfer| t.description = Some("poison\0pill".into())));
    }
    let mut expected = 10;
    for poison in poisons {
        let poison = Arc::new(poison);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..60 {
            let (w, fund, a, poison) = (w.clone(), fund.clone(), a.clone(), poison.clone());
            tasks.spawn(async move {
                let mut cmd = transfer(&fund, &a, 10);
                if i == 30 {
                    if let Command::Ledger(rialto_store::LedgerCommand::Transfer(t)) = &mut cmd {
                        poison(t);
                    }
                }
                (i, w.submit(cmd, None, None).await)
            });
        }
        let mut ok = 0;
        while let Some(r) = tasks.join_next().await {
            let (i, reply) = r.unwrap();
            match (i, reply) {
                (30, Reply::Done { outcome: Err(CommandError::Unavailable(_)), .. }) => {}
                (30, other) => panic!("the poison command should fail: {other:?}"),
                (_, Reply::Done { outcome: Ok(_), .. }) => ok += 1,
                (i, other) => panic!("command {i} failed with its batch: {other:?}"),
            }
        }
        assert_eq!(ok, 59);
        expected += 590;
        assert_eq!(db.account(&a).await.unwrap().unwrap().account.posted().unwrap(), expected);
    }
    assert!(db.verify().await.unwrap().ok());
    db.close().await;
});

both!(a_task_lease_has_one_holder_until_it_lapses, |backend| async move {
    let db = database(backend).await;
    assert!(db.try_lease("settlement", "a", 1_000, 5_000).await.unwrap());
    assert!(!db.try_lease("settlement", "b", 2_000, 6_000).await.unwrap(), "held by a");
    assert!(db.try_lease("settlement", "a", 3_000, 8_000).await.unwrap(), "the holder renews");
    assert!(!db.try_lease("settlement", "b", 7_999, 9_000).await.unwrap());
    assert!(db.try_lease("settlement", "b", 8_000, 13_000).await.unwrap(), "taken over once lapsed");
    assert!(db.try_lease("other", "a", 8_000, 13_000).await.unwrap(), "leases are per task");
    db.close().await;
});
