//! Policies: SLAs per severity, approval rules per decision kind, required documentation.
//! A deployment sets all of these in its config file; the defaults here are the shipped
//! workflow.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::actor::Actor;
use super::severity::Severity;
use super::workflow::DecisionKind;

/// Deadlines for one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sla {
    /// Hours from detection until the finding must be triaged.
    pub triage_hours: u32,
    /// Days from detection until the finding must be remediated.
    pub remediate_days: u32,
}

/// Someone who may not vote on a decision, for separation of duties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// Whoever asked for the decision.
    Requester,
    /// The finding's owner.
    Assignee,
    /// Whoever marked the fix done.
    Implementer,
}

impl Exclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Exclusion::Requester => "requester",
            Exclusion::Assignee => "assignee",
            Exclusion::Implementer => "implementer",
        }
    }
}

/// Who must approve one kind of decision, and how many of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalPolicy {
    /// Approvals needed. 0 means the decision applies without a vote.
    pub quorum: u32,
    /// Approver groups (names from `[groups]`). Empty: anyone not excluded may approve.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Roles that may not vote on this decision.
    #[serde(default)]
    pub exclude: Vec<Exclusion>,
}

/// The whole decision logic a deployment can tune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub sla: BTreeMap<Severity, Sla>,
    pub approvals: BTreeMap<DecisionKind, ApprovalPolicy>,
    /// Approver groups: name → members as `platform:id`.
    pub groups: BTreeMap<String, Vec<String>>,
    /// Severities for which a root-cause analysis is required (otherwise confirm skips RCA).
    pub rca_required: Vec<Severity>,
    /// Severities for which a fix plan must be recorded before the fix is marked done.
    pub fix_plan_required: Vec<Severity>,
    /// Severities for which closing as fixed needs evidence (a link or a re-scan result).
    pub evidence_required: Vec<Severity>,
    /// Longest risk acceptance allowed, in days.
    pub max_acceptance_days: u32,
}

impl Default for Policy {
    fn default() -> Self {
        use Severity::*;
        let sla = |triage_hours, remediate_days| Sla {
            triage_hours,
            remediate_days,
        };
        let approval = |quorum, exclude: &[Exclusion]| ApprovalPolicy {
            quorum,
            groups: Vec::new(),
            exclude: exclude.to_vec(),
        };
        Policy {
            sla: BTreeMap::from([
                (Critical, sla(24, 7)),
                (High, sla(72, 30)),
                (Medium, sla(168, 90)),
                (Low, sla(336, 180)),
                (Info, sla(720, 365)),
            ]),
            approvals: BTreeMap::from([
                (DecisionKind::Fixed, approval(1, &[Exclusion::Implementer])),
                (
                    DecisionKind::FalsePositive,
                    approval(1, &[Exclusion::Requester]),
                ),
                (
                    DecisionKind::Duplicate,
                    approval(1, &[Exclusion::Requester]),
                ),
                (
                    DecisionKind::WontFix,
                    approval(1, &[Exclusion::Requester, Exclusion::Assignee]),
                ),
                (
                    DecisionKind::Mitigated,
                    approval(1, &[Exclusion::Requester, Exclusion::Assignee]),
                ),
                (
                    DecisionKind::AcceptRisk,
                    approval(1, &[Exclusion::Requester, Exclusion::Assignee]),
                ),
            ]),
            groups: BTreeMap::new(),
            rca_required: vec![Critical, High],
            fix_plan_required: vec![Critical, High],
            evidence_required: vec![Critical, High, Medium, Low, Info],
            max_acceptance_days: 365,
        }
    }
}

impl Policy {
    /// The SLA for a severity; a policy without an entry falls back to the defaults.
    pub fn sla_for(&self, severity: Severity) -> Sla {
        self.sla
            .get(&severity)
            .copied()
            .or_else(|| Policy::default().sla.get(&severity).copied())
            .unwrap_or(Sla {
                triage_hours: 24,
                remediate_days: 30,
            })
    }

    /// (triage due, remediation due) for a cycle that started at `from`.
    pub fn due_dates(
        &self,
        severity: Severity,
        from: DateTime<Utc>,
    ) -> (DateTime<Utc>, DateTime<Utc>) {
        let sla = self.sla_for(severity);
        (
            from + Duration::hours(i64::from(sla.triage_hours)),
            from + Duration::days(i64::from(sla.remediate_days)),
        )
    }

    /// The approval rule for a decision; unknown kinds need one approval from anyone.
    pub fn approval_for(&self, kind: DecisionKind) -> ApprovalPolicy {
        self.approvals
            .get(&kind)
            .cloned()
            .unwrap_or(ApprovalPolicy {
                quorum: 1,
                groups: Vec::new(),
                exclude: vec![Exclusion::Requester],
            })
    }

    /// The approver groups with `actor` added by reference to every group that has a member
    /// `holds` says the actor holds: a platform's user group or role given as a member
    /// (`slack-usergroup:…`, `discord-role:…`), resolved by the adapter that knows the
    /// actor's memberships. `None` when no group changes. Membership itself stays the plain
    /// list check of [`Policy::in_group`].
    pub fn groups_with(
        &self,
        actor: &Actor,
        holds: impl Fn(&str) -> bool,
    ) -> Option<BTreeMap<String, Vec<String>>> {
        let mut groups = self.groups.clone();
        let mut changed = false;
        for members in groups.values_mut() {
            if members.iter().any(|m| holds(m)) && !members.iter().any(|m| actor.is(m)) {
                members.push(actor.reference());
                changed = true;
            }
        }
        changed.then_some(groups)
    }

    /// Whether `actor` belongs to approver group `group`.
    pub fn in_group(&self, actor: &Actor, group: &str) -> bool {
        self.groups
            .get(group)
            .is_some_and(|members| members.iter().any(|m| actor.is(m)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_with_adds_the_actor_where_they_hold_a_member_once() {
        let mut policy = Policy::default();
        policy.groups.insert(
            "security".into(),
            vec!["discord:1".into(), "discord-role:9".into()],
        );
        policy
            .groups
            .insert("leads".into(), vec!["discord-role:8".into()]);
        let holds_9 = |m: &str| m == "discord-role:9";
        let voter = Actor::new("discord", "2", "Bo");
        let groups = policy.groups_with(&voter, holds_9).unwrap();
        assert_eq!(
            groups["security"],
            ["discord:1", "discord-role:9", "discord:2"]
        );
        assert_eq!(groups["leads"], ["discord-role:8"]);
        // Already listed, or holding nothing: no change.
        let listed = Actor::new("discord", "1", "Al");
        assert_eq!(policy.groups_with(&listed, holds_9), None);
        assert_eq!(policy.groups_with(&voter, |_| false), None);
    }
}
