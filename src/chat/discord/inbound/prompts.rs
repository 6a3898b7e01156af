//! The workflow prompts ([`crate::chat::prompts`]) as Discord modals.
//!
//! A modal holds at most five text inputs, so a prompt with more fields is asked in steps
//! of five. Choices become short text inputs whose placeholder lists the accepted values
//! (checked case-insensitively on submit), dates are typed as `YYYY-MM-DD`. A modal
//! submission cannot open another modal: after step k of n the answers are kept as a draft
//! in the database (the next step may reach another replica) and an ephemeral message
//! offers a "Continue" button for step k+1. The last step parses all the answers: errors
//! come back as an ephemeral list with a "Fix answers" button that reopens the first step
//! with an error, pre-filled; success runs the command and drops the draft.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{InboundError, callback, ephemeral, ephemeral_with_button};
use crate::app::App;
use crate::chat::prompts::{self, Answers, Entry, Field, Kind, Prompt};
use crate::chat::view::clip;
use crate::domain::{Actor, FindingId, Severity};
use crate::store::{DraftKey, StoredFinding};

/// Discord's limits for a modal.
pub const MAX_INPUTS: usize = 5;
pub const MAX_TITLE: usize = 45;
pub const MAX_LABEL: usize = 45;
pub const MAX_PLACEHOLDER: usize = 100;
pub const MAX_VALUE: usize = 4000;
/// The longest answer to a one-line field (as on Slack).
const MAX_LINE: usize = 300;

/// One step of a prompt's form about one finding: `<prompt>:<step>:<F-id>` in custom ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub prompt: Prompt,
    /// From 1.
    pub step: usize,
    pub id: FindingId,
}

impl Step {
    pub fn parse(text: &str) -> Option<Step> {
        let mut parts = text.splitn(3, ':');
        let prompt = Prompt::from_key(parts.next()?)?;
        let step = parts.next()?.parse().ok().filter(|s| *s >= 1)?;
        let id = parts.next()?.parse().ok()?;
        Some(Step { prompt, step, id })
    }

    fn at(self, step: usize) -> Step {
        Step { step, ..self }
    }

    /// The custom id of a modal for this step.
    pub fn modal_id(self) -> String {
        format!("rb:m:{}", self.suffix())
    }

    /// The custom id of a button that opens this step.
    pub fn button_id(self) -> String {
        format!("rb:step:{}", self.suffix())
    }

    fn suffix(self) -> String {
        format!("{}:{}:{}", self.prompt.key(), self.step, self.id)
    }

    fn draft<'a>(self, actor: &'a Actor) -> DraftKey<'a> {
        DraftKey {
            platform: "discord",
            user_id: &actor.id,
            finding: self.id,
            prompt: self.prompt.key(),
        }
    }
}

/// The fields of a prompt in steps of at most [`MAX_INPUTS`].
pub fn steps(fields: Vec<Field>) -> Vec<Vec<Field>> {
    let mut fields = fields.into_iter().peekable();
    let mut steps = Vec::new();
    while fields.peek().is_some() {
        steps.push(fields.by_ref().take(MAX_INPUTS).collect());
    }
    steps
}

/// The fields of `finding`'s form for `prompt`, in steps, with the inputs the parser needs.
struct Form<'a> {
    steps: Vec<Vec<Field>>,
    current: Severity,
    policy: &'a crate::domain::Policy,
    today: chrono::NaiveDate,
}

impl<'a> Form<'a> {
    fn of(app: &'a App, finding: &StoredFinding, prompt: Prompt, now: DateTime<Utc>) -> Self {
        let policy = app
            .settings
            .policy_for_route(finding.state.route.as_deref());
        let current = finding.state.severity;
        let today = now.date_naive();
        let steps = steps(prompts::fields(prompt, current, policy, today));
        Form {
            steps,
            current,
            policy,
            today,
        }
    }
}

/// The modal (a type 9 interaction response) for `step` of `total`, pre-filled with
/// `answers` (else each field's initial value).
pub fn modal(step: Step, total: usize, fields: &[Field], answers: &Answers) -> Value {
    let name = step.prompt.title();
    let counter = if total > 1 {
        format!(" ({}/{total})", step.step)
    } else {
        String::new()
    };
    let full = format!("{name} {}{counter}", step.id);
    let title = if full.chars().count() <= MAX_TITLE {
        full
    } else {
        clip(&format!("{name}{counter}"), MAX_TITLE)
    };
    let rows: Vec<Value> = fields
        .iter()
        .map(|f| json!({ "type": 1, "components": [text_input(f, answers)] }))
        .collect();
    json!({
        "type": callback::MODAL,
        "data": { "custom_id": step.modal_id(), "title": title, "components": rows },
    })
}

fn text_input(field: &Field, answers: &Answers) -> Value {
    let multiline = matches!(field.kind, Kind::Text { multiline: true });
    let max = if multiline { MAX_VALUE } else { MAX_LINE };
    let mut input = json!({
        "type": 4,
        "custom_id": field.id,
        "label": clip(field.label, MAX_LABEL),
        "style": if multiline { 2 } else { 1 },
        "required": field.required,
        "max_length": max,
        "placeholder": clip(&placeholder(field), MAX_PLACEHOLDER),
    });
    let value = answers
        .get(field.id)
        .map(String::as_str)
        .or(field.initial)
        .filter(|v| !v.is_empty());
    if let Some(value) = value {
        input["value"] = json!(clip(value, max));
    }
    input
}

/// What an empty input shows: the accepted values of a choice, the date format, else the
/// field's hint or example.
fn placeholder(field: &Field) -> String {
    let example = field.hint.as_deref().unwrap_or(field.placeholder);
    match &field.kind {
        Kind::Choice(choices) => choices
            .iter()
            .map(|(v, _)| *v)
            .collect::<Vec<_>>()
            .join(", "),
        Kind::Date => format!("YYYY-MM-DD. {example}"),
        Kind::Text { .. } | Kind::Link => example.to_string(),
    }
}

/// The answers in a modal submission's components, by custom id: text inputs in action
/// rows, or in label components. Trimmed; empty ones are absent.
pub fn submitted(data: &Value) -> Answers {
    let mut answers = Answers::new();
    collect(data.get("components").unwrap_or(&Value::Null), &mut answers);
    answers
}

fn collect(v: &Value, answers: &mut Answers) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| collect(i, answers)),
        Value::Object(o) => {
            if let (Some(Value::String(id)), Some(Value::String(value))) =
                (o.get("custom_id"), o.get("value"))
            {
                let value = value.trim();
                if !value.is_empty() {
                    answers.insert(id.clone(), value.to_string());
                }
            }
            for key in ["components", "component"] {
                if let Some(child) = o.get(key) {
                    collect(child, answers);
                }
            }
        }
        _ => {}
    }
}

/// Open `step` of `prompt`'s form on finding `id`, pre-filled with the actor's draft.
pub async fn open(
    app: &App,
    actor: &Actor,
    prompt: Prompt,
    step: usize,
    id: FindingId,
    now: DateTime<Utc>,
) -> Result<Value, InboundError> {
    let Some(finding) = app.store.finding(id).await? else {
        return Ok(ephemeral(&format!("{id} does not exist.")));
    };
    let form = Form::of(app, &finding, prompt, now);
    let step = Step { prompt, step, id };
    let Some(fields) = form.steps.get(step.step - 1) else {
        return Ok(ephemeral("This form has changed: click the button again."));
    };
    let draft = app.store.draft(step.draft(actor), now).await?;
    Ok(modal(
        step,
        form.steps.len(),
        fields,
        &draft.unwrap_or_default(),
    ))
}

/// Take the answers to one step: keep them, and on the last step parse the whole form and
/// run its command.
pub async fn submit(
    app: &App,
    interaction: &Value,
    actor: &Actor,
    step: Step,
    submitted: &Answers,
    now: DateTime<Utc>,
) -> Result<Value, InboundError> {
    let id = step.id;
    let Some(finding) = app.store.finding(id).await? else {
        return Ok(ephemeral(&format!("{id} does not exist.")));
    };
    let form = Form::of(app, &finding, step.prompt, now);
    let total = form.steps.len();
    let Some(fields) = form.steps.get(step.step - 1) else {
        return Ok(ephemeral("This form has changed: click the button again."));
    };
    let key = step.draft(actor);
    let mut answers = app.store.draft(key, now).await?.unwrap_or_default();
    for f in fields {
        match submitted.get(f.id) {
            Some(value) => answers.insert(f.id.to_string(), value.clone()),
            None => answers.remove(f.id),
        };
    }
    app.store.save_draft(key, &answers, now).await?;
    if step.step < total {
        let next = step.at(step.step + 1);
        return Ok(ephemeral_with_button(
            &format!(
                "Step {} of {total} saved. Continue with the next questions.",
                step.step
            ),
            "Continue",
            &next.button_id(),
        ));
    }
    let parsed = prompts::parse(
        step.prompt,
        &answers,
        form.current,
        form.policy,
        form.today,
        Entry::Typed,
    );
    let command = match parsed {
        Ok(command) => command,
        Err(errors) => return Ok(problems(step, &form.steps, &errors)),
    };
    match super::interactions::run(app, interaction, actor, id, &command, now).await? {
        Some(refused) => Ok(refused),
        None => {
            app.store.delete_draft(key).await?;
            Ok(ephemeral(&format!(
                "{}: recorded for {id}.",
                step.prompt.title()
            )))
        }
    }
}

/// The ephemeral list of what to fix, in the form's order, with a button that reopens the
/// first step that has a problem.
fn problems(step: Step, steps: &[Vec<Field>], errors: &prompts::Errors) -> Value {
    let mut lines = vec!["Some answers need fixing:".to_string()];
    let mut first = None;
    for (i, fields) in steps.iter().enumerate() {
        for f in fields {
            if let Some(message) = errors.get(f.id) {
                first.get_or_insert(i + 1);
                lines.push(format!("• {}: {message}", f.label));
            }
        }
    }
    let first = first.unwrap_or(1);
    ephemeral_with_button(
        &lines.join("\n"),
        "Fix answers",
        &step.at(first).button_id(),
    )
}

#[cfg(test)]
#[path = "prompts_tests.rs"]
mod tests;
