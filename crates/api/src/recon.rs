//! Reconciliation: the settings of ledger accounts that mirror a bank account, statement
//! uploads (camt.052/053/054, MT940, CSV through the saved mapping), runs that match lines to
//! ledger entries with the account's rules, the exception queue with a person's match,
//! unmatch and resolve, and the run's details as JSON or CSV. The daily task runs every
//! reconciled account.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rialto_core::ids::{self, Id};
use rialto_recon::{matching, Input, Mapping};
use rialto_store::{Command, MatchFilter, NormalBalance, ReconAccount, ReconCommand, ResolveTarget};
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::auth::Ctx;
use crate::contract::{handler, names, Operation, Verb};
use crate::error::ApiError;
use crate::http::{paging, params, respond, Body, Params};
use crate::input::{id_of, Fields, PathId};
use crate::permissions::Permission::{Administer, Read, Review};
use crate::present::{recon_account_json, recon_match_json, recon_run_json, statement_json, statement_line_json};
use crate::AppState;

/// Largest statement file accepted over HTTP (the CLI reads any size).
pub const STATEMENT_UPLOAD_MAX: usize = 64 << 20;
/// Longest note.
const NOTE_MAX: usize = 2_000;
/// Most items a person matches at once.
const MANUAL_ITEMS_MAX: usize = 1_000;

names!(
    /// Which side of the mirror account is the bank's money.
    NormalBalanceName: "debit", "credit"
);

/// Reconciliation settings of a ledger account that mirrors a bank account.
#[derive(ToSchema)]
#[schema(example = json!({"bank_account": "DE89370400440532013000", "fees_account_id": "acct_0190f5a4c5e97b5a9c6d0c1e2f3a4b5c", "write_off_max": 500, "rules": [{"kind": "reference"}, {"kind": "amount_date", "window_days": 3}, {"kind": "group"}, {"kind": "bank_fee"}]}))]
#[allow(dead_code)]
pub struct ReconSettings {
    /// IBAN or the bank's account number, as the statements name it.
    #[schema(min_length = 1, max_length = 64)]
    bank_account: String,
    /// `debit` (default: the mirror is an asset, money into the bank debits it) or `credit`.
    normal_balance: Option<NormalBalanceName>,
    /// Where write-offs and bank fees are booked (same currency).
    fees_account_id: Option<String>,
    /// Largest difference written off automatically, minor units (default 0: none).
    #[schema(minimum = 0, maximum = 1000000)]
    write_off_max: Option<i64>,
    /// Matching rules in priority order (`reference`, `amount_date`, `group`, `bank_fee`).
    rules: Option<Vec<Value>>,
    /// The CSV column mapping (see `docs/RECONCILIATION.md`).
    csv_mapping: Option<Value>,
}

/// A statement file.
#[derive(ToSchema)]
#[schema(example = json!({"file_name": "stmt-2026-12-01.sta", "content": ":20:STMT1\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C261201EUR0,00\n:62F:C261201EUR0,00\n-"}))]
#[allow(dead_code)]
pub struct StatementUpload {
    /// The file's name (kept with the statements).
    #[schema(min_length = 1, max_length = 200)]
    file_name: String,
    /// The file's text: camt XML, MT940, or CSV (`format: csv`, read with the account's mapping).
    content: String,
    /// `csv`; anything else is recognised from the content.
    format: Option<String>,
}

/// Ask for a run now.
#[derive(ToSchema)]
#[schema(example = json!({}))]
#[allow(dead_code)]
pub struct RunCreate {}

/// Pair lines with entries by hand.
#[derive(ToSchema)]
#[schema(example = json!({"line_ids": ["rsl_0190f5a4c5e97b5a9c6d0c1e2f3a4b5c"], "entry_seqs": [42], "note": "bank truncated the reference"}))]
#[allow(dead_code)]
pub struct ManualMatch {
    #[schema(max_items = 1000)]
    line_ids: Vec<String>,
    #[schema(max_items = 1000)]
    entry_seqs: Vec<i64>,
    #[schema(min_length = 1, max_length = 2000)]
    note: String,
}

/// Undo a match.
#[derive(ToSchema)]
#[schema(example = json!({"note": "wrong invoice"}))]
#[allow(dead_code)]
pub struct Unmatch {
    #[schema(min_length = 1, max_length = 2000)]
    note: String,
}

/// Resolve an exception match, an unmatched line or an unmatched entry (one of them).
#[derive(ToSchema)]
#[schema(example = json!({"match_id": "rcm_0190f5a4c5e97b5a9c6d0c1e2f3a4b5c", "book": true, "note": "bank charge agreed"}))]
#[allow(dead_code)]
pub struct Resolution {
    match_id: Option<String>,
    line_id: Option<String>,
    entry_seq: Option<i64>,
    /// Book the difference to the fees account through the ledger.
    book: Option<bool>,
    #[schema(min_length = 1, max_length = 2000)]
    note: String,
}

/// A JSON answer (see `docs/RECONCILIATION.md` for its fields).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ReconAnswer {
    object: String,
}

/// The settings in a body; the currency is the mirror account's, set once it is read.
fn parse_settings(id: &str, b: &[u8]) -> Result<ReconAccount, ApiError> {
    let mut f = Fields::of::<ReconSettings>(b)?;
    let bank_account = f.string("bank_account", 64)?.trim().to_string();
    if bank_account.is_empty() {
        return Err(ApiError::invalid("bank_account must not be empty").param("bank_account"));
    }
    let normal_balance = match f.opt_string("normal_balance", 10)? {
        None => NormalBalance::Debit,
        Some(n) => NormalBalance::parse(&n)
            .ok_or_else(|| ApiError::invalid("normal_balance must be debit or credit").param("normal_balance"))?,
    };
    let fees_account_id = f
        .opt_string("fees_account_id", 64)?
        .map(|a| id_of::<ids::AccountId>(&a).map_err(|e| e.param("fees_account_id")))
        .transpose()?;
    let write_off_max = f.opt_int("write_off_max", 0, 1_000_000)?.unwrap_or(0);
    let rules_value = f.opt_value("rules").filter(|v| !v.is_null()).unwrap_or_else(default_rules_json);
    let rules = matching::parse_rules(&rules_value).map_err(|e| ApiError::invalid(e).param("rules"))?;
    let csv_mapping = match f.opt_value("csv_mapping") {
        None | Some(Value::Null) => None,
        Some(v) => {
            Mapping::parse(&v.to_string()).map_err(|e| ApiError::invalid(e).param("csv_mapping"))?;
            Some(v.to_string())
        }
    };
    Ok(ReconAccount {
        account_id: id.to_string(),
        bank_account,
        currency: rialto_core::Currency::parse("USD").map_err(|e| ApiError::unavailable(e.to_string()))?,
        normal_balance,
        fees_account_id,
        write_off_max,
        rules,
        rules_json: rules_value.to_string(),
        csv_mapping,
        created_at_us: 0,
        updated_at_us: 0,
    })
}

fn default_rules_json() -> Value {
    json!([{"kind": "reference"}, {"kind": "amount_date", "window_days": 3}, {"kind": "group", "window_days": 3}, {"kind": "bank_fee"}])
}

/// Parses a body, then builds the command (which may read: a 404 comes after a 400 for the
/// body), then runs it with its idempotency key.
async fn submit<P>(
    s: &AppState,
    ctx: &Ctx,
    h: &HeaderMap,
    (path, status): (&str, StatusCode),
    b: Body,
    parse: impl FnOnce(&[u8]) -> Result<P, ApiError>,
    build: impl AsyncFnOnce(P) -> Result<Command, ApiError>,
) -> Response {
    let prepared = async {
        let bytes = crate::http::body_bytes(b)?;
        let parsed = parse(&bytes)?;
        Ok::<_, ApiError>((build(parsed).await?, bytes))
    }
    .await;
    match prepared {
        Ok((command, bytes)) => crate::idem::run(s, ctx, h, ("POST", path, &bytes), command, status).await,
        Err(e) => e.into_response(),
    }
}

/// `POST /v1/reconciliation/accounts/{id}`: create or replace the settings.
pub async fn configure(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    let path = format!("/v1/reconciliation/accounts/{id}");
    let parse = |b: &[u8]| parse_settings(&id, b);
    let build = async |mut settings: ReconAccount| {
        let id = id_of::<ids::AccountId>(&id)?;
        let account = s.db.account(&id).await?.ok_or_else(|| ApiError::not_found("account", &id))?;
        settings.currency = account.account.currency;
        Ok(Command::Recon(ReconCommand::Configure(Box::new(settings))))
    };
    submit(&s, &ctx, &h, (&path, StatusCode::OK), b, parse, build).await
}

/// `GET /v1/reconciliation/accounts`
pub async fn list_accounts(State(s): State<AppState>) -> Response {
    respond(
        async {
            let all = s.db.recon_accounts().await?;
            Ok(json!({"object": "list", "data": all.iter().map(recon_account_json).collect::<Vec<_>>(), "has_more": false}))
        }
        .await,
    )
}

async fn settings(s: &AppState, id: &str) -> Result<ReconAccount, ApiError> {
    let id = id_of::<ids::AccountId>(id)?;
    s.db.recon_account(&id).await?.ok_or_else(|| ApiError::not_found("reconciled account", &id))
}

/// `GET /v1/reconciliation/accounts/{id}`
pub async fn get_account(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(async { Ok(recon_account_json(&settings(&s, &id).await?)) }.await)
}

/// Parses a statement file for `account` (CSV through its saved mapping).
pub fn parse_statements(
    account: &ReconAccount,
    content: &[u8],
    csv: bool,
) -> Result<Vec<rialto_recon::Statement>, ApiError> {
    let mapping;
    let input = if csv {
        let text = account
            .csv_mapping
            .as_deref()
            .ok_or_else(|| ApiError::invalid("the account has no csv_mapping in its settings").param("format"))?;
        mapping = Mapping::parse(text).map_err(ApiError::unavailable)?;
        Input::Csv(&mapping, &account.bank_account)
    } else {
        Input::Detect
    };
    let statements = rialto_recon::parse(content, input).map_err(|e| {
        let mut err = ApiError::invalid(e.to_string()).param("content");
        err.code = "statement_unreadable";
        err
    })?;
    if statements.is_empty() {
        return Err(ApiError::invalid("the file holds no statement").param("content"));
    }
    Ok(statements)
}

/// `POST /v1/reconciliation/accounts/{id}/statements`
pub async fn upload(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    let path = format!("/v1/reconciliation/accounts/{id}/statements");
    let by = ctx.caller.key_id.clone();
    let parse = |b: &[u8]| {
        let mut f = Fields::of::<StatementUpload>(b)?;
        let file_name = f.string("file_name", 200)?;
        let content = f.string("content", STATEMENT_UPLOAD_MAX)?;
        let csv = match f.opt_string("format", 10)?.as_deref() {
            None => false,
            Some("csv") => true,
            Some(_) => {
                return Err(ApiError::invalid("format must be csv (other formats are recognised)").param("format"))
            }
        };
        Ok((file_name, content, csv))
    };
    let build = async |(source, content, csv): (String, String, bool)| {
        let account = settings(&s, &id).await?;
        let statements = parse_statements(&account, content.as_bytes(), csv)?;
        Ok(Command::Recon(ReconCommand::Import { account_id: account.account_id.clone(), statements, source, by }))
    };
    submit(&s, &ctx, &h, (&path, StatusCode::OK), b, parse, build).await
}

/// `GET /v1/reconciliation/accounts/{id}/statements`
pub async fn list_statements(State(s): State<AppState>, PathId(id): PathId, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["limit", "starting_after", "ending_before"])?;
            let (cursor, limit) = paging(&p, ids::StatementId::PREFIX)?;
            let account = settings(&s, &id).await?;
            let page = s.db.recon_statements(&account.account_id, &cursor, limit).await?;
            Ok(json!({"object": "list", "data": page.data.iter().map(statement_json).collect::<Vec<_>>(), "has_more": page.has_more}))
        }
        .await,
    )
}

/// `GET /v1/reconciliation/statements/{id}?from=`: a statement with up to 100 of its lines.
pub async fn get_statement(State(s): State<AppState>, PathId(id): PathId, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["from"])?;
            let from = match p.get("from") {
                None => 0,
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| ApiError::invalid("from must be a line index (0 or more)").param("from"))?,
            };
            let id = id_of::<ids::StatementId>(&id)?;
            let st = s.db.recon_statement(&id).await?.ok_or_else(|| ApiError::not_found("statement", &id))?;
            let lines = s.db.recon_lines(&id, from, 100).await?;
            let mut v = statement_json(&st);
            v["line_items"] = json!(lines.iter().map(statement_line_json).collect::<Vec<_>>());
            Ok(v)
        }
        .await,
    )
}

/// A run of `account` through the writer.
pub async fn run_account(
    s: &AppState,
    account: &ReconAccount,
    triggered_by: &str,
    audit: rialto_store::AuditContext,
) -> Result<rialto_store::RunRecord, ApiError> {
    let command = Command::Recon(ReconCommand::Run {
        account_id: account.account_id.clone(),
        fees_account_id: account.fees_account_id.clone(),
        triggered_by: triggered_by.into(),
        by: audit.actor.clone(),
    });
    match s.writer.submit(command, None, Some(audit)).await {
        rialto_store::Reply::Done { outcome: Ok(rialto_store::Output::ReconRun(r)), .. } => Ok(*r),
        rialto_store::Reply::Done { outcome: Err(e), .. } => Err(ApiError::from(&e)),
        other => Err(ApiError::unavailable(format!("{other:?}"))),
    }
}

/// `POST /v1/reconciliation/accounts/{id}/runs`
pub async fn create_run(State(s): State<AppState>, ctx: Ctx, PathId(id): PathId, b: Body) -> Response {
    let r: Result<Value, ApiError> = async {
        let bytes = crate::http::body_bytes(b)?;
        Fields::of::<RunCreate>(&bytes)?;
        let account = settings(&s, &id).await?;
        let run = run_account(&s, &account, "api", ctx.audit()).await?;
        Ok(recon_run_json(&run))
    }
    .await;
    match r {
        Ok(v) => (StatusCode::CREATED, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /v1/reconciliation/accounts/{id}/runs`
pub async fn list_runs(State(s): State<AppState>, PathId(id): PathId, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["limit", "starting_after", "ending_before"])?;
            let (cursor, limit) = paging(&p, ids::ReconRunId::PREFIX)?;
            let account = settings(&s, &id).await?;
            let page = s.db.recon_runs(&account.account_id, &cursor, limit).await?;
            Ok(json!({"object": "list", "data": page.data.iter().map(recon_run_json).collect::<Vec<_>>(), "has_more": page.has_more}))
        }
        .await,
    )
}

/// `GET /v1/reconciliation/runs/{id}`
pub async fn get_run(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = id_of::<ids::ReconRunId>(&id)?;
            let run = s.db.recon_run(&id).await?.ok_or_else(|| ApiError::not_found("reconciliation run", &id))?;
            Ok(recon_run_json(&run))
        }
        .await,
    )
}

async fn run_rows(s: &AppState, id: &str) -> Result<(rialto_store::RunRecord, Vec<Value>), ApiError> {
    let id = id_of::<ids::ReconRunId>(id)?;
    let run = s.db.recon_run(&id).await?.ok_or_else(|| ApiError::not_found("reconciliation run", &id))?;
    let rows = export_rows(s, &run).await?;
    Ok((run, rows))
}

/// `GET /v1/reconciliation/runs/{id}/details`: every match the run made (a row per line and
/// per entry), then the account's lines still unmatched.
pub async fn run_details(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let (run, rows) = run_rows(&s, &id).await?;
            Ok(json!({"run": recon_run_json(&run), "rows": rows}))
        }
        .await,
    )
}

/// `GET /v1/reconciliation/runs/{id}/export.csv`: the details as CSV.
pub async fn export_csv(State(s): State<AppState>, PathId(id): PathId) -> Response {
    let (_, rows) = match run_rows(&s, &id).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    const FIELDS: [&str; 11] = [
        "kind",
        "state",
        "line_id",
        "entry_seq",
        "amount",
        "date",
        "rule",
        "confidence",
        "difference",
        "match_id",
        "reason",
    ];
    let mut out = FIELDS.join(",");
    out.push('\n');
    for r in &rows {
        out.push_str(&FIELDS.iter().map(|k| csv_cell(&r[*k])).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response()
}

fn csv_cell(v: &Value) -> String {
    let text = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    // A leading =, +, - or @ would be a formula to a spreadsheet.
    let text = if text.starts_with(['=', '+', '@']) { format!("'{text}") } else { text };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

async fn export_rows(s: &AppState, run: &rialto_store::RunRecord) -> Result<Vec<Value>, ApiError> {
    let mut rows = Vec::new();
    let filter = MatchFilter { status: None, run_id: Some(run.id.clone()) };
    let mut cursor = rialto_store::Cursor::First;
    loop {
        let page = s.db.recon_matches(&run.account_id, &filter, &cursor, 100).await?;
        for m in &page.data {
            for l in &m.line_ids {
                rows.push(json!({"kind": "line", "state": m.status, "line_id": l, "entry_seq": null, "amount": null, "date": m.line_date.to_string(), "rule": m.rule, "confidence": m.confidence, "difference": m.difference, "match_id": m.id, "reason": m.reason, "outcome": m.outcome}));
            }
            for e in &m.entry_seqs {
                rows.push(json!({"kind": "entry", "state": m.status, "line_id": null, "entry_seq": e, "amount": null, "date": null, "rule": m.rule, "confidence": m.confidence, "difference": m.difference, "match_id": m.id, "reason": m.reason, "outcome": m.outcome}));
            }
        }
        match page.data.last() {
            Some(last) if page.has_more => cursor = rialto_store::Cursor::After(last.id.clone()),
            _ => break,
        }
    }
    let mut after = String::new();
    loop {
        let lines = s.db.recon_unmatched_lines(&run.account_id, &after, 1_000).await?;
        for l in &lines {
            rows.push(json!({"kind": "line", "state": "unmatched_external", "line_id": l.id, "entry_seq": null, "amount": l.line.amount, "date": l.line.date().map(|d| d.to_string()), "rule": null, "confidence": null, "difference": null, "match_id": null, "reason": l.line.remittance}));
        }
        match lines.last() {
            Some(l) if lines.len() == 1_000 => after = l.id.clone(),
            _ => break,
        }
    }
    Ok(rows)
}

/// `GET /v1/reconciliation/accounts/{id}/exceptions`: exception matches (mismatches,
/// duplicates, unbooked fees), oldest first, and the first unmatched lines.
pub async fn exceptions(State(s): State<AppState>, PathId(id): PathId, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["limit", "starting_after", "ending_before"])?;
            let (cursor, limit) = paging(&p, ids::ReconMatchId::PREFIX)?;
            let account = settings(&s, &id).await?;
            let filter = MatchFilter { status: Some("exception".into()), run_id: None };
            let page = s.db.recon_matches(&account.account_id, &filter, &cursor, limit).await?;
            let lines = s.db.recon_unmatched_lines(&account.account_id, "", 100).await?;
            Ok(json!({
                "object": "list",
                "data": page.data.iter().map(recon_match_json).collect::<Vec<_>>(),
                "has_more": page.has_more,
                "unmatched_lines": lines.iter().map(statement_line_json).collect::<Vec<_>>(),
            }))
        }
        .await,
    )
}

fn note(f: &mut Fields) -> Result<String, ApiError> {
    let n = f.string("note", NOTE_MAX)?;
    if n.trim().is_empty() {
        return Err(ApiError::invalid("note must not be empty").param("note"));
    }
    Ok(n)
}

/// `POST /v1/reconciliation/accounts/{id}/matches`
pub async fn manual_match(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    let path = format!("/v1/reconciliation/accounts/{id}/matches");
    let by = ctx.caller.key_id.clone();
    let build = async |(line_ids, entry_seqs, note): (Vec<String>, Vec<i64>, String)| {
        let account = settings(&s, &id).await?;
        Ok(Command::Recon(ReconCommand::Match {
            account_id: account.account_id.clone(),
            line_ids,
            entry_seqs,
            note,
            by,
        }))
    };
    submit(&s, &ctx, &h, (&path, StatusCode::CREATED), b, parse_manual, build).await
}

fn parse_manual(b: &[u8]) -> Result<(Vec<String>, Vec<i64>, String), ApiError> {
    let mut f = Fields::of::<ManualMatch>(b)?;
    let line_ids = f
        .array("line_ids")?
        .iter()
        .map(|v| match v.as_str() {
            Some(t) => id_of::<ids::StatementLineId>(t).map_err(|e| e.param("line_ids")),
            None => Err(ApiError::invalid("line_ids must be strings").param("line_ids")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let entry_seqs = f
        .array("entry_seqs")?
        .iter()
        .map(|v| {
            v.as_i64()
                .filter(|n| *n > 0)
                .ok_or_else(|| ApiError::invalid("entry_seqs must be positive integers").param("entry_seqs"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if line_ids.is_empty() || entry_seqs.is_empty() || line_ids.len() + entry_seqs.len() > MANUAL_ITEMS_MAX {
        let m = format!("give at least one line and one entry, at most {MANUAL_ITEMS_MAX} in all");
        return Err(ApiError::invalid(m).param("line_ids"));
    }
    let mut seen = std::collections::BTreeSet::new();
    if !line_ids.iter().all(|l| seen.insert(l.clone())) || !entry_seqs.iter().all(|e| seen.insert(e.to_string())) {
        return Err(ApiError::invalid("an item is named twice").param("line_ids"));
    }
    Ok((line_ids, entry_seqs, note(&mut f)?))
}

/// `POST /v1/reconciliation/matches/{id}/unmatch`
pub async fn unmatch(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    let path = format!("/v1/reconciliation/matches/{id}/unmatch");
    let by = ctx.caller.key_id.clone();
    let parse = |b: &[u8]| note(&mut Fields::of::<Unmatch>(b)?);
    let build = async |note: String| {
        let id = id_of::<ids::ReconMatchId>(&id)?;
        let m = s.db.recon_match(&id).await?.ok_or_else(|| ApiError::not_found("reconciliation match", &id))?;
        Ok(Command::Recon(ReconCommand::Unmatch { account_id: m.account_id, match_id: m.id, note, by }))
    };
    submit(&s, &ctx, &h, (&path, StatusCode::OK), b, parse, build).await
}

/// `POST /v1/reconciliation/accounts/{id}/resolutions`
pub async fn resolve(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    let path = format!("/v1/reconciliation/accounts/{id}/resolutions");
    let by = ctx.caller.key_id.clone();
    let build = async |(target, book, note): (ResolveTarget, bool, String)| {
        let account = settings(&s, &id).await?;
        let fees_account_id = account.fees_account_id.clone();
        Ok(Command::Recon(ReconCommand::Resolve {
            account_id: account.account_id,
            target,
            book,
            fees_account_id,
            note,
            by,
        }))
    };
    submit(&s, &ctx, &h, (&path, StatusCode::OK), b, parse_resolution, build).await
}

fn parse_resolution(b: &[u8]) -> Result<(ResolveTarget, bool, String), ApiError> {
    let mut f = Fields::of::<Resolution>(b)?;
    let id = |f: &mut Fields, name: &str| f.opt_string(name, 64).map(|v| v.map(|v| (v, name.to_string())));
    let m = id(&mut f, "match_id")?;
    let l = id(&mut f, "line_id")?;
    let e = f.opt_int("entry_seq", 1, i64::MAX)?;
    let target = match (m, l, e) {
        (Some((m, p)), None, None) => ResolveTarget::Match(id_of::<ids::ReconMatchId>(&m).map_err(|e| e.param(p))?),
        (None, Some((l, p)), None) => ResolveTarget::Line(id_of::<ids::StatementLineId>(&l).map_err(|e| e.param(p))?),
        (None, None, Some(e)) => ResolveTarget::Entry(e),
        _ => return Err(ApiError::invalid("give exactly one of match_id, line_id and entry_seq").param("match_id")),
    };
    let book = f.opt_bool("book")?.unwrap_or(false);
    Ok((target, book, note(&mut f)?))
}

/// The daily task: a run of every reconciled account; the runs made.
pub async fn daily_task(s: &AppState) -> Result<i64, String> {
    let accounts = s.db.recon_accounts().await.map_err(|e| e.to_string())?;
    let mut n = 0;
    for a in accounts {
        let audit = rialto_store::AuditContext { actor: "system:reconciliation".into(), request_id: None, ip: None };
        run_account(s, &a, "schedule", audit).await.map_err(|e| format!("{}: {}", a.account_id, e.message))?;
        n += 1;
    }
    Ok(n)
}

/// The reconciliation operations.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    Operation::new::<ReconAnswer>(Verb::Get, "/v1/reconciliation/accounts", Read, "The accounts that mirror a bank account, with their reconciliation settings", handler!(list_accounts)),
    Operation::new::<ReconAnswer>(Verb::Post, "/v1/reconciliation/accounts/{id}", Administer, "Create or replace a mirror account's reconciliation settings (bank account, fees account, write-off limit, rules, CSV mapping)", handler!(configure)).body::<ReconSettings>().status(200),
    Operation::new::<ReconAnswer>(Verb::Get, "/v1/reconciliation/accounts/{id}", Read, "A mirror account's reconciliation settings", handler!(get_account)),
    Operation::new::<ReconAnswer>(Verb::Post, "/v1/reconciliation/accounts/{id}/statements", Administer, "Import a statement file (camt.052/053/054, MT940, or CSV with the saved mapping): each statement with its balances, line count and whether it adds up; a re-import changes nothing", handler!(upload)).body::<StatementUpload>().status(200).body_limit(STATEMENT_UPLOAD_MAX + 4096),
    Operation::new::<ReconAnswer>(Verb::Get, "/v1/reconciliation/accounts/{id}/statements", Read, "A mirror account's statements, oldest first", handler!(list_statements)).queries(&["limit", "starting_after", "ending_before"]),
    Operation::new::<ReconAnswer>(Verb::Get, "/v1/reconciliation/statements/{id}", Read, "A statement with up to 100 of its lines from `from`", handler!(get_statement)).queries(&["from"]),
    Operation::new::<ReconAnswer>(Verb::Post, "/v1/reconciliation/accounts/{id}/runs", Review, "Reconcile a mirror account now: match its unmatched lines and entries, auto-resolve, report counts and drift", handler!(create_run)).body::<RunCreate>().status(201).without_idempotency(),
    Operation::new::<ReconAnswer>(Verb::Get, "/v1/reconciliation/accounts/{id}/runs", Read, "A mirror account's runs, oldest first", handler!(list_runs)).queries(&["limit", "starting_after", "ending_before"]),
    Operation::new::<ReconAnswer>(Verb::Get, "/v1/reconciliation/runs/{id}", Read, "A run: counts and amounts per state, statement and ledger balances, drift", handler!(get_run)),
    Operation::new::<ReconAnswer>(Verb::Get, "/v1/reconciliation/runs/{id}/details", Read, "A run's details: every match it made (a row per line and per entry), then the lines still unmatched", handler!(run_details)),
    Operation::new::<crate::contract::Status>(Verb::Get, "/v1/reconciliation/runs/{id}/export.csv", Read, "A run's details as CSV", handler!(export_csv)).text("text/csv"),
    Operation::new::<ReconAnswer>(Verb::Get, "/v1/reconciliation/accounts/{id}/exceptions", Read, "The exception queue: mismatches, duplicates, unbooked fees, and unmatched lines", handler!(exceptions)).queries(&["limit", "starting_after", "ending_before"]),
    Operation::new::<ReconAnswer>(Verb::Post, "/v1/reconciliation/accounts/{id}/matches", Review, "Match lines with ledger entries by hand, with a note", handler!(manual_match)).body::<ManualMatch>().status(201),
    Operation::new::<ReconAnswer>(Verb::Post, "/v1/reconciliation/matches/{id}/unmatch", Review, "Undo a match, with a note", handler!(unmatch)).body::<Unmatch>().status(200),
    Operation::new::<ReconAnswer>(Verb::Post, "/v1/reconciliation/accounts/{id}/resolutions", Review, "Resolve an exception, an unmatched line or entry with a note, optionally booking the difference to the fees account", handler!(resolve)).body::<Resolution>().status(200),
];

#[allow(unused_imports)]
use Id as _;
