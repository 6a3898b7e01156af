//! The Discord adapter: translates between Discord's payloads and remedybot's
//! platform-neutral chat layer (REST client, interaction signing, rendering, inbound
//! interactions and messages, the gateway).

pub mod api;
pub mod commands_def;
pub mod deliver;
pub mod escape;
pub mod gateway;
pub mod inbound;
pub mod messages;
pub mod render;
pub mod signing;

use std::future::Future;

use tokio::sync::OnceCell;

use self::api::DiscordApi;
use self::inbound::visibility::GuildCache;
use crate::chat::deliver::SendError;
use crate::chat::tasks::Tasks;
use crate::config::DiscordSettings;

/// The running Discord integration, shared by `POST /discord/interactions`, the gateway and
/// the outbox: the REST client, the interaction verifier's key, and what is learnt from
/// Discord once (the application and bot user ids).
#[derive(Debug)]
pub struct Discord {
    pub api: DiscordApi,
    /// `DISCORD_PUBLIC_KEY`; `None`: the HTTP interactions route is off (404).
    pub public_key: Option<[u8; 32]>,
    /// `[discord] first_reply_acknowledges`.
    pub first_reply_acknowledges: bool,
    /// `[discord] guild_id`.
    pub guild_id: Option<u64>,
    /// `DISCORD_APPLICATION_ID`, else asked from Discord on first use.
    application_id: OnceCell<u64>,
    /// The bot user's id (`GET /users/@me`), asked on first use.
    bot_user_id: OnceCell<u64>,
    /// Servers' roles and channels, for who may see which findings.
    pub(crate) guilds: GuildCache,
    tasks: Tasks,
}

impl Discord {
    /// The integration for these settings: `None` when Discord is off (no bot token).
    pub fn from_settings(settings: &DiscordSettings) -> Option<Discord> {
        let token = settings.bot_token.as_ref()?;
        let discord = Discord::new(DiscordApi::new(&settings.api_url, token), settings);
        Some(discord)
    }

    pub fn new(api: DiscordApi, settings: &DiscordSettings) -> Discord {
        Discord {
            api,
            public_key: settings.public_key,
            first_reply_acknowledges: settings.first_reply_acknowledges,
            guild_id: settings.guild_id,
            application_id: OnceCell::new_with(settings.application_id),
            bot_user_id: OnceCell::new(),
            guilds: GuildCache::default(),
            tasks: Tasks::default(),
        }
    }

    /// The application id: from the settings, else `GET /oauth2/applications/@me` (cached).
    pub async fn application_id(&self) -> Result<u64, SendError> {
        self.application_id
            .get_or_try_init(|| async {
                let reply = self
                    .api
                    .call(
                        "get application",
                        serenity::http::Route::Oauth2ApplicationCurrent,
                        serenity::http::LightMethod::Get,
                        None,
                    )
                    .await?;
                id_field(&reply.body, "id")
            })
            .await
            .copied()
    }

    /// The bot user's id (`GET /users/@me`, cached): messages it posted are its own.
    pub async fn bot_user_id(&self) -> Result<u64, SendError> {
        self.bot_user_id
            .get_or_try_init(|| async {
                let reply = self
                    .api
                    .call(
                        "get current user",
                        serenity::http::Route::UserMe,
                        serenity::http::LightMethod::Get,
                        None,
                    )
                    .await?;
                id_field(&reply.body, "id")
            })
            .await
            .copied()
    }

    /// Run work that must not hold up the answer to Discord (3 s) in a counted background
    /// task.
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(work);
    }

    /// Wait until no task started by [`Discord::spawn`] is running.
    pub async fn settle(&self) {
        self.tasks.settle().await;
    }
}

/// A snowflake field (Discord sends ids as strings).
fn id_field(body: &serde_json::Value, key: &str) -> Result<u64, SendError> {
    body.get(key)
        .and_then(|v| {
            v.as_str()
                .and_then(|s| s.parse().ok())
                .or_else(|| v.as_u64())
        })
        .ok_or_else(|| SendError::Transient {
            message: format!("Discord's answer has no `{key}`"),
            maybe_sent: false,
        })
}
