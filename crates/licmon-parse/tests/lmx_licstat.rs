//! `lmxendutil -licstat` and `-licstatxml` fixtures: one test per file of `shared/fixtures/lmx/`
//! and of the hand-written XML fixture, with values read off each file by hand.

mod common;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use licmon_parse::lmx_licstat::{parse_licstat, parse_licstat_xml};
use licmon_parse::{Diagnostic, Expiry, ParseContext, StatusReport, UpDown};

const XML_FIXTURE: &str = include_str!("fixtures/lmx-licstatxml-documented.xml");

/// The poll ran on 2022-02-18 in Paris (CET, UTC+1).
fn ctx() -> ParseContext {
    ParseContext::new(
        Utc.with_ymd_and_hms(2022, 2, 18, 12, 0, 0).unwrap(),
        chrono_tz::Europe::Paris,
    )
}

fn utc(h: u32, mi: u32) -> Option<DateTime<Utc>> {
    Some(Utc.with_ymd_and_hms(2022, 2, 18, h, mi, 0).unwrap())
}

/// What the Altair fixture says, in text or in XML.
fn assert_altair_hyperworks(r: &StatusReport) {
    assert_eq!(r.diagnostics, Vec::<Diagnostic>::new());
    assert_eq!(r.servers.len(), 1);
    let s = &r.servers[0];
    let got = (
        s.host.as_str(),
        s.port,
        s.status,
        s.version.as_deref(),
        s.error.as_deref(),
    );
    assert_eq!(
        got,
        ("licserv0013.com", Some(6200), UpDown::Up, Some("5.1"), None)
    );
    assert!(r.vendor_daemons.is_empty());

    let expires = Some(Expiry::On(NaiveDate::from_ymd_opt(2023, 1, 31).unwrap()));
    let int_max = 2_147_483_647;
    let expected: [(&str, u64, u64); 7] = [
        ("CatiaV5Reader", 3, 0),
        ("GlobalZoneEU", 1_000_003, 40_000),
        ("HWAIFPBS", int_max, 0),
        ("HWAWPF", int_max, 0),
        ("HWActivate", int_max, 0),
        ("HWFlux2D", int_max, 30_000),
        ("HyperWorks", 1_000_000, 25_000),
    ];
    assert_eq!(r.features.len(), expected.len());
    for (f, (name, issued, in_use)) in r.features.iter().zip(expected) {
        assert_eq!(
            (f.name.as_str(), f.vendor.as_deref()),
            (name, Some("ALTAIR"))
        );
        assert_eq!(
            (
                f.issued,
                f.in_use,
                f.reserved,
                f.borrowed,
                f.queued,
                f.uncounted
            ),
            (Some(issued), in_use, 0, 0, 0, false),
            "{name}"
        );
        assert_eq!(f.pools.len(), 1, "{name}");
        let p = &f.pools[0];
        assert_eq!(
            (
                p.version.as_deref(),
                p.vendor.as_deref(),
                p.expires,
                p.issued
            ),
            (Some("21.0"), Some("ALTAIR"), expires, Some(issued)),
            "{name}"
        );
    }

    // feature, user, host, ip, count, checkout time (09:29 / 09:26 CET = 08:29 / 08:26 UTC).
    let (vr, rd79, ip79) = ("VRAAFG", "RD0082879", "138.106.159.158");
    let expected = [
        ("GlobalZoneEU", vr, rd79, ip79, 15_000, utc(8, 29)),
        ("GlobalZoneEU", vr, rd79, ip79, 25_000, utc(8, 26)),
        ("HWFlux2D", vr, rd79, ip79, 15_000, utc(8, 29)),
        ("HWFlux2D", vr, rd79, ip79, 15_000, utc(8, 26)),
        (
            "HyperWorks",
            "sssaah",
            "RD0082406",
            "138.106.154.220",
            25_000,
            utc(8, 26),
        ),
    ];
    assert_eq!(r.sessions.len(), expected.len());
    for (s, e) in r.sessions.iter().zip(expected) {
        assert_eq!(
            (
                s.feature.as_str(),
                s.user.as_str(),
                s.host.as_str(),
                s.ip.as_deref(),
                s.count,
                s.start
            ),
            (e.0, e.1, e.2, Some(e.3), e.4, e.5)
        );
        assert_eq!(s.version.as_deref(), Some("21.0"));
        assert!(
            !s.borrowed
                && !s.queued
                && s.handle.is_none()
                && s.display.is_none()
                && s.expires.is_none()
        );
    }
}

#[test]
fn altair_hyperworks_text_int_max_and_shared_checkouts() {
    let r = parse_licstat(
        &common::fixture("lmx/omnivector-lmxendutil-licstat-altair-hyperworks.txt"),
        &ctx(),
    );
    assert_eq!(r.format, "lmx-licstat");
    assert_altair_hyperworks(&r);
}

#[test]
fn no_servers_is_a_down_node_with_the_utilitys_words() {
    let r = parse_licstat(
        &common::fixture("lmx/omnivector-lmxendutil-no-servers.txt"),
        &ctx(),
    );
    assert_eq!(r.diagnostics, Vec::<Diagnostic>::new());
    assert_eq!(r.servers.len(), 1);
    assert_eq!(
        (
            r.servers[0].host.as_str(),
            r.servers[0].port,
            r.servers[0].status
        ),
        ("", None, UpDown::Down)
    );
    assert_eq!(
        r.down_reason(),
        Some("There are no license server(s) available.")
    );
    assert!(r.features.is_empty() && r.sessions.is_empty());
}

/// fixtures/lmx-licstatxml-documented.xml (hand-written from the documented layout).
#[test]
fn documented_xml_equals_the_altair_text() {
    let r = parse_licstat_xml(XML_FIXTURE, &ctx());
    assert_eq!(r.format, "lmx-licstatxml");
    assert_altair_hyperworks(&r);
    // Every FEATURE carries DENIED_LICENSES="0": a counter at zero, unlike the text output,
    // which has no counter at all.
    assert!(
        r.features.iter().all(|f| f.denied == Some(0)),
        "{:?}",
        r.features
    );
    let text = parse_licstat(
        &common::fixture("lmx/omnivector-lmxendutil-licstat-altair-hyperworks.txt"),
        &ctx(),
    );
    assert!(text.features.iter().all(|f| f.denied.is_none()));
}

#[test]
fn denied_licenses_of_a_features_blocks_add_up_and_a_bad_count_is_named() {
    let xml = "<LM-X>\n<LICENSE_PATH HOST=\"6200@h\" STATUS=\"SUCCESS\">\n\
        <FEATURE NAME=\"solver\" VERSION=\"1.0\" USED_LICENSES=\"0\" TOTAL_LICENSES=\"2\" DENIED_LICENSES=\"3\"/>\n\
        <FEATURE NAME=\"solver\" VERSION=\"2.0\" USED_LICENSES=\"1\" TOTAL_LICENSES=\"4\" DENIED_LICENSES=\"4\"/>\n\
        <FEATURE NAME=\"mesher\" USED_LICENSES=\"0\" TOTAL_LICENSES=\"1\" DENIED_LICENSES=\"many\"/>\n\
        <FEATURE NAME=\"viewer\" USED_LICENSES=\"0\" TOTAL_LICENSES=\"1\"/>\n\
        </LICENSE_PATH>\n</LM-X>\n";
    let r = parse_licstat_xml(xml, &ctx());
    let denied: Vec<(&str, Option<u64>)> = r
        .features
        .iter()
        .map(|f| (f.name.as_str(), f.denied))
        .collect();
    assert_eq!(
        denied,
        [("solver", Some(7)), ("mesher", None), ("viewer", None)]
    );
    assert_eq!(
        r.diagnostics,
        vec![Diagnostic::new(
            5,
            "DENIED_LICENSES=\"many\" is not a count"
        )]
    );
}

#[test]
fn xml_error_output_and_failed_status() {
    let no_xml = common::fixture("lmx/omnivector-lmxendutil-no-servers.txt");
    let r = parse_licstat_xml(&no_xml, &ctx());
    assert_eq!(
        (r.diagnostics.len(), r.down_reason()),
        (0, Some("There are no license server(s) available."))
    );

    let failed = "<LM-X>\n<LICENSE_PATH HOST=\"6200@h\" STATUS=\"FAILED\" MESSAGE=\"Connection refused\"/>\n</LM-X>\n";
    let r = parse_licstat_xml(failed, &ctx());
    assert_eq!(r.diagnostics, Vec::<Diagnostic>::new());
    assert_eq!(
        (
            r.servers[0].host.as_str(),
            r.servers[0].port,
            r.servers[0].status
        ),
        ("h", Some(6200), UpDown::Down)
    );
    assert_eq!(r.down_reason(), Some("FAILED: Connection refused"));
}

#[test]
fn malformed_xml_is_one_diagnostic_at_its_line() {
    let cut = &XML_FIXTURE[..XML_FIXTURE.find("<USER").unwrap() + 20];
    let r = parse_licstat_xml(cut, &ctx());
    assert_eq!(r.diagnostics.len(), 1);
    assert_eq!(r.diagnostics[0].line, cut.lines().count());
    assert!(r.diagnostics[0].message.starts_with("XML not well-formed"));

    let r = parse_licstat_xml("banner\n<A>\n<B attr=\"1></B>\n</A>", &ctx());
    assert_eq!(r.diagnostics[0].line, 1);
    assert!(
        r.diagnostics.iter().all(|d| (1..=4).contains(&d.line)),
        "{:?}",
        r.diagnostics
    );

    let r = parse_licstat_xml(
        "<LM-X>\n<FEATURE NAME=\"f\" USED_LICENSES=\"x\"/>\n<OTHER/>\n</LM-X>",
        &ctx(),
    );
    let lines: Vec<usize> = r.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![2, 3]);
}

#[test]
fn unknown_text_lines_are_reported_and_the_rest_kept() {
    let text = "Feature: F Version: 1.0 Vendor: V\nStart date: 2022-01-01 Expire date: permanent\nsomething new\n1 of 2 license(s) used:\n1 license(s) borrowed by u@h [1.2.3.4]\n";
    let r = parse_licstat(text, &ctx());
    assert_eq!(
        r.diagnostics,
        vec![Diagnostic::new(3, "line not understood")]
    );
    let f = &r.features[0];
    assert_eq!(
        (f.issued, f.in_use, f.borrowed, f.pools[0].expires),
        (Some(2), 1, 1, Some(Expiry::Permanent))
    );
    assert!(r.sessions[0].borrowed);
}

#[test]
fn xml_borrow_expire_time_marks_a_borrow_and_its_return() {
    let xml = "<LM-X>\n<LICENSE_PATH HOST=\"6200@h\" STATUS=\"SUCCESS\">\n\
        <FEATURE NAME=\"F\" VERSION=\"1.0\" USED_LICENSES=\"3\" TOTAL_LICENSES=\"5\">\n\
        <USER NAME=\"u\" HOST=\"h1\" IP=\"10.1.2.3\" USED_LICENSES=\"2\" CHECKOUT_TIME=\"2022-02-18 09:26\" BORROW_EXPIRE_TIME=\"2022-02-25 18:00\"/>\n\
        <USER NAME=\"v\" HOST=\"h2\" USED_LICENSES=\"1\" CHECKOUT_TIME=\"2022-02-18 10:00\" BORROW_EXPIRE_TIME=\"next week\"/>\n\
        </FEATURE>\n</LICENSE_PATH>\n</LM-X>\n";
    let r = parse_licstat_xml(xml, &ctx());
    assert_eq!(
        r.diagnostics,
        vec![Diagnostic::new(
            5,
            "BORROW_EXPIRE_TIME=\"next week\" is not a time"
        )]
    );
    assert_eq!(r.features[0].borrowed, 3);
    let got: Vec<_> = r
        .sessions
        .iter()
        .map(|s| (s.user.as_str(), s.borrowed, s.ip.as_deref(), s.expires))
        .collect();
    // Paris is UTC+1 in February.
    let returns = Utc.with_ymd_and_hms(2022, 2, 25, 17, 0, 0).single();
    assert_eq!(
        got,
        [
            ("u", true, Some("10.1.2.3"), returns),
            ("v", true, None, None)
        ]
    );
}

/// Every file of `fixtures/lmx/` is named in this file, so each has its test.
#[test]
fn every_lmx_fixture_has_a_test() {
    let source = include_str!("lmx_licstat.rs");
    for entry in std::fs::read_dir(common::fixtures_dir().join("lmx")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            source.contains(&format!("lmx/{name}")),
            "fixture lmx/{name} has no test"
        );
    }
    let local = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for entry in std::fs::read_dir(local).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.starts_with("lmx") {
            assert!(
                source.contains(&format!("fixtures/{name}")),
                "fixture tests/fixtures/{name} has no test"
            );
        }
    }
}
