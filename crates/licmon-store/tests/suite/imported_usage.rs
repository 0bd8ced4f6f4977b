//! Usage history computed from imported sessions, and how it meets polled rollups.

use licmon_store::*;

use super::imports::{batch, session};
use licmon_core::snapshot::Snapshot;

use super::{checkout, feature, settings, t};

/// (hour since t(0), min, avg, max, samples, imported) of each point.
fn figures(points: &[UsagePoint]) -> Vec<(i64, u64, f64, u64, u64, bool)> {
    points
        .iter()
        .map(|p| {
            (
                (p.bucket_start - t(0)).num_hours(),
                p.min_in_use,
                p.avg_in_use,
                p.max_in_use,
                p.samples,
                p.imported,
            )
        })
        .collect()
}

pub async fn usage_history_from_imported_sessions(store: &SqlStore) {
    let server = store
        .create_server(&settings("imported", "1@h"), t(0))
        .await
        .unwrap();
    // The log runs 09:01–10:30. ana holds "cad" 09:01–09:31, bo 09:15–10:15, ché from 10:00
    // to past the end of the log.
    let mut b = batch(server.id, 0, None, 5400);
    b.closed_sessions = vec![
        session("cad", "ana", 60, Some(1860)),
        session("cad", "bo", 900, Some(4500)),
    ];
    b.open_sessions = vec![session("cad", "ché", 3600, None)];
    assert_eq!(store.imported_until(server.id).await.unwrap(), None);
    store.commit_import_batch(&b).await.unwrap();
    assert_eq!(
        store.imported_until(server.id).await.unwrap(),
        Some(t(5400))
    );

    let hours = store
        .usage(server.id, Granularity::Hour, None, t(0), t(7200))
        .await
        .unwrap();
    assert_eq!(
        figures(&hours),
        [
            // 14 min at 1, 16 at 2, 29 at 1, of the 59 min the log covers.
            (0, 1, 75.0 / 59.0, 2, 3540, true),
            // 15 min at 2, then 1 until the log's last second (10:30:00 included).
            (1, 1, 2701.0 / 1801.0, 2, 1801, true),
        ]
    );
    assert!(
        hours
            .iter()
            .all(|p| p.feature == "cad" && p.issued.is_none())
    );
    let days = store
        .usage(server.id, Granularity::Day, Some("cad"), t(0), t(7200))
        .await
        .unwrap();
    assert_eq!(
        (days.len(), days[0].max_in_use, days[0].samples),
        (1, 2, 5341)
    );
    let other = store
        .usage(server.id, Granularity::Hour, Some("cam"), t(0), t(7200))
        .await
        .unwrap();
    assert!(other.is_empty(), "{other:?}");

    // A poll at 10:01 leaves a rollup for the 10:00 hour: it wins there.
    let polled = (0..7)
        .map(|i| checkout("cad", &format!("p{i}"), 0))
        .collect::<Vec<_>>();
    let snapshot = Snapshot {
        taken_at: t(3660),
        nodes: Vec::new(),
        daemons: Vec::new(),
        features: vec![feature("cad", 10, 7)],
        checkouts: polled,
    };
    store
        .record_poll_success(server.id, &snapshot)
        .await
        .unwrap();
    let hours = store
        .usage(server.id, Granularity::Hour, Some("cad"), t(0), t(7200))
        .await
        .unwrap();
    assert_eq!(
        figures(&hours),
        [(0, 1, 75.0 / 59.0, 2, 3540, true), (1, 7, 7.0, 7, 1, false)]
    );
}
