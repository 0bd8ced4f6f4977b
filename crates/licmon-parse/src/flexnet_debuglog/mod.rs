//! FlexNet (FLEXlm) debug log: the `hh:mm:ss (daemon) message` log written by lmgrd and its
//! vendor daemons. Events: `OUT:`, `IN:` (with `(INACTIVE)` when the server timed it out),
//! `DENIED:`, `QUEUED:`, `DEQUEUED:`, `UNSUPPORTED:`; the lmgrd start-up banner gives
//! [`EventKind::Start`], lmgrd `EXITING ...` gives [`EventKind::Shutdown`].
//!
//! **Dates.** Lines carry only a time of day. The date comes from `TIMESTAMP m/d/yyyy` lines
//! (every few hours), the lmgrd banner `... started on HOST (IBM PC) (m/d/yyyy)`, `Server's
//! System Date and Time: Wed Mar 30 2016 ...` and the SLOG `Start-Date:` / `Time:` lines. It
//! rolls over to the next day when the time of day goes backwards by more than an hour.
//! Events before the first date are skipped with a diagnostic (holding them until a date
//! arrives would need unbounded memory; real logs start with the banner, which has the date).
//!
//! **Continuation lines.** A long event can wrap: the count or the reason lands on the next
//! line, either bare (`(3 licenses)`) or with the same `hh:mm:ss (daemon)` prefix again. So an
//! event is not emitted at once: it is kept as *pending* until the next line shows whether it
//! continues. A line continues the pending event when (a) its reason's parentheses are still
//! open, or (b) the line is made only of `(...)`/`[...]` groups that fill a gap of the event
//! (a count it did not have, a reason it did not have) and comes from the same daemon at the
//! same second (or has no prefix). At most [`MAX_CONTINUATIONS`] lines join one event. Any
//! other line emits the pending event first, so events keep their order. The pending event is
//! part of the checkpoint; [`DebugLogParser::finish`] emits it at the end of a file (an empty
//! line does too).

pub(crate) mod clock;
mod line;

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::{Diagnostic, EventKind, EventRef, EventSink, LogEvent, LogParser};
use clock::{LocalClock, parse_time_of_day};
use line::{Prefixed, apply_group, banner, event_keyword, license_count, paren_group, parse_body};

/// How many lines may continue one event; a bound on the lookahead state.
pub const MAX_CONTINUATIONS: u8 = 4;
/// A reason longer than this stops taking continuation lines.
const MAX_REASON_BYTES: usize = 1024;
const CHECKPOINT_VERSION: u64 = 1;

pub struct DebugLogParser {
    clock: LocalClock,
    /// The event waiting for its possible continuation lines (when `pending.active`). Kept
    /// between events so that its string buffers are reused rather than allocated per event.
    pending: Pending,
    /// The last daemon name seen and its [`daemon_key`]: a log comes from a handful of daemons,
    /// so a comparison usually replaces hashing the name on every line. Not part of the state.
    last_daemon: (String, u64),
}

/// An event waiting to see whether the next line continues it.
#[derive(Debug, Clone)]
struct Pending {
    /// There is a pending event; when false `event` is a finished event's leftovers.
    active: bool,
    event: LogEvent,
    /// The line gave a `(N licenses)`; a continuation cannot give another.
    count_given: bool,
    /// The reason's parentheses are still open (the reason is stored without its `(`).
    reason_open: bool,
    /// Which daemon wrote it, and when, to recognise a prefixed continuation.
    daemon_key: u64,
    time_of_day: NaiveTime,
    continuations: u8,
}

impl DebugLogParser {
    pub fn new(tz: Tz) -> Self {
        Self {
            clock: LocalClock::new(tz),
            pending: Pending::idle(),
            last_daemon: (String::new(), daemon_key("")),
        }
    }

    /// Emit the pending event, if any: call at the end of a complete file.
    pub fn finish(&mut self, events: &mut dyn EventSink) {
        if self.pending.active {
            self.pending.active = false;
            events.push_event(self.pending.event());
        }
    }

    fn prefixed_line(
        &mut self,
        n: usize,
        p: Prefixed<'_>,
        events: &mut dyn EventSink,
        diags: &mut Vec<Diagnostic>,
    ) {
        let local = self.clock.advance(p.time);
        let key = self.daemon_key(p.daemon);
        if self.continue_pending(Some((&p, key)), p.message) {
            return;
        }
        self.finish(events);
        if let Some((kind, body)) = event_keyword(p.message) {
            let Some(local) = local else {
                diags.push(Diagnostic::new(
                    n,
                    "no date known yet (no TIMESTAMP or start-up line before it): event skipped",
                ));
                return;
            };
            match parse_body(body) {
                Some(b) => {
                    let time = self.clock.local_to_utc(local);
                    self.pending.start(kind, time, &b, key, p.time);
                }
                None => diags.push(Diagnostic::new(
                    n,
                    format!("cannot read the {kind:?} event: {}", p.message.trim_end()),
                )),
            }
            return;
        }
        self.informational(p, events);
    }

    /// Date lines, the lmgrd banner (Start) and lmgrd exit (Shutdown); everything else in a
    /// debug log (banners, SLOG blocks, feature lists, RESERVING, ...) is silently ignored.
    fn informational(&mut self, p: Prefixed<'_>, events: &mut dyn EventSink) {
        if let Some(date) = line::message_date(p.message) {
            self.clock.set_date(date, p.time);
        }
        if p.daemon != "lmgrd" {
            return;
        }
        let (kind, host) = if let Some((host, _)) = banner(p.message) {
            (EventKind::Start, host)
        } else if p.message.starts_with("EXITING") {
            (EventKind::Shutdown, "")
        } else {
            return;
        };
        if let Some(date) = self.clock.date() {
            let time = self.clock.local_to_utc(date.and_time(p.time));
            events.push_event(EventRef {
                kind,
                time,
                feature: "",
                user: "",
                host,
                count: 0,
                reason: None,
            });
        }
    }

    fn bare_line(
        &mut self,
        n: usize,
        line: &str,
        events: &mut dyn EventSink,
        diags: &mut Vec<Diagnostic>,
    ) {
        if self.continue_pending(None, line) {
            return;
        }
        self.finish(events);
        let looks_like_event = line.contains('@')
            && [
                " OUT: ",
                " IN: ",
                " DENIED: ",
                " QUEUED: ",
                " DEQUEUED: ",
                " UNSUPPORTED: ",
            ]
            .iter()
            .any(|k| line.contains(k));
        if looks_like_event {
            diags.push(Diagnostic::new(
                n,
                "event line without a readable `hh:mm:ss (daemon)` prefix: skipped",
            ));
        }
    }

    /// Try to join `text` to the pending event. `prefix` is None for a line without prefix.
    fn continue_pending(&mut self, prefix: Option<(&Prefixed<'_>, u64)>, text: &str) -> bool {
        let p = &mut self.pending;
        if !p.active {
            return false;
        }
        if let Some((pre, key)) = prefix
            && (pre.time != p.time_of_day || key != p.daemon_key)
        {
            return false;
        }
        if p.continuations >= MAX_CONTINUATIONS {
            return false;
        }
        // Most lines that get here are the next event of the same daemon in the same second:
        // refuse those before trimming the whole line.
        if !p.reason_open && !line::trim_start(text).starts_with('(') {
            return false;
        }
        let text = text.trim();
        let joined = if p.reason_open {
            p.extend_open_reason(text)
        } else {
            p.fill_gaps(text)
        };
        if joined {
            p.continuations += 1;
        }
        joined
    }

    fn state(&self) -> Value {
        json!({
            "v": CHECKPOINT_VERSION,
            "clock": self.clock.to_json(),
            "pending": self.pending.active.then(|| self.pending.to_json()),
        })
    }
}

impl Pending {
    fn idle() -> Self {
        Self {
            active: false,
            event: LogEvent {
                kind: EventKind::Out,
                time: DateTime::<Utc>::UNIX_EPOCH,
                feature: String::new(),
                user: String::new(),
                host: String::new(),
                count: 0,
                reason: None,
            },
            count_given: false,
            reason_open: false,
            daemon_key: 0,
            time_of_day: NaiveTime::MIN,
            continuations: 0,
        }
    }

    /// Make the event of a line pending (the previous one was emitted), reusing the buffers.
    fn start(
        &mut self,
        kind: EventKind,
        time: DateTime<Utc>,
        b: &line::Body<'_>,
        daemon_key: u64,
        time_of_day: NaiveTime,
    ) {
        let e = &mut self.event;
        set(&mut e.feature, b.feature);
        set(&mut e.user, b.user);
        set(&mut e.host, b.host);
        e.reason = b.reason.map(str::to_owned);
        e.kind = kind;
        e.time = time;
        e.count = b.count.unwrap_or(1);
        self.active = true;
        self.count_given = b.count.is_some();
        self.reason_open = b.reason_open;
        self.daemon_key = daemon_key;
        self.time_of_day = time_of_day;
        self.continuations = 0;
    }

    /// The event as it is emitted: a reason still open at that point loses its trailing
    /// whitespace.
    fn event(&self) -> EventRef<'_> {
        let mut e = self.event.as_ref();
        if self.reason_open {
            e.reason = e.reason.map(str::trim_end);
        }
        e
    }

    fn extend_open_reason(&mut self, text: &str) -> bool {
        if text.is_empty() {
            return false;
        }
        let reason = self.event.reason.get_or_insert_with(String::new);
        if !reason.is_empty() && !reason.ends_with(' ') {
            reason.push(' ');
        }
        reason.push_str(text);
        let wrapped = format!("({reason}");
        let (group, closed, _) = paren_group(&wrapped);
        if closed {
            set(reason, group.trim());
            self.reason_open = false;
        } else if reason.len() > MAX_REASON_BYTES {
            self.reason_open = false;
        }
        true
    }

    /// A line of only `(...)` / `[...]` groups that give what the event lacks.
    fn fill_gaps(&mut self, text: &str) -> bool {
        if !text.starts_with('(') || text.starts_with("(@") {
            return false;
        }
        let (group, closed, rest) = paren_group(text);
        let rest = rest.trim();
        let is_count = closed && license_count(group).is_some();
        let fits = if is_count {
            !self.count_given
        } else {
            self.event.reason.is_none()
        };
        if !fits || !(rest.is_empty() || rest.starts_with('(') || rest.starts_with('[')) {
            return false;
        }
        let mut body = line::Body {
            feature: "",
            user: "",
            host: "",
            count: None,
            reason: None,
            reason_open: false,
        };
        apply_group(group, closed, &mut body);
        self.absorb(&body);
        if closed && !rest.is_empty() && rest.starts_with('(') {
            // A second group on the same line (`(3 licenses) (INACTIVE)`), best effort.
            let (g2, c2, _) = paren_group(rest);
            let mut b2 = line::Body {
                feature: "",
                user: "",
                host: "",
                count: None,
                reason: None,
                reason_open: false,
            };
            apply_group(g2, c2, &mut b2);
            self.absorb(&b2);
        }
        true
    }

    fn absorb(&mut self, body: &line::Body<'_>) {
        if let (Some(n), false) = (body.count, self.count_given) {
            self.event.count = n;
            self.count_given = true;
        } else if let (Some(r), None) = (body.reason, &self.event.reason) {
            self.event.reason = Some(r.to_owned());
            self.reason_open = body.reason_open;
        }
    }

    fn to_json(&self) -> Value {
        let e = &self.event;
        json!({
            "kind": kind_name(e.kind), "time": e.time.to_rfc3339(), "feature": e.feature,
            "user": e.user, "host": e.host, "count": e.count, "reason": e.reason,
            "count_given": self.count_given, "reason_open": self.reason_open,
            "daemon_key": self.daemon_key, "time_of_day": self.time_of_day.format("%H:%M:%S").to_string(),
            "continuations": self.continuations,
        })
    }

    fn from_json(v: &Value) -> Option<Self> {
        let s = |k: &str| v.get(k).and_then(Value::as_str);
        let event = LogEvent {
            kind: kind_from_name(s("kind")?)?,
            time: DateTime::parse_from_rfc3339(s("time")?)
                .ok()?
                .with_timezone(&Utc),
            feature: s("feature")?.to_owned(),
            user: s("user")?.to_owned(),
            host: s("host")?.to_owned(),
            count: v.get("count")?.as_u64()?,
            reason: match v.get("reason")? {
                Value::Null => None,
                r => Some(r.as_str()?.to_owned()),
            },
        };
        Some(Self {
            active: true,
            event,
            count_given: v.get("count_given")?.as_bool()?,
            reason_open: v.get("reason_open")?.as_bool()?,
            daemon_key: v.get("daemon_key")?.as_u64()?,
            time_of_day: parse_time_of_day(s("time_of_day")?)?,
            continuations: u8::try_from(v.get("continuations")?.as_u64()?).ok()?,
        })
    }
}

impl LogParser for DebugLogParser {
    fn finish(&mut self, events: &mut dyn EventSink, _diagnostics: &mut Vec<Diagnostic>) {
        DebugLogParser::finish(self, events);
    }

    fn push_line(
        &mut self,
        line_no: usize,
        line: &str,
        events: &mut dyn EventSink,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        match line::split_prefix(line) {
            Some(p) => self.prefixed_line(line_no, p, events, diagnostics),
            None => self.bare_line(line_no, line, events, diagnostics),
        }
    }

    fn checkpoint(&self) -> Value {
        self.state()
    }

    fn restore(&mut self, state: &Value) -> bool {
        let restored = (|| {
            if state.get("v")?.as_u64()? != CHECKPOINT_VERSION {
                return None;
            }
            let clock = LocalClock::from_json(self.clock_tz(), state.get("clock")?)?;
            let pending = match state.get("pending")? {
                Value::Null => Pending::idle(),
                p => Pending::from_json(p)?,
            };
            Some((clock, pending))
        })();
        match restored {
            Some((clock, pending)) => {
                self.clock = clock;
                self.pending = pending;
                true
            }
            None => {
                *self = Self::new(self.clock_tz());
                false
            }
        }
    }
}

impl DebugLogParser {
    fn clock_tz(&self) -> Tz {
        self.clock.tz()
    }

    fn daemon_key(&mut self, daemon: &str) -> u64 {
        let (name, key) = &mut self.last_daemon;
        if name != daemon {
            name.clear();
            name.push_str(daemon);
            *key = daemon_key(daemon);
        }
        *key
    }
}

/// Replace the text of a buffer kept for reuse.
fn set(buffer: &mut String, text: &str) {
    buffer.clear();
    buffer.push_str(text);
}

/// FNV-1a: a stable key for the daemon name, so the pending event does not own a copy of it.
fn daemon_key(daemon: &str) -> u64 {
    daemon.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(crate) fn kind_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Out => "out",
        EventKind::In => "in",
        EventKind::Denied => "denied",
        EventKind::Queued => "queued",
        EventKind::Dequeued => "dequeued",
        EventKind::Unsupported => "unsupported",
        EventKind::Start => "start",
        EventKind::Shutdown => "shutdown",
    }
}

pub(crate) fn kind_from_name(name: &str) -> Option<EventKind> {
    Some(match name {
        "out" => EventKind::Out,
        "in" => EventKind::In,
        "denied" => EventKind::Denied,
        "queued" => EventKind::Queued,
        "dequeued" => EventKind::Dequeued,
        "unsupported" => EventKind::Unsupported,
        "start" => EventKind::Start,
        "shutdown" => EventKind::Shutdown,
        _ => return None,
    })
}
