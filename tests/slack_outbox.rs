//! The chat outbox delivered to Slack: the real slack-morphism client against the fake
//! Slack Web API, the real server with its outbox worker, and a real database.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::fake_slack::{BOT_TOKEN, FakeSlack, Fault, StoredMessage};
use common::{TestDb, TestServer};
use remedybot::app::App;
use remedybot::config::{Secret, Settings};
use remedybot::domain::{Actor, Command, FindingId, Source};
use serde_json::Value;

const CHANNEL: &str = "C0SECURITY";
const WAIT: Duration = Duration::from_secs(20);

fn slack_settings(db: &TestDb, fake: &FakeSlack, rate: f64) -> Settings {
    let mut s = db.settings();
    s.slack.bot_token = Some(Secret::new(BOT_TOKEN));
    s.slack.api_url = fake.api_url();
    s.slack.default_channel = Some(CHANNEL.into());
    s.slack.messages_per_second_per_channel = rate;
    s
}

async fn ingest(server: &TestServer, body: &str) -> Value {
    let resp = server
        .post("/api/v1/findings", body.to_string())
        .send()
        .await
        .expect("POST findings");
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("ingest reply")
}

fn ids(reply: &Value) -> Vec<FindingId> {
    reply["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["id"].as_str().expect("id").parse().expect("finding id"))
        .collect()
}

fn outbox_id(m: &StoredMessage) -> Option<i64> {
    m.metadata.as_ref()?["event_payload"]["outbox_id"].as_i64()
}

fn blocks_text(m: &StoredMessage) -> String {
    m.blocks.as_ref().map(|b| b.to_string()).unwrap_or_default()
}

async fn act(app: &App, id: FindingId, command: Command) {
    let actor = Actor::new("cli", "alice", "alice");
    app.execute(id, &command, &actor, Source::Cli, Utc::now())
        .await
        .expect("command accepted");
}

async fn wait_outbox_empty(app: &App) {
    common::outbox_drained(app).await;
}

#[tokio::test]
async fn a_new_finding_gets_a_card_whose_thread_follows_the_workflow() {
    let fake = FakeSlack::start().await;
    let db = TestDb::sqlite();
    let app = db.app_with(slack_settings(&db, &fake, 50.0)).await;
    let server = TestServer::start(app.clone()).await;

    let reply = ingest(
        &server,
        r#"[{"source":"trivy","rule_id":"CVE-2024-1","title":"<!channel> openssl & friends","severity":"high","asset":"api","owner":"slack:U0OWNER"}]"#,
    )
    .await;
    let id = ids(&reply)[0];

    let roots = fake.wait_for_messages(CHANNEL, 1, WAIT).await;
    assert_eq!(roots.len(), 1, "one card per finding");
    let card = &roots[0];
    let text = blocks_text(card);
    assert!(
        text.contains("&lt;!channel&gt; openssl &amp; friends"),
        "{text}"
    );
    assert!(text.contains("<@U0OWNER>"), "owner is mentioned: {text}");
    assert!(text.contains("rb:acknowledge"), "has an Acknowledge button");
    assert_eq!(
        card.metadata.as_ref().map(|m| m["event_type"].clone()),
        Some(Value::from("remedybot_outbox"))
    );

    act(&app, id, Command::Acknowledge).await;
    wait_outbox_empty(&app).await;
    let thread = fake.thread(CHANNEL, &card.ts);
    assert_eq!(thread.len(), 1, "one note: {thread:?}");
    assert!(blocks_text(&thread[0]).contains("acknowledged"));
    let card = fake.message(CHANNEL, &card.ts).expect("card");
    assert_eq!(card.update_count, 1, "the card is edited in place");
    assert!(
        blocks_text(&card).contains("Triage"),
        "card shows the new stage"
    );
    assert!(!blocks_text(&card).contains("rb:acknowledge"));

    fake.assert_no_violations();
    server.stop().await;
}

#[tokio::test]
async fn an_approval_request_shows_a_live_tally_and_its_outcome() {
    let fake = FakeSlack::start().await;
    let db = TestDb::sqlite();
    let mut settings = slack_settings(&db, &fake, 50.0);
    let policy: Settings = Settings::from_toml(
        r#"
[groups]
security = ["slack:U0A", "slack:U0B", "cli:carol"]
[approvals.false_positive]
quorum = 2
groups = ["security"]
"#,
        std::path::Path::new("test.toml"),
    )
    .expect("policy");
    settings.policy = policy.policy;
    let app = db.app_with(settings).await;
    let server = TestServer::start(app.clone()).await;
    let id = ids(&ingest(&server, &common::generic_json(1)).await)[0];
    act(
        &app,
        id,
        Command::Propose(remedybot::domain::Proposal {
            kind: remedybot::domain::DecisionKind::FalsePositive,
            reason: "test fixture".into(),
            duplicate_of: None,
            until: None,
            compensating_controls: String::new(),
        }),
    )
    .await;
    wait_outbox_empty(&app).await;
    let card = &fake.messages(CHANNEL)[0];
    let approval = fake
        .thread(CHANNEL, &card.ts)
        .into_iter()
        .find(|m| blocks_text(m).contains("rb:approve"))
        .expect("an approval message with buttons");
    assert!(blocks_text(&approval).contains("0 of 2"));

    for (who, name) in [("U0A", "ann"), ("U0B", "bob")] {
        app.execute(
            id,
            &Command::Vote {
                approve: true,
                reason: None,
            },
            &Actor::new("slack", who, name),
            Source::Slack,
            Utc::now(),
        )
        .await
        .expect("vote");
    }
    wait_outbox_empty(&app).await;
    let approval = fake.message(CHANNEL, &approval.ts).expect("approval");
    let text = blocks_text(&approval);
    assert!(text.contains("approved"), "{text}");
    assert!(!text.contains("rb:approve"), "no buttons once decided");
    fake.assert_no_violations();
    server.stop().await;
}

#[tokio::test]
async fn rate_limits_and_server_errors_delay_messages_but_lose_or_repeat_none() {
    for db in TestDb::all().await {
        faults_lose_and_repeat_nothing(&db).await;
        db.cleanup().await;
    }
}

async fn faults_lose_and_repeat_nothing(db: &TestDb) {
    let fake = FakeSlack::start().await;
    let app = db.app_with(slack_settings(db, &fake, 50.0)).await;
    fake.fail_next(
        "chat.postMessage",
        2,
        Fault::RateLimited {
            retry_after_secs: 1,
        },
    );
    fake.fail_for(
        "chat.postMessage",
        Duration::from_millis(1500),
        Fault::ServerError(500),
    );
    fake.fail_next("chat.update", 1, Fault::ServerError(503));
    let server = TestServer::start(app.clone()).await;
    let found = ids(&ingest(&server, &common::generic_json(4)).await);
    for id in &found {
        act(&app, *id, Command::Acknowledge).await;
        act(
            &app,
            *id,
            Command::Comment {
                text: "looking into it".into(),
                link: None,
            },
        )
        .await;
    }
    wait_outbox_empty(&app).await;

    let roots = fake.messages(CHANNEL);
    assert_eq!(roots.len(), 4, "one card per finding, none repeated");
    let mut seen = std::collections::HashSet::new();
    for root in &roots {
        assert!(seen.insert(outbox_id(root)), "a message was posted twice");
        let thread = fake.thread(CHANNEL, &root.ts);
        let kinds: Vec<String> = thread.iter().map(blocks_text).collect();
        assert_eq!(thread.len(), 2, "two notes per thread: {kinds:?}");
        assert!(kinds[0].contains("acknowledged"), "in order: {kinds:?}");
        assert!(kinds[1].contains("looking into it"), "in order: {kinds:?}");
        for m in &thread {
            assert!(seen.insert(outbox_id(m)), "a message was posted twice");
        }
    }
    let failed = fake
        .calls_to("chat.postMessage")
        .iter()
        .filter(|c| c.status != 200)
        .count();
    assert!(
        failed >= 2,
        "the faults were exercised ({failed} failed calls)"
    );
    fake.assert_no_violations();
    server.stop().await;
}

#[tokio::test]
async fn a_message_posted_before_a_crash_is_adopted_not_posted_again() {
    for db in TestDb::all().await {
        crash_after_send_is_reconciled(&db).await;
        db.cleanup().await;
    }
}

async fn crash_after_send_is_reconciled(db: &TestDb) {
    let fake = FakeSlack::start().await;
    let app = db.app_with(slack_settings(db, &fake, 50.0)).await;
    let server = TestServer::start(app.clone()).await;
    let id = ids(&ingest(&server, &common::generic_json(1)).await)[0];
    wait_outbox_empty(&app).await;
    let card = fake.messages(CHANNEL).remove(0);
    let posted_id = outbox_id(&card).expect("tagged with its outbox id");
    server.stop().await;

    // Rewind to the moment between Slack accepting the post and the store recording it:
    // the row is still claimed (its lease long expired) and no thread is known.
    let raw = db.raw().await;
    let pool = raw.pool_for_tests();
    sqlx::query("DELETE FROM chat_messages")
        .execute(pool)
        .await
        .expect("forget the thread");
    sqlx::query(
        "INSERT INTO outbox (id, platform, finding_key, lane, delivery, state, attempts, \
         not_before, lease_until, created_at) VALUES ($1, 'slack', $2, $3, \
         '{\"kind\":\"open_thread\"}', 'sending', 1, 0, 1, $4)",
    )
    .bind(posted_id)
    .bind(id.key())
    .bind(format!("slack:{}", id.key()))
    .bind(Utc::now().timestamp_millis())
    .execute(pool)
    .await
    .expect("restore the in-flight row");

    // A restarted replica (the stopped server closed the old pool).
    let app = db.app_with(slack_settings(db, &fake, 50.0)).await;
    let server = TestServer::start(app.clone()).await;
    wait_outbox_empty(&app).await;
    assert_eq!(fake.messages(CHANNEL).len(), 1, "not posted twice");
    assert!(
        !fake.calls_to("conversations.history").is_empty(),
        "the in-doubt claim looked for its message first"
    );
    act(&app, id, Command::Acknowledge).await;
    wait_outbox_empty(&app).await;
    assert_eq!(
        fake.thread(CHANNEL, &card.ts).len(),
        1,
        "the adopted card is the thread the note goes to"
    );
    fake.assert_no_violations();
    server.stop().await;
}

#[tokio::test]
async fn a_channel_is_never_sent_more_than_the_configured_rate() {
    let fake = FakeSlack::start().await;
    let db = TestDb::sqlite();
    // The fake refuses more than 10 posts a second in one channel; we send at most 8.
    fake.limit_per_channel("chat.postMessage", 10);
    let app = db.app_with(slack_settings(&db, &fake, 8.0)).await;
    let server = TestServer::start(app.clone()).await;
    ingest(&server, &common::generic_json(20)).await;
    wait_outbox_empty(&app).await;
    assert_eq!(fake.messages(CHANNEL).len(), 20);
    let refused = fake
        .calls_to("chat.postMessage")
        .iter()
        .filter(|c| c.status == 429)
        .count();
    assert_eq!(refused, 0, "paced below the platform's limit");
    assert!(fake.max_rate_observed("chat.postMessage", CHANNEL) <= 10);
    fake.assert_no_violations();
    server.stop().await;
}

/// Slack limits `chat.update` per workspace (a per-method tier), not per channel: edits
/// are paced across all channels at `[slack] edits_per_minute`, while posts are not held up.
#[tokio::test]
async fn edits_are_paced_per_method_across_channels() {
    let fake = FakeSlack::start().await;
    let db = TestDb::sqlite();
    let mut settings = slack_settings(&db, &fake, 50.0);
    settings.slack.edits_per_minute = 240.0; // 4 a second
    let app = db.app_with(settings).await;
    let server = TestServer::start(app.clone()).await;
    let reply = ingest(&server, &common::generic_json(12)).await;
    wait_outbox_empty(&app).await;
    for id in ids(&reply) {
        act(&app, id, Command::Acknowledge).await;
    }
    wait_outbox_empty(&app).await;
    let edits = fake.accepted_times("chat.update", CHANNEL);
    assert_eq!(edits.len(), 12, "one card edit per finding");
    let spread = *edits.last().unwrap() - edits[0];
    assert!(
        spread >= Duration::from_millis(2500),
        "12 edits at 4 a second take at least 2.75 s, took {spread:?}"
    );
    assert!(fake.max_calls_in_window("chat.update", CHANNEL, Duration::from_secs(1)) <= 5);
    fake.assert_no_violations();
    server.stop().await;
}

#[tokio::test]
async fn a_message_slack_refuses_for_good_is_parked_and_holds_nothing_back() {
    let fake = FakeSlack::start().await;
    let db = TestDb::sqlite();
    fake.fail_next(
        "chat.postMessage",
        1,
        Fault::Error("channel_not_found".into()),
    );
    let app = db.app_with(slack_settings(&db, &fake, 50.0)).await;
    let server = TestServer::start(app.clone()).await;
    let found = ids(&ingest(&server, &common::generic_json(2)).await);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let depth = app.store.outbox_depth().await.expect("depth");
        if depth.dead == 1 && depth.pending == 0 && depth.sending == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{depth:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        fake.messages(CHANNEL).len(),
        1,
        "the other finding still got its card"
    );
    // The finding without a thread gets no notes; nothing piles up behind the parked row.
    act(&app, found[0], Command::Acknowledge).await;
    act(&app, found[1], Command::Acknowledge).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while app.store.outbox_depth().await.expect("depth").pending > 0 {
        assert!(tokio::time::Instant::now() < deadline, "outbox not drained");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let metrics = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics body");
    assert!(
        metrics.contains(r#"remedybot_chat_deliveries_total{platform="slack",outcome="dead"} 1"#),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test]
async fn without_a_slack_token_nothing_is_queued() {
    let db = TestDb::sqlite();
    let app = db.app().await;
    let server = TestServer::start(app.clone()).await;
    ingest(&server, &common::generic_json(3)).await;
    let depth = app.store.outbox_depth().await.expect("depth");
    assert_eq!((depth.pending, depth.sending, depth.dead), (0, 0, 0));
    server.stop().await;
}
