use async_trait::async_trait;
use chrono::{DateTime, Utc};
use licmon_core::ServerId;
use sqlx::Row;

use crate::rows::{from_millis, millis};
use crate::{EventLog, EventQuery, LoggedEvent, SqlStore, StoreResult};

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
        let query = EventQuery {
            limit,
            ..EventQuery::default()
        };
        self.events(&query).await
    }

    async fn events(&self, q: &EventQuery) -> StoreResult<Vec<LoggedEvent>> {
        // Optional filters as "$n IS NULL OR ...": one statement serves every filter.
        let rows = sqlx::query(
            "SELECT id, at, server_id, category, message FROM event_log \
             WHERE ($1 IS NULL OR category = $1) AND ($2 IS NULL OR server_id = $2) \
             ORDER BY at DESC, id DESC LIMIT $3 OFFSET $4",
        )
        .bind(q.category.as_deref())
        .bind(q.server_id)
        .bind(i64::from(q.limit))
        .bind(i64::from(q.offset))
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

    async fn event_categories(&self) -> StoreResult<Vec<String>> {
        let rows = sqlx::query("SELECT DISTINCT category FROM event_log ORDER BY category")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok(row.try_get("category")?))
            .collect()
    }
}
