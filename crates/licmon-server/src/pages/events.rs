//! Administration › Event log: poll failures, imports, logins and administration, newest first.

use askama::Template;
use axum::extract::{Query, State};
use licmon_store::LoggedEvent;
use serde::Deserialize;

use super::{PageResult, render};
use crate::AppState;

pub struct EventRow {
    pub event: LoggedEvent,
    pub at: String,
    pub server: Option<(i64, String)>,
}

#[derive(Template)]
#[template(path = "admin_events.html")]
struct EventLogPage {
    events: Vec<EventRow>,
    categories: Vec<String>,
    limit: u32,
}

#[derive(Debug, Deserialize)]
pub struct Params {
    limit: Option<u32>,
}

pub(super) async fn event_log(
    State(state): State<AppState>,
    Query(p): Query<Params>,
) -> PageResult {
    let limit = p.limit.unwrap_or(500).clamp(1, 10_000);
    let servers = state.store.list_servers().await?;
    let events = state.store.recent_events(limit).await?;
    let mut categories: Vec<String> = events.iter().map(|e| e.category.clone()).collect();
    categories.sort();
    categories.dedup();
    let events = events
        .into_iter()
        .map(|event| EventRow {
            at: event.at.to_rfc3339(),
            server: event.server_id.map(|id| {
                let name = servers
                    .iter()
                    .find(|s| s.id == id)
                    .map(|s| s.name.clone())
                    .unwrap_or_else(|| format!("#{id} (deleted)"));
                (id, name)
            }),
            event,
        })
        .collect();
    Ok(render(EventLogPage {
        events,
        categories,
        limit,
    }))
}
