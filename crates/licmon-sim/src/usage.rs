//! The deterministic usage model: who holds which license at a given instant.
//!
//! Time is cut into hourly epochs. In each epoch every user starts a number of sessions drawn
//! from a hash of (seed, server, feature, user, epoch), scaled by a daily curve in the server's
//! local time (busy 9–17 on weekdays, little at night and at weekends). A session starts on a
//! whole minute (the utilities print minutes) and lasts 15 min to 4 h. So at any instant the
//! live sessions, and their start times, are a pure function of (seed, clock): consecutive polls
//! see the same session with the same start until it ends, which is what licmon's history needs.
//!
//! Licenses are granted first come, first served (by start, then handle) and granting stops at
//! the first request that does not fit; the rest queue. Because a granted session only ever has
//! fewer sessions before it later on, it stays granted until it ends.

use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use crate::hash::{fnv, hash, mix, unit};
use crate::scenario::{Feature, Server};

const EPOCH_SECS: i64 = 3600;
const MIN_SESSION_MIN: u64 = 15;
const MAX_SESSION_MIN: u64 = 240;
/// Mean session length in hours, used to turn "peak fraction in use" into a start rate.
const MEAN_SESSION_H: f64 = (MIN_SESSION_MIN + MAX_SESSION_MIN) as f64 / 2.0 / 60.0;
/// A queued request is shown for this long, then the user gives up.
const QUEUE_PATIENCE_SECS: i64 = 30 * 60;
const BORROW_PERIOD_SECS: i64 = 7 * 86400;
const MAX_STARTS_PER_EPOCH: u64 = 16;

/// One checkout (or queued request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    pub user: String,
    pub host: String,
    pub display: String,
    pub count: u64,
    pub start: DateTime<Utc>,
    /// FlexNet handle (decimal), RLM handle (printed in hex).
    pub handle: u32,
    /// For a borrowed checkout: when the borrow ends.
    pub borrow_end: Option<DateTime<Utc>>,
    pub ip: String,
}

/// What a feature looks like at one instant.
#[derive(Debug, Clone, Default)]
pub struct FeatureUsage {
    /// Granted checkouts, oldest first.
    pub checkouts: Vec<Checkout>,
    /// Queued requests.
    pub queued: Vec<Checkout>,
}

impl FeatureUsage {
    /// Licenses held by checkouts (reservations not included).
    pub fn checked_out(&self) -> u64 {
        self.checkouts.iter().map(|c| c.count).sum()
    }
    pub fn queued_licenses(&self) -> u64 {
        self.queued.iter().map(|c| c.count).sum()
    }
    pub fn borrowed(&self) -> u64 {
        self.checkouts
            .iter()
            .filter(|c| c.borrow_end.is_some())
            .map(|c| c.count)
            .sum()
    }
}

/// How busy the hour starting at `t` is, 0..=1, in the server's local time.
pub fn daily_curve(t: DateTime<Utc>, tz: Tz) -> f64 {
    let local = tz.from_utc_datetime(&t.naive_utc());
    let by_hour = match local.hour() {
        9..=16 => 1.0,
        8 | 17 => 0.6,
        7 | 18 => 0.3,
        19..=21 => 0.12,
        _ => 0.03,
    };
    match local.weekday() {
        Weekday::Sat | Weekday::Sun => by_hour * 0.15,
        _ => by_hour,
    }
}

/// Deterministic user names that look like logins.
pub fn user_name(i: u32) -> String {
    const NAMES: [&str; 24] = [
        "asmith",
        "bjones",
        "cmuller",
        "dgarcia",
        "ekim",
        "fnguyen",
        "grossi",
        "hpatel",
        "ilarsen",
        "jdubois",
        "kschmidt",
        "lnovak",
        "mtanaka",
        "nsilva",
        "okowalski",
        "pdupont",
        "qli",
        "rbauer",
        "sberg",
        "tkaya",
        "uolsen",
        "vpetrov",
        "wchen",
        "xlopez",
    ];
    let i = i as usize;
    if i < NAMES.len() {
        NAMES[i].to_string()
    } else {
        format!("{}{}", NAMES[i % NAMES.len()], i / NAMES.len())
    }
}

struct Ctx<'a> {
    seed: u64,
    server: u64,
    feature: u64,
    f: &'a Feature,
}

impl Ctx<'_> {
    /// Equal to `hash(&[seed, server, feature, parts..])`, without allocating.
    fn h(&self, parts: &[u64]) -> u64 {
        let base = hash(&[self.seed, self.server, self.feature]);
        parts.iter().fold(base, |acc, p| mix(acc ^ mix(*p)))
    }

    /// Licenses that checkouts can take (issued minus reservations); `None` if uncounted.
    fn capacity(&self) -> Option<u64> {
        self.f.issued.map(|i| i.saturating_sub(self.f.reserved))
    }

    /// Session starts per user per hour at peak.
    fn peak_rate(&self) -> f64 {
        let users = f64::from(self.f.users.max(1));
        let per = self.f.licenses_per_checkout as f64;
        let wanted = match self.capacity() {
            Some(cap) => self.f.peak * cap as f64 / per,
            None => self.f.peak * users,
        };
        wanted / (users * MEAN_SESSION_H)
    }

    fn checkout(&self, user: u32, tag: &[u64], start: DateTime<Utc>) -> Checkout {
        let h = self.h(tag);
        // Users mostly work from their own workstation, sometimes from a compute node.
        let host = if h.is_multiple_of(5) {
            format!("node{:03}", (h >> 8) % 200)
        } else {
            format!("ws{:04}", hash(&[self.seed, u64::from(user)]) % 10000)
        };
        let display = if (h >> 16).is_multiple_of(2) {
            host.clone()
        } else {
            format!("/dev/pts/{}", (h >> 20) % 12)
        };
        let ip = format!(
            "10.{}.{}.{}",
            (h >> 24) % 256,
            (h >> 32) % 256,
            1 + (h >> 40) % 254
        );
        Checkout {
            user: user_name(user),
            host,
            display,
            count: self.f.licenses_per_checkout,
            start,
            handle: 100 + ((h >> 44) % 30000) as u32,
            borrow_end: None,
            ip,
        }
    }

    /// Sessions (not yet granted) alive at `now`.
    fn live_sessions(&self, now: DateTime<Utc>, tz: Tz) -> Vec<Checkout> {
        let rate = self.peak_rate();
        let now_s = now.timestamp();
        let epoch_now = now_s.div_euclid(EPOCH_SECS);
        let lookback = (MAX_SESSION_MIN as i64 * 60) / EPOCH_SECS + 1;
        let mut live = Vec::new();
        for epoch in epoch_now - lookback..=epoch_now {
            let epoch_start = Utc
                .timestamp_opt(epoch * EPOCH_SECS, 0)
                .single()
                .unwrap_or(now);
            let expected = rate * daily_curve(epoch_start, tz);
            for user in 0..self.f.users {
                let e = epoch as u64;
                let u = u64::from(user);
                let whole = expected.floor() as u64;
                let extra = u64::from(unit(self.h(&[1, u, e])) < expected - expected.floor());
                for k in 0..(whole + extra).min(MAX_STARTS_PER_EPOCH) {
                    let h = self.h(&[2, u, e, k]);
                    let start_s = epoch * EPOCH_SECS + (h % 60) as i64 * 60;
                    let minutes =
                        MIN_SESSION_MIN + (h >> 8) % (MAX_SESSION_MIN - MIN_SESSION_MIN + 1);
                    if start_s <= now_s && now_s < start_s + minutes as i64 * 60 {
                        let start = Utc.timestamp_opt(start_s, 0).single().unwrap_or(now);
                        live.push(self.checkout(user, &[3, u, e, k], start));
                    }
                }
            }
        }
        live
    }

    /// Borrowed checkouts: each lasts a week and the next one starts when it ends, so there
    /// are always `borrowed` of them, each with a start that stays put for its week.
    fn borrows(&self, now: DateTime<Utc>) -> Vec<Checkout> {
        let now_s = now.timestamp();
        (0..self.f.borrowed)
            .map(|b| {
                let offset = (self.h(&[4, b]) % 86400) as i64 / 60 * 60;
                let period = (now_s - offset).div_euclid(BORROW_PERIOD_SECS);
                let start_s = period * BORROW_PERIOD_SECS + offset;
                let user = (self.h(&[5, b, period as u64]) % u64::from(self.f.users.max(1))) as u32;
                let start = Utc.timestamp_opt(start_s, 0).single().unwrap_or(now);
                let mut c = self.checkout(user, &[6, b, period as u64], start);
                c.count = 1;
                c.borrow_end = Utc.timestamp_opt(start_s + BORROW_PERIOD_SECS, 0).single();
                c
            })
            .collect()
    }

    /// Extra queued requests (`queued` at peak, fewer off-peak), stable for 10-minute slots.
    fn extra_queue(&self, now: DateTime<Utc>, tz: Tz) -> Vec<Checkout> {
        let slot = now.timestamp().div_euclid(600);
        let n = (self.f.queued as f64 * daily_curve(now, tz)).round() as u64;
        (0..n)
            .map(|q| {
                let user = (self.h(&[7, q, slot as u64]) % u64::from(self.f.users.max(1))) as u32;
                let start = Utc.timestamp_opt(slot * 600, 0).single().unwrap_or(now);
                self.checkout(user, &[8, q, slot as u64], start)
            })
            .collect()
    }
}

/// The usage of one feature of one server at `now`.
pub fn feature_usage(seed: u64, server: &Server, f: &Feature, now: DateTime<Utc>) -> FeatureUsage {
    let tz = server.tz();
    let ctx = Ctx {
        seed,
        server: fnv(&server.address),
        feature: fnv(&f.name),
        f,
    };
    let mut requests = ctx.borrows(now);
    let mut sessions = ctx.live_sessions(now, tz);
    sessions.sort_by_key(|c| (c.start, c.handle));
    requests.append(&mut sessions);

    let mut usage = FeatureUsage::default();
    let mut held = 0u64;
    let mut full = false;
    for c in requests {
        let fits = ctx.capacity().is_none_or(|cap| held + c.count <= cap);
        if !full && fits {
            held += c.count;
            usage.checkouts.push(c);
        } else {
            full = true;
            if c.borrow_end.is_none() && (now - c.start).num_seconds() < QUEUE_PATIENCE_SECS {
                usage.queued.push(c);
            }
        }
    }
    // Requests wait only while the feature is full, as on a real license server.
    let free = ctx.capacity().map(|cap| cap.saturating_sub(held));
    if free.is_some_and(|free| free < f.licenses_per_checkout) {
        usage.queued.extend(ctx.extra_queue(now, tz));
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn scenario() -> Scenario {
        Scenario::parse(
            r#"
            seed = 7
            [[server]]
            kind = "flexnet"
            address = "27000@lic"
            vendor = "v"
            time_zone = "Europe/Paris"
            [[server.feature]]
            name = "busy"
            issued = 12
            reserved = 2
            users = 60
            peak = 1.0
            queued = 3
            borrowed = 1
            [[server.feature]]
            name = "tokens"
            issued = 100
            licenses_per_checkout = 7
            users = 20
            peak = 0.9
            "#,
        )
        .unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn same_seed_and_clock_same_usage() {
        let sc = scenario();
        let (s, f) = (&sc.servers[0], &sc.servers[0].features[0]);
        let now = at("2025-03-11T10:02:00Z");
        assert_eq!(
            feature_usage(7, s, f, now).checkouts,
            feature_usage(7, s, f, now).checkouts
        );
        assert_ne!(
            feature_usage(7, s, f, now).checkouts,
            feature_usage(8, s, f, now).checkouts
        );
    }

    #[test]
    fn in_use_never_exceeds_issued() {
        let sc = scenario();
        let s = &sc.servers[0];
        let mut saw_queue = false;
        for minute in (0..7 * 24 * 60).step_by(17) {
            let now = at("2025-03-10T00:00:00Z") + chrono::Duration::minutes(minute);
            for f in &s.features {
                let u = feature_usage(7, s, f, now);
                assert!(
                    u.checked_out() + f.reserved <= f.issued.unwrap(),
                    "{} at {now}",
                    f.name
                );
                saw_queue |= !u.queued.is_empty();
            }
        }
        assert!(saw_queue, "a saturated feature should queue at some point");
    }

    #[test]
    fn sessions_keep_their_start_across_polls() {
        let sc = scenario();
        let (s, f) = (&sc.servers[0], &sc.servers[0].features[1]);
        let mut kept = 0;
        let mut t = at("2025-03-11T08:00:00Z");
        for _ in 0..60 {
            let before = feature_usage(7, s, f, t);
            let next = t + chrono::Duration::minutes(2);
            let after = feature_usage(7, s, f, next);
            for c in &before.checkouts {
                // A checkout is either still there with the same start, or it ended.
                if let Some(same) = after
                    .checkouts
                    .iter()
                    .find(|a| a.handle == c.handle && a.user == c.user)
                {
                    assert_eq!(same.start, c.start);
                    kept += 1;
                }
            }
            // Nothing new starts in the past.
            for a in &after.checkouts {
                let existed = before
                    .checkouts
                    .iter()
                    .any(|c| c.handle == a.handle && c.user == a.user);
                assert!(
                    existed || a.start > t || a.borrow_end.is_some(),
                    "new session back-dated: {a:?}"
                );
            }
            t = next;
        }
        assert!(
            kept > 20,
            "sessions should span several polls (kept {kept})"
        );
    }

    #[test]
    fn busier_by_day_than_by_night() {
        let sc = scenario();
        let (s, f) = (&sc.servers[0], &sc.servers[0].features[1]);
        let total = |h: u32| -> u64 {
            (0..20)
                .map(|d| {
                    let now = at("2025-01-06T00:00:00Z")
                        + chrono::Duration::days(d * 7)
                        + chrono::Duration::hours(i64::from(h));
                    feature_usage(7, s, f, now).checked_out()
                })
                .sum()
        };
        // 13:00 UTC is 14:00 in Paris; 02:00 UTC is 03:00.
        assert!(
            total(13) > 3 * total(2),
            "day {} night {}",
            total(13),
            total(2)
        );
    }
}
