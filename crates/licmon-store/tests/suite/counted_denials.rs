//! Denials counted by a status utility (LM-X `DENIED_LICENSES`, custom XML `denied`) become
//! denial rows at each poll: the growth of the count since the previous successful poll.

use licmon_store::*;

use super::{settings, snapshot, t};

fn counted(at: i64, denied_total: Option<u64>) -> licmon_core::snapshot::Snapshot {
    let mut s = snapshot(at, Vec::new());
    s.features[0].denied_total = denied_total;
    s
}

pub async fn counted_denials_of_polls_become_denials(store: &SqlStore) {
    let s = store
        .create_server(&settings("lmx", "6200@lmx1"), t(0))
        .await
        .unwrap();
    let denials = || async {
        store
            .denials(s.id, &DenialQuery::default())
            .await
            .unwrap()
            .into_iter()
            .map(|d| (d.at, d.source, d.feature, d.user, d.host, d.count, d.retry))
            .collect::<Vec<_>>()
    };
    // The first count is a baseline; an unchanged one adds nothing.
    store
        .record_poll_success(s.id, &counted(0, Some(4)))
        .await
        .unwrap();
    store
        .record_poll_success(s.id, &counted(60, Some(4)))
        .await
        .unwrap();
    assert_eq!(denials().await, []);
    // Two more refused requests by the next poll.
    store
        .record_poll_success(s.id, &counted(120, Some(6)))
        .await
        .unwrap();
    let remote = || "remote".to_string();
    let solver = || "solver".to_string();
    assert_eq!(
        denials().await,
        [(
            t(120),
            remote(),
            solver(),
            String::new(),
            String::new(),
            2,
            false
        )]
    );
    let stored = store.denials(s.id, &DenialQuery::default()).await.unwrap();
    assert_eq!(
        stored[0].reason.as_deref(),
        Some(
            "counted by the license server since the poll at 2026-11-27 09:01:00 UTC; \
             the count names no user or host"
        )
    );
    // A failed poll changes nothing; the server restarted meanwhile, and its count starts
    // again: 1 refused since.
    store
        .record_poll_failure(s.id, t(180), "server down: connection refused")
        .await
        .unwrap();
    store
        .record_poll_success(s.id, &counted(240, Some(1)))
        .await
        .unwrap();
    // A poll without a count, then with one again: a new baseline, nothing invented.
    store
        .record_poll_success(s.id, &counted(300, None))
        .await
        .unwrap();
    store
        .record_poll_success(s.id, &counted(360, Some(9)))
        .await
        .unwrap();
    assert_eq!(
        denials().await,
        [
            (
                t(120),
                remote(),
                solver(),
                String::new(),
                String::new(),
                2,
                false
            ),
            (
                t(240),
                remote(),
                solver(),
                String::new(),
                String::new(),
                1,
                false
            ),
        ]
    );
    // They are true denials to the alert rules.
    assert_eq!(
        store.true_denials_since(t(0)).await.unwrap(),
        vec![(s.id, 3)]
    );
}
