//! A polled borrow over real HTTP: the sessions list (JSON and CSV) and the current usage carry
//! the client IP and when the license returns; the server page's Borrowed tab shows "Returns",
//! with "unknown" where the license server does not say.

mod auth_harness;

use auth_harness::{TestServer, start};
use chrono::{DateTime, TimeZone, Utc};
use licmon_core::server::LicenseServerInput;
use licmon_core::snapshot::{Checkout, FeatureUsage, Snapshot};
use licmon_store::{MonitorStore, Role, ServerStore};

fn utc(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap()
}

fn checkout(user: &str, ip: Option<&str>, returns: Option<DateTime<Utc>>) -> Checkout {
    Checkout {
        feature: "solver".into(),
        user: user.into(),
        host: format!("{user}-lap"),
        display: None,
        count: 1,
        version: None,
        start: Some(utc(20, 8)),
        borrowed: true,
        queued: false,
        handle: None,
        ip: ip.map(str::to_string),
        borrow_expires: returns,
    }
}

async fn polled_server(s: &TestServer) -> i64 {
    let input = LicenseServerInput {
        name: "ansys".into(),
        kind: "flexnet".into(),
        address: Some("1055@lic1".into()),
        time_zone: Some("Europe/Berlin".into()),
        ..Default::default()
    };
    let id = s
        .store
        .create_server(&input.validate().unwrap(), utc(20, 7))
        .await
        .unwrap()
        .id;
    let snapshot = Snapshot {
        taken_at: utc(21, 9),
        nodes: Vec::new(),
        daemons: Vec::new(),
        features: vec![FeatureUsage {
            denied_total: None,
            name: "solver".into(),
            vendor: None,
            issued: Some(4),
            in_use: 2,
            reserved: 0,
            borrowed: 2,
            queued: 0,
            uncounted: false,
            pools: Vec::new(),
        }],
        checkouts: vec![
            checkout("ana", Some("10.0.0.7"), Some(utc(27, 8))),
            checkout("bo", None, None),
        ],
    };
    s.store.record_poll_success(id, &snapshot).await.unwrap();
    id
}

#[tokio::test]
async fn borrows_show_their_ip_and_return_time() {
    let s = start().await;
    let token = s.admin_token().await;
    let id = polled_server(&s).await;

    let sessions = s
        .with_token(
            &token,
            "GET",
            &format!("/api/v1/license-servers/{id}/sessions?user=ana"),
            None,
        )
        .await;
    assert_eq!(sessions.status, 200, "{}", sessions.body);
    let ana = &sessions.json()[0];
    assert_eq!(
        (&ana["ip"], &ana["borrow_expires_at"], &ana["borrowed"]),
        (
            &serde_json::json!("10.0.0.7"),
            &serde_json::json!("2026-11-27T08:00:00Z"),
            &serde_json::json!(true)
        )
    );

    let csv = s
        .with_token(
            &token,
            "GET",
            &format!("/api/v1/license-servers/{id}/sessions?format=csv"),
            None,
        )
        .await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    let mut lines = csv.body.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (ip, returns) = (column("ip"), column("borrow_expires_at"));
    let mut rows: Vec<(String, String)> = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[ip].to_string(), cells[returns].to_string())
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            (String::new(), String::new()),
            ("10.0.0.7".into(), "2026-11-27T08:00:00Z".into())
        ]
    );

    let usage = s
        .with_token(
            &token,
            "GET",
            &format!("/api/v1/license-servers/{id}/usage"),
            None,
        )
        .await
        .json();
    let ana = &usage["checkouts"][0];
    assert_eq!(
        (&ana["ip"], &ana["borrow_expires"]),
        (
            &serde_json::json!("10.0.0.7"),
            &serde_json::json!("2026-11-27T08:00:00Z")
        )
    );
    assert_eq!(
        (
            &usage["checkouts"][1]["ip"],
            &usage["checkouts"][1]["borrow_expires"]
        ),
        (&serde_json::Value::Null, &serde_json::Value::Null)
    );

    s.user("viewer", Role::User, None).await;
    let browser = s
        .login("viewer", &TestServer::password("viewer"))
        .await
        .unwrap();
    let page = s
        .get(&format!("/servers/{id}"), &[("Cookie", &browser.cookie)])
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let borrowed = page.body.split("id=\"borrowed-table\"").nth(1).unwrap();
    let borrowed = borrowed.split("</table>").next().unwrap();
    assert!(
        borrowed.contains("<th scope=\"col\">Returns</th>"),
        "{borrowed}"
    );
    assert!(
        borrowed
            .contains("<time datetime=\"2026-11-27T08:00:00+00:00\" data-tz=\"Europe/Berlin\">"),
        "ana's return time: {borrowed}"
    );
    assert!(borrowed.contains(">unknown</span>"), "bo's: {borrowed}");
    let current = page.body.split("id=\"panel-current\"").nth(1).unwrap();
    assert!(
        current.contains("<span class=\"muted\" title=\"IP address\"> · 10.0.0.7</span>"),
        "the current usage shows the IP"
    );
    s.stop().await;
}
