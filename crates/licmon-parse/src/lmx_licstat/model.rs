//! Building a report from LM-X facts; shared by the text and the XML parser so that both give
//! the same report for the same server state.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::{Expiry, Feature, ParseContext, Pool, ServerNode, Session, StatusReport, UpDown};

/// One feature block: `Feature: X Version: Y Vendor: Z` / `<FEATURE NAME= VERSION= VENDOR=>`.
#[derive(Debug, Default)]
pub(super) struct FeatureBlock<'a> {
    pub name: &'a str,
    pub version: Option<&'a str>,
    pub vendor: Option<&'a str>,
    pub expires: Option<Expiry>,
    pub used: Option<u64>,
    pub total: Option<u64>,
    /// `DENIED_LICENSES` (XML only): the server's count since it started.
    pub denied: Option<u64>,
}

/// One checkout: `15000 license(s) used by USER@HOST [ip]` / `<USER .../>`.
#[derive(Debug, Default)]
pub(super) struct Checkout<'a> {
    pub user: &'a str,
    pub host: &'a str,
    pub ip: Option<&'a str>,
    pub count: u64,
    pub checkout_time: Option<DateTime<Utc>>,
    pub borrowed: bool,
    /// XML `BORROW_EXPIRE_TIME`: when a borrowed license returns.
    pub borrow_expires: Option<DateTime<Utc>>,
}

pub(super) struct ReportBuilder {
    pub report: StatusReport,
    /// (name, vendor) → index in `report.features`.
    feature_index: HashMap<(String, Option<String>), usize>,
    /// The feature the next checkouts belong to.
    current: Option<usize>,
}

impl ReportBuilder {
    pub fn new(format: &'static str) -> Self {
        Self {
            report: StatusReport::empty(format),
            feature_index: HashMap::new(),
            current: None,
        }
    }

    /// `6200@licserv0013.com` → a node that is up until the output says otherwise.
    pub fn server(&mut self, spec: &str) -> &mut ServerNode {
        let (port, host) = match spec.split_once('@') {
            Some((port, host)) => (port.trim().parse().ok(), host.trim()),
            None => (None, spec.trim()),
        };
        self.report.servers.push(ServerNode {
            host: host.to_string(),
            port,
            status: UpDown::Up,
            master: false,
            version: None,
            error: None,
        });
        let last = self.report.servers.len() - 1;
        &mut self.report.servers[last]
    }

    /// The last server header, or a host-less node when the output names none.
    pub fn last_server(&mut self) -> &mut ServerNode {
        if self.report.servers.is_empty() {
            self.server("");
        }
        let last = self.report.servers.len() - 1;
        &mut self.report.servers[last]
    }

    pub fn server_down(&mut self, error: &str) {
        let node = self.last_server();
        node.status = UpDown::Down;
        node.error = Some(error.to_string());
    }

    pub fn feature(&mut self, block: &FeatureBlock<'_>) {
        let key = (block.name.to_string(), block.vendor.map(str::to_string));
        let features = &mut self.report.features;
        let index = *self.feature_index.entry(key).or_insert_with(|| {
            let mut feature = Feature::named(block.name);
            feature.vendor = block.vendor.map(str::to_string);
            features.push(feature);
            features.len() - 1
        });
        let feature = &mut features[index];
        feature.pools.push(Pool {
            version: block.version.map(str::to_string),
            vendor: block.vendor.map(str::to_string),
            expires: block.expires,
            issued: block.total,
        });
        if let Some(total) = block.total {
            feature.issued = Some(feature.issued.unwrap_or(0).saturating_add(total));
        }
        feature.in_use = feature.in_use.saturating_add(block.used.unwrap_or(0));
        if let Some(denied) = block.denied {
            feature.denied = Some(feature.denied.unwrap_or(0).saturating_add(denied));
        }
        self.current = Some(index);
    }

    /// The counts of the current feature, when they come after its header (text output).
    pub fn feature_counts(&mut self, used: u64, total: u64) -> bool {
        let Some(feature) = self.current.and_then(|i| self.report.features.get_mut(i)) else {
            return false;
        };
        feature.in_use = feature.in_use.saturating_add(used);
        feature.issued = Some(feature.issued.unwrap_or(0).saturating_add(total));
        if let Some(pool) = feature.pools.last_mut() {
            pool.issued = Some(total);
        }
        true
    }

    pub fn set_expiry(&mut self, expires: Option<Expiry>) -> bool {
        let Some(feature) = self.current.and_then(|i| self.report.features.get_mut(i)) else {
            return false;
        };
        if let Some(pool) = feature.pools.last_mut() {
            pool.expires = expires;
        }
        true
    }

    /// A checkout of the current feature. False when no feature block is open.
    pub fn checkout(&mut self, checkout: &Checkout<'_>) -> bool {
        let Some(feature) = self.current.and_then(|i| self.report.features.get_mut(i)) else {
            return false;
        };
        if checkout.borrowed {
            feature.borrowed = feature.borrowed.saturating_add(checkout.count);
        }
        let mut session = Session::new(feature.name.as_str(), checkout.user, checkout.host);
        session.count = checkout.count;
        session.version = feature.pools.last().and_then(|p| p.version.clone());
        session.start = checkout.checkout_time;
        session.ip = checkout.ip.map(str::to_string);
        session.borrowed = checkout.borrowed;
        session.expires = checkout.borrow_expires;
        self.report.sessions.push(session);
        true
    }

    /// The last session, for the `Login time`/`Checkout time` line after a text checkout line.
    pub fn last_session(&mut self) -> Option<&mut Session> {
        self.report.sessions.last_mut()
    }

    pub fn end_feature(&mut self) {
        self.current = None;
    }
}

/// `2023-01-31`; `permanent`/`never` (case-insensitive) as permanent.
pub(super) fn expiry(text: &str) -> Option<Expiry> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("permanent") || text.eq_ignore_ascii_case("never") {
        return Some(Expiry::Permanent);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .map(Expiry::On)
}

/// `2022-02-18 09:26` (or with seconds) on the server's clock, as UTC.
pub(super) fn local_time(text: &str, ctx: &ParseContext) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S"))
        .ok()?;
    local_to_utc(ctx.tz, naive)
}

pub(super) fn strip_v(version: &str) -> &str {
    version.strip_prefix('v').unwrap_or(version)
}

/// A wall-clock time in `tz` as UTC. In the autumn overlap the earlier instant is taken; a time
/// in the spring gap (which no clock showed) is read as one hour later, as the clock would.
fn local_to_utc(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let resolved = tz.from_local_datetime(&local).earliest().or_else(|| {
        tz.from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest()
    })?;
    Some(resolved.with_timezone(&Utc))
}
