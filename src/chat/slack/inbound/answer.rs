//! The answer to a slash command: an ephemeral message whose sections keep to Slack's
//! limits, and the small formatting helpers listings share.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{escape, truncate};

/// Slack's limit on a section's text.
pub const MAX_SECTION: usize = 3000;
/// Slack's limit on blocks in a message.
pub const MAX_BLOCKS: usize = 50;

/// An ephemeral answer: a summary (the message's `text`: notifications, screen readers)
/// and lines, packed into sections. Both are mrkdwn with every piece of finding or user
/// text already escaped by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub summary: String,
    pub lines: Vec<String>,
}

impl Answer {
    pub fn new(summary: impl Into<String>, lines: Vec<String>) -> Answer {
        Answer {
            summary: summary.into(),
            lines,
        }
    }

    /// One line that is also the summary.
    pub fn line(text: impl Into<String>) -> Answer {
        let text = text.into();
        Answer::new(text.clone(), vec![text])
    }

    /// The response body: `response_type: ephemeral`, sections of at most 3000 characters,
    /// at most 50 blocks.
    pub fn to_json(&self) -> Value {
        let mut sections: Vec<String> = Vec::new();
        for line in &self.lines {
            let line = truncate(line, MAX_SECTION);
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
            "text": truncate(&self.summary, MAX_SECTION),
            "blocks": blocks,
        })
    }
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

pub fn due_text(due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match due {
        None => "no deadline".into(),
        Some(d) if d < now => format!("*overdue* since {}", d.format("%Y-%m-%d")),
        Some(d) => format!("due {}", d.format("%Y-%m-%d")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_answers_stay_within_slacks_limits() {
        let lines: Vec<String> = (0..400)
            .map(|i| format!("{i} {}", "x".repeat(200)))
            .collect();
        let json = Answer::new("s", lines).to_json();
        let blocks = json["blocks"].as_array().unwrap();
        assert!(blocks.len() <= MAX_BLOCKS);
        for b in blocks {
            assert!(b["text"]["text"].as_str().unwrap().chars().count() <= MAX_SECTION);
        }
        let one = Answer::line("y".repeat(5000)).to_json();
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
