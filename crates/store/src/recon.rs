//! Reconciliation records and reads: the accounts that mirror a bank account, imported
//! statements and their lines, matches, runs. The writer changes them (`writer/recon.rs`).

use rialto_core::Currency;
use rialto_recon::matching::Rule;
use rialto_recon::{Balance, Date, Line, LineStatus};

use crate::db::{Db, StoreError};
use crate::sql::{Get, Val};

/// Which side of a mirror account's ledger balance is the bank's money.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormalBalance {
    /// An asset: money into the bank account is a debit of the mirror account (the default).
    Debit,
    /// Money into the bank account is a credit of the mirror account.
    Credit,
}

impl NormalBalance {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            NormalBalance::Debit => "debit",
            NormalBalance::Credit => "credit",
        }
    }

    /// The inverse of [`NormalBalance::as_str`].
    pub fn parse(s: &str) -> Option<NormalBalance> {
        match s {
            "debit" => Some(NormalBalance::Debit),
            "credit" => Some(NormalBalance::Credit),
            _ => None,
        }
    }

    /// An entry's amount from the bank's view.
    pub fn bank_side(self, direction: &str, amount: i64) -> i64 {
        let debit = direction == "debit";
        if debit == (self == NormalBalance::Debit) {
            amount
        } else {
            -amount
        }
    }

    /// A ledger balance (credits minus debits) from the bank's view.
    pub fn bank_balance(self, ledger_balance: i64) -> i64 {
        match self {
            NormalBalance::Debit => -ledger_balance,
            NormalBalance::Credit => ledger_balance,
        }
    }
}

/// A ledger account that mirrors a bank account, with how it is reconciled.
#[derive(Clone, Debug, PartialEq)]
pub struct ReconAccount {
    /// The mirror account (`acct_…`).
    pub account_id: String,
    /// The bank account: IBAN or the bank's number (statements must name it).
    pub bank_account: String,
    /// The account's currency.
    pub currency: Currency,
    /// How the mirror's balance reads.
    pub normal_balance: NormalBalance,
    /// Where write-offs and bank fees are booked.
    pub fees_account_id: Option<String>,
    /// Largest difference written off automatically (minor units; 0: none).
    pub write_off_max: i64,
    /// Matching rules in priority order.
    pub rules: Vec<Rule>,
    /// The rules as given (JSON).
    pub rules_json: String,
    /// The saved CSV column mapping (JSON).
    pub csv_mapping: Option<String>,
    /// µs.
    pub created_at_us: i64,
    /// µs.
    pub updated_at_us: i64,
}

/// An imported statement (without its lines).
#[derive(Clone, Debug, PartialEq)]
pub struct StatementRecord {
    /// `rst_…`.
    pub id: String,
    /// The mirror account.
    pub account_id: String,
    /// What names it at its bank (a re-import has the same).
    pub identity: String,
    /// Its content's digest.
    pub digest: String,
    /// `camt.053`, `mt940`, `csv`, …
    pub format: String,
    /// Schema version.
    pub version: Option<String>,
    /// IBAN or number as the statement names it.
    pub bank_account: String,
    /// The bank's statement id.
    pub statement_ref: Option<String>,
    /// Its number in the series.
    pub sequence: Option<i64>,
    /// Page.
    pub page: Option<i64>,
    /// First day.
    pub from_date: Date,
    /// Last day.
    pub to_date: Date,
    /// Currency.
    pub currency: Currency,
    /// Opening booked balance.
    pub opening: Option<Balance>,
    /// Closing booked balance.
    pub closing: Option<Balance>,
    /// Lines.
    pub line_count: i64,
    /// Sum of booked lines.
    pub booked_total: i64,
    /// Opening + booked lines = closing (`None`: no balances).
    pub adds_up: Option<bool>,
    /// What does not fit.
    pub problems: Vec<String>,
    /// `in_order`, `gap`, `overlap`.
    pub sequence_status: String,
    /// The gap or overlap in words.
    pub sequence_note: Option<String>,
    /// The file name it came from.
    pub source: String,
    /// The key (or `cli`) that imported it.
    pub created_by: String,
    /// µs.
    pub created_at_us: i64,
    /// Not stored: this import found it imported already (nothing changed).
    pub already_imported: bool,
}

/// A stored statement line.
#[derive(Clone, Debug, PartialEq)]
pub struct LineRecord {
    /// `rsl_…`.
    pub id: String,
    /// Its statement.
    pub statement_id: String,
    /// Position in the statement.
    pub idx: i64,
    /// The line.
    pub line: Line,
    /// The live match holding it.
    pub match_id: Option<String>,
}

/// A match of lines and entries.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchRecord {
    /// `rcm_…`.
    pub id: String,
    /// The mirror account.
    pub account_id: String,
    /// The run that made it (none: made by a person).
    pub run_id: Option<String>,
    /// `reference`, `amount_date`, `group`, `bank_fee`, `duplicate`, `manual`.
    pub rule: String,
    /// `matched`, `amount_mismatch`, `duplicate`, `bank_fee`.
    pub outcome: String,
    /// `matched`, `exception`, `resolved`, `undone`.
    pub status: String,
    /// 0..=100.
    pub confidence: i64,
    /// Lines minus entries (bank view).
    pub difference: i64,
    /// Why.
    pub reason: String,
    /// Its lines.
    pub line_ids: Vec<String>,
    /// Its entries.
    pub entry_seqs: Vec<i64>,
    /// The first line's date.
    pub line_date: Date,
    /// `write_off`, `fee_booked`, `manual`.
    pub resolution: Option<String>,
    /// What a resolution booked (bank view).
    pub adjustment: i64,
    /// The journal entry that booked it.
    pub journal_entry_id: Option<String>,
    /// A person's note.
    pub note: Option<String>,
    /// The run's or person's key.
    pub created_by: String,
    /// µs.
    pub created_at_us: i64,
    /// µs.
    pub updated_at_us: i64,
}

/// A reconciliation run's result.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// `rcr_…`.
    pub id: String,
    /// The mirror account.
    pub account_id: String,
    /// `schedule` or `api`.
    pub triggered_by: String,
    /// The statements' first day.
    pub from_date: Option<Date>,
    /// The statements' last day.
    pub to_date: Option<Date>,
    /// Counts and amounts per state (JSON object).
    pub counts: serde_json::Value,
    /// The last statement's closing balance.
    pub statement_balance: Option<i64>,
    /// The mirror account's balance at that day's end (bank view).
    pub ledger_balance: Option<i64>,
    /// What reconciliation booked after that day for lines up to it.
    pub adjustments: i64,
    /// statement − (ledger + adjustments).
    pub drift: Option<i64>,
    /// Who ran it.
    pub created_by: String,
    /// µs.
    pub created_at_us: i64,
}

pub(crate) fn currency(code: &str) -> Result<Currency, StoreError> {
    crate::records::currency(code)
}

fn date(days: i64) -> Date {
    Date::from_days(i32::try_from(days).unwrap_or(0))
}

fn opt_date(days: Option<i64>) -> Option<Date> {
    days.map(date)
}

fn balance(amount: Option<i64>, day: Option<i64>, currency: Currency) -> Option<Balance> {
    Some(Balance { amount: amount?, currency, date: date(day?) })
}

pub(crate) fn account_from_row(r: &impl Get) -> Result<ReconAccount, StoreError> {
    let rules_json: String = r.col("rules")?;
    let value: serde_json::Value =
        serde_json::from_str(&rules_json).map_err(|e| StoreError::Corrupt(format!("recon rules: {e}")))?;
    let normal: String = r.col("normal_balance")?;
    Ok(ReconAccount {
        account_id: r.col("account_id")?,
        bank_account: r.col("bank_account")?,
        currency: currency(&r.col::<String>("currency")?)?,
        normal_balance: NormalBalance::parse(&normal)
            .ok_or_else(|| StoreError::Corrupt(format!("normal balance `{normal}`")))?,
        fees_account_id: r.col("fees_account_id")?,
        write_off_max: r.col("write_off_max")?,
        rules: rialto_recon::matching::parse_rules(&value).map_err(StoreError::Corrupt)?,
        rules_json,
        csv_mapping: r.col("csv_mapping")?,
        created_at_us: r.col("created_at")?,
        updated_at_us: r.col("updated_at")?,
    })
}

pub(crate) fn statement_from_row(r: &impl Get) -> Result<StatementRecord, StoreError> {
    let ccy = currency(&r.col::<String>("currency")?)?;
    let problems: String = r.col("problems")?;
    let adds: Option<i64> = r.col("adds_up")?;
    Ok(StatementRecord {
        id: r.col("id")?,
        account_id: r.col("account_id")?,
        identity: r.col("identity")?,
        digest: r.col("digest")?,
        format: r.col("format")?,
        version: r.col("version")?,
        bank_account: r.col("bank_account")?,
        statement_ref: r.col("statement_ref")?,
        sequence: r.col("sequence")?,
        page: r.col("page")?,
        from_date: date(r.col("from_date")?),
        to_date: date(r.col("to_date")?),
        currency: ccy,
        opening: balance(r.col("opening_amount")?, r.col("opening_date")?, ccy),
        closing: balance(r.col("closing_amount")?, r.col("closing_date")?, ccy),
        line_count: r.col("line_count")?,
        booked_total: r.col("booked_total")?,
        adds_up: adds.map(|a| a != 0),
        problems: serde_json::from_str(&problems).unwrap_or_default(),
        sequence_status: r.col("sequence_status")?,
        sequence_note: r.col("sequence_note")?,
        source: r.col("source")?,
        created_by: r.col("created_by")?,
        created_at_us: r.col("created_at")?,
        already_imported: false,
    })
}

/// Line columns, in [`line_values`] order.
pub(crate) const LINE_COLUMNS: &str = "id, statement_id, account_id, idx, amount, currency, booking_date, value_date, \
     status, reversal, end_to_end_id, servicer_ref, customer_ref, remittance, counterparty, counterparty_account, \
     bank_code, batch_count, match_id";

pub(crate) fn line_values(l: &LineRecord, account_id: &str) -> Vec<Val> {
    let x = &l.line;
    vec![
        Val::T(l.id.clone()),
        Val::T(l.statement_id.clone()),
        Val::T(account_id.to_string()),
        Val::I(l.idx),
        Val::I(x.amount),
        Val::T(x.currency.code().into()),
        Val::I(i64::from(x.date().map_or(0, Date::days))),
        Val::OI(x.value_date.map(|d| i64::from(d.days()))),
        Val::T(x.status.as_str().into()),
        Val::I(i64::from(x.reversal)),
        Val::OT(x.end_to_end_id.clone()),
        Val::OT(x.servicer_ref.clone()),
        Val::OT(x.customer_ref.clone()),
        Val::OT(x.remittance.clone()),
        Val::OT(x.counterparty.clone()),
        Val::OT(x.counterparty_account.clone()),
        Val::OT(x.bank_code.clone()),
        Val::OI(x.batch_count.map(i64::from)),
        Val::OT(l.match_id.clone()),
    ]
}

pub(crate) fn line_from_row(r: &impl Get) -> Result<LineRecord, StoreError> {
    let st: String = r.col("status")?;
    let mut line = Line::new(r.col("amount")?, currency(&r.col::<String>("currency")?)?);
    line.booking_date = Some(date(r.col("booking_date")?));
    line.value_date = opt_date(r.col("value_date")?);
    line.status = LineStatus::parse(&st).ok_or_else(|| StoreError::Corrupt(format!("line status `{st}`")))?;
    line.reversal = r.col::<i64>("reversal")? != 0;
    line.end_to_end_id = r.col("end_to_end_id")?;
    line.servicer_ref = r.col("servicer_ref")?;
    line.customer_ref = r.col("customer_ref")?;
    line.remittance = r.col("remittance")?;
    line.counterparty = r.col("counterparty")?;
    line.counterparty_account = r.col("counterparty_account")?;
    line.bank_code = r.col("bank_code")?;
    line.batch_count = r.col::<Option<i64>>("batch_count")?.and_then(|b| u32::try_from(b).ok());
    Ok(LineRecord {
        id: r.col("id")?,
        statement_id: r.col("statement_id")?,
        idx: r.col("idx")?,
        line,
        match_id: r.col("match_id")?,
    })
}

pub(crate) fn match_from_row(r: &impl Get) -> Result<MatchRecord, StoreError> {
    let lines: String = r.col("line_ids")?;
    let entries: String = r.col("entry_seqs")?;
    Ok(MatchRecord {
        id: r.col("id")?,
        account_id: r.col("account_id")?,
        run_id: r.col("run_id")?,
        rule: r.col("rule")?,
        outcome: r.col("outcome")?,
        status: r.col("status")?,
        confidence: r.col("confidence")?,
        difference: r.col("difference")?,
        reason: r.col("reason")?,
        line_ids: serde_json::from_str(&lines).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        entry_seqs: serde_json::from_str(&entries).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        line_date: date(r.col("line_date")?),
        resolution: r.col("resolution")?,
        adjustment: r.col("adjustment")?,
        journal_entry_id: r.col("journal_entry_id")?,
        note: r.col("note")?,
        created_by: r.col("created_by")?,
        created_at_us: r.col("created_at")?,
        updated_at_us: r.col("updated_at")?,
    })
}

pub(crate) fn match_values(m: &MatchRecord) -> Vec<Val> {
    vec![
        Val::T(m.id.clone()),
        Val::T(m.account_id.clone()),
        Val::OT(m.run_id.clone()),
        Val::T(m.rule.clone()),
        Val::T(m.outcome.clone()),
        Val::T(m.status.clone()),
        Val::I(m.confidence),
        Val::I(m.difference),
        Val::T(m.reason.clone()),
        Val::T(serde_json::to_string(&m.line_ids).unwrap_or_default()),
        Val::T(serde_json::to_string(&m.entry_seqs).unwrap_or_default()),
        Val::I(i64::from(m.line_date.days())),
        Val::OT(m.resolution.clone()),
        Val::I(m.adjustment),
        Val::OT(m.journal_entry_id.clone()),
        Val::OT(m.note.clone()),
        Val::T(m.created_by.clone()),
        Val::I(m.created_at_us),
        Val::I(m.updated_at_us),
    ]
}

/// Match columns, in [`match_values`] order.
pub(crate) const MATCH_COLUMNS: &str = "id, account_id, run_id, rule, outcome, status, confidence, difference, reason, \
     line_ids, entry_seqs, line_date, resolution, adjustment, journal_entry_id, note, created_by, created_at, updated_at";

pub(crate) fn run_from_row(r: &impl Get) -> Result<RunRecord, StoreError> {
    let counts: String = r.col("counts")?;
    Ok(RunRecord {
        id: r.col("id")?,
        account_id: r.col("account_id")?,
        triggered_by: r.col("triggered_by")?,
        from_date: opt_date(r.col("from_date")?),
        to_date: opt_date(r.col("to_date")?),
        counts: serde_json::from_str(&counts).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        statement_balance: r.col("statement_balance")?,
        ledger_balance: r.col("ledger_balance")?,
        adjustments: r.col("adjustments")?,
        drift: r.col("drift")?,
        created_by: r.col("created_by")?,
        created_at_us: r.col("created_at")?,
    })
}

/// Which matches to list.
#[derive(Clone, Debug, Default)]
pub struct MatchFilter {
    /// `matched`, `exception`, `resolved`, `undone`.
    pub status: Option<String>,
    /// Made by this run.
    pub run_id: Option<String>,
}

impl Db {
    /// A reconciled account's settings.
    pub async fn recon_account(&self, account_id: &str) -> Result<Option<ReconAccount>, StoreError> {
        let row = sqlx::query("SELECT * FROM recon_accounts WHERE account_id = $1")
            .bind(account_id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(account_from_row).transpose()
    }

    /// Every reconciled account, by id.
    pub async fn recon_accounts(&self) -> Result<Vec<ReconAccount>, StoreError> {
        let rows = sqlx::query("SELECT * FROM recon_accounts ORDER BY account_id").fetch_all(self.pool()).await?;
        rows.iter().map(account_from_row).collect()
    }

    /// A statement.
    pub async fn recon_statement(&self, id: &str) -> Result<Option<StatementRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM recon_statements WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(statement_from_row).transpose()
    }

    /// An account's statements, oldest first.
    pub async fn recon_statements(
        &self,
        account_id: &str,
        cursor: &crate::Cursor,
        limit: usize,
    ) -> Result<crate::Page<StatementRecord>, StoreError> {
        let conditions = vec![("account_id = $?", Val::T(account_id.into()))];
        let (rows, has_more) =
            crate::read::page_ordered(self, "SELECT * FROM recon_statements", "id", &conditions, cursor, limit, true)
                .await?;
        Ok(crate::Page { data: rows.iter().map(statement_from_row).collect::<Result<_, _>>()?, has_more })
    }

    /// A statement's lines in order, from position `from`.
    pub async fn recon_lines(
        &self,
        statement_id: &str,
        from: i64,
        limit: usize,
    ) -> Result<Vec<LineRecord>, StoreError> {
        let sql = format!(
            "SELECT {LINE_COLUMNS} FROM recon_lines WHERE statement_id = $1 AND idx >= $2 ORDER BY idx LIMIT {limit}"
        );
        let rows = sqlx::query(&sql).bind(statement_id.to_string()).bind(from).fetch_all(self.pool()).await?;
        rows.iter().map(line_from_row).collect()
    }

    /// A match.
    pub async fn recon_match(&self, id: &str) -> Result<Option<MatchRecord>, StoreError> {
        let sql = format!("SELECT {MATCH_COLUMNS} FROM recon_matches WHERE id = $1");
        let row = sqlx::query(&sql).bind(id.to_string()).fetch_optional(self.pool()).await?;
        row.as_ref().map(match_from_row).transpose()
    }

    /// An account's matches, oldest first.
    pub async fn recon_matches(
        &self,
        account_id: &str,
        filter: &MatchFilter,
        cursor: &crate::Cursor,
        limit: usize,
    ) -> Result<crate::Page<MatchRecord>, StoreError> {
        let mut conditions = vec![("account_id = $?", Val::T(account_id.into()))];
        if let Some(s) = &filter.status {
            conditions.push(("status = $?", Val::T(s.clone())));
        }
        if let Some(r) = &filter.run_id {
            conditions.push(("run_id = $?", Val::T(r.clone())));
        }
        let select = format!("SELECT {MATCH_COLUMNS} FROM recon_matches");
        let (rows, has_more) = crate::read::page_ordered(self, &select, "id", &conditions, cursor, limit, true).await?;
        Ok(crate::Page { data: rows.iter().map(match_from_row).collect::<Result<_, _>>()?, has_more })
    }

    /// An account's unmatched lines (booked), oldest first, after line id `after`.
    pub async fn recon_unmatched_lines(
        &self,
        account_id: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<LineRecord>, StoreError> {
        let sql = format!(
            "SELECT {LINE_COLUMNS} FROM recon_lines WHERE account_id = $1 AND match_id IS NULL AND status = 'booked' \
             AND id > $2 ORDER BY id LIMIT {limit}"
        );
        let rows =
            sqlx::query(&sql).bind(account_id.to_string()).bind(after.to_string()).fetch_all(self.pool()).await?;
        rows.iter().map(line_from_row).collect()
    }

    /// A run.
    pub async fn recon_run(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM recon_runs WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// An account's runs, oldest first.
    pub async fn recon_runs(
        &self,
        account_id: &str,
        cursor: &crate::Cursor,
        limit: usize,
    ) -> Result<crate::Page<RunRecord>, StoreError> {
        let conditions = vec![("account_id = $?", Val::T(account_id.into()))];
        let (rows, has_more) =
            crate::read::page_ordered(self, "SELECT * FROM recon_runs", "id", &conditions, cursor, limit, true).await?;
        Ok(crate::Page { data: rows.iter().map(run_from_row).collect::<Result<_, _>>()?, has_more })
    }
}
