//! Scanning the process table (sysinfo): monitored applications per executable and user, with
//! instance counts, earliest start and idle time.
//!
//! Idle time: a process that used no CPU time since the previous scan is idle since the last
//! scan in which it did (or since it was first seen). A group's idle time is its least idle
//! process's.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use licmon_protocol::{AppRule, AppUsage, Report, executable_matches};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind, Users};

/// What one process looks like to the grouping (a seam for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: u32,
    pub executable: String,
    pub user: String,
    pub started_at: DateTime<Utc>,
    /// Milliseconds of CPU time used so far.
    pub cpu_ms: u64,
}

/// Keeps the CPU time of each process between scans.
#[derive(Default)]
pub struct IdleTracker {
    /// pid → (start, cpu ms at the last scan, last time CPU time grew)
    seen: HashMap<u32, (DateTime<Utc>, u64, DateTime<Utc>)>,
}

impl IdleTracker {
    /// Seconds the process has been idle as of `now`; forgets processes not passed since.
    fn idle_secs(&mut self, p: &ProcessInfo, now: DateTime<Utc>) -> u64 {
        let entry = self
            .seen
            .entry(p.pid)
            .or_insert((p.started_at, p.cpu_ms, now));
        if entry.0 != p.started_at {
            // The pid was reused by a new process.
            *entry = (p.started_at, p.cpu_ms, now);
        }
        if p.cpu_ms > entry.1 {
            entry.1 = p.cpu_ms;
            entry.2 = now;
        }
        (now - entry.2).num_seconds().max(0) as u64
    }

    fn retain(&mut self, alive: &[u32]) {
        self.seen.retain(|pid, _| alive.contains(pid));
    }
}

/// Groups matching processes into one report per configured server (an empty one for a server
/// with nothing running: it says "this agent watches this server").
pub fn reports(
    rules: &[AppRule],
    processes: &[ProcessInfo],
    tracker: &mut IdleTracker,
    now: DateTime<Utc>,
) -> Vec<Report> {
    // (server, feature, executable, user) → (instances, earliest start, least idle)
    type Key = (i64, String, String, String);
    let mut groups: BTreeMap<Key, (u32, DateTime<Utc>, u64)> = BTreeMap::new();
    let mut alive = Vec::new();
    for p in processes {
        let matching: Vec<&AppRule> = rules
            .iter()
            .filter(|r| {
                r.executables
                    .iter()
                    .any(|e| executable_matches(&p.executable, e))
            })
            .collect();
        if matching.is_empty() {
            continue;
        }
        alive.push(p.pid);
        let idle = tracker.idle_secs(p, now);
        for rule in matching {
            let g = groups
                .entry((
                    rule.server_id,
                    rule.feature.clone(),
                    p.executable.clone(),
                    p.user.clone(),
                ))
                .or_insert((0, p.started_at, idle));
            g.0 += 1;
            g.1 = g.1.min(p.started_at);
            g.2 = g.2.min(idle);
        }
    }
    tracker.retain(&alive);
    let mut by_server: BTreeMap<i64, Vec<AppUsage>> =
        rules.iter().map(|r| (r.server_id, Vec::new())).collect();
    for ((server, feature, executable, user), (instances, started_at, idle_secs)) in groups {
        by_server.entry(server).or_default().push(AppUsage {
            feature,
            executable,
            user,
            instances,
            started_at,
            idle_secs,
        });
    }
    by_server
        .into_iter()
        .map(|(server_id, apps)| Report {
            server_id,
            observed_at: now,
            apps,
        })
        .collect()
}

/// The machine's process table through sysinfo.
pub struct Scanner {
    system: System,
    users: Users,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

impl Scanner {
    pub fn new() -> Self {
        Self {
            system: System::new(),
            users: Users::new_with_refreshed_list(),
        }
    }

    pub fn processes(&mut self) -> Vec<ProcessInfo> {
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing()
                .with_cpu()
                .with_user(UpdateKind::OnlyIfNotSet)
                .with_exe(UpdateKind::OnlyIfNotSet)
                .without_tasks(),
        );
        let mut unknown_user = false;
        let mut out: Vec<ProcessInfo> = self
            .system
            .processes()
            .iter()
            .filter(|(_, p)| p.thread_kind().is_none())
            .map(|(pid, p): (&Pid, _)| {
                let executable = p
                    .exe()
                    .and_then(|e| e.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| p.name().to_string_lossy().into_owned());
                let user = match p.user_id() {
                    Some(uid) => match self.users.get_user_by_id(uid) {
                        Some(u) => u.name().to_string(),
                        None => {
                            unknown_user = true;
                            uid.to_string()
                        }
                    },
                    None => String::from("?"),
                };
                ProcessInfo {
                    pid: pid.as_u32(),
                    executable,
                    user,
                    started_at: DateTime::from_timestamp(p.start_time() as i64, 0)
                        .unwrap_or_default(),
                    cpu_ms: p.accumulated_cpu_time(),
                }
            })
            .collect();
        if unknown_user {
            // A new account since start: read the user list again for the next scan.
            self.users.refresh();
        }
        out.sort_by_key(|p| p.pid);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap()
    }

    fn p(pid: u32, exe: &str, user: &str, start: i64, cpu: u64) -> ProcessInfo {
        ProcessInfo {
            pid,
            executable: exe.into(),
            user: user.into(),
            started_at: t(start),
            cpu_ms: cpu,
        }
    }

    fn rule(server: i64, feature: &str, exes: &[&str]) -> AppRule {
        AppRule {
            server_id: server,
            feature: feature.into(),
            executables: exes.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn processes_group_per_executable_and_user_with_idle_time() {
        let rules = [rule(1, "MATLAB", &["matlab"]), rule(2, "CAD", &["cad.exe"])];
        let mut tracker = IdleTracker::default();
        let scan1 = [
            p(10, "matlab", "alice", 0, 100),
            p(11, "MATLAB", "alice", -50, 100),
            p(12, "matlab", "bob", 5, 0),
            p(13, "bash", "alice", 0, 9),
        ];
        let r = reports(&rules, &scan1, &mut tracker, t(100));
        assert_eq!(r.len(), 2, "one report per configured server");
        assert_eq!(r[1].server_id, 2);
        assert!(r[1].apps.is_empty());
        let apps = &r[0].apps;
        assert_eq!(apps.len(), 3);
        let alice = apps
            .iter()
            .find(|a| a.user == "alice" && a.executable == "matlab")
            .unwrap();
        assert_eq!(
            (alice.instances, alice.started_at, alice.idle_secs),
            (1, t(0), 0)
        );
        // 30 s later: alice's pid 10 used CPU, bob's did not.
        let scan2 = [
            p(10, "matlab", "alice", 0, 150),
            p(12, "matlab", "bob", 5, 0),
        ];
        let r = reports(&rules, &scan2, &mut tracker, t(130));
        let idle: Vec<(String, u64)> = r[0]
            .apps
            .iter()
            .map(|a| (a.user.clone(), a.idle_secs))
            .collect();
        assert_eq!(idle, vec![("alice".into(), 0), ("bob".into(), 30)]);
        // A reused pid is a new process: idle counts from its first sight.
        let scan3 = [p(12, "matlab", "bob", 200, 0)];
        let r = reports(&rules, &scan3, &mut tracker, t(230));
        assert_eq!(r[0].apps[0].idle_secs, 0);
    }

    #[test]
    fn the_real_process_table_has_this_test() {
        let mut scanner = Scanner::new();
        let me = std::process::id();
        let all = scanner.processes();
        let this = all
            .iter()
            .find(|p| p.pid == me)
            .expect("this process is listed");
        assert!(!this.executable.is_empty());
        assert!(this.started_at.timestamp() > 1_600_000_000);
    }
}
