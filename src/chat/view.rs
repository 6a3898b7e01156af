//! Platform-neutral view models: what a chat message about a finding says, as plain
//! strings. Built from domain types here, rendered by each platform's templates; templates
//! never see a domain type, and nothing here escapes text or knows a platform's syntax.

mod batch;
mod note;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use crate::domain::workflow::PendingDecision;
use crate::domain::{FindingId, FindingState, Resolution, Severity, Stage};

pub use batch::{BatchRow, BatchView, SeverityCount};
pub use note::{ActorView, Detail, Note};

/// Longest description a finding card shows; the full text is one `show` away.
pub const CARD_DESCRIPTION_CHARS: usize = 500;

/// Chat platforms whose `platform:id` references name a user we can mention.
const CHAT_PLATFORMS: [&str; 2] = ["slack", "discord"];

/// Someone a finding or vote refers to: a chat platform user (`slack:U123` →
/// platform `slack`, id `U123`), or free text (an email, a team name, a CLI user).
///
/// Serialises as `{"kind": "user", "platform", "id", "text"}` or `{"kind": "text", "text"}`;
/// `text` is always the original reference, so a template can fall back to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerRef {
    User { platform: String, id: String },
    Text(String),
}

impl OwnerRef {
    /// `slack:U123` and `discord:123` are users; anything else is free text.
    pub fn parse(reference: &str) -> OwnerRef {
        let r = reference.trim();
        match r.split_once(':') {
            Some((platform, id))
                if CHAT_PLATFORMS.contains(&platform)
                    && !id.is_empty()
                    && !id.chars().any(char::is_whitespace) =>
            {
                OwnerRef::User {
                    platform: platform.to_string(),
                    id: id.to_string(),
                }
            }
            _ => OwnerRef::Text(r.to_string()),
        }
    }

    /// The reference as written: `slack:U123` or the free text.
    pub fn text(&self) -> String {
        match self {
            OwnerRef::User { platform, id } => format!("{platform}:{id}"),
            OwnerRef::Text(t) => t.clone(),
        }
    }
}

impl Serialize for OwnerRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OwnerRef::User { platform, id } => {
                let mut s = serializer.serialize_struct("OwnerRef", 4)?;
                s.serialize_field("kind", "user")?;
                s.serialize_field("platform", platform)?;
                s.serialize_field("id", id)?;
                s.serialize_field("text", &self.text())?;
                s.end()
            }
            OwnerRef::Text(text) => {
                let mut s = serializer.serialize_struct("OwnerRef", 2)?;
                s.serialize_field("kind", "text")?;
                s.serialize_field("text", text)?;
                s.end()
            }
        }
    }
}

/// How a button looks; `None` on [`ActionView`] is the platform default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionStyle {
    Primary,
    Danger,
}

/// One thing a person can do to the finding from its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionView {
    /// `acknowledge`, `triage`, `rca`, `plan`, `fixed`, `assign` or `accept_risk`.
    pub id: String,
    pub label: String,
    pub style: Option<ActionStyle>,
}

impl ActionView {
    fn new(id: &str, label: &str, style: Option<ActionStyle>) -> Self {
        ActionView {
            id: id.into(),
            label: label.into(),
            style,
        }
    }
}

/// The actions that make sense for a finding: the next workflow step first, then assign and
/// risk acceptance. While a decision waits for votes only assigning is possible (the
/// workflow refuses the rest), and the vote itself has its own message.
pub fn actions_for(stage: Stage, pending: bool) -> Vec<ActionView> {
    use ActionStyle::Primary;
    let act = ActionView::new;
    let assign = || act("assign", "Assign", None);
    let accept = || act("accept_risk", "Accept risk…", None);
    if pending {
        return match stage {
            Stage::Closed | Stage::Accepted => Vec::new(),
            _ => vec![assign()],
        };
    }
    match stage {
        Stage::New => vec![
            act("acknowledge", "Acknowledge", Some(Primary)),
            act("triage", "Triage…", None),
            assign(),
            accept(),
        ],
        Stage::Triage => vec![act("triage", "Triage…", Some(Primary)), assign(), accept()],
        Stage::Rca => vec![act("rca", "Root cause…", Some(Primary)), assign(), accept()],
        Stage::Fix => vec![
            act("plan", "Fix plan…", None),
            act("fixed", "Mark fixed…", Some(Primary)),
            assign(),
            accept(),
        ],
        Stage::Verify => vec![assign()],
        Stage::Closed | Stage::Accepted => Vec::new(),
    }
}

/// A finding as its root message shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingCard {
    /// `F-12`.
    pub id: String,
    pub title: String,
    /// Clipped to [`CARD_DESCRIPTION_CHARS`].
    pub description: String,
    /// `critical`, `high`, … (for colours and emoji keyed by level).
    pub severity: String,
    /// `Critical`, `High`, …
    pub severity_label: String,
    /// `new`, `triage`, …
    pub stage: String,
    /// `New`, `Triage`, `Root cause analysis`, …
    pub stage_label: String,
    pub owner: Option<OwnerRef>,
    pub asset: String,
    pub location: String,
    pub source: String,
    pub rule: String,
    pub route: Option<String>,
    /// The deadline that applies now (`YYYY-MM-DD`); none when closed or accepted.
    pub due: Option<String>,
    pub overdue: bool,
    pub accepted_until: Option<String>,
    /// `fixed`, `false positive`, …
    pub resolution: Option<String>,
    pub duplicate_of: Option<String>,
    pub regressions: u32,
    pub pending: Option<ApprovalView>,
    pub actions: Vec<ActionView>,
}

impl FindingCard {
    /// The card for a finding at `now`. The pending decision's groups are named without
    /// members here; the approval message ([`ApprovalView::from_pending`]) lists them.
    pub fn from_state(id: FindingId, state: &FindingState, now: DateTime<Utc>) -> FindingCard {
        FindingCard {
            id: id.to_string(),
            title: state.title.clone(),
            description: clip(&state.description, CARD_DESCRIPTION_CHARS),
            severity: state.severity.as_str().to_string(),
            severity_label: severity_label(state.severity).to_string(),
            stage: state.stage.as_str().to_string(),
            stage_label: stage_label(state.stage).to_string(),
            owner: state.owner.as_deref().map(OwnerRef::parse),
            asset: state.asset.clone(),
            location: state.location.clone(),
            source: state.source.clone(),
            rule: state.rule_id.clone(),
            route: state.route.clone(),
            due: state.next_due().map(date),
            overdue: state.is_overdue(now),
            accepted_until: state.accepted_until.map(date),
            resolution: state.resolution.map(|r| resolution_label(r).to_string()),
            duplicate_of: state.duplicate_of.clone(),
            regressions: state.regressions,
            pending: state
                .pending
                .as_ref()
                .map(|p| ApprovalView::from_pending(p, &BTreeMap::new())),
            actions: actions_for(state.stage, state.pending.is_some()),
        }
    }
}

/// An approver group and its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupView {
    pub name: String,
    pub members: Vec<OwnerRef>,
}

/// One vote so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoteView {
    pub voter: OwnerRef,
    pub approve: bool,
}

/// An open (or just decided) approval request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalView {
    /// `fixed`, `accept_risk`, …
    pub kind: String,
    /// What is asked, e.g. `accepting the risk`.
    pub what: String,
    pub reason: String,
    pub requested_by: OwnerRef,
    /// For risk acceptance: until when (`YYYY-MM-DD`).
    pub until: Option<String>,
    pub duplicate_of: Option<String>,
    pub compensating_controls: String,
    /// Who may approve; empty means anyone who is not excluded.
    pub groups: Vec<GroupView>,
    /// Roles that may not vote: `requester`, `assignee`, `implementer`.
    pub excluded: Vec<String>,
    pub quorum: u32,
    pub approvals: u32,
    /// `1 of 2`.
    pub tally: String,
    pub votes: Vec<VoteView>,
}

impl ApprovalView {
    /// `groups` is the policy's group table (name → `platform:id` members).
    pub fn from_pending(
        p: &PendingDecision,
        groups: &BTreeMap<String, Vec<String>>,
    ) -> ApprovalView {
        let proposal = &p.proposal;
        ApprovalView {
            kind: proposal.kind.as_str().to_string(),
            what: proposal.kind.describe().to_string(),
            reason: proposal.reason.clone(),
            requested_by: OwnerRef::parse(&p.requested_by),
            until: proposal.until.map(date),
            duplicate_of: proposal.duplicate_of.clone(),
            compensating_controls: proposal.compensating_controls.clone(),
            groups: p
                .groups
                .iter()
                .map(|name| GroupView {
                    name: name.clone(),
                    members: groups
                        .get(name)
                        .into_iter()
                        .flatten()
                        .map(|m| OwnerRef::parse(m))
                        .collect(),
                })
                .collect(),
            excluded: p.exclude.iter().map(|e| e.as_str().to_string()).collect(),
            quorum: p.quorum,
            approvals: p.approvals(),
            tally: tally(p.approvals(), p.quorum),
            votes: p
                .votes
                .iter()
                .map(|v| VoteView {
                    voter: OwnerRef::parse(&v.voter),
                    approve: v.approve,
                })
                .collect(),
        }
    }
}

/// `1 of 2`.
pub fn tally(approvals: u32, quorum: u32) -> String {
    format!("{approvals} of {quorum}")
}

/// A date as chat messages show it: `2025-03-01`.
pub fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// At most `max` characters, with `…` when clipped.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let kept: String = s.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

pub fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

pub fn stage_label(s: Stage) -> &'static str {
    match s {
        Stage::New => "New",
        Stage::Triage => "Triage",
        Stage::Rca => "Root cause analysis",
        Stage::Fix => "Fix",
        Stage::Verify => "Verify",
        Stage::Closed => "Closed",
        Stage::Accepted => "Risk accepted",
    }
}

pub fn resolution_label(r: Resolution) -> &'static str {
    match r {
        Resolution::Fixed => "fixed",
        Resolution::FalsePositive => "false positive",
        Resolution::Duplicate => "duplicate",
        Resolution::WontFix => "won't fix",
        Resolution::Mitigated => "mitigated",
    }
}
