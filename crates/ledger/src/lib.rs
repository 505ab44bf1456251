//! Rialto's ledger domain: users, accounts, transfers (moves, two-phase reservations posted,
//! voided or expired, reversals), multi-line journal entries and account status, as commands
//! applied to borrowed state ([`Loaded`]) by the pure posting engine (`rialto_core::ledger::Book`).
//!
//! Each command says what it needs loaded and locked ([`Command::keys`]), its audit action
//! ([`Command::action`]) and its event ([`event`]); [`apply`] changes only the loaded state and
//! lists what to persist in a typed [`ChangeSet`] (rows to insert, rows to update, entries).
//! No I/O, no clock: `now` is passed in. Other domains that move money (payments, settlement)
//! fold the book's effects into the same change set through [`Loaded::record_effects`].

use std::collections::{BTreeSet, HashMap};

use rialto_core::ledger::{Book, Direction, Effects, LedgerError, Line, StatusChange, TransferSpec, JOURNAL_LINES_MAX};
use rialto_core::{Amount, Currency, Metadata};

mod records;
#[cfg(test)]
mod tests;

pub use records::{AccountRecord, JournalLine, JournalRecord, KycStatus, TransferRecord, UserRecord, UserStatus};

/// A new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Pre-assigned id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Role.
    pub role: String,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Pre-assigned id.
    pub id: String,
    /// Currency.
    pub currency: Currency,
    /// Owner; must exist.
    pub user_id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// May go below zero (funding, settlement, fee accounts).
    pub allow_negative_balance: bool,
    /// Metadata.
    pub metadata: Metadata,
}

/// A new transfer.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    /// The ledger part.
    pub spec: TransferSpec,
    /// Description.
    pub description: Option<String>,
    /// Client reference.
    pub reference: Option<String>,
    /// Metadata.
    pub metadata: Metadata,
}

/// A new journal entry.
#[derive(Debug, Clone)]
pub struct NewJournal {
    /// Pre-assigned id.
    pub id: String,
    /// Lines (2..=JOURNAL_LINES_MAX).
    pub lines: Vec<Line>,
    /// Description.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: Metadata,
}

/// A ledger command.
#[derive(Debug, Clone)]
pub enum Command {
    /// Create a user.
    CreateUser(NewUser),
    /// Change a user's status (`active|blocked`) or KYC status (`pending|verified|rejected`).
    UpdateUser {
        /// The user.
        user_id: String,
        /// New status.
        status: Option<UserStatus>,
        /// New KYC status.
        kyc_status: Option<KycStatus>,
    },
    /// Open an account.
    CreateAccount(NewAccount),
    /// Move or reserve money.
    Transfer(NewTransfer),
    /// Post a pending transfer, fully or partly.
    PostPending {
        /// The pending transfer.
        transfer_id: String,
        /// Smaller amount to post, if any.
        amount: Option<Amount>,
    },
    /// Release a pending transfer on request.
    VoidPending {
        /// The pending transfer.
        transfer_id: String,
    },
    /// Release a pending transfer past its expiry (the sweeper).
    Expire {
        /// The pending transfer.
        transfer_id: String,
    },
    /// Post the compensating transfer.
    Reverse {
        /// The posted transfer.
        transfer_id: String,
        /// Id of the reversal.
        new_id: String,
    },
    /// Post a multi-line journal entry.
    Journal(NewJournal),
    /// Freeze, unfreeze or close an account.
    ChangeStatus {
        /// The account.
        account_id: String,
        /// The change.
        change: StatusChange,
    },
}

/// What a batch's ledger commands need loaded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Keys {
    /// Transfers (locked).
    pub transfers: BTreeSet<String>,
    /// Accounts (locked).
    pub accounts: BTreeSet<String>,
    /// Users whose status the commands read (owners of new accounts).
    pub users: BTreeSet<String>,
    /// Users being changed (locked, loaded whole).
    pub updated_users: BTreeSet<String>,
}

/// The ledger state a batch works on, loaded by the backend.
#[derive(Debug, Default, Clone)]
pub struct Loaded {
    /// Balances and transfer states.
    pub book: Book,
    /// Accounts with their descriptive fields, by id.
    pub accounts: HashMap<String, AccountRecord>,
    /// Transfers with their descriptive fields, by id.
    pub transfers: HashMap<String, TransferRecord>,
    /// Users the commands read: (status, KYC status), by id.
    pub users: HashMap<String, (UserStatus, KycStatus)>,
    /// Users being changed, whole, by id.
    pub user_records: HashMap<String, UserRecord>,
}

/// One new ledger entry to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRow {
    /// Account.
    pub account_id: String,
    /// The transfer that made it, if any.
    pub transfer_id: Option<String>,
    /// The journal entry that made it, if any.
    pub journal_entry_id: Option<String>,
    /// Debit or credit.
    pub direction: Direction,
    /// Minor units.
    pub amount: i64,
    /// Currency.
    pub currency: Currency,
    /// The account's posted balance after it.
    pub balance_after: i64,
    /// µs.
    pub created_at_us: i64,
}

/// What a batch's ledger commands persist. Rows named by id are written from [`Loaded`] as it
/// stands after the batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    /// New users.
    pub users: Vec<UserRecord>,
    /// Users whose status or KYC status changed (last state of each).
    pub user_updates: Vec<UserRecord>,
    /// New accounts.
    pub new_accounts: BTreeSet<String>,
    /// Accounts whose totals or status changed (new ones included).
    pub touched_accounts: BTreeSet<String>,
    /// New transfers.
    pub new_transfers: BTreeSet<String>,
    /// Transfers whose state changed (new ones included).
    pub touched_transfers: BTreeSet<String>,
    /// New journal entries.
    pub journals: Vec<JournalRecord>,
    /// New entries, in posting order.
    pub entries: Vec<EntryRow>,
}

/// What a ledger command produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A user, after the change.
    User(UserRecord),
    /// An account, after the change.
    Account(AccountRecord),
    /// A transfer, after the change (for a reversal: the new reversal transfer).
    Transfer(TransferRecord),
    /// A journal entry.
    Journal(JournalRecord),
}

/// Why a ledger command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The posting engine refused it.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The referenced user does not exist.
    #[error("no user `{0}`")]
    UserNotFound(String),
}

impl Command {
    /// Adds what this command needs loaded (and locked) to `keys`.
    pub fn keys(&self, k: &mut Keys) {
        match self {
            Command::CreateUser(_) => {}
            Command::UpdateUser { user_id, .. } => {
                k.updated_users.insert(user_id.clone());
            }
            Command::CreateAccount(a) => k.users.extend(a.user_id.clone()),
            Command::Transfer(t) => {
                k.accounts.insert(t.spec.source_account_id.clone());
                k.accounts.insert(t.spec.destination_account_id.clone());
            }
            Command::PostPending { transfer_id, .. }
            | Command::VoidPending { transfer_id }
            | Command::Expire { transfer_id }
            | Command::Reverse { transfer_id, .. } => {
                k.transfers.insert(transfer_id.clone());
            }
            Command::Journal(j) => k.accounts.extend(j.lines.iter().map(|l| l.account_id.clone())),
            Command::ChangeStatus { account_id, .. } => {
                k.accounts.insert(account_id.clone());
            }
        }
    }

    /// The audit action, and the resource the command names before it runs (a reversal is
    /// recorded against the original transfer; its new id is in the event).
    pub fn action(&self) -> (&'static str, Option<(&'static str, String)>) {
        let (action, kind, id) = match self {
            Command::CreateUser(u) => ("user.create", "user", &u.id),
            Command::UpdateUser { user_id, .. } => ("user.update", "user", user_id),
            Command::CreateAccount(a) => ("account.create", "account", &a.id),
            Command::Transfer(t) => ("transfer.create", "transfer", &t.spec.id),
            Command::PostPending { transfer_id, .. } => ("transfer.post", "transfer", transfer_id),
            Command::VoidPending { transfer_id } => ("transfer.void", "transfer", transfer_id),
            Command::Expire { transfer_id } => ("transfer.expire", "transfer", transfer_id),
            Command::Reverse { transfer_id, .. } => ("transfer.reverse", "transfer", transfer_id),
            Command::Journal(j) => ("journal_entry.create", "journal_entry", &j.id),
            Command::ChangeStatus { account_id, change } => {
                let action = match change {
                    StatusChange::Freeze => "account.freeze",
                    StatusChange::Unfreeze => "account.unfreeze",
                    StatusChange::Close => "account.close",
                };
                (action, "account", account_id)
            }
        };
        (action, Some((kind, id.clone())))
    }
}

/// The event a successful command publishes: (type, resource type). Its resource id is the
/// output's (for a reversal: the new reversal transfer).
pub fn event(command: &Command) -> (&'static str, &'static str) {
    match command {
        Command::CreateUser(_) => ("user.created", "user"),
        Command::UpdateUser { .. } => ("user.updated", "user"),
        Command::CreateAccount(_) => ("account.created", "account"),
        Command::ChangeStatus { change: StatusChange::Freeze, .. } => ("account.frozen", "account"),
        Command::ChangeStatus { change: StatusChange::Unfreeze, .. } => ("account.unfrozen", "account"),
        Command::ChangeStatus { change: StatusChange::Close, .. } => ("account.closed", "account"),
        Command::Transfer(t) if t.spec.pending => ("transfer.pending", "transfer"),
        Command::Transfer(_) | Command::PostPending { .. } => ("transfer.posted", "transfer"),
        Command::VoidPending { .. } => ("transfer.voided", "transfer"),
        Command::Expire { .. } => ("transfer.expired", "transfer"),
        Command::Reverse { .. } => ("transfer.reversed", "transfer"),
        Command::Journal(_) => ("journal_entry.posted", "journal_entry"),
    }
}

/// Applies one command to the loaded state at `now`, listing what to persist. A refused command
/// leaves the state and the change set as they were.
pub fn apply(l: &mut Loaded, changes: &mut ChangeSet, now: i64, command: &Command) -> Result<Output, Error> {
    match command {
        Command::CreateUser(u) => Ok(Output::User(create_user(l, changes, now, u))),
        Command::UpdateUser { user_id, status, kyc_status } => {
            let u = l.user_records.get_mut(user_id).ok_or_else(|| Error::UserNotFound(user_id.clone()))?;
            u.status = status.unwrap_or(u.status);
            u.kyc_status = kyc_status.unwrap_or(u.kyc_status);
            u.updated_at_us = now;
            let u = u.clone();
            l.users.insert(u.id.clone(), (u.status, u.kyc_status));
            changes.user_updates.retain(|x| x.id != u.id);
            changes.user_updates.push(u.clone());
            Ok(Output::User(u))
        }
        Command::CreateAccount(a) => create_account(l, changes, now, a).map(Output::Account),
        Command::Transfer(t) => {
            let effects = l.book.transfer(&t.spec)?;
            let record = TransferRecord {
                transfer: l.book.transfers[&t.spec.id].clone(),
                pending: t.spec.pending,
                description: t.description.clone(),
                reference: t.reference.clone(),
                metadata: t.metadata.clone(),
                created_at_us: now,
                updated_at_us: now,
            };
            l.transfers.insert(t.spec.id.clone(), record);
            l.record_effects(changes, now, &effects, Some(&t.spec.id), None);
            Ok(Output::Transfer(l.transfers[&t.spec.id].clone()))
        }
        Command::PostPending { transfer_id, amount } => {
            let effects = l.book.post_pending(transfer_id, *amount, now)?;
            l.record_effects(changes, now, &effects, Some(transfer_id), None);
            Ok(Output::Transfer(l.transfers[transfer_id].clone()))
        }
        Command::VoidPending { transfer_id } | Command::Expire { transfer_id } => {
            let effects = l.book.void_pending(transfer_id, matches!(command, Command::Expire { .. }))?;
            l.record_effects(changes, now, &effects, Some(transfer_id), None);
            Ok(Output::Transfer(l.transfers[transfer_id].clone()))
        }
        Command::Reverse { transfer_id, new_id } => reverse(l, changes, now, transfer_id, new_id).map(Output::Transfer),
        Command::Journal(j) => journal(l, changes, now, j).map(Output::Journal),
        Command::ChangeStatus { account_id, change } => {
            let effects = l.book.change_status(account_id, *change)?;
            l.record_effects(changes, now, &effects, None, None);
            Ok(Output::Account(l.accounts[account_id].clone()))
        }
    }
}

fn create_user(l: &mut Loaded, changes: &mut ChangeSet, now: i64, u: &NewUser) -> UserRecord {
    let user = UserRecord {
        id: u.id.clone(),
        name: u.name.clone(),
        email: u.email.clone(),
        phone: u.phone.clone(),
        role: u.role.clone(),
        status: UserStatus::Active,
        kyc_status: KycStatus::Pending,
        created_at_us: now,
        updated_at_us: now,
    };
    l.users.insert(user.id.clone(), (user.status, user.kyc_status));
    changes.users.push(user.clone());
    user
}

fn create_account(l: &mut Loaded, changes: &mut ChangeSet, now: i64, a: &NewAccount) -> Result<AccountRecord, Error> {
    if let Some(user_id) = &a.user_id {
        if !l.users.contains_key(user_id) {
            return Err(Error::UserNotFound(user_id.clone()));
        }
    }
    let account = rialto_core::ledger::Account::new(a.id.clone(), a.currency, a.allow_negative_balance);
    l.book.accounts.insert(a.id.clone(), account.clone());
    let record = AccountRecord {
        account,
        user_id: a.user_id.clone(),
        name: a.name.clone(),
        metadata: a.metadata.clone(),
        created_at_us: now,
        updated_at_us: now,
    };
    l.accounts.insert(a.id.clone(), record.clone());
    changes.new_accounts.insert(a.id.clone());
    Ok(record)
}

fn reverse(
    l: &mut Loaded,
    changes: &mut ChangeSet,
    now: i64,
    transfer_id: &str,
    new_id: &str,
) -> Result<TransferRecord, Error> {
    let effects = l.book.reverse(transfer_id, new_id)?;
    let reference = l.transfers.get(transfer_id).and_then(|t| t.reference.clone());
    let record = TransferRecord {
        transfer: l.book.transfers[new_id].clone(),
        pending: false,
        description: Some(format!("reversal of {transfer_id}")),
        reference,
        metadata: Metadata::new(),
        created_at_us: now,
        updated_at_us: now,
    };
    l.transfers.insert(new_id.to_string(), record);
    l.record_effects(changes, now, &effects, Some(new_id), None);
    Ok(l.transfers[new_id].clone())
}

fn journal(l: &mut Loaded, changes: &mut ChangeSet, now: i64, j: &NewJournal) -> Result<JournalRecord, Error> {
    debug_assert!(j.lines.len() >= 2 && j.lines.len() <= JOURNAL_LINES_MAX);
    let effects = l.book.journal(&j.lines)?;
    let record = JournalRecord {
        id: j.id.clone(),
        description: j.description.clone(),
        metadata: j.metadata.clone(),
        lines: journal_lines(&effects),
        created_at_us: now,
    };
    changes.journals.push(record.clone());
    l.record_effects(changes, now, &effects, None, Some(&j.id));
    Ok(record)
}

/// A journal entry's lines as posted (with the balance after each).
pub fn journal_lines(effects: &Effects) -> Vec<JournalLine> {
    effects
        .postings
        .iter()
        .map(|p| JournalLine {
            account_id: p.account_id.clone(),
            direction: p.direction,
            amount: p.amount,
            currency: p.currency,
            balance_after: p.balance_after,
        })
        .collect()
}

impl Loaded {
    /// Folds the book's effects of one command into the records (new totals and states, with
    /// `now` as their change time) and the change set (touched rows, new entries naming the
    /// transfer or journal entry that made them).
    pub fn record_effects(
        &mut self,
        changes: &mut ChangeSet,
        now: i64,
        effects: &Effects,
        transfer: Option<&str>,
        journal: Option<&str>,
    ) {
        for id in &effects.accounts {
            if let (Some(record), Some(account)) = (self.accounts.get_mut(id), self.book.accounts.get(id)) {
                record.account = account.clone();
                record.updated_at_us = now;
            }
            changes.touched_accounts.insert(id.clone());
        }
        changes.new_transfers.extend(effects.created_transfers.iter().cloned());
        for id in effects.created_transfers.iter().chain(&effects.updated_transfers) {
            if let (Some(record), Some(t)) = (self.transfers.get_mut(id), self.book.transfers.get(id)) {
                record.transfer = t.clone();
                record.updated_at_us = now;
            }
            changes.touched_transfers.insert(id.clone());
        }
        changes.entries.extend(effects.postings.iter().map(|p| EntryRow {
            account_id: p.account_id.clone(),
            transfer_id: transfer.map(str::to_string),
            journal_entry_id: journal.map(str::to_string),
            direction: p.direction,
            amount: p.amount,
            currency: p.currency,
            balance_after: p.balance_after,
            created_at_us: now,
        }));
    }
}
