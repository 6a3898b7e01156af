//! Self-tests for the fake Slack (tests/common/fake_slack.rs), driven by the real
//! slack-morphism client: typed methods, generic http_post/http_get, errors as slack-morphism
//! surfaces them, contract violations, and a Socket Mode round trip with its listener.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::fake_slack::{APP_TOKEN, BOT_TOKEN, BOT_USER_ID, FakeSlack, Fault};
use serde_json::{Value, json};
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

const WAIT: Duration = Duration::from_secs(20);

fn bot_token() -> SlackApiToken {
    SlackApiToken::new(BOT_TOKEN.into())
}

fn section(text: &str) -> SlackBlock {
    SlackSectionBlock::new()
        .with_text(SlackBlockText::MarkDown(SlackBlockMarkDownText::new(
            text.into(),
        )))
        .into()
}

fn post_req(channel: &str, text: &str) -> SlackApiChatPostMessageRequest {
    SlackApiChatPostMessageRequest::new(
        channel.into(),
        SlackMessageContent::new().with_text(text.into()),
    )
}

fn post_blocks(
    channel: &str,
    text: &str,
    blocks: Vec<SlackBlock>,
) -> SlackApiChatPostMessageRequest {
    SlackApiChatPostMessageRequest::new(
        channel.into(),
        SlackMessageContent::new()
            .with_text(text.into())
            .with_blocks(blocks),
    )
}

#[tokio::test]
async fn typed_post_thread_update_and_history() {
    let fake = FakeSlack::start().await;
    let client = fake.slack_client();
    let token = bot_token();
    let session = client.open_session(&token);

    let parent = session
        .chat_post_message(&post_blocks("C1", "parent", vec![section("*finding*")]))
        .await
        .expect("post parent");
    assert_eq!(parent.channel.value(), "C1");
    assert_eq!(parent.message.content.text.as_deref(), Some("parent"));

    let r1 = session
        .chat_post_message(&post_req("C1", "reply 1").with_thread_ts(parent.ts.clone()))
        .await
        .expect("reply 1");
    let r2 = session
        .chat_post_message(&post_req("C1", "reply 2").with_thread_ts(parent.ts.clone()))
        .await
        .expect("reply 2");
    assert!(parent.ts.value() < r1.ts.value() && r1.ts.value() < r2.ts.value());

    // Stored: one top-level message, two replies in order.
    let top = fake.messages("C1");
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].ts, parent.ts.value().as_str());
    assert!(top[0].blocks.is_some());
    let thread = fake.thread("C1", parent.ts.value());
    let texts: Vec<_> = thread.iter().map(|m| m.text.clone().unwrap()).collect();
    assert_eq!(texts, ["reply 1", "reply 2"]);

    // Update the parent.
    let updated = session
        .chat_update(&SlackApiChatUpdateRequest::new(
            "C1".into(),
            SlackMessageContent::new().with_text("parent (resolved)".into()),
            parent.ts.clone(),
        ))
        .await
        .expect("update");
    assert_eq!(updated.ts, parent.ts);
    let m = fake.message("C1", parent.ts.value()).unwrap();
    assert_eq!(m.text.as_deref(), Some("parent (resolved)"));
    assert!(m.blocks.is_some(), "blocks kept when the update omits them");
    assert_eq!(m.update_count, 1);

    // Updating a message that does not exist.
    let err = session
        .chat_update(&SlackApiChatUpdateRequest::new(
            "C1".into(),
            SlackMessageContent::new().with_text("x".into()),
            "1.000001".into(),
        ))
        .await
        .unwrap_err();
    match err {
        SlackClientError::ApiError(e) => assert_eq!(e.code, "message_not_found"),
        other => panic!("expected ApiError, got {other:?}"),
    }

    // History: newest first, thread summary on the parent; replies via conversations.replies.
    let hist = session
        .conversations_history(
            &SlackApiConversationsHistoryRequest::new().with_channel("C1".into()),
        )
        .await
        .expect("history");
    assert_eq!(hist.messages.len(), 1);
    assert_eq!(hist.messages[0].parent.reply_count, Some(2));
    let replies = session
        .conversations_replies(&SlackApiConversationsRepliesRequest::new(
            "C1".into(),
            parent.ts.clone(),
        ))
        .await
        .expect("replies");
    let texts: Vec<_> = replies
        .messages
        .iter()
        .map(|m| m.content.text.clone().unwrap())
        .collect();
    assert_eq!(texts, ["parent (resolved)", "reply 1", "reply 2"]);

    // Permalink of a reply carries the thread.
    let link = session
        .chat_get_permalink(&SlackApiChatGetPermalinkRequest::new(
            "C1".into(),
            r1.ts.clone(),
        ))
        .await
        .expect("permalink");
    assert_eq!(
        link.permalink.as_str(),
        format!(
            "https://fake.slack.test/archives/C1/p{}?thread_ts={}&cid=C1",
            r1.ts.value().replace('.', ""),
            parent.ts.value()
        )
    );

    // Posting to a user id lands in the DM channel.
    let dm = session
        .chat_post_message(&post_req("U1", "psst"))
        .await
        .expect("dm");
    assert_eq!(dm.channel.value(), &FakeSlack::dm_channel("U1"));
    assert_eq!(fake.messages(&FakeSlack::dm_channel("U1")).len(), 1);

    // A response_url served by the fake records what the bot posts to it.
    let url = fake.response_url();
    let r = reqwest::Client::new()
        .post(&url)
        .json(&json!({"text": "done", "replace_original": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(fake.calls_to("response_url")[0].args["text"], "done");

    // Every call recorded with its arguments and status.
    let posts = fake.calls_to("chat.postMessage");
    assert_eq!(posts.len(), 4);
    assert!(posts.iter().all(|c| c.status == 200 && c.ok()));
    assert_eq!(
        posts[1].arg_str("thread_ts").as_deref(),
        Some(parent.ts.value().as_str())
    );
    assert_eq!(fake.calls_to("conversations.history")[0].http_method, "GET");
    fake.assert_no_violations();
}

#[tokio::test]
async fn generic_post_and_metadata_round_trip() {
    let fake = FakeSlack::start().await;
    let client = fake.slack_client();
    let token = bot_token();
    let session = client.open_session(&token);

    let res: Value = session
        .http_session_api
        .http_post(
            "chat.postMessage",
            &json!({
                "channel": "C9",
                "text": "finding F-42",
                "metadata": {"event_type": "remedybot_finding", "event_payload": {"finding_id": "42"}}
            }),
            None,
        )
        .await
        .expect("generic post");
    assert_eq!(res["ok"], json!(true));
    let ts = res["ts"].as_str().unwrap().to_string();
    assert_eq!(
        res["message"]["metadata"]["event_type"],
        "remedybot_finding"
    );

    // Typed history with include_all_metadata: metadata comes back typed.
    let hist = session
        .conversations_history(
            &SlackApiConversationsHistoryRequest::new()
                .with_channel("C9".into())
                .with_include_all_metadata(true),
        )
        .await
        .expect("history");
    let md = hist.messages[0].content.metadata.clone().expect("metadata");
    assert_eq!(md.event_type, "remedybot_finding");
    assert_eq!(
        md.event_payload
            .unwrap()
            .get("finding_id")
            .map(String::as_str),
        Some("42")
    );

    // Without include_all_metadata: no metadata, like Slack.
    let hist = session
        .conversations_history(
            &SlackApiConversationsHistoryRequest::new().with_channel("C9".into()),
        )
        .await
        .expect("history");
    assert!(hist.messages[0].content.metadata.is_none());

    // Generic GET with the query string (conversations.replies has no typed metadata flag).
    let replies: Value = session
        .http_session_api
        .http_get(
            "conversations.replies",
            &vec![
                ("channel", Some("C9")),
                ("ts", Some(ts.as_str())),
                ("include_all_metadata", Some("true")),
            ],
            None,
        )
        .await
        .expect("replies");
    assert_eq!(
        replies["messages"][0]["metadata"]["event_payload"]["finding_id"],
        "42"
    );
    let call = fake.calls_to("conversations.replies").pop().unwrap();
    assert_eq!(call.http_method, "GET");
    assert_eq!(
        call.arg_str("include_all_metadata").as_deref(),
        Some("true")
    );

    // oldest filters (exclusive).
    let res: Value = session
        .http_session_api
        .http_get(
            "conversations.history",
            &vec![("channel", Some("C9")), ("oldest", Some(ts.as_str()))],
            None,
        )
        .await
        .unwrap();
    assert_eq!(res["messages"], json!([]));
    assert_eq!(res["has_more"], json!(false));
    fake.assert_no_violations();
}

#[tokio::test]
async fn form_encoded_and_auth() {
    let fake = FakeSlack::start().await;
    let http = reqwest::Client::new();

    // Form-encoded body with JSON-in-a-string blocks, like other Slack clients send.
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "hi & bye"}}]);
    let body = format!(
        "channel=C2&text=hi+%26+bye&blocks={}",
        urlencode(&blocks.to_string())
    );
    let res: Value = http
        .post(format!("{}/chat.postMessage", fake.api_url()))
        .bearer_auth(BOT_TOKEN)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["ok"], json!(true), "{res}");
    let m = &fake.messages("C2")[0];
    assert_eq!(m.text.as_deref(), Some("hi & bye"));
    assert_eq!(m.blocks.as_ref().unwrap()[0]["text"]["text"], "hi & bye");

    // No token, wrong kind of token, garbage token.
    let no_auth: Value = http
        .post(format!("{}/chat.postMessage", fake.api_url()))
        .json(&json!({"channel": "C2", "text": "x"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(no_auth, json!({"ok": false, "error": "not_authed"}));
    let wrong: Value = http
        .post(format!("{}/apps.connections.open", fake.api_url()))
        .bearer_auth(BOT_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wrong["error"], "not_allowed_token_type");
    let garbage: Value = http
        .get(format!("{}/auth.test", fake.api_url()))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(garbage["error"], "invalid_auth");

    // Unknown method (recorded, no violation since Slack does not have it either).
    let unknown: Value = http
        .post(format!("{}/chat.frobnicate", fake.api_url()))
        .bearer_auth(BOT_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unknown, json!({"ok": false, "error": "unknown_method"}));
    assert_eq!(fake.calls_to("chat.frobnicate").len(), 1);
    assert_eq!(fake.messages("C2").len(), 1, "rejected calls store nothing");
    fake.assert_no_violations();
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn rate_limit_and_server_error_surface_in_slack_morphism() {
    let fake = FakeSlack::start().await;
    let client = fake.slack_client();
    let token = bot_token();
    let session = client.open_session(&token);

    fake.fail_next(
        "chat.postMessage",
        1,
        Fault::RateLimited {
            retry_after_secs: 7,
        },
    );
    match session.chat_post_message(&post_req("C1", "one")).await {
        Err(SlackClientError::RateLimitError(e)) => {
            assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
            assert_eq!(e.code.as_deref(), Some("ratelimited"));
        }
        other => panic!("expected RateLimitError, got {other:?}"),
    }
    assert!(fake.messages("C1").is_empty(), "a 429'd post is not stored");
    let c = &fake.calls_to("chat.postMessage")[0];
    assert_eq!(c.status, 429);

    fake.fail_next("chat.postMessage", 1, Fault::ServerError(500));
    match session.chat_post_message(&post_req("C1", "two")).await {
        Err(SlackClientError::HttpError(e)) => assert_eq!(e.status_code.as_u16(), 500),
        other => panic!("expected HttpError, got {other:?}"),
    }
    assert!(fake.messages("C1").is_empty());

    // Faults scoped to a channel, a Slack error, and a slow answer that still succeeds.
    fake.fail_next_in_channel(
        "chat.postMessage",
        "C_ARCHIVED",
        1,
        Fault::Error("is_archived".into()),
    );
    fake.fail_next(
        "chat.postMessage",
        1,
        Fault::Slow(Duration::from_millis(50)),
    );
    session
        .chat_post_message(&post_req("C1", "slow but fine"))
        .await
        .expect("slow post");
    match session
        .chat_post_message(&post_req("C_ARCHIVED", "x"))
        .await
    {
        Err(SlackClientError::ApiError(e)) => assert_eq!(e.code, "is_archived"),
        other => panic!("expected ApiError, got {other:?}"),
    }
    assert_eq!(fake.messages("C1").len(), 1);
    let calls = fake.calls_to("chat.postMessage");
    assert_eq!(calls[2].fault, Some(Fault::Slow(Duration::from_millis(50))));

    // fail_for: every call fails until cleared.
    fake.fail_for(
        "users.info",
        Duration::from_secs(3600),
        Fault::ServerError(503),
    );
    for _ in 0..3 {
        let r = session
            .users_info(&SlackApiUsersInfoRequest::new("U1".into()))
            .await;
        assert!(matches!(r, Err(SlackClientError::HttpError(_))), "{r:?}");
    }
    fake.clear_faults();
    session
        .users_info(&SlackApiUsersInfoRequest::new("U1".into()))
        .await
        .expect("after clear_faults");
    fake.assert_no_violations();
}

#[tokio::test]
async fn per_channel_rate_limit() {
    let fake = FakeSlack::start().await;
    let client = fake.slack_client();
    let token = bot_token();
    let session = client.open_session(&token);
    // A window long enough that the test cannot depend on how fast the machine is.
    fake.limit_per_channel_window("chat.postMessage", 2, Duration::from_secs(3600));

    session
        .chat_post_message(&post_req("C1", "a"))
        .await
        .unwrap();
    session
        .chat_post_message(&post_req("C1", "b"))
        .await
        .unwrap();
    match session.chat_post_message(&post_req("C1", "c")).await {
        Err(SlackClientError::RateLimitError(e)) => {
            assert!(e.retry_after.unwrap() >= Duration::from_secs(1))
        }
        other => panic!("expected RateLimitError, got {other:?}"),
    }
    // Another channel has its own budget.
    session
        .chat_post_message(&post_req("C2", "d"))
        .await
        .unwrap();
    assert_eq!(fake.messages("C1").len(), 2);
    assert_eq!(fake.accepted_times("chat.postMessage", "C1").len(), 2);
    assert_eq!(
        fake.max_calls_in_window("chat.postMessage", "C1", Duration::from_secs(3600)),
        2
    );
    assert_eq!(fake.max_rate_observed("chat.postMessage", "C2"), 1);
}

#[tokio::test]
async fn contract_violations_are_rejected_and_recorded() {
    let fake = FakeSlack::start().await;
    let client = fake.slack_client();
    let token = bot_token();
    let session = client.open_session(&token);

    // Missing a required argument (channel) — via generic http_post.
    let err = session
        .http_session_api
        .http_post::<Value, Value>("chat.postMessage", &json!({"text": "no channel"}), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SlackClientError::ApiError(e) if e.code == "invalid_arguments"),
        "{err:?}"
    );
    let v = fake.violations();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].rule, "missing_required_argument");
    assert!(v[0].detail.contains("`channel`"));
    fake.clear_violations();

    // A broadcast mention in the text.
    let err = session
        .chat_post_message(&post_req("C1", "Finding: <!channel> rm -rf"))
        .await
        .unwrap_err();
    assert!(matches!(err, SlackClientError::ApiError(_)));
    // ... and in a block (subteam).
    let _ = session
        .chat_post_message(&post_blocks(
            "C1",
            "ok text",
            vec![section("ping <!subteam^S123>")],
        ))
        .await
        .unwrap_err();
    let rules: Vec<_> = fake.violations().into_iter().map(|v| v.rule).collect();
    assert_eq!(rules, ["broadcast_mention", "broadcast_mention"]);
    fake.clear_violations();
    // Escaped text is fine.
    session
        .chat_post_message(&post_req("C1", "Finding: &lt;!channel&gt;"))
        .await
        .expect("escaped mention");

    // 51 blocks rejected, 50 accepted.
    let blocks51: Vec<SlackBlock> = (0..51).map(|i| section(&format!("b{i}"))).collect();
    match session
        .chat_post_message(&post_blocks("C1", "many", blocks51.clone()))
        .await
    {
        Err(SlackClientError::ApiError(e)) => assert_eq!(e.code, "invalid_blocks"),
        other => panic!("expected invalid_blocks, got {other:?}"),
    }
    assert_eq!(fake.violations()[0].rule, "too_many_blocks");
    fake.clear_violations();
    session
        .chat_post_message(&post_blocks("C1", "fifty", blocks51[..50].to_vec()))
        .await
        .expect("50 blocks are fine");

    // Block Kit text limits.
    let long = "x".repeat(3001);
    let _ = session
        .chat_post_message(&post_blocks("C1", "long", vec![section(&long)]))
        .await
        .unwrap_err();
    let button: Value = json!([{"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "y".repeat(76)},
         "action_id": "a".repeat(256), "value": "v"}]}]);
    let _ = session
        .http_session_api
        .http_post::<Value, Value>(
            "chat.postMessage",
            &json!({"channel": "C1", "text": "t", "blocks": button}),
            None,
        )
        .await
        .unwrap_err();
    let rules: Vec<_> = fake.violations().into_iter().map(|v| v.rule).collect();
    assert_eq!(
        rules,
        [
            "section_text_too_long",
            "action_id_too_long",
            "button_text_too_long"
        ]
    );
    fake.clear_violations();

    // Message text limit.
    let err = session
        .chat_post_message(&post_req("C1", &"z".repeat(40_001)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SlackClientError::ApiError(e) if e.code == "msg_too_long"),
        "{err:?}"
    );
    fake.clear_violations();

    // Nothing rejected was stored.
    let texts: Vec<_> = fake
        .messages("C1")
        .into_iter()
        .map(|m| m.text.unwrap())
        .collect();
    assert_eq!(texts, ["Finding: &lt;!channel&gt;", "fifty"]);
}

#[tokio::test]
async fn views_directory_and_users() {
    let fake = FakeSlack::start().await;
    let client = fake.slack_client();
    let token = bot_token();
    let session = client.open_session(&token);
    fake.set_usergroup("S1", &["U1", "U2"]);
    fake.set_user_channels("U1", &["C1", "C7"]);
    fake.set_user("U1", "alice", "Alice Example");

    let modal = |title: &str| {
        SlackView::Modal(
            SlackModalView::new(pt!(title), vec![section("Suppress finding?")])
                .with_submit(pt!("Suppress"))
                .with_callback_id("suppress".into()),
        )
    };
    let opened = session
        .views_open(&SlackApiViewsOpenRequest::new(
            "T-1".into(),
            modal("Suppress"),
        ))
        .await
        .expect("views.open");
    let id = opened.view.state_params.id.clone();
    assert!(id.value().starts_with('V'));
    let updated = session
        .views_update(
            &SlackApiViewsUpdateRequest::new(modal("Suppressed"))
                .with_view_id(id.clone())
                .with_hash(opened.view.state_params.hash.clone()),
        )
        .await
        .expect("views.update");
    assert_eq!(updated.view.state_params.id, id);
    assert_eq!(fake.view(id.value()).unwrap().update_count, 1);
    assert_eq!(
        fake.view(id.value()).unwrap().view["title"]["text"],
        "Suppressed"
    );

    // A trigger id can be used once; a title over 24 chars is a violation.
    let err = session
        .views_open(&SlackApiViewsOpenRequest::new("T-1".into(), modal("Again")))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SlackClientError::ApiError(e) if e.code == "trigger_exchanged"),
        "{err:?}"
    );
    let err = session
        .views_open(&SlackApiViewsOpenRequest::new(
            "T-2".into(),
            modal("A title that is far too long"),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SlackClientError::ApiError(e) if e.code == "invalid_arguments"),
        "{err:?}"
    );
    assert_eq!(fake.violations()[0].rule, "modal_title_too_long");
    fake.clear_violations();

    // Directory lookups.
    let members = session
        .usergroups_users_list(&SlackApiUserGroupsUsersListRequest::new("S1".into()))
        .await
        .expect("usergroups.users.list");
    assert_eq!(
        members.users,
        vec![SlackUserId::from("U1"), SlackUserId::from("U2")]
    );
    let chans = session
        .users_conversations(&SlackApiUsersConversationsRequest::new().with_user("U1".into()))
        .await
        .expect("users.conversations");
    let ids: Vec<_> = chans
        .channels
        .iter()
        .map(|c| c.id.value().clone())
        .collect();
    assert_eq!(ids, ["C1", "C7"]);
    let user = session
        .users_info(&SlackApiUsersInfoRequest::new("U1".into()))
        .await
        .expect("users.info");
    assert_eq!(user.user.name.as_deref(), Some("alice"));
    assert_eq!(user.user.real_name.as_deref(), Some("Alice Example"));
    let me = session.auth_test().await.expect("auth.test");
    assert_eq!(me.user_id.value(), BOT_USER_ID);

    // Ephemeral: stored apart; refused in a channel the user is not in.
    let eph = session
        .chat_post_ephemeral(&SlackApiChatPostEphemeralRequest::new(
            "C1".into(),
            "U1".into(),
            SlackMessageContent::new().with_text("only you".into()),
        ))
        .await;
    assert!(eph.is_ok(), "{eph:?}");
    assert_eq!(fake.ephemerals("C1").len(), 1);
    assert!(fake.messages("C1").is_empty());
    let err = session
        .chat_post_ephemeral(&SlackApiChatPostEphemeralRequest::new(
            "C2".into(),
            "U1".into(),
            SlackMessageContent::new().with_text("x".into()),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SlackClientError::ApiError(e) if e.code == "user_not_in_channel"),
        "{err:?}"
    );
    fake.assert_no_violations();
}

// ----- Socket Mode -----

type EventSender = tokio::sync::mpsc::UnboundedSender<SlackPushEventCallback>;

async fn on_push_event(
    event: SlackPushEventCallback,
    _client: Arc<SlackHyperClient>,
    states: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    let states = states.read().await;
    if let Some(tx) = states.get_user_state::<EventSender>() {
        let _ = tx.send(event);
    }
    Ok(())
}

fn on_error(
    err: Box<dyn std::error::Error + Send + Sync>,
    _client: Arc<SlackHyperClient>,
    _states: SlackClientEventsUserState,
) -> HttpStatusCode {
    eprintln!("socket mode listener error: {err:?}");
    HttpStatusCode::OK
}

async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<SlackHyperClient>,
    _states: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    Ok(SlackCommandEventResponse::new(
        SlackMessageContent::new().with_text(format!("got {}", event.text.unwrap_or_default())),
    ))
}

fn app_mention(text: &str, event_id: &str) -> Value {
    json!({
        "token": "verification-token",
        "team_id": "T0FAKE",
        "api_app_id": "A1",
        "event": {
            "type": "app_mention",
            "user": "U1",
            "text": text,
            "ts": "1700000001.000100",
            "channel": "C1",
            "event_ts": "1700000001.000100"
        },
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1700000001,
        "authorizations": [{"enterprise_id": null, "team_id": "T0FAKE", "user_id": "U0BOT",
                             "is_bot": true, "is_enterprise_install": false}],
        "is_ext_shared_channel": false
    })
}

#[tokio::test]
async fn socket_mode_round_trip_with_slack_morphism_listener() {
    let fake = FakeSlack::start().await;
    let client = fake.slack_client();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<SlackPushEventCallback>();
    let env = Arc::new(
        SlackClientEventsListenerEnvironment::new(client.clone())
            .with_error_handler(on_error)
            .with_user_state(tx),
    );
    let callbacks = SlackSocketModeListenerCallbacks::new()
        .with_push_events(on_push_event)
        .with_command_events(on_command);
    let listener = SlackClientSocketModeListener::new(
        &SlackClientSocketModeConfig::new().with_max_connections_count(1),
        env,
        callbacks,
    );
    listener
        .listen_for(&SlackApiToken::new(APP_TOKEN.into()))
        .await
        .expect("listen_for");
    listener.start().await;

    assert!(
        fake.wait_for_socket_connection(WAIT).await,
        "client connected"
    );
    let opens = fake.calls_to("apps.connections.open");
    assert_eq!(opens.len(), 1);
    assert_eq!(opens[0].token.as_deref(), Some(APP_TOKEN));

    let envelope_id = fake.socket_send("events_api", app_mention("<@U0BOT> status", "Ev1"));
    let ack = fake.wait_for_ack(&envelope_id, WAIT).await.expect("ack");
    assert_eq!(ack["envelope_id"], json!(envelope_id));
    let event = tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("event delivered")
        .unwrap();
    assert_eq!(event.event_id.value(), "Ev1");
    match event.event {
        SlackEventCallbackBody::AppMention(m) => {
            assert_eq!(m.content.text.as_deref(), Some("<@U0BOT> status"))
        }
        other => panic!("expected app_mention, got {other:?}"),
    }

    // Slack asks the client to reconnect: it opens a new connection and keeps working.
    fake.socket_disconnect();
    assert!(
        fake.wait_for_socket_connections_total(2, WAIT).await,
        "client reconnected after disconnect"
    );
    assert!(fake.wait_for_socket_connection(WAIT).await);
    let envelope_id = fake.socket_send("events_api", app_mention("again", "Ev2"));
    assert!(fake.wait_for_ack(&envelope_id, WAIT).await.is_some());
    let event = tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.event_id.value(), "Ev2");
    assert_eq!(fake.calls_to("apps.connections.open").len(), 2);

    // A slash command: the ack carries the response payload.
    let cmd = fake.slash_command_payload("/remedy", "status F-1", "U1", "C1");
    let envelope_id = fake.socket_send("slash_commands", cmd);
    let ack = fake
        .wait_for_ack(&envelope_id, WAIT)
        .await
        .expect("command ack");
    assert_eq!(ack["payload"]["text"], "got status F-1");
    assert_eq!(
        fake.socket_frames_sent().last().unwrap()["accepts_response_payload"],
        json!(true)
    );

    // The payload helper builds what slack-morphism parses.
    let payload = fake.events_api_payload(json!({
        "type": "app_mention", "user": "U2", "text": "hi", "ts": "1700000002.000100",
        "channel": "C1", "event_ts": "1700000002.000100"
    }));
    let envelope_id = fake.socket_send("events_api", payload);
    assert!(fake.wait_for_ack(&envelope_id, WAIT).await.is_some());
    let event = tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(event.event, SlackEventCallbackBody::AppMention(_)));

    // A dropped connection (no close frame): slack-morphism reconnects by itself.
    let total = fake.socket_connections_total();
    fake.socket_drop_connections();
    assert!(
        fake.wait_for_socket_connections_total(total + 1, WAIT)
            .await,
        "client reconnected after a dropped connection"
    );
    let envelope_id = fake.socket_send("events_api", app_mention("after drop", "Ev3"));
    assert!(fake.wait_for_ack(&envelope_id, WAIT).await.is_some());

    listener.shutdown().await;
    let acked: HashMap<String, usize> =
        fake.socket_acks()
            .into_iter()
            .fold(HashMap::new(), |mut m, a| {
                *m.entry(a.envelope_id).or_default() += 1;
                m
            });
    assert!(
        acked.values().all(|n| *n == 1),
        "each envelope acked once: {acked:?}"
    );
}
