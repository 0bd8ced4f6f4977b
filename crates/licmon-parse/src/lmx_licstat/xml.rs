//! `lmxendutil -licstatxml` output.
//!
//! No captured sample is public. The layout below is X-Formation's, as the LM-X End-user
//! Utility prints it and as the open-source consumers of it read it (element and attribute
//! names agree across the HWTokenLicenseChecker `LMX2SQLite.cs` reader and the
//! prometheus-licence-exporter `lmx.rs` reader, which quote sample elements in comments):
//!
//! ```text
//! LM-X End-user Utility v3.32
//! Copyright (C) 2002-2010 X-Formation. All rights reserved.
//!
//! <?xml version="1.0" encoding="UTF-8"?>
//! <LM-X>
//!   <LICENSE_PATH TYPE="NETWORK" HOST="6200@server1" SERVER_VERSION="5.5"
//!                 UPTIME="8 hour(s) 38 min(s) 33 sec(s)" STATUS="SUCCESS">
//!     <FEATURE NAME="FeatUre" VERSION="22.0" VENDOR="ALTAIR" START="2020-04-25" END="2025-12-31"
//!              USED_LICENSES="655000" TOTAL_LICENSES="1150000" DENIED_LICENSES="0"
//!              SHARE="CUSTOM ,VIRTUAL">
//!       <USER NAME="user1" HOST="client1" IP="10.0.0.1" USED_LICENSES="21000"
//!             LOGIN_TIME="2022-02-01 15:12" CHECKOUT_TIME="2022-02-01 15:12"
//!             SHARE_CUSTOM="user1:client1"/>
//!     </FEATURE>
//!   </LICENSE_PATH>
//! </LM-X>
//! ```
//!
//! A borrowed license is a `USER` with a `BORROW_EXPIRE_TIME` attribute (HWTokenLicenseChecker
//! counts a user as borrowing by that attribute alone); its value is read like `CHECKOUT_TIME`
//! and becomes the session's borrow expiry.
//!
//! The utility's banner comes before the XML (consumers strip its first three lines), so the
//! XML starts at the first line that starts with `<`. The root element's name is not relied on.

use roxmltree::{Document, Node};

use super::XML_FORMAT;
use super::model::{self, Checkout, FeatureBlock, ReportBuilder};
use super::text;
use crate::{Diagnostic, ParseContext, StatusReport};

/// Parses `lmxendutil -licstatxml` output. Never fails: malformed XML gives a diagnostic at the
/// line roxmltree reports, unknown elements one each.
pub fn parse_licstat_xml(text: &str, ctx: &ParseContext) -> StatusReport {
    let mut builder = ReportBuilder::new(XML_FORMAT);
    let (xml_start, xml_first_line) = parse_preamble(&mut builder, text, ctx);
    let line_count = text.lines().count().max(1);
    let xml = text.get(xml_start..).unwrap_or("");
    if xml.trim().is_empty() {
        return builder.report;
    }
    let mut walker = Walker {
        builder,
        ctx,
        xml,
        row_cursor: (0, 1),
        line_offset: xml_first_line - 1,
        line_count,
    };
    match Document::parse(xml) {
        Ok(doc) => walker.document(&doc),
        Err(error) => {
            let line = walker.line(error.pos().row as usize);
            walker.diagnose_line(line, format!("XML not well-formed: {error}"));
        }
    }
    walker.builder.report
}

/// The text lines before the XML (banner, copyright, or an error with no XML at all). Returns
/// the byte offset of the XML and its 1-based first line.
fn parse_preamble(builder: &mut ReportBuilder, text: &str, ctx: &ParseContext) -> (usize, usize) {
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('<') {
            return (offset, index + 1);
        }
        if !text::understood(builder, trimmed, ctx) {
            builder
                .report
                .diagnostics
                .push(Diagnostic::new(index + 1, "line not understood"));
        }
        offset += line.len();
    }
    (text.len(), text.lines().count().max(1))
}

struct Walker<'c> {
    builder: ReportBuilder,
    ctx: &'c ParseContext,
    xml: &'c str,
    /// (byte offset, XML row there) of the last diagnostic: elements come in document order,
    /// so rows are counted on from there, keeping many diagnostics linear.
    row_cursor: (usize, usize),
    /// Lines of the input before the XML.
    line_offset: usize,
    line_count: usize,
}

impl Walker<'_> {
    fn document(&mut self, doc: &Document<'_>) {
        for node in doc.root_element().descendants().filter(Node::is_element) {
            // A byte offset, turned into a line only for a diagnostic: `Document::text_pos_at`
            // scans from the start, which over all elements is quadratic.
            let at = node.range().start;
            match node.tag_name().name() {
                "LICENSE_PATH" => self.license_path(node),
                "FEATURE" => self.feature(node, at),
                "USER" => self.user(node, at),
                _ if node == doc.root_element() => {}
                other => self.diagnose(at, format!("element <{other}> not understood")),
            }
        }
    }

    /// `<LICENSE_PATH TYPE= HOST="port@host" SERVER_VERSION= UPTIME= STATUS=>`: one server.
    /// Any STATUS but SUCCESS is a server licmon could not read: down, with the status (and a
    /// MESSAGE attribute, where present) as the reason.
    fn license_path(&mut self, node: Node<'_, '_>) {
        self.builder.end_feature();
        let server = self.builder.server(node.attribute("HOST").unwrap_or(""));
        server.version = node
            .attribute("SERVER_VERSION")
            .map(|v| model::strip_v(v.trim()).to_string());
        if let Some(status) = node.attribute("STATUS").map(str::trim)
            && !status.eq_ignore_ascii_case("SUCCESS")
        {
            let reason = match node.attribute("MESSAGE") {
                Some(message) => format!("{status}: {message}"),
                None => status.to_string(),
            };
            self.builder.server_down(&reason);
        }
    }

    fn feature(&mut self, node: Node<'_, '_>, at: usize) {
        let used = self.count(node, "USED_LICENSES", at);
        let total = self.count(node, "TOTAL_LICENSES", at);
        let denied = self.count(node, "DENIED_LICENSES", at);
        let expires = node.attribute("END").and_then(model::expiry);
        if node.attribute("END").is_some() && expires.is_none() {
            self.diagnose(at, "END date not understood");
        }
        let block = FeatureBlock {
            name: node.attribute("NAME").unwrap_or("").trim(),
            version: node.attribute("VERSION").map(str::trim),
            vendor: node.attribute("VENDOR").map(str::trim),
            expires,
            used,
            total,
            denied,
        };
        if block.name.is_empty() {
            self.builder.end_feature();
            self.diagnose(at, "<FEATURE> without NAME");
            return;
        }
        self.builder.feature(&block);
    }

    fn user(&mut self, node: Node<'_, '_>, at: usize) {
        let in_feature = node
            .parent_element()
            .is_some_and(|p| p.has_tag_name("FEATURE"));
        let checkout_time = node
            .attribute("CHECKOUT_TIME")
            .or_else(|| node.attribute("LOGIN_TIME"))
            .and_then(|t| model::local_time(t, self.ctx));
        // A borrowed license is a USER with BORROW_EXPIRE_TIME (same form as CHECKOUT_TIME).
        let borrow = node.attribute("BORROW_EXPIRE_TIME");
        let borrow_expires = borrow.and_then(|t| model::local_time(t, self.ctx));
        if let (Some(t), None) = (borrow, borrow_expires) {
            self.diagnose(at, format!("BORROW_EXPIRE_TIME=\"{t}\" is not a time"));
        }
        let checkout = Checkout {
            user: node.attribute("NAME").unwrap_or("").trim(),
            host: node.attribute("HOST").unwrap_or("").trim(),
            ip: node.attribute("IP").map(str::trim),
            count: self.count(node, "USED_LICENSES", at).unwrap_or(1),
            checkout_time,
            borrowed: borrow.is_some(),
            borrow_expires,
        };
        if !in_feature || !self.builder.checkout(&checkout) {
            self.diagnose(at, "<USER> outside a <FEATURE>");
        }
    }

    /// A count attribute; a diagnostic when present but not a number.
    fn count(&mut self, node: Node<'_, '_>, name: &str, at: usize) -> Option<u64> {
        let value = node.attribute(name)?;
        let parsed = value.trim().parse().ok();
        if parsed.is_none() {
            self.diagnose(at, format!("{name}=\"{value}\" is not a count"));
        }
        parsed
    }

    /// A line of the XML as a line of the whole input, kept within the input.
    fn line(&self, xml_row: usize) -> usize {
        (xml_row.max(1) + self.line_offset).min(self.line_count)
    }

    /// A diagnostic about the element that starts at byte `at` of the XML.
    fn diagnose(&mut self, at: usize, message: impl Into<String>) {
        let (from, row_there) = if at >= self.row_cursor.0 {
            self.row_cursor
        } else {
            (0, 1)
        };
        let between = self.xml.get(from..at).unwrap_or("");
        let row = row_there + between.bytes().filter(|&b| b == b'\n').count();
        self.row_cursor = (at, row);
        let line = self.line(row);
        self.diagnose_line(line, message);
    }

    fn diagnose_line(&mut self, line: usize, message: impl Into<String>) {
        self.builder
            .report
            .diagnostics
            .push(Diagnostic::new(line, message));
    }
}
