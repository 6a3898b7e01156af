//! AWS Security Hub findings in the AWS Security Finding Format (ASFF), as exported by
//! `aws securityhub get-findings`, written by Prowler, Trivy, Inspector and others, or
//! delivered by EventBridge; plus Amazon GuardDuty's own API format
//! (`aws guardduty get-findings`). docs/formats/asff.md has the field mapping.
//!
//! Findings that Security Hub marks resolved or suppressed are not open findings: [`parse`]
//! drops them, [`parse_with_status`] returns them with their [`AsffStatus`], and
//! [`parse_reported`] turns them into [`StatusReport`]s for findings remedybot may already
//! track (evidence for a resolved one, a comment for a suppressed one).

mod guardduty;
mod model;

use std::collections::{HashMap, HashSet};

use super::severity::{from_label, from_normalized};
use super::{
    IngestError, MAX_DESCRIPTION, MAX_TITLE, StatusReport, clip, json_error, json_from_slice,
    json_kind, line_column, strip_bom,
};
use crate::domain::{Actor, Command, Evidence, Fingerprint, NewFinding, Severity};
use model::{AsffSeverity, Node, SeverityField};

pub const FORMAT: &str = "AWS Security Hub (ASFF)";

/// Most tags or references kept per finding.
const MAX_LIST: usize = 100;

/// Where Security Hub says a finding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsffStatus {
    /// Still open: remedybot should track it.
    Active,
    /// `Workflow.Status` RESOLVED, or `RecordState` ARCHIVED (the product no longer sees it).
    Resolved,
    /// `Workflow.Status` SUPPRESSED (or the legacy `WorkflowState` DEFERRED), or a GuardDuty
    /// finding someone archived.
    Suppressed,
}

/// ASFF keys no other supported format uses; GuardDuty's ARNs for its native format.
pub fn looks_like(head: &[u8]) -> bool {
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    if has(b"\"rule_id\"") && has(b"\"asset\"") {
        return false; // the generic format
    }
    has(b"\"ProductArn\"")
        || (has(b"\"detail-type\"") && has(b"aws.securityhub"))
        || (has(b"\"Findings\"") && has(b"arn:aws:guardduty:"))
}

/// The open (active) findings of an ASFF or GuardDuty document.
pub fn parse(bytes: &[u8]) -> Result<Vec<NewFinding>, IngestError> {
    Ok(parse_reported(bytes)?.0)
}

/// Every finding with its Security Hub status. Passed compliance checks are not findings at
/// all and are left out.
pub fn parse_with_status(bytes: &[u8]) -> Result<Vec<(NewFinding, AsffStatus)>, IngestError> {
    Ok(drafts(bytes)?
        .into_iter()
        .map(|d| (d.finding, d.status))
        .collect())
}

/// The open findings, as [`parse`] returns them, and a [`StatusReport`] per finding that
/// Security Hub marks resolved or suppressed: verification evidence for a resolved one, a
/// comment for a suppressed one. A finding the same document also reports active gets no
/// report (the document calls it open); a finding reported twice gets the last report.
pub fn parse_reported(bytes: &[u8]) -> Result<(Vec<NewFinding>, Vec<StatusReport>), IngestError> {
    let drafts = drafts(bytes)?;
    let active: HashSet<String> = drafts
        .iter()
        .filter(|d| d.status == AsffStatus::Active)
        .map(|d| d.finding.fingerprint.as_str().to_string())
        .collect();
    let mut findings = Vec::with_capacity(active.len());
    let mut reports: Vec<StatusReport> = Vec::new();
    let mut reported: HashMap<String, usize> = HashMap::new();
    for d in drafts {
        let fingerprint = d.finding.fingerprint.as_str().to_string();
        if d.status == AsffStatus::Active {
            findings.push(d.finding);
        } else if !active.contains(&fingerprint) {
            let report = report(d);
            match reported.get(&fingerprint) {
                Some(&i) => reports[i] = report,
                None => {
                    reported.insert(fingerprint, reports.len());
                    reports.push(report);
                }
            }
        }
    }
    Ok((findings, reports))
}

/// What remedybot records when it holds the finding open: evidence for a resolved finding
/// (never a closure: approvals still decide), a comment for a suppressed one.
fn report(d: Draft) -> StatusReport {
    let said = d.said;
    let mut text = said.phrase.to_string();
    if let Some(by) = &said.by {
        text.push_str(&format!(" by {by}"));
    }
    if let Some(at) = &said.updated_at {
        text.push_str(&format!(" ({at})"));
    }
    if let Some(note) = &said.note {
        text.push_str(&format!(": {note}"));
    }
    let text = clip(&text, MAX_TITLE);
    let command = match d.status {
        AsffStatus::Resolved => Command::RecordEvidence(Evidence {
            link: said.link.unwrap_or(d.id),
            rescan_result: text,
        }),
        _ => Command::Comment {
            text,
            link: said.link,
        },
    };
    StatusReport {
        fingerprint: d.finding.fingerprint,
        actor: said.actor,
        command,
    }
}

/// The drafts of a document, with their fingerprints fixed.
fn drafts(bytes: &[u8]) -> Result<Vec<Draft>, IngestError> {
    let bytes = strip_bom(bytes);
    let Some(first) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Ok(Vec::new());
    };
    let (nodes, prefix) = match bytes.get(first) {
        Some(b'[') => (
            json_from_slice::<Vec<Node>>(FORMAT, bytes)?,
            Some(String::new()),
        ),
        Some(b'{') => unwrap_envelope(json_from_slice::<Node>(FORMAT, bytes)?)?,
        _ => {
            let found = match serde_json::from_slice::<serde_json::Value>(bytes) {
                Ok(v) => json_kind(&v),
                Err(e) => return Err(json_error(FORMAT, e, String::new())),
            };
            return Err(IngestError {
                format: FORMAT,
                message: format!("expected an object or an array of findings, found {found}"),
                position: Some(line_column(bytes, first)),
            });
        }
    };
    let mut drafts = Vec::with_capacity(nodes.len());
    for (i, node) in nodes.into_iter().enumerate() {
        let path = match &prefix {
            Some(p) => format!("{p}[{i}]"),
            None => String::new(),
        };
        let draft = if node.product_arn.is_some() {
            asff_finding(node)
        } else if node.arn.is_some() || node.kind.is_some() {
            guardduty::finding(node)
        } else {
            Err("neither an ASFF finding (no ProductArn) nor a GuardDuty finding (no Arn)".into())
        };
        match draft {
            Ok(Some(d)) => drafts.push(d),
            Ok(None) => {}
            Err(message) => return Err(error_at(&path, message)),
        }
    }
    fingerprint(&mut drafts);
    Ok(drafts)
}

/// The findings inside whichever wrapper the document uses, and the JSON path they sit
/// at (`None` for a lone finding object).
fn unwrap_envelope(top: Node) -> Result<(Vec<Node>, Option<String>), IngestError> {
    if let Some(v) = top.findings_upper {
        return Ok((v, Some("Findings".into())));
    }
    if let Some(v) = top.findings_lower {
        return Ok((v, Some("findings".into())));
    }
    if let Some(detail) = top.detail {
        let detail_type = top.detail_type.unwrap_or_default();
        if let Some(v) = detail.findings_upper {
            return Ok((v, Some("detail.Findings".into())));
        }
        if let Some(v) = detail.findings_lower {
            return Ok((v, Some("detail.findings".into())));
        }
        let message = if detail_type.contains("Insight Results") {
            format!(
                "EventBridge event `{detail_type}` carries insight result counts, not findings; \
                 route `Security Hub Findings - Imported` events instead"
            )
        } else {
            format!(
                "EventBridge event `{detail_type}` has no detail.findings; only Security Hub \
                 findings events are read (GuardDuty's own events use a different, camelCase \
                 format: send their Security Hub copy instead)"
            )
        };
        return Err(error_at("detail", message));
    }
    if top.records.is_some() {
        return Err(error_at(
            "Records",
            "this is `get-finding-history` output (a finding's change records), not findings; \
             export findings with `aws securityhub get-findings`"
                .into(),
        ));
    }
    if top.product_arn.is_some() || top.arn.is_some() || top.id.is_some() {
        return Ok((vec![top], None));
    }
    Err(error_at(
        "",
        "no findings: expected {\"Findings\": [...]}, an array of findings, one finding, or an \
         EventBridge Security Hub findings event"
            .into(),
    ))
}

fn error_at(path: &str, message: String) -> IngestError {
    IngestError {
        format: FORMAT,
        message: if path.is_empty() {
            message
        } else {
            format!("{path}: {message}")
        },
        position: None,
    }
}

/// A finding before its fingerprint is fixed: the fingerprint depends on the other
/// findings of the same input (see [`fingerprint`]).
pub(super) struct Draft {
    pub finding: NewFinding,
    pub status: AsffStatus,
    pub product_arn: String,
    pub id: String,
    pub said: Said,
}

/// What the product says about a finding's status, for its [`StatusReport`].
pub(super) struct Said {
    /// Who says so: the event's actor.
    pub actor: Actor,
    /// The report's first words, e.g. `AWS Security Hub marks it RESOLVED`.
    pub phrase: &'static str,
    /// `Note.UpdatedBy`.
    pub by: Option<String>,
    /// `UpdatedAt`, as written.
    pub updated_at: Option<String>,
    /// `Note.Text`.
    pub note: Option<String>,
    /// `SourceUrl`, when it is a web address.
    pub link: Option<String>,
}

/// The actor of reports read from ASFF.
fn security_hub() -> Actor {
    Actor::new("aws", "securityhub", "AWS Security Hub")
}

/// Fingerprint = derive("asff", ProductArn, Id, "") — Security Hub's own identity for a
/// finding. Some producers reuse one Id for different problems (Trivy's template uses
/// `<target>/<CVE>` for every package with that CVE, and `<file>` for every secret in a
/// file); when one input holds the same ProductArn and Id with different titles, the title
/// becomes the fourth part for each of them so they stay apart.
fn fingerprint(drafts: &mut [Draft]) {
    let mut titles: HashMap<(&str, &str), (&str, bool)> = HashMap::with_capacity(drafts.len());
    for d in drafts.iter() {
        let key = (d.product_arn.as_str(), d.id.as_str());
        let title = d.finding.title.as_str();
        titles
            .entry(key)
            .and_modify(|(first, differ)| *differ |= *first != title)
            .or_insert((title, false));
    }
    let ambiguous: Vec<bool> = drafts
        .iter()
        .map(|d| {
            titles
                .get(&(d.product_arn.as_str(), d.id.as_str()))
                .is_some_and(|(_, differ)| *differ)
        })
        .collect();
    for (d, ambiguous) in drafts.iter_mut().zip(ambiguous) {
        let extra = if ambiguous {
            d.finding.title.as_str()
        } else {
            ""
        };
        d.finding.fingerprint = Fingerprint::derive("asff", &d.product_arn, &d.id, extra);
    }
}

fn asff_finding(n: Node) -> Result<Option<Draft>, String> {
    let compliance = n.compliance.as_ref().and_then(|c| c.status.as_deref());
    if compliance.is_some_and(|s| {
        s.eq_ignore_ascii_case("PASSED") || s.eq_ignore_ascii_case("NOT_AVAILABLE")
    }) {
        return Ok(None);
    }
    let (status, phrase) = status(&n);
    let id = required(n.id.as_deref(), "Id")?;
    let product_arn = required(n.product_arn.as_deref(), "ProductArn")?;
    let title = one_line(required(n.title.as_deref(), "Title")?);
    let severity = severity(&n)?;
    let source = source(&n, &product_arn);
    let rule_id = rule_id(&n)?;
    let first = n.resources.first();
    let account = n.aws_account_id.as_deref().map(str::trim).unwrap_or("");
    let asset = match first.and_then(|r| r.id.as_deref()).map(str::trim) {
        Some(a) if !a.is_empty() => a.to_string(),
        _ if !account.is_empty() => format!("AWS::::Account:{account}"),
        _ => return Err("no Resources[0].Id and no AwsAccountId to name the asset".into()),
    };
    let region = n
        .region
        .as_deref()
        .or_else(|| first.and_then(|r| r.region.as_deref()))
        .unwrap_or("")
        .trim();
    let location = match (account.is_empty(), region.is_empty()) {
        (false, false) => format!("{account}/{region}"),
        (false, true) => account.to_string(),
        _ => region.to_string(),
    };

    let mut tags = Vec::new();
    for t in &n.types {
        push(&mut tags, t);
    }
    if let Some(t) = first.and_then(|r| r.kind.as_deref()) {
        push(&mut tags, t);
    }
    if let Some(c) = &n.compliance {
        if let Some(id) = &c.security_control_id {
            push(&mut tags, id);
        }
        for r in &c.related_requirements {
            push(&mut tags, r);
        }
    }
    for v in n.vulnerabilities.iter().skip(1) {
        if let Some(id) = &v.id {
            push(&mut tags, id);
        }
    }
    for p in n
        .vulnerabilities
        .iter()
        .flat_map(|v| &v.vulnerable_packages)
    {
        if let Some(name) = &p.name {
            push(&mut tags, &format!("package:{}", name.trim()));
        }
    }
    for r in n.resources.iter().skip(1) {
        if let Some(id) = &r.id {
            push(&mut tags, &format!("resource:{}", id.trim()));
        }
    }

    let recommendation = n
        .remediation
        .as_ref()
        .and_then(|r| r.recommendation.as_ref());
    let mut references = Vec::new();
    let urls = recommendation
        .and_then(|r| r.url.as_deref())
        .into_iter()
        .chain(n.source_url.as_deref())
        .chain(n.vulnerabilities.iter().flat_map(|v| {
            v.reference_urls
                .iter()
                .map(String::as_str)
                .chain(v.vendor.as_ref().and_then(|x| x.url.as_deref()))
        }));
    for u in urls {
        push_url(&mut references, u);
    }

    let nonempty = |s: Option<&String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let note = n.note.as_ref();
    let said = Said {
        actor: security_hub(),
        phrase,
        by: nonempty(note.and_then(|x| x.updated_by.as_ref())).map(one_line),
        updated_at: nonempty(n.updated_at.as_ref()),
        note: nonempty(note.and_then(|x| x.text.as_ref())).map(one_line),
        link: nonempty(n.source_url.as_ref())
            .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
    };

    let mut description = n.description.unwrap_or_default();
    if let Some(text) = recommendation
        .and_then(|r| r.text.as_deref())
        .filter(|t| !t.trim().is_empty())
    {
        description = format!("{}\n\nRemediation: {}", description.trim(), text.trim());
    }

    Ok(Some(Draft {
        finding: NewFinding {
            fingerprint: Fingerprint::derive("asff", &product_arn, &id, ""),
            source,
            rule_id: clip(&rule_id, MAX_TITLE),
            title: clip(&title, MAX_TITLE),
            description: clip(&description, MAX_DESCRIPTION),
            severity,
            asset: clip(&asset, MAX_TITLE),
            location: clip(&location, MAX_TITLE),
            tags,
            references,
            owner: None,
        },
        status,
        product_arn,
        id,
        said,
    }))
}

/// The status and the words a [`StatusReport`] starts with.
fn status(n: &Node) -> (AsffStatus, &'static str) {
    if n.record_state
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("ARCHIVED"))
    {
        return (AsffStatus::Resolved, "AWS Security Hub marks it ARCHIVED");
    }
    let workflow = n
        .workflow
        .as_ref()
        .and_then(|w| w.status.as_deref())
        .or(n.workflow_state.as_deref())
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase();
    match workflow.as_str() {
        "RESOLVED" => (AsffStatus::Resolved, "AWS Security Hub marks it RESOLVED"),
        "SUPPRESSED" => (AsffStatus::Suppressed, "suppressed in AWS Security Hub"),
        "DEFERRED" => (AsffStatus::Suppressed, "deferred in AWS Security Hub"),
        _ => (AsffStatus::Active, ""),
    }
}

/// `Severity.Label`, else `Severity.Normalized`, else the legacy `Severity.Product` (read
/// on the same 0–100 scale), else the provider's original label.
fn severity(n: &Node) -> Result<Severity, String> {
    let own = match &n.severity {
        Some(SeverityField::Object(s)) => Some(s),
        Some(SeverityField::Score(x)) => {
            return Err(format!(
                "Severity is the number {x}; ASFF needs an object with Label or Normalized"
            ));
        }
        None => None,
    };
    let provider = n
        .finding_provider_fields
        .as_ref()
        .and_then(|f| f.severity.as_ref());
    for (s, field) in [
        (own, "Severity"),
        (provider, "FindingProviderFields.Severity"),
    ] {
        let Some(s) = s else { continue };
        if let Some(found) = from_asff(s) {
            return Ok(found);
        }
        if let Some(label) = &s.label {
            return Err(format!(
                "{field}.Label `{label}` is not an ASFF severity label"
            ));
        }
    }
    Err("no Severity.Label, Severity.Normalized or Severity.Product".into())
}

fn from_asff(s: &AsffSeverity) -> Option<Severity> {
    s.label
        .as_deref()
        .and_then(from_label)
        .or_else(|| s.normalized.and_then(from_normalized))
        .or_else(|| s.product.and_then(from_normalized))
}

/// The product's name, lower-case without spaces: `ProductName`, Security Hub's copy of it,
/// Prowler's `ProviderName`, Trivy's `Product Name`, else the ProductArn's last segment.
fn source(n: &Node, product_arn: &str) -> String {
    let fields = n.product_fields.as_ref();
    let named = n
        .product_name
        .as_deref()
        .or_else(|| fields.and_then(|f| f.securityhub_product_name.as_deref()))
        .or_else(|| fields.and_then(|f| f.provider_name.as_deref()))
        .or_else(|| fields.and_then(|f| f.product_name.as_deref()))
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| product_arn.rsplit('/').next().unwrap_or(product_arn));
    let mut s: String = named.chars().filter(|c| !c.is_whitespace()).collect();
    s.make_ascii_lowercase();
    if s.is_empty() {
        "asff".into()
    } else {
        clip(&s, MAX_TITLE)
    }
}

/// The vulnerability id for vulnerability findings, the consolidated control id for
/// Security Hub controls, else GeneratorId.
fn rule_id(n: &Node) -> Result<String, String> {
    let candidates = [
        n.vulnerabilities.first().and_then(|v| v.id.as_deref()),
        n.compliance
            .as_ref()
            .and_then(|c| c.security_control_id.as_deref()),
        n.product_fields
            .as_ref()
            .and_then(|f| f.control_id.as_deref()),
        n.generator_id.as_deref(),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| "no GeneratorId".into())
}

pub(super) fn required(value: Option<&str>, field: &str) -> Result<String, String> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        Some(_) => Err(format!("{field} is empty")),
        None => Err(format!("no {field}")),
    }
}

pub(super) fn one_line(s: String) -> String {
    if s.contains(['\n', '\r', '\t']) {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        s
    }
}

/// Add a trimmed, non-empty tag once, up to [`MAX_LIST`].
pub(super) fn push(list: &mut Vec<String>, value: &str) {
    let v = value.trim();
    if !v.is_empty() && list.len() < MAX_LIST && !list.iter().any(|t| t == v) {
        list.push(clip(v, MAX_TITLE));
    }
}

fn push_url(list: &mut Vec<String>, url: &str) {
    let u = url.trim();
    if u.starts_with("https://") || u.starts_with("http://") {
        push(list, u);
    }
}

#[cfg(test)]
mod tests;
