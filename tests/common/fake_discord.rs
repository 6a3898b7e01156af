//! A fake Discord for the integration tests: the REST API (`/api/v10/...`) over HTTP and the
//! gateway over a websocket, both on random loopback ports, with state (messages with edit
//! history, threads, DM channels, interaction responses and follow-ups, application commands,
//! guild data for visibility checks), call recording, contract checks (message/embed/component
//! limits, `allowed_mentions`, modal rules, required properties and lengths from Discord's
//! OpenAPI spec) and scriptable faults (429, 5xx, slow answers, Discord error codes).
//!
//! Point serenity at it with [`FakeDiscord::http`] or
//! `HttpBuilder::new(token).proxy(fake.url()).ratelimiter_disabled(true).build()`: serenity
//! replaces the `https://discord.com` origin with the proxy, so requests arrive as
//! `/api/v10/...`. `GET /api/v10/gateway` hands out the fake's websocket URL
//! (`ws://127.0.0.1:PORT/ws`), so `ClientBuilder::new_with_http` connects to the fake gateway
//! (serenity appends `?v=10`; it asks for no transport compression, and the fake sends plain
//! text frames, which serenity accepts even though its Identify says `compress: true`).
//!
//! Route kinds (for [`FakeDiscord::calls_to`], [`FakeDiscord::fail_next`] and
//! [`FakeDiscord::fail_for`]; `"*"` matches every route):
//!
//! | route kind | request |
//! |---|---|
//! | `get_gateway` / `get_gateway_bot` | `GET /gateway`, `GET /gateway/bot` |
//! | `get_current_user` | `GET /users/@me` |
//! | `get_application` | `GET /oauth2/applications/@me`, `GET /applications/@me` |
//! | `create_dm` | `POST /users/@me/channels` |
//! | `get_channel` | `GET /channels/{channel_id}` |
//! | `create_message` | `POST /channels/{channel_id}/messages` |
//! | `list_messages` | `GET /channels/{channel_id}/messages` |
//! | `get_message` / `edit_message` / `delete_message` | `GET`/`PATCH`/`DELETE /channels/{channel_id}/messages/{message_id}` |
//! | `start_thread` | `POST /channels/{channel_id}/messages/{message_id}/threads` |
//! | `callback` | `POST /interactions/{interaction_id}/{token}/callback` |
//! | `create_followup` | `POST /webhooks/{application_id}/{token}` |
//! | `get_original` / `edit_original` / `delete_original` | `.../webhooks/{application_id}/{token}/messages/@original` |
//! | `get_followup` / `edit_followup` / `delete_followup` | `.../webhooks/{application_id}/{token}/messages/{message_id}` |
//! | `get_global_commands` / `bulk_overwrite_global_commands` | `GET`/`PUT /applications/{application_id}/commands` |
//! | `get_guild_commands` / `bulk_overwrite_guild_commands` | `GET`/`PUT /applications/{application_id}/guilds/{guild_id}/commands` |
//! | `get_guild` / `get_roles` / `get_guild_channels` / `get_member` | `GET /guilds/{guild_id}`, `/roles`, `/channels`, `/members/{user_id}` |
//! | `unknown` | anything else (404 + violation) |
//!
//! Authentication: bot routes need `Authorization: Bot {token}` (else 401 + `unauthorized`);
//! `GET /gateway`, interaction callbacks and the webhook routes are authorised by the path
//! (webhook routes must carry [`APPLICATION_ID`]).
//!
//! Checks (each is a [`Violation`]; the call gets 400 `{"code":50035,"message":"Invalid Form
//! Body","errors":{...}}` with Discord's nested `_errors`, or 50006 for an empty message):
//! - message bodies (create, edit, follow-ups, callback 4/7 `data`): `content_too_long`
//!   (2000), `too_many_embeds` (10), `embed_title_too_long` (256),
//!   `embed_description_too_long` (4096), `too_many_embed_fields` (25),
//!   `embed_field_name_too_long` (256), `embed_field_value_too_long` (1024),
//!   `embed_footer_too_long` (2048), `embed_author_name_too_long` (256),
//!   `embed_total_too_long` (6000 over all embeds), `too_many_action_rows` (5),
//!   `not_an_action_row`, `too_many_buttons` (5), `select_not_alone`, `custom_id_too_long`
//!   (100), `duplicate_custom_id`, `button_label_too_long` (80), `link_button_invalid`,
//!   `button_missing_custom_id`, `empty_message`;
//! - mentions: `missing_allowed_mentions` (on every create/edit), `allowed_mentions_too_broad`
//!   (`parse` other than `users`, or a `roles` list), `allowed_mentions_conflict`,
//!   `broadcast_mention` (`@everyone`/`@here` in content without `allowed_mentions`);
//! - threads: `thread_name_invalid` (1..=100); a second thread on a message is Discord's
//!   plain 400 `160004` (no violation); unknown message → 404 `10008`;
//! - interaction callbacks: modal rules (`modal_title_invalid` 1..=45, `custom_id_too_long`,
//!   `modal_component_count` 1..=5, `modal_row_invalid` (a row holds exactly one text input;
//!   label components (type 18) and text displays (type 10) are accepted),
//!   `modal_label_too_long`, `text_input_label_too_long` (45), `text_input_value_too_long`
//!   (4000)); for interactions built here: `interaction_already_acknowledged` (400 40060),
//!   `interaction_timeout` (404 10062 after [`FakeDiscord::set_interaction_deadline`], 3 s by
//!   default), `modal_from_modal`, `update_without_message`;
//! - commands: `command_name_invalid`, `command_description_invalid`,
//!   `duplicate_command_name`;
//! - `openapi_schema`: required properties, enums/consts, string lengths and array sizes of
//!   the request body schema in `corpus/discord/openapi/openapi.json` for create/edit message,
//!   start thread, create DM, interaction callback, webhook follow-ups and command overwrites;
//! - `unknown_route`, `unauthorized`, `unknown_webhook`, `unsupported_body` (multipart is not
//!   parsed), `invalid_limit`; gateway: `gateway_auth`, `gateway_url`, `gateway_binary_frame`.
//!
//! Gateway (`ws://127.0.0.1:PORT/ws`): Hello (op 10, [`FakeDiscord::set_heartbeat_interval`])
//! → Identify (op 2; wrong token → close 4004; twice → 4005) → READY (seq 1; user, unavailable
//! guild stubs, session_id, resume_gateway_url, application) → one GUILD_CREATE per configured
//! guild. Heartbeats (op 1) get op 11. Resume (op 6) replays the events after the client's seq
//! and sends RESUMED; an unknown session gets op 9 `false`. Hooks:
//! [`FakeDiscord::dispatch`], [`FakeDiscord::gateway_reconnect`] (op 7),
//! [`FakeDiscord::gateway_invalid_session`], [`FakeDiscord::gateway_close`],
//! [`FakeDiscord::gateway_drop`].
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// The bot token the fake expects by default (`Authorization: Bot {BOT_TOKEN}`).
pub const BOT_TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GfAkE0.fake-discord-bot-token-for-tests";
/// Application id; like on Discord for modern bots, the bot user has the same id.
pub const APPLICATION_ID: u64 = 1_234_567_890_123_456_789;
pub const BOT_USER_ID: u64 = APPLICATION_ID;
pub const BOT_NAME: &str = "remedybot";
/// The application's owner (the corpus' "Mason").
pub const OWNER_ID: u64 = 53_908_232_506_183_680;
/// The guild builders use when a channel's guild is not configured.
pub const DEFAULT_GUILD_ID: u64 = 290_926_798_626_357_999;
pub const DEFAULT_HEARTBEAT_MS: u64 = 41_250;
/// Discord's epoch (2015-01-01) in unix milliseconds, for snowflakes.
pub const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;
/// `flags & EPHEMERAL`.
pub const EPHEMERAL: u64 = 1 << 6;
/// IS_COMPONENTS_V2 message flag.
pub const COMPONENTS_V2: u64 = 1 << 15;

const SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/discord/openapi/openapi.json"
);

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

/// A scripted failure.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// HTTP 429 with `Retry-After`, `X-RateLimit-Remaining: 0`, `X-RateLimit-Scope: user`
    /// and body `{"message":"You are being rate limited.","retry_after":0.5,"global":false}`.
    RateLimited { retry_after: Duration },
    /// That HTTP status with body `{"message":"500: Internal Server Error","code":0}`.
    ServerError(u16),
    /// Sleep, then answer normally.
    Slow(Duration),
    /// A Discord error: `status` with `{"message":message,"code":code}`, e.g.
    /// `403 50001 Missing Access`, `404 10003 Unknown Channel`.
    Error {
        status: u16,
        code: u64,
        message: String,
    },
}

impl Fault {
    pub fn rate_limited_secs(secs: f64) -> Fault {
        Fault::RateLimited {
            retry_after: Duration::from_secs_f64(secs),
        }
    }
    pub fn missing_access() -> Fault {
        Fault::Error {
            status: 403,
            code: 50001,
            message: "Missing Access".into(),
        }
    }
    pub fn missing_permissions() -> Fault {
        Fault::Error {
            status: 403,
            code: 50013,
            message: "Missing Permissions".into(),
        }
    }
    pub fn unknown_channel() -> Fault {
        Fault::Error {
            status: 404,
            code: 10003,
            message: "Unknown Channel".into(),
        }
    }
    pub fn unknown_message() -> Fault {
        Fault::Error {
            status: 404,
            code: 10008,
            message: "Unknown Message".into(),
        }
    }
    pub fn unknown_interaction() -> Fault {
        Fault::Error {
            status: 404,
            code: 10062,
            message: "Unknown interaction".into(),
        }
    }
}

/// One recorded REST call.
#[derive(Clone, Debug)]
pub struct Call {
    /// Order of arrival.
    pub seq: u64,
    /// Route kind, e.g. `create_message` (see the module docs).
    pub route: String,
    /// HTTP method.
    pub method: String,
    /// Full path, e.g. `/api/v10/channels/1/messages`.
    pub path: String,
    /// Path parameters by name: `channel_id`, `message_id`, `guild_id`, `user_id`,
    /// `application_id`, `interaction_id`, `token`.
    pub params: BTreeMap<String, String>,
    /// Query parameters (serenity writes `?&limit=50`; the empty pair is skipped).
    pub query: BTreeMap<String, String>,
    /// The JSON body (`Null` when empty; a string when not JSON).
    pub body: Value,
    pub authorization: Option<String>,
    pub user_agent: Option<String>,
    pub content_type: Option<String>,
    pub audit_log_reason: Option<String>,
    pub at: Instant,
    /// HTTP status returned.
    pub status: u16,
    /// Body returned (`Null` for 204).
    pub response: Value,
    /// The fault injected into this call, if any.
    pub fault: Option<Fault>,
}

impl Call {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
    pub fn param_u64(&self, name: &str) -> Option<u64> {
        self.param(name).and_then(|s| s.parse().ok())
    }
    pub fn channel_id(&self) -> Option<u64> {
        self.param_u64("channel_id")
    }
    /// Discord's error code in the response, if any.
    pub fn error_code(&self) -> Option<u64> {
        self.response["code"].as_u64()
    }
    /// `flags & 64` of the body (or of `data` for interaction callbacks).
    pub fn ephemeral(&self) -> bool {
        let flags = self.body["flags"]
            .as_u64()
            .or_else(|| self.body["data"]["flags"].as_u64())
            .unwrap_or(0);
        flags & EPHEMERAL != 0
    }
}

/// A broken contract: the call was answered with a Discord error and recorded here.
#[derive(Clone, Debug)]
pub struct Violation {
    pub call_seq: u64,
    pub route: String,
    /// Short rule name, e.g. `content_too_long`, `missing_allowed_mentions`,
    /// `too_many_action_rows`, `custom_id_too_long`, `unauthorized`, `unknown_route`,
    /// `openapi_schema`.
    pub rule: String,
    pub detail: String,
    pub body: Value,
}

/// Who wrote a stored message.
#[derive(Clone, Debug, PartialEq)]
pub struct Author {
    pub id: u64,
    pub name: String,
    pub bot: bool,
}

/// A message as the fake stores it (current state; older versions in `edits`).
#[derive(Clone, Debug)]
pub struct StoredMessage {
    pub id: u64,
    pub channel_id: u64,
    pub author: Author,
    pub content: String,
    /// JSON array as sent (each embed gets `"type":"rich"`).
    pub embeds: Value,
    /// JSON array as sent.
    pub components: Value,
    pub flags: u64,
    /// The `allowed_mentions` of the last create/edit (`None` when absent).
    pub allowed_mentions: Option<Value>,
    pub timestamp: String,
    pub edited_timestamp: Option<String>,
    /// Previous versions, oldest first (the message JSON before each edit).
    pub edits: Vec<Value>,
    /// Set for interaction responses and follow-ups.
    pub interaction_token: Option<String>,
    /// The original interaction response (`@original`).
    pub original_response: bool,
    pub deleted: bool,
}

impl StoredMessage {
    pub fn ephemeral(&self) -> bool {
        self.flags & EPHEMERAL != 0
    }
    pub fn edit_count(&self) -> usize {
        self.edits.len()
    }
    /// Every `custom_id` in the components, depth first.
    pub fn custom_ids(&self) -> Vec<String> {
        let mut out = Vec::new();
        collect_custom_ids(&self.components, &mut out);
        out
    }
}

/// A thread started from a message (its id is the message id).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredThread {
    pub id: u64,
    pub parent_id: u64,
    pub guild_id: u64,
    pub name: String,
    pub owner_id: u64,
    pub auto_archive_duration: u64,
    pub rate_limit_per_user: Option<u64>,
}

/// An interaction response (`POST /interactions/{id}/{token}/callback`).
#[derive(Clone, Debug)]
pub struct Callback {
    pub interaction_id: u64,
    pub token: String,
    /// 1 pong, 4 message, 5 deferred message, 6 deferred update, 7 update message,
    /// 8 autocomplete, 9 modal.
    pub kind: u64,
    pub data: Value,
    pub ephemeral: bool,
    pub at: Instant,
    /// Time since the fake built the interaction (None for interactions it did not build).
    pub latency: Option<Duration>,
    /// Whether the fake accepted it (2xx).
    pub accepted: bool,
}

/// A permission overwrite on a guild channel.
#[derive(Clone, Debug, PartialEq)]
pub struct PermOverwrite {
    pub id: u64,
    /// 0 = role, 1 = member.
    pub kind: u8,
    pub allow: u64,
    pub deny: u64,
}

impl PermOverwrite {
    pub fn role(id: u64, allow: u64, deny: u64) -> PermOverwrite {
        PermOverwrite {
            id,
            kind: 0,
            allow,
            deny,
        }
    }
    pub fn member(id: u64, allow: u64, deny: u64) -> PermOverwrite {
        PermOverwrite {
            id,
            kind: 1,
            allow,
            deny,
        }
    }
    fn json(&self) -> Value {
        json!({"id": self.id.to_string(), "type": self.kind,
               "allow": self.allow.to_string(), "deny": self.deny.to_string()})
    }
}

/// An Identify (op 2) received on the gateway.
#[derive(Clone, Debug)]
pub struct Identify {
    pub connection_id: u64,
    pub token: String,
    pub intents: u64,
    pub compress: Option<bool>,
    pub shard: Option<Value>,
    pub raw: Value,
}

// ---------------------------------------------------------------------------------------
// Internal state
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct FaultRule {
    route: String,
    channel: Option<u64>,
    remaining: Option<u32>,
    until: Option<Instant>,
    fault: Fault,
}

#[derive(Clone, Debug)]
struct ChannelInfo {
    guild_id: u64,
    name: String,
    /// 0 text, 1 DM, 11 public thread.
    kind: u8,
    overwrites: Vec<PermOverwrite>,
    recipient: Option<u64>,
    parent_id: Option<u64>,
}

#[derive(Clone, Debug)]
struct GuildInfo {
    owner_id: u64,
    name: String,
    /// role id → (name, permissions), in insertion order.
    roles: Vec<(u64, String, u64)>,
    /// channel ids in insertion order.
    channels: Vec<u64>,
    /// user id → (name, roles).
    members: BTreeMap<u64, (String, Vec<u64>)>,
}

#[derive(Clone, Debug)]
struct InteractionInfo {
    id: u64,
    kind: u64,
    channel_id: u64,
    guild_id: u64,
    message_id: Option<u64>,
    created: Instant,
    acknowledged: bool,
}

enum WsCommand {
    Send(String),
    Close(u16, String),
    Drop,
}

struct GatewayConn {
    id: u64,
    tx: mpsc::UnboundedSender<WsCommand>,
    session_id: Option<String>,
}

struct GatewaySession {
    session_id: String,
    seq: u64,
    /// (seq, frame) for resumes.
    events: Vec<(u64, String)>,
}

struct State {
    token: String,
    ws_url: String,
    calls: Vec<Call>,
    violations: Vec<Violation>,
    messages: Vec<StoredMessage>,
    /// `(channel, nonce)` → message id, for `enforce_nonce` creates.
    nonces: HashMap<(u64, String), u64>,
    threads: Vec<StoredThread>,
    channels: BTreeMap<u64, ChannelInfo>,
    guilds: BTreeMap<u64, GuildInfo>,
    dm_channels: BTreeMap<u64, u64>,
    users: HashMap<u64, String>,
    interactions: HashMap<String, InteractionInfo>,
    interaction_deadline: Duration,
    callbacks: Vec<Callback>,
    commands: HashMap<Option<u64>, Vec<Value>>,
    last_id: u64,
    faults: Vec<FaultRule>,
    limit: Option<(u32, Duration)>,
    accepted: HashMap<u64, Vec<Instant>>,
    heartbeat_ms: u64,
    gw_conns: Vec<GatewayConn>,
    gw_connections_total: u64,
    gw_sessions: Vec<GatewaySession>,
    gw_received: Vec<Value>,
    gw_sent: Vec<Value>,
    gw_identifies: Vec<Identify>,
    gw_resumes: Vec<Value>,
    gw_heartbeats: u64,
    gw_request_uris: Vec<String>,
}

struct Inner {
    state: Mutex<State>,
    seq: AtomicU64,
    ws_addr: SocketAddr,
    tasks: Mutex<Vec<AbortHandle>>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.ws_addr)
    }
}

/// The fake Discord. Shuts down (aborts its tasks) on drop.
pub struct FakeDiscord {
    inner: Arc<Inner>,
    addr: SocketAddr,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        let tasks =
            std::mem::take(&mut *self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        for t in tasks {
            t.abort();
        }
        self.inner.lock().gw_conns.clear();
    }
}

// ---------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------

impl FakeDiscord {
    /// Start with [`BOT_TOKEN`].
    pub async fn start() -> FakeDiscord {
        FakeDiscord::start_with_token(BOT_TOKEN).await
    }

    /// Bind REST and the gateway on `127.0.0.1:0`; `token` is the bot token without `Bot `.
    pub async fn start_with_token(token: &str) -> FakeDiscord {
        spec(); // load (and fail loudly) before any test traffic
        let http = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake discord http");
        let ws = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake discord gateway");
        let addr = http.local_addr().unwrap();
        let ws_addr = ws.local_addr().unwrap();
        let state = State {
            token: token.trim_start_matches("Bot ").to_string(),
            ws_url: format!("ws://{ws_addr}/ws"),
            calls: Vec::new(),
            violations: Vec::new(),
            messages: Vec::new(),
            nonces: HashMap::new(),
            threads: Vec::new(),
            channels: BTreeMap::new(),
            guilds: BTreeMap::new(),
            dm_channels: BTreeMap::new(),
            users: HashMap::new(),
            interactions: HashMap::new(),
            interaction_deadline: Duration::from_secs(3),
            callbacks: Vec::new(),
            commands: HashMap::new(),
            last_id: 0,
            faults: Vec::new(),
            limit: None,
            accepted: HashMap::new(),
            heartbeat_ms: DEFAULT_HEARTBEAT_MS,
            gw_conns: Vec::new(),
            gw_connections_total: 0,
            gw_sessions: Vec::new(),
            gw_received: Vec::new(),
            gw_sent: Vec::new(),
            gw_identifies: Vec::new(),
            gw_resumes: Vec::new(),
            gw_heartbeats: 0,
            gw_request_uris: Vec::new(),
        };
        let inner = Arc::new(Inner {
            state: Mutex::new(state),
            seq: AtomicU64::new(1),
            ws_addr,
            tasks: Mutex::new(Vec::new()),
        });
        let router = axum::Router::new()
            .fallback(handle_http)
            .with_state(inner.clone());
        let http_task = tokio::spawn(async move {
            let _ = axum::serve(http, router).await;
        });
        let ws_inner = inner.clone();
        let ws_task = tokio::spawn(async move { accept_ws(ws, ws_inner).await });
        {
            let mut tasks = inner.tasks.lock().unwrap();
            tasks.push(http_task.abort_handle());
            tasks.push(ws_task.abort_handle());
        }
        FakeDiscord { inner, addr }
    }

    /// The origin to give serenity as proxy: `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/api/v10`.
    pub fn api_url(&self) -> String {
        format!("http://{}/api/v10", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:PORT/ws` (what `GET /gateway` returns).
    pub fn gateway_url(&self) -> String {
        self.inner.ws_url()
    }

    /// The bot token (without `Bot `).
    pub fn token(&self) -> String {
        self.inner.lock().token.clone()
    }

    pub fn bot_user_id(&self) -> u64 {
        BOT_USER_ID
    }

    pub fn application_id(&self) -> u64 {
        APPLICATION_ID
    }

    /// A serenity `HttpBuilder` pointed at the fake (proxy, ratelimiter off, application id
    /// set), e.g. for `ClientBuilder::new_with_http(fake.http_builder().build(), intents)`.
    pub fn http_builder(&self) -> serenity::http::HttpBuilder {
        serenity::http::HttpBuilder::new(self.token())
            .proxy(self.url())
            .ratelimiter_disabled(true)
            .application_id(serenity::model::id::ApplicationId::new(APPLICATION_ID))
    }

    /// A serenity `Http` pointed at the fake (see [`FakeDiscord::http_builder`]).
    pub fn http(&self) -> Arc<serenity::http::Http> {
        Arc::new(self.http_builder().build())
    }

    // ----- recording -----

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        let mut v = self.inner.lock().calls.clone();
        v.sort_by_key(|c| c.seq);
        v
    }

    pub fn calls_to(&self, route: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| route == "*" || c.route == route)
            .collect()
    }

    pub fn clear_calls(&self) {
        self.inner.lock().calls.clear();
    }

    pub fn violations(&self) -> Vec<Violation> {
        self.inner.lock().violations.clone()
    }

    pub fn clear_violations(&self) {
        self.inner.lock().violations.clear();
    }

    /// Panic with a readable list when any contract violation was recorded.
    pub fn assert_no_violations(&self) {
        let v = self.violations();
        assert!(
            v.is_empty(),
            "fake Discord recorded {} violation(s):\n{}",
            v.len(),
            v.iter()
                .map(|v| format!("  {} [{}]: {}", v.route, v.rule, v.detail))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    // ----- state inspection -----

    /// Current (after edits) non-deleted, non-ephemeral messages of a channel (or thread), in
    /// post order. Interaction responses posted in a known channel are included.
    pub fn messages(&self, channel: u64) -> Vec<StoredMessage> {
        self.inner
            .lock()
            .messages
            .iter()
            .filter(|m| m.channel_id == channel && !m.deleted && !m.ephemeral())
            .cloned()
            .collect()
    }

    /// A stored message (deleted and ephemeral ones included).
    pub fn message(&self, channel: u64, id: u64) -> Option<StoredMessage> {
        self.inner
            .lock()
            .messages
            .iter()
            .find(|m| m.channel_id == channel && m.id == id)
            .cloned()
    }

    /// The thread started from `message_id` (thread id == message id).
    pub fn thread_of(&self, message_id: u64) -> Option<StoredThread> {
        self.inner
            .lock()
            .threads
            .iter()
            .find(|t| t.id == message_id)
            .cloned()
    }

    pub fn threads(&self) -> Vec<StoredThread> {
        self.inner.lock().threads.clone()
    }

    /// Interaction responses, in arrival order (rejected ones included, `accepted == false`).
    pub fn callbacks(&self) -> Vec<Callback> {
        self.inner.lock().callbacks.clone()
    }

    /// Messages created through interaction webhooks (`@original` and follow-ups, ephemeral
    /// ones included), in creation order.
    pub fn followups(&self) -> Vec<StoredMessage> {
        self.inner
            .lock()
            .messages
            .iter()
            .filter(|m| m.interaction_token.is_some())
            .cloned()
            .collect()
    }

    /// The current command set: global (`None`) or of a guild, as returned by Discord.
    pub fn commands(&self, guild: Option<u64>) -> Vec<Value> {
        self.inner
            .lock()
            .commands
            .get(&guild)
            .cloned()
            .unwrap_or_default()
    }

    /// DM channel id opened for a user, if any.
    pub fn dm_channel_of(&self, user: u64) -> Option<u64> {
        self.inner.lock().dm_channels.get(&user).copied()
    }

    // ----- state setup -----

    /// Create (or rename the owner of) a guild; it gets an `@everyone` role (id == guild id)
    /// with Discord's default permissions.
    pub fn set_guild(&self, guild_id: u64, owner_id: u64) {
        let mut st = self.inner.lock();
        let g = st.guild_mut(guild_id);
        g.owner_id = owner_id;
    }

    /// Add or replace a role (`role_id == guild_id` sets `@everyone`).
    pub fn add_role(&self, guild_id: u64, role_id: u64, permissions: u64) {
        let mut st = self.inner.lock();
        let g = st.guild_mut(guild_id);
        let name = if role_id == guild_id {
            "@everyone".to_string()
        } else {
            format!("role-{role_id}")
        };
        if let Some(r) = g.roles.iter_mut().find(|r| r.0 == role_id) {
            r.2 = permissions;
        } else {
            g.roles.push((role_id, name, permissions));
        }
    }

    /// Add or replace a guild text channel with its permission overwrites.
    pub fn add_channel(
        &self,
        guild_id: u64,
        channel_id: u64,
        name: &str,
        overwrites: &[PermOverwrite],
    ) {
        let mut st = self.inner.lock();
        let g = st.guild_mut(guild_id);
        if !g.channels.contains(&channel_id) {
            g.channels.push(channel_id);
        }
        st.channels.insert(
            channel_id,
            ChannelInfo {
                guild_id,
                name: name.to_string(),
                kind: 0,
                overwrites: overwrites.to_vec(),
                recipient: None,
                parent_id: None,
            },
        );
    }

    /// Add or replace a guild member (name and role ids).
    pub fn set_member(&self, guild_id: u64, user_id: u64, name: &str, roles: &[u64]) {
        let mut st = self.inner.lock();
        st.users.insert(user_id, name.to_string());
        let g = st.guild_mut(guild_id);
        g.members
            .insert(user_id, (name.to_string(), roles.to_vec()));
    }

    /// Store a message from a human (not through the API, not recorded); returns its id.
    pub fn add_user_message(
        &self,
        channel: u64,
        author_id: u64,
        author_name: &str,
        content: &str,
    ) -> u64 {
        let mut st = self.inner.lock();
        let id = st.next_id();
        st.messages.push(StoredMessage {
            id,
            channel_id: channel,
            author: Author {
                id: author_id,
                name: author_name.to_string(),
                bot: false,
            },
            content: content.to_string(),
            embeds: json!([]),
            components: json!([]),
            flags: 0,
            allowed_mentions: None,
            timestamp: snowflake_timestamp(id),
            edited_timestamp: None,
            edits: Vec::new(),
            interaction_token: None,
            original_response: false,
            deleted: false,
        });
        id
    }

    /// Interactions built by the fake must be answered within this time (default 3 s, like
    /// Discord); later callbacks get 404 `10062 Unknown interaction` and a violation.
    pub fn set_interaction_deadline(&self, deadline: Duration) {
        self.inner.lock().interaction_deadline = deadline;
    }

    /// A fresh snowflake (increasing).
    pub fn next_id(&self) -> u64 {
        self.inner.lock().next_id()
    }

    // ----- faults and rate limits -----

    /// The next `n` calls to `route` (`"*"` = any route) get `fault`.
    pub fn fail_next(&self, route: &str, n: u32, fault: Fault) {
        self.push_fault(route, None, Some(n), None, fault);
    }

    /// The next `n` calls to `route` for `channel` get `fault`.
    pub fn fail_next_in_channel(&self, route: &str, channel: u64, n: u32, fault: Fault) {
        self.push_fault(route, Some(channel), Some(n), None, fault);
    }

    /// Every call to `route` (`"*"` = any) gets `fault` for `duration` from now.
    pub fn fail_for(&self, route: &str, duration: Duration, fault: Fault) {
        self.push_fault(route, None, None, Some(Instant::now() + duration), fault);
    }

    pub fn fail_for_in_channel(&self, route: &str, channel: u64, duration: Duration, fault: Fault) {
        self.push_fault(
            route,
            Some(channel),
            None,
            Some(Instant::now() + duration),
            fault,
        );
    }

    pub fn clear_faults(&self) {
        self.inner.lock().faults.clear();
    }

    fn push_fault(
        &self,
        route: &str,
        channel: Option<u64>,
        remaining: Option<u32>,
        until: Option<Instant>,
        fault: Fault,
    ) {
        self.inner.lock().faults.push(FaultRule {
            route: route.to_string(),
            channel,
            remaining,
            until,
            fault,
        });
    }

    /// `create_message` calls beyond `per_second` per channel get 429 with the right
    /// `retry_after`.
    pub fn limit_per_channel(&self, per_second: u32) {
        self.limit_per_channel_window(per_second, Duration::from_secs(1));
    }

    /// At most `max_calls` accepted `create_message` calls per channel in any sliding `window`.
    pub fn limit_per_channel_window(&self, max_calls: u32, window: Duration) {
        self.inner.lock().limit = Some((max_calls, window));
    }

    pub fn clear_limits(&self) {
        self.inner.lock().limit = None;
    }

    /// Arrival times of the accepted (authenticated, not faulted, not 429'd) `create_message`
    /// calls to `channel`.
    pub fn accepted_times(&self, channel: u64) -> Vec<Instant> {
        self.inner
            .lock()
            .accepted
            .get(&channel)
            .cloned()
            .unwrap_or_default()
    }

    /// The most accepted `create_message` calls to `channel` within any sliding `window`.
    pub fn max_calls_in_window(&self, channel: u64, window: Duration) -> usize {
        let times = self.accepted_times(channel);
        let mut best = 0;
        let mut start = 0;
        for end in 0..times.len() {
            while times[end].duration_since(times[start]) >= window {
                start += 1;
            }
            best = best.max(end - start + 1);
        }
        best
    }

    // ----- gateway -----

    /// Heartbeat interval announced in Hello for new connections (default 41250 ms).
    pub fn set_heartbeat_interval(&self, ms: u64) {
        self.inner.lock().heartbeat_ms = ms;
    }

    /// Send an op 0 dispatch to every identified connection; returns the sequence number used
    /// (the highest, when several sessions are connected; 0 when none is).
    pub fn dispatch(&self, event_name: &str, data: Value) -> u64 {
        let mut st = self.inner.lock();
        let mut last = 0;
        let conns: Vec<(String, mpsc::UnboundedSender<WsCommand>)> = st
            .gw_conns
            .iter()
            .filter_map(|c| c.session_id.clone().map(|s| (s, c.tx.clone())))
            .collect();
        for (sid, tx) in conns {
            let Some(sess) = st.gw_sessions.iter_mut().find(|s| s.session_id == sid) else {
                continue;
            };
            sess.seq += 1;
            let seq = sess.seq;
            let frame = json!({"op": 0, "t": event_name, "s": seq, "d": data.clone()});
            let text = frame.to_string();
            sess.events.push((seq, text.clone()));
            let _ = tx.send(WsCommand::Send(text));
            st.gw_sent.push(frame);
            last = last.max(seq);
        }
        last
    }

    /// Send any frame as-is to every connection.
    pub fn gateway_send_raw(&self, frame: Value) {
        let mut st = self.inner.lock();
        let text = frame.to_string();
        for c in &st.gw_conns {
            let _ = c.tx.send(WsCommand::Send(text.clone()));
        }
        st.gw_sent.push(frame);
    }

    /// Send op 7 Reconnect to every connection (clients should resume).
    pub fn gateway_reconnect(&self) {
        self.gateway_send_raw(json!({"op": 7, "d": null, "s": null, "t": null}));
    }

    /// Send op 9 Invalid Session.
    pub fn gateway_invalid_session(&self, resumable: bool) {
        self.gateway_send_raw(json!({"op": 9, "d": resumable, "s": null, "t": null}));
    }

    /// Close every connection with a close frame (e.g. 4000 unknown error → resume,
    /// 4004 authentication failed).
    pub fn gateway_close(&self, code: u16, reason: &str) {
        let mut st = self.inner.lock();
        for c in st.gw_conns.drain(..) {
            let _ = c.tx.send(WsCommand::Close(code, reason.to_string()));
        }
    }

    /// Drop every connection without a close frame (a network failure).
    pub fn gateway_drop(&self) {
        let mut st = self.inner.lock();
        for c in st.gw_conns.drain(..) {
            let _ = c.tx.send(WsCommand::Drop);
        }
    }

    /// Live websocket connections.
    pub fn connections(&self) -> usize {
        self.inner.lock().gw_conns.len()
    }

    /// Connections accepted since start.
    pub fn connections_total(&self) -> u64 {
        self.inner.lock().gw_connections_total
    }

    pub fn identifies(&self) -> Vec<Identify> {
        self.inner.lock().gw_identifies.clone()
    }

    /// Resume (op 6) payloads received.
    pub fn resumes(&self) -> Vec<Value> {
        self.inner.lock().gw_resumes.clone()
    }

    /// Heartbeats (op 1) received.
    pub fn heartbeats(&self) -> u64 {
        self.inner.lock().gw_heartbeats
    }

    /// Every frame received on the gateway (parsed JSON).
    pub fn gateway_frames_received(&self) -> Vec<Value> {
        self.inner.lock().gw_received.clone()
    }

    /// Every frame sent on the gateway (Hello included).
    pub fn gateway_frames_sent(&self) -> Vec<Value> {
        self.inner.lock().gw_sent.clone()
    }

    /// Request URIs (path and query) of the websocket handshakes, e.g. `/ws?v=10`.
    pub fn gateway_request_uris(&self) -> Vec<String> {
        self.inner.lock().gw_request_uris.clone()
    }

    /// Connections that identified (or resumed) and get dispatches.
    pub fn sessions(&self) -> usize {
        self.inner
            .lock()
            .gw_conns
            .iter()
            .filter(|c| c.session_id.is_some())
            .count()
    }

    /// Wait until a connection has a session (READY or RESUMED sent), so that
    /// [`FakeDiscord::dispatch`] reaches it. Dispatches with no session are dropped, like
    /// events Discord sends while a bot is offline.
    pub async fn wait_for_session(&self, timeout: Duration) -> bool {
        self.wait_until(|f| f.sessions() > 0, timeout).await
    }

    /// Wait for the first Identify.
    pub async fn wait_for_identify(&self, timeout: Duration) -> Option<Identify> {
        self.wait_until(|f| !f.identifies().is_empty(), timeout)
            .await;
        self.identifies().into_iter().next()
    }

    // ----- payload builders -----

    /// A MESSAGE_CREATE payload (shape of the corpus message object, plus `guild_id` and
    /// `member`). The message is stored too (so the bot can fetch it or start a thread).
    pub fn message_create(
        &self,
        channel_id: u64,
        author_id: u64,
        author_name: &str,
        is_bot: bool,
        content: &str,
        embeds: Value,
    ) -> Value {
        let mut st = self.inner.lock();
        let id = st.next_id();
        let guild_id = st.guild_of_channel(channel_id);
        let embeds = if embeds.is_array() { embeds } else { json!([]) };
        let m = StoredMessage {
            id,
            channel_id,
            author: Author {
                id: author_id,
                name: author_name.to_string(),
                bot: is_bot,
            },
            content: content.to_string(),
            embeds: embeds.clone(),
            components: json!([]),
            flags: 0,
            allowed_mentions: None,
            timestamp: snowflake_timestamp(id),
            edited_timestamp: None,
            edits: Vec::new(),
            interaction_token: None,
            original_response: false,
            deleted: false,
        };
        let mut v = st.message_json(&m);
        st.messages.push(m);
        v["guild_id"] = json!(guild_id.to_string());
        v["member"] = st.member_json(guild_id, author_id, false);
        v["mentions"] = mentions_in(content);
        v["nonce"] = json!(id.to_string());
        v
    }

    /// INTERACTION_CREATE data for a button click (corpus `docs_message_component_button_full`
    /// shape) on `message_id` in `channel_id` by `user_id`. The message comes from the store
    /// when the fake knows it. Fresh interaction id and token.
    pub fn button_click(
        &self,
        channel_id: u64,
        message_id: u64,
        user_id: u64,
        custom_id: &str,
    ) -> Value {
        let mut st = self.inner.lock();
        let message = st
            .messages
            .iter()
            .find(|m| m.id == message_id && m.channel_id == channel_id)
            .cloned();
        let message_json = match message {
            Some(m) => st.message_json(&m),
            None => {
                let m = StoredMessage {
                    id: message_id,
                    channel_id,
                    author: st.bot_author(),
                    content: "This is a message with components.".into(),
                    embeds: json!([]),
                    components: json!([{"type": 1, "components": [
                        {"type": 2, "label": "Click me!", "style": 1, "custom_id": custom_id}]}]),
                    flags: 0,
                    allowed_mentions: None,
                    timestamp: snowflake_timestamp(message_id),
                    edited_timestamp: None,
                    edits: Vec::new(),
                    interaction_token: None,
                    original_response: false,
                    deleted: false,
                };
                st.message_json(&m)
            }
        };
        let mut v = st.interaction_base(3, channel_id, user_id, Some(message_id));
        v["message"] = message_json;
        v["data"] = json!({"custom_id": custom_id, "component_type": 2});
        v
    }

    /// INTERACTION_CREATE data of any `kind` (2 command, 3 component, 4 autocomplete,
    /// 5 modal submit) with the common fields filled in (fresh id and token, guild, channel,
    /// member, locale, entitlements...) and `data` as given.
    pub fn interaction(&self, kind: u64, channel_id: u64, user_id: u64, data: Value) -> Value {
        let mut st = self.inner.lock();
        let mut v = st.interaction_base(kind, channel_id, user_id, None);
        v["data"] = data;
        v
    }

    /// A string-select choice (corpus `docs_message_component_string_select` shape) on a
    /// stored (or synthesised) message.
    pub fn string_select(
        &self,
        channel_id: u64,
        message_id: u64,
        user_id: u64,
        custom_id: &str,
        values: &[&str],
    ) -> Value {
        let mut v = self.button_click(channel_id, message_id, user_id, custom_id);
        v["data"] = json!({"custom_id": custom_id, "component_type": 3, "values": values});
        v
    }

    /// The `(interaction id, token)` of a payload built here.
    pub fn interaction_ids(payload: &Value) -> (u64, String) {
        (
            payload["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            payload["token"].as_str().unwrap_or("").to_string(),
        )
    }

    /// INTERACTION_CREATE data for a modal submit (corpus `docs_modal_submit_text_input`
    /// shape): one action row per `(custom_id, value)` text input.
    pub fn modal_submit(
        &self,
        channel_id: u64,
        user_id: u64,
        custom_id: &str,
        values: &[(&str, &str)],
    ) -> Value {
        let mut st = self.inner.lock();
        let mut v = st.interaction_base(5, channel_id, user_id, None);
        let rows: Vec<Value> = values
            .iter()
            .map(|(id, value)| {
                json!({"type": 1, "components": [{"type": 4, "custom_id": id, "value": value}]})
            })
            .collect();
        v["data"] = json!({"custom_id": custom_id, "components": rows});
        v
    }

    /// INTERACTION_CREATE data for a chat-input slash command (corpus
    /// `docs_application_command_chat_input` shape). With `subcommand`, the options are nested
    /// under a type-1 option; option types follow the values (string 3, integer 4, boolean 5,
    /// number 10).
    pub fn slash_command(
        &self,
        channel_id: u64,
        user_id: u64,
        name: &str,
        subcommand: Option<&str>,
        options: &[(&str, Value)],
    ) -> Value {
        let mut st = self.inner.lock();
        let mut v = st.interaction_base(2, channel_id, user_id, None);
        let opts: Vec<Value> = options
            .iter()
            .map(|(n, value)| {
                let kind = match value {
                    Value::Bool(_) => 5,
                    Value::Number(x) if x.is_i64() || x.is_u64() => 4,
                    Value::Number(_) => 10,
                    _ => 3,
                };
                json!({"type": kind, "name": n, "value": value})
            })
            .collect();
        let options = match subcommand {
            Some(sub) => json!([{"type": 1, "name": sub, "options": opts}]),
            None => Value::Array(opts),
        };
        let command_id = st
            .commands
            .values()
            .flatten()
            .find(|c| c["name"] == json!(name))
            .and_then(|c| c["id"].as_str().map(str::to_string))
            .unwrap_or_else(|| "771825006014889984".to_string());
        let guild_id = v["guild_id"].clone();
        v["data"] = json!({"id": command_id, "name": name, "type": 1, "options": options,
                           "guild_id": guild_id, "resolved": {}});
        v
    }

    // ----- waiting -----

    /// Poll `cond` every 10 ms until it holds (true) or `timeout` passes (false).
    pub async fn wait_until(&self, cond: impl Fn(&FakeDiscord) -> bool, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if cond(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Wait until at least `n` calls to `route` were answered; returns the calls so far.
    pub async fn wait_for_calls(&self, route: &str, n: usize, timeout: Duration) -> Vec<Call> {
        self.wait_until(|f| f.calls_to(route).len() >= n, timeout)
            .await;
        self.calls_to(route)
    }

    /// Wait until `channel` has at least `n` messages; returns them.
    pub async fn wait_for_messages(
        &self,
        channel: u64,
        n: usize,
        timeout: Duration,
    ) -> Vec<StoredMessage> {
        self.wait_until(|f| f.messages(channel).len() >= n, timeout)
            .await;
        self.messages(channel)
    }
}

// ---------------------------------------------------------------------------------------
// OpenAPI spec
// ---------------------------------------------------------------------------------------

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(SPEC_PATH)
            .unwrap_or_else(|e| panic!("read Discord OpenAPI spec {SPEC_PATH}: {e}"));
        serde_json::from_str(&text).expect("parse Discord OpenAPI spec")
    })
}

/// The request body schema of an operation (`path` as in the spec, e.g.
/// `/channels/{channel_id}/messages`).
fn request_schema(path: &str, method: &str) -> Option<&'static Value> {
    spec()["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        .as_object()
        .map(|_| &spec()["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"])
}

fn resolve(schema: &Value) -> &Value {
    let mut s = schema;
    for _ in 0..16 {
        match s["$ref"].as_str() {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or("");
                s = &spec()["components"]["schemas"][name];
            }
            None => break,
        }
    }
    s
}

/// A small JSON-schema check: `$ref`, `oneOf`/`anyOf` (any branch), `allOf`, `type`
/// (numeric strings pass as integers, like Discord accepts), `required`, `enum`/`const`,
/// `minLength`/`maxLength` (chars), `minItems`/`maxItems`, `properties`, `items`.
fn check_schema(schema: &Value, v: &Value, path: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 40 {
        return;
    }
    let s = resolve(schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = s[key].as_array() {
            let mut best: Option<Vec<String>> = None;
            for b in branches {
                let mut errs = Vec::new();
                check_schema(b, v, path, &mut errs, depth + 1);
                if errs.is_empty() {
                    best = None;
                    break;
                }
                if best.as_ref().is_none_or(|e| errs.len() < e.len()) {
                    best = Some(errs);
                }
            }
            if let Some(errs) = best {
                // Report the closest branch.
                out.extend(errs);
                return;
            }
        }
    }
    if let Some(all) = s["allOf"].as_array() {
        for b in all {
            check_schema(b, v, path, out, depth + 1);
        }
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(x) => vec![x.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "null" => v.is_null(),
            "string" => v.is_string(),
            "integer" => {
                v.is_i64() || v.is_u64() || v.as_str().is_some_and(|s| s.parse::<i128>().is_ok())
            }
            "number" => v.is_number() || v.as_str().is_some_and(|s| s.parse::<f64>().is_ok()),
            "boolean" => v.is_boolean(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => true,
        });
        if !types.is_empty() && !ok {
            out.push(format!("{path}: expected {types:?}, got {}", short(v)));
            return;
        }
    }
    if let Some(c) = s.get("const")
        && !json_eq_loose(c, v)
    {
        out.push(format!("{path}: must be {c}, got {}", short(v)));
    }
    if let Some(e) = s["enum"].as_array()
        && !e.iter().any(|c| json_eq_loose(c, v))
    {
        out.push(format!(
            "{path}: must be one of {}, got {}",
            Value::Array(e.clone()),
            short(v)
        ));
    }
    match v {
        Value::String(x) => {
            let n = x.chars().count() as u64;
            if let Some(max) = s["maxLength"].as_u64()
                && n > max
            {
                out.push(format!("{path}: {n} chars (max {max})"));
            }
            if let Some(min) = s["minLength"].as_u64()
                && n < min
            {
                out.push(format!("{path}: {n} chars (min {min})"));
            }
        }
        Value::Array(items) => {
            let n = items.len() as u64;
            if let Some(max) = s["maxItems"].as_u64()
                && n > max
            {
                out.push(format!("{path}: {n} items (max {max})"));
            }
            if let Some(min) = s["minItems"].as_u64()
                && n < min
            {
                out.push(format!("{path}: {n} items (min {min})"));
            }
            if let Some(item_schema) = s.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check_schema(
                        item_schema,
                        item,
                        &join(path, &i.to_string()),
                        out,
                        depth + 1,
                    );
                }
            }
        }
        Value::Object(m) => {
            for r in s["required"].as_array().into_iter().flatten() {
                if let Some(name) = r.as_str()
                    && !m.contains_key(name)
                {
                    out.push(format!("{}: required", join(path, name)));
                }
            }
            if let Some(props) = s["properties"].as_object() {
                for (k, sub) in props {
                    if let Some(x) = m.get(k) {
                        check_schema(sub, x, &join(path, k), out, depth + 1);
                    }
                }
            }
        }
        _ => {}
    }
}

fn json_eq_loose(a: &Value, b: &Value) -> bool {
    a == b || (a.as_i64().is_some() && b.as_str().and_then(|s| s.parse::<i64>().ok()) == a.as_i64())
}

fn join(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

// ---------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------

#[derive(PartialEq, Clone, Copy)]
enum AuthKind {
    Bot,
    PathToken,
}

struct Route {
    kind: &'static str,
    params: BTreeMap<String, String>,
    auth: AuthKind,
    /// The spec path of the operation, for the schema check.
    spec_path: Option<&'static str>,
}

fn match_route(method: &Method, segs: &[&str]) -> Option<Route> {
    let mut params = BTreeMap::new();
    let mut p = |k: &str, v: &str| {
        params.insert(k.to_string(), v.to_string());
    };
    let m = method.as_str();
    let (kind, auth, spec_path): (&'static str, AuthKind, Option<&'static str>) = match (m, segs) {
        ("GET", ["gateway"]) => ("get_gateway", AuthKind::PathToken, None),
        ("GET", ["gateway", "bot"]) => ("get_gateway_bot", AuthKind::Bot, None),
        ("GET", ["users", "@me"]) => ("get_current_user", AuthKind::Bot, None),
        ("GET", ["oauth2", "applications", "@me"]) | ("GET", ["applications", "@me"]) => {
            ("get_application", AuthKind::Bot, None)
        }
        ("POST", ["users", "@me", "channels"]) => {
            ("create_dm", AuthKind::Bot, Some("/users/@me/channels"))
        }
        ("GET", ["channels", c]) => {
            p("channel_id", c);
            ("get_channel", AuthKind::Bot, None)
        }
        ("POST", ["channels", c, "messages"]) => {
            p("channel_id", c);
            (
                "create_message",
                AuthKind::Bot,
                Some("/channels/{channel_id}/messages"),
            )
        }
        ("GET", ["channels", c, "messages"]) => {
            p("channel_id", c);
            ("list_messages", AuthKind::Bot, None)
        }
        (_, ["channels", c, "messages", mid]) if matches!(m, "GET" | "PATCH" | "DELETE") => {
            p("channel_id", c);
            p("message_id", mid);
            match m {
                "GET" => ("get_message", AuthKind::Bot, None),
                "PATCH" => (
                    "edit_message",
                    AuthKind::Bot,
                    Some("/channels/{channel_id}/messages/{message_id}"),
                ),
                _ => ("delete_message", AuthKind::Bot, None),
            }
        }
        ("POST", ["channels", c, "messages", mid, "threads"]) => {
            p("channel_id", c);
            p("message_id", mid);
            (
                "start_thread",
                AuthKind::Bot,
                Some("/channels/{channel_id}/messages/{message_id}/threads"),
            )
        }
        ("POST", ["interactions", iid, token, "callback"]) => {
            p("interaction_id", iid);
            p("token", token);
            (
                "callback",
                AuthKind::PathToken,
                Some("/interactions/{interaction_id}/{interaction_token}/callback"),
            )
        }
        ("POST", ["webhooks", app, token]) => {
            p("application_id", app);
            p("token", token);
            (
                "create_followup",
                AuthKind::PathToken,
                Some("/webhooks/{webhook_id}/{webhook_token}"),
            )
        }
        (_, ["webhooks", app, token, "messages", mid])
            if matches!(m, "GET" | "PATCH" | "DELETE") =>
        {
            p("application_id", app);
            p("token", token);
            p("message_id", mid);
            let original = *mid == "@original";
            let kind = match (m, original) {
                ("GET", true) => "get_original",
                ("PATCH", true) => "edit_original",
                ("DELETE", true) => "delete_original",
                ("GET", false) => "get_followup",
                ("PATCH", false) => "edit_followup",
                _ => "delete_followup",
            };
            let spec_path = (m == "PATCH").then_some(if original {
                "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
            } else {
                "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
            });
            (kind, AuthKind::PathToken, spec_path)
        }
        ("GET", ["applications", app, "commands"]) => {
            p("application_id", app);
            ("get_global_commands", AuthKind::Bot, None)
        }
        ("PUT", ["applications", app, "commands"]) => {
            p("application_id", app);
            (
                "bulk_overwrite_global_commands",
                AuthKind::Bot,
                Some("/applications/{application_id}/commands"),
            )
        }
        ("GET", ["applications", app, "guilds", g, "commands"]) => {
            p("application_id", app);
            p("guild_id", g);
            ("get_guild_commands", AuthKind::Bot, None)
        }
        ("PUT", ["applications", app, "guilds", g, "commands"]) => {
            p("application_id", app);
            p("guild_id", g);
            (
                "bulk_overwrite_guild_commands",
                AuthKind::Bot,
                Some("/applications/{application_id}/guilds/{guild_id}/commands"),
            )
        }
        ("GET", ["guilds", g]) => {
            p("guild_id", g);
            ("get_guild", AuthKind::Bot, None)
        }
        ("GET", ["guilds", g, "roles"]) => {
            p("guild_id", g);
            ("get_roles", AuthKind::Bot, None)
        }
        ("GET", ["guilds", g, "channels"]) => {
            p("guild_id", g);
            ("get_guild_channels", AuthKind::Bot, None)
        }
        ("GET", ["guilds", g, "members", u]) => {
            p("guild_id", g);
            p("user_id", u);
            ("get_member", AuthKind::Bot, None)
        }
        _ => return None,
    };
    Some(Route {
        kind,
        params,
        auth,
        spec_path,
    })
}

struct Answer {
    status: StatusCode,
    /// `None` → empty body (204).
    body: Option<Value>,
    retry_after: Option<Duration>,
    /// (limit, remaining, reset_after)
    ratelimit: Option<(u32, u32, Duration)>,
    scope: Option<&'static str>,
    fault: Option<Fault>,
}

impl Answer {
    fn ok(body: Value) -> Answer {
        Answer {
            status: StatusCode::OK,
            body: Some(body),
            retry_after: None,
            ratelimit: None,
            scope: None,
            fault: None,
        }
    }
    fn no_content() -> Answer {
        Answer {
            status: StatusCode::NO_CONTENT,
            body: None,
            ..Answer::ok(Value::Null)
        }
    }
    fn error(status: u16, code: u64, message: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            body: Some(json!({"message": message, "code": code})),
            ..Answer::ok(Value::Null)
        }
    }
    fn rate_limited(retry_after: Duration) -> Answer {
        let secs = (retry_after.as_secs_f64() * 1000.0).ceil() / 1000.0;
        Answer {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: Some(
                json!({"message": "You are being rate limited.", "retry_after": secs, "global": false}),
            ),
            retry_after: Some(retry_after),
            scope: Some("user"),
            ..Answer::ok(Value::Null)
        }
    }
}

async fn handle_http(
    AxumState(inner): AxumState<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let seq = inner.seq.fetch_add(1, Ordering::SeqCst);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let authorization = header("authorization");
    let content_type = header("content-type");
    let mut query = BTreeMap::new();
    if let Some(q) = uri.query() {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            if !k.is_empty() {
                query.insert(k.into_owned(), v.into_owned());
            }
        }
    }
    let body_json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice::<Value>(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    };
    let path = uri.path().to_string();
    let segs: Vec<&str> = path
        .strip_prefix("/api/v10/")
        .map(|p| p.trim_end_matches('/').split('/').collect())
        .unwrap_or_default();
    let route = if segs.is_empty() {
        None
    } else {
        match_route(&method, &segs)
    };

    let (route_kind, params, answer) = match route {
        None => {
            let mut st = inner.lock();
            st.violate(
                seq,
                "unknown",
                "unknown_route",
                format!("{method} {path} is not a Discord API v10 route the fake serves"),
                &body_json,
            );
            (
                "unknown".to_string(),
                BTreeMap::new(),
                Answer::error(404, 0, "404: Not Found"),
            )
        }
        Some(route) => {
            let answer = process(
                &inner,
                seq,
                &route,
                &query,
                authorization.as_deref(),
                content_type.as_deref(),
                &body_json,
            )
            .await;
            (route.kind.to_string(), route.params, answer)
        }
    };

    let call = Call {
        seq,
        route: route_kind.clone(),
        method: method.to_string(),
        path,
        params,
        query,
        body: body_json,
        authorization,
        user_agent: header("user-agent"),
        content_type,
        audit_log_reason: header("x-audit-log-reason"),
        at,
        status: answer.status.as_u16(),
        response: answer.body.clone().unwrap_or(Value::Null),
        fault: answer.fault.clone(),
    };
    inner.lock().calls.push(call);

    let mut resp = match &answer.body {
        Some(b) => (answer.status, b.to_string()).into_response(),
        None => answer.status.into_response(),
    };
    let h = resp.headers_mut();
    if answer.body.is_some() {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let (limit, remaining, reset_after) =
        answer.ratelimit.unwrap_or((5, 4, Duration::from_secs(1)));
    let (remaining, reset_after) = match answer.retry_after {
        Some(r) => (0, r),
        None => (remaining, reset_after),
    };
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        + reset_after;
    let hv = |s: String| HeaderValue::from_str(&s).unwrap();
    h.insert("x-ratelimit-limit", hv(limit.to_string()));
    h.insert("x-ratelimit-remaining", hv(remaining.to_string()));
    h.insert(
        "x-ratelimit-reset",
        hv(format!("{:.3}", reset.as_secs_f64())),
    );
    h.insert(
        "x-ratelimit-reset-after",
        hv(format!("{:.3}", reset_after.as_secs_f64())),
    );
    h.insert("x-ratelimit-bucket", hv(bucket_hash(&route_kind)));
    if let Some(r) = answer.retry_after {
        h.insert(
            header::RETRY_AFTER,
            hv(r.as_secs_f64().ceil().max(1.0).to_string()),
        );
        h.insert("x-ratelimit-global", hv("false".into()));
    }
    if let Some(scope) = answer.scope {
        h.insert("x-ratelimit-scope", hv(scope.into()));
    }
    resp
}

async fn process(
    inner: &Arc<Inner>,
    seq: u64,
    route: &Route,
    query: &BTreeMap<String, String>,
    authorization: Option<&str>,
    content_type: Option<&str>,
    body: &Value,
) -> Answer {
    // Authentication.
    if route.auth == AuthKind::Bot {
        let mut st = inner.lock();
        let expected = format!("Bot {}", st.token);
        if authorization != Some(expected.as_str()) {
            let detail = match authorization {
                None => "no Authorization header".to_string(),
                Some(a) if !a.starts_with("Bot ") => {
                    "Authorization header is not `Bot <token>`".to_string()
                }
                Some(_) => "wrong bot token".to_string(),
            };
            st.violate(seq, route.kind, "unauthorized", detail, body);
            return Answer::error(401, 0, "401: Unauthorized");
        }
    }
    if route.kind == "create_followup"
        || route.kind.ends_with("_original")
        || route.kind.ends_with("_followup")
    {
        let app = route.params.get("application_id").map(String::as_str);
        if app != Some(APPLICATION_ID.to_string().as_str()) {
            inner.lock().violate(
                seq,
                route.kind,
                "unknown_webhook",
                format!("webhook application id {app:?} is not {APPLICATION_ID}"),
                body,
            );
            return Answer::error(404, 10015, "Unknown Webhook");
        }
    }
    if !body.is_null() && !body.is_object() && !body.is_array() {
        inner.lock().violate(
            seq,
            route.kind,
            "unsupported_body",
            format!("body is not JSON (content-type {content_type:?}); the fake does not parse multipart"),
            &Value::Null,
        );
        return form_error(&[(
            "".into(),
            "BASE_TYPE_BAD_JSON".into(),
            "Body is not JSON".into(),
        )]);
    }

    let channel = route
        .params
        .get("channel_id")
        .and_then(|c| c.parse::<u64>().ok());

    // Scripted faults.
    let fault = inner.lock().take_fault(route.kind, channel);
    if let Some(fault) = &fault {
        let a = match fault {
            Fault::Slow(d) => {
                tokio::time::sleep(*d).await;
                None
            }
            Fault::RateLimited { retry_after } => Some(Answer::rate_limited(*retry_after)),
            Fault::ServerError(code) => Some(Answer::error(
                *code,
                0,
                &format!(
                    "{code}: {}",
                    StatusCode::from_u16(*code)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("Server Error")
                ),
            )),
            Fault::Error {
                status,
                code,
                message,
            } => Some(Answer::error(*status, *code, message)),
        };
        if let Some(mut a) = a {
            a.fault = Some(fault.clone());
            return a;
        }
    }

    let mut a = process_accepted(inner, seq, route, query, channel, body);
    a.fault = fault;
    a
}

fn process_accepted(
    inner: &Arc<Inner>,
    seq: u64,
    route: &Route,
    query: &BTreeMap<String, String>,
    channel: Option<u64>,
    body: &Value,
) -> Answer {
    let mut st = inner.lock();
    let now = Instant::now();
    let mut ratelimit = None;

    // Per-channel limit on message creates.
    if route.kind == "create_message"
        && let Some(channel) = channel
        && let Some((max, window)) = st.limit
    {
        let times = st.accepted.entry(channel).or_default();
        let in_window: Vec<Instant> = times
            .iter()
            .copied()
            .filter(|t| now.duration_since(*t) < window)
            .collect();
        if in_window.len() as u32 >= max {
            let oldest = in_window.first().copied().unwrap_or(now);
            let wait = (oldest + window).saturating_duration_since(now);
            let mut a = Answer::rate_limited(wait.max(Duration::from_millis(1)));
            a.ratelimit = Some((max, 0, wait));
            return a;
        }
        let reset_after = in_window
            .first()
            .map(|t| (*t + window).saturating_duration_since(now))
            .unwrap_or(window);
        ratelimit = Some((max, max - in_window.len() as u32 - 1, reset_after));
    }

    // Contract checks.
    let mut problems = Vec::new();
    if let Some(spec_path) = route.spec_path {
        let method = match route.kind {
            k if k.starts_with("edit_") => "patch",
            k if k.starts_with("bulk_") => "put",
            _ => "post",
        };
        if let Some(schema) = request_schema(spec_path, method) {
            let mut errs = Vec::new();
            check_schema(schema, body, "", &mut errs, 0);
            for e in errs {
                let (p, _) = e.split_once(':').unwrap_or(("", ""));
                problems.push(Problem::new(p, "openapi_schema", e.clone()));
            }
        }
    }
    match route.kind {
        "create_message" | "edit_message" | "create_followup" | "edit_original"
        | "edit_followup" => {
            validate_message(
                body,
                "",
                route.kind == "create_message" || route.kind == "create_followup",
                &mut problems,
            );
        }
        "start_thread" => validate_thread_name(body, &mut problems),
        "callback" => validate_callback(body, &mut problems),
        "bulk_overwrite_global_commands" | "bulk_overwrite_guild_commands" => {
            validate_commands(body, &mut problems)
        }
        "list_messages" => {
            if let Some(l) = query.get("limit") {
                match l.parse::<u32>() {
                    Ok(1..=100) => {}
                    _ => problems.push(Problem::new(
                        "limit",
                        "invalid_limit",
                        format!("limit={l} (1..=100)"),
                    )),
                }
            }
        }
        _ => {}
    }
    if !problems.is_empty() {
        for p in &problems {
            st.violate(seq, route.kind, &p.rule, p.detail.clone(), body);
        }
        if let Some(p) = problems.iter().find(|p| p.rule == "empty_message") {
            let _ = p;
            return Answer::error(400, 50006, "Cannot send an empty message");
        }
        let errs: Vec<(String, String, String)> = problems
            .iter()
            .map(|p| (p.path.clone(), p.rule.to_uppercase(), p.detail.clone()))
            .collect();
        return form_error(&errs);
    }

    if route.kind == "create_message"
        && let Some(channel) = channel
    {
        st.accepted.entry(channel).or_default().push(now);
    }

    let mut a = st.execute(seq, route, query, body);
    if a.ratelimit.is_none() {
        a.ratelimit = ratelimit;
    }
    a
}

/// Discord's `Invalid Form Body`: errors nested by path with `_errors` leaves.
fn form_error(errs: &[(String, String, String)]) -> Answer {
    let mut errors = Value::Object(Map::new());
    for (path, code, message) in errs {
        let mut node = &mut errors;
        for seg in path.split('.').filter(|s| !s.is_empty()) {
            node = node
                .as_object_mut()
                .unwrap()
                .entry(seg.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        let list = node
            .as_object_mut()
            .unwrap()
            .entry("_errors".to_string())
            .or_insert_with(|| json!([]));
        list.as_array_mut()
            .unwrap()
            .push(json!({"code": code, "message": message}));
    }
    Answer {
        status: StatusCode::BAD_REQUEST,
        body: Some(json!({"code": 50035, "message": "Invalid Form Body", "errors": errors})),
        ..Answer::ok(Value::Null)
    }
}

fn bucket_hash(route: &str) -> String {
    // FNV-1a, hex: stable per route kind, looks like Discord's opaque bucket ids.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in route.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}")
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

struct Problem {
    /// Dotted path in the body (for Discord's `errors` object).
    path: String,
    rule: String,
    detail: String,
}

impl Problem {
    fn new(path: &str, rule: &str, detail: String) -> Problem {
        Problem {
            path: path.to_string(),
            rule: rule.to_string(),
            detail,
        }
    }
}

fn chars(v: &Value) -> usize {
    v.as_str().map(|s| s.chars().count()).unwrap_or(0)
}

fn check_max(out: &mut Vec<Problem>, v: &Value, max: usize, path: &str, rule: &str) {
    let n = chars(v);
    if n > max {
        out.push(Problem::new(
            path,
            rule,
            format!("{path} is {n} chars (max {max})"),
        ));
    }
}

/// A message body (create, edit, follow-up, callback 4/7 `data`). `prefix` is the path of the
/// message in the body (`""` or `"data"`).
fn validate_message(body: &Value, prefix: &str, creating: bool, out: &mut Vec<Problem>) {
    let p = |k: &str| join(prefix, k);
    if !body.is_object() {
        out.push(Problem::new(
            prefix,
            "not_an_object",
            format!("message body is not an object: {}", short(body)),
        ));
        return;
    }
    let content = &body["content"];
    check_max(out, content, 2000, &p("content"), "content_too_long");

    // Embeds.
    let mut total = 0;
    if let Some(embeds) = body["embeds"].as_array() {
        if embeds.len() > 10 {
            out.push(Problem::new(
                &p("embeds"),
                "too_many_embeds",
                format!("{} embeds (max 10)", embeds.len()),
            ));
        }
        for (i, e) in embeds.iter().enumerate() {
            let ep = |k: &str| join(&p("embeds"), &format!("{i}.{k}"));
            check_max(out, &e["title"], 256, &ep("title"), "embed_title_too_long");
            check_max(
                out,
                &e["description"],
                4096,
                &ep("description"),
                "embed_description_too_long",
            );
            check_max(
                out,
                &e["footer"]["text"],
                2048,
                &ep("footer.text"),
                "embed_footer_too_long",
            );
            check_max(
                out,
                &e["author"]["name"],
                256,
                &ep("author.name"),
                "embed_author_name_too_long",
            );
            total += chars(&e["title"])
                + chars(&e["description"])
                + chars(&e["footer"]["text"])
                + chars(&e["author"]["name"]);
            if let Some(fields) = e["fields"].as_array() {
                if fields.len() > 25 {
                    out.push(Problem::new(
                        &ep("fields"),
                        "too_many_embed_fields",
                        format!("{} fields (max 25)", fields.len()),
                    ));
                }
                for (j, f) in fields.iter().enumerate() {
                    check_max(
                        out,
                        &f["name"],
                        256,
                        &ep(&format!("fields.{j}.name")),
                        "embed_field_name_too_long",
                    );
                    check_max(
                        out,
                        &f["value"],
                        1024,
                        &ep(&format!("fields.{j}.value")),
                        "embed_field_value_too_long",
                    );
                    total += chars(&f["name"]) + chars(&f["value"]);
                }
            }
        }
    }
    if total > 6000 {
        out.push(Problem::new(
            &p("embeds"),
            "embed_total_too_long",
            format!("embeds hold {total} chars of text (max 6000)"),
        ));
    }

    // Components.
    let flags = body["flags"].as_u64().unwrap_or(0);
    if let Some(components) = body["components"].as_array() {
        let v2 = flags & COMPONENTS_V2 != 0;
        if !v2 {
            if components.len() > 5 {
                out.push(Problem::new(
                    &p("components"),
                    "too_many_action_rows",
                    format!("{} action rows (max 5)", components.len()),
                ));
            }
            for (i, c) in components.iter().enumerate() {
                if c["type"] != json!(1) {
                    out.push(Problem::new(&join(&p("components"), &i.to_string()), "not_an_action_row",
                        format!("top-level component {i} has type {} (only action rows without IS_COMPONENTS_V2)", c["type"])));
                }
            }
        }
        let mut ids = HashSet::new();
        for (i, c) in components.iter().enumerate() {
            check_component(c, &join(&p("components"), &i.to_string()), &mut ids, out);
        }
    }

    // Mentions.
    match body.get("allowed_mentions") {
        None | Some(Value::Null) => {
            out.push(Problem::new(
                &p("allowed_mentions"),
                "missing_allowed_mentions",
                "allowed_mentions is absent: user text could ping @everyone, roles or users".into(),
            ));
            if let Some(c) = content.as_str()
                && let Some(m) = ["@everyone", "@here"].iter().find(|m| c.contains(**m))
            {
                out.push(Problem::new(
                    &p("content"),
                    "broadcast_mention",
                    format!(
                        "content contains `{m}` and allowed_mentions is absent: {}",
                        excerpt(c, m)
                    ),
                ));
            }
        }
        Some(am) => {
            for (j, x) in am["parse"].as_array().into_iter().flatten().enumerate() {
                if x != "users" {
                    out.push(Problem::new(
                        &p(&format!("allowed_mentions.parse.{j}")),
                        "allowed_mentions_too_broad",
                        format!("allowed_mentions.parse contains {x} (only \"users\" allowed)"),
                    ));
                }
            }
            if am["roles"].as_array().is_some_and(|r| !r.is_empty()) {
                out.push(Problem::new(
                    &p("allowed_mentions.roles"),
                    "allowed_mentions_too_broad",
                    format!("allowed_mentions.roles lists roles: {}", am["roles"]),
                ));
            }
            let parses_users = am["parse"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "users"));
            if parses_users && am["users"].as_array().is_some_and(|u| !u.is_empty()) {
                out.push(Problem::new(
                    &p("allowed_mentions"),
                    "allowed_mentions_conflict",
                    "parse:[\"users\"] and a users list are mutually exclusive".into(),
                ));
            }
        }
    }

    if creating {
        let non_empty = |k: &str| match &body[k] {
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Null => false,
            _ => true,
        };
        if ![
            "content",
            "embeds",
            "components",
            "attachments",
            "sticker_ids",
            "poll",
        ]
        .iter()
        .any(|k| non_empty(k))
        {
            out.push(Problem::new(
                prefix,
                "empty_message",
                "no content, embeds, components, attachments, stickers or poll".into(),
            ));
        }
    }
}

fn check_component(c: &Value, path: &str, ids: &mut HashSet<String>, out: &mut Vec<Problem>) {
    let kind = c["type"].as_u64().unwrap_or(0);
    if let Some(id) = c.get("custom_id").filter(|v| !v.is_null()) {
        let n = chars(id);
        if n > 100 {
            out.push(Problem::new(
                &join(path, "custom_id"),
                "custom_id_too_long",
                format!("custom_id is {n} chars (max 100)"),
            ));
        }
        if n == 0 {
            out.push(Problem::new(
                &join(path, "custom_id"),
                "custom_id_empty",
                "custom_id is empty".into(),
            ));
        }
        let s = id.as_str().unwrap_or("").to_string();
        if !ids.insert(s.clone()) {
            out.push(Problem::new(
                &join(path, "custom_id"),
                "duplicate_custom_id",
                format!("custom_id {s:?} appears twice in the message"),
            ));
        }
    }
    match kind {
        1 => {
            let children = c["components"].as_array().cloned().unwrap_or_default();
            let buttons = children.iter().filter(|x| x["type"] == json!(2)).count();
            let selects = children
                .iter()
                .filter(|x| matches!(x["type"].as_u64(), Some(3 | 5 | 6 | 7 | 8)))
                .count();
            if children.is_empty() {
                out.push(Problem::new(
                    &join(path, "components"),
                    "empty_action_row",
                    "action row without components".into(),
                ));
            }
            if buttons > 5 {
                out.push(Problem::new(
                    &join(path, "components"),
                    "too_many_buttons",
                    format!("{buttons} buttons in a row (max 5)"),
                ));
            }
            if selects > 0 && children.len() > 1 {
                out.push(Problem::new(
                    &join(path, "components"),
                    "select_not_alone",
                    "a select menu must be alone in its action row".into(),
                ));
            }
            for (i, x) in children.iter().enumerate() {
                check_component(x, &join(path, &format!("components.{i}")), ids, out);
            }
        }
        2 => {
            check_max(
                out,
                &c["label"],
                80,
                &join(path, "label"),
                "button_label_too_long",
            );
            let style = c["style"].as_u64().unwrap_or(0);
            let has_id = c.get("custom_id").is_some_and(|v| !v.is_null());
            let has_url = c.get("url").is_some_and(|v| !v.is_null());
            match style {
                5 => {
                    if !has_url || has_id {
                        out.push(Problem::new(
                            path,
                            "link_button_invalid",
                            "a link button needs url and no custom_id".into(),
                        ));
                    }
                }
                6 => {}
                _ => {
                    if !has_id || has_url {
                        out.push(Problem::new(
                            path,
                            "button_missing_custom_id",
                            format!("a style-{style} button needs custom_id and no url"),
                        ));
                    }
                }
            }
        }
        3 => {
            check_max(
                out,
                &c["placeholder"],
                150,
                &join(path, "placeholder"),
                "select_placeholder_too_long",
            );
            if c["options"].as_array().is_some_and(|o| o.len() > 25) {
                out.push(Problem::new(
                    &join(path, "options"),
                    "too_many_select_options",
                    "more than 25 options".into(),
                ));
            }
        }
        _ => {
            // Components v2 containers/sections: walk their children.
            for key in ["components", "accessory"] {
                match &c[key] {
                    Value::Array(a) => {
                        for (i, x) in a.iter().enumerate() {
                            check_component(x, &join(path, &format!("{key}.{i}")), ids, out);
                        }
                    }
                    x @ Value::Object(_) => check_component(x, &join(path, key), ids, out),
                    _ => {}
                }
            }
        }
    }
}

/// Bulk command overwrites: chat-input names are lowercase `[-_\p{L}\p{N}]{1,32}`
/// (options too), descriptions 1..=100, and names are unique per command type.
fn validate_commands(body: &Value, out: &mut Vec<Problem>) {
    fn name_ok(n: &str) -> bool {
        let len = n.chars().count();
        (1..=32).contains(&len)
            && n.chars()
                .all(|c| (c.is_alphanumeric() || c == '-' || c == '_') && !c.is_uppercase())
    }
    fn check_options(opts: &Value, path: &str, out: &mut Vec<Problem>) {
        for (i, o) in opts.as_array().into_iter().flatten().enumerate() {
            let op = format!("{path}.{i}");
            let n = o["name"].as_str().unwrap_or("");
            if !name_ok(n) {
                out.push(Problem::new(
                    &format!("{op}.name"),
                    "command_name_invalid",
                    format!("option name {n:?} must be lowercase [-_a-z0-9], 1..=32"),
                ));
            }
            let d = chars(&o["description"]);
            if d == 0 || d > 100 {
                out.push(Problem::new(
                    &format!("{op}.description"),
                    "command_description_invalid",
                    format!("option {n:?} description is {d} chars (1..=100)"),
                ));
            }
            check_options(&o["options"], &format!("{op}.options"), out);
        }
    }
    let Some(cmds) = body.as_array() else {
        out.push(Problem::new(
            "",
            "commands_not_an_array",
            "bulk overwrite body is not an array".into(),
        ));
        return;
    };
    let mut seen = HashSet::new();
    for (i, c) in cmds.iter().enumerate() {
        let kind = c["type"].as_u64().unwrap_or(1);
        let n = c["name"].as_str().unwrap_or("");
        if kind == 1 {
            if !name_ok(n) {
                out.push(Problem::new(
                    &format!("{i}.name"),
                    "command_name_invalid",
                    format!("command name {n:?} must be lowercase [-_a-z0-9], 1..=32"),
                ));
            }
            let d = chars(&c["description"]);
            if d == 0 || d > 100 {
                out.push(Problem::new(
                    &format!("{i}.description"),
                    "command_description_invalid",
                    format!("command {n:?} description is {d} chars (1..=100)"),
                ));
            }
            check_options(&c["options"], &format!("{i}.options"), out);
        }
        if !seen.insert((kind, n.to_string())) {
            out.push(Problem::new(
                &format!("{i}.name"),
                "duplicate_command_name",
                format!("two type-{kind} commands named {n:?}"),
            ));
        }
    }
}

fn validate_thread_name(body: &Value, out: &mut Vec<Problem>) {
    let n = chars(&body["name"]);
    if n == 0 || n > 100 {
        out.push(Problem::new(
            "name",
            "thread_name_invalid",
            format!("thread name is {n} chars (1..=100)"),
        ));
    }
}

fn validate_callback(body: &Value, out: &mut Vec<Problem>) {
    let kind = body["type"].as_u64().unwrap_or(0);
    match kind {
        4 | 7 => {
            if body["data"].is_object() {
                validate_message(&body["data"], "data", kind == 4, out);
            } else if kind == 4 {
                out.push(Problem::new(
                    "data",
                    "empty_message",
                    "type 4 callback without data".into(),
                ));
            }
        }
        9 => validate_modal(&body["data"], out),
        1 | 5 | 6 | 8 | 10 | 12 => {}
        other => out.push(Problem::new(
            "type",
            "invalid_callback_type",
            format!("callback type {other}"),
        )),
    }
}

fn validate_modal(data: &Value, out: &mut Vec<Problem>) {
    let id_len = chars(&data["custom_id"]);
    if id_len == 0 || id_len > 100 {
        out.push(Problem::new(
            "data.custom_id",
            "custom_id_too_long",
            format!("modal custom_id is {id_len} chars (1..=100)"),
        ));
    }
    let title = chars(&data["title"]);
    if title == 0 || title > 45 {
        out.push(Problem::new(
            "data.title",
            "modal_title_invalid",
            format!("modal title is {title} chars (1..=45)"),
        ));
    }
    let rows = data["components"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() || rows.len() > 5 {
        out.push(Problem::new(
            "data.components",
            "modal_component_count",
            format!("{} modal components (1..=5)", rows.len()),
        ));
    }
    let mut ids = HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        let rp = format!("data.components.{i}");
        match row["type"].as_u64() {
            Some(1) => {
                let inner = row["components"].as_array().cloned().unwrap_or_default();
                if inner.len() != 1 || inner[0]["type"] != json!(4) {
                    out.push(Problem::new(
                        &rp,
                        "modal_row_invalid",
                        "a modal action row holds exactly one text input (type 4)".into(),
                    ));
                }
                for (j, t) in inner.iter().enumerate() {
                    check_text_input(t, &format!("{rp}.components.{j}"), true, &mut ids, out);
                }
            }
            Some(18) => {
                let label = chars(&row["label"]);
                if label == 0 || label > 45 {
                    out.push(Problem::new(
                        &format!("{rp}.label"),
                        "modal_label_too_long",
                        format!("label is {label} chars (1..=45)"),
                    ));
                }
                check_max(
                    out,
                    &row["description"],
                    100,
                    &format!("{rp}.description"),
                    "modal_label_description_too_long",
                );
                let c = &row["component"];
                match c["type"].as_u64() {
                    Some(4) => {
                        check_text_input(c, &format!("{rp}.component"), false, &mut ids, out)
                    }
                    Some(3 | 5 | 6 | 7 | 8 | 19 | 21 | 22 | 23) => {
                        let n = chars(&c["custom_id"]);
                        if n == 0 || n > 100 {
                            out.push(Problem::new(
                                &format!("{rp}.component.custom_id"),
                                "custom_id_too_long",
                                format!("custom_id is {n} chars (1..=100)"),
                            ));
                        }
                        if let Some(s) = c["custom_id"].as_str()
                            && !ids.insert(s.to_string())
                        {
                            out.push(Problem::new(
                                &format!("{rp}.component.custom_id"),
                                "duplicate_custom_id",
                                format!("custom_id {s:?} twice"),
                            ));
                        }
                    }
                    other => out.push(Problem::new(
                        &format!("{rp}.component"),
                        "modal_row_invalid",
                        format!("label holds component type {other:?}"),
                    )),
                }
            }
            Some(10) => check_max(
                out,
                &row["content"],
                4000,
                &format!("{rp}.content"),
                "text_display_too_long",
            ),
            other => out.push(Problem::new(
                &rp,
                "modal_row_invalid",
                format!("modal component type {other:?} (1, 18 or 10)"),
            )),
        }
    }
}

fn check_text_input(
    t: &Value,
    path: &str,
    needs_label: bool,
    ids: &mut HashSet<String>,
    out: &mut Vec<Problem>,
) {
    if t["type"] != json!(4) {
        return;
    }
    let n = chars(&t["custom_id"]);
    if n == 0 || n > 100 {
        out.push(Problem::new(
            &join(path, "custom_id"),
            "custom_id_too_long",
            format!("text input custom_id is {n} chars (1..=100)"),
        ));
    }
    if let Some(s) = t["custom_id"].as_str()
        && !ids.insert(s.to_string())
    {
        out.push(Problem::new(
            &join(path, "custom_id"),
            "duplicate_custom_id",
            format!("custom_id {s:?} twice"),
        ));
    }
    let label = chars(&t["label"]);
    if (needs_label && label == 0) || label > 45 {
        out.push(Problem::new(
            &join(path, "label"),
            "text_input_label_too_long",
            format!("text input label is {label} chars (1..=45)"),
        ));
    }
    if !needs_label && !t["label"].is_null() {
        out.push(Problem::new(
            &join(path, "label"),
            "text_input_label_in_label",
            "a text input inside a label component takes no label".into(),
        ));
    }
    check_max(
        out,
        &t["value"],
        4000,
        &join(path, "value"),
        "text_input_value_too_long",
    );
    check_max(
        out,
        &t["placeholder"],
        100,
        &join(path, "placeholder"),
        "text_input_placeholder_too_long",
    );
    for k in ["min_length", "max_length"] {
        if let Some(x) = t[k].as_u64()
            && x > 4000
        {
            out.push(Problem::new(
                &join(path, k),
                "text_input_length_invalid",
                format!("{k} = {x} (max 4000)"),
            ));
        }
    }
}

fn excerpt(s: &str, needle: &str) -> String {
    let i = s.find(needle).unwrap_or(0);
    let start = s.floor_char_boundary(i.saturating_sub(30));
    let end = s.ceil_char_boundary((i + needle.len() + 30).min(s.len()));
    s[start..end].to_string()
}

fn collect_custom_ids(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| collect_custom_ids(x, out)),
        Value::Object(m) => {
            if let Some(Value::String(id)) = m.get("custom_id") {
                out.push(id.clone());
            }
            for k in ["components", "component", "accessory"] {
                if let Some(x) = m.get(k) {
                    collect_custom_ids(x, out);
                }
            }
        }
        _ => {}
    }
}

/// `<@id>` mentions in content, as user stubs (what Discord puts in `mentions`).
fn mentions_in(content: &str) -> Value {
    let mut out = Vec::new();
    let mut rest = content;
    while let Some(i) = rest.find("<@") {
        rest = &rest[i + 2..];
        let rest2 = rest.trim_start_matches('!');
        let digits: String = rest2.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && rest2[digits.len()..].starts_with('>') {
            out.push(
                json!({"id": digits, "username": format!("user{digits}"), "discriminator": "0",
                            "global_name": null, "avatar": null, "public_flags": 0}),
            );
        }
    }
    Value::Array(out)
}

// ---------------------------------------------------------------------------------------
// Route behaviour
// ---------------------------------------------------------------------------------------

impl State {
    fn violate(&mut self, seq: u64, route: &str, rule: &str, detail: String, body: &Value) {
        self.violations.push(Violation {
            call_seq: seq,
            route: route.to_string(),
            rule: rule.to_string(),
            detail,
            body: body.clone(),
        });
    }

    fn next_id(&mut self) -> u64 {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        let id = (ms.saturating_sub(DISCORD_EPOCH_MS)) << 22;
        let id = id.max(self.last_id + 1);
        self.last_id = id;
        id
    }

    fn take_fault(&mut self, route: &str, channel: Option<u64>) -> Option<Fault> {
        let now = Instant::now();
        self.faults
            .retain(|f| f.remaining != Some(0) && f.until.is_none_or(|u| u > now));
        let f = self.faults.iter_mut().find(|f| {
            (f.route == "*" || f.route == route) && (f.channel.is_none() || f.channel == channel)
        })?;
        if let Some(n) = &mut f.remaining {
            *n -= 1;
        }
        Some(f.fault.clone())
    }

    fn guild_mut(&mut self, guild_id: u64) -> &mut GuildInfo {
        self.guilds.entry(guild_id).or_insert_with(|| GuildInfo {
            owner_id: OWNER_ID,
            name: format!("guild-{guild_id}"),
            // Discord's default @everyone permissions.
            roles: vec![(guild_id, "@everyone".into(), 1_071_698_660_929)],
            channels: Vec::new(),
            members: BTreeMap::new(),
        })
    }

    fn guild_of_channel(&self, channel_id: u64) -> u64 {
        if let Some(c) = self.channels.get(&channel_id) {
            return c.guild_id;
        }
        if self.guilds.len() == 1 {
            return *self.guilds.keys().next().unwrap();
        }
        DEFAULT_GUILD_ID
    }

    fn bot_author(&self) -> Author {
        Author {
            id: BOT_USER_ID,
            name: BOT_NAME.into(),
            bot: true,
        }
    }

    fn user_name(&self, id: u64) -> String {
        if id == BOT_USER_ID {
            return BOT_NAME.into();
        }
        self.users
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("user{id}"))
    }

    fn member_json(&self, guild_id: u64, user_id: u64, with_user: bool) -> Value {
        let (name, roles) = self
            .guilds
            .get(&guild_id)
            .and_then(|g| g.members.get(&user_id).cloned())
            .unwrap_or_else(|| (self.user_name(user_id), Vec::new()));
        let mut m = json!({
            "roles": roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            "premium_since": null,
            "pending": false,
            "nick": null,
            "mute": false,
            "joined_at": "2017-03-13T19:19:14.040000+00:00",
            "flags": 0,
            "deaf": false,
            "communication_disabled_until": null,
            "banner": null,
            "avatar": null,
        });
        if with_user {
            m["user"] = user_json(user_id, &name, user_id == BOT_USER_ID);
        }
        m
    }

    fn message_json(&self, m: &StoredMessage) -> Value {
        let mut v = json!({
            "type": 0,
            "tts": false,
            "timestamp": m.timestamp,
            "pinned": false,
            "mentions": mentions_in(&m.content),
            "mention_roles": [],
            "mention_everyone": false,
            "id": m.id.to_string(),
            "flags": m.flags,
            "embeds": m.embeds,
            "edited_timestamp": m.edited_timestamp,
            "content": m.content,
            "components": m.components,
            "channel_id": m.channel_id.to_string(),
            "author": user_json(m.author.id, &m.author.name, m.author.bot),
            "attachments": [],
        });
        if m.interaction_token.is_some() {
            v["webhook_id"] = json!(APPLICATION_ID.to_string());
            v["application_id"] = json!(APPLICATION_ID.to_string());
        }
        if let Some(t) = self.threads.iter().find(|t| t.id == m.id) {
            v["thread"] = self.thread_json(t);
        }
        v
    }

    fn thread_json(&self, t: &StoredThread) -> Value {
        let msgs: Vec<&StoredMessage> = self
            .messages
            .iter()
            .filter(|m| m.channel_id == t.id && !m.deleted)
            .collect();
        let created = snowflake_timestamp(t.id);
        json!({
            "id": t.id.to_string(),
            "guild_id": t.guild_id.to_string(),
            "parent_id": t.parent_id.to_string(),
            "owner_id": t.owner_id.to_string(),
            "name": t.name,
            "type": 11,
            "last_message_id": msgs.last().map(|m| m.id.to_string()),
            "message_count": msgs.len(),
            "member_count": 1,
            "rate_limit_per_user": t.rate_limit_per_user.unwrap_or(0),
            "flags": 0,
            "thread_metadata": {
                "archived": false,
                "auto_archive_duration": t.auto_archive_duration,
                "archive_timestamp": created,
                "locked": false,
                "create_timestamp": created,
            },
            "total_message_sent": msgs.len(),
        })
    }

    fn channel_json(&self, id: u64) -> Option<Value> {
        if let Some(t) = self.threads.iter().find(|t| t.id == id) {
            return Some(self.thread_json(t));
        }
        let last = self
            .messages
            .iter()
            .filter(|m| m.channel_id == id && !m.deleted)
            .map(|m| m.id.to_string())
            .next_back();
        match self.channels.get(&id) {
            Some(c) if c.kind == 1 => {
                let r = c.recipient.unwrap_or(0);
                Some(
                    json!({"id": id.to_string(), "type": 1, "last_message_id": last, "flags": 0,
                            "recipients": [user_json(r, &self.user_name(r), false)]}),
                )
            }
            Some(c) => {
                let position = self
                    .guilds
                    .get(&c.guild_id)
                    .and_then(|g| g.channels.iter().position(|x| *x == id))
                    .unwrap_or(0);
                Some(json!({
                    "id": id.to_string(), "type": c.kind, "guild_id": c.guild_id.to_string(),
                    "name": c.name, "position": position, "parent_id": c.parent_id.map(|p| p.to_string()),
                    "permission_overwrites": c.overwrites.iter().map(PermOverwrite::json).collect::<Vec<_>>(),
                    "topic": null, "nsfw": false, "last_message_id": last, "rate_limit_per_user": 0, "flags": 0,
                }))
            }
            None if last.is_some() => {
                let g = self.guild_of_channel(id);
                Some(
                    json!({"id": id.to_string(), "type": 0, "guild_id": g.to_string(),
                            "name": format!("channel-{id}"), "position": 0, "permission_overwrites": [],
                            "topic": null, "nsfw": false, "last_message_id": last, "rate_limit_per_user": 0, "flags": 0}),
                )
            }
            None => None,
        }
    }

    fn role_json(guild_id: u64, (id, name, perms): &(u64, String, u64), position: usize) -> Value {
        json!({"id": id.to_string(), "name": name, "color": 0,
               "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
               "hoist": false, "icon": null, "unicode_emoji": null,
               "position": if *id == guild_id { 0 } else { position },
               "permissions": perms.to_string(), "managed": false, "mentionable": false, "flags": 0})
    }

    fn guild_json(&self, guild_id: u64) -> Option<Value> {
        let g = self.guilds.get(&guild_id)?;
        let roles: Vec<Value> = g
            .roles
            .iter()
            .enumerate()
            .map(|(i, r)| State::role_json(guild_id, r, i))
            .collect();
        Some(json!({
            "id": guild_id.to_string(), "name": g.name, "icon": null, "splash": null,
            "discovery_splash": null, "owner_id": g.owner_id.to_string(), "afk_channel_id": null,
            "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "roles": roles, "emojis": [], "features": [],
            "mfa_level": 0, "application_id": null, "system_channel_id": null,
            "system_channel_flags": 0, "rules_channel_id": null, "vanity_url_code": null,
            "description": null, "banner": null, "premium_tier": 0, "preferred_locale": "en-US",
            "public_updates_channel_id": null, "nsfw_level": 0, "stickers": [],
            "premium_progress_bar_enabled": false, "safety_alerts_channel_id": null,
        }))
    }

    /// GUILD_CREATE data (a full guild as the gateway sends it).
    fn guild_create_json(&self, guild_id: u64) -> Option<Value> {
        let mut v = self.guild_json(guild_id)?;
        let g = self.guilds.get(&guild_id)?;
        v["joined_at"] = json!("2024-01-01T00:00:00.000000+00:00");
        v["large"] = json!(false);
        v["unavailable"] = json!(false);
        v["member_count"] = json!(g.members.len() + 1);
        v["voice_states"] = json!([]);
        let mut members: Vec<Value> = g
            .members
            .keys()
            .map(|u| self.member_json(guild_id, *u, true))
            .collect();
        members.push(self.member_json(guild_id, BOT_USER_ID, true));
        v["members"] = Value::Array(members);
        v["channels"] = Value::Array(
            g.channels
                .iter()
                .filter_map(|c| self.channel_json(*c))
                .collect(),
        );
        v["threads"] = Value::Array(
            self.threads
                .iter()
                .filter(|t| t.guild_id == guild_id)
                .map(|t| self.thread_json(t))
                .collect(),
        );
        v["presences"] = json!([]);
        v["stage_instances"] = json!([]);
        v["guild_scheduled_events"] = json!([]);
        v["soundboard_sounds"] = json!([]);
        Some(v)
    }

    fn interaction_base(
        &mut self,
        kind: u64,
        channel_id: u64,
        user_id: u64,
        message_id: Option<u64>,
    ) -> Value {
        let id = self.next_id();
        let token = format!(
            "aW50ZXJhY3Rpb246{id}-fake-{:x}",
            now_nanos() ^ id.rotate_left(17)
        );
        let guild_id = self.guild_of_channel(channel_id);
        self.interactions.insert(
            token.clone(),
            InteractionInfo {
                id,
                kind,
                channel_id,
                guild_id,
                message_id,
                created: Instant::now(),
                acknowledged: false,
            },
        );
        let mut member = self.member_json(guild_id, user_id, true);
        member["permissions"] = json!("17179869183");
        let channel_name = self
            .channels
            .get(&channel_id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| format!("channel-{channel_id}"));
        json!({
            "version": 1,
            "type": kind,
            "token": token,
            "id": id.to_string(),
            "application_id": APPLICATION_ID.to_string(),
            "guild_id": guild_id.to_string(),
            "channel_id": channel_id.to_string(),
            "channel": {
                "id": channel_id.to_string(), "type": 0, "guild_id": guild_id.to_string(),
                "name": channel_name, "flags": 0, "nsfw": false, "parent_id": null,
                "permissions": "281474976710655", "position": 0, "rate_limit_per_user": 0,
                "topic": null, "last_message_id": null,
            },
            "member": member,
            "app_permissions": "442368",
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": guild_id.to_string()},
            "context": 0,
            "attachment_size_limit": 10_485_760,
        })
    }

    fn execute(
        &mut self,
        seq: u64,
        route: &Route,
        query: &BTreeMap<String, String>,
        body: &Value,
    ) -> Answer {
        let pu = |k: &str| route.params.get(k).and_then(|v| v.parse::<u64>().ok());
        match route.kind {
            "get_gateway" => Answer::ok(json!({"url": self.ws_url_placeholder()})),
            "get_gateway_bot" => Answer::ok(json!({
                "url": self.ws_url_placeholder(), "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
            })),
            "get_current_user" => {
                let mut u = user_json(BOT_USER_ID, BOT_NAME, true);
                u["verified"] = json!(true);
                u["mfa_enabled"] = json!(false);
                u["email"] = Value::Null;
                u["locale"] = json!("en-US");
                Answer::ok(u)
            }
            "get_application" => Answer::ok(json!({
                "id": APPLICATION_ID.to_string(), "name": BOT_NAME, "icon": null,
                "description": "remedybot (fake Discord)", "type": null, "bot_public": false,
                "bot_require_code_grant": false, "verify_key": "0".repeat(64),
                "owner": user_json(OWNER_ID, "Mason", false), "team": null, "flags": 8_953_856,
                "summary": "", "hook": true, "rpc_origins": [], "redirect_uris": [],
                "interactions_endpoint_url": null, "approximate_guild_count": self.guilds.len(),
                "bot": user_json(BOT_USER_ID, BOT_NAME, true),
            })),
            "create_dm" => {
                let Some(r) = body["recipient_id"]
                    .as_str()
                    .and_then(|s| s.parse::<u64>().ok())
                    .or_else(|| body["recipient_id"].as_u64())
                else {
                    self.violate(
                        seq,
                        route.kind,
                        "missing_recipient",
                        "create_dm without recipient_id".into(),
                        body,
                    );
                    return form_error(&[(
                        "recipient_id".into(),
                        "BASE_TYPE_REQUIRED".into(),
                        "This field is required".into(),
                    )]);
                };
                let id = match self.dm_channels.get(&r) {
                    Some(id) => *id,
                    None => {
                        let id = self.next_id();
                        self.dm_channels.insert(r, id);
                        self.channels.insert(
                            id,
                            ChannelInfo {
                                guild_id: 0,
                                name: String::new(),
                                kind: 1,
                                overwrites: vec![],
                                recipient: Some(r),
                                parent_id: None,
                            },
                        );
                        id
                    }
                };
                Answer::ok(self.channel_json(id).unwrap())
            }
            "get_channel" => match pu("channel_id").and_then(|c| self.channel_json(c)) {
                Some(c) => Answer::ok(c),
                None => Answer::error(404, 10003, "Unknown Channel"),
            },
            "create_message" => {
                let channel = pu("channel_id").unwrap_or(0);
                // Discord: with `enforce_nonce`, a create repeating a recent nonce returns
                // the message already made instead of making another.
                let nonce = body.get("nonce").and_then(|n| {
                    n.as_str()
                        .map(str::to_string)
                        .or_else(|| n.as_u64().map(|u| u.to_string()))
                });
                let enforce = body.get("enforce_nonce").and_then(Value::as_bool) == Some(true);
                if let (Some(nonce), true) = (&nonce, enforce)
                    && let Some(id) = self.nonces.get(&(channel, nonce.clone())).copied()
                    && let Some(m) = self.messages.iter().find(|m| m.id == id)
                {
                    return Answer::ok(self.message_json(m));
                }
                let m = self.new_message(channel, body, None, false);
                let mut v = self.message_json(&m);
                if let Some(nonce) = nonce {
                    self.nonces.insert((channel, nonce.clone()), m.id);
                    v["nonce"] = json!(nonce);
                }
                self.messages.push(m);
                Answer::ok(v)
            }
            "list_messages" => {
                let channel = pu("channel_id").unwrap_or(0);
                let limit = query
                    .get("limit")
                    .and_then(|l| l.parse::<usize>().ok())
                    .unwrap_or(50);
                let q = |k: &str| query.get(k).and_then(|v| v.parse::<u64>().ok());
                let all: Vec<&StoredMessage> = self
                    .messages
                    .iter()
                    .filter(|m| m.channel_id == channel && !m.deleted && !m.ephemeral())
                    .collect(); // oldest first
                let picked: Vec<&StoredMessage> = if let Some(after) = q("after") {
                    all.into_iter()
                        .filter(|m| m.id > after)
                        .take(limit)
                        .collect()
                } else if let Some(before) = q("before") {
                    let older: Vec<_> = all.into_iter().filter(|m| m.id < before).collect();
                    older[older.len().saturating_sub(limit)..].to_vec()
                } else if let Some(around) = q("around") {
                    let pos = all.iter().position(|m| m.id >= around).unwrap_or(all.len());
                    let start = pos.saturating_sub(limit / 2);
                    all[start..(start + limit).min(all.len())].to_vec()
                } else {
                    all[all.len().saturating_sub(limit)..].to_vec()
                };
                let out: Vec<Value> = picked.iter().rev().map(|m| self.message_json(m)).collect();
                Answer::ok(Value::Array(out))
            }
            "get_message" => {
                let (c, id) = (pu("channel_id").unwrap_or(0), pu("message_id").unwrap_or(0));
                match self
                    .messages
                    .iter()
                    .find(|m| m.channel_id == c && m.id == id && !m.deleted && !m.ephemeral())
                {
                    Some(m) => Answer::ok(self.message_json(m)),
                    None => Answer::error(404, 10008, "Unknown Message"),
                }
            }
            "edit_message" => {
                let (c, id) = (pu("channel_id").unwrap_or(0), pu("message_id").unwrap_or(0));
                match self
                    .messages
                    .iter()
                    .position(|m| m.channel_id == c && m.id == id && !m.deleted)
                {
                    Some(i)
                        if self.messages[i].author.id != BOT_USER_ID
                            && body.get("content").is_some() =>
                    {
                        Answer::error(403, 50005, "Cannot edit a message authored by another user")
                    }
                    Some(i) => Answer::ok(self.edit_message_at(i, body)),
                    None => Answer::error(404, 10008, "Unknown Message"),
                }
            }
            "delete_message" => {
                let (c, id) = (pu("channel_id").unwrap_or(0), pu("message_id").unwrap_or(0));
                match self
                    .messages
                    .iter_mut()
                    .find(|m| m.channel_id == c && m.id == id && !m.deleted)
                {
                    Some(m) => {
                        m.deleted = true;
                        Answer::no_content()
                    }
                    None => Answer::error(404, 10008, "Unknown Message"),
                }
            }
            "start_thread" => {
                let (c, id) = (pu("channel_id").unwrap_or(0), pu("message_id").unwrap_or(0));
                if !self
                    .messages
                    .iter()
                    .any(|m| m.channel_id == c && m.id == id && !m.deleted)
                {
                    return Answer::error(404, 10008, "Unknown Message");
                }
                if self.threads.iter().any(|t| t.id == id) {
                    return Answer::error(
                        400,
                        160004,
                        "A thread has already been created for this message",
                    );
                }
                let t = StoredThread {
                    id,
                    parent_id: c,
                    guild_id: self.guild_of_channel(c),
                    name: body["name"].as_str().unwrap_or("").to_string(),
                    owner_id: BOT_USER_ID,
                    auto_archive_duration: body["auto_archive_duration"].as_u64().unwrap_or(4320),
                    rate_limit_per_user: body["rate_limit_per_user"].as_u64(),
                };
                self.threads.push(t.clone());
                let mut v = self.thread_json(&t);
                v["member"] = json!({"id": id.to_string(), "user_id": BOT_USER_ID.to_string(),
                                     "join_timestamp": snowflake_timestamp(id), "flags": 0});
                Answer::ok(v)
            }
            "callback" => self.interaction_callback(seq, route, query, body),
            "create_followup" => {
                let token = route.params["token"].clone();
                let channel = self
                    .interactions
                    .get(&token)
                    .map(|i| i.channel_id)
                    .unwrap_or(0);
                let m = self.new_message(channel, body, Some(token), false);
                let v = self.message_json(&m);
                self.messages.push(m);
                Answer::ok(v)
            }
            "get_original" | "edit_original" | "delete_original" | "get_followup"
            | "edit_followup" | "delete_followup" => {
                let token = route.params["token"].clone();
                let original = route.kind.ends_with("_original");
                let id = pu("message_id");
                let pos = self.messages.iter().position(|m| {
                    m.interaction_token.as_deref() == Some(token.as_str())
                        && !m.deleted
                        && if original {
                            m.original_response
                        } else {
                            Some(m.id) == id
                        }
                });
                match (route.kind, pos) {
                    ("edit_original", None) => {
                        // Deferred (type 5) responses get their message on the first edit.
                        let channel = self
                            .interactions
                            .get(&token)
                            .map(|i| i.channel_id)
                            .unwrap_or(0);
                        let m = self.new_message(channel, body, Some(token), true);
                        let v = self.message_json(&m);
                        self.messages.push(m);
                        Answer::ok(v)
                    }
                    (_, None) => Answer::error(404, 10008, "Unknown Message"),
                    (k, Some(i)) if k.starts_with("get_") => {
                        Answer::ok(self.message_json(&self.messages[i]))
                    }
                    (k, Some(i)) if k.starts_with("edit_") => {
                        Answer::ok(self.edit_message_at(i, body))
                    }
                    (_, Some(i)) => {
                        self.messages[i].deleted = true;
                        Answer::no_content()
                    }
                }
            }
            "get_global_commands" => Answer::ok(Value::Array(
                self.commands.get(&None).cloned().unwrap_or_default(),
            )),
            "get_guild_commands" => Answer::ok(Value::Array(
                self.commands
                    .get(&pu("guild_id"))
                    .cloned()
                    .unwrap_or_default(),
            )),
            "bulk_overwrite_global_commands" | "bulk_overwrite_guild_commands" => {
                let guild = pu("guild_id");
                let old = self.commands.get(&guild).cloned().unwrap_or_default();
                let mut out = Vec::new();
                for c in body.as_array().into_iter().flatten() {
                    let name = c["name"].as_str().unwrap_or("").to_string();
                    let kind = c["type"].as_u64().unwrap_or(1);
                    // Discord keeps the id of a command that is overwritten by name and type.
                    let id = old
                        .iter()
                        .find(|o| o["name"] == json!(name) && o["type"].as_u64() == Some(kind))
                        .and_then(|o| o["id"].as_str().map(str::to_string))
                        .unwrap_or_else(|| self.next_id().to_string());
                    let mut cmd = json!({
                        "id": id, "application_id": APPLICATION_ID.to_string(), "version": self.next_id().to_string(),
                        "default_member_permissions": null, "type": kind, "name": name,
                        "description": c["description"].as_str().unwrap_or(""),
                        "dm_permission": true, "nsfw": false, "integration_types": [0], "contexts": null,
                    });
                    for k in [
                        "options",
                        "default_member_permissions",
                        "name_localizations",
                        "description_localizations",
                        "contexts",
                        "nsfw",
                        "integration_types",
                    ] {
                        if let Some(x) = c.get(k) {
                            cmd[k] = x.clone();
                        }
                    }
                    if let Some(g) = guild {
                        cmd["guild_id"] = json!(g.to_string());
                    }
                    out.push(cmd);
                }
                self.commands.insert(guild, out.clone());
                Answer::ok(Value::Array(out))
            }
            "get_guild" => match pu("guild_id").and_then(|g| self.guild_json(g)) {
                Some(g) => Answer::ok(g),
                None => Answer::error(404, 10004, "Unknown Guild"),
            },
            "get_roles" => {
                let gid = pu("guild_id").unwrap_or(0);
                match self.guilds.get(&gid) {
                    Some(g) => Answer::ok(Value::Array(
                        g.roles
                            .iter()
                            .enumerate()
                            .map(|(i, r)| State::role_json(gid, r, i))
                            .collect(),
                    )),
                    None => Answer::error(404, 10004, "Unknown Guild"),
                }
            }
            "get_guild_channels" => {
                let gid = pu("guild_id").unwrap_or(0);
                match self.guilds.get(&gid) {
                    Some(g) => Answer::ok(Value::Array(
                        g.channels
                            .iter()
                            .filter_map(|c| self.channel_json(*c))
                            .collect(),
                    )),
                    None => Answer::error(404, 10004, "Unknown Guild"),
                }
            }
            "get_member" => {
                let (gid, uid) = (pu("guild_id").unwrap_or(0), pu("user_id").unwrap_or(0));
                match self.guilds.get(&gid) {
                    None => Answer::error(404, 10004, "Unknown Guild"),
                    Some(g) if !g.members.contains_key(&uid) && uid != BOT_USER_ID => {
                        Answer::error(404, 10007, "Unknown Member")
                    }
                    Some(_) => Answer::ok(self.member_json(gid, uid, true)),
                }
            }
            _ => Answer::error(404, 0, "404: Not Found"),
        }
    }

    fn ws_url_placeholder(&self) -> Value {
        json!(self.ws_url)
    }

    fn new_message(
        &mut self,
        channel: u64,
        body: &Value,
        token: Option<String>,
        original: bool,
    ) -> StoredMessage {
        let id = self.next_id();
        let embeds = body["embeds"].as_array().cloned().unwrap_or_default();
        StoredMessage {
            id,
            channel_id: channel,
            author: self.bot_author(),
            content: body["content"].as_str().unwrap_or("").to_string(),
            embeds: Value::Array(embeds.into_iter().map(rich).collect()),
            components: body["components"]
                .as_array()
                .cloned()
                .map(Value::Array)
                .unwrap_or(json!([])),
            flags: body["flags"].as_u64().unwrap_or(0),
            allowed_mentions: body
                .get("allowed_mentions")
                .filter(|v| !v.is_null())
                .cloned(),
            timestamp: snowflake_timestamp(id),
            edited_timestamp: None,
            edits: Vec::new(),
            interaction_token: token,
            original_response: original,
            deleted: false,
        }
    }

    fn edit_message_at(&mut self, i: usize, body: &Value) -> Value {
        let before = self.message_json(&self.messages[i]);
        let m = &mut self.messages[i];
        m.edits.push(before);
        if let Some(c) = body.get("content") {
            m.content = c.as_str().unwrap_or("").to_string();
        }
        if let Some(e) = body.get("embeds") {
            m.embeds = Value::Array(
                e.as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(rich)
                    .collect(),
            );
        }
        if let Some(c) = body.get("components") {
            m.components = c.as_array().cloned().map(Value::Array).unwrap_or(json!([]));
        }
        if let Some(f) = body["flags"].as_u64() {
            m.flags = (m.flags & EPHEMERAL) | (f & !EPHEMERAL);
        }
        m.allowed_mentions = body
            .get("allowed_mentions")
            .filter(|v| !v.is_null())
            .cloned();
        m.edited_timestamp = Some(now_timestamp());
        let m = self.messages[i].clone();
        self.message_json(&m)
    }

    /// `?with_response=true` answers 200 with an interaction callback response object
    /// (`interaction` + `resource.message`); otherwise 204.
    fn interaction_callback(
        &mut self,
        seq: u64,
        route: &Route,
        query: &BTreeMap<String, String>,
        body: &Value,
    ) -> Answer {
        let token = route.params["token"].clone();
        let interaction_id = route.params["interaction_id"].parse::<u64>().unwrap_or(0);
        let kind = body["type"].as_u64().unwrap_or(0);
        let data = body.get("data").cloned().unwrap_or(Value::Null);
        let ephemeral = data["flags"].as_u64().unwrap_or(0) & EPHEMERAL != 0;
        let info = self.interactions.get(&token).cloned();
        let latency = info.as_ref().map(|i| i.created.elapsed());
        let mut cb = Callback {
            interaction_id,
            token: token.clone(),
            kind,
            data: data.clone(),
            ephemeral,
            at: Instant::now(),
            latency,
            accepted: false,
        };
        if let Some(info) = &info {
            if info.id != interaction_id {
                self.callbacks.push(cb);
                self.violate(
                    seq,
                    "callback",
                    "interaction_id_mismatch",
                    format!(
                        "token belongs to interaction {}, not {interaction_id}",
                        info.id
                    ),
                    body,
                );
                return Answer::error(404, 10062, "Unknown interaction");
            }
            if info.acknowledged {
                self.callbacks.push(cb);
                self.violate(
                    seq,
                    "callback",
                    "interaction_already_acknowledged",
                    "a second callback for the same interaction".into(),
                    body,
                );
                return Answer::error(400, 40060, "Interaction has already been acknowledged.");
            }
            let elapsed = info.created.elapsed();
            if elapsed > self.interaction_deadline {
                self.callbacks.push(cb);
                self.violate(
                    seq,
                    "callback",
                    "interaction_timeout",
                    format!(
                        "answered after {elapsed:?} (deadline {:?})",
                        self.interaction_deadline
                    ),
                    body,
                );
                return Answer::error(404, 10062, "Unknown interaction");
            }
            if kind == 9 && info.kind == 5 {
                self.callbacks.push(cb);
                self.violate(
                    seq,
                    "callback",
                    "modal_from_modal",
                    "a modal cannot answer a modal submit".into(),
                    body,
                );
                return Answer::error(400, 50035, "Invalid Form Body");
            }
            if kind == 7 && info.kind != 3 && info.kind != 5 {
                self.callbacks.push(cb);
                self.violate(
                    seq,
                    "callback",
                    "update_without_message",
                    "type 7 is only valid for component/modal interactions".into(),
                    body,
                );
                return Answer::error(400, 50035, "Invalid Form Body");
            }
        }
        if let Some(i) = self.interactions.get_mut(&token) {
            i.acknowledged = true;
        }
        cb.accepted = true;
        self.callbacks.push(cb);
        let channel = info.as_ref().map(|i| i.channel_id).unwrap_or(0);
        let message = match kind {
            4 => {
                let m = self.new_message(channel, &data, Some(token), true);
                let v = self.message_json(&m);
                self.messages.push(m);
                Some(v)
            }
            7 => info
                .as_ref()
                .and_then(|i| i.message_id)
                .and_then(|mid| {
                    self.messages
                        .iter()
                        .position(|m| m.id == mid && m.channel_id == channel)
                })
                .map(|i| self.edit_message_at(i, &data)),
            _ => None,
        };
        if query.get("with_response").is_some_and(|v| v == "true") {
            let mut resource = json!({"type": kind});
            if let Some(m) = &message {
                resource["message"] = m.clone();
            }
            return Answer::ok(json!({
                "interaction": {
                    "id": interaction_id.to_string(),
                    "type": info.as_ref().map(|i| i.kind).unwrap_or(0),
                    "activity_instance_id": null,
                    "response_message_id": message.as_ref().map(|m| m["id"].clone()),
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": ephemeral,
                },
                "resource": resource,
            }));
        }
        Answer::no_content()
    }
}

fn rich(mut e: Value) -> Value {
    if e.is_object() && e.get("type").is_none_or(Value::is_null) {
        e["type"] = json!("rich");
    }
    e
}

fn user_json(id: u64, name: &str, bot: bool) -> Value {
    let mut u = json!({
        "id": id.to_string(),
        "username": name,
        "discriminator": if bot { "4821" } else { "0" },
        "global_name": if bot { Value::Null } else { json!(name) },
        "avatar": null,
        "public_flags": 0,
        "flags": 0,
        "banner": null,
        "accent_color": null,
    });
    if bot {
        u["bot"] = json!(true);
    }
    u
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64
}

fn format_ts(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

fn now_timestamp() -> String {
    format_ts(now_nanos() / 1_000_000)
}

/// The creation time encoded in a snowflake, in Discord's timestamp format.
pub fn snowflake_timestamp(id: u64) -> String {
    format_ts((id >> 22) + DISCORD_EPOCH_MS)
}

// ---------------------------------------------------------------------------------------
// Gateway
// ---------------------------------------------------------------------------------------

async fn accept_ws(listener: TcpListener, inner: Arc<Inner>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let conn_inner = inner.clone();
        let task = tokio::spawn(async move {
            let uri_slot = Arc::new(Mutex::new(String::new()));
            let slot = uri_slot.clone();
            #[allow(clippy::result_large_err)]
            let cb = move |req: &tokio_tungstenite::tungstenite::handshake::server::Request,
                           resp: tokio_tungstenite::tungstenite::handshake::server::Response| {
                *slot.lock().unwrap() = req.uri().to_string();
                Ok(resp)
            };
            let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, cb).await else {
                return;
            };
            let uri = uri_slot.lock().unwrap().clone();
            serve_ws(ws, conn_inner, uri).await;
        });
        inner
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(task.abort_handle());
    }
}

async fn serve_ws(
    mut ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    inner: Arc<Inner>,
    uri: String,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<WsCommand>();
    let id = inner.seq.fetch_add(1, Ordering::SeqCst);
    let hello = {
        let mut st = inner.lock();
        st.gw_request_uris.push(uri.clone());
        if !uri.starts_with("/ws") || !uri.contains("v=10") {
            st.violate(
                0,
                "gateway",
                "gateway_url",
                format!("websocket opened at {uri} (expected /ws?v=10...)"),
                &Value::Null,
            );
        }
        let hello = json!({"op": 10, "d": {"heartbeat_interval": st.heartbeat_ms,
                           "_trace": ["[\"gateway-prd-fake\",{\"micros\":0.0}]"]}, "s": null, "t": null});
        st.gw_sent.push(hello.clone());
        hello
    };
    if ws.send(WsMessage::text(hello.to_string())).await.is_err() {
        return;
    }
    {
        let mut st = inner.lock();
        st.gw_connections_total += 1;
        st.gw_conns.push(GatewayConn {
            id,
            tx: tx.clone(),
            session_id: None,
        });
    }
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(WsCommand::Send(text)) => {
                    if ws.send(WsMessage::text(text)).await.is_err() {
                        break;
                    }
                }
                Some(WsCommand::Close(code, reason)) => {
                    let _ = ws.close(Some(CloseFrame { code: CloseCode::from(code), reason: reason.into() })).await;
                    // Drain until the client answers the close (or goes away).
                    let _ = tokio::time::timeout(Duration::from_secs(2), async {
                        while let Some(Ok(_)) = ws.next().await {}
                    }).await;
                    inner.lock().gw_conns.retain(|c| c.id != id);
                    return;
                }
                Some(WsCommand::Drop) | None => {
                    inner.lock().gw_conns.retain(|c| c.id != id);
                    return;
                }
            },
            msg = ws.next() => match msg {
                Some(Ok(WsMessage::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap_or_else(|_| Value::String(t.to_string()));
                    handle_gateway_frame(&inner, id, &tx, v);
                }
                Some(Ok(WsMessage::Binary(_))) => {
                    inner.lock().violate(0, "gateway", "gateway_binary_frame", "client sent a binary frame".into(), &Value::Null);
                }
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    inner.lock().gw_conns.retain(|c| c.id != id);
    let _ = ws.close(None).await;
}

fn handle_gateway_frame(
    inner: &Arc<Inner>,
    conn_id: u64,
    tx: &mpsc::UnboundedSender<WsCommand>,
    v: Value,
) {
    let mut st = inner.lock();
    st.gw_received.push(v.clone());
    let send = |st: &mut State, frame: Value| {
        let _ = tx.send(WsCommand::Send(frame.to_string()));
        st.gw_sent.push(frame);
    };
    match v["op"].as_u64() {
        Some(1) => {
            st.gw_heartbeats += 1;
            send(&mut st, json!({"op": 11, "d": null, "s": null, "t": null}));
        }
        Some(2) => {
            let d = &v["d"];
            let token = d["token"].as_str().unwrap_or("").to_string();
            st.gw_identifies.push(Identify {
                connection_id: conn_id,
                token: token.clone(),
                intents: d["intents"].as_u64().unwrap_or(0),
                compress: d["compress"].as_bool(),
                shard: d.get("shard").cloned(),
                raw: v.clone(),
            });
            if token.trim_start_matches("Bot ") != st.token {
                st.violate(
                    0,
                    "gateway",
                    "gateway_auth",
                    "Identify with a wrong token".into(),
                    &Value::Null,
                );
                let _ = tx.send(WsCommand::Close(4004, "Authentication failed.".into()));
                return;
            }
            if st
                .gw_conns
                .iter()
                .any(|c| c.id == conn_id && c.session_id.is_some())
            {
                let _ = tx.send(WsCommand::Close(4005, "Already authenticated.".into()));
                return;
            }
            let session_id = format!(
                "{:032x}",
                (u128::from(now_nanos()) << 32) ^ u128::from(conn_id)
            );
            st.gw_sessions.push(GatewaySession {
                session_id: session_id.clone(),
                seq: 0,
                events: Vec::new(),
            });
            if let Some(c) = st.gw_conns.iter_mut().find(|c| c.id == conn_id) {
                c.session_id = Some(session_id.clone());
            }
            let mut user = user_json(BOT_USER_ID, BOT_NAME, true);
            user["verified"] = json!(true);
            user["mfa_enabled"] = json!(false);
            let guilds: Vec<Value> = st
                .guilds
                .keys()
                .map(|g| json!({"id": g.to_string(), "unavailable": true}))
                .collect();
            let mut ready = json!({
                "v": 10,
                "user_settings": {},
                "user": user,
                "guilds": guilds,
                "session_type": "normal",
                "session_id": session_id,
                "resume_gateway_url": inner.ws_url(),
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": ["fake"],
                "application": {"id": APPLICATION_ID.to_string(), "flags": 8_953_856},
                "_trace": ["[\"gateway-prd-fake\",{\"micros\":0.0}]"],
            });
            if let Some(shard) = d.get("shard").filter(|s| s.is_array()) {
                ready["shard"] = shard.clone();
            }
            let guild_creates: Vec<Value> = st
                .guilds
                .keys()
                .filter_map(|g| st.guild_create_json(*g))
                .collect();
            let mut events = vec![("READY", ready)];
            events.extend(guild_creates.into_iter().map(|g| ("GUILD_CREATE", g)));
            for (name, data) in events {
                let sess = st
                    .gw_sessions
                    .iter_mut()
                    .find(|s| s.session_id == session_id)
                    .unwrap();
                sess.seq += 1;
                let frame = json!({"op": 0, "t": name, "s": sess.seq, "d": data});
                sess.events.push((sess.seq, frame.to_string()));
                send(&mut st, frame);
            }
        }
        Some(6) => {
            st.gw_resumes.push(v.clone());
            let d = &v["d"];
            let sid = d["session_id"].as_str().unwrap_or("").to_string();
            let from = d["seq"].as_u64().unwrap_or(0);
            if d["token"].as_str().unwrap_or("").trim_start_matches("Bot ") != st.token {
                let _ = tx.send(WsCommand::Close(4004, "Authentication failed.".into()));
                return;
            }
            let Some(sess) = st.gw_sessions.iter_mut().find(|s| s.session_id == sid) else {
                send(&mut st, json!({"op": 9, "d": false, "s": null, "t": null}));
                return;
            };
            let replay: Vec<String> = sess
                .events
                .iter()
                .filter(|(s, _)| *s > from)
                .map(|(_, f)| f.clone())
                .collect();
            sess.seq += 1;
            let resumed =
                json!({"op": 0, "t": "RESUMED", "s": sess.seq, "d": {"_trace": ["fake"]}});
            sess.events.push((sess.seq, resumed.to_string()));
            for f in replay {
                let _ = tx.send(WsCommand::Send(f));
            }
            if let Some(c) = st.gw_conns.iter_mut().find(|c| c.id == conn_id) {
                c.session_id = Some(sid);
            }
            send(&mut st, resumed);
        }
        _ => {} // presence updates, member requests...: recorded only
    }
}
