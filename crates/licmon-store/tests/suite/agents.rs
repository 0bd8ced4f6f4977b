//! The behaviour suite of [`AgentStore`]: registry, last-seen per server, agent applications,
//! agent-metered usage and idle/active marks. `agents_backend_tests!(open)` runs each case.

use chrono::Duration;
use licmon_core::server::LicenseServerInput;
use licmon_core::status::DEFAULT_AGENT_WINDOW;
use licmon_core::{EndUserStatus, ServerId};
use licmon_store::*;

use super::{all_sessions as all_sessions_of, open_sessions as open_sessions_of, settings, t};

#[macro_export]
macro_rules! agents_backend_tests {
    ($open:path) => {
        $crate::agents_backend_tests!(@cases $open;
            agents_register_and_update_by_agent_id, online_counts_agents_within_the_window,
            agent_apps_crud_and_conflicts, agent_usage_becomes_features_sessions_and_history,
            a_second_refresh_within_the_gap_does_nothing,
            reports_mark_matching_remote_sessions_idle_or_active, a_batch_of_many_agents_in_one_call,
            a_report_replaces_the_agents_earlier_usage,
            deleting_a_server_or_agent_removes_its_agent_rows,
            current_agent_usage_lists_the_latest_reports_longest_idle_first);
    };
    (@cases $open:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(handle) = $open().await else { return };
                suite::agents::$case(&handle.store).await;
                handle.finish().await;
            }
        )*
    };
}

pub async fn agent_apps_server(store: &SqlStore, name: &str) -> ServerId {
    let input = LicenseServerInput {
        name: name.into(),
        kind: "agent-apps".into(),
        vendor: "in-house".into(),
        time_zone: Some("UTC".into()),
        ..Default::default()
    };
    store
        .create_server(&input.validate().unwrap(), t(0))
        .await
        .unwrap()
        .id
}

fn identity(id: &str) -> AgentIdentity {
    AgentIdentity {
        agent_id: id.into(),
        host: format!("{id}.example.org"),
        user: "root".into(),
        version: "0.1.0".into(),
        token_id: None,
    }
}

fn app(feature: &str, user: &str, instances: u32, start: i64, idle: u64) -> AgentAppUsage {
    AgentAppUsage {
        feature: feature.into(),
        executable: feature.into(),
        user: user.into(),
        instances,
        started_at: t(start),
        idle_secs: idle,
    }
}

pub fn batch(
    agent: &str,
    at: i64,
    server: ServerId,
    mark_remote: bool,
    apps: Vec<AgentAppUsage>,
) -> AgentReportBatch {
    AgentReportBatch {
        agent: identity(agent),
        received_at: t(at),
        error: None,
        reports: vec![AgentServerReport {
            server_id: server,
            mark_remote_sessions: mark_remote,
            apps,
        }],
    }
}

async fn end_user_status(store: &SqlStore, server: ServerId, now: i64) -> EndUserStatus {
    overviews(store, t(now), StatusSettings::default())
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.server.id == server)
        .unwrap()
        .statuses
        .end_user
}

pub async fn agents_register_and_update_by_agent_id(store: &SqlStore) {
    let s = agent_apps_server(store, "apps").await;
    store
        .record_agent_reports(&[batch("ws-1", 10, s, false, vec![])])
        .await
        .unwrap();
    let mut again = batch("ws-1", 20, s, false, vec![]);
    again.agent.version = "0.2.0".into();
    again.error = Some("licmon was unreachable for 5 minutes".into());
    store.record_agent_reports(&[again]).await.unwrap();
    // An older document (received earlier, written later) does not move last-seen back.
    store
        .record_agent_reports(&[batch("ws-1", 15, s, false, vec![])])
        .await
        .unwrap();
    let agents = store.list_agents().await.unwrap();
    assert_eq!(agents.len(), 1);
    let a = &agents[0];
    assert_eq!(a.agent_id, "ws-1");
    assert_eq!(a.host, "ws-1.example.org");
    assert_eq!(a.first_seen_at, t(10));
    assert_eq!(a.last_seen_at, t(20));
    assert_eq!(a.server_ids, vec![s]);
    // A clean report keeps the last error (with its time) for the page to show.
    assert_eq!(
        a.last_error.as_deref(),
        Some("licmon was unreachable for 5 minutes")
    );
    assert_eq!(a.last_error_at, Some(t(20)));
    store
        .record_agent_error(&identity("ws-1"), t(30), "refused: source disabled")
        .await
        .unwrap();
    let a = &store.list_agents().await.unwrap()[0];
    assert_eq!(a.last_error.as_deref(), Some("refused: source disabled"));
    assert_eq!(a.version, "0.1.0");
}

pub async fn online_counts_agents_within_the_window(store: &SqlStore) {
    let s = agent_apps_server(store, "apps").await;
    let remote_only = store
        .create_server(&settings("flex", "1@h"), t(0))
        .await
        .unwrap()
        .id;
    assert_eq!(end_user_status(store, s, 100).await, EndUserStatus::Offline);
    store
        .record_agent_reports(&[
            batch("ws-1", 100, s, false, vec![]),
            batch("ws-2", 110, s, false, vec![]),
        ])
        .await
        .unwrap();
    assert_eq!(
        end_user_status(store, s, 110).await,
        EndUserStatus::Online { agents: 2 }
    );
    let window = DEFAULT_AGENT_WINDOW.num_seconds();
    assert_eq!(
        end_user_status(store, s, 100 + window).await,
        EndUserStatus::Online { agents: 2 }
    );
    assert_eq!(
        end_user_status(store, s, 101 + window).await,
        EndUserStatus::Online { agents: 1 }
    );
    assert_eq!(
        end_user_status(store, s, 111 + window).await,
        EndUserStatus::Offline
    );
    // Nobody reported for the other server.
    assert_eq!(
        end_user_status(store, remote_only, 110).await,
        EndUserStatus::Offline
    );
}

pub async fn agent_apps_crud_and_conflicts(store: &SqlStore) {
    let s = agent_apps_server(store, "apps").await;
    let input = AgentAppInput {
        server_id: s,
        feature: "matlab".into(),
        executables: vec!["matlab".into(), "MATLAB.exe".into()],
    };
    let created = store.create_agent_app(&input, t(1)).await.unwrap();
    assert_eq!(created.executables, input.executables);
    assert!(matches!(
        store.create_agent_app(&input, t(2)).await,
        Err(StoreError::Conflict(_))
    ));
    let missing = AgentAppInput {
        server_id: 9999,
        ..input.clone()
    };
    assert!(matches!(
        store.create_agent_app(&missing, t(2)).await,
        Err(StoreError::NotFound)
    ));
    let changed = AgentAppInput {
        feature: "matlab-r2026".into(),
        executables: vec!["matlab".into()],
        ..input.clone()
    };
    let updated = store
        .update_agent_app(created.id, &changed, t(3))
        .await
        .unwrap();
    assert_eq!(updated.feature, "matlab-r2026");
    assert_eq!(updated.created_at, t(1));
    assert_eq!(updated.updated_at, t(3));
    assert_eq!(store.get_agent_app(created.id).await.unwrap(), updated);
    assert_eq!(store.list_agent_apps().await.unwrap(), vec![updated]);
    store.delete_agent_app(created.id).await.unwrap();
    assert!(matches!(
        store.delete_agent_app(created.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.list_agent_apps().await.unwrap().is_empty());
}

/// Each report replaces what the agent said before for that server: an application reported
/// again is updated, one no longer reported is gone, a new one appears.
pub async fn a_report_replaces_the_agents_earlier_usage(store: &SqlStore) {
    let s = agent_apps_server(store, "apps").await;
    for feature in ["matlab", "cad"] {
        let input = AgentAppInput {
            server_id: s,
            feature: feature.into(),
            executables: vec![feature.into()],
        };
        store.create_agent_app(&input, t(0)).await.unwrap();
    }
    let in_use = |at: i64| async move {
        store
            .refresh_agent_usage(s, t(at), Duration::seconds(120), Duration::zero())
            .await
            .unwrap();
        let snap = store.current_snapshot(s).await.unwrap().unwrap();
        snap.features
            .iter()
            .map(|f| (f.name.clone(), f.in_use))
            .collect::<Vec<_>>()
    };
    let reports = [
        (10, vec![app("matlab", "alice", 2, 5, 0)]),
        (
            20,
            vec![
                app("matlab", "alice", 3, 5, 0),
                app("cad", "alice", 1, 15, 0),
            ],
        ),
        (30, vec![app("cad", "alice", 1, 15, 9)]),
    ];
    let expected = [
        vec![("cad".to_string(), 0), ("matlab".to_string(), 2)],
        vec![("cad".to_string(), 1), ("matlab".to_string(), 3)],
        vec![("cad".to_string(), 1), ("matlab".to_string(), 0)],
    ];
    for ((at, apps), want) in reports.into_iter().zip(expected) {
        store
            .record_agent_reports(&[batch("ws-1", at, s, false, apps)])
            .await
            .unwrap();
        assert_eq!(in_use(at).await, want, "after the report at {at}");
    }
}

pub async fn agent_usage_becomes_features_sessions_and_history(store: &SqlStore) {
    let s = agent_apps_server(store, "apps").await;
    for feature in ["matlab", "idle-tool"] {
        let input = AgentAppInput {
            server_id: s,
            feature: feature.into(),
            executables: vec![feature.into()],
        };
        store.create_agent_app(&input, t(0)).await.unwrap();
    }
    let window = Duration::seconds(120);
    let gap = Duration::seconds(10);
    store
        .record_agent_reports(&[
            batch(
                "ws-1",
                100,
                s,
                false,
                vec![app("matlab", "alice", 2, 50, 0)],
            ),
            batch("ws-2", 100, s, false, vec![app("matlab", "bob", 1, 90, 40)]),
        ])
        .await
        .unwrap();
    assert!(
        store
            .refresh_agent_usage(s, t(100), window, gap)
            .await
            .unwrap()
    );
    let snap = store.current_snapshot(s).await.unwrap().unwrap();
    let in_use: Vec<(&str, u64)> = snap
        .features
        .iter()
        .map(|f| (f.name.as_str(), f.in_use))
        .collect();
    assert_eq!(in_use, vec![("idle-tool", 0), ("matlab", 3)]);
    let open = open_sessions_of(store, s).await;
    assert_eq!(open.len(), 2);
    let alice = open.iter().find(|x| x.user == "alice").unwrap();
    assert_eq!(alice.source, AGENT_SOURCE);
    assert_eq!(alice.host, "ws-1.example.org");
    assert_eq!(alice.count, 2);
    assert_eq!(alice.started_at, t(50));
    assert_eq!((alice.idle_secs, alice.active), (Some(0), Some(true)));
    let bob = open.iter().find(|x| x.user == "bob").unwrap();
    assert_eq!((bob.idle_secs, bob.active), (Some(40), Some(false)));
    // ws-2 stops reporting; ws-1 reports alice's matlab closed.
    store
        .record_agent_reports(&[batch("ws-1", 200, s, false, vec![])])
        .await
        .unwrap();
    assert!(
        store
            .refresh_agent_usage(s, t(200), window, gap)
            .await
            .unwrap()
    );
    // Bob's report (received at 100) is still within the window at 200; at 221 it is not.
    assert_eq!(open_sessions_of(store, s).await.len(), 1);
    assert!(
        store
            .refresh_agent_usage(s, t(221), window, gap)
            .await
            .unwrap()
    );
    assert!(open_sessions_of(store, s).await.is_empty());
    let all = all_sessions_of(store, s).await;
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|x| x.ended_at.is_some()));
    let changes = store
        .feature_changes(s, Some("matlab"), t(0), t(1000))
        .await
        .unwrap();
    let counts: Vec<u64> = changes.iter().map(|c| c.in_use).collect();
    assert_eq!(counts, vec![3, 1, 0]);
    let hours = store
        .usage(s, Granularity::Hour, Some("matlab"), t(0), t(3600))
        .await
        .unwrap();
    assert_eq!(hours.len(), 1);
    assert_eq!((hours[0].max_in_use, hours[0].samples), (3, 3));
}

pub async fn a_second_refresh_within_the_gap_does_nothing(store: &SqlStore) {
    let s = agent_apps_server(store, "apps").await;
    let (window, gap) = (Duration::seconds(120), Duration::seconds(10));
    store
        .record_agent_reports(&[batch("ws-1", 0, s, false, vec![app("cad", "u", 1, 0, 0)])])
        .await
        .unwrap();
    assert!(
        store
            .refresh_agent_usage(s, t(1), window, gap)
            .await
            .unwrap()
    );
    assert!(
        !store
            .refresh_agent_usage(s, t(5), window, gap)
            .await
            .unwrap()
    );
    assert!(
        store
            .refresh_agent_usage(s, t(11), window, gap)
            .await
            .unwrap()
    );
    let hours = store
        .usage(s, Granularity::Hour, None, t(0), t(3600))
        .await
        .unwrap();
    assert_eq!(hours[0].samples, 2);
}

pub async fn reports_mark_matching_remote_sessions_idle_or_active(store: &SqlStore) {
    let s = store
        .create_server(&settings("flex", "1@h"), t(0))
        .await
        .unwrap()
        .id;
    let mut alice = super::checkout("solver", "alice", -60);
    alice.host = "WS-1".into();
    let bob = super::checkout("solver", "bob", -60);
    store
        .record_poll_success(s, &super::snapshot(0, vec![alice, bob]))
        .await
        .unwrap();
    // The agent knows its full host name; the license server shows the short one.
    store
        .record_agent_reports(&[batch(
            "ws-1",
            10,
            s,
            true,
            vec![app("solver", "Alice", 1, -60, 90)],
        )])
        .await
        .unwrap();
    let open = open_sessions_of(store, s).await;
    let a = open.iter().find(|x| x.user == "alice").unwrap();
    assert_eq!((a.idle_secs, a.active), (Some(90), Some(false)));
    let b = open.iter().find(|x| x.user == "bob").unwrap();
    assert_eq!((b.idle_secs, b.active), (None, None));
    store
        .record_agent_reports(&[batch(
            "ws-1",
            40,
            s,
            true,
            vec![app("solver", "alice", 1, -60, 0)],
        )])
        .await
        .unwrap();
    let open = open_sessions_of(store, s).await;
    let a = open.iter().find(|x| x.user == "alice").unwrap();
    assert_eq!((a.idle_secs, a.active), (Some(0), Some(true)));
    // No agent-made sessions for a network license manager's server.
    assert!(open.iter().all(|x| x.source == "remote"));
}

pub async fn current_agent_usage_lists_the_latest_reports_longest_idle_first(store: &SqlStore) {
    let s = store
        .create_server(&settings("flex", "1@h"), t(0))
        .await
        .unwrap()
        .id;
    let reports = [
        batch(
            "ws-1",
            10,
            s,
            true,
            vec![app("solver", "alice", 2, -60, 900)],
        ),
        batch("ws-2", 20, s, true, vec![app("solver", "bob", 1, -30, 5)]),
        // Reported long before the window: no longer current.
        batch("ws-3", -600, s, true, vec![app("solver", "cy", 1, -900, 0)]),
    ];
    store.record_agent_reports(&reports).await.unwrap();
    let rows = store.current_agent_usage(s, t(-120)).await.unwrap();
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            let (agent, host, user) = (r.agent_id.as_str(), r.host.as_str(), r.user.as_str());
            (
                agent,
                host,
                user,
                r.feature.as_str(),
                r.instances,
                r.idle_secs,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("ws-1", "ws-1.example.org", "alice", "solver", 2, 900),
            ("ws-2", "ws-2.example.org", "bob", "solver", 1, 5),
        ]
    );
    assert_eq!((rows[0].started_at, rows[0].reported_at), (t(-60), t(10)));
    // Another server's usage is its own.
    let other = store
        .create_server(&settings("other", "2@h"), t(0))
        .await
        .unwrap()
        .id;
    assert!(
        store
            .current_agent_usage(other, t(-120))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_batch_of_many_agents_in_one_call(store: &SqlStore) {
    let s = agent_apps_server(store, "apps").await;
    let many: Vec<AgentReportBatch> = (0..1234)
        .map(|i| {
            batch(
                &format!("ws-{i:04}"),
                100,
                s,
                false,
                vec![app("cad", &format!("u{i}"), 1, 0, i as u64 % 3)],
            )
        })
        .collect();
    store.record_agent_reports(&many).await.unwrap();
    // The same agents again: their rows are replaced, not added.
    store.record_agent_reports(&many).await.unwrap();
    assert_eq!(store.list_agents().await.unwrap().len(), 1234);
    assert_eq!(
        end_user_status(store, s, 100).await,
        EndUserStatus::Online { agents: 1234 }
    );
    store
        .refresh_agent_usage(s, t(100), Duration::seconds(120), Duration::seconds(10))
        .await
        .unwrap();
    let snap = store.current_snapshot(s).await.unwrap().unwrap();
    assert_eq!(snap.features[0].in_use, 1234);
}

pub async fn deleting_a_server_or_agent_removes_its_agent_rows(store: &SqlStore) {
    let s = agent_apps_server(store, "apps").await;
    let other = agent_apps_server(store, "other").await;
    store
        .create_agent_app(
            &AgentAppInput {
                server_id: s,
                feature: "cad".into(),
                executables: vec!["cad".into()],
            },
            t(0),
        )
        .await
        .unwrap();
    let mut two = batch("ws-1", 10, s, false, vec![app("cad", "u", 1, 0, 0)]);
    two.reports.push(AgentServerReport {
        server_id: other,
        mark_remote_sessions: false,
        apps: vec![],
    });
    store.record_agent_reports(&[two]).await.unwrap();
    store.delete_server(s).await.unwrap();
    assert!(store.list_agent_apps().await.unwrap().is_empty());
    let agents = store.list_agents().await.unwrap();
    assert_eq!(agents[0].server_ids, vec![other]);
    store.delete_agent(agents[0].id).await.unwrap();
    assert!(store.list_agents().await.unwrap().is_empty());
    assert!(store.agents_last_seen(t(0)).await.unwrap().is_empty());
    assert!(matches!(
        store.delete_agent(agents[0].id).await,
        Err(StoreError::NotFound)
    ));
    // A deleted agent that reports again is registered anew (a writer that remembered its old
    // row id must notice the row is gone).
    store
        .record_agent_reports(&[batch("ws-1", 30, other, false, vec![])])
        .await
        .unwrap();
    let again = store.list_agents().await.unwrap();
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].id, agents[0].id);
    assert_eq!(again[0].first_seen_at, t(30));
    assert_eq!(again[0].server_ids, vec![other]);
}
