//! Ingest: bytes from a scanner or client → validated [`NewFinding`]s, plus what the input
//! says about findings it no longer calls open ([`StatusReport`]). One file per input
//! format; this module picks the parser and owns the error type. Nothing here touches the
//! store.

pub mod asff;
pub mod csv;
pub mod generic;
pub mod github;
pub mod grype;
pub mod osv;
pub mod sarif;
pub mod severity;
pub mod trivy;

use crate::domain::{Actor, Command, Fingerprint, NewFinding};

/// What an input says about a finding it does not report as open — AWS Security Hub marks
/// it resolved or suppressed. The ingest applies the command to the open finding with this
/// fingerprint, if remedybot has one; a report never creates a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub fingerprint: Fingerprint,
    /// Who says so (e.g. `aws:securityhub`): the recorded event's actor.
    pub actor: Actor,
    /// `RecordEvidence` (never a closure) or `Comment`.
    pub command: Command,
}

/// A parsed input: the format read, the findings to store, and the status reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub format: Format,
    pub findings: Vec<NewFinding>,
    /// Empty for every format but ASFF.
    pub reports: Vec<StatusReport>,
}

/// Why an input could not be read. The message names the format and, where known, the
/// position (line and column) and the JSON path of the bad value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format}: {message}{}", position.map(|(l, c)| format!(" (line {l}, column {c})")).unwrap_or_default())]
pub struct IngestError {
    pub format: &'static str,
    pub message: String,
    /// 1-based line and column of the error in the input, when the parser knows it.
    pub position: Option<(usize, usize)>,
}

/// The input formats remedybot reads. `?format=` and `--format` take these names; without
/// one the format is recognised from the input (see [`detect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Generic,
    Csv,
    Sarif,
    Trivy,
    Grype,
    Asff,
    Osv,
}

impl Format {
    /// In detection order: the most specific markers first, the generic format last.
    pub const ALL: [Format; 7] = [
        Format::Sarif,
        Format::Trivy,
        Format::Grype,
        Format::Asff,
        Format::Osv,
        Format::Csv,
        Format::Generic,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Generic => "generic",
            Format::Csv => "csv",
            Format::Sarif => "sarif",
            Format::Trivy => "trivy",
            Format::Grype => "grype",
            Format::Asff => "asff",
            Format::Osv => "osv",
        }
    }

    /// A format by name (case-insensitive), with a few common aliases.
    pub fn from_name(name: &str) -> Option<Format> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "generic" | "json" => Format::Generic,
            "csv" => Format::Csv,
            "sarif" => Format::Sarif,
            "trivy" => Format::Trivy,
            "grype" => Format::Grype,
            "asff" | "securityhub" | "security-hub" | "guardduty" => Format::Asff,
            "osv" | "osv-scanner" => Format::Osv,
            _ => return None,
        })
    }

    fn looks_like(self, head: &[u8]) -> bool {
        match self {
            Format::Sarif => sarif::looks_like(head),
            Format::Trivy => trivy::looks_like(head),
            Format::Grype => grype::looks_like(head),
            Format::Asff => asff::looks_like(head),
            Format::Osv => osv::looks_like(head),
            Format::Csv => csv::looks_like(head),
            Format::Generic => {
                let first = head.iter().find(|b| !b.is_ascii_whitespace());
                matches!(first, Some(b'{' | b'[')) && head.windows(9).any(|w| w == b"\"rule_id\"")
            }
        }
    }

    /// The findings and, for ASFF, the status reports.
    pub fn parse_reported(
        self,
        bytes: &[u8],
    ) -> Result<(Vec<NewFinding>, Vec<StatusReport>), IngestError> {
        match self {
            Format::Asff => asff::parse_reported(bytes),
            other => Ok((other.parse(bytes)?, Vec::new())),
        }
    }

    pub fn parse(self, bytes: &[u8]) -> Result<Vec<NewFinding>, IngestError> {
        match self {
            Format::Generic => generic::parse(bytes),
            Format::Csv => csv::parse(bytes),
            Format::Sarif => sarif::parse(bytes),
            Format::Trivy => trivy::parse(bytes),
            Format::Grype => grype::parse(bytes),
            Format::Asff => asff::parse(bytes),
            Format::Osv => osv::parse(bytes),
        }
    }
}

/// How much of the input detection looks at.
const DETECT_WINDOW: usize = 64 * 1024;

/// Recognise the format from the start of the input, or `None`.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let bytes = strip_bom(bytes);
    let head = &bytes[..bytes.len().min(DETECT_WINDOW)];
    Format::ALL.into_iter().find(|f| f.looks_like(head))
}

/// Parse an input in the named format, or in the format [`detect`] recognises. Empty input
/// (and the bare `null` old Trivy versions write for "no findings") is zero findings.
pub fn parse(format: Option<&str>, bytes: &[u8]) -> Result<(Format, Vec<NewFinding>), IngestError> {
    let parsed = parse_all(format, bytes)?;
    Ok((parsed.format, parsed.findings))
}

/// [`parse`], keeping the status reports too (what the ingest API and CLI store).
pub fn parse_all(format: Option<&str>, bytes: &[u8]) -> Result<Parsed, IngestError> {
    let empty = |format| {
        Ok(Parsed {
            format,
            findings: Vec::new(),
            reports: Vec::new(),
        })
    };
    let names = || Format::ALL.map(Format::name).join(", ");
    let format = match format
        .map(str::trim)
        .filter(|f| !f.is_empty() && *f != "auto")
    {
        Some(name) => Format::from_name(name).ok_or_else(|| IngestError {
            format: "input",
            message: format!("unknown format `{name}`; supported: auto, {}", names()),
            position: None,
        })?,
        None => {
            let body = strip_bom(bytes);
            let trimmed = body.trim_ascii();
            if trimmed.is_empty() {
                return empty(Format::Generic);
            }
            if trimmed == b"null" {
                return empty(Format::Trivy);
            }
            if trimmed.first() == Some(&b'[')
                && trimmed.last() == Some(&b']')
                && trimmed[1..trimmed.len() - 1].trim_ascii().is_empty()
            {
                return empty(Format::Generic);
            }
            // Unrecognised: if it is not even well-formed JSON, say where it breaks.
            if detect(body).is_none() && matches!(trimmed.first(), Some(b'{' | b'[')) {
                serde_json::from_slice::<serde::de::IgnoredAny>(body)
                    .map_err(|e| json_error("JSON", e, String::new()))?;
            }
            detect(body).ok_or_else(|| IngestError {
                format: "input",
                message: format!(
                    "the format was not recognised; name it with format= (API) or --format (CLI): one of {}",
                    names()
                ),
                position: None,
            })?
        }
    };
    let (findings, reports) = format.parse_reported(bytes)?;
    Ok(Parsed {
        format,
        findings,
        reports,
    })
}

/// The input without a UTF-8 byte-order mark, which some tools write before JSON.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Deserialize JSON, reporting errors with the JSON path of the bad value and its line and
/// column.
pub(crate) fn json_from_slice<T: serde::de::DeserializeOwned>(
    format: &'static str,
    bytes: &[u8],
) -> Result<T, IngestError> {
    json_seed_from_slice(format, bytes, std::marker::PhantomData::<T>)
}

/// [`json_from_slice`] for a stateful [`DeserializeSeed`](serde::de::DeserializeSeed), such
/// as a reader that builds findings while it parses.
pub(crate) fn json_seed_from_slice<'de, S: serde::de::DeserializeSeed<'de>>(
    format: &'static str,
    bytes: &'de [u8],
    seed: S,
) -> Result<S::Value, IngestError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    seed.deserialize(serde_path_to_error::Deserializer::new(de, &mut track))
        .map_err(|e| json_error(format, e, track.path().to_string()))
}

/// A serde_json error as an [`IngestError`], with the JSON path of the bad value if known.
pub(crate) fn json_error(
    format: &'static str,
    inner: serde_json::Error,
    path: String,
) -> IngestError {
    let position = (inner.line() > 0).then(|| (inner.line(), inner.column()));
    let mut message = inner.to_string();
    // serde_json appends " at line L column C"; we report the position separately.
    if let Some(cut) = message.rfind(" at line ") {
        message.truncate(cut);
    }
    if path != "." && !path.is_empty() {
        message = format!("{path}: {message}");
    }
    IngestError {
        format,
        message,
        position,
    }
}

/// 1-based line and column of byte `offset`.
pub(crate) fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = 1 + before.iter().filter(|b| **b == b'\n').count();
    let column = 1 + before.iter().rev().take_while(|b| **b != b'\n').count();
    (line, column)
}

/// "a number", "an object", … for messages about unexpected JSON.
pub(crate) fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Longest title and description a scanner format keeps; longer text is cut with "…" (the
/// generic format rejects it instead, since a client can fix its own input).
pub(crate) const MAX_TITLE: usize = 1_000;
pub(crate) const MAX_DESCRIPTION: usize = 65_536;

/// `s` trimmed and cut to at most `max` characters, marking a cut with `…`.
pub(crate) fn clip(s: &str, max: usize) -> String {
    let s = s.trim();
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some(_) => {
            let cut = s
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(s.len(), |(i, _)| i);
            format!("{}…", &s[..cut])
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn clip_cuts_on_character_boundaries() {
        assert_eq!(super::clip(" abc ", 3), "abc");
        assert_eq!(super::clip("abcd", 3), "ab…");
        assert_eq!(super::clip("héllo", 2), "h…");
    }

    #[test]
    fn positions_count_lines_and_columns_from_one() {
        assert_eq!(super::line_column(b"ab\ncd", 4), (2, 2));
        assert_eq!(super::line_column(b"x", 0), (1, 1));
    }
}
