//! The Slack app manifest that `remedybot slack manifest` prints: paste it into "Create New
//! App → From an app manifest" at api.slack.com/apps and the app has exactly the slash
//! command, events, interactivity and scopes the Slack adapter uses.
//!
//! Pure: options in, JSON out. It must stay in step with the adapter: the request paths
//! are the ones `http/` serves, the events are the ones `chat/slack` handles.
//! Schema: <https://github.com/slackapi/manifest-schema> (`manifest.schema.1.0.0.json`).

use serde_json::{Value, json};

/// The app name when none is given.
pub const DEFAULT_APP_NAME: &str = "remedybot";
/// The one slash command; every action is a subcommand of it.
pub const COMMAND: &str = "/remedy";
/// Shown by Slack while the user types the command.
pub const USAGE_HINT: &str =
    "backlog | mine | overdue | show F-1042 | stats | assign F-1042 @user | help";
/// Where Slack sends events, interactions and slash commands in HTTP mode, relative to
/// the public URL.
pub const EVENTS_PATH: &str = "/slack/events";
pub const INTERACTIONS_PATH: &str = "/slack/interactions";
pub const COMMANDS_PATH: &str = "/slack/commands";

/// Bot token scopes, each for a feature the adapter uses. `chat:write.public` (posting to
/// channels the bot was not invited to) is deliberately absent: the bot posts only where
/// someone invited it.
///
/// Message metadata (the bot tags its messages with the finding id) needs no scope of its
/// own: writing it is part of `chat.postMessage`/`chat.update` (`chat:write`), and reading
/// it back with `conversations.history`/`conversations.replies` and `include_all_metadata`
/// uses the history scopes. `metadata.message:read` is only for subscribing to the
/// `message_metadata_*` events, which remedybot does not use. Sources:
/// docs.slack.dev/reference/scopes/metadata.message.read,
/// docs.slack.dev/reference/methods/conversations.history,
/// docs.slack.dev/messaging/message-metadata.
pub const BOT_SCOPES: &[&str] = &[
    // The `app_mention` event.
    "app_mentions:read",
    // The `message.channels` event; thread history in public channels.
    "channels:history",
    // conversations.info for public channels (names in messages and routing checks).
    "channels:read",
    // Post and update the finding threads, with their metadata.
    "chat:write",
    // The /remedy slash command.
    "commands",
    // The `message.groups` event; thread history in private channels.
    "groups:history",
    // conversations.info for private channels.
    "groups:read",
    // Approver groups given as Slack user groups: usergroups.users.list.
    "usergroups:read",
    // Display names of owners and approvers: users.info.
    "users:read",
];

/// Bot events: replies in finding threads (public and private channels) and mentions.
pub const BOT_EVENTS: &[&str] = &["app_mention", "message.channels", "message.groups"];

/// Slash command text escaping. On, Slack sends `@alice` as `<@U012AB3CD|alice>`, so
/// `assign F-1042 @user` carries a user id rather than an ambiguous display name.
pub const SHOULD_ESCAPE: bool = true;

/// Slack's limit on `display_information.name`.
const MAX_NAME_CHARS: usize = 35;

/// What varies between installations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestOptions {
    /// App and bot user name (1 to 35 characters).
    pub name: String,
    /// Socket Mode: Slack delivers everything over a WebSocket the bot opens, so no public
    /// URL is needed. Otherwise HTTP mode: Slack POSTs to `public_url`.
    pub socket_mode: bool,
    /// The HTTPS base URL under which this server's `/slack/...` routes are reachable
    /// from Slack; required in HTTP mode, refused in Socket Mode.
    pub public_url: Option<String>,
}

impl Default for ManifestOptions {
    fn default() -> Self {
        ManifestOptions {
            name: DEFAULT_APP_NAME.into(),
            socket_mode: true,
            public_url: None,
        }
    }
}

/// Why no manifest can be built from the options.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error(
        "HTTP mode needs the public HTTPS base URL Slack sends requests to \
         (e.g. https://remedybot.example.com); Socket Mode needs none"
    )]
    MissingPublicUrl,
    #[error(
        "a public URL is only used in HTTP mode; in Socket Mode Slack sends everything over \
         the bot's WebSocket connection"
    )]
    PublicUrlInSocketMode,
    #[error("public URL `{url}`: {reason}")]
    BadPublicUrl { url: String, reason: &'static str },
    #[error("app name must be 1 to {MAX_NAME_CHARS} characters, not {0}")]
    BadName(usize),
}

/// The complete Slack app manifest (schema major version 1) for `opts`.
pub fn manifest(opts: &ManifestOptions) -> Result<Value, ManifestError> {
    let name = opts.name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(ManifestError::BadName(chars));
    }
    let base = match (opts.socket_mode, opts.public_url.as_deref()) {
        (true, None) => None,
        (true, Some(_)) => return Err(ManifestError::PublicUrlInSocketMode),
        (false, None) => return Err(ManifestError::MissingPublicUrl),
        (false, Some(url)) => Some(base_url(url)?),
    };

    let mut command = json!({
        "command": COMMAND,
        "description": "Security findings: backlog, yours, overdue, details, stats, assign",
        "usage_hint": USAGE_HINT,
        "should_escape": SHOULD_ESCAPE,
    });
    let mut events = json!({ "bot_events": BOT_EVENTS });
    let mut interactivity = json!({ "is_enabled": true });
    if let Some(base) = base {
        command["url"] = json!(format!("{base}{COMMANDS_PATH}"));
        events["request_url"] = json!(format!("{base}{EVENTS_PATH}"));
        interactivity["request_url"] = json!(format!("{base}{INTERACTIONS_PATH}"));
    }

    Ok(json!({
        "_metadata": { "major_version": 1, "minor_version": 1 },
        "display_information": {
            "name": name,
            "description": "Drives security findings from detection to a verified, auditable closure",
        },
        "features": {
            "bot_user": { "display_name": name, "always_online": true },
            "slash_commands": [command],
        },
        "oauth_config": { "scopes": { "bot": BOT_SCOPES } },
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": false,
            "socket_mode_enabled": opts.socket_mode,
            "token_rotation_enabled": false,
        },
    }))
}

/// `url` without trailing slashes, checked to be something Slack will deliver to: an
/// absolute `https://` URL with a host and no query or fragment.
fn base_url(url: &str) -> Result<&str, ManifestError> {
    let bad = |reason| ManifestError::BadPublicUrl {
        url: url.to_string(),
        reason,
    };
    let trimmed = url.trim().trim_end_matches('/');
    let Some(rest) = trimmed
        .get(..8)
        .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
        .map(|_| &trimmed[8..])
    else {
        return Err(bad(
            "must start with https:// (Slack sends requests only over HTTPS)",
        ));
    };
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    if rest.contains(['?', '#']) {
        return Err(bad(
            "must not have a query or fragment: give the base URL only",
        ));
    }
    if rest.contains(char::is_whitespace) {
        return Err(bad("must not contain spaces"));
    }
    Ok(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(url: &str) -> ManifestOptions {
        ManifestOptions {
            socket_mode: false,
            public_url: Some(url.into()),
            ..ManifestOptions::default()
        }
    }

    #[test]
    fn the_default_is_socket_mode_with_no_request_urls() {
        let m = manifest(&ManifestOptions::default()).unwrap();
        assert_eq!(m["_metadata"]["major_version"], 1);
        assert_eq!(m["settings"]["socket_mode_enabled"], true);
        assert!(m["settings"]["event_subscriptions"]["request_url"].is_null());
        assert!(m["settings"]["interactivity"]["request_url"].is_null());
        assert_eq!(m["settings"]["interactivity"]["is_enabled"], true);
        let command = &m["features"]["slash_commands"][0];
        assert_eq!(command["command"], "/remedy");
        assert!(command.get("url").is_none(), "{command}");
        assert!(!m.to_string().contains("http"), "{m}");
    }

    #[test]
    fn every_scope_the_adapter_uses_is_requested_and_chat_write_public_is_not() {
        let m = manifest(&ManifestOptions::default()).unwrap();
        let scopes: Vec<&str> = m["oauth_config"]["scopes"]["bot"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        for needed in [
            "app_mentions:read",
            "channels:history",
            "channels:read",
            "chat:write",
            "commands",
            "groups:history",
            "groups:read",
            "usergroups:read",
            "users:read",
        ] {
            assert!(scopes.contains(&needed), "{needed} missing from {scopes:?}");
        }
        assert!(!scopes.contains(&"chat:write.public"));
    }

    #[test]
    fn each_bot_event_has_the_scope_slack_requires_for_it() {
        let m = manifest(&ManifestOptions::default()).unwrap();
        let scopes = m["oauth_config"]["scopes"]["bot"].to_string();
        for (event, scope) in [
            ("app_mention", "app_mentions:read"),
            ("message.channels", "channels:history"),
            ("message.groups", "groups:history"),
        ] {
            let events = m["settings"]["event_subscriptions"]["bot_events"].to_string();
            assert!(events.contains(event), "{events}");
            assert!(scopes.contains(scope), "{event} needs {scope}");
        }
    }

    #[test]
    fn http_mode_builds_each_request_url_from_the_public_url() {
        let m = manifest(&http("https://bot.example.com")).unwrap();
        assert_eq!(m["settings"]["socket_mode_enabled"], false);
        assert_eq!(
            m["settings"]["event_subscriptions"]["request_url"],
            "https://bot.example.com/slack/events"
        );
        assert_eq!(
            m["settings"]["interactivity"]["request_url"],
            "https://bot.example.com/slack/interactions"
        );
        assert_eq!(
            m["features"]["slash_commands"][0]["url"],
            "https://bot.example.com/slack/commands"
        );
    }

    #[test]
    fn trailing_slashes_and_path_prefixes_give_no_double_slashes() {
        for (given, events) in [
            (
                "https://bot.example.com/",
                "https://bot.example.com/slack/events",
            ),
            (
                "https://bot.example.com//",
                "https://bot.example.com/slack/events",
            ),
            (
                "https://example.com/remedybot/",
                "https://example.com/remedybot/slack/events",
            ),
            (
                " https://bot.example.com:8443 ",
                "https://bot.example.com:8443/slack/events",
            ),
        ] {
            let m = manifest(&http(given)).unwrap();
            assert_eq!(m["settings"]["event_subscriptions"]["request_url"], events);
            let text = m.to_string();
            assert!(!text.replace("https://", "").contains("//"), "{text}");
        }
    }

    #[test]
    fn http_mode_without_a_url_is_an_error_that_says_what_is_missing() {
        let opts = ManifestOptions {
            socket_mode: false,
            ..ManifestOptions::default()
        };
        let err = manifest(&opts).unwrap_err();
        assert_eq!(err, ManifestError::MissingPublicUrl);
        assert!(err.to_string().contains("public HTTPS base URL"), "{err}");
    }

    #[test]
    fn a_url_in_socket_mode_is_refused() {
        let opts = ManifestOptions {
            public_url: Some("https://bot.example.com".into()),
            ..ManifestOptions::default()
        };
        assert_eq!(
            manifest(&opts).unwrap_err(),
            ManifestError::PublicUrlInSocketMode
        );
    }

    #[test]
    fn urls_slack_would_not_deliver_to_are_refused() {
        for bad in [
            "http://bot.example.com",
            "bot.example.com",
            "https://",
            "https:///slack",
            "https://bot.example.com/?x=1",
            "https://bot.example.com/#top",
            "https://bot example.com",
            "",
        ] {
            let err = manifest(&http(bad)).unwrap_err();
            assert!(
                matches!(err, ManifestError::BadPublicUrl { .. }),
                "{bad}: {err:?}"
            );
        }
        assert!(manifest(&http("HTTPS://Bot.Example.com")).is_ok());
    }

    #[test]
    fn the_name_names_the_app_and_the_bot_within_slacks_limit() {
        let opts = ManifestOptions {
            name: "remedybot-staging".into(),
            ..ManifestOptions::default()
        };
        let m = manifest(&opts).unwrap();
        assert_eq!(m["display_information"]["name"], "remedybot-staging");
        assert_eq!(
            m["features"]["bot_user"]["display_name"],
            "remedybot-staging"
        );
        assert_eq!(m["features"]["bot_user"]["always_online"], true);
        for (name, chars) in [("", 0), ("   ", 0), (&"x".repeat(36), 36)] {
            let opts = ManifestOptions {
                name: name.to_string(),
                ..ManifestOptions::default()
            };
            assert_eq!(manifest(&opts).unwrap_err(), ManifestError::BadName(chars));
        }
    }

    #[test]
    fn the_slash_command_has_the_usage_hint_and_escaping() {
        let m = manifest(&ManifestOptions::default()).unwrap();
        let command = &m["features"]["slash_commands"][0];
        assert_eq!(command["usage_hint"], USAGE_HINT);
        assert_eq!(command["should_escape"], true);
        assert!(command["description"].as_str().unwrap().len() <= 140);
        assert_eq!(m["settings"]["org_deploy_enabled"], false);
        assert_eq!(m["settings"]["token_rotation_enabled"], false);
    }
}
