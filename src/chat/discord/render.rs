//! Discord messages (Create/Edit Message bodies: `content`, `embeds`, `components`,
//! `allowed_mentions`) from handlebars templates (`templates/discord/*.json.hbs`) and the
//! view models in [`crate::chat::view`], through the shared [`crate::chat::templates`].
//!
//! Every `{{value}}` is markdown-escaped ([`super::escape`]) and then JSON-string-escaped;
//! `{{plain …}}` (JSON, and a defused `@everyone`) is for text Discord does not format (footers, labels,
//! `custom_id`s) and `{{code …}}` for code spans and blocks. The only raw output is the
//! `mention` helper's `<@id>` for a validated Discord user id. Who may be pinged is not up
//! to the templates: remedybot sets `allowed_mentions` on every message to the people the
//! message is meant for (see [`DiscordRenderer`]), never `@everyone` or roles. After
//! rendering, Discord's limits are enforced (see `limits`), cutting long text with a pointer
//! at `remedybot show F-…` rather than failing.

mod components;
mod limits;
#[cfg(test)]
mod tests;

use std::path::Path;

use handlebars::{Handlebars, handlebars_helper};
use serde::Serialize;
use serde_json::{Value, json};

use super::escape::{code, escape_markdown, is_discord_user_id, plain};
use crate::chat::templates::samples::Samples;
use crate::chat::templates::text::{json_string_content, truncate_chars};
use crate::chat::templates::{Platform, TemplateRenderer, WriteHelper, builtin_templates, text_of};
use crate::chat::view::{ApprovalView, BatchView, FindingCard, Note, OwnerRef};
use crate::domain::FindingId;

pub use crate::chat::templates::{RenderError, Template};

/// Thread names are at most this long.
pub const THREAD_NAME_CHARS: usize = 100;
/// `allowed_mentions.users` lists at most this many users.
pub const MAX_ALLOWED_USERS: usize = 100;

/// A message ready for Create Message / Edit Message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscordMessage {
    /// The request body: `content`, `embeds`, `components` and `allowed_mentions`.
    pub body: Value,
    /// For messages that start a thread (a finding's root, a batch summary): its name,
    /// plain text within Discord's 100 characters.
    pub thread_name: Option<String>,
}

/// Discord's part of the shared templates: markdown escaping, `<@id>` mentions, message
/// limits and action rows.
#[derive(Debug, Clone, Copy)]
pub struct DiscordTemplates;

impl Platform for DiscordTemplates {
    /// The body without `allowed_mentions` (the renderer adds it).
    type Message = Value;
    const NAME: &'static str = "Discord";
    const KEY: &'static str = "discord";
    const SAMPLES: Samples = Samples::DISCORD;

    fn builtin(t: Template) -> &'static str {
        (builtin_templates!("discord"))(t)
    }

    /// Markdown first, then JSON string content.
    fn escape(s: &str) -> String {
        json_string_content(&escape_markdown(s))
    }

    fn mention(id: &str) -> Option<String> {
        is_discord_user_id(id).then(|| format!("<@{id}>"))
    }

    fn register_helpers(hb: &mut Handlebars<'static>) {
        // `{{plain x}}`, `{{code x}}`: JSON-escaped, never markdown-escaped.
        let plain = WriteHelper("plain", |v| json_string_content(&plain(&text_of(v))));
        let code = WriteHelper("code", |v| json_string_content(&code(&text_of(v))));
        hb.register_helper("plain", Box::new(plain));
        hb.register_helper("code", Box::new(code));
        hb.register_helper("color", Box::new(color));
        hb.register_helper("pingable", Box::new(pingable));
        hb.register_helper("clipped", Box::new(clipped));
    }

    fn finish(value: Value, id: Option<&str>) -> Result<Value, String> {
        limits::finish(value, id)
    }

    fn unrenderable(id: Option<&str>) -> Value {
        limits::unrenderable(id)
    }
}

/// An embed's colour for a severity (`critical` or `Critical`); grey for anything else.
pub fn severity_color(severity: &str) -> u32 {
    match severity.to_ascii_lowercase().as_str() {
        "critical" => 0x99_2D_22,
        "high" => 0xE7_4C_3C,
        "medium" => 0xE6_7E_22,
        "low" => 0xF1_C4_0F,
        "info" => 0x34_98_DB,
        _ => 0x95_A5_A6,
    }
}

handlebars_helper!(color: |severity: str| severity_color(severity));
handlebars_helper!(pingable: |who: Json| discord_user_of(who).is_some());
// A description the view model clipped ends with `…`.
handlebars_helper!(clipped: |text: str| text.ends_with('…'));

/// The Discord user id of an [`OwnerRef`] as templates see it (serialised, or a
/// `platform:id` string), when it is a valid one.
fn discord_user_of(who: &Value) -> Option<&str> {
    let reference = match who {
        Value::Object(o) if o.get("kind").and_then(Value::as_str) == Some("user") => {
            o.get("text").and_then(Value::as_str)?
        }
        Value::String(s) => s,
        _ => return None,
    };
    let id = reference.strip_prefix("discord:")?;
    is_discord_user_id(id).then_some(id)
}

/// The Discord user id of someone, when they are a Discord user with a valid id.
fn discord_user(who: &OwnerRef) -> Option<&str> {
    match who {
        OwnerRef::User { platform, id } if platform == "discord" && is_discord_user_id(id) => {
            Some(id)
        }
        _ => None,
    }
}

/// `{"parse": [], "users": [...]}`: only these users can be pinged, whatever the text says.
fn allowed_mentions<'a>(people: impl IntoIterator<Item = &'a OwnerRef>) -> Value {
    let mut users: Vec<&str> = Vec::new();
    for id in people.into_iter().filter_map(discord_user) {
        if !users.contains(&id) && users.len() < MAX_ALLOWED_USERS {
            users.push(id);
        }
    }
    json!({"parse": [], "users": users})
}

/// A thread name: plain text on one line, within [`THREAD_NAME_CHARS`].
pub fn thread_name(name: &str) -> String {
    let one_line = name
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    truncate_chars(&one_line, THREAD_NAME_CHARS, "…")
}

/// Renders view models into [`DiscordMessage`]s. Build once at startup.
#[derive(Debug, Clone)]
pub struct DiscordRenderer {
    templates: TemplateRenderer<DiscordTemplates>,
}

impl DiscordRenderer {
    /// The built-in templates, with any in `override_dir` replacing them. Unknown file
    /// names (other than dot-files), templates that do not compile, and overrides that fail
    /// on sample data (a missing variable, invalid JSON, a bad shape) are errors naming the
    /// file.
    pub fn new(override_dir: Option<&Path>) -> Result<DiscordRenderer, RenderError> {
        Ok(DiscordRenderer {
            templates: TemplateRenderer::new(override_dir)?,
        })
    }

    fn message<'a>(
        mut body: Value,
        mentions: impl IntoIterator<Item = &'a OwnerRef>,
        thread_name: Option<String>,
    ) -> DiscordMessage {
        body["allowed_mentions"] = allowed_mentions(mentions);
        DiscordMessage { body, thread_name }
    }

    /// A finding's root message: the card, its buttons and assign menu; mentions the owner.
    /// Its thread is `F-12 · <title>`.
    pub fn root(&self, card: &FindingCard) -> DiscordMessage {
        let name = thread_name(&format!("{} · {}", card.id, card.title));
        Self::message(self.templates.root(card), &card.owner, Some(name))
    }

    /// A thread reply about one event; mentions the actor and the subject (a new owner).
    pub fn note(&self, note: &Note, id: FindingId) -> DiscordMessage {
        let people = [Some(&note.actor.who), note.subject.as_ref()];
        Self::message(
            self.templates.note(note, id),
            people.into_iter().flatten(),
            None,
        )
    }

    /// An open approval request with Approve / Reject buttons; mentions the approvers.
    pub fn approval(&self, approval: &ApprovalView, id: FindingId) -> DiscordMessage {
        let approvers = approval.groups.iter().flat_map(|g| &g.members);
        Self::message(self.templates.approval(approval, id), approvers, None)
    }

    /// The approval message once decided or withdrawn: the final tally and `outcome`
    /// (e.g. "approved", "rejected", "withdrawn"), without buttons; mentions no one.
    pub fn approval_closed(
        &self,
        approval: &ApprovalView,
        id: FindingId,
        outcome: &str,
    ) -> DiscordMessage {
        let body = self.templates.approval_closed(approval, id, outcome);
        Self::message(body, [], None)
    }

    /// The summary of a flood of new findings in one channel; its thread is
    /// `<n> new findings`.
    pub fn batch(&self, batch: &BatchView) -> DiscordMessage {
        let name = thread_name(&format!("{} new findings", batch.total));
        Self::message(self.templates.batch(batch), [], Some(name))
    }

    /// A plain, escaped text message (ephemeral errors and confirmations).
    pub fn text(&self, text: &str) -> DiscordMessage {
        Self::message(self.templates.text(text), [], None)
    }
}
