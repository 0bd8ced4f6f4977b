//! The evaluator against a real SQLite store, a real SMTP receiver and a real webhook receiver,
//! with controlled time: an alert fires once, stays quiet, resolves once; failed deliveries
//! are retried; a second node does not evaluate while the first holds the lease.

mod receivers;

use chrono::{DateTime, Duration, TimeZone, Utc};
use licmon_alert::{EvaluatorConfig, SmtpSecurity, SmtpSettings, round};
use licmon_core::alerts::{AlertRuleInput, AlertState, RuleKind};
use licmon_core::server::LicenseServerInput;
use licmon_core::snapshot::Snapshot;
use licmon_store::*;
use receivers::{HttpReceiver, SmtpReceiver};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap() + Duration::seconds(secs)
}

fn config(node: &str) -> EvaluatorConfig {
    EvaluatorConfig {
        node_id: node.into(),
        every: std::time::Duration::from_secs(30),
        status: StatusSettings::default(),
    }
}

async fn beat(store: &SqlStore, at: DateTime<Utc>) {
    store
        .heartbeat(&NodeHeartbeat {
            node_id: "n1".into(),
            host: "h".into(),
            started_at: t(0),
            heartbeat_at: at,
            collector_running: true,
        })
        .await
        .unwrap();
}

fn empty_snapshot(at: DateTime<Utc>) -> Snapshot {
    Snapshot {
        taken_at: at,
        nodes: Vec::new(),
        daemons: Vec::new(),
        features: Vec::new(),
        checkouts: Vec::new(),
    }
}

struct Site {
    store: SqlStore,
    _dir: tempfile::TempDir,
    server: licmon_core::ServerId,
    smtp: SmtpReceiver,
    hooks: HttpReceiver,
}

async fn site(offline_minutes: u32) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open(&DatabaseUrl::sqlite_in(dir.path()))
        .await
        .unwrap();
    let settings = LicenseServerInput {
        name: "ansys".into(),
        kind: "flexnet".into(),
        address: Some("1055@lic1".into()),
        time_zone: Some("UTC".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let server = store.create_server(&settings, t(0)).await.unwrap().id;
    let smtp = SmtpReceiver::start();
    let hooks = HttpReceiver::start();
    store
        .set_alert_setting(
            "smtp",
            &serde_json::to_value(SmtpSettings {
                host: "127.0.0.1".into(),
                port: smtp.addr.port(),
                security: SmtpSecurity::None,
                username: None,
                password: None,
                from: "licmon <licmon@example.org>".into(),
            })
            .unwrap(),
        )
        .await
        .unwrap();
    let rule = store
        .create_alert_rule(
            &AlertRuleInput {
                name: "ansys offline".into(),
                kind: RuleKind::ServerOffline {
                    minutes: offline_minutes,
                },
                server_id: Some(server),
                enabled: true,
                webhook_url: Some(hooks.url("/hook")),
            },
            t(0),
        )
        .await
        .unwrap();
    let ana = store
        .create_user(
            &NewUser {
                name: "ana".into(),
                password_hash: "x".into(),
                role: Role::User,
                permitted_servers: None,
            },
            t(0),
        )
        .await
        .unwrap()
        .id;
    store
        .set_alert_email(ana, Some("ana@example.org"))
        .await
        .unwrap();
    store
        .set_alert_subscription(rule.id, ana, true)
        .await
        .unwrap();
    Site {
        store,
        _dir: dir,
        server,
        smtp,
        hooks,
    }
}

#[tokio::test]
async fn offline_fires_once_after_its_minutes_and_resolves_once() {
    let s = site(5).await;
    let c = config("n1");
    beat(&s.store, t(10)).await;
    s.store
        .record_poll_failure(s.server, t(10), "connection refused")
        .await
        .unwrap();
    let r = round(&s.store, &c, t(10)).await.unwrap();
    assert!(r.evaluated);
    assert_eq!((r.applied.fired, r.sent), (0, 0), "pending first");
    for at in [60, 200, 309] {
        beat(&s.store, t(at)).await;
        let r = round(&s.store, &c, t(at)).await.unwrap();
        assert_eq!(r.applied.fired, 0, "still pending at {at}");
    }
    beat(&s.store, t(310)).await;
    let r = round(&s.store, &c, t(310)).await.unwrap();
    assert_eq!((r.applied.fired, r.sent, r.failed), (1, 2, 0));
    // Still Offline: nothing repeats.
    for at in [340, 370, 1000] {
        beat(&s.store, t(at)).await;
        let r = round(&s.store, &c, t(at)).await.unwrap();
        assert_eq!((r.applied.fired, r.sent), (0, 0));
    }
    s.store
        .record_poll_success(s.server, &empty_snapshot(t(1010)))
        .await
        .unwrap();
    beat(&s.store, t(1020)).await;
    let r = round(&s.store, &c, t(1020)).await.unwrap();
    assert_eq!((r.applied.resolved, r.sent), (1, 2));
    let r = round(&s.store, &c, t(1050)).await.unwrap();
    assert_eq!((r.applied, r.sent), (AppliedChanges::default(), 0));

    let hooks = s.hooks.hooks();
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    let events: Vec<serde_json::Value> = hooks
        .iter()
        .map(|h| serde_json::from_str(&h.body).unwrap())
        .collect();
    assert_eq!(hooks[0].method, "POST");
    assert_eq!(hooks[0].path, "/hook");
    assert_eq!(hooks[0].content_type, "application/json");
    assert_eq!(events[0]["event"], "firing");
    assert_eq!(events[0]["rule"], "ansys offline");
    assert_eq!(events[0]["server_id"], s.server);
    assert!(
        events[0]["message"]
            .as_str()
            .unwrap()
            .contains("ansys: Offline: connection refused")
    );
    assert_eq!(events[1]["event"], "resolved");
    assert_eq!(events[0]["alert_id"], events[1]["alert_id"]);

    let mails = s.smtp.mails();
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert_eq!(mails[0].from, "licmon@example.org");
    assert_eq!(mails[0].to, vec!["ana@example.org".to_string()]);
    assert!(
        mails[0]
            .data
            .contains("Subject: [licmon] FIRING: ansys: Offline")
    );
    assert!(
        mails[1]
            .data
            .contains("Subject: [licmon] RESOLVED: ansys: Offline")
    );
    let listed = s.store.alerts(t(0), 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, AlertState::Resolved);
    assert_eq!(listed[0].fired_at, Some(t(310)));
    assert_eq!(listed[0].resolved_at, Some(t(1020)));
}

#[tokio::test]
async fn failed_deliveries_are_retried_and_a_second_node_stays_out() {
    let s = site(0).await;
    *s.hooks.status.lock().unwrap() = 503;
    beat(&s.store, t(10)).await;
    s.store
        .record_poll_failure(s.server, t(10), "down")
        .await
        .unwrap();
    let r = round(&s.store, &config("n1"), t(10)).await.unwrap();
    assert_eq!((r.applied.fired, r.sent, r.failed), (1, 1, 1));
    // Another node sees the lease held and does nothing.
    let other = round(&s.store, &config("n2"), t(20)).await.unwrap();
    assert!(!other.evaluated);
    // Not yet due again at +29 s; retried at +30 s and then delivered.
    *s.hooks.status.lock().unwrap() = 200;
    let r = round(&s.store, &config("n1"), t(39)).await.unwrap();
    assert_eq!((r.sent, r.failed), (0, 0));
    let r = round(&s.store, &config("n1"), t(40)).await.unwrap();
    assert_eq!((r.sent, r.failed), (1, 0));
    let hooks = s.hooks.hooks();
    assert_eq!(hooks.len(), 2, "one refused, one accepted");
    assert_eq!(hooks[0].body, hooks[1].body);
    assert_eq!(s.smtp.mails().len(), 1);
}
