//! What chat messages mean for findings, the same on every platform: an alert message a
//! `[[listen]]` rule reads becomes a finding whose thread is that message, and a person's
//! reply in a finding's thread becomes a comment (the first one can acknowledge it).
//! Platforms find the message, its author and its link; this module records them.

use chrono::{DateTime, Utc};

use super::delivery::Platform;
use super::extract::Extracted;
use crate::app::{App, AppError, IngestOptions};
use crate::domain::{Actor, Command, FindingId, Refusal, Source, Stage};
use crate::store::ChatMessage;

/// The trail's source for a platform's messages.
pub fn source(platform: Platform) -> Source {
    match platform {
        Platform::Slack => Source::Slack,
        Platform::Discord => Source::Discord,
    }
}

/// Ingest what a rule read from an alert message, with `alert` as the finding's thread, in
/// one transaction: the outbox then posts the card as the first reply under the alert. The
/// same alert again is the same finding (its fingerprint): `times_seen` grows, a fixed one
/// reopens, and no new thread is opened.
pub async fn read_alert(
    app: &App,
    platform: Platform,
    extracted: Extracted,
    alert: ChatMessage,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Extracted { rule, finding } = extracted;
    let (channel, message) = (alert.channel.clone(), alert.message_ref.clone());
    let options = IngestOptions {
        anchor: Some((platform, alert)),
        ..IngestOptions::default()
    };
    let outcome = app
        .ingest_with(vec![finding], &options, actor, source(platform), now)
        .await?;
    for item in &outcome.findings {
        tracing::info!(
            rule,
            platform = platform.as_str(),
            channel,
            message,
            finding.id = %item.id,
            outcome = item.outcome.as_str(),
            "alert message read as a finding"
        );
    }
    Ok(())
}

/// A person's reply in a finding's thread.
#[derive(Debug, Clone)]
pub struct ThreadComment {
    pub finding: FindingId,
    pub actor: Actor,
    pub text: String,
    /// A link to the message, when the platform gives one (never required).
    pub link: Option<String>,
}

/// Record a reply as a comment, and acknowledge a new finding with it when `acknowledges`
/// (`first_reply_acknowledges`).
pub async fn record_reply(
    app: &App,
    platform: Platform,
    reply: ThreadComment,
    acknowledges: bool,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let ThreadComment {
        finding: id,
        actor,
        text,
        link,
    } = reply;
    let actor = &actor;
    let comment = Command::Comment { text, link };
    let source = source(platform);
    let outcome = match app.execute(id, &comment, actor, source, now).await {
        Ok(outcome) => outcome,
        Err(AppError::Refused(r)) => {
            tracing::info!(finding.id = %id, reason = %r, "thread reply not recorded");
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if acknowledges && outcome.state.stage == Stage::New {
        match app
            .execute(id, &Command::Acknowledge, actor, source, now)
            .await
        {
            Ok(_) | Err(AppError::Refused(Refusal::NoChange(_))) => {}
            Err(AppError::Refused(r)) => {
                tracing::info!(finding.id = %id, reason = %r, "first reply did not acknowledge");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
