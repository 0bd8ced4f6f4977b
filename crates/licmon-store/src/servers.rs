use async_trait::async_trait;
use chrono::{DateTime, Utc};
use licmon_core::server::ServerSettings;
use licmon_core::{LicenseServer, ServerId};

use crate::rows::{SERVER_COLUMNS, millis, server_from_row};
use crate::{ServerStore, SqlStore, StoreError, StoreResult};

/// A unique-name violation reads the same way in both backends' messages.
fn name_conflict(e: sqlx::Error, name: &str) -> StoreError {
    let unique = e
        .as_database_error()
        .is_some_and(|d| d.is_unique_violation() || d.message().contains("UNIQUE"));
    if unique {
        StoreError::Conflict(format!("a license server named \"{name}\" already exists"))
    } else {
        StoreError::Database(e)
    }
}

#[async_trait]
impl ServerStore for SqlStore {
    async fn create_server(
        &self,
        s: &ServerSettings,
        now: DateTime<Utc>,
    ) -> StoreResult<LicenseServer> {
        let sql = format!(
            "INSERT INTO license_servers (name, kind, vendor, address, description, time_zone, \
             query_interval_secs, utility_path, remote_enabled, import_enabled, end_user_enabled, \
             created_at, updated_at, verify_requested_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12) RETURNING {SERVER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&s.name)
            .bind(s.kind.api_id())
            .bind(&s.vendor)
            .bind(s.address.as_ref().map(|a| a.to_string()))
            .bind(&s.description)
            .bind(s.time_zone.name())
            .bind(s.query_interval_secs as i64)
            .bind(s.utility_path.clone())
            .bind(s.data_sources.remote)
            .bind(s.data_sources.import)
            .bind(s.data_sources.end_user)
            .bind(millis(now))
            .fetch_one(&self.pool)
            .await
            .map_err(|e| name_conflict(e, &s.name))?;
        server_from_row(&row)
    }

    async fn get_server(&self, id: ServerId) -> StoreResult<LicenseServer> {
        let sql = format!("SELECT {SERVER_COLUMNS} FROM license_servers WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        server_from_row(&row.ok_or(StoreError::NotFound)?)
    }

    async fn find_server_by_name(&self, name: &str) -> StoreResult<LicenseServer> {
        let sql = format!("SELECT {SERVER_COLUMNS} FROM license_servers WHERE name = $1");
        let row = sqlx::query(&sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        server_from_row(&row.ok_or(StoreError::NotFound)?)
    }

    async fn list_servers(&self) -> StoreResult<Vec<LicenseServer>> {
        let sql = format!("SELECT {SERVER_COLUMNS} FROM license_servers ORDER BY created_at, id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(server_from_row).collect()
    }

    async fn update_server(
        &self,
        id: ServerId,
        s: &ServerSettings,
        now: DateTime<Utc>,
    ) -> StoreResult<LicenseServer> {
        let old = self.get_server(id).await?;
        let verify_at = if s.changes_connection_of(&old) {
            Some(now)
        } else {
            old.verify_requested_at
        };
        let sql = format!(
            "UPDATE license_servers SET name = $1, kind = $2, vendor = $3, address = $4, \
             description = $5, time_zone = $6, query_interval_secs = $7, utility_path = $8, \
             remote_enabled = $9, import_enabled = $10, end_user_enabled = $11, updated_at = $12, \
             verify_requested_at = $13 WHERE id = $14 RETURNING {SERVER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&s.name)
            .bind(s.kind.api_id())
            .bind(&s.vendor)
            .bind(s.address.as_ref().map(|a| a.to_string()))
            .bind(&s.description)
            .bind(s.time_zone.name())
            .bind(s.query_interval_secs as i64)
            .bind(s.utility_path.clone())
            .bind(s.data_sources.remote)
            .bind(s.data_sources.import)
            .bind(s.data_sources.end_user)
            .bind(millis(now))
            .bind(verify_at.map(millis))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| name_conflict(e, &s.name))?;
        server_from_row(&row.ok_or(StoreError::NotFound)?)
    }

    async fn delete_server(&self, id: ServerId) -> StoreResult<()> {
        // Children first: SQLite only cascades with the foreign_keys pragma, and being explicit
        // keeps both backends identical.
        let mut tx = self.write_tx().await?;
        for table in [
            "current_snapshots",
            "sessions",
            "feature_changes",
            "usage_rollups",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE server_id = $1"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query("DELETE FROM license_servers WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        crate::rows::touched(&done)?;
        tx.commit().await?;
        Ok(())
    }

    async fn request_verify(&self, id: ServerId, now: DateTime<Utc>) -> StoreResult<()> {
        let done = sqlx::query("UPDATE license_servers SET verify_requested_at = $1 WHERE id = $2")
            .bind(millis(now))
            .bind(id)
            .execute(&self.pool)
            .await?;
        crate::rows::touched(&done)?;
        Ok(())
    }
}
