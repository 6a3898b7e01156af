//! Discord settings: the bot token, public key and REST base URL from the environment
//! (`DISCORD_*`), delivery settings from `[discord]`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigError, Env, Secret};

/// The default Discord origin; REST paths are `/api/v10/…` under it.
pub const DEFAULT_DISCORD_API_URL: &str = "https://discord.com";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DiscordFile {
    default_channel: Option<String>,
    templates_dir: Option<PathBuf>,
    messages_per_second_per_channel: Option<f64>,
    first_reply_acknowledges: Option<bool>,
    guild_id: Option<String>,
}

/// Discord: secrets from the environment, delivery settings from `[discord]`.
#[derive(Debug, Clone)]
pub struct DiscordSettings {
    /// `DISCORD_BOT_TOKEN`. Discord is enabled when it is set.
    pub bot_token: Option<Secret>,
    /// `DISCORD_PUBLIC_KEY` (64 hex digits, from the Developer Portal): verifies requests to
    /// `POST /discord/interactions`. Without it that route answers 404.
    pub public_key: Option<[u8; 32]>,
    /// `DISCORD_APPLICATION_ID`: the application (the bot user's id when unset; asked from
    /// Discord on first use).
    pub application_id: Option<u64>,
    /// `DISCORD_API_URL`: the origin REST calls go to, without a trailing `/`
    /// (`https://discord.com`; tests point it at a fake). When it is not the default,
    /// serenity's own rate limiter is off (it cannot be combined with a base URL) and only
    /// remedybot's pacing applies.
    pub api_url: String,
    /// `[discord] default_channel`: channel id for findings whose route names no Discord
    /// channel.
    pub default_channel: Option<String>,
    /// `[discord] templates_dir`: templates that replace the built-in ones.
    pub templates_dir: Option<PathBuf>,
    /// `[discord] messages_per_second_per_channel` (Discord allows 5 per 5 s).
    pub messages_per_second_per_channel: f64,
    /// `[discord] first_reply_acknowledges`: as on Slack. Default `true`.
    pub first_reply_acknowledges: bool,
    /// `[discord] guild_id`: the server remedybot works in (commands are registered there
    /// unless `--global`).
    pub guild_id: Option<u64>,
}

impl Default for DiscordSettings {
    fn default() -> Self {
        DiscordSettings {
            bot_token: None,
            public_key: None,
            application_id: None,
            api_url: DEFAULT_DISCORD_API_URL.into(),
            default_channel: None,
            templates_dir: None,
            messages_per_second_per_channel: 1.0,
            first_reply_acknowledges: true,
            guild_id: None,
        }
    }
}

impl DiscordSettings {
    /// Whether remedybot posts to Discord.
    pub fn enabled(&self) -> bool {
        self.bot_token.is_some()
    }

    /// Whether REST calls go somewhere other than discord.com (a fake, a proxy).
    pub fn custom_api_url(&self) -> bool {
        self.api_url != DEFAULT_DISCORD_API_URL
    }

    /// Lay `[discord]` over the defaults; `path` is the config file (relative directories
    /// are resolved beside it). Errors are `(key, message)`.
    pub(super) fn apply_file(
        &mut self,
        file: DiscordFile,
        path: &Path,
    ) -> Result<(), (String, String)> {
        self.default_channel = file.default_channel;
        self.templates_dir = file
            .templates_dir
            .map(|d| path.parent().unwrap_or(Path::new(".")).join(d));
        if let Some(rate) = file.messages_per_second_per_channel {
            if !(rate > 0.0 && rate <= 50.0) {
                return Err((
                    "discord.messages_per_second_per_channel".into(),
                    "must be greater than 0 and at most 50".into(),
                ));
            }
            self.messages_per_second_per_channel = rate;
        }
        if let Some(ack) = file.first_reply_acknowledges {
            self.first_reply_acknowledges = ack;
        }
        if let Some(guild) = file.guild_id {
            self.guild_id = Some(snowflake(&guild).ok_or_else(|| {
                (
                    "discord.guild_id".to_string(),
                    "must be a server id (a number, e.g. \"613425648685547541\")".to_string(),
                )
            })?);
        }
        Ok(())
    }

    /// `DISCORD_*` environment variables.
    pub(super) fn load_env(&mut self, env: &dyn Env) -> Result<(), ConfigError> {
        let err = |name: &'static str, message: &str| ConfigError::Env {
            name,
            message: message.into(),
        };
        if let Some(token) = env.get("DISCORD_BOT_TOKEN") {
            let token = token.trim().trim_start_matches("Bot ").to_string();
            if token.is_empty() || token.chars().any(char::is_whitespace) {
                return Err(err("DISCORD_BOT_TOKEN", "is empty or contains spaces"));
            }
            self.bot_token = Some(Secret::new(token));
        }
        if let Some(key) = env.get("DISCORD_PUBLIC_KEY") {
            self.public_key = Some(parse_public_key(&key).ok_or_else(|| {
                err(
                    "DISCORD_PUBLIC_KEY",
                    "must be the application's public key: 64 hex digits",
                )
            })?);
        }
        if let Some(id) = env.get("DISCORD_APPLICATION_ID") {
            self.application_id =
                Some(snowflake(&id).ok_or_else(|| {
                    err("DISCORD_APPLICATION_ID", "must be a number (a snowflake)")
                })?);
        }
        if let Some(url) = env.get("DISCORD_API_URL") {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(err(
                    "DISCORD_API_URL",
                    "must be an http(s) origin, e.g. https://discord.com",
                ));
            }
            let url = url.trim_end_matches('/');
            // People paste the REST base; serenity wants the origin.
            let url = url
                .strip_suffix("/api/v10")
                .or_else(|| url.strip_suffix("/api"))
                .unwrap_or(url);
            self.api_url = url.to_string();
        }
        Ok(())
    }
}

/// A Discord id (snowflake): a positive integer.
pub fn snowflake(text: &str) -> Option<u64> {
    text.trim().parse().ok().filter(|n| *n > 0)
}

/// An Ed25519 public key written as 64 hex digits.
pub fn parse_public_key(text: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(text.trim()).ok()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct MapEnv(Vec<(&'static str, &'static str)>);
    impl Env for MapEnv {
        fn get(&self, name: &str) -> Option<String> {
            self.0
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    const KEY: &str = "e421dceefff3a9d008b7898fcc0974813201800419d72f36d51e010d6a0acb71";

    #[test]
    fn the_environment_sets_token_key_application_and_origin() {
        let mut d = DiscordSettings::default();
        assert!(!d.enabled());
        d.load_env(&MapEnv(vec![
            ("DISCORD_BOT_TOKEN", "Bot abc.def"),
            ("DISCORD_PUBLIC_KEY", KEY),
            ("DISCORD_APPLICATION_ID", "123"),
            ("DISCORD_API_URL", "http://127.0.0.1:9/api/v10/"),
        ]))
        .unwrap();
        assert!(d.enabled());
        assert_eq!(d.bot_token.as_ref().unwrap().expose(), "abc.def");
        assert_eq!(format!("{:?}", d.bot_token), "Some([redacted])");
        assert_eq!(hex::encode(d.public_key.unwrap()), KEY);
        assert_eq!(d.application_id, Some(123));
        assert_eq!(d.api_url, "http://127.0.0.1:9");
        assert!(d.custom_api_url());
    }

    #[test]
    fn bad_values_are_refused_by_name() {
        for (name, value) in [
            ("DISCORD_PUBLIC_KEY", "abc"),
            ("DISCORD_APPLICATION_ID", "app"),
            ("DISCORD_API_URL", "discord.com"),
            ("DISCORD_BOT_TOKEN", "a b"),
        ] {
            let err = DiscordSettings::default()
                .load_env(&MapEnv(vec![(name, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn the_file_sets_delivery_and_refuses_bad_rates_and_guilds() {
        let file: DiscordFile = toml::from_str(
            "default_channel = \"42\"\nguild_id = \"7\"\nmessages_per_second_per_channel = 0.5\n\
             templates_dir = \"tpl\"\nfirst_reply_acknowledges = false\n",
        )
        .unwrap();
        let mut d = DiscordSettings::default();
        d.apply_file(file, Path::new("/etc/rb/remedybot.toml"))
            .unwrap();
        assert_eq!(d.default_channel.as_deref(), Some("42"));
        assert_eq!(d.guild_id, Some(7));
        assert_eq!(d.messages_per_second_per_channel, 0.5);
        assert_eq!(d.templates_dir, Some(PathBuf::from("/etc/rb/tpl")));
        assert!(!d.first_reply_acknowledges);
        for (text, key) in [
            (
                "messages_per_second_per_channel = 0\n",
                "messages_per_second_per_channel",
            ),
            ("guild_id = \"x\"\n", "guild_id"),
        ] {
            let file: DiscordFile = toml::from_str(text).unwrap();
            let (k, _) = DiscordSettings::default()
                .apply_file(file, Path::new("r.toml"))
                .unwrap_err();
            assert!(k.ends_with(key), "{k}");
        }
    }
}
