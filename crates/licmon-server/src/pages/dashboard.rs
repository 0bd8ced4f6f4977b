//! The dashboard: the License Servers grid, without the servers the viewer hides. Its script
//! refreshes statuses, last updates and utilisation in place from `/api/v1`.

use askama::Template;
use axum::extract::State;
use licmon_core::ManagerKind;

use super::{PageResult, Row, UtilisationCell, Viewer, overviews, render, row};
use crate::AppState;
use crate::api::totals::utilisation;
use crate::api::views::ServerView;

pub struct DashboardRow {
    pub row: Row,
    pub utilisation: Option<UtilisationCell>,
    /// The statuses joined, for the status filter.
    pub status_keys: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    rows: Vec<DashboardRow>,
    /// The types present, for the type filter: (api id, display name).
    types: Vec<(&'static str, &'static str)>,
    statuses: Vec<&'static str>,
    hidden: usize,
}

/// Every status label a filter can ask for.
const STATUS_LABELS: [&str; 10] = [
    "Online",
    "Offline",
    "Verifying",
    "Unmonitored",
    "License Exceeded",
    "Disabled",
    "Ready",
    "Success",
    "Failure",
    "N/A",
];

pub(super) async fn dashboard(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let now = state.clock.now();
    let hidden = state.store.hidden_servers(viewer.user_id).await?;
    let mut rows = Vec::new();
    let mut kinds: Vec<ManagerKind> = Vec::new();
    for o in overviews(&state).await? {
        if hidden.contains(&o.server.id) || !viewer.may_see(o.server.id) {
            continue;
        }
        let snapshot = state.store.current_snapshot(o.server.id).await?;
        let view = ServerView::from_overview(&o);
        let status_keys = [
            &view.statuses.remote,
            &view.statuses.import,
            &view.statuses.end_user,
        ]
        .map(|s| {
            if s.starts_with("Online") {
                "Online"
            } else {
                s.as_str()
            }
        })
        .join("|");
        if !kinds.contains(&o.server.kind) {
            kinds.push(o.server.kind);
        }
        rows.push(DashboardRow {
            utilisation: UtilisationCell::of(&utilisation(o.server.id, snapshot.as_ref())),
            row: row(view, now),
            status_keys,
        });
    }
    kinds.sort_by_key(|k| k.display_name());
    Ok(render(Dashboard {
        rows,
        types: kinds
            .into_iter()
            .map(|k| (k.api_id(), k.display_name()))
            .collect(),
        statuses: STATUS_LABELS.to_vec(),
        hidden: hidden.len(),
    }))
}
