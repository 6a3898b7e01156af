//! Messages remedybot sees on the gateway (`MESSAGE_CREATE`; needs the Message Content
//! intent): a person's reply in a finding's thread becomes a comment with a jump link
//! (the first one can acknowledge the finding), and a channel message a `[[listen]]` rule
//! reads (an alert from a webhook or another bot) becomes a finding whose thread is started
//! on that message. Everything else is ignored, remedybot's own messages included.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Discord;
use crate::app::{App, AppError};
use crate::chat::delivery::Platform;
use crate::chat::extract::ChatPost;
use crate::chat::inbound::{self, ThreadComment};
use crate::domain::Actor;
use crate::store::ChatMessage;

/// Message types a person writes: DEFAULT (0) and REPLY (19).
const PERSON_TYPES: [u64; 2] = [0, 19];

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The link Discord shows for a message.
pub fn jump_link(guild: Option<&str>, channel: &str, message: &str) -> String {
    format!(
        "https://discord.com/channels/{}/{channel}/{message}",
        guild.unwrap_or("@me")
    )
}

/// Handle one `MESSAGE_CREATE` (the message object as JSON).
pub async fn on_message(
    app: &App,
    discord: &Discord,
    msg: &Value,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let (Some(channel), Some(id), Some(author)) = (
        str_at(msg, "/channel_id"),
        str_at(msg, "/id"),
        str_at(msg, "/author/id"),
    ) else {
        return Ok(());
    };
    if let Ok(me) = discord.bot_user_id().await
        && author == me.to_string()
    {
        return Ok(());
    }
    let is_bot = msg.pointer("/author/bot").and_then(Value::as_bool) == Some(true)
        || str_at(msg, "/webhook_id").is_some();
    let kind = msg.get("type").and_then(Value::as_u64).unwrap_or(0);
    let name = str_at(msg, "/author/global_name")
        .or_else(|| str_at(msg, "/author/username"))
        .unwrap_or(author);
    if !is_bot
        && PERSON_TYPES.contains(&kind)
        && let Some(finding) = app.store.finding_by_thread_ref("discord", channel).await?
    {
        // The gateway may replay an event after a resume: a reply is recorded once.
        if !app
            .store
            .first_delivery("discord", &format!("message:{id}"), now)
            .await?
        {
            return Ok(());
        }
        let reply = ThreadComment {
            finding,
            actor: Actor::new("discord", author, name),
            text: str_at(msg, "/content").unwrap_or_default().to_string(),
            link: Some(jump_link(str_at(msg, "/guild_id"), channel, id)),
        };
        let acknowledges = discord.first_reply_acknowledges;
        return inbound::record_reply(app, Platform::Discord, reply, acknowledges, now).await;
    }
    let listeners = &app.settings.listeners;
    if listeners.is_empty() {
        return Ok(());
    }
    let Some(post) = ChatPost::from_discord_message(msg) else {
        return Ok(());
    };
    let Some(extracted) = listeners.extract(&post) else {
        return Ok(());
    };
    let who = str_at(msg, "/webhook_id").unwrap_or(author);
    let alert = ChatMessage {
        channel: channel.to_string(),
        message_ref: id.to_string(),
    };
    let actor = Actor::new("discord", who, name);
    inbound::read_alert(app, Platform::Discord, extracted, alert, &actor, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jump_links_name_the_server_or_direct_messages() {
        assert_eq!(
            jump_link(Some("1"), "2", "3"),
            "https://discord.com/channels/1/2/3"
        );
        assert_eq!(
            jump_link(None, "2", "3"),
            "https://discord.com/channels/@me/2/3"
        );
    }
}
