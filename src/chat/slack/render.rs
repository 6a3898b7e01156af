//! Block Kit messages from handlebars templates (`templates/slack/*.json.hbs`) and the
//! view models in [`crate::chat::view`].
//!
//! Every `{{value}}` is Slack-escaped and then JSON-string-escaped, so templates put values
//! inside JSON string literals and finding text can neither ping anyone nor break the JSON.
//! Unescaped output (`{{{…}}}`, `{{&…}}`) is refused when a template loads; the only raw
//! output is the `mention` helper's `<@U…>` for a validated Slack user id. After rendering,
//! the JSON is parsed and Slack's Block Kit limits are enforced (see `limits`), so an
//! over-long scanner description shortens the message instead of making Slack reject it.
//!
//! A deployment may replace any template with a file of the same name in an override
//! directory; overrides are compiled and test-rendered at startup, so a broken one stops
//! startup with an error naming the file rather than failing the first notification.

mod limits;
mod samples;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};
use serde::Serialize;
use serde_json::Value;

use super::escape::{escape_mrkdwn, is_slack_user_id};
use crate::chat::view::{ApprovalView, BatchView, FindingCard, Note};
use crate::domain::FindingId;

/// A message ready for `chat.postMessage` / `chat.update`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlackMessage {
    /// The notification fallback (mrkdwn, already escaped).
    pub text: String,
    pub blocks: Vec<Value>,
}

/// The templates a deployment can override, one file each (`<name>.json.hbs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// A finding's root message: the card with its action buttons.
    FindingRoot,
    /// A thread reply saying what happened.
    Note,
    /// An open approval request with Approve / Reject buttons.
    Approval,
    /// An approval request that has been decided or withdrawn (no buttons).
    ApprovalClosed,
    /// A plain text message (ephemeral errors and confirmations).
    Text,
    /// The summary of an import that would have opened too many threads in one channel.
    Batch,
}

impl Template {
    pub const ALL: [Template; 6] = [
        Template::FindingRoot,
        Template::Note,
        Template::Approval,
        Template::ApprovalClosed,
        Template::Text,
        Template::Batch,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Template::FindingRoot => "finding_root",
            Template::Note => "note",
            Template::Approval => "approval",
            Template::ApprovalClosed => "approval_closed",
            Template::Text => "text",
            Template::Batch => "batch",
        }
    }

    /// `finding_root.json.hbs`.
    pub fn file_name(self) -> String {
        format!("{}.json.hbs", self.name())
    }

    fn builtin(self) -> &'static str {
        match self {
            Template::FindingRoot => include_str!("../../../templates/slack/finding_root.json.hbs"),
            Template::Note => include_str!("../../../templates/slack/note.json.hbs"),
            Template::Approval => include_str!("../../../templates/slack/approval.json.hbs"),
            Template::ApprovalClosed => {
                include_str!("../../../templates/slack/approval_closed.json.hbs")
            }
            Template::Text => include_str!("../../../templates/slack/text.json.hbs"),
            Template::Batch => include_str!("../../../templates/slack/batch.json.hbs"),
        }
    }

    fn from_file_name(file: &str) -> Option<Template> {
        Template::ALL.into_iter().find(|t| t.file_name() == file)
    }
}

/// Why templates could not be loaded or a message not rendered. Each names the template
/// (for overrides, its file).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read the Slack template directory {dir}: {source}")]
    ReadDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: cannot read the template: {source}")]
    ReadFile {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: not a Slack template remedybot uses; expected one of: {expected}")]
    UnknownTemplate { file: PathBuf, expected: String },
    #[error("{template}{}: {message}", position.map(|(l, c)| format!(" (line {l}, column {c})")).unwrap_or_default())]
    Compile {
        template: String,
        position: Option<(usize, usize)>,
        message: String,
    },
    #[error("{template}: rendering failed: {message}")]
    Render { template: String, message: String },
    #[error("{template}: the rendered message is not valid JSON: {message}")]
    InvalidJson { template: String, message: String },
    #[error("{template}: {message}")]
    Shape { template: String, message: String },
}

/// Renders view models into [`SlackMessage`]s. Build once at startup.
#[derive(Clone)]
pub struct SlackRenderer {
    /// Built-ins, replaced by overrides where a deployment has them.
    hb: Handlebars<'static>,
    /// Built-ins only: the fallback if an override fails on data the samples did not cover.
    builtin: Handlebars<'static>,
    /// Where each template came from, for error messages (override file or built-in name).
    origin: Vec<(Template, String)>,
}

impl std::fmt::Debug for SlackRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackRenderer")
            .field("templates", &self.origin)
            .finish()
    }
}

/// The escape for every `{{value}}`: Slack first, then JSON string content.
fn escape_for_json_mrkdwn(s: &str) -> String {
    json_string_content(&escape_mrkdwn(s))
}

/// `s` as it appears between the quotes of a JSON string.
fn json_string_content(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted[1..quoted.len() - 1].to_string()
}

/// `{{mention owner}}`: `<@U…>` for a Slack user ([`crate::chat::view::OwnerRef`] or a
/// `platform:id` string), escaped text for anyone else, nothing for null.
fn mention_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let param = h
        .param(0)
        .ok_or(RenderErrorReason::ParamNotFoundForIndex("mention", 0))?;
    if param.is_value_missing() {
        return Err(RenderErrorReason::MissingVariable(param.relative_path().cloned()).into());
    }
    let text = match param.value() {
        Value::Null => String::new(),
        Value::Object(o) => {
            let field = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default();
            if field("kind") == "user" && field("platform") == "slack" {
                slack_mention(field("id"))
            } else {
                escape_for_json_mrkdwn(field("text"))
            }
        }
        Value::String(s) => match s.split_once(':') {
            Some(("slack", id)) => slack_mention(id),
            _ => escape_for_json_mrkdwn(s),
        },
        other => escape_for_json_mrkdwn(&other.to_string()),
    };
    out.write(&text)?;
    Ok(())
}

fn slack_mention(id: &str) -> String {
    if is_slack_user_id(id) {
        format!("<@{id}>")
    } else {
        escape_for_json_mrkdwn(&format!("slack:{id}"))
    }
}

fn registry() -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(escape_for_json_mrkdwn);
    hb.register_helper("mention", Box::new(mention_helper));
    hb
}

fn compile(
    hb: &mut Handlebars<'static>,
    t: Template,
    source: &str,
    origin: &str,
) -> Result<(), RenderError> {
    if let Some(at) = source.find("{{{").or_else(|| source.find("{{&")) {
        let line = source[..at].matches('\n').count() + 1;
        let column = at - source[..at].rfind('\n').map_or(0, |nl| nl + 1) + 1;
        return Err(RenderError::Compile {
            template: origin.to_string(),
            position: Some((line, column)),
            message: "unescaped output ({{{…}}} or {{&…}}) is not allowed: finding text could \
                      ping people or break the JSON; use {{…}}"
                .into(),
        });
    }
    hb.register_template_string(t.name(), source)
        .map_err(|e| RenderError::Compile {
            template: origin.to_string(),
            position: e.pos(),
            message: e.reason().to_string(),
        })
}

#[derive(Serialize)]
struct NoteContext<'a> {
    id: &'a str,
    note: &'a Note,
}

impl<'a> NoteContext<'a> {
    fn new(id: &'a str, note: &'a Note) -> Self {
        NoteContext { id, note }
    }
}

#[derive(Serialize)]
struct ApprovalContext<'a> {
    id: &'a str,
    approval: &'a ApprovalView,
    outcome: &'a str,
}

impl<'a> ApprovalContext<'a> {
    fn new(id: &'a str, approval: &'a ApprovalView, outcome: &'a str) -> Self {
        ApprovalContext {
            id,
            approval,
            outcome,
        }
    }
}

#[derive(Serialize)]
struct TextContext<'a> {
    text: &'a str,
}

impl SlackRenderer {
    /// The built-in templates, with any in `override_dir` replacing them. Unknown file
    /// names (other than dot-files), templates that do not compile, and overrides that fail
    /// on sample data (a missing variable, invalid JSON) are errors naming the file.
    pub fn new(override_dir: Option<&Path>) -> Result<SlackRenderer, RenderError> {
        let mut builtin = registry();
        let mut origin = Vec::new();
        for t in Template::ALL {
            let name = format!("built-in {}", t.file_name());
            compile(&mut builtin, t, t.builtin(), &name)?;
            origin.push((t, name));
        }
        let mut renderer = SlackRenderer {
            hb: builtin.clone(),
            builtin,
            origin,
        };
        if let Some(dir) = override_dir {
            for (t, file) in override_files(dir)? {
                let source =
                    std::fs::read_to_string(&file).map_err(|source| RenderError::ReadFile {
                        file: file.clone(),
                        source,
                    })?;
                let label = file.display().to_string();
                compile(&mut renderer.hb, t, &source, &label)?;
                renderer.set_origin(t, label);
                renderer.check_with_samples(t)?;
            }
        }
        Ok(renderer)
    }

    fn set_origin(&mut self, t: Template, label: String) {
        if let Some(entry) = self.origin.iter_mut().find(|(x, _)| *x == t) {
            entry.1 = label;
        }
    }

    fn origin(&self, t: Template) -> &str {
        self.origin
            .iter()
            .find(|(x, _)| *x == t)
            .map_or(t.name(), |(_, o)| o.as_str())
    }

    /// Render a template against every sample view model it may see.
    fn check_with_samples(&self, t: Template) -> Result<(), RenderError> {
        let id = samples::id().to_string();
        let (id, some_id) = (id.as_str(), Some(id.as_str()));
        match t {
            Template::FindingRoot => {
                for card in samples::cards() {
                    self.render_with(&self.hb, t, &card, Some(&card.id))?;
                }
            }
            Template::Note => {
                for note in samples::notes() {
                    let ctx = NoteContext::new(id, &note);
                    self.render_with(&self.hb, t, &ctx, some_id)?;
                }
            }
            Template::Approval | Template::ApprovalClosed => {
                for approval in samples::approvals() {
                    let ctx = ApprovalContext::new(id, &approval, "approved");
                    self.render_with(&self.hb, t, &ctx, some_id)?;
                }
            }
            Template::Text => {
                self.render_with(&self.hb, t, &TextContext { text: "sample" }, None)?;
            }
            Template::Batch => {
                for batch in samples::batches() {
                    self.render_with(&self.hb, t, &batch, None)?;
                }
            }
        }
        Ok(())
    }

    fn render_with(
        &self,
        hb: &Handlebars<'static>,
        t: Template,
        ctx: &impl Serialize,
        id: Option<&str>,
    ) -> Result<SlackMessage, RenderError> {
        let template = || self.origin(t).to_string();
        let json = hb.render(t.name(), ctx).map_err(|e| RenderError::Render {
            template: template(),
            message: e.to_string(),
        })?;
        let value: Value = serde_json::from_str(&json).map_err(|e| RenderError::InvalidJson {
            template: template(),
            message: e.to_string(),
        })?;
        limits::finish(value, id).map_err(|message| RenderError::Shape {
            template: template(),
            message,
        })
    }

    /// Render, falling back to the built-in template if an override fails, and to a plain
    /// pointer at the CLI if even that fails (a bug: built-ins have golden tests).
    fn render(&self, t: Template, ctx: &impl Serialize, id: Option<&str>) -> SlackMessage {
        match self.render_with(&self.hb, t, ctx, id) {
            Ok(m) => m,
            Err(err) => {
                tracing::warn!(template = t.name(), error = %err, "Slack template failed; using the built-in one");
                self.render_with(&self.builtin, t, ctx, id)
                    .unwrap_or_else(|err| {
                        tracing::error!(template = t.name(), error = %err, "built-in Slack template failed");
                        limits::unrenderable(id)
                    })
            }
        }
    }
    /// A finding's root message: title, facts, description, and the buttons for its stage.
    pub fn root(&self, card: &FindingCard) -> SlackMessage {
        self.render(Template::FindingRoot, card, Some(&card.id))
    }

    /// A thread reply about one event.
    pub fn note(&self, note: &Note, id: FindingId) -> SlackMessage {
        let id = id.to_string();
        self.render(Template::Note, &NoteContext::new(&id, note), Some(&id))
    }

    /// An open approval request with Approve / Reject buttons.
    pub fn approval(&self, approval: &ApprovalView, id: FindingId) -> SlackMessage {
        self.approval_message(Template::Approval, approval, id, "")
    }

    /// The approval message once decided or withdrawn: the final tally and `outcome`
    /// (e.g. "approved", "rejected", "withdrawn"), without buttons.
    pub fn approval_closed(
        &self,
        approval: &ApprovalView,
        id: FindingId,
        outcome: &str,
    ) -> SlackMessage {
        self.approval_message(Template::ApprovalClosed, approval, id, outcome)
    }

    fn approval_message(
        &self,
        t: Template,
        approval: &ApprovalView,
        id: FindingId,
        outcome: &str,
    ) -> SlackMessage {
        let id = id.to_string();
        self.render(t, &ApprovalContext::new(&id, approval, outcome), Some(&id))
    }

    /// The summary of a flood of new findings in one channel (a thread for the batch).
    pub fn batch(&self, batch: &BatchView) -> SlackMessage {
        self.render(Template::Batch, batch, None)
    }

    /// A plain, escaped text message (ephemeral errors and confirmations).
    pub fn text(&self, text: &str) -> SlackMessage {
        self.render(Template::Text, &TextContext { text }, None)
    }
}

/// The template files in an override directory; dot-files are ignored, anything else must
/// be one of [`Template::ALL`].
fn override_files(dir: &Path) -> Result<Vec<(Template, PathBuf)>, RenderError> {
    let read_dir = |source| RenderError::ReadDir {
        dir: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_dir)? {
        let path = entry.map_err(read_dir)?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        match Template::from_file_name(&name) {
            Some(t) if path.is_file() => files.push((t, path)),
            _ => {
                return Err(RenderError::UnknownTemplate {
                    file: path,
                    expected: Template::ALL.map(Template::file_name).join(", "),
                });
            }
        }
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(files)
}
