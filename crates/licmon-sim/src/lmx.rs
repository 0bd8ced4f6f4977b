//! LM-X `lmxendutil -licstat` (text, shaped like `fixtures/lmx/`) and `-licstatxml`.
//!
//! No genuine `-licstatxml` sample is public. The XML follows what X-Formation's format is
//! documented/used as by tools that read it: three text lines (utility name, copyright, blank)
//! then an XML document whose root holds one `LICENSE_PATH` (attributes TYPE, HOST,
//! SERVER_VERSION, UPTIME, STATUS="SUCCESS"), with one `FEATURE` child per feature (NAME,
//! VERSION, VENDOR, START, END, USED_LICENSES, TOTAL_LICENSES, DENIED_LICENSES, SHARE), each
//! with one `USER` child per checkout (NAME, HOST, IP, USED_LICENSES, LOGIN_TIME,
//! CHECKOUT_TIME, SHARE_CUSTOM, and BORROW_EXPIRE_TIME for borrowed licenses).

use std::fmt::Write;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::common::{local, uptime_secs, usages, with_v};
use crate::scenario::{Expiry, Feature, Server};
use crate::usage::Checkout;

const DEFAULT_VERSION: &str = "v5.1";
const RULE: &str = "----------------------------------------";

fn banner(out: &mut String) {
    out.push_str("LM-X End-user Utility v3.32\n");
    out.push_str("Copyright (C) 2002-2010 X-Formation. All rights reserved.\n\n");
}

pub fn first_line() -> String {
    "LM-X End-user Utility v3.32\n".to_string()
}

/// `-licstat` when no server answers (fixture `omnivector-lmxendutil-no-servers.txt`).
pub fn no_servers() -> String {
    let mut out = String::new();
    banner(&mut out);
    out.push_str("++++++++++++++++++++++++++++++++++++++++\n");
    out.push_str("LM-X license server(s):\n");
    out.push_str(RULE);
    out.push_str("\nThere are no license server(s) available.\n");
    out
}

/// `-licstatxml` when the server does not answer: the LICENSE_PATH with a non-SUCCESS status.
pub fn no_servers_xml(host: &str, port: u16) -> String {
    let mut out = String::new();
    banner(&mut out);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LM-X>\n");
    let _ = writeln!(
        out,
        "  <LICENSE_PATH TYPE=\"NETWORK\" HOST=\"{port}@{}\" SERVER_VERSION=\"\" UPTIME=\"\" STATUS=\"FAILURE\">",
        xml_escape(host)
    );
    out.push_str("  </LICENSE_PATH>\n</LM-X>\n");
    out
}

/// `3 day(s) 12 hour(s) 0 min(s) 51 sec(s)` (days left out when zero).
fn uptime(secs: i64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let rest = format!("{h} hour(s) {m} min(s) {s} sec(s)");
    if d > 0 {
        format!("{d} day(s) {rest}")
    } else {
        rest
    }
}

fn end_date(f: &Feature) -> String {
    match f.expiry() {
        Expiry::On(d) => d.format("%Y-%m-%d").to_string(),
        Expiry::Permanent => "permanent".to_string(),
    }
}

fn start_date(f: &Feature) -> String {
    let start = match f.expiry() {
        Expiry::On(d) => d - Duration::days(3 * 365),
        Expiry::Permanent => NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
    };
    start.format("%Y-%m-%d").to_string()
}

fn ymdhm(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    local(t, tz).format("%Y-%m-%d %H:%M").to_string()
}

/// The client logged in to the server shortly before checking out.
fn login_time(c: &Checkout) -> DateTime<Utc> {
    c.start - Duration::minutes(i64::from(c.handle % 4))
}

/// `-licstat`.
pub fn licstat(seed: u64, server: &Server, now: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(4096);
    banner(&mut out);
    let tz = server.tz();
    let m = &server.members()[0];
    let version = with_v(server.lmgrd_version.as_deref().unwrap_or(DEFAULT_VERSION));
    out.push_str("++++++++++++++++++++++++++++++++++++++++\n");
    let _ = writeln!(out, "LM-X License Server on {m}:\n");
    let _ = writeln!(
        out,
        "Server version: {version} Uptime: {}",
        uptime(uptime_secs(seed, server, now))
    );
    for (f, usage) in usages(seed, server, now) {
        out.push_str(RULE);
        out.push('\n');
        let _ = writeln!(
            out,
            "Feature: {} Version: {} Vendor: {}",
            f.name, f.version, server.vendor
        );
        let _ = writeln!(
            out,
            "Start date: {} Expire date: {}",
            start_date(f),
            end_date(f)
        );
        out.push_str("Key type: EXCLUSIVE License sharing: CUSTOM VIRTUAL\n\n");
        let used = usage.checked_out();
        let total = f.issued.unwrap_or(0);
        if usage.checkouts.is_empty() {
            let _ = writeln!(out, "{used} of {total} license(s) used");
            continue;
        }
        let _ = writeln!(out, "{used} of {total} license(s) used:");
        for c in &usage.checkouts {
            out.push('\n');
            let _ = writeln!(
                out,
                "{} license(s) used by {}@{} [{}]",
                c.count, c.user, c.host, c.ip
            );
            let _ = writeln!(
                out,
                "Login time: {}   Checkout time: {} ",
                ymdhm(login_time(c), tz),
                ymdhm(c.start, tz)
            );
            let _ = writeln!(out, "Shared on custom string: {}:{} ", c.user, c.host);
        }
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `DENIED_LICENSES`: requests refused since the server started. The simulator keeps no history
/// of refusals, so the count grows steadily from the start, 0 to 5 an hour by the feature's name;
/// what a monitor sees is what matters: growth between polls, and a reset when the server
/// restarts (its uptime wraps every 30 days).
fn denied_since_start(seed: u64, server: &Server, f: &Feature, now: DateTime<Utc>) -> u64 {
    let per_hour = crate::hash::fnv(&f.name) % 6;
    uptime_secs(seed, server, now).max(0) as u64 * per_hour / 3600
}

/// `-licstatxml`.
pub fn licstat_xml(seed: u64, server: &Server, now: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(4096);
    banner(&mut out);
    let tz = server.tz();
    let m = &server.members()[0];
    let version = server
        .lmgrd_version
        .as_deref()
        .unwrap_or(DEFAULT_VERSION)
        .trim_start_matches('v');
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LM-X>\n");
    let _ = writeln!(
        out,
        "  <LICENSE_PATH TYPE=\"NETWORK\" HOST=\"{}\" SERVER_VERSION=\"{}\" UPTIME=\"{}\" STATUS=\"SUCCESS\">",
        xml_escape(&m.to_string()),
        xml_escape(version),
        uptime(uptime_secs(seed, server, now))
    );
    for (f, usage) in usages(seed, server, now) {
        let _ = writeln!(
            out,
            "    <FEATURE NAME=\"{}\" VERSION=\"{}\" VENDOR=\"{}\" START=\"{}\" END=\"{}\" USED_LICENSES=\"{}\" TOTAL_LICENSES=\"{}\" DENIED_LICENSES=\"{}\" SHARE=\"CUSTOM ,VIRTUAL\">",
            xml_escape(&f.name),
            xml_escape(&f.version),
            xml_escape(&server.vendor),
            start_date(f),
            end_date(f),
            usage.checked_out(),
            f.issued.unwrap_or(0),
            denied_since_start(seed, server, f, now)
        );
        for c in &usage.checkouts {
            let _ = write!(
                out,
                "      <USER NAME=\"{}\" HOST=\"{}\" IP=\"{}\" USED_LICENSES=\"{}\" LOGIN_TIME=\"{}\" CHECKOUT_TIME=\"{}\" SHARE_CUSTOM=\"{}:{}\"",
                xml_escape(&c.user),
                xml_escape(&c.host),
                c.ip,
                c.count,
                ymdhm(login_time(c), tz),
                ymdhm(c.start, tz),
                xml_escape(&c.user),
                xml_escape(&c.host)
            );
            if let Some(end) = c.borrow_end {
                let _ = write!(out, " BORROW_EXPIRE_TIME=\"{}\"", ymdhm(end, tz));
            }
            out.push_str("/>\n");
        }
        out.push_str("    </FEATURE>\n");
    }
    out.push_str("  </LICENSE_PATH>\n</LM-X>\n");
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::scenario::Scenario;

    #[test]
    fn the_denial_count_grows_with_uptime_and_starts_again_at_a_restart() {
        let scenario = Scenario::parse(
            "seed = 3\n[[server]]\nkind = \"lmx\"\naddress = \"6200@lmx\"\nvendor = \"v\"\n\
             [[server.feature]]\nname = \"mesher\"\nissued = 4\nusers = 10\n",
        )
        .unwrap();
        let server = &scenario.servers[0];
        let feature = &server.features[0];
        let per_hour = crate::hash::fnv("mesher") % 6;
        assert!(per_hour > 0, "pick a feature name that gets denials");
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let mut last = denied_since_start(3, server, feature, start);
        let mut resets = 0;
        for hour in 1..=24 * 31 {
            let now = start + Duration::hours(hour);
            let count = denied_since_start(3, server, feature, now);
            if count < last {
                resets += 1;
            } else {
                assert_eq!(count - last, per_hour, "hour {hour}");
            }
            last = count;
        }
        // The 30-day uptime wraps once in 31 days.
        assert_eq!(resets, 1);
        let xml = licstat_xml(3, server, start);
        let expected = format!(
            "DENIED_LICENSES=\"{}\"",
            denied_since_start(3, server, feature, start)
        );
        assert!(xml.contains(&expected), "{xml}");
    }
}
