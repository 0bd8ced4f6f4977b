//! `rlmutil rlmstat -a` fixtures: one test per file of `shared/fixtures/rlm/`, with values read
//! off each file by hand.

mod common;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use licmon_parse::rlm_rlmstat::parse_rlmstat;
use licmon_parse::{Diagnostic, Expiry, Feature, ParseContext, Session, StatusReport, UpDown};

fn ctx(now: &str, tz: Tz) -> ParseContext {
    ParseContext::new(
        DateTime::parse_from_rfc3339(now)
            .unwrap()
            .with_timezone(&Utc),
        tz,
    )
}

fn parse(rel: &str, now: &str, tz: Tz) -> StatusReport {
    parse_rlmstat(&common::fixture(rel), &ctx(now, tz))
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Option<DateTime<Utc>> {
    Some(Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap())
}

fn on(y: i32, m: u32, d: u32) -> Option<Expiry> {
    Some(Expiry::On(NaiveDate::from_ymd_opt(y, m, d).unwrap()))
}

type PoolRow<'a> = (&'a str, Option<Expiry>, Option<u64>);

/// name, vendor, issued, in use, reserved, pools (version, expiry, count).
fn assert_feature(
    f: &Feature,
    name: &str,
    vendor: &str,
    issued: Option<u64>,
    in_use: u64,
    reserved: u64,
    pools: &[PoolRow<'_>],
) {
    assert_eq!(f.name, name);
    assert_eq!(f.vendor.as_deref(), Some(vendor), "{name}");
    assert_eq!(
        (
            f.issued,
            f.in_use,
            f.reserved,
            f.borrowed,
            f.queued,
            f.uncounted
        ),
        (issued, in_use, reserved, 0, 0, false),
        "{name}"
    );
    let got: Vec<PoolRow<'_>> = f
        .pools
        .iter()
        .map(|p| (p.version.as_deref().unwrap_or(""), p.expires, p.issued))
        .collect();
    assert_eq!(got, pools, "{name}");
    assert!(
        f.pools.iter().all(|p| p.vendor.as_deref() == Some(vendor)),
        "{name}"
    );
}

/// feature, version, user, host, count, start, handle.
type SessionRow<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    u64,
    Option<DateTime<Utc>>,
    &'a str,
);

fn assert_session(
    s: &Session,
    (feature, version, user, host, count, start, handle): SessionRow<'_>,
) {
    let got = (
        s.feature.as_str(),
        s.version.as_deref(),
        s.user.as_str(),
        s.host.as_str(),
        s.count,
        s.start,
        s.handle.as_deref(),
    );
    assert_eq!(
        got,
        (
            feature,
            Some(version),
            user,
            host,
            count,
            start,
            Some(handle)
        )
    );
    assert!(
        !s.borrowed && !s.queued && s.display.is_none() && s.ip.is_none() && s.expires.is_none()
    );
}

#[test]
fn foundry_nuke_v15_client_v12_server_pools_merged_per_product() {
    // Server clock Europe/Berlin: 03/28 is still CET (UTC+1); summer time starts 03/31.
    let r = parse(
        "rlm/go-mocks-foundry-nuke-rlmstat-a-pools.txt",
        "2024-03-31T12:00:00Z",
        chrono_tz::Europe::Berlin,
    );
    assert_eq!(r.format, "rlm-rlmstat");
    assert_eq!(r.diagnostics, Vec::<Diagnostic>::new());
    assert_eq!(r.servers.len(), 1);
    let rlm = &r.servers[0];
    assert_eq!(
        (
            rlm.host.as_str(),
            rlm.port,
            rlm.status,
            rlm.version.as_deref(),
            rlm.error.as_deref()
        ),
        (
            "RLM-SERVER.domain.domain",
            Some(4101),
            UpDown::Up,
            Some("12.2"),
            None
        )
    );
    assert_eq!(r.vendor_daemons.len(), 1);
    let isv = &r.vendor_daemons[0];
    assert_eq!(
        (
            isv.name.as_str(),
            isv.status,
            isv.version.as_deref(),
            isv.error.as_deref(),
            isv.denied
        ),
        // `Denials: 0 (0/sec) 0 (0/sec) 1230 (0/sec)`: 1230 since the ISV started.
        ("foundry", UpDown::Up, Some("12.2"), None, Some(1230))
    );

    let p = Some(Expiry::Permanent);
    assert_eq!(r.features.len(), 5);
    assert_feature(
        &r.features[0],
        "hieroplayer_i",
        "foundry",
        Some(23),
        0,
        0,
        &[
            ("2024.0331", on(2024, 3, 31), Some(1)),
            ("2024.0701", on(2024, 7, 1), Some(22)),
        ],
    );
    assert_feature(
        &r.features[1],
        "nukexassist_i",
        "foundry",
        Some(8),
        0,
        0,
        &[
            ("2024.0331", on(2024, 3, 31), Some(2)),
            ("2024.0701", on(2024, 7, 1), Some(6)),
        ],
    );
    assert_feature(
        &r.features[2],
        "nuke_i",
        "foundry",
        Some(27),
        4,
        0,
        &[
            ("2024.0331", p, Some(1)),
            ("2024.0701", p, Some(22)),
            ("2024.0416", on(2024, 4, 16), Some(4)),
        ],
    );
    assert_feature(
        &r.features[3],
        "nukex_i",
        "foundry",
        Some(4),
        2,
        0,
        &[("2024.0331", p, Some(1)), ("2024.0701", p, Some(3))],
    );
    // Pools 10 and 12 are both v2024.0701 with different expiries: kept apart.
    assert_feature(
        &r.features[4],
        "nuke_r",
        "foundry",
        Some(25),
        0,
        0,
        &[
            ("2024.0701", p, Some(16)),
            ("2025.0118", on(2025, 1, 20), Some(5)),
            ("2024.0701", on(2024, 4, 1), Some(4)),
        ],
    );

    let s = &r.sessions;
    assert_eq!(s.len(), 10);
    let (u1, h1, u2, h2) = (
        "user1.lastname",
        "mocked-computer-01",
        "user2.lastname",
        "mocked-computer-02",
    );
    assert_session(
        &s[0],
        (
            "nuke_i",
            "2024.0331",
            u1,
            h1,
            1,
            utc(2024, 3, 28, 20, 44),
            "36a5",
        ),
    );
    assert_session(
        &s[1],
        (
            "nuke_i",
            "2024.0331",
            u1,
            h1,
            1,
            utc(2024, 3, 28, 20, 44),
            "2803",
        ),
    );
    assert_session(
        &s[2],
        (
            "nukex_i",
            "2024.0331",
            u2,
            h2,
            1,
            utc(2024, 3, 28, 19, 41),
            "374d",
        ),
    );
    assert_session(
        &s[3],
        (
            "nukex_i",
            "2024.0331",
            u2,
            h2,
            1,
            utc(2024, 3, 28, 19, 41),
            "1ae1",
        ),
    );
    assert_session(
        &s[4],
        (
            "nuke_i",
            "2024.0701",
            u2,
            h2,
            1,
            utc(2024, 3, 28, 19, 41),
            "c0e",
        ),
    );
    assert_session(
        &s[5],
        (
            "nuke_i",
            "2024.0701",
            u2,
            h2,
            1,
            utc(2024, 3, 28, 19, 41),
            "2ae5",
        ),
    );
    assert_session(
        &s[6],
        (
            "nuke_i",
            "2024.0701",
            "user3.lastname",
            "mocked-computer-03",
            1,
            utc(2024, 3, 28, 17, 58),
            "3b9d",
        ),
    );
    assert_session(
        &s[7],
        (
            "nuke_i",
            "2024.0701",
            "user4.lastname",
            "mocked-computer-04",
            1,
            utc(2024, 3, 28, 19, 39),
            "329",
        ),
    );
    assert_session(
        &s[8],
        (
            "nukex_i",
            "2024.0701",
            u1,
            h1,
            1,
            utc(2024, 3, 28, 20, 44),
            "108f",
        ),
    );
    assert_session(
        &s[9],
        (
            "nukex_i",
            "2024.0701",
            u1,
            h1,
            1,
            utc(2024, 3, 28, 20, 44),
            "e8",
        ),
    );
}

#[test]
fn converge_csci_tab_indented_v12_with_trailing_spaces() {
    // Server clock America/Chicago: 11/01 and 11/03 2021 are CDT (UTC-5). The poll is in
    // January 2022, so the year-less November dates fall in the previous year.
    let r = parse(
        "rlm/omnivector-rlmstat-a-converge-csci.txt",
        "2022-01-10T12:00:00Z",
        chrono_tz::America::Chicago,
    );
    assert_eq!(r.diagnostics, Vec::<Diagnostic>::new());
    assert_eq!(r.servers.len(), 1);
    let rlm = &r.servers[0];
    // The rlm header says licserv.com, the ISV headers licser(v).server.com (anonymisation).
    assert_eq!(
        (
            rlm.host.as_str(),
            rlm.port,
            rlm.status,
            rlm.version.as_deref()
        ),
        ("licserv.com", Some(35015), UpDown::Up, Some("12.2"))
    );
    assert_eq!(r.vendor_daemons.len(), 1);
    let isv = &r.vendor_daemons[0];
    assert_eq!(
        (
            isv.name.as_str(),
            isv.status,
            isv.version.as_deref(),
            isv.denied
        ),
        ("csci", UpDown::Up, Some("12.2"), Some(0))
    );

    let exp = on(2022, 1, 31);
    assert_eq!(r.features.len(), 5);
    assert_feature(
        &r.features[0],
        "converge",
        "csci",
        Some(1),
        0,
        0,
        &[("3.0", exp, Some(1))],
    );
    assert_feature(
        &r.features[1],
        "converge_gui",
        "csci",
        Some(45),
        0,
        0,
        &[("1.0", exp, Some(45))],
    );
    assert_feature(
        &r.features[2],
        "converge_gui_polygonica",
        "csci",
        Some(1),
        0,
        0,
        &[("1.0", exp, Some(1))],
    );
    assert_feature(
        &r.features[3],
        "converge_super",
        "csci",
        Some(1000),
        93,
        0,
        &[("3.0", exp, Some(1000))],
    );
    assert_feature(
        &r.features[4],
        "converge_tecplot",
        "csci",
        Some(45),
        0,
        0,
        &[("1.0", exp, Some(45))],
    );

    assert_eq!(r.sessions.len(), 3);
    let host = "myserver.example.com";
    assert_session(
        &r.sessions[0],
        (
            "converge_super",
            "3.0",
            "jbemfv",
            host,
            29,
            utc(2021, 11, 1, 14, 1),
            "15a",
        ),
    );
    assert_session(
        &r.sessions[1],
        (
            "converge_super",
            "3.0",
            "cdxfdn",
            host,
            27,
            utc(2021, 11, 3, 15, 38),
            "128",
        ),
    );
    // The same handle twice with another count (the fixture's last line, no trailing space).
    assert_session(
        &r.sessions[2],
        (
            "converge_super",
            "3.0",
            "jbemfv",
            host,
            37,
            utc(2021, 11, 1, 14, 1),
            "15a",
        ),
    );
}

#[test]
fn exacorp_tainc_partial_headless_pools_take_the_usage_sections_isv() {
    let r = parse(
        "rlm/omnivector-rlmstat-multi-isv-exacorp-tainc-partial.txt",
        "2023-09-01T00:00:00Z",
        chrono_tz::UTC,
    );
    assert_eq!(r.diagnostics, Vec::<Diagnostic>::new());
    // The head (rlm status, ISV table) was cut: no server or ISV records.
    assert!(r.servers.is_empty() && r.vendor_daemons.is_empty());
    let exp = on(2023, 12, 31);
    let exacorp: [(&str, u64, u64); 17] = [
        ("powercase", 5, 3),
        ("powerexport", 5, 0),
        ("powerflow-decomp", 3000, 0),
        ("powerflow-disc", 3000, 0),
        ("powerinsight", 5, 0),
        ("powerviz", 5, 0),
        ("powerviz-generator", 2, 0),
        ("powerviz-soiling", 7, 0),
        ("exasignalprocessingjob", 6, 0),
        ("poweracoustics", 1, 0),
        ("powercool", 1, 0),
        ("powerdelta", 1, 1),
        ("powerdelta-meshunion", 1, 0),
        ("powerdelta-translate2", 1_000_000, 0),
        ("powerflow-sim", 7000, 0),
        ("powerinsight-generator", 1, 0),
        ("powerthermconnector", 1, 0),
    ];
    let tainc: [(&str, u64); 5] = [
        ("powertherm", 1),
        ("powertherm-mp", 3),
        ("powertherm-multigrid", 1),
        ("powertherm-sc", 1),
        ("powertherm-solver", 1),
    ];
    assert_eq!(r.features.len(), 22);
    for (f, (name, count, in_use)) in r.features.iter().zip(exacorp) {
        assert_feature(
            f,
            name,
            "exacorp",
            Some(count),
            in_use,
            0,
            &[("1.0", exp, Some(count))],
        );
    }
    for (f, (name, count)) in r.features[17..].iter().zip(tainc) {
        assert_feature(
            f,
            name,
            "tainc",
            Some(count),
            0,
            0,
            &[("2023.1", exp, Some(count))],
        );
    }
    assert_eq!(r.sessions.len(), 4);
    assert_session(
        &r.sessions[0],
        (
            "powercase",
            "1.0",
            "dfsdgv",
            "server1",
            1,
            utc(2023, 8, 15, 9, 34),
            "182",
        ),
    );
    assert_session(
        &r.sessions[1],
        (
            "powercase",
            "1.0",
            "addvbh",
            "server2",
            1,
            utc(2023, 8, 16, 9, 36),
            "c4",
        ),
    );
    assert_session(
        &r.sessions[2],
        (
            "powercase",
            "1.0",
            "wrtgb3",
            "server3",
            1,
            utc(2023, 8, 21, 14, 53),
            "11c",
        ),
    );
    assert_session(
        &r.sessions[3],
        (
            "powerdelta",
            "1.0",
            "ghnds2",
            "server4",
            1,
            utc(2023, 8, 23, 15, 16),
            "a2",
        ),
    );
}

#[test]
fn connect_error_is_a_down_rlm_server_on_port_5053() {
    let r = parse(
        "rlm/omnivector-rlmutil-connect-error.txt",
        "2024-01-01T00:00:00Z",
        chrono_tz::UTC,
    );
    assert_eq!(r.diagnostics, Vec::<Diagnostic>::new());
    assert_eq!(r.servers.len(), 1);
    let rlm = &r.servers[0];
    assert_eq!(
        (rlm.host.as_str(), rlm.port, rlm.status),
        ("", Some(5053), UpDown::Down)
    );
    assert_eq!(
        rlm.error.as_deref(),
        Some("Error connecting to \"rlm\" server")
    );
    assert!(r.server_down());
    assert!(r.vendor_daemons.is_empty() && r.features.is_empty() && r.sessions.is_empty());
}

/// Oddities no fixture has: a user name with a space, an old-style line with the client
/// version and handle before the count (RLM manual, rlmremove example), roaming and queued
/// markers, a token pool, an ISV that is not running, and a line nobody knows.
#[test]
fn synthetic_oddities() {
    let text = "\
\t--------- ISV servers ----------
\t   Name           Port Running Restarts
\treprise          5055   No      3
\t------------------------
\treprise license pool status on melody (port 1215)
\ttest3 v1.000
\t\tcount: 4, # reservations: 1, inuse: 2, exp: 1-jan-0
\ttokens v1.0 (token)
\t\tcount: 0, # reservations: 0, inuse: 0, exp: permanent
\treprise license usage status on melody (port 1215)
\ttest3 v1.000: tom@sun1(v1.0) (809f418) 1/0 at 02/06 09:59
\ttest3 v1.000: John Doe@pc 1/1 at 02/06 10:00  (handle: 41) (roaming)
\ttest3 v1.000: ann@pc 1/0 at 02/06 10:01  (handle: 42) (queued)
something else entirely
";
    let r = parse_rlmstat(text, &ctx("2024-03-01T00:00:00Z", chrono_tz::UTC));
    assert_eq!(
        r.diagnostics,
        vec![Diagnostic::new(14, "line not understood")]
    );
    assert_eq!(r.vendor_daemons[0].status, UpDown::Down);
    assert_feature(
        &r.features[0],
        "test3",
        "reprise",
        Some(4),
        2,
        1,
        &[("1.000", Some(Expiry::Permanent), Some(4))],
    );
    assert_feature(
        &r.features[1],
        "tokens",
        "reprise",
        None,
        0,
        0,
        &[("1.0", Some(Expiry::Permanent), None)],
    );
    let s = &r.sessions;
    assert_eq!(
        (
            s[0].user.as_str(),
            s[0].host.as_str(),
            s[0].handle.as_deref()
        ),
        ("tom", "sun1", Some("809f418"))
    );
    assert_eq!(s[0].start, utc(2024, 2, 6, 9, 59));
    assert_eq!(
        (s[1].user.as_str(), s[1].host.as_str(), s[1].borrowed),
        ("John Doe", "pc", true)
    );
    assert_eq!(
        (s[2].user.as_str(), s[2].queued, s[2].handle.as_deref()),
        ("ann", true, Some("42"))
    );
}

/// Every file of `fixtures/rlm/` is named in this file, so each has its test.
/// The ISV's `Denials:` total is its count; the rlm server's own statistics, or a row whose
/// counts cannot be read, count nothing.
#[test]
fn isv_denial_totals_only_inside_an_isv_status_block() {
    let text = "\
rlm status on melody (port 5053), up 1d 00:00:00
Messages:    5 (0/sec)           5 (0/sec)          5 (0/sec)
Denials:     7 (0/sec)           7 (0/sec)          7 (0/sec)
reprise ISV server status on melody (port 5055), up 1d 00:00:00
Denials:     1 (0/sec)           2 (0/sec)          345 (0/sec)
acme ISV server status on melody (port 5056), up 1d 00:00:00
Denials:     1 (0/sec)           many
";
    let r = parse_rlmstat(text, &ctx("2024-03-01T00:00:00Z", chrono_tz::UTC));
    let denied: Vec<(&str, Option<u64>)> = r
        .vendor_daemons
        .iter()
        .map(|d| (d.name.as_str(), d.denied))
        .collect();
    assert_eq!(denied, [("reprise", Some(345)), ("acme", None)]);
}

#[test]
fn every_rlm_fixture_has_a_test() {
    let source = include_str!("rlm_rlmstat.rs");
    for entry in std::fs::read_dir(common::fixtures_dir().join("rlm")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            source.contains(&format!("rlm/{name}")),
            "fixture rlm/{name} has no test"
        );
    }
}
