//! The compliance commands in the batch: a list import (a new version, entries upserted and
//! removed, in one transaction with its audit record, or refused with the version in force
//! untouched), a user's screening, and a reviewer's clearance with the re-screening it causes.

use std::collections::{BTreeSet, HashMap};

use rialto_compliance::{list, Entry, ScreeningStatus, Source};

use super::{Abort, CommandError, Output, State, Writes};
use crate::sanctions::{ClearanceRecord, ImportOutcome, ListImport, ListVersion, ScreeningRecord};
use crate::sql::{exec_values, placeholders, Conn, Get, Val};
use crate::DbKind;

/// A compliance command.
#[derive(Debug, Clone)]
pub enum Command {
    /// Import a list: a new version when anything changed.
    Import(Box<ListImport>),
    /// Record a user's screening.
    Screen(Box<ScreeningRecord>),
    /// Take a KYC document (its provider may have decided already).
    SubmitDocument(Box<crate::kyc::KycDocument>),
    /// A reviewer's decision on a submitted document.
    ReviewDocument {
        /// The document.
        id: String,
        /// Verified, or rejected.
        verify: bool,
        /// Why (required to reject).
        reason: Option<String>,
        /// The key that decided.
        by: String,
    },
    /// A verified document past its expiry becomes `expired` (the expiry task).
    ExpireDocument {
        /// The document.
        id: String,
    },
    /// Clear a (user, entry) pair as a false positive, and record the screening after it.
    Clear {
        /// The clearance.
        clearance: Box<ClearanceRecord>,
        /// The user's screening with the clearance applied.
        screening: Box<ScreeningRecord>,
    },
    /// A compliance case command (`cases::CaseCommand`: monitor runs, reviewers' changes,
    /// reports).
    Case(super::cases::CaseCommand),
}

/// What a batch's compliance commands need loaded (and locked).
#[derive(Debug, Default)]
pub(crate) struct Keys {
    /// Lists being imported.
    pub lists: BTreeSet<&'static str>,
    /// KYC documents being decided.
    pub documents: BTreeSet<String>,
    /// Cases named, and users that may get an alert.
    pub cases: super::cases::Keys,
}

/// Gathers what the batch's compliance commands need.
pub(crate) fn keys<'a>(commands: impl Iterator<Item = &'a Command> + Clone, k: &mut Keys) {
    k.lists = sources(commands.clone());
    k.documents = documents(commands.clone());
    for c in commands {
        match c {
            Command::Case(c) => c.keys(&mut k.cases),
            // Only a screening that matched can raise an alert (a re-screening run is mostly
            // clear users: they need no case loaded or locked).
            Command::Screen(s) if s.status != ScreeningStatus::Clear => {
                k.cases.users.insert(s.user_id.clone());
            }
            Command::Clear { clearance, screening } if screening.status != ScreeningStatus::Clear => {
                k.cases.users.insert(clearance.user_id.clone());
            }
            _ => {}
        }
    }
}

impl Command {
    /// The audit action and the resource it names.
    pub(crate) fn action(&self) -> (&'static str, Option<(&'static str, String)>) {
        match self {
            Command::Import(i) => ("sanctions_list.import", Some(("sanctions_list", i.id.clone()))),
            Command::Screen(s) => ("sanctions.screen", Some(("user", s.user_id.clone()))),
            Command::Clear { clearance, .. } => ("sanctions.clear", Some(("user", clearance.user_id.clone()))),
            Command::SubmitDocument(d) => ("kyc_document.submit", Some(("kyc_document", d.id.clone()))),
            Command::ReviewDocument { id, verify: true, .. } => {
                ("kyc_document.verify", Some(("kyc_document", id.clone())))
            }
            Command::ReviewDocument { id, .. } => ("kyc_document.reject", Some(("kyc_document", id.clone()))),
            Command::ExpireDocument { id } => ("kyc_document.expire", Some(("kyc_document", id.clone()))),
            Command::Case(c) => c.action(),
        }
    }

    /// Users the command needs to exist.
    pub(crate) fn users(&self, into: &mut BTreeSet<String>) {
        match self {
            Command::Import(_) | Command::ReviewDocument { .. } | Command::ExpireDocument { .. } | Command::Case(_) => {
            }
            Command::SubmitDocument(d) => {
                into.insert(d.user_id.clone());
            }
            Command::Screen(s) => {
                into.insert(s.user_id.clone());
            }
            Command::Clear { clearance, .. } => {
                into.insert(clearance.user_id.clone());
            }
        }
    }
}

/// The documents a batch decides on (locked on PostgreSQL).
pub(crate) fn documents<'a>(commands: impl Iterator<Item = &'a Command>) -> BTreeSet<String> {
    commands
        .filter_map(|c| match c {
            Command::ReviewDocument { id, .. } | Command::ExpireDocument { id } => Some(id.clone()),
            _ => None,
        })
        .collect()
}

/// The payers' screenings (and, when the gate has KYC limits, their levels and what they paid
/// lately), the KYC documents being decided (locked), and the lists being imported (locked).
pub(crate) async fn load(
    conn: &mut Conn,
    state: &mut State,
    (payers, keys): (&BTreeSet<String>, &Keys),
    locks: &mut rialto_engine::LockOrder,
) -> Result<(), Abort> {
    let (sources, documents) = (&keys.lists, &keys.documents);
    // The screened users' last screenings too: a new match raises an alert only when it changed.
    let screened: BTreeSet<String> = payers.union(&keys.cases.users).cloned().collect();
    state.screenings = load_screenings(conn, &screened).await?;
    if state.policies.kyc_limits.any() {
        (state.kyc_levels, state.paid) = load_kyc(conn, payers, state.now).await?;
    }
    locks.take("kyc_documents");
    let lock = if conn.kind() == DbKind::Postgres { " ORDER BY id FOR UPDATE" } else { "" };
    let ids: Vec<&str> = documents.iter().map(String::as_str).collect();
    let select = format!("SELECT {} FROM kyc_documents", crate::kyc::DOCUMENT_COLUMNS);
    for r in conn.fetch_in(&select, "id", &ids, lock).await? {
        let d = crate::kyc::document_from_row(&r)?;
        state.kyc_documents.insert(d.id.clone(), d);
    }
    locks.take("sanctions_lists");
    state.lists = load_lists(conn, sources).await?;
    locks.take("compliance_cases");
    super::cases::load(conn, state, payers, &keys.cases).await
}

/// The day (since 1970-01-01) of a time in µs.
pub(crate) fn day_of(us: i64) -> i64 {
    us.div_euclid(86_400_000_000)
}

/// Payers' KYC levels, from their documents, and their sums paid per currency over the last
/// day and 30 days (payments not failed or cancelled).
async fn load_kyc(conn: &mut Conn, payers: &BTreeSet<String>, now: i64) -> Result<KycLoaded, Abort> {
    let ids: Vec<&str> = payers.iter().map(String::as_str).collect();
    let mut docs: HashMap<String, Vec<rialto_compliance::kyc::DocumentFacts>> = HashMap::new();
    let select = format!(
        "SELECT {} FROM kyc_documents WHERE status = {}",
        crate::kyc::DOCUMENT_COLUMNS,
        placeholders(conn.kind(), 1, 1)
    );
    for r in conn.fetch_in_where(&select, vec![Val::T("verified".into())], "user_id", &ids, "").await? {
        let d = crate::kyc::document_from_row(&r)?;
        let facts =
            rialto_compliance::kyc::DocumentFacts { kind: d.kind, status: d.status, expires_on_day: d.expires_on_day };
        docs.entry(d.user_id).or_default().push(facts);
    }
    let today = day_of(now);
    let levels = payers
        .iter()
        .map(|u| (u.clone(), rialto_compliance::kyc::level(docs.get(u).map_or(&[][..], Vec::as_slice), today)))
        .collect();
    let mut paid = HashMap::new();
    let kind = conn.kind();
    for chunk in ids.chunks(1000) {
        let sql = format!(
            "SELECT user_id, currency, CAST(COALESCE(SUM(CASE WHEN created_at > {day} THEN amount ELSE 0 END), 0) AS BIGINT) AS day_sum, \
             CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS month_sum FROM payments \
             WHERE user_id IN ({users}) AND created_at > {month} AND status NOT IN ('failed', 'cancelled') GROUP BY user_id, currency",
            // In the order they appear: SQLite's placeholders are positional.
            day = placeholders(kind, 1, 1),
            users = placeholders(kind, 2, chunk.len()),
            month = placeholders(kind, chunk.len() + 2, 1),
        );
        let mut vals = vec![Val::I(now - 86_400_000_000)];
        vals.extend(chunk.iter().map(|u| Val::T((*u).to_string())));
        vals.push(Val::I(now - 30 * 86_400_000_000));
        for r in conn.fetch_all(&sql, vals).await? {
            let currency: String = r.col("currency")?;
            let Ok(currency) = rialto_core::Currency::parse(&currency) else { continue };
            paid.insert(
                (r.col::<String>("user_id")?, currency),
                (r.col::<i64>("day_sum")?, r.col::<i64>("month_sum")?),
            );
        }
    }
    Ok((levels, paid))
}

/// Levels by payer, and (payer, currency) → (day, month) sums.
type KycLoaded = (HashMap<String, rialto_payments::KycLevel>, HashMap<(String, rialto_core::Currency), (i64, i64)>);

/// A list in force as the batch sees it.
pub(crate) struct LoadedList {
    version: i64,
    digests: HashMap<String, String>,
    current: Option<ListVersion>,
}

/// Per source being imported: the version in force and its entries' digests, under a
/// transaction-level advisory lock on PostgreSQL so two processes cannot import at once.
async fn load_lists(conn: &mut Conn, sources: &BTreeSet<&'static str>) -> Result<HashMap<String, LoadedList>, Abort> {
    let mut out = HashMap::new();
    if sources.is_empty() {
        return Ok(out);
    }
    if conn.kind() == DbKind::Postgres {
        let keys = sources.iter().map(|s| crate::sql::lock_key(&["sanctions", s])).collect();
        crate::sql::advisory_locks(conn, "pg_advisory_xact_lock", keys).await?;
    }
    for source in sources {
        let q = "SELECT * FROM sanctions_versions WHERE source = $1 ORDER BY version DESC LIMIT 1";
        let current = match conn.fetch_optional(q, [Val::T((*source).to_string())]).await? {
            Some(r) => Some(crate::sanctions::version_from_row(&r)?),
            None => None,
        };
        let mut digests = HashMap::new();
        let q = "SELECT entry_id, digest FROM sanctions_entries WHERE source = $1";
        for r in conn.fetch_all(q, [Val::T((*source).to_string())]).await? {
            digests.insert(r.col::<String>("entry_id")?, r.col::<String>("digest")?);
        }
        out.insert(
            (*source).to_string(),
            LoadedList { version: current.as_ref().map_or(0, |v| v.version), digests, current },
        );
    }
    Ok(out)
}

/// The payers' last screenings, for the gate.
async fn load_screenings(
    conn: &mut Conn,
    users: &BTreeSet<String>,
) -> Result<HashMap<String, (ScreeningStatus, String)>, Abort> {
    let ids: Vec<&str> = users.iter().map(String::as_str).collect();
    let mut out = HashMap::new();
    for r in conn.fetch_in("SELECT id, status, reason FROM sanctions_screenings", "id", &ids, "").await? {
        let status: String = r.col("status")?;
        let status = ScreeningStatus::parse(&status).unwrap_or(ScreeningStatus::Review);
        out.insert(r.col::<String>("id")?, (status, r.col::<String>("reason")?));
    }
    Ok(out)
}

/// Applies one compliance command.
pub(crate) fn apply(state: &mut State, writes: &mut Writes, c: &Command) -> Result<Output, CommandError> {
    let now = state.now;
    match c {
        Command::Import(i) => import(state, writes, i),
        Command::Screen(s) => {
            if !state.ledger.users.contains_key(&s.user_id) {
                return Err(CommandError::UserNotFound(s.user_id.clone()));
            }
            Ok(Output::Screening(Box::new(screened(state, writes, s, now))))
        }
        Command::SubmitDocument(d) => {
            if !state.ledger.users.contains_key(&d.user_id) {
                return Err(CommandError::UserNotFound(d.user_id.clone()));
            }
            let d = crate::kyc::KycDocument { created_at_us: now, updated_at_us: now, ..(**d).clone() };
            writes.kyc_documents.push(d.clone());
            Ok(Output::KycDocument(Box::new(d)))
        }
        Command::ReviewDocument { id, verify, reason, by } => {
            use rialto_compliance::kyc::DocumentStatus;
            let to = if *verify { DocumentStatus::Verified } else { DocumentStatus::Rejected };
            decide(state, writes, id, to, reason.clone(), Some(by.clone()))
        }
        Command::ExpireDocument { id } => {
            let today = day_of(now);
            if state.kyc_documents.get(id).is_some_and(|d| d.expires_on_day.is_none_or(|e| e >= today)) {
                return Err(CommandError::InvalidStateTransition { from: "unexpired", to: "expired" });
            }
            let reason = Some("past its expiry date".to_string());
            decide(state, writes, id, rialto_compliance::kyc::DocumentStatus::Expired, reason, None)
        }
        Command::Clear { clearance, screening } => {
            if !state.ledger.users.contains_key(&clearance.user_id) {
                return Err(CommandError::UserNotFound(clearance.user_id.clone()));
            }
            let mut c = (**clearance).clone();
            c.created_at_us = now;
            writes.clearances.push(c.clone());
            let s = screened(state, writes, screening, now);
            Ok(Output::Clearance(Box::new((c, s))))
        }
        Command::Case(c) => super::cases::apply(state, writes, c),
    }
}

/// Moves a document along its workflow.
fn decide(
    state: &mut State,
    writes: &mut Writes,
    id: &str,
    to: rialto_compliance::kyc::DocumentStatus,
    reason: Option<String>,
    by: Option<String>,
) -> Result<Output, CommandError> {
    let current = writes.kyc_documents.iter().rev().find(|d| d.id == id).or(state.kyc_documents.get(id));
    let Some(mut d) = current.cloned() else { return Err(CommandError::KycDocumentNotFound(id.to_string())) };
    if !d.status.can_become(to) {
        return Err(CommandError::InvalidStateTransition { from: d.status.as_str(), to: to.as_str() });
    }
    d.status = to;
    d.reason = reason;
    if by.is_some() {
        d.reviewed_by = by;
    }
    d.updated_at_us = state.now;
    writes.kyc_documents.push(d.clone());
    Ok(Output::KycDocument(Box::new(d)))
}

/// Records a screening (also for a user the batch creates or changes) and lets the batch's
/// later payments see it.
pub(crate) fn screened(state: &mut State, writes: &mut Writes, s: &ScreeningRecord, now: i64) -> ScreeningRecord {
    let mut s = s.clone();
    s.screened_at_us = now;
    super::cases::screened(state, writes, &s);
    state.screenings.insert(s.user_id.clone(), (s.status, s.reason.clone()));
    writes.screenings.retain(|x| x.user_id != s.user_id);
    writes.screenings.push(s.clone());
    s
}

fn import(state: &mut State, writes: &mut Writes, i: &ListImport) -> Result<Output, CommandError> {
    let Some(loaded) = state.lists.get_mut(i.source.as_str()) else {
        return Err(CommandError::Unavailable("the list was not loaded".into()));
    };
    let changes = list::diff(&loaded.digests, &i.entries);
    let before = loaded.digests.len();
    if !i.allow_shrink && before > 0 && i.entries.len() * 2 < before {
        return Err(CommandError::ListShrank { before, after: i.entries.len() });
    }
    if changes == list::Changes::default() {
        if let Some(current) = &loaded.current {
            return Ok(Output::ListImport(Box::new(ImportOutcome { version: current.clone(), created: false })));
        }
    }
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let version = ListVersion {
        id: i.id.clone(),
        source: i.source,
        version: loaded.version + 1,
        entries: count(i.entries.len()),
        added: count(changes.added),
        changed: count(changes.changed),
        removed: count(changes.removed),
        digest: i.digest.clone(),
        origin: i.origin.clone(),
        imported_at_us: state.now,
    };
    // Each entry's digest once: what changed is upserted, and the batch's view is the new list.
    let digests: HashMap<String, String> = i.entries.iter().map(|e| (e.id.clone(), e.digest())).collect();
    let removed: Vec<String> = loaded.digests.keys().filter(|k| !digests.contains_key(*k)).cloned().collect();
    let upserts: Vec<Entry> =
        i.entries.iter().filter(|e| loaded.digests.get(&e.id) != digests.get(&e.id)).cloned().collect();
    loaded.version = version.version;
    loaded.digests = digests;
    loaded.current = Some(version.clone());
    writes.list_versions.push((version.clone(), upserts, removed));
    Ok(Output::ListImport(Box::new(ImportOutcome { version, created: true })))
}

/// Writes list versions, entries, screenings and clearances.
pub(crate) async fn write(conn: &mut Conn, w: &mut Writes) -> Result<(), Abort> {
    for (v, upserts, removed) in std::mem::take(&mut w.list_versions) {
        write_version(conn, &v, upserts, &removed).await?;
    }
    write_clearances(conn, w).await?;
    write_documents(conn, w).await?;
    write_screenings(conn, w).await?;
    super::cases::write(conn, w).await
}

/// New and changed KYC documents (whole rows).
async fn write_documents(conn: &mut Conn, w: &mut Writes) -> Result<(), Abort> {
    let rows: Vec<Vec<Val>> = std::mem::take(&mut w.kyc_documents)
        .into_iter()
        .map(|d| {
            vec![
                Val::T(d.id),
                Val::T(d.user_id),
                Val::T(d.kind.as_str().into()),
                Val::T(d.issuing_country),
                Val::T(d.number_last4),
                Val::T(d.number_hash),
                Val::OT(d.expires_on),
                Val::OI(d.expires_on_day),
                Val::T(d.status.as_str().into()),
                Val::OT(d.reason),
                Val::T(d.provider),
                Val::OT(d.reviewed_by),
                Val::I(d.created_at_us),
                Val::I(d.updated_at_us),
            ]
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let prefix = format!("INSERT INTO kyc_documents ({})", crate::kyc::DOCUMENT_COLUMNS);
    exec_values(
        conn,
        &prefix,
        14,
        rows,
        "ON CONFLICT (id) DO UPDATE SET status = excluded.status, reason = excluded.reason, \
         reviewed_by = excluded.reviewed_by, updated_at = excluded.updated_at",
    )
    .await?;
    Ok(())
}

/// A new list version: its row, the entries gone, the entries new or changed.
async fn write_version(conn: &mut Conn, v: &ListVersion, upserts: Vec<Entry>, removed: &[String]) -> Result<(), Abort> {
    let kind = conn.kind();
    {
        let q =
            "INSERT INTO sanctions_versions (id, source, version, entries, added, changed, removed, digest, origin, \
                 imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let source = v.source.as_str().to_string();
        conn.execute(
            q,
            [
                Val::T(v.id.clone()),
                Val::T(source.clone()),
                Val::I(v.version),
                Val::I(v.entries),
                Val::I(v.added),
                Val::I(v.changed),
                Val::I(v.removed),
                Val::T(v.digest.clone()),
                Val::T(v.origin.clone()),
                Val::I(v.imported_at_us),
            ],
        )
        .await?;
        for chunk in removed.chunks(500) {
            let sql = format!(
                "DELETE FROM sanctions_entries WHERE source = {} AND entry_id IN ({})",
                placeholders(kind, 1, 1),
                placeholders(kind, 2, chunk.len())
            );
            let vals = std::iter::once(Val::T(source.clone())).chain(chunk.iter().map(|id| Val::T(id.clone())));
            conn.execute(&sql, vals.collect::<Vec<_>>()).await?;
        }
        let rows: Vec<Vec<Val>> = upserts
            .into_iter()
            .map(|e| {
                let data = serde_json::to_string(&e).unwrap_or_default();
                vec![Val::T(source.clone()), Val::T(e.id.clone()), Val::T(e.digest()), Val::T(data), Val::I(v.version)]
            })
            .collect();
        for chunk in rows.chunks(1000) {
            exec_values(
                conn,
                "INSERT INTO sanctions_entries (source, entry_id, digest, data, version)",
                5,
                chunk.to_vec(),
                "ON CONFLICT (source, entry_id) DO UPDATE SET digest = excluded.digest, data = excluded.data, \
                 version = excluded.version",
            )
            .await?;
        }
    }
    Ok(())
}

async fn write_clearances(conn: &mut Conn, w: &mut Writes) -> Result<(), Abort> {
    for c in std::mem::take(&mut w.clearances) {
        let q = "INSERT INTO sanctions_clearances (id, user_id, source, entry_id, entry_digest, score, reason, created_by, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        conn.execute(
            q,
            [
                Val::T(c.id),
                Val::T(c.user_id),
                Val::T(c.source),
                Val::T(c.entry_id),
                Val::T(c.entry_digest),
                Val::I(c.score_bp),
                Val::T(c.reason),
                Val::T(c.created_by),
                Val::I(c.created_at_us),
            ],
        )
        .await?;
    }
    Ok(())
}

async fn write_screenings(conn: &mut Conn, w: &mut Writes) -> Result<(), Abort> {
    let rows: Vec<Vec<Val>> = std::mem::take(&mut w.screenings)
        .into_iter()
        .map(|s| {
            vec![
                Val::T(s.user_id),
                Val::T(s.status.as_str().into()),
                Val::I(s.score_bp),
                Val::T(s.reason),
                Val::T(s.matches),
                Val::T(s.cleared),
                Val::T(s.versions),
                Val::I(s.screened_at_us),
            ]
        })
        .collect();
    if !rows.is_empty() {
        exec_values(
            conn,
            "INSERT INTO sanctions_screenings (id, status, score, reason, matches, cleared, versions, screened_at)",
            8,
            rows,
            "ON CONFLICT (id) DO UPDATE SET status = excluded.status, score = excluded.score, reason = excluded.reason, \
             matches = excluded.matches, cleared = excluded.cleared, versions = excluded.versions, \
             screened_at = excluded.screened_at",
        )
        .await?;
    }
    Ok(())
}

/// Audit details of a screening: the decision, its score, the matches (list, entry, score)
/// and the list versions it was based on.
pub(crate) fn screening_details(s: &ScreeningRecord) -> serde_json::Value {
    let matches: serde_json::Value = serde_json::from_str(&s.matches).unwrap_or_default();
    let brief: Vec<serde_json::Value> = matches
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| serde_json::json!({"source": m["source"], "entry_id": m["entry_id"], "score": m["score"]}))
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({
        "status": s.status.as_str(),
        "score": s.score_bp as f64 / 10_000.0,
        "reason": s.reason,
        "matches": brief,
        "versions": serde_json::from_str::<serde_json::Value>(&s.versions).unwrap_or_default(),
    })
}

/// Audit details of a compliance command.
pub(crate) fn details(c: &Command, output: &Output) -> String {
    match (c, output) {
        (Command::Import(_), Output::ListImport(o)) => serde_json::json!({
            "source": o.version.source.as_str(), "version": o.version.version, "entries": o.version.entries,
            "added": o.version.added, "changed": o.version.changed, "removed": o.version.removed,
            "digest": o.version.digest, "origin": o.version.origin, "created": o.created,
        })
        .to_string(),
        (Command::Screen(_), Output::Screening(s)) => screening_details(s).to_string(),
        (_, Output::KycDocument(d)) => serde_json::json!({
            "user_id": d.user_id, "kind": d.kind.as_str(), "status": d.status.as_str(), "reason": d.reason,
            "provider": d.provider, "expires_on": d.expires_on,
        })
        .to_string(),
        (Command::Clear { .. }, Output::Clearance(cs)) => {
            let (clearance, s) = &**cs;
            serde_json::json!({
                "clearance": {"id": clearance.id, "source": clearance.source, "entry_id": clearance.entry_id,
                    "entry_digest": clearance.entry_digest, "score": clearance.score_bp as f64 / 10_000.0,
                    "reason": clearance.reason},
                "screening": screening_details(s),
            })
            .to_string()
        }
        (Command::Case(c), o) => super::cases::details(c, o),
        _ => "{}".into(),
    }
}

/// The sources a batch imports.
pub(crate) fn sources<'a>(commands: impl Iterator<Item = &'a Command>) -> BTreeSet<&'static str> {
    commands
        .filter_map(|c| if let Command::Import(i) = c { Some(i.source) } else { None })
        .map(Source::as_str)
        .collect()
}
