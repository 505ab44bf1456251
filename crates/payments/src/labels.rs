//! Fraud labels on payments. A label (`fraud` or `legitimate`, from a `review`, a `chargeback`
//! or set `manual`ly) is appended, never changed: the newest label of a payment is its label.
//! Labels feed backtests (precision, recall) and model training.

use crate::{Cx, Error};

/// Label values.
pub const LABELS: [&str; 2] = ["fraud", "legitimate"];
/// Where a label came from.
pub const LABEL_SOURCES: [&str; 3] = ["review", "chargeback", "manual"];

/// A new label.
#[derive(Debug, Clone)]
pub struct NewLabel {
    /// Pre-assigned label id.
    pub id: String,
    /// The payment.
    pub payment_id: String,
    /// `fraud|legitimate`.
    pub label: String,
    /// `review|chargeback|manual`.
    pub source: String,
    /// Why.
    pub note: Option<String>,
    /// Who labelled it (an API key id).
    pub actor: String,
}

/// A stored label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRecord {
    /// Label id.
    pub id: String,
    /// The payment.
    pub payment_id: String,
    /// `fraud|legitimate`.
    pub label: String,
    /// `review|chargeback|manual`.
    pub source: String,
    /// Why.
    pub note: Option<String>,
    /// Who.
    pub actor: String,
    /// When, µs.
    pub created_at_us: i64,
}

/// Labels a payment that exists (loaded into the batch).
pub fn label(cx: &mut Cx<'_>, l: &NewLabel) -> Result<LabelRecord, Error> {
    if !cx.payments.contains_key(&l.payment_id) {
        return Err(Error::PaymentNotFound(l.payment_id.clone()));
    }
    let record = LabelRecord {
        id: l.id.clone(),
        payment_id: l.payment_id.clone(),
        label: l.label.clone(),
        source: l.source.clone(),
        note: l.note.clone(),
        actor: l.actor.clone(),
        created_at_us: cx.now,
    };
    cx.changes.labels.push(record.clone());
    Ok(record)
}
