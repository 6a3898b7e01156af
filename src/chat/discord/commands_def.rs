//! The `/remedy` application command as Discord registers it: one chat-input command with a
//! subcommand per [`crate::chat::command::HELP`] entry, and the usage lines Discord users
//! see in the help. `remedybot discord register-commands` sends [`commands`]; the inbound
//! handler reads the options named here.

use serde_json::{Value, json};

use crate::chat::command::HELP;
use crate::domain::Severity;

/// The command's name.
pub const NAME: &str = "remedy";
/// What Discord shows under the name.
const DESCRIPTION: &str =
    "Remediation findings: backlog, your findings, overdue, one finding, stats, assign";

/// Option types (Discord's `ApplicationCommandOptionType`).
pub const SUB_COMMAND: u64 = 1;
pub const STRING: u64 = 3;
pub const USER: u64 = 6;

/// One option of a subcommand.
struct Opt {
    name: &'static str,
    kind: u64,
    description: &'static str,
    required: bool,
    /// How the help shows a value.
    example: &'static str,
}

const SEVERITY: Opt = Opt {
    name: "severity",
    kind: STRING,
    description: "Only findings of this severity",
    required: false,
    example: "high",
};
const OWNER: Opt = Opt {
    name: "owner",
    kind: USER,
    description: "Only findings this person owns",
    required: false,
    example: "@someone",
};
const ID: Opt = Opt {
    name: "id",
    kind: STRING,
    description: "The finding's id, e.g. F-1042",
    required: true,
    example: "F-1042",
};
const USER_OPT: Opt = Opt {
    name: "user",
    kind: USER,
    description: "The new owner",
    required: true,
    example: "@someone",
};

/// The options of subcommand `name`.
fn options(name: &str) -> &'static [Opt] {
    match name {
        "backlog" => &[SEVERITY, OWNER],
        "show" => &[ID],
        "assign" => &[ID, USER_OPT],
        _ => &[],
    }
}

/// The subcommand names, in help order.
pub fn subcommands() -> impl Iterator<Item = (&'static str, &'static str)> {
    HELP.iter().map(|(usage, what)| {
        let name = usage.split_whitespace().next().unwrap_or(usage);
        (name, *what)
    })
}

/// The body of a bulk overwrite (`PUT /applications/{app}/commands` or the guild's):
/// every command remedybot has, so re-registering replaces instead of adding.
pub fn commands() -> Value {
    json!([remedy()])
}

/// The `/remedy` command. Only in servers (`contexts: [0]`): visibility is computed from a
/// server's channel permissions, which a DM does not have.
pub fn remedy() -> Value {
    let subs: Vec<Value> = subcommands()
        .map(|(name, what)| {
            let opts: Vec<Value> = options(name).iter().map(option).collect();
            let mut sub = json!({
                "type": SUB_COMMAND,
                "name": name,
                "description": description(what),
            });
            if !opts.is_empty() {
                sub["options"] = json!(opts);
            }
            sub
        })
        .collect();
    json!({
        "name": NAME,
        "type": 1,
        "description": DESCRIPTION,
        "options": subs,
        "contexts": [0],
        "integration_types": [0],
        "dm_permission": false,
    })
}

fn option(o: &Opt) -> Value {
    let mut v = json!({
        "type": o.kind,
        "name": o.name,
        "description": o.description,
        "required": o.required,
    });
    if o.name == SEVERITY.name {
        let choices: Vec<Value> = Severity::ALL
            .iter()
            .map(|s| json!({ "name": s.as_str(), "value": s.as_str() }))
            .collect();
        v["choices"] = json!(choices);
    }
    v
}

/// A help text as a description: first letter up, at most 100 characters.
fn description(what: &str) -> String {
    let mut chars = what.chars();
    let text: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    crate::chat::answer::truncate(&text, 100)
}

/// How a Discord user types a subcommand whose text usage is `usage` (a
/// [`HELP`] entry): `/remedy backlog [severity:high] [owner:@someone]`.
pub fn usage(usage: &str) -> String {
    let name = usage.split_whitespace().next().unwrap_or(usage);
    let mut out = format!("/{NAME} {name}");
    for o in options(name) {
        let arg = format!("{}:{}", o.name, o.example);
        if o.required {
            out.push_str(&format!(" {arg}"));
        } else {
            out.push_str(&format!(" [{arg}]"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::command::RemedyCommand;

    fn name_ok(name: &str) -> bool {
        (1..=32).contains(&name.chars().count())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    }

    fn description_ok(d: &Value) -> bool {
        d.as_str()
            .is_some_and(|d| (1..=100).contains(&d.chars().count()))
    }

    #[test]
    fn names_and_descriptions_keep_to_discords_limits() {
        let cmd = remedy();
        assert!(name_ok(cmd["name"].as_str().unwrap()));
        assert!(description_ok(&cmd["description"]));
        let subs = cmd["options"].as_array().unwrap();
        assert!(subs.len() <= 25);
        for sub in subs {
            assert_eq!(sub["type"], SUB_COMMAND);
            assert!(name_ok(sub["name"].as_str().unwrap()), "{sub}");
            assert!(description_ok(&sub["description"]), "{sub}");
            for o in sub["options"].as_array().into_iter().flatten() {
                assert!(name_ok(o["name"].as_str().unwrap()), "{o}");
                assert!(description_ok(&o["description"]), "{o}");
                assert!([STRING, USER].contains(&o["type"].as_u64().unwrap()), "{o}");
            }
            // Required options come first, as Discord demands.
            let required: Vec<bool> = sub["options"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| o["required"].as_bool().unwrap())
                .collect();
            assert!(required.windows(2).all(|w| w[0] || !w[1]), "{sub}");
        }
    }

    #[test]
    fn every_subcommand_the_parser_knows_is_registered_and_vice_versa() {
        let cmd = remedy();
        let names: Vec<&str> = cmd["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "backlog", "mine", "overdue", "show", "stats", "assign", "help"
            ]
        );
        for name in names {
            let args: Vec<(&str, &str)> = options(name)
                .iter()
                .map(|o| {
                    let value = match o.kind {
                        USER => "discord:1",
                        _ if o.name == "severity" => "high",
                        _ => "F-1",
                    };
                    (o.name, value)
                })
                .collect();
            let parsed = RemedyCommand::from_arguments(name, &args);
            assert!(
                !matches!(
                    parsed,
                    RemedyCommand::Invalid { .. } | RemedyCommand::Help { unknown: Some(_) }
                ),
                "{name}: {parsed:?}"
            );
        }
    }

    #[test]
    fn severity_choices_are_the_domains_severities() {
        let cmd = remedy();
        let severity = &cmd["options"][0]["options"][0];
        assert_eq!(severity["name"], "severity");
        let values: Vec<&str> = severity["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["value"].as_str().unwrap())
            .collect();
        assert_eq!(values, ["critical", "high", "medium", "low", "info"]);
        for v in values {
            assert!(v.parse::<Severity>().is_ok());
        }
    }

    #[test]
    fn the_command_is_for_servers_only() {
        let cmd = remedy();
        assert_eq!(cmd["contexts"], json!([0]));
        assert_eq!(cmd["dm_permission"], false);
        assert_eq!(commands(), json!([cmd]));
    }

    #[test]
    fn usages_show_how_to_type_the_options() {
        assert_eq!(
            usage("backlog [SEVERITY] [@OWNER]"),
            "/remedy backlog [severity:high] [owner:@someone]"
        );
        assert_eq!(
            usage("assign F-1042 @OWNER"),
            "/remedy assign id:F-1042 user:@someone"
        );
        assert_eq!(usage("mine"), "/remedy mine");
    }
}
