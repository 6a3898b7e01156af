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
pub mod remedy;
pub mod slack;
pub mod tasks;
pub mod templates;
pub mod view;
