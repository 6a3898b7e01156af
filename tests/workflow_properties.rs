//! Property tests of the workflow state machine: random command sequences from random
//! people, checked against the rules that must hold whatever happens.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use remedybot::domain::workflow::ReopenReason;
use remedybot::domain::{
    Actor, Change, Command, DecisionKind, Event, Evidence, FindingState, Fingerprint, FixPlan,
    NewFinding, Policy, Proposal, RcaAnswers, Resolution, Severity, Source, TriageAnswers, decide,
    open,
};

const PEOPLE: [&str; 5] = ["a", "b", "c", "d", "owner"];

fn policy() -> Policy {
    let mut p = Policy::default();
    p.groups.insert(
        "approvers".into(),
        vec!["slack:a".into(), "slack:b".into(), "slack:c".into()],
    );
    let fixed = p.approvals.get_mut(&DecisionKind::Fixed).unwrap();
    fixed.quorum = 2;
    fixed.groups = vec!["approvers".into()];
    p
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn arb_severity() -> impl Strategy<Value = Severity> {
    prop::sample::select(Severity::ALL.to_vec())
}

fn arb_kind() -> impl Strategy<Value = DecisionKind> {
    prop::sample::select(DecisionKind::ALL.to_vec())
}

fn arb_text() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", "because", "see ticket 42", "https://x.test/1"])
        .prop_map(str::to_string)
}

fn arb_command() -> impl Strategy<Value = Command> {
    // Weighted towards the happy path so that random runs do reach verification and closure.
    prop_oneof![
        3 => Just(Command::Acknowledge),
        1 => prop::sample::select(PEOPLE.to_vec()).prop_map(|p| Command::Assign { owner: format!("slack:{p}") }),
        1 => (arb_severity(), arb_text()).prop_map(|(severity, reason)| Command::ChangeSeverity { severity, reason }),
        4 => (any::<bool>(), prop::option::of((arb_severity(), arb_text())), prop::option::weighted(0.3, (arb_kind(), arb_text())))
            .prop_map(|(real, severity, proposal)| Command::Triage {
                answers: TriageAnswers { real: Some(real), exploitable: None, notes: String::new() },
                severity,
                proposal: proposal.map(|(kind, reason)| proposal_of(kind, reason)),
            }),
        3 => (arb_text(), arb_text()).prop_map(|(cause, why)| Command::SubmitRca(RcaAnswers {
            cause_category: cause,
            whys: vec![why],
            contributing_factors: String::new(),
        })),
        3 => arb_text().prop_map(|plan| Command::PlanFix(FixPlan { plan, change_link: String::new(), target_date: None })),
        3 => (arb_text(), arb_text()).prop_map(|(link, rescan_result)| Command::MarkFixed(Evidence { link, rescan_result })),
        1 => (arb_kind(), arb_text()).prop_map(|(k, r)| Command::Propose(proposal_of(k, r))),
        8 => (prop::bool::weighted(0.8), prop::option::of(arb_text())).prop_map(|(approve, reason)| Command::Vote { approve, reason }),
        1 => Just(Command::Withdraw),
        1 => arb_text().prop_map(|text| Command::Comment { text, link: None }),
        1 => Just(Command::ExpireAcceptance),
        1 => Just(Command::Reopen),
        1 => Just(Command::Suppress {
            rule: "generated-code".into(),
            owner: "slack:lead".into(),
            reason: "generated".into(),
            until: start() + Duration::days(20),
        }),
        1 => arb_text().prop_map(|link| Command::RecordEvidence(Evidence { link, rescan_result: String::new() })),
        1 => Just(Command::Observe(remedybot::domain::ScannerContent {
            title: "t".into(),
            description: String::new(),
            severity: Severity::High,
            tags: vec![],
            references: vec![],
        })),
    ]
}

fn proposal_of(kind: DecisionKind, reason: String) -> Proposal {
    Proposal {
        kind,
        reason,
        duplicate_of: Some("F-1".into()),
        until: Some(start() + Duration::days(20)),
        compensating_controls: String::new(),
    }
}

/// Run the steps; returns the trail and the incrementally maintained state.
fn simulate(
    severity: Severity,
    steps: &[(usize, Command, u16)],
    policy: &Policy,
) -> (Vec<Event>, FindingState) {
    let mut now = start();
    let nf = NewFinding {
        fingerprint: Fingerprint::derive("s", "r", "a", "l"),
        source: "s".into(),
        rule_id: "r".into(),
        title: "t".into(),
        description: String::new(),
        severity,
        asset: "a".into(),
        location: "l".into(),
        tags: vec![],
        references: vec![],
        owner: Some("slack:owner".into()),
    };
    let created = open(nf, policy, now);
    let mut state = FindingState::created(&created, now).unwrap();
    let mut events = vec![Event {
        change: created,
        actor: Actor::system(),
        source: Source::Api,
        at: now,
    }];
    for (who, cmd, minutes) in steps {
        now += Duration::minutes(i64::from(*minutes));
        let actor = Actor::new("slack", PEOPLE[*who], PEOPLE[*who]);
        if let Ok(changes) = decide(&state, cmd, &actor, policy, now) {
            for change in changes {
                let e = Event {
                    change,
                    actor: actor.clone(),
                    source: Source::Slack,
                    at: now,
                };
                state.apply(&e);
                events.push(e);
            }
        }
    }
    (events, state)
}

fn arb_steps() -> impl Strategy<Value = Vec<(usize, Command, u16)>> {
    prop::collection::vec((0..PEOPLE.len(), arb_command(), 0u16..1440), 0..60)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// No sequence closes a finding as fixed without the quorum of approvals, after the
    /// last "fix done", from distinct group members other than the implementer.
    #[test]
    fn fixed_needs_quorum_from_others_than_the_implementer(severity in arb_severity(), steps in arb_steps()) {
        let policy = policy();
        let (events, _) = simulate(severity, &steps, &policy);
        let mut implementer = None;
        let mut approvers: BTreeSet<String> = BTreeSet::new();
        for e in &events {
            match &e.change {
                Change::FixMarkedDone { .. } => {
                    implementer = Some(e.actor.reference());
                    approvers.clear();
                }
                Change::VoteCast { approve: true, .. } => {
                    prop_assert!(!approvers.contains(&e.actor.reference()), "a person voted twice");
                    approvers.insert(e.actor.reference());
                }
                Change::DecisionRejected { .. } | Change::ApprovalWithdrawn | Change::ApprovalRequested { .. } => approvers.clear(),
                Change::Closed { resolution: Resolution::Fixed, .. } => {
                    let implementer = implementer.clone();
                    prop_assert!(implementer.is_some(), "closed as fixed without a fix marked done");
                    prop_assert!(approvers.len() >= 2, "closed as fixed with {} approvals", approvers.len());
                    prop_assert!(!approvers.contains(implementer.as_ref().unwrap()), "implementer approved own fix");
                    for a in &approvers {
                        prop_assert!(["slack:a", "slack:b", "slack:c"].contains(&a.as_str()), "{a} is not an approver");
                    }
                }
                Change::Reopened { .. } => implementer = None,
                _ => {}
            }
        }
    }

    /// Replaying a trail rebuilds exactly the state that was maintained step by step.
    #[test]
    fn replay_rebuilds_the_state(severity in arb_severity(), steps in arb_steps()) {
        let (events, state) = simulate(severity, &steps, &policy());
        prop_assert_eq!(FindingState::replay(&events).unwrap(), state);
    }

    /// Votes are counted once per person, and the tally in each vote event is exact.
    #[test]
    fn votes_count_once_per_person(severity in arb_severity(), steps in arb_steps()) {
        let policy = policy();
        let (events, state) = simulate(severity, &steps, &policy);
        if let Some(p) = &state.pending {
            let voters: BTreeSet<&str> = p.votes.iter().map(|v| v.voter.as_str()).collect();
            prop_assert_eq!(voters.len(), p.votes.len());
            prop_assert!(p.approvals() < p.quorum, "an open request already has its quorum");
        }
        let mut tally = 0;
        for e in &events {
            match &e.change {
                Change::ApprovalRequested { .. } => tally = 0,
                Change::VoteCast { approve: true, approvals, .. } => {
                    tally += 1;
                    prop_assert_eq!(*approvals, tally);
                }
                _ => {}
            }
        }
    }

    /// Closed and accepted findings are never overdue; open ones always have a deadline,
    /// and a regression is counted exactly when a closed finding is seen again.
    #[test]
    fn deadlines_and_regressions_are_consistent(severity in arb_severity(), steps in arb_steps()) {
        let (events, state) = simulate(severity, &steps, &policy());
        prop_assert_eq!(state.next_due().is_some(), state.is_open());
        let regressions = events
            .iter()
            .filter(|e| matches!(e.change, Change::Reopened { reason: ReopenReason::Regression, .. }))
            .count();
        prop_assert_eq!(regressions as u32, state.regressions);
    }
}

/// The generator must reach the interesting states, or the properties above prove little.
#[test]
fn random_runs_reach_closure_acceptance_and_regression() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let policy = policy();
    let mut runner = TestRunner::deterministic();
    let (mut fixed, mut accepted, mut regressed) = (0, 0, 0);
    for _ in 0..500 {
        let severity = arb_severity().new_tree(&mut runner).unwrap().current();
        let steps = arb_steps().new_tree(&mut runner).unwrap().current();
        let (events, _) = simulate(severity, &steps, &policy);
        let has = |f: &dyn Fn(&Change) -> bool| events.iter().any(|e| f(&e.change));
        fixed += has(&|c| {
            matches!(
                c,
                Change::Closed {
                    resolution: Resolution::Fixed,
                    ..
                }
            )
        }) as u32;
        accepted += has(&|c| matches!(c, Change::RiskAccepted { .. })) as u32;
        regressed += has(&|c| matches!(c, Change::Reopened { .. })) as u32;
    }
    assert!(fixed >= 25, "only {fixed} of 500 runs closed as fixed");
    assert!(
        accepted >= 10,
        "only {accepted} of 500 runs accepted a risk"
    );
    assert!(regressed >= 10, "only {regressed} of 500 runs reopened");
}
