//! A `/remedy` [`Answer`] as Discord shows it: an ephemeral message with an embed, in
//! Discord markdown, that mentions nobody.

use serde_json::{Value, json};

use crate::chat::answer::{Answer, Markup, truncate};
use crate::chat::discord::commands_def;

/// Discord's limit on a message's content.
pub const MAX_CONTENT: usize = 2000;
/// Discord's limit on an embed's description.
pub const MAX_DESCRIPTION: usize = 4096;
/// EPHEMERAL: only the caller sees the message.
pub const EPHEMERAL: u64 = 1 << 6;
/// CHANNEL_MESSAGE_WITH_SOURCE.
pub const MESSAGE: u64 = 4;
/// DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: "thinking…", the message follows.
pub const DEFERRED: u64 = 5;
/// The embed's colour (remedybot's accent).
const COLOUR: u64 = 0x2f_80_ed;
/// What ends a description that had to be cut.
const CUT: &str = "… (too long for one message)";

/// Discord markdown for `/remedy` answers.
pub struct Markdown;

impl Markup for Markdown {
    fn escape(&self, raw: &str) -> String {
        escape(raw)
    }

    fn bold(&self, rendered: &str) -> String {
        format!("**{rendered}**")
    }

    fn code(&self, raw: &str) -> String {
        // Nothing is escaped inside code, so a backtick could end it: use a look-alike.
        format!("`{}`", raw.replace('`', "ˋ"))
    }

    fn owner(&self, owner: Option<&str>) -> String {
        match owner {
            None => "unassigned".into(),
            Some(o) => match o.strip_prefix("discord:") {
                Some(id) if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) => {
                    format!("<@{id}>")
                }
                _ => escape(o),
            },
        }
    }

    fn command(&self) -> String {
        format!("/{}", commands_def::NAME)
    }

    fn usage(&self, usage: &'static str) -> String {
        self.code(&commands_def::usage(usage))
    }
}

/// The message: the summary as content when the answer has more to say than it, the lines
/// as the embed's description; no mention pings anyone (`allowed_mentions` empty). Used as
/// is to edit a deferred answer; [`response`] adds the type and the ephemeral flag.
pub fn message(answer: &Answer) -> Value {
    let lines = answer.line_texts(&Markdown);
    let summary = answer.summary_text(&Markdown);
    let mut description = String::new();
    for (i, line) in lines.iter().enumerate() {
        let sep = usize::from(!description.is_empty());
        let room = MAX_DESCRIPTION - CUT.chars().count() - 1;
        let fits = description.chars().count() + sep + line.chars().count() <= room;
        if !fits {
            if description.is_empty() {
                description = cut_markdown(line, room);
                if i + 1 == lines.len() {
                    break;
                }
            }
            description.push('\n');
            description.push_str(CUT);
            break;
        }
        if sep == 1 {
            description.push('\n');
        }
        description.push_str(line);
    }
    let content = if lines.len() == 1 && lines[0] == summary {
        String::new()
    } else {
        cut_markdown(&summary, MAX_CONTENT)
    };
    json!({
        "content": content,
        "embeds": [{ "description": description, "color": COLOUR }],
        "allowed_mentions": { "parse": [] },
    })
}

/// The interaction response answering at once: an ephemeral message.
pub fn response(answer: &Answer) -> Value {
    let mut data = message(answer);
    data["flags"] = json!(EPHEMERAL);
    json!({ "type": MESSAGE, "data": data })
}

/// The interaction response that defers the answer ("remedybot is thinking…", ephemeral).
pub fn deferred() -> Value {
    json!({ "type": DEFERRED, "data": { "flags": EPHEMERAL } })
}

/// `text` cut to `max` characters without leaving a dangling escape backslash.
fn cut_markdown(text: &str, max: usize) -> String {
    let mut out = truncate(text, max);
    if out != text {
        out.pop();
        let backslashes = out.chars().rev().take_while(|c| *c == '\\').count();
        if backslashes % 2 == 1 {
            out.pop();
        }
        out.push('…');
    }
    out
}

/// Discord markdown escaping, as the message templates do it.
use crate::chat::discord::escape::escape_markdown as escape;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::answer::{Span, bold, code, text};

    #[test]
    fn finding_text_cannot_format_link_or_mention() {
        assert_eq!(
            escape("**x** _y_ `z` ||s|| > q # h - l [a](http://e) <@1> <#2> <@&3> \\"),
            "\\*\\*x\\*\\* \\_y\\_ \\`z\\` \\|\\|s\\|\\| > q # h - l \\[a\\]\\(http://e\\) \
             \\<@1> \\<#2> \\<@&3> \\\\"
        );
        assert_eq!(
            escape("@everyone @Here @ann"),
            "@\u{200B}everyone @\u{200B}Here @ann"
        );
    }

    #[test]
    fn owners_are_mentions_only_for_discord_ids() {
        assert_eq!(Markdown.owner(Some("discord:42")), "<@42>");
        assert_eq!(Markdown.owner(Some("discord:<@&1>")), "discord:\\<@&1>");
        assert_eq!(Markdown.owner(Some("slack:U1")), "slack:U1");
        assert_eq!(Markdown.owner(Some("payments_team")), "payments\\_team");
        assert_eq!(Markdown.owner(None), "unassigned");
    }

    #[test]
    fn spans_become_discord_markdown() {
        let line = vec![
            bold("F-1"),
            text(" "),
            code("a`b"),
            text(" "),
            Span::Usage("show F-1042"),
            text(" "),
            Span::Command { bold: true },
        ];
        assert_eq!(
            crate::chat::answer::render(&Markdown, &line),
            "**F-1** `aˋb` `/remedy show id:F-1042` **/remedy**"
        );
    }

    #[test]
    fn answers_are_ephemeral_and_mention_nobody() {
        let r = response(&Answer::new(
            vec![text("Open findings: 1")],
            vec![vec![text("<@1> @everyone")]],
        ));
        assert_eq!(r["type"], MESSAGE);
        assert_eq!(r["data"]["flags"], EPHEMERAL);
        assert_eq!(r["data"]["allowed_mentions"], json!({ "parse": [] }));
        assert_eq!(r["data"]["content"], "Open findings: 1");
        let d = r["data"]["embeds"][0]["description"].as_str().unwrap();
        assert_eq!(d, "\\<@1> @\u{200B}everyone");
        assert_eq!(deferred(), json!({"type": 5, "data": {"flags": 64}}));
        // A one-line answer is not repeated above its embed.
        let one = message(&Answer::plain("F-1 is now owned by x."));
        assert_eq!(one["content"], "");
        assert_eq!(one["embeds"][0]["description"], "F-1 is now owned by x.");
        assert!(one.get("flags").is_none());
    }

    #[test]
    fn long_answers_stay_within_discords_limits() {
        let lines: Vec<_> = (0..400)
            .map(|i| vec![text(format!("{i} {}", "*".repeat(100)))])
            .collect();
        let m = message(&Answer::new(vec![text("_".repeat(3000))], lines));
        let content = m["content"].as_str().unwrap();
        assert!(content.chars().count() <= MAX_CONTENT);
        assert!(!content.trim_end_matches('…').ends_with('\\') || content.ends_with("\\\\…"));
        let d = m["embeds"][0]["description"].as_str().unwrap();
        assert!(
            d.chars().count() <= MAX_DESCRIPTION,
            "{}",
            d.chars().count()
        );
        assert!(d.ends_with(CUT));
        let embeds = m["embeds"].as_array().unwrap();
        assert!(embeds.len() <= 10);
        assert!(
            embeds[0]
                .get("fields")
                .is_none_or(|f| f.as_array().unwrap().len() <= 25)
        );
        // One line longer than a description is cut, not dropped.
        let one = message(&Answer::new(
            vec![text("s")],
            vec![vec![text("x".repeat(5000))]],
        ));
        let d = one["embeds"][0]["description"].as_str().unwrap();
        assert!(d.starts_with("xxx") && d.chars().count() <= MAX_DESCRIPTION);
    }

    #[test]
    fn cutting_never_leaves_a_dangling_escape() {
        assert_eq!(cut_markdown("ab\\*cd", 4), "ab…");
        assert_eq!(cut_markdown("ab\\\\cd", 5), "ab\\\\…");
        assert_eq!(cut_markdown("short", 10), "short");
    }
}
