//! Socket Mode: the real server opens the websocket the fake Slack hands out through
//! `apps.connections.open`, receives events, interactions and slash commands as envelopes,
//! and acknowledges each one (with the answer, where Slack accepts one).

mod common;

use std::time::Duration;

use common::fake_slack::{APP_TOKEN, BOT_TOKEN, FakeSlack};
use common::{TestDb, TestServer};
use remedybot::config::{Secret, Settings};
use remedybot::domain::{FindingId, Stage};
use serde_json::{Value, json};

const CHANNEL: &str = "C0SECURITY";
const WAIT: Duration = Duration::from_secs(20);
const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/slack");

fn settings(db: &TestDb, fake: &FakeSlack) -> Settings {
    let mut s = db.settings();
    s.slack.bot_token = Some(Secret::new(BOT_TOKEN));
    s.slack.app_token = Some(Secret::new(APP_TOKEN));
    s.slack.api_url = fake.api_url();
    s.slack.default_channel = Some(CHANNEL.into());
    s.slack.messages_per_second_per_channel = 50.0;
    s
}

fn corpus(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{CORPUS}/{name}"))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).expect("corpus JSON")
}

struct Harness {
    fake: FakeSlack,
    server: TestServer,
    id: FindingId,
    thread_ts: String,
    _db: TestDb,
}

/// A running server in Socket Mode with one finding whose card is posted.
async fn harness() -> Harness {
    let fake = FakeSlack::start().await;
    let db = TestDb::sqlite();
    let app = db.app_with(settings(&db, &fake)).await;
    let server = TestServer::start(app).await;
    assert!(
        fake.wait_for_socket_connection(WAIT).await,
        "the bot connected over Socket Mode"
    );
    let reply: Value = server
        .post("/api/v1/findings", common::generic_json(1))
        .send()
        .await
        .expect("ingest")
        .json()
        .await
        .expect("ingest reply");
    let id: FindingId = reply["findings"][0]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("finding id");
    let cards = fake.wait_for_messages(CHANNEL, 1, WAIT).await;
    let thread_ts = cards.first().expect("card posted").ts.clone();
    Harness {
        fake,
        server,
        id,
        thread_ts,
        _db: db,
    }
}

async fn stage(h: &Harness) -> Stage {
    h.server
        .app
        .store
        .finding(h.id)
        .await
        .expect("finding")
        .expect("exists")
        .state
        .stage
}

#[tokio::test]
async fn a_button_click_over_socket_mode_runs_the_command_and_is_acknowledged() {
    let h = harness().await;
    let mut click = corpus("interactivity/java-slack-sdk_block_actions_in_thread.json");
    click["user"] = json!({"id": "UANN", "username": "ann", "name": "ann", "team_id": "T111"});
    click["channel"]["id"] = json!(CHANNEL);
    click["actions"][0]["action_id"] = json!("rb:acknowledge");
    click["actions"][0]["block_id"] = json!(format!("rb:actions:{}", h.id));
    click["actions"][0]["value"] = json!(h.id.to_string());
    let envelope = h.fake.socket_send("interactive", click);
    let ack = h
        .fake
        .wait_for_ack(&envelope, WAIT)
        .await
        .expect("acknowledged");
    assert_eq!(ack["envelope_id"], json!(envelope));
    assert_eq!(stage(&h).await, Stage::Triage);
    h.fake.assert_no_violations();
    h.server.stop().await;
}

#[tokio::test]
async fn a_slash_command_is_answered_in_the_acknowledgement() {
    let h = harness().await;
    let payload = h
        .fake
        .slash_command_payload("/remedy", "frobnicate", "UANN", CHANNEL);
    let envelope = h.fake.socket_send("slash_commands", payload);
    let ack = h
        .fake
        .wait_for_ack(&envelope, WAIT)
        .await
        .expect("acknowledged");
    let answer = ack["payload"].to_string();
    assert!(
        answer.contains("frobnicate"),
        "names the unknown subcommand: {answer}"
    );
    assert!(answer.contains("backlog"), "and shows help: {answer}");
    assert_eq!(ack["payload"]["response_type"], json!("ephemeral"));
    h.server.stop().await;
}

#[tokio::test]
async fn a_thread_reply_event_is_recorded_once_even_when_redelivered() {
    let h = harness().await;
    let mut event = corpus("events/bolt-python_message.json")["event"].clone();
    event["user"] = json!("UANN");
    event["channel"] = json!(CHANNEL);
    event["text"] = json!("I will take this one");
    event["ts"] = json!("1700000500.000900");
    event["thread_ts"] = json!(h.thread_ts);
    let payload = h.fake.events_api_payload(event);
    let first = h.fake.socket_send("events_api", payload.clone());
    let second = h.fake.socket_send("events_api", payload);
    for e in [&first, &second] {
        assert!(h.fake.wait_for_ack(e, WAIT).await.is_some(), "acknowledged");
    }
    if let Some(slack) = &h.server.app.slack {
        slack.settle().await;
    }
    let trail = h.server.app.store.trail(h.id).await.expect("trail");
    let comments: Vec<_> = trail.iter().filter(|e| e.kind == "commented").collect();
    assert_eq!(
        comments.len(),
        1,
        "the redelivered event is not recorded again"
    );
    assert!(comments[0].payload.contains("I will take this one"));
    assert_eq!(
        stage(&h).await,
        Stage::Triage,
        "the first reply acknowledges"
    );
    h.server.stop().await;
}

#[tokio::test]
async fn the_bot_reconnects_when_slack_asks_it_to() {
    let h = harness().await;
    h.fake.socket_disconnect();
    assert!(
        h.fake.wait_for_socket_connections_total(2, WAIT).await,
        "a second connection was opened"
    );
    // The new connection works.
    let payload = h
        .fake
        .slash_command_payload("/remedy", "help", "UANN", CHANNEL);
    let envelope = h.fake.socket_send("slash_commands", payload);
    assert!(h.fake.wait_for_ack(&envelope, WAIT).await.is_some());
    h.server.stop().await;
}
