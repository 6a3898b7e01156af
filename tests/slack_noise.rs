//! Noise control in Slack: a route's `thread_severities` and the flood guard
//! (`[chat] flood_threshold`), through the real server, outbox and the fake Slack.

mod common;

use std::path::Path;

use chrono::Utc;
use common::fake_slack::{BOT_TOKEN, FakeSlack};
use common::{TestDb, TestServer};
use remedybot::app::App;
use remedybot::config::{Secret, Settings};
use remedybot::domain::{Actor, Command, FindingId, Severity, Source};
use serde_json::Value;

const CHANNEL: &str = "C0SECURITY";

fn settings(db: &TestDb, fake: &FakeSlack, toml: &str) -> Settings {
    let file = Settings::from_toml(toml, Path::new("test.toml")).expect("config");
    let mut s = db.settings();
    s.router = file.router;
    s.chat = file.chat;
    s.slack.bot_token = Some(Secret::new(BOT_TOKEN));
    s.slack.api_url = fake.api_url();
    s.slack.default_channel = Some(CHANNEL.into());
    s.slack.messages_per_second_per_channel = 100.0;
    s
}

async fn ingest(server: &TestServer, items: Vec<Value>) -> Vec<FindingId> {
    let reply: Value = server
        .post("/api/v1/findings", Value::Array(items).to_string())
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("reply");
    reply["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["id"].as_str().expect("id").parse().expect("finding id"))
        .collect()
}

fn item(i: usize, severity: &str) -> Value {
    serde_json::json!({
        "source": "trivy", "rule_id": format!("CVE-2026-{i}"), "asset": "api",
        "title": format!("Vulnerability {i}"), "severity": severity,
    })
}

async fn drained(app: &App) {
    common::outbox_drained(app).await;
}

async fn act(app: &App, id: FindingId, command: Command) {
    app.execute(
        id,
        &command,
        &Actor::new("cli", "alice", "alice"),
        Source::Cli,
        Utc::now(),
    )
    .await
    .expect("command");
}

fn text(m: &common::fake_slack::StoredMessage) -> String {
    m.blocks.as_ref().map(Value::to_string).unwrap_or_default()
}

#[tokio::test]
async fn an_import_over_the_flood_threshold_posts_one_summary_with_a_thread_for_the_batch() {
    let fake = FakeSlack::start().await;
    let db = TestDb::sqlite();
    let app = db
        .app_with(settings(&db, &fake, "[chat]\nflood_threshold = 5\n"))
        .await;
    let server = TestServer::start(app.clone()).await;

    // Five new findings: at the threshold, a card each.
    ingest(&server, (0..5).map(|i| item(i, "high")).collect()).await;
    drained(&app).await;
    assert_eq!(fake.messages(CHANNEL).len(), 5);

    // Eight more in one import: one summary instead of eight cards.
    let ids = ingest(
        &server,
        (5..13)
            .map(|i| item(i, if i == 5 { "critical" } else { "low" }))
            .collect(),
    )
    .await;
    drained(&app).await;
    let roots = fake.messages(CHANNEL);
    assert_eq!(roots.len(), 6, "five cards and one summary");
    let summary = &roots[5];
    let body = text(summary);
    assert!(body.contains("8 new findings"), "{body}");
    assert!(
        body.contains("*1* Critical") && body.contains("*7* Low"),
        "{body}"
    );
    assert!(
        body.contains(&ids[0].to_string()),
        "lists the findings: {body}"
    );

    // The findings are still tracked one by one; their updates go to the batch's thread.
    act(&app, ids[3], Command::Acknowledge).await;
    drained(&app).await;
    let thread = fake.thread(CHANNEL, &summary.ts);
    assert_eq!(thread.len(), 1, "{thread:?}");
    assert!(text(&thread[0]).contains("acknowledged"));
    assert!(
        text(&thread[0]).contains(&ids[3].to_string()),
        "says which finding"
    );
    fake.assert_no_violations();
    server.stop().await;
}

#[tokio::test]
async fn only_the_routes_thread_severities_get_a_card_until_a_severity_is_raised() {
    let fake = FakeSlack::start().await;
    let db = TestDb::sqlite();
    let config = r#"
[[routes]]
name = "default"
slack_channels = ["C0SECURITY"]
thread_severities = ["critical", "high"]
"#;
    let app = db.app_with(settings(&db, &fake, config)).await;
    let server = TestServer::start(app.clone()).await;
    let ids = ingest(&server, vec![item(1, "critical"), item(2, "low")]).await;
    drained(&app).await;
    let roots = fake.messages(CHANNEL);
    assert_eq!(roots.len(), 1, "only the critical finding is posted");
    assert!(text(&roots[0]).contains("Vulnerability 1"));

    // The low finding is tracked: a change to it posts nothing …
    act(&app, ids[1], Command::Acknowledge).await;
    drained(&app).await;
    assert_eq!(fake.messages(CHANNEL).len(), 1);
    // … until its severity enters the route's thread severities: then it gets its card.
    act(
        &app,
        ids[1],
        Command::ChangeSeverity {
            severity: Severity::High,
            reason: "reachable from the internet".into(),
        },
    )
    .await;
    drained(&app).await;
    let roots = fake.messages(CHANNEL);
    assert_eq!(roots.len(), 2, "{roots:?}");
    assert!(text(&roots[1]).contains("Vulnerability 2"));
    fake.assert_no_violations();
    server.stop().await;
}
