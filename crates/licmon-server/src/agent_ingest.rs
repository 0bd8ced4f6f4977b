//! Agent report ingestion: validation against the license servers, write-behind batches into
//! the store, and the loop that turns agent usage of **Agent applications** servers into
//! history.
//!
//! Invariants:
//! - A report document is answered (200) once it is validated and queued; one writer per node
//!   takes everything queued (up to [`MAX_GROUP`] documents) and writes it in one transaction,
//!   so under load thousands of agents share a commit and no handler waits for the disk. Reports
//!   are whole states that the agent's next report (30 s later) supersedes, so what a crash can
//!   lose — the reports of the last commit in progress — is replaced by the next round; a clean
//!   stop writes everything queued first ([`AgentIngest::flush`]).
//! - The queue is bounded ([`QUEUE`]): when the database cannot keep up, handlers wait for room
//!   (back-pressure), memory does not grow.
//! - While the store refuses writes, reports are refused with 503 (the agent keeps them and
//!   sends them again with backoff) instead of being accepted and lost; the writer retries the
//!   group it holds. The refusal lasts [`WRITE_ATTEMPTS`] pauses after the last failure, then
//!   reports are taken again so that the next write finds out whether the store is back.
//! - Two documents of one agent in one group are merged (newest report per server).
//! - Which servers exist and which have their End User source on is read through a cache of at
//!   most [`SERVER_CACHE_TTL`]; switching a source off is honoured within that time on every
//!   node.
//! - Agent-apps usage is refreshed at most once per tick per server across all nodes (the store
//!   claims the snapshot row), so rollups get one sample per tick.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use licmon_core::{DataSource, LicenseServer, ManagerKind, ServerId};
use licmon_store::{AgentReportBatch, StatusSettings, Store};
use tokio::sync::{mpsc, oneshot, watch};

/// How long the server list used for validation may be stale.
pub const SERVER_CACHE_TTL: Duration = Duration::from_secs(2);
/// Documents per transaction at most.
pub const MAX_GROUP: usize = 4096;
/// Queued documents before handlers wait for room (back-pressure instead of memory growth).
pub const QUEUE: usize = 8192;
/// Attempts at writing one group while the store fails, a second apart, before it is dropped
/// (logged); reports are refused with 503 meanwhile.
const WRITE_ATTEMPTS: u32 = 5;

/// What the writer is asked to do, in order.
enum Job {
    Report(AgentReportBatch),
    /// Answered once everything queued before it is written (or given up).
    Flush(oneshot::Sender<()>),
}

/// License servers by id, as of when they were read.
type ServerMap = Arc<HashMap<ServerId, LicenseServer>>;

/// The ingestion state a node shares between its handlers (in [`crate::AppState`]).
pub struct AgentIngest {
    writer: OnceLock<mpsc::Sender<Job>>,
    servers: Mutex<Option<(Instant, ServerMap)>>,
    /// When the writer's last attempt failed, if it did and no attempt succeeded since.
    failed_at: Arc<Mutex<Option<Instant>>>,
    /// Pause between attempts at a group the store refused (1 s unless set for tests).
    retry_pause: Duration,
}

impl Default for AgentIngest {
    fn default() -> Self {
        Self::with_retry_pause(Duration::from_secs(1))
    }
}

impl AgentIngest {
    /// An ingestion that pauses `retry_pause` between attempts at a refused write.
    pub fn with_retry_pause(retry_pause: Duration) -> Self {
        Self {
            writer: OnceLock::new(),
            servers: Mutex::new(None),
            failed_at: Arc::default(),
            retry_pause,
        }
    }

    /// The license servers by id, at most [`SERVER_CACHE_TTL`] old.
    pub async fn servers(
        &self,
        store: &dyn Store,
    ) -> Result<Arc<HashMap<ServerId, LicenseServer>>, licmon_store::StoreError> {
        if let Some((at, map)) = self.servers.lock().expect("not poisoned").as_ref()
            && at.elapsed() < SERVER_CACHE_TTL
        {
            return Ok(map.clone());
        }
        let map: Arc<HashMap<ServerId, LicenseServer>> = Arc::new(
            store
                .list_servers()
                .await?
                .into_iter()
                .map(|s| (s.id, s))
                .collect(),
        );
        *self.servers.lock().expect("not poisoned") = Some((Instant::now(), map.clone()));
        Ok(map)
    }

    /// Forgets the cached server list (after an administrator changed servers on this node).
    pub fn invalidate(&self) {
        *self.servers.lock().expect("not poisoned") = None;
    }

    /// Queues one agent's accepted reports for the writer (waiting for room when the queue is
    /// full). Refused while the store refuses writes.
    pub async fn submit(
        &self,
        store: Arc<dyn Store>,
        status: StatusSettings,
        batch: AgentReportBatch,
    ) -> Result<(), String> {
        let pause = self.retry_pause;
        if self
            .failed_at
            .lock()
            .expect("not poisoned")
            .is_some_and(|at| at.elapsed() < pause * WRITE_ATTEMPTS)
        {
            return Err(UNAVAILABLE.to_string());
        }
        let writer = self.writer.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(write_loop(store, status, rx, self.failed_at.clone(), pause));
            tx
        });
        writer
            .send(Job::Report(batch))
            .await
            .map_err(|_| "the report writer has stopped".to_string())
    }

    /// Waits until every report queued before this call is written (a clean stop calls it
    /// after the web server has finished its requests; tests and benchmarks to read back).
    pub async fn flush(&self) {
        let Some(writer) = self.writer.get() else {
            return;
        };
        let (done, wait) = oneshot::channel();
        if writer.send(Job::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

const UNAVAILABLE: &str = "licmon cannot store reports right now; send them again later";

/// Merges documents of the same agent: the later one's identity, each server's newest report.
fn merge(batches: Vec<AgentReportBatch>) -> Vec<AgentReportBatch> {
    // Usually every agent sends one document per group: nothing to merge, nothing to copy.
    let mut ids: std::collections::HashSet<&str> =
        std::collections::HashSet::with_capacity(batches.len());
    if batches.iter().all(|b| ids.insert(&b.agent.agent_id)) {
        return batches;
    }
    drop(ids);
    let mut index: HashMap<String, usize> = HashMap::with_capacity(batches.len());
    let mut out: Vec<AgentReportBatch> = Vec::with_capacity(batches.len());
    for b in batches {
        match index.get(&b.agent.agent_id) {
            None => {
                index.insert(b.agent.agent_id.clone(), out.len());
                out.push(b);
            }
            Some(&i) => {
                let kept = &mut out[i];
                for r in b.reports {
                    kept.reports.retain(|k| k.server_id != r.server_id);
                    kept.reports.push(r);
                }
                kept.agent = b.agent;
                kept.received_at = kept.received_at.max(b.received_at);
                if b.error.is_some() {
                    kept.error = b.error;
                }
            }
        }
    }
    out
}

/// Writes one merged group, retrying while the store fails; `failed_at` tells the handlers.
async fn write_group(
    store: &dyn Store,
    group: &[AgentReportBatch],
    failed_at: &Mutex<Option<Instant>>,
    pause: Duration,
) -> bool {
    for attempt in 1..=WRITE_ATTEMPTS {
        match store.record_agent_reports(group).await {
            Ok(()) => {
                *failed_at.lock().expect("not poisoned") = None;
                return true;
            }
            Err(e) => {
                *failed_at.lock().expect("not poisoned") = Some(Instant::now());
                tracing::error!(error = %e, attempt, reports = group.len(), "cannot store agent reports");
                if attempt < WRITE_ATTEMPTS {
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
    tracing::error!(
        reports = group.len(),
        "agent reports dropped after {WRITE_ATTEMPTS} failed attempts; the agents' next reports replace them"
    );
    false
}

async fn write_loop(
    store: Arc<dyn Store>,
    status: StatusSettings,
    mut rx: mpsc::Receiver<Job>,
    failed_at: Arc<Mutex<Option<Instant>>>,
    pause: Duration,
) {
    let mut jobs = Vec::with_capacity(MAX_GROUP);
    let gap = usage_tick(status.agent_window);
    // When this node last refreshed each server: skip the store's claim while it cannot win.
    let mut refreshed: HashMap<ServerId, Instant> = HashMap::new();
    let gap_std = gap.to_std().unwrap_or(Duration::from_secs(1)) * 9 / 10;
    while rx.recv_many(&mut jobs, MAX_GROUP).await > 0 {
        let mut batches = Vec::with_capacity(jobs.len());
        let mut flushes = Vec::new();
        for job in jobs.drain(..) {
            match job {
                Job::Report(b) => batches.push(b),
                Job::Flush(done) => flushes.push(done),
            }
        }
        let touched: Vec<ServerId> = {
            let mut ids: Vec<ServerId> = batches
                .iter()
                .flat_map(|b| b.reports.iter())
                .filter(|r| !r.mark_remote_sessions)
                .map(|r| r.server_id)
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let written = batches.is_empty()
            || write_group(store.as_ref(), &merge(batches), &failed_at, pause).await;
        for done in flushes {
            let _ = done.send(());
        }
        // Agent applications servers show new usage without waiting for the next tick (at most
        // once per tick, so rollups keep one sample per tick).
        if written {
            for id in touched {
                if refreshed.get(&id).is_some_and(|at| at.elapsed() < gap_std) {
                    continue;
                }
                refreshed.insert(id, Instant::now());
                refresh_one(store.as_ref(), id, status.agent_window, gap).await;
            }
        }
    }
}

/// How often agent-apps usage is refreshed: a quarter of the agent window, 1 s to 15 s.
pub fn usage_tick(window: chrono::Duration) -> chrono::Duration {
    (window / 4).clamp(chrono::Duration::seconds(1), chrono::Duration::seconds(15))
}

async fn refresh_one(
    store: &dyn Store,
    id: ServerId,
    window: chrono::Duration,
    tick: chrono::Duration,
) {
    // A little under the tick, so that timer jitter never skips a sample.
    let gap = tick * 9 / 10;
    if let Err(e) = store.refresh_agent_usage(id, Utc::now(), window, gap).await {
        tracing::warn!(server = id, error = %e, "cannot refresh agent usage");
    }
}

/// Refreshes the usage of every Agent applications server whose End User source is on, once
/// per [`usage_tick`], until `stop` turns true. Run one per node (`licmon serve` does).
pub async fn usage_loop(
    store: Arc<dyn Store>,
    status: StatusSettings,
    mut stop: watch::Receiver<bool>,
) {
    let tick = usage_tick(status.agent_window);
    let mut timer = tokio::time::interval(tick.to_std().unwrap_or(Duration::from_secs(15)));
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = timer.tick() => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
        let servers = match store.list_servers().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list servers for agent usage");
                continue;
            }
        };
        for s in servers
            .iter()
            .filter(|s| s.kind == ManagerKind::AgentApps && s.data_sources.end_user)
        {
            refresh_one(store.as_ref(), s.id, status.agent_window, tick).await;
        }
    }
}

/// Why reports for `server` are refused, if they are: `(status, reason)`.
pub fn refusal(server: Option<&LicenseServer>, id: ServerId) -> Option<(u16, String)> {
    match server {
        None => Some((
            400,
            format!("there is no license server {id}; fetch /api/v1/agent/config again"),
        )),
        Some(s) if !s.kind.supports(DataSource::EndUser) => Some((
            409,
            format!(
                "license server {id} ({}) is of type {}, which has no end-user monitoring",
                s.name,
                s.kind.api_id()
            ),
        )),
        Some(s) if !s.data_sources.end_user => Some((
            409,
            format!(
                "the End User data source of license server {id} ({}) is Disabled; an administrator must enable it before agents may report for it",
                s.name
            ),
        )),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use licmon_store::{AgentIdentity, AgentServerReport};

    fn b(agent: &str, secs: i64, servers: &[ServerId]) -> AgentReportBatch {
        AgentReportBatch {
            agent: AgentIdentity {
                agent_id: agent.into(),
                host: agent.into(),
                user: "root".into(),
                version: format!("v{secs}"),
                token_id: None,
            },
            received_at: Utc.timestamp_opt(secs, 0).unwrap(),
            error: None,
            reports: servers
                .iter()
                .map(|&server_id| AgentServerReport {
                    server_id,
                    mark_remote_sessions: false,
                    apps: Vec::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn documents_of_one_agent_merge_newest_per_server() {
        let merged = merge(vec![
            b("a", 1, &[1, 2]),
            b("x", 1, &[1]),
            b("a", 2, &[2, 3]),
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].agent.version, "v2");
        let servers: Vec<ServerId> = merged[0].reports.iter().map(|r| r.server_id).collect();
        assert_eq!(servers, vec![1, 2, 3]);
        assert_eq!(merged[0].received_at.timestamp(), 2);
    }

    #[tokio::test]
    async fn accepted_reports_are_written_by_flush_and_refused_while_the_store_fails() {
        use licmon_core::server::LicenseServerInput;
        use licmon_store::{AgentStore, DatabaseUrl, ServerStore, SqlStore};
        let dir = tempfile::tempdir().unwrap();
        let sql = Arc::new(
            SqlStore::open(&DatabaseUrl::sqlite_in(dir.path()))
                .await
                .unwrap(),
        );
        let input = LicenseServerInput {
            name: "cad".into(),
            kind: "agent-apps".into(),
            time_zone: Some("UTC".into()),
            ..Default::default()
        };
        let server = sql
            .create_server(&input.validate().unwrap(), Utc::now())
            .await
            .unwrap()
            .id;
        let store: Arc<dyn Store> = sql.clone();
        let ingest = AgentIngest::with_retry_pause(Duration::from_millis(10));
        let status = StatusSettings::default();
        for i in 0..50 {
            let mut doc = b(&format!("ws-{i}"), 100 + i, &[server]);
            doc.received_at = Utc::now();
            ingest.submit(store.clone(), status, doc).await.unwrap();
        }
        ingest.flush().await;
        assert_eq!(sql.list_agents().await.unwrap().len(), 50, "all written");

        // The database goes away: the queued report is retried, then dropped; from the first
        // failure on, reports are refused so that agents keep them.
        sql.close().await;
        let doc = b("ws-late", 200, &[server]);
        ingest.submit(store.clone(), status, doc).await.unwrap();
        ingest.flush().await;
        let refused = ingest
            .submit(store.clone(), status, b("ws-later", 201, &[server]))
            .await;
        assert_eq!(refused, Err(UNAVAILABLE.to_string()));
        // Later, reports are taken again: the next write finds out whether the store is back.
        tokio::time::sleep(Duration::from_millis(60)).await;
        let taken = ingest
            .submit(store.clone(), status, b("ws-retry", 202, &[server]))
            .await;
        assert_eq!(taken, Ok(()));
    }

    #[test]
    fn the_tick_is_a_quarter_window_within_bounds() {
        let s = chrono::Duration::seconds;
        assert_eq!(usage_tick(s(120)), s(15));
        assert_eq!(usage_tick(s(40)), s(10));
        assert_eq!(usage_tick(s(2)), s(1));
    }
}
