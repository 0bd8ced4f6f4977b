//! Accounts, login sessions, API/agent tokens and login attempts ([`AuthStore`]).
//!
//! Invariants: no secret is stored. Login-session ids and tokens are kept as SHA-256 digests
//! (hex), passwords as argon2 PHC strings; the caller hashes, the store only compares digests by
//! lookup. Everything lives in the database so that several licmon nodes sharing it agree on
//! who is logged in, which tokens are revoked and how many logins failed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use licmon_core::ServerId;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::rows::{from_millis, millis, opt_from_millis};
use crate::{SqlStore, StoreError, StoreResult};

pub type UserId = i64;

/// Administrator: everything. User: reads, optionally only some license servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Administrator,
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "administrator" | "admin" => Some(Role::Administrator),
            "user" => Some(Role::User),
            _ => None,
        }
    }
}

/// An account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    /// License servers a User may see; `null` = all of them. Ignored for Administrators.
    pub permitted_servers: Option<Vec<ServerId>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// Whether this account may see the license server `id`.
    pub fn may_see_server(&self, id: ServerId) -> bool {
        match (self.role, &self.permitted_servers) {
            (Role::Administrator, _) | (Role::User, None) => true,
            (Role::User, Some(ids)) => ids.contains(&id),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub permitted_servers: Option<Vec<ServerId>>,
}

/// A login session as stored: the id only as its digest, and the CSRF synchronizer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSession {
    pub id_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end, whatever the activity.
    pub expires_at: DateTime<Utc>,
}

/// `api`: what the owner's role allows. `agent`: only `/api/v1/agent/*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    Api,
    Agent,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Api => "api",
            TokenScope::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "api" => Some(TokenScope::Api),
            "agent" => Some(TokenScope::Agent),
            _ => None,
        }
    }
}

/// A token's metadata; the token itself is shown once at creation and never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: UserId,
    pub user_name: String,
    pub name: String,
    pub scope: TokenScope,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    pub account: String,
    pub address: String,
    pub at: DateTime<Utc>,
    pub success: bool,
}

/// Failed logins in a window, per account and per address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailedLogins {
    pub account: u64,
    pub address: u64,
}

#[async_trait]
pub trait AuthStore: Send + Sync {
    /// A duplicate name is `Conflict`.
    async fn create_user(&self, user: &NewUser, now: DateTime<Utc>) -> StoreResult<User>;
    async fn get_user(&self, id: UserId) -> StoreResult<User>;
    async fn find_user(&self, name: &str) -> StoreResult<User>;
    /// The account and its password hash, for a login.
    async fn user_credentials(&self, name: &str) -> StoreResult<(User, String)>;
    /// Oldest first.
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    async fn update_user(
        &self,
        id: UserId,
        role: Role,
        permitted_servers: Option<&[ServerId]>,
        now: DateTime<Utc>,
    ) -> StoreResult<User>;
    /// Sets a new password hash and ends the account's login sessions.
    async fn set_password(&self, id: UserId, hash: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Deletes the account with its sessions and tokens.
    async fn delete_user(&self, id: UserId) -> StoreResult<()>;

    async fn create_login_session(&self, session: &LoginSession) -> StoreResult<()>;
    async fn login_session(&self, id_hash: &str) -> StoreResult<Option<(LoginSession, User)>>;
    async fn touch_login_session(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<()>;
    async fn delete_login_session(&self, id_hash: &str) -> StoreResult<()>;
    /// Removes sessions past their absolute end or idle since before `idle_before`.
    async fn purge_login_sessions(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<u64>;

    async fn create_token(
        &self,
        user_id: UserId,
        name: &str,
        scope: TokenScope,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<ApiToken>;
    /// The token (revoked ones too: the caller refuses them) with its owner, by digest.
    async fn token_by_hash(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(ApiToken, User, String)>>;
    /// Newest first; `None` = every user's.
    async fn list_tokens(&self, user_id: Option<UserId>) -> StoreResult<Vec<ApiToken>>;
    async fn get_token(&self, id: i64) -> StoreResult<ApiToken>;
    async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> StoreResult<ApiToken>;
    async fn touch_token(&self, id: i64, now: DateTime<Utc>) -> StoreResult<()>;

    async fn record_login_attempt(&self, attempt: &LoginAttempt) -> StoreResult<()>;
    /// Failed attempts at or after `since`, for this account and for this address.
    async fn failed_logins(
        &self,
        account: &str,
        address: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<FailedLogins>;
    /// Deletes attempts (failed or not) made before `before`, which no throttling window
    /// reaches any more, so that a password-spraying bot cannot grow the table forever.
    async fn purge_login_attempts(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// A successful login forgives the account's earlier failures.
    async fn clear_failed_logins(&self, account: &str) -> StoreResult<()>;
}

const USER_COLUMNS: &str = "id, name, role, permitted_servers, created_at, updated_at";
const TOKEN_SELECT: &str = "SELECT t.id, t.user_id, u.name AS user_name, t.name, t.scope, \
     t.created_at, t.last_used_at, t.revoked_at, t.token_hash FROM api_tokens t JOIN users u ON u.id = t.user_id";

fn user_from_row(row: &AnyRow) -> StoreResult<User> {
    let role: String = row.try_get("role")?;
    let permitted: Option<String> = row.try_get("permitted_servers")?;
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        permitted_servers: permitted
            .map(|p| serde_json::from_str(&p))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("permitted_servers: {e}")))?,
        created_at: from_millis(row.try_get("created_at")?)?,
        updated_at: from_millis(row.try_get("updated_at")?)?,
    })
}

fn token_from_row(row: &AnyRow) -> StoreResult<ApiToken> {
    let scope: String = row.try_get("scope")?;
    Ok(ApiToken {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        user_name: row.try_get("user_name")?,
        name: row.try_get("name")?,
        scope: TokenScope::parse(&scope)
            .ok_or_else(|| StoreError::Corrupt(format!("token scope {scope}")))?,
        created_at: from_millis(row.try_get("created_at")?)?,
        last_used_at: opt_from_millis(row.try_get("last_used_at")?)?,
        revoked_at: opt_from_millis(row.try_get("revoked_at")?)?,
    })
}

fn permitted_json(ids: Option<&[ServerId]>) -> Option<String> {
    ids.map(|ids| serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()))
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

#[async_trait]
impl AuthStore for SqlStore {
    async fn create_user(&self, user: &NewUser, now: DateTime<Utc>) -> StoreResult<User> {
        let row = sqlx::query(&format!(
            "INSERT INTO users (name, password_hash, role, permitted_servers, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {USER_COLUMNS}"
        ))
        .bind(&user.name)
        .bind(&user.password_hash)
        .bind(user.role.as_str())
        .bind(permitted_json(user.permitted_servers.as_deref()))
        .bind(millis(now))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("a user named \"{}\" already exists", user.name))
            } else {
                e.into()
            }
        })?;
        user_from_row(&row)
    }

    async fn get_user(&self, id: UserId) -> StoreResult<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        user_from_row(&row)
    }

    async fn find_user(&self, name: &str) -> StoreResult<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        user_from_row(&row)
    }

    async fn user_credentials(&self, name: &str) -> StoreResult<(User, String)> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok((user_from_row(&row)?, row.try_get("password_hash")?))
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn update_user(
        &self,
        id: UserId,
        role: Role,
        permitted_servers: Option<&[ServerId]>,
        now: DateTime<Utc>,
    ) -> StoreResult<User> {
        let row = sqlx::query(&format!(
            "UPDATE users SET role = $1, permitted_servers = $2, updated_at = $3 WHERE id = $4 \
             RETURNING {USER_COLUMNS}"
        ))
        .bind(role.as_str())
        .bind(permitted_json(permitted_servers))
        .bind(millis(now))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        user_from_row(&row)
    }

    async fn set_password(&self, id: UserId, hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let done =
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(hash)
                .bind(millis(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        crate::rows::touched(&done)?;
        sqlx::query("DELETE FROM auth_sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_user(&self, id: UserId) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        // Explicit deletes: the cascade needs foreign keys switched on, which SQLite only
        // does per connection.
        for sql in [
            "DELETE FROM auth_sessions WHERE user_id = $1",
            "DELETE FROM api_tokens WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        crate::rows::touched(&done)?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_login_session(&self, s: &LoginSession) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO auth_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&s.id_hash)
        .bind(s.user_id)
        .bind(&s.csrf_token)
        .bind(millis(s.created_at))
        .bind(millis(s.last_seen_at))
        .bind(millis(s.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn login_session(&self, id_hash: &str) -> StoreResult<Option<(LoginSession, User)>> {
        let row = sqlx::query(
            "SELECT s.id_hash, s.user_id, s.csrf_token, s.created_at AS s_created, \
             s.last_seen_at, s.expires_at, u.id, u.name, u.role, u.permitted_servers, \
             u.created_at, u.updated_at \
             FROM auth_sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let session = LoginSession {
            id_hash: row.try_get("id_hash")?,
            user_id: row.try_get("user_id")?,
            csrf_token: row.try_get("csrf_token")?,
            created_at: from_millis(row.try_get("s_created")?)?,
            last_seen_at: from_millis(row.try_get("last_seen_at")?)?,
            expires_at: from_millis(row.try_get("expires_at")?)?,
        };
        Ok(Some((session, user_from_row(&row)?)))
    }

    async fn touch_login_session(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE auth_sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(millis(now))
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_login_session(&self, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM auth_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn purge_login_sessions(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let done =
            sqlx::query("DELETE FROM auth_sessions WHERE expires_at <= $1 OR last_seen_at < $2")
                .bind(millis(now))
                .bind(millis(idle_before))
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    async fn create_token(
        &self,
        user_id: UserId,
        name: &str,
        scope: TokenScope,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<ApiToken> {
        let row = sqlx::query(
            "INSERT INTO api_tokens (user_id, name, scope, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(scope.as_str())
        .bind(token_hash)
        .bind(millis(now))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match e.as_database_error() {
            Some(d) if d.is_foreign_key_violation() => StoreError::NotFound,
            _ => e.into(),
        })?;
        self.get_token(row.try_get("id")?).await
    }

    async fn token_by_hash(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(ApiToken, User, String)>> {
        let row = sqlx::query(&format!("{TOKEN_SELECT} WHERE t.token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let token = token_from_row(&row)?;
        let stored: String = row.try_get("token_hash")?;
        let user = self.get_user(token.user_id).await?;
        Ok(Some((token, user, stored)))
    }

    async fn list_tokens(&self, user_id: Option<UserId>) -> StoreResult<Vec<ApiToken>> {
        let rows = match user_id {
            Some(id) => {
                sqlx::query(&format!(
                    "{TOKEN_SELECT} WHERE t.user_id = $1 ORDER BY t.id DESC"
                ))
                .bind(id)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!("{TOKEN_SELECT} ORDER BY t.id DESC"))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(token_from_row).collect()
    }

    async fn get_token(&self, id: i64) -> StoreResult<ApiToken> {
        let row = sqlx::query(&format!("{TOKEN_SELECT} WHERE t.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        token_from_row(&row)
    }

    async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> StoreResult<ApiToken> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = CASE WHEN revoked_at IS NULL THEN $1 ELSE revoked_at END \
             WHERE id = $2",
        )
        .bind(millis(now))
        .bind(id)
        .execute(&self.pool)
        .await?;
        crate::rows::touched(&done)?;
        self.get_token(id).await
    }

    async fn touch_token(&self, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(millis(now))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn record_login_attempt(&self, a: &LoginAttempt) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO login_attempts (account, address, at, success) VALUES ($1, $2, $3, $4)",
        )
        .bind(&a.account)
        .bind(&a.address)
        .bind(millis(a.at))
        .bind(a.success)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn failed_logins(
        &self,
        account: &str,
        address: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<FailedLogins> {
        let count = |column: &'static str, value: &str| {
            let sql = format!(
                "SELECT COUNT(*) AS n FROM login_attempts WHERE {column} = $1 AND at >= $2 AND success = $3"
            );
            let value = value.to_string();
            async move {
                let row = sqlx::query(&sql)
                    .bind(value)
                    .bind(millis(since))
                    .bind(false)
                    .fetch_one(&self.pool)
                    .await?;
                Ok::<u64, StoreError>(row.try_get::<i64, _>("n")?.max(0) as u64)
            }
        };
        Ok(FailedLogins {
            account: count("account", account).await?,
            address: count("address", address).await?,
        })
    }

    async fn purge_login_attempts(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM login_attempts WHERE at < $1")
            .bind(millis(before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn clear_failed_logins(&self, account: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_attempts WHERE account = $1 AND success = $2")
            .bind(account)
            .bind(false)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
