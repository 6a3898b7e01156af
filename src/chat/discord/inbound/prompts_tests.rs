//! Discord's modal limits for every prompt, the step split, pre-filling, and reading the
//! real modal submission shape from the shared corpus.

use chrono::NaiveDate;

use super::*;
use crate::domain::Policy;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/discord/interactions/"
);

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
}

fn chars(v: &Value) -> usize {
    v.as_str().unwrap().chars().count()
}

fn all_steps(prompt: Prompt, current: Severity) -> Vec<Vec<Field>> {
    steps(prompts::fields(
        prompt,
        current,
        &Policy::default(),
        today(),
    ))
}

#[test]
fn every_modal_keeps_to_discords_limits() {
    let longest = FindingId::from_key(i64::MAX);
    for current in Severity::ALL {
        for prompt in Prompt::ALL {
            let steps = all_steps(prompt, current);
            for (i, fields) in steps.iter().enumerate() {
                let step = Step {
                    prompt,
                    step: i + 1,
                    id: longest,
                };
                let m = modal(step, steps.len(), fields, &Answers::new());
                assert_eq!(m["type"], 9);
                let data = &m["data"];
                assert!(chars(&data["title"]) <= MAX_TITLE, "{}", data["title"]);
                assert!(chars(&data["custom_id"]) <= 100);
                let rows = data["components"].as_array().unwrap();
                assert!(!rows.is_empty() && rows.len() <= MAX_INPUTS, "{prompt:?}");
                for row in rows {
                    assert_eq!(row["type"], 1);
                    let inputs = row["components"].as_array().unwrap();
                    assert_eq!(inputs.len(), 1);
                    let input = &inputs[0];
                    assert_eq!(input["type"], 4);
                    assert!([1, 2].contains(&input["style"].as_u64().unwrap()));
                    assert!(chars(&input["custom_id"]) <= 100);
                    assert!((1..=MAX_LABEL).contains(&chars(&input["label"])), "{input}");
                    assert!(chars(&input["placeholder"]) <= MAX_PLACEHOLDER, "{input}");
                    assert!(input["max_length"].as_u64().unwrap() <= MAX_VALUE as u64);
                    if let Some(v) = input.get("value") {
                        assert!(chars(v) <= MAX_VALUE);
                    }
                }
            }
        }
    }
}

#[test]
fn long_prompts_are_split_into_steps_of_five() {
    let triage = all_steps(Prompt::Triage, Severity::High);
    let sizes: Vec<usize> = triage.iter().map(Vec::len).collect();
    assert_eq!(sizes, [5, 4]);
    assert_eq!(all_steps(Prompt::Rca, Severity::High).len(), 2);
    for prompt in [
        Prompt::FixPlan,
        Prompt::Evidence,
        Prompt::AcceptRisk,
        Prompt::Reject,
    ] {
        assert_eq!(all_steps(prompt, Severity::High).len(), 1, "{prompt:?}");
    }
}

#[test]
fn choices_list_their_values_and_start_from_the_draft_or_the_initial_value() {
    let steps = all_steps(Prompt::Triage, Severity::Medium);
    let step = Step {
        prompt: Prompt::Triage,
        step: 1,
        id: FindingId::from_key(12),
    };
    let draft: Answers = [("real".to_string(), "no".to_string())].into();
    let m = modal(step, 2, &steps[0], &draft);
    assert_eq!(m["data"]["title"], "Triage F-12 (1/2)");
    assert_eq!(m["data"]["custom_id"], "rb:m:triage:1:F-12");
    let input = |id: &str| {
        m["data"]["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["components"][0])
            .find(|i| i["custom_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(input("real")["placeholder"], "yes, no");
    assert_eq!(input("real")["value"], "no");
    assert_eq!(input("severity")["value"], "medium");
    assert_eq!(input("decision")["value"], "confirm");
    assert!(input("exploitable").get("value").is_none());
    assert_eq!(input("severity_reason")["required"], false);
}

#[test]
fn step_ids_round_trip() {
    let step = Step {
        prompt: Prompt::FixPlan,
        step: 2,
        id: FindingId::from_key(9),
    };
    assert_eq!(step.button_id(), "rb:step:plan:2:F-9");
    assert_eq!(Step::parse("plan:2:F-9"), Some(step));
    for bad in [
        "plan:0:F-9",
        "plan:x:F-9",
        "nope:1:F-9",
        "plan:1",
        "plan:1:9x",
    ] {
        assert_eq!(Step::parse(bad), None, "{bad}");
    }
}

#[test]
fn submitted_answers_are_read_from_the_real_payload_shape() {
    let text =
        std::fs::read_to_string(format!("{CORPUS}docs_modal_submit_text_input.json")).unwrap();
    let payload: Value = serde_json::from_str(&text).unwrap();
    let answers = submitted(&payload["data"]);
    assert_eq!(answers.get("name").map(String::as_str), Some("John"));
    // Label components (the newer modal layout) and blank answers.
    let data = json!({"components": [
        {"type": 18, "component": {"type": 4, "custom_id": "reason", "value": " because "}},
        {"type": 1, "components": [{"type": 4, "custom_id": "why2", "value": "   "}]},
    ]});
    let answers = submitted(&data);
    assert_eq!(answers.get("reason").map(String::as_str), Some("because"));
    assert!(!answers.contains_key("why2"));
}
