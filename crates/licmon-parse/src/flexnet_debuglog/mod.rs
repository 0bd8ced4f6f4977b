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
mod pending;

use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::{Diagnostic, EventKind, EventRef, EventSink, LogParser};
use clock::LocalClock;
use line::{Prefixed, banner, event_keyword, parse_body};
use pending::Pending;

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
            events.push_spanned(self.pending.event());
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
                    self.pending.start(kind, time, body, &b, key, p.time);
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
