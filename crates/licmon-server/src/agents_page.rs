//! Administration › Agents: the agent registry (version, last seen coloured like the dashboard's
//! last update, errors), the agent applications (executables → server and feature), and a link
//! to the agent tokens (Administration › Tokens, scope `agent`).

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use licmon_core::{DataSource, ServerId};
use serde::Deserialize;

use crate::api::agent::{AgentAppBody, AgentView, agent_view};
use crate::auth::{CSRF_FIELD, Principal, Via};
use crate::pages::render;
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/agents", get(agents_page).post(add_app))
        .route("/admin/agents/apps/{id}/delete", post(delete_app))
        .route("/admin/agents/{id}/delete", post(delete_agent))
}

pub struct AppRow {
    pub id: i64,
    pub server: String,
    pub feature: String,
    pub executables: String,
}

#[derive(Template)]
#[template(path = "admin_agents.html")]
struct AgentsPage {
    agents: Vec<AgentView>,
    apps: Vec<AppRow>,
    servers: Vec<(ServerId, String)>,
    agent_tokens: usize,
    message: Option<String>,
    csrf_field: &'static str,
    csrf_token: String,
}

fn csrf_of(who: &Principal) -> String {
    match &who.via {
        Via::Session { csrf_token, .. } => csrf_token.clone(),
        Via::Token { .. } => String::new(),
    }
}

async fn view(
    state: &AppState,
    who: &Principal,
    message: Option<String>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let servers = state.store.list_servers().await?;
    let name_of = |id: ServerId| {
        servers
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| format!("#{id}"))
    };
    let apps = state
        .store
        .list_agent_apps()
        .await?
        .into_iter()
        .map(|a| AppRow {
            id: a.id,
            server: name_of(a.server_id),
            feature: a.feature,
            executables: a.executables.join(", "),
        })
        .collect();
    let agents = state
        .store
        .list_agents()
        .await?
        .into_iter()
        .map(|a| agent_view(a, now, state))
        .collect();
    let agent_tokens = state
        .store
        .list_tokens(None)
        .await?
        .iter()
        .filter(|t| t.scope == licmon_store::TokenScope::Agent && t.revoked_at.is_none())
        .count();
    Ok(render(AgentsPage {
        agents,
        apps,
        servers: servers
            .iter()
            .filter(|s| s.kind.supports(DataSource::EndUser))
            .map(|s| (s.id, s.name.clone()))
            .collect(),
        agent_tokens,
        message,
        csrf_field: CSRF_FIELD,
        csrf_token: csrf_of(who),
    }))
}

async fn agents_page(State(state): State<AppState>, who: Principal) -> Result<Response, ApiError> {
    view(&state, &who, None).await
}

#[derive(Debug, Deserialize)]
struct AppForm {
    server_id: ServerId,
    feature: String,
    executables: String,
}

async fn add_app(
    State(state): State<AppState>,
    who: Principal,
    Form(form): Form<AppForm>,
) -> Result<Response, ApiError> {
    let body = AgentAppBody {
        server_id: form.server_id,
        feature: form.feature,
        executables: form
            .executables
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(String::from)
            .collect(),
    };
    let message = match crate::api::agent::create_app_checked(&state, body).await {
        Ok(app) => format!("Added {} ({}).", app.feature, app.executables.join(", ")),
        Err(ApiError::Invalid(errors)) => format!("Not added: {errors}"),
        Err(ApiError::Conflict(why)) => format!("Not added: {why}"),
        Err(e) => return Err(e),
    };
    view(&state, &who, Some(message)).await
}

async fn delete_app(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Redirect, ApiError> {
    state.store.delete_agent_app(id).await?;
    Ok(Redirect::to("/admin/agents"))
}

async fn delete_agent(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Redirect, ApiError> {
    state.store.delete_agent(id).await?;
    Ok(Redirect::to("/admin/agents"))
}
