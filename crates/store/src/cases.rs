//! Compliance cases, their alerts and notes, regulatory reports, and the reads the AML
//! monitor and the CTR task make over committed payments.

use std::collections::{BTreeSet, HashMap};

use rialto_compliance::aml::{AlertAction, Flow, Typology};
use rialto_compliance::cases::{CaseStatus, Disposition};
use rialto_compliance::reports::CashTransaction;
use sqlx::Row;

use crate::sql::{Get, Val};
use crate::{Db, StoreError};

/// A compliance case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRecord {
    /// `cas_…`.
    pub id: String,
    /// The user it is about.
    pub user_id: String,
    /// Where it is.
    pub status: CaseStatus,
    /// Whether the user's payments are held while it is open.
    pub hold: bool,
    /// The reviewer who has it.
    pub assignee: Option<String>,
    /// How it was decided.
    pub disposition: Option<Disposition>,
    /// Why (closing, escalating).
    pub reason: Option<String>,
    /// Alerts attached.
    pub alerts: i64,
    /// The SAR drafted from it.
    pub sar_report_id: Option<String>,
    /// Opened, µs.
    pub opened_at_us: i64,
    /// Last change, µs.
    pub updated_at_us: i64,
    /// Closed, µs.
    pub closed_at_us: Option<i64>,
}

/// An alert on a case.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRecord {
    /// `alr_…`.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// The user.
    pub user_id: String,
    /// Typology.
    pub typology: Typology,
    /// Alert or hold.
    pub action: AlertAction,
    /// The payment that completed the pattern (none for a screening).
    pub payment_id: Option<String>,
    /// One line.
    pub summary: String,
    /// Payments involved.
    pub evidence: Vec<String>,
    /// Figures seen.
    pub figures: serde_json::Value,
    /// When the pattern completed, µs.
    pub occurred_at_us: i64,
    /// Recorded, µs (set by the writer).
    pub created_at_us: i64,
}

/// A line of a case's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRecord {
    /// `cnt_…`.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// `note`, `assigned`, `escalated`, `closed`, `sar_drafted`.
    pub kind: String,
    /// What was said.
    pub text: String,
    /// Evidence references (payment, alert, report ids or document names).
    pub evidence: Vec<String>,
    /// The key that wrote it.
    pub created_by: String,
    /// When, µs (set by the writer).
    pub created_at_us: i64,
}

rialto_core::string_enum! {
    /// A report's form.
    pub enum ReportKind {
        /// Currency transaction report.
        Ctr = "ctr",
        /// Suspicious activity report (draft).
        Sar = "sar",
    }
}

/// A regulatory report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRecord {
    /// `rpt_…`.
    pub id: String,
    /// CTR or SAR.
    pub kind: ReportKind,
    /// The person.
    pub user_id: String,
    /// The case (SAR).
    pub case_id: Option<String>,
    /// Business day (CTR) or last day of the activity (SAR), `YYYY-MM-DD`.
    pub day: String,
    /// Currency.
    pub currency: String,
    /// Cash in plus out (CTR), suspicious amount (SAR), minor units.
    pub amount: i64,
    /// The report (`reports::Ctr` or `reports::Sar` as JSON).
    pub data: serde_json::Value,
    /// Who made it (`system` for the daily task).
    pub created_by: String,
    /// When, µs (set by the writer).
    pub created_at_us: i64,
}

pub(crate) const CASE_COLUMNS: &str =
    "id, user_id, status, hold, assignee, disposition, reason, alerts, sar_report_id, \
     opened_at, updated_at, closed_at";

pub(crate) fn case_from_row(r: &impl Get) -> Result<CaseRecord, StoreError> {
    let status: String = r.col("status")?;
    let disposition: Option<String> = r.col("disposition")?;
    Ok(CaseRecord {
        id: r.col("id")?,
        user_id: r.col("user_id")?,
        status: CaseStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("case status `{status}`")))?,
        hold: r.col::<i64>("hold")? != 0,
        assignee: r.col("assignee")?,
        disposition: disposition
            .map(|d| Disposition::parse(&d).ok_or_else(|| StoreError::Corrupt(format!("disposition `{d}`"))))
            .transpose()?,
        reason: r.col("reason")?,
        alerts: r.col("alerts")?,
        sar_report_id: r.col("sar_report_id")?,
        opened_at_us: r.col("opened_at")?,
        updated_at_us: r.col("updated_at")?,
        closed_at_us: r.col("closed_at")?,
    })
}

fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn alert_from_row(r: &impl Get) -> Result<AlertRecord, StoreError> {
    let typology: String = r.col("typology")?;
    let action: String = r.col("action")?;
    let figures: String = r.col("figures")?;
    Ok(AlertRecord {
        id: r.col("id")?,
        case_id: r.col("case_id")?,
        user_id: r.col("user_id")?,
        typology: Typology::parse(&typology).ok_or_else(|| StoreError::Corrupt(format!("typology `{typology}`")))?,
        action: if action == "hold" { AlertAction::Hold } else { AlertAction::Alert },
        payment_id: r.col("payment_id")?,
        summary: r.col("summary")?,
        evidence: json_list(&r.col::<String>("evidence")?),
        figures: serde_json::from_str(&figures).unwrap_or_default(),
        occurred_at_us: r.col("occurred_at")?,
        created_at_us: r.col("created_at")?,
    })
}

fn note_from_row(r: &impl Get) -> Result<NoteRecord, StoreError> {
    Ok(NoteRecord {
        id: r.col("id")?,
        case_id: r.col("case_id")?,
        kind: r.col("kind")?,
        text: r.col("text")?,
        evidence: json_list(&r.col::<String>("evidence")?),
        created_by: r.col("created_by")?,
        created_at_us: r.col("created_at")?,
    })
}

fn report_from_row(r: &impl Get) -> Result<ReportRecord, StoreError> {
    let kind: String = r.col("kind")?;
    let data: String = r.col("data")?;
    Ok(ReportRecord {
        id: r.col("id")?,
        kind: ReportKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("report kind `{kind}`")))?,
        user_id: r.col("user_id")?,
        case_id: r.col("case_id")?,
        day: r.col("day")?,
        currency: r.col("currency")?,
        amount: r.col("amount")?,
        data: serde_json::from_str(&data).unwrap_or_default(),
        created_by: r.col("created_by")?,
        created_at_us: r.col("created_at")?,
    })
}

/// Filters of the case queue.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// One status.
    pub status: Option<CaseStatus>,
    /// Assigned to.
    pub assignee: Option<String>,
    /// About this user.
    pub user_id: Option<String>,
}

/// A payment row as the monitor reads it (with its destination's owner).
const FLOW_SELECT: &str = "SELECT p.id, p.created_at, p.amount, p.currency, p.type, p.method, p.user_id, \
     p.source_account_id, p.destination_account_id, p.context, s.user_id AS from_user, a.user_id AS to_user \
     FROM payments p LEFT JOIN accounts s ON s.id = p.source_account_id LEFT JOIN accounts a ON a.id = p.destination_account_id";

fn flow_from_row(r: &sqlx::any::AnyRow) -> Result<Flow, StoreError> {
    let currency: String = r.try_get("currency")?;
    let kind: String = r.try_get("type")?;
    let method: String = r.try_get("method")?;
    let context = crate::records::context_from_json(&r.try_get::<String, _>("context")?);
    let mut countries: Vec<String> = Vec::new();
    let counterparty = context.counterparty.as_ref();
    for c in [context.location.as_ref().and_then(|l| l.country.clone()), counterparty.and_then(|c| c.country.clone())]
        .into_iter()
        .flatten()
    {
        let c = c.to_ascii_uppercase();
        if !countries.contains(&c) {
            countries.push(c);
        }
    }
    Ok(Flow {
        payment_id: r.try_get("id")?,
        at_us: r.try_get("created_at")?,
        amount: r.try_get("amount")?,
        currency: rialto_core::Currency::parse(&currency)
            .map_err(|_| StoreError::Corrupt(format!("payment currency `{currency}`")))?,
        kind: rialto_payments::PaymentKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("payment type `{kind}`")))?,
        method: rialto_payments::PaymentMethod::parse(&method)
            .ok_or_else(|| StoreError::Corrupt(format!("payment method `{method}`")))?,
        user_id: r.try_get("user_id")?,
        from_account: r.try_get("source_account_id")?,
        from_user: r.try_get("from_user")?,
        to_account: r.try_get("destination_account_id")?,
        to_user: r.try_get("to_user")?,
        counterparty: counterparty.map(|c| c.name.to_lowercase()),
        countries,
    })
}

/// How far before the newest monitored payment the monitor looks again for payments committed
/// late (a batch that took its time before another's), µs.
const MONITOR_MARGIN_US: i64 = 60_000_000;

/// Most payments one account read returns (the newest): a busy account cannot make one
/// evaluation unbounded.
pub const FLOWS_PER_READ_MAX: i64 = 5_000;

/// How far back a first monitor run looks, µs.
const MONITOR_FIRST_LOOKBACK_US: i64 = 7 * 86_400_000_000;

/// Payments whose money moved (or is held) that count for monitoring.
const ACCEPTED: &str = "p.transfer_id IS NOT NULL AND p.status NOT IN ('failed', 'cancelled')";

impl Db {
    /// The case queue, oldest first (ids are time-ordered).
    pub async fn cases(
        &self,
        filter: &CaseFilter,
        cursor: &crate::Cursor,
        limit: usize,
    ) -> Result<crate::Page<CaseRecord>, StoreError> {
        let mut conditions: Vec<(&str, Val)> = Vec::new();
        if let Some(st) = filter.status {
            conditions.push(("status = $?", Val::T(st.as_str().into())));
        }
        if let Some(a) = &filter.assignee {
            conditions.push(("assignee = $?", Val::T(a.clone())));
        }
        if let Some(u) = &filter.user_id {
            conditions.push(("user_id = $?", Val::T(u.clone())));
        }
        let select = format!("SELECT {CASE_COLUMNS} FROM compliance_cases");
        let (rows, has_more) = crate::read::page_ordered(self, &select, "id", &conditions, cursor, limit, true).await?;
        let data = rows.iter().map(case_from_row).collect::<Result<_, _>>()?;
        Ok(crate::Page { data, has_more })
    }

    /// A case.
    pub async fn case(&self, id: &str) -> Result<Option<CaseRecord>, StoreError> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM compliance_cases WHERE id = $1");
        let row = sqlx::query(&sql).bind(id.to_string()).fetch_optional(self.pool()).await?;
        row.as_ref().map(case_from_row).transpose()
    }

    /// A case's alerts, oldest first.
    pub async fn case_alerts(&self, case_id: &str) -> Result<Vec<AlertRecord>, StoreError> {
        let sql = "SELECT * FROM compliance_alerts WHERE case_id = $1 ORDER BY created_at, id";
        let rows = sqlx::query(sql).bind(case_id.to_string()).fetch_all(self.pool()).await?;
        rows.iter().map(alert_from_row).collect()
    }

    /// A case's history, oldest first.
    pub async fn case_notes(&self, case_id: &str) -> Result<Vec<NoteRecord>, StoreError> {
        let sql = "SELECT * FROM compliance_case_notes WHERE case_id = $1 ORDER BY created_at, id";
        let rows = sqlx::query(sql).bind(case_id.to_string()).fetch_all(self.pool()).await?;
        rows.iter().map(note_from_row).collect()
    }

    /// Reports of a kind (and day), oldest first (ids are time-ordered).
    pub async fn reports(
        &self,
        kind: Option<ReportKind>,
        day: Option<&str>,
        cursor: &crate::Cursor,
        limit: usize,
    ) -> Result<crate::Page<ReportRecord>, StoreError> {
        let mut conditions: Vec<(&str, Val)> = Vec::new();
        if let Some(k) = kind {
            conditions.push(("kind = $?", Val::T(k.as_str().into())));
        }
        if let Some(d) = day {
            conditions.push(("day = $?", Val::T(d.to_string())));
        }
        let (rows, has_more) =
            crate::read::page_ordered(self, "SELECT * FROM compliance_reports", "id", &conditions, cursor, limit, true)
                .await?;
        let data = rows.iter().map(report_from_row).collect::<Result<_, _>>()?;
        Ok(crate::Page { data, has_more })
    }

    /// A report.
    pub async fn report(&self, id: &str) -> Result<Option<ReportRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM compliance_reports WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(report_from_row).transpose()
    }

    /// Accepted payments the monitor has not evaluated yet, oldest first.
    pub async fn unmonitored_payments(&self, now_us: i64, limit: i64) -> Result<Vec<Flow>, StoreError> {
        let newest: Option<i64> = sqlx::query("SELECT MAX(payment_created_at) AS t FROM aml_monitored")
            .fetch_one(self.pool())
            .await?
            .try_get("t")?;
        let since = newest.map_or(now_us - MONITOR_FIRST_LOOKBACK_US, |t| t - MONITOR_MARGIN_US);
        let sql = format!(
            "{FLOW_SELECT} WHERE p.created_at > $1 AND {ACCEPTED} AND NOT EXISTS \
             (SELECT 1 FROM aml_monitored m WHERE m.payment_id = p.id) ORDER BY p.created_at, p.id LIMIT {limit}"
        );
        let rows = sqlx::query(&sql).bind(since).fetch_all(self.pool()).await?;
        rows.iter().map(flow_from_row).collect()
    }

    /// Accepted payments from or to any of `accounts` in `(since, until]`.
    pub async fn flows_touching(
        &self,
        accounts: &BTreeSet<String>,
        since: i64,
        until: i64,
    ) -> Result<Vec<Flow>, StoreError> {
        let mut out: HashMap<String, Flow> = HashMap::new();
        for column in ["p.source_account_id", "p.destination_account_id"] {
            for f in self.flows_where(column, accounts, since, until).await? {
                out.insert(f.payment_id.clone(), f);
            }
        }
        let mut flows: Vec<Flow> = out.into_values().collect();
        flows.sort_by(|a, b| (a.at_us, &a.payment_id).cmp(&(b.at_us, &b.payment_id)));
        Ok(flows)
    }

    /// Accepted payments whose `column` is one of `accounts`, in `(since, until]`.
    pub async fn flows_where(
        &self,
        column: &str,
        accounts: &BTreeSet<String>,
        since: i64,
        until: i64,
    ) -> Result<Vec<Flow>, StoreError> {
        let ids: Vec<&str> = accounts.iter().map(String::as_str).collect();
        let select = format!("{FLOW_SELECT} WHERE p.created_at > $1 AND p.created_at <= $2 AND {ACCEPTED}");
        let suffix = format!(" ORDER BY p.created_at DESC LIMIT {FLOWS_PER_READ_MAX}");
        let rows =
            crate::read::fetch_in(self, &select, &[Val::I(since), Val::I(until)], (column, &ids), &suffix).await?;
        rows.iter().map(flow_from_row).collect()
    }

    /// When a user last paid before `before` (any age), and when the user joined.
    pub async fn payer_history(&self, user_id: &str, before: i64) -> Result<(Option<i64>, i64), StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT MAX(created_at) FROM payments p WHERE p.user_id = $1 AND p.created_at < $2 AND \
             p.transfer_id IS NOT NULL) AS previous, (SELECT created_at FROM users WHERE id = $3) AS since",
        )
        .bind(user_id.to_string())
        .bind(before)
        .bind(user_id.to_string())
        .fetch_one(self.pool())
        .await?;
        let previous: Option<i64> = row.try_get("previous")?;
        let since: Option<i64> = row.try_get("since")?;
        Ok((previous, since.unwrap_or(before)))
    }

    /// The latest alert per (user, typology) for these users since `since`.
    pub async fn latest_alerts(
        &self,
        users: &BTreeSet<String>,
        since: i64,
    ) -> Result<HashMap<(String, Typology), i64>, StoreError> {
        let mut out = HashMap::new();
        let ids: Vec<&str> = users.iter().map(String::as_str).collect();
        let select = "SELECT user_id, typology, MAX(occurred_at) AS t FROM compliance_alerts WHERE occurred_at > $1";
        let suffix = " GROUP BY user_id, typology";
        for r in crate::read::fetch_in(self, select, &[Val::I(since)], ("user_id", &ids), suffix).await? {
            let t: String = r.try_get("typology")?;
            if let Some(t) = Typology::parse(&t) {
                out.insert((r.try_get("user_id")?, t), r.try_get("t")?);
            }
        }
        Ok(out)
    }

    /// Cash deposits and withdrawals in `currency` in `[from, to)` (accepted, not refunded
    /// away), oldest first: what a business day's CTRs aggregate.
    pub async fn cash_between(&self, currency: &str, from: i64, to: i64) -> Result<Vec<CashTransaction>, StoreError> {
        let sql = format!(
            "SELECT p.id, p.user_id, p.type, p.amount - p.refunded_amount AS amount, p.source_account_id, \
             p.destination_account_id FROM payments p WHERE p.method = 'cash' AND p.type IN ('deposit', 'withdrawal') \
             AND p.currency = $1 AND p.created_at >= $2 AND p.created_at < $3 AND {ACCEPTED} ORDER BY p.created_at, p.id"
        );
        let rows = sqlx::query(&sql).bind(currency.to_string()).bind(from).bind(to).fetch_all(self.pool()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let inbound = r.try_get::<String, _>("type")? == "deposit";
            let account: String =
                if inbound { r.try_get("destination_account_id")? } else { r.try_get("source_account_id")? };
            let amount: i64 = r.try_get("amount")?;
            if amount > 0 {
                out.push(CashTransaction {
                    payment_id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    inbound,
                    amount,
                    account_id: account,
                });
            }
        }
        Ok(out)
    }
}
