//! The denials imports found: the filtered list (newest first by default) and the counts per
//! feature or per user that tell an administrator which feature needs more seats.
//!
//! Query parameters are read as text and checked here, so that a bad one is answered with a
//! 422 naming it (`errors: [{field, message}]`) instead of a bare deserialisation error.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use licmon_core::{ServerId, ValidationErrors};
use licmon_store::{DenialCount, DenialFilter, DenialGroup, DenialQuery, DenialRecord};
use serde::Deserialize;

use crate::{ApiError, AppState};

/// Most denials one list request returns.
const MAX_DENIALS: u32 = 100_000;
/// Most groups one counts request returns.
const MAX_GROUPS: u32 = 10_000;
/// Longest feature or user name accepted as a filter (longer cannot match anything real).
const MAX_NAME: usize = 256;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/license-servers/{id}/denials", get(denials))
        .route("/license-servers/{id}/denial-counts", get(denial_counts))
}

/// Every parameter as the client wrote it; [`Checked`] says what is wrong with them.
#[derive(Debug, Default, Deserialize)]
pub struct DenialParams {
    true_only: Option<String>,
    from: Option<String>,
    to: Option<String>,
    feature: Option<String>,
    user: Option<String>,
    order: Option<String>,
    by: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// Collects one error per bad parameter.
struct Checked {
    errors: ValidationErrors,
}

impl Checked {
    fn time(&mut self, field: &str, value: &Option<String>) -> Option<DateTime<Utc>> {
        let text = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
        match DateTime::parse_from_rfc3339(text) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(_) => {
                self.errors.add(
                    field,
                    format!("{text:?} is not an RFC 3339 time such as 2026-11-02T08:00:00Z"),
                );
                None
            }
        }
    }

    fn name(&mut self, field: &str, value: &Option<String>) -> Option<String> {
        let text = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
        if text.chars().count() > MAX_NAME {
            self.errors
                .add(field, format!("at most {MAX_NAME} characters"));
            None
        } else if text.chars().any(char::is_control) {
            self.errors
                .add(field, "must not contain control characters");
            None
        } else {
            Some(text.to_string())
        }
    }

    fn flag(&mut self, field: &str, value: &Option<String>) -> bool {
        match value.as_deref().map(str::trim) {
            None | Some("" | "false") => false,
            Some("true") => true,
            Some(other) => {
                self.errors
                    .add(field, format!("{other:?} is neither true nor false"));
                false
            }
        }
    }

    fn number(&mut self, field: &str, value: &Option<String>, max: u32) -> u32 {
        let Some(text) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
            return 0;
        };
        match text.parse::<u32>() {
            Ok(n) => n.min(max),
            Err(_) => {
                self.errors
                    .add(field, format!("{text:?} is not a whole number from 0"));
                0
            }
        }
    }

    /// One of `choices` (the first when absent).
    fn choice<'c>(&mut self, field: &str, value: &Option<String>, choices: &[&'c str]) -> &'c str {
        let text = value.as_deref().map(str::trim).unwrap_or("");
        if text.is_empty() {
            return choices[0];
        }
        match choices.iter().copied().find(|c| *c == text) {
            Some(c) => c,
            None => {
                self.errors.add(
                    field,
                    format!("{text:?} is not one of {}", choices.join(", ")),
                );
                choices[0]
            }
        }
    }

    fn filter(&mut self, p: &DenialParams) -> DenialFilter {
        let filter = DenialFilter {
            from: self.time("from", &p.from),
            to: self.time("to", &p.to),
            feature: self.name("feature", &p.feature),
            user: self.name("user", &p.user),
        };
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from >= to
        {
            self.errors.add("to", "must be after `from`");
        }
        filter
    }

    fn finish<T>(self, value: T) -> Result<T, ApiError> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(ApiError::Invalid(self.errors))
        }
    }
}

fn check() -> Checked {
    Checked {
        errors: ValidationErrors::default(),
    }
}

fn list_query(p: &DenialParams) -> Result<DenialQuery, ApiError> {
    let mut c = check();
    let filter = c.filter(p);
    let query = DenialQuery {
        true_only: c.flag("true_only", &p.true_only),
        from: filter.from,
        to: filter.to,
        feature: filter.feature,
        user: filter.user,
        newest_first: c.choice("order", &p.order, &["newest", "oldest"]) == "newest",
        limit: match c.number("limit", &p.limit, MAX_DENIALS) {
            0 => 1000,
            n => n,
        },
        offset: c.number("offset", &p.offset, u32::MAX),
    };
    c.finish(query)
}

async fn server_exists(state: &AppState, id: ServerId) -> Result<(), ApiError> {
    state
        .store
        .get_server(id)
        .await
        .map(|_| ())
        .map_err(|e| match e {
            licmon_store::StoreError::NotFound => {
                ApiError::NotFound(format!("no license server with id {id}"))
            }
            other => other.into(),
        })
}

/// Denials, newest first (`order=oldest` for the other way); `retry` marks a denial followed
/// by a checkout of the same feature by the same user within the configured window (not a true
/// denial). Page with `limit`/`offset`; the order is by time, then id, so pages never overlap.
#[utoipa::path(get, path = "/api/v1/license-servers/{id}/denials", tag = "usage",
    params(("id" = i64, Path, description = "license-server id"),
        ("true_only" = Option<bool>, Query, description = "only true denials (no retries)"),
        ("from" = Option<String>, Query, description = "RFC 3339 start of the range (inclusive)"),
        ("to" = Option<String>, Query, description = "RFC 3339 end of the range (exclusive)"),
        ("feature" = Option<String>, Query, description = "only this feature (exact name)"),
        ("user" = Option<String>, Query, description = "only this user (exact name)"),
        ("order" = Option<String>, Query, description = "`newest` (default) or `oldest` first"),
        ("limit" = Option<u32>, Query, description = "at most this many (default 1000, at most 100000)"),
        ("offset" = Option<u32>, Query, description = "skip this many")),
    responses((status = 200, description = "denials, newest first unless `order=oldest`", body = Vec<DenialRecord>),
        (status = 404, description = "no such server", body = super::openapi::ErrorBody),
        (status = 422, description = "a bad parameter; `errors` names it", body = super::openapi::ErrorBody)))]
pub async fn denials(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
    Query(p): Query<DenialParams>,
) -> Result<Json<Vec<DenialRecord>>, ApiError> {
    let query = list_query(&p)?;
    server_exists(&state, id).await?;
    Ok(Json(state.store.denials(id, &query).await?))
}

/// Denials counted per feature or per user over the same filters as the list (range, feature,
/// user): all denials and true ones, and how many users (features) had a true denial. Most true
/// denials first — the top of `by=feature` is the feature that most needs more seats.
#[utoipa::path(get, path = "/api/v1/license-servers/{id}/denial-counts", tag = "usage",
    params(("id" = i64, Path, description = "license-server id"),
        ("by" = Option<String>, Query, description = "`feature` (default) or `user`"),
        ("from" = Option<String>, Query, description = "RFC 3339 start of the range (inclusive)"),
        ("to" = Option<String>, Query, description = "RFC 3339 end of the range (exclusive)"),
        ("feature" = Option<String>, Query, description = "only this feature (exact name)"),
        ("user" = Option<String>, Query, description = "only this user (exact name)"),
        ("limit" = Option<u32>, Query, description = "at most this many groups (default 100, at most 10000)")),
    responses((status = 200, description = "one row per feature or user, most true denials first", body = Vec<DenialCount>),
        (status = 404, description = "no such server", body = super::openapi::ErrorBody),
        (status = 422, description = "a bad parameter; `errors` names it", body = super::openapi::ErrorBody)))]
pub async fn denial_counts(
    State(state): State<AppState>,
    Path(id): Path<ServerId>,
    Query(p): Query<DenialParams>,
) -> Result<Json<Vec<DenialCount>>, ApiError> {
    let mut c = check();
    let filter = c.filter(&p);
    let by = match c.choice("by", &p.by, &["feature", "user"]) {
        "user" => DenialGroup::User,
        _ => DenialGroup::Feature,
    };
    let limit = match c.number("limit", &p.limit, MAX_GROUPS) {
        0 => 100,
        n => n,
    };
    let filter = c.finish(filter)?;
    server_exists(&state, id).await?;
    Ok(Json(
        state.store.denial_counts(id, by, &filter, limit).await?,
    ))
}
