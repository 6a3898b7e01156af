//! Trivy JSON (`trivy … --format json`): the current report (SchemaVersion 2), the legacy
//! bare array of results written by Trivy before v0.20, the `trivy k8s` cluster report, and
//! the literal `null` old Trivy wrote for "nothing found". Vulnerabilities, failed
//! misconfiguration checks, secrets and licences become findings; docs/formats/trivy.md has
//! the field mapping and the fingerprint recipe.
//!
//! The secret text Trivy reports (`Match`, `Code`) is never deserialized, so it cannot end
//! up in a finding. The helpers at the end are shared with the Grype parser, which reads the
//! same kind of data (a vulnerability in a package inside an image or directory).

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::severity::{from_label, from_score};
use super::{IngestError, MAX_DESCRIPTION, MAX_TITLE, clip, json_from_slice, strip_bom};
use crate::domain::{Fingerprint, NewFinding, Severity};

pub const FORMAT: &str = "Trivy JSON";
const SOURCE: &str = "trivy";

/// The top level of a SchemaVersion 2 report or of a `trivy k8s` report (which has
/// `ClusterName` and lists of resources instead of `Results`).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Report {
    schema_version: Option<u64>,
    artifact_name: Option<String>,
    artifact_type: Option<String>,
    results: Option<Vec<TrivyResult>>,
    cluster_name: Option<String>,
    vulnerabilities: Option<Vec<K8sResource>>,
    misconfigurations: Option<Vec<K8sResource>>,
    resources: Option<Vec<K8sResource>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct K8sResource {
    namespace: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    results: Option<Vec<TrivyResult>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrivyResult {
    target: Option<String>,
    class: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    // Boxed so each item's memory is freed as soon as it is converted, rather than the
    // whole list's buffer staying alive until the last item is done (peak memory).
    #[allow(clippy::vec_box)]
    vulnerabilities: Option<Vec<Box<Vulnerability>>>,
    #[allow(clippy::vec_box)]
    misconfigurations: Option<Vec<Box<Misconfiguration>>>,
    secrets: Option<Vec<Secret>>,
    #[allow(clippy::vec_box)]
    licenses: Option<Vec<Box<License>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Vulnerability {
    #[serde(rename = "VulnerabilityID")]
    vulnerability_id: Option<String>,
    pkg_name: Option<String>,
    pkg_path: Option<String>,
    installed_version: Option<String>,
    fixed_version: Option<String>,
    status: Option<String>,
    #[serde(rename = "PrimaryURL")]
    primary_url: Option<String>,
    title: Option<String>,
    description: Option<String>,
    severity: Option<String>,
    #[serde(rename = "CweIDs")]
    cwe_ids: Option<Vec<String>>,
    #[serde(rename = "CVSS", default)]
    cvss: MaxScore,
    references: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Misconfiguration {
    #[serde(rename = "ID")]
    id: Option<String>,
    #[serde(rename = "AVDID")]
    avd_id: Option<String>,
    title: Option<String>,
    description: Option<String>,
    message: Option<String>,
    resolution: Option<String>,
    severity: Option<String>,
    #[serde(rename = "PrimaryURL")]
    primary_url: Option<String>,
    references: Option<Vec<String>>,
    status: Option<String>,
    cause_metadata: Option<CauseMetadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CauseMetadata {
    resource: Option<String>,
    start_line: Option<u64>,
    end_line: Option<u64>,
}

/// A detected secret. `Match` and `Code` are deliberately absent: they hold the secret.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Secret {
    #[serde(rename = "RuleID")]
    rule_id: Option<String>,
    category: Option<String>,
    severity: Option<String>,
    title: Option<String>,
    start_line: Option<u64>,
    end_line: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct License {
    severity: Option<String>,
    category: Option<String>,
    pkg_name: Option<String>,
    file_path: Option<String>,
    name: Option<String>,
    link: Option<String>,
}

/// The highest base score in Trivy's `CVSS` map (`{"nvd": {"V3Score": 9.8, …}, …}`): per
/// source the newest CVSS version given (v4, then v3, then v2), then the maximum over sources.
/// Computed while parsing so the map itself is never stored.
#[derive(Default)]
struct MaxScore(Option<f64>);

#[derive(Deserialize)]
struct CvssEntry {
    #[serde(rename = "V40Score")]
    v40: Option<f64>,
    #[serde(rename = "V3Score")]
    v3: Option<f64>,
    #[serde(rename = "V2Score")]
    v2: Option<f64>,
}

impl<'de> Deserialize<'de> for MaxScore {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = MaxScore;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of CVSS sources")
            }
            fn visit_unit<E>(self) -> Result<MaxScore, E> {
                Ok(MaxScore(None))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<MaxScore, A::Error> {
                let mut best: Option<f64> = None;
                while let Some((_, e)) = m.next_entry::<serde::de::IgnoredAny, CvssEntry>()? {
                    if let Some(s) = e.v40.or(e.v3).or(e.v2) {
                        best = Some(best.map_or(s, |b| b.max(s)));
                    }
                }
                Ok(MaxScore(best))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// Whether `head` (the first bytes of an input) looks like a Trivy JSON report.
pub fn looks_like(head: &[u8]) -> bool {
    let has = |needle: &str| contains(head, needle.as_bytes());
    if has("\"rule_id\"") && has("\"asset\"") {
        return false; // the generic format
    }
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        Some(b'{') => {
            (has("\"SchemaVersion\"") && (has("\"ArtifactName\"") || has("\"ArtifactType\"")))
                || (has("\"ClusterName\"")
                    && (has("\"Vulnerabilities\"")
                        || has("\"Misconfigurations\"")
                        || has("\"Resources\"")))
        }
        // Legacy (before v0.20): an array of results, each with `Target` and a
        // `Vulnerabilities` key (present even when null).
        Some(b'[') => has("\"Target\"") && has("\"Vulnerabilities\""),
        _ => false,
    }
}

/// Parse a Trivy JSON report into findings.
pub fn parse(bytes: &[u8]) -> Result<Vec<NewFinding>, IngestError> {
    let bytes = strip_bom(bytes);
    let text = bytes.trim_ascii();
    if text.is_empty() || text == b"null" {
        return Ok(Vec::new());
    }
    let mut out = Drafts::default();
    if text.first() == Some(&b'[') {
        let results: Vec<TrivyResult> = json_from_slice(FORMAT, bytes)?;
        for (i, r) in results.into_iter().enumerate() {
            let ctx = Context::new(None, None, &r);
            read_result(r, &ctx, &format!("[{i}]"), &mut out)?;
        }
        return Ok(out.finish());
    }
    let report: Report = json_from_slice(FORMAT, bytes)?;
    let is_k8s = report.cluster_name.is_some()
        || report.resources.is_some()
        || report.vulnerabilities.is_some()
        || report.misconfigurations.is_some();
    match report.schema_version {
        Some(2) => {}
        None if is_k8s => {}
        None if report.results.is_some() => {}
        None => {
            return Err(error(
                "not a Trivy report: no SchemaVersion, Results or ClusterName".into(),
            ));
        }
        Some(v) => {
            return Err(error(format!(
                "SchemaVersion: {v} is not supported (only 2 and the legacy array)"
            )));
        }
    }
    let artifact = report.artifact_name.as_deref();
    let image = report.artifact_type.as_deref() == Some("container_image");
    for (i, r) in report.results.into_iter().flatten().enumerate() {
        let ctx = Context::new(artifact, Some(image), &r);
        read_result(r, &ctx, &format!("Results[{i}]"), &mut out)?;
    }
    let cluster = report.cluster_name.unwrap_or_default();
    let groups = [
        ("Vulnerabilities", report.vulnerabilities),
        ("Misconfigurations", report.misconfigurations),
        ("Resources", report.resources),
    ];
    for (name, resources) in groups {
        for (i, res) in resources.into_iter().flatten().enumerate() {
            let workload = [
                cluster.as_str(),
                opt(&res.namespace),
                opt(&res.kind),
                opt(&res.name),
            ]
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("/");
            for (j, r) in res.results.into_iter().flatten().enumerate() {
                let ctx = Context::new(Some(&workload), Some(false), &r);
                read_result(r, &ctx, &format!("{name}[{i}].Results[{j}]"), &mut out)?;
            }
        }
    }
    Ok(out.finish())
}

/// What every finding of one result shares.
struct Context {
    asset: String,
    /// The asset as it enters the fingerprint: an image without its tag or digest, so that
    /// re-scans of the next build of the same image match.
    asset_key: String,
    target: String,
    /// The target as it enters the fingerprint: for OS packages the image without tag and
    /// OS version (`alpine:3.19 (alpine 3.19.1)` → `alpine`), otherwise the target itself.
    target_key: String,
    class: String,
    kind: String,
}

impl Context {
    /// `artifact` is ArtifactName (or the k8s workload); `image` whether it is a container
    /// image (`None` in the legacy format, which does not say).
    fn new(artifact: Option<&str>, image: Option<bool>, r: &TrivyResult) -> Self {
        let target = opt(&r.target).trim().to_string();
        let class = opt(&r.class).trim().to_string();
        let asset = match artifact.map(str::trim) {
            Some(a) if !a.is_empty() => a.to_string(),
            // Without ArtifactName: the target; for OS packages without the detected OS.
            _ if class == "os-pkgs" && !target.is_empty() => strip_os_suffix(&target).to_string(),
            _ if !target.is_empty() => target.clone(),
            _ => "(unnamed Trivy target)".to_string(),
        };
        let asset_key = if image == Some(true) {
            image_repository(strip_os_suffix(&asset)).to_string()
        } else {
            asset.clone()
        };
        let target_key = if class == "os-pkgs" {
            image_repository(strip_os_suffix(&target)).to_string()
        } else {
            target.clone()
        };
        Context {
            asset,
            asset_key,
            target,
            target_key,
            class,
            kind: opt(&r.kind).trim().to_string(),
        }
    }

    fn draft(&self, rule_id: String, title: String, severity: Severity) -> NewFinding {
        NewFinding {
            fingerprint: Fingerprint::derive("", "", "", ""),
            source: SOURCE.to_string(),
            rule_id,
            title,
            description: String::new(),
            severity,
            asset: self.asset.clone(),
            location: String::new(),
            tags: Vec::new(),
            references: Vec::new(),
            owner: None,
        }
    }

    fn tags(&self) -> Vec<String> {
        let mut tags = Vec::new();
        push_unique(&mut tags, &self.class);
        push_unique(&mut tags, &self.kind);
        tags
    }
}

fn read_result(
    r: TrivyResult,
    ctx: &Context,
    path: &str,
    out: &mut Drafts,
) -> Result<(), IngestError> {
    fn len<T>(v: &Option<Vec<T>>) -> usize {
        v.as_ref().map_or(0, Vec::len)
    }
    out.reserve(
        len(&r.vulnerabilities) + len(&r.misconfigurations) + len(&r.secrets) + len(&r.licenses),
    );
    for (i, v) in r.vulnerabilities.into_iter().flatten().enumerate() {
        let at = || format!("{path}.Vulnerabilities[{i}]");
        if let Some(d) = vulnerability(v, ctx).map_err(|m| error(format!("{}{m}", at())))? {
            out.push(d);
        }
    }
    for (i, m) in r.misconfigurations.into_iter().flatten().enumerate() {
        let at = || format!("{path}.Misconfigurations[{i}]");
        if let Some(d) = misconfiguration(m, ctx).map_err(|m| error(format!("{}{m}", at())))? {
            out.push(d);
        }
    }
    for (i, s) in r.secrets.into_iter().flatten().enumerate() {
        let d = secret(s, ctx).map_err(|m| error(format!("{path}.Secrets[{i}]{m}")))?;
        out.push(d);
    }
    for (i, l) in r.licenses.into_iter().flatten().enumerate() {
        let d = license(*l, ctx).map_err(|m| error(format!("{path}.Licenses[{i}]{m}")))?;
        out.push(d);
    }
    Ok(())
}

/// A vulnerability in a package. `None` for status `not_affected` (see the docs).
fn vulnerability(v: Box<Vulnerability>, ctx: &Context) -> Result<Option<Draft>, String> {
    let id = required(v.vulnerability_id, "VulnerabilityID")?;
    let pkg = required(v.pkg_name, "PkgName")?;
    let status = opt(&v.status).trim().to_ascii_lowercase();
    if status == "not_affected" {
        return Ok(None);
    }
    let version = opt(&v.installed_version).trim().to_string();
    let pkg_path = opt(&v.pkg_path).trim().to_string();
    let severity =
        pick_severity(v.severity.as_deref(), v.cvss.0).map_err(|m| format!(".Severity: {m}"))?;
    let title = match v.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => one_line(t),
        _ => format!("{id} in {pkg}"),
    };
    let mut f = ctx.draft(id, title, severity);
    let mut description = v.description.unwrap_or_default();
    let fixed = opt(&v.fixed_version).trim();
    if !fixed.is_empty() {
        description = format!("{}\n\nFixed in {pkg} {fixed}.", description.trim_end());
    }
    f.description = clip_owned(description, MAX_DESCRIPTION);
    let at_version = if version.is_empty() {
        pkg.clone()
    } else {
        format!("{pkg}@{version}")
    };
    let mut location = join_nonempty(&ctx.target, ": ", &at_version);
    if !pkg_path.is_empty() {
        location = format!("{location} ({pkg_path})");
    }
    f.location = clip(&location, MAX_TITLE);
    f.tags = ctx.tags();
    for cwe in v.cwe_ids.iter().flatten() {
        push_unique(&mut f.tags, cwe);
    }
    if !status.is_empty() {
        push_unique(&mut f.tags, &format!("status:{status}"));
    }
    push_reference(&mut f.references, opt(&v.primary_url));
    for r in v.references.iter().flatten() {
        push_reference(&mut f.references, r);
    }
    let key = format!(
        "{}\n{pkg}\n{}",
        ctx.target_key,
        version_free(&pkg_path, &version)
    );
    Ok(Some(Draft::new(f, ctx.asset_key.clone(), key, version)))
}

/// A misconfiguration check. `None` unless it failed (Status FAIL, or no Status at all).
fn misconfiguration(m: Box<Misconfiguration>, ctx: &Context) -> Result<Option<Draft>, String> {
    let status = opt(&m.status).trim().to_ascii_uppercase();
    if !(status.is_empty() || status == "FAIL") {
        return Ok(None);
    }
    let id = match (nonempty(m.id), nonempty(m.avd_id)) {
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => return Err(": no ID or AVDID".into()),
    };
    let severity =
        pick_severity(m.severity.as_deref(), None).map_err(|e| format!(".Severity: {e}"))?;
    let title = match m.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => one_line(t),
        _ => id.clone(),
    };
    let mut f = ctx.draft(id, title, severity);
    let message = opt(&m.message).trim().to_string();
    let mut parts: Vec<String> = Vec::new();
    for p in [m.description, m.message].into_iter().flatten() {
        if !p.trim().is_empty() {
            parts.push(p.trim().to_string());
        }
    }
    if let Some(r) = m
        .resolution
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        parts.push(format!("Resolution: {r}"));
    }
    f.description = clip(&parts.join("\n\n"), MAX_DESCRIPTION);
    let cause = m.cause_metadata.unwrap_or(CauseMetadata {
        resource: None,
        start_line: None,
        end_line: None,
    });
    let resource = opt(&cause.resource).trim().to_string();
    let mut location = ctx.target.clone();
    match (cause.start_line, cause.end_line) {
        (Some(s), Some(e)) if s > 0 && e > s => location.push_str(&format!(":{s}-{e}")),
        (Some(s), _) if s > 0 => location.push_str(&format!(":{s}")),
        _ => {}
    }
    if !resource.is_empty() {
        location = format!("{location} ({resource})");
    }
    f.location = clip(location.trim(), MAX_TITLE);
    f.tags = ctx.tags();
    push_reference(&mut f.references, opt(&m.primary_url));
    for r in m.references.iter().flatten() {
        push_reference(&mut f.references, r);
    }
    // Lines move with every edit above the block; the resource (or, without one, the
    // check's message, which names the offending container or setting) does not.
    let what = match (resource.is_empty(), message.is_empty()) {
        (false, _) => resource,
        (true, false) => message,
        (true, true) => f.location.clone(),
    };
    let key = format!("{}\n{what}", ctx.target_key);
    Ok(Some(Draft::new(
        f,
        ctx.asset_key.clone(),
        key,
        String::new(),
    )))
}

/// A secret. Only the rule's metadata and the position are used: never the matched text.
fn secret(s: Secret, ctx: &Context) -> Result<Draft, String> {
    let rule = required(s.rule_id, "RuleID")?;
    let severity =
        pick_severity(s.severity.as_deref(), None).map_err(|e| format!(".Severity: {e}"))?;
    let name = match s.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => one_line(t),
        _ => rule.clone(),
    };
    let line = s.start_line.unwrap_or(0);
    let mut f = ctx.draft(rule.clone(), clip(&name, MAX_TITLE), severity);
    let category = opt(&s.category).trim().to_string();
    let lines = match s.end_line {
        Some(e) if e > line => format!("lines {line}-{e}"),
        _ => format!("line {line}"),
    };
    f.description = clip(
        &format!(
            "{name}{} found by rule {rule} in {} at {lines}. The matched text is not copied \
             here because it contains the secret; rotate the credential, then remove it.",
            if category.is_empty() {
                String::new()
            } else {
                format!(" ({category})")
            },
            ctx.target,
        ),
        MAX_DESCRIPTION,
    );
    f.location = clip(&format!("{}:{line}", ctx.target), MAX_TITLE);
    f.tags = ctx.tags();
    push_unique(&mut f.tags, "secret");
    push_unique(&mut f.tags, &category);
    let key = format!("{}\n{line}", ctx.target_key);
    Ok(Draft::new(f, ctx.asset_key.clone(), key, String::new()))
}

/// A package or file under a licence Trivy classifies (restricted, reciprocal, notice, …).
fn license(l: License, ctx: &Context) -> Result<Draft, String> {
    let name = required(l.name, "Name")?;
    let severity =
        pick_severity(l.severity.as_deref(), None).map_err(|e| format!(".Severity: {e}"))?;
    let pkg = opt(&l.pkg_name).trim().to_string();
    let file = opt(&l.file_path).trim().to_string();
    let category = opt(&l.category).trim().to_string();
    let subject = if !pkg.is_empty() {
        pkg.clone()
    } else {
        file.clone()
    };
    let class = if category.is_empty() {
        String::new()
    } else {
        format!(" ({category})")
    };
    let title = clip(
        &one_line(&format!("License {name}{class}: {subject}")),
        MAX_TITLE,
    );
    let mut f = ctx.draft(name.clone(), title, severity);
    f.description = clip(
        &format!(
            "{subject} in {} is under the {name} licence{class}.",
            ctx.target
        ),
        MAX_DESCRIPTION,
    );
    f.location = clip(&join_nonempty(&ctx.target, ": ", &subject), MAX_TITLE);
    f.tags = ctx.tags();
    push_unique(&mut f.tags, "license");
    push_unique(&mut f.tags, &category);
    push_reference(&mut f.references, opt(&l.link));
    let key = format!("{}\n{pkg}\n{file}", ctx.target_key);
    Ok(Draft::new(f, ctx.asset_key.clone(), key, String::new()))
}

fn error(message: String) -> IngestError {
    IngestError {
        format: FORMAT,
        message,
        position: None,
    }
}

fn required(v: Option<String>, field: &str) -> Result<String, String> {
    nonempty(v).ok_or_else(|| format!(": no {field}"))
}

fn join_nonempty(a: &str, sep: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}{sep}{b}"),
    }
}

// ---- Shared with grype.rs: package-vulnerability helpers. ----

/// A finding before its fingerprint is final. The fingerprint is
/// `derive(source, rule_id, asset_key, location_key)`; when one file reports the same
/// identity with different `variant`s (two installed versions of one package at one
/// path), the variant is appended to the location key of those findings so they stay apart.
pub(super) struct Draft {
    finding: NewFinding,
    asset_key: String,
    location_key: String,
    variant: String,
}

impl Draft {
    pub(super) fn new(
        finding: NewFinding,
        asset_key: String,
        location_key: String,
        variant: String,
    ) -> Self {
        Draft {
            finding,
            asset_key,
            location_key,
            variant,
        }
    }
}

/// Drafts collected from one input. Findings and their identity keys are kept in two
/// vectors so the findings can be finished in place: no second copy of the output exists.
#[derive(Default)]
pub(super) struct Drafts {
    findings: Vec<NewFinding>,
    keys: Vec<(String, String, String)>,
}

impl Drafts {
    pub(super) fn reserve(&mut self, n: usize) {
        self.findings.reserve_exact(n);
        self.keys.reserve_exact(n);
    }

    pub(super) fn push(&mut self, d: Draft) {
        self.findings.push(d.finding);
        self.keys.push((d.asset_key, d.location_key, d.variant));
    }

    /// Fix the fingerprints (see [`Draft`]) and drop repeats: a finding whose fingerprint
    /// an earlier one in the same input already has is the same problem reported twice.
    pub(super) fn finish(self) -> Vec<NewFinding> {
        let Drafts { mut findings, keys } = self;
        let bases: Vec<Fingerprint> = findings
            .iter()
            .zip(&keys)
            .map(|(f, (asset, location, _))| {
                Fingerprint::derive(&f.source, &f.rule_id, asset, location)
            })
            .collect();
        let ambiguous: Vec<bool> = {
            let mut first: HashMap<&Fingerprint, &str> = HashMap::with_capacity(bases.len());
            let mut clash: HashSet<&Fingerprint> = HashSet::new();
            for (base, (_, _, variant)) in bases.iter().zip(&keys) {
                if *first.entry(base).or_insert(variant) != variant.as_str() {
                    clash.insert(base);
                }
            }
            bases.iter().map(|b| clash.contains(b)).collect()
        };
        for (((f, base), (asset, location, variant)), clash) in
            findings.iter_mut().zip(bases).zip(keys).zip(ambiguous)
        {
            f.fingerprint = if clash {
                let key = format!("{location}\n{variant}");
                Fingerprint::derive(&f.source, &f.rule_id, &asset, &key)
            } else {
                base
            };
        }
        let keep: Vec<bool> = {
            let mut seen = HashSet::with_capacity(findings.len());
            findings
                .iter()
                .map(|f| seen.insert(&f.fingerprint))
                .collect()
        };
        let mut keep = keep.into_iter();
        findings.retain(|_| keep.next().unwrap_or(true));
        findings.iter_mut().for_each(without_controls);
        findings
    }
}

/// Control characters (a NUL inside a package version has been seen in real Grype output)
/// become spaces: they break chat rendering, and PostgreSQL rejects NUL in text. The
/// description keeps its line breaks and tabs.
fn without_controls(f: &mut NewFinding) {
    fn clean(s: &mut String, keep: &[char]) {
        let bad = |c: char| c.is_control() && !keep.contains(&c);
        if s.contains(bad) {
            *s = s.chars().map(|c| if bad(c) { ' ' } else { c }).collect();
        }
    }
    for s in [&mut f.rule_id, &mut f.title, &mut f.asset, &mut f.location] {
        clean(s, &[]);
    }
    clean(&mut f.description, &['\n', '\t']);
    for s in f.tags.iter_mut().chain(f.references.iter_mut()) {
        clean(s, &[]);
    }
}

/// The severity of a finding: the scanner's label, unless it is missing, empty or
/// "unknown", then the highest CVSS base score given, then info. A label we do not know
/// with no score to fall back on is an error rather than a guess.
pub(super) fn pick_severity(label: Option<&str>, score: Option<f64>) -> Result<Severity, String> {
    let label = label.map(str::trim).unwrap_or("");
    let unknown = label.is_empty() || label.eq_ignore_ascii_case("unknown");
    if !unknown && let Some(s) = from_label(label) {
        return Ok(s);
    }
    if let Some(s) = score.and_then(from_score) {
        return Ok(s);
    }
    if unknown {
        Ok(Severity::Info)
    } else {
        Err(format!("unknown severity `{label}`"))
    }
}

/// An image reference without its tag or digest: `ghcr.io/a/b:1.2@sha256:…` → `ghcr.io/a/b`.
/// A registry port (`host:5000/app`) is kept.
pub(super) fn image_repository(reference: &str) -> &str {
    let s = reference.split('@').next().unwrap_or(reference);
    match s.rfind(':') {
        Some(i) if !s[i..].contains('/') => &s[..i],
        _ => s,
    }
}

/// `alpine:3.19 (alpine 3.19.1)` → `alpine:3.19`: Trivy's OS-package targets end with the
/// detected OS and version.
pub(super) fn strip_os_suffix(target: &str) -> &str {
    match target
        .strip_suffix(')')
        .and_then(|t| t.rfind(" (").map(|i| &target[..i]))
    {
        Some(t) => t,
        None => target,
    }
}

/// A package path with the installed version masked (`lib/log4j-core-2.14.1.jar` →
/// `lib/log4j-core-{version}.jar`), so an upgrade that keeps the vulnerability keeps the
/// fingerprint.
pub(super) fn version_free(path: &str, version: &str) -> String {
    if version.is_empty() {
        path.to_string()
    } else {
        path.replace(version, "{version}")
    }
}

/// Owned text, trimmed and clipped; moved rather than copied when it already fits.
pub(super) fn clip_owned(s: String, max: usize) -> String {
    if s.len() <= max && s.trim().len() == s.len() {
        s
    } else {
        clip(&s, max)
    }
}

/// One line: line breaks become spaces.
pub(super) fn one_line(s: &str) -> String {
    let s = s.trim();
    if s.contains(['\n', '\r']) {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        s.to_string()
    }
}

/// Most tags and references a finding keeps.
pub(super) const MAX_LIST: usize = 100;

/// Add a trimmed, non-empty tag unless present or the list is full.
pub(super) fn push_unique(list: &mut Vec<String>, value: &str) {
    let v = value.trim();
    if !v.is_empty() && list.len() < MAX_LIST && !list.iter().any(|x| x == v) {
        list.push(clip(v, 1_000));
    }
}

/// Add a reference URL; one longer than 1,000 characters is dropped, since a cut URL is broken.
pub(super) fn push_reference(list: &mut Vec<String>, url: &str) {
    if url.trim().chars().count() <= 1_000 {
        push_unique(list, url);
    }
}

pub(super) fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

pub(super) fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub(super) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vuln(target: &str, pkg: &str, version: &str, path: &str) -> String {
        format!(
            r#"{{"Target":"{target}","Class":"lang-pkgs","Type":"jar","Vulnerabilities":[{{"VulnerabilityID":"CVE-2021-44228","PkgName":"{pkg}","PkgPath":"{path}","InstalledVersion":"{version}","Severity":"CRITICAL"}}]}}"#
        )
    }

    fn report(artifact: &str, results: &[String]) -> Vec<NewFinding> {
        let doc = format!(
            r#"{{"SchemaVersion":2,"ArtifactName":"{artifact}","ArtifactType":"container_image","Results":[{}]}}"#,
            results.join(",")
        );
        parse(doc.as_bytes()).unwrap()
    }

    #[test]
    fn null_empty_and_bom_inputs_are_zero_findings() {
        assert!(parse(b"null").unwrap().is_empty());
        assert!(parse(b" null\n").unwrap().is_empty());
        assert!(parse(b"").unwrap().is_empty());
        assert!(parse(b"\xEF\xBB\xBFnull").unwrap().is_empty());
        assert!(
            parse(br#"{"SchemaVersion":2,"ArtifactName":"x","Results":null}"#)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn legacy_arrays_are_read_and_null_lists_tolerated() {
        let doc = r#"[{"Target":"alpine:3.10 (alpine 3.10.2)","Type":"alpine","Vulnerabilities":null},
            {"Target":"app/package-lock.json","Type":"npm","Vulnerabilities":[{"VulnerabilityID":"CVE-2019-10744","PkgName":"lodash","InstalledVersion":"4.17.4","Severity":"HIGH","Title":"lodash: prototype pollution"}]}]"#;
        let f = parse(doc.as_bytes()).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].asset, "app/package-lock.json");
        assert_eq!(f[0].location, "app/package-lock.json: lodash@4.17.4");
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].tags, ["npm"]);
    }

    #[test]
    fn fingerprints_ignore_the_installed_version_and_the_image_tag() {
        let a = report(
            "app:1.0",
            &[vuln(
                "Java",
                "log4j-core",
                "2.14.1",
                "lib/log4j-core-2.14.1.jar",
            )],
        );
        let b = report(
            "app:1.1",
            &[vuln(
                "Java",
                "log4j-core",
                "2.15.0",
                "lib/log4j-core-2.15.0.jar",
            )],
        );
        assert_eq!(a[0].fingerprint, b[0].fingerprint);
        assert_eq!(
            a[0].location,
            "Java: log4j-core@2.14.1 (lib/log4j-core-2.14.1.jar)"
        );
        assert_eq!(a[0].asset, "app:1.0");
        let other_image = report(
            "other:1.0",
            &[vuln(
                "Java",
                "log4j-core",
                "2.14.1",
                "lib/log4j-core-2.14.1.jar",
            )],
        );
        assert_ne!(a[0].fingerprint, other_image[0].fingerprint);
    }

    #[test]
    fn the_same_cve_in_two_packages_paths_targets_or_versions_stays_apart() {
        let f = report(
            "app:1",
            &[
                vuln("Java", "log4j-core", "2.14.1", "a/log4j.jar"),
                vuln("Java", "log4j-core", "2.14.1", "b/log4j.jar"),
                vuln("Java", "log4j-api", "2.14.1", "a/log4j.jar"),
                vuln("Node.js", "log4j-core", "2.14.1", "a/log4j.jar"),
                // Two versions of one package at one path (a lockfile with both).
                vuln("Java", "log4j-core", "2.13.0", "a/log4j.jar"),
            ],
        );
        assert_eq!(f.len(), 5);
        let unique: HashSet<_> = f.iter().map(|x| &x.fingerprint).collect();
        assert_eq!(unique.len(), 5);
        // An exact repeat is the same problem: reported once.
        let again = report(
            "app:1",
            &[vuln("Java", "x", "1", ""), vuln("Java", "x", "1", "")],
        );
        assert_eq!(again.len(), 1);
    }

    #[test]
    fn os_package_fingerprints_survive_a_base_image_update() {
        let os = |target: &str, version: &str| {
            format!(
                r#"{{"Target":"{target}","Class":"os-pkgs","Type":"debian","Vulnerabilities":[{{"VulnerabilityID":"CVE-1","PkgName":"libc6","InstalledVersion":"{version}","Severity":"LOW"}}]}}"#
            )
        };
        let a = report("", &[os("app:1 (debian 10.4)", "2.28-10")]);
        let b = report("", &[os("app:2 (debian 10.5)", "2.28-11")]);
        assert_eq!(a[0].fingerprint, b[0].fingerprint);
        assert_eq!(a[0].asset, "app:1");
    }

    #[test]
    fn secrets_never_carry_the_matched_text() {
        let doc = r#"{"SchemaVersion":2,"ArtifactName":"repo","ArtifactType":"repository","Results":[{"Target":".env","Class":"secret","Secrets":[
            {"RuleID":"aws-access-key-id","Category":"AWS","Severity":"CRITICAL","Title":"AWS Access Key ID","StartLine":3,"EndLine":3,
             "Match":"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
             "Code":{"Lines":[{"Number":3,"Content":"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE","IsCause":true}]}}]}]}"#;
        let f = parse(doc.as_bytes()).unwrap();
        assert_eq!(f.len(), 1);
        let s = &f[0];
        assert_eq!(
            (s.rule_id.as_str(), s.location.as_str()),
            ("aws-access-key-id", ".env:3")
        );
        assert_eq!(s.title, "AWS Access Key ID");
        assert_eq!(s.severity, Severity::Critical);
        let all = format!("{s:?}");
        assert!(!all.contains("AKIAIOSFODNN7EXAMPLE"), "{all}");
        assert!(s.description.contains("not copied"));
    }

    #[test]
    fn only_failed_misconfigurations_are_findings() {
        let m = |status: &str, id: &str| {
            format!(
                r#"{{"ID":"{id}","Title":"t {id}","Severity":"HIGH","Status":"{status}","Message":"m {id}","CauseMetadata":{{"Resource":"aws_s3_bucket.logs","StartLine":4,"EndLine":9}}}}"#
            )
        };
        let doc = format!(
            r#"{{"SchemaVersion":2,"ArtifactName":"infra","ArtifactType":"repository","Results":[{{"Target":"main.tf","Class":"config","Type":"terraform","Misconfigurations":[{},{},{},{}]}}]}}"#,
            m("PASS", "A"),
            m("FAIL", "B"),
            m("EXCEPTION", "C"),
            r#"{"AVDID":"AVD-D-1","Severity":"LOW"}"#
        );
        let f = parse(doc.as_bytes()).unwrap();
        assert_eq!(
            f.iter().map(|x| x.rule_id.as_str()).collect::<Vec<_>>(),
            ["B", "AVD-D-1"]
        );
        assert_eq!(f[0].location, "main.tf:4-9 (aws_s3_bucket.logs)");
        // Lines move; the resource does not.
        let moved = doc.replace(
            "\"StartLine\":4,\"EndLine\":9",
            "\"StartLine\":40,\"EndLine\":49",
        );
        assert_eq!(
            parse(moved.as_bytes()).unwrap()[0].fingerprint,
            f[0].fingerprint
        );
    }

    #[test]
    fn vendor_not_affected_is_skipped_and_other_statuses_tagged() {
        let doc = r#"{"SchemaVersion":2,"ArtifactName":"a","Results":[{"Target":"t","Class":"os-pkgs","Type":"debian","Vulnerabilities":[
            {"VulnerabilityID":"CVE-1","PkgName":"bash","Status":"not_affected","Severity":"LOW"},
            {"VulnerabilityID":"CVE-2","PkgName":"bash","Status":"will_not_fix","Severity":"LOW"}]}]}"#;
        let f = parse(doc.as_bytes()).unwrap();
        assert_eq!(f.len(), 1);
        assert!(f[0].tags.contains(&"status:will_not_fix".to_string()));
    }

    #[test]
    fn severity_falls_back_to_cvss_and_rejects_unknown_words() {
        let with = |sev: &str, cvss: &str| {
            format!(
                r#"{{"SchemaVersion":2,"ArtifactName":"a","Results":[{{"Target":"t","Vulnerabilities":[{{"VulnerabilityID":"CVE-1","PkgName":"p"{sev}{cvss}}}]}}]}}"#
            )
        };
        let cvss = r#","CVSS":{"nvd":{"V2Score":5.0,"V3Score":9.8},"redhat":{"V3Score":7.5}}"#;
        let sev = |doc: String| parse(doc.as_bytes()).map(|f| f[0].severity);
        assert_eq!(sev(with("", cvss)), Ok(Severity::Critical));
        assert_eq!(
            sev(with(r#","Severity":"UNKNOWN""#, cvss)),
            Ok(Severity::Info).and(Ok(Severity::Critical))
        );
        assert_eq!(
            sev(with(r#","Severity":"UNKNOWN""#, "")),
            Ok(Severity::Info)
        );
        assert_eq!(
            sev(with(r#","Severity":"MEDIUM""#, cvss)),
            Ok(Severity::Medium)
        );
        assert_eq!(sev(with("", "")), Ok(Severity::Info));
        let err = parse(with(r#","Severity":"URGENT""#, "").as_bytes()).unwrap_err();
        assert_eq!(
            err.message,
            "Results[0].Vulnerabilities[0].Severity: unknown severity `URGENT`"
        );
    }

    #[test]
    fn missing_required_fields_name_the_item() {
        let doc = r#"{"SchemaVersion":2,"ArtifactName":"a","Results":[{"Target":"t","Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"p"},{"PkgName":"q"}]}]}"#;
        let err = parse(doc.as_bytes()).unwrap_err();
        assert_eq!(err.format, "Trivy JSON");
        assert_eq!(
            err.message,
            "Results[0].Vulnerabilities[1]: no VulnerabilityID"
        );
        let err = parse(br#"{"SchemaVersion":2,"Results":[{"Target":"t","Vulnerabilities":[{"VulnerabilityID":7}]}]}"#).unwrap_err();
        assert!(
            err.message
                .starts_with("Results[0].Vulnerabilities[0].VulnerabilityID"),
            "{err}"
        );
        assert_eq!(err.position.map(|p| p.0), Some(1));
        let err = parse(br#"{"SchemaVersion":3,"Results":[]}"#).unwrap_err();
        assert!(
            err.message.contains("SchemaVersion: 3 is not supported"),
            "{err}"
        );
        assert!(
            parse(br#"{"foo":1}"#)
                .unwrap_err()
                .message
                .contains("not a Trivy report")
        );
    }

    #[test]
    fn detection_is_specific() {
        assert!(looks_like(
            br#"{"SchemaVersion": 2, "CreatedAt": "x", "ArtifactName": "a"#
        ));
        assert!(looks_like(br#"{"ClusterName": "c", "Vulnerabilities": ["#));
        assert!(looks_like(
            br#"[{"Target": "a (alpine 3.10)", "Type": "alpine", "Vulnerabilities": null}]"#
        ));
        assert!(!looks_like(
            br#"{"SchemaVersion": "2.0", "accountId": "1"}"#
        )); // GuardDuty
        assert!(!looks_like(br#"[{"source":"trivy","rule_id":"CVE-1","asset":"a","Target":"x","Vulnerabilities":1}]"#));
        assert!(!looks_like(b"null"));
    }

    #[test]
    fn image_references_lose_tag_and_digest_only() {
        assert_eq!(
            image_repository("ghcr.io/a/b:1.2@sha256:abc"),
            "ghcr.io/a/b"
        );
        assert_eq!(image_repository("localhost:5000/app"), "localhost:5000/app");
        assert_eq!(
            image_repository("localhost:5000/app:7"),
            "localhost:5000/app"
        );
        assert_eq!(
            strip_os_suffix("alpine:3.19 (alpine 3.19.1)"),
            "alpine:3.19"
        );
        assert_eq!(strip_os_suffix("Java"), "Java");
        assert_eq!(version_free("lib/a-1.2.jar", "1.2"), "lib/a-{version}.jar");
    }
}
