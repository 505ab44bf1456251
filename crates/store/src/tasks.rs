//! Leases and run records of scheduled tasks.

use sqlx::Row;

use crate::db::{Db, StoreError};

/// One recorded run of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRun {
    /// `run_…`
    pub id: String,
    /// Task name.
    pub name: String,
    /// The process that ran it.
    pub owner: String,
    /// `succeeded` or `failed`.
    pub status: String,
    /// Start, µs.
    pub started_at_us: i64,
    /// Duration, µs.
    pub duration_us: i64,
    /// Items handled.
    pub processed: i64,
    /// Error, if failed.
    pub error: Option<String>,
}

/// Runs kept per task; older ones are deleted as new ones are recorded.
pub const TASK_RUNS_KEPT: i64 = 1_000;

impl Db {
    /// Takes (or renews) the lease of `name` for `owner` until `until_us`; false when another
    /// owner holds an unexpired lease.
    pub async fn try_lease(&self, name: &str, owner: &str, now_us: i64, until_us: i64) -> Result<bool, StoreError> {
        sqlx::query(
            "INSERT INTO task_leases (name, owner, lease_until) VALUES ($1, $2, 0) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name.to_string())
        .bind(owner.to_string())
        .execute(self.pool())
        .await?;
        let done = sqlx::query(
            "UPDATE task_leases SET owner = $1, lease_until = $2 WHERE name = $3 AND (lease_until <= $4 OR owner = $1)",
        )
        .bind(owner.to_string())
        .bind(until_us)
        .bind(name.to_string())
        .bind(now_us)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a run and trims the task's history to [`TASK_RUNS_KEPT`] runs.
    pub async fn record_run(&self, run: &TaskRun) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO task_runs (id, name, owner, status, started_at, duration_us, processed, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(run.id.clone())
        .bind(run.name.clone())
        .bind(run.owner.clone())
        .bind(run.status.clone())
        .bind(run.started_at_us)
        .bind(run.duration_us)
        .bind(run.processed)
        .bind(run.error.clone())
        .execute(self.pool())
        .await?;
        sqlx::query(&format!(
            "DELETE FROM task_runs WHERE name = $1 AND id < (SELECT id FROM task_runs WHERE name = $1 \
             ORDER BY id DESC LIMIT 1 OFFSET {})",
            TASK_RUNS_KEPT - 1
        ))
        .bind(run.name.clone())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Recent runs, newest first, optionally of one task.
    pub async fn task_runs(&self, name: Option<&str>, limit: usize) -> Result<Vec<TaskRun>, StoreError> {
        let sql = match name {
            Some(_) => {
                format!("SELECT * FROM task_runs WHERE name = $1 ORDER BY id DESC LIMIT {limit}")
            }
            None => format!("SELECT * FROM task_runs ORDER BY id DESC LIMIT {limit}"),
        };
        let mut q = sqlx::query(&sql);
        if let Some(n) = name {
            q = q.bind(n.to_string());
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(TaskRun {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    owner: r.try_get("owner")?,
                    status: r.try_get("status")?,
                    started_at_us: r.try_get("started_at")?,
                    duration_us: r.try_get("duration_us")?,
                    processed: r.try_get("processed")?,
                    error: r.try_get("error")?,
                })
            })
            .collect()
    }
}
