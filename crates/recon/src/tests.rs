#![allow(clippy::unwrap_used)]
use proptest::prelude::*;
use rialto_core::Currency;

use super::matching::{self, External, Internal, Outcome, Rule};
use super::*;

fn shared(name: &str) -> Option<Vec<u8>> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/iso20022").join(name);
    let b = std::fs::read(&p).ok();
    if b.is_none() {
        eprintln!("skipped: {} is absent", p.display());
    }
    b
}

fn own(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)).unwrap()
}

fn d(s: &str) -> Date {
    Date::parse_iso(s).unwrap()
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

#[test]
fn the_public_camt_053_sample_reads_and_adds_up() {
    let Some(b) = shared("FI_camt_053_sample.xml") else { return };
    let s = parse(&b, Input::Detect).unwrap();
    assert_eq!(s.len(), 1);
    let s = &s[0];
    assert_eq!((s.format, s.version.as_deref()), (Format::Camt053, Some("camt.053.001.02")));
    assert_eq!(s.account, "FI7433010001222090");
    assert_eq!(s.statement_id.as_deref(), Some("BANKSTMTID0972009"));
    assert_eq!(s.sequence, Some(120));
    assert_eq!(s.opening, Some(Balance { amount: 1_000_000, currency: eur(), date: d("2009-10-29") }));
    assert_eq!(s.closing, Some(Balance { amount: 2_364_483, currency: eur(), date: d("2009-10-29") }));
    assert_eq!(s.lines.len(), 10);
    let first = &s.lines[0];
    assert_eq!(first.amount, -100_012);
    assert_eq!(first.servicer_ref.as_deref(), Some("091029ACCTSTMTARCH01"));
    assert_eq!(first.bank_code.as_deref(), Some("PMNT/ICDT/SALA"));
    assert_eq!(first.batch_count, Some(4));
    let invoice = &s.lines[6];
    assert_eq!(invoice.amount, 212_000);
    assert_eq!((invoice.booking_date, invoice.value_date), (Some(d("2009-10-29")), Some(d("2009-10-30"))));
    assert_eq!(invoice.remittance.as_deref(), Some("INVOICE US20291092"));
    assert_eq!(invoice.counterparty.as_deref(), Some("DEBTOR NAME"));
    let c = s.check();
    assert_eq!((c.adds_up, c.booked_total, c.difference), (Some(true), 1_364_483, Some(0)));
    assert!(c.problems.is_empty(), "{:?}", c.problems);
}

#[test]
fn the_public_camt_054_notifications_read() {
    let Some(b) = shared("200519_camt054-returns_p_ch2909000000250094239_1109800798_0_2019052023472022.xml") else {
        return;
    };
    let s = &parse(&b, Input::Detect).unwrap()[0];
    assert_eq!((s.format, s.version.as_deref()), (Format::Camt054, Some("camt.054.001.04")));
    assert_eq!(s.account, "CH2909000000250094239");
    let l = &s.lines[0];
    assert_eq!(l.amount, 40_000);
    assert_eq!(l.currency.code(), "CHF");
    assert_eq!(l.end_to_end_id.as_deref(), Some("EndToEndId-004-01-01"));
    assert_eq!(l.customer_ref.as_deref(), Some("InstrId-004-01-01"));
    assert_eq!(l.counterparty.as_deref(), Some("Robert Schneider SA"));
    assert_eq!(l.counterparty_account.as_deref(), Some("CH8709000000929471495"));
    assert_eq!(l.bank_code.as_deref(), Some("PMNT/ICDT/RRTN"));
    assert_eq!(s.check().adds_up, None, "a notification has no balances to add up");
    let Some(b) = shared("FI_camt_054_sample.xml") else { return };
    let s = &parse(&b, Input::Detect).unwrap()[0];
    assert_eq!(s.lines.len(), 6);
    let last = &s.lines[5];
    assert!(last.reversal);
    assert_eq!((last.status, last.amount), (LineStatus::Info, 10_000));
    let Some(b) = shared("200519_camt.054_P_CH2909000000250094239_1111091335_0_2020061900081727.xml") else { return };
    let s = &parse(&b, Input::Detect).unwrap()[0];
    assert_eq!(s.lines[0].amount, 169_222);
    assert!(s.lines[0].remittance.as_deref().unwrap().starts_with("SAMMELGUTSCHRIFT FÜR KONTO"));
}

#[test]
fn a_camt_053_v08_file_with_two_statements_reads_every_field() {
    let s = parse(&own("camt053_v08.xml"), Input::Detect).unwrap();
    assert_eq!(s.len(), 2);
    let a = &s[0];
    assert_eq!(a.version.as_deref(), Some("camt.053.001.08"));
    assert_eq!((a.account.as_str(), a.sequence), ("DE89370400440532013000", Some(41)));
    assert_eq!((a.from_date, a.to_date), (Some(d("2026-11-29")), Some(d("2026-11-29"))));
    assert_eq!(a.opening.map(|b| b.amount), Some(-15_000), "an overdrawn (DBIT) opening balance is negative");
    let l = &a.lines[0];
    assert_eq!(l.amount, 125_000);
    assert_eq!((l.booking_date, l.value_date), (Some(d("2026-11-29")), Some(d("2026-11-30"))));
    assert_eq!(l.end_to_end_id.as_deref(), Some("pay_e2e_0001"));
    assert_eq!(l.customer_ref.as_deref(), Some("INSTR-77"));
    assert_eq!(l.servicer_ref.as_deref(), Some("BANKREF-0001"));
    assert_eq!(l.remittance.as_deref(), Some("Invoice 2026-118 thank you"));
    assert_eq!(l.counterparty.as_deref(), Some("Müller & Söhne GmbH"));
    assert_eq!(l.counterparty_account.as_deref(), Some("DE02120300000000202051"));
    assert_eq!(l.bank_code.as_deref(), Some("PMNT/RCDT/ESCT"));
    let rev = &a.lines[1];
    assert!(rev.reversal);
    assert_eq!((rev.amount, rev.bank_code.as_deref()), (-4_000, Some("NRTI+109")));
    assert_eq!(rev.remittance.as_deref(), Some("Return of credit 2026-11-27"));
    assert_eq!(a.lines[2].booking_date, Some(d("2026-11-29")), "a DtTm booking date");
    let pending = &a.lines[3];
    assert_eq!((pending.status, pending.end_to_end_id.clone()), (LineStatus::Pending, None));
    assert_eq!(pending.remittance.as_deref(), Some("RF18539007547034"));
    let c = a.check();
    assert_eq!((c.adds_up, c.booked_total), (Some(true), 119_951), "{:?}", c.problems);
    let b = &s[1];
    assert_eq!(b.account, "0532013000");
    assert_eq!(b.opening.map(|b| (b.amount, b.date)), Some((104_951, d("2026-11-29"))), "PRCD stands in for OPBD");
    assert_eq!((b.lines[0].batch_count, b.lines[0].end_to_end_id.clone()), (Some(2), None));
    assert_eq!(b.check().adds_up, Some(true));
    assert_ne!(a.identity(), b.identity());
}

#[test]
fn an_mt940_file_with_blocks_continuations_and_structured_86_reads() {
    let s = parse(&own("mt940_multi.sta"), Input::Detect).unwrap();
    assert_eq!(s.len(), 2);
    let a = &s[0];
    assert_eq!((a.format, a.account.as_str()), (Format::Mt940, "10020030/1234567890"));
    assert_eq!((a.statement_id.as_deref(), a.sequence, a.page), (Some("STMT20261130"), Some(41), Some(1)));
    assert_eq!(a.opening, Some(Balance { amount: 100_000, currency: eur(), date: d("2026-11-29") }));
    assert_eq!(a.lines.len(), 3);
    let l = &a.lines[0];
    assert_eq!(l.amount, 25_000);
    assert_eq!((l.value_date, l.booking_date), (Some(d("2026-11-30")), Some(d("2026-11-30"))));
    assert_eq!((l.bank_code.as_deref(), l.customer_ref.clone()), (Some("NTRF"), None));
    assert_eq!(l.servicer_ref.as_deref(), Some("BK-0001"));
    assert_eq!(l.end_to_end_id.as_deref(), Some("pay_0193a1b2c3"));
    assert_eq!(l.remittance.as_deref(), Some("Rechnung 4711 vom25.11.2026"));
    assert_eq!(l.counterparty.as_deref(), Some("Erika Mustermann"));
    assert_eq!(l.counterparty_account.as_deref(), Some("DE44500105175407324931"));
    let fee = &a.lines[1];
    assert_eq!((fee.amount, fee.bank_code.as_deref()), (-1_235, Some("NCHG")));
    assert_eq!(fee.end_to_end_id, None);
    assert_eq!(fee.remittance.as_deref(), Some("Monthly account fee"));
    assert_eq!(fee.counterparty.as_deref(), Some("The Bank"));
    let rev = &a.lines[2];
    assert!(rev.reversal);
    assert_eq!(rev.amount, -500, "RC: the reversal of a credit is a debit");
    assert_eq!((rev.value_date, rev.booking_date), (Some(d("2026-12-31")), Some(d("2027-01-02"))));
    assert_eq!(rev.customer_ref.as_deref(), Some("REF-OLD"));
    assert_eq!(rev.remittance.as_deref(), Some("Reversal of an earlier credit, continued on a second line"));
    assert_eq!(a.check().adds_up, Some(true));
    let b = &s[1];
    assert_eq!((b.sequence, b.page), (Some(43), Some(1)));
    assert_eq!(b.closing.map(|c| c.amount), Some(0));
    assert_eq!(b.check().adds_up, Some(true));
}

fn mapping() -> Mapping {
    Mapping::parse(
        r#"{"delimiter": ";", "date": "Buchungstag", "date_format": "DD.MM.YYYY", "value_date": "Valuta",
            "amount": "Betrag", "decimal": ",", "currency": "EUR", "description": "Verwendungszweck",
            "reference": "Referenz", "balance": "Saldo"}"#,
    )
    .unwrap()
}

#[test]
fn a_csv_statement_reads_through_its_mapping() {
    let s = parse(&own("statement.csv"), Input::Csv(&mapping(), "DE89370400440532013000")).unwrap();
    let s = &s[0];
    assert_eq!(s.lines.len(), 3);
    assert_eq!(s.lines.iter().map(|l| l.amount).collect::<Vec<_>>(), vec![125_000, -1_235, -3_765]);
    assert_eq!(s.lines[0].remittance.as_deref(), Some("Invoice 42; paid"));
    assert_eq!(s.lines[1].value_date, Some(d("2026-12-02")));
    assert_eq!(s.lines[2].remittance.as_deref(), Some("multi line text"));
    assert_eq!(s.lines[2].value_date, Some(d("2026-12-02")), "an empty value date is the booking date");
    assert_eq!(s.opening.map(|b| b.amount), Some(100_000));
    assert_eq!(s.closing.map(|b| b.amount), Some(220_000));
    assert_eq!(s.check().adds_up, Some(true));
    let debit_credit = Mapping::parse(
        r#"{"header": false, "date": 1, "date_format": "YYYY-MM-DD", "debit": 2, "credit": 3, "currency": "USD"}"#,
    )
    .unwrap();
    let e = parse(b"2026-12-01,10.00,\n2026-12-02,,1,234.50\n", Input::Csv(&debit_credit, "123")).unwrap_err();
    assert_eq!(e.line, 2, "an unquoted grouping comma makes a row that does not fit: {e}");
    let s = &parse(b"2026-12-01,10.00,\n2026-12-02,,\"1,234.50\"\n", Input::Csv(&debit_credit, "123")).unwrap()[0];
    assert_eq!(s.lines.iter().map(|l| l.amount).collect::<Vec<_>>(), vec![-1_000, 123_450]);
    assert_eq!(s.check().adds_up, None);
}

#[test]
fn bad_files_are_refused_with_their_line_or_element() {
    let v08 = String::from_utf8(own("camt053_v08.xml")).unwrap();
    let cut = &v08[..v08.find("<Ntry>").unwrap() + 40];
    let e = parse(cut.as_bytes(), Input::Detect).unwrap_err();
    assert!(e.message.contains("truncated") || e.message.contains("well-formed"), "{e}");
    assert!(e.element.as_deref().unwrap().contains("Stmt"), "{e}");
    let wrong = v08.replace("camt.053.001.08", "pain.001.001.09");
    let e = parse(wrong.as_bytes(), Input::Detect).unwrap_err();
    assert_eq!((e.line, e.element.as_deref()), (2, Some("Document")), "{e}");
    assert!(e.message.contains("pain.001.001.09"), "{e}");
    let bad_amount = v08.replace("<Amt Ccy=\"EUR\">40.00</Amt>", "<Amt Ccy=\"EUR\">40.001</Amt>");
    let e = parse(bad_amount.as_bytes(), Input::Detect).unwrap_err();
    assert!(e.message.contains("more decimals"), "{e}");
    assert_eq!(e.line, v08.lines().position(|l| l.contains("40.00")).unwrap() + 1, "{e}");
    let no_ind = v08.replacen("<CdtDbtInd>CRDT</CdtDbtInd>\n        <Sts>", "<Sts>", 1);
    assert!(parse(no_ind.as_bytes(), Input::Detect).unwrap_err().message.contains("CdtDbtInd"));
    let mt = String::from_utf8(own("mt940_multi.sta")).unwrap();
    let broken = mt.replace(":62F:C261130EUR1232,65", ":62F:C26113EUR1232,65");
    let e = parse(broken.as_bytes(), Input::Detect).unwrap_err();
    assert_eq!(e.line, mt.lines().position(|l| l.starts_with(":62F:")).unwrap() + 1, "{e}");
    assert!(e.message.starts_with(":62F:"), "{e}");
    let e =
        parse(mt.replace(":60F:C261129EUR1000,00", ":60F:X261129EUR1000,00").as_bytes(), Input::Detect).unwrap_err();
    assert!(e.message.contains("C or D"), "{e}");
    let e = parse(mt.replace("C250,00NTRF", "C25O,00NTRF").as_bytes(), Input::Detect).unwrap_err();
    assert!(e.message.starts_with(":61:"), "{e}");
    let csv = own("statement.csv");
    let e =
        parse(&csv, Input::Csv(&Mapping { amount: Some(delimited::Column::Name("Amount".into())), ..mapping() }, "x"))
            .unwrap_err();
    assert!(e.message.contains("no column `Amount`"), "{e}");
    let text = String::from_utf8(csv.clone()).unwrap().replace("-12,35", "twelve");
    let e = parse(text.as_bytes(), Input::Csv(&mapping(), "x")).unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("column 3"), "{e}");
    let text = String::from_utf8(csv).unwrap().replace("02.12.2026;;", "2026-12-02;;");
    assert_eq!(parse(text.as_bytes(), Input::Csv(&mapping(), "x")).unwrap_err().line, 4);
    assert!(Mapping::parse(r#"{"date": 1, "date_format": "YYYY-MM-DD", "currency": "EUR"}"#).is_err());
    assert!(Mapping::parse(r#"{"date": 1, "date_format": "YYYY-MM-DD", "amount": 2, "currency": "EUR", "colour": 1}"#)
        .is_err());
    assert!(parse(b"hello", Input::Detect).is_err());
}

#[test]
fn a_statement_that_does_not_add_up_says_by_how_much() {
    let mut s = parse(&own("camt053_v08.xml"), Input::Detect).unwrap().remove(0);
    s.lines[0].amount += 2;
    let c = s.check();
    assert_eq!((c.adds_up, c.difference), (Some(false), Some(-2)));
    s.lines.pop();
    assert!(s.check().problems.iter().any(|p| p.contains("declares 4 entries and holds 3")));
}

#[test]
fn sequences_report_gaps_and_overlaps() {
    let s = parse(&own("camt053_v08.xml"), Input::Detect).unwrap();
    let first = statement::Imported { sequence: Some(41), from: d("2026-11-29"), to: d("2026-11-29") };
    assert_eq!(statement::sequence(&s[1], &[first]), Sequence::InOrder);
    assert!(matches!(statement::sequence(&s[0], &[first]), Sequence::Overlap { .. }));
    let older = statement::Imported { sequence: Some(38), from: d("2026-11-26"), to: d("2026-11-26") };
    assert_eq!(statement::sequence(&s[0], &[older]), Sequence::Gap { previous: 38, missing: 2 });
    assert_eq!(statement::sequence(&s[0], &[]), Sequence::InOrder);
}

fn valid_files() -> Vec<Vec<u8>> {
    vec![own("camt053_v08.xml"), own("mt940_multi.sta"), own("statement.csv")]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn parsers_never_panic_on_mutated_files(file in 0usize..3, cuts in proptest::collection::vec((0usize..4000, any::<u8>()), 0..12), cut_at in proptest::option::of(0usize..4000)) {
        let mut bytes = valid_files()[file].clone();
        for (pos, b) in cuts {
            if !bytes.is_empty() {
                let i = pos % bytes.len();
                bytes[i] = b;
            }
        }
        if let Some(c) = cut_at {
            bytes.truncate(c.min(bytes.len()));
        }
        let _ = parse(&bytes, Input::Detect);
        let _ = camt::parse(&bytes);
        let _ = mt940::parse(&bytes);
        let _ = parse(&bytes, Input::Csv(&mapping(), "x"));
    }

    #[test]
    fn parsers_never_panic_on_noise(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = camt::parse(&bytes);
        let _ = mt940::parse(&bytes);
        let _ = parse(&bytes, Input::Csv(&mapping(), "x"));
    }

    #[test]
    fn amounts_read_exactly(minor in 0i64..1_000_000_000_000, comma in any::<bool>()) {
        let text = format!("{}{}{:02}", minor / 100, if comma { ',' } else { '.' }, minor % 100);
        prop_assert_eq!(statement::parse_amount(&text, eur(), if comma { ',' } else { '.' }), Ok(minor));
    }
}

fn ext(id: &str, amount: i64, date: &str, refs: &[&str], text: &str) -> External {
    External {
        id: id.into(),
        amount,
        date: d(date),
        refs: refs.iter().map(|r| r.to_uppercase()).collect(),
        text: text.into(),
        bank_code: None,
    }
}

fn int(seq: i64, amount: i64, date: &str, refs: &[&str], group: Option<&str>) -> Internal {
    Internal {
        seq,
        amount,
        date: d(date),
        refs: refs.iter().map(|r| r.to_uppercase()).collect(),
        text: String::new(),
        group: group.map(String::from),
    }
}

#[test]
fn matching_finds_each_kind_of_difference() {
    let lines = vec![
        ext("l1", 1_000, "2026-12-01", &["pay_1"], ""),
        ext("l2", 2_498, "2026-12-01", &["pay_2"], ""),
        ext("l3", 5_000, "2026-12-02", &[], "card"),
        ext("l4", 9_000, "2026-12-02", &["SETTLE-9"], "settlement"),
        ext("l5", 1_000, "2026-12-01", &["pay_1"], ""),
        ext("l6", -350, "2026-12-02", &[], "monthly bank fee"),
        ext("l7", 777, "2026-12-02", &[], "who"),
    ];
    let entries = vec![
        int(1, 1_000, "2026-12-01", &["pay_1"], None),
        int(2, 2_500, "2026-12-01", &["pay_2"], None),
        int(3, 5_000, "2026-12-04", &["pay_3"], None),
        int(4, 3_000, "2026-12-02", &["pay_4"], Some("stl_a")),
        int(5, 6_000, "2026-12-02", &["pay_5"], Some("stl_a")),
        int(6, 4_200, "2026-12-01", &["pay_6"], None),
    ];
    let rules = matching::default_rules();
    let p = matching::propose(&lines, &entries, &rules, &[]);
    let of = |line: usize| p.iter().find(|x| x.lines.contains(&line)).unwrap();
    assert_eq!((of(0).outcome, of(0).rule, of(0).entries.clone()), (Outcome::Matched, "reference", vec![0]));
    assert_eq!((of(1).outcome, of(1).difference), (Outcome::AmountMismatch, -2));
    assert_eq!((of(2).rule, of(2).entries.clone()), ("amount_date", vec![2]));
    assert_eq!((of(3).rule, of(3).entries.clone(), of(3).outcome), ("group", vec![3, 4], Outcome::Matched));
    assert_eq!((of(4).outcome, of(4).reason.as_str()), (Outcome::Duplicate, "repeats line l1"));
    assert_eq!(of(5).outcome, Outcome::BankFee);
    assert!(p.iter().all(|x| !x.lines.contains(&6)), "the extra line stays unmatched");
    assert!(p.iter().all(|x| !x.entries.contains(&5)), "the missing line leaves its entry unmatched");
    assert_eq!(matching::propose(&lines, &entries, &rules, &[]), p, "deterministic");
    let narrow = [Rule::AmountDate { window_days: 1, min_similarity: 0.0, amount_tolerance: 0 }];
    assert!(matching::propose(&lines[2..3], &entries[2..3], &narrow, &[]).is_empty(), "3 days apart is outside 1");
}

#[test]
fn many_lines_can_pay_one_entry_and_text_similarity_decides_ties() {
    let lines = vec![ext("a", 400, "2026-12-01", &[], ""), ext("b", 600, "2026-12-01", &[], "")];
    let entries = vec![int(1, 1_000, "2026-12-01", &[], None)];
    let p = matching::propose(&lines, &entries, &matching::default_rules(), &[]);
    assert_eq!((p.len(), p[0].lines.clone(), p[0].outcome), (1, vec![0, 1], Outcome::Matched));
    let lines = vec![ext("a", 500, "2026-12-01", &[], "ACME invoice 77")];
    let mut e1 = int(1, 500, "2026-12-01", &[], None);
    e1.text = "Globex order".into();
    let mut e2 = int(2, 500, "2026-12-01", &[], None);
    e2.text = "acme invoice 77".into();
    let rules = [Rule::AmountDate { window_days: 2, min_similarity: 0.5, amount_tolerance: 0 }];
    let p = matching::propose(&lines, &[e1, e2], &rules, &[]);
    assert_eq!(p[0].entries, vec![1]);
    assert!(matching::parse_rules(&serde_json::json!([{"kind": "amount_date", "window_days": 99}])).is_err());
    assert!(matching::parse_rules(&serde_json::json!([{"kind": "nearest"}])).is_err());
    assert!(matching::parse_rules(&serde_json::json!([{"kind": "reference", "x": 1}])).is_err());
    assert_eq!(
        matching::parse_rules(&serde_json::json!([{"kind": "group"}])).unwrap(),
        vec![Rule::Group { window_days: 3 }]
    );
}
