//! The payments domain's commands, what each needs loaded and locked, and how it is named in
//! the audit trail. The engine holds them as one variant of its command sum.

use std::collections::BTreeSet;

use crate::{NewLabel, NewPayment, NewRefund};

/// A change to payments.
#[derive(Debug, Clone)]
pub enum Command {
    /// Create a payment and run it through the gates.
    Create(Box<NewPayment>),
    /// A reviewer's decision on a held payment.
    Review {
        /// The payment.
        payment_id: String,
        /// Approve (post the hold) or decline (release it).
        approve: bool,
        /// The reviewer's note.
        note: Option<String>,
        /// The label the decision gives the payment, if any.
        label: Option<NewLabel>,
    },
    /// Label a payment fraud or legitimate.
    Label(NewLabel),
    /// Cancel a pending or held payment.
    Cancel {
        /// The payment.
        payment_id: String,
        /// Why.
        reason: Option<String>,
    },
    /// Refund a completed payment.
    Refund(NewRefund),
    /// Settle pending clearings (of one destination account, or all).
    Settle {
        /// Only this merchant account.
        destination_account_id: Option<String>,
    },
}

/// What a batch's payments commands need loaded (and, on PostgreSQL, locked).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Keys {
    /// Accounts new payments move money between.
    pub accounts: BTreeSet<String>,
    /// Payers of new payments: their status, KYC and velocity (under their velocity lock).
    pub payers: BTreeSet<String>,
    /// Existing payments the commands change, with their history and refunds.
    pub payments: BTreeSet<String>,
    /// A settlement run's pending clearings: none, all (`Some(None)`) or one destination's.
    pub settle: Option<Option<String>>,
}

impl Command {
    /// Adds what this command needs to the batch's `keys`.
    pub fn keys(&self, keys: &mut Keys) {
        match self {
            Command::Create(p) => {
                keys.accounts.insert(p.source_account_id.clone());
                keys.accounts.insert(p.destination_account_id.clone());
                keys.payers.insert(p.user_id.clone());
            }
            Command::Review { payment_id, .. }
            | Command::Cancel { payment_id, .. }
            | Command::Label(NewLabel { payment_id, .. })
            | Command::Refund(NewRefund { payment_id, .. }) => {
                keys.payments.insert(payment_id.clone());
            }
            Command::Settle { destination_account_id } => {
                // Two runs in one batch over different destinations load every clearing.
                keys.settle = Some(match keys.settle.take() {
                    None => destination_account_id.clone(),
                    Some(f) if f == *destination_account_id => f,
                    Some(_) => None,
                });
            }
        }
    }

    /// The new payment, when the command creates one (the risk rules load for it).
    pub fn new_payment(&self) -> Option<&NewPayment> {
        match self {
            Command::Create(p) => Some(p),
            _ => None,
        }
    }

    /// The audit action and the resource the command names before it runs.
    pub fn action(&self) -> (&'static str, Option<(&'static str, String)>) {
        let payment = |id: &String| Some(("payment", id.clone()));
        match self {
            Command::Create(p) => ("payment.create", payment(&p.id)),
            Command::Review { payment_id, approve: true, .. } => ("payment.approve", payment(payment_id)),
            Command::Review { payment_id, approve: false, .. } => ("payment.decline", payment(payment_id)),
            Command::Cancel { payment_id, .. } => ("payment.cancel", payment(payment_id)),
            Command::Label(l) => ("payment.label", payment(&l.payment_id)),
            Command::Refund(r) => ("payment.refund", payment(&r.payment_id)),
            Command::Settle { destination_account_id } => {
                ("settlement.run", destination_account_id.clone().map(|d| ("account", d)))
            }
        }
    }
}
