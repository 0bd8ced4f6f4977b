use axum::Json;
use axum::extract::{Path, Query, State};
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

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServerFilter {
    /// Only servers whose name, vendor or description contains this (case-insensitive).
    pub q: Option<String>,
    /// Only this license-manager type id, e.g. `flexnet`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/license-servers", tag = "license servers",
    params(ServerFilter, super::paging::Page),
    responses((status = 200, description = "servers with statuses, oldest first (only those the account may see)", body = [ServerView])))]
pub async fn list(
    State(state): State<AppState>,
    who: crate::auth::Principal,
    Query(filter): Query<ServerFilter>,
    Query(page): Query<super::paging::Page>,
) -> Result<Json<Vec<ServerView>>, ApiError> {
    let all = overviews(state.store.as_ref(), state.clock.now(), state.status).await?;
    let q = filter.q.as_deref().map(str::to_lowercase);
    let views = all
        .iter()
        .filter(|o| who.may_see_server(o.server.id))
        .filter(|o| {
            filter
                .kind
                .as_deref()
                .is_none_or(|k| o.server.kind.api_id() == k)
        })
        .filter(|o| {
            q.as_deref().is_none_or(|q| {
                [&o.server.name, &o.server.vendor, &o.server.description]
                    .iter()
                    .any(|f| f.to_lowercase().contains(q))
            })
        })
        .map(ServerView::from_overview)
        .collect();
    Ok(Json(page.apply(views)))
}

#[utoipa::path(get, path = "/api/v1/license-servers/{id}", tag = "license servers", params(("id" = i64, Path, description = "license-server id")),
    responses((status = 200, description = "one server with statuses", body = ServerView), (status = 404, description = "no such server", body = super::openapi::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
) -> Result<Json<ServerView>, ApiError> {
    Ok(Json(view_of(&state, id).await?))
}

#[utoipa::path(post, path = "/api/v1/license-servers", tag = "license servers", request_body = super::views::ServerInputDoc,
    responses((status = 201, description = "created; Remote starts as Verifying", body = ServerView), (status = 422, description = "invalid input, per field")))]
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

#[utoipa::path(put, path = "/api/v1/license-servers/{id}", tag = "license servers", params(("id" = i64, Path, description = "license-server id")), request_body = super::views::ServerInputDoc,
    responses((status = 200, description = "replaced", body = ServerView)))]
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

#[utoipa::path(delete, path = "/api/v1/license-servers/{id}", tag = "license servers", params(("id" = i64, Path, description = "license-server id")),
    responses((status = 204, description = "deleted with its history")))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
) -> Result<StatusCode, ApiError> {
    let server = state.store.get_server(id).await.map_err(not_found(id))?;
    state.store.delete_server(id).await.map_err(not_found(id))?;
    log_admin(&state, &server, "deleted").await;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/license-servers/{id}/verify", tag = "license servers", params(("id" = i64, Path, description = "license-server id")),
    responses((status = 200, description = "back to Verifying until the next poll", body = ServerView)))]
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
