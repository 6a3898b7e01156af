//! `/remedy` on Discord and `remedybot discord register-commands`, against a tiny stand-in
//! for Discord's REST API (one catch-all route that records requests and answers from a
//! table), which makes the permission edge cases here (a server whose REST calls fail, a
//! thread Discord lists only by id) one line each. The same command through the gateway
//! against the full fake Discord, which checks what is sent against Discord's rules, is in
//! `tests/discord_gateway.rs`.

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{Method, StatusCode, Uri};
use axum::response::IntoResponse;
use chrono::Utc;
use serde_json::{Value, json};

use common::TestDb;
use remedybot::app::{App, IngestOptions};
use remedybot::chat::delivery::Platform;
use remedybot::chat::discord::commands_def;
use remedybot::chat::discord::inbound::commands::handle;
use remedybot::config::Secret;
use remedybot::domain::{Actor, FindingId, Severity, Source};
use remedybot::store::ChatMessage;

const GUILD: &str = "7";
/// A server whose REST calls fail.
const BROKEN_GUILD: &str = "8";
const OPEN: &str = "500";
const PRIVATE: &str = "501";
const DEV_ROLE: &str = "300";
/// A thread in the private channel (not in the server's channel list).
const THREAD: &str = "600";
const TOKEN: &str = "interaction-token";
const VIEW_CHANNEL: u64 = 1 << 10;

/// One request the stub received.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    body: Value,
}

#[derive(Clone, Default)]
struct Stub {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Stub {
    async fn start() -> (Stub, String) {
        let stub = Stub::default();
        let s = stub.clone();
        let app = Router::new().fallback(move |method: Method, uri: Uri, body: Bytes| {
            let s = s.clone();
            async move { s.answer(method, uri.path().to_string(), &body) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (stub, url)
    }

    fn answer(&self, method: Method, path: String, body: &[u8]) -> axum::response::Response {
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        self.seen.lock().unwrap().push(Seen {
            method: method.clone(),
            path: path.clone(),
            body: body.clone(),
        });
        let p = path.trim_start_matches("/api/v10");
        let everyone_hidden =
            json!({"id": GUILD, "type": 0, "allow": "0", "deny": VIEW_CHANNEL.to_string()});
        let dev_allowed =
            json!({"id": DEV_ROLE, "type": 0, "allow": VIEW_CHANNEL.to_string(), "deny": "0"});
        let (status, reply) = match (method.as_str(), p) {
            (_, p) if p.starts_with(&format!("/guilds/{BROKEN_GUILD}")) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"message": "boom", "code": 0}),
            ),
            ("GET", "/guilds/7") => (StatusCode::OK, json!({"id": GUILD, "owner_id": "1"})),
            ("GET", "/guilds/7/roles") => (
                StatusCode::OK,
                json!([
                    {"id": GUILD, "name": "@everyone", "permissions": VIEW_CHANNEL.to_string()},
                    {"id": DEV_ROLE, "name": "dev", "permissions": "0"}
                ]),
            ),
            ("GET", "/guilds/7/channels") => (
                StatusCode::OK,
                json!([
                    {"id": OPEN, "type": 0, "permission_overwrites": []},
                    {"id": PRIVATE, "type": 0, "permission_overwrites": [everyone_hidden, dev_allowed]}
                ]),
            ),
            ("GET", "/channels/600") => (
                StatusCode::OK,
                json!({"id": THREAD, "type": 11, "guild_id": GUILD, "parent_id": PRIVATE}),
            ),
            ("PATCH", p) if p.starts_with("/webhooks/") => (StatusCode::OK, json!({"id": "1"})),
            ("PUT", p) if p.starts_with("/applications/") => {
                let mut cmds = body.clone();
                for (i, c) in cmds.as_array_mut().unwrap().iter_mut().enumerate() {
                    c["id"] = json!(format!("90{i}"));
                }
                (StatusCode::OK, cmds)
            }
            _ => (
                StatusCode::NOT_FOUND,
                json!({"message": "Unknown Channel", "code": 10003}),
            ),
        };
        (status, axum::Json(reply)).into_response()
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn gets(&self) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == Method::GET)
            .count()
    }
}

struct Harness {
    app: App,
    stub: Stub,
    _db: TestDb,
}

async fn harness() -> Harness {
    let (stub, url) = Stub::start().await;
    let db = TestDb::sqlite();
    let mut settings = db.settings();
    settings.discord.bot_token = Some(Secret::new("bot-token"));
    settings.discord.api_url = url;
    settings.discord.application_id = Some(1);
    let app = db.app_with(settings).await;
    Harness { app, stub, _db: db }
}

impl Harness {
    /// A finding whose Discord thread is in `channel`.
    async fn finding_in(&self, i: usize, channel: Option<&str>) -> FindingId {
        let anchor = channel.map(|c| {
            let message = ChatMessage {
                channel: c.into(),
                message_ref: format!("m{i}"),
            };
            (Platform::Discord, message)
        });
        let options = IngestOptions {
            anchor,
            ..IngestOptions::default()
        };
        let f = common::finding(i, Severity::High);
        let out = self
            .app
            .ingest_with(vec![f], &options, &Actor::system(), Source::Cli, Utc::now())
            .await
            .unwrap();
        out.findings[0].id
    }

    /// `/remedy SUB OPTIONS` by user 42 with `roles` in `guild`: the interaction response.
    async fn remedy(&self, guild: &str, roles: &[&str], sub: &str, options: Value) -> Value {
        let interaction = json!({
            "type": 2,
            "id": "786008729715212338",
            "application_id": "1",
            "token": TOKEN,
            "guild_id": guild,
            "channel_id": OPEN,
            "member": {
                "user": {"id": "42", "username": "ann"},
                "roles": roles,
                "permissions": "2147483647",
            },
            "data": {
                "id": "771825006014889984",
                "name": "remedy",
                "type": 1,
                "options": [{"type": 1, "name": sub, "options": options}],
            },
        });
        let discord = self.app.discord.as_ref().unwrap();
        handle(&self.app, discord, &interaction, Utc::now())
            .await
            .unwrap()
    }

    async fn settle(&self) {
        self.app.discord.as_ref().unwrap().settle().await;
    }

    /// The bodies of the deferred answers sent so far.
    fn edits(&self) -> Vec<Value> {
        self.stub
            .seen()
            .into_iter()
            .filter(|s| s.method == Method::PATCH)
            .inspect(|s| {
                assert_eq!(
                    s.path,
                    format!("/api/v10/webhooks/1/{TOKEN}/messages/@original")
                )
            })
            .map(|s| s.body)
            .collect()
    }
}

fn description(message: &Value) -> String {
    message["embeds"][0]["description"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn help_is_answered_at_once_without_asking_discord() {
    let h = harness().await;
    let r = h.remedy(GUILD, &[], "help", json!([])).await;
    assert_eq!(r["type"], 4);
    assert_eq!(r["data"]["flags"], 64);
    assert_eq!(r["data"]["allowed_mentions"], json!({"parse": []}));
    let text = description(&r["data"]);
    assert!(
        text.contains("`/remedy backlog [severity:high] [owner:@someone]`"),
        "{text}"
    );
    assert!(
        text.contains("`/remedy assign id:F-1042 user:@someone`"),
        "{text}"
    );
    let stats = h.remedy(GUILD, &[], "stats", json!([])).await;
    assert_eq!(stats["type"], 4);
    assert!(description(&stats["data"]).contains("Open: **0**"));
    assert!(h.stub.seen().is_empty());
}

#[tokio::test]
async fn a_backlog_is_deferred_then_answered_from_the_cache_with_only_visible_findings() {
    let h = harness().await;
    let open = h.finding_in(1, Some(OPEN)).await;
    let private = h.finding_in(2, Some(PRIVATE)).await;
    let threadless = h.finding_in(3, None).await;

    // Not cached: deferred, ephemeral; the answer edits the original response.
    let r = h.remedy(GUILD, &[], "backlog", json!([])).await;
    assert_eq!(r, json!({"type": 5, "data": {"flags": 64}}));
    h.settle().await;
    let edits = h.edits();
    assert_eq!(edits.len(), 1);
    let text = description(&edits[0]);
    assert!(text.contains(&format!("**{open}**")), "{text}");
    assert!(!text.contains(&private.to_string()), "{text}");
    assert!(!text.contains(&threadless.to_string()), "{text}");
    assert_eq!(edits[0]["allowed_mentions"], json!({"parse": []}));
    assert_eq!(edits[0]["content"], "Open findings: 1");
    assert_eq!(h.stub.gets(), 3, "server, roles, channels");

    // Cached: answered at once, no new calls; the dev role sees the private channel too.
    let r = h
        .remedy(
            GUILD,
            &[DEV_ROLE],
            "backlog",
            json!([{"type": 3, "name": "severity", "value": "high"}]),
        )
        .await;
    assert_eq!(r["type"], 4);
    assert_eq!(r["data"]["flags"], 64);
    assert_eq!(r["data"]["content"], "Open findings: 2");
    assert_eq!(h.stub.gets(), 3);
    assert_eq!(h.edits().len(), 1);
}

#[tokio::test]
async fn show_and_assign_respect_visibility_and_record_the_discord_user() {
    let h = harness().await;
    let private = h.finding_in(2, Some(PRIVATE)).await;
    let id = json!([{"type": 3, "name": "id", "value": private.to_string()}]);
    // Warm the cache (deferred), then every answer is immediate.
    h.remedy(GUILD, &[], "show", id.clone()).await;
    h.settle().await;
    assert!(
        description(&h.edits()[0]).contains("does not exist or is not in a channel you are in")
    );

    let shown = h.remedy(GUILD, &[DEV_ROLE], "show", id.clone()).await;
    assert!(description(&shown["data"]).contains("Finding number 2"));

    let assign = |roles: &'static [&'static str]| {
        h.remedy(
            GUILD,
            roles,
            "assign",
            json!([
                {"type": 3, "name": "id", "value": private.to_string()},
                {"type": 6, "name": "user", "value": "99"}
            ]),
        )
    };
    let hidden = assign(&[]).await;
    assert!(description(&hidden["data"]).contains("is not in a channel you are in"));
    let done = assign(&[DEV_ROLE]).await;
    assert_eq!(
        description(&done["data"]),
        format!("{private} is now owned by <@99>.")
    );
    let again = assign(&[DEV_ROLE]).await;
    assert!(description(&again["data"]).contains("was not reassigned"));
    let f = h.app.store.finding(private).await.unwrap().unwrap();
    assert_eq!(f.state.owner.as_deref(), Some("discord:99"));
    let trail = h.app.store.trail(private).await.unwrap();
    let last = trail.last().unwrap();
    assert_eq!(
        (last.actor.platform.as_str(), last.actor.id.as_str()),
        ("discord", "42")
    );
    assert_eq!(last.source, "discord");
}

#[tokio::test]
async fn a_finding_in_a_thread_is_seen_by_who_sees_the_parent_channel() {
    let h = harness().await;
    let threaded = h.finding_in(4, Some(THREAD)).await;
    let gone = h.finding_in(5, Some("777")).await;
    let name = |id: FindingId| id.to_string();
    h.remedy(GUILD, &[DEV_ROLE], "backlog", json!([])).await;
    h.settle().await;
    let text = description(&h.edits()[0]);
    assert!(text.contains(&name(threaded)), "{text}");
    assert!(!text.contains(&name(gone)), "{text}");
    let lookups = |h: &Harness| {
        h.stub
            .seen()
            .iter()
            .filter(|s| s.path.starts_with("/api/v10/channels/"))
            .count()
    };
    assert_eq!(lookups(&h), 2, "the thread and the unknown channel");
    let everyone = h.remedy(GUILD, &[], "backlog", json!([])).await;
    assert_eq!(everyone["type"], 4);
    assert!(!description(&everyone["data"]).contains(&name(threaded)));
    assert_eq!(lookups(&h), 2, "both remembered");
}

#[tokio::test]
async fn nothing_is_shown_when_discord_cannot_say_who_sees_what() {
    let h = harness().await;
    h.finding_in(1, Some(OPEN)).await;
    let r = h.remedy(BROKEN_GUILD, &[], "backlog", json!([])).await;
    assert_eq!(r["type"], 5);
    h.settle().await;
    let text = description(&h.edits()[0]);
    assert!(
        text.contains("could not check which channels you can see"),
        "{text}"
    );
    assert!(!text.contains("Finding number 1"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn register_commands_overwrites_the_servers_commands_and_says_what_it_did() {
    let (stub, url) = Stub::start().await;
    let run = |args: &'static [&'static str], token: Option<&'static str>| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_remedybot"));
            cmd.args(args)
                .env_remove("REMEDYBOT_CONFIG")
                .env_remove("DISCORD_BOT_TOKEN")
                .env("DISCORD_API_URL", url)
                .env("DISCORD_APPLICATION_ID", "1");
            if let Some(t) = token {
                cmd.env("DISCORD_BOT_TOKEN", t);
            }
            cmd.output().unwrap()
        })
    };
    let out = run(
        &["discord", "register-commands", "--guild", GUILD],
        Some("bot-token"),
    )
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("registered /remedy (id 900) in server 7 for application 1: backlog, mine"),
        "{stdout}"
    );
    let global = run(
        &["discord", "register-commands", "--global"],
        Some("bot-token"),
    )
    .await
    .unwrap();
    assert!(String::from_utf8_lossy(&global.stdout).contains("globally"));
    let puts: Vec<Seen> = stub
        .seen()
        .into_iter()
        .filter(|s| s.method == Method::PUT)
        .collect();
    assert_eq!(puts.len(), 2);
    assert_eq!(puts[0].path, "/api/v10/applications/1/guilds/7/commands");
    assert_eq!(puts[1].path, "/api/v10/applications/1/commands");
    assert_eq!(puts[0].body, commands_def::commands());

    let missing = run(&["discord", "register-commands"], None).await.unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("DISCORD_BOT_TOKEN is not set"));
}
