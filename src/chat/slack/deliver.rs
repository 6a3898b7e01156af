//! Slack's side of outbox delivery: render a queued delivery against the finding as it is
//! now and post or edit it with the Web API.
//!
//! No duplicate posts after a crash: every message remedybot posts carries Slack message
//! metadata `{"event_type": "remedybot_outbox", "event_payload": {"outbox_id": N}}`. When a
//! claim is *in doubt* (a previous sender's lease ran out, or a call timed out), the
//! deliverer first reads the channel (`conversations.history`) or the thread
//! (`conversations.replies`) with `include_all_metadata` and adopts a message carrying the
//! same outbox id instead of posting again. Edits (`chat.update`) are idempotent and need
//! no check.

use chrono::Utc;
use serde_json::{Value, json};

use super::api::SlackApi;
use super::render::{SlackMessage, SlackRenderer};
use crate::app::App;
use crate::chat::deliver::{Created, Deliverer, SendError, Target};
use crate::chat::delivery::{self, Delivery, Platform, role};
use crate::chat::view::{ApprovalView, BatchView, FindingCard, Note};
use crate::domain::workflow::PendingDecision;
use crate::domain::{Change, Event, FindingId, FindingState};
use crate::store::{ChatMessage, Claim, QueuedDelivery, StoreError};

/// The metadata event type remedybot tags its messages with.
pub const METADATA_EVENT_TYPE: &str = "remedybot_outbox";
/// How many messages a reconciliation reads back.
const RECONCILE_LIMIT: &str = "200";

/// Delivers the outbox to Slack.
pub struct SlackDeliverer {
    app: App,
    api: SlackApi,
    render: SlackRenderer,
}

fn store_error(e: StoreError) -> SendError {
    SendError::Transient {
        message: e.to_string(),
        maybe_sent: false,
    }
}

fn parse(item: &QueuedDelivery) -> Result<Delivery, SendError> {
    serde_json::from_str(&item.delivery)
        .map_err(|e| SendError::Permanent(format!("unreadable delivery `{}`: {e}", item.delivery)))
}

impl SlackDeliverer {
    pub fn new(app: App, api: SlackApi, render: SlackRenderer) -> SlackDeliverer {
        SlackDeliverer { app, api, render }
    }

    async fn message(&self, id: FindingId, role: &str) -> Result<Option<ChatMessage>, SendError> {
        self.app
            .store
            .chat_message(Platform::Slack.as_str(), id, role)
            .await
            .map_err(store_error)
    }

    /// The channel a finding's thread opens in, if it gets one (see
    /// [`delivery::thread_home`]).
    fn home_channel(&self, state: &FindingState) -> Option<String> {
        delivery::thread_home(
            &self.app.settings,
            Platform::Slack,
            state.severity,
            state.route.as_deref(),
        )
    }

    async fn state(&self, id: FindingId) -> Result<FindingState, SendError> {
        match self.app.store.finding(id).await.map_err(store_error)? {
            Some(f) => Ok(f.state),
            None => Err(SendError::Permanent(format!("finding {id} does not exist"))),
        }
    }

    /// Post a message (in a thread when `thread_ts` is set), tagged with the outbox id, or
    /// adopt the copy a crashed attempt already posted. Returns where it is: the channel as
    /// Slack names it (its id, even when the configuration gave a `#name`) and its `ts`.
    async fn post(
        &self,
        claim: &Claim,
        channel: &str,
        thread_ts: Option<&str>,
        message: &SlackMessage,
    ) -> Result<ChatMessage, SendError> {
        let outbox_id = claim.item.id;
        if claim.in_doubt
            && let Some(ts) = self.find_posted(claim, channel, thread_ts).await?
        {
            tracing::info!(
                outbox.id = outbox_id,
                channel,
                ts,
                "message was already posted; adopted"
            );
            return Ok(ChatMessage {
                channel: channel.to_string(),
                message_ref: ts,
            });
        }
        let mut body = json!({
            "channel": channel,
            "text": message.text,
            "blocks": message.blocks,
            "unfurl_links": false,
            "unfurl_media": false,
            "metadata": {
                "event_type": METADATA_EVENT_TYPE,
                "event_payload": {
                    "outbox_id": outbox_id,
                    "finding": claim.item.finding.to_string(),
                },
            },
        });
        if let Some(ts) = thread_ts {
            body["thread_ts"] = json!(ts);
        }
        let reply = self.api.post("chat.postMessage", &body).await?;
        let ts = reply["ts"].as_str().ok_or_else(|| SendError::Transient {
            message: "chat.postMessage answered without a ts".into(),
            maybe_sent: true,
        })?;
        Ok(ChatMessage {
            channel: reply["channel"].as_str().unwrap_or(channel).to_string(),
            message_ref: ts.to_string(),
        })
    }

    /// A message carrying this claim's outbox id, if Slack has one.
    async fn find_posted(
        &self,
        claim: &Claim,
        channel: &str,
        thread_ts: Option<&str>,
    ) -> Result<Option<String>, SendError> {
        let mut params = vec![
            ("channel", channel.to_string()),
            ("include_all_metadata", "true".to_string()),
            ("limit", RECONCILE_LIMIT.to_string()),
        ];
        let method = match thread_ts {
            Some(ts) => {
                params.push(("ts", ts.to_string()));
                "conversations.replies"
            }
            None => {
                // Messages posted since a little before the row was queued.
                let oldest = claim.item.created_at.timestamp() - 60;
                params.push(("oldest", format!("{oldest}.000000")));
                "conversations.history"
            }
        };
        let reply = self.api.get(method, &params).await?;
        Ok(find_outbox_message(&reply, claim.item.id))
    }

    async fn update(
        &self,
        message: &ChatMessage,
        rendered: &SlackMessage,
    ) -> Result<(), SendError> {
        let body = json!({
            "channel": message.channel,
            "ts": message.message_ref,
            "text": rendered.text,
            "blocks": rendered.blocks,
        });
        self.api.post("chat.update", &body).await.map(|_| ())
    }

    fn card(&self, id: FindingId, state: &FindingState) -> SlackMessage {
        self.render
            .root(&FindingCard::from_state(id, state, Utc::now()))
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

/// A flood summary not posted yet.
fn is_pending(m: &ChatMessage) -> bool {
    m.message_ref.starts_with("pending:")
}

/// The `ts` of the message in a history/replies answer whose metadata names `outbox_id`.
pub fn find_outbox_message(reply: &Value, outbox_id: i64) -> Option<String> {
    reply["messages"].as_array()?.iter().find_map(|m| {
        let meta = &m["metadata"];
        (meta["event_type"] == METADATA_EVENT_TYPE
            && meta["event_payload"]["outbox_id"].as_i64() == Some(outbox_id))
        .then(|| m["ts"].as_str().map(str::to_string))
        .flatten()
    })
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

impl Deliverer for SlackDeliverer {
    fn platform(&self) -> Platform {
        Platform::Slack
    }

    fn per_channel_rate(&self) -> f64 {
        self.app.settings.slack.messages_per_second_per_channel
    }

    async fn target(&self, item: &QueuedDelivery) -> Result<Target, SendError> {
        let delivery = parse(item)?;
        if let Delivery::Batch { .. } = delivery {
            let batch = self.message(item.finding, role::BATCH).await?;
            return Ok(match batch {
                Some(b) => Target::Channel(b.channel),
                None => Target::Skip("the batch has no pending summary".into()),
            });
        }
        if let Some(thread) = self.message(item.finding, role::THREAD).await? {
            return Ok(Target::Channel(thread.channel));
        }
        if let Some(batch) = self.message(item.finding, role::BATCH).await? {
            // The finding's messages go to its batch's thread, once the summary is posted.
            return Ok(if is_pending(&batch) {
                Target::Wait
            } else {
                Target::Channel(batch.channel)
            });
        }
        // No thread yet: a new finding's card, or a finding that now qualifies for a thread
        // (its severity was raised into the route's `thread_severities`).
        if !matches!(delivery, Delivery::OpenThread | Delivery::RefreshCard) {
            return Ok(Target::Skip("the finding has no Slack thread".into()));
        }
        let state = self.state(item.finding).await?;
        Ok(match self.home_channel(&state) {
            Some(c) => Target::Channel(c),
            None => Target::Skip(format!(
                "no Slack thread for this finding: route `{}` threads no {} findings here, or names no Slack channel and [slack] default_channel is not set",
                state.route.as_deref().unwrap_or("-"),
                state.severity
            )),
        })
    }

    async fn deliver(&self, claim: &Claim, channel: &str) -> Result<Created, SendError> {
        let id = claim.item.finding;
        let state = self.state(id).await?;
        let thread = self.message(id, role::THREAD).await?;
        let batch = self
            .message(id, role::BATCH)
            .await?
            .filter(|b| !is_pending(b));
        let thread_ts = thread
            .as_ref()
            .or(batch.as_ref())
            .map(|t| t.message_ref.as_str());
        let card = self.message(id, role::CARD).await?;
        let delivery = parse(&claim.item)?;
        match delivery {
            Delivery::Batch { token, findings } => {
                let mut states = Vec::with_capacity(findings.len());
                for key in findings {
                    let fid = FindingId::from_key(key);
                    if let Some(f) = self.app.store.finding(fid).await.map_err(store_error)? {
                        states.push((fid, f.state));
                    }
                }
                let summary = self.render.batch(&BatchView::new(&states));
                let posted = self.post(claim, channel, None, &summary).await?;
                self.app
                    .store
                    .resolve_batch(Platform::Slack.as_str(), &token, &posted)
                    .await
                    .map_err(store_error)?;
                Ok(Vec::new())
            }
            // A card exists already (opened, then its severity left and re-entered the
            // route's thread severities): bring it up to date instead of posting another.
            Delivery::OpenThread | Delivery::RefreshCard if card.is_some() => {
                if let Some(card) = &card {
                    self.update(card, &self.card(id, &state)).await?;
                }
                Ok(Vec::new())
            }
            Delivery::RefreshCard if thread.is_some() || batch.is_some() => Ok(Vec::new()),
            Delivery::OpenThread | Delivery::RefreshCard => {
                let posted = self
                    .post(claim, channel, thread_ts, &self.card(id, &state))
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
                    self.post(claim, channel, thread_ts, &self.render.note(&note, id))
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
                let posted = self
                    .post(claim, channel, thread_ts, &self.render.approval(&view, id))
                    .await?;
                Ok(vec![(role::APPROVAL, posted)])
            }
            Delivery::RefreshApproval => {
                let Some(message) = self.message(id, role::APPROVAL).await? else {
                    return Ok(Vec::new());
                };
                let rendered = match &state.pending {
                    Some(p) => self.render.approval(&self.approval_view(p), id),
                    None => match self.last_decision(id).await? {
                        Some((p, outcome)) => {
                            self.render
                                .approval_closed(&self.approval_view(&p), id, outcome)
                        }
                        None => return Ok(Vec::new()),
                    },
                };
                self.update(&message, &rendered).await?;
                Ok(Vec::new())
            }
        }
    }
}
