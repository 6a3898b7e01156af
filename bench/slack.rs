//! Slack benchmarks (harness = false), against the RELEASE binary and the fake Slack from
//! the tests (`tests/common/fake_slack.rs`, the same Web API contract checks):
//!
//! 1. **Approval clicks**: signed `block_actions` payloads (`rb:approve`) POSTed to
//!    `/slack/interactions` by 200 concurrent connections on loopback. Every click is a real
//!    vote by an eligible approver (each (finding, voter) pair once), so each one runs the
//!    whole path: signature check, payload parse, workflow decision, one write transaction
//!    (event + projection + outbox row); the last vote on each finding closes it. Half the
//!    clicks are sent open loop at the target rate (2,000/s spread over the 200 connections;
//!    latency counted from each click's scheduled time, so falling behind shows), the other
//!    half back to back on every connection (saturation throughput). Reports the sustained
//!    rate (target ≥ 2,000/s), p50/p99 latency at that rate (p99 target ≤ 20 ms) and the
//!    saturation rate, then checks the trail: every vote recorded once, every finding
//!    closed exactly once.
//! 2. **Outbox pacing**: 1,000 new findings routed to one channel; the fake accepts at most
//!    R `chat.postMessage` calls a second in a channel and remedybot is configured for R.
//!    Reports the delivery rate, the busiest one-second window and how many calls the fake
//!    refused with 429 (target: none — never faster than allowed).
//!
//! Run with `bench/run.sh`, or `cargo bench --bench slack`. Knobs: `BENCH_RUNS` (3),
//! `BENCH_CLICK_FINDINGS` (100), `BENCH_CLICK_VOTERS` (200), `BENCH_CLICK_RATE` (2000),
//! `BENCH_CONCURRENCY` (200),
//! `BENCH_OUTBOX_MESSAGES` (1000), `BENCH_OUTBOX_RATE` (50), `BENCH_OUT` (`bench/out`).

#[path = "common.rs"]
mod common;
#[path = "../tests/common/fake_discord.rs"]
mod fake_discord;
#[path = "../tests/common/fake_slack.rs"]
mod fake_slack;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, ensure};
use chrono::Utc;
use serde_json::{Value, json};

use common::{Metric, Server, TOKEN, Unit, env_usize, ms, percentile, progress, root};
use ed25519_dalek::SigningKey;
use fake_discord::FakeDiscord;
use fake_slack::{BOT_TOKEN, FakeSlack};
use remedybot::app::App;
use remedybot::chat::slack::signing::SlackSigner;
use remedybot::config::Settings;
use remedybot::domain::{Actor, Command, DecisionKind, FindingId, Proposal, Source};

const BENCH: &str = "slack";
const SIGNING_SECRET: &str = "bench-signing-secret-8f14e45fceea167a";
const CHANNEL: &str = "C0BENCH";
/// The Discord channel of the click run's cards.
const DISCORD_CHANNEL: u64 = 730_000_000_000_000_001;
/// Discord voters are `discord:{VOTER_BASE + i}`.
const VOTER_BASE: u64 = 740_000_000_000_000_000;

/// The platform a click run goes through, with its fake and request signing.
enum Chat {
    Slack(FakeSlack),
    Discord(Box<FakeDiscord>, SigningKey),
}

impl Chat {
    async fn start(discord: bool) -> Chat {
        if discord {
            let key = SigningKey::from_bytes(&[42; 32]);
            Chat::Discord(Box::new(FakeDiscord::start().await), key)
        } else {
            Chat::Slack(FakeSlack::start().await)
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Chat::Slack(_) => "slack",
            Chat::Discord(..) => "discord",
        }
    }

    /// An approver's reference in the policy's group.
    fn voter_ref(discord: bool, i: usize) -> String {
        if discord {
            format!("discord:{}", VOTER_BASE + i as u64)
        } else {
            format!("slack:U{i:05}")
        }
    }

    /// Settings for seeding through the library: the platform on, so cards are queued.
    fn enable(&self, settings: &mut Settings) {
        match self {
            Chat::Slack(fake) => {
                settings.slack.bot_token = Some(remedybot::config::Secret::new(BOT_TOKEN));
                settings.slack.api_url = fake.api_url();
            }
            Chat::Discord(fake, _) => {
                settings.discord.bot_token =
                    Some(remedybot::config::Secret::new(fake_discord::BOT_TOKEN));
                settings.discord.api_url = fake.url();
            }
        }
    }

    /// The server's environment.
    fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            Chat::Slack(fake) => slack_env(fake, true),
            Chat::Discord(fake, key) => vec![
                ("DISCORD_BOT_TOKEN", fake_discord::BOT_TOKEN.to_string()),
                ("DISCORD_API_URL", fake.url()),
                (
                    "DISCORD_PUBLIC_KEY",
                    hex::encode(key.verifying_key().to_bytes()),
                ),
            ],
        }
    }

    /// Whether the outbox has posted `n` messages (cards and approval requests).
    fn posted(&self, n: usize) -> bool {
        match self {
            Chat::Slack(fake) => fake.all_messages(CHANNEL).len() >= n,
            Chat::Discord(fake, _) => {
                fake.calls_to("create_message")
                    .iter()
                    .filter(|c| c.status < 300)
                    .count()
                    >= n
            }
        }
    }

    fn path(&self) -> &'static str {
        match self {
            Chat::Slack(_) => "/slack/interactions",
            Chat::Discord(..) => "/discord/interactions",
        }
    }

    /// A signed Approve click by voter `v` on `finding`.
    fn click(&self, finding: &str, v: usize) -> Click {
        let ts = Utc::now().timestamp();
        match self {
            Chat::Slack(_) => {
                let body = click_body(finding, v);
                let sig = SlackSigner::new(SIGNING_SECRET).sign(ts, body.as_bytes());
                let headers = vec![
                    (
                        "content-type",
                        "application/x-www-form-urlencoded".to_string(),
                    ),
                    ("x-slack-request-timestamp", ts.to_string()),
                    ("x-slack-signature", sig),
                ];
                (body, headers)
            }
            Chat::Discord(_, key) => {
                let body = discord_click_body(finding, v);
                let sig = remedybot::chat::discord::signing::sign(key, ts, body.as_bytes());
                let headers = vec![
                    ("content-type", "application/json".to_string()),
                    ("x-signature-timestamp", ts.to_string()),
                    ("x-signature-ed25519", sig),
                ];
                (body, headers)
            }
        }
    }

    fn assert_no_violations(&self) {
        match self {
            Chat::Slack(fake) => fake.assert_no_violations(),
            Chat::Discord(fake, _) => fake.assert_no_violations(),
        }
    }
}

fn config(dir: &Path, voters: usize, quorum: usize, rate: usize) -> anyhow::Result<PathBuf> {
    config_for(dir, false, voters, quorum, rate)
}

fn config_for(
    dir: &Path,
    discord: bool,
    voters: usize,
    quorum: usize,
    rate: usize,
) -> anyhow::Result<PathBuf> {
    let members: Vec<String> = (0..voters)
        .map(|i| format!("\"{}\"", Chat::voter_ref(discord, i)))
        .collect();
    let discord_rate = rate.min(50);
    let text = format!(
        "[chat]\n# every card posted on its own: the outbox run measures pacing\nflood_threshold = 0\n\n\
         [slack]\ndefault_channel = \"{CHANNEL}\"\nmessages_per_second_per_channel = {rate}\n\n\
         [discord]\ndefault_channel = \"{DISCORD_CHANNEL}\"\nmessages_per_second_per_channel = {discord_rate}\n\n\
         [groups]\nsecurity = [{}]\n\n[approvals.false_positive]\nquorum = {quorum}\ngroups = [\"security\"]\n",
        members.join(", ")
    );
    let path = dir.join("remedybot.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

fn slack_env(fake: &FakeSlack, signing: bool) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("SLACK_BOT_TOKEN", BOT_TOKEN.to_string()),
        ("SLACK_API_URL", fake.api_url()),
    ];
    if signing {
        env.push(("SLACK_SIGNING_SECRET", SIGNING_SECRET.to_string()));
    }
    env
}

fn findings_json(n: usize, tag: &str) -> String {
    const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];
    let items: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "source": "bench",
                "rule_id": format!("{tag}-rule-{}", i % 13),
                "title": format!("Benchmark finding {i} <{tag}> & friends"),
                "severity": SEVERITIES[i % 4],
                "asset": format!("service-{}", i % 7),
                "location": format!("src/{tag}/file_{i}.rs:{}", i % 90),
            })
        })
        .collect();
    Value::Array(items).to_string()
}

async fn post_findings(
    client: &reqwest::Client,
    base: &str,
    body: String,
) -> anyhow::Result<Value> {
    let resp = client
        .post(format!("{base}/api/v1/findings"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    ensure!(
        resp.status().is_success(),
        "ingest answered {}",
        resp.status()
    );
    Ok(resp.json().await?)
}

/// A `block_actions` click on Approve, shaped like Slack's (from the corpus payload).
fn click_body(finding: &str, voter: usize) -> String {
    let payload = json!({
        "type": "block_actions",
        "user": {"id": format!("U{voter:05}"), "username": format!("voter{voter}"), "name": format!("voter{voter}"), "team_id": "T0BENCH"},
        "api_app_id": "A0BENCH",
        "token": "unused",
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": CHANNEL, "is_ephemeral": false},
        "trigger_id": format!("{voter}.{finding}.trigger"),
        "team": {"id": "T0BENCH", "domain": "bench"},
        "channel": {"id": CHANNEL, "name": "security"},
        "response_url": "https://hooks.slack.com/actions/T0BENCH/1/x",
        "actions": [{
            "action_id": "rb:approve",
            "block_id": format!("rb:approval:{finding}"),
            "text": {"type": "plain_text", "text": "Approve", "emoji": true},
            "value": finding,
            "type": "button",
            "action_ts": "1700000000.000200"
        }]
    });
    let mut body = String::from("payload=");
    body.push_str(&urlencode(&payload.to_string()));
    body
}

/// A Discord component interaction: voter `v` clicking Approve (`rb:approve:F-…`), shaped
/// like the corpus button click.
fn discord_click_body(finding: &str, v: usize) -> String {
    let user = (VOTER_BASE + v as u64).to_string();
    json!({
        "type": 3,
        "id": format!("{}", 750_000_000_000_000_000u64 + v as u64),
        "application_id": fake_discord::APPLICATION_ID.to_string(),
        "token": format!("bench-token-{finding}-{v}"),
        "version": 1,
        "guild_id": "290926798626357999",
        "channel_id": DISCORD_CHANNEL.to_string(),
        "member": {
            "user": {"id": user, "username": format!("voter{v}"), "global_name": format!("Voter {v}")},
            "roles": [],
            "permissions": "2147483647"
        },
        "data": {"custom_id": format!("rb:approve:{finding}"), "component_type": 2},
        "message": {"id": "760000000000000000", "channel_id": DISCORD_CHANNEL.to_string()}
    })
    .to_string()
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// Seed findings with an open false-positive request each, through the library, before
/// the server starts (its outbox then posts the cards and approval messages).
async fn seed_requests(
    db_url: &str,
    config: &Path,
    chat: &Chat,
    n: usize,
) -> anyhow::Result<Vec<FindingId>> {
    let mut settings = Settings::load(Some(config), &remedybot::config::ProcessEnv)?;
    settings.database.url = db_url.to_string();
    // With the platform on, the cards and approval requests are queued for the server.
    chat.enable(&mut settings);
    let store = remedybot::server::open_store(&settings).await?;
    let app = App::new(settings, store);
    let findings = remedybot::ingest::Format::Generic
        .parse(findings_json(n, "click").as_bytes())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let actor = Actor::new("cli", "bench", "bench");
    let out = app
        .ingest(findings, &actor, Source::Cli, Utc::now())
        .await?;
    let ids: Vec<FindingId> = out.findings.iter().map(|f| f.id).collect();
    let proposal = Command::Propose(Proposal {
        kind: DecisionKind::FalsePositive,
        reason: "benchmark".into(),
        duplicate_of: None,
        until: None,
        compensating_controls: String::new(),
    });
    for id in &ids {
        app.execute(*id, &proposal, &actor, Source::Cli, Utc::now())
            .await?;
    }
    app.store.close().await;
    Ok(ids)
}

struct ClickRun {
    /// Clicks per second achieved under the open-loop target load.
    offered: f64,
    /// Clicks per second when every connection sends back to back.
    saturated: f64,
    p50: f64,
    p99: f64,
}

async fn click_run(out: &Path, run: usize, discord: bool) -> anyhow::Result<ClickRun> {
    let findings = env_usize("BENCH_CLICK_FINDINGS", 100);
    let voters = env_usize("BENCH_CLICK_VOTERS", 200);
    let concurrency = env_usize("BENCH_CONCURRENCY", 200);
    let tmp = tempfile::tempdir()?;
    let db_url = format!("sqlite://{}", tmp.path().join("remedybot.db").display());
    let config = config_for(tmp.path(), discord, voters, voters, 100)?;
    let chat = Chat::start(discord).await;
    let name = chat.name();
    progress(
        BENCH,
        format!("{name} clicks run {run}: seeding {findings} open approval requests"),
    );
    let ids = seed_requests(&db_url, &config, &chat, findings).await?;

    let log = out.join(format!("serve-{name}-clicks-{run}.log"));
    let mut server = Server::spawn(&db_url, &log, Some(&config), &chat.env())?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    server.wait_ready(&client).await?;
    // Let the outbox post the cards and approval requests first.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !chat.posted(2 * findings) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ensure!(
        chat.posted(2 * findings),
        "the outbox did not post the cards and approval messages"
    );

    // Every (finding, voter) pair once, interleaved so concurrent clicks hit many findings.
    let mut clicks = Vec::with_capacity(findings * voters);
    for v in 0..voters {
        for id in &ids {
            clicks.push(chat.click(&id.to_string(), v));
        }
    }
    let total = clicks.len();
    let url = format!("{}{}", server.base, chat.path());
    // First half: the target load, open loop (a fixed arrival rate spread over the
    // connections; latency counted from each click's scheduled time, so a server that falls
    // behind shows it). Second half: as fast as the connections go (saturation).
    let rate = env_usize("BENCH_CLICK_RATE", 2000) as f64;
    let saturation = clicks.split_off(total / 2);
    progress(
        BENCH,
        format!(
            "{name} clicks run {run}: {} clicks at {rate:.0}/s over {concurrency} connections, then {} as fast as possible",
            clicks.len(),
            saturation.len()
        ),
    );
    let (latencies, paced_wall) = drive(&client, &url, clicks, concurrency, Some(rate)).await?;
    let (_, wall) = drive(&client, &url, saturation, concurrency, None).await?;
    let saturated = (total - total / 2) as f64 / wall.as_secs_f64();
    let offered = latencies.len() as f64 / paced_wall.as_secs_f64();
    server.stop()?;

    // Check the outcome in the trail: every vote once, every finding closed once.
    let mut settings = Settings::load(Some(&config), &remedybot::config::ProcessEnv)?;
    settings.database.url = db_url.clone();
    let store = remedybot::server::open_store(&settings).await?;
    let mut votes = 0;
    let mut closed = 0;
    for id in &ids {
        for e in store.trail(*id).await? {
            match e.kind.as_str() {
                "vote_cast" => votes += 1,
                "closed" => closed += 1,
                _ => {}
            }
        }
    }
    store.close().await;
    ensure!(
        votes == total,
        "expected {total} votes in the trail, found {votes}"
    );
    ensure!(
        closed == findings,
        "expected {findings} closures, found {closed}"
    );
    chat.assert_no_violations();
    Ok(ClickRun {
        offered,
        saturated,
        p50: percentile(&latencies, 50.0).context("latencies")?,
        p99: percentile(&latencies, 99.0).context("latencies")?,
    })
}

/// A request body and its headers (content type and signature).
type Click = (String, Vec<(&'static str, String)>);

/// Send signed clicks over `concurrency` connections: at `rate` clicks a second in all
/// (open loop), or back to back (closed loop). Returns each click's latency in ms — for the
/// open loop measured from its scheduled time — and the wall time.
async fn drive(
    client: &reqwest::Client,
    url: &str,
    clicks: Vec<Click>,
    concurrency: usize,
    rate: Option<f64>,
) -> anyhow::Result<(Vec<f64>, Duration)> {
    let mut lanes: Vec<Vec<Click>> = (0..concurrency).map(|_| Vec::new()).collect();
    for (i, c) in clicks.into_iter().enumerate() {
        lanes[i % concurrency].push(c);
    }
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for (lane, list) in lanes.into_iter().enumerate() {
        let client = client.clone();
        let url = url.to_string();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(list.len());
            for (k, (body, headers)) in list.into_iter().enumerate() {
                let scheduled = match rate {
                    Some(r) => {
                        let at =
                            start + Duration::from_secs_f64((k * concurrency + lane) as f64 / r);
                        tokio::time::sleep_until(at).await;
                        at
                    }
                    None => tokio::time::Instant::now(),
                };
                let mut request = client.post(&url).body(body);
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                let resp = request.send().await?;
                let status = resp.status();
                let _ = resp.bytes().await?;
                ensure!(status.is_success(), "click answered {status}");
                lat.push(ms(scheduled.elapsed()));
            }
            anyhow::Ok(lat)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    Ok((latencies, start.elapsed()))
}

struct OutboxRun {
    per_sec: f64,
    busiest_second: usize,
    refused: usize,
}

async fn outbox_run(out: &Path, run: usize) -> anyhow::Result<OutboxRun> {
    let n = env_usize("BENCH_OUTBOX_MESSAGES", 1000);
    let rate = env_usize("BENCH_OUTBOX_RATE", 50);
    let tmp = tempfile::tempdir()?;
    let db_url = format!("sqlite://{}", tmp.path().join("remedybot.db").display());
    let config = config(tmp.path(), 1, 1, rate)?;
    let fake = FakeSlack::start().await;
    fake.limit_per_channel("chat.postMessage", rate as u32);
    let log = out.join(format!("serve-slack-outbox-{run}.log"));
    let mut server = Server::spawn(&db_url, &log, Some(&config), &slack_env(&fake, false))?;
    let client = reqwest::Client::new();
    server.wait_ready(&client).await?;
    progress(
        BENCH,
        format!("outbox run {run}: {n} cards to one channel at ≤ {rate}/s"),
    );
    post_findings(&client, &server.base, findings_json(n, "outbox")).await?;
    let done = fake
        .wait_until(
            Duration::from_secs((n / rate.max(1)) as u64 * 3 + 30),
            || fake.messages(CHANNEL).len() >= n,
        )
        .await;
    server.stop()?;
    ensure!(
        done,
        "only {} of {n} cards arrived",
        fake.messages(CHANNEL).len()
    );
    let accepted = fake.accepted_times("chat.postMessage", CHANNEL);
    let span = accepted
        .last()
        .zip(accepted.first())
        .map(|(l, f)| l.duration_since(*f))
        .context("no accepted calls")?;
    let refused = fake
        .calls_to("chat.postMessage")
        .iter()
        .filter(|c| c.status == 429)
        .count();
    fake.assert_no_violations();
    Ok(OutboxRun {
        per_sec: (accepted.len() - 1) as f64 / span.as_secs_f64(),
        busiest_second: fake.max_rate_observed("chat.postMessage", CHANNEL),
        refused,
    })
}

async fn run() -> anyhow::Result<()> {
    let out = std::env::var_os("BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("bench/out"));
    std::fs::create_dir_all(&out)?;
    let runs = env_usize("BENCH_RUNS", 3);
    let rate = env_usize("BENCH_OUTBOX_RATE", 50) as f64;
    let concurrency = env_usize("BENCH_CONCURRENCY", 200);

    let mut click_metrics = Vec::new();
    for discord in [false, true] {
        click_metrics.extend(click_metrics_for(&out, runs, concurrency, discord).await?);
    }

    let mut delivered = Metric::new(
        format!("outbox: 1,000 cards to one channel, delivered/s (fake allows {rate:.0}/s)"),
        None,
        Unit::PerSec,
    );
    let mut busiest = Metric::new(
        format!("outbox: calls in the busiest 1 s window (fake allows {rate:.0})"),
        Some(rate),
        Unit::Count,
    );
    let mut refused = Metric::new(
        "outbox: calls the fake refused with 429",
        Some(0.0),
        Unit::Count,
    );
    for run in 1..=runs {
        let r = outbox_run(&out, run).await?;
        progress(
            BENCH,
            format!(
                "outbox run {run}: {:.1}/s, busiest second {}, refused {}",
                r.per_sec, r.busiest_second, r.refused
            ),
        );
        delivered.push(r.per_sec);
        busiest.push(r.busiest_second as f64);
        refused.push(r.refused as f64);
    }
    let mut all: Vec<&Metric> = click_metrics.iter().collect();
    all.extend([&delivered, &busiest, &refused]);
    let table = common::table(&all);
    std::fs::write(out.join("slack-results.md"), &table)?;
    println!("{table}");
    Ok(())
}

/// The click metrics of one platform: achieved rate at the offered load (diagnostic),
/// p50, p99 (≤ 20 ms) and saturation (≥ 2,000/s).
async fn click_metrics_for(
    out: &Path,
    runs: usize,
    concurrency: usize,
    discord: bool,
) -> anyhow::Result<[Metric; 4]> {
    let click_rate = env_usize("BENCH_CLICK_RATE", 2000) as f64;
    let (who, route) = if discord {
        ("Discord", "/discord/interactions")
    } else {
        ("Slack", "/slack/interactions")
    };
    // Open loop, the achieved rate cannot exceed the offered one: it shows whether the
    // server kept up (diagnostic). Capacity is judged back to back (saturation, below).
    let mut clicks = Metric::new(
        format!(
            "{who}: approval clicks/s achieved at an offered {click_rate:.0}/s ({route}), {concurrency} connections, SQLite (diagnostic)"
        ),
        None,
        Unit::PerSec,
    );
    let mut p50 = Metric::new(
        format!("{who}: click latency p50 at {click_rate:.0}/s"),
        None,
        Unit::Ms,
    );
    let mut p99 = Metric::new(
        format!("{who}: click latency p99 at {click_rate:.0}/s"),
        Some(20.0),
        Unit::Ms,
    );
    let mut saturated = Metric::new(
        format!(
            "{who}: approval clicks/s, {concurrency} connections back to back (saturation), SQLite"
        ),
        Some(2000.0),
        Unit::PerSec,
    );
    for run in 1..=runs {
        let r = click_run(out, run, discord).await?;
        progress(
            BENCH,
            format!(
                "{who} clicks run {run}: {:.0}/s offered, p50 {:.1} ms, p99 {:.1} ms; saturation {:.0}/s",
                r.offered, r.p50, r.p99, r.saturated
            ),
        );
        clicks.push(r.offered);
        saturated.push(r.saturated);
        p50.push(r.p50);
        p99.push(r.p99);
    }
    Ok([clicks, p50, p99, saturated])
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = rt.block_on(run()) {
        eprintln!("bench failed: {e:#}");
        std::process::exit(1);
    }
}
