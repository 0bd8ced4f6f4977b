//! The feature usage report over HTTP: exact rows from real polls, the range and server
//! filters, permissions, CSV, the Reports page with its form errors; change points; and what
//! agents report in use now.

mod auth_harness;

use auth_harness::start;
use chrono::{DateTime, TimeZone, Utc};
use licmon_core::server::LicenseServerInput;
use licmon_core::snapshot::{Checkout, FeatureUsage, Snapshot};
use licmon_store::{MonitorStore, Role, ServerStore, TokenScope};
use serde_json::{Value, json};

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0).unwrap()
}

fn checkout(user: &str) -> Checkout {
    Checkout {
        feature: "solver".into(),
        user: user.into(),
        host: format!("{user}-pc"),
        display: None,
        count: 1,
        version: None,
        start: Some(at(9, 55)),
        borrowed: false,
        queued: false,
        handle: None,
        ip: None,
        borrow_expires: None,
    }
}

/// `users` hold one seat each of `solver` (2 issued); `denied_total` is the utility's count.
fn snapshot(taken_at: DateTime<Utc>, users: &[&str], denied_total: Option<u64>) -> Snapshot {
    Snapshot {
        taken_at,
        nodes: vec![],
        daemons: vec![],
        features: vec![FeatureUsage {
            name: "solver".into(),
            vendor: None,
            issued: Some(2),
            in_use: users.len() as u64,
            reserved: 0,
            borrowed: 0,
            queued: 0,
            uncounted: false,
            pools: vec![],
            denied_total,
        }],
        checkouts: users.iter().map(|u| checkout(u)).collect(),
    }
}

fn input(name: &str, kind: &str, address: &str) -> licmon_core::server::ServerSettings {
    LicenseServerInput {
        name: name.into(),
        kind: kind.into(),
        address: Some(address.into()),
        time_zone: Some("UTC".into()),
        ..Default::default()
    }
    .validate()
    .unwrap()
}

/// Both of ansys's seats in use at 10:00, then bo leaves; ana stays past 12:00. The 11:10
/// poll changes nothing.
async fn poll_ansys(store: &licmon_store::SqlStore, id: i64) {
    let polls: [(DateTime<Utc>, &[&str]); 3] = [
        (at(10, 0), &["ana", "bo"]),
        (at(10, 30), &["ana"]),
        (at(11, 10), &["ana"]),
    ];
    for (time, users) in polls {
        store
            .record_poll_success(id, &snapshot(time, users, None))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_feature_usage_report_from_real_polls() {
    let s = start().await;
    let admin = s.user("admin", Role::Administrator, None).await;
    let (token, _) = s.token(&admin, TokenScope::Api).await;
    let ansys = s
        .store
        .create_server(&input("ansys", "flexnet", "1055@lic1"), at(0, 0))
        .await
        .unwrap();
    let lmx = s
        .store
        .create_server(&input("altair", "lmx", "6200@lmx1"), at(0, 0))
        .await
        .unwrap();
    poll_ansys(&s.store, ansys.id).await;
    // altair: its utility counts refused requests, 4 then 7: 3 denials at 11:00.
    for (time, count) in [(at(10, 0), 4), (at(11, 0), 7)] {
        let snap = snapshot(time, &[], Some(count));
        s.store.record_poll_success(lmx.id, &snap).await.unwrap();
    }
    let get = |path: String| {
        let token = token.clone();
        let s = &s;
        async move { s.with_token(&token, "GET", &path, None).await }
    };
    let range = "from=2026-03-02T10:00:00Z&to=2026-03-02T12:00:00Z";
    let r = get(format!("/api/v1/reports/feature-usage?{range}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rows: Value = r.json();
    // Servers by name: altair first. Its seats were never in use in the range.
    assert_eq!(
        rows,
        json!([
            {"server_id": lmx.id, "server": "altair", "feature": "solver", "issued": 2,
             "peak_in_use": 0, "average_in_use": 0.0, "peak_percent": 0.0, "average_percent": 0.0,
             "never_used_seats": 2, "at_capacity": 0, "covered": 2, "bucket": "hour",
             "sessions": 0, "users": 0, "license_hours": 0.0, "denials": 3, "true_denials": 3},
            // 10:00–11:00: polls with 2 and 1 in use (average 1.5, full once); 11:00–12:00:
            // one poll with 1. Sessions: ana 2 h in the range, bo until the 10:30 poll.
            {"server_id": ansys.id, "server": "ansys", "feature": "solver", "issued": 2,
             "peak_in_use": 2, "average_in_use": 1.25, "peak_percent": 100.0,
             "average_percent": 62.5, "never_used_seats": 0, "at_capacity": 1, "covered": 2,
             "bucket": "hour", "sessions": 2, "users": 2, "license_hours": 2.5, "denials": 0,
             "true_denials": 0}
        ])
    );
    // One server; a later range without polls or denials has ana's open session only.
    let r = get(format!(
        "/api/v1/reports/feature-usage?server_id={}&from=2026-03-02T12:00:00Z&to=2026-03-02T13:00:00Z",
        ansys.id
    ))
    .await;
    let rows: Value = r.json();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(
        (
            &rows[0]["server"],
            &rows[0]["covered"],
            &rows[0]["license_hours"],
            &rows[0]["issued"]
        ),
        (&json!("ansys"), &json!(0), &json!(1.0), &Value::Null)
    );
    // Bad input says what is wrong.
    let r = get("/api/v1/reports/feature-usage?server_id=999".into()).await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (404, Some("no license server with id 999"))
    );
    let r = get(
        "/api/v1/reports/feature-usage?from=2026-03-02T12:00:00Z&to=2026-03-02T12:00:00Z".into(),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("`from` must be before `to`"))
    );
    // CSV: the same rows.
    let r = get(format!("/api/v1/reports/feature-usage?{range}&format=csv")).await;
    let mut lines = r.body.lines();
    assert_eq!(
        lines.next(),
        Some(
            "at_capacity,average_in_use,average_percent,bucket,covered,denials,feature,issued,license_hours,never_used_seats,peak_in_use,peak_percent,server,server_id,sessions,true_denials,users"
        )
    );
    assert_eq!(lines.count(), 2);

    // A user permitted one server sees only that server's rows.
    let limited = s.user("limited", Role::User, Some(vec![ansys.id])).await;
    let (limited_token, _) = s.token(&limited, TokenScope::Api).await;
    let r = s
        .with_token(
            &limited_token,
            "GET",
            &format!("/api/v1/reports/feature-usage?{range}"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let servers: Vec<Value> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["server"].clone())
        .collect();
    assert_eq!(servers, [json!("ansys")]);
    let r = s
        .with_token(
            &limited_token,
            "GET",
            &format!("/api/v1/reports/feature-usage?server_id={}", lmx.id),
            None,
        )
        .await;
    assert_eq!(
        r.status, 404,
        "another server is as good as absent: {}",
        r.body
    );

    // The page: the same report over UTC days, and a form error named.
    let browser = s
        .login("admin", &auth_harness::TestServer::password("admin"))
        .await
        .unwrap();
    let page = s
        .get(
            "/reports?from=2026-03-02&to=2026-03-02",
            &[("Cookie", &browser.cookie)],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("<td><a href=\"/servers/"),
        "{}",
        page.body
    );
    assert!(page.body.contains("At capacity (hours)"));
    assert!(
        page.body
            .contains("from=2026-03-02T00:00:00Z&#38;to=2026-03-03T00:00:00Z"),
        "{}",
        page.body
    );
    let bad = s
        .get(
            "/reports?from=2026-13-01&to=2026-03-02",
            &[("Cookie", &browser.cookie)],
        )
        .await;
    assert_eq!(bad.status, 200);
    assert!(
        bad.body.contains("From: &#34;2026-13-01&#34; is not a date (YYYY-MM-DD); showing the last 30 days instead."),
        "{}",
        bad.body
    );
    s.stop().await;
}

#[tokio::test]
async fn change_points_are_the_finest_history() {
    let s = start().await;
    let token = s.admin_token().await;
    let ansys = s
        .store
        .create_server(&input("ansys", "flexnet", "1055@lic1"), at(0, 0))
        .await
        .unwrap();
    poll_ansys(&s.store, ansys.id).await;
    let path = |query: &str| format!("/api/v1/license-servers/{}/usage-changes?{query}", ansys.id);
    let r = s
        .with_token(
            &token,
            "GET",
            &path("from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z&feature=solver"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The 11:10 poll changed nothing: no point.
    let change = |time: &str, in_use: u64| {
        json!({"feature": "solver", "at": time, "issued": 2, "in_use": in_use,
               "reserved": 0, "borrowed": 0, "queued": 0})
    };
    assert_eq!(
        r.json(),
        json!([
            change("2026-03-02T10:00:00Z", 2),
            change("2026-03-02T10:30:00Z", 1)
        ])
    );
    let r = s
        .with_token(
            &token,
            "GET",
            &path("from=2026-01-01T00:00:00Z&to=2026-03-03T00:00:00Z"),
            None,
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["error"],
        "at most 31 days of change points at once; usage-history covers longer ranges"
    );
    let r = s
        .with_token(
            &token,
            "GET",
            "/api/v1/license-servers/999/usage-changes",
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    s.stop().await;
}

/// What agents report in use now for a FlexNet server, over the API and on the Agents tab.
#[tokio::test]
async fn agents_in_use_now_longest_idle_first() {
    use licmon_store::{
        AgentAppUsage, AgentIdentity, AgentReportBatch, AgentServerReport, AgentStore,
    };
    let s = start().await;
    let token = s.admin_token().await;
    let mut settings = input("ansys", "flexnet", "1055@lic1");
    settings.data_sources.end_user = true;
    let ansys = s.store.create_server(&settings, at(0, 0)).await.unwrap();
    let now = Utc::now();
    let report = |agent: &str, user: &str, idle_secs: u64| AgentReportBatch {
        agent: AgentIdentity {
            agent_id: agent.into(),
            host: format!("{agent}.example.org"),
            user: "root".into(),
            version: "0.1.0".into(),
            token_id: None,
        },
        received_at: now,
        error: None,
        reports: vec![AgentServerReport {
            server_id: ansys.id,
            mark_remote_sessions: true,
            apps: vec![AgentAppUsage {
                feature: "solver".into(),
                executable: "fluent".into(),
                user: user.into(),
                instances: 1,
                started_at: now - chrono::Duration::hours(2),
                idle_secs,
            }],
        }],
    };
    let reports = [report("ws-1", "ana", 30), report("ws-2", "bo", 4000)];
    s.store.record_agent_reports(&reports).await.unwrap();
    let path = format!("/api/v1/license-servers/{}/agent-usage", ansys.id);
    let r = s.with_token(&token, "GET", &path, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = r.json();
    let got: Vec<(Value, Value, Value, Value)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["user"].clone(),
                r["host"].clone(),
                r["executable"].clone(),
                r["idle_secs"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                json!("bo"),
                json!("ws-2.example.org"),
                json!("fluent"),
                json!(4000)
            ),
            (
                json!("ana"),
                json!("ws-1.example.org"),
                json!("fluent"),
                json!(30)
            ),
        ]
    );
    let page = s
        .get(
            &format!("/servers/{}", ansys.id),
            &[("X-Auth-Token", &token)],
        )
        .await;
    let tab = page
        .body
        .split("id=\"agent-usage-table\"")
        .nth(1)
        .unwrap_or_default();
    assert!(
        tab.contains("<span class=\"badge warn\">1 h 6 min</span>"),
        "{}",
        page.body
    );
    assert!(tab.contains(">30 s<"), "{tab}");
    let r = s
        .with_token(
            &token,
            "GET",
            "/api/v1/license-servers/999/agent-usage",
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    s.stop().await;
}
