//! Who did something, and through which channel it reached us.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A person or system that acts on findings: platform + platform user id + display name.
///
/// Policies name actors as `platform:id` (see [`Actor::reference`]); the display name is
/// informational and never used for authorisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub platform: String,
    pub id: String,
    pub name: String,
}

impl Actor {
    pub fn new(platform: &str, id: &str, name: &str) -> Self {
        Actor {
            platform: platform.to_string(),
            id: id.to_string(),
            name: name.to_string(),
        }
    }

    /// The built-in actor for scheduled jobs and scanner-driven changes.
    pub fn system() -> Self {
        Actor::new("system", "remedybot", "remedybot")
    }

    /// `platform:id`, the form approver groups and owners are written in.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.platform, self.id)
    }

    /// Whether this actor is the one named by `reference` (`platform:id`, or a bare id that
    /// is compared with the id alone).
    pub fn is(&self, reference: &str) -> bool {
        match reference.split_once(':') {
            Some((platform, id)) => platform == self.platform && id == self.id,
            None => reference == self.id,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.reference())
    }
}

/// The channel through which a change reached remedybot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Slack,
    Discord,
    Api,
    Cli,
    System,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Slack => "slack",
            Source::Discord => "discord",
            Source::Api => "api",
            Source::Cli => "cli",
            Source::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        Some(match s {
            "slack" => Source::Slack,
            "discord" => Source::Discord,
            "api" => Source::Api,
            "cli" => Source::Cli,
            "system" => Source::System,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_match_platform_and_id() {
        let a = Actor::new("slack", "U1", "Ann");
        assert!(a.is("slack:U1"));
        assert!(!a.is("discord:U1"));
        assert!(a.is("U1"));
        assert_eq!(a.reference(), "slack:U1");
    }
}
