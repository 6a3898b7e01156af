//! Which results are findings at all, and how severe they are. docs/formats/sarif.md,
//! *What is skipped* and *Severity*, describe both.

use super::model::{Rule, SarifResult};
use crate::domain::Severity;
use crate::ingest::severity::{from_label, from_score_text};

/// Whether a result is not a finding. Errors name the bad field (prefixed with `.`).
pub(crate) fn skipped(res: &SarifResult) -> Result<bool, String> {
    match res.kind.as_deref() {
        None | Some("fail" | "review" | "open") => {}
        Some("pass" | "notApplicable" | "informational") => return Ok(true),
        Some(other) => {
            return Err(format!(
                ".kind: unknown value `{other}` (expected fail, review, open, pass, \
                 notApplicable or informational)"
            ));
        }
    }
    if res.baseline_state.as_deref() == Some("absent") {
        return Ok(true);
    }
    Ok(res.suppressions.as_ref().is_some_and(|s| {
        !s.is_empty()
            && s.iter()
                .all(|x| matches!(x.status.as_deref(), None | Some("accepted")))
    }))
}

/// SARIF levels onto remedybot's severities (error → high, warning → medium, note → low,
/// none → info). Other words are not SARIF levels.
fn level_severity(level: &str) -> Option<Severity> {
    match level {
        "error" | "warning" | "note" | "none" => from_label(level),
        _ => None,
    }
}

/// `security-severity` of the result, then of the rule; the result's `level`; `none` for
/// kinds other than `fail`; the rule's `defaultConfiguration.level`; SARIF's default
/// `warning`.
pub(crate) fn severity(res: &SarifResult, rule: Option<&Rule>) -> Result<Severity, String> {
    let level = match res.level.as_deref() {
        Some(l) => Some(level_severity(l).ok_or_else(|| {
            format!(".level: unknown value `{l}` (expected error, warning, note or none)")
        })?),
        None => None,
    };
    let scores = [
        res.properties.security_severity.0.as_deref(),
        rule.and_then(|r| r.properties.security_severity.0.as_deref()),
    ];
    if let Some(s) = scores.into_iter().flatten().find_map(from_score_text) {
        return Ok(s);
    }
    if let Some(s) = level {
        return Ok(s);
    }
    if !matches!(res.kind.as_deref(), None | Some("fail")) {
        return Ok(Severity::Info);
    }
    let default = rule
        .and_then(|r| r.default_configuration.as_ref())
        .and_then(|c| c.level.as_deref());
    match default {
        Some(l) => level_severity(l).ok_or_else(|| {
            let id = rule.map_or("", |r| r.id.as_str());
            format!(": rule `{id}` has an unknown defaultConfiguration.level `{l}`")
        }),
        None => Ok(Severity::Medium),
    }
}
