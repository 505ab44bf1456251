//! The payments domain without a database: each gate's refusal, holds, reviews, cancellation
//! and refunds on an in-memory book, and properties over random command sequences.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use proptest::prelude::*;
use rialto_core::ledger::{Account, AccountStatus, Book};
use rialto_core::{Amount, Currency, Metadata};

use super::*;

const NOW: i64 = 1_800_000_000_000_000;

/// A risk domain answering what the test says.
#[derive(Default)]
struct Rules {
    blocked: Option<String>,
    verdict: Option<(RiskDecision, &'static str)>,
    accepted: Vec<String>,
}

impl RiskStep for Rules {
    fn blocked(&mut self, _: &NewPayment) -> Option<String> {
        self.blocked.clone()
    }
    fn assess(&mut self, n: &NewPayment) -> Option<Verdict> {
        self.verdict.map(|(decision, reason)| Verdict {
            assessment_id: format!("ra_for_{}", n.id),
            decision,
            reason: reason.into(),
        })
    }
    fn accepted(&mut self, n: &NewPayment) {
        self.accepted.push(n.id.clone());
    }
}

struct World {
    book: Book,
    payments: HashMap<String, PaymentRecord>,
    users: HashMap<String, (UserStatus, KycStatus)>,
    screenings: HashMap<String, (ScreeningStatus, String)>,
    aml_holds: HashMap<String, String>,
    kyc_levels: HashMap<String, KycLevel>,
    paid: HashMap<(String, Currency), (i64, i64)>,
    velocity: HashMap<String, (i64, i64)>,
    limits: LimitsRiskGate,
    kyc: KycComplianceGate,
    changes: ChangeSet,
    rules: Rules,
    next: u32,
}

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

impl World {
    /// A wallet holding `funds` (from a funding account), a merchant and an active payer.
    fn new(funds: i64) -> World {
        let mut book = Book::default();
        for (id, negative) in [("funding", true), ("wallet", false), ("merchant", false)] {
            book.accounts.insert(id.into(), Account::new(id.into(), usd(), negative));
        }
        if funds > 0 {
            let spec = TransferSpec {
                id: "tr_funding".into(),
                source_account_id: "funding".into(),
                destination_account_id: "wallet".into(),
                amount: Amount::new(funds).unwrap(),
                currency: usd(),
                pending: false,
                expires_at_us: None,
            };
            book.transfer(&spec).unwrap();
        }
        World {
            book,
            payments: HashMap::new(),
            users: HashMap::from([("payer".to_string(), (UserStatus::Active, KycStatus::Pending))]),
            screenings: HashMap::new(),
            aml_holds: HashMap::new(),
            kyc_levels: HashMap::new(),
            paid: HashMap::new(),
            velocity: HashMap::new(),
            limits: LimitsRiskGate::default(),
            kyc: KycComplianceGate::default(),
            changes: ChangeSet::default(),
            rules: Rules::default(),
            next: 0,
        }
    }

    fn cx(&mut self) -> (Cx<'_>, &mut Rules) {
        let cx = Cx {
            now: NOW,
            book: &mut self.book,
            payments: &mut self.payments,
            users: &self.users,
            screenings: &self.screenings,
            aml_holds: &self.aml_holds,
            kyc_levels: &self.kyc_levels,
            paid: &mut self.paid,
            velocity: &mut self.velocity,
            risk_gate: &self.limits,
            compliance: &self.kyc,
            changes: &mut self.changes,
        };
        (cx, &mut self.rules)
    }

    fn new_payment(&mut self, amount: i64) -> NewPayment {
        self.next += 1;
        NewPayment {
            id: format!("pay_{}", self.next),
            transfer_id: format!("tr_{}", self.next),
            user_id: "payer".into(),
            source_account_id: "wallet".into(),
            destination_account_id: "merchant".into(),
            amount: Amount::new(amount).unwrap(),
            currency: usd(),
            kind: PaymentKind::Transfer,
            method: PaymentMethod::Card,
            reference: Some("order-1".into()),
            description: None,
            metadata: Metadata::new(),
            context: PaymentContext::default(),
            counterparty_screening: None,
        }
    }

    fn pay_with(&mut self, n: &NewPayment) -> PaymentRecord {
        let (mut cx, rules) = self.cx();
        match create(&mut cx, rules, n).unwrap() {
            Output::Payment(p) => *p,
            other => panic!("{other:?}"),
        }
    }

    fn pay(&mut self, amount: i64) -> PaymentRecord {
        let n = self.new_payment(amount);
        self.pay_with(&n)
    }

    fn review(&mut self, id: &str, approve: bool) -> Result<Output, Error> {
        review(&mut self.cx().0, id, approve, None)
    }

    fn posted(&self, account: &str) -> i64 {
        self.book.accounts[account].posted().unwrap()
    }

    fn available(&self, account: &str) -> i64 {
        self.book.accounts[account].available().unwrap()
    }

    /// Every account's posted balance sums to zero: money is moved, never made.
    fn conserved(&self) -> bool {
        self.book.accounts.values().map(|a| a.posted().unwrap()).sum::<i64>() == 0
    }
}

fn history(p: &PaymentRecord) -> Vec<&str> {
    p.transitions.iter().map(|t| t.to.as_str()).collect()
}

#[test]
fn a_payment_that_passes_every_gate_moves_the_money_and_clears() {
    let mut w = World::new(10_000);
    let p = w.pay(2_500);
    assert_eq!(p.status, PaymentStatus::Completed);
    assert_eq!(history(&p), ["pending", "processing", "completed"]);
    assert_eq!((w.posted("wallet"), w.posted("merchant")), (7_500, 2_500));
    assert_eq!(p.transfer_id.as_deref(), Some("tr_1"));
    assert_eq!(w.changes.cleared, ["pay_1"]);
    assert_eq!(w.changes.transitions.len(), 3);
    assert_eq!(w.changes.movements.len(), 1);
    let note = w.changes.movements[0].new_transfer.clone().unwrap();
    assert_eq!((note.pending, note.description.as_str()), (false, "payment pay_1"));
    assert_eq!(w.rules.accepted, ["pay_1"]);
    assert_eq!(w.velocity["payer"], (1, 2_500));
}

#[test]
fn each_gate_refuses_with_its_code_and_moves_nothing() {
    type Setup = fn(&mut World, &mut NewPayment);
    let cases: &[(&str, Setup)] = &[
        ("account_not_found", |_, n| n.destination_account_id = "nowhere".into()),
        ("account_frozen", |w, _| w.book.accounts.get_mut("merchant").unwrap().status = AccountStatus::Frozen),
        ("account_closed", |w, _| w.book.accounts.get_mut("wallet").unwrap().status = AccountStatus::Closed),
        ("currency_mismatch", |_, n| n.currency = Currency::parse("EUR").unwrap()),
        ("amount_over_limit", |_, n| n.amount = Amount::new(10_000_001).unwrap()),
        ("user_not_found", |_, n| n.user_id = "stranger".into()),
        ("user_blocked", |w, _| {
            w.users.insert("payer".into(), (UserStatus::Blocked, KycStatus::Verified));
        }),
        ("kyc_required", |_, n| n.amount = Amount::new(100_001).unwrap()),
        ("rate_limited", |w, _| w.rules.blocked = Some("device `d1` is blocked".into())),
        ("risk_rejected", |w, _| w.rules.verdict = Some((RiskDecision::Reject, "score 90 is high"))),
        ("risk_blocked", |w, _| w.rules.verdict = Some((RiskDecision::Block, "rule `x` asks to block"))),
        ("insufficient_funds", |_, n| n.amount = Amount::new(10_001).unwrap()),
    ];
    for (code, setup) in cases {
        let mut w = World::new(10_000);
        let mut n = w.new_payment(1_000);
        setup(&mut w, &mut n);
        let before = w.book.accounts.clone();
        let p = w.pay_with(&n);
        assert_eq!((p.status, p.failure_code.as_deref()), (PaymentStatus::Failed, Some(*code)), "{code}: {p:?}");
        assert_eq!(history(&p), ["pending", "processing", "failed"], "{code}");
        assert_eq!(w.book.accounts, before, "{code}: the book is unchanged");
        assert!(w.changes.movements.is_empty() && w.changes.cleared.is_empty(), "{code}");
        assert!(w.rules.accepted.is_empty(), "{code}: the windows do not count it");
        assert!(!w.velocity.contains_key("payer"), "{code}: velocity does not count it");
        assert!(p.transitions[2].reason.as_deref().unwrap().starts_with(code), "{code}");
    }
}

#[test]
fn a_held_payment_reserves_its_funds_until_a_reviewer_decides() {
    for (why, setup) in [
        (
            "the rules",
            (|w: &mut World| w.rules.verdict = Some((RiskDecision::Review, "score 40 is medium"))) as fn(&mut World),
        ),
        ("the limits", |w: &mut World| w.limits.review_above_minor = 500),
    ] {
        let mut w = World::new(10_000);
        setup(&mut w);
        let p = w.pay(1_000);
        assert_eq!(p.status, PaymentStatus::RequiresReview, "{why}");
        assert_eq!((w.posted("wallet"), w.available("wallet")), (10_000, 9_000), "{why}: reserved, not moved");
        assert!(w.changes.movements[0].new_transfer.as_ref().unwrap().pending);
        assert!(w.changes.cleared.is_empty());

        let approved = w.review(&p.id, true).unwrap();
        let Output::Payment(approved) = approved else { panic!() };
        assert_eq!(history(&approved), ["pending", "processing", "requires_review", "completed"]);
        assert_eq!((w.posted("wallet"), w.posted("merchant")), (9_000, 1_000), "{why}");
        assert_eq!(w.changes.cleared, std::slice::from_ref(&p.id));
        assert_eq!(
            w.review(&p.id, true),
            Err(Error::InvalidStateTransition { from: "completed", to: "completed" }),
            "decided once"
        );
    }
}

#[test]
fn a_declined_or_cancelled_hold_releases_the_funds() {
    let mut w = World::new(10_000);
    w.limits.review_above_minor = 500;
    let declined = w.pay(1_000);
    let Output::Payment(d) = w.review(&declined.id, false).unwrap() else { panic!() };
    assert_eq!((d.status, d.failure_code.as_deref()), (PaymentStatus::Failed, Some("declined")));
    let held = w.pay(2_000);
    let Output::Payment(c) = cancel(&mut w.cx().0, &held.id, Some("customer asked".into())).unwrap() else { panic!() };
    assert_eq!(c.status, PaymentStatus::Cancelled);
    assert_eq!((w.posted("wallet"), w.available("wallet"), w.posted("merchant")), (10_000, 10_000, 0));
    assert_eq!(
        cancel(&mut w.cx().0, &held.id, None),
        Err(Error::InvalidStateTransition { from: "cancelled", to: "cancelled" })
    );
    assert_eq!(cancel(&mut w.cx().0, "pay_nope", None), Err(Error::PaymentNotFound("pay_nope".into())));
}

#[test]
fn refunds_return_what_remains_and_never_more() {
    let mut w = World::new(10_000);
    let p = w.pay(1_000);
    let refund_of = |n: u32, amount: Option<i64>| NewRefund {
        payment_id: "pay_1".into(),
        refund_id: format!("re_{n}"),
        transfer_id: format!("tr_re_{n}"),
        amount: amount.map(|a| Amount::new(a).unwrap()),
        reason: None,
    };
    let Output::Refund(r) = refund(&mut w.cx().0, &refund_of(1, Some(300))).unwrap() else { panic!() };
    assert_eq!((r.1.status, r.1.refunded_amount), (PaymentStatus::PartiallyRefunded, 300));
    assert_eq!(
        refund(&mut w.cx().0, &refund_of(2, Some(701))),
        Err(Error::RefundExceedsPayment { requested: 701, remaining: 700 })
    );
    let Output::Refund(r) = refund(&mut w.cx().0, &refund_of(3, None)).unwrap() else { panic!() };
    assert_eq!((r.0.amount, r.1.status, r.1.refunded_amount), (700, PaymentStatus::Refunded, 1_000));
    assert_eq!((w.posted("wallet"), w.posted("merchant")), (10_000, 0));
    assert_eq!(
        refund(&mut w.cx().0, &refund_of(4, None)),
        Err(Error::InvalidStateTransition { from: "refunded", to: "refunded" })
    );
    assert_eq!(w.changes.refunds.len(), 2);
    assert_eq!(p.refunds.len(), 0, "the answer of create is a snapshot");
}

#[test]
fn a_refund_the_merchant_cannot_cover_is_refused_by_the_ledger() {
    let mut w = World::new(10_000);
    w.pay(1_000);
    // The merchant spends what it received; the refund would overdraw it.
    let out = TransferSpec {
        id: "tr_out".into(),
        source_account_id: "merchant".into(),
        destination_account_id: "funding".into(),
        amount: Amount::new(900).unwrap(),
        currency: usd(),
        pending: false,
        expires_at_us: None,
    };
    w.book.transfer(&out).unwrap();
    let r = NewRefund {
        payment_id: "pay_1".into(),
        refund_id: "re_1".into(),
        transfer_id: "tr_re_1".into(),
        amount: None,
        reason: None,
    };
    assert!(matches!(refund(&mut w.cx().0, &r), Err(Error::Ledger(LedgerError::InsufficientFunds(_)))));
    assert_eq!(w.payments["pay_1"].status, PaymentStatus::Completed);
}

/// One step of a random payments history.
#[derive(Debug, Clone)]
enum Step {
    Pay(i64),
    Approve(usize),
    Decline(usize),
    Cancel(usize),
    Refund(usize, Option<i64>),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1i64..3_000).prop_map(Step::Pay),
        (0usize..8).prop_map(Step::Approve),
        (0usize..8).prop_map(Step::Decline),
        (0usize..8).prop_map(Step::Cancel),
        ((0usize..8), proptest::option::of(1i64..3_000)).prop_map(|(i, a)| Step::Refund(i, a)),
    ]
}

proptest! {
    /// Whatever the order of payments, decisions, cancellations and refunds: money is conserved,
    /// no customer account overdraws, the wallet's reservations equal its held payments, every
    /// history step is one the state machine allows, and refunds never exceed the payment.
    #[test]
    fn any_history_keeps_the_books_and_the_state_machine(steps in proptest::collection::vec(step(), 1..40)) {
        let mut w = World::new(20_000);
        w.limits.review_above_minor = 1_500;
        let mut ids: Vec<String> = Vec::new();
        for (n, s) in steps.into_iter().enumerate() {
            let pick = |i: usize| ids.get(i % ids.len().max(1)).cloned().unwrap_or_default();
            match s {
                Step::Pay(a) => ids.push(w.pay(a).id),
                Step::Approve(i) => { let _ = w.review(&pick(i), true); }
                Step::Decline(i) => { let _ = w.review(&pick(i), false); }
                Step::Cancel(i) => { let _ = cancel(&mut w.cx().0, &pick(i), None); }
                Step::Refund(i, a) => {
                    let r = NewRefund { payment_id: pick(i), refund_id: format!("re_{n}"), transfer_id: format!("tr_re_{n}"),
                                        amount: a.map(|a| Amount::new(a).unwrap()), reason: None };
                    let _ = refund(&mut w.cx().0, &r);
                }
            }
        }
        prop_assert!(w.conserved());
        prop_assert!(w.available("wallet") >= 0 && w.available("merchant") >= 0);
        let held: i64 = w.payments.values().filter(|p| p.status == PaymentStatus::RequiresReview).map(|p| p.amount).sum();
        prop_assert_eq!(w.book.accounts["wallet"].debits_pending, held);
        let moved: i64 = w.payments.values()
            .filter(|p| matches!(p.status, PaymentStatus::Completed | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded))
            .map(|p| p.amount - p.refunded_amount).sum();
        prop_assert_eq!(w.posted("merchant"), moved);
        for p in w.payments.values() {
            prop_assert!((0..=p.amount).contains(&p.refunded_amount));
            prop_assert_eq!(p.refunds.iter().map(|r| r.amount).sum::<i64>(), p.refunded_amount);
            for (k, pair) in p.transitions.windows(2).enumerate() {
                let (from, to) = (pair[0].to, pair[1].to);
                prop_assert!(from.can_become(to), "{} -> {}", from, to);
                prop_assert_eq!(pair[1].seq, k as i64 + 2);
            }
        }
        let cleared: std::collections::BTreeSet<&String> = w.changes.cleared.iter().collect();
        prop_assert_eq!(cleared.len(), w.changes.cleared.len(), "a payment clears once");
    }
}

/// Runs a settlement over the clearings of `w`'s completed payments.
fn settle_all(
    w: &mut World,
    system: &mut HashMap<(String, String), String>,
    destination: Option<&str>,
) -> (Vec<SettlementRecord>, SettlementChanges) {
    let clearings: Vec<Clearing> = w
        .changes
        .cleared
        .iter()
        .enumerate()
        .map(|(i, id)| Clearing {
            id: format!("clr_{i}"),
            payment_id: id.clone(),
            destination_account_id: w.payments[id].destination_account_id.clone(),
            currency: w.payments[id].currency,
        })
        .collect();
    let mut changes = SettlementChanges::default();
    let mut n = 0;
    let mut new_id = |kind: NewId| {
        n += 1;
        format!("{kind:?}_{n}").to_lowercase()
    };
    let mut s = Settle {
        now: NOW,
        book: &mut w.book,
        payments: &w.payments,
        system_accounts: system,
        new_id: &mut new_id,
        changes: &mut changes,
    };
    let out = settle(&mut s, clearings, destination, FeeSchedule { fixed_minor: 30, bps: 290 }).unwrap();
    (out, changes)
}

#[test]
fn a_settlement_moves_what_remains_net_of_fees_in_one_journal_entry() {
    let mut w = World::new(100_000);
    let a = w.pay(10_000).id;
    w.pay(5_000);
    let gone = w.pay(700).id;
    let r = |id: &str, n: u32, amount: Option<i64>| NewRefund {
        payment_id: id.into(),
        refund_id: format!("re_{n}"),
        transfer_id: format!("tr_re_{n}"),
        amount: amount.map(|a| Amount::new(a).unwrap()),
        reason: None,
    };
    refund(&mut w.cx().0, &r(&a, 1, Some(1_000))).unwrap();
    refund(&mut w.cx().0, &r(&gone, 2, None)).unwrap();
    let mut system = HashMap::new();
    let (out, changes) = settle_all(&mut w, &mut system, None);
    assert_eq!(out.len(), 1);
    let s = &out[0];
    // 9,000 + 5,000 remain; fees 2 x 30 + ceil(14,000 x 2.9%) = 60 + 406.
    assert_eq!((s.status.as_str(), s.payment_count, s.gross, s.fees, s.net), ("completed", 2, 14_000, 466, 13_534));
    assert_eq!(w.posted("merchant"), 0, "the merchant's balance moved out");
    let fees = &system[&(SYSTEM_FEES.to_string(), "USD".to_string())];
    let net = &system[&(SYSTEM_SETTLEMENT.to_string(), "USD".to_string())];
    assert_eq!((w.posted(fees), w.posted(net)), (466, 13_534));
    assert!(w.conserved());
    assert_eq!(changes.system_accounts.len(), 2);
    assert_eq!(changes.journals.len(), 1);
    assert_eq!(s.journal_entry_id.as_deref(), Some(changes.journals[0].id.as_str()));
    let statuses: Vec<&str> = changes.clearing_updates.iter().map(|(_, st, _)| st.as_str()).collect();
    assert_eq!(statuses, ["completed", "completed", "reversed"], "the refunded payment's clearing is reversed");

    // A second run reuses the system accounts.
    w.changes.cleared.clear();
    w.pay(1_000);
    let (out, changes) = settle_all(&mut w, &mut system, None);
    assert_eq!((out[0].gross, changes.system_accounts.len()), (1_000, 0));
}

#[test]
fn a_settlement_the_merchant_cannot_cover_fails_and_leaves_its_clearings_pending() {
    let mut w = World::new(100_000);
    w.pay(2_000);
    // The merchant paid out what it received before the run.
    let out = TransferSpec {
        id: "tr_out".into(),
        source_account_id: "merchant".into(),
        destination_account_id: "funding".into(),
        amount: Amount::new(1_500).unwrap(),
        currency: usd(),
        pending: false,
        expires_at_us: None,
    };
    w.book.transfer(&out).unwrap();
    let before = w.posted("merchant");
    let (runs, changes) = settle_all(&mut w, &mut HashMap::new(), None);
    assert_eq!(runs[0].status, SettlementStatus::Failed);
    assert!(runs[0].failure_reason.as_deref().unwrap().contains("merchant"), "{:?}", runs[0].failure_reason);
    assert!(changes.clearing_updates.is_empty() && changes.journals.is_empty());
    assert_eq!(w.posted("merchant"), before);
}

#[test]
fn a_settlement_for_one_destination_leaves_the_others() {
    let mut w = World::new(100_000);
    w.book.accounts.insert("shop2".into(), Account::new("shop2".into(), usd(), false));
    w.pay(1_000);
    let mut n = w.new_payment(2_000);
    n.destination_account_id = "shop2".into();
    w.pay_with(&n);
    let (runs, changes) = settle_all(&mut w, &mut HashMap::new(), Some("shop2"));
    assert_eq!((runs.len(), runs[0].destination_account_id.as_str(), runs[0].gross), (1, "shop2", 2_000));
    assert_eq!(changes.clearing_updates.len(), 1);
    assert_eq!(w.posted("merchant"), 1_000);
}

#[test]
fn a_label_needs_its_payment_and_is_appended() {
    let mut w = World::new(10_000);
    let p = w.pay(100);
    let new = |payment_id: &str| NewLabel {
        id: "lbl_1".into(),
        payment_id: payment_id.into(),
        label: "fraud".into(),
        source: "chargeback".into(),
        note: None,
        actor: "key_1".into(),
    };
    let l = label(&mut w.cx().0, &new(&p.id)).unwrap();
    assert_eq!((l.label.as_str(), l.created_at_us), ("fraud", NOW));
    assert_eq!(w.changes.labels, [l]);
    assert_eq!(label(&mut w.cx().0, &new("pay_nope")), Err(Error::PaymentNotFound("pay_nope".into())));
    assert_eq!(w.changes.labels.len(), 1);
}

#[test]
fn a_batch_loads_what_its_payments_commands_name() {
    let mut w = World::new(0);
    let n = w.new_payment(100);
    let settle = |d: Option<&str>| Command::Settle { destination_account_id: d.map(str::to_string) };
    let mut keys = Keys::default();
    Command::Create(Box::new(n)).keys(&mut keys);
    Command::Cancel { payment_id: "pay_9".into(), reason: None }.keys(&mut keys);
    settle(Some("merchant")).keys(&mut keys);
    settle(Some("merchant")).keys(&mut keys);
    assert_eq!(keys.accounts.iter().collect::<Vec<_>>(), ["merchant", "wallet"]);
    assert_eq!(keys.payers.iter().collect::<Vec<_>>(), ["payer"]);
    assert_eq!(keys.payments.iter().collect::<Vec<_>>(), ["pay_9"]);
    assert_eq!(keys.settle, Some(Some("merchant".to_string())), "runs for one destination load only its clearings");
    settle(Some("shop2")).keys(&mut keys);
    assert_eq!(keys.settle, Some(None), "runs for two destinations load all clearings");
    assert_eq!(settle(None).action(), ("settlement.run", None));
    let review = Command::Review { payment_id: "pay_9".into(), approve: false, note: None, label: None };
    assert_eq!(review.action(), ("payment.decline", Some(("payment", "pay_9".to_string()))));
}
