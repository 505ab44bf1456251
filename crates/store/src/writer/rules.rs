//! Risk rule documents in the writer: created, replaced and deleted with a new version each
//! time, audited in the same transaction. Validation happens at the edge (`rialto-risk`).

use super::*;

/// A stored rule document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRecord {
    /// Rule id.
    pub id: String,
    /// 1, 2, ... one per change.
    pub version: i64,
    /// The JSON document.
    pub document: String,
    /// Deleted (the history stays).
    pub deleted: bool,
    /// Last change, µs.
    pub updated_at_us: i64,
}

pub(crate) fn from_row(r: &impl Get) -> Result<RuleRecord, StoreError> {
    Ok(RuleRecord {
        id: r.col("id")?,
        version: r.col("version")?,
        document: r.col("document")?,
        deleted: r.col::<i64>("deleted")? != 0,
        updated_at_us: r.col("updated_at")?,
    })
}

/// Creates (`create`) or replaces a rule.
pub(crate) fn put(state: &mut State, writes: &mut Writes, id: &str, document: &str, create: bool) -> Outcome {
    let current = state.rules.get(id).filter(|r| !r.deleted);
    match (create, current) {
        (true, Some(_)) => return Err(CommandError::RuleExists(id.to_string())),
        (false, None) => return Err(CommandError::RuleNotFound(id.to_string())),
        _ => {}
    }
    let version = state.rules.get(id).map_or(1, |r| r.version + 1);
    let record = RuleRecord {
        id: id.to_string(),
        version,
        document: document.to_string(),
        deleted: false,
        updated_at_us: state.now,
    };
    state.rules.insert(id.to_string(), record.clone());
    writes.rules.push(record.clone());
    Ok(Output::Rule(record))
}

/// Deletes a rule (a new version without a document).
pub(crate) fn delete(state: &mut State, writes: &mut Writes, id: &str) -> Outcome {
    let Some(current) = state.rules.get(id).filter(|r| !r.deleted) else {
        return Err(CommandError::RuleNotFound(id.to_string()));
    };
    let record =
        RuleRecord { version: current.version + 1, deleted: true, updated_at_us: state.now, ..current.clone() };
    state.rules.insert(id.to_string(), record.clone());
    writes.rules.push(record.clone());
    Ok(Output::Rule(record))
}

pub(crate) async fn write(conn: &mut Conn, w: &mut Writes) -> Result<(), Abort> {
    for r in std::mem::take(&mut w.rules) {
        let upsert = "INSERT INTO risk_rules (id, version, document, deleted, updated_at) VALUES ($1, $2, $3, $4, $5) \
                      ON CONFLICT (id) DO UPDATE SET version = excluded.version, document = excluded.document, \
                      deleted = excluded.deleted, updated_at = excluded.updated_at";
        let values = [
            Val::T(r.id.clone()),
            Val::I(r.version),
            Val::T(r.document.clone()),
            Val::I(i64::from(r.deleted)),
            Val::I(r.updated_at_us),
        ];
        conn.execute(upsert, values).await?;
        let history = "INSERT INTO risk_rule_versions (rule_id, version, document, created_at) VALUES ($1, $2, $3, $4)";
        let document = (!r.deleted).then(|| r.document.clone());
        let values = [Val::T(r.id), Val::I(r.version), Val::OT(document), Val::I(r.updated_at_us)];
        conn.execute(history, values).await?;
    }
    Ok(())
}

impl Db {
    /// Current rules (not deleted), by id.
    pub async fn rules(&self) -> Result<Vec<RuleRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM risk_rules WHERE deleted = 0 ORDER BY id").fetch_all(self.pool()).await?;
        rows.iter().map(from_row).collect()
    }

    /// One rule, deleted or not.
    pub async fn rule(&self, id: &str) -> Result<Option<RuleRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM risk_rules WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every version of a rule: (version, document or None when deleted, time µs).
    pub async fn rule_versions(&self, id: &str) -> Result<Vec<(i64, Option<String>, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, document, created_at FROM risk_rule_versions WHERE rule_id = $1 ORDER BY version",
        )
        .bind(id.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.col("version")?, r.col("document")?, r.col("created_at")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
