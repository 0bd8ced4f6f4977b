//! Cases for what the web UI stores and reads: per-user visibility preferences and session
//! totals per user and host.

use licmon_core::snapshot::Checkout;
use licmon_store::*;

use super::{checkout, settings, snapshot, t};

pub async fn preferences_hide_and_show_per_user(store: &SqlStore) {
    let a = store
        .create_server(&settings("a", "1@a"), t(0))
        .await
        .unwrap();
    let b = store
        .create_server(&settings("b", "1@b"), t(1))
        .await
        .unwrap();
    assert!(
        store
            .hidden_servers(ANONYMOUS_USER)
            .await
            .unwrap()
            .is_empty()
    );

    store.set_server_hidden(7, b.id, true).await.unwrap();
    store.set_server_hidden(7, a.id, true).await.unwrap();
    assert_eq!(store.hidden_servers(7).await.unwrap(), vec![a.id, b.id]);
    // Another user's view is untouched.
    assert!(store.hidden_servers(8).await.unwrap().is_empty());

    // Showing again is an update of the same row, and idempotent.
    store.set_server_hidden(7, a.id, false).await.unwrap();
    store.set_server_hidden(7, a.id, false).await.unwrap();
    assert_eq!(store.hidden_servers(7).await.unwrap(), vec![b.id]);

    // Unknown servers are NotFound; deleting a server forgets its preferences.
    assert!(matches!(
        store.set_server_hidden(7, 9_999, true).await,
        Err(StoreError::NotFound)
    ));
    store.delete_server(b.id).await.unwrap();
    assert!(store.hidden_servers(7).await.unwrap().is_empty());
}

fn held(feature: &str, user: &str, host: &str, start: i64, count: u64) -> Checkout {
    Checkout {
        host: host.into(),
        count,
        ..checkout(feature, user, start)
    }
}

pub async fn session_totals_per_user_and_host(store: &SqlStore) {
    let s = store
        .create_server(&settings("a", "1@a"), t(0))
        .await
        .unwrap();
    // ana holds 2 licenses from t=0 on ws1 and 1 from t=0 on ws2; bo 1 on ws1.
    let first = vec![
        held("solver", "ana", "ws1", 0, 2),
        held("pre", "ana", "ws2", 0, 1),
        held("solver", "bo", "ws1", 0, 1),
    ];
    store
        .record_poll_success(s.id, &snapshot(0, first))
        .await
        .unwrap();
    // At t=3600 bo is gone: his session ends there; ana's stay open.
    let second = vec![
        held("solver", "ana", "ws1", 0, 2),
        held("pre", "ana", "ws2", 0, 1),
    ];
    store
        .record_poll_success(s.id, &snapshot(3_600, second))
        .await
        .unwrap();

    let now = t(7_200);
    let users = store
        .session_totals(s.id, TotalsBy::User, t(-86_400), now, now)
        .await
        .unwrap();
    let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["ana", "bo"], "most hours first");
    assert_eq!((users[0].sessions, users[0].open), (2, 2));
    assert!((users[0].hours - 4.0).abs() < 1e-9, "{users:?}");
    assert!((users[0].license_hours - 6.0).abs() < 1e-9, "{users:?}");
    assert_eq!((users[1].sessions, users[1].open), (1, 0));
    assert!((users[1].hours - 1.0).abs() < 1e-9, "{users:?}");
    assert_eq!(users[1].first_start, t(0));

    let hosts = store
        .session_totals(s.id, TotalsBy::Host, t(-86_400), now, now)
        .await
        .unwrap();
    let ws1 = hosts.iter().find(|h| h.name == "ws1").unwrap();
    assert_eq!((ws1.sessions, ws1.users), (2, 2));
    assert!((ws1.hours - 3.0).abs() < 1e-9, "{hosts:?}");

    // Per feature: solver had two users (ana 2 licenses × 2 h, bo 1 × 1 h), pre one.
    let features = store
        .session_totals(s.id, TotalsBy::Feature, t(-86_400), now, now)
        .await
        .unwrap();
    let summary: Vec<(&str, u64, u64, u64)> = features
        .iter()
        .map(|f| (f.name.as_str(), f.sessions, f.users, f.open))
        .collect();
    assert_eq!(summary, [("solver", 2, 2, 1), ("pre", 1, 1, 1)]);
    assert!(
        (features[0].license_hours - 5.0).abs() < 1e-9,
        "{features:?}"
    );

    // Clipped to the range: from t=1800 to t=5400 ana has 2 × 1 h, bo half an hour.
    let clipped = store
        .session_totals(s.id, TotalsBy::User, t(1_800), t(5_400), now)
        .await
        .unwrap();
    assert!((clipped[0].hours - 2.0).abs() < 1e-9, "{clipped:?}");
    assert!((clipped[1].hours - 0.5).abs() < 1e-9, "{clipped:?}");
    // A range after bo's session leaves him out.
    let later = store
        .session_totals(s.id, TotalsBy::User, t(4_000), now, now)
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    // Another server's totals are its own.
    let other = store
        .create_server(&settings("b", "1@b"), t(0))
        .await
        .unwrap();
    assert!(
        store
            .session_totals(other.id, TotalsBy::Host, t(0), now, now)
            .await
            .unwrap()
            .is_empty()
    );
}
