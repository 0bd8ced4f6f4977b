//! Administration › Event log: poll failures, imports, logins and administration, newest
//! first, a page at a time, filtered by category and license server (query parameters, so a
//! filtered page can be bookmarked and sent).

use askama::Template;
use axum::extract::{Query, State};
use licmon_core::ServerId;
use licmon_store::{EventQuery, LoggedEvent};
use serde::Deserialize;

use super::{PageResult, render};
use crate::AppState;

/// Events per page.
const PAGE: u32 = 200;

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
    /// (id, name) of every license server, for the server filter.
    servers: Vec<(ServerId, String)>,
    category: String,
    server: Option<ServerId>,
    /// The first event shown, counted from the newest (0-based), and the last (1-based).
    first: u32,
    last: u32,
    newer_href: Option<String>,
    older_href: Option<String>,
    api_href: String,
}

#[derive(Debug, Deserialize)]
pub struct Params {
    category: Option<String>,
    /// A server id, or empty for all.
    server: Option<String>,
    #[serde(default)]
    offset: u32,
}

pub(super) async fn event_log(
    State(state): State<AppState>,
    Query(p): Query<Params>,
) -> PageResult {
    let category = p.category.filter(|c| !c.is_empty());
    let server: Option<ServerId> = p.server.as_deref().and_then(|s| s.parse().ok());
    let mut servers = super::server_names(&state).await?;
    servers.sort_by(|a, b| a.1.cmp(&b.1));
    // One more than a page tells whether an older page exists.
    let query = EventQuery {
        category: category.clone(),
        server_id: server,
        limit: PAGE + 1,
        offset: p.offset,
    };
    let mut events = state.store.events(&query).await?;
    let has_older = events.len() > PAGE as usize;
    events.truncate(PAGE as usize);
    let link = |offset: u32| {
        let mut href = format!("/admin/events?offset={offset}");
        if let Some(c) = &category {
            href.push_str(&format!("&category={}", encode(c)));
        }
        if let Some(id) = server {
            href.push_str(&format!("&server={id}"));
        }
        href
    };
    let mut api_href = String::from("/api/v1/events?limit=10000");
    if let Some(c) = &category {
        api_href.push_str(&format!("&category={}", encode(c)));
    }
    if let Some(id) = server {
        api_href.push_str(&format!("&server_id={id}"));
    }
    let rows: Vec<EventRow> = events
        .into_iter()
        .map(|event| EventRow {
            at: event.at.to_rfc3339(),
            server: event.server_id.map(|id| {
                let name = servers
                    .iter()
                    .find(|s| s.0 == id)
                    .map(|s| s.1.clone())
                    .unwrap_or_else(|| format!("#{id} (deleted)"));
                (id, name)
            }),
            event,
        })
        .collect();
    Ok(render(EventLogPage {
        first: p.offset + 1,
        last: p.offset + rows.len() as u32,
        events: rows,
        categories: state.store.event_categories().await?,
        servers,
        category: category.clone().unwrap_or_default(),
        server,
        newer_href: (p.offset > 0).then(|| link(p.offset.saturating_sub(PAGE))),
        older_href: has_older.then(|| link(p.offset + PAGE)),
        api_href,
    }))
}

/// A query-string value: letters, digits and `-_.` as they are, the rest percent-encoded.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
