//! osv-scanner's JSON output: `results[]` (one per scanned lockfile, SBOM or image) →
//! `packages[]` → the OSV records that affect the package and `groups` of records that are
//! aliases of one another. One finding per (source, package, group).

use std::collections::BTreeSet;

use super::model::{Group, Record, ScanResult};
use super::{
    MAX_DESCRIPTION, MAX_TITLE, clip, error_at, ids_and_cwes, labelled, nonempty, push, scored,
};
use crate::domain::{Fingerprint, NewFinding, Severity};
use crate::ingest::IngestError;
use crate::ingest::severity::from_score_text;

pub(super) fn findings(
    results: Vec<ScanResult>,
    out: &mut Vec<NewFinding>,
) -> Result<(), IngestError> {
    for (i, result) in results.into_iter().enumerate() {
        let at = format!("results[{i}]");
        let source = result.source.as_ref();
        let path = nonempty(source.and_then(|s| s.path.as_deref()))
            .ok_or_else(|| error_at(&at, "no source.path".into()))?;
        let source_type = source.and_then(|s| nonempty(s.kind.as_deref()));
        for (k, p) in result.packages.into_iter().flatten().enumerate() {
            let at = format!("{at}.packages[{k}]");
            let info = p.package.as_ref();
            let name = nonempty(info.and_then(|x| x.name.as_deref()))
                .ok_or_else(|| error_at(&at, "package has no name".into()))?;
            let ecosystem = nonempty(info.and_then(|x| x.ecosystem.as_deref())).unwrap_or_default();
            let version = nonempty(info.and_then(|x| x.version.as_deref()));
            let records = p.vulnerabilities.unwrap_or_default();
            // Without groups (older osv-scanner), every record is its own group.
            let groups = match p.groups {
                Some(g) if !g.is_empty() => g,
                _ => records
                    .iter()
                    .filter_map(|r| r.id.clone())
                    .map(|id| Group {
                        ids: Some(vec![id]),
                        aliases: None,
                        max_severity: Default::default(),
                    })
                    .collect(),
            };
            for (m, g) in groups.iter().enumerate() {
                let pkg = Package {
                    name: &name,
                    ecosystem: &ecosystem,
                    version: version.as_deref(),
                };
                let ctx = Context {
                    path: &path,
                    source_type: source_type.as_deref(),
                    pkg,
                };
                if let Some(f) = group_finding(g, &records, &ctx)
                    .map_err(|e| error_at(&format!("{at}.groups[{m}]"), e))?
                {
                    out.push(f);
                }
            }
        }
    }
    Ok(())
}

struct Package<'a> {
    name: &'a str,
    ecosystem: &'a str,
    version: Option<&'a str>,
}

struct Context<'a> {
    path: &'a str,
    source_type: Option<&'a str>,
    pkg: Package<'a>,
}

fn group_finding(
    g: &Group,
    records: &[Record],
    ctx: &Context,
) -> Result<Option<NewFinding>, String> {
    let ids: BTreeSet<&str> = g
        .ids
        .iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() {
        return Err("no ids".into());
    }
    let members: Vec<&Record> = records
        .iter()
        .filter(|r| r.id.as_deref().is_some_and(|id| ids.contains(id.trim())))
        .collect();
    if !members.is_empty() && members.iter().all(|r| r.withdrawn.is_some()) {
        return Ok(None);
    }
    let members: Vec<&Record> = members
        .into_iter()
        .filter(|r| r.withdrawn.is_none())
        .collect();
    let mut every: BTreeSet<&str> = ids.clone();
    every.extend(
        g.aliases
            .iter()
            .flatten()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty()),
    );
    for r in &members {
        every.extend(
            r.aliases
                .iter()
                .flatten()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty()),
        );
    }
    // The CVE if there is one (the id every database aliases to), else the first id.
    let canonical = every
        .iter()
        .find(|s| s.starts_with("CVE-"))
        .or_else(|| ids.iter().next())
        .copied()
        .unwrap_or_default();
    let Package {
        name,
        ecosystem,
        version,
    } = &ctx.pkg;
    let severity = g
        .max_severity
        .as_str()
        .and_then(from_score_text)
        .or_else(|| {
            members
                .iter()
                .filter_map(|r| record_severity(r, name))
                .max()
        })
        .unwrap_or(Severity::Medium);
    let title = members
        .iter()
        .find_map(|r| nonempty(r.summary.as_deref()))
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| format!("{canonical} in {name}"));
    let fixed = fixed_versions(&members, name);
    let mut description = members
        .iter()
        .find_map(|r| nonempty(r.details.as_deref()))
        .unwrap_or_default();
    if !fixed.is_empty() {
        description = format!("{description}\n\nFixed in: {}", fixed.join(", "))
            .trim()
            .to_string();
    }
    let mut tags = Vec::new();
    for id in every.iter().filter(|s| **s != canonical) {
        push(&mut tags, id);
    }
    for r in &members {
        for t in ids_and_cwes(r) {
            push(&mut tags, t);
        }
    }
    if !ecosystem.is_empty() {
        push(&mut tags, &format!("ecosystem:{ecosystem}"));
    }
    if let Some(t) = ctx.source_type {
        push(&mut tags, &format!("source:{t}"));
    }
    tags.retain(|t| t != canonical);
    let mut references = Vec::new();
    for id in &ids {
        push(
            &mut references,
            &format!("https://osv.dev/vulnerability/{id}"),
        );
    }
    for r in &members {
        for u in super::references(r) {
            push(&mut references, &u);
        }
    }
    let location = match version {
        Some(v) => format!("{name}@{v}"),
        None => name.to_string(),
    };
    Ok(Some(NewFinding {
        fingerprint: Fingerprint::derive(
            "osv-scanner",
            canonical,
            ctx.path,
            &format!("{ecosystem}/{name}"),
        ),
        source: "osv-scanner".into(),
        rule_id: clip(canonical, MAX_TITLE),
        title: clip(&title, MAX_TITLE),
        description: clip(&description, MAX_DESCRIPTION),
        severity,
        asset: clip(ctx.path, MAX_TITLE),
        location: clip(&location, MAX_TITLE),
        tags,
        references,
        owner: None,
    }))
}

/// A record's severity as it applies to the scanned package: the record's `severity[]`,
/// then the affected entry for that package, then the labels.
fn record_severity(r: &Record, package: &str) -> Option<Severity> {
    let entry = r
        .affected
        .iter()
        .flatten()
        .find(|a| a.package.as_ref().and_then(|p| p.name.as_deref()) == Some(package));
    entry
        .and_then(|a| scored(a.severity.as_deref()))
        .or_else(|| scored(r.severity.as_deref()))
        .or_else(|| entry.and_then(|a| labelled(a, r)))
        .or_else(|| {
            r.database_specific
                .as_ref()
                .and_then(|d| d.severity.as_str())
                .and_then(crate::ingest::severity::from_label)
        })
}

/// The `fixed` versions the records give for this package, deduplicated.
fn fixed_versions(records: &[&Record], package: &str) -> Vec<String> {
    let mut fixed: Vec<String> = Vec::new();
    let events = records
        .iter()
        .flat_map(|r| r.affected.iter().flatten())
        .filter(|a| a.package.as_ref().and_then(|p| p.name.as_deref()) == Some(package))
        .flat_map(|a| a.ranges.iter().flatten())
        .flat_map(|range| range.events.iter().flatten());
    for e in events {
        if let Some(v) = nonempty(e.fixed.as_deref())
            && !fixed.contains(&v)
            && fixed.len() < 20
        {
            fixed.push(v);
        }
    }
    fixed
}
