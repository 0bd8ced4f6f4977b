//! The agent's loop: fetch the configuration (keep the last good one), scan, buffer, send with
//! exponential backoff. One thread; it never exits on licmon's account.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use licmon_protocol::{AgentConfig, AgentInfo, PROTOCOL_VERSION, Report, ReportDocument};

use crate::client::{Client, Outcome};
use crate::config::Settings;
use crate::scan::{IdleTracker, Scanner, reports};

/// Reports per document (well under licmon's limits).
pub const REPORTS_PER_DOCUMENT: usize = 100;

/// A bounded FIFO of reports: beyond `capacity` the oldest are dropped and counted.
pub struct Buffer {
    reports: VecDeque<Report>,
    capacity: usize,
    pub dropped: u64,
}

impl Buffer {
    pub fn new(capacity: usize) -> Self {
        Self {
            reports: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
        }
    }

    pub fn push(&mut self, report: Report) {
        while self.reports.len() >= self.capacity {
            self.reports.pop_front();
            self.dropped += 1;
        }
        self.reports.push_back(report);
    }

    pub fn len(&self) -> usize {
        self.reports.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reports.is_empty()
    }

    /// The oldest reports, up to `n`, without removing them.
    pub fn oldest(&self, n: usize) -> Vec<Report> {
        self.reports.iter().take(n).cloned().collect()
    }

    pub fn drop_oldest(&mut self, n: usize) {
        for _ in 0..n.min(self.reports.len()) {
            self.reports.pop_front();
        }
    }
}

/// Exponential backoff: 1 s, 2 s, 4 s, ... up to `max`, with up to 20 % jitter so that many
/// agents do not return at the same instant.
pub struct Backoff {
    failures: u32,
    max: Duration,
}

impl Backoff {
    pub fn new(max: Duration) -> Self {
        Self { failures: 0, max }
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Records a failure and returns how long to wait.
    pub fn next(&mut self, jitter_seed: u64) -> Duration {
        let base = Duration::from_secs(1u64 << self.failures.min(20)).min(self.max);
        self.failures = self.failures.saturating_add(1);
        let jitter = base.mul_f64((jitter_seed % 200) as f64 / 1000.0);
        (base + jitter).min(self.max.max(Duration::from_secs(1)))
    }
}

fn log(message: &str) {
    eprintln!(
        "{} licmon-agent: {message}",
        Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    );
}

fn host_name() -> String {
    sysinfo::System::host_name()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn user_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "?".into())
}

/// Runs until `stop` is set.
pub fn run(settings: Settings, stop: Arc<AtomicBool>) -> Result<(), String> {
    let client = Client::new(&settings)?;
    let host = host_name();
    let agent_id = settings.agent_id.clone().unwrap_or_else(|| host.clone());
    let info = |last_error: Option<String>| AgentInfo {
        id: agent_id.clone(),
        host: host.clone(),
        user: user_name(),
        agent_version: env!("CARGO_PKG_VERSION").into(),
        last_error,
    };
    let mut scanner = Scanner::new();
    let mut tracker = IdleTracker::default();
    let mut buffer = Buffer::new(settings.buffer_reports);
    let max_backoff = Duration::from_secs(settings.max_backoff_secs.max(1));
    let mut config: Option<AgentConfig> = None;
    let mut config_backoff = Backoff::new(max_backoff);
    let mut send_backoff = Backoff::new(max_backoff);
    let now = Instant::now();
    let (mut config_due, mut scan_due, mut send_due) = (now, now, now);
    // The last problem, told to licmon with the next document it accepts.
    let mut last_error: Option<String> = None;
    let mut seed = u64::from(std::process::id());
    log(&format!("reporting to {} as {agent_id}", settings.url));
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407)
            >> 1;
        if now >= config_due {
            match client.fetch_config() {
                Outcome::Ok(fresh) => {
                    if config.as_ref() != Some(&fresh) {
                        log(&format!(
                            "configuration: {} application(s), report every {} s",
                            fresh.apps.len(),
                            settings
                                .report_interval_secs
                                .unwrap_or(fresh.report_interval_secs)
                        ));
                    }
                    let refresh = settings
                        .config_refresh_secs
                        .unwrap_or(fresh.config_refresh_secs)
                        .max(1);
                    config = Some(fresh);
                    config_backoff.reset();
                    config_due = now + Duration::from_secs(refresh);
                }
                Outcome::Refused { reason, .. }
                | Outcome::Unauthorized { reason, .. }
                | Outcome::Retry(reason) => {
                    let wait = config_backoff.next(seed);
                    let kept = if config.is_some() {
                        "; keeping the last good configuration"
                    } else {
                        ""
                    };
                    log(&format!(
                        "cannot fetch the configuration: {reason}{kept}; again in {} s",
                        wait.as_secs()
                    ));
                    last_error = Some(format!("configuration: {reason}"));
                    config_due = now + wait;
                }
            }
        }
        if let Some(cfg) = &config
            && now >= scan_due
        {
            let interval = settings
                .report_interval_secs
                .unwrap_or(cfg.report_interval_secs)
                .max(1);
            scan_due = now + Duration::from_secs(interval);
            let processes = scanner.processes();
            for report in reports(&cfg.apps, &processes, &mut tracker, Utc::now()) {
                buffer.push(report);
            }
            if buffer.dropped > 0 {
                last_error = Some(format!(
                    "licmon was unreachable; {} old report(s) dropped from the full buffer",
                    buffer.dropped
                ));
            }
        }
        if !buffer.is_empty() && now >= send_due {
            let batch = buffer.oldest(REPORTS_PER_DOCUMENT);
            let doc = ReportDocument {
                version: PROTOCOL_VERSION,
                agent: info(last_error.clone()),
                reports: batch,
            };
            match client.send(&doc) {
                Outcome::Ok(()) => {
                    buffer.drop_oldest(doc.reports.len());
                    if send_backoff.failures() > 0 {
                        log("licmon accepts reports again");
                    }
                    send_backoff.reset();
                    last_error = None;
                    buffer.dropped = 0;
                    // More buffered: send the next document at once.
                }
                Outcome::Refused { status, reason } => {
                    log(&format!(
                        "licmon refused {} report(s) ({status}): {reason}",
                        doc.reports.len()
                    ));
                    buffer.drop_oldest(doc.reports.len());
                    last_error = Some(format!("refused ({status}): {reason}"));
                    if status == 409 || status == 400 {
                        // The configuration is out of date (a server was disabled or deleted).
                        config_due = now;
                    }
                }
                Outcome::Unauthorized { status, reason } => {
                    let wait = send_backoff.next(seed);
                    log(&format!(
                        "licmon does not accept this agent's token ({status}): {reason}; keeping {} report(s), again in {} s",
                        buffer.len(),
                        wait.as_secs()
                    ));
                    last_error = Some(format!("token refused ({status}): {reason}"));
                    send_due = now + wait;
                }
                Outcome::Retry(reason) => {
                    let wait = send_backoff.next(seed);
                    log(&format!(
                        "{reason}; keeping {} report(s), again in {} s",
                        buffer.len(),
                        wait.as_secs()
                    ));
                    last_error = Some(reason);
                    send_due = now + wait;
                }
            }
            continue;
        }
        // Sleep until the next thing to do, in short steps so that a stop is prompt.
        let mut next = config_due;
        if config.is_some() {
            next = next.min(scan_due);
        }
        if !buffer.is_empty() {
            next = next.min(send_due);
        }
        let wait = next
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(200));
        std::thread::sleep(wait.max(Duration::from_millis(10)));
    }
    log("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(n: i64) -> Report {
        Report {
            server_id: n,
            observed_at: Utc::now(),
            apps: Vec::new(),
        }
    }

    #[test]
    fn the_buffer_is_bounded_and_drops_the_oldest() {
        let mut b = Buffer::new(3);
        for i in 0..10 {
            b.push(report(i));
        }
        assert_eq!(b.len(), 3);
        assert_eq!(b.dropped, 7);
        let ids: Vec<i64> = b.oldest(2).iter().map(|r| r.server_id).collect();
        assert_eq!(ids, vec![7, 8]);
        b.drop_oldest(2);
        assert_eq!(b.oldest(5)[0].server_id, 9);
        b.drop_oldest(10);
        assert!(b.is_empty());
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let mut b = Backoff::new(Duration::from_secs(60));
        let waits: Vec<u64> = (0..10).map(|_| b.next(0).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        b.reset();
        let jittered = b.next(199);
        assert!(jittered >= Duration::from_secs(1) && jittered < Duration::from_millis(1200));
    }
}
