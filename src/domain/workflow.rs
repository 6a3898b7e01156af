//! The remediation workflow as one pure function: [`decide`] takes a finding's state, a
//! command, the actor, the policy and the time, and returns the events to append or a
//! [`Refusal`] a chat user can read. [`FindingState::apply`] folds an event into the state;
//! nothing else changes a finding. No I/O, no clock: time is a parameter.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::actor::{Actor, Source};
use super::finding::{FindingState, NewFinding, ScannerContent};
use super::policy::{Exclusion, Policy};
use super::severity::Severity;

/// Where a finding is in its remediation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    New,
    Triage,
    Rca,
    Fix,
    Verify,
    Closed,
    Accepted,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::New,
        Stage::Triage,
        Stage::Rca,
        Stage::Fix,
        Stage::Verify,
        Stage::Closed,
        Stage::Accepted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Triage => "triage",
            Stage::Rca => "rca",
            Stage::Fix => "fix",
            Stage::Verify => "verify",
            Stage::Closed => "closed",
            Stage::Accepted => "accepted",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL
            .into_iter()
            .find(|st| st.as_str() == s.trim().to_ascii_lowercase())
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a closed finding ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Fixed,
    FalsePositive,
    Duplicate,
    WontFix,
    Mitigated,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Fixed => "fixed",
            Resolution::FalsePositive => "false_positive",
            Resolution::Duplicate => "duplicate",
            Resolution::WontFix => "wont_fix",
            Resolution::Mitigated => "mitigated",
        }
    }
}

/// A decision that needs approval before it takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Fixed,
    FalsePositive,
    Duplicate,
    WontFix,
    Mitigated,
    AcceptRisk,
}

impl DecisionKind {
    pub const ALL: [DecisionKind; 6] = [
        DecisionKind::Fixed,
        DecisionKind::FalsePositive,
        DecisionKind::Duplicate,
        DecisionKind::WontFix,
        DecisionKind::Mitigated,
        DecisionKind::AcceptRisk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Fixed => "fixed",
            DecisionKind::FalsePositive => "false_positive",
            DecisionKind::Duplicate => "duplicate",
            DecisionKind::WontFix => "wont_fix",
            DecisionKind::Mitigated => "mitigated",
            DecisionKind::AcceptRisk => "accept_risk",
        }
    }

    /// The words a chat message uses for this decision.
    pub fn describe(self) -> &'static str {
        match self {
            DecisionKind::Fixed => "closing as fixed",
            DecisionKind::FalsePositive => "closing as a false positive",
            DecisionKind::Duplicate => "closing as a duplicate",
            DecisionKind::WontFix => "closing as won't fix",
            DecisionKind::Mitigated => "closing as mitigated",
            DecisionKind::AcceptRisk => "accepting the risk",
        }
    }

    fn resolution(self) -> Option<Resolution> {
        Some(match self {
            DecisionKind::Fixed => Resolution::Fixed,
            DecisionKind::FalsePositive => Resolution::FalsePositive,
            DecisionKind::Duplicate => Resolution::Duplicate,
            DecisionKind::WontFix => Resolution::WontFix,
            DecisionKind::Mitigated => Resolution::Mitigated,
            DecisionKind::AcceptRisk => return None,
        })
    }
}

/// Triage answers: is it real, is it exploitable, and notes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageAnswers {
    pub real: Option<bool>,
    pub exploitable: Option<bool>,
    #[serde(default)]
    pub notes: String,
}

/// Root-cause analysis answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RcaAnswers {
    pub cause_category: String,
    #[serde(default)]
    pub whys: Vec<String>,
    #[serde(default)]
    pub contributing_factors: String,
}

/// The fix design.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixPlan {
    pub plan: String,
    #[serde(default)]
    pub change_link: String,
    pub target_date: Option<DateTime<Utc>>,
}

/// Proof that a fix works: a link and/or a re-scan result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    #[serde(default)]
    pub link: String,
    #[serde(default)]
    pub rescan_result: String,
}

impl Evidence {
    fn is_empty(&self) -> bool {
        self.link.trim().is_empty() && self.rescan_result.trim().is_empty()
    }
}

/// A decision someone asks for: its kind and the details it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub kind: DecisionKind,
    #[serde(default)]
    pub reason: String,
    /// For duplicates: the finding this one duplicates.
    pub duplicate_of: Option<String>,
    /// For risk acceptance: when the acceptance ends and the finding reopens.
    pub until: Option<DateTime<Utc>>,
    /// For risk acceptance and mitigation: compensating controls.
    #[serde(default)]
    pub compensating_controls: String,
}

/// One person's vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// `platform:id` of the voter.
    pub voter: String,
    pub approve: bool,
}

/// An open approval request and its votes so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDecision {
    pub proposal: Proposal,
    /// `platform:id` of whoever asked.
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub quorum: u32,
    pub groups: Vec<String>,
    /// Who may not vote, fixed when the request was made (like quorum and groups), so a
    /// config change does not alter the rules of a vote in progress.
    pub exclude: Vec<Exclusion>,
    pub votes: Vec<Vote>,
}

impl PendingDecision {
    /// Approvals so far (each voter counts once: [`decide`] refuses a second vote).
    pub fn approvals(&self) -> u32 {
        self.votes.iter().filter(|v| v.approve).count() as u32
    }
}

/// Why a finding came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReopenReason {
    /// A closed finding was detected again.
    Regression,
    /// A risk acceptance ran out.
    AcceptanceExpired,
}

/// What someone asks the workflow to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    Acknowledge,
    Assign {
        owner: String,
    },
    ChangeSeverity {
        severity: Severity,
        reason: String,
    },
    /// Record triage answers; with no proposal the finding is confirmed as real.
    Triage {
        answers: TriageAnswers,
        severity: Option<(Severity, String)>,
        proposal: Option<Proposal>,
    },
    SubmitRca(RcaAnswers),
    PlanFix(FixPlan),
    MarkFixed(Evidence),
    /// Ask for a closing decision or risk acceptance outside triage.
    Propose(Proposal),
    Vote {
        approve: bool,
        reason: Option<String>,
    },
    Withdraw,
    Comment {
        text: String,
        link: Option<String>,
    },
    /// A scanner reported the finding again (content may have changed).
    Observe(ScannerContent),
    /// A scheduled check: reopen if a risk acceptance has run out.
    ExpireAcceptance,
    /// A tool reports the problem fixed (e.g. GitHub closed its alert): recorded as
    /// verification evidence. It never closes the finding: the approvals still decide.
    RecordEvidence(Evidence),
    /// A suppression rule from the configuration accepts a new finding until its expiry.
    Suppress {
        rule: String,
        owner: String,
        reason: String,
        until: DateTime<Utc>,
    },
    /// A tool or person reports a closed or accepted finding back (e.g. GitHub reopened its
    /// alert): reopened and counted as a regression, whatever the resolution was.
    Reopen,
}

/// One change to a finding, as stored in the decision trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    Created {
        finding: NewFinding,
        /// The routing rule the finding fell under, if rules are configured.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        route: Option<String>,
        triage_due: DateTime<Utc>,
        remediate_due: DateTime<Utc>,
    },
    Updated {
        content: ScannerContent,
        /// The severity that applies afterwards (unchanged if a person had set it).
        severity: Severity,
        triage_due: DateTime<Utc>,
        remediate_due: DateTime<Utc>,
    },
    Acknowledged,
    Assigned {
        owner: String,
        previous: Option<String>,
    },
    SeverityChanged {
        from: Severity,
        to: Severity,
        reason: String,
        triage_due: DateTime<Utc>,
        remediate_due: DateTime<Utc>,
    },
    Triaged {
        answers: TriageAnswers,
        /// The stage the finding moves to when confirmed; `None` when a proposal follows.
        next: Option<Stage>,
    },
    RcaSubmitted {
        answers: RcaAnswers,
    },
    FixPlanned {
        plan: FixPlan,
    },
    FixMarkedDone {
        evidence: Evidence,
    },
    ApprovalRequested {
        proposal: Proposal,
        quorum: u32,
        groups: Vec<String>,
        exclude: Vec<Exclusion>,
    },
    VoteCast {
        approve: bool,
        reason: Option<String>,
        approvals: u32,
        quorum: u32,
    },
    ApprovalWithdrawn,
    DecisionRejected {
        decision: DecisionKind,
        reason: String,
    },
    Closed {
        resolution: Resolution,
        duplicate_of: Option<String>,
    },
    RiskAccepted {
        until: DateTime<Utc>,
        reason: String,
    },
    Reopened {
        reason: ReopenReason,
        triage_due: DateTime<Utc>,
        remediate_due: DateTime<Utc>,
    },
    Commented {
        text: String,
        link: Option<String>,
    },
    EvidenceRecorded {
        evidence: Evidence,
    },
    /// Accepted by a suppression rule until `until`, when it reopens like an expired risk
    /// acceptance.
    Suppressed {
        rule: String,
        owner: String,
        reason: String,
        until: DateTime<Utc>,
    },
}

impl Change {
    /// The event kind as stored in the trail's `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Created { .. } => "created",
            Change::Updated { .. } => "updated",
            Change::Acknowledged => "acknowledged",
            Change::Assigned { .. } => "assigned",
            Change::SeverityChanged { .. } => "severity_changed",
            Change::Triaged { .. } => "triaged",
            Change::RcaSubmitted { .. } => "rca_submitted",
            Change::FixPlanned { .. } => "fix_planned",
            Change::FixMarkedDone { .. } => "fix_marked_done",
            Change::ApprovalRequested { .. } => "approval_requested",
            Change::VoteCast { .. } => "vote_cast",
            Change::ApprovalWithdrawn => "approval_withdrawn",
            Change::DecisionRejected { .. } => "decision_rejected",
            Change::Closed { .. } => "closed",
            Change::RiskAccepted { .. } => "risk_accepted",
            Change::Reopened { .. } => "reopened",
            Change::Commented { .. } => "commented",
            Change::EvidenceRecorded { .. } => "evidence_recorded",
            Change::Suppressed { .. } => "suppressed",
        }
    }
}

/// A change with who made it, through what, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub change: Change,
    pub actor: Actor,
    pub source: Source,
    pub at: DateTime<Utc>,
}

/// Why the workflow refused a command. The message is written for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("only members of {groups} can approve; you are not one")]
    NotAnApprover { groups: String },
    #[error(
        "you are the {role} of this finding, so someone else must approve (separation of duties)"
    )]
    SeparationOfDuties { role: &'static str },
    #[error("you have already voted on this request")]
    AlreadyVoted,
    #[error("there is no open approval request on this finding")]
    NoPendingRequest,
    #[error("an approval request for {kind} is open; wait for the vote or withdraw it first")]
    RequestPending { kind: &'static str },
    #[error("this finding is in stage {stage}; {action} is not possible there")]
    WrongStage { stage: Stage, action: &'static str },
    #[error("{field} is required")]
    Missing { field: &'static str },
    #[error("{0}")]
    Invalid(String),
    #[error("nothing to do: {0}")]
    NoChange(&'static str),
}

/// The result of [`decide`].
pub type Decision = Result<Vec<Change>, Refusal>;

/// Open a new finding: the first event of its trail.
pub fn open(finding: NewFinding, policy: &Policy, now: DateTime<Utc>) -> Change {
    open_routed(finding, None, policy, now)
}

/// [`open`] for a finding that a routing rule placed (its owner is already in `finding`).
pub fn open_routed(
    finding: NewFinding,
    route: Option<String>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Change {
    let (triage_due, remediate_due) = policy.due_dates(finding.severity, now);
    Change::Created {
        finding,
        route,
        triage_due,
        remediate_due,
    }
}

fn required(value: &str, field: &'static str) -> Result<(), Refusal> {
    if value.trim().is_empty() {
        Err(Refusal::Missing { field })
    } else {
        Ok(())
    }
}

/// The one place workflow rules live. Returns the changes to record, in order, or why not.
pub fn decide(
    state: &FindingState,
    command: &Command,
    actor: &Actor,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Decision {
    use Command as C;
    // While a decision waits for votes, only the vote itself and side activities go on.
    if let Some(pending) = &state.pending {
        let side = matches!(
            command,
            C::Vote { .. }
                | C::Withdraw
                | C::Comment { .. }
                | C::Assign { .. }
                | C::ChangeSeverity { .. }
                | C::Observe(_)
                | C::RecordEvidence(_)
                | C::Reopen
        );
        if !side {
            return Err(Refusal::RequestPending {
                kind: pending.proposal.kind.describe(),
            });
        }
    }
    match command {
        C::Acknowledge => match state.stage {
            Stage::New => Ok(vec![Change::Acknowledged]),
            Stage::Closed | Stage::Accepted => Err(Refusal::WrongStage {
                stage: state.stage,
                action: "acknowledging",
            }),
            _ => Err(Refusal::NoChange("this finding was already acknowledged")),
        },
        C::Assign { owner } => {
            required(owner, "owner")?;
            if state.stage == Stage::Closed {
                return Err(Refusal::WrongStage {
                    stage: state.stage,
                    action: "assigning",
                });
            }
            if state.owner.as_deref() == Some(owner.trim()) {
                return Err(Refusal::NoChange("the finding already has this owner"));
            }
            Ok(vec![Change::Assigned {
                owner: owner.trim().to_string(),
                previous: state.owner.clone(),
            }])
        }
        C::ChangeSeverity { severity, reason } => {
            if state.stage == Stage::Closed {
                return Err(Refusal::WrongStage {
                    stage: state.stage,
                    action: "changing severity",
                });
            }
            Ok(vec![severity_change(state, *severity, reason, policy)?])
        }
        C::Triage {
            answers,
            severity,
            proposal,
        } => triage(
            state,
            answers,
            severity.as_ref(),
            proposal.as_ref(),
            actor,
            policy,
            now,
        ),
        C::SubmitRca(answers) => {
            if !matches!(state.stage, Stage::Rca | Stage::Fix) {
                return Err(Refusal::WrongStage {
                    stage: state.stage,
                    action: "submitting a root-cause analysis",
                });
            }
            if policy.rca_required.contains(&state.severity) {
                required(&answers.cause_category, "cause category")?;
                if answers.whys.iter().all(|w| w.trim().is_empty()) {
                    return Err(Refusal::Missing {
                        field: "at least one \"why\"",
                    });
                }
            }
            Ok(vec![Change::RcaSubmitted {
                answers: answers.clone(),
            }])
        }
        C::PlanFix(plan) => {
            if state.stage != Stage::Fix {
                return Err(Refusal::WrongStage {
                    stage: state.stage,
                    action: "planning a fix",
                });
            }
            required(&plan.plan, "plan")?;
            Ok(vec![Change::FixPlanned { plan: plan.clone() }])
        }
        C::MarkFixed(evidence) => {
            if state.stage != Stage::Fix {
                return Err(Refusal::WrongStage {
                    stage: state.stage,
                    action: "marking the fix done",
                });
            }
            if policy.fix_plan_required.contains(&state.severity) && state.fix_plan.is_none() {
                return Err(Refusal::Missing {
                    field: "a fix plan (record it before marking the fix done)",
                });
            }
            if policy.evidence_required.contains(&state.severity) && evidence.is_empty() {
                return Err(Refusal::Missing {
                    field: "evidence (a link or a re-scan result)",
                });
            }
            let proposal = Proposal {
                kind: DecisionKind::Fixed,
                reason: String::new(),
                duplicate_of: None,
                until: None,
                compensating_controls: String::new(),
            };
            let mut changes = vec![Change::FixMarkedDone {
                evidence: evidence.clone(),
            }];
            changes.extend(request(&proposal, policy));
            Ok(changes)
        }
        C::Propose(proposal) => {
            if !matches!(
                state.stage,
                Stage::New | Stage::Triage | Stage::Rca | Stage::Fix
            ) {
                return Err(Refusal::WrongStage {
                    stage: state.stage,
                    action: "proposing a decision",
                });
            }
            if proposal.kind == DecisionKind::Fixed {
                return Err(Refusal::Invalid(
                    "to close as fixed, mark the fix done with evidence; it then goes to verification"
                        .into(),
                ));
            }
            validate_proposal(proposal, policy, now)?;
            Ok(request(proposal, policy))
        }
        C::Vote { approve, reason } => vote(state, *approve, reason.as_deref(), actor, policy),
        C::Withdraw => {
            let pending = state.pending.as_ref().ok_or(Refusal::NoPendingRequest)?;
            let may = actor.is(&pending.requested_by)
                || state.owner.as_deref().is_some_and(|o| actor.is(o));
            if !may {
                return Err(Refusal::Invalid(
                    "only the requester or the owner can withdraw this request".into(),
                ));
            }
            Ok(vec![Change::ApprovalWithdrawn])
        }
        C::Comment { text, link } => {
            required(text, "comment text")?;
            Ok(vec![Change::Commented {
                text: text.clone(),
                link: link.clone(),
            }])
        }
        C::Observe(content) => {
            let mut changes = Vec::new();
            if *content != NewFinding::content_of(state) {
                // The scanner's severity applies only while nobody has overridden it.
                let overridden = state.severity != state.reported_severity;
                let severity = if overridden {
                    state.severity
                } else {
                    content.severity
                };
                let (triage_due, remediate_due) = if severity != state.severity {
                    policy.due_dates(severity, state.opened_at)
                } else {
                    (state.triage_due, state.remediate_due)
                };
                changes.push(Change::Updated {
                    content: content.clone(),
                    severity,
                    triage_due,
                    remediate_due,
                });
            }
            // Only a fix can regress: a false positive, duplicate, won't-fix or mitigated
            // finding is expected to keep showing up in scans.
            if state.stage == Stage::Closed && state.resolution == Some(Resolution::Fixed) {
                let severity = changes.iter().find_map(|c| match c {
                    Change::Updated { severity, .. } => Some(*severity),
                    _ => None,
                });
                let (triage_due, remediate_due) =
                    policy.due_dates(severity.unwrap_or(state.severity), now);
                changes.push(Change::Reopened {
                    reason: ReopenReason::Regression,
                    triage_due,
                    remediate_due,
                });
            }
            Ok(changes)
        }
        C::RecordEvidence(evidence) => {
            if evidence.is_empty() {
                return Err(Refusal::Missing {
                    field: "evidence (a link or a re-scan result)",
                });
            }
            Ok(vec![Change::EvidenceRecorded {
                evidence: evidence.clone(),
            }])
        }
        C::Suppress {
            rule,
            owner,
            reason,
            until,
        } => {
            if state.stage != Stage::New {
                return Err(Refusal::WrongStage {
                    stage: state.stage,
                    action: "suppressing",
                });
            }
            if *until <= now {
                return Err(Refusal::Invalid(format!(
                    "suppression `{rule}` has expired"
                )));
            }
            Ok(vec![Change::Suppressed {
                rule: rule.clone(),
                owner: owner.clone(),
                reason: reason.clone(),
                until: *until,
            }])
        }
        C::Reopen => match state.stage {
            Stage::Closed | Stage::Accepted => {
                let (triage_due, remediate_due) = policy.due_dates(state.severity, now);
                Ok(vec![Change::Reopened {
                    reason: ReopenReason::Regression,
                    triage_due,
                    remediate_due,
                }])
            }
            _ => Err(Refusal::NoChange("the finding is already open")),
        },
        C::ExpireAcceptance => match (state.stage, state.accepted_until) {
            (Stage::Accepted, Some(until)) if until <= now => {
                let (triage_due, remediate_due) = policy.due_dates(state.severity, now);
                Ok(vec![Change::Reopened {
                    reason: ReopenReason::AcceptanceExpired,
                    triage_due,
                    remediate_due,
                }])
            }
            _ => Err(Refusal::NoChange("no risk acceptance has expired")),
        },
    }
}

fn severity_change(
    state: &FindingState,
    to: Severity,
    reason: &str,
    policy: &Policy,
) -> Result<Change, Refusal> {
    if to == state.severity {
        return Err(Refusal::NoChange("the finding already has this severity"));
    }
    required(reason, "a reason for the severity change")?;
    let (triage_due, remediate_due) = policy.due_dates(to, state.opened_at);
    Ok(Change::SeverityChanged {
        from: state.severity,
        to,
        reason: reason.to_string(),
        triage_due,
        remediate_due,
    })
}

fn triage(
    state: &FindingState,
    answers: &TriageAnswers,
    severity: Option<&(Severity, String)>,
    proposal: Option<&Proposal>,
    _actor: &Actor,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Decision {
    if !matches!(state.stage, Stage::New | Stage::Triage) {
        return Err(Refusal::WrongStage {
            stage: state.stage,
            action: "triage",
        });
    }
    let mut changes = Vec::new();
    let mut effective = state.severity;
    if let Some((to, reason)) = severity
        && *to != state.severity
    {
        changes.push(severity_change(state, *to, reason, policy)?);
        effective = *to;
    }
    match proposal {
        None => {
            let next = if policy.rca_required.contains(&effective) {
                Stage::Rca
            } else {
                Stage::Fix
            };
            changes.push(Change::Triaged {
                answers: answers.clone(),
                next: Some(next),
            });
        }
        Some(p) => {
            if p.kind == DecisionKind::Fixed {
                return Err(Refusal::Invalid(
                    "a finding cannot be closed as fixed at triage; confirm it and fix it".into(),
                ));
            }
            validate_proposal(p, policy, now)?;
            changes.push(Change::Triaged {
                answers: answers.clone(),
                next: None,
            });
            changes.extend(request(p, policy));
        }
    }
    Ok(changes)
}

fn validate_proposal(p: &Proposal, policy: &Policy, now: DateTime<Utc>) -> Result<(), Refusal> {
    match p.kind {
        DecisionKind::Fixed => {}
        DecisionKind::Duplicate => {
            if p.duplicate_of
                .as_deref()
                .is_none_or(|d| d.trim().is_empty())
            {
                return Err(Refusal::Missing {
                    field: "the finding this one duplicates",
                });
            }
        }
        DecisionKind::AcceptRisk => {
            required(&p.reason, "a reason for accepting the risk")?;
            let until = p.until.ok_or(Refusal::Missing {
                field: "an expiry date for the risk acceptance",
            })?;
            if until <= now {
                return Err(Refusal::Invalid(
                    "the risk acceptance must expire in the future".into(),
                ));
            }
            if until > now + Duration::days(i64::from(policy.max_acceptance_days)) {
                return Err(Refusal::Invalid(format!(
                    "a risk can be accepted for at most {} days",
                    policy.max_acceptance_days
                )));
            }
        }
        DecisionKind::FalsePositive | DecisionKind::WontFix | DecisionKind::Mitigated => {
            required(&p.reason, "a reason")?;
        }
    }
    Ok(())
}

/// The changes a proposal produces: an approval request, or the outcome itself when the
/// policy needs no votes.
fn request(p: &Proposal, policy: &Policy) -> Vec<Change> {
    let rule = policy.approval_for(p.kind);
    if rule.quorum == 0 {
        return vec![outcome(p)];
    }
    vec![Change::ApprovalRequested {
        proposal: p.clone(),
        quorum: rule.quorum,
        groups: rule.groups,
        exclude: rule.exclude,
    }]
}

fn outcome(p: &Proposal) -> Change {
    match p.kind.resolution() {
        Some(resolution) => Change::Closed {
            resolution,
            duplicate_of: p.duplicate_of.clone(),
        },
        None => Change::RiskAccepted {
            until: p.until.unwrap_or_default(),
            reason: p.reason.clone(),
        },
    }
}

fn vote(
    state: &FindingState,
    approve: bool,
    reason: Option<&str>,
    actor: &Actor,
    policy: &Policy,
) -> Decision {
    let pending = state.pending.as_ref().ok_or(Refusal::NoPendingRequest)?;
    if pending.votes.iter().any(|v| actor.is(&v.voter)) {
        return Err(Refusal::AlreadyVoted);
    }
    if !pending.groups.is_empty() && !pending.groups.iter().any(|g| policy.in_group(actor, g)) {
        return Err(Refusal::NotAnApprover {
            groups: pending.groups.join(" or "),
        });
    }
    for exclusion in &pending.exclude {
        let excluded = match exclusion {
            Exclusion::Requester => actor.is(&pending.requested_by),
            Exclusion::Assignee => state.owner.as_deref().is_some_and(|o| actor.is(o)),
            Exclusion::Implementer => state.implementer.as_deref().is_some_and(|i| actor.is(i)),
        };
        if excluded {
            return Err(Refusal::SeparationOfDuties {
                role: exclusion.as_str(),
            });
        }
    }
    if !approve {
        let reason = reason.unwrap_or_default();
        required(reason, "a reason for the rejection")?;
        return Ok(vec![
            Change::VoteCast {
                approve: false,
                reason: Some(reason.to_string()),
                approvals: pending.approvals(),
                quorum: pending.quorum,
            },
            Change::DecisionRejected {
                decision: pending.proposal.kind,
                reason: reason.to_string(),
            },
        ]);
    }
    let approvals = pending.approvals() + 1;
    let mut changes = vec![Change::VoteCast {
        approve: true,
        reason: reason.map(str::to_string),
        approvals,
        quorum: pending.quorum,
    }];
    if approvals >= pending.quorum {
        changes.push(outcome(&pending.proposal));
    }
    Ok(changes)
}

impl FindingState {
    /// The state a `Created` event starts; `None` for any other change.
    pub fn created(change: &Change, at: DateTime<Utc>) -> Option<FindingState> {
        let Change::Created {
            finding,
            route,
            triage_due,
            remediate_due,
        } = change
        else {
            return None;
        };
        let f = finding.clone();
        Some(FindingState {
            fingerprint: f.fingerprint,
            source: f.source,
            rule_id: f.rule_id,
            title: f.title,
            description: f.description,
            severity: f.severity,
            reported_severity: f.severity,
            asset: f.asset,
            location: f.location,
            tags: f.tags,
            references: f.references,
            owner: f.owner,
            route: route.clone(),
            stage: Stage::New,
            resolution: None,
            duplicate_of: None,
            first_seen: at,
            opened_at: at,
            triage_due: *triage_due,
            remediate_due: *remediate_due,
            closed_at: None,
            accepted_until: None,
            regressions: 0,
            triage: None,
            rca: None,
            fix_plan: None,
            evidence: Vec::new(),
            implementer: None,
            pending: None,
        })
    }

    /// Rebuild a finding from its whole trail. `None` if the trail does not start with
    /// `Created`.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<FindingState> {
        let mut it = events.into_iter();
        let first = it.next()?;
        let mut state = FindingState::created(&first.change, first.at)?;
        for e in it {
            state.apply(e);
        }
        Some(state)
    }

    /// Fold one event into the state. Total: every event applies to every state, so a
    /// trail always replays; only [`decide`] judges whether a change is allowed.
    pub fn apply(&mut self, event: &Event) {
        let at = event.at;
        match &event.change {
            Change::Created { .. } => {}
            Change::Updated {
                content,
                severity,
                triage_due,
                remediate_due,
            } => {
                self.title = content.title.clone();
                self.description = content.description.clone();
                self.severity = *severity;
                self.reported_severity = content.severity;
                self.tags = content.tags.clone();
                self.references = content.references.clone();
                self.triage_due = *triage_due;
                self.remediate_due = *remediate_due;
            }
            Change::Acknowledged => self.stage = Stage::Triage,
            Change::Assigned { owner, .. } => self.owner = Some(owner.clone()),
            Change::SeverityChanged {
                to,
                triage_due,
                remediate_due,
                ..
            } => {
                self.severity = *to;
                self.triage_due = *triage_due;
                self.remediate_due = *remediate_due;
            }
            Change::Triaged { answers, next } => {
                self.triage = Some(answers.clone());
                self.stage = next.unwrap_or(Stage::Triage);
            }
            Change::RcaSubmitted { answers } => {
                self.rca = Some(answers.clone());
                self.stage = Stage::Fix;
            }
            Change::FixPlanned { plan } => self.fix_plan = Some(plan.clone()),
            Change::FixMarkedDone { evidence } => {
                self.evidence.push(evidence.clone());
                self.implementer = Some(event.actor.reference());
                self.stage = Stage::Verify;
            }
            Change::ApprovalRequested {
                proposal,
                quorum,
                groups,
                exclude,
            } => {
                self.pending = Some(PendingDecision {
                    proposal: proposal.clone(),
                    requested_by: event.actor.reference(),
                    requested_at: at,
                    quorum: *quorum,
                    groups: groups.clone(),
                    exclude: exclude.clone(),
                    votes: Vec::new(),
                });
            }
            Change::VoteCast { approve, .. } => {
                if let Some(p) = &mut self.pending {
                    p.votes.push(Vote {
                        voter: event.actor.reference(),
                        approve: *approve,
                    });
                }
            }
            Change::ApprovalWithdrawn | Change::DecisionRejected { .. } => {
                let kind = self.pending.take().map(|p| p.proposal.kind);
                if kind == Some(DecisionKind::Fixed) || self.stage == Stage::Verify {
                    self.stage = Stage::Fix;
                    self.implementer = None;
                }
            }
            Change::Closed {
                resolution,
                duplicate_of,
            } => {
                self.pending = None;
                self.stage = Stage::Closed;
                self.resolution = Some(*resolution);
                self.duplicate_of = duplicate_of.clone();
                self.closed_at = Some(at);
            }
            Change::RiskAccepted { until, .. } => {
                self.pending = None;
                self.stage = Stage::Accepted;
                self.accepted_until = Some(*until);
            }
            Change::Reopened {
                reason,
                triage_due,
                remediate_due,
            } => {
                if *reason == ReopenReason::Regression {
                    self.regressions += 1;
                }
                self.stage = Stage::Triage;
                self.resolution = None;
                self.duplicate_of = None;
                self.closed_at = None;
                self.accepted_until = None;
                self.opened_at = at;
                self.triage_due = *triage_due;
                self.remediate_due = *remediate_due;
                self.triage = None;
                self.rca = None;
                self.fix_plan = None;
                self.evidence.clear();
                self.implementer = None;
                self.pending = None;
            }
            Change::Commented { .. } => {}
            Change::EvidenceRecorded { evidence } => self.evidence.push(evidence.clone()),
            Change::Suppressed { until, .. } => {
                self.stage = Stage::Accepted;
                self.accepted_until = Some(*until);
            }
        }
    }
}
