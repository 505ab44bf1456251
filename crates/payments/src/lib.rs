//! Rialto's payments domain, as pure functions over borrowed state: the lifecycle state machine,
//! the gates in their order (accounts, risk, compliance, the risk rules, balance and ledger),
//! review decisions, cancellation, refunds, clearing, settlement runs and their fees.
//!
//! The shape every domain shares:
//! - the backend loads (and locks) what a command needs into the state a [`Cx`] borrows;
//! - [`create`], [`review`], [`cancel`], [`refund`] and [`settle`] decide, changing only that state, and
//!   say what to persist in a typed [`ChangeSet`] (payments, transitions, refunds, clearings,
//!   and the ledger effects of the money they moved);
//! - the engine persists the change set in the batch's transaction, with the command's event,
//!   audit record and idempotency record.
//!
//! No I/O, no async, no clock (`now` comes in the [`Cx`]). The risk rules and models, which
//! live in their own domain, are reached through the [`RiskStep`] trait the engine implements.

mod command;
mod fees;
mod gates;
mod labels;
mod limits;
mod record;
mod settlement;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};

use rialto_core::ledger::{Book, Effects, LedgerError, TransferSpec};
use rialto_core::Amount;

pub use command::{Command, Keys};
pub use fees::{fee, FeeSchedule};
pub use gates::{
    ComplianceGate, Decision, KycComplianceGate, KycFacts, KycLevel, KycStatus, LimitsRiskGate, PaymentFacts,
    PaymentKind, PaymentMethod, PaymentStatus, RiskGate, ScreeningStatus, UserStatus,
};
pub use labels::{label, LabelRecord, NewLabel, LABELS, LABEL_SOURCES};
pub use limits::Limits;
pub use record::{
    Counterparty, Location, NewPayment, NewRefund, PaymentContext, PaymentRecord, RefundRecord, Transition,
};
pub use settlement::{
    settle, Clearing, ClearingStatus, Journal, NewId, Settle, SettlementChanges, SettlementRecord, SettlementStatus,
    SystemAccount, SYSTEM_FEES, SYSTEM_SETTLEMENT,
};

/// Why a payments command was refused. A payment that a gate refuses is not an error: it is a
/// `failed` payment with its `failure_code`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// No such payment (or it was not loaded).
    #[error("no payment `{0}`")]
    PaymentNotFound(String),
    /// The state machine does not allow the change.
    #[error("a {from} payment cannot become {to}")]
    InvalidStateTransition {
        /// Current status.
        from: &'static str,
        /// Wanted status.
        to: &'static str,
    },
    /// More than what remains to refund.
    #[error("refund of {requested} exceeds the {remaining} that remains")]
    RefundExceedsPayment {
        /// Asked for, minor units.
        requested: i64,
        /// Still refundable, minor units.
        remaining: i64,
    },
    /// The ledger refused a movement the command needs (a refund the merchant cannot cover).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// What a payments command answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// The payment after the command.
    Payment(Box<PaymentRecord>),
    /// A refund and its payment after it.
    Refund(Box<(RefundRecord, PaymentRecord)>),
    /// A label.
    Label(LabelRecord),
}

/// The risk verdict of the rules and models on a new payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The stored, explained assessment.
    pub assessment_id: String,
    /// What the rules and models decided.
    pub decision: RiskDecision,
    /// Why, in words.
    pub reason: String,
}

/// The risk domain's decision, as the payments domain acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskDecision {
    /// Go on.
    Approve,
    /// Hold for a reviewer.
    Review,
    /// Refuse (`risk_rejected`).
    Reject,
    /// Refuse (`risk_blocked`).
    Block,
}

/// The risk rules and models, as a new payment meets them (implemented by the engine over the
/// risk domain's loaded state: rules, lists, windows, blocks, serving models).
pub trait RiskStep {
    /// Why the payment is refused at once, when one of its keys is blocked by a rate limit.
    fn blocked(&mut self, payment: &NewPayment) -> Option<String>;
    /// The assessment of the live rules and models; none when nothing is live.
    fn assess(&mut self, payment: &NewPayment) -> Option<Verdict>;
    /// The payment moved (or reserved) money: the risk windows count it from now on.
    fn accepted(&mut self, payment: &NewPayment);
}

/// A ledger movement a command made: its effects and the transfer they belong to.
#[derive(Debug, Clone)]
pub struct Movement {
    /// The book's effects (postings, touched accounts, created and updated transfers).
    pub effects: Effects,
    /// The transfer the postings belong to.
    pub transfer_id: String,
    /// Set when the movement created its transfer: how the transfer is described.
    pub new_transfer: Option<NewTransferNote>,
}

/// The descriptive fields of a transfer a payments command created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransferNote {
    /// Whether it is a hold (pending).
    pub pending: bool,
    /// `payment …` or `refund … of payment …`.
    pub description: String,
    /// The payment's client reference.
    pub reference: Option<String>,
}

/// What the payments commands of a batch persist, in the order they happened.
#[derive(Debug, Default)]
pub struct ChangeSet {
    /// Payments created (their full rows).
    pub new_payments: BTreeSet<String>,
    /// Payments changed (status, refunded amount, transfer, failure).
    pub touched_payments: BTreeSet<String>,
    /// New history rows: (payment id, transition).
    pub transitions: Vec<(String, Transition)>,
    /// New refunds.
    pub refunds: Vec<RefundRecord>,
    /// Payments that completed: each gets a pending clearing for the next settlement run.
    pub cleared: Vec<String>,
    /// Money moved, in order.
    pub movements: Vec<Movement>,
    /// New labels.
    pub labels: Vec<LabelRecord>,
}

/// The state a payments command works on, borrowed from the batch.
pub struct Cx<'a> {
    /// The batch's time, µs.
    pub now: i64,
    /// The ledger book holding the loaded accounts and transfers.
    pub book: &'a mut Book,
    /// The loaded payments, by id.
    pub payments: &'a mut HashMap<String, PaymentRecord>,
    /// The loaded payers: (status, KYC status), by user id.
    pub users: &'a HashMap<String, (UserStatus, KycStatus)>,
    /// The loaded payers' sanctions screening: (status, reason), by user id.
    pub screenings: &'a HashMap<String, (ScreeningStatus, String)>,
    /// Payers whose open compliance case holds their payments, with why.
    pub aml_holds: &'a HashMap<String, String>,
    /// The loaded payers' KYC levels, when the gate checks KYC limits (else empty).
    pub kyc_levels: &'a HashMap<String, KycLevel>,
    /// Per (payer, currency), what was paid over the last day and 30 days, updated as the
    /// batch pays (loaded with the levels).
    pub paid: &'a mut HashMap<(String, rialto_core::Currency), (i64, i64)>,
    /// Per payer, (count, sum) of recent payments, updated as the batch pays.
    pub velocity: &'a mut HashMap<String, (i64, i64)>,
    /// The risk gate (limits and velocity).
    pub risk_gate: &'a dyn RiskGate,
    /// The compliance gate.
    pub compliance: &'a dyn ComplianceGate,
    /// What to persist.
    pub changes: &'a mut ChangeSet,
}

impl Cx<'_> {
    fn transition(&mut self, id: &str, to: PaymentStatus, reason: Option<String>) -> Result<(), Error> {
        let now = self.now;
        let p = self.payments.get_mut(id).ok_or_else(|| Error::PaymentNotFound(id.to_string()))?;
        if !p.status.can_become(to) {
            return Err(Error::InvalidStateTransition { from: p.status.as_str(), to: to.as_str() });
        }
        let seq = i64::try_from(p.transitions.len()).unwrap_or(i64::MAX) + 1;
        let t = Transition { seq, from: Some(p.status), to, reason, at_us: now };
        self.changes.transitions.push((id.to_string(), t.clone()));
        p.transitions.push(t);
        p.status = to;
        p.updated_at_us = now;
        self.changes.touched_payments.insert(id.to_string());
        if to == PaymentStatus::Completed {
            self.changes.cleared.push(id.to_string());
        }
        Ok(())
    }

    fn fail(&mut self, id: &str, code: &str, reason: String) -> Result<(), Error> {
        self.transition(id, PaymentStatus::Failed, Some(format!("{code}: {reason}")))?;
        if let Some(p) = self.payments.get_mut(id) {
            p.failure_code = Some(code.to_string());
            p.failure_reason = Some(reason);
        }
        Ok(())
    }

    fn moved(&mut self, effects: Effects, transfer_id: &str, new_transfer: Option<NewTransferNote>) {
        self.changes.movements.push(Movement { effects, transfer_id: transfer_id.to_string(), new_transfer });
    }

    fn output(&self, id: &str) -> Result<Output, Error> {
        self.payments
            .get(id)
            .map(|p| Output::Payment(Box::new(p.clone())))
            .ok_or_else(|| Error::PaymentNotFound(id.to_string()))
    }

    /// Why an account cannot take part in `n`, as (failure code, reason).
    fn account_problem(&self, id: &str, n: &NewPayment) -> Option<(&'static str, String)> {
        use rialto_core::ledger::AccountStatus;
        match self.book.accounts.get(id) {
            None => Some(("account_not_found", format!("no account `{id}`"))),
            Some(a) if a.status != AccountStatus::Active => Some((
                if a.status == AccountStatus::Frozen { "account_frozen" } else { "account_closed" },
                format!("account `{id}` is {}", a.status.as_str()),
            )),
            Some(a) if a.currency != n.currency => Some((
                "currency_mismatch",
                format!("account `{id}` holds {} not {}", a.currency.code(), n.currency.code()),
            )),
            Some(_) => None,
        }
    }
}

/// The failure code of a ledger refusal.
pub fn ledger_code(e: &LedgerError) -> &'static str {
    match e {
        LedgerError::AccountNotFound(_) => "account_not_found",
        LedgerError::CurrencyMismatch { .. } => "currency_mismatch",
        LedgerError::InsufficientFunds(_) => "insufficient_funds",
        LedgerError::AccountFrozen(_) => "account_frozen",
        LedgerError::AccountClosed(_) => "account_closed",
        _ => "ledger_refused",
    }
}

/// Creates a payment and runs it through the gates. A refusal is a `failed` payment (an
/// answer, not an error): no money moves, `failure_code` says why.
pub fn create(cx: &mut Cx<'_>, risk: &mut dyn RiskStep, n: &NewPayment) -> Result<Output, Error> {
    open(cx, n)?;
    match gates(cx, risk, n) {
        Gates::Refused(code, reason) => cx.fail(&n.id, code, reason)?,
        Gates::Passed { review } => move_money(cx, risk, n, review)?,
    }
    cx.output(&n.id)
}

/// The new payment, `pending` then `processing`.
fn open(cx: &mut Cx<'_>, n: &NewPayment) -> Result<(), Error> {
    let now = cx.now;
    let first =
        Transition { seq: 1, from: None, to: PaymentStatus::Pending, reason: Some("created".into()), at_us: now };
    cx.changes.transitions.push((n.id.clone(), first.clone()));
    cx.payments.insert(
        n.id.clone(),
        PaymentRecord {
            id: n.id.clone(),
            user_id: n.user_id.clone(),
            source_account_id: n.source_account_id.clone(),
            destination_account_id: n.destination_account_id.clone(),
            amount: n.amount.minor(),
            currency: n.currency,
            kind: n.kind,
            method: n.method,
            status: PaymentStatus::Pending,
            refunded_amount: 0,
            transfer_id: None,
            reference: n.reference.clone(),
            description: n.description.clone(),
            metadata: n.metadata.clone(),
            context: n.context.clone(),
            failure_code: None,
            failure_reason: None,
            created_at_us: now,
            updated_at_us: now,
            risk_assessment_id: None,
            transitions: vec![first],
            refunds: Vec::new(),
        },
    );
    cx.changes.new_payments.insert(n.id.clone());
    cx.transition(&n.id, PaymentStatus::Processing, Some("gates".into()))
}

/// What the gates before the ledger decided.
enum Gates {
    /// Refused: the failure code and reason.
    Refused(&'static str, String),
    /// Passed; held for review when any gate asked, saying why.
    Passed { review: Vec<String> },
}

/// The gates in order, up to the ledger: accounts, limits, compliance, rate-limit blocks, the
/// risk rules and models (whose assessment is linked to the payment even when it refuses).
fn gates(cx: &mut Cx<'_>, risk: &mut dyn RiskStep, n: &NewPayment) -> Gates {
    // 1. Accounts: both exist, are active, and hold the payment's currency.
    for id in [&n.source_account_id, &n.destination_account_id] {
        if let Some((code, reason)) = cx.account_problem(id, n) {
            return Gates::Refused(code, reason);
        }
    }
    // 2. Risk limits, then 3. compliance.
    let (count, sum) = cx.velocity.get(&n.user_id).copied().unwrap_or((0, 0));
    let facts = PaymentFacts {
        amount_minor: n.amount.minor(),
        currency: n.currency,
        user: cx.users.get(&n.user_id).cloned(),
        recent_count: count,
        recent_sum_minor: sum,
        screening: worst(cx.screenings.get(&n.user_id), n.counterparty_screening.as_ref()),
        aml_hold: cx.aml_holds.get(&n.user_id).cloned(),
        kyc: cx.kyc_levels.get(&n.user_id).map(|&level| {
            let (day_sum, month_sum) = cx.paid.get(&(n.user_id.clone(), n.currency)).copied().unwrap_or((0, 0));
            KycFacts { level, day_sum, month_sum }
        }),
    };
    let mut review = Vec::new();
    for decision in [cx.risk_gate.assess(&facts), cx.compliance.check(&facts)] {
        match decision {
            Decision::Approve => {}
            Decision::Review(why) => review.push(why),
            Decision::Reject { code, reason } => return Gates::Refused(code, reason),
        }
    }
    // 2b. A key (user, device...) that a `rate_limit` rule blocked refuses at once.
    if let Some(reason) = risk.blocked(n) {
        return Gates::Refused("rate_limited", reason);
    }
    // 2c. The risk rules (as data): an explained assessment, stored with the payment.
    if let Some(v) = risk.assess(n) {
        if let Some(p) = cx.payments.get_mut(&n.id) {
            p.risk_assessment_id = Some(v.assessment_id);
        }
        match v.decision {
            RiskDecision::Approve => {}
            RiskDecision::Review => review.push(v.reason),
            RiskDecision::Reject => return Gates::Refused("risk_rejected", v.reason),
            RiskDecision::Block => return Gates::Refused("risk_blocked", v.reason),
        }
    }
    Gates::Passed { review }
}

/// The graver of two screening findings (a hit over a review over clear).
fn worst(
    a: Option<&(ScreeningStatus, String)>,
    b: Option<&(ScreeningStatus, String)>,
) -> Option<(ScreeningStatus, String)> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.0 > x.0 { y.clone() } else { x.clone() }),
        (x, y) => x.or(y).cloned(),
    }
}

/// The balance and ledger gates: a held payment reserves its funds as a pending transfer; the
/// windows and the payer's velocity count it from now on.
fn move_money(cx: &mut Cx<'_>, risk: &mut dyn RiskStep, n: &NewPayment, review: Vec<String>) -> Result<(), Error> {
    let hold = !review.is_empty();
    let spec = TransferSpec {
        id: n.transfer_id.clone(),
        source_account_id: n.source_account_id.clone(),
        destination_account_id: n.destination_account_id.clone(),
        amount: n.amount,
        currency: n.currency,
        pending: hold,
        expires_at_us: None,
    };
    let effects = match cx.book.transfer(&spec) {
        Ok(e) => e,
        Err(e) => return cx.fail(&n.id, ledger_code(&e), e.to_string()),
    };
    let note =
        NewTransferNote { pending: hold, description: format!("payment {}", n.id), reference: n.reference.clone() };
    cx.moved(effects, &spec.id, Some(note));
    risk.accepted(n);
    let entry = cx.velocity.entry(n.user_id.clone()).or_insert((0, 0));
    *entry = (entry.0 + 1, entry.1.saturating_add(n.amount.minor()));
    if cx.kyc_levels.contains_key(&n.user_id) {
        let paid = cx.paid.entry((n.user_id.clone(), n.currency)).or_insert((0, 0));
        *paid = (paid.0.saturating_add(n.amount.minor()), paid.1.saturating_add(n.amount.minor()));
    }
    if let Some(p) = cx.payments.get_mut(&n.id) {
        p.transfer_id = Some(spec.id.clone());
    }
    if hold {
        cx.transition(&n.id, PaymentStatus::RequiresReview, Some(review.join("; ")))
    } else {
        cx.transition(&n.id, PaymentStatus::Completed, Some("all gates passed".into()))
    }
}

/// A reviewer's decision on a held payment: approve posts the held transfer, decline releases it.
pub fn review(cx: &mut Cx<'_>, id: &str, approve: bool, note: Option<String>) -> Result<Output, Error> {
    let p = cx.payments.get(id).ok_or_else(|| Error::PaymentNotFound(id.to_string()))?;
    let target = if approve { PaymentStatus::Completed } else { PaymentStatus::Failed };
    if p.status != PaymentStatus::RequiresReview {
        return Err(Error::InvalidStateTransition { from: p.status.as_str(), to: target.as_str() });
    }
    let transfer_id = p.transfer_id.clone().ok_or_else(|| Error::PaymentNotFound(id.to_string()))?;
    if approve {
        match cx.book.post_pending(&transfer_id, None, cx.now) {
            Ok(effects) => {
                cx.moved(effects, &transfer_id, None);
                cx.transition(id, PaymentStatus::Completed, Some(note.unwrap_or_else(|| "approved".into())))?;
            }
            Err(e) => {
                // The hold stays where the ledger left it; release it so no money stays reserved.
                if let Ok(effects) = cx.book.void_pending(&transfer_id, false) {
                    cx.moved(effects, &transfer_id, None);
                }
                cx.fail(id, ledger_code(&e), e.to_string())?;
            }
        }
    } else {
        let effects = cx.book.void_pending(&transfer_id, false)?;
        cx.moved(effects, &transfer_id, None);
        let reason = note.unwrap_or_else(|| "declined by a reviewer".into());
        cx.fail(id, "declined", reason)?;
    }
    cx.output(id)
}

/// Cancels a pending or held payment, releasing a hold.
pub fn cancel(cx: &mut Cx<'_>, id: &str, reason: Option<String>) -> Result<Output, Error> {
    let p = cx.payments.get(id).ok_or_else(|| Error::PaymentNotFound(id.to_string()))?;
    if !p.status.can_become(PaymentStatus::Cancelled) {
        return Err(Error::InvalidStateTransition { from: p.status.as_str(), to: "cancelled" });
    }
    if let (PaymentStatus::RequiresReview, Some(t)) = (p.status, p.transfer_id.clone()) {
        let effects = cx.book.void_pending(&t, false)?;
        cx.moved(effects, &t, None);
    }
    cx.transition(id, PaymentStatus::Cancelled, Some(reason.unwrap_or_else(|| "cancelled".into())))?;
    cx.output(id)
}

/// Refunds part or all of what remains of a completed payment.
pub fn refund(cx: &mut Cx<'_>, r: &NewRefund) -> Result<Output, Error> {
    let now = cx.now;
    let p = cx.payments.get(&r.payment_id).ok_or_else(|| Error::PaymentNotFound(r.payment_id.clone()))?;
    if !matches!(p.status, PaymentStatus::Completed | PaymentStatus::PartiallyRefunded) {
        return Err(Error::InvalidStateTransition { from: p.status.as_str(), to: "refunded" });
    }
    let remaining = p.amount - p.refunded_amount;
    let amount = r.amount.map_or(remaining, Amount::minor);
    if amount > remaining {
        return Err(Error::RefundExceedsPayment { requested: amount, remaining });
    }
    let spec = TransferSpec {
        id: r.transfer_id.clone(),
        source_account_id: p.destination_account_id.clone(),
        destination_account_id: p.source_account_id.clone(),
        amount: Amount::new(amount).map_err(|_| Error::RefundExceedsPayment { requested: amount, remaining })?,
        currency: p.currency,
        pending: false,
        expires_at_us: None,
    };
    let effects = cx.book.transfer(&spec)?;
    let description = format!("refund {} of payment {}", r.refund_id, r.payment_id);
    cx.moved(effects, &spec.id, Some(NewTransferNote { pending: false, description, reference: None }));
    let refund = RefundRecord {
        id: r.refund_id.clone(),
        payment_id: r.payment_id.clone(),
        amount,
        transfer_id: spec.id.clone(),
        reason: r.reason.clone(),
        created_at_us: now,
    };
    cx.changes.refunds.push(refund.clone());
    let to = if amount == remaining { PaymentStatus::Refunded } else { PaymentStatus::PartiallyRefunded };
    cx.transition(&r.payment_id, to, Some(format!("refund {} of {amount}", refund.id)))?;
    let p = cx.payments.get_mut(&r.payment_id).ok_or_else(|| Error::PaymentNotFound(r.payment_id.clone()))?;
    p.refunded_amount += amount;
    p.refunds.push(refund.clone());
    Ok(Output::Refund(Box::new((refund, p.clone()))))
}
