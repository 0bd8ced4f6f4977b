//! `licmon serve`: the store, the web server, the collector and the node heartbeat, with a
//! graceful shutdown on Ctrl-C or SIGTERM, bounded in time (`stop.rs`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use licmon_collect::{Collector, CollectorConfig};
use licmon_server::AppState;
use licmon_store::{DatabaseUrl, MonitorStore, NodeHeartbeat, SqlStore, StatusSettings, Store};
use tokio::sync::watch;

use crate::config::{CommonFlags, Config};
use crate::node_lock::NodeLock;
use crate::stop::{StopGrace, StopSteps};

/// How often a node says it is alive; a heartbeat older than four of these makes it dead, and
/// its servers Unmonitored when no other collector is alive.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Address and port to listen on, e.g. 0.0.0.0:8080.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Serve the web UI and API without polling license servers (they show Unmonitored).
    #[arg(long)]
    pub no_monitoring: bool,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = crate::load_config(&args.common)?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if args.no_monitoring {
        config.monitoring = false;
    }
    crate::init_logging(config.log_format);
    let _single_node = lock_sqlite(&database_url(&config)?)?;
    let store = open_store(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    let scheme = crate::web::scheme(&config);
    tracing::info!(%address, monitoring = config.monitoring, "licmon is listening on {scheme}://{address}/");
    run_node(config, store, listener, shutdown_signal()).await
}

/// Opens the configured database (or the default SQLite file) and migrates it.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<SqlStore>> {
    let url = database_url(config)?;
    let store = SqlStore::open(&url).await?;
    tracing::info!(database = %licmon_store::redact(&url.url), "database ready");
    Ok(Arc::new(store))
}

/// The database a node runs on: the configured URL, or the SQLite file in the data folder.
pub fn database_url(config: &Config) -> anyhow::Result<DatabaseUrl> {
    Ok(match &config.database {
        Some(url) => DatabaseUrl::parse(url)?,
        None => {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!(
                    "cannot create the data folder {}",
                    config.data_dir.display()
                )
            })?;
            DatabaseUrl::sqlite_in(&config.data_dir)
        }
    })
}

/// SQLite is single-node: a second node on the same file is refused (see `node_lock.rs`).
/// Several nodes share a PostgreSQL database and split the polling through leases.
pub fn lock_sqlite(url: &DatabaseUrl) -> anyhow::Result<Option<NodeLock>> {
    let lock = url
        .sqlite_path
        .as_deref()
        .map(NodeLock::acquire)
        .transpose()?;
    if let Some(lock) = &lock {
        tracing::info!(lock = %lock.path().display(), "SQLite: this is the only node");
    }
    Ok(lock)
}

pub fn status_settings(config: &Config) -> StatusSettings {
    StatusSettings {
        max_license_servers: config.max_license_servers,
        agent_window: chrono::Duration::seconds(config.agent_window_secs as i64),
        heartbeat_timeout: chrono::Duration::seconds(4 * HEARTBEAT_EVERY.as_secs() as i64),
    }
}

/// Runs one licmon node until `shutdown` resolves.
pub async fn run_node(
    config: Config,
    store: Arc<SqlStore>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let node = NodeHeartbeat {
        node_id: format!(
            "{}-{}-{}",
            hostname(),
            std::process::id(),
            Utc::now().timestamp_millis()
        ),
        host: hostname(),
        started_at: Utc::now(),
        heartbeat_at: Utc::now(),
        collector_running: config.monitoring,
    };
    store.heartbeat(&node).await?;
    let heartbeat = tokio::spawn(heartbeat_loop(store.clone(), node.clone(), stop_rx.clone()));
    let mut poll_metrics = None;
    let collector = config.monitoring.then(|| {
        let collector_config = CollectorConfig {
            utilities: config.utilities.clone(),
            poll_concurrency: config.poll_concurrency,
            max_output_bytes: config.max_output_bytes,
            max_license_servers: config.max_license_servers,
            node_id: node.node_id.clone(),
            ..CollectorConfig::default()
        };
        let dyn_store: Arc<dyn Store> = store.clone();
        let collector = Collector::new(dyn_store, collector_config);
        poll_metrics = Some(collector.stats().metrics().clone());
        tokio::spawn(collector.run(stop_rx.clone()))
    });
    let mut state = AppState::new(store.clone(), status_settings(&config));
    state.agent_report_interval_secs = config.agent_report_interval_secs;
    if u64::from(config.agent_window_secs) < 2 * config.agent_report_interval_secs {
        tracing::warn!(
            agent_window_secs = config.agent_window_secs,
            agent_report_interval_secs = config.agent_report_interval_secs,
            "agents reporting at this interval can show Offline between two reports: keep agent_window_secs at least twice agent_report_interval_secs"
        );
    }
    // Alerts: every node runs the evaluator; the lease in the database lets one evaluate.
    state.metrics = licmon_server::metrics::MetricsState {
        polls: poll_metrics,
        token: config.metrics_token.as_deref().map(Arc::from),
    };
    let alerts = tokio::spawn(licmon_alert::run(
        store.clone(),
        licmon_alert::EvaluatorConfig {
            node_id: node.node_id.clone(),
            every: Duration::from_secs(config.alert_eval_secs),
            status: status_settings(&config),
        },
        stop_rx.clone(),
    ));
    // Log imports: uploads through the API, and the watched folder.
    let importer = crate::import_cmd::importer(&config, store.clone());
    state.importer = importer.clone();
    state.upload_dir = crate::import_cmd::upload_dir(&config);
    let import_watch = crate::import_cmd::spawn_watch(&config, importer, stop_rx.clone());
    // Agent applications servers: agent reports → usage history, once per tick.
    let agent_usage = tokio::spawn(licmon_server::agent_ingest::usage_loop(
        store.clone(),
        state.status,
        stop_rx.clone(),
    ));
    let stop_for_server = stop_tx.clone();
    let agent_reports = state.agents.clone();
    let grace = StopGrace::default();
    let web = crate::web::serve(&config, listener, state, async move {
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_for_server.send(true);
    });
    let served = grace.serve(web, stop_rx.clone()).await;
    let _ = stop_tx.send(true);
    let steps = StopSteps::default();
    let finished = grace
        .run_steps(&steps, async {
            // Reports answered 200 but still queued are written before the database closes.
            steps.enter("writing queued agent reports");
            agent_reports.flush().await;
            steps.enter("stopping the poll engine");
            if let Some(collector) = collector {
                let _ = collector.await;
            }
            steps.enter("stopping the heartbeat, alerts, agent usage and the watched folder");
            let _ = heartbeat.await;
            let _ = alerts.await;
            let _ = agent_usage.await;
            if let Some(watch) = import_watch {
                let _ = watch.await;
            }
            // A clean stop says so at once, so that other nodes and pages show Unmonitored
            // without waiting for the heartbeat to go stale.
            steps.enter("unregistering the node");
            if let Err(e) = store.remove_node(&node.node_id).await {
                tracing::warn!(error = %e, "cannot unregister this node");
            }
            steps.enter("closing the database");
            store.close().await;
        })
        .await;
    if finished {
        tracing::info!("stopped");
    }
    served.context("the web server failed").map(|_| ())
}

async fn heartbeat_loop(
    store: Arc<SqlStore>,
    mut node: NodeHeartbeat,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(HEARTBEAT_EVERY) => {}
            _ = stop.changed() => return,
        }
        node.heartbeat_at = Utc::now();
        if let Err(e) = store.heartbeat(&node).await {
            tracing::warn!(error = %e, "cannot write the heartbeat");
        }
    }
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
