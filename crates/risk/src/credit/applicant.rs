//! A credit applicant as a lender sends it: the fields, their types and ranges, the
//! combinations refused as impossible, and the characteristics derived from them.
//!
//! Age is taken only to check eligibility (18 or older) and plausibility (years in a job,
//! length of credit history); it is never a characteristic. Sex, marital status, nationality
//! and the like are refused outright: the scorecard must not see them.

use std::collections::BTreeMap;

use super::card::Input;

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldKind {
    /// A whole number (a count, months, years of age).
    Count,
    /// A number (money per month in the applicant's currency, years, a ratio).
    Number,
    /// One of the listed words.
    Category(&'static [&'static str]),
}

/// One accepted field.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Its name in the request.
    pub name: &'static str,
    /// Its type.
    pub kind: FieldKind,
    /// Smallest accepted value (numbers).
    pub min: f64,
    /// Largest accepted value (numbers).
    pub max: f64,
    /// Whether a request must carry it.
    pub required: bool,
    /// Whether `"unknown"` is accepted (a bureau has no record); it scores as missing.
    pub unknown: bool,
    /// What it means, with its unit.
    pub description: &'static str,
}

const MONEY_MAX: f64 = 1e12;

const fn field(
    name: &'static str,
    kind: FieldKind,
    range: (f64, f64),
    required: bool,
    unknown: bool,
    description: &'static str,
) -> Field {
    Field { name, kind, min: range.0, max: range.1, required, unknown, description }
}

/// Employment types.
pub const EMPLOYMENT_TYPES: &[&str] = &["permanent", "self_employed", "part_time", "other"];
/// Housing situations.
pub const HOUSING: &[&str] = &["owner", "rent", "with_parents", "private", "other"];

use FieldKind::{Category, Count, Number};

/// The accepted fields, in the order they are documented.
#[rustfmt::skip]
pub const FIELDS: &[Field] = &[
    field("age", Count, (18.0, 120.0), true, false, "age in years: eligibility (18 or older) and plausibility only, never scored"),
    field("income", Number, (0.0, MONEY_MAX), true, false, "net income per month, in the applicant's currency"),
    field("employment_years", Number, (0.0, 80.0), true, false, "years with the current employer"),
    field("total_debt", Number, (0.0, MONEY_MAX), true, false, "outstanding debt, same currency as income"),
    field("defaults", Count, (0.0, 1000.0), true, false, "defaults, charge-offs or arrears on record"),
    field("months_since_last_default", Count, (0.0, 1200.0), false, true, "months since the most recent default (only with defaults > 0)"),
    field("late_payments", Count, (0.0, 100_000.0), false, true, "payments made 30 or more days late, on the bureau record"),
    field("on_time_payments", Count, (0.0, 100_000.0), false, true, "payments made on time, on the bureau record"),
    field("credit_history_months", Count, (0.0, 1200.0), false, true, "months since the oldest credit account was opened"),
    field("open_accounts", Count, (0.0, 1000.0), false, true, "credit accounts open now"),
    field("accounts_opened_12m", Count, (0.0, 1000.0), false, true, "credit accounts opened in the last 12 months"),
    field("credit_utilization", Number, (0.0, 10.0), false, true, "balances over credit limits, all accounts on the bureau record (0.5 = 50%)"),
    field("hard_inquiries_6m", Count, (0.0, 1000.0), false, true, "hard credit inquiries in the last 6 months"),
    field("employment_type", Category(EMPLOYMENT_TYPES), (0.0, 0.0), false, false, "permanent, self_employed, part_time or other"),
    field("housing", Category(HOUSING), (0.0, 0.0), false, false, "owner, rent, with_parents, private (a private arrangement) or other"),
    field("loan_amount", Number, (0.01, MONEY_MAX), false, false, "amount applied for, same currency as income"),
    field("purchase_price", Number, (0.01, MONEY_MAX), false, false, "price of what the loan buys, same currency"),
    field("term_months", Count, (1.0, 600.0), false, false, "term of the loan applied for, in months"),
    field("monthly_expenses", Number, (0.0, MONEY_MAX), false, false, "regular expenses per month, same currency"),
    field("assets", Number, (0.0, MONEY_MAX), false, false, "value of the applicant's assets, same currency"),
];

/// Names a request may not carry: protected attributes are not model inputs.
pub const PROTECTED: &[&str] = &[
    "sex",
    "gender",
    "marital_status",
    "marital",
    "nationality",
    "citizenship",
    "national_origin",
    "race",
    "ethnicity",
    "religion",
    "color",
    "colour",
    "disability",
    "date_of_birth",
];

/// The characteristics an applicant derives ([`Applicant::inputs`]), in the order a scorecard
/// publishes them; a scorecard may score only these.
pub const CHARACTERISTICS: [&str; 17] = [
    "defaults",
    "months_since_last_default",
    "late_payments",
    "on_time_payments",
    "credit_history_months",
    "open_accounts",
    "accounts_opened_12m",
    "credit_utilization",
    "hard_inquiries_6m",
    "installment_to_income",
    "expenses_to_income",
    "loan_to_value",
    "net_assets_to_loan",
    "employment_years",
    "employment_type",
    "housing",
    "term_months",
];

/// A field's value as given.
#[derive(Debug, Clone, PartialEq)]
pub enum Given {
    /// A number within the field's range.
    Number(f64),
    /// One of the field's categories.
    Category(&'static str),
    /// `"unknown"`.
    Unknown,
}

/// Why a request is refused: the field and the words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The offending field.
    pub param: String,
    /// What is wrong, for the caller.
    pub message: String,
}

fn invalid(param: &str, message: String) -> Invalid {
    Invalid { param: param.to_string(), message }
}

/// A validated applicant: every field in range and of its type, the combinations plausible.
#[derive(Debug, Clone, PartialEq)]
pub struct Applicant {
    given: BTreeMap<&'static str, Given>,
}

impl Applicant {
    /// Parses a request object.
    pub fn parse(doc: &serde_json::Map<String, serde_json::Value>) -> Result<Applicant, Invalid> {
        if let Some(k) = doc.keys().find(|k| PROTECTED.contains(&k.as_str())) {
            return Err(invalid(
                k,
                format!("`{k}` is a protected attribute: it is not a scorecard input and must not be sent"),
            ));
        }
        if let Some(k) = doc.keys().find(|k| !FIELDS.iter().any(|f| f.name == k.as_str())) {
            return Err(invalid(k, format!("unknown field `{k}`")));
        }
        let mut given = BTreeMap::new();
        for f in FIELDS {
            match doc.get(f.name) {
                None if f.required => return Err(invalid(f.name, format!("`{}` is required", f.name))),
                None => {}
                Some(serde_json::Value::Null) => {
                    return Err(invalid(
                        f.name,
                        format!(
                            "`{}` may not be null: leave it out, or send \"unknown\" where a bureau has no record",
                            f.name
                        ),
                    ))
                }
                Some(v) => {
                    given.insert(f.name, parse_value(f, v)?);
                }
            }
        }
        let a = Applicant { given };
        a.check_plausible()?;
        Ok(a)
    }

    /// A numeric field's value, if given as a number.
    pub fn number(&self, name: &str) -> Option<f64> {
        match self.given.get(name) {
            Some(Given::Number(x)) => Some(*x),
            _ => None,
        }
    }

    fn category(&self, name: &str) -> Option<&'static str> {
        match self.given.get(name) {
            Some(Given::Category(c)) => Some(c),
            _ => None,
        }
    }

    /// Refuses combinations no real applicant has.
    fn check_plausible(&self) -> Result<(), Invalid> {
        let age = self.number("age").unwrap_or(18.0);
        // Age is in whole years: an applicant of `age` may be up to a year older.
        let adult_months = (age - 17.0) * 12.0;
        if let Some(e) = self.number("employment_years").filter(|e| *e > age - 14.0) {
            return Err(invalid(
                "employment_years",
                format!("{e} years with the employer is more than age {age} minus 14"),
            ));
        }
        if let Some(h) = self.number("credit_history_months").filter(|h| *h > adult_months) {
            return Err(invalid("credit_history_months", format!("{h} months of credit history is longer than the adult life of a {age}-year-old ({adult_months} months)")));
        }
        let defaults = self.number("defaults").unwrap_or(0.0);
        if let Some(m) = self.number("months_since_last_default") {
            if defaults == 0.0 {
                return Err(invalid(
                    "months_since_last_default",
                    "months since the last default given, but defaults is 0".into(),
                ));
            }
            if m > adult_months {
                return Err(invalid(
                    "months_since_last_default",
                    format!("{m} months ago is before the applicant was 18 (at most {adult_months} months)"),
                ));
            }
            if let Some(h) = self.number("credit_history_months").filter(|h| m > *h) {
                return Err(invalid(
                    "months_since_last_default",
                    format!("the last default ({m} months ago) is older than the credit history ({h} months)"),
                ));
            }
        }
        if let (Some(opened), Some(h)) = (self.number("accounts_opened_12m"), self.number("credit_history_months")) {
            if opened > 0.0 && h == 0.0 {
                return Err(invalid(
                    "accounts_opened_12m",
                    "accounts were opened, but the credit history is 0 months long".into(),
                ));
            }
        }
        Ok(())
    }

    /// The scorecard's characteristics of this applicant (missing where a field is missing or
    /// `"unknown"`).
    pub fn inputs(&self) -> BTreeMap<String, Input> {
        let n = |name: &str| self.number(name);
        let mut m = BTreeMap::new();
        for name in [
            "employment_years",
            "defaults",
            "late_payments",
            "on_time_payments",
            "credit_history_months",
            "open_accounts",
            "accounts_opened_12m",
            "credit_utilization",
            "hard_inquiries_6m",
            "term_months",
        ] {
            m.insert(name.to_string(), n(name).map_or(Input::Missing, Input::Number));
        }
        for name in ["employment_type", "housing"] {
            m.insert(name.to_string(), self.category(name).map_or(Input::Missing, |c| Input::Category(c.to_string())));
        }
        // No default on record: the longest time since one.
        let since = if n("defaults") == Some(0.0) { Some(f64::INFINITY) } else { n("months_since_last_default") };
        m.insert("months_since_last_default".into(), since.map_or(Input::Missing, Input::Number));
        let installment = match (n("loan_amount"), n("term_months")) {
            (Some(a), Some(t)) => Some(a / t),
            _ => None,
        };
        m.insert("expenses_to_income".into(), ratio(n("monthly_expenses"), n("income")));
        m.insert("installment_to_income".into(), ratio(installment, n("income")));
        m.insert("loan_to_value".into(), ratio(n("loan_amount"), n("purchase_price")));
        let net_assets = n("assets").zip(n("total_debt")).map(|(a, d)| a - d);
        m.insert("net_assets_to_loan".into(), ratio(net_assets, n("loan_amount")));
        m
    }
}

/// `a / b` as a characteristic: missing if either is; `x / 0` is infinite (the riskiest end of
/// a ratio of burden to means), `0 / 0` is 0.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Input {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Input::Number(a / b),
        (Some(a), Some(_)) if a > 0.0 => Input::Number(f64::INFINITY),
        (Some(_), Some(_)) => Input::Number(0.0),
        _ => Input::Missing,
    }
}

fn parse_value(f: &Field, v: &serde_json::Value) -> Result<Given, Invalid> {
    if f.unknown && v.as_str() == Some("unknown") {
        return Ok(Given::Unknown);
    }
    match f.kind {
        FieldKind::Category(words) => v
            .as_str()
            .and_then(|s| words.iter().find(|w| **w == s))
            .map(|w| Given::Category(w))
            .ok_or_else(|| invalid(f.name, format!("`{}` must be one of {}", f.name, words.join(", ")))),
        FieldKind::Count | FieldKind::Number => {
            let whole = f.kind == FieldKind::Count;
            let unknown = if f.unknown { " or \"unknown\"" } else { "" };
            let what = if whole { "a whole number" } else { "a number" };
            v.as_f64()
                .filter(|x| x.is_finite() && (f.min..=f.max).contains(x) && (!whole || x.fract() == 0.0))
                .map(Given::Number)
                .ok_or_else(|| {
                    invalid(f.name, format!("`{}` must be {what} from {} to {}{unknown}", f.name, f.min, f.max))
                })
        }
    }
}
