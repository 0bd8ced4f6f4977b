use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use licmon_core::capacity::{CapacityEntry, over_capacity};
use licmon_core::snapshot::Snapshot;
use licmon_core::{DataSource, LicenseServer, ServerId};
use licmon_parse::ParseContext;
use licmon_store::Store;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::command::status_query;
use crate::runner::stderr_tail;
use crate::{PollStats, convert};

#[derive(Debug, Clone)]
pub struct CollectorConfig {
    /// Per-type utility overrides (`flexnet` → `/opt/flexlm/lmutil`).
    pub utilities: BTreeMap<String, String>,
    pub poll_concurrency: usize,
    pub max_output_bytes: usize,
    /// No poll waits longer than this, whatever the query interval.
    pub max_timeout: Duration,
    /// How often the collector looks for added, changed or removed servers.
    pub reload_every: Duration,
    pub max_license_servers: Option<u32>,
}

impl Default for CollectorConfig {
    fn default() -> Self {
        Self {
            utilities: BTreeMap::new(),
            poll_concurrency: 32,
            max_output_bytes: 16 * 1024 * 1024,
            max_timeout: Duration::from_secs(60),
            reload_every: Duration::from_secs(2),
            max_license_servers: None,
        }
    }
}

impl CollectorConfig {
    /// The timeout of one poll: most of the query interval (so that a hanging utility is
    /// Offline before the next poll is due), at most `max_timeout`.
    pub fn timeout_for(&self, server: &LicenseServer) -> Duration {
        let interval = Duration::from_secs(server.query_interval_secs as u64);
        (interval * 4 / 5).clamp(Duration::from_secs(2), self.max_timeout)
    }
}

/// Queries one server once: a snapshot, or the reason it failed (the Offline reason).
pub async fn poll_once(
    server: &LicenseServer,
    config: &CollectorConfig,
    now: DateTime<Utc>,
) -> Result<Snapshot, (&'static str, String)> {
    let query = status_query(server, &config.utilities).map_err(|e| ("config", e.to_string()))?;
    let output = query
        .execute(config.timeout_for(server), config.max_output_bytes)
        .await
        .map_err(|e| (e.kind(), e.to_string()))?;
    let report = query
        .format
        .parse(&output.stdout, &ParseContext::new(now, server.time_zone));
    if let Some(reason) = convert::down_reason(&report) {
        return Err(("server_down", reason));
    }
    if let Some(reason) = convert::unparseable_reason(&report) {
        return match output.exit_code {
            Some(code) if code != 0 => Err((
                "exit_status",
                format!("exit status {code}: {}", stderr_tail(&output.stderr)),
            )),
            _ => Err(("unparseable", reason)),
        };
    }
    Ok(convert::snapshot(&report, now))
}

/// The poll loops of one licmon node.
pub struct Collector {
    store: Arc<dyn Store>,
    config: CollectorConfig,
    stats: Arc<PollStats>,
}

/// What makes a running poll loop out of date: any change restarts it (and so polls at once,
/// which is how Verifying ends promptly after create, update and "Verify").
#[derive(Debug, Clone, PartialEq, Eq)]
struct LoopKey {
    updated_at: DateTime<Utc>,
    verify_requested_at: Option<DateTime<Utc>>,
}

impl Collector {
    pub fn new(store: Arc<dyn Store>, config: CollectorConfig) -> Self {
        Self {
            store,
            config,
            stats: Arc::new(PollStats::default()),
        }
    }

    pub fn stats(&self) -> Arc<PollStats> {
        self.stats.clone()
    }

    /// Runs until `shutdown` turns true; then stops every loop (killing running utilities).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let semaphore = Arc::new(Semaphore::new(self.config.poll_concurrency.max(1)));
        let mut loops: HashMap<ServerId, (LoopKey, JoinHandle<()>)> = HashMap::new();
        loop {
            match self.wanted_servers().await {
                Ok(wanted) => self.reconcile(&mut loops, wanted, &semaphore),
                Err(e) => tracing::warn!(error = %e, "cannot list license servers; retrying"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.reload_every) => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
        }
        for (_, (_, handle)) in loops.drain() {
            handle.abort();
            let _ = handle.await;
        }
        tracing::info!("collector stopped");
    }

    /// Servers this node should poll: remote supported and enabled, within capacity.
    async fn wanted_servers(&self) -> Result<Vec<LicenseServer>, licmon_store::StoreError> {
        let servers = self.store.list_servers().await?;
        let entries: Vec<CapacityEntry> = servers
            .iter()
            .map(|s| CapacityEntry {
                id: s.id,
                created_at: s.created_at,
                any_source_enabled: s.data_sources.any(),
            })
            .collect();
        let over = over_capacity(&entries, self.config.max_license_servers);
        Ok(servers
            .into_iter()
            .filter(|s| {
                s.kind.supports(DataSource::Remote)
                    && s.data_sources.remote
                    && !over.contains(&s.id)
            })
            .collect())
    }

    fn reconcile(
        &self,
        loops: &mut HashMap<ServerId, (LoopKey, JoinHandle<()>)>,
        wanted: Vec<LicenseServer>,
        semaphore: &Arc<Semaphore>,
    ) {
        let wanted_ids: Vec<ServerId> = wanted.iter().map(|s| s.id).collect();
        loops.retain(|id, (_, handle)| {
            let keep = wanted_ids.contains(id) && !handle.is_finished();
            if !keep {
                handle.abort();
            }
            keep
        });
        for server in wanted {
            let key = LoopKey {
                updated_at: server.updated_at,
                verify_requested_at: server.verify_requested_at,
            };
            if loops.get(&server.id).is_some_and(|(k, _)| *k == key) {
                continue;
            }
            if let Some((_, old)) = loops.remove(&server.id) {
                old.abort();
            }
            let id = server.id;
            let poller = PollLoop {
                server,
                store: self.store.clone(),
                config: self.config.clone(),
                stats: self.stats.clone(),
                semaphore: semaphore.clone(),
            };
            loops.insert(id, (key, tokio::spawn(poller.run())));
        }
    }
}

struct PollLoop {
    server: LicenseServer,
    store: Arc<dyn Store>,
    config: CollectorConfig,
    stats: Arc<PollStats>,
    semaphore: Arc<Semaphore>,
}

impl PollLoop {
    async fn run(self) {
        let interval = Duration::from_secs(self.server.query_interval_secs as u64);
        let mut ticker = tokio::time::interval(interval);
        // A poll that ran long does not cause a burst of catch-up polls.
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_error: Option<String> = None;
        loop {
            ticker.tick().await;
            let Ok(permit) = self.semaphore.acquire().await else {
                return;
            };
            let started = Utc::now();
            let outcome = poll_once(&self.server, &self.config, started).await;
            drop(permit);
            last_error = self.record(outcome, started, last_error).await;
        }
    }

    /// Stores the outcome; returns the error now standing (for logging transitions only once).
    async fn record(
        &self,
        outcome: Result<Snapshot, (&'static str, String)>,
        started: DateTime<Utc>,
        last_error: Option<String>,
    ) -> Option<String> {
        let name = &self.server.name;
        let elapsed_ms = (Utc::now() - started).num_milliseconds();
        let (stored, now_error) = match outcome {
            Ok(snapshot) => {
                self.stats.count("ok");
                tracing::debug!(server = %name, elapsed_ms, features = snapshot.features.len(), sessions = snapshot.checkouts.len(), "poll ok");
                (
                    self.store
                        .record_poll_success(self.server.id, &snapshot)
                        .await,
                    None,
                )
            }
            Err((kind, reason)) => {
                self.stats.count(kind);
                tracing::info!(server = %name, elapsed_ms, kind, %reason, "poll failed");
                (
                    self.store
                        .record_poll_failure(self.server.id, Utc::now(), &reason)
                        .await,
                    Some(reason),
                )
            }
        };
        if let Err(e) = stored {
            tracing::warn!(server = %name, error = %e, "cannot record the poll outcome");
            return last_error;
        }
        if now_error != last_error {
            let message = match &now_error {
                Some(reason) => format!("{name}: Offline: {reason}"),
                None => format!("{name}: Online"),
            };
            if let Err(e) = self
                .store
                .log_event(Utc::now(), Some(self.server.id), "poll", &message)
                .await
            {
                tracing::warn!(error = %e, "cannot write the event log");
            }
        }
        now_error
    }
}
