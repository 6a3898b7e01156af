//! Requests Slack sends to remedybot (Events API, interactivity, slash commands), already
//! verified by the HTTP layer, translated into application calls and Slack answers.
//!
//! This module decides nothing about the workflow: buttons, modals, thread replies and
//! `/remedy` become [`crate::domain::Command`]s run through [`App::execute`], and a refusal
//! goes back to the person who asked. It never posts thread summaries (the outbox does),
//! and it never waits on the Slack Web API longer than Slack waits for its answer: calls
//! that can be deferred run in [`Slack::spawn`]ed tasks after the answer.

pub mod answer;
pub mod commands;
pub mod events;
pub mod interactions;
pub mod visibility;

use std::collections::HashMap;

use serde_json::{Value, json};

use super::Slack;
use crate::app::App;
use crate::domain::{Actor, FindingId};

/// What to answer Slack with (always HTTP 200).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// An empty body: acknowledged (closes a modal after a submission).
    Empty,
    /// A JSON body (a URL verification challenge, modal errors, a command's answer).
    Json(Value),
}

pub use crate::chat::InboundError;

/// The fields of a form-encoded body (`application/x-www-form-urlencoded`). A repeated
/// field keeps its last value.
pub fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

use super::escape::escape_mrkdwn as escape;

/// `text` cut to at most `max` characters, with `…` when cut.
fn truncate(text: &str, max: usize) -> String {
    super::escape::truncate_chars(text, max, "…")
}

/// The acting person from a payload's `user` object (`id`, `name` or `username`).
fn actor(user: &Value) -> Result<Actor, InboundError> {
    let id = user
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| InboundError::BadRequest("the payload has no user.id".into()))?;
    let name = ["name", "username"]
        .iter()
        .find_map(|k| {
            user.get(*k)
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
        })
        .unwrap_or(id);
    Ok(Actor::new("slack", id, name))
}

/// Where to tell one person something only they see.
#[derive(Debug, Clone)]
struct Whisper {
    user: String,
    /// The channel the person acted in; `None`: a direct message instead.
    channel: Option<String>,
    thread_ts: Option<String>,
}

impl Whisper {
    /// Where to answer someone about `finding` when the payload names no channel (a modal
    /// submission): in the finding's thread if it has one, else a direct message.
    async fn about(app: &App, user: &str, finding: FindingId) -> Whisper {
        let thread = app
            .store
            .chat_message("slack", finding, crate::chat::delivery::role::THREAD)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot look up the finding's thread");
                None
            });
        Whisper {
            user: user.to_string(),
            channel: thread.as_ref().map(|t| t.channel.clone()),
            thread_ts: thread.map(|t| t.message_ref),
        }
    }

    /// Send `text` in the background: an ephemeral message in the channel, or a direct
    /// message. Failures are logged; nothing else depends on them.
    fn send(self, slack: &std::sync::Arc<Slack>, text: String) {
        let api = slack.api.clone();
        slack.spawn(async move {
            let (method, body) = match &self.channel {
                Some(channel) => {
                    let mut body = json!({ "channel": channel, "user": self.user, "text": text });
                    if let Some(ts) = &self.thread_ts {
                        body["thread_ts"] = json!(ts);
                    }
                    ("chat.postEphemeral", body)
                }
                None => (
                    "chat.postMessage",
                    json!({ "channel": self.user, "text": text }),
                ),
            };
            if let Err(e) = api.post(method, &body).await {
                tracing::warn!(error = %e, method, "cannot tell a Slack user why their action failed");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_neutralises_markup_and_mentions() {
        assert_eq!(
            escape("<!channel> & <@U1|x> a>b"),
            "&lt;!channel&gt; &amp; &lt;@U1|x&gt; a&gt;b"
        );
    }

    #[test]
    fn forms_decode_plus_and_percent() {
        let f = form(b"command=%2Fremedy&text=show+F-1&user_id=U1");
        assert_eq!(f["command"], "/remedy");
        assert_eq!(f["text"], "show F-1");
    }

    #[test]
    fn the_actor_falls_back_from_name_to_username_to_id() {
        let a = actor(&json!({"id": "U1", "username": "ann"})).unwrap();
        assert_eq!((a.id.as_str(), a.name.as_str()), ("U1", "ann"));
        let a = actor(&json!({"id": "U1"})).unwrap();
        assert_eq!(a.name, "U1");
        assert!(actor(&json!({})).is_err());
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("héllo!", 5), "héll…");
    }
}
