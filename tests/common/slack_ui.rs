//! Building Slack interactivity payloads the way Slack sends them (from the corpus shapes):
//! a button click on a rendered message, and a modal submission with `view.state.values`
//! for the answers. Shared by the end-to-end and parity tests.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::Utc;
use serde_json::{Value, json};

use super::TestServer;
use super::fake_slack::StoredMessage;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/slack");

pub fn corpus(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{CORPUS}/{name}"))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).expect("corpus JSON")
}

pub fn slack_user(id: &str) -> Value {
    let name = id.to_lowercase();
    json!({ "id": id, "username": name, "name": name, "team_id": "T0FAKE" })
}

pub fn blocks_text(m: &StoredMessage) -> String {
    m.blocks.as_ref().map(Value::to_string).unwrap_or_default()
}

/// The `(block_id, element)` of the interactive element `action_id` in `message`.
pub fn element(message: &StoredMessage, action_id: &str) -> Option<(String, Value)> {
    let blocks = message.blocks.as_ref()?.as_array()?;
    blocks.iter().find_map(|b| {
        let e = b["elements"]
            .as_array()?
            .iter()
            .find(|e| e["action_id"] == action_id)?;
        Some((b["block_id"].as_str()?.to_string(), e.clone()))
    })
}

/// The corpus `block_actions` payload as `user` clicking the button `action_id` of
/// `message`, with the button's block id and value as rendered and a fresh `trigger_id`.
pub fn click(user: &str, channel: &str, message: &StoredMessage, action_id: &str) -> Value {
    static TRIGGER: AtomicU32 = AtomicU32::new(1);
    let (block_id, button) = element(message, action_id)
        .unwrap_or_else(|| panic!("no {action_id} on the message: {}", blocks_text(message)));
    assert_eq!(button["type"], "button", "{button}");
    let mut p = corpus("interactivity/java-slack-sdk_block_actions_in_thread.json");
    p["user"] = slack_user(user);
    p["trigger_id"] = json!(format!(
        "{}.{}.e2e",
        TRIGGER.fetch_add(1, Ordering::SeqCst),
        message.ts.replace('.', "")
    ));
    p["channel"] = json!({ "id": channel, "name": "security" });
    let mut container = json!({
        "type": "message",
        "message_ts": message.ts,
        "channel_id": channel,
        "is_ephemeral": false,
    });
    if let Some(thread) = &message.thread_ts {
        container["thread_ts"] = json!(thread);
    }
    p["container"] = container;
    p["message"] = json!({
        "type": "message",
        "user": message.user,
        "bot_id": message.bot_id,
        "ts": message.ts,
        "text": message.text,
        "blocks": message.blocks,
    });
    if let Some(thread) = &message.thread_ts {
        p["message"]["thread_ts"] = json!(thread);
    }
    p.as_object_mut().expect("payload").remove("state");
    p["actions"] = json!([{
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "text": button["text"],
        "value": button["value"],
        "action_ts": format!("{}.000100", Utc::now().timestamp()),
    }]);
    p
}

/// `view.state.values` as Slack sends them for `modal` with `answers` (block id → value):
/// every input block, keyed by block id then action id; unanswered inputs as `null`;
/// selects and radio buttons as the chosen option (which must be one the modal offers),
/// selects keeping their initial option when unanswered.
pub fn state_values(modal: &Value, answers: &[(&str, &str)]) -> Value {
    let inputs: Vec<&Value> = modal["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .filter(|b| b["type"] == "input")
        .collect();
    for (block, _) in answers {
        assert!(
            inputs.iter().any(|b| b["block_id"] == *block),
            "the modal has no input {block}"
        );
    }
    let mut values = serde_json::Map::new();
    for input in inputs {
        let block = input["block_id"].as_str().expect("block_id");
        let element = &input["element"];
        let kind = element["type"].as_str().expect("element type");
        let answer = answers.iter().find(|(b, _)| *b == block).map(|(_, v)| *v);
        let state = match kind {
            "static_select" | "radio_buttons" => {
                let option = match answer {
                    Some(v) => element["options"]
                        .as_array()
                        .expect("options")
                        .iter()
                        .find(|o| o["value"] == v)
                        .unwrap_or_else(|| panic!("{block} offers no option {v}: {element}"))
                        .clone(),
                    None => element
                        .get("initial_option")
                        .cloned()
                        .unwrap_or(Value::Null),
                };
                json!({ "type": kind, "selected_option": option })
            }
            "datepicker" => json!({
                "type": kind,
                "selected_date": answer.map(Value::from).or_else(|| element.get("initial_date").cloned()),
            }),
            "plain_text_input" | "url_text_input" => json!({ "type": kind, "value": answer }),
            other => panic!("{block}: element type {other} is not covered by this test"),
        };
        let action = element["action_id"].as_str().expect("action_id");
        values.insert(block.to_string(), json!({ action: state }));
    }
    Value::Object(values)
}

/// The corpus `view_submission` payload as `user` submitting `modal` (the view as opened)
/// with `values`.
pub fn submission(user: &str, modal: &Value, values: Value) -> Value {
    let mut p = corpus("interactivity/bolt-python_view_submission.json");
    p["user"] = slack_user(user);
    let mut view = modal.clone();
    view["state"] = json!({ "values": values });
    p["view"] = view;
    p
}

/// POST a form-encoded interactivity `payload` to `/slack/interactions`, signed now with
/// `secret` as Slack signs it.
pub async fn post_interaction(
    server: &TestServer,
    secret: &str,
    payload: &Value,
) -> reqwest::Response {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish();
    let now = Utc::now().timestamp();
    let signature =
        remedybot::chat::slack::signing::SlackSigner::new(secret).sign(now, body.as_bytes());
    server
        .http
        .post(server.url("/slack/interactions"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", now.to_string())
        .header("x-slack-signature", signature)
        .body(body)
        .send()
        .await
        .expect("POST /slack/interactions")
}
