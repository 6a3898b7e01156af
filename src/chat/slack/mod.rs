//! The Slack adapter: translates between Slack's payloads and remedybot's platform-neutral
//! chat layer (Web API client, request signing, app manifest, modals).

pub mod api;
pub mod deliver;
pub mod escape;
pub mod manifest;
pub mod modals;
pub mod render;
pub mod signing;
