//! `GET /api/v1/cluster` and Administration → Cluster over real HTTP: nodes from their
//! heartbeats, servers held from the polling leases; administrators only.

mod auth_harness;

use auth_harness::start;
use chrono::{Duration, Utc};
use licmon_core::server::LicenseServerInput;
use licmon_store::{
    LeaseStore, MonitorStore, NodeHeartbeat, Role, ServerStore, TokenScope, WantedServer,
    lease_for_interval,
};

#[tokio::test]
async fn the_cluster_lists_nodes_with_collectors_and_servers_held() {
    let s = start().await;
    let now = Utc::now();
    let mut wanted = Vec::new();
    for i in 0..3 {
        let settings = LicenseServerInput {
            name: format!("s{i}"),
            kind: "flexnet".into(),
            address: Some(format!("1@h{i}")),
            ..Default::default()
        }
        .validate()
        .unwrap();
        let server = s.store.create_server(&settings, now).await.unwrap();
        wanted.push(WantedServer {
            id: server.id,
            lease: lease_for_interval(120),
        });
    }
    for (id, collector, age) in [("poller", true, 0), ("web", false, 0), ("lost", true, 600)] {
        s.store
            .heartbeat(&NodeHeartbeat {
                node_id: id.into(),
                host: format!("{id}.example"),
                started_at: now - Duration::seconds(900),
                heartbeat_at: now - Duration::seconds(age),
                collector_running: collector,
            })
            .await
            .unwrap();
    }
    s.store
        .balance_leases("poller", &wanted, now)
        .await
        .unwrap();

    let token = s.admin_token().await;
    let r = s.with_token(&token, "GET", "/api/v1/cluster", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    let nodes = body["nodes"].as_array().unwrap();
    let row = |id: &str| nodes.iter().find(|n| n["id"] == id).unwrap().clone();
    assert_eq!(row("poller")["servers_held"], 3);
    assert_eq!(row("poller")["collector_running"], true);
    assert_eq!(row("poller")["host"], "poller.example");
    assert_eq!(row("web")["collector_running"], false);
    assert_eq!(row("lost")["alive"], false);
    assert_eq!(row("lost")["collector_running"], false);
    assert_eq!(body["live_collectors"], 1);
    assert_eq!(body["servers_held"], 3);

    let page = s
        .request(
            "GET",
            "/admin/cluster",
            &[("X-Auth-Token", token.as_str())],
            None,
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("poller.example") && page.body.contains("lost"));

    // Ordinary users do not see the cluster.
    let user = s.user("reader", Role::User, None).await;
    let (user_token, _) = s.token(&user, TokenScope::Api).await;
    let r = s
        .with_token(&user_token, "GET", "/api/v1/cluster", None)
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    s.stop().await;
}
