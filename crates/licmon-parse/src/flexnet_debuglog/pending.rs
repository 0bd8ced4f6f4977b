//! The event a line gave, held until the next line shows whether it continues it (see the
//! module documentation). Its strings live in one buffer that is reused from event to event: a
//! copy of the part of the line they came from, so that taking an event and handing it on are
//! one copy each, with no allocation.

use std::ops::Range;

use chrono::{DateTime, NaiveTime, Utc};
use serde_json::{Value, json};

use super::clock::parse_time_of_day;
use super::line::{self, apply_group, license_count, paren_group};
use super::{MAX_REASON_BYTES, kind_from_name, kind_name};
use crate::{EventKind, SpannedEvent};

#[derive(Debug, Clone)]
pub(super) struct Pending {
    /// There is a pending event; when false the fields are a finished event's leftovers.
    pub active: bool,
    kind: EventKind,
    time: DateTime<Utc>,
    count: u64,
    /// The strings; continuations append a new reason to it.
    text: String,
    feature: Range<usize>,
    user: Range<usize>,
    host: Range<usize>,
    reason: Option<Range<usize>>,
    /// The line gave a `(N licenses)`; a continuation cannot give another.
    count_given: bool,
    /// The reason's parentheses are still open (the reason is stored without its `(`).
    pub reason_open: bool,
    /// Which daemon wrote it, and when, to recognise a prefixed continuation.
    pub daemon_key: u64,
    pub time_of_day: NaiveTime,
    pub continuations: u8,
}

impl Pending {
    pub fn idle() -> Self {
        Self {
            active: false,
            kind: EventKind::Out,
            time: DateTime::<Utc>::UNIX_EPOCH,
            count: 0,
            text: String::new(),
            feature: 0..0,
            user: 0..0,
            host: 0..0,
            reason: None,
            count_given: false,
            reason_open: false,
            daemon_key: 0,
            time_of_day: NaiveTime::MIN,
            continuations: 0,
        }
    }

    /// Make the event of a line pending (the previous one was emitted). `body` is the text
    /// [`line::parse_body`] read `b` from.
    pub fn start(
        &mut self,
        kind: EventKind,
        time: DateTime<Utc>,
        body: &str,
        b: &line::Body<'_>,
        daemon_key: u64,
        time_of_day: NaiveTime,
    ) {
        self.text.clear();
        // The strings are slices of `body` in this order: copy from the feature to the end of
        // the last one at once. Otherwise (a host-less user's empty host is no slice of the
        // line) one by one.
        let last = b.reason.unwrap_or(b.host);
        let from = offset(body, b.feature);
        let to = offset(body, last).wrapping_add(last.len());
        let within = |s: &str| {
            let start = offset(body, s);
            start >= from && start.checked_add(s.len()).is_some_and(|end| end <= to)
        };
        match body.get(from..to) {
            Some(covered) if within(b.feature) && within(b.user) && within(b.host) => {
                self.text.push_str(covered);
                let at = |s: &str| offset(body, s) - from..offset(body, s) - from + s.len();
                self.feature = at(b.feature);
                self.user = at(b.user);
                self.host = at(b.host);
                self.reason = b.reason.map(at);
            }
            _ => {
                self.feature = self.append(b.feature);
                self.user = self.append(b.user);
                self.host = self.append(b.host);
                self.reason = b.reason.map(|r| self.append(r));
            }
        }
        self.active = true;
        self.kind = kind;
        self.time = time;
        self.count = b.count.unwrap_or(1);
        self.count_given = b.count.is_some();
        self.reason_open = b.reason_open;
        self.daemon_key = daemon_key;
        self.time_of_day = time_of_day;
        self.continuations = 0;
    }

    fn append(&mut self, s: &str) -> Range<usize> {
        let start = self.text.len();
        self.text.push_str(s);
        start..self.text.len()
    }

    fn get(&self, r: &Range<usize>) -> &str {
        self.text.get(r.clone()).unwrap_or("")
    }

    /// The event as it is emitted: a reason still open at that point loses its trailing
    /// whitespace.
    pub fn event(&self) -> SpannedEvent<'_> {
        let reason = self.reason.clone().map(|r| match self.reason_open {
            true => r.start..r.start + self.get(&r).trim_end().len(),
            false => r,
        });
        SpannedEvent {
            kind: self.kind,
            time: self.time,
            count: self.count,
            text: &self.text,
            feature: self.feature.clone(),
            user: self.user.clone(),
            host: self.host.clone(),
            reason,
        }
    }

    pub fn extend_open_reason(&mut self, text: &str) -> bool {
        if text.is_empty() {
            return false;
        }
        let mut reason = self.reason.as_ref().map_or("", |r| self.get(r)).to_owned();
        if !reason.is_empty() && !reason.ends_with(' ') {
            reason.push(' ');
        }
        reason.push_str(text);
        let wrapped = format!("({reason}");
        let (group, closed, _) = paren_group(&wrapped);
        if closed {
            reason = group.trim().to_owned();
            self.reason_open = false;
        } else if reason.len() > MAX_REASON_BYTES {
            self.reason_open = false;
        }
        self.reason = Some(self.append(&reason));
        true
    }

    /// A line of only `(...)` / `[...]` groups that give what the event lacks.
    pub fn fill_gaps(&mut self, text: &str) -> bool {
        if !text.starts_with('(') || text.starts_with("(@") {
            return false;
        }
        let (group, closed, rest) = paren_group(text);
        let rest = rest.trim();
        let is_count = closed && license_count(group).is_some();
        let fits = if is_count {
            !self.count_given
        } else {
            self.reason.is_none()
        };
        if !fits || !(rest.is_empty() || rest.starts_with('(') || rest.starts_with('[')) {
            return false;
        }
        self.absorb(group, closed);
        if closed && !rest.is_empty() && rest.starts_with('(') {
            // A second group on the same line (`(3 licenses) (INACTIVE)`), best effort.
            let (g2, c2, _) = paren_group(rest);
            self.absorb(g2, c2);
        }
        true
    }

    fn absorb(&mut self, group: &str, closed: bool) {
        let mut body = line::Body {
            feature: "",
            user: "",
            host: "",
            count: None,
            reason: None,
            reason_open: false,
        };
        apply_group(group, closed, &mut body);
        if let (Some(n), false) = (body.count, self.count_given) {
            self.count = n;
            self.count_given = true;
        } else if let (Some(r), None) = (body.reason, &self.reason) {
            self.reason = Some(self.append(r));
            self.reason_open = body.reason_open;
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "kind": kind_name(self.kind), "time": self.time.to_rfc3339(),
            "feature": self.get(&self.feature), "user": self.get(&self.user),
            "host": self.get(&self.host), "count": self.count,
            "reason": self.reason.as_ref().map(|r| self.get(r)),
            "count_given": self.count_given, "reason_open": self.reason_open,
            "daemon_key": self.daemon_key, "time_of_day": self.time_of_day.format("%H:%M:%S").to_string(),
            "continuations": self.continuations,
        })
    }

    pub fn from_json(v: &Value) -> Option<Self> {
        let s = |k: &str| v.get(k).and_then(Value::as_str);
        let reason = match v.get("reason")? {
            Value::Null => None,
            r => Some(r.as_str()?),
        };
        let mut p = Self {
            active: true,
            kind: kind_from_name(s("kind")?)?,
            time: DateTime::parse_from_rfc3339(s("time")?)
                .ok()?
                .with_timezone(&Utc),
            count: v.get("count")?.as_u64()?,
            count_given: v.get("count_given")?.as_bool()?,
            reason_open: v.get("reason_open")?.as_bool()?,
            daemon_key: v.get("daemon_key")?.as_u64()?,
            time_of_day: parse_time_of_day(s("time_of_day")?)?,
            continuations: u8::try_from(v.get("continuations")?.as_u64()?).ok()?,
            ..Self::idle()
        };
        p.feature = p.append(s("feature")?);
        p.user = p.append(s("user")?);
        p.host = p.append(s("host")?);
        p.reason = reason.map(|r| p.append(r));
        Some(p)
    }
}

/// Where `inner` starts in `outer` when it is a slice of it (any other string gives a number
/// that the caller's bounds checks reject: the subtraction wraps).
fn offset(outer: &str, inner: &str) -> usize {
    (inner.as_ptr() as usize).wrapping_sub(outer.as_ptr() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventRef;

    fn started(body: &str) -> Pending {
        let b = line::parse_body(body).expect("an event body");
        let mut p = Pending::idle();
        p.start(
            EventKind::Out,
            DateTime::<Utc>::UNIX_EPOCH,
            body,
            &b,
            7,
            NaiveTime::MIN,
        );
        p
    }

    fn strings(p: &Pending) -> (String, String, String, Option<String>) {
        let e: SpannedEvent<'_> = p.event();
        let r: EventRef<'_> = e.as_ref();
        (
            r.feature.into(),
            r.user.into(),
            r.host.into(),
            r.reason.map(str::to_owned),
        )
    }

    #[test]
    fn strings_are_copied_from_the_line_in_one_piece_or_one_by_one() {
        let p = started(
            r#""f" José@pc-1  (3 licenses) (Licensed number of users already reached. (-4,342:10054 ""))"#,
        );
        assert_eq!(
            strings(&p),
            (
                "f".into(),
                "José".into(),
                "pc-1".into(),
                Some("Licensed number of users already reached. (-4,342:10054 \"\")".into())
            )
        );
        assert_eq!(p.count, 3);
        // No `@`: the host is an empty string that is not part of the line.
        let p = started(r#""MATLAB" nobody  "#);
        assert_eq!(
            strings(&p),
            ("MATLAB".into(), "nobody".into(), String::new(), None)
        );
        // A restored event has no line: its strings are added one by one.
        let restored = Pending::from_json(&started(r#"f u@h (open reason "#).to_json()).unwrap();
        assert_eq!(
            strings(&restored),
            (
                "f".into(),
                "u".into(),
                "h".into(),
                Some("open reason".into())
            )
        );
    }

    #[test]
    fn continuations_replace_the_reason() {
        let mut p = started(r#""f" u@h  (Cannot connect (-15,10:"#);
        assert!(p.extend_open_reason("10061 \"WinSock: Connection refused\"))"));
        assert!(!p.reason_open);
        assert_eq!(
            strings(&p).3.as_deref(),
            Some("Cannot connect (-15,10: 10061 \"WinSock: Connection refused\")")
        );
        let mut p = started(r#""f" u@h  "#);
        assert!(p.fill_gaps("(2 licenses) (INACTIVE)"));
        assert_eq!((p.count, strings(&p).3.as_deref()), (2, Some("INACTIVE")));
    }
}
