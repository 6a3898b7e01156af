//! Unit tests for every transition of the workflow.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn actor(id: &str) -> Actor {
    Actor::new("slack", id, id)
}

fn new_finding(severity: Severity) -> NewFinding {
    NewFinding {
        fingerprint: Fingerprint::derive("t", "r", "a", "l"),
        source: "t".into(),
        rule_id: "r".into(),
        title: "SQL injection".into(),
        description: "d".into(),
        severity,
        asset: "a".into(),
        location: "l".into(),
        tags: vec![],
        references: vec![],
        owner: Some("slack:owner".into()),
    }
}

/// A finding plus the events that made it, advanced by commands that must succeed.
struct Harness {
    state: FindingState,
    events: Vec<Event>,
    policy: Policy,
    now: DateTime<Utc>,
}

impl Harness {
    fn new(severity: Severity) -> Self {
        Self::with_policy(severity, Policy::default())
    }

    fn with_policy(severity: Severity, policy: Policy) -> Self {
        let now = t0();
        let change = open(new_finding(severity), &policy, now);
        let state = FindingState::created(&change, now).unwrap();
        let events = vec![Event {
            change,
            actor: Actor::system(),
            source: Source::Api,
            at: now,
        }];
        Harness {
            state,
            events,
            policy,
            now,
        }
    }

    fn try_do(&mut self, who: &str, cmd: Command) -> Result<Vec<Change>, Refusal> {
        self.now += Duration::minutes(1);
        let a = actor(who);
        let changes = decide(&self.state, &cmd, &a, &self.policy, self.now)?;
        for change in &changes {
            let e = Event {
                change: change.clone(),
                actor: a.clone(),
                source: Source::Slack,
                at: self.now,
            };
            self.state.apply(&e);
            self.events.push(e);
        }
        Ok(changes)
    }

    fn must(&mut self, who: &str, cmd: Command) -> Vec<Change> {
        self.try_do(who, cmd).expect("command should be accepted")
    }

    fn advance_to_fix(&mut self) {
        self.must("owner", Command::Acknowledge);
        self.must("owner", confirm());
        if self.state.stage == Stage::Rca {
            self.must("owner", Command::SubmitRca(rca()));
        }
        self.must("owner", Command::PlanFix(plan()));
        assert_eq!(self.state.stage, Stage::Fix);
    }
}

fn confirm() -> Command {
    Command::Triage {
        answers: TriageAnswers {
            real: Some(true),
            exploitable: Some(true),
            notes: "reachable from the internet".into(),
        },
        severity: None,
        proposal: None,
    }
}

fn rca() -> RcaAnswers {
    RcaAnswers {
        cause_category: "input validation".into(),
        whys: vec!["query built by string concatenation".into()],
        contributing_factors: "no SAST in CI".into(),
    }
}

fn plan() -> FixPlan {
    FixPlan {
        plan: "use bound parameters".into(),
        change_link: "https://example.test/pr/1".into(),
        target_date: None,
    }
}

fn evidence() -> Evidence {
    Evidence {
        link: "https://example.test/pr/1".into(),
        rescan_result: "clean".into(),
    }
}

fn proposal(kind: DecisionKind) -> Proposal {
    Proposal {
        kind,
        reason: "test fixture only".into(),
        duplicate_of: Some("F-1".into()),
        until: Some(t0() + Duration::days(30)),
        compensating_controls: String::new(),
    }
}

#[test]
fn acknowledge_moves_new_to_triage_once() {
    let mut h = Harness::new(Severity::High);
    h.must("owner", Command::Acknowledge);
    assert_eq!(h.state.stage, Stage::Triage);
    assert!(matches!(
        h.try_do("owner", Command::Acknowledge),
        Err(Refusal::NoChange(_))
    ));
}

#[test]
fn confirming_a_high_finding_requires_rca_and_a_low_one_skips_it() {
    let mut h = Harness::new(Severity::High);
    h.must("owner", confirm());
    assert_eq!(h.state.stage, Stage::Rca);

    let mut l = Harness::new(Severity::Low);
    l.must("owner", confirm());
    assert_eq!(l.state.stage, Stage::Fix);
}

#[test]
fn rca_for_high_needs_a_cause_and_a_why() {
    let mut h = Harness::new(Severity::Critical);
    h.must("owner", confirm());
    let err = h
        .try_do("owner", Command::SubmitRca(RcaAnswers::default()))
        .unwrap_err();
    assert_eq!(err.to_string(), "cause category is required");
    let mut no_why = rca();
    no_why.whys = vec!["  ".into()];
    assert!(matches!(
        h.try_do("owner", Command::SubmitRca(no_why)),
        Err(Refusal::Missing { .. })
    ));
    assert_eq!(h.state.stage, Stage::Rca);
    h.must("owner", Command::SubmitRca(rca()));
    assert_eq!(h.state.stage, Stage::Fix);
}

#[test]
fn marking_fixed_needs_a_plan_and_evidence_then_asks_for_verification() {
    let mut h = Harness::new(Severity::High);
    h.must("owner", Command::Acknowledge);
    h.must("owner", confirm());
    h.must("owner", Command::SubmitRca(rca()));
    assert!(matches!(
        h.try_do("dev", Command::MarkFixed(evidence())),
        Err(Refusal::Missing { .. })
    ));
    h.must("owner", Command::PlanFix(plan()));
    let err = h
        .try_do("dev", Command::MarkFixed(Evidence::default()))
        .unwrap_err();
    assert!(err.to_string().starts_with("evidence"));
    let changes = h.must("dev", Command::MarkFixed(evidence()));
    assert_eq!(changes.len(), 2);
    assert_eq!(h.state.stage, Stage::Verify);
    assert_eq!(h.state.implementer.as_deref(), Some("slack:dev"));
    assert_eq!(
        h.state.pending.as_ref().unwrap().proposal.kind,
        DecisionKind::Fixed
    );
}

#[test]
fn the_implementer_cannot_verify_their_own_fix() {
    let mut h = Harness::new(Severity::High);
    h.advance_to_fix();
    h.must("dev", Command::MarkFixed(evidence()));
    let err = h
        .try_do(
            "dev",
            Command::Vote {
                approve: true,
                reason: None,
            },
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "you are the implementer of this finding, so someone else must approve (separation of duties)"
    );
    h.must(
        "reviewer",
        Command::Vote {
            approve: true,
            reason: None,
        },
    );
    assert_eq!(h.state.stage, Stage::Closed);
    assert_eq!(h.state.resolution, Some(Resolution::Fixed));
    assert_eq!(h.state.closed_at, Some(h.now));
}

#[test]
fn only_group_members_can_approve_and_the_refusal_says_so() {
    let mut policy = Policy::default();
    policy.groups.insert(
        "security-approvers".into(),
        vec!["slack:alice".into(), "slack:bob".into()],
    );
    let fixed = policy.approvals.get_mut(&DecisionKind::Fixed).unwrap();
    fixed.groups = vec!["security-approvers".into()];
    fixed.quorum = 2;
    let mut h = Harness::with_policy(Severity::High, policy);
    h.advance_to_fix();
    h.must("dev", Command::MarkFixed(evidence()));
    let err = h
        .try_do(
            "mallory",
            Command::Vote {
                approve: true,
                reason: None,
            },
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "only members of security-approvers can approve; you are not one"
    );
    h.must(
        "alice",
        Command::Vote {
            approve: true,
            reason: None,
        },
    );
    assert_eq!(h.state.stage, Stage::Verify, "1 of 2 is not a quorum");
    assert_eq!(
        h.try_do(
            "alice",
            Command::Vote {
                approve: true,
                reason: None
            }
        ),
        Err(Refusal::AlreadyVoted)
    );
    h.must(
        "bob",
        Command::Vote {
            approve: true,
            reason: None,
        },
    );
    assert_eq!(h.state.stage, Stage::Closed);
    assert_eq!(
        h.try_do(
            "bob",
            Command::Vote {
                approve: true,
                reason: None
            }
        ),
        Err(Refusal::NoPendingRequest)
    );
}

#[test]
fn a_rejected_verification_goes_back_to_fix_and_needs_a_reason() {
    let mut h = Harness::new(Severity::Medium);
    h.advance_to_fix();
    h.must("dev", Command::MarkFixed(evidence()));
    assert!(matches!(
        h.try_do(
            "lead",
            Command::Vote {
                approve: false,
                reason: None
            }
        ),
        Err(Refusal::Missing { .. })
    ));
    h.must(
        "lead",
        Command::Vote {
            approve: false,
            reason: Some("the re-scan still flags it".into()),
        },
    );
    assert_eq!(h.state.stage, Stage::Fix);
    assert!(h.state.pending.is_none());
    assert!(h.state.implementer.is_none());
}

#[test]
fn a_false_positive_proposal_needs_someone_other_than_the_requester() {
    let mut h = Harness::new(Severity::Medium);
    h.must(
        "owner",
        Command::Triage {
            answers: TriageAnswers::default(),
            severity: None,
            proposal: Some(proposal(DecisionKind::FalsePositive)),
        },
    );
    assert_eq!(h.state.stage, Stage::Triage);
    assert!(matches!(
        h.try_do(
            "owner",
            Command::Vote {
                approve: true,
                reason: None
            }
        ),
        Err(Refusal::SeparationOfDuties { role: "requester" })
    ));
    assert!(matches!(
        h.try_do("owner", confirm()),
        Err(Refusal::RequestPending { .. })
    ));
    h.must(
        "lead",
        Command::Vote {
            approve: true,
            reason: None,
        },
    );
    assert_eq!(h.state.resolution, Some(Resolution::FalsePositive));
}

#[test]
fn accepted_risk_reopens_when_it_expires() {
    let mut h = Harness::new(Severity::High);
    h.must("owner", Command::Acknowledge);
    let mut p = proposal(DecisionKind::AcceptRisk);
    p.until = Some(h.now + Duration::days(10));
    h.must("owner", Command::Propose(p));
    h.must(
        "ciso",
        Command::Vote {
            approve: true,
            reason: None,
        },
    );
    assert_eq!(h.state.stage, Stage::Accepted);
    assert!(!h.state.is_open());
    assert!(h.try_do("system", Command::ExpireAcceptance).is_err());
    h.now += Duration::days(11);
    h.must("system", Command::ExpireAcceptance);
    assert_eq!(h.state.stage, Stage::Triage);
    assert_eq!(h.state.regressions, 0);
    assert_eq!(h.state.opened_at, h.now);
}

#[test]
fn risk_acceptance_needs_a_future_bounded_expiry() {
    let mut h = Harness::new(Severity::High);
    h.must("owner", Command::Acknowledge);
    let mut p = proposal(DecisionKind::AcceptRisk);
    p.until = None;
    assert!(matches!(
        h.try_do("owner", Command::Propose(p.clone())),
        Err(Refusal::Missing { .. })
    ));
    p.until = Some(h.now - Duration::days(1));
    assert!(matches!(
        h.try_do("owner", Command::Propose(p.clone())),
        Err(Refusal::Invalid(_))
    ));
    p.until = Some(h.now + Duration::days(400));
    let err = h.try_do("owner", Command::Propose(p)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a risk can be accepted for at most 365 days"
    );
}

#[test]
fn a_closed_finding_seen_again_reopens_as_a_regression() {
    let mut h = Harness::new(Severity::Low);
    h.advance_to_fix();
    h.must("dev", Command::MarkFixed(evidence()));
    h.must(
        "lead",
        Command::Vote {
            approve: true,
            reason: None,
        },
    );
    let content = NewFinding::content_of(&h.state);
    let changes = h.must("system", Command::Observe(content.clone()));
    assert_eq!(changes.len(), 1);
    assert_eq!(h.state.stage, Stage::Triage);
    assert_eq!(h.state.regressions, 1);
    assert!(h.state.evidence.is_empty());
    // Seen again while open and unchanged: nothing to record.
    assert!(h.must("system", Command::Observe(content)).is_empty());
}

#[test]
fn a_rescan_does_not_undo_a_persons_severity_decision() {
    let mut h = Harness::new(Severity::Low);
    h.must(
        "owner",
        Command::ChangeSeverity {
            severity: Severity::Critical,
            reason: "exploited in the wild".into(),
        },
    );
    // Seen again unchanged: nothing to record, and the severity stays critical.
    let scan = new_finding(Severity::Low).content();
    assert!(h.must("system", Command::Observe(scan.clone())).is_empty());
    // The scanner raises its own rating: recorded, but the person's decision stands.
    let mut raised = scan;
    raised.severity = Severity::Medium;
    h.must("system", Command::Observe(raised));
    assert_eq!(h.state.severity, Severity::Critical);
    assert_eq!(h.state.reported_severity, Severity::Medium);
}

#[test]
fn a_rescan_with_a_new_severity_moves_the_due_dates() {
    let mut h = Harness::new(Severity::Low);
    let mut scan = new_finding(Severity::Low).content();
    scan.severity = Severity::Critical;
    h.must("system", Command::Observe(scan));
    assert_eq!(h.state.severity, Severity::Critical);
    assert_eq!(h.state.remediate_due, h.state.opened_at + Duration::days(7));
}

#[test]
fn tool_evidence_is_recorded_but_does_not_close() {
    let mut h = Harness::new(Severity::High);
    h.must("github", Command::RecordEvidence(evidence()));
    assert_eq!(h.state.stage, Stage::New);
    assert_eq!(h.state.evidence, vec![evidence()]);
    assert!(matches!(
        h.try_do("github", Command::RecordEvidence(Evidence::default())),
        Err(Refusal::Missing { .. })
    ));
}

#[test]
fn reopen_brings_back_any_closed_finding_as_a_regression() {
    let mut h = Harness::new(Severity::Medium);
    assert!(matches!(
        h.try_do("github", Command::Reopen),
        Err(Refusal::NoChange(_))
    ));
    h.must(
        "owner",
        Command::Propose(proposal(DecisionKind::FalsePositive)),
    );
    h.must(
        "lead",
        Command::Vote {
            approve: true,
            reason: None,
        },
    );
    assert_eq!(h.state.resolution, Some(Resolution::FalsePositive));
    h.must("github", Command::Reopen);
    assert_eq!((h.state.stage, h.state.regressions), (Stage::Triage, 1));
}

#[test]
fn a_false_positive_seen_again_stays_closed() {
    let mut h = Harness::new(Severity::Medium);
    h.must("owner", Command::Acknowledge);
    h.must(
        "owner",
        Command::Propose(proposal(DecisionKind::FalsePositive)),
    );
    h.must(
        "lead",
        Command::Vote {
            approve: true,
            reason: None,
        },
    );
    let content = NewFinding::content_of(&h.state);
    assert!(h.must("system", Command::Observe(content)).is_empty());
    assert_eq!(h.state.stage, Stage::Closed);
    assert_eq!(h.state.regressions, 0);
    assert!(matches!(
        h.try_do("owner", Command::Acknowledge),
        Err(Refusal::WrongStage { .. })
    ));
}

#[test]
fn a_severity_change_needs_a_reason_and_recomputes_due_dates() {
    let mut h = Harness::new(Severity::Low);
    let before = h.state.remediate_due;
    assert!(matches!(
        h.try_do(
            "owner",
            Command::ChangeSeverity {
                severity: Severity::Critical,
                reason: " ".into()
            }
        ),
        Err(Refusal::Missing { .. })
    ));
    h.must(
        "owner",
        Command::ChangeSeverity {
            severity: Severity::Critical,
            reason: "exploit published".into(),
        },
    );
    assert_eq!(
        h.state.remediate_due,
        h.state.first_seen + Duration::days(7)
    );
    assert!(h.state.remediate_due < before);
}

#[test]
fn quorum_zero_applies_the_decision_without_a_vote() {
    let mut policy = Policy::default();
    policy
        .approvals
        .get_mut(&DecisionKind::WontFix)
        .unwrap()
        .quorum = 0;
    let mut h = Harness::with_policy(Severity::Info, policy);
    h.must("owner", Command::Acknowledge);
    h.must("owner", Command::Propose(proposal(DecisionKind::WontFix)));
    assert_eq!(h.state.resolution, Some(Resolution::WontFix));
}

#[test]
fn assignee_exclusion_blocks_the_owner_from_accepting_their_own_risk() {
    let mut h = Harness::new(Severity::Medium);
    h.must("owner", Command::Acknowledge);
    h.must("dev", Command::Propose(proposal(DecisionKind::WontFix)));
    assert!(matches!(
        h.try_do(
            "owner",
            Command::Vote {
                approve: true,
                reason: None
            }
        ),
        Err(Refusal::SeparationOfDuties { role: "assignee" })
    ));
    h.must("owner", Command::Withdraw);
    assert!(h.state.pending.is_none());
}

#[test]
fn replaying_the_trail_rebuilds_the_state() {
    let mut h = Harness::new(Severity::High);
    h.advance_to_fix();
    h.must("dev", Command::MarkFixed(evidence()));
    h.must(
        "lead",
        Command::Vote {
            approve: true,
            reason: None,
        },
    );
    assert_eq!(FindingState::replay(&h.events).unwrap(), h.state);
}

#[test]
fn changes_serialise_with_their_kind() {
    let json = serde_json::to_value(Change::Acknowledged).unwrap();
    assert_eq!(json["kind"], "acknowledged");
    let back: Change = serde_json::from_value(json).unwrap();
    assert_eq!(back.kind(), "acknowledged");
}
