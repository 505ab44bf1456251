//! What a refused request costs: almost nothing. Failed authentications are throttled per
//! client address (429 with `Retry-After`), unknown keys are remembered (`crate::auth`), and every refusal is audited off
//! the request path: refusals are counted in memory, grouped by who, from where and why, and
//! a background flush writes one audit record per group and second. Under a flood the audit log
//! grows by a bounded number of records, each carrying its count; none is dropped.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rialto_store::{AuditContext, Command, Reply};
use serde_json::json;
use tokio::sync::watch;

use crate::AppState;

/// Failed authentications one address may make per window before it is
/// answered 429 without a look at the database.
pub const AUTH_FAILURES_PER_WINDOW: u32 = 20;
/// The throttle's window.
pub const AUTH_FAILURE_WINDOW: Duration = Duration::from_secs(10);
/// Most addresses and prefixes tracked; beyond, new ones share one window.
const TRACKED_MAX: usize = 10_000;
/// Most distinct refusal groups between two flushes; beyond, refusals are counted in one
/// overflow group.
const GROUPS_MAX: usize = 100;
/// How often refusals are written to the audit log, by default.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Failure counts per client address, in fixed windows.
#[derive(Default)]
pub struct Throttle {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Throttle {
    /// Seconds to wait when `subject` used up its failures in this window.
    pub fn retry_after(&self, subject: &str) -> Option<u64> {
        let windows = self.windows.lock().ok()?;
        let (start, n) =
            windows.get(subject).or_else(|| (windows.len() >= TRACKED_MAX).then(|| windows.get(OVERFLOW))?)?;
        (*n >= AUTH_FAILURES_PER_WINDOW && start.elapsed() < AUTH_FAILURE_WINDOW)
            .then(|| AUTH_FAILURE_WINDOW.saturating_sub(start.elapsed()).as_secs().max(1))
    }

    /// Counts a failure against `subject`.
    pub fn failed(&self, subject: &str) {
        let Ok(mut windows) = self.windows.lock() else { return };
        if !windows.contains_key(subject) && windows.len() >= TRACKED_MAX {
            windows.retain(|_, (start, _)| start.elapsed() < AUTH_FAILURE_WINDOW);
        }
        let key = if windows.contains_key(subject) || windows.len() < TRACKED_MAX { subject } else { OVERFLOW };
        let entry = windows.entry(key.to_string()).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= AUTH_FAILURE_WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

const OVERFLOW: &str = "*";

/// Who was refused, from where, and why: one audit record per group and flush.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct GroupKey {
    action: &'static str,
    actor: String,
    ip: Option<String>,
    reason: String,
}

#[derive(Debug, Clone)]
struct Group {
    count: u64,
    first_us: i64,
    last_us: i64,
    method: String,
    path: String,
    request_id: Option<String>,
}

/// One refusal, as the auth middleware saw it.
pub struct Refusal<'a> {
    /// `auth.failure`, `auth.forbidden` or `auth.throttled`.
    pub action: &'static str,
    /// The key id, or `anonymous`.
    pub actor: &'a str,
    /// The error message the client got.
    pub reason: &'a str,
    /// The request's method, path and id, and the client's address.
    pub method: &'a str,
    /// The request path (cut).
    pub path: &'a str,
    /// The request id.
    pub request_id: Option<&'a str>,
    /// The client address.
    pub ip: Option<&'a str>,
}

/// Refusals counted since the last flush.
#[derive(Default)]
pub struct RefusalLog {
    groups: Mutex<BTreeMap<GroupKey, Group>>,
    records: AtomicU64,
}

impl RefusalLog {
    /// Counts a refusal; the next flush audits it.
    pub fn record(&self, r: &Refusal) {
        let now = rialto_store::now_us();
        let mut key = GroupKey {
            action: r.action,
            actor: r.actor.to_string(),
            ip: r.ip.map(str::to_string),
            reason: r.reason.to_string(),
        };
        let Ok(mut groups) = self.groups.lock() else { return };
        if !groups.contains_key(&key) && groups.len() >= GROUPS_MAX {
            key = GroupKey {
                action: r.action,
                actor: OVERFLOW.into(),
                ip: None,
                reason: "more distinct refusals than one audit flush lists".into(),
            };
        }
        let group = groups.entry(key).or_insert_with(|| Group {
            count: 0,
            first_us: now,
            last_us: now,
            method: r.method.to_string(),
            path: crate::error::echo(r.path),
            request_id: r.request_id.map(str::to_string),
        });
        group.count += 1;
        group.last_us = now;
    }

    /// Audit records written so far (for `/metrics`).
    pub fn records_written(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    fn take(&self) -> BTreeMap<GroupKey, Group> {
        self.groups.lock().map(|mut g| std::mem::take(&mut *g)).unwrap_or_default()
    }

    /// Puts back groups that could not be written, merged with what came since.
    fn restore(&self, failed: Vec<(GroupKey, Group)>) {
        let Ok(mut groups) = self.groups.lock() else { return };
        for (key, old) in failed {
            match groups.get_mut(&key) {
                Some(newer) => {
                    newer.count += old.count;
                    newer.first_us = old.first_us;
                    newer.method = old.method;
                    newer.path = old.path;
                    newer.request_id = old.request_id;
                }
                None => {
                    groups.insert(key, old);
                }
            }
        }
    }
}

/// Writes the counted refusals to the audit log now: one record per group, through the
/// writer, all at once (they share batches). Groups the writer could not take are kept.
pub async fn flush(state: &AppState) {
    let groups = state.refusals.take();
    if groups.is_empty() {
        return;
    }
    let mut pending = tokio::task::JoinSet::new();
    for (key, group) in groups {
        let writer = state.writer.clone();
        pending.spawn(async move {
            let details = json!({
                "count": group.count,
                "first_at": crate::present::time_text(group.first_us),
                "last_at": crate::present::time_text(group.last_us),
                "method": group.method, "path": group.path, "reason": key.reason,
            });
            let command = Command::Audit { action: key.action.into(), details: details.to_string() };
            let ctx =
                AuditContext { actor: key.actor.clone(), request_id: group.request_id.clone(), ip: key.ip.clone() };
            match writer.submit(command, None, Some(ctx)).await {
                Reply::Done { outcome: Ok(_), .. } => None,
                _ => Some((key, group)),
            }
        });
    }
    let mut failed = Vec::new();
    let mut written = 0;
    while let Some(done) = pending.join_next().await {
        match done {
            Ok(Some(group)) => failed.push(group),
            Ok(None) => written += 1,
            Err(_) => {}
        }
    }
    state.refusals.records.fetch_add(written, Ordering::Relaxed);
    if !failed.is_empty() {
        tracing::warn!(groups = failed.len(), "could not audit refused requests yet; kept for the next flush");
        state.refusals.restore(failed);
    }
}

/// Flushes every `refusal_flush_interval` (default [`FLUSH_EVERY`]) until `stop`, then once more.
pub async fn run_flusher(state: AppState, mut stop: watch::Receiver<bool>) {
    let every = state.config.refusal_flush_interval;
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => flush(&state).await,
            () = crate::serve::until(&mut stop) => break,
        }
    }
    flush(&state).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_counts_per_subject_and_window() {
        let t = Throttle::default();
        let (ip, other) = ("ip:1", "ip:2");
        for _ in 0..AUTH_FAILURES_PER_WINDOW - 1 {
            t.failed(ip);
        }
        assert_eq!(t.retry_after(ip), None);
        t.failed(ip);
        assert!(t.retry_after(ip).is_some_and(|s| (1..=10).contains(&s)));
        assert_eq!(t.retry_after(other), None, "another address is not throttled");
    }

    #[test]
    fn refusals_group_and_overflow_without_loss() {
        let log = RefusalLog::default();
        let refusal = |actor: &'static str, ip: &'static str| Refusal {
            action: "auth.failure",
            actor,
            reason: "bad key",
            method: "GET",
            path: "/v1/accounts",
            request_id: None,
            ip: Some(ip),
        };
        for _ in 0..5 {
            log.record(&refusal("anonymous", "10.0.0.1"));
        }
        let ips: Vec<String> = (0..GROUPS_MAX + 50).map(|i| format!("10.1.{}.{}", i / 256, i % 256)).collect();
        for ip in &ips {
            log.record(&Refusal { ip: Some(ip), ..refusal("anonymous", "x") });
        }
        let groups = log.take();
        assert_eq!(groups.len(), GROUPS_MAX + 1, "bounded, with one overflow group");
        assert_eq!(groups.values().map(|g| g.count).sum::<u64>(), 5 + ips.len() as u64, "nothing dropped");
        assert!(log.take().is_empty());
    }
}
