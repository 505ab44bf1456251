//! Reconciliation in the batch: settings of a mirror account, statement imports (identity
//! checked, sequence placed, lines stored), runs (the domain's matching over the account's
//! unmatched lines and entries, auto-resolution booked through the ledger as journal entries,
//! counts and the balance drift), and a person's match, unmatch and resolve; each in one
//! transaction with its audit record and event.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rialto_core::ids;
use rialto_core::ledger::{Direction, Line as JournalLine};
use rialto_core::Amount;
use rialto_recon::matching::{self, External, Internal, Outcome as MatchOutcome};
use rialto_recon::statement::{self, Imported};
use rialto_recon::{Date, Statement};
use serde_json::json;

use super::{Abort, CommandError, JournalRecord, Metadata, Output, State, Writes};
use crate::recon::{
    account_from_row, line_from_row, line_values, match_from_row, match_values, statement_from_row, LineRecord,
    MatchRecord, NormalBalance, ReconAccount, RunRecord, StatementRecord, LINE_COLUMNS, MATCH_COLUMNS,
};
use crate::sql::{exec_values, Conn, Get, Val};
use crate::DbKind;

/// Days either side of the statements' period whose entries a run reads (the widest window a
/// rule may have).
const WINDOW_DAYS_MAX: i32 = 31;

/// What a person resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveTarget {
    /// An exception match (a mismatch, a duplicate, a bank fee).
    Match(String),
    /// A statement line nothing matched.
    Line(String),
    /// A ledger entry no line matched.
    Entry(i64),
}

/// A reconciliation command.
#[derive(Debug, Clone)]
pub enum ReconCommand {
    /// Create or replace a mirror account's settings.
    Configure(Box<ReconAccount>),
    /// Import the statements of one file.
    Import {
        /// The mirror account.
        account_id: String,
        /// The statements, as parsed.
        statements: Vec<Statement>,
        /// The file's name.
        source: String,
        /// Who.
        by: String,
    },
    /// Match the account's unmatched lines and entries.
    Run {
        /// The mirror account.
        account_id: String,
        /// Its fees account (as the settings said when the run was asked; checked).
        fees_account_id: Option<String>,
        /// `schedule` or `api`.
        triggered_by: String,
        /// Who.
        by: String,
    },
    /// A person pairs lines with entries.
    Match {
        /// The mirror account.
        account_id: String,
        /// Lines.
        line_ids: Vec<String>,
        /// Entries.
        entry_seqs: Vec<i64>,
        /// Why.
        note: String,
        /// Who.
        by: String,
    },
    /// A person undoes a match.
    Unmatch {
        /// The mirror account.
        account_id: String,
        /// The match.
        match_id: String,
        /// Why.
        note: String,
        /// Who.
        by: String,
    },
    /// A person resolves an exception, an unmatched line or entry, optionally booking the
    /// difference to the fees account.
    Resolve {
        /// The mirror account.
        account_id: String,
        /// What.
        target: ResolveTarget,
        /// Book the difference (a mismatch's, a fee's, an unmatched line's amount).
        book: bool,
        /// The fees account (as the settings said; checked).
        fees_account_id: Option<String>,
        /// Why.
        note: String,
        /// Who.
        by: String,
    },
}

impl ReconCommand {
    fn account_id(&self) -> &str {
        match self {
            ReconCommand::Configure(a) => &a.account_id,
            ReconCommand::Import { account_id, .. }
            | ReconCommand::Run { account_id, .. }
            | ReconCommand::Match { account_id, .. }
            | ReconCommand::Unmatch { account_id, .. }
            | ReconCommand::Resolve { account_id, .. } => account_id,
        }
    }

    /// The ledger accounts it needs in the book.
    pub(crate) fn accounts(&self, out: &mut BTreeSet<String>) {
        out.insert(self.account_id().to_string());
        let fees = match self {
            ReconCommand::Configure(a) => a.fees_account_id.clone(),
            ReconCommand::Run { fees_account_id, .. } | ReconCommand::Resolve { fees_account_id, .. } => {
                fees_account_id.clone()
            }
            _ => None,
        };
        out.extend(fees);
    }

    /// Its audit action and resource.
    pub(crate) fn action(&self) -> (&'static str, Option<(&'static str, String)>) {
        let account = || Some(("account", self.account_id().to_string()));
        match self {
            ReconCommand::Configure(_) => ("reconciliation.configure", account()),
            ReconCommand::Import { .. } => ("reconciliation.import", account()),
            ReconCommand::Run { .. } => ("reconciliation.run", account()),
            ReconCommand::Match { .. } => ("reconciliation.match", account()),
            ReconCommand::Unmatch { match_id, .. } => {
                ("reconciliation.unmatch", Some(("recon_match", match_id.clone())))
            }
            ReconCommand::Resolve { target: ResolveTarget::Match(id), .. } => {
                ("reconciliation.resolve", Some(("recon_match", id.clone())))
            }
            ReconCommand::Resolve { .. } => ("reconciliation.resolve", account()),
        }
    }
}

/// What one mirror account's commands need.
#[derive(Debug, Default)]
pub(crate) struct Need {
    import: bool,
    run: bool,
    lines: BTreeSet<String>,
    entries: BTreeSet<i64>,
    matches: BTreeSet<String>,
}

/// What the batch's reconciliation commands need, by mirror account.
pub(crate) type Keys = BTreeMap<String, Need>;

/// Adds what `c` needs.
pub(crate) fn keys(c: &ReconCommand, k: &mut Keys) {
    let need = k.entry(c.account_id().to_string()).or_default();
    match c {
        ReconCommand::Configure(_) => {}
        ReconCommand::Import { .. } => need.import = true,
        ReconCommand::Run { .. } => need.run = true,
        ReconCommand::Match { line_ids, entry_seqs, .. } => {
            need.lines.extend(line_ids.iter().cloned());
            need.entries.extend(entry_seqs);
        }
        ReconCommand::Unmatch { match_id, .. } => {
            need.matches.insert(match_id.clone());
        }
        ReconCommand::Resolve { target, .. } => match target {
            ResolveTarget::Match(id) => {
                need.matches.insert(id.clone());
            }
            ResolveTarget::Line(id) => {
                need.lines.insert(id.clone());
            }
            ResolveTarget::Entry(seq) => {
                need.entries.insert(*seq);
            }
        },
    }
}

/// An entry of a mirror account with what it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct EntryRow {
    seq: i64,
    direction: String,
    amount: i64,
    created_at: i64,
    refs: Vec<String>,
    text: String,
    group: Option<String>,
    matched: bool,
}

/// One mirror account's loaded state.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    config: Option<ReconAccount>,
    statements: Vec<StatementRecord>,
    lines: Vec<LineRecord>,
    entries: Vec<EntryRow>,
    matched_lines: Vec<LineRecord>,
    matches: HashMap<String, MatchRecord>,
    named_lines: HashMap<String, LineRecord>,
    named_entries: HashMap<i64, EntryRow>,
    /// The last statement's closing balance and day, the ledger balance at that day's end
    /// (credits − debits), and adjustments booked after it for lines up to it.
    balance: Option<(i64, Date, i64, i64)>,
}

/// Loads (PostgreSQL: locks) each named mirror account's settings, then what its commands need.
pub(crate) async fn load(
    conn: &mut Conn,
    state: &mut State,
    keys: &Keys,
    locks: &mut rialto_engine::LockOrder,
) -> Result<(), Abort> {
    if keys.is_empty() {
        return Ok(());
    }
    locks.take("recon_accounts");
    let lock = if conn.kind() == DbKind::Postgres { " FOR UPDATE" } else { "" };
    for (account_id, need) in keys {
        let mut l = Loaded::default();
        let sql = format!("SELECT * FROM recon_accounts WHERE account_id = $1{lock}");
        if let Some(row) = conn.fetch_optional(&sql, [Val::T(account_id.clone())]).await? {
            l.config = Some(account_from_row(&row)?);
        }
        if need.import || need.run {
            let sql = "SELECT * FROM recon_statements WHERE account_id = $1 ORDER BY to_date, id";
            for row in conn.fetch_all(sql, [Val::T(account_id.clone())]).await? {
                l.statements.push(statement_from_row(&row)?);
            }
        }
        if need.run {
            load_run(conn, account_id, &mut l).await?;
        }
        load_named(conn, account_id, need, &mut l).await?;
        state.recon.insert(account_id.clone(), l);
    }
    Ok(())
}

const ENTRY_SELECT: &str = "SELECT e.seq, e.direction, e.amount, e.created_at, e.transfer_id, e.journal_entry_id, \
     t.reference, t.description, p.id AS payment_id, p.reference AS payment_reference, p.description AS payment_description, \
     r.id AS refund_id, r.payment_id AS refunded_payment, s.id AS settlement_id, j.description AS journal_description, \
     m.match_id FROM entries e \
     LEFT JOIN transfers t ON t.id = e.transfer_id \
     LEFT JOIN payments p ON p.transfer_id = e.transfer_id \
     LEFT JOIN refunds r ON r.transfer_id = e.transfer_id \
     LEFT JOIN settlements s ON s.journal_entry_id = e.journal_entry_id \
     LEFT JOIN journal_entries j ON j.id = e.journal_entry_id \
     LEFT JOIN recon_matched_entries m ON m.entry_seq = e.seq";

fn entry_from_row(r: &impl Get) -> Result<EntryRow, Abort> {
    let mut refs = Vec::new();
    for c in [
        "payment_id",
        "transfer_id",
        "refund_id",
        "settlement_id",
        "journal_entry_id",
        "reference",
        "payment_reference",
        "refunded_payment",
    ] {
        if let Some(v) = r.col::<Option<String>>(c)? {
            let v = v.trim().to_uppercase();
            if !v.is_empty() && !refs.contains(&v) {
                refs.push(v);
            }
        }
    }
    let texts: Vec<String> = ["description", "payment_description", "journal_description"]
        .iter()
        .filter_map(|c| r.col::<Option<String>>(c).ok().flatten())
        .collect();
    let settlement: Option<String> = r.col("settlement_id")?;
    let journal: Option<String> = r.col("journal_entry_id")?;
    Ok(EntryRow {
        seq: r.col("seq")?,
        direction: r.col("direction")?,
        amount: r.col("amount")?,
        created_at: r.col("created_at")?,
        refs,
        text: texts.join(" "),
        group: settlement.or(journal),
        matched: r.col::<Option<String>>("match_id")?.is_some(),
    })
}

async fn load_run(conn: &mut Conn, account_id: &str, l: &mut Loaded) -> Result<(), Abort> {
    let started = std::time::Instant::now();
    let sql = format!(
        "SELECT {LINE_COLUMNS} FROM recon_lines WHERE account_id = $1 AND match_id IS NULL AND status = 'booked' \
         ORDER BY booking_date, id"
    );
    for row in conn.fetch_all(&sql, [Val::T(account_id.into())]).await? {
        l.lines.push(line_from_row(&row)?);
    }
    let (Some(from), Some(to)) =
        (l.statements.iter().map(|s| s.from_date).min(), l.statements.iter().map(|s| s.to_date).max())
    else {
        return Ok(());
    };
    let lo = Date::from_days(from.days() - WINDOW_DAYS_MAX).start_us();
    let hi = Date::from_days(to.days() + WINDOW_DAYS_MAX + 1).start_us();
    let sql = format!(
        "{ENTRY_SELECT} WHERE e.account_id = $1 AND e.created_at >= $2 AND e.created_at < $3 AND m.match_id IS NULL \
         AND NOT EXISTS (SELECT 1 FROM recon_matches b WHERE b.journal_entry_id = e.journal_entry_id) ORDER BY e.seq"
    );
    for row in conn.fetch_all(&sql, [Val::T(account_id.into()), Val::I(lo), Val::I(hi)]).await? {
        l.entries.push(entry_from_row(&row)?);
    }
    // Lines matched already near the period: a repeat of one is a duplicate.
    let sql = format!(
        "SELECT {LINE_COLUMNS} FROM recon_lines WHERE account_id = $1 AND match_id IS NOT NULL \
         AND booking_date >= $2 AND booking_date <= $3 ORDER BY id"
    );
    let range = [Val::T(account_id.into()), Val::I(i64::from(from.days() - 3)), Val::I(i64::from(to.days() + 3))];
    for row in conn.fetch_all(&sql, range).await? {
        l.matched_lines.push(line_from_row(&row)?);
    }
    let closing = l.statements.iter().filter_map(|s| s.closing).max_by_key(|b| b.date);
    if let Some(c) = closing {
        let end = Date::from_days(c.date.days() + 1).start_us();
        let sql =
            "SELECT balance_after FROM entries WHERE account_id = $1 AND created_at < $2 ORDER BY seq DESC LIMIT 1";
        let ledger = match conn.fetch_optional(sql, [Val::T(account_id.into()), Val::I(end)]).await? {
            Some(r) => r.col::<i64>("balance_after")?,
            None => 0,
        };
        let sql = "SELECT CAST(COALESCE(SUM(adjustment), 0) AS BIGINT) AS a FROM recon_matches WHERE account_id = $1 \
                   AND journal_entry_id IS NOT NULL AND line_date <= $2 AND updated_at >= $3";
        let vals = [Val::T(account_id.into()), Val::I(i64::from(c.date.days())), Val::I(end)];
        let adjusted: i64 = conn.fetch_one(sql, vals).await?.col("a")?;
        l.balance = Some((c.amount, c.date, ledger, adjusted));
    }
    let ms = started.elapsed().as_millis() as u64;
    tracing::info!(account = account_id, lines = l.lines.len(), entries = l.entries.len(), ms, "reconciliation loaded");
    Ok(())
}

async fn load_named(conn: &mut Conn, account_id: &str, need: &Need, l: &mut Loaded) -> Result<(), Abort> {
    let fixed = vec![Val::T(account_id.into())];
    let ids: Vec<&str> = need.matches.iter().map(String::as_str).collect();
    let sql = format!("SELECT {MATCH_COLUMNS} FROM recon_matches WHERE account_id = $1");
    for row in conn.fetch_in_where(&sql, fixed.clone(), "id", &ids, "").await? {
        let m = match_from_row(&row)?;
        l.matches.insert(m.id.clone(), m);
    }
    let mut line_ids: BTreeSet<String> = need.lines.clone();
    let mut seqs: BTreeSet<i64> = need.entries.clone();
    for m in l.matches.values() {
        line_ids.extend(m.line_ids.iter().cloned());
        seqs.extend(&m.entry_seqs);
    }
    let ids: Vec<&str> = line_ids.iter().map(String::as_str).collect();
    let sql = format!("SELECT {LINE_COLUMNS} FROM recon_lines WHERE account_id = $1");
    for row in conn.fetch_in_where(&sql, fixed.clone(), "id", &ids, "").await? {
        let line = line_from_row(&row)?;
        l.named_lines.insert(line.id.clone(), line);
    }
    for seq in seqs {
        let sql = format!("{ENTRY_SELECT} WHERE e.account_id = $1 AND e.seq = $2");
        if let Some(row) = conn.fetch_optional(&sql, [Val::T(account_id.into()), Val::I(seq)]).await? {
            l.named_entries.insert(seq, entry_from_row(&row)?);
        }
    }
    Ok(())
}

/// What the batch writes for reconciliation.
#[derive(Default)]
pub(crate) struct ReconWrites {
    accounts: Vec<ReconAccount>,
    statements: Vec<StatementRecord>,
    lines: Vec<(LineRecord, String)>,
    /// Matches new or changed (whole rows).
    matches: Vec<MatchRecord>,
    /// (line id, match id or none).
    line_matches: Vec<(String, Option<String>)>,
    /// (entry seq, match id, account) to add.
    matched_entries: Vec<(i64, String, String)>,
    /// Entry seqs released.
    released_entries: Vec<i64>,
    runs: Vec<RunRecord>,
}

fn not_found(what: &str, id: &str) -> CommandError {
    CommandError::ReconNotFound(format!("no {what} `{id}`"))
}

fn state_error(m: impl Into<String>) -> CommandError {
    CommandError::ReconState(m.into())
}

/// Applies one reconciliation command.
pub(crate) fn apply(state: &mut State, writes: &mut Writes, c: &ReconCommand) -> Result<Output, CommandError> {
    match c {
        ReconCommand::Configure(a) => configure(state, writes, a),
        ReconCommand::Import { account_id, statements, source, by } => {
            import(state, writes, account_id, statements, (source, by))
        }
        ReconCommand::Run { account_id, fees_account_id, triggered_by, by } => {
            run(state, writes, account_id, fees_account_id.as_deref(), (triggered_by, by))
        }
        ReconCommand::Match { account_id, line_ids, entry_seqs, note, by } => {
            manual_match(state, writes, account_id, (line_ids, entry_seqs), (note, by))
        }
        ReconCommand::Unmatch { account_id, match_id, note, by } => {
            unmatch(state, writes, account_id, match_id, (note, by))
        }
        ReconCommand::Resolve { account_id, target, book, fees_account_id, note, by } => {
            resolve(state, writes, account_id, target, (*book, fees_account_id.as_deref()), (note, by))
        }
    }
}

fn loaded<'a>(state: &'a mut State, account_id: &str) -> Result<&'a mut Loaded, CommandError> {
    state.recon.get_mut(account_id).ok_or_else(|| not_found("reconciled account", account_id))
}

fn config(state: &mut State, account_id: &str) -> Result<ReconAccount, CommandError> {
    loaded(state, account_id)?
        .config
        .clone()
        .ok_or_else(|| not_found("reconciliation settings for account", account_id))
}

fn configure(state: &mut State, writes: &mut Writes, a: &ReconAccount) -> Result<Output, CommandError> {
    let book = &state.ledger.book;
    let mirror = book.accounts.get(&a.account_id).ok_or_else(|| not_found("account", &a.account_id))?;
    if mirror.currency != a.currency {
        return Err(CommandError::ReconInvalid(format!(
            "account {} is in {}, not {}",
            a.account_id, mirror.currency, a.currency
        )));
    }
    if let Some(f) = &a.fees_account_id {
        let fees = book.accounts.get(f).ok_or_else(|| not_found("account", f))?;
        if fees.currency != a.currency || *f == a.account_id {
            return Err(CommandError::ReconInvalid(format!(
                "the fees account {f} must be another account in {}",
                a.currency
            )));
        }
    }
    let now = state.now;
    let l = loaded(state, &a.account_id)?;
    let created = l.config.as_ref().map_or(now, |c| c.created_at_us);
    let record = ReconAccount { created_at_us: created, updated_at_us: now, ..a.clone() };
    l.config = Some(record.clone());
    writes.recon.accounts.push(record.clone());
    Ok(Output::ReconAccount(Box::new(record)))
}

fn normalized(account: &str) -> String {
    account.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase()
}

fn import(
    state: &mut State,
    writes: &mut Writes,
    account_id: &str,
    statements: &[Statement],
    (source, by): (&str, &str),
) -> Result<Output, CommandError> {
    let cfg = config(state, account_id)?;
    let now = state.now;
    let l = loaded(state, account_id)?;
    let mut before: Vec<Imported> = l
        .statements
        .iter()
        .map(|s| Imported {
            sequence: s.sequence.and_then(|x| u64::try_from(x).ok()),
            from: s.from_date,
            to: s.to_date,
        })
        .collect();
    let mut out = Vec::new();
    let mut new = Vec::new();
    for (i, s) in statements.iter().enumerate() {
        let which = format!("statement {} ({})", i + 1, s.statement_id.as_deref().unwrap_or("no id"));
        let (from, to) = fits(s, &cfg, &which)?;
        let identity = s.identity();
        let digest = s.digest();
        if let Some(existing) = l.statements.iter().chain(new.iter()).find(|x| x.identity == identity) {
            if existing.digest != digest {
                return Err(CommandError::ReconConflict(format!(
                    "{which} has the identity of statement {} but different content",
                    existing.id
                )));
            }
            out.push(StatementRecord { already_imported: true, ..existing.clone() });
            continue;
        }
        let seq = statement::sequence(s, &before);
        let record = new_statement(s, (account_id, &cfg), (identity, digest), (from, to), seq, (source, by, now));
        before.push(Imported { sequence: s.sequence, from, to });
        for (idx, line) in s.lines.iter().enumerate() {
            let mut line = line.clone();
            line.booking_date = line.date().or(Some(to));
            let rec = LineRecord {
                id: ids::new_id::<ids::StatementLineId>(),
                statement_id: record.id.clone(),
                idx: idx as i64,
                line,
                match_id: None,
            };
            writes.recon.lines.push((rec, account_id.to_string()));
        }
        new.push(record.clone());
        out.push(record);
    }
    l.statements.extend(new.iter().cloned());
    writes.recon.statements.extend(new);
    Ok(Output::ReconStatements(out))
}

/// A statement of the account's bank account and currency, with dates: its period.
fn fits(s: &Statement, cfg: &ReconAccount, which: &str) -> Result<(Date, Date), CommandError> {
    if normalized(&s.account) != normalized(&cfg.bank_account) {
        return Err(CommandError::ReconInvalid(format!(
            "{which} is for bank account {}, not {} (the account's settings)",
            s.account, cfg.bank_account
        )));
    }
    if let Some(bad) = s.lines.iter().find(|x| x.currency != cfg.currency) {
        return Err(CommandError::ReconInvalid(format!(
            "{which} has a line in {}, not {}",
            bad.currency, cfg.currency
        )));
    }
    s.period().ok_or_else(|| CommandError::ReconInvalid(format!("{which} has no dates")))
}

/// The stored record of a statement imported now.
fn new_statement(
    s: &Statement,
    (account_id, cfg): (&str, &ReconAccount),
    (identity, digest): (String, String),
    (from, to): (Date, Date),
    seq: statement::Sequence,
    (source, by, now): (&str, &str, i64),
) -> StatementRecord {
    let check = s.check();
    StatementRecord {
        id: ids::new_id::<ids::StatementId>(),
        account_id: account_id.to_string(),
        identity,
        digest,
        format: s.format.as_str().into(),
        version: s.version.clone(),
        bank_account: s.account.clone(),
        statement_ref: s.statement_id.clone(),
        sequence: s.sequence.and_then(|x| i64::try_from(x).ok()),
        page: s.page.and_then(|x| i64::try_from(x).ok()),
        from_date: from,
        to_date: to,
        currency: cfg.currency,
        opening: s.opening,
        closing: s.closing,
        line_count: s.lines.len() as i64,
        booked_total: check.booked_total,
        adds_up: check.adds_up,
        problems: check.problems,
        sequence_status: seq.as_str().into(),
        sequence_note: seq.describe(),
        source: statement::clip(source, 200),
        created_by: by.to_string(),
        created_at_us: now,
        already_imported: false,
    }
}

fn external(l: &LineRecord) -> External {
    let x = &l.line;
    let mut refs: Vec<String> = Vec::new();
    for r in [&x.end_to_end_id, &x.customer_ref, &x.servicer_ref].into_iter().flatten() {
        let r = r.trim().to_uppercase();
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
    for t in x.remittance.as_deref().map(matching::reference_tokens).into_iter().flatten() {
        if !refs.contains(&t) {
            refs.push(t);
        }
    }
    let text = [&x.remittance, &x.counterparty].into_iter().flatten().cloned().collect::<Vec<_>>().join(" ");
    External {
        id: l.id.clone(),
        amount: x.amount,
        date: x.date().unwrap_or(Date::from_days(0)),
        refs,
        text,
        bank_code: x.bank_code.clone(),
    }
}

fn internal(e: &EntryRow, normal: NormalBalance) -> Internal {
    Internal {
        seq: e.seq,
        amount: normal.bank_side(&e.direction, e.amount),
        date: Date::from_unix_us(e.created_at),
        refs: e.refs.clone(),
        text: e.text.clone(),
        group: e.group.clone(),
    }
}

/// Books `adjustment` (bank view) between the mirror and the fees account as a journal entry.
fn book(
    state: &mut State,
    writes: &mut Writes,
    cfg: &ReconAccount,
    adjustment: i64,
    description: String,
) -> Result<String, String> {
    let fees = cfg.fees_account_id.clone().ok_or("the account has no fees account")?;
    let amount = Amount::new(adjustment.abs()).map_err(|e| e.to_string())?;
    // Money into the bank (positive) raises the mirror's bank-side balance.
    let mirror_debit = (adjustment > 0) == (cfg.normal_balance == NormalBalance::Debit);
    let (m, f) =
        if mirror_debit { (Direction::Debit, Direction::Credit) } else { (Direction::Credit, Direction::Debit) };
    let lines = [
        JournalLine { account_id: cfg.account_id.clone(), direction: m, amount },
        JournalLine { account_id: fees, direction: f, amount },
    ];
    let effects = state.ledger.book.journal(&lines).map_err(|e| e.to_string())?;
    let id = ids::new_id::<ids::JournalId>();
    let metadata = Metadata::from([("reconciliation".to_string(), cfg.account_id.clone())]);
    writes.ledger.journals.push(JournalRecord {
        id: id.clone(),
        description: Some(description),
        metadata,
        lines: rialto_ledger::journal_lines(&effects),
        created_at_us: state.now,
    });
    state.ledger.record_effects(&mut writes.ledger, state.now, &effects, None, Some(&id));
    Ok(id)
}

fn run(
    state: &mut State,
    writes: &mut Writes,
    account_id: &str,
    fees_account_id: Option<&str>,
    (triggered_by, by): (&str, &str),
) -> Result<Output, CommandError> {
    let cfg = config(state, account_id)?;
    if cfg.fees_account_id.as_deref() != fees_account_id {
        return Err(CommandError::Unavailable("the account's settings changed; retry".into()));
    }
    let now = state.now;
    let run_id = ids::new_id::<ids::ReconRunId>();
    let l = loaded(state, account_id)?;
    let mut lines = std::mem::take(&mut l.lines);
    lines.sort_by(|a, b| (a.line.date(), &a.id).cmp(&(b.line.date(), &b.id)));
    let mut entries: Vec<EntryRow> = std::mem::take(&mut l.entries).into_iter().filter(|e| !e.matched).collect();
    entries.sort_by_key(|e| (Date::from_unix_us(e.created_at), e.seq));
    let ext: Vec<External> = lines.iter().map(external).collect();
    let int: Vec<Internal> = entries.iter().map(|e| internal(e, cfg.normal_balance)).collect();
    let before: Vec<External> = l.matched_lines.iter().map(external).collect();
    let balance = l.balance;
    let period = (l.statements.iter().map(|s| s.from_date).min(), l.statements.iter().map(|s| s.to_date).max());
    let started = std::time::Instant::now();
    let proposals = matching::propose(&ext, &int, &cfg.rules, &before);
    let ms = started.elapsed().as_millis() as u64;
    tracing::info!(account = account_id, proposals = proposals.len(), ms, "reconciliation matched");
    let mut tally = Tally::default();
    let items = Items { lines: &lines, entries: &entries, ext: &ext, int: &int };
    let (line_taken, entry_taken, adjusted_now) =
        take_proposals(state, writes, (&cfg, &run_id, by), &items, proposals, (&mut tally, balance.map(|b| b.1)));
    for (i, _) in lines.iter().enumerate().filter(|(i, _)| !line_taken[*i]) {
        tally.bump("lines_unmatched", ext[i].amount);
    }
    for (i, e) in entries.iter().enumerate().filter(|(i, _)| !entry_taken[*i]) {
        let due = period.1.is_some_and(|to| Date::from_unix_us(e.created_at) <= to);
        tally.bump(if due { "entries_unmatched" } else { "entries_not_yet_due" }, int[i].amount);
    }
    let record = RunRecord {
        id: run_id,
        account_id: account_id.to_string(),
        triggered_by: triggered_by.to_string(),
        from_date: period.0,
        to_date: period.1,
        counts: tally.into_json(),
        statement_balance: balance.map(|b| b.0),
        ledger_balance: balance.map(|b| cfg.normal_balance.bank_balance(b.2)),
        adjustments: balance.map_or(0, |b| b.3) + adjusted_now,
        drift: balance.map(|b| b.0 - cfg.normal_balance.bank_balance(b.2) - b.3 - adjusted_now),
        created_by: by.to_string(),
        created_at_us: now,
    };
    writes.recon.runs.push(record.clone());
    Ok(Output::ReconRun(Box::new(record)))
}

/// A run's items: stored lines and entries with the matcher's view of them.
struct Items<'a> {
    lines: &'a [LineRecord],
    entries: &'a [EntryRow],
    ext: &'a [External],
    int: &'a [Internal],
}

/// Records each proposal as a match (auto-resolving what the settings allow); which lines and
/// entries were taken, and what was booked for lines up to the closing day.
fn take_proposals(
    state: &mut State,
    writes: &mut Writes,
    (cfg, run_id, by): (&ReconAccount, &str, &str),
    items: &Items<'_>,
    proposals: Vec<matching::Proposal>,
    (tally, closing_day): (&mut Tally, Option<Date>),
) -> (Vec<bool>, Vec<bool>, i64) {
    let now = state.now;
    let mut line_taken = vec![false; items.lines.len()];
    let mut entry_taken = vec![false; items.entries.len()];
    let mut adjusted_now = 0i64;
    for p in proposals {
        let mut m = MatchRecord {
            id: ids::new_id::<ids::ReconMatchId>(),
            account_id: cfg.account_id.clone(),
            run_id: Some(run_id.to_string()),
            rule: p.rule.to_string(),
            outcome: p.outcome.as_str().to_string(),
            status: if p.outcome == MatchOutcome::Matched { "matched" } else { "exception" }.to_string(),
            confidence: i64::from(p.confidence),
            difference: p.difference,
            reason: p.reason.clone(),
            line_ids: p.lines.iter().map(|&i| items.lines[i].id.clone()).collect(),
            entry_seqs: p.entries.iter().map(|&i| items.entries[i].seq).collect(),
            line_date: p.lines.first().map_or(Date::from_days(0), |&i| items.ext[i].date),
            resolution: None,
            adjustment: 0,
            journal_entry_id: None,
            note: None,
            created_by: by.to_string(),
            created_at_us: now,
            updated_at_us: now,
        };
        auto_resolve(state, writes, cfg, &mut m, p.outcome);
        if m.journal_entry_id.is_some() && closing_day.is_some_and(|d| m.line_date <= d) {
            adjusted_now += m.adjustment;
        }
        for &i in &p.lines {
            line_taken[i] = true;
        }
        for &i in &p.entries {
            entry_taken[i] = true;
        }
        let lines_amount = p.lines.iter().fold(0i64, |a, &i| a.saturating_add(items.ext[i].amount));
        let entries_amount = p.entries.iter().fold(0i64, |a, &i| a.saturating_add(items.int[i].amount));
        tally.add_match(&m, lines_amount, entries_amount);
        record_match(writes, m);
    }
    (line_taken, entry_taken, adjusted_now)
}

/// A difference under the write-off limit, or a bank fee, booked to the fees account.
fn auto_resolve(
    state: &mut State,
    writes: &mut Writes,
    cfg: &ReconAccount,
    m: &mut MatchRecord,
    outcome: MatchOutcome,
) {
    let (resolution, what) = match outcome {
        MatchOutcome::AmountMismatch if m.difference.abs() <= cfg.write_off_max => ("write_off", "write-off"),
        MatchOutcome::BankFee => ("fee_booked", "bank fee"),
        _ => return,
    };
    if cfg.fees_account_id.is_none() {
        return;
    }
    let description = format!("reconciliation {what} of {} on {}", m.difference, m.line_date);
    match book(state, writes, cfg, m.difference, description) {
        Ok(journal) => {
            m.status = "resolved".into();
            m.resolution = Some(resolution.into());
            m.adjustment = m.difference;
            m.journal_entry_id = Some(journal);
        }
        Err(e) => m.reason = format!("{}; not booked: {e}", m.reason),
    }
}

fn record_match(writes: &mut Writes, m: MatchRecord) {
    let w = &mut writes.recon;
    for l in &m.line_ids {
        w.line_matches.push((l.clone(), Some(m.id.clone())));
    }
    for s in &m.entry_seqs {
        w.matched_entries.push((*s, m.id.clone(), m.account_id.clone()));
    }
    w.matches.push(m);
}

/// Counts and amounts per state.
#[derive(Default)]
struct Tally(BTreeMap<String, (i64, i64)>);

impl Tally {
    fn bump(&mut self, key: &str, amount: i64) {
        let e = self.0.entry(key.to_string()).or_default();
        e.0 += 1;
        e.1 = e.1.saturating_add(amount);
    }

    fn add_match(&mut self, m: &MatchRecord, lines_amount: i64, entries_amount: i64) {
        let key = if m.status == "resolved" { format!("resolved_{}", m.outcome) } else { m.outcome.clone() };
        let e = self.0.entry(format!("lines_{key}")).or_default();
        e.0 += m.line_ids.len() as i64;
        e.1 = e.1.saturating_add(lines_amount);
        if !m.entry_seqs.is_empty() {
            let e = self.0.entry(format!("entries_{key}")).or_default();
            e.0 += m.entry_seqs.len() as i64;
            e.1 = e.1.saturating_add(entries_amount);
        }
    }

    fn into_json(self) -> serde_json::Value {
        let mut o = serde_json::Map::new();
        for (k, (count, amount)) in self.0 {
            o.insert(k, json!({"count": count, "amount": amount}));
        }
        serde_json::Value::Object(o)
    }
}

fn manual_match(
    state: &mut State,
    writes: &mut Writes,
    account_id: &str,
    (line_ids, seqs): (&[String], &[i64]),
    (note, by): (&str, &str),
) -> Result<Output, CommandError> {
    let cfg = config(state, account_id)?;
    let now = state.now;
    let taken: BTreeSet<String> = writes.recon.line_matches.iter().map(|(l, _)| l.clone()).collect();
    let l = loaded(state, account_id)?;
    let mut lines_sum = 0i64;
    let mut date = None;
    for id in line_ids {
        let line = l.named_lines.get(id).ok_or_else(|| not_found("statement line of this account", id))?;
        if line.match_id.is_some() || taken.contains(id) {
            return Err(state_error(format!("line {id} is matched already; unmatch it first")));
        }
        lines_sum += line.line.amount;
        date = date.or(line.line.date());
    }
    let mut entries_sum = 0i64;
    for s in seqs {
        let e = l.named_entries.get(s).ok_or_else(|| not_found("ledger entry of this account", &s.to_string()))?;
        if e.matched {
            return Err(state_error(format!("entry {s} is matched already; unmatch it first")));
        }
        entries_sum += cfg.normal_balance.bank_side(&e.direction, e.amount);
    }
    for s in seqs {
        if let Some(e) = l.named_entries.get_mut(s) {
            e.matched = true;
        }
    }
    for id in line_ids {
        if let Some(x) = l.named_lines.get_mut(id) {
            x.match_id = Some(String::new());
        }
    }
    let difference = lines_sum - entries_sum;
    let m = MatchRecord {
        id: ids::new_id::<ids::ReconMatchId>(),
        account_id: account_id.into(),
        run_id: None,
        rule: "manual".into(),
        outcome: if difference == 0 { "matched" } else { "amount_mismatch" }.into(),
        status: if difference == 0 { "matched" } else { "exception" }.into(),
        confidence: 100,
        difference,
        reason: format!("matched by {by}"),
        line_ids: line_ids.to_vec(),
        entry_seqs: seqs.to_vec(),
        line_date: date.unwrap_or(Date::from_days(0)),
        resolution: None,
        adjustment: 0,
        journal_entry_id: None,
        note: Some(note.into()),
        created_by: by.into(),
        created_at_us: now,
        updated_at_us: now,
    };
    record_match(writes, m.clone());
    Ok(Output::ReconMatch(Box::new(m)))
}

fn unmatch(
    state: &mut State,
    writes: &mut Writes,
    account_id: &str,
    match_id: &str,
    (note, by): (&str, &str),
) -> Result<Output, CommandError> {
    let now = state.now;
    let l = loaded(state, account_id)?;
    let m = l.matches.get_mut(match_id).ok_or_else(|| not_found("reconciliation match of this account", match_id))?;
    if m.status == "undone" {
        return Err(state_error(format!("match {match_id} is undone already")));
    }
    if m.journal_entry_id.is_some() {
        return Err(state_error(format!(
            "match {match_id} booked journal entry {}; reverse it in the ledger before unmatching",
            m.journal_entry_id.as_deref().unwrap_or_default()
        )));
    }
    m.status = "undone".into();
    m.note = Some(format!("{note} (unmatched by {by})"));
    m.updated_at_us = now;
    let m = m.clone();
    for id in &m.line_ids {
        writes.recon.line_matches.push((id.clone(), None));
    }
    writes.recon.released_entries.extend(&m.entry_seqs);
    writes.recon.matches.push(m.clone());
    Ok(Output::ReconMatch(Box::new(m)))
}

fn resolve(
    state: &mut State,
    writes: &mut Writes,
    account_id: &str,
    target: &ResolveTarget,
    (book_it, fees): (bool, Option<&str>),
    (note, by): (&str, &str),
) -> Result<Output, CommandError> {
    let cfg = config(state, account_id)?;
    if book_it && (cfg.fees_account_id.is_none() || cfg.fees_account_id.as_deref() != fees) {
        return Err(CommandError::ReconInvalid("booking needs the account's fees account in its settings".into()));
    }
    let now = state.now;
    let mut m = resolvable(loaded(state, account_id)?, &cfg, target, by, now)?;
    if book_it && m.difference != 0 {
        let description = format!("reconciliation resolution by {by}: {note}");
        let journal = book(state, writes, &cfg, m.difference, description).map_err(CommandError::ReconInvalid)?;
        m.adjustment = m.difference;
        m.journal_entry_id = Some(journal);
    }
    m.status = "resolved".into();
    m.resolution = Some(if m.journal_entry_id.is_some() { "booked" } else { "manual" }.into());
    m.note = Some(note.into());
    m.updated_at_us = now;
    if let ResolveTarget::Match(id) = target {
        if let Some(x) = loaded(state, account_id)?.matches.get_mut(id) {
            *x = m.clone();
        }
        writes.recon.matches.push(m.clone());
    } else {
        record_match(writes, m.clone());
    }
    Ok(Output::ReconMatch(Box::new(m)))
}

/// The match a resolution changes (an exception) or makes (for an unmatched line or entry).
fn resolvable(
    l: &mut Loaded,
    cfg: &ReconAccount,
    target: &ResolveTarget,
    by: &str,
    now: i64,
) -> Result<MatchRecord, CommandError> {
    let fresh = |difference: i64, line_ids: Vec<String>, entry_seqs: Vec<i64>, date: Date, outcome: &str| MatchRecord {
        id: ids::new_id::<ids::ReconMatchId>(),
        account_id: cfg.account_id.clone(),
        run_id: None,
        rule: "manual".into(),
        outcome: outcome.into(),
        status: "exception".into(),
        confidence: 100,
        difference,
        reason: format!("resolved by {by}"),
        line_ids,
        entry_seqs,
        line_date: date,
        resolution: None,
        adjustment: 0,
        journal_entry_id: None,
        note: None,
        created_by: by.into(),
        created_at_us: now,
        updated_at_us: now,
    };
    match target {
        ResolveTarget::Match(id) => {
            let m = l.matches.get(id).ok_or_else(|| not_found("reconciliation match of this account", id))?;
            if m.status != "exception" {
                return Err(state_error(format!("match {id} is {}, not an exception", m.status)));
            }
            Ok(m.clone())
        }
        ResolveTarget::Line(id) => {
            let line = l.named_lines.get_mut(id).ok_or_else(|| not_found("statement line of this account", id))?;
            if line.match_id.is_some() {
                return Err(state_error(format!("line {id} is matched already")));
            }
            line.match_id = Some(String::new());
            let date = line.line.date().unwrap_or(Date::from_days(0));
            Ok(fresh(line.line.amount, vec![id.clone()], Vec::new(), date, "unmatched_external"))
        }
        ResolveTarget::Entry(seq) => {
            let e = l
                .named_entries
                .get_mut(seq)
                .ok_or_else(|| not_found("ledger entry of this account", &seq.to_string()))?;
            if e.matched {
                return Err(state_error(format!("entry {seq} is matched already")));
            }
            e.matched = true;
            let amount = cfg.normal_balance.bank_side(&e.direction, e.amount);
            Ok(fresh(-amount, Vec::new(), vec![*seq], Date::from_unix_us(e.created_at), "unmatched_internal"))
        }
    }
}

/// The audit details of a reconciliation command.
pub(crate) fn details(c: &ReconCommand, o: &Output) -> String {
    let v = match (c, o) {
        (ReconCommand::Import { source, .. }, Output::ReconStatements(s)) => json!({
            "source": source,
            "statements": s.iter().map(|s| json!({"id": s.id, "lines": s.line_count, "already_imported": s.already_imported})).collect::<Vec<_>>(),
        }),
        (ReconCommand::Run { .. }, Output::ReconRun(r)) => json!({"run": r.id, "counts": r.counts, "drift": r.drift}),
        (
            ReconCommand::Match { note, .. } | ReconCommand::Unmatch { note, .. } | ReconCommand::Resolve { note, .. },
            Output::ReconMatch(m),
        ) => {
            json!({"match": m.id, "note": note, "status": m.status, "journal_entry_id": m.journal_entry_id})
        }
        (ReconCommand::Configure(a), _) => {
            json!({"bank_account": a.bank_account, "fees_account_id": a.fees_account_id, "write_off_max": a.write_off_max})
        }
        _ => json!({}),
    };
    v.to_string()
}

/// Writes the batch's reconciliation rows.
pub(crate) async fn write(conn: &mut Conn, w: &mut ReconWrites) -> Result<(), Abort> {
    let started = std::time::Instant::now();
    let rows = w.lines.len() + w.matches.len();
    let accounts = std::mem::take(&mut w.accounts);
    for a in accounts {
        let q = "INSERT INTO recon_accounts (account_id, bank_account, currency, normal_balance, fees_account_id, \
                 write_off_max, rules, csv_mapping, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (account_id) DO UPDATE SET bank_account = excluded.bank_account, currency = excluded.currency, \
                 normal_balance = excluded.normal_balance, fees_account_id = excluded.fees_account_id, \
                 write_off_max = excluded.write_off_max, rules = excluded.rules, csv_mapping = excluded.csv_mapping, \
                 updated_at = excluded.updated_at";
        let vals = [
            Val::T(a.account_id),
            Val::T(a.bank_account),
            Val::T(a.currency.code().into()),
            Val::T(a.normal_balance.as_str().into()),
            Val::OT(a.fees_account_id),
            Val::I(a.write_off_max),
            Val::T(a.rules_json),
            Val::OT(a.csv_mapping),
            Val::I(a.created_at_us),
            Val::I(a.updated_at_us),
        ];
        conn.execute(q, vals).await?;
    }
    let statements: Vec<Vec<Val>> = std::mem::take(&mut w.statements).into_iter().map(statement_values).collect();
    if !statements.is_empty() {
        let head = "INSERT INTO recon_statements (id, account_id, identity, digest, format, version, bank_account, \
                    statement_ref, sequence, page, from_date, to_date, currency, opening_amount, opening_date, \
                    closing_amount, closing_date, line_count, booked_total, adds_up, problems, sequence_status, \
                    sequence_note, source, created_by, created_at)";
        exec_values(conn, head, 26, statements, "").await?;
    }
    let lines: Vec<Vec<Val>> = std::mem::take(&mut w.lines).iter().map(|(l, a)| line_values(l, a)).collect();
    for chunk in chunks(lines) {
        exec_values(conn, &format!("INSERT INTO recon_lines ({LINE_COLUMNS})"), 19, chunk, "").await?;
    }
    let matches: Vec<Vec<Val>> = std::mem::take(&mut w.matches).iter().map(match_values).collect();
    for chunk in chunks(matches) {
        let suffix = "ON CONFLICT (id) DO UPDATE SET status = excluded.status, resolution = excluded.resolution, \
                      adjustment = excluded.adjustment, journal_entry_id = excluded.journal_entry_id, \
                      note = excluded.note, updated_at = excluded.updated_at";
        exec_values(conn, &format!("INSERT INTO recon_matches ({MATCH_COLUMNS})"), 19, chunk, suffix).await?;
    }
    write_links(conn, w).await?;
    write_runs(conn, std::mem::take(&mut w.runs)).await?;
    if rows >= 10_000 {
        tracing::info!(rows, ms = started.elapsed().as_millis() as u64, "reconciliation written");
    }
    Ok(())
}

async fn write_runs(conn: &mut Conn, runs: Vec<RunRecord>) -> Result<(), Abort> {
    for r in runs {
        let q = "INSERT INTO recon_runs (id, account_id, triggered_by, from_date, to_date, counts, statement_balance, \
                 ledger_balance, adjustments, drift, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
        let day = |d: Option<Date>| d.map(|d| i64::from(d.days()));
        let vals = [
            Val::T(r.id),
            Val::T(r.account_id),
            Val::T(r.triggered_by),
            Val::OI(day(r.from_date)),
            Val::OI(day(r.to_date)),
            Val::T(r.counts.to_string()),
            Val::OI(r.statement_balance),
            Val::OI(r.ledger_balance),
            Val::I(r.adjustments),
            Val::OI(r.drift),
            Val::T(r.created_by),
            Val::I(r.created_at_us),
        ];
        conn.execute(q, vals).await?;
    }
    Ok(())
}

/// Lines' match ids and the matched-entries rows.
async fn write_links(conn: &mut Conn, w: &mut ReconWrites) -> Result<(), Abort> {
    let released = std::mem::take(&mut w.released_entries);
    for s in released {
        conn.execute("DELETE FROM recon_matched_entries WHERE entry_seq = $1", [Val::I(s)]).await?;
    }
    let entries: Vec<Vec<Val>> = std::mem::take(&mut w.matched_entries)
        .into_iter()
        .map(|(s, m, a)| vec![Val::I(s), Val::T(m), Val::T(a)])
        .collect();
    for chunk in chunks(entries) {
        exec_values(conn, "INSERT INTO recon_matched_entries (entry_seq, match_id, account_id)", 3, chunk, "").await?;
    }
    let links = std::mem::take(&mut w.line_matches);
    if conn.kind() == DbKind::Sqlite {
        // One cached single-row UPDATE per line: cheaper in process than a join per row.
        for (l, m) in links {
            conn.execute("UPDATE recon_lines SET match_id = $2 WHERE id = $1", [Val::T(l), Val::OT(m)]).await?;
        }
        return Ok(());
    }
    let links: Vec<Vec<Val>> = links.into_iter().map(|(l, m)| vec![Val::T(l), Val::OT(m)]).collect();
    for chunk in chunks(links) {
        exec_values(
            conn,
            "WITH v (id, match_id) AS (",
            2,
            chunk,
            ") UPDATE recon_lines SET match_id = v.match_id FROM v WHERE recon_lines.id = v.id",
        )
        .await?;
    }
    Ok(())
}

/// Rows in statements of at most 50,000 (PostgreSQL arrays stay moderate).
fn chunks(mut rows: Vec<Vec<Val>>) -> Vec<Vec<Vec<Val>>> {
    let mut out = Vec::new();
    while rows.len() > 50_000 {
        let rest = rows.split_off(50_000);
        out.push(rows);
        rows = rest;
    }
    if !rows.is_empty() {
        out.push(rows);
    }
    out
}

fn statement_values(s: StatementRecord) -> Vec<Val> {
    let day = |d: Date| i64::from(d.days());
    vec![
        Val::T(s.id),
        Val::T(s.account_id),
        Val::T(s.identity),
        Val::T(s.digest),
        Val::T(s.format),
        Val::OT(s.version),
        Val::T(s.bank_account),
        Val::OT(s.statement_ref),
        Val::OI(s.sequence),
        Val::OI(s.page),
        Val::I(day(s.from_date)),
        Val::I(day(s.to_date)),
        Val::T(s.currency.code().into()),
        Val::OI(s.opening.map(|b| b.amount)),
        Val::OI(s.opening.map(|b| day(b.date))),
        Val::OI(s.closing.map(|b| b.amount)),
        Val::OI(s.closing.map(|b| day(b.date))),
        Val::I(s.line_count),
        Val::I(s.booked_total),
        Val::OI(s.adds_up.map(i64::from)),
        Val::T(serde_json::to_string(&s.problems).unwrap_or_else(|_| "[]".into())),
        Val::T(s.sequence_status),
        Val::OT(s.sequence_note),
        Val::T(s.source),
        Val::T(s.created_by),
        Val::I(s.created_at_us),
    ]
}
