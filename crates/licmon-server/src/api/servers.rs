use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use licmon_core::server::LicenseServerInput;
use licmon_core::{LicenseServer, ServerId};
use licmon_store::overviews;

use super::body::JsonBody;
use super::views::ServerView;
use crate::{ApiError, AppState};

/// The server with its statuses as of now.
pub async fn view_of(state: &AppState, id: ServerId) -> Result<ServerView, ApiError> {
    let all = overviews(state.store.as_ref(), state.clock.now(), state.status).await?;
    all.iter()
        .find(|o| o.server.id == id)
        .map(ServerView::from_overview)
        .ok_or_else(|| ApiError::NotFound(format!("no license server with id {id}")))
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<ServerView>>, ApiError> {
    let all = overviews(state.store.as_ref(), state.clock.now(), state.status).await?;
    Ok(Json(all.iter().map(ServerView::from_overview).collect()))
}

pub async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
) -> Result<Json<ServerView>, ApiError> {
    Ok(Json(view_of(&state, id).await?))
}

pub async fn create(
    State(state): State<AppState>,
    JsonBody(input): JsonBody<LicenseServerInput>,
) -> Result<(StatusCode, Json<ServerView>), ApiError> {
    let settings = input.validate()?;
    let now = state.clock.now();
    let server = state.store.create_server(&settings, now).await?;
    log_admin(&state, &server, "created").await;
    Ok((StatusCode::CREATED, Json(view_of(&state, server.id).await?)))
}

pub async fn replace(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
    JsonBody(input): JsonBody<LicenseServerInput>,
) -> Result<Json<ServerView>, ApiError> {
    let settings = input.validate()?;
    let server = state
        .store
        .update_server(id, &settings, state.clock.now())
        .await
        .map_err(not_found(id))?;
    log_admin(&state, &server, "updated").await;
    Ok(Json(view_of(&state, id).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
) -> Result<StatusCode, ApiError> {
    let server = state.store.get_server(id).await.map_err(not_found(id))?;
    state.store.delete_server(id).await.map_err(not_found(id))?;
    log_admin(&state, &server, "deleted").await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn verify(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
) -> Result<Json<ServerView>, ApiError> {
    state
        .store
        .request_verify(id, state.clock.now())
        .await
        .map_err(not_found(id))?;
    Ok(Json(view_of(&state, id).await?))
}

fn not_found(id: ServerId) -> impl Fn(licmon_store::StoreError) -> ApiError {
    move |e| match e {
        licmon_store::StoreError::NotFound => {
            ApiError::NotFound(format!("no license server with id {id}"))
        }
        other => other.into(),
    }
}

async fn log_admin(state: &AppState, server: &LicenseServer, what: &str) {
    let message = format!("license server \"{}\" {what}", server.name);
    if let Err(e) = state
        .store
        .log_event(state.clock.now(), Some(server.id), "admin", &message)
        .await
    {
        tracing::warn!(error = %e, "cannot write the event log");
    }
}
