//! Agent report ingestion on loopback: 10,000 simulated agents post report documents over
//! keep-alive connections to (1) a bare axum route that does nothing and (2) licmon's real
//! router (auth guard with an agent token, validation, write-behind batches into SQLite), in the
//! same run. The licmon figure is the sustained rate: the clock stops when the last report is
//! committed (`AgentIngest::flush`), not when its 200 arrived.
//!
//! cargo bench -p licmon-server --bench agent_ingest [-- AGENTS ROUNDS CONNECTIONS]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::Utc;
use licmon_core::server::LicenseServerInput;
use licmon_server::AppState;
use licmon_store::{
    AgentAppInput, AgentStore, AuthStore, DatabaseUrl, NewUser, Role, ServerStore, SqlStore,
    StatusSettings, Store, TokenScope,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn document(agent: usize, server: i64) -> String {
    format!(
        r#"{{"version":1,"agent":{{"id":"ws-{agent:05}","host":"ws-{agent:05}.example.org","user":"root","agent_version":"bench"}},"reports":[{{"server_id":{server},"observed_at":"{}","apps":[{{"feature":"CAD","executable":"cad","user":"u{agent}","instances":1,"started_at":"2026-11-27T08:00:00Z","idle_secs":{}}}]}}]}}"#,
        Utc::now().to_rfc3339(),
        agent % 7
    )
}

/// Reads one HTTP/1.1 response (Content-Length bodies only) and returns its status.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> u16 {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status: u16 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            let total = end + 4 + len;
            while buf.len() < total {
                let mut chunk = [0u8; 4096];
                let n = stream.read(&mut chunk).await.unwrap();
                assert!(n > 0, "connection closed");
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..total);
            return status;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Sends every agent's document `rounds` times over `connections` keep-alive connections;
/// returns how many were sent.
async fn load(
    addr: std::net::SocketAddr,
    path: &'static str,
    token: Arc<String>,
    server: i64,
    agents: usize,
    rounds: usize,
    connections: usize,
) -> usize {
    let mut tasks = Vec::new();
    for c in 0..connections {
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut buf = Vec::new();
            let mut sent = 0usize;
            for _ in 0..rounds {
                for agent in (c..agents).step_by(connections) {
                    let body = document(agent, server);
                    let request = format!(
                        "POST {path} HTTP/1.1\r\nHost: bench\r\nX-Auth-Token: {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    stream.write_all(request.as_bytes()).await.unwrap();
                    let status = read_response(&mut stream, &mut buf).await;
                    assert!(status == 200 || path.ends_with("/nothing"), "agent {agent}: {status}");
                    sent += 1;
                }
            }
            sent
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, agents * rounds);
    total
}

/// CPU time this process used so far (user + system), from /proc (Linux), in seconds.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<f64>().ok()))
        .sum();
    ticks / 100.0
}

async fn serve(app: Router) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let agents = args.first().copied().unwrap_or(10_000);
    let rounds = args.get(1).copied().unwrap_or(3);
    let connections = args.get(2).copied().unwrap_or(64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqlStore::open(&DatabaseUrl::sqlite_in(dir.path())).await.unwrap());
        let now = Utc::now();
        let input = LicenseServerInput {
            name: "cad".into(),
            kind: "agent-apps".into(),
            vendor: "bench".into(),
            time_zone: Some("UTC".into()),
            ..Default::default()
        };
        let server = store.create_server(&input.validate().unwrap(), now).await.unwrap().id;
        store
            .create_agent_app(
                &AgentAppInput { server_id: server, feature: "CAD".into(), executables: vec!["cad".into()] },
                now,
            )
            .await
            .unwrap();
        store
            .create_user(
                &NewUser { name: "admin".into(), password_hash: "x".into(), role: Role::Administrator, permitted_servers: None },
                now,
            )
            .await
            .unwrap();
        let dyn_store: Arc<dyn Store> = store.clone();
        let (token, _) = licmon_server::auth::accounts::create_token(
            dyn_store.as_ref(),
            "admin",
            TokenScope::Agent,
            "bench",
            now,
        )
        .await
        .unwrap();
        let token = Arc::new(token);

        let bare = Router::new().route("/bare", post(|_body: Bytes| async { StatusCode::OK }));
        let bare_addr = serve(bare).await;
        let state = AppState::new(dyn_store.clone(), StatusSettings::default());
        let ingest = state.agents.clone();
        let licmon_addr = serve(licmon_server::router(state)).await;

        // Warm-up: connections, the server cache, SQLite pages.
        load(licmon_addr, "/api/v1/agent/reports", token.clone(), server, 500, 1, connections).await;
        ingest.flush().await;
        load(bare_addr, "/bare", token.clone(), server, 500, 1, connections).await;

        let (start, cpu) = (Instant::now(), cpu_secs());
        let sent = load(bare_addr, "/bare", token.clone(), server, agents, rounds, connections).await;
        let bare_rate = sent as f64 / start.elapsed().as_secs_f64();
        let bare_cpu = (cpu_secs() - cpu) / sent as f64 * 1e6;
        let (start, cpu) = (Instant::now(), cpu_secs());
        let sent = load(licmon_addr, "/api/v1/agent/reports", token.clone(), server, agents, rounds, connections).await;
        let answered = start.elapsed().as_secs_f64();
        ingest.flush().await;
        let ingest_rate = sent as f64 / start.elapsed().as_secs_f64();
        let ingest_cpu = (cpu_secs() - cpu) / sent as f64 * 1e6;
        let start = Instant::now();
        let sent = load(licmon_addr, "/api/v1/agent/nothing", token.clone(), server, agents, rounds, connections).await;
        let auth_only = sent as f64 / start.elapsed().as_secs_f64();
        println!("  auth guard + 404:     {auth_only:>9.0} requests/s");
        println!(
            "agent_ingest: {agents} agents x {rounds} rounds over {connections} connections, SQLite"
        );
        println!("  bare axum route:      {bare_rate:>9.0} reports/s, {bare_cpu:.1} µs CPU each (load generator included)");
        println!(
            "  licmon ingestion:     {ingest_rate:>9.0} reports/s committed ({:.0} % of bare; target >= 50 %); the last 200 came {:.0} ms before the last commit",
            100.0 * ingest_rate / bare_rate,
            (sent as f64 / ingest_rate - answered) * 1000.0
        );
        println!("                        {ingest_cpu:.1} µs CPU each (load generator included)");
        // Every report counted was written: each agent is in the registry.
        let registered = store.list_agents().await.unwrap().len();
        assert!(registered >= agents, "{registered} agents registered");
        tokio::time::sleep(Duration::from_millis(10)).await;
    });
}
