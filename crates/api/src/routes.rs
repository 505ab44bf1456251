//! HTTP handlers. Each parses its input into domain types, then reads from the store or
//! hands a command to the writer.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rialto_core::ids::{self, new_id, Id};
use rialto_core::ledger::{Direction, Line, StatusChange, TransferSpec, JOURNAL_LINES_MAX};
use rialto_payments::{KycStatus, UserStatus};
use rialto_store::{Command, NewAccount, NewJournal, NewTransfer, NewUser, Output, Reply, Role, TransferFilter};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::auth::Ctx;
use crate::contract::{handler, Operation, Verb, PAGE};
use crate::error::ApiError;
use crate::http::{
    body_bytes, filter_id, page_limit, paging, paging_with, params, respond, time_param, write, Body, Params, SeqCursor,
};
use crate::permissions::Permission::{Administer, Read, Review, Write};
use std::collections::BTreeMap;

use crate::contract::{names, MetadataMap, MinorUnits};
use crate::input::{id_of, parse_amount, Fields, PathId};
use crate::{present, AppState};
use serde::Serialize;
use utoipa::ToSchema;

/// Longest pending-transfer lifetime: 30 days.
pub const PENDING_EXPIRY_SECONDS_MAX: i64 = 30 * 24 * 3600;

// ---- request types (their schemas are the API description's; `Fields::of` refuses what they do not name) ----

names!(
    /// A user's role.
    UserRoleName: "customer", "merchant", "admin", "support"
);
names!(
    /// A user's status.
    UserStatusName: "active", "blocked"
);
names!(
    /// A user's KYC status.
    KycStatusName: "pending", "verified", "rejected"
);
names!(
    /// A side of a posting.
    DirectionName: "debit", "credit"
);
names!(
    /// An API key's role: admin, reviewer, writer or reader.
    RoleName: "admin", "reviewer", "writer", "reader"
);

/// A new user.
#[derive(ToSchema)]
#[schema(example = json!({"name": "Ada Lovelace", "email": "ada@example.com", "role": "customer"}))]
#[allow(dead_code)]
pub struct UserCreate {
    /// 1 to 200 characters.
    #[schema(max_length = 200)]
    name: String,
    #[schema(max_length = 254)]
    email: Option<String>,
    /// Digits, spaces, `+`, `-`, `(` or `)`; at least 5 digits.
    #[schema(max_length = 32)]
    phone: Option<String>,
    /// Default `customer`.
    role: Option<UserRoleName>,
}

/// A change of a user's status and/or KYC status (at least one).
#[derive(ToSchema)]
#[schema(example = json!({"kyc_status": "verified"}))]
#[allow(dead_code)]
pub struct UserUpdate {
    status: Option<UserStatusName>,
    kyc_status: Option<KycStatusName>,
}

/// A new account.
#[derive(ToSchema)]
#[schema(example = json!({"currency": "USD", "name": "Main wallet"}))]
#[allow(dead_code)]
pub struct AccountCreate {
    /// ISO 4217 code.
    #[schema(pattern = "^[A-Z]{3}$")]
    currency: String,
    #[schema(max_length = 200)]
    name: Option<String>,
    /// The owner (`user_...`).
    user_id: Option<String>,
    /// Default false.
    allow_negative_balance: Option<bool>,
    metadata: Option<MetadataMap>,
}

/// A new transfer: posted now, or pending (a hold) until posted, voided or expired.
#[derive(ToSchema)]
#[schema(example = json!({"source_account_id": "acct_0190f0a0b0c07d8e9fa0b1c2d3e4f501", "destination_account_id": "acct_0190f0a0b0c07d8e9fa0b1c2d3e4f502", "amount": 1050, "currency": "USD"}))]
#[allow(dead_code)]
pub struct TransferCreate {
    source_account_id: String,
    destination_account_id: String,
    amount: MinorUnits,
    #[schema(pattern = "^[A-Z]{3}$")]
    currency: String,
    #[schema(max_length = 500)]
    description: Option<String>,
    #[schema(max_length = 200)]
    reference: Option<String>,
    metadata: Option<MetadataMap>,
    /// A pending transfer holds the amount until posted or voided.
    pending: Option<bool>,
    /// A pending transfer's lifetime (at most 30 days).
    #[schema(minimum = 1, maximum = 2_592_000)]
    expires_in_seconds: Option<i64>,
}

/// Posting a pending transfer, optionally for less.
#[derive(ToSchema)]
#[schema(example = json!({"amount": 1000}))]
#[allow(dead_code)]
pub struct TransferPost {
    /// At most the pending amount; default all of it.
    amount: Option<MinorUnits>,
}

/// One line of a journal entry.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct JournalLineCreate {
    account_id: String,
    direction: DirectionName,
    amount: MinorUnits,
}

/// A balanced journal entry: debits equal credits per currency.
#[derive(ToSchema)]
#[schema(example = json!({"lines": [
    {"account_id": "acct_0190f0a0b0c07d8e9fa0b1c2d3e4f501", "direction": "debit", "amount": 500},
    {"account_id": "acct_0190f0a0b0c07d8e9fa0b1c2d3e4f502", "direction": "credit", "amount": 500}]}))]
#[allow(dead_code)]
pub struct JournalCreate {
    #[schema(min_items = 2, max_items = 50)]
    lines: Vec<JournalLineCreate>,
    #[schema(max_length = 500)]
    description: Option<String>,
    metadata: Option<MetadataMap>,
}

/// A new API key.
#[derive(ToSchema)]
#[schema(example = json!({"name": "payments service", "role": "writer"}))]
#[allow(dead_code)]
pub struct ApiKeyCreate {
    #[schema(max_length = 200)]
    name: String,
    role: RoleName,
}

/// An operation that takes no fields (an empty body or `{}`).
#[derive(ToSchema)]
#[schema(example = json!({}))]
pub struct Empty {}

// ---- users ----

/// `POST /v1/users`
pub async fn create_user(State(s): State<AppState>, caller: Ctx, headers: HeaderMap, body: Body) -> Response {
    write(&s, &caller, &headers, "/v1/users", body, StatusCode::CREATED, |b| {
        let mut f = Fields::of::<UserCreate>(b)?;
        let name = f.string("name", 200)?;
        if name.trim().is_empty() {
            return Err(ApiError::invalid("name must not be empty").param("name"));
        }
        let email = f.opt_string("email", 254)?;
        if email.as_deref().is_some_and(|e| !valid_email(e)) {
            return Err(ApiError::invalid("email is not a valid address").param("email"));
        }
        let phone = f.opt_string("phone", 32)?;
        if phone.as_deref().is_some_and(|p| !valid_phone(p)) {
            return Err(ApiError::invalid("phone must be digits, spaces, +, -, ( or )").param("phone"));
        }
        let role = f.opt_string("role", 20)?.unwrap_or_else(|| "customer".into());
        if !["customer", "merchant", "admin", "support"].contains(&role.as_str()) {
            return Err(ApiError::invalid("role must be customer, merchant, admin or support").param("role"));
        }
        // Screened as created, in the same transaction: the payment gate reads it.
        let id = new_id::<ids::UserId>();
        let screening =
            s.sanctions.screen(&id, &rialto_compliance::Query { name: name.clone(), ..Default::default() }, &[]);
        let create = Command::Ledger(rialto_store::LedgerCommand::CreateUser(NewUser { id, name, email, phone, role }));
        Ok(Command::Screened(Box::new(create), Box::new(screening)))
    })
    .await
}

fn valid_email(e: &str) -> bool {
    let mut parts = e.splitn(2, '@');
    let (local, domain) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.contains(char::is_whitespace)
}

fn valid_phone(p: &str) -> bool {
    p.chars().filter(char::is_ascii_digit).count() >= 5 && p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
}

/// `GET /v1/users/{id}`
pub async fn get_user(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = id_of::<ids::UserId>(&id)?;
            let u = s.db.user(&id).await?.ok_or_else(|| ApiError::not_found("user", &id))?;
            Ok(present::user(&u))
        }
        .await,
    )
}

/// `POST /v1/users/{id}` with `status` (`active|blocked`) and/or `kyc_status`
/// (`pending|verified|rejected`): the compliance gate reads both.
pub async fn update_user(
    State(s): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    PathId(id): PathId,
    body: Body,
) -> Response {
    let path = format!("/v1/users/{id}");
    // Screened again as changed (with the clearances given), in the same transaction.
    let screening = match id_of::<ids::UserId>(&id) {
        Ok(uid) => match (s.db.user(&uid).await, crate::sanctions::clearances_of(&s.db, &uid).await) {
            (Ok(Some(u)), Ok(cleared)) => Some(s.sanctions.screen(
                &u.id,
                &rialto_compliance::Query { name: u.name, ..Default::default() },
                &cleared,
            )),
            (Err(e), _) | (_, Err(e)) => return ApiError::from(e).into_response(),
            _ => None,
        },
        Err(_) => None,
    };
    write(&s, &ctx, &headers, &path, body, StatusCode::OK, |b| {
        let mut f = Fields::of::<UserUpdate>(b)?;
        let status =
            match f.opt_string("status", 20)? {
                None => None,
                Some(st) => Some(UserStatus::parse(&st).ok_or_else(|| {
                    ApiError::invalid(format!("status must be {}", UserStatus::names())).param("status")
                })?),
            };
        let kyc_status = match f.opt_string("kyc_status", 20)? {
            None => None,
            Some(k) => Some(KycStatus::parse(&k).ok_or_else(|| {
                ApiError::invalid(format!("kyc_status must be {}", KycStatus::names())).param("kyc_status")
            })?),
        };
        if status.is_none() && kyc_status.is_none() {
            return Err(ApiError::invalid("give status and/or kyc_status"));
        }
        let update = Command::Ledger(rialto_store::LedgerCommand::UpdateUser {
            user_id: id_of::<ids::UserId>(&id)?,
            status,
            kyc_status,
        });
        Ok(match screening {
            Some(screening) => Command::Screened(Box::new(update), Box::new(screening)),
            None => update,
        })
    })
    .await
}

/// `GET /v1/users`
pub async fn list_users(State(s): State<AppState>, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["limit", "starting_after", "ending_before"])?;
            let (cursor, limit) = paging(&p, ids::UserId::PREFIX)?;
            Ok(present::page(&s.db.users(&cursor, limit).await?, present::user))
        }
        .await,
    )
}

// ---- accounts ----

/// `POST /v1/accounts`
pub async fn create_account(State(s): State<AppState>, caller: Ctx, headers: HeaderMap, body: Body) -> Response {
    write(&s, &caller, &headers, "/v1/accounts", body, StatusCode::CREATED, |b| {
        let mut f = Fields::of::<AccountCreate>(b)?;
        let currency = f.currency("currency")?;
        let name = f.opt_string("name", 200)?;
        let user_id = f.opt_string("user_id", 64)?;
        if let Some(u) = &user_id {
            id_of::<ids::UserId>(u).map_err(|e| e.param("user_id"))?;
        }
        let allow_negative_balance = f.opt_bool("allow_negative_balance")?.unwrap_or(false);
        let metadata = f.metadata("metadata")?;
        Ok(Command::Ledger(rialto_store::LedgerCommand::CreateAccount(NewAccount {
            id: new_id::<ids::AccountId>(),
            currency,
            user_id,
            name,
            allow_negative_balance,
            metadata,
        })))
    })
    .await
}

/// `GET /v1/accounts/{id}`
pub async fn get_account(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = id_of::<ids::AccountId>(&id)?;
            let a = s.db.account(&id).await?.ok_or_else(|| ApiError::not_found("account", &id))?;
            Ok(present::account(&a))
        }
        .await,
    )
}

/// `GET /v1/accounts`
pub async fn list_accounts(State(s): State<AppState>, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["limit", "starting_after", "ending_before", "user_id"])?;
            let (cursor, limit) = paging(&p, ids::AccountId::PREFIX)?;
            Ok(present::page(
                &s.db.accounts(filter_id::<ids::UserId>(&p, "user_id")?.as_deref(), &cursor, limit).await?,
                present::account,
            ))
        }
        .await,
    )
}

async fn account_status(
    s: AppState,
    caller: Ctx,
    headers: HeaderMap,
    id: String,
    body: Body,
    change: StatusChange,
) -> Response {
    let action = match change {
        StatusChange::Freeze => "freeze",
        StatusChange::Unfreeze => "unfreeze",
        StatusChange::Close => "close",
    };
    let path = format!("/v1/accounts/{id}/{action}");
    write(&s, &caller, &headers, &path, body, StatusCode::OK, |b| {
        Fields::of::<Empty>(b)?;
        let account_id = id_of::<ids::AccountId>(&id)?;
        Ok(Command::Ledger(rialto_store::LedgerCommand::ChangeStatus { account_id, change }))
    })
    .await
}

/// `POST /v1/accounts/{id}/freeze`
pub async fn freeze(State(s): State<AppState>, c: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    account_status(s, c, h, id, b, StatusChange::Freeze).await
}

/// `POST /v1/accounts/{id}/unfreeze`
pub async fn unfreeze(State(s): State<AppState>, c: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    account_status(s, c, h, id, b, StatusChange::Unfreeze).await
}

/// `POST /v1/accounts/{id}/close`
pub async fn close(State(s): State<AppState>, c: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    account_status(s, c, h, id, b, StatusChange::Close).await
}

/// `GET /v1/accounts/{id}/entries`
pub async fn list_entries(State(s): State<AppState>, PathId(id): PathId, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["limit", "starting_after", "ending_before"])?;
            let (cursor, limit) = paging_with(&p, "ent", Some(SeqCursor::Entry))?;
            let id = id_of::<ids::AccountId>(&id)?;
            if s.db.account(&id).await?.is_none() {
                return Err(ApiError::not_found("account", &id));
            }
            Ok(present::page(&s.db.entries(&id, &cursor, limit).await?, present::entry))
        }
        .await,
    )
}

/// `GET /v1/accounts/{id}/balance?at=<RFC 3339>`
pub async fn balance_at(State(s): State<AppState>, PathId(id): PathId, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["at"])?;
            let id = id_of::<ids::AccountId>(&id)?;
            let account = s.db.account(&id).await?.ok_or_else(|| ApiError::not_found("account", &id))?;
            let Some(at) = p.get("at") else {
                let b = present::account(&account).balance;
                return Ok(present::AccountBalance {
                    object: "balance",
                    account_id: id,
                    currency: account.account.currency.code(),
                    at: None,
                    posted: b.posted,
                    pending_debits: Some(b.pending_debits),
                    pending_credits: Some(b.pending_credits),
                    available: b.available,
                });
            };
            let t = OffsetDateTime::parse(at, &Rfc3339).map_err(|_| {
                ApiError::invalid("`at` must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z").param("at")
            })?;
            let at_us = i64::try_from(t.unix_timestamp_nanos() / 1000)
                .map_err(|_| ApiError::invalid("`at` is out of range").param("at"))?;
            let posted = s.db.balance_at(&id, at_us).await?;
            Ok(present::AccountBalance {
                object: "balance",
                account_id: id,
                currency: account.account.currency.code(),
                at: Some(present::Timestamp(at_us)),
                posted: Some(posted),
                pending_debits: None,
                pending_credits: None,
                available: None,
            })
        }
        .await,
    )
}

// ---- transfers ----

/// `POST /v1/transfers`
pub async fn create_transfer(State(s): State<AppState>, caller: Ctx, headers: HeaderMap, body: Body) -> Response {
    write(&s, &caller, &headers, "/v1/transfers", body, StatusCode::CREATED, |b| {
        let mut f = Fields::of::<TransferCreate>(b)?;
        let amount = f.amount("amount")?;
        let currency = f.currency("currency")?;
        let src = f.string("source_account_id", 64)?;
        let dst = f.string("destination_account_id", 64)?;
        let src = id_of::<ids::AccountId>(&src).map_err(|e| e.param("source_account_id"))?;
        let dst = id_of::<ids::AccountId>(&dst).map_err(|e| e.param("destination_account_id"))?;
        if src == dst {
            return Err(
                ApiError::invalid("source and destination must be different accounts").param("destination_account_id")
            );
        }
        let description = f.opt_string("description", 1000)?;
        let reference = f.opt_string("reference", 255)?;
        let metadata = f.metadata("metadata")?;
        let pending = f.opt_bool("pending")?.unwrap_or(false);
        let expires_in = f.opt_int("expires_in_seconds", 1, PENDING_EXPIRY_SECONDS_MAX)?;
        if expires_in.is_some() && !pending {
            return Err(
                ApiError::invalid("expires_in_seconds applies only to pending transfers").param("expires_in_seconds")
            );
        }
        let expires_at_us =
            expires_in.map(|secs| rialto_store::now_us().saturating_add(secs.saturating_mul(1_000_000)));
        Ok(Command::Ledger(rialto_store::LedgerCommand::Transfer(NewTransfer {
            spec: TransferSpec {
                id: new_id::<ids::TransferId>(),
                source_account_id: src,
                destination_account_id: dst,
                amount,
                currency,
                pending,
                expires_at_us,
            },
            description,
            reference,
            metadata,
        })))
    })
    .await
}

/// `GET /v1/transfers/{id}`
pub async fn get_transfer(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = id_of::<ids::TransferId>(&id)?;
            let t = s.db.transfer(&id).await?.ok_or_else(|| ApiError::not_found("transfer", &id))?;
            Ok(present::transfer(&t))
        }
        .await,
    )
}

/// `GET /v1/transfers?account_id=`
pub async fn list_transfers(State(s): State<AppState>, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["limit", "starting_after", "ending_before", "account_id"])?;
            let (cursor, limit) = paging(&p, ids::TransferId::PREFIX)?;
            let filter = TransferFilter { account_id: filter_id::<ids::AccountId>(&p, "account_id")? };
            Ok(present::page(&s.db.transfers(&filter, &cursor, limit).await?, present::transfer))
        }
        .await,
    )
}

/// `POST /v1/transfers/{id}/post`
pub async fn post_transfer(State(s): State<AppState>, c: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    let path = format!("/v1/transfers/{id}/post");
    write(&s, &c, &h, &path, b, StatusCode::OK, |b| {
        let mut f = Fields::of::<TransferPost>(b)?;
        let amount = f.opt_amount("amount")?;
        Ok(Command::Ledger(rialto_store::LedgerCommand::PostPending {
            transfer_id: id_of::<ids::TransferId>(&id)?,
            amount,
        }))
    })
    .await
}

/// `POST /v1/transfers/{id}/void`
pub async fn void_transfer(State(s): State<AppState>, c: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    let path = format!("/v1/transfers/{id}/void");
    write(&s, &c, &h, &path, b, StatusCode::OK, |b| {
        Fields::of::<Empty>(b)?;
        Ok(Command::Ledger(rialto_store::LedgerCommand::VoidPending { transfer_id: id_of::<ids::TransferId>(&id)? }))
    })
    .await
}

/// `POST /v1/transfers/{id}/reverse`
pub async fn reverse_transfer(
    State(s): State<AppState>,
    c: Ctx,
    h: HeaderMap,
    PathId(id): PathId,
    b: Body,
) -> Response {
    let path = format!("/v1/transfers/{id}/reverse");
    write(&s, &c, &h, &path, b, StatusCode::CREATED, |b| {
        Fields::of::<Empty>(b)?;
        Ok(Command::Ledger(rialto_store::LedgerCommand::Reverse {
            transfer_id: id_of::<ids::TransferId>(&id)?,
            new_id: new_id::<ids::TransferId>(),
        }))
    })
    .await
}

// ---- journal entries ----

/// `POST /v1/journal-entries`
pub async fn create_journal(State(s): State<AppState>, caller: Ctx, headers: HeaderMap, body: Body) -> Response {
    write(&s, &caller, &headers, "/v1/journal-entries", body, StatusCode::CREATED, |b| {
        let mut f = Fields::of::<JournalCreate>(b)?;
        let raw = f.array("lines")?;
        if raw.len() < 2 || raw.len() > JOURNAL_LINES_MAX {
            return Err(ApiError::invalid(format!("a journal entry has 2 to {JOURNAL_LINES_MAX} lines")).param("lines"));
        }
        let mut lines = Vec::with_capacity(raw.len());
        let line_fields = crate::input::field_names::<JournalLineCreate>();
        for (i, v) in raw.iter().enumerate() {
            let at = |field: &str| format!("lines[{i}].{field}");
            let Value::Object(m) = v else {
                return Err(ApiError::invalid(format!("lines[{i}] must be an object")).param(format!("lines[{i}]")));
            };
            if let Some(k) = m.keys().find(|k| !line_fields.contains(k)) {
                return Err(ApiError::invalid(format!("unknown field `{k}`")).param(at(k)));
            }
            let account_id = m
                .get("account_id")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::invalid("each line needs an account_id string").param(at("account_id")))?;
            let account_id = id_of::<ids::AccountId>(account_id).map_err(|e| e.param(at("account_id")))?;
            let direction = m
                .get("direction")
                .and_then(Value::as_str)
                .and_then(Direction::parse)
                .ok_or_else(|| ApiError::invalid("direction must be debit or credit").param(at("direction")))?;
            let amount = match m.get("amount") {
                Some(a) => parse_amount(&at("amount"), a)?,
                None => return Err(ApiError::invalid("each line needs an amount").param(at("amount"))),
            };
            lines.push(Line { account_id, direction, amount });
        }
        let description = f.opt_string("description", 1000)?;
        let metadata = f.metadata("metadata")?;
        Ok(Command::Ledger(rialto_store::LedgerCommand::Journal(NewJournal {
            id: new_id::<ids::JournalId>(),
            lines,
            description,
            metadata,
        })))
    })
    .await
}

/// `GET /v1/journal-entries/{id}`
pub async fn get_journal(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = id_of::<ids::JournalId>(&id)?;
            let j = s.db.journal_entry(&id).await?.ok_or_else(|| ApiError::not_found("journal entry", &id))?;
            Ok(present::journal(&j))
        }
        .await,
    )
}

// ---- ledger ----

/// `GET /v1/ledger/verify`
pub async fn verify(State(s): State<AppState>) -> Response {
    respond(
        async {
            let r = s.db.verify().await?;
            Ok(verify_json(&r))
        }
        .await,
    )
}

/// Posted debits and credits of one currency: equal when the books balance.
#[derive(Serialize, ToSchema)]
pub struct CurrencyTotals {
    debits: i64,
    credits: i64,
}

/// Where a stored figure disagrees with the one recomputed from the entries.
#[derive(Serialize, ToSchema)]
pub struct Mismatch {
    /// `account`, `transfer` or `currency`.
    scope: String,
    id: String,
    field: String,
    stored: i64,
    computed: i64,
}

/// The answer of `GET /v1/ledger/verify` (also printed by `rialto verify`).
#[derive(Serialize, ToSchema)]
pub struct LedgerVerification {
    /// Always `ledger_verification`.
    object: &'static str,
    /// True when every balance equals the sum of its entries and the books balance.
    ok: bool,
    accounts: u64,
    entries: u64,
    /// Per currency code.
    currencies: BTreeMap<String, CurrencyTotals>,
    mismatches: Vec<Mismatch>,
}

/// The verification report.
pub fn verify_json(r: &rialto_store::VerifyReport) -> LedgerVerification {
    LedgerVerification {
        object: "ledger_verification",
        ok: r.ok(),
        accounts: r.accounts,
        entries: r.entries,
        currencies: r
            .currencies
            .iter()
            .map(|(c, (d, cr))| (c.clone(), CurrencyTotals { debits: *d, credits: *cr }))
            .collect(),
        mismatches: r
            .mismatches
            .iter()
            .map(|m| Mismatch {
                scope: m.scope.to_string(),
                id: m.id.clone(),
                field: m.field.to_string(),
                stored: m.stored,
                computed: m.computed,
            })
            .collect(),
    }
}

// ---- api keys ----

/// `GET /v1/api-keys`
pub async fn list_keys(State(s): State<AppState>, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["limit", "starting_after", "ending_before"])?;
            let (cursor, limit) = paging(&p, ids::ApiKeyId::PREFIX)?;
            Ok(present::page(&s.db.api_keys(&cursor, limit).await?, present::api_key))
        }
        .await,
    )
}

/// Runs a key command through the writer (so that it is audited in the same transaction).
async fn key_command(s: &AppState, ctx: &Ctx, command: Command) -> Result<rialto_store::ApiKey, ApiError> {
    match s.writer.submit(command, None, Some(ctx.audit())).await {
        Reply::Done { outcome: Ok(Output::ApiKey(k)), .. } => Ok(k),
        Reply::Done { outcome: Err(e), .. } => Err(ApiError::from(&e)),
        _ => Err(ApiError::unavailable("unexpected answer from the ledger writer")),
    }
}

/// `POST /v1/api-keys` — the secret is in the answer once.
pub async fn create_key(State(s): State<AppState>, ctx: Ctx, body: Body) -> Response {
    respond(
        async {
            let b = body_bytes(body)?;
            let mut f = Fields::of::<ApiKeyCreate>(&b)?;
            let name = f.string("name", 200)?;
            let role = f.string("role", 20)?;
            let role = Role::parse(&role).ok_or_else(|| {
                ApiError::invalid(format!("role must be one of {}", crate::permissions::role_names())).param("role")
            })?;
            let (key, secret, key_hash) = rialto_store::generate_api_key(&name, role);
            let key = key_command(&s, &ctx, Command::CreateApiKey { key, key_hash }).await?;
            s.auth.clear(); // no cached "unknown" may outlive the key's creation
            let mut v = present::api_key(&key);
            v.secret = Some(secret);
            Ok(v)
        }
        .await,
    )
}

/// `POST /v1/api-keys/{id}/revoke`
pub async fn revoke_key(State(s): State<AppState>, ctx: Ctx, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = id_of::<ids::ApiKeyId>(&id)?;
            let key = key_command(&s, &ctx, Command::RevokeApiKey { id }).await?;
            s.auth.clear();
            Ok(present::api_key(&key))
        }
        .await,
    )
}

// ---- events and audit ----

/// `GET /v1/events?after=<sequence>&type=&limit=`: oldest first, for consumers that follow the
/// stream; `after` is the last `sequence` seen.
pub async fn list_events(State(s): State<AppState>, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["after", "type", "limit"])?;
            let limit = page_limit(&p)?;
            let after = match p.get("after") {
                None => 0,
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| ApiError::invalid("after must be an event sequence number").param("after"))?,
            };
            let page = s.db.events(after, limit, p.get("type").map(String::as_str)).await?;
            let events = present::page(&page, present::event);
            Ok(present::EventPage {
                object: "list",
                data: events.data,
                has_more: events.has_more,
                next_after: page.data.last().map_or(after, |e| e.seq),
            })
        }
        .await,
    )
}

/// `GET /v1/audit-events?actor=&action=&resource_id=&result=&from=&to=` newest first.
pub async fn list_audit(State(s): State<AppState>, q: Params) -> Response {
    respond(
        async {
            let p = params(
                q,
                &["limit", "starting_after", "ending_before", "actor", "action", "resource_id", "result", "from", "to"],
            )?;
            let (cursor, limit) = paging_with(&p, "aud", Some(SeqCursor::Number))?;
            let filter = rialto_store::AuditFilter {
                actor: p.get("actor").cloned(),
                action: p.get("action").cloned(),
                resource_id: p.get("resource_id").cloned(),
                result: p.get("result").cloned(),
                from_us: time_param(&p, "from")?,
                to_us: time_param(&p, "to")?,
            };
            Ok(present::page(&s.db.audit_events(&filter, &cursor, limit).await?, present::audit))
        }
        .await,
    )
}

/// `GET /v1/audit/verify`: walks the hash chain and names the first broken record.
pub async fn verify_audit(State(s): State<AppState>) -> Response {
    respond(
        async {
            let r = s.db.verify_audit().await?;
            Ok(audit_report_json(&r))
        }
        .await,
    )
}

/// The first record whose hash does not follow.
#[derive(Serialize, ToSchema)]
pub struct BrokenRecord {
    sequence: i64,
    id: String,
    reason: String,
}

/// The answer of `GET /v1/audit/verify` (also printed by `rialto audit verify`).
#[derive(Serialize, ToSchema)]
pub struct AuditVerification {
    /// Always `audit_verification`.
    object: &'static str,
    /// True when every record's hash chains to the one before.
    ok: bool,
    records: i64,
    first_broken: Option<BrokenRecord>,
}

/// The audit verification.
pub fn audit_report_json(r: &rialto_store::AuditReport) -> AuditVerification {
    AuditVerification {
        object: "audit_verification",
        ok: r.first_broken.is_none(),
        records: r.records,
        first_broken: r.first_broken.as_ref().map(|(sequence, id, reason)| BrokenRecord {
            sequence: *sequence,
            id: id.clone(),
            reason: reason.clone(),
        }),
    }
}

/// `GET /v1/tasks?name=&limit=`: recent runs of scheduled tasks, newest first.
pub async fn list_tasks(State(s): State<AppState>, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["name", "limit"])?;
            let limit = page_limit(&p)?;
            let runs = s.db.task_runs(p.get("name").map(String::as_str), limit).await?;
            Ok(TaskRunList::all(
                runs.iter()
                    .map(|r| TaskRunView {
                        id: r.id.clone(),
                        object: "task_run",
                        name: r.name.clone(),
                        owner: r.owner.clone(),
                        status: r.status.clone(),
                        started_at: present::Timestamp(r.started_at_us),
                        duration_ms: r.duration_us as f64 / 1000.0,
                        processed: r.processed,
                        error: r.error.clone(),
                    })
                    .collect(),
            ))
        }
        .await,
    )
}

/// A run of a scheduled task (expiry sweep, settlement, webhook delivery, relay, ...).
#[derive(Serialize, ToSchema)]
#[schema(as = TaskRun)]
pub struct TaskRunView {
    id: String,
    /// Always `task_run`.
    object: &'static str,
    name: String,
    /// The process that ran it.
    owner: String,
    /// `ok` or `failed`.
    status: String,
    started_at: present::Timestamp,
    duration_ms: f64,
    /// Items handled.
    processed: i64,
    error: Option<String>,
}

/// Recent task runs, newest first.
pub type TaskRunList = present::List<TaskRunView>;
present::list_schemas!(TaskRunView);

/// The operations of this module: the router, the permission check and the API description read them.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    Operation::new::<present::User>(Verb::Post, "/v1/users", Write, "Create a user", handler!(create_user))
        .body::<UserCreate>()
        .status(201),
    Operation::new::<present::List<present::User>>(Verb::Get, "/v1/users", Read, "List users", handler!(list_users))
        .queries(PAGE),
    Operation::new::<present::User>(Verb::Get, "/v1/users/{id}", Read, "Get a user", handler!(get_user)),
    Operation::new::<present::Account>(Verb::Post, "/v1/accounts", Write, "Open an account", handler!(create_account))
        .body::<AccountCreate>()
        .status(201),
    Operation::new::<present::List<present::Account>>(Verb::Get, "/v1/accounts", Read, "List accounts (filter: user_id)", handler!(list_accounts))
        .queries(&["limit", "starting_after", "ending_before", "user_id"]),
    Operation::new::<present::Account>(Verb::Get, "/v1/accounts/{id}", Read, "Get an account with its balance", handler!(get_account)),
    Operation::new::<present::Account>(Verb::Post, "/v1/accounts/{id}/freeze", Write, "Freeze an account", handler!(freeze)),
    Operation::new::<present::Account>(Verb::Post, "/v1/accounts/{id}/unfreeze", Write, "Unfreeze an account", handler!(unfreeze)),
    Operation::new::<present::Account>(Verb::Post, "/v1/accounts/{id}/close", Write, "Close an account with a zero balance", handler!(close)),
    Operation::new::<present::List<present::Entry>>(Verb::Get, "/v1/accounts/{id}/entries", Read, "The account's entries, newest first", handler!(list_entries))
        .queries(PAGE),
    Operation::new::<present::AccountBalance>(Verb::Get, "/v1/accounts/{id}/balance", Read, "Balance now, or posted balance at `?at=<RFC 3339>`", handler!(balance_at))
        .queries(&["at"]),
    Operation::new::<present::Transfer>(Verb::Post, "/v1/transfers", Write, "Create a posted or pending transfer", handler!(create_transfer))
        .body::<TransferCreate>()
        .status(201),
    Operation::new::<present::List<present::Transfer>>(Verb::Get, "/v1/transfers", Read, "List transfers (filter: account_id)", handler!(list_transfers))
        .queries(&["limit", "starting_after", "ending_before", "account_id"]),
    Operation::new::<present::Transfer>(Verb::Get, "/v1/transfers/{id}", Read, "Get a transfer", handler!(get_transfer)),
    Operation::new::<present::Transfer>(Verb::Post, "/v1/transfers/{id}/post", Write, "Post a pending transfer (optionally a smaller amount)", handler!(post_transfer))
        .body::<TransferPost>(),
    Operation::new::<present::Transfer>(Verb::Post, "/v1/transfers/{id}/void", Write, "Void a pending transfer", handler!(void_transfer)),
    Operation::new::<present::Transfer>(Verb::Post, "/v1/transfers/{id}/reverse", Write, "Reverse a posted transfer", handler!(reverse_transfer))
        .status(201),
    Operation::new::<present::JournalEntry>(Verb::Post, "/v1/journal-entries", Write, "Post a balanced multi-line journal entry", handler!(create_journal))
        .body::<JournalCreate>()
        .status(201),
    Operation::new::<present::JournalEntry>(Verb::Get, "/v1/journal-entries/{id}", Read, "Get a journal entry", handler!(get_journal)),
    Operation::new::<LedgerVerification>(Verb::Get, "/v1/ledger/verify", Read, "Recompute every balance and the trial balance", handler!(verify)),
    Operation::new::<present::List<present::ApiKeyView>>(Verb::Get, "/v1/api-keys", Administer, "List API keys", handler!(list_keys))
        .queries(PAGE),
    Operation::new::<present::ApiKeyView>(Verb::Post, "/v1/api-keys", Administer, "Create an API key (secret shown once)", handler!(create_key))
        .body::<ApiKeyCreate>()
        .without_idempotency(),
    Operation::new::<present::ApiKeyView>(Verb::Post, "/v1/api-keys/{id}/revoke", Administer, "Revoke an API key", handler!(revoke_key))
        .without_idempotency(),
    Operation::new::<present::User>(Verb::Post, "/v1/users/{id}", Review, "Change a user's status (active|blocked) or kyc_status (pending|verified|rejected)", handler!(update_user))
        .body::<UserUpdate>(),
    Operation::new::<TaskRunList>(Verb::Get, "/v1/tasks", Read, "Recent runs of scheduled tasks (status, duration, errors)", handler!(list_tasks))
        .queries(&["name", "limit"]),
    Operation::new::<present::EventPage>(Verb::Get, "/v1/events", Read, "Domain events in commit order (`?after=<sequence>&type=`)", handler!(list_events))
        .queries(&["after", "type", "limit"]),
    Operation::new::<present::List<present::AuditEvent>>(Verb::Get, "/v1/audit-events", Administer, "Audit records, newest first (filters: actor, action, resource_id, result, from, to)", handler!(list_audit))
        .queries(&["limit", "starting_after", "ending_before", "actor", "action", "resource_id", "result", "from", "to"]),
    Operation::new::<AuditVerification>(Verb::Get, "/v1/audit/verify", Administer, "Check the audit hash chain; names the first broken record", handler!(verify_audit)),
];
