//! Slack: translate between Slack's payloads and remedybot's platform-neutral chat layer.

pub mod api;
