//! Background loops. Each one selects on the shutdown signal and exits when it fires.

mod expiry;
pub mod outbox;

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::chat::discord::deliver::{DiscordDeliverer, DiscordMessenger};
use crate::chat::discord::render::DiscordRenderer;
use crate::chat::slack::deliver::{SlackDeliverer, SlackMessenger};
use crate::chat::slack::render::SlackRenderer;

/// Start every background job. Fails (before anything runs) when a configured chat
/// platform cannot be set up, e.g. a template override that does not compile.
pub fn spawn(app: App, shutdown: watch::Receiver<bool>) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let mut jobs = Vec::new();
    if let Some(deliverer) = slack_deliverer(&app)? {
        jobs.push(tokio::spawn(outbox::run(
            app.clone(),
            Arc::new(deliverer),
            shutdown.clone(),
        )));
    }
    if let Some(deliverer) = discord_deliverer(&app)? {
        jobs.push(tokio::spawn(outbox::run(
            app.clone(),
            Arc::new(deliverer),
            shutdown.clone(),
        )));
    }
    if let Some(discord) = &app.discord {
        tracing::info!("connecting to the Discord gateway");
        jobs.push(tokio::spawn(crate::chat::discord::gateway::run(
            app.clone(),
            discord.clone(),
            shutdown.clone(),
        )));
    }
    if let (Some(slack), Some(token)) = (&app.slack, &app.settings.slack.app_token) {
        tracing::info!("receiving Slack events over Socket Mode");
        jobs.push(tokio::spawn(crate::chat::slack::socket::run(
            app.clone(),
            slack.clone(),
            token.clone(),
            shutdown.clone(),
        )));
    }
    jobs.push(tokio::spawn(expiry::run(app, shutdown)));
    Ok(jobs)
}

/// The Slack outbox deliverer, when `SLACK_BOT_TOKEN` is set.
pub fn slack_deliverer(app: &App) -> anyhow::Result<Option<SlackDeliverer>> {
    let slack = &app.settings.slack;
    if slack.bot_token.is_none() {
        return Ok(None);
    }
    let Some(api) = app.slack.as_ref().map(|s| s.api.clone()) else {
        anyhow::bail!(
            "SLACK_BOT_TOKEN is set but the Slack client could not be built (see the error above; are CA certificates installed?)"
        );
    };
    let render = SlackRenderer::new(slack.templates_dir.as_deref())
        .context("loading the Slack message templates")?;
    tracing::info!(api = %slack.api_url, "delivering to Slack");
    let messenger = SlackMessenger::new(
        api,
        render,
        slack.messages_per_second_per_channel,
        slack.edits_per_minute,
    );
    Ok(Some(SlackDeliverer::new(app.clone(), messenger)))
}

/// The Discord outbox deliverer, when `DISCORD_BOT_TOKEN` is set.
pub fn discord_deliverer(app: &App) -> anyhow::Result<Option<DiscordDeliverer>> {
    let settings = &app.settings.discord;
    let Some(discord) = &app.discord else {
        return Ok(None);
    };
    let render = DiscordRenderer::new(settings.templates_dir.as_deref())
        .context("loading the Discord message templates")?;
    tracing::info!(api = %settings.api_url, "delivering to Discord");
    let messenger = DiscordMessenger::new(
        discord.api.clone(),
        render,
        settings.messages_per_second_per_channel,
    );
    Ok(Some(DiscordDeliverer::new(app.clone(), messenger)))
}
