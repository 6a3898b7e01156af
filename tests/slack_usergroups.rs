//! Approver groups that name Slack user groups: membership is asked of Slack
//! (`usergroups.users.list` on the fake), cached, and fails closed.

mod common;

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use common::TestDb;
use common::fake_slack::{BOT_TOKEN, FakeSlack, Fault};
use remedybot::app::{App, AppError};
use remedybot::config::{Secret, Settings};
use remedybot::domain::{
    Actor, Command, DecisionKind, FindingId, Proposal, Refusal, Source, Stage,
};

async fn app_with_usergroup(db: &TestDb, fake: &FakeSlack) -> App {
    let mut settings = db.settings();
    let policy = Settings::from_toml(
        r#"
[groups]
security = ["slack-usergroup:S0SEC"]
[approvals.false_positive]
quorum = 1
groups = ["security"]
"#,
        Path::new("test.toml"),
    )
    .expect("policy");
    settings.policy = policy.policy;
    settings.slack.bot_token = Some(Secret::new(BOT_TOKEN));
    settings.slack.api_url = fake.api_url();
    db.app_with(settings).await
}

async fn finding_awaiting_approval(app: &App) -> FindingId {
    let cli = Actor::new("cli", "carol", "carol");
    let out = app
        .ingest(
            vec![common::finding(1, remedybot::domain::Severity::High)],
            &cli,
            Source::Cli,
            Utc::now(),
        )
        .await
        .expect("ingest");
    let id = out.findings[0].id;
    let propose = Command::Propose(Proposal {
        kind: DecisionKind::FalsePositive,
        reason: "test data".into(),
        duplicate_of: None,
        until: None,
        compensating_controls: String::new(),
    });
    app.execute(id, &propose, &cli, Source::Cli, Utc::now())
        .await
        .expect("proposal");
    id
}

async fn approve(app: &App, id: FindingId, user: &str) -> Result<Stage, AppError> {
    let vote = Command::Vote {
        approve: true,
        reason: None,
    };
    let actor = Actor::new("slack", user, user);
    app.execute(id, &vote, &actor, Source::Slack, Utc::now())
        .await
        .map(|o| o.state.stage)
}

#[tokio::test]
async fn only_members_of_the_slack_user_group_can_approve() {
    let fake = FakeSlack::start().await;
    fake.set_usergroup("S0SEC", &["UMEMBER", "UOTHERMEMBER"]);
    let db = TestDb::sqlite();
    let app = app_with_usergroup(&db, &fake).await;
    let id = finding_awaiting_approval(&app).await;

    let refused = approve(&app, id, "UOUTSIDER").await;
    assert!(
        matches!(
            refused,
            Err(AppError::Refused(Refusal::NotAnApprover { .. }))
        ),
        "{refused:?}"
    );
    assert_eq!(
        approve(&app, id, "UMEMBER").await.expect("member"),
        Stage::Closed
    );
    assert_eq!(
        fake.calls_to("usergroups.users.list").len(),
        1,
        "the member list is cached between votes"
    );
    fake.assert_no_violations();
}

#[tokio::test]
async fn when_slack_cannot_list_the_group_nobody_from_it_can_approve() {
    let fake = FakeSlack::start().await;
    fake.set_usergroup("S0SEC", &["UMEMBER"]);
    fake.fail_for(
        "usergroups.users.list",
        Duration::from_secs(300),
        Fault::ServerError(500),
    );
    let db = TestDb::sqlite();
    let app = app_with_usergroup(&db, &fake).await;
    let id = finding_awaiting_approval(&app).await;
    let refused = approve(&app, id, "UMEMBER").await;
    assert!(
        matches!(
            refused,
            Err(AppError::Refused(Refusal::NotAnApprover { .. }))
        ),
        "fails closed: {refused:?}"
    );
    let trail = app.store.trail(id).await.expect("trail");
    assert!(
        trail.iter().all(|e| e.kind != "vote_cast"),
        "no vote recorded"
    );
}
