//! Payments in the writer: the payments domain (`rialto_payments`) decides on the batch's loaded
//! state; this module loads what it needs (payments with their history, payers' velocity under
//! their locks), runs it, and writes its change set. The payment row, its transitions, its
//! transfer and entries, its event and its audit record commit together.

use rialto_payments::{
    ChangeSet, ComplianceGate, Cx, PaymentKind, PaymentMethod, PaymentStatus, RiskDecision, RiskGate, RiskStep, Verdict,
};
pub use rialto_payments::{NewPayment, NewRefund, PaymentRecord, RefundRecord, Transition};

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
    pub fees: rialto_payments::FeeSchedule,
    /// Where the risk rules' windows live.
    pub windows: Arc<crate::windows::Windows>,
    /// Risk score thresholds of the levels.
    pub thresholds: rialto_risk::Thresholds,
    /// The time zone of `hour_of_day` / `day_of_week` (rules and models).
    pub time_zone: rialto_risk::TimeZone,
    /// Fraud model serving (parsed models, the inference runner and its timeout).
    pub models: Arc<super::ModelServer>,
    /// The parsed risk rules, reused while the stored rules are unchanged.
    pub rules: Arc<super::assess::RuleCache>,
    /// What each KYC level may pay (the compliance gate's limits; the batch loads levels and
    /// sums only when one is set).
    pub kyc_limits: rialto_compliance::kyc::KycLimits,
    /// The AML typologies (the monitor reads them; the batch reads whether sanctions matches
    /// open cases).
    pub aml: rialto_compliance::aml::Typologies,
    /// The business limits the gates, the velocity window and the fees were built from (what
    /// `GET /v1/config` shows); [`Policies::with_limits`] keeps them in step.
    pub limits: rialto_payments::Limits,
}

impl Policies {
    /// These policies with KYC limits per level (the compliance gate keeps the KYC threshold).
    pub fn with_kyc_limits(mut self, kyc_limits: rialto_compliance::kyc::KycLimits) -> Policies {
        self.kyc_limits = kyc_limits;
        let kyc = self.limits.compliance_gate();
        self.compliance = Arc::new(rialto_compliance::CompliancePolicy { kyc, limits: kyc_limits });
        self
    }

    /// These policies with the gates, the velocity window and the fees of `limits`.
    pub fn with_limits(mut self, limits: rialto_payments::Limits) -> Policies {
        self.risk = Arc::new(limits.risk_gate());
        self.compliance =
            Arc::new(rialto_compliance::CompliancePolicy { kyc: limits.compliance_gate(), limits: self.kyc_limits });
        self.velocity_window_us = limits.velocity_window_seconds.saturating_mul(1_000_000);
        self.fees = limits.fees();
        self.limits = limits;
        self
    }
}

impl std::fmt::Debug for Policies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policies").field("velocity_window_us", &self.velocity_window_us).finish_non_exhaustive()
    }
}

impl Default for Policies {
    fn default() -> Self {
        let limits = rialto_payments::Limits::default();
        Policies {
            risk: Arc::new(limits.risk_gate()),
            compliance: Arc::new(rialto_compliance::CompliancePolicy {
                kyc: limits.compliance_gate(),
                limits: rialto_compliance::kyc::KycLimits::default(),
            }),
            kyc_limits: rialto_compliance::kyc::KycLimits::default(),
            aml: rialto_compliance::aml::Typologies::default(),
            velocity_window_us: limits.velocity_window_seconds.saturating_mul(1_000_000),
            fees: limits.fees(),
            limits,
            windows: Arc::new(crate::windows::Windows::memory()),
            thresholds: rialto_risk::Thresholds::default(),
            models: Arc::new(super::ModelServer::default()),
            rules: Arc::new(super::assess::RuleCache::default()),
            time_zone: rialto_risk::TimeZone::default(),
        }
    }
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
        kind: {
            let k: String = r.col("type")?;
            crate::records::stored("payment type", &k, PaymentKind::parse)?
        },
        method: {
            let m: String = r.col("method")?;
            crate::records::stored("payment method", &m, PaymentMethod::parse)?
        },
        status: payment_status(&status)?,
        refunded_amount: r.col("refunded_amount")?,
        transfer_id: r.col("transfer_id")?,
        reference: r.col("reference")?,
        description: r.col("description")?,
        metadata: metadata_from(&metadata)?,
        context: crate::records::context_from_json(&r.col::<String>("context")?),
        failure_code: r.col("failure_code")?,
        failure_reason: r.col("failure_reason")?,
        created_at_us: r.col("created_at")?,
        updated_at_us: r.col("updated_at")?,
        risk_assessment_id: r.col("risk_assessment_id")?,
        transitions: Vec::new(),
        refunds: Vec::new(),
    })
}

/// A stored payment status; an unknown one is a corrupt row.
fn payment_status(text: &str) -> Result<PaymentStatus, StoreError> {
    crate::records::stored("payment status", text, PaymentStatus::parse)
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
                    from: r.col::<Option<String>>("from_status")?.map(|s| payment_status(&s)).transpose()?,
                    to: payment_status(&r.col::<String>("to_status")?)?,
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

/// Runs a payments-domain command (`rialto_payments::{create, review, cancel, refund}`) on the
/// batch's state, then folds its change set into the batch's writes: the money it moved, the
/// transfers it created, its history rows, refunds and clearings.
pub(crate) fn run(
    state: &mut State,
    writes: &mut Writes,
    command: impl FnOnce(&mut Cx<'_>, &mut dyn RiskStep) -> Result<rialto_payments::Output, rialto_payments::Error>,
) -> Outcome {
    let mut changes = ChangeSet::default();
    let result = {
        let mut cx = Cx {
            now: state.now,
            book: &mut state.ledger.book,
            payments: &mut state.payments,
            users: &state.ledger.users,
            screenings: &state.screenings,
            aml_holds: &state.aml_holds,
            kyc_levels: &state.kyc_levels,
            paid: &mut state.paid,
            velocity: &mut state.velocity,
            risk_gate: &*state.policies.risk,
            compliance: &*state.policies.compliance,
            changes: &mut changes,
        };
        let mut risk = Risk { loaded: &mut state.risk, policies: &state.policies, now: state.now, writes, entry: None };
        command(&mut cx, &mut risk)
    };
    absorb(state, writes, changes);
    match result {
        Ok(rialto_payments::Output::Payment(p)) => Ok(Output::Payment(p)),
        Ok(rialto_payments::Output::Refund(r)) => Ok(Output::Refund(r)),
        Ok(rialto_payments::Output::Label(l)) => Ok(Output::Label(l)),
        Err(e) => Err(e.into()),
    }
}

/// Applies a payments command to the batch.
pub(crate) fn apply(state: &mut State, writes: &mut Writes, c: &rialto_payments::Command) -> Outcome {
    use rialto_payments::Command as C;
    match c {
        C::Create(p) => run(state, writes, |cx, risk| rialto_payments::create(cx, risk, p)),
        C::Review { payment_id, approve, note, label: l } => {
            let out = run(state, writes, |cx, _| rialto_payments::review(cx, payment_id, *approve, note.clone()))?;
            if let Some(l) = l {
                label(state, writes, l)?;
            }
            Ok(out)
        }
        C::Label(l) => label(state, writes, l),
        C::Cancel { payment_id, reason } => {
            run(state, writes, |cx, _| rialto_payments::cancel(cx, payment_id, reason.clone()))
        }
        C::Refund(r) => run(state, writes, |cx, _| rialto_payments::refund(cx, r)),
        C::Settle { destination_account_id } => {
            let fees = state.policies.fees;
            super::settlement::settle(state, writes, destination_account_id.as_deref(), fees)
        }
    }
}

/// Labels a loaded payment (`rialto_payments::label`).
pub(crate) fn label(state: &mut State, writes: &mut Writes, l: &rialto_payments::NewLabel) -> Outcome {
    run(state, writes, |cx, _| rialto_payments::label(cx, l).map(rialto_payments::Output::Label))
}

impl From<rialto_payments::Error> for CommandError {
    fn from(e: rialto_payments::Error) -> Self {
        use rialto_payments::Error as E;
        match e {
            E::PaymentNotFound(id) => CommandError::PaymentNotFound(id),
            E::InvalidStateTransition { from, to } => CommandError::InvalidStateTransition { from, to },
            E::RefundExceedsPayment { requested, remaining } => {
                CommandError::RefundExceedsPayment { requested, remaining }
            }
            E::Ledger(l) => CommandError::Ledger(l),
        }
    }
}

/// Folds a payments change set into the batch: transfers and entries of the money moved, then
/// the payment rows, history, refunds and clearings.
fn absorb(state: &mut State, writes: &mut Writes, changes: ChangeSet) {
    let now = state.now;
    for m in changes.movements {
        if let (Some(note), Some(t)) = (m.new_transfer, state.ledger.book.transfers.get(&m.transfer_id)) {
            let record = TransferRecord {
                transfer: t.clone(),
                pending: note.pending,
                description: Some(note.description),
                reference: note.reference,
                metadata: Metadata::new(),
                created_at_us: now,
                updated_at_us: now,
            };
            state.ledger.transfers.insert(m.transfer_id.clone(), record);
        }
        state.ledger.record_effects(&mut writes.ledger, now, &m.effects, Some(&m.transfer_id), None);
    }
    writes.new_payments.extend(changes.new_payments);
    writes.touched_payments.extend(changes.touched_payments);
    writes.transitions.extend(changes.transitions);
    writes.refunds.extend(changes.refunds);
    writes.labels.extend(changes.labels);
    for id in &changes.cleared {
        super::settlement::clear(state, writes, id);
    }
}

/// The risk domain as a payment meets it: the batch's loaded rules, lists, windows, blocks and
/// serving models; assessments, model scores, blocks and alerts go to the batch's writes.
struct Risk<'a> {
    loaded: &'a mut super::assess::Loaded,
    policies: &'a Policies,
    now: i64,
    writes: &'a mut Writes,
    /// The payment as the windows see it, made on first use.
    entry: Option<rialto_risk::window::Entry>,
}

impl RiskStep for Risk<'_> {
    fn blocked(&mut self, n: &NewPayment) -> Option<String> {
        let now = self.now;
        let entry = self.entry.get_or_insert_with(|| super::assess::entry_of(n, now));
        super::assess::blocked(self.loaded, now, entry).map(|(key, value, until, rule)| {
            format!("{key} `{value}` is blocked by risk rule `{rule}` until {until} µs")
        })
    }

    fn assess(&mut self, n: &NewPayment) -> Option<Verdict> {
        let now = self.now;
        let entry = self.entry.get_or_insert_with(|| super::assess::entry_of(n, now));
        let (assessment_id, a) = super::assess::assess(self.loaded, self.policies, now, self.writes, n, entry)?;
        let decision = match a.decision {
            rialto_risk::Decision::Approve => RiskDecision::Approve,
            rialto_risk::Decision::Review => RiskDecision::Review,
            rialto_risk::Decision::Reject => RiskDecision::Reject,
            rialto_risk::Decision::Block => RiskDecision::Block,
        };
        Some(Verdict { assessment_id, decision, reason: a.reason })
    }

    fn accepted(&mut self, n: &NewPayment) {
        let entry = self.entry.take().unwrap_or_else(|| super::assess::entry_of(n, self.now));
        super::assess::accept(self.loaded, self.writes, entry);
    }
}

/// A payment's full row, in `PAYMENT_COLUMNS` order.
fn payment_row(p: &PaymentRecord) -> Vec<Val> {
    let mut row = vec![
        Val::T(p.id.clone()),
        Val::T(p.user_id.clone()),
        Val::T(p.source_account_id.clone()),
        Val::T(p.destination_account_id.clone()),
        Val::I(p.amount),
        Val::T(p.currency.code().into()),
        Val::T(p.kind.as_str().into()),
        Val::T(p.method.as_str().into()),
        Val::T(p.status.as_str().into()),
        Val::I(p.refunded_amount),
        Val::OT(p.transfer_id.clone()),
        Val::OT(p.reference.clone()),
        Val::OT(p.description.clone()),
        Val::T(metadata_text(&p.metadata)),
        Val::T(crate::records::context_json(&p.context)),
        Val::OT(p.failure_code.clone()),
        Val::OT(p.failure_reason.clone()),
        Val::I(p.created_at_us),
        Val::I(p.updated_at_us),
    ];
    let c = &p.context;
    let country = c.location.as_ref().and_then(|l| l.country.clone());
    let [device, ip, merchant] = [&c.device_id, &c.ip_address, &c.merchant_id].map(Clone::clone);
    row.extend([
        Val::OT(device),
        Val::OT(ip),
        Val::OT(country),
        Val::OT(merchant),
        Val::OT(p.risk_assessment_id.clone()),
    ]);
    row
}

/// Rows of the payments a batch created or changed.
pub(crate) async fn write(conn: &mut Conn, state: &State, w: &mut Writes) -> Result<(), Abort> {
    let new: Vec<Vec<Val>> = w.new_payments.iter().filter_map(|id| state.payments.get(id)).map(payment_row).collect();
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
    let transitions: Vec<Vec<Val>> = std::mem::take(&mut w.transitions)
        .into_iter()
        .map(|(payment_id, t)| {
            vec![
                Val::T(payment_id),
                Val::I(t.seq),
                Val::OT(t.from.map(|s| s.as_str().into())),
                Val::T(t.to.as_str().into()),
                Val::OT(t.reason),
                Val::I(t.at_us),
            ]
        })
        .collect();
    if !transitions.is_empty() {
        let head = "INSERT INTO payment_transitions (payment_id, seq, from_status, to_status, reason, created_at)";
        exec_values(conn, head, 6, transitions, "").await?;
    }
    let refunds: Vec<Vec<Val>> = std::mem::take(&mut w.refunds)
        .into_iter()
        .map(|r| {
            vec![
                Val::T(r.id),
                Val::T(r.payment_id),
                Val::I(r.amount),
                Val::T(r.transfer_id),
                Val::OT(r.reason),
                Val::I(r.created_at_us),
            ]
        })
        .collect();
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
