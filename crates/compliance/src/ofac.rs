//! The OFAC SDN list in its legacy CSV form: `sdn.csv` (the parties), `alt.csv` (aliases),
//! `add.csv` (addresses) and `sdn_comments.csv` (remarks too long for `sdn.csv`). `-0-` is an
//! empty field. The remarks carry dates of birth, nationalities, identity documents and the
//! weak aliases (`a.k.a. 'X'`), and are read for them.

use std::collections::HashMap;

use crate::list::ENTRIES_MAX;
use crate::list::{BirthDate, EntityKind, Entry, Identifier, ListedName, ParseError, ParsedList, Source, Strength};

/// The four files; only `sdn` is required.
#[derive(Debug, Default, Clone)]
pub struct Files<'a> {
    /// `sdn.csv`.
    pub sdn: &'a [u8],
    /// `alt.csv`.
    pub alt: Option<&'a [u8]>,
    /// `add.csv`.
    pub add: Option<&'a [u8]>,
    /// `sdn_comments.csv`.
    pub comments: Option<&'a [u8]>,
}

/// Which of the four files a path is, by its name.
pub fn file_role(name: &str) -> Option<&'static str> {
    let name = name.rsplit(['/', '\\']).next().unwrap_or(name).to_ascii_lowercase();
    match name.as_str() {
        "sdn.csv" => Some("sdn"),
        "alt.csv" => Some("alt"),
        "add.csv" => Some("add"),
        "sdn_comments.csv" => Some("comments"),
        _ => None,
    }
}

/// Parses the files into entries, or says which line of which file is wrong.
pub fn parse(files: &Files<'_>) -> Result<ParsedList, ParseError> {
    let mut entries = Vec::new();
    let mut index = HashMap::new();
    for (line, f) in records("sdn.csv", files.sdn, 12)? {
        let id = ent_num("sdn.csv", line, &f[0])?;
        if f[1].is_empty() {
            return Err(err("sdn.csv", line, "the name (field 2) is empty"));
        }
        if index.insert(id.clone(), entries.len()).is_some() {
            return Err(err("sdn.csv", line, &format!("entry {id} appears twice")));
        }
        if entries.len() == ENTRIES_MAX {
            return Err(err("sdn.csv", line, &format!("more than {ENTRIES_MAX} entries")));
        }
        entries.push(sdn_entry(id, &f, line)?);
    }
    if let Some(bytes) = files.comments {
        for (line, f) in records("sdn_comments.csv", bytes, 2)? {
            let id = ent_num("sdn_comments.csv", line, &f[0])?;
            if let Some(e) = index.get(&id).map(|&i| &mut entries[i]) {
                let r = e.remarks.get_or_insert_with(String::new);
                r.push_str(&f[1]);
            }
        }
    }
    if let Some(bytes) = files.alt {
        for (line, f) in records("alt.csv", bytes, 5)? {
            let id = ent_num("alt.csv", line, &f[0])?;
            if f[3].is_empty() {
                return Err(err("alt.csv", line, "the alias (field 4) is empty"));
            }
            if let Some(e) = index.get(&id).map(|&i| &mut entries[i]) {
                let weak = f[2].to_ascii_lowercase().contains("weak") || f[4].to_ascii_lowercase().contains("weak");
                let strength = if weak { Strength::Weak } else { Strength::Strong };
                e.names.push(ListedName { name: f[3].clone(), strength });
            }
        }
    }
    if let Some(bytes) = files.add {
        for (line, f) in records("add.csv", bytes, 6)? {
            let id = ent_num("add.csv", line, &f[0])?;
            if let Some(e) = index.get(&id).map(|&i| &mut entries[i]) {
                let address: Vec<&str> =
                    [&f[2], &f[3], &f[4]].into_iter().map(String::as_str).filter(|s| !s.is_empty()).collect();
                if !address.is_empty() {
                    e.addresses.push(address.join(", "));
                }
                if !f[4].is_empty() && !e.countries.contains(&f[4]) {
                    e.countries.push(f[4].clone());
                }
            }
        }
    }
    for e in &mut entries {
        if let Some(remarks) = e.remarks.clone() {
            read_remarks(e, &remarks);
        }
    }
    Ok(ParsedList { source: Source::Ofac, entries })
}

/// One row of `sdn.csv`: number, name, type, programmes, title, call sign, vessel type,
/// tonnage, GRT, flag, owner, remarks.
fn sdn_entry(id: String, f: &[String], line: usize) -> Result<Entry, ParseError> {
    let kind = match f[2].to_ascii_lowercase().as_str() {
        "" => EntityKind::Entity,
        "individual" => EntityKind::Individual,
        "vessel" => EntityKind::Vessel,
        "aircraft" => EntityKind::Aircraft,
        other => return Err(err("sdn.csv", line, &format!("unknown SDN type `{other}`"))),
    };
    let programs = f[3]
        .split(']')
        .map(|p| p.trim().trim_start_matches('[').trim())
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    Ok(Entry {
        id,
        kind,
        names: vec![ListedName { name: f[1].clone(), strength: Strength::Strong }],
        birth_dates: Vec::new(),
        // The vessel's flag.
        countries: if f[9].is_empty() { Vec::new() } else { vec![f[9].clone()] },
        addresses: Vec::new(),
        identifiers: Vec::new(),
        programs,
        remarks: (!f[11].is_empty()).then(|| f[11].clone()),
    })
}

fn err(file: &str, line: usize, message: &str) -> ParseError {
    ParseError { file: file.to_string(), line, message: message.to_string() }
}

fn ent_num(file: &str, line: usize, text: &str) -> Result<String, ParseError> {
    match text.parse::<u64>() {
        Ok(n) => Ok(n.to_string()),
        Err(_) => Err(err(
            file,
            line,
            &format!("the entry number (field 1) `{}` is not a number", text.chars().take(40).collect::<String>()),
        )),
    }
}

/// The file as text: UTF-8, or Windows-1252/Latin-1 when it is not valid UTF-8 (older
/// publications); the DOS end-of-file mark (0x1A) is dropped.
fn text_of(bytes: &[u8]) -> String {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    };
    text.trim_end_matches(['\u{1a}', '\n', '\r']).to_string()
}

/// The records of a CSV file, each with its line, each with exactly `fields` fields
/// (`-0-` read as empty). A quoted field may hold commas, doubled quotes and line breaks.
pub(crate) fn records(file: &str, bytes: &[u8], fields: usize) -> Result<Vec<(usize, Vec<String>)>, ParseError> {
    let text = text_of(bytes);
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut record = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        loop {
            match chars.next() {
                None => {
                    if quoted {
                        return Err(err(file, start, "a quoted field is not closed (is the file truncated?)"));
                    }
                    break;
                }
                Some('"') if quoted => {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        quoted = false;
                    }
                }
                Some('"') if field.trim().is_empty() => {
                    field.clear();
                    quoted = true;
                }
                Some(',') if !quoted => record.push(std::mem::take(&mut field)),
                Some('\n') if !quoted => {
                    line += 1;
                    break;
                }
                Some('\r') if !quoted && chars.peek() == Some(&'\n') => {}
                Some(c) => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
            }
        }
        record.push(field);
        if record.len() == 1 && record[0].trim().is_empty() {
            continue; // a blank line
        }
        if record.len() != fields {
            return Err(err(
                file,
                start,
                &format!("expected {fields} fields, found {} (is the file truncated?)", record.len()),
            ));
        }
        let record = record
            .into_iter()
            .map(|f| {
                let f = f.trim();
                if f == "-0-" {
                    String::new()
                } else {
                    f.to_string()
                }
            })
            .collect();
        out.push((start, record));
    }
    Ok(out)
}

/// The identity documents the remarks name, longest first so `alt. Passport` and
/// `National ID No.` are read whole.
const IDENTIFIER_KINDS: &[&str] = &[
    "Vessel Registration Identification IMO",
    "Aircraft Manufacturer's Serial Number (MSN)",
    "Business Registration Document #",
    "Unified Social Credit Code (USCC)",
    "Public Security and Immigration No.",
    "Commercial Registry Number",
    "Birth Certificate Number",
    "Electoral Registry No.",
    "Identification Number",
    "Matricula Mercantil No",
    "Folio Mercantil No.",
    "Registration Number",
    "Driver's License No.",
    "Social Security Number",
    "Legal Entity Number",
    "Personal ID Card",
    "Trade License No.",
    "Registration ID",
    "National ID No.",
    "D-U-N-S Number",
    "Company Number",
    "V.A.T. Number",
    "Tax ID No.",
    "Cedula No.",
    "SWIFT/BIC",
    "C.U.R.P.",
    "R.F.C.",
    "Passport",
    "NIT #",
    "RUC #",
    "MMSI",
];

/// Reads dates of birth, nationalities, identifiers, flags and weak aliases out of remarks.
fn read_remarks(e: &mut Entry, remarks: &str) {
    for segment in remarks.split(';') {
        let s = segment.trim().trim_end_matches('.').trim();
        let s = s.strip_prefix("alt. ").unwrap_or(s);
        if let Some(d) = s.strip_prefix("DOB ") {
            e.birth_dates.extend(remark_date(d));
        } else if let Some(c) = s.strip_prefix("nationality ").or_else(|| s.strip_prefix("citizen ")) {
            push_country(e, c);
        } else if let Some(c) = s.strip_prefix("Vessel Flag ").or_else(|| s.strip_prefix("Former Vessel Flag ")) {
            push_country(e, c);
        } else if let Some(alias) = s.strip_prefix("a.k.a. ") {
            let alias = alias.trim().trim_matches(['\'', '"']).trim();
            if !alias.is_empty() && !e.names.iter().any(|n| n.name == alias) {
                e.names.push(ListedName { name: alias.to_string(), strength: Strength::Weak });
            }
        } else if let Some(id) = remark_identifier(s) {
            e.identifiers.push(id);
        }
    }
}

fn push_country(e: &mut Entry, country: &str) {
    let c = country.trim().to_string();
    if !c.is_empty() && !e.countries.contains(&c) {
        e.countries.push(c);
    }
}

/// `Passport A123456 (Iran)`, `National ID No. 12345`, `IMO 9187629`.
fn remark_identifier(s: &str) -> Option<Identifier> {
    let kind = IDENTIFIER_KINDS.iter().find(|k| s.starts_with(**k) && s[k.len()..].starts_with(' '))?;
    let rest = s[kind.len()..].trim();
    let (number, country) = match rest.find(" (") {
        Some(i) => {
            let country = rest[i + 2..].split(')').next().unwrap_or("").trim();
            (rest[..i].trim(), (!country.is_empty()).then(|| country.to_string()))
        }
        None => (rest, None),
    };
    let number = number.trim_end_matches(',').trim();
    if number.is_empty() || !number.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(Identifier { kind: kind.trim_end_matches(" #").to_string(), number: number.to_string(), country })
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// `12 Jan 1970`, `Jan 1970`, `1970`, `circa 1970`, `1960 to 1962`.
fn remark_date(text: &str) -> Option<BirthDate> {
    let t = text.trim();
    let (t, circa) = match t.strip_prefix("circa ") {
        Some(rest) => (rest.trim(), true),
        None => (t, false),
    };
    let year = |s: &str| s.parse::<i32>().ok().filter(|y| (1800..=2200).contains(y));
    if let Some((a, b)) = t.split_once(" to ") {
        let (from, to) = (remark_date(a)?, remark_date(b)?);
        return Some(BirthDate { year_from: from.year_from, year_to: to.year_to, month: None, day: None });
    }
    let parts: Vec<&str> = t.split_whitespace().collect();
    let month = |s: &str| MONTHS.iter().position(|m| s.to_ascii_lowercase().starts_with(m)).map(|i| i as u8 + 1);
    let date = match parts.as_slice() {
        [y] => BirthDate::exact(year(y)?, None, None),
        [m, y] => BirthDate::exact(year(y)?, Some(month(m)?), None),
        [d, m, y] => {
            BirthDate::exact(year(y)?, Some(month(m)?), Some(d.parse().ok().filter(|d| (1..=31).contains(d))?))
        }
        _ => return None,
    };
    Some(if circa {
        BirthDate { year_from: date.year_from - 1, year_to: date.year_to + 1, month: None, day: None }
    } else {
        date
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_quotes_and_empties() {
        let r = records("t.csv", b"1,\"A, B\",-0- \n2,\"say \"\"hi\"\"\",x\n\x1a", 3).unwrap_or_default();
        assert_eq!(
            r,
            vec![
                (1, vec!["1".into(), "A, B".into(), String::new()]),
                (2, vec!["2".into(), "say \"hi\"".into(), "x".into()])
            ]
        );
        let e = records("t.csv", b"1,a,b\n2,\"open", 3).err().map(|e| (e.line, e.message.contains("not closed")));
        assert_eq!(e, Some((2, true)));
        let e = records("t.csv", b"1,a,b\n2,a\n", 3).err().map(|e| e.line);
        assert_eq!(e, Some(2));
    }

    #[test]
    fn remarks_give_dates_countries_documents_and_weak_aliases() {
        let mut e = Entry {
            id: "1".into(),
            kind: EntityKind::Individual,
            names: vec![ListedName { name: "DOE, John".into(), strength: Strength::Strong }],
            birth_dates: vec![],
            countries: vec![],
            addresses: vec![],
            identifiers: vec![],
            programs: vec![],
            remarks: None,
        };
        read_remarks(&mut e, "DOB 12 Jan 1970; alt. DOB circa 1972; nationality Iran; Passport A123456 (Iran); alt. National ID No. 9988-77; a.k.a. 'JD'.");
        assert_eq!(
            e.birth_dates,
            vec![
                BirthDate::exact(1970, Some(1), Some(12)),
                BirthDate { year_from: 1971, year_to: 1973, month: None, day: None }
            ]
        );
        assert_eq!(e.countries, vec!["Iran".to_string()]);
        assert_eq!(e.identifiers.len(), 2);
        assert_eq!(
            e.identifiers[0],
            Identifier { kind: "Passport".into(), number: "A123456".into(), country: Some("Iran".into()) }
        );
        assert_eq!(e.names[1], ListedName { name: "JD".into(), strength: Strength::Weak });
    }

    #[test]
    fn bad_rows_are_refused_with_their_line() {
        let files = Files {
            sdn:
                b"1,\"A\",-0-,\"X\",-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-\nx,\"B\",-0-,\"X\",-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-",
            ..Files::default()
        };
        let e = parse(&files).err();
        assert_eq!(e.map(|e| (e.file, e.line)), Some(("sdn.csv".to_string(), 2)));
        let files = Files { sdn: b"1,\"A\",\"robot\",\"X\",-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-", ..Files::default() };
        assert!(parse(&files).is_err());
    }
}
