//! Clearing and settlement.
//!
//! A payment that completes gets a `pending` clearing (`ChangeSet::cleared`). A settlement run
//! takes the pending clearings the backend loaded (and locked), groups them per destination
//! account and currency, and for each group posts ONE balanced journal entry: debit the
//! merchant account by the gross, credit the currency's fee account with the fees and its
//! settlement account with the net (both made on first use).
//!
//! What remains of a payment after its refunds is what settles; a clearing with nothing left is
//! `reversed`. Fees: see [`fee`].

use std::collections::{BTreeMap, HashMap};

use rialto_core::ledger::{Account, Book, Direction, Effects, LedgerError, Line};
use rialto_core::{Amount, Currency, Metadata};

use crate::{fee, FeeSchedule, PaymentRecord};

/// The purpose of the per-currency account that receives settlement fees.
pub const SYSTEM_FEES: &str = "fees";
/// The purpose of the per-currency account that receives what settles, net of fees.
pub const SYSTEM_SETTLEMENT: &str = "settlement";

rialto_core::string_enum! {
    /// Where a settlement run ended.
    pub enum SettlementStatus {
        /// Its journal entry moved the money; its clearings are settled.
        Completed = "completed",
        /// The ledger refused the journal entry; its clearings stay pending.
        Failed = "failed",
    }
}

rialto_core::string_enum! {
    /// Where a completed payment's clearing stands.
    pub enum ClearingStatus {
        /// Waiting for a settlement run.
        Pending = "pending",
        /// Settled by a run.
        Completed = "completed",
        /// Nothing left to settle (refunded in full).
        Reversed = "reversed",
    }
}

/// A pending clearing, as a settlement run sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clearing {
    /// `clr_…`
    pub id: String,
    /// The completed payment.
    pub payment_id: String,
    /// Its destination (merchant) account.
    pub destination_account_id: String,
    /// Its currency.
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
    /// Completed or failed.
    pub status: SettlementStatus,
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

/// The kinds of id a settlement run mints (the engine generates them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewId {
    /// A settlement (`stl_…`).
    Settlement,
    /// Its journal entry (`je_…`).
    JournalEntry,
    /// A system account made on first use (`acct_…`).
    Account,
}

/// A system account a run created: (purpose, currency) -> account, already in the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemAccount {
    /// [`SYSTEM_FEES`] or [`SYSTEM_SETTLEMENT`].
    pub purpose: &'static str,
    /// Its currency.
    pub currency: Currency,
    /// Its id.
    pub account_id: String,
}

/// A journal entry a run posted.
#[derive(Debug, Clone)]
pub struct Journal {
    /// Its id.
    pub id: String,
    /// `settlement stl_…`.
    pub description: String,
    /// `settlement_id`.
    pub metadata: Metadata,
    /// The book's effects of its lines.
    pub effects: Effects,
}

/// What a settlement run persists.
#[derive(Debug, Default)]
pub struct SettlementChanges {
    /// System accounts made on first use (before the journals that credit them).
    pub system_accounts: Vec<SystemAccount>,
    /// Journal entries posted.
    pub journals: Vec<Journal>,
    /// Clearings settled (`completed`, with their settlement) or `reversed` (nothing left).
    pub clearing_updates: Vec<(String, ClearingStatus, Option<String>)>,
    /// The settlements, completed or failed.
    pub settlements: Vec<SettlementRecord>,
}

/// The state a settlement run works on.
pub struct Settle<'a> {
    /// The batch's time, µs.
    pub now: i64,
    /// The book holding the merchants' and system accounts.
    pub book: &'a mut Book,
    /// The clearings' payments (their refunded amounts decide what settles).
    pub payments: &'a HashMap<String, PaymentRecord>,
    /// (purpose, currency code) -> account id, extended as accounts are made.
    pub system_accounts: &'a mut HashMap<(String, String), String>,
    /// Mints ids.
    pub new_id: &'a mut dyn FnMut(NewId) -> String,
    /// What to persist.
    pub changes: &'a mut SettlementChanges,
}

impl Settle<'_> {
    fn system_account(&mut self, purpose: &'static str, currency: Currency) -> String {
        let key = (purpose.to_string(), currency.code().to_string());
        if let Some(id) = self.system_accounts.get(&key) {
            return id.clone();
        }
        let id = (self.new_id)(NewId::Account);
        self.book.accounts.insert(id.clone(), Account::new(id.clone(), currency, false));
        self.changes.system_accounts.push(SystemAccount { purpose, currency, account_id: id.clone() });
        self.system_accounts.insert(key, id.clone());
        id
    }

    /// Posts one group's journal entry; its id, or why the ledger refused it.
    fn post(&mut self, group: (&str, &str, Currency), gross: Amount, fees: i64) -> Result<String, String> {
        let (settlement_id, dest, currency) = group;
        let fee_account = self.system_account(SYSTEM_FEES, currency);
        let settlement_account = self.system_account(SYSTEM_SETTLEMENT, currency);
        let net = gross.minor() - fees;
        let mut lines = vec![Line { account_id: dest.to_string(), direction: Direction::Debit, amount: gross }];
        for (account_id, amount) in [(fee_account, fees), (settlement_account, net)] {
            if let Ok(amount) = Amount::new(amount) {
                lines.push(Line { account_id, direction: Direction::Credit, amount });
            }
        }
        let effects = self.book.journal(&lines).map_err(|e| e.to_string())?;
        let id = (self.new_id)(NewId::JournalEntry);
        self.changes.journals.push(Journal {
            id: id.clone(),
            description: format!("settlement {settlement_id}"),
            metadata: Metadata::from([("settlement_id".to_string(), settlement_id.to_string())]),
            effects,
        });
        Ok(id)
    }
}

/// One settlement run over `clearings` (optionally only those of one destination account):
/// one settlement per (destination, currency) group, in that order.
pub fn settle(
    s: &mut Settle<'_>,
    clearings: Vec<Clearing>,
    destination: Option<&str>,
    schedule: FeeSchedule,
) -> Result<Vec<SettlementRecord>, LedgerError> {
    let mut groups: BTreeMap<(String, &'static str), Vec<Clearing>> = BTreeMap::new();
    for c in clearings {
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
            let Some(p) = s.payments.get(&c.payment_id) else { continue };
            let remaining = p.amount - p.refunded_amount;
            if remaining > 0 {
                gross = gross.checked_add(remaining).ok_or(LedgerError::Overflow)?;
                payments.push((p.id.clone(), remaining));
            }
        }
        let count = i64::try_from(payments.len()).unwrap_or(i64::MAX);
        let fees = fee(schedule, count, gross).ok_or(LedgerError::Overflow)?;
        let id = (s.new_id)(NewId::Settlement);
        let mut record = SettlementRecord {
            id: id.clone(),
            destination_account_id: dest.clone(),
            currency,
            status: SettlementStatus::Completed,
            payment_count: count,
            gross,
            fees,
            net: gross - fees,
            journal_entry_id: None,
            failure_reason: None,
            created_at_us: s.now,
            payments,
        };
        if gross > 0 {
            let gross = Amount::new(gross).map_err(|_| LedgerError::Overflow)?;
            match s.post((&id, &dest, currency), gross, fees) {
                Ok(journal) => record.journal_entry_id = Some(journal),
                Err(reason) => {
                    record.status = SettlementStatus::Failed;
                    record.failure_reason = Some(reason);
                }
            }
        }
        if record.status == SettlementStatus::Completed {
            for c in &clearings {
                let settled = record.payments.iter().any(|(p, _)| *p == c.payment_id);
                let status = if settled { ClearingStatus::Completed } else { ClearingStatus::Reversed };
                s.changes.clearing_updates.push((c.id.clone(), status, settled.then(|| id.clone())));
            }
        }
        s.changes.settlements.push(record.clone());
        out.push(record);
    }
    Ok(out)
}
