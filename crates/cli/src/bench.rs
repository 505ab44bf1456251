//! `rialto bench`: posted transfers per second and latency percentiles through HTTP, with
//! many concurrent clients. Starts its own server on the given database unless `--url` is
//! given. `--hot` sends every transfer to one destination account.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

/// Options of `rialto bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Database of the server the bench starts (use a fresh one).
    #[arg(long, default_value = "sqlite://rialto-bench.db")]
    database: String,
    /// Bench an already running server instead (then `--key` is needed).
    #[arg(long)]
    url: Option<String>,
    /// Writer (or admin) key for `--url`.
    #[arg(long, env = "RIALTO_BENCH_KEY")]
    key: Option<String>,
    /// Transfers to send.
    #[arg(long, default_value_t = 20_000)]
    transfers: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Distinct source accounts (and destination accounts unless `--hot`).
    #[arg(long, default_value_t = 1_000)]
    accounts: usize,
    /// Every transfer pays the same destination account.
    #[arg(long)]
    hot: bool,
    /// Send no Idempotency-Key headers.
    #[arg(long)]
    no_idempotency: bool,
    /// Send payments (`POST /v1/payments`, through the risk and compliance gates, one user per
    /// source account) instead of plain transfers.
    #[arg(long, conflicts_with = "direct")]
    payments: bool,
    /// Skip HTTP: submit commands straight to the ledger writer (measures the ledger alone).
    #[arg(long, conflicts_with = "url")]
    direct: bool,
    /// While the transfers run, also send this many requests with distinct invalid API keys
    /// (16 at a time, from this address): the latency of good requests under a flood.
    #[arg(long, default_value_t = 0, conflicts_with = "direct")]
    bad_key_flood: usize,
}

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Client {
    async fn post(&self, path: &str, body: &Value, idem: Option<String>) -> anyhow::Result<(u16, Value)> {
        let mut req = self.http.post(format!("{}{path}", self.base)).bearer_auth(&self.key).json(body);
        if let Some(k) = idem {
            req = req.header("Idempotency-Key", k);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    async fn account(&self, allow_negative: bool) -> anyhow::Result<String> {
        let (status, v) = self
            .post("/v1/accounts", &json!({"currency": "USD", "allow_negative_balance": allow_negative}), None)
            .await?;
        if status != 201 {
            bail!("creating an account answered {status}: {v}");
        }
        v["id"].as_str().map(str::to_string).context("account id")
    }
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.concurrency == 0 || args.transfers == 0 || args.accounts == 0 {
        bail!("--transfers, --concurrency and --accounts must be positive");
    }
    if args.direct {
        return run_direct(&args).await;
    }
    let mut server = None;
    let (base, key) = match &args.url {
        Some(url) => (url.trim_end_matches('/').to_string(), args.key.clone().context("--url needs --key")?),
        None => {
            let key = format!("rialto_bench_{}", uuid::Uuid::new_v4().simple());
            let mut config = rialto_api::Config::new(args.database.clone(), "127.0.0.1:0".parse()?);
            config.admin_key = Some(key.clone());
            let running = rialto_api::start(config).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let base = format!("http://{}", running.addr);
            server = Some(running);
            (base, key)
        }
    };
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build()?;
    let client = Arc::new(Client { http, base, key });

    eprintln!("setting up {} source accounts...", args.accounts);
    let funding = client.account(true).await?;
    let mut sources = Vec::with_capacity(args.accounts);
    let mut users = Vec::new();
    let mut destinations = Vec::new();
    for i in 0..args.accounts {
        if args.payments {
            let (status, u) = client.post("/v1/users", &json!({"name": format!("bench user {i}")}), None).await?;
            if status != 201 {
                bail!("creating a user answered {status}: {u}");
            }
            users.push(u["id"].as_str().unwrap_or_default().to_string());
        }
        let a = client.account(false).await?;
        let (status, v) = client
            .post(
                "/v1/transfers",
                &json!({"source_account_id": funding, "destination_account_id": a,
                                           "amount": 1_000_000_000_i64, "currency": "USD"}),
                None,
            )
            .await?;
        if status != 201 {
            bail!("funding answered {status}: {v}");
        }
        sources.push(a);
    }
    let destination_count = if args.hot { 1 } else { args.accounts };
    for _ in 0..destination_count {
        destinations.push(client.account(false).await?);
    }
    let sources = Arc::new(sources);
    let destinations = Arc::new(destinations);
    let users = Arc::new(users);
    let (path, what) = if args.payments { ("/v1/payments", "payments") } else { ("/v1/transfers", "transfers") };

    eprintln!(
        "sending {} {what} with {} clients ({})...",
        args.transfers,
        args.concurrency,
        if args.hot { "hot destination account" } else { "spread over accounts" }
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    for _ in 0..args.concurrency {
        let (client, next, sources, destinations, users) =
            (client.clone(), next.clone(), sources.clone(), destinations.clone(), users.clone());
        let (total, idem, run_id) = (args.transfers, !args.no_idempotency, run_id.clone());
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let src = &sources[i % sources.len()];
                let dst = &destinations[(i * 7 + 3) % destinations.len()];
                let mut body = json!({"source_account_id": src, "destination_account_id": dst,
                                  "amount": 1 + (i % 100) as i64, "currency": "USD"});
                if let Some(user) = users.get(i % sources.len()) {
                    body["user_id"] = json!(user);
                    body["method"] = json!("card");
                    body["ip_address"] = json!("203.0.113.7");
                }
                let t = Instant::now();
                let key = idem.then(|| format!("bench-{run_id}-{i}"));
                match client.post(path, &body, key).await {
                    // A payment must have passed every gate and moved the money.
                    Ok((201, v)) if users.is_empty() || v["status"] == "completed" => latencies.push(t.elapsed()),
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        });
    }
    let flood = tokio::spawn(flood(client.clone(), args.bad_key_flood));
    let (mut latencies, errors) = gather(workers, args.transfers).await?;
    let elapsed = started.elapsed();
    report(&args, "http", &mut latencies, errors, elapsed)?;
    let flood = flood.await??;
    writer_report(&client, flood).await?;
    let verify: Value = client
        .http
        .get(format!("{}/v1/ledger/verify", client.base))
        .bearer_auth(&client.key)
        .send()
        .await?
        .json()
        .await?;
    eprintln!("ledger verify after the run: ok = {}", verify["ok"]);
    if let Some(s) = server {
        s.stop().await?;
    }
    if errors > 0 {
        bail!("{errors} transfers failed");
    }
    Ok(())
}

/// Answers to the bad-key flood: (401s, 429s, anything else).
type FloodAnswers = (usize, usize, usize);

/// Sends `n` requests with distinct invalid keys, 16 at a time.
async fn flood(client: Arc<Client>, n: usize) -> anyhow::Result<FloodAnswers> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..16.min(n) {
        let (client, next) = (client.clone(), next.clone());
        senders.spawn(async move {
            let mut answers = (0, 0, 0);
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let bad = format!("rialto_flood_{}", uuid::Uuid::new_v4().simple());
                let r = client.http.get(format!("{}/v1/accounts", client.base)).bearer_auth(bad).send().await;
                match r.map(|r| r.status().as_u16()) {
                    Ok(401) => answers.0 += 1,
                    Ok(429) => answers.1 += 1,
                    _ => answers.2 += 1,
                }
            }
            answers
        });
    }
    let mut total = (0, 0, 0);
    for (a, b, c) in senders.join_all().await {
        total = (total.0 + a, total.1 + b, total.2 + c);
    }
    Ok(total)
}

/// The writer's batching over the whole run, and what a flood cost in audit records.
async fn writer_report(client: &Client, flood: FloodAnswers) -> anyhow::Result<()> {
    let metrics = client.http.get(format!("{}/metrics", client.base)).send().await?.text().await?;
    let counter = |name: &str| -> f64 {
        metrics.lines().find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok())).unwrap_or(0.0)
    };
    let (batches, commands) = (counter("rialto_ledger_batches_total "), counter("rialto_ledger_commands_total "));
    let batch_us = counter("rialto_ledger_batch_time_microseconds_total ");
    if batches > 0.0 {
        eprintln!(
            "writer (whole run, setup included): {batches} batches, {:.1} commands per batch on average, {:.2} ms per batch",
            commands / batches,
            batch_us / batches / 1000.0
        );
    }
    if flood != (0, 0, 0) {
        let records = counter("rialto_auth_refusal_audit_records_total ");
        eprintln!(
            "bad-key flood: {} answered 401, {} answered 429, {} otherwise; {records} audit records so far",
            flood.0, flood.1, flood.2
        );
    }
    Ok(())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((_, host)) if url.contains("://") => {
            format!("{}://…@{host}", url.split("://").next().unwrap_or(""))
        }
        _ => url.to_string(),
    }
}

/// `--direct`: the same workload submitted to the writer in-process, without HTTP.
async fn run_direct(args: &BenchArgs) -> anyhow::Result<()> {
    use rialto_core::ids::{self, new_id};
    use rialto_core::ledger::TransferSpec;
    use rialto_core::{Amount, Currency};
    use rialto_store::{Command, Idempotency, NewAccount, NewTransfer, Output, Reply, WriterConfig};

    let db = rialto_store::Db::connect(&args.database).await?;
    db.migrate().await?;
    let presenter: rialto_store::Presenter = Arc::new(|o| rialto_api::present::output(o).to_string());
    let writer = rialto_store::start_writer(&db, WriterConfig::default(), presenter, Default::default()).await?;
    let usd = Currency::parse("USD").map_err(|e| anyhow::anyhow!("{e}"))?;
    let open = |allow_negative: bool| {
        let writer = writer.clone();
        async move {
            let cmd = Command::Ledger(rialto_store::LedgerCommand::CreateAccount(NewAccount {
                id: new_id::<ids::AccountId>(),
                currency: usd,
                user_id: None,
                name: None,
                allow_negative_balance: allow_negative,
                metadata: Default::default(),
            }));
            match writer.submit(cmd, None, None).await {
                Reply::Done { outcome: Ok(Output::Account(a)), .. } => Ok(a.account.id),
                other => Err(anyhow::anyhow!("creating an account: {other:?}")),
            }
        }
    };
    let transfer = move |src: String, dst: String, amount: i64| -> anyhow::Result<Command> {
        Ok(Command::Ledger(rialto_store::LedgerCommand::Transfer(NewTransfer {
            spec: TransferSpec {
                id: new_id::<ids::TransferId>(),
                source_account_id: src,
                destination_account_id: dst,
                amount: Amount::new(amount)?,
                currency: usd,
                pending: false,
                expires_at_us: None,
            },
            description: None,
            reference: None,
            metadata: Default::default(),
        })))
    };
    eprintln!("setting up {} source accounts (direct)...", args.accounts);
    let funding = open(true).await?;
    let mut sources = Vec::new();
    let mut destinations = Vec::new();
    for _ in 0..args.accounts {
        let a = open(false).await?;
        match writer.submit(transfer(funding.clone(), a.clone(), 1_000_000_000)?, None, None).await {
            Reply::Done { outcome: Ok(_), .. } => sources.push(a),
            other => bail!("funding: {other:?}"),
        }
    }
    for _ in 0..(if args.hot { 1 } else { args.accounts }) {
        destinations.push(open(false).await?);
    }
    let (sources, destinations) = (Arc::new(sources), Arc::new(destinations));
    // Store the same rendered JSON answer the API stores.
    let render: rialto_store::Renderer = Arc::new(|outcome| {
        let (status, body) = rialto_api::idem::render(outcome, rialto_api::StatusCode::CREATED);
        Some((status.as_u16(), body.to_string()))
    });
    eprintln!("submitting {} transfers from {} tasks straight to the writer...", args.transfers, args.concurrency);
    let next = Arc::new(AtomicUsize::new(0));
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let before = (writer.stats().batches.load(Ordering::Relaxed), writer.stats().commands.load(Ordering::Relaxed));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let (writer, next, sources, destinations) =
            (writer.clone(), next.clone(), sources.clone(), destinations.clone());
        let (total, idem, run_id, render) = (args.transfers, !args.no_idempotency, run_id.clone(), render.clone());
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let src = sources[i % sources.len()].clone();
                let dst = destinations[(i * 7 + 3) % destinations.len()].clone();
                let idempotency = idem.then(|| Idempotency {
                    scope_key: format!("bench:{run_id}:{i}"),
                    request_hash: format!("{i}"),
                    ttl_us: 24 * 3600 * 1_000_000,
                    render: render.clone(),
                });
                let Ok(command) = transfer(src, dst, 1 + (i % 100) as i64) else {
                    errors += 1;
                    continue;
                };
                let t = Instant::now();
                match writer.submit(command, idempotency, None).await {
                    Reply::Done { outcome: Ok(_), .. } => latencies.push(t.elapsed()),
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        });
    }
    let (mut latencies, errors) = gather(workers, args.transfers).await?;
    let elapsed = started.elapsed();
    report(args, "direct", &mut latencies, errors, elapsed)?;
    let stats = writer.stats();
    let batches = stats.batches.load(Ordering::Relaxed) - before.0;
    let commands = stats.commands.load(Ordering::Relaxed) - before.1;
    #[allow(clippy::cast_precision_loss)]
    let per_batch = commands as f64 / batches.max(1) as f64;
    eprintln!("writer during the run: {batches} batches, {per_batch:.1} commands per batch on average");
    let verify = db.verify().await?;
    eprintln!("ledger verify after the run: ok = {}", verify.ok());
    db.close().await;
    if errors > 0 {
        bail!("{errors} transfers failed");
    }
    Ok(())
}

/// Waits for every worker and gathers their latencies and error counts.
async fn gather(
    mut workers: tokio::task::JoinSet<(Vec<Duration>, usize)>,
    capacity: usize,
) -> anyhow::Result<(Vec<Duration>, usize)> {
    let mut latencies = Vec::with_capacity(capacity);
    let mut errors = 0;
    while let Some(r) = workers.join_next().await {
        let (l, e) = r?;
        latencies.extend(l);
        errors += e;
    }
    Ok((latencies, errors))
}

/// Prints the figures of a run as JSON on stdout.
fn report(
    args: &BenchArgs,
    mode: &str,
    latencies: &mut [Duration],
    errors: usize,
    elapsed: Duration,
) -> anyhow::Result<()> {
    latencies.sort();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let idx = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[idx].as_secs_f64() * 1000.0
    };
    #[allow(clippy::cast_precision_loss)]
    let tps = latencies.len() as f64 / elapsed.as_secs_f64();
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "mode": mode,
            "database": args.url.clone().unwrap_or_else(|| redact(&args.database)),
            "scenario": match (args.payments, args.hot) {
                (true, true) => "payments_hot_account",
                (true, false) => "payments_spread",
                (false, true) => "hot_account",
                (false, false) => "spread",
            },
            "transfers_ok": latencies.len(), "errors": errors, "concurrency": args.concurrency,
            "idempotency_keys": !args.no_idempotency,
            "seconds": (elapsed.as_secs_f64() * 100.0).round() / 100.0,
            "transfers_per_second": tps.round(),
            "latency_ms": {"p50": round2(pct(0.50)), "p90": round2(pct(0.90)), "p99": round2(pct(0.99)), "max": round2(pct(1.0))},
        }))?
    );
    Ok(())
}
