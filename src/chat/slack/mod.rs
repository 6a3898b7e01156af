//! The Slack adapter: translates between Slack's payloads and remedybot's platform-neutral
//! chat layer (Web API client, request signing, app manifest, modals, inbound requests).

pub mod api;
pub mod deliver;
pub mod escape;
pub mod inbound;
pub mod manifest;
pub mod modals;
pub mod render;
pub mod signing;
pub mod socket;
pub mod usergroups;

use std::future::Future;

use serde_json::Value;
use tokio::sync::OnceCell;

use self::api::SlackApi;
use self::inbound::visibility::ChannelCache;
use self::signing::SlackSigner;
use self::usergroups::UsergroupCache;
use crate::chat::tasks::Tasks;
use crate::config::SlackSettings;

/// The running Slack integration, shared by the `/slack/*` handlers: the Web API client,
/// the request verifier, and the inbound side's small amount of state (a per-user cache of
/// visible channels, remedybot's own identity, and the background tasks handlers started
/// after answering Slack).
#[derive(Debug)]
pub struct Slack {
    pub api: SlackApi,
    /// `None` without `SLACK_SIGNING_SECRET`: the HTTP routes are then off (404).
    pub signer: Option<SlackSigner>,
    /// `[slack] first_reply_acknowledges`.
    pub first_reply_acknowledges: bool,
    pub(crate) channels: ChannelCache,
    /// Members of Slack user groups used as approver groups.
    pub usergroups: UsergroupCache,
    /// Who remedybot is in this workspace (`auth.test`), asked once on first use.
    identity: OnceCell<BotIdentity>,
    /// How many background tasks are running (see [`Slack::spawn`]).
    tasks: Tasks,
}

impl Slack {
    /// The integration for these settings: `Ok(None)` when Slack is off (no bot token), an
    /// error when the HTTP client cannot be built (e.g. no TLS root certificates).
    pub fn from_settings(settings: &SlackSettings) -> std::io::Result<Option<Slack>> {
        let Some(token) = settings.bot_token.as_ref() else {
            return Ok(None);
        };
        Ok(Some(Slack::new(
            SlackApi::new(&settings.api_url, token)?,
            settings
                .signing_secret
                .clone()
                .map(SlackSigner::from_secret),
            settings.first_reply_acknowledges,
        )))
    }

    pub fn new(api: SlackApi, signer: Option<SlackSigner>, first_reply_acknowledges: bool) -> Self {
        Slack {
            api,
            signer,
            first_reply_acknowledges,
            channels: ChannelCache::default(),
            usergroups: UsergroupCache::default(),
            identity: OnceCell::new(),
            tasks: Tasks::default(),
        }
    }

    /// remedybot's own bot and bot user ids, from `auth.test` on first use and then cached
    /// for the life of the process (a token belongs to one bot). `None` while Slack cannot
    /// say (the next call asks again).
    pub async fn identity(&self) -> Option<&BotIdentity> {
        let asked = self
            .identity
            .get_or_try_init(|| async {
                let reply = self.api.get("auth.test", &[]).await?;
                Ok::<_, crate::chat::deliver::SendError>(BotIdentity::from_auth_test(&reply))
            })
            .await;
        match asked {
            Ok(identity) => Some(identity),
            Err(e) => {
                tracing::warn!(error = %e, "auth.test failed: remedybot's own Slack ids are unknown");
                None
            }
        }
    }

    /// Run work that must not hold up the answer to Slack (Slack wants one within 3 s) in
    /// a background task, counted so that [`Slack::settle`] can wait for it.
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(work);
    }

    /// Wait until no background task started by [`Slack::spawn`] is running. For graceful
    /// shutdown and for tests that check what a handler did after answering.
    pub async fn settle(&self) {
        self.tasks.settle().await;
    }
}

/// remedybot's ids in a Slack workspace, as `auth.test` gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BotIdentity {
    /// `B…`: every message remedybot posts carries it as `bot_id`.
    pub bot_id: Option<String>,
    /// `U…`: the bot user, the `user` of those messages.
    pub user_id: Option<String>,
}

impl BotIdentity {
    pub fn from_auth_test(reply: &Value) -> BotIdentity {
        let id = |k: &str| {
            reply
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        BotIdentity {
            bot_id: id("bot_id"),
            user_id: id("user_id"),
        }
    }

    /// Whether a message with this `bot_id` and `user` was posted by remedybot.
    pub fn posted(&self, bot_id: Option<&str>, user: Option<&str>) -> bool {
        let is = |mine: &Option<String>, theirs: Option<&str>| {
            mine.is_some() && mine.as_deref() == theirs
        };
        is(&self.bot_id, bot_id) || is(&self.user_id, user)
    }
}
