use std::collections::{BTreeMap, HashMap, HashSet};
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
use tokio::time::Instant;

use crate::command::status_query;
use crate::leases::LeaseKeeper;
use crate::license_info::LicenseFileInfo;
use crate::runner::stderr_tail;
use crate::{PollLatency, PollStats, convert};

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
    /// This node's id: the holder name of its polling leases (see `leases.rs`).
    pub node_id: String,
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
            node_id: format!("local-{}", std::process::id()),
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

/// How often the collector logs a summary of its polls (count, latency percentiles).
const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// The poll loops of one licmon node: one per server this node holds a lease on.
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
        let mut leases = LeaseKeeper::default();
        let mut wanted = Vec::new();
        let mut summary_at = Instant::now() + SUMMARY_EVERY;
        loop {
            match self.wanted_servers().await {
                Ok(now_wanted) => wanted = now_wanted,
                Err(e) => tracing::warn!(error = %e, "cannot list license servers; retrying"),
            }
            if let Err(e) = leases
                .round(self.store.as_ref(), &self.config.node_id, &wanted)
                .await
            {
                tracing::warn!(error = %e, "lease round failed; polling on until the leases run out");
            }
            if leases.held() != loops.len() {
                tracing::info!(held = leases.held(), wanted = wanted.len(), node = %self.config.node_id, "polling leases changed");
            }
            let held: Vec<LicenseServer> = wanted
                .iter()
                .filter(|s| leases.holds(s.id))
                .cloned()
                .collect();
            self.reconcile(&mut loops, held, &semaphore).await;
            if Instant::now() >= summary_at {
                summary_at += SUMMARY_EVERY;
                let s = self.stats.take_latencies();
                if s.polls > 0 {
                    tracing::info!(
                        polls = s.polls,
                        held = loops.len(),
                        run_p50_ms = s.run_p50,
                        run_p90_ms = s.run_p90,
                        run_p99_ms = s.run_p99,
                        run_max_ms = s.run_max,
                        due_p50_ms = s.due_p50,
                        due_p99_ms = s.due_p99,
                        due_max_ms = s.due_max,
                        "poll summary"
                    );
                }
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
        // The loops are gone: hand the servers to the other nodes now, not at lease expiry.
        if let Err(e) = self.store.release_leases(&self.config.node_id).await {
            tracing::warn!(error = %e, "cannot release this node's leases");
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

    /// Runs a loop for each server in `held` (restarting changed ones) and stops the others.
    async fn reconcile(
        &self,
        loops: &mut HashMap<ServerId, (LoopKey, JoinHandle<()>)>,
        held: Vec<LicenseServer>,
        semaphore: &Arc<Semaphore>,
    ) {
        let held_ids: HashSet<ServerId> = held.iter().map(|s| s.id).collect();
        loops.retain(|id, (_, handle)| {
            let keep = held_ids.contains(id) && !handle.is_finished();
            if !keep {
                handle.abort();
            }
            keep
        });
        let starting = held
            .iter()
            .any(|s| loops.get(&s.id).is_none_or(|(k, _)| *k != LoopKey::of(s)));
        // When a loop starts, it polls when the server is due, wherever it was polled last
        // (another node, or this one before a restart): a handover does not poll twice.
        let last_polls: HashMap<ServerId, DateTime<Utc>> = if starting {
            match self.store.monitor_facts().await {
                Ok(facts) => facts
                    .into_iter()
                    .filter_map(|f| f.last_poll_at.map(|at| (f.server_id, at)))
                    .collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the last polls; polling at once");
                    HashMap::new()
                }
            }
        } else {
            HashMap::new()
        };
        let now = Utc::now();
        for server in held {
            let key = LoopKey::of(&server);
            if loops.get(&server.id).is_some_and(|(k, _)| *k == key) {
                continue;
            }
            if let Some((_, old)) = loops.remove(&server.id) {
                old.abort();
            }
            let id = server.id;
            let first_poll_in = first_poll_delay(&server, last_polls.get(&id).copied(), now);
            let poller = PollLoop {
                first_poll_in,
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

impl LoopKey {
    fn of(server: &LicenseServer) -> Self {
        Self {
            updated_at: server.updated_at,
            verify_requested_at: server.verify_requested_at,
        }
    }
}

/// When a new poll loop polls first: at once for a server never polled or waiting for
/// verification, else when its query interval since the last poll has passed.
fn first_poll_delay(
    server: &LicenseServer,
    last_poll: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Duration {
    let Some(last) = last_poll else {
        return Duration::ZERO;
    };
    if server.verify_requested_at.is_some_and(|v| v >= last) {
        return Duration::ZERO;
    }
    let interval = Duration::from_secs(server.query_interval_secs as u64);
    let due = last + chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::zero());
    (due - now).to_std().unwrap_or(Duration::ZERO).min(interval)
}

struct PollLoop {
    /// How long to wait before the first poll.
    first_poll_in: Duration,
    server: LicenseServer,
    store: Arc<dyn Store>,
    config: CollectorConfig,
    stats: Arc<PollStats>,
    semaphore: Arc<Semaphore>,
}

impl PollLoop {
    async fn run(self) {
        let interval = Duration::from_secs(self.server.query_interval_secs as u64);
        let mut next = Instant::now() + self.first_poll_in;
        let mut last_error: Option<String> = None;
        let mut license_info = LicenseFileInfo::default();
        loop {
            tokio::time::sleep_until(next).await;
            let due = next;
            let Ok(permit) = self.semaphore.acquire().await else {
                return;
            };
            let run_from = Instant::now();
            // The next poll is one interval after this one *starts*: polls of one server are
            // never closer than the interval, and servers that queued for the concurrency cap
            // spread out instead of bursting together at every interval.
            next = Instant::now() + interval;
            let started = Utc::now();
            let mut outcome = poll_once(&self.server, &self.config, started).await;
            let ms = |since: Instant| since.elapsed().as_millis().min(u32::MAX as u128) as u32;
            // The poll's latency is the status query's: the hourly license-file read below
            // would show as a spike in it.
            let run_ms = ms(run_from);
            if let Ok(snapshot) = &mut outcome {
                license_info
                    .refresh_and_fill(&self.server, &self.config, started, snapshot)
                    .await;
            }
            let outcome_kind = match &outcome {
                Ok(_) => "ok",
                Err((kind, _)) => *kind,
            };
            self.stats
                .metrics()
                .observe(&self.server.name, outcome_kind, run_ms);
            // Storing the outcome counts against the concurrency cap too: when the database is
            // slow, polling slows down with it instead of piling up writes (and connection-pool
            // timeouts) behind it.
            last_error = self.record(outcome, started, last_error).await;
            drop(permit);
            self.stats.latency(PollLatency {
                run_ms,
                since_due_ms: ms(due),
            });
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use licmon_core::server::LicenseServerInput;

    use super::*;

    fn server(interval: i64) -> LicenseServer {
        let settings = LicenseServerInput {
            name: "s".into(),
            kind: "flexnet".into(),
            address: Some("1@h".into()),
            query_interval_secs: Some(interval),
            ..Default::default()
        }
        .validate()
        .unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        LicenseServer::from_settings(1, settings, t0)
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(secs)
    }

    #[test]
    fn a_server_never_polled_is_polled_at_once() {
        assert_eq!(first_poll_delay(&server(60), None, at(100)), Duration::ZERO);
    }

    #[test]
    fn a_handed_over_server_is_polled_when_due() {
        let s = server(60);
        assert_eq!(
            first_poll_delay(&s, Some(at(100)), at(130)),
            Duration::from_secs(30)
        );
        assert_eq!(first_poll_delay(&s, Some(at(100)), at(200)), Duration::ZERO);
        // A clock far behind never waits longer than one interval.
        assert_eq!(
            first_poll_delay(&s, Some(at(100)), at(0)),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn a_verification_request_polls_at_once() {
        let mut s = server(60);
        s.verify_requested_at = Some(at(120));
        assert_eq!(first_poll_delay(&s, Some(at(100)), at(130)), Duration::ZERO);
    }
}
