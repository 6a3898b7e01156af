//! The boundary between the outbox worker and a platform: where a queued message goes,
//! and sending it. Platforms implement [`Deliverer`]; the worker (`jobs::outbox`) owns
//! ordering, pacing, retries and crash recovery, the same for every platform.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::delivery::Platform;
use crate::store::{ChatMessage, Claim, QueuedDelivery};

/// Where a queued message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Send it to this channel (the pacing key).
    Channel(String),
    /// Nothing to send (e.g. the finding has no thread on this platform): drop it.
    Skip(String),
    /// Not yet: something it depends on has not been delivered (its batch summary).
    Wait,
}

/// Why a send failed, and what the worker should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The platform asked us to slow down: wait, then try again (not a failed attempt).
    #[error("rate limited; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// A server error, a timeout, a dropped connection: try again with backoff.
    /// `maybe_sent` when the platform may have accepted the message anyway (a timeout
    /// after the request was written), so the next attempt reconciles first.
    #[error("{message}")]
    Transient { message: String, maybe_sent: bool },
    /// The platform will never accept this message (channel gone, bad request): park it.
    #[error("{0}")]
    Permanent(String),
}

/// Messages the platform created, to remember per finding: `(role, message)`.
pub type Created = Vec<(&'static str, ChatMessage)>;

/// One chat platform's side of delivery.
pub trait Deliverer: Send + Sync + 'static {
    fn platform(&self) -> Platform;

    /// Where this message goes. Cheap: the worker calls it before claiming, for pacing.
    fn target(
        &self,
        item: &QueuedDelivery,
    ) -> impl Future<Output = Result<Target, SendError>> + Send;

    /// Send a claimed message. When `claim.in_doubt`, first look for a copy the platform
    /// already has (a crash after sending) and adopt it instead of sending twice.
    fn deliver(
        &self,
        claim: &Claim,
        channel: &str,
    ) -> impl Future<Output = Result<Created, SendError>> + Send;

    /// Messages per second this platform allows in one channel.
    fn per_channel_rate(&self) -> f64;

    /// Edits of existing messages per second the platform allows across all channels (a
    /// per-method limit, like Slack's for `chat.update`); `None`: only per-channel pacing.
    fn edits_per_second(&self) -> Option<f64> {
        None
    }
}

/// Per-channel pacing: at most `rate` messages a second in each channel, and a pause when
/// the platform says so. Burst of one: messages are spread evenly, never bunched.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    next: HashMap<String, Instant>,
}

impl Pacer {
    pub fn new(rate_per_second: f64) -> Pacer {
        let rate = rate_per_second.clamp(0.001, 1000.0);
        Pacer {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: HashMap::new(),
        }
    }

    /// When the channel may be sent to next, if not now.
    pub fn blocked(&self, channel: &str, now: Instant) -> Option<Instant> {
        self.next.get(channel).copied().filter(|t| *t > now)
    }

    /// A message is going out now: the next may go one interval later.
    pub fn sent(&mut self, channel: &str, now: Instant) {
        let next = self.next.get(channel).copied().unwrap_or(now).max(now) + self.interval;
        self.next.insert(channel.to_string(), next);
    }

    /// The platform asked for a pause in this channel.
    pub fn pause(&mut self, channel: &str, now: Instant, wait: Duration) {
        let until = now + wait;
        let next = self.next.entry(channel.to_string()).or_insert(until);
        *next = (*next).max(until);
    }

    /// Forget channels idle for a while, so the map does not grow without bound.
    pub fn forget_idle(&mut self, now: Instant) {
        self.next.retain(|_, t| *t > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pacer_spaces_messages_in_one_channel_and_not_across_channels() {
        let t0 = Instant::now();
        let mut p = Pacer::new(2.0);
        assert_eq!(p.blocked("C1", t0), None);
        p.sent("C1", t0);
        assert_eq!(p.blocked("C1", t0), Some(t0 + Duration::from_millis(500)));
        assert_eq!(p.blocked("C2", t0), None);
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(p.blocked("C1", t1), None);
        p.sent("C1", t1);
        assert_eq!(p.blocked("C1", t1), Some(t1 + Duration::from_millis(500)));
    }

    #[test]
    fn a_pause_holds_the_channel_for_the_whole_wait() {
        let t0 = Instant::now();
        let mut p = Pacer::new(10.0);
        p.pause("C1", t0, Duration::from_secs(3));
        assert_eq!(p.blocked("C1", t0), Some(t0 + Duration::from_secs(3)));
        // A shorter pause does not shorten it.
        p.pause("C1", t0, Duration::from_secs(1));
        assert_eq!(p.blocked("C1", t0), Some(t0 + Duration::from_secs(3)));
        p.forget_idle(t0 + Duration::from_secs(4));
        assert_eq!(p.blocked("C1", t0), None);
    }
}
