//! Risk rule documents and lists in the writer: the risk administration domain
//! (`rialto_risk::admin`) decides; this module runs it on the batch's loaded rules and writes the
//! rule rows, their history and the list changes. Validation happens at the edge (`rialto-risk`).

use super::*;

pub use rialto_risk::admin::RuleRecord;

pub(crate) fn from_row(r: &impl Get) -> Result<RuleRecord, StoreError> {
    Ok(RuleRecord {
        id: r.col("id")?,
        version: r.col("version")?,
        document: r.col("document")?,
        deleted: r.col::<i64>("deleted")? != 0,
        updated_at_us: r.col("updated_at")?,
    })
}

/// Applies a risk administration command (`rialto_risk::admin::apply`) to the batch.
pub(crate) fn apply(state: &mut State, writes: &mut Writes, c: &rialto_risk::admin::Command) -> Outcome {
    use rialto_risk::admin::{ChangeSet, Cx, Error, Output as O};
    let mut changes = ChangeSet::default();
    let result =
        rialto_risk::admin::apply(&mut Cx { now: state.now, rules: &mut state.rules, changes: &mut changes }, c);
    writes.rules.extend(changes.rules);
    writes.list_changes.extend(changes.list_changes);
    match result {
        Ok(O::Rule(r)) => Ok(Output::Rule(r)),
        Ok(O::ListItem(list, value, add)) => Ok(Output::ListItem(list, value, add)),
        Err(Error::RuleExists(id)) => Err(CommandError::RuleExists(id)),
        Err(Error::RuleNotFound(id)) => Err(CommandError::RuleNotFound(id)),
    }
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

    /// Current rules (not deleted) in id order, a page at a time.
    pub async fn rules_page(
        &self,
        cursor: &crate::Cursor,
        limit: usize,
    ) -> Result<crate::Page<RuleRecord>, StoreError> {
        let conditions = [("deleted = $?", Val::I(0))];
        let (rows, has_more) =
            crate::read::page_ordered(self, "SELECT * FROM risk_rules", "id", &conditions, cursor, limit, true).await?;
        Ok(crate::Page { data: rows.iter().map(from_row).collect::<Result<_, _>>()?, has_more })
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
