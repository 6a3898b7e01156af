//! One sentence per trail event, for `remedybot show`, exports and chat summaries.

use crate::domain::Change;
use crate::domain::workflow::ReopenReason;

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not answered",
    }
}

/// What happened, in a short sentence without the actor or the time.
pub fn describe(change: &Change) -> String {
    match change {
        Change::Created {
            finding,
            remediate_due,
            ..
        } => format!(
            "detected by {} ({} {}); remediation due {}",
            finding.source,
            finding.severity,
            finding.rule_id,
            remediate_due.format("%Y-%m-%d")
        ),
        Change::Updated { severity, .. } => {
            format!("scanner updated the finding (severity {})", severity)
        }
        Change::Acknowledged => "acknowledged".into(),
        Change::Assigned { owner, previous } => match previous {
            Some(p) => format!("reassigned from {p} to {owner}"),
            None => format!("assigned to {owner}"),
        },
        Change::SeverityChanged {
            from, to, reason, ..
        } => format!("severity changed {from} → {to}: {reason}"),
        Change::Triaged { answers, next } => format!(
            "triaged (real: {}, exploitable: {}){}{}",
            yes_no(answers.real),
            yes_no(answers.exploitable),
            next.map(|s| format!(", confirmed → {s}"))
                .unwrap_or_default(),
            if answers.notes.is_empty() {
                String::new()
            } else {
                format!(": {}", answers.notes)
            }
        ),
        Change::RcaSubmitted { answers } => format!(
            "root cause: {} ({} {})",
            answers.cause_category,
            answers.whys.len(),
            if answers.whys.len() == 1 {
                "why"
            } else {
                "whys"
            }
        ),
        Change::FixPlanned { plan } => format!("fix planned: {}", plan.plan),
        Change::FixMarkedDone { evidence } => format!(
            "fix marked done; evidence: {}",
            [evidence.link.as_str(), evidence.rescan_result.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Change::ApprovalRequested {
            proposal,
            quorum,
            groups,
            ..
        } => format!(
            "approval requested for {} ({} needed{})",
            proposal.kind.describe(),
            quorum,
            if groups.is_empty() {
                String::new()
            } else {
                format!(" from {}", groups.join(" or "))
            }
        ),
        Change::VoteCast {
            approve: true,
            approvals,
            quorum,
            ..
        } => format!("approved ({approvals} of {quorum})"),
        Change::VoteCast {
            approve: false,
            reason,
            ..
        } => {
            format!("rejected: {}", reason.as_deref().unwrap_or_default())
        }
        Change::ApprovalWithdrawn => "approval request withdrawn".into(),
        Change::DecisionRejected { decision, .. } => {
            format!("{} was rejected", decision.describe())
        }
        Change::Closed {
            resolution,
            duplicate_of,
        } => match duplicate_of {
            Some(d) => format!("closed as {} of {d}", resolution.as_str()),
            None => format!("closed as {}", resolution.as_str()),
        },
        Change::RiskAccepted { until, reason } => {
            format!("risk accepted until {}: {reason}", until.format("%Y-%m-%d"))
        }
        Change::Reopened {
            reason: ReopenReason::Regression,
            ..
        } => "reopened: detected again after closing (regression)".into(),
        Change::Reopened {
            reason: ReopenReason::AcceptanceExpired,
            ..
        } => "reopened: risk acceptance expired".into(),
        Change::Commented { text, .. } => format!("comment: {text}"),
        Change::Suppressed {
            rule,
            owner,
            reason,
            until,
        } => format!(
            "suppressed by rule `{rule}` until {} (owner {owner}): {reason}",
            until.format("%Y-%m-%d")
        ),
        Change::EvidenceRecorded { evidence } => format!(
            "evidence recorded: {}",
            [evidence.link.as_str(), evidence.rescan_result.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
