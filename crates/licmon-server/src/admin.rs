//! Administration pages: Users, Tokens, Capacity. Every form carries the session's CSRF token
//! (checked by the auth guard before these handlers run); only administrators reach them.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use licmon_store::{ApiToken, Role, TokenScope, UserId};
use serde::Deserialize;

use crate::api::capacity::capacity_of;
use crate::auth::accounts::{self, NewAccount, ensure_other_admin, parse_server_list};
use crate::auth::{CSRF_FIELD, Principal, Via, audit};
use crate::pages::render;
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/users") }))
        .route("/admin/users", get(users_page).post(add_user))
        .route("/admin/users/{id}", post(change_user))
        .route("/admin/users/{id}/delete", post(delete_user))
        .route("/admin/tokens", get(tokens_page).post(add_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/capacity", get(capacity_page))
}

fn csrf_of(who: &Principal) -> String {
    match &who.via {
        Via::Session { csrf_token, .. } => csrf_token.clone(),
        Via::Token { .. } => String::new(),
    }
}

pub struct UserRow {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    pub servers: String,
    /// The ids for the edit form; empty = all.
    pub server_ids: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    users: Vec<UserRow>,
    message: Option<String>,
    csrf_field: &'static str,
    csrf_token: String,
}

async fn users_view(
    state: &AppState,
    who: &Principal,
    message: Option<String>,
) -> Result<Response, ApiError> {
    let users = state
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            server_ids: u
                .permitted_servers
                .as_ref()
                .map(|ids| {
                    ids.iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            servers: match (&u.role, &u.permitted_servers) {
                (Role::Administrator, _) | (_, None) => "all".into(),
                (_, Some(ids)) if ids.is_empty() => "none".into(),
                (_, Some(ids)) => ids
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            name: u.name,
            role: u.role,
            created: u.created_at.to_rfc3339(),
        })
        .collect();
    Ok(render(UsersPage {
        users,
        message,
        csrf_field: CSRF_FIELD,
        csrf_token: csrf_of(who),
    }))
}

async fn users_page(State(state): State<AppState>, who: Principal) -> Result<Response, ApiError> {
    users_view(&state, &who, None).await
}

#[derive(Debug, Deserialize)]
struct UserForm {
    name: String,
    password: String,
    role: String,
    #[serde(default)]
    servers: String,
}

fn error_text(e: &ApiError) -> String {
    match e {
        ApiError::Invalid(errors) => errors.to_string(),
        ApiError::Conflict(m) | ApiError::BadRequest(m) | ApiError::NotFound(m) => m.clone(),
        _ => "the change failed; see the server log".into(),
    }
}

async fn add_user(
    State(state): State<AppState>,
    who: Principal,
    Form(form): Form<UserForm>,
) -> Result<Response, ApiError> {
    let outcome = async {
        let role = Role::parse(&form.role)
            .ok_or_else(|| ApiError::BadRequest("role is user or administrator".into()))?;
        let account = NewAccount {
            name: form.name.clone(),
            password: form.password.clone(),
            role,
            permitted_servers: parse_server_list(&form.servers)?,
        };
        accounts::create_account(state.store.as_ref(), account, state.clock.now()).await
    }
    .await;
    let message = match outcome {
        Ok(user) => {
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
            format!("User \"{}\" added.", user.name)
        }
        Err(e) => format!("Not added: {}", error_text(&e)),
    };
    users_view(&state, &who, Some(message)).await
}

#[derive(Debug, Deserialize)]
struct ChangeForm {
    role: String,
    #[serde(default)]
    servers: String,
    #[serde(default)]
    password: String,
}

async fn change_user(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<UserId>,
    Form(form): Form<ChangeForm>,
) -> Result<Response, ApiError> {
    let outcome = async {
        let role = Role::parse(&form.role)
            .ok_or_else(|| ApiError::BadRequest("role is user or administrator".into()))?;
        let permitted = parse_server_list(&form.servers)?;
        let user = state.store.get_user(id).await?;
        if role != Role::Administrator {
            ensure_other_admin(state.store.as_ref(), &user).await?;
        }
        let now = state.clock.now();
        if !form.password.is_empty() {
            accounts::change_password(state.store.as_ref(), &user, form.password.clone(), now)
                .await?;
        }
        Ok::<_, ApiError>(
            state
                .store
                .update_user(id, role, permitted.as_deref(), now)
                .await?,
        )
    }
    .await;
    state.tokens.clear();
    let message = match outcome {
        Ok(user) => {
            audit(
                &state,
                &format!("user \"{}\" changed by \"{}\"", user.name, who.user.name),
            )
            .await;
            format!("User \"{}\" changed.", user.name)
        }
        Err(e) => format!("Not changed: {}", error_text(&e)),
    };
    users_view(&state, &who, Some(message)).await
}

async fn delete_user(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<UserId>,
) -> Result<Response, ApiError> {
    let outcome = async {
        let user = state.store.get_user(id).await?;
        ensure_other_admin(state.store.as_ref(), &user).await?;
        state.store.delete_user(id).await?;
        state.tokens.clear();
        Ok::<_, ApiError>(user)
    }
    .await;
    let message = match outcome {
        Ok(user) => {
            audit(
                &state,
                &format!("user \"{}\" deleted by \"{}\"", user.name, who.user.name),
            )
            .await;
            format!("User \"{}\" deleted.", user.name)
        }
        Err(e) => format!("Not deleted: {}", error_text(&e)),
    };
    users_view(&state, &who, Some(message)).await
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage {
    tokens: Vec<ApiToken>,
    users: Vec<licmon_store::User>,
    new_token: Option<String>,
    csrf_field: &'static str,
    csrf_token: String,
}

async fn tokens_view(
    state: &AppState,
    who: &Principal,
    new_token: Option<String>,
) -> Result<Response, ApiError> {
    Ok(render(TokensPage {
        tokens: state.store.list_tokens(None).await?,
        users: state.store.list_users().await?,
        new_token,
        csrf_field: CSRF_FIELD,
        csrf_token: csrf_of(who),
    }))
}

async fn tokens_page(State(state): State<AppState>, who: Principal) -> Result<Response, ApiError> {
    tokens_view(&state, &who, None).await
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    user: String,
    scope: String,
    #[serde(default)]
    name: String,
}

async fn add_token(
    State(state): State<AppState>,
    who: Principal,
    Form(form): Form<TokenForm>,
) -> Result<Response, ApiError> {
    let scope = TokenScope::parse(&form.scope)
        .ok_or_else(|| ApiError::BadRequest("scope is api or agent".into()))?;
    let (secret, info) = accounts::create_token(
        state.store.as_ref(),
        &form.user,
        scope,
        &form.name,
        state.clock.now(),
    )
    .await?;
    audit(
        &state,
        &accounts::token_created_message(&info, &who.user.name),
    )
    .await;
    tokens_view(&state, &who, Some(secret)).await
}

async fn revoke_token(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let token = state.store.revoke_token(id, state.clock.now()).await?;
    state.tokens.clear();
    audit(
        &state,
        &format!(
            "token {} \"{}\" of \"{}\" revoked by \"{}\"",
            token.id, token.name, token.user_name, who.user.name
        ),
    )
    .await;
    Ok(Redirect::to("/admin/tokens").into_response())
}

#[derive(Template)]
#[template(path = "admin_capacity.html")]
struct CapacityPage {
    used: u32,
    limit: Option<u32>,
    percent: Option<u32>,
    critical: bool,
    over: String,
}

async fn capacity_page(State(state): State<AppState>) -> Result<Response, ApiError> {
    let c = capacity_of(&state).await?;
    Ok(render(CapacityPage {
        used: c.used,
        limit: c.limit,
        percent: c.percent,
        critical: c.critical,
        over: if c.over_capacity.is_empty() {
            "none".into()
        } else {
            c.over_capacity
                .iter()
                .map(|i| format!("#{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        },
    }))
}
