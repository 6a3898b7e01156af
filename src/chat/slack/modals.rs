//! Slack modals for the workflow prompts (triage, root cause, fix plan, evidence, risk
//! acceptance, rejection) and the parsing of their `view_submission`s into domain
//! [`Command`]s.
//!
//! The modal and its parser share the block ids below, and a test checks that every input
//! of every modal is read by the parser, so the two cannot drift. Validation here is for
//! the user's sake (inline errors, keyed by block id, before anything is recorded); the
//! domain still decides whether the command is allowed. No I/O: the caller opens the view
//! and answers the submission.

mod parse;
mod view;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::Value;

use crate::domain::{Command, FindingId, Policy, Severity};

/// A workflow prompt that is answered in a modal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prompt {
    Triage,
    Rca,
    FixPlan,
    /// Mark the fix done, with evidence.
    Evidence,
    AcceptRisk,
    /// Reject an open approval request.
    Reject,
}

impl Prompt {
    pub const ALL: [Prompt; 6] = [
        Prompt::Triage,
        Prompt::Rca,
        Prompt::FixPlan,
        Prompt::Evidence,
        Prompt::AcceptRisk,
        Prompt::Reject,
    ];

    /// The view's `callback_id`, by which a submission is routed back to its parser.
    pub fn callback_id(self) -> &'static str {
        match self {
            Prompt::Triage => "rb:triage",
            Prompt::Rca => "rb:rca",
            Prompt::FixPlan => "rb:fix_plan",
            Prompt::Evidence => "rb:evidence",
            Prompt::AcceptRisk => "rb:accept_risk",
            Prompt::Reject => "rb:reject",
        }
    }

    pub fn from_callback_id(id: &str) -> Option<Prompt> {
        Prompt::ALL.into_iter().find(|p| p.callback_id() == id)
    }
}

/// Block ids of the modals' inputs. Each input's `action_id` equals its block id, so
/// action ids are unique within a modal.
mod block {
    pub const REAL: &str = "real";
    pub const EXPLOITABLE: &str = "exploitable";
    pub const SEVERITY: &str = "severity";
    pub const SEVERITY_REASON: &str = "severity_reason";
    pub const DECISION: &str = "decision";
    pub const DUPLICATE_OF: &str = "duplicate_of";
    pub const REASON: &str = "reason";
    pub const UNTIL: &str = "until";
    pub const CONTROLS: &str = "controls";
    pub const CAUSE: &str = "cause";
    pub const WHYS: [&str; 5] = ["why1", "why2", "why3", "why4", "why5"];
    pub const FACTORS: &str = "factors";
    pub const PLAN: &str = "plan";
    pub const LINK: &str = "link";
    pub const TARGET: &str = "target";
    pub const RESCAN: &str = "rescan";
}

/// Root-cause categories offered in the RCA modal: (value stored, label shown).
pub const CAUSE_CATEGORIES: &[(&str, &str)] = &[
    ("code_defect", "Code defect"),
    ("missing_validation", "Missing input validation"),
    ("misconfiguration", "Misconfiguration"),
    ("outdated_dependency", "Outdated dependency"),
    ("missing_control", "Missing security control"),
    ("process_gap", "Process gap"),
    ("third_party", "Third party"),
    ("other", "Other"),
];

/// The modal (the `view` argument of `views.open`) for `prompt` on finding `id`.
/// `private_metadata` is the finding id (`F-12`); `title` is the finding's title, shown
/// escaped and shortened in a context block; `current` is the finding's severity now.
pub fn modal(
    prompt: Prompt,
    id: FindingId,
    title: &str,
    current: Severity,
    policy: &Policy,
    today: NaiveDate,
) -> Value {
    view::modal(prompt, id, title, current, policy, today)
}

/// Parse a submission's `view.state.values` for `prompt` into a command. On error, the map
/// goes straight into `{"response_action": "errors", "errors": …}`: keys are block ids of
/// the modal's inputs, values are messages for the user.
pub fn parse_submission(
    prompt: Prompt,
    values: &Value,
    current: Severity,
    policy: &Policy,
    today: NaiveDate,
) -> Result<Command, BTreeMap<String, String>> {
    parse::submission(prompt, values, current, policy, today)
}

/// The value of one input in `view.state.values`, whatever its element type: text inputs
/// (`value`), selects and radio buttons (`selected_option.value`), date, time and
/// conversation pickers. Trimmed; `None` when the input is missing or empty.
pub fn field(values: &Value, block: &str, action: &str) -> Option<String> {
    let element = values.get(block)?.get(action)?;
    let kind = element.get("type").and_then(Value::as_str).unwrap_or("");
    let value = match kind {
        "static_select" | "external_select" | "radio_buttons" => {
            element.get("selected_option")?.get("value")
        }
        "datepicker" => element.get("selected_date"),
        "timepicker" => element.get("selected_time"),
        "datetimepicker" => element.get("selected_date_time"),
        "users_select" => element.get("selected_user"),
        "conversations_select" => element.get("selected_conversation"),
        "channels_select" => element.get("selected_channel"),
        // plain_text_input, url_text_input, email_text_input, number_input
        _ => element.get("value"),
    }?;
    let text = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}
