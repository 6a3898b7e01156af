//! The templates a deployment can override: their names and files, the built-ins compiled
//! into the binary, an override directory's files, and the errors loading them gives.

use std::path::{Path, PathBuf};

use super::Platform;

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

    pub(super) fn from_file_name(file: &str) -> Option<Template> {
        Template::ALL.into_iter().find(|t| t.file_name() == file)
    }
}

/// `builtin_templates!("slack")`: a `fn(Template) -> &'static str` giving the built-in
/// templates in `templates/slack/`, compiled into the binary.
macro_rules! builtin_templates {
    ($dir:literal) => {
        |t: $crate::chat::templates::Template| -> &'static str {
            use $crate::chat::templates::Template;
            macro_rules! file {
                ($name:literal) => {
                    include_str!(concat!(
                        env!("CARGO_MANIFEST_DIR"),
                        "/templates/",
                        $dir,
                        "/",
                        $name,
                        ".json.hbs"
                    ))
                };
            }
            match t {
                Template::FindingRoot => file!("finding_root"),
                Template::Note => file!("note"),
                Template::Approval => file!("approval"),
                Template::ApprovalClosed => file!("approval_closed"),
                Template::Text => file!("text"),
                Template::Batch => file!("batch"),
            }
        }
    };
}
pub(crate) use builtin_templates;

/// Why templates could not be loaded or a message not rendered. Each names the template
/// (for overrides, its file).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read the {platform} template directory {dir}: {source}")]
    ReadDir {
        platform: &'static str,
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: cannot read the template: {source}")]
    ReadFile {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: not a {platform} template remedybot uses; expected one of: {expected}")]
    UnknownTemplate {
        platform: &'static str,
        file: PathBuf,
        expected: String,
    },
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

/// The template files in an override directory; dot-files are ignored, anything else must
/// be one of [`Template::ALL`].
pub(super) fn override_files<P: Platform>(
    dir: &Path,
) -> Result<Vec<(Template, PathBuf)>, RenderError> {
    let read_dir = |source| RenderError::ReadDir {
        platform: P::NAME,
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
                    platform: P::NAME,
                    file: path,
                    expected: Template::ALL.map(Template::file_name).join(", "),
                });
            }
        }
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(files)
}
