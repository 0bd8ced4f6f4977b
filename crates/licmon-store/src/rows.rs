//! Turning rows into domain values. `Any` rows decode booleans differently per backend
//! (PostgreSQL BOOLEAN, SQLite 0/1), so every boolean goes through [`get_bool`].

use chrono::{DateTime, Utc};
use licmon_core::{DataSourceSwitches, LicenseServer, ManagerKind, ServerAddress};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Backend, StoreError, StoreResult};

/// `NotFound` when a statement aimed at one row by its key touched none.
pub fn touched(done: &sqlx::any::AnyQueryResult) -> StoreResult<()> {
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Appends `rows` tuples of `cols` parameters for a multi-row statement: `($first, ..), (..)`
/// on PostgreSQL, anonymous `?` on SQLite — sqlx looks every numbered SQLite parameter up by
/// name, which SQLite answers by a linear scan, so thousands of `$N` cost quadratic time there;
/// `?` is bound by position without a lookup. Do not mix with `$N` in one SQLite statement.
pub fn push_placeholders(
    sql: &mut String,
    backend: Backend,
    rows: usize,
    cols: usize,
    first: usize,
) {
    use std::fmt::Write;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            let sep = if c == 0 { "" } else { ", " };
            let _ = match backend {
                Backend::Sqlite => write!(sql, "{sep}?"),
                Backend::Postgres => write!(sql, "{sep}${}", first + r * cols + c),
            };
        }
        sql.push(')');
    }
}

/// [`push_placeholders`] as a new string.
pub fn placeholders(backend: Backend, rows: usize, cols: usize, first: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 5);
    push_placeholders(&mut sql, backend, rows, cols, first);
    sql
}

pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms} out of range")))
}

pub fn opt_from_millis(ms: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
    ms.map(from_millis).transpose()
}

pub fn get_bool(row: &AnyRow, column: &str) -> StoreResult<bool> {
    match row.try_get::<bool, _>(column) {
        Ok(b) => Ok(b),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}

pub fn get_opt_bool(row: &AnyRow, column: &str) -> StoreResult<Option<bool>> {
    match row.try_get::<Option<bool>, _>(column) {
        Ok(b) => Ok(b),
        Err(_) => Ok(row.try_get::<Option<i64>, _>(column)?.map(|v| v != 0)),
    }
}

pub fn get_u64(row: &AnyRow, column: &str) -> StoreResult<u64> {
    Ok(row.try_get::<i64, _>(column)?.max(0) as u64)
}

pub fn get_opt_u64(row: &AnyRow, column: &str) -> StoreResult<Option<u64>> {
    Ok(row
        .try_get::<Option<i64>, _>(column)?
        .map(|v| v.max(0) as u64))
}

pub const SERVER_COLUMNS: &str = "id, name, kind, vendor, address, description, time_zone, \
     query_interval_secs, utility_path, remote_enabled, import_enabled, end_user_enabled, \
     created_at, updated_at, verify_requested_at";

pub fn server_from_row(row: &AnyRow) -> StoreResult<LicenseServer> {
    let kind_id: String = row.try_get("kind")?;
    let kind = ManagerKind::from_api_id(&kind_id)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown license-manager type {kind_id}")))?;
    let address = row
        .try_get::<Option<String>, _>("address")?
        .map(|a| ServerAddress::parse(&a).map_err(StoreError::Corrupt))
        .transpose()?;
    let tz: String = row.try_get("time_zone")?;
    Ok(LicenseServer {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind,
        vendor: row.try_get("vendor")?,
        address,
        description: row.try_get("description")?,
        time_zone: tz
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("unknown time zone {tz}")))?,
        query_interval_secs: row.try_get::<i64, _>("query_interval_secs")? as u32,
        utility_path: row.try_get("utility_path")?,
        data_sources: DataSourceSwitches {
            remote: get_bool(row, "remote_enabled")?,
            import: get_bool(row, "import_enabled")?,
            end_user: get_bool(row, "end_user_enabled")?,
        },
        created_at: from_millis(row.try_get("created_at")?)?,
        updated_at: from_millis(row.try_get("updated_at")?)?,
        verify_requested_at: opt_from_millis(row.try_get("verify_requested_at")?)?,
    })
}
