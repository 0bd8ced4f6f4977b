//! The import pipeline end to end on SQLite and on PostgreSQL (when
//! `LICMON_TEST_DATABASE_URL` names a server): every case runs on both.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use licmon_core::LicenseServer;
use licmon_core::server::{DataSourceInput, LicenseServerInput};
use licmon_core::status::ImportOutcome;
use licmon_import::{
    ImportError, ImportRequest, ImportSettings, ImportSummary, Importer, Via, Window,
};
use licmon_parse::{EventKind, LogFormat};
use licmon_store::*;
use sqlx::Connection;

pub struct Db {
    pub store: Arc<SqlStore>,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl Db {
    async fn finish(self) {
        self.store.close().await;
        if let Some((admin, name)) = self.pg
            && let Ok(mut c) = sqlx::PgConnection::connect(&admin).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut c)
                .await;
        }
    }
}

async fn sqlite() -> Option<Db> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open(&DatabaseUrl::sqlite_in(dir.path()))
        .await
        .unwrap();
    Some(Db {
        store: Arc::new(store),
        _dir: dir,
        pg: None,
    })
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

async fn postgres() -> Option<Db> {
    let admin = match std::env::var("LICMON_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("LICMON_TEST_DATABASE_URL must be set under CI")
        }
        _ => {
            eprintln!("skipped: set LICMON_TEST_DATABASE_URL=postgres://... to run on PostgreSQL");
            return None;
        }
    };
    let name = format!(
        "licmon_import_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .await
        .unwrap();
    let (base, query) = admin
        .split_once('?')
        .map_or((admin.as_str(), None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    let url = match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    };
    let store = SqlStore::open(&DatabaseUrl::parse(&url).unwrap())
        .await
        .unwrap();
    Some(Db {
        store: Arc::new(store),
        _dir: tempfile::tempdir().unwrap(),
        pg: Some((admin, name)),
    })
}

macro_rules! both_backends {
    ($($case:ident),* $(,)?) => {
        mod on_sqlite {
            $( #[tokio::test] async fn $case() {
                let db = super::sqlite().await.unwrap();
                super::$case(&db).await;
                db.finish().await;
            } )*
        }
        mod on_postgres {
            $( #[tokio::test] async fn $case() {
                let Some(db) = super::postgres().await else { return };
                super::$case(&db).await;
                db.finish().await;
            } )*
        }
    };
}

both_backends!(
    flexnet_log_gives_sessions_denials_and_a_summary,
    the_same_file_again_adds_nothing_and_a_grown_file_only_its_new_lines,
    a_file_imported_in_pieces_equals_one_clean_import,
    rlm_report_log_pipeline,
    lmx_log_pipeline,
    unsupported_requests_are_denials_that_say_so,
    csv_pipeline_and_the_denial_window_edges,
    a_changed_head_is_a_new_file,
    bad_files_fail_with_file_and_line_and_keep_earlier_data,
    disabled_not_applicable_and_over_capacity_are_refused,
);

type SessionRow = (String, String, DateTime<Utc>, Option<DateTime<Utc>>);

fn day(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 4, h, m, s).unwrap()
}

async fn server(db: &Db, name: &str, kind: &str, import: bool) -> LicenseServer {
    let address = match kind {
        "generic-log" => None,
        _ => Some("27000@lic01".to_string()),
    };
    let settings = LicenseServerInput {
        name: name.into(),
        kind: kind.into(),
        address,
        time_zone: Some("UTC".into()),
        data_sources: Some(DataSourceInput {
            remote: Some(false),
            import: Some(import),
            end_user: Some(false),
        }),
        ..Default::default()
    }
    .validate()
    .unwrap();
    db.store
        .create_server(&settings, day(0, 0, 0))
        .await
        .unwrap()
}

fn importer(db: &Db, batch_lines: usize) -> Importer {
    Importer::new(
        db.store.clone(),
        ImportSettings {
            batch_lines,
            max_line_bytes: 4096,
            detect_lines: 20,
            ..ImportSettings::default()
        },
    )
}

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

async fn import(
    imp: &Importer,
    server: &LicenseServer,
    path: &Path,
) -> Result<ImportSummary, ImportError> {
    imp.import(
        ImportRequest {
            server_id: server.id,
            path: path.to_path_buf(),
            file_name: path.file_name().unwrap().to_string_lossy().into_owned(),
            format: None,
            via: Via::Cli,
            live: false,
        },
        |_| {},
    )
    .await
}

async fn sessions(db: &Db, server: &LicenseServer) -> Vec<SessionRecord> {
    let mut all = db
        .store
        .sessions(
            server.id,
            &SessionQuery {
                limit: 100_000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    all.sort_by_key(|s| (s.started_at, s.feature.clone(), s.user.clone(), s.ended_at));
    all
}

async fn denials(db: &Db, server: &LicenseServer) -> Vec<DenialRecord> {
    db.store
        .denials(
            server.id,
            &DenialQuery {
                limit: 100_000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

async fn last_import(db: &Db, server: &LicenseServer) -> Option<ImportOutcome> {
    db.store
        .monitor_facts()
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.server_id == server.id)
        .and_then(|f| f.last_import)
}

const FLEXNET: &str = "\
 9:00:00 (lmgrd) FlexNet Licensing (v11.16.2.0 build 1) started on lic01 (linux) (3/4/2025)
 9:00:01 (adskflex) Server started on lic01 for:\tMAYA
 9:10:00 (adskflex) OUT: \"MAYA\" ana@ws-1  
 9:10:30 (adskflex) OUT: \"MAYA\" bo@ws-2  
 9:11:00 (adskflex) DENIED: \"MAYA\" ché@ws-3  (Licensed number of users already reached. (-4,342:10054 \"\"))
 9:11:01 (adskflex) OUT: \"MAYA\" ché@ws-3  
 9:12:00 (adskflex) DENIED: \"MAYA\" dan@ws-4  (Licensed number of users already reached. (-4,342:10054 \"\"))
 9:20:00 (adskflex) IN: \"MAYA\" ana@ws-1  
 9:21:00 (adskflex) IN: \"MAYA\" zed@ws-9  
 9:30:00 (adskflex) OUT: \"MAYA\" ana@ws-1  
10:00:00 (lmgrd) FlexNet Licensing (v11.16.2.0 build 1) started on lic01 (linux) (3/4/2025)
10:05:00 (adskflex) OUT: \"3DSMAX\" bo@ws-2  
";

async fn flexnet_log_gives_sessions_denials_and_a_summary(db: &Db) {
    let dir = tempfile::tempdir().unwrap();
    let s = server(db, "adsk", "flexnet", true).await;
    let path = write(dir.path(), "adsk.log", FLEXNET.as_bytes());
    let summary = import(&importer(db, 3), &s, &path).await.unwrap();
    let r = &summary.run;
    assert_eq!(r.events.get("out"), Some(&5));
    assert_eq!(r.events.get("in"), Some(&2));
    assert_eq!(r.events.get("denied"), Some(&2));
    assert_eq!(r.events.get("start"), Some(&2));
    assert_eq!((r.sessions, r.sessions_closed, r.denials), (5, 4, 2));
    assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
    assert!(r.skipped[0].reason.contains("IN without an open OUT"));
    assert_eq!(r.lines, 12);
    assert_eq!(r.bytes, FLEXNET.len() as u64);
    let got: Vec<SessionRow> = sessions(db, &s)
        .await
        .into_iter()
        .map(|x| {
            assert_eq!(x.source, IMPORT_SOURCE);
            (x.feature, x.user, x.started_at, x.ended_at)
        })
        .collect();
    let restart = Some(day(10, 0, 0));
    assert_eq!(
        got,
        vec![
            (
                "MAYA".into(),
                "ana".into(),
                day(9, 10, 0),
                Some(day(9, 20, 0))
            ),
            ("MAYA".into(), "bo".into(), day(9, 10, 30), restart),
            ("MAYA".into(), "ché".into(), day(9, 11, 1), restart),
            ("MAYA".into(), "ana".into(), day(9, 30, 0), restart),
            ("3DSMAX".into(), "bo".into(), day(10, 5, 0), None),
        ]
    );
    let d: Vec<(String, bool)> = denials(db, &s)
        .await
        .into_iter()
        .map(|d| (d.user, d.retry))
        .collect();
    assert_eq!(d, vec![("ché".into(), true), ("dan".into(), false)]);
    match last_import(db, &s).await {
        Some(ImportOutcome::Success {
            events,
            sessions,
            denials,
            ..
        }) => assert_eq!((events, sessions, denials), (11, 5, 2)),
        other => panic!("{other:?}"),
    }
    let runs = db.store.import_runs(s.id, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].outcome.as_str(), runs[0].via.as_str()),
        ("success", "cli")
    );
}

async fn the_same_file_again_adds_nothing_and_a_grown_file_only_its_new_lines(db: &Db) {
    let dir = tempfile::tempdir().unwrap();
    let s = server(db, "adsk", "flexnet", true).await;
    let imp = importer(db, 4);
    let (head, tail) = FLEXNET.split_at(FLEXNET.find(" 9:20:00").unwrap());
    let path = write(dir.path(), "live.log", head.as_bytes());
    let first = import(&imp, &s, &path).await.unwrap();
    assert_eq!(first.run.sessions, 3);
    let again = import(&imp, &s, &path).await.unwrap();
    assert!(again.already_imported);
    assert_eq!(again.run.event_count(), 0);
    assert_eq!(sessions(db, &s).await.len(), 3);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(tail.as_bytes())
        .unwrap();
    let grown = import(&imp, &s, &path).await.unwrap();
    assert_eq!(grown.resumed_at_byte, head.len() as u64);
    assert_eq!(grown.run.sessions, 2);
    assert_eq!(grown.run.lines, tail.lines().count() as u64);
    assert_eq!(grown.file.sessions, 5);
    assert_eq!(grown.file.lines, 12);
    assert_eq!(sessions(db, &s).await.len(), 5);
    assert_eq!(denials(db, &s).await.len(), 2);
    // The whole file under another name is still the same file.
    let copy = write(dir.path(), "copy.log", FLEXNET.as_bytes());
    assert!(import(&imp, &s, &copy).await.unwrap().already_imported);
}

type Row = (String, String, String, DateTime<Utc>, Option<DateTime<Utc>>);

async fn snapshot(
    db: &Db,
    s: &LicenseServer,
) -> (Vec<Row>, Vec<(DateTime<Utc>, String, String, bool)>) {
    let rows = sessions(db, s)
        .await
        .into_iter()
        .map(|x| (x.feature, x.user, x.host, x.started_at, x.ended_at))
        .collect();
    let mut d: Vec<_> = denials(db, s)
        .await
        .into_iter()
        .map(|d| (d.at, d.feature, d.user, d.retry))
        .collect();
    d.sort();
    (rows, d)
}

async fn a_file_imported_in_pieces_equals_one_clean_import(db: &Db) {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Vec::new();
    let g = licmon_import::generate::flexnet_debuglog(&mut log, 400_000, 7).unwrap();
    assert!(g.denials > 100 && g.ins > 1000, "{g:?}");
    let whole = write(dir.path(), "whole.log", &log);
    let clean = server(db, "clean", "flexnet", true).await;
    let clean_sum = import(&importer(db, 10_000), &clean, &whole).await.unwrap();

    // The same log, growing in uneven pieces and imported with tiny batches each time.
    let pieces = server(db, "pieces", "flexnet", true).await;
    let imp = importer(db, 97);
    let growing = dir.path().join("growing.log");
    let mut cut = 0;
    for fraction in [0.13, 0.5, 0.51, 0.9, 1.0] {
        let mut end = (log.len() as f64 * fraction) as usize;
        while end < log.len() && log[end - 1] != b'\n' {
            end += 1;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&growing)
            .unwrap()
            .write_all(&log[cut..end])
            .unwrap();
        cut = end;
        import(&imp, &pieces, &growing).await.unwrap();
    }
    let (a, b) = (snapshot(db, &clean).await, snapshot(db, &pieces).await);
    assert_eq!(a.0.len(), b.0.len());
    assert!(a.0 == b.0, "sessions differ");
    let differ: Vec<_> =
        a.1.iter()
            .zip(&b.1)
            .filter(|(x, y)| x != y)
            .take(3)
            .collect();
    assert!(a.1 == b.1, "denials differ: {differ:?}");
    assert!(a.1.iter().any(|d| d.3) && a.1.iter().any(|d| !d.3));
    let file = db
        .store
        .import_checkpoints(pieces.id, "flexnet-debuglog")
        .await
        .unwrap();
    let totals = licmon_import::Totals::from_json(&file[0].totals);
    assert_eq!(totals.events, clean_sum.run.events);
    assert_eq!(totals.sessions, clean_sum.run.sessions);
    assert_eq!(clean_sum.run.events.get("out"), Some(&g.outs));
    assert_eq!(clean_sum.run.events.get("denied"), Some(&g.denials));
}

fn parse_fixture(format: LogFormat, text: &str) -> Vec<licmon_parse::LogEvent> {
    let mut p = format.parser(chrono_tz::UTC);
    let (mut events, mut diags) = (Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate() {
        p.push_line(i + 1, line, &mut events, &mut diags);
    }
    p.finish(&mut events, &mut diags);
    events
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../licmon-parse/tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Imports a fixture and checks the stored rows against what the parser says it holds.
async fn fixture_pipeline(db: &Db, kind: &str, format: LogFormat, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let s = server(db, kind, kind, true).await;
    let text = fixture(name);
    let events = parse_fixture(format, &text);
    let count = |k: EventKind| events.iter().filter(|e| e.kind == k).count() as u64;
    assert!(count(EventKind::Out) > 0, "{name} has checkouts");
    let path = write(dir.path(), name, text.as_bytes());
    let summary = import(&importer(db, 5), &s, &path).await.unwrap();
    assert_eq!(summary.format, format.name());
    assert_eq!(summary.run.event_count(), events.len() as u64);
    assert_eq!(summary.run.sessions, count(EventKind::Out));
    // A request for a feature the server does not serve (UNSUPPORTED) is a denial too.
    let refused = count(EventKind::Denied) + count(EventKind::Unsupported);
    assert_eq!(summary.run.denials, refused);
    let stored = sessions(db, &s).await;
    assert_eq!(stored.len() as u64, count(EventKind::Out));
    let closed = stored.iter().filter(|x| x.ended_at.is_some()).count() as u64;
    assert_eq!(closed, summary.run.sessions_closed);
    assert_eq!(denials(db, &s).await.len() as u64, refused);
    assert!(
        import(&importer(db, 5), &s, &path)
            .await
            .unwrap()
            .already_imported
    );
    assert_eq!(sessions(db, &s).await.len(), stored.len());
}

async fn rlm_report_log_pipeline(db: &Db) {
    fixture_pipeline(db, "rlm", LogFormat::RlmReportlog, "rlm-reportlog-std.log").await;
}

/// shared/fixtures/flexlm-debuglog/…MLM-unsupported-excerpt.log: MATLAB clients asking for a
/// license key the server does not have (UNSUPPORTED), then checking out MATLAB seconds later.
async fn unsupported_requests_are_denials_that_say_so(db: &Db) {
    let dir = tempfile::tempdir().unwrap();
    let s = server(db, "mlm", "flexnet", true).await;
    let name = "Stats_Logs_FlexLM-matlab-MLM-unsupported-excerpt.log";
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/flexlm-debuglog")
        .join(name);
    let text = std::fs::read(&source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    let path = write(dir.path(), name, &text);
    let summary = import(&importer(db, 7), &s, &path).await.unwrap();
    assert_eq!(summary.run.events.get("unsupported"), Some(&4));
    assert_eq!(summary.run.denials, 4);
    let at = |h, m, sec| Utc.with_ymd_and_hms(2022, 6, 9, h, m, sec).unwrap();
    let got: Vec<_> = denials(db, &s)
        .await
        .into_iter()
        .map(|d| (d.at, d.feature, d.user, d.host, d.reason, d.retry))
        .collect();
    let reason = || Some("unsupported: No such feature exists. (-5,346)".to_string());
    let row = |at, user: &str, host: &str, retry| {
        let feature = "MATLAB".to_string();
        (
            at,
            feature,
            user.to_string(),
            host.to_string(),
            reason(),
            retry,
        )
    };
    // The default window counts a checkout from 5 s before to 2 s after as a retry: only
    // mateo's OUT came soon enough (2 s); the others came 3–4 s later.
    assert_eq!(
        got,
        [
            row(at(10, 25, 38), "Pablo", "DESKTOP-PV69PK5", false),
            row(at(10, 26, 26), "alu-escuela", "LIBRE-03", false),
            row(at(10, 29, 9), "SATCOM1", "SATCOM-02", false),
            row(at(10, 30, 53), "mateo", "mateo-PC", true),
        ]
    );
}

async fn lmx_log_pipeline(db: &Db) {
    fixture_pipeline(db, "lmx", LogFormat::LmxLog, "server-log-lmx.log").await;
}

async fn csv_pipeline_and_the_denial_window_edges(db: &Db) {
    fixture_pipeline(db, "generic-log", LogFormat::Csv, "csv-events.csv").await;
    // Window -5 s / +2 s, inclusive: a checkout 5 s before or 2 s after makes a retry.
    let csv = "\
time,kind,feature,user,host,count,reason
2025-03-04T09:00:00Z,denied,CAD,a,h,1,full
2025-03-04T09:00:02Z,out,CAD,a,h,1,
2025-03-04T09:01:00Z,denied,CAD,b,h,1,full
2025-03-04T09:01:03Z,out,CAD,b,h,1,
2025-03-04T09:02:00Z,out,CAD,c,h,1,
2025-03-04T09:02:05Z,denied,CAD,c,h,1,full
2025-03-04T09:03:00Z,out,CAD,d,h,1,
2025-03-04T09:03:06Z,denied,CAD,d,h,1,full
2025-03-04T09:04:00Z,denied,CAD,e,h,1,full
2025-03-04T09:04:01Z,out,CAE,e,h,1,
2025-03-04T09:04:01Z,out,CAD,f,h,1,
";
    let dir = tempfile::tempdir().unwrap();
    let s = server(db, "window", "generic-log", true).await;
    let path = write(dir.path(), "window.csv", csv.as_bytes());
    import(&importer(db, 2), &s, &path).await.unwrap();
    let got: Vec<(String, bool)> = denials(db, &s)
        .await
        .into_iter()
        .map(|d| (d.user, d.retry))
        .collect();
    let want: Vec<(String, bool)> = [
        ("a", true),
        ("b", false),
        ("c", true),
        ("d", false),
        ("e", false),
    ]
    .iter()
    .map(|(u, r)| (u.to_string(), *r))
    .collect();
    assert_eq!(got, want);
    let truly = db
        .store
        .denials(
            s.id,
            &DenialQuery {
                true_only: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(truly.len(), 3);
    // A narrower window (configurable) turns the -5 s retry into a true denial.
    let narrow = Importer::new(
        db.store.clone(),
        ImportSettings {
            window: Window {
                before: chrono::Duration::seconds(4),
                after: chrono::Duration::seconds(2),
            },
            ..ImportSettings::default()
        },
    );
    let s2 = server(db, "narrow", "generic-log", true).await;
    import(&narrow, &s2, &path).await.unwrap();
    let c = denials(db, &s2)
        .await
        .into_iter()
        .find(|d| d.user == "c")
        .unwrap();
    assert!(!c.retry);
}

async fn a_changed_head_is_a_new_file(db: &Db) {
    let dir = tempfile::tempdir().unwrap();
    let s = server(db, "adsk", "flexnet", true).await;
    let imp = importer(db, 100);
    let path = write(dir.path(), "a.log", FLEXNET.as_bytes());
    import(&imp, &s, &path).await.unwrap();
    // Rotated: same name, new content (and shorter).
    let rotated = FLEXNET.replace("3/4/2025", "3/5/2025");
    let rotated = &rotated[..rotated.find(" 9:20:00").unwrap()];
    std::fs::write(&path, rotated).unwrap();
    let again = import(&imp, &s, &path).await.unwrap();
    assert!(!again.already_imported);
    assert_eq!(again.resumed_at_byte, 0);
    assert_eq!(again.run.sessions, 3);
    assert_eq!(sessions(db, &s).await.len(), 8);
}

async fn bad_files_fail_with_file_and_line_and_keep_earlier_data(db: &Db) {
    let dir = tempfile::tempdir().unwrap();
    let s = server(db, "adsk", "flexnet", true).await;
    let imp = importer(db, 2);
    let good = write(dir.path(), "good.log", FLEXNET.as_bytes());
    import(&imp, &s, &good).await.unwrap();
    let before = snapshot(db, &s).await;

    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "wrong.csv",
            fixture("csv-events.csv").into_bytes(),
            "wrong.csv line 1: this is not a flexnet-debuglog file",
        ),
        (
            "binary.log",
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03 compressed".to_vec(),
            "binary.log line 1: binary data",
        ),
        (
            "empty.log",
            Vec::new(),
            "empty.log: the file has no log lines",
        ),
    ];
    let mut truncated = FLEXNET.replace("3/4/2025", "3/6/2025").into_bytes();
    truncated.extend_from_slice(b"10:06:00 (adskflex) OUT: \"MA");
    cases.push((
        "truncated.log",
        truncated,
        "truncated.log line 13: the file ends in the middle of a line",
    ));
    let mut absurd = FLEXNET.replace("3/4/2025", "3/7/2025").into_bytes();
    absurd.extend_from_slice(&vec![b'x'; 5000]);
    absurd.push(b'\n');
    cases.push((
        "absurd.log",
        absurd,
        "absurd.log line 13: a line longer than 4096 bytes",
    ));

    for (name, bytes, want) in &cases {
        let path = write(dir.path(), name, bytes);
        let err = import(&imp, &s, &path).await.unwrap_err();
        let ImportError::BadFile(reason) = &err else {
            panic!("{name}: {err:?}")
        };
        assert!(reason.starts_with(want), "{name}: {reason}");
        match last_import(db, &s).await {
            Some(ImportOutcome::Failure { reason: stored, .. }) => assert_eq!(&stored, reason),
            other => panic!("{name}: {other:?}"),
        }
        if matches!(*name, "wrong.csv" | "binary.log" | "empty.log") {
            assert!(snapshot(db, &s).await == before, "{name} stored something");
        }
    }
    // The truncated and absurd files kept their complete lines before the bad one (resumable
    // from a checkpoint), and nothing of the good file was lost.
    let after = snapshot(db, &s).await;
    // (the last OUT of each is held by the parser until it sees the next line).
    assert_eq!(after.0.len(), before.0.len() + 2 * 4);
    // (a later log's restart closes what was still open: compare without the end)
    for row in &before.0 {
        assert!(
            after
                .0
                .iter()
                .any(|r| r.0 == row.0 && r.1 == row.1 && r.3 == row.3)
        );
    }
    let runs = db.store.import_runs(s.id, 10).await.unwrap();
    assert_eq!(runs.iter().filter(|r| r.outcome == "failure").count(), 5);
}

async fn disabled_not_applicable_and_over_capacity_are_refused(db: &Db) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "a.log", FLEXNET.as_bytes());
    let off = server(db, "off", "flexnet", false).await;
    let err = import(&importer(db, 10), &off, &path).await.unwrap_err();
    assert!(
        matches!(&err, ImportError::Disabled(m) if m.contains("switched off")),
        "{err:?}"
    );
    let na = server(db, "dsls", "dsls", false).await;
    let err = import(&importer(db, 10), &na, &path).await.unwrap_err();
    assert!(
        matches!(&err, ImportError::Disabled(m) if m.contains("N/A")),
        "{err:?}"
    );
    let first = server(db, "first", "flexnet", true).await;
    let second = server(db, "second", "flexnet", true).await;
    let capped = Importer::new(
        db.store.clone(),
        ImportSettings {
            max_license_servers: Some(1),
            ..ImportSettings::default()
        },
    );
    import(&capped, &first, &path).await.unwrap();
    let err = import(&capped, &second, &path).await.unwrap_err();
    assert!(matches!(err, ImportError::OverCapacity(_)), "{err:?}");
    assert!(matches!(
        last_import(db, &second).await,
        Some(ImportOutcome::RefusedOverCapacity { .. })
    ));
    assert!(sessions(db, &second).await.is_empty());
}
