//! Server-rendered pages. Templates are compiled and type-checked with the binary (askama);
//! the stylesheet and script are embedded, so pages work on air-gapped networks.

mod dashboard;
mod server;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};

use crate::AppState;
use crate::api::views::ServerView;

const STYLE: &str = include_str!("../../assets/style.css");
const SCRIPT: &str = include_str!("../../assets/app.js");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/servers/{id}", get(server::server_page))
        .route(
            "/assets/style.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
        .route(
            "/assets/app.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}

pub(crate) fn render(template: impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// The CSS class of a status badge: what colour a status deserves.
pub fn badge_class(label: &str) -> &'static str {
    match label {
        "Online" | "Success" => "ok",
        "Verifying" | "Ready" => "info",
        "Offline" | "Failure" | "License Exceeded" => "bad",
        "Unmonitored" => "warn",
        "Disabled" | "N/A" => "muted",
        other if other.starts_with("Online (") => "ok",
        _ => "muted",
    }
}

/// Last update age: green under 10 min, orange 10–20, red over 20 (SPEC §6).
pub fn age_class(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> &'static str {
    match last.map(|t| (now - t).num_minutes()) {
        None => "muted",
        Some(m) if m < 10 => "ok",
        Some(m) if m <= 20 => "warn",
        Some(_) => "bad",
    }
}

pub struct Row {
    pub view: ServerView,
    pub remote_class: &'static str,
    pub import_class: &'static str,
    pub end_user_class: &'static str,
    pub age_class: &'static str,
    pub last_update: String,
}

pub(crate) fn row(view: ServerView, now: DateTime<Utc>) -> Row {
    Row {
        remote_class: badge_class(&view.statuses.remote),
        import_class: badge_class(&view.statuses.import),
        end_user_class: badge_class(&view.statuses.end_user),
        age_class: age_class(view.last_update, now),
        last_update: view.last_update.map(|t| t.to_rfc3339()).unwrap_or_default(),
        view,
    }
}
