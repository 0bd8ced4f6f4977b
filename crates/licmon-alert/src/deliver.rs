//! Sending what the outbox holds: a JSON webhook POST or an e-mail per delivery.

use chrono::{DateTime, Duration, Utc};
use licmon_core::alerts::AlertEvent;
use licmon_store::{Delivery, Store, StoreResult};

use crate::smtp::{SmtpSettings, send_mail};
use crate::webhook;

/// Attempts per delivery before it is given up (the last error stays on it).
pub const MAX_ATTEMPTS: u32 = 6;
/// Deliveries sent per round at most; the rest wait for the next round.
const PER_ROUND: u32 = 200;

/// The webhook body: the event and the alert.
pub fn webhook_payload(d: &Delivery) -> serde_json::Value {
    let a = &d.alert;
    serde_json::json!({
        "event": d.event.as_str(),
        "alert_id": a.id,
        "rule_id": a.rule_id,
        "rule": a.rule_name,
        "subject": a.subject,
        "server_id": a.server_id,
        "message": a.message,
        "since": a.since,
        "fired_at": a.fired_at,
        "resolved_at": a.resolved_at,
    })
}

/// The e-mail's subject and plain-text body.
pub fn email_text(d: &Delivery) -> (String, String) {
    let a = &d.alert;
    let word = match d.event {
        AlertEvent::Firing => "FIRING",
        AlertEvent::Resolved => "RESOLVED",
    };
    let subject = format!("[licmon] {word}: {}", a.message);
    let time = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| "-".into())
    };
    let body = format!(
        "{word}: {}\n\nRule:     {}\nSubject:  {}\nSince:    {}\nFired:    {}\nResolved: {}\n\n\
         You get this because you subscribed to the rule in licmon (Preferences > Alerts).\n",
        a.message,
        a.rule_name,
        a.subject,
        time(Some(a.since)),
        time(a.fired_at),
        time(a.resolved_at),
    );
    (subject, body)
}

/// Back-off after `attempts` failed attempts: 30 s, 1 min, 2 min, ... at most 30 min.
fn retry_delay(attempts: u32) -> Duration {
    Duration::seconds((30i64 << attempts.min(6)).min(1800))
}

/// Sends every delivery due at `now`; returns (sent, failed).
pub async fn deliver_due(store: &dyn Store, now: DateTime<Utc>) -> StoreResult<(usize, usize)> {
    let due = store.due_deliveries(now, PER_ROUND).await?;
    if due.is_empty() {
        return Ok((0, 0));
    }
    let smtp: Option<SmtpSettings> = store
        .alert_setting(crate::smtp::SETTING_KEY)
        .await?
        .and_then(|v| serde_json::from_value(v).ok());
    let (mut sent, mut failed) = (0, 0);
    for d in due {
        let outcome = match d.channel.as_str() {
            "webhook" => webhook::post_json(&d.target, &webhook_payload(&d)).await,
            "email" => match &smtp {
                Some(smtp) if smtp.is_configured() => {
                    let (subject, body) = email_text(&d);
                    send_mail(smtp, &d.target, &subject, &body).await
                }
                _ => Err("SMTP is not configured (Administration > Alerts)".to_string()),
            },
            other => Err(format!("unknown channel {other}")),
        };
        match outcome {
            Ok(()) => {
                sent += 1;
                tracing::info!(channel = %d.channel, alert = d.alert.id, event = d.event.as_str(), "alert notification sent");
                store.finish_delivery(d.id, now, None, None).await?;
            }
            Err(error) => {
                failed += 1;
                let attempts = d.attempts + 1;
                let retry_at = (attempts < MAX_ATTEMPTS).then(|| now + retry_delay(attempts - 1));
                tracing::warn!(channel = %d.channel, alert = d.alert.id, attempts, %error, "alert notification failed");
                store
                    .finish_delivery(d.id, now, Some(&error), retry_at)
                    .await?;
            }
        }
    }
    Ok((sent, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_half_an_hour() {
        assert_eq!(retry_delay(0), Duration::seconds(30));
        assert_eq!(retry_delay(1), Duration::seconds(60));
        assert_eq!(retry_delay(5), Duration::seconds(960));
        assert_eq!(retry_delay(9), Duration::seconds(1800));
    }
}
