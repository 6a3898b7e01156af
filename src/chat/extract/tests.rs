use std::path::Path;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::post::slack_plain;
use super::*;
use crate::config::Settings;

fn corpus(rel: &str) -> Value {
    let path = format!("{}/../shared/corpus/{rel}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn settings(toml: &str) -> Result<Settings, String> {
    Settings::from_toml(toml, Path::new("remedybot.toml")).map_err(|e| e.to_string())
}

fn listeners(toml: &str) -> Listeners {
    settings(toml).unwrap().listeners
}

fn err(toml: &str) -> String {
    settings(toml).unwrap_err()
}

fn slack_post(bot: Option<&str>, user: Option<&str>, text: &str, cards: Vec<Card>) -> ChatPost {
    ChatPost {
        platform: Platform::Slack,
        channel: "C0123ABC".into(),
        author: Author {
            user_id: user.map(Into::into),
            bot_id: bot.map(Into::into),
            name: "someone".into(),
        },
        text: text.into(),
        cards,
    }
}

const PATTERN_RULE: &str = r#"
[[listen]]
name = "alertmanager"
platform = "slack"
channels = ["C0123ABC"]
from_bots = ["B0456DEF"]
pattern = '^\[(?P<severity>CRITICAL|WARNING|PAGE)\] (?P<title>.+) on (?P<asset>\S+)'
severity_map = { PAGE = "critical" }
"#;

// --- platform payloads ------------------------------------------------------------------

#[test]
fn a_slack_bot_message_names_its_bot() {
    let post = ChatPost::from_slack_event(&corpus(
        "slack/events/bolt-python_message_bot_message_subtype.json",
    ))
    .unwrap();
    assert_eq!(post.platform, Platform::Slack);
    assert_eq!(post.channel, "C111");
    assert_eq!(post.author.bot_id.as_deref(), Some("B888"));
    assert_eq!(post.author.user_id, None);
    assert_eq!(post.author.name, "classic-bot");
    assert_eq!(post.text, "Hi there! Thanks for sharing the info!");
    assert!(post.cards.is_empty());
}

#[test]
fn a_slack_user_message_names_its_user_and_a_bot_profile_names_the_bot() {
    let event = corpus("slack/events/bolt-python_message.json");
    let post = ChatPost::from_slack_event(&event).unwrap();
    assert_eq!(post.author.user_id.as_deref(), Some("W111"));
    assert_eq!(post.author.bot_id, None);
    assert_eq!(post.text, "Hello World!");
    // The bare event works as well as the envelope.
    assert_eq!(ChatPost::from_slack_event(&event["event"]), Some(post));

    let shared = corpus("slack/events/java-slack-sdk_message_shared_channel.json");
    let post = ChatPost::from_slack_event(&shared).unwrap();
    assert_eq!(post.author.bot_id.as_deref(), Some("B123"));
    assert_eq!(post.author.user_id.as_deref(), Some("U234"));
    assert_eq!(post.author.name, "events-api-oauth-app");
}

#[test]
fn slack_blocks_give_the_text_when_text_is_empty() {
    let block = corpus("slack/blocks/slack-morphism_slack_rich_text_block.json");
    let event = json!({"type": "message", "channel": "C1", "bot_id": "B1", "text": "",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Disk full"}}, block]});
    let post = ChatPost::from_slack_event(&event).unwrap();
    assert!(post.text.starts_with("Disk full\n"), "{}", post.text);
    assert!(
        post.text
            .contains("Hello @U123ABC456! Check out this link:wave:#C123ABC456@here"),
        "{}",
        post.text
    );
    assert!(post.text.contains("Item one\nItem two"), "{}", post.text);
    assert!(post.text.contains("A wise quote"), "{}", post.text);
}

#[test]
fn slack_edits_deletions_and_other_events_are_not_posts() {
    for file in [
        "slack/events/slack-morphism_message_changed_by_bot.json",
        "slack/events/bolt-python_url_verification.json",
        "slack/events/java-slack-sdk_superset_ReactionAddedPayload.json",
    ] {
        assert_eq!(ChatPost::from_slack_event(&corpus(file)), None, "{file}");
    }
}

#[test]
fn slack_attachments_become_cards_in_plain_text() {
    let event = json!({"type": "message", "subtype": "bot_message", "channel": "C1", "bot_id": "B1",
        "attachments": [{"title": "[FIRING:1] Disk &amp; inode", "color": "danger",
            "text": "see <https://grafana.example/d/1|the dashboard> &lt;now&gt;",
            "fields": [{"title": "Severity", "value": "critical", "short": true}]},
            {"fallback": "only a fallback"}]});
    let post = ChatPost::from_slack_event(&event).unwrap();
    assert_eq!(post.cards.len(), 2);
    let c = &post.cards[0];
    assert_eq!(c.title, "[FIRING:1] Disk & inode");
    assert_eq!(c.text, "see the dashboard <now>");
    assert_eq!(c.fields, vec![("Severity".into(), "critical".into())]);
    assert_eq!(c.color.as_deref(), Some("danger"));
    assert_eq!(post.cards[1].text, "only a fallback");
}

#[test]
fn slack_escapes_and_links_become_plain_text() {
    assert_eq!(slack_plain("a &lt;b&gt; &amp;amp;"), "a <b> &amp;");
    assert_eq!(
        slack_plain("<@U1> <#C1|ops> <!here> <mailto:x@y|x@y> <https://a.b>"),
        "@U1 #ops @here x@y https://a.b"
    );
    assert_eq!(
        slack_plain("<!subteam^S1|@sec> unclosed <x"),
        "@sec unclosed <x"
    );
}

#[test]
fn a_discord_message_names_a_person_or_a_webhook() {
    let msg = corpus("discord/rest_responses/docs_message_object.json");
    let post = ChatPost::from_discord_message(&msg).unwrap();
    assert_eq!(post.platform, Platform::Discord);
    assert_eq!(post.channel, "290926798999357250");
    assert_eq!(post.author.user_id.as_deref(), Some("53908099506183680"));
    assert_eq!(post.author.bot_id, None);
    assert_eq!(post.text, "Supa Hot");

    // The same message as a webhook posts it, with the embeds of the docs' create request.
    let mut msg = msg;
    msg["webhook_id"] = json!("223704706495545344");
    msg["author"]["bot"] = json!(true);
    msg["embeds"] =
        corpus("discord/rest_requests/docs_create_message_request.json")["embeds"].clone();
    msg["embeds"][0]["color"] = json!(0xE74C3C);
    msg["embeds"][0]["fields"] = json!([{"name": "Severity", "value": "high", "inline": true}]);
    let post = ChatPost::from_discord_message(&msg).unwrap();
    assert_eq!(post.author.bot_id.as_deref(), Some("223704706495545344"));
    assert_eq!(post.author.user_id, None);
    let c = &post.cards[0];
    assert_eq!(
        (c.title.as_str(), c.text.as_str()),
        ("Hello, Embed!", "This is an embedded message.")
    );
    assert_eq!(c.fields, vec![("Severity".into(), "high".into())]);
    assert_eq!(c.color.as_deref(), Some("#e74c3c"));

    assert_eq!(
        ChatPost::from_discord_message(&json!({"content": "x"})),
        None
    );
}

// --- extraction -------------------------------------------------------------------------

#[test]
fn a_matching_alert_becomes_a_finding_with_defaults() {
    let l = listeners(PATTERN_RULE);
    let text = "[CRITICAL] Disk full on db-1 (95%)";
    let got = l
        .extract(&slack_post(Some("B0456DEF"), None, text, vec![]))
        .unwrap();
    assert_eq!(got.rule, "alertmanager");
    let f = got.finding;
    assert_eq!(f.title, "Disk full");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.asset, "db-1");
    assert_eq!(f.source, "alertmanager");
    assert_eq!(f.rule_id, "alertmanager");
    assert_eq!(f.location, "");
    assert_eq!(f.description, text);
    assert_eq!(f.owner, None);
    assert_eq!(
        f.fingerprint,
        Fingerprint::derive("alertmanager", "alertmanager", "db-1", "")
    );
}

#[test]
fn the_same_alert_posted_again_has_the_same_fingerprint() {
    let l = listeners(PATTERN_RULE);
    let one = l.extract(&slack_post(
        Some("B0456DEF"),
        None,
        "[WARNING] Disk full on db-1 (80%)",
        vec![],
    ));
    let two = l.extract(&slack_post(
        Some("B0456DEF"),
        None,
        "[CRITICAL] Disk full on db-1 (99%)",
        vec![],
    ));
    let other = l.extract(&slack_post(
        Some("B0456DEF"),
        None,
        "[WARNING] Disk full on db-2",
        vec![],
    ));
    let (one, two, other) = (
        one.unwrap().finding,
        two.unwrap().finding,
        other.unwrap().finding,
    );
    assert_eq!(one.fingerprint, two.fingerprint);
    assert_eq!(
        (one.severity, two.severity),
        (Severity::Medium, Severity::Critical)
    );
    assert_ne!(one.fingerprint, other.fingerprint);
}

#[test]
fn people_other_channels_and_other_platforms_are_ignored() {
    let l = listeners(PATTERN_RULE);
    let text = "[CRITICAL] Disk full on db-1";
    assert!(
        l.extract(&slack_post(None, Some("U999"), text, vec![]))
            .is_none()
    );
    assert!(
        l.extract(&slack_post(Some("B0000000"), None, text, vec![]))
            .is_none()
    );
    let mut post = slack_post(Some("B0456DEF"), None, text, vec![]);
    post.channel = "C9999".into();
    assert!(l.extract(&post).is_none());
    let mut post = slack_post(Some("B0456DEF"), None, text, vec![]);
    post.platform = Platform::Discord;
    assert!(l.extract(&post).is_none());
    assert!(
        l.extract(&slack_post(
            Some("B0456DEF"),
            None,
            "deploy finished",
            vec![]
        ))
        .is_none()
    );
}

#[test]
fn the_first_rule_that_finds_a_title_wins_and_cards_are_tried_after_the_text() {
    let l = listeners(&format!(
        "{PATTERN_RULE}\n[[listen]]\nname = \"humans\"\nchannels = [\"C0123ABC\"]\nfrom_users = [\"U1\"]\nfrom_bots = [\"B0456DEF\"]\npattern = '(?i)^alert: (?P<title>.+)'\n"
    ));
    let card = Card {
        title: "[PAGE] Cert expires on www".into(),
        text: "in 3 days".into(),
        ..Card::default()
    };
    let got = l
        .extract(&slack_post(Some("B0456DEF"), None, "heads up", vec![card]))
        .unwrap();
    assert_eq!(
        (got.rule.as_str(), got.finding.title.as_str()),
        ("alertmanager", "Cert expires")
    );
    assert_eq!(
        got.finding.severity,
        Severity::Critical,
        "severity_map applies"
    );
    assert_eq!(
        got.finding.description,
        "heads up\n[PAGE] Cert expires on www\nin 3 days"
    );
    let got = l
        .extract(&slack_post(None, Some("U1"), "ALERT: api is slow", vec![]))
        .unwrap();
    assert_eq!(
        (got.rule.as_str(), got.finding.title.as_str()),
        ("humans", "api is slow")
    );
    assert_eq!(got.finding.severity, Severity::Medium);
}

const FIELDS_RULE: &str = r#"
[[listen]]
name = "falco"
platform = "discord"
channels = ["1100000000000000001"]
from_bots = ["1200000000000000002"]
source = "falco"
severity = "high"
[listen.fields]
title = "title"
severity = "field:Priority"
asset = "field:hostname"
rule = "field:Rule"
fingerprint = "field:Id"
"#;

fn discord_post(fields: &[(&str, &str)]) -> ChatPost {
    ChatPost {
        platform: Platform::Discord,
        channel: "1100000000000000001".into(),
        author: Author {
            user_id: None,
            bot_id: Some("1200000000000000002".into()),
            name: "falco".into(),
        },
        text: String::new(),
        cards: vec![
            Card::default(),
            Card {
                title: "Terminal shell\nin container".into(),
                text: "A shell was spawned".into(),
                fields: fields
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
                color: None,
            },
        ],
    }
}

#[test]
fn card_fields_are_read_by_name_case_insensitively() {
    let l = listeners(FIELDS_RULE);
    let post = discord_post(&[
        ("PRIORITY", "Critical"),
        ("Hostname", "web-3"),
        ("Rule", "shell_in_container"),
    ]);
    let f = l.extract(&post).unwrap().finding;
    assert_eq!(f.title, "Terminal shell in container");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(
        (f.asset.as_str(), f.rule_id.as_str(), f.source.as_str()),
        ("web-3", "shell_in_container", "falco")
    );
    assert_eq!(
        f.fingerprint,
        Fingerprint::derive("falco", "shell_in_container", "web-3", "")
    );
    assert!(
        f.description.contains("PRIORITY: Critical"),
        "{}",
        f.description
    );

    // An unknown severity word falls back to the rule's severity; a given id is the fingerprint.
    let f = l
        .extract(&discord_post(&[
            ("Priority", "Emergency!"),
            ("Id", " evt-42 "),
        ]))
        .unwrap()
        .finding;
    assert_eq!(f.severity, Severity::High);
    assert_eq!(
        f.asset, "1100000000000000001",
        "the channel is the default asset"
    );
    assert_eq!(f.fingerprint.as_str(), "evt-42");
    let long = "x".repeat(300);
    let f = l.extract(&discord_post(&[("Id", &long)])).unwrap().finding;
    assert_eq!(f.fingerprint, Fingerprint::derive("falco", "", &long, ""));
}

#[test]
fn a_match_without_a_title_is_no_match() {
    let l = listeners(FIELDS_RULE);
    let mut post = discord_post(&[]);
    post.cards[1].title = "   ".into();
    assert!(l.extract(&post).is_none());
    let l = listeners(
        "[[listen]]\nname = \"x\"\nchannels = [\"C0123ABC\"]\nfrom_bots = [\"B1\"]\npattern = 'alert(: (?P<title>.*))?'\n",
    );
    assert!(
        l.extract(&slack_post(Some("B1"), None, "alert", vec![]))
            .is_none()
    );
    assert!(
        l.extract(&slack_post(Some("B1"), None, "alert:  ", vec![]))
            .is_none()
    );
    assert!(
        l.extract(&slack_post(Some("B1"), None, "alert: x", vec![]))
            .is_some()
    );
}

#[test]
fn long_titles_are_cut() {
    let l = listeners(PATTERN_RULE);
    let text = format!("[WARNING] {} on db-1", "é".repeat(2_000));
    let f = l
        .extract(&slack_post(Some("B0456DEF"), None, &text, vec![]))
        .unwrap()
        .finding;
    assert_eq!(f.title.chars().count(), MAX_TITLE);
    assert!(f.title.ends_with('…'));
}

fn arb_card() -> impl Strategy<Value = Card> {
    (
        ".{0,80}",
        ".{0,200}",
        proptest::collection::vec((".{0,20}", ".{0,700}"), 0..4),
    )
        .prop_map(|(title, text, fields)| Card {
            title,
            text,
            fields,
            color: None,
        })
}

proptest! {
    #[test]
    fn arbitrary_posts_never_panic_and_titles_stay_short(
        text in ".{0,1200}",
        cards in proptest::collection::vec(arb_card(), 0..4),
        bot in prop::bool::ANY,
    ) {
        let l = listeners(r#"
[[listen]]
name = "any"
channels = ["C0123ABC"]
from_bots = ["B1"]
pattern = '(?s)(?P<severity>\w+)?(?P<title>.+)(?P<fingerprint>.*)'
[[listen]]
name = "cards"
channels = ["C0123ABC"]
from_users = ["U1"]
[listen.fields]
title = "text"
severity = "field:a"
owner = "field:b"
fingerprint = "title"
"#);
        let post = if bot {
            slack_post(Some("B1"), None, &text, cards)
        } else {
            slack_post(None, Some("U1"), &text, cards)
        };
        if let Some(got) = l.extract(&post) {
            let f = got.finding;
            prop_assert!(!f.title.is_empty());
            prop_assert!(f.title.chars().count() <= MAX_TITLE);
            prop_assert!(f.description.chars().count() <= MAX_DESCRIPTION);
            prop_assert!(f.fingerprint.as_str().chars().count() <= 256);
        }
    }

    #[test]
    fn arbitrary_slack_text_never_panics(text in ".{0,300}", block in ".{0,100}") {
        let event = json!({"type": "message", "channel": "C1", "user": "U1", "text": text,
            "attachments": [{"title": block, "fields": [{"title": text}]}]});
        let _ = ChatPost::from_slack_event(&event);
        let _ = slack_plain(&text);
    }
}

// --- configuration ----------------------------------------------------------------------

#[test]
fn listen_rules_are_read_from_the_file() {
    let s = settings(&format!("{PATTERN_RULE}{FIELDS_RULE}")).unwrap();
    let names: Vec<&str> = s.listeners.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["alertmanager", "falco"]);
    assert!(settings("").unwrap().listeners.is_empty());
}

#[test]
fn listen_errors_name_the_key() {
    let base = "[[listen]]\nname = \"am\"\nchannels = [\"C1\"]\nfrom_bots = [\"B1\"]\n";
    let cases: &[(&str, &str)] = &[
        (
            "pattern = '(?P<title>[a-'",
            "`listen[0].pattern`: regex parse error",
        ),
        (
            "pattern = '(?P<name>.+)'",
            "`listen[0].pattern`: unknown group `name`",
        ),
        (
            "pattern = '(?P<severity>\\w+)'",
            "`listen[0].pattern`: has no `title` group",
        ),
        ("", "`listen[0]`: needs `pattern`"),
        (
            "pattern = '(?P<title>.+)'\n[listen.fields]\ntitle = \"title\"",
            "`listen[0]`: has both",
        ),
        (
            "[listen.fields]\ntitle = \"field:\"",
            "`listen[0].fields.title`: `field:` is not a field target",
        ),
        (
            "[listen.fields]\ntitle = \"title\"\nasset = \"host\"",
            "`listen[0].fields.asset`: `host` is not a field target",
        ),
        (
            "[listen.fields]\nasset = \"title\"",
            "`listen[0].fields.title`: is required",
        ),
        (
            "pattern = '(?P<title>.+)'\nseverity_map = { WARNING = \"urgent\" }",
            "`listen[0].severity_map.WARNING`: unknown severity `urgent`",
        ),
        (
            "pattern = '(?P<title>.+)'\nsource = \" \"",
            "`listen[0].source`: must not be empty",
        ),
    ];
    for (extra, want) in cases {
        let e = err(&format!("{base}{extra}\n"));
        assert!(e.contains(want), "{extra}: {e}");
    }
    let rule = |name: &str, channels: &str, from: &str| {
        format!(
            "[[listen]]\nname = \"{name}\"\nchannels = {channels}\n{from}\npattern = '(?P<title>.+)'\n"
        )
    };
    let e = err(&rule("am", "[]", "from_bots = [\"B1\"]"));
    assert!(
        e.contains("`listen[0].channels`: must list at least one"),
        "{e}"
    );
    let e = err(&rule("am", "[\"#alerts\"]", "from_bots = [\"B1\"]"));
    assert!(
        e.contains("`listen[0].channels[0]`: `#alerts` is not a channel id"),
        "{e}"
    );
    let e = err(&rule("am", "[\"C1\"]", ""));
    assert!(e.contains("`listen[0].from_bots`: list the bots"), "{e}");
    let two = format!(
        "{}{}",
        rule("am", "[\"C1\"]", "from_bots = [\"B1\"]"),
        rule("am", "[\"C2\"]", "from_users = [\"U1\"]")
    );
    let e = err(&two);
    assert!(
        e.contains("`listen[1].name`: `am` is already the name of listen[0]"),
        "{e}"
    );
    let e = err(&rule("", "[\"C1\"]", "from_bots = [\"B1\"]"));
    assert!(e.contains("`listen[0].name`"), "{e}");
    let e = err(
        "[[listen]]\nname = \"am\"\nchannels = [\"C1\"]\nfrom_bots = [\"B1\"]\npattern = '(?P<title>.+)'\nplatform = \"teams\"\n",
    );
    assert!(e.contains("unknown variant `teams`"), "{e}");
    let e = err("[[listen]]\nname = \"am\"\nchannel = [\"C1\"]\n");
    assert!(e.contains("unknown field `channel`"), "{e}");
}

/// The examples in docs/configuration.md's "Listening for alerts in channels" load, and do
/// what the text says they do.
#[test]
fn the_documented_examples_load() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .unwrap();
    let section = doc
        .split("## Listening for alerts in channels")
        .nth(1)
        .expect("the section exists");
    let section = section.split("\n## ").next().unwrap();
    let blocks: Vec<&str> = section
        .split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 2, "{}", blocks.len());
    for b in &blocks {
        settings(b).unwrap_or_else(|e| panic!("{e}\n{b}"));
    }
    let all = listeners(&blocks.concat());
    let alert = json!({"type": "message", "subtype": "bot_message", "channel": "C0123ABC", "bot_id": "B0456DEF",
        "username": "Alertmanager", "text": "",
        "attachments": [{"title": "[FIRING:1] InstanceDown on node-1:9100", "color": "danger",
            "text": "critical: node-1:9100 has been down for more than 5 minutes",
            "fallback": "[FIRING:1] InstanceDown on node-1:9100"}]});
    let got = all
        .extract(&ChatPost::from_slack_event(&alert).unwrap())
        .unwrap();
    let f = &got.finding;
    assert_eq!(got.rule, "alertmanager");
    assert_eq!(f.title, "node-1:9100 has been down for more than 5 minutes");
    assert_eq!(
        (f.rule_id.as_str(), f.asset.as_str(), f.severity),
        ("InstanceDown", "node-1:9100", Severity::Critical)
    );
    let mut resolved = alert.clone();
    resolved["attachments"][0]["title"] = json!("[RESOLVED] InstanceDown on node-1:9100");
    assert!(
        all.extract(&ChatPost::from_slack_event(&resolved).unwrap())
            .is_none()
    );

    let msg = json!({"id": "1", "channel_id": "1100000000000000001", "webhook_id": "1200000000000000002",
        "author": {"id": "1200000000000000002", "username": "Falco", "bot": true}, "content": "",
        "embeds": [{"title": "Terminal shell in container", "description": "A shell was spawned in web-3",
            "color": 15158332, "fields": [{"name": "Priority", "value": "Critical"},
            {"name": "Rule", "value": "Terminal shell in container"}, {"name": "Hostname", "value": "web-3"}]}]});
    let got = all
        .extract(&ChatPost::from_discord_message(&msg).unwrap())
        .unwrap();
    assert_eq!(got.rule, "falco");
    assert_eq!(
        (got.finding.asset.as_str(), got.finding.severity),
        ("web-3", Severity::Critical)
    );
}
