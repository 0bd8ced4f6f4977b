//! Which conditions of a rule hold now: a pure function of [`AlertFacts`] and `now`.

use chrono::{DateTime, Duration, Utc};

use super::{AlertRule, RuleKind};
use crate::capacity::CapacityUsage;
use crate::snapshot::Snapshot;
use crate::{ImportStatus, RemoteStatus, ServerId};

/// What the rules look at for one license server.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerAlertFacts {
    pub id: ServerId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub remote: RemoteStatus,
    pub import: ImportStatus,
    /// Some data source is switched on and capacity leaves room: data is expected.
    pub expects_data: bool,
    /// The last successful poll or import.
    pub last_update: Option<DateTime<Utc>>,
    /// The current usage (the last successful poll), if any.
    pub snapshot: Option<Snapshot>,
    /// True denials (retries excluded), summed over their counts, in the last hour.
    pub true_denials_last_hour: u64,
}

/// Everything the rules look at.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertFacts {
    pub servers: Vec<ServerAlertFacts>,
    pub capacity: Option<CapacityUsage>,
}

/// A condition of a rule that holds now, for one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// What the alert is about, stable across evaluations: `server:3/feature:solver`.
    pub subject: String,
    pub server_id: Option<ServerId>,
    /// For people: which server, what is wrong, the numbers.
    pub message: String,
    /// How long the condition must hold before the alert fires.
    pub hold: Duration,
}

/// The conditions of `rule` that hold in `facts` at `now`. A disabled rule has none.
pub fn conditions(rule: &AlertRule, facts: &AlertFacts, now: DateTime<Utc>) -> Vec<Condition> {
    if !rule.enabled {
        return Vec::new();
    }
    if let RuleKind::Capacity = rule.kind {
        return capacity(facts.capacity);
    }
    facts
        .servers
        .iter()
        .filter(|s| rule.server_id.is_none_or(|id| id == s.id))
        .flat_map(|s| of_server(&rule.kind, s, now))
        .collect()
}

fn capacity(usage: Option<CapacityUsage>) -> Vec<Condition> {
    match usage {
        Some(
            u @ CapacityUsage {
                limit: Some(limit),
                used,
            },
        ) if u.is_critical() => {
            vec![Condition {
                subject: "capacity".into(),
                server_id: None,
                message: format!(
                    "licmon capacity: {used} of {limit} license servers in use (90 % or more)"
                ),
                hold: Duration::zero(),
            }]
        }
        _ => Vec::new(),
    }
}

fn at_once(s: &ServerAlertFacts, subject: String, message: String) -> Condition {
    Condition {
        subject,
        server_id: Some(s.id),
        message: format!("{}: {message}", s.name),
        hold: Duration::zero(),
    }
}

fn of_server(kind: &RuleKind, s: &ServerAlertFacts, now: DateTime<Utc>) -> Vec<Condition> {
    let server = format!("server:{}", s.id);
    let online = matches!(s.remote, RemoteStatus::Online);
    match kind {
        RuleKind::ServerOffline { minutes } => match &s.remote {
            RemoteStatus::Offline { reason } => vec![Condition {
                hold: Duration::minutes(*minutes as i64),
                ..at_once(s, server, format!("Offline: {reason}"))
            }],
            _ => Vec::new(),
        },
        RuleKind::DaemonDown => {
            let Some(snapshot) = s.snapshot.as_ref().filter(|_| online) else {
                return Vec::new();
            };
            let nodes = snapshot.nodes.iter().filter(|n| !n.up).map(|n| {
                let what = match n.port {
                    Some(port) => format!("{port}@{}", n.host),
                    None => n.host.clone(),
                };
                let why = n.error.as_deref().unwrap_or("down");
                at_once(
                    s,
                    format!("{server}/node:{what}"),
                    format!("license server host {what} is down ({why})"),
                )
            });
            let daemons = snapshot.daemons.iter().filter(|d| !d.up).map(|d| {
                let why = d.error.as_deref().unwrap_or("down");
                at_once(
                    s,
                    format!("{server}/daemon:{}", d.name),
                    format!("vendor daemon {} is down ({why})", d.name),
                )
            });
            nodes.chain(daemons).collect()
        }
        RuleKind::Utilisation { percent, feature } => {
            let Some(snapshot) = s.snapshot.as_ref().filter(|_| online) else {
                return Vec::new();
            };
            snapshot
                .features
                .iter()
                .filter(|f| feature.as_ref().is_none_or(|name| *name == f.name))
                .filter_map(|f| {
                    let issued = f.issued.filter(|i| *i > 0 && !f.uncounted)?;
                    (f.in_use * 100 >= *percent as u64 * issued).then(|| {
                        at_once(
                            s,
                            format!("{server}/feature:{}", f.name),
                            format!(
                                "{} at {} % ({} of {issued} in use; threshold {percent} %)",
                                f.name,
                                f.in_use * 100 / issued,
                                f.in_use
                            ),
                        )
                    })
                })
                .collect()
        }
        RuleKind::Expiring { days } => {
            let Some(snapshot) = &s.snapshot else {
                return Vec::new();
            };
            let today = now.date_naive();
            let mut found = Vec::new();
            for f in &snapshot.features {
                for pool in f.pools.iter().filter(|p| !p.permanent) {
                    let Some(expires) = pool.expires else {
                        continue;
                    };
                    let left = (expires - today).num_days();
                    if left > *days as i64 {
                        continue;
                    }
                    let when = if left < 0 {
                        format!("expired on {expires}")
                    } else {
                        format!("expires on {expires} (in {left} days)")
                    };
                    let subject = format!("{server}/feature:{}/expires:{expires}", f.name);
                    if found.iter().any(|c: &Condition| c.subject == subject) {
                        continue;
                    }
                    found.push(at_once(s, subject, format!("{} {when}", f.name)));
                }
            }
            found
        }
        RuleKind::Denials { per_hour } if s.true_denials_last_hour > *per_hour as u64 => {
            vec![at_once(
                s,
                server,
                format!(
                    "{} true denials in the last hour (more than {per_hour})",
                    s.true_denials_last_hour
                ),
            )]
        }
        RuleKind::Denials { .. } => Vec::new(),
        RuleKind::ImportFailed => match &s.import {
            ImportStatus::Failure { reason } => {
                vec![at_once(s, server, format!("import failed: {reason}"))]
            }
            _ => Vec::new(),
        },
        RuleKind::NoData { minutes } => {
            if !s.expects_data {
                return Vec::new();
            }
            let since = s.last_update.unwrap_or(s.created_at);
            let limit = Duration::minutes(*minutes as i64);
            if now - since < limit {
                return Vec::new();
            }
            let message = match s.last_update {
                Some(at) => format!(
                    "no data gathered since {} UTC ({minutes} min or more)",
                    at.format("%Y-%m-%d %H:%M")
                ),
                None => format!("no data gathered since it was added ({minutes} min or more)"),
            };
            vec![at_once(s, server, message)]
        }
        RuleKind::Capacity => Vec::new(),
    }
}
