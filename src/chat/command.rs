//! The `/remedy` command, platform neutral: the text after the command name → a
//! [`RemedyCommand`]. Slack's slash command and Discord's text command both end here.
//!
//! Parsing never fails: an unknown subcommand becomes [`RemedyCommand::Help`] and bad
//! arguments become [`RemedyCommand::Invalid`], which says what was wrong and shows the
//! usage. This module does not look anything up (no store, no user directory) and does
//! not render replies.

use crate::domain::{FindingId, Severity, Source};

const USAGE_BACKLOG: &str = "backlog [SEVERITY] [@OWNER]";
const USAGE_MINE: &str = "mine";
const USAGE_OVERDUE: &str = "overdue";
const USAGE_SHOW: &str = "show F-1042";
const USAGE_STATS: &str = "stats";
const USAGE_ASSIGN: &str = "assign F-1042 @OWNER";
const USAGE_HELP: &str = "help";

/// Every subcommand: usage (without the `/remedy` prefix, which differs per platform) and
/// a one-line explanation. Slack and Discord both render their help from this.
pub const HELP: &[(&str, &str)] = &[
    (
        USAGE_BACKLOG,
        "open findings, worst first; optionally only one severity and/or one owner",
    ),
    (USAGE_MINE, "open findings you own"),
    (
        USAGE_OVERDUE,
        "open findings past their triage or remediation deadline",
    ),
    (
        USAGE_SHOW,
        "one finding: its stage, deadlines and decision trail",
    ),
    (
        USAGE_STATS,
        "backlog, overdue and time-to-remediate figures",
    ),
    (
        USAGE_ASSIGN,
        "give a finding a new owner (a person or a team)",
    ),
    (USAGE_HELP, "this list"),
];

/// What someone asked `/remedy` for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemedyCommand {
    /// Open findings, optionally filtered. `owner` is `platform:id` for a mentioned person,
    /// otherwise the name as typed without its `@` (a team name).
    Backlog {
        severity: Option<Severity>,
        owner: Option<String>,
    },
    Mine,
    Overdue,
    Show(FindingId),
    Stats,
    /// Give `id` to `user` (`platform:id` for a mentioned person, else a team name).
    Assign {
        id: FindingId,
        user: String,
    },
    /// Show the help; `unknown` is the subcommand we did not recognise, if any.
    Help {
        unknown: Option<String>,
    },
    /// A known subcommand with arguments that do not fit: `problem` says why, for the user.
    Invalid {
        usage: &'static str,
        problem: String,
    },
}

impl RemedyCommand {
    /// Parse the command text (everything after `/remedy`). `platform` decides which mention
    /// syntax is understood: Slack's `<@U123|name>`/`<@U123>` or Discord's
    /// `<@123>`/`<@!123>`. Never panics and never fails.
    pub fn parse(text: &str, platform: Source) -> RemedyCommand {
        let mut words = text.split_whitespace();
        let Some(first) = words.next() else {
            return RemedyCommand::Help { unknown: None };
        };
        let args: Vec<&str> = words.collect();
        match first.to_lowercase().as_str() {
            "backlog" => backlog(&args, platform),
            "mine" => no_args(&args, USAGE_MINE, RemedyCommand::Mine),
            "overdue" => no_args(&args, USAGE_OVERDUE, RemedyCommand::Overdue),
            "stats" => no_args(&args, USAGE_STATS, RemedyCommand::Stats),
            "show" => show(&args),
            "assign" => assign(&args, platform),
            "help" | "-h" | "--help" | "?" => RemedyCommand::Help { unknown: None },
            _ => RemedyCommand::Help {
                unknown: Some(first.to_string()),
            },
        }
    }
}

impl RemedyCommand {
    /// A subcommand given as named arguments rather than text (a Discord application
    /// command's options): `severity` and `id` as typed, `owner` and `user` already as
    /// `platform:id` references. The same commands and the same problems as [`parse`]
    /// (an unknown or missing subcommand shows the help; an unknown argument is invalid).
    ///
    /// [`parse`]: RemedyCommand::parse
    pub fn from_arguments(subcommand: &str, args: &[(&str, &str)]) -> RemedyCommand {
        let usage = match subcommand.to_lowercase().as_str() {
            "backlog" => USAGE_BACKLOG,
            "mine" => USAGE_MINE,
            "overdue" => USAGE_OVERDUE,
            "show" => USAGE_SHOW,
            "stats" => USAGE_STATS,
            "assign" => USAGE_ASSIGN,
            "help" => USAGE_HELP,
            "" => return RemedyCommand::Help { unknown: None },
            _ => {
                return RemedyCommand::Help {
                    unknown: Some(subcommand.to_string()),
                };
            }
        };
        let known: &[&str] = match usage {
            USAGE_BACKLOG => &["severity", "owner"],
            USAGE_SHOW => &["id"],
            USAGE_ASSIGN => &["id", "user"],
            _ => &[],
        };
        if let Some((name, _)) = args.iter().find(|(n, _)| !known.contains(n)) {
            return invalid(usage, format!("`{usage}` has no option `{name}`"));
        }
        let arg = |name: &str| args.iter().find(|(n, _)| *n == name).map(|(_, v)| v.trim());
        match usage {
            USAGE_BACKLOG => {
                let severity = match arg("severity").map(str::parse::<Severity>) {
                    None => None,
                    Some(Ok(s)) => Some(s),
                    Some(Err(e)) => return invalid(usage, e.to_string()),
                };
                let owner = arg("owner").map(str::to_string);
                RemedyCommand::Backlog { severity, owner }
            }
            USAGE_SHOW => match finding_id(arg("id").as_ref(), usage) {
                Ok(id) => RemedyCommand::Show(id),
                Err(invalid) => invalid,
            },
            USAGE_ASSIGN => {
                let id = match finding_id(arg("id").as_ref(), usage) {
                    Ok(id) => id,
                    Err(invalid) => return invalid,
                };
                match arg("user").filter(|u| !u.is_empty()) {
                    Some(user) => RemedyCommand::Assign {
                        id,
                        user: user.to_string(),
                    },
                    None => invalid(usage, "to whom? mention a person or name a team"),
                }
            }
            USAGE_MINE => RemedyCommand::Mine,
            USAGE_OVERDUE => RemedyCommand::Overdue,
            USAGE_STATS => RemedyCommand::Stats,
            _ => RemedyCommand::Help { unknown: None },
        }
    }
}

fn invalid(usage: &'static str, problem: impl Into<String>) -> RemedyCommand {
    RemedyCommand::Invalid {
        usage,
        problem: problem.into(),
    }
}

fn no_args(args: &[&str], usage: &'static str, command: RemedyCommand) -> RemedyCommand {
    match args.first() {
        None => command,
        Some(extra) => invalid(
            usage,
            format!("`{usage}` takes no arguments (got `{extra}`)"),
        ),
    }
}

fn backlog(args: &[&str], platform: Source) -> RemedyCommand {
    let mut severity = None;
    let mut owner = None;
    for arg in args {
        if let Ok(s) = arg.parse::<Severity>() {
            if severity.replace(s).is_some() {
                return invalid(USAGE_BACKLOG, "give at most one severity");
            }
            continue;
        }
        match owner_ref(arg, platform) {
            Ok(Some(o)) => {
                if owner.replace(o).is_some() {
                    return invalid(USAGE_BACKLOG, "give at most one owner");
                }
            }
            Ok(None) => {
                return invalid(
                    USAGE_BACKLOG,
                    format!(
                        "`{arg}` is neither a severity (critical, high, medium, low, info) \
                         nor an @owner"
                    ),
                );
            }
            Err(problem) => return invalid(USAGE_BACKLOG, problem),
        }
    }
    RemedyCommand::Backlog { severity, owner }
}

fn finding_id(arg: Option<&&str>, usage: &'static str) -> Result<FindingId, RemedyCommand> {
    let Some(arg) = arg else {
        return Err(invalid(usage, "which finding? give its id, e.g. F-1042"));
    };
    arg.parse::<FindingId>().map_err(|_| {
        invalid(
            usage,
            format!("`{arg}` is not a finding id; ids look like F-1042"),
        )
    })
}

fn show(args: &[&str]) -> RemedyCommand {
    let id = match finding_id(args.first(), USAGE_SHOW) {
        Ok(id) => id,
        Err(invalid) => return invalid,
    };
    match args.get(1) {
        None => RemedyCommand::Show(id),
        Some(extra) => invalid(USAGE_SHOW, format!("unexpected `{extra}` after the id")),
    }
}

fn assign(args: &[&str], platform: Source) -> RemedyCommand {
    let id = match finding_id(args.first(), USAGE_ASSIGN) {
        Ok(id) => id,
        Err(invalid) => return invalid,
    };
    let Some(who) = args.get(1) else {
        return invalid(USAGE_ASSIGN, "to whom? mention a person or name a team");
    };
    if let Some(extra) = args.get(2) {
        return invalid(
            USAGE_ASSIGN,
            format!("unexpected `{extra}` after the owner"),
        );
    }
    match owner_ref(who, platform) {
        Ok(Some(user)) => RemedyCommand::Assign { id, user },
        Ok(None) => invalid(
            USAGE_ASSIGN,
            format!("`{who}` is not an owner; mention a person or write @team"),
        ),
        Err(problem) => invalid(USAGE_ASSIGN, problem),
    }
}

/// An owner argument: a platform mention → `platform:id`; `@name` → `name` (a team or a
/// name typed without mention syntax); an explicit `platform:id` as is. `Ok(None)` if the
/// word is not meant as an owner at all; `Err` if it is a mention we cannot use.
fn owner_ref(arg: &str, platform: Source) -> Result<Option<String>, String> {
    if let Some(inner) = arg.strip_prefix('<').and_then(|a| a.strip_suffix('>')) {
        return mention(inner, platform).map(Some).ok_or_else(|| {
            format!("`{arg}` is not a person's mention; mention a person or write @team")
        });
    }
    if let Some(name) = arg.strip_prefix('@') {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
        return if valid {
            Ok(Some(name.to_string()))
        } else {
            Err(format!("`{arg}` is not a valid owner name"))
        };
    }
    match arg.split_once(':') {
        Some((p, id))
            if Source::parse(p).is_some_and(|s| matches!(s, Source::Slack | Source::Discord))
                && is_id(id) =>
        {
            Ok(Some(arg.to_string()))
        }
        _ => Ok(None),
    }
}

/// The inside of `<…>`: a user mention in `platform`'s syntax → `platform:id`.
fn mention(inner: &str, platform: Source) -> Option<String> {
    match platform {
        Source::Slack => {
            // `@U123|name` (escaped, with the name) or `@U123`.
            let rest = inner.strip_prefix('@')?;
            let id = rest.split_once('|').map_or(rest, |(id, _)| id);
            let user_id = id.starts_with(['U', 'W']) && is_id(id);
            user_id.then(|| format!("slack:{id}"))
        }
        Source::Discord => {
            let rest = inner.strip_prefix('@')?;
            let id = rest.strip_prefix('!').unwrap_or(rest);
            (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
                .then(|| format!("discord:{id}"))
        }
        _ => None,
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn slack(text: &str) -> RemedyCommand {
        RemedyCommand::parse(text, Source::Slack)
    }

    fn discord(text: &str) -> RemedyCommand {
        RemedyCommand::parse(text, Source::Discord)
    }

    fn id(n: i64) -> FindingId {
        FindingId::from_key(n)
    }

    fn backlog(severity: Option<Severity>, owner: Option<&str>) -> RemedyCommand {
        RemedyCommand::Backlog {
            severity,
            owner: owner.map(str::to_string),
        }
    }

    fn problem(c: RemedyCommand) -> (&'static str, String) {
        match c {
            RemedyCommand::Invalid { usage, problem } => (usage, problem),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn empty_text_and_help_show_the_help() {
        assert_eq!(slack(""), RemedyCommand::Help { unknown: None });
        assert_eq!(slack("   \t "), RemedyCommand::Help { unknown: None });
        assert_eq!(slack("help"), RemedyCommand::Help { unknown: None });
        assert_eq!(slack("HELP me"), RemedyCommand::Help { unknown: None });
    }

    #[test]
    fn an_unknown_subcommand_shows_the_help_naming_it() {
        assert_eq!(
            slack("frobnicate F-1"),
            RemedyCommand::Help {
                unknown: Some("frobnicate".into())
            }
        );
    }

    #[test]
    fn subcommands_without_arguments() {
        assert_eq!(slack("mine"), RemedyCommand::Mine);
        assert_eq!(slack(" Overdue "), RemedyCommand::Overdue);
        assert_eq!(slack("STATS"), RemedyCommand::Stats);
        let (usage, p) = problem(slack("mine please"));
        assert_eq!(usage, "mine");
        assert!(p.contains("`please`"), "{p}");
    }

    #[test]
    fn backlog_takes_a_severity_and_an_owner_in_any_order() {
        assert_eq!(slack("backlog"), backlog(None, None));
        assert_eq!(slack("backlog high"), backlog(Some(Severity::High), None));
        assert_eq!(
            slack("backlog CRITICAL"),
            backlog(Some(Severity::Critical), None)
        );
        assert_eq!(slack("backlog @alice"), backlog(None, Some("alice")));
        assert_eq!(
            slack("backlog critical <@U123|alice>"),
            backlog(Some(Severity::Critical), Some("slack:U123"))
        );
        assert_eq!(
            slack("backlog <@U123> low"),
            backlog(Some(Severity::Low), Some("slack:U123"))
        );
        assert_eq!(slack("backlog slack:W42"), backlog(None, Some("slack:W42")));
    }

    #[test]
    fn backlog_says_what_is_wrong_with_its_arguments() {
        let (usage, p) = problem(slack("backlog severe"));
        assert_eq!(usage, USAGE_BACKLOG);
        assert!(
            p.contains("`severe`") && p.contains("critical, high"),
            "{p}"
        );
        assert!(
            problem(slack("backlog high low"))
                .1
                .contains("one severity")
        );
        assert!(problem(slack("backlog @a @b")).1.contains("one owner"));
        assert!(
            problem(slack("backlog <#C123|general>"))
                .1
                .contains("mention a person")
        );
        assert!(problem(slack("backlog @")).1.contains("not a valid owner"));
    }

    #[test]
    fn mentions_follow_the_platform() {
        assert_eq!(
            discord("backlog <@123456>"),
            backlog(None, Some("discord:123456"))
        );
        assert_eq!(
            discord("backlog <@!123456>"),
            backlog(None, Some("discord:123456"))
        );
        // A Discord-style mention on Slack (and vice versa) is not a person there.
        assert!(matches!(
            slack("backlog <@123456>"),
            RemedyCommand::Invalid { .. }
        ));
        assert!(matches!(
            discord("backlog <@U123>"),
            RemedyCommand::Invalid { .. }
        ));
        // Discord role mentions are not people.
        assert!(matches!(
            discord("backlog <@&123>"),
            RemedyCommand::Invalid { .. }
        ));
    }

    #[test]
    fn show_accepts_the_usual_id_spellings() {
        assert_eq!(slack("show F-1042"), RemedyCommand::Show(id(1042)));
        assert_eq!(slack("show f-1042"), RemedyCommand::Show(id(1042)));
        assert_eq!(slack("Show 1042"), RemedyCommand::Show(id(1042)));
    }

    #[test]
    fn show_says_what_is_wrong_with_the_id() {
        let (usage, p) = problem(slack("show"));
        assert_eq!(usage, "show F-1042");
        assert!(p.contains("which finding"), "{p}");
        let (_, p) = problem(slack("show G-12"));
        assert!(p.contains("`G-12` is not a finding id"), "{p}");
        assert!(problem(slack("show F-1 F-2")).1.contains("`F-2`"));
    }

    #[test]
    fn assign_takes_an_id_and_an_owner() {
        assert_eq!(
            slack("assign F-1 <@U024BE7LH|bob>"),
            RemedyCommand::Assign {
                id: id(1),
                user: "slack:U024BE7LH".into()
            }
        );
        assert_eq!(
            discord("assign f-7 <@!99>"),
            RemedyCommand::Assign {
                id: id(7),
                user: "discord:99".into()
            }
        );
        assert_eq!(
            slack("assign F-1 @payments-team"),
            RemedyCommand::Assign {
                id: id(1),
                user: "payments-team".into()
            }
        );
        assert!(problem(slack("assign F-1")).1.contains("to whom"));
        assert!(
            problem(slack("assign @bob F-1"))
                .1
                .contains("not a finding id")
        );
        assert!(
            problem(slack("assign F-1 bob"))
                .1
                .contains("`bob` is not an owner")
        );
        assert!(
            problem(slack("assign F-1 @bob @carol"))
                .1
                .contains("`@carol`")
        );
    }

    #[test]
    fn help_lists_every_usage_used_in_errors() {
        for usage in [
            USAGE_BACKLOG,
            USAGE_MINE,
            USAGE_OVERDUE,
            USAGE_SHOW,
            USAGE_STATS,
            USAGE_ASSIGN,
            USAGE_HELP,
        ] {
            assert!(HELP.iter().any(|(u, _)| *u == usage), "{usage}");
        }
        // Every documented subcommand is one the parser knows.
        for (usage, _) in HELP {
            let word = usage.split_whitespace().next().unwrap();
            assert!(
                !matches!(slack(word), RemedyCommand::Help { unknown: Some(_) }),
                "{word}"
            );
        }
    }

    fn args(sub: &str, args: &[(&str, &str)]) -> RemedyCommand {
        RemedyCommand::from_arguments(sub, args)
    }

    #[test]
    fn named_arguments_make_the_same_commands_as_text() {
        assert_eq!(args("backlog", &[]), slack("backlog"));
        assert_eq!(
            args("backlog", &[("severity", "high"), ("owner", "discord:42")]),
            discord("backlog high <@42>")
        );
        assert_eq!(args("SHOW", &[("id", "f-7")]), discord("show F-7"));
        assert_eq!(
            args("assign", &[("id", "F-7"), ("user", "discord:99")]),
            discord("assign F-7 <@!99>")
        );
        for sub in ["mine", "overdue", "stats", "help"] {
            assert_eq!(args(sub, &[]), discord(sub), "{sub}");
        }
        assert_eq!(args("", &[]), RemedyCommand::Help { unknown: None });
        assert_eq!(
            args("frob", &[]),
            RemedyCommand::Help {
                unknown: Some("frob".into())
            }
        );
    }

    #[test]
    fn named_arguments_say_what_is_wrong() {
        let (usage, p) = problem(args("show", &[("id", "G-12")]));
        assert_eq!(usage, USAGE_SHOW);
        assert!(p.contains("`G-12` is not a finding id"), "{p}");
        assert!(problem(args("show", &[])).1.contains("which finding"));
        assert!(
            problem(args("assign", &[("id", "F-1")]))
                .1
                .contains("to whom")
        );
        assert!(
            problem(args("backlog", &[("severity", "severe")]))
                .1
                .contains("unknown severity `severe`")
        );
        let (usage, p) = problem(args("mine", &[("id", "F-1")]));
        assert_eq!(usage, USAGE_MINE);
        assert!(p.contains("no option `id`"), "{p}");
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in any::<String>()) {
            let _ = RemedyCommand::parse(&text, Source::Slack);
            let _ = RemedyCommand::parse(&text, Source::Discord);
        }

        #[test]
        fn parse_never_panics_on_command_like_text(
            sub in prop::sample::select(vec!["backlog", "show", "assign", "mine", "x"]),
            args in prop::collection::vec("[<@!|>A-Za-z0-9:&#_ -]{0,12}", 0..4),
        ) {
            let text = format!("{sub} {}", args.join(" "));
            let _ = RemedyCommand::parse(&text, Source::Slack);
            let _ = RemedyCommand::parse(&text, Source::Discord);
        }
    }
}
