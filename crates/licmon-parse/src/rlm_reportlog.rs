//! RLM (Reprise) report log, all three formats (`std`, `small`, `detailed`), as laid out in the
//! "Reportlog File Format" section of the RLM License Administration manual. No genuine sample
//! is public; the fixtures in `tests/fixtures/rlm-reportlog-*.log` follow that layout.
//!
//! Records used: `START host mm/dd/yyyy hh:mm` (date + [`EventKind::Start`]), the periodic
//! timestamp `mm/dd/yyyy hh:mm`, `TIMEJUMP`, `SHUTDOWN user host mm/dd hh:mm:ss`, `OUT`, `IN`,
//! `DENY`, `QUE`, `DEQUE`, and `INUSE` (not an event: it lists licenses already out when the log
//! starts or ends, and only teaches us their handles). Everything else (`PRODUCT`, `AUTH`,
//! `LOG`, `END`, `SWITCH`, `ROAM_EXTEND`, `METER`, the header lines ...) is ignored silently.
//!
//! **Dates.** std/detailed records carry `mm/dd` (the year comes from the last full date, and
//! goes up by one when the month goes down); small records carry only `hh:mm` and take the
//! current date, rolling over at midnight like a FlexNet debug log.
//!
//! **Handles.** The small format's `IN why count handle hh:mm` names no product or user: they
//! come from the checkout with the same server handle. So the parser keeps a map of open
//! handles (bounded by the licenses out at once, not by the file size), saved in checkpoints.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::flexnet_debuglog::clock::{LocalClock, parse_mdy, parse_time_of_day};
use crate::{Diagnostic, EventKind, EventRef, EventSink, LogParser};

const MAX_TOKENS: usize = 32;
const CHECKPOINT_VERSION: u64 = 1;

/// Who holds a server handle: enough to complete a small-format check-in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Holder {
    feature: String,
    user: String,
    host: String,
}

pub struct ReportLogParser {
    clock: LocalClock,
    handles: HashMap<String, Holder>,
}

impl ReportLogParser {
    pub fn new(tz: Tz) -> Self {
        Self {
            clock: LocalClock::new(tz),
            handles: HashMap::new(),
        }
    }
}

/// A record split into tokens; `"quoted values"` are one token, without their quotes.
struct Tokens<'a> {
    items: [&'a str; MAX_TOKENS],
    len: usize,
}

impl<'a> Tokens<'a> {
    fn split(line: &'a str) -> Self {
        let mut items = [""; MAX_TOKENS];
        let mut len = 0;
        let mut rest = line.trim_start();
        while !rest.is_empty() && len < MAX_TOKENS {
            let (token, after) = match rest.strip_prefix(['"', '\u{201c}']) {
                // Quoted: up to the closing quote (ASCII or typographic), without the quotes.
                Some(q) => match q.char_indices().find(|&(_, c)| c == '"' || c == '\u{201d}') {
                    Some((end, c)) => (&q[..end], &q[end + c.len_utf8()..]),
                    None => (q, ""),
                },
                None => {
                    let end = rest.find([' ', '\t']).unwrap_or(rest.len());
                    (&rest[..end], &rest[end..])
                }
            };
            items[len] = token;
            len += 1;
            rest = after.trim_start();
        }
        Self { items, len }
    }

    fn get(&self, i: usize) -> &'a str {
        if i < self.len { self.items[i] } else { "" }
    }
}

/// Which fields of a record hold what (indices into its tokens).
struct Layout {
    feature: Option<usize>,
    user: Option<usize>,
    host: Option<usize>,
    count: usize,
    handle: usize,
    /// `mm/dd` index, or None for small records that carry only the time.
    date: Option<usize>,
    time: usize,
    why: Option<usize>,
}

const fn layout(
    feature: usize,
    user: usize,
    host: usize,
    count: usize,
    handle: usize,
    date: Option<usize>,
    time: usize,
) -> Layout {
    Layout {
        feature: Some(feature),
        user: Some(user),
        host: Some(host),
        count,
        handle,
        date,
        time,
        why: None,
    }
}

/// The small format's `IN`/`DEQUE why count handle hh:mm`: no product or user, only the handle
/// of the checkout or request it ends.
fn handle_only_layout() -> Layout {
    Layout {
        feature: None,
        user: None,
        host: None,
        count: 2,
        handle: 3,
        date: None,
        time: 4,
        why: Some(1),
    }
}

/// The documented layouts, by record keyword and token count.
fn record_layout(keyword: &str, n: usize) -> Option<(EventKind, Layout)> {
    Some(match (keyword, n) {
        // OUT product version pool# user host "isv_def" count cur_use cur_resuse handle share pid
        //     "project" "req product" "req version" mm/dd hh:mm:ss [detailed extras]
        ("OUT", 18..) => (EventKind::Out, layout(1, 4, 5, 7, 10, Some(16), 17)),
        // OUT product version user host "isv_def" count handle share hh:mm
        ("OUT", 10) => (EventKind::Out, layout(1, 3, 4, 6, 7, None, 9)),
        // IN why product version user host "isv_def" count cur_use cur_resuse handle mm/dd hh:mm:ss
        ("IN", 13) => (
            EventKind::In,
            Layout {
                why: Some(1),
                ..layout(2, 4, 5, 7, 10, Some(11), 12)
            },
        ),
        // IN why count handle hh:mm
        ("IN", 5) => (EventKind::In, handle_only_layout()),
        // QUE product version user host "isv_def" count handle "project" "req product" "req version" mm/dd hh:mm:ss
        ("QUE", 13) => (EventKind::Queued, layout(1, 3, 4, 6, 7, Some(11), 12)),
        // QUE product version user host "isv_def" count handle hh:mm
        ("QUE", 9) => (EventKind::Queued, layout(1, 3, 4, 6, 7, None, 8)),
        // DEQUE why product version user host "isv_def" count handle mm/dd hh:mm:ss
        ("DEQUE", 11) => (
            EventKind::Dequeued,
            Layout {
                why: Some(1),
                ..layout(2, 4, 5, 7, 8, Some(9), 10)
            },
        ),
        // DEQUE why count handle hh:mm
        ("DEQUE", 5) => (EventKind::Dequeued, handle_only_layout()),
        // DENY product version user host "isv_def" count why last_attempt [pid] mm/dd hh:mm[:ss]
        ("DENY", 11 | 12) => (
            EventKind::Denied,
            Layout {
                why: Some(7),
                ..layout(1, 3, 4, 6, 0, Some(n - 2), n - 1)
            },
        ),
        _ => return None,
    })
}

impl ReportLogParser {
    fn record(
        &mut self,
        n: usize,
        t: &Tokens<'_>,
        events: &mut dyn EventSink,
        diags: &mut Vec<Diagnostic>,
    ) {
        let keyword = t.get(0);
        match keyword {
            "OUT" | "IN" | "QUE" | "DEQUE" | "DENY" => match record_layout(keyword, t.len) {
                Some((kind, lay)) => self.event(n, t, kind, &lay, events, diags),
                None => diags.push(Diagnostic::new(
                    n,
                    format!(
                        "{keyword} record with {} fields matches no report-log format",
                        t.len
                    ),
                )),
            },
            "INUSE" => self.in_use(t),
            "START" => self.start(n, t, events, diags),
            "SHUTDOWN" => self.shutdown(n, t, events, diags),
            "TIMEJUMP" if self.dated(t.get(2), t.get(3)).is_none() => {
                diags.push(Diagnostic::new(
                    n,
                    "TIMEJUMP record without a readable date",
                ));
            }
            first if first.matches('/').count() == 2 => self.periodic_timestamp(n, t, diags),
            _ => {} // PRODUCT, AUTH, LOG, END, SWITCH, header lines, ...: nothing for usage.
        }
    }

    fn event(
        &mut self,
        n: usize,
        t: &Tokens<'_>,
        kind: EventKind,
        lay: &Layout,
        events: &mut dyn EventSink,
        diags: &mut Vec<Diagnostic>,
    ) {
        let Some(count) = t.get(lay.count).parse::<u64>().ok() else {
            diags.push(Diagnostic::new(
                n,
                format!(
                    "{} record: count `{}` is not a number",
                    t.get(0),
                    t.get(lay.count)
                ),
            ));
            return;
        };
        let local = match lay.date {
            Some(d) => self.dated(t.get(d), t.get(lay.time)),
            None => parse_time_of_day(t.get(lay.time)).and_then(|time| self.clock.advance(time)),
        };
        let Some(local) = local else {
            let what = if self.clock.date().is_none() {
                "no date known yet (no START record before it)"
            } else {
                "unreadable date or time"
            };
            diags.push(Diagnostic::new(
                n,
                format!("{} record: {what}: skipped", t.get(0)),
            ));
            return;
        };
        let handle = t.get(lay.handle);
        let holder = match (lay.feature, lay.user, lay.host) {
            (Some(f), Some(u), Some(h)) => Holder {
                feature: t.get(f).to_owned(),
                user: t.get(u).to_owned(),
                host: t.get(h).to_owned(),
            },
            _ => match self.handles.get(handle) {
                Some(h) => h.clone(),
                None => {
                    diags.push(Diagnostic::new(n, format!("{} record for handle {handle}, whose checkout is not in this log: skipped", t.get(0))));
                    return;
                }
            },
        };
        self.track_handle(kind, handle, &holder);
        let reason = reason(kind, t, lay);
        let time = self.clock.local_to_utc(local);
        events.push_event(EventRef {
            kind,
            time,
            feature: &holder.feature,
            user: &holder.user,
            host: &holder.host,
            count,
            reason: reason.as_deref(),
        });
    }

    fn track_handle(&mut self, kind: EventKind, handle: &str, holder: &Holder) {
        match kind {
            EventKind::Out | EventKind::Queued if !handle.is_empty() => {
                self.handles.insert(handle.to_owned(), holder.clone());
            }
            EventKind::In | EventKind::Dequeued => {
                self.handles.remove(handle);
            }
            _ => {}
        }
    }

    /// `INUSE product version pool# user host "isv_def" count handle share pid mm/dd hh:mm:ss`
    fn in_use(&mut self, t: &Tokens<'_>) {
        if t.len >= 13 {
            let holder = Holder {
                feature: t.get(1).to_owned(),
                user: t.get(4).to_owned(),
                host: t.get(5).to_owned(),
            };
            self.handles.insert(t.get(8).to_owned(), holder);
        }
    }

    fn start(
        &mut self,
        n: usize,
        t: &Tokens<'_>,
        events: &mut dyn EventSink,
        diags: &mut Vec<Diagnostic>,
    ) {
        let (Some(date), Some(time)) = (parse_mdy(t.get(2)), parse_time_of_day(t.get(3))) else {
            diags.push(Diagnostic::new(
                n,
                "START record without a readable `mm/dd/yyyy hh:mm`",
            ));
            return;
        };
        self.clock.set_date(date, time);
        self.handles.clear(); // a restarted server hands out new handles
        let time = self.clock.local_to_utc(date.and_time(time));
        events.push_event(EventRef {
            kind: EventKind::Start,
            time,
            feature: "",
            user: "",
            host: t.get(1),
            count: 0,
            reason: None,
        });
    }

    fn shutdown(
        &mut self,
        n: usize,
        t: &Tokens<'_>,
        events: &mut dyn EventSink,
        diags: &mut Vec<Diagnostic>,
    ) {
        let Some(local) = self.dated(t.get(3), t.get(4)) else {
            diags.push(Diagnostic::new(
                n,
                "SHUTDOWN record without a readable date (or no START before it)",
            ));
            return;
        };
        let time = self.clock.local_to_utc(local);
        events.push_event(EventRef {
            kind: EventKind::Shutdown,
            time,
            feature: "",
            user: t.get(1),
            host: t.get(2),
            count: 0,
            reason: None,
        });
    }

    fn periodic_timestamp(&mut self, n: usize, t: &Tokens<'_>, diags: &mut Vec<Diagnostic>) {
        match (parse_mdy(t.get(0)), parse_time_of_day(t.get(1))) {
            (Some(date), Some(time)) => self.clock.set_date(date, time),
            _ => diags.push(Diagnostic::new(
                n,
                "timestamp record is not `mm/dd/yyyy hh:mm`",
            )),
        }
    }

    /// `mm/dd` + time of day, with the year of the current date (one more when the month wraps).
    fn dated(&mut self, mmdd: &str, time: &str) -> Option<chrono::NaiveDateTime> {
        let current = self.clock.date()?;
        let (m, d) = mmdd.split_once('/')?;
        let (m, d): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
        let year = if m < current.month() {
            current.year() + 1
        } else {
            current.year()
        };
        let date = NaiveDate::from_ymd_opt(year, m, d)?;
        let time: NaiveTime = parse_time_of_day(time)?;
        self.clock.set_date(date, time);
        Some(date.and_time(time))
    }

    fn state(&self) -> Value {
        let handles: serde_json::Map<String, Value> = self
            .handles
            .iter()
            .map(|(k, h)| (k.clone(), json!([h.feature, h.user, h.host])))
            .collect();
        json!({ "v": CHECKPOINT_VERSION, "clock": self.clock.to_json(), "handles": handles })
    }

    fn read_state(tz: Tz, v: &Value) -> Option<Self> {
        if v.get("v")?.as_u64()? != CHECKPOINT_VERSION {
            return None;
        }
        let clock = LocalClock::from_json(tz, v.get("clock")?)?;
        let mut handles = HashMap::new();
        for (k, h) in v.get("handles")?.as_object()? {
            let f = |i: usize| h.get(i).and_then(Value::as_str).map(str::to_owned);
            handles.insert(
                k.clone(),
                Holder {
                    feature: f(0)?,
                    user: f(1)?,
                    host: f(2)?,
                },
            );
        }
        Some(Self { clock, handles })
    }
}

/// Why a check-in happened (manual: "why" values of the check-in record), or a denial's status.
fn reason(kind: EventKind, t: &Tokens<'_>, lay: &Layout) -> Option<String> {
    let why = t.get(lay.why?);
    match kind {
        EventKind::Denied => {
            let last = if t.get(8) == "0" {
                "will retry"
            } else {
                "last attempt"
            };
            Some(format!("RLM status {why} ({last})"))
        }
        EventKind::In | EventKind::Dequeued => checkin_why(why).map(str::to_owned),
        _ => None,
    }
}

/// The documented check-in reasons; 1 (normal check-in) gives no reason.
fn checkin_why(why: &str) -> Option<&'static str> {
    Some(match why {
        "2" => "application exited",
        "3" => "removed by rlmremove",
        "4" => "removed by server after timeout",
        "5" => "hold/minimum checkout period expired",
        "6" => "client requested dequeue",
        "7" => "portable hostid removed",
        "8" => "failed host back up",
        "9" => "server lost its transferred licenses",
        "10" => "meter ran out of count",
        "11" => "client heartbeat missed",
        "12" => "temporary license expired",
        "13" => "temporary license returned",
        _ => return None,
    })
}

impl LogParser for ReportLogParser {
    fn push_line(
        &mut self,
        line_no: usize,
        line: &str,
        events: &mut dyn EventSink,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            return;
        }
        let tokens = Tokens::split(line);
        self.record(line_no, &tokens, events, diagnostics);
    }

    fn checkpoint(&self) -> Value {
        self.state()
    }

    fn restore(&mut self, state: &Value) -> bool {
        let tz = self.clock.tz();
        match Self::read_state(tz, state) {
            Some(restored) => {
                *self = restored;
                true
            }
            None => {
                *self = Self::new(tz);
                false
            }
        }
    }
}
