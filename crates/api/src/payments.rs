//! Payment routes: create (through the gates), read, list, review, cancel, refund.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rialto_core::ids::{self, new_id, Id};
use rialto_payments::{Command as PaymentCommand, Counterparty, Location, PaymentContext, PaymentKind, PaymentMethod};
use rialto_store::{Command, NewLabel, NewPayment, NewRefund, PaymentFilter, ReviewFilter, LABELS, LABEL_SOURCES};
use serde_json::Value;

use crate::auth::Ctx;
use crate::contract::{handler, Operation, Verb};
use crate::contract::{names, MetadataMap, MinorUnits};
use crate::error::echo;
use crate::error::ApiError;
use crate::http::{filter_id, paging, params, respond, time_param, write, Body, Params};
use crate::input::{id_of, Fields, PathId};
use crate::permissions::Permission::{Read, Review, Write};
use crate::{present, AppState};
use utoipa::ToSchema;

/// The risk context of a payment: a bounded object of known fields.
fn context(f: &mut Fields) -> Result<PaymentContext, ApiError> {
    let device_id = f.opt_string("device_id", 128)?;
    let ip_address = f.opt_string("ip_address", 64)?;
    if ip_address.as_ref().is_some_and(|v| v.parse::<std::net::IpAddr>().is_err()) {
        return Err(ApiError::invalid("ip_address must be an IPv4 or IPv6 address").param("ip_address"));
    }
    let merchant_id = f.opt_string("merchant_id", 64)?;
    let mut location = None;
    if let Some(loc) = f.opt_object("location")? {
        let bad = |m: &str| ApiError::invalid(m.to_string()).param("location");
        let mut l = Location::default();
        for (k, v) in loc {
            match (k.as_str(), &v) {
                ("country", Value::String(c)) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) => {
                    l.country = Some(c.clone());
                }
                ("country", _) => return Err(bad("location.country must be an ISO 3166 alpha-2 code, e.g. DE")),
                ("lat", Value::Number(n)) if n.as_f64().is_some_and(|x| (-90.0..=90.0).contains(&x)) => {
                    l.lat = n.as_f64();
                }
                ("lon", Value::Number(n)) if n.as_f64().is_some_and(|x| (-180.0..=180.0).contains(&x)) => {
                    l.lon = n.as_f64();
                }
                ("lat" | "lon", _) => return Err(bad("location.lat and location.lon must be degrees in range")),
                _ => return Err(bad("location takes country, lat and lon")),
            }
        }
        location = Some(l);
    }
    let counterparty = match f.opt_object("counterparty")? {
        None => None,
        Some(c) => Some(counterparty(c)?),
    };
    Ok(PaymentContext { device_id, ip_address, merchant_id, card_bin: None, location, counterparty })
}

/// The payment's other party: a name (screened) and an optional country.
fn counterparty(c: serde_json::Map<String, Value>) -> Result<Counterparty, ApiError> {
    let bad = |m: &str| ApiError::invalid(m.to_string()).param("counterparty");
    let mut out = Counterparty::default();
    for (k, v) in c {
        match (k.as_str(), v) {
            ("name", Value::String(n)) if n.chars().count() <= rialto_compliance::normalize::NAME_MAX => {
                if let Err(e @ rialto_compliance::NameError::Empty) = rialto_compliance::normalize(&n) {
                    return Err(crate::sanctions::name_error(&e, "counterparty.name"));
                }
                out.name = n;
            }
            ("name", _) => return Err(bad("counterparty.name must be a string of at most 300 characters")),
            ("country", Value::String(c)) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) => {
                out.country = Some(c);
            }
            ("country", _) => return Err(bad("counterparty.country must be an ISO 3166 alpha-2 code, e.g. DE")),
            _ => return Err(bad("counterparty takes name and country")),
        }
    }
    if out.name.is_empty() {
        return Err(bad("counterparty.name is required"));
    }
    Ok(out)
}

/// The optional field `name`, one of `all` by its text, `default` when absent.
fn choice<T: Copy>(
    f: &mut Fields,
    name: &str,
    default: T,
    all: &[T],
    text: fn(T) -> &'static str,
) -> Result<T, ApiError> {
    let Some(given) = f.opt_string(name, 20)? else { return Ok(default) };
    all.iter().copied().find(|v| text(*v) == given).ok_or_else(|| {
        let texts: Vec<&str> = all.iter().map(|v| text(*v)).collect();
        ApiError::invalid(format!("{name} must be one of {}", texts.join(", "))).param(name)
    })
}

// ---- request types (their schemas are the API description's; `Fields::of` refuses what they do not name) ----

names!(
    /// What a payment is.
    PaymentKindName: "transfer", "deposit", "withdrawal", "fee"
);
names!(
    /// How it is paid.
    PaymentMethodName: "card", "bank", "wallet", "cash"
);
names!(
    /// A review decision's label: `none` records no label.
    ReviewLabelName: "fraud", "legitimate", "none"
);
names!(
    /// A payment's label.
    LabelName: "fraud", "legitimate"
);
names!(
    /// Where a label came from.
    LabelSourceName: "review", "chargeback", "manual"
);

/// Where the payer was.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PaymentLocation {
    /// ISO 3166 alpha-2, e.g. `DE`.
    #[schema(pattern = "^[A-Z]{2}$")]
    country: Option<String>,
    #[schema(minimum = -90, maximum = 90)]
    lat: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    lon: Option<f64>,
}

/// A new payment: it passes the account, risk, compliance and balance gates, then moves
/// money in the ledger (or waits for review).
#[derive(ToSchema)]
#[schema(example = json!({"user_id": "user_0190f0a0b0c07d8e9fa0b1c2d3e4f501", "source_account_id": "acct_0190f0a0b0c07d8e9fa0b1c2d3e4f501", "destination_account_id": "acct_0190f0a0b0c07d8e9fa0b1c2d3e4f502", "amount": 2500, "currency": "USD", "method": "card"}))]
#[allow(dead_code)]
pub struct PaymentCreate {
    /// The payer (`user_...`).
    user_id: String,
    source_account_id: String,
    /// Not the source.
    destination_account_id: String,
    /// Minor units.
    amount: MinorUnits,
    #[schema(pattern = "^[A-Z]{3}$")]
    currency: String,
    /// Default `transfer`.
    #[serde(rename = "type")]
    kind: Option<PaymentKindName>,
    /// Default `wallet`.
    method: Option<PaymentMethodName>,
    #[schema(max_length = 255)]
    reference: Option<String>,
    #[schema(max_length = 1000)]
    description: Option<String>,
    metadata: Option<MetadataMap>,
    #[schema(max_length = 128)]
    device_id: Option<String>,
    /// IPv4 or IPv6.
    #[schema(max_length = 64)]
    ip_address: Option<String>,
    location: Option<PaymentLocation>,
    #[schema(max_length = 64)]
    merchant_id: Option<String>,
    /// The other party (a beneficiary outside Rialto): screened against the sanctions lists.
    counterparty: Option<PaymentCounterparty>,
}

/// The other party of a payment.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PaymentCounterparty {
    #[schema(max_length = 300)]
    name: String,
    /// ISO 3166 alpha-2, e.g. `DE`.
    #[schema(pattern = "^[A-Z]{2}$")]
    country: Option<String>,
}

/// A reviewer's decision.
#[derive(ToSchema)]
#[schema(example = json!({"note": "customer confirmed by phone"}))]
#[allow(dead_code)]
pub struct ReviewNote {
    #[schema(max_length = 1000)]
    note: Option<String>,
    /// Default: `legitimate` on approve, `fraud` on decline.
    label: Option<ReviewLabelName>,
}

/// A label for training and for the models' live precision and recall.
#[derive(ToSchema)]
#[schema(example = json!({"label": "fraud", "source": "chargeback"}))]
#[allow(dead_code)]
pub struct LabelCreate {
    label: LabelName,
    /// Default `manual`.
    source: Option<LabelSourceName>,
    #[schema(max_length = 1000)]
    note: Option<String>,
}

/// Why a payment is cancelled.
#[derive(ToSchema)]
#[schema(example = json!({"reason": "customer asked"}))]
#[allow(dead_code)]
pub struct PaymentCancel {
    #[schema(max_length = 1000)]
    reason: Option<String>,
}

/// A refund of part or all of what remains.
#[derive(ToSchema)]
#[schema(example = json!({"amount": 500, "reason": "damaged item"}))]
#[allow(dead_code)]
pub struct RefundCreate {
    /// Minor units; default what remains.
    amount: Option<MinorUnits>,
    #[schema(max_length = 1000)]
    reason: Option<String>,
}

/// A settlement run: every merchant account, or one.
#[derive(ToSchema)]
#[schema(example = json!({}))]
#[allow(dead_code)]
pub struct SettlementCreate {
    destination_account_id: Option<String>,
}

/// `POST /v1/payments`
pub async fn create(State(s): State<AppState>, ctx: Ctx, headers: HeaderMap, body: Body) -> Response {
    let lists = s.sanctions.clone();
    write(&s, &ctx, &headers, "/v1/payments", body, StatusCode::CREATED, |b| {
        let mut f = Fields::of::<PaymentCreate>(b)?;
        let amount = f.amount("amount")?;
        let currency = f.currency("currency")?;
        let user_id = f.string("user_id", 64)?;
        let user_id = id_of::<ids::UserId>(&user_id).map_err(|e| e.param("user_id"))?;
        let src = f.string("source_account_id", 64)?;
        let dst = f.string("destination_account_id", 64)?;
        let src = id_of::<ids::AccountId>(&src).map_err(|e| e.param("source_account_id"))?;
        let dst = id_of::<ids::AccountId>(&dst).map_err(|e| e.param("destination_account_id"))?;
        if src == dst {
            return Err(ApiError::invalid("source and destination must differ").param("destination_account_id"));
        }
        let kind = choice(&mut f, "type", PaymentKind::Transfer, PaymentKind::ALL, PaymentKind::as_str)?;
        let method = choice(&mut f, "method", PaymentMethod::Wallet, PaymentMethod::ALL, PaymentMethod::as_str)?;
        let reference = f.opt_string("reference", 255)?;
        let description = f.opt_string("description", 1000)?;
        let metadata = f.metadata("metadata")?;
        let context = context(&mut f)?;
        let counterparty_screening = context.counterparty.as_ref().map(|c| {
            let q = rialto_compliance::Query { name: c.name.clone(), country: c.country.clone(), ..Default::default() };
            let r = lists.screen("", &q, &[]);
            (r.status, format!("counterparty: {}", r.reason))
        });
        Ok(Command::Payments(PaymentCommand::Create(Box::new(NewPayment {
            id: new_id::<ids::PaymentId>(),
            transfer_id: new_id::<ids::TransferId>(),
            user_id,
            source_account_id: src,
            destination_account_id: dst,
            amount,
            currency,
            kind,
            method,
            reference,
            description,
            metadata,
            context,
            counterparty_screening,
        }))))
    })
    .await
}

/// `GET /v1/payments/{id}`
pub async fn get(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = id_of::<ids::PaymentId>(&id)?;
            let p = s.db.payment(&id).await?.ok_or_else(|| ApiError::not_found("payment", &id))?;
            Ok(present::payment(&p))
        }
        .await,
    )
}

/// `GET /v1/payments?user_id=&account_id=&status=&from=&to=`
pub async fn list(State(s): State<AppState>, q: Params) -> Response {
    respond(
        async {
            let p = params(
                q,
                &["limit", "starting_after", "ending_before", "user_id", "account_id", "status", "from", "to"],
            )?;
            let (cursor, limit) = paging(&p, ids::PaymentId::PREFIX)?;
            if let Some(st) = p.get("status") {
                if rialto_payments::PaymentStatus::parse(st).is_none() {
                    return Err(ApiError::invalid(format!("unknown status `{}`", echo(st))).param("status"));
                }
            }
            let filter = PaymentFilter {
                user_id: filter_id::<ids::UserId>(&p, "user_id")?,
                account_id: filter_id::<ids::AccountId>(&p, "account_id")?,
                status: p.get("status").cloned(),
                from_us: time_param(&p, "from")?,
                to_us: time_param(&p, "to")?,
            };
            Ok(present::page(&s.db.payments(&filter, &cursor, limit).await?, present::payment))
        }
        .await,
    )
}

async fn decide(s: AppState, ctx: Ctx, headers: HeaderMap, id: String, body: Body, approve: bool) -> Response {
    let path = format!("/v1/payments/{id}/{}", if approve { "approve" } else { "decline" });
    let actor = ctx.caller.key_id.clone();
    write(&s, &ctx, &headers, &path, body, StatusCode::OK, |b| {
        let mut f = Fields::of::<ReviewNote>(b)?;
        let note = f.opt_string("note", 1000)?;
        let payment_id = id_of::<ids::PaymentId>(&id)?;
        // The decision labels the payment for training unless told otherwise.
        let label = match f.opt_string("label", 20)?.as_deref() {
            None => Some(if approve { "legitimate" } else { "fraud" }.to_string()),
            Some("none") => None,
            Some(l) if LABELS.contains(&l) => Some(l.to_string()),
            Some(_) => return Err(ApiError::invalid("label must be fraud, legitimate or none").param("label")),
        };
        let label = label.map(|label| NewLabel {
            id: new_id::<ids::LabelId>(),
            payment_id: payment_id.clone(),
            label,
            source: "review".into(),
            note: note.clone(),
            actor: actor.clone(),
        });
        Ok(Command::Payments(PaymentCommand::Review { payment_id, approve, note, label }))
    })
    .await
}

/// `POST /v1/payments/{id}/labels` (reviewer): `label` fraud|legitimate, `source`
/// review|chargeback|manual (default manual), `note`.
pub async fn add_label(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    let path = format!("/v1/payments/{id}/labels");
    let actor = ctx.caller.key_id.clone();
    write(&s, &ctx, &h, &path, b, StatusCode::CREATED, |b| {
        let mut f = Fields::of::<LabelCreate>(b)?;
        let label = f.string("label", 20)?;
        if !LABELS.contains(&label.as_str()) {
            return Err(ApiError::invalid("label must be fraud or legitimate").param("label"));
        }
        let source = f.opt_string("source", 20)?.unwrap_or_else(|| "manual".into());
        if !LABEL_SOURCES.contains(&source.as_str()) {
            return Err(
                ApiError::invalid(format!("source must be one of {}", LABEL_SOURCES.join(", "))).param("source")
            );
        }
        let note = f.opt_string("note", 1000)?;
        Ok(Command::Payments(PaymentCommand::Label(NewLabel {
            id: new_id::<ids::LabelId>(),
            payment_id: id_of::<ids::PaymentId>(&id)?,
            label,
            source,
            note,
            actor,
        })))
    })
    .await
}

/// `GET /v1/payments/{id}/labels`: oldest first; the last is the payment's label.
pub async fn labels(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = id_of::<ids::PaymentId>(&id)?;
            s.db.payment(&id).await?.ok_or_else(|| ApiError::not_found("payment", &id))?;
            Ok(present::List::all(s.db.labels(&id).await?.iter().map(present::label).collect()))
        }
        .await,
    )
}

/// `GET /v1/reviews?user_id=&currency=&min_amount=&from=`: payments held for review, oldest first.
pub async fn reviews(State(s): State<AppState>, q: Params) -> Response {
    respond(
        async {
            let p =
                params(q, &["limit", "starting_after", "ending_before", "user_id", "currency", "min_amount", "from"])?;
            let (cursor, limit) = paging(&p, ids::PaymentId::PREFIX)?;
            let currency = match p.get("currency") {
                Some(c) => Some(
                    rialto_core::Currency::parse(c)
                        .map_err(|e| ApiError::invalid(e.to_string()).param("currency"))?
                        .code()
                        .to_string(),
                ),
                None => None,
            };
            let min_amount = match p.get("min_amount") {
                Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                    ApiError::invalid("min_amount must be a non-negative integer (minor units)").param("min_amount")
                })?),
                None => None,
            };
            let filter = ReviewFilter {
                user_id: filter_id::<ids::UserId>(&p, "user_id")?,
                currency,
                min_amount,
                from_us: time_param(&p, "from")?,
            };
            Ok(present::page(&s.db.reviews(&filter, &cursor, limit).await?, present::payment))
        }
        .await,
    )
}

/// `POST /v1/payments/{id}/approve` (reviewer)
pub async fn approve(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    decide(s, ctx, h, id, b, true).await
}

/// `POST /v1/payments/{id}/decline` (reviewer)
pub async fn decline(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    decide(s, ctx, h, id, b, false).await
}

/// `POST /v1/payments/{id}/cancel`
pub async fn cancel(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    let path = format!("/v1/payments/{id}/cancel");
    write(&s, &ctx, &h, &path, b, StatusCode::OK, |b| {
        let mut f = Fields::of::<PaymentCancel>(b)?;
        let reason = f.opt_string("reason", 1000)?;
        Ok(Command::Payments(PaymentCommand::Cancel { payment_id: id_of::<ids::PaymentId>(&id)?, reason }))
    })
    .await
}

/// `POST /v1/payments/{id}/refunds` with an optional `amount` (default: what remains).
pub async fn refund(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    let path = format!("/v1/payments/{id}/refunds");
    write(&s, &ctx, &h, &path, b, StatusCode::CREATED, |b| {
        let mut f = Fields::of::<RefundCreate>(b)?;
        let amount = f.opt_amount("amount")?;
        let reason = f.opt_string("reason", 1000)?;
        Ok(Command::Payments(PaymentCommand::Refund(NewRefund {
            payment_id: id_of::<ids::PaymentId>(&id)?,
            refund_id: new_id::<ids::RefundId>(),
            transfer_id: new_id::<ids::TransferId>(),
            amount,
            reason,
        })))
    })
    .await
}

/// `POST /v1/settlements` with an optional `destination_account_id`: settles pending clearings
/// now (the scheduler also runs it).
pub async fn settle(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, b: Body) -> Response {
    write(&s, &ctx, &h, "/v1/settlements", b, StatusCode::CREATED, |b| {
        let mut f = Fields::of::<SettlementCreate>(b)?;
        let destination_account_id = f
            .opt_string("destination_account_id", 64)?
            .map(|d| id_of::<ids::AccountId>(&d).map_err(|e| e.param("destination_account_id")))
            .transpose()?;
        Ok(Command::Payments(PaymentCommand::Settle { destination_account_id }))
    })
    .await
}

/// `GET /v1/settlements/{id}`
pub async fn get_settlement(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = id_of::<ids::SettlementId>(&id)?;
            let st = s.db.settlement(&id).await?.ok_or_else(|| ApiError::not_found("settlement", &id))?;
            Ok(present::settlement(&st))
        }
        .await,
    )
}

/// The operations of this module: the router, the permission check and the API description read them.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    Operation::new::<present::Payment>(Verb::Post, "/v1/payments", Write, "Create a payment: accounts, risk, compliance and balance gates, then the ledger", handler!(create))
        .body::<PaymentCreate>()
        .status(201),
    Operation::new::<present::List<present::Payment>>(Verb::Get, "/v1/payments", Read, "List payments (filters: user_id, account_id, status, from, to)", handler!(list))
        .queries(&["limit", "starting_after", "ending_before", "user_id", "account_id", "status", "from", "to"]),
    Operation::new::<present::Payment>(Verb::Get, "/v1/payments/{id}", Read, "Get a payment with its status history and refunds", handler!(get)),
    Operation::new::<present::Payment>(Verb::Post, "/v1/payments/{id}/approve", Review, "Approve a payment held for review (posts the hold)", handler!(approve))
        .body::<ReviewNote>(),
    Operation::new::<present::Payment>(Verb::Post, "/v1/payments/{id}/decline", Review, "Decline a payment held for review (releases the hold)", handler!(decline))
        .body::<ReviewNote>(),
    Operation::new::<present::Label>(Verb::Post, "/v1/payments/{id}/labels", Review, "Label a payment fraud or legitimate (source: review|chargeback|manual)", handler!(add_label))
        .body::<LabelCreate>()
        .status(201),
    Operation::new::<present::List<present::Label>>(Verb::Get, "/v1/payments/{id}/labels", Read, "A payment's labels, oldest first (the last one counts)", handler!(labels)),
    Operation::new::<present::List<present::Payment>>(Verb::Get, "/v1/reviews", Read, "The review queue: payments held for review, oldest first (filters: user_id, currency, min_amount, from)", handler!(reviews))
        .queries(&["limit", "starting_after", "ending_before", "user_id", "currency", "min_amount", "from"]),
    Operation::new::<present::Payment>(Verb::Post, "/v1/payments/{id}/cancel", Write, "Cancel a pending or held payment", handler!(cancel))
        .body::<PaymentCancel>(),
    Operation::new::<present::RefundWithPayment>(Verb::Post, "/v1/payments/{id}/refunds", Write, "Refund part or all of what remains", handler!(refund))
        .body::<RefundCreate>()
        .status(201),
    Operation::new::<present::List<present::Settlement>>(Verb::Post, "/v1/settlements", Write, "Settle pending clearings per merchant account and currency, with fees", handler!(settle))
        .body::<SettlementCreate>()
        .status(201),
    Operation::new::<present::Settlement>(Verb::Get, "/v1/settlements/{id}", Read, "Get a settlement batch and its payments", handler!(get_settlement)),
];
