//! Sessions summed per user, host or feature ([`SessionTotals`]): what the server page's Users
//! and Hosts tabs and the feature usage report show. Durations are clipped to the range asked for; open sessions count up to
//! `now`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use licmon_core::ServerId;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::rows::{from_millis, get_u64, millis};
use crate::{SqlStore, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TotalsBy {
    User,
    Host,
    Feature,
}

impl TotalsBy {
    fn column(self) -> &'static str {
        match self {
            TotalsBy::User => "user_name",
            TotalsBy::Host => "host",
            TotalsBy::Feature => "feature",
        }
    }
}

/// One user's (or host's) sessions in a range.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SessionTotal {
    /// The user, host or feature name.
    pub name: String,
    /// Sessions that overlap the range.
    pub sessions: u64,
    /// Distinct users among them.
    pub users: u64,
    /// Of those, still open.
    pub open: u64,
    /// Session time inside the range, in hours (a session of 2 licenses for 1 h counts 1 h).
    pub hours: f64,
    /// License hours: session time × licenses held.
    pub license_hours: f64,
    pub first_start: DateTime<Utc>,
    pub last_start: DateTime<Utc>,
}

#[async_trait]
pub trait SessionTotals: Send + Sync {
    /// Totals of the sessions of server `id` that overlap `[from, to)`, most hours first.
    async fn session_totals(
        &self,
        id: ServerId,
        by: TotalsBy,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionTotal>>;
}

const HOUR_MS: f64 = 3_600_000.0;

#[async_trait]
impl SessionTotals for SqlStore {
    async fn session_totals(
        &self,
        id: ServerId,
        by: TotalsBy,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionTotal>> {
        // $2 = from, $3 = to, $4 = now. The column name comes from the enum, never from input.
        let clipped = "(CASE WHEN COALESCE(ended_at, $4) > $3 THEN $3 ELSE COALESCE(ended_at, $4) END \
                        - CASE WHEN started_at < $2 THEN $2 ELSE started_at END)";
        let column = by.column();
        let sql = format!(
            "SELECT {column} AS name, COUNT(*) AS sessions, COUNT(DISTINCT user_name) AS users, \
             SUM(CASE WHEN ended_at IS NULL THEN 1 ELSE 0 END) AS open_sessions, \
             CAST(SUM(CASE WHEN {clipped} > 0 THEN {clipped} ELSE 0 END) AS BIGINT) AS ms, \
             CAST(SUM(CASE WHEN {clipped} > 0 THEN {clipped} * count ELSE 0 END) AS BIGINT) AS license_ms, \
             MIN(started_at) AS first_start, MAX(started_at) AS last_start \
             FROM sessions WHERE server_id = $1 AND started_at < $3 \
             AND (ended_at IS NULL OR ended_at >= $2) \
             GROUP BY {column} ORDER BY ms DESC, {column}"
        );
        let rows = sqlx::query(&sql)
            .bind(id)
            .bind(millis(from))
            .bind(millis(to))
            .bind(millis(now))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(SessionTotal {
                    name: row.try_get("name")?,
                    sessions: get_u64(row, "sessions")?,
                    users: get_u64(row, "users")?,
                    open: get_u64(row, "open_sessions")?,
                    hours: get_u64(row, "ms")? as f64 / HOUR_MS,
                    license_hours: get_u64(row, "license_ms")? as f64 / HOUR_MS,
                    first_start: from_millis(row.try_get("first_start")?)?,
                    last_start: from_millis(row.try_get("last_start")?)?,
                })
            })
            .collect()
    }
}
