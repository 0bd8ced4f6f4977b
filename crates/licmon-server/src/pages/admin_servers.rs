//! Administration › License Servers: the list with each data source's switch, and the forms to
//! add, edit, delete (after a confirmation) and verify a server. Forms post here and are
//! rendered again with the validation errors next to the fields; success redirects (303) to
//! the list with a notice.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use licmon_core::server::{DataSourceInput, LicenseServerInput};
use licmon_core::{DataSource, LicenseServer, ManagerKind, ServerId, ValidationErrors};
use licmon_store::StoreError;
use serde::Deserialize;

use super::{PageError, PageResult, Row, Viewer, overviews, render, row};
use crate::AppState;
use crate::api::views::ServerView;

pub struct AdminRow {
    pub row: Row,
    /// (api name, label, supported, on) per data source.
    pub switches: Vec<(&'static str, &'static str, bool, bool)>,
}

#[derive(Template)]
#[template(path = "admin_servers.html")]
struct ServerList {
    rows: Vec<AdminRow>,
    notice: Option<String>,
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub struct NoticeParams {
    notice: Option<String>,
}

fn label(source: DataSource) -> &'static str {
    match source {
        DataSource::Remote => "Remote",
        DataSource::Import => "Import",
        DataSource::EndUser => "End User",
    }
}

pub(super) async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<NoticeParams>,
) -> PageResult {
    let now = state.clock.now();
    let rows = overviews(&state)
        .await?
        .iter()
        .map(|o| AdminRow {
            switches: DataSource::ALL
                .iter()
                .map(|s| {
                    (
                        s.api_name(),
                        label(*s),
                        o.server.kind.supports(*s),
                        o.server.data_sources.get(*s),
                    )
                })
                .collect(),
            row: row(ServerView::from_overview(o), now),
        })
        .collect();
    Ok(render(ServerList {
        rows,
        notice: p.notice.filter(|n| !n.is_empty()),
        csrf: viewer.csrf,
    }))
}

/// What the form posts. Every field is text, as browsers send it; an unchecked checkbox is
/// absent.
#[derive(Debug, Default, Deserialize)]
pub struct ServerForm {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    vendor: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    query_interval_secs: String,
    #[serde(default)]
    utility_path: String,
    remote: Option<String>,
    import: Option<String>,
    end_user: Option<String>,
    /// Checked by the CSRF layer, not here.
    #[serde(default, rename = "csrf_token")]
    _csrf_token: String,
}

impl ServerForm {
    fn of(s: &LicenseServer) -> Self {
        let on = |source| s.data_sources.get(source).then(|| "on".to_string());
        ServerForm {
            name: s.name.clone(),
            kind: s.kind.api_id().into(),
            vendor: s.vendor.clone(),
            address: s
                .address
                .as_ref()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            description: s.description.clone(),
            time_zone: s.time_zone.name().into(),
            query_interval_secs: s.query_interval_secs.to_string(),
            utility_path: s.utility_path.clone().unwrap_or_default(),
            remote: on(DataSource::Remote),
            import: on(DataSource::Import),
            end_user: on(DataSource::EndUser),
            _csrf_token: String::new(),
        }
    }

    fn fresh() -> Self {
        ServerForm {
            kind: "flexnet".into(),
            time_zone: "UTC".into(),
            query_interval_secs: licmon_core::server::DEFAULT_QUERY_INTERVAL_SECS.to_string(),
            remote: Some("on".into()),
            import: Some("on".into()),
            end_user: Some("on".into()),
            ..Default::default()
        }
    }

    /// The API's input, plus errors only a form can have (a number that is not a number).
    fn to_input(&self) -> (LicenseServerInput, ValidationErrors) {
        let mut errors = ValidationErrors::default();
        let interval = self.query_interval_secs.trim();
        let query_interval_secs = if interval.is_empty() {
            None
        } else {
            match interval.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.add(
                        "query_interval_secs",
                        format!("\"{interval}\" is not a whole number of seconds"),
                    );
                    None
                }
            }
        };
        let kind = ManagerKind::from_api_id(self.kind.trim());
        // A checkbox the type does not support is sent as "off" rather than as an error: the
        // form disables it, and a stale browser form should not block the save.
        let switch = |source, field: &Option<String>| {
            Some(field.is_some() && kind.is_none_or(|k| k.supports(source)))
        };
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let input = LicenseServerInput {
            name: self.name.clone(),
            kind: self.kind.clone(),
            vendor: self.vendor.clone(),
            address: text(&self.address),
            description: self.description.clone(),
            time_zone: text(&self.time_zone),
            query_interval_secs,
            utility_path: text(&self.utility_path),
            data_sources: Some(DataSourceInput {
                remote: switch(DataSource::Remote, &self.remote),
                import: switch(DataSource::Import, &self.import),
                end_user: switch(DataSource::EndUser, &self.end_user),
            }),
        };
        (input, errors)
    }
}

/// One type in the form's select, with what it supports (for the script that greys out
/// unsupported switches and hints at the address).
pub struct KindOption {
    pub id: &'static str,
    pub name: &'static str,
    pub remote: bool,
    pub import: bool,
    pub end_user: bool,
    pub needs_address: bool,
    pub triad: bool,
}

fn kind_options() -> Vec<KindOption> {
    ManagerKind::ALL
        .iter()
        .map(|k| KindOption {
            id: k.api_id(),
            name: k.display_name(),
            remote: k.supports(DataSource::Remote),
            import: k.supports(DataSource::Import),
            end_user: k.supports(DataSource::EndUser),
            needs_address: k.needs_address(),
            triad: k.supports_triad(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "admin_server_form.html")]
struct FormPage {
    /// None: a new server.
    id: Option<ServerId>,
    form: ServerForm,
    kinds: Vec<KindOption>,
    errors: ValidationErrors,
    csrf: String,
}

impl FormPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.for_field(field)
    }

    fn source_error(&self, source: &str) -> Option<&str> {
        self.errors.for_field(&format!("data_sources.{source}"))
    }
}

fn form_page(
    id: Option<ServerId>,
    form: ServerForm,
    errors: ValidationErrors,
    viewer: Viewer,
) -> axum::response::Response {
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = FormPage {
        id,
        form,
        kinds: kind_options(),
        errors,
        csrf: viewer.csrf,
    };
    (status, render(page)).into_response()
}

pub(super) async fn new_form(viewer: Viewer) -> PageResult {
    Ok(form_page(
        None,
        ServerForm::fresh(),
        ValidationErrors::default(),
        viewer,
    ))
}

pub(super) async fn edit_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<ServerId>,
) -> PageResult {
    let server = state.store.get_server(id).await?;
    Ok(form_page(
        Some(id),
        ServerForm::of(&server),
        ValidationErrors::default(),
        viewer,
    ))
}

fn to_list(notice: &str) -> axum::response::Response {
    let mut encoded = String::new();
    for b in notice.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => encoded.push(b as char),
            _ => encoded.push_str(&format!("%{b:02X}")),
        }
    }
    Redirect::to(&format!("/admin/servers?notice={encoded}")).into_response()
}

/// Validates the form; on failure the form again, with the errors next to the fields.
fn validated(form: &ServerForm) -> Result<licmon_core::server::ServerSettings, ValidationErrors> {
    let (input, mut errors) = form.to_input();
    match input.validate() {
        Ok(settings) if errors.is_empty() => Ok(settings),
        Ok(_) => Err(errors),
        Err(more) => {
            // The form's own error for the interval says more than "out of range".
            for e in more.errors {
                if errors.for_field(&e.field).is_none() {
                    errors.errors.push(e);
                }
            }
            Err(errors)
        }
    }
}

fn name_taken(errors: &mut ValidationErrors, e: StoreError) -> Result<(), PageError> {
    match e {
        StoreError::Conflict(message) => {
            errors.add("name", message);
            Ok(())
        }
        other => Err(other.into()),
    }
}

pub(super) async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<ServerForm>,
) -> PageResult {
    let mut errors = match validated(&form) {
        Ok(settings) => match state
            .store
            .create_server(&settings, state.clock.now())
            .await
        {
            Ok(server) => {
                log_admin(&state, &server.name, server.id, "created").await;
                return Ok(to_list(&format!(
                    "Added \"{}\"; its remote status is Verifying until the first poll.",
                    server.name
                )));
            }
            Err(e) => {
                let mut errors = ValidationErrors::default();
                name_taken(&mut errors, e)?;
                errors
            }
        },
        Err(errors) => errors,
    };
    errors.errors.dedup();
    Ok(form_page(None, form, errors, viewer))
}

pub(super) async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<ServerId>,
    Form(form): Form<ServerForm>,
) -> PageResult {
    state.store.get_server(id).await?;
    let errors = match validated(&form) {
        Ok(settings) => match state
            .store
            .update_server(id, &settings, state.clock.now())
            .await
        {
            Ok(server) => {
                log_admin(&state, &server.name, id, "updated").await;
                return Ok(to_list(&format!("Saved \"{}\".", server.name)));
            }
            Err(e) => {
                let mut errors = ValidationErrors::default();
                name_taken(&mut errors, e)?;
                errors
            }
        },
        Err(errors) => errors,
    };
    Ok(form_page(Some(id), form, errors, viewer))
}

#[derive(Template)]
#[template(path = "admin_server_delete.html")]
struct ConfirmDelete {
    server: LicenseServer,
    csrf: String,
}

pub(super) async fn confirm_delete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<ServerId>,
) -> PageResult {
    let server = state.store.get_server(id).await?;
    Ok(render(ConfirmDelete {
        server,
        csrf: viewer.csrf,
    }))
}

pub(super) async fn delete(State(state): State<AppState>, Path(id): Path<ServerId>) -> PageResult {
    let server = state.store.get_server(id).await?;
    state.store.delete_server(id).await?;
    log_admin(&state, &server.name, id, "deleted").await;
    Ok(to_list(&format!(
        "Deleted \"{}\" and everything recorded for it.",
        server.name
    )))
}

pub(super) async fn verify(State(state): State<AppState>, Path(id): Path<ServerId>) -> PageResult {
    let server = state.store.get_server(id).await?;
    state.store.request_verify(id, state.clock.now()).await?;
    Ok(to_list(&format!(
        "\"{}\" is Verifying: the next poll decides Online or Offline.",
        server.name
    )))
}

#[derive(Debug, Deserialize)]
pub struct SwitchForm {
    source: String,
    enabled: String,
}

/// Switches one data source of one server on or off.
pub(super) async fn switch(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
    Form(f): Form<SwitchForm>,
) -> PageResult {
    let server = state.store.get_server(id).await?;
    let Some(source) = DataSource::ALL
        .into_iter()
        .find(|s| s.api_name() == f.source)
    else {
        return Err(PageError(
            axum::http::StatusCode::BAD_REQUEST,
            format!("unknown data source \"{}\"", f.source),
        ));
    };
    let on = f.enabled == "true";
    let mut form = ServerForm::of(&server);
    let value = on.then(|| "on".to_string());
    match source {
        DataSource::Remote => form.remote = value,
        DataSource::Import => form.import = value,
        DataSource::EndUser => form.end_user = value,
    }
    if on && !server.kind.supports(source) {
        return Err(PageError(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{} servers have no {} data source (N/A)",
                server.kind.display_name(),
                label(source)
            ),
        ));
    }
    let settings = validated(&form)
        .map_err(|e| PageError(axum::http::StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    state
        .store
        .update_server(id, &settings, state.clock.now())
        .await?;
    let what = format!(
        "{} {}",
        label(source),
        if on { "switched on" } else { "switched off" }
    );
    log_admin(&state, &server.name, id, &what).await;
    Ok(to_list(&format!("\"{}\": {what}.", server.name)))
}

async fn log_admin(state: &AppState, name: &str, id: ServerId, what: &str) {
    let message = format!("license server \"{name}\" {what}");
    if let Err(e) = state
        .store
        .log_event(state.clock.now(), Some(id), "admin", &message)
        .await
    {
        tracing::warn!(error = %e, "cannot write the event log");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_with_a_bad_interval_and_no_address_names_both_fields() {
        let form = ServerForm {
            name: "x".into(),
            kind: "flexnet".into(),
            query_interval_secs: "often".into(),
            ..Default::default()
        };
        let errors = validated(&form).unwrap_err();
        assert!(
            errors
                .for_field("query_interval_secs")
                .unwrap()
                .contains("not a whole number")
        );
        assert!(errors.for_field("address").unwrap().contains("port@host"));
    }

    #[test]
    fn unsupported_switches_are_sent_as_off() {
        let form = ServerForm {
            name: "logs".into(),
            kind: "generic-log".into(),
            remote: Some("on".into()),
            import: Some("on".into()),
            end_user: Some("on".into()),
            ..Default::default()
        };
        let settings = validated(&form).unwrap();
        assert!(!settings.data_sources.remote && settings.data_sources.import);
    }
}
