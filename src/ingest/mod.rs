//! Ingest: bytes from a scanner or client → validated [`NewFinding`]s. One file per input
//! format; this module picks the parser and owns the error type. Nothing here touches the
//! store.

pub mod generic;

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
