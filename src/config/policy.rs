//! The decision-logic keys of the config file: the base policy (`[sla.*]`, `[groups]`,
//! `[approvals.*]`, `[documentation]`, `[risk]`) and its named variants
//! (`[policies.<name>]`), which routes choose. Both go through [`overlay_policy`], so a key
//! means the same and is checked the same wherever it is written.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::domain::{ApprovalPolicy, DecisionKind, Policy, Severity, Sla};

/// The decision-logic keys: the base policy's top-level `[sla.*]`, `[approvals.*]`,
/// `[documentation]` and `[risk]`, and the same keys under each `[policies.<name>]`.
/// `[groups]` is not among them: approver groups are global, shared by every policy.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PolicyFile {
    #[serde(default)]
    pub(super) sla: BTreeMap<Severity, Sla>,
    #[serde(default)]
    pub(super) approvals: BTreeMap<DecisionKind, ApprovalPolicy>,
    #[serde(default)]
    pub(super) documentation: DocumentationFile,
    #[serde(default)]
    pub(super) risk: RiskFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DocumentationFile {
    pub(super) rca_required: Option<Vec<Severity>>,
    pub(super) fix_plan_required: Option<Vec<Severity>>,
    pub(super) evidence_required: Option<Vec<Severity>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RiskFile {
    pub(super) max_acceptance_days: Option<u32>,
}

/// Every `[groups]` member is a `platform:id` reference.
pub(super) fn check_groups(groups: &BTreeMap<String, Vec<String>>) -> Result<(), (String, String)> {
    for (name, members) in groups {
        for (i, m) in members.iter().enumerate() {
            let ok = m
                .split_once(':')
                .is_some_and(|(p, id)| !p.is_empty() && !id.is_empty());
            if !ok {
                return Err((
                    format!("groups.{name}[{i}]"),
                    format!(
                        "`{m}` is not a member reference; write platform:id, e.g. slack:U024BE7LH"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A variant name: letters, digits, `-` and `_`, so it reads the same in the file, in
/// `policy = "…"` and in messages.
pub(super) fn check_policy_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a policy name; use letters, digits, `-` and `_`"
        ))
    }
}

/// `base` with the keys `file` names laid over it, checked. The base policy goes through
/// here with the defaults as `base` and `prefix` empty; each variant with the resolved base
/// policy as `base` and `prefix` `policies.<name>.`, so errors name the key as written.
/// A named entry replaces the base's entry whole (`[approvals.fixed]` sets quorum, groups
/// and exclusions together); what the file does not name is inherited.
pub(super) fn overlay_policy(
    base: &Policy,
    file: PolicyFile,
    prefix: &str,
) -> Result<Policy, (String, String)> {
    let mut policy = base.clone();
    for (severity, sla) in file.sla {
        if sla.triage_hours == 0 || sla.remediate_days == 0 {
            return Err((
                format!("{prefix}sla.{severity}"),
                "deadlines must be greater than 0".into(),
            ));
        }
        if u64::from(sla.triage_hours) > u64::from(sla.remediate_days) * 24 {
            return Err((
                format!("{prefix}sla.{severity}.triage_hours"),
                "the triage deadline is later than the remediation deadline".into(),
            ));
        }
        policy.sla.insert(severity, sla);
    }
    for (kind, rule) in file.approvals {
        let key = format!("{prefix}approvals.{}", kind.as_str());
        let mut members = BTreeSet::new();
        for g in &rule.groups {
            let Some(list) = policy.groups.get(g) else {
                let known: Vec<&str> = policy.groups.keys().map(String::as_str).collect();
                return Err((
                    format!("{key}.groups"),
                    format!(
                        "unknown group `{g}`; defined groups: [{}]",
                        known.join(", ")
                    ),
                ));
            };
            members.extend(list.iter().cloned());
        }
        if !rule.groups.is_empty() && (members.len() as u32) < rule.quorum {
            return Err((
                format!("{key}.quorum"),
                format!(
                    "{} approvals needed but its groups have only {} member{}, so it can never pass",
                    rule.quorum,
                    members.len(),
                    if members.len() == 1 { "" } else { "s" }
                ),
            ));
        }
        policy.approvals.insert(kind, rule);
    }
    if let Some(v) = file.documentation.rca_required {
        policy.rca_required = v;
    }
    if let Some(v) = file.documentation.fix_plan_required {
        policy.fix_plan_required = v;
    }
    if let Some(v) = file.documentation.evidence_required {
        policy.evidence_required = v;
    }
    if let Some(days) = file.risk.max_acceptance_days {
        if days == 0 {
            return Err((
                format!("{prefix}risk.max_acceptance_days"),
                "must be at least 1".into(),
            ));
        }
        policy.max_acceptance_days = days;
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{ConfigError, Settings};
    use crate::domain::{DecisionKind, Severity};

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::from_toml(text, Path::new("remedybot.toml"))
    }

    const VARIANTS: &str = r#"
[groups]
security = ["slack:U1", "slack:U2"]
ciso = ["slack:U9"]
[sla.critical]
triage_hours = 12
remediate_days = 5
[documentation]
rca_required = ["critical"]

[policies.pci]
sla.high = { triage_hours = 24, remediate_days = 14 }
approvals.accept_risk = { quorum = 2, groups = ["security", "ciso"] }
documentation.rca_required = ["critical", "high", "medium"]
risk.max_acceptance_days = 30

[policies.lab.risk]
max_acceptance_days = 7

[[routes]]
name = "payments"
asset = ["payments-*"]
policy = "pci"
[[routes]]
name = "default"
"#;

    #[test]
    fn a_policy_variant_starts_from_the_base_and_overrides_what_it_names() {
        let s = parse(VARIANTS).unwrap();
        let pci = &s.policies["pci"];
        assert_eq!(pci.sla_for(Severity::High).remediate_days, 14);
        assert_eq!(
            pci.sla_for(Severity::Critical),
            s.policy.sla_for(Severity::Critical),
            "the base's own override is inherited"
        );
        assert_eq!(pci.sla_for(Severity::Critical).remediate_days, 5);
        let accept = pci.approval_for(DecisionKind::AcceptRisk);
        assert_eq!((accept.quorum, accept.groups.len()), (2, 2));
        assert!(
            accept.exclude.is_empty(),
            "a named rule replaces the base's whole"
        );
        assert_eq!(
            pci.approval_for(DecisionKind::Fixed),
            s.policy.approval_for(DecisionKind::Fixed)
        );
        assert_eq!(pci.rca_required.len(), 3);
        assert_eq!(pci.max_acceptance_days, 30);
        assert_eq!(pci.groups, s.policy.groups, "groups are shared");
        assert_eq!(s.policy.max_acceptance_days, 365, "the base is untouched");
        assert_eq!(s.policies["lab"].max_acceptance_days, 7);
        assert_eq!(s.policies["lab"].sla, s.policy.sla);
    }

    #[test]
    fn a_route_chooses_its_policy_and_everything_else_gets_the_base() {
        let s = parse(VARIANTS).unwrap();
        assert_eq!(s.policy_for_route(Some("payments")), &s.policies["pci"]);
        assert_eq!(s.policy_for_route(Some("default")), &s.policy);
        assert_eq!(s.policy_for_route(Some("since-removed")), &s.policy);
        assert_eq!(s.policy_for_route(None), &s.policy);
        assert_eq!(
            s.policy_variants(),
            vec![("lab", vec![]), ("pci", vec!["payments"])]
        );
    }

    #[test]
    fn variant_tables_and_dotted_keys_read_the_same() {
        let tables = "[policies.pci.sla.high]\ntriage_hours = 24\nremediate_days = 14\n\
                      [policies.pci.risk]\nmax_acceptance_days = 30\n";
        let dotted = "[policies.pci]\nsla.high = { triage_hours = 24, remediate_days = 14 }\n\
                      risk.max_acceptance_days = 30\n";
        assert_eq!(
            parse(tables).unwrap().policies,
            parse(dotted).unwrap().policies
        );
    }

    #[test]
    fn variant_errors_name_the_key_under_policies() {
        let cases = [
            (
                "[policies.pci.approvals.accept_risk]\nquorum = 1\ngroups = [\"ciso\"]\n",
                "`policies.pci.approvals.accept_risk.groups`: unknown group `ciso`; defined groups: []",
            ),
            (
                "[groups]\nsec = [\"slack:U1\"]\n\
                 [policies.pci.approvals.accept_risk]\nquorum = 2\ngroups = [\"sec\"]\n",
                "`policies.pci.approvals.accept_risk.quorum`: 2 approvals needed",
            ),
            (
                "[policies.pci.sla.low]\ntriage_hours = 100\nremediate_days = 1\n",
                "`policies.pci.sla.low.triage_hours`",
            ),
            (
                "[policies.pci.risk]\nmax_acceptance_days = 0\n",
                "`policies.pci.risk.max_acceptance_days`: must be at least 1",
            ),
            (
                "[policies.\"p c i\"]\n",
                "`policies.p c i`: `p c i` is not a policy name",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}\n→ {err}");
        }
    }

    #[test]
    fn a_variant_may_not_define_groups_or_unknown_keys() {
        let err = parse("[policies.pci.groups]\nsec = [\"slack:U1\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `groups`"), "{err}");
        let err = parse("[policies.pci.documentation]\nrca = [\"high\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `rca`"), "{err}");
    }

    #[test]
    fn a_route_naming_an_unknown_policy_is_refused_with_the_known_ones() {
        let text = VARIANTS.replace("policy = \"pci\"", "policy = \"pcidss\"");
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.contains(
                "`routes[0] (payments).policy`: unknown policy `pcidss`; defined policies: [lab, pci]"
            ),
            "{err}"
        );
    }
}
