//! A `/remedy` [`Answer`] as Slack shows it: an ephemeral message whose mrkdwn sections
//! keep to Slack's limits.

use serde_json::{Value, json};

use super::{escape, truncate};
use crate::chat::answer::{Answer, Markup};

/// Slack's limit on a section's text.
pub const MAX_SECTION: usize = 3000;
/// Slack's limit on blocks in a message.
pub const MAX_BLOCKS: usize = 50;

/// Slack mrkdwn for an answer to the slash command `slash` (normally `/remedy`).
pub struct Mrkdwn {
    pub slash: String,
}

impl Markup for Mrkdwn {
    fn escape(&self, raw: &str) -> String {
        escape(raw)
    }

    fn bold(&self, rendered: &str) -> String {
        format!("*{rendered}*")
    }

    fn code(&self, raw: &str) -> String {
        format!("`{}`", escape(raw))
    }

    fn owner(&self, owner: Option<&str>) -> String {
        owner_text(owner)
    }

    fn command(&self) -> String {
        escape(&self.slash)
    }

    fn usage(&self, usage: &'static str) -> String {
        format!("`{} {usage}`", escape(&self.slash))
    }
}

/// The response body: `response_type: ephemeral`, the summary as `text`, the lines packed
/// into sections of at most 3000 characters, at most 50 blocks.
pub fn to_json(answer: &Answer, markup: &Mrkdwn) -> Value {
    let mut sections: Vec<String> = Vec::new();
    for line in answer.line_texts(markup) {
        let line = truncate(&line, MAX_SECTION);
        match sections.last_mut() {
            Some(s) if s.chars().count() + 1 + line.chars().count() <= MAX_SECTION => {
                s.push('\n');
                s.push_str(&line);
            }
            _ => sections.push(line),
        }
    }
    if sections.len() > MAX_BLOCKS {
        sections.truncate(MAX_BLOCKS - 1);
        sections.push("… (too long for one message)".into());
    }
    let blocks: Vec<Value> = sections
        .into_iter()
        .map(|text| json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } }))
        .collect();
    json!({
        "response_type": "ephemeral",
        "text": truncate(&answer.summary_text(markup), MAX_SECTION),
        "blocks": blocks,
    })
}

/// An owner for display: a Slack user as a mention, anything else as escaped text.
pub fn owner_text(owner: Option<&str>) -> String {
    match owner {
        None => "unassigned".into(),
        Some(o) => match o.strip_prefix("slack:") {
            Some(id) if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) => {
                format!("<@{id}>")
            }
            _ => escape(o),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::answer::text;

    fn slash() -> Mrkdwn {
        Mrkdwn {
            slash: "/remedy".into(),
        }
    }

    #[test]
    fn long_answers_stay_within_slacks_limits() {
        let lines = (0..400)
            .map(|i| vec![text(format!("{i} {}", "x".repeat(200)))])
            .collect();
        let json = to_json(&Answer::new(vec![text("s")], lines), &slash());
        let blocks = json["blocks"].as_array().unwrap();
        assert!(blocks.len() <= MAX_BLOCKS);
        for b in blocks {
            assert!(b["text"]["text"].as_str().unwrap().chars().count() <= MAX_SECTION);
        }
        let one = to_json(&Answer::plain("y".repeat(5000)), &slash());
        assert_eq!(
            one["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            MAX_SECTION
        );
    }

    #[test]
    fn owners_are_mentions_only_when_they_are_slack_ids() {
        assert_eq!(owner_text(Some("slack:U1")), "<@U1>");
        assert_eq!(owner_text(Some("slack:<!here>")), "slack:&lt;!here&gt;");
        assert_eq!(owner_text(Some("team-a")), "team-a");
        assert_eq!(owner_text(None), "unassigned");
    }
}
