//! The watched folder: a file dropped in `<dir>/<server name>/` is imported within seconds, and
//! lines appended later are imported too (a live log; an unfinished last line waits).

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use licmon_core::server::{DataSourceInput, LicenseServerInput};
use licmon_import::{ImportSettings, Importer};
use licmon_store::*;

async fn wait_for_sessions(store: &SqlStore, id: i64, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = store
            .sessions(
                id,
                &SessionQuery {
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .len();
        if got == n {
            return;
        }
        assert!(got < n, "{got} sessions, more than {n}");
        assert!(
            Instant::now() < deadline,
            "{got} of {n} sessions after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn new_and_grown_files_are_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqlStore::open(&DatabaseUrl::sqlite_in(dir.path()))
            .await
            .unwrap(),
    );
    let settings = LicenseServerInput {
        name: "adsk prod".into(),
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
    let watched = dir.path().join("import");
    std::fs::create_dir_all(watched.join("adsk prod")).unwrap();
    std::fs::create_dir_all(watched.join("no such server")).unwrap();
    std::fs::write(watched.join("no such server/x.log"), "junk\n").unwrap();
    let importer = Importer::new(store.clone(), ImportSettings::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(licmon_import::watch::run(
        importer,
        watched.clone(),
        Duration::from_millis(100),
        stop_rx,
    ));

    let log = watched.join("adsk prod/lmgrd.log");
    std::fs::write(
        &log,
        " 9:00:00 (lmgrd) FlexNet Licensing (v11.16.2.0 build 1) started on lic01 (linux) (3/4/2025)\n\
          9:10:00 (adskflex) OUT: \"MAYA\" ana@ws-1  \n",
    )
    .unwrap();
    wait_for_sessions(&store, server.id, 1).await;

    // The log grows, its last line still being written: that line waits (and bo's checkout,
    // which the parser holds until the next line shows whether it continues it).
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(b" 9:11:00 (adskflex) OUT: \"MAYA\" bo@ws-2  \n 9:12:00 (adskflex) OUT: \"MA")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while store.import_runs(server.id, 10).await.unwrap().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the grown file was not looked at"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for_sessions(&store, server.id, 1).await;
    f.write_all("YA\" ché@ws-3  \n 9:13:00 (adskflex) IN: \"MAYA\" ana@ws-1  \n".as_bytes())
        .unwrap();
    wait_for_sessions(&store, server.id, 3).await;
    let runs = store.import_runs(server.id, 100).await.unwrap();
    assert!(
        runs.iter()
            .all(|r| r.outcome == "success" && r.via == "watch"),
        "{runs:?}"
    );
    let users: Vec<String> = store
        .sessions(
            server.id,
            &SessionQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.user)
        .collect();
    assert!(users.contains(&"ché".to_string()), "{users:?}");

    stop_tx.send(true).unwrap();
    task.await.unwrap();
    store.close().await;
}
