//! AML typologies: laundering patterns over a user's recent payments. Each typology is
//! configurable ([`Typologies`]), and each produces an [`Alert`] naming the payments involved
//! and the figures it saw. Pure: the store hands over the committed payments around one
//! payment ([`Context`]); the monitor turns alerts into cases.
//!
//! Windows are half-open like the risk windows: a window of `w` seconds at `t` holds what
//! happened in `(t - w, t]`.

use std::collections::{BTreeSet, HashMap, HashSet};

use rialto_core::Currency;
use rialto_payments::{PaymentKind, PaymentMethod};
use serde::{Deserialize, Serialize};
use serde_json::json;

rialto_core::string_enum! {
    /// What an alert is about.
    pub enum Typology {
        /// Several cash payments just under the reporting threshold within a day.
        Structuring = "structuring",
        /// Funds in and out of an account again within hours.
        RapidMovement = "rapid_movement",
        /// Many distinct payers into one account.
        FanIn = "fan_in",
        /// Many distinct payees from one user.
        FanOut = "fan_out",
        /// Money that comes back to where it started through intermediaries.
        RoundTripping = "round_tripping",
        /// A long-quiet user suddenly paying.
        DormantActivity = "dormant_activity",
        /// A payment that names a high-risk country.
        HighRiskCountry = "high_risk_country",
        /// A sanctions screening that matched (review or hit).
        SanctionsMatch = "sanctions_match",
    }
}

/// What an alert does beyond opening a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    /// Only opens (or joins) a case.
    Alert,
    /// Also holds the user's further payments for review while the case is open.
    Hold,
}

const DAY: i64 = 86_400;

/// Structuring: `min_count` or more cash deposits or withdrawals in the reporting currency
/// within `window_seconds`, each at most `threshold` and within `margin_percent` under it,
/// together above it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Structuring {
    /// On or off.
    pub enabled: bool,
    /// Alert or hold.
    pub action: AlertAction,
    /// The reporting threshold, minor units of the reporting currency.
    pub threshold: i64,
    /// How far under the threshold a payment may be, percent.
    pub margin_percent: i64,
    /// Payments needed.
    pub min_count: usize,
    /// Window.
    pub window_seconds: i64,
}

impl Default for Structuring {
    fn default() -> Self {
        Structuring {
            enabled: true,
            action: AlertAction::Alert,
            threshold: 1_000_000,
            margin_percent: 20,
            min_count: 2,
            window_seconds: DAY,
        }
    }
}

/// Rapid movement: at least `min_amount` into an account and `out_percent` of it out again
/// within `window_seconds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RapidMovement {
    /// On or off.
    pub enabled: bool,
    /// Alert or hold.
    pub action: AlertAction,
    /// Least amount in, minor units of the account's currency.
    pub min_amount: i64,
    /// Share of it that must leave, percent.
    pub out_percent: i64,
    /// Window.
    pub window_seconds: i64,
}

impl Default for RapidMovement {
    fn default() -> Self {
        RapidMovement {
            enabled: true,
            action: AlertAction::Alert,
            min_amount: 500_000,
            out_percent: 90,
            window_seconds: 6 * 3600,
        }
    }
}

/// Fan-in or fan-out: `min_parties` distinct counterparties within `window_seconds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Fan {
    /// On or off.
    pub enabled: bool,
    /// Alert or hold.
    pub action: AlertAction,
    /// Distinct counterparties needed.
    pub min_parties: usize,
    /// Window.
    pub window_seconds: i64,
}

impl Default for Fan {
    fn default() -> Self {
        Fan { enabled: true, action: AlertAction::Alert, min_parties: 10, window_seconds: DAY }
    }
}

/// Round-tripping: a payment that closes a cycle of at least three accounts, each hop later
/// than the one before, within `window_seconds`, each hop at least `min_percent` of the
/// closing amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoundTripping {
    /// On or off.
    pub enabled: bool,
    /// Alert or hold.
    pub action: AlertAction,
    /// Longest cycle, in payments (3..=6).
    pub max_hops: usize,
    /// Least share of the closing amount each hop carries, percent.
    pub min_percent: i64,
    /// Least closing amount searched from, minor units (smaller payments are not followed).
    pub min_amount: i64,
    /// Window.
    pub window_seconds: i64,
}

impl RoundTripping {
    /// Whether a payment of `amount` is searched from.
    pub fn applies(&self, amount: i64) -> bool {
        self.enabled && amount >= self.min_amount
    }
}

impl Default for RoundTripping {
    fn default() -> Self {
        RoundTripping {
            enabled: true,
            action: AlertAction::Alert,
            max_hops: 4,
            min_percent: 80,
            min_amount: 100_000,
            window_seconds: 7 * DAY,
        }
    }
}

/// Dormant account suddenly active: a payment of at least `min_amount` by a user who paid
/// nothing for `dormant_days` (or, never having paid, joined that long ago).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Dormant {
    /// On or off.
    pub enabled: bool,
    /// Alert or hold.
    pub action: AlertAction,
    /// Quiet days.
    pub dormant_days: i64,
    /// Least amount, minor units.
    pub min_amount: i64,
}

impl Default for Dormant {
    fn default() -> Self {
        Dormant { enabled: true, action: AlertAction::Alert, dormant_days: 180, min_amount: 100_000 }
    }
}

/// High-risk countries: a payment whose payer location or counterparty is in `countries`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HighRisk {
    /// On or off.
    pub enabled: bool,
    /// Alert or hold.
    pub action: AlertAction,
    /// ISO 3166 alpha-2 codes (default: FATF's "call for action" list: Iran, North Korea,
    /// Myanmar).
    pub countries: Vec<String>,
}

impl Default for HighRisk {
    fn default() -> Self {
        HighRisk { enabled: true, action: AlertAction::Alert, countries: vec!["IR".into(), "KP".into(), "MM".into()] }
    }
}

/// Every typology's settings (`RIALTO_AML_TYPOLOGIES`, JSON; what is left out keeps its default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Typologies {
    /// The currency thresholds of structuring and CTRs are in (ISO 4217).
    pub reporting_currency: String,
    /// A CTR is filed for cash in, or cash out, above this per person and business day
    /// (minor units of the reporting currency; FinCEN: 10,000 USD).
    pub ctr_threshold: i64,
    /// Structuring.
    pub structuring: Structuring,
    /// Rapid movement.
    pub rapid_movement: RapidMovement,
    /// Fan-in.
    pub fan_in: Fan,
    /// Fan-out.
    pub fan_out: Fan,
    /// Round-tripping.
    pub round_tripping: RoundTripping,
    /// Dormant account suddenly active.
    pub dormant_activity: Dormant,
    /// High-risk countries.
    pub high_risk_country: HighRisk,
    /// Whether a sanctions screening that matched opens a case, and holds.
    pub sanctions_match: SanctionsCases,
}

/// Sanctions matches as alerts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SanctionsCases {
    /// On or off.
    pub enabled: bool,
    /// Alert or hold (a hit refuses payments in the gate either way).
    pub action: AlertAction,
}

impl Default for SanctionsCases {
    fn default() -> Self {
        SanctionsCases { enabled: true, action: AlertAction::Alert }
    }
}

impl Default for Typologies {
    fn default() -> Self {
        Typologies {
            reporting_currency: "USD".into(),
            ctr_threshold: 1_000_000,
            structuring: Structuring::default(),
            rapid_movement: RapidMovement::default(),
            fan_in: Fan::default(),
            fan_out: Fan::default(),
            round_tripping: RoundTripping::default(),
            dormant_activity: Dormant::default(),
            high_risk_country: HighRisk::default(),
            sanctions_match: SanctionsCases::default(),
        }
    }
}

/// The longest window any typology reads, seconds.
pub const WINDOW_MAX_SECONDS: i64 = 31 * DAY;

impl Typologies {
    /// Parses the JSON setting, then [`check`](Self::check)s it.
    pub fn parse(text: &str) -> Result<Typologies, String> {
        let t: Typologies = serde_json::from_str(text).map_err(|e| format!("AML typologies: {e}"))?;
        t.check()?;
        Ok(t)
    }

    /// Values in range.
    pub fn check(&self) -> Result<(), String> {
        let currency = Currency::parse(&self.reporting_currency)
            .map_err(|_| format!("reporting_currency `{}` is not an ISO 4217 code", self.reporting_currency))?;
        let _ = currency;
        if self.ctr_threshold <= 0 {
            return Err("ctr_threshold must be above 0".into());
        }
        let s = &self.structuring;
        let window = |name: &str, w: i64| {
            if (1..=WINDOW_MAX_SECONDS).contains(&w) {
                Ok(())
            } else {
                Err(format!("{name}.window_seconds must be 1..={WINDOW_MAX_SECONDS}"))
            }
        };
        window("structuring", s.window_seconds)?;
        window("rapid_movement", self.rapid_movement.window_seconds)?;
        window("fan_in", self.fan_in.window_seconds)?;
        window("fan_out", self.fan_out.window_seconds)?;
        window("round_tripping", self.round_tripping.window_seconds)?;
        if s.threshold <= 0 || !(0..=100).contains(&s.margin_percent) || s.min_count < 2 {
            return Err("structuring needs threshold > 0, margin_percent 0..=100, min_count >= 2".into());
        }
        let r = &self.rapid_movement;
        if r.min_amount <= 0 || !(1..=100).contains(&r.out_percent) {
            return Err("rapid_movement needs min_amount > 0 and out_percent 1..=100".into());
        }
        if self.fan_in.min_parties < 2 || self.fan_out.min_parties < 2 {
            return Err("fan_in and fan_out need min_parties >= 2".into());
        }
        let t = &self.round_tripping;
        if !(3..=6).contains(&t.max_hops) || !(1..=100).contains(&t.min_percent) || t.min_amount < 0 {
            return Err("round_tripping needs max_hops 3..=6, min_percent 1..=100 and min_amount >= 0".into());
        }
        if self.dormant_activity.dormant_days < 1 || self.dormant_activity.min_amount < 0 {
            return Err("dormant_activity needs dormant_days >= 1 and min_amount >= 0".into());
        }
        if let Some(bad) = self.high_risk_country.countries.iter().find(|c| crate::countries::code(c).is_none()) {
            return Err(format!("high_risk_country: `{bad}` is not an ISO 3166 alpha-2 code"));
        }
        Ok(())
    }

    /// The action configured for a typology.
    pub fn action(&self, t: Typology) -> AlertAction {
        match t {
            Typology::Structuring => self.structuring.action,
            Typology::RapidMovement => self.rapid_movement.action,
            Typology::FanIn => self.fan_in.action,
            Typology::FanOut => self.fan_out.action,
            Typology::RoundTripping => self.round_tripping.action,
            Typology::DormantActivity => self.dormant_activity.action,
            Typology::HighRiskCountry => self.high_risk_country.action,
            Typology::SanctionsMatch => self.sanctions_match.action,
        }
    }

    /// How long after an alert the same typology stays quiet for the same user (its window;
    /// none for the typologies where each payment is its own event).
    fn quiet_seconds(&self, t: Typology) -> i64 {
        match t {
            Typology::Structuring => self.structuring.window_seconds,
            Typology::RapidMovement => self.rapid_movement.window_seconds,
            Typology::FanIn => self.fan_in.window_seconds,
            Typology::FanOut => self.fan_out.window_seconds,
            Typology::DormantActivity => self.dormant_activity.dormant_days * DAY,
            Typology::RoundTripping | Typology::HighRiskCountry | Typology::SanctionsMatch => 0,
        }
    }

    /// The longest window the typologies read (the store loads this much history).
    pub fn lookback_seconds(&self) -> i64 {
        [
            self.structuring.window_seconds,
            self.rapid_movement.window_seconds,
            self.fan_in.window_seconds,
            self.fan_out.window_seconds,
        ]
        .into_iter()
        .max()
        .unwrap_or(DAY)
    }
}

/// One committed payment as the typologies see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// Payment id.
    pub payment_id: String,
    /// When, µs.
    pub at_us: i64,
    /// Amount, minor units.
    pub amount: i64,
    /// Currency.
    pub currency: Currency,
    /// Type.
    pub kind: PaymentKind,
    /// Method.
    pub method: PaymentMethod,
    /// The paying user.
    pub user_id: String,
    /// Debited account.
    pub from_account: String,
    /// The debited account's owner, if a user.
    pub from_user: Option<String>,
    /// Credited account.
    pub to_account: String,
    /// The credited account's owner, if a user.
    pub to_user: Option<String>,
    /// The counterparty named on the payment, if any.
    pub counterparty: Option<String>,
    /// Countries the payment names (payer location, counterparty), upper case.
    pub countries: Vec<String>,
}

impl Flow {
    /// A cash deposit or withdrawal (what CTRs and structuring count).
    pub fn is_cash(&self) -> bool {
        self.method == PaymentMethod::Cash && matches!(self.kind, PaymentKind::Deposit | PaymentKind::Withdrawal)
    }
}

/// An alert: which typology, whose, on which payment, and the evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Typology.
    pub typology: Typology,
    /// The user the case is about.
    pub user_id: String,
    /// The payment that completed the pattern.
    pub payment_id: String,
    /// When the pattern completed, µs (that payment's time).
    pub occurred_at_us: i64,
    /// Alert or hold.
    pub action: AlertAction,
    /// One line for the queue.
    pub summary: String,
    /// The payments involved, oldest first.
    pub evidence: Vec<String>,
    /// The figures the typology saw.
    pub figures: serde_json::Value,
}

/// What the store hands over to evaluate one payment.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// Committed payments touching the payer's or the payee's accounts within the lookback,
    /// other than the current one.
    pub recent: &'a [Flow],
    /// Committed payments within the round-tripping window leading on from the current
    /// payment's destination (hop by hop).
    pub onward: &'a [Flow],
    /// When the payer last paid before this payment (any age), if ever.
    pub payer_previous_at_us: Option<i64>,
    /// When the payer became a user, µs.
    pub payer_since_us: i64,
    /// Earlier alerts: (user, typology) → when the latest occurred, µs.
    pub alerted: Option<&'a HashMap<(String, Typology), i64>>,
}

/// The alerts one payment raises.
pub fn evaluate(cfg: &Typologies, current: &Flow, cx: &Context<'_>) -> Vec<Alert> {
    let found = [
        structuring(cfg, current, cx),
        rapid_movement(cfg, current, cx),
        fan_in(cfg, current, cx),
        fan_out(cfg, current, cx),
        round_tripping(cfg, current, cx),
        dormant(cfg, current, cx),
        high_risk(cfg, current),
    ];
    found
        .into_iter()
        .flatten()
        .filter(|a| {
            let quiet = cfg.quiet_seconds(a.typology) * 1_000_000;
            let last = cx.alerted.and_then(|m| m.get(&(a.user_id.clone(), a.typology)));
            last.is_none_or(|&at| quiet == 0 || at <= a.occurred_at_us - quiet)
        })
        .collect()
}

fn alert(
    cfg: &Typologies,
    t: Typology,
    user: &str,
    current: &Flow,
    summary: String,
    evidence: Vec<String>,
    figures: serde_json::Value,
) -> Alert {
    Alert {
        typology: t,
        user_id: user.to_string(),
        payment_id: current.payment_id.clone(),
        occurred_at_us: current.at_us,
        action: cfg.action(t),
        summary,
        evidence,
        figures,
    }
}

fn within(f: &Flow, current: &Flow, seconds: i64) -> bool {
    f.at_us > current.at_us - seconds * 1_000_000 && f.at_us <= current.at_us
}

/// `part * 100 >= whole * percent`, without overflow.
fn at_least_percent(part: i64, whole: i64, percent: i64) -> bool {
    i128::from(part) * 100 >= i128::from(whole) * i128::from(percent)
}

fn structuring(cfg: &Typologies, current: &Flow, cx: &Context<'_>) -> Option<Alert> {
    let s = &cfg.structuring;
    let floor = i64::try_from(i128::from(s.threshold) * i128::from(100 - s.margin_percent) / 100).ok()?;
    let in_band = |f: &Flow| {
        f.is_cash()
            && f.user_id == current.user_id
            && f.currency.code() == cfg.reporting_currency
            && (floor..=s.threshold).contains(&f.amount)
            && within(f, current, s.window_seconds)
    };
    if !s.enabled || !in_band(current) {
        return None;
    }
    let mut involved: Vec<&Flow> = cx.recent.iter().filter(|f| in_band(f)).chain([current]).collect();
    involved.sort_by_key(|f| (f.at_us, f.payment_id.clone()));
    let total: i128 = involved.iter().map(|f| i128::from(f.amount)).sum();
    if involved.len() < s.min_count || total <= i128::from(s.threshold) {
        return None;
    }
    let summary = format!(
        "{} cash payments between {floor} and {} {} within {} h, {total} in all",
        involved.len(),
        s.threshold,
        cfg.reporting_currency,
        s.window_seconds / 3600
    );
    let figures = json!({"count": involved.len(), "total": total.to_string(), "threshold": s.threshold, "floor": floor,
        "currency": cfg.reporting_currency, "window_seconds": s.window_seconds});
    let evidence = involved.iter().map(|f| f.payment_id.clone()).collect();
    Some(alert(cfg, Typology::Structuring, &current.user_id, current, summary, evidence, figures))
}

fn rapid_movement(cfg: &Typologies, current: &Flow, cx: &Context<'_>) -> Option<Alert> {
    let r = &cfg.rapid_movement;
    // Only a customer's own account: a house account (a till, a funding account) moves money
    // in and out all day.
    if !r.enabled || current.from_user.as_ref() != Some(&current.user_id) {
        return None;
    }
    let account = &current.from_account;
    let mut ins: Vec<&Flow> =
        cx.recent.iter().filter(|f| &f.to_account == account && within(f, current, r.window_seconds)).collect();
    ins.sort_by_key(|f| f.at_us);
    let first = ins.first()?.at_us;
    let total_in: i64 = ins.iter().map(|f| f.amount).fold(0, i64::saturating_add);
    let outs: Vec<&Flow> = cx
        .recent
        .iter()
        .filter(|f| &f.from_account == account && f.at_us >= first && within(f, current, r.window_seconds))
        .chain([current])
        .collect();
    let total_out: i64 = outs.iter().map(|f| f.amount).fold(0, i64::saturating_add);
    if total_in < r.min_amount || !at_least_percent(total_out, total_in, r.out_percent) {
        return None;
    }
    let summary = format!(
        "{total_in} into {account} and {total_out} out again within {} h",
        (current.at_us - first) / 3_600_000_000
    );
    let figures = json!({"account": account, "in": total_in, "out": total_out, "out_percent": r.out_percent,
        "window_seconds": r.window_seconds});
    let mut evidence: Vec<&Flow> = ins.into_iter().chain(outs).collect();
    evidence.sort_by_key(|f| f.at_us);
    let evidence = evidence.iter().map(|f| f.payment_id.clone()).collect();
    Some(alert(cfg, Typology::RapidMovement, &current.user_id, current, summary, evidence, figures))
}

/// The distinct counterparties of `flows` by `party`, and whether `current`'s is new among
/// the earlier ones.
fn parties<'a>(flows: &[&'a Flow], current: &'a Flow, party: impl Fn(&'a Flow) -> String) -> (BTreeSet<String>, bool) {
    let earlier: BTreeSet<String> = flows.iter().map(|f| party(f)).collect();
    let mine = party(current);
    let new = !earlier.contains(&mine);
    let mut all = earlier;
    all.insert(mine);
    (all, new)
}

fn fan_in(cfg: &Typologies, current: &Flow, cx: &Context<'_>) -> Option<Alert> {
    let f = &cfg.fan_in;
    let payee = current.to_user.as_ref()?;
    if !f.enabled || payee == &current.user_id {
        return None;
    }
    let into: Vec<&Flow> = cx
        .recent
        .iter()
        .filter(|x| x.to_account == current.to_account && x.user_id != *payee && within(x, current, f.window_seconds))
        .collect();
    let party = |x: &Flow| x.counterparty.clone().unwrap_or_else(|| x.user_id.clone());
    let (all, new) = parties(&into, current, party);
    if !new || all.len() < f.min_parties {
        return None;
    }
    let summary =
        format!("{} distinct payers into {} within {} h", all.len(), current.to_account, f.window_seconds / 3600);
    let figures = json!({"account": current.to_account, "parties": all.len(), "min_parties": f.min_parties,
        "window_seconds": f.window_seconds});
    let evidence = into.iter().chain([&current]).map(|x| x.payment_id.clone()).collect();
    Some(alert(cfg, Typology::FanIn, payee, current, summary, evidence, figures))
}

fn fan_out(cfg: &Typologies, current: &Flow, cx: &Context<'_>) -> Option<Alert> {
    let f = &cfg.fan_out;
    if !f.enabled {
        return None;
    }
    let out: Vec<&Flow> = cx
        .recent
        .iter()
        .filter(|x| x.user_id == current.user_id && within(x, current, f.window_seconds))
        .filter(|x| x.to_user.as_ref() != Some(&current.user_id))
        .collect();
    let party = |x: &Flow| x.counterparty.clone().or_else(|| x.to_user.clone()).unwrap_or_else(|| x.to_account.clone());
    if current.to_user.as_ref() == Some(&current.user_id) {
        return None;
    }
    let (all, new) = parties(&out, current, party);
    if !new || all.len() < f.min_parties {
        return None;
    }
    let summary = format!("{} distinct payees within {} h", all.len(), f.window_seconds / 3600);
    let figures = json!({"parties": all.len(), "min_parties": f.min_parties, "window_seconds": f.window_seconds});
    let evidence = out.iter().chain([&current]).map(|x| x.payment_id.clone()).collect();
    Some(alert(cfg, Typology::FanOut, &current.user_id, current, summary, evidence, figures))
}

fn round_tripping(cfg: &Typologies, current: &Flow, cx: &Context<'_>) -> Option<Alert> {
    let t = &cfg.round_tripping;
    if !t.applies(current.amount) || current.from_account == current.to_account {
        return None;
    }
    let mut by_from: HashMap<&str, Vec<&Flow>> = HashMap::new();
    for f in cx.onward.iter().filter(|f| within(f, current, t.window_seconds) && f.at_us < current.at_us) {
        if at_least_percent(f.amount, current.amount, t.min_percent) && f.payment_id != current.payment_id {
            by_from.entry(f.from_account.as_str()).or_default().push(f);
        }
    }
    // A path from the destination back to the source, in time order, through other accounts:
    // with the current payment, a cycle of at least three accounts.
    let mut path: Vec<&Flow> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::from([current.to_account.as_str()]);
    if !walk(&by_from, &current.to_account, &current.from_account, i64::MIN, t.max_hops - 1, &mut path, &mut seen) {
        return None;
    }
    let accounts: Vec<&str> =
        std::iter::once(current.to_account.as_str()).chain(path.iter().map(|f| f.to_account.as_str())).collect();
    let summary = format!("{} returned to {} through {} payments", current.amount, current.to_account, path.len() + 1);
    let figures = json!({"cycle": accounts, "hops": path.len() + 1, "min_percent": t.min_percent,
        "window_seconds": t.window_seconds});
    let evidence = path.iter().map(|f| f.payment_id.clone()).chain([current.payment_id.clone()]).collect();
    Some(alert(cfg, Typology::RoundTripping, &current.user_id, current, summary, evidence, figures))
}

/// Depth-first: a path of at most `hops` payments from `at` to `goal`, each after `after`,
/// at least two payments long, through accounts not yet seen.
fn walk<'a>(
    by_from: &HashMap<&str, Vec<&'a Flow>>,
    at: &str,
    goal: &str,
    after: i64,
    hops: usize,
    path: &mut Vec<&'a Flow>,
    seen: &mut HashSet<&'a str>,
) -> bool {
    if hops == 0 {
        return false;
    }
    for f in by_from.get(at).map_or(&[][..], Vec::as_slice) {
        if f.at_us < after {
            continue;
        }
        if f.to_account == goal {
            if !path.is_empty() {
                path.push(f);
                return true;
            }
            continue;
        }
        if !seen.insert(f.to_account.as_str()) {
            continue;
        }
        path.push(f);
        if walk(by_from, &f.to_account, goal, f.at_us, hops - 1, path, seen) {
            return true;
        }
        path.pop();
    }
    false
}

fn dormant(cfg: &Typologies, current: &Flow, cx: &Context<'_>) -> Option<Alert> {
    let d = &cfg.dormant_activity;
    if !d.enabled || current.amount < d.min_amount {
        return None;
    }
    let quiet_us = d.dormant_days * DAY * 1_000_000;
    let since = cx.payer_previous_at_us.unwrap_or(cx.payer_since_us);
    let idle_us = current.at_us - since;
    if idle_us < quiet_us {
        return None;
    }
    let what =
        if cx.payer_previous_at_us.is_some() { "after its last payment" } else { "since joining, its first payment" };
    let days = idle_us / (DAY * 1_000_000);
    let summary = format!("{} paid {} {days} days {what}", current.user_id, current.amount);
    let figures = json!({"idle_days": days, "dormant_days": d.dormant_days, "previous_at_us": cx.payer_previous_at_us});
    Some(alert(
        cfg,
        Typology::DormantActivity,
        &current.user_id,
        current,
        summary,
        vec![current.payment_id.clone()],
        figures,
    ))
}

fn high_risk(cfg: &Typologies, current: &Flow) -> Option<Alert> {
    let h = &cfg.high_risk_country;
    if !h.enabled {
        return None;
    }
    let hits: BTreeSet<&str> = current
        .countries
        .iter()
        .filter(|c| h.countries.iter().any(|x| x.eq_ignore_ascii_case(c)))
        .map(String::as_str)
        .collect();
    if hits.is_empty() {
        return None;
    }
    let list: Vec<&str> = hits.into_iter().collect();
    let summary = format!("payment names high-risk country {}", list.join(", "));
    let figures = json!({"countries": list});
    Some(alert(
        cfg,
        Typology::HighRiskCountry,
        &current.user_id,
        current,
        summary,
        vec![current.payment_id.clone()],
        figures,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000;
    const T0: i64 = 1_000 * 86_400_000_000;

    fn flow(id: &str, at: i64, amount: i64, user: &str, from: &str, to: &str) -> Flow {
        Flow {
            payment_id: id.into(),
            at_us: at,
            amount,
            currency: Currency::parse("USD").unwrap(),
            kind: PaymentKind::Transfer,
            method: PaymentMethod::Bank,
            user_id: user.into(),
            from_account: from.into(),
            from_user: Some(user.into()),
            to_account: to.into(),
            to_user: None,
            counterparty: None,
            countries: Vec::new(),
        }
    }

    fn cash(id: &str, at: i64, amount: i64) -> Flow {
        Flow { kind: PaymentKind::Deposit, method: PaymentMethod::Cash, ..flow(id, at, amount, "u1", "till", "a1") }
    }

    fn only(cfg: &Typologies, current: &Flow, cx: &Context<'_>, t: Typology) -> Option<Alert> {
        evaluate(cfg, current, cx).into_iter().find(|a| a.typology == t)
    }

    #[test]
    fn structuring_fires_on_cash_just_under_the_threshold_and_not_on_a_near_miss() {
        let cfg = Typologies::default();
        let recent = [cash("p1", T0, 950_000), cash("p2", T0 + H, 900_000)];
        let cx = Context { recent: &recent, payer_since_us: T0, ..Context::default() };
        let a = only(&cfg, &cash("p3", T0 + 2 * H, 990_000), &cx, Typology::Structuring).expect("structuring");
        assert_eq!(a.evidence, ["p1", "p2", "p3"]);
        // Near misses: one payment far under the band; the other a day later; not cash.
        let low = [cash("p1", T0, 500_000)];
        let cx = Context { recent: &low, payer_since_us: T0, ..Context::default() };
        assert!(only(&cfg, &cash("p3", T0 + H, 990_000), &cx, Typology::Structuring).is_none());
        let old = [cash("p1", T0, 950_000)];
        let cx = Context { recent: &old, payer_since_us: T0, ..Context::default() };
        assert!(only(&cfg, &cash("p3", T0 + 24 * H, 990_000), &cx, Typology::Structuring).is_none());
        let card = [Flow { method: PaymentMethod::Card, ..cash("p1", T0, 950_000) }];
        let cx = Context { recent: &card, payer_since_us: T0, ..Context::default() };
        assert!(only(&cfg, &cash("p3", T0 + H, 990_000), &cx, Typology::Structuring).is_none());
        // Over the threshold is a CTR, not structuring.
        assert!(only(&cfg, &cash("p3", T0 + H, 1_000_001), &cx, Typology::Structuring).is_none());
    }

    #[test]
    fn rapid_movement_needs_most_of_the_money_out_within_the_window() {
        let cfg = Typologies::default();
        let recent = [flow("in", T0, 1_000_000, "x", "ext", "a1")];
        let cx = Context { recent: &recent, payer_since_us: T0, ..Context::default() };
        assert!(only(&cfg, &flow("out", T0 + 2 * H, 950_000, "u1", "a1", "b"), &cx, Typology::RapidMovement).is_some());
        assert!(only(&cfg, &flow("out", T0 + 2 * H, 500_000, "u1", "a1", "b"), &cx, Typology::RapidMovement).is_none());
        assert!(only(&cfg, &flow("out", T0 + 7 * H, 950_000, "u1", "a1", "b"), &cx, Typology::RapidMovement).is_none());
    }

    #[test]
    fn fan_out_fires_once_when_the_tenth_payee_appears() {
        let cfg = Typologies::default();
        let recent: Vec<Flow> =
            (0..9).map(|i| flow(&format!("p{i}"), T0 + i * 60_000_000, 1000, "u1", "a1", &format!("d{i}"))).collect();
        let cx = Context { recent: &recent, payer_since_us: T0, ..Context::default() };
        let a = only(&cfg, &flow("p9", T0 + H, 1000, "u1", "a1", "d9"), &cx, Typology::FanOut).expect("fan-out");
        assert_eq!(a.evidence.len(), 10);
        // A repeat payee is not a new party; nine distinct is a near miss.
        assert!(only(&cfg, &flow("p9", T0 + H, 1000, "u1", "a1", "d3"), &cx, Typology::FanOut).is_none());
        let alerted = HashMap::from([(("u1".to_string(), Typology::FanOut), T0 + H - 1)]);
        let cx = Context { recent: &recent, alerted: Some(&alerted), payer_since_us: T0, ..Context::default() };
        assert!(only(&cfg, &flow("p9", T0 + H, 1000, "u1", "a1", "d9"), &cx, Typology::FanOut).is_none(), "quiet");
    }

    #[test]
    fn fan_in_counts_distinct_payers_into_one_account() {
        let cfg = Typologies::default();
        let to = |f: Flow| Flow { to_user: Some("boss".into()), ..f };
        let recent: Vec<Flow> = (0..9)
            .map(|i| to(flow(&format!("p{i}"), T0 + i, 1000, &format!("u{i}"), &format!("s{i}"), "mule")))
            .collect();
        let cx = Context { recent: &recent, payer_since_us: T0, ..Context::default() };
        let a = only(&cfg, &to(flow("p9", T0 + H, 1000, "u9", "s9", "mule")), &cx, Typology::FanIn).expect("fan-in");
        assert_eq!(a.user_id, "boss");
        assert!(only(&cfg, &to(flow("p9", T0 + H, 1000, "u1", "s1", "mule")), &cx, Typology::FanIn).is_none());
    }

    #[test]
    fn round_tripping_finds_a_cycle_through_intermediaries_in_time_order() {
        let mut cfg = Typologies::default();
        cfg.round_tripping.min_amount = 5_000;
        // a -> b -> c, then c pays a: a cycle of three accounts.
        let onward = [flow("ab", T0, 10_000, "ua", "a", "b"), flow("bc", T0 + H, 9_500, "ub", "b", "c")];
        let cx = Context { onward: &onward, payer_since_us: T0, ..Context::default() };
        let a =
            only(&cfg, &flow("ca", T0 + 2 * H, 9_000, "uc", "c", "a"), &cx, Typology::RoundTripping).expect("cycle");
        assert_eq!(a.evidence, ["ab", "bc", "ca"]);
        // Out of time order, or a hop too small, or a two-account back-and-forth: no.
        let unordered = [flow("ab", T0 + H, 10_000, "ua", "a", "b"), flow("bc", T0, 9_500, "ub", "b", "c")];
        let cx = Context { onward: &unordered, payer_since_us: T0, ..Context::default() };
        assert!(only(&cfg, &flow("ca", T0 + 2 * H, 9_000, "uc", "c", "a"), &cx, Typology::RoundTripping).is_none());
        let small = [flow("ab", T0, 1_000, "ua", "a", "b"), flow("bc", T0 + H, 9_500, "ub", "b", "c")];
        let cx = Context { onward: &small, payer_since_us: T0, ..Context::default() };
        assert!(only(&cfg, &flow("ca", T0 + 2 * H, 9_000, "uc", "c", "a"), &cx, Typology::RoundTripping).is_none());
        let onward = [flow("ab", T0, 10_000, "ua", "a", "b"), flow("bc", T0 + H, 9_500, "ub", "b", "c")];
        let cx = Context { onward: &onward, payer_since_us: T0, ..Context::default() };
        let small = flow("ca", T0 + 2 * H, 4_000, "uc", "c", "a");
        assert!(only(&cfg, &small, &cx, Typology::RoundTripping).is_none(), "under min_amount: not followed");
        let back = [flow("ab", T0, 10_000, "ua", "a", "b")];
        let cx = Context { onward: &back, payer_since_us: T0, ..Context::default() };
        assert!(only(&cfg, &flow("ba", T0 + H, 10_000, "ub", "b", "a"), &cx, Typology::RoundTripping).is_none());
    }

    #[test]
    fn dormant_and_high_risk_country() {
        let cfg = Typologies::default();
        let day = 86_400_000_000;
        let cx = Context { payer_previous_at_us: Some(T0), payer_since_us: T0, ..Context::default() };
        assert!(
            only(&cfg, &flow("p", T0 + 181 * day, 200_000, "u1", "a", "b"), &cx, Typology::DormantActivity).is_some()
        );
        assert!(
            only(&cfg, &flow("p", T0 + 179 * day, 200_000, "u1", "a", "b"), &cx, Typology::DormantActivity).is_none()
        );
        assert!(
            only(&cfg, &flow("p", T0 + 181 * day, 99_999, "u1", "a", "b"), &cx, Typology::DormantActivity).is_none()
        );
        let ir = Flow { countries: vec!["IR".into()], ..flow("p", T0, 1, "u1", "a", "b") };
        assert!(only(&cfg, &ir, &Context::default(), Typology::HighRiskCountry).is_some());
        let fr = Flow { countries: vec!["FR".into()], ..ir };
        assert!(only(&cfg, &fr, &Context::default(), Typology::HighRiskCountry).is_none());
    }

    #[test]
    fn settings_parse_with_defaults_and_refuse_nonsense() {
        let t = Typologies::parse(r#"{"structuring": {"action": "hold", "min_count": 3}}"#).unwrap();
        assert_eq!(t.structuring.action, AlertAction::Hold);
        assert_eq!(t.structuring.threshold, 1_000_000);
        assert!(Typologies::parse(r#"{"structuring": {"min_count": 1}}"#).is_err());
        assert!(Typologies::parse(r#"{"fan_out": {"bogus": 1}}"#).is_err());
        assert!(Typologies::parse(r#"{"high_risk_country": {"countries": ["XX"]}}"#).is_err());
        assert!(Typologies::parse(r#"{"reporting_currency": "ZZZ"}"#).is_err());
        assert!(Typologies::default().check().is_ok());
    }
}
