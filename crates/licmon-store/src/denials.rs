//! Reading the denials imports found: the filtered list (paged by limit/offset, either order)
//! and the per-feature / per-user counts an administrator sizes seat counts by.
//!
//! Both reads share one WHERE clause (server, time range, optional feature and user), so the
//! counts above the list always describe exactly the rows the list pages through.

use chrono::{DateTime, Utc};
use licmon_core::ServerId;
use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, Row};

use crate::StoreResult;
use crate::rows::{from_millis, get_bool, get_u64, millis};

/// Denials a list page holds when the query asks for none (`limit` 0).
const DEFAULT_PAGE: u32 = 1000;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DenialRecord {
    pub id: i64,
    pub server_id: ServerId,
    pub source: String,
    pub at: DateTime<Utc>,
    pub feature: String,
    pub user: String,
    pub host: String,
    pub count: u64,
    pub reason: Option<String>,
    pub retry: bool,
}

/// Which denials, in which order. The default is every denial, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DenialQuery {
    /// Only true denials (no retries).
    pub true_only: bool,
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
    /// Only this feature (exact name).
    pub feature: Option<String>,
    /// Only this user (exact name).
    pub user: Option<String>,
    /// Newest first (by time, then id) instead of oldest first.
    pub newest_first: bool,
    /// 0 = 1000.
    pub limit: u32,
    pub offset: u32,
}

/// What denial counts are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DenialGroup {
    Feature,
    User,
}

impl DenialGroup {
    fn column(self) -> &'static str {
        match self {
            DenialGroup::Feature => "feature",
            DenialGroup::User => "user_name",
        }
    }
}

/// Denials of one feature or one user in a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DenialCount {
    /// The feature or user name.
    pub name: String,
    /// Every denial, retries included.
    pub denials: u64,
    /// Denials no checkout followed within the retry window.
    pub true_denials: u64,
    /// Distinct users with a true denial (1 or 0 when grouped by user).
    pub users: u64,
    /// Distinct features with a true denial (1 or 0 when grouped by feature).
    pub features: u64,
    pub last_at: DateTime<Utc>,
}

/// The filter part of a [`DenialQuery`] (true_only, order and paging do not apply to counts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DenialFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub feature: Option<String>,
    pub user: Option<String>,
}

/// `$1` server, `$2`/`$3` the range, `$4` feature, `$5` user, `$6` the `retry` value of a true
/// denial. Optional filters are "$n IS NULL OR …" so that one statement serves every filter.
const WHERE: &str = "WHERE server_id = $1 AND at >= $2 AND at < $3 \
     AND ($4 IS NULL OR feature = $4) AND ($5 IS NULL OR user_name = $5)";

fn bind_filter<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    id: ServerId,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    feature: &Option<String>,
    user: &Option<String>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(id)
        .bind(from.map(millis).unwrap_or(i64::MIN))
        .bind(to.map(millis).unwrap_or(i64::MAX))
        .bind(feature.clone())
        .bind(user.clone())
        .bind(false)
}

pub(crate) async fn list(
    pool: &AnyPool,
    id: ServerId,
    q: &DenialQuery,
) -> StoreResult<Vec<DenialRecord>> {
    let order = if q.newest_first {
        "at DESC, id DESC"
    } else {
        "at, id"
    };
    let sql = format!(
        "SELECT id, server_id, source, at, feature, user_name, host, count, reason, retry \
         FROM denials {WHERE} AND ($7 = 0 OR retry = $6) ORDER BY {order} LIMIT $8 OFFSET $9"
    );
    let limit = if q.limit == 0 { DEFAULT_PAGE } else { q.limit };
    let rows = bind_filter(sqlx::query(&sql), id, q.from, q.to, &q.feature, &q.user)
        .bind(i64::from(q.true_only))
        .bind(i64::from(limit))
        .bind(i64::from(q.offset))
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(DenialRecord {
                id: r.try_get("id")?,
                server_id: r.try_get("server_id")?,
                source: r.try_get("source")?,
                at: from_millis(r.try_get("at")?)?,
                feature: r.try_get("feature")?,
                user: r.try_get("user_name")?,
                host: r.try_get("host")?,
                count: r.try_get::<i64, _>("count")?.max(0) as u64,
                reason: r.try_get("reason")?,
                retry: get_bool(r, "retry")?,
            })
        })
        .collect()
}

/// Counts per feature or user, most true denials first (then most denials, then name).
pub(crate) async fn counts(
    pool: &AnyPool,
    id: ServerId,
    by: DenialGroup,
    filter: &DenialFilter,
    limit: u32,
) -> StoreResult<Vec<DenialCount>> {
    let column = by.column();
    let sql = format!(
        "SELECT {column} AS name, COUNT(*) AS denials, \
         SUM(CASE WHEN retry = $6 THEN 1 ELSE 0 END) AS true_denials, \
         COUNT(DISTINCT CASE WHEN retry = $6 THEN user_name END) AS users, \
         COUNT(DISTINCT CASE WHEN retry = $6 THEN feature END) AS features, \
         MAX(at) AS last_at FROM denials {WHERE} \
         GROUP BY {column} ORDER BY true_denials DESC, denials DESC, name LIMIT $7"
    );
    let rows = bind_filter(
        sqlx::query(&sql),
        id,
        filter.from,
        filter.to,
        &filter.feature,
        &filter.user,
    )
    .bind(i64::from(limit.max(1)))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DenialCount {
                name: r.try_get("name")?,
                denials: get_u64(r, "denials")?,
                true_denials: get_u64(r, "true_denials")?,
                users: get_u64(r, "users")?,
                features: get_u64(r, "features")?,
                last_at: from_millis(r.try_get("last_at")?)?,
            })
        })
        .collect()
}
