//! The neutral prompts: every field is read by its parser, typed answers are matched
//! leniently and their errors say what is accepted. Slack's modal tests
//! (`chat::slack::modals::tests`) cover each prompt's validation through menus.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::*;
use crate::domain::{DecisionKind, Proposal};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
}

fn answers(pairs: &[(&str, &str)]) -> Answers {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn typed(prompt: Prompt, pairs: &[(&str, &str)]) -> Result<Command, Errors> {
    parse(
        prompt,
        &answers(pairs),
        Severity::High,
        &Policy::default(),
        today(),
        Entry::Typed,
    )
}

#[test]
fn every_field_of_every_prompt_is_read_by_its_parser() {
    for current in Severity::ALL {
        for prompt in Prompt::ALL {
            let fields = fields(prompt, current, &Policy::default(), today());
            let ids: BTreeSet<&str> = fields.iter().map(|f| f.id).collect();
            assert_eq!(ids.len(), fields.len(), "{prompt:?}: ids are unique");
            for entry in [Entry::Menus, Entry::Typed] {
                let empty = Answers::new();
                let mut form = Form::new(&empty, entry);
                form.parse(prompt, current, &Policy::default(), today());
                let read: BTreeSet<&str> = form.read.iter().copied().collect();
                assert_eq!(read, ids, "{prompt:?} at {current}");
            }
        }
    }
}

#[test]
fn every_choice_field_lists_its_values_and_starts_at_one_of_them() {
    for prompt in Prompt::ALL {
        for f in fields(prompt, Severity::Medium, &Policy::default(), today()) {
            match &f.kind {
                Kind::Choice(options) => {
                    assert_eq!(Some(options.clone()), choices(f.id), "{}", f.id);
                    if let Some(initial) = f.initial {
                        assert!(options.iter().any(|(v, _)| *v == initial), "{}", f.id);
                    }
                }
                _ => assert_eq!(choices(f.id), None, "{}", f.id),
            }
        }
    }
}

#[test]
fn prompt_keys_round_trip() {
    for p in Prompt::ALL {
        assert_eq!(Prompt::from_key(p.key()), Some(p));
    }
    assert_eq!(Prompt::from_key("plan"), Some(Prompt::FixPlan));
    assert_eq!(Prompt::from_key("fixed"), Some(Prompt::Evidence));
    assert_eq!(Prompt::from_key("acknowledge"), None);
}

#[test]
fn typed_choices_match_values_and_labels_in_any_case() {
    let command = typed(
        Prompt::Triage,
        &[
            ("real", " YES "),
            ("exploitable", "Don't know yet"),
            ("severity", "High"),
            ("decision", "Won't fix"),
            ("reason", "legacy host, retired next month"),
        ],
    )
    .unwrap();
    let Command::Triage {
        answers,
        severity,
        proposal,
    } = command
    else {
        panic!("{command:?}")
    };
    assert_eq!(answers.real, Some(true));
    assert_eq!(answers.exploitable, None);
    assert_eq!(severity, None, "High is the current severity");
    assert_eq!(
        proposal.map(|p: Proposal| p.kind),
        Some(DecisionKind::WontFix)
    );
    let rca = typed(
        Prompt::Rca,
        &[("cause", "Outdated-Dependency"), ("why1", "pinned")],
    )
    .unwrap();
    assert!(
        matches!(&rca, Command::SubmitRca(a) if a.cause_category == "outdated_dependency"),
        "{rca:?}"
    );
}

#[test]
fn a_typed_answer_that_is_no_option_gets_the_accepted_values() {
    let errors = typed(
        Prompt::Triage,
        &[
            ("real", "maybe"),
            ("exploitable", "no"),
            ("severity", "urgent"),
            ("decision", "confirm"),
            ("until", "next week"),
        ],
    )
    .unwrap_err();
    assert_eq!(errors["real"], "Answer one of: yes, no.");
    assert_eq!(
        errors["severity"],
        "Answer one of: critical, high, medium, low, info."
    );
    assert_eq!(
        errors["until"],
        "Give a date as YYYY-MM-DD, e.g. 2026-04-30."
    );
    let errors = typed(Prompt::Rca, &[("cause", "gremlins"), ("why1", "x")]).unwrap_err();
    assert!(errors["cause"].starts_with("Answer one of: code_defect, "));
}

#[test]
fn menus_take_values_exactly() {
    let parsed = parse(
        Prompt::Reject,
        &answers(&[("reason", "  ")]),
        Severity::Low,
        &Policy::default(),
        today(),
        Entry::Menus,
    );
    assert_eq!(
        parsed.unwrap_err()["reason"],
        "Say why you reject the request."
    );
    let errors = parse(
        Prompt::Triage,
        &answers(&[("real", "Yes"), ("exploitable", "no"), ("severity", "high")]),
        Severity::High,
        &Policy::default(),
        today(),
        Entry::Menus,
    )
    .unwrap_err();
    assert_eq!(errors["real"], "Choose one of the options.");
}
