//! Rialto's reconciliation domain, pure: bank statements read from their own formats
//! ([`camt`] ISO 20022 camt.052/053/054 of any version, [`mt940`] SWIFT MT940, [`delimited`]
//! CSV with a saved [`delimited::Mapping`]) into one [`Statement`] model that checks its own
//! balances, and the matching of statement lines to ledger entries ([`matching`]): rules as data
//! in priority order, tolerances, group matches, duplicates, and what auto-resolution books.
//!
//! No I/O (parsers take bytes), no clock, no database: the store keeps statements, lines,
//! matches and runs; the API and the CLI hand files in.

pub mod camt;
pub mod date;
pub mod delimited;
mod error;
pub mod matching;
pub mod mt940;
pub mod statement;

#[cfg(test)]
mod tests;

pub use date::Date;
pub use delimited::Mapping;
pub use error::ParseError;
pub use statement::{Balance, Check, Format, Line, LineStatus, Sequence, Statement};

/// How to read a file: XML is camt, SWIFT text is MT940, and CSV needs its mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// Look at the content: camt (XML) or MT940.
    Detect,
    /// CSV with this mapping, for this bank account.
    Csv(&'a Mapping, &'a str),
}

/// Parses a statement file into its statements (a file may hold several), or says which line
/// (and element) is wrong.
pub fn parse(bytes: &[u8], input: Input<'_>) -> Result<Vec<Statement>, ParseError> {
    match input {
        Input::Csv(mapping, account) => delimited::parse(bytes, mapping, account).map(|s| vec![s]),
        Input::Detect => {
            let start = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
            let first = start.iter().find(|b| !b.is_ascii_whitespace());
            match first {
                Some(b'<') => camt::parse(bytes),
                Some(b'{' | b':') => mt940::parse(bytes),
                Some(_) if start.windows(4).take(4096).any(|w| w == b":20:") => mt940::parse(bytes),
                _ => Err(ParseError::new(
                    "statement",
                    1,
                    "neither camt XML nor MT940 text (a CSV statement needs a column mapping)",
                )),
            }
        }
    }
}
