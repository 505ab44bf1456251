//! Calendar dates (proleptic Gregorian, no time zone) as days since 1970-01-01: what a bank
//! statement carries. Conversions are exact integer arithmetic (the days-from-civil algorithm).

use std::fmt;

/// A calendar day.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Date(i32);

const MICROS_PER_DAY: i64 = 86_400_000_000;

impl Date {
    /// The day `y-m-d`, if it exists (years 1900..=2999).
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Date> {
        if !(1900..=2999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        Some(Date(days_from_civil(y, m, d)))
    }

    /// Parses `YYYY-MM-DD` (ISO 8601 extended), also the date part of a date-time
    /// (`2009-10-29T02:00:00+02:00`: the statement's own local date).
    pub fn parse_iso(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' || (b.len() > 10 && b[10] != b'T') {
            return None;
        }
        Date::from_ymd(num(s.get(0..4)?)? as i32, num(s.get(5..7)?)?, num(s.get(8..10)?)?)
    }

    /// Parses `YYMMDD` (SWIFT): years 80..99 are 19xx, the rest 20xx.
    pub fn parse_yymmdd(s: &str) -> Option<Date> {
        if s.len() != 6 {
            return None;
        }
        let yy = num(s.get(0..2)?)? as i32;
        let year = if yy >= 80 { 1900 + yy } else { 2000 + yy };
        Date::from_ymd(year, num(s.get(2..4)?)?, num(s.get(4..6)?)?)
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i32 {
        self.0
    }

    /// The day with this number (the inverse of [`Date::days`]).
    pub fn from_days(days: i32) -> Date {
        Date(days)
    }

    /// The UTC day of a unix time in microseconds.
    pub fn from_unix_us(us: i64) -> Date {
        Date(i32::try_from(us.div_euclid(MICROS_PER_DAY)).unwrap_or(i32::MAX))
    }

    /// The first microsecond of this day (UTC).
    pub fn start_us(self) -> i64 {
        i64::from(self.0) * MICROS_PER_DAY
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(crate) fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i32::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_impossible_days() {
        assert_eq!(Date::parse_iso("1970-01-01").map(Date::days), Some(0));
        assert_eq!(Date::parse_iso("2009-10-29T02:00:00+02:00").map(|d| d.to_string()), Some("2009-10-29".into()));
        assert_eq!(Date::parse_iso("2024-02-29").map(|d| d.to_string()), Some("2024-02-29".into()));
        assert_eq!(Date::parse_iso("2023-02-29"), None);
        assert_eq!(Date::parse_iso("2023-13-01"), None);
        assert_eq!(Date::parse_iso("2023-1-01"), None);
        assert_eq!(Date::parse_yymmdd("091031").map(|d| d.to_string()), Some("2009-10-31".into()));
        assert_eq!(Date::parse_yymmdd("991231").map(|d| d.to_string()), Some("1999-12-31".into()));
        for days in -25_000..40_000 {
            let d = Date::from_days(days);
            let (y, m, dd) = d.ymd();
            assert_eq!(Date::from_ymd(y, m, dd), Some(d), "{days}");
        }
        assert_eq!(Date::from_unix_us(-1).to_string(), "1969-12-31");
        assert_eq!(
            Date::from_unix_us(Date::parse_iso("2026-12-03").map(Date::start_us).unwrap_or(0)).to_string(),
            "2026-12-03"
        );
    }
}
