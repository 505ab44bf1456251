//! Payments in the writer: the gates, in order (accounts, risk, compliance, balance, ledger),
//! review decisions, cancellation and refunds. Each runs inside the batch like any command:
//! the payment row, its transitions, its transfer and entries, its event and its audit record
//! commit together.

use rialto_core::ledger::{LedgerError, TransferSpec};
use rialto_core::payment::{ComplianceGate, Decision, PaymentFacts, PaymentStatus, RiskGate};

use super::*;
use crate::records::{currency, metadata_from};
use crate::sql::Fetch;

/// The gates a payment passes, and the velocity window they see.
#[derive(Clone)]
pub struct Policies {
    /// Risk gate.
    pub risk: Arc<dyn RiskGate>,
    /// Compliance gate.
    pub compliance: Arc<dyn ComplianceGate>,
    /// The window of the per-user counts given to the gates, µs.
    pub velocity_window_us: i64,
    /// Settlement fees.
    pub fees: super::FeeSchedule,
    /// Where the risk rules' windows live.
    pub windows: Arc<crate::windows::Windows>,
    /// Risk score thresholds of the levels.
    pub thresholds: rialto_risk::Thresholds,
    /// The time zone of `hour_of_day` / `day_of_week` (rules and models).
    pub time_zone: rialto_risk::TimeZone,
    /// Fraud model serving (parsed models, the inference runner and its timeout).
    pub models: Arc<super::ModelServer>,
}

impl std::fmt::Debug for Policies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policies").field("velocity_window_us", &self.velocity_window_us).finish_non_exhaustive()
    }
}

impl Default for Policies {
    fn default() -> Self {
        let risk = rialto_core::payment::LimitsRiskGate::default();
        let window = risk.velocity_window_secs.saturating_mul(1_000_000);
        Policies {
            risk: Arc::new(risk),
            compliance: Arc::new(rialto_core::payment::KycComplianceGate::default()),
            velocity_window_us: window,
            fees: super::FeeSchedule::default(),
            windows: Arc::new(crate::windows::Windows::memory()),
            thresholds: rialto_risk::Thresholds::default(),
            models: Arc::new(super::ModelServer::default()),
            time_zone: rialto_risk::TimeZone::default(),
        }
    }
}

/// A new payment.
#[derive(Debug, Clone)]
pub struct NewPayment {
    /// Pre-assigned payment id.
    pub id: String,
    /// Pre-assigned id of its ledger transfer.
    pub transfer_id: String,
    /// The paying user.
    pub user_id: String,
    /// Debited account.
    pub source_account_id: String,
    /// Credited account.
    pub destination_account_id: String,
    /// Amount.
    pub amount: Amount,
    /// Currency.
    pub currency: Currency,
    /// `transfer|deposit|withdrawal|fee`.
    pub kind: String,
    /// `card|bank|wallet|cash`.
    pub method: String,
    /// Client reference.
    pub reference: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: Metadata,
    /// Request context for the risk engine (device, ip, location, merchant), JSON.
    pub context: String,
}

/// A new refund.
#[derive(Debug, Clone)]
pub struct NewRefund {
    /// The payment.
    pub payment_id: String,
    /// Pre-assigned refund id.
    pub refund_id: String,
    /// Pre-assigned id of the refund's transfer.
    pub transfer_id: String,
    /// Amount; what remains when absent.
    pub amount: Option<Amount>,
    /// Why.
    pub reason: Option<String>,
}

/// One step of a payment's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// 1, 2, ... per payment.
    pub seq: i64,
    /// Previous status (none for the first).
    pub from: Option<String>,
    /// New status.
    pub to: String,
    /// Why.
    pub reason: Option<String>,
    /// When, µs.
    pub at_us: i64,
}

/// A refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    /// `re_…`
    pub id: String,
    /// The payment.
    pub payment_id: String,
    /// Amount, minor units.
    pub amount: i64,
    /// Its transfer.
    pub transfer_id: String,
    /// Why.
    pub reason: Option<String>,
    /// When, µs.
    pub created_at_us: i64,
}

/// A payment with its history and refunds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// `pay_…`
    pub id: String,
    /// Paying user.
    pub user_id: String,
    /// Debited account.
    pub source_account_id: String,
    /// Credited account.
    pub destination_account_id: String,
    /// Amount, minor units.
    pub amount: i64,
    /// Currency.
    pub currency: Currency,
    /// Type.
    pub kind: String,
    /// Method.
    pub method: String,
    /// Status.
    pub status: PaymentStatus,
    /// Refunded so far, minor units.
    pub refunded_amount: i64,
    /// Its ledger transfer (posted, or pending while in review), once made.
    pub transfer_id: Option<String>,
    /// Client reference.
    pub reference: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: Metadata,
    /// Request context, JSON.
    pub context: String,
    /// Why it failed.
    pub failure_code: Option<String>,
    /// Why it failed, in words.
    pub failure_reason: Option<String>,
    /// Created, µs.
    pub created_at_us: i64,
    /// Last change, µs.
    pub updated_at_us: i64,
    /// The rule-based risk assessment, if rules ran.
    pub risk_assessment_id: Option<String>,
    /// Every status change.
    pub transitions: Vec<Transition>,
    /// Refunds.
    pub refunds: Vec<RefundRecord>,
}

pub(crate) const PAYMENT_COLUMNS: &str = "id, user_id, source_account_id, destination_account_id, amount, currency, \
     type, method, status, refunded_amount, transfer_id, reference, description, metadata, context, failure_code, \
     failure_reason, created_at, updated_at, device_id, ip_address, country, merchant_id, risk_assessment_id";

pub(crate) fn payment_from_row(r: &impl Get) -> Result<PaymentRecord, StoreError> {
    let status: String = r.col("status")?;
    let code: String = r.col("currency")?;
    let metadata: String = r.col("metadata")?;
    Ok(PaymentRecord {
        id: r.col("id")?,
        user_id: r.col("user_id")?,
        source_account_id: r.col("source_account_id")?,
        destination_account_id: r.col("destination_account_id")?,
        amount: r.col("amount")?,
        currency: currency(&code)?,
        kind: r.col("type")?,
        method: r.col("method")?,
        status: PaymentStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("payment status {status}")))?,
        refunded_amount: r.col("refunded_amount")?,
        transfer_id: r.col("transfer_id")?,
        reference: r.col("reference")?,
        description: r.col("description")?,
        metadata: metadata_from(&metadata)?,
        context: r.col("context")?,
        failure_code: r.col("failure_code")?,
        failure_reason: r.col("failure_reason")?,
        created_at_us: r.col("created_at")?,
        updated_at_us: r.col("updated_at")?,
        risk_assessment_id: r.col("risk_assessment_id")?,
        transitions: Vec::new(),
        refunds: Vec::new(),
    })
}

/// Loads the history and refunds of `payments` (on the given connection).
pub(crate) async fn load_details(
    conn: &mut impl Fetch,
    payments: &mut HashMap<String, PaymentRecord>,
) -> Result<(), StoreError> {
    let kind = conn.db_kind();
    if payments.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = payments.keys().cloned().collect();
    for chunk in ids.chunks(1000) {
        let marks = placeholders(kind, 1, chunk.len());
        let vals: Vec<Val> = chunk.iter().map(|i| Val::T(i.clone())).collect();
        let sql = format!(
            "SELECT payment_id, seq, from_status, to_status, reason, created_at FROM payment_transitions \
             WHERE payment_id IN ({marks}) ORDER BY payment_id, seq"
        );
        let rows = conn.fetch_rows(&sql, vals.clone()).await?;
        for r in rows {
            let id: String = r.col("payment_id")?;
            if let Some(p) = payments.get_mut(&id) {
                p.transitions.push(Transition {
                    seq: r.col("seq")?,
                    from: r.col("from_status")?,
                    to: r.col("to_status")?,
                    reason: r.col("reason")?,
                    at_us: r.col("created_at")?,
                });
            }
        }
        let sql = format!(
            "SELECT id, payment_id, amount, transfer_id, reason, created_at FROM refunds \
             WHERE payment_id IN ({marks}) ORDER BY id"
        );
        let rows = conn.fetch_rows(&sql, vals).await?;
        for r in rows {
            let id: String = r.col("payment_id")?;
            if let Some(p) = payments.get_mut(&id) {
                p.refunds.push(RefundRecord {
                    id: r.col("id")?,
                    payment_id: id.clone(),
                    amount: r.col("amount")?,
                    transfer_id: r.col("transfer_id")?,
                    reason: r.col("reason")?,
                    created_at_us: r.col("created_at")?,
                });
            }
        }
    }
    Ok(())
}

/// Takes each payer's velocity lock (PostgreSQL, released at COMMIT or ROLLBACK), sorted, in
/// one statement. Keyed apart from the window locks (`velocity` is not a window key).
pub(crate) async fn lock_velocity(conn: &mut Conn, users: &BTreeSet<String>) -> Result<(), Abort> {
    let keys = users.iter().map(|u| crate::sql::lock_key(&["velocity", u])).collect();
    crate::sql::advisory_locks(conn, "pg_advisory_xact_lock", keys).await?;
    Ok(())
}

/// Per-user counts of recent payments (not failed or cancelled), for the gates.
pub(crate) async fn load_velocity(
    conn: &mut Conn,
    users: &BTreeSet<String>,
    since_us: i64,
) -> Result<HashMap<String, (i64, i64)>, Abort> {
    let kind = conn.kind();
    let mut out = HashMap::new();
    let users: Vec<&String> = users.iter().collect();
    for chunk in users.chunks(1000) {
        let sql = format!(
            "SELECT user_id, COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total FROM payments \
             WHERE user_id IN ({}) AND created_at > {} AND status NOT IN ('failed', 'cancelled') GROUP BY user_id",
            placeholders(kind, 1, chunk.len()),
            placeholders(kind, chunk.len() + 1, 1),
        );
        let mut vals: Vec<Val> = chunk.iter().map(|u| Val::T((*u).clone())).collect();
        vals.push(Val::I(since_us));
        for r in conn.fetch_all(&sql, vals).await? {
            out.insert(r.col::<String>("user_id")?, (r.col::<i64>("n")?, r.col::<i64>("total")?));
        }
    }
    Ok(out)
}

fn transition(state: &mut State, writes: &mut Writes, id: &str, to: PaymentStatus, reason: Option<String>) -> Outcome {
    let now = state.now;
    let p = state.payments.get_mut(id).ok_or_else(|| CommandError::PaymentNotFound(id.to_string()))?;
    if !p.status.can_become(to) {
        return Err(CommandError::InvalidStateTransition { from: p.status.as_str(), to: to.as_str() });
    }
    let seq = i64::try_from(p.transitions.len()).unwrap_or(i64::MAX) + 1;
    let t = Transition { seq, from: Some(p.status.as_str().into()), to: to.as_str().into(), reason, at_us: now };
    writes.transitions.push(vec![
        Val::T(id.to_string()),
        Val::I(t.seq),
        Val::OT(t.from.clone()),
        Val::T(t.to.clone()),
        Val::OT(t.reason.clone()),
        Val::I(now),
    ]);
    p.transitions.push(t);
    p.status = to;
    p.updated_at_us = now;
    writes.touched_payments.insert(id.to_string());
    if to == PaymentStatus::Completed {
        super::settlement::clear(state, writes, id);
    }
    Ok(Output::Recorded)
}

fn fail(state: &mut State, writes: &mut Writes, id: &str, code: &str, reason: String) -> Outcome {
    transition(state, writes, id, PaymentStatus::Failed, Some(format!("{code}: {reason}")))?;
    if let Some(p) = state.payments.get_mut(id) {
        p.failure_code = Some(code.to_string());
        p.failure_reason = Some(reason);
    }
    Ok(Output::Recorded)
}

fn ledger_code(e: &LedgerError) -> &'static str {
    match e {
        LedgerError::AccountNotFound(_) => "account_not_found",
        LedgerError::CurrencyMismatch { .. } => "currency_mismatch",
        LedgerError::InsufficientFunds(_) => "insufficient_funds",
        LedgerError::AccountFrozen(_) => "account_frozen",
        LedgerError::AccountClosed(_) => "account_closed",
        _ => "ledger_refused",
    }
}

fn output(state: &State, id: &str) -> Outcome {
    state
        .payments
        .get(id)
        .map(|p| Output::Payment(Box::new(p.clone())))
        .ok_or_else(|| CommandError::PaymentNotFound(id.to_string()))
}

/// Creates a payment and runs it through the gates. A refusal is a `failed` payment (an
/// answer, not an error): no money moves, `failure_code` says why.
pub(crate) fn create(state: &mut State, writes: &mut Writes, n: &NewPayment) -> Outcome {
    let now = state.now;
    let first = Transition { seq: 1, from: None, to: "pending".into(), reason: Some("created".into()), at_us: now };
    writes.transitions.push(vec![
        Val::T(n.id.clone()),
        Val::I(1),
        Val::OT(None),
        Val::T("pending".into()),
        Val::OT(first.reason.clone()),
        Val::I(now),
    ]);
    state.payments.insert(
        n.id.clone(),
        PaymentRecord {
            id: n.id.clone(),
            user_id: n.user_id.clone(),
            source_account_id: n.source_account_id.clone(),
            destination_account_id: n.destination_account_id.clone(),
            amount: n.amount.minor(),
            currency: n.currency,
            kind: n.kind.clone(),
            method: n.method.clone(),
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
    writes.new_payments.insert(n.id.clone());
    transition(state, writes, &n.id, PaymentStatus::Processing, Some("gates".into()))?;

    // 1. Accounts: both exist, are active, and hold the payment's currency.
    for id in [&n.source_account_id, &n.destination_account_id] {
        let problem = match state.book.accounts.get(id) {
            None => Some(("account_not_found", format!("no account `{id}`"))),
            Some(a) if a.status != rialto_core::ledger::AccountStatus::Active => Some((
                if a.status.as_str() == "frozen" { "account_frozen" } else { "account_closed" },
                format!("account `{id}` is {}", a.status.as_str()),
            )),
            Some(a) if a.currency != n.currency => Some((
                "currency_mismatch",
                format!("account `{id}` holds {} not {}", a.currency.code(), n.currency.code()),
            )),
            Some(_) => None,
        };
        if let Some((code, reason)) = problem {
            fail(state, writes, &n.id, code, reason)?;
            return output(state, &n.id);
        }
    }
    // 2. Risk, then 3. compliance.
    let (count, sum) = state.velocity.get(&n.user_id).copied().unwrap_or((0, 0));
    let facts = PaymentFacts {
        amount_minor: n.amount.minor(),
        currency: n.currency,
        user: state.users.get(&n.user_id).cloned(),
        recent_count: count,
        recent_sum_minor: sum,
    };
    let mut review = Vec::new();
    for decision in [state.policies.risk.assess(&facts), state.policies.compliance.check(&facts)] {
        match decision {
            Decision::Approve => {}
            Decision::Review(why) => review.push(why),
            Decision::Reject { code, reason } => {
                fail(state, writes, &n.id, code, reason)?;
                return output(state, &n.id);
            }
        }
    }
    // 2b. A key (user, device...) that a `rate_limit` rule blocked refuses at once.
    let entry = super::assess::entry_of(n, now);
    if let Some((key, value, until, rule)) = super::assess::blocked(state, &entry) {
        let reason = format!("{key} `{value}` is blocked by risk rule `{rule}` until {until} µs");
        fail(state, writes, &n.id, "rate_limited", reason)?;
        return output(state, &n.id);
    }
    // 2c. The risk rules (as data): an explained assessment, stored with the payment.
    if let Some((assessment_id, a)) = super::assess::assess(state, writes, n, &entry) {
        if let Some(p) = state.payments.get_mut(&n.id) {
            p.risk_assessment_id = Some(assessment_id);
        }
        match a.decision {
            rialto_risk::Decision::Approve => {}
            rialto_risk::Decision::Review => review.push(a.reason.clone()),
            rialto_risk::Decision::Reject | rialto_risk::Decision::Block => {
                let code = if a.decision == rialto_risk::Decision::Block { "risk_blocked" } else { "risk_rejected" };
                fail(state, writes, &n.id, code, a.reason)?;
                return output(state, &n.id);
            }
        }
    }
    // 4. Balance and 5. the ledger: a held payment reserves its funds as a pending transfer.
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
    let effects = match state.book.transfer(&spec) {
        Ok(e) => e,
        Err(e) => {
            fail(state, writes, &n.id, ledger_code(&e), e.to_string())?;
            return output(state, &n.id);
        }
    };
    state.transfers.insert(
        spec.id.clone(),
        TransferRecord {
            transfer: state.book.transfers[&spec.id].clone(),
            pending: hold,
            description: Some(format!("payment {}", n.id)),
            reference: n.reference.clone(),
            metadata: Metadata::new(),
            created_at_us: now,
            updated_at_us: now,
        },
    );
    record_effects(state, writes, &effects, Some(&spec.id), None);
    super::assess::accept(state, writes, entry);
    let entry = state.velocity.entry(n.user_id.clone()).or_insert((0, 0));
    *entry = (entry.0 + 1, entry.1.saturating_add(n.amount.minor()));
    if let Some(p) = state.payments.get_mut(&n.id) {
        p.transfer_id = Some(spec.id.clone());
    }
    if hold {
        transition(state, writes, &n.id, PaymentStatus::RequiresReview, Some(review.join("; ")))?;
    } else {
        transition(state, writes, &n.id, PaymentStatus::Completed, Some("all gates passed".into()))?;
    }
    output(state, &n.id)
}

/// A reviewer's decision on a held payment: approve posts the held transfer, decline releases it.
pub(crate) fn review(state: &mut State, writes: &mut Writes, id: &str, approve: bool, note: Option<String>) -> Outcome {
    let p = state.payments.get(id).ok_or_else(|| CommandError::PaymentNotFound(id.to_string()))?;
    let target = if approve { PaymentStatus::Completed } else { PaymentStatus::Failed };
    if p.status != PaymentStatus::RequiresReview {
        return Err(CommandError::InvalidStateTransition { from: p.status.as_str(), to: target.as_str() });
    }
    let transfer_id = p.transfer_id.clone().ok_or_else(|| CommandError::PaymentNotFound(id.to_string()))?;
    if approve {
        match state.book.post_pending(&transfer_id, None, state.now) {
            Ok(effects) => {
                record_effects(state, writes, &effects, Some(&transfer_id), None);
                transition(
                    state,
                    writes,
                    id,
                    PaymentStatus::Completed,
                    Some(note.unwrap_or_else(|| "approved".into())),
                )?;
            }
            Err(e) => {
                // The hold stays where the ledger left it; release it so no money stays reserved.
                if let Ok(effects) = state.book.void_pending(&transfer_id, false) {
                    record_effects(state, writes, &effects, Some(&transfer_id), None);
                }
                fail(state, writes, id, ledger_code(&e), e.to_string())?;
            }
        }
    } else {
        let effects = state.book.void_pending(&transfer_id, false)?;
        record_effects(state, writes, &effects, Some(&transfer_id), None);
        let reason = note.unwrap_or_else(|| "declined by a reviewer".into());
        fail(state, writes, id, "declined", reason)?;
    }
    output(state, id)
}

/// Cancels a pending or held payment, releasing a hold.
pub(crate) fn cancel(state: &mut State, writes: &mut Writes, id: &str, reason: Option<String>) -> Outcome {
    let p = state.payments.get(id).ok_or_else(|| CommandError::PaymentNotFound(id.to_string()))?;
    if !p.status.can_become(PaymentStatus::Cancelled) {
        return Err(CommandError::InvalidStateTransition { from: p.status.as_str(), to: "cancelled" });
    }
    if let (PaymentStatus::RequiresReview, Some(t)) = (p.status, p.transfer_id.clone()) {
        let effects = state.book.void_pending(&t, false)?;
        record_effects(state, writes, &effects, Some(&t), None);
    }
    transition(state, writes, id, PaymentStatus::Cancelled, Some(reason.unwrap_or_else(|| "cancelled".into())))?;
    output(state, id)
}

/// Refunds part or all of what remains of a completed payment.
pub(crate) fn refund(state: &mut State, writes: &mut Writes, r: &NewRefund) -> Outcome {
    let now = state.now;
    let p = state.payments.get(&r.payment_id).ok_or_else(|| CommandError::PaymentNotFound(r.payment_id.clone()))?;
    if !matches!(p.status, PaymentStatus::Completed | PaymentStatus::PartiallyRefunded) {
        return Err(CommandError::InvalidStateTransition { from: p.status.as_str(), to: "refunded" });
    }
    let remaining = p.amount - p.refunded_amount;
    let amount = r.amount.map_or(remaining, Amount::minor);
    if amount > remaining {
        return Err(CommandError::RefundExceedsPayment { requested: amount, remaining });
    }
    let spec = TransferSpec {
        id: r.transfer_id.clone(),
        source_account_id: p.destination_account_id.clone(),
        destination_account_id: p.source_account_id.clone(),
        amount: Amount::new(amount).map_err(|_| CommandError::RefundExceedsPayment { requested: amount, remaining })?,
        currency: p.currency,
        pending: false,
        expires_at_us: None,
    };
    let effects = state.book.transfer(&spec)?;
    state.transfers.insert(
        spec.id.clone(),
        TransferRecord {
            transfer: state.book.transfers[&spec.id].clone(),
            pending: false,
            description: Some(format!("refund {} of payment {}", r.refund_id, r.payment_id)),
            reference: None,
            metadata: Metadata::new(),
            created_at_us: now,
            updated_at_us: now,
        },
    );
    record_effects(state, writes, &effects, Some(&spec.id), None);
    let refund = RefundRecord {
        id: r.refund_id.clone(),
        payment_id: r.payment_id.clone(),
        amount,
        transfer_id: spec.id.clone(),
        reason: r.reason.clone(),
        created_at_us: now,
    };
    writes.refunds.push(vec![
        Val::T(refund.id.clone()),
        Val::T(refund.payment_id.clone()),
        Val::I(amount),
        Val::T(refund.transfer_id.clone()),
        Val::OT(refund.reason.clone()),
        Val::I(now),
    ]);
    let to = if amount == remaining { PaymentStatus::Refunded } else { PaymentStatus::PartiallyRefunded };
    transition(state, writes, &r.payment_id, to, Some(format!("refund {} of {amount}", refund.id)))?;
    if let Some(p) = state.payments.get_mut(&r.payment_id) {
        p.refunded_amount += amount;
        p.refunds.push(refund.clone());
    }
    let payment = state.payments[&r.payment_id].clone();
    Ok(Output::Refund(Box::new((refund, payment))))
}

/// Rows of the payments a batch created or changed.
pub(crate) async fn write(conn: &mut Conn, state: &State, w: &mut Writes) -> Result<(), Abort> {
    let row = |p: &PaymentRecord| -> Vec<Val> {
        let mut row = vec![
            Val::T(p.id.clone()),
            Val::T(p.user_id.clone()),
            Val::T(p.source_account_id.clone()),
            Val::T(p.destination_account_id.clone()),
            Val::I(p.amount),
            Val::T(p.currency.code().into()),
            Val::T(p.kind.clone()),
            Val::T(p.method.clone()),
            Val::T(p.status.as_str().into()),
            Val::I(p.refunded_amount),
            Val::OT(p.transfer_id.clone()),
            Val::OT(p.reference.clone()),
            Val::OT(p.description.clone()),
            Val::T(metadata_text(&p.metadata)),
            Val::T(p.context.clone()),
            Val::OT(p.failure_code.clone()),
            Val::OT(p.failure_reason.clone()),
            Val::I(p.created_at_us),
            Val::I(p.updated_at_us),
        ];
        let [device, ip, country, merchant] = super::assess::context_columns(&p.context);
        row.extend([
            Val::OT(device),
            Val::OT(ip),
            Val::OT(country),
            Val::OT(merchant),
            Val::OT(p.risk_assessment_id.clone()),
        ]);
        row
    };
    let new: Vec<Vec<Val>> = w.new_payments.iter().filter_map(|id| state.payments.get(id)).map(row).collect();
    if !new.is_empty() {
        exec_values(conn, &format!("INSERT INTO payments ({PAYMENT_COLUMNS})"), 24, new, "").await?;
    }
    let changed: Vec<Vec<Val>> = w
        .touched_payments
        .iter()
        .filter(|id| !w.new_payments.contains(*id))
        .filter_map(|id| state.payments.get(id))
        .map(|p| {
            vec![
                Val::T(p.id.clone()),
                Val::T(p.status.as_str().into()),
                Val::I(p.refunded_amount),
                Val::OT(p.transfer_id.clone()),
                Val::OT(p.failure_code.clone()),
                Val::OT(p.failure_reason.clone()),
                Val::I(p.updated_at_us),
            ]
        })
        .collect();
    if !changed.is_empty() {
        exec_values(
            conn,
            "WITH v (id, status, refunded, transfer_id, code, reason, upd) AS (",
            7,
            changed,
            ") UPDATE payments SET status = v.status, refunded_amount = v.refunded, transfer_id = v.transfer_id, \
             failure_code = v.code, failure_reason = v.reason, updated_at = v.upd FROM v WHERE payments.id = v.id",
        )
        .await?;
    }
    let transitions = std::mem::take(&mut w.transitions);
    if !transitions.is_empty() {
        let head = "INSERT INTO payment_transitions (payment_id, seq, from_status, to_status, reason, created_at)";
        exec_values(conn, head, 6, transitions, "").await?;
    }
    let refunds = std::mem::take(&mut w.refunds);
    if !refunds.is_empty() {
        let head = "INSERT INTO refunds (id, payment_id, amount, transfer_id, reason, created_at)";
        exec_values(conn, head, 6, refunds, "").await?;
    }
    Ok(())
}

/// Filters of the payment list.
#[derive(Debug, Clone, Default)]
pub struct PaymentFilter {
    /// Paying user.
    pub user_id: Option<String>,
    /// Source or destination account.
    pub account_id: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Created at or after, µs.
    pub from_us: Option<i64>,
    /// Created before, µs.
    pub to_us: Option<i64>,
}

impl Db {
    /// A payment with its history and refunds.
    pub async fn payment(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let row = sqlx::query(&format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let p = payment_from_row(&row)?;
        let mut map = HashMap::from([(p.id.clone(), p)]);
        load_details(&mut *conn, &mut map).await?;
        Ok(map.into_values().next())
    }

    /// Payments, newest first, filtered.
    pub async fn payments(
        &self,
        filter: &PaymentFilter,
        cursor: &crate::Cursor,
        limit: usize,
    ) -> Result<crate::Page<PaymentRecord>, StoreError> {
        let mut conditions: Vec<(&str, Val)> = Vec::new();
        if let Some(v) = &filter.user_id {
            conditions.push(("user_id = $?", Val::T(v.clone())));
        }
        if let Some(v) = &filter.account_id {
            conditions.push(("(source_account_id = $? OR destination_account_id = $?)", Val::T(v.clone())));
        }
        if let Some(v) = &filter.status {
            conditions.push(("status = $?", Val::T(v.clone())));
        }
        if let Some(v) = filter.from_us {
            conditions.push(("created_at >= $?", Val::I(v)));
        }
        if let Some(v) = filter.to_us {
            conditions.push(("created_at < $?", Val::I(v)));
        }
        self.payments_page(&conditions, cursor, limit, false).await
    }

    /// A page of payments matching `conditions`, with their history and refunds.
    pub(crate) async fn payments_page(
        &self,
        conditions: &[(&str, Val)],
        cursor: &crate::Cursor,
        limit: usize,
        oldest_first: bool,
    ) -> Result<crate::Page<PaymentRecord>, StoreError> {
        let select = format!("SELECT {PAYMENT_COLUMNS} FROM payments");
        let (rows, has_more) =
            crate::read::page_ordered(self, &select, "id", conditions, cursor, limit, oldest_first).await?;
        let data = rows.iter().map(payment_from_row).collect::<Result<Vec<_>, _>>()?;
        let order: Vec<String> = data.iter().map(|p| p.id.clone()).collect();
        let mut map: HashMap<String, PaymentRecord> = data.into_iter().map(|p| (p.id.clone(), p)).collect();
        let mut conn = self.pool().acquire().await?;
        load_details(&mut *conn, &mut map).await?;
        let data = order.iter().filter_map(|id| map.remove(id)).collect();
        Ok(crate::Page { data, has_more })
    }
}
