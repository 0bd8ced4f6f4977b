//! How a node stops: gracefully, but within a known time.
//!
//! Why bounded: a graceful stop waits for the requests in flight and for every background task
//! to finish its step. A client that stalls in the middle of an upload, or a step stuck on the
//! database, would otherwise keep a node that was told to stop alive until the service manager
//! kills it — without a word in the log about what it was waiting for.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;

/// How long each part of a stop may take.
#[derive(Debug, Clone, Copy)]
pub struct StopGrace {
    /// For the requests in flight once the node is told to stop.
    pub requests: Duration,
    /// For the rest: writing queued reports, stopping the loops, unregistering the node,
    /// closing the database.
    pub steps: Duration,
}

impl Default for StopGrace {
    fn default() -> Self {
        Self {
            requests: Duration::from_secs(5),
            steps: Duration::from_secs(10),
        }
    }
}

impl StopGrace {
    /// Runs the web server until it has finished, or until the requests' grace after `stop`
    /// turned true; the requests still in flight then are dropped (their clients see the
    /// connection close).
    pub async fn serve<T>(
        &self,
        served: impl Future<Output = anyhow::Result<T>>,
        mut stop: watch::Receiver<bool>,
    ) -> anyhow::Result<Option<T>> {
        let grace = self.requests;
        let overdue = async move {
            if stop.wait_for(|stopping| *stopping).await.is_err() {
                // Nobody can ask for a stop any more: only the server's own end counts.
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            served = served => served.map(Some),
            () = overdue => {
                tracing::warn!(
                    grace_ms = grace.as_millis() as u64,
                    "requests still in flight at the stop are dropped"
                );
                Ok(None)
            }
        }
    }

    /// Runs the steps after the web server's (they mark each with [`StopSteps::enter`]); gives
    /// up on them after the steps' grace, naming the step that overran. Returns whether they
    /// finished.
    pub async fn run_steps(&self, steps: &StopSteps, run: impl Future<Output = ()>) -> bool {
        if tokio::time::timeout(self.steps, run).await.is_ok() {
            return true;
        }
        tracing::warn!(
            step = steps.current(),
            grace_ms = self.steps.as_millis() as u64,
            "the stop did not finish in time; exiting without waiting for this step"
        );
        false
    }
}

/// The step a stop is in, for the log when it overruns.
#[derive(Debug)]
pub struct StopSteps {
    current: Mutex<&'static str>,
}

impl Default for StopSteps {
    fn default() -> Self {
        Self {
            current: Mutex::new("starting the stop"),
        }
    }
}

impl StopSteps {
    pub fn enter(&self, step: &'static str) {
        tracing::debug!(step, "stopping");
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = step;
    }

    pub fn current(&self) -> &'static str {
        *self.current.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    const GRACE: StopGrace = StopGrace {
        requests: Duration::from_millis(200),
        steps: Duration::from_millis(200),
    };

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn a_server_that_finishes_within_the_grace_gives_its_own_result() {
        runtime().block_on(async {
            let (_tx, stop) = watch::channel(true);
            let served = async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                anyhow::Ok(7)
            };
            assert_eq!(GRACE.serve(served, stop).await.unwrap(), Some(7));
            let failed = async { Err::<(), _>(anyhow::anyhow!("port gone")) };
            let (_tx, stop) = watch::channel(false);
            let err = GRACE.serve(failed, stop).await.unwrap_err();
            assert_eq!(err.to_string(), "port gone");
        });
    }

    #[test]
    fn requests_still_in_flight_after_the_grace_are_dropped() {
        runtime().block_on(async {
            let (tx, stop) = watch::channel(false);
            let started = Instant::now();
            let stop_later = async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                tx.send(true).unwrap();
                std::future::pending::<()>().await
            };
            let served = GRACE.serve(std::future::pending::<anyhow::Result<()>>(), stop);
            let outcome = tokio::select! {
                outcome = served => outcome,
                () = stop_later => unreachable!(),
            };
            assert!(outcome.unwrap().is_none());
            // Counted from the stop, not from the start.
            assert!(started.elapsed() >= Duration::from_millis(300));
        });
    }

    #[test]
    fn without_a_stop_the_server_is_never_cut_short() {
        runtime().block_on(async {
            let (tx, stop) = watch::channel(false);
            // Longer than the grace, and the stop can no longer come.
            drop(tx);
            let served = async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                anyhow::Ok("served")
            };
            assert_eq!(GRACE.serve(served, stop).await.unwrap(), Some("served"));
        });
    }

    #[test]
    fn steps_that_overrun_are_left_and_the_step_is_named() {
        runtime().block_on(async {
            let steps = StopSteps::default();
            let finished = GRACE
                .run_steps(&steps, async {
                    steps.enter("unregistering the node");
                    steps.enter("closing the database");
                    std::future::pending::<()>().await
                })
                .await;
            assert!(!finished);
            assert_eq!(steps.current(), "closing the database");
            let quick = GRACE
                .run_steps(&steps, async {
                    steps.enter("writing queued agent reports")
                })
                .await;
            assert!(quick);
        });
    }
}
