//! Scale benchmark (issue 10): a site of many simulated license servers on PostgreSQL, polled
//! by one node and then by two, against the floor of spawning the simulator alone.
//!
//! ```sh
//! LICMON_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench -p licmon --bench scale
//! ```
//!
//! Settings (environment): `LICMON_BENCH_SERVERS` (10000), `LICMON_BENCH_INTERVAL` (60 s),
//! `LICMON_BENCH_CYCLES` measured intervals (2), `LICMON_BENCH_NODES` (`1,2`).
//!
//! Each configuration gets a fresh database; `licmon demo --servers N --database URL` creates
//! the servers and is node 1, `licmon serve` is node 2. After every server has been polled
//! once (the first, bunched-up cycle), the bench measures `cycles` intervals:
//! - licmon's own CPU (utime + stime of each node from /proc/PID/stat, children excluded);
//! - every server polled each interval: the largest gap between two polls of a server, from
//!   the simulator's log (one line per invocation);
//! - poll latency percentiles from the nodes' `poll summary` log lines;
//! - the database's write rate (pg_stat_database: commits, rows written).
//!
//! The floor: the same simulator invocations (same argv, same scenario) run `N` times by this
//! process with no licmon, two at a time; its cost is the simulators' CPU plus this process's.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection, Row};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// (own CPU, reaped children's CPU) of a process, in clock ticks.
fn cpu_ticks(pid: &str) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime, stime, cutime, cstime are fields 14..=17, i.e. 11..=14 after the name.
    if f.len() < 15 {
        return (0, 0);
    }
    (f[11] + f[12], f[13] + f[14])
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

async fn admin_exec(admin: &str, sql: &str) {
    let mut c = sqlx::PgConnection::connect(admin).await.unwrap();
    sqlx::query(sql).execute(&mut c).await.unwrap();
    c.close().await.ok();
}

/// (commits, rows inserted + updated + deleted) of a database.
async fn db_writes(admin: &str, db: &str) -> (i64, i64) {
    let mut c = sqlx::PgConnection::connect(admin).await.unwrap();
    let row = sqlx::query(
        "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted AS rows \
         FROM pg_stat_database WHERE datname = $1",
    )
    .bind(db)
    .fetch_one(&mut c)
    .await
    .unwrap();
    c.close().await.ok();
    (row.get("xact_commit"), row.get("rows"))
}

async fn polled_once(url: &str) -> i64 {
    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM license_servers WHERE last_poll_at IS NOT NULL")
        .fetch_one(&mut c)
        .await
        .map(|r| r.get(0))
        .unwrap_or(0);
    c.close().await.ok();
    n
}

struct Node {
    child: Child,
    stderr: PathBuf,
    sim_log: PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path, name: &str, args: &[&str]) -> Node {
    let stderr = dir.join(format!("{name}.stderr"));
    let sim_log = dir.join(format!("{name}.sim.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_licmon"))
        .args(args)
        .current_dir(dir)
        .env("LICMON_SIM_LOG", &sim_log)
        .env("RUST_LOG", "info,sqlx=warn")
        .env("LICMON_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("start licmon");
    Node {
        child,
        stderr,
        sim_log,
    }
}

/// Poll times per server address from simulator logs (whole seconds since the epoch).
fn poll_times(logs: &[PathBuf]) -> HashMap<String, Vec<i64>> {
    let mut by: HashMap<String, Vec<i64>> = HashMap::new();
    for log in logs {
        let Ok(file) = std::fs::File::open(log) else {
            continue;
        };
        for line in BufReader::new(file).lines().map_while(Result::ok) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // Status polls only, not the hourly license-file reads (`lmstat -i`).
            if f.len() < 4 || f.get(5) == Some(&"info") {
                continue;
            }
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(f[0]) {
                by.entry(f[3].to_string()).or_default().push(t.timestamp());
            }
        }
    }
    for v in by.values_mut() {
        v.sort_unstable();
    }
    by
}

/// `poll summary` fields logged after byte `from` of a node's stderr.
fn summaries(stderr: &Path, from: u64) -> Vec<HashMap<String, u64>> {
    let Ok(mut file) = std::fs::File::open(stderr) else {
        return Vec::new();
    };
    let _ = file.seek(SeekFrom::Start(from));
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter(|l| l.contains("poll summary"))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
        .map(|v| {
            v["fields"]
                .as_object()
                .map(|f| {
                    f.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

struct Run {
    nodes: usize,
    cpu_per_cycle: Vec<f64>,
    children_per_cycle: Vec<f64>,
    polls_per_node: Vec<usize>,
    max_gap: i64,
    servers_polled: usize,
    latency: Vec<HashMap<String, u64>>,
    commits_per_s: f64,
    rows_per_s: f64,
    sim_dir: PathBuf,
}

async fn run_config(
    admin: &str,
    dir: &Path,
    nodes: usize,
    servers: u64,
    interval: u64,
    cycles: u64,
) -> Run {
    let db = format!("licmon_bench_{}_{nodes}", std::process::id());
    admin_exec(admin, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
    admin_exec(admin, &format!("CREATE DATABASE {db}")).await;
    let url = with_database(admin, &db);
    let run_dir = dir.join(format!("nodes{nodes}"));
    std::fs::create_dir_all(&run_dir).unwrap();
    let servers_arg = servers.to_string();
    let interval_arg = interval.to_string();
    let mut running = vec![start(
        &run_dir,
        "node1",
        &[
            "demo",
            "--servers",
            &servers_arg,
            "--query-interval",
            &interval_arg,
            "--database",
            &url,
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "demo",
        ],
    )];
    if nodes > 1 {
        // The others join once the demo has migrated the database.
        std::thread::sleep(Duration::from_secs(3));
        for k in 2..=nodes {
            running.push(start(
                &run_dir,
                &format!("node{k}"),
                &["serve", "--database", &url, "--listen", "127.0.0.1:0"],
            ));
        }
    }
    // Warm-up: every server polled once.
    let warm = Instant::now();
    while polled_once(&url).await < servers as i64 {
        assert!(
            warm.elapsed() < Duration::from_secs(interval * 5 + 120),
            "warm-up did not finish; see {}",
            run_dir.display()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    eprintln!(
        "{nodes} node(s): every server polled once after {:?}",
        warm.elapsed()
    );
    let pids: Vec<String> = running.iter().map(|n| n.child.id().to_string()).collect();
    let before: Vec<(u64, u64)> = pids.iter().map(|p| cpu_ticks(p)).collect();
    let stderr_at: Vec<u64> = running
        .iter()
        .map(|n| std::fs::metadata(&n.stderr).map(|m| m.len()).unwrap_or(0))
        .collect();
    let writes_before = db_writes(admin, &db).await;
    let t0 = chrono::Utc::now().timestamp();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(interval * cycles)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let t1 = chrono::Utc::now().timestamp();
    let after: Vec<(u64, u64)> = pids.iter().map(|p| cpu_ticks(p)).collect();
    let writes_after = db_writes(admin, &db).await;
    let tick = ticks_per_second();
    let per_cycle = |d: u64| d as f64 / tick / cycles as f64;
    let logs: Vec<PathBuf> = running.iter().map(|n| n.sim_log.clone()).collect();
    let times = poll_times(&logs);
    let polls_per_node = logs
        .iter()
        .map(|l| {
            poll_times(std::slice::from_ref(l))
                .values()
                .flatten()
                .filter(|t| **t >= t0 && **t < t1)
                .count()
        })
        .collect();
    // The largest gap between consecutive polls of a server inside the window (and from the
    // window's start to its first poll there).
    let mut max_gap = 0;
    for polls in times.values() {
        let mut prev = polls.iter().rev().find(|t| **t < t0).copied().unwrap_or(t0);
        for t in polls.iter().filter(|t| **t >= t0 && **t < t1) {
            max_gap = max_gap.max(t - prev);
            prev = *t;
        }
        max_gap = max_gap.max(t1 - prev);
    }
    let latency = running
        .iter()
        .zip(&stderr_at)
        .flat_map(|(n, from)| summaries(&n.stderr, *from))
        .collect();
    let run = Run {
        nodes,
        cpu_per_cycle: before
            .iter()
            .zip(&after)
            .map(|(b, a)| per_cycle(a.0 - b.0))
            .collect(),
        children_per_cycle: before
            .iter()
            .zip(&after)
            .map(|(b, a)| per_cycle(a.1 - b.1))
            .collect(),
        polls_per_node,
        max_gap,
        servers_polled: times.len(),
        latency,
        commits_per_s: (writes_after.0 - writes_before.0) as f64 / elapsed,
        rows_per_s: (writes_after.1 - writes_before.1) as f64 / elapsed,
        sim_dir: run_dir.join("demo/sim"),
    };
    drop(running);
    admin_exec(admin, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
    run
}

/// The argv licmon runs for generated server `i` (see `demo_site.rs`).
fn sim_argv(sim: &Path, i: u64) -> Vec<String> {
    let host = format!("sim{i:05}");
    let p = |u: &str| sim.join(u).display().to_string();
    match i % 3 {
        0 => vec![
            p("lmutil"),
            "lmstat".into(),
            "-a".into(),
            "-c".into(),
            format!("27000@{host}"),
        ],
        1 => vec![
            p("rlmutil"),
            "rlmstat".into(),
            "-a".into(),
            "-c".into(),
            format!("5053@{host}"),
        ],
        _ => vec![
            p("lmxendutil"),
            "-licstatxml".into(),
            "-host".into(),
            host,
            "-port".into(),
            "6200".into(),
        ],
    }
}

/// Runs the simulator `servers` times, two at a time; (simulators' CPU, own CPU) in seconds.
fn floor(sim: &Path, servers: u64, log: &Path) -> (f64, f64, f64) {
    let me = std::process::id().to_string();
    let before = cpu_ticks(&me);
    let started = Instant::now();
    std::thread::scope(|s| {
        for lane in 0..2 {
            s.spawn(move || {
                for i in (lane..servers).step_by(2) {
                    let argv = sim_argv(sim, i);
                    let status = Command::new(&argv[0])
                        .args(&argv[1..])
                        .env("LICMON_SIM_LOG", log)
                        .stdin(Stdio::null())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .output()
                        .expect("run the simulator");
                    assert!(!status.stdout.is_empty(), "{argv:?}");
                }
            });
        }
    });
    let wall = started.elapsed().as_secs_f64();
    let after = cpu_ticks(&me);
    let tick = ticks_per_second();
    (
        (after.1 - before.1) as f64 / tick,
        (after.0 - before.0) as f64 / tick,
        wall,
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` / `--list`: nothing to list.
    }
    let Ok(admin) = std::env::var("LICMON_TEST_DATABASE_URL") else {
        eprintln!("set LICMON_TEST_DATABASE_URL=postgres://... to run the scale benchmark");
        return;
    };
    let servers = setting("LICMON_BENCH_SERVERS", 10_000);
    let interval = setting("LICMON_BENCH_INTERVAL", 60);
    let cycles = setting("LICMON_BENCH_CYCLES", 2);
    let configs: Vec<usize> = std::env::var("LICMON_BENCH_NODES")
        .unwrap_or_else(|_| "1,2".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let runs: Vec<Run> = configs
        .iter()
        .map(|n| {
            rt.block_on(run_config(
                &admin,
                dir.path(),
                *n,
                servers,
                interval,
                cycles,
            ))
        })
        .collect();
    let Some(sim) = runs.last().map(|r| r.sim_dir.clone()) else {
        return;
    };
    let (sims, spawner, wall) = floor(&sim, servers, &dir.path().join("floor.sim.log"));
    let floor_cpu = sims + spawner;
    println!(
        "\n== scale: {servers} servers, {interval} s interval, {cycles} measured intervals =="
    );
    println!(
        "floor: {servers} simulator runs without licmon: {sims:.1} s CPU in the simulators + \
         {spawner:.1} s in the spawner = {floor_cpu:.1} s ({wall:.0} s wall, 2 at a time)"
    );
    for r in &runs {
        let total: f64 = r.cpu_per_cycle.iter().sum();
        println!(
            "{} node(s): licmon CPU per interval {:?} s (total {total:.1} s = {:.2}x the floor); \
             simulators {:?} s; polls per node in the window {:?}; servers polled {}/{servers}; \
             largest gap between polls of a server {} s; DB {:.0} commits/s, {:.0} rows written/s",
            r.nodes,
            r.cpu_per_cycle
                .iter()
                .map(|c| (c * 10.0).round() / 10.0)
                .collect::<Vec<_>>(),
            total / floor_cpu,
            r.children_per_cycle
                .iter()
                .map(|c| (c * 10.0).round() / 10.0)
                .collect::<Vec<_>>(),
            r.polls_per_node,
            r.servers_polled,
            r.max_gap,
            r.commits_per_s,
            r.rows_per_s,
        );
        for s in &r.latency {
            let g = |k: &str| s.get(k).copied().unwrap_or(0);
            println!(
                "  poll summary: {} polls, run p50 {} / p90 {} / p99 {} / max {} ms; \
                 due→stored p50 {} / p99 {} / max {} ms",
                g("polls"),
                g("run_p50_ms"),
                g("run_p90_ms"),
                g("run_p99_ms"),
                g("run_max_ms"),
                g("due_p50_ms"),
                g("due_p99_ms"),
                g("due_max_ms"),
            );
        }
    }
}
