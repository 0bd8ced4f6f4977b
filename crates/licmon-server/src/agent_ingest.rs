//! Agent report ingestion: validation against the license servers, group commit into the store,
//! and the loop that turns agent usage of **Agent applications** servers into history.
//!
//! Invariants:
//! - A report document is accepted (200) only once it is committed: handlers queue their batch
//!   and wait for the writer, which takes everything queued (up to [`MAX_GROUP`] documents) and
//!   writes it in one transaction — one commit for many agents under load, one per document
//!   when idle. Two documents of one agent in one group are merged (newest report per server).
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
pub const MAX_GROUP: usize = 1024;
/// Queued documents before handlers wait for room (back-pressure instead of memory growth).
const QUEUE: usize = 8192;

type Reply = oneshot::Sender<Result<(), String>>;
/// License servers by id, as of when they were read.
type ServerMap = Arc<HashMap<ServerId, LicenseServer>>;

/// The ingestion state a node shares between its handlers (in [`crate::AppState`]).
#[derive(Default)]
pub struct AgentIngest {
    writer: OnceLock<mpsc::Sender<(AgentReportBatch, Reply)>>,
    servers: Mutex<Option<(Instant, ServerMap)>>,
}

impl AgentIngest {
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

    /// Queues one agent's accepted reports and waits until they are committed.
    pub async fn submit(
        &self,
        store: Arc<dyn Store>,
        status: StatusSettings,
        batch: AgentReportBatch,
    ) -> Result<(), String> {
        let writer = self.writer.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(write_loop(store, status, rx));
            tx
        });
        let (reply, done) = oneshot::channel();
        writer
            .send((batch, reply))
            .await
            .map_err(|_| "the report writer has stopped".to_string())?;
        done.await
            .map_err(|_| "the report writer has stopped".to_string())?
    }
}

/// Merges documents of the same agent: the later one's identity, each server's newest report.
fn merge(batches: Vec<AgentReportBatch>) -> Vec<AgentReportBatch> {
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

async fn write_loop(
    store: Arc<dyn Store>,
    status: StatusSettings,
    mut rx: mpsc::Receiver<(AgentReportBatch, Reply)>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    let gap = usage_tick(status.agent_window);
    // When this node last refreshed each server: skip the store's claim while it cannot win.
    let mut refreshed: HashMap<ServerId, Instant> = HashMap::new();
    let gap_std = gap.to_std().unwrap_or(Duration::from_secs(1)) * 9 / 10;
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        let (batches, replies): (Vec<_>, Vec<_>) = std::mem::take(&mut group).into_iter().unzip();
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
        let result = store
            .record_agent_reports(&merge(batches))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cannot store agent reports");
                "licmon cannot store reports right now; send them again later".to_string()
            });
        for reply in replies {
            let _ = reply.send(result.clone());
        }
        // Agent applications servers show new usage without waiting for the next tick (at most
        // once per tick, so rollups keep one sample per tick).
        if result.is_ok() {
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

    #[test]
    fn the_tick_is_a_quarter_window_within_bounds() {
        let s = chrono::Duration::seconds;
        assert_eq!(usage_tick(s(120)), s(15));
        assert_eq!(usage_tick(s(40)), s(10));
        assert_eq!(usage_tick(s(2)), s(1));
    }
}
