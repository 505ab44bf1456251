//! The time zone of the rules' `hour_of_day` / `day_of_week` and the models' hour and weekday:
//! UTC, a fixed offset (`+05:30`), or an IANA name (`Europe/Berlin`) whose offset follows its
//! daylight-saving rules, from the tz database compiled into the binary (no files read).

/// A risk time zone.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeZone {
    /// Seconds east of UTC, all year.
    Fixed(i64),
    /// An IANA zone.
    Named(String, jiff::tz::TimeZone),
}

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone::Fixed(0)
    }
}

impl TimeZone {
    /// `UTC`, `Z`, `±HH:MM`, or an IANA name such as `America/New_York`.
    pub fn parse(text: &str) -> Result<TimeZone, String> {
        let bad = || format!("time zone `{text}`: use UTC, an offset like +05:30, or an IANA name like Europe/Berlin");
        if matches!(text, "UTC" | "utc" | "Z" | "") {
            return Ok(TimeZone::Fixed(0));
        }
        let sign = match text.as_bytes().first() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => {
                let tz = jiff::tz::TimeZone::get(text).map_err(|_| bad())?;
                return Ok(TimeZone::Named(text.to_string(), tz));
            }
        };
        let (h, m) = text[1..].split_once(':').ok_or_else(bad)?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return Err(bad());
        }
        let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 14 || m > 59 {
            return Err(bad());
        }
        Ok(TimeZone::Fixed(sign * (h * 3600 + m * 60)))
    }

    /// Seconds east of UTC at a time (µs since the epoch).
    pub fn offset_at(&self, at_us: i64) -> i64 {
        match self {
            TimeZone::Fixed(s) => *s,
            TimeZone::Named(_, tz) => {
                jiff::Timestamp::from_microsecond(at_us).map(|t| i64::from(tz.to_offset(t).seconds())).unwrap_or(0)
            }
        }
    }

    /// Its name as configured (`UTC`, `+05:30`, `Europe/Berlin`).
    pub fn name(&self) -> String {
        match self {
            TimeZone::Fixed(0) => "UTC".into(),
            TimeZone::Fixed(s) => {
                let sign = if *s < 0 { '-' } else { '+' };
                format!("{sign}{:02}:{:02}", s.abs() / 3600, s.abs() % 3600 / 60)
            }
            TimeZone::Named(n, _) => n.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(rfc3339: &str) -> i64 {
        rfc3339.parse::<jiff::Timestamp>().expect("time").as_microsecond()
    }

    #[test]
    fn fixed_offsets_and_named_zones_parse_or_explain() {
        assert_eq!(TimeZone::parse("UTC"), Ok(TimeZone::Fixed(0)));
        assert_eq!(TimeZone::parse("+05:30"), Ok(TimeZone::Fixed(19_800)));
        assert_eq!(TimeZone::parse("-08:00"), Ok(TimeZone::Fixed(-28_800)));
        assert_eq!(TimeZone::parse("-08:00").map(|t| t.name()), Ok("-08:00".to_string()));
        for bad in ["Mars/Olympus", "+5", "+25:00", "+05:60", "05:00", "+:30", "+05:3"] {
            assert!(TimeZone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn named_zones_follow_daylight_saving() {
        let berlin = TimeZone::parse("Europe/Berlin").expect("a zone");
        assert_eq!(berlin.name(), "Europe/Berlin");
        assert_eq!(berlin.offset_at(us("2026-01-15T12:00:00Z")), 3600, "CET in winter");
        assert_eq!(berlin.offset_at(us("2026-07-15T12:00:00Z")), 7200, "CEST in summer");
        // 2026-03-29 01:00 UTC: clocks go from 02:00 to 03:00 local.
        assert_eq!(berlin.offset_at(us("2026-03-29T00:59:59Z")), 3600);
        assert_eq!(berlin.offset_at(us("2026-03-29T01:00:00Z")), 7200);
        let ny = TimeZone::parse("America/New_York").expect("a zone");
        assert_eq!(ny.offset_at(us("2026-01-15T12:00:00Z")), -5 * 3600);
    }
}
