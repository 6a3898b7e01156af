//! The Slack adapter: translation between Slack payloads and platform-neutral commands and
//! messages.

pub mod modals;
