//! Sample view models that exercise every branch of the templates: a fully populated and a
//! minimal variant of each. Overrides are test-rendered with these at startup, and the
//! golden tests render the built-ins with them.

use crate::chat::view::{
    ActorView, ApprovalView, BatchRow, BatchView, Detail, FindingCard, GroupView, Note, OwnerRef,
    SeverityCount, VoteView, actions_for,
};
use crate::domain::{FindingId, Stage};

pub fn id() -> FindingId {
    FindingId::from_key(12)
}

fn user(id: &str) -> OwnerRef {
    OwnerRef::parse(&format!("slack:{id}"))
}

/// A finding in `fix` with everything set, and a closed one with nothing optional.
pub fn cards() -> Vec<FindingCard> {
    vec![full_card(), minimal_card()]
}

pub fn full_card() -> FindingCard {
    FindingCard {
        id: id().to_string(),
        title: "Cross-site scripting in /search".into(),
        description: "User input from `q` reaches the response without escaping.".into(),
        severity: "high".into(),
        severity_label: "High".into(),
        stage: "fix".into(),
        stage_label: "Fix".into(),
        owner: Some(user("U0OWNER")),
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
        pending: Some(approval()),
        actions: actions_for(Stage::Fix, false),
    }
}

pub fn minimal_card() -> FindingCard {
    FindingCard {
        id: id().to_string(),
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

pub fn notes() -> Vec<Note> {
    vec![
        Note {
            id: id().to_string(),
            kind: "assigned".into(),
            actor: ActorView {
                name: "Ann".into(),
                reference: "slack:U0ANN".into(),
                who: user("U0ANN"),
            },
            headline: "assigned the finding to".into(),
            subject: Some(OwnerRef::Text("payments-team@example.com".into())),
            details: vec![Detail {
                label: "Previously".into(),
                value: "slack:U0OWNER".into(),
            }],
        },
        Note {
            id: id().to_string(),
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
pub fn approvals() -> Vec<ApprovalView> {
    vec![approval(), minimal_approval()]
}

pub fn approval() -> ApprovalView {
    ApprovalView {
        kind: "accept_risk".into(),
        what: "accepting the risk".into(),
        reason: "Internal service behind the VPN".into(),
        requested_by: user("U0ANN"),
        until: Some("2026-03-01".into()),
        duplicate_of: None,
        compensating_controls: "WAF rule 12".into(),
        groups: vec![
            GroupView {
                name: "security".into(),
                members: vec![user("U0SEC1"), user("U0SEC2")],
            },
            GroupView {
                name: "leads".into(),
                members: vec![OwnerRef::parse("discord:4242")],
            },
        ],
        excluded: vec!["requester".into(), "assignee".into()],
        quorum: 2,
        approvals: 1,
        tally: "1 of 2".into(),
        votes: vec![VoteView {
            voter: user("U0SEC1"),
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
