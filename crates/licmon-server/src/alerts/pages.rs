//! Administration › Alerts and Preferences › Alerts. Forms post here with the session's CSRF
//! token (checked by the auth guard); only administrators reach `/admin/alerts*`.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{Redirect, Response};
use chrono::Duration;
use licmon_alert::{SmtpSecurity, SmtpSettings, send_test_mail};
use licmon_core::alerts::{AlertRule, AlertRuleInput, RuleId, RuleKind};
use licmon_store::AlertRecord;
use serde::Deserialize;

use crate::auth::{CSRF_FIELD, Principal, Via, audit};
use crate::pages::render;
use crate::{ApiError, AppState};

const SMTP_KEY: &str = "smtp";

fn csrf_of(who: &Principal) -> String {
    match &who.via {
        Via::Session { csrf_token, .. } => csrf_token.clone(),
        Via::Token { .. } => String::new(),
    }
}

pub struct RuleRow {
    pub id: RuleId,
    pub name: String,
    pub what: String,
    pub server: String,
    pub enabled: bool,
    pub webhook: String,
}

#[derive(Template)]
#[template(path = "admin_alerts.html")]
struct AdminPage {
    rules: Vec<RuleRow>,
    alerts: Vec<AlertRecord>,
    servers: Vec<(i64, String)>,
    kinds: Vec<&'static str>,
    smtp: SmtpSettings,
    smtp_security: &'static str,
    has_password: bool,
    message: Option<String>,
    error: Option<String>,
    csrf_field: &'static str,
    csrf_token: String,
}

async fn smtp_settings(state: &AppState) -> Result<SmtpSettings, ApiError> {
    Ok(state
        .store
        .alert_setting(SMTP_KEY)
        .await?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or(SmtpSettings {
            port: 587,
            ..SmtpSettings::default()
        }))
}

async fn admin_view(
    state: &AppState,
    who: &Principal,
    message: Option<String>,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let servers = crate::pages::server_names(state).await?;
    let name_of = |id: Option<i64>| match id {
        None => "all servers".to_string(),
        Some(id) => servers
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| format!("#{id}")),
    };
    let rules = state
        .store
        .list_alert_rules()
        .await?
        .into_iter()
        .map(|r: AlertRule| RuleRow {
            id: r.id,
            what: r.kind.describe(),
            server: name_of(r.server_id),
            enabled: r.enabled,
            webhook: r.webhook_url.unwrap_or_default(),
            name: r.name,
        })
        .collect();
    let alerts = state
        .store
        .alerts(state.clock.now() - Duration::days(super::RECENT_DAYS), 200)
        .await?;
    let mut smtp = smtp_settings(state).await?;
    let has_password = smtp.password.take().is_some();
    Ok(render(AdminPage {
        rules,
        alerts,
        servers,
        kinds: RuleKind::IDS.to_vec(),
        smtp_security: smtp.security.as_str(),
        smtp,
        has_password,
        message,
        error,
        csrf_field: CSRF_FIELD,
        csrf_token: csrf_of(who),
    }))
}

pub async fn admin_page(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Response, ApiError> {
    admin_view(&state, &who, None, None).await
}

#[derive(Debug, Deserialize)]
pub struct RuleForm {
    name: String,
    kind: String,
    #[serde(default)]
    threshold: String,
    #[serde(default)]
    feature: String,
    #[serde(default)]
    server_id: String,
    #[serde(default)]
    webhook_url: String,
}

pub async fn create_rule(
    State(state): State<AppState>,
    who: Principal,
    Form(form): Form<RuleForm>,
) -> Result<Response, ApiError> {
    let threshold = form.threshold.trim();
    let threshold = if threshold.is_empty() {
        None
    } else {
        match threshold.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                let e = format!("threshold \"{threshold}\" is not a whole number");
                return admin_view(&state, &who, None, Some(e)).await;
            }
        }
    };
    let kind = match RuleKind::from_parts(&form.kind, threshold, Some(form.feature)) {
        Ok(kind) => kind,
        Err(e) => return admin_view(&state, &who, None, Some(e)).await,
    };
    let input = AlertRuleInput {
        name: form.name,
        kind,
        server_id: form.server_id.trim().parse().ok(),
        enabled: true,
        webhook_url: Some(form.webhook_url),
    };
    let input = match input.validate() {
        Ok(input) => input,
        Err(e) => return admin_view(&state, &who, None, Some(e.to_string())).await,
    };
    match state
        .store
        .create_alert_rule(&input, state.clock.now())
        .await
    {
        Ok(rule) => {
            audit(
                &state,
                &format!(
                    "alert rule \"{}\" created by \"{}\"",
                    rule.name, who.user.name
                ),
            )
            .await;
            admin_view(
                &state,
                &who,
                Some(format!("Rule \"{}\" added.", rule.name)),
                None,
            )
            .await
        }
        Err(licmon_store::StoreError::Conflict(m)) => admin_view(&state, &who, None, Some(m)).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_rule(
    State(state): State<AppState>,
    Path(id): Path<RuleId>,
) -> Result<Redirect, ApiError> {
    state.store.delete_alert_rule(id).await?;
    Ok(Redirect::to("/admin/alerts"))
}

pub async fn toggle_rule(
    State(state): State<AppState>,
    Path(id): Path<RuleId>,
) -> Result<Redirect, ApiError> {
    let rule = state.store.get_alert_rule(id).await?;
    let input = AlertRuleInput {
        name: rule.name,
        kind: rule.kind,
        server_id: rule.server_id,
        enabled: !rule.enabled,
        webhook_url: rule.webhook_url,
    };
    state
        .store
        .update_alert_rule(id, &input, state.clock.now())
        .await?;
    Ok(Redirect::to("/admin/alerts"))
}

#[derive(Debug, Deserialize)]
pub struct SmtpForm {
    host: String,
    port: String,
    security: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    from: String,
}

pub async fn save_smtp(
    State(state): State<AppState>,
    who: Principal,
    Form(form): Form<SmtpForm>,
) -> Result<Response, ApiError> {
    let old = smtp_settings(&state).await?;
    let username = Some(form.username.trim().to_string()).filter(|u| !u.is_empty());
    // An empty password field keeps the stored one (it is never sent back to the browser).
    let password = match (form.password.is_empty(), &username) {
        (_, None) => None,
        (true, Some(_)) => old.password,
        (false, Some(_)) => Some(form.password),
    };
    let settings = SmtpSettings {
        host: form.host.trim().to_string(),
        port: form.port.trim().parse().unwrap_or(0),
        security: SmtpSecurity::parse(&form.security).unwrap_or_default(),
        username,
        password,
        from: form.from.trim().to_string(),
    };
    let problems = settings.problems();
    if !problems.is_empty() {
        let text: Vec<String> = problems.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        return admin_view(&state, &who, None, Some(text.join("; "))).await;
    }
    let value = serde_json::to_value(&settings).map_err(|e| ApiError::Internal(e.to_string()))?;
    state.store.set_alert_setting(SMTP_KEY, &value).await?;
    audit(
        &state,
        &format!("SMTP settings changed by \"{}\"", who.user.name),
    )
    .await;
    admin_view(&state, &who, Some("SMTP settings saved.".into()), None).await
}

#[derive(Debug, Deserialize)]
pub struct TestMailForm {
    to: String,
}

pub async fn test_mail(
    State(state): State<AppState>,
    who: Principal,
    Form(form): Form<TestMailForm>,
) -> Result<Response, ApiError> {
    let settings = smtp_settings(&state).await?;
    if !settings.is_configured() {
        let e = "save the SMTP settings first".to_string();
        return admin_view(&state, &who, None, Some(e)).await;
    }
    match send_test_mail(&settings, form.to.trim()).await {
        Ok(()) => {
            let m = format!("Test mail sent to {}.", form.to.trim());
            admin_view(&state, &who, Some(m), None).await
        }
        Err(e) => {
            admin_view(
                &state,
                &who,
                None,
                Some(format!("The test mail failed: {e}")),
            )
            .await
        }
    }
}

pub struct SubscriptionRow {
    pub id: RuleId,
    pub name: String,
    pub what: String,
    pub on: bool,
}

#[derive(Template)]
#[template(path = "preferences_alerts.html")]
struct PreferencesPage {
    email: String,
    rules: Vec<SubscriptionRow>,
    message: Option<String>,
    csrf_field: &'static str,
    csrf_token: String,
}

async fn preferences_view(
    state: &AppState,
    who: &Principal,
    message: Option<String>,
) -> Result<Response, ApiError> {
    let mine = state.store.alert_subscriptions(who.user.id).await?;
    let rules = state
        .store
        .list_alert_rules()
        .await?
        .into_iter()
        .filter(|r| r.server_id.is_none_or(|id| who.may_see_server(id)))
        .map(|r| SubscriptionRow {
            on: mine.contains(&r.id),
            id: r.id,
            what: r.kind.describe(),
            name: r.name,
        })
        .collect();
    Ok(render(PreferencesPage {
        email: state
            .store
            .alert_email(who.user.id)
            .await?
            .unwrap_or_default(),
        rules,
        message,
        csrf_field: CSRF_FIELD,
        csrf_token: csrf_of(who),
    }))
}

pub async fn preferences(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Response, ApiError> {
    preferences_view(&state, &who, None).await
}

/// The form: `email`, and `rule=<id>` once per subscribed rule.
pub async fn save_preferences(
    State(state): State<AppState>,
    who: Principal,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let email = pairs
        .iter()
        .find(|(k, _)| k == "email")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    if !email.is_empty() && !is_plausible_address(&email) {
        let m = format!("\"{email}\" is not an e-mail address; nothing was saved");
        return preferences_view(&state, &who, Some(m)).await;
    }
    let wanted: Vec<RuleId> = pairs
        .iter()
        .filter(|(k, _)| k == "rule")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let store = state.store.as_ref();
    store
        .set_alert_email(who.user.id, Some(email.as_str()).filter(|e| !e.is_empty()))
        .await?;
    for rule in store.list_alert_rules().await? {
        let visible = rule.server_id.is_none_or(|id| who.may_see_server(id));
        store
            .set_alert_subscription(rule.id, who.user.id, visible && wanted.contains(&rule.id))
            .await?;
    }
    preferences_view(&state, &who, Some("Saved.".into())).await
}

fn is_plausible_address(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !s.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
        }
        None => false,
    }
}
