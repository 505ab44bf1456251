//! CSV statements with a saved column mapping: which column holds the date, the amount (one
//! signed column, or a debit and a credit column), the references and texts, optionally the
//! running balance (from which the opening and closing balances follow). Read with the `csv`
//! crate (quoting, embedded separators and line breaks as RFC 4180 says).

use rialto_core::Currency;
use serde::Deserialize;

use crate::date::Date;
use crate::error::ParseError;
use crate::statement::{self, Balance, Format, Line, Statement, LINES_MAX};

const FORMAT: &str = "csv";

/// A column: its header text, or its 1-based position.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Column {
    /// 1-based position.
    Position(usize),
    /// Header text (exact, after trimming).
    Name(String),
}

/// How dates are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum DateFormat {
    /// `2026-12-03`
    #[serde(rename = "YYYY-MM-DD")]
    Iso,
    /// `03.12.2026`
    #[serde(rename = "DD.MM.YYYY")]
    DayDotMonth,
    /// `03/12/2026`
    #[serde(rename = "DD/MM/YYYY")]
    DaySlashMonth,
    /// `12/03/2026`
    #[serde(rename = "MM/DD/YYYY")]
    MonthSlashDay,
    /// `20261203`
    #[serde(rename = "YYYYMMDD")]
    Compact,
}

impl DateFormat {
    fn parse(self, s: &str) -> Option<Date> {
        let s = s.trim();
        let n = |a: usize, b: usize| {
            s.get(a..b).filter(|t| t.bytes().all(|c| c.is_ascii_digit())).and_then(|t| t.parse::<u32>().ok())
        };
        let sep = |i: usize, c: u8| s.as_bytes().get(i) == Some(&c);
        match self {
            DateFormat::Iso => Date::parse_iso(s).filter(|_| s.len() == 10),
            DateFormat::DayDotMonth if s.len() == 10 && sep(2, b'.') && sep(5, b'.') => {
                Date::from_ymd(n(6, 10)? as i32, n(3, 5)?, n(0, 2)?)
            }
            DateFormat::DaySlashMonth if s.len() == 10 && sep(2, b'/') && sep(5, b'/') => {
                Date::from_ymd(n(6, 10)? as i32, n(3, 5)?, n(0, 2)?)
            }
            DateFormat::MonthSlashDay if s.len() == 10 && sep(2, b'/') && sep(5, b'/') => {
                Date::from_ymd(n(6, 10)? as i32, n(0, 2)?, n(3, 5)?)
            }
            DateFormat::Compact if s.len() == 8 => Date::from_ymd(n(0, 4)? as i32, n(4, 6)?, n(6, 8)?),
            _ => None,
        }
    }
}

fn default_delimiter() -> char {
    ','
}
fn default_decimal() -> char {
    '.'
}
fn yes() -> bool {
    true
}

/// A saved CSV column mapping.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Field separator (`,` by default; `;` and tab are common).
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// The first row names the columns (default true).
    #[serde(default = "yes")]
    pub header: bool,
    /// The booking date.
    pub date: Column,
    /// How dates are written.
    pub date_format: DateFormat,
    /// The value date.
    #[serde(default)]
    pub value_date: Option<Column>,
    /// A signed amount (credit positive).
    #[serde(default)]
    pub amount: Option<Column>,
    /// Debit amounts (money out), when debits and credits have their own columns.
    #[serde(default)]
    pub debit: Option<Column>,
    /// Credit amounts (money in).
    #[serde(default)]
    pub credit: Option<Column>,
    /// Decimal separator (`.` by default, or `,`).
    #[serde(default = "default_decimal")]
    pub decimal: char,
    /// The currency of every row (ISO 4217), when no column holds it.
    #[serde(default)]
    pub currency: Option<String>,
    /// The column holding each row's currency.
    #[serde(default)]
    pub currency_column: Option<Column>,
    /// The bank's reference.
    #[serde(default)]
    pub reference: Option<Column>,
    /// The end-to-end id.
    #[serde(default)]
    pub end_to_end_id: Option<Column>,
    /// The description / remittance information.
    #[serde(default)]
    pub description: Option<Column>,
    /// The counterparty's name.
    #[serde(default)]
    pub counterparty: Option<Column>,
    /// The balance after the row (rows in date order): gives the opening and closing balances.
    #[serde(default)]
    pub balance: Option<Column>,
}

impl Mapping {
    /// Parses a mapping from JSON, refusing unknown keys and impossible combinations.
    pub fn parse(json: &str) -> Result<Mapping, String> {
        let m: Mapping = serde_json::from_str(json).map_err(|e| format!("csv mapping: {e}"))?;
        m.check()?;
        Ok(m)
    }

    /// A mapping that can be read: one way to the amount, one way to the currency.
    pub fn check(&self) -> Result<(), String> {
        match (&self.amount, &self.debit, &self.credit) {
            (Some(_), None, None) | (None, Some(_), Some(_)) => {}
            _ => return Err("csv mapping: give `amount`, or both `debit` and `credit`".into()),
        }
        match (&self.currency, &self.currency_column) {
            (Some(c), None) => {
                Currency::parse(c).map_err(|e| format!("csv mapping: currency: {e}"))?;
            }
            (None, Some(_)) => {}
            _ => return Err("csv mapping: give `currency` or `currency_column` (one of them)".into()),
        }
        if !matches!(self.decimal, '.' | ',') {
            return Err("csv mapping: `decimal` must be `.` or `,`".into());
        }
        if !self.delimiter.is_ascii() || self.delimiter == '"' || self.delimiter.is_ascii_alphanumeric() {
            return Err("csv mapping: `delimiter` must be one ASCII punctuation or whitespace character".into());
        }
        if self.delimiter == self.decimal {
            return Err("csv mapping: `delimiter` and `decimal` must differ".into());
        }
        let columns = [
            Some(&self.date),
            self.value_date.as_ref(),
            self.amount.as_ref(),
            self.debit.as_ref(),
            self.credit.as_ref(),
        ];
        if columns.iter().flatten().any(|c| matches!(c, Column::Position(0))) {
            return Err("csv mapping: column positions start at 1".into());
        }
        if !self.header && columns.iter().flatten().any(|c| matches!(c, Column::Name(_))) {
            return Err("csv mapping: without a header row, columns are given by position".into());
        }
        Ok(())
    }
}

/// Resolved column indexes.
struct Cols {
    date: usize,
    value_date: Option<usize>,
    amount: Option<usize>,
    debit: Option<usize>,
    credit: Option<usize>,
    currency: Option<usize>,
    reference: Option<usize>,
    e2e: Option<usize>,
    description: Option<usize>,
    counterparty: Option<usize>,
    balance: Option<usize>,
}

fn resolve(headers: Option<&csv::StringRecord>, c: &Column) -> Result<usize, ParseError> {
    match c {
        Column::Position(p) => Ok(p - 1),
        Column::Name(n) => {
            headers.and_then(|h| h.iter().position(|x| x.trim().trim_start_matches('\u{feff}') == n.trim())).ok_or_else(
                || ParseError::new(FORMAT, 1, format!("the header has no column `{}`", statement::clip(n, 40))),
            )
        }
    }
}

fn cols(m: &Mapping, h: Option<&csv::StringRecord>) -> Result<Cols, ParseError> {
    let opt = |c: &Option<Column>| c.as_ref().map(|c| resolve(h, c)).transpose();
    Ok(Cols {
        date: resolve(h, &m.date)?,
        value_date: opt(&m.value_date)?,
        amount: opt(&m.amount)?,
        debit: opt(&m.debit)?,
        credit: opt(&m.credit)?,
        currency: opt(&m.currency_column)?,
        reference: opt(&m.reference)?,
        e2e: opt(&m.end_to_end_id)?,
        description: opt(&m.description)?,
        counterparty: opt(&m.counterparty)?,
        balance: opt(&m.balance)?,
    })
}

/// `-1.234,56`, `(12.50)`, `12.50-`, `1 234.56`, `1'234.56`: a signed amount in minor units.
fn signed(text: &str, currency: Currency, decimal: char) -> Result<i64, String> {
    let t = text.trim();
    let (neg, body) = if let Some(b) = t.strip_prefix('-') {
        (true, b)
    } else if let Some(b) = t.strip_prefix('(').and_then(|b| b.strip_suffix(')')) {
        (true, b)
    } else if let Some(b) = t.strip_suffix('-') {
        (true, b)
    } else {
        (false, t.strip_prefix('+').unwrap_or(t))
    };
    let grouping = if decimal == '.' { ',' } else { '.' };
    let clean: String = body.chars().filter(|&c| c != grouping && c != ' ' && c != '\'' && c != '\u{a0}').collect();
    let v = statement::parse_amount(&clean, currency, decimal)
        .map_err(|_| format!("`{}` is not an amount", statement::clip(t, 40)))?;
    Ok(if neg { -v } else { v })
}

/// Parses a CSV statement of bank account `account` with `mapping` (one statement per file).
pub fn parse(bytes: &[u8], mapping: &Mapping, account: &str) -> Result<Statement, ParseError> {
    let delimiter = u8::try_from(mapping.delimiter).map_err(|_| ParseError::new(FORMAT, 1, "bad delimiter"))?;
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).has_headers(mapping.header).flexible(false).from_reader(bytes);
    let headers = if mapping.header {
        Some(reader.headers().map_err(|e| ParseError::new(FORMAT, 1, format!("the header row: {e}")))?.clone())
    } else {
        None
    };
    let c = cols(mapping, headers.as_ref())?;
    let fixed = mapping
        .currency
        .as_deref()
        .map(Currency::parse)
        .transpose()
        .map_err(|e| ParseError::new(FORMAT, 1, e.to_string()))?;
    let mut lines = Vec::new();
    let mut balances: Vec<i64> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let n = if mapping.header { i + 2 } else { i + 1 };
        let record = record.map_err(|e| ParseError::new(FORMAT, n, format!("not CSV: {e}")))?;
        let n = record.position().map_or(n, |p| usize::try_from(p.line()).unwrap_or(n));
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if lines.len() == LINES_MAX {
            return Err(ParseError::new(FORMAT, n, format!("more than {LINES_MAX} rows")));
        }
        let (line, balance) = row(&record, &c, mapping, fixed).map_err(|m| ParseError::new(FORMAT, n, m))?;
        lines.push(line);
        balances.extend(balance);
    }
    if lines.is_empty() {
        return Err(ParseError::new(FORMAT, 1, "the file has no rows"));
    }
    let (opening, closing) = if c.balance.is_some() && balances.len() == lines.len() {
        let first = &lines[0];
        let last = &lines[lines.len() - 1];
        let open =
            balances[0].checked_sub(first.amount).ok_or_else(|| ParseError::new(FORMAT, 2, "balance overflows"))?;
        let date = |l: &Line| l.date().unwrap_or(Date::from_days(0));
        (
            Some(Balance { amount: open, currency: first.currency, date: date(first) }),
            Some(Balance { amount: balances[balances.len() - 1], currency: last.currency, date: date(last) }),
        )
    } else {
        (None, None)
    };
    let currency = lines[0].currency;
    Ok(Statement {
        format: Format::Csv,
        version: None,
        account: statement::clip(account, 64),
        currency: Some(currency),
        statement_id: None,
        sequence: None,
        page: None,
        created: None,
        from_date: lines.iter().filter_map(Line::date).min(),
        to_date: lines.iter().filter_map(Line::date).max(),
        opening,
        closing,
        declared_count: None,
        lines,
    })
}

fn row(r: &csv::StringRecord, c: &Cols, m: &Mapping, fixed: Option<Currency>) -> Result<(Line, Option<i64>), String> {
    let field = |i: usize| r.get(i).map(str::trim).unwrap_or("");
    let need = |i: usize, what: &str| {
        let v = field(i);
        if v.is_empty() {
            Err(format!("column {} ({what}) is empty or missing", i + 1))
        } else {
            Ok(v)
        }
    };
    let currency = match (fixed, c.currency) {
        (Some(f), _) => f,
        (None, Some(i)) => Currency::parse(need(i, "currency")?).map_err(|e| format!("column {}: {e}", i + 1))?,
        (None, None) => return Err("no currency".into()),
    };
    let date = need(c.date, "date")?;
    let booking = m
        .date_format
        .parse(date)
        .ok_or_else(|| format!("column {}: `{}` is not a date", c.date + 1, statement::clip(date, 30)))?;
    let amount = match (c.amount, c.debit, c.credit) {
        (Some(i), _, _) => {
            signed(need(i, "amount")?, currency, m.decimal).map_err(|e| format!("column {}: {e}", i + 1))?
        }
        (None, Some(d), Some(k)) => {
            let (dv, kv) = (field(d), field(k));
            match (dv.is_empty(), kv.is_empty()) {
                (false, true) => -signed(dv, currency, m.decimal).map_err(|e| format!("column {}: {e}", d + 1))?.abs(),
                (true, false) => signed(kv, currency, m.decimal).map_err(|e| format!("column {}: {e}", k + 1))?.abs(),
                _ => {
                    return Err(format!(
                        "exactly one of columns {} (debit) and {} (credit) must hold an amount",
                        d + 1,
                        k + 1
                    ))
                }
            }
        }
        _ => return Err("no amount column".into()),
    };
    if amount == 0 {
        return Err("a zero amount".into());
    }
    let mut line = Line::new(amount, currency);
    line.booking_date = Some(booking);
    line.value_date = match c.value_date {
        Some(i) if !field(i).is_empty() => Some(
            m.date_format
                .parse(field(i))
                .ok_or_else(|| format!("column {}: `{}` is not a date", i + 1, statement::clip(field(i), 30)))?,
        ),
        _ => Some(booking),
    };
    let text = |i: Option<usize>| i.and_then(|i| statement::text(field(i)));
    line.servicer_ref = text(c.reference);
    line.end_to_end_id = text(c.e2e);
    line.remittance = text(c.description);
    line.counterparty = text(c.counterparty);
    let balance = match c.balance {
        Some(i) => {
            Some(signed(need(i, "balance")?, currency, m.decimal).map_err(|e| format!("column {}: {e}", i + 1))?)
        }
        None => None,
    };
    Ok((line, balance))
}
