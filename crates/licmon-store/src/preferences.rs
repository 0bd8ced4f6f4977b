//! Per-user preferences of the web UI ([`PreferenceStore`]): which license servers a user hides
//! from their dashboard and reports.
//!
//! `user_id` is an account id; 0 stands for "everyone" where no user is logged in.

use async_trait::async_trait;
use licmon_core::ServerId;
use sqlx::Row;

use crate::rows::get_bool;
use crate::{SqlStore, StoreResult};

/// The user id preferences are kept under when nobody is logged in.
pub const ANONYMOUS_USER: i64 = 0;

#[async_trait]
pub trait PreferenceStore: Send + Sync {
    /// The servers `user_id` hides, in id order. Servers never mentioned are shown.
    async fn hidden_servers(&self, user_id: i64) -> StoreResult<Vec<ServerId>>;
    /// Hides or shows one server for one user. Unknown server ids are `NotFound`.
    async fn set_server_hidden(
        &self,
        user_id: i64,
        server_id: ServerId,
        hidden: bool,
    ) -> StoreResult<()>;
}

#[async_trait]
impl PreferenceStore for SqlStore {
    async fn hidden_servers(&self, user_id: i64) -> StoreResult<Vec<ServerId>> {
        let rows = sqlx::query(
            "SELECT server_id, hidden FROM preferences WHERE user_id = $1 ORDER BY server_id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let mut hidden = Vec::new();
        for row in &rows {
            if get_bool(row, "hidden")? {
                hidden.push(row.try_get("server_id")?);
            }
        }
        Ok(hidden)
    }

    async fn set_server_hidden(
        &self,
        user_id: i64,
        server_id: ServerId,
        hidden: bool,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let exists = sqlx::query("SELECT id FROM license_servers WHERE id = $1")
            .bind(server_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(crate::StoreError::NotFound);
        }
        sqlx::query(
            "INSERT INTO preferences (user_id, server_id, hidden) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, server_id) DO UPDATE SET hidden = excluded.hidden",
        )
        .bind(user_id)
        .bind(server_id)
        .bind(hidden)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
