//! The Discord gateway transport: the real serenity client connected to the fake Discord's
//! websocket by `serve`. Alert messages become findings with their thread on the alert,
//! replies in a finding's thread become comments, and interactions are answered on their
//! callback with the same handler as `POST /discord/interactions`.

mod common;

use std::time::Duration;

use common::fake_discord::{BOT_TOKEN, FakeDiscord};
use common::{TestDb, TestServer};
use remedybot::chat::extract::{ListenFile, Listeners};
use remedybot::config::Secret;
use remedybot::domain::{FindingId, Stage};
use remedybot::store::FindingFilter;
use serde_json::json;

const ALERTS: u64 = 720_000_000_000_000_001;
const ALERT_BOT: u64 = 720_000_000_000_000_002;
const ANN: u64 = 720_000_000_000_000_003;
const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn alerts_replies_and_clicks_arrive_over_the_gateway() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::sqlite();
    let mut settings = db.settings();
    settings.discord.bot_token = Some(Secret::new(BOT_TOKEN));
    settings.discord.api_url = fake.url();
    settings.discord.messages_per_second_per_channel = 50.0;
    let rule = ListenFile {
        name: "monitor".into(),
        channels: vec![ALERTS.to_string()],
        from_bots: vec![ALERT_BOT.to_string()],
        pattern: Some(r"^ALERT (?P<severity>\w+): (?P<title>.+)$".into()),
        ..ListenFile::default()
    };
    settings.listeners = Listeners::new(&[rule]).expect("valid rule");
    let app = db.app_with(settings).await;
    let server = TestServer::start(app.clone()).await;
    assert!(
        fake.wait_for_session(WAIT).await,
        "serve connects to the gateway"
    );

    // An alert from the monitoring bot: a finding whose thread is the alert itself.
    let post_alert = || {
        fake.message_create(
            ALERTS,
            ALERT_BOT,
            "monitor",
            true,
            "ALERT high: disk full on db-1",
            json!([]),
        )
    };
    let alert = post_alert();
    let alert_id: u64 = alert["id"].as_str().unwrap().parse().unwrap();
    fake.dispatch("MESSAGE_CREATE", alert);
    assert!(
        fake.wait_until(
            |f| f
                .thread_of(alert_id)
                .is_some_and(|t| !f.messages(t.id).is_empty()),
            WAIT
        )
        .await,
        "a thread on the alert, with the card in it"
    );
    let findings = app
        .store
        .list_findings(&FindingFilter::default())
        .await
        .unwrap();
    assert_eq!(findings.len(), 1);
    let id: FindingId = findings[0].id;
    assert_eq!(findings[0].title, "disk full on db-1");
    let thread = fake.thread_of(alert_id).unwrap();
    let card = &fake.messages(thread.id)[0];
    assert!(
        card.embeds.to_string().contains(&id.to_string()),
        "{:?}",
        card.embeds
    );

    // The same alert again is the same finding: no second thread.
    fake.dispatch("MESSAGE_CREATE", post_alert());

    // A person replies in the thread: a comment with a jump link, and it acknowledges.
    let reply = fake.message_create(thread.id, ANN, "ann", false, "looking at it", json!([]));
    let reply_id = reply["id"].as_str().unwrap().to_string();
    fake.dispatch("MESSAGE_CREATE", reply.clone());
    fake.dispatch("MESSAGE_CREATE", reply); // a replay after a resume counts once
    let store = app.store.clone();
    let mut acknowledged = false;
    for _ in 0..200 {
        let f = store.finding(id).await.unwrap().unwrap();
        if f.state.stage == Stage::Triage {
            acknowledged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(acknowledged, "the first reply acknowledges");
    if let Some(discord) = &app.discord {
        discord.settle().await;
    }
    let trail = store.trail(id).await.unwrap();
    let comments: Vec<_> = trail.iter().filter(|e| e.kind == "commented").collect();
    assert_eq!(comments.len(), 1, "{trail:?}");
    assert!(
        comments[0].payload.contains(&reply_id),
        "jump link: {}",
        comments[0].payload
    );
    assert_eq!(
        store.finding(id).await.unwrap().unwrap().times_seen,
        2,
        "the repeat was seen"
    );
    assert_eq!(
        fake.threads().len(),
        1,
        "no second thread for the repeated alert"
    );

    // A click on the card's Triage button opens the form, answered on the callback.
    let click = fake.button_click(thread.id, card.id, ANN, &format!("rb:triage:{id}"));
    fake.dispatch("INTERACTION_CREATE", click);
    assert!(
        fake.wait_until(
            |f| f.callbacks().iter().any(|c| c.kind == 9 && c.accepted),
            WAIT
        )
        .await,
        "a modal is opened: {:?}",
        fake.callbacks()
    );

    // The first step of the form, submitted over the gateway: kept, and a Continue button.
    let modal = fake.callbacks().into_iter().find(|c| c.kind == 9).unwrap();
    let form_id = modal.data["custom_id"].as_str().unwrap().to_string();
    let mut answers = Vec::new();
    for row in modal.data["components"].as_array().unwrap() {
        let input = &row["components"][0];
        let field = input["custom_id"].as_str().unwrap().to_string();
        let value = match field.as_str() {
            "real" => "yes",
            "exploitable" => "no",
            "severity" => "high",
            "decision" => "confirm",
            _ => "",
        };
        answers.push((field, value.to_string()));
    }
    let pairs: Vec<(&str, &str)> = answers
        .iter()
        .map(|(f, v)| (f.as_str(), v.as_str()))
        .collect();
    fake.dispatch(
        "INTERACTION_CREATE",
        fake.modal_submit(thread.id, ANN, &form_id, &pairs),
    );
    assert!(
        fake.wait_until(
            |f| f
                .callbacks()
                .iter()
                .any(|c| c.kind == 4 && c.ephemeral && c.data.to_string().contains("rb:step:")),
            WAIT
        )
        .await,
        "step 1 is saved and the next step offered: {:?}",
        fake.callbacks()
    );
    fake.assert_no_violations();
    server.stop().await;
}

/// `/remedy` over the gateway against the fake Discord (which checks what is sent): `help`
/// answers at once; `backlog` needs the server's roles and channels, so it is deferred and
/// the answer replaces the deferral (`PATCH …/messages/@original`), listing the finding
/// whose thread is in a channel the member can see.
#[tokio::test]
async fn remedy_over_the_gateway_is_answered_and_deferred_within_discords_rules() {
    const GUILD: u64 = 725_000_000_000_000_001;
    const CHANNEL: u64 = 725_000_000_000_000_002;
    const VIEW_CHANNEL: u64 = 1 << 10;
    let fake = FakeDiscord::start().await;
    fake.set_guild(GUILD, 725_000_000_000_000_009);
    fake.add_role(GUILD, GUILD, VIEW_CHANNEL);
    fake.add_channel(GUILD, CHANNEL, "security", &[]);
    fake.set_member(GUILD, ANN, "ann", &[]);
    let db = TestDb::sqlite();
    let mut settings = db.settings();
    settings.discord.bot_token = Some(Secret::new(BOT_TOKEN));
    settings.discord.api_url = fake.url();
    settings.discord.default_channel = Some(CHANNEL.to_string());
    settings.discord.messages_per_second_per_channel = 50.0;
    let app = db.app_with(settings).await;
    let server = TestServer::start(app.clone()).await;
    assert!(fake.wait_for_session(WAIT).await);
    let resp = server
        .post(
            "/api/v1/findings",
            r#"[{"source":"s","rule_id":"r","title":"open port","severity":"high","asset":"a"}]"#,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    common::outbox_drained(&app).await;
    let id = app
        .store
        .list_findings(&FindingFilter::default())
        .await
        .unwrap()[0]
        .id;

    let help = fake.slash_command(CHANNEL, ANN, "remedy", Some("help"), &[]);
    let (help_id, _) = FakeDiscord::interaction_ids(&help);
    fake.dispatch("INTERACTION_CREATE", help);
    let backlog = fake.slash_command(CHANNEL, ANN, "remedy", Some("backlog"), &[]);
    let (backlog_id, _) = FakeDiscord::interaction_ids(&backlog);
    fake.dispatch("INTERACTION_CREATE", backlog);
    let answered = |f: &FakeDiscord, i: u64, kind: u64| {
        f.callbacks()
            .iter()
            .any(|c| c.interaction_id == i && c.kind == kind && c.accepted && c.ephemeral)
    };
    assert!(
        fake.wait_until(|f| answered(f, help_id, 4), WAIT).await,
        "help at once: {:?}",
        fake.callbacks()
    );
    assert!(
        fake.wait_until(|f| answered(f, backlog_id, 5), WAIT).await,
        "backlog deferred: {:?}",
        fake.callbacks()
    );
    let listed = fake
        .wait_until(
            |f| {
                f.calls_to("edit_original")
                    .iter()
                    .any(|c| c.status < 300 && c.body.to_string().contains(&id.to_string()))
            },
            WAIT,
        )
        .await;
    assert!(
        listed,
        "the deferred answer lists {id}: {:?}",
        fake.calls_to("edit_original")
    );
    fake.assert_no_violations();
    server.stop().await;
}
