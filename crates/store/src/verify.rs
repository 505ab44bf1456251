//! Ledger verification: recompute every balance from the entries and pending transfers and
//! compare with the stored running totals; check the trial balance per currency.

use std::collections::BTreeMap;

use rialto_core::money::checked_add;

use crate::db::{Db, StoreError};

/// One discrepancy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// `account` or `currency`.
    pub scope: String,
    /// Account id or currency code.
    pub id: String,
    /// What disagrees.
    pub field: String,
    /// The stored value.
    pub stored: i64,
    /// The value recomputed from entries.
    pub computed: i64,
}

/// Result of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Accounts checked.
    pub accounts: u64,
    /// Entries read.
    pub entries: u64,
    /// Per currency: (total debits, total credits) of all entries.
    pub currencies: BTreeMap<String, (i64, i64)>,
    /// Every discrepancy found.
    pub mismatches: Vec<Mismatch>,
}

impl VerifyReport {
    /// True when nothing disagrees.
    pub fn ok(&self) -> bool {
        self.mismatches.is_empty()
    }
}

#[derive(Default, Clone, Copy)]
struct Totals {
    debits: i64,
    credits: i64,
    pending_debits: i64,
    pending_credits: i64,
    last_balance: Option<(i64, i64)>,
}

impl Db {
    /// Reads the whole ledger in one snapshot and checks it. Sums are done in Rust with
    /// checked arithmetic, streaming the entries in order.
    pub async fn verify(&self) -> Result<VerifyReport, StoreError> {
        use futures_lite::StreamExt as _;
        let mut tx = self.pool().begin().await?;
        if self.kind() == crate::DbKind::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").persistent(false).execute(&mut *tx).await?;
        }
        let overflow = || StoreError::Corrupt("sum overflows i64".into());
        let mut totals: BTreeMap<String, Totals> = BTreeMap::new();
        let mut currencies: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let mut mismatches = Vec::new();
        let mut entries = 0u64;
        {
            let mut stream = sqlx::query_as::<_, (i64, String, String, i64, String, i64)>(
                "SELECT seq, account_id, direction, amount, currency, balance_after FROM entries ORDER BY seq",
            )
            .fetch(&mut *tx);
            while let Some(row) = stream.next().await {
                let (seq, account, direction, amount, currency, balance_after) = row?;
                entries += 1;
                let t = totals.entry(account.clone()).or_default();
                let c = currencies.entry(currency).or_default();
                if direction == "debit" {
                    t.debits = checked_add(t.debits, amount).map_err(|_| overflow())?;
                    c.0 = checked_add(c.0, amount).map_err(|_| overflow())?;
                } else {
                    t.credits = checked_add(t.credits, amount).map_err(|_| overflow())?;
                    c.1 = checked_add(c.1, amount).map_err(|_| overflow())?;
                }
                let running = t.credits.checked_sub(t.debits).ok_or_else(overflow)?;
                if running != balance_after {
                    mismatches.push(Mismatch {
                        scope: "entry".into(),
                        id: format!("{account}#{seq}"),
                        field: "balance_after".into(),
                        stored: balance_after,
                        computed: running,
                    });
                }
                t.last_balance = Some((seq, balance_after));
            }
        }
        let pending: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT source_account_id, destination_account_id, amount FROM transfers WHERE status = 'pending'",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (src, dst, amount) in pending {
            let s = totals.entry(src).or_default();
            s.pending_debits = checked_add(s.pending_debits, amount).map_err(|_| overflow())?;
            let d = totals.entry(dst).or_default();
            d.pending_credits = checked_add(d.pending_credits, amount).map_err(|_| overflow())?;
        }
        let accounts: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT id, debits_posted, credits_posted, debits_pending, credits_pending, allow_negative_balance FROM accounts",
        )
        .fetch_all(&mut *tx)
        .await?;
        let account_count = accounts.len() as u64;
        for (id, dp, cp, dpe, cpe, allow_negative) in accounts {
            let t = totals.remove(&id).unwrap_or_default();
            for (field, stored, computed) in [
                ("debits_posted", dp, t.debits),
                ("credits_posted", cp, t.credits),
                ("debits_pending", dpe, t.pending_debits),
                ("credits_pending", cpe, t.pending_credits),
            ] {
                if stored != computed {
                    mismatches.push(Mismatch {
                        scope: "account".into(),
                        id: id.clone(),
                        field: field.into(),
                        stored,
                        computed,
                    });
                }
            }
            let available = cp.checked_sub(dp).and_then(|p| p.checked_sub(dpe)).ok_or_else(overflow)?;
            if allow_negative == 0 && available < 0 {
                mismatches.push(Mismatch {
                    scope: "account".into(),
                    id: id.clone(),
                    field: "available_negative".into(),
                    stored: available,
                    computed: 0,
                });
            }
        }
        for (id, _) in totals {
            mismatches.push(Mismatch {
                scope: "entry".into(),
                id,
                field: "unknown_account".into(),
                stored: 0,
                computed: 0,
            });
        }
        for (currency, (debits, credits)) in &currencies {
            if debits != credits {
                mismatches.push(Mismatch {
                    scope: "currency".into(),
                    id: currency.clone(),
                    field: "trial_balance".into(),
                    stored: *debits,
                    computed: *credits,
                });
            }
        }
        tx.rollback().await?;
        Ok(VerifyReport { accounts: account_count, entries, currencies, mismatches })
    }
}
