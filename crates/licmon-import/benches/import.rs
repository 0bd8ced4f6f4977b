//! End-to-end import speed: generates a realistic FlexNet debug log (OUT/IN/DENIED/QUEUED,
//! 5,000 users, 500 features; 1 GB unless `LICMON_BENCH_BYTES` says otherwise), then times
//! `wc -l` on it (the floor), parsing alone, and whole imports into SQLite and — when
//! `LICMON_TEST_DATABASE_URL` names a PostgreSQL server — into PostgreSQL. Prints events/s,
//! MB/s and the peak RSS (VmHWM) after each step; last, the time to compute the usage history
//! of the imported log (a week by hour, the year by day) on each database.
//!
//! Run: `cargo bench -p licmon-import --bench import`
//! Quick: `LICMON_BENCH_BYTES=100000000 cargo bench -p licmon-import --bench import`
//! Parsing only (no database steps): `LICMON_BENCH_PARSE_ONLY=1`. `wc -l` is timed five times
//! and parsing `LICMON_BENCH_PARSE_RUNS` times (3); the best of each counts, and the parse line
//! also gives the CPU time of the thread that parsed, which a busy machine inflates less.

use std::sync::Arc;
use std::time::Instant;

use licmon_core::server::{DataSourceInput, LicenseServerInput};
use licmon_import::{ImportRequest, ImportSettings, Importer, Via};
use licmon_parse::LogFormat;
use licmon_store::{DatabaseUrl, ServerStore, SqlStore};

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The fastest of `runs` runs (at least one) and the last result.
fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let r = f();
        best = best.min(start.elapsed().as_secs_f64());
        last = Some(r);
    }
    (best, last.expect("at least one run"))
}

/// CPU time of the calling thread so far (Linux; NaN elsewhere).
fn thread_cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e9)
}

fn report(step: &str, secs: f64, bytes: u64, events: u64) {
    println!(
        "{step:<22} {secs:>8.2} s {:>9.1} MB/s {:>12.0} events/s   peak RSS {:.0} MB",
        bytes as f64 / 1e6 / secs,
        events as f64 / secs,
        peak_rss_mb()
    );
}

/// Imports the file into a new server of the database; the server's id.
async fn import_into(url: &DatabaseUrl, path: &std::path::Path, bytes: u64, step: &str) -> i64 {
    let store = Arc::new(SqlStore::open(url).await.expect("open the database"));
    let settings = LicenseServerInput {
        name: "bench".into(),
        kind: "flexnet".into(),
        address: Some("27000@lic01".into()),
        time_zone: Some("UTC".into()),
        data_sources: Some(DataSourceInput {
            remote: Some(false),
            import: Some(true),
            end_user: Some(false),
        }),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let server = store
        .create_server(&settings, chrono::Utc::now())
        .await
        .unwrap();
    let importer = Importer::new(store.clone(), ImportSettings::default());
    let start = Instant::now();
    let summary = importer
        .import(
            ImportRequest {
                server_id: server.id,
                path: path.to_path_buf(),
                file_name: "bench.log".into(),
                format: Some(LogFormat::FlexnetDebuglog),
                via: Via::Cli,
                live: false,
            },
            |_| {},
        )
        .await
        .expect("import");
    let secs = start.elapsed().as_secs_f64();
    report(step, secs, bytes, summary.run.event_count());
    println!(
        "{:<22} {} sessions, {} denials, {} lines skipped",
        "",
        summary.run.sessions,
        summary.run.denials,
        summary.run.skipped.iter().map(|s| s.count).sum::<u64>()
    );
    store.close().await;
    server.id
}

/// The usage history of the imported log (computed from its sessions on request): a week by
/// hour, and the whole year of the generated log (which starts on 2025-01-01) by day. Run
/// after every import, so that the imports' peak RSS figures are theirs alone.
async fn usage_history(url: &DatabaseUrl, id: i64, backend: &str) {
    let store = SqlStore::open(url).await.expect("open the database");
    use chrono::TimeZone;
    use licmon_store::{Granularity, HistoryStore};
    let day = |m, d| chrono::Utc.with_ymd_and_hms(2025, m, d, 0, 0, 0).unwrap();
    for (what, granularity, from, to) in [
        ("a week by hour", Granularity::Hour, day(3, 1), day(3, 8)),
        ("the year by day", Granularity::Day, day(1, 1), day(12, 31)),
    ] {
        let start = Instant::now();
        let points = store.usage(id, granularity, None, from, to).await.unwrap();
        println!(
            "usage history ({backend}), {what}: {:.2} s, {} points, peak RSS {:.0} MB",
            start.elapsed().as_secs_f64(),
            points.len(),
            peak_rss_mb()
        );
    }
    store.close().await;
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let (path, generated) = licmon_import::generate::bench_file(dir.path()).unwrap();
    println!(
        "generated {:.1} MB, {} lines ({} OUT, {} IN, {} DENIED) in {:.1} s",
        generated.bytes as f64 / 1e6,
        generated.lines,
        generated.outs,
        generated.ins,
        generated.denials,
        start.elapsed().as_secs_f64()
    );
    let bytes = generated.bytes;

    // Warm the page cache, then the floor: `wc -l`.
    let _ = std::process::Command::new("wc")
        .arg("-l")
        .arg(&path)
        .output();
    let (wc, out) = best_of(5, || {
        std::process::Command::new("wc")
            .arg("-l")
            .arg(&path)
            .output()
            .expect("wc")
    });
    let wc_lines: u64 = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert_eq!(wc_lines, generated.lines);
    report("wc -l (floor)", wc, bytes, 0);

    let runs = std::env::var("LICMON_BENCH_PARSE_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut cpu = f64::MAX;
    let (parse, (lines, events)) = best_of(runs, || {
        let before = thread_cpu_secs();
        let r = licmon_import::parse_only(&path, LogFormat::FlexnetDebuglog).unwrap();
        cpu = cpu.min(thread_cpu_secs() - before);
        r
    });
    assert_eq!(lines, generated.lines);
    report("parse only", parse, bytes, events);
    println!(
        "{:<22} {:.1}× wc -l (best of {runs}; thread CPU {cpu:.2} s)",
        "",
        parse / wc
    );
    if std::env::var_os("LICMON_BENCH_PARSE_ONLY").is_some_and(|v| !v.is_empty() && v != "0") {
        return;
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let db_dir = tempfile::tempdir().unwrap();
    let sqlite = DatabaseUrl::sqlite_in(db_dir.path());
    let sqlite_server = runtime.block_on(import_into(&sqlite, &path, bytes, "import into SQLite"));
    if let Ok(admin) = std::env::var("LICMON_TEST_DATABASE_URL")
        && !admin.is_empty()
    {
        runtime.block_on(async {
            use sqlx::Connection;
            let name = format!("licmon_bench_{}", std::process::id());
            let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut c)
                .await
                .unwrap();
            let base = admin.split_once('?').map_or(admin.as_str(), |(b, _)| b);
            let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
            let url = DatabaseUrl::parse(&format!("{prefix}/{name}")).unwrap();
            let server = import_into(&url, &path, bytes, "import into PostgreSQL").await;
            usage_history(&url, server, "PostgreSQL").await;
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut c)
                .await;
        });
    } else {
        println!("(set LICMON_TEST_DATABASE_URL to also import into PostgreSQL)");
    }
    runtime.block_on(usage_history(&sqlite, sqlite_server, "SQLite"));
}
