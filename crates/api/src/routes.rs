//! HTTP handlers. Each parses its input into domain types, then reads from the store or
//! hands a command to the writer.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rialto_core::ids::{self, new_id, Id};
use rialto_core::ledger::{Direction, Line, StatusChange, TransferSpec, JOURNAL_LINES_MAX};
use rialto_payments::{KycStatus, UserStatus};
use rialto_store::{Command, NewAccount, NewJournal, NewTransfer, NewUser, Output, Reply, Role, TransferFilter};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::auth::Ctx;
use crate::error::ApiError;
use crate::http::{
    body_bytes, filter_id, page_limit, paging, paging_with, params, respond, time_param, write, Body, Params, SeqCursor,
};
use crate::input::{id_of, parse_amount, Fields, PathId};
use crate::{present, AppState};

/// Longest pending-transfer lifetime: 30 days.
pub const PENDING_EXPIRY_SECONDS_MAX: i64 = 30 * 24 * 3600;

// ---- users ----

/// `POST /v1/users`
pub async fn create_user(State(s): State<AppState>, caller: Ctx, headers: HeaderMap, body: Body) -> Response {
    write(&s, &caller, &headers, "/v1/users", body, StatusCode::CREATED, |b| {
        let mut f = Fields::parse(b, &["name", "email", "phone", "role"])?;
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
        Ok(Command::Ledger(rialto_store::LedgerCommand::CreateUser(NewUser {
            id: new_id::<ids::UserId>(),
            name,
            email,
            phone,
            role,
        })))
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
    write(&s, &ctx, &headers, &path, body, StatusCode::OK, |b| {
        let mut f = Fields::parse(b, &["status", "kyc_status"])?;
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
        Ok(Command::Ledger(rialto_store::LedgerCommand::UpdateUser {
            user_id: id_of::<ids::UserId>(&id)?,
            status,
            kyc_status,
        }))
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
        let mut f = Fields::parse(b, &["currency", "name", "user_id", "allow_negative_balance", "metadata"])?;
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
        Fields::parse(b, &[])?;
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
                let mut v = present::account(&account)["balance"].clone();
                v["object"] = json!("balance");
                v["account_id"] = json!(id);
                v["currency"] = json!(account.account.currency.code());
                return Ok(v);
            };
            let t = OffsetDateTime::parse(at, &Rfc3339).map_err(|_| {
                ApiError::invalid("`at` must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z").param("at")
            })?;
            let at_us = i64::try_from(t.unix_timestamp_nanos() / 1000)
                .map_err(|_| ApiError::invalid("`at` is out of range").param("at"))?;
            let posted = s.db.balance_at(&id, at_us).await?;
            Ok(json!({
                "object": "balance", "account_id": id, "currency": account.account.currency.code(),
                "at": present::time_text(at_us), "posted": posted,
            }))
        }
        .await,
    )
}

// ---- transfers ----

/// `POST /v1/transfers`
pub async fn create_transfer(State(s): State<AppState>, caller: Ctx, headers: HeaderMap, body: Body) -> Response {
    write(&s, &caller, &headers, "/v1/transfers", body, StatusCode::CREATED, |b| {
        let mut f = Fields::parse(
            b,
            &[
                "source_account_id",
                "destination_account_id",
                "amount",
                "currency",
                "description",
                "reference",
                "metadata",
                "pending",
                "expires_in_seconds",
            ],
        )?;
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
        let mut f = Fields::parse(b, &["amount"])?;
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
        Fields::parse(b, &[])?;
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
        Fields::parse(b, &[])?;
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
        let mut f = Fields::parse(b, &["lines", "description", "metadata"])?;
        let raw = f.array("lines")?;
        if raw.len() < 2 || raw.len() > JOURNAL_LINES_MAX {
            return Err(ApiError::invalid(format!("a journal entry has 2 to {JOURNAL_LINES_MAX} lines")).param("lines"));
        }
        let mut lines = Vec::with_capacity(raw.len());
        for (i, v) in raw.iter().enumerate() {
            let at = |field: &str| format!("lines[{i}].{field}");
            let Value::Object(m) = v else {
                return Err(ApiError::invalid(format!("lines[{i}] must be an object")).param(format!("lines[{i}]")));
            };
            if let Some(k) = m.keys().find(|k| !["account_id", "direction", "amount"].contains(&k.as_str())) {
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

/// The verification report as JSON (also printed by `rialto verify`).
pub fn verify_json(r: &rialto_store::VerifyReport) -> Value {
    let currencies: serde_json::Map<String, Value> =
        r.currencies.iter().map(|(c, (d, cr))| (c.clone(), json!({"debits": d, "credits": cr}))).collect();
    let mismatches: Vec<Value> = r
        .mismatches
        .iter()
        .map(|m| json!({"scope": m.scope, "id": m.id, "field": m.field, "stored": m.stored, "computed": m.computed}))
        .collect();
    json!({"object": "ledger_verification", "ok": r.ok(), "accounts": r.accounts, "entries": r.entries,
           "currencies": currencies, "mismatches": mismatches})
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
            let mut f = Fields::parse(&b, &["name", "role"])?;
            let name = f.string("name", 200)?;
            let role = f.string("role", 20)?;
            let role = Role::parse(&role).ok_or_else(|| {
                ApiError::invalid(format!("role must be one of {}", crate::permissions::role_names())).param("role")
            })?;
            let (key, secret, key_hash) = rialto_store::generate_api_key(&name, role);
            let key = key_command(&s, &ctx, Command::CreateApiKey { key, key_hash }).await?;
            s.auth.clear(); // no cached "unknown" may outlive the key's creation
            let mut v = present::api_key(&key);
            v["secret"] = json!(secret);
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
            let mut v = present::page(&page, present::event);
            v["next_after"] = json!(page.data.last().map_or(after, |e| e.seq));
            Ok(v)
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

/// The audit verification as JSON (also printed by `rialto audit verify`).
pub fn audit_report_json(r: &rialto_store::AuditReport) -> Value {
    json!({
        "object": "audit_verification", "ok": r.first_broken.is_none(), "records": r.records,
        "first_broken": r.first_broken.as_ref().map(|(seq, id, reason)| json!({"sequence": seq, "id": id, "reason": reason})),
    })
}

/// `GET /v1/tasks?name=&limit=`: recent runs of scheduled tasks, newest first.
pub async fn list_tasks(State(s): State<AppState>, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["name", "limit"])?;
            let limit = page_limit(&p)?;
            let runs = s.db.task_runs(p.get("name").map(String::as_str), limit).await?;
            let data: Vec<Value> = runs
                .iter()
                .map(|r| {
                    json!({
                        "id": r.id, "object": "task_run", "name": r.name, "owner": r.owner, "status": r.status,
                        "started_at": present::time_text(r.started_at_us), "duration_ms": r.duration_us as f64 / 1000.0,
                        "processed": r.processed, "error": r.error,
                    })
                })
                .collect();
            Ok(json!({"object": "list", "data": data, "has_more": false}))
        }
        .await,
    )
}
