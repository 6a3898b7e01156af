//! Ingest: bytes from a scanner or client → validated [`NewFinding`]s. One file per input
//! format; this module picks the parser and owns the error type. Nothing here touches the
//! store.

pub mod generic;
pub mod github;
pub mod severity;

use crate::domain::NewFinding;

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

/// Parse an input in the given format. Only `generic` exists so far.
pub fn parse(format: Option<&str>, bytes: &[u8]) -> Result<Vec<NewFinding>, IngestError> {
    match format.unwrap_or("generic") {
        "generic" | "json" => generic::parse(bytes),
        other => Err(IngestError {
            format: "input",
            message: format!("unknown format `{other}`; supported: generic"),
            position: None,
        }),
    }
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
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(de);
    result.map_err(|e| {
        let path = e.path().to_string();
        json_error(format, e.into_inner(), path)
    })
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
#[allow(dead_code)] // until the scanner formats land
pub(crate) const MAX_TITLE: usize = 1_000;
#[allow(dead_code)]
pub(crate) const MAX_DESCRIPTION: usize = 65_536;

/// `s` trimmed and cut to at most `max` characters, marking a cut with `…`.
#[allow(dead_code)]
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
