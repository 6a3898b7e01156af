//! Slack modals for the workflow prompts (triage, root cause, fix plan, evidence, risk
//! acceptance, rejection) and the parsing of their `view_submission`s into domain
//! [`Command`]s.
//!
//! The questions, their validation and the parsing into commands are the platform-neutral
//! [`crate::chat::prompts`]; this module shows them as Block Kit (one input block per
//! field, block id = action id = field id) and reads `view.state.values` back into answers.
//! A test checks that every input of every modal is read by the parser, so the two cannot
//! drift. No I/O: the caller opens the view and answers the submission.

mod parse;
mod view;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::Value;

use crate::domain::{Command, FindingId, Policy, Severity};

pub use crate::chat::prompts::{CAUSE_CATEGORIES, Prompt};

/// The modals' `callback_id`s, by which a submission is routed back to its parser.
impl Prompt {
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
