//! remedybot: a chat-ops remediation bot.
//!
//! Map of the crate (dependencies point inward, towards `domain`):
//! - [`domain`]: findings, the workflow state machine, policies. Pure, no I/O.
//! - [`config`]: the typed settings tree (defaults → file → environment).
//! - [`store`]: sqlx persistence on SQLite or PostgreSQL: events (hash-chained), projections.
//! - [`ingest`]: bytes → validated `NewFinding`s (one file per input format).
//! - [`routing`]: which rule a finding falls under: owner and chat channels (pure).
//! - [`chat`]: platform-neutral deliveries, views and commands, and `[[listen]]` rules that
//!   read findings out of alert messages (`chat::extract`), `/remedy` for any platform
//!   (`chat::remedy` → `chat::answer`); `chat::slack` and `chat::discord` translate.
//! - [`app`]: application services used by HTTP, CLI and jobs: ingest, commands, queries.
//! - [`report`]: metrics over the store (backlog, overdue, time to remediate).
//! - [`http`]: the axum router, extractors and `ApiError`.
//! - [`telemetry`]: tracing setup and the Prometheus registry.
//! - [`cli`]: the `remedybot` command line; `main.rs` only calls [`cli::run`].

pub mod app;
pub mod chat;
pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod ingest;
pub mod jobs;
pub mod report;
pub mod routing;
pub mod server;
pub mod store;
pub mod telemetry;
