//! `GET /metrics`: Prometheus text (OpenMetrics 1.0, which Prometheus reads natively), built per
//! scrape with `prometheus-client` from what the store derives — statuses, current usage,
//! denials, imports, agents, capacity, alerts — plus this node's poll histograms.
//!
//! Invariants: labels are bounded (server, data source, status, feature, outcome — never a
//! user, host or session); `/metrics` is public unless `metrics_token` is configured, then it
//! needs `Authorization: Bearer <token>` (or an administrator's login or API token).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use licmon_collect::PollMetrics;
use licmon_core::alerts::AlertState;
use licmon_core::capacity::{CapacityEntry, CapacityUsage};
use licmon_core::{EndUserStatus, ImportStatus, RemoteStatus};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::auth::Principal;
use crate::auth::secrets::constant_time_eq;
use crate::{ApiError, AppState};

/// What `/metrics` needs beyond the store.
#[derive(Clone, Default)]
pub struct MetricsState {
    /// This node's poll metrics (None when it does not poll).
    pub polls: Option<PollMetrics>,
    /// When set, scrapers must send `Authorization: Bearer <token>`.
    pub token: Option<Arc<str>>,
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    server: String,
    source: String,
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServerLabel {
    server: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeatureLabels {
    server: String,
    feature: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    server: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

const REMOTE: [&str; 7] = [
    "Online",
    "Offline",
    "Verifying",
    "Unmonitored",
    "License Exceeded",
    "Disabled",
    "N/A",
];
const IMPORT: [&str; 6] = [
    "Ready",
    "Success",
    "Failure",
    "License Exceeded",
    "Disabled",
    "N/A",
];
const END_USER: [&str; 4] = ["Online", "Offline", "Disabled", "N/A"];

fn allowed(state: &AppState, headers: &HeaderMap, who: Option<&Principal>) -> bool {
    let Some(token) = &state.metrics.token else {
        return true;
    };
    if who.is_some_and(|w| w.is_admin()) {
        return true;
    }
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| constant_time_eq(given.trim(), token))
}

async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Option<axum::Extension<Principal>>,
) -> Result<Response, ApiError> {
    if !allowed(&state, &headers, who.as_ref().map(|w| &w.0)) {
        let mut response =
            ApiError::Unauthorized("/metrics needs Authorization: Bearer <metrics_token>".into())
                .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"licmon metrics\""),
        );
        return Ok(response);
    }
    let text = render(&state).await?;
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

fn gauge_family<L>(registry: &mut Registry, name: &str, help: &str) -> Family<L, Gauge>
where
    L: EncodeLabelSet + Clone + std::hash::Hash + Eq + std::fmt::Debug + Send + Sync + 'static,
{
    let family = Family::<L, Gauge>::default();
    registry.register(name, help, family.clone());
    family
}

fn counter_family<L>(registry: &mut Registry, name: &str, help: &str) -> Family<L, Counter>
where
    L: EncodeLabelSet + Clone + std::hash::Hash + Eq + std::fmt::Debug + Send + Sync + 'static,
{
    let family = Family::<L, Counter>::default();
    registry.register(name, help, family.clone());
    family
}

/// The exposition text.
pub async fn render(state: &AppState) -> Result<String, ApiError> {
    let now = state.clock.now();
    let store = state.store.as_ref();
    let overviews = licmon_store::overviews(store, now, state.status).await?;
    let mut registry = Registry::default();

    let status = gauge_family::<StatusLabels>(
        &mut registry,
        "licmon_server_status",
        "1 for the data source's current status, 0 for the others",
    );
    let last_update = gauge_family::<ServerLabel>(
        &mut registry,
        "licmon_server_last_update_timestamp_seconds",
        "Unix time of the last successful poll or import",
    );
    let agents = gauge_family::<ServerLabel>(
        &mut registry,
        "licmon_agents_online",
        "End-user agents that reported for the server within the agent window",
    );
    let issued = gauge_family::<FeatureLabels>(
        &mut registry,
        "licmon_feature_issued",
        "Licenses issued (counted features)",
    );
    let in_use =
        gauge_family::<FeatureLabels>(&mut registry, "licmon_feature_in_use", "Licenses in use");
    let reserved = gauge_family::<FeatureLabels>(
        &mut registry,
        "licmon_feature_reserved",
        "Licenses reserved",
    );
    let borrowed = gauge_family::<FeatureLabels>(
        &mut registry,
        "licmon_feature_borrowed",
        "Licenses borrowed",
    );
    let queued = gauge_family::<FeatureLabels>(
        &mut registry,
        "licmon_feature_queued",
        "Users queued for the feature",
    );
    let mut names = std::collections::HashMap::new();
    for o in &overviews {
        let server = o.server.name.clone();
        names.insert(o.server.id, server.clone());
        fn current(all: &[&'static str], label: &str) -> Vec<(&'static str, i64)> {
            all.iter().map(|s| (*s, i64::from(*s == label))).collect()
        }
        let remote = current(&REMOTE, &remote_label(&o.statuses.remote));
        let import = current(&IMPORT, &import_label(&o.statuses.import));
        let end_user = current(&END_USER, end_user_label(&o.statuses.end_user));
        for (source, values) in [
            ("remote", remote),
            ("import", import),
            ("end_user", end_user),
        ] {
            for (s, v) in values {
                status
                    .get_or_create(&StatusLabels {
                        server: server.clone(),
                        source: source.into(),
                        status: s.into(),
                    })
                    .set(v);
            }
        }
        if let Some(at) = o.last_update {
            last_update
                .get_or_create(&ServerLabel {
                    server: server.clone(),
                })
                .set(at.timestamp());
        }
        let online = match o.statuses.end_user {
            EndUserStatus::Online { agents } => agents as i64,
            _ => 0,
        };
        agents
            .get_or_create(&ServerLabel {
                server: server.clone(),
            })
            .set(online);
        if let Some(snapshot) = store.current_snapshot(o.server.id).await? {
            for f in &snapshot.features {
                let labels = FeatureLabels {
                    server: server.clone(),
                    feature: f.name.clone(),
                };
                if let Some(n) = f.issued.filter(|_| !f.uncounted) {
                    issued.get_or_create(&labels).set(n as i64);
                }
                in_use.get_or_create(&labels).set(f.in_use as i64);
                reserved.get_or_create(&labels).set(f.reserved as i64);
                borrowed.get_or_create(&labels).set(f.borrowed as i64);
                queued.get_or_create(&labels).set(f.queued as i64);
            }
        }
    }

    let true_denials = counter_family::<ServerLabel>(
        &mut registry,
        "licmon_true_denials",
        "Denials that were not followed by a successful retry",
    );
    let raw_denials = counter_family::<ServerLabel>(
        &mut registry,
        "licmon_raw_denials",
        "Every denial recorded, retries included",
    );
    // Every server has its counters from the start (0), so that rates and dashboards work
    // before the first denial or import.
    for server in names.values() {
        let labels = ServerLabel {
            server: server.clone(),
        };
        raw_denials.get_or_create(&labels).inc_by(0);
        true_denials.get_or_create(&labels).inc_by(0);
    }
    for d in store.denial_totals().await? {
        let Some(server) = names.get(&d.server_id) else {
            continue;
        };
        let labels = ServerLabel {
            server: server.clone(),
        };
        raw_denials.get_or_create(&labels).inc_by(d.denials);
        if !d.retry {
            true_denials.get_or_create(&labels).inc_by(d.denials);
        }
    }
    let imports = counter_family::<OutcomeLabels>(
        &mut registry,
        "licmon_imports",
        "Import runs by outcome (success, failure, refused)",
    );
    for server in names.values() {
        for outcome in ["success", "failure", "refused"] {
            imports
                .get_or_create(&OutcomeLabels {
                    server: server.clone(),
                    outcome: outcome.into(),
                })
                .inc_by(0);
        }
    }
    for i in store.import_totals().await? {
        if let Some(server) = names.get(&i.server_id) {
            imports
                .get_or_create(&OutcomeLabels {
                    server: server.clone(),
                    outcome: i.outcome,
                })
                .inc_by(i.runs);
        }
    }

    let entries: Vec<CapacityEntry> = overviews
        .iter()
        .map(|o| CapacityEntry {
            id: o.server.id,
            created_at: o.server.created_at,
            any_source_enabled: o.server.data_sources.any(),
        })
        .collect();
    let capacity = CapacityUsage::of(&entries, state.status.max_license_servers);
    let used = Gauge::<i64>::default();
    used.set(capacity.used as i64);
    registry.register(
        "licmon_capacity_used",
        "License servers that count against max_license_servers",
        used,
    );
    if let Some(limit) = capacity.limit {
        let g = Gauge::<i64>::default();
        g.set(limit as i64);
        registry.register("licmon_capacity_limit", "max_license_servers", g);
    }

    let alerts = gauge_family::<StateLabel>(
        &mut registry,
        "licmon_alerts",
        "Open alerts by state (pending, firing)",
    );
    let open = store.open_alerts().await?;
    for s in [AlertState::Pending, AlertState::Firing] {
        alerts
            .get_or_create(&StateLabel {
                state: s.as_str().into(),
            })
            .set(open.iter().filter(|a| a.state == s).count() as i64);
    }

    if let Some(polls) = &state.metrics.polls {
        registry.register(
            "licmon_poll_duration_seconds",
            "How long polls of a license server took on this node (utility and parsing)",
            polls.duration_seconds.clone(),
        );
        registry.register(
            "licmon_polls",
            "Polls on this node by outcome: ok, or the failure's reason kind",
            polls.polls.clone(),
        );
    }
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)
        .map_err(|e| ApiError::Internal(format!("cannot encode metrics: {e}")))?;
    Ok(text)
}

fn remote_label(s: &RemoteStatus) -> String {
    s.label()
}

fn import_label(s: &ImportStatus) -> String {
    s.label()
}

fn end_user_label(s: &EndUserStatus) -> &'static str {
    match s {
        EndUserStatus::Online { .. } => "Online",
        EndUserStatus::Offline => "Offline",
        EndUserStatus::Disabled => "Disabled",
        EndUserStatus::NotApplicable => "N/A",
    }
}
