//! Application services: what HTTP handlers, the CLI and background jobs call. They load
//! state, ask [`crate::domain::decide`], and hand the resulting events to the store in one
//! transaction. Workflow rules stay in the domain; SQL stays in the store.

mod commands;
mod github;
mod ingest;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::domain::{FindingId, Refusal};
use crate::store::{Store, StoreError};
use crate::telemetry::Metrics;

pub use commands::CommandOutcome;
pub use github::GitHubOutcome;
pub use ingest::{IngestOptions, IngestOutcome, ItemOutcome, Outcome};

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

/// The application: settings, store and metrics, shared by every entry point.
#[derive(Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub metrics: Arc<Metrics>,
}

impl App {
    pub fn new(settings: Settings, store: Store) -> App {
        App {
            settings: Arc::new(settings),
            store,
            metrics: Arc::new(Metrics::default()),
        }
    }
}
