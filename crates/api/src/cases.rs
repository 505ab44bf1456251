//! AML monitoring, compliance cases and regulatory reports: the monitor task (typologies over
//! committed payments, alerts into cases), the case queue and its reviewer workflow, CTRs
//! filed daily by a task and SAR drafts from a case, as JSON and FinCEN batch XML.

use std::collections::{BTreeSet, HashMap};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rialto_compliance::aml::{self, Context, Flow, Typology};
use rialto_compliance::cases::{CaseStatus, Disposition, EVIDENCE_MAX, NOTE_MAX};
use rialto_compliance::reports::{self, Ctr, Sar, Subject};
use rialto_core::ids::{self, new_id, Id};
use rialto_store::{
    AlertRecord, CaseFilter, CaseRecord, Command, ComplianceCommand, NoteRecord, ReportKind, ReportRecord,
};
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::auth::Ctx;
use crate::contract::{handler, names, Operation, Verb};
use crate::error::ApiError;
use crate::http::{filter_id, paging, params, respond, write, Body, Params};
use crate::input::{id_of, Fields, PathId};
use crate::permissions::Permission::{Read, Review};
use crate::present::{alert_json, case_json, note_json, report_json};
use crate::AppState;

/// Payments one monitor batch evaluates at most (one writer command).
const MONITOR_BATCH_MAX: i64 = 500;

/// Accounts the round-tripping search follows per hop at most.
const ONWARD_FRONTIER_MAX: usize = 200;

names!(
    /// Where a case is.
    CaseStatusName: "open", "assigned", "escalated", "closed"
);
names!(
    /// How a case was decided.
    DispositionName: "false_positive", "true_match", "sar_filed"
);
names!(
    /// A report's form.
    ReportKindName: "ctr", "sar"
);

/// Give a case to a reviewer (default: the caller's key).
#[derive(ToSchema)]
#[schema(example = json!({"assignee": "key_analyst_1"}))]
#[allow(dead_code)]
pub struct CaseAssign {
    #[schema(min_length = 1, max_length = 100)]
    assignee: Option<String>,
}

/// Send a case up, saying why.
#[derive(ToSchema)]
#[schema(example = json!({"reason": "pattern across several customers"}))]
#[allow(dead_code)]
pub struct CaseEscalate {
    #[schema(min_length = 1, max_length = 1000)]
    reason: String,
}

/// A note on a case, with references to the evidence (payment, alert, report ids, document names).
#[derive(ToSchema)]
#[schema(example = json!({"text": "customer explained the deposits as shop takings", "evidence": ["pay_0190f5a4c5e97b5a9c6d0c1e2f3a4b5c"]}))]
#[allow(dead_code)]
pub struct CaseNote {
    #[schema(min_length = 1, max_length = 4000)]
    text: String,
    #[schema(max_items = 20)]
    evidence: Option<Vec<String>>,
}

/// Decide a case.
#[derive(ToSchema)]
#[schema(example = json!({"disposition": "false_positive", "reason": "documented business income"}))]
#[allow(dead_code)]
pub struct CaseClose {
    disposition: DispositionName,
    #[schema(min_length = 1, max_length = 1000)]
    reason: String,
}

/// Draft a SAR from the case; `narrative` is put before the case's own account of it.
#[derive(ToSchema)]
#[schema(example = json!({"narrative": "Subject made repeated cash deposits just under the reporting threshold."}))]
#[allow(dead_code)]
pub struct SarDraft {
    #[schema(max_length = 8000)]
    narrative: Option<String>,
}

/// File the CTRs of a business day (`YYYY-MM-DD`, in the configured time zone; default:
/// yesterday). Reports already filed for a person and day are kept.
#[derive(ToSchema)]
#[schema(example = json!({"day": "2026-12-01"}))]
#[allow(dead_code)]
pub struct CtrFiling {
    #[schema(pattern = r"^\d{4}-\d{2}-\d{2}$")]
    day: Option<String>,
}

/// A compliance case.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CaseView {
    /// `cas_…`.
    id: String,
    /// Always `compliance_case`.
    object: String,
    user_id: String,
    status: CaseStatusName,
    /// The user's payments are held for review while the case is open.
    hold: bool,
    assignee: Option<String>,
    disposition: Option<DispositionName>,
    reason: Option<String>,
    alert_count: i64,
    sar_report_id: Option<String>,
    opened_at: crate::present::Timestamp,
    updated_at: crate::present::Timestamp,
    closed_at: Option<crate::present::Timestamp>,
}

/// An alert: the typology, the payment that completed the pattern, the payments involved and
/// the figures seen.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AlertView {
    /// `alr_…`.
    id: String,
    /// Always `compliance_alert`.
    object: String,
    case_id: String,
    user_id: String,
    /// `structuring`, `rapid_movement`, `fan_in`, `fan_out`, `round_tripping`,
    /// `dormant_activity`, `high_risk_country` or `sanctions_match`.
    typology: String,
    /// `alert` or `hold`.
    action: String,
    payment_id: Option<String>,
    summary: String,
    evidence: Vec<String>,
    figures: Object,
    occurred_at: crate::present::Timestamp,
    created_at: crate::present::Timestamp,
}

/// A JSON object.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Object {}

/// A line of a case's history.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NoteView {
    /// `cnt_…`.
    id: String,
    /// Always `case_note`.
    object: String,
    /// `note`, `assigned`, `escalated`, `closed` or `sar_drafted`.
    kind: String,
    text: String,
    evidence: Vec<String>,
    created_by: String,
    created_at: crate::present::Timestamp,
}

/// A case with its alerts and history.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CaseDetail {
    #[schema(inline)]
    case: CaseView,
    alerts: Vec<AlertView>,
    notes: Vec<NoteView>,
}

/// A page of cases.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CaseList {
    /// Always `list`.
    object: String,
    data: Vec<CaseView>,
    has_more: bool,
}

/// A regulatory report: a CTR (one person, one business day) or a SAR draft (from a case).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ReportView {
    /// `rpt_…`.
    id: String,
    /// Always `compliance_report`.
    object: String,
    #[schema(rename = "type")]
    r#type: ReportKindName,
    user_id: String,
    case_id: Option<String>,
    /// Business day (CTR) or last day of the activity (SAR).
    day: String,
    currency: String,
    /// Cash in plus out (CTR) or the suspicious amount (SAR), minor units.
    amount: i64,
    /// The report's content (subject, totals, transactions; for a SAR the classifications
    /// and narrative).
    data: Object,
    created_by: String,
    created_at: crate::present::Timestamp,
}

/// A page of reports.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ReportList {
    /// Always `list`.
    object: String,
    data: Vec<ReportView>,
    has_more: bool,
}

/// The AML typologies in force (`RIALTO_AML_TYPOLOGIES`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TypologiesView {
    reporting_currency: String,
    ctr_threshold: i64,
    structuring: Object,
    rapid_movement: Object,
    fan_in: Object,
    fan_out: Object,
    round_tripping: Object,
    dormant_activity: Object,
    high_risk_country: Object,
    sanctions_match: Object,
}

/// `GET /v1/compliance/typologies`
pub async fn typologies(State(s): State<AppState>) -> Response {
    respond(serde_json::to_value(&s.config.policies.aml).map_err(|e| ApiError::unavailable(e.to_string())))
}

/// `GET /v1/compliance/cases?status=&assignee=&user_id=`: the queue, oldest first.
pub async fn list_cases(State(s): State<AppState>, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["limit", "starting_after", "ending_before", "status", "assignee", "user_id"])?;
            let (cursor, limit) = paging(&p, ids::CaseId::PREFIX)?;
            let status = match p.get("status") {
                Some(v) => Some(CaseStatus::parse(v).ok_or_else(|| {
                    ApiError::invalid(format!("status must be {}", CaseStatus::names())).param("status")
                })?),
                None => None,
            };
            let filter =
                CaseFilter { status, assignee: p.get("assignee").cloned(), user_id: filter_id::<ids::UserId>(&p, "user_id")? };
            let page = s.db.cases(&filter, &cursor, limit).await?;
            Ok(json!({"object": "list", "data": page.data.iter().map(case_json).collect::<Vec<_>>(), "has_more": page.has_more}))
        }
        .await,
    )
}

/// `GET /v1/compliance/cases/{id}`
pub async fn get_case(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = id_of::<ids::CaseId>(&id)?;
            let case = s.db.case(&id).await?.ok_or_else(|| ApiError::not_found("compliance case", &id))?;
            let alerts = s.db.case_alerts(&id).await?;
            let notes = s.db.case_notes(&id).await?;
            Ok(json!({
                "case": case_json(&case),
                "alerts": alerts.iter().map(alert_json).collect::<Vec<_>>(),
                "notes": notes.iter().map(note_json).collect::<Vec<_>>(),
            }))
        }
        .await,
    )
}

async fn change(s: AppState, ctx: Ctx, headers: HeaderMap, id: String, body: Body, verb: &'static str) -> Response {
    let path = format!("/v1/compliance/cases/{id}/{verb}");
    let by = ctx.caller.key_id.clone();
    let status = if verb == "notes" { StatusCode::CREATED } else { StatusCode::OK };
    write(&s, &ctx, &headers, &path, body, status, |b| {
        use rialto_store::CaseChange as C;
        let reason = |f: &mut Fields| -> Result<String, ApiError> {
            let r = f.string("reason", 1000)?;
            if r.trim().is_empty() {
                return Err(ApiError::invalid("reason must not be empty").param("reason"));
            }
            Ok(r)
        };
        let change = match verb {
            "assign" => {
                let mut f = Fields::of::<CaseAssign>(b)?;
                let assignee =
                    f.opt_string("assignee", 100)?.filter(|a| !a.trim().is_empty()).unwrap_or_else(|| by.clone());
                C::Assign { assignee }
            }
            "escalate" => C::Escalate { reason: reason(&mut Fields::of::<CaseEscalate>(b)?)? },
            "notes" => {
                let mut f = Fields::of::<CaseNote>(b)?;
                let text = f.string("text", NOTE_MAX)?;
                if text.trim().is_empty() {
                    return Err(ApiError::invalid("text must not be empty").param("text"));
                }
                let evidence = match f.opt_value("evidence") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) if items.len() <= EVIDENCE_MAX => items
                        .iter()
                        .map(|v| match v.as_str() {
                            Some(t) if (1..=200).contains(&t.chars().count()) => Ok(t.to_string()),
                            _ => Err(ApiError::invalid("evidence items must be strings of 1 to 200 characters")
                                .param("evidence")),
                        })
                        .collect::<Result<_, _>>()?,
                    Some(_) => {
                        return Err(ApiError::invalid(format!(
                            "evidence must be an array of at most {EVIDENCE_MAX} strings"
                        ))
                        .param("evidence"))
                    }
                };
                C::Note { text, evidence }
            }
            _ => {
                let mut f = Fields::of::<CaseClose>(b)?;
                let d = f.string("disposition", 30)?;
                let disposition = Disposition::parse(&d).ok_or_else(|| {
                    ApiError::invalid(format!("disposition must be {}", Disposition::names())).param("disposition")
                })?;
                C::Close { disposition, reason: reason(&mut f)? }
            }
        };
        let id = id_of::<ids::CaseId>(&id)?;
        Ok(Command::Compliance(ComplianceCommand::Case(rialto_store::CaseCommand::Change { id, change, by })))
    })
    .await
}

/// `POST /v1/compliance/cases/{id}/assign`
pub async fn assign(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    change(s, ctx, h, id, b, "assign").await
}

/// `POST /v1/compliance/cases/{id}/escalate`
pub async fn escalate(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    change(s, ctx, h, id, b, "escalate").await
}

/// `POST /v1/compliance/cases/{id}/notes`
pub async fn add_note(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    change(s, ctx, h, id, b, "notes").await
}

/// `POST /v1/compliance/cases/{id}/close`
pub async fn close(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    change(s, ctx, h, id, b, "close").await
}

/// Minor units of `currency` ("USD") as its exponent, 2 when unknown.
fn exponent(currency: &str) -> u8 {
    rialto_core::Currency::parse(currency).map_or(2, |c| c.exponent())
}

/// `YYYY-MM-DD` of a time, in the configured time zone.
fn local_day(s: &AppState, us: i64) -> String {
    let offset = s.config.policies.time_zone.offset_at(us);
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(us + offset * 1_000_000) * 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let d = t.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The `[from, to)` µs of a business day in the configured time zone.
fn day_bounds(s: &AppState, day: &str) -> Option<(i64, i64)> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(day, &format).ok()?;
    let midnight = d.midnight().assume_utc().unix_timestamp() * 1_000_000;
    let offset = s.config.policies.time_zone.offset_at(midnight) * 1_000_000;
    Some((midnight - offset, midnight - offset + 86_400_000_000))
}

async fn subject(s: &AppState, user_id: &str) -> Result<Subject, ApiError> {
    let u = s.db.user(user_id).await?;
    Ok(Subject {
        user_id: user_id.to_string(),
        name: u.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
        email: u.as_ref().and_then(|u| u.email.clone()),
        phone: u.as_ref().and_then(|u| u.phone.clone()),
    })
}

/// `POST /v1/compliance/cases/{id}/sar`: a SAR draft from the case's alerts, their payments
/// and its notes.
pub async fn draft_sar(State(s): State<AppState>, ctx: Ctx, h: HeaderMap, PathId(id): PathId, b: Body) -> Response {
    let path = format!("/v1/compliance/cases/{id}/sar");
    let bytes = match crate::http::body_bytes(b) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let command = match sar_command(&s, &ctx, &id, &bytes).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    crate::idem::run(&s, &ctx, &h, ("POST", &path, &bytes), command, StatusCode::CREATED).await
}

async fn sar_command(s: &AppState, ctx: &Ctx, id: &str, body: &[u8]) -> Result<Command, ApiError> {
    let mut f = Fields::of::<SarDraft>(body)?;
    let lead = f.opt_string("narrative", 8000)?.unwrap_or_default();
    let id = id_of::<ids::CaseId>(id)?;
    let case = s.db.case(&id).await?.ok_or_else(|| ApiError::not_found("compliance case", &id))?;
    let alerts = s.db.case_alerts(&id).await?;
    let notes = s.db.case_notes(&id).await?;
    let cfg = &s.config.policies.aml;
    let mut payments = Vec::new();
    let wanted: BTreeSet<&String> = alerts.iter().flat_map(|a| a.evidence.iter()).collect();
    for pid in wanted.into_iter().take(500) {
        if let Some(p) = s.db.payment(pid).await? {
            payments.push(p);
        }
    }
    let amount: i64 = payments
        .iter()
        .filter(|p| p.currency.code() == cfg.reporting_currency)
        .map(|p| p.amount)
        .fold(0, i64::saturating_add);
    let mut accounts: BTreeSet<String> = BTreeSet::new();
    for p in &payments {
        if p.user_id == case.user_id {
            accounts.insert(p.source_account_id.clone());
        }
    }
    let first = payments.iter().map(|p| p.created_at_us).min().unwrap_or(case.opened_at_us);
    let last = payments.iter().map(|p| p.created_at_us).max().unwrap_or(case.opened_at_us);
    let subject = subject(s, &case.user_id).await?;
    let narrative = narrative(s, (&lead, &case, &subject), &payments, amount, (&alerts, &notes));
    let sar = Sar {
        subject,
        accounts: accounts.into_iter().collect(),
        from_day: local_day(s, first),
        to_day: local_day(s, last),
        currency: cfg.reporting_currency.clone(),
        amount,
        classifications: alerts.iter().map(|a| reports::classification(a.typology)).collect(),
        narrative,
    };
    let report = ReportRecord {
        id: new_id::<ids::ReportId>(),
        kind: ReportKind::Sar,
        user_id: case.user_id.clone(),
        case_id: Some(case.id.clone()),
        day: sar.to_day.clone(),
        currency: sar.currency.clone(),
        amount,
        data: serde_json::to_value(&sar).map_err(|e| ApiError::unavailable(e.to_string()))?,
        created_by: ctx.caller.key_id.clone(),
        created_at_us: 0,
    };
    Ok(Command::Compliance(ComplianceCommand::Case(rialto_store::CaseCommand::DraftSar(Box::new(report)))))
}

/// A SAR's narrative: the reviewer's words, then the case's own account (alerts, notes).
fn narrative(
    s: &AppState,
    (lead, case, subject): (&str, &CaseRecord, &Subject),
    payments: &[rialto_store::PaymentRecord],
    amount: i64,
    (alerts, notes): (&[AlertRecord], &[NoteRecord]),
) -> String {
    let cfg = &s.config.policies.aml;
    let mut narrative = String::new();
    if !lead.trim().is_empty() {
        narrative.push_str(lead.trim());
        narrative.push_str("\n\n");
    }
    narrative.push_str(&format!(
        "Compliance case {} on {} ({}), opened {}. {} payments involved, {} {} in the reporting currency.\n",
        case.id,
        subject.name,
        case.user_id,
        local_day(s, case.opened_at_us),
        payments.len(),
        amount,
        cfg.reporting_currency
    ));
    for a in alerts {
        narrative.push_str(&format!(
            "Alert {} ({}): {}. Payments: {}.\n",
            a.id,
            a.typology.as_str(),
            a.summary,
            a.evidence.join(", ")
        ));
    }
    for n in notes.iter().filter(|n| n.kind == "note" || n.kind == "escalated") {
        narrative.push_str(&format!("Note by {} on {}: {}\n", n.created_by, local_day(s, n.created_at_us), n.text));
    }
    narrative
}

/// The CTRs of a business day not filed yet.
async fn ctr_command(s: &AppState, day: &str, by: &str) -> Result<Option<Command>, ApiError> {
    let (from, to) = day_bounds(s, day).ok_or_else(|| ApiError::invalid("day must be YYYY-MM-DD").param("day"))?;
    let cfg = &s.config.policies.aml;
    let cash = s.db.cash_between(&cfg.reporting_currency, from, to).await?;
    let filed: BTreeSet<String> =
        s.db.reports(Some(ReportKind::Ctr), Some(day), &rialto_store::Cursor::First, 10_000)
            .await?
            .data
            .into_iter()
            .map(|r| r.user_id)
            .collect();
    let mut out = Vec::new();
    for (user, cash_in, cash_out, transactions) in reports::ctr_totals(&cash, cfg.ctr_threshold) {
        if filed.contains(&user) {
            continue;
        }
        let ctr = Ctr {
            subject: subject(s, &user).await?,
            day: day.to_string(),
            currency: cfg.reporting_currency.clone(),
            cash_in,
            cash_out,
            transactions,
        };
        out.push(ReportRecord {
            id: new_id::<ids::ReportId>(),
            kind: ReportKind::Ctr,
            user_id: user,
            case_id: None,
            day: day.to_string(),
            currency: cfg.reporting_currency.clone(),
            amount: cash_in.saturating_add(cash_out),
            data: serde_json::to_value(&ctr).map_err(|e| ApiError::unavailable(e.to_string()))?,
            created_by: by.to_string(),
            created_at_us: 0,
        });
    }
    if out.is_empty() {
        return Ok(None);
    }
    Ok(Some(Command::Compliance(ComplianceCommand::Case(rialto_store::CaseCommand::FileCtrs(out)))))
}

/// `POST /v1/compliance/ctr-filings`: file a day's CTRs now (the task files yesterday's).
pub async fn file_ctrs(State(s): State<AppState>, ctx: Ctx, b: Body) -> Response {
    respond(
        async {
            let bytes = crate::http::body_bytes(b)?;
            let mut f = Fields::of::<CtrFiling>(&bytes)?;
            let day = match f.opt_string("day", 10)? {
                Some(d) => d,
                None => local_day(&s, rialto_store::now_us() - 86_400_000_000),
            };
            if day_bounds(&s, &day).is_none() {
                return Err(ApiError::invalid("day must be YYYY-MM-DD").param("day"));
            }
            if let Some(command) = ctr_command(&s, &day, &ctx.caller.key_id).await? {
                let audit = Some(ctx.audit());
                match s.writer.submit(command, None, audit).await {
                    rialto_store::Reply::Done { outcome: Ok(_), .. } => {}
                    rialto_store::Reply::Done { outcome: Err(e), .. } => return Err(ApiError::from(&e)),
                    other => return Err(ApiError::unavailable(format!("{other:?}"))),
                }
            }
            let page = s.db.reports(Some(ReportKind::Ctr), Some(&day), &rialto_store::Cursor::First, 100).await?;
            Ok(json!({"object": "list", "data": page.data.iter().map(report_json).collect::<Vec<_>>(), "has_more": page.has_more}))
        }
        .await,
    )
}

/// The CTR task: files yesterday's CTRs (again: no change).
pub async fn ctr_task(s: &AppState) -> Result<i64, String> {
    let day = local_day(s, rialto_store::now_us() - 86_400_000_000);
    let Some(command) = ctr_command(s, &day, "system").await.map_err(|e| e.message)? else { return Ok(0) };
    let n = match &command {
        Command::Compliance(ComplianceCommand::Case(rialto_store::CaseCommand::FileCtrs(r))) => r.len() as i64,
        _ => 0,
    };
    let audit = Some(rialto_store::AuditContext { actor: "system:ctr_filing".into(), request_id: None, ip: None });
    match s.writer.submit(command, None, audit).await {
        rialto_store::Reply::Done { outcome: Ok(_), .. } => Ok(n),
        other => Err(format!("{other:?}")),
    }
}

/// `GET /v1/compliance/reports?type=&day=`: oldest first.
pub async fn list_reports(State(s): State<AppState>, q: Params) -> Response {
    respond(
        async {
            let p = params(q, &["limit", "starting_after", "ending_before", "type", "day"])?;
            let (cursor, limit) = paging(&p, ids::ReportId::PREFIX)?;
            let kind = match p.get("type") {
                Some(v) => Some(ReportKind::parse(v).ok_or_else(|| {
                    ApiError::invalid(format!("type must be {}", ReportKind::names())).param("type")
                })?),
                None => None,
            };
            if let Some(d) = p.get("day") {
                if day_bounds(&s, d).is_none() {
                    return Err(ApiError::invalid("day must be YYYY-MM-DD").param("day"));
                }
            }
            let page = s.db.reports(kind, p.get("day").map(String::as_str), &cursor, limit).await?;
            Ok(json!({"object": "list", "data": page.data.iter().map(report_json).collect::<Vec<_>>(), "has_more": page.has_more}))
        }
        .await,
    )
}

/// `GET /v1/compliance/reports/{id}`
pub async fn get_report(State(s): State<AppState>, PathId(id): PathId) -> Response {
    respond(
        async {
            let id = id_of::<ids::ReportId>(&id)?;
            let r = s.db.report(&id).await?.ok_or_else(|| ApiError::not_found("compliance report", &id))?;
            Ok(report_json(&r))
        }
        .await,
    )
}

/// An XML answer, or the error.
fn xml(result: Result<String, ApiError>) -> Response {
    match result {
        Ok(body) => ([(header::CONTENT_TYPE, "application/xml")], body).into_response(),
        Err(e) => e.into_response(),
    }
}

fn batch_xml(s: &AppState, list: &[ReportRecord]) -> Result<String, ApiError> {
    let filing_day = local_day(s, rialto_store::now_us());
    let currency = list.first().map_or("USD", |r| r.currency.as_str());
    match list.first().map(|r| r.kind) {
        Some(ReportKind::Sar) => {
            let sars: Vec<Sar> = list.iter().filter_map(|r| serde_json::from_value(r.data.clone()).ok()).collect();
            Ok(reports::sar_batch_xml(&sars, &s.config.fincen_filer, &filing_day, exponent(currency)))
        }
        _ => {
            let ctrs: Vec<Ctr> = list.iter().filter_map(|r| serde_json::from_value(r.data.clone()).ok()).collect();
            Ok(reports::ctr_batch_xml(&ctrs, &s.config.fincen_filer, &filing_day, exponent(currency)))
        }
    }
}

/// `GET /v1/compliance/reports/{id}/fincen.xml`: the report as a FinCEN batch of one.
pub async fn report_xml(State(s): State<AppState>, PathId(id): PathId) -> Response {
    let result = async {
        let id = id_of::<ids::ReportId>(&id)?;
        let r = s.db.report(&id).await?.ok_or_else(|| ApiError::not_found("compliance report", &id))?;
        batch_xml(&s, &[r])
    }
    .await;
    xml(result)
}

/// `GET /v1/compliance/ctr-filings/{day}/fincen.xml`: a day's CTRs as one FinCEN batch.
pub async fn day_xml(State(s): State<AppState>, PathId(day): PathId) -> Response {
    let result = async {
        if day_bounds(&s, &day).is_none() {
            return Err(ApiError::invalid("day must be YYYY-MM-DD").param("day"));
        }
        let list = s.db.reports(Some(ReportKind::Ctr), Some(&day), &rialto_store::Cursor::First, 10_000).await?.data;
        if list.is_empty() {
            return Err(ApiError::not_found("CTR filing", &day));
        }
        batch_xml(&s, &list)
    }
    .await;
    xml(result)
}

/// The monitor task: evaluates the typologies on payments committed since its last run and
/// records the alerts (and the payments it evaluated) in one command.
pub async fn monitor(s: &AppState) -> Result<i64, String> {
    // Batch after batch until caught up, for at most two intervals (the task's lease lasts
    // three): under a sustained load the monitor keeps pace instead of evaluating one batch
    // per interval. The run's count is the payments evaluated.
    let budget = s.config.aml_monitor_interval * 2;
    let started = std::time::Instant::now();
    let mut total = 0;
    loop {
        let (evaluated, _alerts) = monitor_batch(s).await?;
        total += evaluated;
        if evaluated < MONITOR_BATCH_MAX || started.elapsed() >= budget {
            return Ok(total);
        }
    }
}

/// One monitor batch: (payments evaluated, alerts raised).
async fn monitor_batch(s: &AppState) -> Result<(i64, i64), String> {
    let now = rialto_store::now_us();
    let db = &s.db;
    let cfg = &s.config.policies.aml;
    let pending = db.unmonitored_payments(now, MONITOR_BATCH_MAX).await.map_err(|e| e.to_string())?;
    if pending.is_empty() {
        return Ok((0, 0));
    }
    let evaluated = pending.len() as i64;
    let users: BTreeSet<String> =
        pending.iter().flat_map(|f| std::iter::once(f.user_id.clone()).chain(f.to_user.clone())).collect();
    let mut alerted: HashMap<(String, Typology), i64> =
        db.latest_alerts(&users, now - aml::WINDOW_MAX_SECONDS * 1_000_000).await.map_err(|e| e.to_string())?;
    let mut alerts = Vec::new();
    let mut checked = Vec::with_capacity(pending.len());
    for flow in &pending {
        let found = evaluate_one(s, cfg, flow, &alerted).await.map_err(|e| e.to_string())?;
        for a in &found {
            alerted.insert((a.user_id.clone(), a.typology), a.occurred_at_us);
        }
        alerts.extend(found);
        checked.push((flow.payment_id.clone(), flow.at_us));
    }
    let raised = alerts.len() as i64;
    let command = Command::Compliance(ComplianceCommand::Case(rialto_store::CaseCommand::Monitor { checked, alerts }));
    let audit = Some(rialto_store::AuditContext { actor: "system:aml_monitor".into(), request_id: None, ip: None });
    match s.writer.submit(command, None, audit).await {
        rialto_store::Reply::Done { outcome: Ok(_), .. } => Ok((evaluated, raised)),
        other => Err(format!("{other:?}")),
    }
}

async fn evaluate_one(
    s: &AppState,
    cfg: &aml::Typologies,
    flow: &Flow,
    alerted: &HashMap<(String, Typology), i64>,
) -> Result<Vec<aml::Alert>, rialto_store::StoreError> {
    let db = &s.db;
    let since = flow.at_us - cfg.lookback_seconds() * 1_000_000;
    // Customers' accounts only: a house account (a till, a funding account) is on every side
    // of the business and tells nothing about one customer.
    let mut accounts: BTreeSet<String> = BTreeSet::new();
    if flow.from_user.is_some() {
        accounts.insert(flow.from_account.clone());
    }
    if flow.to_user.is_some() {
        accounts.insert(flow.to_account.clone());
    }
    let recent: Vec<Flow> = db
        .flows_touching(&accounts, since, flow.at_us)
        .await?
        .into_iter()
        .filter(|f| f.payment_id != flow.payment_id)
        .collect();
    // Round-tripping: hop by hop from the destination, within its window.
    let mut onward = Vec::new();
    if cfg.round_tripping.applies(flow.amount) && flow.to_user.is_some() {
        let start = flow.at_us - cfg.round_tripping.window_seconds * 1_000_000;
        let mut seen: BTreeSet<String> = BTreeSet::from([flow.to_account.clone()]);
        let mut frontier = seen.clone();
        for _ in 0..cfg.round_tripping.max_hops.saturating_sub(1) {
            if frontier.is_empty() {
                break;
            }
            let hop: Vec<Flow> = db
                .flows_where("p.source_account_id", &frontier, start, flow.at_us)
                .await?
                .into_iter()
                .filter(|f| f.from_user.is_some())
                .collect();
            frontier = hop
                .iter()
                .map(|f| f.to_account.clone())
                .filter(|a| seen.insert(a.clone()))
                .take(ONWARD_FRONTIER_MAX)
                .collect();
            onward.extend(hop.into_iter().filter(|f| f.payment_id != flow.payment_id));
        }
    }
    let (previous, joined) = db.payer_history(&flow.user_id, flow.at_us).await?;
    let cx = Context {
        recent: &recent,
        onward: &onward,
        payer_previous_at_us: previous,
        payer_since_us: joined,
        alerted: Some(alerted),
    };
    Ok(aml::evaluate(cfg, flow, &cx))
}

/// The compliance case and report operations.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    Operation::new::<TypologiesView>(Verb::Get, "/v1/compliance/typologies", Read, "The AML typologies in force and their settings", handler!(typologies)),
    Operation::new::<CaseList>(Verb::Get, "/v1/compliance/cases", Read, "The case queue, oldest first (filters: status, assignee, user_id)", handler!(list_cases)).queries(&["limit", "starting_after", "ending_before", "status", "assignee", "user_id"]),
    Operation::new::<CaseDetail>(Verb::Get, "/v1/compliance/cases/{id}", Read, "A case with its alerts (typology, evidence) and history", handler!(get_case)),
    Operation::new::<CaseView>(Verb::Post, "/v1/compliance/cases/{id}/assign", Review, "Assign a case to a reviewer (default: the caller)", handler!(assign)).body::<CaseAssign>().status(200),
    Operation::new::<CaseView>(Verb::Post, "/v1/compliance/cases/{id}/escalate", Review, "Escalate a case, saying why", handler!(escalate)).body::<CaseEscalate>().status(200),
    Operation::new::<CaseView>(Verb::Post, "/v1/compliance/cases/{id}/notes", Review, "Add a note with evidence references to a case", handler!(add_note)).body::<CaseNote>().status(201),
    Operation::new::<CaseView>(Verb::Post, "/v1/compliance/cases/{id}/close", Review, "Close a case with a disposition (false_positive, true_match, sar_filed)", handler!(close)).body::<CaseClose>().status(200),
    Operation::new::<ReportView>(Verb::Post, "/v1/compliance/cases/{id}/sar", Review, "Draft a suspicious activity report from a case", handler!(draft_sar)).body::<SarDraft>().status(201),
    Operation::new::<ReportList>(Verb::Post, "/v1/compliance/ctr-filings", Review, "File a business day's currency transaction reports now (default: yesterday)", handler!(file_ctrs)).body::<CtrFiling>().status(200).without_idempotency(),
    Operation::new::<crate::contract::Status>(Verb::Get, "/v1/compliance/ctr-filings/{day}/fincen.xml", Read, "A day's CTRs as one FinCEN CTRX batch (XML)", handler!(day_xml)).text("application/xml"),
    Operation::new::<ReportList>(Verb::Get, "/v1/compliance/reports", Read, "CTRs and SAR drafts, oldest first (filters: type, day)", handler!(list_reports)).queries(&["limit", "starting_after", "ending_before", "type", "day"]),
    Operation::new::<ReportView>(Verb::Get, "/v1/compliance/reports/{id}", Read, "A report", handler!(get_report)),
    Operation::new::<crate::contract::Status>(Verb::Get, "/v1/compliance/reports/{id}/fincen.xml", Read, "A report as a FinCEN batch of one (CTRX or SARX XML)", handler!(report_xml)).text("application/xml"),
];

#[allow(unused_imports)]
use Id as _;
