//! `licmon import` as a real process: killed with SIGKILL in the middle of a big file and run
//! again, it ends with exactly the rows and totals of one clean run.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use licmon_core::server::{DataSourceInput, LicenseServerInput};
use licmon_store::{
    DatabaseUrl, DenialQuery, HistoryStore, ImportStore, ServerStore, SessionQuery, SqlStore,
};

fn licmon(db: &str, server: &str, file: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_licmon"));
    c.args([
        "import",
        "--database",
        db,
        "--server",
        server,
        "--batch-lines",
        "2000",
    ])
    .arg(file)
    .env_remove("LICMON_DATABASE")
    .current_dir(file.parent().unwrap());
    c
}

async fn create_server(store: &SqlStore, name: &str) -> i64 {
    let settings = LicenseServerInput {
        name: name.into(),
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
    store
        .create_server(&settings, chrono::Utc::now())
        .await
        .unwrap()
        .id
}

type Rows = (Vec<String>, Vec<String>, serde_json::Value, u64);

/// Every session and denial of a server (sorted), the file's checkpoint totals and offset.
async fn rows(store: &SqlStore, id: i64) -> Rows {
    let mut sessions: Vec<String> = store
        .sessions(
            id,
            &SessionQuery {
                limit: u32::MAX,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|s| {
            format!(
                "{}|{}|{}|{}|{:?}|{}",
                s.feature, s.user, s.host, s.started_at, s.ended_at, s.count
            )
        })
        .collect();
    sessions.sort();
    let mut denials: Vec<String> = store
        .denials(
            id,
            &DenialQuery {
                limit: u32::MAX,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|d| format!("{}|{}|{}|{}", d.at, d.feature, d.user, d.retry))
        .collect();
    denials.sort();
    let cp = store
        .import_checkpoints(id, "flexnet-debuglog")
        .await
        .unwrap();
    assert_eq!(cp.len(), 1);
    (sessions, denials, cp[0].totals.clone(), cp[0].byte_offset)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_killed_halfway_and_run_again_equals_one_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("lmgrd.log");
    let generated = {
        let mut f = std::fs::File::create(&log).unwrap();
        licmon_import::generate::flexnet_debuglog(&mut f, 6_000_000, 42).unwrap()
    };
    let db = format!("sqlite://{}", dir.path().join("licmon.db").display());
    let store = SqlStore::open(&DatabaseUrl::parse(&db).unwrap())
        .await
        .unwrap();
    let killed_id = create_server(&store, "killed").await;
    let clean_id = create_server(&store, "clean").await;

    // Start, wait until some batches are committed (the progress lines say so), SIGKILL.
    let mut child = licmon(&db, "killed", &log)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut committed = false;
    for line in stderr.lines() {
        let line = line.unwrap();
        if line.starts_with("progress:") && !line.contains(" 0 events") {
            committed = true;
            break;
        }
        assert!(Instant::now() < deadline, "no progress before the deadline");
    }
    assert!(committed, "the import ended without reporting progress");
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success());
    let (_, _, _, offset) = rows(&store, killed_id).await;
    assert!(
        offset > 0 && offset < generated.bytes,
        "killed at {offset} of {} bytes: not halfway",
        generated.bytes
    );

    // Run again to the end; then a clean run of the same file for another server.
    let again = licmon(&db, "killed", &log).output().unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(out.contains("continued at byte"), "{out}");
    let clean = licmon(&db, "clean", &log).output().unwrap();
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );

    let (a, b) = (rows(&store, killed_id).await, rows(&store, clean_id).await);
    assert_eq!(a.3, generated.bytes);
    assert_eq!(a.0.len(), b.0.len(), "session counts");
    assert!(a.0 == b.0, "sessions differ");
    assert!(a.1 == b.1, "denials differ");
    assert_eq!(a.2, b.2, "file totals differ");
    assert_eq!(b.2["events"]["out"], generated.outs);
    assert_eq!(b.2["events"]["denied"], generated.denials);

    // And once more: nothing new.
    let third = licmon(&db, "killed", &log).output().unwrap();
    assert!(third.status.success());
    assert!(String::from_utf8_lossy(&third.stdout).contains("already imported"));
    assert_eq!(rows(&store, killed_id).await.0.len(), a.0.len());
    store.close().await;
}
