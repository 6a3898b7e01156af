//! SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format) → findings. Reads every run
//! of a log; each result that reports a problem becomes one [`NewFinding`], with its rule's
//! metadata looked up in `tool.driver` (or the extension `rule.toolComponent` names).
//! docs/formats/sarif.md has the field mapping, the severity order and the fingerprint
//! recipe. This module only parses; it never touches the store.
//!
//! The log is read in one pass: `stream` turns each result into a draft finding as soon as
//! it is parsed, so the whole log is never held as structs (a 10 MiB log would take about
//! four times its size). The submodules, in the order a result meets them:
//! `stream` (the log, its runs and results, in any key order), `model` (the serde types),
//! `levels` (skipped results, severity), `rules` (which rule a result names), `text`
//! (title, description, tags), `locations` (place and asset), `fingerprints` (identity and
//! the occurrence numbering).

mod fingerprints;
mod levels;
mod locations;
mod model;
mod results;
mod rules;
mod stream;
mod text;

use serde::Deserialize;
use serde::de::DeserializeSeed;

use super::{IngestError, json_error, json_seed_from_slice, strip_bom};
use crate::domain::NewFinding;
use results::Collected;
use stream::{LogSeed, Runs};
#[cfg(test)]
use {
    crate::domain::Severity,
    text::{cwe_tag, substitute},
};

/// The name used in errors.
pub const FORMAT: &str = "SARIF";

/// The only SARIF version read. 2.0.0 and the pre-release drafts differ in shape (`tool.name`
/// instead of `tool.driver`, rules in `resources`), so they are refused, not guessed at.
const VERSION: &str = "2.1.0";
/// Most tags and references a finding keeps.
const MAX_LIST: usize = 100;
/// Longest single tag or reference kept.
const MAX_ITEM: usize = 1_000;

/// Whether `head` (the first bytes of an input, BOM stripped) looks like a SARIF log: a JSON
/// object with a `"runs"` key and either a string `"version"` or a `"$schema"` URI that
/// mentions SARIF. Keys are matched as `"key"` followed by `:`, which never occurs inside a
/// JSON string (inner quotes are escaped). The SARIF JSON schema itself is not a log: its
/// `version` is an object and its `$schema` is JSON Schema's.
pub fn looks_like(head: &[u8]) -> bool {
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    let string = |key: &[u8]| value_after(head, key).and_then(|v| v.strip_prefix(b"\""));
    let sarif_schema = string(b"$schema").is_some_and(|v| {
        let end = v.iter().position(|b| *b == b'"').unwrap_or(v.len());
        v[..end]
            .windows(5)
            .any(|w| w.eq_ignore_ascii_case(b"sarif"))
    });
    first == Some(&b'{')
        && value_after(head, b"runs").is_some()
        && (string(b"version").is_some() || sarif_schema)
}

/// What follows `"key":` (whitespace skipped) at the first place `key` is used as a key.
fn value_after<'a>(head: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let quoted = [b"\"".as_slice(), key, b"\""].concat();
    head.windows(quoted.len())
        .enumerate()
        .filter(|(_, w)| *w == quoted.as_slice())
        .find_map(|(i, _)| {
            let rest = head.get(i + quoted.len()..)?;
            let rest = &rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
            let rest = rest.strip_prefix(b":")?;
            Some(&rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..])
        })
}

/// Read only when the full parse failed, to report an unsupported version instead of the
/// shape error it caused.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<String>,
}

/// Parse a SARIF 2.1.0 log. A UTF-8 BOM is tolerated; an empty input, `"runs": null`, and runs
/// without results are zero findings. Results that are not problems (kind `pass`,
/// `notApplicable`, `informational`), baseline-`absent` results and accepted suppressions are
/// skipped.
pub fn parse(bytes: &[u8]) -> Result<Vec<NewFinding>, IngestError> {
    let bytes = strip_bom(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let mut log = Collected::default();
    // The plain parse is the fast path; only a failed one is repeated with path tracking so
    // the error names the JSON path (serde_path_to_error costs on every value).
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let head = match LogSeed(&mut log)
        .deserialize(&mut *de)
        .and_then(|h| de.end().map(|()| h))
    {
        Ok(head) => head,
        Err(plain) => {
            // Another SARIF version fails on its shape; naming the version helps more.
            if let Ok(VersionProbe { version: Some(v) }) = serde_json::from_slice(bytes)
                && v != VERSION
            {
                return Err(unsupported_version(&v));
            }
            let mut again = Collected::default();
            return Err(
                match json_seed_from_slice(FORMAT, bytes, LogSeed(&mut again)) {
                    Err(e) => e,
                    // Only the end check failed: text after the log.
                    Ok(_) => json_error(FORMAT, plain, String::new()),
                },
            );
        }
    };
    match head.version.as_deref() {
        Some(VERSION) => {}
        Some(other) => return Err(unsupported_version(other)),
        None => {
            return Err(error(format!(
                "not a SARIF log: no `version` property (expected \"{VERSION}\")"
            )));
        }
    }
    match head.runs {
        Runs::Absent => Err(error("not a SARIF log: no `runs` property".to_string())),
        Runs::Null => Ok(Vec::new()),
        Runs::Read => log.into_findings(),
    }
}

fn error(message: String) -> IngestError {
    IngestError {
        format: FORMAT,
        message,
        position: None,
    }
}

fn unsupported_version(v: &str) -> IngestError {
    error(format!(
        "version `{v}` is not supported; only SARIF {VERSION} is read (convert older logs to \
         {VERSION} first, e.g. with the SARIF Multitool)"
    ))
}

#[cfg(test)]
mod tests;
