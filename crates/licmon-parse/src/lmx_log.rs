//! LM-X license server log: `[YYYY-MM-DD HH:MM:SS] message` lines. Events:
//!
//! ```text
//! [2022-03-11 15:27:07] CHECKOUT by user@host [::1]: FEATURE
//! [2022-03-11 15:28:01] CHECKIN by user@host [::1]: FEATURE
//! [2022-03-14 09:57:31] CHECKOUT by user@host [::1]: FEATURE FAIL: No more licenses available
//! ```
//!
//! A failed checkout is a denial, its `FAIL:` text the reason. The layout follows public LM-X
//! server logs quoted by LM-X log tooling (no vendor documentation of the log lines was found);
//! the fixture `tests/fixtures/server-log-lmx.log` is written from it. The log gives no license
//! count: every event counts 1. Other lines (start-up, STATUS, WARNING ...) are ignored; lines
//! that start like a CHECKOUT/CHECKIN but cannot be read are diagnostics.

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::flexnet_debuglog::clock::LocalClock;
use crate::{Diagnostic, EventKind, EventRef, EventSink, LogParser};

const CHECKPOINT_VERSION: u64 = 1;

pub struct LmxLogParser {
    clock: LocalClock,
}

impl LmxLogParser {
    pub fn new(tz: Tz) -> Self {
        Self {
            clock: LocalClock::new(tz),
        }
    }
}

/// A readable CHECKOUT/CHECKIN message.
struct Checkout<'a> {
    kind: EventKind,
    user: &'a str,
    host: &'a str,
    feature: &'a str,
    reason: Option<&'a str>,
}

/// `CHECKOUT by user@host [ip]: FEATURE [FAIL: reason]`; None when it is not one, Some(Err)
/// when it starts like one but cannot be read.
fn parse_event(message: &str) -> Option<Result<Checkout<'_>, &'static str>> {
    let (kind, rest) = if let Some(r) = message.strip_prefix("CHECKOUT by ") {
        (EventKind::Out, r)
    } else {
        (EventKind::In, message.strip_prefix("CHECKIN by ")?)
    };
    Some(parse_checkout(kind, rest))
}

fn parse_checkout(kind: EventKind, rest: &str) -> Result<Checkout<'_>, &'static str> {
    let colon = rest
        .find("]: ")
        .map(|i| (i + 1, i + 3))
        .or_else(|| rest.find(": ").map(|i| (i, i + 2)));
    let (who_end, feature_start) = colon.ok_or("no `: FEATURE` after the user")?;
    let who = rest.get(..who_end).unwrap_or("");
    let who = match who.rfind(" [") {
        Some(ip) if who.ends_with(']') => &who[..ip],
        _ => who,
    };
    let at = who.rfind('@').ok_or("no user@host")?;
    let (user, host) = (who[..at].trim(), who[at + 1..].trim());
    let tail = rest.get(feature_start..).unwrap_or("").trim();
    let feature = tail.split_whitespace().next().ok_or("no feature name")?;
    let (kind, reason) = match tail.split_once("FAIL:") {
        Some((_, why)) => (EventKind::Denied, Some(why.trim())),
        None => (kind, None),
    };
    Ok(Checkout {
        kind,
        user,
        host,
        feature,
        reason,
    })
}

/// `[YYYY-MM-DD HH:MM:SS] message` → (time, message).
fn split_timestamp(line: &str) -> Option<(NaiveDateTime, &str)> {
    let inner = line.strip_prefix('[')?;
    let close = inner.find(']')?;
    let time = NaiveDateTime::parse_from_str(inner.get(..close)?, "%Y-%m-%d %H:%M:%S").ok()?;
    Some((time, inner.get(close + 1..)?.trim()))
}

impl LogParser for LmxLogParser {
    fn push_line(
        &mut self,
        line_no: usize,
        line: &str,
        events: &mut dyn EventSink,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let Some((local, message)) = split_timestamp(line) else {
            if line.contains("CHECKOUT by ") || line.contains("CHECKIN by ") {
                diagnostics.push(Diagnostic::new(
                    line_no,
                    "CHECKOUT/CHECKIN line without a readable `[YYYY-MM-DD HH:MM:SS]` time",
                ));
            }
            return;
        };
        match parse_event(message) {
            None => {}
            Some(Err(what)) => diagnostics.push(Diagnostic::new(
                line_no,
                format!("cannot read the checkout line: {what}"),
            )),
            Some(Ok(c)) => {
                let time = self.clock.local_to_utc(local);
                events.push_event(EventRef {
                    kind: c.kind,
                    time,
                    feature: c.feature,
                    user: c.user,
                    host: c.host,
                    count: 1,
                    reason: c.reason,
                });
            }
        }
    }

    fn checkpoint(&self) -> Value {
        json!({ "v": CHECKPOINT_VERSION, "clock": self.clock.to_json() })
    }

    fn restore(&mut self, state: &Value) -> bool {
        let tz = self.clock.tz();
        let clock = (state.get("v").and_then(Value::as_u64) == Some(CHECKPOINT_VERSION))
            .then(|| {
                state
                    .get("clock")
                    .and_then(|c| LocalClock::from_json(tz, c))
            })
            .flatten();
        let ok = clock.is_some();
        self.clock = clock.unwrap_or_else(|| LocalClock::new(tz));
        ok
    }
}
