//! The pure double-entry posting engine.
//!
//! A [`Book`] holds the accounts and transfers one batch of commands works on (the store loads
//! them, locked, from the database). Every command either applies completely and returns its
//! [`Effects`] (the rows to write), or fails and leaves the book exactly as it was. The engine
//! does no I/O and reads no clock: the caller passes `now_us`.
//!
//! Conventions: a transfer debits its source and credits its destination. Balances are
//! credit-normal: `posted = credits_posted - debits_posted`, and
//! `available = posted - debits_pending`.

use std::collections::{BTreeMap, HashMap};

use crate::money::{checked_add, checked_sub, Amount, Overflow};
use crate::Currency;

/// Most lines one journal entry may have.
pub const JOURNAL_LINES_MAX: usize = 50;

/// Lifecycle of an account. `Closed` is terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    /// Accepts movements.
    Active,
    /// Refuses new movements; pending transfers may still be voided.
    Frozen,
    /// Refuses everything; only reachable with a zero balance and nothing pending.
    Closed,
}

impl AccountStatus {
    /// The lower-case name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Frozen => "frozen",
            AccountStatus::Closed => "closed",
        }
    }

    /// Inverse of [`AccountStatus::as_str`].
    pub fn parse(s: &str) -> Option<AccountStatus> {
        match s {
            "active" => Some(AccountStatus::Active),
            "frozen" => Some(AccountStatus::Frozen),
            "closed" => Some(AccountStatus::Closed),
            _ => None,
        }
    }
}

/// An account's ledger state. The four running totals are in minor units and never negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `acct_…`
    pub id: String,
    /// Every movement on the account is in this currency.
    pub currency: Currency,
    /// Funding, settlement and fee accounts may go below zero; customer accounts may not.
    pub allow_negative_balance: bool,
    /// See [`AccountStatus`].
    pub status: AccountStatus,
    /// Sum of posted debits.
    pub debits_posted: i64,
    /// Sum of posted credits.
    pub credits_posted: i64,
    /// Sum of debits reserved by pending transfers.
    pub debits_pending: i64,
    /// Sum of credits promised by pending transfers.
    pub credits_pending: i64,
}

impl Account {
    /// A new, empty, active account.
    pub fn new(id: String, currency: Currency, allow_negative_balance: bool) -> Account {
        Account {
            id,
            currency,
            allow_negative_balance,
            status: AccountStatus::Active,
            debits_posted: 0,
            credits_posted: 0,
            debits_pending: 0,
            credits_pending: 0,
        }
    }

    /// `credits_posted - debits_posted`.
    pub fn posted(&self) -> Result<i64, Overflow> {
        checked_sub(self.credits_posted, self.debits_posted)
    }

    /// `posted - debits_pending`: what the account may still spend.
    pub fn available(&self) -> Result<i64, Overflow> {
        checked_sub(self.posted()?, self.debits_pending)
    }

    fn ensure_can_move(&self) -> Result<(), LedgerError> {
        match self.status {
            AccountStatus::Active => Ok(()),
            AccountStatus::Frozen => Err(LedgerError::AccountFrozen(self.id.clone())),
            AccountStatus::Closed => Err(LedgerError::AccountClosed(self.id.clone())),
        }
    }

    fn ensure_within_limits(&self) -> Result<(), LedgerError> {
        if !self.allow_negative_balance && self.available()? < 0 {
            return Err(LedgerError::InsufficientFunds(self.id.clone()));
        }
        Ok(())
    }
}

/// Lifecycle of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferStatus {
    /// Funds reserved, waiting for post or void.
    Pending,
    /// Money moved.
    Posted,
    /// Reservation released by a client.
    Voided,
    /// Reservation released because it passed its expiry.
    Expired,
}

impl TransferStatus {
    /// The lower-case name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferStatus::Pending => "pending",
            TransferStatus::Posted => "posted",
            TransferStatus::Voided => "voided",
            TransferStatus::Expired => "expired",
        }
    }

    /// Inverse of [`TransferStatus::as_str`].
    pub fn parse(s: &str) -> Option<TransferStatus> {
        match s {
            "pending" => Some(TransferStatus::Pending),
            "posted" => Some(TransferStatus::Posted),
            "voided" => Some(TransferStatus::Voided),
            "expired" => Some(TransferStatus::Expired),
            _ => None,
        }
    }
}

/// A transfer's ledger state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// `tr_…`
    pub id: String,
    /// Debited account.
    pub source_account_id: String,
    /// Credited account.
    pub destination_account_id: String,
    /// Currency of both accounts.
    pub currency: Currency,
    /// Requested (for pending: reserved) amount in minor units.
    pub amount: i64,
    /// Amount actually posted; 0 until posted. At most `amount`.
    pub posted_amount: i64,
    /// See [`TransferStatus`].
    pub status: TransferStatus,
    /// For pending transfers: when the reservation lapses, in µs since the Unix epoch.
    pub expires_at_us: Option<i64>,
    /// Set on a reversal: the transfer it compensates.
    pub reversal_of: Option<String>,
    /// Set on a reversed transfer: its reversal.
    pub reversed_by: Option<String>,
}

/// Debit or credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Decreases a credit-normal balance.
    Debit,
    /// Increases a credit-normal balance.
    Credit,
}

impl Direction {
    /// `"debit"` or `"credit"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Debit => "debit",
            Direction::Credit => "credit",
        }
    }

    /// Inverse of [`Direction::as_str`].
    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "debit" => Some(Direction::Debit),
            "credit" => Some(Direction::Credit),
            _ => None,
        }
    }
}

/// One posted entry on one account: the append-only record a statement is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    /// Account the entry belongs to.
    pub account_id: String,
    /// Debit or credit.
    pub direction: Direction,
    /// Positive minor units.
    pub amount: i64,
    /// The account's currency.
    pub currency: Currency,
    /// The account's posted balance right after this entry.
    pub balance_after: i64,
}

/// One line of a journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Account to debit or credit.
    pub account_id: String,
    /// Debit or credit.
    pub direction: Direction,
    /// Amount of the line.
    pub amount: Amount,
}

/// What a command changed: the rows the store must write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// New entries, in order.
    pub postings: Vec<Posting>,
    /// Accounts whose totals or status changed.
    pub accounts: Vec<String>,
    /// Transfers created by the command.
    pub created_transfers: Vec<String>,
    /// Existing transfers whose state changed.
    pub updated_transfers: Vec<String>,
}

/// Why a command was refused. Each maps to one stable API error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// No such account.
    #[error("no account `{0}`")]
    AccountNotFound(String),
    /// No such transfer.
    #[error("no transfer `{0}`")]
    TransferNotFound(String),
    /// Currencies of the movement and of an account differ.
    #[error("currency {expected} of account `{account}` does not match {got}")]
    CurrencyMismatch {
        /// Account concerned.
        account: String,
        /// The account's currency.
        expected: Currency,
        /// The movement's currency.
        got: Currency,
    },
    /// The movement would take the account's available balance below zero.
    #[error("account `{0}` has insufficient available funds")]
    InsufficientFunds(String),
    /// The account is frozen.
    #[error("account `{0}` is frozen")]
    AccountFrozen(String),
    /// The account is closed.
    #[error("account `{0}` is closed")]
    AccountClosed(String),
    /// Source and destination are the same account.
    #[error("source and destination must be different accounts")]
    SameAccount,
    /// The transfer is not in a state that allows the operation.
    #[error("transfer `{id}` is {status}; {action} needs a {needed} transfer")]
    InvalidTransferState {
        /// Transfer concerned.
        id: String,
        /// Its current status.
        status: &'static str,
        /// What was attempted.
        action: &'static str,
        /// The status it needs.
        needed: &'static str,
    },
    /// The account's status does not allow the change.
    #[error("account `{id}` is {status} and cannot be {action}")]
    InvalidAccountState {
        /// Account concerned.
        id: String,
        /// Its current status.
        status: &'static str,
        /// What was attempted.
        action: &'static str,
    },
    /// The pending transfer passed its expiry.
    #[error("pending transfer `{0}` has expired")]
    TransferExpired(String),
    /// Posting more than was reserved.
    #[error("cannot post {requested}; only {pending} was reserved")]
    PostExceedsPending {
        /// Amount asked for.
        requested: i64,
        /// Amount reserved.
        pending: i64,
    },
    /// The transfer was already reversed.
    #[error("transfer `{0}` has already been reversed")]
    AlreadyReversed(String),
    /// A reversal cannot itself be reversed (post a new transfer instead).
    #[error("transfer `{0}` is a reversal and cannot be reversed")]
    ReversalOfReversal(String),
    /// Debits and credits of a journal entry differ for a currency.
    #[error("journal entry does not balance in {currency}: debits {debits}, credits {credits}")]
    Unbalanced {
        /// Currency concerned.
        currency: Currency,
        /// Sum of debit lines.
        debits: i64,
        /// Sum of credit lines.
        credits: i64,
    },
    /// Closing an account that still holds or reserves money.
    #[error("account `{0}` has a non-zero balance or pending transfers")]
    BalanceNotZero(String),
    /// A balance left the range of i64.
    #[error("a balance would overflow")]
    Overflow,
}

impl From<Overflow> for LedgerError {
    fn from(_: Overflow) -> Self {
        LedgerError::Overflow
    }
}

/// Account status changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// Active -> frozen.
    Freeze,
    /// Frozen -> active.
    Unfreeze,
    /// Active or frozen -> closed, with a zero balance.
    Close,
}

/// A new transfer to apply.
#[derive(Debug, Clone)]
pub struct TransferSpec {
    /// Id of the new transfer.
    pub id: String,
    /// Debited account.
    pub source_account_id: String,
    /// Credited account.
    pub destination_account_id: String,
    /// Amount.
    pub amount: Amount,
    /// Currency, which must be both accounts' currency.
    pub currency: Currency,
    /// Reserve instead of moving.
    pub pending: bool,
    /// Reservation expiry (µs since epoch), pending only.
    pub expires_at_us: Option<i64>,
}

/// The accounts and transfers a batch works on.
#[derive(Debug, Clone, Default)]
pub struct Book {
    /// Accounts by id.
    pub accounts: HashMap<String, Account>,
    /// Transfers by id.
    pub transfers: HashMap<String, Transfer>,
}

/// Changes staged by one command: nothing reaches the book until the command succeeded.
struct Stage<'a> {
    book: &'a mut Book,
    accounts: BTreeMap<String, Account>,
    transfers: BTreeMap<String, Transfer>,
    effects: Effects,
}

impl<'a> Stage<'a> {
    fn new(book: &'a mut Book) -> Self {
        Stage { book, accounts: BTreeMap::new(), transfers: BTreeMap::new(), effects: Effects::default() }
    }

    fn account(&mut self, id: &str) -> Result<&mut Account, LedgerError> {
        if !self.accounts.contains_key(id) {
            let acct = self.book.accounts.get(id).ok_or_else(|| LedgerError::AccountNotFound(id.to_string()))?;
            self.accounts.insert(id.to_string(), acct.clone());
        }
        Ok(self.accounts.get_mut(id).expect("just inserted"))
    }

    fn transfer(&mut self, id: &str) -> Result<&mut Transfer, LedgerError> {
        if !self.transfers.contains_key(id) {
            let t = self.book.transfers.get(id).ok_or_else(|| LedgerError::TransferNotFound(id.to_string()))?;
            self.transfers.insert(id.to_string(), t.clone());
            self.effects.updated_transfers.push(id.to_string());
        }
        Ok(self.transfers.get_mut(id).expect("just inserted"))
    }

    fn create_transfer(&mut self, t: Transfer) {
        self.effects.created_transfers.push(t.id.clone());
        self.transfers.insert(t.id.clone(), t);
    }

    /// Posts `amount` from `debit` to `credit`, appending the two entries.
    fn post(&mut self, debit: &str, credit: &str, amount: i64) -> Result<(), LedgerError> {
        self.entry(debit, Direction::Debit, amount)?;
        self.entry(credit, Direction::Credit, amount)
    }

    fn entry(&mut self, account_id: &str, direction: Direction, amount: i64) -> Result<(), LedgerError> {
        let acct = self.account(account_id)?;
        match direction {
            Direction::Debit => acct.debits_posted = checked_add(acct.debits_posted, amount)?,
            Direction::Credit => acct.credits_posted = checked_add(acct.credits_posted, amount)?,
        }
        let posting = Posting {
            account_id: account_id.to_string(),
            direction,
            amount,
            currency: acct.currency,
            balance_after: acct.posted()?,
        };
        self.effects.postings.push(posting);
        Ok(())
    }

    /// Checks every staged account's limits, then writes the stage into the book.
    fn commit(self) -> Result<Effects, LedgerError> {
        for acct in self.accounts.values() {
            acct.ensure_within_limits()?;
            debug_assert!(acct.debits_pending >= 0 && acct.credits_pending >= 0);
        }
        let mut effects = self.effects;
        for (id, acct) in self.accounts {
            effects.accounts.push(id.clone());
            self.book.accounts.insert(id, acct);
        }
        for (id, t) in self.transfers {
            self.book.transfers.insert(id, t);
        }
        Ok(effects)
    }
}

impl Book {
    /// Applies a new transfer: posted moves money at once, pending reserves it.
    pub fn transfer(&mut self, spec: &TransferSpec) -> Result<Effects, LedgerError> {
        if spec.source_account_id == spec.destination_account_id {
            return Err(LedgerError::SameAccount);
        }
        let mut stage = Stage::new(self);
        let amount = spec.amount.minor();
        for id in [&spec.source_account_id, &spec.destination_account_id] {
            let acct = stage.account(id)?;
            acct.ensure_can_move()?;
            if acct.currency != spec.currency {
                return Err(LedgerError::CurrencyMismatch {
                    account: id.clone(),
                    expected: acct.currency,
                    got: spec.currency,
                });
            }
        }
        if spec.pending {
            let src = stage.account(&spec.source_account_id)?;
            src.debits_pending = checked_add(src.debits_pending, amount)?;
            let dst = stage.account(&spec.destination_account_id)?;
            dst.credits_pending = checked_add(dst.credits_pending, amount)?;
        } else {
            stage.post(&spec.source_account_id, &spec.destination_account_id, amount)?;
        }
        stage.create_transfer(Transfer {
            id: spec.id.clone(),
            source_account_id: spec.source_account_id.clone(),
            destination_account_id: spec.destination_account_id.clone(),
            currency: spec.currency,
            amount,
            posted_amount: if spec.pending { 0 } else { amount },
            status: if spec.pending { TransferStatus::Pending } else { TransferStatus::Posted },
            expires_at_us: if spec.pending { spec.expires_at_us } else { None },
            reversal_of: None,
            reversed_by: None,
        });
        stage.commit()
    }

    /// Posts a pending transfer, in full or for a smaller `amount`; the rest of the
    /// reservation is released.
    pub fn post_pending(&mut self, id: &str, amount: Option<Amount>, now_us: i64) -> Result<Effects, LedgerError> {
        let mut stage = Stage::new(self);
        let t = stage.transfer(id)?;
        ensure_pending(t, "post")?;
        if t.expires_at_us.is_some_and(|e| e <= now_us) {
            return Err(LedgerError::TransferExpired(id.to_string()));
        }
        let reserved = t.amount;
        let post = amount.map_or(reserved, Amount::minor);
        if post > reserved {
            return Err(LedgerError::PostExceedsPending { requested: post, pending: reserved });
        }
        t.status = TransferStatus::Posted;
        t.posted_amount = post;
        let (src, dst) = (t.source_account_id.clone(), t.destination_account_id.clone());
        release(&mut stage, &src, &dst, reserved)?;
        for acct_id in [&src, &dst] {
            stage.account(acct_id)?.ensure_can_move()?;
        }
        stage.post(&src, &dst, post)?;
        stage.commit()
    }

    /// Releases a pending transfer's reservation: by request (`expired == false`) or because
    /// it passed its expiry. Allowed on frozen accounts: releasing money is always safe.
    pub fn void_pending(&mut self, id: &str, expired: bool) -> Result<Effects, LedgerError> {
        let mut stage = Stage::new(self);
        let t = stage.transfer(id)?;
        ensure_pending(t, "void")?;
        t.status = if expired { TransferStatus::Expired } else { TransferStatus::Voided };
        let (src, dst, reserved) = (t.source_account_id.clone(), t.destination_account_id.clone(), t.amount);
        release(&mut stage, &src, &dst, reserved)?;
        stage.commit()
    }

    /// Posts the compensating transfer `new_id` of posted transfer `id`: destination back to
    /// source, for the posted amount. A transfer is reversed at most once.
    pub fn reverse(&mut self, id: &str, new_id: &str) -> Result<Effects, LedgerError> {
        let mut stage = Stage::new(self);
        let t = stage.transfer(id)?;
        if t.status != TransferStatus::Posted {
            return Err(LedgerError::InvalidTransferState {
                id: id.to_string(),
                status: t.status.as_str(),
                action: "reverse",
                needed: "posted",
            });
        }
        if t.reversal_of.is_some() {
            return Err(LedgerError::ReversalOfReversal(id.to_string()));
        }
        if t.reversed_by.is_some() {
            return Err(LedgerError::AlreadyReversed(id.to_string()));
        }
        t.reversed_by = Some(new_id.to_string());
        let original = t.clone();
        for acct_id in [&original.source_account_id, &original.destination_account_id] {
            stage.account(acct_id)?.ensure_can_move()?;
        }
        stage.post(&original.destination_account_id, &original.source_account_id, original.posted_amount)?;
        stage.create_transfer(Transfer {
            id: new_id.to_string(),
            source_account_id: original.destination_account_id.clone(),
            destination_account_id: original.source_account_id.clone(),
            currency: original.currency,
            amount: original.posted_amount,
            posted_amount: original.posted_amount,
            status: TransferStatus::Posted,
            expires_at_us: None,
            reversal_of: Some(original.id.clone()),
            reversed_by: None,
        });
        stage.commit()
    }

    /// Posts a multi-line journal entry. Lines must balance per currency; every line's
    /// account must be active; all lines apply or none.
    pub fn journal(&mut self, lines: &[Line]) -> Result<Effects, LedgerError> {
        let mut stage = Stage::new(self);
        let mut totals: BTreeMap<Currency, (i64, i64)> = BTreeMap::new();
        for line in lines {
            let acct = stage.account(&line.account_id)?;
            acct.ensure_can_move()?;
            let total = totals.entry(acct.currency).or_default();
            match line.direction {
                Direction::Debit => total.0 = checked_add(total.0, line.amount.minor())?,
                Direction::Credit => total.1 = checked_add(total.1, line.amount.minor())?,
            }
        }
        if let Some((currency, (debits, credits))) = totals.iter().find(|(_, (d, c))| d != c) {
            return Err(LedgerError::Unbalanced { currency: *currency, debits: *debits, credits: *credits });
        }
        for line in lines {
            stage.entry(&line.account_id, line.direction, line.amount.minor())?;
        }
        stage.commit()
    }

    /// Freezes, unfreezes or closes an account.
    pub fn change_status(&mut self, id: &str, change: StatusChange) -> Result<Effects, LedgerError> {
        let mut stage = Stage::new(self);
        let acct = stage.account(id)?;
        let refuse = |acct: &Account, action| LedgerError::InvalidAccountState {
            id: acct.id.clone(),
            status: acct.status.as_str(),
            action,
        };
        acct.status = match (change, acct.status) {
            (StatusChange::Freeze, AccountStatus::Active) => AccountStatus::Frozen,
            (StatusChange::Freeze, _) => return Err(refuse(acct, "frozen")),
            (StatusChange::Unfreeze, AccountStatus::Frozen) => AccountStatus::Active,
            (StatusChange::Unfreeze, _) => return Err(refuse(acct, "unfrozen")),
            (StatusChange::Close, AccountStatus::Closed) => return Err(refuse(acct, "closed")),
            (StatusChange::Close, _) => {
                if acct.posted()? != 0 || acct.debits_pending != 0 || acct.credits_pending != 0 {
                    return Err(LedgerError::BalanceNotZero(id.to_string()));
                }
                AccountStatus::Closed
            }
        };
        stage.commit()
    }
}

fn ensure_pending(t: &Transfer, action: &'static str) -> Result<(), LedgerError> {
    if t.status == TransferStatus::Pending {
        Ok(())
    } else {
        Err(LedgerError::InvalidTransferState {
            id: t.id.clone(),
            status: t.status.as_str(),
            action,
            needed: "pending",
        })
    }
}

fn release(stage: &mut Stage<'_>, src: &str, dst: &str, reserved: i64) -> Result<(), LedgerError> {
    let s = stage.account(src)?;
    s.debits_pending = checked_sub(s.debits_pending, reserved)?;
    let d = stage.account(dst)?;
    d.credits_pending = checked_sub(d.credits_pending, reserved)?;
    assert!(s_nonneg(stage, src) && s_nonneg(stage, dst), "pending totals went negative");
    Ok(())
}

fn s_nonneg(stage: &Stage<'_>, id: &str) -> bool {
    stage.accounts.get(id).is_some_and(|a| a.debits_pending >= 0 && a.credits_pending >= 0)
}
