//! The event outbox and the hash-chained audit log, both appended by the writer inside the
//! batch's transaction.
//!
//! Sequence numbers come from the single `ledger_heads` row, locked by each batch just before
//! it appends (after its account locks, keeping one global lock order). So `seq` order is commit
//! order even with several processes: a consumer reading `seq > cursor` never misses an event
//! that committed late, and the audit chain is one line.
//!
//! Each audit record stores `hash = SHA-256(prev_hash, its own fields)`; editing or deleting any
//! record breaks the chain at that point, and the head row holds the last hash so that removing
//! the newest records shows too.

use rialto_core::ids;
use sha2::{Digest, Sha256};

use crate::db::{Db, StoreError};
use crate::read::{Cursor, Page};
use crate::sql::{args, exec_values, Conn, Get, Val};
use crate::DbKind;

pub(crate) use rialto_engine::{NewAudit, NewEvent};

/// A stored domain event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// Position in the stream (gap-free, commit order).
    pub seq: i64,
    /// `evt_…`
    pub id: String,
    /// e.g. `transfer.posted`.
    pub kind: String,
    /// e.g. `transfer`.
    pub resource_type: String,
    /// The resource's id.
    pub resource_id: String,
    /// The resource as the API shows it, JSON.
    pub data: String,
    /// The request that caused it.
    pub request_id: Option<String>,
    /// Time, µs.
    pub created_at_us: i64,
}

/// A stored audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the chain.
    pub seq: i64,
    /// `aud_…`
    pub id: String,
    /// Who: an API key id, `cli`, or `system:…`.
    pub actor: String,
    /// What, e.g. `transfer.create`, `auth.failure`.
    pub action: String,
    /// Resource type, if any.
    pub resource_type: Option<String>,
    /// Resource id, if any.
    pub resource_id: Option<String>,
    /// `success` or `failure`.
    pub result: String,
    /// The request id.
    pub request_id: Option<String>,
    /// Client address.
    pub ip: Option<String>,
    /// JSON details.
    pub details: String,
    /// Time, µs.
    pub created_at_us: i64,
    /// Hash of the previous record.
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
}

/// Filters of the audit list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Actor.
    pub actor: Option<String>,
    /// Action.
    pub action: Option<String>,
    /// Resource id.
    pub resource_id: Option<String>,
    /// `success` / `failure`.
    pub result: Option<String>,
    /// Created at or after, µs.
    pub from_us: Option<i64>,
    /// Created before, µs.
    pub to_us: Option<i64>,
}

/// The result of checking the audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Records checked.
    pub records: i64,
    /// The first record that does not fit the chain: (seq, id, reason).
    pub first_broken: Option<(i64, String, String)>,
}

const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn field(h: &mut Sha256, v: Option<&str>) {
    match v {
        Some(s) => {
            h.update([1]);
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
        None => h.update([0]),
    }
}

/// The chain hash of a record.
#[allow(clippy::too_many_arguments)]
fn chain_hash(prev: &str, seq: i64, id: &str, a: &NewAudit, created_at_us: i64) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(seq.to_be_bytes());
    field(&mut h, Some(id));
    field(&mut h, Some(&a.actor));
    field(&mut h, Some(&a.action));
    field(&mut h, a.resource_type.as_deref());
    field(&mut h, a.resource_id.as_deref());
    field(&mut h, Some(a.result));
    field(&mut h, a.request_id.as_deref());
    field(&mut h, a.ip.as_deref());
    field(&mut h, Some(&a.details));
    h.update(created_at_us.to_be_bytes());
    hex::encode(h.finalize())
}

/// Appends the batch's events and audit records, under the head lock.
pub(crate) async fn append(
    conn: &mut Conn,
    now: i64,
    events: Vec<NewEvent>,
    audits: Vec<NewAudit>,
) -> Result<(), sqlx::Error> {
    if events.is_empty() && audits.is_empty() {
        return Ok(());
    }
    let lock = if conn.kind() == DbKind::Postgres { " FOR UPDATE" } else { "" };
    let head = conn
        .fetch_one(&format!("SELECT event_seq, audit_seq, audit_hash FROM ledger_heads WHERE id = 1{lock}"), [])
        .await?;
    let (mut event_seq, mut audit_seq): (i64, i64) = (head.col("event_seq")?, head.col("audit_seq")?);
    let mut hash: String = head.col("audit_hash")?;
    let event_rows: Vec<Vec<Val>> = events
        .into_iter()
        .map(|e| {
            event_seq += 1;
            vec![
                Val::I(event_seq),
                Val::T(ids::new_id::<ids::EventId>()),
                Val::T(e.kind.into()),
                Val::T(e.resource_type.into()),
                Val::T(e.resource_id),
                Val::T(e.data),
                Val::OT(e.request_id),
                Val::I(now),
            ]
        })
        .collect();
    let audit_rows: Vec<Vec<Val>> = audits
        .into_iter()
        .map(|a| {
            audit_seq += 1;
            let id = ids::new_id::<ids::AuditId>();
            let prev = std::mem::take(&mut hash);
            hash = chain_hash(&prev, audit_seq, &id, &a, now);
            vec![
                Val::I(audit_seq),
                Val::T(id),
                Val::T(a.actor),
                Val::T(a.action),
                Val::OT(a.resource_type),
                Val::OT(a.resource_id),
                Val::T(a.result.into()),
                Val::OT(a.request_id),
                Val::OT(a.ip),
                Val::T(a.details),
                Val::I(now),
                Val::T(prev),
                Val::T(hash.clone()),
            ]
        })
        .collect();
    if !event_rows.is_empty() {
        exec_values(
            conn,
            "INSERT INTO events (seq, id, type, resource_type, resource_id, data, request_id, created_at)",
            8,
            event_rows,
            "",
        )
        .await?;
    }
    if !audit_rows.is_empty() {
        exec_values(
            conn,
            "INSERT INTO audit_events (seq, id, actor, action, resource_type, resource_id, result, request_id, ip, \
             details, created_at, prev_hash, hash)",
            13,
            audit_rows,
            "",
        )
        .await?;
    }
    let q = "UPDATE ledger_heads SET event_seq = $1, audit_seq = $2, audit_hash = $3 WHERE id = 1";
    conn.execute(q, [Val::I(event_seq), Val::I(audit_seq), Val::T(hash)]).await?;
    Ok(())
}

pub(crate) const EVENT_COLUMNS: &str = "seq, id, type, resource_type, resource_id, data, request_id, created_at";
const AUDIT_COLUMNS: &str = "seq, id, actor, action, resource_type, resource_id, result, request_id, ip, details, \
     created_at, prev_hash, hash";

pub(crate) fn event_from_row(r: &impl Get) -> Result<EventRecord, StoreError> {
    Ok(EventRecord {
        seq: r.col("seq")?,
        id: r.col("id")?,
        kind: r.col("type")?,
        resource_type: r.col("resource_type")?,
        resource_id: r.col("resource_id")?,
        data: r.col("data")?,
        request_id: r.col("request_id")?,
        created_at_us: r.col("created_at")?,
    })
}

fn audit_from_row(r: &impl Get) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: r.col("seq")?,
        id: r.col("id")?,
        actor: r.col("actor")?,
        action: r.col("action")?,
        resource_type: r.col("resource_type")?,
        resource_id: r.col("resource_id")?,
        result: r.col("result")?,
        request_id: r.col("request_id")?,
        ip: r.col("ip")?,
        details: r.col("details")?,
        created_at_us: r.col("created_at")?,
        prev_hash: r.col("prev_hash")?,
        hash: r.col("hash")?,
    })
}

impl Db {
    /// Events after `after` (a sequence number), oldest first, optionally of one type.
    pub async fn events(&self, after: i64, limit: usize, kind: Option<&str>) -> Result<Page<EventRecord>, StoreError> {
        let mut vals = vec![Val::I(after)];
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > $1");
        if let Some(k) = kind {
            sql.push_str(" AND type = $2");
            vals.push(Val::T(k.to_string()));
        }
        sql.push_str(&format!(" ORDER BY seq LIMIT {}", limit + 1));
        let mut rows = sqlx::query_with(&sql, args(vals)?).fetch_all(self.pool()).await?;
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        Ok(Page { data: rows.iter().map(event_from_row).collect::<Result<_, _>>()?, has_more })
    }

    /// Audit records, newest first, filtered; cursors are sequence numbers.
    pub async fn audit_events(
        &self,
        filter: &AuditFilter,
        cursor: &Cursor,
        limit: usize,
    ) -> Result<Page<AuditRecord>, StoreError> {
        let mut conditions: Vec<(&str, Val)> = Vec::new();
        let text = |v: &Option<String>| v.clone().map(Val::T);
        if let Some(v) = text(&filter.actor) {
            conditions.push(("actor = $?", v));
        }
        if let Some(v) = text(&filter.action) {
            conditions.push(("action = $?", v));
        }
        if let Some(v) = text(&filter.resource_id) {
            conditions.push(("resource_id = $?", v));
        }
        if let Some(v) = text(&filter.result) {
            conditions.push(("result = $?", v));
        }
        if let Some(v) = filter.from_us {
            conditions.push(("created_at >= $?", Val::I(v)));
        }
        if let Some(v) = filter.to_us {
            conditions.push(("created_at < $?", Val::I(v)));
        }
        let select = format!("SELECT {AUDIT_COLUMNS} FROM audit_events");
        let (rows, has_more) = crate::read::page(self, &select, "seq", &conditions, cursor, limit).await?;
        Ok(Page { data: rows.iter().map(audit_from_row).collect::<Result<_, _>>()?, has_more })
    }

    /// Walks the audit chain from the first record and names the first one that does not fit.
    pub async fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        use futures_lite::StreamExt as _;
        let mut tx = self.pool().begin().await?;
        if self.kind() == DbKind::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").persistent(false).execute(&mut *tx).await?;
        }
        let mut expected_seq = 0i64;
        let mut prev = GENESIS_HASH.to_string();
        let mut first_broken = None;
        {
            let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_events ORDER BY seq");
            let mut rows = sqlx::query(&sql).fetch(&mut *tx);
            while let Some(row) = rows.next().await {
                let r = audit_from_row(&row?)?;
                expected_seq += 1;
                let reason = if r.seq != expected_seq {
                    Some(format!("sequence jumps from {} to {}: records are missing", expected_seq - 1, r.seq))
                } else if r.prev_hash != prev {
                    Some("prev_hash does not match the previous record".to_string())
                } else {
                    let fields = NewAudit {
                        actor: r.actor.clone(),
                        action: r.action.clone(),
                        resource_type: r.resource_type.clone(),
                        resource_id: r.resource_id.clone(),
                        result: if r.result == "success" {
                            "success"
                        } else if r.result == "failure" {
                            "failure"
                        } else {
                            ""
                        },
                        request_id: r.request_id.clone(),
                        ip: r.ip.clone(),
                        details: r.details.clone(),
                    };
                    let ok_result = !fields.result.is_empty();
                    let computed = chain_hash(&r.prev_hash, r.seq, &r.id, &fields, r.created_at_us);
                    (!ok_result || computed != r.hash)
                        .then(|| "the record's contents do not match its hash".to_string())
                };
                if let Some(reason) = reason {
                    first_broken = Some((r.seq, r.id.clone(), reason));
                    break;
                }
                prev = r.hash;
            }
        }
        if first_broken.is_none() {
            let head =
                sqlx::query("SELECT audit_seq, audit_hash FROM ledger_heads WHERE id = 1").fetch_one(&mut *tx).await?;
            let (head_seq, head_hash): (i64, String) = (head.col("audit_seq")?, head.col("audit_hash")?);
            if head_seq != expected_seq || head_hash != prev {
                first_broken = Some((
                    expected_seq + 1,
                    String::new(),
                    format!("the chain ends at record {expected_seq} but the head says {head_seq}: newest records are missing"),
                ));
            }
        }
        tx.rollback().await?;
        Ok(AuditReport { records: expected_seq, first_broken })
    }
}
