//! End-user agents: `/api/v1/agent/config` and `/api/v1/agent/reports` (agent tokens; the auth
//! policy lets agent tokens reach only `/api/v1/agent/*`), the registry `/api/v1/agents` and the
//! executable → feature mapping `/api/v1/agent-apps` (administrators).
//!
//! Refusals of a report document, each with a reason in `{"error": ...}`: 400 malformed (not
//! JSON, unknown fields, unknown protocol version, unknown server, limits exceeded), 413 larger
//! than [`MAX_REPORT_BYTES`], 409 a server whose End User source is Disabled (or whose type has
//! no end-user monitoring). A document is accepted whole or not at all.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use licmon_core::{DataSource, ManagerKind, ServerId, ValidationErrors};
use licmon_protocol::{
    Accepted, AgentConfig, AppRule, DEFAULT_CONFIG_REFRESH_SECS, PROTOCOL_VERSION, ReportDocument,
};
use licmon_store::{
    AgentApp, AgentAppInput, AgentAppUsage, AgentIdentity, AgentRecord, AgentReportBatch,
    AgentServerReport,
};
use serde::{Deserialize, Serialize};

use super::body::JsonBody;
use crate::agent_ingest::refusal;
use crate::auth::{Principal, Via};
use crate::{ApiError, AppState};

/// The largest report document accepted; a full one is far smaller.
pub const MAX_REPORT_BYTES: usize = 256 * 1024;
/// Reports per document (a buffer of about an hour at the default interval, per server).
pub const MAX_REPORTS: usize = 512;
/// Applications per report.
pub const MAX_APPS: usize = 1000;
/// Longest identifier or name in a document.
pub const MAX_TEXT: usize = 256;

fn report_refused(status: u16, reason: String) -> ApiError {
    match status {
        409 => ApiError::Conflict(reason),
        _ => ApiError::BadRequest(reason),
    }
}

/// `what` names the field; it is only built for an error.
fn check_text(what: impl FnOnce() -> String, value: &str, required: bool) -> Result<(), ApiError> {
    if required && value.trim().is_empty() {
        return Err(ApiError::BadRequest(format!(
            "{} must not be empty",
            what()
        )));
    }
    if value.len() > MAX_TEXT {
        return Err(ApiError::BadRequest(format!(
            "{} is longer than {MAX_TEXT} bytes",
            what()
        )));
    }
    Ok(())
}

/// Parses and checks a report document; what is wrong becomes a 400 with the reason.
pub fn parse_document(bytes: &[u8]) -> Result<ReportDocument, ApiError> {
    let doc: ReportDocument = match serde_json::from_slice(bytes) {
        Ok(doc) => doc,
        // Parsed again only to say what is wrong, and where.
        Err(_) => return Err(document_error(bytes)),
    };
    if doc.version != PROTOCOL_VERSION {
        return Err(unsupported_version(doc.version.into()));
    }
    check_text(|| "agent.id".into(), &doc.agent.id, true)?;
    check_text(|| "agent.host".into(), &doc.agent.host, true)?;
    check_text(|| "agent.user".into(), &doc.agent.user, false)?;
    check_text(
        || "agent.agent_version".into(),
        &doc.agent.agent_version,
        false,
    )?;
    if doc.reports.len() > MAX_REPORTS {
        return Err(ApiError::BadRequest(format!(
            "{} reports in one document; at most {MAX_REPORTS}",
            doc.reports.len()
        )));
    }
    for (i, r) in doc.reports.iter().enumerate() {
        if r.apps.len() > MAX_APPS {
            return Err(ApiError::BadRequest(format!(
                "reports[{i}] has {} applications; at most {MAX_APPS}",
                r.apps.len()
            )));
        }
        for (j, a) in r.apps.iter().enumerate() {
            let at = |field: &str| format!("reports[{i}].apps[{j}].{field}");
            check_text(|| at("feature"), &a.feature, true)?;
            check_text(|| at("executable"), &a.executable, true)?;
            check_text(|| at("user"), &a.user, true)?;
        }
    }
    Ok(doc)
}

fn unsupported_version(v: u64) -> ApiError {
    ApiError::BadRequest(format!(
        "protocol version {v} is not supported; this licmon speaks version {PROTOCOL_VERSION}"
    ))
}

/// Why a document does not parse: not JSON, an unsupported version (before any complaint
/// about a field a newer agent added), or the first malformed field with its path.
fn document_error(bytes: &[u8]) -> ApiError {
    #[derive(Deserialize)]
    struct Versioned {
        version: Option<serde_json::Value>,
    }
    let versioned: Versioned = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return ApiError::BadRequest(format!("the body is not a JSON object: {e}")),
    };
    match versioned.version.as_ref().and_then(|v| v.as_u64()) {
        Some(v) if v == PROTOCOL_VERSION as u64 => {}
        Some(v) => return unsupported_version(v),
        None => {
            return ApiError::BadRequest("the document has no numeric \"version\"".into());
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, ReportDocument>(de) {
        Err(e) => ApiError::BadRequest(format!(
            "malformed report document at {}: {}",
            e.path(),
            e.inner()
        )),
        Ok(_) => ApiError::BadRequest("malformed report document".into()),
    }
}

/// The newest report per server, in server order.
fn newest_per_server(reports: Vec<licmon_protocol::Report>) -> Vec<licmon_protocol::Report> {
    let mut newest: std::collections::BTreeMap<i64, licmon_protocol::Report> =
        std::collections::BTreeMap::new();
    for r in reports {
        match newest.get(&r.server_id) {
            Some(kept) if kept.observed_at > r.observed_at => {}
            _ => {
                newest.insert(r.server_id, r);
            }
        }
    }
    newest.into_values().collect()
}

fn token_of(who: &Principal) -> Option<i64> {
    match who.via {
        Via::Token { id, .. } => Some(id),
        Via::Session { .. } => None,
    }
}

#[utoipa::path(post, path = "/api/v1/agent/reports", tag = "agents",
    request_body(content = String, description = "a licmon-protocol report document (JSON)", content_type = "application/json"),
    responses(
        (status = 200, description = "accepted: validated and queued; written within moments (a clean stop writes the queue first)", body = inline(AcceptedView)),
        (status = 400, description = "malformed (with the reason)", body = super::openapi::ErrorBody),
        (status = 409, description = "a server's End User source is Disabled", body = super::openapi::ErrorBody),
        (status = 413, description = "larger than 256 KiB", body = super::openapi::ErrorBody),
        (status = 503, description = "licmon cannot store reports right now; send them again later", body = super::openapi::ErrorBody)))]
pub async fn post_reports(
    State(state): State<AppState>,
    who: Principal,
    body: Body,
) -> Result<Json<Accepted>, ApiError> {
    if !who.is_agent() {
        return Err(ApiError::Forbidden(
            "reports are sent with an agent token (scope agent) in X-Auth-Token".into(),
        ));
    }
    let bytes: Bytes = axum::body::to_bytes(body, MAX_REPORT_BYTES)
        .await
        .map_err(|_| {
            ApiError::PayloadTooLarge(format!(
                "a report document may be at most {MAX_REPORT_BYTES} bytes; send fewer reports per document"
            ))
        })?;
    let doc = parse_document(&bytes)?;
    let now = state.clock.now();
    let accepted = doc.reports.len();
    let (agent, reports) = (doc.agent, doc.reports);
    let identity = AgentIdentity {
        agent_id: agent.id,
        host: agent.host,
        user: agent.user,
        version: agent.agent_version,
        token_id: token_of(&who),
    };
    let servers = state.agents.servers(state.store.as_ref()).await?;
    let mut accepted_reports = Vec::new();
    for r in newest_per_server(reports) {
        let server = servers.get(&r.server_id);
        if let Some((status, reason)) = refusal(server, r.server_id) {
            if let Err(e) = state
                .store
                .record_agent_error(&identity, now, &reason)
                .await
            {
                tracing::warn!(error = %e, "cannot note an agent's refused report");
            }
            return Err(report_refused(status, reason));
        }
        let mark_remote_sessions = server.is_some_and(|s| s.kind != ManagerKind::AgentApps);
        accepted_reports.push(AgentServerReport {
            server_id: r.server_id,
            mark_remote_sessions,
            apps: r
                .apps
                .into_iter()
                .map(|a| AgentAppUsage {
                    feature: a.feature,
                    executable: a.executable,
                    user: a.user,
                    instances: a.instances,
                    started_at: a.started_at,
                    idle_secs: a.idle_secs,
                })
                .collect(),
        });
    }
    let batch = AgentReportBatch {
        agent: identity,
        received_at: now,
        error: agent.last_error.filter(|e| !e.is_empty()),
        reports: accepted_reports,
    };
    state
        .agents
        .submit(state.store.clone(), state.status, batch)
        .await
        .map_err(ApiError::Unavailable)?;
    Ok(Json(Accepted { accepted }))
}

/// `{"accepted": n}`.
#[allow(dead_code)] // documents the wire type of licmon-protocol
#[derive(Serialize, utoipa::ToSchema)]
pub struct AcceptedView {
    pub accepted: usize,
}

/// The agent configuration document (see `licmon-protocol`).
#[allow(dead_code)] // documents the wire type of licmon-protocol
#[derive(Serialize, utoipa::ToSchema)]
pub struct AgentConfigView {
    pub version: u32,
    pub report_interval_secs: u64,
    pub config_refresh_secs: u64,
    pub apps: Vec<AppRuleView>,
}

#[allow(dead_code)] // documents the wire type of licmon-protocol
#[derive(Serialize, utoipa::ToSchema)]
pub struct AppRuleView {
    pub server_id: ServerId,
    pub feature: String,
    pub executables: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/agent/config", tag = "agents",
    responses((status = 200, description = "what agents watch: applications of servers whose End User source is on", body = AgentConfigView)))]
pub async fn get_config(State(state): State<AppState>) -> Result<Json<AgentConfig>, ApiError> {
    let servers = state.agents.servers(state.store.as_ref()).await?;
    let apps = state
        .store
        .list_agent_apps()
        .await?
        .into_iter()
        .filter(|a| {
            servers
                .get(&a.server_id)
                .is_some_and(|s| refusal(Some(s), s.id).is_none())
        })
        .map(|a| AppRule {
            server_id: a.server_id,
            feature: a.feature,
            executables: a.executables,
        })
        .collect();
    Ok(Json(AgentConfig {
        version: PROTOCOL_VERSION,
        report_interval_secs: state.agent_report_interval_secs,
        config_refresh_secs: DEFAULT_CONFIG_REFRESH_SECS,
        apps,
    }))
}

/// An agent of the registry, as `/api/v1/agents` lists it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AgentView {
    #[serde(flatten)]
    pub agent: AgentRecord,
    /// Reported within the End User window (counts in `Online (x)`).
    pub online: bool,
    /// `ok` (< 10 min), `warn` (10–20 min), `bad` (> 20 min): as the dashboard's last update.
    pub last_seen_class: String,
}

pub fn agent_view(agent: AgentRecord, now: DateTime<Utc>, state: &AppState) -> AgentView {
    AgentView {
        online: now - agent.last_seen_at <= state.status.agent_window,
        last_seen_class: crate::pages::age_class(Some(agent.last_seen_at), now).into(),
        agent,
    }
}

#[utoipa::path(get, path = "/api/v1/agents", tag = "agents",
    responses((status = 200, description = "the agent registry, by agent id", body = [AgentView])))]
pub async fn list_agents(State(state): State<AppState>) -> Result<Json<Vec<AgentView>>, ApiError> {
    let now = state.clock.now();
    Ok(Json(
        state
            .store
            .list_agents()
            .await?
            .into_iter()
            .map(|a| agent_view(a, now, &state))
            .collect(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/agents/{id}", tag = "agents",
    params(("id" = i64, Path, description = "registry id")),
    responses((status = 204, description = "forgotten (it reappears when it reports again)")))]
pub async fn delete_agent(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_agent(id).await.map_err(|e| match e {
        licmon_store::StoreError::NotFound => ApiError::NotFound(format!("no agent {id}")),
        other => other.into(),
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// An agent application: executables that count as a feature of a license server.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentAppBody {
    pub server_id: ServerId,
    pub feature: String,
    /// Executable file names, e.g. `["matlab", "MATLAB.exe"]` (case-insensitive, `.exe` optional).
    pub executables: Vec<String>,
}

async fn validate_app(state: &AppState, body: AgentAppBody) -> Result<AgentAppInput, ApiError> {
    let mut errors = ValidationErrors::default();
    let feature = body.feature.trim().to_string();
    if feature.is_empty() || feature.len() > MAX_TEXT {
        errors.add(
            "feature",
            format!("give a feature name of 1 to {MAX_TEXT} bytes"),
        );
    }
    let executables: Vec<String> = body
        .executables
        .iter()
        .map(|e| e.trim().to_string())
        .collect();
    if executables.is_empty() {
        errors.add("executables", "give at least one executable file name");
    }
    for e in &executables {
        if e.is_empty() || e.len() > MAX_TEXT || e.contains(['/', '\\']) {
            errors.add(
                "executables",
                format!("{e:?} is not a file name (no folders, 1 to {MAX_TEXT} bytes)"),
            );
        }
    }
    match state.store.get_server(body.server_id).await {
        Ok(s) if !s.kind.supports(DataSource::EndUser) => errors.add(
            "server_id",
            format!(
                "license server {} is of type {}, which has no end-user monitoring",
                s.id,
                s.kind.api_id()
            ),
        ),
        Ok(_) => {}
        Err(licmon_store::StoreError::NotFound) => errors.add(
            "server_id",
            format!("there is no license server {}", body.server_id),
        ),
        Err(e) => return Err(e.into()),
    }
    if !errors.errors.is_empty() {
        return Err(errors.into());
    }
    Ok(AgentAppInput {
        server_id: body.server_id,
        feature,
        executables,
    })
}

fn app_not_found(id: i64) -> impl FnOnce(licmon_store::StoreError) -> ApiError {
    move |e| match e {
        licmon_store::StoreError::NotFound => {
            ApiError::NotFound(format!("no agent application {id}"))
        }
        other => other.into(),
    }
}

#[utoipa::path(get, path = "/api/v1/agent-apps", tag = "agents",
    responses((status = 200, description = "agent applications, by server and feature", body = [AgentApp])))]
pub async fn list_apps(State(state): State<AppState>) -> Result<Json<Vec<AgentApp>>, ApiError> {
    Ok(Json(state.store.list_agent_apps().await?))
}

#[utoipa::path(post, path = "/api/v1/agent-apps", tag = "agents", request_body = AgentAppBody,
    responses((status = 201, description = "created", body = AgentApp),
        (status = 409, description = "the server already has this feature", body = super::openapi::ErrorBody)))]
pub async fn create_app(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<AgentAppBody>,
) -> Result<(StatusCode, Json<AgentApp>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(create_app_checked(&state, body).await?),
    ))
}

/// Validates and creates an agent application (the API and the Agents page).
pub async fn create_app_checked(
    state: &AppState,
    body: AgentAppBody,
) -> Result<AgentApp, ApiError> {
    let input = validate_app(state, body).await?;
    Ok(state
        .store
        .create_agent_app(&input, state.clock.now())
        .await?)
}

#[utoipa::path(get, path = "/api/v1/agent-apps/{id}", tag = "agents",
    params(("id" = i64, Path, description = "agent application id")),
    responses((status = 200, description = "one agent application", body = AgentApp),
        (status = 404, description = "no such agent application", body = super::openapi::ErrorBody)))]
pub async fn get_app(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<AgentApp>, ApiError> {
    Ok(Json(
        state
            .store
            .get_agent_app(id)
            .await
            .map_err(app_not_found(id))?,
    ))
}

#[utoipa::path(put, path = "/api/v1/agent-apps/{id}", tag = "agents", request_body = AgentAppBody,
    params(("id" = i64, Path, description = "agent application id")),
    responses((status = 200, description = "replaced", body = AgentApp)))]
pub async fn replace_app(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<AgentAppBody>,
) -> Result<Json<AgentApp>, ApiError> {
    let input = validate_app(&state, body).await?;
    Ok(Json(
        state
            .store
            .update_agent_app(id, &input, state.clock.now())
            .await
            .map_err(app_not_found(id))?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/agent-apps/{id}", tag = "agents",
    params(("id" = i64, Path, description = "agent application id")),
    responses((status = 204, description = "deleted")))]
pub async fn delete_app(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .delete_agent_app(id)
        .await
        .map_err(app_not_found(id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The routes of this file, merged into `/api/v1`.
/// The registry and the executable mapping (administrators).
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/agents", get(list_agents))
        .route("/agents/{id}", axum::routing::delete(delete_agent))
        .route("/agent-apps", get(list_apps).post(create_app))
        .route(
            "/agent-apps/{id}",
            get(get_app).put(replace_app).delete(delete_app),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(e: ApiError) -> String {
        format!("{e:?}")
    }

    #[test]
    fn documents_are_checked_with_reasons() {
        let ok = r#"{"version":1,"agent":{"id":"a","host":"h","user":"u","agent_version":"1"},"reports":[]}"#;
        assert!(parse_document(ok.as_bytes()).is_ok());
        let cases = [
            ("not json", "not a JSON object"),
            (r#"{"agent":{}}"#, "has no numeric"),
            (
                r#"{"version":2,"whatever":1}"#,
                "protocol version 2 is not supported",
            ),
            (
                r#"{"version":1,"agent":{"id":"a","host":"h","user":"u","agent_version":"1"},"reports":[{"server_id":"x"}]}"#,
                "at reports[0].server_id",
            ),
            (
                r#"{"version":1,"agent":{"id":"","host":"h","user":"u","agent_version":"1"},"reports":[]}"#,
                "agent.id must not be empty",
            ),
            (
                r#"{"version":1,"agent":{"id":"a","host":"h","user":"u","agent_version":"1"},"reports":[],"x":1}"#,
                "unknown field `x`",
            ),
        ];
        for (body, want) in cases {
            let err = status_of(parse_document(body.as_bytes()).unwrap_err());
            assert!(
                err.starts_with("BadRequest") && err.contains(want),
                "{body}: {err}"
            );
        }
    }
}
