//! `remedybot slack ...`: Slack setup helpers. They need no database and no config file.

use clap::{Subcommand, ValueEnum};

use crate::chat::slack::manifest::{self, ManifestOptions};

#[derive(Clone, Subcommand)]
pub enum SlackCommand {
    /// Print the Slack app manifest to create the app from (api.slack.com/apps → Create New
    /// App → From an app manifest).
    #[command(long_about = "Print the Slack app manifest to create the app from \
(api.slack.com/apps → Create New App → From an app manifest). See docs/slack.md.\n\n\
Socket Mode (the default): the bot opens a WebSocket to Slack with an app-level token \
(SLACK_APP_TOKEN, xapp-..., scope connections:write), so the server needs no public URL.\n\n\
HTTP mode (--http --public-url URL): Slack POSTs signed requests to URL/slack/events, \
URL/slack/interactions and URL/slack/commands, so URL must be an https:// address that \
Slack can reach.")]
    Manifest {
        /// Socket Mode, the default: no public URL needed.
        #[arg(long, conflicts_with_all = ["http", "public_url"])]
        socket_mode: bool,
        /// HTTP mode: Slack sends requests to --public-url.
        #[arg(long, requires = "public_url")]
        http: bool,
        /// With --http: the https:// base URL under which Slack reaches this server's
        /// /slack/... routes, e.g. https://remedybot.example.com.
        #[arg(long, value_name = "URL", requires = "http")]
        public_url: Option<String>,
        /// The app and bot user name shown in Slack (at most 35 characters).
        #[arg(long, default_value = manifest::DEFAULT_APP_NAME)]
        name: String,
        /// Output format: json (Slack accepts JSON manifests).
        #[arg(long, value_enum, default_value = "json")]
        format: ManifestFormat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ManifestFormat {
    Json,
}

/// Run a `slack` subcommand, writing its output to stdout.
pub fn run(command: &SlackCommand) -> anyhow::Result<()> {
    match command {
        SlackCommand::Manifest {
            socket_mode: _,
            http,
            public_url,
            name,
            format: ManifestFormat::Json,
        } => {
            let opts = ManifestOptions {
                name: name.clone(),
                socket_mode: !http,
                public_url: public_url.clone(),
            };
            let m = manifest::manifest(&opts)?;
            println!("{}", serde_json::to_string_pretty(&m)?);
            Ok(())
        }
    }
}
