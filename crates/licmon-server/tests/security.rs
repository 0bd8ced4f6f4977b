//! Security over real HTTP: every route refuses anonymous requests (except the public ones),
//! Users cannot change anything, limited Users cannot read other servers, agent tokens reach
//! only agent endpoints, CSRF, revoked tokens, body limits, hostile input.
//!
//! Routes are enumerated from the source: every `.route("…", …)` in `src/` (those under
//! `src/api/` are nested at `/api/v1`) with its methods — so a route someone adds is checked
//! without anyone updating a list — and, as a cross-check, every path of the OpenAPI document.

mod auth_harness;

use std::collections::BTreeSet;

use auth_harness::{TestServer, enc, start};
use chrono::Utc;
use licmon_core::server::LicenseServerInput;
use licmon_store::{
    AuthStore, EventLog, LoginAttempt, LoginSession, Role, ServerStore, TokenScope,
};

/// `(method, path pattern)` of every route in the crate's source.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeSet::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let prefix = if path.starts_with(root.join("api")) {
                "/api/v1"
            } else {
                ""
            };
            let mut rest = text.as_str();
            while let Some(i) = rest.find(".route(") {
                rest = &rest[i + ".route(".len()..];
                let Some(start) = rest.find('"') else { break };
                let after = &rest[start + 1..];
                let Some(end) = after.find('"') else { break };
                let pattern = &after[..end];
                // The route's call: up to the parenthesis that closes `.route(`.
                let mut depth = 1;
                let mut close = 0;
                for (j, c) in rest.char_indices() {
                    match c {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                close = j;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let call = &rest[..close];
                for method in ["get", "post", "put", "delete", "patch"] {
                    let needle = format!("{method}(");
                    let used = call.match_indices(&needle).any(|(k, _)| {
                        k == 0
                            || !call.as_bytes()[k - 1].is_ascii_alphanumeric()
                                && call.as_bytes()[k - 1] != b'_'
                    });
                    if used {
                        found.insert((method.to_uppercase(), format!("{prefix}{pattern}")));
                    }
                }
            }
        }
    }
    found
}

fn routes_in_openapi() -> BTreeSet<(String, String)> {
    let doc = licmon_server::openapi_document();
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            found.insert((method.to_uppercase(), path.clone()));
        }
    }
    found
}

fn is_public(method: &str, path: &str) -> bool {
    matches!(
        (method, path),
        ("GET", "/healthz")
            | ("GET" | "POST", "/login")
            | ("GET", "/api/v1/openapi.json")
            // Public unless `metrics_token` is set (see src/metrics.rs and tests/alerts_e2e.rs).
            | ("GET", "/metrics")
    ) || (method == "GET" && path.starts_with("/assets/"))
}

/// A concrete path: every `{param}` becomes `id`.
fn concrete(pattern: &str, id: i64) -> String {
    pattern
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                id.to_string()
            } else {
                seg.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn body_for(method: &str) -> Option<(&'static str, Vec<u8>)> {
    (method != "GET").then(|| ("application/json", b"{}".to_vec()))
}

async fn server_named(s: &TestServer, name: &str) -> i64 {
    let input = LicenseServerInput {
        name: name.into(),
        kind: "flexnet".into(),
        address: Some(format!("1055@{name}")),
        time_zone: Some("UTC".into()),
        ..Default::default()
    };
    s.store
        .create_server(&input.validate().unwrap(), Utc::now())
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn every_route_is_enumerated_and_the_openapi_paths_are_among_them() {
    let source = routes_in_source();
    assert!(source.len() >= 20, "too few routes found: {source:?}");
    for route in [
        ("GET", "/api/v1/license-servers"),
        ("POST", "/login"),
        ("GET", "/admin/users"),
    ] {
        assert!(
            source.contains(&(route.0.to_string(), route.1.to_string())),
            "{route:?} not found"
        );
    }
    for (method, path) in routes_in_openapi() {
        assert!(
            source.contains(&(method.clone(), path.clone())),
            "documented {method} {path} is not routed"
        );
    }
}

/// Every `/api/v1` route of the source is in the OpenAPI document (only the document itself is
/// not described in it): an endpoint added without `#[utoipa::path]` and an entry in
/// `api/openapi.rs` fails here.
#[test]
fn every_api_route_is_in_the_openapi_document() {
    let documented = routes_in_openapi();
    let undocumented: Vec<_> = routes_in_source()
        .into_iter()
        .filter(|(_, path)| path.starts_with("/api/v1/") && path != "/api/v1/openapi.json")
        .filter(|route| !documented.contains(route))
        .collect();
    assert!(
        undocumented.is_empty(),
        "routed but missing from the OpenAPI document: {undocumented:?}"
    );
    for alert_route in [
        ("GET", "/api/v1/alerts"),
        ("PUT", "/api/v1/alert-rules/{id}"),
    ] {
        assert!(
            documented.contains(&(alert_route.0.into(), alert_route.1.into())),
            "{alert_route:?}"
        );
    }
}

#[tokio::test]
async fn every_non_public_route_refuses_anonymous_requests() {
    let s = start().await;
    let id = server_named(&s, "one").await;
    let mut checked = 0;
    for (method, pattern) in routes_in_source().union(&routes_in_openapi()) {
        let path = concrete(pattern, id);
        let r = s.request(method, &path, &[], body_for(method)).await;
        if is_public(method, pattern) {
            assert!(r.status != 401, "{method} {path} is public but said 401");
            continue;
        }
        let refused = r.status == 401
            || (r.status == 303
                && r.header("location")
                    .is_some_and(|l| l.starts_with("/login")));
        assert!(
            refused,
            "anonymous {method} {path} got {} {}",
            r.status, r.body
        );
        if path.starts_with("/api/") {
            assert_eq!(r.status, 401, "{method} {path}");
            assert!(r.json()["error"].is_string());
        }
        checked += 1;
    }
    assert!(checked >= 20);
    // Unknown paths too: nothing leaks, not even whether a route exists.
    assert_eq!(s.get("/api/v1/no-such-thing", &[]).await.status, 401);
    // A wrong token is refused outright, even on a public path.
    assert_eq!(
        s.get("/healthz", &[("X-Auth-Token", "lmt_nope")])
            .await
            .status,
        401
    );
    assert_eq!(
        s.get("/api/v1/license-servers", &[("X-Auth-Token", "lmt_nope")])
            .await
            .status,
        401
    );
    s.stop().await;
}

#[tokio::test]
async fn a_user_cannot_change_anything_and_agents_reach_only_agent_endpoints() {
    let s = start().await;
    let id = server_named(&s, "one").await;
    let user = s.user("reader", Role::User, None).await;
    let (user_token, _) = s.token(&user, TokenScope::Api).await;
    let admin = s.user("boss", Role::Administrator, None).await;
    let (agent_token, _) = s.token(&admin, TokenScope::Agent).await;
    let browser = s
        .login("reader", &TestServer::password("reader"))
        .await
        .unwrap();
    for (method, pattern) in routes_in_source().union(&routes_in_openapi()) {
        let path = concrete(pattern, id);
        if is_public(method, pattern) || path == "/logout" {
            continue;
        }
        let agent = s
            .with_token(
                &agent_token,
                method,
                &path,
                (method != "GET").then_some("{}"),
            )
            .await;
        if path.starts_with("/api/v1/agent/") {
            assert_ne!(agent.status, 403, "agent {method} {path}");
        } else {
            assert_eq!(
                agent.status, 403,
                "agent token reached {method} {path}: {}",
                agent.body
            );
        }
        // A User's own preferences (policy::USER_WRITABLE) are theirs to change.
        if method == "GET" || path.starts_with("/preferences/") {
            continue;
        }
        let r = s.with_token(&user_token, method, &path, Some("{}")).await;
        assert_eq!(r.status, 403, "User token {method} {path}: {}", r.body);
        // With the session and a valid CSRF token: still no.
        let cookie = browser.cookie.clone();
        let r = s
            .request(
                method,
                &path,
                &[("Cookie", &cookie), ("X-CSRF-Token", &browser.csrf)],
                body_for(method),
            )
            .await;
        assert_eq!(r.status, 403, "User session {method} {path}: {}", r.body);
    }
    // Administration is administrators' only, reads included.
    for path in [
        "/api/v1/users",
        "/api/v1/tokens",
        "/api/v1/events",
        "/admin/users",
        "/admin/tokens",
    ] {
        assert_eq!(
            s.with_token(&user_token, "GET", path, None).await.status,
            403,
            "{path}"
        );
    }
    // What a User may read.
    assert_eq!(
        s.with_token(&user_token, "GET", "/api/v1/license-servers", None)
            .await
            .status,
        200
    );
    assert_eq!(
        s.with_token(&user_token, "GET", "/api/v1/me", None)
            .await
            .json()["user"]["name"],
        "reader"
    );
    // Nothing changed.
    assert_eq!(s.store.list_servers().await.unwrap().len(), 1);
    assert_eq!(s.store.list_users().await.unwrap().len(), 2);
    s.stop().await;
}

#[tokio::test]
async fn a_limited_user_sees_only_permitted_servers() {
    let s = start().await;
    let mine = server_named(&s, "mine").await;
    let other = server_named(&s, "other").await;
    let u = s.user("limited", Role::User, Some(vec![mine])).await;
    let (token, _) = s.token(&u, TokenScope::Api).await;
    let list = s
        .with_token(&token, "GET", "/api/v1/license-servers", None)
        .await
        .json();
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![mine]);
    let csv = s
        .with_token(&token, "GET", "/api/v1/license-servers?format=csv", None)
        .await;
    assert!(!csv.body.contains("other"), "{}", csv.body);
    for path in routes_in_source()
        .into_iter()
        .filter(|(m, p)| {
            m == "GET" && (p.contains("/license-servers/{") || p.starts_with("/servers/{"))
        })
        .map(|(_, p)| p)
    {
        let r = s
            .with_token(&token, "GET", &concrete(&path, other), None)
            .await;
        assert_eq!(
            r.status, 404,
            "{path} for a server not permitted: {}",
            r.body
        );
        let r = s
            .with_token(&token, "GET", &concrete(&path, mine), None)
            .await;
        assert!(
            !r.body.contains("no such license server"),
            "{path} for a permitted server: {}",
            r.body
        );
    }
    let r = s
        .with_token(&token, "GET", &format!("/servers/{mine}"), None)
        .await;
    assert_eq!(r.status, 200);
    let page = s.with_token(&token, "GET", "/", None).await;
    assert!(
        page.body.contains("mine") && !page.body.contains(">other<"),
        "{}",
        page.body
    );
    s.stop().await;
}

#[tokio::test]
async fn csrf_is_required_for_cookie_sessions_but_not_tokens() {
    let s = start().await;
    let admin = s.user("admin", Role::Administrator, None).await;
    let (token, _) = s.token(&admin, TokenScope::Api).await;
    let b = s
        .login("admin", &TestServer::password("admin"))
        .await
        .unwrap();
    let body = r#"{"name": "x1", "type": "flexnet", "address": "1@h", "time_zone": "UTC"}"#;
    let json = || Some(("application/json", body.as_bytes().to_vec()));
    let r = s
        .request(
            "POST",
            "/api/v1/license-servers",
            &[("Cookie", &b.cookie)],
            json(),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.json()["error"].as_str().unwrap().contains("CSRF"));
    let r = s
        .request(
            "POST",
            "/api/v1/license-servers",
            &[("Cookie", &b.cookie), ("X-CSRF-Token", "wrong")],
            json(),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = s
        .request(
            "POST",
            "/api/v1/license-servers",
            &[("Cookie", &b.cookie), ("X-CSRF-Token", &b.csrf)],
            json(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Forms: the hidden field.
    let form = |csrf: &str| {
        Some((
            "application/x-www-form-urlencoded",
            format!(
                "csrf_token={}&name=newbie&password=long-enough-pw&role=user&servers=",
                enc(csrf)
            )
            .into_bytes(),
        ))
    };
    let r = s
        .request("POST", "/admin/users", &[("Cookie", &b.cookie)], form(""))
        .await;
    assert_eq!(r.status, 403);
    let r = s
        .request(
            "POST",
            "/admin/users",
            &[("Cookie", &b.cookie)],
            form("nope"),
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(s.store.find_user("newbie").await.is_err());
    let r = s
        .request(
            "POST",
            "/admin/users",
            &[("Cookie", &b.cookie)],
            form(&b.csrf),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("User &#34;newbie&#34; added") || r.body.contains("newbie"));
    assert!(s.store.find_user("newbie").await.is_ok());
    // Tokens need no CSRF token.
    let r = s
        .with_token(
            &token,
            "POST",
            "/api/v1/license-servers",
            Some(&body.replace("x1", "x2")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Logout ends the session on every node: the stored session is gone.
    let r = s
        .request(
            "POST",
            "/logout",
            &[("Cookie", &b.cookie)],
            Some((
                "application/x-www-form-urlencoded",
                format!("csrf_token={}", b.csrf).into_bytes(),
            )),
        )
        .await;
    assert_eq!(r.status, 303);
    let r = s.get("/api/v1/me", &[("Cookie", &b.cookie)]).await;
    assert_eq!(r.status, 401);
    s.stop().await;
}

#[tokio::test]
async fn cookies_are_httponly_samesite_and_sessions_expire() {
    let s = start().await;
    let u = s.user("alice", Role::User, None).await;
    let form = s.login_form().await;
    let r = s
        .post_login(&form, "alice", &TestServer::password("alice"))
        .await;
    assert_eq!(r.status, 303);
    let session = r
        .headers
        .iter()
        .find(|(k, v)| k.eq_ignore_ascii_case("set-cookie") && v.starts_with("licmon_session="))
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "no TLS here");
    // The database keeps only a digest of the session id.
    let id = session
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("licmon_session=");
    assert!(s.store.login_session(id).await.unwrap().is_none());
    // Idle and absolute expiry, with sessions written straight into the store.
    let now = Utc::now();
    for (secret, last_seen, expires) in [
        (
            "idle-one",
            now - chrono::Duration::hours(3),
            now + chrono::Duration::hours(5),
        ),
        (
            "old-one",
            now - chrono::Duration::minutes(1),
            now - chrono::Duration::seconds(1),
        ),
        (
            "fresh-one",
            now - chrono::Duration::minutes(1),
            now + chrono::Duration::hours(5),
        ),
    ] {
        s.store
            .create_login_session(&LoginSession {
                id_hash: licmon_server::auth::secrets::digest(secret),
                user_id: u.id,
                csrf_token: "c".into(),
                created_at: now - chrono::Duration::hours(6),
                last_seen_at: last_seen,
                expires_at: expires,
            })
            .await
            .unwrap();
    }
    let me = |secret: &'static str| {
        let s = &s;
        async move {
            s.get(
                "/api/v1/me",
                &[("Cookie", &format!("licmon_session={secret}"))],
            )
            .await
            .status
        }
    };
    assert_eq!(me("idle-one").await, 401);
    assert_eq!(me("old-one").await, 401);
    assert_eq!(me("fresh-one").await, 200);
    // Pages send the anonymous to the login page, and back afterwards.
    let r = s.get("/servers/1", &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login?next=/servers/1"));
    s.stop().await;
}

#[tokio::test]
async fn revoked_tokens_get_401() {
    let s = start().await;
    let admin = s.user("admin", Role::Administrator, None).await;
    let (token, id) = s.token(&admin, TokenScope::Api).await;
    let (other, _) = s.token(&admin, TokenScope::Api).await;
    assert_eq!(
        s.with_token(&token, "GET", "/api/v1/license-servers", None)
            .await
            .status,
        200
    );
    let r = s
        .with_token(&other, "DELETE", &format!("/api/v1/tokens/{id}"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["revoked_at"].is_string());
    let r = s
        .with_token(&token, "GET", "/api/v1/license-servers", None)
        .await;
    assert_eq!(r.status, 401);
    assert!(r.json()["error"].as_str().unwrap().contains("revoked"));
    // Created over the API: shown once, works, listed without the secret.
    let r = s
        .with_token(
            &other,
            "POST",
            "/api/v1/tokens",
            Some(r#"{"user": "admin", "scope": "api", "name": "ci"}"#),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let fresh = r.json()["token"].as_str().unwrap().to_string();
    assert_eq!(
        s.with_token(&fresh, "GET", "/api/v1/me", None).await.status,
        200
    );
    let list = s.with_token(&fresh, "GET", "/api/v1/tokens", None).await;
    assert!(!list.body.contains(&fresh));
    s.stop().await;
}

/// Another node (or the CLI) revokes a token or demotes its user in the shared database: this
/// node has the token cached and refuses it within `token_cache_ttl` (1 s). Through this node,
/// a change takes effect at once.
#[tokio::test]
async fn changes_made_elsewhere_take_effect_within_the_token_cache_ttl() {
    let s = start().await;
    let admin = s.user("admin", Role::Administrator, None).await;
    let (token, id) = s.token(&admin, TokenScope::Api).await;
    let (other, _) = s.token(&admin, TokenScope::Api).await;
    let status = |t: &str| {
        let (s, t) = (&s, t.to_string());
        async move { s.with_token(&t, "GET", "/api/v1/users", None).await.status }
    };
    assert_eq!(status(&token).await, 200);
    // Polls until the token stops working; it must within 3 s (the TTL is 1 s).
    let refused = |t: &str| {
        let t = t.to_string();
        let status = &status;
        async move {
            let since = std::time::Instant::now();
            while status(&t).await == 200 {
                assert!(
                    since.elapsed() < std::time::Duration::from_secs(3),
                    "a change made elsewhere still lets the token through after {:?}",
                    since.elapsed()
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    };
    s.store.revoke_token(id, chrono::Utc::now()).await.unwrap();
    refused(&token).await;
    assert_eq!(status(&token).await, 401);
    // Demoted elsewhere: Users may not list users, within the TTL.
    assert_eq!(status(&other).await, 200);
    s.store
        .update_user(admin.id, Role::User, None, chrono::Utc::now())
        .await
        .unwrap();
    refused(&other).await;
    assert_eq!(status(&other).await, 403);
    // Through this node: at once, although the token was just used and is cached.
    let boss = s.user("boss", Role::Administrator, None).await;
    let (boss_token, _) = s.token(&boss, TokenScope::Api).await;
    let (victim, _) = s.token(&boss, TokenScope::Api).await;
    assert_eq!(status(&victim).await, 200);
    let r = s
        .with_token(
            &boss_token,
            "PUT",
            &format!("/api/v1/users/{}", admin.id),
            Some(r#"{"role": "administrator"}"#),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(status(&other).await, 200, "promoted again: at once");
    s.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let s = start().await;
    let token = s.admin_token().await;
    let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(2 * 1024 * 1024));
    let r = s
        .with_token(&token, "POST", "/api/v1/license-servers", Some(&big))
        .await;
    assert_eq!(r.status, 413, "{}", r.body);
    let r = s
        .request(
            "POST",
            "/login",
            &[],
            Some((
                "application/x-www-form-urlencoded",
                vec![b'a'; 2 * 1024 * 1024],
            )),
        )
        .await;
    assert_eq!(r.status, 413);
    s.stop().await;
}

#[tokio::test]
async fn logins_are_rate_limited_per_account_and_audited() {
    let s = start().await;
    s.user("target", Role::Administrator, None).await;
    for _ in 0..5 {
        let r = s.login("target", "wrong password").await.unwrap_err();
        assert_eq!(r.status, 401);
    }
    // Now even the right password is refused for a while.
    let r = s
        .login("target", &TestServer::password("target"))
        .await
        .unwrap_err();
    assert_eq!(r.status, 429, "{}", r.body);
    let events = s.store.recent_events(50).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.category == "auth" && e.message.contains("failed login for \"target\""))
    );
    assert!(
        events
            .iter()
            .any(|e| e.category == "auth" && e.message.contains("too many failed"))
    );
    // Another account from the same address still gets in (the address limit is higher).
    s.user("other", Role::User, None).await;
    assert!(
        s.login("other", &TestServer::password("other"))
            .await
            .is_ok()
    );
    let events = s.store.recent_events(50).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.message.contains("\"other\" logged in"))
    );
    s.stop().await;
}

#[tokio::test]
async fn hostile_filters_are_harmless_and_stored_xss_is_escaped() {
    let s = start().await;
    let token = s.admin_token().await;
    let evil = r#"<script>alert(1)</script>"#;
    let body = serde_json::json!({
        "name": evil, "type": "flexnet", "vendor": "\"><img src=x onerror=alert(2)>",
        "address": "1@h", "time_zone": "UTC", "description": "'; DROP TABLE license_servers; --"
    });
    let r = s
        .with_token(
            &token,
            "POST",
            "/api/v1/license-servers",
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    for q in [
        "' OR 1=1 --",
        "%' OR '1'='1",
        "<script>",
        "\"; DROP TABLE users; --",
    ] {
        let r = s
            .with_token(
                &token,
                "GET",
                &format!("/api/v1/license-servers?q={}", enc(q)),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{q}");
        let r = s
            .with_token(
                &token,
                "GET",
                &format!(
                    "/api/v1/license-servers/{id}/sessions?user={}&feature={}",
                    enc(q),
                    enc(q)
                ),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        assert_eq!(r.json(), serde_json::json!([]));
    }
    assert_eq!(
        s.store.list_servers().await.unwrap().len(),
        1,
        "nothing dropped"
    );
    // Stored XSS: the pages escape what users typed.
    s.user("<b>mallory</b>", Role::User, None).await;
    for page in [
        "/".to_string(),
        format!("/servers/{id}"),
        "/admin/users".to_string(),
    ] {
        let r = s.get(&page, &[("X-Auth-Token", &token)]).await;
        assert_eq!(r.status, 200, "{page}");
        assert!(
            !r.body.contains("<script>alert(1)"),
            "{page} has raw script"
        );
        assert!(!r.body.contains("<img src=x"), "{page} has raw img");
        assert!(!r.body.contains("<b>mallory"), "{page} has raw user name");
    }
    let r = s.get("/", &[("X-Auth-Token", &token)]).await;
    assert!(
        r.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{}",
        r.body
    );
    s.stop().await;
}

#[tokio::test]
async fn logins_are_rate_limited_per_address() {
    let s = start().await;
    s.user("real", Role::User, None).await;
    // Guessing many account names from one address: 20 failures, then nobody gets in from it.
    for i in 0..20 {
        let r = s.login(&format!("guess-{i}"), "123456").await.unwrap_err();
        assert_eq!(r.status, 401, "attempt {i}");
    }
    let r = s
        .login("real", &TestServer::password("real"))
        .await
        .unwrap_err();
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("Too many failed logins"));
    s.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_limit_is_per_forwarded_client() {
    let s = auth_harness::start_configured(licmon_store::StatusSettings::default(), |state| {
        state.auth.trusted_proxies =
            licmon_server::auth::client_address::TrustedProxies::parse(&["127.0.0.1"]).unwrap();
    })
    .await;
    s.user("real", Role::User, None).await;
    // Posts the login form as a browser behind the proxy at 127.0.0.1 whose client is `from`.
    let login = |name: String, password: String, from: &'static str| {
        let s = &s;
        async move {
            let form = s.login_form().await;
            let forwarded = [("X-Forwarded-For", from)];
            s.post_login_with(&form, &name, &password, &forwarded)
                .await
                .status
        }
    };
    // One client guesses 20 account names through the proxy and is locked out...
    for i in 0..20 {
        let status = login(format!("guess-{i}"), "123456".into(), "198.51.100.1").await;
        assert_eq!(status, 401, "attempt {i}");
    }
    let real = || TestServer::password("real");
    assert_eq!(login("real".into(), real(), "198.51.100.1").await, 429);
    // ... while everybody else behind the same proxy still logs in.
    assert_eq!(login("real".into(), real(), "198.51.100.2").await, 303);
    s.stop().await;
}

#[tokio::test]
async fn login_attempts_older_than_the_window_are_pruned_on_a_login() {
    let s = start().await;
    s.user("real", Role::User, None).await;
    let now = Utc::now();
    // A sprayer's failures from an hour ago (past the 15-minute window) and from just now.
    for (i, age) in [60, 59, 58, 1].into_iter().enumerate() {
        s.store
            .record_login_attempt(&LoginAttempt {
                account: format!("guess-{i}"),
                address: "127.0.0.1".into(),
                at: now - chrono::Duration::minutes(age),
                success: false,
            })
            .await
            .unwrap();
    }
    let long_ago = now - chrono::Duration::days(1);
    let before = s
        .store
        .failed_logins("guess-0", "127.0.0.1", long_ago)
        .await
        .unwrap();
    assert_eq!(before.address, 4);
    assert!(s.login("real", &TestServer::password("real")).await.is_ok());
    let after = s
        .store
        .failed_logins("guess-0", "127.0.0.1", long_ago)
        .await
        .unwrap();
    assert_eq!(
        (after.account, after.address),
        (0, 1),
        "the old rows went, the one inside the window stayed"
    );
    s.stop().await;
}

#[tokio::test]
async fn the_users_page_changes_roles_and_server_limits() {
    let s = start().await;
    s.user("admin", Role::Administrator, None).await;
    let u = s.user("worker", Role::User, None).await;
    let b = s
        .login("admin", &TestServer::password("admin"))
        .await
        .unwrap();
    let form = format!("csrf_token={}&role=user&servers=4%2C+9&password=", b.csrf);
    let r = s
        .request(
            "POST",
            &format!("/admin/users/{}", u.id),
            &[("Cookie", &b.cookie)],
            Some(("application/x-www-form-urlencoded", form.into_bytes())),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("changed."), "{}", r.body);
    assert_eq!(
        s.store.get_user(u.id).await.unwrap().permitted_servers,
        Some(vec![4, 9])
    );
    // The only administrator cannot demote themselves.
    let me = s.store.find_user("admin").await.unwrap();
    let form = format!("csrf_token={}&role=user&servers=", b.csrf);
    let r = s
        .request(
            "POST",
            &format!("/admin/users/{}", me.id),
            &[("Cookie", &b.cookie)],
            Some(("application/x-www-form-urlencoded", form.into_bytes())),
        )
        .await;
    assert!(r.body.contains("last administrator"), "{}", r.body);
    assert_eq!(
        s.store.get_user(me.id).await.unwrap().role,
        Role::Administrator
    );
    s.stop().await;
}
