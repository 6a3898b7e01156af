//! What to tell a chat platform after a change: platform-neutral deliveries, planned from
//! the changes alone, queued in the outbox in the same transaction, and rendered for the
//! platform only when they are sent (so a card always shows the finding as it is then).

use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::domain::{Change, Severity, Source};

/// A chat platform remedybot delivers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Slack,
    Discord,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Slack => "slack",
            Platform::Discord => "discord",
        }
    }

    /// The platform's name in messages: `Slack`, `Discord`.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Slack => "Slack",
            Platform::Discord => "Discord",
        }
    }
}

/// The messages kept per finding (`chat_messages.role`).
pub mod role {
    /// The message the finding's thread hangs under.
    pub const THREAD: &str = "thread";
    /// remedybot's status card, edited in place.
    pub const CARD: &str = "card";
    /// The latest approval request, edited as votes arrive.
    pub const APPROVAL: &str = "approval";
    /// The flood summary whose thread a batch of findings shares (no card of their own).
    /// Its `message_ref` is `pending:…` until the summary is posted.
    pub const BATCH: &str = "batch";
}

/// The channel a finding's thread opens in on `platform`: the first channel of its route
/// on that platform, else the platform's default channel. `None` when the route does not
/// thread this severity (`thread_severities`) or no channel is configured.
pub fn thread_home(
    settings: &Settings,
    platform: Platform,
    severity: Severity,
    route: Option<&str>,
) -> Option<String> {
    let route = route.and_then(|name| settings.router.named(name));
    if route.is_some_and(|r| !r.threads(severity)) {
        return None;
    }
    route
        .and_then(|r| r.channels(platform.as_str()).first().cloned())
        .or_else(|| match platform {
            Platform::Slack => settings.slack.default_channel.clone(),
            Platform::Discord => settings.discord.default_channel.clone(),
        })
}

/// One queued message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Delivery {
    /// Post the finding's card (or, when the finding came from an alert message, post the
    /// card in that message's thread).
    OpenThread,
    /// Edit the card to show the current stage, owner, due date and pending decision.
    RefreshCard,
    /// Post a summary of event `seq` in the thread.
    Note { seq: i64 },
    /// Post the approval request made by event `seq`, with vote buttons.
    Approval { seq: i64 },
    /// Edit the latest approval request: the tally, or its outcome.
    RefreshApproval,
    /// Post one summary for an import's new findings in a channel (the flood guard); its
    /// thread becomes theirs. `token` is the pending `batch` message of those findings.
    Batch { token: String, findings: Vec<i64> },
}

impl Delivery {
    /// An edit of an existing message, rendered from the finding's state when sent: one
    /// waiting edit covers any number of changes.
    pub fn is_refresh(&self) -> bool {
        matches!(self, Delivery::RefreshCard | Delivery::RefreshApproval)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self).expect("a Delivery always serialises")
    }
}

/// The deliveries for one finding's changes, recorded together, in order. `seqs` are the
/// events' sequence numbers.
pub fn plan(changes: &[(i64, &Change, Source)]) -> Vec<Delivery> {
    let mut out = Vec::new();
    let mut created = false;
    let mut card_changed = false;
    let mut approval_changed = false;
    for &(seq, change, source) in changes {
        match change {
            Change::Created { .. } => created = true,
            Change::ApprovalRequested { .. } => out.push(Delivery::Approval { seq }),
            // Approvals show in the approval message's tally.
            Change::VoteCast { approve: true, .. } => approval_changed = true,
            // People see chat comments already; comments from elsewhere are posted.
            Change::Commented { .. } if matches!(source, Source::Slack | Source::Discord) => {}
            _ => out.push(Delivery::Note { seq }),
        }
        match change {
            Change::VoteCast { .. }
            | Change::ApprovalWithdrawn
            | Change::DecisionRejected { .. }
            | Change::Closed { .. }
            | Change::RiskAccepted { .. } => approval_changed = true,
            _ => {}
        }
        if !matches!(
            change,
            Change::Created { .. } | Change::Commented { .. } | Change::EvidenceRecorded { .. }
        ) {
            card_changed = true;
        }
    }
    if created {
        // The card is rendered when sent, so it already shows every later change.
        out.insert(0, Delivery::OpenThread);
        return out;
    }
    if approval_changed {
        out.push(Delivery::RefreshApproval);
    }
    if card_changed {
        out.push(Delivery::RefreshCard);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DecisionKind, Proposal, Resolution};

    fn proposal() -> Proposal {
        Proposal {
            kind: DecisionKind::FalsePositive,
            reason: "test data".into(),
            duplicate_of: None,
            until: None,
            compensating_controls: String::new(),
        }
    }

    #[test]
    fn an_acknowledgement_is_noted_and_refreshes_the_card() {
        let ack = Change::Acknowledged;
        assert_eq!(
            plan(&[(7, &ack, Source::Slack)]),
            vec![Delivery::Note { seq: 7 }, Delivery::RefreshCard]
        );
    }

    #[test]
    fn a_chat_comment_is_not_echoed_but_a_cli_comment_is_posted() {
        let c = Change::Commented {
            text: "looking".into(),
            link: None,
        };
        assert!(plan(&[(3, &c, Source::Slack)]).is_empty());
        assert_eq!(
            plan(&[(3, &c, Source::Cli)]),
            vec![Delivery::Note { seq: 3 }]
        );
    }

    #[test]
    fn a_request_and_its_closing_vote_update_the_approval_message() {
        let req = Change::ApprovalRequested {
            proposal: proposal(),
            quorum: 1,
            groups: vec![],
            exclude: vec![],
        };
        assert_eq!(
            plan(&[(1, &req, Source::Slack)]),
            vec![Delivery::Approval { seq: 1 }, Delivery::RefreshCard]
        );
        let vote = Change::VoteCast {
            approve: true,
            reason: None,
            approvals: 1,
            quorum: 1,
        };
        let closed = Change::Closed {
            resolution: Resolution::FalsePositive,
            duplicate_of: None,
        };
        assert_eq!(
            plan(&[(2, &vote, Source::Slack), (3, &closed, Source::Slack)]),
            vec![
                Delivery::Note { seq: 3 },
                Delivery::RefreshApproval,
                Delivery::RefreshCard
            ]
        );
    }

    #[test]
    fn a_new_finding_opens_its_thread_first() {
        let ack = Change::Acknowledged;
        let created: Change = serde_json::from_value(serde_json::json!({
            "kind": "created",
            "finding": {"fingerprint": "f1", "source": "s", "rule_id": "r", "title": "t", "description": "",
                "severity": "low", "asset": "a", "location": "", "tags": [], "references": [], "owner": null},
            "triage_due": "2026-01-01T00:00:00Z",
            "remediate_due": "2026-01-02T00:00:00Z"
        }))
        .unwrap_or_else(|e| panic!("fixture: {e}"));
        assert_eq!(
            plan(&[(1, &created, Source::Api), (2, &ack, Source::System)]),
            vec![Delivery::OpenThread, Delivery::Note { seq: 2 }]
        );
    }

    #[test]
    fn deliveries_round_trip_through_json() {
        for d in [
            Delivery::OpenThread,
            Delivery::RefreshCard,
            Delivery::Note { seq: 9 },
            Delivery::Approval { seq: 4 },
            Delivery::RefreshApproval,
            Delivery::Batch {
                token: "pending:1:2".into(),
                findings: vec![2, 3],
            },
        ] {
            assert_eq!(
                serde_json::from_str::<Delivery>(&d.to_json()).ok(),
                Some(d.clone())
            );
        }
    }
}
