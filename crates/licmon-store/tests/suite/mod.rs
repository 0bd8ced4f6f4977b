//! The behaviour suite every backend must pass. Each case takes a fresh, migrated store.
//! `backend_tests!(open)` in a backend's test file turns every case into a `#[tokio::test]`.

#![allow(dead_code)]

pub mod agents;
pub mod alerts;
pub mod auth;

use chrono::{DateTime, Duration, TimeZone, Utc};
use licmon_core::server::{LicenseServerInput, ServerSettings};
use licmon_core::snapshot::{Checkout, FeatureUsage, Snapshot};
use licmon_core::status::ImportOutcome;
use licmon_core::{RemoteStatus, ServerAddress};
use licmon_store::*;

mod ui;
pub use ui::*;
mod leases;
pub use leases::*;
mod imports;
pub use imports::*;
mod imported_usage;
pub use imported_usage::*;
mod counted_denials;
pub use counted_denials::*;
mod borrows;
pub use borrows::*;
mod denials;
pub use denials::*;

#[macro_export]
macro_rules! backend_tests {
    ($open:path) => {
        $crate::backend_tests!(@cases $open;
            servers_crud, duplicate_names_conflict, update_restarts_verification_on_connection_change,
            delete_removes_history, sessions_open_and_close_with_snapshots, failed_poll_closes_nothing,
            identical_checkouts_are_distinct_sessions, change_points_and_rollups,
            statuses_from_stored_facts, capacity_by_creation_order, import_outcome_round_trips,
            event_log_newest_first, event_log_filters_and_pages, session_filters_and_paging, unicode_and_sql_metacharacters_survive);
        $crate::backend_tests!(@cases $open;
            preferences_hide_and_show_per_user, session_totals_per_user_and_host);
        $crate::backend_tests!(@cases $open;
            a_lone_node_leases_every_server_and_renews_at_half_time,
            nodes_split_servers_fairly_and_never_share_one,
            a_dead_nodes_servers_go_to_the_others_when_its_leases_expire,
            a_clean_release_frees_leases_at_once, unwanted_and_deleted_servers_lose_their_leases,
            a_changed_interval_changes_the_lease_length, the_cluster_view_counts_valid_leases_per_node,
            nodes_gone_for_an_hour_are_forgotten, the_database_clock_is_sane);
        $crate::backend_tests!(@cases $open;
            import_batches_commit_sessions_denials_and_checkpoint,
            a_second_importer_of_the_same_server_conflicts_and_writes_nothing,
            import_runs_are_listed_newest_first, usage_history_from_imported_sessions,
            imported_names_keep_every_character, counted_denials_of_polls_become_denials,
            denials_newest_first_page_and_filter,
            denial_counts_per_feature_and_user);
        $crate::backend_tests!(@cases $open;
            a_polled_borrow_keeps_its_ip_and_expiry_and_a_renewal_moves_it,
            imported_sessions_have_no_ip_or_borrow_expiry);
    };
    (@cases $open:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(handle) = $open().await else { return };
                suite::$case(&handle.store).await;
                handle.finish().await;
            }
        )*
    };
}

pub fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap() + Duration::seconds(secs)
}

pub fn settings(name: &str, address: &str) -> ServerSettings {
    LicenseServerInput {
        name: name.into(),
        kind: "flexnet".into(),
        vendor: "ANSYS".into(),
        address: Some(address.into()),
        time_zone: Some("Europe/Berlin".into()),
        ..Default::default()
    }
    .validate()
    .unwrap()
}

fn checkout(feature: &str, user: &str, start: i64) -> Checkout {
    Checkout {
        feature: feature.into(),
        user: user.into(),
        host: format!("{user}-pc"),
        display: Some(format!("{user}-pc:0")),
        count: 1,
        version: Some("v2026.1".into()),
        start: Some(t(start)),
        borrowed: false,
        queued: false,
        handle: None,
        ip: None,
        borrow_expires: None,
    }
}

fn feature(name: &str, issued: u64, in_use: u64) -> FeatureUsage {
    FeatureUsage {
        denied_total: None,
        name: name.into(),
        vendor: Some("ansyslmd".into()),
        issued: Some(issued),
        in_use,
        reserved: 0,
        borrowed: 0,
        queued: 0,
        uncounted: false,
        pools: Vec::new(),
    }
}

fn snapshot(at: i64, checkouts: Vec<Checkout>) -> Snapshot {
    let in_use = checkouts.iter().map(|c| c.count).sum();
    Snapshot {
        taken_at: t(at),
        nodes: Vec::new(),
        daemons: Vec::new(),
        features: vec![feature("solver", 10, in_use)],
        checkouts,
    }
}

async fn open_sessions(store: &SqlStore, id: i64) -> Vec<SessionRecord> {
    store
        .sessions(
            id,
            &SessionQuery {
                open_only: true,
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

async fn all_sessions(store: &SqlStore, id: i64) -> Vec<SessionRecord> {
    store.sessions(id, &SessionQuery::default()).await.unwrap()
}

pub async fn servers_crud(store: &SqlStore) {
    let a = store
        .create_server(&settings("ansys-prod", "1055@lic1"), t(0))
        .await
        .unwrap();
    let b = store
        .create_server(&settings("abaqus", "27000@a,27000@b,27000@c"), t(1))
        .await
        .unwrap();
    assert_eq!(a.verify_requested_at, Some(t(0)));
    assert_eq!(a.time_zone, chrono_tz::Europe::Berlin);
    assert!(b.is_triad());
    assert_eq!(store.get_server(a.id).await.unwrap(), a);
    assert_eq!(store.find_server_by_name("abaqus").await.unwrap().id, b.id);
    let names: Vec<String> = store
        .list_servers()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["ansys-prod", "abaqus"]);
    store.delete_server(a.id).await.unwrap();
    assert!(matches!(
        store.get_server(a.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_server(a.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.update_server(a.id, &settings("x", "1@h"), t(2)).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.list_servers().await.unwrap().len(), 1);
}

pub async fn duplicate_names_conflict(store: &SqlStore) {
    store
        .create_server(&settings("ansys", "1055@lic1"), t(0))
        .await
        .unwrap();
    let err = store
        .create_server(&settings("ansys", "1055@lic2"), t(1))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("ansys")),
        "{err}"
    );
    let other = store
        .create_server(&settings("other", "1@h"), t(2))
        .await
        .unwrap();
    let err = store
        .update_server(other.id, &settings("ansys", "1@h"), t(3))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)));
}

pub async fn update_restarts_verification_on_connection_change(store: &SqlStore) {
    let s = store
        .create_server(&settings("ansys", "1055@lic1"), t(0))
        .await
        .unwrap();
    let mut renamed = settings("ansys-renamed", "1055@lic1");
    renamed.description = "moved to the new rack".into();
    let u = store.update_server(s.id, &renamed, t(10)).await.unwrap();
    assert_eq!(
        u.verify_requested_at,
        Some(t(0)),
        "a rename is not a connection change"
    );
    assert_eq!(u.updated_at, t(10));
    let moved = store
        .update_server(s.id, &settings("ansys-renamed", "1055@lic9"), t(20))
        .await
        .unwrap();
    assert_eq!(moved.verify_requested_at, Some(t(20)));
    assert_eq!(
        moved.address,
        Some(ServerAddress::parse("1055@lic9").unwrap())
    );
    store.request_verify(s.id, t(30)).await.unwrap();
    assert_eq!(
        store.get_server(s.id).await.unwrap().verify_requested_at,
        Some(t(30))
    );
}

pub async fn delete_removes_history(store: &SqlStore) {
    let s = store
        .create_server(&settings("ansys", "1055@lic1"), t(0))
        .await
        .unwrap();
    store
        .record_poll_success(s.id, &snapshot(60, vec![checkout("solver", "ana", 30)]))
        .await
        .unwrap();
    store.delete_server(s.id).await.unwrap();
    let again = store
        .create_server(&settings("ansys", "1055@lic1"), t(100))
        .await
        .unwrap();
    assert!(all_sessions(store, s.id).await.is_empty());
    assert!(store.current_snapshot(s.id).await.unwrap().is_none());
    assert!(
        store
            .usage(s.id, Granularity::Hour, None, t(0), t(7200))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.current_snapshot(again.id).await.unwrap().is_none());
}

pub async fn sessions_open_and_close_with_snapshots(store: &SqlStore) {
    let s = store
        .create_server(&settings("ansys", "1055@lic1"), t(0))
        .await
        .unwrap();
    store
        .record_poll_success(
            s.id,
            &snapshot(
                60,
                vec![checkout("solver", "ana", 30), checkout("solver", "bo", 40)],
            ),
        )
        .await
        .unwrap();
    let open = open_sessions(store, s.id).await;
    assert_eq!(open.len(), 2);
    let ana = open.iter().find(|x| x.user == "ana").unwrap();
    assert_eq!(ana.started_at, t(30));
    assert_eq!(ana.host, "ana-pc");
    assert_eq!(ana.source, "remote");
    // bo stays, ana is gone, cy arrives.
    store
        .record_poll_success(
            s.id,
            &snapshot(
                180,
                vec![checkout("solver", "bo", 40), checkout("solver", "cy", 170)],
            ),
        )
        .await
        .unwrap();
    let all = all_sessions(store, s.id).await;
    assert_eq!(all.len(), 3);
    let ana = all.iter().find(|x| x.user == "ana").unwrap();
    assert_eq!(ana.ended_at, Some(t(180)));
    let open: Vec<String> = open_sessions(store, s.id)
        .await
        .into_iter()
        .map(|x| x.user)
        .collect();
    assert_eq!(open, ["cy", "bo"], "newest first");
    let current = store.current_snapshot(s.id).await.unwrap().unwrap();
    assert_eq!(current.taken_at, t(180));
    assert_eq!(current.checkouts.len(), 2);
}

pub async fn failed_poll_closes_nothing(store: &SqlStore) {
    let s = store
        .create_server(&settings("ansys", "1055@lic1"), t(0))
        .await
        .unwrap();
    store
        .record_poll_success(s.id, &snapshot(60, vec![checkout("solver", "ana", 30)]))
        .await
        .unwrap();
    store
        .record_poll_failure(s.id, t(180), "timeout after 30 s")
        .await
        .unwrap();
    assert_eq!(open_sessions(store, s.id).await.len(), 1);
    let facts = store.monitor_facts().await.unwrap();
    let f = facts.iter().find(|f| f.server_id == s.id).unwrap();
    assert_eq!(f.last_poll_error.as_deref(), Some("timeout after 30 s"));
    assert_eq!(f.last_success_at, Some(t(60)));
    // The session survives the outage and closes only when a good poll shows it gone.
    store
        .record_poll_success(s.id, &snapshot(300, vec![checkout("solver", "ana", 30)]))
        .await
        .unwrap();
    assert_eq!(open_sessions(store, s.id).await.len(), 1);
    store
        .record_poll_success(s.id, &snapshot(420, vec![]))
        .await
        .unwrap();
    assert!(open_sessions(store, s.id).await.is_empty());
    assert_eq!(all_sessions(store, s.id).await[0].ended_at, Some(t(420)));
    assert!(matches!(
        store.record_poll_failure(999_999, t(1), "x").await,
        Err(StoreError::NotFound)
    ));
}

pub async fn identical_checkouts_are_distinct_sessions(store: &SqlStore) {
    let s = store
        .create_server(&settings("ansys", "1055@lic1"), t(0))
        .await
        .unwrap();
    let twice = vec![checkout("solver", "ana", 30), checkout("solver", "ana", 30)];
    store
        .record_poll_success(s.id, &snapshot(60, twice))
        .await
        .unwrap();
    assert_eq!(open_sessions(store, s.id).await.len(), 2);
    store
        .record_poll_success(s.id, &snapshot(120, vec![checkout("solver", "ana", 30)]))
        .await
        .unwrap();
    assert_eq!(open_sessions(store, s.id).await.len(), 1);
    assert_eq!(all_sessions(store, s.id).await.len(), 2);
}

pub async fn change_points_and_rollups(store: &SqlStore) {
    let s = store
        .create_server(&settings("ansys", "1055@lic1"), t(0))
        .await
        .unwrap();
    let users = |n: usize| {
        (0..n)
            .map(|i| checkout("solver", &format!("u{i}"), 0))
            .collect::<Vec<_>>()
    };
    // Within the 09:00 hour: 2, 2, 4 in use; then 1 in the 10:00 hour.
    for (at, n) in [(60, 2), (120, 2), (180, 4), (3660, 1)] {
        store
            .record_poll_success(s.id, &snapshot(at, users(n)))
            .await
            .unwrap();
    }
    let changes = store
        .feature_changes(s.id, Some("solver"), t(0), t(7200))
        .await
        .unwrap();
    let in_use: Vec<u64> = changes.iter().map(|c| c.in_use).collect();
    assert_eq!(
        in_use,
        [2, 4, 1],
        "an unchanged poll writes no change point"
    );
    assert_eq!(changes[0].issued, Some(10));
    let hours = store
        .usage(s.id, Granularity::Hour, Some("solver"), t(0), t(7200))
        .await
        .unwrap();
    assert_eq!(hours.len(), 2);
    assert_eq!(
        (hours[0].min_in_use, hours[0].max_in_use, hours[0].samples),
        (2, 4, 3)
    );
    assert!((hours[0].avg_in_use - 8.0 / 3.0).abs() < 1e-9);
    assert_eq!(hours[0].issued, Some(10));
    assert_eq!(hours[0].bucket_start, t(0));
    assert_eq!((hours[1].min_in_use, hours[1].max_in_use), (1, 1));
    let days = store
        .usage(s.id, Granularity::Day, None, t(0), t(7200))
        .await
        .unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(
        (days[0].min_in_use, days[0].max_in_use, days[0].samples),
        (1, 4, 4)
    );
    // A feature that disappears gets a zero change point.
    let mut gone = snapshot(7300, vec![]);
    gone.features.clear();
    store.record_poll_success(s.id, &gone).await.unwrap();
    let last = store
        .feature_changes(s.id, None, t(7200), t(9000))
        .await
        .unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!((last[0].in_use, last[0].issued), (0, None));
}

pub async fn statuses_from_stored_facts(store: &SqlStore) {
    let s = store
        .create_server(&settings("ansys", "1055@lic1"), t(0))
        .await
        .unwrap();
    let node = NodeHeartbeat {
        node_id: "node-a".into(),
        host: "licmon1".into(),
        started_at: t(0),
        heartbeat_at: t(5),
        collector_running: true,
    };
    store.heartbeat(&node).await.unwrap();
    let status = |o: &[ServerOverview]| {
        o.iter()
            .find(|x| x.server.id == s.id)
            .unwrap()
            .statuses
            .remote
            .clone()
    };
    let settings_ = StatusSettings::default();
    let o = overviews(store, t(10), settings_).await.unwrap();
    assert_eq!(status(&o), RemoteStatus::Verifying);
    assert_eq!(o[0].statuses.import.label(), "Ready");
    assert_eq!(o[0].statuses.end_user.label(), "Offline");
    store
        .record_poll_success(s.id, &snapshot(20, vec![]))
        .await
        .unwrap();
    let o = overviews(store, t(30), settings_).await.unwrap();
    assert_eq!(status(&o), RemoteStatus::Online);
    assert_eq!(o[0].last_update, Some(t(20)));
    store
        .record_poll_failure(s.id, t(40), "server down: lmgrd is not running")
        .await
        .unwrap();
    let o = overviews(store, t(50), settings_).await.unwrap();
    assert_eq!(
        status(&o),
        RemoteStatus::Offline {
            reason: "server down: lmgrd is not running".into()
        }
    );
    // The collector's heartbeat goes stale: Unmonitored.
    let o = overviews(
        store,
        t(5) + settings_.heartbeat_timeout + Duration::seconds(1),
        settings_,
    )
    .await
    .unwrap();
    assert_eq!(status(&o), RemoteStatus::Unmonitored);
    store
        .heartbeat(&NodeHeartbeat {
            heartbeat_at: t(100),
            collector_running: false,
            ..node.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        status(&overviews(store, t(101), settings_).await.unwrap()),
        RemoteStatus::Unmonitored
    );
    store
        .heartbeat(&NodeHeartbeat {
            heartbeat_at: t(110),
            ..node.clone()
        })
        .await
        .unwrap();
    assert_eq!(store.nodes().await.unwrap().len(), 1);
    store.request_verify(s.id, t(111)).await.unwrap();
    assert_eq!(
        status(&overviews(store, t(112), settings_).await.unwrap()),
        RemoteStatus::Verifying
    );
    store.remove_node("node-a").await.unwrap();
    assert_eq!(
        status(&overviews(store, t(113), settings_).await.unwrap()),
        RemoteStatus::Unmonitored
    );
}

pub async fn capacity_by_creation_order(store: &SqlStore) {
    let a = store
        .create_server(&settings("a", "1@a"), t(0))
        .await
        .unwrap();
    let b = store
        .create_server(&settings("b", "1@b"), t(1))
        .await
        .unwrap();
    let c = store
        .create_server(&settings("c", "1@c"), t(2))
        .await
        .unwrap();
    let limited = StatusSettings {
        max_license_servers: Some(2),
        ..Default::default()
    };
    let labels = |o: Vec<ServerOverview>| {
        o.into_iter()
            .map(|x| (x.server.id, x.over_capacity))
            .collect::<Vec<_>>()
    };
    let o = overviews(store, t(10), limited).await.unwrap();
    assert_eq!(
        o.iter()
            .find(|x| x.server.id == c.id)
            .unwrap()
            .statuses
            .remote,
        RemoteStatus::LicenseExceeded
    );
    assert_eq!(labels(o), [(a.id, false), (b.id, false), (c.id, true)]);
    // Switching every source of `a` off makes room for `c`.
    let mut off = settings("a", "1@a");
    off.data_sources = licmon_core::DataSourceSwitches {
        remote: false,
        import: false,
        end_user: false,
    };
    store.update_server(a.id, &off, t(20)).await.unwrap();
    assert_eq!(
        labels(overviews(store, t(30), limited).await.unwrap()),
        [(a.id, false), (b.id, false), (c.id, false)]
    );
}

pub async fn import_outcome_round_trips(store: &SqlStore) {
    let s = store
        .create_server(&settings("a", "1@a"), t(0))
        .await
        .unwrap();
    let outcome = ImportOutcome::Success {
        at: t(5),
        events: 1200,
        sessions: 300,
        denials: 7,
    };
    store.record_import_outcome(s.id, &outcome).await.unwrap();
    let facts = store.monitor_facts().await.unwrap();
    assert_eq!(facts[0].last_import, Some(outcome));
    let o = overviews(store, t(6), StatusSettings::default())
        .await
        .unwrap();
    assert_eq!(o[0].statuses.import.label(), "Success");
    assert_eq!(o[0].last_update, Some(t(5)));
    let failure = ImportOutcome::Failure {
        at: t(7),
        reason: "lmgrd.log line 3: binary data".into(),
    };
    store.record_import_outcome(s.id, &failure).await.unwrap();
    let o = overviews(store, t(8), StatusSettings::default())
        .await
        .unwrap();
    assert_eq!(
        o[0].statuses.import.reason().as_deref(),
        Some("lmgrd.log line 3: binary data")
    );
}

pub async fn event_log_newest_first(store: &SqlStore) {
    store
        .log_event(t(0), None, "login", "admin logged in")
        .await
        .unwrap();
    store
        .log_event(t(5), Some(1), "poll", "ansys: timeout after 30 s")
        .await
        .unwrap();
    let events = store.recent_events(10).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].category, "poll");
    assert_eq!(events[0].server_id, Some(1));
    assert_eq!(events[1].at, t(0));
    assert_eq!(store.recent_events(1).await.unwrap().len(), 1);
}

pub async fn event_log_filters_and_pages(store: &SqlStore) {
    // Five events at the same second (ids decide), of two categories and two servers.
    for (server, category, message) in [
        (None, "auth", "a1"),
        (Some(1), "poll", "p1"),
        (Some(2), "poll", "p2"),
        (Some(1), "import", "i1"),
        (Some(1), "poll", "p3"),
    ] {
        store
            .log_event(t(0), server, category, message)
            .await
            .unwrap();
    }
    let messages = |q: EventQuery| async move {
        let events = store.events(&q).await.unwrap();
        events.into_iter().map(|e| e.message).collect::<Vec<_>>()
    };
    let all = |offset| EventQuery {
        limit: 2,
        offset,
        ..EventQuery::default()
    };
    assert_eq!(messages(all(0)).await, ["p3", "i1"]);
    assert_eq!(messages(all(2)).await, ["p2", "p1"]);
    assert_eq!(messages(all(4)).await, ["a1"]);
    let polls_of_1 = EventQuery {
        category: Some("poll".into()),
        server_id: Some(1),
        limit: 10,
        offset: 0,
    };
    assert_eq!(messages(polls_of_1).await, ["p3", "p1"]);
    let server_2 = EventQuery {
        server_id: Some(2),
        limit: 10,
        ..EventQuery::default()
    };
    assert_eq!(messages(server_2).await, ["p2"]);
    assert_eq!(
        store.event_categories().await.unwrap(),
        ["auth", "import", "poll"]
    );
}

pub async fn session_filters_and_paging(store: &SqlStore) {
    let s = store
        .create_server(&settings("a", "1@a"), t(0))
        .await
        .unwrap();
    let co = vec![
        checkout("solver", "ana", 10),
        checkout("pre", "bo", 20),
        checkout("solver", "cy", 30),
    ];
    store
        .record_poll_success(s.id, &snapshot(60, co))
        .await
        .unwrap();
    let q = |f: SessionQuery| async move { store.sessions(s.id, &f).await.unwrap() };
    assert_eq!(
        q(SessionQuery {
            feature: Some("solver".into()),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        q(SessionQuery {
            user: Some("bo".into()),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        q(SessionQuery {
            to: Some(t(15)),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    let page = q(SessionQuery {
        limit: 2,
        offset: 1,
        ..Default::default()
    })
    .await;
    let users: Vec<_> = page.iter().map(|x| x.user.as_str()).collect();
    assert_eq!(users, ["bo", "ana"]);
}

pub async fn unicode_and_sql_metacharacters_survive(store: &SqlStore) {
    let s = store
        .create_server(&settings("ansys'; DROP TABLE sessions; --", "1@a"), t(0))
        .await
        .unwrap();
    let mut c = checkout("solver", "José Luis Ortega", 10);
    c.display = Some("<script>alert(1)</script>".into());
    store
        .record_poll_success(s.id, &snapshot(60, vec![c]))
        .await
        .unwrap();
    let got = all_sessions(store, s.id).await;
    assert_eq!(got[0].user, "José Luis Ortega");
    assert_eq!(got[0].display.as_deref(), Some("<script>alert(1)</script>"));
    assert_eq!(
        store.get_server(s.id).await.unwrap().name,
        "ansys'; DROP TABLE sessions; --"
    );
}
