//! The Slack adapter: request signing, the app manifest, and (later) the translation between
//! Slack payloads and platform-neutral commands and messages.

pub mod manifest;
pub mod signing;
