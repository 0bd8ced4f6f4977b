//! Creating accounts and tokens: the rules shared by the CLI, the API and the pages.

use chrono::{DateTime, Utc};
use licmon_core::{ServerId, ValidationErrors};
use licmon_store::{ApiToken, NewUser, Role, Store, StoreError, TokenScope, User};

use super::secrets::{check_password, digest, hash_password, new_token};
use crate::ApiError;

/// What a new account needs.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct NewAccount {
    pub name: String,
    pub password: String,
    #[serde(default = "default_role")]
    pub role: Role,
    /// License-server ids a User may see; omit or `null` for all.
    #[serde(default)]
    pub permitted_servers: Option<Vec<ServerId>>,
}

fn default_role() -> Role {
    Role::User
}

pub fn check_name(name: &str) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    if name.trim().is_empty() {
        errors.add("name", "a name is required");
    } else if name.chars().count() > 64 {
        errors.add("name", "at most 64 characters");
    } else if name.trim() != name || name.chars().any(|c| c.is_control()) {
        errors.add("name", "no leading/trailing spaces or control characters");
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    let mut errors = ValidationErrors::default();
    errors.add(field, message);
    ApiError::Invalid(errors)
}

/// Hashing is slow on purpose; it runs on a blocking thread.
pub async fn hash_password_blocking(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)
}

pub async fn create_account(
    store: &dyn Store,
    account: NewAccount,
    now: DateTime<Utc>,
) -> Result<User, ApiError> {
    check_name(&account.name)?;
    check_password(&account.password).map_err(|m| invalid("password", m))?;
    let password_hash = hash_password_blocking(account.password).await?;
    let user = store
        .create_user(
            &NewUser {
                name: account.name,
                password_hash,
                role: account.role,
                permitted_servers: account.permitted_servers,
            },
            now,
        )
        .await?;
    Ok(user)
}

pub async fn change_password(
    store: &dyn Store,
    user: &User,
    password: String,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    check_password(&password).map_err(|m| invalid("password", m))?;
    let hash = hash_password_blocking(password).await?;
    Ok(store.set_password(user.id, &hash, now).await?)
}

/// Refuses to leave the installation without an administrator.
pub async fn ensure_other_admin(store: &dyn Store, user: &User) -> Result<(), ApiError> {
    if user.role != Role::Administrator {
        return Ok(());
    }
    let admins = store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.role == Role::Administrator && u.id != user.id)
        .count();
    if admins == 0 {
        return Err(ApiError::Conflict(format!(
            "\"{}\" is the last administrator; make another one first",
            user.name
        )));
    }
    Ok(())
}

/// A new token for `user_name`: the secret (show it once) and what is stored of it.
pub async fn create_token(
    store: &dyn Store,
    user_name: &str,
    scope: TokenScope,
    label: &str,
    now: DateTime<Utc>,
) -> Result<(String, ApiToken), ApiError> {
    let user = store.find_user(user_name).await.map_err(|e| match e {
        StoreError::NotFound => invalid("user", format!("no user named \"{user_name}\"")),
        other => other.into(),
    })?;
    let label = label.trim();
    if label.chars().count() > 100 || label.chars().any(|c| c.is_control()) {
        return Err(invalid(
            "name",
            "at most 100 characters, no control characters",
        ));
    }
    let secret = new_token();
    let info = store
        .create_token(user.id, label, scope, &digest(&secret), now)
        .await?;
    Ok((secret, info))
}

/// The event-log line for a token created by `actor` (the same from the page and the API).
pub fn token_created_message(info: &ApiToken, actor: &str) -> String {
    format!(
        "{} token {} \"{}\" for \"{}\" created by \"{}\"",
        info.scope.as_str(),
        info.id,
        info.name,
        info.user_name,
        actor
    )
}

/// `"1, 4"` → `[1, 4]`; empty → all servers.
pub fn parse_server_list(text: &str) -> Result<Option<Vec<ServerId>>, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.split(',')
        .map(|s| {
            s.trim().parse::<ServerId>().map_err(|_| {
                invalid(
                    "permitted_servers",
                    format!("\"{}\" is not a server id", s.trim()),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
