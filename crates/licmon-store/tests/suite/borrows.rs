//! A session's client IP and borrow expiry: kept from the poll that opened it, moved by a
//! renewed borrow, never erased by a poll that does not show them; NULL for imported sessions.

use licmon_core::snapshot::Checkout;
use licmon_store::*;

use super::imports::{batch, session};
use super::{all_sessions, checkout, open_sessions, settings, snapshot, t};

fn borrowed(user: &str, start: i64, ip: Option<&str>, returns: Option<i64>) -> Checkout {
    Checkout {
        borrowed: true,
        ip: ip.map(str::to_string),
        borrow_expires: returns.map(t),
        ..checkout("solver", user, start)
    }
}

/// (user, borrowed, ip, borrow expiry, ended) of every session, newest first.
type Seen = (String, bool, Option<String>, Option<i64>, Option<i64>);

async fn seen(store: &SqlStore, id: i64) -> Vec<Seen> {
    let secs = |at: chrono::DateTime<chrono::Utc>| (at - t(0)).num_seconds();
    all_sessions(store, id)
        .await
        .into_iter()
        .map(|s| {
            (
                s.user,
                s.borrowed,
                s.ip,
                s.borrow_expires_at.map(secs),
                s.ended_at.map(secs),
            )
        })
        .collect()
}

pub async fn a_polled_borrow_keeps_its_ip_and_expiry_and_a_renewal_moves_it(store: &SqlStore) {
    let s = store
        .create_server(&settings("ansys", "1055@lic1"), t(0))
        .await
        .unwrap();
    let poll = |at: i64, ana: Checkout| snapshot(at, vec![ana, checkout("solver", "bo", 50)]);
    let ana = |ip: Option<&str>, returns: Option<i64>| borrowed("ana", 30, ip, returns);
    let ana_at = |ip: &str, returns: i64| {
        (
            "ana".to_string(),
            true,
            Some(ip.to_string()),
            Some(returns),
            None,
        )
    };
    let bo = ("bo".to_string(), false, None, None, None);

    store
        .record_poll_success(s.id, &poll(60, ana(Some("10.0.0.7"), Some(86_400))))
        .await
        .unwrap();
    assert_eq!(
        seen(store, s.id).await,
        [bo.clone(), ana_at("10.0.0.7", 86_400)]
    );
    let current = store.current_snapshot(s.id).await.unwrap().unwrap();
    let in_snapshot = current.checkouts.iter().find(|c| c.user == "ana").unwrap();
    assert_eq!(
        (in_snapshot.ip.as_deref(), in_snapshot.borrow_expires),
        (Some("10.0.0.7"), Some(t(86_400)))
    );

    // Unchanged, then renewed by a day without the IP in this output: the expiry moves, the
    // IP stays; a poll without an expiry keeps the renewed one; a new address replaces the old.
    let polls = [
        (
            120,
            ana(Some("10.0.0.7"), Some(86_400)),
            ana_at("10.0.0.7", 86_400),
        ),
        (180, ana(None, Some(172_800)), ana_at("10.0.0.7", 172_800)),
        (
            240,
            ana(Some("10.0.0.7"), None),
            ana_at("10.0.0.7", 172_800),
        ),
        (
            300,
            ana(Some("10.0.9.9"), Some(172_800)),
            ana_at("10.0.9.9", 172_800),
        ),
    ];
    for (at, checkout, expected) in polls {
        store
            .record_poll_success(s.id, &poll(at, checkout))
            .await
            .unwrap();
        assert_eq!(
            seen(store, s.id).await,
            [bo.clone(), expected],
            "after the poll at {at} s"
        );
    }
    assert_eq!(open_sessions(store, s.id).await.len(), 2, "nobody closed");

    // ana returns the license: the closed session keeps what it said last.
    store
        .record_poll_success(s.id, &snapshot(360, vec![checkout("solver", "bo", 50)]))
        .await
        .unwrap();
    let mut closed = ana_at("10.0.9.9", 172_800);
    closed.4 = Some(360);
    assert_eq!(seen(store, s.id).await, [bo, closed]);
}

pub async fn imported_sessions_have_no_ip_or_borrow_expiry(store: &SqlStore) {
    let s = store
        .create_server(&settings("imp", "1@h"), t(0))
        .await
        .unwrap();
    let mut b = batch(s.id, 0, None, 100);
    b.closed_sessions = vec![session("CAD", "ana", 10, Some(20))];
    b.open_sessions = vec![session("CAD", "bo", 30, None)];
    store.commit_import_batch(&b).await.unwrap();
    let got: Vec<_> = all_sessions(store, s.id)
        .await
        .into_iter()
        .map(|s| (s.user, s.source, s.ip, s.borrow_expires_at))
        .collect();
    assert_eq!(
        got,
        [
            ("bo".to_string(), "import".to_string(), None, None),
            ("ana".to_string(), "import".to_string(), None, None),
        ]
    );
}
