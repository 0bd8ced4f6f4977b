//! Every status value of every data source, and every transition of SPEC §2.

use super::*;
use crate::capacity::{CapacityEntry, over_capacity};
use chrono::TimeZone;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap() + Duration::seconds(secs)
}

fn facts(kind: ManagerKind) -> ServerFacts {
    ServerFacts {
        kind,
        switches: DataSourceSwitches::all_supported(kind),
        over_capacity: false,
        monitoring_running: true,
        verify_requested_at: None,
        last_poll: None,
        last_import: None,
        agents_last_seen: Vec::new(),
    }
}

fn ok_poll(at: i64) -> Option<PollOutcome> {
    Some(PollOutcome {
        at: t(at),
        error: None,
    })
}

fn failed_poll(at: i64, reason: &str) -> Option<PollOutcome> {
    Some(PollOutcome {
        at: t(at),
        error: Some(reason.into()),
    })
}

#[test]
fn remote_verifying_after_create_then_online() {
    let mut f = facts(ManagerKind::Flexnet);
    f.verify_requested_at = Some(t(0));
    assert_eq!(remote_status(&f), RemoteStatus::Verifying);
    f.last_poll = ok_poll(5);
    assert_eq!(remote_status(&f), RemoteStatus::Online);
}

#[test]
fn remote_verifying_after_create_then_offline_with_reason() {
    let mut f = facts(ManagerKind::Rlm);
    f.verify_requested_at = Some(t(0));
    f.last_poll = failed_poll(3, "timeout after 30 s");
    let status = remote_status(&f);
    assert_eq!(
        status,
        RemoteStatus::Offline {
            reason: "timeout after 30 s".into()
        }
    );
    assert_eq!(status.label(), "Offline");
    assert_eq!(status.reason().as_deref(), Some("timeout after 30 s"));
}

#[test]
fn remote_connection_change_goes_back_to_verifying() {
    let mut f = facts(ManagerKind::Lmx);
    f.last_poll = ok_poll(10);
    assert_eq!(remote_status(&f), RemoteStatus::Online);
    // An admin changes the address (or presses Verify): the old poll no longer counts.
    f.verify_requested_at = Some(t(20));
    assert_eq!(remote_status(&f), RemoteStatus::Verifying);
    f.last_poll = failed_poll(25, "server down: lmgrd is not running");
    assert_eq!(remote_status(&f).label(), "Offline");
    f.verify_requested_at = Some(t(30));
    assert_eq!(remote_status(&f), RemoteStatus::Verifying);
    f.last_poll = ok_poll(40);
    assert_eq!(remote_status(&f), RemoteStatus::Online);
}

#[test]
fn remote_poll_in_the_same_instant_as_the_request_ends_verifying() {
    let mut f = facts(ManagerKind::Flexnet);
    f.verify_requested_at = Some(t(7));
    f.last_poll = ok_poll(7);
    assert_eq!(remote_status(&f), RemoteStatus::Online);
}

#[test]
fn remote_unmonitored_when_no_monitoring_service_runs() {
    let mut f = facts(ManagerKind::Flexnet);
    f.last_poll = ok_poll(0);
    f.monitoring_running = false;
    let status = remote_status(&f);
    assert_eq!(status, RemoteStatus::Unmonitored);
    assert!(status.reason().unwrap().contains("not running"));
    // Verifying cannot end without a collector: Unmonitored says why.
    f.verify_requested_at = Some(t(5));
    assert_eq!(remote_status(&f), RemoteStatus::Unmonitored);
    f.monitoring_running = true;
    assert_eq!(remote_status(&f), RemoteStatus::Verifying);
}

#[test]
fn remote_disabled_and_not_applicable() {
    let mut f = facts(ManagerKind::Flexnet);
    f.switches.remote = false;
    f.last_poll = ok_poll(0);
    assert_eq!(remote_status(&f), RemoteStatus::Disabled);
    assert_eq!(remote_status(&f).label(), "Disabled");
    for kind in [ManagerKind::GenericLog, ManagerKind::AgentApps] {
        let f = facts(kind);
        assert_eq!(remote_status(&f), RemoteStatus::NotApplicable, "{kind}");
        assert_eq!(remote_status(&f).label(), "N/A");
    }
}

#[test]
fn license_exceeded_by_creation_order_and_back_when_room_is_made() {
    let created = |id: i64| CapacityEntry {
        id,
        created_at: t(id * 60),
        any_source_enabled: true,
    };
    let mut entries = vec![created(1), created(2), created(3)];
    let status_of = |entries: &[CapacityEntry], id: i64, max: Option<u32>| {
        let mut f = facts(ManagerKind::Flexnet);
        f.last_poll = ok_poll(0);
        f.last_import = None;
        f.over_capacity = over_capacity(entries, max).contains(&id);
        (remote_status(&f), import_status(&f))
    };
    assert_eq!(status_of(&entries, 1, Some(2)).0, RemoteStatus::Online);
    assert_eq!(status_of(&entries, 2, Some(2)).0, RemoteStatus::Online);
    let (remote, import) = status_of(&entries, 3, Some(2));
    assert_eq!(remote, RemoteStatus::LicenseExceeded);
    assert_eq!(remote.label(), "License Exceeded");
    assert_eq!(import, ImportStatus::LicenseExceeded);
    // An admin disables server 1: server 3 comes back by itself.
    entries[0].any_source_enabled = false;
    assert_eq!(status_of(&entries, 3, Some(2)).0, RemoteStatus::Online);
    assert_eq!(status_of(&entries, 3, Some(2)).1, ImportStatus::Ready);
}

#[test]
fn license_exceeded_wins_over_unmonitored_but_not_over_disabled() {
    let mut f = facts(ManagerKind::Flexnet);
    f.over_capacity = true;
    f.monitoring_running = false;
    assert_eq!(remote_status(&f), RemoteStatus::LicenseExceeded);
    f.switches.remote = false;
    assert_eq!(remote_status(&f), RemoteStatus::Disabled);
}

#[test]
fn import_every_status() {
    let mut f = facts(ManagerKind::Flexnet);
    assert_eq!(import_status(&f), ImportStatus::Ready);
    f.last_import = Some(ImportOutcome::Success {
        at: t(0),
        events: 10,
        sessions: 4,
        denials: 1,
    });
    let success = import_status(&f);
    assert_eq!(success.label(), "Success");
    assert!(
        success
            .reason()
            .unwrap()
            .contains("10 events, 4 sessions, 1 denials")
    );
    f.last_import = Some(ImportOutcome::Failure {
        at: t(1),
        reason: "lmgrd.log line 12: not a FlexNet debug log".into(),
    });
    assert_eq!(import_status(&f).label(), "Failure");
    assert_eq!(
        import_status(&f).reason().unwrap(),
        "lmgrd.log line 12: not a FlexNet debug log"
    );
    f.last_import = Some(ImportOutcome::RefusedOverCapacity { at: t(2) });
    f.over_capacity = true;
    assert_eq!(import_status(&f), ImportStatus::LicenseExceeded);
    f.over_capacity = false;
    assert_eq!(import_status(&f), ImportStatus::Ready);
    f.switches.import = false;
    assert_eq!(import_status(&f), ImportStatus::Disabled);
    for kind in [
        ManagerKind::SentinelRms,
        ManagerKind::CustomXml,
        ManagerKind::AgentApps,
    ] {
        assert_eq!(
            import_status(&facts(kind)),
            ImportStatus::NotApplicable,
            "{kind}"
        );
        assert_eq!(import_status(&facts(kind)).label(), "N/A");
    }
}

#[test]
fn end_user_two_minute_window_edges() {
    let mut f = facts(ManagerKind::Flexnet);
    let now = t(1000);
    f.agents_last_seen = vec![now - Duration::seconds(119)];
    assert_eq!(
        end_user_status(&f, now, DEFAULT_AGENT_WINDOW),
        EndUserStatus::Online { agents: 1 }
    );
    f.agents_last_seen = vec![now - Duration::seconds(121)];
    assert_eq!(
        end_user_status(&f, now, DEFAULT_AGENT_WINDOW),
        EndUserStatus::Offline
    );
    f.agents_last_seen = vec![now - Duration::seconds(120)];
    assert_eq!(
        end_user_status(&f, now, DEFAULT_AGENT_WINDOW),
        EndUserStatus::Online { agents: 1 }
    );
}

#[test]
fn end_user_counts_only_agents_inside_the_window() {
    let mut f = facts(ManagerKind::AgentApps);
    let now = t(1000);
    f.agents_last_seen = vec![
        now,
        now - Duration::seconds(30),
        now - Duration::seconds(500),
    ];
    let status = end_user_status(&f, now, DEFAULT_AGENT_WINDOW);
    assert_eq!(status, EndUserStatus::Online { agents: 2 });
    assert_eq!(status.label(), "Online (2)");
    f.agents_last_seen.clear();
    assert_eq!(
        end_user_status(&f, now, DEFAULT_AGENT_WINDOW).label(),
        "Offline"
    );
}

#[test]
fn end_user_disabled_and_not_applicable() {
    let mut f = facts(ManagerKind::Rlm);
    f.agents_last_seen = vec![t(0)];
    f.switches.end_user = false;
    assert_eq!(
        end_user_status(&f, t(1), DEFAULT_AGENT_WINDOW),
        EndUserStatus::Disabled
    );
    for kind in [ManagerKind::CustomXml, ManagerKind::GenericLog] {
        let status = end_user_status(&facts(kind), t(1), DEFAULT_AGENT_WINDOW);
        assert_eq!(status, EndUserStatus::NotApplicable, "{kind}");
        assert_eq!(status.label(), "N/A");
    }
}

#[test]
fn every_unsupported_pair_is_not_applicable_even_when_switched_on() {
    for kind in ManagerKind::ALL {
        let mut f = facts(kind);
        f.switches = DataSourceSwitches {
            remote: true,
            import: true,
            end_user: true,
        };
        let s = ServerStatuses::derive(&f, t(0), DEFAULT_AGENT_WINDOW);
        assert_eq!(
            s.remote == RemoteStatus::NotApplicable,
            !kind.supports(DataSource::Remote),
            "{kind}"
        );
        assert_eq!(
            s.import == ImportStatus::NotApplicable,
            !kind.supports(DataSource::Import),
            "{kind}"
        );
        assert_eq!(
            s.end_user == EndUserStatus::NotApplicable,
            !kind.supports(DataSource::EndUser),
            "{kind}"
        );
    }
}
