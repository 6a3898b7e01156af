//! The `/remedy` application command (interaction type 2): its options become the same
//! [`RemedyCommand`] Slack's text does, [`crate::chat::remedy::run`] answers it, and the
//! answer goes back as an ephemeral message (see [`reply`]).
//!
//! Discord wants an answer within 3 s. Subcommands that reveal findings need the server's
//! roles and channels ([`super::visibility`]); when those are not cached, the interaction
//! is deferred (type 5) and the answer replaces the "thinking…" message later
//! (`PATCH /webhooks/{application}/{token}/messages/@original`) from a
//! [`Discord::spawn`]ed task. Everything else is answered at once.

pub mod reply;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde_json::Value;
use serenity::http::{LightMethod, Route};
use serenity::model::id::ApplicationId;
use tokio::time::Instant;

use super::InboundError;
use super::visibility::{self, Member, hidden, id_of};
use crate::app::App;
use crate::chat::answer::Answer;
use crate::chat::command::RemedyCommand;
use crate::chat::discord::{Discord, commands_def};
use crate::chat::remedy::{self, Audience, Caller, Failure};
use crate::domain::Source;

/// The longest an answer given at once waits for Discord (of its 3 s).
const INLINE_TIMEOUT: Duration = Duration::from_millis(2_000);
/// The longest a deferred answer waits for Discord (the token lasts 15 minutes).
const DEFERRED_TIMEOUT: Duration = Duration::from_secs(30);

/// One `/remedy` invocation, read from the interaction.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub caller: Caller,
    pub command: RemedyCommand,
    /// The server it was typed in; `None` in a direct message.
    pub guild: Option<u64>,
    pub roles: Vec<u64>,
    /// The interaction token, for a deferred answer.
    pub token: String,
    /// The application the interaction is for, when the payload says.
    pub application_id: Option<u64>,
}

impl Invocation {
    /// Read an application command interaction.
    pub fn parse(interaction: &Value) -> Result<Invocation, InboundError> {
        let bad = |m: &str| InboundError::BadRequest(format!("application command: {m}"));
        let member = interaction.get("member");
        let user = member
            .and_then(|m| m.get("user"))
            .or_else(|| interaction.get("user"))
            .ok_or_else(|| bad("no member.user or user"))?;
        let id = id_of(user, "id").ok_or_else(|| bad("no user id"))?;
        let name = [
            member.and_then(|m| m.get("nick")),
            user.get("global_name"),
            user.get("username"),
        ]
        .into_iter()
        .flatten()
        .find_map(|v| v.as_str().filter(|s| !s.is_empty()))
        .map_or_else(|| id.to_string(), str::to_string);
        let token = interaction
            .get("token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| bad("no token"))?;
        let roles = member
            .and_then(|m| m.get("roles"))
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(|v| v.as_str()?.parse().ok()).collect())
            .unwrap_or_default();
        let data = interaction.get("data").ok_or_else(|| bad("no data"))?;
        Ok(Invocation {
            caller: Caller {
                platform: Source::Discord,
                user: id.to_string(),
                name,
            },
            command: command(data),
            guild: id_of(interaction, "guild_id"),
            roles,
            token: token.to_string(),
            application_id: id_of(interaction, "application_id"),
        })
    }

    fn member(&self) -> Member {
        Member {
            user: self.caller.user.parse().unwrap_or(0),
            roles: self.roles.clone(),
        }
    }
}

/// The command in an interaction's `data`: the subcommand (option of type 1) and its
/// options; USER options become `discord:ID`.
pub fn command(data: &Value) -> RemedyCommand {
    let name = data.get("name").and_then(Value::as_str).unwrap_or("");
    if name != commands_def::NAME {
        return RemedyCommand::Help {
            unknown: Some(name.to_string()),
        };
    }
    let sub = data
        .get("options")
        .and_then(Value::as_array)
        .and_then(|o| o.iter().find(|o| o["type"] == commands_def::SUB_COMMAND));
    let Some(sub) = sub else {
        return RemedyCommand::from_arguments("", &[]);
    };
    let args: Vec<(String, String)> = sub
        .get("options")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|o| {
            let name = o.get("name")?.as_str()?.to_string();
            let value = match o.get("value")? {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let value = if o["type"] == commands_def::USER {
                format!("discord:{value}")
            } else {
                value
            };
            Some((name, value))
        })
        .collect();
    let args: Vec<(&str, &str)> = args.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let sub = sub.get("name").and_then(Value::as_str).unwrap_or("");
    RemedyCommand::from_arguments(sub, &args)
}

/// Answer one `/remedy` interaction (already verified): the interaction response body.
pub async fn handle(
    app: &App,
    discord: &Arc<Discord>,
    interaction: &Value,
    now: DateTime<Utc>,
) -> Result<Value, InboundError> {
    let invocation = Invocation::parse(interaction)?;
    if answers_at_once(discord, &invocation) {
        let viewer = Viewer::new(discord, &invocation, INLINE_TIMEOUT);
        let answer = answer(app, &invocation, &viewer, now)
            .await
            .map_err(InboundError::Store)?;
        return Ok(reply::response(&answer));
    }
    let (app, task) = (app.clone(), discord.clone());
    discord.spawn(async move {
        let discord = task;
        let viewer = Viewer::new(&discord, &invocation, DEFERRED_TIMEOUT);
        let answer = answer(&app, &invocation, &viewer, now)
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot answer /remedy");
                Answer::plain("remedybot could not answer (its database failed); try again")
            });
        edit_original(&discord, &invocation, &answer).await;
    });
    Ok(reply::deferred())
}

/// Whether the answer needs no Discord call that may be slow: the subcommand reveals no
/// findings, or the server is cached (or there is no server, which shows nothing).
pub fn answers_at_once(discord: &Discord, invocation: &Invocation) -> bool {
    let reveals = matches!(
        invocation.command,
        RemedyCommand::Backlog { .. }
            | RemedyCommand::Mine
            | RemedyCommand::Overdue
            | RemedyCommand::Show(_)
            | RemedyCommand::Assign { .. }
    );
    match invocation.guild {
        _ if !reveals => true,
        None => true,
        Some(g) => discord.guilds.get(g, Instant::now()).is_some(),
    }
}

async fn answer(
    app: &App,
    invocation: &Invocation,
    viewer: &Viewer,
    now: DateTime<Utc>,
) -> Result<Answer, crate::store::StoreError> {
    let command = invocation.command.clone();
    match remedy::run(app, &invocation.caller, viewer, command, now).await {
        Ok(answer) => Ok(answer),
        Err(Failure::Hidden(message)) => Ok(Answer::plain(message)),
        Err(Failure::Store(e)) => Err(e),
    }
}

/// Replace the deferred "thinking…" message with the answer. Failures are logged: the
/// caller sees Discord's own "the application did not respond".
async fn edit_original(discord: &Discord, invocation: &Invocation, answer: &Answer) {
    let application = match invocation.application_id {
        Some(id) => Ok(id),
        None => discord.application_id().await,
    };
    let result = match application {
        Ok(id) => {
            let route = Route::WebhookOriginalInteractionResponse {
                application_id: ApplicationId::new(id),
                token: &invocation.token,
            };
            let body = reply::message(answer);
            let call = discord.api.call(
                "edit interaction response",
                route,
                LightMethod::Patch,
                Some(&body),
            );
            call.await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "cannot send the deferred /remedy answer");
    }
}

/// A server member, who sees the channels Discord's permissions let them view.
struct Viewer {
    discord: Arc<Discord>,
    guild: Option<u64>,
    member: Member,
    within: Duration,
}

impl Viewer {
    fn new(discord: &Arc<Discord>, invocation: &Invocation, within: Duration) -> Viewer {
        Viewer {
            discord: discord.clone(),
            guild: invocation.guild,
            member: invocation.member(),
            within,
        }
    }
}

impl Audience for Viewer {
    fn visible_channels<'a>(
        &'a self,
        channels: &'a BTreeSet<String>,
    ) -> BoxFuture<'a, Result<HashSet<String>, Failure>> {
        Box::pin(async move {
            let Some(guild) = self.guild else {
                return Err(hidden("/remedy works in a server, not in direct messages"));
            };
            let lookup = async {
                let g = visibility::guild(&self.discord, guild).await?;
                visibility::visible_channels(&self.discord, &g, &self.member, channels).await
            };
            tokio::time::timeout(self.within, lookup)
                .await
                .map_err(|_| hidden("Discord did not answer in time"))?
        })
    }
}

#[cfg(test)]
mod tests;
