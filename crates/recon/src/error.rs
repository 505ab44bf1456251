//! Why a statement file was refused: its format, the line (and for XML the element) and what is
//! wrong, so an operator can open the file at the right place.

use std::fmt;

/// A statement file that cannot be read.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ParseError {
    /// `camt.053`, `mt940`, `csv`, or `xml` before the message type is known.
    pub format: &'static str,
    /// 1-based line of the file.
    pub line: usize,
    /// For XML: the element's path (`Stmt/Ntry/Amt`).
    pub element: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(format: &'static str, line: usize, message: impl Into<String>) -> ParseError {
        ParseError { format, line, element: None, message: message.into() }
    }

    pub(crate) fn at(mut self, element: impl Into<String>) -> ParseError {
        self.element = Some(element.into());
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.element {
            Some(e) => write!(f, "{}: line {}, element {e}: {}", self.format, self.line, self.message),
            None => write!(f, "{}: line {}: {}", self.format, self.line, self.message),
        }
    }
}

impl std::error::Error for ParseError {}

/// Counts lines as a parser moves forward through a file (each byte is looked at once).
#[derive(Default)]
pub(crate) struct LineCounter {
    pos: usize,
    line: usize,
}

impl LineCounter {
    /// The 1-based line of byte `pos` (positions must not go backwards, else it recounts).
    pub(crate) fn at(&mut self, bytes: &[u8], pos: usize) -> usize {
        let pos = pos.min(bytes.len());
        if pos < self.pos {
            self.pos = 0;
            self.line = 0;
        }
        self.line += bytes[self.pos..pos].iter().filter(|&&b| b == b'\n').count();
        self.pos = pos;
        self.line + 1
    }
}
