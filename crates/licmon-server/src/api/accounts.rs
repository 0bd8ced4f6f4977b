//! `/api/v1/me`, `/api/v1/users`, `/api/v1/tokens`: accounts and tokens (administrators only,
//! except `me`; the policy in `auth::policy` enforces that before these handlers run).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use licmon_core::ServerId;
use licmon_store::{ApiToken, Role, TokenScope, User, UserId};
use serde::{Deserialize, Serialize};

use super::body::JsonBody;
use super::paging::Page;
use crate::auth::accounts::{self, NewAccount, ensure_other_admin};
use crate::auth::{Principal, Via, audit};
use crate::{ApiError, AppState};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub user: User,
    /// `session` or `token`.
    pub authenticated_by: String,
    /// The token's scope when authenticated by a token.
    pub scope: Option<TokenScope>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, description = "who is asking", body = Me)))]
pub async fn me(who: Principal) -> Json<Me> {
    let (authenticated_by, scope) = match who.via {
        Via::Session { .. } => ("session", None),
        Via::Token { scope, .. } => ("token", Some(scope)),
    };
    Json(Me {
        user: who.user,
        authenticated_by: authenticated_by.into(),
        scope,
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Only this role.
    pub role: Option<Role>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", params(UserFilter, Page),
    responses((status = 200, description = "accounts, oldest first", body = [User])))]
pub async fn list_users(
    State(state): State<AppState>,
    Query(filter): Query<UserFilter>,
    Query(page): Query<Page>,
) -> Result<Json<Vec<User>>, ApiError> {
    let users = state
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| filter.role.is_none_or(|r| r == u.role))
        .collect();
    Ok(Json(page.apply(users)))
}

fn user_not_found(id: UserId) -> impl Fn(licmon_store::StoreError) -> ApiError {
    move |e| match e {
        licmon_store::StoreError::NotFound => ApiError::NotFound(format!("no user with id {id}")),
        other => other.into(),
    }
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "accounts",
    params(("id" = i64, Path, description = "user id")),
    responses((status = 200, description = "one account", body = User)))]
pub async fn get_user(
    State(state): State<AppState>,
    Path(id): Path<UserId>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        state.store.get_user(id).await.map_err(user_not_found(id))?,
    ))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = NewAccount,
    responses((status = 201, description = "created", body = User)))]
pub async fn create_user(
    State(state): State<AppState>,
    who: Principal,
    JsonBody(account): JsonBody<NewAccount>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let user = accounts::create_account(state.store.as_ref(), account, state.clock.now()).await?;
    audit(
        &state,
        &format!(
            "user \"{}\" ({}) created by \"{}\"",
            user.name,
            user.role.as_str(),
            who.user.name
        ),
    )
    .await;
    Ok((StatusCode::CREATED, Json(user)))
}

/// A change of role, permitted servers, and optionally the password.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UserChange {
    pub role: Role,
    /// License-server ids a User may see; `null` for all.
    #[serde(default)]
    pub permitted_servers: Option<Vec<ServerId>>,
    /// A new password (at least 10 characters); omit to keep it.
    #[serde(default)]
    pub password: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "accounts", request_body = UserChange,
    params(("id" = i64, Path, description = "user id")),
    responses((status = 200, description = "changed", body = User)))]
pub async fn update_user(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<UserId>,
    JsonBody(change): JsonBody<UserChange>,
) -> Result<Json<User>, ApiError> {
    let now = state.clock.now();
    let user = state.store.get_user(id).await.map_err(user_not_found(id))?;
    if change.role != Role::Administrator {
        ensure_other_admin(state.store.as_ref(), &user).await?;
    }
    if let Some(password) = change.password {
        accounts::change_password(state.store.as_ref(), &user, password, now).await?;
    }
    let changed = state
        .store
        .update_user(id, change.role, change.permitted_servers.as_deref(), now)
        .await
        .map_err(user_not_found(id))?;
    state.tokens.clear();
    audit(
        &state,
        &format!("user \"{}\" changed by \"{}\"", changed.name, who.user.name),
    )
    .await;
    Ok(Json(changed))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "accounts",
    params(("id" = i64, Path, description = "user id")),
    responses((status = 204, description = "deleted with its sessions and tokens")))]
pub async fn delete_user(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<UserId>,
) -> Result<StatusCode, ApiError> {
    let user = state.store.get_user(id).await.map_err(user_not_found(id))?;
    ensure_other_admin(state.store.as_ref(), &user).await?;
    state
        .store
        .delete_user(id)
        .await
        .map_err(user_not_found(id))?;
    state.tokens.clear();
    audit(
        &state,
        &format!("user \"{}\" deleted by \"{}\"", user.name, who.user.name),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenFilter {
    /// Only this user's tokens (name).
    pub user: Option<String>,
    /// Only `api` or `agent` tokens.
    pub scope: Option<TokenScope>,
    /// `true`: only tokens not revoked.
    pub active: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", params(TokenFilter, Page),
    responses((status = 200, description = "tokens (never the secrets), newest first", body = [ApiToken])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Query(filter): Query<TokenFilter>,
    Query(page): Query<Page>,
) -> Result<Json<Vec<ApiToken>>, ApiError> {
    let tokens = state
        .store
        .list_tokens(None)
        .await?
        .into_iter()
        .filter(|t| filter.user.as_ref().is_none_or(|u| *u == t.user_name))
        .filter(|t| filter.scope.is_none_or(|s| s == t.scope))
        .filter(|t| filter.active.is_none_or(|a| a == t.revoked_at.is_none()))
        .collect();
    Ok(Json(page.apply(tokens)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    /// The owner's name.
    pub user: String,
    pub scope: TokenScope,
    /// A label, e.g. "nightly report".
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// The token, shown only now: send it in the `X-Auth-Token` header.
    pub token: String,
    #[serde(flatten)]
    pub info: ApiToken,
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = NewToken,
    responses((status = 201, description = "created; the secret is in `token`", body = CreatedToken)))]
pub async fn create_token(
    State(state): State<AppState>,
    who: Principal,
    JsonBody(new): JsonBody<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let (token, info) = accounts::create_token(
        state.store.as_ref(),
        &new.user,
        new.scope,
        &new.name,
        state.clock.now(),
    )
    .await?;
    audit(
        &state,
        &accounts::token_created_message(&info, &who.user.name),
    )
    .await;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, info })))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts",
    params(("id" = i64, Path, description = "token id")),
    responses((status = 200, description = "revoked; requests with it get 401", body = ApiToken)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<i64>,
) -> Result<Json<ApiToken>, ApiError> {
    let token = state
        .store
        .revoke_token(id, state.clock.now())
        .await
        .map_err(|e| match e {
            licmon_store::StoreError::NotFound => {
                ApiError::NotFound(format!("no token with id {id}"))
            }
            other => other.into(),
        })?;
    state.tokens.clear();
    audit(
        &state,
        &format!(
            "token {} \"{}\" of \"{}\" revoked by \"{}\"",
            token.id, token.name, token.user_name, who.user.name
        ),
    )
    .await;
    Ok(Json(token))
}
