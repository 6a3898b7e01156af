//! Slack's HTTP requests through the real router and a real (SQLite) database, signed like
//! Slack signs them, built from the real payloads in the shared corpus; the Slack Web API
//! side is a small local fake (to be replaced by `common::fake_slack` once merged).

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::any;
use chrono::Utc;
use common::{TestDb, TestServer};
use remedybot::config::{Secret, Settings};
use remedybot::domain::{
    Actor, ApprovalPolicy, Command, DecisionKind, Evidence, Exclusion, FindingId, FixPlan,
    RcaAnswers, Severity, Source, Stage, TriageAnswers,
};
use remedybot::store::ChatMessage;
use serde_json::{Value, json};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/slack");
const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const CHANNEL: &str = "C0SEC";

// ---------------------------------------------------------------------------------------
// A minimal fake Slack Web API: records every call, answers `ok: true`.

/// One recorded Web API call: the method and its arguments (JSON body, or query/form
/// fields as strings).
#[derive(Debug, Clone)]
struct Call {
    method: String,
    args: Value,
}

#[derive(Default)]
struct FakeState {
    calls: Vec<Call>,
    /// Channels per user for `users.conversations`; users not listed are in none.
    user_channels: HashMap<String, Vec<String>>,
    /// Methods that answer `{"ok": false, "error": "internal_error"}`.
    failing: Vec<String>,
}

#[derive(Clone)]
struct FakeSlack {
    state: Arc<Mutex<FakeState>>,
    addr: std::net::SocketAddr,
}

impl FakeSlack {
    async fn start() -> FakeSlack {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let app = Router::new()
            .route("/api/{method}", any(fake_method))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeSlack { state, addr }
    }

    fn api_url(&self) -> String {
        format!("http://{}/api/", self.addr)
    }

    fn calls_to(&self, method: &str) -> Vec<Call> {
        let state = self.state.lock().unwrap();
        state
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    fn set_user_channels(&self, user: &str, channels: &[&str]) {
        self.state.lock().unwrap().user_channels.insert(
            user.to_string(),
            channels.iter().map(|c| c.to_string()).collect(),
        );
    }

    fn fail(&self, method: &str) {
        self.state.lock().unwrap().failing.push(method.to_string());
    }
}

async fn fake_method(
    State(state): State<Arc<Mutex<FakeState>>>,
    Path(method): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::Json<Value> {
    let mut args = serde_json::Map::new();
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        args.insert(k.into_owned(), json!(v.into_owned()));
    }
    let json_body = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json_body {
        if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&body) {
            args.extend(m);
        }
    } else {
        for (k, v) in form_urlencoded::parse(&body) {
            args.insert(k.into_owned(), json!(v.into_owned()));
        }
    }
    let args = Value::Object(args);
    let mut state = state.lock().unwrap();
    state.calls.push(Call {
        method: method.clone(),
        args: args.clone(),
    });
    if state.failing.contains(&method) {
        return axum::Json(json!({ "ok": false, "error": "internal_error" }));
    }
    axum::Json(match method.as_str() {
        "users.conversations" => {
            let user = args["user"].as_str().unwrap_or_default();
            let channels: Vec<Value> = state
                .user_channels
                .get(user)
                .into_iter()
                .flatten()
                .map(|c| json!({ "id": c, "name": c.to_lowercase() }))
                .collect();
            json!({ "ok": true, "channels": channels, "response_metadata": { "next_cursor": "" } })
        }
        "chat.getPermalink" => json!({
            "ok": true,
            "channel": args["channel"],
            "permalink": format!(
                "https://example.slack.com/archives/{}/p{}",
                args["channel"].as_str().unwrap_or_default(),
                args["message_ts"].as_str().unwrap_or_default().replace('.', "")
            ),
        }),
        "views.open" => json!({ "ok": true, "view": { "id": "V0001" } }),
        "chat.postEphemeral" => json!({ "ok": true, "message_ts": "1700000001.000200" }),
        _ => json!({ "ok": true }),
    })
}

// ---------------------------------------------------------------------------------------
// Harness.

struct Harness {
    server: TestServer,
    fake: FakeSlack,
    _db: TestDb,
}

async fn harness() -> Harness {
    harness_with(|_| {}).await
}

async fn harness_with(tune: impl FnOnce(&mut Settings)) -> Harness {
    let fake = FakeSlack::start().await;
    let db = TestDb::sqlite();
    let mut settings = db.settings();
    settings.slack.bot_token = Some(Secret::new("xoxb-test-token"));
    settings.slack.signing_secret = Some(Secret::new(SECRET));
    settings.slack.api_url = fake.api_url();
    tune(&mut settings);
    let server = TestServer::start(db.app_with(settings).await).await;
    Harness {
        server,
        fake,
        _db: db,
    }
}

impl Harness {
    /// POST `body` to `path`, signed now with the app's signing secret.
    async fn send(&self, path: &str, content_type: &str, body: &[u8]) -> reqwest::Response {
        let now = Utc::now().timestamp();
        let signature = remedybot::chat::slack::signing::SlackSigner::new(SECRET).sign(now, body);
        self.server
            .http
            .post(self.server.url(path))
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", now.to_string())
            .header("x-slack-signature", signature)
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
    }

    async fn event(&self, payload: &Value) -> reqwest::Response {
        self.send(
            "/slack/events",
            "application/json",
            payload.to_string().as_bytes(),
        )
        .await
    }

    async fn interaction(&self, payload: &Value) -> reqwest::Response {
        let body = form(&[("payload", &payload.to_string())]);
        self.send(
            "/slack/interactions",
            "application/x-www-form-urlencoded",
            body.as_bytes(),
        )
        .await
    }

    /// `/remedy TEXT` typed by `user`; the JSON answer.
    async fn remedy(&self, user: &str, text: &str) -> Value {
        let mut fields = corpus_form("slash_commands/bolt-python_slash_command.form.txt");
        for (k, v) in [
            ("command", "/remedy"),
            ("text", text),
            ("user_id", user),
            ("channel_id", CHANNEL),
        ] {
            fields.insert(k.to_string(), v.to_string());
        }
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let resp = self
            .send(
                "/slack/commands",
                "application/x-www-form-urlencoded",
                form(&pairs).as_bytes(),
            )
            .await;
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }

    /// Wait for the work handlers started after answering Slack.
    async fn settle(&self) {
        self.server.app.slack.as_ref().unwrap().settle().await;
    }

    /// A new finding with a Slack thread in `channel`.
    async fn finding_in(&self, i: usize, severity: Severity, channel: Option<&str>) -> FindingId {
        let app = &self.server.app;
        let out = app
            .ingest(
                vec![common::finding(i, severity)],
                &Actor::system(),
                Source::Cli,
                Utc::now(),
            )
            .await
            .unwrap();
        let id = out.findings[0].id;
        if let Some(channel) = channel {
            let mut tx = app.store.begin_write().await.unwrap();
            tx.set_chat_message(
                "slack",
                id,
                "thread",
                &ChatMessage {
                    channel: channel.into(),
                    message_ref: format!("1700000000.{:06}", 100 + i),
                },
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
        id
    }

    async fn finding(&self, i: usize) -> FindingId {
        self.finding_in(i, Severity::High, Some(CHANNEL)).await
    }

    async fn stage(&self, id: FindingId) -> Stage {
        let f = self.server.app.store.finding(id).await.unwrap().unwrap();
        f.state.stage
    }

    async fn kinds(&self, id: FindingId) -> Vec<String> {
        let trail = self.server.app.store.trail(id).await.unwrap();
        trail.into_iter().map(|e| e.kind).collect()
    }

    /// Walk a finding to verification: the fix was marked done by `dev`.
    async fn to_verify(&self, id: FindingId) {
        let person = |id: &str| Actor::new("slack", id, id);
        let steps = [
            ("UOWNER", Command::Acknowledge),
            (
                "UOWNER",
                Command::Triage {
                    answers: TriageAnswers::default(),
                    severity: None,
                    proposal: None,
                },
            ),
            (
                "UOWNER",
                Command::SubmitRca(RcaAnswers {
                    cause_category: "code_defect".into(),
                    whys: vec!["raw SQL".into()],
                    contributing_factors: String::new(),
                }),
            ),
            (
                "UOWNER",
                Command::PlanFix(FixPlan {
                    plan: "parameterise".into(),
                    change_link: String::new(),
                    target_date: None,
                }),
            ),
            (
                "UDEV",
                Command::MarkFixed(Evidence {
                    link: "https://github.com/org/repo/pull/1".into(),
                    rescan_result: String::new(),
                }),
            ),
        ];
        for (who, cmd) in steps {
            self.server
                .app
                .execute(id, &cmd, &person(who), Source::Cli, Utc::now())
                .await
                .unwrap();
        }
        assert_eq!(self.stage(id).await, Stage::Verify);
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn corpus(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{CORPUS}/{name}"))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn corpus_form(name: &str) -> HashMap<String, String> {
    let text = std::fs::read(format!("{CORPUS}/{name}")).unwrap();
    form_urlencoded::parse(text.trim_ascii())
        .into_owned()
        .collect()
}

/// The corpus message event as a reply by `user` in the thread under `thread_ts`.
fn thread_reply(event_id: &str, user: &str, thread_ts: &str, text: &str) -> Value {
    let mut p = corpus("events/bolt-python_message.json");
    p["event_id"] = json!(event_id);
    let e = &mut p["event"];
    e["user"] = json!(user);
    e["channel"] = json!(CHANNEL);
    e["text"] = json!(text);
    e["ts"] = json!("1700000500.000900");
    e["thread_ts"] = json!(thread_ts);
    p
}

/// The corpus button click as `user` clicking `action_id` on finding `id`.
fn click(user: &str, action_id: &str, id: FindingId) -> Value {
    let mut p = corpus("interactivity/java-slack-sdk_block_actions_in_thread.json");
    p["user"] = json!({ "id": user, "username": user.to_lowercase(), "name": user.to_lowercase(), "team_id": "T111" });
    p["channel"]["id"] = json!(CHANNEL);
    p["container"]["channel_id"] = json!(CHANNEL);
    let a = &mut p["actions"][0];
    a["action_id"] = json!(action_id);
    a["block_id"] = json!(format!("rb:actions:{id}"));
    a["value"] = json!(id.to_string());
    p
}

fn thread_of(i: usize) -> String {
    format!("1700000000.{:06}", 100 + i)
}

// ---------------------------------------------------------------------------------------
// Routes and signatures.

#[tokio::test]
async fn url_verification_echoes_the_challenge() {
    let h = harness().await;
    let payload = corpus("events/bolt-python_url_verification.json");
    let resp = h.event(&payload).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({ "challenge": payload["challenge"] }));
}

#[tokio::test]
async fn unsigned_badly_signed_or_stale_requests_get_401_and_change_nothing() {
    let h = harness().await;
    let id = h.finding(1).await;
    let body = thread_reply("EvBAD", "UANN", &thread_of(1), "on it").to_string();
    let url = h.server.url("/slack/events");
    let now = Utc::now().timestamp();
    let signer = remedybot::chat::slack::signing::SlackSigner::new(SECRET);
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("unsigned", vec![]),
        (
            "wrong secret",
            vec![
                ("x-slack-request-timestamp", now.to_string()),
                (
                    "x-slack-signature",
                    remedybot::chat::slack::signing::SlackSigner::new("other")
                        .sign(now, body.as_bytes()),
                ),
            ],
        ),
        (
            "stale",
            vec![
                ("x-slack-request-timestamp", (now - 600).to_string()),
                ("x-slack-signature", signer.sign(now - 600, body.as_bytes())),
            ],
        ),
    ];
    for (what, headers) in cases {
        let mut req = h.server.http.post(&url).body(body.clone());
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{what}");
        let err: Value = resp.json().await.unwrap();
        assert!(err["error"].is_string(), "{what}: {err}");
    }
    h.settle().await;
    assert_eq!(h.kinds(id).await, ["created"]);
    assert!(h.fake.calls_to("chat.getPermalink").is_empty());
    // The event id was not used up: the genuine delivery is still processed.
    assert_eq!(
        h.event(&serde_json::from_str(&body).unwrap())
            .await
            .status(),
        200
    );
    h.settle().await;
    assert!(h.kinds(id).await.contains(&"commented".to_string()));
}

#[tokio::test]
async fn without_a_signing_secret_the_slack_routes_are_not_found() {
    let h = harness_with(|s| s.slack.signing_secret = None).await;
    for path in ["/slack/events", "/slack/interactions", "/slack/commands"] {
        let resp = h.send(path, "application/json", b"{}").await;
        assert_eq!(resp.status(), 404, "{path}");
        let err: Value = resp.json().await.unwrap();
        assert!(
            err["error"]
                .as_str()
                .unwrap()
                .contains("SLACK_SIGNING_SECRET"),
            "{err}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Events.

#[tokio::test]
async fn a_reply_in_a_findings_thread_is_a_comment_and_acknowledges_a_new_finding() {
    let h = harness().await;
    let id = h.finding(1).await;
    let resp = h
        .event(&thread_reply(
            "Ev1",
            "UANN",
            &thread_of(1),
            "Looking <now> & soon",
        ))
        .await;
    assert_eq!(resp.status(), 200);
    h.settle().await;
    assert_eq!(h.kinds(id).await, ["created", "commented", "acknowledged"]);
    assert_eq!(h.stage(id).await, Stage::Triage);
    let trail = h.server.app.store.trail(id).await.unwrap();
    let comment = trail[1].payload_json();
    assert_eq!(comment["text"], "Looking <now> & soon");
    assert_eq!(
        comment["link"],
        "https://example.slack.com/archives/C0SEC/p1700000500000900"
    );
    assert_eq!(trail[1].actor.reference(), "slack:UANN");
    assert_eq!(trail[2].actor.reference(), "slack:UANN");
    let permalink = h.fake.calls_to("chat.getPermalink");
    assert_eq!(permalink[0].args["channel"], CHANNEL);
    assert_eq!(permalink[0].args["message_ts"], "1700000500.000900");

    // A second reply comments without acknowledging again.
    h.event(&thread_reply("Ev2", "UBOB", &thread_of(1), "me too"))
        .await;
    h.settle().await;
    assert_eq!(
        h.kinds(id).await,
        ["created", "commented", "acknowledged", "commented"]
    );
}

#[tokio::test]
async fn a_slack_retry_of_the_same_event_is_acknowledged_and_processed_once() {
    let h = harness().await;
    let id = h.finding(1).await;
    let payload = thread_reply("EvRETRY", "UANN", &thread_of(1), "on it");
    assert_eq!(h.event(&payload).await.status(), 200);
    let body = payload.to_string();
    let now = Utc::now().timestamp();
    let retry = h
        .server
        .http
        .post(h.server.url("/slack/events"))
        .header("content-type", "application/json")
        .header("x-slack-retry-num", "1")
        .header("x-slack-retry-reason", "http_timeout")
        .header("x-slack-request-timestamp", now.to_string())
        .header(
            "x-slack-signature",
            remedybot::chat::slack::signing::SlackSigner::new(SECRET).sign(now, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 200);
    h.settle().await;
    let comments = h
        .kinds(id)
        .await
        .into_iter()
        .filter(|k| k == "commented")
        .count();
    assert_eq!(comments, 1);
}

#[tokio::test]
async fn a_comment_is_kept_without_its_link_when_slack_gives_no_permalink() {
    let h = harness_with(|s| s.slack.first_reply_acknowledges = false).await;
    h.fake.fail("chat.getPermalink");
    let id = h.finding(1).await;
    h.event(&thread_reply("Ev1", "UANN", &thread_of(1), "on it"))
        .await;
    h.settle().await;
    assert_eq!(h.kinds(id).await, ["created", "commented"]);
    assert_eq!(h.stage(id).await, Stage::New, "acknowledging is turned off");
    let trail = h.server.app.store.trail(id).await.unwrap();
    assert_eq!(trail[1].payload_json()["link"], Value::Null);
}

#[tokio::test]
async fn bot_messages_and_messages_outside_finding_threads_are_ignored() {
    let h = harness().await;
    let id = h.finding(1).await;
    let mut bot = corpus("events/bolt-python_message_bot_message_subtype.json");
    bot["event"]["thread_ts"] = json!(thread_of(1));
    bot["event"]["channel"] = json!(CHANNEL);
    let elsewhere = thread_reply("Ev2", "UANN", "1600000000.000001", "unrelated");
    let top_level = corpus("events/bolt-python_message.json");
    for payload in [bot, elsewhere, top_level] {
        assert_eq!(h.event(&payload).await.status(), 200);
    }
    h.settle().await;
    assert_eq!(h.kinds(id).await, ["created"]);
}

// ---------------------------------------------------------------------------------------
// Buttons and modals.

#[tokio::test]
async fn the_acknowledge_button_moves_the_finding_to_triage() {
    let h = harness().await;
    let id = h.finding(1).await;
    let resp = h.interaction(&click("UANN", "rb:acknowledge", id)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(h.stage(id).await, Stage::Triage);
    let trail = h.server.app.store.trail(id).await.unwrap();
    assert_eq!(trail[1].kind, "acknowledged");
    assert_eq!(trail[1].actor, Actor::new("slack", "UANN", "uann"));
    assert_eq!(trail[1].source, "slack");

    // A second click is refused, told only to the clicker.
    h.interaction(&click("UANN", "rb:acknowledge", id)).await;
    h.settle().await;
    let ephemeral = h.fake.calls_to("chat.postEphemeral");
    assert_eq!(ephemeral.len(), 1);
    assert_eq!(ephemeral[0].args["user"], "UANN");
    assert_eq!(ephemeral[0].args["channel"], CHANNEL);
    assert!(
        ephemeral[0].args["text"]
            .as_str()
            .unwrap()
            .contains("already acknowledged"),
        "{:?}",
        ephemeral[0].args
    );
}

#[tokio::test]
async fn the_assign_select_assigns_the_chosen_user() {
    let h = harness().await;
    let id = h.finding(1).await;
    let mut p = click("UANN", "rb:assign", id);
    let a = &mut p["actions"][0];
    a["type"] = json!("users_select");
    a["selected_user"] = json!("UBOB");
    a.as_object_mut().unwrap().remove("value");
    assert_eq!(h.interaction(&p).await.status(), 200);
    let f = h.server.app.store.finding(id).await.unwrap().unwrap();
    assert_eq!(f.state.owner.as_deref(), Some("slack:UBOB"));
}

fn approvers(settings: &mut Settings, quorum: u32) {
    settings.policy.groups.insert(
        "sec".into(),
        vec!["slack:USEC1".into(), "slack:USEC2".into()],
    );
    settings.policy.approvals.insert(
        DecisionKind::Fixed,
        ApprovalPolicy {
            quorum,
            groups: vec!["sec".into()],
            exclude: vec![Exclusion::Implementer],
        },
    );
}

#[tokio::test]
async fn an_ineligible_approver_is_told_why_and_no_vote_is_recorded() {
    let h = harness_with(|s| approvers(s, 1)).await;
    let id = h.finding(1).await;
    h.to_verify(id).await;
    let before = h.kinds(id).await;
    let resp = h.interaction(&click("UOUT", "rb:approve", id)).await;
    assert_eq!(resp.status(), 200);
    h.settle().await;
    assert_eq!(h.kinds(id).await, before);
    let ephemeral = h.fake.calls_to("chat.postEphemeral");
    assert_eq!(ephemeral.len(), 1);
    assert_eq!(ephemeral[0].args["user"], "UOUT");
    let text = ephemeral[0].args["text"].as_str().unwrap();
    assert!(text.contains("only members of"), "{text}");
}

#[tokio::test]
async fn two_approvers_clicking_at_once_close_the_finding_exactly_once() {
    let h = harness_with(|s| approvers(s, 2)).await;
    let id = h.finding(1).await;
    h.to_verify(id).await;
    let (first, second) = (
        click("USEC1", "rb:approve", id),
        click("USEC2", "rb:approve", id),
    );
    let (a, b) = tokio::join!(h.interaction(&first), h.interaction(&second));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    h.settle().await;
    let kinds = h.kinds(id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "vote_cast").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "closed").count(), 1);
    assert_eq!(h.stage(id).await, Stage::Closed);
    assert!(h.fake.calls_to("chat.postEphemeral").is_empty());
}

#[tokio::test]
async fn one_approver_double_clicking_votes_once_and_is_told_so() {
    let h = harness_with(|s| approvers(s, 2)).await;
    let id = h.finding(1).await;
    h.to_verify(id).await;
    let (first, second) = (
        click("USEC1", "rb:approve", id),
        click("USEC1", "rb:approve", id),
    );
    let (a, b) = tokio::join!(h.interaction(&first), h.interaction(&second));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    h.settle().await;
    let kinds = h.kinds(id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "vote_cast").count(), 1);
    assert_eq!(h.stage(id).await, Stage::Verify);
    let ephemeral = h.fake.calls_to("chat.postEphemeral");
    assert_eq!(ephemeral.len(), 1);
    let text = ephemeral[0].args["text"].as_str().unwrap();
    assert!(text.contains("already voted"), "{text}");
}

/// `view.state.values` as Slack sends them for `modal` with `answers` (block id → value):
/// unanswered inputs as `null`, selects keeping their initial option.
fn state_values(modal: &Value, answers: &[(&str, &str)]) -> Value {
    let mut values = serde_json::Map::new();
    for input in modal["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "input")
    {
        let block = input["block_id"].as_str().unwrap();
        let element = &input["element"];
        let kind = element["type"].as_str().unwrap();
        let answer = answers.iter().find(|(b, _)| *b == block).map(|(_, v)| *v);
        let state = match kind {
            "datepicker" => json!({ "type": kind, "selected_date": answer }),
            "static_select" | "radio_buttons" => {
                let option = match answer {
                    Some(v) => json!({ "text": { "type": "plain_text", "text": v }, "value": v }),
                    None => element
                        .get("initial_option")
                        .cloned()
                        .unwrap_or(Value::Null),
                };
                json!({ "type": kind, "selected_option": option })
            }
            _ => json!({ "type": kind, "value": answer }),
        };
        let action = element["action_id"].as_str().unwrap();
        values.insert(block.to_string(), json!({ action: state }));
    }
    Value::Object(values)
}

/// Click the triage button and return the modal remedybot opened.
async fn open_triage(h: &Harness, id: FindingId) -> Value {
    let resp = h.interaction(&click("UANN", "rb:triage", id)).await;
    assert_eq!(resp.status(), 200);
    let opened = h.fake.calls_to("views.open");
    assert_eq!(opened.len(), 1, "views.open is called before the answer");
    assert_eq!(opened[0].args["trigger_id"], "111.222.xxx");
    opened[0].args["view"].clone()
}

/// The corpus view submission, as `user` submitting `modal` with `values`.
fn submission(user: &str, modal: &Value, values: Value) -> Value {
    let mut p = corpus("interactivity/bolt-python_view_submission.json");
    p["user"] = json!({ "id": user, "username": user.to_lowercase(), "name": user.to_lowercase(), "team_id": "T111" });
    let v = &mut p["view"];
    v["callback_id"] = modal["callback_id"].clone();
    v["private_metadata"] = modal["private_metadata"].clone();
    v["blocks"] = modal["blocks"].clone();
    v["state"] = json!({ "values": values });
    p
}

#[tokio::test]
async fn the_triage_button_opens_the_triage_modal() {
    let h = harness().await;
    let id = h.finding(1).await;
    let modal = open_triage(&h, id).await;
    assert_eq!(modal["type"], "modal");
    assert_eq!(modal["callback_id"], "rb:triage");
    assert_eq!(modal["private_metadata"], id.to_string());
}

#[tokio::test]
async fn a_submission_missing_a_required_answer_gets_inline_errors_and_changes_nothing() {
    let h = harness().await;
    let id = h.finding(1).await;
    h.interaction(&click("UANN", "rb:acknowledge", id)).await;
    let modal = open_triage(&h, id).await;
    let payload = submission("UANN", &modal, state_values(&modal, &[]));
    let resp = h.interaction(&payload).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["response_action"], "errors");
    assert!(body["errors"]["real"].is_string(), "{body}");
    assert_eq!(h.kinds(id).await, ["created", "acknowledged"]);
}

#[tokio::test]
async fn a_valid_triage_submission_records_the_triage_and_closes_the_modal() {
    let h = harness().await;
    let id = h.finding(1).await;
    h.interaction(&click("UANN", "rb:acknowledge", id)).await;
    let modal = open_triage(&h, id).await;
    let values = state_values(
        &modal,
        &[
            ("real", "yes"),
            ("exploitable", "unknown"),
            ("reason", "reachable from the API"),
        ],
    );
    let resp = h.interaction(&submission("UANN", &modal, values)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.text().await.unwrap(),
        "",
        "an empty body closes the modal"
    );
    assert_eq!(h.kinds(id).await, ["created", "acknowledged", "triaged"]);
    assert_eq!(h.stage(id).await, Stage::Rca);
}

#[tokio::test]
async fn a_submission_the_workflow_refuses_closes_the_modal_and_says_why() {
    let h = harness().await;
    let id = h.finding(1).await;
    // Not acknowledged yet: triage is possible only after it.
    let modal = open_triage(&h, id).await;
    h.interaction(&click("UANN", "rb:acknowledge", id)).await;
    let values = state_values(&modal, &[("real", "yes"), ("exploitable", "no")]);
    let first = h
        .interaction(&submission("UANN", &modal, values.clone()))
        .await;
    assert_eq!(first.status(), 200);
    // The same form again: the finding has moved on.
    let again = h.interaction(&submission("UANN", &modal, values)).await;
    let body: Value = again.json().await.unwrap();
    assert_eq!(body, json!({ "response_action": "clear" }));
    h.settle().await;
    let ephemeral = h.fake.calls_to("chat.postEphemeral");
    assert_eq!(ephemeral.len(), 1, "told in the finding's thread");
    assert_eq!(ephemeral[0].args["channel"], CHANNEL);
    assert_eq!(ephemeral[0].args["thread_ts"], thread_of(1));
}

// ---------------------------------------------------------------------------------------
// /remedy.

fn section_text(answer: &Value) -> String {
    answer["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"]["text"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn remedy_help_lists_the_subcommands_and_names_an_unknown_one() {
    let h = harness().await;
    let help = h.remedy("UANN", "help").await;
    assert_eq!(help["response_type"], "ephemeral");
    let text = section_text(&help);
    for sub in ["backlog", "mine", "overdue", "show", "stats", "assign"] {
        assert!(text.contains(&format!("/remedy {sub}")), "{text}");
    }
    let unknown = h.remedy("UANN", "frobnicate <!here>").await;
    let text = section_text(&unknown);
    assert!(text.contains("Unknown subcommand `frobnicate`"), "{text}");
    assert!(text.contains("/remedy backlog"), "{text}");
    let invalid = h.remedy("UANN", "show nope").await;
    let text = section_text(&invalid);
    assert!(text.contains("Usage: `/remedy show F-1042`"), "{text}");
}

#[tokio::test]
async fn remedy_backlog_and_show_only_reveal_findings_in_the_callers_channels() {
    let h = harness().await;
    h.fake.set_user_channels("UANN", &[CHANNEL]);
    h.fake.set_user_channels("UBOB", &["C0OTHER"]);
    let seen = h.finding_in(1, Severity::Critical, Some(CHANNEL)).await;
    let other = h.finding_in(2, Severity::High, Some("C0OTHER")).await;
    let threadless = h.finding_in(3, Severity::Critical, None).await;

    let ann = section_text(&h.remedy("UANN", "backlog").await);
    assert!(ann.contains(&format!("*{seen}*")), "{ann}");
    assert!(!ann.contains(&format!("*{other}*")), "{ann}");
    assert!(!ann.contains(&format!("*{threadless}*")), "{ann}");
    assert!(ann.contains("Finding number 1"), "{ann}");

    let bob = section_text(&h.remedy("UBOB", "backlog high").await);
    assert!(bob.contains(&format!("*{other}*")), "{bob}");
    assert!(!bob.contains(&format!("*{seen}*")), "{bob}");

    let show = section_text(&h.remedy("UANN", &format!("show {seen}")).await);
    assert!(show.contains("Finding number 1"), "{show}");
    assert!(show.contains("created"), "{show}");
    let hidden = section_text(&h.remedy("UANN", &format!("show {other}")).await);
    assert!(
        hidden.contains("is not in a channel you are in"),
        "{hidden}"
    );
    let missing = section_text(&h.remedy("UANN", "show F-999").await);
    assert!(
        missing.contains("is not in a channel you are in"),
        "{missing}"
    );

    // Assigning needs visibility too, and goes through the workflow.
    let refused = section_text(&h.remedy("UANN", &format!("assign {other} @team")).await);
    assert!(
        refused.contains("is not in a channel you are in"),
        "{refused}"
    );
    let assigned = section_text(&h.remedy("UANN", &format!("assign {seen} <@UBOB>")).await);
    assert!(assigned.contains("now owned by <@UBOB>"), "{assigned}");
    let mine = section_text(&h.remedy("UBOB", "mine").await);
    assert!(
        mine.contains("none"),
        "UBOB cannot see {seen}'s channel: {mine}"
    );

    // The channel list is fetched once per user and cached.
    let lookups = h.fake.calls_to("users.conversations");
    assert_eq!(
        lookups.iter().filter(|c| c.args["user"] == "UANN").count(),
        1
    );
    assert_eq!(
        lookups[0].args["types"], "public_channel,private_channel",
        "{:?}",
        lookups[0].args
    );
}

#[tokio::test]
async fn remedy_escapes_finding_text() {
    let h = harness().await;
    h.fake.set_user_channels("UANN", &[CHANNEL]);
    let app = &h.server.app;
    let mut f = common::finding(9, Severity::High);
    f.title = "<!channel> & <@U999> pwned".into();
    let out = app
        .ingest(vec![f], &Actor::system(), Source::Cli, Utc::now())
        .await
        .unwrap();
    let id = out.findings[0].id;
    let mut tx = app.store.begin_write().await.unwrap();
    tx.set_chat_message(
        "slack",
        id,
        "thread",
        &ChatMessage {
            channel: CHANNEL.into(),
            message_ref: "1700000000.999999".into(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let text = section_text(&h.remedy("UANN", "backlog").await);
    assert!(
        text.contains("&lt;!channel&gt; &amp; &lt;@U999&gt; pwned"),
        "{text}"
    );
    assert!(!text.contains("<!channel>"), "{text}");
    let show = h.remedy("UANN", &format!("show {id}")).await;
    for text in [
        section_text(&show),
        show["text"].as_str().unwrap().to_string(),
    ] {
        assert!(
            text.contains("&lt;!channel&gt; &amp; &lt;@U999&gt;"),
            "{text}"
        );
        assert!(
            !text.contains("<!channel>") && !text.contains("<@U999>"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn remedy_shows_nothing_when_slack_cannot_say_which_channels_the_user_is_in() {
    let h = harness().await;
    h.fake.fail("users.conversations");
    h.finding(1).await;
    let text = section_text(&h.remedy("UANN", "backlog").await);
    assert!(
        text.contains("could not check which channels you are in"),
        "{text}"
    );
    assert!(!text.contains("Finding number 1"), "{text}");
}

#[tokio::test]
async fn remedy_stats_counts_the_backlog() {
    let h = harness().await;
    h.finding(1).await;
    h.finding_in(2, Severity::Critical, None).await;
    let text = section_text(&h.remedy("UANN", "stats").await);
    assert!(text.contains("Open: *2*"), "{text}");
    assert!(text.contains("1 critical"), "{text}");
}

#[tokio::test]
async fn an_ssl_check_gets_an_empty_200() {
    let h = harness().await;
    let body = form(&[("ssl_check", "1"), ("token", "x")]);
    let resp = h
        .send(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            body.as_bytes(),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "");
}
