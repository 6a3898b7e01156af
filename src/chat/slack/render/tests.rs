//! Golden tests for every built-in template, escaping, Block Kit limits and overrides.
//! `UPDATE_GOLDEN=1 cargo test --lib chat::slack` rewrites `tests/golden/slack/*.json`.

use serde_json::{Value, json};

use super::*;
use crate::chat::templates::samples::Samples;
use crate::chat::templates::testing::{self, override_dir, scanner_card};
use crate::chat::view::OwnerRef;

const SAMPLES: Samples = Samples::SLACK;

fn renderer() -> SlackRenderer {
    SlackRenderer::new(None).expect("built-in templates compile")
}

/// Compare with the checked-in file, or rewrite it when `UPDATE_GOLDEN=1`.
fn assert_golden(name: &str, message: &SlackMessage) {
    testing::assert_golden("slack", name, message);
}

/// The whole message as JSON text, for `contains` checks.
fn json_text(m: &SlackMessage) -> String {
    serde_json::to_string(m).unwrap()
}

#[test]
fn golden_finding_root() {
    let r = renderer();
    assert_golden("finding_root", &r.root(&SAMPLES.full_card()));
    assert_golden("finding_root_minimal", &r.root(&Samples::minimal_card()));
    assert_golden("finding_root_scanner_text", &r.root(&scanner_card()));
}

#[test]
fn golden_note() {
    let r = renderer();
    let notes = SAMPLES.notes();
    assert_golden("note", &r.note(&notes[0], Samples::id()));
    assert_golden("note_minimal", &r.note(&notes[1], Samples::id()));
}

#[test]
fn golden_approval() {
    let r = renderer();
    assert_golden("approval", &r.approval(&SAMPLES.approval(), Samples::id()));
    assert_golden(
        "approval_minimal",
        &r.approval(&Samples::minimal_approval(), Samples::id()),
    );
    let closed = r.approval_closed(&SAMPLES.approval(), Samples::id(), "approved");
    assert_golden("approval_closed", &closed);
}

#[test]
fn golden_batch() {
    let r = renderer();
    let batches = Samples::batches();
    let big = r.batch(&batches[0]);
    assert_golden("batch", &big);
    assert_golden("batch_single", &r.batch(&batches[1]));
    let text = serde_json::to_string(&big.blocks).unwrap_or_default();
    assert!(
        text.contains("&lt;3&gt; &amp;"),
        "titles are escaped: {text}"
    );
    assert!(text.contains("and 15 more"));
}

#[test]
fn golden_text() {
    assert_golden(
        "text",
        &renderer().text("Only members of security can approve."),
    );
}

#[test]
fn finding_text_cannot_ping_or_break_the_json() {
    let mut card = SAMPLES.full_card();
    card.title = "<!channel> please look & fix <@U123>".into();
    card.description = "\"quoted\" \\ back\nslash @here <#C1> }]}".into();
    let m = renderer().root(&card);
    let header = &m.blocks[0]["text"]["text"];
    assert_eq!(
        header,
        "&lt;!channel&gt; please look &amp; fix &lt;@U123&gt;"
    );
    assert_eq!(
        m.blocks[2]["text"]["text"],
        "\"quoted\" \\ back\nslash @\u{200D}here &lt;#C1&gt; }]}"
    );
    let all = json_text(&m);
    assert!(!all.contains("<!") && !all.contains("<#") && !all.contains("<@U123>"));
    assert!(all.contains("<@U0OWNER>"), "the owner is still mentioned");
}

#[test]
fn root_message_has_actions_for_the_finding() {
    let m = renderer().root(&SAMPLES.full_card());
    let actions = m.blocks.iter().find(|b| b["type"] == "actions").unwrap();
    assert_eq!(actions["block_id"], "rb:actions:F-12");
    let elements = actions["elements"].as_array().unwrap();
    let ids: Vec<_> = elements
        .iter()
        .map(|e| e["action_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["rb:plan", "rb:fixed", "rb:assign", "rb:accept_risk"]);
    assert!(
        elements
            .iter()
            .filter(|e| e["type"] == "button")
            .all(|e| e["value"] == "F-12")
    );
    assert_eq!(elements[1]["style"], "primary");
    assert_eq!(elements[2]["type"], "users_select");
    assert!(
        renderer()
            .root(&Samples::minimal_card())
            .blocks
            .iter()
            .all(|b| b["type"] != "actions")
    );
}

#[test]
fn approvals_mention_approvers_and_offer_approve_and_reject() {
    let m = renderer().approval(&SAMPLES.approval(), Samples::id());
    let all = json_text(&m);
    assert!(all.contains("<@U0SEC1>, <@U0SEC2>"));
    assert!(
        all.contains("discord:4242"),
        "non-Slack members are named, not mentioned"
    );
    assert!(all.contains("1 of 2 approvals"));
    let buttons = &m.blocks.last().unwrap()["elements"];
    assert_eq!(buttons[0]["action_id"], "rb:approve");
    assert_eq!(buttons[0]["style"], "primary");
    assert_eq!(buttons[1]["action_id"], "rb:reject");
    assert_eq!(buttons[1]["style"], "danger");
    assert_eq!(buttons[1]["value"], "F-12");
    let closed = renderer().approval_closed(&SAMPLES.approval(), Samples::id(), "rejected");
    assert!(closed.blocks.iter().all(|b| b["type"] != "actions"));
    assert!(json_text(&closed).contains("*Outcome:* rejected"));
}

#[test]
fn mentions_need_a_valid_slack_user_id() {
    let mut card = SAMPLES.full_card();
    card.owner = Some(OwnerRef::parse("slack:U1<!here>"));
    let all = json_text(&renderer().root(&card));
    assert!(all.contains("slack:U1&lt;!here&gt;"));
    card.owner = Some(OwnerRef::parse("discord:1234"));
    assert!(json_text(&renderer().root(&card)).contains("*Owner*\\ndiscord:1234"));
}

#[test]
fn a_long_description_is_cut_with_a_pointer_to_the_full_text() {
    let mut card = SAMPLES.full_card();
    card.description = "&x".repeat(5000);
    card.title = "t".repeat(400);
    let m = renderer().root(&card);
    let text = m.blocks[2]["text"]["text"].as_str().unwrap();
    assert!(text.chars().count() <= limits::SECTION_TEXT);
    let body = text
        .strip_suffix("… (truncated — full text: `remedybot show F-12`)")
        .unwrap_or_else(|| panic!("no pointer: {text}"));
    assert!(
        body.ends_with('x') || body.ends_with("&amp;"),
        "split entity: {body}"
    );
    let header = m.blocks[0]["text"]["text"].as_str().unwrap();
    assert_eq!(header.chars().count(), limits::HEADER_TEXT);
    assert!(m.text.chars().count() <= limits::FALLBACK_TEXT);
}

#[test]
fn limits_cap_fields_buttons_and_the_number_of_blocks() {
    let long = "x".repeat(4000);
    let mut blocks = vec![
        json!({"type": "section", "fields": [{"type": "mrkdwn", "text": long}]}),
        json!({"type": "actions", "elements": [
            {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": long}}
        ]}),
        json!({"type": "context", "elements": [{"type": "mrkdwn", "text": long}]}),
    ];
    blocks.extend((0..60).map(|_| json!({"type": "divider"})));
    let m = limits::finish(json!({"text": long, "blocks": blocks}), Some("F-3")).unwrap();
    assert_eq!(m.blocks.len(), limits::MAX_BLOCKS);
    let chars = |v: &Value| v.as_str().unwrap().chars().count();
    assert_eq!(chars(&m.blocks[0]["fields"][0]["text"]), limits::FIELD_TEXT);
    assert_eq!(
        chars(&m.blocks[1]["elements"][0]["text"]["text"]),
        limits::BUTTON_TEXT
    );
    assert_eq!(
        chars(&m.blocks[2]["elements"][0]["text"]),
        limits::SECTION_TEXT
    );
    assert_eq!(chars(&json!(m.text)), limits::FALLBACK_TEXT);
    let last = m.blocks.last().unwrap()["elements"][0]["text"]
        .as_str()
        .unwrap();
    assert!(last.starts_with("14 more blocks were left out"), "{last}");
    assert!(last.contains("`remedybot show F-3`"));
    assert!(limits::finish(json!({"text": "x", "blocks": [], "extra": 1}), None).is_err());
    assert!(limits::finish(json!([]), None).is_err());
}

const CUSTOM_TEXT: &str = r#"{"text": "custom: {{text}}", "blocks": []}"#;

#[test]
fn an_override_directory_replaces_a_template() {
    let dir = override_dir(&[("text.json.hbs", CUSTOM_TEXT), (".keep", "")]);
    let r = SlackRenderer::new(Some(dir.path())).unwrap();
    assert_eq!(r.text("a < b").text, "custom: a &lt; b");
    assert_eq!(
        r.root(&SAMPLES.full_card()),
        renderer().root(&SAMPLES.full_card())
    );
}

fn override_error(files: &[(&str, &str)]) -> String {
    testing::override_error::<SlackTemplates>(files)
}

#[test]
fn unknown_template_files_are_named() {
    let err = override_error(&[("finding.json.hbs", CUSTOM_TEXT)]);
    assert!(err.contains("finding.json.hbs"), "{err}");
    assert!(
        err.contains("finding_root.json.hbs"),
        "lists the known names: {err}"
    );
}

#[test]
fn a_template_that_does_not_compile_is_named_with_its_line() {
    let err = override_error(&[("note.json.hbs", "{\n  \"text\": \"{{#if id}}\",\n}")]);
    assert!(err.contains("note.json.hbs"), "{err}");
    assert!(err.contains("line "), "{err}");
}

#[test]
fn unescaped_output_is_refused() {
    let raw = "{\"text\": \"x\",\n \"blocks\": [{{{title}}}]}";
    let err = override_error(&[("finding_root.json.hbs", raw)]);
    assert!(
        err.contains("finding_root.json.hbs (line 2, column 13)"),
        "{err}"
    );
    assert!(err.contains("not allowed"), "{err}");
}

#[test]
fn a_template_that_renders_invalid_json_is_named() {
    let err = override_error(&[("text.json.hbs", r#"{"text": "{{text}}", "blocks": [}"#)]);
    assert!(
        err.contains("text.json.hbs") && err.contains("not valid JSON"),
        "{err}"
    );
    let err = override_error(&[("text.json.hbs", r#"{"text": "{{text}}"}"#)]);
    assert!(err.contains("`blocks` must be an array"), "{err}");
}

#[test]
fn strict_mode_catches_a_missing_variable() {
    let bad = r#"{"text": "{{titel}}", "blocks": []}"#;
    let err = override_error(&[("finding_root.json.hbs", bad)]);
    assert!(
        err.contains("finding_root.json.hbs") && err.contains("titel"),
        "{err}"
    );
}

#[test]
fn an_override_failing_on_unusual_data_falls_back_to_the_built_in() {
    let odd = r#"{"text": "{{#if (eq severity "critical")}}{{nope}}{{/if}}x", "blocks": []}"#;
    let dir = override_dir(&[("finding_root.json.hbs", odd)]);
    let r = SlackRenderer::new(Some(dir.path())).unwrap();
    let mut card = SAMPLES.full_card();
    assert_eq!(r.root(&card).text, "x");
    card.severity = "critical".into();
    assert_eq!(r.root(&card), renderer().root(&card));
}

#[test]
fn every_finding_of_a_real_sarif_log_renders_to_valid_block_kit() {
    let r = renderer();
    for card in testing::sarif_cards() {
        let m = r.root(&card);
        let all = json_text(&m);
        let without_mentions = all.replace("<@U0OWNER>", "");
        assert!(!without_mentions.contains('<'), "{all}");
        assert!(m.blocks.len() <= limits::MAX_BLOCKS);
    }
}
