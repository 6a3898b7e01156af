//! The chat outbox delivered to Discord: remedybot's REST client (serenity's routes and
//! request building) against the fake Discord, the real server with its outbox worker,
//! and a real database.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::fake_discord::{BOT_TOKEN, FakeDiscord, Fault, StoredMessage};
use common::{TestDb, TestServer};
use remedybot::app::App;
use remedybot::config::{Secret, Settings};
use remedybot::domain::{Actor, Command, DecisionKind, FindingId, Proposal, Source};
use serde_json::Value;

const CHANNEL: u64 = 710_000_000_000_000_001;
const WAIT: Duration = Duration::from_secs(20);

fn discord_settings(db: &TestDb, fake: &FakeDiscord, rate: f64) -> Settings {
    let mut s = db.settings();
    s.discord.bot_token = Some(Secret::new(BOT_TOKEN));
    s.discord.api_url = fake.url();
    s.discord.default_channel = Some(CHANNEL.to_string());
    s.discord.messages_per_second_per_channel = rate;
    s
}

async fn ingest(server: &TestServer, body: &str) -> Vec<FindingId> {
    let resp = server
        .post("/api/v1/findings", body.to_string())
        .send()
        .await
        .expect("POST findings");
    assert_eq!(resp.status(), 200);
    let reply: Value = resp.json().await.expect("ingest reply");
    reply["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["id"].as_str().expect("id").parse().expect("finding id"))
        .collect()
}

async fn act(app: &App, id: FindingId, who: &str, command: Command) {
    let actor = Actor::new("cli", who, who);
    app.execute(id, &command, &actor, Source::Cli, Utc::now())
        .await
        .unwrap_or_else(|e| panic!("{command:?} by {who} refused: {e}"));
}

fn text(m: &StoredMessage) -> String {
    format!("{} {} {}", m.content, m.embeds, m.components)
}

fn custom_ids(m: &StoredMessage) -> Vec<String> {
    let mut out = Vec::new();
    for row in m.components.as_array().into_iter().flatten() {
        for c in row["components"].as_array().into_iter().flatten() {
            if let Some(id) = c["custom_id"].as_str() {
                out.push(id.to_string());
            }
        }
    }
    out
}

#[tokio::test]
async fn a_new_finding_gets_a_card_and_a_thread_that_follow_the_workflow() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::sqlite();
    let mut settings = discord_settings(&db, &fake, 50.0);
    settings
        .policy
        .approvals
        .get_mut(&DecisionKind::FalsePositive)
        .expect("false positive policy")
        .quorum = 2;
    settings
        .policy
        .approvals
        .get_mut(&DecisionKind::FalsePositive)
        .unwrap()
        .groups = vec!["sec".into()];
    settings.policy.groups.insert(
        "sec".into(),
        vec!["cli:ann".into(), "cli:bob".into(), "discord:42".into()],
    );
    let app = db.app_with(settings).await;
    let server = TestServer::start(app.clone()).await;

    let id = ingest(
        &server,
        r#"[{"source":"trivy","rule_id":"CVE-2024-1","title":"@everyone openssl <@&123> **bold**","severity":"high","asset":"api","owner":"discord:4242"}]"#,
    )
    .await[0];

    let roots = fake.wait_for_messages(CHANNEL, 1, WAIT).await;
    let root = &roots[0];
    let card = text(root);
    assert!(card.contains(&id.to_string()), "{card}");
    assert!(
        !card.contains("@everyone openssl"),
        "mentions are defused: {card}"
    );
    assert_eq!(
        root.allowed_mentions.as_ref().expect("allowed_mentions")["parse"],
        serde_json::json!([]),
    );
    assert!(
        custom_ids(root).contains(&format!("rb:acknowledge:{id}")),
        "{:?}",
        custom_ids(root)
    );
    // The thread is started right after the message is created (a second call).
    let root_id = root.id;
    fake.wait_until(|f| f.thread_of(root_id).is_some(), WAIT)
        .await;
    let thread = fake
        .thread_of(root.id)
        .expect("a thread is started on the card");
    assert_eq!(thread.parent_id, CHANNEL);
    assert!(thread.name.starts_with(&id.to_string()), "{}", thread.name);
    assert!(thread.name.chars().count() <= 100);

    // The workflow moves: the card is edited in place, notes go into the thread.
    act(&app, id, "ann", Command::Acknowledge).await;
    let proposal = Proposal {
        kind: DecisionKind::FalsePositive,
        reason: "test fixture".into(),
        duplicate_of: None,
        until: None,
        compensating_controls: String::new(),
    };
    act(&app, id, "ann", Command::Propose(proposal)).await;
    common::outbox_drained(&app).await;
    let in_thread = fake.messages(thread.id);
    assert!(
        in_thread.len() >= 2,
        "notes and the approval request: {in_thread:?}"
    );
    let approval = in_thread
        .iter()
        .find(|m| custom_ids(m).iter().any(|c| c.starts_with("rb:approve:")))
        .expect("an approval request with vote buttons");
    assert!(text(approval).contains("0 of 2"), "{}", text(approval));

    act(
        &app,
        id,
        "bob",
        Command::Vote {
            approve: true,
            reason: None,
        },
    )
    .await;
    common::outbox_drained(&app).await;
    let tally = fake
        .message(thread.id, approval.id)
        .expect("approval message");
    assert!(
        text(&tally).contains("1 of 2"),
        "the tally is edited: {}",
        text(&tally)
    );

    let root_now = fake.message(CHANNEL, root.id).expect("card");
    assert!(!root_now.edits.is_empty(), "the card was edited in place");
    assert_eq!(
        fake.messages(CHANNEL).len(),
        1,
        "everything else is in the thread"
    );
    fake.assert_no_violations();
    server.stop().await;
}

#[tokio::test]
async fn rate_limits_and_server_errors_lose_nothing_and_post_nothing_twice() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::sqlite();
    let app = db.app_with(discord_settings(&db, &fake, 50.0)).await;
    let server = TestServer::start(app.clone()).await;

    fake.fail_for(
        "create_message",
        Duration::from_millis(1500),
        Fault::ServerError(502),
    );
    fake.fail_next(
        "start_thread",
        2,
        Fault::RateLimited {
            retry_after: Duration::from_millis(300),
        },
    );
    let body: Vec<String> = (0..3)
        .map(|i| {
            format!(
                r#"{{"source":"scan","rule_id":"r{i}","title":"finding {i}","severity":"high","asset":"a{i}"}}"#
            )
        })
        .collect();
    let ids = ingest(&server, &format!("[{}]", body.join(","))).await;
    for id in &ids {
        act(&app, *id, "ann", Command::Acknowledge).await;
        act(
            &app,
            *id,
            "ann",
            Command::Comment {
                text: "first".into(),
                link: None,
            },
        )
        .await;
        act(
            &app,
            *id,
            "ann",
            Command::Comment {
                text: "second".into(),
                link: None,
            },
        )
        .await;
    }
    fake.wait_for_messages(CHANNEL, 3, WAIT).await;
    common::outbox_drained(&app).await;
    let roots = fake.messages(CHANNEL);
    assert_eq!(
        roots.len(),
        3,
        "one card per finding, none twice: {roots:?}"
    );
    for root in &roots {
        let thread = fake.thread_of(root.id).expect("thread");
        let notes: Vec<String> = fake
            .messages(thread.id)
            .iter()
            .map(|m| m.content.clone() + &m.embeds.to_string())
            .collect();
        let first = notes
            .iter()
            .position(|n| n.contains("first"))
            .expect("first note");
        let second = notes
            .iter()
            .position(|n| n.contains("second"))
            .expect("second note");
        assert!(first < second, "in order per thread: {notes:?}");
        assert_eq!(notes.iter().filter(|n| n.contains("first")).count(), 1);
    }
    assert!(
        !fake
            .calls_to("create_message")
            .iter()
            .all(|c| c.status < 300),
        "faults were injected"
    );
    fake.assert_no_violations();
    server.stop().await;
}
