//! The dashboard: the License Servers grid.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use licmon_store::overviews;

use super::{Row, render, row};
use crate::api::views::ServerView;
use crate::{ApiError, AppState};

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    rows: Vec<Row>,
    now: String,
}

pub(super) async fn dashboard(State(state): State<AppState>) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let all = overviews(state.store.as_ref(), now, state.status).await?;
    let rows = all
        .iter()
        .map(|o| row(ServerView::from_overview(o), now))
        .collect();
    Ok(render(Dashboard {
        rows,
        now: now.to_rfc3339(),
    }))
}
