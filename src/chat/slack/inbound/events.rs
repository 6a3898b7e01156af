//! `POST /slack/events`: the Events API. URL verification, and `event_callback`s
//! deduplicated by `event_id` (Slack retries an event it thinks was not acknowledged, with
//! the same id). A person's reply in a finding's thread becomes a comment on the finding
//! (with a permalink), and the first one acknowledges a new finding if configured. Other
//! channel messages go through the `[[listen]]` rules: an alert message a rule reads
//! becomes a finding whose thread is that message. The work runs after the answer: Slack
//! waits 3 s at most.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{InboundError, Reply};
use crate::app::{App, AppError};
use crate::chat::delivery::Platform;
use crate::chat::extract::ChatPost;
use crate::chat::inbound;
use crate::chat::slack::Slack;
use crate::chat::slack::deliver::METADATA_EVENT_TYPE;
use crate::domain::{Actor, FindingId};
use crate::store::ChatMessage;

/// Answer one Events API request (body already verified).
pub async fn handle(
    app: &App,
    slack: &Arc<Slack>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Reply, InboundError> {
    let payload: Value = serde_json::from_slice(body)
        .map_err(|e| InboundError::BadRequest(format!("the body is not JSON: {e}")))?;
    match payload.get("type").and_then(Value::as_str) {
        Some("url_verification") => {
            let challenge = payload
                .get("challenge")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    InboundError::BadRequest("url_verification without a challenge".into())
                })?;
            Ok(Reply::Json(json!({ "challenge": challenge })))
        }
        Some("event_callback") => {
            let event_id = payload
                .get("event_id")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .ok_or_else(|| {
                    InboundError::BadRequest("event_callback without an event_id".into())
                })?;
            if !app.store.first_delivery("slack", event_id, now).await? {
                tracing::debug!(event_id, "Slack event already received; acknowledged again");
                return Ok(Reply::Empty);
            }
            let event = payload.get("event").cloned().unwrap_or(Value::Null);
            let (app, worker) = (app.clone(), slack.clone());
            let event_id = event_id.to_string();
            slack.spawn(async move {
                if let Err(e) = on_event(&app, &worker, &event, now).await {
                    tracing::error!(error = %e, event_id, "handling a Slack event failed");
                }
            });
            Ok(Reply::Empty)
        }
        other => {
            tracing::debug!(kind = ?other, "Slack request type ignored");
            Ok(Reply::Empty)
        }
    }
}

/// A person's message in a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadReply {
    pub channel: String,
    pub user: String,
    pub text: String,
    pub ts: String,
    pub thread_ts: String,
}

impl ThreadReply {
    /// A `message` event written by a person (a `user`, no `bot_id`; no subtype, or
    /// `thread_broadcast`: a reply also sent to the channel) inside a thread.
    pub fn from_event(event: &Value) -> Option<ThreadReply> {
        let s = |k: &str| event.get(k).and_then(Value::as_str);
        if s("type") != Some("message") || event.get("bot_id").is_some_and(|b| !b.is_null()) {
            return None;
        }
        if !matches!(s("subtype"), None | Some("thread_broadcast")) {
            return None;
        }
        let ts = s("ts")?;
        let thread_ts = s("thread_ts").filter(|t| *t != ts)?;
        Some(ThreadReply {
            channel: s("channel")?.to_string(),
            user: s("user").filter(|u| !u.is_empty())?.to_string(),
            text: s("text").unwrap_or_default().to_string(),
            ts: ts.to_string(),
            thread_ts: thread_ts.to_string(),
        })
    }
}

/// One new event: a reply in a finding's thread, or a message for [`on_channel_message`].
async fn on_event(
    app: &App,
    slack: &Slack,
    event: &Value,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if event.get("type").and_then(Value::as_str) != Some("message") {
        return Ok(());
    }
    if let Some(reply) = ThreadReply::from_event(event)
        && let Some(id) = app
            .store
            .finding_by_thread("slack", &reply.channel, &reply.thread_ts)
            .await?
    {
        return record_reply(app, slack, id, &reply, now).await;
    }
    on_channel_message(app, slack, event, now).await
}

/// A channel message that is not a reply in a finding's thread. When a `[[listen]]` rule
/// reads a finding from it (an alert another bot posted), the finding is ingested with the
/// message as its thread, in the same transaction, so the outbox posts its card as the first
/// reply under the alert. The same alert posted again is the same finding (its fingerprint):
/// `times_seen` grows, a fixed one reopens, and no new thread is opened. Everything else is
/// ignored without a word: messages no rule reads, replies inside threads (a thread cannot
/// hang under a reply), edits and deletions, and remedybot's own messages.
pub async fn on_channel_message(
    app: &App,
    slack: &Slack,
    event: &Value,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let listeners = &app.settings.listeners;
    if listeners.is_empty() {
        return Ok(());
    }
    let Some(post) = ChatPost::from_slack_event(event) else {
        return Ok(());
    };
    let s = |k: &str| event.get(k).and_then(Value::as_str);
    let Some(ts) = s("ts").filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    if s("thread_ts").is_some_and(|t| t != ts) {
        return Ok(());
    }
    // Extraction is pure and cheap; only a message a rule reads costs a look at who we are.
    let Some(extracted) = listeners.extract(&post) else {
        return Ok(());
    };
    if posted_by_remedybot(slack, event).await {
        tracing::debug!(
            rule = extracted.rule,
            channel = post.channel,
            ts,
            "own message not read as an alert"
        );
        return Ok(());
    }
    let author = post
        .author
        .bot_id
        .as_deref()
        .or(post.author.user_id.as_deref())
        .unwrap_or_default();
    let name = Some(post.author.name.as_str())
        .filter(|n| !n.is_empty())
        .unwrap_or(author);
    let alert = ChatMessage {
        channel: post.channel.clone(),
        message_ref: ts.to_string(),
    };
    let actor = Actor::new("slack", author, name);
    inbound::read_alert(app, Platform::Slack, extracted, alert, &actor, now).await
}

/// Whether remedybot posted this message: its `bot_id` (or bot user) is ours, as
/// `auth.test` says. Messages the outbox posts also carry remedybot's metadata, which is
/// checked first as it needs no call; but Slack does not promise metadata in message
/// events, and not every message remedybot sends is tagged, so the ids decide.
async fn posted_by_remedybot(slack: &Slack, event: &Value) -> bool {
    if event
        .pointer("/metadata/event_type")
        .and_then(Value::as_str)
        == Some(METADATA_EVENT_TYPE)
    {
        return true;
    }
    let s = |k: &str| event.get(k).and_then(Value::as_str);
    match slack.identity().await {
        Some(me) => me.posted(s("bot_id"), s("user")),
        // Unknown for now: read the alert rather than lose it. A rule that lists remedybot's
        // own bot is a mistake (see docs/configuration.md), and even then a card read back
        // is deduplicated by its fingerprint and opens no new thread.
        None => false,
    }
}

/// Record `reply` as a comment on finding `id`, linked to the message when Slack gives a
/// permalink (without one if it does not: the comment is never lost for a link).
async fn record_reply(
    app: &App,
    slack: &Slack,
    id: FindingId,
    reply: &ThreadReply,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let link = match slack
        .api
        .get(
            "chat.getPermalink",
            &[
                ("channel", reply.channel.clone()),
                ("message_ts", reply.ts.clone()),
            ],
        )
        .await
    {
        Ok(v) => v
            .get("permalink")
            .and_then(Value::as_str)
            .map(str::to_string),
        Err(e) => {
            tracing::warn!(error = %e, finding.id = %id, "no permalink for a thread reply");
            None
        }
    };
    // Message events carry only the user id; the trail shows it as the name.
    let comment = inbound::ThreadComment {
        finding: id,
        actor: Actor::new("slack", &reply.user, &reply.user),
        text: reply.text.clone(),
        link,
    };
    let acknowledges = slack.first_reply_acknowledges;
    inbound::record_reply(app, Platform::Slack, comment, acknowledges, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(extra: Value) -> Value {
        let mut m = json!({
            "type": "message", "user": "U1", "text": "on it", "channel": "C1",
            "ts": "2.000", "thread_ts": "1.000"
        });
        for (k, v) in extra.as_object().unwrap() {
            m[k] = v.clone();
        }
        m
    }

    #[test]
    fn only_people_replying_in_threads_count() {
        assert!(ThreadReply::from_event(&message(json!({}))).is_some());
        let broadcast = message(json!({"subtype": "thread_broadcast"}));
        assert!(ThreadReply::from_event(&broadcast).is_some());
        for not in [
            json!({"bot_id": "B1"}),
            json!({"subtype": "message_changed"}),
            json!({"subtype": "bot_message"}),
            json!({"thread_ts": null}),
            json!({"thread_ts": "2.000"}),
            json!({"user": null}),
        ] {
            assert_eq!(
                ThreadReply::from_event(&message(not.clone())),
                None,
                "{not}"
            );
        }
    }
}
