//! The API's response types, and how storage records become them: the one place response
//! shapes are defined. Each type derives its OpenAPI schema (`utoipa::ToSchema`), so the
//! description at `/openapi.json` is the type the handlers serialise.

use std::collections::BTreeMap;

use rialto_core::Metadata;
use rialto_store::{
    AccountRecord, ApiKey, AuditRecord, CreditScoreRecord, EntryRecord, EventRecord, JournalRecord, ModelRecord,
    Output, Page, PaymentRecord, RefundRecord, RuleRecord, TransferRecord, UserRecord,
};
use serde::Serialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::openapi::schema::{KnownFormat, Object, SchemaFormat, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// A time: RFC 3339 in UTC with microseconds, e.g. `2026-01-31T12:00:00.123456Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub i64);

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match time_string(self.0) {
            Some(text) => s.serialize_str(&text),
            None => s.serialize_none(),
        }
    }
}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        Object::builder()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into()
    }
}

impl ToSchema for Timestamp {}

fn time_string(us: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000).ok().and_then(|t| t.format(&Rfc3339).ok())
}

/// µs since epoch as RFC 3339 (UTC, microsecond precision), for answers still built as JSON.
pub fn time_text(us: i64) -> Value {
    time_string(us).map_or(Value::Null, Value::String)
}

/// A page of a list: `data` in the list's order, `has_more` when another page follows (ask
/// with `starting_after` = the last id, or `ending_before` = the first).
#[derive(Debug, Serialize)]
pub struct List<T> {
    /// Always `list`.
    pub object: &'static str,
    /// The items.
    pub data: Vec<T>,
    /// Whether more items follow in this direction.
    pub has_more: bool,
}

impl<T> List<T> {
    /// All of `data`, with nothing more to page.
    pub fn all(data: Vec<T>) -> List<T> {
        List { object: "list", data, has_more: false }
    }
}

/// Names the schema of a list of `item`: `<Item>List`.
macro_rules! list_schemas {
    ($($item:ident),* $(,)?) => {$(
        impl utoipa::PartialSchema for $crate::present::List<$item> {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::Object::builder()
                    .property("object", utoipa::openapi::schema::Object::builder().schema_type(utoipa::openapi::schema::Type::String).enum_values(Some(["list"])))
                    .required("object")
                    .property("data", utoipa::openapi::schema::ArrayBuilder::new().items(
                        utoipa::openapi::Ref::from_schema_name(<$item as utoipa::ToSchema>::name()),
                    ))
                    .required("data")
                    .property("has_more", utoipa::openapi::schema::Object::builder().schema_type(utoipa::openapi::schema::Type::Boolean))
                    .required("has_more")
                    .into()
            }
        }
        impl utoipa::ToSchema for $crate::present::List<$item> {
            fn name() -> std::borrow::Cow<'static, str> {
                format!("{}List", <$item as utoipa::ToSchema>::name()).into()
            }
            fn schemas(out: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
                out.push((<$item as utoipa::ToSchema>::name().into_owned(), <$item as utoipa::PartialSchema>::schema()));
                <$item as utoipa::ToSchema>::schemas(out);
            }
        }
    )*};
}
pub(crate) use list_schemas;

list_schemas!(
    User, Account, Transfer, Entry, ApiKeyView, Payment, Settlement, Label, Event, AuditEvent, RiskRule, RiskModel
);

/// A page of `p`, each record presented by `f`.
pub fn page<T, U>(p: &Page<T>, f: impl Fn(&T) -> U) -> List<U> {
    List { object: "list", data: p.data.iter().map(f).collect(), has_more: p.has_more }
}

/// A user: a customer or merchant who holds accounts and makes payments.
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    /// `user_` and 32 hex digits.
    pub id: String,
    /// Always `user`.
    pub object: &'static str,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `customer`, `merchant`, `admin` or `support`.
    pub role: String,
    /// `active` or `blocked` (a blocked user's payments are refused).
    pub status: &'static str,
    /// `pending`, `verified` or `rejected` (payments above the KYC threshold need `verified`).
    pub kyc_status: &'static str,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A user.
pub fn user(u: &UserRecord) -> User {
    User {
        id: u.id.clone(),
        object: "user",
        name: u.name.clone(),
        email: u.email.clone(),
        phone: u.phone.clone(),
        role: u.role.clone(),
        status: u.status.as_str(),
        kyc_status: u.kyc_status.as_str(),
        created_at: Timestamp(u.created_at_us),
        updated_at: Timestamp(u.updated_at_us),
    }
}

/// An account's balance in minor units. `posted` and `available` are null only if a sum
/// overflowed (never with amounts the API accepts).
#[derive(Debug, Serialize, ToSchema)]
pub struct Balance {
    /// Posted credits minus posted debits.
    pub posted: Option<i64>,
    /// Debits held by pending transfers.
    pub pending_debits: i64,
    /// Credits pending transfers will bring.
    pub pending_credits: i64,
    /// `posted` minus `pending_debits`: what can be spent.
    pub available: Option<i64>,
}

/// Posted totals in minor units.
#[derive(Debug, Serialize, ToSchema)]
pub struct Totals {
    pub debits_posted: i64,
    pub credits_posted: i64,
}

/// An account in one currency, with its balance.
#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    /// `acct_` and 32 hex digits.
    pub id: String,
    /// Always `account`.
    pub object: &'static str,
    pub user_id: Option<String>,
    pub name: Option<String>,
    /// ISO 4217 code.
    pub currency: &'static str,
    pub allow_negative_balance: bool,
    /// `active`, `frozen` or `closed`.
    pub status: &'static str,
    pub balance: Balance,
    pub totals: Totals,
    #[schema(value_type = crate::contract::MetadataMap)]
    pub metadata: Metadata,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An account with its balance.
pub fn account(r: &AccountRecord) -> Account {
    let a = &r.account;
    let posted = a.credits_posted.checked_sub(a.debits_posted);
    Account {
        id: a.id.clone(),
        object: "account",
        user_id: r.user_id.clone(),
        name: r.name.clone(),
        currency: a.currency.code(),
        allow_negative_balance: a.allow_negative_balance,
        status: a.status.as_str(),
        balance: Balance {
            posted,
            pending_debits: a.debits_pending,
            pending_credits: a.credits_pending,
            available: posted.and_then(|p| p.checked_sub(a.debits_pending)),
        },
        totals: Totals { debits_posted: a.debits_posted, credits_posted: a.credits_posted },
        metadata: r.metadata.clone(),
        created_at: Timestamp(r.created_at_us),
        updated_at: Timestamp(r.updated_at_us),
    }
}

/// An account's balance now (`pending_*`, `available`), or its posted balance at `at`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountBalance {
    /// Always `balance`.
    pub object: &'static str,
    pub account_id: String,
    pub currency: &'static str,
    /// Only for a balance at a time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    pub posted: Option<i64>,
    /// Only for the balance now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_debits: Option<i64>,
    /// Only for the balance now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_credits: Option<i64>,
    /// Only for the balance now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i64>,
}

/// A transfer between two accounts of one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct Transfer {
    /// `tr_` and 32 hex digits.
    pub id: String,
    /// Always `transfer`.
    pub object: &'static str,
    pub source_account_id: String,
    pub destination_account_id: String,
    /// Minor units.
    pub amount: i64,
    /// What was posted (a pending transfer may post less than `amount`).
    pub posted_amount: i64,
    pub currency: &'static str,
    /// `pending`, `posted`, `voided` or `expired`.
    pub status: &'static str,
    pub pending: bool,
    pub description: Option<String>,
    pub reference: Option<String>,
    #[schema(value_type = crate::contract::MetadataMap)]
    pub metadata: Metadata,
    pub expires_at: Option<Timestamp>,
    pub reversal_of: Option<String>,
    pub reversed_by: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A transfer.
pub fn transfer(r: &TransferRecord) -> Transfer {
    let t = &r.transfer;
    Transfer {
        id: t.id.clone(),
        object: "transfer",
        source_account_id: t.source_account_id.clone(),
        destination_account_id: t.destination_account_id.clone(),
        amount: t.amount,
        posted_amount: t.posted_amount,
        currency: t.currency.code(),
        status: t.status.as_str(),
        pending: r.pending,
        description: r.description.clone(),
        reference: r.reference.clone(),
        metadata: r.metadata.clone(),
        expires_at: t.expires_at_us.map(Timestamp),
        reversal_of: t.reversal_of.clone(),
        reversed_by: t.reversed_by.clone(),
        created_at: Timestamp(r.created_at_us),
        updated_at: Timestamp(r.updated_at_us),
    }
}

/// One line of a journal entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct JournalLine {
    pub account_id: String,
    /// `debit` or `credit`.
    pub direction: &'static str,
    pub amount: i64,
    pub currency: &'static str,
    /// The account's posted balance after this line.
    pub balance_after: i64,
}

/// A balanced multi-line journal entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct JournalEntry {
    /// `je_` and 32 hex digits.
    pub id: String,
    /// Always `journal_entry`.
    pub object: &'static str,
    pub description: Option<String>,
    #[schema(value_type = crate::contract::MetadataMap)]
    pub metadata: Metadata,
    pub lines: Vec<JournalLine>,
    pub created_at: Timestamp,
}

/// A journal entry.
pub fn journal(j: &JournalRecord) -> JournalEntry {
    JournalEntry {
        id: j.id.clone(),
        object: "journal_entry",
        description: j.description.clone(),
        metadata: j.metadata.clone(),
        lines: j
            .lines
            .iter()
            .map(|l| JournalLine {
                account_id: l.account_id.clone(),
                direction: l.direction.as_str(),
                amount: l.amount,
                currency: l.currency.code(),
                balance_after: l.balance_after,
            })
            .collect(),
        created_at: Timestamp(j.created_at_us),
    }
}

/// Entry ids are `ent_<sequence>`.
pub fn entry_id(seq: i64) -> String {
    format!("ent_{seq}")
}

/// One side of a posting on an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Entry {
    /// `ent_<sequence>`.
    pub id: String,
    /// Always `entry`.
    pub object: &'static str,
    pub account_id: String,
    pub transfer_id: Option<String>,
    pub journal_entry_id: Option<String>,
    /// `debit` or `credit`.
    pub direction: &'static str,
    pub amount: i64,
    pub currency: &'static str,
    pub balance_after: i64,
    pub created_at: Timestamp,
}

/// A ledger entry.
pub fn entry(e: &EntryRecord) -> Entry {
    Entry {
        id: entry_id(e.seq),
        object: "entry",
        account_id: e.account_id.clone(),
        transfer_id: e.transfer_id.clone(),
        journal_entry_id: e.journal_entry_id.clone(),
        direction: e.direction.as_str(),
        amount: e.amount,
        currency: e.currency.code(),
        balance_after: e.balance_after,
        created_at: Timestamp(e.created_at_us),
    }
}

/// An API key, never with its secret except once, when created.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ApiKey)]
pub struct ApiKeyView {
    /// `key_` and 32 hex digits.
    pub id: String,
    /// Always `api_key`.
    pub object: &'static str,
    pub name: String,
    /// `admin`, `reviewer`, `writer` or `reader`.
    pub role: &'static str,
    /// The secret's first characters, to tell keys apart.
    pub prefix: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// The bearer secret: only in the answer that creates the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// An API key (never its secret).
pub fn api_key(k: &ApiKey) -> ApiKeyView {
    ApiKeyView {
        id: k.id.clone(),
        object: "api_key",
        name: k.name.clone(),
        role: k.role.as_str(),
        prefix: k.prefix.clone(),
        created_at: Timestamp(k.created_at_us),
        revoked_at: k.revoked_at_us.map(Timestamp),
        secret: None,
    }
}

/// Whatever a ledger command produced, as the JSON its operation answers.
pub fn output(o: &Output) -> Value {
    let value = match o {
        Output::User(u) => serde_json::to_value(user(u)),
        Output::Account(a) => serde_json::to_value(account(a)),
        Output::Transfer(t) => serde_json::to_value(transfer(t)),
        Output::Journal(j) => serde_json::to_value(journal(j)),
        Output::ApiKey(k) => serde_json::to_value(api_key(k)),
        Output::Payment(p) => serde_json::to_value(payment(p)),
        Output::Refund(r) => serde_json::to_value(RefundWithPayment { refund: refund(&r.0), payment: payment(&r.1) }),
        Output::Settlements(list) => serde_json::to_value(List::all(list.iter().map(settlement).collect())),
        Output::WebhookEndpoint(e) => Ok(json!({"id": e.id, "object": "webhook_endpoint", "url": e.url})),
        Output::Rule(r) => serde_json::to_value(risk_rule(r)),
        Output::ListItem(list, value, on) => serde_json::to_value(ListItem {
            object: "risk_list_item",
            list: list.clone(),
            value: value.clone(),
            on_list: *on,
        }),
        Output::Label(l) => serde_json::to_value(label(l)),
        Output::Model(m) => serde_json::to_value(risk_model(m)),
        Output::CreditScore(c) => Ok(credit_score(c)),
        Output::ListImport(o) => Ok(import_answer(o)),
        Output::Screening(s) => Ok(screening_answer(s)),
        Output::KycDocument(d) => Ok(kyc_document(d)),
        Output::Clearance(c) => Ok(clearance_answer(&c.0, &c.1)),
        Output::Alerts(list) => {
            Ok(json!({"object": "list", "data": list.iter().map(alert_json).collect::<Vec<_>>(), "has_more": false}))
        }
        Output::Case(c) => Ok(case_json(c)),
        Output::Report(r) => Ok(report_json(r)),
        Output::Reports(list) => {
            Ok(json!({"object": "list", "data": list.iter().map(report_json).collect::<Vec<_>>(), "has_more": false}))
        }
        Output::ReconAccount(a) => Ok(recon_account_json(a)),
        Output::ReconStatements(list) => Ok(json!({
            "object": "list",
            "data": list.iter().map(statement_json).collect::<Vec<_>>(),
            "has_more": false,
        })),
        Output::ReconRun(r) => Ok(recon_run_json(r)),
        Output::ReconMatch(m) => Ok(recon_match_json(m)),
        Output::Recorded => Ok(json!({"object": "audit_record"})),
    };
    value.unwrap_or(Value::Null)
}

/// A value put on or taken off a named risk list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListItem {
    /// Always `risk_list_item`.
    pub object: &'static str,
    pub list: String,
    pub value: String,
    /// Whether the value is on the list now.
    pub on_list: bool,
}

/// A domain event, as the event stream, `/v1/events` and webhooks carry it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Event {
    /// `evt_` and 32 hex digits.
    pub id: String,
    /// Always `event`.
    pub object: &'static str,
    /// Commit order: follow the stream with `after`.
    pub sequence: i64,
    /// One of `GET /v1/event-types`.
    #[serde(rename = "type")]
    pub kind: String,
    pub resource_type: String,
    pub resource_id: String,
    /// The resource as its operation answered it.
    pub data: Value,
    pub request_id: Option<String>,
    pub created_at: Timestamp,
}

/// An event.
pub fn event(e: &EventRecord) -> Event {
    Event {
        id: e.id.clone(),
        object: "event",
        sequence: e.seq,
        kind: e.kind.clone(),
        resource_type: e.resource_type.clone(),
        resource_id: e.resource_id.clone(),
        data: serde_json::from_str(&e.data).unwrap_or(Value::Null),
        request_id: e.request_id.clone(),
        created_at: Timestamp(e.created_at_us),
    }
}

/// Events oldest first, and where to go on from.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Always `list`.
    pub object: &'static str,
    pub data: Vec<Event>,
    pub has_more: bool,
    /// The `after` of the next request: the last sequence here (or the one asked for).
    pub next_after: i64,
}

/// A record of the tamper-evident audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    /// `aud_` and 32 hex digits.
    pub id: String,
    /// Always `audit_event`.
    pub object: &'static str,
    /// Chain order; the cursor of this list.
    pub sequence: i64,
    /// `key:<id>`, `system` or `anonymous`.
    pub actor: String,
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    /// `success` or `failure`.
    pub result: String,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub details: Value,
    pub created_at: Timestamp,
    /// The previous record's hash.
    pub prev_hash: String,
    /// SHA-256 over this record and `prev_hash`.
    pub hash: String,
}

/// An audit record, with its chain hashes.
pub fn audit(a: &AuditRecord) -> AuditEvent {
    AuditEvent {
        id: a.id.clone(),
        object: "audit_event",
        sequence: a.seq,
        actor: a.actor.clone(),
        action: a.action.clone(),
        resource_type: a.resource_type.clone(),
        resource_id: a.resource_id.clone(),
        result: a.result.clone(),
        request_id: a.request_id.clone(),
        ip: a.ip.clone(),
        details: serde_json::from_str(&a.details).unwrap_or(Value::Null),
        created_at: Timestamp(a.created_at_us),
        prev_hash: a.prev_hash.clone(),
        hash: a.hash.clone(),
    }
}

/// A refund of part or all of a payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct Refund {
    /// `re_` and 32 hex digits.
    pub id: String,
    /// Always `refund`.
    pub object: &'static str,
    pub payment_id: String,
    pub amount: i64,
    /// The ledger transfer that moved it back.
    pub transfer_id: String,
    pub reason: Option<String>,
    pub created_at: Timestamp,
}

/// A refund.
pub fn refund(r: &RefundRecord) -> Refund {
    Refund {
        id: r.id.clone(),
        object: "refund",
        payment_id: r.payment_id.clone(),
        amount: r.amount,
        transfer_id: r.transfer_id.clone(),
        reason: r.reason.clone(),
        created_at: Timestamp(r.created_at_us),
    }
}

/// A refund, with the payment as it is after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundWithPayment {
    #[serde(flatten)]
    pub refund: Refund,
    pub payment: Payment,
}

/// A step of a payment's life.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentTransition {
    /// Null for the first step.
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub reason: Option<String>,
    pub at: Timestamp,
}

/// A payment: money moved through the risk, compliance and balance gates to the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct Payment {
    /// `pay_` and 32 hex digits.
    pub id: String,
    /// Always `payment`.
    pub object: &'static str,
    pub user_id: String,
    pub source_account_id: String,
    pub destination_account_id: String,
    /// Minor units.
    pub amount: i64,
    pub currency: &'static str,
    /// `transfer`, `deposit`, `withdrawal` or `fee`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `card`, `bank`, `wallet` or `cash`.
    pub method: &'static str,
    /// `pending`, `processing`, `requires_review`, `completed`, `failed`, `cancelled`,
    /// `partially_refunded` or `refunded`.
    pub status: &'static str,
    pub amount_refunded: i64,
    /// The ledger transfer (a hold while in review).
    pub transfer_id: Option<String>,
    pub reference: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = crate::contract::MetadataMap)]
    pub metadata: Metadata,
    /// What the risk gate saw: device, address, merchant, location.
    pub context: Value,
    pub failure_code: Option<String>,
    pub failure_reason: Option<String>,
    /// `GET /v1/risk/assessments/{id}` explains the decision.
    pub risk_assessment_id: Option<String>,
    pub history: Vec<PaymentTransition>,
    pub refunds: Vec<Refund>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A payment with its status history and refunds.
pub fn payment(p: &PaymentRecord) -> Payment {
    Payment {
        id: p.id.clone(),
        object: "payment",
        user_id: p.user_id.clone(),
        source_account_id: p.source_account_id.clone(),
        destination_account_id: p.destination_account_id.clone(),
        amount: p.amount,
        currency: p.currency.code(),
        kind: p.kind.as_str(),
        method: p.method.as_str(),
        status: p.status.as_str(),
        amount_refunded: p.refunded_amount,
        transfer_id: p.transfer_id.clone(),
        reference: p.reference.clone(),
        description: p.description.clone(),
        metadata: p.metadata.clone(),
        context: rialto_store::context_value(&p.context),
        failure_code: p.failure_code.clone(),
        failure_reason: p.failure_reason.clone(),
        risk_assessment_id: p.risk_assessment_id.clone(),
        history: p
            .transitions
            .iter()
            .map(|t| PaymentTransition {
                from: t.from.map(|s| s.as_str()),
                to: t.to.as_str(),
                reason: t.reason.clone(),
                at: Timestamp(t.at_us),
            })
            .collect(),
        refunds: p.refunds.iter().map(refund).collect(),
        created_at: Timestamp(p.created_at_us),
        updated_at: Timestamp(p.updated_at_us),
    }
}

/// A payment's share of a settlement.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettledPayment {
    pub payment_id: String,
    pub amount: i64,
}

/// A settlement batch: a merchant account's cleared payments in one currency, with fees.
#[derive(Debug, Serialize, ToSchema)]
pub struct Settlement {
    /// `stl_` and 32 hex digits.
    pub id: String,
    /// Always `settlement`.
    pub object: &'static str,
    pub destination_account_id: String,
    pub currency: &'static str,
    /// `settled` or `failed`.
    pub status: &'static str,
    pub payment_count: i64,
    /// Sum of the payments, minor units.
    pub gross: i64,
    pub fees: i64,
    /// `gross - fees`, paid out.
    pub net: i64,
    pub journal_entry_id: Option<String>,
    pub failure_reason: Option<String>,
    pub payments: Vec<SettledPayment>,
    pub created_at: Timestamp,
}

/// A settlement batch with its payments.
pub fn settlement(s: &rialto_store::SettlementRecord) -> Settlement {
    Settlement {
        id: s.id.clone(),
        object: "settlement",
        destination_account_id: s.destination_account_id.clone(),
        currency: s.currency.code(),
        status: s.status.as_str(),
        payment_count: s.payment_count,
        gross: s.gross,
        fees: s.fees,
        net: s.net,
        journal_entry_id: s.journal_entry_id.clone(),
        failure_reason: s.failure_reason.clone(),
        payments: s
            .payments
            .iter()
            .map(|(id, amount)| SettledPayment { payment_id: id.clone(), amount: *amount })
            .collect(),
        created_at: Timestamp(s.created_at_us),
    }
}

/// A fraud or legitimate label on a payment (the last one counts).
#[derive(Debug, Serialize, ToSchema)]
pub struct Label {
    /// `lbl_` and 32 hex digits.
    pub id: String,
    /// Always `payment_label`.
    pub object: &'static str,
    pub payment_id: String,
    /// `fraud`, `legitimate` or `none`.
    pub label: String,
    /// `review`, `chargeback` or `manual`.
    pub source: String,
    pub note: Option<String>,
    pub actor: String,
    pub created_at: Timestamp,
}

/// A payment label.
pub fn label(l: &rialto_store::LabelRecord) -> Label {
    Label {
        id: l.id.clone(),
        object: "payment_label",
        payment_id: l.payment_id.clone(),
        label: l.label.clone(),
        source: l.source.clone(),
        note: l.note.clone(),
        actor: l.actor.clone(),
        created_at: Timestamp(l.created_at_us),
    }
}

/// An earlier version of a risk rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleVersion {
    pub version: i64,
    /// The rule document of that version (null when it was a deletion).
    pub document: Value,
    pub created_at: Timestamp,
}

/// A risk rule: its JSON document (docs/RISK_RULES.md) and version.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskRule {
    /// The rule's name: 1 to 64 letters, digits, `_` or `-`.
    pub id: String,
    /// Always `risk_rule`.
    pub object: &'static str,
    pub version: i64,
    pub deleted: bool,
    /// The rule document (`docs/risk-rule.schema.json`).
    pub document: Value,
    pub updated_at: Timestamp,
    /// Every earlier version, oldest first: only when one rule is asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<RuleVersion>>,
}

/// A stored rule: the document with its version.
pub fn risk_rule(r: &RuleRecord) -> RiskRule {
    RiskRule {
        id: r.id.clone(),
        object: "risk_rule",
        version: r.version,
        deleted: r.deleted,
        document: serde_json::from_str(&r.document).unwrap_or(Value::Null),
        updated_at: Timestamp(r.updated_at_us),
        versions: None,
    }
}

/// A fraud model (never its artifact).
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskModel {
    /// `mdl_` and 32 hex digits.
    pub id: String,
    /// Always `risk_model`.
    pub object: &'static str,
    pub name: String,
    pub version: i64,
    /// `logistic_regression`, `gradient_boosting` or `onnx`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `training`, `testing`, `challenger`, `champion` or `deprecated`.
    pub status: &'static str,
    /// Payment feature names, in the model's input order.
    pub features: Vec<String>,
    pub metadata: Value,
    /// `{"merchants": {id: risk}, "default": risk}`.
    pub merchant_risk: Value,
    pub dataset_rows: i64,
    pub trained_at: Option<Timestamp>,
    /// Basis points of payments a challenger scores.
    pub challenger_share_bp: i64,
    pub deployed_at: Option<Timestamp>,
    /// The champion this one replaced (what rollback deploys).
    pub previous_id: Option<String>,
    pub error: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Live results (scores by role and outcome, decisions, latency, precision, recall, AUC):
    /// only when one model is asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<Value>,
}

/// A model (without its artifact).
pub fn risk_model(m: &ModelRecord) -> RiskModel {
    let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(Value::Null);
    RiskModel {
        id: m.id.clone(),
        object: "risk_model",
        name: m.name.clone(),
        version: m.version,
        kind: m.kind.clone(),
        status: m.status.as_str(),
        features: m.features.clone(),
        metadata: parse(&m.metadata),
        merchant_risk: parse(&m.merchant_risk),
        dataset_rows: m.dataset_rows,
        trained_at: m.trained_at_us.map(Timestamp),
        challenger_share_bp: m.challenger_share_bp,
        deployed_at: m.deployed_at_us.map(Timestamp),
        previous_id: m.previous_id.clone(),
        error: m.error.clone(),
        created_by: m.created_by.clone(),
        created_at: Timestamp(m.created_at_us),
        updated_at: Timestamp(m.updated_at_us),
        live: None,
    }
}

/// A kept credit score: the answer as given, its applicant and time.
pub fn credit_score(r: &CreditScoreRecord) -> Value {
    let mut v: Value = serde_json::from_str(&r.answer).unwrap_or_else(|_| json!({}));
    v["id"] = json!(r.id);
    v["applicant"] = serde_json::from_str(&r.applicant).unwrap_or(Value::Null);
    v["created_at"] = time_text(r.created_at_us);
    v
}

/// A model's merchant risk table as it is stored: `{"merchants": {id: risk}, "default": risk}`.
pub(crate) fn merchant_risk(table: &BTreeMap<String, f64>, default: f64) -> String {
    json!({"merchants": table, "default": default}).to_string()
}

// ---- sanctions ----

/// A list version as the API shows it.
pub fn list_version(v: &rialto_store::ListVersion) -> Value {
    json!({
        "id": v.id, "source": v.source.as_str(), "version": v.version, "entries": v.entries, "added": v.added,
        "changed": v.changed, "removed": v.removed, "digest": v.digest, "origin": v.origin,
        "imported_at": time_text(v.imported_at_us),
    })
}

/// The answer of an import.
pub fn import_answer(o: &rialto_store::ImportOutcome) -> Value {
    let mut v = list_version(&o.version);
    v["created"] = json!(o.created);
    v
}

/// A user's screening (or `unscreened`).
pub fn screening(r: Option<&rialto_store::ScreeningRecord>, user_id: &str) -> Value {
    let Some(r) = r else {
        return json!({"user_id": user_id, "status": "unscreened", "score": 0.0, "reason": "not screened yet", "matches": [], "cleared": [], "versions": [], "screened_at": null});
    };
    let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(json!([]));
    json!({
        "user_id": r.user_id, "status": r.status.as_str(), "score": r.score_bp as f64 / 10_000.0, "reason": r.reason,
        "matches": parse(&r.matches), "cleared": parse(&r.cleared), "versions": parse(&r.versions),
        "screened_at": time_text(r.screened_at_us),
    })
}

/// The clearance answer: the clearance and the user's screening after it.
pub fn clearance_answer(c: &rialto_store::ClearanceRecord, s: &rialto_store::ScreeningRecord) -> Value {
    json!({
        "id": c.id, "user_id": c.user_id, "source": c.source, "entry_id": c.entry_id, "entry_digest": c.entry_digest,
        "score": c.score_bp as f64 / 10_000.0, "reason": c.reason, "created_by": c.created_by,
        "created_at": time_text(c.created_at_us), "screening": screening(Some(s), &s.user_id),
    })
}

/// The screening answer of a re-screening.
pub fn screening_answer(s: &rialto_store::ScreeningRecord) -> Value {
    screening(Some(s), &s.user_id)
}

/// A document as the API shows it.
pub fn kyc_document(d: &rialto_store::KycDocument) -> Value {
    json!({
        "id": d.id, "object": "kyc_document", "user_id": d.user_id, "type": d.kind.as_str(),
        "issuing_country": d.issuing_country, "number": format!("•••• {}", d.number_last4),
        "expires_on": d.expires_on, "status": d.status.as_str(), "reason": d.reason, "provider": d.provider,
        "reviewed_by": d.reviewed_by, "created_at": time_text(d.created_at_us),
        "updated_at": time_text(d.updated_at_us),
    })
}

/// A case as the API shows it.
pub fn case_json(c: &rialto_store::CaseRecord) -> Value {
    json!({
        "id": c.id, "object": "compliance_case", "user_id": c.user_id, "status": c.status.as_str(), "hold": c.hold,
        "assignee": c.assignee, "disposition": c.disposition.map(rialto_compliance::cases::Disposition::as_str), "reason": c.reason,
        "alert_count": c.alerts, "sar_report_id": c.sar_report_id, "opened_at": time_text(c.opened_at_us),
        "updated_at": time_text(c.updated_at_us), "closed_at": c.closed_at_us.map(time_text),
    })
}

/// An alert as the API shows it.
pub fn alert_json(a: &rialto_store::AlertRecord) -> Value {
    json!({
        "id": a.id, "object": "compliance_alert", "case_id": a.case_id, "user_id": a.user_id,
        "typology": a.typology.as_str(), "action": if a.action == rialto_compliance::aml::AlertAction::Hold { "hold" } else { "alert" },
        "payment_id": a.payment_id, "summary": a.summary, "evidence": a.evidence, "figures": a.figures,
        "occurred_at": time_text(a.occurred_at_us), "created_at": time_text(a.created_at_us),
    })
}

pub fn note_json(n: &rialto_store::NoteRecord) -> Value {
    json!({
        "id": n.id, "object": "case_note", "kind": n.kind, "text": n.text, "evidence": n.evidence,
        "created_by": n.created_by, "created_at": time_text(n.created_at_us),
    })
}

/// A report as the API shows it.
pub fn report_json(r: &rialto_store::ReportRecord) -> Value {
    json!({
        "id": r.id, "object": "compliance_report", "type": r.kind.as_str(), "user_id": r.user_id, "case_id": r.case_id,
        "day": r.day, "currency": r.currency, "amount": r.amount, "data": r.data, "created_by": r.created_by,
        "created_at": time_text(r.created_at_us),
    })
}

/// A mirror account's reconciliation settings.
pub fn recon_account_json(a: &rialto_store::ReconAccount) -> Value {
    let rules: Value = serde_json::from_str(&a.rules_json).unwrap_or(Value::Null);
    let mapping: Value = a.csv_mapping.as_deref().and_then(|m| serde_json::from_str(m).ok()).unwrap_or(Value::Null);
    json!({
        "object": "reconciliation_account", "account_id": a.account_id, "bank_account": a.bank_account,
        "currency": a.currency.code(), "normal_balance": a.normal_balance.as_str(), "fees_account_id": a.fees_account_id,
        "write_off_max": a.write_off_max, "rules": rules, "csv_mapping": mapping,
        "created_at": time_text(a.created_at_us), "updated_at": time_text(a.updated_at_us),
    })
}

fn balance_json(b: Option<rialto_recon::Balance>) -> Value {
    b.map_or(Value::Null, |b| json!({"amount": b.amount, "currency": b.currency.code(), "date": b.date.to_string()}))
}

/// An imported statement.
pub fn statement_json(s: &rialto_store::StatementRecord) -> Value {
    json!({
        "id": s.id, "object": "statement", "account_id": s.account_id, "account": s.bank_account,
        "format": s.format, "version": s.version, "statement_id": s.statement_ref, "sequence": s.sequence, "page": s.page,
        "from_date": s.from_date.to_string(), "to_date": s.to_date.to_string(),
        "opening": balance_json(s.opening), "closing": balance_json(s.closing),
        "lines": s.line_count, "booked_total": s.booked_total, "adds_up": s.adds_up, "problems": s.problems,
        "sequence_status": s.sequence_status, "sequence_note": s.sequence_note, "source": s.source,
        "already_imported": s.already_imported, "created_by": s.created_by, "created_at": time_text(s.created_at_us),
    })
}

/// A statement line.
pub fn statement_line_json(l: &rialto_store::LineRecord) -> Value {
    let x = &l.line;
    let day = |d: Option<rialto_recon::Date>| d.map(|d| d.to_string());
    json!({
        "id": l.id, "object": "statement_line", "statement_id": l.statement_id, "index": l.idx, "amount": x.amount,
        "currency": x.currency.code(), "booking_date": day(x.booking_date), "value_date": day(x.value_date),
        "status": x.status.as_str(), "reversal": x.reversal, "end_to_end_id": x.end_to_end_id,
        "servicer_reference": x.servicer_ref, "customer_reference": x.customer_ref, "remittance_information": x.remittance,
        "counterparty": x.counterparty, "counterparty_account": x.counterparty_account, "bank_transaction_code": x.bank_code,
        "batch_count": x.batch_count, "match_id": l.match_id,
    })
}

/// A reconciliation match.
pub fn recon_match_json(m: &rialto_store::MatchRecord) -> Value {
    json!({
        "id": m.id, "object": "reconciliation_match", "account_id": m.account_id, "run_id": m.run_id, "rule": m.rule,
        "outcome": m.outcome, "status": m.status, "confidence": m.confidence, "difference": m.difference,
        "reason": m.reason, "line_ids": m.line_ids, "entry_seqs": m.entry_seqs, "line_date": m.line_date.to_string(),
        "resolution": m.resolution, "adjustment": m.adjustment, "journal_entry_id": m.journal_entry_id, "note": m.note,
        "created_by": m.created_by, "created_at": time_text(m.created_at_us), "updated_at": time_text(m.updated_at_us),
    })
}

/// A reconciliation run.
pub fn recon_run_json(r: &rialto_store::RunRecord) -> Value {
    let count = |k: &str| r.counts.get(k).and_then(|v| v["count"].as_i64()).unwrap_or(0);
    let lines: i64 = r
        .counts
        .as_object()
        .map(|o| o.iter().filter(|(k, _)| k.starts_with("lines_")).filter_map(|(_, v)| v["count"].as_i64()).sum())
        .unwrap_or(0);
    let settled = count("lines_matched")
        + r.counts.as_object().map_or(0, |o| {
            o.iter().filter(|(k, _)| k.starts_with("lines_resolved_")).filter_map(|(_, v)| v["count"].as_i64()).sum()
        });
    let pct = if lines == 0 { Value::Null } else { json!((settled * 10_000 / lines) as f64 / 100.0) };
    json!({
        "id": r.id, "object": "reconciliation_run", "account_id": r.account_id, "triggered_by": r.triggered_by,
        "from_date": r.from_date.map(|d| d.to_string()), "to_date": r.to_date.map(|d| d.to_string()),
        "counts": r.counts, "lines_considered": lines, "reconciled_percent": pct,
        "statement_balance": r.statement_balance, "ledger_balance": r.ledger_balance, "adjustments": r.adjustments,
        "drift": r.drift, "created_by": r.created_by, "created_at": time_text(r.created_at_us),
    })
}
