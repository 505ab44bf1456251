//! `rialto recon import FILE --account ACCOUNT`: reads a statement file (a progress bar on a
//! terminal), parses it (camt, MT940, or CSV with the account's saved mapping; a bad file is
//! refused with its line or element), imports its statements through the writer, audited like
//! an API upload, and with `--json` prints each statement's id, account, balances, line count
//! and whether it adds up. `rialto recon run --account ACCOUNT` reconciles the account now.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use rialto_store::{AuditContext, Command, Db, Output, ReconCommand, Reply, WriterConfig};

/// `rialto recon …`
#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Import a statement file (camt.052/053/054, MT940, or CSV with the account's mapping).
    Import(ImportArgs),
    /// Reconcile a mirror account now.
    Run(RunArgs),
    /// Measure statement parsing, import and matching on a generated ledger and statement.
    Bench(BenchArgs),
}

/// Runs a `rialto recon` command.
pub async fn dispatch(c: Cmd) -> anyhow::Result<ExitCode> {
    match c {
        Cmd::Import(args) => import(crate::open(&args.db).await?, args).await,
        Cmd::Run(args) => run(crate::open(&args.db).await?, args).await,
        Cmd::Bench(args) => bench(crate::open(&args.db).await?, args).await,
    }
}

/// Arguments of `rialto recon import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub db: crate::DbArgs,
    /// The mirror account (`acct_…`) with reconciliation settings.
    #[arg(long)]
    pub account: String,
    /// `csv` to read the file with the account's saved mapping (other formats are recognised).
    #[arg(long)]
    pub format: Option<String>,
    /// Print the statements as JSON (id, account, opening and closing balances, lines, adds_up).
    #[arg(long)]
    pub json: bool,
    /// The statement file.
    pub path: PathBuf,
}

/// Arguments of `rialto recon run`.
#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub db: crate::DbArgs,
    /// The mirror account.
    #[arg(long)]
    pub account: String,
}

async fn submit(db: &Db, command: Command) -> anyhow::Result<Result<Output, rialto_store::CommandError>> {
    let presenter: rialto_store::Presenter = std::sync::Arc::new(|o| rialto_api::present::output(o).to_string());
    let writer = rialto_store::start_writer(db, WriterConfig::default(), presenter, Default::default()).await?;
    let audit = AuditContext { actor: "cli".into(), request_id: None, ip: None };
    match writer.submit(command, None, Some(audit)).await {
        Reply::Done { outcome, .. } => Ok(outcome),
        _ => anyhow::bail!("unexpected answer from the ledger writer"),
    }
}

/// Runs the import.
pub async fn import(db: Db, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let Some(account) = db.recon_account(&args.account).await? else {
        eprintln!(
            "refused: {} has no reconciliation settings (POST /v1/reconciliation/accounts/{})",
            args.account, args.account
        );
        return Ok(ExitCode::FAILURE);
    };
    let csv = match args.format.as_deref() {
        None => false,
        Some("csv") => true,
        Some(other) => anyhow::bail!("--format must be csv (not {other}); other formats are recognised"),
    };
    let total = std::fs::metadata(&args.path).map(|m| m.len()).unwrap_or(0);
    let bytes = crate::sanctions::read_with_progress(&args.path, &mut 0, total)?;
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
    let started = std::time::Instant::now();
    let statements = match rialto_api::recon::parse_statements(&account, &bytes, csv) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("refused: {}", e.message);
            return Ok(ExitCode::FAILURE);
        }
    };
    let lines: usize = statements.iter().map(|s| s.lines.len()).sum();
    let parsed = started.elapsed().as_secs_f64();
    eprintln!("parsed {} statement(s), {lines} lines in {parsed:.2} s; importing", statements.len());
    let source = args.path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let command = Command::Recon(ReconCommand::Import {
        account_id: account.account_id.clone(),
        statements,
        source,
        by: "cli".into(),
    });
    match submit(&db, command).await? {
        Ok(Output::ReconStatements(list)) => {
            eprintln!("imported in {:.2} s", started.elapsed().as_secs_f64() - parsed);
            for s in &list {
                if args.json {
                    println!("{}", rialto_api::present::statement_json(s));
                } else {
                    let adds = match s.adds_up {
                        Some(true) => "adds up",
                        Some(false) => "DOES NOT ADD UP",
                        None => "no balances",
                    };
                    let again = if s.already_imported { " (imported before; unchanged)" } else { "" };
                    println!(
                        "{} {} {} lines, {adds}, sequence {}{again}",
                        s.id, s.bank_account, s.line_count, s.sequence_status
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Ok(_) => anyhow::bail!("unexpected answer from the ledger writer"),
        Err(e) => {
            eprintln!("refused: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Reconciles the account now and prints the run.
pub async fn run(db: Db, args: RunArgs) -> anyhow::Result<ExitCode> {
    let Some(account) = db.recon_account(&args.account).await? else {
        eprintln!("refused: {} has no reconciliation settings", args.account);
        return Ok(ExitCode::FAILURE);
    };
    let started = std::time::Instant::now();
    let command = Command::Recon(ReconCommand::Run {
        account_id: account.account_id.clone(),
        fees_account_id: account.fees_account_id.clone(),
        triggered_by: "cli".into(),
        by: "cli".into(),
    });
    match submit(&db, command).await? {
        Ok(Output::ReconRun(r)) => {
            println!("{}", serde_json::to_string_pretty(&rialto_api::present::recon_run_json(&r))?);
            eprintln!("reconciled in {:.2} s", started.elapsed().as_secs_f64());
            Ok(ExitCode::SUCCESS)
        }
        Ok(_) => anyhow::bail!("unexpected answer from the ledger writer"),
        Err(e) => {
            eprintln!("refused: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Arguments of `rialto recon bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub db: crate::DbArgs,
    /// Ledger entries on the mirror account and statement lines (one per entry).
    #[arg(long, default_value_t = 100_000)]
    pub lines: usize,
    /// Transfers in flight while the ledger is filled.
    #[arg(long, default_value_t = 512)]
    pub concurrency: usize,
}

fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb / 1024)
}

/// Fills a mirror account with `lines` transfers (each with its own reference), writes a
/// camt.053 statement of them (every 100th line 1 cent off, every 1,000th without a reference:
/// matched on amount and date),
/// then measures parse, import and the reconciliation run.
pub async fn bench(db: Db, args: BenchArgs) -> anyhow::Result<ExitCode> {
    let usd = rialto_core::Currency::parse("USD").map_err(|e| anyhow::anyhow!("{e}"))?;
    let (mirror, fees) = fill_ledger(&db, &args, usd).await?;
    let rules = rialto_recon::matching::default_rules();
    let settings = rialto_store::ReconAccount {
        account_id: mirror.clone(),
        bank_account: "DE89370400440532013000".into(),
        currency: usd,
        normal_balance: rialto_store::NormalBalance::Debit,
        fees_account_id: Some(fees.clone()),
        write_off_max: 5,
        rules,
        rules_json: r#"[{"kind":"reference"},{"kind":"amount_date"},{"kind":"group"},{"kind":"bank_fee"}]"#.into(),
        csv_mapping: None,
        created_at_us: 0,
        updated_at_us: 0,
    };
    submit(&db, Command::Recon(ReconCommand::Configure(Box::new(settings))))
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let xml = bench_statement(args.lines);
    let t = std::time::Instant::now();
    let statements =
        rialto_recon::parse(xml.as_bytes(), rialto_recon::Input::Detect).map_err(|e| anyhow::anyhow!("{e}"))?;
    let parse_s = t.elapsed().as_secs_f64();
    let n = statements[0].lines.len();
    drop(xml);
    let t = std::time::Instant::now();
    let command = Command::Recon(ReconCommand::Import {
        account_id: mirror.clone(),
        statements,
        source: "bench.xml".into(),
        by: "bench".into(),
    });
    submit(&db, command).await?.map_err(|e| anyhow::anyhow!("{e}"))?;
    let import_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let command = Command::Recon(ReconCommand::Run {
        account_id: mirror,
        fees_account_id: Some(fees),
        triggered_by: "bench".into(),
        by: "bench".into(),
    });
    let run = submit(&db, command).await?.map_err(|e| anyhow::anyhow!("{e}"))?;
    let run_s = t.elapsed().as_secs_f64();
    let Output::ReconRun(run) = run else { anyhow::bail!("unexpected answer") };
    let total = parse_s + import_s + run_s;
    println!(
        "{n} lines: parse {parse_s:.2} s ({:.0} lines/s), import {import_s:.2} s, reconcile {run_s:.2} s ({:.0} lines/s); \
         total {total:.1} s; peak RSS {} MiB",
        n as f64 / parse_s,
        n as f64 / run_s,
        peak_rss_mib().map_or("?".into(), |m| m.to_string())
    );
    println!("{}", run.counts);
    Ok(ExitCode::SUCCESS)
}

/// A mirror, a counter and a fees account; `lines` transfers out of the mirror (money into the
/// bank), each with its own reference. The mirror's and the fees account's ids.
async fn fill_ledger(db: &Db, args: &BenchArgs, usd: rialto_core::Currency) -> anyhow::Result<(String, String)> {
    use rialto_core::ids::{new_id, AccountId, TransferId};
    use rialto_store::{LedgerCommand, NewAccount, NewTransfer};
    let presenter: rialto_store::Presenter = std::sync::Arc::new(|_| String::new());
    let writer = rialto_store::start_writer(db, WriterConfig::default(), presenter, Default::default()).await?;
    let open = |id: &str| {
        Command::Ledger(LedgerCommand::CreateAccount(NewAccount {
            id: id.into(),
            currency: usd,
            user_id: None,
            name: None,
            allow_negative_balance: true,
            metadata: Default::default(),
        }))
    };
    let (mirror, counter, fees) = (new_id::<AccountId>(), new_id::<AccountId>(), new_id::<AccountId>());
    for a in [&mirror, &counter, &fees] {
        writer.submit(open(a), None, None).await;
    }
    let started = std::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..args.lines {
        if set.len() >= args.concurrency {
            set.join_next().await;
        }
        let w = writer.clone();
        let spec = rialto_core::ledger::TransferSpec {
            id: new_id::<TransferId>(),
            source_account_id: mirror.clone(),
            destination_account_id: counter.clone(),
            amount: rialto_core::Amount::new(100 + (i % 50_000) as i64).map_err(|e| anyhow::anyhow!("{e}"))?,
            currency: usd,
            pending: false,
            expires_at_us: None,
        };
        let t = NewTransfer {
            spec,
            description: None,
            reference: Some(format!("INV-{i:08}")),
            metadata: Default::default(),
        };
        set.spawn(async move { w.submit(Command::Ledger(LedgerCommand::Transfer(t)), None, None).await });
    }
    set.join_all().await;
    eprintln!("ledger filled: {} transfers in {:.1} s", args.lines, started.elapsed().as_secs_f64());
    Ok((mirror, fees))
}

/// A camt.053.001.08 statement of `n` credits matching the bench's transfers.
fn bench_statement(n: usize) -> String {
    use std::fmt::Write;
    let day = rialto_recon::Date::from_unix_us(rialto_store::now_us());
    let mut body = String::with_capacity(n * 330);
    let mut total: i64 = 0;
    for i in 0..n {
        let mut amount = 100 + (i % 50_000) as i64;
        if i % 100 == 99 && i % 1000 != 999 {
            amount += 1;
        }
        total += amount;
        let refs = if i % 1000 == 999 {
            String::new()
        } else {
            format!("<NtryDtls><TxDtls><Refs><EndToEndId>INV-{i:08}</EndToEndId></Refs></TxDtls></NtryDtls>")
        };
        let _ = writeln!(
            body,
            "<Ntry><Amt Ccy=\"USD\">{}.{:02}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt><AcctSvcrRef>S{i}</AcctSvcrRef>{refs}</Ntry>",
            amount / 100,
            amount % 100
        );
    }
    format!(
        "<?xml version=\"1.0\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt><GrpHdr><MsgId>B</MsgId></GrpHdr><Stmt><Id>BENCH</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>\n<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"USD\">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal><Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"USD\">{}.{:02}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>\n{body}</Stmt></BkToCstmrStmt></Document>\n",
        total / 100,
        total % 100
    )
}
