//! FlexNet `lmutil lmstat -a` and `lmutil lmstat -i`.
//!
//! A tolerant line classifier: each line is recognised by its own content (indentation and blank
//! lines vary between lmutil versions and get lost in copies), a little state says which
//! feature a user line belongs to, and a line that is not understood becomes a [`Diagnostic`]
//! while the parse goes on. Nothing here indexes out of bounds or unwraps input-derived data.
//!
//! Code map: [`servers`] (nodes and vendor daemons), [`feature`] (`Users of`, pool headers,
//! reservations, expiry dates), [`session`] and [`identity`] (user lines), [`info`] (`lmstat -i`).

mod feature;
mod identity;
mod info;
mod servers;
mod session;
mod text;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, Duration, Utc};

use crate::yearless::resolve_month_day_time;
use crate::{Diagnostic, Feature, ParseContext, Session, StatusReport, VendorDaemon};
use feature::FeatureAcc;
use session::{Checkout, Marker, StartTime};

/// Parses the output of `lmutil lmstat -a [-c spec]`.
pub fn parse_lmstat(text: &str, ctx: &ParseContext) -> StatusReport {
    let mut parser = LmstatParser::new(ctx, session_capacity(text));
    for (line_no, line) in text::numbered_lines(text) {
        let t = text::trim(line);
        if !t.is_empty() {
            parser.line(line_no, t);
        }
    }
    parser.finish()
}

/// Room for the sessions of `text`, reserved at the first one. Growing the vector of a big output
/// (20,000 sessions of ~200 bytes) by doubling copied it several times into fresh pages, and
/// the page faults and copies were a third of the parse. One session per line is an upper
/// bound, capped by the shortest line that can make a session (`a b (v) () queued for `), so
/// that a text of blank lines reserves little: the reservation never exceeds what the
/// worst-case text of that size needs. [`LmstatParser::finish`] gives back a surplus.
fn session_capacity(text: &str) -> usize {
    const SHORTEST_USER_LINE: usize = "a b (v) () queued for \n".len();
    let lines = text::count_newlines(text) + 1;
    lines.min(text.len() / SHORTEST_USER_LINE)
}

/// Parses the output of `lmutil lmstat -i [-c spec]`: the license file's INCREMENT lines.
pub fn parse_lmstat_i(text: &str, ctx: &ParseContext) -> StatusReport {
    info::parse(text, ctx)
}

/// Which part of the output the last heading opened. Only lines of the form `name: text` need
/// it: they are server nodes before `Vendor daemon status` and vendor daemons after.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Servers,
    Daemons,
    Features,
}

/// (month, day, hour) -> minute 0 of a uniform hour; see `LmstatParser::start_hours`.
type HourCache = HashMap<(u32, u32, u32), Option<DateTime<Utc>>, BuildHasherDefault<FxHasher>>;

struct LmstatParser<'c> {
    ctx: &'c ParseContext,
    section: Section,
    nodes: servers::Nodes,
    daemons: Vec<VendorDaemon>,
    current: Option<FeatureAcc>,
    features: Vec<Feature>,
    sessions: Vec<Session>,
    /// What to reserve for `sessions` when the first one comes (see [`session_capacity`]); an
    /// output without users, such as a server that is down, allocates nothing.
    session_room: usize,
    diagnostics: Vec<Diagnostic>,
    /// Resolved start hours, keyed by (month, day, hour): the instant of minute 0 when every
    /// minute of that hour resolves to it plus the minutes, `None` when not (a DST change or
    /// the poll falls inside the hour, or the date is impossible). A big output has many
    /// checkouts but few distinct hours, and time-zone arithmetic is the costly part.
    start_hours: HourCache,
    /// Scratch space for the words of a user line.
    words: Vec<(usize, usize)>,
}

impl<'c> LmstatParser<'c> {
    fn new(ctx: &'c ParseContext, session_room: usize) -> Self {
        Self {
            ctx,
            section: Section::Servers,
            nodes: servers::Nodes::default(),
            daemons: Vec::new(),
            current: None,
            features: Vec::new(),
            sessions: Vec::new(),
            session_room,
            diagnostics: Vec::new(),
            start_hours: HashMap::default(),
            words: Vec::new(),
        }
    }

    /// One non-blank line, trimmed.
    fn line(&mut self, line_no: usize, t: &str) {
        // Most lines of a big output are user lines: the cheap test for them comes first.
        let marker = match self.section {
            Section::Features => session::find_marker(t),
            _ => None,
        };
        if let Some(marker) = marker {
            self.user_line(line_no, t, marker);
        } else if let Some(rest) = t.strip_prefix("Users of ") {
            self.users_of(line_no, rest);
        } else if let Some(specs) = t.strip_prefix("License server status:") {
            self.nodes.add_specs(specs);
            self.section = Section::Servers;
        } else if t.starts_with("License file(s) on") || t.starts_with("License file on") {
            // Where the license files are: nothing to keep.
        } else if t.starts_with("Vendor daemon status") {
            self.section = Section::Daemons;
        } else if t.starts_with("Feature usage info") {
            self.section = Section::Features;
        } else if let Some(message) = t.strip_prefix("Error getting status:") {
            self.nodes.whole_server_error(message.trim());
        } else if t.starts_with("lmgrd is not running") {
            self.nodes.whole_server_error(t);
        } else if text::is_banner(t) {
            // Copyright, version and "status on" banners.
        } else {
            self.section_line(line_no, t);
        }
    }

    fn section_line(&mut self, line_no: usize, t: &str) {
        match self.section {
            Section::Servers if self.nodes.node_line(t) => {}
            Section::Daemons => match servers::parse_daemon_line(t) {
                Some(daemon) => self.daemons.push(daemon),
                None => self.feature_body(line_no, t),
            },
            _ => self.feature_body(line_no, t),
        }
    }

    fn users_of(&mut self, line_no: usize, rest: &str) {
        self.section = Section::Features;
        self.close_feature();
        let acc = match feature::parse_users_of(rest) {
            Ok((name, totals)) => FeatureAcc::new(name, Some(totals)),
            Err(name) => {
                self.diagnose(line_no, "`Users of` line without a known license count");
                FeatureAcc::new(name, None)
            }
        };
        self.current = Some(acc);
    }

    /// A line under a `Users of` line: pool header, reservation, license kind, or a user.
    fn feature_body(&mut self, line_no: usize, t: &str) {
        if feature::is_license_kind(t) {
            return;
        }
        let is_pool = t.starts_with('"');
        let reservation = feature::parse_reservation(t);
        let user_marker = session::find_marker(t); // before "Feature usage info"
        if !(is_pool || reservation.is_some() || user_marker.is_some()) {
            self.diagnose(line_no, "unrecognized line");
            return;
        }
        let Some(acc) = self.current.as_mut() else {
            self.diagnose(line_no, "feature detail before any `Users of` line");
            return;
        };
        if let Some(n) = reservation {
            acc.feature.reserved = acc.feature.reserved.saturating_add(n);
        } else if is_pool {
            // The header's name is not checked against `Users of`: the pool can only belong to
            // the feature being listed (copies of real outputs show mismatched names).
            match feature::parse_pool_header(t) {
                Some((_name, pool, bad_expiry)) => {
                    acc.feature.pools.push(pool);
                    if bad_expiry.is_some() {
                        self.diagnose(line_no, "unrecognized expiry date");
                    }
                }
                None => self.diagnose(line_no, "feature header without closing quote"),
            }
        } else if let Some(marker) = user_marker {
            self.user_line(line_no, t, marker);
        }
    }

    fn user_line(&mut self, line_no: usize, t: &str, marker: Marker) {
        if self.current.is_none() {
            self.diagnose(line_no, "feature detail before any `Users of` line");
            return;
        }
        let mut words = std::mem::take(&mut self.words);
        match session::parse_checkout(t, marker, &mut words) {
            Ok(checkout) => {
                let unknown_suffix = checkout.unknown_suffix.is_some();
                self.add_session(checkout);
                if unknown_suffix {
                    self.diagnose(line_no, "unrecognized text at the end of a user line");
                }
            }
            Err(why) => self.diagnose(line_no, format!("unreadable user line: {why}")),
        }
        self.words = words;
    }

    fn add_session(&mut self, c: Checkout<'_>) {
        let start = c.start.and_then(|s| self.resolve(s));
        let borrowed = c.linger_seconds.is_some();
        let expires = match (start, c.linger_seconds) {
            (Some(start), Some(secs)) => i64::try_from(secs)
                .ok()
                .and_then(Duration::try_seconds)
                .and_then(|d| start.checked_add_signed(d)),
            _ => None,
        };
        let Some(acc) = self.current.as_mut() else {
            return;
        };
        let f = &mut acc.feature;
        if c.queued {
            f.queued = f.queued.saturating_add(c.count);
        } else {
            acc.listed_in_use = acc.listed_in_use.saturating_add(c.count);
            if borrowed {
                f.borrowed = f.borrowed.saturating_add(c.count);
            }
        }
        let mut session = Session::new(f.name.clone(), c.identity.user, c.identity.host);
        session.display = c.identity.display.map(str::to_owned);
        session.count = c.count;
        session.version = (!c.version.is_empty()).then(|| c.version.to_owned());
        session.start = start;
        session.borrowed = borrowed;
        session.queued = c.queued;
        session.expires = expires;
        session.handle = c.handle.map(str::to_owned);
        if self.sessions.capacity() == 0 {
            self.sessions.reserve(self.session_room);
        }
        self.sessions.push(session);
    }

    fn resolve(&mut self, s: StartTime) -> Option<DateTime<Utc>> {
        let ctx = self.ctx;
        let resolve = |minute| resolve_month_day_time(s.month, s.day, s.hour, minute, ctx);
        let uniform_hour = *self
            .start_hours
            .entry((s.month, s.day, s.hour))
            .or_insert_with(|| {
                // If minutes 0 and 59 are 59 minutes apart, no offset change or "not after now"
                // cut-off lies between them, so every minute in between is minute 0 plus minutes.
                let (first, last) = (resolve(0)?, resolve(59)?);
                (last - first == Duration::minutes(59)).then_some(first)
            });
        match uniform_hour {
            Some(base) if s.minute <= 59 => {
                base.checked_add_signed(Duration::minutes(i64::from(s.minute)))
            }
            _ => resolve(s.minute),
        }
    }

    fn close_feature(&mut self) {
        if let Some(acc) = self.current.take() {
            self.features.push(acc.finish());
        }
    }

    fn diagnose(&mut self, line: usize, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::new(line, message));
    }

    fn finish(mut self) -> StatusReport {
        self.close_feature();
        let mut report = StatusReport::empty("flexnet-lmstat");
        report.servers = self.nodes.finish();
        report.vendor_daemons = self.daemons;
        report.features = self.features;
        // Keep at most twice what is used, as a vector grown by doubling would. Trimming every
        // surplus would cost a reallocation, and a reservation that is the same size from one
        // poll to the next lets the allocator hand the same, already mapped, pages back.
        if self.sessions.capacity() / 2 > self.sessions.len() {
            self.sessions.shrink_to_fit();
        }
        report.sessions = self.sessions;
        report.diagnostics = self.diagnostics;
        report
    }
}

/// A multiply-rotate hasher (FxHash) for the start-time cache. Its keys are four numbers from
/// the output of the license server being polled, not from an adversary, so SipHash's
/// protection against chosen keys is not worth its cost on every user line.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
