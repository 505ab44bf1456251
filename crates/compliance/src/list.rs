//! The list model every source is read into: one [`Entry`] per listed party, whatever the
//! publisher's format. A new source (EU, UK HMT) is a new parser that yields entries.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

rialto_core::string_enum! {
    /// Who publishes a list.
    pub enum Source {
        /// US Treasury OFAC, Specially Designated Nationals (legacy CSV).
        Ofac = "ofac",
        /// UN Security Council consolidated list (XML).
        Un = "un",
    }
}

/// What a listed party is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// A person.
    Individual,
    /// A company, organisation, group.
    Entity,
    /// A ship.
    Vessel,
    /// An aircraft.
    Aircraft,
}

impl EntityKind {
    /// The stable text.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Individual => "individual",
            EntityKind::Entity => "entity",
            EntityKind::Vessel => "vessel",
            EntityKind::Aircraft => "aircraft",
        }
    }

    /// The kind whose text is `text`.
    pub fn parse(text: &str) -> Option<EntityKind> {
        [EntityKind::Individual, EntityKind::Entity, EntityKind::Vessel, EntityKind::Aircraft]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// How much an alias says: a weak alias (OFAC "weak a.k.a.", UN "Low quality") matches with
/// less weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// The primary name or a good alias.
    Strong,
    /// A weak or low-quality alias.
    Weak,
}

/// One of a party's names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedName {
    /// As published.
    pub name: String,
    /// `strong` for the primary name and good aliases.
    pub strength: Strength,
}

/// A date of birth (or registration) as published: an exact day, a month, a year, or a range
/// of years (`circa`, `between`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BirthDate {
    /// First year the date may be in.
    pub year_from: i32,
    /// Last year (same as `year_from` for an exact date or year).
    pub year_to: i32,
    /// Month (1..=12), when published.
    pub month: Option<u8>,
    /// Day (1..=31), when published.
    pub day: Option<u8>,
}

impl BirthDate {
    /// A single year, month and day.
    pub fn exact(year: i32, month: Option<u8>, day: Option<u8>) -> BirthDate {
        BirthDate { year_from: year, year_to: year, month, day }
    }

    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub fn parse_iso(text: &str) -> Option<BirthDate> {
        let mut parts = text.trim().splitn(3, '-');
        let year: i32 = parts.next()?.parse().ok().filter(|y| (1800..=2200).contains(y))?;
        let month: Option<u8> = match parts.next() {
            Some(m) => Some(m.parse().ok().filter(|m| (1..=12).contains(m))?),
            None => None,
        };
        let day: Option<u8> = match parts.next() {
            Some(d) => Some(d.get(..2).unwrap_or(d).parse().ok().filter(|d| (1..=31).contains(d))?),
            None => None,
        };
        Some(BirthDate::exact(year, month, day))
    }
}

/// An identity document or registration number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    /// e.g. `Passport`, `National ID No.`, `IMO`.
    pub kind: String,
    /// The number as published.
    pub number: String,
    /// Issuing country, when published.
    pub country: Option<String>,
}

/// A listed party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The publisher's id (OFAC `ent_num`, UN `DATAID`).
    pub id: String,
    /// Individual, entity, vessel or aircraft.
    pub kind: EntityKind,
    /// The primary name first, then the aliases.
    pub names: Vec<ListedName>,
    /// Dates of birth (or of registration).
    pub birth_dates: Vec<BirthDate>,
    /// Countries named: nationality, citizenship, addresses, flag (as published).
    pub countries: Vec<String>,
    /// Addresses, one line each.
    pub addresses: Vec<String>,
    /// Passports, national ids, registration numbers, IMO numbers.
    pub identifiers: Vec<Identifier>,
    /// Sanctions programmes (`SDGT`, `CUBA`, UN `Al-Qaida`).
    pub programs: Vec<String>,
    /// Remarks as published.
    pub remarks: Option<String>,
}

impl Entry {
    /// The primary name.
    pub fn primary_name(&self) -> &str {
        self.names.first().map_or("", |n| n.name.as_str())
    }

    /// A digest of everything published about the entry: a clearance holds until it changes.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(&Sha256::digest(&json)[..16])
    }
}

/// A parsed list, ready to become a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedList {
    /// The publisher.
    pub source: Source,
    /// Its entries, in the publisher's order, ids unique.
    pub entries: Vec<Entry>,
}

/// How a new list differs from the one in force.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// Entries in the new list only.
    pub added: usize,
    /// Entries in both whose digest differs.
    pub changed: usize,
    /// Entries in the old list only.
    pub removed: usize,
}

/// The changes from `old` (id → digest) to `new`.
pub fn diff(old: &HashMap<String, String>, new: &[Entry]) -> Changes {
    let mut c = Changes::default();
    let mut seen = 0;
    for e in new {
        match old.get(&e.id) {
            None => c.added += 1,
            Some(d) => {
                seen += 1;
                if *d != e.digest() {
                    c.changed += 1;
                }
            }
        }
    }
    c.removed = old.len() - seen;
    c
}

/// Why a list file was refused: where, and what is wrong. Nothing of it is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: line {line}: {message}")]
pub struct ParseError {
    /// The file (`sdn.csv`, `consolidated.xml`).
    pub file: String,
    /// 1-based line of the problem.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Entries a list may hold at most: the OFAC SDN list has about 18,000, the UN list about
/// 1,000; a file with more is not a sanctions list.
pub const ENTRIES_MAX: usize = 100_000;
