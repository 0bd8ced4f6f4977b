//! Alerts in the web server: `/api/v1/alert-rules`, `/api/v1/alerts`, Administration › Alerts
//! (rules, SMTP settings, "send test mail", active and recent alerts) and Preferences › Alerts
//! (a user's address and subscriptions). The rules themselves are in licmon-core, their
//! evaluation and delivery in licmon-alert.

pub(crate) mod api;
mod doc;
mod pages;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

/// Resolved alerts stay listed this long.
pub const RECENT_DAYS: i64 = 7;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/alert-rules",
            get(api::list_rules).post(api::create_rule),
        )
        .route(
            "/api/v1/alert-rules/{id}",
            get(api::get_rule)
                .put(api::replace_rule)
                .delete(api::delete_rule),
        )
        .route("/api/v1/alerts", get(api::list_alerts))
        .route("/admin/alerts", get(pages::admin_page))
        .route("/admin/alerts/rules", post(pages::create_rule))
        .route("/admin/alerts/rules/{id}/delete", post(pages::delete_rule))
        .route("/admin/alerts/rules/{id}/enabled", post(pages::toggle_rule))
        .route("/admin/alerts/smtp", post(pages::save_smtp))
        .route("/admin/alerts/test-mail", post(pages::test_mail))
        .route(
            "/preferences/alerts",
            get(pages::preferences).post(pages::save_preferences),
        )
}
