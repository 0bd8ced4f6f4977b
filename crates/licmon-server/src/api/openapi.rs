//! The OpenAPI 3 document of `/api/v1`, generated from the handlers' `#[utoipa::path]`
//! annotations and the views' `ToSchema` derives, served at `/api/v1/openapi.json`.
//! `tests/openapi.rs` checks real responses of every documented GET against it.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    accounts, agent, agent_usage, capacity, cluster, denials, history, imports, reports, servers,
    totals,
};
use crate::alerts::api as alerts;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "licmon API",
        description = "License-server monitoring. Authenticate with an API token in the \
            `X-Auth-Token` header (create one with `licmon token create`). Every list is also \
            CSV with `Accept: text/csv` or `?format=csv`. Errors are JSON `{\"error\": ...}`."
    ),
    paths(
        servers::list, servers::get_one, servers::create, servers::replace, servers::delete,
        servers::verify, history::current_usage, history::sessions, history::usage_history, history::usage_changes,
        agent_usage::agent_usage,
        history::events, accounts::me, accounts::list_users, accounts::get_user,
        accounts::create_user, accounts::update_user, accounts::delete_user,
        accounts::list_tokens, accounts::create_token, accounts::revoke_token,
        totals::utilisation_all, totals::users, totals::hosts, capacity::capacity, cluster::cluster,
        reports::feature_usage,
        agent::get_config, agent::post_reports, agent::list_agents, agent::delete_agent,
        agent::list_apps, agent::create_app, agent::get_app, agent::replace_app, agent::delete_app,
        imports::upload, imports::list_imports, denials::denials, denials::denial_counts,
        alerts::list_rules, alerts::get_rule, alerts::create_rule, alerts::replace_rule,
        alerts::delete_rule, alerts::list_alerts,
    ),
    components(schemas(ErrorBody)),
    modifiers(&TokenAuth),
    security(("token" = []))
)]
pub struct ApiDoc;

/// Every error response.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong and what to fix.
    pub error: String,
}

struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Auth-Token"))),
        );
    }
}

pub fn document_json() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}

pub async fn document() -> Json<serde_json::Value> {
    Json(document_json())
}
