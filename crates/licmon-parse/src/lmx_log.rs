//! Log parser (placeholder: being written).
use crate::{Diagnostic, LogEvent, LogParser};
use chrono_tz::Tz;
pub struct LmxLogParser {
    _tz: Tz,
}
impl LmxLogParser {
    pub fn new(tz: Tz) -> Self {
        Self { _tz: tz }
    }
}
impl LogParser for LmxLogParser {
    fn push_line(&mut self, _n: usize, _l: &str, _e: &mut Vec<LogEvent>, _d: &mut Vec<Diagnostic>) {}
    fn checkpoint(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
    fn restore(&mut self, _s: &serde_json::Value) -> bool {
        false
    }
}
