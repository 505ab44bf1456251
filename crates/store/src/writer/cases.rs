//! Compliance cases in the batch: alerts join the user's open case (or open one), reviewers
//! move cases along their workflow with notes, CTRs are filed and SARs drafted; each in one
//! transaction with its audit record and events.

use std::collections::BTreeSet;

use rialto_compliance::aml::{Alert, AlertAction, Typology};
use rialto_compliance::cases::{CaseStatus, Disposition};
use rialto_core::ids;
use serde_json::json;

use super::{Abort, CommandError, Output, State, Writes};
use crate::cases::{AlertRecord, CaseRecord, NoteRecord, ReportRecord, CASE_COLUMNS};
use crate::sql::{exec_values, placeholders, Conn, Val};
use crate::DbKind;

/// A compliance case command.
#[derive(Debug, Clone)]
pub enum CaseCommand {
    /// A monitor run: the payments it evaluated (id, created at) and the alerts they raised.
    Monitor {
        /// Payments evaluated.
        checked: Vec<(String, i64)>,
        /// Alerts raised.
        alerts: Vec<Alert>,
    },
    /// A reviewer's change to a case.
    Change {
        /// The case.
        id: String,
        /// What changes.
        change: CaseChange,
        /// The key that changed it.
        by: String,
    },
    /// File CTRs (the daily task, or on demand); a report for the same person and day that
    /// exists already is kept.
    FileCtrs(Vec<ReportRecord>),
    /// Draft a SAR from a case.
    DraftSar(Box<ReportRecord>),
}

/// A change to a case.
#[derive(Debug, Clone)]
pub enum CaseChange {
    /// Give it to a reviewer.
    Assign {
        /// Who.
        assignee: String,
    },
    /// Send it up.
    Escalate {
        /// Why.
        reason: String,
    },
    /// Add a note with evidence references.
    Note {
        /// Text.
        text: String,
        /// Payment, alert, report ids or document names.
        evidence: Vec<String>,
    },
    /// Decide it.
    Close {
        /// How.
        disposition: Disposition,
        /// Why.
        reason: String,
    },
}

/// What a batch's case commands need: cases by id, and the open cases of users that may get
/// an alert.
#[derive(Debug, Default)]
pub(crate) struct Keys {
    pub ids: BTreeSet<String>,
    pub users: BTreeSet<String>,
}

impl CaseCommand {
    /// The audit action and the resource it names.
    pub(crate) fn action(&self) -> (&'static str, Option<(&'static str, String)>) {
        match self {
            CaseCommand::Monitor { .. } => ("compliance.monitor", None),
            CaseCommand::Change { id, change, .. } => {
                let action = match change {
                    CaseChange::Assign { .. } => "compliance_case.assign",
                    CaseChange::Escalate { .. } => "compliance_case.escalate",
                    CaseChange::Note { .. } => "compliance_case.note",
                    CaseChange::Close { .. } => "compliance_case.close",
                };
                (action, Some(("compliance_case", id.clone())))
            }
            CaseCommand::FileCtrs(_) => ("compliance_report.ctr", None),
            CaseCommand::DraftSar(r) => {
                ("compliance_report.sar", Some(("compliance_case", r.case_id.clone().unwrap_or_default())))
            }
        }
    }

    /// What the command needs loaded.
    pub(crate) fn keys(&self, k: &mut Keys) {
        match self {
            CaseCommand::Monitor { alerts, .. } => k.users.extend(alerts.iter().map(|a| a.user_id.clone())),
            CaseCommand::Change { id, .. } => {
                k.ids.insert(id.clone());
            }
            CaseCommand::DraftSar(r) => k.ids.extend(r.case_id.clone()),
            CaseCommand::FileCtrs(_) => {}
        }
    }
}

/// Loads the payers' holding cases (for the gate), the cases named (locked), and the open
/// cases of users that may get an alert (locked; on PostgreSQL under a per-user advisory
/// lock first, so two processes cannot both open a user's case).
pub(crate) async fn load(conn: &mut Conn, state: &mut State, payers: &BTreeSet<String>, k: &Keys) -> Result<(), Abort> {
    let kind = conn.kind();
    let ids: Vec<&str> = payers.iter().map(String::as_str).collect();
    // `status <> 'closed'` written out, so the partial index on open cases serves the query.
    let holds = format!(
        "SELECT id, user_id FROM compliance_cases WHERE status <> 'closed' AND hold = {}",
        placeholders(kind, 1, 1)
    );
    for r in conn.fetch_in_where(&holds, vec![Val::I(1)], "user_id", &ids, "").await? {
        let (id, user): (String, String) = (crate::sql::Get::col(&r, "id")?, crate::sql::Get::col(&r, "user_id")?);
        state.aml_holds.insert(user, format!("open compliance case {id} holds this user's payments"));
    }
    if k.ids.is_empty() && k.users.is_empty() {
        return Ok(());
    }
    let lock = if kind == DbKind::Postgres { " ORDER BY id FOR UPDATE" } else { "" };
    if kind == DbKind::Postgres && !k.users.is_empty() {
        let keys = k.users.iter().map(|u| crate::sql::lock_key(&["compliance_case", u])).collect();
        crate::sql::advisory_locks(conn, "pg_advisory_xact_lock", keys).await?;
    }
    let select = format!("SELECT {CASE_COLUMNS} FROM compliance_cases");
    let ids: Vec<&str> = k.ids.iter().map(String::as_str).collect();
    let mut found = conn.fetch_in(&select, "id", &ids, lock).await?;
    let users: Vec<&str> = k.users.iter().map(String::as_str).collect();
    let open = format!("{select} WHERE status <> 'closed' AND alerts < {}", placeholders(kind, 1, 1));
    found.extend(conn.fetch_in_where(&open, vec![Val::I(i64::MAX)], "user_id", &users, lock).await?);
    for r in found {
        let c = crate::cases::case_from_row(&r)?;
        if c.status != CaseStatus::Closed {
            state.open_cases.insert(c.user_id.clone(), c.id.clone());
        }
        state.cases.insert(c.id.clone(), c);
    }
    Ok(())
}

/// The case as the batch sees it now.
fn current(state: &State, id: &str) -> Option<CaseRecord> {
    state.cases.get(id).cloned()
}

fn keep(state: &mut State, writes: &mut Writes, c: CaseRecord) {
    if c.status == CaseStatus::Closed {
        state.open_cases.remove(&c.user_id);
        state.aml_holds.remove(&c.user_id);
    } else {
        state.open_cases.insert(c.user_id.clone(), c.id.clone());
        if c.hold {
            state
                .aml_holds
                .insert(c.user_id.clone(), format!("open compliance case {} holds this user's payments", c.id));
        }
    }
    writes.cases.retain(|x| x.id != c.id);
    writes.cases.push(c.clone());
    state.cases.insert(c.id.clone(), c);
}

/// Puts an alert on the user's open case, opening one if there is none.
pub(crate) fn raise(state: &mut State, writes: &mut Writes, a: &Alert) -> AlertRecord {
    let now = state.now;
    let mut case = match state.open_cases.get(&a.user_id).and_then(|id| current(state, id)) {
        Some(c) => c,
        None => CaseRecord {
            id: ids::new_id::<ids::CaseId>(),
            user_id: a.user_id.clone(),
            status: CaseStatus::Open,
            hold: false,
            assignee: None,
            disposition: None,
            reason: None,
            alerts: 0,
            sar_report_id: None,
            opened_at_us: now,
            updated_at_us: now,
            closed_at_us: None,
        },
    };
    case.alerts += 1;
    case.hold |= a.action == AlertAction::Hold;
    case.updated_at_us = now;
    let record = AlertRecord {
        id: ids::new_id::<ids::AlertId>(),
        case_id: case.id.clone(),
        user_id: a.user_id.clone(),
        typology: a.typology,
        action: a.action,
        payment_id: (!a.payment_id.is_empty()).then(|| a.payment_id.clone()),
        summary: a.summary.clone(),
        evidence: a.evidence.clone(),
        figures: a.figures.clone(),
        occurred_at_us: a.occurred_at_us,
        created_at_us: now,
    };
    keep(state, writes, case);
    writes.alerts.push(record.clone());
    record
}

/// A sanctions screening that matched raises an alert when it differs from the last one.
pub(crate) fn screened(state: &mut State, writes: &mut Writes, s: &crate::sanctions::ScreeningRecord) {
    use rialto_payments::ScreeningStatus;
    let cfg = &state.policies.aml.sanctions_match;
    if !cfg.enabled || s.status == ScreeningStatus::Clear {
        return;
    }
    if state.screenings.get(&s.user_id).is_some_and(|(st, why)| *st == s.status && *why == s.reason) {
        return;
    }
    let alert = Alert {
        typology: Typology::SanctionsMatch,
        user_id: s.user_id.clone(),
        payment_id: String::new(),
        occurred_at_us: state.now,
        action: cfg.action,
        summary: format!("sanctions screening {}: {}", s.status.as_str(), s.reason),
        evidence: Vec::new(),
        figures: json!({"status": s.status.as_str(), "score": s.score_bp as f64 / 10_000.0,
            "versions": serde_json::from_str::<serde_json::Value>(&s.versions).unwrap_or_default()}),
    };
    raise(state, writes, &alert);
}

/// Applies one case command.
pub(crate) fn apply(state: &mut State, writes: &mut Writes, c: &CaseCommand) -> Result<Output, CommandError> {
    match c {
        CaseCommand::Monitor { checked, alerts } => {
            let raised: Vec<AlertRecord> = alerts.iter().map(|a| raise(state, writes, a)).collect();
            writes.monitored.extend(checked.iter().cloned());
            Ok(Output::Alerts(raised))
        }
        CaseCommand::Change { id, change, by } => change_case(state, writes, id, change, by),
        CaseCommand::FileCtrs(reports) => {
            let now = state.now;
            let reports: Vec<ReportRecord> =
                reports.iter().map(|r| ReportRecord { created_at_us: now, ..r.clone() }).collect();
            writes.reports.extend(reports.iter().cloned());
            Ok(Output::Reports(reports))
        }
        CaseCommand::DraftSar(r) => {
            let case_id = r.case_id.clone().unwrap_or_default();
            let Some(mut case) = current(state, &case_id) else { return Err(CommandError::CaseNotFound(case_id)) };
            if case.status == CaseStatus::Closed {
                return Err(CommandError::CaseState(format!("case {case_id} is closed")));
            }
            let r = ReportRecord { created_at_us: state.now, ..(**r).clone() };
            case.sar_report_id = Some(r.id.clone());
            case.updated_at_us = state.now;
            note(
                state,
                writes,
                &case_id,
                "sar_drafted",
                format!("SAR draft {}", r.id),
                vec![r.id.clone()],
                &r.created_by,
            );
            keep(state, writes, case);
            writes.reports.push(r.clone());
            Ok(Output::Report(Box::new(r)))
        }
    }
}

fn note(state: &State, writes: &mut Writes, case: &str, kind: &str, text: String, evidence: Vec<String>, by: &str) {
    writes.case_notes.push(NoteRecord {
        id: ids::new_id::<ids::CaseNoteId>(),
        case_id: case.to_string(),
        kind: kind.to_string(),
        text,
        evidence,
        created_by: by.to_string(),
        created_at_us: state.now,
    });
}

fn change_case(
    state: &mut State,
    writes: &mut Writes,
    id: &str,
    change: &CaseChange,
    by: &str,
) -> Result<Output, CommandError> {
    let Some(mut case) = current(state, id) else { return Err(CommandError::CaseNotFound(id.to_string())) };
    let to = match change {
        CaseChange::Assign { .. } => CaseStatus::Assigned,
        CaseChange::Escalate { .. } => CaseStatus::Escalated,
        CaseChange::Note { .. } => case.status,
        CaseChange::Close { .. } => CaseStatus::Closed,
    };
    let moves = !matches!(change, CaseChange::Note { .. });
    if case.status == CaseStatus::Closed || (moves && !case.status.can_become(to)) {
        return Err(CommandError::CaseState(format!("a {} case cannot become {}", case.status.as_str(), to.as_str())));
    }
    let (kind, text, evidence) = match change {
        CaseChange::Assign { assignee } => {
            case.assignee = Some(assignee.clone());
            ("assigned", format!("assigned to {assignee}"), Vec::new())
        }
        CaseChange::Escalate { reason } => {
            case.reason = Some(reason.clone());
            ("escalated", reason.clone(), Vec::new())
        }
        CaseChange::Note { text, evidence } => ("note", text.clone(), evidence.clone()),
        CaseChange::Close { disposition, reason } => {
            if *disposition == Disposition::SarFiled && case.sar_report_id.is_none() {
                return Err(CommandError::CaseState(format!("case {id} has no SAR draft to have filed")));
            }
            case.disposition = Some(*disposition);
            case.reason = Some(reason.clone());
            case.closed_at_us = Some(state.now);
            ("closed", format!("{}: {reason}", disposition.as_str()), case.sar_report_id.iter().cloned().collect())
        }
    };
    case.status = to;
    case.updated_at_us = state.now;
    note(state, writes, id, kind, text, evidence, by);
    keep(state, writes, case.clone());
    Ok(Output::Case(Box::new(case)))
}

/// Audit details of a case command.
pub(crate) fn details(c: &CaseCommand, output: &Output) -> String {
    match (c, output) {
        (CaseCommand::Monitor { checked, .. }, Output::Alerts(a)) => json!({
            "payments": checked.len(),
            "alerts": a.iter().map(|a| json!({"id": a.id, "case_id": a.case_id, "user_id": a.user_id,
                "typology": a.typology.as_str(), "payment_id": a.payment_id, "evidence": a.evidence})).collect::<Vec<_>>(),
        })
        .to_string(),
        (CaseCommand::Change { change, .. }, Output::Case(case)) => {
            let what = match change {
                CaseChange::Assign { assignee } => json!({"assignee": assignee}),
                CaseChange::Escalate { reason } => json!({"reason": reason}),
                CaseChange::Note { text, evidence } => json!({"text": text, "evidence": evidence}),
                CaseChange::Close { disposition, reason } => json!({"disposition": disposition.as_str(), "reason": reason}),
            };
            json!({"case": case.id, "user_id": case.user_id, "status": case.status.as_str(), "change": what}).to_string()
        }
        (_, Output::Reports(r)) => json!({"reports": r.iter().map(|r| json!({"id": r.id, "user_id": r.user_id,
            "day": r.day, "amount": r.amount, "currency": r.currency})).collect::<Vec<_>>()})
        .to_string(),
        (_, Output::Report(r)) => {
            json!({"id": r.id, "case_id": r.case_id, "user_id": r.user_id, "amount": r.amount, "currency": r.currency})
                .to_string()
        }
        _ => "{}".into(),
    }
}

/// Writes cases (whole rows), alerts, notes, reports and the monitor's marks.
pub(crate) async fn write(conn: &mut Conn, w: &mut Writes) -> Result<(), Abort> {
    let cases: Vec<Vec<Val>> = std::mem::take(&mut w.cases)
        .into_iter()
        .map(|c| {
            vec![
                Val::T(c.id),
                Val::T(c.user_id),
                Val::T(c.status.as_str().into()),
                Val::I(i64::from(c.hold)),
                Val::OT(c.assignee),
                Val::OT(c.disposition.map(|d| d.as_str().to_string())),
                Val::OT(c.reason),
                Val::I(c.alerts),
                Val::OT(c.sar_report_id),
                Val::I(c.opened_at_us),
                Val::I(c.updated_at_us),
                Val::OI(c.closed_at_us),
            ]
        })
        .collect();
    if !cases.is_empty() {
        let prefix = format!("INSERT INTO compliance_cases ({CASE_COLUMNS})");
        let update = "ON CONFLICT (id) DO UPDATE SET status = excluded.status, hold = excluded.hold, \
             assignee = excluded.assignee, disposition = excluded.disposition, reason = excluded.reason, \
             alerts = excluded.alerts, sar_report_id = excluded.sar_report_id, updated_at = excluded.updated_at, \
             closed_at = excluded.closed_at";
        exec_values(conn, &prefix, 12, cases, update).await?;
    }
    let alerts: Vec<Vec<Val>> = std::mem::take(&mut w.alerts)
        .into_iter()
        .map(|a| {
            vec![
                Val::T(a.id),
                Val::T(a.case_id),
                Val::T(a.user_id),
                Val::T(a.typology.as_str().into()),
                Val::T(if a.action == AlertAction::Hold { "hold" } else { "alert" }.into()),
                Val::OT(a.payment_id),
                Val::T(a.summary),
                Val::T(serde_json::to_string(&a.evidence).unwrap_or_default()),
                Val::T(a.figures.to_string()),
                Val::I(a.occurred_at_us),
                Val::I(a.created_at_us),
            ]
        })
        .collect();
    if !alerts.is_empty() {
        let prefix = "INSERT INTO compliance_alerts (id, case_id, user_id, typology, action, payment_id, summary, \
             evidence, figures, occurred_at, created_at)";
        exec_values(conn, prefix, 11, alerts, "ON CONFLICT DO NOTHING").await?;
    }
    write_rest(conn, w).await
}

async fn write_rest(conn: &mut Conn, w: &mut Writes) -> Result<(), Abort> {
    let notes: Vec<Vec<Val>> = std::mem::take(&mut w.case_notes)
        .into_iter()
        .map(|n| {
            vec![
                Val::T(n.id),
                Val::T(n.case_id),
                Val::T(n.kind),
                Val::T(n.text),
                Val::T(serde_json::to_string(&n.evidence).unwrap_or_default()),
                Val::T(n.created_by),
                Val::I(n.created_at_us),
            ]
        })
        .collect();
    if !notes.is_empty() {
        let prefix = "INSERT INTO compliance_case_notes (id, case_id, kind, text, evidence, created_by, created_at)";
        exec_values(conn, prefix, 7, notes, "").await?;
    }
    let reports: Vec<Vec<Val>> = std::mem::take(&mut w.reports)
        .into_iter()
        .map(|r| {
            vec![
                Val::T(r.id),
                Val::T(r.kind.as_str().into()),
                Val::T(r.user_id),
                Val::OT(r.case_id),
                Val::T(r.day),
                Val::T(r.currency),
                Val::I(r.amount),
                Val::T(r.data.to_string()),
                Val::T(r.created_by),
                Val::I(r.created_at_us),
            ]
        })
        .collect();
    if !reports.is_empty() {
        let prefix = "INSERT INTO compliance_reports (id, kind, user_id, case_id, day, currency, amount, data, \
             created_by, created_at)";
        exec_values(conn, prefix, 10, reports, "ON CONFLICT DO NOTHING").await?;
    }
    let marks: Vec<Vec<Val>> =
        std::mem::take(&mut w.monitored).into_iter().map(|(id, at)| vec![Val::T(id), Val::I(at)]).collect();
    for chunk in marks.chunks(1000) {
        let prefix = "INSERT INTO aml_monitored (payment_id, payment_created_at)";
        exec_values(conn, prefix, 2, chunk.to_vec(), "ON CONFLICT DO NOTHING").await?;
    }
    Ok(())
}
