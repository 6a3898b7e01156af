//! [`ChatPost`]: a chat message as the extraction rules see it, whichever platform it came
//! from. The constructors only translate a platform's payload; they bound its size (the
//! text is untrusted) but decide nothing about whether it is an alert.

use serde_json::Value;

use crate::chat::delivery::Platform;
use crate::ingest::{MAX_DESCRIPTION, clip};

/// Most cards kept from one message (Discord allows 10 embeds; Slack far more attachments).
const MAX_CARDS: usize = 20;
/// Most fields kept per card (Discord allows 25).
const MAX_FIELDS: usize = 50;
/// Longest card title or field name/value kept.
const MAX_SHORT: usize = 2_000;

/// A message posted in a channel, normalised across platforms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatPost {
    pub platform: Platform,
    /// The channel id (Slack `C…`, a Discord snowflake).
    pub channel: String,
    pub author: Author,
    /// The message text, as plain text (Slack escapes and links undone).
    pub text: String,
    /// Slack attachments / Discord embeds, normalised.
    pub cards: Vec<Card>,
}

/// Who posted a message. Ids are what rules match on; the name is for messages only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Author {
    /// Slack `user`; a Discord user that is neither a bot nor a webhook.
    pub user_id: Option<String>,
    /// Slack `bot_id`; a Discord `webhook_id`, or the author id of a bot user.
    pub bot_id: Option<String>,
    pub name: String,
}

/// A Slack attachment or a Discord embed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Card {
    pub title: String,
    pub text: String,
    /// `(name, value)` pairs in the order the platform gives them.
    pub fields: Vec<(String, String)>,
    /// Slack's `color` as written (`danger`, `#FF0000`); Discord's integer as `#rrggbb`.
    pub color: Option<String>,
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn array_at<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Message subtypes that are someone posting something; edits, deletions and joins are not.
const SLACK_POSTED: [&str; 5] = [
    "bot_message",
    "thread_broadcast",
    "file_share",
    "me_message",
    "reminder_add",
];

impl ChatPost {
    /// A Slack `message` event (the `event` object, or the whole `event_callback` envelope).
    /// `None` for other events, for edits and deletions, and without a channel or an author.
    pub fn from_slack_event(event: &Value) -> Option<ChatPost> {
        let event = match event.get("event") {
            Some(inner) if str_at(event, "type") == Some("event_callback") => inner,
            _ => event,
        };
        if str_at(event, "type") != Some("message") {
            return None;
        }
        if let Some(sub) = str_at(event, "subtype")
            && !SLACK_POSTED.contains(&sub)
        {
            return None;
        }
        let channel = str_at(event, "channel").filter(|c| !c.is_empty())?;
        let id = |k: &str| {
            str_at(event, k)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let author = Author {
            user_id: id("user"),
            bot_id: id("bot_id"),
            name: event
                .pointer("/bot_profile/name")
                .and_then(Value::as_str)
                .or_else(|| str_at(event, "username"))
                .unwrap_or("")
                .to_string(),
        };
        if author.user_id.is_none() && author.bot_id.is_none() {
            return None;
        }
        let mut text = slack_plain(str_at(event, "text").unwrap_or(""));
        if text.trim().is_empty() {
            text = blocks_text(array_at(event, "blocks"));
        }
        let cards = array_at(event, "attachments")
            .iter()
            .take(MAX_CARDS)
            .map(slack_card)
            .collect();
        Some(ChatPost {
            platform: Platform::Slack,
            channel: channel.to_string(),
            author,
            text: clip(&text, MAX_DESCRIPTION),
            cards,
        })
    }

    /// A Discord message object (as in `MESSAGE_CREATE`). `None` without a channel or author.
    pub fn from_discord_message(msg: &Value) -> Option<ChatPost> {
        let channel = str_at(msg, "channel_id").filter(|c| !c.is_empty())?;
        let who = msg.get("author")?;
        let author_id = str_at(who, "id").filter(|s| !s.is_empty())?;
        let webhook = str_at(msg, "webhook_id").filter(|s| !s.is_empty());
        let is_bot = who.get("bot").and_then(Value::as_bool).unwrap_or(false);
        let author = Author {
            user_id: (webhook.is_none() && !is_bot).then(|| author_id.to_string()),
            bot_id: webhook.or(is_bot.then_some(author_id)).map(str::to_string),
            name: str_at(who, "username").unwrap_or("").to_string(),
        };
        let cards = array_at(msg, "embeds")
            .iter()
            .take(MAX_CARDS)
            .map(discord_card)
            .collect();
        Some(ChatPost {
            platform: Platform::Discord,
            channel: channel.to_string(),
            author,
            text: clip(str_at(msg, "content").unwrap_or(""), MAX_DESCRIPTION),
            cards,
        })
    }

    /// The message as one text: the text, then each card's title, text and `name: value`
    /// lines. This is the default description of an extracted finding.
    pub fn full_text(&self) -> String {
        let mut parts: Vec<String> = vec![self.text.trim().to_string()];
        for c in &self.cards {
            parts.push(c.title.trim().to_string());
            parts.push(c.text.trim().to_string());
            for (name, value) in &c.fields {
                parts.push(format!("{}: {}", name.trim(), value.trim()));
            }
        }
        parts.retain(|p| !p.is_empty());
        parts.join("\n")
    }
}

fn slack_card(a: &Value) -> Card {
    let mut text = slack_plain(str_at(a, "text").unwrap_or(""));
    if text.trim().is_empty() {
        text = slack_plain(str_at(a, "fallback").unwrap_or(""));
    }
    Card {
        title: clip(&slack_plain(str_at(a, "title").unwrap_or("")), MAX_SHORT),
        text: clip(&text, MAX_DESCRIPTION),
        fields: fields(a, "title", "value", slack_plain),
        color: str_at(a, "color")
            .filter(|c| !c.is_empty())
            .map(|c| clip(c, 32)),
    }
}

fn discord_card(e: &Value) -> Card {
    Card {
        title: clip(str_at(e, "title").unwrap_or(""), MAX_SHORT),
        text: clip(str_at(e, "description").unwrap_or(""), MAX_DESCRIPTION),
        fields: fields(e, "name", "value", str::to_string),
        color: e
            .get("color")
            .and_then(Value::as_u64)
            .map(|c| format!("#{:06x}", c & 0xff_ffff)),
    }
}

fn fields(
    card: &Value,
    name: &str,
    value: &str,
    plain: fn(&str) -> String,
) -> Vec<(String, String)> {
    array_at(card, "fields")
        .iter()
        .take(MAX_FIELDS)
        .map(|f| {
            let get = |k: &str| clip(&plain(str_at(f, k).unwrap_or("")), MAX_SHORT);
            (get(name), get(value))
        })
        .collect()
}

/// Slack `mrkdwn` as plain text: `<url|label>` → `label`, `<url>` → `url`, `<@U1>` → `@U1`,
/// `<#C1|name>` → `#name`, `<!here>` → `@here`, then `&lt;`, `&gt;`, `&amp;` decoded.
pub(crate) fn slack_plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let inner = &after[..close];
        let (target, label) = match inner.split_once('|') {
            Some((t, l)) => (t, Some(l)),
            None => (inner, None),
        };
        let shown = match (target.chars().next(), label) {
            (Some('@'), _) => format!("@{}", label.unwrap_or(&target[1..])),
            (Some('#'), _) => format!("#{}", label.unwrap_or(&target[1..])),
            (Some('!'), Some(l)) => l.to_string(),
            (Some('!'), None) => format!("@{}", &target[1..]),
            (_, Some(l)) => l.to_string(),
            (_, None) => target.to_string(),
        };
        out.push_str(&shown);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Plain text from Block Kit blocks: section and header text, section fields, context
/// elements and rich text, one line per block.
fn blocks_text(blocks: &[Value]) -> String {
    let mut lines = Vec::new();
    for b in blocks.iter().take(100) {
        let mut line = String::new();
        if let Some(t) = b.pointer("/text/text").and_then(Value::as_str) {
            line.push_str(&slack_plain(t));
        }
        for f in array_at(b, "fields") {
            if let Some(t) = str_at(f, "text") {
                push_line(&mut line, &slack_plain(t));
            }
        }
        match str_at(b, "type") {
            Some("rich_text") => rich_text(array_at(b, "elements"), &mut line, 0),
            Some("context") => {
                for e in array_at(b, "elements") {
                    if let Some(t) = str_at(e, "text") {
                        push_line(&mut line, &slack_plain(t));
                    }
                }
            }
            _ => {}
        }
        if !line.trim().is_empty() {
            lines.push(line.trim().to_string());
        }
    }
    lines.join("\n")
}

fn push_line(line: &mut String, s: &str) {
    if !line.is_empty() {
        line.push('\n');
    }
    line.push_str(s);
}

/// Rich text elements, depth-bounded so a hostile payload cannot recurse without end.
fn rich_text(elements: &[Value], out: &mut String, depth: usize) {
    if depth > 8 {
        return;
    }
    for e in elements {
        match str_at(e, "type").unwrap_or("") {
            "text" => out.push_str(str_at(e, "text").unwrap_or("")),
            "link" => out.push_str(str_at(e, "text").or(str_at(e, "url")).unwrap_or("")),
            "user" => out.push_str(&format!("@{}", str_at(e, "user_id").unwrap_or(""))),
            "channel" => out.push_str(&format!("#{}", str_at(e, "channel_id").unwrap_or(""))),
            "usergroup" => out.push_str(&format!("@{}", str_at(e, "usergroup_id").unwrap_or(""))),
            "broadcast" => out.push_str(&format!("@{}", str_at(e, "range").unwrap_or(""))),
            "emoji" => out.push_str(&format!(":{}:", str_at(e, "name").unwrap_or(""))),
            "rich_text_section"
            | "rich_text_list"
            | "rich_text_quote"
            | "rich_text_preformatted" => {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                rich_text(array_at(e, "elements"), out, depth + 1);
            }
            _ => {}
        }
    }
}
