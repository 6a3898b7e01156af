//! `POST /slack/commands`: the `/remedy` slash command. The text is parsed by
//! [`RemedyCommand::parse`]; the answer goes back in the HTTP response as an ephemeral
//! message (only the caller sees it). Listings show only findings the caller can see
//! (see [`super::visibility`]); every piece of finding text is escaped for mrkdwn.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::answer::{Answer, due_text, owner_text};
use super::visibility::{self, VisibilityError};
use super::{InboundError, Reply, escape, truncate};
use crate::app::{App, AppError};
use crate::chat::command::{HELP, RemedyCommand};
use crate::chat::slack::Slack;
use crate::domain::{Actor, Command, FindingId, Source};
use crate::store::{FindingFilter, FindingSummary, StoreError};

/// Rows a listing shows; the rest are counted.
pub const MAX_LINES: usize = 20;
/// Trail events `show` lists, the most recent.
const TRAIL_EVENTS: usize = 5;

/// Who typed the command.
struct Caller {
    user: String,
    name: String,
    /// The command as the workspace names it, for usage lines (normally `/remedy`).
    slash: String,
}

/// Answer one slash command request (body already verified).
pub async fn handle(
    app: &App,
    slack: &Arc<Slack>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Reply, InboundError> {
    let form = super::form(body);
    if form.get("ssl_check").is_some_and(|v| v == "1") {
        return Ok(Reply::Empty);
    }
    let field = |k: &str| form.get(k).filter(|v| !v.is_empty()).cloned();
    let user = field("user_id")
        .ok_or_else(|| InboundError::BadRequest("the form has no user_id".into()))?;
    let caller = Caller {
        name: field("user_name").unwrap_or_else(|| user.clone()),
        user,
        slash: field("command").unwrap_or_else(|| "/remedy".into()),
    };
    let command = RemedyCommand::parse(form.get("text").map_or("", |t| t), Source::Slack);
    let answer = match answer(app, slack, &caller, command, now).await {
        Ok(answer) => answer,
        Err(Failure::Hidden(e)) => Answer::line(escape(&e.to_string())),
        Err(Failure::Store(e)) => return Err(e.into()),
    };
    Ok(Reply::Json(answer.to_json()))
}

enum Failure {
    /// The caller's channels are unknown: nothing is shown.
    Hidden(VisibilityError),
    Store(StoreError),
}

impl From<VisibilityError> for Failure {
    fn from(e: VisibilityError) -> Self {
        match e {
            VisibilityError::Store(s) => Failure::Store(s),
            other => Failure::Hidden(other),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

async fn answer(
    app: &App,
    slack: &Slack,
    caller: &Caller,
    command: RemedyCommand,
    now: DateTime<Utc>,
) -> Result<Answer, Failure> {
    let open = FindingFilter {
        open_only: true,
        ..Default::default()
    };
    match command {
        RemedyCommand::Help { unknown } => Ok(help(caller, unknown.as_deref())),
        RemedyCommand::Invalid { usage, problem } => Ok(Answer::new(
            escape(&problem),
            vec![
                escape(&problem),
                format!("Usage: `{} {}`", escape(&caller.slash), usage),
            ],
        )),
        RemedyCommand::Stats => Ok(stats(app, now).await?),
        RemedyCommand::Show(id) => {
            let channels = visibility::user_channels(slack, &caller.user).await?;
            show(app, &channels, id, now).await
        }
        RemedyCommand::Assign { id, user } => {
            let channels = visibility::user_channels(slack, &caller.user).await?;
            assign(app, &channels, caller, id, user, now).await
        }
        RemedyCommand::Backlog { severity, owner } => {
            let mut args = vec!["--open".to_string()];
            args.extend(severity.map(|s| format!("--severity {s}")));
            args.extend(owner.as_ref().map(|o| format!("--owner {o}")));
            let filter = FindingFilter {
                severity,
                owner,
                ..open
            };
            listing(app, slack, caller, &filter, "Open findings", &args, now).await
        }
        RemedyCommand::Mine => {
            let owner = format!("slack:{}", caller.user);
            let args = ["--open".to_string(), format!("--owner {owner}")];
            let filter = FindingFilter {
                owner: Some(owner),
                ..open
            };
            listing(
                app,
                slack,
                caller,
                &filter,
                "Your open findings",
                &args,
                now,
            )
            .await
        }
        RemedyCommand::Overdue => {
            let filter = FindingFilter {
                overdue_at: Some(now),
                ..open
            };
            let args = ["--open".to_string(), "--overdue".to_string()];
            listing(app, slack, caller, &filter, "Overdue findings", &args, now).await
        }
    }
}

fn help(caller: &Caller, unknown: Option<&str>) -> Answer {
    let mut lines = Vec::new();
    if let Some(word) = unknown {
        lines.push(format!("Unknown subcommand `{}`.", escape(word)));
    }
    lines.push(format!("*{}* subcommands:", escape(&caller.slash)));
    for (usage, what) in HELP {
        lines.push(format!("`{} {}` — {}", escape(&caller.slash), usage, what));
    }
    let summary = match unknown {
        Some(word) => format!(
            "Unknown subcommand `{}`; try {} help",
            escape(word),
            escape(&caller.slash)
        ),
        None => format!("{} help", escape(&caller.slash)),
    };
    Answer::new(summary, lines)
}

fn summary_line(f: &FindingSummary, now: DateTime<Utc>) -> String {
    format!(
        "*{}* · {} · {} · {} · {} — {}",
        f.id,
        escape(&f.severity),
        escape(&f.stage),
        owner_text(f.owner.as_deref()),
        due_text(f.due_at, now),
        escape(&truncate(&f.title, 120)),
    )
}

async fn listing(
    app: &App,
    slack: &Slack,
    caller: &Caller,
    filter: &FindingFilter,
    heading: &str,
    cli_args: &[String],
    now: DateTime<Utc>,
) -> Result<Answer, Failure> {
    let channels = visibility::user_channels(slack, &caller.user).await?;
    let rows = app.store.list_findings(filter).await?;
    let rows = visibility::visible(app, &channels, rows, |f| f.id).await?;
    if rows.is_empty() {
        return Ok(Answer::line(format!(
            "{heading}: none in the channels you are in."
        )));
    }
    let total = rows.len();
    let mut lines = vec![format!("*{heading}* ({total}):")];
    lines.extend(rows.iter().take(MAX_LINES).map(|f| summary_line(f, now)));
    if total > MAX_LINES {
        lines.push(format!(
            "and {} more — `remedybot findings {}`",
            total - MAX_LINES,
            escape(&cli_args.join(" "))
        ));
    }
    Ok(Answer::new(format!("{heading}: {total}"), lines))
}

/// The same answer for a finding that does not exist and one the caller cannot see, so
/// the command does not reveal which ids exist.
fn not_visible(id: FindingId) -> Answer {
    Answer::line(format!(
        "{id} does not exist or is not in a channel you are in."
    ))
}

async fn visible_finding(
    app: &App,
    channels: &HashSet<String>,
    id: FindingId,
) -> Result<bool, StoreError> {
    Ok(!visibility::visible(app, channels, vec![id], |i| *i)
        .await?
        .is_empty())
}

async fn show(
    app: &App,
    channels: &HashSet<String>,
    id: FindingId,
    now: DateTime<Utc>,
) -> Result<Answer, Failure> {
    if !visible_finding(app, channels, id).await? {
        return Ok(not_visible(id));
    }
    let Some(f) = app.store.finding(id).await? else {
        return Ok(not_visible(id));
    };
    let s = &f.state;
    let mut lines = vec![
        format!("*{id}* {}", escape(&truncate(&s.title, 200))),
        format!(
            "Severity *{}* · stage *{}*{} · owner {} · {}",
            s.severity,
            s.stage,
            s.resolution
                .map(|r| format!(" ({})", r.as_str()))
                .unwrap_or_default(),
            owner_text(s.owner.as_deref()),
            due_text(s.next_due(), now),
        ),
        format!(
            "{} · {}",
            escape(&truncate(&s.asset, 200)),
            escape(&truncate(&s.location, 200))
        ),
    ];
    let trail = app.store.trail(id).await?;
    lines.push(format!("*Latest of {} trail events:*", trail.len()));
    let skip = trail.len().saturating_sub(TRAIL_EVENTS);
    lines.extend(trail.iter().skip(skip).map(|e| {
        format!(
            "`{}` {} — {} ({})",
            e.at.format("%Y-%m-%d %H:%M"),
            escape(&e.kind),
            escape(&truncate(&e.actor.name, 80)),
            escape(&e.source),
        )
    }));
    Ok(Answer::new(
        format!("{id}: {} ({}, {})", escape(&s.title), s.severity, s.stage),
        lines,
    ))
}

async fn assign(
    app: &App,
    channels: &HashSet<String>,
    caller: &Caller,
    id: FindingId,
    owner: String,
    now: DateTime<Utc>,
) -> Result<Answer, Failure> {
    if !visible_finding(app, channels, id).await? {
        return Ok(not_visible(id));
    }
    let actor = Actor::new("slack", &caller.user, &caller.name);
    let command = Command::Assign {
        owner: owner.clone(),
    };
    match app.execute(id, &command, &actor, Source::Slack, now).await {
        Ok(_) => Ok(Answer::line(format!(
            "{id} is now owned by {}.",
            owner_text(Some(&owner))
        ))),
        Err(AppError::Refused(r)) => Ok(Answer::line(format!(
            "{id} was not reassigned: {}",
            escape(&r.to_string())
        ))),
        Err(AppError::NotFound(_)) => Ok(not_visible(id)),
        Err(AppError::Store(e)) => Err(e.into()),
    }
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
    let lines = vec![
        "*remedybot stats* (all findings)".to_string(),
        format!(
            "Open: *{open}*{}",
            if by_severity.is_empty() {
                String::new()
            } else {
                format!(" ({})", by_severity.join(", "))
            }
        ),
        format!("Overdue: *{}*", s.overdue),
        format!(
            "Closed as fixed: *{}* · median time to remediate: {median}",
            s.closed_fixed
        ),
        format!(
            "Regressions: *{}* · total findings: {}",
            s.regressions, s.total
        ),
    ];
    Ok(Answer::new(
        format!("{open} open, {} overdue", s.overdue),
        lines,
    ))
}
