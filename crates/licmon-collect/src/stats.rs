use std::collections::BTreeMap;
use std::sync::Mutex;

/// Poll outcomes counted by kind (`ok`, `timeout`, `not_found`, `server_down`, ...), for the
/// logs now and for metrics.
#[derive(Debug, Default)]
pub struct PollStats {
    counts: Mutex<BTreeMap<&'static str, u64>>,
}

impl PollStats {
    pub fn count(&self, outcome: &'static str) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *counts.entry(outcome).or_insert(0) += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}
