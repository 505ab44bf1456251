//! Rialto's domain core: exact money, ISO 4217 currencies, typed ids and the pure
//! double-entry posting engine. This crate does no I/O and reads no clock.

pub mod currency;
pub mod enums;
pub mod ids;
pub mod ledger;
pub mod money;

pub use currency::{Currency, UnknownCurrency};
pub use money::{Amount, AmountError, AMOUNT_MAX_MINOR};

/// Free-form key/value pairs a client attaches to a resource (accounts, transfers, payments).
pub type Metadata = std::collections::BTreeMap<String, String>;
