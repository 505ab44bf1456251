//! Clearing and settlement inside the writer.
//!
//! A payment that completes gets a `pending` clearing record. A settlement run takes the
//! pending clearings (locked), groups them per destination account and currency, and for each
//! group posts ONE balanced journal entry: debit the merchant account by the gross, credit the
//! currency's fee account with the fees and its settlement account with the net.
//!
//! Fees: `count x fee_fixed_minor + ceil(gross x fee_bps / 10 000)`, capped at the gross;
//! rounding is up to the next minor unit. What remains of a payment after its refunds is what
//! settles; a clearing with nothing left is `reversed`.

use rialto_core::ids;
use std::collections::BTreeMap;

use rialto_core::ledger::{Direction, Line};

use super::*;

/// A clearing record, as the batch sees it.
#[derive(Debug, Clone)]
pub(crate) struct Clearing {
    pub id: String,
    pub payment_id: String,
    pub destination_account_id: String,
    pub currency: Currency,
}

/// A settlement batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementRecord {
    /// `stl_…`
    pub id: String,
    /// The merchant account debited.
    pub destination_account_id: String,
    /// Currency.
    pub currency: Currency,
    /// `completed` or `failed`.
    pub status: String,
    /// Payments settled.
    pub payment_count: i64,
    /// Sum of what remained of those payments, minor units.
    pub gross: i64,
    /// Fees, minor units.
    pub fees: i64,
    /// Gross minus fees, minor units.
    pub net: i64,
    /// The journal entry that moved the money.
    pub journal_entry_id: Option<String>,
    /// Why it failed.
    pub failure_reason: Option<String>,
    /// When, µs.
    pub created_at_us: i64,
    /// The settled payments with the amount each contributed.
    pub payments: Vec<(String, i64)>,
}

pub(crate) const SYSTEM_FEES: &str = "fees";
pub(crate) const SYSTEM_SETTLEMENT: &str = "settlement";

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
            Val::T("pending".into()),
            Val::I(p.amount),
            Val::OT(None),
            Val::I(state.now),
            Val::I(state.now),
        ]);
    }
}

fn system_account(state: &mut State, writes: &mut Writes, purpose: &str, currency: Currency) -> String {
    let key = (purpose.to_string(), currency.code().to_string());
    if let Some(id) = state.system_accounts.get(&key) {
        return id.clone();
    }
    let id = ids::new_id::<ids::AccountId>();
    let account = rialto_core::ledger::Account::new(id.clone(), currency, false);
    state.book.accounts.insert(id.clone(), account.clone());
    state.accounts.insert(
        id.clone(),
        AccountRecord {
            account,
            user_id: None,
            name: Some(format!("{purpose} {}", currency.code())),
            metadata: Metadata::from([("system".to_string(), purpose.to_string())]),
            created_at_us: state.now,
            updated_at_us: state.now,
        },
    );
    writes.new_accounts.insert(id.clone());
    writes.system_accounts.push(vec![Val::T(key.0.clone()), Val::T(key.1.clone()), Val::T(id.clone())]);
    state.system_accounts.insert(key, id.clone());
    id
}

/// One settlement run over the loaded clearings (optionally of one destination account).
pub(crate) fn settle(
    state: &mut State,
    writes: &mut Writes,
    destination: Option<&str>,
    schedule: FeeSchedule,
) -> Outcome {
    let mut groups: BTreeMap<(String, &'static str), Vec<Clearing>> = BTreeMap::new();
    for c in std::mem::take(&mut state.clearings) {
        if destination.is_some_and(|d| d != c.destination_account_id) {
            continue;
        }
        groups.entry((c.destination_account_id.clone(), c.currency.code())).or_default().push(c);
    }
    let mut out = Vec::new();
    for ((dest, _), clearings) in groups {
        let currency = clearings[0].currency;
        let mut payments = Vec::new();
        let mut gross = 0i64;
        for c in &clearings {
            let Some(p) = state.payments.get(&c.payment_id) else {
                continue;
            };
            let remaining = p.amount - p.refunded_amount;
            if remaining > 0 {
                gross = gross.checked_add(remaining).ok_or(LedgerError::Overflow)?;
                payments.push((p.id.clone(), remaining));
            }
        }
        let count = i64::try_from(payments.len()).unwrap_or(i64::MAX);
        let fees = fee(schedule, count, gross).ok_or(LedgerError::Overflow)?;
        let net = gross - fees;
        let id = ids::new_id::<ids::SettlementId>();
        let mut record = SettlementRecord {
            id: id.clone(),
            destination_account_id: dest.clone(),
            currency,
            status: "completed".into(),
            payment_count: count,
            gross,
            fees,
            net,
            journal_entry_id: None,
            failure_reason: None,
            created_at_us: state.now,
            payments,
        };
        if gross > 0 {
            let fee_account = system_account(state, writes, SYSTEM_FEES, currency);
            let settlement_account = system_account(state, writes, SYSTEM_SETTLEMENT, currency);
            let mut lines = vec![Line {
                account_id: dest.clone(),
                direction: Direction::Debit,
                amount: Amount::new(gross).map_err(|_| LedgerError::Overflow)?,
            }];
            for (account_id, amount) in [(fee_account, fees), (settlement_account, net)] {
                if let Ok(amount) = Amount::new(amount) {
                    lines.push(Line { account_id, direction: Direction::Credit, amount });
                }
            }
            match state.book.journal(&lines) {
                Ok(effects) => {
                    let journal_id = ids::new_id::<ids::JournalId>();
                    writes.journals.push(JournalRecord {
                        id: journal_id.clone(),
                        description: Some(format!("settlement {id}")),
                        metadata: Metadata::from([("settlement_id".to_string(), id.clone())]),
                        lines: journal_lines(&effects),
                        created_at_us: state.now,
                    });
                    record_effects(state, writes, &effects, None, Some(&journal_id));
                    record.journal_entry_id = Some(journal_id);
                }
                Err(e) => {
                    record.status = "failed".into();
                    record.failure_reason = Some(e.to_string());
                }
            }
        }
        if record.status == "completed" {
            for c in &clearings {
                let settled = record.payments.iter().any(|(p, _)| *p == c.payment_id);
                writes.clearing_updates.push(vec![
                    Val::T(c.id.clone()),
                    Val::T(if settled { "completed" } else { "reversed" }.into()),
                    Val::OT(settled.then(|| id.clone())),
                    Val::I(state.now),
                ]);
            }
        }
        writes.settlements.push(vec![
            Val::T(record.id.clone()),
            Val::T(record.destination_account_id.clone()),
            Val::T(currency.code().into()),
            Val::T(record.status.clone()),
            Val::I(record.payment_count),
            Val::I(record.gross),
            Val::I(record.fees),
            Val::I(record.net),
            Val::OT(record.journal_entry_id.clone()),
            Val::OT(record.failure_reason.clone()),
            Val::I(state.now),
        ]);
        out.push(record);
    }
    Ok(Output::Settlements(out))
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
            status: r.col("status")?,
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
