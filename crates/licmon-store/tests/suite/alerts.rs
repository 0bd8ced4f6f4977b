//! The alert role (`AlertStore`) and the Prometheus totals (`MetricsStore`) on every backend.
//! `alerts_backend_tests!(open)` runs each case.

use chrono::Duration;
use licmon_core::alerts::transition::Change;
use licmon_core::alerts::{AlertEvent, AlertRuleInput, AlertState, RuleKind};
use licmon_store::*;

use super::{settings, t};

#[macro_export]
macro_rules! alerts_backend_tests {
    ($open:path) => {
        $crate::alerts_backend_tests!(@cases $open;
            alert_rules_crud_and_conflicts, subscriptions_and_addresses_per_user,
            the_evaluator_lease_is_held_by_one_node_at_a_time,
            changes_fire_once_queue_deliveries_and_resolve,
            deliveries_are_retried_then_given_up, true_denials_and_metric_totals,
            alert_settings_round_trip);
    };
    (@cases $open:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(handle) = $open().await else { return };
                suite::alerts::$case(&handle.store).await;
                handle.finish().await;
            }
        )*
    };
}

fn input(name: &str, kind: RuleKind, webhook: Option<&str>) -> AlertRuleInput {
    AlertRuleInput {
        name: name.into(),
        kind,
        server_id: None,
        enabled: true,
        webhook_url: webhook.map(String::from),
    }
}

async fn user(store: &SqlStore, name: &str) -> UserId {
    store
        .create_user(
            &NewUser {
                name: name.into(),
                password_hash: "x".into(),
                role: Role::User,
                permitted_servers: None,
            },
            t(0),
        )
        .await
        .unwrap()
        .id
}

pub async fn alert_rules_crud_and_conflicts(store: &SqlStore) {
    let server = store
        .create_server(&settings("lic", "1@h"), t(0))
        .await
        .unwrap();
    let mut hot = input(
        "hot 'features'",
        RuleKind::Utilisation {
            percent: 90,
            feature: Some("sölver".into()),
        },
        None,
    );
    hot.server_id = Some(server.id);
    let rule = store.create_alert_rule(&hot, t(1)).await.unwrap();
    assert_eq!(rule.kind, hot.kind);
    assert_eq!(rule.server_id, Some(server.id));
    assert!(rule.enabled);
    assert!(matches!(
        store.create_alert_rule(&hot, t(2)).await,
        Err(StoreError::Conflict(_))
    ));
    let mut missing = input("x", RuleKind::DaemonDown, None);
    missing.server_id = Some(9999);
    assert!(matches!(
        store.create_alert_rule(&missing, t(2)).await,
        Err(StoreError::NotFound)
    ));
    let mut changed = hot.clone();
    changed.kind = RuleKind::ServerOffline { minutes: 5 };
    changed.enabled = false;
    changed.webhook_url = Some("http://127.0.0.1:9/hook".into());
    let updated = store
        .update_alert_rule(rule.id, &changed, t(3))
        .await
        .unwrap();
    assert_eq!(updated.kind, RuleKind::ServerOffline { minutes: 5 });
    assert!(!updated.enabled);
    assert_eq!(updated.updated_at, t(3));
    assert_eq!(store.get_alert_rule(rule.id).await.unwrap(), updated);
    assert_eq!(store.list_alert_rules().await.unwrap(), vec![updated]);
    assert!(matches!(
        store.update_alert_rule(4242, &changed, t(3)).await,
        Err(StoreError::NotFound)
    ));
    // Deleting the server deletes its rules.
    store.delete_server(server.id).await.unwrap();
    assert!(store.list_alert_rules().await.unwrap().is_empty());
    let all = store
        .create_alert_rule(&input("cap", RuleKind::Capacity, None), t(4))
        .await
        .unwrap();
    store.delete_alert_rule(all.id).await.unwrap();
    assert!(matches!(
        store.delete_alert_rule(all.id).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn subscriptions_and_addresses_per_user(store: &SqlStore) {
    let ana = user(store, "ana").await;
    let bo = user(store, "bo").await;
    let r1 = store
        .create_alert_rule(&input("r1", RuleKind::DaemonDown, None), t(0))
        .await
        .unwrap();
    let r2 = store
        .create_alert_rule(&input("r2", RuleKind::Capacity, None), t(0))
        .await
        .unwrap();
    assert_eq!(store.alert_email(ana).await.unwrap(), None);
    store
        .set_alert_email(ana, Some("ana@example.org"))
        .await
        .unwrap();
    store
        .set_alert_email(ana, Some("ana@example.com"))
        .await
        .unwrap();
    assert_eq!(
        store.alert_email(ana).await.unwrap().as_deref(),
        Some("ana@example.com")
    );
    for _ in 0..2 {
        store
            .set_alert_subscription(r2.id, ana, true)
            .await
            .unwrap();
    }
    store
        .set_alert_subscription(r1.id, ana, true)
        .await
        .unwrap();
    store.set_alert_subscription(r1.id, bo, true).await.unwrap();
    store
        .set_alert_subscription(r1.id, ana, false)
        .await
        .unwrap();
    assert_eq!(store.alert_subscriptions(ana).await.unwrap(), vec![r2.id]);
    assert_eq!(store.alert_subscriptions(bo).await.unwrap(), vec![r1.id]);
    assert!(matches!(
        store.set_alert_subscription(777, ana, true).await,
        Err(StoreError::NotFound)
    ));
    store.set_alert_email(ana, None).await.unwrap();
    assert_eq!(store.alert_email(ana).await.unwrap(), None);
    store.delete_user(bo).await.unwrap();
    assert!(store.alert_subscriptions(bo).await.unwrap().is_empty());
}

pub async fn the_evaluator_lease_is_held_by_one_node_at_a_time(store: &SqlStore) {
    let ttl = Duration::seconds(90);
    assert!(store.claim_alert_evaluator("a", t(0), ttl).await.unwrap());
    assert!(!store.claim_alert_evaluator("b", t(30), ttl).await.unwrap());
    assert!(store.claim_alert_evaluator("a", t(60), ttl).await.unwrap());
    // a renewed until t(150): b waits; once a stops renewing, b takes over.
    assert!(!store.claim_alert_evaluator("b", t(140), ttl).await.unwrap());
    assert!(store.claim_alert_evaluator("b", t(151), ttl).await.unwrap());
    let err = store.apply_alert_changes("a", &[], t(152)).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    assert_eq!(
        store.apply_alert_changes("b", &[], t(152)).await.unwrap(),
        AppliedChanges::default()
    );
}

pub async fn changes_fire_once_queue_deliveries_and_resolve(store: &SqlStore) {
    let server = store
        .create_server(&settings("lic", "1@h"), t(0))
        .await
        .unwrap();
    let rule = store
        .create_alert_rule(
            &input(
                "offline",
                RuleKind::ServerOffline { minutes: 5 },
                Some("http://127.0.0.1:9/hook"),
            ),
            t(0),
        )
        .await
        .unwrap();
    let ana = user(store, "ana").await;
    let bo = user(store, "bo").await;
    store
        .set_alert_email(ana, Some("ana@example.org"))
        .await
        .unwrap();
    store
        .set_alert_subscription(rule.id, ana, true)
        .await
        .unwrap();
    // Subscribed without an address: nothing to send to.
    store
        .set_alert_subscription(rule.id, bo, true)
        .await
        .unwrap();
    let ttl = Duration::hours(1);
    assert!(store.claim_alert_evaluator("n", t(0), ttl).await.unwrap());

    let start = Change::Start {
        rule_id: rule.id,
        subject: format!("server:{}", server.id),
        server_id: Some(server.id),
        message: "lic: Offline: down".into(),
        firing: false,
    };
    let applied = store
        .apply_alert_changes("n", std::slice::from_ref(&start), t(0))
        .await
        .unwrap();
    assert_eq!(applied, AppliedChanges::default());
    let open = store.open_alerts().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].state, AlertState::Pending);
    assert_eq!(open[0].since, t(0));
    // The database refuses a second open alert for the same rule and subject.
    assert!(
        store
            .apply_alert_changes("n", std::slice::from_ref(&start), t(1))
            .await
            .is_err()
    );
    assert_eq!(store.open_alerts().await.unwrap().len(), 1);

    let id = open[0].id;
    let fired = store
        .apply_alert_changes(
            "n",
            &[Change::Fire {
                id,
                message: "lic: Offline: still down".into(),
            }],
            t(300),
        )
        .await
        .unwrap();
    assert_eq!((fired.fired, fired.deliveries), (1, 2));
    let due = store.due_deliveries(t(300), 10).await.unwrap();
    let targets: Vec<(&str, &str, AlertEvent)> = due
        .iter()
        .map(|d| (d.channel.as_str(), d.target.as_str(), d.event))
        .collect();
    assert_eq!(
        targets,
        vec![
            ("webhook", "http://127.0.0.1:9/hook", AlertEvent::Firing),
            ("email", "ana@example.org", AlertEvent::Firing)
        ]
    );
    assert_eq!(due[0].alert.message, "lic: Offline: still down");
    assert_eq!(due[0].alert.rule_name, "offline");
    assert_eq!(due[0].alert.fired_at, Some(t(300)));
    for d in &due {
        store
            .finish_delivery(d.id, t(301), None, None)
            .await
            .unwrap();
    }
    assert!(store.due_deliveries(t(400), 10).await.unwrap().is_empty());

    let resolved = store
        .apply_alert_changes("n", &[Change::Resolve { id }], t(500))
        .await
        .unwrap();
    assert_eq!((resolved.resolved, resolved.deliveries), (1, 2));
    assert!(store.open_alerts().await.unwrap().is_empty());
    let events: Vec<AlertEvent> = store
        .alert_deliveries(id)
        .await
        .unwrap()
        .iter()
        .map(|d| d.event)
        .collect();
    assert_eq!(
        events,
        vec![
            AlertEvent::Firing,
            AlertEvent::Firing,
            AlertEvent::Resolved,
            AlertEvent::Resolved
        ]
    );
    let listed = store.alerts(t(0), 50).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, AlertState::Resolved);
    assert_eq!(listed[0].resolved_at, Some(t(500)));
    assert!(store.alerts(t(501), 50).await.unwrap().is_empty());
    // The same subject may open again after it resolved; a cancelled pending one leaves nothing.
    store
        .apply_alert_changes("n", std::slice::from_ref(&start), t(600))
        .await
        .unwrap();
    let again = store.open_alerts().await.unwrap();
    store
        .apply_alert_changes("n", &[Change::Cancel { id: again[0].id }], t(601))
        .await
        .unwrap();
    assert!(store.open_alerts().await.unwrap().is_empty());
    assert_eq!(store.alerts(t(0), 50).await.unwrap().len(), 1);
}

pub async fn deliveries_are_retried_then_given_up(store: &SqlStore) {
    let rule = store
        .create_alert_rule(
            &input("cap", RuleKind::Capacity, Some("https://hooks.example/x")),
            t(0),
        )
        .await
        .unwrap();
    assert!(
        store
            .claim_alert_evaluator("n", t(0), Duration::minutes(1))
            .await
            .unwrap()
    );
    let start = Change::Start {
        rule_id: rule.id,
        subject: "capacity".into(),
        server_id: None,
        message: "9 of 10".into(),
        firing: true,
    };
    let applied = store
        .apply_alert_changes("n", &[start], t(0))
        .await
        .unwrap();
    assert_eq!((applied.fired, applied.deliveries), (1, 1));
    let d = store.due_deliveries(t(0), 10).await.unwrap().remove(0);
    store
        .finish_delivery(d.id, t(1), Some("connection refused"), Some(t(61)))
        .await
        .unwrap();
    assert!(store.due_deliveries(t(60), 10).await.unwrap().is_empty());
    let retry = store.due_deliveries(t(61), 10).await.unwrap().remove(0);
    assert_eq!(retry.attempts, 1);
    assert_eq!(retry.last_error.as_deref(), Some("connection refused"));
    store
        .finish_delivery(d.id, t(62), Some("HTTP 500"), None)
        .await
        .unwrap();
    assert!(
        store
            .due_deliveries(t(10_000), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let kept = store.alert_deliveries(retry.alert.id).await.unwrap();
    assert_eq!(kept[0].gave_up_at, Some(t(62)));
    assert_eq!(kept[0].attempts, 2);
    assert_eq!(kept[0].sent_at, None);
}

pub async fn true_denials_and_metric_totals(store: &SqlStore) {
    let server = store
        .create_server(&settings("imp", "1@h"), t(0))
        .await
        .unwrap();
    let denial = |at: i64, retry: bool, count: u64| NewDenial {
        at: t(at),
        feature: "CAD".into(),
        user: "ana".into(),
        host: "pc".into(),
        count,
        reason: None,
        retry,
    };
    let batch = ImportBatch {
        server_id: server.id,
        generation: 0,
        now: t(4000),
        last_event_at: Some(t(4000)),
        checkpoint: CheckpointWrite {
            id: None,
            format: "flexnet-debuglog".into(),
            file_name: "lmgrd.log".into(),
            head_len: 10,
            head_hash: "h".into(),
            byte_offset: 10,
            line_no: 1,
            parser_state: serde_json::json!({}),
            totals: serde_json::json!({}),
        },
        closed_sessions: Vec::new(),
        open_sessions: Vec::new(),
        session_ends: Vec::new(),
        denials: vec![
            denial(0, false, 1),
            denial(3000, false, 2),
            denial(3500, true, 1),
            denial(3600, false, 1),
        ],
        pending_denials: Vec::new(),
        retried_denials: Vec::new(),
    };
    store.commit_import_batch(&batch).await.unwrap();
    assert_eq!(
        store.true_denials_since(t(3000)).await.unwrap(),
        vec![(server.id, 3)]
    );
    let totals = store.denial_totals().await.unwrap();
    assert_eq!(
        totals,
        vec![
            DenialTotal {
                server_id: server.id,
                retry: false,
                denials: 3
            },
            DenialTotal {
                server_id: server.id,
                retry: true,
                denials: 1
            }
        ]
    );
    for outcome in ["success", "failure", "success"] {
        store
            .record_import_run(&ImportRecord {
                id: 0,
                server_id: server.id,
                file_name: "lmgrd.log".into(),
                format: "flexnet-debuglog".into(),
                via: "cli".into(),
                started_at: t(1),
                finished_at: t(2),
                outcome: outcome.into(),
                reason: None,
                summary: serde_json::json!({}),
            })
            .await
            .unwrap();
    }
    let imports = store.import_totals().await.unwrap();
    let runs: Vec<(&str, u64)> = imports
        .iter()
        .map(|i| (i.outcome.as_str(), i.runs))
        .collect();
    assert_eq!(runs, vec![("failure", 1), ("success", 2)]);
}

pub async fn alert_settings_round_trip(store: &SqlStore) {
    assert_eq!(store.alert_setting("smtp").await.unwrap(), None);
    let v = serde_json::json!({"host": "mail", "port": 587, "password": "p\"w'"});
    store.set_alert_setting("smtp", &v).await.unwrap();
    store.set_alert_setting("smtp", &v).await.unwrap();
    assert_eq!(store.alert_setting("smtp").await.unwrap(), Some(v));
}
