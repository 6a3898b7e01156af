//! Delivering the outbox to a chat platform, the same way on every platform: which
//! message a queued [`Delivery`] becomes (a finding's card and thread, a note, an approval
//! request and its live tally, a flood summary), rendered against the finding as it is now.
//! A platform supplies a [`Messenger`]: its renderer and how to post and edit a message.

use std::future::Future;

use chrono::Utc;

use super::deliver::{Created, Deliverer, SendError, Target};
use super::delivery::{self, Delivery, Platform, role};
use super::view::{ApprovalView, BatchView, FindingCard, Note};
use crate::app::App;
use crate::domain::workflow::PendingDecision;
use crate::domain::{Change, Event, FindingId, FindingState};
use crate::store::{ChatMessage, Claim, QueuedDelivery, StoreError};

/// One platform's rendering and sending, for [`ThreadDeliverer`].
pub trait Messenger: Send + Sync + 'static {
    /// A rendered message, ready to send.
    type Message: Send + Sync;

    fn platform(&self) -> Platform;

    /// Messages per second this platform allows in one channel.
    fn per_channel_rate(&self) -> f64;

    /// See [`Deliverer::edits_per_second`].
    fn edits_per_second(&self) -> Option<f64> {
        None
    }

    fn card(&self, card: &FindingCard) -> Self::Message;
    fn note(&self, note: &Note, id: FindingId) -> Self::Message;
    fn approval(&self, view: &ApprovalView, id: FindingId) -> Self::Message;
    fn approval_closed(&self, view: &ApprovalView, id: FindingId, outcome: &str) -> Self::Message;
    fn batch(&self, batch: &BatchView) -> Self::Message;

    /// The channel replies in `thread` are sent to (the pacing key).
    fn reply_channel(&self, thread: &ChatMessage) -> String;

    /// Post `message` at the top of `channel`, or as a reply in `thread`, tagged with the
    /// claim's outbox id; when `claim.in_doubt`, adopt a copy a crashed attempt already
    /// posted instead of posting twice. Returns where the message is.
    fn post(
        &self,
        claim: &Claim,
        channel: &str,
        thread: Option<&ChatMessage>,
        message: &Self::Message,
    ) -> impl Future<Output = Result<ChatMessage, SendError>> + Send;

    /// Replace a posted message's content (idempotent).
    fn update(
        &self,
        at: &ChatMessage,
        message: &Self::Message,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// Delivers the outbox with a platform's [`Messenger`].
pub struct ThreadDeliverer<M> {
    app: App,
    messenger: M,
}

pub fn store_error(e: StoreError) -> SendError {
    SendError::Transient {
        message: e.to_string(),
        maybe_sent: false,
    }
}

fn parse(item: &QueuedDelivery) -> Result<Delivery, SendError> {
    serde_json::from_str(&item.delivery)
        .map_err(|e| SendError::Permanent(format!("unreadable delivery `{}`: {e}", item.delivery)))
}

/// A flood summary not posted yet.
fn is_pending(m: &ChatMessage) -> bool {
    m.message_ref.starts_with("pending:")
}

impl<M: Messenger> ThreadDeliverer<M> {
    pub fn new(app: App, messenger: M) -> ThreadDeliverer<M> {
        ThreadDeliverer { app, messenger }
    }

    fn platform(&self) -> Platform {
        self.messenger.platform()
    }

    async fn message(&self, id: FindingId, role: &str) -> Result<Option<ChatMessage>, SendError> {
        self.app
            .store
            .chat_message(self.platform().as_str(), id, role)
            .await
            .map_err(store_error)
    }

    async fn state(&self, id: FindingId) -> Result<FindingState, SendError> {
        match self.app.store.finding(id).await.map_err(store_error)? {
            Some(f) => Ok(f.state),
            None => Err(SendError::Permanent(format!("finding {id} does not exist"))),
        }
    }

    fn card(&self, id: FindingId, state: &FindingState) -> M::Message {
        self.messenger
            .card(&FindingCard::from_state(id, state, Utc::now()))
    }

    fn approval_view(&self, p: &PendingDecision) -> ApprovalView {
        // Approver groups are global: every policy variant shares the base policy's.
        ApprovalView::from_pending(p, &self.app.settings.policy.groups)
    }

    /// The most recent decision that is no longer pending, and how it ended.
    async fn last_decision(
        &self,
        id: FindingId,
    ) -> Result<Option<(PendingDecision, &'static str)>, SendError> {
        let trail = self.app.store.trail(id).await.map_err(store_error)?;
        let events = trail
            .iter()
            .map(|e| e.to_event())
            .collect::<Result<Vec<Event>, _>>()
            .map_err(store_error)?;
        Ok(last_decision(&events))
    }
}

/// Fold a trail and return the last approval request that was settled, with its outcome.
pub fn last_decision(events: &[Event]) -> Option<(PendingDecision, &'static str)> {
    let mut it = events.iter();
    let first = it.next()?;
    let mut state = FindingState::created(&first.change, first.at)?;
    let mut last = None;
    for e in it {
        let before = state.pending.clone();
        state.apply(e);
        if let (Some(p), None) = (before, &state.pending) {
            let outcome = match &e.change {
                Change::Closed { .. } | Change::RiskAccepted { .. } => "approved",
                Change::DecisionRejected { .. } => "rejected",
                Change::ApprovalWithdrawn => "withdrawn",
                _ => "ended",
            };
            last = Some((p, outcome));
        }
    }
    last
}

impl<M: Messenger> Deliverer for ThreadDeliverer<M> {
    fn platform(&self) -> Platform {
        self.messenger.platform()
    }

    fn per_channel_rate(&self) -> f64 {
        self.messenger.per_channel_rate()
    }

    fn edits_per_second(&self) -> Option<f64> {
        self.messenger.edits_per_second()
    }

    async fn target(&self, item: &QueuedDelivery) -> Result<Target, SendError> {
        let platform = self.platform();
        let delivery = parse(item)?;
        if let Delivery::Batch { .. } = delivery {
            let batch = self.message(item.finding, role::BATCH).await?;
            return Ok(match batch {
                Some(b) => Target::Channel(b.channel),
                None => Target::Skip("the batch has no pending summary".into()),
            });
        }
        if let Some(thread) = self.message(item.finding, role::THREAD).await? {
            return Ok(Target::Channel(self.messenger.reply_channel(&thread)));
        }
        if let Some(batch) = self.message(item.finding, role::BATCH).await? {
            // The finding's messages go to its batch's thread, once the summary is posted.
            return Ok(if is_pending(&batch) {
                Target::Wait
            } else {
                Target::Channel(self.messenger.reply_channel(&batch))
            });
        }
        // No thread yet: a new finding's card, or a finding that now qualifies for a thread
        // (its severity was raised into the route's `thread_severities`).
        if !matches!(delivery, Delivery::OpenThread | Delivery::RefreshCard) {
            let name = platform.name();
            return Ok(Target::Skip(format!("the finding has no {name} thread")));
        }
        let state = self.state(item.finding).await?;
        let home = delivery::thread_home(
            &self.app.settings,
            platform,
            state.severity,
            state.route.as_deref(),
        );
        Ok(match home {
            Some(c) => Target::Channel(c),
            None => Target::Skip(format!(
                "no {name} thread for this finding: route `{}` threads no {} findings here, or names no {name} channel and [{key}] default_channel is not set",
                state.route.as_deref().unwrap_or("-"),
                state.severity,
                name = platform.name(),
                key = platform.as_str(),
            )),
        })
    }

    async fn deliver(&self, claim: &Claim, channel: &str) -> Result<Created, SendError> {
        let m = &self.messenger;
        let id = claim.item.finding;
        let state = self.state(id).await?;
        let thread = self.message(id, role::THREAD).await?;
        let batch = self
            .message(id, role::BATCH)
            .await?
            .filter(|b| !is_pending(b));
        let replies_in = thread.as_ref().or(batch.as_ref());
        let card = self.message(id, role::CARD).await?;
        match parse(&claim.item)? {
            Delivery::Batch { token, findings } => {
                let mut states = Vec::with_capacity(findings.len());
                for key in findings {
                    let fid = FindingId::from_key(key);
                    if let Some(f) = self.app.store.finding(fid).await.map_err(store_error)? {
                        states.push((fid, f.state));
                    }
                }
                let summary = m.batch(&BatchView::new(&states));
                let posted = m.post(claim, channel, None, &summary).await?;
                self.app
                    .store
                    .resolve_batch(self.platform().as_str(), &token, &posted)
                    .await
                    .map_err(store_error)?;
                Ok(Vec::new())
            }
            // A card exists already (opened, then its severity left and re-entered the
            // route's thread severities): bring it up to date instead of posting another.
            Delivery::OpenThread | Delivery::RefreshCard if card.is_some() => {
                if let Some(card) = &card {
                    m.update(card, &self.card(id, &state)).await?;
                }
                Ok(Vec::new())
            }
            Delivery::RefreshCard if thread.is_some() || batch.is_some() => Ok(Vec::new()),
            Delivery::OpenThread | Delivery::RefreshCard => {
                let posted = m
                    .post(claim, channel, replies_in, &self.card(id, &state))
                    .await?;
                Ok(match thread {
                    // The finding came from an alert message: the card is its first reply.
                    Some(_) => vec![(role::CARD, posted)],
                    None => vec![(role::THREAD, posted.clone()), (role::CARD, posted)],
                })
            }
            Delivery::Note { seq } => {
                let stored = self.app.store.event(seq).await.map_err(store_error)?;
                let event = stored
                    .map(|e| e.to_event())
                    .transpose()
                    .map_err(store_error)?;
                let note = event.and_then(|e| Note::from_event(id, &e, &state));
                if let Some(note) = note {
                    m.post(claim, channel, replies_in, &m.note(&note, id))
                        .await?;
                }
                Ok(Vec::new())
            }
            Delivery::Approval { .. } => {
                let Some(pending) = &state.pending else {
                    // Decided before the request was posted: the refresh shows the outcome.
                    return Ok(Vec::new());
                };
                let view = self.approval_view(pending);
                let posted = m
                    .post(claim, channel, replies_in, &m.approval(&view, id))
                    .await?;
                Ok(vec![(role::APPROVAL, posted)])
            }
            Delivery::RefreshApproval => {
                let Some(message) = self.message(id, role::APPROVAL).await? else {
                    return Ok(Vec::new());
                };
                let rendered = match &state.pending {
                    Some(p) => m.approval(&self.approval_view(p), id),
                    None => match self.last_decision(id).await? {
                        Some((p, outcome)) => {
                            m.approval_closed(&self.approval_view(&p), id, outcome)
                        }
                        None => return Ok(Vec::new()),
                    },
                };
                m.update(&message, &rendered).await?;
                Ok(Vec::new())
            }
        }
    }
}
