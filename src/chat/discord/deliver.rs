//! Discord's side of outbox delivery ([`DiscordMessenger`] for the platform-neutral
//! [`ThreadDeliverer`]): render with the Discord templates, create messages, start a
//! thread on each finding's root message, post the rest in that thread, edit in place.
//!
//! Threads: a finding's root message is posted in its channel and a thread is started on
//! it (its id is the message's id); notes and approval requests go into the thread. For a
//! finding that came from an alert message, the thread is started on the alert itself and
//! the card is its first message.
//!
//! No duplicate posts after a crash or a timeout: every message is created with
//! `nonce = "rb-<outbox id>"` and `enforce_nonce: true`, so Discord answers a repeat of
//! the same create with the message it already made instead of making another. Discord
//! remembers nonces for a few minutes; the outbox retries an in-doubt claim after its 60 s
//! lease, well within that. Starting a thread that exists (`160004`) counts as done, and
//! edits are idempotent.

use std::collections::HashSet;
use std::sync::Mutex;

use serde_json::{Value, json};
use serenity::http::{LightMethod, Route};
use serenity::model::id::{ChannelId, MessageId};

use super::api::DiscordApi;
use super::render::{DiscordMessage, DiscordRenderer};
use crate::chat::deliver::SendError;
use crate::chat::delivery::Platform;
use crate::chat::outbox::{Messenger, ThreadDeliverer};
use crate::chat::view::{ApprovalView, BatchView, FindingCard, Note};
use crate::domain::FindingId;
use crate::store::{ChatMessage, Claim};

/// Delivers the outbox to Discord.
pub type DiscordDeliverer = ThreadDeliverer<DiscordMessenger>;

/// Discord's "a thread has already been created for this message".
const THREAD_EXISTS: &str = "Discord error 160004";
/// Threads go quiet after a week without messages (Discord's longest archive period).
const AUTO_ARCHIVE_MINUTES: u32 = 10080;
/// Longest wait for an exhausted bucket inside one send (longer waits come back as 429s,
/// which the worker holds the channel back for).
const MAX_BUCKET_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Discord's rendering and sending.
pub struct DiscordMessenger {
    api: DiscordApi,
    render: DiscordRenderer,
    rate: f64,
    /// Messages known to have a thread (by message id), so a thread is started once.
    threads: Mutex<HashSet<String>>,
}

/// A snowflake from a stored id; a malformed one can never be sent.
fn snowflake(what: &str, id: &str) -> Result<u64, SendError> {
    id.parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| SendError::Permanent(format!("{what} `{id}` is not a Discord id")))
}

impl DiscordMessenger {
    /// `rate`: `[discord] messages_per_second_per_channel`.
    pub fn new(api: DiscordApi, render: DiscordRenderer, rate: f64) -> DiscordMessenger {
        DiscordMessenger {
            api,
            render,
            rate,
            threads: Mutex::new(HashSet::new()),
        }
    }

    fn known_thread(&self, message_id: &str) -> bool {
        self.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(message_id)
    }

    fn remember_thread(&self, message_id: &str) {
        self.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(message_id.to_string());
    }

    /// Start a thread on `root` (once; an existing thread counts as started).
    async fn ensure_thread(&self, root: &ChatMessage, name: &str) -> Result<(), SendError> {
        if self.known_thread(&root.message_ref) {
            return Ok(());
        }
        let route = Route::ChannelMessageThreads {
            channel_id: ChannelId::new(snowflake("channel", &root.channel)?),
            message_id: MessageId::new(snowflake("message", &root.message_ref)?),
        };
        let body = json!({ "name": name, "auto_archive_duration": AUTO_ARCHIVE_MINUTES });
        match self
            .api
            .call("start thread", route, LightMethod::Post, Some(&body))
            .await
        {
            Ok(_) => {}
            Err(SendError::Permanent(m)) if m.contains(THREAD_EXISTS) => {}
            Err(e) => return Err(e),
        }
        self.remember_thread(&root.message_ref);
        Ok(())
    }
}

/// Wait out an exhausted rate-limit bucket (`X-RateLimit-Remaining: 0`) before the next
/// call. The outbox worker sends one message at a time, so waiting here holds back the
/// next send, which is what Discord asks for.
async fn honour_bucket(pause: Option<std::time::Duration>) {
    if let Some(wait) = pause {
        let wait = wait.min(MAX_BUCKET_WAIT);
        tracing::debug!(?wait, "Discord rate-limit bucket exhausted; waiting");
        tokio::time::sleep(wait).await;
    }
}

/// A thread name for a finding whose message names none: its id.
fn fallback_thread_name(claim: &Claim) -> String {
    claim.item.finding.to_string()
}

impl Messenger for DiscordMessenger {
    type Message = DiscordMessage;

    fn platform(&self) -> Platform {
        Platform::Discord
    }

    fn per_channel_rate(&self) -> f64 {
        self.rate
    }

    fn card(&self, card: &FindingCard) -> DiscordMessage {
        self.render.root(card)
    }

    fn note(&self, note: &Note, id: FindingId) -> DiscordMessage {
        self.render.note(note, id)
    }

    fn approval(&self, view: &ApprovalView, id: FindingId) -> DiscordMessage {
        self.render.approval(view, id)
    }

    fn approval_closed(&self, view: &ApprovalView, id: FindingId, outcome: &str) -> DiscordMessage {
        self.render.approval_closed(view, id, outcome)
    }

    fn batch(&self, batch: &BatchView) -> DiscordMessage {
        self.render.batch(batch)
    }

    /// A Discord thread started on a message has the message's id as its channel id.
    fn reply_channel(&self, thread: &ChatMessage) -> String {
        thread.message_ref.clone()
    }

    async fn post(
        &self,
        claim: &Claim,
        channel: &str,
        thread: Option<&ChatMessage>,
        message: &DiscordMessage,
    ) -> Result<ChatMessage, SendError> {
        let name = message
            .thread_name
            .clone()
            .unwrap_or_else(|| fallback_thread_name(claim));
        let target = match thread {
            Some(root) => {
                self.ensure_thread(root, &name).await?;
                root.message_ref.clone()
            }
            None => channel.to_string(),
        };
        let mut body = message.body.clone();
        if let Value::Object(map) = &mut body {
            map.insert("nonce".into(), json!(format!("rb-{}", claim.item.id)));
            map.insert("enforce_nonce".into(), json!(true));
        }
        let route = Route::ChannelMessages {
            channel_id: ChannelId::new(snowflake("channel", &target)?),
        };
        let reply = self
            .api
            .call("create message", route, LightMethod::Post, Some(&body))
            .await?;
        let id = reply.body["id"]
            .as_str()
            .ok_or_else(|| SendError::Transient {
                message: "create message: Discord answered without a message id".into(),
                maybe_sent: true,
            })?;
        let posted = ChatMessage {
            channel: reply.body["channel_id"]
                .as_str()
                .unwrap_or(&target)
                .to_string(),
            message_ref: id.to_string(),
        };
        if thread.is_none() && message.thread_name.is_some() {
            self.ensure_thread(&posted, &name).await?;
        }
        honour_bucket(reply.pause).await;
        Ok(posted)
    }

    async fn update(&self, at: &ChatMessage, message: &DiscordMessage) -> Result<(), SendError> {
        let route = Route::ChannelMessage {
            channel_id: ChannelId::new(snowflake("channel", &at.channel)?),
            message_id: MessageId::new(snowflake("message", &at.message_ref)?),
        };
        let reply = self
            .api
            .call(
                "edit message",
                route,
                LightMethod::Patch,
                Some(&message.body),
            )
            .await?;
        honour_bucket(reply.pause).await;
        Ok(())
    }
}
