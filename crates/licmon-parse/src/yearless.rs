//! Year-less timestamps such as FlexNet's `start Fri 10/20 14:12` or RLM's `10/20 14:12`.
//!
//! License utilities print checkout times without a year, in the license server's clock. The
//! rule (SPEC §3): such a time is the most recent instant, not after the poll, that shows that
//! month, day, hour and minute on the server's clock. It is stored in UTC.
//!
//! The weekday some utilities print is deliberately not used to choose the year: real outputs
//! are spliced and restarted (a FlexNet server restart resets borrowed licenses' start times),
//! so a weekday that disagrees is common and must not move a checkout years into the past.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::ParseContext;

/// How far after `ctx.now` a year-less time may lie and still count as "now": the same minute,
/// plus one minute because the license server's clock may run slightly ahead of the poller's.
pub const FUTURE_TOLERANCE: Duration = Duration::seconds(60);

/// How many years back to look. Eight covers a Feb 29 across a non-leap century year (2100).
const MAX_YEARS_BACK: i32 = 8;

/// The most recent instant `<= ctx.now` (within [`FUTURE_TOLERANCE`]) that reads
/// `month/day hour:minute` on the clock of `ctx.tz`, in UTC.
///
/// Returns `None` for impossible values (month 13, day 31 of April, hour 24, ...). A Feb 29 goes
/// back to the latest leap year. A local time that falls in a DST gap (the clock jumped over
/// it) is read as the instant the clock showed after the jump; a time that occurs twice in a DST
/// fold resolves to the later of the two that is not in the future.
pub fn resolve_month_day_time(
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    ctx: &ParseContext,
) -> Option<DateTime<Utc>> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let latest_allowed = ctx
        .now
        .checked_add_signed(FUTURE_TOLERANCE)
        .unwrap_or(ctx.now);
    let this_year = ctx.now.with_timezone(&ctx.tz).year();
    (0..=MAX_YEARS_BACK).find_map(|back| {
        let date = NaiveDate::from_ymd_opt(this_year - back, month, day)?;
        let local = date.and_hms_opt(hour, minute, 0)?;
        local_to_utc_not_after(local, ctx, latest_allowed)
    })
}

/// Maps a local wall-clock time of `ctx.tz` to UTC, preferring the latest candidate that is not
/// after `latest_allowed`; `None` when every candidate is after it.
fn local_to_utc_not_after(
    local: NaiveDateTime,
    ctx: &ParseContext,
    latest_allowed: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let not_future = |t: DateTime<Utc>| (t <= latest_allowed).then_some(t);
    match ctx.tz.from_local_datetime(&local) {
        LocalResult::Single(t) => not_future(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, later) => not_future(later.with_timezone(&Utc))
            .or_else(|| not_future(earlier.with_timezone(&Utc))),
        LocalResult::None => {
            // A DST gap. Gaps are at most a few hours long; the first wall-clock time after it
            // that exists is what the server's clock showed.
            (1..=4)
                .find_map(|hours| {
                    let shifted = local.checked_add_signed(Duration::hours(hours))?;
                    match ctx.tz.from_local_datetime(&shifted) {
                        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
                        LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
                        LocalResult::None => None,
                    }
                })
                .and_then(not_future)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Tz;

    fn ctx(now_utc: &str, tz: Tz) -> ParseContext {
        let now = DateTime::parse_from_rfc3339(now_utc).map(|t| t.with_timezone(&Utc));
        ParseContext::new(now.unwrap_or_default(), tz)
    }

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    #[test]
    fn same_year_earlier_day() {
        let c = ctx("2017-10-20T15:02:00Z", chrono_tz::Europe::Berlin); // 17:02 in Berlin
        assert_eq!(
            resolve_month_day_time(10, 20, 14, 12, &c),
            utc("2017-10-20T12:12:00Z")
        );
        assert_eq!(
            resolve_month_day_time(10, 16, 6, 39, &c),
            utc("2017-10-16T04:39:00Z")
        );
    }

    #[test]
    fn later_in_the_year_means_last_year() {
        let c = ctx("2017-10-20T15:02:00Z", chrono_tz::UTC);
        assert_eq!(
            resolve_month_day_time(12, 31, 23, 59, &c),
            utc("2016-12-31T23:59:00Z")
        );
        // One hour ahead of now is not clock skew: it is last year.
        assert_eq!(
            resolve_month_day_time(10, 20, 16, 2, &c),
            utc("2016-10-20T16:02:00Z")
        );
    }

    #[test]
    fn same_minute_and_small_skew_count_as_now() {
        let c = ctx("2017-10-20T15:02:30Z", chrono_tz::UTC);
        assert_eq!(
            resolve_month_day_time(10, 20, 15, 2, &c),
            utc("2017-10-20T15:02:00Z")
        );
        assert_eq!(
            resolve_month_day_time(10, 20, 15, 3, &c),
            utc("2017-10-20T15:03:00Z")
        );
        assert_eq!(
            resolve_month_day_time(10, 20, 15, 4, &c),
            utc("2016-10-20T15:04:00Z")
        );
    }

    #[test]
    fn new_year_boundary_uses_server_clock() {
        // 2018-01-01 00:30 in Tokyo is still 2017 in UTC: the year comes from the server clock.
        let c = ctx("2017-12-31T15:30:00Z", chrono_tz::Asia::Tokyo);
        assert_eq!(
            resolve_month_day_time(12, 31, 23, 50, &c),
            utc("2017-12-31T14:50:00Z")
        );
        assert_eq!(
            resolve_month_day_time(1, 1, 0, 10, &c),
            utc("2017-12-31T15:10:00Z")
        );
    }

    #[test]
    fn feb_29_goes_back_to_a_leap_year() {
        let c = ctx("2023-06-01T00:00:00Z", chrono_tz::UTC);
        assert_eq!(
            resolve_month_day_time(2, 29, 8, 0, &c),
            utc("2020-02-29T08:00:00Z")
        );
        let c = ctx("2103-06-01T00:00:00Z", chrono_tz::UTC); // 2100 is not a leap year
        assert_eq!(
            resolve_month_day_time(2, 29, 8, 0, &c),
            utc("2096-02-29T08:00:00Z")
        );
    }

    #[test]
    fn impossible_values_give_none() {
        let c = ctx("2023-06-01T00:00:00Z", chrono_tz::UTC);
        for (m, d, h, min) in [(0, 1, 0, 0), (13, 1, 0, 0), (4, 31, 0, 0), (1, 0, 0, 0)] {
            assert_eq!(resolve_month_day_time(m, d, h, min, &c), None);
        }
        assert_eq!(resolve_month_day_time(1, 1, 24, 0, &c), None);
        assert_eq!(resolve_month_day_time(1, 1, 0, 60, &c), None);
        assert_eq!(
            resolve_month_day_time(u32::MAX, u32::MAX, u32::MAX, u32::MAX, &c),
            None
        );
    }

    #[test]
    fn dst_gap_reads_as_the_time_after_the_jump() {
        // Berlin 2023-03-26: 02:00 -> 03:00. 02:30 never showed; the clock showed 03:30 CEST.
        let c = ctx("2023-03-27T00:00:00Z", chrono_tz::Europe::Berlin);
        assert_eq!(
            resolve_month_day_time(3, 26, 2, 30, &c),
            utc("2023-03-26T01:30:00Z")
        );
    }

    #[test]
    fn dst_fold_prefers_the_later_instant_not_in_the_future() {
        // Berlin 2023-10-29: 03:00 CEST -> 02:00 CET, so 02:30 happens twice.
        let c = ctx("2023-10-30T00:00:00Z", chrono_tz::Europe::Berlin);
        assert_eq!(
            resolve_month_day_time(10, 29, 2, 30, &c),
            utc("2023-10-29T01:30:00Z")
        );
        // Polled between the two: only the first 02:30 (CEST, 00:30 UTC) has happened.
        let c = ctx("2023-10-29T00:45:00Z", chrono_tz::Europe::Berlin);
        assert_eq!(
            resolve_month_day_time(10, 29, 2, 30, &c),
            utc("2023-10-29T00:30:00Z")
        );
    }

    #[test]
    fn extreme_now_does_not_panic() {
        for now in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            for tz in [
                chrono_tz::UTC,
                chrono_tz::Pacific::Kiritimati,
                chrono_tz::America::Adak,
            ] {
                let c = ParseContext::new(now, tz);
                let _ = resolve_month_day_time(2, 29, 23, 59, &c);
                let _ = resolve_month_day_time(1, 1, 0, 0, &c);
            }
        }
    }
}
