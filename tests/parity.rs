//! Parity: one scenario — a finding from ingest to closure through chat, with a triage form,
//! a refused vote and two approvals — run on Slack (signed HTTP interactions, the fake Slack
//! Web API) and on Discord (interactions over the gateway, the fake Discord), each with a
//! real server and database. The two decision trails must be identical apart from the
//! platforms' ids (and names, which the platforms derive from them) and the times.

mod common;

use std::time::Duration;

use common::fake_discord::{self, FakeDiscord};
use common::fake_slack::{self, FakeSlack, StoredMessage};
use common::slack_ui::{click, post_interaction, state_values, submission};
use common::{TestDb, TestServer};
use remedybot::config::{Secret, Settings};
use remedybot::domain::{FindingId, Stage};
use serde_json::{Value, json};

const SLACK_SECRET: &str = "parity-signing-secret-0123456789";
const SLACK_CHANNEL: &str = "C0PARITY";
const DISCORD_CHANNEL: u64 = 780_000_000_000_000_001;
const WAIT: Duration = Duration::from_secs(30);

/// The people of the scenario: (role, Slack id, Discord id).
const PEOPLE: [(&str, &str, u64); 4] = [
    ("owner", "UOWNER", 781_000_000_000_000_001),
    ("approver1", "UAPPROVER1", 781_000_000_000_000_002),
    ("approver2", "UAPPROVER2", 781_000_000_000_000_003),
    ("outsider", "UOUTSIDER", 781_000_000_000_000_004),
];

fn slack_id(role: &str) -> &'static str {
    PEOPLE.iter().find(|p| p.0 == role).unwrap().1
}

fn discord_id(role: &str) -> u64 {
    PEOPLE.iter().find(|p| p.0 == role).unwrap().2
}

/// Closing as a false positive needs two approvals from `security`.
fn policy(platform: &str, id: impl Fn(&str) -> String) -> Settings {
    let text = format!(
        "[groups]\nsecurity = [\"{platform}:{}\", \"{platform}:{}\"]\n\n\
         [approvals.false_positive]\nquorum = 2\ngroups = [\"security\"]\n",
        id("approver1"),
        id("approver2")
    );
    Settings::from_toml(&text, std::path::Path::new("parity.toml")).expect("policy")
}

fn finding_json(owner: &str) -> String {
    json!([{
        "source": "parity", "rule_id": "r1", "title": "Hard-coded credential in tests",
        "severity": "medium", "asset": "api", "owner": owner
    }])
    .to_string()
}

async fn ingest(server: &TestServer, body: String) -> FindingId {
    let resp = server.post("/api/v1/findings", body).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let reply: Value = resp.json().await.unwrap();
    reply["findings"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// A trail with platform ids, names and times taken out: (kind, actor role, source,
/// payload with ids replaced by roles and times by `<time>`: due dates follow the clock).
async fn normalised(
    server: &TestServer,
    id: FindingId,
    platform: &str,
) -> Vec<(String, String, String, String)> {
    let trail = server.app.store.trail(id).await.unwrap();
    let times = regex::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z").unwrap();
    let role_of = |actor_id: &str| {
        PEOPLE
            .iter()
            .find(|p| p.1 == actor_id || p.2.to_string() == actor_id)
            .map_or_else(|| actor_id.to_string(), |p| p.0.to_string())
    };
    trail
        .into_iter()
        .map(|e| {
            let mut payload = e.payload.clone();
            for (role, s, d) in PEOPLE {
                payload = payload
                    .replace(&format!("{platform}:{s}"), &format!("chat:{role}"))
                    .replace(&format!("{platform}:{d}"), &format!("chat:{role}"));
            }
            let payload = times.replace_all(&payload, "<time>").into_owned();
            let actor = if e.actor.platform == platform {
                role_of(&e.actor.id)
            } else {
                format!("{}:{}", e.actor.platform, e.actor.id)
            };
            let source = if e.source == platform {
                "chat".to_string()
            } else {
                e.source.clone()
            };
            (e.kind, actor, source, payload)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Slack.

struct SlackRun {
    fake: FakeSlack,
    server: TestServer,
    _db: TestDb,
}

impl SlackRun {
    async fn interaction(&self, payload: &Value) -> String {
        let resp = post_interaction(&self.server, SLACK_SECRET, payload).await;
        assert_eq!(resp.status(), 200);
        let text = resp.text().await.unwrap();
        self.settle().await;
        text
    }

    async fn settle(&self) {
        self.server.app.slack.as_ref().unwrap().settle().await;
        common::outbox_drained(&self.server.app).await;
    }

    fn card(&self) -> StoredMessage {
        self.fake.messages(SLACK_CHANNEL)[0].clone()
    }

    fn approval(&self) -> StoredMessage {
        let root = self.card();
        self.fake
            .thread(SLACK_CHANNEL, &root.ts)
            .into_iter()
            .find(|m| {
                m.blocks
                    .as_ref()
                    .is_some_and(|b| b.to_string().contains("rb:approve"))
            })
            .expect("an approval request")
    }
}

async fn on_slack() -> Vec<(String, String, String, String)> {
    let fake = FakeSlack::start().await;
    let db = TestDb::sqlite();
    let mut settings = db.settings();
    settings.policy = policy("slack", |r| slack_id(r).to_string()).policy;
    settings.slack.bot_token = Some(Secret::new(fake_slack::BOT_TOKEN));
    settings.slack.signing_secret = Some(Secret::new(SLACK_SECRET));
    settings.slack.api_url = fake.api_url();
    settings.slack.default_channel = Some(SLACK_CHANNEL.into());
    settings.slack.messages_per_second_per_channel = 50.0;
    let server = TestServer::start(db.app_with(settings).await).await;
    let run = SlackRun {
        fake,
        server,
        _db: db,
    };

    let id = ingest(
        &run.server,
        finding_json(&format!("slack:{}", slack_id("owner"))),
    )
    .await;
    run.settle().await;
    let owner = slack_id("owner");
    assert_eq!(
        run.interaction(&click(owner, SLACK_CHANNEL, &run.card(), "rb:acknowledge"))
            .await,
        ""
    );

    let before = run.fake.views().len();
    run.interaction(&click(owner, SLACK_CHANNEL, &run.card(), "rb:triage"))
        .await;
    let modal = run.fake.views()[before].view.clone();
    let answers = [
        ("real", "no"),
        ("exploitable", "no"),
        ("decision", "false_positive"),
        ("reason", "the key is a test fixture"),
    ];
    let reply = run
        .interaction(&submission(owner, &modal, state_values(&modal, &answers)))
        .await;
    assert_eq!(reply, "", "the triage form is accepted");

    for who in ["outsider", "approver1", "approver2"] {
        run.interaction(&click(
            slack_id(who),
            SLACK_CHANNEL,
            &run.approval(),
            "rb:approve",
        ))
        .await;
    }
    let f = run.server.app.store.finding(id).await.unwrap().unwrap();
    assert_eq!(f.state.stage, Stage::Closed, "Slack: closed");
    run.fake.assert_no_violations();
    let trail = normalised(&run.server, id, "slack").await;
    run.server.stop().await;
    trail
}

// ---------------------------------------------------------------------------------------
// Discord.

struct DiscordRun {
    fake: FakeDiscord,
    server: TestServer,
    _db: TestDb,
}

impl DiscordRun {
    /// Dispatch an interaction over the gateway; its answer on the callback.
    async fn interaction(&self, interaction: Value) -> Value {
        let (interaction_id, _) = FakeDiscord::interaction_ids(&interaction);
        self.fake.dispatch("INTERACTION_CREATE", interaction);
        let answered = self
            .fake
            .wait_until(
                |f| {
                    f.callbacks()
                        .iter()
                        .any(|c| c.interaction_id == interaction_id)
                },
                WAIT,
            )
            .await;
        assert!(answered, "the interaction is answered");
        self.server.app.discord.as_ref().unwrap().settle().await;
        common::outbox_drained(&self.server.app).await;
        let callback = self
            .fake
            .callbacks()
            .into_iter()
            .find(|c| c.interaction_id == interaction_id)
            .unwrap();
        json!({ "type": callback.kind, "data": callback.data })
    }

    fn card(&self) -> fake_discord::StoredMessage {
        self.fake.messages(DISCORD_CHANNEL)[0].clone()
    }

    fn thread(&self) -> u64 {
        self.fake.thread_of(self.card().id).expect("thread").id
    }

    fn approval(&self) -> fake_discord::StoredMessage {
        self.fake
            .messages(self.thread())
            .into_iter()
            .find(|m| m.components.to_string().contains("rb:approve:"))
            .expect("an approval request")
    }

    async fn click(
        &self,
        who: &str,
        message: &fake_discord::StoredMessage,
        custom_id: &str,
    ) -> Value {
        let click =
            self.fake
                .button_click(message.channel_id, message.id, discord_id(who), custom_id);
        self.interaction(click).await
    }

    async fn submit(&self, who: &str, modal: &Value, answers: &[(&str, &str)]) -> Value {
        let custom_id = modal["data"]["custom_id"].as_str().unwrap().to_string();
        let mut values = Vec::new();
        for row in modal["data"]["components"].as_array().unwrap() {
            let field = row["components"][0]["custom_id"].as_str().unwrap();
            let value = answers
                .iter()
                .find(|(f, _)| *f == field)
                .map_or("", |(_, v)| *v);
            values.push((field.to_string(), value.to_string()));
        }
        let pairs: Vec<(&str, &str)> = values
            .iter()
            .map(|(f, v)| (f.as_str(), v.as_str()))
            .collect();
        let submit = self
            .fake
            .modal_submit(self.thread(), discord_id(who), &custom_id, &pairs);
        self.interaction(submit).await
    }
}

/// The first button of an ephemeral answer (Continue).
fn first_button(reply: &Value) -> String {
    reply["data"]["components"][0]["components"][0]["custom_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no button in {reply}"))
        .to_string()
}

async fn on_discord() -> Vec<(String, String, String, String)> {
    let fake = FakeDiscord::start().await;
    let db = TestDb::sqlite();
    let mut settings = db.settings();
    settings.policy = policy("discord", |r| discord_id(r).to_string()).policy;
    settings.discord.bot_token = Some(Secret::new(fake_discord::BOT_TOKEN));
    settings.discord.api_url = fake.url();
    settings.discord.default_channel = Some(DISCORD_CHANNEL.to_string());
    settings.discord.messages_per_second_per_channel = 50.0;
    let server = TestServer::start(db.app_with(settings).await).await;
    assert!(
        fake.wait_for_session(WAIT).await,
        "the gateway is connected"
    );
    let run = DiscordRun {
        fake,
        server,
        _db: db,
    };

    let id = ingest(
        &run.server,
        finding_json(&format!("discord:{}", discord_id("owner"))),
    )
    .await;
    common::outbox_drained(&run.server.app).await;
    let card = run.card();
    assert_eq!(
        run.click("owner", &card, &format!("rb:acknowledge:{id}"))
            .await["type"],
        6
    );

    // The triage form comes in two steps on Discord (at most five inputs a modal).
    let answers = [
        ("real", "no"),
        ("exploitable", "no"),
        ("severity", "medium"),
        ("decision", "false_positive"),
        ("reason", "the key is a test fixture"),
    ];
    let modal = run.click("owner", &card, &format!("rb:triage:{id}")).await;
    assert_eq!(modal["type"], 9);
    let saved = run.submit("owner", &modal, &answers).await;
    let next = run.click("owner", &card, &first_button(&saved)).await;
    assert_eq!(next["type"], 9, "Continue opens step 2: {next}");
    let done = run.submit("owner", &next, &answers).await;
    assert_eq!(
        done["data"]["flags"], 64,
        "an ephemeral confirmation: {done}"
    );

    for who in ["outsider", "approver1", "approver2"] {
        let approval = run.approval();
        run.click(who, &approval, &format!("rb:approve:{id}")).await;
    }
    let f = run.server.app.store.finding(id).await.unwrap().unwrap();
    assert_eq!(f.state.stage, Stage::Closed, "Discord: closed");
    run.fake.assert_no_violations();
    let trail = normalised(&run.server, id, "discord").await;
    run.server.stop().await;
    trail
}

#[tokio::test]
async fn slack_and_discord_record_the_same_trail_for_the_same_scenario() {
    let slack = on_slack().await;
    let discord = on_discord().await;
    let kinds: Vec<&str> = slack.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "created",
            "acknowledged",
            "triaged",
            "approval_requested",
            "vote_cast",
            "vote_cast",
            "closed"
        ],
        "the outsider's vote is refused and not recorded"
    );
    assert_eq!(
        slack.len(),
        discord.len(),
        "slack {slack:#?}\ndiscord {discord:#?}"
    );
    for (s, d) in slack.iter().zip(&discord) {
        assert_eq!(s, d, "the trails differ");
    }
}
