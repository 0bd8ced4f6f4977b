//! Several `licmon serve` nodes on one PostgreSQL (issue 10), as real processes on loopback:
//! three collector nodes and a web-only node share six simulated license servers polled every
//! 10 s. Checked from the simulator's own logs (one per node, so every poll names its node) and
//! from the database:
//! - every server is polled in every interval, never twice within one, by one node at a time;
//! - the servers of a node killed with SIGKILL are polled by the others within two intervals;
//! - with every collector stopped, the servers show Unmonitored.
//!
//! Needs `LICMON_TEST_DATABASE_URL` (skipped without it, an error under CI); the test makes and
//! drops its own database.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use licmon_core::RemoteStatus;
use licmon_core::server::{DataSourceInput, LicenseServerInput};
use licmon_store::{DatabaseUrl, LeaseStore, ServerStore, SqlStore, StatusSettings, overviews};
use sqlx::Connection;

const INTERVAL: i64 = 10;
const SERVERS: usize = 6;

fn admin_url() -> Option<String> {
    match std::env::var("LICMON_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("LICMON_TEST_DATABASE_URL must be set under CI")
        }
        _ => {
            eprintln!("skipped: set LICMON_TEST_DATABASE_URL=postgres://... to run");
            None
        }
    }
}

fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{database}?{q}"),
        None => format!("{prefix}/{database}"),
    }
}

/// A database of its own, dropped at the end.
struct Database {
    admin_url: String,
    name: String,
    url: String,
}

impl Database {
    async fn create(admin_url: String) -> Self {
        let name = format!("licmon_cluster_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::query(&sql).execute(&mut admin).await.unwrap();
        }
        admin.close().await.ok();
        let url = with_database(&admin_url, &name);
        Self {
            admin_url,
            name,
            url,
        }
    }

    async fn drop_it(&self) {
        if let Ok(mut admin) = sqlx::PgConnection::connect(&self.admin_url).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin)
            .await;
        }
    }
}

/// A `licmon serve` process; killed when dropped.
struct Node {
    child: Child,
    stderr: PathBuf,
    sim_log: PathBuf,
    address: String,
}

impl Node {
    fn start(dir: &Path, name: &str, database: &str, monitoring: bool) -> Self {
        let stderr = dir.join(format!("{name}.stderr"));
        let sim_log = dir.join(format!("{name}.sim.log"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_licmon"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--database", database])
            .current_dir(dir)
            .env("LICMON_SIM_LOG", &sim_log)
            .env("RUST_LOG", "info,sqlx=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap());
        if !monitoring {
            cmd.arg("--no-monitoring");
        }
        let child = cmd.spawn().expect("start licmon serve");
        let mut node = Self {
            child,
            stderr,
            sim_log,
            address: String::new(),
        };
        node.address =
            wait_for(Duration::from_secs(30), || node.listening()).unwrap_or_else(|| {
                panic!(
                    "{name} did not start: {}",
                    std::fs::read_to_string(&node.stderr).unwrap_or_default()
                )
            });
        node
    }

    fn listening(&self) -> Option<String> {
        let text = std::fs::read_to_string(&self.stderr).ok()?;
        let rest = &text[text.find("listening on http://")? + "listening on http://".len()..];
        Some(rest[..rest.find('/')?].to_string())
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then waits for a clean exit.
    fn stop(&mut self) {
        Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        let status = wait_for(Duration::from_secs(20), || self.child.try_wait().unwrap())
            .expect("node did not stop on SIGTERM");
        assert!(status.success(), "{status}");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for<T>(deadline: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let until = Instant::now() + deadline;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn http_get(address: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}

/// One poll as the simulator logged it.
#[derive(Debug, Clone)]
struct Poll {
    at: DateTime<Utc>,
    node: usize,
    address: String,
}

fn polls(nodes: &[&Path]) -> Vec<Poll> {
    let mut all = Vec::new();
    for (node, log) in nodes.iter().enumerate() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        for line in text.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // Status polls only, not the hourly license-file reads (`lmstat -i`).
            if fields.len() < 4 || fields.get(5) == Some(&"info") {
                continue;
            }
            all.push(Poll {
                at: DateTime::parse_from_rfc3339(fields[0]).unwrap().to_utc(),
                node,
                address: fields[3].to_string(),
            });
        }
    }
    all.sort_by_key(|p| p.at);
    all
}

fn address(i: usize) -> String {
    format!("{}@cluster{i}", 27000 + i)
}

fn scenario() -> String {
    let mut s = String::from("seed = 7\n");
    for i in 0..SERVERS {
        s.push_str(&format!(
            "\n[[server]]\nkind = \"flexnet\"\naddress = \"{}\"\nvendor = \"vd\"\n\
             [[server.feature]]\nname = \"f\"\nissued = 10\nusers = 5\n",
            address(i)
        ));
    }
    s
}

fn sim_folder(dir: &Path) -> PathBuf {
    let sim = dir.join("sim");
    std::fs::create_dir_all(&sim).unwrap();
    std::fs::write(sim.join("licmon-sim.toml"), scenario()).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_licmon"), sim.join("lmutil")).unwrap();
    sim
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_polling_fail_over_and_go_unmonitored() {
    let Some(admin) = admin_url() else { return };
    let db = Database::create(admin).await;
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_folder(dir.path());
    let store = SqlStore::open(&DatabaseUrl::parse(&db.url).unwrap())
        .await
        .unwrap();
    let mut by_address = BTreeMap::new();
    for i in 0..SERVERS {
        let settings = LicenseServerInput {
            name: format!("cluster-{i}"),
            kind: "flexnet".into(),
            address: Some(address(i)),
            query_interval_secs: Some(INTERVAL),
            utility_path: Some(sim.join("lmutil").display().to_string()),
            data_sources: Some(DataSourceInput {
                remote: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        }
        .validate()
        .unwrap();
        let server = store.create_server(&settings, Utc::now()).await.unwrap();
        by_address.insert(address(i), server.id);
    }

    let start = Utc::now();
    let web = Node::start(dir.path(), "web", &db.url, false);
    let mut nodes: Vec<Node> = (1..=3)
        .map(|k| Node::start(dir.path(), &format!("node{k}"), &db.url, true))
        .collect();
    let (status, body) = http_get(&web.address, "/healthz");
    assert_eq!(status, 200, "{body}");

    // The three collectors settle on two servers each.
    let balanced = async {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let nodes = store.cluster_nodes(Utc::now()).await.unwrap();
            let mut held: Vec<u64> = nodes
                .iter()
                .filter(|n| n.collector_running)
                .map(|n| n.servers_held)
                .collect();
            held.sort_unstable();
            if held == vec![2, 2, 2] {
                return nodes;
            }
            assert!(Instant::now() < until, "never balanced: {nodes:?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    .await;
    assert_eq!(
        balanced.len(),
        4,
        "three collectors and the web node: {balanced:?}"
    );
    let balanced_at = Utc::now();

    // Two and a half intervals of steady polling.
    tokio::time::sleep(Duration::from_millis(25_000)).await;
    let holders = store.lease_holders(Utc::now()).await.unwrap();
    let node_ids = store.cluster_nodes(Utc::now()).await.unwrap();
    let victim_id = node_ids
        .iter()
        .find(|n| n.node_id.contains(&format!("-{}-", nodes[2].pid())))
        .expect("node3 in the cluster view")
        .node_id
        .clone();
    let orphans: BTreeSet<i64> = holders
        .iter()
        .filter(|(_, node)| *node == victim_id)
        .map(|(server, _)| *server)
        .collect();
    assert_eq!(orphans.len(), 2, "{holders:?}");

    // SIGKILL node 3: its servers must be polled by the others within two intervals.
    let killed_at = Utc::now();
    nodes[2].child.kill().unwrap();
    nodes[2].child.wait().unwrap();
    let logs: Vec<PathBuf> = nodes.iter().map(|n| n.sim_log.clone()).collect();
    let log_refs: Vec<&Path> = logs.iter().map(|p| p.as_path()).collect();
    let taken_over = wait_for(Duration::from_secs(2 * INTERVAL as u64 + 2), || {
        let after: BTreeSet<i64> = polls(&log_refs[..2])
            .iter()
            .filter(|p| p.at > killed_at)
            .filter_map(|p| by_address.get(&p.address).copied())
            .filter(|id| orphans.contains(id))
            .collect();
        (after == orphans).then(Utc::now)
    });
    let taken_over = taken_over.unwrap_or_else(|| {
        panic!(
            "node3's servers {orphans:?} not polled by the others within two intervals; leases: {:?}",
            std::fs::read_to_string(&nodes[0].stderr).unwrap_or_default()
        )
    });
    eprintln!(
        "takeover after {} ms",
        (taken_over - killed_at).num_milliseconds()
    );

    // Every poll so far, from every node's log.
    let all = polls(&log_refs);
    let mut per_server: BTreeMap<&str, Vec<&Poll>> = BTreeMap::new();
    for p in &all {
        per_server.entry(p.address.as_str()).or_default().push(p);
    }
    assert_eq!(
        per_server.len(),
        SERVERS,
        "every server polled: {per_server:?}"
    );
    for (address, polls) in &per_server {
        for pair in polls.windows(2) {
            let gap = (pair[1].at - pair[0].at).num_seconds();
            // Never twice in one interval (logs have whole seconds; allow scheduling jitter).
            assert!(
                gap >= INTERVAL - 3,
                "{address} polled twice within {gap} s: {pair:?}"
            );
            // Polled in every interval while balanced: gaps of about one interval, and across
            // the kill at most two.
            if pair[0].at >= balanced_at {
                let limit = if pair[0].at < killed_at && pair[1].at > killed_at {
                    2 * INTERVAL + 1
                } else {
                    INTERVAL + 3
                };
                assert!(gap <= limit, "{address}: {gap} s without a poll: {pair:?}");
            }
        }
        // One node at a time: while balanced and before the kill, one node polled each server.
        let pollers: BTreeSet<usize> = polls
            .iter()
            .filter(|p| {
                p.at > balanced_at + chrono::Duration::seconds(INTERVAL) && p.at < killed_at
            })
            .map(|p| p.node)
            .collect();
        assert_eq!(pollers.len(), 1, "{address} polled by {pollers:?}");
    }
    assert!(
        all.iter()
            .all(|p| p.at >= start - chrono::Duration::seconds(1))
    );

    // Stop the remaining collectors cleanly: everything shows Unmonitored once node 3's
    // heartbeat is stale too.
    nodes[0].stop();
    nodes[1].stop();
    let settings = StatusSettings {
        heartbeat_timeout: chrono::Duration::seconds(20),
        ..StatusSettings::default()
    };
    let unmonitored = async {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let all = overviews(&store, Utc::now(), settings).await.unwrap();
            if all
                .iter()
                .all(|o| o.statuses.remote == RemoteStatus::Unmonitored)
            {
                return;
            }
            assert!(
                Instant::now() < until,
                "still monitored: {:?}",
                all.iter()
                    .map(|o| o.statuses.remote.clone())
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    unmonitored.await;
    let view = store.cluster_nodes(Utc::now()).await.unwrap();
    assert!(view.iter().all(|n| n.servers_held == 0), "{view:?}");
    assert!(
        view.iter().any(|n| !n.collector_running),
        "the web node stays: {view:?}"
    );

    drop(web);
    drop(nodes);
    store.close().await;
    db.drop_it().await;
}
