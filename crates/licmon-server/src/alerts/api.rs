//! `/api/v1/alert-rules` (administrators) and `/api/v1/alerts`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use licmon_core::alerts::{AlertRule, AlertRuleInput, RuleId};
use licmon_store::AlertRecord;
use serde::Deserialize;

use super::doc::{AlertDoc, AlertRuleDoc, AlertRuleInputDoc};
use crate::api::openapi::ErrorBody;
use crate::{ApiError, AppState};

#[utoipa::path(get, path = "/api/v1/alert-rules", tag = "alerts",
    responses((status = 200, description = "every alert rule (administrators)", body = [AlertRuleDoc])))]
pub async fn list_rules(State(state): State<AppState>) -> Result<Json<Vec<AlertRule>>, ApiError> {
    Ok(Json(state.store.list_alert_rules().await?))
}

#[utoipa::path(get, path = "/api/v1/alert-rules/{id}", tag = "alerts",
    params(("id" = i64, Path, description = "alert rule id")),
    responses((status = 200, description = "one alert rule", body = AlertRuleDoc),
        (status = 404, description = "no such alert rule", body = ErrorBody)))]
pub async fn get_rule(
    State(state): State<AppState>,
    Path(id): Path<RuleId>,
) -> Result<Json<AlertRule>, ApiError> {
    Ok(Json(
        state.store.get_alert_rule(id).await.map_err(not_found)?,
    ))
}

fn not_found(e: licmon_store::StoreError) -> ApiError {
    match e {
        licmon_store::StoreError::NotFound => {
            ApiError::NotFound("no such alert rule or license server".into())
        }
        other => other.into(),
    }
}

#[utoipa::path(post, path = "/api/v1/alert-rules", tag = "alerts", request_body = AlertRuleInputDoc,
    responses((status = 201, description = "created", body = AlertRuleDoc),
        (status = 404, description = "no such license server (`server_id`)", body = ErrorBody),
        (status = 409, description = "a rule with this name exists", body = ErrorBody),
        (status = 422, description = "invalid input (also a body that is not JSON), per field")))]
pub async fn create_rule(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let input = parse_input(&body)?.validate()?;
    let rule = state
        .store
        .create_alert_rule(&input, state.clock.now())
        .await
        .map_err(not_found)?;
    Ok((StatusCode::CREATED, Json(rule)).into_response())
}

#[utoipa::path(put, path = "/api/v1/alert-rules/{id}", tag = "alerts", request_body = AlertRuleInputDoc,
    params(("id" = i64, Path, description = "alert rule id")),
    responses((status = 200, description = "replaced", body = AlertRuleDoc),
        (status = 404, description = "no such alert rule or license server", body = ErrorBody),
        (status = 409, description = "another rule has this name", body = ErrorBody),
        (status = 422, description = "invalid input (also a body that is not JSON), per field")))]
pub async fn replace_rule(
    State(state): State<AppState>,
    Path(id): Path<RuleId>,
    body: Bytes,
) -> Result<Json<AlertRule>, ApiError> {
    let input = parse_input(&body)?.validate()?;
    Ok(Json(
        state
            .store
            .update_alert_rule(id, &input, state.clock.now())
            .await
            .map_err(not_found)?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/alert-rules/{id}", tag = "alerts",
    params(("id" = i64, Path, description = "alert rule id")),
    responses((status = 204, description = "deleted; its open alerts resolve at the next evaluation"),
        (status = 404, description = "no such alert rule", body = ErrorBody)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    Path(id): Path<RuleId>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_alert_rule(id).await.map_err(not_found)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct AlertsQuery {
    /// Resolved alerts of the last `days` days are listed too (default 7).
    days: Option<u32>,
    limit: Option<u32>,
}

/// Open alerts (pending, firing) first, then recently resolved ones.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts",
    params(("days" = Option<u32>, Query, description = "resolved alerts of the last this many days too (default 7, at most 3650)"),
        ("limit" = Option<u32>, Query, description = "most alerts (default 500, 1 to 5000)")),
    responses((status = 200, description = "open alerts (pending, firing), then recently resolved ones, newest first", body = [AlertDoc])))]
pub async fn list_alerts(
    State(state): State<AppState>,
    Query(q): Query<AlertsQuery>,
) -> Result<Json<Vec<AlertRecord>>, ApiError> {
    let days = q.days.map(i64::from).unwrap_or(super::RECENT_DAYS);
    let since = state.clock.now() - Duration::days(days.min(3650));
    Ok(Json(
        state
            .store
            .alerts(since, q.limit.unwrap_or(500).clamp(1, 5000))
            .await?,
    ))
}

/// The body as an [`AlertRuleInput`]; a wrong field is 422 with its path.
fn parse_input(body: &[u8]) -> Result<AlertRuleInput, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let mut errors = licmon_core::ValidationErrors::default();
        let path = e.path().to_string();
        errors.add(
            if path == "." { "body" } else { &path },
            e.inner().to_string(),
        );
        ApiError::Invalid(errors)
    })
}
