//! Modals and their parsers: Slack's real `state.values` shapes (from the shared corpus),
//! each prompt's happy path and every validation error, the Slack limits of each view, and
//! the round trip that ties every input of a modal to its parser.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};

use super::parse::Form;
use super::*;
use crate::domain::{
    Actor, DecisionKind, Evidence, FindingState, Fingerprint, FixPlan, NewFinding, Proposal,
    RcaAnswers, TriageAnswers, decide, open,
};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/slack/interactivity/"
);

fn corpus(name: &str) -> Value {
    let path = format!("{CORPUS}{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
}

fn day(offset: i64) -> String {
    (today() + Duration::days(offset)).to_string()
}

fn id() -> FindingId {
    FindingId::from_key(12)
}

fn view(prompt: Prompt) -> Value {
    modal(
        prompt,
        id(),
        "SQL injection",
        Severity::High,
        &Policy::default(),
        today(),
    )
}

fn inputs(modal: &Value) -> Vec<&Value> {
    modal["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "input")
        .collect()
}

fn input_ids(modal: &Value) -> BTreeSet<String> {
    inputs(modal)
        .iter()
        .map(|b| b["block_id"].as_str().unwrap().to_string())
        .collect()
}

/// `view.state.values` as Slack sends it for `modal` with `answers` (block id → value):
/// every input present, unanswered ones as `null`, selects keeping their initial option.
fn submit(modal: &Value, answers: &[(&str, &str)]) -> Value {
    let ids = input_ids(modal);
    for (block, _) in answers {
        assert!(ids.contains(*block), "no input `{block}` in the modal");
    }
    let mut values = serde_json::Map::new();
    for input in inputs(modal) {
        let block = input["block_id"].as_str().unwrap();
        let element = &input["element"];
        let kind = element["type"].as_str().unwrap();
        let answer = answers.iter().find(|(b, _)| *b == block).map(|(_, v)| *v);
        let state = match kind {
            "plain_text_input" | "url_text_input" => json!({ "type": kind, "value": answer }),
            "datepicker" => json!({ "type": kind, "selected_date": answer }),
            "static_select" | "radio_buttons" => {
                let option = match answer {
                    Some(v) => json!({ "text": { "type": "plain_text", "text": v }, "value": v }),
                    None => element
                        .get("initial_option")
                        .cloned()
                        .unwrap_or(Value::Null),
                };
                json!({ "type": kind, "selected_option": option })
            }
            other => panic!("no state shape for {other}"),
        };
        let action = element["action_id"].as_str().unwrap();
        values.insert(block.to_string(), json!({ action: state }));
    }
    Value::Object(values)
}

fn parse_with(
    prompt: Prompt,
    answers: &[(&str, &str)],
    current: Severity,
    policy: &Policy,
) -> Result<Command, BTreeMap<String, String>> {
    let modal = modal(prompt, id(), "t", current, policy, today());
    let values = submit(&modal, answers);
    let parsed = parse_submission(prompt, &values, current, policy, today());
    if let Err(errors) = &parsed {
        let ids = input_ids(&modal);
        for key in errors.keys() {
            assert!(ids.contains(key), "error key `{key}` is not an input block");
        }
    }
    parsed
}

fn parse(prompt: Prompt, answers: &[(&str, &str)]) -> Result<Command, BTreeMap<String, String>> {
    parse_with(prompt, answers, Severity::High, &Policy::default())
}

/// The error keys, and the message for `key`.
fn error(prompt: Prompt, answers: &[(&str, &str)], key: &str) -> String {
    let errors = parse(prompt, answers).expect_err("expected errors");
    errors
        .get(key)
        .unwrap_or_else(|| panic!("no error for `{key}` in {errors:?}"))
        .clone()
}

fn midnight(date: &str) -> chrono::DateTime<Utc> {
    let d: NaiveDate = date.parse().unwrap();
    d.and_hms_opt(0, 0, 0).unwrap().and_utc()
}

// --- the real payload shapes ---

#[test]
fn field_reads_the_corpus_view_submissions() {
    let bolt = corpus("bolt-python_view_submission.json");
    let values = &bolt["view"]["state"]["values"];
    assert_eq!(field(values, "hspI", "maBWU").as_deref(), Some("test"));

    let java = corpus("java-slack-sdk_view_submission_modal_inputs.json");
    let values = &java["view"]["state"]["values"];
    assert_eq!(
        field(values, "date-of-visit", "single_action").as_deref(),
        Some("2019-09-23")
    );
    assert_eq!(
        field(values, "rating", "single_action").as_deref(),
        Some("3")
    );
    assert_eq!(
        field(values, "comment", "single_action").as_deref(),
        Some("Just amazing!")
    );
    assert_eq!(field(values, "comment", "other_action"), None);
    assert_eq!(field(values, "no-such-block", "single_action"), None);

    let org = corpus("java-slack-sdk_view_submission_org_app_team_null.json");
    let values = &org["view"]["state"]["values"];
    assert_eq!(
        field(values, "time-block", "time-action").as_deref(),
        Some("03:00")
    );
    assert_eq!(
        field(values, "date-block", "date-action").as_deref(),
        Some("2022-06-22")
    );
}

#[test]
fn field_reads_radio_buttons_urls_and_empty_inputs() {
    let values = json!({
        "r": { "a": { "type": "radio_buttons", "selected_option": {
            "text": { "type": "plain_text", "text": "Yes" }, "value": "yes" } } },
        "u": { "a": { "type": "url_text_input", "value": " https://example.com/pr/1 " } },
        "n": { "a": { "type": "plain_text_input", "value": null } },
        "s": { "a": { "type": "static_select", "selected_option": null } },
        "d": { "a": { "type": "datepicker", "selected_date": null } },
        "w": { "a": { "type": "plain_text_input", "value": "   " } },
    });
    assert_eq!(field(&values, "r", "a").as_deref(), Some("yes"));
    assert_eq!(
        field(&values, "u", "a").as_deref(),
        Some("https://example.com/pr/1")
    );
    for empty in ["n", "s", "d", "w"] {
        assert_eq!(field(&values, empty, "a"), None, "{empty}");
    }
}

#[test]
fn a_foreign_submission_gets_errors_not_a_panic() {
    let bolt = corpus("bolt-python_view_submission.json");
    let values = &bolt["view"]["state"]["values"];
    let policy = Policy::default();
    for prompt in Prompt::ALL {
        let parsed = parse_submission(prompt, values, Severity::High, &policy, today());
        assert!(parsed.is_err(), "{prompt:?}");
    }
    let errors =
        parse_submission(Prompt::Reject, values, Severity::High, &policy, today()).unwrap_err();
    assert_eq!(errors.keys().collect::<Vec<_>>(), ["reason"]);
}

// --- the views ---

#[test]
fn callback_ids_round_trip() {
    let ids: BTreeSet<_> = Prompt::ALL.iter().map(|p| p.callback_id()).collect();
    assert_eq!(ids.len(), Prompt::ALL.len());
    for p in Prompt::ALL {
        assert!(p.callback_id().starts_with("rb:"));
        assert_eq!(Prompt::from_callback_id(p.callback_id()), Some(p));
    }
    assert_eq!(Prompt::from_callback_id("rb:unknown"), None);
}

fn plain_text(v: &Value, what: &str, max: usize) {
    assert_eq!(v["type"], "plain_text", "{what}");
    let text = v["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{what} has no text"));
    assert!(!text.is_empty(), "{what} is empty");
    assert!(
        text.chars().count() <= max,
        "{what} is longer than {max}: {text}"
    );
}

/// Slack's rules for a modal view, as far as remedybot uses them.
fn check_view(modal: &Value, prompt: Prompt) {
    assert_eq!(modal["type"], "modal");
    assert_eq!(modal["callback_id"], prompt.callback_id());
    plain_text(&modal["title"], "title", 24);
    plain_text(&modal["submit"], "submit", 24);
    plain_text(&modal["close"], "close", 24);
    let blocks = modal["blocks"].as_array().unwrap();
    assert!(blocks.len() <= 100);
    let mut block_ids = BTreeSet::new();
    let mut action_ids = BTreeSet::new();
    for input in inputs(modal) {
        let block = input["block_id"].as_str().expect("input without block_id");
        assert!(block_ids.insert(block), "block_id {block} twice");
        plain_text(&input["label"], block, 2000);
        if let Some(hint) = input.get("hint") {
            plain_text(hint, block, 2000);
        }
        assert!(input["optional"].is_boolean(), "{block}: optional");
        let element = &input["element"];
        assert!(element["type"].is_string(), "{block} has no element");
        let action = element["action_id"]
            .as_str()
            .expect("element without action_id");
        assert!(action_ids.insert(action), "action_id {action} twice");
        if let Some(placeholder) = element.get("placeholder") {
            plain_text(placeholder, block, 150);
        }
        if let Some(initial) = element.get("initial_value") {
            assert!(initial.as_str().unwrap().chars().count() <= 3000);
        }
        if let Some(max) = element.get("max_length") {
            assert!(max.as_u64().unwrap() <= 3000, "{block}: max_length");
        }
        if let Some(options) = element.get("options") {
            let options = options.as_array().unwrap();
            assert!(!options.is_empty() && options.len() <= 100, "{block}");
            for o in options {
                plain_text(&o["text"], block, 75);
                assert!(o["value"].as_str().unwrap().len() <= 150);
            }
            if let Some(initial) = element.get("initial_option") {
                assert!(options.contains(initial), "{block}: initial not an option");
            }
        }
    }
    assert!(!block_ids.is_empty());
}

#[test]
fn every_modal_keeps_to_slacks_limits() {
    for current in Severity::ALL {
        for prompt in Prompt::ALL {
            let m = modal(prompt, id(), "t", current, &Policy::default(), today());
            check_view(&m, prompt);
            assert_eq!(m["private_metadata"], "F-12");
        }
    }
    // The longest possible id still fits the title.
    let long = FindingId::from_key(i64::MAX);
    for prompt in Prompt::ALL {
        let m = modal(
            prompt,
            long,
            "t",
            Severity::Low,
            &Policy::default(),
            today(),
        );
        check_view(&m, prompt);
    }
    assert_eq!(view(Prompt::Triage)["title"]["text"], "Triage F-12");
}

#[test]
fn the_finding_title_is_escaped_and_shortened() {
    let title = format!("<script> & {}", "x".repeat(500));
    let m = modal(
        Prompt::Reject,
        id(),
        &title,
        Severity::Low,
        &Policy::default(),
        today(),
    );
    let text = m["blocks"][0]["elements"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("*F-12* &lt;script&gt; &amp; xx"), "{text}");
    assert!(text.ends_with('…'));
    assert!(text.chars().count() < 300);
}

#[test]
fn triage_preselects_the_current_severity_and_confirm() {
    let m = modal(
        Prompt::Triage,
        id(),
        "t",
        Severity::Medium,
        &Policy::default(),
        today(),
    );
    let select = |block: &str| {
        let input = inputs(&m)
            .into_iter()
            .find(|b| b["block_id"] == block)
            .unwrap()
            .clone();
        input["element"]["initial_option"]["value"].clone()
    };
    assert_eq!(select("severity"), "medium");
    assert_eq!(select("decision"), "confirm");
}

#[test]
fn rca_inputs_are_required_only_where_the_policy_requires_rca() {
    let optional = |current| {
        let m = modal(Prompt::Rca, id(), "t", current, &Policy::default(), today());
        inputs(&m)
            .iter()
            .filter(|b| b["optional"] == false)
            .map(|b| b["block_id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(optional(Severity::High), ["cause", "why1"]);
    assert!(optional(Severity::Low).is_empty());
}

#[test]
fn every_input_of_every_modal_is_read_by_its_parser() {
    for current in Severity::ALL {
        for prompt in Prompt::ALL {
            let m = modal(prompt, id(), "t", current, &Policy::default(), today());
            let values = submit(&m, &[]);
            let mut form = Form::new(&values);
            form.parse(prompt, current, &Policy::default(), today());
            let read: BTreeSet<String> = form.read.iter().map(|b| b.to_string()).collect();
            assert_eq!(read, input_ids(&m), "{prompt:?} at {current}");
            // The parser reads the action id the modal gives each input.
            for input in inputs(&m) {
                assert_eq!(input["block_id"], input["element"]["action_id"]);
            }
        }
    }
}

// --- triage ---

const CONFIRM_REAL: [(&str, &str); 3] = [
    ("real", "yes"),
    ("exploitable", "unknown"),
    ("reason", "reachable from the API"),
];

#[test]
fn triage_confirm_records_the_answers_as_notes() {
    let command = parse(Prompt::Triage, &CONFIRM_REAL).unwrap();
    assert_eq!(
        command,
        Command::Triage {
            answers: TriageAnswers {
                real: Some(true),
                exploitable: None,
                notes: "reachable from the API".into(),
            },
            severity: None,
            proposal: None,
        }
    );
}

#[test]
fn triage_ignores_proposal_inputs_when_confirming() {
    let mut answers = CONFIRM_REAL.to_vec();
    answers.extend([("duplicate_of", "nonsense"), ("until", "2020-01-01")]);
    let Command::Triage { proposal, .. } = parse(Prompt::Triage, &answers).unwrap() else {
        panic!()
    };
    assert_eq!(proposal, None);
}

#[test]
fn triage_severity_change_needs_a_reason() {
    let mut answers = vec![("real", "yes"), ("exploitable", "no"), ("severity", "low")];
    let message = error(Prompt::Triage, &answers, "severity_reason");
    assert!(message.contains("from high to low"), "{message}");

    answers.push(("severity_reason", "internal only"));
    let Command::Triage {
        answers: a,
        severity,
        ..
    } = parse(Prompt::Triage, &answers).unwrap()
    else {
        panic!()
    };
    assert_eq!(severity, Some((Severity::Low, "internal only".into())));
    assert_eq!(a.exploitable, Some(false));
}

#[test]
fn triage_requires_its_answers() {
    let errors = parse(Prompt::Triage, &[]).unwrap_err();
    assert_eq!(
        errors.keys().collect::<Vec<_>>(),
        ["exploitable", "real"],
        "severity and decision are preselected"
    );
    let errors = parse(Prompt::Triage, &[("real", "maybe"), ("exploitable", "no")]).unwrap_err();
    assert_eq!(errors["real"], "Choose one of the options.");
    let errors = parse(
        Prompt::Triage,
        &[
            ("real", "yes"),
            ("exploitable", "no"),
            ("severity", "severe"),
        ],
    )
    .unwrap_err();
    assert!(errors.contains_key("severity"));
}

#[test]
fn triage_refuses_to_confirm_what_is_not_real() {
    let message = error(
        Prompt::Triage,
        &[("real", "no"), ("exploitable", "no")],
        "decision",
    );
    assert!(message.contains("false positive"), "{message}");
}

fn propose(answers: &[(&str, &str)]) -> Proposal {
    let mut all = vec![("real", "no"), ("exploitable", "no")];
    all.extend_from_slice(answers);
    match parse(Prompt::Triage, &all) {
        Ok(Command::Triage {
            proposal: Some(p),
            answers,
            ..
        }) => {
            assert_eq!(answers.notes, "", "the text goes into the proposal");
            p
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn triage_false_positive_needs_a_reason() {
    let p = propose(&[("decision", "false_positive"), ("reason", "test fixture")]);
    assert_eq!(
        p,
        Proposal {
            kind: DecisionKind::FalsePositive,
            reason: "test fixture".into(),
            duplicate_of: None,
            until: None,
            compensating_controls: String::new(),
        }
    );
    for kind in ["false_positive", "wont_fix", "mitigated", "accept_risk"] {
        let answers = [("real", "no"), ("exploitable", "no"), ("decision", kind)];
        assert_eq!(
            error(Prompt::Triage, &answers, "reason"),
            "Give a reason for this decision."
        );
    }
}

#[test]
fn triage_duplicate_needs_a_finding_id() {
    let p = propose(&[("decision", "duplicate"), ("duplicate_of", "f-7")]);
    assert_eq!(p.kind, DecisionKind::Duplicate);
    assert_eq!(p.duplicate_of.as_deref(), Some("F-7"));

    let base = [
        ("real", "no"),
        ("exploitable", "no"),
        ("decision", "duplicate"),
    ];
    assert!(error(Prompt::Triage, &base, "duplicate_of").contains("F-1042"));
    let mut bad = base.to_vec();
    bad.push(("duplicate_of", "the other one"));
    let message = error(Prompt::Triage, &bad, "duplicate_of");
    assert!(
        message.contains("\"the other one\" is not a finding id"),
        "{message}"
    );
}

#[test]
fn triage_accept_risk_takes_an_expiry_within_the_policy() {
    let tomorrow = day(1);
    let p = propose(&[
        ("decision", "accept_risk"),
        ("reason", "legacy system, retiring in Q3"),
        ("until", &tomorrow),
        ("controls", "WAF rule 42"),
    ]);
    assert_eq!(p.until, Some(midnight(&tomorrow)));
    assert_eq!(p.compensating_controls, "WAF rule 42");

    let base = [
        ("real", "yes"),
        ("exploitable", "no"),
        ("decision", "accept_risk"),
        ("reason", "r"),
    ];
    let with = |until: &str| -> Result<Command, BTreeMap<String, String>> {
        let mut answers: Vec<(&str, &str)> = base.to_vec();
        answers.push(("until", until));
        parse(Prompt::Triage, &answers)
    };
    let until_error = |until: &str| with(until).unwrap_err()["until"].clone();
    assert!(error(Prompt::Triage, &base, "until").contains("Pick the day"));
    assert!(until_error(&day(0)).contains("after today"));
    assert!(until_error(&day(-3)).contains("after today"));
    let message = until_error(&day(366));
    assert!(
        message.contains("at most 365 days") && message.contains("2027-03-10"),
        "{message}"
    );
    assert!(with(&day(365)).is_ok());
    assert_eq!(until_error("2026-02-30"), "Pick a date from the calendar.");
}

#[test]
fn an_expiry_the_modal_accepts_at_the_limit_is_one_the_workflow_accepts() {
    let policy = Policy::default();
    let finding = NewFinding {
        fingerprint: Fingerprint::derive("s", "r", "a", "l"),
        source: "s".into(),
        rule_id: "r".into(),
        title: "t".into(),
        description: String::new(),
        severity: Severity::High,
        asset: "a".into(),
        location: "l".into(),
        tags: vec![],
        references: vec![],
        owner: None,
    };
    let opened = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let state = FindingState::created(&open(finding, &policy, opened), opened).unwrap();
    let last = day(365);
    let command = parse(Prompt::AcceptRisk, &[("reason", "r"), ("until", &last)]).unwrap();
    // Late in the day the modal was filled in.
    let now = today().and_hms_opt(23, 59, 0).unwrap().and_utc();
    let actor = Actor::new("slack", "U1", "Ann");
    assert!(decide(&state, &command, &actor, &policy, now).is_ok());
}

// --- RCA ---

#[test]
fn rca_collects_the_answered_whys_in_order() {
    let command = parse(
        Prompt::Rca,
        &[
            ("cause", "missing_validation"),
            ("why1", "input not checked"),
            ("why3", "no review checklist"),
            ("factors", "deadline"),
        ],
    )
    .unwrap();
    assert_eq!(
        command,
        Command::SubmitRca(RcaAnswers {
            cause_category: "missing_validation".into(),
            whys: vec!["input not checked".into(), "no review checklist".into()],
            contributing_factors: "deadline".into(),
        })
    );
}

#[test]
fn rca_requires_cause_and_first_why_where_the_policy_does() {
    let errors = parse(Prompt::Rca, &[("why2", "x")]).unwrap_err();
    assert_eq!(errors.keys().collect::<Vec<_>>(), ["cause", "why1"]);
    assert!(errors["cause"].contains("required for high findings"));

    let low = parse_with(Prompt::Rca, &[], Severity::Low, &Policy::default());
    assert_eq!(low, Ok(Command::SubmitRca(RcaAnswers::default())));

    assert_eq!(
        error(
            Prompt::Rca,
            &[("cause", "bad luck"), ("why1", "x")],
            "cause"
        ),
        "Choose one of the options."
    );
}

// --- fix plan ---

#[test]
fn fix_plan_targets_the_end_of_the_chosen_day() {
    let target = day(14);
    let command = parse(
        Prompt::FixPlan,
        &[
            ("plan", "parameterise the query"),
            ("link", "https://git.example.com/pr/7"),
            ("target", &target),
        ],
    )
    .unwrap();
    let end = midnight(&target) + Duration::days(1) - Duration::seconds(1);
    assert_eq!(
        command,
        Command::PlanFix(FixPlan {
            plan: "parameterise the query".into(),
            change_link: "https://git.example.com/pr/7".into(),
            target_date: Some(end),
        })
    );
    let today_ok = parse(Prompt::FixPlan, &[("plan", "p"), ("target", &day(0))]);
    assert!(today_ok.is_ok());
}

#[test]
fn fix_plan_validation() {
    assert_eq!(
        error(Prompt::FixPlan, &[], "plan"),
        "Describe the fix plan."
    );
    let yesterday = day(-1);
    let message = error(
        Prompt::FixPlan,
        &[("plan", "p"), ("target", &yesterday)],
        "target",
    );
    assert!(message.contains("in the past"), "{message}");
    for bad in [
        "ftp://x.example",
        "javascript:alert(1)",
        "https://",
        "http://a b",
        "example.com",
    ] {
        assert!(
            error(Prompt::FixPlan, &[("plan", "p"), ("link", bad)], "link").contains("https://"),
            "{bad}"
        );
    }
    assert!(
        parse(
            Prompt::FixPlan,
            &[("plan", "p"), ("link", "HTTP://x.example/a")]
        )
        .is_ok()
    );
}

// --- evidence ---

#[test]
fn evidence_takes_a_link_or_a_rescan_result() {
    assert_eq!(
        parse(
            Prompt::Evidence,
            &[("link", "https://ci.example.com/scan/9")]
        ),
        Ok(Command::MarkFixed(Evidence {
            link: "https://ci.example.com/scan/9".into(),
            rescan_result: String::new(),
        }))
    );
    assert_eq!(
        parse(Prompt::Evidence, &[("rescan", "clean")]),
        Ok(Command::MarkFixed(Evidence {
            link: String::new(),
            rescan_result: "clean".into(),
        }))
    );
    let message = error(Prompt::Evidence, &[], "link");
    assert!(message.contains("required for high findings"), "{message}");
    assert!(error(Prompt::Evidence, &[("link", "not a link")], "link").contains("https://"));

    let lax = Policy {
        evidence_required: vec![],
        ..Policy::default()
    };
    assert_eq!(
        parse_with(Prompt::Evidence, &[], Severity::High, &lax),
        Ok(Command::MarkFixed(Evidence::default()))
    );
}

// --- risk acceptance and rejection ---

#[test]
fn accept_risk_proposes_an_acceptance() {
    let until = day(90);
    assert_eq!(
        parse(
            Prompt::AcceptRisk,
            &[
                ("reason", "vendor fix pending"),
                ("until", &until),
                ("controls", "IP allow-list")
            ]
        ),
        Ok(Command::Propose(Proposal {
            kind: DecisionKind::AcceptRisk,
            reason: "vendor fix pending".into(),
            duplicate_of: None,
            until: Some(midnight(&until)),
            compensating_controls: "IP allow-list".into(),
        }))
    );
    let errors = parse(Prompt::AcceptRisk, &[]).unwrap_err();
    assert_eq!(errors.keys().collect::<Vec<_>>(), ["reason", "until"]);
    let short = Policy {
        max_acceptance_days: 30,
        ..Policy::default()
    };
    let too_long = day(31);
    let errors = parse_with(
        Prompt::AcceptRisk,
        &[("reason", "r"), ("until", &too_long)],
        Severity::High,
        &short,
    )
    .unwrap_err();
    assert!(errors["until"].contains("at most 30 days"), "{errors:?}");
}

#[test]
fn reject_needs_a_reason() {
    assert_eq!(
        parse(Prompt::Reject, &[("reason", "evidence is a 404")]),
        Ok(Command::Vote {
            approve: false,
            reason: Some("evidence is a 404".into()),
        })
    );
    assert_eq!(
        error(Prompt::Reject, &[("reason", "  ")], "reason"),
        "Say why you reject the request."
    );
}
