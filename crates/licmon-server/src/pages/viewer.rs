//! Who is looking at a page, as far as pages need to know: whose preferences apply and the
//! CSRF token every form must carry (the hidden `csrf_token` field).
//!
//! The auth middleware puts the logged-in [`Principal`] into the request; a request without
//! one (an API token has no CSRF token; tests of the router alone have no login) is the
//! anonymous user ([`ANONYMOUS_USER`], id 0), whose preferences everyone without an account
//! shares.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use licmon_store::ANONYMOUS_USER;

use crate::auth::{Principal, Via};

#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: i64,
    /// The login session's CSRF token; empty when the request has no session.
    pub csrf: String,
    /// License servers this account may see; `None` = all (see `auth::policy`).
    pub permitted: Option<Vec<licmon_core::ServerId>>,
}

impl Viewer {
    /// Lists on pages show only what the account may see (the auth guard already refuses
    /// pages of other servers).
    pub fn may_see(&self, id: licmon_core::ServerId) -> bool {
        self.permitted.as_ref().is_none_or(|ids| ids.contains(&id))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(match parts.extensions.get::<Principal>() {
            Some(p) => Viewer {
                user_id: p.user.id,
                csrf: match &p.via {
                    Via::Session { csrf_token, .. } => csrf_token.clone(),
                    Via::Token { .. } => String::new(),
                },
                permitted: match p.user.role {
                    licmon_store::Role::Administrator => None,
                    licmon_store::Role::User => p.user.permitted_servers.clone(),
                },
            },
            None => Viewer {
                user_id: ANONYMOUS_USER,
                csrf: String::new(),
                permitted: None,
            },
        })
    }
}
