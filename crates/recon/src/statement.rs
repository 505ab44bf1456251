//! One model of a bank statement, whatever format it came in: its identity, its booked opening
//! and closing balances, and its lines, each with its signed amount, dates and references. A
//! statement checks itself: opening + booked lines = closing.

use rialto_core::Currency;
use sha2::{Digest, Sha256};

use crate::date::Date;

/// Most lines one statement file may hold.
pub const LINES_MAX: usize = 2_000_000;
/// Longest text field kept (longer remittance information is cut, on a character boundary).
pub const TEXT_MAX: usize = 500;

/// The format a statement was read from.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Format {
    /// ISO 20022 camt.053 bank-to-customer statement.
    Camt053,
    /// ISO 20022 camt.054 debit/credit notification (no balances).
    Camt054,
    /// ISO 20022 camt.052 intraday account report.
    Camt052,
    /// SWIFT MT940 customer statement.
    Mt940,
    /// CSV with a column mapping.
    Csv,
}

impl Format {
    /// Stored and sent name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Camt053 => "camt.053",
            Format::Camt054 => "camt.054",
            Format::Camt052 => "camt.052",
            Format::Mt940 => "mt940",
            Format::Csv => "csv",
        }
    }

    /// The inverse of [`Format::as_str`].
    pub fn parse(s: &str) -> Option<Format> {
        [Format::Camt053, Format::Camt054, Format::Camt052, Format::Mt940, Format::Csv]
            .into_iter()
            .find(|f| f.as_str() == s)
    }
}

/// A booked balance: signed minor units (negative: overdrawn), on a day.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Balance {
    /// Minor units; credit positive.
    pub amount: i64,
    /// Its currency.
    pub currency: Currency,
    /// The day it holds for.
    pub date: Date,
}

/// Whether the bank booked a line.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LineStatus {
    /// Booked: counts in the balance.
    Booked,
    /// Pending: reported, not yet booked.
    Pending,
    /// Information only.
    Info,
}

impl LineStatus {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            LineStatus::Booked => "booked",
            LineStatus::Pending => "pending",
            LineStatus::Info => "info",
        }
    }

    /// The inverse of [`LineStatus::as_str`].
    pub fn parse(s: &str) -> Option<LineStatus> {
        [LineStatus::Booked, LineStatus::Pending, LineStatus::Info].into_iter().find(|x| x.as_str() == s)
    }
}

/// One statement line (a camt `Ntry`, an MT940 `:61:` with its `:86:`, a CSV row).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Line {
    /// Minor units, signed from the account holder's side: credit (money in) positive, debit
    /// negative. A reversal is booked in the direction that undoes the original.
    pub amount: i64,
    /// Its currency.
    pub currency: Currency,
    /// The day the bank booked it.
    pub booking_date: Option<Date>,
    /// The day it took value.
    pub value_date: Option<Date>,
    /// Booked, pending or information.
    pub status: LineStatus,
    /// The line reverses an earlier one.
    pub reversal: bool,
    /// The payer's end-to-end id (camt `EndToEndId`, MT940 `EREF+`/`/EREF/`).
    pub end_to_end_id: Option<String>,
    /// The bank's own reference (camt `AcctSvcrRef`, MT940 reference after `//`).
    pub servicer_ref: Option<String>,
    /// The account owner's reference (camt `InstrId`/`AcctOwnrTxId`, MT940 customer reference).
    pub customer_ref: Option<String>,
    /// Remittance information (unstructured lines joined, or the structured creditor reference).
    pub remittance: Option<String>,
    /// The other party's name.
    pub counterparty: Option<String>,
    /// The other party's account (IBAN or number).
    pub counterparty_account: Option<String>,
    /// Bank transaction code: camt `Domain/Family/SubFamily` or proprietary, MT940 `N` + type.
    pub bank_code: Option<String>,
    /// Transactions the bank batched into this line, when it says.
    pub batch_count: Option<u32>,
}

impl Line {
    /// A line of `amount` with nothing else known.
    pub fn new(amount: i64, currency: Currency) -> Line {
        Line {
            amount,
            currency,
            booking_date: None,
            value_date: None,
            status: LineStatus::Booked,
            reversal: false,
            end_to_end_id: None,
            servicer_ref: None,
            customer_ref: None,
            remittance: None,
            counterparty: None,
            counterparty_account: None,
            bank_code: None,
            batch_count: None,
        }
    }

    /// The booking date, else the value date.
    pub fn date(&self) -> Option<Date> {
        self.booking_date.or(self.value_date)
    }
}

/// A bank statement (or notification) as read from its file.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Statement {
    /// Where it came from.
    pub format: Format,
    /// The schema version when the format has one (`camt.053.001.08`).
    pub version: Option<String>,
    /// The bank account: IBAN, or the bank's number for it.
    pub account: String,
    /// The account's currency, when stated.
    pub currency: Option<Currency>,
    /// The bank's id of the statement (camt `Id`, MT940 `:20:`).
    pub statement_id: Option<String>,
    /// The statement's number in the account's series (camt `ElctrncSeqNb`, MT940 `:28C:`).
    pub sequence: Option<u64>,
    /// The page within that statement (MT940 `:28C:` after the slash).
    pub page: Option<u64>,
    /// When the bank made it (as written).
    pub created: Option<String>,
    /// First day covered.
    pub from_date: Option<Date>,
    /// Last day covered.
    pub to_date: Option<Date>,
    /// Opening booked balance.
    pub opening: Option<Balance>,
    /// Closing booked balance.
    pub closing: Option<Balance>,
    /// Entries the statement says it holds (camt `TxsSummry/TtlNtries/NbOfNtries`).
    pub declared_count: Option<u64>,
    /// The lines, in file order.
    pub lines: Vec<Line>,
}

/// What a statement's own figures say.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Check {
    /// Opening + booked lines = closing; `None` when a balance is missing (a notification).
    pub adds_up: Option<bool>,
    /// Sum of the booked lines.
    pub booked_total: i64,
    /// Closing − (opening + booked lines), when both balances are there.
    pub difference: Option<i64>,
    /// Everything that does not fit, in words.
    pub problems: Vec<String>,
}

impl Statement {
    /// Checks the statement against its own balances and declared count.
    pub fn check(&self) -> Check {
        let mut problems = Vec::new();
        let mut total: i64 = 0;
        let mut overflow = false;
        for l in self.lines.iter().filter(|l| l.status == LineStatus::Booked) {
            match total.checked_add(l.amount) {
                Some(t) => total = t,
                None => overflow = true,
            }
        }
        if overflow {
            problems.push("the booked lines' sum overflows".to_string());
        }
        let currencies_agree = |b: &Balance| self.lines.iter().all(|l| l.currency == b.currency);
        let (adds_up, difference) = match (self.opening, self.closing) {
            (Some(o), Some(c)) if !overflow => {
                if o.currency != c.currency || !currencies_agree(&o) {
                    problems.push("the balances and lines are not all in one currency".to_string());
                }
                let diff = o.amount.checked_add(total).and_then(|e| c.amount.checked_sub(e));
                match diff {
                    Some(0) => (Some(true), Some(0)),
                    Some(d) => {
                        problems.push(format!(
                            "opening {} + booked lines {} != closing {} (off by {d} minor units)",
                            o.amount, total, c.amount
                        ));
                        (Some(false), Some(d))
                    }
                    None => (Some(false), None),
                }
            }
            (Some(_), Some(_)) => (Some(false), None),
            _ => (None, None),
        };
        if let Some(n) = self.declared_count {
            if n != self.lines.len() as u64 {
                problems.push(format!("the statement declares {n} entries and holds {}", self.lines.len()));
            }
        }
        Check { adds_up, booked_total: total, difference, problems }
    }

    /// What names this statement at its bank: the same statement imported twice has the same
    /// identity. From the account, statement id, sequence, page and period; a statement without
    /// an id of its own (CSV) is named by its content.
    pub fn identity(&self) -> String {
        let mut h = Sha256::new();
        let opt = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
        for part in [
            self.format.as_str().to_string(),
            self.account.clone(),
            self.statement_id.clone().unwrap_or_default(),
            self.sequence.map(|s| s.to_string()).unwrap_or_default(),
            self.page.map(|s| s.to_string()).unwrap_or_default(),
            opt(self.from_date),
            opt(self.to_date),
        ] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
        if self.statement_id.is_none() {
            h.update(self.digest().as_bytes());
        }
        hex::encode(&h.finalize()[..16])
    }

    /// A digest of the whole content (balances and every line): tells a re-import of the same
    /// statement from a different statement under the same identity.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        let bal = |b: &Option<Balance>| b.map(|b| format!("{}{}{}", b.amount, b.currency, b.date)).unwrap_or_default();
        h.update(bal(&self.opening).as_bytes());
        h.update(bal(&self.closing).as_bytes());
        for l in &self.lines {
            let parts = [
                l.amount.to_string(),
                l.currency.code().to_string(),
                l.booking_date.map(|d| d.to_string()).unwrap_or_default(),
                l.value_date.map(|d| d.to_string()).unwrap_or_default(),
                l.status.as_str().to_string(),
                l.reversal.to_string(),
                l.end_to_end_id.clone().unwrap_or_default(),
                l.servicer_ref.clone().unwrap_or_default(),
                l.customer_ref.clone().unwrap_or_default(),
                l.remittance.clone().unwrap_or_default(),
            ];
            for p in parts {
                h.update(p.as_bytes());
                h.update([0x1f]);
            }
            h.update([0x1e]);
        }
        hex::encode(&h.finalize()[..16])
    }

    /// The period the statement covers: its stated dates, else its balances' and lines' days.
    pub fn period(&self) -> Option<(Date, Date)> {
        let days = self
            .lines
            .iter()
            .filter_map(Line::date)
            .chain(self.opening.map(|b| b.date))
            .chain(self.closing.map(|b| b.date));
        let (lo, hi) = days.fold((None, None), |(lo, hi): (Option<Date>, Option<Date>), d| {
            (Some(lo.map_or(d, |x| x.min(d))), Some(hi.map_or(d, |x| x.max(d))))
        });
        Some((self.from_date.or(lo)?, self.to_date.or(hi)?))
    }
}

/// How a statement sits in its account's series, against the statements imported before.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Sequence {
    /// The next one (or the first, or the series is not numbered).
    InOrder,
    /// Statements are missing between the last imported and this one.
    Gap {
        /// The last imported before it.
        previous: u64,
        /// How many numbers are missing.
        missing: u64,
    },
    /// Its number (or its period) was already imported under another identity.
    Overlap {
        /// What overlaps.
        detail: String,
    },
}

impl Sequence {
    /// Stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Sequence::InOrder => "in_order",
            Sequence::Gap { .. } => "gap",
            Sequence::Overlap { .. } => "overlap",
        }
    }

    /// In words.
    pub fn describe(&self) -> Option<String> {
        match self {
            Sequence::InOrder => None,
            Sequence::Gap { previous, missing } => {
                Some(format!("{missing} statement(s) missing after sequence {previous}"))
            }
            Sequence::Overlap { detail } => Some(detail.clone()),
        }
    }
}

/// A statement already imported for the account: its number and period.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Imported {
    /// Its sequence number.
    pub sequence: Option<u64>,
    /// First day covered.
    pub from: Date,
    /// Last day covered.
    pub to: Date,
}

/// Places `s` in its series: a number seen before or a period overlapping one imported before
/// is an overlap; a number more than one after the highest seen is a gap.
pub fn sequence(s: &Statement, before: &[Imported]) -> Sequence {
    if let Some(n) = s.sequence {
        if before.iter().any(|b| b.sequence == Some(n)) {
            return Sequence::Overlap { detail: format!("sequence {n} was already imported") };
        }
    }
    if s.format != Format::Camt054 {
        if let Some((from, to)) = s.period() {
            if let Some(b) =
                before.iter().find(|b| from <= b.to && b.from <= to && (b.sequence.is_none() || s.sequence.is_none()))
            {
                return Sequence::Overlap {
                    detail: format!("its period {from}..{to} overlaps a statement for {}..{}", b.from, b.to),
                };
            }
        }
    }
    let Some(n) = s.sequence else { return Sequence::InOrder };
    match before.iter().filter_map(|b| b.sequence).filter(|&p| p < n).max() {
        Some(prev) if n > prev + 1 => Sequence::Gap { previous: prev, missing: n - prev - 1 },
        _ => Sequence::InOrder,
    }
}

/// Parses a decimal amount (`1234.56`, `1234,56` for MT940) into minor units of `currency`:
/// digits, at most one separator, no more fraction digits than the currency has (beyond them
/// only zeros), no sign.
pub fn parse_amount(text: &str, currency: Currency, separator: char) -> Result<i64, String> {
    let t = text.trim();
    let (int, frac) = match t.split_once(separator) {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    let ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !ok(int) || !ok(frac) {
        return Err(format!("`{}` is not an amount", clip(t, 40)));
    }
    let exp = usize::from(currency.exponent());
    let (kept, extra) = if frac.len() > exp { frac.split_at(exp) } else { (frac, "") };
    if extra.bytes().any(|b| b != b'0') {
        return Err(format!("`{}` has more decimals than {} allows ({exp})", clip(t, 40), currency.code()));
    }
    let mut v: i64 = 0;
    let digits = int.bytes().chain(kept.bytes()).chain(std::iter::repeat_n(b'0', exp - kept.len()));
    for b in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .ok_or_else(|| format!("`{}` is too large", clip(t, 40)))?;
    }
    if v > rialto_core::AMOUNT_MAX_MINOR {
        return Err(format!("`{}` is too large", clip(t, 40)));
    }
    Ok(v)
}

/// `s` cut to `max` characters.
pub fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Text kept on a line: trimmed, whitespace runs collapsed, cut at [`TEXT_MAX`]; empty is none.
pub fn text(s: &str) -> Option<String> {
    let mut out = String::new();
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
        if out.len() > TEXT_MAX {
            break;
        }
    }
    let out = clip(&out, TEXT_MAX);
    (!out.is_empty()).then_some(out)
}
