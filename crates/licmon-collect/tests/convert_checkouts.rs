//! From a utility's text to the snapshot's checkouts: the client IP and the borrow/linger
//! expiry the parsers read reach the snapshot (and from there the sessions), with exact values.

use chrono::{DateTime, TimeZone, Utc};
use licmon_collect::convert::snapshot;
use licmon_core::snapshot::Checkout;
use licmon_parse::{ParseContext, StatusFormat};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// (user, borrowed, start, ip, borrow_expires) of every checkout, in output order.
type Seen = (
    String,
    bool,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<DateTime<Utc>>,
);

fn seen(checkouts: &[Checkout]) -> Vec<Seen> {
    checkouts
        .iter()
        .map(|c| {
            (
                c.user.clone(),
                c.borrowed,
                c.start,
                c.ip.clone(),
                c.borrow_expires,
            )
        })
        .collect()
}

#[test]
fn flexnet_linger_becomes_the_borrow_expiry() {
    // Berlin in June is UTC+2: 9:40 local is 07:40 UTC; the linger of 432000 s is 5 days.
    let ctx = ParseContext::new(utc(2024, 6, 11, 10, 0), chrono_tz::Europe::Berlin);
    let text = "License server status: 27000@lic1\n\
        \x20   lic1: license server UP (MASTER) v11.16.2\n\
        Vendor daemon status (on lic1):\n\
        \x20 acme: UP v11.16.2\n\
        Users of solver:  (Total of 4 licenses issued;  Total of 2 licenses in use)\n\
        \x20 \"solver\" v1.0, vendor: acme, expiry: 29-sep-2026\n\
        \x20   u1 ws1 ws1 (v1.0) (lic1/27000 101), start Tue 6/11 9:40\n\
        \x20   u2 ws2 ws2 (v1.0) (lic1/27000 202), start Mon 6/10 9:40 (linger: 432000)\n";
    let report = StatusFormat::FlexnetLmstat.parse(text, &ctx);
    let snap = snapshot(&report, ctx.now);
    assert_eq!(
        seen(&snap.checkouts),
        [
            (
                "u1".into(),
                false,
                Some(utc(2024, 6, 11, 7, 40)),
                None,
                None
            ),
            (
                "u2".into(),
                true,
                Some(utc(2024, 6, 10, 7, 40)),
                None,
                Some(utc(2024, 6, 15, 7, 40))
            ),
        ]
    );
}

#[test]
fn lmx_client_address_becomes_the_ip() {
    let ctx = ParseContext::new(utc(2022, 2, 18, 12, 0), chrono_tz::Europe::Paris);
    let text = "LM-X License Server on 6200@licserv0013.com:\n\n\
        Server version: v5.1 Uptime: 3 day(s) 12 hour(s) 0 min(s) 51 sec(s)\n\
        ----------------------------------------\n\
        Feature: GlobalZoneEU Version: 21.0 Vendor: ALTAIR\n\
        Start date: 2022-02-17 Expire date: 2023-01-31\n\
        Key type: EXCLUSIVE License sharing: CUSTOM VIRTUAL\n\n\
        15000 of 1000003 license(s) used:\n\n\
        15000 license(s) used by VRAAFG@RD0082879 [138.106.159.158]\n\
        Login time: 2022-02-18 09:26   Checkout time: 2022-02-18 09:29\n";
    let report = StatusFormat::LmxLicstat.parse(text, &ctx);
    let snap = snapshot(&report, ctx.now);
    assert_eq!(
        seen(&snap.checkouts),
        [(
            "VRAAFG".into(),
            false,
            Some(utc(2022, 2, 18, 8, 29)),
            Some("138.106.159.158".into()),
            None
        )]
    );
}

#[test]
fn custom_xml_ip_and_borrow_expires_reach_the_snapshot() {
    let ctx = ParseContext::new(utc(2025, 3, 11, 12, 0), chrono_tz::UTC);
    let text = "<licmon-status version=\"1\" server=\"lic1\">\n\
        <feature name=\"solver\" issued=\"20\" used=\"2\" borrowed=\"1\">\n\
        <user name=\"alice\" host=\"ws1\" ip=\"10.0.0.7\" checkout=\"2025-03-11T08:30:00Z\"/>\n\
        <user name=\"bob\" host=\"lap2\" checkout=\"2025-03-10T17:00:00Z\" \
        borrow-expires=\"2025-03-18T08:30:00+01:00\"/>\n\
        </feature>\n</licmon-status>\n";
    let report = StatusFormat::CustomXml.parse(text, &ctx);
    assert_eq!(report.diagnostics, []);
    let snap = snapshot(&report, ctx.now);
    assert_eq!(
        seen(&snap.checkouts),
        [
            (
                "alice".into(),
                false,
                Some(utc(2025, 3, 11, 8, 30)),
                Some("10.0.0.7".into()),
                None
            ),
            (
                "bob".into(),
                true,
                Some(utc(2025, 3, 10, 17, 0)),
                None,
                Some(utc(2025, 3, 18, 7, 30))
            ),
        ]
    );
}
