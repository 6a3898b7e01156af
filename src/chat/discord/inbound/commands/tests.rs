//! Interactions → invocations, from payloads shaped like the corpus's captured ones.

use serde_json::json;

use super::*;
use crate::chat::discord::api::DiscordApi;
use crate::config::{DiscordSettings, Secret};
use crate::domain::{FindingId, Severity};

const CORPUS: &str = "../shared/corpus/discord/interactions/";

/// A captured interaction from the corpus with `data` replaced.
fn corpus_interaction(file: &str, pick: Option<&str>, data: Value) -> Value {
    let path = format!("{}/{CORPUS}{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut v: Value = serde_json::from_str(&text).unwrap();
    if let Some(key) = pick {
        v = v[key].clone();
    }
    v["data"] = data;
    v
}

/// `/remedy SUB` with `options`, as Discord sends it (docs' chat-input example).
fn remedy(sub: &str, options: Value) -> Value {
    corpus_interaction(
        "docs_application_command_chat_input.json",
        None,
        json!({
            "id": "771825006014889984",
            "name": "remedy",
            "type": 1,
            "options": [{ "type": 1, "name": sub, "options": options }],
        }),
    )
}

fn parsed(sub: &str, options: Value) -> Invocation {
    Invocation::parse(&remedy(sub, options)).unwrap()
}

#[test]
fn the_caller_server_roles_and_token_come_from_the_interaction() {
    let i = parsed("mine", json!([]));
    assert_eq!(i.caller.platform, Source::Discord);
    assert_eq!(i.caller.user, "53908232506183680");
    assert_eq!(i.caller.name, "Mason");
    assert_eq!(i.guild, Some(290926798626357999));
    assert_eq!(i.roles, vec![539082325061836999]);
    assert_eq!(i.token, "A_UNIQUE_TOKEN");
    assert_eq!(i.application_id, None);
    assert_eq!(i.command, RemedyCommand::Mine);

    // The real captured payload: a nickname wins, the application id is given.
    let real = corpus_interaction(
        "ssMMiles-discord-interactions_real_captured_interactions.json",
        Some("testCommandInteraction"),
        json!({"name": "remedy", "type": 1, "options": [{"type": 1, "name": "stats"}]}),
    );
    let i = Invocation::parse(&real).unwrap();
    assert_eq!(i.caller.name, "goblin giggler");
    assert_eq!(i.application_id, Some(820553335492837377));
    assert_eq!(i.roles.len(), 2);
    assert_eq!(i.command, RemedyCommand::Stats);
}

#[test]
fn options_become_the_same_commands_as_slacks_text() {
    let backlog = parsed(
        "backlog",
        json!([
            {"type": 3, "name": "severity", "value": "critical"},
            {"type": 6, "name": "owner", "value": "170531778354741248"}
        ]),
    );
    assert_eq!(
        backlog.command,
        RemedyCommand::Backlog {
            severity: Some(Severity::Critical),
            owner: Some("discord:170531778354741248".into()),
        }
    );
    assert_eq!(
        parsed(
            "show",
            json!([{"type": 3, "name": "id", "value": "f-1042"}])
        )
        .command,
        RemedyCommand::Show(FindingId::from_key(1042))
    );
    assert_eq!(
        parsed(
            "assign",
            json!([
                {"type": 3, "name": "id", "value": "F-7"},
                {"type": 6, "name": "user", "value": "99"}
            ])
        )
        .command,
        RemedyCommand::Assign {
            id: FindingId::from_key(7),
            user: "discord:99".into()
        }
    );
    assert!(matches!(
        parsed("show", json!([{"type": 3, "name": "id", "value": "nope"}])).command,
        RemedyCommand::Invalid { .. }
    ));
}

#[test]
fn an_unknown_or_missing_subcommand_shows_the_help() {
    assert_eq!(
        parsed("frobnicate", json!([])).command,
        RemedyCommand::Help {
            unknown: Some("frobnicate".into())
        }
    );
    let bare = corpus_interaction(
        "discord-interactions-js_application_command.json",
        None,
        json!({"id": "1", "name": "remedy"}),
    );
    // That payload has no member or user: it is not one Discord sends for /remedy.
    assert!(Invocation::parse(&bare).is_err());
    let mut no_sub = remedy("x", json!([]));
    no_sub["data"]["options"] = json!([]);
    assert_eq!(
        Invocation::parse(&no_sub).unwrap().command,
        RemedyCommand::Help { unknown: None }
    );
    let mut other = remedy("x", json!([]));
    other["data"]["name"] = json!("cardsearch");
    assert!(matches!(
        Invocation::parse(&other).unwrap().command,
        RemedyCommand::Help { unknown: Some(n) } if n == "cardsearch"
    ));
}

#[test]
fn a_direct_message_invocation_has_a_user_and_no_server() {
    let mut dm = remedy("mine", json!([]));
    let user = dm["member"]["user"].clone();
    dm.as_object_mut().unwrap().remove("member");
    dm.as_object_mut().unwrap().remove("guild_id");
    dm["user"] = user;
    let i = Invocation::parse(&dm).unwrap();
    assert_eq!(i.guild, None);
    assert!(i.roles.is_empty());
    let mut no_token = remedy("mine", json!([]));
    no_token["token"] = json!("");
    assert!(Invocation::parse(&no_token).is_err());
}

fn discord() -> Discord {
    let api = DiscordApi::new("http://127.0.0.1:9", &Secret::new("t".to_string()));
    Discord::new(api, &DiscordSettings::default())
}

#[tokio::test]
async fn only_answers_that_need_the_server_uncached_are_deferred() {
    let d = discord();
    assert!(answers_at_once(&d, &parsed("help", json!([]))));
    assert!(answers_at_once(&d, &parsed("stats", json!([]))));
    assert!(answers_at_once(&d, &parsed("nope", json!([]))));
    let mine = parsed("mine", json!([]));
    assert!(!answers_at_once(&d, &mine));
    let guild = visibility::Guild {
        id: mine.guild.unwrap(),
        ..Default::default()
    };
    d.guilds.put(Arc::new(guild), Instant::now());
    assert!(answers_at_once(&d, &mine));
}
