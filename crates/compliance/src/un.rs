//! The UN Security Council consolidated list (XML): `INDIVIDUALS/INDIVIDUAL` and
//! `ENTITIES/ENTITY`, with aliases (quality `Good` or `Low`), addresses, dates of birth,
//! nationalities and documents.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::list::ENTRIES_MAX;
use crate::list::{BirthDate, EntityKind, Entry, Identifier, ListedName, ParseError, ParsedList, Source, Strength};

const FILE: &str = "consolidated.xml";

/// An element and what it holds.
#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of a child, if not empty.
    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.trim().to_string()).filter(|t| !t.is_empty())
    }
}

fn line_at(bytes: &[u8], pos: u64) -> usize {
    Lines::default().at(bytes, pos)
}

/// Line numbers of increasing positions, counted once (a position before the last restarts).
#[derive(Default)]
struct Lines {
    pos: usize,
    line: usize,
}

impl Lines {
    fn at(&mut self, bytes: &[u8], pos: u64) -> usize {
        let end = usize::try_from(pos).unwrap_or(usize::MAX).min(bytes.len());
        if end < self.pos {
            *self = Lines::default();
        }
        self.line += bytes[self.pos..end].iter().filter(|&&b| b == b'\n').count();
        self.pos = end;
        self.line + 1
    }
}

fn err(line: usize, message: String) -> ParseError {
    ParseError { file: FILE.to_string(), line, message }
}

/// Parses the consolidated list, or says which line is wrong (bad XML, a truncated file, an
/// entry without an id or a name).
pub fn parse(bytes: &[u8]) -> Result<ParsedList, ParseError> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<(Node, usize)> = Vec::new();
    let mut entries = Vec::new();
    let mut root = None;
    let mut lines = Lines::default();
    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| err(line_at(bytes, reader.error_position()), format!("not well-formed XML: {e}")))?;
        match event {
            Event::Start(s) => {
                let name = String::from_utf8_lossy(s.name().as_ref()).into_owned();
                if root.is_none() {
                    if name != "CONSOLIDATED_LIST" {
                        return Err(err(
                            line_at(bytes, pos),
                            format!("the root element is <{name}>, not <CONSOLIDATED_LIST>"),
                        ));
                    }
                    root = Some(name.clone());
                }
                stack.push((Node { name, ..Node::default() }, lines.at(bytes, pos)));
            }
            Event::Empty(s) => {
                let name = String::from_utf8_lossy(s.name().as_ref()).into_owned();
                if let Some((parent, _)) = stack.last_mut() {
                    parent.children.push(Node { name, ..Node::default() });
                }
            }
            Event::Text(t) => {
                if let Some((node, _)) = stack.last_mut() {
                    let text = t.unescape().map_err(|e| err(line_at(bytes, pos), format!("bad text: {e}")))?;
                    node.text.push_str(&text);
                }
            }
            Event::CData(t) => {
                if let Some((node, _)) = stack.last_mut() {
                    node.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::End(_) => {
                let Some((node, line)) = stack.pop() else { continue };
                if node.name == "INDIVIDUAL" || node.name == "ENTITY" {
                    if entries.len() == ENTRIES_MAX {
                        return Err(err(line, format!("more than {ENTRIES_MAX} entries")));
                    }
                    entries.push(entry(&node, line)?);
                } else if stack.len() > 1 {
                    if let Some((parent, _)) = stack.last_mut() {
                        parent.children.push(node);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    finish(bytes, &stack, root.is_some(), &entries)?;
    Ok(ParsedList { source: Source::Un, entries })
}

/// A whole document: every element closed, the root seen, each id once.
fn finish(bytes: &[u8], stack: &[(Node, usize)], rooted: bool, entries: &[Entry]) -> Result<(), ParseError> {
    if let Some((open, line)) = stack.last() {
        return Err(err(
            line_at(bytes, bytes.len() as u64),
            format!("the file ends inside <{}> opened on line {line} (is it truncated?)", open.name),
        ));
    }
    if !rooted {
        return Err(err(1, "no <CONSOLIDATED_LIST> element".into()));
    }
    let mut seen = std::collections::HashSet::new();
    for e in entries {
        if !seen.insert(e.id.clone()) {
            return Err(err(1, format!("entry {} appears twice", e.id)));
        }
    }
    Ok(())
}

fn entry(node: &Node, line: usize) -> Result<Entry, ParseError> {
    let id = node.text_of("DATAID").ok_or_else(|| err(line, format!("an <{}> without a <DATAID>", node.name)))?;
    let kind = if node.name == "INDIVIDUAL" { EntityKind::Individual } else { EntityKind::Entity };
    let name: Vec<String> =
        ["FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"].iter().filter_map(|n| node.text_of(n)).collect();
    if name.is_empty() {
        return Err(err(line, format!("entry {id} has no name")));
    }
    let mut names = vec![ListedName { name: name.join(" "), strength: Strength::Strong }];
    let alias_tag = if kind == EntityKind::Individual { "INDIVIDUAL_ALIAS" } else { "ENTITY_ALIAS" };
    for a in node.all(alias_tag) {
        let Some(alias) = a.text_of("ALIAS_NAME") else { continue };
        let weak = a.text_of("QUALITY").is_some_and(|q| q.eq_ignore_ascii_case("low"));
        if !names.iter().any(|n| n.name == alias) {
            names.push(ListedName { name: alias, strength: if weak { Strength::Weak } else { Strength::Strong } });
        }
    }
    if let Some(original) = node.text_of("NAME_ORIGINAL_SCRIPT") {
        names.push(ListedName { name: original, strength: Strength::Strong });
    }
    let mut countries: Vec<String> = Vec::new();
    let mut push = |c: Option<String>| {
        if let Some(c) = c {
            if !countries.contains(&c) {
                countries.push(c);
            }
        }
    };
    for n in node.all("NATIONALITY") {
        for v in n.all("VALUE") {
            push(Some(v.text.trim().to_string()).filter(|t| !t.is_empty()));
        }
    }
    let address_tag = if kind == EntityKind::Individual { "INDIVIDUAL_ADDRESS" } else { "ENTITY_ADDRESS" };
    let mut addresses = Vec::new();
    for a in node.all(address_tag) {
        push(a.text_of("COUNTRY"));
        let parts: Vec<String> =
            ["STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY"].iter().filter_map(|p| a.text_of(p)).collect();
        if !parts.is_empty() {
            addresses.push(parts.join(", "));
        }
    }
    let birth_dates = node.all("INDIVIDUAL_DATE_OF_BIRTH").filter_map(birth_date).collect();
    let identifiers = node
        .all("INDIVIDUAL_DOCUMENT")
        .filter_map(|d| {
            Some(Identifier {
                kind: d.text_of("TYPE_OF_DOCUMENT").unwrap_or_else(|| "Document".into()),
                number: d.text_of("NUMBER")?,
                country: d.text_of("ISSUING_COUNTRY").or_else(|| d.text_of("COUNTRY_OF_ISSUE")),
            })
        })
        .collect();
    let programs = node.text_of("UN_LIST_TYPE").into_iter().collect();
    let remarks = match (node.text_of("REFERENCE_NUMBER"), node.text_of("COMMENTS1")) {
        (Some(r), Some(c)) => Some(format!("{r}: {c}")),
        (r, c) => r.or(c),
    };
    Ok(Entry { id, kind, names, birth_dates, countries, addresses, identifiers, programs, remarks })
}

fn birth_date(d: &Node) -> Option<BirthDate> {
    let year = |n: &str| d.text_of(n).and_then(|y| y.parse::<i32>().ok());
    if let Some(date) = d.text_of("DATE") {
        return BirthDate::parse_iso(&date);
    }
    match (year("YEAR"), year("FROM_YEAR"), year("TO_YEAR")) {
        (Some(y), _, _) if d.text_of("TYPE_OF_DATE").as_deref() == Some("APPROXIMATELY") => {
            Some(BirthDate { year_from: y - 1, year_to: y + 1, month: None, day: None })
        }
        (Some(y), _, _) => Some(BirthDate::exact(y, None, None)),
        (None, Some(from), Some(to)) if from <= to => {
            Some(BirthDate { year_from: from, year_to: to, month: None, day: None })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"<?xml version="1.0"?><CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL>
<DATAID>42</DATAID><FIRST_NAME>ERIC</FIRST_NAME><SECOND_NAME>BADEGE</SECOND_NAME>
<UN_LIST_TYPE>DRC</UN_LIST_TYPE><REFERENCE_NUMBER>CDi.001</REFERENCE_NUMBER>
<NATIONALITY><VALUE>Democratic Republic of the Congo</VALUE></NATIONALITY>
<INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>E. B.</ALIAS_NAME></INDIVIDUAL_ALIAS>
<INDIVIDUAL_ADDRESS><COUNTRY>Rwanda</COUNTRY></INDIVIDUAL_ADDRESS>
<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><YEAR>1971</YEAR></INDIVIDUAL_DATE_OF_BIRTH>
<INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NUMBER>OB0123</NUMBER></INDIVIDUAL_DOCUMENT>
</INDIVIDUAL></INDIVIDUALS><ENTITIES/></CONSOLIDATED_LIST>"#;

    #[test]
    fn reads_an_individual() {
        let list = parse(ONE.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let e = &list.entries[0];
        assert_eq!((e.id.as_str(), e.kind, e.primary_name()), ("42", EntityKind::Individual, "ERIC BADEGE"));
        assert_eq!(e.names[1].strength, Strength::Weak);
        assert_eq!(e.countries, vec!["Democratic Republic of the Congo".to_string(), "Rwanda".to_string()]);
        assert_eq!(e.birth_dates, vec![BirthDate::exact(1971, None, None)]);
        assert_eq!(e.identifiers[0].number, "OB0123");
    }

    #[test]
    fn truncated_or_broken_files_name_their_line() {
        let cut = &ONE[..ONE.len() / 2];
        let e = parse(cut.as_bytes()).err().unwrap_or_else(|| panic!("a truncated file parsed"));
        assert!(e.message.contains("truncated") || e.message.contains("XML"), "{e}");
        let bad = ONE.replace("</SECOND_NAME>", "</SECOND>");
        let e = parse(bad.as_bytes()).err().unwrap_or_else(|| panic!("mismatched tags parsed"));
        assert_eq!(e.line, 2, "{e}");
        assert!(parse(b"<OTHER/>").is_err());
        let nameless = ONE.replace("<FIRST_NAME>ERIC</FIRST_NAME><SECOND_NAME>BADEGE</SECOND_NAME>", "");
        assert!(parse(nameless.as_bytes()).err().is_some_and(|e| e.message.contains("no name")));
    }
}
