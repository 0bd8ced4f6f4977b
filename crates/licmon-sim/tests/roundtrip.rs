//! Generated outputs parsed by licmon-parse give exactly the scenario's features, counts and
//! sessions, with no diagnostics. (These pass once the licmon-parse parsers land.)

use chrono::{DateTime, Utc};
use licmon_parse::{ParseContext, StatusFormat, StatusReport};
use licmon_sim::argv;
use licmon_sim::scenario::{Kind, Scenario, Server};
use licmon_sim::usage::feature_usage;

const SCENARIO: &str = r#"
seed = 2024

[[server]]
kind = "flexnet"
address = "27000@lic1,27000@lic2,27000@lic3"
vendor = "ansyslmd"
triad_down_member = 0
time_zone = "Europe/Berlin"
[[server.feature]]
name = "cfd_solver"
version = "2025.1"
issued = 30
reserved = 3
expires = "2027-03-31"
users = 40
peak = 1.0
queued = 2
borrowed = 1
[[server.feature]]
name = "tokens"
issued = 400
licenses_per_checkout = 16
users = 15
peak = 0.7
[[server.feature]]
name = "idle"
issued = 1

[[server]]
kind = "flexnet"
address = "27009@single"
vendor = "MLM"
time_zone = "America/New_York"
[[server.feature]]
name = "MATLAB"
version = "53"
issued = 20
users = 25
peak = 0.8
[[server.feature]]
name = "viewer"
uncounted = true
users = 6

[[server]]
kind = "rlm"
address = "5053@rlmhost"
vendor = "foundry"
time_zone = "America/Los_Angeles"
[[server.feature]]
name = "nuke_i"
version = "2024.0701"
issued = 22
reserved = 2
users = 30
peak = 0.9
expires = "2026-07-01"
[[server.feature]]
name = "nukex_i"
version = "2024.0701"
issued = 3
users = 8

[[server]]
kind = "lmx"
address = "6200@lmxhost"
vendor = "ALTAIR"
time_zone = "Asia/Tokyo"
[[server.feature]]
name = "HyperWorks"
version = "21.0"
issued = 100000
licenses_per_checkout = 5000
users = 15
peak = 0.8
expires = "2026-12-31"
[[server.feature]]
name = "GlobalZoneEU"
version = "21.0"
issued = 3
users = 4

[[server]]
kind = "flexnet"
address = "27010@deadhost"
vendor = "v"
behaviour = "down"
"#;

/// Instants spread over working hours and nights in the servers' zones.
const INSTANTS: [&str; 5] = [
    "2025-03-11T08:02:00Z",
    "2025-03-11T13:37:00Z",
    "2025-03-11T17:10:00Z",
    "2025-03-11T22:45:00Z",
    "2025-03-12T03:20:00Z",
];

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn run(sc: &Scenario, cmd: &str, now: DateTime<Utc>) -> String {
    let args: Vec<String> = cmd.split_whitespace().map(str::to_string).collect();
    let inv = argv::parse(&args, &|_| None);
    String::from_utf8(licmon_sim::respond(&inv, sc, now).stdout).unwrap()
}

type SessionKey = (String, String, String, u64, Option<DateTime<Utc>>, bool);

fn expected_sessions(
    sc: &Scenario,
    server: &Server,
    now: DateTime<Utc>,
    with_queue: bool,
) -> Vec<SessionKey> {
    let mut want = Vec::new();
    for f in &server.features {
        let u = feature_usage(sc.seed, server, f, now);
        for c in &u.checkouts {
            want.push((
                f.name.clone(),
                c.user.clone(),
                c.host.clone(),
                c.count,
                Some(c.start),
                false,
            ));
        }
        if with_queue {
            for c in &u.queued {
                want.push((
                    f.name.clone(),
                    c.user.clone(),
                    c.host.clone(),
                    c.count,
                    None,
                    true,
                ));
            }
        }
    }
    want.sort();
    want
}

fn got_sessions(report: &StatusReport) -> Vec<SessionKey> {
    let mut got: Vec<SessionKey> = report
        .sessions
        .iter()
        .map(|s| {
            let start = if s.queued { None } else { s.start };
            (
                s.feature.clone(),
                s.user.clone(),
                s.host.clone(),
                s.count,
                start,
                s.queued,
            )
        })
        .collect();
    got.sort();
    got
}

fn check(sc: &Scenario, server: &Server, format: StatusFormat, text: &str, now: DateTime<Utc>) {
    let report = format.parse(text, &ParseContext::new(now, server.tz()));
    let ctx = format!("{} {} at {now}:\n{text}", format.name(), server.address);
    assert!(
        report.diagnostics.is_empty(),
        "diagnostics {:?} for {ctx}",
        report.diagnostics
    );
    assert!(!report.server_down(), "{ctx}");
    let names: Vec<&str> = report.features.iter().map(|f| f.name.as_str()).collect();
    let want_names: Vec<&str> = server.features.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, want_names, "{ctx}");
    for (got, f) in report.features.iter().zip(&server.features) {
        let u = feature_usage(sc.seed, server, f, now);
        // licmon's `in_use` excludes reservations (FlexNet's printed total includes them:
        // `in_use + reserved` is that total).
        let (in_use, reserved) = match server.kind {
            Kind::Flexnet | Kind::Rlm => (u.checked_out(), f.reserved),
            _ => (u.checked_out(), 0),
        };
        assert_eq!(got.issued, f.issued, "issued of {} in {ctx}", f.name);
        assert_eq!(
            got.uncounted, f.uncounted,
            "uncounted of {} in {ctx}",
            f.name
        );
        assert_eq!(got.in_use, in_use, "in_use of {} in {ctx}", f.name);
        assert_eq!(got.reserved, reserved, "reserved of {} in {ctx}", f.name);
        if server.kind == Kind::Flexnet {
            assert_eq!(
                got.queued,
                u.queued_licenses(),
                "queued of {} in {ctx}",
                f.name
            );
        }
    }
    let with_queue = server.kind == Kind::Flexnet;
    assert_eq!(
        got_sessions(&report),
        expected_sessions(sc, server, now, with_queue),
        "{ctx}"
    );
}

#[test]
fn flexnet_lmstat_round_trips() {
    let sc = Scenario::parse(SCENARIO).unwrap();
    let mut sessions = 0;
    for now in INSTANTS.map(at) {
        for server in sc
            .servers
            .iter()
            .filter(|s| s.kind == Kind::Flexnet && s.address != "27010@deadhost")
        {
            let text = run(&sc, &format!("lmutil lmstat -a -c {}", server.address), now);
            check(&sc, server, StatusFormat::FlexnetLmstat, &text, now);
            sessions += expected_sessions(&sc, server, now, true).len();
        }
    }
    assert!(
        sessions > 30,
        "the scenario should exercise many sessions ({sessions})"
    );
}

#[test]
fn flexnet_triad_nodes_round_trip() {
    let sc = Scenario::parse(SCENARIO).unwrap();
    let now = at(INSTANTS[1]);
    let text = run(&sc, "lmutil lmstat -a -c 27000@lic2", now);
    let report =
        StatusFormat::FlexnetLmstat.parse(&text, &ParseContext::new(now, sc.servers[0].tz()));
    let nodes: Vec<(&str, bool, bool)> = report
        .servers
        .iter()
        .map(|n| {
            (
                n.host.as_str(),
                n.status == licmon_parse::UpDown::Up,
                n.master,
            )
        })
        .collect();
    assert_eq!(
        nodes,
        [
            ("lic1", false, false),
            ("lic2", true, true),
            ("lic3", true, false)
        ],
        "{text}"
    );
    assert_eq!(report.vendor_daemons.len(), 1, "{text}");
    assert_eq!(report.vendor_daemons[0].name, "ansyslmd");
}

#[test]
fn flexnet_down_and_unknown_are_server_down() {
    let sc = Scenario::parse(SCENARIO).unwrap();
    let now = at(INSTANTS[1]);
    for cmd in [
        "lmutil lmstat -a -c 27010@deadhost",
        "lmutil lmstat -a -c 1@nowhere",
    ] {
        let text = run(&sc, cmd, now);
        let report =
            StatusFormat::FlexnetLmstat.parse(&text, &ParseContext::new(now, chrono_tz::Tz::UTC));
        assert!(report.server_down(), "{cmd}:\n{text}\n{report:?}");
        assert!(report.down_reason().is_some(), "{cmd}:\n{text}");
    }
}

#[test]
fn flexnet_lmstat_i_round_trips() {
    let sc = Scenario::parse(SCENARIO).unwrap();
    let server = &sc.servers[0];
    let now = at(INSTANTS[0]);
    let text = run(&sc, "lmutil lmstat -i -c 27000@lic1", now);
    let report = StatusFormat::FlexnetLmstatI.parse(&text, &ParseContext::new(now, server.tz()));
    assert!(
        report.diagnostics.is_empty(),
        "{:?}\n{text}",
        report.diagnostics
    );
    let got: Vec<(&str, Option<u64>)> = report
        .features
        .iter()
        .map(|f| (f.name.as_str(), f.issued))
        .collect();
    let want: Vec<(&str, Option<u64>)> = server
        .features
        .iter()
        .map(|f| (f.name.as_str(), f.issued))
        .collect();
    assert_eq!(got, want, "{text}");
}

#[test]
fn rlm_rlmstat_round_trips() {
    let sc = Scenario::parse(SCENARIO).unwrap();
    let server = sc.servers.iter().find(|s| s.kind == Kind::Rlm).unwrap();
    for now in INSTANTS.map(at) {
        let text = run(&sc, "rlmutil rlmstat -a -c 5053@rlmhost", now);
        check(&sc, server, StatusFormat::RlmRlmstat, &text, now);
    }
    let text = run(&sc, "rlmutil rlmstat -a -c 5053@elsewhere", at(INSTANTS[0]));
    let report = StatusFormat::RlmRlmstat.parse(
        &text,
        &ParseContext::new(at(INSTANTS[0]), chrono_tz::Tz::UTC),
    );
    assert!(report.server_down(), "{text}");
}

#[test]
fn lmx_licstat_round_trips() {
    let sc = Scenario::parse(SCENARIO).unwrap();
    let server = sc.servers.iter().find(|s| s.kind == Kind::Lmx).unwrap();
    for now in INSTANTS.map(at) {
        let text = run(&sc, "lmxendutil -licstat -host lmxhost -port 6200", now);
        check(&sc, server, StatusFormat::LmxLicstat, &text, now);
    }
    let now = at(INSTANTS[0]);
    let text = run(&sc, "lmxendutil -licstat -host elsewhere -port 6200", now);
    let report = StatusFormat::LmxLicstat.parse(&text, &ParseContext::new(now, chrono_tz::Tz::UTC));
    assert!(report.server_down(), "{text}");
}

#[test]
fn lmx_licstat_xml_round_trips() {
    let sc = Scenario::parse(SCENARIO).unwrap();
    let server = sc.servers.iter().find(|s| s.kind == Kind::Lmx).unwrap();
    for now in INSTANTS.map(at) {
        let text = run(&sc, "lmxendutil -licstatxml -host lmxhost -port 6200", now);
        check(&sc, server, StatusFormat::LmxLicstatXml, &text, now);
    }
}
