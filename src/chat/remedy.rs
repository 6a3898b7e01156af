//! Running a [`RemedyCommand`] for one chat user: the queries and the workflow call behind
//! `/remedy`, the same on every platform, answered as a neutral [`Answer`].
//!
//! Listings, `show` and `assign` only reveal findings whose thread is in a channel the
//! caller can see; which channels those are is the platform's question ([`Audience`]).
//! This module does not parse command text, render markup or talk to a chat platform.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

use crate::app::{App, AppError};
use crate::chat::answer::{Answer, Line, Span, bold, code, due, text, truncate};
use crate::chat::command::{HELP, RemedyCommand};
use crate::domain::{Actor, Command, FindingId, Source};
use crate::store::{FindingFilter, FindingSummary, StoreError};

/// Rows a listing shows; the rest are counted.
pub const MAX_LINES: usize = 20;
/// Trail events `show` lists, the most recent.
const TRAIL_EVENTS: usize = 5;

/// Who typed the command.
#[derive(Debug, Clone)]
pub struct Caller {
    pub platform: Source,
    /// The platform's user id.
    pub user: String,
    /// A display name, for the decision trail.
    pub name: String,
}

impl Caller {
    /// `platform:id`, as owners are stored.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.platform.as_str(), self.user)
    }
}

/// Why no answer about findings can be given.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The platform could not say which channels the caller sees, so nothing is shown.
    /// The message is for the caller (raw text).
    #[error("{0}")]
    Hidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which channels the caller can see, asked only by subcommands that reveal findings.
pub trait Audience: Send + Sync {
    /// The subset of `channels` (channel ids on the caller's platform) the caller can see.
    /// On any doubt: an error ([`Failure::Hidden`]), never a guess.
    fn visible_channels<'a>(
        &'a self,
        channels: &'a BTreeSet<String>,
    ) -> BoxFuture<'a, Result<HashSet<String>, Failure>>;
}

/// Run `command` for `caller`.
pub async fn run(
    app: &App,
    caller: &Caller,
    audience: &dyn Audience,
    command: RemedyCommand,
    now: DateTime<Utc>,
) -> Result<Answer, Failure> {
    let open = FindingFilter {
        open_only: true,
        ..Default::default()
    };
    let seen = Seen {
        app,
        caller,
        audience,
    };
    match command {
        RemedyCommand::Help { unknown } => Ok(help(unknown.as_deref())),
        RemedyCommand::Invalid { usage, problem } => Ok(Answer::new(
            vec![text(&problem)],
            vec![
                vec![text(problem)],
                vec![text("Usage: "), Span::Usage(usage)],
            ],
        )),
        RemedyCommand::Stats => Ok(stats(app, now).await?),
        RemedyCommand::Show(id) => show(&seen, id, now).await,
        RemedyCommand::Assign { id, user } => assign(&seen, id, user, now).await,
        RemedyCommand::Backlog { severity, owner } => {
            let mut args = vec!["--open".to_string()];
            args.extend(severity.map(|s| format!("--severity {s}")));
            args.extend(owner.as_ref().map(|o| format!("--owner {o}")));
            let filter = FindingFilter {
                severity,
                owner,
                ..open
            };
            listing(&seen, &filter, "Open findings", &args, now).await
        }
        RemedyCommand::Mine => {
            let owner = caller.reference();
            let args = ["--open".to_string(), format!("--owner {owner}")];
            let filter = FindingFilter {
                owner: Some(owner),
                ..open
            };
            listing(&seen, &filter, "Your open findings", &args, now).await
        }
        RemedyCommand::Overdue => {
            let filter = FindingFilter {
                overdue_at: Some(now),
                ..open
            };
            let args = ["--open".to_string(), "--overdue".to_string()];
            listing(&seen, &filter, "Overdue findings", &args, now).await
        }
    }
}

fn help(unknown: Option<&str>) -> Answer {
    let mut lines = Vec::new();
    if let Some(word) = unknown {
        lines.push(vec![text("Unknown subcommand "), code(word), text(".")]);
    }
    lines.push(vec![Span::Command { bold: true }, text(" subcommands:")]);
    for (usage, what) in HELP {
        lines.push(vec![Span::Usage(usage), text(" — "), text(*what)]);
    }
    let summary = match unknown {
        Some(word) => vec![
            text("Unknown subcommand "),
            code(word),
            text("; try "),
            Span::Command { bold: false },
            text(" help"),
        ],
        None => vec![Span::Command { bold: false }, text(" help")],
    };
    Answer::new(summary, lines)
}

/// The caller and what they can see.
struct Seen<'a> {
    app: &'a App,
    caller: &'a Caller,
    audience: &'a dyn Audience,
}

impl Seen<'_> {
    /// Keep the items whose finding's thread is in a channel the caller sees, in order.
    async fn filter<T>(
        &self,
        items: Vec<T>,
        id: impl Fn(&T) -> FindingId,
    ) -> Result<Vec<T>, Failure> {
        let ids: Vec<FindingId> = items.iter().map(&id).collect();
        let threads = if ids.is_empty() {
            Default::default()
        } else {
            let platform = self.caller.platform.as_str();
            self.app.store.thread_channels(platform, &ids).await?
        };
        let homes: BTreeSet<String> = threads.values().cloned().collect();
        let visible = self.audience.visible_channels(&homes).await?;
        Ok(items
            .into_iter()
            .filter(|item| threads.get(&id(item)).is_some_and(|c| visible.contains(c)))
            .collect())
    }

    async fn can_see(&self, id: FindingId) -> Result<bool, Failure> {
        Ok(!self.filter(vec![id], |i| *i).await?.is_empty())
    }
}

fn summary_line(f: &FindingSummary, now: DateTime<Utc>) -> Line {
    let mut line = vec![
        bold(f.id.to_string()),
        text(" · "),
        text(&f.severity),
        text(" · "),
        text(&f.stage),
        text(" · "),
        Span::Owner(f.owner.clone()),
        text(" · "),
    ];
    line.extend(due(f.due_at, now));
    line.push(text(" — "));
    line.push(text(truncate(&f.title, 120)));
    line
}

async fn listing(
    seen: &Seen<'_>,
    filter: &FindingFilter,
    heading: &str,
    cli_args: &[String],
    now: DateTime<Utc>,
) -> Result<Answer, Failure> {
    let rows = seen.app.store.list_findings(filter).await?;
    let rows = seen.filter(rows, |f| f.id).await?;
    if rows.is_empty() {
        return Ok(Answer::plain(format!(
            "{heading}: none in the channels you are in."
        )));
    }
    let total = rows.len();
    let mut lines = vec![vec![bold(heading), text(format!(" ({total}):"))]];
    lines.extend(rows.iter().take(MAX_LINES).map(|f| summary_line(f, now)));
    if total > MAX_LINES {
        lines.push(vec![
            text(format!("and {} more — ", total - MAX_LINES)),
            code(format!("remedybot findings {}", cli_args.join(" "))),
        ]);
    }
    let ids = rows.iter().take(MAX_LINES).map(|f| f.id).collect();
    Ok(Answer::new(vec![text(format!("{heading}: {total}"))], lines).about(ids))
}

/// The same answer for a finding that does not exist and one the caller cannot see, so
/// the command does not reveal which ids exist.
fn not_visible(id: FindingId) -> Answer {
    Answer::plain(format!(
        "{id} does not exist or is not in a channel you are in."
    ))
}

async fn show(seen: &Seen<'_>, id: FindingId, now: DateTime<Utc>) -> Result<Answer, Failure> {
    if !seen.can_see(id).await? {
        return Ok(not_visible(id));
    }
    let Some(f) = seen.app.store.finding(id).await? else {
        return Ok(not_visible(id));
    };
    let s = &f.state;
    let resolution = s
        .resolution
        .map(|r| format!(" ({})", r.as_str()))
        .unwrap_or_default();
    let mut facts = vec![
        text("Severity "),
        bold(s.severity.as_str()),
        text(" · stage "),
        bold(s.stage.to_string()),
        text(format!("{resolution} · owner ")),
        Span::Owner(s.owner.clone()),
        text(" · "),
    ];
    facts.extend(due(s.next_due(), now));
    let mut lines = vec![
        vec![
            bold(id.to_string()),
            text(" "),
            text(truncate(&s.title, 200)),
        ],
        facts,
        vec![
            text(truncate(&s.asset, 200)),
            text(" · "),
            text(truncate(&s.location, 200)),
        ],
    ];
    let trail = seen.app.store.trail(id).await?;
    lines.push(vec![bold(format!(
        "Latest of {} trail events:",
        trail.len()
    ))]);
    let skip = trail.len().saturating_sub(TRAIL_EVENTS);
    lines.extend(trail.iter().skip(skip).map(|e| {
        vec![
            code(e.at.format("%Y-%m-%d %H:%M").to_string()),
            text(" "),
            text(&e.kind),
            text(" — "),
            text(truncate(&e.actor.name, 80)),
            text(" ("),
            text(&e.source),
            text(")"),
        ]
    }));
    let summary = vec![
        text(format!("{id}: ")),
        text(&s.title),
        text(format!(" ({}, {})", s.severity, s.stage)),
    ];
    Ok(Answer::new(summary, lines).about(vec![id]))
}

async fn assign(
    seen: &Seen<'_>,
    id: FindingId,
    owner: String,
    now: DateTime<Utc>,
) -> Result<Answer, Failure> {
    if !seen.can_see(id).await? {
        return Ok(not_visible(id));
    }
    let caller = seen.caller;
    let actor = Actor::new(caller.platform.as_str(), &caller.user, &caller.name);
    let command = Command::Assign {
        owner: owner.clone(),
    };
    let outcome = seen
        .app
        .execute(id, &command, &actor, caller.platform, now)
        .await;
    let answer = match outcome {
        Ok(_) => Answer::line(vec![
            text(format!("{id} is now owned by ")),
            Span::Owner(Some(owner)),
            text("."),
        ]),
        Err(AppError::Refused(r)) => Answer::plain(format!("{id} was not reassigned: {r}")),
        Err(AppError::NotFound(_)) => return Ok(not_visible(id)),
        Err(AppError::Store(e)) => return Err(e.into()),
    };
    Ok(answer.about(vec![id]))
}

async fn stats(app: &App, now: DateTime<Utc>) -> Result<Answer, StoreError> {
    let s = app.store.summary(now).await?;
    let open: i64 = s.open_by_severity.iter().map(|c| c.count).sum();
    let by_severity: Vec<String> = s
        .open_by_severity
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| format!("{} {}", c.count, c.severity))
        .collect();
    let median = match s.median_hours_to_remediate {
        Some(h) if h >= 48.0 => format!("{:.1} days", h / 24.0),
        Some(h) => format!("{h:.1} hours"),
        None => "n/a (nothing closed as fixed yet)".into(),
    };
    let by_severity = if by_severity.is_empty() {
        String::new()
    } else {
        format!(" ({})", by_severity.join(", "))
    };
    let lines = vec![
        vec![bold("remedybot stats"), text(" (all findings)")],
        vec![text("Open: "), bold(open.to_string()), text(by_severity)],
        vec![text("Overdue: "), bold(s.overdue.to_string())],
        vec![
            text("Closed as fixed: "),
            bold(s.closed_fixed.to_string()),
            text(format!(" · median time to remediate: {median}")),
        ],
        vec![
            text("Regressions: "),
            bold(s.regressions.to_string()),
            text(format!(" · total findings: {}", s.total)),
        ],
    ];
    Ok(Answer::new(
        vec![text(format!("{open} open, {} overdue", s.overdue))],
        lines,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_names_the_unknown_word_and_lists_every_usage() {
        let a = help(Some("frob"));
        assert_eq!(
            a.lines[0],
            vec![text("Unknown subcommand "), code("frob"), text(".")]
        );
        let usages: Vec<&str> = a
            .lines
            .iter()
            .filter_map(|l| match l.first() {
                Some(Span::Usage(u)) => Some(*u),
                _ => None,
            })
            .collect();
        assert_eq!(usages, HELP.iter().map(|(u, _)| *u).collect::<Vec<_>>());
        assert!(help(None).summary.contains(&Span::Command { bold: false }));
    }

    #[test]
    fn the_caller_reference_is_how_owners_are_stored() {
        let c = Caller {
            platform: Source::Discord,
            user: "42".into(),
            name: "ann".into(),
        };
        assert_eq!(c.reference(), "discord:42");
    }
}
