//! Totals for Prometheus (`GET /metrics`): denials and import runs per server, counted in the
//! database so that every node reports the same monotonic counters.

use async_trait::async_trait;
use licmon_core::ServerId;
use sqlx::Row;

use crate::rows::get_bool;
use crate::{SqlStore, StoreResult};

/// Denials of one server: `retry` false = true denials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenialTotal {
    pub server_id: ServerId,
    pub retry: bool,
    pub denials: u64,
}

/// Import runs of one server with one outcome (`success`, `failure`, `refused`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportTotal {
    pub server_id: ServerId,
    pub outcome: String,
    pub runs: u64,
}

#[async_trait]
pub trait MetricsStore: Send + Sync {
    async fn denial_totals(&self) -> StoreResult<Vec<DenialTotal>>;
    async fn import_totals(&self) -> StoreResult<Vec<ImportTotal>>;
}

#[async_trait]
impl MetricsStore for SqlStore {
    async fn denial_totals(&self) -> StoreResult<Vec<DenialTotal>> {
        let rows = sqlx::query(
            "SELECT server_id, retry, COUNT(*) AS n FROM denials GROUP BY server_id, retry \
             ORDER BY server_id, retry",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DenialTotal {
                    server_id: r.try_get("server_id")?,
                    retry: get_bool(r, "retry")?,
                    denials: r.try_get::<i64, _>("n")?.max(0) as u64,
                })
            })
            .collect()
    }

    async fn import_totals(&self) -> StoreResult<Vec<ImportTotal>> {
        let rows = sqlx::query(
            "SELECT server_id, outcome, COUNT(*) AS n FROM imports GROUP BY server_id, outcome \
             ORDER BY server_id, outcome",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ImportTotal {
                    server_id: r.try_get("server_id")?,
                    outcome: r.try_get("outcome")?,
                    runs: r.try_get::<i64, _>("n")?.max(0) as u64,
                })
            })
            .collect()
    }
}
