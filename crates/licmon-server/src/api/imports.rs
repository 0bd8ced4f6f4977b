//! Imports over HTTP: upload a log (streamed to a file, then imported like `licmon import`)
//! and list past imports (the denials they found: `denials.rs`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use licmon_core::ServerId;
use licmon_import::{ImportError, ImportRequest, ImportSummary, Via};
use licmon_parse::LogFormat;
use licmon_store::ImportRecord;
use serde::Deserialize;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::{ApiError, AppState};

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new().route(
        "/license-servers/{id}/imports",
        get(list_imports)
            .post(upload)
            .layer(axum::extract::DefaultBodyLimit::disable()),
    )
}

#[derive(Debug, Deserialize)]
pub struct UploadParams {
    format: Option<String>,
    filename: Option<String>,
}

static UPLOADS: AtomicU64 = AtomicU64::new(0);

/// The upload on disk while it is imported; removed when dropped.
struct Upload(PathBuf);

impl Drop for Upload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Import a log file sent as the request body (any content type but JSON/form, e.g.
/// `application/octet-stream`). Streamed to disk, so files of any size are fine.
#[utoipa::path(post, path = "/api/v1/license-servers/{id}/imports", tag = "imports",
    params(("id" = i64, Path, description = "license-server id"),
        ("format" = Option<String>, Query, description = "flexnet-debuglog, rlm-reportlog, lmx-log or csv; default from the server's type"),
        ("filename" = Option<String>, Query, description = "the file's name, for messages and the history")),
    request_body(content = String, content_type = "application/octet-stream", description = "the log file"),
    responses((status = 200, description = "the import summary: events by kind, sessions, denials, skipped lines"),
        (status = 404, description = "no such server", body = super::openapi::ErrorBody),
        (status = 409, description = "import Disabled or N/A, License Exceeded, or another import of this server running", body = super::openapi::ErrorBody),
        (status = 422, description = "the file cannot be imported (wrong format, binary, truncated, absurd line); the reason names file and line", body = super::openapi::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
    Query(params): Query<UploadParams>,
    body: Body,
) -> Result<Json<ImportSummary>, Response> {
    let format = match params.format.as_deref() {
        None | Some("") => None,
        Some(name) => Some(LogFormat::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = LogFormat::ALL.iter().map(|f| f.name()).collect();
            ApiError::BadRequest(format!(
                "unknown format {name:?}; use one of {}",
                names.join(", ")
            ))
            .into_response()
        })?),
    };
    // Refuse before reading a possibly big body when the server cannot take imports.
    let server = state
        .store
        .get_server(id)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    if !server.data_sources.import || licmon_import::default_format(server.kind).is_none() {
        return Err(import_error(ImportError::Disabled(format!(
            "importing is not possible for license server {}: switched off, or its type has no import format",
            server.name
        ))));
    }
    let file_name = params
        .filename
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "upload".to_string());
    let upload = Upload(state.upload_dir.join(format!(
        "licmon-upload-{}-{}",
        std::process::id(),
        UPLOADS.fetch_add(1, Ordering::Relaxed)
    )));
    save(body, &upload.0).await.map_err(|e| {
        ApiError::BadRequest(format!("cannot receive the file: {e}")).into_response()
    })?;
    let request = ImportRequest {
        server_id: id,
        path: upload.0.clone(),
        file_name,
        format,
        via: Via::Api,
        live: false,
    };
    let summary = state
        .importer
        .import(request, |_| {})
        .await
        .map_err(import_error)?;
    Ok(Json(summary))
}

async fn save(mut body: Body, path: &std::path::Path) -> std::io::Result<()> {
    use axum::body::HttpBody;
    let mut file = tokio::fs::File::create(path).await?;
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let frame = frame.map_err(std::io::Error::other)?;
        if let Some(data) = frame.data_ref() {
            file.write_all(data).await?;
        }
    }
    file.flush().await
}

fn import_error(e: ImportError) -> Response {
    let status = match &e {
        ImportError::Disabled(_) | ImportError::OverCapacity(_) | ImportError::Busy(_) => {
            StatusCode::CONFLICT
        }
        ImportError::BadFile(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ImportError::NotFound => StatusCode::NOT_FOUND,
        ImportError::Store(_) | ImportError::Io(_) => {
            return ApiError::Internal(e.to_string()).into_response();
        }
    };
    (status, Json(json!({ "error": e.to_string() }))).into_response()
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    #[serde(default)]
    limit: u32,
}

/// Past imports of the server, newest first.
#[utoipa::path(get, path = "/api/v1/license-servers/{id}/imports", tag = "imports",
    params(("id" = i64, Path, description = "license-server id"),
        ("limit" = Option<u32>, Query, description = "at most this many (default 100)")),
    responses((status = 200, description = "past imports, newest first", body = Vec<ImportRecord>),
        (status = 404, description = "no such server", body = super::openapi::ErrorBody)))]
pub async fn list_imports(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
    Query(params): Query<ListParams>,
) -> Result<Json<Vec<ImportRecord>>, ApiError> {
    state.store.get_server(id).await?;
    let limit = if params.limit == 0 { 100 } else { params.limit };
    Ok(Json(state.store.import_runs(id, limit.min(10_000)).await?))
}
