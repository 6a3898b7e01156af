//! Building the modal views from the prompts' fields: one input block per field, with Slack's limits respected
//! (title ≤ 24 characters, placeholders ≤ 150, context text ≤ 3000).

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::Prompt;
use crate::chat::prompts::{self, Field, Kind};
use crate::domain::{FindingId, Policy, Severity};

/// Slack's limit for a modal's title and buttons.
pub(super) const MAX_TITLE: usize = 24;
/// How much of the finding's title the context block shows.
const MAX_FINDING_TITLE: usize = 200;
const MAX_MULTILINE: u32 = 3000;
const MAX_LINE: u32 = 300;

pub(super) fn modal(
    prompt: Prompt,
    id: FindingId,
    title: &str,
    current: Severity,
    policy: &Policy,
    today: NaiveDate,
) -> Value {
    let name = prompt.title();
    let submit = match prompt {
        Prompt::Triage | Prompt::Rca => "Submit",
        Prompt::FixPlan => "Save plan",
        Prompt::Evidence => "Mark fixed",
        Prompt::AcceptRisk => "Ask for approval",
        Prompt::Reject => "Reject",
    };
    let inputs = prompts::fields(prompt, current, policy, today);
    let full = format!("{name} {id}");
    let heading = if full.chars().count() <= MAX_TITLE {
        full
    } else {
        name.to_string()
    };
    let mut blocks = vec![context(id, title)];
    blocks.extend(inputs.into_iter().map(|f| input(f).build()));
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

/// The input block for one field: choices of up to three values as radio buttons, longer
/// ones as a menu starting at the field's initial value.
fn input(field: Field) -> Input {
    let element = match &field.kind {
        Kind::Choice(choices) if choices.len() <= 3 => radios(choices),
        Kind::Choice(choices) => select(field.placeholder, choices, field.initial),
        Kind::Text { multiline } => text(field.placeholder, *multiline),
        Kind::Link => url(field.placeholder),
        Kind::Date => date(field.placeholder),
    };
    let input = Input::new(field.id, field.label, element).optional_if(!field.required);
    match &field.hint {
        Some(hint) => input.hint(hint),
        None => input,
    }
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
