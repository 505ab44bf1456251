//! The scorecard's design: which characteristics each part fits, their directions and
//! adverse-action reasons, and the policy bins where no shippable public data supports a
//! fitted figure. `rialto model train-credit` reads this; the codes and texts are documented
//! in docs/MODELS.md.

use super::card::Characteristic;
use super::fit::{extend_with_policy, policy_characteristic, Direction, Kind, Spec, Steps};
use crate::ml::Scaling;

const fn spec(
    name: &'static str,
    description: &'static str,
    kind: Kind,
    code: &'static str,
    text: &'static str,
) -> Spec {
    Spec { name, description, kind, reason: (code, text) }
}

use Direction::{Riskier, Safer, Trend};
use Kind::{Categorical, Numeric};

/// The application part, fitted on `modeldata::credit_data`: the applicant's means, burden and
/// record of defaults (every predictor of the dataset except age and marital status; debt enters
/// through net assets: alone, as debt-to-income, its weight came out with the wrong sign, since
/// in this data applicants with debts went bad slightly less often).
#[rustfmt::skip]
pub const APPLICATION: &[Spec] = &[
    spec("defaults", "defaults on record (count)", Numeric(Riskier), "R01", "Serious delinquency or default on record"),
    spec("employment_years", "employment_years", Numeric(Safer), "R13", "Length of employment"),
    spec("employment_type", "employment_type", Categorical, "R14", "Temporary or irregular employment"),
    spec("housing", "housing", Categorical, "R15", "Type of residence"),
    spec("term_months", "term_months", Numeric(Trend), "R16", "Term of the credit requested"),
    spec("expenses_to_income", "monthly_expenses / income", Numeric(Riskier), "R09", "Expenses are high in relation to income"),
    spec("installment_to_income", "loan_amount / term_months / income", Numeric(Riskier), "R10", "Income insufficient for amount of credit requested"),
    spec("loan_to_value", "loan_amount / purchase_price", Numeric(Riskier), "R11", "Amount requested is high in relation to the value of the purchase"),
    spec("net_assets_to_loan", "(assets - total_debt) / loan_amount", Numeric(Safer), "R12", "Assets net of debts are low in relation to the amount of credit requested"),
];

/// The bureau part, fitted on `modeldata::lending_club`.
#[rustfmt::skip]
pub const BUREAU: &[Spec] = &[
    spec("credit_utilization", "credit_utilization", Numeric(Riskier), "R05", "Proportion of balances to credit limits is too high"),
    spec("hard_inquiries_6m", "hard_inquiries_6m", Numeric(Riskier), "R06", "Number of recent inquiries on credit bureau report"),
    spec("accounts_opened_12m", "accounts_opened_12m", Numeric(Riskier), "R07", "Too many credit accounts opened recently"),
];

/// The payment-history part, fitted on `causaldata::credit_cards` (30,000 Taiwanese card
/// holders: late in April, then late in September).
#[rustfmt::skip]
pub const PAYMENTS: &[Spec] = &[
    spec("late_payments", "late_payments", Numeric(Riskier), "R03", "Delinquent past or present credit obligations with others"),
];

/// Bins beyond the data, as `(upper bound, bad-odds multiplier)`: the data knows 0 against 1
/// or more defaults and late payments; more of them multiply the bad odds further.
pub const DEFAULTS_BEYOND_ONE: &Steps = &[(Some(1.0), 1.0), (Some(3.0), 1.5), (None, 2.25)];
/// See [`DEFAULTS_BEYOND_ONE`].
pub const LATE_BEYOND_ONE: &Steps = &[(Some(1.0), 1.0), (Some(3.0), 1.5), (Some(9.0), 2.25), (None, 3.0)];

/// Extends the fitted defaults and late-payment characteristics with their policy bins.
pub fn extend(c: &mut Characteristic, scaling: Scaling) {
    let note = "0 against 1 or more is fitted; 2-3 multiply the bad odds of 1 by 1.5, more by 2.25 (and 10+ late payments by 3): policy, no shippable data counts them";
    match c.name.as_str() {
        "defaults" => extend_with_policy(c, DEFAULTS_BEYOND_ONE, scaling, note),
        "late_payments" => extend_with_policy(c, LATE_BEYOND_ONE, scaling, note),
        _ => {}
    }
}

/// Characteristics set by policy with their bins: no public data the project can ship has them
/// with an outcome. Each bin multiplies the bad odds of the best bin (0 points) by the stated
/// factor.
#[rustfmt::skip]
pub const POLICY: &[(Spec, &Steps)] = &[
    (spec("months_since_last_default", "months_since_last_default (no default on record: the best bin)", Numeric(Safer), "R02", "Time since the most recent default or serious delinquency is too short"),
        &[(Some(11.0), 2.0), (Some(23.0), 1.6), (Some(47.0), 1.3), (Some(83.0), 1.1), (None, 1.0)]),
    (spec("credit_history_months", "credit_history_months", Numeric(Safer), "R04", "Length of credit history is too short"),
        &[(Some(11.0), 1.8), (Some(35.0), 1.4), (Some(83.0), 1.15), (None, 1.0)]),
    (spec("on_time_payments", "on_time_payments", Numeric(Safer), "R18", "Limited credit experience: few payments on record"),
        &[(Some(0.0), 1.4), (Some(11.0), 1.2), (Some(47.0), 1.05), (None, 1.0)]),
    (spec("open_accounts", "open_accounts", Numeric(Safer), "R17", "Insufficient number of credit accounts"),
        &[(Some(0.0), 1.3), (Some(2.0), 1.1), (None, 1.0)]),
];

/// The policy characteristics with their points.
pub fn policy(scaling: Scaling) -> Vec<Characteristic> {
    let note = "policy bins: each multiplies the bad odds of the best bin by the stated factor (points = -factor x ln multiplier); no shippable public dataset has this field with an outcome";
    POLICY.iter().map(|(s, steps)| policy_characteristic(s, steps, scaling, note)).collect()
}

/// Every characteristic as a fitted spec: what a lender's own book (`rialto model train-credit
/// --book`) is fitted on, policy ones included.
pub fn all_specs() -> Vec<Spec> {
    APPLICATION.iter().chain(BUREAU).chain(PAYMENTS).cloned().chain(POLICY.iter().map(|(s, _)| s.clone())).collect()
}
