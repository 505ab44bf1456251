//! `rialto sanctions import --source ofac|un PATH...`: reads the publisher's files (with a
//! progress bar on a terminal), parses them (a malformed or truncated file is refused with its
//! line, and the version in force stays), and imports them as a new list version through the
//! writer, audited like an API upload.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use rialto_compliance::Source;
use rialto_store::{AuditContext, Db, Output, Reply, WriterConfig};

/// Arguments of `rialto sanctions import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub db: crate::DbArgs,
    /// `ofac` (the legacy CSV files: sdn.csv and any of alt.csv, add.csv, sdn_comments.csv) or
    /// `un` (the consolidated XML).
    #[arg(long)]
    pub source: String,
    /// Accept a list less than half the size of the one in force.
    #[arg(long)]
    pub allow_shrink: bool,
    /// The files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Reads a file in chunks, drawing a bar on stderr when it is a terminal.
fn read_with_progress(path: &PathBuf, done: &mut u64, total: u64) -> anyhow::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 256 * 1024];
    let tty = std::io::stderr().is_terminal();
    loop {
        let n = file.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
        *done += n as u64;
        if tty {
            let width = 30;
            let filled = usize::try_from(*done * width / total.max(1)).unwrap_or(0).min(30);
            let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            eprint!(
                "\r[{}{}] {:>3}% {name:<20}",
                "#".repeat(filled),
                "-".repeat(30 - filled),
                *done * 100 / total.max(1)
            );
            let _ = std::io::stderr().flush();
        }
    }
    Ok(out)
}

/// Runs the import.
pub async fn import(args: ImportArgs, db: Db) -> anyhow::Result<ExitCode> {
    let source = Source::parse(&args.source).ok_or_else(|| anyhow::anyhow!("--source must be ofac or un"))?;
    let total: u64 = args.paths.iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    let mut done = 0;
    let mut files = Vec::new();
    for path in &args.paths {
        let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        files.push((name, read_with_progress(path, &mut done, total)?));
    }
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
    let started = std::time::Instant::now();
    let parsed = match rialto_api::sanctions::parse_files(source, &files) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("refused: {}", e.body()["error"]["message"].as_str().unwrap_or("invalid list"));
            return Ok(ExitCode::FAILURE);
        }
    };
    eprintln!("parsed {} entries in {:.2} s; importing", parsed.entries.len(), started.elapsed().as_secs_f64());
    let command = rialto_api::sanctions::import_command(parsed, &files, "cli", args.allow_shrink);
    let presenter: rialto_store::Presenter = std::sync::Arc::new(|o| rialto_api::present::output(o).to_string());
    let writer = rialto_store::start_writer(&db, WriterConfig::default(), presenter, Default::default()).await?;
    let audit = AuditContext { actor: "cli".into(), request_id: None, ip: None };
    match writer.submit(command, None, Some(audit)).await {
        Reply::Done { outcome: Ok(Output::ListImport(o)), .. } => {
            println!("{}", serde_json::to_string_pretty(&rialto_api::present::import_answer(&o))?);
            let v = &o.version;
            if o.created {
                eprintln!(
                    "{} version {}: {} entries ({} added, {} changed, {} removed) in {:.2} s; running servers re-screen their users",
                    v.source, v.version, v.entries, v.added, v.changed, v.removed, started.elapsed().as_secs_f64()
                );
            } else {
                eprintln!("{} is unchanged: version {} stays in force", v.source, v.version);
            }
            Ok(ExitCode::SUCCESS)
        }
        Reply::Done { outcome: Err(e), .. } => {
            eprintln!("refused: {e}");
            Ok(ExitCode::FAILURE)
        }
        _ => anyhow::bail!("unexpected answer from the ledger writer"),
    }
}
