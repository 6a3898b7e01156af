//! Slack's side of outbox delivery ([`SlackMessenger`] for the platform-neutral
//! [`ThreadDeliverer`]): render with the Slack templates, post with `chat.postMessage` and
//! edit with `chat.update`.
//!
//! No duplicate posts after a crash: every message remedybot posts carries Slack message
//! metadata `{"event_type": "remedybot_outbox", "event_payload": {"outbox_id": N}}`. When a
//! claim is *in doubt* (a previous sender's lease ran out, or a call timed out), the
//! deliverer first reads the channel (`conversations.history`) or the thread
//! (`conversations.replies`) with `include_all_metadata` and adopts a message carrying the
//! same outbox id instead of posting again. Edits (`chat.update`) are idempotent and need
//! no check.

use serde_json::{Value, json};

use super::api::SlackApi;
use super::render::{SlackMessage, SlackRenderer};
use crate::chat::deliver::SendError;
use crate::chat::delivery::Platform;
use crate::chat::outbox::{Messenger, ThreadDeliverer};
use crate::chat::view::{ApprovalView, BatchView, FindingCard, Note};
use crate::domain::FindingId;
use crate::store::{ChatMessage, Claim};

/// The metadata event type remedybot tags its messages with.
pub const METADATA_EVENT_TYPE: &str = "remedybot_outbox";
/// How many messages a reconciliation reads back.
const RECONCILE_LIMIT: &str = "200";

/// Delivers the outbox to Slack.
pub type SlackDeliverer = ThreadDeliverer<SlackMessenger>;

/// Slack's rendering and sending.
pub struct SlackMessenger {
    api: SlackApi,
    render: SlackRenderer,
    rate: f64,
    edits_per_minute: f64,
}

impl SlackMessenger {
    /// `rate`: `[slack] messages_per_second_per_channel`; `edits_per_minute`: `[slack]
    /// edits_per_minute` (`chat.update` across the workspace).
    pub fn new(
        api: SlackApi,
        render: SlackRenderer,
        rate: f64,
        edits_per_minute: f64,
    ) -> SlackMessenger {
        SlackMessenger {
            api,
            render,
            rate,
            edits_per_minute,
        }
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

impl Messenger for SlackMessenger {
    type Message = SlackMessage;

    fn platform(&self) -> Platform {
        Platform::Slack
    }

    fn per_channel_rate(&self) -> f64 {
        self.rate
    }

    fn edits_per_second(&self) -> Option<f64> {
        Some(self.edits_per_minute / 60.0)
    }

    fn card(&self, card: &FindingCard) -> SlackMessage {
        self.render.root(card)
    }

    fn note(&self, note: &Note, id: FindingId) -> SlackMessage {
        self.render.note(note, id)
    }

    fn approval(&self, view: &ApprovalView, id: FindingId) -> SlackMessage {
        self.render.approval(view, id)
    }

    fn approval_closed(&self, view: &ApprovalView, id: FindingId, outcome: &str) -> SlackMessage {
        self.render.approval_closed(view, id, outcome)
    }

    fn batch(&self, batch: &BatchView) -> SlackMessage {
        self.render.batch(batch)
    }

    /// Slack threads are replies in the parent's channel.
    fn reply_channel(&self, thread: &ChatMessage) -> String {
        thread.channel.clone()
    }

    /// Post a message (in a thread when `thread_ts` is set), tagged with the outbox id, or
    /// adopt the copy a crashed attempt already posted. Returns where it is: the channel as
    /// Slack names it (its id, even when the configuration gave a `#name`) and its `ts`.
    async fn post(
        &self,
        claim: &Claim,
        channel: &str,
        thread: Option<&ChatMessage>,
        message: &SlackMessage,
    ) -> Result<ChatMessage, SendError> {
        let thread_ts = thread.map(|t| t.message_ref.as_str());
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
}
