//! Evaluation sets built from the lists themselves: listed names and variants of them
//! (reordered, a typo, a dropped or initialled middle name, a spelling variant, written in
//! Cyrillic, two words joined), and names that are not listed, generated from common given
//! names and surnames of many origins. `rialto sanctions evaluate` runs them through the
//! screener and reports recall per variant and false positives per 10,000 names
//! (`docs/COMPLIANCE.md`). Deterministic for a seed.

use std::collections::HashSet;

use crate::list::{EntityKind, Entry, Strength};
use crate::normalize::normalize;

/// A small deterministic generator (xorshift64*), so sets are the same for a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded (0 is replaced).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// How a query was made from a listed name.
pub const VARIANTS: &[&str] =
    &["exact", "reordered", "typo", "middle_dropped", "middle_initial", "spelling", "cyrillic", "joined"];

/// A query with the entry it should find (none for a name that is not listed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The query.
    pub name: String,
    /// `exact`, …, or `not_listed`.
    pub variant: &'static str,
    /// The list entry it should find.
    pub expected: Option<String>,
}

fn words(name: &str) -> Vec<String> {
    // In reading order, as a client would type it.
    normalize(name).map(|n| n.tokens).unwrap_or_default()
}

/// One variant of `tokens`, or none when it does not apply.
fn variant(kind: &str, tokens: &[String], rng: &mut Rng) -> Option<Vec<String>> {
    let mut t = tokens.to_vec();
    match kind {
        "exact" => {}
        "reordered" if t.len() >= 2 => t.rotate_left(1),
        "typo" => {
            let long: Vec<usize> = (0..t.len()).filter(|&i| t[i].len() >= 5).collect();
            let i = *long.get(rng.below(long.len()))?;
            let mut c: Vec<char> = t[i].chars().collect();
            let at = 1 + rng.below(c.len() - 2);
            match rng.below(3) {
                0 => c[at] = char::from(b'a' + (rng.below(26) as u8)),
                1 => {
                    c.remove(at);
                }
                _ => c.swap(at, at + 1),
            }
            t[i] = c.into_iter().collect();
        }
        "middle_dropped" if t.len() >= 3 => {
            t.remove(1 + rng.below(t.len() - 2));
        }
        "middle_initial" if t.len() >= 3 => {
            let i = 1 + rng.below(t.len() - 2);
            t[i] = t[i].chars().take(1).collect();
        }
        "spelling" => t = spelling(t, rng)?,
        "cyrillic" => {
            let s = t.join(" ");
            if !s.bytes().all(|b| b.is_ascii_lowercase() || b == b' ') {
                return None;
            }
            return Some(vec![to_cyrillic(&s)]);
        }
        "joined" if t.len() >= 3 => {
            let i = rng.below(t.len() - 1);
            let next = t.remove(i + 1);
            t[i].push_str(&next);
        }
        _ => return None,
    }
    Some(t)
}

/// One common spelling variant in one word of four letters or more (`ou`/`u`, `ph`/`f`, …).
fn spelling(mut t: Vec<String>, rng: &mut Rng) -> Option<Vec<String>> {
    let swaps = [
        ("ou", "u"),
        ("oo", "u"),
        ("ph", "f"),
        ("kh", "h"),
        ("q", "k"),
        ("ee", "i"),
        ("y", "i"),
        ("dh", "d"),
        ("mm", "m"),
        ("ll", "l"),
        ("ss", "s"),
        ("u", "o"),
        ("i", "e"),
    ];
    for (from, to) in swaps.iter().cycle().skip(rng.below(swaps.len())).take(swaps.len()) {
        if let Some(i) = t.iter().position(|w| w.len() >= 4 && w[1..].contains(from)) {
            let w = &t[i];
            let at = 1 + w[1..].find(from).unwrap_or(0);
            t[i] = format!("{}{to}{}", &w[..at], &w[at + from.len()..]);
            return Some(t);
        }
    }
    None
}

/// Latin letters to Cyrillic, as a Russian clerk would write a foreign name.
fn to_cyrillic(s: &str) -> String {
    let pairs = [
        ("shch", "щ"),
        ("sh", "ш"),
        ("ch", "ч"),
        ("zh", "ж"),
        ("kh", "х"),
        ("ts", "ц"),
        ("yu", "ю"),
        ("ya", "я"),
        ("a", "а"),
        ("b", "б"),
        ("c", "к"),
        ("d", "д"),
        ("e", "е"),
        ("f", "ф"),
        ("g", "г"),
        ("h", "х"),
        ("i", "и"),
        ("j", "дж"),
        ("k", "к"),
        ("l", "л"),
        ("m", "м"),
        ("n", "н"),
        ("o", "о"),
        ("p", "п"),
        ("q", "к"),
        ("r", "р"),
        ("s", "с"),
        ("t", "т"),
        ("u", "у"),
        ("v", "в"),
        ("w", "в"),
        ("x", "кс"),
        ("y", "й"),
        ("z", "з"),
        (" ", " "),
    ];
    let mut out = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        let (from, to) = pairs.iter().find(|(f, _)| rest.starts_with(f)).copied().unwrap_or(("", ""));
        if from.is_empty() {
            rest = &rest[rest.chars().next().map_or(1, char::len_utf8)..];
            continue;
        }
        out.push_str(to);
        rest = &rest[from.len()..];
    }
    out
}

/// Variants of up to `sample` strong names of individuals and entities, each variant at
/// most once per name.
pub fn listed_cases(entries: &[(String, &Entry)], sample: usize, rng: &mut Rng) -> Vec<Case> {
    let mut names: Vec<(String, String)> = Vec::new();
    for (key, e) in entries {
        if !matches!(e.kind, EntityKind::Individual | EntityKind::Entity) {
            continue;
        }
        for n in e.names.iter().filter(|n| n.strength == Strength::Strong) {
            names.push((key.clone(), n.name.clone()));
        }
    }
    let mut picked = Vec::new();
    for _ in 0..sample.min(names.len()) {
        let i = rng.below(names.len());
        picked.push(names.swap_remove(i));
    }
    let mut cases = Vec::new();
    for (key, name) in picked {
        let tokens = words(&name);
        if tokens.is_empty() {
            continue;
        }
        for kind in VARIANTS {
            if let Some(t) = variant(kind, &tokens, rng) {
                cases.push(Case { name: t.join(" "), variant: kind, expected: Some(key.clone()) });
            }
        }
    }
    cases
}

const GIVEN: &str = "james mary john patricia robert jennifer michael linda william elizabeth david barbara richard susan joseph \
jessica thomas sarah charles karen daniel nancy matthew lisa anthony betty mark margaret donald sandra steven ashley paul \
kimberly andrew emily joshua donna kenneth michelle kevin carol brian amanda george melissa timothy deborah ronald \
stephanie jason rebecca edward sharon jeffrey laura ryan cynthia jacob kathleen gary amy nicholas angela eric shirley \
jonathan anna stephen brenda larry pamela justin emma scott nicole brandon helen benjamin samantha samuel katherine \
gregory christine alexander debra frank rachel patrick carolyn raymond janet jack catherine dennis maria jerry heather \
tyler diane aaron ruth jose julie adam olivia nathan joyce henry virginia douglas victoria zachary kelly peter lauren \
kyle christina noah joan ethan evelyn jeremy judith walter megan christian andrea keith cheryl roger hannah terry jacqueline \
lucas sven ingrid lars astrid matteo giulia luca francesca giorgio chiara pierre camille louis chloe hugo manon \
jurgen petra klaus sabine dieter monika hans ursula wojciech agnieszka piotr katarzyna jan malgorzata pedro lucia \
carmen javier alejandro sofia diego valentina joao beatriz tiago mariana hiroshi yuki kenji sakura takeshi aiko \
wei ling jun mei hao xiu raj priya arjun ananya vikram deepa sanjay kavya chidi ngozi emeka amara kwame abena \
oluwaseun folasade tunde yetunde mehmet ayse emre zeynep burak elif nikos eleni giannis sofia dimitris katerina \
olga dmitri svetlana sergei tatiana andrei natalia pavel irina mikhail";

const FAMILY: &str = "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez \
wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez lewis robinson \
walker young allen king wright scott torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell \
carter roberts gomez phillips evans turner diaz parker cruz edwards collins reyes stewart morris morales murphy cook \
rogers gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos kim cox ward richardson watson brooks \
chavez wood james bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster jimenez \
andersson johansson karlsson nilsson eriksson larsson rossi russo ferrari esposito bianchi romano colombo ricci \
martin bernard dubois thomas robert richard petit durand leroy moreau muller schmidt schneider fischer weber meyer \
wagner becker schulz hoffmann nowak kowalski wisniewski wojcik kaminski lewandowski silva santos ferreira pereira \
oliveira costa rodrigues almeida sato suzuki takahashi tanaka watanabe ito yamamoto nakamura wang li zhang liu chen \
yang huang zhao wu zhou sharma verma gupta singh kumar reddy iyer nair okafor okonkwo adeyemi mensah boateng owusu \
yilmaz kaya demir sahin celik papadopoulos georgiou nikolaidis ivanov smirnov kuznetsov popov sokolov lebedev \
kozlov novikov morozov volkov";

/// `n` names of people that are not on the lists (a generated name whose normalised form is
/// a listed name is skipped).
pub fn unlisted_cases(listed: &HashSet<String>, n: usize, rng: &mut Rng) -> Vec<Case> {
    let given: Vec<&str> = GIVEN.split_whitespace().collect();
    let family: Vec<&str> = FAMILY.split_whitespace().collect();
    let mut out = Vec::with_capacity(n);
    let mut seen = HashSet::new();
    let mut tries = 0;
    while out.len() < n && tries < n * 20 {
        tries += 1;
        let name = match rng.below(4) {
            0 => format!(
                "{} {} {}",
                given[rng.below(given.len())],
                given[rng.below(given.len())],
                family[rng.below(family.len())]
            ),
            1 => format!(
                "{} {}-{}",
                given[rng.below(given.len())],
                family[rng.below(family.len())],
                family[rng.below(family.len())]
            ),
            _ => format!("{} {}", given[rng.below(given.len())], family[rng.below(family.len())]),
        };
        let key = words(&name).join(" ");
        if listed.contains(&key) || !seen.insert(key) {
            continue;
        }
        out.push(Case { name, variant: "not_listed", expected: None });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_what_they_say() {
        let mut rng = Rng::new(7);
        let t: Vec<String> = ["ivan", "petrovich", "sidorov"].iter().map(|s| (*s).to_string()).collect();
        assert_eq!(variant("exact", &t, &mut rng), Some(t.clone()));
        assert_eq!(variant("reordered", &t, &mut rng).map(|v| v.join(" ")), Some("petrovich sidorov ivan".into()));
        assert_eq!(variant("middle_dropped", &t, &mut rng).map(|v| v.join(" ")), Some("ivan sidorov".into()));
        assert_eq!(variant("middle_initial", &t, &mut rng).map(|v| v.join(" ")), Some("ivan p sidorov".into()));
        assert_eq!(variant("cyrillic", &t, &mut rng), Some(vec!["иван петрович сидоров".to_string()]));
        let typo = variant("typo", &t, &mut rng).unwrap_or_default().join(" ");
        assert!(typo != t.join(" ") && typo.len() + 1 >= t.join(" ").len(), "{typo}");
        assert_eq!(variant("reordered", &t[..1], &mut rng), None);
    }

    #[test]
    fn unlisted_names_avoid_listed_ones() {
        let listed: HashSet<String> = ["james smith".to_string()].into_iter().collect();
        let cases = unlisted_cases(&listed, 500, &mut Rng::new(3));
        assert_eq!(cases.len(), 500);
        assert!(cases.iter().all(|c| words(&c.name).join(" ") != "james smith"));
    }
}
