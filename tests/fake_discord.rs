//! Self-tests for the fake Discord (tests/common/fake_discord.rs), driven by serenity 0.12:
//! REST through `Http` with the proxy set (builders, threads, interactions, commands, guild
//! data), the gateway through a real `Client` (Hello → Identify → READY → dispatches), the
//! contract checks and the scripted faults. No test reaches the internet: serenity would fall
//! back to discord.com only if the fake failed, and every wait has a timeout.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fake_discord::{
    APPLICATION_ID, BOT_USER_ID, EPHEMERAL, FakeDiscord, Fault, PermOverwrite,
};
use serde_json::{Value, json};
use serenity::all::{
    ChannelId, CommandOptionType, CreateActionRow, CreateAllowedMentions, CreateButton,
    CreateCommand, CreateCommandOption, CreateEmbed, CreateInputText, CreateInteractionResponse,
    CreateInteractionResponseFollowup, CreateInteractionResponseMessage, CreateMessage,
    CreateModal, CreateThread, EditInteractionResponse, EditMessage, GatewayIntents, GuildId,
    InputTextStyle, Interaction, InteractionId, MessageId, UserId,
};
use serenity::builder::Builder;
use serenity::http::HttpError;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(5);
const CHANNEL: u64 = 700_000_000_000_000_001;
const GUILD: u64 = 600_000_000_000_000_001;
const ALICE: u64 = 500_000_000_000_000_001;

fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
}

/// The Discord error inside a serenity error: (HTTP status, Discord code).
fn discord_error(e: &serenity::Error) -> (u16, isize) {
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => {
            (r.status_code.as_u16(), r.error.code)
        }
        other => panic!("expected an unsuccessful request, got {other:?}"),
    }
}

#[tokio::test]
async fn rest_messages_threads_interactions_and_commands() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let channel = ChannelId::new(CHANNEL);

    // Message with an embed and a row of buttons.
    let sent = channel
        .send_message(
            &http,
            CreateMessage::new()
                .content("Finding **F-1** needs an owner")
                .embed(
                    CreateEmbed::new()
                        .title("F-1: SQL injection")
                        .description("in `api/users.py`")
                        .field("severity", "high", true),
                )
                .components(vec![CreateActionRow::Buttons(vec![
                    CreateButton::new("claim:F-1").label("Claim"),
                    CreateButton::new("snooze:F-1").label("Snooze"),
                    CreateButton::new_link("https://example.test/F-1").label("Open"),
                ])])
                .allowed_mentions(no_mentions()),
        )
        .await
        .expect("send message");
    assert_eq!(sent.channel_id, channel);
    assert_eq!(sent.author.id, UserId::new(BOT_USER_ID));
    assert!(sent.author.bot);
    assert_eq!(sent.embeds.len(), 1);
    assert_eq!(sent.embeds[0].title.as_deref(), Some("F-1: SQL injection"));
    assert_eq!(sent.components.len(), 1);
    assert_eq!(sent.components[0].components.len(), 3);

    let call = &fake.calls_to("create_message")[0];
    assert_eq!(call.method, "POST");
    assert_eq!(call.path, format!("/api/v10/channels/{CHANNEL}/messages"));
    assert_eq!(call.channel_id(), Some(CHANNEL));
    assert_eq!(
        call.authorization.as_deref(),
        Some(format!("Bot {}", fake.token()).as_str())
    );
    assert!(
        call.user_agent
            .as_deref()
            .is_some_and(|u| u.starts_with("DiscordBot"))
    );
    assert_eq!(call.body["allowed_mentions"]["parse"], json!([]));

    // Edit keeps history.
    let edited = channel
        .edit_message(
            &http,
            sent.id,
            EditMessage::new()
                .content("Finding **F-1** claimed by <@500000000000000001>")
                .components(vec![])
                .allowed_mentions(no_mentions()),
        )
        .await
        .expect("edit");
    assert!(edited.edited_timestamp.is_some());
    let stored = fake.message(CHANNEL, sent.id.get()).unwrap();
    assert_eq!(stored.edit_count(), 1);
    assert!(stored.content.contains("claimed"));
    assert_eq!(stored.edits[0]["content"], "Finding **F-1** needs an owner");
    assert_eq!(stored.components, json!([]));

    // A second message; newest first on GET.
    let second = channel
        .send_message(
            &http,
            CreateMessage::new()
                .content("second")
                .allowed_mentions(no_mentions()),
        )
        .await
        .unwrap();
    assert!(second.id > sent.id, "snowflakes increase");
    let listed = channel
        .messages(&http, serenity::builder::GetMessages::new().limit(10))
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![second.id, sent.id]
    );
    let fetched = channel.message(&http, sent.id).await.unwrap();
    assert_eq!(fetched.content, stored.content);

    // Thread from the message; thread id == message id; post into it.
    let thread = channel
        .create_thread_from_message(
            &http,
            sent.id,
            CreateThread::new("F-1 discussion")
                .auto_archive_duration(serenity::all::AutoArchiveDuration::OneDay),
        )
        .await
        .expect("thread");
    assert_eq!(thread.id.get(), sent.id.get());
    assert_eq!(thread.parent_id, Some(channel));
    assert_eq!(thread.name, "F-1 discussion");
    let t = fake.thread_of(sent.id.get()).expect("stored thread");
    assert_eq!(t.parent_id, CHANNEL);
    assert_eq!(t.auto_archive_duration, 1440);
    thread
        .id
        .send_message(
            &http,
            CreateMessage::new()
                .content("in the thread")
                .allowed_mentions(no_mentions()),
        )
        .await
        .expect("post in thread");
    assert_eq!(fake.messages(thread.id.get()).len(), 1);
    assert_eq!(fake.messages(CHANNEL).len(), 2);
    // A second thread on the same message: 160004, not a violation.
    let err = channel
        .create_thread_from_message(&http, sent.id, CreateThread::new("again"))
        .await
        .unwrap_err();
    assert_eq!(discord_error(&err), (400, 160004));
    let got = http.get_channel(thread.id).await.unwrap();
    assert!(got.guild().is_some_and(|g| g.thread_metadata.is_some()));

    // Interaction: a button click built by the fake, answered ephemerally, then a follow-up
    // and an edit of @original.
    let click = fake.button_click(CHANNEL, sent.id.get(), ALICE, "claim:F-1");
    let id = InteractionId::new(click["id"].as_str().unwrap().parse().unwrap());
    let token = click["token"].as_str().unwrap().to_string();
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content("You claimed F-1")
            .ephemeral(true)
            .allowed_mentions(no_mentions()),
    )
    .execute(&http, (id, &token))
    .await
    .expect("callback");
    let cbs = fake.callbacks();
    assert_eq!(cbs.len(), 1);
    assert_eq!(cbs[0].kind, 4);
    assert!(cbs[0].ephemeral && cbs[0].accepted);
    assert!(cbs[0].latency.unwrap() < Duration::from_secs(3));
    let followup = CreateInteractionResponseFollowup::new()
        .content("Owner set")
        .allowed_mentions(no_mentions())
        .execute(&http, (None, &token))
        .await
        .expect("follow-up");
    assert_eq!(followup.channel_id, channel);
    EditInteractionResponse::new()
        .content("You claimed F-1 (edited)")
        .allowed_mentions(no_mentions())
        .execute(&http, &token)
        .await
        .expect("edit original");
    let fups = fake.followups();
    assert_eq!(fups.len(), 2);
    assert!(fups[0].original_response && fups[0].ephemeral());
    assert_eq!(fups[0].content, "You claimed F-1 (edited)");
    assert_eq!(fups[1].content, "Owner set");
    assert!(
        fake.messages(CHANNEL)
            .iter()
            .any(|m| m.content == "Owner set")
    );
    // Answering twice is Discord's 40060 and a violation.
    let err = CreateInteractionResponse::Acknowledge
        .execute(&http, (id, &token))
        .await
        .unwrap_err();
    assert_eq!(discord_error(&err), (400, 40060));
    let v = fake.violations();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].rule, "interaction_already_acknowledged");
    fake.clear_violations();

    // Modal answer to a slash command (action-row form) is accepted.
    let cmd = fake.slash_command(
        CHANNEL,
        ALICE,
        "remedy",
        Some("assign"),
        &[("finding", json!("F-1"))],
    );
    let cid = InteractionId::new(cmd["id"].as_str().unwrap().parse().unwrap());
    CreateInteractionResponse::Modal(CreateModal::new("assign:F-1", "Assign F-1").components(
        vec![CreateActionRow::InputText(
            CreateInputText::new(InputTextStyle::Short, "Owner", "owner").value("alice"),
        )],
    ))
    .execute(&http, (cid, cmd["token"].as_str().unwrap()))
    .await
    .expect("modal");
    assert_eq!(fake.callbacks().last().unwrap().kind, 9);

    // Bulk overwrite of guild commands twice: the set is replaced.
    let guild = GuildId::new(GUILD);
    let first = guild
        .set_commands(
            &http,
            vec![
                CreateCommand::new("remedy")
                    .description("Work on findings")
                    .add_option(CreateCommandOption::new(
                        CommandOptionType::SubCommand,
                        "assign",
                        "Assign a finding",
                    )),
                CreateCommand::new("status").description("Show status"),
            ],
        )
        .await
        .expect("first overwrite");
    assert_eq!(first.len(), 2);
    assert!(
        first
            .iter()
            .all(|c| c.application_id.get() == APPLICATION_ID)
    );
    let second_set = guild
        .set_commands(
            &http,
            vec![CreateCommand::new("remedy").description("Work on findings (v2)")],
        )
        .await
        .expect("second overwrite");
    assert_eq!(second_set.len(), 1);
    assert_eq!(second_set[0].id, first[0].id, "same name keeps its id");
    let stored = fake.commands(Some(GUILD));
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["description"], "Work on findings (v2)");
    assert!(fake.commands(None).is_empty());
    assert_eq!(guild.get_commands(&http).await.unwrap().len(), 1);
    assert_eq!(fake.calls_to("bulk_overwrite_guild_commands").len(), 2);

    fake.assert_no_violations();
}

#[tokio::test]
async fn identity_dm_gateway_discovery_and_guild_data() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();

    let me = http.get_current_user().await.expect("users/@me");
    assert_eq!(me.id.get(), BOT_USER_ID);
    assert!(me.bot);
    let app = http.get_current_application_info().await.expect("app");
    assert_eq!(app.id.get(), APPLICATION_ID);
    assert!(app.owner.is_some());
    let gw = http.get_gateway().await.unwrap();
    assert_eq!(gw.url, fake.gateway_url());
    let gwb = http.get_bot_gateway().await.unwrap();
    assert_eq!(gwb.shards, 1);

    let dm = UserId::new(ALICE)
        .create_dm_channel(&http)
        .await
        .expect("dm");
    assert_eq!(dm.recipient.id.get(), ALICE);
    assert_eq!(fake.dm_channel_of(ALICE), Some(dm.id.get()));
    dm.id
        .send_message(
            &http,
            CreateMessage::new()
                .content("hi")
                .allowed_mentions(no_mentions()),
        )
        .await
        .unwrap();
    assert_eq!(fake.messages(dm.id.get()).len(), 1);

    // Guild data for visibility checks.
    const ROLE: u64 = 600_000_000_000_000_002;
    const SECRET: u64 = 700_000_000_000_000_009;
    fake.set_guild(GUILD, 53_908_232_506_183_680);
    fake.add_role(GUILD, ROLE, 1 << 10);
    fake.add_channel(GUILD, CHANNEL, "security", &[]);
    fake.add_channel(
        GUILD,
        SECRET,
        "secret",
        &[
            PermOverwrite::role(GUILD, 0, 1 << 10),
            PermOverwrite::member(ALICE, 1 << 10, 0),
        ],
    );
    fake.set_member(GUILD, ALICE, "alice", &[ROLE]);
    let guild = GuildId::new(GUILD);
    let pg = http.get_guild(guild).await.expect("guild");
    assert_eq!(pg.owner_id.get(), 53_908_232_506_183_680);
    assert_eq!(pg.roles.len(), 2);
    let roles = http.get_guild_roles(guild).await.expect("roles");
    assert!(
        roles
            .iter()
            .any(|r| r.id.get() == ROLE && r.permissions.bits() == 1 << 10)
    );
    let channels = http.get_channels(guild).await.expect("channels");
    assert_eq!(channels.len(), 2);
    let secret = channels.iter().find(|c| c.id.get() == SECRET).unwrap();
    assert_eq!(secret.permission_overwrites.len(), 2);
    let member = http
        .get_member(guild, UserId::new(ALICE))
        .await
        .expect("member");
    assert_eq!(member.roles.len(), 1);
    assert_eq!(member.user.name, "alice");
    let err = http.get_member(guild, UserId::new(42)).await.unwrap_err();
    assert_eq!(discord_error(&err), (404, 10007));

    // Wrong token → 401 and a violation.
    let bad = serenity::http::HttpBuilder::new("not-the-token")
        .proxy(fake.url())
        .ratelimiter_disabled(true)
        .build();
    let err = bad.get_current_user().await.unwrap_err();
    assert_eq!(discord_error(&err).0, 401);
    assert_eq!(fake.violations()[0].rule, "unauthorized");
    fake.clear_violations();

    // Unknown route → 404 with Discord's error JSON and a violation.
    let resp = reqwest::Client::new()
        .get(format!("{}/channels/1/pins/nope", fake.api_url()))
        .header("authorization", format!("Bot {}", fake.token()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"message": "404: Not Found", "code": 0}));
    assert_eq!(fake.violations()[0].rule, "unknown_route");
}

#[derive(Debug)]
enum Got {
    Ready(Box<serenity::model::gateway::Ready>),
    Guild(u64),
    Message(Box<serenity::model::channel::Message>),
    Interaction(Box<Interaction>),
    Resumed,
}

struct Forward(mpsc::UnboundedSender<Got>);

#[serenity::async_trait]
impl serenity::client::EventHandler for Forward {
    async fn ready(&self, _ctx: serenity::client::Context, ready: serenity::model::gateway::Ready) {
        let _ = self.0.send(Got::Ready(Box::new(ready)));
    }
    async fn guild_create(
        &self,
        _ctx: serenity::client::Context,
        guild: serenity::model::guild::Guild,
        _is_new: Option<bool>,
    ) {
        let _ = self.0.send(Got::Guild(guild.id.get()));
    }
    async fn message(
        &self,
        _ctx: serenity::client::Context,
        msg: serenity::model::channel::Message,
    ) {
        let _ = self.0.send(Got::Message(Box::new(msg)));
    }
    async fn interaction_create(&self, _ctx: serenity::client::Context, i: Interaction) {
        let _ = self.0.send(Got::Interaction(Box::new(i)));
    }
    async fn resume(
        &self,
        _ctx: serenity::client::Context,
        _: serenity::model::event::ResumedEvent,
    ) {
        let _ = self.0.send(Got::Resumed);
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Got>) -> Got {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("gateway event in time")
        .expect("handler alive")
}

#[tokio::test]
async fn gateway_with_serenity_client() {
    let fake = FakeDiscord::start().await;
    fake.set_guild(GUILD, 53_908_232_506_183_680);
    fake.add_channel(GUILD, CHANNEL, "security", &[]);
    fake.set_member(GUILD, ALICE, "alice", &[]);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let intents = GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
        | GatewayIntents::DIRECT_MESSAGES;
    let mut client =
        serenity::client::ClientBuilder::new_with_http(fake.http_builder().build(), intents)
            .event_handler(Forward(tx))
            .await
            .expect("client");
    let shards = client.shard_manager.clone();
    let run = tokio::spawn(async move { client.start().await });

    let identify = fake.wait_for_identify(WAIT).await.expect("identify");
    assert_eq!(identify.token, format!("Bot {}", fake.token()));
    assert_eq!(identify.intents, intents.bits());
    assert_eq!(fake.gateway_request_uris(), vec!["/ws?v=10".to_string()]);
    assert_eq!(fake.calls_to("get_gateway").len(), 1);

    let Got::Ready(ready) = next(&mut rx).await else {
        panic!("expected ready first")
    };
    assert_eq!(ready.user.id.get(), BOT_USER_ID);
    assert_eq!(ready.application.id.get(), APPLICATION_ID);
    assert_eq!(ready.guilds.len(), 1);
    let Got::Guild(g) = next(&mut rx).await else {
        panic!("expected guild_create")
    };
    assert_eq!(g, GUILD);
    assert_eq!(fake.connections(), 1);

    // MESSAGE_CREATE.
    let payload = fake.message_create(
        CHANNEL,
        ALICE,
        "alice",
        false,
        "@remedybot status <@1234567890123456789>",
        json!([]),
    );
    let seq = fake.dispatch("MESSAGE_CREATE", payload.clone());
    assert_eq!(seq, 3, "READY=1, GUILD_CREATE=2");
    let Got::Message(m) = next(&mut rx).await else {
        panic!("expected message")
    };
    assert_eq!(m.channel_id.get(), CHANNEL);
    assert_eq!(m.author.id.get(), ALICE);
    assert_eq!(m.guild_id, Some(GuildId::new(GUILD)));
    assert_eq!(m.mentions.len(), 1);
    assert_eq!(
        m.id.get(),
        payload["id"].as_str().unwrap().parse::<u64>().unwrap()
    );
    assert_eq!(fake.messages(CHANNEL).len(), 1, "the fake stores it too");

    // INTERACTION_CREATE: button click (corpus shape), then answer it over REST.
    let click = fake.button_click(CHANNEL, m.id.get(), ALICE, "claim:F-1");
    fake.dispatch("INTERACTION_CREATE", click);
    let Got::Interaction(i) = next(&mut rx).await else {
        panic!("expected interaction")
    };
    let Interaction::Component(ci) = *i else {
        panic!("expected a component interaction, got {i:?}")
    };
    assert_eq!(ci.data.custom_id, "claim:F-1");
    assert_eq!(ci.user.id.get(), ALICE);
    assert_eq!(ci.message.id, m.id);
    let http = fake.http();
    ci.create_response(&http, CreateInteractionResponse::Acknowledge)
        .await
        .expect("deferred update");
    assert_eq!(fake.callbacks()[0].kind, 6);

    // Slash command and modal submit deserialize too.
    fake.dispatch(
        "INTERACTION_CREATE",
        fake.slash_command(
            CHANNEL,
            ALICE,
            "remedy",
            Some("assign"),
            &[("finding", json!("F-1")), ("days", json!(3))],
        ),
    );
    let Got::Interaction(i) = next(&mut rx).await else {
        panic!("expected interaction")
    };
    let Interaction::Command(cmd) = *i else {
        panic!("expected a command, got {i:?}")
    };
    assert_eq!(cmd.data.name, "remedy");
    assert_eq!(cmd.data.options[0].name, "assign");
    fake.dispatch(
        "INTERACTION_CREATE",
        fake.modal_submit(CHANNEL, ALICE, "assign:F-1", &[("owner", "alice")]),
    );
    let Got::Interaction(i) = next(&mut rx).await else {
        panic!("expected interaction")
    };
    let Interaction::Modal(modal) = *i else {
        panic!("expected a modal submit, got {i:?}")
    };
    assert_eq!(modal.data.custom_id, "assign:F-1");
    assert_eq!(modal.data.components.len(), 1);

    fake.dispatch(
        "INTERACTION_CREATE",
        fake.string_select(
            CHANNEL,
            m.id.get(),
            ALICE,
            "severity",
            &["high", "critical"],
        ),
    );
    let Got::Interaction(i) = next(&mut rx).await else {
        panic!("expected interaction")
    };
    let Interaction::Component(sel) = *i else {
        panic!("expected a component interaction, got {i:?}")
    };
    let serenity::all::ComponentInteractionDataKind::StringSelect { values } = &sel.data.kind
    else {
        panic!("expected a string select, got {:?}", sel.data.kind)
    };
    assert_eq!(values, &vec!["high".to_string(), "critical".to_string()]);

    // op 7 Reconnect: serenity resumes on a new connection and gets RESUMED.
    fake.gateway_reconnect();
    assert!(
        fake.wait_until(|f| !f.resumes().is_empty(), WAIT).await,
        "client resumed"
    );
    let Got::Resumed = next(&mut rx).await else {
        panic!("expected resumed")
    };
    assert_eq!(fake.connections_total(), 2);
    assert_eq!(fake.identifies().len(), 1, "resume, not a new identify");
    // Events after the resume still arrive.
    fake.dispatch(
        "MESSAGE_CREATE",
        fake.message_create(CHANNEL, ALICE, "alice", false, "after resume", json!([])),
    );
    let Got::Message(m) = next(&mut rx).await else {
        panic!("expected message")
    };
    assert_eq!(m.content, "after resume");

    shards.shutdown_all().await;
    let _ = tokio::time::timeout(WAIT, run).await;
    fake.assert_no_violations();
    // Nothing but the fake was contacted: every call is recorded here.
    assert!(fake.calls().iter().all(|c| c.path.starts_with("/api/v10/")));
}

#[tokio::test]
async fn gateway_wrong_token_is_closed_4004() {
    let fake = FakeDiscord::start().await;
    let http = serenity::http::HttpBuilder::new("wrong-token")
        .proxy(fake.url())
        .ratelimiter_disabled(true)
        .build();
    // GET /gateway needs no auth, so the client finds the fake gateway with any token.
    let mut client = serenity::client::ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
        .await
        .expect("client");
    let run = tokio::spawn(async move { client.start().await });
    let identify = fake.wait_for_identify(WAIT).await.expect("identify");
    assert_eq!(identify.token, "Bot wrong-token");
    let result = tokio::time::timeout(WAIT, run).await.expect("client stops");
    assert!(result.unwrap().is_err(), "serenity gives up on 4004");
    assert_eq!(fake.violations()[0].rule, "gateway_auth");
}

#[tokio::test]
async fn limits_are_violations_and_400s() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let channel = ChannelId::new(CHANNEL);
    let ok_mentions = json!({"parse": []});
    let row = |id: &str| json!({"type": 1, "components": [{"type": 2, "style": 1, "label": "x", "custom_id": id}]});

    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"content": "x".repeat(2001), "allowed_mentions": ok_mentions}),
            "content_too_long",
        ),
        (
            json!({"content": "rows", "allowed_mentions": ok_mentions,
                   "components": (0..6).map(|i| row(&format!("b{i}"))).collect::<Vec<_>>()}),
            "too_many_action_rows",
        ),
        (
            json!({"content": "id", "allowed_mentions": ok_mentions,
                   "components": [row(&"c".repeat(101))]}),
            "custom_id_too_long",
        ),
        (
            json!({"content": "no mentions field"}),
            "missing_allowed_mentions",
        ),
        (json!({"content": "hello @everyone"}), "broadcast_mention"),
        (
            json!({"content": "ping", "allowed_mentions": {"parse": ["everyone"]}}),
            "allowed_mentions_too_broad",
        ),
        (
            json!({"content": "dup", "allowed_mentions": ok_mentions,
                   "components": [row("same"), row("same")]}),
            "duplicate_custom_id",
        ),
        (
            json!({"content": "six", "allowed_mentions": ok_mentions,
                   "components": [{"type": 1, "components": (0..6).map(|i| json!({"type": 2, "style": 1, "label": "x", "custom_id": format!("b{i}")})).collect::<Vec<_>>()}]}),
            "too_many_buttons",
        ),
        (
            json!({"content": "link", "allowed_mentions": ok_mentions,
                   "components": [{"type": 1, "components": [{"type": 2, "style": 5, "label": "x", "custom_id": "nope"}]}]}),
            "link_button_invalid",
        ),
        (
            json!({"allowed_mentions": ok_mentions, "embeds": [{"title": "t".repeat(257)}]}),
            "embed_title_too_long",
        ),
        (
            json!({"allowed_mentions": ok_mentions,
                   "embeds": [{"description": "d".repeat(4000)}, {"description": "d".repeat(2001)}]}),
            "embed_total_too_long",
        ),
        (json!({"allowed_mentions": ok_mentions}), "empty_message"),
    ];
    for (body, rule) in cases {
        fake.clear_violations();
        let err = http
            .send_message(channel, Vec::new(), &body)
            .await
            .expect_err(rule);
        let (status, code) = discord_error(&err);
        assert_eq!(status, 400, "{rule}");
        let expected_code = if rule == "empty_message" {
            50006
        } else {
            50035
        };
        assert_eq!(code, expected_code, "{rule}");
        let rules: Vec<String> = fake.violations().into_iter().map(|v| v.rule).collect();
        assert!(rules.contains(&rule.to_string()), "{rule}: got {rules:?}");
    }
    // The Invalid Form Body error names the field the way Discord does.
    let resp = reqwest::Client::new()
        .post(format!("{}/channels/{CHANNEL}/messages", fake.api_url()))
        .header("authorization", format!("Bot {}", fake.token()))
        .json(&json!({"content": "x".repeat(2001), "allowed_mentions": {"parse": []}}))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], 50035);
    assert_eq!(body["message"], "Invalid Form Body");
    assert_eq!(
        body["errors"]["content"]["_errors"][0]["code"],
        "CONTENT_TOO_LONG"
    );
    assert!(fake.messages(CHANNEL).is_empty(), "nothing was stored");

    // Thread names.
    let mid = fake.add_user_message(CHANNEL, ALICE, "alice", "hello");
    fake.clear_violations();
    let err = http
        .create_thread_from_message(
            channel,
            MessageId::new(mid),
            &json!({"name": "n".repeat(101)}),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(discord_error(&err), (400, 50035));
    assert!(
        fake.violations()
            .iter()
            .any(|v| v.rule == "thread_name_invalid")
    );
    assert!(
        fake.violations().iter().any(|v| v.rule == "openapi_schema"),
        "the spec's maxLength 100 on the thread name is checked too"
    );

    // OpenAPI-only rules: a button style outside the spec's enum, too many sticker ids.
    for body in [
        json!({"content": "s", "allowed_mentions": {"parse": []}, "components": [{"type": 1,
               "components": [{"type": 2, "style": 9, "label": "x", "custom_id": "a"}]}]}),
        json!({"content": "s", "allowed_mentions": {"parse": []}, "sticker_ids": ["1", "2", "3", "4"]}),
    ] {
        fake.clear_violations();
        let err = http
            .send_message(channel, Vec::new(), &body)
            .await
            .unwrap_err();
        assert_eq!(discord_error(&err), (400, 50035));
        let v = fake.violations();
        assert!(v.iter().any(|v| v.rule == "openapi_schema"), "{v:?}");
    }

    // Commands: uppercase names and duplicates.
    fake.clear_violations();
    let err = http
        .create_guild_commands(
            GuildId::new(GUILD),
            &json!([
                {"name": "Remedy", "description": "x", "type": 1},
                {"name": "status", "description": "x", "type": 1},
                {"name": "status", "description": "y", "type": 1},
            ]),
        )
        .await
        .unwrap_err();
    assert_eq!(discord_error(&err), (400, 50035));
    let rules: Vec<String> = fake.violations().into_iter().map(|v| v.rule).collect();
    assert!(
        rules.contains(&"command_name_invalid".to_string()),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"duplicate_command_name".to_string()),
        "{rules:?}"
    );
    assert!(fake.commands(Some(GUILD)).is_empty());

    // A string select alone in its row is fine; with a button beside it, it is not.
    fake.clear_violations();
    let select = json!({"type": 3, "custom_id": "pick", "options": [{"label": "a", "value": "a"}]});
    http.send_message(
        channel,
        Vec::new(),
        &json!({"content": "pick", "allowed_mentions": {"parse": []},
        "components": [{"type": 1, "components": [select]}]}),
    )
    .await
    .expect("select alone");
    let err = http
        .send_message(channel, Vec::new(), &json!({"content": "pick", "allowed_mentions": {"parse": []},
            "components": [{"type": 1, "components": [select, {"type": 2, "style": 1, "label": "b", "custom_id": "b"}]}]}))
        .await
        .unwrap_err();
    assert_eq!(discord_error(&err), (400, 50035));
    assert!(
        fake.violations()
            .iter()
            .any(|v| v.rule == "select_not_alone")
    );

    // Modals: a title over 45 chars and two inputs in one row.
    fake.clear_violations();
    let cmd = fake.slash_command(CHANNEL, ALICE, "remedy", None, &[]);
    let body = json!({"type": 9, "data": {"custom_id": "m", "title": "t".repeat(46), "components": [
        {"type": 1, "components": [
            {"type": 4, "custom_id": "a", "style": 1, "label": "A"},
            {"type": 4, "custom_id": "b", "style": 1, "label": "B"}]}]}});
    let err = http
        .create_interaction_response(
            InteractionId::new(cmd["id"].as_str().unwrap().parse().unwrap()),
            cmd["token"].as_str().unwrap(),
            &body,
            Vec::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(discord_error(&err), (400, 50035));
    let rules: Vec<String> = fake.violations().into_iter().map(|v| v.rule).collect();
    assert!(
        rules.contains(&"modal_title_invalid".to_string()),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"modal_row_invalid".to_string()),
        "{rules:?}"
    );
    // The label-component form from the corpus is accepted (same interaction: the rejected
    // callback did not acknowledge it).
    fake.clear_violations();
    let corpus: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/discord/rest_requests/docs_interaction_callback_modal_label_components.json"
        ))
        .unwrap(),
    )
    .unwrap();
    http.create_interaction_response(
        InteractionId::new(cmd["id"].as_str().unwrap().parse().unwrap()),
        cmd["token"].as_str().unwrap(),
        &corpus,
        Vec::new(),
    )
    .await
    .expect("label modal accepted");
    fake.assert_no_violations();
}

#[tokio::test]
async fn faults_rate_limits_and_slow_answers() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let channel = ChannelId::new(CHANNEL);
    let msg = || {
        CreateMessage::new()
            .content("hello")
            .allowed_mentions(no_mentions())
    };

    // 429 with retry_after and headers, then success.
    fake.fail_next("create_message", 1, Fault::rate_limited_secs(0.5));
    let url = format!("{}/channels/{CHANNEL}/messages", fake.api_url());
    let client = reqwest::Client::new();
    let resp = client
        .post(&url)
        .header("authorization", format!("Bot {}", fake.token()))
        .json(&json!({"content": "hi", "allowed_mentions": {"parse": []}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let h = resp.headers().clone();
    assert_eq!(h["retry-after"], "1");
    assert_eq!(h["x-ratelimit-remaining"], "0");
    assert_eq!(h["x-ratelimit-scope"], "user");
    for name in [
        "x-ratelimit-limit",
        "x-ratelimit-reset",
        "x-ratelimit-reset-after",
        "x-ratelimit-bucket",
    ] {
        assert!(h.contains_key(name), "{name}");
    }
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": "You are being rate limited.", "retry_after": 0.5, "global": false})
    );
    channel
        .send_message(&http, msg())
        .await
        .expect("then success");
    let calls = fake.calls_to("create_message");
    assert_eq!(calls[0].status, 429);
    assert!(calls[0].fault.is_some());
    assert_eq!(calls[1].status, 200);

    // 500, seen through serenity.
    fake.fail_next("create_message", 1, Fault::ServerError(500));
    let err = channel.send_message(&http, msg()).await.unwrap_err();
    assert_eq!(discord_error(&err).0, 500);

    // Discord errors by code.
    fake.fail_next_in_channel("create_message", CHANNEL, 1, Fault::missing_access());
    let err = channel.send_message(&http, msg()).await.unwrap_err();
    assert_eq!(discord_error(&err), (403, 50001));

    // Slow.
    fake.fail_next("*", 1, Fault::Slow(Duration::from_millis(300)));
    let t = Instant::now();
    channel
        .send_message(&http, msg())
        .await
        .expect("slow but fine");
    assert!(t.elapsed() >= Duration::from_millis(300));

    // fail_for: every call in the window.
    fake.fail_for(
        "get_message",
        Duration::from_millis(200),
        Fault::unknown_message(),
    );
    let err = channel.message(&http, MessageId::new(1)).await.unwrap_err();
    assert_eq!(discord_error(&err), (404, 10008));

    // Per-channel limit: 2 per 300 ms; the third gets 429 with a retry_after inside the window.
    fake.limit_per_channel_window(2, Duration::from_millis(300));
    let other = ChannelId::new(CHANNEL + 1);
    other.send_message(&http, msg()).await.unwrap();
    other.send_message(&http, msg()).await.unwrap();
    let err = other.send_message(&http, msg()).await.unwrap_err();
    assert_eq!(discord_error(&err).0, 429);
    let limited = fake.calls_to("create_message").pop().unwrap();
    let retry = limited.response["retry_after"].as_f64().unwrap();
    assert!(retry > 0.0 && retry <= 0.3, "retry_after {retry}");
    tokio::time::sleep(Duration::from_secs_f64(retry)).await;
    other
        .send_message(&http, msg())
        .await
        .expect("after retry_after");
    assert_eq!(fake.accepted_times(CHANNEL + 1).len(), 3);
    assert_eq!(
        fake.max_calls_in_window(CHANNEL + 1, Duration::from_millis(300)),
        2
    );
    fake.assert_no_violations();

    // Every response carries the rate-limit headers.
    let resp = client
        .get(format!("{}/users/@me", fake.api_url()))
        .header("authorization", format!("Bot {}", fake.token()))
        .send()
        .await
        .unwrap();
    assert!(resp.headers().contains_key("x-ratelimit-bucket"));
    let _ = Arc::clone(&http);
    let _ = EPHEMERAL;
}

async fn start_client(
    fake: &FakeDiscord,
) -> (
    mpsc::UnboundedReceiver<Got>,
    Arc<serenity::gateway::ShardManager>,
    tokio::task::JoinHandle<serenity::Result<()>>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut client = serenity::client::ClientBuilder::new_with_http(
        fake.http_builder().build(),
        GatewayIntents::GUILD_MESSAGES | GatewayIntents::MESSAGE_CONTENT,
    )
    .event_handler(Forward(tx))
    .await
    .expect("client");
    let shards = client.shard_manager.clone();
    let run = tokio::spawn(async move { client.start().await });
    (rx, shards, run)
}

#[tokio::test]
async fn gateway_heartbeats_close_and_drop_lead_to_resume() {
    let fake = FakeDiscord::start().await;
    fake.set_heartbeat_interval(150);
    let (mut rx, shards, run) = start_client(&fake).await;
    let Got::Ready(_) = next(&mut rx).await else {
        panic!("expected ready")
    };
    assert_eq!(
        fake.gateway_frames_sent()[0]["d"]["heartbeat_interval"],
        150
    );
    assert!(
        fake.wait_until(|f| f.heartbeats() >= 2, WAIT).await,
        "serenity heartbeats at the announced interval"
    );
    assert!(
        fake.gateway_frames_sent().iter().any(|f| f["op"] == 11),
        "heartbeats are acked"
    );

    // Close 4000 (unknown error): resumable.
    fake.gateway_close(4000, "Unknown error");
    assert!(fake.wait_until(|f| f.resumes().len() == 1, WAIT).await);
    let Got::Resumed = next(&mut rx).await else {
        panic!("expected resumed")
    };
    // A dropped TCP connection: resumable too.
    fake.gateway_drop();
    assert!(fake.wait_until(|f| f.resumes().len() == 2, WAIT).await);
    let Got::Resumed = next(&mut rx).await else {
        panic!("expected resumed")
    };
    assert!(fake.wait_for_session(WAIT).await);
    fake.dispatch(
        "MESSAGE_CREATE",
        fake.message_create(CHANNEL, ALICE, "alice", false, "still here", json!([])),
    );
    let Got::Message(m) = next(&mut rx).await else {
        panic!("expected message")
    };
    assert_eq!(m.content, "still here");
    assert_eq!(fake.identifies().len(), 1);
    assert_eq!(fake.connections_total(), 3);
    shards.shutdown_all().await;
    let _ = tokio::time::timeout(WAIT, run).await;
    fake.assert_no_violations();
}

#[tokio::test]
async fn interaction_flows_deferred_update_timeout_and_webhook_auth() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let channel = ChannelId::new(CHANNEL);
    let sent = channel
        .send_message(
            &http,
            CreateMessage::new()
                .content("F-2")
                .components(vec![CreateActionRow::Buttons(vec![
                    CreateButton::new("claim:F-2").label("Claim"),
                ])])
                .allowed_mentions(no_mentions()),
        )
        .await
        .unwrap();

    // Type 7 (update message) on a button click edits the clicked message.
    let click = fake.button_click(CHANNEL, sent.id.get(), ALICE, "claim:F-2");
    let id = InteractionId::new(click["id"].as_str().unwrap().parse().unwrap());
    CreateInteractionResponse::UpdateMessage(
        CreateInteractionResponseMessage::new()
            .content("F-2 claimed")
            .components(vec![])
            .allowed_mentions(no_mentions()),
    )
    .execute(&http, (id, click["token"].as_str().unwrap()))
    .await
    .expect("update");
    let m = fake.message(CHANNEL, sent.id.get()).unwrap();
    assert_eq!(m.content, "F-2 claimed");
    assert_eq!(m.edit_count(), 1);
    assert_eq!(m.components, json!([]));

    // Deferred (type 5), then @original is created by the first edit; follow-up edit/delete.
    let cmd = fake.slash_command(CHANNEL, ALICE, "remedy", None, &[]);
    let cid = InteractionId::new(cmd["id"].as_str().unwrap().parse().unwrap());
    let token = cmd["token"].as_str().unwrap().to_string();
    CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true))
        .execute(&http, (cid, &token))
        .await
        .expect("defer");
    assert!(fake.callbacks()[1].ephemeral);
    assert_eq!(fake.callbacks()[1].kind, 5);
    EditInteractionResponse::new()
        .content("done")
        .allowed_mentions(no_mentions())
        .execute(&http, &token)
        .await
        .expect("edit original after defer");
    let fup = CreateInteractionResponseFollowup::new()
        .content("details")
        .ephemeral(true)
        .allowed_mentions(no_mentions())
        .execute(&http, (None, &token))
        .await
        .unwrap();
    http.edit_followup_message(
        &token,
        fup.id,
        &json!({"content": "details v2", "allowed_mentions": {"parse": []}}),
        Vec::new(),
    )
    .await
    .expect("edit follow-up");
    let f = fake.followups();
    assert_eq!(f.len(), 2);
    assert!(f[0].original_response && f[0].content == "done");
    assert!(f[1].ephemeral() && f[1].content == "details v2");
    assert!(
        fake.messages(CHANNEL).iter().all(|m| !m.ephemeral()),
        "ephemeral responses are not channel messages"
    );
    http.delete_followup_message(&token, fup.id)
        .await
        .expect("delete");
    assert!(fake.message(CHANNEL, fup.id.get()).unwrap().deleted);

    // Webhook routes are authorised by the token in the path: no Authorization header needed.
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/webhooks/{APPLICATION_ID}/{token}",
            fake.api_url()
        ))
        .json(&json!({"content": "no header", "allowed_mentions": {"parse": []}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["webhook_id"], APPLICATION_ID.to_string());
    assert!(
        fake.calls_to("create_followup")
            .last()
            .unwrap()
            .authorization
            .is_none()
    );
    fake.assert_no_violations();

    // ?with_response=true returns the callback response object.
    let cmd = fake.slash_command(CHANNEL, ALICE, "status", None, &[]);
    let (iid, itoken) = FakeDiscord::interaction_ids(&cmd);
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/interactions/{iid}/{itoken}/callback?with_response=true",
            fake.api_url()
        ))
        .json(&json!({"type": 4, "data": {"content": "ok", "allowed_mentions": {"parse": []}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["resource"]["type"], 4);
    assert_eq!(body["resource"]["message"]["content"], "ok");
    assert_eq!(body["interaction"]["id"], iid.to_string());
    fake.assert_no_violations();

    // Too late: 404 10062 and a violation.
    fake.set_interaction_deadline(Duration::from_millis(50));
    let late = fake.button_click(CHANNEL, sent.id.get(), ALICE, "claim:F-2");
    tokio::time::sleep(Duration::from_millis(80)).await;
    let err = CreateInteractionResponse::Acknowledge
        .execute(
            &http,
            (
                InteractionId::new(late["id"].as_str().unwrap().parse().unwrap()),
                late["token"].as_str().unwrap(),
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(discord_error(&err), (404, 10062));
    assert_eq!(fake.violations()[0].rule, "interaction_timeout");
    assert!(!fake.callbacks().last().unwrap().accepted);
}

#[tokio::test]
async fn raw_serenity_requests_and_pagination() {
    let fake = FakeDiscord::start().await;
    let http = fake.http();
    let channel = ChannelId::new(CHANNEL);

    // A request built with serenity's Request and sent by our own reqwest client.
    let client = reqwest::Client::new();
    let body =
        serde_json::to_vec(&json!({"content": "raw", "allowed_mentions": {"parse": []}})).unwrap();
    let req = serenity::http::Request::new(
        serenity::http::Route::ChannelMessages {
            channel_id: channel,
        },
        serenity::http::LightMethod::Post,
    )
    .body(Some(body))
    .build(&client, &format!("Bot {}", fake.token()), Some(&fake.url()))
    .expect("build");
    let resp = req.send().await.expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-ratelimit-limit"], "5");
    let msg: serenity::model::channel::Message = resp.json().await.expect("a message object");
    assert_eq!(msg.content, "raw");

    // Pagination: newest first, before/after/around.
    let mut ids = vec![msg.id];
    for i in 0..5 {
        let m = channel
            .send_message(
                &http,
                CreateMessage::new()
                    .content(format!("m{i}"))
                    .allowed_mentions(no_mentions()),
            )
            .await
            .unwrap();
        ids.push(m.id);
    }
    let get = |b: serenity::builder::GetMessages| {
        let http = http.clone();
        async move {
            channel
                .messages(&http, b)
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.id)
                .collect::<Vec<_>>()
        }
    };
    use serenity::builder::GetMessages;
    assert_eq!(get(GetMessages::new().limit(2)).await, vec![ids[5], ids[4]]);
    assert_eq!(
        get(GetMessages::new().before(ids[3]).limit(2)).await,
        vec![ids[2], ids[1]]
    );
    assert_eq!(
        get(GetMessages::new().after(ids[1]).limit(2)).await,
        vec![ids[3], ids[2]]
    );
    assert_eq!(
        get(GetMessages::new().around(ids[3]).limit(3)).await,
        vec![ids[4], ids[3], ids[2]]
    );
    let last = fake.calls_to("list_messages").pop().unwrap();
    assert_eq!(last.query.get("around"), Some(&ids[3].to_string()));
    assert_eq!(last.query.get("limit").map(String::as_str), Some("3"));
    fake.assert_no_violations();
}
