//! licmon's storage: role traits ([`ServerStore`], [`MonitorStore`], [`HistoryStore`],
//! [`EventLog`]) and one implementation, [`SqlStore`], over SQLite (the default) and PostgreSQL.
//!
//! Invariants:
//! - The backend is chosen by URL scheme ([`DatabaseUrl`]); a bad URL never creates a database.
//! - Migrations are embedded and append-only, one folder per backend, run at start-up.
//! - Both backends run the same SQL (`$N` placeholders, portable upserts) through sqlx's `Any`
//!   driver, so they cannot differ in behaviour; the shared suite in `tests/suite` proves it.
//! - Times are stored as Unix milliseconds in UTC.

mod agents;
mod alerts;
mod auth;
mod copy_text;
mod counted_denials;
mod current_agent_usage;
mod denials;
mod error;
mod events;
mod history;
mod imported_usage;
mod imports;
mod leases;
mod metrics;
mod monitor;
mod overview;
mod pg_copy;
mod preferences;
mod rows;
mod servers;
mod session_totals;
mod sqlite_agents;
mod sqlite_bulk;
mod traits;
mod url;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions};

pub use agents::{
    AGENT_SOURCE, AgentApp, AgentAppInput, AgentAppUsage, AgentIdentity, AgentRecord,
    AgentReportBatch, AgentServerReport, AgentStore,
};
pub use alerts::{AlertRecord, AlertStore, AppliedChanges, Delivery};
pub use auth::{
    ApiToken, AuthStore, FailedLogins, LoginAttempt, LoginSession, NewUser, Role, TokenScope, User,
    UserId,
};
pub use current_agent_usage::{AgentUsage, CurrentAgentUsage};
pub use denials::{DenialCount, DenialFilter, DenialGroup, DenialQuery, DenialRecord};
pub use error::{StoreError, StoreResult};
pub use imports::{
    BatchIds, CheckpointRecord, CheckpointWrite, IMPORT_SOURCE, ImportBatch, ImportRecord,
    ImportResume, ImportStore, NewDenial, NewSession, OpenImportSession,
};
pub use leases::{
    ClusterNode, FORGET_AFTER, Lease, LeaseStore, MEMBER_TTL, WantedServer, lease_for_interval,
};
pub use metrics::{DenialTotal, ImportTotal, MetricsStore};
pub use overview::{ServerOverview, StatusSettings, overviews};
pub use preferences::{ANONYMOUS_USER, PreferenceStore};
pub use session_totals::{SessionTotal, SessionTotals, TotalsBy};
pub use traits::*;
pub use url::{Backend, DatabaseUrl, redact};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The store over one database.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// SQLite files only: the import batch writer (`sqlite_bulk.rs`).
    sqlite_bulk: Option<sqlite_bulk::SqliteBulk>,
    /// PostgreSQL only: the import batch writer (`pg_copy.rs`).
    pg_copy: Option<pg_copy::PgCopy>,
}

impl SqlStore {
    /// Opens (and migrates) the database a URL names. For SQLite the file is created when its
    /// folder exists; a missing folder is an error, not a silent `mkdir`.
    pub async fn open(url: &DatabaseUrl) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let connect_url = match (url.backend, &url.sqlite_path) {
            (Backend::Sqlite, Some(path)) => {
                let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
                if let Some(folder) = folder.filter(|f| !f.is_dir()) {
                    return Err(StoreError::Unavailable(format!(
                        "the folder {} for the SQLite database does not exist; create it or choose another --database",
                        folder.display()
                    )));
                }
                format!("{}?mode=rwc", url.url)
            }
            _ => url.url.clone(),
        };
        let options = AnyConnectOptions::from_str(&connect_url)
            .map_err(|e| StoreError::BadUrl(format!("{}: {e}", redact(&url.url))))?
            .disable_statement_logging();
        let max = match url.backend {
            // One writer at a time is what SQLite does anyway; a few readers beside it.
            Backend::Sqlite => 4,
            Backend::Postgres => 16,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if url_is_sqlite(conn) {
                        for pragma in [
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = NORMAL",
                            "PRAGMA busy_timeout = 10000",
                        ] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot open {}: {e}", redact(&url.url)))
            })?;
        let store = Self {
            pool,
            backend: url.backend,
            sqlite_bulk: url.sqlite_path.as_deref().map(sqlite_bulk::SqliteBulk::new),
            pg_copy: match url.backend {
                Backend::Postgres => Some(pg_copy::PgCopy::new(url)?),
                Backend::Sqlite => None,
            },
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> StoreResult<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// A transaction that will write. SQLite must take the write lock up front (`IMMEDIATE`):
    /// a deferred transaction that reads first fails with SQLITE_BUSY_SNAPSHOT, which no busy
    /// timeout retries, when another writer commits in between.
    pub(crate) async fn write_tx(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        Ok(self.pool.begin_with(begin).await?)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        if let Some(bulk) = &self.sqlite_bulk {
            bulk.close().await;
        }
        if let Some(copy) = &self.pg_copy {
            copy.close().await;
        }
        self.pool.close().await;
    }
}

fn url_is_sqlite(conn: &sqlx::AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("sqlite")
}

impl Store for SqlStore {}
