//! licmon's custom status XML: a file a site script rewrites for a license manager licmon has
//! no parser for. The schema is documented in `docs/custom-xml.md`:
//!
//! ```xml
//! <licmon-status version="1" vendor="ACME" server="lic1" status="up">
//!   <feature name="solver" version="2025.1" issued="20" used="3" reserved="1" borrowed="1"
//!            denied="2" queued="0" expires="2026-12-31">
//!     <user name="alice" host="ws1" count="1" checkout="2025-03-11T08:30:00Z"
//!           borrow-expires="2025-03-18T08:30:00Z"/>
//!   </feature>
//! </licmon-status>
//! ```
//!
//! Unlike the vendor parsers, which take what they can from output licmon does not control,
//! this one is strict: the file is the site's contract with licmon, so a file that breaks the
//! schema (unknown element or attribute, missing name, a count that is not a number, a bad
//! date, a duplicate feature) is rejected as a whole — the report has no server, features or
//! sessions, and one diagnostic per problem with its line, which makes the poll fail with
//! "unparseable output: line N: reason" rather than record half a file.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use roxmltree::{Document, Node};

use crate::wallclock::local_to_utc;
use crate::{
    Diagnostic, Expiry, Feature, ParseContext, Pool, ServerNode, Session, StatusReport, UpDown,
};

/// The `licmon parse --format` name of this format.
pub const FORMAT: &str = "custom-xml";

/// The schema version this parser reads.
pub const SCHEMA_VERSION: &str = "1";

const ROOT: &str = "licmon-status";
const ROOT_ATTRS: &[&str] = &[
    "version",
    "vendor",
    "server",
    "status",
    "message",
    "generated",
];
const FEATURE_ATTRS: &[&str] = &[
    "name", "version", "vendor", "issued", "used", "reserved", "borrowed", "denied", "queued",
    "expires",
];
const USER_ATTRS: &[&str] = &[
    "name",
    "host",
    "count",
    "checkout",
    "borrow-expires",
    "display",
    "ip",
    "version",
    "queued",
];
/// More problems than this in one file are not listed one by one.
const MAX_DIAGNOSTICS: usize = 50;

/// Parses a custom status XML file. A valid file gives one server node, its features and
/// sessions; an invalid one gives only diagnostics (see the module documentation).
pub fn parse_custom_xml(text: &str, ctx: &ParseContext) -> StatusReport {
    let mut report = StatusReport::empty(FORMAT);
    if text.trim().is_empty() {
        report
            .diagnostics
            .push(Diagnostic::new(1, "the file is empty"));
        return report;
    }
    let doc = match Document::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let line = (e.pos().row as usize).clamp(1, text.lines().count().max(1));
            report
                .diagnostics
                .push(Diagnostic::new(line, format!("not well-formed XML: {e}")));
            return report;
        }
    };
    let mut v = Validator {
        doc: &doc,
        ctx,
        errors: Vec::new(),
    };
    let (servers, features, sessions) = v.root(doc.root_element());
    if v.errors.is_empty() {
        report.servers = servers;
        report.features = features;
        report.sessions = sessions;
    } else {
        let more = v.errors.len().saturating_sub(MAX_DIAGNOSTICS);
        v.errors.truncate(MAX_DIAGNOSTICS);
        if more > 0 {
            let line = v.errors.last().map_or(1, |d| d.line);
            v.errors.push(Diagnostic::new(
                line,
                format!("{more} more problems not listed"),
            ));
        }
        report.diagnostics = v.errors;
    }
    report
}

struct Validator<'d, 'i, 'c> {
    doc: &'d Document<'i>,
    ctx: &'c ParseContext,
    errors: Vec<Diagnostic>,
}

type Parsed = (Vec<ServerNode>, Vec<Feature>, Vec<Session>);

impl Validator<'_, '_, '_> {
    fn error(&mut self, node: Node<'_, '_>, message: impl Into<String>) {
        if self.errors.len() > MAX_DIAGNOSTICS {
            self.errors.push(Diagnostic::new(1, String::new()));
            return;
        }
        let line = self.doc.text_pos_at(node.range().start).row as usize;
        self.errors.push(Diagnostic::new(line.max(1), message));
    }

    fn attributes(&mut self, node: Node<'_, '_>, allowed: &[&str]) {
        for a in node.attributes() {
            if a.namespace().is_some() || !allowed.contains(&a.name()) {
                let element = node.tag_name().name();
                self.error(
                    node,
                    format!(
                        "<{element}> has an unknown attribute {:?} (allowed: {})",
                        a.name(),
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    fn root(&mut self, root: Node<'_, '_>) -> Parsed {
        if root.tag_name().name() != ROOT {
            self.error(
                root,
                format!(
                    "the root element is <{}>, expected <{ROOT}>",
                    root.tag_name().name()
                ),
            );
            return (Vec::new(), Vec::new(), Vec::new());
        }
        self.attributes(root, ROOT_ATTRS);
        match root.attribute("version") {
            Some(SCHEMA_VERSION) => {}
            Some(other) => self.error(
                root,
                format!("schema version {other:?} is not supported (this licmon reads \"{SCHEMA_VERSION}\")"),
            ),
            None => self.error(root, format!("<{ROOT}> needs version=\"{SCHEMA_VERSION}\"")),
        }
        if let Some(g) = root.attribute("generated")
            && self.time(g).is_none()
        {
            self.error(
                root,
                format!("generated={g:?} is not a time (use RFC 3339)"),
            );
        }
        let status = match root.attribute("status") {
            None | Some("up") => UpDown::Up,
            Some("down") => UpDown::Down,
            Some(other) => {
                self.error(root, format!("status={other:?} must be \"up\" or \"down\""));
                UpDown::Up
            }
        };
        let node = ServerNode {
            host: root.attribute("server").unwrap_or("").to_string(),
            port: None,
            status,
            master: false,
            version: None,
            error: match (status, root.attribute("message")) {
                (UpDown::Down, Some(m)) => Some(m.to_string()),
                (UpDown::Down, None) => Some("the status file says the server is down".into()),
                _ => None,
            },
        };
        let vendor = root.attribute("vendor");
        let mut features = Vec::new();
        let mut sessions = Vec::new();
        let mut names = HashSet::new();
        for child in root.children() {
            if child.is_text() && child.text().is_some_and(|t| !t.trim().is_empty()) {
                self.error(child, "text outside an element");
            }
            if !child.is_element() {
                continue;
            }
            if child.tag_name().name() != "feature" {
                self.error(
                    child,
                    format!(
                        "unknown element <{}> (expected <feature>)",
                        child.tag_name().name()
                    ),
                );
                continue;
            }
            if let Some(f) = self.feature(child, vendor, &mut sessions) {
                if !names.insert((f.vendor.clone(), f.name.clone())) {
                    self.error(child, format!("feature {:?} appears twice", f.name));
                }
                features.push(f);
            }
        }
        (vec![node], features, sessions)
    }

    fn feature(
        &mut self,
        node: Node<'_, '_>,
        vendor: Option<&str>,
        sessions: &mut Vec<Session>,
    ) -> Option<Feature> {
        self.attributes(node, FEATURE_ATTRS);
        let name = match node.attribute("name").map(str::trim) {
            Some(n) if !n.is_empty() => n,
            _ => {
                self.error(node, "<feature> needs a non-empty name");
                return None;
            }
        };
        let mut f = Feature::named(name);
        f.vendor = node.attribute("vendor").or(vendor).map(str::to_string);
        f.issued = self.count(node, "issued");
        f.uncounted = node.attribute("issued").is_none();
        match node.attribute("used") {
            Some(_) => f.in_use = self.count(node, "used").unwrap_or(0),
            None => self.error(node, format!("<feature name={name:?}> needs used=\"N\"")),
        }
        f.reserved = self.count(node, "reserved").unwrap_or(0);
        f.borrowed = self.count(node, "borrowed").unwrap_or(0);
        f.denied = self.count(node, "denied");
        f.queued = self.count(node, "queued").unwrap_or(0);
        let expires = node.attribute("expires").and_then(|e| {
            let parsed = if e == "permanent" {
                Some(Expiry::Permanent)
            } else {
                NaiveDate::parse_from_str(e, "%Y-%m-%d")
                    .ok()
                    .map(Expiry::On)
            };
            if parsed.is_none() {
                self.error(
                    node,
                    format!("expires={e:?} must be YYYY-MM-DD or \"permanent\""),
                );
            }
            parsed
        });
        let version = node.attribute("version").map(str::to_string);
        f.pools.push(Pool {
            version: version.clone(),
            vendor: f.vendor.clone(),
            expires,
            issued: f.issued,
        });
        for child in node.children() {
            if child.is_text() && child.text().is_some_and(|t| !t.trim().is_empty()) {
                self.error(child, "text inside <feature>");
            }
            if !child.is_element() {
                continue;
            }
            if child.tag_name().name() != "user" {
                self.error(
                    child,
                    format!(
                        "unknown element <{}> in <feature> (expected <user>)",
                        child.tag_name().name()
                    ),
                );
                continue;
            }
            if let Some(s) = self.user(child, name, version.as_deref()) {
                sessions.push(s);
            }
        }
        Some(f)
    }

    fn user(
        &mut self,
        node: Node<'_, '_>,
        feature: &str,
        version: Option<&str>,
    ) -> Option<Session> {
        self.attributes(node, USER_ATTRS);
        if node.children().any(|c| c.is_element()) {
            self.error(node, "<user> has no child elements");
        }
        let (Some(user), Some(host)) = (
            node.attribute("name").filter(|n| !n.trim().is_empty()),
            node.attribute("host").filter(|h| !h.trim().is_empty()),
        ) else {
            self.error(node, "<user> needs a non-empty name and host");
            return None;
        };
        let mut s = Session::new(feature, user.trim(), host.trim());
        s.count = self.count(node, "count").unwrap_or(1);
        if s.count == 0 {
            self.error(node, "count=\"0\": a user holds at least one license");
        }
        s.display = node.attribute("display").map(str::to_string);
        s.ip = node.attribute("ip").map(str::to_string);
        s.version = node.attribute("version").or(version).map(str::to_string);
        if let Some(t) = node.attribute("checkout") {
            s.start = self.time(t);
            if s.start.is_none() {
                self.error(node, format!("checkout={t:?} is not a time (use RFC 3339)"));
            }
        }
        if let Some(t) = node.attribute("borrow-expires") {
            s.borrowed = true;
            s.expires = self.time(t);
            if s.expires.is_none() {
                self.error(
                    node,
                    format!("borrow-expires={t:?} is not a time (use RFC 3339)"),
                );
            }
        }
        match node.attribute("queued") {
            None | Some("false") => {}
            Some("true") => s.queued = true,
            Some(other) => self.error(
                node,
                format!("queued={other:?} must be \"true\" or \"false\""),
            ),
        }
        Some(s)
    }

    /// A count attribute: absent is `None`, anything but a non-negative integer is an error.
    fn count(&mut self, node: Node<'_, '_>, name: &str) -> Option<u64> {
        let value = node.attribute(name)?;
        let parsed = value.trim().parse().ok();
        if parsed.is_none() {
            self.error(
                node,
                format!("{name}={value:?} is not a count (a whole number from 0)"),
            );
        }
        parsed
    }

    /// RFC 3339 (`2025-03-11T08:30:00Z`, `...+01:00`), or a local `YYYY-MM-DD HH:MM[:SS]` /
    /// `YYYY-MM-DDTHH:MM[:SS]` in the server's time zone.
    fn time(&self, text: &str) -> Option<DateTime<Utc>> {
        let text = text.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Some(t.with_timezone(&Utc));
        }
        [
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%dT%H:%M",
        ]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .and_then(|naive| local_to_utc(self.ctx.tz, naive))
    }
}
