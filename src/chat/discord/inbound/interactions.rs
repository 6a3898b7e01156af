//! Component clicks (type 3) and modal submissions (type 5).
//!
//! Custom ids are the message renderer's: `rb:<action>:<F-id>` on buttons (`acknowledge`,
//! `approve`, and the prompts' keys `triage`, `rca`, `plan`, `fixed`, `accept_risk`,
//! `reject`), `rb:assign:<F-id>` on the user select; the forms' own are
//! `rb:step:<prompt>:<step>:<F-id>` (a button that opens a form's step) and
//! `rb:m:<prompt>:<step>:<F-id>` (a modal). A command that runs answers with a deferred
//! update (the outbox edits the message); a refusal, a missing finding or a foreign custom
//! id answers with an ephemeral message and changes nothing.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::prompts::{self, Step};
use super::{InboundError, callback, ephemeral, str_at};
use crate::app::{App, AppError};
use crate::chat::prompts::Prompt;
use crate::domain::{Actor, Command, FindingId, Source};

/// What a component of ours asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Click {
    Acknowledge,
    Approve,
    /// The user select: assign to the chosen person.
    Assign,
    /// Open a prompt's form at a step (1 from the message's buttons).
    Open(Prompt, usize),
}

impl Click {
    /// The click and finding a custom id names, or `None` for one that is not ours.
    pub fn parse(custom_id: &str) -> Option<(Click, FindingId)> {
        let rest = custom_id.strip_prefix("rb:")?;
        if let Some(step) = rest.strip_prefix("step:") {
            let Step { prompt, step, id } = Step::parse(step)?;
            return Some((Click::Open(prompt, step), id));
        }
        let (action, id) = rest.split_once(':')?;
        let click = match action {
            "acknowledge" => Click::Acknowledge,
            "approve" => Click::Approve,
            "assign" => Click::Assign,
            other => Click::Open(Prompt::from_key(other)?, 1),
        };
        Some((click, id.parse().ok()?))
    }
}

/// Answer a button click or a select.
pub async fn component(
    app: &App,
    interaction: &Value,
    now: DateTime<Utc>,
) -> Result<Value, InboundError> {
    let actor = super::actor(interaction)?;
    let custom_id = str_at(interaction, "/data/custom_id").unwrap_or_default();
    let Some((click, id)) = Click::parse(custom_id) else {
        tracing::debug!(custom_id, "Discord component not ours");
        return Ok(ephemeral("This button is not remedybot's."));
    };
    let command = match click {
        Click::Open(prompt, step) => {
            return prompts::open(app, &actor, prompt, step, id, now).await;
        }
        Click::Acknowledge => Command::Acknowledge,
        Click::Approve => Command::Vote {
            approve: true,
            reason: None,
        },
        Click::Assign => match str_at(interaction, "/data/values/0") {
            Some(user) => Command::Assign {
                owner: format!("discord:{user}"),
            },
            None => return Ok(ephemeral("Choose the person to assign it to.")),
        },
    };
    let done = json!({ "type": callback::DEFERRED_UPDATE });
    run(app, interaction, &actor, id, &command, now)
        .await
        .map(|refused| refused.unwrap_or(done))
}

/// Answer a modal submission: one step of a prompt's form.
pub async fn modal_submit(
    app: &App,
    interaction: &Value,
    now: DateTime<Utc>,
) -> Result<Value, InboundError> {
    let actor = super::actor(interaction)?;
    let custom_id = str_at(interaction, "/data/custom_id").unwrap_or_default();
    let Some(step) = custom_id.strip_prefix("rb:m:").and_then(Step::parse) else {
        tracing::debug!(custom_id, "Discord modal not ours");
        return Ok(ephemeral("This form is not remedybot's."));
    };
    let answers = prompts::submitted(interaction.get("data").unwrap_or(&Value::Null));
    prompts::submit(app, interaction, &actor, step, &answers, now).await
}

/// Run `command` for the person who acted. `Ok(None)`: it ran; `Ok(Some(reply))`: the
/// ephemeral answer to a refusal or a missing finding (nothing changed). A vote is judged
/// with the approver groups the voter's roles put them in.
pub(super) async fn run(
    app: &App,
    interaction: &Value,
    actor: &Actor,
    id: FindingId,
    command: &Command,
    now: DateTime<Utc>,
) -> Result<Option<Value>, InboundError> {
    let groups = match command {
        Command::Vote { .. } => super::voter_groups(app, actor, &super::roles(interaction)),
        _ => None,
    };
    match app
        .execute_with_groups(id, command, actor, Source::Discord, groups, now)
        .await
    {
        Ok(_) => Ok(None),
        Err(AppError::Refused(r)) => {
            tracing::info!(finding.id = %id, reason = %r, "Discord action refused");
            Ok(Some(ephemeral(&format!("{id}: {r}"))))
        }
        Err(AppError::NotFound(_)) => Ok(Some(ephemeral(&format!("{id} does not exist.")))),
        Err(AppError::Store(e)) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(key: i64) -> FindingId {
        FindingId::from_key(key)
    }

    #[test]
    fn the_renderers_custom_ids_map_to_clicks() {
        assert_eq!(
            Click::parse("rb:acknowledge:F-12"),
            Some((Click::Acknowledge, f(12)))
        );
        assert_eq!(Click::parse("rb:approve:F-3"), Some((Click::Approve, f(3))));
        assert_eq!(Click::parse("rb:assign:F-12"), Some((Click::Assign, f(12))));
        for (action, prompt) in [
            ("triage", Prompt::Triage),
            ("rca", Prompt::Rca),
            ("plan", Prompt::FixPlan),
            ("fixed", Prompt::Evidence),
            ("accept_risk", Prompt::AcceptRisk),
            ("reject", Prompt::Reject),
        ] {
            assert_eq!(
                Click::parse(&format!("rb:{action}:F-7")),
                Some((Click::Open(prompt, 1), f(7))),
                "{action}"
            );
        }
        assert_eq!(
            Click::parse("rb:step:triage:2:F-7"),
            Some((Click::Open(Prompt::Triage, 2), f(7)))
        );
    }

    #[test]
    fn foreign_custom_ids_are_not_clicks() {
        for id in [
            "click_one",
            "rb:",
            "rb:approve",
            "rb:approve:x",
            "rb:dance:F-1",
            "rb:step:triage:F-1",
            "rb:step:nope:1:F-1",
            "rb:step:triage:zero:F-1",
            "rb:m:triage:1:F-1",
        ] {
            assert_eq!(Click::parse(id), None, "{id}");
        }
    }
}
