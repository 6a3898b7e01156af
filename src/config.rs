//! One typed settings tree: built-in defaults, then the TOML file (`--config` /
//! `REMEDYBOT_CONFIG`), then the environment for deployment settings and secrets.
//! Secrets live in [`Secret`], whose `Debug` never shows the value.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::chat::extract::{ListenFile, Listeners};
use crate::domain::{ApprovalPolicy, DecisionKind, Policy, Severity, Sla};
use crate::routing::{CodeOwners, RouteFile, Router, SuppressionFile, Suppressions};

mod discord;
mod policy;

pub use discord::{DEFAULT_DISCORD_API_URL, DiscordSettings, snowflake};

use policy::{
    DocumentationFile, PolicyFile, RiskFile, check_groups, check_policy_name, overlay_policy,
};

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://remedybot.db";
/// The default HTTP listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// A secret string. `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Why the configuration could not be loaded. Each message names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config file {path}: `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error("environment variable {name}: {message}")]
    Env { name: &'static str, message: String },
}

/// The file's shape. Every table rejects unknown keys so a typo is reported, not ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    server: ServerFile,
    #[serde(default)]
    database: DatabaseFile,
    #[serde(default)]
    sla: BTreeMap<Severity, Sla>,
    #[serde(default)]
    groups: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    approvals: BTreeMap<DecisionKind, ApprovalPolicy>,
    #[serde(default)]
    documentation: DocumentationFile,
    #[serde(default)]
    risk: RiskFile,
    /// `[policies.<name>]`: variants of the base policy that routes may choose.
    #[serde(default)]
    policies: BTreeMap<String, PolicyFile>,
    #[serde(default)]
    ingest: IngestFile,
    #[serde(default)]
    routing: RoutingFile,
    #[serde(default)]
    routes: Vec<RouteFile>,
    #[serde(default)]
    suppressions: Vec<SuppressionFile>,
    #[serde(default)]
    slack: SlackFile,
    #[serde(default)]
    discord: discord::DiscordFile,
    #[serde(default)]
    listen: Vec<ListenFile>,
    #[serde(default)]
    chat: ChatFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChatFile {
    flood_threshold: Option<usize>,
}

/// Chat settings shared by every platform (`[chat]`).
#[derive(Debug, Clone)]
pub struct ChatSettings {
    /// `[chat] flood_threshold`: when one import would open more than this many threads in
    /// one channel, it posts one summary message (with a thread for the batch) instead.
    /// `0` turns the guard off.
    pub flood_threshold: usize,
}

impl Default for ChatSettings {
    fn default() -> Self {
        ChatSettings {
            flood_threshold: 20,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlackFile {
    default_channel: Option<String>,
    templates_dir: Option<PathBuf>,
    messages_per_second_per_channel: Option<f64>,
    edits_per_minute: Option<f64>,
    first_reply_acknowledges: Option<bool>,
}

/// The default Slack Web API base URL.
pub const DEFAULT_SLACK_API_URL: &str = "https://slack.com/api";

/// Slack: tokens from the environment, delivery settings from `[slack]`.
#[derive(Debug, Clone)]
pub struct SlackSettings {
    /// `SLACK_BOT_TOKEN` (`xoxb-…`). Slack is enabled when it is set.
    pub bot_token: Option<Secret>,
    /// `SLACK_SIGNING_SECRET`: verifies requests to the `/slack/*` routes.
    pub signing_secret: Option<Secret>,
    /// `SLACK_APP_TOKEN` (`xapp-…`): Socket Mode.
    pub app_token: Option<Secret>,
    /// `SLACK_API_URL`, without a trailing `/` (slack-morphism adds `/{method}`).
    pub api_url: String,
    /// `[slack] default_channel`: where findings go whose route names no Slack channel.
    pub default_channel: Option<String>,
    /// `[slack] templates_dir`: templates that replace the built-in ones.
    pub templates_dir: Option<PathBuf>,
    /// `[slack] messages_per_second_per_channel` (Slack allows about one).
    pub messages_per_second_per_channel: f64,
    /// `[slack] edits_per_minute`: `chat.update` calls per minute across all channels
    /// (Slack's per-method limit for it, Tier 3, is about 50 a minute per workspace).
    pub edits_per_minute: f64,
    /// `[slack] first_reply_acknowledges`: the first human reply in a new finding's thread
    /// also acknowledges it (stage new → triage), as that person. Default `true`.
    pub first_reply_acknowledges: bool,
}

impl Default for SlackSettings {
    fn default() -> Self {
        SlackSettings {
            bot_token: None,
            signing_secret: None,
            app_token: None,
            api_url: DEFAULT_SLACK_API_URL.into(),
            default_channel: None,
            templates_dir: None,
            messages_per_second_per_channel: 1.0,
            edits_per_minute: 50.0,
            first_reply_acknowledges: true,
        }
    }
}

impl SlackSettings {
    /// Whether remedybot posts to Slack.
    pub fn enabled(&self) -> bool {
        self.bot_token.is_some()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutingFile {
    /// A CODEOWNERS file, relative to the config file.
    codeowners: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct IngestFile {
    missing_in_full_scan: Option<MissingPolicy>,
}

/// What a full scan records for an open finding it no longer reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingPolicy {
    /// Verification evidence ("not seen in latest scan"); approvals still decide.
    #[default]
    Evidence,
    /// A comment in the trail, not counted as evidence.
    Comment,
    /// Nothing.
    Ignore,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerFile {
    listen: Option<String>,
    body_limit_bytes: Option<usize>,
    ingest_body_limit_bytes: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseFile {
    url: Option<String>,
    max_connections: Option<u32>,
    acquire_timeout_secs: Option<u64>,
}

/// Database connection settings.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
}

/// Default `server.ingest_body_limit_bytes`: 64 MiB, room for a pretty-printed Trivy report
/// of 10,000 vulnerabilities (about 19 MiB) several times over.
pub const DEFAULT_INGEST_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Everything the application needs, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: String,
    /// Largest request body on every route but the ingest route.
    pub body_limit_bytes: usize,
    /// Largest request body on `POST /api/v1/findings`: scanner reports are large.
    pub ingest_body_limit_bytes: usize,
    pub database: DatabaseSettings,
    pub ingest_token: Option<Secret>,
    /// `GITHUB_WEBHOOK_SECRET`: the secret GitHub signs webhook deliveries with.
    pub github_webhook_secret: Option<Secret>,
    /// `[ingest] missing_in_full_scan`.
    pub missing_in_full_scan: MissingPolicy,
    /// `[[routes]]`: who owns a new finding and where it is announced.
    pub router: Router,
    /// `[[suppressions]]`: new findings accepted until a mandatory expiry, or noted.
    pub suppressions: Suppressions,
    /// `[[listen]]`: channels whose alert messages (from the listed bots or users) become
    /// findings.
    pub listeners: Listeners,
    /// The base policy: `[sla.*]`, `[groups]`, `[approvals.*]`, `[documentation]`, `[risk]`.
    /// Findings whose route names no policy variant are judged by it.
    pub policy: Policy,
    /// `[policies.<name>]`: variants of the base policy, each already resolved (the base
    /// with the variant's keys laid over it; same groups). A route chooses one by name.
    pub policies: BTreeMap<String, Policy>,
    pub slack: SlackSettings,
    pub discord: DiscordSettings,
    pub chat: ChatSettings,
    /// The file the settings came from, if any (for messages).
    pub source: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: DEFAULT_LISTEN.into(),
            body_limit_bytes: 16 * 1024 * 1024,
            ingest_body_limit_bytes: DEFAULT_INGEST_BODY_LIMIT,
            database: DatabaseSettings {
                url: DEFAULT_DATABASE_URL.into(),
                max_connections: 8,
                acquire_timeout_secs: 5,
            },
            ingest_token: None,
            github_webhook_secret: None,
            missing_in_full_scan: MissingPolicy::default(),
            router: Router::default(),
            suppressions: Suppressions::default(),
            listeners: Listeners::default(),
            policy: Policy::default(),
            policies: BTreeMap::new(),
            slack: SlackSettings::default(),
            discord: DiscordSettings::default(),
            chat: ChatSettings::default(),
            source: None,
        }
    }
}

/// Environment lookups, injectable for tests.
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Settings {
    /// Defaults, then the file (if given), then the environment.
    pub fn load(path: Option<&Path>, env: &dyn Env) -> Result<Settings, ConfigError> {
        let mut settings = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|error| ConfigError::Read {
                    path: p.to_path_buf(),
                    error,
                })?;
                Settings::from_toml(&text, p)?
            }
            None => Settings::default(),
        };
        if let Some(url) = env.get("REMEDYBOT_DATABASE_URL") {
            check_database_url(&url).map_err(|message| ConfigError::Env {
                name: "REMEDYBOT_DATABASE_URL",
                message,
            })?;
            settings.database.url = url;
        }
        if let Some(listen) = env.get("REMEDYBOT_LISTEN") {
            check_listen(&listen).map_err(|message| ConfigError::Env {
                name: "REMEDYBOT_LISTEN",
                message,
            })?;
            settings.listen = listen;
        }
        if let Some(token) = env.get("REMEDYBOT_INGEST_TOKEN") {
            if token.chars().count() < 16 {
                return Err(ConfigError::Env {
                    name: "REMEDYBOT_INGEST_TOKEN",
                    message: "must be at least 16 characters".into(),
                });
            }
            settings.ingest_token = Some(Secret::new(token));
        }
        if let Some(secret) = env.get("GITHUB_WEBHOOK_SECRET") {
            settings.github_webhook_secret = Some(Secret::new(secret));
        }
        load_slack_env(&mut settings.slack, env)?;
        settings.discord.load_env(env)?;
        Ok(settings)
    }

    /// Parse and validate a config file's text.
    pub fn from_toml(text: &str, path: &Path) -> Result<Settings, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let invalid = |key: String, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            key,
            message,
        };
        let mut s = Settings {
            source: Some(path.to_path_buf()),
            ..Settings::default()
        };
        if let Some(listen) = file.server.listen {
            check_listen(&listen).map_err(|m| invalid("server.listen".into(), m))?;
            s.listen = listen;
        }
        if let Some(limit) = file.server.body_limit_bytes {
            if limit < 1024 {
                return Err(invalid(
                    "server.body_limit_bytes".into(),
                    "must be at least 1024".into(),
                ));
            }
            s.body_limit_bytes = limit;
        }
        // Unset, the ingest limit is never below the general one (a config that raised
        // body_limit_bytes for large reports keeps working).
        s.ingest_body_limit_bytes = match file.server.ingest_body_limit_bytes {
            Some(limit) if limit < 1024 => {
                return Err(invalid(
                    "server.ingest_body_limit_bytes".into(),
                    "must be at least 1024".into(),
                ));
            }
            Some(limit) => limit,
            None => DEFAULT_INGEST_BODY_LIMIT.max(s.body_limit_bytes),
        };
        if let Some(url) = file.database.url {
            check_database_url(&url).map_err(|m| invalid("database.url".into(), m))?;
            s.database.url = url;
        }
        if let Some(n) = file.database.max_connections {
            if n == 0 {
                return Err(invalid(
                    "database.max_connections".into(),
                    "must be at least 1".into(),
                ));
            }
            s.database.max_connections = n;
        }
        if let Some(t) = file.database.acquire_timeout_secs {
            s.database.acquire_timeout_secs = t.max(1);
        }
        if let Some(n) = file.chat.flood_threshold {
            s.chat.flood_threshold = n;
        }
        s.slack.default_channel = file.slack.default_channel;
        s.slack.templates_dir = file
            .slack
            .templates_dir
            .map(|d| path.parent().unwrap_or(Path::new(".")).join(d));
        if let Some(rate) = file.slack.messages_per_second_per_channel {
            if !(rate > 0.0 && rate <= 100.0) {
                return Err(invalid(
                    "slack.messages_per_second_per_channel".into(),
                    "must be greater than 0 and at most 100".into(),
                ));
            }
            s.slack.messages_per_second_per_channel = rate;
        }
        if let Some(rate) = file.slack.edits_per_minute {
            if !(rate > 0.0 && rate <= 6000.0) {
                return Err(invalid(
                    "slack.edits_per_minute".into(),
                    "must be greater than 0 and at most 6000".into(),
                ));
            }
            s.slack.edits_per_minute = rate;
        }
        if let Some(ack) = file.slack.first_reply_acknowledges {
            s.slack.first_reply_acknowledges = ack;
        }
        s.discord
            .apply_file(file.discord, path)
            .map_err(|(k, m)| invalid(k, m))?;

        check_groups(&file.groups).map_err(|(k, m)| invalid(k, m))?;
        let base = Policy {
            groups: file.groups,
            ..Policy::default()
        };
        let base_file = PolicyFile {
            sla: file.sla,
            approvals: file.approvals,
            documentation: file.documentation,
            risk: file.risk,
        };
        s.policy = overlay_policy(&base, base_file, "").map_err(|(k, m)| invalid(k, m))?;
        for (name, variant) in file.policies {
            let prefix = format!("policies.{name}");
            check_policy_name(&name).map_err(|m| invalid(prefix.clone(), m))?;
            let policy = overlay_policy(&s.policy, variant, &format!("{prefix}."))
                .map_err(|(k, m)| invalid(k, m))?;
            s.policies.insert(name, policy);
        }
        if let Some(m) = file.ingest.missing_in_full_scan {
            s.missing_in_full_scan = m;
        }
        let codeowners = match &file.routing.codeowners {
            None => None,
            Some(rel) => {
                let full = path.parent().unwrap_or(Path::new(".")).join(rel);
                let text = std::fs::read_to_string(&full).map_err(|e| {
                    invalid(
                        "routing.codeowners".into(),
                        format!("cannot read {}: {e}", full.display()),
                    )
                })?;
                Some(CodeOwners::parse(&text).map_err(|m| {
                    invalid(
                        "routing.codeowners".into(),
                        format!("{}: {m}", full.display()),
                    )
                })?)
            }
        };
        s.suppressions = Suppressions::new(&file.suppressions, codeowners.as_ref())
            .map_err(|(k, m)| invalid(k, m))?;
        s.router = Router::new(&file.routes, codeowners).map_err(|(k, m)| invalid(k, m))?;
        s.listeners = Listeners::new(&file.listen).map_err(|(k, m)| invalid(k, m))?;
        for (i, r) in file.routes.iter().enumerate() {
            if let Some(name) = &r.policy
                && !s.policies.contains_key(name)
            {
                let known: Vec<&str> = s.policies.keys().map(String::as_str).collect();
                return Err(invalid(
                    format!("routes[{i}] ({}).policy", r.name.trim()),
                    format!(
                        "unknown policy `{name}`; defined policies: [{}]",
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(s)
    }

    /// The policy for findings on route `route` (the name stored with each finding): the
    /// variant the route names in the current configuration, else the base policy — also
    /// when the finding has no route or its route is no longer configured. Every decision
    /// about a specific finding takes its policy from here.
    pub fn policy_for_route(&self, route: Option<&str>) -> &Policy {
        route
            .and_then(|name| self.router.named(name))
            .and_then(|r| r.policy.as_deref())
            .and_then(|name| self.policies.get(name))
            .unwrap_or(&self.policy)
    }

    /// Each policy variant with the routes that choose it, in name order.
    pub fn policy_variants(&self) -> Vec<(&str, Vec<&str>)> {
        self.policies
            .keys()
            .map(|name| {
                let routes = self
                    .router
                    .routes()
                    .iter()
                    .filter(|r| r.policy.as_deref() == Some(name))
                    .map(|r| r.name.as_str())
                    .collect();
                (name.as_str(), routes)
            })
            .collect()
    }
}

/// `host:port` with a numeric port, e.g. `127.0.0.1:8080` or `[::]:8080`.
pub fn check_listen(listen: &str) -> Result<(), String> {
    let ok = listen
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{listen}` is not an address to listen on; write host:port, e.g. 127.0.0.1:8080"
        ))
    }
}

/// A URL for one of the supported databases. The message never repeats the URL, which may
/// hold a password.
pub fn check_database_url(url: &str) -> Result<(), String> {
    if url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://")
    {
        Ok(())
    } else {
        Err("unsupported database URL: use sqlite://PATH or postgres://USER@HOST/DB".into())
    }
}

/// `SLACK_*` environment variables. Token prefixes are checked so a swapped token is
/// reported at startup, not as a failed API call later.
fn load_slack_env(slack: &mut SlackSettings, env: &dyn Env) -> Result<(), ConfigError> {
    let token = |name: &'static str, prefix: &str| -> Result<Option<Secret>, ConfigError> {
        match env.get(name) {
            None => Ok(None),
            Some(v) if v.starts_with(prefix) => Ok(Some(Secret::new(v))),
            Some(_) => Err(ConfigError::Env {
                name,
                message: format!("expected a token starting with `{prefix}`"),
            }),
        }
    };
    slack.bot_token = token("SLACK_BOT_TOKEN", "xoxb-")?;
    slack.app_token = token("SLACK_APP_TOKEN", "xapp-")?;
    slack.signing_secret = env.get("SLACK_SIGNING_SECRET").map(Secret::new);
    if let Some(url) = env.get("SLACK_API_URL") {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ConfigError::Env {
                name: "SLACK_API_URL",
                message: "must be an http(s) URL, e.g. https://slack.com/api".into(),
            });
        }
        slack.api_url = url.trim_end_matches('/').to_string();
    }
    Ok(())
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

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::from_toml(text, Path::new("remedybot.toml"))
    }

    #[test]
    fn an_empty_file_gives_the_defaults() {
        let s = parse("").unwrap();
        assert_eq!(s.policy, Policy::default());
        assert_eq!(s.listen, DEFAULT_LISTEN);
    }

    #[test]
    fn the_ingest_route_has_its_own_larger_body_limit() {
        let s = parse("").unwrap();
        assert_eq!(
            (s.body_limit_bytes, s.ingest_body_limit_bytes),
            (16 << 20, 64 << 20)
        );
        let s = parse("[server]\ningest_body_limit_bytes = 2048\n").unwrap();
        assert_eq!(
            s.ingest_body_limit_bytes, 2048,
            "set explicitly, it is used as is"
        );
        let s = parse("[server]\nbody_limit_bytes = 100000000\n").unwrap();
        assert_eq!(
            s.ingest_body_limit_bytes, 100_000_000,
            "unset, never below the general limit"
        );
        let err = parse("[server]\ningest_body_limit_bytes = 10\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.ingest_body_limit_bytes"), "{err}");
    }

    #[test]
    fn the_first_slack_reply_acknowledges_unless_turned_off() {
        assert!(parse("").unwrap().slack.first_reply_acknowledges);
        let s = parse("[slack]\nfirst_reply_acknowledges = false\n").unwrap();
        assert!(!s.slack.first_reply_acknowledges);
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let err = parse("[server]\nlisten = \"0.0.0.0:1\"\nlisen = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("lisen"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn an_unknown_approver_group_is_reported_with_its_key() {
        let err = parse("[approvals.fixed]\nquorum = 1\ngroups = [\"sec\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`approvals.fixed.groups`: unknown group `sec`"),
            "{err}"
        );
    }

    #[test]
    fn a_quorum_larger_than_the_groups_is_rejected() {
        let text =
            "[groups]\nsec = [\"slack:U1\"]\n[approvals.fixed]\nquorum = 2\ngroups = [\"sec\"]\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("approvals.fixed.quorum"), "{err}");
    }

    #[test]
    fn listen_addresses_and_database_urls_are_checked() {
        let err = parse("[server]\nlisten = \"not-an-address\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`server.listen`"), "{err}");
        let err = parse("[database]\nurl = \"mysql://root:pw@h/db\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`database.url`: unsupported database URL"),
            "{err}"
        );
        assert!(!err.contains("pw@"), "{err}");
        assert!(parse("[server]\nlisten = \"[::]:8080\"\n").is_ok());
        let env = MapEnv(vec![("REMEDYBOT_LISTEN", "8080")]);
        assert!(
            Settings::load(None, &env)
                .unwrap_err()
                .to_string()
                .contains("REMEDYBOT_LISTEN")
        );
    }

    #[test]
    fn a_missing_file_is_reported_once() {
        let err = Settings::load(
            Some(Path::new("/nonexistent/remedybot.toml")),
            &MapEnv(vec![]),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err.matches("No such file").count(), 1, "{err}");
    }

    #[test]
    fn member_references_must_name_a_platform() {
        let err = parse("[groups]\nsec = [\"U1\"]\n").unwrap_err().to_string();
        assert!(err.contains("groups.sec[0]"), "{err}");
    }

    #[test]
    fn unknown_severity_keys_list_the_allowed_values() {
        let err = parse("[sla.urgent]\ntriage_hours = 1\nremediate_days = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("critical"), "{err}");
    }

    #[test]
    fn policies_are_read_from_the_file() {
        let text = r#"
[sla.critical]
triage_hours = 4
remediate_days = 3
[groups]
security-approvers = ["slack:U1", "discord:2", "cli:alice"]
[approvals.false_positive]
quorum = 2
groups = ["security-approvers"]
exclude = ["requester", "assignee"]
[documentation]
rca_required = ["critical"]
[risk]
max_acceptance_days = 90
"#;
        let s = parse(text).unwrap();
        let p = &s.policy;
        assert_eq!(p.sla_for(Severity::Critical).remediate_days, 3);
        assert_eq!(p.approval_for(DecisionKind::FalsePositive).quorum, 2);
        assert_eq!(p.rca_required, vec![Severity::Critical]);
        assert_eq!(p.max_acceptance_days, 90);
    }

    #[test]
    fn environment_overrides_the_file_and_secrets_stay_hidden() {
        let env = MapEnv(vec![
            ("REMEDYBOT_DATABASE_URL", "postgres://x/y"),
            ("REMEDYBOT_INGEST_TOKEN", "0123456789abcdef-secret"),
        ]);
        let s = Settings::load(None, &env).unwrap();
        assert_eq!(s.database.url, "postgres://x/y");
        assert!(!format!("{s:?}").contains("0123456789abcdef-secret"));
        let short = MapEnv(vec![("REMEDYBOT_INGEST_TOKEN", "short")]);
        assert!(Settings::load(None, &short).is_err());
    }

    #[test]
    fn slack_settings_come_from_the_file_and_the_environment() {
        let s = parse(
            "[slack]\ndefault_channel = \"C0SEC\"\nmessages_per_second_per_channel = 2.5\nedits_per_minute = 120\n\
             templates_dir = \"tpl\"\nfirst_reply_acknowledges = false\n",
        )
        .expect("valid");
        assert_eq!(s.slack.default_channel.as_deref(), Some("C0SEC"));
        assert_eq!(s.slack.messages_per_second_per_channel, 2.5);
        assert_eq!(s.slack.edits_per_minute, 120.0);
        assert_eq!(s.slack.templates_dir, Some(PathBuf::from("tpl")));
        assert!(!s.slack.first_reply_acknowledges);
        assert!(!s.slack.enabled(), "no bot token: Slack is off");

        let env = MapEnv(vec![
            ("SLACK_BOT_TOKEN", "xoxb-1-2"),
            ("SLACK_APP_TOKEN", "xapp-1-2"),
            ("SLACK_SIGNING_SECRET", "s3cret"),
            ("SLACK_API_URL", "http://127.0.0.1:9/api/"),
        ]);
        let s = Settings::load(None, &env).expect("valid env");
        assert!(s.slack.enabled());
        assert_eq!(s.slack.api_url, "http://127.0.0.1:9/api");
        assert_eq!(format!("{:?}", s.slack.bot_token), "Some([redacted])");
    }

    #[test]
    fn swapped_slack_tokens_and_bad_rates_are_refused_by_name() {
        let env = MapEnv(vec![("SLACK_BOT_TOKEN", "xapp-1-2")]);
        let err = Settings::load(None, &env)
            .expect_err("wrong prefix")
            .to_string();
        assert!(
            err.contains("SLACK_BOT_TOKEN") && err.contains("xoxb-"),
            "{err}"
        );
        let env = MapEnv(vec![("SLACK_API_URL", "slack.com/api")]);
        let err = Settings::load(None, &env)
            .expect_err("no scheme")
            .to_string();
        assert!(err.contains("SLACK_API_URL"), "{err}");
        let err = parse("[slack]\nmessages_per_second_per_channel = 0\n")
            .expect_err("zero rate")
            .to_string();
        assert!(
            err.contains("slack.messages_per_second_per_channel"),
            "{err}"
        );
        let err = parse("[slack]\nedits_per_minute = -1\n")
            .expect_err("negative rate")
            .to_string();
        assert!(err.contains("slack.edits_per_minute"), "{err}");
        let err = parse("[slack]\nchannel = \"C1\"\n")
            .expect_err("unknown key")
            .to_string();
        assert!(err.contains("channel"), "{err}");
    }
}
