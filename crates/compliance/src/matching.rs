//! Two normalised names compared token by token, with an explanation: which tokens met, how
//! (`exact`, `fuzzy` by Jaro-Winkler, `phonetic` by consonant skeleton, `initial`, `joined`
//! words), with what weight, and which tokens found no partner.
//!
//! Each token pairs with at most one token of the other name (the best pairs first), so word
//! order does not matter. The score is the weighted similarity of the pairs over the weight of
//! all tokens; when two or more pairs met, a token left over (a middle name one side omits)
//! counts half. The comparison is symmetric: `compare(a, b)` and `compare(b, a)` score the same.

use std::borrow::Cow;

use serde::Serialize;

use crate::normalize::{skeleton, Normalized};

/// A token of a prepared name.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The text.
    pub text: String,
    /// Its consonant skeleton.
    pub key: String,
}

impl Token {
    fn new(text: String) -> Token {
        Token { key: skeleton(&text), text }
    }

    /// Longer tokens say more: the length, 1 for an initial, capped at 8.
    pub fn weight(&self) -> f64 {
        self.text.len().clamp(1, 8) as f64
    }
}

/// A name ready to compare.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// Its tokens, in reading order.
    pub tokens: Vec<Token>,
}

impl Prepared {
    /// Prepares a normalised name.
    pub fn new(n: &Normalized) -> Prepared {
        Prepared { tokens: n.tokens.iter().cloned().map(Token::new).collect() }
    }
}

/// How two tokens met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// The same text.
    Exact,
    /// Jaro-Winkler similarity.
    Fuzzy,
    /// The same consonant skeleton (`mohammed` / `muhammad`).
    Phonetic,
    /// An initial and a word it starts.
    Initial,
    /// Two words of one name written as one in the other (`abdul rahman` / `abdulrahman`).
    Joined,
}

/// A pair of tokens that met.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenMatch {
    /// The token of the first name.
    pub left: String,
    /// The token of the second name.
    pub right: String,
    /// 0..1.
    pub similarity: f64,
    /// The pair's weight in the score.
    pub weight: f64,
    /// How they met.
    pub how: How,
}

/// A comparison and why it scored so.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NameScore {
    /// 0..1.
    pub score: f64,
    /// The pairs that met, best first.
    pub tokens: Vec<TokenMatch>,
    /// Tokens of the first name that met none.
    pub unmatched_left: Vec<String>,
    /// Tokens of the second name that met none.
    pub unmatched_right: Vec<String>,
}

/// Below this similarity two tokens do not pair.
pub const TOKEN_MIN: f64 = 0.8;
/// Below this similarity a word of three letters or fewer meets none.
const SHORT_MIN: f64 = 0.9;
/// An initial against a word it starts.
const INITIAL_SIMILARITY: f64 = 0.7;
/// The same consonant skeleton counts at least this.
const PHONETIC_SIMILARITY: f64 = 0.88;
/// A leftover token's weight when two or more pairs met.
const LEFTOVER_FACTOR: f64 = 0.5;

/// Jaro-Winkler similarity of two ASCII strings (prefix scale 0.1, up to 4 characters).
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.is_empty() || b.is_empty() {
        return if a == b { 1.0 } else { 0.0 };
    }
    if a == b {
        return 1.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut a_hit = [false; 64];
    let mut b_hit = [false; 64];
    let (a, b) = (&a[..a.len().min(64)], &b[..b.len().min(64)]);
    let mut matches = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_hit[j] && b[j] == ca {
                a_hit[i] = true;
                b_hit[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0;
    for (i, &ca) in a.iter().enumerate() {
        if a_hit[i] {
            while !b_hit[j] {
                j += 1;
            }
            if ca != b[j] {
                transpositions += 1;
            }
            j += 1;
        }
    }
    let m = matches as f64;
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64 / 2.0) / m) / 3.0;
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f64;
    jaro + prefix * 0.1 * (1.0 - jaro)
}

/// How similar two tokens are, and how they met.
fn similarity(a: &Token, b: &Token) -> (f64, How) {
    if a.text == b.text {
        return (1.0, How::Exact);
    }
    if a.text.len() == 1 || b.text.len() == 1 {
        let initial = a.text.as_bytes()[0] == b.text.as_bytes()[0];
        return (if initial { INITIAL_SIMILARITY } else { 0.0 }, How::Initial);
    }
    if a.text.bytes().any(|c| c.is_ascii_digit()) || b.text.bytes().any(|c| c.is_ascii_digit()) {
        return (0.0, How::Exact); // numbers meet only when equal
    }
    let jw = jaro_winkler(&a.text, &b.text);
    if a.key == b.key && a.key.len() >= 3 && jw < PHONETIC_SIMILARITY {
        return (PHONETIC_SIMILARITY, How::Phonetic);
    }
    // Jaro-Winkler flatters short words (`un` / `jung` 0.83): they meet fuzzily only when
    // nearly the same.
    if a.text.len().min(b.text.len()) <= 3 && jw < SHORT_MIN {
        return (0.0, How::Fuzzy);
    }
    (jw, How::Fuzzy)
}

/// Adjacent tokens of `a` written as one token of `b` are merged (`abdul rahman` against
/// `abdulrahman`); returns the tokens (borrowed unless merged) and which were joined.
fn join_split_words<'a>(a: &'a [Token], b: &[Token]) -> Vec<(Cow<'a, Token>, bool)> {
    let mut out = Vec::with_capacity(a.len());
    let mut i = 0;
    while i < a.len() {
        if i + 1 < a.len() && a[i].text.len() > 1 && a[i + 1].text.len() > 1 {
            // Only a word of about the joined length can be the two written as one.
            let len = a[i].text.len() + a[i + 1].text.len();
            if b.iter().any(|x| x.text.len() + 1 >= len && x.text.len() <= len + 1) {
                let joined = Token::new(format!("{}{}", a[i].text, a[i + 1].text));
                let best_single = |t: &Token| b.iter().map(|x| similarity(t, x).0).fold(0.0, f64::max);
                let whole = b.iter().map(|x| jaro_winkler(&joined.text, &x.text)).fold(0.0, f64::max);
                if whole >= 0.95 && whole > best_single(&a[i]).max(best_single(&a[i + 1])) {
                    out.push((Cow::Owned(joined), true));
                    i += 2;
                    continue;
                }
            }
        }
        out.push((Cow::Borrowed(&a[i]), false));
        i += 1;
    }
    out
}

/// Tokens of a name as aligned: borrowed, or two merged into one.
type Side<'a> = Vec<(Cow<'a, Token>, bool)>;

/// Pairs of tokens that met: (similarity, left index, right index, how).
type Pairs = Vec<(f64, usize, usize, How)>;

/// The pairs two names form, best first, each token in at most one, with the sides they
/// index and the score.
fn align<'a>(left: &'a Prepared, right: &'a Prepared) -> (f64, Pairs, Side<'a>, Side<'a>) {
    let l = join_split_words(&left.tokens, &right.tokens);
    let r = join_split_words(&right.tokens, &left.tokens);
    let mut pairs = Vec::with_capacity(l.len() * r.len());
    for (i, (a, a_joined)) in l.iter().enumerate() {
        for (j, (b, b_joined)) in r.iter().enumerate() {
            let (s, how) = similarity(a, b);
            if s >= TOKEN_MIN || (how == How::Initial && s > 0.0) {
                let how = if *a_joined || *b_joined { How::Joined } else { how };
                pairs.push((s, i, j, how));
            }
        }
    }
    // Best pairs first; ties broken by the texts (not the positions) so the result does not
    // depend on which name is on which side.
    pairs.sort_by(|x, y| {
        y.0.total_cmp(&x.0).then_with(|| {
            let kx = order_key(&l[x.1].0.text, &r[x.2].0.text);
            let ky = order_key(&l[y.1].0.text, &r[y.2].0.text);
            kx.cmp(&ky)
        })
    });
    let (mut l_used, mut r_used) = ([false; 16], [false; 16]);
    let mut chosen = Vec::with_capacity(l.len().min(r.len()));
    let (mut num, mut den) = (0.0, 0.0);
    for (s, i, j, how) in pairs {
        if i >= 16 || j >= 16 || l_used[i] || r_used[j] {
            continue;
        }
        l_used[i] = true;
        r_used[j] = true;
        let weight = l[i].0.weight() + r[j].0.weight();
        num += s * weight;
        den += weight;
        chosen.push((s, i, j, how));
    }
    let factor = if chosen.len() >= 2 { LEFTOVER_FACTOR } else { 1.0 };
    let unused = |side: &Side<'_>, used: &[bool; 16]| -> f64 {
        side.iter()
            .enumerate()
            .filter(|(k, _)| !used.get(*k).copied().unwrap_or(false))
            .map(|(_, t)| t.0.weight())
            .sum()
    };
    den += (unused(&l, &l_used) + unused(&r, &r_used)) * factor;
    let score = if den > 0.0 { (num / den).clamp(0.0, 1.0) } else { 0.0 };
    (score, chosen, l, r)
}

/// The score of two prepared names, without the explanation (the screener's inner loop).
pub fn score(left: &Prepared, right: &Prepared) -> f64 {
    align(left, right).0
}

/// Compares two prepared names, explaining the score.
pub fn compare(left: &Prepared, right: &Prepared) -> NameScore {
    let (score, chosen, l, r) = align(left, right);
    let tokens: Vec<TokenMatch> = chosen
        .iter()
        .map(|&(similarity, i, j, how)| TokenMatch {
            left: l[i].0.text.clone(),
            right: r[j].0.text.clone(),
            similarity,
            weight: l[i].0.weight() + r[j].0.weight(),
            how,
        })
        .collect();
    let leftover = |side: &Side<'_>, used: &dyn Fn(usize) -> bool| -> Vec<String> {
        side.iter().enumerate().filter(|(k, _)| !used(*k)).map(|(_, (t, _))| t.text.clone()).collect()
    };
    let unmatched_left = leftover(&l, &|k| chosen.iter().any(|c| c.1 == k));
    let unmatched_right = leftover(&r, &|k| chosen.iter().any(|c| c.2 == k));
    NameScore { score, tokens, unmatched_left, unmatched_right }
}

fn order_key<'a>(a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;
    use proptest::prelude::*;

    fn score(a: &str, b: &str) -> f64 {
        let p = |s: &str| Prepared::new(&normalize(s).unwrap_or_else(|e| panic!("{s}: {e}")));
        compare(&p(a), &p(b)).score
    }

    #[test]
    fn jaro_winkler_table() {
        // Values from the Winkler (1990) paper and common references.
        for (a, b, expected) in
            [("martha", "marhta", 0.961), ("dwayne", "duane", 0.84), ("dixon", "dicksonx", 0.813), ("abc", "xyz", 0.0)]
        {
            assert!((jaro_winkler(a, b) - expected).abs() < 0.001, "{a} {b} {}", jaro_winkler(a, b));
        }
    }

    #[test]
    fn variants_score_high_and_strangers_low() {
        let high = [
            ("Usama bin Laden", "BIN LADEN, Usama"),
            ("Osama bin Ladin", "Usama bin Laden"),
            ("Mohammed Omar", "Muhammad Umar"),
            ("Vladimir Putin", "PUTIN, Vladimir Vladimirovich"),
            ("Abdulrahman Ali", "Abdul Rahman Ali"),
            ("Владимир Путин", "Vladimir Putin"),
            ("Banco Nacional de Cuba", "BANCO NACIONAL DE CUBA S.A."),
            ("Kim Jong Un", "KIM, Jong-un"),
        ];
        for (a, b) in high {
            assert!(score(a, b) >= 0.85, "{a} / {b}: {}", score(a, b));
        }
        // Two of three words the same, the third different: under the review threshold.
        assert!(score("Kim Jong Un", "KIM, Jung Jong") < 0.86);
        let low = [
            ("John Smith", "John Doe"),
            ("Putin", "Vladimir Putin"),
            ("Maria Garcia", "Mario Gomez Lopez"),
            ("Acme Trading", "Zenith Shipping"),
        ];
        for (a, b) in low {
            assert!(score(a, b) < 0.75, "{a} / {b}: {}", score(a, b));
        }
    }

    #[test]
    fn explanation_names_the_pairs() {
        let p = |s: &str| Prepared::new(&normalize(s).unwrap_or_else(|e| panic!("{e}")));
        let s = compare(&p("Vladimir V. Putin"), &p("Vladimir Putin"));
        assert_eq!(s.tokens.len(), 2);
        assert_eq!(s.unmatched_left, vec!["v".to_string()]);
        assert!(s.tokens.iter().all(|t| t.how == How::Exact));
    }

    proptest! {
        #[test]
        fn a_name_matches_itself_fully(name in "[A-Za-z]{1,12}( [A-Za-z]{1,12}){0,4}") {
            let n = Prepared::new(&normalize(&name).unwrap_or_else(|e| panic!("{e}")));
            prop_assert!((compare(&n, &n).score - 1.0).abs() < 1e-9);
        }

        #[test]
        fn the_score_is_symmetric_and_bounded(a in "[a-z]{1,10}( [a-z]{1,10}){0,3}", b in "[a-z]{1,10}( [a-z]{1,10}){0,3}") {
            let p = |s: &str| normalize(s).map(|n| Prepared::new(&n)).ok();
            if let (Some(x), Some(y)) = (p(&a), p(&b)) {
                let (s1, s2) = (compare(&x, &y).score, compare(&y, &x).score);
                prop_assert!((s1 - s2).abs() < 1e-9, "{} vs {}", s1, s2);
                prop_assert!((0.0..=1.0).contains(&s1));
            }
        }
    }
}
