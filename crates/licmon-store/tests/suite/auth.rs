//! The behaviour suite of [`AuthStore`]: accounts, login sessions, tokens, login attempts.
//! `auth_backend_tests!(open)` in a backend's test file runs each case on that backend.

use chrono::Duration;
use licmon_store::*;

use super::{settings, t};

#[macro_export]
macro_rules! auth_backend_tests {
    ($open:path) => {
        $crate::auth_backend_tests!(@cases $open;
            users_crud_and_duplicates, permitted_servers_limit_a_user, set_password_ends_sessions,
            login_sessions_round_trip_and_purge, tokens_hashed_listed_revoked,
            deleting_a_user_removes_sessions_and_tokens, failed_logins_counted_per_account_and_address,
            old_login_attempts_are_purged_recent_ones_kept);
    };
    (@cases $open:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(handle) = $open().await else { return };
                suite::auth::$case(&handle.store).await;
                handle.finish().await;
            }
        )*
    };
}

fn new_user(name: &str, role: Role) -> NewUser {
    NewUser {
        name: name.into(),
        password_hash: format!("$argon2id$fake${name}"),
        role,
        permitted_servers: None,
    }
}

pub async fn users_crud_and_duplicates(store: &SqlStore) {
    let admin = store
        .create_user(&new_user("admin", Role::Administrator), t(0))
        .await
        .unwrap();
    assert_eq!(admin.role, Role::Administrator);
    assert_eq!(admin.created_at, t(0));
    let err = store
        .create_user(&new_user("admin", Role::User), t(1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // Names are stored as given: SQL and HTML are data.
    let odd = "o'brien<script>\"; DROP TABLE users; --";
    store
        .create_user(&new_user(odd, Role::User), t(2))
        .await
        .unwrap();
    let (found, hash) = store.user_credentials(odd).await.unwrap();
    assert_eq!(found.name, odd);
    assert_eq!(hash, format!("$argon2id$fake${odd}"));
    let names: Vec<String> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, vec!["admin".to_string(), odd.to_string()]);
    assert!(matches!(
        store.find_user("nobody").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.get_user(9999).await,
        Err(StoreError::NotFound)
    ));
    let changed = store
        .update_user(found.id, Role::Administrator, None, t(5))
        .await
        .unwrap();
    assert_eq!(changed.role, Role::Administrator);
    assert_eq!(changed.updated_at, t(5));
    store.delete_user(found.id).await.unwrap();
    assert!(matches!(
        store.delete_user(found.id).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn permitted_servers_limit_a_user(store: &SqlStore) {
    let a = store
        .create_server(&settings("a", "1@a"), t(0))
        .await
        .unwrap();
    let b = store
        .create_server(&settings("b", "1@b"), t(0))
        .await
        .unwrap();
    let mut nu = new_user("limited", Role::User);
    nu.permitted_servers = Some(vec![a.id]);
    let u = store.create_user(&nu, t(0)).await.unwrap();
    assert_eq!(u.permitted_servers, Some(vec![a.id]));
    assert!(u.may_see_server(a.id));
    assert!(!u.may_see_server(b.id));
    let u = store
        .update_user(u.id, Role::User, Some(&[a.id, b.id]), t(1))
        .await
        .unwrap();
    assert_eq!(
        store.get_user(u.id).await.unwrap().permitted_servers,
        Some(vec![a.id, b.id])
    );
    let u = store
        .update_user(u.id, Role::User, Some(&[]), t(2))
        .await
        .unwrap();
    assert!(!u.may_see_server(a.id), "an empty list permits nothing");
    let admin = store
        .update_user(u.id, Role::Administrator, Some(&[]), t(3))
        .await
        .unwrap();
    assert!(admin.may_see_server(b.id), "administrators see everything");
}

fn session(hash: &str, user: UserId, at: i64) -> LoginSession {
    LoginSession {
        id_hash: hash.into(),
        user_id: user,
        csrf_token: format!("csrf-{hash}"),
        created_at: t(at),
        last_seen_at: t(at),
        expires_at: t(at) + Duration::hours(12),
    }
}

pub async fn set_password_ends_sessions(store: &SqlStore) {
    let u = store
        .create_user(&new_user("u", Role::User), t(0))
        .await
        .unwrap();
    store
        .create_login_session(&session("h1", u.id, 0))
        .await
        .unwrap();
    store
        .set_password(u.id, "$argon2id$new", t(10))
        .await
        .unwrap();
    assert!(store.login_session("h1").await.unwrap().is_none());
    assert_eq!(
        store.user_credentials("u").await.unwrap().1,
        "$argon2id$new"
    );
    assert!(matches!(
        store.set_password(4242, "x", t(10)).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn login_sessions_round_trip_and_purge(store: &SqlStore) {
    let u = store
        .create_user(&new_user("u", Role::User), t(0))
        .await
        .unwrap();
    let s = session("h1", u.id, 0);
    store.create_login_session(&s).await.unwrap();
    store
        .create_login_session(&session("h2", u.id, 100))
        .await
        .unwrap();
    let (found, user) = store.login_session("h1").await.unwrap().unwrap();
    assert_eq!(found, s);
    assert_eq!(user.name, "u");
    assert!(store.login_session("nope").await.unwrap().is_none());
    store.touch_login_session("h1", t(50)).await.unwrap();
    assert_eq!(
        store
            .login_session("h1")
            .await
            .unwrap()
            .unwrap()
            .0
            .last_seen_at,
        t(50)
    );
    // Idle since before t(60): h1 (seen at 50) goes, h2 (seen at 100) stays.
    assert_eq!(store.purge_login_sessions(t(200), t(60)).await.unwrap(), 1);
    assert!(store.login_session("h1").await.unwrap().is_none());
    assert!(store.login_session("h2").await.unwrap().is_some());
    // Past the absolute end.
    assert_eq!(
        store
            .purge_login_sessions(t(100) + Duration::hours(12), t(0))
            .await
            .unwrap(),
        1
    );
    store
        .create_login_session(&session("h3", u.id, 0))
        .await
        .unwrap();
    store.delete_login_session("h3").await.unwrap();
    assert!(store.login_session("h3").await.unwrap().is_none());
}

pub async fn tokens_hashed_listed_revoked(store: &SqlStore) {
    let a = store
        .create_user(&new_user("a", Role::Administrator), t(0))
        .await
        .unwrap();
    let b = store
        .create_user(&new_user("b", Role::User), t(0))
        .await
        .unwrap();
    let ta = store
        .create_token(a.id, "ci", TokenScope::Api, "hash-a", t(1))
        .await
        .unwrap();
    let tb = store
        .create_token(b.id, "ws-17", TokenScope::Agent, "hash-b", t(2))
        .await
        .unwrap();
    assert_eq!(ta.user_name, "a");
    assert_eq!(tb.scope, TokenScope::Agent);
    assert!(ta.revoked_at.is_none());
    let (found, owner, stored) = store.token_by_hash("hash-b").await.unwrap().unwrap();
    assert_eq!(
        (found.id, owner.id, stored.as_str()),
        (tb.id, b.id, "hash-b")
    );
    assert!(store.token_by_hash("hash-x").await.unwrap().is_none());
    let all: Vec<i64> = store
        .list_tokens(None)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(all, vec![tb.id, ta.id], "newest first");
    assert_eq!(store.list_tokens(Some(a.id)).await.unwrap().len(), 1);
    store.touch_token(ta.id, t(30)).await.unwrap();
    assert_eq!(
        store.get_token(ta.id).await.unwrap().last_used_at,
        Some(t(30))
    );
    let revoked = store.revoke_token(ta.id, t(40)).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(t(40)));
    // Revoking again keeps the first time; the token is still found, so the caller can say 401.
    assert_eq!(
        store.revoke_token(ta.id, t(50)).await.unwrap().revoked_at,
        Some(t(40))
    );
    assert!(
        store
            .token_by_hash("hash-a")
            .await
            .unwrap()
            .unwrap()
            .0
            .revoked_at
            .is_some()
    );
    assert!(matches!(
        store.revoke_token(777, t(1)).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .create_token(a.id, "dup", TokenScope::Api, "hash-a", t(3))
            .await
            .is_err()
    );
}

pub async fn deleting_a_user_removes_sessions_and_tokens(store: &SqlStore) {
    let u = store
        .create_user(&new_user("u", Role::User), t(0))
        .await
        .unwrap();
    store
        .create_login_session(&session("h", u.id, 0))
        .await
        .unwrap();
    store
        .create_token(u.id, "x", TokenScope::Api, "th", t(0))
        .await
        .unwrap();
    store.delete_user(u.id).await.unwrap();
    assert!(store.login_session("h").await.unwrap().is_none());
    assert!(store.token_by_hash("th").await.unwrap().is_none());
    assert!(store.list_tokens(None).await.unwrap().is_empty());
}

pub async fn failed_logins_counted_per_account_and_address(store: &SqlStore) {
    let attempt = |account: &str, address: &str, at: i64, success: bool| LoginAttempt {
        account: account.into(),
        address: address.into(),
        at: t(at),
        success,
    };
    for (i, addr) in ["10.0.0.1", "10.0.0.1", "10.0.0.2"].iter().enumerate() {
        store
            .record_login_attempt(&attempt("alice", addr, i as i64, false))
            .await
            .unwrap();
    }
    store
        .record_login_attempt(&attempt("bob", "10.0.0.1", 5, false))
        .await
        .unwrap();
    store
        .record_login_attempt(&attempt("bob", "10.0.0.1", 6, true))
        .await
        .unwrap();
    let f = store
        .failed_logins("alice", "10.0.0.1", t(0))
        .await
        .unwrap();
    assert_eq!(
        f,
        FailedLogins {
            account: 3,
            address: 3
        }
    );
    let f = store
        .failed_logins("alice", "10.0.0.1", t(1))
        .await
        .unwrap();
    assert_eq!(
        f,
        FailedLogins {
            account: 2,
            address: 2
        },
        "the window starts at `since`"
    );
    store.clear_failed_logins("alice").await.unwrap();
    let f = store
        .failed_logins("alice", "10.0.0.1", t(0))
        .await
        .unwrap();
    assert_eq!(
        f,
        FailedLogins {
            account: 0,
            address: 1
        }
    );
}

pub async fn old_login_attempts_are_purged_recent_ones_kept(store: &SqlStore) {
    let attempt = |account: &str, address: &str, at: i64, success: bool| LoginAttempt {
        account: account.into(),
        address: address.into(),
        at: t(at),
        success,
    };
    // A sprayer's old failures, an old success, and failures inside the window.
    for (account, at, success) in [
        ("alice", 0, false),
        ("bob", 1, false),
        ("carol", 2, true),
        ("alice", 10, false),
        ("bob", 11, false),
    ] {
        store
            .record_login_attempt(&attempt(account, "10.0.0.9", at, success))
            .await
            .unwrap();
    }
    let window_start = t(10);
    assert_eq!(
        store.purge_login_attempts(window_start).await.unwrap(),
        3,
        "everything before the window goes, successes too"
    );
    // What throttling counts from the window's start is untouched, the boundary included.
    let f = store
        .failed_logins("alice", "10.0.0.9", window_start)
        .await
        .unwrap();
    assert_eq!(
        f,
        FailedLogins {
            account: 1,
            address: 2
        }
    );
    // Nothing older is left to count either.
    let f = store.failed_logins("bob", "10.0.0.9", t(0)).await.unwrap();
    assert_eq!(
        f,
        FailedLogins {
            account: 1,
            address: 2
        }
    );
    assert_eq!(store.purge_login_attempts(window_start).await.unwrap(), 0);
}
