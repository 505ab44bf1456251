//! The payments domain's records: what a client asks for (`NewPayment`, `NewRefund`) and what
//! is kept (`PaymentRecord` with its `Transition`s and `RefundRecord`s).

use rialto_core::{Amount, Currency, Metadata};

use crate::{PaymentKind, PaymentMethod, PaymentStatus, ScreeningStatus};

/// What the client said about where a payment comes from: what the risk rules, the windows and
/// the models read. Parsed and checked once at the edge; stored as JSON (`records::context_json`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PaymentContext {
    /// The paying device.
    pub device_id: Option<String>,
    /// The client's IP address (checked to be IPv4 or IPv6).
    pub ip_address: Option<String>,
    /// The merchant paid.
    pub merchant_id: Option<String>,
    /// The card's BIN, when the payment is by card.
    pub card_bin: Option<String>,
    /// Where the payer is.
    pub location: Option<Location>,
    /// The other party named on the payment (a beneficiary outside Rialto), screened against
    /// the sanctions lists.
    pub counterparty: Option<Counterparty>,
}

/// A party a payment names that is not a Rialto user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counterparty {
    /// Name as given.
    pub name: String,
    /// ISO 3166 alpha-2 country, if given.
    pub country: Option<String>,
}

/// A payer's location.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Location {
    /// ISO 3166 alpha-2 country code.
    pub country: Option<String>,
    /// Latitude, degrees (-90..=90). Not money: a float is right here.
    pub lat: Option<f64>,
    /// Longitude, degrees (-180..=180).
    pub lon: Option<f64>,
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
    pub kind: PaymentKind,
    /// `card|bank|wallet|cash`.
    pub method: PaymentMethod,
    /// Client reference.
    pub reference: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: Metadata,
    /// Request context for the risk engine (device, ip, location, merchant, counterparty).
    pub context: PaymentContext,
    /// The counterparty's sanctions screening, done as the payment came in: (status, reason).
    pub counterparty_screening: Option<(ScreeningStatus, String)>,
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
    pub from: Option<PaymentStatus>,
    /// New status.
    pub to: PaymentStatus,
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
#[derive(Debug, Clone, PartialEq)]
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
    pub kind: PaymentKind,
    /// Method.
    pub method: PaymentMethod,
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
    /// Request context.
    pub context: PaymentContext,
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
