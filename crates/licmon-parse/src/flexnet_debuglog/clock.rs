//! The wall clock of a license server as its logs show it: a current date (learnt from date
//! lines, advanced at midnight) plus the time of day of each line, turned into UTC with the
//! server's time zone. Shared by the log parsers whose lines carry times without dates (FlexNet
//! debug logs, RLM report logs) and used for the DST-safe conversion by all of them.

use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use serde_json::{Value, json};

/// How far the time of day must go backwards between two lines before it counts as the next
/// day. Lines of different daemons interleave a little out of order, and a DST fall-back repeats
/// exactly one hour; neither is a new day.
const ROLLOVER_THRESHOLD_SECS: i64 = 3600;

#[derive(Debug, Clone)]
pub(crate) struct LocalClock {
    tz: Tz,
    date: Option<NaiveDate>,
    last_time: Option<NaiveTime>,
    /// The last instant handed out, to pick the right side of a DST fold.
    last_utc: Option<DateTime<Utc>>,
    /// A local hour with one UTC offset all through it (no transition inside), and where it
    /// starts in UTC: time-zone lookups are the costliest step of a parse, and logs stay in one
    /// hour for long.
    hour_cache: Option<SteadyHour>,
}

/// A local hour (date + hour of day) and the UTC date and second of that day its first second
/// falls on. Kept as plain numbers so that a cache hit is an addition, not chrono's checked
/// date-time arithmetic (which showed up in profiles at millions of events per second).
#[derive(Debug, Clone, Copy)]
struct SteadyHour {
    local_date: NaiveDate,
    local_hour: u32,
    utc_date: NaiveDate,
    utc_second: u32,
}

impl SteadyHour {
    /// `time` (of the cached local hour) in UTC; None for a leap second, which the slow path
    /// handles.
    fn to_utc(self, time: NaiveTime) -> Option<DateTime<Utc>> {
        let nanos = time.nanosecond();
        if nanos >= 1_000_000_000 {
            return None;
        }
        let second = self.utc_second + time.num_seconds_from_midnight() % 3600;
        // The hour starts before UTC midnight and this second may fall after it: at most one
        // day later, since both parts are under a day.
        let (date, second) = if second >= SECONDS_PER_DAY {
            (self.utc_date.succ_opt()?, second - SECONDS_PER_DAY)
        } else {
            (self.utc_date, second)
        };
        let time = NaiveTime::from_num_seconds_from_midnight_opt(second, nanos)?;
        Some(Utc.from_utc_datetime(&date.and_time(time)))
    }
}

const SECONDS_PER_DAY: u32 = 86_400;

impl LocalClock {
    pub(crate) fn new(tz: Tz) -> Self {
        Self {
            tz,
            date: None,
            last_time: None,
            last_utc: None,
            hour_cache: None,
        }
    }

    pub(crate) fn tz(&self) -> Tz {
        self.tz
    }

    pub(crate) fn date(&self) -> Option<NaiveDate> {
        self.date
    }

    /// A line says that at `time` of day the date is `date`.
    pub(crate) fn set_date(&mut self, date: NaiveDate, time: NaiveTime) {
        self.date = Some(date);
        self.last_time = Some(time);
    }

    /// A line was written at `time` of day: roll the date over when the clock went backwards
    /// by more than the threshold, and return the local date-time (None before any date).
    pub(crate) fn advance(&mut self, time: NaiveTime) -> Option<NaiveDateTime> {
        if let (Some(date), Some(last)) = (self.date, self.last_time)
            && whole_seconds_between(time, last) > ROLLOVER_THRESHOLD_SECS
        {
            self.date = date.succ_opt().or(Some(date));
        }
        self.last_time = Some(time);
        self.date.map(|d| d.and_time(time))
    }

    /// Local wall time to UTC. A time in a DST gap does not exist on the clock: it is read as
    /// the same distance past the gap's start (02:30 in a 02:00→03:00 gap is 03:30). A time in
    /// a fold exists twice: take the earlier one unless that would go back before the last
    /// instant handed out, so a log that runs through the fold stays in order.
    pub(crate) fn local_to_utc(&mut self, local: NaiveDateTime) -> DateTime<Utc> {
        if let Some(cached) = self.hour_cache
            && cached.local_date == local.date()
            && cached.local_hour == local.hour()
            && let Some(utc) = cached.to_utc(local.time())
        {
            self.last_utc = Some(utc);
            return utc;
        }
        let hour = hour_start(local);
        self.hour_cache = self.steady_offset(hour).and_then(|offset| {
            let utc = hour.checked_sub_signed(Duration::seconds(offset))?;
            Some(SteadyHour {
                local_date: hour.date(),
                local_hour: hour.hour(),
                utc_date: utc.date(),
                utc_second: utc.num_seconds_from_midnight(),
            })
        });
        let utc = match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(early, late) => {
                let (early, late) = (early.with_timezone(&Utc), late.with_timezone(&Utc));
                match self.last_utc {
                    Some(last) if early < last => late,
                    _ => early,
                }
            }
            LocalResult::None => self.across_gap(local),
        };
        self.last_utc = Some(utc);
        utc
    }

    /// The offset of a local hour when its first and last second resolve to the same single
    /// offset (so no DST transition falls inside it).
    fn steady_offset(&self, hour: NaiveDateTime) -> Option<i64> {
        let offset_at = |t: NaiveDateTime| match self.tz.from_local_datetime(&t) {
            LocalResult::Single(z) => Some((t - z.naive_utc()).num_seconds()),
            _ => None,
        };
        let first = offset_at(hour)?;
        (offset_at(hour + Duration::seconds(3599))? == first).then_some(first)
    }

    fn across_gap(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let shifted = local + Duration::hours(1);
        match self.tz.from_local_datetime(&shifted) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            // No zone has a gap longer than an hour next to another one; read it as UTC rather
            // than lose the event.
            LocalResult::None => Utc.from_utc_datetime(&local),
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "date": self.date.map(|d| d.to_string()),
            "last_time": self.last_time.map(|t| t.format("%H:%M:%S%.f").to_string()),
            "last_utc": self.last_utc.map(|t| t.to_rfc3339()),
        })
    }

    /// Restore from [`LocalClock::to_json`]; None when the value is not one.
    pub(crate) fn from_json(tz: Tz, v: &Value) -> Option<Self> {
        let date = opt_field(v, "date", |s| s.parse::<NaiveDate>().ok())?;
        let last_time = opt_field(v, "last_time", |s| {
            NaiveTime::parse_from_str(s, "%H:%M:%S%.f").ok()
        })?;
        let last_utc = opt_field(v, "last_utc", |s| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })?;
        Some(Self {
            tz,
            date,
            last_time,
            last_utc,
            hour_cache: None,
        })
    }
}

fn hour_start(t: NaiveDateTime) -> NaiveDateTime {
    t.date().and_hms_opt(t.hour(), 0, 0).unwrap_or(t)
}

/// `(later - earlier).num_seconds()` (whole seconds, truncated toward zero) in integer
/// arithmetic: this runs on every line. Leap seconds (only from a restored checkpoint) take
/// chrono's path.
fn whole_seconds_between(earlier: NaiveTime, later: NaiveTime) -> i64 {
    const NANOS: i64 = 1_000_000_000;
    if earlier.nanosecond() >= 1_000_000_000 || later.nanosecond() >= 1_000_000_000 {
        return (later - earlier).num_seconds();
    }
    let at =
        |t: NaiveTime| i64::from(t.num_seconds_from_midnight()) * NANOS + i64::from(t.nanosecond());
    (at(later) - at(earlier)) / NANOS
}

/// A field that is null/absent (Some(None)), a string that parses (Some(Some)), or broken (None).
fn opt_field<T>(v: &Value, key: &str, parse: impl Fn(&str) -> Option<T>) -> Option<Option<T>> {
    match v.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => parse(s).map(Some),
        Some(_) => None,
    }
}

/// `hh:mm:ss` or ` h:mm:ss` (FlexNet pads hours with a space), `hh:mm`, with optional fraction.
pub(crate) fn parse_time_of_day(s: &str) -> Option<NaiveTime> {
    let s = s.trim_start();
    let (hms, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let mut parts = hms.split(':');
    let h = small_number(parts.next()?)?;
    let m = small_number(parts.next()?)?;
    let sec = match parts.next() {
        Some(p) => small_number(p)?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    let nanos = match frac {
        Some(f) => fraction_nanos(f)?,
        None => 0,
    };
    NaiveTime::from_hms_nano_opt(h, m, sec, nanos)
}

fn small_number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Decimal fraction digits (at most 9) to nanoseconds: "1234" → 123_400_000.
fn fraction_nanos(f: &str) -> Option<u32> {
    if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: u32 = f.parse().ok()?;
    Some(digits * 10u32.pow(9 - f.len() as u32))
}

/// `m/d/yyyy` (FlexNet TIMESTAMP, RLM START and periodic timestamps).
pub(crate) fn parse_mdy(s: &str) -> Option<NaiveDate> {
    let mut parts = s.split('/');
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    let y: i32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1900..=9999).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day() {
        assert_eq!(
            parse_time_of_day(" 1:56:00"),
            NaiveTime::from_hms_opt(1, 56, 0)
        );
        assert_eq!(
            parse_time_of_day("13:05"),
            NaiveTime::from_hms_opt(13, 5, 0)
        );
        assert_eq!(
            parse_time_of_day("10:15:30.1234"),
            NaiveTime::from_hms_nano_opt(10, 15, 30, 123_400_000)
        );
        assert_eq!(parse_time_of_day("25:00:00"), None);
        assert_eq!(parse_time_of_day("1:2:3:4"), None);
    }

    #[test]
    fn whole_seconds_between_truncates_like_chrono() {
        let t = |h, m, s, ms| NaiveTime::from_hms_milli_opt(h, m, s, ms).unwrap();
        for (a, b) in [
            (t(8, 59, 59, 900), t(10, 0, 0, 200)),
            (t(10, 0, 0, 200), t(8, 59, 59, 900)),
            (t(0, 0, 0, 0), t(23, 59, 59, 999)),
            (t(12, 0, 0, 500), t(12, 0, 0, 400)),
            (t(23, 59, 59, 1500), t(0, 0, 1, 0)), // a leap second
        ] {
            assert_eq!(
                whole_seconds_between(a, b),
                (b - a).num_seconds(),
                "{a} {b}"
            );
        }
    }

    #[test]
    fn cached_hours_agree_with_the_time_zone() {
        // Whole, half and quarter hour offsets, DST both ways, and hours that start on the
        // other side of UTC midnight; each second is compared with a fresh lookup.
        let zones = [
            chrono_tz::Europe::Berlin,
            chrono_tz::Asia::Kolkata,
            chrono_tz::Asia::Kathmandu,
            chrono_tz::Australia::Lord_Howe,
            chrono_tz::America::St_Johns,
            chrono_tz::Pacific::Kiritimati,
        ];
        let day = NaiveDate::from_ymd_opt(2024, 10, 6).unwrap();
        for tz in zones {
            let mut cached = LocalClock::new(tz);
            for secs in (0..3 * 86_400).step_by(997) {
                let local = day.and_hms_opt(0, 0, 0).unwrap() + Duration::seconds(secs);
                let fresh = LocalClock::new(tz).local_to_utc(local);
                assert_eq!(cached.local_to_utc(local), fresh, "{tz} {local}");
            }
        }
    }

    #[test]
    fn rollover_only_on_large_backward_jumps() {
        let mut c = LocalClock::new(chrono_tz::UTC);
        let d = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        c.set_date(d, NaiveTime::from_hms_opt(23, 0, 0).unwrap());
        assert_eq!(
            c.advance(NaiveTime::from_hms_opt(22, 30, 0).unwrap())
                .unwrap()
                .date(),
            d
        );
        let next = c
            .advance(NaiveTime::from_hms_opt(0, 0, 5).unwrap())
            .unwrap();
        assert_eq!(next.date(), d.succ_opt().unwrap());
    }
}
