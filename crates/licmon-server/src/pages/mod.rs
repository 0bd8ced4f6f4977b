//! Server-rendered pages, one file per page. Templates are compiled and type-checked with the
//! binary (askama); the stylesheet, scripts and icon are embedded, so pages work on air-gapped
//! networks. Pages read the store directly and post forms to their own routes (no JSON round
//! trip); their script only fetches `/api/v1` for what refreshes or pages in place.

mod admin_servers;
mod dashboard;
mod events;
mod preferences;
mod reports;
mod server;
mod server_imports;
mod server_tabs;
mod viewer;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use licmon_store::{ServerOverview, StoreError};

use crate::AppState;
use crate::api::views::ServerView;
use crate::{ApiError, api};

pub use viewer::Viewer;

const STYLE: &str = include_str!("../../assets/style.css");
const SCRIPT: &str = include_str!("../../assets/app.js");
const CHART: &str = include_str!("../../assets/chart.js");
const ICON: &str = include_str!("../../assets/icon.svg");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/servers/{id}", get(server::server_page))
        .route("/admin/servers", get(admin_servers::list))
        .route(
            "/admin/servers/new",
            get(admin_servers::new_form).post(admin_servers::create),
        )
        .route(
            "/admin/servers/{id}/edit",
            get(admin_servers::edit_form).post(admin_servers::update),
        )
        .route(
            "/admin/servers/{id}/delete",
            get(admin_servers::confirm_delete).post(admin_servers::delete),
        )
        .route("/admin/servers/{id}/verify", post(admin_servers::verify))
        .route("/admin/servers/{id}/sources", post(admin_servers::switch))
        .route("/admin/events", get(events::event_log))
        .route("/reports", get(reports::feature_usage))
        .route(
            "/preferences/visibility",
            get(preferences::visibility).post(preferences::save_visibility),
        )
        .route(
            "/assets/style.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
        .route(
            "/assets/app.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/assets/chart.js",
            get(|| async { asset(CHART, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/assets/icon.svg",
            get(|| async { asset(ICON, "image/svg+xml") }),
        )
        .route(
            "/favicon.ico",
            get(|| async { asset(ICON, "image/svg+xml") }),
        )
}

/// (id, name) of every license server, in the store's order: for server pickers and for
/// naming the servers rows refer to.
pub(crate) async fn server_names(
    state: &AppState,
) -> Result<Vec<(licmon_core::ServerId, String)>, StoreError> {
    Ok(state
        .store
        .list_servers()
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect())
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

/// An error shown as a page (not JSON): what went wrong and a way back.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: &'static str,
    message: String,
}

pub struct PageError(StatusCode, String);

impl PageError {
    pub fn not_found(what: impl Into<String>) -> Self {
        PageError(StatusCode::NOT_FOUND, what.into())
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => PageError::not_found("There is no such license server."),
            other => {
                tracing::error!(error = %other, "page failed");
                PageError(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The database did not answer as expected; see the server log.".into(),
                )
            }
        }
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::NotFound(m) => PageError(StatusCode::NOT_FOUND, m),
            ApiError::Conflict(m) => PageError(StatusCode::CONFLICT, m),
            ApiError::BadRequest(m) => PageError(StatusCode::BAD_REQUEST, m),
            ApiError::Invalid(errors) => {
                PageError(StatusCode::UNPROCESSABLE_ENTITY, errors.to_string())
            }
            other => {
                tracing::error!(error = ?other, "page failed");
                PageError(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong; see the server log.".into(),
                )
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let PageError(status, message) = self;
        let page = ErrorPage {
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error"),
            message,
        };
        (status, render(page)).into_response()
    }
}

pub type PageResult = Result<Response, PageError>;

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

/// A server as the pages show it: the API's view plus the classes that colour it.
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

/// Utilisation at a glance, ready for a template.
pub struct UtilisationCell {
    pub in_use: u64,
    pub issued: u64,
    /// 0–100, for the bar's width.
    pub percent: u64,
    /// "ok" under 80 %, "warn" to 95 %, "bad" above.
    pub class: &'static str,
}

impl UtilisationCell {
    pub fn of(u: &api::totals::Utilisation) -> Option<Self> {
        (u.issued > 0).then(|| {
            let percent = (u.in_use * 100).div_ceil(u.issued).min(100);
            UtilisationCell {
                in_use: u.in_use,
                issued: u.issued,
                percent,
                class: match percent {
                    0..80 => "ok",
                    80..95 => "warn",
                    _ => "bad",
                },
            }
        })
    }
}

/// Every server with its statuses, or one of them.
pub(crate) async fn overviews(state: &AppState) -> Result<Vec<ServerOverview>, StoreError> {
    licmon_store::overviews(state.store.as_ref(), state.clock.now(), state.status).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_colour_by_minutes() {
        let now = DateTime::from_timestamp(10_000, 0).unwrap();
        let ago = |m: i64| Some(now - chrono::Duration::minutes(m));
        assert_eq!(age_class(ago(9), now), "ok");
        assert_eq!(age_class(ago(10), now), "warn");
        assert_eq!(age_class(ago(20), now), "warn");
        assert_eq!(age_class(ago(21), now), "bad");
        assert_eq!(age_class(None, now), "muted");
    }

    #[test]
    fn utilisation_rounds_up_and_colours() {
        let cell = |in_use, issued| {
            UtilisationCell::of(&api::totals::Utilisation {
                id: 1,
                in_use,
                issued,
                taken_at: None,
            })
        };
        assert!(cell(0, 0).is_none(), "nothing counted: no bar");
        assert_eq!(cell(1, 3).unwrap().percent, 34);
        assert_eq!(cell(8, 10).unwrap().class, "warn");
        assert_eq!(cell(19, 20).unwrap().class, "bad");
        assert_eq!(cell(30, 20).unwrap().percent, 100);
    }
}
