//! A JSON body extractor whose errors name the field: serde's errors with the path where they
//! happened, as 422 for a wrong field and 400 for text that is not JSON at all.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use licmon_core::ValidationErrors;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// Request bodies are small; anything larger is a mistake or an attack.
pub const MAX_JSON_BODY: usize = 256 * 1024;

pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.ends_with("+json"));
        if !is_json {
            return Err(ApiError::BadRequest(
                "send the body as JSON with Content-Type: application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("cannot read the body: {e}")))?;
        if bytes.len() > MAX_JSON_BODY {
            return Err(ApiError::BadRequest(format!(
                "the body is larger than {MAX_JSON_BODY} bytes"
            )));
        }
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de)
            .map(JsonBody)
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                if inner.is_syntax() || inner.is_eof() {
                    return ApiError::BadRequest(format!("the body is not valid JSON: {inner}"));
                }
                let mut errors = ValidationErrors::default();
                let field = if path == "." { "body" } else { path.as_str() };
                errors.add(field, strip_position(&inner.to_string()));
                ApiError::Invalid(errors)
            })
    }
}

/// serde_json appends " at line 1 column 40"; the field name says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}
