use chrono::{Duration, NaiveDate, TimeZone, Utc};

use super::eval::{AlertFacts, ServerAlertFacts, conditions};
use super::transition::{Change, OpenAlert, transitions};
use super::*;
use crate::capacity::CapacityUsage;
use crate::snapshot::{DaemonState, FeatureUsage, NodeState, PoolState, Snapshot};

fn t(mins: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::minutes(mins)
}

fn rule(kind: RuleKind) -> AlertRule {
    AlertRule {
        id: 1,
        name: "r".into(),
        kind,
        server_id: None,
        enabled: true,
        webhook_url: None,
        created_at: t(0),
        updated_at: t(0),
    }
}

fn feature(name: &str, issued: Option<u64>, in_use: u64) -> FeatureUsage {
    FeatureUsage {
        denied_total: None,
        name: name.into(),
        vendor: None,
        issued,
        in_use,
        reserved: 0,
        borrowed: 0,
        queued: 0,
        uncounted: false,
        pools: Vec::new(),
    }
}

fn snapshot(features: Vec<FeatureUsage>) -> Snapshot {
    Snapshot {
        taken_at: t(0),
        nodes: Vec::new(),
        daemons: Vec::new(),
        features,
        checkouts: Vec::new(),
    }
}

fn server(id: ServerId) -> ServerAlertFacts {
    ServerAlertFacts {
        id,
        name: format!("lic{id}"),
        created_at: t(-600),
        remote: RemoteStatus::Online,
        import: ImportStatus::Ready,
        expects_data: true,
        last_update: Some(t(0)),
        snapshot: Some(snapshot(Vec::new())),
        true_denials_last_hour: 0,
    }
}

use crate::{ImportStatus, RemoteStatus, ServerId};

fn facts(servers: Vec<ServerAlertFacts>) -> AlertFacts {
    AlertFacts {
        servers,
        capacity: None,
    }
}

fn subjects(rule: &AlertRule, facts: &AlertFacts, now: DateTime<Utc>) -> Vec<String> {
    conditions(rule, facts, now)
        .into_iter()
        .map(|c| c.subject)
        .collect()
}

#[test]
fn offline_holds_for_the_rules_minutes_before_firing() {
    let r = rule(RuleKind::ServerOffline { minutes: 5 });
    let mut s = server(3);
    assert!(conditions(&r, &facts(vec![s.clone()]), t(0)).is_empty());
    s.remote = RemoteStatus::Offline {
        reason: "connection refused".into(),
    };
    let found = conditions(&r, &facts(vec![s]), t(0));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].subject, "server:3");
    assert_eq!(found[0].hold, Duration::minutes(5));
    assert!(
        found[0]
            .message
            .contains("lic3: Offline: connection refused")
    );

    // Pending first; fires once 5 minutes have passed; nothing repeats; resolves once.
    let holding = vec![(1, found.clone())];
    let start = transitions(&holding, &[], t(0));
    assert!(matches!(&start[..], [Change::Start { firing: false, .. }]));
    let mut open = OpenAlert {
        id: 10,
        rule_id: 1,
        subject: "server:3".into(),
        state: AlertState::Pending,
        since: t(0),
        message: found[0].message.clone(),
    };
    assert!(transitions(&holding, &[open.clone()], t(4)).is_empty());
    assert!(matches!(
        &transitions(&holding, &[open.clone()], t(5))[..],
        [Change::Fire { id: 10, .. }]
    ));
    open.state = AlertState::Firing;
    assert!(transitions(&holding, &[open.clone()], t(60)).is_empty());
    assert_eq!(
        transitions(&[(1, Vec::new())], &[open.clone()], t(61)),
        vec![Change::Resolve { id: 10 }]
    );
    // A pending alert whose server came back is cancelled without a word.
    open.state = AlertState::Pending;
    assert_eq!(
        transitions(&[(1, Vec::new())], &[open], t(2)),
        vec![Change::Cancel { id: 10 }]
    );
}

#[test]
fn a_zero_hold_fires_at_once_and_deleted_rules_resolve() {
    let r = rule(RuleKind::ServerOffline { minutes: 0 });
    let mut s = server(1);
    s.remote = RemoteStatus::Offline {
        reason: "down".into(),
    };
    let holding = vec![(1, conditions(&r, &facts(vec![s]), t(0)))];
    assert!(matches!(
        &transitions(&holding, &[], t(0))[..],
        [Change::Start { firing: true, .. }]
    ));
    let open = OpenAlert {
        id: 4,
        rule_id: 99,
        subject: "server:1".into(),
        state: AlertState::Firing,
        since: t(0),
        message: "m".into(),
    };
    assert!(transitions(&holding, &[open], t(1)).contains(&Change::Resolve { id: 4 }));
}

#[test]
fn daemon_and_triad_members_down_only_from_an_online_server() {
    let r = rule(RuleKind::DaemonDown);
    let mut s = server(2);
    let mut snap = snapshot(Vec::new());
    snap.nodes = vec![
        NodeState {
            host: "a".into(),
            port: Some(27000),
            up: true,
            master: true,
            version: None,
            error: None,
        },
        NodeState {
            host: "c".into(),
            port: Some(27000),
            up: false,
            master: false,
            version: None,
            error: Some("Cannot connect".into()),
        },
    ];
    snap.daemons = vec![DaemonState {
        denied_total: None,
        name: "ansyslmd".into(),
        up: false,
        version: None,
        error: None,
    }];
    s.snapshot = Some(snap);
    assert_eq!(
        subjects(&r, &facts(vec![s.clone()]), t(0)),
        vec!["server:2/node:27000@c", "server:2/daemon:ansyslmd"]
    );
    s.remote = RemoteStatus::Offline { reason: "x".into() };
    assert!(subjects(&r, &facts(vec![s]), t(0)).is_empty());
}

#[test]
fn utilisation_per_feature_or_all_skips_uncounted() {
    let mut s = server(1);
    let mut free = feature("free", None, 50);
    free.uncounted = true;
    s.snapshot = Some(snapshot(vec![
        feature("solver", Some(10), 9),
        feature("pre", Some(10), 8),
        feature("zero", Some(0), 0),
        free,
    ]));
    let all = rule(RuleKind::Utilisation {
        percent: 90,
        feature: None,
    });
    assert_eq!(
        subjects(&all, &facts(vec![s.clone()]), t(0)),
        vec!["server:1/feature:solver"]
    );
    let pre = rule(RuleKind::Utilisation {
        percent: 80,
        feature: Some("pre".into()),
    });
    let found = conditions(&pre, &facts(vec![s.clone()]), t(0));
    assert_eq!(found[0].subject, "server:1/feature:pre");
    assert!(
        found[0].message.contains("8 of 10 in use"),
        "{}",
        found[0].message
    );
    // A rule for another server sees nothing here.
    let mut other = all.clone();
    other.server_id = Some(2);
    assert!(subjects(&other, &facts(vec![s]), t(0)).is_empty());
}

#[test]
fn expiring_within_days_never_permanent() {
    let mut s = server(1);
    let mut f = feature("solver", Some(5), 0);
    let pool = |y, m, d, permanent| PoolState {
        version: None,
        expires: NaiveDate::from_ymd_opt(y, m, d),
        permanent,
        issued: Some(1),
    };
    f.pools = vec![
        pool(2026, 3, 10, false),
        pool(2026, 5, 1, false),
        pool(2026, 3, 2, true),
    ];
    s.snapshot = Some(snapshot(vec![f]));
    let r = rule(RuleKind::Expiring { days: 14 });
    let found = conditions(&r, &facts(vec![s.clone()]), t(0));
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].subject,
        "server:1/feature:solver/expires:2026-03-10"
    );
    assert!(found[0].message.contains("in 9 days"));
    // Later the May pool comes within 14 days too.
    assert_eq!(conditions(&r, &facts(vec![s]), t(60 * 24 * 60)).len(), 2);
}

#[test]
fn true_denials_above_the_hourly_limit() {
    let r = rule(RuleKind::Denials { per_hour: 3 });
    let mut s = server(1);
    s.true_denials_last_hour = 3;
    assert!(conditions(&r, &facts(vec![s.clone()]), t(0)).is_empty());
    s.true_denials_last_hour = 4;
    assert_eq!(subjects(&r, &facts(vec![s]), t(0)), vec!["server:1"]);
}

#[test]
fn a_failed_import_until_the_next_success() {
    let r = rule(RuleKind::ImportFailed);
    let mut s = server(1);
    s.import = ImportStatus::Failure {
        reason: "debug.log line 7: bad".into(),
    };
    let found = conditions(&r, &facts(vec![s.clone()]), t(0));
    assert!(found[0].message.contains("line 7"));
    s.import = ImportStatus::Success {
        at: t(1),
        events: 1,
        sessions: 1,
        denials: 0,
    };
    assert!(conditions(&r, &facts(vec![s]), t(1)).is_empty());
}

#[test]
fn no_data_for_minutes_only_where_data_is_expected() {
    let r = rule(RuleKind::NoData { minutes: 30 });
    let mut s = server(1);
    s.last_update = Some(t(0));
    assert!(conditions(&r, &facts(vec![s.clone()]), t(29)).is_empty());
    assert_eq!(
        subjects(&r, &facts(vec![s.clone()]), t(30)),
        vec!["server:1"]
    );
    // Never any data: counted from creation.
    s.last_update = None;
    s.created_at = t(0);
    assert!(conditions(&r, &facts(vec![s.clone()]), t(10)).is_empty());
    assert!(!conditions(&r, &facts(vec![s.clone()]), t(31)).is_empty());
    s.expects_data = false;
    assert!(conditions(&r, &facts(vec![s]), t(100)).is_empty());
}

#[test]
fn capacity_from_ninety_percent() {
    let r = rule(RuleKind::Capacity);
    let mut f = facts(Vec::new());
    f.capacity = Some(CapacityUsage {
        used: 8,
        limit: Some(10),
    });
    assert!(conditions(&r, &f, t(0)).is_empty());
    f.capacity = Some(CapacityUsage {
        used: 9,
        limit: Some(10),
    });
    assert_eq!(subjects(&r, &f, t(0)), vec!["capacity"]);
    f.capacity = Some(CapacityUsage {
        used: 9,
        limit: None,
    });
    assert!(conditions(&r, &f, t(0)).is_empty());
}

#[test]
fn disabled_rules_see_nothing_and_messages_follow_silently() {
    let mut r = rule(RuleKind::Denials { per_hour: 0 });
    let mut s = server(1);
    s.true_denials_last_hour = 2;
    let holding = vec![(1, conditions(&r, &facts(vec![s.clone()]), t(0)))];
    let open = OpenAlert {
        id: 1,
        rule_id: 1,
        subject: "server:1".into(),
        state: AlertState::Firing,
        since: t(0),
        message: "old numbers".into(),
    };
    assert!(matches!(
        &transitions(&holding, std::slice::from_ref(&open), t(1))[..],
        [Change::Update { id: 1, .. }]
    ));
    r.enabled = false;
    assert!(conditions(&r, &facts(vec![s]), t(0)).is_empty());
}

#[test]
fn inputs_are_validated_and_kinds_round_trip_as_json() {
    let input: AlertRuleInput = serde_json::from_str(
        r#"{"name": " hot ", "kind": "utilisation", "percent": 90, "webhook_url": ""}"#,
    )
    .unwrap();
    let ok = input.validate().unwrap();
    assert_eq!(ok.name, "hot");
    assert_eq!(ok.webhook_url, None);
    assert!(ok.enabled);
    let bad = AlertRuleInput {
        name: "".into(),
        kind: RuleKind::Utilisation {
            percent: 0,
            feature: None,
        },
        server_id: None,
        enabled: true,
        webhook_url: Some("ftp://x".into()),
    }
    .validate()
    .unwrap_err();
    assert!(bad.for_field("name").is_some());
    assert!(bad.for_field("threshold").is_some());
    assert!(bad.for_field("webhook_url").is_some());
    for id in RuleKind::IDS {
        let kind = RuleKind::from_parts(id, Some(5), None).unwrap();
        assert_eq!(kind.id(), id);
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(serde_json::from_str::<RuleKind>(&json).unwrap(), kind);
    }
    assert!(RuleKind::from_parts("server_offline", None, None).is_err());
    assert!(RuleKind::from_parts("nope", Some(1), None).is_err());
}
