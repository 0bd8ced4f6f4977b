//! Counts of an import: what a run did, and (kept in the checkpoint) what a file gave in total.

use std::collections::BTreeMap;

use licmon_parse::{Diagnostic, EventKind};
use serde::{Deserialize, Serialize};

/// Distinct skip reasons kept; more are counted under the last one.
const MAX_SKIP_REASONS: usize = 32;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub lines: u64,
    pub bytes: u64,
    /// Events by kind (`out`, `in`, `denied`, `queued`, `dequeued`, `unsupported`, `start`,
    /// `shutdown`).
    pub events: BTreeMap<String, u64>,
    /// Sessions rebuilt (OUT events that opened one).
    pub sessions: u64,
    /// Sessions closed by a matching IN, or by a restart/shutdown of the license server.
    pub sessions_closed: u64,
    pub denials: u64,
    /// Lines or events skipped, grouped by reason.
    pub skipped: Vec<Skip>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    pub reason: String,
    pub count: u64,
    /// The first line it happened on.
    pub first_line: u64,
}

impl Totals {
    pub fn event_count(&self) -> u64 {
        self.events.values().sum()
    }

    pub fn count_event(&mut self, kind: EventKind) {
        *self.events.entry(kind_name(kind).to_owned()).or_insert(0) += 1;
    }

    pub fn skip(&mut self, reason: &str, line: u64, count: u64) {
        if let Some(s) = self.skipped.iter_mut().find(|s| s.reason == reason) {
            s.count += count;
            return;
        }
        if self.skipped.len() >= MAX_SKIP_REASONS {
            if let Some(last) = self.skipped.last_mut() {
                last.count += count;
            }
            return;
        }
        self.skipped.push(Skip {
            reason: reason.to_owned(),
            count,
            first_line: line,
        });
    }

    /// A parser diagnostic, grouped by its message up to the quoted detail.
    pub fn diagnostic(&mut self, d: &Diagnostic) {
        let reason = match d.message.split_once(": ") {
            Some((head, _)) if head.len() >= 12 => head,
            _ => d.message.as_str(),
        };
        let reason: String = reason.chars().take(160).collect();
        self.skip(&reason, d.line as u64, 1);
    }

    pub fn add(&mut self, other: &Totals) {
        self.lines += other.lines;
        self.bytes += other.bytes;
        for (k, v) in &other.events {
            *self.events.entry(k.clone()).or_insert(0) += v;
        }
        self.sessions += other.sessions;
        self.sessions_closed += other.sessions_closed;
        self.denials += other.denials;
        for s in &other.skipped {
            self.skip(&s.reason, s.first_line, s.count);
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    pub fn from_json(v: &serde_json::Value) -> Self {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }
}

pub fn kind_name(kind: EventKind) -> &'static str {
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
