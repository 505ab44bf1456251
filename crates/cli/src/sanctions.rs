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
pub(crate) fn read_with_progress(path: &PathBuf, done: &mut u64, total: u64) -> anyhow::Result<Vec<u8>> {
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
pub async fn import(db: Db, args: ImportArgs) -> anyhow::Result<ExitCode> {
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

/// Arguments of `rialto sanctions evaluate`.
#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// The folder holding the OFAC files (sdn.csv, alt.csv, add.csv, sdn_comments.csv).
    #[arg(long)]
    pub ofac: PathBuf,
    /// The UN consolidated XML.
    #[arg(long)]
    pub un: PathBuf,
    /// Listed names to make variants of.
    #[arg(long, default_value_t = 3000)]
    pub sample: usize,
    /// Names that are not listed.
    #[arg(long, default_value_t = 20_000)]
    pub unlisted: usize,
    /// Seed of the generated sets.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

const THRESHOLDS: [f64; 6] = [0.80, 0.83, 0.86, 0.90, 0.93, 0.95];

/// Recall per variant and false positives per 10,000 unlisted names at each threshold, the
/// screening latency in process, and the parse and index times (docs/COMPLIANCE.md).
pub fn evaluate(args: &EvaluateArgs) -> anyhow::Result<ExitCode> {
    use rialto_compliance::evaluate::{listed_cases, unlisted_cases, Rng};
    let (ofac, un, ofac_ms, un_ms) = read_lists(args)?;
    let mut rng = Rng::new(args.seed);
    let keyed: Vec<(String, &rialto_compliance::Entry)> = ofac
        .entries
        .iter()
        .map(|e| (format!("ofac:{}", e.id), e))
        .chain(un.entries.iter().map(|e| (format!("un:{}", e.id), e)))
        .collect();
    let mut cases = listed_cases(&keyed, args.sample, &mut rng);
    let listed: std::collections::HashSet<String> = keyed
        .iter()
        .flat_map(|(_, e)| e.names.iter())
        .filter_map(|n| rialto_compliance::normalize(&n.name).ok().map(|n| n.text()))
        .collect();
    cases.extend(unlisted_cases(&listed, args.unlisted, &mut rng));
    let t = std::time::Instant::now();
    let screener = rialto_compliance::Screener::new(vec![
        (Source::Ofac, 1, ofac.entries.clone()),
        (Source::Un, 1, un.entries.clone()),
    ]);
    let index_ms = t.elapsed().as_secs_f64() * 1000.0;
    let (counts, mut micros) = run_cases(&screener, &cases);
    micros.sort_by(f64::total_cmp);
    let pct = |p: f64| micros.get(((micros.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0.0);
    println!("lists: OFAC {} entries (parsed in {ofac_ms:.0} ms), UN {} entries ({un_ms:.0} ms); index {:?} built in {index_ms:.0} ms", ofac.entries.len(), un.entries.len(), screener.size());
    println!(
        "screening latency in process over {} queries: p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        micros.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    print_table(&counts);
    Ok(ExitCode::SUCCESS)
}

type Parsed = (rialto_compliance::ParsedList, rialto_compliance::ParsedList, f64, f64);

/// Both lists, with the milliseconds each took to parse.
fn read_lists(args: &EvaluateArgs) -> anyhow::Result<Parsed> {
    let read = |p: PathBuf| std::fs::read(&p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()));
    let t = std::time::Instant::now();
    let (sdn, alt, add, comments) = (
        read(args.ofac.join("sdn.csv"))?,
        read(args.ofac.join("alt.csv"))?,
        read(args.ofac.join("add.csv"))?,
        read(args.ofac.join("sdn_comments.csv"))?,
    );
    let files =
        rialto_compliance::ofac::Files { sdn: &sdn, alt: Some(&alt), add: Some(&add), comments: Some(&comments) };
    let ofac = rialto_compliance::ofac::parse(&files)?;
    let ofac_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = std::time::Instant::now();
    let un = rialto_compliance::un::parse(&read(args.un.clone())?)?;
    Ok((ofac, un, ofac_ms, t.elapsed().as_secs_f64() * 1000.0))
}

/// Per set: (cases at or above each threshold, cases); and each query's microseconds.
type Counts = std::collections::BTreeMap<&'static str, ([usize; 6], usize)>;

fn run_cases(
    screener: &rialto_compliance::Screener,
    cases: &[rialto_compliance::evaluate::Case],
) -> (Counts, Vec<f64>) {
    let mut counts = Counts::new();
    let mut micros = Vec::with_capacity(cases.len());
    for c in cases {
        let q = rialto_compliance::Query { name: c.name.clone(), ..Default::default() };
        let t = std::time::Instant::now();
        let matches = screener.screen(&q, 0.5, 10).unwrap_or_default();
        micros.push(t.elapsed().as_secs_f64() * 1e6);
        let best = match &c.expected {
            Some(key) => {
                matches.iter().find(|m| format!("{}:{}", m.source, m.entry_id) == *key).map_or(0.0, |m| m.score)
            }
            None => matches.first().map_or(0.0, |m| m.score),
        };
        let slot = counts.entry(c.variant).or_default();
        slot.1 += 1;
        for (i, th) in THRESHOLDS.iter().enumerate() {
            if best >= *th {
                slot.0[i] += 1;
            }
        }
    }
    (counts, micros)
}

fn print_table(counts: &Counts) {
    use rialto_compliance::evaluate::VARIANTS;
    let header: Vec<String> = THRESHOLDS.iter().map(|t| format!("{t:>7.2}")).collect();
    println!("{:<16}{:>7}{}", "set", "cases", header.join(""));
    let row = |name: &str, found: &[usize; 6], total: usize, per_10k: bool| {
        let cells: Vec<String> = found
            .iter()
            .map(|f| {
                if per_10k {
                    format!("{:>7.1}", *f as f64 * 10_000.0 / total.max(1) as f64)
                } else {
                    format!("{:>6.1}%", *f as f64 * 100.0 / total.max(1) as f64)
                }
            })
            .collect();
        println!("{:<16}{:>7}{}", name, total, cells.join(""));
    };
    for v in VARIANTS.iter().chain(["not_listed"].iter()) {
        if let Some((found, total)) = counts.get(v) {
            row(v, found, *total, *v == "not_listed");
        }
    }
    let (found, total) =
        counts.iter().filter(|(k, _)| **k != "not_listed").fold(([0usize; 6], 0), |mut acc, (_, (f, t))| {
            for (a, x) in acc.0.iter_mut().zip(f) {
                *a += x;
            }
            (acc.0, acc.1 + t)
        });
    row("all variants", &found, total, false);
    println!("(variants: recall, the listed entry found at or above the threshold; not_listed: false positives per 10,000 names)");
}
