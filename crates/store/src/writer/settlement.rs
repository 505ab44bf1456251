//! Clearing and settlement inside the writer: loads (and locks) the pending clearings and the
//! system accounts, runs the payments domain's [`rialto_payments::settle`], and writes its
//! changes (system accounts, the journal entries, settlements, clearings).

use rialto_core::ids;

use rialto_payments::{NewId, Settle, SettlementChanges, SettlementStatus};

use super::*;

pub use rialto_payments::{Clearing, SettlementRecord};

/// Loads and locks the pending clearings a settlement run may take, and the system accounts.
pub(crate) async fn load(
    conn: &mut Conn,
    destination: Option<&str>,
) -> Result<(Vec<Clearing>, HashMap<(String, String), String>), Abort> {
    let kind = conn.kind();
    let lock = if kind == DbKind::Postgres { " FOR UPDATE" } else { "" };
    let mut sql =
        String::from("SELECT id, payment_id, destination_account_id, currency FROM clearings WHERE status = 'pending'");
    let mut vals = Vec::new();
    if let Some(d) = destination {
        sql.push_str(&format!(" AND destination_account_id = {}", placeholders(kind, 1, 1)));
        vals.push(Val::T(d.to_string()));
    }
    sql.push_str(&format!(" ORDER BY payment_id LIMIT {SETTLEMENT_CLEARINGS_MAX}{lock}"));
    let rows = conn.fetch_all(&sql, vals).await?;
    let mut clearings = Vec::with_capacity(rows.len());
    for r in rows {
        let code: String = r.col("currency")?;
        clearings.push(Clearing {
            id: r.col("id")?,
            payment_id: r.col("payment_id")?,
            destination_account_id: r.col("destination_account_id")?,
            currency: crate::records::currency(&code)?,
        });
    }
    let mut system = HashMap::new();
    for r in conn.fetch_all("SELECT purpose, currency, account_id FROM system_accounts", []).await? {
        system.insert((r.col("purpose")?, r.col("currency")?), r.col("account_id")?);
    }
    Ok((clearings, system))
}

/// Most clearings one settlement run takes; the next run takes the rest.
pub const SETTLEMENT_CLEARINGS_MAX: usize = 10_000;

/// A completed payment's clearing record.
pub(crate) fn clear(state: &State, writes: &mut Writes, payment_id: &str) {
    if let Some(p) = state.payments.get(payment_id) {
        writes.clearings.push(vec![
            Val::T(ids::new_id::<ids::ClearingId>()),
            Val::T(p.id.clone()),
            Val::T(p.destination_account_id.clone()),
            Val::T(p.currency.code().into()),
            Val::T(rialto_payments::ClearingStatus::Pending.as_str().into()),
            Val::I(p.amount),
            Val::OT(None),
            Val::I(state.now),
            Val::I(state.now),
        ]);
    }
}

/// One settlement run over the loaded clearings (optionally of one destination account).
pub(crate) fn settle(
    state: &mut State,
    writes: &mut Writes,
    destination: Option<&str>,
    schedule: rialto_payments::FeeSchedule,
) -> Outcome {
    let clearings = std::mem::take(&mut state.clearings);
    let mut changes = SettlementChanges::default();
    let mut new_id = |kind: NewId| match kind {
        NewId::Settlement => ids::new_id::<ids::SettlementId>(),
        NewId::JournalEntry => ids::new_id::<ids::JournalId>(),
        NewId::Account => ids::new_id::<ids::AccountId>(),
    };
    let result = {
        let mut s = Settle {
            now: state.now,
            book: &mut state.ledger.book,
            payments: &state.payments,
            system_accounts: &mut state.system_accounts,
            new_id: &mut new_id,
            changes: &mut changes,
        };
        rialto_payments::settle(&mut s, clearings, destination, schedule)
    };
    absorb(state, writes, changes);
    Ok(Output::Settlements(result?))
}

/// Folds a run's changes into the batch: system accounts first (the journals credit them).
fn absorb(state: &mut State, writes: &mut Writes, changes: SettlementChanges) {
    let now = state.now;
    for a in changes.system_accounts {
        if let Some(account) = state.ledger.book.accounts.get(&a.account_id) {
            let record = AccountRecord {
                account: account.clone(),
                user_id: None,
                name: Some(format!("{} {}", a.purpose, a.currency.code())),
                metadata: Metadata::from([("system".to_string(), a.purpose.to_string())]),
                created_at_us: now,
                updated_at_us: now,
            };
            state.ledger.accounts.insert(a.account_id.clone(), record);
        }
        writes.ledger.new_accounts.insert(a.account_id.clone());
        writes.system_accounts.push(vec![
            Val::T(a.purpose.to_string()),
            Val::T(a.currency.code().to_string()),
            Val::T(a.account_id),
        ]);
    }
    for j in changes.journals {
        writes.ledger.journals.push(JournalRecord {
            id: j.id.clone(),
            description: Some(j.description),
            metadata: j.metadata,
            lines: rialto_ledger::journal_lines(&j.effects),
            created_at_us: now,
        });
        state.ledger.record_effects(&mut writes.ledger, state.now, &j.effects, None, Some(&j.id));
    }
    for (clearing_id, status, settlement_id) in changes.clearing_updates {
        writes.clearing_updates.push(vec![
            Val::T(clearing_id),
            Val::T(status.as_str().into()),
            Val::OT(settlement_id),
            Val::I(now),
        ]);
    }
    for r in changes.settlements {
        writes.settlements.push(vec![
            Val::T(r.id),
            Val::T(r.destination_account_id),
            Val::T(r.currency.code().into()),
            Val::T(r.status.as_str().into()),
            Val::I(r.payment_count),
            Val::I(r.gross),
            Val::I(r.fees),
            Val::I(r.net),
            Val::OT(r.journal_entry_id),
            Val::OT(r.failure_reason),
            Val::I(r.created_at_us),
        ]);
    }
}

/// Rows of the run: system accounts, settlements, then new and updated clearings.
pub(crate) async fn write(conn: &mut Conn, w: &mut Writes) -> Result<(), Abort> {
    let system = std::mem::take(&mut w.system_accounts);
    if !system.is_empty() {
        exec_values(conn, "INSERT INTO system_accounts (purpose, currency, account_id)", 3, system, "").await?;
    }
    let settlements = std::mem::take(&mut w.settlements);
    if !settlements.is_empty() {
        let head =
            "INSERT INTO settlements (id, destination_account_id, currency, status, payment_count, gross, fees, \
                    net, journal_entry_id, failure_reason, created_at)";
        exec_values(conn, head, 11, settlements, "").await?;
    }
    let clearings = std::mem::take(&mut w.clearings);
    if !clearings.is_empty() {
        let head = "INSERT INTO clearings (id, payment_id, destination_account_id, currency, status, amount, \
                    settlement_id, created_at, updated_at)";
        exec_values(conn, head, 9, clearings, "").await?;
    }
    let updates = std::mem::take(&mut w.clearing_updates);
    if !updates.is_empty() {
        exec_values(
            conn,
            "WITH v (id, status, settlement_id, upd) AS (",
            4,
            updates,
            ") UPDATE clearings SET status = v.status, settlement_id = v.settlement_id, updated_at = v.upd \
             FROM v WHERE clearings.id = v.id",
        )
        .await?;
    }
    Ok(())
}

impl Db {
    /// A settlement with the payments it settled.
    pub async fn settlement(&self, id: &str) -> Result<Option<SettlementRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, destination_account_id, currency, status, payment_count, gross, fees, net, journal_entry_id, \
             failure_reason, created_at FROM settlements WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let code: String = r.col("currency")?;
        let rows = sqlx::query(
            "SELECT c.payment_id, p.amount - p.refunded_amount AS settled FROM clearings c \
             JOIN payments p ON p.id = c.payment_id WHERE c.settlement_id = $1 ORDER BY c.payment_id",
        )
        .bind(id.to_string())
        .fetch_all(self.pool())
        .await?;
        let payments = rows
            .iter()
            .map(|r| Ok((r.col("payment_id")?, r.col("settled")?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(Some(SettlementRecord {
            id: r.col("id")?,
            destination_account_id: r.col("destination_account_id")?,
            currency: crate::records::currency(&code)?,
            status: {
                let st: String = r.col("status")?;
                crate::records::stored("settlement status", &st, SettlementStatus::parse)?
            },
            payment_count: r.col("payment_count")?,
            gross: r.col("gross")?,
            fees: r.col("fees")?,
            net: r.col("net")?,
            journal_entry_id: r.col("journal_entry_id")?,
            failure_reason: r.col("failure_reason")?,
            created_at_us: r.col("created_at")?,
            payments,
        }))
    }
}
