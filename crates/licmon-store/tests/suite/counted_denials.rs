//! Denials counted by a status utility (LM-X `DENIED_LICENSES`, custom XML `denied`) become
//! denial rows at each poll: the growth of the count since the previous successful poll.

use licmon_store::*;

use super::{settings, snapshot, t};

/// A counted denial as listed: (at, source, feature, user, host, count, retry).
type Row = (
    chrono::DateTime<chrono::Utc>,
    String,
    String,
    String,
    String,
    u64,
    bool,
);

/// What a counted denial of `solver` looks like: one row per refused request, no user or
/// host, not a retry.
fn row(at: i64) -> Row {
    let (source, feature) = ("remote".to_string(), "solver".to_string());
    (
        t(at),
        source,
        feature,
        String::new(),
        String::new(),
        1,
        false,
    )
}

async fn poll(store: &SqlStore, id: i64, at: i64, denied_total: Option<u64>) {
    let mut s = snapshot(at, Vec::new());
    s.features[0].denied_total = denied_total;
    store.record_poll_success(id, &s).await.unwrap();
}

async fn rows(store: &SqlStore, id: i64) -> Vec<Row> {
    let found = store.denials(id, &DenialQuery::default()).await.unwrap();
    found
        .into_iter()
        .map(|d| (d.at, d.source, d.feature, d.user, d.host, d.count, d.retry))
        .collect()
}

pub async fn counted_denials_of_polls_become_denials(store: &SqlStore) {
    let s = store
        .create_server(&settings("lmx", "6200@lmx1"), t(0))
        .await
        .unwrap();
    // The first count is a baseline; an unchanged one adds nothing.
    poll(store, s.id, 0, Some(4)).await;
    poll(store, s.id, 60, Some(4)).await;
    assert_eq!(rows(store, s.id).await, []);
    // Two more refused requests by the next poll.
    poll(store, s.id, 120, Some(6)).await;
    assert_eq!(rows(store, s.id).await, [row(120), row(120)]);
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
    poll(store, s.id, 240, Some(1)).await;
    // A poll without a count, then with one again: a new baseline, nothing invented.
    poll(store, s.id, 300, None).await;
    poll(store, s.id, 360, Some(9)).await;
    assert_eq!(rows(store, s.id).await, [row(120), row(120), row(240)]);
    // They are true denials to the alert rules.
    assert_eq!(
        store.true_denials_since(t(0)).await.unwrap(),
        vec![(s.id, 3)]
    );
}
