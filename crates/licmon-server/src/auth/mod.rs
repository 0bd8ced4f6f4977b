//! Authentication and authorization: login sessions (cookies), API and agent tokens
//! (`X-Auth-Token`), CSRF tokens, login rate limits, and the one permission policy.
//!
//! Invariants:
//! - Default deny: [`middleware::guard`] wraps the whole router; only [`policy::PUBLIC`] is
//!   reachable without a session or a token, and [`policy::decide`] is the only place with rules.
//! - Secrets are stored as SHA-256 digests (sessions, tokens) or argon2 hashes (passwords), in
//!   the database, so that every licmon node sharing it agrees.
//! - A request made with a session cookie that changes state carries the session's CSRF token
//!   (`X-CSRF-Token` header or `csrf_token` form field); token requests need none.
//! - The login form, posted before a session exists, carries its own double-submit token
//!   (the `licmon_login_csrf` cookie and the form field, see [`login`]).

pub mod accounts;
pub mod client_address;
pub mod login;
pub mod login_attempts;
pub mod middleware;
pub mod policy;
pub mod secrets;
pub mod token_cache;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::Duration;

pub use policy::{Principal, Via};

use crate::ApiError;

/// Cookie with the login-session id (HttpOnly).
pub const SESSION_COOKIE: &str = "licmon_session";
/// Cookie with the session's CSRF token, readable by the page's script (not HttpOnly).
pub const CSRF_COOKIE: &str = "licmon_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf_token";
/// Cookie with the login form's CSRF token (double submit, before any session exists):
/// HttpOnly, SameSite=Strict, only sent to `/login` (auth::login).
pub const LOGIN_CSRF_COOKIE: &str = "licmon_login_csrf";
/// How long a served login form can be submitted.
pub const LOGIN_CSRF_MAX_AGE_SECS: i64 = 3600;
pub const TOKEN_HEADER: &str = "x-auth-token";

/// Session lifetimes, cookie flags, login rate limits and the body-size limit.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after login, however busy.
    pub session_absolute: Duration,
    /// `Secure` cookies: set when licmon serves TLS.
    pub secure_cookies: bool,
    /// Failed logins per account within `failure_window` before logins are refused.
    pub max_failures_per_account: u64,
    /// Failed logins per client address within `failure_window` before logins are refused.
    pub max_failures_per_address: u64,
    pub failure_window: Duration,
    /// Largest request body read into memory (forms, JSON), in bytes; more is 413.
    pub max_body_bytes: usize,
    /// How long a node may use a token it read from the database before reading it again:
    /// a token revoked elsewhere (another node, the CLI) stops working within this time.
    /// Zero reads the database on every request.
    pub token_cache_ttl: std::time::Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client (see `client_address.rs`).
    pub trusted_proxies: client_address::TrustedProxies,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            session_idle: Duration::hours(2),
            session_absolute: Duration::hours(12),
            secure_cookies: false,
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            failure_window: Duration::minutes(15),
            max_body_bytes: 1024 * 1024,
            token_cache_ttl: std::time::Duration::from_secs(1),
            trusted_proxies: client_address::TrustedProxies::default(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized("log in or send X-Auth-Token".into()))
    }
}

/// Writes an `auth` entry to the event log; a failure to log is logged, not fatal.
pub async fn audit(state: &crate::AppState, message: &str) {
    if let Err(e) = state
        .store
        .log_event(state.clock.now(), None, "auth", message)
        .await
    {
        tracing::warn!(error = %e, "cannot write the event log");
    }
}

/// `/login` and `/logout`.
pub fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/login", get(login::login_page).post(login::login_submit))
        .route("/logout", get(login::logout_page).post(login::logout))
}
