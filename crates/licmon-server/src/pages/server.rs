//! One license server's page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use licmon_core::ServerId;
use licmon_core::snapshot::Snapshot;
use licmon_store::overviews;

use super::{Row, render, row};
use crate::api::views::ServerView;
use crate::{ApiError, AppState};

#[derive(Template)]
#[template(path = "server.html")]
struct ServerPage {
    row: Row,
    snapshot: Option<Snapshot>,
    live: bool,
}

pub(super) async fn server_page(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let all = overviews(state.store.as_ref(), now, state.status).await?;
    let Some(o) = all.iter().find(|o| o.server.id == id) else {
        return Ok((
            StatusCode::NOT_FOUND,
            Html("<h1>No such license server</h1>"),
        )
            .into_response());
    };
    let live = o.server.kind.supports(licmon_core::DataSource::Remote);
    let snapshot = if live {
        state.store.current_snapshot(id).await?
    } else {
        None
    };
    Ok(render(ServerPage {
        row: row(ServerView::from_overview(o), now),
        snapshot,
        live,
    }))
}
