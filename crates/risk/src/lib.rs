//! Risk rules as data.
//!
//! A rule is a JSON document:
//!
//! ```json
//! {"id": "big_new_device", "name": "Big payment from a new device", "priority": 10,
//!  "enabled": true, "weight": 40,
//!  "condition": {"all": [
//!     {"field": "amount", "op": "gt", "value": 100000},
//!     {"not": {"field": "country", "op": "in", "value": ["DE", "FR"]}},
//!     {"aggregate": {"fn": "count", "key": "user", "window_seconds": 300}, "op": "gte", "value": 3}]},
//!  "actions": [{"type": "increase_score", "by": 40}, {"type": "review"}]}
//! ```
//!
//! [`Rule::parse`] refuses a malformed or contradictory document with an error naming the path
//! of the offending part (`condition.all[1].op`). [`assess`] evaluates rules against [`Facts`]
//! and explains itself: each rule that fired with its contribution, the score, the level and
//! the decision with the reason. The facts (fields, lists, windowed aggregates) come from the
//! caller; this crate does no I/O.

pub mod admin;
pub mod credit;
pub mod features;
pub mod ml;
pub mod model;
#[cfg(feature = "onnx")]
mod onnx;
pub mod registry;
mod rule;
pub mod training;
mod tz;
pub mod window;

pub use rule::{
    assess, Action, Aggregate, AggregateFn, Assessment, Condition, Decision, Facts, Fired, Key, Level, Op, Rule,
    RuleError, Thresholds, HISTORY_FIELDS, WINDOW_SECONDS_MAX,
};
pub use tz::TimeZone;
