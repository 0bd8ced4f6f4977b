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

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub status: StatusSettings,
    pub clock: Clock,
    /// Sessions, cookies, login limits (crate::auth).
    pub auth: crate::auth::AuthSettings,
    /// Tokens this node read recently (crate::auth::token_cache).
    pub tokens: Arc<crate::auth::token_cache::TokenCache>,
    /// Agent report ingestion (group commit) and its server cache (crate::agent_ingest).
    pub agents: Arc<crate::agent_ingest::AgentIngest>,
    /// `/metrics`: this node's poll metrics and the optional scrape token (crate::metrics).
    pub metrics: crate::metrics::MetricsState,
    /// Log imports (`POST /api/v1/license-servers/{id}/imports`) and where uploads wait.
    pub importer: licmon_import::Importer,
    pub upload_dir: std::path::PathBuf,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, status: StatusSettings) -> Self {
        Self {
            store: Arc::clone(&store),
            status,
            clock: Clock::System,
            auth: crate::auth::AuthSettings::default(),
            tokens: Arc::default(),
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
        }
    }
}
