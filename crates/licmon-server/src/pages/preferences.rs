//! Preferences › Visibility: each user hides or shows servers; hidden servers leave that user's
//! dashboard (and reports).

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use licmon_core::ServerId;
use serde::Deserialize;

use super::{PageResult, Viewer, render};
use crate::AppState;

pub struct VisibilityRow {
    pub id: ServerId,
    pub name: String,
    pub type_name: &'static str,
    pub vendor: String,
    pub shown: bool,
}

#[derive(Template)]
#[template(path = "preferences_visibility.html")]
struct VisibilityPage {
    rows: Vec<VisibilityRow>,
    saved: bool,
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub struct Params {
    saved: Option<String>,
}

pub(super) async fn visibility(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<Params>,
) -> PageResult {
    let hidden = state.store.hidden_servers(viewer.user_id).await?;
    let rows = state
        .store
        .list_servers()
        .await?
        .into_iter()
        .filter(|s| viewer.may_see(s.id))
        .map(|s| VisibilityRow {
            shown: !hidden.contains(&s.id),
            id: s.id,
            name: s.name,
            type_name: s.kind.display_name(),
            vendor: s.vendor,
        })
        .collect();
    Ok(render(VisibilityPage {
        rows,
        saved: p.saved.is_some(),
        csrf: viewer.csrf,
    }))
}

/// The form sends `show=<id>` for every checked server; every other server is hidden.
pub(super) async fn save_visibility(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    let shown: Vec<ServerId> = fields
        .iter()
        .filter(|(k, _)| k == "show")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let hidden = state.store.hidden_servers(viewer.user_id).await?;
    let servers = state.store.list_servers().await?;
    for server in servers.into_iter().filter(|s| viewer.may_see(s.id)) {
        let hide = !shown.contains(&server.id);
        if hide != hidden.contains(&server.id) {
            state
                .store
                .set_server_hidden(viewer.user_id, server.id, hide)
                .await?;
        }
    }
    Ok(Redirect::to("/preferences/visibility?saved=1").into_response())
}
