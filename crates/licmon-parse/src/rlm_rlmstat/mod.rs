//! RLM `rlmutil rlmstat -a` output.
//!
//! The output has one section per server: the `rlm` server itself (a [`ServerNode`]) with its
//! `ISV servers` table (the [`VendorDaemon`]s), then per ISV its server status, its
//! `license pool status` (one block per product, version and pool) and its
//! `license usage status` (one line per checkout). licmon totals pools per product and ISV into
//! one [`Feature`] with several [`Pool`]s, because that is what the FlexNet-style usage views
//! show; the per-pool numbers stay in `pools`.
//!
//! Versions are stored without RLM's `v` prefix (`v3.0` → `3.0`), as license files write them.

mod lines;
mod usage;

use std::collections::HashMap;

use crate::{
    Diagnostic, Feature, ParseContext, Pool, ServerNode, Session, StatusReport, UpDown,
    VendorDaemon, yearless,
};
use lines::{HeaderKind, PoolCounts, PoolHeader, StatusHeader};

/// The `licmon parse --format` name of this format.
pub const FORMAT: &str = "rlm-rlmstat";

/// Parses `rlmutil rlmstat -a` output. Never fails: what is not understood is reported in
/// `diagnostics` with its line number.
pub fn parse_rlmstat(text: &str, ctx: &ParseContext) -> StatusReport {
    let mut parser = Parser::new(ctx);
    for (index, raw) in text.lines().enumerate() {
        parser.line(index + 1, raw.trim());
    }
    parser.finish()
}

/// Which part of the output the previous lines opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Top,
    IsvTable,
    Pools,
    Usage,
}

/// A pool header waiting for its `count:` line.
struct PendingPool<'a> {
    line: usize,
    header: PoolHeader<'a>,
}

struct Parser<'a, 'c> {
    ctx: &'c ParseContext,
    report: StatusReport,
    section: Section,
    /// The ISV of the current pool or usage section (`None` before any header, as in output
    /// whose head was cut off).
    isv: Option<&'a str>,
    /// The ISV whose server status block (and statistics) the lines are in.
    isv_status: Option<&'a str>,
    pending: Option<PendingPool<'a>>,
    /// (ISV, product) → index in `report.features`.
    feature_index: HashMap<(Option<&'a str>, &'a str), usize>,
}

impl<'a, 'c> Parser<'a, 'c> {
    fn new(ctx: &'c ParseContext) -> Self {
        Self {
            ctx,
            report: StatusReport::empty(FORMAT),
            section: Section::Top,
            isv: None,
            isv_status: None,
            pending: None,
            feature_index: HashMap::new(),
        }
    }

    fn line(&mut self, no: usize, line: &'a str) {
        if let Some(pending) = self.pending.take() {
            if let Some(counts) = lines::pool_counts(line) {
                self.add_pool(pending, counts);
                return;
            }
            self.diagnose(pending.line, "pool header without a `count:` line");
        }
        if !self.structural_line(no, line) && !lines::is_harmless(line) {
            self.diagnose(no, "line not understood");
        }
    }

    /// Lines that carry data or change the section. False when the line is none of them.
    fn structural_line(&mut self, no: usize, line: &'a str) -> bool {
        if lines::is_isv_table_title(line) {
            self.section = Section::IsvTable;
            return true;
        }
        if lines::is_separator(line) {
            if self.section == Section::IsvTable {
                self.section = Section::Top;
            }
            return true;
        }
        if let Some(header) = lines::status_header(line) {
            self.status_header(header);
            return true;
        }
        if let Some((name, version)) = lines::software_version(line) {
            self.software_version(name, version);
            return true;
        }
        if let Some(name) = lines::connect_error(line) {
            self.connect_error(name, line);
            return true;
        }
        if let Some((host, port)) = lines::connection_attempt(line) {
            self.connection_attempt(host, port);
            return true;
        }
        if self.section == Section::IsvTable
            && let Some(row) = lines::isv_row(line)
        {
            let status = if row.running {
                UpDown::Up
            } else {
                UpDown::Down
            };
            self.daemon(row.name).status = status;
            return true;
        }
        if let (Some(isv), Some(total)) = (self.isv_status, lines::denials_total(line)) {
            self.daemon(isv).denied = Some(total);
            return true;
        }
        if let Some(usage) = usage::usage_line(line) {
            self.session(usage);
            return true;
        }
        // `rlmutil v12.2` has the shape of a pool header; banners are not pools.
        if matches!(self.section, Section::Pools | Section::Top)
            && !lines::is_harmless(line)
            && let Some(header) = lines::pool_header(line)
        {
            self.pending = Some(PendingPool { line: no, header });
            return true;
        }
        if lines::pool_counts(line).is_some() {
            self.diagnose(no, "pool counts without a pool header");
            return true;
        }
        lines::is_pool_statistics(line)
    }

    fn status_header(&mut self, header: StatusHeader<'a>) {
        self.isv_status = (header.kind == HeaderKind::IsvServer).then_some(header.name);
        match header.kind {
            HeaderKind::RlmServer => {
                let node = self.rlm_node();
                node.host = header.host.to_string();
                node.port = header.port;
                node.status = UpDown::Up;
                self.section = Section::Top;
            }
            HeaderKind::IsvServer => {
                self.daemon(header.name).status = UpDown::Up;
                self.section = Section::Top;
            }
            HeaderKind::LicensePool => {
                self.isv = Some(header.name);
                self.section = Section::Pools;
            }
            HeaderKind::LicenseUsage => {
                self.isv = Some(header.name);
                self.section = Section::Usage;
            }
        }
    }

    fn software_version(&mut self, name: &str, version: &str) {
        if name == "rlm" {
            self.rlm_node().version = Some(version.to_string());
        } else {
            self.daemon(name).version = Some(version.to_string());
        }
    }

    /// `Error connecting to "rlm" server`: the rlm server is down. For an ISV name, that ISV.
    fn connect_error(&mut self, name: &str, line: &str) {
        if name == "rlm" || name.is_empty() {
            let node = self.rlm_node();
            node.status = UpDown::Down;
            node.error = Some(line.to_string());
        } else {
            let daemon = self.daemon(name);
            daemon.status = UpDown::Down;
            daemon.error = Some(line.to_string());
        }
    }

    /// `Connection attempted to host: "" on port 5053`, after a connect error.
    fn connection_attempt(&mut self, host: &str, port: Option<u16>) {
        let node = self.rlm_node();
        if node.host.is_empty() {
            node.host = host.to_string();
        }
        node.port = node.port.or(port);
    }

    fn rlm_node(&mut self) -> &mut ServerNode {
        if self.report.servers.is_empty() {
            self.report.servers.push(ServerNode {
                host: String::new(),
                port: None,
                status: UpDown::Up,
                master: false,
                version: None,
                error: None,
            });
        }
        let last = self.report.servers.len() - 1;
        &mut self.report.servers[last]
    }

    fn daemon(&mut self, name: &str) -> &mut VendorDaemon {
        let daemons = &mut self.report.vendor_daemons;
        let index = match daemons.iter().position(|d| d.name == name) {
            Some(index) => index,
            None => {
                daemons.push(VendorDaemon {
                    name: name.to_string(),
                    status: UpDown::Up,
                    version: None,
                    error: None,
                    denied: None,
                });
                daemons.len() - 1
            }
        };
        &mut daemons[index]
    }

    fn add_pool(&mut self, pending: PendingPool<'a>, counts: PoolCounts<'_>) {
        let expires = counts.exp.and_then(lines::expiry);
        if counts.exp.is_some() && expires.is_none() {
            self.diagnose(pending.line + 1, "expiration date not understood");
        }
        let header = pending.header;
        // Token-based pools: RLM's count is the number of token licenses, not of the product.
        let issued = if header.token_based {
            None
        } else {
            counts.count
        };
        let isv = self.isv;
        let feature = self.feature(isv, header.product);
        feature.pools.push(Pool {
            version: Some(header.version.to_string()),
            vendor: isv.map(str::to_string),
            expires,
            issued,
        });
        if let Some(issued) = issued {
            feature.issued = Some(feature.issued.unwrap_or(0).saturating_add(issued));
        }
        feature.in_use = feature.in_use.saturating_add(counts.in_use);
        feature.reserved = feature.reserved.saturating_add(counts.reservations);
    }

    fn feature(&mut self, isv: Option<&'a str>, product: &'a str) -> &mut Feature {
        let features = &mut self.report.features;
        let index = *self.feature_index.entry((isv, product)).or_insert_with(|| {
            let mut feature = Feature::named(product);
            feature.vendor = isv.map(str::to_string);
            features.push(feature);
            features.len() - 1
        });
        &mut features[index]
    }

    fn session(&mut self, usage: usage::UsageLine<'a>) {
        self.adopt_vendor_for_cut_output(usage.product);
        let mut session = Session::new(usage.product, usage.user, usage.host);
        session.count = usage.count;
        session.version = Some(usage.version.to_string());
        session.start = usage
            .start
            .and_then(|(mo, d, h, mi)| yearless::resolve_month_day_time(mo, d, h, mi, self.ctx));
        session.handle = usage.handle.map(str::to_string);
        session.borrowed = usage.borrowed;
        session.queued = usage.queued;
        self.report.sessions.push(session);
    }

    /// Output whose head was cut (the `exacorp` fixture) lists pools before any
    /// `license pool status` header. Those pools all belong to the one ISV whose header was cut,
    /// so when a usage section names the ISV of one of them, all of them take that ISV.
    fn adopt_vendor_for_cut_output(&mut self, product: &'a str) {
        let Some(isv) = self.isv else { return };
        if !self.feature_index.contains_key(&(None, product)) {
            return;
        }
        let headless: Vec<(&'a str, usize)> = self
            .feature_index
            .iter()
            .filter(|((vendor, _), _)| vendor.is_none())
            .map(|((_, name), index)| (*name, *index))
            .collect();
        for (name, index) in headless {
            if self.feature_index.contains_key(&(Some(isv), name)) {
                continue;
            }
            self.feature_index.remove(&(None, name));
            self.feature_index.insert((Some(isv), name), index);
            let feature = &mut self.report.features[index];
            feature.vendor = Some(isv.to_string());
            for pool in &mut feature.pools {
                pool.vendor = Some(isv.to_string());
            }
        }
    }

    fn diagnose(&mut self, line: usize, message: &str) {
        self.report.diagnostics.push(Diagnostic::new(line, message));
    }

    fn finish(mut self) -> StatusReport {
        if let Some(pending) = self.pending.take() {
            self.diagnose(pending.line, "pool header without a `count:` line");
        }
        self.report.diagnostics.sort_by_key(|d| d.line);
        self.report
    }
}
