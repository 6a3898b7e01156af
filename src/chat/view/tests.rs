//! View models built from states and events the real workflow produces.

use std::collections::BTreeMap;

use chrono::Duration;

use super::fixtures::{Story, slack};
use super::*;
use crate::domain::workflow::{
    DecisionKind, Evidence, FixPlan, Proposal, RcaAnswers, TriageAnswers,
};
use crate::domain::{Actor, Command, Event, Source};

fn action_ids(card: &FindingCard) -> Vec<&str> {
    card.actions.iter().map(|a| a.id.as_str()).collect()
}

fn confirm() -> Command {
    Command::Triage {
        answers: TriageAnswers {
            real: Some(true),
            exploitable: Some(false),
            notes: "reachable only from the admin UI".into(),
        },
        severity: None,
        proposal: None,
    }
}

fn rca() -> Command {
    Command::SubmitRca(RcaAnswers {
        cause_category: "input validation".into(),
        whys: vec!["template autoescape was off".into(), "legacy view".into()],
        contributing_factors: "no lint rule".into(),
    })
}

fn plan() -> Command {
    Command::PlanFix(FixPlan {
        plan: "turn autoescape on".into(),
        change_link: "https://git.example/pr/7".into(),
        target_date: None,
    })
}

fn fixed() -> Command {
    Command::MarkFixed(Evidence {
        link: "https://ci.example/run/9".into(),
        rescan_result: "clean".into(),
    })
}

fn accept_risk(story: &Story) -> Command {
    Command::Propose(Proposal {
        kind: DecisionKind::AcceptRisk,
        reason: "internal only".into(),
        duplicate_of: None,
        until: Some(story.now + Duration::days(30)),
        compensating_controls: "WAF rule 12".into(),
    })
}

/// The note for the last event of a command.
fn last_note(story: &Story, events: &[(Event, FindingState)]) -> Option<Note> {
    let (e, s) = events.last().unwrap();
    Note::from_event(story.id, e, s)
}

#[test]
fn a_new_finding_card_shows_triage_due_and_first_step_actions() {
    let story = Story::default_finding();
    let card = FindingCard::from_state(story.id, &story.state, story.now);
    assert_eq!(card.id, "F-12");
    assert_eq!(
        (card.severity.as_str(), card.severity_label.as_str()),
        ("high", "High")
    );
    assert_eq!(card.stage_label, "New");
    assert_eq!(
        card.due.as_deref(),
        Some("2026-01-04"),
        "72h triage SLA for high"
    );
    assert!(!card.overdue);
    assert_eq!(
        card.owner,
        Some(OwnerRef::User {
            platform: "slack".into(),
            id: "U0OWNER".into()
        })
    );
    assert_eq!(
        action_ids(&card),
        ["acknowledge", "triage", "assign", "accept_risk"]
    );
    assert_eq!(card.actions[0].style, Some(ActionStyle::Primary));
    assert_eq!(card.actions[1].label, "Triage…");
}

#[test]
fn after_triage_the_remediation_deadline_applies_and_can_be_overdue() {
    let mut story = Story::default_finding();
    story.run(&slack("U1", "Ann"), Source::Slack, confirm());
    let card = FindingCard::from_state(story.id, &story.state, story.now);
    assert_eq!(card.stage, "rca");
    assert_eq!(card.due.as_deref(), Some("2026-01-31"));
    assert_eq!(action_ids(&card), ["rca", "assign", "accept_risk"]);
    let later = story.now + Duration::days(60);
    assert!(FindingCard::from_state(story.id, &story.state, later).overdue);
}

#[test]
fn actions_follow_the_stage() {
    let mut story = Story::default_finding();
    let ann = slack("U1", "Ann");
    for cmd in [confirm(), rca(), plan()] {
        story.run(&ann, Source::Slack, cmd);
    }
    let card = FindingCard::from_state(story.id, &story.state, story.now);
    assert_eq!(
        action_ids(&card),
        ["plan", "fixed", "assign", "accept_risk"]
    );
    story.run(&ann, Source::Slack, fixed());
    let card = FindingCard::from_state(story.id, &story.state, story.now);
    assert_eq!(card.stage, "verify");
    assert_eq!(action_ids(&card), ["assign"]);
    assert_eq!(card.pending.as_ref().unwrap().what, "closing as fixed");
    story.run(
        &slack("U2", "Bob"),
        Source::Slack,
        Command::Vote {
            approve: true,
            reason: None,
        },
    );
    let card = FindingCard::from_state(story.id, &story.state, story.now);
    assert_eq!(card.stage_label, "Closed");
    assert_eq!(card.resolution.as_deref(), Some("fixed"));
    assert_eq!(card.due, None);
    assert!(card.actions.is_empty());
    assert!(actions_for(Stage::Accepted, false).is_empty());
}

#[test]
fn long_descriptions_are_clipped_on_cards() {
    let story = Story::new(super::fixtures::new_finding("t", &"é".repeat(2000)));
    let card = FindingCard::from_state(story.id, &story.state, story.now);
    assert_eq!(card.description.chars().count(), CARD_DESCRIPTION_CHARS);
    assert!(card.description.ends_with('…'));
}

#[test]
fn owner_refs_tell_platform_users_from_free_text() {
    let user = |p: &str, id: &str| OwnerRef::User {
        platform: p.into(),
        id: id.into(),
    };
    assert_eq!(OwnerRef::parse("slack:U123"), user("slack", "U123"));
    assert_eq!(OwnerRef::parse("discord:123"), user("discord", "123"));
    assert_eq!(
        OwnerRef::parse("sec@example.com"),
        OwnerRef::Text("sec@example.com".into())
    );
    assert_eq!(
        OwnerRef::parse("team:payments"),
        OwnerRef::Text("team:payments".into())
    );
    assert_eq!(OwnerRef::parse("slack:"), OwnerRef::Text("slack:".into()));
    let json = serde_json::to_value(user("slack", "U1")).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind": "user", "platform": "slack", "id": "U1", "text": "slack:U1"})
    );
    let json = serde_json::to_value(OwnerRef::Text("Payments".into())).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind": "text", "text": "Payments"})
    );
}

#[test]
fn approval_view_names_groups_members_and_the_tally() {
    let mut story = Story::default_finding();
    story
        .policy
        .approvals
        .get_mut(&DecisionKind::AcceptRisk)
        .unwrap()
        .quorum = 2;
    story
        .policy
        .approvals
        .get_mut(&DecisionKind::AcceptRisk)
        .unwrap()
        .groups = vec!["security".into(), "missing".into()];
    let cmd = accept_risk(&story);
    story.run(&slack("U1", "Ann"), Source::Slack, cmd);
    let vote = Command::Vote {
        approve: true,
        reason: Some("ok".into()),
    };
    story.run(&slack("U0SEC1", "Sec One"), Source::Slack, vote);
    let p = story.state.pending.as_ref().unwrap();
    let view = ApprovalView::from_pending(p, &story.policy.groups);
    assert_eq!(view.what, "accepting the risk");
    assert_eq!(view.reason, "internal only");
    assert_eq!(view.requested_by, OwnerRef::parse("slack:U1"));
    assert_eq!(view.until.as_deref(), Some("2026-01-31"));
    assert_eq!(view.groups.len(), 2);
    assert_eq!(view.groups[0].members.len(), 2);
    assert!(
        view.groups[1].members.is_empty(),
        "unknown group: named, no members"
    );
    assert_eq!((view.approvals, view.quorum), (1, 2));
    assert_eq!(view.tally, "1 of 2");
    assert_eq!(view.votes.len(), 1);
    assert!(view.votes[0].approve);
    assert_eq!(view.excluded, ["requester", "assignee"]);
    let card = FindingCard::from_state(story.id, &story.state, story.now);
    assert_eq!(
        action_ids(&card),
        ["assign"],
        "only assigning while a vote is open"
    );
    assert!(
        ApprovalView::from_pending(p, &BTreeMap::new()).groups[0]
            .members
            .is_empty()
    );
}

#[test]
fn notes_summarise_each_step_of_a_remediation() {
    let mut story = Story::default_finding();
    let ann = slack("U1", "Ann");
    let ev = story.run(&ann, Source::Slack, Command::Acknowledge);
    let note = last_note(&story, &ev).unwrap();
    assert_eq!(note.headline, "acknowledged the finding");
    assert_eq!(note.actor.who, OwnerRef::parse("slack:U1"));
    assert_eq!(note.kind, "acknowledged");

    let ev = story.run(
        &ann,
        Source::Slack,
        Command::Assign {
            owner: "slack:U2".into(),
        },
    );
    let note = last_note(&story, &ev).unwrap();
    assert_eq!(note.headline, "assigned the finding to");
    assert_eq!(note.subject, Some(OwnerRef::parse("slack:U2")));
    assert_eq!(note.details[0].value, "slack:U0OWNER");

    let ev = story.run(&ann, Source::Slack, confirm());
    let note = last_note(&story, &ev).unwrap();
    let labels: Vec<_> = note.details.iter().map(|d| d.label.as_str()).collect();
    assert_eq!(labels, ["Real", "Exploitable", "Notes", "Next"]);
    assert_eq!(note.details[3].value, "Root cause analysis");

    let ev = story.run(&ann, Source::Slack, rca());
    let note = last_note(&story, &ev).unwrap();
    assert_eq!(
        note.details[1].value,
        "2 (first: template autoescape was off)"
    );

    let ev = story.run(&ann, Source::Slack, plan());
    assert_eq!(
        last_note(&story, &ev).unwrap().details[1].value,
        "https://git.example/pr/7"
    );

    let ev = story.run(&ann, Source::Slack, fixed());
    assert_eq!(ev.len(), 2, "fix marked done + approval request");
    let done = Note::from_event(story.id, &ev[0].0, &ev[0].1).unwrap();
    assert_eq!(done.headline, "marked the fix done");
    assert!(
        last_note(&story, &ev).is_none(),
        "approval requests get their own message"
    );

    let vote = Command::Vote {
        approve: true,
        reason: None,
    };
    let ev = story.run(&slack("U3", "Cy"), Source::Slack, vote);
    let approved = Note::from_event(story.id, &ev[0].0, &ev[0].1).unwrap();
    assert_eq!(approved.headline, "approved closing as fixed");
    assert_eq!(approved.details[0].value, "1 of 1 approvals");
    assert_eq!(
        last_note(&story, &ev).unwrap().headline,
        "closed the finding as fixed"
    );
}

#[test]
fn a_rejection_is_one_note_with_the_reason() {
    let mut story = Story::default_finding();
    let cmd = accept_risk(&story);
    story.run(&slack("U1", "Ann"), Source::Slack, cmd);
    let vote = Command::Vote {
        approve: false,
        reason: Some("fix it instead".into()),
    };
    let ev = story.run(&slack("U2", "Bob"), Source::Slack, vote);
    let notes: Vec<_> = ev
        .iter()
        .filter_map(|(e, s)| Note::from_event(story.id, e, s))
        .collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].headline, "rejected accepting the risk");
    assert_eq!(notes[0].details[0].value, "fix it instead");
}

#[test]
fn chat_comments_are_not_echoed_but_cli_comments_are() {
    let mut story = Story::default_finding();
    let comment = || Command::Comment {
        text: "looking".into(),
        link: None,
    };
    let ev = story.run(&slack("U1", "Ann"), Source::Slack, comment());
    assert!(last_note(&story, &ev).is_none());
    let ev = story.run(&Actor::new("cli", "alice", "alice"), Source::Cli, comment());
    let note = last_note(&story, &ev).unwrap();
    assert_eq!(note.headline, "commented");
    assert_eq!(note.actor.who, OwnerRef::Text("alice (cli)".into()));
    assert_eq!(note.details[0].value, "looking");
}

#[test]
fn risk_acceptance_expiry_and_regressions_explain_the_reopen() {
    let mut story = Story::default_finding();
    let cmd = accept_risk(&story);
    story.run(&slack("U1", "Ann"), Source::Slack, cmd);
    let vote = Command::Vote {
        approve: true,
        reason: None,
    };
    let ev = story.run(&slack("U2", "Bob"), Source::Slack, vote);
    assert_eq!(
        last_note(&story, &ev).unwrap().headline,
        "accepted the risk until 2026-01-31"
    );
    story.now += Duration::days(40);
    let ev = story.run(&Actor::system(), Source::System, Command::ExpireAcceptance);
    let note = last_note(&story, &ev).unwrap();
    assert_eq!(note.actor.who, OwnerRef::Text("remedybot".into()));
    assert_eq!(note.details[0].value, "the risk acceptance expired");
    let created = Event {
        change: crate::domain::open(
            super::fixtures::new_finding("t", "d"),
            &story.policy,
            story.now,
        ),
        actor: Actor::system(),
        source: Source::Api,
        at: story.now,
    };
    assert!(Note::from_event(story.id, &created, &story.state).is_none());
}
