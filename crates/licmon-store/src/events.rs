use async_trait::async_trait;
use chrono::{DateTime, Utc};
use licmon_core::ServerId;
use sqlx::Row;

use crate::rows::{from_millis, millis};
use crate::{EventLog, LoggedEvent, SqlStore, StoreResult};

#[async_trait]
impl EventLog for SqlStore {
    async fn log_event(
        &self,
        at: DateTime<Utc>,
        server_id: Option<ServerId>,
        category: &str,
        message: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO event_log (at, server_id, category, message) VALUES ($1, $2, $3, $4)",
        )
        .bind(millis(at))
        .bind(server_id)
        .bind(category)
        .bind(message)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn recent_events(&self, limit: u32) -> StoreResult<Vec<LoggedEvent>> {
        let rows = sqlx::query("SELECT id, at, server_id, category, message FROM event_log ORDER BY at DESC, id DESC LIMIT $1")
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(LoggedEvent {
                    id: row.try_get("id")?,
                    at: from_millis(row.try_get("at")?)?,
                    server_id: row.try_get("server_id")?,
                    category: row.try_get("category")?,
                    message: row.try_get("message")?,
                })
            })
            .collect()
    }
}
