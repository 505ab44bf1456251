//! ISO 4217 currency codes with their minor-unit exponents.

use std::fmt;

/// Active ISO 4217 codes (list published by SIX, amendment 179, 2025) with the number of digits
/// of their minor unit. Codes whose minor unit is "N.A." (precious metals, SDR, test and bond
/// market units) are left out: they cannot express an amount in minor units.
#[rustfmt::skip]
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("AOA", 2), ("ARS", 2), ("AUD", 2),
    ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BHD", 3), ("BIF", 0),
    ("BMD", 2), ("BND", 2), ("BOB", 2), ("BOV", 2), ("BRL", 2), ("BSD", 2), ("BTN", 2),
    ("BWP", 2), ("BYN", 2), ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHE", 2), ("CHF", 2),
    ("CHW", 2), ("CLF", 4), ("CLP", 0), ("CNY", 2), ("COP", 2), ("COU", 2), ("CRC", 2),
    ("CUP", 2), ("CVE", 2), ("CZK", 2), ("DJF", 0), ("DKK", 2), ("DOP", 2), ("DZD", 2),
    ("EGP", 2), ("ERN", 2), ("ETB", 2), ("EUR", 2), ("FJD", 2), ("FKP", 2), ("GBP", 2),
    ("GEL", 2), ("GHS", 2), ("GIP", 2), ("GMD", 2), ("GNF", 0), ("GTQ", 2), ("GYD", 2),
    ("HKD", 2), ("HNL", 2), ("HTG", 2), ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2),
    ("IQD", 3), ("IRR", 2), ("ISK", 0), ("JMD", 2), ("JOD", 3), ("JPY", 0), ("KES", 2),
    ("KGS", 2), ("KHR", 2), ("KMF", 0), ("KPW", 2), ("KRW", 0), ("KWD", 3), ("KYD", 2),
    ("KZT", 2), ("LAK", 2), ("LBP", 2), ("LKR", 2), ("LRD", 2), ("LSL", 2), ("LYD", 3),
    ("MAD", 2), ("MDL", 2), ("MGA", 2), ("MKD", 2), ("MMK", 2), ("MNT", 2), ("MOP", 2),
    ("MRU", 2), ("MUR", 2), ("MVR", 2), ("MWK", 2), ("MXN", 2), ("MXV", 2), ("MYR", 2),
    ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2), ("NOK", 2), ("NPR", 2), ("NZD", 2),
    ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2), ("PHP", 2), ("PKR", 2), ("PLN", 2),
    ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2), ("RUB", 2), ("RWF", 0), ("SAR", 2),
    ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2), ("SGD", 2), ("SHP", 2), ("SLE", 2),
    ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2), ("SVC", 2), ("SYP", 2), ("SZL", 2),
    ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3), ("TOP", 2), ("TRY", 2), ("TTD", 2),
    ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0), ("USD", 2), ("USN", 2), ("UYI", 0),
    ("UYU", 2), ("UYW", 4), ("UZS", 2), ("VED", 2), ("VES", 2), ("VND", 0), ("VUV", 0),
    ("WST", 2), ("XAF", 0), ("XCD", 2), ("XCG", 2), ("XOF", 0), ("XPF", 0), ("YER", 2),
    ("ZAR", 2), ("ZMW", 2), ("ZWG", 2),
];

/// A validated, active ISO 4217 currency. Construct it with [`Currency::parse`]; once you hold
/// one, its code is known to be in the table and its exponent is that of the table.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: &'static str,
    exponent: u8,
}

/// The reason a currency code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an active ISO 4217 currency code (three upper-case letters, e.g. USD)")]
pub struct UnknownCurrency(pub String);

impl Currency {
    /// Parses an upper-case three-letter code such as `USD`. Lower case is refused so that a
    /// currency has exactly one spelling everywhere (the API, the database, statements).
    pub fn parse(code: &str) -> Result<Currency, UnknownCurrency> {
        ISO_4217
            .binary_search_by(|(c, _)| (*c).cmp(code))
            .map(|i| Currency { code: ISO_4217[i].0, exponent: ISO_4217[i].1 })
            .map_err(|_| UnknownCurrency(code.chars().take(16).collect()))
    }

    /// The three-letter code, e.g. `"USD"`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Digits of the minor unit: USD 2 (cents), JPY 0, KWD 3.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// Every active currency in the table, sorted by code.
    pub fn all() -> impl Iterator<Item = Currency> {
        ISO_4217.iter().map(|(code, exponent)| Currency { code, exponent: *exponent })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.code, self.exponent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in ISO_4217.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} then {}", pair[0].0, pair[1].0);
        }
        assert!(ISO_4217.len() > 150);
    }

    #[test]
    fn exponents_match_the_standard() {
        let cases = [("USD", 2), ("JPY", 0), ("KWD", 3), ("BHD", 3), ("CLF", 4), ("EUR", 2), ("KRW", 0), ("UYW", 4)];
        for (code, exp) in cases {
            assert_eq!(Currency::parse(code).map(|c| c.exponent()), Ok(exp), "{code}");
        }
    }

    #[test]
    fn refuses_unknown_lowercase_and_metals() {
        for bad in ["usd", "XXX", "XAU", "ABC", "", "USDD", "US", "HRK"] {
            assert!(Currency::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
