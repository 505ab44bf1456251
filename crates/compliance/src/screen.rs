//! The screener: every name of every entry of the lists in force, prepared once and indexed
//! by blocking keys (each token, its consonant skeleton, its first three letters, and each
//! identifier), so a query scores only the names that share a key with it, never the whole
//! list. Secondary evidence (type, date of birth, country, identifiers) then raises or lowers
//! each candidate's score, and says so.

use std::collections::HashMap;

use serde::Serialize;

use crate::countries;
use crate::list::{BirthDate, EntityKind, Entry, Source, Strength};
use crate::matching::{compare, score, NameScore, Prepared};
use crate::normalize::{normalize, NameError};

/// Candidates scored in full per query, best blocking weight first.
pub const CANDIDATES_MAX: usize = 100;
/// Matches a query may ask for.
pub const LIMIT_MAX: usize = 50;
/// A weak alias's score is multiplied by this.
const WEAK_ALIAS_FACTOR: f64 = 0.9;

/// A list version in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInUse {
    /// The publisher.
    pub source: &'static str,
    /// The version number (1, 2, …).
    pub version: i64,
}

/// What to screen.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// The name.
    pub name: String,
    /// What the party is, when known.
    pub kind: Option<EntityKind>,
    /// Date of birth, when known.
    pub birth_date: Option<BirthDate>,
    /// Country (code or name), when known.
    pub country: Option<String>,
    /// Document numbers, when known.
    pub identifiers: Vec<String>,
}

/// What a piece of secondary evidence did to the score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// `type`, `date_of_birth`, `country`, `identifier`.
    pub field: &'static str,
    /// What was compared, in words.
    pub detail: String,
    /// Added to the score (negative lowers it).
    pub effect: f64,
}

/// Why a match scored as it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The name comparison.
    pub name: NameScore,
    /// The listed name is a weak alias (score × 0.9).
    pub weak_alias: bool,
    /// Secondary evidence, in order.
    pub evidence: Vec<Evidence>,
}

/// A list entry that matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    /// The list.
    pub source: &'static str,
    /// The list's id of the entry.
    pub entry_id: String,
    /// What changes when the entry does (a clearance holds until then).
    pub entry_digest: String,
    /// Individual, entity, vessel or aircraft.
    pub kind: EntityKind,
    /// The entry's primary name.
    pub primary_name: String,
    /// The name of the entry that matched best.
    pub matched_name: String,
    /// The programmes the entry is listed under.
    pub programs: Vec<String>,
    /// 0..1, evidence included.
    pub score: f64,
    /// Why.
    pub explanation: Explanation,
}

struct Name {
    entry: u32,
    index: u16,
    weak: bool,
    prepared: Prepared,
}

struct Listed {
    source: Source,
    entry: Entry,
    digest: String,
    countries: Vec<String>,
    identifiers: Vec<String>,
}

/// The lists in force, indexed.
pub struct Screener {
    entries: Vec<Listed>,
    names: Vec<Name>,
    postings: HashMap<String, Vec<u32>>,
    versions: Vec<VersionInUse>,
}

fn identifier_key(number: &str) -> String {
    number.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

fn keys(prepared: &Prepared) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for t in &prepared.tokens {
        if t.text.len() < 2 {
            continue;
        }
        let w = t.weight();
        out.push((format!("t:{}", t.text), w));
        if t.key.len() >= 2 {
            out.push((format!("k:{}", t.key), w * 0.8));
        }
        if t.text.len() >= 4 {
            out.push((format!("p:{}", &t.text[..3]), w * 0.5));
        }
    }
    out
}

impl Screener {
    /// Indexes the entries of the lists in force. Names that cannot be normalised (a script
    /// with no transliteration, such as a Chinese original-script name) are left out.
    pub fn new(lists: Vec<(Source, i64, Vec<Entry>)>) -> Screener {
        let mut s = Screener { entries: Vec::new(), names: Vec::new(), postings: HashMap::new(), versions: Vec::new() };
        for (source, version, entries) in lists {
            s.versions.push(VersionInUse { source: source.as_str(), version });
            for entry in entries {
                s.add(source, entry);
            }
        }
        for list in s.postings.values_mut() {
            list.dedup();
        }
        s
    }

    fn add(&mut self, source: Source, entry: Entry) {
        let e = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        for (index, n) in entry.names.iter().enumerate() {
            let Ok(normalized) = normalize(&n.name) else { continue };
            let prepared = Prepared::new(&normalized);
            let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
            for (key, _) in keys(&prepared) {
                self.postings.entry(key).or_default().push(id);
            }
            let index = u16::try_from(index).unwrap_or(u16::MAX);
            self.names.push(Name { entry: e, index, weak: n.strength == Strength::Weak, prepared });
        }
        let identifiers: Vec<String> =
            entry.identifiers.iter().map(|i| identifier_key(&i.number)).filter(|k| k.len() >= 4).collect();
        if let Some(first) = self.names.iter().rposition(|n| n.entry == e) {
            for k in &identifiers {
                self.postings.entry(format!("id:{k}")).or_default().push(u32::try_from(first).unwrap_or(u32::MAX));
            }
        }
        let countries = entry.countries.iter().map(|c| countries::key(c)).collect();
        self.entries.push(Listed { source, digest: entry.digest(), entry, countries, identifiers });
    }

    /// The list versions this screener holds.
    pub fn versions(&self) -> &[VersionInUse] {
        &self.versions
    }

    /// Entries and names indexed.
    pub fn size(&self) -> (usize, usize) {
        (self.entries.len(), self.names.len())
    }

    /// An entry by list and id.
    pub fn entry(&self, source: &str, id: &str) -> Option<(&Entry, &str)> {
        self.entries
            .iter()
            .find(|l| l.source.as_str() == source && l.entry.id == id)
            .map(|l| (&l.entry, l.digest.as_str()))
    }

    /// The entries matching the query at `min_score` or above, best first, at most `limit`.
    pub fn screen(&self, q: &Query, min_score: f64, limit: usize) -> Result<Vec<Match>, NameError> {
        let query = Prepared::new(&normalize(&q.name)?);
        // Candidates: names sharing a key with the query, weighted by how rare the key is.
        let mut weight = vec![0f32; self.names.len()];
        let mut touched: Vec<u32> = Vec::with_capacity(512);
        let total = self.names.len().max(1) as f64;
        let mut add = |n: u32, w: f64| {
            let slot = &mut weight[n as usize];
            if *slot == 0.0 {
                touched.push(n);
            }
            *slot += w as f32;
        };
        for (key, w) in keys(&query) {
            if let Some(list) = self.postings.get(&key) {
                let idf = (total / list.len() as f64).ln().max(0.1);
                for &n in list {
                    add(n, w * idf);
                }
            }
        }
        let ids: Vec<String> = q.identifiers.iter().map(|i| identifier_key(i)).filter(|k| k.len() >= 4).collect();
        for k in &ids {
            for &n in self.postings.get(&format!("id:{k}")).into_iter().flatten() {
                add(n, 1000.0);
            }
        }
        let mut candidates: Vec<(u32, f32)> = touched.iter().map(|&n| (n, weight[n as usize])).collect();
        if candidates.len() > CANDIDATES_MAX {
            candidates.select_nth_unstable_by(CANDIDATES_MAX, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            candidates.truncate(CANDIDATES_MAX);
        }
        // Each entry's best name, scored without explanations; the kept ones are explained.
        let mut best: HashMap<u32, (f64, u32)> = HashMap::with_capacity(candidates.len());
        for (n, _) in candidates {
            let name = &self.names[n as usize];
            let s = score(&query, &name.prepared);
            let s = if name.weak { s * WEAK_ALIAS_FACTOR } else { s };
            let slot = best.entry(name.entry).or_insert((-1.0, n));
            if s > slot.0 || (s == slot.0 && n < slot.1) {
                *slot = (s, n);
            }
        }
        // Evidence moves a score by at most +0.08 (and an identifier to 0.95): names further
        // below the floor cannot reach it.
        let floor = (min_score - 0.08).min(0.95);
        let mut matches: Vec<Match> = best
            .into_values()
            .filter(|(s, n)| {
                *s >= floor
                    || self.entries[self.names[*n as usize].entry as usize].identifiers.iter().any(|i| ids.contains(i))
            })
            .map(|(s, n)| self.explain(q, &ids, s, n, compare(&query, &self.names[n as usize].prepared)))
            .filter(|m| m.score >= min_score)
            .collect();
        matches.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.entry_id.cmp(&b.entry_id)));
        matches.truncate(limit.min(LIMIT_MAX));
        Ok(matches)
    }

    fn explain(&self, q: &Query, ids: &[String], name_score: f64, n: u32, s: NameScore) -> Match {
        let name = &self.names[n as usize];
        let listed = &self.entries[name.entry as usize];
        let e = &listed.entry;
        let mut evidence = Vec::new();
        if let Some(kind) = q.kind {
            if kind != e.kind {
                evidence.push(Evidence {
                    field: "type",
                    detail: format!("{} screened, {} listed", kind.as_str(), e.kind.as_str()),
                    effect: -0.15,
                });
            }
        }
        if let Some(d) = &q.birth_date {
            if let Some(ev) = birth_evidence(d, &e.birth_dates) {
                evidence.push(ev);
            }
        }
        if let Some(c) = &q.country {
            let key = countries::key(c);
            if listed.countries.contains(&key) {
                evidence.push(Evidence {
                    field: "country",
                    detail: format!("{c} is among the listed countries"),
                    effect: 0.03,
                });
            } else if !listed.countries.is_empty() {
                evidence.push(Evidence {
                    field: "country",
                    detail: format!("{c} is not among {}", e.countries.join(", ")),
                    effect: -0.05,
                });
            }
        }
        let mut score = name_score + evidence.iter().map(|v| v.effect).sum::<f64>();
        if let Some(id) = ids.iter().find(|id| listed.identifiers.contains(id)) {
            let effect = (0.95 - score).max(0.0);
            evidence.push(Evidence {
                field: "identifier",
                detail: format!("document {id} is listed for this entry"),
                effect,
            });
            score += effect;
        }
        Match {
            source: listed.source.as_str(),
            entry_id: e.id.clone(),
            entry_digest: listed.digest.clone(),
            kind: e.kind,
            primary_name: e.primary_name().to_string(),
            matched_name: e.names.get(usize::from(name.index)).map_or_else(String::new, |n| n.name.clone()),
            programs: e.programs.clone(),
            score: (score.clamp(0.0, 1.0) * 10_000.0).round() / 10_000.0,
            explanation: Explanation { name: s, weak_alias: name.weak, evidence },
        }
    }
}

fn birth_evidence(d: &BirthDate, listed: &[BirthDate]) -> Option<Evidence> {
    if listed.is_empty() {
        return None;
    }
    let exact = listed.iter().any(|l| {
        l.year_from == d.year_from
            && l.year_to == d.year_from
            && l.month.is_some()
            && l.month == d.month
            && l.day == d.day
    });
    if exact {
        return Some(Evidence {
            field: "date_of_birth",
            detail: "the same date of birth is listed".into(),
            effect: 0.05,
        });
    }
    if listed.iter().any(|l| (l.year_from..=l.year_to).contains(&d.year_from)) {
        return Some(Evidence {
            field: "date_of_birth",
            detail: format!("born in {}, within a listed year", d.year_from),
            effect: 0.02,
        });
    }
    if listed.iter().any(|l| (l.year_from - 1..=l.year_to + 1).contains(&d.year_from)) {
        return None;
    }
    let years: Vec<String> =
        listed
            .iter()
            .map(|l| {
                if l.year_from == l.year_to {
                    l.year_from.to_string()
                } else {
                    format!("{}-{}", l.year_from, l.year_to)
                }
            })
            .collect();
    Some(Evidence {
        field: "date_of_birth",
        detail: format!("born in {}, listed {}", d.year_from, years.join(", ")),
        effect: -0.15,
    })
}
