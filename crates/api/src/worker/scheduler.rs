//! The scheduler: periodic work (expiring pending transfers, settlement runs, idempotency
//! clean-up, webhook deliveries) run by whichever process holds the task's lease, so several
//! Rialto processes sharing one database run each task once per interval. Runs are recorded
//! (`GET /v1/tasks`).

use rialto_core::ids;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use rialto_store::{AuditContext, Command, Output, Reply, TaskRun};
use tokio::sync::watch;

use crate::AppState;

/// Users one re-screening run screens at most.
const RESCREEN_BATCH_MAX: i64 = 2_000;

/// Items one expiry run voids at most.
const EXPIRE_BATCH_MAX: usize = 1_000;

type TaskFuture = Pin<Box<dyn Future<Output = Result<i64, String>> + Send>>;

/// One periodic task.
struct Task {
    name: &'static str,
    every: Duration,
    /// Record runs that did nothing (false for the every-second tasks).
    record_idle: bool,
    run: fn(AppState) -> TaskFuture,
}

/// The daily reconciliation of every mirror account.
fn reconciliation() -> Task {
    Task {
        name: "reconciliation",
        every: Duration::from_secs(86_400),
        record_idle: true,
        run: |s| Box::pin(async move { crate::recon::daily_task(&s).await }),
    }
}

/// Starts one loop per task.
pub fn spawn_all(state: &AppState, stop: &watch::Sender<bool>) {
    let c = &state.config;
    let mut tasks = vec![
        Task {
            name: "expire_pending",
            every: c.expiry_sweep_interval,
            record_idle: false,
            run: |s| Box::pin(expire(s)),
        },
        Task {
            name: "idempotency_cleanup",
            every: Duration::from_secs(60),
            record_idle: true,
            run: |s| Box::pin(cleanup(s)),
        },
        Task {
            name: "webhook_delivery",
            every: c.webhook_interval,
            record_idle: false,
            run: |s| Box::pin(super::delivery::deliver_due(s)),
        },
    ];
    tasks.push(Task {
        name: "sanctions_rescreen",
        every: c.sanctions_rescreen_interval,
        record_idle: false,
        run: |s| Box::pin(async move { crate::sanctions::rescreen(&s, RESCREEN_BATCH_MAX).await }),
    });
    tasks.push(Task {
        name: "kyc_expiry",
        every: c.kyc_expiry_interval,
        record_idle: false,
        run: |s| Box::pin(async move { crate::kyc::expire(&s).await }),
    });
    tasks.push(Task {
        name: "aml_monitor",
        every: c.aml_monitor_interval,
        record_idle: false,
        run: |s| Box::pin(async move { crate::cases::monitor(&s).await }),
    });
    tasks.push(Task {
        name: "ctr_filing",
        every: c.ctr_interval,
        record_idle: true,
        run: |s| Box::pin(async move { crate::cases::ctr_task(&s).await }),
    });
    tasks.push(reconciliation());
    if !c.sanctions_sources.is_empty() {
        tasks.push(Task {
            name: "sanctions_refresh",
            every: c.sanctions_refresh_interval,
            record_idle: true,
            run: |s| Box::pin(async move { crate::sanctions::fetch_all(&s).await }),
        });
    }
    if state.nats.is_some() {
        tasks.push(Task { name: "nats_relay", every: c.nats_interval, record_idle: false, run: |s| Box::pin(nats(s)) });
    }
    if let Some(every) = c.settlement_interval {
        tasks.push(Task { name: "settlement", every, record_idle: true, run: |s| Box::pin(settle(s)) });
    }
    let owner = format!("{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
    for task in tasks {
        tokio::spawn(run_loop(state.clone(), stop.subscribe(), task, owner.clone()));
    }
}

async fn run_loop(state: AppState, mut stop: watch::Receiver<bool>, task: Task, owner: String) {
    // The lease outlives a few intervals so that the holder keeps it while alive; another
    // process takes over once it lapses.
    let lease = (task.every * 3).max(Duration::from_secs(3));
    let lease_us = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(task.every) => {}
            _ = stop.changed() => return,
        }
        let now = rialto_store::now_us();
        match state.db.try_lease(task.name, &owner, now, now.saturating_add(lease_us)).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(task = task.name, error = %e, "cannot take the task lease");
                continue;
            }
        }
        let started = Instant::now();
        let result = (task.run)(state.clone()).await;
        let duration_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
        let (status, processed, error) = match result {
            Ok(n) => ("succeeded", n, None),
            Err(e) => {
                tracing::warn!(task = task.name, error = %e, "task failed");
                ("failed", 0, Some(e))
            }
        };
        if processed == 0 && error.is_none() && !task.record_idle {
            continue;
        }
        let run = TaskRun {
            id: ids::new_id::<ids::TaskRunId>(),
            name: task.name.to_string(),
            owner: owner.clone(),
            status: status.to_string(),
            started_at_us: now,
            duration_us,
            processed,
            error,
        };
        if let Err(e) = state.db.record_run(&run).await {
            tracing::warn!(task = task.name, error = %e, "cannot record the task run");
        }
    }
}

fn system(actor: &str) -> Option<AuditContext> {
    Some(AuditContext { actor: format!("system:{actor}"), request_id: None, ip: None })
}

/// Voids pending transfers past their expiry, through the writer like any other command.
async fn expire(state: AppState) -> Result<i64, String> {
    let ids = state.db.expired_pending(rialto_store::now_us(), EXPIRE_BATCH_MAX).await.map_err(|e| e.to_string())?;
    let mut tasks = tokio::task::JoinSet::new();
    for transfer_id in ids {
        let writer = state.writer.clone();
        tasks.spawn(async move {
            writer
                .submit(Command::Ledger(rialto_store::LedgerCommand::Expire { transfer_id }), None, system("expiry"))
                .await
        });
    }
    let mut expired = 0;
    while let Some(r) = tasks.join_next().await {
        if let Ok(Reply::Done { outcome: Ok(_), .. }) = r {
            expired += 1;
        }
    }
    Ok(expired)
}

/// Deletes idempotency records past their lifetime.
async fn cleanup(state: AppState) -> Result<i64, String> {
    let n = state.db.delete_expired_idempotency(rialto_store::now_us()).await.map_err(|e| e.to_string())?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A settlement run over every pending clearing.
async fn settle(state: AppState) -> Result<i64, String> {
    match state
        .writer
        .submit(
            Command::Payments(rialto_payments::Command::Settle { destination_account_id: None }),
            None,
            system("settlement"),
        )
        .await
    {
        Reply::Done { outcome: Ok(Output::Settlements(list)), .. } => Ok(i64::try_from(list.len()).unwrap_or(0)),
        Reply::Done { outcome: Err(e), .. } => Err(e.to_string()),
        _ => Err("unexpected answer from the ledger writer".into()),
    }
}

/// Publishes new events to NATS JetStream.
async fn nats(state: AppState) -> Result<i64, String> {
    match state.nats.clone() {
        Some(relay) => relay.publish_new(&state).await,
        None => Ok(0),
    }
}
