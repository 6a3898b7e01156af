//! Interactions Discord sends to remedybot (button clicks, selects, modal submissions,
//! application commands), already verified, translated into application calls and answered
//! with an interaction response body.
//!
//! One entry point, [`handle`], takes the raw interaction JSON, so the HTTP route
//! (`POST /discord/interactions`) and the gateway (`INTERACTION_CREATE`, whose answer is
//! POSTed to `/interactions/{id}/{token}/callback`) share it. This module decides nothing
//! about the workflow: clicks and forms become [`crate::domain::Command`]s run through the
//! app, and a refusal goes back, ephemeral, to the person who acted. It never posts thread
//! summaries (the outbox does) and calls no Discord REST API.

pub mod commands;
pub mod interactions;
pub mod prompts;
pub mod visibility;

use std::collections::BTreeMap;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Discord;
use crate::app::App;
use crate::domain::Actor;

/// A member of an approver group that stands for everyone holding a Discord role.
pub const ROLE_PREFIX: &str = "discord-role:";
/// The flag that shows a message only to the person who acted.
pub const EPHEMERAL: u64 = 1 << 6;
/// Discord's limit for a message's content.
const MAX_CONTENT: usize = 2000;

/// Interaction types (the `type` of an interaction).
mod kind {
    pub const PING: u64 = 1;
    pub const APPLICATION_COMMAND: u64 = 2;
    pub const MESSAGE_COMPONENT: u64 = 3;
    pub const AUTOCOMPLETE: u64 = 4;
    pub const MODAL_SUBMIT: u64 = 5;
}

/// Interaction response (callback) types.
pub mod callback {
    pub const PONG: u64 = 1;
    pub const MESSAGE: u64 = 4;
    /// Acknowledge a component click without a new message; the outbox edits the message.
    pub const DEFERRED_UPDATE: u64 = 6;
    pub const MODAL: u64 = 9;
}

pub use crate::chat::InboundError;
use crate::chat::discord::escape::escape_markdown;

/// Answer one interaction: the body of its interaction response.
pub async fn handle(
    app: &App,
    discord: &Arc<Discord>,
    interaction: &Value,
    now: DateTime<Utc>,
) -> Result<Value, InboundError> {
    match interaction.get("type").and_then(Value::as_u64) {
        Some(kind::PING) => Ok(json!({ "type": callback::PONG })),
        Some(kind::APPLICATION_COMMAND | kind::AUTOCOMPLETE) => {
            commands::handle(app, discord, interaction, now).await
        }
        Some(kind::MESSAGE_COMPONENT) => interactions::component(app, interaction, now).await,
        Some(kind::MODAL_SUBMIT) => interactions::modal_submit(app, interaction, now).await,
        other => Err(InboundError::BadRequest(format!(
            "unknown interaction type {}",
            other.map_or_else(|| "(none)".to_string(), |t| t.to_string())
        ))),
    }
}

/// A non-empty string at `pointer`.
fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The person who acted: `member.user` in a server, `user` in a direct message. The name
/// is the display name (`global_name`), else the username, else the id.
pub fn actor(interaction: &Value) -> Result<Actor, InboundError> {
    let user = interaction
        .pointer("/member/user")
        .or_else(|| interaction.get("user"))
        .unwrap_or(&Value::Null);
    let id = str_at(user, "/id")
        .ok_or_else(|| InboundError::BadRequest("the interaction names no user id".into()))?;
    let name = str_at(user, "/global_name")
        .or_else(|| str_at(user, "/username"))
        .unwrap_or(id);
    Ok(Actor::new("discord", id, name))
}

/// The role ids the acting member holds (none outside a server).
pub fn roles(interaction: &Value) -> Vec<String> {
    let roles = interaction
        .pointer("/member/roles")
        .and_then(Value::as_array);
    roles
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_string))
        .collect()
}

/// The approver groups a vote by `actor` is judged by: groups that list a role the voter
/// holds (`discord-role:<id>`) list the voter too. `None`: the configured groups.
pub fn voter_groups(
    app: &App,
    actor: &Actor,
    roles: &[String],
) -> Option<BTreeMap<String, Vec<String>>> {
    app.settings.policy.groups_with(actor, |member| {
        member
            .strip_prefix(ROLE_PREFIX)
            .is_some_and(|role| roles.iter().any(|r| r == role))
    })
}

/// A message only the person who acted sees. It mentions nobody.
pub fn ephemeral(text: &str) -> Value {
    json!({
        "type": callback::MESSAGE,
        "data": {
            // Refusals can quote what someone typed: shown as written, never as markup.
            "content": crate::chat::view::clip(&escape_markdown(text), MAX_CONTENT),
            "flags": EPHEMERAL,
            "allowed_mentions": { "parse": [] },
        },
    })
}

/// [`ephemeral`] with one button under it.
pub fn ephemeral_with_button(text: &str, label: &str, custom_id: &str) -> Value {
    let mut reply = ephemeral(text);
    reply["data"]["components"] = json!([{
        "type": 1,
        "components": [{ "type": 2, "style": 1, "label": label, "custom_id": custom_id }],
    }]);
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_actor_comes_from_the_member_or_the_user() {
        let member =
            json!({"member": {"user": {"id": "5", "username": "mason", "global_name": "Mason"}}});
        let a = actor(&member).unwrap();
        assert_eq!(
            (a.reference(), a.name.as_str()),
            ("discord:5".into(), "Mason")
        );
        let dm = json!({"user": {"id": "6", "username": "miles", "global_name": null}});
        assert_eq!(actor(&dm).unwrap().name, "miles");
        assert!(actor(&json!({"type": 3})).is_err());
    }

    #[test]
    fn ephemeral_messages_mention_nobody_and_fit() {
        let m = ephemeral(&"x".repeat(3000));
        assert_eq!(m["data"]["flags"], 64);
        assert_eq!(m["data"]["allowed_mentions"]["parse"], json!([]));
        assert!(m["data"]["content"].as_str().unwrap().chars().count() <= 2000);
        // What someone typed comes back as written, never as markup or a ping.
        let m = ephemeral("F-9: **x** is not a finding @everyone");
        let content = m["data"]["content"].as_str().unwrap();
        assert!(content.contains("\\*\\*x\\*\\*"), "{content}");
        assert!(!content.contains("@everyone"), "{content}");
    }
}
