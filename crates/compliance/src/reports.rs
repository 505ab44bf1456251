//! Regulatory reports: currency transaction reports (cash in or out above the threshold per
//! person per business day, aggregated across payments) and suspicious activity report drafts,
//! as data and in the FinCEN BSA E-Filing batch XML shapes (`CTRX`, `SARX`, schemas v1.2 in
//! `xsd/`, validated in the tests).
//!
//! Amounts in the XML are whole units of the reporting currency rounded up, as FinCEN's
//! instructions ask. The batch attributes are computed from the details written:
//! `TotalAmount` is the sum of the activities' amounts (CTR: cash in plus cash out; SAR: the
//! total suspicious amount), `PartyCount` the persons reported (CTR: parties of type 50; SAR:
//! subjects, type 33), `ActivityCount` the reports.

use std::collections::{BTreeMap, BTreeSet};

use quick_xml::escape::escape;
use serde::{Deserialize, Serialize};

/// Who files: the institution, its transmitter and contact (`RIALTO_FINCEN_FILER`, JSON).
/// The defaults are placeholders a deployment must replace before filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Filer {
    /// Legal name.
    pub name: String,
    /// EIN, digits.
    pub tin: String,
    /// The transmitter control code FinCEN issued.
    pub tcc: String,
    /// Street address.
    pub street: String,
    /// City.
    pub city: String,
    /// State code.
    pub state: String,
    /// ZIP code.
    pub zip: String,
    /// ISO 3166 alpha-2 country.
    pub country: String,
    /// Contact office name.
    pub contact: String,
    /// Contact phone, digits.
    pub phone: String,
    /// FinCEN organisation type code (4: money services business).
    pub organization_type: i64,
    /// Primary federal regulator code (7: IRS, the regulator of MSBs).
    pub regulator: String,
}

impl Default for Filer {
    fn default() -> Self {
        Filer {
            name: "Rialto Payments Operator".into(),
            tin: "000000000".into(),
            tcc: "PBSA0000".into(),
            street: "1 Main Street".into(),
            city: "Springfield".into(),
            state: "IL".into(),
            zip: "62701".into(),
            country: "US".into(),
            contact: "Compliance Office".into(),
            phone: "2175550100".into(),
            organization_type: 4,
            regulator: "7".into(),
        }
    }
}

/// A person a report is about.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Subject {
    /// Rialto user id.
    pub user_id: String,
    /// Name as kept.
    pub name: String,
    /// Email, if known.
    pub email: Option<String>,
    /// Phone, if known.
    pub phone: Option<String>,
}

/// One cash payment as CTRs count it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashTransaction {
    /// Payment id.
    pub payment_id: String,
    /// The person.
    pub user_id: String,
    /// Cash in (a deposit) or out (a withdrawal).
    pub inbound: bool,
    /// Amount, minor units of the reporting currency.
    pub amount: i64,
    /// The customer's account it touched.
    pub account_id: String,
}

/// A currency transaction report: one person, one business day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ctr {
    /// The person.
    pub subject: Subject,
    /// Business day, `YYYY-MM-DD`.
    pub day: String,
    /// Reporting currency.
    pub currency: String,
    /// Cash in, minor units.
    pub cash_in: i64,
    /// Cash out, minor units.
    pub cash_out: i64,
    /// The payments aggregated.
    pub transactions: Vec<CashTransaction>,
}

/// The day's cash per person, kept where cash in or cash out is above `threshold` (minor
/// units; FinCEN: more than 10,000 USD). Sorted by user.
pub fn ctr_totals(cash: &[CashTransaction], threshold: i64) -> Vec<(String, i64, i64, Vec<CashTransaction>)> {
    let mut by_user: BTreeMap<&str, (i64, i64, Vec<CashTransaction>)> = BTreeMap::new();
    for t in cash {
        let e = by_user.entry(&t.user_id).or_default();
        if t.inbound {
            e.0 = e.0.saturating_add(t.amount);
        } else {
            e.1 = e.1.saturating_add(t.amount);
        }
        e.2.push(t.clone());
    }
    by_user
        .into_iter()
        .filter(|(_, (i, o, _))| *i > threshold || *o > threshold)
        .map(|(u, (i, o, ts))| (u.to_string(), i, o, ts))
        .collect()
}

/// A suspicious activity report draft, from a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sar {
    /// The subject.
    pub subject: Subject,
    /// The subject's accounts involved.
    pub accounts: Vec<String>,
    /// First day of the activity, `YYYY-MM-DD`.
    pub from_day: String,
    /// Last day.
    pub to_day: String,
    /// Currency of the amount.
    pub currency: String,
    /// Total suspicious amount, minor units.
    pub amount: i64,
    /// FinCEN (type, subtype) classifications, with text for an "other" subtype.
    pub classifications: Vec<(i64, i64, Option<String>)>,
    /// What happened, in words.
    pub narrative: String,
}

/// FinCEN's SAR classification for a typology: (type, subtype, text for "other").
pub fn classification(t: crate::aml::Typology) -> (i64, i64, Option<String>) {
    use crate::aml::Typology::*;
    match t {
        Structuring => (1, 114, None),
        RapidMovement => (8, 812, None),
        FanIn => (8, 824, None),
        FanOut => (8, 807, None),
        RoundTripping => (9, 925, None),
        DormantActivity => (8, 812, None),
        HighRiskCountry => (9, 928, None),
        SanctionsMatch => (9, 9999, Some("Sanctions list match".into())),
    }
}

/// Minor units to whole units, rounded up.
pub fn whole_units(minor: i64, exponent: u8) -> i64 {
    let unit = 10_i64.pow(u32::from(exponent));
    minor.div_euclid(unit) + i64::from(minor.rem_euclid(unit) != 0)
}

/// A value FinCEN's string patterns accept: whitespace runs as one space, trimmed, at most
/// `max` characters.
fn clean(text: &str, max: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.chars().take(max).collect::<String>().trim_end().to_string()
}

/// `YYYY-MM-DD` to `YYYYMMDD`.
fn compact(day: &str) -> String {
    day.replace('-', "")
}

/// A small XML writer: elements in order, every one with a `SeqNum` unique in the document.
struct Xml {
    out: String,
    seq: i64,
}

impl Xml {
    fn new() -> Xml {
        Xml { out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"), seq: 0 }
    }

    fn open(&mut self, tag: &str) {
        self.seq += 1;
        self.out.push_str(&format!("<fc2:{tag} SeqNum=\"{}\">", self.seq));
    }

    fn close(&mut self, tag: &str) {
        self.out.push_str(&format!("</fc2:{tag}>"));
    }

    fn leaf(&mut self, tag: &str, text: &str) {
        self.out.push_str(&format!("<fc2:{tag}>{}</fc2:{tag}>", escape(text)));
    }

    fn name(&mut self, code: Option<&str>, full: &str) {
        self.open("PartyName");
        if let Some(code) = code {
            self.leaf("PartyNameTypeCode", code);
        }
        self.leaf("RawEntityIndividualLastName", &clean(full, 150));
        self.close("PartyName");
    }

    /// A person's name: last name, first name (the last word is taken as the last name).
    fn person_name(&mut self, code: Option<&str>, full: &str) {
        let words: Vec<&str> = full.split_whitespace().collect();
        self.open("PartyName");
        match words.as_slice() {
            [] => {
                self.leaf("EntityLastNameUnknownIndicator", "Y");
                self.leaf("FirstNameUnknownIndicator", "Y");
                if let Some(code) = code {
                    self.leaf("PartyNameTypeCode", code);
                }
            }
            [only] => {
                self.leaf("FirstNameUnknownIndicator", "Y");
                if let Some(code) = code {
                    self.leaf("PartyNameTypeCode", code);
                }
                self.leaf("RawEntityIndividualLastName", &clean(only, 150));
            }
            [first @ .., last] => {
                if let Some(code) = code {
                    self.leaf("PartyNameTypeCode", code);
                }
                self.leaf("RawEntityIndividualLastName", &clean(last, 150));
                self.leaf("RawIndividualFirstName", &clean(&first.join(" "), 35));
            }
        }
        self.close("PartyName");
    }

    fn filer_address(&mut self, f: &Filer) {
        self.open("Address");
        self.leaf("RawCityText", &clean(&f.city, 50));
        self.leaf("RawCountryCodeText", &clean(&f.country, 2));
        self.leaf("RawStateCodeText", &clean(&f.state, 3));
        self.leaf("RawStreetAddress1Text", &clean(&f.street, 100));
        self.leaf("RawZIPCode", &clean(&f.zip, 9));
        self.close("Address");
    }

    fn unknown_address(&mut self) {
        self.open("Address");
        self.leaf("CityUnknownIndicator", "Y");
        self.leaf("CountryCodeUnknownIndicator", "Y");
        self.leaf("StateCodeUnknownIndicator", "Y");
        self.leaf("StreetAddressUnknownIndicator", "Y");
        self.leaf("ZIPCodeUnknownIndicator", "Y");
        self.close("Address");
    }

    fn phone(&mut self, number: &str) {
        let digits: String = number.chars().filter(char::is_ascii_digit).take(16).collect();
        self.open("PhoneNumber");
        self.leaf("PhoneNumberText", &digits);
        self.close("PhoneNumber");
    }

    fn identification(&mut self, code: &str, number: &str) {
        self.open("PartyIdentification");
        self.leaf("PartyIdentificationNumberText", &clean(number, 25));
        self.leaf("PartyIdentificationTypeCode", code);
        self.close("PartyIdentification");
    }

    fn organization(&mut self, f: &Filer) {
        self.open("OrganizationClassificationTypeSubtype");
        self.leaf("OrganizationTypeID", &f.organization_type.to_string());
        self.close("OrganizationClassificationTypeSubtype");
    }

    /// The transmitter (35) and its contact (37): the same for both forms.
    fn transmitter(&mut self, f: &Filer) {
        self.open("Party");
        self.leaf("ActivityPartyTypeCode", "35");
        self.name(Some("L"), &f.name);
        self.filer_address(f);
        self.phone(&f.phone);
        self.identification("4", &f.tin);
        self.identification("28", &f.tcc);
        self.close("Party");
        self.open("Party");
        self.leaf("ActivityPartyTypeCode", "37");
        self.name(Some("L"), &f.contact);
        self.close("Party");
    }

    /// The institution (30), where the activity happened (34: the same institution), and its
    /// contact for assistance (8): the same for both forms.
    fn institution(&mut self, f: &Filer) {
        for code in ["30", "34"] {
            self.open("Party");
            self.leaf("ActivityPartyTypeCode", code);
            self.leaf("PrimaryRegulatorTypeCode", &f.regulator);
            self.name(Some("L"), &f.name);
            self.filer_address(f);
            self.identification("2", &f.tin);
            self.organization(f);
            self.close("Party");
        }
        self.open("Party");
        self.leaf("ActivityPartyTypeCode", "8");
        self.name(Some("L"), &f.contact);
        self.phone(&f.phone);
        self.close("Party");
    }

    /// A reported person's phone, when what is kept has digits in it.
    fn subject_phone(&mut self, s: &Subject) {
        if let Some(p) = s.phone.as_deref().filter(|p| p.chars().any(|c| c.is_ascii_digit())) {
            self.phone(p);
        }
    }
}

/// A whole batch: the envelope with its attributes (`TotalAmount`, counts), the form code,
/// then the activities `write` adds.
fn batch(form: &str, attributes: &str, write: impl FnOnce(&mut Xml)) -> String {
    let mut x = Xml::new();
    x.out.push_str(&format!("<fc2:EFilingBatchXML xmlns:fc2=\"www.fincen.gov/base\" {attributes}>"));
    x.leaf("FormTypeCode", form);
    write(&mut x);
    x.out.push_str("</fc2:EFilingBatchXML>\n");
    x.out
}

/// The CTR batch of a set of reports (`FormTypeCode` `CTRX`), filed on `filing_day`
/// (`YYYY-MM-DD`). Amounts are in the reports' currency, whose minor unit has `exponent`
/// digits.
pub fn ctr_batch_xml(reports: &[Ctr], filer: &Filer, filing_day: &str, exponent: u8) -> String {
    let total: i64 = reports.iter().map(|r| whole_units(r.cash_in, exponent) + whole_units(r.cash_out, exponent)).sum();
    let n = reports.len();
    batch("CTRX", &format!("TotalAmount=\"{total}\" PartyCount=\"{n}\" ActivityCount=\"{n}\""), |x| {
        for r in reports {
            ctr_activity(x, r, filer, filing_day, exponent);
        }
    })
}

fn ctr_activity(x: &mut Xml, r: &Ctr, f: &Filer, filing_day: &str, exponent: u8) {
    x.open("Activity");
    x.leaf("FilingDateText", &compact(filing_day));
    x.open("ActivityAssociation");
    x.leaf("CorrectsAmendsPriorReportIndicator", "");
    x.leaf("FinCENDirectBackFileIndicator", "");
    x.leaf("InitialReportIndicator", "Y");
    x.close("ActivityAssociation");
    x.transmitter(f);
    x.institution(f);
    let (cash_in, cash_out) = (whole_units(r.cash_in, exponent), whole_units(r.cash_out, exponent));
    ctr_person(x, r, (cash_in, cash_out));
    x.open("CurrencyTransactionActivity");
    x.leaf("AggregateTransactionIndicator", if r.transactions.len() > 1 { "Y" } else { "" });
    for tag in [
        "ArmoredCarServiceIndicator",
        "ATMIndicator",
        "MailDepositShipmentIndicator",
        "NightDepositIndicator",
        "SharedBranchingIndicator",
    ] {
        x.leaf(tag, "");
    }
    x.leaf("TotalCashInReceiveAmountText", &cash_in.to_string());
    x.leaf("TotalCashOutAmountText", &cash_out.to_string());
    x.leaf("TransactionDateText", &compact(&r.day));
    for (code, amount) in [("55", cash_in), ("56", cash_out)] {
        if amount > 0 {
            x.open("CurrencyTransactionActivityDetail");
            x.leaf("CurrencyTransactionActivityDetailTypeCode", code);
            x.leaf("DetailTransactionAmountText", &amount.to_string());
            x.leaf("OtherCurrencyTransactionActivityDetailText", "");
            x.leaf("OtherForeignCurrencyCountryText", "");
            x.close("CurrencyTransactionActivityDetail");
        }
    }
    x.close("CurrencyTransactionActivity");
    x.close("Activity");
}

/// The person conducting the transactions on their own behalf (50), with the accounts the
/// cash went into or came out of.
fn ctr_person(x: &mut Xml, r: &Ctr, (cash_in, cash_out): (i64, i64)) {
    x.open("Party");
    x.leaf("ActivityPartyTypeCode", "50");
    x.leaf("BirthDateUnknownIndicator", "Y");
    if cash_in > 0 {
        x.leaf("IndividualEntityCashInAmountText", &cash_in.to_string());
    }
    if cash_out > 0 {
        x.leaf("IndividualEntityCashOutAmountText", &cash_out.to_string());
    }
    x.leaf("MultipleTransactionsPersonsIndividualsIndicator", if r.transactions.len() > 1 { "Y" } else { "" });
    x.leaf("UnknownGenderIndicator", "Y");
    x.person_name(Some("L"), &r.subject.name);
    x.unknown_address();
    x.subject_phone(&r.subject);
    x.open("PartyIdentification");
    x.leaf("IdentificationPresentUnknownIndicator", "Y");
    x.leaf("TINUnknownIndicator", "Y");
    x.close("PartyIdentification");
    if let Some(e) = r.subject.email.as_deref() {
        x.open("ElectronicAddress");
        x.leaf("ElectronicAddressText", &clean(e, 517));
        x.close("ElectronicAddress");
    }
    let accounts: BTreeSet<(&str, bool)> = r.transactions.iter().map(|t| (t.account_id.as_str(), t.inbound)).collect();
    for (account, inbound) in accounts.into_iter().take(198) {
        x.open("Account");
        x.leaf("AccountNumberText", &clean(account, 40));
        x.open("PartyAccountAssociation");
        x.leaf("PartyAccountAssociationTypeCode", if inbound { "8" } else { "9" });
        x.close("PartyAccountAssociation");
        x.close("Account");
    }
    x.close("Party");
}

/// Narrative blocks FinCEN takes: five of 4,000 characters.
const NARRATIVE_BLOCK: usize = 4_000;

/// The SAR batch of a set of drafts (`FormTypeCode` `SARX`), filed on `filing_day`.
pub fn sar_batch_xml(reports: &[Sar], filer: &Filer, filing_day: &str, exponent: u8) -> String {
    let total: i64 = reports.iter().map(|r| whole_units(r.amount, exponent)).sum();
    let n = reports.len();
    let attributes = format!(
        "TotalAmount=\"{total}\" PartyCount=\"{n}\" ActivityCount=\"{n}\" ActivityAttachmentCount=\"0\" AttachmentCount=\"0\""
    );
    batch("SARX", &attributes, |x| {
        for r in reports {
            sar_activity(x, r, filer, filing_day, exponent);
        }
    })
}

fn sar_activity(x: &mut Xml, r: &Sar, f: &Filer, filing_day: &str, exponent: u8) {
    x.open("Activity");
    x.leaf("FilingDateText", &compact(filing_day));
    x.open("ActivityAssociation");
    x.leaf("InitialReportIndicator", "Y");
    x.close("ActivityAssociation");
    x.transmitter(f);
    x.institution(f);
    sar_subject(x, r, f);
    x.open("SuspiciousActivity");
    x.leaf("SuspiciousActivityFromDateText", &compact(&r.from_day));
    x.leaf("SuspiciousActivityToDateText", &compact(&r.to_day));
    x.leaf("TotalSuspiciousAmountText", &whole_units(r.amount, exponent).to_string());
    let mut seen = BTreeSet::new();
    for (kind, subtype, other) in r.classifications.iter().filter(|c| seen.insert(c.1)) {
        x.open("SuspiciousActivityClassification");
        if let Some(text) = other {
            x.leaf("OtherSuspiciousActivityTypeText", &clean(text, 50));
        }
        x.leaf("SuspiciousActivitySubtypeID", &subtype.to_string());
        x.leaf("SuspiciousActivityTypeID", &kind.to_string());
        x.close("SuspiciousActivityClassification");
    }
    x.close("SuspiciousActivity");
    let chars: Vec<char> = r.narrative.chars().collect();
    let blocks: Vec<String> = if chars.is_empty() {
        vec!["No narrative recorded.".into()]
    } else {
        chars.chunks(NARRATIVE_BLOCK).take(5).map(|c| c.iter().collect()).collect()
    };
    for (i, block) in blocks.iter().enumerate() {
        x.open("ActivityNarrativeInformation");
        x.leaf("ActivityNarrativeSequenceNumber", &(i + 1).to_string());
        x.leaf("ActivityNarrativeText", block);
        x.close("ActivityNarrativeInformation");
    }
    x.close("Activity");
}

/// The subject (33), with the accounts involved at the filing institution.
fn sar_subject(x: &mut Xml, r: &Sar, f: &Filer) {
    x.open("Party");
    x.leaf("ActivityPartyTypeCode", "33");
    x.leaf("BirthDateUnknownIndicator", "Y");
    x.leaf("UnknownGenderIndicator", "Y");
    x.person_name(Some("L"), &r.subject.name);
    x.unknown_address();
    x.subject_phone(&r.subject);
    x.open("PartyIdentification");
    x.leaf("TINUnknownIndicator", "Y");
    x.close("PartyIdentification");
    if let Some(e) = r.subject.email.as_deref() {
        x.open("ElectronicAddress");
        x.leaf("ElectronicAddressText", &clean(e, 517));
        x.leaf("ElectronicAddressTypeCode", "E");
        x.close("ElectronicAddress");
    }
    x.open("PartyAssociation");
    x.leaf("CustomerIndicator", "Y");
    x.close("PartyAssociation");
    if !r.accounts.is_empty() {
        x.open("PartyAccountAssociation");
        x.leaf("PartyAccountAssociationTypeCode", "5");
        x.open("Party");
        x.leaf("ActivityPartyTypeCode", "41");
        x.identification("2", &f.tin);
        for account in r.accounts.iter().take(99) {
            x.open("Account");
            x.leaf("AccountNumberText", &clean(account, 40));
            x.open("PartyAccountAssociation");
            x.leaf("PartyAccountAssociationTypeCode", "7");
            x.close("PartyAccountAssociation");
            x.close("Account");
        }
        x.close("Party");
        x.close("PartyAccountAssociation");
    }
    x.close("Party");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cash(id: &str, user: &str, inbound: bool, amount: i64) -> CashTransaction {
        CashTransaction { payment_id: id.into(), user_id: user.into(), inbound, amount, account_id: "acct_1".into() }
    }

    #[test]
    fn a_ctr_is_for_more_than_the_threshold_in_or_out_per_person() {
        let day = [
            cash("p1", "u1", true, 400_000),
            cash("p2", "u1", true, 300_000),
            cash("p3", "u1", true, 300_100),
            cash("p4", "u2", true, 999_900),
            cash("p5", "u3", true, 600_000),
            cash("p6", "u3", false, 600_000),
            cash("p7", "u4", false, 1_000_000),
        ];
        let found = ctr_totals(&day, 1_000_000);
        let users: Vec<&str> = found.iter().map(|(u, ..)| u.as_str()).collect();
        // 10,001.00 across three deposits: yes; 9,999.00: no; 6,000 in and 6,000 out: no
        // (each direction on its own); exactly 10,000.00: no (more than).
        assert_eq!(users, ["u1"]);
        assert_eq!(found[0].1, 1_000_100);
        assert_eq!(found[0].3.len(), 3);
    }

    #[test]
    fn amounts_round_up_to_whole_units_and_text_is_cleaned() {
        assert_eq!(whole_units(1_000_100, 2), 10_001);
        assert_eq!(whole_units(1_000_101, 2), 10_002);
        assert_eq!(whole_units(500, 0), 500);
        assert_eq!(clean("  Jane \t  Doe\n ", 150), "Jane Doe");
        assert_eq!(clean("abcdef", 3), "abc");
    }

    #[test]
    fn batch_totals_follow_the_details() {
        let subject = Subject { user_id: "u1".into(), name: "Jane Q Doe".into(), email: None, phone: None };
        let ctr = Ctr {
            subject: subject.clone(),
            day: "2026-12-01".into(),
            currency: "USD".into(),
            cash_in: 1_000_100,
            cash_out: 0,
            transactions: vec![cash("p1", "u1", true, 1_000_100)],
        };
        let xml = ctr_batch_xml(&[ctr.clone(), ctr], &Filer::default(), "2026-12-02", 2);
        assert!(xml.contains("TotalAmount=\"20002\" PartyCount=\"2\" ActivityCount=\"2\""), "{xml}");
        assert!(xml.contains("<fc2:TotalCashInReceiveAmountText>10001</fc2:TotalCashInReceiveAmountText>"));
        assert!(xml.contains("<fc2:RawIndividualFirstName>Jane Q</fc2:RawIndividualFirstName>"));
        let sar = Sar {
            subject,
            accounts: vec!["acct_1".into()],
            from_day: "2026-11-30".into(),
            to_day: "2026-12-01".into(),
            currency: "USD".into(),
            amount: 2_850_000,
            classifications: vec![(1, 114, None), (1, 114, None)],
            narrative: "x & <y>".into(),
        };
        let xml = sar_batch_xml(&[sar], &Filer::default(), "2026-12-02", 2);
        assert!(xml.contains("TotalAmount=\"28500\" PartyCount=\"1\""));
        assert_eq!(xml.matches("<fc2:SuspiciousActivityClassification ").count(), 1, "one per subtype");
        assert!(xml.contains("x &amp; &lt;y&gt;"));
    }
}
