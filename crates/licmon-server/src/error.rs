//! The one place errors become HTTP responses. Every error body is JSON with a message that
//! says what to fix.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use licmon_core::ValidationErrors;
use licmon_store::StoreError;
use serde_json::json;

#[derive(Debug)]
pub enum ApiError {
    NotFound(String),
    Invalid(ValidationErrors),
    Conflict(String),
    BadRequest(String),
    Internal(String),
    /// 401: no valid session or token.
    Unauthorized(String),
    /// 403: logged in, but not allowed (or a missing/wrong CSRF token).
    Forbidden(String),
    /// 413: the body is larger than the server accepts.
    PayloadTooLarge(String),
    /// 429: too many failed logins.
    TooManyRequests(String),
    /// 503: licmon cannot do it right now (e.g. the database refuses writes); try again later.
    Unavailable(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("no such resource".into()),
            StoreError::Conflict(message) => ApiError::Conflict(message),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        ApiError::Invalid(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::NotFound(message) => (StatusCode::NOT_FOUND, json!({ "error": message })),
            ApiError::Invalid(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "error": format!("invalid input: {errors}"), "errors": errors.errors }),
            ),
            ApiError::Conflict(message) => (StatusCode::CONFLICT, json!({ "error": message })),
            ApiError::BadRequest(message) => (StatusCode::BAD_REQUEST, json!({ "error": message })),
            ApiError::Unauthorized(message) => {
                (StatusCode::UNAUTHORIZED, json!({ "error": message }))
            }
            ApiError::Forbidden(message) => (StatusCode::FORBIDDEN, json!({ "error": message })),
            ApiError::PayloadTooLarge(message) => {
                (StatusCode::PAYLOAD_TOO_LARGE, json!({ "error": message }))
            }
            ApiError::TooManyRequests(message) => {
                (StatusCode::TOO_MANY_REQUESTS, json!({ "error": message }))
            }
            ApiError::Unavailable(message) => {
                (StatusCode::SERVICE_UNAVAILABLE, json!({ "error": message }))
            }
            ApiError::Internal(message) => {
                tracing::error!(%message, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "error": "internal error; see the server log" }),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}
