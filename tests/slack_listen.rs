//! `[[listen]]` rules fed by Slack's Events API: alert messages other bots post in a channel
//! become findings whose card is posted as the first reply under the alert. The real router,
//! the real outbox worker and a real (SQLite) database against the full fake Slack
//! (`common::fake_slack`), with events built from the real payloads in the shared corpus.

mod common;

use chrono::Utc;
use common::fake_slack::{BOT_ID, BOT_TOKEN, BOT_USER_ID, FakeSlack};
use common::{TestDb, TestServer};
use remedybot::chat::delivery::Platform;
use remedybot::chat::extract::{ListenFile, Listeners};
use remedybot::config::{Secret, Settings};
use remedybot::domain::{Actor, FindingId, Severity, Source};
use remedybot::store::{FindingFilter, StoredFinding};
use serde_json::{Value, json};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/slack");
const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
/// The channel the alerting bot posts in.
const ALERTS: &str = "C0ALERTS";
/// The alerting bot (Alertmanager's Slack integration).
const ALERTMANAGER: &str = "B0ALERTMGR";
const FIRING: &str =
    "[FIRING:1] InstanceDown on node-1:9100 critical: node-1:9100 has been down for 5 minutes";
fn alertmanager_rule() -> ListenFile {
    ListenFile {
        name: "alertmanager".into(),
        platform: Some(Platform::Slack),
        channels: vec![ALERTS.into()],
        from_bots: vec![ALERTMANAGER.into()],
        pattern: Some(
            r"^\[FIRING:\d+\] (?P<rule>\S+) on (?P<asset>\S+) (?P<severity>\w+): (?P<title>.+)"
                .into(),
        ),
        source: Some("alertmanager".into()),
        ..ListenFile::default()
    }
}

/// A careless rule that reads anything remedybot itself posts in the alerts channel.
fn own_bot_rule() -> ListenFile {
    ListenFile {
        name: "careless".into(),
        channels: vec![ALERTS.into()],
        from_bots: vec![BOT_ID.into()],
        from_users: vec![BOT_USER_ID.into()],
        pattern: Some(r"(?s)(?P<title>.+)".into()),
        ..ListenFile::default()
    }
}

struct Harness {
    server: TestServer,
    fake: FakeSlack,
    _db: TestDb,
}

async fn harness(rules: &[ListenFile], tune: impl FnOnce(&mut Settings)) -> Harness {
    let fake = FakeSlack::start().await;
    let db = TestDb::sqlite();
    let mut settings = db.settings();
    settings.slack.bot_token = Some(Secret::new(BOT_TOKEN));
    settings.slack.signing_secret = Some(Secret::new(SECRET));
    settings.slack.api_url = fake.api_url();
    settings.slack.messages_per_second_per_channel = 50.0;
    settings.listeners = Listeners::new(rules).expect("valid rules");
    tune(&mut settings);
    let server = TestServer::start(db.app_with(settings).await).await;
    Harness {
        server,
        fake,
        _db: db,
    }
}

fn corpus(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{CORPUS}/{name}"))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The corpus `bot_message` event, as `bot` posting `text` in `channel` at `ts`.
fn bot_message(event_id: &str, channel: &str, bot: &str, ts: &str, text: &str) -> Value {
    let mut p = corpus("events/bolt-python_message_bot_message_subtype.json");
    p["event_id"] = json!(event_id);
    let e = &mut p["event"];
    e["channel"] = json!(channel);
    e["bot_id"] = json!(bot);
    e["text"] = json!(text);
    e["ts"] = json!(ts);
    e["event_ts"] = json!(ts);
    p
}

/// The message event Slack sends for a message remedybot posted (as the fake stores it):
/// no metadata, as Slack does not promise it in message events.
fn own_message_event(event_id: &str, m: &common::fake_slack::StoredMessage) -> Value {
    let mut event = json!({
        "type": "message",
        "channel": m.channel,
        "user": m.user,
        "bot_id": m.bot_id,
        "app_id": "A1",
        "text": m.text,
        "blocks": m.blocks,
        "ts": m.ts,
        "event_ts": m.ts,
        "channel_type": "channel",
    });
    if let Some(t) = &m.thread_ts {
        event["thread_ts"] = json!(t);
    }
    let mut p = corpus("events/bolt-python_message.json");
    p["event_id"] = json!(event_id);
    p["event"] = event;
    p
}

impl Harness {
    /// POST an Events API payload, signed now; `retry` adds Slack's retry headers.
    async fn send(&self, payload: &Value, retry: bool) -> reqwest::Response {
        let body = payload.to_string();
        let now = Utc::now().timestamp();
        let signature =
            remedybot::chat::slack::signing::SlackSigner::new(SECRET).sign(now, body.as_bytes());
        let mut req = self
            .server
            .http
            .post(self.server.url("/slack/events"))
            .header("content-type", "application/json")
            .header("x-slack-request-timestamp", now.to_string())
            .header("x-slack-signature", signature);
        if retry {
            req = req
                .header("x-slack-retry-num", "1")
                .header("x-slack-retry-reason", "http_timeout");
        }
        req.body(body).send().await.unwrap()
    }

    /// Deliver an event and wait until it was handled.
    async fn event(&self, payload: &Value) {
        assert_eq!(self.send(payload, false).await.status(), 200);
        self.settle().await;
    }

    /// `bot` posts `text` in `channel` (stored in the fake Slack); returns the event
    /// Slack sends for it and the message's ts.
    fn post(&self, event_id: &str, channel: &str, bot: &str, text: &str) -> (Value, String) {
        let ts = self.fake.add_user_message(channel, "U0SOMEBOT", text);
        (bot_message(event_id, channel, bot, &ts, text), ts)
    }

    async fn settle(&self) {
        self.server.app.slack.as_ref().unwrap().settle().await;
    }

    /// Handlers and outbox done (nothing parked); no Web API call broke Slack's contract.
    async fn done(&self) {
        self.settle().await;
        let app = &self.server.app;
        common::outbox_drained(app).await;
        self.fake.assert_no_violations();
    }

    async fn findings(&self) -> usize {
        let filter = FindingFilter::default();
        self.server
            .app
            .store
            .list_findings(&filter)
            .await
            .unwrap()
            .len()
    }

    /// The finding whose thread is the message `ts` in `channel`.
    async fn by_thread(&self, channel: &str, ts: &str) -> Option<StoredFinding> {
        let store = &self.server.app.store;
        let id = store
            .finding_by_thread("slack", channel, ts)
            .await
            .unwrap()?;
        store.finding(id).await.unwrap()
    }

    async fn chat_message(&self, id: FindingId, role: &str) -> Option<String> {
        let store = &self.server.app.store;
        let m = store.chat_message("slack", id, role).await.unwrap()?;
        Some(m.message_ref)
    }

    /// Messages remedybot posted in `channel` (top-level and replies).
    fn ours(&self, channel: &str) -> Vec<common::fake_slack::StoredMessage> {
        let all = self.fake.all_messages(channel);
        all.into_iter()
            .filter(|m| m.bot_id.as_deref() == Some(BOT_ID))
            .collect()
    }
}

#[tokio::test]
async fn an_alert_becomes_a_finding_whose_card_is_the_first_reply_under_the_alert() {
    let h = harness(&[alertmanager_rule()], |_| {}).await;
    let (alert, alert_ts) = h.post("EvALERT1", ALERTS, ALERTMANAGER, FIRING);
    h.event(&alert).await;
    h.done().await;

    let f = h.by_thread(ALERTS, &alert_ts).await.expect("a finding");
    assert_eq!(f.state.title, "node-1:9100 has been down for 5 minutes");
    assert_eq!(f.state.severity, Severity::Critical);
    assert_eq!(f.state.asset, "node-1:9100");
    assert_eq!(f.state.rule_id, "InstanceDown");
    assert_eq!(f.state.source, "alertmanager");
    assert_eq!(f.state.description, FIRING);
    assert_eq!(f.times_seen, 1);
    let trail = h.server.app.store.trail(f.id).await.unwrap();
    assert_eq!(trail[0].kind, "created");
    assert_eq!(
        trail[0].actor,
        Actor::new("slack", ALERTMANAGER, "classic-bot"),
        "the alert's bot, named as in the message"
    );
    assert_eq!(trail[0].source, "slack");

    // The card is a reply in the alert's thread, not a new message in the channel.
    let thread = h.fake.thread(ALERTS, &alert_ts);
    assert_eq!(thread.len(), 1, "{thread:?}");
    let card = &thread[0];
    assert_eq!(card.bot_id.as_deref(), Some(BOT_ID));
    let blocks = card.blocks.as_ref().unwrap().to_string();
    assert!(blocks.contains("node-1:9100 has been down"), "{blocks}");
    assert!(blocks.contains("rb:acknowledge"), "{blocks}");
    assert_eq!(
        card.metadata.as_ref().unwrap()["event_type"],
        "remedybot_outbox"
    );
    assert_eq!(
        h.fake.messages(ALERTS).len(),
        1,
        "only the alert is top-level"
    );
    assert_eq!(h.chat_message(f.id, "thread").await, Some(alert_ts.clone()));
    assert_eq!(h.chat_message(f.id, "card").await, Some(card.ts.clone()));

    // The same alert again: the same finding, seen twice, and no second card or thread.
    let (again, again_ts) = h.post("EvALERT2", ALERTS, ALERTMANAGER, FIRING);
    h.event(&again).await;
    h.done().await;
    assert_eq!(h.findings().await, 1);
    let f2 = h.server.app.store.finding(f.id).await.unwrap().unwrap();
    assert_eq!(f2.times_seen, 2);
    assert!(h.by_thread(ALERTS, &again_ts).await.is_none());
    assert!(h.fake.thread(ALERTS, &again_ts).is_empty());
    assert_eq!(h.ours(ALERTS).len(), 1, "still one card");
    assert_eq!(h.fake.calls_to("chat.postMessage").len(), 1);
    assert_eq!(h.chat_message(f.id, "thread").await, Some(alert_ts.clone()));

    // People answering under the alert comment on the finding.
    let reply_ts = h
        .fake
        .add_user_reply(ALERTS, &alert_ts, "UANN", "looking into it");
    let mut reply = corpus("events/bolt-python_message.json");
    reply["event_id"] = json!("EvREPLY");
    reply["event"]["channel"] = json!(ALERTS);
    reply["event"]["user"] = json!("UANN");
    reply["event"]["text"] = json!("looking into it");
    reply["event"]["ts"] = json!(reply_ts);
    reply["event"]["thread_ts"] = json!(alert_ts);
    h.event(&reply).await;
    let kinds: Vec<String> = h
        .server
        .app
        .store
        .trail(f.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&"commented".to_string()), "{kinds:?}");
    h.done().await;
}

#[tokio::test]
async fn a_slack_retry_of_the_alert_event_is_processed_once() {
    let h = harness(&[alertmanager_rule()], |_| {}).await;
    let (alert, alert_ts) = h.post("EvALERT", ALERTS, ALERTMANAGER, FIRING);
    assert_eq!(h.send(&alert, false).await.status(), 200);
    assert_eq!(h.send(&alert, true).await.status(), 200);
    h.done().await;
    assert_eq!(h.findings().await, 1);
    let f = h.by_thread(ALERTS, &alert_ts).await.expect("a finding");
    assert_eq!(f.times_seen, 1);
    let kinds: Vec<String> = h
        .server
        .app
        .store
        .trail(f.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["created"]);
    assert_eq!(h.fake.thread(ALERTS, &alert_ts).len(), 1, "one card");
    h.done().await;
}

#[tokio::test]
async fn messages_no_rule_reads_are_ignored_without_a_call() {
    let h = harness(&[alertmanager_rule()], |_| {}).await;
    // A person (not a listed bot or user) posting the same text.
    let person_ts = h.fake.add_user_message(ALERTS, "UMALLORY", FIRING);
    let mut person = corpus("events/bolt-python_message.json");
    person["event_id"] = json!("EvPERSON");
    person["event"]["channel"] = json!(ALERTS);
    person["event"]["user"] = json!("UMALLORY");
    person["event"]["text"] = json!(FIRING);
    person["event"]["ts"] = json!(person_ts);
    // Another bot; the listed bot in another channel; a resolved alert; a reply in a thread.
    let (other_bot, _) = h.post("EvOTHER", ALERTS, "B0OTHER", FIRING);
    let (elsewhere, _) = h.post("EvELSEWHERE", "C0RANDOM", ALERTMANAGER, FIRING);
    let (resolved, resolved_ts) = h.post(
        "EvRESOLVED",
        ALERTS,
        ALERTMANAGER,
        "[RESOLVED] InstanceDown on node-1:9100",
    );
    let (mut in_thread, _) = h.post("EvTHREAD", ALERTS, ALERTMANAGER, FIRING);
    in_thread["event"]["thread_ts"] = json!(resolved_ts);
    for payload in [person, other_bot, elsewhere, resolved, in_thread] {
        h.event(&payload).await;
    }
    h.done().await;
    assert_eq!(h.findings().await, 0);
    assert!(h.fake.calls().is_empty(), "{:?}", h.fake.calls());
}

#[tokio::test]
async fn remedybot_does_not_read_its_own_messages() {
    let h = harness(&[alertmanager_rule(), own_bot_rule()], |s| {
        s.slack.default_channel = Some(ALERTS.into());
    })
    .await;
    // A finding from a scanner: its card is posted top-level in the alerts channel.
    let scanned = common::finding(1, Severity::High);
    h.server
        .app
        .ingest(vec![scanned], &Actor::system(), Source::Cli, Utc::now())
        .await
        .unwrap();
    // An alert: its card is a reply under it.
    let (alert, alert_ts) = h.post("EvALERT", ALERTS, ALERTMANAGER, FIRING);
    h.event(&alert).await;
    h.done().await;
    assert_eq!(h.findings().await, 2);
    let ours = h.ours(ALERTS);
    assert_eq!(ours.len(), 2, "two cards: {ours:?}");
    assert!(ours.iter().any(|m| m.thread_ts.is_none()));
    assert!(
        ours.iter()
            .any(|m| m.thread_ts.as_deref() == Some(alert_ts.as_str()))
    );

    // Slack tells remedybot about its own cards: nothing comes of them, however often.
    let top = ours.iter().find(|m| m.thread_ts.is_none()).unwrap();
    for (i, m) in ours.iter().chain([top]).enumerate() {
        h.event(&own_message_event(&format!("EvOWN{i}"), m)).await;
    }
    // Nor of one tagged with remedybot's metadata.
    let mut tagged = own_message_event("EvTAGGED", top);
    tagged["event"]["metadata"] = json!({
        "event_type": "remedybot_outbox",
        "event_payload": { "outbox_id": 1 }
    });
    h.event(&tagged).await;
    h.done().await;
    assert_eq!(h.findings().await, 2);
    assert_eq!(h.ours(ALERTS).len(), 2);
    // Who remedybot is was asked once, and remembered.
    let asked = h.fake.calls_to("auth.test");
    assert_eq!(asked.len(), 1);
    assert!(asked[0].ok());
    h.done().await;
}
