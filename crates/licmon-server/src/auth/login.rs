//! `/login` and `/logout`: the login page, password check with rate limits, session cookies.
//!
//! Login CSRF: before a session exists there is no synchronizer token, so the login form is
//! guarded by a double-submit token of its own. Serving the form sets a random token in a
//! short-lived HttpOnly, SameSite=Strict cookie ([`LOGIN_CSRF_COOKIE`]) and in the form's hidden
//! `csrf_token` field; a post must bring both, equal (compared in constant time), or it is 403.
//! Another site can make a browser post the form but can neither read the field nor make the
//! browser send a SameSite=Strict cookie with a cross-site post, so it cannot log the victim
//! into the attacker's account. (Someone able to set cookies for licmon's host could set the
//! session cookie itself; that is outside what a CSRF token can stop.)
//!
//! There is no JSON login: API clients send `X-Auth-Token` and never post this form. Should
//! one be added, it needs no such token — a cross-site page cannot send an
//! `application/json` body without a CORS preflight, which licmon never grants — so only form
//! posts (what a cross-site `<form>` can send) are checked; `Form` refuses any other body.

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, FromRequest, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use licmon_store::{LoginAttempt, LoginSession, StoreError};
use serde::Deserialize;

use super::middleware::cookie;
use super::secrets::constant_time_eq;
use super::secrets::{digest, dummy_hash, random_hex, verify_password};
use super::{
    CSRF_COOKIE, CSRF_FIELD, LOGIN_CSRF_COOKIE, LOGIN_CSRF_MAX_AGE_SECS, Principal, SESSION_COOKIE,
    Via, audit,
};
use crate::pages::render;
use crate::{ApiError, AppState};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
    name: String,
    error: Option<String>,
    csrf_field: &'static str,
    /// This form's login CSRF token, also set in the [`LOGIN_CSRF_COOKIE`] cookie.
    csrf_token: String,
}

impl LoginPage {
    fn new(next: String, name: String, error: Option<String>) -> Self {
        Self {
            next,
            name,
            error,
            csrf_field: CSRF_FIELD,
            csrf_token: random_hex(),
        }
    }
}

/// The login form with `status`, and the cookie that carries its CSRF token. Every form
/// served (first visit, wrong password, throttled) gets a fresh token.
fn login_form(state: &AppState, status: StatusCode, page: LoginPage) -> Response {
    let cookie = format!(
        "{LOGIN_CSRF_COOKIE}={}; Path=/login; Max-Age={LOGIN_CSRF_MAX_AGE_SECS}; HttpOnly; SameSite=Strict{}",
        page.csrf_token,
        secure_flag(state)
    );
    let mut response = (status, render(page)).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn secure_flag(state: &AppState) -> &'static str {
    if state.auth.secure_cookies {
        "; Secure"
    } else {
        ""
    }
}

/// Whether the posted form is the one licmon served to this browser: its hidden field equals
/// the login CSRF cookie (double submit). An empty token never matches.
fn login_csrf_ok(headers: &HeaderMap, form: &LoginForm) -> bool {
    cookie(headers, LOGIN_CSRF_COOKIE)
        .is_some_and(|c| !c.is_empty() && constant_time_eq(c, &form.csrf_token))
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage {
    user: String,
    csrf_field: &'static str,
    csrf_token: String,
}

#[derive(Debug, Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

/// Only a local path is a place to go back to after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/".into(),
    }
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<NextParam>,
) -> Response {
    let next = safe_next(p.next.as_deref());
    if let Some(id) = cookie(&headers, SESSION_COOKIE)
        && let Ok(Some(_)) = state.store.login_session(&digest(id)).await
    {
        return Redirect::to(&next).into_response();
    }
    login_form(
        &state,
        StatusCode::OK,
        LoginPage::new(next, String::new(), None),
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    next: Option<String>,
    /// The login CSRF token of the served form; missing = empty = refused.
    #[serde(default, rename = "csrf_token")]
    csrf_token: String,
}

/// The client address for rate limits: the TCP peer, or behind a trusted reverse proxy the
/// address it forwarded (`client_address.rs`).
fn client_address(request: &Request, settings: &super::AuthSettings) -> String {
    request
        .extensions()
        .get::<ConnectInfo<crate::tls::ClientAddr>>()
        .map(|c| {
            settings
                .trusted_proxies
                .client(c.0.0.ip(), request.headers())
                .to_string()
        })
        .unwrap_or_else(|| "unknown".into())
}

pub async fn login_submit(State(state): State<AppState>, request: Request) -> Response {
    let address = client_address(&request, &state.auth);
    let headers = request.headers().clone();
    let Ok(Form(form)) = Form::<LoginForm>::from_request(request, &state).await else {
        return ApiError::BadRequest("send name and password as a form".into()).into_response();
    };
    // Before the password is looked at: a forged post neither logs in nor counts as a failure.
    if !login_csrf_ok(&headers, &form) {
        let page = LoginPage::new(
            safe_next(form.next.as_deref()),
            form.name.trim().to_string(),
            Some(
                "This login form has expired or was not sent by licmon (missing or wrong CSRF \
                 token). Log in again on this page."
                    .into(),
            ),
        );
        return login_form(&state, StatusCode::FORBIDDEN, page);
    }
    match login(&state, &form, &address).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn login(state: &AppState, form: &LoginForm, address: &str) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let settings = &state.auth;
    let next = safe_next(form.next.as_deref());
    let name = form.name.trim().to_string();
    let failed = state
        .store
        .failed_logins(&name, address, now - settings.failure_window)
        .await?;
    if failed.account >= settings.max_failures_per_account
        || failed.address >= settings.max_failures_per_address
    {
        audit(
            state,
            &format!("login for \"{name}\" from {address} refused: too many failed attempts"),
        )
        .await;
        let page = LoginPage::new(
            next,
            name,
            Some(format!(
                "Too many failed logins. Try again in {} minutes.",
                settings.failure_window.num_minutes()
            )),
        );
        return Ok(login_form(state, StatusCode::TOO_MANY_REQUESTS, page));
    }
    let found = match state.store.user_credentials(&name).await {
        Ok(found) => Some(found),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let password = form.password.clone();
    let stored = found
        .as_ref()
        .map(|(_, h)| h.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    // argon2 is deliberately slow: keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .unwrap_or(false);
    let attempt = LoginAttempt {
        account: name.clone(),
        address: address.to_string(),
        at: now,
        success: ok && found.is_some(),
    };
    state.store.record_login_attempt(&attempt).await?;
    super::login_attempts::prune_if_due(state, now).await;
    let Some((user, _)) = found.filter(|_| ok) else {
        audit(
            state,
            &format!("failed login for \"{name}\" from {address}"),
        )
        .await;
        let page = LoginPage::new(next, name, Some("Wrong name or password.".into()));
        return Ok(login_form(state, StatusCode::UNAUTHORIZED, page));
    };
    state.store.clear_failed_logins(&name).await?;
    // Housekeeping on every login: sessions past their end go (others expire on use).
    state
        .store
        .purge_login_sessions(now, now - settings.session_idle)
        .await?;
    let session_id = random_hex();
    let csrf_token = random_hex();
    state
        .store
        .create_login_session(&LoginSession {
            id_hash: digest(&session_id),
            user_id: user.id,
            csrf_token: csrf_token.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + settings.session_absolute,
        })
        .await?;
    audit(
        state,
        &format!("user \"{}\" logged in from {address}", user.name),
    )
    .await;
    let max_age = settings.session_absolute.num_seconds();
    let secure = secure_flag(state);
    let mut response = Redirect::to(&next).into_response();
    let headers = response.headers_mut();
    for value in [
        format!(
            "{SESSION_COOKIE}={session_id}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
        ),
        format!("{CSRF_COOKIE}={csrf_token}; Path=/; Max-Age={max_age}; SameSite=Lax{secure}"),
        // The login form's token has done its job.
        format!("{LOGIN_CSRF_COOKIE}=; Path=/login; Max-Age=0; HttpOnly; SameSite=Strict{secure}"),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}

pub async fn logout_page(who: Principal) -> Response {
    match &who.via {
        Via::Session { csrf_token, .. } => render(LogoutPage {
            user: who.user.name.clone(),
            csrf_field: CSRF_FIELD,
            csrf_token: csrf_token.clone(),
        }),
        Via::Token { .. } => Redirect::to("/").into_response(),
    }
}

pub async fn logout(State(state): State<AppState>, who: Principal) -> Result<Response, ApiError> {
    if let Via::Session { id_hash, .. } = &who.via {
        state.store.delete_login_session(id_hash).await?;
        audit(&state, &format!("user \"{}\" logged out", who.user.name)).await;
    }
    let secure = secure_flag(&state);
    let mut response = Redirect::to("/login").into_response();
    for name in [SESSION_COOKIE, CSRF_COOKIE] {
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}"
        )) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}
