//! The guard every request passes: body-size limit, authentication (token or session),
//! the policy decision, and CSRF for cookie sessions.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::policy::{Decision, decide, is_public};
use super::secrets::{constant_time_eq, digest};
use super::token_cache::KnownToken;
use super::{CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, Principal, SESSION_COOKIE, TOKEN_HEADER, Via};
use crate::{ApiError, AppState};

/// Sessions are written back ("last seen") at most this often, not on every request.
const TOUCH_EVERY_SECS: i64 = 60;

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

fn is_buffered_body(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/x-www-form-urlencoded") || v.starts_with("application/json")
        })
}

/// Who sent the request: a token, a live session, or nobody. A token that is unknown or
/// revoked is an error (401) rather than "anonymous".
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    let now = state.clock.now();
    if let Some(token) = headers.get(TOKEN_HEADER) {
        let token = token.to_str().unwrap_or_default().trim();
        let hash = digest(token);
        let known = known_token(state, &hash).await?;
        if !constant_time_eq(&known.stored_digest, &hash) {
            return Err(ApiError::Unauthorized("unknown X-Auth-Token".into()));
        }
        let info = &known.token;
        if info.revoked_at.is_some() {
            return Err(ApiError::Unauthorized("this token has been revoked".into()));
        }
        if info
            .last_used_at
            .is_none_or(|t| (now - t).num_seconds() >= TOUCH_EVERY_SECS)
        {
            state.store.touch_token(info.id, now).await?;
            state.tokens.touched(&hash, now);
        }
        return Ok(Some(Principal {
            user: known.user.clone(),
            via: Via::Token {
                id: info.id,
                scope: info.scope,
            },
        }));
    }
    let Some(session_id) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = digest(session_id);
    let Some((session, user)) = state.store.login_session(&hash).await? else {
        return Ok(None);
    };
    let settings = &state.auth;
    if now >= session.expires_at || now - session.last_seen_at >= settings.session_idle {
        state.store.delete_login_session(&hash).await?;
        return Ok(None);
    }
    if (now - session.last_seen_at).num_seconds() >= TOUCH_EVERY_SECS {
        state.store.touch_login_session(&hash, now).await?;
    }
    Ok(Some(Principal {
        user,
        via: Via::Session {
            id_hash: hash,
            csrf_token: session.csrf_token,
        },
    }))
}

/// The token with digest `hash`, from this node's cache or the database (then cached).
async fn known_token(state: &AppState, hash: &str) -> Result<Arc<KnownToken>, ApiError> {
    let ttl = state.auth.token_cache_ttl;
    if let Some(known) = state.tokens.get(hash, Instant::now(), ttl) {
        return Ok(known);
    }
    let read_at = Instant::now();
    let Some((token, user, stored_digest)) = state.store.token_by_hash(hash).await? else {
        return Err(ApiError::Unauthorized("unknown X-Auth-Token".into()));
    };
    let known = Arc::new(KnownToken {
        token,
        user,
        stored_digest,
    });
    state
        .tokens
        .put(hash.to_string(), known.clone(), read_at, ttl);
    Ok(known)
}

fn refuse(decision: Decision, method: &Method, path: &str) -> Response {
    match decision {
        Decision::Allow => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Decision::Unauthenticated if !is_api(path) && method == Method::GET => {
            Redirect::to(&format!("/login?next={}", encode_next(path))).into_response()
        }
        Decision::Unauthenticated => ApiError::Unauthorized(
            "log in, or send an API token in the X-Auth-Token header".into(),
        )
        .into_response(),
        Decision::Forbidden(why) if is_api(path) => ApiError::Forbidden(why.into()).into_response(),
        Decision::Forbidden(why) => (
            StatusCode::FORBIDDEN,
            Html(format!(
                "<!doctype html><title>Forbidden · licmon</title><h1>Forbidden</h1><p>{why}.</p><p><a href=\"/\">License Servers</a></p>"
            )),
        )
            .into_response(),
        Decision::NotFound if is_api(path) => {
            ApiError::NotFound("no such license server".into()).into_response()
        }
        Decision::NotFound => (
            StatusCode::NOT_FOUND,
            Html("<!doctype html><title>Not found · licmon</title><h1>No such license server</h1>"),
        )
            .into_response(),
    }
}

/// `next` for the login page: a local path only (no `//host` open redirect).
fn encode_next(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Whether the form body carries the expected CSRF field.
fn form_has_token(body: &[u8], expected: &str) -> bool {
    form_urlencoded_pairs(body)
        .into_iter()
        .any(|(k, v)| k == CSRF_FIELD && constant_time_eq(&v, expected))
}

fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Vec::new();
    };
    let Ok(uri) = format!("/?{text}").parse::<axum::http::Uri>() else {
        return Vec::new();
    };
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

/// The middleware over the whole router.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let limit = state.auth.max_body_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if is_buffered_body(request.headers()) && declared.is_some_and(|n| n > limit as u64) {
        return ApiError::PayloadTooLarge(format!("the body is larger than {limit} bytes"))
            .into_response();
    }
    let who = match authenticate(&state, request.headers()).await {
        Ok(who) => who,
        Err(e) => return e.into_response(),
    };
    let decision = decide(&method, &path, who.as_ref());
    if decision != Decision::Allow {
        return refuse(decision, &method, &path);
    }
    let mut request = request;
    let authenticated = who.is_some();
    if let Some(who) = who {
        let safe = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
        if let (Via::Session { csrf_token, .. }, false) =
            (&who.via, safe || is_public(&method, &path))
        {
            // Boxed: the form path's body read stays out of every other request's future.
            request = match Box::pin(check_csrf(request, csrf_token, limit)).await {
                Ok(request) => request,
                Err(refused) => return refused,
            };
        }
        request.extensions_mut().insert(who);
    }
    let mut response = next.run(request).await;
    // Pages that show who-used-what are private: no shared caches.
    if authenticated && !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    response
}

/// A state-changing request made with a session cookie: the session's CSRF token must come in
/// the header, or in the form field of a form body (read here, then handed on).
async fn check_csrf(request: Request, csrf_token: &str, limit: usize) -> Result<Request, Response> {
    let header_ok = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| constant_time_eq(v, csrf_token));
    if header_ok {
        return Ok(request);
    }
    if !is_form(request.headers()) {
        return Err(csrf_refused());
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, limit).await else {
        return Err(
            ApiError::PayloadTooLarge(format!("the body is larger than {limit} bytes"))
                .into_response(),
        );
    };
    if !form_has_token(&bytes, csrf_token) {
        return Err(csrf_refused());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn csrf_refused() -> Response {
    ApiError::Forbidden(format!(
        "missing or wrong CSRF token: send the {CSRF_HEADER} header (the {CSRF_COOKIE} cookie's value) or the {CSRF_FIELD} form field"
    ))
    .into_response()
}
