//! `rialto`: the one binary. `serve` runs the API; `migrate`, `verify` and `api-keys` work
//! on the database directly; `bench` measures transfers per second through HTTP.

mod bench;
mod credit_model;
mod limits;
mod model;
mod recon;
mod sanctions;

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use rialto_store::{AuditContext, Command, Db, Output, Reply, Role, WriterConfig};

/// Default database: a SQLite file in the working directory, created on first start.
const DEFAULT_DATABASE: &str = "sqlite://rialto.db";

#[derive(Parser)]
#[command(name = "rialto", version, about = "Rialto: an open-source payments platform")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Args, Clone)]
pub struct DbArgs {
    /// Database URL: sqlite://PATH (default sqlite://rialto.db) or postgres://...
    #[arg(long = "database", env = "RIALTO_DATABASE_URL", default_value = DEFAULT_DATABASE)]
    pub database: String,
}

/// How the server bounds its connections and its shutdown.
#[derive(clap::Args, Clone)]
struct HttpArgs {
    /// Seconds a client has to send a request's headers; slower connections are closed.
    #[arg(long, env = "RIALTO_HEADER_READ_TIMEOUT_SECONDS", default_value_t = 10)]
    header_read_timeout_seconds: u64,
    /// Seconds a client has to send a request's body once its headers are in (408 after).
    #[arg(long, env = "RIALTO_BODY_READ_TIMEOUT_SECONDS", default_value_t = 30)]
    body_read_timeout_seconds: u64,
    /// Most connections served at once; more wait until one closes.
    #[arg(long, env = "RIALTO_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Non-public networks webhook deliveries may reach anyway, comma-separated CIDRs (e.g.
    /// `10.20.0.0/16,127.0.0.1`). By default deliveries go only to public addresses.
    #[arg(long, env = "RIALTO_WEBHOOK_ALLOW_NETWORKS", value_delimiter = ',')]
    webhook_allow_networks: Vec<String>,
    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C; then the process
    /// exits whatever its clients do.
    #[arg(long, env = "RIALTO_SHUTDOWN_GRACE_SECONDS", default_value_t = 10)]
    shutdown_grace_seconds: u64,
}

/// The domains' settings: sanctions screening (thresholds, where the lists are fetched from),
/// KYC limits, AML typologies, the FinCEN filer, the credit scorecard.
#[derive(clap::Args, Clone)]
struct DomainArgs {
    /// Scores (0..1) from which a party is held for review, and from which it is refused.
    #[arg(long, env = "RIALTO_SANCTIONS_THRESHOLDS", default_value = "0.86,0.95")]
    sanctions_thresholds: String,
    /// Fetch the OFAC SDN list from this base URL (sdn.csv, alt.csv, add.csv, sdn_comments.csv).
    #[arg(long, env = "RIALTO_SANCTIONS_OFAC_URL")]
    sanctions_ofac_url: Option<String>,
    /// Fetch the UN consolidated list from this URL (the XML).
    #[arg(long, env = "RIALTO_SANCTIONS_UN_URL")]
    sanctions_un_url: Option<String>,
    /// Seconds between fetches of the configured lists.
    #[arg(long, env = "RIALTO_SANCTIONS_REFRESH_SECONDS", default_value_t = 86_400)]
    sanctions_refresh_seconds: u64,
    /// What each KYC level may pay, in minor units of the payment's currency:
    /// `LEVEL:SINGLE/DAILY/MONTHLY,...` with levels none, basic, full and `-` for no limit,
    /// e.g. `none:50000/100000/300000,basic:500000/2000000/10000000`. Default: no limits.
    #[arg(long, env = "RIALTO_KYC_LIMITS", default_value = "")]
    kyc_limits: String,
    /// AML typologies as JSON; what is left out keeps its default, e.g.
    /// `{"structuring": {"action": "hold"}, "fan_out": {"min_parties": 20}}`
    /// (`GET /v1/compliance/typologies` shows them all).
    #[arg(long, env = "RIALTO_AML_TYPOLOGIES", default_value = "")]
    aml_typologies: String,
    /// Seconds between AML monitor runs over newly committed payments.
    #[arg(long, env = "RIALTO_AML_MONITOR_SECONDS", default_value_t = 5)]
    aml_monitor_seconds: u64,
    /// Who files FinCEN reports, as JSON (name, tin, tcc, street, city, state, zip, country,
    /// contact, phone, organization_type, regulator). The defaults are placeholders.
    #[arg(long, env = "RIALTO_FINCEN_FILER", default_value = "")]
    fincen_filer: String,
    /// A credit scorecard JSON to serve instead of the compiled-in one (as written by
    /// `rialto model train-credit --out`); checked at start, refused if it does not check.
    #[arg(long, env = "RIALTO_CREDIT_SCORECARD")]
    credit_scorecard: Option<std::path::PathBuf>,
}

impl DomainArgs {
    fn apply(&self, config: &mut rialto_api::Config) -> anyhow::Result<()> {
        let parts: Vec<f64> = self
            .sanctions_thresholds
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .context("--sanctions-thresholds must be two numbers: REVIEW,BLOCK")?;
        let [review, block] = parts[..] else {
            anyhow::bail!("--sanctions-thresholds must be two numbers: REVIEW,BLOCK")
        };
        let t = rialto_compliance::Thresholds { review, block };
        t.check().map_err(|e| anyhow::anyhow!("--sanctions-thresholds: {e}"))?;
        config.sanctions_thresholds = t;
        for (source, url) in [
            (rialto_compliance::Source::Ofac, &self.sanctions_ofac_url),
            (rialto_compliance::Source::Un, &self.sanctions_un_url),
        ] {
            if let Some(url) = url.as_ref().filter(|u| !u.is_empty()) {
                config.sanctions_sources.push((source, url.clone()));
            }
        }
        config.sanctions_refresh_interval = std::time::Duration::from_secs(self.sanctions_refresh_seconds.max(1));
        let kyc = rialto_compliance::kyc::KycLimits::parse(&self.kyc_limits)
            .map_err(|e| anyhow::anyhow!("--kyc-limits: {e}"))?;
        let mut policies = (*config.policies).clone().with_kyc_limits(kyc);
        if !self.aml_typologies.trim().is_empty() {
            policies.aml = rialto_compliance::aml::Typologies::parse(&self.aml_typologies)
                .map_err(|e| anyhow::anyhow!("--aml-typologies: {e}"))?;
        }
        config.policies = std::sync::Arc::new(policies);
        config.aml_monitor_interval = std::time::Duration::from_secs(self.aml_monitor_seconds.max(1));
        if !self.fincen_filer.trim().is_empty() {
            config.fincen_filer = serde_json::from_str(&self.fincen_filer).context("--fincen-filer")?;
        }
        if let Some(path) = &self.credit_scorecard {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("--credit-scorecard {}", path.display()))?;
            let card = rialto_risk::credit::load(&text)
                .map_err(|e| anyhow::anyhow!("--credit-scorecard {}: {e}", path.display()))?;
            config.credit_scorecard = std::sync::Arc::new(card);
        }
        Ok(())
    }
}

impl HttpArgs {
    /// Sets the connection limits and the webhook targets.
    fn apply(&self, config: &mut rialto_api::Config) -> anyhow::Result<()> {
        config.limits = self.limits()?;
        config.webhook_targets.allowed = self
            .webhook_allow_networks
            .iter()
            .filter(|n| !n.trim().is_empty())
            .map(|n| n.parse().map_err(|e: String| anyhow::anyhow!("--webhook-allow-networks: {e}")))
            .collect::<anyhow::Result<_>>()?;
        Ok(())
    }

    fn limits(&self) -> anyhow::Result<rialto_api::serve::Limits> {
        use std::time::Duration;
        anyhow::ensure!(self.header_read_timeout_seconds > 0, "--header-read-timeout-seconds must be at least 1");
        anyhow::ensure!(self.body_read_timeout_seconds > 0, "--body-read-timeout-seconds must be at least 1");
        anyhow::ensure!(self.max_connections > 0, "--max-connections must be at least 1");
        Ok(rialto_api::serve::Limits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_seconds),
            body_read_timeout: Duration::from_secs(self.body_read_timeout_seconds),
            connections_max: self.max_connections,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_seconds),
        })
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the HTTP API.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// Address to listen on.
        #[arg(long, env = "RIALTO_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Ensure this exact key exists as an admin key (for scripts and tests).
        #[arg(long, env = "RIALTO_ADMIN_KEY", hide_env_values = true)]
        admin_key: Option<String>,
        /// Lifetime of idempotency records, in hours.
        #[arg(long, env = "RIALTO_IDEMPOTENCY_TTL_HOURS", default_value_t = 24)]
        idempotency_ttl_hours: u32,
        /// Most commands committed in one ledger transaction.
        #[arg(long, env = "RIALTO_BATCH_MAX", default_value_t = 2048)]
        batch_max: usize,
        /// Publish events to this NATS server's JetStream (e.g. nats://127.0.0.1:4222).
        #[arg(long, env = "RIALTO_NATS_URL")]
        nats_url: Option<String>,
        /// Seconds between settlement runs (0: only on request).
        #[arg(long, env = "RIALTO_SETTLEMENT_INTERVAL_SECONDS", default_value_t = 3600)]
        settlement_interval_seconds: u64,
        /// Keep the risk windows in this Redis (needed when several processes share PostgreSQL).
        #[arg(long, env = "RIALTO_REDIS_URL")]
        redis_url: Option<String>,
        /// Prefix of Rialto's Redis keys.
        #[arg(long, env = "RIALTO_REDIS_PREFIX", default_value = "rialto")]
        redis_prefix: String,
        /// Time zone of the risk rules' and models' hour and weekday: `UTC`, an offset like
        /// `+05:30`, or an IANA name like `Europe/Berlin` (daylight saving followed).
        #[arg(long, env = "RIALTO_RISK_TIME_ZONE", default_value = "UTC")]
        risk_time_zone: String,
        /// Lowest scores of the medium, high and critical risk levels.
        #[arg(long, env = "RIALTO_RISK_THRESHOLDS", default_value = "30,60,80")]
        risk_thresholds: String,
        /// Most milliseconds a fraud model may take for one payment before the assessment
        /// falls back to the rules.
        #[arg(long, env = "RIALTO_MODEL_TIMEOUT_MS", default_value_t = 20)]
        model_timeout_ms: u64,
        #[command(flatten)]
        http: HttpArgs,
        #[command(flatten)]
        limits: Box<limits::LimitArgs>,
        #[command(flatten)]
        sanctions: Box<DomainArgs>,
    },
    /// Apply the database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Recompute every balance from the entries; exit 1 on any mismatch.
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage API keys.
    #[command(name = "api-keys", subcommand)]
    ApiKeys(KeyCmd),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Measure posted transfers per second through HTTP.
    Bench(bench::BenchArgs),
    /// Train and evaluate models.
    #[command(subcommand)]
    Model(ModelCmd),
    /// Sanctions lists.
    #[command(subcommand)]
    Sanctions(SanctionsCmd),
    /// Bank statement reconciliation.
    #[command(subcommand)]
    Recon(recon::Cmd),
}

#[derive(Subcommand)]
enum SanctionsCmd {
    /// Import a list's files as a new version (refused, with the line, when malformed).
    Import(sanctions::ImportArgs),
    /// Measure recall, false positives and latency of the screener on the real lists.
    Evaluate(sanctions::EvaluateArgs),
}

#[derive(Subcommand)]
enum ModelCmd {
    /// Train a logistic model or gradient-boosted trees on a labelled CSV; print the held-out evaluation.
    Train(model::TrainArgs),
    /// Train the credit scorecard of POST /v1/credit-scores (cross-validated, with baselines).
    TrainCredit(credit_model::CreditArgs),
    /// Measure in-process risk assessment and model inference latency.
    Bench(model::BenchArgs),
    /// Write the labelled payments of a range with their payment features as CSV (to train a
    /// model elsewhere, e.g. scikit-learn exported to ONNX).
    Features {
        #[command(flatten)]
        db: DbArgs,
        /// Start of the range (RFC 3339); default 90 days before `--to`.
        #[arg(long)]
        from: Option<String>,
        /// End of the range (RFC 3339, exclusive); default now.
        #[arg(long)]
        to: Option<String>,
        /// Time zone of the hour and weekday features (as `serve --risk-time-zone`).
        #[arg(long, env = "RIALTO_RISK_TIME_ZONE", default_value = "UTC")]
        risk_time_zone: String,
        /// Where to write the CSV (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Check the hash chain; exit 1 and name the first broken record if any.
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum KeyCmd {
    /// Create a key and print its secret (shown only once).
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// admin, reviewer, writer or reader (reviewers also decide on held payments).
        #[arg(long)]
        role: String,
        /// A label.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a key by id.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        /// The key id (`key_...`).
        id: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The model commands print their own progress (training reports rounds through `log`).
    if !matches!(cli.command, Cmd::Model(_)) {
        init_tracing();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::FAILURE
        }
    };
    // Whatever is still running (a stalled blocking read) does not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("RIALTO_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // A log line that cannot be written is dropped: with the default, the logger reports the
    // failure with `eprintln!`, which panics when stderr is a closed pipe.
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).log_internal_errors(false);
    if std::env::var("RIALTO_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn open(db: &DbArgs) -> anyhow::Result<Db> {
    let db = Db::connect(&db.database).await.with_context(|| format!("cannot open {}", db.database))?;
    db.migrate().await.context("migrations failed")?;
    Ok(db)
}

/// A database the verifiers check: it must exist and be migrated; nothing is created.
async fn open_to_verify(db: &DbArgs) -> anyhow::Result<Db> {
    Db::open_existing(&db.database).await.with_context(|| format!("cannot verify {}", db.database))
}

async fn run(cmd: Cmd) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::Serve {
            db,
            listen,
            admin_key,
            idempotency_ttl_hours,
            batch_max,
            nats_url,
            settlement_interval_seconds,
            redis_url,
            redis_prefix,
            risk_time_zone,
            risk_thresholds,
            model_timeout_ms,
            http,
            limits,
            sanctions,
        } => {
            let mut config = rialto_api::Config::new(db.database, listen);
            http.apply(&mut config)?;
            config.admin_key = admin_key.filter(|k| !k.is_empty());
            config.idempotency_ttl_us = i64::from(idempotency_ttl_hours) * 3600 * 1_000_000;
            config.writer.batch_commands_max = batch_max.clamp(1, 16_384);
            config.nats_url = nats_url.filter(|u| !u.is_empty());
            config.settlement_interval =
                (settlement_interval_seconds > 0).then(|| std::time::Duration::from_secs(settlement_interval_seconds));
            config.redis_url = redis_url.filter(|u| !u.is_empty());
            config.redis_prefix = redis_prefix;
            let risk = (risk_time_zone.as_str(), risk_thresholds.as_str(), model_timeout_ms);
            config.policies = std::sync::Arc::new(policies(&config.policies, risk, &limits)?);
            sanctions.apply(&mut config)?;
            let grace = config.limits.shutdown_grace;
            let running = rialto_api::start(config).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            say(format_args!("rialto listening on http://{}", running.addr));
            serve_until_signal(running, grace).await
        }
        Cmd::Migrate { db } => {
            open(&db).await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Verify { db } => {
            let report = open_to_verify(&db).await?.verify().await?;
            println!("{}", serde_json::to_string_pretty(&rialto_api::routes::verify_json(&report))?);
            if report.ok() {
                eprintln!("ledger verified: {} accounts, {} entries, no mismatches", report.accounts, report.entries);
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("LEDGER MISMATCH: {} problem(s)", report.mismatches.len());
                Ok(ExitCode::FAILURE)
            }
        }
        Cmd::ApiKeys(KeyCmd::Create { db, role, name }) => {
            let role = Role::parse(&role)
                .with_context(|| format!("role must be one of {}", rialto_api::permissions::role_names()))?;
            let (key, secret, key_hash) = rialto_store::generate_api_key(&name, role);
            let key = key_command(&open(&db).await?, Command::CreateApiKey { key, key_hash }).await?;
            eprintln!("created {} ({}); the secret is shown only once:", key.id, role.as_str());
            println!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::ApiKeys(KeyCmd::List { db }) => {
            for k in open(&db).await?.list_api_keys().await? {
                let state = if k.revoked_at_us.is_some() { "revoked" } else { "active" };
                println!("{}\t{}\t{}\t{}…\t{}", k.id, k.role.as_str(), state, k.prefix, k.name);
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::ApiKeys(KeyCmd::Revoke { db, id }) => {
            match key_command(&open(&db).await?, Command::RevokeApiKey { id: id.clone() }).await {
                Ok(_) => {
                    println!("revoked {id}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Cmd::Audit(AuditCmd::Verify { db }) => {
            let report = open_to_verify(&db).await?.verify_audit().await?;
            println!("{}", serde_json::to_string_pretty(&rialto_api::routes::audit_report_json(&report))?);
            match report.first_broken {
                None => {
                    eprintln!("audit chain verified: {} records", report.records);
                    Ok(ExitCode::SUCCESS)
                }
                Some((seq, id, reason)) => {
                    eprintln!("AUDIT CHAIN BROKEN at record {seq} {id}: {reason}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Cmd::Bench(args) => bench::run(args).await.map(|()| ExitCode::SUCCESS),
        Cmd::Sanctions(SanctionsCmd::Evaluate(args)) => sanctions::evaluate(&args),
        Cmd::Recon(c) => recon::dispatch(c).await,
        Cmd::Sanctions(SanctionsCmd::Import(args)) => sanctions::import(open(&args.db).await?, args).await,
        Cmd::Model(ModelCmd::Features { db, from, to, risk_time_zone, out }) => {
            let parse = |t: &str| -> anyhow::Result<i64> {
                let at = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                    .with_context(|| format!("`{t}` is not an RFC 3339 time"))?;
                i64::try_from(at.unix_timestamp_nanos() / 1000).context("time out of range")
            };
            let to = to.as_deref().map(parse).transpose()?.unwrap_or_else(|| rialto_store::now_us() + 1);
            let from = from.as_deref().map(parse).transpose()?.unwrap_or(to - 90 * 86_400 * 1_000_000);
            let tz = rialto_risk::TimeZone::parse(&risk_time_zone).map_err(anyhow::Error::msg)?;
            let db = open(&db).await?;
            let examples = db.training_set(from, to, &tz).await?;
            let sink: Box<dyn std::io::Write> = match &out {
                Some(path) => Box::new(std::fs::File::create(path)?),
                None => Box::new(std::io::stdout()),
            };
            let n = model::write_features(sink, &examples)?;
            eprintln!("{n} labelled payments ({} fraud)", examples.iter().filter(|e| e.fraud).count());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Model(ModelCmd::Train(args)) => {
            let report = tokio::task::spawn_blocking(move || model::train(&args)).await??;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Model(ModelCmd::Bench(args)) => {
            let report = tokio::task::spawn_blocking(move || model::bench(&args)).await??;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Model(ModelCmd::TrainCredit(args)) => {
            let report = tokio::task::spawn_blocking(move || credit_model::train_credit(&args)).await??;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs an API-key command through a writer, so that it is audited like any other change
/// (actor `cli`).
async fn key_command(db: &Db, command: Command) -> anyhow::Result<rialto_store::ApiKey> {
    let presenter: rialto_store::Presenter = std::sync::Arc::new(|o| rialto_api::present::output(o).to_string());
    let writer = rialto_store::start_writer(db, WriterConfig::default(), presenter, Default::default()).await?;
    let audit = AuditContext { actor: "cli".into(), request_id: None, ip: None };
    match writer.submit(command, None, Some(audit)).await {
        Reply::Done { outcome: Ok(Output::ApiKey(k)), .. } => Ok(k),
        Reply::Done { outcome: Err(e), .. } => anyhow::bail!("{e}"),
        _ => anyhow::bail!("unexpected answer from the ledger writer"),
    }
}

/// Serves until SIGTERM or Ctrl-C, then stops within the grace period (and a few seconds for
/// the writer and the database); a second signal, or a shutdown that overruns, exits at once.
/// Nothing here waits on the log: a closed stderr cannot keep the process alive.
async fn serve_until_signal(running: rialto_api::Running, grace: std::time::Duration) -> anyhow::Result<ExitCode> {
    let stop = running.stopper();
    let mut serving = tokio::spawn(running.wait());
    tokio::select! {
        r = &mut serving => {
            r??;
            return Ok(ExitCode::SUCCESS);
        }
        () = shutdown_signal() => {}
    }
    let _ = stop.send(true);
    tracing::info!(grace_s = grace.as_secs(), "shutting down");
    let deadline = grace + std::time::Duration::from_secs(5);
    tokio::select! {
        r = tokio::time::timeout(deadline, &mut serving) => match r {
            Ok(r) => {
                r??;
                Ok(ExitCode::SUCCESS)
            }
            Err(_) => {
                tracing::error!("shutdown overran its deadline; exiting");
                Ok(ExitCode::FAILURE)
            }
        },
        () = shutdown_signal() => {
            tracing::warn!("second signal; exiting at once");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// A line on standard output that is dropped, not a panic, when nobody reads it any more.
fn say(line: std::fmt::Arguments) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout(), "{line}");
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// The payment and risk policies: the business limits, the risk time zone and thresholds, and
/// the model timeout.
fn policies(
    base: &rialto_store::Policies,
    (time_zone, thresholds, model_timeout_ms): (&str, &str, u64),
    limits: &limits::LimitArgs,
) -> anyhow::Result<rialto_store::Policies> {
    let mut policies = base.clone().with_limits(limits.limits()?);
    policies.time_zone = rialto_risk::TimeZone::parse(time_zone).map_err(anyhow::Error::msg)?;
    policies.thresholds = parse_thresholds(thresholds)?;
    let timeout = std::time::Duration::from_millis(model_timeout_ms.clamp(1, 10_000));
    policies.models = std::sync::Arc::new(rialto_store::ModelServer::new(timeout));
    Ok(policies)
}

/// `medium,high,critical`, strictly increasing within 1..=100.
fn parse_thresholds(text: &str) -> anyhow::Result<rialto_risk::Thresholds> {
    let bad = || anyhow::anyhow!("risk thresholds `{text}`: use three increasing scores like 30,60,80");
    let v: Vec<i64> = text.split(',').map(|p| p.trim().parse().map_err(|_| bad())).collect::<Result<_, _>>()?;
    match v[..] {
        [medium, high, critical] if 0 < medium && medium < high && high < critical && critical <= 100 => {
            Ok(rialto_risk::Thresholds { medium, high, critical })
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse_or_explain() {
        let t = parse_thresholds("20,50,90").ok();
        assert_eq!(t.map(|t| (t.medium, t.high, t.critical)), Some((20, 50, 90)));
        for bad in ["30,60", "60,30,80", "30,60,101", "a,b,c", "0,10,20"] {
            assert!(parse_thresholds(bad).is_err(), "{bad}");
        }
    }
}
