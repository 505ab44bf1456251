//! ISO 20022 camt.053 (statement), camt.054 (debit/credit notification) and camt.052 (account
//! report), any version of the `001` series: the message type and version come from the
//! document's namespace, and the elements read are those every version shares (`Sts` as text
//! up to .05 and as `Sts/Cd` from .06 on, parties as `Dbtr/Nm` or `Dbtr/Pty/Nm`).
//!
//! Streaming: each `Ntry` is built as a small tree, turned into a [`Line`] and dropped, so
//! memory grows with the lines kept, not with the XML.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use rialto_core::Currency;

use crate::date::Date;
use crate::error::{LineCounter, ParseError};
use crate::statement::{self, Balance, Format, Line, LineStatus, Statement, LINES_MAX};

/// Deepest element nesting accepted (the schemas nest about 12 deep).
const DEPTH_MAX: usize = 64;
const NS_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:";

#[derive(Default, Debug)]
struct Node {
    name: String,
    ccy: Option<String>,
    text: String,
    children: Vec<Node>,
    line: usize,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn get(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, p| n.child(p))
    }

    fn text(&self, path: &[&str]) -> Option<&str> {
        self.get(path).map(|n| n.text.trim()).filter(|t| !t.is_empty())
    }
}

/// What the namespace says the document is.
fn message_type(ns: &str) -> Option<(Format, String)> {
    let rest = ns.strip_prefix(NS_PREFIX)?;
    let format = match rest.get(..8)? {
        "camt.053" => Format::Camt053,
        "camt.054" => Format::Camt054,
        "camt.052" => Format::Camt052,
        _ => return None,
    };
    let version = rest.get(8..)?;
    let ok = version.len() == 7 && version.starts_with(".001.") && version[5..].bytes().all(|b| b.is_ascii_digit());
    ok.then(|| (format, rest.to_string()))
}

/// The ISO 20022 namespace declared on the root (default or prefixed), else its default one.
fn root_namespace(s: &BytesStart) -> Option<String> {
    let mut default = None;
    for a in s.attributes().flatten() {
        let key = a.key.as_ref();
        let value = String::from_utf8_lossy(&a.value).into_owned();
        if (key == b"xmlns" || key.starts_with(b"xmlns:")) && value.starts_with(NS_PREFIX) {
            return Some(value);
        }
        if key == b"xmlns" {
            default = Some(value);
        }
    }
    default
}

fn local(s: &BytesStart) -> String {
    String::from_utf8_lossy(s.local_name().as_ref()).into_owned()
}

fn ccy_attr(s: &BytesStart) -> Option<String> {
    s.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == b"Ccy")
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

struct Parse<'a> {
    bytes: &'a [u8],
    format: &'static str,
    kind: Option<(Format, String)>,
    stack: Vec<Node>,
    lines: Vec<Line>,
    statements: Vec<Statement>,
}

impl Parse<'_> {
    fn path(&self) -> String {
        self.stack.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join("/")
    }

    fn err(&self, line: usize, message: impl Into<String>) -> ParseError {
        ParseError::new(self.format, line, message).at(self.path())
    }

    fn start(&mut self, s: &BytesStart, line: usize) -> Result<(), ParseError> {
        let name = local(s);
        if self.kind.is_none() {
            if name != "Document" {
                return Err(self
                    .err(line, format!("the root element is <{name}>, not an ISO 20022 <Document>"))
                    .at(name));
            }
            let ns = root_namespace(s).unwrap_or_default();
            let kind = message_type(&ns).ok_or_else(|| {
                ParseError::new(self.format, line, format!("namespace `{}` is not camt.052, camt.053 or camt.054 (urn:iso:std:iso:20022:tech:xsd:camt.05x.001.NN)", statement::clip(&ns, 80)))
                    .at("Document")
            })?;
            self.format = kind.0.as_str();
            self.kind = Some(kind);
        }
        if self.stack.len() >= DEPTH_MAX {
            return Err(self.err(line, format!("elements nest deeper than {DEPTH_MAX}")));
        }
        self.stack.push(Node { name, ccy: ccy_attr(s), line, ..Node::default() });
        Ok(())
    }

    fn end(&mut self) -> Result<(), ParseError> {
        let Some(node) = self.stack.pop() else { return Ok(()) };
        let parent = self.stack.last().map(|p| p.name.as_str());
        let in_statement = matches!(parent, Some("Stmt" | "Ntfctn" | "Rpt"));
        if node.name == "Ntry" && in_statement {
            if self.lines.len() == LINES_MAX {
                return Err(self.err(node.line, format!("more than {LINES_MAX} entries")));
            }
            let line = entry(&node)
                .map_err(|(l, m)| ParseError::new(self.format, l, m).at(format!("{}/Ntry", self.path())))?;
            self.lines.push(line);
        } else if matches!(node.name.as_str(), "Stmt" | "Ntfctn" | "Rpt") && self.stack.len() == 2 {
            let lines = std::mem::take(&mut self.lines);
            let kind = self.kind.clone().ok_or_else(|| self.err(node.line, "no document"))?;
            let s = header(&node, kind, lines)
                .map_err(|(l, m)| ParseError::new(self.format, l, m).at(format!("{}/{}", self.path(), node.name)))?;
            self.statements.push(s);
        } else if let Some(p) = self.stack.last_mut() {
            p.children.push(node);
        }
        Ok(())
    }
}

/// Parses a camt.052/053/054 document into its statements (one per `Stmt`, `Ntfctn` or `Rpt`),
/// or says which line and element are wrong.
pub fn parse(bytes: &[u8]) -> Result<Vec<Statement>, ParseError> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut counter = LineCounter::default();
    let mut p =
        Parse { bytes, format: "xml", kind: None, stack: Vec::new(), lines: Vec::new(), statements: Vec::new() };
    loop {
        let pos = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|e| {
            let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
            p.err(counter.at(p.bytes, at), format!("not well-formed XML: {e}"))
        })?;
        match event {
            Event::Start(s) => {
                let line = counter.at(p.bytes, pos);
                p.start(&s, line)?;
            }
            Event::Empty(s) => {
                let line = counter.at(p.bytes, pos);
                p.start(&s, line)?;
                p.end()?;
            }
            Event::Text(t) => {
                let line = counter.at(p.bytes, pos);
                let text = t.unescape().map_err(|e| p.err(line, format!("bad text: {e}")))?;
                if let Some(n) = p.stack.last_mut() {
                    n.text.push_str(&text);
                }
            }
            Event::CData(t) => {
                if let Some(n) = p.stack.last_mut() {
                    n.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::End(_) => p.end()?,
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = p.stack.last() {
        let line = counter.at(p.bytes, p.bytes.len());
        return Err(p.err(
            line,
            format!("the file ends inside <{}> opened on line {} (is it truncated?)", open.name, open.line),
        ));
    }
    if p.kind.is_none() {
        return Err(ParseError::new("xml", 1, "no XML document"));
    }
    Ok(p.statements)
}

type Bad = (usize, String);

fn bad(node: &Node, m: impl Into<String>) -> Bad {
    (node.line, m.into())
}

fn currency(node: &Node) -> Result<Currency, Bad> {
    let code = node.ccy.as_deref().ok_or_else(|| bad(node, format!("<{}> has no Ccy attribute", node.name)))?;
    Currency::parse(code).map_err(|e| bad(node, e.to_string()))
}

/// An `Amt` with its `CdtDbtInd` sibling, signed.
fn signed_amount(parent: &Node) -> Result<(i64, Currency), Bad> {
    let amt = parent.child("Amt").ok_or_else(|| bad(parent, format!("<{}> has no <Amt>", parent.name)))?;
    let ccy = currency(amt)?;
    let v = statement::parse_amount(&amt.text, ccy, '.').map_err(|m| bad(amt, m))?;
    let sign = match parent.text(&["CdtDbtInd"]) {
        Some("CRDT") => 1,
        Some("DBIT") => -1,
        Some(other) => {
            return Err(bad(parent, format!("CdtDbtInd is `{}`, not CRDT or DBIT", statement::clip(other, 20))))
        }
        None => return Err(bad(parent, format!("<{}> has no <CdtDbtInd>", parent.name))),
    };
    Ok((sign * v, ccy))
}

fn date_of(node: Option<&Node>) -> Result<Option<Date>, Bad> {
    let Some(n) = node else { return Ok(None) };
    let Some(t) = n.text(&["Dt"]).or_else(|| n.text(&["DtTm"])) else { return Ok(None) };
    Date::parse_iso(t).map(Some).ok_or_else(|| bad(n, format!("`{}` is not a date", statement::clip(t, 30))))
}

fn party(tx: &Node, role: &str) -> Option<String> {
    let p = tx.get(&["RltdPties", role])?;
    p.text(&["Nm"]).or_else(|| p.text(&["Pty", "Nm"])).and_then(statement::text)
}

fn party_account(tx: &Node, role: &str) -> Option<String> {
    let id = tx.get(&["RltdPties", role, "Id"])?;
    id.text(&["IBAN"]).or_else(|| id.text(&["Othr", "Id"])).and_then(statement::text)
}

fn remittance(tx: &Node) -> Option<String> {
    let r = tx.child("RmtInf")?;
    let lines: Vec<&str> = r.all("Ustrd").map(|u| u.text.trim()).filter(|t| !t.is_empty()).collect();
    if !lines.is_empty() {
        return statement::text(&lines.join(" "));
    }
    r.all("Strd").find_map(|s| s.text(&["CdtrRefInf", "Ref"])).and_then(statement::text)
}

fn bank_code(n: &Node) -> Option<String> {
    let b = n.child("BkTxCd")?;
    if let Some(d) = b.child("Domn") {
        let parts = [d.text(&["Cd"]), d.text(&["Fmly", "Cd"]), d.text(&["Fmly", "SubFmlyCd"])];
        let s: Vec<&str> = parts.into_iter().flatten().collect();
        if !s.is_empty() {
            return statement::text(&s.join("/"));
        }
    }
    b.text(&["Prtry", "Cd"]).and_then(statement::text)
}

fn reference(v: Option<&str>) -> Option<String> {
    v.filter(|r| !r.eq_ignore_ascii_case("NOTPROVIDED")).and_then(statement::text)
}

/// One `Ntry` as a line.
fn entry(n: &Node) -> Result<Line, Bad> {
    let (amount, ccy) = signed_amount(n)?;
    let mut line = Line::new(amount, ccy);
    let status = n.text(&["Sts"]).or_else(|| n.text(&["Sts", "Cd"])).or_else(|| n.text(&["Sts", "Prtry"]));
    line.status = match status {
        Some("BOOK") | None => LineStatus::Booked,
        Some("INFO") => LineStatus::Info,
        Some(_) => LineStatus::Pending,
    };
    line.reversal = matches!(n.text(&["RvslInd"]), Some("true" | "1"));
    line.booking_date = date_of(n.child("BookgDt"))?;
    line.value_date = date_of(n.child("ValDt"))?;
    line.servicer_ref = reference(n.text(&["AcctSvcrRef"]));
    line.bank_code = bank_code(n);
    let txs: Vec<&Node> = n.all("NtryDtls").flat_map(|d| d.all("TxDtls")).collect();
    let batch = n.all("NtryDtls").find_map(|d| d.child("Btch"));
    line.batch_count = batch.and_then(|b| b.text(&["NbOfTxs"])).and_then(|t| t.parse().ok());
    if txs.len() > 1 {
        line.batch_count = line.batch_count.or(u32::try_from(txs.len()).ok());
    }
    let e2e: Vec<Option<String>> = txs.iter().map(|t| reference(t.text(&["Refs", "EndToEndId"]))).collect();
    if let Some(first) = e2e.first() {
        if e2e.iter().all(|e| e == first) {
            line.end_to_end_id = first.clone();
        }
    }
    if let [tx] = txs.as_slice() {
        let refs = ["InstrId", "AcctOwnrTxId", "PmtInfId", "TxId"];
        line.customer_ref = refs.iter().find_map(|r| reference(tx.text(&["Refs", r])));
        if line.servicer_ref.is_none() {
            line.servicer_ref = reference(tx.text(&["Refs", "AcctSvcrRef"]));
        }
        line.remittance = remittance(tx);
        let (who, acct) = if amount >= 0 { ("Dbtr", "DbtrAcct") } else { ("Cdtr", "CdtrAcct") };
        line.counterparty = party(tx, who);
        line.counterparty_account = party_account(tx, acct);
    }
    if line.customer_ref.is_none() {
        line.customer_ref = batch.and_then(|b| reference(b.text(&["PmtInfId"])));
    }
    if line.remittance.is_none() {
        line.remittance = n.text(&["AddtlNtryInf"]).and_then(statement::text);
    }
    Ok(line)
}

fn balance(node: &Node) -> Result<Balance, Bad> {
    let (amount, currency) = signed_amount(node)?;
    let date = date_of(node.child("Dt"))?.ok_or_else(|| bad(node, "a balance without a date"))?;
    Ok(Balance { amount, currency, date })
}

/// A `Stmt`/`Ntfctn`/`Rpt` header with its lines.
fn header(n: &Node, kind: (Format, String), lines: Vec<Line>) -> Result<Statement, Bad> {
    let account = n
        .text(&["Acct", "Id", "IBAN"])
        .or_else(|| n.text(&["Acct", "Id", "Othr", "Id"]))
        .ok_or_else(|| bad(n, format!("<{}> names no account (Acct/Id/IBAN or Acct/Id/Othr/Id)", n.name)))?;
    let currency = match n.get(&["Acct", "Ccy"]) {
        Some(c) => Some(Currency::parse(c.text.trim()).map_err(|e| bad(c, e.to_string()))?),
        None => None,
    };
    let mut opening = None;
    let mut previous_closing = None;
    let mut closing = None;
    for b in n.all("Bal") {
        let code = b.text(&["Tp", "CdOrPrtry", "Cd"]).or_else(|| b.text(&["Tp", "CdOrPrtry", "Prtry"]));
        match code {
            Some("OPBD") => opening = Some(balance(b)?),
            Some("PRCD") => previous_closing = Some(balance(b)?),
            Some("CLBD") => closing = Some(balance(b)?),
            _ => {}
        }
    }
    let seq = |t: Option<&str>| -> Result<Option<u64>, Bad> {
        t.map(|t| {
            t.parse::<u64>().map_err(|_| bad(n, format!("sequence `{}` is not a number", statement::clip(t, 20))))
        })
        .transpose()
    };
    let date = |path: &[&str]| n.text(path).and_then(Date::parse_iso);
    Ok(Statement {
        format: kind.0,
        version: Some(kind.1),
        account: statement::clip(account, 64),
        currency,
        statement_id: n.text(&["Id"]).and_then(statement::text),
        sequence: seq(n.text(&["ElctrncSeqNb"]).or_else(|| n.text(&["LglSeqNb"])))?,
        page: None,
        created: n.text(&["CreDtTm"]).map(|t| statement::clip(t, 40)),
        from_date: date(&["FrToDt", "FrDtTm"]).or_else(|| date(&["FrToDt", "FrDt"])),
        to_date: date(&["FrToDt", "ToDtTm"]).or_else(|| date(&["FrToDt", "ToDt"])),
        opening: opening.or(previous_closing),
        closing,
        declared_count: n.text(&["TxsSummry", "TtlNtries", "NbOfNtries"]).and_then(|t| t.parse().ok()),
        lines,
    })
}
