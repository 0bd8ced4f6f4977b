//! Polling leases (issue 10): fair share, renewal, failover, clean release. Every case drives
//! the clock by hand (`t(secs)`); the database's own clock is only checked for sanity.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, Utc};
use licmon_core::ServerId;
use licmon_store::*;

use super::{settings, t};

async fn servers(store: &SqlStore, n: usize) -> Vec<WantedServer> {
    let mut wanted = Vec::new();
    for i in 0..n {
        let s = store
            .create_server(
                &settings(&format!("lease-{i}"), &format!("{}@h{i}", 27000 + i)),
                t(0),
            )
            .await
            .unwrap();
        wanted.push(WantedServer {
            id: s.id,
            lease: lease_for_interval(10),
        });
    }
    wanted
}

async fn round(store: &SqlStore, node: &str, wanted: &[WantedServer], at: i64) -> Vec<ServerId> {
    store
        .balance_leases(node, wanted, t(at))
        .await
        .unwrap()
        .iter()
        .map(|l| l.server_id)
        .collect()
}

/// Valid holders at `at`, as node → servers.
async fn holders(store: &SqlStore, at: i64) -> BTreeMap<String, BTreeSet<ServerId>> {
    let mut by_node: BTreeMap<String, BTreeSet<ServerId>> = BTreeMap::new();
    for (server, node) in store.lease_holders(t(at)).await.unwrap() {
        by_node.entry(node).or_default().insert(server);
    }
    by_node
}

fn counts(h: &BTreeMap<String, BTreeSet<ServerId>>) -> Vec<usize> {
    let mut c: Vec<usize> = h.values().map(|s| s.len()).collect();
    c.sort_unstable();
    c
}

pub async fn a_lone_node_leases_every_server_and_renews_at_half_time(store: &SqlStore) {
    let wanted = servers(store, 3).await;
    let held = round(store, "a", &wanted, 0).await;
    assert_eq!(held.len(), 3);
    let leases = store.balance_leases("a", &wanted, t(1)).await.unwrap();
    // Not yet half-way: not renewed.
    assert!(leases.iter().all(|l| l.expires_at == t(12)), "{leases:?}");
    let leases = store.balance_leases("a", &wanted, t(7)).await.unwrap();
    assert!(leases.iter().all(|l| l.expires_at == t(19)), "{leases:?}");
    // A round that comes too late still finds its own expired leases (nobody took them).
    let leases = store.balance_leases("a", &wanted, t(40)).await.unwrap();
    assert_eq!(leases.len(), 3);
    assert!(leases.iter().all(|l| l.expires_at == t(52)));
}

pub async fn nodes_split_servers_fairly_and_never_share_one(store: &SqlStore) {
    let wanted = servers(store, 7).await;
    assert_eq!(round(store, "a", &wanted, 0).await.len(), 7);
    // b is live but every lease is valid: it gets nothing yet.
    assert!(round(store, "b", &wanted, 1).await.is_empty());
    // a sees two live members, keeps ceil(7/2) = 4 and releases 3; b takes them.
    assert_eq!(round(store, "a", &wanted, 2).await.len(), 4);
    assert_eq!(round(store, "b", &wanted, 3).await.len(), 3);
    assert!(round(store, "c", &wanted, 4).await.is_empty());
    // Three members: ceil(7/3) = 3 each at most.
    round(store, "a", &wanted, 5).await;
    round(store, "b", &wanted, 5).await;
    round(store, "c", &wanted, 6).await;
    let h = holders(store, 6).await;
    assert_eq!(counts(&h), vec![1, 3, 3], "{h:?}");
    let all: BTreeSet<ServerId> = h.values().flatten().copied().collect();
    let total: usize = h.values().map(|s| s.len()).sum();
    assert_eq!(
        (all.len(), total),
        (7, 7),
        "every server held exactly once: {h:?}"
    );
    // More rounds change nothing: the share is stable.
    for at in [8, 10] {
        for node in ["a", "b", "c"] {
            round(store, node, &wanted, at).await;
        }
    }
    assert_eq!(holders(store, 10).await, h);
}

pub async fn a_dead_nodes_servers_go_to_the_others_when_its_leases_expire(store: &SqlStore) {
    let wanted = servers(store, 6).await;
    for (node, at) in [("a", 0), ("b", 0), ("c", 0), ("a", 1), ("b", 1), ("c", 1)] {
        round(store, node, &wanted, at).await;
    }
    // a took all six first, then gave b and c their share.
    let h = holders(store, 1).await;
    assert_eq!(counts(&h), vec![2, 2, 2], "{h:?}");
    let c_servers = h["c"].clone();
    // c dies after its round at t(1); a and b keep going every 2 s. While c's leases are valid
    // nobody takes them, even once c no longer counts as live.
    let mut at = 3;
    while at <= 13 {
        round(store, "a", &wanted, at).await;
        round(store, "b", &wanted, at).await;
        let h = holders(store, at).await;
        assert_eq!(h["c"], c_servers, "at t({at}) c's valid leases are taken");
        at += 2;
    }
    // c's leases ran out at t(13) (renewed at t(1) for 12 s): the next rounds take them.
    round(store, "a", &wanted, 15).await;
    round(store, "b", &wanted, 15).await;
    let h = holders(store, 15).await;
    assert!(!h.contains_key("c"), "{h:?}");
    assert_eq!(counts(&h), vec![3, 3], "{h:?}");
    // c comes back (as a new node id, as a restarted process does) and gets its share again.
    round(store, "c2", &wanted, 16).await;
    round(store, "a", &wanted, 17).await;
    round(store, "b", &wanted, 17).await;
    round(store, "c2", &wanted, 18).await;
    assert_eq!(counts(&holders(store, 18).await), vec![2, 2, 2]);
}

pub async fn a_clean_release_frees_leases_at_once(store: &SqlStore) {
    let wanted = servers(store, 4).await;
    round(store, "a", &wanted, 0).await;
    round(store, "b", &wanted, 0).await;
    round(store, "a", &wanted, 1).await;
    round(store, "b", &wanted, 1).await;
    assert_eq!(counts(&holders(store, 1).await), vec![2, 2]);
    store.release_leases("a").await.unwrap();
    // b is the only member now and takes a's servers in its next round, long before expiry.
    assert_eq!(round(store, "b", &wanted, 2).await.len(), 4);
}

pub async fn unwanted_and_deleted_servers_lose_their_leases(store: &SqlStore) {
    let wanted = servers(store, 3).await;
    round(store, "a", &wanted, 0).await;
    // Server 0 is switched off (no longer wanted), server 1 deleted.
    store.delete_server(wanted[1].id).await.unwrap();
    let still = vec![wanted[2]];
    assert_eq!(round(store, "a", &still, 1).await, vec![wanted[2].id]);
    assert_eq!(
        store.lease_holders(t(1)).await.unwrap(),
        vec![(wanted[2].id, "a".to_string())]
    );
}

pub async fn a_changed_interval_changes_the_lease_length(store: &SqlStore) {
    let mut wanted = servers(store, 1).await;
    round(store, "a", &wanted, 0).await;
    wanted[0].lease = lease_for_interval(100);
    let leases = store.balance_leases("a", &wanted, t(1)).await.unwrap();
    assert_eq!(leases[0].expires_at, t(121));
}

pub async fn the_cluster_view_counts_valid_leases_per_node(store: &SqlStore) {
    let wanted = servers(store, 4).await;
    for (node, collector) in [("a", true), ("web", false)] {
        store
            .heartbeat(&NodeHeartbeat {
                node_id: node.into(),
                host: format!("{node}-host"),
                started_at: t(0),
                heartbeat_at: t(0),
                collector_running: collector,
            })
            .await
            .unwrap();
    }
    round(store, "a", &wanted, 0).await;
    let nodes = store.cluster_nodes(t(1)).await.unwrap();
    let held: Vec<(&str, bool, u64)> = nodes
        .iter()
        .map(|n| (n.node_id.as_str(), n.collector_running, n.servers_held))
        .collect();
    assert_eq!(held, vec![("a", true, 4), ("web", false, 0)]);
    // Once a's leases expire it holds nothing.
    let nodes = store.cluster_nodes(t(13)).await.unwrap();
    assert_eq!(nodes[0].servers_held, 0);
}

pub async fn nodes_gone_for_an_hour_are_forgotten(store: &SqlStore) {
    store
        .heartbeat(&NodeHeartbeat {
            node_id: "crashed".into(),
            host: "h".into(),
            started_at: t(0),
            heartbeat_at: t(0),
            collector_running: true,
        })
        .await
        .unwrap();
    round(store, "a", &[], 60).await;
    assert_eq!(store.nodes().await.unwrap().len(), 1);
    round(store, "a", &[], 3601).await;
    assert!(store.nodes().await.unwrap().is_empty());
}

pub async fn the_database_clock_is_sane(store: &SqlStore) {
    let db = store.database_now().await.unwrap();
    let diff = (db - Utc::now()).num_milliseconds().abs();
    assert!(
        diff < Duration::seconds(5).num_milliseconds(),
        "{db} vs now"
    );
}
