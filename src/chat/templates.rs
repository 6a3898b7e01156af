//! Handlebars templates for chat messages, shared by every platform's renderer: the
//! registry (strict mode, the platform's escape function, the `mention` helper and the
//! platform's own helpers), the built-in templates and a deployment's override directory,
//! the render contexts, and the fallbacks when a template fails.
//!
//! A platform says how it differs through [`Platform`]: where its built-in templates are,
//! how a `{{value}}` is escaped, how a user is mentioned, and how rendered JSON becomes a
//! message within the platform's limits. Every `{{value}}` goes through the platform's
//! escape function; unescaped output (`{{{…}}}`, `{{&…}}`) is refused when a template
//! loads, so the only raw output comes from helpers (a mention of a validated user id).
//!
//! Overrides are compiled and test-rendered against [`samples`] at startup, so a broken one
//! stops startup with an error naming the file rather than failing the first notification.

mod files;
pub mod samples;
#[cfg(test)]
pub mod testing;
pub mod text;

use std::marker::PhantomData;
use std::path::Path;

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderErrorReason,
};
use serde::Serialize;
use serde_json::Value;

pub(crate) use self::files::builtin_templates;
use self::files::override_files;
pub use self::files::{RenderError, Template};
use self::samples::Samples;
use crate::chat::view::{ApprovalView, BatchView, FindingCard, Note};
use crate::domain::FindingId;

/// What one chat platform's templates need that another's do not.
pub trait Platform: 'static {
    /// What [`Platform::finish`] makes of a rendered template.
    type Message;
    /// `Slack`, for error messages.
    const NAME: &'static str;
    /// `slack`: the platform of `platform:id` user references it can mention.
    const KEY: &'static str;
    /// The sample view models overrides are checked with.
    const SAMPLES: Samples;

    /// The built-in template (see [`builtin_templates!`]).
    fn builtin(t: Template) -> &'static str;
    /// The escape for every `{{value}}`: the platform's own, then JSON string content.
    fn escape(s: &str) -> String;
    /// The raw mention of a user id of this platform; `None` when `id` is not valid.
    fn mention(id: &str) -> Option<String>;
    /// Helpers of the platform's own, besides `mention`.
    fn register_helpers(_hb: &mut Handlebars<'static>) {}
    /// A rendered template's JSON as a message within the platform's limits; `Err` says
    /// what is wrong with its shape. `id` is the finding's, for pointers at the CLI.
    fn finish(value: Value, id: Option<&str>) -> Result<Self::Message, String>;
    /// The last resort when no template renders: a pointer at the CLI.
    fn unrenderable(id: Option<&str>) -> Self::Message;
}

/// A helper that writes `f(its parameter)` as is: `f` does the escaping. A missing
/// parameter is an error naming it (strict mode).
pub struct WriteHelper(pub &'static str, pub fn(&Value) -> String);

impl HelperDef for WriteHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let param = h
            .param(0)
            .ok_or(RenderErrorReason::ParamNotFoundForIndex(self.0, 0))?;
        if param.is_value_missing() {
            return Err(RenderErrorReason::MissingVariable(param.relative_path().cloned()).into());
        }
        out.write(&(self.1)(param.value()))?;
        Ok(())
    }
}

/// A template value as text: strings as they are, null as nothing, anything else as JSON.
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `{{mention owner}}`: the platform's mention for one of its users (an
/// [`crate::chat::view::OwnerRef`] or a `platform:id` string), escaped text for anyone
/// else, nothing for null.
fn mention<P: Platform>(who: &Value) -> String {
    match who {
        Value::Null => String::new(),
        Value::Object(o) => {
            let field = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default();
            if field("kind") == "user" {
                mention_text::<P>(field("text"))
            } else {
                P::escape(field("text"))
            }
        }
        Value::String(s) => mention_text::<P>(s),
        other => P::escape(&other.to_string()),
    }
}

/// The mention for `platform:id` when it is a valid user of `P`, else the escaped text.
fn mention_text<P: Platform>(reference: &str) -> String {
    match reference.split_once(':') {
        Some((platform, id)) if platform == P::KEY => {
            P::mention(id).unwrap_or_else(|| P::escape(reference))
        }
        _ => P::escape(reference),
    }
}

fn registry<P: Platform>() -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(P::escape);
    hb.register_helper("mention", Box::new(WriteHelper("mention", mention::<P>)));
    P::register_helpers(&mut hb);
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

/// The context of the note template: `{ id, note }`.
#[derive(Serialize)]
struct NoteContext<'a> {
    id: &'a str,
    note: &'a Note,
}

/// The context of the approval templates: `{ id, approval, outcome }`.
#[derive(Serialize)]
struct ApprovalContext<'a> {
    id: &'a str,
    approval: &'a ApprovalView,
    outcome: &'a str,
}

/// The context of the text template: `{ text }`.
#[derive(Serialize)]
struct TextContext<'a> {
    text: &'a str,
}

/// Renders view models into `P`'s messages. Build once at startup.
pub struct TemplateRenderer<P: Platform> {
    /// Built-ins, replaced by overrides where a deployment has them.
    hb: Handlebars<'static>,
    /// Built-ins only: the fallback if an override fails on data the samples did not cover.
    builtin: Handlebars<'static>,
    /// Where each template came from, for error messages (override file or built-in name).
    origin: Vec<(Template, String)>,
    platform: PhantomData<fn() -> P>,
}

impl<P: Platform> Clone for TemplateRenderer<P> {
    fn clone(&self) -> Self {
        TemplateRenderer {
            hb: self.hb.clone(),
            builtin: self.builtin.clone(),
            origin: self.origin.clone(),
            platform: PhantomData,
        }
    }
}

impl<P: Platform> std::fmt::Debug for TemplateRenderer<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(&format!("{}Renderer", P::NAME))
            .field("templates", &self.origin)
            .finish()
    }
}

impl<P: Platform> TemplateRenderer<P> {
    /// The built-in templates, with any in `override_dir` replacing them. Unknown file
    /// names (other than dot-files), templates that do not compile, and overrides that fail
    /// on sample data (a missing variable, invalid JSON) are errors naming the file.
    pub fn new(override_dir: Option<&Path>) -> Result<Self, RenderError> {
        let mut builtin = registry::<P>();
        let mut origin = Vec::new();
        for t in Template::ALL {
            let name = format!("built-in {}", t.file_name());
            compile(&mut builtin, t, P::builtin(t), &name)?;
            origin.push((t, name));
        }
        let mut renderer = TemplateRenderer {
            hb: builtin.clone(),
            builtin,
            origin,
            platform: PhantomData,
        };
        if let Some(dir) = override_dir {
            for (t, file) in override_files::<P>(dir)? {
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
        let samples = P::SAMPLES;
        let id = Samples::id().to_string();
        let (id, some_id) = (id.as_str(), Some(id.as_str()));
        match t {
            Template::FindingRoot => {
                for card in samples.cards() {
                    self.render_with(&self.hb, t, &card, Some(&card.id))?;
                }
            }
            Template::Note => {
                for note in samples.notes() {
                    let ctx = NoteContext { id, note: &note };
                    self.render_with(&self.hb, t, &ctx, some_id)?;
                }
            }
            Template::Approval | Template::ApprovalClosed => {
                for approval in samples.approvals() {
                    let ctx = ApprovalContext {
                        id,
                        approval: &approval,
                        outcome: "approved",
                    };
                    self.render_with(&self.hb, t, &ctx, some_id)?;
                }
            }
            Template::Text => {
                self.render_with(&self.hb, t, &TextContext { text: "sample" }, None)?;
            }
            Template::Batch => {
                for batch in Samples::batches() {
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
    ) -> Result<P::Message, RenderError> {
        let template = || self.origin(t).to_string();
        let json = hb.render(t.name(), ctx).map_err(|e| RenderError::Render {
            template: template(),
            message: e.to_string(),
        })?;
        let value: Value = serde_json::from_str(&json).map_err(|e| RenderError::InvalidJson {
            template: template(),
            message: e.to_string(),
        })?;
        P::finish(value, id).map_err(|message| RenderError::Shape {
            template: template(),
            message,
        })
    }

    /// Render, falling back to the built-in template if an override fails, and to a plain
    /// pointer at the CLI if even that fails (a bug: built-ins have golden tests).
    fn render(&self, t: Template, ctx: &impl Serialize, id: Option<&str>) -> P::Message {
        match self.render_with(&self.hb, t, ctx, id) {
            Ok(m) => m,
            Err(err) => {
                tracing::warn!(platform = P::NAME, template = t.name(), error = %err, "template failed; using the built-in one");
                self.render_with(&self.builtin, t, ctx, id)
                    .unwrap_or_else(|err| {
                        tracing::error!(platform = P::NAME, template = t.name(), error = %err, "built-in template failed");
                        P::unrenderable(id)
                    })
            }
        }
    }

    /// A finding's root message: title, facts, description, and the buttons for its stage.
    pub fn root(&self, card: &FindingCard) -> P::Message {
        self.render(Template::FindingRoot, card, Some(&card.id))
    }

    /// A thread reply about one event.
    pub fn note(&self, note: &Note, id: FindingId) -> P::Message {
        let id = id.to_string();
        let ctx = NoteContext { id: &id, note };
        self.render(Template::Note, &ctx, Some(&id))
    }

    /// An open approval request with Approve / Reject buttons.
    pub fn approval(&self, approval: &ApprovalView, id: FindingId) -> P::Message {
        self.approval_message(Template::Approval, approval, id, "")
    }

    /// The approval message once decided or withdrawn: the final tally and `outcome`
    /// (e.g. "approved", "rejected", "withdrawn"), without buttons.
    pub fn approval_closed(
        &self,
        approval: &ApprovalView,
        id: FindingId,
        outcome: &str,
    ) -> P::Message {
        self.approval_message(Template::ApprovalClosed, approval, id, outcome)
    }

    fn approval_message(
        &self,
        t: Template,
        approval: &ApprovalView,
        id: FindingId,
        outcome: &str,
    ) -> P::Message {
        let id = id.to_string();
        let ctx = ApprovalContext {
            id: &id,
            approval,
            outcome,
        };
        self.render(t, &ctx, Some(&id))
    }

    /// The summary of a flood of new findings in one channel (a thread for the batch).
    pub fn batch(&self, batch: &BatchView) -> P::Message {
        self.render(Template::Batch, batch, None)
    }

    /// A plain, escaped text message (ephemeral errors and confirmations).
    pub fn text(&self, text: &str) -> P::Message {
        self.render(Template::Text, &TextContext { text }, None)
    }
}
