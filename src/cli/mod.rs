//! The `remedybot` command line. Parses arguments, loads settings, and calls into the
//! library; `main.rs` only calls [`run`].

mod act;
mod discord;
mod export;
mod output;
mod show;
mod slack;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::Utc;
use clap::{Parser, Subcommand, ValueEnum};

use crate::app::App;
use crate::config::{Env, ProcessEnv, Settings};
use crate::domain::{Actor, FindingId, Severity, Source, Stage};
use crate::server;
use crate::store::FindingFilter;
use crate::telemetry::{self, LogFormat};

#[derive(Parser)]
#[command(
    name = "remedybot",
    version,
    about = "Chat-ops remediation bot: drive every finding from detection to a verified, auditable closure",
    long_about = "remedybot tracks security and compliance findings through triage, root-cause analysis, \
fix and verification, with approvals and deadlines, and keeps a tamper-evident decision trail.\n\n\
The database defaults to a SQLite file (remedybot.db) in the working directory; set \
REMEDYBOT_DATABASE_URL=postgres://... to use PostgreSQL."
)]
struct Cli {
    /// Config file (TOML), see docs/configuration.md [env: REMEDYBOT_CONFIG]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://remedybot.db]
    #[arg(long, global = true, value_name = "URL", hide_env_values = true)]
    database_url: Option<String>,

    /// Log format. Logs go to stderr; the level comes from REMEDYBOT_LOG (default: info for
    /// serve, warn for other commands).
    #[arg(long, global = true, value_enum, default_value = "human")]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (ingest API, read API, health and metrics) and background jobs.
    Serve {
        /// Address to listen on [env: REMEDYBOT_LISTEN] [default: 127.0.0.1:8080]
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Ingest findings from a file, or from stdin with `-`.
    Ingest {
        /// The input file, or - for stdin.
        file: String,
        /// Input format: auto (recognised from the content), generic, csv, sarif, trivy,
        /// grype, asff (AWS Security Hub, GuardDuty) or osv (OSV records, osv-scanner).
        #[arg(long, default_value = "auto")]
        format: String,
        /// Print the full result as JSON: the counts and one entry per finding.
        #[arg(long)]
        json: bool,
        /// The file is a complete scan: open findings of the same source and asset that it
        /// no longer reports are recorded as "not seen in latest scan".
        #[arg(long)]
        full_scan: bool,
        /// With --full-scan: a source the scan covered even if it found nothing (with
        /// --scope-asset).
        #[arg(long, requires_all = ["full_scan", "scope_asset"])]
        scope_source: Option<String>,
        /// With --full-scan: the asset that goes with --scope-source.
        #[arg(long, requires_all = ["full_scan", "scope_source"])]
        scope_asset: Option<String>,
    },
    /// List findings.
    Findings {
        #[arg(long, value_parser = parse_stage)]
        stage: Option<Stage>,
        #[arg(long, value_parser = parse_severity)]
        severity: Option<Severity>,
        /// Owner, as written in the finding (e.g. slack:U024BE7LH or a team name).
        #[arg(long)]
        owner: Option<String>,
        /// Only findings past their deadline.
        #[arg(long)]
        overdue: bool,
        /// Only open findings (not closed, not accepted).
        #[arg(long)]
        open: bool,
        /// At most this many rows.
        #[arg(long)]
        limit: Option<i64>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one finding and its decision trail.
    Show {
        /// Finding id, e.g. F-1042.
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Backlog by severity and stage, overdue count, median time to remediate.
    Report {
        #[arg(long)]
        json: bool,
    },
    /// Export the decision trail.
    Export {
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Only this finding's events.
        #[arg(long)]
        finding: Option<String>,
        /// Write to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Check the hash chain of the decision trail; exits 1 and names the first bad event
    /// if anything was edited, deleted, inserted or reordered.
    Verify,
    /// Act on a finding: acknowledge, triage, rca, plan, fixed, propose, approve, reject,
    /// assign, severity, withdraw, comment. Recorded as cli:$USER.
    Act {
        /// Finding id, e.g. F-1042.
        id: String,
        #[command(subcommand)]
        action: act::Action,
    },
    /// Validate the config file and exit (0 if valid).
    CheckConfig,
    /// Show which routing rule a finding, or each finding of an input file, falls under.
    Route {
        /// A finding id (F-1042), or an input file in any ingest format (- for stdin).
        target: String,
        /// Also say why each rule before the matching one did not match.
        #[arg(long)]
        explain: bool,
        /// The input file's format (for a file).
        #[arg(long, default_value = "auto")]
        format: String,
    },
    /// Slack setup: `slack manifest` prints the app manifest (see docs/slack.md).
    Slack {
        #[command(subcommand)]
        command: slack::SlackCommand,
    },
    /// Discord setup: `discord register-commands` registers /remedy (see docs/discord.md).
    Discord {
        #[command(subcommand)]
        command: discord::DiscordCommand,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Csv,
    Json,
}

fn parse_stage(s: &str) -> Result<Stage, String> {
    Stage::parse(s).ok_or_else(|| {
        format!(
            "unknown stage `{s}`; expected one of: new, triage, rca, fix, verify, closed, accepted"
        )
    })
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
        .map_err(|e: crate::domain::severity::UnknownSeverity| e.to_string())
}

/// Parse the command line and run it.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let level = if matches!(cli.command, Command::Serve { .. }) {
        "info"
    } else {
        "warn"
    };
    telemetry::init(cli.log_format, level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn require_existing_sqlite_for(settings: &Settings) -> anyhow::Result<()> {
    server::require_existing_sqlite(&settings.database.url)
}

/// The config file: `--config`, else `REMEDYBOT_CONFIG` (empty counts as unset).
fn config_path(cli: &Cli) -> Option<PathBuf> {
    cli.config
        .clone()
        .or_else(|| ProcessEnv.get("REMEDYBOT_CONFIG").map(PathBuf::from))
}

fn load_settings(cli: &Cli) -> anyhow::Result<Settings> {
    let mut settings = Settings::load(config_path(cli).as_deref(), &ProcessEnv)?;
    if let Some(url) = &cli.database_url {
        crate::config::check_database_url(url)
            .map_err(|m| anyhow::anyhow!("--database-url: {m}"))?;
        settings.database.url = url.clone();
    }
    Ok(settings)
}

/// Open the database for a command. Commands that only read refuse to create a missing
/// SQLite file: a typo in the path should be an error, not an empty database.
async fn open_app(cli: &Cli, create: bool) -> anyhow::Result<App> {
    let settings = load_settings(cli)?;
    if !create {
        server::require_existing_sqlite(&settings.database.url)?;
    }
    let store = server::open_store(&settings).await?;
    Ok(App::new(settings, store))
}

fn cli_actor() -> Actor {
    let user = ProcessEnv
        .get("USER")
        .or_else(|| ProcessEnv.get("LOGNAME"))
        .unwrap_or_else(|| "unknown".into());
    Actor::new("cli", &user, &user)
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Slack { command } => {
            // No settings, no database: the manifest depends only on the flags.
            slack::run(command)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Discord { command } => {
            // Settings for the token and [discord] guild_id; no database.
            let settings = load_settings(&cli)?;
            discord::run(command, &settings.discord).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Act { id, action } => {
            let id: FindingId = id.parse()?;
            let command = act::command(action.clone()).map_err(anyhow::Error::msg)?;
            let app = open_app(&cli, false).await?;
            let actor = cli_actor();
            match app
                .execute(id, &command, &actor, Source::Cli, Utc::now())
                .await
            {
                Ok(outcome) => {
                    for change in &outcome.changes {
                        println!("{id}: {}", crate::report::describe::describe(change));
                    }
                    println!("{id} is now in stage {}", outcome.state.stage);
                    Ok(ExitCode::SUCCESS)
                }
                Err(crate::app::AppError::Refused(r)) => {
                    eprintln!("refused: {r}");
                    Ok(ExitCode::from(3))
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Route {
            target,
            explain,
            format,
        } => {
            let settings = load_settings(&cli)?;
            let router = &settings.router;
            if router.is_empty() {
                println!(
                    "no [[routes]] configured: findings keep the owner their input gives (see docs/routing.md)"
                );
                return Ok(ExitCode::SUCCESS);
            }
            let findings = match target.parse::<FindingId>() {
                Ok(id) => {
                    require_existing_sqlite_for(&settings)?;
                    let store = server::open_store(&settings).await?;
                    let f = store
                        .finding(id)
                        .await?
                        .with_context(|| format!("finding {id} not found"))?;
                    vec![(id.to_string(), f.state.as_new_finding())]
                }
                Err(_) => {
                    let bytes = read_input(target)?;
                    let (_, parsed) = crate::ingest::parse(Some(format), &bytes)
                        .map_err(|e| anyhow::anyhow!("{target}: {e}"))?;
                    parsed
                        .into_iter()
                        .enumerate()
                        .map(|(i, f)| (format!("#{}", i + 1), f))
                        .collect()
                }
            };
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for (label, f) in &findings {
                output::route_explanation(&mut out, label, f, router, *explain)?;
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig => {
            let Some(path) = config_path(&cli) else {
                bail!("no config file given: pass --config FILE or set REMEDYBOT_CONFIG");
            };
            let s = load_settings(&cli)?;
            println!(
                "{}: OK ({} approver groups, {} approval policies, database {})",
                path.display(),
                s.policy.groups.len(),
                s.policy.approvals.len(),
                crate::store::redact_url(&s.database.url)
            );
            for (name, routes) in s.policy_variants() {
                println!(
                    "policy {name}: {}",
                    if routes.is_empty() {
                        "used by no route".to_string()
                    } else {
                        format!("routes {}", routes.join(", "))
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let app = open_app(&cli, true).await?;
            println!(
                "database {} is migrated",
                crate::store::redact_url(&app.settings.database.url)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { listen } => {
            let mut settings = load_settings(&cli)?;
            if let Some(l) = listen {
                crate::config::check_listen(l).map_err(|m| anyhow::anyhow!("--listen: {m}"))?;
                settings.listen = l.clone();
            }
            if settings.ingest_token.is_none() {
                tracing::warn!(
                    "REMEDYBOT_INGEST_TOKEN is not set: /api/v1 answers 401 to every request"
                );
            }
            let store = server::open_store(&settings).await?;
            let listen = settings.listen.clone();
            let app = App::new(settings, store);
            let running = server::start(app, &listen, shutdown_signal()).await?;
            running.handle.await.context("server task")??;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest {
            file,
            format,
            json,
            full_scan,
            scope_source,
            scope_asset,
        } => {
            let bytes = read_input(file)?;
            let parsed = crate::ingest::parse_all(Some(format), &bytes)
                .map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
            let format = parsed.format;
            let app = open_app(&cli, true).await?;
            let options = crate::app::IngestOptions {
                full_scan: *full_scan,
                scope: scope_source
                    .iter()
                    .cloned()
                    .zip(scope_asset.iter().cloned())
                    .collect(),
                ..crate::app::IngestOptions::default()
            };
            let outcome = app
                .ingest_reported(
                    parsed.findings,
                    &parsed.reports,
                    &options,
                    &cli_actor(),
                    Source::Cli,
                    Utc::now(),
                )
                .await?;
            if *json {
                let mut reply = serde_json::to_value(&outcome)?;
                reply["format"] = serde_json::json!(format.name());
                println!("{}", serde_json::to_string_pretty(&reply)?);
            } else {
                println!(
                    "{file} ({}): {} received, {} created, {} updated, {} unchanged, {} reopened{}{}",
                    format.name(),
                    outcome.received,
                    outcome.created,
                    outcome.updated,
                    outcome.unchanged,
                    outcome.reopened,
                    if *full_scan {
                        format!(", {} not seen in this full scan", outcome.not_seen.len())
                    } else {
                        String::new()
                    },
                    match outcome.status_updates.len() {
                        0 => String::new(),
                        n => format!(", {n} status updates"),
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Findings {
            stage,
            severity,
            owner,
            overdue,
            open,
            limit,
            json,
        } => {
            let app = open_app(&cli, false).await?;
            let now = Utc::now();
            let filter = FindingFilter {
                stage: *stage,
                severity: *severity,
                owner: owner.clone(),
                overdue_at: overdue.then_some(now),
                open_only: *open,
                limit: *limit,
                offset: 0,
            };
            // Rows are written as they arrive: a long listing starts printing at once.
            let out = std::io::BufWriter::new(std::io::stdout().lock());
            let io = |e: std::io::Error| {
                crate::store::StoreError::Corrupt(format!("writing output: {e}"))
            };
            if *json {
                let mut out = out;
                let mut first = true;
                write!(out, "[")?;
                app.store
                    .each_finding(&filter, |f| {
                        let sep = if std::mem::take(&mut first) {
                            "\n  "
                        } else {
                            ",\n  "
                        };
                        write!(out, "{sep}").map_err(io)?;
                        serde_json::to_writer(&mut out, &f).map_err(|e| io(e.into()))
                    })
                    .await?;
                writeln!(out, "\n]")?;
                out.flush()?;
            } else {
                let mut table = output::FindingsTable::new(out, now);
                app.store
                    .each_finding(&filter, |f| table.row(&f).map_err(io))
                    .await?;
                table.finish()?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { id, json } => {
            let id: FindingId = id.parse()?;
            let app = open_app(&cli, false).await?;
            let finding = app
                .store
                .finding(id)
                .await?
                .with_context(|| format!("finding {id} not found"))?;
            let trail = app.store.trail(id).await?;
            if *json {
                let events: Vec<_> = trail.iter().map(crate::http::event_json).collect();
                let v = serde_json::json!({ "finding": finding, "trail": events });
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print!("{}", show::render(&finding, &trail, Utc::now())?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { json } => {
            let app = open_app(&cli, false).await?;
            let r = app.store.summary(Utc::now()).await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print!("{}", output::summary_text(&r));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            format,
            finding,
            output,
        } => {
            let finding = finding
                .as_deref()
                .map(str::parse::<FindingId>)
                .transpose()?;
            let app = open_app(&cli, false).await?;
            let n = export::run(&app, *format, finding, output.as_deref()).await?;
            eprintln!("exported {n} events");
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify => {
            let app = open_app(&cli, false).await?;
            let mut progress = |n: i64| eprintln!("verified {n} events…");
            let report = app.store.verify_chain(Some(&mut progress)).await?;
            println!("{}", report.describe());
            Ok(if report.is_intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

fn read_input(file: &str) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if file == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading stdin")?;
    } else {
        bytes = std::fs::read(file).with_context(|| format!("reading {file}"))?;
    }
    Ok(bytes)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
