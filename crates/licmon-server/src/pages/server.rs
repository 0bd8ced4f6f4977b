//! One license server's page: general information and the tabs. Current usage, Borrowed and
//! Expiring are rendered here from the current snapshot; Sessions, Usage history, Users and
//! Hosts are fetched by the page's script from `/api/v1` (paged, or over a chosen range).

use askama::Template;
use axum::extract::{Path, State};
use chrono::{DateTime, NaiveDate, Utc};
use licmon_core::ServerId;
use licmon_core::snapshot::{Checkout, DaemonState, NodeState, Snapshot};
use licmon_store::SessionQuery;

use super::server_imports::{ImportRow, imports_of};
use super::server_tabs::{Tab, no_live_data, tabs};
use super::{PageError, PageResult, Row, UtilisationCell, overviews, render, row};
use crate::AppState;
use crate::api::totals::Utilisation;
use crate::api::views::ServerView;

pub struct FeatureRow {
    pub name: String,
    pub versions: String,
    pub vendor: String,
    pub issued: String,
    pub in_use: u64,
    pub reserved: u64,
    pub borrowed: u64,
    pub queued: u64,
    pub utilisation: Option<UtilisationCell>,
    pub sessions: Vec<Checkout>,
}

pub struct ExpiryRow {
    pub feature: String,
    pub version: String,
    pub expires: NaiveDate,
    pub days: i64,
    pub class: &'static str,
    pub issued: String,
}

pub struct BorrowRow {
    pub feature: String,
    pub user: String,
    pub host: String,
    pub count: u64,
    pub started_at: String,
    /// When the license comes back (RFC 3339), where the utility says.
    pub returns_at: Option<String>,
}

#[derive(Template)]
#[template(path = "server.html")]
struct ServerPage {
    row: Row,
    tabs: Vec<Tab>,
    /// Why there is no live data, if there is none.
    no_live: Option<String>,
    snapshot_at: Option<String>,
    nodes: Vec<NodeState>,
    daemons: Vec<DaemonState>,
    features: Vec<FeatureRow>,
    feature_names: Vec<String>,
    /// Where the imported logs end, when the history tab should open there (RFC 3339).
    history_until: Option<String>,
    borrowed: Vec<BorrowRow>,
    expiring: Vec<ExpiryRow>,
    agents: Vec<AgentRow>,
    /// What the agents report now (the Agents tab), longest idle first.
    agent_usage: Vec<AgentUsageRow>,
    imports: Vec<ImportRow>,
    /// Whether the page offers a log upload (import supported and switched on).
    can_import: bool,
}

/// One agent that reports for this server (the Agents tab).
struct AgentRow {
    agent_id: String,
    host: String,
    user: String,
    version: String,
    last_seen: String,
    age_class: &'static str,
    last_error: String,
}

/// One application in use on an agent's host (the Agents tab).
struct AgentUsageRow {
    usage: licmon_store::AgentUsage,
    started_at: String,
    reported_at: String,
    /// "3 h 20 min", "45 s".
    idle: String,
    /// Idle for a quarter of an hour or more: a seat worth reclaiming.
    long_idle: bool,
}

/// Idle seconds as a person reads them.
fn idle_text(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

async fn agent_usage_of(
    state: &AppState,
    id: ServerId,
    now: DateTime<Utc>,
) -> Result<Vec<AgentUsageRow>, PageError> {
    let since = now - state.status.agent_window;
    Ok(state
        .store
        .current_agent_usage(id, since)
        .await?
        .into_iter()
        .map(|usage| AgentUsageRow {
            started_at: usage.started_at.to_rfc3339(),
            reported_at: usage.reported_at.to_rfc3339(),
            idle: idle_text(usage.idle_secs),
            long_idle: usage.idle_secs >= 900,
            usage,
        })
        .collect())
}

async fn agents_of(
    state: &AppState,
    id: ServerId,
    now: DateTime<Utc>,
) -> Result<Vec<AgentRow>, PageError> {
    let agents = state.store.list_agents().await?;
    Ok(agents
        .into_iter()
        .filter(|a| a.server_ids.contains(&id))
        .map(|a| AgentRow {
            age_class: super::age_class(Some(a.last_seen_at), now),
            last_seen: a.last_seen_at.to_rfc3339(),
            agent_id: a.agent_id,
            host: a.host,
            user: a.user,
            version: a.version,
            last_error: a.last_error.unwrap_or_default(),
        })
        .collect())
}

pub(super) async fn server_page(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
) -> PageResult {
    let now = state.clock.now();
    let all = overviews(&state).await?;
    let Some(o) = all.iter().find(|o| o.server.id == id) else {
        return Err(PageError::not_found(format!(
            "There is no license server with id {id}."
        )));
    };
    let no_live = no_live_data(&o.server);
    let snapshot = match no_live {
        None => state.store.current_snapshot(id).await?,
        Some(_) => None,
    };
    let borrowed = match no_live {
        None => borrowed_sessions(&state, id).await?,
        Some(_) => Vec::new(),
    };
    let nodes = match &snapshot {
        Some(s) if !s.nodes.is_empty() => s.nodes.clone(),
        // Not polled yet: the configured hosts, state unknown.
        _ => configured_nodes(&o.server),
    };
    let agents = agents_of(&state, id, now).await?;
    // Read only where the Agents tab is open to it (End User on).
    let end_user =
        o.server.kind.supports(licmon_core::DataSource::EndUser) && o.server.data_sources.end_user;
    let agent_usage = if end_user {
        agent_usage_of(&state, id, now).await?
    } else {
        Vec::new()
    };
    let imports = if o.server.kind.supports(licmon_core::DataSource::Import) {
        imports_of(&state, id).await?
    } else {
        Vec::new()
    };
    // Without live data, a history that ended days ago opens on its last week, not on an
    // empty last day.
    let history_until = match no_live {
        Some(_) => state
            .store
            .imported_until(id)
            .await?
            .filter(|until| now - *until > chrono::Duration::days(1))
            .map(|until| until.to_rfc3339()),
        None => None,
    };
    let feature_names = snapshot
        .iter()
        .flat_map(|s| s.features.iter().map(|f| f.name.clone()))
        .collect();
    Ok(render(ServerPage {
        tabs: tabs(&o.server),
        row: row(ServerView::from_overview(o), now),
        no_live,
        snapshot_at: snapshot.as_ref().map(|s| s.taken_at.to_rfc3339()),
        nodes,
        daemons: snapshot
            .as_ref()
            .map(|s| s.daemons.clone())
            .unwrap_or_default(),
        features: snapshot.as_ref().map(features).unwrap_or_default(),
        feature_names,
        history_until,
        borrowed,
        expiring: snapshot
            .as_ref()
            .map(|s| expiring(s, now))
            .unwrap_or_default(),
        agents,
        agent_usage,
        imports,
        can_import: o.server.kind.supports(licmon_core::DataSource::Import)
            && o.server.data_sources.import,
    }))
}

fn configured_nodes(server: &licmon_core::LicenseServer) -> Vec<NodeState> {
    let Some(address) = &server.address else {
        return Vec::new();
    };
    address
        .to_string()
        .split(',')
        .map(|hp| {
            let (port, host) = hp.split_once('@').unwrap_or(("", hp));
            NodeState {
                host: host.to_string(),
                port: port.parse().ok(),
                up: false,
                master: false,
                version: None,
                error: Some("not polled yet".into()),
            }
        })
        .collect()
}

async fn borrowed_sessions(state: &AppState, id: ServerId) -> Result<Vec<BorrowRow>, PageError> {
    let open = state
        .store
        .sessions(
            id,
            &SessionQuery {
                open_only: true,
                ..Default::default()
            },
        )
        .await?;
    Ok(open
        .into_iter()
        .filter(|s| s.borrowed)
        .map(|s| BorrowRow {
            feature: s.feature,
            user: s.user,
            host: s.host,
            count: s.count,
            started_at: s.started_at.to_rfc3339(),
            returns_at: s.borrow_expires_at.map(|t| t.to_rfc3339()),
        })
        .collect())
}

fn features(s: &Snapshot) -> Vec<FeatureRow> {
    s.features
        .iter()
        .map(|f| {
            let mut versions: Vec<&str> = f
                .pools
                .iter()
                .filter_map(|p| p.version.as_deref())
                .collect();
            versions.dedup();
            FeatureRow {
                name: f.name.clone(),
                versions: versions.join(", "),
                vendor: f.vendor.clone().unwrap_or_default(),
                issued: match (f.uncounted, f.issued) {
                    (true, _) => "uncounted".into(),
                    (false, Some(i)) => i.to_string(),
                    (false, None) => "—".into(),
                },
                in_use: f.in_use,
                reserved: f.reserved,
                borrowed: f.borrowed,
                queued: f.queued,
                utilisation: match (f.uncounted, f.issued) {
                    (false, Some(issued)) => UtilisationCell::of(&Utilisation {
                        id: 0,
                        in_use: f.in_use,
                        issued,
                        taken_at: None,
                    }),
                    _ => None,
                },
                sessions: s
                    .checkouts
                    .iter()
                    .filter(|c| c.feature == f.name)
                    .cloned()
                    .collect(),
            }
        })
        .collect()
}

/// Pools that expire within the next 12 months (or have expired): 0–7 days red, 8–30 yellow.
pub fn expiring(s: &Snapshot, now: DateTime<Utc>) -> Vec<ExpiryRow> {
    let today = now.date_naive();
    let mut rows: Vec<ExpiryRow> = s
        .features
        .iter()
        .flat_map(|f| f.pools.iter().map(move |p| (f, p)))
        .filter(|(_, p)| !p.permanent)
        .filter_map(|(f, p)| {
            let expires = p.expires?;
            let days = (expires - today).num_days();
            (days <= 365).then(|| ExpiryRow {
                feature: f.name.clone(),
                version: p.version.clone().unwrap_or_default(),
                expires,
                days,
                class: match days {
                    ..=7 => "bad",
                    8..=30 => "warn",
                    _ => "",
                },
                issued: p.issued.map(|i| i.to_string()).unwrap_or_default(),
            })
        })
        .collect();
    rows.sort_by_key(|r| (r.expires, r.feature.clone()));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use licmon_core::snapshot::{FeatureUsage, PoolState};

    #[test]
    fn expiring_pools_are_coloured_by_days_left() {
        let now = DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let pool = |d: &str, permanent: bool| PoolState {
            version: Some("1".into()),
            expires: Some(d.parse().unwrap()),
            permanent,
            issued: Some(5),
        };
        let s = Snapshot {
            taken_at: now,
            nodes: Vec::new(),
            daemons: Vec::new(),
            features: vec![FeatureUsage {
                denied_total: None,
                name: "f".into(),
                vendor: None,
                issued: Some(5),
                in_use: 0,
                reserved: 0,
                borrowed: 0,
                queued: 0,
                uncounted: false,
                pools: vec![
                    pool("2026-03-08", false),
                    pool("2026-03-09", false),
                    pool("2026-03-31", false),
                    pool("2026-04-01", false),
                    pool("2027-03-02", false),
                    pool("2026-03-02", true),
                ],
            }],
            checkouts: Vec::new(),
        };
        let rows = expiring(&s, now);
        let got: Vec<(i64, &str)> = rows.iter().map(|r| (r.days, r.class)).collect();
        assert_eq!(got, [(7, "bad"), (8, "warn"), (30, "warn"), (31, "")]);
    }
}
