//! A short-lived, per-node cache of token lookups, so that an authenticated request does not
//! read `api_tokens` and `users` every time (agents post reports by the thousand per second).
//!
//! Invariants:
//! - An entry is used for at most the configured TTL ([`super::AuthSettings::token_cache_ttl`],
//!   1 s by default) after it was read from the database: a token revoked, or a user changed or
//!   deleted, on another node or with the CLI stops working within that time everywhere.
//! - A change made through this node (revoking a token, changing or deleting a user) clears the
//!   cache at once ([`TokenCache::clear`]), so it takes effect on this node immediately.
//! - Only tokens that were valid when read are cached; unknown and revoked ones always go to
//!   the database (they are rare, and must never be remembered as valid).
//! - Keys are SHA-256 digests, never the tokens; the digest found is still compared in constant
//!   time with the one stored, as on the database path.
//! - At most [`MAX_ENTRIES`] tokens are held; when full, stale entries go first, then all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use licmon_store::{ApiToken, User};

/// Tokens held at most (a site has a handful of API tokens and a few agent tokens).
pub const MAX_ENTRIES: usize = 4096;

/// A valid token as read from the database, with its user.
#[derive(Debug, Clone)]
pub struct KnownToken {
    pub token: ApiToken,
    pub user: User,
    /// The stored digest, for the constant-time comparison.
    pub stored_digest: String,
}

struct Entry {
    known: Arc<KnownToken>,
    read_at: Instant,
}

#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl TokenCache {
    /// The cached token for `digest`, if it was read less than `ttl` before `now`.
    pub fn get(&self, digest: &str, now: Instant, ttl: Duration) -> Option<Arc<KnownToken>> {
        if ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().expect("not poisoned");
        entries
            .get(digest)
            .filter(|e| now.saturating_duration_since(e.read_at) < ttl)
            .map(|e| e.known.clone())
    }

    /// Remembers a valid token read from the database at `now`.
    pub fn put(&self, digest: String, known: Arc<KnownToken>, now: Instant, ttl: Duration) {
        if ttl.is_zero() || known.token.revoked_at.is_some() {
            return;
        }
        let mut entries = self.entries.lock().expect("not poisoned");
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&digest) {
            entries.retain(|_, e| now.saturating_duration_since(e.read_at) < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            digest,
            Entry {
                known,
                read_at: now,
            },
        );
    }

    /// Notes that the token's `last_used_at` was written, so that the cached copy does not ask
    /// for another write before the next one is due.
    pub fn touched(&self, digest: &str, at: DateTime<Utc>) {
        let mut entries = self.entries.lock().expect("not poisoned");
        if let Some(e) = entries.get_mut(digest) {
            let mut known = (*e.known).clone();
            known.token.last_used_at = Some(at);
            e.known = Arc::new(known);
        }
    }

    /// Forgets every token: after a token was revoked or a user changed through this node.
    pub fn clear(&self) {
        self.entries.lock().expect("not poisoned").clear();
    }

    pub fn len(&self) -> usize {
        self.entries.lock().expect("not poisoned").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use licmon_store::{Role, TokenScope};

    fn known(id: i64, revoked: bool) -> Arc<KnownToken> {
        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        Arc::new(KnownToken {
            token: ApiToken {
                id,
                user_id: 1,
                user_name: "alice".into(),
                name: "ci".into(),
                scope: TokenScope::Agent,
                created_at: at,
                last_used_at: None,
                revoked_at: revoked.then_some(at),
            },
            user: User {
                id: 1,
                name: "alice".into(),
                role: Role::Administrator,
                permitted_servers: None,
                created_at: at,
                updated_at: at,
            },
            stored_digest: format!("d{id}"),
        })
    }

    const TTL: Duration = Duration::from_secs(1);

    #[test]
    fn an_entry_lives_for_the_ttl_and_not_a_moment_longer() {
        let cache = TokenCache::default();
        let t0 = Instant::now();
        cache.put("d1".into(), known(1, false), t0, TTL);
        assert!(
            cache
                .get("d1", t0 + Duration::from_millis(999), TTL)
                .is_some()
        );
        assert!(cache.get("d1", t0 + TTL, TTL).is_none());
        assert!(cache.get("d2", t0, TTL).is_none());
    }

    #[test]
    fn revoked_tokens_and_a_zero_ttl_are_never_cached() {
        let cache = TokenCache::default();
        let t0 = Instant::now();
        cache.put("d1".into(), known(1, true), t0, TTL);
        assert!(cache.is_empty());
        cache.put("d2".into(), known(2, false), t0, Duration::ZERO);
        assert!(cache.is_empty());
        cache.put("d3".into(), known(3, false), t0, TTL);
        assert!(cache.get("d3", t0, Duration::ZERO).is_none(), "TTL 0 = off");
    }

    #[test]
    fn clear_forgets_everything_and_touch_updates_the_copy() {
        let cache = TokenCache::default();
        let t0 = Instant::now();
        cache.put("d1".into(), known(1, false), t0, TTL);
        let at = DateTime::<Utc>::from_timestamp(1_700_000_100, 0).unwrap();
        cache.touched("d1", at);
        assert_eq!(
            cache.get("d1", t0, TTL).unwrap().token.last_used_at,
            Some(at)
        );
        cache.clear();
        assert!(cache.get("d1", t0, TTL).is_none());
    }

    #[test]
    fn a_full_cache_drops_stale_entries_first_then_everything() {
        let cache = TokenCache::default();
        let t0 = Instant::now();
        for i in 0..MAX_ENTRIES as i64 {
            cache.put(format!("old{i}"), known(i, false), t0, TTL);
        }
        let later = t0 + Duration::from_secs(5);
        cache.put("new".into(), known(-1, false), later, TTL);
        assert_eq!(cache.len(), 1, "the stale ones went");
        for i in 0..MAX_ENTRIES as i64 {
            cache.put(format!("fresh{i}"), known(i, false), later, TTL);
        }
        assert!(cache.len() <= MAX_ENTRIES);
        assert!(cache.get("fresh4095", later, TTL).is_some());
    }
}
