//! Small helpers shared by the vendor formats.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::scenario::{Expiry, Feature, Server};
use crate::usage::{FeatureUsage, feature_usage};

/// The server's local time.
pub fn local(t: DateTime<Utc>, tz: Tz) -> DateTime<Tz> {
    tz.from_utc_datetime(&t.naive_utc())
}

/// `v11.19.5` whether or not the scenario wrote the `v`.
pub fn with_v(version: &str) -> String {
    if version.starts_with('v') {
        version.to_string()
    } else {
        format!("v{version}")
    }
}

/// `31-mar-2027`: the day is not padded, the month is lower case (FlexNet and RLM).
pub fn dmy(d: NaiveDate) -> String {
    d.format("%-d-%b-%Y").to_string().to_lowercase()
}

/// "s" unless exactly one.
pub fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Every feature of a server with its usage at `now`.
pub fn usages(seed: u64, server: &Server, now: DateTime<Utc>) -> Vec<(&Feature, FeatureUsage)> {
    server
        .features
        .iter()
        .map(|f| (f, feature_usage(seed, server, f, now)))
        .collect()
}

/// The FlexNet/RLM spelling of an expiry.
pub fn expiry_dmy(e: Expiry, permanent: &str) -> String {
    match e {
        Expiry::Permanent => permanent.to_string(),
        Expiry::On(d) => dmy(d),
    }
}

/// How long the server has been up: it "restarted" on a deterministic day within the last
/// month, so the uptime grows steadily between polls.
pub fn uptime_secs(seed: u64, server: &Server, now: DateTime<Utc>) -> i64 {
    const PERIOD: i64 = 30 * 86400;
    let offset =
        (crate::hash::hash(&[seed, crate::hash::fnv(&server.address), 9]) % PERIOD as u64) as i64;
    (now.timestamp() - offset).rem_euclid(PERIOD) + 3600
}
