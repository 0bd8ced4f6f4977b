//! The typed values every status parser returns. The JSON shape of these types is the output of
//! `licmon parse` and is part of licmon's interface: change it only by adding fields.

use std::ops::Range;

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
    /// Requests it refused since it started, over all its features, where the output counts
    /// them per daemon only (RLM's ISV `Denials:` total).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denied: Option<u64>,
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
    /// Requests refused since the server last reset its counter (usually its start), where
    /// the output has such a counter (LM-X `DENIED_LICENSES`, custom XML `denied`); `None`
    /// where it has none — not the same as 0, which is a counter at zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denied: Option<u64>,
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
            denied: None,
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

/// An event whose strings are ranges of one text (e.g. a parser's copy of the part of the line
/// they came from), so that an [`EventBatch`] copies them in one piece. Keep `text` short: all
/// of it is copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpannedEvent<'a> {
    pub kind: EventKind,
    pub time: DateTime<Utc>,
    pub count: u64,
    pub text: &'a str,
    pub feature: Range<usize>,
    pub user: Range<usize>,
    pub host: Range<usize>,
    pub reason: Option<Range<usize>>,
}

impl<'a> SpannedEvent<'a> {
    /// The event with its strings; a range that is not one of `text` reads as empty.
    pub fn as_ref(&self) -> EventRef<'a> {
        let all: &'a str = self.text;
        let text = |r: &Range<usize>| all.get(r.clone()).unwrap_or("");
        EventRef {
            kind: self.kind,
            time: self.time,
            feature: text(&self.feature),
            user: text(&self.user),
            host: text(&self.host),
            count: self.count,
            reason: self.reason.as_ref().map(text),
        }
    }
}

/// Where a [`crate::LogParser`] puts the events it reads: a `Vec<LogEvent>` (each event owns its
/// strings) or an [`EventBatch`] (one text buffer for many events).
pub trait EventSink {
    fn push_event(&mut self, event: EventRef<'_>);

    fn push_spanned(&mut self, event: SpannedEvent<'_>) {
        self.push_event(event.as_ref());
    }
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

/// One event of a batch: where its strings are in the batch's text (byte ranges).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    kind: EventKind,
    time: DateTime<Utc>,
    count: u64,
    feature: Range<usize>,
    user: Range<usize>,
    host: Range<usize>,
    reason: Option<Range<usize>>,
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
        let mut add = |s: &str| {
            let start = self.text.len();
            self.text.push_str(s);
            start..self.text.len()
        };
        let (feature, user, host) = (add(e.feature), add(e.user), add(e.host));
        let reason = e.reason.map(add);
        self.events.push(Slot {
            kind: e.kind,
            time: e.time,
            count: e.count,
            feature,
            user,
            host,
            reason,
        });
    }

    /// Copies `e.text` whole, in one piece.
    pub fn push_spanned(&mut self, e: SpannedEvent<'_>) {
        let base = self.text.len();
        self.text.push_str(e.text);
        let at = |r: Range<usize>| base + r.start..base + r.end;
        self.events.push(Slot {
            kind: e.kind,
            time: e.time,
            count: e.count,
            feature: at(e.feature),
            user: at(e.user),
            host: at(e.host),
            reason: e.reason.map(at),
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
        // The ranges were taken from `str`s copied whole, so they are in bounds and on char
        // boundaries; `as_ref` keeps that a checked fact rather than an assumption.
        SpannedEvent {
            kind: s.kind,
            time: s.time,
            count: s.count,
            text: &self.text,
            feature: s.feature.clone(),
            user: s.user.clone(),
            host: s.host.clone(),
            reason: s.reason.clone(),
        }
        .as_ref()
    }
}

impl EventSink for EventBatch {
    fn push_event(&mut self, event: EventRef<'_>) {
        self.push(event);
    }

    fn push_spanned(&mut self, event: SpannedEvent<'_>) {
        EventBatch::push_spanned(self, event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event(feature: &str, user: &str, reason: Option<&str>) -> LogEvent {
        LogEvent {
            kind: EventKind::Denied,
            time: Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap(),
            feature: feature.into(),
            user: user.into(),
            host: "héte".into(),
            count: 2,
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn a_batch_gives_back_what_was_pushed() {
        let events = [
            event("f1", "José Luis", Some("no licenses (-4,342)")),
            event("", "", None),
            event("f3", "u", Some("")),
        ];
        let mut batch = EventBatch::with_capacity(1, 4);
        for e in &events {
            batch.push(e.as_ref());
        }
        // The same events as ranges of one text, with bytes around them that are not copied
        // into any string.
        let text = "<f2>Pablo@pc (reason)";
        batch.push_spanned(SpannedEvent {
            kind: EventKind::Out,
            time: events[0].time,
            count: 1,
            text,
            feature: 1..3,
            user: 4..9,
            host: 10..12,
            reason: Some(14..20),
        });
        assert_eq!(batch.len(), 4);
        assert_eq!(&batch.to_vec()[..3], &events[..]);
        let last = batch.get(3).unwrap();
        assert_eq!(
            (last.feature, last.user, last.host, last.reason),
            ("f2", "Pablo", "pc", Some("reason"))
        );
        assert_eq!(batch.get(4), None);
        assert_eq!(
            serde_json::to_value(batch.get(0).unwrap()).unwrap(),
            serde_json::to_value(&events[0]).unwrap()
        );
        batch.clear();
        assert!(batch.is_empty() && batch.text_len() == 0);
        assert!(batch.capacity() >= 4);
    }

    #[test]
    fn a_vec_sink_owns_spanned_events() {
        let mut events: Vec<LogEvent> = Vec::new();
        events.push_spanned(SpannedEvent {
            kind: EventKind::In,
            time: Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap(),
            count: 1,
            text: "fuh",
            feature: 0..1,
            user: 1..2,
            host: 2..9, // not a range of the text: empty, no panic
            reason: None,
        });
        assert_eq!(
            (
                events[0].feature.as_str(),
                events[0].user.as_str(),
                events[0].host.as_str()
            ),
            ("f", "u", "")
        );
    }
}
