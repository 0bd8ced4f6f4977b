//! The typed values every status parser returns. The JSON shape of these types is the output of
//! `licmon parse` and is part of licmon's interface: change it only by adding fields.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Serialize, Serializer};

/// What a parser needs to know besides the text: the license server's clock, for year-less
/// timestamps such as `start Fri 7/12 8:42`, and the instant of the poll they are relative to.
#[derive(Debug, Clone, Copy)]
pub struct ParseContext {
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

impl ParseContext {
    pub fn new(now: DateTime<Utc>, tz: Tz) -> Self {
        Self { now, tz }
    }
}

/// One thing the parser did not understand or found suspicious, with its 1-based line number.
/// Diagnostics never stop a parse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub line: usize,
    pub message: String,
}

impl Diagnostic {
    pub fn new(line: usize, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UpDown {
    Up,
    Down,
}

/// A license server node (one host of a triad, the RLM `rlm` server, an LM-X server, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerNode {
    pub host: String,
    pub port: Option<u16>,
    pub status: UpDown,
    pub master: bool,
    pub version: Option<String>,
    /// The utility's own words when the node is down (`Cannot connect to license server ...`).
    pub error: Option<String>,
}

/// A vendor daemon (FlexNet) or ISV server (RLM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VendorDaemon {
    pub name: String,
    pub status: UpDown,
    pub version: Option<String>,
    pub error: Option<String>,
}

/// When a pool of licenses expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Permanent,
    On(NaiveDate),
}

impl Serialize for Expiry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Expiry::Permanent => s.serialize_str("permanent"),
            Expiry::On(d) => s.serialize_str(&d.format("%Y-%m-%d").to_string()),
        }
    }
}

/// One version pool of a feature (a FlexNet INCREMENT line, an RLM pool, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pool {
    pub version: Option<String>,
    pub vendor: Option<String>,
    pub expires: Option<Expiry>,
    pub issued: Option<u64>,
}

/// A feature as the utility totals it (FlexNet: one per `Users of` line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feature {
    pub name: String,
    pub vendor: Option<String>,
    /// `None` where the output gives no count (token-based, uncounted).
    pub issued: Option<u64>,
    pub in_use: u64,
    pub reserved: u64,
    pub borrowed: u64,
    pub queued: u64,
    pub uncounted: bool,
    pub pools: Vec<Pool>,
    /// Requests refused since the utility last reset its counters, where the output says
    /// (custom XML `denied`); 0 otherwise.
    pub denied: u64,
}

impl Feature {
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            vendor: None,
            issued: None,
            in_use: 0,
            reserved: 0,
            borrowed: 0,
            queued: 0,
            uncounted: false,
            pools: Vec::new(),
            denied: 0,
        }
    }
}

/// One checkout (or queued request) seen in a status output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    pub feature: String,
    pub user: String,
    pub host: String,
    pub display: Option<String>,
    pub count: u64,
    pub version: Option<String>,
    /// Checkout time resolved to UTC with the [`ParseContext`].
    pub start: Option<DateTime<Utc>>,
    pub borrowed: bool,
    /// A queued request, not a checkout.
    pub queued: bool,
    /// Borrow or linger expiry where the output gives one.
    pub expires: Option<DateTime<Utc>>,
    /// The utility's handle for the checkout (FlexNet `(host/port handle)`, RLM `handle: 15a`).
    pub handle: Option<String>,
    pub ip: Option<String>,
}

impl Session {
    pub fn new(
        feature: impl Into<String>,
        user: impl Into<String>,
        host: impl Into<String>,
    ) -> Self {
        Self {
            feature: feature.into(),
            user: user.into(),
            host: host.into(),
            display: None,
            count: 1,
            version: None,
            start: None,
            borrowed: false,
            queued: false,
            expires: None,
            handle: None,
            ip: None,
        }
    }
}

/// Everything one status output says about a license server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    pub format: &'static str,
    pub servers: Vec<ServerNode>,
    pub vendor_daemons: Vec<VendorDaemon>,
    pub features: Vec<Feature>,
    pub sessions: Vec<Session>,
    pub diagnostics: Vec<Diagnostic>,
}

impl StatusReport {
    pub fn empty(format: &'static str) -> Self {
        Self {
            format,
            servers: Vec::new(),
            vendor_daemons: Vec::new(),
            features: Vec::new(),
            sessions: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    /// True when the output says the license server (every node of it) could not be reached.
    pub fn server_down(&self) -> bool {
        !self.servers.is_empty() && self.servers.iter().all(|s| s.status == UpDown::Down)
    }

    /// The utility's message for a down server, for the Offline reason.
    pub fn down_reason(&self) -> Option<&str> {
        self.servers.iter().find_map(|s| s.error.as_deref())
    }
}

/// The kind of a license event in a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Out,
    In,
    Denied,
    Queued,
    Dequeued,
    Unsupported,
    /// The license server (re)started: sessions open before it are closed.
    Start,
    /// The license server shut down.
    Shutdown,
}

/// One event of a license server log, in UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEvent {
    pub kind: EventKind,
    pub time: DateTime<Utc>,
    pub feature: String,
    pub user: String,
    pub host: String,
    pub count: u64,
    pub reason: Option<String>,
}

impl LogEvent {
    pub fn as_ref(&self) -> EventRef<'_> {
        EventRef {
            kind: self.kind,
            time: self.time,
            feature: &self.feature,
            user: &self.user,
            host: &self.host,
            count: self.count,
            reason: self.reason.as_deref(),
        }
    }
}

/// A [`LogEvent`] whose text is borrowed (from the parsed line, a parser's buffer or an
/// [`EventBatch`]); it serialises the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EventRef<'a> {
    pub kind: EventKind,
    pub time: DateTime<Utc>,
    pub feature: &'a str,
    pub user: &'a str,
    pub host: &'a str,
    pub count: u64,
    pub reason: Option<&'a str>,
}

impl EventRef<'_> {
    pub fn to_owned(&self) -> LogEvent {
        LogEvent {
            kind: self.kind,
            time: self.time,
            feature: self.feature.to_owned(),
            user: self.user.to_owned(),
            host: self.host.to_owned(),
            count: self.count,
            reason: self.reason.map(str::to_owned),
        }
    }
}

/// Where a [`crate::LogParser`] puts the events it reads: a `Vec<LogEvent>` (each event owns its
/// strings) or an [`EventBatch`] (one text buffer for many events).
pub trait EventSink {
    fn push_event(&mut self, event: EventRef<'_>);
}

impl EventSink for Vec<LogEvent> {
    fn push_event(&mut self, event: EventRef<'_>) {
        self.push(event.to_owned());
    }
}

/// Events that share one text buffer: pushing an event copies its strings to the end of the
/// buffer, so a batch of many events costs two growing allocations instead of three or four
/// per event, and [`EventBatch::clear`] keeps both for the next batch. `Send`, so a batch can be
/// parsed on one thread and consumed on another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventBatch {
    text: String,
    events: Vec<Slot>,
}

/// One event of a batch: its strings are consecutive in the batch's text, `start..feature`,
/// `feature..user`, `user..host`, `host..reason` (byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    kind: EventKind,
    has_reason: bool,
    time: DateTime<Utc>,
    count: u64,
    start: usize,
    feature: usize,
    user: usize,
    host: usize,
    reason: usize,
}

impl EventBatch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `events` events with `text_bytes` bytes of strings in all.
    pub fn with_capacity(events: usize, text_bytes: usize) -> Self {
        Self {
            text: String::with_capacity(text_bytes),
            events: Vec::with_capacity(events),
        }
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Events' capacity (to size the next batch like this one).
    pub fn capacity(&self) -> usize {
        self.events.capacity()
    }

    /// Bytes of text the events hold.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Empty the batch and keep its memory.
    pub fn clear(&mut self) {
        self.text.clear();
        self.events.clear();
    }

    pub fn push(&mut self, e: EventRef<'_>) {
        let start = self.text.len();
        self.text.push_str(e.feature);
        let feature = self.text.len();
        self.text.push_str(e.user);
        let user = self.text.len();
        self.text.push_str(e.host);
        let host = self.text.len();
        self.text.push_str(e.reason.unwrap_or(""));
        self.events.push(Slot {
            kind: e.kind,
            has_reason: e.reason.is_some(),
            time: e.time,
            count: e.count,
            start,
            feature,
            user,
            host,
            reason: self.text.len(),
        });
    }

    pub fn get(&self, i: usize) -> Option<EventRef<'_>> {
        self.events.get(i).map(|s| self.view(s))
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = EventRef<'_>> + '_ {
        self.events.iter().map(|s| self.view(s))
    }

    /// Every event as an owned [`LogEvent`].
    pub fn to_vec(&self) -> Vec<LogEvent> {
        self.iter().map(|e| e.to_owned()).collect()
    }

    fn view(&self, s: &Slot) -> EventRef<'_> {
        // The offsets were taken between `push_str` calls, so they are in bounds and on char
        // boundaries; `get` keeps that a checked fact rather than an assumption.
        let text = |a: usize, b: usize| self.text.get(a..b).unwrap_or("");
        EventRef {
            kind: s.kind,
            time: s.time,
            feature: text(s.start, s.feature),
            user: text(s.feature, s.user),
            host: text(s.user, s.host),
            count: s.count,
            reason: s.has_reason.then(|| text(s.host, s.reason)),
        }
    }
}

impl EventSink for EventBatch {
    fn push_event(&mut self, event: EventRef<'_>) {
        self.push(event);
    }
}
