//! `remedybot act ID ACTION`: drive the workflow from the command line, as `cli:$USER`.
//! Each action maps to one domain command; the domain decides whether it is allowed.

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Subcommand, ValueEnum};

use crate::domain::{
    Command, DecisionKind, Evidence, FixPlan, Proposal, RcaAnswers, Severity, TriageAnswers,
};

#[derive(Clone, Subcommand)]
pub enum Action {
    /// Acknowledge a new finding (new → triage).
    Acknowledge,
    /// Give the finding a new owner.
    Assign {
        /// The new owner: a person as platform:id (e.g. slack:U024BE7LH) or a team name.
        owner: String,
    },
    /// Change the severity; due dates are recomputed.
    Severity {
        /// critical, high, medium, low or info.
        #[arg(value_parser = super::parse_severity)]
        severity: Severity,
        /// Why the severity changes (required).
        #[arg(long)]
        reason: String,
    },
    /// Record triage answers. Without --propose the finding is confirmed as real.
    Triage {
        /// Is the finding real?
        #[arg(long)]
        real: Option<YesNo>,
        /// Is it exploitable where it is?
        #[arg(long)]
        exploitable: Option<YesNo>,
        /// Free-text triage notes.
        #[arg(long, default_value = "")]
        notes: String,
        /// Change the severity as part of triage (needs --severity-reason).
        #[arg(long, value_parser = super::parse_severity, requires = "severity_reason")]
        severity: Option<Severity>,
        /// Why the severity changes.
        #[arg(long, requires = "severity")]
        severity_reason: Option<String>,
        /// Instead of confirming, propose a decision (needs approval).
        #[arg(long, value_enum)]
        propose: Option<Kind>,
        #[command(flatten)]
        proposal: ProposalArgs,
    },
    /// Submit the root-cause analysis (rca → fix).
    Rca {
        /// Cause category, e.g. "input validation" or "dependency".
        #[arg(long)]
        cause: String,
        /// One "why"; repeat for the 5 whys.
        #[arg(long = "why")]
        whys: Vec<String>,
        /// Contributing factors.
        #[arg(long, default_value = "")]
        factors: String,
    },
    /// Record the fix plan.
    Plan {
        /// What will be done.
        #[arg(long)]
        plan: String,
        /// Change or ticket link.
        #[arg(long, default_value = "")]
        link: String,
        /// Target date, YYYY-MM-DD.
        #[arg(long, value_parser = parse_date)]
        target: Option<DateTime<Utc>>,
    },
    /// Mark the fix done with evidence (fix → verify); asks for verification.
    Fixed {
        /// Evidence link (pull request, change, scan report).
        #[arg(long, default_value = "")]
        link: String,
        /// Re-scan result, e.g. "clean".
        #[arg(long, default_value = "")]
        rescan: String,
    },
    /// Propose closing the finding or accepting the risk (needs approval).
    Propose {
        /// The decision to ask for.
        #[arg(value_enum)]
        kind: Kind,
        #[command(flatten)]
        proposal: ProposalArgs,
    },
    /// Approve the open request.
    Approve {
        /// Optional comment with the approval.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Reject the open request.
    Reject {
        /// Why (required).
        #[arg(long)]
        reason: String,
    },
    /// Withdraw the open request (requester or owner).
    Withdraw,
    /// Add a comment to the trail.
    Comment {
        /// The comment.
        text: String,
        /// A link to go with it.
        #[arg(long)]
        link: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum YesNo {
    Yes,
    No,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    FalsePositive,
    Duplicate,
    WontFix,
    Mitigated,
    AcceptRisk,
}

#[derive(Clone, clap::Args)]
pub struct ProposalArgs {
    /// Why this decision (required for all but duplicate).
    #[arg(long, default_value = "")]
    reason: String,
    /// For duplicate: the finding this one duplicates.
    #[arg(long)]
    duplicate_of: Option<String>,
    /// For accept-risk: when the acceptance ends, YYYY-MM-DD.
    #[arg(long, value_parser = parse_date)]
    until: Option<DateTime<Utc>>,
    /// For accept-risk and mitigated: compensating controls.
    #[arg(long, default_value = "")]
    controls: String,
}

fn parse_date(s: &str) -> Result<DateTime<Utc>, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        .map_err(|_| format!("`{s}` is not a date; write YYYY-MM-DD"))
}

impl Kind {
    fn decision(self) -> DecisionKind {
        match self {
            Kind::FalsePositive => DecisionKind::FalsePositive,
            Kind::Duplicate => DecisionKind::Duplicate,
            Kind::WontFix => DecisionKind::WontFix,
            Kind::Mitigated => DecisionKind::Mitigated,
            Kind::AcceptRisk => DecisionKind::AcceptRisk,
        }
    }
}

impl ProposalArgs {
    fn is_empty(&self) -> bool {
        self.reason.is_empty()
            && self.duplicate_of.is_none()
            && self.until.is_none()
            && self.controls.is_empty()
    }

    fn into_proposal(self, kind: Kind) -> Proposal {
        Proposal {
            kind: kind.decision(),
            reason: self.reason,
            duplicate_of: self.duplicate_of,
            until: self.until,
            compensating_controls: self.controls,
        }
    }
}

fn yes_no(v: Option<YesNo>) -> Option<bool> {
    v.map(|v| matches!(v, YesNo::Yes))
}

/// The domain command for an action, or why the flags do not make sense together.
pub fn command(action: Action) -> Result<Command, String> {
    if let Action::Triage {
        propose: None,
        proposal,
        ..
    } = &action
        && !proposal.is_empty()
    {
        return Err("--reason, --duplicate-of, --until and --controls need --propose KIND".into());
    }
    Ok(match action {
        Action::Acknowledge => Command::Acknowledge,
        Action::Assign { owner } => Command::Assign { owner },
        Action::Severity { severity, reason } => Command::ChangeSeverity { severity, reason },
        Action::Triage {
            real,
            exploitable,
            notes,
            severity,
            severity_reason,
            propose,
            proposal,
        } => Command::Triage {
            answers: TriageAnswers {
                real: yes_no(real),
                exploitable: yes_no(exploitable),
                notes,
            },
            severity: severity.map(|s| (s, severity_reason.unwrap_or_default())),
            proposal: propose.map(|k| proposal.into_proposal(k)),
        },
        Action::Rca {
            cause,
            whys,
            factors,
        } => Command::SubmitRca(RcaAnswers {
            cause_category: cause,
            whys,
            contributing_factors: factors,
        }),
        Action::Plan { plan, link, target } => Command::PlanFix(FixPlan {
            plan,
            change_link: link,
            target_date: target,
        }),
        Action::Fixed { link, rescan } => Command::MarkFixed(Evidence {
            link,
            rescan_result: rescan,
        }),
        Action::Propose { kind, proposal } => Command::Propose(proposal.into_proposal(kind)),
        Action::Approve { reason } => Command::Vote {
            approve: true,
            reason,
        },
        Action::Reject { reason } => Command::Vote {
            approve: false,
            reason: Some(reason),
        },
        Action::Withdraw => Command::Withdraw,
        Action::Comment { text, link } => Command::Comment { text, link },
    })
}
