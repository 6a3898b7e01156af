//! The answer to a `/remedy` command, platform neutral: a summary and lines made of
//! [`Span`]s that say what a piece of text *is* (finding text, emphasis, code, an owner,
//! the command's own name) but not how a platform marks it up. Each platform renders an
//! [`Answer`] with its own [`Markup`]: Slack mrkdwn, Discord markdown.
//!
//! Text in a [`Span::Text`], [`Span::Bold`] or [`Span::Code`] is raw (as a scanner or a
//! user wrote it); the renderer escapes it. Nothing here knows a platform's syntax.

use chrono::{DateTime, Utc};

use crate::domain::FindingId;

/// One piece of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    /// Plain text.
    Text(String),
    /// Emphasised text.
    Bold(String),
    /// Inline code (ids, dates, command lines).
    Code(String),
    /// An owner as stored (`platform:id` or a team name); `None`: unassigned.
    Owner(Option<String>),
    /// The command as the caller typed it (`/remedy` unless renamed), optionally bold.
    Command { bold: bool },
    /// A usage line from [`crate::chat::command::HELP`], shown as code with the command
    /// name in front.
    Usage(&'static str),
}

/// A line of spans.
pub type Line = Vec<Span>;

/// Plain text.
pub fn text(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}

/// Emphasised text.
pub fn bold(s: impl Into<String>) -> Span {
    Span::Bold(s.into())
}

/// Inline code.
pub fn code(s: impl Into<String>) -> Span {
    Span::Code(s.into())
}

/// A reply only the caller sees: a short summary (notifications, screen readers) and the
/// lines of the message. `findings` are the findings it lists or shows, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub summary: Line,
    pub lines: Vec<Line>,
    pub findings: Vec<FindingId>,
}

impl Answer {
    pub fn new(summary: Line, lines: Vec<Line>) -> Answer {
        Answer {
            summary,
            lines,
            findings: Vec::new(),
        }
    }

    /// One line that is also the summary.
    pub fn line(line: Line) -> Answer {
        Answer::new(line.clone(), vec![line])
    }

    /// One line of plain text.
    pub fn plain(s: impl Into<String>) -> Answer {
        Answer::line(vec![text(s)])
    }

    /// The same answer, naming the findings it is about.
    pub fn about(mut self, findings: Vec<FindingId>) -> Answer {
        self.findings = findings;
        self
    }

    /// The summary in `markup`.
    pub fn summary_text(&self, markup: &impl Markup) -> String {
        render(markup, &self.summary)
    }

    /// Every line in `markup`.
    pub fn line_texts(&self, markup: &impl Markup) -> Vec<String> {
        self.lines.iter().map(|l| render(markup, l)).collect()
    }
}

/// How a platform marks text up.
pub trait Markup {
    /// Raw text, escaped so nothing in it is markup or a mention.
    fn escape(&self, raw: &str) -> String;
    /// Already rendered text, emphasised.
    fn bold(&self, rendered: &str) -> String;
    /// Raw text as inline code.
    fn code(&self, raw: &str) -> String;
    /// An owner: a mention when it is a user of this platform, else escaped text.
    fn owner(&self, owner: Option<&str>) -> String;
    /// The command's name, rendered.
    fn command(&self) -> String;
    /// A usage line from the help as inline code, with the command's name.
    fn usage(&self, usage: &'static str) -> String;
}

/// One line in `markup`.
pub fn render(markup: &impl Markup, line: &[Span]) -> String {
    let mut out = String::new();
    for span in line {
        match span {
            Span::Text(s) => out.push_str(&markup.escape(s)),
            Span::Bold(s) => out.push_str(&markup.bold(&markup.escape(s))),
            Span::Code(s) => out.push_str(&markup.code(s)),
            Span::Owner(o) => out.push_str(&markup.owner(o.as_deref())),
            Span::Command { bold: false } => out.push_str(&markup.command()),
            Span::Command { bold: true } => out.push_str(&markup.bold(&markup.command())),
            Span::Usage(u) => out.push_str(&markup.usage(u)),
        }
    }
    out
}

/// A deadline: `no deadline`, `due DATE`, or emphasised `overdue since DATE`.
pub fn due(due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Vec<Span> {
    match due {
        None => vec![text("no deadline")],
        Some(d) if d < now => vec![
            bold("overdue"),
            text(format!(" since {}", d.format("%Y-%m-%d"))),
        ],
        Some(d) => vec![text(format!("due {}", d.format("%Y-%m-%d")))],
    }
}

/// `text` cut to at most `max` characters, with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A markup that shows the structure.
    struct Tags;

    impl Markup for Tags {
        fn escape(&self, raw: &str) -> String {
            raw.replace('<', "&lt;")
        }
        fn bold(&self, rendered: &str) -> String {
            format!("[b]{rendered}[/b]")
        }
        fn code(&self, raw: &str) -> String {
            format!("[c]{raw}[/c]")
        }
        fn owner(&self, owner: Option<&str>) -> String {
            format!("[o]{}[/o]", owner.unwrap_or("-"))
        }
        fn command(&self) -> String {
            "/r".into()
        }
        fn usage(&self, usage: &'static str) -> String {
            format!("[c]/r {usage}[/c]")
        }
    }

    #[test]
    fn spans_render_through_the_markup_escaping_raw_text() {
        let line = vec![
            text("<a"),
            bold("<b"),
            code("<c"),
            Span::Owner(None),
            Span::Owner(Some("t".into())),
            Span::Command { bold: true },
            Span::Usage("help"),
        ];
        assert_eq!(
            render(&Tags, &line),
            "&lt;a[b]&lt;b[/b][c]<c[/c][o]-[/o][o]t[/o][b]/r[/b][c]/r help[/c]"
        );
        let a = Answer::plain("x").about(vec![FindingId::from_key(1)]);
        assert_eq!(a.summary_text(&Tags), "x");
        assert_eq!(a.line_texts(&Tags), vec!["x"]);
        assert_eq!(a.findings, vec![FindingId::from_key(1)]);
    }

    #[test]
    fn deadlines_say_overdue_in_bold() {
        let now = DateTime::parse_from_rfc3339("2026-03-10T00:00:00Z")
            .unwrap()
            .to_utc();
        let before = now - chrono::Duration::days(2);
        assert_eq!(render(&Tags, &due(None, now)), "no deadline");
        assert_eq!(
            render(&Tags, &due(Some(before), now)),
            "[b]overdue[/b] since 2026-03-08"
        );
        assert_eq!(render(&Tags, &due(Some(now), now)), "due 2026-03-10");
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("héllo!", 5), "héll…");
    }
}
