//! OSV: vulnerability records in the Open Source Vulnerability schema (one record or an
//! array of them), and osv-scanner's JSON output, which lists OSV records per scanned
//! package. docs/formats/osv.md has the field mapping.

mod cvss;
mod model;
mod scanner;

use super::severity::{from_label, from_score};
use super::{
    IngestError, MAX_DESCRIPTION, MAX_TITLE, clip, json_error, json_from_slice, json_kind,
    line_column, strip_bom,
};
use crate::domain::{Fingerprint, NewFinding, Severity};
use model::{Affected, Record, SeverityEntry};

pub const FORMAT: &str = "OSV";

/// Most tags or references kept per finding.
const MAX_LIST: usize = 100;

/// osv-scanner output (`results` → `packages`), or an OSV record (`id` and `modified`
/// with `affected`, `aliases`, `withdrawn`, `related` or `schema_version`).
pub fn looks_like(head: &[u8]) -> bool {
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    if has(b"\"rule_id\"") && has(b"\"asset\"") || has(b"\"ProductArn\"") {
        return false; // the generic format; ASFF
    }
    let scanner = has(b"\"results\"") && has(b"\"packages\"") && has(b"\"ecosystem\"");
    let record = has(b"\"id\"")
        && has(b"\"modified\"")
        && [
            &b"\"affected\""[..],
            b"\"aliases\"",
            b"\"withdrawn\"",
            b"\"related\"",
            b"\"schema_version\"",
        ]
        .iter()
        .any(|k| has(k));
    scanner || record
}

/// Parse OSV records or osv-scanner output. Empty input is zero findings.
pub fn parse(bytes: &[u8]) -> Result<Vec<NewFinding>, IngestError> {
    let bytes = strip_bom(bytes);
    let Some(first) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    match bytes.get(first) {
        Some(b'[') => {
            for (i, record) in json_from_slice::<Vec<Record>>(FORMAT, bytes)?
                .into_iter()
                .enumerate()
            {
                record_findings(record, &format!("[{i}]"), &mut out)?;
            }
        }
        Some(b'{') => {
            let mut top = json_from_slice::<Record>(FORMAT, bytes)?;
            if let Some(results) = top.results.take() {
                scanner::findings(results, &mut out)?;
            } else if top.id.is_some() {
                record_findings(top, "", &mut out)?;
            } else {
                return Err(error_at(
                    "",
                    "neither an OSV record (no id) nor osv-scanner output (no results)".into(),
                ));
            }
        }
        _ => {
            let found = match serde_json::from_slice::<serde_json::Value>(bytes) {
                Ok(v) => json_kind(&v),
                Err(e) => return Err(json_error(FORMAT, e, String::new())),
            };
            return Err(IngestError {
                format: FORMAT,
                message: format!(
                    "expected an OSV record, an array of them or osv-scanner output, found {found}"
                ),
                position: Some(line_column(bytes, first)),
            });
        }
    }
    Ok(out)
}

fn error_at(path: &str, message: String) -> IngestError {
    IngestError {
        format: FORMAT,
        message: match (path.is_empty(), message.is_empty()) {
            (true, _) => message,
            (false, true) => path.to_string(),
            (false, false) => format!("{path}: {message}"),
        },
        position: None,
    }
}

/// One finding per affected package of a record (entries naming the same package are
/// merged). A withdrawn record gives none.
fn record_findings(r: Record, path: &str, out: &mut Vec<NewFinding>) -> Result<(), IngestError> {
    let at = |field: &str| {
        if path.is_empty() {
            field.to_string()
        } else {
            format!("{path}.{field}")
        }
    };
    let id = nonempty(r.id.as_deref()).ok_or_else(|| error_at(path, "no id".into()))?;
    if r.withdrawn.is_some() {
        return Ok(());
    }
    let title = title(&r, &id);
    let description = clip(r.details.as_deref().unwrap_or(""), MAX_DESCRIPTION);
    let mut tags = Vec::new();
    for a in ids_and_cwes(&r) {
        push(&mut tags, a);
    }
    let references = references(&r);
    let start = out.len();
    for (j, a) in r.affected.iter().flatten().enumerate() {
        let (asset, ecosystem) =
            affected_asset(a).map_err(|m| error_at(&at(&format!("affected[{j}]")), m))?;
        let severity = severity_of(a, &r);
        let location = ranges_summary(a);
        // The same package twice (different ranges): one finding, both ranges.
        if let Some(f) = out.iter_mut().skip(start).find(|f| f.asset == asset) {
            f.severity = f.severity.max(severity);
            if !location.is_empty() && !f.location.contains(&location) {
                f.location = clip(&format!("{}; {location}", f.location), MAX_TITLE);
            }
            continue;
        }
        let mut tags = tags.clone();
        if let Some(e) = ecosystem {
            push(&mut tags, &format!("ecosystem:{e}"));
        }
        out.push(NewFinding {
            fingerprint: Fingerprint::derive("osv", &id, &asset, ""),
            source: "osv".into(),
            rule_id: clip(&id, MAX_TITLE),
            title: title.clone(),
            description: description.clone(),
            severity,
            asset: clip(&asset, MAX_TITLE),
            location: clip(&location, MAX_TITLE),
            tags,
            references: references.clone(),
            owner: None,
        });
    }
    Ok(())
}

/// `ecosystem/name` of the package, or, for an entry without a package, the repository of
/// its first GIT range.
fn affected_asset(a: &Affected) -> Result<(String, Option<String>), String> {
    if let Some(p) = &a.package {
        let name = nonempty(p.name.as_deref()).ok_or("package has no name")?;
        let ecosystem = nonempty(p.ecosystem.as_deref()).ok_or("package has no ecosystem")?;
        return Ok((format!("{ecosystem}/{name}"), Some(ecosystem)));
    }
    a.ranges
        .iter()
        .flatten()
        .filter(|r| r.kind.as_deref() == Some("GIT"))
        .find_map(|r| nonempty(r.repo.as_deref()))
        .map(|repo| (repo, None))
        .ok_or_else(|| "no package and no GIT range with a repo, so no affected asset".into())
}

/// The summary, else the first sentence of the details (at most 200 characters), else
/// "<id> (no summary)".
fn title(r: &Record, id: &str) -> String {
    if let Some(s) = nonempty(r.summary.as_deref()) {
        return clip(
            &s.split_whitespace().collect::<Vec<_>>().join(" "),
            MAX_TITLE,
        );
    }
    match r
        .details
        .as_deref()
        .and_then(|d| nonempty(d.lines().next()))
    {
        Some(line) => {
            let sentence = line.split_inclusive(". ").next().unwrap_or(&line);
            clip(sentence, 200)
        }
        None => format!("{id} (no summary)"),
    }
}

fn ids_and_cwes(r: &Record) -> impl Iterator<Item = &str> {
    let cwes = r.database_specific.iter().flat_map(|d| d.cwe_ids.items());
    r.aliases
        .iter()
        .flatten()
        .chain(r.upstream.iter().flatten())
        .chain(cwes)
        .map(String::as_str)
}

fn references(r: &Record) -> Vec<String> {
    let mut refs = Vec::new();
    let urls = r
        .references
        .iter()
        .flatten()
        .filter_map(|x| x.url.as_deref())
        .chain(r.database_specific.as_ref().and_then(|d| d.url.as_str()));
    for u in urls {
        let u = u.trim();
        if u.starts_with("https://") || u.starts_with("http://") {
            push(&mut refs, u);
        }
    }
    refs
}

/// The entry's own `severity[]`, the record's `severity[]`, then the labels in
/// `ecosystem_specific.severity` and `database_specific.severity` (entry, then record);
/// medium when nothing usable is given.
fn severity_of(a: &Affected, r: &Record) -> Severity {
    scored(a.severity.as_deref())
        .or_else(|| scored(r.severity.as_deref()))
        .or_else(|| labelled(a, r))
        .unwrap_or(Severity::Medium)
}

/// The highest severity among CVSS v3 and v2 vectors (computed) and Ubuntu's labels.
/// CVSS v4 vectors are skipped: see [`cvss`].
fn scored(entries: Option<&[SeverityEntry]>) -> Option<Severity> {
    entries?
        .iter()
        .filter_map(|e| {
            let score = e.score.as_deref()?;
            match e.kind.as_deref()? {
                "CVSS_V3" => cvss::v3_base_score(score).and_then(from_score),
                "CVSS_V2" => cvss::v2_base_score(score).and_then(from_score),
                "Ubuntu" => from_label(score),
                _ => None,
            }
        })
        .max()
}

fn labelled(a: &Affected, r: &Record) -> Option<Severity> {
    [
        a.ecosystem_specific.as_ref(),
        a.database_specific.as_ref(),
        r.database_specific.as_ref(),
    ]
    .into_iter()
    .flatten()
    .find_map(|s| s.severity.as_str().and_then(from_label))
}

/// Affected ranges and versions as text: `SEMVER >=0 <1.6.0; versions 4.36.1, 4.36.-1`.
fn ranges_summary(a: &Affected) -> String {
    let mut parts = Vec::new();
    for range in a.ranges.iter().flatten() {
        let mut text = range.kind.clone().unwrap_or_default();
        if let Some(repo) = nonempty(range.repo.as_deref()) {
            text = format!("{text} {repo}");
        }
        for e in range.events.iter().flatten() {
            let event = [
                (e.introduced.as_deref(), ">="),
                (e.fixed.as_deref(), "<"),
                (e.last_affected.as_deref(), "<="),
                (e.limit.as_deref(), "limit "),
            ]
            .into_iter()
            .find_map(|(v, op)| v.map(|v| format!("{op}{}", v.trim())));
            if let Some(ev) = event {
                text = format!("{text} {ev}");
            }
        }
        parts.push(text.trim().to_string());
    }
    let versions = a.versions.as_deref().unwrap_or(&[]);
    if !versions.is_empty() {
        let shown: Vec<&str> = versions.iter().take(10).map(String::as_str).collect();
        let more = versions.len().saturating_sub(shown.len());
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        parts.push(format!("versions {}{tail}", shown.join(", ")));
    }
    parts.join("; ")
}

fn nonempty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Add a trimmed, non-empty value once, up to [`MAX_LIST`].
fn push(list: &mut Vec<String>, value: &str) {
    let v = value.trim();
    if !v.is_empty() && list.len() < MAX_LIST && !list.iter().any(|t| t == v) {
        list.push(clip(v, MAX_TITLE));
    }
}

#[cfg(test)]
mod tests;
