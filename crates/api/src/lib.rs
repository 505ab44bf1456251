#![recursion_limit = "512"]
//! Rialto's HTTP API: axum routes, API-key authentication, idempotency, one error shape,
//! Prometheus metrics, OpenAPI. Only this crate knows HTTP and JSON.

mod auth;
pub mod cases;
pub mod contract;
pub mod credit;
pub mod docs;
mod edge;
pub mod error;
pub mod http;
pub mod idem;
pub mod input;
pub mod kyc;
mod metrics;
pub mod models;
mod payments;
pub mod permissions;
pub mod present;
pub mod recon;
pub mod refusals;
pub mod risk;
pub mod routes;
pub mod sanctions;
pub mod serve;
mod settings;
pub mod webhooks;
pub mod worker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Json, Router};
use contract::{Operation, Verb};
use permissions::Permission::Read;
use rialto_store::{Db, Role, Writer, WriterConfig};
use serde_json::json;
use tokio::sync::watch;

pub use axum::http::StatusCode;
pub use error::ApiError;

/// Largest request body: 1 MiB.
pub const BODY_BYTES_MAX: usize = 1 << 20;
/// Largest model upload (`POST /v1/risk/models`): 64 MiB (a few thousand deep trees).
pub const MODEL_BODY_BYTES_MAX: usize = 64 << 20;

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://…`, a path, or `postgres://…`.
    pub database_url: String,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// If set, this exact key is ensured as an admin key.
    pub admin_key: Option<String>,
    /// Lifetime of idempotency records, µs (default 24 h).
    pub idempotency_ttl_us: i64,
    /// How often expired pending transfers are voided.
    pub expiry_sweep_interval: Duration,
    /// Writer tuning.
    pub writer: WriterConfig,
    /// The payment gates.
    pub policies: Arc<rialto_store::Policies>,
    /// How often settlement runs (None: only on request).
    pub settlement_interval: Option<Duration>,
    /// How often webhook deliveries are attempted.
    pub webhook_interval: Duration,
    /// First retry delay of a failed webhook delivery (doubles per attempt).
    pub webhook_backoff_base: Duration,
    /// NATS server to publish events to (JetStream), if any.
    pub nats_url: Option<String>,
    /// JetStream stream name.
    pub nats_stream: String,
    /// Subject prefix: events go to `<prefix>.<type>`.
    pub nats_subject_prefix: String,
    /// How often the NATS relay runs.
    pub nats_interval: Duration,
    /// Redis for the risk windows (shared by processes), if any; else they live in memory.
    pub redis_url: Option<String>,
    /// Prefix of this deployment's Redis keys.
    pub redis_prefix: String,
    /// A model still `training` this long after its last change, when a server starts, was
    /// left by a process that stopped: it is marked failed (`deprecated` with the error).
    pub training_stale_after: Duration,
    /// Where webhook deliveries may connect (public addresses, and the networks allowed).
    pub webhook_targets: worker::targets::TargetPolicy,
    /// How often refused requests are written to the audit log (in aggregate).
    pub refusal_flush_interval: Duration,
    /// Connection bounds and the shutdown grace period.
    pub limits: serve::Limits,
    /// Sanctions scores that hold a party for review and that block it.
    pub sanctions_thresholds: rialto_compliance::Thresholds,
    /// How often users screened on older list versions are re-screened (and each process
    /// reloads lists another process imported).
    pub sanctions_rescreen_interval: Duration,
    /// Where to fetch each list from on a schedule, if anywhere: (source, URL). OFAC: a base
    /// URL holding `sdn.csv`, `alt.csv`, `add.csv` and `sdn_comments.csv`; UN: the XML's URL.
    pub sanctions_sources: Vec<(rialto_compliance::Source, String)>,
    /// How often the configured lists are fetched.
    pub sanctions_refresh_interval: Duration,
    /// How often verified KYC documents past their expiry are lapsed.
    pub kyc_expiry_interval: Duration,
    /// How often the AML monitor evaluates newly committed payments.
    pub aml_monitor_interval: Duration,
    /// How often the CTR task files yesterday's reports (again: no change).
    pub ctr_interval: Duration,
    /// Who files FinCEN reports (`RIALTO_FINCEN_FILER`).
    pub fincen_filer: rialto_compliance::reports::Filer,
    /// The credit scorecard `POST /v1/credit-scores` scores on (default: the one compiled in;
    /// `RIALTO_CREDIT_SCORECARD` loads another, checked, at start).
    pub credit_scorecard: Arc<rialto_risk::credit::Scorecard>,
}

impl Config {
    /// Defaults for `database_url` on `listen`.
    pub fn new(database_url: impl Into<String>, listen: SocketAddr) -> Config {
        Config {
            database_url: database_url.into(),
            listen,
            admin_key: None,
            idempotency_ttl_us: 24 * 3600 * 1_000_000,
            expiry_sweep_interval: Duration::from_secs(1),
            writer: WriterConfig::default(),
            policies: Arc::new(rialto_store::Policies::default()),
            settlement_interval: Some(Duration::from_secs(3600)),
            webhook_interval: Duration::from_secs(1),
            webhook_backoff_base: Duration::from_secs(2),
            nats_url: None,
            nats_stream: "RIALTO_EVENTS".into(),
            nats_subject_prefix: "rialto.events".into(),
            nats_interval: Duration::from_millis(200),
            redis_url: None,
            redis_prefix: "rialto".into(),
            training_stale_after: Duration::from_secs(3600),
            webhook_targets: worker::targets::TargetPolicy::default(),
            refusal_flush_interval: refusals::FLUSH_EVERY,
            limits: serve::Limits::default(),
            sanctions_thresholds: rialto_compliance::Thresholds::default(),
            sanctions_rescreen_interval: Duration::from_secs(5),
            sanctions_sources: Vec::new(),
            sanctions_refresh_interval: Duration::from_secs(24 * 3600),
            kyc_expiry_interval: Duration::from_secs(60),
            aml_monitor_interval: Duration::from_secs(5),
            ctr_interval: Duration::from_secs(3600),
            fincen_filer: rialto_compliance::reports::Filer::default(),
            credit_scorecard: Arc::new(rialto_risk::credit::served().clone()),
        }
    }
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The ledger writer.
    pub writer: Writer,
    /// Settings.
    pub config: Arc<Config>,
    auth: Arc<auth::AuthCache>,
    throttle: Arc<refusals::Throttle>,
    refusals: Arc<refusals::RefusalLog>,
    in_flight: Arc<idem::InFlight>,
    metrics: Arc<metrics::Metrics>,
    nats: Option<Arc<worker::nats::NatsRelay>>,
    /// The sanctions lists in force, indexed.
    pub sanctions: Arc<sanctions::Lists>,
}

/// The operations anyone may call (no key): health, metrics, this API's description.
#[rustfmt::skip]
const PUBLIC: &[Operation] = &[
    Operation::new::<contract::Status>(Verb::Get, "/healthz", Read, "Liveness", contract::handler!(healthz)).public(),
    Operation::new::<contract::Status>(Verb::Get, "/readyz", Read, "Readiness (the database answers)", contract::handler!(readyz)).public(),
    Operation::new::<contract::Status>(Verb::Get, "/metrics", Read, "Prometheus metrics", contract::handler!(metrics_text)).public().text("text/plain"),
    Operation::new::<contract::Status>(Verb::Get, "/openapi.json", Read, "This document", contract::handler!(docs::openapi)).public().openapi(),
    Operation::new::<contract::Status>(Verb::Get, "/docs", Read, "API reference page", contract::handler!(docs::page)).public().text("text/html"),
];

/// Every operation of the API, public ones first, then each domain's.
pub fn operations() -> impl Iterator<Item = &'static Operation> {
    [
        PUBLIC,
        routes::OPERATIONS,
        payments::OPERATIONS,
        risk::OPERATIONS,
        models::OPERATIONS,
        credit::OPERATIONS,
        webhooks::OPERATIONS,
        settings::OPERATIONS,
        sanctions::OPERATIONS,
        kyc::OPERATIONS,
        cases::OPERATIONS,
        recon::OPERATIONS,
    ]
    .into_iter()
    .flatten()
}

/// The operation a request was routed to, by method and route template.
pub fn operation(method: &axum::http::Method, route: &str) -> Option<&'static Operation> {
    operations().find(|o| o.path == route && o.verb.matches(method))
}

/// The whole router, read from [`operations`]: the public operations, and `/v1` behind an
/// API key.
pub fn router(state: AppState) -> Router {
    let mut public = Router::new();
    let mut v1 = Router::new();
    for op in operations() {
        let mut route = (op.handler)(op.verb.filter());
        if let Some(bytes) = op.body_limit {
            route = route.layer(DefaultBodyLimit::max(bytes));
        }
        if op.permission.is_some() {
            v1 = v1.route(op.path, route);
        } else {
            public = public.route(op.path, route);
        }
    }
    let v1 = v1
        .route_layer(middleware::from_fn_with_state(state.clone(), edge::read_body))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require_key));
    public
        .route("/docs/app.js", get(docs::script))
        .merge(v1)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
        })
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(middleware::from_fn(edge::guard))
        .layer(middleware::from_fn_with_state(state.clone(), metrics::observe))
        .with_state(state)
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(s): State<AppState>) -> Response {
    if s.db.ping().await {
        Json(json!({"status": "ready"})).into_response()
    } else {
        ApiError::unavailable("the database does not answer").into_response()
    }
}

async fn metrics_text(State(s): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render(&s)).into_response()
}

/// A running server.
pub struct Running {
    /// The bound address (useful with port 0).
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
    flusher: tokio::task::JoinHandle<()>,
    /// The state, for tests and embedding.
    pub state: AppState,
}

impl Running {
    /// Stops accepting, finishes in-flight requests, and returns.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        self.wait().await
    }

    /// Waits until the server ends (after a signal, if `stop_on_signal`).
    pub async fn wait(self) -> std::io::Result<()> {
        let r = self.handle.await.unwrap_or(Ok(()));
        // The last refusals reach the audit log before the database closes.
        let _ = self.shutdown.send(true);
        let _ = self.flusher.await;
        self.state.db.close().await;
        r
    }

    /// A sender that stops the server.
    pub fn stopper(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Connects, migrates, starts the writer and background tasks, binds and serves.
pub async fn start(config: Config) -> Result<Running, Box<dyn std::error::Error + Send + Sync>> {
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    if let Some(key) = &config.admin_key {
        db.ensure_api_key("RIALTO_ADMIN_KEY", Role::Admin, key).await?;
    }
    let presenter: rialto_store::Presenter = Arc::new(|o| present::output(o).to_string());
    let mut config = config;
    if let Some(url) = &config.redis_url {
        let mut policies = (*config.policies).clone();
        policies.windows = Arc::new(rialto_store::Windows::redis(url, &config.redis_prefix).await?);
        config.policies = Arc::new(policies);
    }
    // The risk windows learn the last 30 days before the writer takes its first payment.
    let windows = &config.policies.windows;
    let loaded = windows.rebuild(&db, rialto_store::now_us()).await?;
    tracing::info!(payments = loaded, store = windows.kind(), "risk windows rebuilt");
    let writer = rialto_store::start_writer(&db, config.writer, presenter, config.policies.clone()).await?;
    // Trainings a stopped process left behind will never finish: say so.
    let stale_us = i64::try_from(config.training_stale_after.as_micros()).unwrap_or(i64::MAX);
    for id in db.stale_training_models(rialto_store::now_us().saturating_sub(stale_us)).await? {
        let result = Err("training did not finish: the process training it stopped".to_string());
        if let Err(e) = worker::training::record(&writer, &id, result).await {
            tracing::warn!(model = %id, error = %e, "could not mark an abandoned training");
        }
    }
    let nats = match &config.nats_url {
        Some(url) => Some(Arc::new(
            worker::nats::NatsRelay::connect(url, &config.nats_stream, &config.nats_subject_prefix).await?,
        )),
        None => None,
    };
    let sanctions = Arc::new(sanctions::Lists::new(config.sanctions_thresholds));
    sanctions.refresh(&db).await?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let state = AppState {
        db,
        writer,
        config: Arc::new(config),
        auth: Arc::default(),
        throttle: Arc::default(),
        refusals: Arc::default(),
        in_flight: Arc::default(),
        metrics: Arc::default(),
        nats,
        sanctions,
    };
    let (shutdown, rx) = watch::channel(false);
    worker::spawn_all(&state, &shutdown);
    tokio::spawn(sanctions::watch(state.clone(), shutdown.subscribe()));
    let flusher = tokio::spawn(refusals::run_flusher(state.clone(), shutdown.subscribe()));
    let app = router(state.clone());
    let limits = state.config.limits;
    let handle = tokio::spawn(async move {
        serve::serve(listener, app, limits, rx).await;
        Ok(())
    });
    tracing::info!(%addr, "rialto listening");
    Ok(Running { addr, shutdown, handle, flusher, state })
}
