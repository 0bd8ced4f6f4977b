//! Sentinel RMS `lsmon HOST` output (SafeNet/Thales "Application Monitor").
//!
//! The output is a tree of `|- Key : value` lines in three kinds of blocks:
//!
//! * `|- Feature Information`: name (quoted, sometimes followed by a tab), version, `Maximum
//!   concurrent user(s)` (the issued count, or `Unlimited`), `Unreserved tokens in use`,
//!   `Reserved tokens in use`, `Available reserved`, expiration date.
//! * `|- License Information` (nested in a feature): one license of the feature, with its
//!   `License status` (`Active` / `Inactive`), count and dates. Active licenses become the
//!   feature's [`Pool`]s; inactive (expired, not yet started) ones are not counted and not kept.
//! * `|- Client Information` (nested in a feature): one client, with user, host, X display,
//!   group, `Status : Running since <asctime>` and `Is commuter token` (a borrowed license).
//!
//! licmon's `in_use` is all tokens in use (unreserved + reserved); `reserved` is the reserved
//! tokens still available (held back for a group, so not free for others), as FlexNet counts
//! reservations. The header `[Contacting ... server on host "H"]` names the server node; a
//! line saying the server cannot be reached marks it down.

use crate::wallclock::{expiry, key_value, last_line, local_date_time};
use crate::{Diagnostic, Feature, ParseContext, Pool, ServerNode, Session, StatusReport, UpDown};

/// The `licmon parse --format` name of this format.
pub const FORMAT: &str = "sentinel-lsmon";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    None,
    Feature,
    License,
    Client,
}

#[derive(Default)]
struct License {
    active: bool,
    issued: Option<u64>,
    expires: Option<crate::Expiry>,
}

struct Parser<'c> {
    ctx: &'c ParseContext,
    report: StatusReport,
    block: Block,
    version: Option<String>,
    /// The feature being read, its tokens in use, and its version (for its licenses).
    feature: Option<(Feature, Option<String>)>,
    feature_expiry: Option<crate::Expiry>,
    license: Option<License>,
    client: Option<Session>,
}

/// Parses `lsmon HOST` output. Never fails: what is not understood is reported in
/// `diagnostics` with its line number.
pub fn parse_lsmon(text: &str, ctx: &ParseContext) -> StatusReport {
    let mut p = Parser {
        ctx,
        report: StatusReport::empty(FORMAT),
        block: Block::None,
        version: None,
        feature: None,
        feature_expiry: None,
        license: None,
        client: None,
    };
    for (index, raw) in text.lines().enumerate() {
        p.line(index + 1, raw);
    }
    p.end_feature();
    if let Some(version) = p.version.take() {
        for node in &mut p.report.servers {
            node.version.get_or_insert_with(|| version.clone());
        }
    }
    let last = last_line(text);
    for d in &mut p.report.diagnostics {
        d.line = d.line.min(last);
    }
    p.report
}

impl Parser<'_> {
    fn diagnose(&mut self, line: usize, message: impl Into<String>) {
        self.report.diagnostics.push(Diagnostic::new(line, message));
    }

    fn line(&mut self, no: usize, raw: &str) {
        let line = raw.trim();
        if line.is_empty() || line.starts_with("Copyright") || line.contains("Press Enter") {
            return;
        }
        if let Some(rest) = line.strip_prefix("|-") {
            self.tree_line(no, rest.trim());
            return;
        }
        if let Some(version) = banner_version(line) {
            self.version = Some(version.to_string());
            return;
        }
        if let Some(host) = contacting_host(line) {
            self.report.servers.push(ServerNode {
                host: host.to_string(),
                port: None,
                status: UpDown::Up,
                master: false,
                version: None,
                error: None,
            });
            return;
        }
        if is_connect_error(line) {
            let message = line.trim_matches(['[', ']']).trim().to_string();
            match self.report.servers.last_mut() {
                Some(node) => {
                    node.status = UpDown::Down;
                    node.error = Some(message);
                }
                None => self.report.servers.push(ServerNode {
                    host: String::new(),
                    port: None,
                    status: UpDown::Down,
                    master: false,
                    version: None,
                    error: Some(message),
                }),
            }
            return;
        }
        self.diagnose(no, "line not understood");
    }

    fn tree_line(&mut self, no: usize, rest: &str) {
        match rest {
            "Feature Information" => {
                self.end_feature();
                self.block = Block::Feature;
                return;
            }
            "License Information" => {
                self.end_block();
                if self.feature.is_none() {
                    self.diagnose(no, "License Information outside a feature");
                }
                self.block = Block::License;
                self.license = Some(License::default());
                return;
            }
            "Client Information" => {
                self.end_block();
                if self.feature.is_none() {
                    self.diagnose(no, "Client Information outside a feature");
                }
                self.block = Block::Client;
                let feature = self.feature.as_ref().map_or("", |(f, _)| f.name.as_str());
                self.client = Some(Session::new(feature, "", ""));
                return;
            }
            _ => {}
        }
        let Some((key, value)) = key_value(rest) else {
            self.diagnose(no, "line not understood");
            return;
        };
        match self.block {
            Block::Feature => self.feature_key(no, key, value),
            Block::License => self.license_key(no, key, value),
            Block::Client => self.client_key(no, key, value),
            Block::None => self.diagnose(no, "attribute outside a feature"),
        }
    }

    fn feature_key(&mut self, no: usize, key: &str, value: &str) {
        if key.eq_ignore_ascii_case("Feature name") {
            let name = unquote(value);
            if name.is_empty() {
                self.diagnose(no, "empty feature name");
            }
            self.feature = Some((Feature::named(name), None));
            self.feature_expiry = None;
            return;
        }
        let Some((feature, version)) = self.feature.as_mut() else {
            self.diagnose(no, "feature attribute before the feature name");
            return;
        };
        let number = || value.parse::<u64>().ok();
        match key {
            "Feature version" => {
                *version = Some(unquote(value).to_string()).filter(|v| !v.is_empty())
            }
            "Maximum concurrent user(s)" => {
                feature.issued = number();
                if feature.issued.is_none() && !value.eq_ignore_ascii_case("Unlimited") {
                    self.diagnose(no, format!("maximum users {value:?} is not a count"));
                } else if feature.issued.is_none() {
                    feature.uncounted = true;
                }
            }
            "Unreserved tokens in use" | "Reserved tokens in use" => match number() {
                Some(n) => feature.in_use += n,
                None => self.diagnose(no, format!("{key} {value:?} is not a count")),
            },
            "Available reserved" => match number() {
                Some(n) => feature.reserved = n,
                None => self.diagnose(no, format!("{key} {value:?} is not a count")),
            },
            "Expiration date" => {
                self.feature_expiry = expiry(value);
                if self.feature_expiry.is_none() {
                    self.diagnose(no, format!("expiration date {value:?} not understood"));
                }
            }
            _ => {}
        }
    }

    fn license_key(&mut self, no: usize, key: &str, value: &str) {
        let Some(license) = self.license.as_mut() else {
            return;
        };
        match key {
            "License status" => license.active = value.eq_ignore_ascii_case("Active"),
            "Maximum concurrent user(s)" => license.issued = value.parse().ok(),
            "Expiration date" => {
                license.expires = expiry(value);
                if license.expires.is_none() {
                    self.diagnose(no, format!("expiration date {value:?} not understood"));
                }
            }
            _ => {}
        }
    }

    fn client_key(&mut self, no: usize, key: &str, value: &str) {
        let ctx = self.ctx;
        let Some(client) = self.client.as_mut() else {
            return;
        };
        match key {
            "User name" => client.user = value.to_string(),
            "Host name" => client.host = value.to_string(),
            "X display name" => client.display = Some(value.to_string()).filter(|d| !d.is_empty()),
            "Is commuter token" => client.borrowed = value.eq_ignore_ascii_case("YES"),
            "Number of tokens" | "Tokens in use" | "Num of tokens" => {
                client.count = value.parse().unwrap_or(1)
            }
            "Status" => {
                if let Some(since) = value.strip_prefix("Running since") {
                    client.start = local_date_time(since, ctx);
                    if client.start.is_none() {
                        self.diagnose(no, format!("start time {:?} not understood", since.trim()));
                    }
                } else if value.to_ascii_lowercase().contains("queued") {
                    client.queued = true;
                }
            }
            _ => {}
        }
    }

    /// Ends a License or Client block (they end at the next block or feature).
    fn end_block(&mut self) {
        if let Some(license) = self.license.take()
            && let Some((feature, version)) = self.feature.as_mut()
            && license.active
        {
            feature.pools.push(Pool {
                version: version.clone(),
                vendor: None,
                expires: license.expires,
                issued: license.issued,
            });
        }
        if let Some(mut client) = self.client.take() {
            if client.user.is_empty() && client.host.is_empty() {
                return;
            }
            if let Some((feature, version)) = self.feature.as_mut() {
                client.feature = feature.name.clone();
                client.version = version.clone();
                if client.borrowed {
                    feature.borrowed += client.count;
                }
                self.report.sessions.push(client);
            }
        }
    }

    fn end_feature(&mut self) {
        self.end_block();
        self.block = Block::None;
        if let Some((mut feature, version)) = self.feature.take() {
            if feature.pools.is_empty() {
                feature.pools.push(Pool {
                    version,
                    vendor: None,
                    expires: self.feature_expiry,
                    issued: feature.issued,
                });
            }
            if !feature.name.is_empty() {
                self.report.features.push(feature);
            }
        }
    }
}

/// `"ARMS_ID"  \t` → `ARMS_ID`.
fn unquote(value: &str) -> &str {
    value.trim().trim_matches('"').trim()
}

/// `Sentinel RMS Development Kit 9.1.0.0104 Application Monitor` → `9.1.0.0104`.
fn banner_version(line: &str) -> Option<&str> {
    let head = line.strip_suffix("Application Monitor")?;
    head.split_whitespace()
        .last()
        .filter(|w| w.starts_with(|c: char| c.is_ascii_digit()))
}

/// `[Contacting Sentinel RMS Development Kit server on host "rms1"]` → `rms1`.
fn contacting_host(line: &str) -> Option<&str> {
    let inner = line.trim_matches(['[', ']']);
    if !inner.starts_with("Contacting") {
        return None;
    }
    let (_, host) = inner.split_once(" on host ")?;
    Some(host.trim().trim_matches('"'))
}

/// What lsmon prints when it cannot reach a server (wording differs between RMS versions).
fn is_connect_error(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    [
        "failed to resolve",
        "failed to contact",
        "unable to contact",
        "could not contact",
        "cannot talk to",
        "no sentinel rms",
        "server is not running",
        "connection refused",
        "error[",
    ]
    .iter()
    .any(|w| lower.contains(w))
}
