//! Chat: platform-neutral deliveries, views and commands; `slack/` and `discord/`
//! only translate between a platform's payloads and these, and never decide workflow
//! questions themselves. Workflow decisions stay in `domain`, storage in `store`.

pub mod command;
pub mod deliver;
pub mod delivery;
pub mod discord;
pub mod extract;
pub mod prompts;
pub mod replay;
pub mod slack;
pub mod tasks;
pub mod view;
