//! Sentinel RMS, DSLS, IBM LUM, MathLM, LS-DYNA, OLicense and custom XML outputs of the
//! simulator, parsed by licmon-parse, give exactly the scenario's features, counts and
//! sessions, with no diagnostics; unknown and down servers parse as down.

use chrono::{DateTime, Utc};
use licmon_parse::{ParseContext, StatusFormat, StatusReport};
use licmon_sim::scenario::{Kind, Scenario, Server};
use licmon_sim::usage::feature_usage;
use licmon_sim::{argv, cli, others};

const SCENARIO: &str = r#"
seed = 77

[[server]]
kind = "sentinel-rms"
address = "5093@rms1"
vendor = "AVEVA"
time_zone = "Europe/London"
[[server.feature]]
name = "AVEVA201"
issued = 30
reserved = 2
users = 40
peak = 0.9
borrowed = 1
expires = "2027-11-19"
[[server.feature]]
name = "ARMS_ID"
issued = 5
users = 5

[[server]]
kind = "dsls"
address = "4085@dsls1"
vendor = "Dassault Systemes"
time_zone = "Europe/Paris"
[[server.feature]]
name = "MD2"
version = "424"
issued = 12
users = 20
peak = 0.8
expires = "2026-12-31"
[[server.feature]]
name = "SIMULIA_TOKENS"
issued = 300
licenses_per_checkout = 12
users = 10

[[server]]
kind = "ibm-lum"
address = "1515@lum1"
vendor = "Dassault Systemes"
time_zone = "America/New_York"
[[server.feature]]
name = "CATIA_MD2"
version = "5.22"
issued = 10
users = 15
peak = 0.9

[[server]]
kind = "mathlm"
address = "16286@wolfram1"
vendor = "Wolfram"
time_zone = "America/Chicago"
[[server.feature]]
name = "Mathematica"
version = "14.1"
issued = 20
users = 25
peak = 0.8
[[server.feature]]
name = "MathKernel"
version = "14.1"
issued = 40
licenses_per_checkout = 2
users = 20

[[server]]
kind = "lsdyna"
address = "31010@lstc1"
vendor = "LSTC"
[[server.feature]]
name = "MPPDYNA"
issued = 500
licenses_per_checkout = 40
users = 10
peak = 0.9
expires = "2026-12-30"
[[server.feature]]
name = "LS-DYNA"
issued = 16
users = 8

[[server]]
kind = "olicense"
address = "31212@oli1"
vendor = "cosin"
[[server.feature]]
name = "ftire_adams"
issued = 6
users = 8
peak = 0.9
expires = "2026-12-31"

[[server]]
kind = "custom-xml"
address = "1@site-script"
vendor = "ACME"
time_zone = "Asia/Tokyo"
[[server.feature]]
name = "solver"
version = "2025.1"
issued = 20
reserved = 1
users = 25
peak = 0.8
borrowed = 1
[[server.feature]]
name = "viewer"
issued = 50
users = 10

[[server]]
kind = "olicense"
address = "31212@olidown"
vendor = "x"
behaviour = "down"
"#;

const INSTANTS: [&str; 4] = [
    "2025-03-11T08:02:00Z",
    "2025-03-11T13:37:00Z",
    "2025-03-11T17:10:00Z",
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

/// `DSLicSrv -admin` with its script on stdin, as the binary does.
fn run_dsls(sc: &Scenario, script: &str, now: DateTime<Utc>) -> String {
    let mut inv = argv::parse(&["DSLicSrv".into(), "-admin".into()], &|_| None);
    inv.command = cli::dsls_connect(script);
    String::from_utf8(licmon_sim::respond(&inv, sc, now).stdout).unwrap()
}

type Key = (String, String, String, u64, Option<DateTime<Utc>>);

fn server(sc: &Scenario, kind: Kind) -> &Server {
    sc.servers.iter().find(|s| s.kind == kind).unwrap()
}

/// What the output must show: `with_start` where the format prints checkout times; MathLM
/// prints one row per license.
fn expected(
    sc: &Scenario,
    server: &Server,
    now: DateTime<Utc>,
    with_start: bool,
    per_license: bool,
) -> Vec<Key> {
    let mut want = Vec::new();
    for f in &server.features {
        for c in &feature_usage(sc.seed, server, f, now).checkouts {
            let start = with_start.then_some(c.start);
            if per_license {
                for _ in 0..c.count {
                    want.push((f.name.clone(), c.user.clone(), c.host.clone(), 1, start));
                }
            } else {
                want.push((
                    f.name.clone(),
                    c.user.clone(),
                    c.host.clone(),
                    c.count,
                    start,
                ));
            }
        }
    }
    want.sort();
    want
}

fn got(report: &StatusReport, with_start: bool) -> Vec<Key> {
    let mut got: Vec<Key> = report
        .sessions
        .iter()
        .map(|s| {
            (
                s.feature.clone(),
                s.user.clone(),
                s.host.clone(),
                s.count,
                if with_start { s.start } else { None },
            )
        })
        .collect();
    got.sort();
    got
}

fn check(sc: &Scenario, kind: Kind, format: StatusFormat, text: &str, now: DateTime<Utc>) -> usize {
    let server = server(sc, kind);
    let report = format.parse(text, &ParseContext::new(now, server.tz()));
    let ctx = format!("{} at {now}:\n{text}", format.name());
    assert!(
        report.diagnostics.is_empty(),
        "{:?} {ctx}",
        report.diagnostics
    );
    assert!(!report.server_down() && !report.servers.is_empty(), "{ctx}");
    let names: Vec<&str> = report.features.iter().map(|f| f.name.as_str()).collect();
    let want: Vec<&str> = server.features.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, want, "{ctx}");
    for (g, f) in report.features.iter().zip(&server.features) {
        let u = feature_usage(sc.seed, server, f, now);
        assert_eq!(g.issued, f.issued, "issued of {} {ctx}", f.name);
        assert_eq!(g.in_use, u.checked_out(), "in use of {} {ctx}", f.name);
        let reserved = match kind {
            Kind::SentinelRms | Kind::CustomXml => f.reserved,
            _ => 0,
        };
        assert_eq!(g.reserved, reserved, "reserved of {} {ctx}", f.name);
    }
    let with_start = !matches!(kind, Kind::Mathlm | Kind::Lsdyna | Kind::Olicense);
    let per_license = kind == Kind::Mathlm;
    let want = expected(sc, server, now, with_start, per_license);
    assert_eq!(got(&report, with_start), want, "{ctx}");
    want.len()
}

#[test]
fn every_other_format_round_trips() {
    let sc = Scenario::parse(SCENARIO).unwrap();
    let mut sessions = 0;
    for now in INSTANTS.map(at) {
        sessions += check(
            &sc,
            Kind::SentinelRms,
            StatusFormat::SentinelLsmon,
            &run(&sc, "lsmon rms1", now),
            now,
        );
        sessions += check(
            &sc,
            Kind::Dsls,
            StatusFormat::DslsGetLicenseUsage,
            &run_dsls(&sc, "connect dsls1 4085\ngetLicenseUsage -csv\nquit\n", now),
            now,
        );
        sessions += check(
            &sc,
            Kind::IbmLum,
            StatusFormat::IbmLumI4blt,
            &run(&sc, "i4blt -s -lc -n lum1", now),
            now,
        );
        sessions += check(
            &sc,
            Kind::Mathlm,
            StatusFormat::MathlmMonitorlm,
            &run(&sc, "monitorlm wolfram1 -format text", now),
            now,
        );
        sessions += check(
            &sc,
            Kind::Lsdyna,
            StatusFormat::LsdynaQrun,
            &run(&sc, "lstc_qrun -s 31010@lstc1 -R", now),
            now,
        );
        sessions += check(
            &sc,
            Kind::Olicense,
            StatusFormat::OlicenseOlixtool,
            &run(&sc, "olixtool -sv oli1:31212", now),
            now,
        );
        let xml = others::custom_xml(sc.seed, server(&sc, Kind::CustomXml), now, false);
        sessions += check(&sc, Kind::CustomXml, StatusFormat::CustomXml, &xml, now);
    }
    assert!(
        sessions > 60,
        "the scenario should exercise many sessions ({sessions})"
    );
}

#[test]
fn unknown_and_down_servers_parse_as_down() {
    let sc = Scenario::parse(SCENARIO).unwrap();
    let now = at(INSTANTS[1]);
    let cases = [
        (StatusFormat::SentinelLsmon, run(&sc, "lsmon nowhere", now)),
        (
            StatusFormat::DslsGetLicenseUsage,
            run_dsls(&sc, "connect nowhere 4085\n", now),
        ),
        (
            StatusFormat::IbmLumI4blt,
            run(&sc, "i4blt -s -lc -n nowhere", now),
        ),
        (
            StatusFormat::MathlmMonitorlm,
            run(&sc, "monitorlm nowhere -format text", now),
        ),
        (
            StatusFormat::LsdynaQrun,
            run(&sc, "lstc_qrun -s 31010@nowhere -R", now),
        ),
        (
            StatusFormat::OlicenseOlixtool,
            run(&sc, "olixtool -sv nowhere:31212", now),
        ),
        (
            StatusFormat::OlicenseOlixtool,
            run(&sc, "olixtool -sv olidown:31212", now),
        ),
        (
            StatusFormat::CustomXml,
            others::custom_xml(sc.seed, server(&sc, Kind::CustomXml), now, true),
        ),
    ];
    for (format, text) in cases {
        let report = format.parse(&text, &ParseContext::new(now, chrono_tz::Tz::UTC));
        assert!(
            report.server_down(),
            "{}:\n{text}\n{report:?}",
            format.name()
        );
        assert!(report.down_reason().is_some(), "{text}");
        assert!(
            report.diagnostics.is_empty(),
            "{:?}\n{text}",
            report.diagnostics
        );
    }
}

#[test]
fn custom_xml_is_written_atomically() {
    let sc = Scenario::parse(SCENARIO).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("status.xml");
    let now = at(INSTANTS[1]);
    cli::write_custom_xml(&sc, "1@site-script", &path, now).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    check(&sc, Kind::CustomXml, StatusFormat::CustomXml, &text, now);
    assert!(!dir.path().join("status.xml.tmp").exists());
    assert!(cli::write_custom_xml(&sc, "1@nowhere", &path, now).is_err());
}
