//! Chat: platform-neutral deliveries, views and commands; `slack/` and `discord/`
//! only translate between a platform's payloads and these, and never decide workflow
//! questions themselves. Workflow decisions stay in `domain`, storage in `store`.

pub mod answer;
pub mod command;
pub mod deliver;
pub mod delivery;
pub mod discord;
pub mod extract;
pub mod inbound;
pub mod outbox;
pub mod prompts;
pub mod remedy;
pub mod replay;
pub mod slack;
pub mod tasks;
pub mod templates;
pub mod view;

/// Why a verified inbound request from a chat platform could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    /// The request is not a payload the platform sends: 400, nothing changed.
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
