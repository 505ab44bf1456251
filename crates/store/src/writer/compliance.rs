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
    /// Clear a (user, entry) pair as a false positive, and record the screening after it.
    Clear {
        /// The clearance.
        clearance: Box<ClearanceRecord>,
        /// The user's screening with the clearance applied.
        screening: Box<ScreeningRecord>,
    },
}

impl Command {
    /// The audit action and the resource it names.
    pub(crate) fn action(&self) -> (&'static str, Option<(&'static str, String)>) {
        match self {
            Command::Import(i) => ("sanctions_list.import", Some(("sanctions_list", i.id.clone()))),
            Command::Screen(s) => ("sanctions.screen", Some(("user", s.user_id.clone()))),
            Command::Clear { clearance, .. } => ("sanctions.clear", Some(("user", clearance.user_id.clone()))),
        }
    }

    /// Users the command needs to exist.
    pub(crate) fn users(&self, into: &mut BTreeSet<String>) {
        match self {
            Command::Import(_) => {}
            Command::Screen(s) => {
                into.insert(s.user_id.clone());
            }
            Command::Clear { clearance, .. } => {
                into.insert(clearance.user_id.clone());
            }
        }
    }
}

/// The payers' screenings, and the lists being imported (locked, after the webhook
/// endpoints).
pub(crate) async fn load(
    conn: &mut Conn,
    state: &mut State,
    (payers, sources): (&BTreeSet<String>, &BTreeSet<&'static str>),
    locks: &mut rialto_engine::LockOrder,
) -> Result<(), Abort> {
    state.screenings = load_screenings(conn, payers).await?;
    locks.take("sanctions_lists");
    state.lists = load_lists(conn, sources).await?;
    Ok(())
}

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
    }
}

/// Records a screening (also for a user the batch creates or changes) and lets the batch's
/// later payments see it.
pub(crate) fn screened(state: &mut State, writes: &mut Writes, s: &ScreeningRecord, now: i64) -> ScreeningRecord {
    let mut s = s.clone();
    s.screened_at_us = now;
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
    let keep: BTreeSet<&str> = i.entries.iter().map(|e| e.id.as_str()).collect();
    let removed: Vec<String> = loaded.digests.keys().filter(|k| !keep.contains(k.as_str())).cloned().collect();
    let upserts: Vec<Entry> =
        i.entries.iter().filter(|e| loaded.digests.get(&e.id) != Some(&e.digest())).cloned().collect();
    loaded.version = version.version;
    loaded.digests = i.entries.iter().map(|e| (e.id.clone(), e.digest())).collect();
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
    write_screenings(conn, w).await
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
