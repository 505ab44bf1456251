//! The screener and the gate on small hand-made lists, and the parsers on the real OFAC and
//! UN publications in `../shared/data/sanctions` (skipped, saying so, when absent).

use std::path::PathBuf;

use rialto_payments::{KycStatus, PaymentFacts, UserStatus};

use super::*;

fn entry(id: &str, kind: EntityKind, names: &[&str]) -> Entry {
    Entry {
        id: id.into(),
        kind,
        names: names.iter().map(|n| ListedName { name: (*n).into(), strength: Strength::Strong }).collect(),
        birth_dates: vec![],
        countries: vec![],
        addresses: vec![],
        identifiers: vec![],
        programs: vec!["SDGT".into()],
        remarks: None,
    }
}

fn screener() -> Screener {
    let mut usama = entry("1", EntityKind::Individual, &["BIN LADIN, Usama", "BIN LADEN, Osama"]);
    usama.birth_dates = vec![BirthDate::exact(1957, Some(3), Some(10))];
    usama.countries = vec!["Saudi Arabia".into()];
    usama.identifiers = vec![Identifier { kind: "Passport".into(), number: "A-1234567".into(), country: None }];
    let bank = entry("2", EntityKind::Entity, &["BANCO NACIONAL DE CUBA", "NATIONAL BANK OF CUBA"]);
    let mut weak = entry("3", EntityKind::Individual, &["PETROV, Ivan Sergeyevich"]);
    weak.names.push(ListedName { name: "Vanya".into(), strength: Strength::Weak });
    Screener::new(vec![(Source::Ofac, 7, vec![usama, bank, weak])])
}

fn top(s: &Screener, q: &Query) -> Option<Match> {
    s.screen(q, 0.0, 5).unwrap_or_default().into_iter().next()
}

#[test]
fn finds_variants_with_an_explanation() {
    let s = screener();
    for name in ["Usama bin Laden", "Osama Bin Ladin", "osama binladen", "Усама бен Ладен", "Ladin, Usama bin"]
    {
        let m = top(&s, &Query { name: name.into(), ..Query::default() }).unwrap_or_else(|| panic!("{name}: no match"));
        assert_eq!(m.entry_id, "1", "{name}");
        assert!(m.score >= 0.8, "{name}: {}", m.score);
        assert!(!m.explanation.name.tokens.is_empty());
    }
    let bank = top(&s, &Query { name: "National Bank of Cuba S.A.".into(), ..Query::default() });
    assert_eq!(bank.map(|m| (m.entry_id, m.score)), Some(("2".into(), 1.0)));
    assert_eq!(s.versions(), &[VersionInUse { source: "ofac", version: 7 }]);
}

#[test]
fn secondary_evidence_moves_the_score_and_says_why() {
    let s = screener();
    let q = Query { name: "Usama bin Laden".into(), ..Query::default() };
    let base = top(&s, &q).map_or(0.0, |m| m.score);
    let same =
        Query { birth_date: Some(BirthDate::exact(1957, Some(3), Some(10))), country: Some("SA".into()), ..q.clone() };
    let other =
        Query { birth_date: Some(BirthDate::exact(1990, None, None)), kind: Some(EntityKind::Entity), ..q.clone() };
    let up = top(&s, &same).unwrap_or_else(|| panic!("no match"));
    let down = top(&s, &other).unwrap_or_else(|| panic!("no match"));
    assert!(up.score > base && down.score < base, "{} {base} {}", up.score, down.score);
    let fields: Vec<&str> = up.explanation.evidence.iter().map(|e| e.field).collect();
    assert_eq!(fields, vec!["date_of_birth", "country"]);
    assert!(down.explanation.evidence.iter().all(|e| e.effect < 0.0));
    // A listed document number brings even a weak name match up.
    let doc = Query { name: "U. Ladin".into(), identifiers: vec!["a1234567".into()], ..Query::default() };
    let m = top(&s, &doc).unwrap_or_else(|| panic!("no match"));
    assert!(m.score >= 0.95 && m.explanation.evidence.iter().any(|e| e.field == "identifier"), "{m:?}");
}

#[test]
fn weak_aliases_count_less_and_strangers_do_not_match() {
    let s = screener();
    let m = top(&s, &Query { name: "Vanya".into(), ..Query::default() }).unwrap_or_else(|| panic!("no match"));
    assert!(m.explanation.weak_alias && (m.score - 0.9).abs() < 1e-9, "{m:?}");
    let none = s.screen(&Query { name: "Jane Austen".into(), ..Query::default() }, 0.5, 5).unwrap_or_default();
    assert!(none.is_empty(), "{none:?}");
    assert_eq!(s.screen(&Query { name: "  ".into(), ..Query::default() }, 0.5, 5).err(), Some(NameError::Empty));
}

#[test]
fn verdicts_and_clearances() {
    let s = screener();
    let t = Thresholds::default();
    let matches = s.screen(&Query { name: "Usama bin Laden".into(), ..Query::default() }, 0.0, 5).unwrap_or_default();
    let v = verdict(matches.clone(), t, &[]);
    assert_eq!(v.status, ScreeningStatus::Hit, "{v:?}");
    let clearance =
        Clearance { source: "ofac".into(), entry_id: "1".into(), entry_digest: matches[0].entry_digest.clone() };
    let v = verdict(matches.clone(), t, std::slice::from_ref(&clearance));
    assert_eq!((v.status, v.cleared.len()), (ScreeningStatus::Clear, 1));
    // The clearance holds only for the entry as it was.
    let stale = Clearance { entry_digest: "changed".into(), ..clearance };
    assert_eq!(verdict(matches, t, &[stale]).status, ScreeningStatus::Hit);
    assert!(Thresholds { review: 0.9, block: 0.8 }.check().is_err());
}

#[test]
fn the_gate_refuses_hits_and_holds_possible_matches() {
    let gate = CompliancePolicy::default();
    let facts = |screening: Option<(ScreeningStatus, String)>| PaymentFacts {
        amount_minor: 100,
        currency: rialto_core::Currency::parse("USD").unwrap_or_else(|_| unreachable!()),
        user: Some((UserStatus::Active, KycStatus::Verified)),
        recent_count: 0,
        recent_sum_minor: 0,
        screening,
        kyc: None,
        aml_hold: None,
    };
    assert_eq!(gate.check(&facts(None)), Decision::Approve);
    let held = PaymentFacts { aml_hold: Some("open compliance case cas_1 holds".into()), ..facts(None) };
    assert!(matches!(gate.check(&held), Decision::Review(why) if why.contains("cas_1")), "an open holding case holds");
    assert_eq!(gate.check(&facts(Some((ScreeningStatus::Clear, String::new())))), Decision::Approve);
    assert!(matches!(gate.check(&facts(Some((ScreeningStatus::Review, "x".into())))), Decision::Review(_)));
    assert!(matches!(
        gate.check(&facts(Some((ScreeningStatus::Hit, "x".into())))),
        Decision::Reject { code: "compliance_rejected", .. }
    ));
}

/// `../shared/data/sanctions`, when present.
pub(crate) fn shared() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sanctions");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} is absent", dir.display());
        None
    }
}

#[test]
fn the_real_lists_parse_whole() {
    let Some(dir) = shared() else { return };
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let (sdn, alt, add, comments) =
        (read("ofac/sdn.csv"), read("ofac/alt.csv"), read("ofac/add.csv"), read("ofac/sdn_comments.csv"));
    let ofac = ofac::parse(&ofac::Files { sdn: &sdn, alt: Some(&alt), add: Some(&add), comments: Some(&comments) })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ofac.entries.len(), 7379);
    let kinds = |k: EntityKind| ofac.entries.iter().filter(|e| e.kind == k).count();
    assert_eq!(
        (kinds(EntityKind::Individual), kinds(EntityKind::Vessel), kinds(EntityKind::Aircraft)),
        (3845, 323, 217)
    );
    assert!(ofac.entries.iter().filter(|e| !e.birth_dates.is_empty()).count() > 3000);
    assert!(ofac.entries.iter().filter(|e| !e.identifiers.is_empty()).count() > 1500);
    let un = un::parse(&read("un/consolidated.xml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(un.entries.len(), 1003);
    assert_eq!(un.entries.iter().filter(|e| e.kind == EntityKind::Individual).count(), 730);
    // Cut anywhere inside, both are refused.
    for cut in [sdn.len() / 3, sdn.len() - 7] {
        assert!(
            ofac::parse(&ofac::Files { sdn: &sdn[..cut], ..ofac::Files::default() }).is_err() || sdn[cut - 1] == b'\n'
        );
    }
    let xml = read("un/consolidated.xml");
    assert!(un::parse(&xml[..xml.len() / 2]).is_err());
}
