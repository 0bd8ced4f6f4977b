//! How open alerts move: pending → firing → resolved, from the conditions that hold now.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::eval::Condition;
use super::{AlertState, RuleId};
use crate::ServerId;

/// An alert that is pending or firing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAlert {
    pub id: i64,
    pub rule_id: RuleId,
    pub subject: String,
    pub state: AlertState,
    /// When the condition was first seen (this time round).
    pub since: DateTime<Utc>,
    pub message: String,
}

/// One change to the stored alerts. `Start` with `firing` and `Fire` send a firing
/// notification, `Resolve` a resolution; `Cancel` (a pending alert whose condition went away)
/// and `Update` send nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Start {
        rule_id: RuleId,
        subject: String,
        server_id: Option<ServerId>,
        message: String,
        firing: bool,
    },
    Fire {
        id: i64,
        message: String,
    },
    /// The condition still holds with other numbers: the message follows, silently.
    Update {
        id: i64,
        message: String,
    },
    Resolve {
        id: i64,
    },
    Cancel {
        id: i64,
    },
}

/// The changes that bring `open` in line with `holding` (the conditions per evaluated rule) at
/// `now`. Open alerts of rules not in `holding` (deleted or disabled) resolve.
pub fn transitions(
    holding: &[(RuleId, Vec<Condition>)],
    open: &[OpenAlert],
    now: DateTime<Utc>,
) -> Vec<Change> {
    let by_key: HashMap<(RuleId, &str), &OpenAlert> = open
        .iter()
        .map(|a| ((a.rule_id, a.subject.as_str()), a))
        .collect();
    let mut seen: HashSet<(RuleId, &str)> = HashSet::new();
    let mut changes = Vec::new();
    for (rule_id, conditions) in holding {
        for c in conditions {
            if !seen.insert((*rule_id, c.subject.as_str())) {
                continue;
            }
            match by_key.get(&(*rule_id, c.subject.as_str())) {
                None => changes.push(Change::Start {
                    rule_id: *rule_id,
                    subject: c.subject.clone(),
                    server_id: c.server_id,
                    message: c.message.clone(),
                    firing: c.hold <= chrono::Duration::zero(),
                }),
                Some(a) if a.state == AlertState::Pending && now - a.since >= c.hold => changes
                    .push(Change::Fire {
                        id: a.id,
                        message: c.message.clone(),
                    }),
                Some(a) if a.message != c.message => changes.push(Change::Update {
                    id: a.id,
                    message: c.message.clone(),
                }),
                Some(_) => {}
            }
        }
    }
    for a in open {
        if seen.contains(&(a.rule_id, a.subject.as_str())) {
            continue;
        }
        changes.push(match a.state {
            AlertState::Firing => Change::Resolve { id: a.id },
            _ => Change::Cancel { id: a.id },
        });
    }
    changes
}
