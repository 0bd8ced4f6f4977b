//! Sentinel RMS, DSLS, IBM LUM, MathLM, LS-DYNA, OLicense and custom XML: one test per fixture
//! (the shared ones in `fixtures/{sentinel-rms,lsdyna,olicense}/` and the documented ones in
//! `tests/fixtures/`), values read off the files by hand, plus coverage checks.

mod common;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use licmon_parse::{
    Expiry, Feature, ParseContext, Pool, Session, StatusFormat, StatusReport, UpDown,
};

fn ctx(tz: Tz) -> ParseContext {
    ParseContext::new(Utc.with_ymd_and_hms(2025, 3, 11, 9, 40, 0).unwrap(), tz)
}

/// `YYYY-MM-DD HH:MM:SS` on `tz`'s clock, in UTC.
fn local(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
    Some(
        tz.from_local_datetime(&naive)
            .single()
            .unwrap()
            .with_timezone(&Utc),
    )
}

fn date(y: i32, m: u32, d: u32) -> Option<Expiry> {
    NaiveDate::from_ymd_opt(y, m, d).map(Expiry::On)
}

fn shared(rel: &str, format: StatusFormat, tz: Tz) -> StatusReport {
    format.parse(&common::fixture(rel), &ctx(tz))
}

/// A fixture of `tests/fixtures/` without its `# ` header (which says where it comes from).
fn documented(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .skip_while(|l| l.starts_with("# ") || *l == "#")
        .map(|l| format!("{l}\n"))
        .collect()
}

fn feature<'a>(r: &'a StatusReport, name: &str) -> &'a Feature {
    r.features
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no feature {name}"))
}

/// name, issued, in use, reserved, queued.
fn totals(r: &StatusReport) -> Vec<(&str, Option<u64>, u64, u64, u64)> {
    r.features
        .iter()
        .map(|f| (f.name.as_str(), f.issued, f.in_use, f.reserved, f.queued))
        .collect()
}

fn pools(f: &Feature) -> Vec<(Option<&str>, Option<Expiry>, Option<u64>)> {
    f.pools
        .iter()
        .map(|p: &Pool| (p.version.as_deref(), p.expires, p.issued))
        .collect()
}

/// feature, user, host, count, handle.
fn sessions(r: &StatusReport) -> Vec<(&str, &str, &str, u64, Option<&str>)> {
    r.sessions
        .iter()
        .map(|s: &Session| {
            (
                s.feature.as_str(),
                s.user.as_str(),
                s.host.as_str(),
                s.count,
                s.handle.as_deref(),
            )
        })
        .collect()
}

fn node(r: &StatusReport) -> (&str, Option<u16>, UpDown, Option<&str>, Option<&str>) {
    assert_eq!(r.servers.len(), 1, "{:?}", r.servers);
    let n = &r.servers[0];
    (
        n.host.as_str(),
        n.port,
        n.status,
        n.version.as_deref(),
        n.error.as_deref(),
    )
}

fn assert_clean(r: &StatusReport) {
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
}

// ----- Sentinel RMS -----

#[test]
fn go_lsmon_aveva_rms9_1_features_licenses_clients() {
    let tz = chrono_tz::Europe::London;
    let r = shared(
        "sentinel-rms/go-lsmon-aveva-rms9.1-features-licenses-clients.txt",
        StatusFormat::SentinelLsmon,
        tz,
    );
    assert_clean(&r);
    assert_eq!(r.format, "sentinel-lsmon");
    assert_eq!(
        node(&r),
        (
            "rms-server.example.local",
            None,
            UpDown::Up,
            Some("9.1.0.0104"),
            None
        )
    );
    assert_eq!(
        totals(&r),
        [
            ("ARMS_ID", Some(99999), 0, 0, 0),
            ("AVEVA201", Some(130), 13, 0, 0)
        ]
    );
    assert_eq!(
        pools(feature(&r, "ARMS_ID")),
        [(Some("1.0"), date(2022, 11, 19), Some(99999))]
    );
    // The Inactive license (5 users, expired 2020-06-23) is not a pool.
    assert_eq!(
        pools(feature(&r, "AVEVA201")),
        [(Some("1.0"), date(2022, 11, 19), Some(130))]
    );
    assert_eq!(
        sessions(&r),
        [
            ("AVEVA201", "user01", "OENS-1-8222", 1, None),
            ("AVEVA201", "user02", "CIM-1-8303", 1, None),
            ("AVEVA201", "user03", "aso-34", 1, None),
        ]
    );
    let starts: Vec<_> = r.sessions.iter().map(|s| s.start).collect();
    assert_eq!(
        starts,
        [
            local("2020-11-03 11:34:40", tz),
            local("2020-11-03 11:19:09", tz),
            local("2020-11-03 10:06:18", tz),
        ]
    );
    assert!(
        r.sessions
            .iter()
            .all(|s| s.display.as_deref() == Some("local")
                && s.version.as_deref() == Some("1.0")
                && !s.borrowed)
    );
}

#[test]
fn lsmon_unreachable_server_is_down() {
    let text = " Sentinel RMS Development Kit 9.1.0.0104 Application Monitor\n\
                 [Contacting Sentinel RMS Development Kit server on host \"nohost\"]\n\
                 Failed to resolve the server host \"nohost\".\n";
    let r = StatusFormat::SentinelLsmon.parse(text, &ctx(Tz::UTC));
    assert!(r.server_down(), "{r:?}");
    assert_eq!(
        r.down_reason(),
        Some("Failed to resolve the server host \"nohost\".")
    );
}

// ----- LS-DYNA -----

#[test]
fn omnivector_lstc_qrun_mppdyna() {
    let r = shared(
        "lsdyna/omnivector-lstc_qrun-mppdyna.txt",
        StatusFormat::LsdynaQrun,
        Tz::UTC,
    );
    assert_clean(&r);
    assert_eq!(
        node(&r),
        ("licserv0004.com", Some(31010), UpDown::Up, None, None)
    );
    let mut want = vec![("MPPDYNA", Some(500), 440, 0, 0)];
    for name in [
        "MPPDYNA_971",
        "MPPDYNA_970",
        "MPPDYNA_960",
        "LS-DYNA",
        "LS-DYNA_971",
        "LS-DYNA_970",
        "LS-DYNA_960",
    ] {
        want.push((name, Some(500), 0, 0, 0));
    }
    assert_eq!(totals(&r), want);
    assert!(
        r.features
            .iter()
            .all(|f| pools(f) == [(None, date(2022, 12, 30), Some(500))])
    );
    assert_eq!(
        sessions(&r),
        [
            ("MPPDYNA", "fane8y", "n-c13.maas.rnd.com", 80, Some("59005")),
            ("MPPDYNA", "ssskmj", "n-c52.maas.rnd.com", 80, Some("10274")),
            ("MPPDYNA", "ssskmj", "n-c15.maas.rnd.com", 80, Some("47568")),
            (
                "MPPDYNA",
                "ywazrn",
                "n-c53.maas.rnd.com",
                80,
                Some("239793")
            ),
            ("MPPDYNA", "ywazrn", "n-c51.maas.rnd.com", 80, Some("91665")),
            ("MPPDYNA", "ndhtw9", "n-c55.maas.rnd.com", 40, Some("91626")),
        ]
    );
}

#[test]
fn omnivector_lstc_qrun_error() {
    let r = shared(
        "lsdyna/omnivector-lstc_qrun-error.txt",
        StatusFormat::LsdynaQrun,
        Tz::UTC,
    );
    assert_clean(&r);
    assert_eq!(
        node(&r),
        (
            "localhost",
            Some(31010),
            UpDown::Down,
            None,
            Some("failed to open server localhost")
        )
    );
    assert!(r.server_down() && r.features.is_empty());
}

// ----- OLicense -----

#[test]
fn omnivector_olixtool_cosin_ftire() {
    let r = shared(
        "olicense/omnivector-olixtool-cosin-ftire.txt",
        StatusFormat::OlicenseOlixtool,
        Tz::UTC,
    );
    assert_clean(&r);
    assert_eq!(
        node(&r),
        ("192.0.2.17", Some(31212), UpDown::Up, None, None)
    );
    assert_eq!(totals(&r), [("ftire_adams", Some(4), 3, 0, 0)]);
    let f = feature(&r, "ftire_adams");
    assert_eq!(f.vendor.as_deref(), Some("cosin"));
    assert_eq!(
        pools(f),
        [
            (Some("0-20231"), date(2022, 12, 31), Some(3)),
            (Some("0-20231"), date(2023, 2, 28), Some(1)),
        ]
    );
    assert_eq!(
        sessions(&r),
        [
            ("ftire_adams", "user21", "RD0087712", 1, None),
            ("ftire_adams", "user21", "RD0087713", 1, None),
            ("ftire_adams", "user22", "RD0087713", 1, None),
        ]
    );
}

#[test]
fn omnivector_olixtool_cannot_connect() {
    let r = shared(
        "olicense/omnivector-olixtool-cannot-connect.txt",
        StatusFormat::OlicenseOlixtool,
        Tz::UTC,
    );
    assert_clean(&r);
    assert_eq!(
        node(&r),
        (
            "123",
            Some(80),
            UpDown::Down,
            None,
            Some("OlComm 454 Request cannot connect to target")
        )
    );
}

// ----- documented formats (no public sample) -----

#[test]
fn dsls_getlicenseusage_documented() {
    let tz = chrono_tz::Europe::Paris;
    let r = StatusFormat::DslsGetLicenseUsage
        .parse(&documented("dsls-getlicenseusage-documented.txt"), &ctx(tz));
    assert_clean(&r);
    assert_eq!(
        node(&r),
        ("dsls-lic1", Some(4085), UpDown::Up, Some("6.425.0"), None)
    );
    assert_eq!(
        totals(&r),
        [
            ("MD2", Some(15), 2, 0, 0),
            ("HD2", Some(4), 0, 0, 0),
            ("SIMULIA_TOKENS", Some(300), 48, 0, 0)
        ]
    );
    assert_eq!(
        feature(&r, "MD2").vendor.as_deref(),
        Some("Dassault Systemes")
    );
    assert_eq!(
        pools(feature(&r, "MD2")),
        [
            (Some("424"), date(2025, 12, 31), Some(10)),
            (Some("424"), date(2026, 6, 30), Some(5)),
        ]
    );
    assert_eq!(
        sessions(&r),
        [
            ("MD2", "alice", "ws-014", 1, Some("1F2E3D4C")),
            ("MD2", "bob", "ws-022", 1, Some("1F2E3D4D")),
            ("SIMULIA_TOKENS", "carol", "hpc-07", 48, Some("2A3B4C5D")),
        ]
    );
    let starts: Vec<_> = r.sessions.iter().map(|s| s.start).collect();
    assert_eq!(
        starts,
        [
            local("2025-03-11 08:02:11", tz),
            local("2025-03-11 07:45:30", tz),
            local("2025-03-11 06:30:00", tz),
        ]
    );
}

#[test]
fn dsls_not_ready_and_connect_error_are_down() {
    let r = StatusFormat::DslsGetLicenseUsage.parse(
        "admin >connect h 4085\n  Ready: no\nadmin >getLicenseUsage -csv\nadmin >quit\n",
        &ctx(Tz::UTC),
    );
    assert!(r.server_down(), "{r:?}");
    let r = StatusFormat::DslsGetLicenseUsage.parse(
        "admin >connect h 4085\nERROR: cannot connect to h:4085 (Connection refused)\n",
        &ctx(Tz::UTC),
    );
    assert!(r.server_down(), "{r:?}");
    assert_eq!(node(&r).0, "h");
}

#[test]
fn ibm_lum_i4blt_documented() {
    let tz = chrono_tz::America::New_York;
    let r = StatusFormat::IbmLumI4blt.parse(&documented("ibm-lum-i4blt-documented.txt"), &ctx(tz));
    assert_clean(&r);
    assert_eq!(node(&r), ("lumsrv1", None, UpDown::Up, None, None));
    assert_eq!(r.vendor_daemons.len(), 1);
    assert_eq!(r.vendor_daemons[0].name, "Dassault Systemes");
    assert_eq!(
        totals(&r),
        [
            ("CATIA_MD2", Some(10), 3, 0, 0),
            ("CATIA_HD2", Some(4), 0, 0, 0)
        ]
    );
    assert_eq!(
        pools(feature(&r, "CATIA_MD2")),
        [(Some("5.22"), date(2025, 12, 31), Some(10))]
    );
    assert_eq!(
        sessions(&r),
        [
            ("CATIA_MD2", "jdoe", "ws-042", 1, None),
            ("CATIA_MD2", "msmith", "ws-017", 2, None),
        ]
    );
    let starts: Vec<_> = r.sessions.iter().map(|s| s.start).collect();
    assert_eq!(
        starts,
        [
            local("2025-03-11 08:02:11", tz),
            local("2025-03-11 09:15:40", tz)
        ]
    );
}

#[test]
fn ibm_lum_adm_error_is_down() {
    let r = StatusFormat::IbmLumI4blt.parse(
        "i4blt Version 4.6.8 Linux -- LUM Basic License Tool\n\
         ADM-10054: Cannot contact the license server ip:lumsrv9\n",
        &ctx(Tz::UTC),
    );
    assert!(r.server_down(), "{r:?}");
}

#[test]
fn mathlm_monitorlm_documented() {
    let r = StatusFormat::MathlmMonitorlm.parse(
        &documented("mathlm-monitorlm-documented.txt"),
        &ctx(Tz::UTC),
    );
    assert_clean(&r);
    assert_eq!(
        node(&r),
        ("hostname.domain.com", None, UpDown::Up, Some("11.2"), None)
    );
    assert_eq!(
        totals(&r),
        [
            ("Mathematica", Some(20), 2, 0, 0),
            ("MathKernel", Some(40), 4, 0, 0),
            ("Sub Mathematica", Some(80), 0, 0, 0),
            ("Sub MathKernel", Some(80), 0, 0, 0),
        ]
    );
    assert_eq!(
        pools(feature(&r, "Sub MathKernel")),
        [(Some("A"), None, Some(80))]
    );
    let got: Vec<_> = r
        .sessions
        .iter()
        .map(|s| {
            (
                s.feature.as_str(),
                s.version.as_deref(),
                s.host.as_str(),
                s.start,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("Mathematica", Some("11.1"), "client1.domain.com", None),
            ("Mathematica", Some("11.2"), "client2.domain.com", None),
            ("MathKernel", Some("11.1"), "client1.domain.com", None),
            ("MathKernel", Some("11.2"), "client2.domain.com", None),
            ("MathKernel", Some("11.2"), "client2.domain.com", None),
            ("MathKernel", Some("11.2"), "client2.domain.com", None),
        ]
    );
    assert!(
        r.sessions
            .iter()
            .all(|s| s.user == "username" && s.count == 1)
    );
}

#[test]
fn mathlm_unreachable_is_down() {
    let r = StatusFormat::MathlmMonitorlm
        .parse("Could not connect to MathLM server nohost\n", &ctx(Tz::UTC));
    assert!(r.server_down(), "{r:?}");
}

#[test]
fn custom_xml_example() {
    let tz = chrono_tz::Europe::Berlin;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/custom-xml-example.xml"
    ))
    .unwrap();
    let r = StatusFormat::CustomXml.parse(&text, &ctx(tz));
    assert_clean(&r);
    assert_eq!(node(&r), ("lic1.example.com", None, UpDown::Up, None, None));
    assert_eq!(
        totals(&r),
        [("solver", Some(20), 3, 1, 0), ("viewer", None, 0, 0, 0)]
    );
    let solver = feature(&r, "solver");
    assert_eq!(
        (solver.borrowed, solver.denied, solver.uncounted),
        (1, Some(2), false)
    );
    assert_eq!(solver.vendor.as_deref(), Some("ACME"));
    assert_eq!(
        pools(solver),
        [(Some("2025.1"), date(2026, 12, 31), Some(20))]
    );
    let viewer = feature(&r, "viewer");
    assert!(viewer.uncounted);
    assert_eq!(pools(viewer), [(None, Some(Expiry::Permanent), None)]);
    assert_eq!(
        sessions(&r),
        [
            ("solver", "alice", "ws-01", 2, None),
            ("solver", "bob", "laptop-7", 1, None),
        ]
    );
    let alice = &r.sessions[0];
    assert_eq!(
        alice.start,
        Some(Utc.with_ymd_and_hms(2025, 3, 11, 8, 30, 0).unwrap())
    );
    assert!(!alice.borrowed);
    let bob = &r.sessions[1];
    assert_eq!(bob.start, local("2025-03-10 17:05:00", tz));
    assert!(bob.borrowed);
    assert_eq!(
        bob.expires,
        Some(Utc.with_ymd_and_hms(2025, 3, 17, 17, 5, 0).unwrap())
    );
}

#[test]
fn custom_xml_rejects_invalid_files_with_line_and_reason() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 1, "empty"),
        (
            "<licmon-status version=\"1\">\n  <feature name=\"a\" used=\"1\">\n</licmon-status>\n",
            3,
            "not well-formed",
        ),
        ("<status version=\"1\"/>", 1, "expected <licmon-status>"),
        ("<licmon-status/>", 1, "needs version"),
        ("<licmon-status version=\"2\"/>", 1, "not supported"),
        (
            "<licmon-status version=\"1\">\n\n  <feature name=\"a\" used=\"x\"/>\n</licmon-status>",
            3,
            "used=\"x\" is not a count",
        ),
        (
            "<licmon-status version=\"1\">\n  <feature used=\"1\"/>\n</licmon-status>",
            2,
            "non-empty name",
        ),
        (
            "<licmon-status version=\"1\">\n  <feature name=\"a\"/>\n</licmon-status>",
            2,
            "needs used",
        ),
        (
            "<licmon-status version=\"1\">\n  <feature name=\"a\" used=\"0\" colour=\"red\"/>\n</licmon-status>",
            2,
            "unknown attribute \"colour\"",
        ),
        (
            "<licmon-status version=\"1\">\n  <feature name=\"a\" used=\"0\" expires=\"31.12.2026\"/>\n</licmon-status>",
            2,
            "expires",
        ),
        (
            "<licmon-status version=\"1\">\n  <feature name=\"a\" used=\"0\"/>\n  <feature name=\"a\" used=\"0\"/>\n</licmon-status>",
            3,
            "appears twice",
        ),
        (
            "<licmon-status version=\"1\">\n  <feature name=\"a\" used=\"1\">\n    <user name=\"u\" host=\"h\" checkout=\"yesterday\"/>\n  </feature>\n</licmon-status>",
            3,
            "checkout=\"yesterday\"",
        ),
        (
            "<licmon-status version=\"1\">\n  <feature name=\"a\" used=\"1\">\n    <user name=\"u\"/>\n  </feature>\n</licmon-status>",
            3,
            "name and host",
        ),
        (
            "<licmon-status version=\"1\">\n  <features/>\n</licmon-status>",
            2,
            "unknown element <features>",
        ),
        (
            "<licmon-status version=\"1\" status=\"maybe\"/>",
            1,
            "status=\"maybe\"",
        ),
    ];
    for (text, line, reason) in cases {
        let r = StatusFormat::CustomXml.parse(text, &ctx(Tz::UTC));
        assert!(
            r.servers.is_empty() && r.features.is_empty() && r.sessions.is_empty(),
            "an invalid file is rejected whole: {text}"
        );
        let d = r
            .diagnostics
            .first()
            .unwrap_or_else(|| panic!("no diagnostic for {text}"));
        assert_eq!(d.line, *line, "{text}: {d:?}");
        assert!(d.message.contains(reason), "{text}: {d:?}");
    }
}

#[test]
fn custom_xml_down_status() {
    let r = StatusFormat::CustomXml.parse(
        "<licmon-status version=\"1\" status=\"down\" message=\"lmgrd stopped\"/>",
        &ctx(Tz::UTC),
    );
    assert_clean(&r);
    assert!(r.server_down());
    assert_eq!(r.down_reason(), Some("lmgrd stopped"));
}

// ----- coverage -----

/// Every file of the shared folders these parsers own has a test above (named after it).
#[test]
fn every_fixture_has_a_test() {
    let source = include_str!("more_managers.rs");
    for dir in ["sentinel-rms", "lsdyna", "olicense"] {
        let entries = std::fs::read_dir(common::fixtures_dir().join(dir))
            .unwrap_or_else(|e| panic!("fixtures/{dir}: {e}"));
        for entry in entries {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let rel = format!("\"{dir}/{name}\"");
            assert!(
                source.contains(&rel),
                "fixtures/{dir}/{name} has no test in more_managers.rs"
            );
        }
    }
    for name in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("documented") || n.starts_with("custom-xml"))
        .filter(|n| !n.starts_with("lmx-"))
    {
        assert!(
            source.contains(&format!("\"{name}\"")) || source.contains(&format!("/{name}\"")),
            "tests/fixtures/{name} has no test in more_managers.rs"
        );
    }
}

/// The documented fixtures say in their header that they are not captured samples.
#[test]
fn documented_fixtures_say_where_they_come_from() {
    for name in [
        "dsls-getlicenseusage-documented.txt",
        "ibm-lum-i4blt-documented.txt",
        "mathlm-monitorlm-documented.txt",
    ] {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let head = std::fs::read_to_string(&path).unwrap();
        assert!(
            head.lines()
                .next()
                .unwrap()
                .contains("NOT a captured sample"),
            "{name}"
        );
    }
}

/// The format names are the ones `licmon parse --format` documents.
#[test]
fn format_names() {
    for name in [
        "sentinel-lsmon",
        "dsls-getlicenseusage",
        "ibm-lum-i4blt",
        "mathlm-monitorlm",
        "lsdyna-qrun",
        "olicense-olixtool",
        "custom-xml",
    ] {
        let f = StatusFormat::from_name(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(f.name(), name);
        assert_eq!(f.parse("", &ctx(Tz::UTC)).format, name);
    }
}
