//! The Discord gateway (a websocket from remedybot to Discord; no public URL needed): the
//! default transport. serenity keeps the connection (identify, heartbeats, resume);
//! events are handed on as JSON to the same handlers the HTTP transport uses, so both
//! behave alike: messages to [`super::messages`], interactions to
//! [`super::inbound::interactions`], whose answer is posted to the interaction's callback.
//!
//! Intents: GUILDS, GUILD_MESSAGES, DIRECT_MESSAGES and the privileged MESSAGE_CONTENT
//! (to read alerts and replies; enable it in the Developer Portal, see docs/discord.md).

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;
use serenity::all::{Context, EventHandler, GatewayIntents, Interaction, Message, Ready};
use serenity::async_trait;
use serenity::http::{LightMethod, Route};
use serenity::model::id::InteractionId;
use tokio::sync::watch;

use super::Discord;
use crate::app::App;

/// The gateway intents remedybot asks for.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

struct Handler {
    app: App,
    discord: Arc<Discord>,
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        tracing::info!(
            user = %ready.user.name,
            guilds = ready.guilds.len(),
            "connected to the Discord gateway"
        );
    }

    async fn message(&self, _ctx: Context, msg: Message) {
        let msg = match serde_json::to_value(&msg) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read a Discord message");
                return;
            }
        };
        let (app, discord) = (self.app.clone(), self.discord.clone());
        self.discord.spawn(async move {
            if let Err(e) = super::messages::on_message(&app, &discord, &msg, Utc::now()).await {
                tracing::error!(error = %e, "handling a Discord message failed");
            }
        });
    }

    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        match serde_json::to_value(&interaction) {
            Ok(mut v) => {
                // serenity writes the variant's fields but not Discord's `type` tag.
                v["type"] = Value::from(u8::from(interaction.kind()));
                answer(&self.app, &self.discord, &v).await
            }
            Err(e) => tracing::warn!(error = %e, "cannot read a Discord interaction"),
        }
    }
}

/// Answer an interaction that came over the gateway: the same handler as
/// `POST /discord/interactions`, its response posted to the interaction's callback.
pub async fn answer(app: &App, discord: &Arc<Discord>, interaction: &Value) {
    let (Some(id), Some(token)) = (
        interaction
            .get("id")
            .and_then(Value::as_str)
            .and_then(|i| i.parse::<u64>().ok()),
        interaction.get("token").and_then(Value::as_str),
    ) else {
        tracing::warn!("a Discord interaction without an id or token was ignored");
        return;
    };
    let response = match super::inbound::handle(app, discord, interaction, Utc::now()).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "a Discord interaction could not be handled");
            super::inbound::ephemeral("Sorry, remedybot could not handle that.")
        }
    };
    let route = Route::InteractionResponse {
        interaction_id: InteractionId::new(id),
        token,
    };
    if let Err(e) = discord
        .api
        .call(
            "interaction callback",
            route,
            LightMethod::Post,
            Some(&response),
        )
        .await
    {
        tracing::warn!(error = %e, "cannot answer a Discord interaction");
    }
}

/// Wait until `GET /gateway` answers through the configured API, retrying with backoff
/// (up to a minute apart). `false` when shutdown came first.
async fn gateway_reachable(discord: &Discord, shutdown: &mut watch::Receiver<bool>) -> bool {
    let mut wait = std::time::Duration::from_secs(1);
    loop {
        match discord
            .api
            .call("get gateway", Route::Gateway, LightMethod::Get, None)
            .await
        {
            Ok(reply) if reply.body.get("url").and_then(Value::as_str).is_some() => return true,
            Ok(_) => tracing::warn!("Discord's gateway answer has no url; retrying"),
            Err(e) => tracing::warn!(error = %e, ?wait, "cannot reach the Discord API; retrying"),
        }
        tokio::select! {
            _ = shutdown.changed() => return false,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(std::time::Duration::from_secs(60));
    }
}

/// Run the gateway until shutdown. Errors (a bad token, no connection) are logged; serenity
/// reconnects on its own while it can.
pub async fn run(app: App, discord: Arc<Discord>, mut shutdown: watch::Receiver<bool>) {
    // serenity asks `GET /gateway` itself but silently falls back to the real Discord when
    // that fails, which would bypass `DISCORD_API_URL`: start it only once the configured
    // API answers.
    if !gateway_reachable(&discord, &mut shutdown).await {
        return;
    }
    let http = discord.api.serenity_http();
    let handler = Handler {
        app,
        discord: discord.clone(),
    };
    let built = serenity::client::ClientBuilder::new_with_http(http, intents())
        .event_handler(handler)
        .await;
    let mut client = match built {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the Discord gateway client");
            return;
        }
    };
    let shards = client.shard_manager.clone();
    tokio::select! {
        ended = client.start() => {
            if let Err(e) = ended {
                tracing::error!(error = %e, "the Discord gateway connection ended");
            }
        }
        _ = shutdown.changed() => {
            shards.shutdown_all().await;
        }
    }
}
