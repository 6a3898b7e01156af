//! GitHub security-alert webhooks: `code_scanning_alert`, `dependabot_alert`,
//! `secret_scanning_alert` and `repository_vulnerability_alert` deliveries → the finding
//! they describe plus what the action means for the workflow ([`Effect`]). Signature
//! checking lives with the HTTP route; this module only reads payloads.

use serde::Deserialize;

use super::severity::from_label;
use super::{IngestError, MAX_DESCRIPTION, MAX_TITLE, clip, json_from_slice};
use crate::domain::{Actor, DecisionKind, Fingerprint, NewFinding, Severity};

pub const FORMAT: &str = "GitHub webhook";

/// What a delivery asks of the workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The alert exists (created, appeared again): ingest it.
    Detected,
    /// The tool reports it fixed: record verification evidence (approvals still decide).
    Fixed,
    /// The alert was reopened: a regression.
    Reopened,
    /// Someone dismissed it on GitHub: propose the matching decision, which needs approval.
    Dismissed { kind: DecisionKind, reason: String },
    /// An action that changes nothing here (assignment, validity checks, …).
    Nothing,
}

/// One alert delivery, read.
#[derive(Debug, Clone)]
pub struct Alert {
    pub event: String,
    pub action: String,
    pub finding: NewFinding,
    pub effect: Effect,
    /// Who acted on GitHub (the dismisser for dismissals, else the sender).
    pub actor: Actor,
    /// The alert's page on GitHub.
    pub html_url: Option<String>,
}

/// A delivery, read.
#[derive(Debug, Clone)]
pub enum Delivery {
    Ping {
        zen: String,
    },
    Alert(Box<Alert>),
    /// An event type remedybot does not handle.
    Unsupported {
        event: String,
    },
}

#[derive(Deserialize, Default)]
struct User {
    #[serde(default)]
    login: String,
    #[serde(default)]
    id: Option<u64>,
}

#[derive(Deserialize)]
struct Repository {
    full_name: String,
}

#[derive(Deserialize)]
struct Envelope<A> {
    #[serde(default)]
    action: String,
    alert: A,
    repository: Repository,
    #[serde(default)]
    sender: Option<User>,
}

#[derive(Deserialize)]
struct Ping {
    #[serde(default)]
    zen: String,
}

// ---- code scanning -------------------------------------------------------------------

#[derive(Deserialize)]
struct CodeScanningAlert {
    number: u64,
    html_url: Option<String>,
    dismissed_by: Option<User>,
    dismissed_reason: Option<String>,
    rule: CodeScanningRule,
    tool: Option<Tool>,
    most_recent_instance: Option<Instance>,
    #[serde(default)]
    instances: Vec<Instance>,
}

#[derive(Deserialize)]
struct CodeScanningRule {
    id: String,
    severity: Option<String>,
    security_severity_level: Option<String>,
    description: Option<String>,
    name: Option<String>,
    full_description: Option<String>,
    tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Tool {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Instance {
    location: Option<InstanceLocation>,
}

#[derive(Deserialize)]
struct InstanceLocation {
    path: Option<String>,
    start_line: Option<u64>,
}

// ---- dependabot -----------------------------------------------------------------------

#[derive(Deserialize)]
struct DependabotAlert {
    number: u64,
    html_url: Option<String>,
    dependency: Option<Dependency>,
    security_advisory: Advisory,
    security_vulnerability: Option<Vulnerability>,
    dismissed_by: Option<User>,
    dismissed_reason: Option<String>,
    dismissed_comment: Option<String>,
}

#[derive(Deserialize)]
struct Dependency {
    package: Option<Package>,
    manifest_path: Option<String>,
}

#[derive(Deserialize)]
struct Package {
    ecosystem: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct Advisory {
    ghsa_id: String,
    cve_id: Option<String>,
    summary: Option<String>,
    description: Option<String>,
    severity: Option<String>,
    #[serde(default)]
    references: Vec<Reference>,
}

#[derive(Deserialize)]
struct Reference {
    url: Option<String>,
}

#[derive(Deserialize)]
struct Vulnerability {
    package: Option<Package>,
    severity: Option<String>,
    vulnerable_version_range: Option<String>,
}

// ---- secret scanning ------------------------------------------------------------------

/// Deliberately without the `secret` field: the secret itself is never read.
#[derive(Deserialize)]
struct SecretScanningAlert {
    number: u64,
    html_url: Option<String>,
    secret_type: String,
    secret_type_display_name: Option<String>,
    resolution: Option<String>,
    resolved_by: Option<User>,
}

// ---- repository vulnerability alert (legacy) ------------------------------------------

#[derive(Deserialize)]
struct RepositoryVulnerabilityAlert {
    number: Option<u64>,
    id: Option<u64>,
    affected_range: Option<String>,
    affected_package_name: Option<String>,
    external_reference: Option<String>,
    external_identifier: Option<String>,
    ghsa_id: Option<String>,
    severity: Option<String>,
    dismisser: Option<User>,
    dismiss_reason: Option<String>,
}

fn actor(user: Option<&User>, fallback: Option<&User>) -> Actor {
    let user = user
        .filter(|u| !u.login.is_empty())
        .or(fallback.filter(|u| !u.login.is_empty()));
    match user {
        Some(u) => Actor::new(
            "github",
            &u.id
                .map(|id| id.to_string())
                .unwrap_or_else(|| u.login.clone()),
            &u.login,
        ),
        None => Actor::new("github", "github", "GitHub"),
    }
}

/// The alert, with the actor who decided (the dismisser or resolver, when the action is
/// theirs) or else the delivery's sender.
fn alert(
    event: &str,
    action: String,
    finding: NewFinding,
    effect: Effect,
    acted_by: Option<&User>,
    sender: Option<&User>,
    html_url: Option<String>,
) -> Alert {
    Alert {
        event: event.into(),
        actor: actor(acted_by, sender),
        action,
        finding,
        effect,
        html_url,
    }
}

fn fingerprint(event: &str, repo: &str, number: u64) -> Fingerprint {
    Fingerprint::derive("github", event, repo, &number.to_string())
}

fn severity_of(labels: &[Option<&str>], default: Severity) -> Severity {
    labels
        .iter()
        .flatten()
        .find_map(|l| from_label(l))
        .unwrap_or(default)
}

/// Read one delivery. `event` is the `X-GitHub-Event` header.
pub fn parse(event: &str, bytes: &[u8]) -> Result<Delivery, IngestError> {
    let bytes = super::strip_bom(bytes);
    match event {
        "ping" => Ok(Delivery::Ping {
            zen: json_from_slice::<Ping>(FORMAT, bytes)?.zen,
        }),
        "code_scanning_alert" => finish(code_scanning(bytes)?),
        "dependabot_alert" => finish(dependabot(bytes)?),
        "secret_scanning_alert" => finish(secret_scanning(bytes)?),
        "repository_vulnerability_alert" => finish(repository_vulnerability(bytes)?),
        other => Ok(Delivery::Unsupported {
            event: other.to_string(),
        }),
    }
}

/// The checks every finding passes before it is stored: a rule id and an asset are
/// required, an empty title falls back to the rule id, list entries are trimmed, clipped,
/// de-duplicated and at most 100.
fn finish(mut alert: Alert) -> Result<Delivery, IngestError> {
    let f = &mut alert.finding;
    let missing = |what: &str| IngestError {
        format: FORMAT,
        message: format!("{}: the alert has no {what}", alert.event),
        position: None,
    };
    f.rule_id = clip(&f.rule_id, MAX_TITLE);
    f.asset = clip(&f.asset, MAX_TITLE);
    if f.rule_id.is_empty() {
        return Err(missing("rule or advisory id"));
    }
    if f.asset.is_empty() {
        return Err(missing("repository"));
    }
    if f.title.trim().is_empty() {
        f.title = f.rule_id.clone();
    }
    f.location = clip(&f.location, MAX_TITLE);
    for list in [&mut f.tags, &mut f.references] {
        let mut seen = std::collections::HashSet::new();
        *list = list
            .iter()
            .map(|v| clip(v, MAX_TITLE))
            .filter(|v| !v.is_empty() && seen.insert(v.clone()))
            .take(100)
            .collect();
    }
    Ok(Delivery::Alert(Box::new(alert)))
}

fn code_scanning(bytes: &[u8]) -> Result<Alert, IngestError> {
    const EVENT: &str = "code_scanning_alert";
    let e: Envelope<CodeScanningAlert> = json_from_slice(FORMAT, bytes)?;
    let a = e.alert;
    let effect = match e.action.as_str() {
        "created" | "appeared_in_branch" => Effect::Detected,
        "fixed" => Effect::Fixed,
        "reopened" | "reopened_by_user" => Effect::Reopened,
        "closed_by_user" => {
            let reason = a.dismissed_reason.clone().unwrap_or_default();
            let kind = match reason.as_str() {
                "false positive" | "false_positive" => DecisionKind::FalsePositive,
                _ => DecisionKind::WontFix,
            };
            Effect::Dismissed {
                kind,
                reason: format!(
                    "dismissed on GitHub: {}",
                    if reason.is_empty() {
                        "no reason given"
                    } else {
                        &reason
                    }
                ),
            }
        }
        _ => Effect::Nothing,
    };
    let instance = a.most_recent_instance.as_ref().or(a.instances.first());
    let location = instance
        .and_then(|i| i.location.as_ref())
        .map(|l| match (&l.path, l.start_line) {
            (Some(p), Some(n)) => format!("{p}:{n}"),
            (Some(p), None) => p.clone(),
            _ => String::new(),
        })
        .unwrap_or_default();
    let rule = &a.rule;
    let title = [rule.description.as_deref(), rule.name.as_deref()]
        .into_iter()
        .flatten()
        .find(|t| !t.trim().is_empty())
        .unwrap_or(&rule.id);
    let tool = a
        .tool
        .as_ref()
        .and_then(|t| t.name.as_deref())
        .filter(|n| !n.trim().is_empty())
        .map(|n| n.trim().to_ascii_lowercase())
        .unwrap_or_else(|| "github-code-scanning".into());
    let finding = NewFinding {
        fingerprint: fingerprint(EVENT, &e.repository.full_name, a.number),
        source: tool,
        rule_id: rule.id.clone(),
        title: clip(title, MAX_TITLE),
        description: clip(
            rule.full_description.as_deref().unwrap_or_default(),
            MAX_DESCRIPTION,
        ),
        severity: severity_of(
            &[
                rule.security_severity_level.as_deref(),
                rule.severity.as_deref(),
            ],
            Severity::Medium,
        ),
        asset: e.repository.full_name.clone(),
        location,
        tags: rule
            .tags
            .clone()
            .unwrap_or_default()
            .into_iter()
            .take(100)
            .collect(),
        references: a.html_url.iter().cloned().collect(),
        owner: None,
    };
    let acted_by = a
        .dismissed_by
        .as_ref()
        .filter(|_| matches!(effect, Effect::Dismissed { .. }));
    Ok(alert(
        EVENT,
        e.action,
        finding,
        effect,
        acted_by,
        e.sender.as_ref(),
        a.html_url,
    ))
}

fn dependabot(bytes: &[u8]) -> Result<Alert, IngestError> {
    const EVENT: &str = "dependabot_alert";
    let e: Envelope<DependabotAlert> = json_from_slice(FORMAT, bytes)?;
    let a = e.alert;
    let effect = match e.action.as_str() {
        "created" => Effect::Detected,
        "fixed" => Effect::Fixed,
        "reopened" | "auto_reopened" | "reintroduced" => Effect::Reopened,
        "dismissed" | "auto_dismissed" => {
            let reason = a.dismissed_reason.clone().unwrap_or_default();
            let kind = match reason.as_str() {
                "inaccurate" | "not_used" => DecisionKind::FalsePositive,
                _ => DecisionKind::WontFix,
            };
            let comment = a.dismissed_comment.clone().filter(|c| !c.trim().is_empty());
            let what = if reason.is_empty() {
                "no reason given".to_string()
            } else {
                reason
            };
            Effect::Dismissed {
                kind,
                reason: match comment {
                    Some(c) => format!("dismissed on GitHub ({}): {what}: {c}", e.action),
                    None => format!("dismissed on GitHub ({}): {what}", e.action),
                },
            }
        }
        _ => Effect::Nothing,
    };
    let adv = &a.security_advisory;
    let package = a.dependency.as_ref().and_then(|d| d.package.as_ref()).or(a
        .security_vulnerability
        .as_ref()
        .and_then(|v| v.package.as_ref()));
    let name = package.and_then(|p| p.name.clone()).unwrap_or_default();
    let ecosystem = package.and_then(|p| p.ecosystem.clone());
    let manifest = a
        .dependency
        .as_ref()
        .and_then(|d| d.manifest_path.clone())
        .unwrap_or_default();
    let range = a
        .security_vulnerability
        .as_ref()
        .and_then(|v| v.vulnerable_version_range.clone());
    let location = [manifest.as_str(), name.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut references: Vec<String> = a.html_url.iter().cloned().collect();
    references.extend(adv.references.iter().filter_map(|r| r.url.clone()));
    let mut tags: Vec<String> = ecosystem.into_iter().collect();
    tags.extend(adv.cve_id.clone());
    tags.extend(range.map(|r| format!("vulnerable {r}")));
    let finding = NewFinding {
        fingerprint: fingerprint(EVENT, &e.repository.full_name, a.number),
        source: "dependabot".into(),
        rule_id: adv.ghsa_id.clone(),
        title: clip(adv.summary.as_deref().unwrap_or(&adv.ghsa_id), MAX_TITLE),
        description: clip(
            adv.description.as_deref().unwrap_or_default(),
            MAX_DESCRIPTION,
        ),
        severity: severity_of(
            &[
                adv.severity.as_deref(),
                a.security_vulnerability
                    .as_ref()
                    .and_then(|v| v.severity.as_deref()),
            ],
            Severity::Medium,
        ),
        asset: e.repository.full_name.clone(),
        location,
        tags,
        references,
        owner: None,
    };
    let acted_by = a
        .dismissed_by
        .as_ref()
        .filter(|_| matches!(effect, Effect::Dismissed { .. }));
    Ok(alert(
        EVENT,
        e.action,
        finding,
        effect,
        acted_by,
        e.sender.as_ref(),
        a.html_url,
    ))
}

fn secret_scanning(bytes: &[u8]) -> Result<Alert, IngestError> {
    const EVENT: &str = "secret_scanning_alert";
    let e: Envelope<SecretScanningAlert> = json_from_slice(FORMAT, bytes)?;
    let a = e.alert;
    let effect = match e.action.as_str() {
        "created" => Effect::Detected,
        "reopened" => Effect::Reopened,
        "resolved" => match a.resolution.as_deref() {
            Some("revoked") => Effect::Fixed,
            Some("false_positive") => Effect::Dismissed {
                kind: DecisionKind::FalsePositive,
                reason: "resolved on GitHub as a false positive".into(),
            },
            other => Effect::Dismissed {
                kind: DecisionKind::WontFix,
                reason: format!(
                    "resolved on GitHub: {}",
                    other.unwrap_or("no resolution given")
                ),
            },
        },
        _ => Effect::Nothing,
    };
    let display = a
        .secret_type_display_name
        .clone()
        .unwrap_or_else(|| a.secret_type.clone());
    let finding = NewFinding {
        fingerprint: fingerprint(EVENT, &e.repository.full_name, a.number),
        source: "github-secret-scanning".into(),
        rule_id: a.secret_type.clone(),
        title: clip(&format!("Secret committed: {display}"), MAX_TITLE),
        description: "GitHub secret scanning found a secret in the repository. Revoke it, then \
                      remove it from the history; see the alert for where it was found."
            .into(),
        severity: Severity::High,
        asset: e.repository.full_name.clone(),
        location: format!("secret scanning alert #{}", a.number),
        tags: vec!["secret".into()],
        references: a.html_url.iter().cloned().collect(),
        owner: None,
    };
    let acted_by = a
        .resolved_by
        .as_ref()
        .filter(|_| matches!(effect, Effect::Dismissed { .. } | Effect::Fixed));
    Ok(alert(
        EVENT,
        e.action,
        finding,
        effect,
        acted_by,
        e.sender.as_ref(),
        a.html_url,
    ))
}

fn repository_vulnerability(bytes: &[u8]) -> Result<Alert, IngestError> {
    const EVENT: &str = "repository_vulnerability_alert";
    let e: Envelope<RepositoryVulnerabilityAlert> = json_from_slice(FORMAT, bytes)?;
    let a = e.alert;
    let number = a.number.or(a.id).ok_or_else(|| IngestError {
        format: FORMAT,
        message: "alert: neither `number` nor `id` is present".into(),
        position: None,
    })?;
    let effect = match e.action.as_str() {
        "create" => Effect::Detected,
        "resolve" => Effect::Fixed,
        "reopen" => Effect::Reopened,
        "dismiss" => Effect::Dismissed {
            kind: DecisionKind::WontFix,
            reason: format!(
                "dismissed on GitHub: {}",
                a.dismiss_reason.as_deref().unwrap_or("no reason given")
            ),
        },
        _ => Effect::Nothing,
    };
    let id = a
        .ghsa_id
        .clone()
        .or(a.external_identifier.clone())
        .unwrap_or_else(|| format!("alert-{number}"));
    let package = a.affected_package_name.clone().unwrap_or_default();
    let range = a.affected_range.clone().unwrap_or_default();
    let title = match (&a.external_identifier, package.is_empty()) {
        (Some(cve), false) => format!("{cve} in {package} {range}"),
        (Some(cve), true) => cve.clone(),
        (None, _) => format!("{id} in {package} {range}"),
    };
    let finding = NewFinding {
        fingerprint: fingerprint(EVENT, &e.repository.full_name, number),
        source: "github-vulnerability-alerts".into(),
        rule_id: id,
        title: clip(&title, MAX_TITLE),
        description: String::new(),
        severity: severity_of(&[a.severity.as_deref()], Severity::Medium),
        asset: e.repository.full_name.clone(),
        location: format!("{package} {range}").trim().to_string(),
        tags: a.external_identifier.iter().cloned().collect(),
        references: a.external_reference.iter().cloned().collect(),
        owner: None,
    };
    let acted_by = a
        .dismisser
        .as_ref()
        .filter(|_| matches!(effect, Effect::Dismissed { .. }));
    Ok(alert(
        EVENT,
        e.action,
        finding,
        effect,
        acted_by,
        e.sender.as_ref(),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_of_a_secret_scanning_alert_is_never_read() {
        let body = br#"{"action":"created","alert":{"number":7,"secret_type":"aws_access_key_id",
            "secret_type_display_name":"AWS Access Key ID","secret":"AKIAIOSFODNN7EXAMPLE",
            "html_url":"https://github.com/o/r/security/secret-scanning/7"},
            "repository":{"full_name":"o/r"},"sender":{"login":"octocat","id":1}}"#;
        let Delivery::Alert(alert) = parse("secret_scanning_alert", body).unwrap() else {
            panic!("not an alert");
        };
        let text = format!("{:?}", alert.finding);
        assert!(!text.contains("AKIAIOSFODNN7EXAMPLE"), "{text}");
        assert_eq!(alert.finding.title, "Secret committed: AWS Access Key ID");
        assert_eq!(alert.effect, Effect::Detected);
    }

    #[test]
    fn code_scanning_dismissals_map_to_the_matching_decision() {
        let body = |reason: &str| {
            format!(
                r#"{{"action":"closed_by_user","alert":{{"number":3,"dismissed_reason":"{reason}",
                "dismissed_by":{{"login":"alice","id":42}},"rule":{{"id":"js/xss","severity":"warning"}}}},
                "repository":{{"full_name":"o/r"}}}}"#
            )
        };
        for (reason, kind) in [
            ("false positive", DecisionKind::FalsePositive),
            ("won't fix", DecisionKind::WontFix),
            ("used in tests", DecisionKind::WontFix),
        ] {
            let Delivery::Alert(alert) =
                parse("code_scanning_alert", body(reason).as_bytes()).unwrap()
            else {
                panic!("not an alert");
            };
            assert!(
                matches!(&alert.effect, Effect::Dismissed { kind: k, .. } if *k == kind),
                "{reason}"
            );
            assert_eq!(alert.actor.reference(), "github:42");
            assert_eq!(alert.finding.severity, Severity::Medium);
        }
    }

    #[test]
    fn alerts_get_the_same_checks_as_any_finding() {
        let body =
            br#"{"action":"created","alert":{"number":3,"rule":{"id":"js/xss","description":" ",
            "tags":["a","", "a", " b "]}},"repository":{"full_name":"o/r"}}"#;
        let Delivery::Alert(alert) = parse("code_scanning_alert", body).unwrap() else {
            panic!("not an alert");
        };
        assert_eq!(alert.finding.title, "js/xss");
        assert_eq!(alert.finding.tags, ["a", "b"]);
        let no_rule = br#"{"action":"created","alert":{"number":3,"rule":{"id":" "}},"repository":{"full_name":"o/r"}}"#;
        let err = parse("code_scanning_alert", no_rule).unwrap_err();
        assert_eq!(
            err.message,
            "code_scanning_alert: the alert has no rule or advisory id"
        );
        let no_repo = br#"{"action":"created","alert":{"number":3,"rule":{"id":"x"}},"repository":{"full_name":""}}"#;
        assert!(parse("code_scanning_alert", no_repo).is_err());
    }

    #[test]
    fn truncated_payloads_are_errors_with_a_position() {
        let err = parse(
            "dependabot_alert",
            br#"{"action":"created","alert":{"number":"#,
        )
        .unwrap_err();
        assert_eq!(err.format, FORMAT);
        assert!(err.position.is_some());
    }
}
