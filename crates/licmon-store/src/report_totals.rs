//! Denials summed per feature over a range, for the feature usage report: how often a
//! feature's users were turned away is the other half of "do we have enough seats".

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use licmon_core::ServerId;
use serde::Serialize;
use sqlx::Row;

use crate::rows::{get_u64, millis};
use crate::{SqlStore, StoreResult};

/// One feature's denials in a range (counts summed: a denial row may stand for several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FeatureDenials {
    pub feature: String,
    /// Every denial, retries included.
    pub denials: u64,
    /// Denials not followed by a checkout within the retry window.
    pub true_denials: u64,
}

#[async_trait]
pub trait ReportTotals: Send + Sync {
    /// Denials of server `id` in `[from, to)` per feature, by feature name.
    async fn feature_denials(
        &self,
        id: ServerId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<FeatureDenials>>;
}

#[async_trait]
impl ReportTotals for SqlStore {
    async fn feature_denials(
        &self,
        id: ServerId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<FeatureDenials>> {
        let rows = sqlx::query(
            "SELECT feature, CAST(SUM(count) AS BIGINT) AS denials, \
             CAST(SUM(CASE WHEN retry = $4 THEN count ELSE 0 END) AS BIGINT) AS true_denials \
             FROM denials WHERE server_id = $1 AND at >= $2 AND at < $3 \
             GROUP BY feature ORDER BY feature",
        )
        .bind(id)
        .bind(millis(from))
        .bind(millis(to))
        .bind(false)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FeatureDenials {
                    feature: row.try_get("feature")?,
                    denials: get_u64(row, "denials")?,
                    true_denials: get_u64(row, "true_denials")?,
                })
            })
            .collect()
    }
}
