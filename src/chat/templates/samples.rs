//! Sample view models that exercise every branch of the templates: a fully populated and a
//! minimal variant of each. Overrides are test-rendered with these at startup, and the
//! golden tests render the built-ins with them. The people in them are users of the
//! platform being rendered (so mentions are exercised), plus one of another platform.

use crate::chat::view::{
    ActorView, ApprovalView, BatchRow, BatchView, Detail, FindingCard, GroupView, Note, OwnerRef,
    SeverityCount, VoteView, actions_for,
};
use crate::domain::{FindingId, Stage};

/// The sample people: their Slack and Discord user ids.
const PEOPLE: [(&str, &str, &str); 4] = [
    ("owner", "U0OWNER", "100000000000000001"),
    ("ann", "U0ANN", "100000000000000002"),
    ("sec1", "U0SEC1", "100000000000000003"),
    ("sec2", "U0SEC2", "100000000000000004"),
];

/// Sample view models whose users belong to one platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Samples {
    /// `slack` or `discord`.
    platform: &'static str,
}

impl Samples {
    pub const SLACK: Samples = Samples { platform: "slack" };
    pub const DISCORD: Samples = Samples {
        platform: "discord",
    };

    pub fn id() -> FindingId {
        FindingId::from_key(12)
    }

    /// A sample person (`owner`, `ann`, `sec1`, `sec2`) as a user of this platform.
    pub fn user(self, name: &str) -> OwnerRef {
        let (_, slack, discord) = PEOPLE
            .iter()
            .find(|(n, _, _)| *n == name)
            .expect("a sample person");
        let id = if self.platform == "slack" {
            slack
        } else {
            discord
        };
        OwnerRef::parse(&format!("{}:{id}", self.platform))
    }

    /// A user of another platform: named, never mentioned.
    fn foreigner(self) -> OwnerRef {
        OwnerRef::parse(if self.platform == "slack" {
            "discord:4242"
        } else {
            "slack:U0LEAD"
        })
    }

    /// A finding in `fix` with everything set, and a closed one with nothing optional.
    pub fn cards(self) -> Vec<FindingCard> {
        vec![self.full_card(), Samples::minimal_card()]
    }

    pub fn full_card(self) -> FindingCard {
        FindingCard {
            id: Samples::id().to_string(),
            title: "Cross-site scripting in /search".into(),
            description: "User input from `q` reaches the response without escaping.".into(),
            severity: "high".into(),
            severity_label: "High".into(),
            stage: "fix".into(),
            stage_label: "Fix".into(),
            owner: Some(self.user("owner")),
            asset: "payments-api".into(),
            location: "app/views/search.py:72".into(),
            source: "semgrep".into(),
            rule: "python.flask.xss".into(),
            route: Some("payments".into()),
            due: Some("2026-01-31".into()),
            overdue: true,
            accepted_until: None,
            resolution: None,
            duplicate_of: None,
            regressions: 1,
            pending: Some(self.approval()),
            actions: actions_for(Stage::Fix, false),
        }
    }

    pub fn minimal_card() -> FindingCard {
        FindingCard {
            id: Samples::id().to_string(),
            title: "Outdated TLS configuration".into(),
            description: String::new(),
            severity: "low".into(),
            severity_label: "Low".into(),
            stage: "closed".into(),
            stage_label: "Closed".into(),
            owner: None,
            asset: "edge-proxy".into(),
            location: String::new(),
            source: "trivy".into(),
            rule: "AVD-KSV-0001".into(),
            route: None,
            due: None,
            overdue: false,
            accepted_until: None,
            resolution: Some("duplicate".into()),
            duplicate_of: Some("F-7".into()),
            regressions: 0,
            pending: None,
            actions: Vec::new(),
        }
    }

    pub fn notes(self) -> Vec<Note> {
        vec![
            Note {
                id: Samples::id().to_string(),
                kind: "assigned".into(),
                actor: ActorView {
                    name: "Ann".into(),
                    reference: self.user("ann").text(),
                    who: self.user("ann"),
                },
                headline: "assigned the finding to".into(),
                subject: Some(OwnerRef::Text("payments-team@example.com".into())),
                details: vec![Detail {
                    label: "Previously".into(),
                    value: self.user("owner").text(),
                }],
            },
            Note {
                id: Samples::id().to_string(),
                kind: "acknowledged".into(),
                actor: ActorView {
                    name: "alice".into(),
                    reference: "cli:alice".into(),
                    who: OwnerRef::Text("alice (cli)".into()),
                },
                headline: "acknowledged the finding".into(),
                subject: None,
                details: Vec::new(),
            },
        ]
    }

    /// An accept-risk request with groups, exclusions and a vote; and a bare one.
    pub fn approvals(self) -> Vec<ApprovalView> {
        vec![self.approval(), Samples::minimal_approval()]
    }

    pub fn approval(self) -> ApprovalView {
        ApprovalView {
            kind: "accept_risk".into(),
            what: "accepting the risk".into(),
            reason: "Internal service behind the VPN".into(),
            requested_by: self.user("ann"),
            until: Some("2026-03-01".into()),
            duplicate_of: None,
            compensating_controls: "WAF rule 12".into(),
            groups: vec![
                GroupView {
                    name: "security".into(),
                    members: vec![self.user("sec1"), self.user("sec2")],
                },
                GroupView {
                    name: "leads".into(),
                    members: vec![self.foreigner()],
                },
            ],
            excluded: vec!["requester".into(), "assignee".into()],
            quorum: 2,
            approvals: 1,
            tally: "1 of 2".into(),
            votes: vec![VoteView {
                voter: self.user("sec1"),
                approve: true,
            }],
        }
    }

    pub fn minimal_approval() -> ApprovalView {
        ApprovalView {
            kind: "duplicate".into(),
            what: "closing as a duplicate".into(),
            reason: String::new(),
            requested_by: OwnerRef::Text("alice (cli)".into()),
            until: None,
            duplicate_of: Some("F-7".into()),
            compensating_controls: String::new(),
            groups: Vec::new(),
            excluded: Vec::new(),
            quorum: 1,
            approvals: 0,
            tally: "0 of 1".into(),
            votes: Vec::new(),
        }
    }

    /// A flood summary with more findings than it lists, and one with a single finding.
    pub fn batches() -> Vec<BatchView> {
        let row = |i: usize, severity: &str| BatchRow {
            id: format!("F-{i}"),
            severity: format!("{severity:<8}"),
            title: format!("Finding <{i}> & \"quoted\""),
        };
        vec![
            BatchView {
                total: 45,
                counts: vec![
                    SeverityCount {
                        label: "Critical".into(),
                        count: 2,
                    },
                    SeverityCount {
                        label: "Low".into(),
                        count: 43,
                    },
                ],
                rows: (1..=30)
                    .map(|i| row(i, if i <= 2 { "Critical" } else { "Low" }))
                    .collect(),
                more: 15,
            },
            BatchView {
                total: 1,
                counts: vec![SeverityCount {
                    label: "High".into(),
                    count: 1,
                }],
                rows: vec![row(1, "High")],
                more: 0,
            },
        ]
    }
}
