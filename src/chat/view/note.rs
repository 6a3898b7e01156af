//! Notes: the short thread replies that tell a finding's channel what just happened.

use serde::Serialize;

use super::{OwnerRef, clip, date, resolution_label, stage_label, tally};
use crate::domain::workflow::ReopenReason;
use crate::domain::{Actor, Change, Event, FindingId, FindingState, Source};

/// Longest value a note shows for one detail (a comment, a plan).
pub const NOTE_DETAIL_CHARS: usize = 1000;

/// Who did something, for display: a chat user is mentioned, anyone else is named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActorView {
    pub name: String,
    /// `platform:id`.
    pub reference: String,
    /// A chat user to mention, or the display text (`alice (cli)`, `remedybot`).
    pub who: OwnerRef,
}

impl ActorView {
    pub fn from_actor(actor: &Actor) -> ActorView {
        let who = match OwnerRef::parse(&actor.reference()) {
            user @ OwnerRef::User { .. } => user,
            OwnerRef::Text(_) if actor.platform == "system" => OwnerRef::Text(actor.name.clone()),
            OwnerRef::Text(_) => OwnerRef::Text(format!("{} ({})", actor.name, actor.platform)),
        };
        ActorView {
            name: actor.name.clone(),
            reference: actor.reference(),
            who,
        }
    }
}

/// One labelled value under a note's headline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detail {
    pub label: String,
    pub value: String,
}

/// A thread reply: `<actor> <headline> [<subject>]` and details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// `F-12`.
    pub id: String,
    /// The change kind (`assigned`, `vote_cast`, …), for templates that pick an icon.
    pub kind: String,
    pub actor: ActorView,
    /// What happened, starting with a verb: `acknowledged the finding`.
    pub headline: String,
    /// Who the headline is about, shown after it (the new owner of `assigned`).
    pub subject: Option<OwnerRef>,
    pub details: Vec<Detail>,
}

/// Collects non-empty details.
#[derive(Default)]
struct Details(Vec<Detail>);

impl Details {
    fn add(mut self, label: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        if !value.trim().is_empty() {
            self.0.push(Detail {
                label: label.to_string(),
                value: clip(value.trim(), NOTE_DETAIL_CHARS),
            });
        }
        self
    }
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not answered",
    }
}

impl Note {
    /// The note for one event, or `None` when the thread needs none: creation (the root
    /// message is the news), approval requests (they get their own message), rejecting
    /// votes (the `decision_rejected` that always follows carries the reason) and comments
    /// made in chat (already visible in the thread).
    pub fn from_event(id: FindingId, event: &Event, state_after: &FindingState) -> Option<Note> {
        let (headline, subject, details) = describe(event, state_after)?;
        Some(Note {
            id: id.to_string(),
            kind: event.change.kind().to_string(),
            actor: ActorView::from_actor(&event.actor),
            headline,
            subject,
            details: details.0,
        })
    }
}

type Parts = (String, Option<OwnerRef>, Details);

fn describe(event: &Event, state: &FindingState) -> Option<Parts> {
    let d = Details::default();
    let plain = |h: &str, d: Details| Some((h.to_string(), None, d));
    match &event.change {
        Change::Created { .. } | Change::ApprovalRequested { .. } => None,
        Change::VoteCast { approve: false, .. } => None,
        Change::Commented { .. } if matches!(event.source, Source::Slack | Source::Discord) => None,
        Change::Updated { severity, .. } => plain(
            "re-reported the finding with changed details",
            d.add("Severity", severity.as_str()),
        ),
        Change::Acknowledged => plain("acknowledged the finding", d),
        Change::Assigned { owner, previous } => Some((
            "assigned the finding to".into(),
            Some(OwnerRef::parse(owner)),
            d.add("Previously", previous.clone().unwrap_or_default()),
        )),
        Change::SeverityChanged {
            from, to, reason, ..
        } => Some((
            format!("changed the severity from {from} to {to}"),
            None,
            d.add("Reason", reason)
                .add("Due", state.next_due().map(date).unwrap_or_default()),
        )),
        Change::Triaged { answers, next } => plain(
            "triaged the finding",
            d.add("Real", yes_no(answers.real))
                .add("Exploitable", yes_no(answers.exploitable))
                .add("Notes", &answers.notes)
                .add(
                    "Next",
                    match next {
                        Some(stage) => stage_label(*stage).to_string(),
                        None => "waiting for a decision".to_string(),
                    },
                ),
        ),
        Change::RcaSubmitted { answers } => plain(
            "submitted the root-cause analysis",
            d.add("Category", &answers.cause_category)
                .add("Whys", whys(&answers.whys))
                .add("Contributing factors", &answers.contributing_factors),
        ),
        Change::FixPlanned { plan } => plain(
            "planned the fix",
            d.add("Plan", &plan.plan)
                .add("Change", &plan.change_link)
                .add(
                    "Target date",
                    plan.target_date.map(date).unwrap_or_default(),
                ),
        ),
        Change::FixMarkedDone { evidence } => plain(
            "marked the fix done",
            d.add("Evidence", &evidence.link)
                .add("Re-scan", &evidence.rescan_result),
        ),
        Change::EvidenceRecorded { evidence } => plain(
            "recorded verification evidence",
            d.add("Evidence", &evidence.link)
                .add("Re-scan", &evidence.rescan_result),
        ),
        Change::VoteCast {
            reason,
            approvals,
            quorum,
            ..
        } => Some((
            match &state.pending {
                Some(p) => format!("approved {}", p.proposal.kind.describe()),
                None => "approved".to_string(),
            },
            None,
            d.add("Tally", format!("{} approvals", tally(*approvals, *quorum)))
                .add("Reason", reason.clone().unwrap_or_default()),
        )),
        Change::ApprovalWithdrawn => plain("withdrew the approval request", d),
        Change::DecisionRejected { decision, reason } => Some((
            format!("rejected {}", decision.describe()),
            None,
            d.add("Reason", reason)
                .add("Stage", stage_label(state.stage)),
        )),
        Change::Closed {
            resolution,
            duplicate_of,
        } => Some((
            format!("closed the finding as {}", resolution_label(*resolution)),
            None,
            d.add("Duplicate of", duplicate_of.clone().unwrap_or_default()),
        )),
        Change::RiskAccepted { until, reason } => Some((
            format!("accepted the risk until {}", date(*until)),
            None,
            d.add("Reason", reason),
        )),
        Change::Reopened { reason, .. } => plain(
            "reopened the finding",
            d.add(
                "Reason",
                match reason {
                    ReopenReason::Regression => {
                        format!("detected again (regression #{})", state.regressions)
                    }
                    ReopenReason::AcceptanceExpired => "the risk acceptance expired".into(),
                },
            )
            .add("Due", state.next_due().map(date).unwrap_or_default()),
        ),
        Change::Commented { text, link } => plain(
            "commented",
            d.add("Comment", text)
                .add("Link", link.clone().unwrap_or_default()),
        ),
        Change::Suppressed {
            rule,
            owner,
            reason,
            until,
        } => Some((
            format!("suppressed the finding by rule {rule}"),
            None,
            d.add("Reason", reason)
                .add("Until", date(*until))
                .add("Rule owner", owner),
        )),
    }
}

/// `3 (first: the input was not validated)`.
fn whys(whys: &[String]) -> String {
    match whys.iter().find(|w| !w.trim().is_empty()) {
        None => String::new(),
        Some(first) => format!("{} (first: {})", whys.len(), first.trim()),
    }
}
