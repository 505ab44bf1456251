//! Matching statement lines (external) to ledger entries (internal): rules as data, tried in
//! priority order, each line and entry taken at most once. Deterministic: the inputs are sorted
//! (lines by date then id, entries by date then sequence), every tie is broken by that order,
//! and each match says which rule made it, how sure it is and why.
//!
//! Amounts on both sides are signed from the bank's view: money into the bank account is
//! positive. The caller turns ledger entries of the mirror account into that view.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use crate::date::Date;

/// Most items one group match may take.
pub const GROUP_ITEMS_MAX: usize = 1_000;
/// Most rules in a rule set.
pub const RULES_MAX: usize = 20;

/// A statement line, as the matcher sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct External {
    /// The stored line's id.
    pub id: String,
    /// Signed minor units (credit to the bank account positive).
    pub amount: i64,
    /// Booking date (else value date).
    pub date: Date,
    /// End-to-end id, customer and bank references, ids found in the remittance text; in
    /// order of trust, upper-cased.
    pub refs: Vec<String>,
    /// Remittance information and counterparty, for fuzzy comparison.
    pub text: String,
    /// Bank transaction code.
    pub bank_code: Option<String>,
}

/// A ledger entry on the mirror account, as the matcher sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Internal {
    /// The entry's sequence number.
    pub seq: i64,
    /// Signed minor units from the bank's view.
    pub amount: i64,
    /// The day it was posted.
    pub date: Date,
    /// Transfer id, payment id, references, journal entry and settlement ids; upper-cased.
    pub refs: Vec<String>,
    /// Description, for fuzzy comparison.
    pub text: String,
    /// A batch it belongs to (a settlement, a journal entry), for group matches.
    pub group: Option<String>,
}

/// One matching rule.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// A line reference equal to an entry reference; amounts compared (a difference is an
    /// `amount_mismatch` with it); a reference naming several entries matches their sum.
    Reference {},
    /// The same amount (or within `amount_tolerance`, as a mismatch) within `window_days`,
    /// with the texts at least `min_similarity` alike (0 to 1; 0 ignores the text).
    AmountDate {
        /// Days apart at most.
        #[serde(default = "three")]
        window_days: u16,
        /// Word overlap of the texts (Jaccard) required.
        #[serde(default)]
        min_similarity: f64,
        /// Minor units a line may differ from the entry and still pair (as a mismatch).
        #[serde(default)]
        amount_tolerance: i64,
    },
    /// One line to the entries of one batch (a settlement, one journal entry, one day's
    /// same-direction entries) whose sum it equals; and many lines of one day to one entry.
    Group {
        /// Days apart at most.
        #[serde(default = "three")]
        window_days: u16,
    },
    /// An unmatched line that is a bank charge (its bank code holds one of `codes`, or its
    /// text one of `texts`): booked to the fees account by the resolution.
    BankFee {
        /// Bank transaction code parts (`CHRG`, `NCHG`, `FEES`).
        #[serde(default = "fee_codes")]
        codes: Vec<String>,
        /// Words in the text (case-insensitive).
        #[serde(default = "fee_texts")]
        texts: Vec<String>,
    },
}

fn three() -> u16 {
    3
}
fn fee_codes() -> Vec<String> {
    ["CHRG", "NCHG", "FCHG", "NCOM", "FEES", "COMM"].map(String::from).to_vec()
}
fn fee_texts() -> Vec<String> {
    ["bank fee", "account fee", "service charge", "kontofuehrung", "gebuehr"].map(String::from).to_vec()
}

impl Rule {
    /// Stored and sent name.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Reference {} => "reference",
            Rule::AmountDate { .. } => "amount_date",
            Rule::Group { .. } => "group",
            Rule::BankFee { .. } => "bank_fee",
        }
    }

    fn check(&self) -> Result<(), String> {
        match self {
            Rule::AmountDate { window_days, min_similarity, amount_tolerance } => {
                if *window_days > 31 {
                    return Err("amount_date.window_days must be 0..=31".into());
                }
                if !(0.0..=1.0).contains(min_similarity) {
                    return Err("amount_date.min_similarity must be 0..=1".into());
                }
                if !(0..=1_000_000).contains(amount_tolerance) {
                    return Err("amount_date.amount_tolerance must be 0..=1000000 minor units".into());
                }
            }
            Rule::Group { window_days } if *window_days > 31 => return Err("group.window_days must be 0..=31".into()),
            Rule::BankFee { codes, texts } if codes.len() + texts.len() > 100 => {
                return Err("bank_fee takes at most 100 codes and texts".into())
            }
            _ => {}
        }
        Ok(())
    }
}

/// The default rules: reference, then amount and date within 3 days, then groups, then fees.
pub fn default_rules() -> Vec<Rule> {
    vec![
        Rule::Reference {},
        Rule::AmountDate { window_days: 3, min_similarity: 0.0, amount_tolerance: 0 },
        Rule::Group { window_days: 3 },
        Rule::BankFee { codes: fee_codes(), texts: fee_texts() },
    ]
}

/// Parses a JSON list of rules (in priority order), refusing unknown kinds and keys.
pub fn parse_rules(json: &serde_json::Value) -> Result<Vec<Rule>, String> {
    let rules: Vec<Rule> = serde_json::from_value(json.clone()).map_err(|e| format!("rules: {e}"))?;
    if rules.is_empty() || rules.len() > RULES_MAX {
        return Err(format!("rules: give 1 to {RULES_MAX} rules"));
    }
    for r in &rules {
        r.check().map_err(|e| format!("rules: {e}"))?;
    }
    Ok(rules)
}

/// What a match found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The amounts agree.
    Matched,
    /// Paired, but the amounts differ (by `difference`).
    AmountMismatch,
    /// The line repeats a line already matched.
    Duplicate,
    /// A bank charge with no entry: to be booked.
    BankFee,
}

impl Outcome {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Matched => "matched",
            Outcome::AmountMismatch => "amount_mismatch",
            Outcome::Duplicate => "duplicate",
            Outcome::BankFee => "bank_fee",
        }
    }
}

/// A match the rules propose: indexes into the inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    /// The rule that made it.
    pub rule: &'static str,
    /// What it found.
    pub outcome: Outcome,
    /// 0..=100.
    pub confidence: u8,
    /// Lines (indexes into the lines given).
    pub lines: Vec<usize>,
    /// Entries (indexes into the entries given).
    pub entries: Vec<usize>,
    /// Lines' sum minus entries' sum.
    pub difference: i64,
    /// Why, in words.
    pub reason: String,
}

/// Upper-cased words of two or more letters or digits.
pub fn words(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 2).map(str::to_uppercase).collect()
}

/// Word overlap (Jaccard) of two texts, 0 to 1; two empty texts are 0.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (words(a), words(b));
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

/// Tokens of a remittance text that may be references: eight or more characters of letters,
/// digits, `_` or `-`, holding a digit; upper-cased.
pub fn reference_tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .filter(|t| t.len() >= 8 && t.bytes().any(|b| b.is_ascii_digit()))
        .map(str::to_ascii_uppercase)
}

/// What makes two lines the same line: amount, day, references, text.
type LineKey<'a> = (i64, Date, &'a [String], &'a str);

fn key(l: &External) -> LineKey<'_> {
    (l.amount, l.date, &l.refs, &l.text)
}

struct Matcher<'a> {
    lines: &'a [External],
    entries: &'a [Internal],
    line_used: Vec<bool>,
    entry_used: Vec<bool>,
    out: Vec<Proposal>,
    /// Lines matched (before, and by the proposals up to `seen_upto`), by key.
    seen: HashMap<LineKey<'a>, &'a str>,
    seen_upto: usize,
}

/// Proposes matches for `lines` against `entries` with `rules` in order. `matched_before` are
/// lines already matched (earlier runs), against which a repeated line is a duplicate.
pub fn propose<'a>(
    lines: &'a [External],
    entries: &'a [Internal],
    rules: &[Rule],
    matched_before: &'a [External],
) -> Vec<Proposal> {
    let mut m = Matcher {
        lines,
        entries,
        line_used: vec![false; lines.len()],
        entry_used: vec![false; entries.len()],
        out: Vec::new(),
        seen: matched_before.iter().map(|l| (key(l), l.id.as_str())).collect(),
        seen_upto: 0,
    };
    for rule in rules {
        match rule {
            Rule::Reference {} => m.by_reference(),
            Rule::AmountDate { window_days, min_similarity, amount_tolerance } => {
                m.by_amount_date(i32::from(*window_days), *min_similarity, *amount_tolerance)
            }
            Rule::Group { window_days } => {
                m.one_line_many_entries(i32::from(*window_days));
                m.many_lines_one_entry(i32::from(*window_days));
            }
            Rule::BankFee { codes, texts } => m.bank_fees(codes, texts),
        }
        m.duplicates(true);
    }
    m.duplicates(false);
    m.out
}

impl Matcher<'_> {
    fn take(&mut self, rule: &'static str, confidence: u8, lines: Vec<usize>, entries: Vec<usize>, reason: String) {
        let ls = lines.iter().fold(0i64, |a, &i| a.saturating_add(self.lines[i].amount));
        let es = entries.iter().fold(0i64, |a, &i| a.saturating_add(self.entries[i].amount));
        for &i in &lines {
            self.line_used[i] = true;
        }
        for &i in &entries {
            self.entry_used[i] = true;
        }
        let outcome = if ls == es { Outcome::Matched } else { Outcome::AmountMismatch };
        self.out.push(Proposal {
            rule,
            outcome,
            confidence,
            lines,
            entries,
            difference: ls.saturating_sub(es),
            reason,
        });
    }

    fn by_reference(&mut self) {
        let mut index: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            if !self.entry_used[i] {
                for r in &e.refs {
                    index.entry(r.as_str()).or_default().push(i);
                }
            }
        }
        for li in 0..self.lines.len() {
            if self.line_used[li] {
                continue;
            }
            let line = &self.lines[li];
            let mut chosen: Option<(Vec<usize>, String)> = None;
            for r in &line.refs {
                let Some(cands) = index.get(r.as_str()) else { continue };
                let free: Vec<usize> = cands.iter().copied().filter(|&i| !self.entry_used[i]).collect();
                let free: Vec<usize> = {
                    let mut seen = HashSet::new();
                    free.into_iter().filter(|i| seen.insert(*i)).collect()
                };
                match free.as_slice() {
                    [] => continue,
                    [one] if self.entries[*one].amount.signum() == line.amount.signum() => {
                        chosen = Some((vec![*one], format!("reference {r}")));
                    }
                    [_] => continue,
                    many => {
                        let sum = many.iter().try_fold(0i64, |a, &i| a.checked_add(self.entries[i].amount));
                        if let Some(&exact) = many.iter().find(|&&i| self.entries[i].amount == line.amount) {
                            chosen = Some((vec![exact], format!("reference {r} (one of {} entries)", many.len())));
                        } else if sum == Some(line.amount) && many.len() <= GROUP_ITEMS_MAX {
                            chosen = Some((
                                many.to_vec(),
                                format!("reference {r} names {} entries summing to the line", many.len()),
                            ));
                        } else {
                            continue;
                        }
                    }
                }
                break;
            }
            if let Some((entries, reason)) = chosen {
                let confidence = if entries.len() == 1 { 100 } else { 95 };
                self.take("reference", confidence, vec![li], entries, reason);
            }
        }
    }

    fn by_amount_date(&mut self, window: i32, min_similarity: f64, tolerance: i64) {
        let mut by_amount: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            if !self.entry_used[i] {
                by_amount.entry(e.amount).or_default().push(i);
            }
        }
        for li in 0..self.lines.len() {
            if self.line_used[li] {
                continue;
            }
            let line = &self.lines[li];
            let pick = |m: &Matcher<'_>, lo: i64, hi: i64| -> Option<(usize, i32, f64, usize)> {
                let mut best: Option<(usize, i32, f64)> = None;
                let mut count = 0;
                for (_, idxs) in by_amount.range(lo..=hi) {
                    for &i in idxs {
                        let e = &m.entries[i];
                        let days = (e.date.days() - line.date.days()).abs();
                        if m.entry_used[i] || days > window || e.amount.signum() != line.amount.signum() {
                            continue;
                        }
                        let sim = if min_similarity > 0.0 { similarity(&line.text, &e.text) } else { 0.0 };
                        if sim < min_similarity {
                            continue;
                        }
                        count += 1;
                        let key = (days, -(sim * 1000.0) as i64, (e.amount - line.amount).abs(), e.seq);
                        let better = best.is_none_or(|(b, bd, bs)| {
                            let be = &m.entries[b];
                            key < (bd, -(bs * 1000.0) as i64, (be.amount - line.amount).abs(), be.seq)
                        });
                        if better {
                            best = Some((i, days, sim));
                        }
                    }
                }
                best.map(|(i, d, s)| (i, d, s, count))
            };
            let found = pick(self, line.amount, line.amount).or_else(|| {
                if tolerance > 0 {
                    pick(self, line.amount - tolerance, line.amount + tolerance)
                } else {
                    None
                }
            });
            if let Some((ei, days, sim, count)) = found {
                let mut confidence = 90 - (days * 10).min(40) as u8;
                if count > 1 {
                    confidence = confidence.saturating_sub(20);
                }
                if sim > 0.0 {
                    confidence = confidence.saturating_add((sim * 10.0) as u8).min(99);
                }
                let reason = format!(
                    "amount {} within {days} day(s){}{}",
                    self.entries[ei].amount,
                    if min_similarity > 0.0 { format!(", text {:.0}% alike", sim * 100.0) } else { String::new() },
                    if count > 1 { format!(", best of {count} candidates") } else { String::new() }
                );
                self.take("amount_date", confidence, vec![li], vec![ei], reason);
            }
        }
    }

    /// Groups of free entries: by batch, and by day and direction.
    fn entry_groups(&self) -> Vec<(String, Vec<usize>)> {
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            if self.entry_used[i] {
                continue;
            }
            if let Some(g) = &e.group {
                groups.entry(format!("batch {g}")).or_default().push(i);
            }
            let dir = if e.amount >= 0 { "in" } else { "out" };
            groups.entry(format!("day {} {dir}", e.date)).or_default().push(i);
        }
        groups.into_iter().filter(|(_, v)| v.len() >= 2 && v.len() <= GROUP_ITEMS_MAX).collect()
    }

    fn one_line_many_entries(&mut self, window: i32) {
        let groups = self.entry_groups();
        let mut by_sum: HashMap<i64, Vec<usize>> = HashMap::new();
        for (gi, (_, items)) in groups.iter().enumerate() {
            let sum = items.iter().try_fold(0i64, |s, &i| s.checked_add(self.entries[i].amount));
            if let Some(s) = sum {
                by_sum.entry(s).or_default().push(gi);
            }
        }
        for li in 0..self.lines.len() {
            if self.line_used[li] {
                continue;
            }
            let line = &self.lines[li];
            let Some(cands) = by_sum.get(&line.amount) else { continue };
            let fits = cands.iter().copied().find(|&gi| {
                let items = &groups[gi].1;
                items
                    .iter()
                    .all(|&i| !self.entry_used[i] && (self.entries[i].date.days() - line.date.days()).abs() <= window)
            });
            if let Some(gi) = fits {
                let (name, items) = groups[gi].clone();
                let reason = format!("{} entries of {name} sum to the line", items.len());
                self.take("group", 85, vec![li], items, reason);
            }
        }
    }

    fn many_lines_one_entry(&mut self, window: i32) {
        let mut groups: BTreeMap<(Date, bool), Vec<usize>> = BTreeMap::new();
        for (i, l) in self.lines.iter().enumerate() {
            if !self.line_used[i] {
                groups.entry((l.date, l.amount >= 0)).or_default().push(i);
            }
        }
        let mut by_amount: HashMap<i64, Vec<usize>> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            if !self.entry_used[i] {
                by_amount.entry(e.amount).or_default().push(i);
            }
        }
        for ((day, _), items) in groups {
            if items.len() < 2 || items.len() > GROUP_ITEMS_MAX || items.iter().any(|&i| self.line_used[i]) {
                continue;
            }
            let Some(sum) = items.iter().try_fold(0i64, |s, &i| s.checked_add(self.lines[i].amount)) else { continue };
            let Some(cands) = by_amount.get(&sum) else { continue };
            let found = cands
                .iter()
                .copied()
                .find(|&e| !self.entry_used[e] && (self.entries[e].date.days() - day.days()).abs() <= window);
            if let Some(e) = found {
                let reason = format!("{} lines of {day} sum to the entry", items.len());
                self.take("group", 80, items, vec![e], reason);
            }
        }
    }

    fn bank_fees(&mut self, codes: &[String], texts: &[String]) {
        for li in 0..self.lines.len() {
            let line = &self.lines[li];
            if self.line_used[li] || line.amount >= 0 {
                continue;
            }
            let code_hit = line.bank_code.as_deref().and_then(|c| {
                let upper = c.to_ascii_uppercase();
                codes.iter().find(|k| upper.split(['/', '+', ' ']).any(|p| p == k.to_ascii_uppercase()))
            });
            let lower = line.text.to_lowercase();
            let text_hit = texts.iter().find(|t| lower.contains(&t.to_lowercase()));
            let Some(why) =
                code_hit.map(|c| format!("bank code {c}")).or_else(|| text_hit.map(|t| format!("text `{t}`")))
            else {
                continue;
            };
            self.line_used[li] = true;
            self.out.push(Proposal {
                rule: "bank_fee",
                outcome: Outcome::BankFee,
                confidence: 90,
                lines: vec![li],
                entries: Vec::new(),
                difference: line.amount,
                reason: format!("a bank charge ({why})"),
            });
        }
    }

    /// Free lines repeating a line matched (now or before): same amount, day, references, text.
    /// Between rules only lines with references are judged (a bank's reference is unique, so a
    /// repeat is a duplicate, not a second payment that a later rule could still pair).
    fn duplicates(&mut self, with_refs_only: bool) {
        let lines = self.lines;
        for p in &self.out[self.seen_upto..] {
            for &i in &p.lines {
                self.seen.entry(key(&lines[i])).or_insert(lines[i].id.as_str());
            }
        }
        self.seen_upto = self.out.len();
        for (li, line) in lines.iter().enumerate() {
            if self.line_used[li] || (with_refs_only && line.refs.is_empty()) {
                continue;
            }
            if let Some(first) = self.seen.get(&key(line)) {
                let reason = format!("repeats line {first}");
                self.line_used[li] = true;
                self.out.push(Proposal {
                    rule: "duplicate",
                    outcome: Outcome::Duplicate,
                    confidence: 90,
                    lines: vec![li],
                    entries: Vec::new(),
                    difference: line.amount,
                    reason,
                });
            }
        }
    }
}
