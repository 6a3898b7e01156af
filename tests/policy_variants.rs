//! A route chooses a policy variant (`[policies.<name>]` + `policy = "…"` on a route):
//! findings on different routes get the SLA and approval rules of their route's policy,
//! through `App::ingest` and `App::execute`, on every backend.

mod common;

use std::path::Path;

use chrono::Duration;
use common::{TestDb, finding, ts};
use remedybot::app::{App, AppError};
use remedybot::config::Settings;
use remedybot::domain::{
    Actor, Command, DecisionKind, FindingId, Fingerprint, NewFinding, Proposal, Refusal, Severity,
    Source, Stage,
};

const CONFIG: &str = r#"
[groups]
security = ["slack:sec1", "slack:sec2"]
ciso = ["slack:ciso"]

[policies.pci]
sla.high = { triage_hours = 4, remediate_days = 7 }
sla.critical = { triage_hours = 2, remediate_days = 3 }
approvals.accept_risk = { quorum = 2, groups = ["security", "ciso"], exclude = ["requester", "assignee"] }

[[routes]]
name = "payments"
asset = ["payments-*"]
policy = "pci"

[[routes]]
name = "default"
"#;

const T0: &str = "2026-03-02T09:00:00Z";

async fn app(db: &TestDb) -> App {
    let file = Settings::from_toml(CONFIG, Path::new("remedybot.toml")).expect("valid config");
    db.app_with(Settings {
        router: file.router,
        policy: file.policy,
        policies: file.policies,
        ..db.settings()
    })
    .await
}

/// `finding(i, severity)` on another asset.
fn on_asset(i: usize, severity: Severity, asset: &str) -> NewFinding {
    let mut f = finding(i, severity);
    f.asset = asset.into();
    f.fingerprint = Fingerprint::derive(&f.source, &f.rule_id, &f.asset, &f.location);
    f
}

fn user(id: &str) -> Actor {
    Actor::new("slack", id, &format!("User {id}"))
}

async fn run(app: &App, id: FindingId, who: &str, command: Command, at: &str) -> Stage {
    app.execute(id, &command, &user(who), Source::Slack, ts(at))
        .await
        .unwrap_or_else(|e| panic!("{command:?} by {who} refused: {e}"))
        .state
        .stage
}

fn approve() -> Command {
    Command::Vote {
        approve: true,
        reason: None,
    }
}

fn accept_risk() -> Command {
    Command::Propose(Proposal {
        kind: DecisionKind::AcceptRisk,
        reason: "vendor patch pending".into(),
        duplicate_of: None,
        until: Some(ts("2026-04-01T00:00:00Z")),
        compensating_controls: "WAF rule".into(),
    })
}

#[tokio::test]
async fn findings_on_different_routes_get_their_routes_sla_and_approval_quorum() {
    for db in TestDb::all().await {
        let app = app(&db).await;
        let batch = vec![
            on_asset(1, Severity::High, "payments-api"),
            on_asset(2, Severity::High, "blog"),
        ];
        let out = app
            .ingest(batch, &Actor::system(), Source::Api, ts(T0))
            .await
            .expect("ingest");
        let (pci, plain) = (out.findings[0].id, out.findings[1].id);

        // The SLA at creation comes from the route's policy.
        let pci_state = app.store.finding(pci).await.unwrap().unwrap().state;
        assert_eq!(
            pci_state.route.as_deref(),
            Some("payments"),
            "{}",
            db.backend
        );
        assert_eq!(pci_state.triage_due, ts(T0) + Duration::hours(4));
        assert_eq!(pci_state.remediate_due, ts(T0) + Duration::days(7));
        let plain_state = app.store.finding(plain).await.unwrap().unwrap().state;
        assert_eq!(plain_state.route.as_deref(), Some("default"));
        assert_eq!(plain_state.triage_due, ts(T0) + Duration::hours(72));
        assert_eq!(plain_state.remediate_due, ts(T0) + Duration::days(30));

        // A rescan that raises the severity recomputes with the route's policy too.
        let rescan = vec![
            on_asset(1, Severity::Critical, "payments-api"),
            on_asset(2, Severity::Critical, "blog"),
        ];
        app.ingest(
            rescan,
            &Actor::system(),
            Source::Api,
            ts("2026-03-02T10:00:00Z"),
        )
        .await
        .expect("rescan");
        let pci_state = app.store.finding(pci).await.unwrap().unwrap().state;
        assert_eq!(pci_state.remediate_due, ts(T0) + Duration::days(3));
        let plain_state = app.store.finding(plain).await.unwrap().unwrap().state;
        assert_eq!(plain_state.remediate_due, ts(T0) + Duration::days(7));

        // Accepting the risk: one approval from anyone on the default route, two from the
        // security and CISO groups on the payments route.
        for id in [pci, plain] {
            run(
                &app,
                id,
                "owner",
                Command::Acknowledge,
                "2026-03-02T11:00:00Z",
            )
            .await;
            run(&app, id, "owner", accept_risk(), "2026-03-02T12:00:00Z").await;
        }
        let stage = run(&app, plain, "dev7", approve(), "2026-03-02T13:00:00Z").await;
        assert_eq!(stage, Stage::Accepted, "{}", db.backend);

        let outsider = app
            .execute(
                pci,
                &approve(),
                &user("dev7"),
                Source::Slack,
                ts("2026-03-02T13:00:00Z"),
            )
            .await;
        assert!(
            matches!(
                outsider,
                Err(AppError::Refused(Refusal::NotAnApprover { .. }))
            ),
            "{outsider:?}"
        );
        let stage = run(&app, pci, "sec1", approve(), "2026-03-02T13:00:00Z").await;
        assert_eq!(stage, Stage::Triage, "one of two approvals");
        let f = app.store.finding(pci).await.unwrap().unwrap().state;
        assert_eq!(f.pending.as_ref().map(|p| p.quorum), Some(2));
        let stage = run(&app, pci, "ciso", approve(), "2026-03-02T14:00:00Z").await;
        assert_eq!(stage, Stage::Accepted, "{}", db.backend);
        db.cleanup().await;
    }
}
