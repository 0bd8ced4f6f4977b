//! The alert role: rules, who subscribes to them, the alerts themselves, the delivery outbox,
//! installation-wide alert settings, and the evaluator lease.
//!
//! Invariants:
//! - At most one open (pending or firing) alert per rule and subject: a partial unique index
//!   (`alerts_open`) backs what [`licmon_core::alerts::transition`] decides.
//! - Changes and the notifications they cause are written in ONE transaction
//!   ([`AlertStore::apply_alert_changes`]): an alert is never marked firing without its
//!   deliveries queued, nor queued twice. The transaction first checks that the calling node
//!   still holds the evaluator lease, so two nodes on one PostgreSQL never both evaluate.
//! - Deliveries are the outbox: sent after the commit, retried with back-off, given up after a
//!   few attempts with the last error kept.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use licmon_core::ServerId;
use licmon_core::alerts::transition::{Change, OpenAlert};
use licmon_core::alerts::{AlertEvent, AlertRule, AlertRuleInput, AlertState, RuleId, RuleKind};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::UserId;
use crate::rows::{from_millis, get_bool, millis, opt_from_millis};
use crate::{SqlStore, StoreError, StoreResult};

const EVALUATOR: &str = "alerts";
const RULE_COLUMNS: &str =
    "id, name, params, server_id, enabled, webhook_url, created_at, updated_at";
const ALERT_COLUMNS: &str = "a.id, a.rule_id, r.name AS rule_name, a.subject, a.server_id, \
     a.state, a.message, a.since, a.fired_at, a.resolved_at";

/// An alert as the API and pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRecord {
    pub id: i64,
    pub rule_id: RuleId,
    pub rule_name: String,
    pub subject: String,
    pub server_id: Option<ServerId>,
    pub state: AlertState,
    pub message: String,
    pub since: DateTime<Utc>,
    pub fired_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// A notification to send: one event of one alert to one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub event: AlertEvent,
    /// `email` or `webhook`.
    pub channel: String,
    /// The e-mail address or the webhook URL.
    pub target: String,
    pub attempts: u32,
    pub sent_at: Option<DateTime<Utc>>,
    pub gave_up_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub alert: AlertRecord,
}

/// What one [`AlertStore::apply_alert_changes`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppliedChanges {
    pub fired: usize,
    pub resolved: usize,
    pub deliveries: usize,
}

#[async_trait]
pub trait AlertStore: Send + Sync {
    /// A duplicate name is `Conflict`; an unknown server is `NotFound`.
    async fn create_alert_rule(
        &self,
        input: &AlertRuleInput,
        now: DateTime<Utc>,
    ) -> StoreResult<AlertRule>;
    async fn update_alert_rule(
        &self,
        id: RuleId,
        input: &AlertRuleInput,
        now: DateTime<Utc>,
    ) -> StoreResult<AlertRule>;
    /// Deletes the rule with its alerts, deliveries and subscriptions.
    async fn delete_alert_rule(&self, id: RuleId) -> StoreResult<()>;
    async fn get_alert_rule(&self, id: RuleId) -> StoreResult<AlertRule>;
    /// Oldest first.
    async fn list_alert_rules(&self) -> StoreResult<Vec<AlertRule>>;

    /// Where a user's alert e-mails go; `None` removes the address.
    async fn set_alert_email(&self, user: UserId, email: Option<&str>) -> StoreResult<()>;
    async fn alert_email(&self, user: UserId) -> StoreResult<Option<String>>;
    async fn set_alert_subscription(&self, rule: RuleId, user: UserId, on: bool)
    -> StoreResult<()>;
    async fn alert_subscriptions(&self, user: UserId) -> StoreResult<Vec<RuleId>>;

    async fn alert_setting(&self, key: &str) -> StoreResult<Option<serde_json::Value>>;
    async fn set_alert_setting(&self, key: &str, value: &serde_json::Value) -> StoreResult<()>;

    /// Claims or renews the evaluator lease for `node_id` until `now + ttl` (the database's
    /// clock); false while another node holds a valid one.
    async fn claim_alert_evaluator(
        &self,
        node_id: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> StoreResult<bool>;
    /// True denials (not retries), summed over their counts, per server since `since`.
    async fn true_denials_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<(ServerId, u64)>>;
    async fn open_alerts(&self) -> StoreResult<Vec<OpenAlert>>;
    /// Applies an evaluation's changes and queues their notifications, in one transaction, if
    /// `node_id` holds the evaluator lease at `now`; `Conflict` otherwise.
    async fn apply_alert_changes(
        &self,
        node_id: &str,
        changes: &[Change],
        now: DateTime<Utc>,
    ) -> StoreResult<AppliedChanges>;
    /// Open alerts, then those resolved at or after `resolved_since`, newest first.
    async fn alerts(
        &self,
        resolved_since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<AlertRecord>>;
    /// Deliveries due at `now` (not sent, not given up), oldest first.
    async fn due_deliveries(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Delivery>>;
    /// Records an attempt: sent (`error` None), or failed and retried at `retry_at` (None:
    /// given up).
    async fn finish_delivery(
        &self,
        id: i64,
        now: DateTime<Utc>,
        error: Option<&str>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
    /// Every delivery of an alert, oldest first.
    async fn alert_deliveries(&self, alert_id: i64) -> StoreResult<Vec<Delivery>>;
}

fn rule_conflict(e: sqlx::Error, name: &str) -> StoreError {
    match e.as_database_error() {
        Some(d) if d.is_unique_violation() || d.message().contains("UNIQUE") => {
            StoreError::Conflict(format!("an alert rule named \"{name}\" already exists"))
        }
        Some(d) if d.is_foreign_key_violation() || d.message().contains("FOREIGN KEY") => {
            StoreError::NotFound
        }
        _ => StoreError::Database(e),
    }
}

fn rule_from_row(row: &AnyRow) -> StoreResult<AlertRule> {
    let params: String = row.try_get("params")?;
    let kind: RuleKind = serde_json::from_str(&params)
        .map_err(|e| StoreError::Corrupt(format!("alert rule parameters {params}: {e}")))?;
    Ok(AlertRule {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind,
        server_id: row.try_get("server_id")?,
        enabled: get_bool(row, "enabled")?,
        webhook_url: row.try_get("webhook_url")?,
        created_at: from_millis(row.try_get("created_at")?)?,
        updated_at: from_millis(row.try_get("updated_at")?)?,
    })
}

fn alert_from_row(row: &AnyRow) -> StoreResult<AlertRecord> {
    let state: String = row.try_get("state")?;
    Ok(AlertRecord {
        id: row.try_get("id")?,
        rule_id: row.try_get("rule_id")?,
        rule_name: row.try_get("rule_name")?,
        subject: row.try_get("subject")?,
        server_id: row.try_get("server_id")?,
        state: AlertState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("alert state {state}")))?,
        message: row.try_get("message")?,
        since: from_millis(row.try_get("since")?)?,
        fired_at: opt_from_millis(row.try_get("fired_at")?)?,
        resolved_at: opt_from_millis(row.try_get("resolved_at")?)?,
    })
}

fn delivery_from_row(row: &AnyRow) -> StoreResult<Delivery> {
    let event: String = row.try_get("event")?;
    Ok(Delivery {
        id: row.try_get("delivery_id")?,
        event: AlertEvent::parse(&event)
            .ok_or_else(|| StoreError::Corrupt(format!("alert event {event}")))?,
        channel: row.try_get("channel")?,
        target: row.try_get("target")?,
        attempts: row.try_get::<i64, _>("attempts")?.max(0) as u32,
        sent_at: opt_from_millis(row.try_get("sent_at")?)?,
        gave_up_at: opt_from_millis(row.try_get("gave_up_at")?)?,
        last_error: row.try_get("last_error")?,
        alert: alert_from_row(row)?,
    })
}

const DELIVERY_SELECT: &str = "SELECT d.id AS delivery_id, d.event, d.channel, d.target, \
     d.attempts, d.sent_at, d.gave_up_at, d.last_error, a.id, a.rule_id, r.name AS rule_name, \
     a.subject, a.server_id, a.state, a.message, a.since, a.fired_at, a.resolved_at \
     FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id JOIN alert_rules r ON r.id = a.rule_id";

#[async_trait]
impl AlertStore for SqlStore {
    async fn create_alert_rule(
        &self,
        input: &AlertRuleInput,
        now: DateTime<Utc>,
    ) -> StoreResult<AlertRule> {
        let sql = format!(
            "INSERT INTO alert_rules (name, kind, params, server_id, enabled, webhook_url, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {RULE_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&input.name)
            .bind(input.kind.id())
            .bind(params_json(&input.kind)?)
            .bind(input.server_id)
            .bind(input.enabled)
            .bind(input.webhook_url.clone())
            .bind(millis(now))
            .fetch_one(&self.pool)
            .await
            .map_err(|e| rule_conflict(e, &input.name))?;
        rule_from_row(&row)
    }

    async fn update_alert_rule(
        &self,
        id: RuleId,
        input: &AlertRuleInput,
        now: DateTime<Utc>,
    ) -> StoreResult<AlertRule> {
        let sql = format!(
            "UPDATE alert_rules SET name = $1, kind = $2, params = $3, server_id = $4, \
             enabled = $5, webhook_url = $6, updated_at = $7 WHERE id = $8 RETURNING {RULE_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&input.name)
            .bind(input.kind.id())
            .bind(params_json(&input.kind)?)
            .bind(input.server_id)
            .bind(input.enabled)
            .bind(input.webhook_url.clone())
            .bind(millis(now))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| rule_conflict(e, &input.name))?;
        rule_from_row(&row.ok_or(StoreError::NotFound)?)
    }

    async fn delete_alert_rule(&self, id: RuleId) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM alert_rules WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        crate::rows::touched(&done)?;
        Ok(())
    }

    async fn get_alert_rule(&self, id: RuleId) -> StoreResult<AlertRule> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM alert_rules WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        rule_from_row(&row.ok_or(StoreError::NotFound)?)
    }

    async fn list_alert_rules(&self) -> StoreResult<Vec<AlertRule>> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM alert_rules ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(rule_from_row).collect()
    }

    async fn set_alert_email(&self, user: UserId, email: Option<&str>) -> StoreResult<()> {
        match email {
            Some(email) => {
                sqlx::query(
                    "INSERT INTO alert_recipients (user_id, email) VALUES ($1, $2) \
                     ON CONFLICT (user_id) DO UPDATE SET email = excluded.email",
                )
                .bind(user)
                .bind(email)
                .execute(&self.pool)
                .await
                .map_err(|e| rule_conflict(e, ""))?;
            }
            None => {
                sqlx::query("DELETE FROM alert_recipients WHERE user_id = $1")
                    .bind(user)
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    async fn alert_email(&self, user: UserId) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT email FROM alert_recipients WHERE user_id = $1")
            .bind(user)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("email")).transpose()?)
    }

    async fn set_alert_subscription(
        &self,
        rule: RuleId,
        user: UserId,
        on: bool,
    ) -> StoreResult<()> {
        if on {
            sqlx::query(
                "INSERT INTO alert_subscriptions (rule_id, user_id) VALUES ($1, $2) \
                 ON CONFLICT (rule_id, user_id) DO NOTHING",
            )
            .bind(rule)
            .bind(user)
            .execute(&self.pool)
            .await
            .map_err(|e| rule_conflict(e, ""))?;
        } else {
            sqlx::query("DELETE FROM alert_subscriptions WHERE rule_id = $1 AND user_id = $2")
                .bind(rule)
                .bind(user)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    async fn alert_subscriptions(&self, user: UserId) -> StoreResult<Vec<RuleId>> {
        let rows = sqlx::query(
            "SELECT rule_id FROM alert_subscriptions WHERE user_id = $1 ORDER BY rule_id",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get("rule_id"))
            .collect::<Result<_, _>>()?)
    }

    async fn alert_setting(&self, key: &str) -> StoreResult<Option<serde_json::Value>> {
        let row = sqlx::query("SELECT value FROM alert_settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let text: String = r.try_get("value")?;
            serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("alert setting {key}: {e}")))
        })
        .transpose()
    }

    async fn set_alert_setting(&self, key: &str, value: &serde_json::Value) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO alert_settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn claim_alert_evaluator(
        &self,
        node_id: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> StoreResult<bool> {
        let row = sqlx::query(
            "INSERT INTO alert_evaluator (name, node_id, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET node_id = excluded.node_id, \
             expires_at = excluded.expires_at \
             WHERE alert_evaluator.expires_at < $4 OR alert_evaluator.node_id = $2 \
             RETURNING node_id",
        )
        .bind(EVALUATOR)
        .bind(node_id)
        .bind(millis(now + ttl))
        .bind(millis(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    async fn true_denials_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<(ServerId, u64)>> {
        let rows = sqlx::query(
            "SELECT server_id, CAST(SUM(count) AS BIGINT) AS n FROM denials WHERE at >= $1 AND retry = $2 \
             GROUP BY server_id ORDER BY server_id",
        )
        .bind(millis(since))
        .bind(false)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("server_id")?,
                    r.try_get::<i64, _>("n")?.max(0) as u64,
                ))
            })
            .collect()
    }

    async fn open_alerts(&self) -> StoreResult<Vec<OpenAlert>> {
        let rows = sqlx::query(
            "SELECT id, rule_id, subject, state, since, message FROM alerts \
             WHERE state <> 'resolved' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                Ok(OpenAlert {
                    id: r.try_get("id")?,
                    rule_id: r.try_get("rule_id")?,
                    subject: r.try_get("subject")?,
                    state: AlertState::parse(&state)
                        .ok_or_else(|| StoreError::Corrupt(format!("alert state {state}")))?,
                    since: from_millis(r.try_get("since")?)?,
                    message: r.try_get("message")?,
                })
            })
            .collect()
    }

    async fn apply_alert_changes(
        &self,
        node_id: &str,
        changes: &[Change],
        now: DateTime<Utc>,
    ) -> StoreResult<AppliedChanges> {
        let now_ms = millis(now);
        let mut tx = self.write_tx().await?;
        let holder = sqlx::query(
            "SELECT node_id FROM alert_evaluator WHERE name = $1 AND node_id = $2 AND expires_at >= $3",
        )
        .bind(EVALUATOR)
        .bind(node_id)
        .bind(now_ms)
        .fetch_optional(&mut *tx)
        .await?;
        if holder.is_none() {
            return Err(StoreError::Conflict(
                "this node no longer holds the alert evaluator lease".into(),
            ));
        }
        let mut applied = AppliedChanges::default();
        for change in changes {
            let notify = match change {
                Change::Start {
                    rule_id,
                    subject,
                    server_id,
                    message,
                    firing,
                } => {
                    let state = if *firing {
                        AlertState::Firing
                    } else {
                        AlertState::Pending
                    };
                    let row = sqlx::query(
                        "INSERT INTO alerts (rule_id, subject, server_id, state, message, since, \
                         fired_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $6) RETURNING id",
                    )
                    .bind(*rule_id)
                    .bind(subject)
                    .bind(*server_id)
                    .bind(state.as_str())
                    .bind(message)
                    .bind(now_ms)
                    .bind(firing.then_some(now_ms))
                    .fetch_one(&mut *tx)
                    .await?;
                    firing.then(|| row.try_get("id").map(|id| (id, AlertEvent::Firing)))
                }
                Change::Fire { id, message } => {
                    update_alert(&mut tx, *id, "firing", message, now_ms).await?;
                    Some(Ok((*id, AlertEvent::Firing)))
                }
                Change::Update { id, message } => {
                    sqlx::query("UPDATE alerts SET message = $1, updated_at = $2 WHERE id = $3")
                        .bind(message)
                        .bind(now_ms)
                        .bind(*id)
                        .execute(&mut *tx)
                        .await?;
                    None
                }
                Change::Resolve { id } => {
                    sqlx::query(
                        "UPDATE alerts SET state = 'resolved', resolved_at = $1, updated_at = $1 \
                         WHERE id = $2",
                    )
                    .bind(now_ms)
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?;
                    Some(Ok((*id, AlertEvent::Resolved)))
                }
                Change::Cancel { id } => {
                    sqlx::query("DELETE FROM alerts WHERE id = $1 AND state = 'pending'")
                        .bind(*id)
                        .execute(&mut *tx)
                        .await?;
                    None
                }
            };
            if let Some(notify) = notify {
                let (alert_id, event): (i64, AlertEvent) = notify?;
                match event {
                    AlertEvent::Firing => applied.fired += 1,
                    AlertEvent::Resolved => applied.resolved += 1,
                }
                applied.deliveries += queue_deliveries(&mut tx, alert_id, event, now_ms).await?;
            }
        }
        tx.commit().await?;
        Ok(applied)
    }

    async fn alerts(
        &self,
        resolved_since: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<AlertRecord>> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts a JOIN alert_rules r ON r.id = a.rule_id \
             WHERE a.state <> 'resolved' OR a.resolved_at >= $1 \
             ORDER BY CASE WHEN a.state = 'resolved' THEN 1 ELSE 0 END, a.id DESC LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(millis(resolved_since))
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(alert_from_row).collect()
    }

    async fn due_deliveries(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Delivery>> {
        let sql = format!(
            "{DELIVERY_SELECT} WHERE d.sent_at IS NULL AND d.gave_up_at IS NULL \
             AND d.next_attempt_at <= $1 ORDER BY d.id LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(millis(now))
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    async fn finish_delivery(
        &self,
        id: i64,
        now: DateTime<Utc>,
        error: Option<&str>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        let now_ms = millis(now);
        let (sent_at, gave_up_at, next) = match (error, retry_at) {
            (None, _) => (Some(now_ms), None, now_ms),
            (Some(_), Some(at)) => (None, None, millis(at)),
            (Some(_), None) => (None, Some(now_ms), now_ms),
        };
        sqlx::query(
            "UPDATE alert_deliveries SET attempts = attempts + 1, sent_at = $1, gave_up_at = $2, \
             next_attempt_at = $3, last_error = $4 WHERE id = $5",
        )
        .bind(sent_at)
        .bind(gave_up_at)
        .bind(next)
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn alert_deliveries(&self, alert_id: i64) -> StoreResult<Vec<Delivery>> {
        let sql = format!("{DELIVERY_SELECT} WHERE d.alert_id = $1 ORDER BY d.id");
        let rows = sqlx::query(&sql)
            .bind(alert_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(delivery_from_row).collect()
    }
}

fn params_json(kind: &RuleKind) -> StoreResult<String> {
    serde_json::to_string(kind).map_err(|e| StoreError::Corrupt(e.to_string()))
}

async fn update_alert(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    state: &str,
    message: &str,
    now_ms: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE alerts SET state = $1, message = $2, fired_at = $3, updated_at = $3 WHERE id = $4",
    )
    .bind(state)
    .bind(message)
    .bind(now_ms)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Queues one delivery per target of the alert's rule: its webhook, and each subscriber with an
/// e-mail address.
async fn queue_deliveries(
    tx: &mut Transaction<'_, Any>,
    alert_id: i64,
    event: AlertEvent,
    now_ms: i64,
) -> StoreResult<usize> {
    let webhook = sqlx::query(
        "INSERT INTO alert_deliveries (alert_id, event, channel, target, created_at, next_attempt_at) \
         SELECT a.id, $2, 'webhook', r.webhook_url, $3, $3 FROM alerts a \
         JOIN alert_rules r ON r.id = a.rule_id WHERE a.id = $1 AND r.webhook_url IS NOT NULL",
    )
    .bind(alert_id)
    .bind(event.as_str())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    let email = sqlx::query(
        "INSERT INTO alert_deliveries (alert_id, event, channel, target, created_at, next_attempt_at) \
         SELECT a.id, $2, 'email', p.email, $3, $3 FROM alerts a \
         JOIN alert_subscriptions s ON s.rule_id = a.rule_id \
         JOIN alert_recipients p ON p.user_id = s.user_id WHERE a.id = $1 ORDER BY s.user_id",
    )
    .bind(alert_id)
    .bind(event.as_str())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok((webhook.rows_affected() + email.rows_affected()) as usize)
}
