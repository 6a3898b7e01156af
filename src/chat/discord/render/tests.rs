//! Golden tests for every built-in Discord template, mentions, limits, components and
//! overrides. `UPDATE_GOLDEN=1 cargo test --lib chat::discord` rewrites
//! `tests/golden/discord/*.json`.

use serde_json::{Value, json};

use super::components::{self, CUSTOM_ID, MAX_ROWS, ROW_BUTTONS};
use super::limits::{self, CONTENT, EMBED_TOTAL};
use super::*;
use crate::chat::discord::escape::has_unescaped;
use crate::chat::templates::samples::Samples;
use crate::chat::templates::testing::{self, override_dir, scanner_card};

mod shapes;

const SAMPLES: Samples = Samples::DISCORD;
const OWNER: &str = "100000000000000001";

fn renderer() -> DiscordRenderer {
    DiscordRenderer::new(None).expect("built-in templates compile")
}

fn assert_golden(name: &str, message: &DiscordMessage) {
    testing::assert_golden("discord", name, message);
}

fn json_text(m: &DiscordMessage) -> String {
    serde_json::to_string(&m.body).unwrap()
}

fn allowed_users(m: &DiscordMessage) -> Vec<&str> {
    let allowed = &m.body["allowed_mentions"];
    assert_eq!(allowed["parse"], json!([]), "nothing is parsed: {allowed}");
    assert!(allowed.get("roles").is_none() && allowed.get("everyone").is_none());
    allowed["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect()
}

/// Every component, flattened out of the action rows.
fn components_of(m: &DiscordMessage) -> Vec<&Value> {
    m.body["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| {
            assert_eq!(row["type"], 1, "top-level components are action rows");
            row["components"].as_array().unwrap()
        })
        .collect()
}

/// Every message the renderer can make from the samples, with odd text added.
fn all_messages(r: &DiscordRenderer) -> Vec<DiscordMessage> {
    let id = Samples::id();
    let mut out: Vec<DiscordMessage> = SAMPLES.cards().iter().map(|c| r.root(c)).collect();
    out.push(r.root(&scanner_card()));
    out.extend(SAMPLES.notes().iter().map(|n| r.note(n, id)));
    for a in SAMPLES.approvals() {
        out.push(r.approval(&a, id));
        out.push(r.approval_closed(&a, id, "approved"));
    }
    out.extend(Samples::batches().iter().map(|b| r.batch(b)));
    out.push(r.text("Only members of security can approve."));
    out
}

#[test]
fn golden_finding_root() {
    let r = renderer();
    let full = r.root(&SAMPLES.full_card());
    assert_golden("finding_root", &full);
    assert_golden("finding_root_minimal", &r.root(&Samples::minimal_card()));
    assert_golden("finding_root_scanner_text", &r.root(&scanner_card()));
    assert_eq!(
        full.thread_name.as_deref(),
        Some("F-12 · Cross-site scripting in /search")
    );
    assert_eq!(allowed_users(&full), [OWNER]);
    assert!(
        full.body["content"]
            .as_str()
            .unwrap()
            .contains(&format!("<@{OWNER}>"))
    );
}

#[test]
fn golden_note() {
    let r = renderer();
    let notes = SAMPLES.notes();
    let assigned = r.note(&notes[0], Samples::id());
    assert_golden("note", &assigned);
    assert_golden("note_minimal", &r.note(&notes[1], Samples::id()));
    assert_eq!(allowed_users(&assigned), ["100000000000000002"]);
    assert_eq!(assigned.thread_name, None);
}

#[test]
fn golden_approval() {
    let r = renderer();
    let m = r.approval(&SAMPLES.approval(), Samples::id());
    assert_golden("approval", &m);
    assert_golden(
        "approval_minimal",
        &r.approval(&Samples::minimal_approval(), Samples::id()),
    );
    let closed = r.approval_closed(&SAMPLES.approval(), Samples::id(), "approved");
    assert_golden("approval_closed", &closed);
    assert_eq!(
        allowed_users(&m),
        ["100000000000000003", "100000000000000004"]
    );
    let content = m.body["content"].as_str().unwrap();
    assert!(content.contains("(1 of 2 approvals) <@100000000000000003> <@100000000000000004>"));
    assert!(json_text(&m).contains("slack:U0LEAD"), "others are named");
    let ids: Vec<_> = components_of(&m)
        .iter()
        .map(|c| c["custom_id"].clone())
        .collect();
    assert_eq!(ids, [json!("rb:approve:F-12"), json!("rb:reject:F-12")]);
    assert_eq!(components_of(&m)[0]["style"], 3);
    assert_eq!(components_of(&m)[1]["style"], 4);
    assert_eq!(
        closed.body["components"],
        json!([]),
        "an edit removes the buttons"
    );
    assert!(allowed_users(&closed).is_empty());
}

#[test]
fn golden_batch_and_text() {
    let r = renderer();
    let batches = Samples::batches();
    let big = r.batch(&batches[0]);
    assert_golden("batch", &big);
    assert_golden("batch_single", &r.batch(&batches[1]));
    assert_golden("text", &r.text("Only members of security can approve."));
    assert_eq!(big.thread_name.as_deref(), Some("45 new findings"));
    let description = big.body["embeds"][0]["description"].as_str().unwrap();
    assert!(description.contains("F-3  Low       Finding <3> & \"quoted\"\n"));
    assert!(description.ends_with("```\nand 15 more"));
}

#[test]
fn root_buttons_and_the_assign_menu() {
    let m = renderer().root(&SAMPLES.full_card());
    let rows = m.body["components"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    let ids: Vec<_> = components_of(&m)
        .iter()
        .map(|c| c["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "rb:plan:F-12",
            "rb:fixed:F-12",
            "rb:assign:F-12",
            "rb:accept_risk:F-12"
        ]
    );
    assert_eq!(rows[0]["components"][1]["style"], 1);
    assert_eq!(rows[0]["components"][0]["style"], 2);
    assert_eq!(
        rows[1]["components"],
        json!([{"type": 5, "custom_id": "rb:assign:F-12", "placeholder": "Assign"}])
    );
    let minimal = renderer().root(&Samples::minimal_card());
    assert_eq!(minimal.body["components"], json!([]));
    assert!(allowed_users(&minimal).is_empty());
}

#[test]
fn every_custom_id_is_short_and_unique() {
    for m in all_messages(&renderer()) {
        let ids: Vec<&str> = components_of(&m)
            .iter()
            .map(|c| c["custom_id"].as_str().unwrap())
            .collect();
        for id in &ids {
            assert!(id.len() <= CUSTOM_ID && id.starts_with("rb:"), "{id}");
            assert_eq!(ids.iter().filter(|x| *x == id).count(), 1, "{id} twice");
        }
        let rows = m.body["components"].as_array().unwrap();
        assert!(rows.len() <= MAX_ROWS);
        assert!(
            rows.iter()
                .all(|r| r["components"].as_array().unwrap().len() <= ROW_BUTTONS)
        );
    }
    let dup = json!({"type": 2, "style": 1, "label": "x", "custom_id": "rb:x:F-1"});
    let err = components::arrange(vec![dup.clone(), dup]).unwrap_err();
    assert!(err.contains("used twice"), "{err}");
    let long = json!({"type": 2, "style": 1, "custom_id": format!("rb:{}", "x".repeat(100))});
    assert!(
        components::arrange(vec![long])
            .unwrap_err()
            .contains("longer than 100")
    );
    let escaped = json!({"type": 2, "style": 1, "custom_id": "rb:accept\\_risk:F-1"});
    assert!(components::arrange(vec![escaped]).is_err());
}

const NASTY: &str = "@everyone @here <@&123456789012345678> <@!42> <@42> <#1> </cmd:1> \
                     <t:1700000000:R> [click](https://evil.example) **x** ||y|| `z`\n# H1\n> q";

#[test]
fn finding_text_can_never_ping_everyone_or_roles() {
    let mut card = SAMPLES.full_card();
    card.title = NASTY.into();
    card.description = NASTY.into();
    card.asset = NASTY.into();
    card.location = NASTY.into();
    card.rule = NASTY.into();
    card.owner = Some(OwnerRef::parse("discord:1<@&2>"));
    let mut note = SAMPLES.notes().remove(0);
    note.headline = NASTY.into();
    note.details[0].value = NASTY.into();
    note.subject = Some(OwnerRef::Text(NASTY.into()));
    let mut approval = SAMPLES.approval();
    approval.reason = NASTY.into();
    approval.groups[0].name = NASTY.into();
    let r = renderer();
    let id = Samples::id();
    let mut messages = vec![r.root(&card), r.note(&note, id), r.approval(&approval, id)];
    messages.push(r.approval_closed(&approval, id, NASTY));
    messages.push(r.text(NASTY));
    for m in messages {
        let users = allowed_users(&m);
        assert!(users.iter().all(|u| is_discord_user_id(u)));
        for text in markdown_texts(&m.body) {
            let mut text = text.to_string();
            // The sample people are mentioned by the templates (pinged only if allowed).
            for person in ["owner", "ann", "sec1", "sec2"] {
                let id = SAMPLES.user(person).text().replace("discord:", "");
                text = text.replace(&format!("<@{id}>"), "");
            }
            assert!(!has_unescaped(&text, '<'), "a mention could form in {text}");
        }
        let all = json_text(&m).to_lowercase();
        assert!(
            !all.contains("@everyone") && !all.contains("@here"),
            "{all}"
        );
        let name = m.thread_name.unwrap_or_default();
        assert!(name.chars().count() <= THREAD_NAME_CHARS && !name.contains('\n'));
    }
}

/// The texts Discord renders as markdown (and where mentions form): content, embed
/// titles, descriptions, field names and values.
fn markdown_texts(body: &Value) -> Vec<&str> {
    let mut out = vec![body["content"].as_str().unwrap()];
    for e in body["embeds"].as_array().unwrap() {
        out.extend(e["title"].as_str());
        out.extend(e["description"].as_str());
        for f in e["fields"].as_array().into_iter().flatten() {
            out.extend([f["name"].as_str().unwrap(), f["value"].as_str().unwrap()]);
        }
    }
    out
}

#[test]
fn only_discord_users_are_mentioned() {
    let mut card = SAMPLES.full_card();
    card.owner = Some(OwnerRef::parse("slack:U0OWNER"));
    let m = renderer().root(&card);
    assert!(json_text(&m).contains("slack:U0OWNER") && !json_text(&m).contains("<@"));
    assert!(allowed_users(&m).is_empty());
    card.owner = Some(OwnerRef::Text("payments-team@example.com".into()));
    assert!(allowed_users(&renderer().root(&card)).is_empty());
}

#[test]
fn long_text_is_cut_within_limits_with_a_pointer() {
    let mut card = SAMPLES.full_card();
    card.title = "t".repeat(400);
    card.description = "*x".repeat(3000);
    card.asset = "a".repeat(2000);
    card.location = "<".repeat(2000);
    let m = renderer().root(&card);
    let embed = &m.body["embeds"][0];
    let chars = |v: &Value| v.as_str().unwrap().chars().count();
    assert_eq!(chars(&embed["title"]), limits::EMBED_TITLE);
    assert!(chars(&embed["description"]) <= limits::EMBED_DESCRIPTION);
    let value = embed["fields"][4]["value"].as_str().unwrap();
    assert!(
        value.ends_with("(truncated — full text: `remedybot show F-12`)"),
        "{value}"
    );
    assert!(!value.trim_end_matches(|c| c != '…').ends_with("\\…"));
    assert!(
        embed["fields"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| chars(&f["value"]) <= limits::FIELD_VALUE)
    );
    assert!(m.thread_name.unwrap().chars().count() <= THREAD_NAME_CHARS);
    let mut note = SAMPLES.notes().remove(0);
    note.details = (0..5).map(|_| note.details[0].clone()).collect();
    for d in &mut note.details {
        d.value = "_".repeat(1000);
    }
    let content = renderer().note(&note, Samples::id()).body["content"].clone();
    let content = content.as_str().unwrap();
    assert!(content.chars().count() <= CONTENT);
    assert!(content.ends_with("`remedybot show F-12`)"), "{content}");
}

pub(super) fn embed_text_total(body: &Value) -> usize {
    let n = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    body["embeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            n(&e["title"])
                + n(&e["description"])
                + n(&e["footer"]["text"])
                + e["fields"].as_array().map_or(0, |fs| {
                    fs.iter().map(|f| n(&f["name"]) + n(&f["value"])).sum()
                })
        })
        .sum()
}

#[test]
fn the_sarif_corpus_renders_within_limits() {
    let r = renderer();
    for card in testing::sarif_cards() {
        let m = r.root(&card);
        assert!(embed_text_total(&m.body) <= EMBED_TOTAL);
        let all = json_text(&m);
        assert!(
            !all.replace(&format!("<@{OWNER}>"), "").contains("<@"),
            "{all}"
        );
    }
}

const CUSTOM_TEXT: &str = r#"{"content": "custom: {{text}}"}"#;

fn override_error(files: &[(&str, &str)]) -> String {
    testing::override_error::<DiscordTemplates>(files)
}

#[test]
fn an_override_directory_replaces_a_template() {
    let dir = override_dir(&[("text.json.hbs", CUSTOM_TEXT), (".keep", "")]);
    let r = DiscordRenderer::new(Some(dir.path())).unwrap();
    let m = r.text("a *b* @everyone");
    assert_eq!(m.body["content"], "custom: a \\*b\\* @\u{200B}everyone");
    assert_eq!(
        m.body["allowed_mentions"],
        json!({"parse": [], "users": []})
    );
    assert_eq!(
        r.root(&SAMPLES.full_card()),
        renderer().root(&SAMPLES.full_card())
    );
}

#[test]
fn a_broken_override_is_refused_naming_the_file() {
    let err = override_error(&[("finding.json.hbs", CUSTOM_TEXT)]);
    assert!(
        err.contains("finding.json.hbs") && err.contains("not a Discord template"),
        "{err}"
    );
    let err = override_error(&[("note.json.hbs", "{\n  \"content\": \"{{#if id}}\",\n}")]);
    assert!(
        err.contains("note.json.hbs") && err.contains("line "),
        "{err}"
    );
    let err = override_error(&[("text.json.hbs", r#"{"content": "{{{text}}}"}"#)]);
    assert!(err.contains("text.json.hbs (line 1, column 14)"), "{err}");
    let err = override_error(&[("finding_root.json.hbs", r#"{"content": "{{titel}}"}"#)]);
    assert!(
        err.contains("finding_root.json.hbs") && err.contains("titel"),
        "{err}"
    );
    let pings = r#"{"content": "{{text}}", "allowed_mentions": {"parse": ["everyone"]}}"#;
    let err = override_error(&[("text.json.hbs", pings)]);
    assert!(
        err.contains("text.json.hbs") && err.contains("allowed_mentions"),
        "{err}"
    );
    let bad_id = r#"{"content": "x", "components": [{"type": 2, "style": 1, "label": "x", "custom_id": "rb:{{approval.kind}}:{{id}}"}]}"#;
    let err = override_error(&[("approval.json.hbs", bad_id)]);
    assert!(
        err.contains("approval.json.hbs") && err.contains("custom_id"),
        "{err}"
    );
}
