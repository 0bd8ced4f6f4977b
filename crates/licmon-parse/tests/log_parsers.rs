//! RLM report log, LM-X log and CSV parsers against the written fixtures in `tests/fixtures/`
//! (see `tests/fixtures/README-logs.md`), checkpoint/resume equivalence for all four log
//! parsers, and a dependency-free never-panic fuzz test.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use licmon_parse::{Diagnostic, EventKind, LogEvent, LogFormat};

fn own_fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parse with the trait object, as the importer does, finishing at end of input.
fn parse(format: LogFormat, tz: chrono_tz::Tz, text: &str) -> (Vec<LogEvent>, Vec<Diagnostic>) {
    let mut p = format.parser(tz);
    let (mut events, mut diags) = (Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate() {
        p.push_line(i + 1, line, &mut events, &mut diags);
    }
    p.finish(&mut events, &mut diags);
    (events, diags)
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn summary(
    e: &LogEvent,
) -> (
    EventKind,
    DateTime<Utc>,
    &str,
    &str,
    &str,
    u64,
    Option<&str>,
) {
    (
        e.kind,
        e.time,
        e.feature.as_str(),
        e.user.as_str(),
        e.host.as_str(),
        e.count,
        e.reason.as_deref(),
    )
}

const BERLIN: chrono_tz::Tz = chrono_tz::Europe::Berlin;

#[test]
fn rlm_std_format() {
    let (events, diags) = parse(
        LogFormat::RlmReportlog,
        BERLIN,
        &own_fixture("rlm-reportlog-std.log"),
    );
    assert_eq!(diags, vec![]);
    assert_eq!(events.len(), 12);
    assert_eq!(
        summary(&events[0]),
        (
            EventKind::Start,
            utc(2024, 3, 14, 7, 0, 0),
            "",
            "",
            "lic01",
            0,
            None
        )
    );
    assert_eq!(
        summary(&events[2]),
        (
            EventKind::Out,
            utc(2024, 3, 14, 7, 20, 10),
            "viewer",
            "bob",
            "ws-02",
            2,
            None
        )
    );
    assert_eq!(
        summary(&events[3]),
        (
            EventKind::Denied,
            utc(2024, 3, 14, 7, 21, 0),
            "solver",
            "dave",
            "ws-04",
            1,
            Some("RLM status -22 (will retry)")
        )
    );
    assert_eq!(
        summary(&events[6]),
        (
            EventKind::Dequeued,
            utc(2024, 3, 14, 7, 25, 0),
            "solver",
            "erin",
            "ws-05",
            1,
            Some("client requested dequeue")
        )
    );
    assert_eq!(
        summary(&events[8]),
        (
            EventKind::In,
            utc(2024, 3, 14, 11, 30, 45),
            "viewer",
            "bob",
            "ws-02",
            2,
            Some("application exited")
        )
    );
    // After the periodic timestamp of the next day and a TIMEJUMP.
    assert_eq!(
        summary(&events[10]),
        (
            EventKind::In,
            utc(2024, 3, 15, 1, 0, 0),
            "solver",
            "josé",
            "ws-03",
            1,
            Some("removed by server after timeout")
        )
    );
    assert_eq!(
        summary(&events[11]),
        (
            EventKind::Shutdown,
            utc(2024, 3, 15, 17, 0, 0),
            "",
            "admin",
            "lic01",
            0,
            None
        )
    );
}

#[test]
fn rlm_small_format_resolves_handles_and_rolls_over_the_year() {
    let (events, diags) = parse(
        LogFormat::RlmReportlog,
        BERLIN,
        &own_fixture("rlm-reportlog-small.log"),
    );
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].line, 15); // IN for handle ff: no checkout in the log
    assert_eq!(events.len(), 10);
    // IN of a license that was already out when the log started (INUSE record).
    assert_eq!(
        summary(&events[3]),
        (
            EventKind::In,
            utc(2023, 12, 31, 22, 55, 0),
            "solver",
            "carol",
            "ws-09",
            1,
            None
        )
    );
    assert_eq!(
        summary(&events[8]),
        (
            EventKind::In,
            utc(2024, 1, 1, 0, 0, 0),
            "viewer",
            "bob",
            "ws-02",
            3,
            Some("application exited")
        )
    );
    assert_eq!(
        summary(&events[7]),
        (
            EventKind::Dequeued,
            utc(2023, 12, 31, 23, 25, 0),
            "solver",
            "erin",
            "ws-05",
            1,
            Some("client requested dequeue")
        )
    );
}

#[test]
fn rlm_detailed_format_keeps_fractions() {
    let (events, diags) = parse(
        LogFormat::RlmReportlog,
        BERLIN,
        &own_fixture("rlm-reportlog-detailed.log"),
    );
    assert_eq!(diags, vec![]);
    assert_eq!(events.len(), 6);
    assert_eq!(
        events[1].time,
        utc(2024, 7, 4, 7, 15, 2) + chrono::Duration::microseconds(123_400)
    );
    assert_eq!(
        summary(&events[3]),
        (
            EventKind::Denied,
            utc(2024, 7, 4, 7, 17, 0),
            "solver",
            "dave",
            "ws-04",
            8,
            Some("RLM status -22 (last attempt)")
        )
    );
    assert_eq!(
        (events[5].kind, events[5].count, events[5].reason.as_deref()),
        (EventKind::In, 4, Some("removed by server after timeout"))
    );
}

#[test]
fn lmx_server_log() {
    let (events, diags) = parse(
        LogFormat::LmxLog,
        BERLIN,
        &own_fixture("server-log-lmx.log"),
    );
    assert_eq!(diags, vec![]);
    assert_eq!(events.len(), 5);
    let f = "9_2_0-Clinical-rayStationPlanningBase-4b79kph1fd98fye375qak5e";
    assert_eq!(
        summary(&events[0]),
        (
            EventKind::Out,
            utc(2022, 3, 11, 14, 27, 7),
            f,
            "alice",
            "ws-01",
            1,
            None
        )
    );
    assert_eq!(
        summary(&events[1]),
        (
            EventKind::In,
            utc(2022, 3, 11, 14, 28, 1),
            f,
            "alice",
            "ws-01",
            1,
            None
        )
    );
    assert_eq!(
        summary(&events[2]),
        (
            EventKind::Out,
            utc(2022, 3, 13, 1, 30, 0),
            "HWPartner",
            "Ana María",
            "ws-03",
            1,
            None
        )
    );
    assert_eq!(events[3].kind, EventKind::Denied);
    assert_eq!(
        events[3].reason.as_deref(),
        Some("No more licenses available")
    );
}

#[test]
fn csv_events_with_diagnostics_for_bad_rows() {
    let (events, diags) = parse(LogFormat::Csv, BERLIN, &own_fixture("csv-events.csv"));
    assert_eq!(events.len(), 5);
    assert_eq!(
        summary(&events[0]),
        (
            EventKind::Out,
            utc(2024, 3, 1, 8, 0, 0),
            "MATLAB",
            "alice",
            "ws-01",
            1,
            None
        )
    );
    assert_eq!(
        summary(&events[1]).6,
        Some("Licensed number of users already reached. (-4,342)")
    );
    assert_eq!(
        summary(&events[2]),
        (
            EventKind::Out,
            utc(2024, 3, 1, 9, 31, 0),
            "Simulink \"Pro\"",
            "José Luis Ortega",
            "ws-03",
            2,
            None
        )
    );
    assert_eq!(events[3].time, utc(2024, 3, 1, 11, 0, 0));
    assert_eq!(events[4].time, utc(2024, 3, 31, 1, 30, 0)); // 02:30 is in the DST gap
    let lines: Vec<usize> = diags.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![9, 10, 11, 12, 13]);
    assert!(diags[0].message.contains("kind `checkout`"));
    assert!(diags[2].message.contains("4 fields, the header has 7"));
}

#[test]
fn csv_header_in_another_order_and_missing_columns() {
    let (events, diags) = parse(
        LogFormat::Csv,
        chrono_tz::UTC,
        "feature,kind,time\nf,in,2024-01-01 00:00:00\n",
    );
    assert_eq!((events.len(), diags.len()), (1, 0));
    assert_eq!(events[0].count, 1);
    let (events, diags) = parse(LogFormat::Csv, chrono_tz::UTC, "user,host\nf,in\n");
    assert!(events.is_empty());
    assert!(diags[0].message.contains("time, kind, feature"));
}

// --- checkpoint / resume ----------------------------------------------------------------------

fn all_inputs() -> Vec<(LogFormat, String)> {
    let mut inputs = vec![
        (
            LogFormat::RlmReportlog,
            own_fixture("rlm-reportlog-std.log"),
        ),
        (
            LogFormat::RlmReportlog,
            own_fixture("rlm-reportlog-small.log"),
        ),
        (
            LogFormat::RlmReportlog,
            own_fixture("rlm-reportlog-detailed.log"),
        ),
        (LogFormat::LmxLog, own_fixture("server-log-lmx.log")),
        (LogFormat::Csv, own_fixture("csv-events.csv")),
    ];
    for name in [
        "flexlm-license-elk-autodesk-adskflex-excerpt.log",
        "Stats_Logs_FlexLM-maple-startup-excerpt.log",
        "Stats_Logs_FlexLM-matlab-MLM-unsupported-excerpt.log",
    ] {
        inputs.push((
            LogFormat::FlexnetDebuglog,
            common::fixture(&format!("flexlm-debuglog/{name}")),
        ));
    }
    inputs
}

#[test]
fn checkpoint_resume_equals_uninterrupted_run_for_every_parser() {
    for (format, text) in all_inputs() {
        let full = parse(format, BERLIN, &text);
        let lines: Vec<&str> = text.lines().chain([""]).collect();
        for split in 0..=lines.len() {
            let (mut events, mut diags) = (Vec::new(), Vec::new());
            let mut first = format.parser(BERLIN);
            for (i, line) in lines[..split].iter().enumerate() {
                first.push_line(i + 1, line, &mut events, &mut diags);
            }
            let state: serde_json::Value =
                serde_json::from_str(&first.checkpoint().to_string()).unwrap();
            let mut second = format.parser(BERLIN);
            assert!(
                second.restore(&state),
                "{} cannot restore its own checkpoint",
                format.name()
            );
            for (i, line) in lines[split..].iter().enumerate() {
                second.push_line(split + i + 1, line, &mut events, &mut diags);
            }
            assert_eq!((events, diags), full, "{} split at {split}", format.name());
        }
    }
}

#[test]
fn restore_rejects_foreign_state_and_starts_fresh() {
    for format in LogFormat::ALL {
        let mut p = format.parser(BERLIN);
        assert!(!p.restore(&serde_json::json!({"v": 99})));
        assert!(!p.restore(&serde_json::Value::Null));
    }
}

// --- never panic ------------------------------------------------------------------------------

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut XorShift, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    match rng.below(5) {
        0 => {
            for _ in 0..1 + rng.below(16) {
                let i = rng.below(bytes.len());
                if let Some(b) = bytes.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
        }
        1 => bytes.truncate(rng.below(bytes.len() + 1)),
        2 => {
            let junk: String = (0..rng.below(200))
                .filter_map(|_| char::from_u32(rng.below(0x11_0000) as u32))
                .collect();
            let at = rng.below(bytes.len() + 1);
            bytes.splice(at..at, junk.into_bytes());
        }
        3 => {
            let at = rng.below(bytes.len() + 1);
            bytes.splice(
                at..at,
                "(((\"@@ 99:99:99 ( ) OUT: \"".repeat(2000).into_bytes(),
            );
        }
        _ => {
            let at = rng.below(bytes.len() + 1);
            let piece = [
                "\n", "\r\n", "(", ")", "\"", ",", "@", "  ", "\t", "0", "/", ":",
            ][rng.below(12)];
            bytes.splice(at..at, piece.repeat(1 + rng.below(50)).into_bytes());
        }
    }
    // Truncation can split a character: the importer decodes lossily, and so do we.
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn no_parser_panics_on_mutated_fixtures() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let inputs = all_inputs();
    for round in 0..300 {
        for (_, text) in &inputs {
            let mutated = mutate(&mut rng, text);
            for format in LogFormat::ALL {
                let (events, _) = parse(*format, chrono_tz::America::Sao_Paulo, &mutated);
                assert!(events.len() <= mutated.lines().count() + 1, "round {round}");
            }
        }
    }
}

#[test]
fn no_parser_panics_on_a_very_long_line() {
    let long = format!(
        "10:00:00 (v) OUT: \"{}\" u@h  ({}",
        "x".repeat(1 << 20),
        "(".repeat(1 << 16)
    );
    for format in LogFormat::ALL {
        parse(*format, chrono_tz::UTC, &long);
    }
}
