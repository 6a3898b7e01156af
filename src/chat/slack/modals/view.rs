//! Building the modal views: one input block per answer, with Slack's limits respected
//! (title ≤ 24 characters, placeholders ≤ 150, context text ≤ 3000).

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};

use super::{CAUSE_CATEGORIES, Prompt, block};
use crate::domain::{DecisionKind, FindingId, Policy, Severity};

/// Slack's limit for a modal's title and buttons.
pub(super) const MAX_TITLE: usize = 24;
/// How much of the finding's title the context block shows.
const MAX_FINDING_TITLE: usize = 200;
const MAX_MULTILINE: u32 = 3000;
const MAX_LINE: u32 = 300;

/// The decision values of the triage modal: `confirm`, then every proposal kind that
/// triage allows (all but `fixed`).
pub(super) const CONFIRM: &str = "confirm";
pub(super) const TRIAGE_DECISIONS: [(DecisionKind, &str); 5] = [
    (DecisionKind::FalsePositive, "False positive"),
    (DecisionKind::Duplicate, "Duplicate of another finding"),
    (DecisionKind::AcceptRisk, "Accept the risk"),
    (DecisionKind::WontFix, "Won't fix"),
    (DecisionKind::Mitigated, "Mitigated"),
];

pub(super) fn modal(
    prompt: Prompt,
    id: FindingId,
    title: &str,
    current: Severity,
    policy: &Policy,
    today: NaiveDate,
) -> Value {
    let (name, submit, inputs) = match prompt {
        Prompt::Triage => ("Triage", "Submit", triage(current, policy, today)),
        Prompt::Rca => ("Root cause", "Submit", rca(current, policy)),
        Prompt::FixPlan => ("Fix plan", "Save plan", fix_plan()),
        Prompt::Evidence => ("Mark fixed", "Mark fixed", evidence(current, policy)),
        Prompt::AcceptRisk => (
            "Accept risk",
            "Ask for approval",
            accept_risk(policy, today),
        ),
        Prompt::Reject => ("Reject request", "Reject", reject()),
    };
    let full = format!("{name} {id}");
    let heading = if full.chars().count() <= MAX_TITLE {
        full
    } else {
        name.to_string()
    };
    let mut blocks = vec![context(id, title)];
    blocks.extend(inputs.into_iter().map(Input::build));
    json!({
        "type": "modal",
        "callback_id": prompt.callback_id(),
        "private_metadata": id.to_string(),
        "title": plain(&heading),
        "submit": plain(submit),
        "close": plain("Cancel"),
        "blocks": blocks,
    })
}

fn triage(current: Severity, policy: &Policy, today: NaiveDate) -> Vec<Input> {
    let yes_no = [("yes", "Yes"), ("no", "No")];
    let decisions: Vec<(&str, &str)> = std::iter::once((CONFIRM, "Confirm: it needs fixing"))
        .chain(TRIAGE_DECISIONS.iter().map(|(k, text)| (k.as_str(), *text)))
        .collect();
    vec![
        Input::new(block::REAL, "Is the finding real?", radios(&yes_no)),
        Input::new(
            block::EXPLOITABLE,
            "Is it exploitable where it is?",
            radios(&[("yes", "Yes"), ("no", "No"), ("unknown", "Don't know yet")]),
        ),
        Input::new(
            block::SEVERITY,
            "Severity",
            select(
                "Choose a severity",
                &severity_options(),
                Some(current.as_str()),
            ),
        ),
        Input::new(
            block::SEVERITY_REASON,
            "Reason for changing the severity",
            text("Why the severity is different", false),
        )
        .optional()
        .hint("Required only if you change the severity."),
        Input::new(
            block::DECISION,
            "Decision",
            select("Choose a decision", &decisions, Some(CONFIRM)),
        ),
        Input::new(block::DUPLICATE_OF, "Duplicate of", text("F-1042", false))
            .optional()
            .hint("For a duplicate: the id of the finding this one duplicates."),
        Input::new(
            block::REASON,
            "Notes or reason",
            text("What you found", true),
        )
        .optional()
        .hint("Required for false positive, accept the risk, won't fix and mitigated."),
        Input::new(block::UNTIL, "Risk accepted until", date("Pick a date"))
            .optional()
            .hint(&acceptance_limit(policy, today)),
        Input::new(
            block::CONTROLS,
            "Compensating controls",
            text("What limits the risk meanwhile", true),
        )
        .optional()
        .hint("For accept the risk and mitigated."),
    ]
}

fn rca(current: Severity, policy: &Policy) -> Vec<Input> {
    let required = policy.rca_required.contains(&current);
    let mut inputs = vec![
        Input::new(
            block::CAUSE,
            "Cause category",
            select("Choose a category", CAUSE_CATEGORIES, None),
        )
        .optional_if(!required),
    ];
    for (i, why) in block::WHYS.iter().enumerate() {
        let (label, placeholder) = if i == 0 {
            ("Why did it happen?", "Because…")
        } else {
            ("And why was that?", "Because…")
        };
        let input = Input::new(why, label, text(placeholder, false));
        inputs.push(if i == 0 {
            input.optional_if(!required)
        } else {
            input.optional()
        });
    }
    inputs.push(
        Input::new(
            block::FACTORS,
            "Contributing factors",
            text("What made it more likely or worse", true),
        )
        .optional(),
    );
    inputs
}

fn fix_plan() -> Vec<Input> {
    vec![
        Input::new(
            block::PLAN,
            "Plan",
            text("What will be changed, and how", true),
        ),
        Input::new(block::LINK, "Change or ticket link", url("https://…")).optional(),
        Input::new(block::TARGET, "Target date", date("Pick a date"))
            .optional()
            .hint("The day you expect the fix to be done."),
    ]
}

fn evidence(current: Severity, policy: &Policy) -> Vec<Input> {
    let hint = if policy.evidence_required.contains(&current) {
        "A link or a re-scan result is required."
    } else {
        "A link, a re-scan result, or both."
    };
    vec![
        Input::new(block::LINK, "Evidence link", url("https://…"))
            .optional()
            .hint(&format!("A pull request, change or scan report. {hint}")),
        Input::new(
            block::RESCAN,
            "Re-scan result",
            text("e.g. clean: the latest scan no longer reports it", true),
        )
        .optional(),
    ]
}

fn accept_risk(policy: &Policy, today: NaiveDate) -> Vec<Input> {
    vec![
        Input::new(
            block::REASON,
            "Why accept the risk?",
            text("Business reason", true),
        ),
        Input::new(block::UNTIL, "Accepted until", date("Pick a date"))
            .hint(&acceptance_limit(policy, today)),
        Input::new(
            block::CONTROLS,
            "Compensating controls",
            text("What limits the risk meanwhile", true),
        )
        .optional(),
    ]
}

fn reject() -> Vec<Input> {
    vec![Input::new(
        block::REASON,
        "Why do you reject the request?",
        text("Reason", true),
    )]
}

/// The latest expiry the policy allows from `today`.
pub(super) fn last_acceptance_day(policy: &Policy, today: NaiveDate) -> NaiveDate {
    today
        .checked_add_signed(Duration::days(i64::from(policy.max_acceptance_days)))
        .unwrap_or(NaiveDate::MAX)
}

fn acceptance_limit(policy: &Policy, today: NaiveDate) -> String {
    format!(
        "At most {} days: {} at the latest.",
        policy.max_acceptance_days,
        last_acceptance_day(policy, today)
    )
}

pub(super) fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

fn severity_options() -> Vec<(&'static str, &'static str)> {
    Severity::ALL
        .into_iter()
        .map(|s| (s.as_str(), severity_label(s)))
        .collect()
}

/// The context line: the finding's id and title, escaped for mrkdwn and shortened.
fn context(id: FindingId, title: &str) -> Value {
    let title = escape(&truncate(title.trim(), MAX_FINDING_TITLE));
    json!({
        "type": "context",
        "elements": [{ "type": "mrkdwn", "text": format!("*{id}* {title}") }],
    })
}

pub(super) use crate::chat::slack::escape::escape_mrkdwn as escape;

/// At most `max` characters, ending in `…` when shortened.
pub(super) fn truncate(text: &str, max: usize) -> String {
    crate::chat::slack::escape::truncate_chars(text, max, "…")
}

fn plain(text: &str) -> Value {
    json!({ "type": "plain_text", "text": text })
}

/// An input block under construction; `action_id` is set to the block id on [`Input::build`].
struct Input {
    block: &'static str,
    label: &'static str,
    element: Value,
    optional: bool,
    hint: Option<String>,
}

impl Input {
    fn new(block: &'static str, label: &'static str, element: Value) -> Self {
        Input {
            block,
            label,
            element,
            optional: false,
            hint: None,
        }
    }

    fn optional(self) -> Self {
        self.optional_if(true)
    }

    fn optional_if(mut self, optional: bool) -> Self {
        self.optional = optional;
        self
    }

    fn hint(mut self, hint: &str) -> Self {
        self.hint = Some(hint.to_string());
        self
    }

    fn build(self) -> Value {
        let mut element = self.element;
        element["action_id"] = json!(self.block);
        let mut input = json!({
            "type": "input",
            "block_id": self.block,
            "optional": self.optional,
            "label": plain(self.label),
            "element": element,
        });
        if let Some(hint) = self.hint {
            input["hint"] = plain(&hint);
        }
        input
    }
}

fn option(value: &str, text: &str) -> Value {
    json!({ "text": plain(text), "value": value })
}

fn options(choices: &[(&str, &str)]) -> Vec<Value> {
    choices.iter().map(|(v, t)| option(v, t)).collect()
}

fn text(placeholder: &str, multiline: bool) -> Value {
    json!({
        "type": "plain_text_input",
        "multiline": multiline,
        "max_length": if multiline { MAX_MULTILINE } else { MAX_LINE },
        "placeholder": plain(placeholder),
    })
}

fn url(placeholder: &str) -> Value {
    json!({ "type": "url_text_input", "placeholder": plain(placeholder) })
}

fn date(placeholder: &str) -> Value {
    json!({ "type": "datepicker", "placeholder": plain(placeholder) })
}

fn radios(choices: &[(&str, &str)]) -> Value {
    json!({ "type": "radio_buttons", "options": options(choices) })
}

/// A static select; `initial` must be one of the choices' values (Slack rejects the view
/// otherwise), so the initial option is taken from the same list.
fn select(placeholder: &str, choices: &[(&str, &str)], initial: Option<&str>) -> Value {
    let mut element = json!({
        "type": "static_select",
        "placeholder": plain(placeholder),
        "options": options(choices),
    });
    if let Some((v, t)) = initial.and_then(|i| choices.iter().find(|(v, _)| *v == i)) {
        element["initial_option"] = option(v, t);
    }
    element
}
