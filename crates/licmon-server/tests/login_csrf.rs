//! Login CSRF over real HTTP: the login form is only accepted with the double-submit token
//! licmon served with it (cookie + hidden field), so another site cannot log a browser into
//! an attacker's account. Token clients never see the form and are unaffected.

mod auth_harness;

use auth_harness::{LoginForm, TestServer, enc, start};
use chrono::Utc;
use licmon_store::{AuthStore, Role, TokenScope};

/// Posts the login form with exactly these cookie header and field (either may be absent).
async fn post(s: &TestServer, cookie: Option<&str>, field: Option<&str>) -> auth_harness::Resp {
    let mut body = format!(
        "name=alice&password={}&next=%2F",
        enc(&TestServer::password("alice"))
    );
    if let Some(field) = field {
        body.push_str(&format!("&csrf_token={}", enc(field)));
    }
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("Cookie", c)).into_iter().collect();
    s.request(
        "POST",
        "/login",
        &headers,
        Some(("application/x-www-form-urlencoded", body.into_bytes())),
    )
    .await
}

fn assert_refused(r: &auth_harness::Resp, case: &str) {
    assert_eq!(r.status, 403, "{case}: {}", r.body);
    assert!(r.body.contains("CSRF token"), "{case}: {}", r.body);
    assert!(
        r.set_cookie("licmon_session").is_none(),
        "{case}: no session for a refused form"
    );
}

#[tokio::test]
async fn the_login_form_carries_a_strict_httponly_double_submit_token() {
    let s = start().await;
    let r = s.get("/login", &[]).await;
    assert_eq!(r.status, 200);
    let cookie = r
        .set_cookie("licmon_login_csrf")
        .expect("login CSRF cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/login", "Max-Age=3600"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    let form = LoginForm::from_page(&r);
    assert_eq!(form.field.len(), 64, "256 random bits, hex");
    assert_eq!(form.cookie, format!("licmon_login_csrf={}", form.field));
    assert_ne!(
        s.login_form().await.field,
        form.field,
        "every form gets its own token"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_login_post_without_the_served_token_is_refused_and_not_counted() {
    let s = start().await;
    s.user("alice", Role::User, None).await;
    let mine = s.login_form().await;
    // The attacker fetches a form of their own: a valid pair, but not the victim's cookie.
    let attackers = s.login_form().await;
    let cases = [
        ("no cookie, no field (a plain cross-site form)", None, None),
        (
            "the attacker's field, no cookie",
            None,
            Some(attackers.field.as_str()),
        ),
        ("cookie but no field", Some(mine.cookie.as_str()), None),
        (
            "cookie and someone else's field",
            Some(mine.cookie.as_str()),
            Some(attackers.field.as_str()),
        ),
        (
            "empty cookie and empty field",
            Some("licmon_login_csrf="),
            Some(""),
        ),
    ];
    for (case, cookie, field) in cases {
        assert_refused(&post(&s, cookie, field).await, case);
    }
    // Refused before the password was checked: nothing counted towards the rate limits.
    let failed = s
        .store
        .failed_logins(
            "alice",
            "127.0.0.1",
            Utc::now() - chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!((failed.account, failed.address), (0, 0));
    // The refusal serves a fresh form, which works.
    let refused = post(&s, None, None).await;
    let fresh = LoginForm::from_page(&refused);
    let r = s
        .post_login(&fresh, "alice", &TestServer::password("alice"))
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cleared = r
        .set_cookie("licmon_login_csrf")
        .expect("the token is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert!(r.set_cookie("licmon_session").is_some());
    // A wrong password serves the form again with a new token.
    let r = s.post_login(&mine, "alice", "wrong password").await;
    assert_eq!(r.status, 401);
    assert_ne!(LoginForm::from_page(&r).field, mine.field);
    s.stop().await;
}

#[tokio::test]
async fn token_clients_never_need_the_login_token() {
    let s = start().await;
    let alice = s.user("alice", Role::Administrator, None).await;
    let (token, _) = s.token(&alice, TokenScope::Api).await;
    let r = s
        .with_token(
            &token,
            "POST",
            "/api/v1/license-servers",
            Some(r#"{"name": "a", "type": "rlm", "address": "5053@h", "time_zone": "UTC"}"#),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // The login takes forms only; JSON (which no cross-site page can send without a CORS
    // preflight) is told so rather than refused as a forgery.
    let r = s
        .request(
            "POST",
            "/login",
            &[],
            Some(("application/json", br#"{"name": "alice"}"#.to_vec())),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("as a form"), "{}", r.body);
    s.stop().await;
}
