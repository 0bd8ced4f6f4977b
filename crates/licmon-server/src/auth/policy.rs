//! Who may do what: the one place with the permission rules. The middleware asks [`decide`]
//! about every request before any handler runs, so a route added anywhere is covered at once.
//!
//! - Public (no login): [`PUBLIC`] — health check, login page, assets, the OpenAPI document.
//! - Agent tokens reach `/api/v1/agent/*` and nothing else.
//! - Administrators reach everything else.
//! - Users may only read (GET/HEAD) what [`USER_READABLE`] lists; a route not listed there is
//!   administrator-only (default deny). A User limited to some license servers gets 404 for the
//!   others' ids — the same answer as for a server that does not exist, so ids do not leak.
//! - Anyone logged in may log out.

use axum::http::Method;
use licmon_core::ServerId;
use licmon_store::{Role, TokenScope, User};

/// How a request proved who it is.
#[derive(Debug, Clone)]
pub enum Via {
    /// A login session cookie; state-changing requests must carry its CSRF token.
    Session { id_hash: String, csrf_token: String },
    /// An `X-Auth-Token` header; no CSRF token needed (browsers never send it by themselves).
    Token { id: i64, scope: TokenScope },
}

/// The authenticated account behind a request (a request extension).
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub via: Via,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Administrator && !self.is_agent()
    }

    pub fn is_agent(&self) -> bool {
        matches!(
            self.via,
            Via::Token {
                scope: TokenScope::Agent,
                ..
            }
        )
    }

    pub fn may_see_server(&self, id: ServerId) -> bool {
        self.user.may_see_server(id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// 401: log in or send a valid token.
    Unauthenticated,
    /// 403 with the reason.
    Forbidden(&'static str),
    /// 404: a license server this account may not see.
    NotFound,
}

/// Paths anyone may reach: `(method, pattern)`; `*` in a method matches GET and HEAD.
pub const PUBLIC: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/assets/**"),
    ("GET", "/api/v1/openapi.json"),
    // Prometheus: the handler asks for `metrics_token` when one is configured.
    ("GET", "/metrics"),
];

/// What a User (not an administrator) may read. `{server}` is a license-server id the user must
/// be permitted to see; `**` is any rest of the path.
pub const USER_READABLE: &[&str] = &[
    "/",
    "/servers/{server}",
    "/servers/{server}/**",
    "/api/v1/me",
    "/api/v1/utilisation",
    "/reports",
    "/api/v1/reports/**",
    "/preferences/**",
    "/api/v1/license-servers",
    "/api/v1/license-servers/{server}",
    "/api/v1/license-servers/{server}/**",
];

/// What a User may change: only their own preferences (the handlers key them by the account).
pub const USER_WRITABLE: &[&str] = &["/preferences/**"];

/// Agent endpoints: the only thing an agent token reaches.
pub const AGENT_PREFIX: &str = "/api/v1/agent/";

fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

fn method_matches(rule: &str, method: &Method) -> bool {
    match rule {
        "GET" => is_read(method),
        other => method.as_str() == other,
    }
}

/// Matches `path` against `pattern`; `Some(server ids)` on a match.
fn matches(pattern: &str, path: &str) -> Option<Vec<Option<ServerId>>> {
    let mut servers = Vec::new();
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (Some("**"), _) => return Some(servers),
            (None, None) => return Some(servers),
            (Some("{server}"), Some(seg)) if !seg.is_empty() => {
                servers.push(seg.parse::<ServerId>().ok())
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

pub fn is_public(method: &Method, path: &str) -> bool {
    PUBLIC
        .iter()
        .any(|(m, p)| method_matches(m, method) && matches(p, path).is_some())
}

fn is_agent_path(path: &str) -> bool {
    path.starts_with(AGENT_PREFIX)
}

/// The decision for one request. `who` is `None` for an anonymous request.
pub fn decide(method: &Method, path: &str, who: Option<&Principal>) -> Decision {
    if is_public(method, path) {
        return Decision::Allow;
    }
    let Some(who) = who else {
        return Decision::Unauthenticated;
    };
    if who.is_agent() {
        return if is_agent_path(path) {
            Decision::Allow
        } else {
            Decision::Forbidden("an agent token reaches only /api/v1/agent/ endpoints")
        };
    }
    if path == "/logout" {
        return Decision::Allow;
    }
    if who.user.role == Role::Administrator {
        return Decision::Allow;
    }
    if !is_read(method) {
        let own = USER_WRITABLE.iter().any(|p| matches(p, path).is_some());
        return if own && method == Method::POST {
            Decision::Allow
        } else {
            Decision::Forbidden("this account may only read; ask an administrator")
        };
    }
    for pattern in USER_READABLE {
        if let Some(servers) = matches(pattern, path) {
            let permitted = servers
                .iter()
                .all(|id| match (id, &who.user.permitted_servers) {
                    (_, None) => true,
                    (Some(id), Some(_)) => who.may_see_server(*id),
                    (None, Some(_)) => false,
                });
            return if permitted {
                Decision::Allow
            } else {
                Decision::NotFound
            };
        }
    }
    Decision::Forbidden("this page is for administrators")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn who(role: Role, permitted: Option<Vec<ServerId>>, scope: Option<TokenScope>) -> Principal {
        Principal {
            user: User {
                id: 1,
                name: "u".into(),
                role,
                permitted_servers: permitted,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            },
            via: match scope {
                Some(scope) => Via::Token { id: 1, scope },
                None => Via::Session {
                    id_hash: "h".into(),
                    csrf_token: "c".into(),
                },
            },
        }
    }

    #[test]
    fn rules() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(decide(&get, "/healthz", None), Decision::Allow);
        assert_eq!(decide(&get, "/assets/style.css", None), Decision::Allow);
        assert_eq!(decide(&get, "/", None), Decision::Unauthenticated);
        assert_eq!(decide(&post, "/healthz", None), Decision::Unauthenticated);
        let admin = who(Role::Administrator, None, None);
        assert_eq!(
            decide(&Method::DELETE, "/api/v1/users/3", Some(&admin)),
            Decision::Allow
        );
        let limited = who(Role::User, Some(vec![2]), None);
        assert_eq!(
            decide(&get, "/api/v1/license-servers", Some(&limited)),
            Decision::Allow
        );
        assert_eq!(
            decide(&get, "/api/v1/license-servers/2/usage", Some(&limited)),
            Decision::Allow
        );
        assert_eq!(
            decide(&get, "/api/v1/license-servers/3/usage", Some(&limited)),
            Decision::NotFound
        );
        assert_eq!(
            decide(&get, "/api/v1/license-servers/%32", Some(&limited)),
            Decision::NotFound
        );
        assert_eq!(
            decide(&get, "/servers/3", Some(&limited)),
            Decision::NotFound
        );
        assert!(matches!(
            decide(&post, "/api/v1/license-servers", Some(&limited)),
            Decision::Forbidden(_)
        ));
        assert!(matches!(
            decide(&get, "/api/v1/users", Some(&limited)),
            Decision::Forbidden(_)
        ));
        assert!(matches!(
            decide(&get, "/api/v1/new-thing", Some(&limited)),
            Decision::Forbidden(_)
        ));
        assert_eq!(decide(&post, "/logout", Some(&limited)), Decision::Allow);
        // Users keep their own preferences and see the dashboard's utilisation refresh.
        assert_eq!(
            decide(&post, "/preferences/visibility", Some(&limited)),
            Decision::Allow
        );
        assert_eq!(
            decide(&get, "/preferences/visibility", Some(&limited)),
            Decision::Allow
        );
        assert_eq!(
            decide(&get, "/api/v1/utilisation", Some(&limited)),
            Decision::Allow
        );
        assert!(matches!(
            decide(&Method::DELETE, "/preferences/visibility", Some(&limited)),
            Decision::Forbidden(_)
        ));
        let agent = who(Role::Administrator, None, Some(TokenScope::Agent));
        assert_eq!(
            decide(&post, "/api/v1/agent/report", Some(&agent)),
            Decision::Allow
        );
        assert!(matches!(
            decide(&get, "/api/v1/license-servers", Some(&agent)),
            Decision::Forbidden(_)
        ));
        assert!(matches!(
            decide(&get, "/api/v1/agentx", Some(&agent)),
            Decision::Forbidden(_)
        ));
    }
}
