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

use tokio::sync::watch;

use self::api::SlackApi;
use self::inbound::visibility::ChannelCache;
use self::signing::SlackSigner;
use self::usergroups::UsergroupCache;
use crate::config::SlackSettings;

/// The running Slack integration, shared by the `/slack/*` handlers: the Web API client,
/// the request verifier, and the inbound side's small amount of state (a per-user cache of
/// visible channels, and the background tasks handlers started after answering Slack).
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
    /// How many background tasks are running (see [`Slack::spawn`]).
    tasks: watch::Sender<usize>,
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
            tasks: watch::Sender::new(0),
        }
    }

    /// Run work that must not hold up the answer to Slack (Slack wants one within 3 s) in
    /// a background task, counted so that [`Slack::settle`] can wait for it.
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        self.tasks.send_modify(|n| *n += 1);
        let tasks = self.tasks.clone();
        tokio::spawn(async move {
            // Decrements even if `work` panics, so `settle` cannot wait forever.
            let _done = Done(tasks);
            work.await;
        });
    }

    /// Wait until no background task started by [`Slack::spawn`] is running. For graceful
    /// shutdown and for tests that check what a handler did after answering.
    pub async fn settle(&self) {
        let mut rx = self.tasks.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

struct Done(watch::Sender<usize>);

impl Drop for Done {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}
