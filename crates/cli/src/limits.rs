//! The business limits of `rialto serve`: flags and `RIALTO_*` variables over a TOML file
//! (`--config`, its `[limits]` table) over the defaults, checked at start with every problem
//! named at once.

use std::path::PathBuf;

use anyhow::Context as _;
use rialto_payments::Limits;

/// Business limits. Amounts are minor units (1,000.00 USD is 100000).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct LimitArgs {
    /// A TOML file whose `[limits]` table sets any of the limits below by their names
    /// (`review_above_minor = 1000000`); flags and variables win over it.
    #[arg(long = "config", env = "RIALTO_CONFIG")]
    pub config: Option<PathBuf>,
    /// Payments above this amount wait for a reviewer [default: 1000000].
    #[arg(long, env = "RIALTO_REVIEW_ABOVE_MINOR")]
    pub review_above_minor: Option<i64>,
    /// Payments above this amount are refused [default: 10000000].
    #[arg(long, env = "RIALTO_REJECT_ABOVE_MINOR")]
    pub reject_above_minor: Option<i64>,
    /// Payments above this amount need a KYC-verified user [default: 100000].
    #[arg(long, env = "RIALTO_KYC_REQUIRED_ABOVE_MINOR")]
    pub kyc_required_above_minor: Option<i64>,
    /// The velocity window, seconds [default: 3600].
    #[arg(long, env = "RIALTO_VELOCITY_WINDOW_SECONDS")]
    pub velocity_window_seconds: Option<i64>,
    /// More payments than this by one user in the window wait for review [default: 20].
    #[arg(long, env = "RIALTO_VELOCITY_MAX_COUNT")]
    pub velocity_max_count: Option<i64>,
    /// A user's payments in the window summing above this wait for review [default: 5000000].
    #[arg(long, env = "RIALTO_VELOCITY_MAX_SUM_MINOR")]
    pub velocity_max_sum_minor: Option<i64>,
    /// Settlement fee per payment, minor units [default: 30].
    #[arg(long, env = "RIALTO_SETTLEMENT_FEE_FIXED_MINOR")]
    pub settlement_fee_fixed_minor: Option<i64>,
    /// Settlement fee on the gross, basis points [default: 290, i.e. 2.9%].
    #[arg(long, env = "RIALTO_SETTLEMENT_FEE_BPS")]
    pub settlement_fee_bps: Option<i64>,
}

/// The configuration file.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    limits: FileLimits,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    review_above_minor: Option<i64>,
    reject_above_minor: Option<i64>,
    kyc_required_above_minor: Option<i64>,
    velocity_window_seconds: Option<i64>,
    velocity_max_count: Option<i64>,
    velocity_max_sum_minor: Option<i64>,
    settlement_fee_fixed_minor: Option<i64>,
    settlement_fee_bps: Option<i64>,
}

impl LimitArgs {
    /// The limits, or an error naming the file's problem or every bad limit.
    pub fn limits(&self) -> anyhow::Result<Limits> {
        let file = match &self.config {
            None => File::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the config file {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("the config file {} is not valid", path.display()))?
            }
        };
        let f = file.limits;
        let d = Limits::default();
        let limits = Limits {
            review_above_minor: self.review_above_minor.or(f.review_above_minor).unwrap_or(d.review_above_minor),
            reject_above_minor: self.reject_above_minor.or(f.reject_above_minor).unwrap_or(d.reject_above_minor),
            kyc_required_above_minor: self
                .kyc_required_above_minor
                .or(f.kyc_required_above_minor)
                .unwrap_or(d.kyc_required_above_minor),
            velocity_window_seconds: self
                .velocity_window_seconds
                .or(f.velocity_window_seconds)
                .unwrap_or(d.velocity_window_seconds),
            velocity_max_count: self.velocity_max_count.or(f.velocity_max_count).unwrap_or(d.velocity_max_count),
            velocity_max_sum_minor: self
                .velocity_max_sum_minor
                .or(f.velocity_max_sum_minor)
                .unwrap_or(d.velocity_max_sum_minor),
            settlement_fee_fixed_minor: self
                .settlement_fee_fixed_minor
                .or(f.settlement_fee_fixed_minor)
                .unwrap_or(d.settlement_fee_fixed_minor),
            settlement_fee_bps: self.settlement_fee_bps.or(f.settlement_fee_bps).unwrap_or(d.settlement_fee_bps),
        };
        let problems = limits.problems();
        if !problems.is_empty() {
            anyhow::bail!("invalid limits:\n  - {}", problems.join("\n  - "));
        }
        Ok(limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("rialto-limits-{}.toml", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        path
    }

    #[test]
    fn flags_win_over_the_file_which_wins_over_the_defaults() {
        let config = Some(file("[limits]\nreview_above_minor = 5000\nsettlement_fee_bps = 100\n"));
        let args = LimitArgs { config, settlement_fee_bps: Some(150), ..LimitArgs::default() };
        let l = args.limits().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((l.review_above_minor, l.settlement_fee_bps), (5000, 150));
        assert_eq!(l.reject_above_minor, Limits::default().reject_above_minor);
    }

    #[test]
    fn bad_files_and_bad_limits_are_explained() {
        let unknown = LimitArgs { config: Some(file("[limits]\nreview_above = 5\n")), ..LimitArgs::default() };
        let e = format!("{:#}", unknown.limits().err().unwrap_or_else(|| anyhow::anyhow!("")));
        assert!(e.contains("review_above"), "{e}");
        let typed =
            LimitArgs { config: Some(file("[limits]\nreview_above_minor = \"lots\"\n")), ..LimitArgs::default() };
        assert!(typed.limits().is_err());
        let missing = LimitArgs { config: Some(PathBuf::from("/nonexistent/rialto.toml")), ..LimitArgs::default() };
        assert!(format!("{:#}", missing.limits().err().unwrap_or_else(|| anyhow::anyhow!(""))).contains("cannot read"));
        let bad = LimitArgs { settlement_fee_bps: Some(20_000), velocity_max_count: Some(0), ..LimitArgs::default() };
        let e = format!("{:#}", bad.limits().err().unwrap_or_else(|| anyhow::anyhow!("")));
        assert!(e.contains("settlement_fee_bps") && e.contains("velocity_max_count"), "both problems at once: {e}");
    }
}
