//! Property tests of the posting engine: whatever sequence of commands arrives, the book
//! stays balanced, no account without `allow_negative_balance` goes below zero available,
//! running totals match the postings, and a refused command changes nothing.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rialto_core::ledger::{Account, Book, Direction, Line, StatusChange, TransferSpec, TransferStatus};
use rialto_core::{Amount, Currency};

#[derive(Debug, Clone)]
enum Op {
    Transfer { src: usize, dst: usize, amount: i64, pending: bool },
    Post { t: usize, amount: Option<i64> },
    Void { t: usize },
    Reverse { t: usize },
    Journal { a: usize, b: usize, c: usize, amount: i64, split: i64 },
    Status { a: usize, change: u8 },
}

const ACCOUNTS: usize = 6;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..ACCOUNTS, 0..ACCOUNTS, 1i64..2_000, any::<bool>())
            .prop_map(|(src, dst, amount, pending)| Op::Transfer { src, dst, amount, pending }),
        2 => (0..40usize, proptest::option::of(1i64..2_000)).prop_map(|(t, amount)| Op::Post { t, amount }),
        1 => (0..40usize).prop_map(|t| Op::Void { t }),
        1 => (0..40usize).prop_map(|t| Op::Reverse { t }),
        1 => (0..ACCOUNTS, 0..ACCOUNTS, 0..ACCOUNTS, 2i64..1_000, 1i64..1_000)
            .prop_map(|(a, b, c, amount, split)| Op::Journal { a, b, c, amount, split }),
        1 => (0..ACCOUNTS, 0u8..3).prop_map(|(a, change)| Op::Status { a, change }),
    ]
}

fn id(i: usize) -> String {
    format!("acct_{i}")
}

fn book() -> Book {
    let mut b = Book::default();
    let usd = Currency::parse("USD").unwrap();
    for i in 0..ACCOUNTS {
        // Account 0 is the funding account: it may go negative. Account 5 is in EUR.
        let currency = if i == 5 { Currency::parse("EUR").unwrap() } else { usd };
        b.accounts.insert(id(i), Account::new(id(i), currency, i == 0));
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold(ops in proptest::collection::vec(op(), 1..120)) {
        let mut book = book();
        let mut transfers: Vec<String> = Vec::new();
        let mut net: std::collections::HashMap<String, i64> = Default::default();
        let usd = Currency::parse("USD").unwrap();
        for (n, op) in ops.into_iter().enumerate() {
            let before = book.clone();
            let result = match op {
                Op::Transfer { src, dst, amount, pending } => {
                    let new_id = format!("tr_{n}");
                    let r = book.transfer(&TransferSpec {
                        id: new_id.clone(), source_account_id: id(src), destination_account_id: id(dst),
                        amount: Amount::new(amount).unwrap(), currency: usd, pending, expires_at_us: None,
                    });
                    if r.is_ok() { transfers.push(new_id); }
                    r
                }
                Op::Post { t, amount } => match transfers.get(t) {
                    Some(tid) => book.post_pending(tid, amount.map(|a| Amount::new(a).unwrap()), 0),
                    None => continue,
                },
                Op::Void { t } => match transfers.get(t) {
                    Some(tid) => book.void_pending(tid, false),
                    None => continue,
                },
                Op::Reverse { t } => match transfers.get(t) {
                    Some(tid) => {
                        let new_id = format!("tr_{n}");
                        let r = book.reverse(tid, &new_id);
                        if r.is_ok() { transfers.push(new_id); }
                        r
                    }
                    None => continue,
                },
                Op::Journal { a, b, c, amount, split } => {
                    let split = split.min(amount - 1);
                    book.journal(&[
                        Line { account_id: id(a), direction: Direction::Debit, amount: Amount::new(amount).unwrap() },
                        Line { account_id: id(b), direction: Direction::Credit, amount: Amount::new(split).unwrap() },
                        Line { account_id: id(c), direction: Direction::Credit, amount: Amount::new(amount - split).unwrap() },
                    ])
                }
                Op::Status { a, change } => {
                    let change = [StatusChange::Freeze, StatusChange::Unfreeze, StatusChange::Close][change as usize];
                    book.change_status(&id(a), change)
                }
            };
            match result {
                Err(_) => {
                    // A refused command leaves the book exactly as it was.
                    prop_assert_eq!(book.accounts.clone(), before.accounts);
                    prop_assert_eq!(book.transfers.len(), before.transfers.len());
                }
                Ok(effects) => {
                    let mut per_currency: std::collections::HashMap<Currency, i64> = Default::default();
                    for p in &effects.postings {
                        let signed = if p.direction == Direction::Credit { p.amount } else { -p.amount };
                        *per_currency.entry(p.currency).or_default() += signed;
                        *net.entry(p.account_id.clone()).or_default() += signed;
                        prop_assert_eq!(p.balance_after, net[&p.account_id], "balance_after is the running balance");
                        prop_assert!(p.amount > 0);
                    }
                    prop_assert!(per_currency.values().all(|v| *v == 0), "unbalanced postings {:?}", effects);
                }
            }
            for a in book.accounts.values() {
                prop_assert!(a.debits_pending >= 0 && a.credits_pending >= 0);
                if !a.allow_negative_balance {
                    prop_assert!(a.available().unwrap() >= 0, "{} overdrawn", a.id);
                }
                prop_assert_eq!(a.posted().unwrap(), net.get(&a.id).copied().unwrap_or(0));
            }
            // Pending totals equal the sum of pending transfers.
            for a in book.accounts.values() {
                let out: i64 = book.transfers.values()
                    .filter(|t| t.status == TransferStatus::Pending && t.source_account_id == a.id).map(|t| t.amount).sum();
                let inc: i64 = book.transfers.values()
                    .filter(|t| t.status == TransferStatus::Pending && t.destination_account_id == a.id).map(|t| t.amount).sum();
                prop_assert_eq!((a.debits_pending, a.credits_pending), (out, inc));
            }
        }
    }
}
