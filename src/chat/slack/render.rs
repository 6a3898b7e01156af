//! Block Kit messages from handlebars templates (`templates/slack/*.json.hbs`) and the
//! view models in [`crate::chat::view`], through the shared [`crate::chat::templates`].
//!
//! Every `{{value}}` is Slack-escaped and then JSON-string-escaped, so templates put values
//! inside JSON string literals and finding text can neither ping anyone nor break the JSON.
//! Unescaped output (`{{{…}}}`, `{{&…}}`) is refused when a template loads; the only raw
//! output is the `mention` helper's `<@U…>` for a validated Slack user id. After rendering,
//! the JSON is parsed and Slack's Block Kit limits are enforced (see `limits`), so an
//! over-long scanner description shortens the message instead of making Slack reject it.
//!
//! A deployment may replace any template with a file of the same name in an override
//! directory; overrides are compiled and test-rendered at startup, so a broken one stops
//! startup with an error naming the file rather than failing the first notification.

mod limits;
#[cfg(test)]
mod tests;

use serde::Serialize;
use serde_json::Value;

use super::escape::{escape_mrkdwn, is_slack_user_id};
use crate::chat::templates::samples::Samples;
use crate::chat::templates::text::json_string_content;
use crate::chat::templates::{Platform, TemplateRenderer, builtin_templates};

pub use crate::chat::templates::{RenderError, Template};

/// A message ready for `chat.postMessage` / `chat.update`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlackMessage {
    /// The notification fallback (mrkdwn, already escaped).
    pub text: String,
    pub blocks: Vec<Value>,
}

/// Slack's part of the shared templates: mrkdwn escaping, `<@U…>` mentions, Block Kit
/// limits.
#[derive(Debug, Clone, Copy)]
pub struct SlackTemplates;

/// Renders view models into [`SlackMessage`]s. Build once at startup.
pub type SlackRenderer = TemplateRenderer<SlackTemplates>;

impl Platform for SlackTemplates {
    type Message = SlackMessage;
    const NAME: &'static str = "Slack";
    const KEY: &'static str = "slack";
    const SAMPLES: Samples = Samples::SLACK;

    fn builtin(t: Template) -> &'static str {
        (builtin_templates!("slack"))(t)
    }

    /// Slack first, then JSON string content.
    fn escape(s: &str) -> String {
        json_string_content(&escape_mrkdwn(s))
    }

    fn mention(id: &str) -> Option<String> {
        is_slack_user_id(id).then(|| format!("<@{id}>"))
    }

    fn finish(value: Value, id: Option<&str>) -> Result<SlackMessage, String> {
        limits::finish(value, id)
    }

    fn unrenderable(id: Option<&str>) -> SlackMessage {
        limits::unrenderable(id)
    }
}
