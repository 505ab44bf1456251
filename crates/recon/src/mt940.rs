//! SWIFT MT940 customer statements: one file may hold many messages, with or without the SWIFT
//! block wrapper (`{1:…}{2:…}{4:` … `-}`), CRLF or LF. Fields start with `:tag:` at the start
//! of a line; any other line continues the field before it. Read: `:20:` reference, `:25:`
//! account, `:28C:` statement and page number, `:60F:`/`:60M:` opening, `:61:` lines,
//! `:86:` their information (free text; `?nn` subfields of the German GVC layout with
//! `EREF+`/`SVWZ+`; `/EREF/…/REMI/…` slash codes), `:62F:`/`:62M:` closing.

use rialto_core::Currency;

use crate::date::Date;
use crate::error::ParseError;
use crate::statement::{self, Balance, Format, Line, Statement, LINES_MAX};

const FORMAT: &str = "mt940";

/// One `:tag:` field with the line it starts on.
struct Field {
    tag: String,
    value: String,
    line: usize,
}

/// Splits the text into fields, dropping block wrappers; a message ends at a line `-` or `-}`.
fn fields(text: &str) -> Result<Vec<Vec<Field>>, ParseError> {
    let mut messages = Vec::new();
    let mut current: Vec<Field> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let mut line = raw.trim_end_matches('\r');
        if let Some(pos) = line.find("{4:") {
            line = &line[pos + 3..];
        }
        let trimmed = line.trim();
        if trimmed == "-" || trimmed == "-}" || trimmed.starts_with("-}") {
            if !current.is_empty() {
                messages.push(std::mem::take(&mut current));
            }
            continue;
        }
        if trimmed.is_empty() || (trimmed.starts_with("{1:") && current.is_empty()) {
            continue;
        }
        if let Some(rest) = line.strip_prefix(':') {
            if let Some(end) = rest.find(':') {
                let tag = &rest[..end];
                if (2..=3).contains(&tag.len())
                    && tag.as_bytes()[0].is_ascii_digit()
                    && tag.as_bytes()[1].is_ascii_digit()
                {
                    if tag == "20" && current.iter().any(|f| f.tag == "20") {
                        messages.push(std::mem::take(&mut current));
                    }
                    current.push(Field { tag: tag.to_string(), value: rest[end + 1..].to_string(), line: n });
                    continue;
                }
            }
        }
        match current.last_mut() {
            Some(f) => {
                f.value.push('\n');
                f.value.push_str(line);
            }
            None => {
                return Err(ParseError::new(
                    FORMAT,
                    n,
                    format!("`{}` is outside any field", statement::clip(trimmed, 30)),
                ))
            }
        }
    }
    if !current.is_empty() {
        messages.push(current);
    }
    Ok(messages)
}

/// Parses every statement in the file, or names the line that is wrong.
pub fn parse(bytes: &[u8]) -> Result<Vec<Statement>, ParseError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        // SWIFT text is ASCII; banks' exports are often Latin-1: read each byte as its character.
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect::<String>()),
    };
    let messages = fields(&text)?;
    if messages.is_empty() {
        return Err(ParseError::new(FORMAT, 1, "no MT940 statement (no :20: field)"));
    }
    let mut total = 0;
    messages
        .iter()
        .map(|m| {
            let s = message(m)?;
            total += s.lines.len();
            if total > LINES_MAX {
                return Err(ParseError::new(FORMAT, m[0].line, format!("more than {LINES_MAX} lines")));
            }
            Ok(s)
        })
        .collect()
}

fn err(f: &Field, m: impl Into<String>) -> ParseError {
    ParseError::new(FORMAT, f.line, format!(":{}: {}", f.tag, m.into()))
}

/// `C091031EUR1000,00` (D/C mark, YYMMDD, currency, amount).
fn balance(f: &Field) -> Result<Balance, ParseError> {
    let v = f.value.trim();
    let sign = match v.get(..1) {
        Some("C") => 1,
        Some("D") => -1,
        _ => return Err(err(f, format!("`{}` does not start with C or D", statement::clip(v, 30)))),
    };
    let date = v.get(1..7).and_then(Date::parse_yymmdd).ok_or_else(|| err(f, "no valid YYMMDD date after the mark"))?;
    let ccy = v.get(7..10).ok_or_else(|| err(f, "no currency"))?;
    let currency = Currency::parse(ccy).map_err(|e| err(f, e.to_string()))?;
    let amount = statement::parse_amount(v.get(10..).unwrap_or(""), currency, ',').map_err(|m| err(f, m))?;
    Ok(Balance { amount: sign * amount, currency, date })
}

fn message(m: &[Field]) -> Result<Statement, ParseError> {
    let get = |tag: &str| m.iter().find(|f| f.tag == tag);
    let first = &m[0];
    let reference = get("20").ok_or_else(|| ParseError::new(FORMAT, first.line, "a statement without :20:"))?;
    let account = get("25").ok_or_else(|| ParseError::new(FORMAT, first.line, "a statement without :25: (account)"))?;
    let opening = m
        .iter()
        .find(|f| f.tag == "60F" || f.tag == "60M")
        .ok_or_else(|| err(reference, "a statement without :60F: (opening balance)"))?;
    let closing = m
        .iter()
        .find(|f| f.tag == "62F" || f.tag == "62M")
        .ok_or_else(|| err(reference, "a statement without :62F: (closing balance)"))?;
    let opening = balance(opening)?;
    let closing = balance(closing)?;
    let (sequence, page) = match get("28C").or_else(|| get("28")) {
        Some(f) => {
            let v = f.value.trim();
            let (s, p) = v.split_once('/').map_or((v, None), |(s, p)| (s, Some(p)));
            let num = |t: &str| {
                t.trim()
                    .parse::<u64>()
                    .map_err(|_| err(f, format!("`{}` is not a statement number", statement::clip(v, 20))))
            };
            (Some(num(s)?), p.map(num).transpose()?)
        }
        None => (None, None),
    };
    let mut lines = Vec::new();
    let mut i = 0;
    while i < m.len() {
        if m[i].tag == "61" {
            let mut line = statement_line(&m[i], opening.currency)?;
            if let Some(info) = m.get(i + 1).filter(|f| f.tag == "86") {
                information(&mut line, &info.value);
                i += 1;
            }
            lines.push(line);
        }
        i += 1;
    }
    let account_text = account.value.trim();
    Ok(Statement {
        format: Format::Mt940,
        version: None,
        account: statement::clip(account_text.split_whitespace().next().unwrap_or(account_text), 64),
        currency: Some(opening.currency),
        statement_id: statement::text(reference.value.trim()),
        sequence,
        page,
        created: None,
        from_date: Some(opening.date),
        to_date: Some(closing.date),
        opening: Some(opening),
        closing: Some(closing),
        declared_count: None,
        lines,
    })
}

/// A `:61:` line: `YYMMDD[MMDD](C|D|RC|RD)[funds]amount(N|F|S)xxx customer-ref[//bank-ref]`
/// with supplementary details on a second line.
fn statement_line(f: &Field, currency: Currency) -> Result<Line, ParseError> {
    let (first, supplementary) = f.value.split_once('\n').map_or((f.value.as_str(), None), |(a, b)| (a, Some(b)));
    let v = first.trim();
    let value_date = v.get(..6).and_then(Date::parse_yymmdd).ok_or_else(|| err(f, "no valid YYMMDD value date"))?;
    let mut rest = &v[6..];
    let mut booking_date = None;
    if rest.len() >= 4 && rest.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        booking_date = entry_date(value_date, &rest[..4]);
        if booking_date.is_none() {
            return Err(err(f, format!("`{}` is not an MMDD entry date", &rest[..4])));
        }
        rest = &rest[4..];
    }
    let (sign, reversal, after) = if let Some(r) = rest.strip_prefix("RC") {
        (-1, true, r)
    } else if let Some(r) = rest.strip_prefix("RD") {
        (1, true, r)
    } else if let Some(r) = rest.strip_prefix("EC").or_else(|| rest.strip_prefix('C')) {
        (1, false, r)
    } else if let Some(r) = rest.strip_prefix("ED").or_else(|| rest.strip_prefix('D')) {
        (-1, false, r)
    } else {
        return Err(err(f, format!("`{}` has no debit/credit mark (C, D, RC, RD)", statement::clip(rest, 20))));
    };
    // An optional funds code: the third letter of the currency code.
    let after = match after.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => &after[1..],
        _ => after,
    };
    let end = after.find(|c: char| !(c.is_ascii_digit() || c == ',')).unwrap_or(after.len());
    let amount = statement::parse_amount(&after[..end], currency, ',').map_err(|m| err(f, m))?;
    let mut line = Line::new(sign * amount, currency);
    line.value_date = Some(value_date);
    line.booking_date = booking_date.or(Some(value_date));
    line.reversal = reversal;
    let tail = &after[end..];
    let code = tail.get(..4).filter(|c| matches!(c.as_bytes()[0], b'N' | b'F' | b'S'));
    if let Some(code) = code {
        line.bank_code = Some(code.to_string());
        let refs = &tail[4..];
        let (customer, bank) = refs.split_once("//").map_or((refs, None), |(c, b)| (c, Some(b)));
        line.customer_ref = statement::text(customer).filter(|c| c != "NONREF");
        line.servicer_ref = bank.and_then(statement::text);
    } else if !tail.trim().is_empty() {
        return Err(err(
            f,
            format!("`{}` is not a transaction type (N, F or S and three characters)", statement::clip(tail, 20)),
        ));
    }
    if let Some(s) = supplementary {
        if line.remittance.is_none() {
            line.remittance = statement::text(s);
        }
    }
    Ok(line)
}

/// The booking date `MMDD` near the value date (it may fall in the year before or after).
fn entry_date(value: Date, mmdd: &str) -> Option<Date> {
    let m: u32 = mmdd[..2].parse().ok()?;
    let d: u32 = mmdd[2..].parse().ok()?;
    let (y, _, _) = value.ymd();
    [y, y - 1, y + 1]
        .into_iter()
        .filter_map(|y| Date::from_ymd(y, m, d))
        .min_by_key(|c| (c.days() - value.days()).abs())
}

/// Reads `:86:` information into the line's references and remittance text.
fn information(line: &mut Line, raw: &str) {
    // SWIFT allows 6 × 65 characters; a longer field is cut (and the slash-code scan stays linear
    // in a bounded text).
    let raw = &raw[..raw.char_indices().nth(2_000).map_or(raw.len(), |(i, _)| i)];
    let joined: String = raw.lines().map(str::trim_end).collect::<Vec<_>>().join("");
    let t = joined.trim();
    if t.len() > 3 && t.as_bytes()[..3].iter().all(u8::is_ascii_digit) && t[3..].starts_with('?') {
        gvc(line, &t[3..]);
    } else if t.starts_with('/') {
        slash_codes(line, t);
    } else if line.remittance.is_none() || line.remittance.as_deref().is_some_and(|r| r.len() < 3) {
        line.remittance = statement::text(&raw.lines().map(str::trim).collect::<Vec<_>>().join(" "));
    }
}

/// German layout: `?00` booking text, `?20`–`?29` and `?60`–`?63` purpose (SEPA keywords
/// `EREF+`, `SVWZ+`, `KREF+`), `?30` bank code, `?31` account, `?32`–`?33` name.
fn gvc(line: &mut Line, t: &str) {
    let mut purpose = String::new();
    let mut name = String::new();
    for part in t.split('?') {
        let (Some(code), Some(value)) = (part.get(..2), part.get(2..)) else { continue };
        let purpose_code = code.parse::<u8>().is_ok_and(|c| (20..=29).contains(&c) || (60..=63).contains(&c));
        match code {
            _ if purpose_code => purpose.push_str(value),
            "31" => line.counterparty_account = statement::text(value),
            "32" | "33" => name.push_str(value),
            _ => {}
        }
    }
    let keywords = ["EREF+", "KREF+", "MREF+", "CRED+", "DEBT+", "SVWZ+", "ABWA+", "ABWE+"];
    let mut found: Vec<(usize, &str)> = keywords.iter().filter_map(|k| purpose.find(k).map(|p| (p, *k))).collect();
    found.sort();
    if found.is_empty() {
        line.remittance = statement::text(&purpose);
    }
    for (i, (pos, key)) in found.iter().enumerate() {
        let end = found.get(i + 1).map_or(purpose.len(), |n| n.0);
        let value = purpose[pos + key.len()..end].trim();
        match *key {
            "EREF+" => line.end_to_end_id = statement::text(value).filter(|v| v != "NOTPROVIDED"),
            "KREF+" if line.customer_ref.is_none() => line.customer_ref = statement::text(value),
            "SVWZ+" => line.remittance = statement::text(value),
            _ => {}
        }
    }
    if line.remittance.is_none() && !found.is_empty() {
        line.remittance = statement::text(&purpose);
    }
    line.counterparty = statement::text(&name).or(line.counterparty.take());
}

/// Slash codes: `/EREF/…/REMI/…/NAME/…` (codes of two to four capitals between slashes).
fn slash_codes(line: &mut Line, t: &str) {
    let mut parts: Vec<(String, String)> = Vec::new();
    let mut rest = t;
    while let Some(r) = rest.strip_prefix('/') {
        let Some(end) = r.find('/') else { break };
        let code = &r[..end];
        if !(2..=4).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            break;
        }
        let after = &r[end + 1..];
        let mut next = after.len();
        let mut search = 0;
        while let Some(p) = after[search..].find('/') {
            let at = search + p;
            let cand = &after[at + 1..];
            if let Some(e) = cand.find('/') {
                let c = &cand[..e];
                if (2..=4).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_uppercase()) {
                    next = at;
                    break;
                }
            }
            search = at + 1;
        }
        parts.push((code.to_string(), after[..next].to_string()));
        rest = &after[next..];
    }
    for (code, value) in parts {
        match code.as_str() {
            "EREF" => line.end_to_end_id = statement::text(&value).filter(|v| v != "NOTPROVIDED"),
            "REMI" | "RMTINF" => line.remittance = statement::text(&value),
            "NAME" | "ORDP" | "BENM" => line.counterparty = statement::text(&value),
            "IBAN" => line.counterparty_account = statement::text(&value),
            "CREF" if line.customer_ref.is_none() => line.customer_ref = statement::text(&value),
            _ => {}
        }
    }
}
