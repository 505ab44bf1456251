//! Prometheus metrics, hand-rolled: request counts and latency histograms per route, and
//! the writer's batch counters.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS_S: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS_S.len()],
    count: u64,
    sum_us: u64,
}

/// Process-wide metrics.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    auth_failures: AtomicU64,
}

impl Metrics {
    /// Counts a refused authentication or role.
    pub fn auth_failure(&self) {
        self.auth_failures.fetch_add(1, Ordering::Relaxed);
    }

    fn observe(&self, method: &str, route: &str, status: u16, elapsed_us: u64) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((method.to_string(), route.to_string(), status)).or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry((method.to_string(), route.to_string())).or_default();
            h.count += 1;
            h.sum_us += elapsed_us;
            #[allow(clippy::cast_precision_loss)]
            let secs = elapsed_us as f64 / 1e6;
            for (i, bound) in BUCKETS_S.iter().enumerate() {
                if secs <= *bound {
                    h.buckets[i] += 1;
                }
            }
        }
    }

    /// The text exposition format.
    pub fn render(&self, state: &AppState) -> String {
        let mut out = String::new();
        out.push_str("# HELP rialto_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE rialto_http_requests_total counter\n");
        if let Ok(r) = self.requests.lock() {
            for ((m, route, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "rialto_http_requests_total{{method=\"{m}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP rialto_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE rialto_http_request_duration_seconds histogram\n");
        if let Ok(l) = self.latency.lock() {
            for ((m, route), h) in l.iter() {
                let labels = format!("method=\"{m}\",route=\"{route}\"");
                for (bound, n) in BUCKETS_S.iter().zip(h.buckets) {
                    let _ = writeln!(out, "rialto_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}");
                }
                let _ =
                    writeln!(out, "rialto_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
                #[allow(clippy::cast_precision_loss)]
                let sum = h.sum_us as f64 / 1e6;
                let _ = writeln!(out, "rialto_http_request_duration_seconds_sum{{{labels}}} {sum}");
                let _ = writeln!(out, "rialto_http_request_duration_seconds_count{{{labels}}} {}", h.count);
            }
        }
        render_counters(&mut out, self, state);
        out
    }
}

/// The process counters: refusals, the writer, the models.
fn render_counters(out: &mut String, metrics: &Metrics, state: &AppState) {
    let w = state.writer.stats();
    let counters = [
        (
            "rialto_auth_failures_total",
            "Refused authentications and roles.",
            metrics.auth_failures.load(Ordering::Relaxed),
        ),
        (
            "rialto_auth_refusal_audit_records_total",
            "Audit records written for refused requests (each counts a group of refusals).",
            state.refusals.records_written(),
        ),
        ("rialto_ledger_batches_total", "Committed ledger batches.", w.batches.load(Ordering::Relaxed)),
        ("rialto_ledger_commands_total", "Commands in committed ledger batches.", w.commands.load(Ordering::Relaxed)),
        (
            "rialto_ledger_batch_retries_total",
            "Ledger batches retried after a database error.",
            w.retries.load(Ordering::Relaxed),
        ),
        (
            "rialto_ledger_batch_failures_total",
            "Ledger batches failed after every attempt.",
            w.failures.load(Ordering::Relaxed),
        ),
        (
            "rialto_ledger_batch_time_microseconds_total",
            "Time spent in ledger batches.",
            w.batch_time_us.load(Ordering::Relaxed),
        ),
    ];
    for (name, help, v) in counters {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
    }
    let (outcomes, time_us) = state.config.policies.models.counters();
    out.push_str("# HELP rialto_model_scores_total Fraud model scores attempted, by outcome.\n");
    out.push_str("# TYPE rialto_model_scores_total counter\n");
    for (outcome, n) in outcomes {
        let _ = writeln!(out, "rialto_model_scores_total{{outcome=\"{outcome}\"}} {n}");
    }
    let name = "rialto_model_score_time_microseconds_total";
    let _ = writeln!(
        out,
        "# HELP {name} Time spent scoring payments with models.\n# TYPE {name} counter\n{name} {time_us}"
    );
}

/// Middleware: request id, metrics, and a trace line per request.
pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = crate::edge::method_label(req.method());
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let request_id = format!("req_{}", uuid::Uuid::new_v4().simple());
    req.extensions_mut().insert(crate::auth::RequestId(request_id.clone()));
    let mut resp = next.run(req).await;
    let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let status = resp.status().as_u16();
    state.metrics.observe(method, &route, status, elapsed_us);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("request-id", v);
    }
    tracing::debug!(method, %route, status, elapsed_us, request_id, "request");
    resp
}
