//! Deliver the chat outbox: messages go out in order per finding (lane), paced per channel,
//! retried with backoff on server errors and timeouts, held back for `Retry-After` on a
//! rate limit, parked when the platform refuses them for good, and reconciled after a
//! crash (a claim whose lease ran out is *in doubt*; see `store::outbox`).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::app::App;
use crate::chat::deliver::{Deliverer, Pacer, SendError, Target};
use crate::chat::delivery::Delivery;
use crate::store::{QueuedDelivery, StoreError};

/// How long a claim lasts; a sender that has not finished by then is presumed dead.
/// Longer than any platform call's timeout.
const LEASE: Duration = Duration::from_secs(60);
/// Poll period when nothing signals new messages (other replicas' messages, retries).
const POLL: Duration = Duration::from_millis(500);
/// Messages looked at per round.
const BATCH: i64 = 200;
/// Longest backoff between attempts after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Backoff after `attempts` failed tries: 1 s, 2 s, 4 s … up to five minutes, with jitter
/// so replicas and messages do not retry in lockstep.
pub fn backoff(attempts: i64) -> Duration {
    let exp = attempts.clamp(1, 20) as u32 - 1;
    let base = Duration::from_secs(1u64 << exp.min(9)).min(MAX_BACKOFF);
    let jitter = (u64::from(Utc::now().timestamp_subsec_nanos()) % 250) as f64 / 1000.0;
    base.mul_f64(1.0 + jitter).min(MAX_BACKOFF)
}

/// Run until shutdown.
pub async fn run<D: Deliverer>(app: App, deliverer: Arc<D>, mut shutdown: watch::Receiver<bool>) {
    let mut worker = Worker {
        pacer: Pacer::new(deliverer.per_channel_rate()),
        edits: deliverer.edits_per_second().map(Pacer::new),
        app,
        deliverer,
    };
    loop {
        let wait = match worker.round().await {
            // Something went out: its lane's next message may be due at once.
            Ok((_, true)) => Duration::ZERO,
            Ok((next, false)) => next.map_or(POLL, |t| t.saturating_duration_since(Instant::now())),
            Err(e) => {
                tracing::warn!(error = %e, "chat outbox round failed");
                POLL
            }
        };
        let signal = worker.app.outbox_signal.clone();
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = signal.of(worker.deliverer.platform()).notified() => {}
            _ = tokio::time::sleep(wait.min(POLL)) => {}
        }
    }
}

struct Worker<D> {
    app: App,
    deliverer: Arc<D>,
    /// Per channel.
    pacer: Pacer,
    /// Edits across all channels, when the platform limits them per method (key [`EDITS`]).
    edits: Option<Pacer>,
}

/// The pacing key of edits in [`Worker::edits`].
const EDITS: &str = "edits";

/// Whether a queued delivery edits a message (a refresh) rather than posting one.
fn is_edit(item: &QueuedDelivery) -> bool {
    serde_json::from_str::<Delivery>(&item.delivery).is_ok_and(|d| d.is_refresh())
}

impl<D: Deliverer> Worker<D> {
    /// Send what is due. Returns when the earliest paced channel frees up, if one is
    /// holding messages back, and whether anything was sent or dropped.
    async fn round(&mut self) -> Result<(Option<Instant>, bool), StoreError> {
        let platform = self.deliverer.platform().as_str();
        let store = self.app.store.clone();
        let due = store.due_deliveries(platform, Utc::now(), BATCH).await?;
        let mut earliest: Option<Instant> = None;
        let mut progressed = false;
        for item in due {
            let channel = match self.deliverer.target(&item).await {
                Ok(Target::Channel(c)) => c,
                Ok(Target::Wait) => continue,
                Ok(Target::Skip(why)) => {
                    tracing::debug!(outbox.id = item.id, finding.id = %item.finding, why, "nothing to deliver");
                    store.drop_delivery(item.id).await?;
                    progressed = true;
                    continue;
                }
                Err(e) => {
                    let paced = Paced {
                        channel: None,
                        edit: false,
                    };
                    self.failed(
                        item.id,
                        item.attempts + 1,
                        &item.finding.to_string(),
                        paced,
                        e,
                    )
                    .await?;
                    continue;
                }
            };
            let edit = is_edit(&item);
            let method_blocked = match &self.edits {
                Some(edits) if edit => edits.blocked(EDITS, Instant::now()),
                _ => None,
            };
            if let Some(t) = self
                .pacer
                .blocked(&channel, Instant::now())
                .or(method_blocked)
            {
                earliest = Some(earliest.map_or(t, |e| e.min(t)));
                continue;
            }
            let now = Utc::now();
            let lease = chrono::Duration::from_std(LEASE).unwrap_or_default();
            let Some(claim) = store.claim_delivery(item.id, now, now + lease).await? else {
                continue; // another replica has it
            };
            if !claim.in_doubt && store.superseded(&claim.item).await? {
                store.drop_delivery(item.id).await?;
                progressed = true;
                continue;
            }
            self.pacer.sent(&channel, Instant::now());
            if let Some(edits) = self.edits.as_mut().filter(|_| edit) {
                edits.sent(EDITS, Instant::now());
            }
            let result = self.deliverer.deliver(&claim, &channel).await;
            match result {
                Ok(created) => {
                    store
                        .delivered(item.id, platform, item.finding, &created)
                        .await?;
                    self.app.metrics.record_chat_delivery(platform, "delivered");
                    progressed = true;
                }
                Err(e) => {
                    let id = claim.item.id;
                    let finding = claim.item.finding.to_string();
                    let paced = Paced {
                        channel: Some(&channel),
                        edit,
                    };
                    self.failed(id, claim.item.attempts, &finding, paced, e)
                        .await?;
                }
            }
        }
        self.pacer.forget_idle(Instant::now());
        Ok((earliest, progressed))
    }

    async fn failed(
        &mut self,
        id: i64,
        attempts: i64,
        finding: &str,
        paced: Paced<'_>,
        e: SendError,
    ) -> Result<(), StoreError> {
        let platform = self.deliverer.platform().as_str();
        let store = &self.app.store;
        match e {
            SendError::RateLimited { retry_after } => {
                if let Some(c) = paced.channel {
                    self.pacer.pause(c, Instant::now(), retry_after);
                }
                // A rate-limited edit may be the method's limit, not the channel's.
                if let Some(edits) = self.edits.as_mut().filter(|_| paced.edit) {
                    edits.pause(EDITS, Instant::now(), retry_after);
                }
                let at = Utc::now() + chrono::Duration::from_std(retry_after).unwrap_or_default();
                tracing::info!(
                    outbox.id = id,
                    finding.id = finding,
                    ?retry_after,
                    "rate limited by the platform"
                );
                store
                    .retry_delivery(id, at, "rate limited", false, false)
                    .await?;
                self.app
                    .metrics
                    .record_chat_delivery(platform, "rate_limited");
            }
            SendError::Transient {
                message,
                maybe_sent,
            } => {
                let wait = backoff(attempts);
                let at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                tracing::warn!(outbox.id = id, finding.id = finding, attempts, ?wait, error = %message, "chat delivery failed; will retry");
                store
                    .retry_delivery(id, at, &message, true, maybe_sent)
                    .await?;
                self.app.metrics.record_chat_delivery(platform, "retried");
            }
            SendError::Permanent(message) => {
                tracing::error!(outbox.id = id, finding.id = finding, error = %message, "chat delivery refused for good; parked");
                store.dead_delivery(id, &message).await?;
                self.app.metrics.record_chat_delivery(platform, "dead");
            }
        }
        Ok(())
    }
}

/// What a failed send was paced by.
struct Paced<'a> {
    channel: Option<&'a str>,
    edit: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) >= Duration::from_secs(1) && backoff(1) < Duration::from_secs(2));
        assert!(backoff(3) >= Duration::from_secs(4));
        assert_eq!(backoff(50), MAX_BACKOFF);
    }
}
