//! Small helpers the Sentinel RMS, DSLS, IBM LUM, MathLM, LS-DYNA, OLicense and custom XML
//! parsers share: wall-clock times in the server's zone, dates, and `key : value` lines.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::{Expiry, ParseContext};

/// A wall-clock time in `tz` as UTC. In the autumn overlap the earlier instant is taken; a time
/// in the spring gap (which no clock showed) is read as one hour later, as the clock would.
pub(crate) fn local_to_utc(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let resolved = tz.from_local_datetime(&local).earliest().or_else(|| {
        tz.from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest()
    })?;
    Some(resolved.with_timezone(&Utc))
}

/// The date-and-time spellings these utilities print, tried in order.
const DATE_TIME_FORMATS: [&str; 7] = [
    "%a %b %d %H:%M:%S %Y", // asctime: `Tue Nov 03 11:34:40 2020` (Sentinel RMS, IBM LUM)
    "%a %b %e %H:%M:%S %Y", // asctime, space-padded day: `Tue Nov  3 11:34:40 2020`
    "%Y-%m-%d %H:%M:%S",    // DSLS, OLicense
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %H:%M:%S", // IBM LUM (US locale)
    "%m/%d/%Y %H:%M",
];

/// A local date and time in the server's zone, in any of [`DATE_TIME_FORMATS`].
pub(crate) fn local_date_time(text: &str, ctx: &ParseContext) -> Option<DateTime<Utc>> {
    let text = squeeze(text.trim());
    DATE_TIME_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
        .and_then(|naive| local_to_utc(ctx.tz, naive))
}

/// An expiration: a date with or without a time (the date is kept), or one of the words vendors
/// use for "never".
pub(crate) fn expiry(text: &str) -> Option<Expiry> {
    let text = squeeze(text.trim());
    let lower = text.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "permanent" | "never" | "unlimited" | "none" | "no expiration" | "perpetual"
    ) {
        return Some(Expiry::Permanent);
    }
    if let Some(dt) = DATE_TIME_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
    {
        return Some(Expiry::On(dt.date()));
    }
    ["%Y-%m-%d", "%m/%d/%Y", "%d-%b-%Y", "%d.%m.%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(&text, f).ok())
        .map(Expiry::On)
}

/// Runs of whitespace (tabs, doubled spaces) as one space.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `Key : value` (or `Key: value`) with both sides trimmed; `None` without a colon or key.
pub(crate) fn key_value(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    let key = key.trim();
    if key.is_empty() {
        return None;
    }
    Some((key, value.trim()))
}

/// The line numbers are 1-based and never past the input, even for an empty input.
pub(crate) fn last_line(text: &str) -> usize {
    text.lines().count().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_expiries() {
        let ctx = ParseContext::new(Utc::now(), chrono_tz::Europe::Berlin);
        let t = local_date_time("Tue Nov 03 11:34:40 2020 ", &ctx).unwrap();
        assert_eq!(t.to_rfc3339(), "2020-11-03T10:34:40+00:00");
        assert!(local_date_time("Tue Nov  3 11:34:40 2020", &ctx).is_some());
        assert!(local_date_time("2020-13-01 00:00:00", &ctx).is_none());
        assert_eq!(
            expiry("Sat Nov 19 23:59:59 2022"),
            Some(Expiry::On(NaiveDate::from_ymd_opt(2022, 11, 19).unwrap()))
        );
        assert_eq!(
            expiry("12/30/2022"),
            Some(Expiry::On(NaiveDate::from_ymd_opt(2022, 12, 30).unwrap()))
        );
        assert_eq!(expiry("Permanent"), Some(Expiry::Permanent));
        assert_eq!(expiry("soon"), None);
    }
}
