//! Block Kit limits, enforced on the rendered JSON so no template and no finding can
//! produce a message Slack rejects for length. Text is cut on character boundaries and never
//! inside an entity or a `<…>` sequence; long texts point at the CLI for the full version.

use serde_json::{Map, Value, json};

use super::SlackMessage;
use crate::chat::slack::escape::{escape_mrkdwn, truncate_mrkdwn};
use crate::chat::templates::text::{full_text_pointer, truncated_pointer, unrenderable_text};

/// `text` of a section block and of context elements.
pub const SECTION_TEXT: usize = 3000;
/// Each of a section's `fields`.
pub const FIELD_TEXT: usize = 2000;
pub const HEADER_TEXT: usize = 150;
pub const BUTTON_TEXT: usize = 75;
/// Select menu placeholders.
pub const PLACEHOLDER_TEXT: usize = 150;
pub const MAX_BLOCKS: usize = 50;
/// The notification fallback `text`.
pub const FALLBACK_TEXT: usize = 3000;

/// Where the full text is: `` `remedybot show F-12` ``.
fn pointer(id: Option<&str>) -> String {
    truncated_pointer(id, escape_mrkdwn)
}

/// A rendered template's JSON as a message within Slack's limits; `Err` says what is wrong
/// with its shape.
pub fn finish(value: Value, id: Option<&str>) -> Result<SlackMessage, String> {
    let Value::Object(mut top) = value else {
        return Err("the template must produce a JSON object with `text` and `blocks`".into());
    };
    let text = match top.remove("text") {
        Some(Value::String(s)) => s,
        _ => return Err("`text` (the notification fallback) must be a string".into()),
    };
    let mut blocks = match top.remove("blocks") {
        Some(Value::Array(b)) => b,
        _ => return Err("`blocks` must be an array".into()),
    };
    if let Some(key) = top.keys().next() {
        return Err(format!(
            "unexpected key `{key}`; a template produces only `text` and `blocks`"
        ));
    }
    let more = pointer(id);
    for block in &mut blocks {
        limit_block(block, &more);
    }
    if blocks.len() > MAX_BLOCKS {
        let left_out = blocks.len() - (MAX_BLOCKS - 1);
        blocks.truncate(MAX_BLOCKS - 1);
        let full = full_text_pointer(id, escape_mrkdwn);
        blocks.push(context(&format!(
            "{left_out} more blocks were left out: Slack shows at most {MAX_BLOCKS}.{full}"
        )));
    }
    Ok(SlackMessage {
        text: truncate_mrkdwn(&text, FALLBACK_TEXT, "…"),
        blocks,
    })
}

/// The last resort when no template renders: a pointer at the CLI.
pub fn unrenderable(id: Option<&str>) -> SlackMessage {
    let text = unrenderable_text(id, escape_mrkdwn);
    SlackMessage {
        blocks: vec![json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})],
        text,
    }
}

fn context(text: &str) -> Value {
    json!({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
}

/// Cut `obj[key]` (a string) to `max` characters with `suffix`.
fn cut(obj: &mut Map<String, Value>, key: &str, max: usize, suffix: &str) {
    if let Some(Value::String(s)) = obj.get_mut(key)
        && s.chars().count() > max
    {
        *s = truncate_mrkdwn(s, max, suffix);
    }
}

/// Cut the `text` of a text object (`{"type": "mrkdwn", "text": …}`).
fn cut_text_object(v: Option<&mut Value>, max: usize, suffix: &str) {
    if let Some(Value::Object(o)) = v {
        cut(o, "text", max, suffix);
    }
}

fn each_object(v: Option<&mut Value>, mut f: impl FnMut(&mut Map<String, Value>)) {
    if let Some(Value::Array(items)) = v {
        for item in items {
            if let Value::Object(o) = item {
                f(o);
            }
        }
    }
}

fn limit_block(block: &mut Value, more: &str) {
    let Value::Object(b) = block else { return };
    let kind = b
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match kind.as_str() {
        "section" => {
            cut_text_object(b.get_mut("text"), SECTION_TEXT, more);
            each_object(b.get_mut("fields"), |f| cut(f, "text", FIELD_TEXT, "…"));
        }
        "context" => each_object(b.get_mut("elements"), |e| {
            cut(e, "text", SECTION_TEXT, more);
        }),
        "header" => cut_text_object(b.get_mut("text"), HEADER_TEXT, "…"),
        "actions" => each_object(b.get_mut("elements"), |e| {
            cut_text_object(e.get_mut("text"), BUTTON_TEXT, "…");
            cut_text_object(e.get_mut("placeholder"), PLACEHOLDER_TEXT, "…");
        }),
        _ => {}
    }
}
