//! FlexNet debug log parser against the real-world fixtures in `shared/fixtures/flexlm-debuglog/`
//! (expected values read off the files by hand), plus synthetic cases for the oddities the
//! fixtures do not show.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use licmon_parse::flexnet_debuglog::DebugLogParser;
use licmon_parse::{Diagnostic, EventKind, LogEvent, LogParser};

const DIR: &str = "flexlm-debuglog";
const AUTODESK: &str = "flexlm-license-elk-autodesk-adskflex-excerpt.log";
const MAPLE: &str = "Stats_Logs_FlexLM-maple-startup-excerpt.log";
const MATLAB: &str = "Stats_Logs_FlexLM-matlab-MLM-unsupported-excerpt.log";

fn parse_text(text: &str, tz: chrono_tz::Tz) -> (Vec<LogEvent>, Vec<Diagnostic>) {
    let mut p = DebugLogParser::new(tz);
    let (mut events, mut diags) = (Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate() {
        p.push_line(i + 1, line, &mut events, &mut diags);
    }
    p.finish(&mut events);
    (events, diags)
}

fn parse_fixture(name: &str) -> (Vec<LogEvent>, Vec<Diagnostic>) {
    // The servers of all three fixtures log in Spanish/French "Romance" time: Europe/Madrid.
    parse_text(
        &common::fixture(&format!("{DIR}/{name}")),
        chrono_tz::Europe::Madrid,
    )
}

fn count(events: &[LogEvent], kind: EventKind) -> usize {
    events.iter().filter(|e| e.kind == kind).count()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

#[allow(clippy::too_many_arguments)] // one argument per field checked reads best in the tests
fn assert_event(
    e: &LogEvent,
    kind: EventKind,
    time: DateTime<Utc>,
    feature: &str,
    user: &str,
    host: &str,
    count: u64,
    reason: Option<&str>,
) {
    assert_eq!(
        (
            e.kind,
            e.time,
            e.feature.as_str(),
            e.user.as_str(),
            e.host.as_str(),
            e.count,
            e.reason.as_deref()
        ),
        (kind, time, feature, user, host, count, reason)
    );
}

#[test]
fn autodesk_adskflex_excerpt() {
    let (events, diags) = parse_fixture(AUTODESK);
    assert_eq!(diags, vec![]);
    assert_eq!(events.len(), 67);
    assert_eq!(
        (
            count(&events, EventKind::Start),
            count(&events, EventKind::Out),
            count(&events, EventKind::In)
        ),
        (1, 38, 28)
    );
    // lmgrd banner at 1:56:05 CEST on 3/30/2016 (DST began 3/27) = 23:56:05 UTC the day before.
    assert_event(
        &events[0],
        EventKind::Start,
        utc(2016, 3, 29, 23, 56, 5),
        "",
        "",
        "SERVER01",
        0,
        None,
    );
    // The first OUT comes before any TIMESTAMP line: dated by the banner.
    assert_event(
        &events[1],
        EventKind::Out,
        utc(2016, 3, 30, 4, 51, 39),
        "64300ACD_F",
        "USER01",
        "COMPUTER01",
        1,
        None,
    );
    let first_in = events.iter().find(|e| e.kind == EventKind::In).unwrap();
    assert_event(
        first_in,
        EventKind::In,
        utc(2016, 3, 30, 7, 57, 39),
        "85730ACD_2012_0F",
        "USER04",
        "COMPUTER05",
        1,
        None,
    );
    let inactive: Vec<_> = events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("INACTIVE"))
        .collect();
    assert_eq!(inactive.len(), 8);
    assert_event(
        inactive[0],
        EventKind::In,
        utc(2016, 3, 30, 9, 2, 14),
        "64300ACD_F",
        "USER07",
        "COMPUTER04",
        1,
        Some("INACTIVE"),
    );
    let last_out = events
        .iter()
        .rev()
        .find(|e| e.kind == EventKind::Out)
        .unwrap();
    assert_event(
        last_out,
        EventKind::Out,
        utc(2016, 3, 30, 11, 14, 22),
        "85730ACD_2012_0F",
        "USER11",
        "COMPUTER11",
        1,
        None,
    );
    assert_event(
        events.last().unwrap(),
        EventKind::In,
        utc(2016, 3, 30, 11, 47, 42),
        "85730ACD_2012_0F",
        "USER12",
        "COMPUTER17",
        1,
        Some("INACTIVE"),
    );
}

#[test]
fn maple_startup_excerpt() {
    // Start-up only: banner, feature lists with tabs, SLOG blocks, an empty line, TIMESTAMPs.
    let (events, diags) = parse_fixture(MAPLE);
    assert_eq!(diags, vec![]);
    assert_eq!(events.len(), 1);
    assert_event(
        &events[0],
        EventKind::Start,
        utc(2022, 6, 9, 8, 25, 28),
        "",
        "",
        "flexlm01",
        0,
        None,
    );
}

#[test]
fn matlab_mlm_unsupported_excerpt() {
    let (events, diags) = parse_fixture(MATLAB);
    assert_eq!(diags, vec![]);
    assert_eq!(events.len(), 45);
    assert_eq!(
        (
            count(&events, EventKind::Start),
            count(&events, EventKind::Out),
            count(&events, EventKind::Unsupported)
        ),
        (1, 40, 4)
    );
    assert_eq!(count(&events, EventKind::In), 0);
    assert_event(
        &events[1],
        EventKind::Out,
        utc(2022, 6, 9, 8, 25, 38),
        "MATLAB",
        "alu-escuela",
        "LIBRE-09",
        1,
        None,
    );
    let unsupported = events
        .iter()
        .find(|e| e.kind == EventKind::Unsupported)
        .unwrap();
    assert_event(
        unsupported,
        EventKind::Unsupported,
        utc(2022, 6, 9, 8, 25, 38),
        "MATLAB",
        "Pablo",
        "DESKTOP-PV69PK5",
        1,
        Some("No such feature exists. (-5,346)"),
    );
    let spaced = events.iter().find(|e| e.user == "Ana Moreno").unwrap();
    assert_eq!(
        (spaced.host.as_str(), spaced.time),
        ("DESKTOP-L00QHGH", utc(2022, 6, 9, 8, 25, 43))
    );
    let accented = events.iter().find(|e| e.user.starts_with("Jos")).unwrap();
    assert_event(
        accented,
        EventKind::Out,
        utc(2022, 6, 9, 8, 28, 49),
        "MATLAB",
        "José Luis Ortega",
        "Plasmon",
        1,
        None,
    );
    assert_event(
        events.last().unwrap(),
        EventKind::Out,
        utc(2022, 6, 9, 8, 34, 58),
        "MATLAB",
        "t230510",
        "r1n61.hpc.lan",
        1,
        None,
    );
}

#[test]
fn every_fixture_file_has_a_test() {
    let this_file = include_str!("flexnet_debuglog.rs");
    let dir = common::fixtures_dir().join(DIR);
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            this_file.contains(&format!("\"{name}\"")),
            "fixture {name} is not named in tests/flexnet_debuglog.rs"
        );
    }
}

#[test]
fn checkpoint_resume_equals_uninterrupted_run_on_every_fixture() {
    for name in [AUTODESK, MAPLE, MATLAB] {
        let text = common::fixture(&format!("{DIR}/{name}"));
        let lines: Vec<&str> = text.lines().collect();
        let (full, full_diags) = parse_text(&text, chrono_tz::Europe::Madrid);
        for split in [1, lines.len() / 3, lines.len() / 2, lines.len() - 1] {
            let (events, diags) = parse_in_two_halves(&lines, split);
            assert_eq!(
                (&events, &diags),
                (&full, &full_diags),
                "{name} split at line {split}"
            );
        }
    }
}

fn parse_in_two_halves(lines: &[&str], split: usize) -> (Vec<LogEvent>, Vec<Diagnostic>) {
    let (mut events, mut diags) = (Vec::new(), Vec::new());
    let mut first = DebugLogParser::new(chrono_tz::Europe::Madrid);
    for (i, line) in lines[..split].iter().enumerate() {
        first.push_line(i + 1, line, &mut events, &mut diags);
    }
    let state: serde_json::Value = serde_json::from_str(&first.checkpoint().to_string()).unwrap();
    let mut second = DebugLogParser::new(chrono_tz::Europe::Madrid);
    assert!(second.restore(&state));
    for (i, line) in lines[split..].iter().enumerate() {
        second.push_line(split + i + 1, line, &mut events, &mut diags);
    }
    second.finish(&mut events);
    (events, diags)
}

// --- synthetic cases -------------------------------------------------------------------------

const HEAD: &str = " 9:00:00 (lmgrd) TIMESTAMP 1/15/2024\n";

#[test]
fn midnight_rollover() {
    let text = format!(
        "{HEAD}23:59:58 (v) OUT: \"f\" u@h  \n 0:00:03 (v) IN: \"f\" u@h  \n 0:00:01 (v) OUT: \"f\" u@h  \n"
    );
    let (events, diags) = parse_text(&text, chrono_tz::UTC);
    assert_eq!(diags, vec![]);
    let times: Vec<_> = events.iter().map(|e| e.time).collect();
    // A step back of two seconds is interleaving, not another day.
    assert_eq!(
        times,
        vec![
            utc(2024, 1, 15, 23, 59, 58),
            utc(2024, 1, 16, 0, 0, 3),
            utc(2024, 1, 16, 0, 0, 1)
        ]
    );
}

#[test]
fn continuation_lines_count_and_reason() {
    let text = format!(
        "{HEAD}10:00:00 (telelogic) OUT: TLSTOK-token ann@ws1  [DOORS] \n(3 licenses)\n\
         10:00:01 (telelogic) DENIED: DOORS bob@ws2  [telelogic] \n\
         10:00:01 (telelogic) (Licensed number of users already reached. (-4,342:10054 ))\n\
         10:00:02 (v) DENIED: \"f\" carl@ws3  (Licensed number of users already reached. (-4,342:10054 \n\
         10:00:02 (v) \"WinSock: Connection reset\"))\n\
         10:00:03 (v) OUT: \"f\" dan@ws4  \n\
         10:00:04 (v) (2 licenses)\n"
    );
    let (events, diags) = parse_text(&text, chrono_tz::UTC);
    assert_eq!(diags, vec![]);
    assert_eq!(events.len(), 4);
    assert_event(
        &events[0],
        EventKind::Out,
        utc(2024, 1, 15, 10, 0, 0),
        "TLSTOK-token",
        "ann",
        "ws1",
        3,
        None,
    );
    assert_event(
        &events[1],
        EventKind::Denied,
        utc(2024, 1, 15, 10, 0, 1),
        "DOORS",
        "bob",
        "ws2",
        1,
        Some("Licensed number of users already reached. (-4,342:10054 )"),
    );
    assert_eq!(
        events[2].reason.as_deref(),
        Some(
            "Licensed number of users already reached. (-4,342:10054 \"WinSock: Connection reset\")"
        )
    );
    // Another second: not a continuation of dan's OUT (and not an event either).
    assert_eq!(events[3].count, 1);
}

#[test]
fn lmgrd_restart_emits_start_and_exit_emits_shutdown() {
    let text = format!(
        "{HEAD}10:00:00 (v) OUT: \"f\" u@h  \n11:00:00 (lmgrd) EXITING DUE TO SIGNAL 15\n\
         11:05:00 (lmgrd) FlexNet Licensing (v11.16.2.0 build 1) started on lic01 (linux) (1/15/2024)\n"
    );
    let (events, _) = parse_text(&text, chrono_tz::UTC);
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![EventKind::Out, EventKind::Shutdown, EventKind::Start]
    );
    assert_eq!(
        (events[2].host.as_str(), events[2].time),
        ("lic01", utc(2024, 1, 15, 11, 5, 0))
    );
}

#[test]
fn events_before_any_date_are_skipped_with_a_diagnostic() {
    let (events, diags) = parse_text(
        "10:00:00 (v) OUT: \"f\" u@h  \n10:00:01 (lmgrd) TIMESTAMP 1/15/2024\n10:00:02 (v) IN: \"f\" u@h  \n",
        chrono_tz::UTC,
    );
    assert_eq!(events.len(), 1);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].line, 1);
    assert!(diags[0].message.contains("no date known yet"));
}

#[test]
fn dst_gap_and_fold_do_not_panic_and_stay_ordered() {
    // Europe/Berlin: 2024-03-31 02:00 → 03:00 (gap), 2024-10-27 03:00 → 02:00 (fold).
    let text = " 1:59:00 (lmgrd) TIMESTAMP 3/31/2024\n 2:30:00 (v) OUT: \"f\" u@h  \n\
                 2:10:00 (lmgrd) TIMESTAMP 10/27/2024\n 2:50:00 (v) OUT: \"f\" u@h  \n 2:10:00 (v) IN: \"f\" u@h  \n";
    let (events, diags) = parse_text(text, chrono_tz::Europe::Berlin);
    assert_eq!(diags, vec![]);
    assert_eq!(events[0].time, utc(2024, 3, 31, 1, 30, 0)); // 02:30 does not exist: read as 03:30 CEST
    assert_eq!(events[1].time, utc(2024, 10, 27, 0, 50, 0)); // first 02:50 (CEST)
    assert_eq!(events[2].time, utc(2024, 10, 27, 1, 10, 0)); // second 02:10 (CET), after it
}

#[test]
fn crlf_lines() {
    let (events, diags) = parse_text(
        &format!("{HEAD}10:00:00 (v) IN: \"f\" u@h  (INACTIVE)\r\n").replace('\n', "\r\n"),
        chrono_tz::UTC,
    );
    assert_eq!(diags, vec![]);
    assert_event(
        &events[0],
        EventKind::In,
        utc(2024, 1, 15, 10, 0, 0),
        "f",
        "u",
        "h",
        1,
        Some("INACTIVE"),
    );
}

#[test]
fn unreadable_event_lines_are_diagnostics_harmless_lines_are_not() {
    let text = format!(
        "{HEAD}10:00:00 (v) OUT: \n10:00:01 (v) RESERVING 10 f/1 licenses for USER_GROUP G\ngarbage OUT: \"f\" u@h\n"
    );
    let (events, diags) = parse_text(&text, chrono_tz::UTC);
    assert!(events.is_empty());
    assert_eq!(diags.iter().map(|d| d.line).collect::<Vec<_>>(), vec![2, 4]);
}
