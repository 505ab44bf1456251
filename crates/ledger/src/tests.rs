//! The ledger commands on borrowed state, without a database: what each changes, what it lists
//! to persist, what it refuses, and its audit action and event.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rialto_core::ledger::{Direction, LedgerError, Line, StatusChange, TransferSpec};
use rialto_core::{Amount, Currency, Metadata};

use super::*;

const NOW: i64 = 1_700_000_000_000_000;

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

fn account(id: &str, negative: bool) -> Command {
    Command::CreateAccount(NewAccount {
        id: id.into(),
        currency: usd(),
        user_id: None,
        name: None,
        allow_negative_balance: negative,
        metadata: Metadata::new(),
    })
}

fn transfer(id: &str, from: &str, to: &str, amount: i64, pending: bool) -> Command {
    Command::Transfer(NewTransfer {
        spec: TransferSpec {
            id: id.into(),
            source_account_id: from.into(),
            destination_account_id: to.into(),
            amount: Amount::new(amount).unwrap(),
            currency: usd(),
            pending,
            expires_at_us: None,
        },
        description: None,
        reference: Some("ref-1".into()),
        metadata: Metadata::new(),
    })
}

/// A book with a funding account (may go negative) and two wallets, the first funded with 100.
fn funded() -> (Loaded, ChangeSet) {
    let (mut l, mut c) = (Loaded::default(), ChangeSet::default());
    for cmd in
        [account("fund", true), account("a", false), account("b", false), transfer("t0", "fund", "a", 100, false)]
    {
        apply(&mut l, &mut c, NOW, &cmd).unwrap();
    }
    (l, ChangeSet::default())
}

fn posted(l: &Loaded, id: &str) -> i64 {
    l.accounts[id].account.posted().unwrap()
}

#[test]
fn a_transfer_moves_money_and_lists_its_rows() {
    let (mut l, mut c) = funded();
    let out = apply(&mut l, &mut c, NOW + 1, &transfer("t1", "a", "b", 30, false)).unwrap();
    let Output::Transfer(t) = out else { panic!() };
    assert_eq!((t.transfer.id.as_str(), t.reference.as_deref(), t.created_at_us), ("t1", Some("ref-1"), NOW + 1));
    assert_eq!((posted(&l, "a"), posted(&l, "b")), (70, 30));
    assert_eq!(l.accounts["a"].updated_at_us, NOW + 1);
    assert_eq!(c.new_transfers, BTreeSet::from(["t1".to_string()]));
    assert_eq!(c.touched_accounts, BTreeSet::from(["a".to_string(), "b".to_string()]));
    let e: Vec<(&str, Direction, i64, i64)> =
        c.entries.iter().map(|e| (e.account_id.as_str(), e.direction, e.amount, e.balance_after)).collect();
    assert_eq!(e, [("a", Direction::Debit, 30, 70), ("b", Direction::Credit, 30, 30)]);
    assert!(c.entries.iter().all(|e| e.transfer_id.as_deref() == Some("t1") && e.journal_entry_id.is_none()));
}

#[test]
fn a_refused_command_changes_nothing() {
    let (mut l, mut c) = funded();
    let before = (l.accounts.clone(), l.transfers.clone(), c.clone());
    let refusals = [
        (transfer("t1", "a", "b", 101, false), Error::Ledger(LedgerError::InsufficientFunds("a".into()))),
        (transfer("t1", "a", "nope", 1, false), Error::Ledger(LedgerError::AccountNotFound("nope".into()))),
        (
            Command::CreateAccount(NewAccount { user_id: Some("user_x".into()), ..new_account("c") }),
            Error::UserNotFound("user_x".into()),
        ),
        (
            Command::UpdateUser { user_id: "user_x".into(), status: Some(UserStatus::Blocked), kyc_status: None },
            Error::UserNotFound("user_x".into()),
        ),
        (Command::PostPending { transfer_id: "t0".into(), amount: None }, error_of(&mut l.clone(), "t0")),
    ];
    for (cmd, want) in refusals {
        assert_eq!(apply(&mut l, &mut c, NOW + 1, &cmd), Err(want), "{cmd:?}");
        assert_eq!((&l.accounts, &l.transfers, &c), (&before.0, &before.1, &before.2), "{cmd:?}");
    }
}

fn new_account(id: &str) -> NewAccount {
    let Command::CreateAccount(a) = account(id, false) else { unreachable!() };
    a
}

/// What posting an already posted transfer answers (the engine's own error).
fn error_of(l: &mut Loaded, id: &str) -> Error {
    Error::Ledger(l.book.post_pending(id, None, NOW).unwrap_err())
}

#[test]
fn a_reservation_is_posted_in_part_voided_or_expired() {
    let (mut l, mut c) = funded();
    apply(&mut l, &mut c, NOW, &transfer("p1", "a", "b", 40, true)).unwrap();
    assert_eq!(l.accounts["a"].account.available().unwrap(), 60);
    let post = Command::PostPending { transfer_id: "p1".into(), amount: Some(Amount::new(25).unwrap()) };
    let Output::Transfer(t) = apply(&mut l, &mut c, NOW + 5, &post).unwrap() else { panic!() };
    assert_eq!((t.transfer.posted_amount, t.updated_at_us), (25, NOW + 5));
    assert_eq!((posted(&l, "a"), posted(&l, "b"), l.accounts["a"].account.available().unwrap()), (75, 25, 75));
    assert!(c.touched_transfers.contains("p1"));
    apply(&mut l, &mut c, NOW, &transfer("p2", "a", "b", 10, true)).unwrap();
    apply(&mut l, &mut c, NOW, &Command::VoidPending { transfer_id: "p2".into() }).unwrap();
    apply(&mut l, &mut c, NOW, &transfer("p3", "a", "b", 10, true)).unwrap();
    apply(&mut l, &mut c, NOW, &Command::Expire { transfer_id: "p3".into() }).unwrap();
    assert_eq!(l.accounts["a"].account.available().unwrap(), 75);
    assert_eq!(event(&Command::Expire { transfer_id: "p3".into() }), ("transfer.expired", "transfer"));
    assert_eq!(event(&transfer("x", "a", "b", 1, true)), ("transfer.pending", "transfer"));
}

#[test]
fn a_reversal_is_a_new_transfer_that_names_the_original() {
    let (mut l, mut c) = funded();
    apply(&mut l, &mut c, NOW, &transfer("t1", "a", "b", 30, false)).unwrap();
    let cmd = Command::Reverse { transfer_id: "t1".into(), new_id: "r1".into() };
    let Output::Transfer(r) = apply(&mut l, &mut c, NOW + 1, &cmd).unwrap() else { panic!() };
    assert_eq!(r.transfer.id, "r1");
    assert_eq!((r.description.as_deref(), r.reference.as_deref()), (Some("reversal of t1"), Some("ref-1")));
    assert_eq!((posted(&l, "a"), posted(&l, "b")), (100, 0));
    assert_eq!(cmd.action(), ("transfer.reverse", Some(("transfer", "t1".to_string()))));
    assert_eq!(event(&cmd), ("transfer.reversed", "transfer"));
    assert!(c.new_transfers.contains("r1") && c.touched_transfers.contains("t1"));
}

#[test]
fn a_journal_entry_lists_its_lines_with_balances() {
    let (mut l, mut c) = funded();
    let line = |account: &str, direction, amount| Line {
        account_id: account.into(),
        direction,
        amount: Amount::new(amount).unwrap(),
    };
    let j = Command::Journal(NewJournal {
        id: "je_1".into(),
        lines: vec![
            line("a", Direction::Debit, 60),
            line("b", Direction::Credit, 45),
            line("fund", Direction::Credit, 15),
        ],
        description: Some("split".into()),
        metadata: Metadata::new(),
    });
    let Output::Journal(r) = apply(&mut l, &mut c, NOW, &j).unwrap() else { panic!() };
    let lines: Vec<(&str, i64)> = r.lines.iter().map(|x| (x.account_id.as_str(), x.balance_after)).collect();
    assert_eq!(lines, [("a", 40), ("b", 45), ("fund", -85)]);
    assert_eq!(c.journals, vec![r]);
    assert!(c.entries.iter().all(|e| e.journal_entry_id.as_deref() == Some("je_1") && e.transfer_id.is_none()));
}

#[test]
fn users_are_created_and_updated_once_per_batch() {
    let (mut l, mut c) = (Loaded::default(), ChangeSet::default());
    let new = NewUser { id: "user_1".into(), name: "Ada".into(), email: None, phone: None, role: "customer".into() };
    let Output::User(u) = apply(&mut l, &mut c, NOW, &Command::CreateUser(new)).unwrap() else { panic!() };
    assert_eq!((u.status, u.kyc_status), (UserStatus::Active, KycStatus::Pending));
    let owned = Command::CreateAccount(NewAccount { user_id: Some("user_1".into()), ..new_account("acct") });
    apply(&mut l, &mut c, NOW, &owned).unwrap();
    l.user_records.insert(u.id.clone(), u);
    for (status, kyc) in [(Some(UserStatus::Blocked), None), (None, Some(KycStatus::Verified))] {
        let cmd = Command::UpdateUser { user_id: "user_1".into(), status, kyc_status: kyc };
        apply(&mut l, &mut c, NOW + 1, &cmd).unwrap();
    }
    assert_eq!(c.user_updates.len(), 1, "one row per user, its last state");
    assert_eq!((c.user_updates[0].status, c.user_updates[0].kyc_status), (UserStatus::Blocked, KycStatus::Verified));
    assert_eq!(l.users["user_1"], (UserStatus::Blocked, KycStatus::Verified));
}

#[test]
fn an_account_is_frozen_and_closed_only_when_empty() {
    let (mut l, mut c) = funded();
    let status = |change| Command::ChangeStatus { account_id: "a".into(), change };
    apply(&mut l, &mut c, NOW, &status(StatusChange::Freeze)).unwrap();
    assert!(apply(&mut l, &mut c, NOW, &transfer("t1", "a", "b", 1, false)).is_err());
    apply(&mut l, &mut c, NOW, &status(StatusChange::Unfreeze)).unwrap();
    assert!(matches!(
        apply(&mut l, &mut c, NOW, &status(StatusChange::Close)),
        Err(Error::Ledger(LedgerError::BalanceNotZero(_)))
    ));
    apply(&mut l, &mut c, NOW, &transfer("t1", "a", "fund", 100, false)).unwrap();
    let Output::Account(a) = apply(&mut l, &mut c, NOW, &status(StatusChange::Close)).unwrap() else { panic!() };
    assert_eq!(a.account.status.as_str(), "closed");
    assert_eq!(event(&status(StatusChange::Close)), ("account.closed", "account"));
    assert_eq!(status(StatusChange::Freeze).action().0, "account.freeze");
}

#[test]
fn each_command_names_what_it_loads() {
    let mut k = Keys::default();
    for cmd in [
        transfer("t1", "a", "b", 1, false),
        Command::PostPending { transfer_id: "p1".into(), amount: None },
        Command::ChangeStatus { account_id: "c".into(), change: StatusChange::Freeze },
        Command::CreateAccount(NewAccount { user_id: Some("u1".into()), ..new_account("d") }),
        Command::UpdateUser { user_id: "u2".into(), status: None, kyc_status: None },
    ] {
        cmd.keys(&mut k);
    }
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(k.accounts, set(&["a", "b", "c"]), "a new account is not loaded");
    assert_eq!((k.transfers, k.users, k.updated_users), (set(&["p1"]), set(&["u1"]), set(&["u2"])));
}

proptest! {
    /// Any sequence of transfers, reservations and their settlement keeps each batch's entries
    /// balanced, every balance equal to the sum of its entries, and refusals without trace.
    #[test]
    fn random_batches_stay_balanced(steps in proptest::collection::vec((0usize..4, 0usize..3, 0usize..3, 1i64..80), 1..60)) {
        let (mut l, mut c) = funded();
        let names = ["fund", "a", "b"];
        let mut pending: Vec<String> = Vec::new();
        for (i, (op, from, to, amount)) in steps.into_iter().enumerate() {
            let id = format!("t{i}");
            let cmd = match op {
                0 => transfer(&id, names[from], names[to], amount, false),
                1 => transfer(&id, names[from], names[to], amount, true),
                2 => match pending.pop() {
                    Some(p) => Command::PostPending { transfer_id: p, amount: None },
                    None => continue,
                },
                _ => match pending.pop() {
                    Some(p) => Command::VoidPending { transfer_id: p },
                    None => continue,
                },
            };
            let before = c.clone();
            match apply(&mut l, &mut c, NOW, &cmd) {
                Ok(_) if op == 1 => pending.push(id),
                Ok(_) => {}
                Err(_) => prop_assert_eq!(&c, &before),
            }
        }
        let (debits, credits) = c.entries.iter().fold((0, 0), |(d, k), e| match e.direction {
            Direction::Debit => (d + e.amount, k),
            Direction::Credit => (d, k + e.amount),
        });
        prop_assert_eq!(debits, credits);
        for name in ["a", "b"] {
            let moved: i64 = c.entries.iter().filter(|e| e.account_id == name).map(|e| match e.direction {
                Direction::Debit => -e.amount,
                Direction::Credit => e.amount,
            }).sum();
            let start = if name == "a" { 100 } else { 0 };
            prop_assert_eq!(posted(&l, name), start + moved);
            prop_assert!(l.accounts[name].account.available().unwrap() >= 0);
        }
    }
}
