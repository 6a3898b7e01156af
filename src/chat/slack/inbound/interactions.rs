//! `POST /slack/interactions`: button clicks (`block_actions`) and modal submissions
//! (`view_submission`), form-encoded as `payload=<json>`.
//!
//! Action ids are the message renderer's (`rb:acknowledge`, `rb:approve`, …) and the
//! button's `value` is the finding id; a `users_select` carries the id in its block id
//! (`rb:actions:F-12`). Buttons that need answers open a modal at once (`views.open`
//! inline: the `trigger_id` expires in 3 s); the others run their command. A refusal is
//! told only to the person who clicked (an ephemeral message) and changes nothing.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{InboundError, Reply, Whisper, actor};
use crate::app::{App, AppError};
use crate::chat::slack::Slack;
use crate::chat::slack::modals::{self, Prompt};
use crate::domain::{Actor, Command, FindingId, Refusal, Source};

/// The block id prefix of the action row whose `users_select` carries no value.
const ACTIONS_BLOCK: &str = "rb:actions:";

/// What a button of ours asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Acknowledge,
    Approve,
    Assign,
    /// Open the modal for this prompt.
    Open(Prompt),
}

impl Action {
    pub fn from_action_id(id: &str) -> Option<Action> {
        Some(match id {
            "rb:acknowledge" => Action::Acknowledge,
            "rb:approve" => Action::Approve,
            "rb:assign" => Action::Assign,
            "rb:triage" => Action::Open(Prompt::Triage),
            "rb:rca" => Action::Open(Prompt::Rca),
            "rb:plan" => Action::Open(Prompt::FixPlan),
            "rb:fixed" => Action::Open(Prompt::Evidence),
            "rb:accept_risk" => Action::Open(Prompt::AcceptRisk),
            "rb:reject" => Action::Open(Prompt::Reject),
            _ => return None,
        })
    }
}

/// Answer one interactivity request (body already verified).
pub async fn handle(
    app: &App,
    slack: &Arc<Slack>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Reply, InboundError> {
    let form = super::form(body);
    let payload = form
        .get("payload")
        .ok_or_else(|| InboundError::BadRequest("the form has no `payload` field".into()))?;
    let payload: Value = serde_json::from_str(payload)
        .map_err(|e| InboundError::BadRequest(format!("`payload` is not JSON: {e}")))?;
    match payload.get("type").and_then(Value::as_str) {
        Some("block_actions") => block_actions(app, slack, &payload, now).await,
        Some("view_submission") => view_submission(app, slack, &payload, now).await,
        other => {
            tracing::debug!(kind = ?other, "Slack interaction ignored");
            Ok(Reply::Empty)
        }
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The finding a clicked element is about: its `value`, else its block id's suffix.
fn finding_of(action: &Value) -> Option<FindingId> {
    str_at(action, "/value")
        .and_then(|v| v.parse().ok())
        .or_else(|| {
            str_at(action, "/block_id")?
                .strip_prefix(ACTIONS_BLOCK)?
                .parse()
                .ok()
        })
}

async fn block_actions(
    app: &App,
    slack: &Arc<Slack>,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<Reply, InboundError> {
    let actor = actor(payload.get("user").unwrap_or(&Value::Null))?;
    let whisper = Whisper {
        user: actor.id.clone(),
        channel: str_at(payload, "/channel/id")
            .or_else(|| str_at(payload, "/container/channel_id"))
            .map(str::to_string),
        thread_ts: str_at(payload, "/container/thread_ts").map(str::to_string),
    };
    let actions = payload.get("actions").and_then(Value::as_array);
    for action in actions.into_iter().flatten() {
        let Some(kind) = str_at(action, "/action_id").and_then(Action::from_action_id) else {
            continue;
        };
        let Some(id) = finding_of(action) else {
            whisper
                .clone()
                .send(slack, "This button does not name a finding.".into());
            continue;
        };
        let command = match kind {
            Action::Acknowledge => Command::Acknowledge,
            Action::Approve => Command::Vote {
                approve: true,
                reason: None,
            },
            Action::Assign => match str_at(action, "/selected_user") {
                Some(user) => Command::Assign {
                    owner: format!("slack:{user}"),
                },
                None => continue,
            },
            Action::Open(prompt) => {
                let trigger = str_at(payload, "/trigger_id").unwrap_or_default();
                open_modal(app, slack, prompt, id, trigger, &whisper, now).await?;
                continue;
            }
        };
        run(app, slack, id, &command, &actor, whisper.clone(), now).await?;
    }
    Ok(Reply::Empty)
}

/// Run a command for a click; a refusal or a missing finding is told to the clicker.
async fn run(
    app: &App,
    slack: &Arc<Slack>,
    id: FindingId,
    command: &Command,
    actor: &Actor,
    whisper: Whisper,
    now: DateTime<Utc>,
) -> Result<(), InboundError> {
    match app.execute(id, command, actor, Source::Slack, now).await {
        Ok(_) => Ok(()),
        Err(AppError::Refused(r)) => {
            tracing::info!(finding.id = %id, reason = %r, "Slack action refused");
            whisper.send(slack, format!("{id}: {r}"));
            Ok(())
        }
        Err(AppError::NotFound(_)) => {
            whisper.send(slack, format!("{id} does not exist."));
            Ok(())
        }
        Err(AppError::Store(e)) => Err(e.into()),
    }
}

async fn open_modal(
    app: &App,
    slack: &Arc<Slack>,
    prompt: Prompt,
    id: FindingId,
    trigger_id: &str,
    whisper: &Whisper,
    now: DateTime<Utc>,
) -> Result<(), InboundError> {
    let Some(finding) = app.store.finding(id).await? else {
        whisper.clone().send(slack, format!("{id} does not exist."));
        return Ok(());
    };
    let view = modals::modal(
        prompt,
        id,
        &finding.state.title,
        finding.state.severity,
        app.settings
            .policy_for_route(finding.state.route.as_deref()),
        now.date_naive(),
    );
    let body = json!({ "trigger_id": trigger_id, "view": view });
    if let Err(e) = slack.api.post("views.open", &body).await {
        tracing::warn!(error = %e, finding.id = %id, "views.open failed");
        whisper.clone().send(
            slack,
            format!("remedybot could not open the form for {id}: {e}"),
        );
    }
    Ok(())
}

async fn view_submission(
    app: &App,
    slack: &Arc<Slack>,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<Reply, InboundError> {
    let actor = actor(payload.get("user").unwrap_or(&Value::Null))?;
    let Some(prompt) = str_at(payload, "/view/callback_id").and_then(Prompt::from_callback_id)
    else {
        return Ok(Reply::Empty);
    };
    let id: FindingId = str_at(payload, "/view/private_metadata")
        .and_then(|m| m.parse().ok())
        .ok_or_else(|| {
            InboundError::BadRequest("the modal's private_metadata is not a finding id".into())
        })?;
    let user = actor.id.as_str();
    let tell = |text: String| async move {
        Whisper::about(app, user, id).await.send(slack, text);
        Ok(Reply::Json(json!({ "response_action": "clear" })))
    };
    let Some(finding) = app.store.finding(id).await? else {
        return tell(format!("{id} does not exist.")).await;
    };
    let values = payload
        .pointer("/view/state/values")
        .unwrap_or(&Value::Null);
    let command = match modals::parse_submission(
        prompt,
        values,
        finding.state.severity,
        app.settings
            .policy_for_route(finding.state.route.as_deref()),
        now.date_naive(),
    ) {
        Ok(command) => command,
        Err(errors) => return Ok(errors_reply(errors.into_iter())),
    };
    match app.execute(id, &command, &actor, Source::Slack, now).await {
        Ok(_) => Ok(Reply::Empty),
        Err(AppError::Refused(r)) => match refusal_field(prompt, &r) {
            Some(block) => Ok(errors_reply(
                [(block.to_string(), upper_first(&r.to_string()))].into_iter(),
            )),
            None => tell(format!("{id}: {r}")).await,
        },
        Err(AppError::NotFound(_)) => tell(format!("{id} does not exist.")).await,
        Err(AppError::Store(e)) => Err(e.into()),
    }
}

fn errors_reply(errors: impl Iterator<Item = (String, String)>) -> Reply {
    let errors: serde_json::Map<String, Value> = errors.map(|(k, v)| (k, json!(v))).collect();
    Reply::Json(json!({ "response_action": "errors", "errors": errors }))
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The modal input a workflow refusal is about, when it is about one the modal has.
/// Block ids are those of [`modals`] (`reason`, `until`, `duplicate_of`, …).
fn refusal_field(prompt: Prompt, refusal: &Refusal) -> Option<&'static str> {
    let text = refusal.to_string();
    let block = match refusal {
        Refusal::Missing { field } if field.contains("duplicates") => "duplicate_of",
        Refusal::Missing { field } if field.contains("expiry") => "until",
        Refusal::Missing { field } if field.contains("reason") => "reason",
        Refusal::Missing { field } if field.contains("cause") => "cause",
        Refusal::Missing { field } if field.contains("why") => "why1",
        Refusal::Missing { field } if *field == "plan" => "plan",
        Refusal::Missing { field } if field.contains("evidence") => "link",
        Refusal::Invalid(_) if text.contains("risk acceptance must expire") => "until",
        Refusal::Invalid(_) if text.contains("can be accepted for at most") => "until",
        Refusal::Invalid(_)
            if text.contains("duplicate itself")
                || text.contains("does not exist")
                || text.contains("is not a finding id") =>
        {
            "duplicate_of"
        }
        _ => return None,
    };
    let inputs: &[&str] = match prompt {
        Prompt::Triage => &["duplicate_of", "until", "reason"],
        Prompt::AcceptRisk => &["reason", "until"],
        Prompt::Rca => &["cause", "why1"],
        Prompt::FixPlan => &["plan"],
        Prompt::Evidence => &["link"],
        Prompt::Reject => &["reason"],
    };
    inputs.contains(&block).then_some(block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_ids_map_to_actions() {
        assert_eq!(Action::from_action_id("rb:approve"), Some(Action::Approve));
        assert_eq!(
            Action::from_action_id("rb:fixed"),
            Some(Action::Open(Prompt::Evidence))
        );
        assert_eq!(Action::from_action_id("save"), None);
    }

    #[test]
    fn the_finding_comes_from_the_value_or_the_block_id() {
        assert_eq!(
            finding_of(&json!({"value": "F-12"})),
            Some(FindingId::from_key(12))
        );
        let select = json!({"block_id": "rb:actions:F-7", "selected_user": "U1"});
        assert_eq!(finding_of(&select), Some(FindingId::from_key(7)));
        assert_eq!(finding_of(&json!({"value": "x", "block_id": "b"})), None);
    }

    #[test]
    fn refusals_about_an_input_point_at_it() {
        let missing = Refusal::Missing {
            field: "an expiry date for the risk acceptance",
        };
        assert_eq!(refusal_field(Prompt::AcceptRisk, &missing), Some("until"));
        let gone = Refusal::Invalid("F-9 does not exist".into());
        assert_eq!(refusal_field(Prompt::Triage, &gone), Some("duplicate_of"));
        assert_eq!(refusal_field(Prompt::Rca, &gone), None);
        assert_eq!(refusal_field(Prompt::Triage, &Refusal::AlreadyVoted), None);
    }
}
