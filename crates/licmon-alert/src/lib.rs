//! Alerts (issue 9): the evaluator task that `licmon serve` runs, and delivery by e-mail (SMTP)
//! and JSON webhook.
//!
//! - Rules and their transitions are pure (`licmon_core::alerts`); this crate gathers the
//!   facts from the store ([`facts`]), applies the transitions, and sends what they queued.
//! - One node evaluates at a time: each round first claims the evaluator lease in the database
//!   (the database's clock), and the store refuses changes from a node that lost it.
//! - Notifications go through the store's outbox: queued in the transaction that fires or
//!   resolves an alert, then sent, retried with back-off, and given up after [`MAX_ATTEMPTS`].

mod deliver;
pub mod evaluator;
pub mod facts;
pub mod smtp;
pub mod webhook;

pub use deliver::{MAX_ATTEMPTS, deliver_due, email_text, webhook_payload};
pub use evaluator::{EvaluatorConfig, RoundReport, round, run};
pub use smtp::{SmtpSecurity, SmtpSettings, send_test_mail};
