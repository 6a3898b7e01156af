//! The Discord adapter: translates between Discord's payloads and remedybot's
//! platform-neutral chat layer (REST client, interaction signing, rendering, inbound
//! interactions and messages, the gateway).

pub mod escape;
pub mod render;
