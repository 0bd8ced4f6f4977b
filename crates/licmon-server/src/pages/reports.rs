//! Reports › Feature usage: the feature usage report (`crate::report`) over a range of days,
//! for every server the viewer sees and does not hide, or one server. The table sorts and
//! exports like every grid; the CSV link gives the same rows from the API.

use askama::Template;
use axum::extract::{Query, State};
use chrono::{Duration, NaiveDate, NaiveTime};
use licmon_core::ServerId;
use serde::Deserialize;

use super::{PageResult, Viewer, render};
use crate::AppState;
use crate::report::{self, Bucket, FeatureUsageRow, ReportRange};

/// The default range: the last 30 days, today included.
const DEFAULT_DAYS: i64 = 30;

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    rows: Vec<FeatureUsageRow>,
    /// (id, name) of the servers the viewer can pick.
    servers: Vec<(ServerId, String)>,
    server: Option<ServerId>,
    from: String,
    to: String,
    /// What a period of "at capacity" is: "hours" or "days".
    periods: &'static str,
    hidden: usize,
    /// Why the range asked for was not used.
    error: Option<String>,
    csv_href: String,
}

#[derive(Debug, Deserialize)]
pub struct Params {
    from: Option<String>,
    to: Option<String>,
    server: Option<String>,
}

/// A day from the form; `None` for an empty field, `Err` naming the field otherwise.
fn day(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("{field}: {v:?} is not a date (YYYY-MM-DD)")),
    }
}

pub(super) async fn feature_usage(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<Params>,
) -> PageResult {
    let now = state.clock.now();
    let today = now.date_naive();
    let default_from = today - Duration::days(DEFAULT_DAYS - 1);
    let asked = day("From", p.from.as_deref()).and_then(|from| {
        let to = day("To", p.to.as_deref())?.unwrap_or(today);
        let from = from.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
        if from > to {
            return Err(format!("From ({from}) is after To ({to})"));
        }
        Ok((from, to))
    });
    let (error, (from, to)) = match asked {
        Ok(range) => (None, range),
        Err(e) => (Some(e), (default_from, today)),
    };
    let server: Option<ServerId> = p.server.as_deref().and_then(|s| s.parse().ok());
    let hidden = state.store.hidden_servers(viewer.user_id).await?;
    let mut visible: Vec<_> = state
        .store
        .list_servers()
        .await?
        .into_iter()
        .filter(|s| viewer.may_see(s.id))
        .collect();
    visible.sort_by(|a, b| a.name.cmp(&b.name));
    let servers: Vec<(ServerId, String)> = visible.iter().map(|s| (s.id, s.name.clone())).collect();
    let hidden_count = visible.iter().filter(|s| hidden.contains(&s.id)).count();
    let chosen: Vec<_> = match server {
        Some(id) => visible.into_iter().filter(|s| s.id == id).collect(),
        None => visible
            .into_iter()
            .filter(|s| !hidden.contains(&s.id))
            .collect(),
    };
    // Days are UTC days: [from 00:00, the day after `to` 00:00).
    let range = ReportRange {
        from: from.and_time(NaiveTime::MIN).and_utc(),
        to: (to + Duration::days(1)).and_time(NaiveTime::MIN).and_utc(),
        now,
    };
    let rows = report::feature_usage(&state, &chosen, range).await?;
    let mut csv_href = format!(
        "/api/v1/reports/feature-usage?format=csv&from={}&to={}",
        range.from.format("%Y-%m-%dT%H:%M:%SZ"),
        range.to.format("%Y-%m-%dT%H:%M:%SZ")
    );
    if let Some(id) = server {
        csv_href.push_str(&format!("&server_id={id}"));
    }
    Ok(render(ReportsPage {
        rows,
        servers,
        server,
        from: from.to_string(),
        to: to.to_string(),
        periods: match range.bucket() {
            Bucket::Hour => "hours",
            Bucket::Day => "days",
        },
        hidden: if server.is_none() { hidden_count } else { 0 },
        error,
        csv_href,
    }))
}
