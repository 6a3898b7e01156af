//! Slack: text escaping for mrkdwn and Block Kit rendering from templates.

pub mod escape;
pub mod render;
