use std::sync::Arc;

use chrono::{DateTime, Utc};
use licmon_store::{StatusSettings, Store};

/// Where "now" comes from: the system clock in production, a fixed one in tests.
#[derive(Clone)]
pub enum Clock {
    System,
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => *t,
        }
    }
}

/// What every handler can reach. Cloned for every request (axum's `State`, the guard), so it
/// is one shared allocation: a clone is one reference count, not a copy of every setting and
/// a dozen reference counts. It still behaves as a value: changing a field of a clone that
/// is shared copies it first (`Arc::make_mut`), so set up a state before serving it.
#[derive(Clone)]
pub struct AppState(Arc<AppStateFields>);

impl std::ops::Deref for AppState {
    type Target = AppStateFields;
    fn deref(&self) -> &AppStateFields {
        &self.0
    }
}

impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut AppStateFields {
        Arc::make_mut(&mut self.0)
    }
}

/// The fields of [`AppState`].
#[derive(Clone)]
pub struct AppStateFields {
    pub store: Arc<dyn Store>,
    pub status: StatusSettings,
    pub clock: Clock,
    /// Sessions, cookies, login limits (crate::auth).
    pub auth: crate::auth::AuthSettings,
    /// Tokens this node read recently (crate::auth::token_cache).
    pub tokens: Arc<crate::auth::token_cache::TokenCache>,
    /// When this node last pruned old login attempts (crate::auth::login_attempts).
    pub login_attempts: Arc<crate::auth::login_attempts::AttemptPruning>,
    /// Agent report ingestion (write-behind batches) and its server cache (crate::agent_ingest).
    pub agents: Arc<crate::agent_ingest::AgentIngest>,
    /// `/metrics`: this node's poll metrics and the optional scrape token (crate::metrics).
    pub metrics: crate::metrics::MetricsState,
    /// Log imports (`POST /api/v1/license-servers/{id}/imports`) and where uploads wait.
    pub importer: licmon_import::Importer,
    pub upload_dir: std::path::PathBuf,
    /// What `GET /api/v1/agent/config` tells agents: seconds between their reports.
    pub agent_report_interval_secs: u64,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, status: StatusSettings) -> Self {
        Self(Arc::new(AppStateFields {
            store: Arc::clone(&store),
            status,
            clock: Clock::System,
            auth: crate::auth::AuthSettings::default(),
            tokens: Arc::default(),
            login_attempts: Arc::default(),
            agents: Arc::default(),
            metrics: Default::default(),
            importer: licmon_import::Importer::new(
                Arc::clone(&store),
                licmon_import::ImportSettings {
                    max_license_servers: status.max_license_servers,
                    ..Default::default()
                },
            ),
            upload_dir: std::env::temp_dir(),
            agent_report_interval_secs: licmon_protocol::DEFAULT_REPORT_INTERVAL_SECS,
        }))
    }
}
