//! Slack's HTTP requests through the real router and a real (SQLite) database, signed like
//! Slack signs them, built from the real payloads in the shared corpus, against the full
//! fake Slack (`common::fake_slack`): every Web API call is checked against Slack's OpenAPI
//! required arguments and Block Kit limits, and the findings' threads are real messages in
//! it (the outbox posts the cards and notes there while the tests run).

mod common;

use std::collections::HashMap;

use chrono::Utc;
use common::fake_slack::{BOT_TOKEN, FakeSlack, Fault, PERMALINK_BASE};
use common::{TestDb, TestServer};
use remedybot::app::IngestOptions;
use remedybot::chat::delivery::Platform;
use remedybot::config::{Secret, Settings};
use remedybot::domain::{
    Actor, ApprovalPolicy, Command, DecisionKind, Evidence, Exclusion, FindingId, FixPlan,
    NewFinding, RcaAnswers, Severity, Source, Stage, TriageAnswers,
};
use remedybot::store::ChatMessage;
use serde_json::{Value, json};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/slack");
const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const CHANNEL: &str = "C0SEC";
/// Who posted the alert messages the test findings' threads hang under.
const ALERTER: &str = "U0ALERTS";

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
    settings.slack.bot_token = Some(Secret::new(BOT_TOKEN));
    settings.slack.signing_secret = Some(Secret::new(SECRET));
    settings.slack.api_url = fake.api_url();
    // The outbox posts cards and notes in the findings' threads while the tests run.
    settings.slack.messages_per_second_per_channel = 50.0;
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

    /// The end of a test: the handlers' work and the outbox are done (nothing parked), and
    /// no Web API call broke Slack's contract.
    async fn done(&self) {
        self.settle().await;
        let app = &self.server.app;
        common::outbox_drained(app).await;
        self.fake.assert_no_violations();
    }

    /// Ingest `f`; with a channel, its thread hangs under an alert message posted there
    /// (a real message in the fake Slack), so its card is posted as a reply to it.
    async fn ingest_in(&self, f: NewFinding, channel: Option<&str>) -> FindingId {
        let anchor = channel.map(|c| {
            let ts = self.fake.add_user_message(c, ALERTER, "an alert");
            (
                Platform::Slack,
                ChatMessage {
                    channel: c.into(),
                    message_ref: ts,
                },
            )
        });
        let options = IngestOptions {
            anchor,
            ..IngestOptions::default()
        };
        let out = self
            .server
            .app
            .ingest_with(vec![f], &options, &Actor::system(), Source::Cli, Utc::now())
            .await
            .unwrap();
        out.findings[0].id
    }

    /// A new finding with a Slack thread in `channel`.
    async fn finding_in(&self, i: usize, severity: Severity, channel: Option<&str>) -> FindingId {
        self.ingest_in(common::finding(i, severity), channel).await
    }

    async fn finding(&self, i: usize) -> FindingId {
        self.finding_in(i, Severity::High, Some(CHANNEL)).await
    }

    /// The ts of the message finding `id`'s thread hangs under.
    async fn thread_of(&self, id: FindingId) -> String {
        let thread = self.server.app.store.chat_message("slack", id, "thread");
        thread.await.unwrap().expect("a Slack thread").message_ref
    }

    /// `user` replies `text` under `thread_ts` in the fake Slack; the message event for it.
    fn reply(&self, event_id: &str, user: &str, thread_ts: &str, text: &str) -> Value {
        let ts = self.fake.add_user_reply(CHANNEL, thread_ts, user, text);
        thread_reply(event_id, user, thread_ts, &ts, text)
    }

    /// `user` clicking `action_id` on finding `id`'s message in its thread.
    async fn click(&self, user: &str, action_id: &str, id: FindingId) -> Value {
        click(user, action_id, id, &self.thread_of(id).await)
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

/// The corpus message event as a reply `ts` by `user` in the thread under `thread_ts`.
fn thread_reply(event_id: &str, user: &str, thread_ts: &str, ts: &str, text: &str) -> Value {
    let mut p = corpus("events/bolt-python_message.json");
    p["event_id"] = json!(event_id);
    let e = &mut p["event"];
    e["user"] = json!(user);
    e["channel"] = json!(CHANNEL);
    e["text"] = json!(text);
    e["ts"] = json!(ts);
    e["thread_ts"] = json!(thread_ts);
    p
}

/// The corpus button click as `user` clicking `action_id` on finding `id`, on a message in
/// the thread under `thread_ts`.
fn click(user: &str, action_id: &str, id: FindingId, thread_ts: &str) -> Value {
    let mut p = corpus("interactivity/java-slack-sdk_block_actions_in_thread.json");
    p["user"] = json!({ "id": user, "username": user.to_lowercase(), "name": user.to_lowercase(), "team_id": "T111" });
    p["channel"]["id"] = json!(CHANNEL);
    p["container"]["channel_id"] = json!(CHANNEL);
    p["container"]["thread_ts"] = json!(thread_ts);
    p["container"]["message_ts"] = json!(thread_ts);
    p["container"]["is_ephemeral"] = json!(false);
    let a = &mut p["actions"][0];
    a["action_id"] = json!(action_id);
    a["block_id"] = json!(format!("rb:actions:{id}"));
    a["value"] = json!(id.to_string());
    p
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
    let thread = h.thread_of(id).await;
    let body = h.reply("EvBAD", "UANN", &thread, "on it").to_string();
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
    assert!(h.fake.calls_to("chat.getPermalink")[0].ok());
    h.done().await;
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
    let thread = h.thread_of(id).await;
    let reply = h.reply("Ev1", "UANN", &thread, "Looking <now> & soon");
    let ts = reply["event"]["ts"].as_str().unwrap().to_string();
    let resp = h.event(&reply).await;
    assert_eq!(resp.status(), 200);
    h.settle().await;
    assert_eq!(h.kinds(id).await, ["created", "commented", "acknowledged"]);
    assert_eq!(h.stage(id).await, Stage::Triage);
    let trail = h.server.app.store.trail(id).await.unwrap();
    let comment = trail[1].payload_json();
    assert_eq!(comment["text"], "Looking <now> & soon");
    // The link is the permalink Slack gave for the reply.
    assert_eq!(
        comment["link"],
        format!(
            "{PERMALINK_BASE}/archives/{CHANNEL}/p{}?thread_ts={thread}&cid={CHANNEL}",
            ts.replace('.', "")
        )
    );
    assert_eq!(trail[1].actor.reference(), "slack:UANN");
    assert_eq!(trail[2].actor.reference(), "slack:UANN");
    let permalink = h.fake.calls_to("chat.getPermalink");
    assert_eq!(permalink[0].args["channel"], CHANNEL);
    assert_eq!(permalink[0].args["message_ts"], ts.as_str());
    assert_eq!(comment["link"], permalink[0].response["permalink"]);

    // A second reply comments without acknowledging again.
    h.event(&h.reply("Ev2", "UBOB", &thread, "me too")).await;
    h.settle().await;
    assert_eq!(
        h.kinds(id).await,
        ["created", "commented", "acknowledged", "commented"]
    );
    h.done().await;
}

#[tokio::test]
async fn a_slack_retry_of_the_same_event_is_acknowledged_and_processed_once() {
    let h = harness().await;
    let id = h.finding(1).await;
    let thread = h.thread_of(id).await;
    let payload = h.reply("EvRETRY", "UANN", &thread, "on it");
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
    assert_eq!(h.fake.calls_to("chat.getPermalink").len(), 1);
    h.done().await;
}

#[tokio::test]
async fn a_comment_is_kept_without_its_link_when_slack_gives_no_permalink() {
    let h = harness_with(|s| s.slack.first_reply_acknowledges = false).await;
    h.fake.fail_next(
        "chat.getPermalink",
        u32::MAX,
        Fault::Error("internal_error".into()),
    );
    let id = h.finding(1).await;
    let thread = h.thread_of(id).await;
    h.event(&h.reply("Ev1", "UANN", &thread, "on it")).await;
    h.settle().await;
    assert_eq!(h.kinds(id).await, ["created", "commented"]);
    assert_eq!(h.stage(id).await, Stage::New, "acknowledging is turned off");
    let trail = h.server.app.store.trail(id).await.unwrap();
    assert_eq!(trail[1].payload_json()["link"], Value::Null);
    let permalink = h.fake.calls_to("chat.getPermalink");
    assert_eq!(permalink.len(), 1);
    assert_eq!(permalink[0].error(), Some("internal_error"));
    h.done().await;
}

#[tokio::test]
async fn bot_messages_and_messages_outside_finding_threads_are_ignored() {
    let h = harness().await;
    let id = h.finding(1).await;
    let thread = h.thread_of(id).await;
    let mut bot = corpus("events/bolt-python_message_bot_message_subtype.json");
    bot["event"]["thread_ts"] = json!(thread);
    bot["event"]["channel"] = json!(CHANNEL);
    let elsewhere = thread_reply(
        "Ev2",
        "UANN",
        "1600000000.000001",
        "1700000500.000900",
        "unrelated",
    );
    let top_level = corpus("events/bolt-python_message.json");
    for payload in [bot, elsewhere, top_level] {
        assert_eq!(h.event(&payload).await.status(), 200);
    }
    h.settle().await;
    assert_eq!(h.kinds(id).await, ["created"]);
    assert!(h.fake.calls_to("chat.getPermalink").is_empty());
    h.done().await;
}

// ---------------------------------------------------------------------------------------
// Buttons and modals.

#[tokio::test]
async fn the_acknowledge_button_moves_the_finding_to_triage() {
    let h = harness().await;
    let id = h.finding(1).await;
    let resp = h
        .interaction(&h.click("UANN", "rb:acknowledge", id).await)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(h.stage(id).await, Stage::Triage);
    let trail = h.server.app.store.trail(id).await.unwrap();
    assert_eq!(trail[1].kind, "acknowledged");
    assert_eq!(trail[1].actor, Actor::new("slack", "UANN", "uann"));
    assert_eq!(trail[1].source, "slack");

    // A second click is refused, told only to the clicker.
    h.interaction(&h.click("UANN", "rb:acknowledge", id).await)
        .await;
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
    assert_told(&h, id, "UANN").await;
    h.done().await;
}

/// The one ephemeral message was accepted by Slack: shown to `user`, in finding `id`'s
/// thread.
async fn assert_told(h: &Harness, id: FindingId, user: &str) {
    let ephemeral = h.fake.calls_to("chat.postEphemeral");
    assert!(ephemeral[0].ok(), "{:?}", ephemeral[0].response);
    let shown = h.fake.ephemerals(CHANNEL);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].ephemeral_to.as_deref(), Some(user));
    assert_eq!(shown[0].thread_ts, Some(h.thread_of(id).await));
}

#[tokio::test]
async fn the_assign_select_assigns_the_chosen_user() {
    let h = harness().await;
    let id = h.finding(1).await;
    let mut p = h.click("UANN", "rb:assign", id).await;
    let a = &mut p["actions"][0];
    a["type"] = json!("users_select");
    a["selected_user"] = json!("UBOB");
    a.as_object_mut().unwrap().remove("value");
    assert_eq!(h.interaction(&p).await.status(), 200);
    let f = h.server.app.store.finding(id).await.unwrap().unwrap();
    assert_eq!(f.state.owner.as_deref(), Some("slack:UBOB"));
    h.done().await;
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
    let resp = h
        .interaction(&h.click("UOUT", "rb:approve", id).await)
        .await;
    assert_eq!(resp.status(), 200);
    h.settle().await;
    assert_eq!(h.kinds(id).await, before);
    let ephemeral = h.fake.calls_to("chat.postEphemeral");
    assert_eq!(ephemeral.len(), 1);
    assert_eq!(ephemeral[0].args["user"], "UOUT");
    let text = ephemeral[0].args["text"].as_str().unwrap();
    assert!(text.contains("only members of"), "{text}");
    assert_told(&h, id, "UOUT").await;
    h.done().await;
}

#[tokio::test]
async fn two_approvers_clicking_at_once_close_the_finding_exactly_once() {
    let h = harness_with(|s| approvers(s, 2)).await;
    let id = h.finding(1).await;
    h.to_verify(id).await;
    let (first, second) = (
        h.click("USEC1", "rb:approve", id).await,
        h.click("USEC2", "rb:approve", id).await,
    );
    let (a, b) = tokio::join!(h.interaction(&first), h.interaction(&second));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    h.settle().await;
    let kinds = h.kinds(id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "vote_cast").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "closed").count(), 1);
    assert_eq!(h.stage(id).await, Stage::Closed);
    assert!(h.fake.calls_to("chat.postEphemeral").is_empty());
    h.done().await;
}

#[tokio::test]
async fn one_approver_double_clicking_votes_once_and_is_told_so() {
    let h = harness_with(|s| approvers(s, 2)).await;
    let id = h.finding(1).await;
    h.to_verify(id).await;
    let (first, second) = (
        h.click("USEC1", "rb:approve", id).await,
        h.click("USEC1", "rb:approve", id).await,
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
    assert_told(&h, id, "USEC1").await;
    h.done().await;
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
    let resp = h.interaction(&h.click("UANN", "rb:triage", id).await).await;
    assert_eq!(resp.status(), 200);
    let opened = h.fake.calls_to("views.open");
    assert_eq!(opened.len(), 1, "views.open is called before the answer");
    assert_eq!(opened[0].args["trigger_id"], "111.222.xxx");
    assert!(opened[0].ok(), "{:?}", opened[0].response);
    assert_eq!(h.fake.views().len(), 1);
    opened[0].arg_json("view").unwrap()
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
    h.done().await;
}

#[tokio::test]
async fn a_submission_missing_a_required_answer_gets_inline_errors_and_changes_nothing() {
    let h = harness().await;
    let id = h.finding(1).await;
    h.interaction(&h.click("UANN", "rb:acknowledge", id).await)
        .await;
    let modal = open_triage(&h, id).await;
    let payload = submission("UANN", &modal, state_values(&modal, &[]));
    let resp = h.interaction(&payload).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["response_action"], "errors");
    assert!(body["errors"]["real"].is_string(), "{body}");
    assert_eq!(h.kinds(id).await, ["created", "acknowledged"]);
    h.done().await;
}

#[tokio::test]
async fn a_valid_triage_submission_records_the_triage_and_closes_the_modal() {
    let h = harness().await;
    let id = h.finding(1).await;
    h.interaction(&h.click("UANN", "rb:acknowledge", id).await)
        .await;
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
    h.done().await;
}

#[tokio::test]
async fn a_submission_the_workflow_refuses_closes_the_modal_and_says_why() {
    let h = harness().await;
    let id = h.finding(1).await;
    // Not acknowledged yet: triage is possible only after it.
    let modal = open_triage(&h, id).await;
    h.interaction(&h.click("UANN", "rb:acknowledge", id).await)
        .await;
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
    assert_eq!(ephemeral[0].args["thread_ts"], h.thread_of(id).await);
    assert_told(&h, id, "UANN").await;
    h.done().await;
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
    h.done().await;
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
    assert!(lookups.iter().all(|c| c.ok()));
    h.done().await;
}

#[tokio::test]
async fn remedy_escapes_finding_text() {
    let h = harness().await;
    h.fake.set_user_channels("UANN", &[CHANNEL]);
    let mut f = common::finding(9, Severity::High);
    f.title = "<!channel> & <@U999> pwned".into();
    let id = h.ingest_in(f, Some(CHANNEL)).await;
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
    // The card the outbox posted in the thread escapes it too (the fake refuses broadcasts).
    h.done().await;
}

#[tokio::test]
async fn remedy_shows_nothing_when_slack_cannot_say_which_channels_the_user_is_in() {
    let h = harness().await;
    h.fake.fail_next(
        "users.conversations",
        u32::MAX,
        Fault::Error("internal_error".into()),
    );
    h.finding(1).await;
    let text = section_text(&h.remedy("UANN", "backlog").await);
    assert!(
        text.contains("could not check which channels you are in"),
        "{text}"
    );
    assert!(!text.contains("Finding number 1"), "{text}");
    let lookups = h.fake.calls_to("users.conversations");
    assert_eq!(lookups[0].error(), Some("internal_error"));
    h.done().await;
}

#[tokio::test]
async fn remedy_stats_counts_the_backlog() {
    let h = harness().await;
    h.finding(1).await;
    h.finding_in(2, Severity::Critical, None).await;
    let text = section_text(&h.remedy("UANN", "stats").await);
    assert!(text.contains("Open: *2*"), "{text}");
    assert!(text.contains("1 critical"), "{text}");
    h.done().await;
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
    assert!(h.fake.calls().is_empty());
}
