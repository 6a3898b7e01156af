//! A fake Slack for the integration tests: the Web API over HTTP and Socket Mode over a
//! websocket, both on random loopback ports, with state (channels, threads, views), call
//! recording, contract checks (required arguments from Slack's OpenAPI spec, Block Kit
//! limits, broadcast mentions) and scriptable faults (429, 5xx, slow answers, errors).
//!
//! Point slack-morphism at it with [`FakeSlack::slack_connector`] or
//! `SlackClientHyperConnector::with_connector(..).with_slack_api_url(&fake.api_url())`.
//! Note: slack-morphism joins the base URL and the method with `format!("{base}/{method}")`,
//! so [`FakeSlack::api_url`] has NO trailing slash (the server tolerates `//` anyway).
#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
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

pub const BOT_TOKEN: &str = "xoxb-test";
pub const APP_TOKEN: &str = "xapp-test";
pub const BOT_USER_ID: &str = "U0BOT";
pub const BOT_ID: &str = "B0BOT";
pub const TEAM_ID: &str = "T0FAKE";
pub const APP_ID: &str = "A1";
pub const PERMALINK_BASE: &str = "https://fake.slack.test";

const SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/slack/openapi/slack_web_openapi_v2.json"
);

/// Methods the fake implements (anything else answers `unknown_method`).
const IMPLEMENTED: &[&str] = &[
    "api.test",
    "auth.test",
    "apps.connections.open",
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "chat.getPermalink",
    "conversations.history",
    "conversations.replies",
    "views.open",
    "views.push",
    "views.update",
    "views.publish",
    "usergroups.users.list",
    "users.conversations",
    "users.info",
];

/// Methods whose `text`/`blocks`/`attachments` are a message.
const MESSAGE_METHODS: &[&str] = &["chat.postMessage", "chat.update", "chat.postEphemeral"];
const VIEW_METHODS: &[&str] = &["views.open", "views.push", "views.update", "views.publish"];
const FORBIDDEN_MENTIONS: &[&str] = &["<!channel", "<!here", "<!everyone", "<!subteam^"];

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

/// A scripted failure.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// HTTP 429, `Retry-After: {retry_after_secs}`, body `{"ok":false,"error":"ratelimited"}`.
    RateLimited { retry_after_secs: u64 },
    /// That HTTP status with body `{"ok":false,"error":"fatal_error"}`.
    ServerError(u16),
    /// Sleep, then answer normally.
    Slow(Duration),
    /// HTTP 200 `{"ok":false,"error":CODE}` (e.g. `channel_not_found`, `is_archived`).
    Error(String),
}

/// One recorded Web API call.
#[derive(Clone, Debug)]
pub struct Call {
    /// Order of arrival.
    pub seq: u64,
    /// Slack method, e.g. `chat.postMessage`.
    pub method: String,
    /// `GET`/`POST`.
    pub http_method: String,
    pub content_type: Option<String>,
    pub token: Option<String>,
    /// Query string and body merged (body wins), JSON bodies as sent, form/query values as
    /// strings.
    pub args: Value,
    /// When the request arrived.
    pub at: Instant,
    pub received_at: SystemTime,
    /// HTTP status returned.
    pub status: u16,
    /// Body returned.
    pub response: Value,
    /// The fault injected into this call, if any.
    pub fault: Option<Fault>,
}

impl Call {
    pub fn ok(&self) -> bool {
        self.status == 200 && self.response["ok"] == json!(true)
    }
    pub fn error(&self) -> Option<&str> {
        self.response["error"].as_str()
    }
    pub fn arg(&self, name: &str) -> Option<&Value> {
        self.args.get(name)
    }
    /// A string argument (numbers and booleans rendered).
    pub fn arg_str(&self, name: &str) -> Option<String> {
        self.args.get(name).and_then(value_as_string)
    }
    /// An argument that may be JSON-in-a-string (form-encoded `blocks`, `view`, `metadata`).
    pub fn arg_json(&self, name: &str) -> Option<Value> {
        self.args.get(name).map(json_arg)
    }
}

/// A broken contract: the call was answered with a Slack error and recorded here.
#[derive(Clone, Debug)]
pub struct Violation {
    pub call_seq: u64,
    pub method: String,
    /// Short rule name, e.g. `missing_required_argument`, `too_many_blocks`,
    /// `broadcast_mention`, `section_text_too_long`.
    pub rule: String,
    pub detail: String,
    pub args: Value,
}

/// A message as the fake stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredMessage {
    pub channel: String,
    pub ts: String,
    /// The parent's ts for thread replies (None for top-level messages).
    pub thread_ts: Option<String>,
    pub user: String,
    pub bot_id: Option<String>,
    pub text: Option<String>,
    pub blocks: Option<Value>,
    pub attachments: Option<Value>,
    /// `{event_type, event_payload}` as sent.
    pub metadata: Option<Value>,
    /// Set for `chat.postEphemeral`: the user who sees it.
    pub ephemeral_to: Option<String>,
    pub reply_broadcast: bool,
    /// ts of the last `chat.update`.
    pub edited_ts: Option<String>,
    pub update_count: u32,
}

impl StoredMessage {
    pub fn is_reply(&self) -> bool {
        self.thread_ts.is_some()
    }
}

/// A view opened/pushed/updated/published through the fake.
#[derive(Clone, Debug)]
pub struct StoredView {
    pub id: String,
    /// `open`, `push`, `publish`; updates keep the original kind.
    pub kind: String,
    pub trigger_id: Option<String>,
    pub user_id: Option<String>,
    /// The view as Slack returns it (with `id`, `hash`, `state`...).
    pub view: Value,
    pub update_count: u32,
}

/// A frame received on the Socket Mode websocket that carried an `envelope_id`.
#[derive(Clone, Debug)]
pub struct SocketAck {
    pub envelope_id: String,
    pub payload: Option<Value>,
    pub raw: Value,
    pub connection_id: u64,
    pub at: Instant,
}

// ---------------------------------------------------------------------------------------
// Internal state
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct FaultRule {
    method: String,
    channel: Option<String>,
    remaining: Option<u32>,
    until: Option<Instant>,
    fault: Fault,
}

enum WsCommand {
    Send(String),
    Drop,
}

struct SocketConn {
    id: u64,
    tx: mpsc::UnboundedSender<WsCommand>,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    violations: Vec<Violation>,
    messages: Vec<StoredMessage>,
    views: Vec<StoredView>,
    used_triggers: HashSet<String>,
    last_ts_micros: u128,
    usergroups: HashMap<String, Vec<String>>,
    user_channels: HashMap<String, Vec<String>>,
    users: HashMap<String, (String, String)>,
    channel_names: HashMap<String, String>,
    faults: Vec<FaultRule>,
    limits: HashMap<String, (u32, Duration)>,
    accepted: HashMap<(String, String), Vec<Instant>>,
    socket_conns: Vec<SocketConn>,
    socket_connections_total: u64,
    socket_rr: usize,
    socket_sent: Vec<Value>,
    socket_pending: VecDeque<String>,
    socket_frames: Vec<Value>,
    socket_acks: Vec<SocketAck>,
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
}

/// The fake Slack. Shuts down (aborts its tasks) on drop.
pub struct FakeSlack {
    inner: Arc<Inner>,
    addr: SocketAddr,
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        let tasks =
            std::mem::take(&mut *self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        for t in tasks {
            t.abort();
        }
        // Break the Arc cycles held by connection senders.
        self.inner.lock().socket_conns.clear();
    }
}

// ---------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------

impl FakeSlack {
    /// Bind the Web API and the Socket Mode listener on `127.0.0.1:0` and serve them.
    pub async fn start() -> FakeSlack {
        spec(); // load (and fail loudly) before any test traffic
        let http = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake slack http");
        let ws = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake slack ws");
        let addr = http.local_addr().unwrap();
        let ws_addr = ws.local_addr().unwrap();
        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
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
        FakeSlack { inner, addr }
    }

    /// Base URL for `SlackClientHyperConnector::with_slack_api_url`:
    /// `http://127.0.0.1:PORT/api` (no trailing slash: slack-morphism adds `/{method}`).
    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Socket Mode websocket URL (what `apps.connections.open` returns, minus the query).
    pub fn socket_url(&self) -> String {
        format!("ws://{}/link", self.inner.ws_addr)
    }

    /// A slack-morphism connector pointed at the fake (plain HTTP allowed, HTTP/1).
    pub fn slack_connector(&self) -> slack_morphism::prelude::SlackClientHyperHttpsConnector {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .expect("native roots")
            .https_or_http()
            .enable_http1()
            .build();
        slack_morphism::prelude::SlackClientHyperConnector::with_connector(https)
            .with_slack_api_url(&self.api_url())
    }

    /// A slack-morphism client pointed at the fake.
    pub fn slack_client(&self) -> Arc<slack_morphism::prelude::SlackHyperClient> {
        Arc::new(slack_morphism::prelude::SlackClient::new(
            self.slack_connector(),
        ))
    }

    // ----- recording -----

    /// Every call so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        let mut v = self.inner.lock().calls.clone();
        v.sort_by_key(|c| c.seq);
        v
    }

    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
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
            "fake Slack recorded {} violation(s):\n{}",
            v.len(),
            v.iter()
                .map(|v| format!("  {} [{}]: {}", v.method, v.rule, v.detail))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    // ----- state inspection -----

    /// Top-level (non-reply, non-ephemeral) messages of a channel, oldest first.
    pub fn messages(&self, channel: &str) -> Vec<StoredMessage> {
        self.inner
            .lock()
            .messages
            .iter()
            .filter(|m| m.channel == channel && m.ephemeral_to.is_none() && m.thread_ts.is_none())
            .cloned()
            .collect()
    }

    /// Every non-ephemeral message of a channel (top-level and replies), in post order.
    pub fn all_messages(&self, channel: &str) -> Vec<StoredMessage> {
        self.inner
            .lock()
            .messages
            .iter()
            .filter(|m| m.channel == channel && m.ephemeral_to.is_none())
            .cloned()
            .collect()
    }

    /// Replies under `ts` (not including the parent), oldest first.
    pub fn thread(&self, channel: &str, ts: &str) -> Vec<StoredMessage> {
        self.inner
            .lock()
            .messages
            .iter()
            .filter(|m| {
                m.channel == channel
                    && m.ephemeral_to.is_none()
                    && m.thread_ts.as_deref() == Some(ts)
            })
            .cloned()
            .collect()
    }

    /// Any stored non-ephemeral message (top-level or reply).
    pub fn message(&self, channel: &str, ts: &str) -> Option<StoredMessage> {
        self.inner
            .lock()
            .messages
            .iter()
            .find(|m| m.channel == channel && m.ts == ts && m.ephemeral_to.is_none())
            .cloned()
    }

    /// Ephemeral messages posted in a channel.
    pub fn ephemerals(&self, channel: &str) -> Vec<StoredMessage> {
        self.inner
            .lock()
            .messages
            .iter()
            .filter(|m| m.channel == channel && m.ephemeral_to.is_some())
            .cloned()
            .collect()
    }

    /// Views in the order they were first opened/pushed/published (latest content).
    pub fn views(&self) -> Vec<StoredView> {
        self.inner.lock().views.clone()
    }

    pub fn view(&self, id: &str) -> Option<StoredView> {
        self.inner.lock().views.iter().find(|v| v.id == id).cloned()
    }

    // ----- state setup -----

    pub fn set_usergroup(&self, usergroup: &str, users: &[&str]) {
        self.inner.lock().usergroups.insert(
            usergroup.to_string(),
            users.iter().map(|s| s.to_string()).collect(),
        );
    }

    /// Channels `users.conversations` returns for that user. Once set, `chat.postEphemeral`
    /// to that user in another channel fails with `user_not_in_channel`, like Slack.
    pub fn set_user_channels(&self, user: &str, channels: &[&str]) {
        self.inner.lock().user_channels.insert(
            user.to_string(),
            channels.iter().map(|s| s.to_string()).collect(),
        );
    }

    /// `users.info` answer for a user (unknown users get `name = lowercase id`,
    /// `real_name = "User {id}"`).
    pub fn set_user(&self, user: &str, name: &str, real_name: &str) {
        self.inner
            .lock()
            .users
            .insert(user.to_string(), (name.to_string(), real_name.to_string()));
    }

    pub fn set_channel_name(&self, channel: &str, name: &str) {
        self.inner
            .lock()
            .channel_names
            .insert(channel.to_string(), name.to_string());
    }

    /// Store a message from a human (not via the API, not recorded as a call); returns its ts.
    pub fn add_user_message(&self, channel: &str, user: &str, text: &str) -> String {
        self.add_user_message_in(channel, None, user, text)
    }

    /// Store a human's reply in a thread; returns its ts.
    pub fn add_user_reply(&self, channel: &str, thread_ts: &str, user: &str, text: &str) -> String {
        self.add_user_message_in(channel, Some(thread_ts), user, text)
    }

    fn add_user_message_in(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        user: &str,
        text: &str,
    ) -> String {
        let mut st = self.inner.lock();
        let ts = st.next_ts();
        st.messages.push(StoredMessage {
            channel: channel.to_string(),
            ts: ts.clone(),
            thread_ts: thread_ts.map(str::to_string),
            user: user.to_string(),
            bot_id: None,
            text: Some(text.to_string()),
            blocks: None,
            attachments: None,
            metadata: None,
            ephemeral_to: None,
            reply_broadcast: false,
            edited_ts: None,
            update_count: 0,
        });
        ts
    }

    // ----- faults and rate limits -----

    /// The next `n` calls to `method` (`"*"` = any method) get `fault`.
    pub fn fail_next(&self, method: &str, n: u32, fault: Fault) {
        self.push_fault(method, None, Some(n), None, fault);
    }

    /// The next `n` calls to `method` for `channel` get `fault`.
    pub fn fail_next_in_channel(&self, method: &str, channel: &str, n: u32, fault: Fault) {
        self.push_fault(method, Some(channel), Some(n), None, fault);
    }

    /// Every call to `method` (`"*"` = any) gets `fault` for `duration` from now.
    pub fn fail_for(&self, method: &str, duration: Duration, fault: Fault) {
        self.push_fault(method, None, None, Some(Instant::now() + duration), fault);
    }

    pub fn fail_for_in_channel(
        &self,
        method: &str,
        channel: &str,
        duration: Duration,
        fault: Fault,
    ) {
        self.push_fault(
            method,
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
        method: &str,
        channel: Option<&str>,
        remaining: Option<u32>,
        until: Option<Instant>,
        fault: Fault,
    ) {
        self.inner.lock().faults.push(FaultRule {
            method: method.to_string(),
            channel: channel.map(str::to_string),
            remaining,
            until,
            fault,
        });
    }

    /// Calls to `method` faster than `per_second` to one channel get 429 + Retry-After.
    pub fn limit_per_channel(&self, method: &str, per_second: u32) {
        self.limit_per_channel_window(method, per_second, Duration::from_secs(1));
    }

    /// At most `max_calls` accepted calls to `method` per channel in any sliding `window`.
    pub fn limit_per_channel_window(&self, method: &str, max_calls: u32, window: Duration) {
        self.inner
            .lock()
            .limits
            .insert(method.to_string(), (max_calls, window));
    }

    pub fn clear_limits(&self) {
        self.inner.lock().limits.clear();
    }

    /// Arrival times of the calls to `method` in `channel` that were accepted (not 429'd by
    /// the rate limiter, not faulted, authenticated).
    pub fn accepted_times(&self, method: &str, channel: &str) -> Vec<Instant> {
        self.inner
            .lock()
            .accepted
            .get(&(method.to_string(), channel.to_string()))
            .cloned()
            .unwrap_or_default()
    }

    /// The most accepted calls to `method` in `channel` within any 1-second window.
    pub fn max_rate_observed(&self, method: &str, channel: &str) -> usize {
        self.max_calls_in_window(method, channel, Duration::from_secs(1))
    }

    /// The most accepted calls to `method` in `channel` within any sliding `window`.
    pub fn max_calls_in_window(&self, method: &str, channel: &str, window: Duration) -> usize {
        let times = self.accepted_times(method, channel);
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

    // ----- Socket Mode -----

    /// Push an envelope (`events_api`, `interactive`, `slash_commands`) to one connected
    /// client (round robin; queued until a client connects). Returns the envelope id.
    pub fn socket_send(&self, envelope_type: &str, payload: Value) -> String {
        let envelope_id = format!(
            "{:08x}-fake-4e1d-9a2b-{:012x}",
            self.inner.seq.fetch_add(1, Ordering::SeqCst),
            now_micros() & 0xffff_ffff_ffff
        );
        let envelope = json!({
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload(envelope_type, &payload),
            "retry_attempt": 0,
            "retry_reason": "",
        });
        self.socket_send_raw(envelope);
        envelope_id
    }

    /// An `events_api` payload (`event_callback`) around `event` (`{"type":"app_mention",..}`).
    pub fn events_api_payload(&self, event: Value) -> Value {
        let n = self.inner.seq.fetch_add(1, Ordering::SeqCst);
        json!({
            "token": "fake-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": format!("Ev{n:010}"),
            "event_time": now_micros() / 1_000_000,
            "authorizations": [{"enterprise_id": null, "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                                 "is_bot": true, "is_enterprise_install": false}],
            "is_ext_shared_channel": false,
        })
    }

    /// A `slash_commands` payload; its `response_url` points at this fake (see
    /// [`FakeSlack::response_url`]) and its `trigger_id` is fresh.
    pub fn slash_command_payload(
        &self,
        command: &str,
        text: &str,
        user: &str,
        channel: &str,
    ) -> Value {
        let n = self.inner.seq.fetch_add(1, Ordering::SeqCst);
        json!({
            "token": "fake-verification-token",
            "api_app_id": APP_ID,
            "team_id": TEAM_ID,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": channel.to_lowercase(),
            "user_id": user,
            "user_name": user.to_lowercase(),
            "command": command,
            "text": text,
            "response_url": self.response_url(),
            "trigger_id": format!("{n}.fake.trigger"),
            "is_enterprise_install": false,
        })
    }

    /// A fresh response URL served by this fake: POSTs to it are recorded as calls with
    /// method `response_url` (args = the JSON body, `http_method` = POST) and answered
    /// `{"ok":true}`.
    pub fn response_url(&self) -> String {
        let n = self.inner.seq.fetch_add(1, Ordering::SeqCst);
        format!("{}/response_url/{n}", self.base_url())
    }

    /// The DM channel id the fake uses when `chat.postMessage` is sent to a user id.
    pub fn dm_channel(user: &str) -> String {
        format!("D{user}")
    }

    /// Push any frame as-is (to one client, round robin; queued if none is connected).
    pub fn socket_send_raw(&self, frame: Value) {
        let text = frame.to_string();
        let mut st = self.inner.lock();
        st.socket_sent.push(frame);
        st.deliver(text);
    }

    /// Send `{"type":"disconnect","reason":"refresh_requested"}` to every connected client.
    pub fn socket_disconnect(&self) {
        let frame = json!({
            "type": "disconnect",
            "reason": "refresh_requested",
            "debug_info": {"host": "fake-slack"}
        });
        let mut st = self.inner.lock();
        st.socket_sent.push(frame.clone());
        let text = frame.to_string();
        st.socket_conns
            .retain(|c| c.tx.send(WsCommand::Send(text.clone())).is_ok());
    }

    /// Drop every websocket connection without a close frame (a network failure).
    pub fn socket_drop_connections(&self) {
        let mut st = self.inner.lock();
        for c in st.socket_conns.drain(..) {
            let _ = c.tx.send(WsCommand::Drop);
        }
    }

    /// Frames with an `envelope_id` received from clients.
    pub fn socket_acks(&self) -> Vec<SocketAck> {
        self.inner.lock().socket_acks.clone()
    }

    /// Every frame received from clients (parsed JSON; non-JSON as a string).
    pub fn socket_frames_received(&self) -> Vec<Value> {
        self.inner.lock().socket_frames.clone()
    }

    /// Every frame sent to clients (hello frames excluded).
    pub fn socket_frames_sent(&self) -> Vec<Value> {
        self.inner.lock().socket_sent.clone()
    }

    /// Live websocket connections (hello sent, not closed).
    pub fn socket_connection_count(&self) -> usize {
        self.inner.lock().socket_conns.len()
    }

    /// Connections accepted since start (grows on reconnects).
    pub fn socket_connections_total(&self) -> u64 {
        self.inner.lock().socket_connections_total
    }

    /// Wait for the ack of an envelope: the whole ack frame (`{"envelope_id":..,"payload":..}`).
    pub async fn wait_for_ack(&self, envelope_id: &str, timeout: Duration) -> Option<Value> {
        let found = self
            .wait_until(timeout, || {
                self.inner
                    .lock()
                    .socket_acks
                    .iter()
                    .any(|a| a.envelope_id == envelope_id)
            })
            .await;
        if !found {
            return None;
        }
        self.inner
            .lock()
            .socket_acks
            .iter()
            .find(|a| a.envelope_id == envelope_id)
            .map(|a| a.raw.clone())
    }

    /// Wait until at least one client is connected (and got its hello).
    pub async fn wait_for_socket_connection(&self, timeout: Duration) -> bool {
        self.wait_until(timeout, || self.socket_connection_count() > 0)
            .await
    }

    /// Wait until `n` connections were accepted in total (reconnect tests).
    pub async fn wait_for_socket_connections_total(&self, n: u64, timeout: Duration) -> bool {
        self.wait_until(timeout, || self.socket_connections_total() >= n)
            .await
    }

    // ----- waiting -----

    /// Wait until at least `n` calls to `method` were answered; returns the calls so far.
    pub async fn wait_for_calls(&self, method: &str, n: usize, timeout: Duration) -> Vec<Call> {
        self.wait_until(timeout, || self.calls_to(method).len() >= n)
            .await;
        self.calls_to(method)
    }

    /// Wait until the channel has at least `n` top-level messages; returns them.
    pub async fn wait_for_messages(
        &self,
        channel: &str,
        n: usize,
        timeout: Duration,
    ) -> Vec<StoredMessage> {
        self.wait_until(timeout, || self.messages(channel).len() >= n)
            .await;
        self.messages(channel)
    }

    /// Poll `cond` every 10 ms until it holds (true) or `timeout` passes (false).
    pub async fn wait_until(&self, timeout: Duration, cond: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if cond() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

// ---------------------------------------------------------------------------------------
// OpenAPI: required arguments per method
// ---------------------------------------------------------------------------------------

fn spec() -> &'static HashMap<String, Vec<String>> {
    static SPEC: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(SPEC_PATH)
            .unwrap_or_else(|e| panic!("fake Slack: cannot read {SPEC_PATH}: {e}"));
        let doc: Value = serde_json::from_str(&text).expect("fake Slack: OpenAPI spec is JSON");
        let mut out = HashMap::new();
        for (path, ops) in doc["paths"].as_object().expect("paths") {
            let method = path.trim_start_matches('/').to_string();
            let mut required: Vec<String> = Vec::new();
            for op in ops.as_object().into_iter().flat_map(|o| o.values()) {
                for p in op["parameters"].as_array().into_iter().flatten() {
                    if p["required"] == json!(true)
                        && let Some(name) = p["name"].as_str()
                        && name != "token"
                        && !required.iter().any(|r| r == name)
                    {
                        required.push(name.to_string());
                    }
                }
            }
            out.insert(method, required);
        }
        out
    })
}

/// The arguments the OpenAPI spec marks required for `method` (without `token`); `None`
/// when the spec does not know the method.
pub fn required_args(method: &str) -> Option<Vec<String>> {
    spec().get(method).cloned()
}

// ---------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------

struct Answer {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
    fault: Option<Fault>,
}

impl Answer {
    fn ok(mut body: Value) -> Answer {
        if let Value::Object(m) = &mut body {
            m.insert("ok".into(), json!(true));
        }
        Answer {
            status: StatusCode::OK,
            body,
            retry_after: None,
            fault: None,
        }
    }
    fn err(code: &str) -> Answer {
        Answer {
            status: StatusCode::OK,
            body: json!({"ok": false, "error": code}),
            retry_after: None,
            fault: None,
        }
    }
}

async fn handle_http(
    AxumState(inner): AxumState<Arc<Inner>>,
    http_method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let received_at = SystemTime::now();
    let seq = inner.seq.fetch_add(1, Ordering::SeqCst);
    let method = uri
        .path()
        .strip_prefix("/api")
        .map(|p| p.trim_start_matches('/').to_string())
        .unwrap_or_else(|| uri.path().to_string());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);

    let mut args = Map::new();
    if let Some(q) = uri.query() {
        for (k, v) in parse_form(q) {
            args.insert(k, Value::String(v));
        }
    }
    let mut bad_body = false;
    if !body.is_empty() {
        let ct = content_type.as_deref().unwrap_or("").to_ascii_lowercase();
        let looks_json =
            ct.contains("json") || (!ct.contains("form") && body.first() == Some(&b'{'));
        if looks_json {
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(m)) => args.extend(m),
                _ => bad_body = true,
            }
        } else {
            for (k, v) in parse_form(&String::from_utf8_lossy(&body)) {
                args.insert(k, Value::String(v));
            }
        }
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|s| s.trim().to_string())
        .or_else(|| args.get("token").and_then(value_as_string));
    args.remove("token");
    let args = Value::Object(args);

    let is_response_url = uri.path().starts_with("/response_url/");
    let method = if is_response_url {
        "response_url".to_string()
    } else {
        method
    };
    let answer = if bad_body {
        Answer::err("invalid_json")
    } else if is_response_url {
        Answer::ok(json!({}))
    } else {
        process(&inner, seq, &method, &args, token.as_deref()).await
    };

    let call = Call {
        seq,
        method,
        http_method: http_method.to_string(),
        content_type,
        token,
        args,
        at,
        received_at,
        status: answer.status.as_u16(),
        response: answer.body.clone(),
        fault: answer.fault.clone(),
    };
    inner.lock().calls.push(call);

    let mut resp = (answer.status, answer.body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Some(secs) = answer.retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

async fn process(
    inner: &Arc<Inner>,
    seq: u64,
    method: &str,
    args: &Value,
    token: Option<&str>,
) -> Answer {
    let known = IMPLEMENTED.contains(&method);
    if !known {
        if spec().contains_key(method) {
            inner.lock().violations.push(Violation {
                call_seq: seq,
                method: method.to_string(),
                rule: "unimplemented_in_fake".into(),
                detail: format!("{method} exists in Slack but the fake does not implement it"),
                args: args.clone(),
            });
        }
        return Answer::err("unknown_method");
    }

    // Authentication.
    let wants_app = method == "apps.connections.open";
    match token {
        None | Some("") => return Answer::err("not_authed"),
        Some(t) if wants_app && t.starts_with("xapp-") => {}
        Some(t) if !wants_app && t.starts_with("xoxb-") => {}
        Some(t) if t.starts_with("xapp-") || t.starts_with("xoxb-") || t.starts_with("xoxp-") => {
            return Answer::err("not_allowed_token_type");
        }
        Some(_) => return Answer::err("invalid_auth"),
    }

    let channel = args.get("channel").and_then(value_as_string);

    // Scripted faults.
    let fault = inner.lock().take_fault(method, channel.as_deref());
    if let Some(fault) = fault {
        match &fault {
            Fault::Slow(d) => tokio::time::sleep(*d).await,
            Fault::RateLimited { retry_after_secs } => {
                return Answer {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    body: json!({"ok": false, "error": "ratelimited"}),
                    retry_after: Some(*retry_after_secs),
                    fault: Some(fault.clone()),
                };
            }
            Fault::ServerError(code) => {
                return Answer {
                    status: StatusCode::from_u16(*code)
                        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    body: json!({"ok": false, "error": "fatal_error"}),
                    retry_after: None,
                    fault: Some(fault.clone()),
                };
            }
            Fault::Error(code) => {
                let mut a = Answer::err(code);
                a.fault = Some(fault.clone());
                return a;
            }
        }
        // Slow: go on, but remember the fault on the call.
        let mut a = process_accepted(inner, seq, method, args, channel.as_deref());
        a.fault = Some(fault);
        return a;
    }
    process_accepted(inner, seq, method, args, channel.as_deref())
}

fn process_accepted(
    inner: &Arc<Inner>,
    seq: u64,
    method: &str,
    args: &Value,
    channel: Option<&str>,
) -> Answer {
    let mut st = inner.lock();
    let now = Instant::now();

    // Per-channel rate limit.
    if let Some(channel) = channel {
        let key = (method.to_string(), channel.to_string());
        if let Some(&(max, window)) = st.limits.get(method) {
            let times = st.accepted.get(&key).cloned().unwrap_or_default();
            let in_window: Vec<&Instant> = times
                .iter()
                .filter(|t| now.duration_since(**t) < window)
                .collect();
            if in_window.len() as u32 >= max.max(1) || max == 0 {
                let oldest = in_window.first().map(|t| **t).unwrap_or(now);
                let wait = (oldest + window).saturating_duration_since(now);
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                return Answer {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    body: json!({"ok": false, "error": "ratelimited"}),
                    retry_after: Some(secs.max(1)),
                    fault: None,
                };
            }
        }
        st.accepted.entry(key).or_default().push(now);
    }

    // Contract checks.
    let problems = validate(method, args);
    if let Some((first_error, _, _)) = problems.first() {
        let first_error = first_error.clone();
        let messages: Vec<String> = problems
            .iter()
            .map(|(_, rule, detail)| format!("[ERROR] {rule}: {detail}"))
            .collect();
        for (_, rule, detail) in problems {
            st.violations.push(Violation {
                call_seq: seq,
                method: method.to_string(),
                rule,
                detail,
                args: args.clone(),
            });
        }
        let mut a = Answer::err(&first_error);
        a.body["response_metadata"] = json!({ "messages": messages });
        return a;
    }

    match st.dispatch(inner, method, args) {
        Ok(body) => Answer::ok(body),
        Err(code) => Answer::err(&code),
    }
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/// (error code to answer, rule, detail)
type Problem = (String, String, String);

fn problem(out: &mut Vec<Problem>, error: &str, rule: &str, detail: String) {
    out.push((error.to_string(), rule.to_string(), detail));
}

fn validate(method: &str, args: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    if let Some(required) = spec().get(method) {
        for name in required {
            let missing = match args.get(name) {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => s.is_empty(),
                _ => false,
            };
            if missing {
                problem(
                    &mut out,
                    "invalid_arguments",
                    "missing_required_argument",
                    format!("{method} requires `{name}`"),
                );
            }
        }
    }

    if MESSAGE_METHODS.contains(&method) {
        validate_message(method, args, &mut out);
    }
    if VIEW_METHODS.contains(&method) {
        match args.get("view").map(json_arg) {
            Some(view @ Value::Object(_)) => validate_view(&view, &mut out),
            Some(other) if !other.is_null() => problem(
                &mut out,
                "invalid_arguments",
                "view_not_an_object",
                format!("`view` is not a JSON object: {other}"),
            ),
            _ => {}
        }
        if method == "views.update"
            && args.get("view_id").is_none()
            && args.get("external_id").is_none()
        {
            problem(
                &mut out,
                "invalid_arguments",
                "missing_required_argument",
                "views.update needs `view_id` or `external_id`".into(),
            );
        }
    }
    out
}

fn validate_message(method: &str, args: &Value, out: &mut Vec<Problem>) {
    let text = args.get("text").and_then(value_as_string);
    if let Some(t) = &text
        && t.chars().count() > 40_000
    {
        problem(
            out,
            "msg_too_long",
            "text_too_long",
            format!("message text is {} chars (max 40000)", t.chars().count()),
        );
    }
    let blocks = args.get("blocks").map(json_arg);
    match &blocks {
        Some(Value::Array(b)) => check_blocks(b, 50, "message", out),
        Some(Value::Null) | None => {}
        Some(other) => problem(
            out,
            "invalid_blocks_format",
            "blocks_not_an_array",
            format!("`blocks` is not a JSON array: {other}"),
        ),
    }
    let attachments = args.get("attachments").map(json_arg);
    if method != "chat.update" {
        let has_text = text.as_deref().is_some_and(|t| !t.is_empty());
        let has_blocks = matches!(&blocks, Some(Value::Array(b)) if !b.is_empty());
        let has_att = matches!(&attachments, Some(Value::Array(a)) if !a.is_empty());
        if !has_text && !has_blocks && !has_att {
            problem(
                out,
                "no_text",
                "no_text",
                format!("{method} without text, blocks or attachments"),
            );
        }
    }
    if let Some(md) = args.get("metadata").map(json_arg)
        && !md.is_null()
    {
        let ok = md.is_object()
            && md["event_type"].as_str().is_some_and(|s| !s.is_empty())
            && (md.get("event_payload").is_none() || md["event_payload"].is_object());
        if !ok {
            problem(
                out,
                "invalid_metadata_format",
                "invalid_metadata",
                format!("metadata must be {{event_type, event_payload{{}}}}, got {md}"),
            );
        }
    }
    // Broadcast mentions: these only come from unescaped third-party text.
    let mut strings = Vec::new();
    if let Some(t) = &text {
        strings.push(t.clone());
    }
    for v in [&blocks, &attachments].into_iter().flatten() {
        collect_strings(v, &mut strings);
    }
    for s in &strings {
        for m in FORBIDDEN_MENTIONS {
            if s.contains(m) {
                problem(
                    out,
                    "invalid_arguments",
                    "broadcast_mention",
                    format!(
                        "message contains `{m}` (unescaped text?): {}",
                        excerpt(s, m)
                    ),
                );
            }
        }
    }
}

fn excerpt(s: &str, needle: &str) -> String {
    let i = s.find(needle).unwrap_or(0);
    let start = s.floor_char_boundary(i.saturating_sub(30));
    let end = s.ceil_char_boundary((i + needle.len() + 30).min(s.len()));
    s[start..end].to_string()
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

fn text_len(v: &Value) -> usize {
    v.as_str().map(|s| s.chars().count()).unwrap_or(0)
}

fn check_len(out: &mut Vec<Problem>, v: &Value, max: usize, what: &str, rule: &str) {
    let n = text_len(v);
    if n > max {
        problem(
            out,
            "invalid_blocks",
            rule,
            format!("{what} is {n} chars (max {max})"),
        );
    }
}

fn check_blocks(blocks: &[Value], max_blocks: usize, surface: &str, out: &mut Vec<Problem>) {
    if blocks.len() > max_blocks {
        problem(
            out,
            "invalid_blocks",
            "too_many_blocks",
            format!("{surface} has {} blocks (max {max_blocks})", blocks.len()),
        );
    }
    for (i, b) in blocks.iter().enumerate() {
        let Some(kind) = b["type"].as_str() else {
            problem(
                out,
                "invalid_blocks",
                "block_without_type",
                format!("block {i} has no type"),
            );
            continue;
        };
        let at = format!("block {i} ({kind})");
        check_len(
            out,
            &b["block_id"],
            255,
            &format!("{at} block_id"),
            "block_id_too_long",
        );
        match kind {
            "section" => {
                if b.get("text").is_none() && b.get("fields").is_none() {
                    problem(
                        out,
                        "invalid_blocks",
                        "section_without_text",
                        format!("{at} has neither text nor fields"),
                    );
                }
                check_len(
                    out,
                    &b["text"]["text"],
                    3000,
                    &format!("{at} text"),
                    "section_text_too_long",
                );
                if let Some(fields) = b["fields"].as_array() {
                    if fields.len() > 10 {
                        problem(
                            out,
                            "invalid_blocks",
                            "too_many_fields",
                            format!("{at} has {} fields (max 10)", fields.len()),
                        );
                    }
                    for (j, f) in fields.iter().enumerate() {
                        check_len(
                            out,
                            &f["text"],
                            2000,
                            &format!("{at} field {j}"),
                            "field_too_long",
                        );
                    }
                }
                if let Some(acc) = b.get("accessory") {
                    check_element(acc, &format!("{at} accessory"), out);
                }
            }
            "header" => {
                if b["text"]["type"] != json!("plain_text") {
                    problem(
                        out,
                        "invalid_blocks",
                        "header_not_plain_text",
                        format!("{at} text must be plain_text"),
                    );
                }
                check_len(
                    out,
                    &b["text"]["text"],
                    150,
                    &format!("{at} text"),
                    "header_text_too_long",
                );
            }
            "actions" => {
                let els = b["elements"].as_array().cloned().unwrap_or_default();
                if els.is_empty() || els.len() > 25 {
                    problem(
                        out,
                        "invalid_blocks",
                        "actions_elements",
                        format!("{at} has {} elements (1..=25)", els.len()),
                    );
                }
                for (j, e) in els.iter().enumerate() {
                    check_element(e, &format!("{at} element {j}"), out);
                }
            }
            "context" => {
                let els = b["elements"].as_array().cloned().unwrap_or_default();
                if els.is_empty() || els.len() > 10 {
                    problem(
                        out,
                        "invalid_blocks",
                        "context_elements",
                        format!("{at} has {} elements (1..=10)", els.len()),
                    );
                }
                for (j, e) in els.iter().enumerate() {
                    check_len(
                        out,
                        &e["text"],
                        3000,
                        &format!("{at} element {j} text"),
                        "context_text_too_long",
                    );
                }
            }
            "input" => {
                check_len(
                    out,
                    &b["label"]["text"],
                    2000,
                    &format!("{at} label"),
                    "input_label_too_long",
                );
                check_len(
                    out,
                    &b["hint"]["text"],
                    2000,
                    &format!("{at} hint"),
                    "input_hint_too_long",
                );
                match b.get("element") {
                    Some(e) => check_element(e, &format!("{at} element"), out),
                    None => problem(
                        out,
                        "invalid_blocks",
                        "input_without_element",
                        format!("{at} has no element"),
                    ),
                }
            }
            "image" => {
                check_len(
                    out,
                    &b["alt_text"],
                    2000,
                    &format!("{at} alt_text"),
                    "image_alt_text_too_long",
                );
                check_len(
                    out,
                    &b["image_url"],
                    3000,
                    &format!("{at} image_url"),
                    "image_url_too_long",
                );
            }
            "divider" | "rich_text" | "file" | "video" | "markdown" | "context_actions" => {}
            other => problem(
                out,
                "invalid_blocks",
                "unknown_block_type",
                format!("block {i} has unknown type `{other}`"),
            ),
        }
    }
}

fn check_element(e: &Value, at: &str, out: &mut Vec<Problem>) {
    check_len(
        out,
        &e["action_id"],
        255,
        &format!("{at} action_id"),
        "action_id_too_long",
    );
    if e["type"] == json!("button") {
        check_len(
            out,
            &e["text"]["text"],
            75,
            &format!("{at} button text"),
            "button_text_too_long",
        );
        check_len(
            out,
            &e["value"],
            2000,
            &format!("{at} button value"),
            "button_value_too_long",
        );
        check_len(
            out,
            &e["url"],
            3000,
            &format!("{at} button url"),
            "button_url_too_long",
        );
    }
    for key in ["options", "initial_options"] {
        for (k, o) in e[key].as_array().into_iter().flatten().enumerate() {
            check_len(
                out,
                &o["text"]["text"],
                75,
                &format!("{at} {key} {k} text"),
                "option_text_too_long",
            );
            check_len(
                out,
                &o["value"],
                150,
                &format!("{at} {key} {k} value"),
                "option_value_too_long",
            );
        }
    }
}

fn validate_view(view: &Value, out: &mut Vec<Problem>) {
    let kind = view["type"].as_str().unwrap_or("");
    let blocks = view["blocks"].as_array().cloned().unwrap_or_default();
    let before = out.len();
    match kind {
        "modal" => {
            if view["title"]["text"].as_str().is_none() {
                problem(
                    out,
                    "invalid_arguments",
                    "modal_without_title",
                    "modal has no title".into(),
                );
            }
            for (key, max) in [("title", 24), ("submit", 24), ("close", 24)] {
                let n = text_len(&view[key]["text"]);
                if n > max {
                    problem(
                        out,
                        "invalid_arguments",
                        &format!("modal_{key}_too_long"),
                        format!("modal {key} is {n} chars (max {max})"),
                    );
                }
            }
            if blocks.iter().any(|b| b["type"] == json!("input")) && view.get("submit").is_none() {
                problem(
                    out,
                    "invalid_arguments",
                    "modal_input_without_submit",
                    "a modal with input blocks needs `submit`".into(),
                );
            }
            check_blocks(&blocks, 100, "modal", out);
        }
        "home" => check_blocks(&blocks, 100, "home tab", out),
        other => problem(
            out,
            "invalid_arguments",
            "unknown_view_type",
            format!("view type `{other}`"),
        ),
    }
    for (key, max) in [
        ("callback_id", 255),
        ("external_id", 255),
        ("private_metadata", 3000),
    ] {
        let n = text_len(&view[key]);
        if n > max {
            problem(
                out,
                "invalid_arguments",
                &format!("view_{key}_too_long"),
                format!("view {key} is {n} chars (max {max})"),
            );
        }
    }
    // Views answer `invalid_arguments` for block problems too.
    for p in &mut out[before..] {
        p.0 = "invalid_arguments".into();
    }
}

// ---------------------------------------------------------------------------------------
// Method behaviour
// ---------------------------------------------------------------------------------------

impl State {
    fn next_ts(&mut self) -> String {
        let now = now_micros().max(self.last_ts_micros + 1);
        self.last_ts_micros = now;
        format!("{}.{:06}", now / 1_000_000, now % 1_000_000)
    }

    fn take_fault(&mut self, method: &str, channel: Option<&str>) -> Option<Fault> {
        let now = Instant::now();
        self.faults
            .retain(|r| r.remaining.is_none_or(|n| n > 0) && r.until.is_none_or(|u| u > now));
        let rule = self.faults.iter_mut().find(|r| {
            (r.method == "*" || r.method == method)
                && r.channel.as_deref().is_none_or(|c| Some(c) == channel)
        })?;
        if let Some(n) = &mut rule.remaining {
            *n -= 1;
        }
        Some(rule.fault.clone())
    }

    fn deliver(&mut self, text: String) {
        while !self.socket_conns.is_empty() {
            let i = self.socket_rr % self.socket_conns.len();
            self.socket_rr = self.socket_rr.wrapping_add(1);
            if self.socket_conns[i]
                .tx
                .send(WsCommand::Send(text.clone()))
                .is_ok()
            {
                return;
            }
            self.socket_conns.remove(i);
        }
        self.socket_pending.push_back(text);
    }

    fn find(&self, channel: &str, ts: &str) -> Option<usize> {
        self.messages
            .iter()
            .position(|m| m.channel == channel && m.ts == ts && m.ephemeral_to.is_none())
    }

    fn message_json(&self, m: &StoredMessage, include_metadata: bool) -> Value {
        let mut v = json!({
            "type": "message",
            "ts": m.ts,
            "user": m.user,
            "text": m.text.clone().unwrap_or_default(),
            "team": TEAM_ID,
        });
        if let Some(b) = &m.bot_id {
            v["bot_id"] = json!(b);
            v["app_id"] = json!(APP_ID);
        }
        if let Some(b) = &m.blocks {
            v["blocks"] = b.clone();
        }
        if let Some(a) = &m.attachments {
            v["attachments"] = a.clone();
        }
        if include_metadata && let Some(md) = &m.metadata {
            v["metadata"] = md.clone();
        }
        if let Some(e) = &m.edited_ts {
            v["edited"] = json!({"user": m.user, "ts": e});
        }
        if let Some(parent) = &m.thread_ts {
            v["thread_ts"] = json!(parent);
            if let Some(p) = self.find(&m.channel, parent) {
                v["parent_user_id"] = json!(self.messages[p].user);
            }
            if m.reply_broadcast {
                v["subtype"] = json!("thread_broadcast");
            }
        } else {
            let replies: Vec<&StoredMessage> = self
                .messages
                .iter()
                .filter(|r| {
                    r.channel == m.channel
                        && r.ephemeral_to.is_none()
                        && r.thread_ts.as_deref() == Some(&m.ts)
                })
                .collect();
            if let Some(last) = replies.last() {
                let mut users: Vec<String> = Vec::new();
                for r in &replies {
                    if !users.contains(&r.user) {
                        users.push(r.user.clone());
                    }
                }
                v["thread_ts"] = json!(m.ts);
                v["reply_count"] = json!(replies.len());
                v["reply_users_count"] = json!(users.len());
                v["reply_users"] = json!(users);
                v["latest_reply"] = json!(last.ts);
            }
        }
        v
    }

    fn dispatch(
        &mut self,
        inner: &Arc<Inner>,
        method: &str,
        args: &Value,
    ) -> Result<Value, String> {
        let s = |name: &str| {
            args.get(name)
                .and_then(value_as_string)
                .filter(|s| !s.is_empty())
        };
        let b = |name: &str| args.get(name).is_some_and(value_as_bool);
        match method {
            "api.test" => Ok(json!({"args": args})),
            "auth.test" => Ok(json!({
                "url": format!("{PERMALINK_BASE}/"),
                "team": "Fake Team",
                "user": "remedybot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": false,
            })),
            "apps.connections.open" => Ok(json!({
                "url": format!(
                    "ws://{}/link?ticket={:016x}&app_id={APP_ID}",
                    inner.ws_addr,
                    inner.seq.fetch_add(1, Ordering::SeqCst) ^ 0x5eed_0000_0000
                )
            })),
            "chat.postMessage" | "chat.postEphemeral" => {
                let mut channel = s("channel").ok_or("channel_not_found")?;
                let ephemeral = method == "chat.postEphemeral";
                if !ephemeral && (channel.starts_with('U') || channel.starts_with('W')) {
                    // Posting to a user id posts into the app's DM with that user.
                    channel = FakeSlack::dm_channel(&channel);
                }
                let ephemeral_to = if ephemeral {
                    let user = s("user").ok_or("user_not_found")?;
                    if let Some(chans) = self.user_channels.get(&user)
                        && !chans.contains(&channel)
                    {
                        return Err("user_not_in_channel".into());
                    }
                    Some(user)
                } else {
                    None
                };
                let mut thread_ts = None;
                if let Some(t) = s("thread_ts") {
                    let i = self.find(&channel, &t).ok_or("thread_not_found")?;
                    thread_ts = Some(self.messages[i].thread_ts.clone().unwrap_or(t));
                }
                let ts = self.next_ts();
                let msg = StoredMessage {
                    channel: channel.clone(),
                    ts: ts.clone(),
                    thread_ts,
                    user: BOT_USER_ID.into(),
                    bot_id: Some(BOT_ID.into()),
                    text: s("text"),
                    blocks: args.get("blocks").map(json_arg).filter(|v| !v.is_null()),
                    attachments: args
                        .get("attachments")
                        .map(json_arg)
                        .filter(|v| !v.is_null()),
                    metadata: args.get("metadata").map(json_arg).filter(|v| !v.is_null()),
                    ephemeral_to,
                    reply_broadcast: b("reply_broadcast"),
                    edited_ts: None,
                    update_count: 0,
                };
                let body = if ephemeral {
                    json!({"message_ts": ts})
                } else {
                    json!({"channel": channel, "ts": ts, "message": self.message_json(&msg, true)})
                };
                self.messages.push(msg);
                Ok(body)
            }
            "chat.update" => {
                let channel = s("channel").ok_or("channel_not_found")?;
                let ts = s("ts").ok_or("message_not_found")?;
                let i = self.find(&channel, &ts).ok_or("message_not_found")?;
                if self.messages[i].bot_id.is_none() {
                    return Err("cant_update_message".into());
                }
                let edited = self.next_ts();
                let m = &mut self.messages[i];
                if args.get("text").is_some() {
                    m.text = s("text");
                }
                if let Some(bl) = args.get("blocks").map(json_arg) {
                    m.blocks = match bl {
                        Value::Array(a) if a.is_empty() => None,
                        Value::Null => m.blocks.take(),
                        other => Some(other),
                    };
                }
                if let Some(a) = args
                    .get("attachments")
                    .map(json_arg)
                    .filter(|v| !v.is_null())
                {
                    m.attachments = Some(a);
                }
                if let Some(md) = args.get("metadata").map(json_arg).filter(|v| !v.is_null()) {
                    m.metadata = Some(md);
                }
                m.edited_ts = Some(edited);
                m.update_count += 1;
                let m = self.messages[i].clone();
                let mut message = self.message_json(&m, true);
                if let Value::Object(o) = &mut message {
                    o.remove("ts");
                }
                let mut body = json!({
                    "channel": channel,
                    "ts": ts,
                    "text": m.text.clone().unwrap_or_default(),
                    "message": message,
                });
                if let Some(t) = &m.thread_ts {
                    body["thread_ts"] = json!(t);
                }
                Ok(body)
            }
            "chat.getPermalink" => {
                let channel = s("channel").ok_or("channel_not_found")?;
                let ts = s("message_ts").ok_or("message_not_found")?;
                let i = self.find(&channel, &ts).ok_or("message_not_found")?;
                let mut link = format!(
                    "{PERMALINK_BASE}/archives/{channel}/p{}",
                    ts.replace('.', "")
                );
                if let Some(parent) = &self.messages[i].thread_ts {
                    link.push_str(&format!("?thread_ts={parent}&cid={channel}"));
                }
                Ok(json!({"channel": channel, "permalink": link}))
            }
            "conversations.history" => {
                let channel = s("channel").ok_or("channel_not_found")?;
                let include_md = b("include_all_metadata");
                let inclusive = b("inclusive");
                let oldest = s("oldest").map(|t| ts_key(&t)).unwrap_or(0);
                let latest = s("latest").map(|t| ts_key(&t)).unwrap_or(u128::MAX);
                let limit = s("limit")
                    .and_then(|l| l.parse::<usize>().ok())
                    .filter(|l| *l > 0)
                    .unwrap_or(100);
                let offset = s("cursor")
                    .and_then(|c| {
                        c.strip_prefix("next:")
                            .and_then(|n| n.parse::<usize>().ok())
                    })
                    .unwrap_or(0);
                let mut msgs: Vec<&StoredMessage> = self
                    .messages
                    .iter()
                    .filter(|m| {
                        let k = ts_key(&m.ts);
                        m.channel == channel
                            && m.ephemeral_to.is_none()
                            && (m.thread_ts.is_none() || m.reply_broadcast)
                            && if inclusive {
                                k >= oldest && k <= latest
                            } else {
                                k > oldest && k < latest
                            }
                    })
                    .collect();
                msgs.reverse(); // newest first, like Slack
                let page: Vec<Value> = msgs
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|m| self.message_json(m, include_md))
                    .collect();
                let has_more = msgs.len() > offset + limit;
                let next = if has_more {
                    format!("next:{}", offset + limit)
                } else {
                    String::new()
                };
                Ok(json!({
                    "messages": page,
                    "has_more": has_more,
                    "pin_count": 0,
                    "response_metadata": {"next_cursor": next},
                }))
            }
            "conversations.replies" => {
                let channel = s("channel").ok_or("channel_not_found")?;
                let ts = s("ts").ok_or("thread_not_found")?;
                let include_md = b("include_all_metadata");
                let i = self.find(&channel, &ts).ok_or("thread_not_found")?;
                let parent_ts = self.messages[i].thread_ts.clone().unwrap_or(ts);
                let p = self.find(&channel, &parent_ts).ok_or("thread_not_found")?;
                let inclusive = b("inclusive");
                let oldest = s("oldest").map(|t| ts_key(&t)).unwrap_or(0);
                let latest = s("latest").map(|t| ts_key(&t)).unwrap_or(u128::MAX);
                let limit = s("limit")
                    .and_then(|l| l.parse::<usize>().ok())
                    .filter(|l| *l > 0)
                    .unwrap_or(1000);
                let mut all = vec![self.message_json(&self.messages[p], include_md)];
                let replies: Vec<&StoredMessage> = self
                    .messages
                    .iter()
                    .filter(|m| {
                        let k = ts_key(&m.ts);
                        m.channel == channel
                            && m.ephemeral_to.is_none()
                            && m.thread_ts.as_deref() == Some(&parent_ts)
                            && if inclusive {
                                k >= oldest && k <= latest
                            } else {
                                k > oldest && k < latest
                            }
                    })
                    .collect();
                all.extend(replies.iter().map(|m| self.message_json(m, include_md)));
                let has_more = all.len() > limit;
                all.truncate(limit);
                Ok(json!({
                    "messages": all,
                    "has_more": has_more,
                    "response_metadata": {"next_cursor": ""},
                }))
            }
            "views.open" | "views.push" | "views.publish" => {
                let view = args.get("view").map(json_arg).ok_or("invalid_arguments")?;
                let trigger_id = s("trigger_id");
                if method != "views.publish" {
                    let t = trigger_id.clone().ok_or("invalid_trigger_id")?;
                    if !self.used_triggers.insert(t) {
                        return Err("trigger_exchanged".into());
                    }
                }
                let user_id = s("user_id");
                if method == "views.publish" {
                    user_id.clone().ok_or("user_not_found")?;
                    // A user's home tab is one view: publish replaces it.
                    if let Some(existing) = self
                        .views
                        .iter_mut()
                        .find(|v| v.kind == "publish" && v.user_id == user_id)
                    {
                        let id = existing.id.clone();
                        existing.view = stateful_view(&view, &id, None);
                        existing.update_count += 1;
                        return Ok(json!({"view": existing.view}));
                    }
                }
                let id = format!("V{:010}", self.views.len() + 1);
                let previous = if method == "views.push" {
                    self.views
                        .iter()
                        .rev()
                        .find(|v| v.kind != "publish")
                        .map(|v| v.id.clone())
                } else {
                    None
                };
                let stored = stateful_view(&view, &id, previous.as_deref());
                self.views.push(StoredView {
                    id,
                    kind: method.trim_start_matches("views.").to_string(),
                    trigger_id,
                    user_id,
                    view: stored.clone(),
                    update_count: 0,
                });
                Ok(json!({"view": stored}))
            }
            "views.update" => {
                let view = args.get("view").map(json_arg).ok_or("invalid_arguments")?;
                let view_id = s("view_id");
                let external_id = s("external_id");
                let v = self
                    .views
                    .iter_mut()
                    .find(|v| {
                        Some(&v.id) == view_id.as_ref()
                            || (external_id.is_some()
                                && v.view["external_id"].as_str() == external_id.as_deref())
                    })
                    .ok_or("not_found")?;
                if let Some(h) = s("hash")
                    && v.view["hash"].as_str() != Some(h.as_str())
                {
                    return Err("hash_conflict".into());
                }
                let id = v.id.clone();
                let previous = v.view["previous_view_id"].as_str().map(str::to_string);
                v.view = stateful_view(&view, &id, previous.as_deref());
                v.update_count += 1;
                Ok(json!({"view": v.view}))
            }
            "usergroups.users.list" => {
                let g = s("usergroup").ok_or("no_such_subteam")?;
                let users = self.usergroups.get(&g).ok_or("no_such_subteam")?;
                Ok(json!({"users": users}))
            }
            "users.conversations" => {
                let user = s("user").unwrap_or_else(|| BOT_USER_ID.to_string());
                let channels: Vec<Value> = self
                    .user_channels
                    .get(&user)
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|c| {
                        let name = self
                            .channel_names
                            .get(c)
                            .cloned()
                            .unwrap_or_else(|| c.to_lowercase());
                        json!({
                            "id": c, "name": name, "name_normalized": name,
                            "created": 1_700_000_000, "creator": "U0ADMIN",
                            "is_channel": true, "is_group": false, "is_im": false,
                            "is_mpim": false, "is_private": false, "is_archived": false,
                            "is_general": false, "is_shared": false, "is_org_shared": false,
                            "is_member": true,
                        })
                    })
                    .collect();
                Ok(json!({"channels": channels, "response_metadata": {"next_cursor": ""}}))
            }
            "users.info" => {
                let user = s("user").ok_or("user_not_found")?;
                let (name, real_name) = self
                    .users
                    .get(&user)
                    .cloned()
                    .unwrap_or_else(|| (user.to_lowercase(), format!("User {user}")));
                Ok(json!({"user": {
                    "id": user, "team_id": TEAM_ID, "name": name, "real_name": real_name,
                    "deleted": false, "is_bot": user == BOT_USER_ID, "is_admin": false,
                    "is_owner": false, "is_app_user": false, "tz": "Europe/Berlin",
                    "tz_label": "Central European Time", "tz_offset": 3600,
                    "updated": 1_700_000_000,
                    "profile": {"real_name": real_name, "display_name": name,
                                "real_name_normalized": real_name,
                                "display_name_normalized": name, "team": TEAM_ID},
                }}))
            }
            _ => Err("unknown_method".into()),
        }
    }
}

fn stateful_view(view: &Value, id: &str, previous: Option<&str>) -> Value {
    let mut v = view.clone();
    let o = v.as_object_mut().expect("view is an object (validated)");
    o.insert("id".into(), json!(id));
    o.insert("team_id".into(), json!(TEAM_ID));
    o.insert("app_id".into(), json!(APP_ID));
    o.insert("bot_id".into(), json!(BOT_ID));
    o.insert("app_installed_team_id".into(), json!(TEAM_ID));
    o.insert("state".into(), json!({"values": {}}));
    o.insert(
        "hash".into(),
        json!(format!(
            "{}.fake{:08x}",
            now_micros() / 1_000_000,
            now_micros() as u32
        )),
    );
    o.insert("root_view_id".into(), json!(previous.unwrap_or(id)));
    if let Some(p) = previous {
        o.insert("previous_view_id".into(), json!(p));
    }
    for key in ["private_metadata", "callback_id", "external_id"] {
        o.entry(key).or_insert(json!(""));
    }
    o.entry("clear_on_close").or_insert(json!(false));
    o.entry("notify_on_close").or_insert(json!(false));
    v
}

// ---------------------------------------------------------------------------------------
// Socket Mode
// ---------------------------------------------------------------------------------------

async fn accept_ws(listener: TcpListener, inner: Arc<Inner>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let conn_inner = inner.clone();
        let task = tokio::spawn(async move {
            let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            serve_ws(ws, conn_inner).await;
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
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<WsCommand>();
    let id = inner.seq.fetch_add(1, Ordering::SeqCst);
    let hello = {
        let st = inner.lock();
        json!({
            "type": "hello",
            "num_connections": st.socket_conns.len() + 1,
            "debug_info": {"host": "fake-slack", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": APP_ID},
        })
    };
    if ws.send(WsMessage::text(hello.to_string())).await.is_err() {
        return;
    }
    {
        let mut st = inner.lock();
        st.socket_connections_total += 1;
        st.socket_conns.push(SocketConn { id, tx });
        let pending: Vec<String> = st.socket_pending.drain(..).collect();
        for p in pending {
            st.deliver(p);
        }
    }
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(WsCommand::Send(text)) => {
                    if ws.send(WsMessage::text(text)).await.is_err() {
                        break;
                    }
                }
                Some(WsCommand::Drop) | None => {
                    // Drop the TCP connection without a close frame.
                    inner.lock().socket_conns.retain(|c| c.id != id);
                    return;
                }
            },
            msg = ws.next() => match msg {
                Some(Ok(WsMessage::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap_or_else(|_| Value::String(t.to_string()));
                    let mut st = inner.lock();
                    st.socket_frames.push(v.clone());
                    if let Some(eid) = v["envelope_id"].as_str() {
                        st.socket_acks.push(SocketAck {
                            envelope_id: eid.to_string(),
                            payload: v.get("payload").cloned(),
                            raw: v.clone(),
                            connection_id: id,
                            at: Instant::now(),
                        });
                    }
                }
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {} // ping/pong handled by tungstenite
            },
        }
    }
    inner.lock().socket_conns.retain(|c| c.id != id);
    let _ = ws.close(None).await;
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Like Slack: slash commands and the interactions that can be answered in the ack
/// (`view_submission`, `block_suggestion`) accept a response payload; events and
/// `block_actions` do not.
fn accepts_response_payload(envelope_type: &str, payload: &Value) -> bool {
    match envelope_type {
        "slash_commands" => true,
        "interactive" => matches!(
            payload["type"].as_str(),
            Some("view_submission" | "block_suggestion")
        ),
        _ => false,
    }
}

fn now_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0)
}

/// "1700000000.000100" → 1700000000000100 (for ordering and oldest/latest filters).
fn ts_key(ts: &str) -> u128 {
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, "0"));
    let secs: u128 = secs.parse().unwrap_or(0);
    let mut frac = frac.to_string();
    frac.truncate(6);
    while frac.len() < 6 {
        frac.push('0');
    }
    secs * 1_000_000 + frac.parse::<u128>().unwrap_or(0)
}

fn value_as_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn value_as_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.as_str(), "true" | "1" | "yes"),
        Value::Number(n) => n.as_i64() == Some(1),
        _ => false,
    }
}

/// JSON-in-a-string (form or query encoding) → JSON; anything else as is.
fn json_arg(v: &Value) -> Value {
    match v {
        Value::String(s) if s.trim_start().starts_with(['{', '[']) => {
            serde_json::from_str(s).unwrap_or_else(|_| v.clone())
        }
        other => other.clone(),
    }
}

/// application/x-www-form-urlencoded (and query strings).
fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
