//! Exact money: positive integer amounts in a currency's minor unit.

/// The largest amount a single movement may carry, in minor units (10^15: ten trillion dollars
/// in cents). Bounding single amounts keeps sums of many movements far from `i64` overflow,
/// and every sum is still checked.
pub const AMOUNT_MAX_MINOR: i64 = 1_000_000_000_000_000;

/// A strictly positive amount in minor units, at most [`AMOUNT_MAX_MINOR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(i64);

/// Why an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Zero or negative.
    #[error("amount must be a positive integer in minor units")]
    NotPositive,
    /// Above [`AMOUNT_MAX_MINOR`].
    #[error("amount must be at most {AMOUNT_MAX_MINOR} minor units")]
    TooLarge,
}

impl Amount {
    /// Parses a minor-unit integer.
    pub fn new(minor: i64) -> Result<Amount, AmountError> {
        if minor <= 0 {
            Err(AmountError::NotPositive)
        } else if minor > AMOUNT_MAX_MINOR {
            Err(AmountError::TooLarge)
        } else {
            Ok(Amount(minor))
        }
    }

    /// The amount in minor units (always in `1..=AMOUNT_MAX_MINOR`).
    pub fn minor(self) -> i64 {
        self.0
    }
}

/// Adds two signed minor-unit quantities, refusing overflow.
pub fn checked_add(a: i64, b: i64) -> Result<i64, Overflow> {
    a.checked_add(b).ok_or(Overflow)
}

/// Subtracts two signed minor-unit quantities, refusing overflow.
pub fn checked_sub(a: i64, b: i64) -> Result<i64, Overflow> {
    a.checked_sub(b).ok_or(Overflow)
}

/// A balance computation left the range of `i64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("arithmetic overflow in a balance")]
pub struct Overflow;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(Amount::new(0), Err(AmountError::NotPositive));
        assert_eq!(Amount::new(-5), Err(AmountError::NotPositive));
        assert_eq!(Amount::new(AMOUNT_MAX_MINOR + 1), Err(AmountError::TooLarge));
        assert_eq!(Amount::new(AMOUNT_MAX_MINOR).map(Amount::minor), Ok(AMOUNT_MAX_MINOR));
        assert_eq!(Amount::new(1).map(Amount::minor), Ok(1));
    }

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(checked_add(i64::MAX, 1), Err(Overflow));
        assert_eq!(checked_sub(i64::MIN, 1), Err(Overflow));
        assert_eq!(checked_add(2, 3), Ok(5));
    }
}
