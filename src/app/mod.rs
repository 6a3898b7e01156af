//! Application services: what HTTP handlers, the CLI and background jobs call. They load
//! state, ask [`crate::domain::decide`], and hand the resulting events to the store in one
//! transaction. Workflow rules stay in the domain; SQL stays in the store.

mod batch;
mod chat;
mod commands;
mod github;
mod ingest;
mod reports;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use tokio::sync::Notify;

use crate::chat::delivery::Platform;
use crate::chat::discord::Discord;
use crate::chat::slack::Slack;
use crate::config::Settings;
use crate::domain::{FindingId, Refusal};
use crate::store::{Store, StoreError};
use crate::telemetry::Metrics;

pub use chat::Openings;
pub use commands::CommandOutcome;
pub use github::GitHubOutcome;
pub use ingest::{IngestOptions, IngestOutcome, ItemOutcome, Outcome};
pub use reports::StatusUpdate;

/// Errors from application services.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("finding {0} not found")]
    NotFound(FindingId),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Times are stored with millisecond precision; every change is stamped with a time cut to
/// that precision, so a finding rebuilt from its stored events equals the stored projection.
pub(crate) fn stored_precision(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// One wake-up per chat platform's outbox worker.
#[derive(Debug, Default)]
pub struct OutboxSignal {
    slack: Notify,
    discord: Notify,
}

impl OutboxSignal {
    /// What `platform`'s worker waits on.
    pub fn of(&self, platform: Platform) -> &Notify {
        match platform {
            Platform::Slack => &self.slack,
            Platform::Discord => &self.discord,
        }
    }
}

/// The application: settings, store and metrics, shared by every entry point.
#[derive(Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    /// Woken when messages are queued, so each platform's outbox worker sends them without
    /// waiting for its next poll.
    pub outbox_signal: Arc<OutboxSignal>,
    /// The Slack integration (Web API client, request verifier), when Slack is enabled.
    pub slack: Option<Arc<Slack>>,
    /// The Discord integration (REST client, interaction verifier key), when enabled.
    pub discord: Option<Arc<Discord>>,
    /// Commands waiting to be committed together (see `batch`).
    commands: Arc<batch::CommandQueue>,
}

impl App {
    /// The application for `settings`. When the Slack client cannot be built (e.g. no TLS
    /// root certificates on the host) this logs the reason and runs with Slack off, so the
    /// rest of remedybot still serves.
    pub fn new(settings: Settings, store: Store) -> App {
        let slack = match Slack::from_settings(&settings.slack) {
            Ok(slack) => slack.map(Arc::new),
            Err(e) => {
                tracing::error!(error = %e, "cannot build the Slack client; Slack is off");
                None
            }
        };
        let discord = Discord::from_settings(&settings.discord).map(Arc::new);
        App {
            settings: Arc::new(settings),
            store,
            metrics: Arc::new(Metrics::default()),
            outbox_signal: Arc::default(),
            slack,
            discord,
            commands: Arc::default(),
        }
    }

    /// The chat platforms this deployment delivers to.
    pub fn chat_platforms(&self) -> Vec<Platform> {
        let mut out = Vec::new();
        if self.settings.slack.enabled() {
            out.push(Platform::Slack);
        }
        if self.settings.discord.enabled() {
            out.push(Platform::Discord);
        }
        out
    }
}
