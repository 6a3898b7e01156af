//! `remedybot discord ...`: Discord setup helpers. They need the bot token
//! (`DISCORD_BOT_TOKEN`) but no database.

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::Value;
use serenity::http::{LightMethod, Route};
use serenity::model::id::{ApplicationId, GuildId};

use crate::chat::discord::{Discord, commands_def};
use crate::config::{DiscordSettings, snowflake};

#[derive(Clone, Subcommand)]
pub enum DiscordCommand {
    /// Register the /remedy command with Discord (in one server, or globally).
    #[command(
        long_about = "Register the /remedy application command (subcommands backlog, \
mine, overdue, show, stats, assign, help) with Discord. See docs/discord.md.\n\n\
Registration replaces the application's commands in that scope (a bulk overwrite), so running \
it again is safe and removes commands remedybot no longer has.\n\n\
Scope: --guild ID registers in one server (usable at once); --global registers for every \
server the app is in. Without either, [discord] guild_id from the config file is used if set, \
else the command is registered globally.\n\n\
Needs DISCORD_BOT_TOKEN. The application id comes from DISCORD_APPLICATION_ID, else it is \
asked from Discord. DISCORD_API_URL points at another origin (tests)."
    )]
    RegisterCommands {
        /// Register in this server only (its id, e.g. 613425648685547541).
        #[arg(long, value_name = "ID", conflicts_with = "global")]
        guild: Option<String>,
        /// Register globally, even when [discord] guild_id is set.
        #[arg(long)]
        global: bool,
    },
}

/// Where commands are registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Guild(u64),
    Global,
}

/// The scope the flags and settings ask for: `--guild`, `--global`, `[discord] guild_id`,
/// else global.
pub fn scope(
    guild: Option<&str>,
    global: bool,
    settings: &DiscordSettings,
) -> anyhow::Result<Scope> {
    if let Some(g) = guild {
        let id = snowflake(g).with_context(|| {
            format!("--guild {g}: not a server id (a number, e.g. 613425648685547541)")
        })?;
        return Ok(Scope::Guild(id));
    }
    if global {
        return Ok(Scope::Global);
    }
    Ok(settings.guild_id.map_or(Scope::Global, Scope::Guild))
}

/// Run a `discord` subcommand, writing what it did to stdout.
pub async fn run(command: &DiscordCommand, settings: &DiscordSettings) -> anyhow::Result<()> {
    let DiscordCommand::RegisterCommands { guild, global } = command;
    let scope = scope(guild.as_deref(), *global, settings)?;
    let Some(discord) = Discord::from_settings(settings) else {
        bail!(
            "DISCORD_BOT_TOKEN is not set: registering commands needs the bot's token \
             (Developer Portal → your application → Bot → Reset Token)"
        );
    };
    let application = discord.application_id().await.context(
        "asking Discord for the application id (check DISCORD_BOT_TOKEN, or set DISCORD_APPLICATION_ID)",
    )?;
    let body = commands_def::commands();
    let application_id = ApplicationId::new(application);
    let (route, place) = match scope {
        Scope::Guild(g) => (
            Route::GuildCommands {
                application_id,
                guild_id: GuildId::new(g),
            },
            format!("in server {g}"),
        ),
        Scope::Global => (Route::Commands { application_id }, "globally".to_string()),
    };
    let reply = discord
        .api
        .call("register commands", route, LightMethod::Put, Some(&body))
        .await
        .with_context(|| {
            format!("registering the commands {place} for application {application}")
        })?;
    for line in registered(&reply.body, &place, application) {
        println!("{line}");
    }
    Ok(())
}

/// What Discord says it registered, one line per command.
fn registered(body: &Value, place: &str, application: u64) -> Vec<String> {
    let commands = body.as_array().map(Vec::as_slice).unwrap_or_default();
    if commands.is_empty() {
        return vec![format!(
            "Discord registered no commands {place} for application {application}"
        )];
    }
    commands
        .iter()
        .map(|c| {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            let id = c.get("id").and_then(Value::as_str).unwrap_or("?");
            let subs: Vec<&str> = c
                .get("options")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|o| o["type"] == commands_def::SUB_COMMAND)
                .filter_map(|o| o.get("name").and_then(Value::as_str))
                .collect();
            format!(
                "registered /{name} (id {id}) {place} for application {application}: {}",
                subs.join(", ")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_scope_follows_flags_then_the_config() {
        let mut s = DiscordSettings::default();
        assert_eq!(scope(None, false, &s).unwrap(), Scope::Global);
        s.guild_id = Some(7);
        assert_eq!(scope(None, false, &s).unwrap(), Scope::Guild(7));
        assert_eq!(scope(None, true, &s).unwrap(), Scope::Global);
        assert_eq!(scope(Some("9"), false, &s).unwrap(), Scope::Guild(9));
        let e = scope(Some("x"), false, &s).unwrap_err().to_string();
        assert!(e.contains("--guild x"), "{e}");
    }

    #[test]
    fn the_report_names_commands_ids_scope_and_subcommands() {
        let mut body = commands_def::commands();
        body[0]["id"] = json!("123");
        let lines = registered(&body, "in server 7", 5);
        assert_eq!(
            lines,
            [
                "registered /remedy (id 123) in server 7 for application 5: \
              backlog, mine, overdue, show, stats, assign, help"
            ]
        );
        assert!(registered(&json!([]), "globally", 5)[0].contains("no commands"));
    }

    #[tokio::test]
    async fn a_missing_token_is_named() {
        let cmd = DiscordCommand::RegisterCommands {
            guild: None,
            global: true,
        };
        let e = run(&cmd, &DiscordSettings::default()).await.unwrap_err();
        assert!(
            e.to_string().contains("DISCORD_BOT_TOKEN is not set"),
            "{e}"
        );
    }
}
