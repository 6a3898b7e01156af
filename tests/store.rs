//! The store and application services against real databases: SQLite always, PostgreSQL
//! when reachable (see common/mod.rs). Each test runs once per backend.

mod common;

use chrono::Duration;
use common::{TestDb, finding, ts};
use remedybot::app::{App, AppError, IngestOptions, Outcome};
use remedybot::config::MissingPolicy;
use remedybot::domain::{
    Actor, Command, DecisionKind, Evidence, FindingId, FindingState, FixPlan, Proposal, RcaAnswers,
    Refusal, Severity, Source, Stage, TriageAnswers,
};
use remedybot::store::{FindingFilter, TamperKind};

fn user(id: &str) -> Actor {
    Actor::new("slack", id, &format!("User {id}"))
}

async fn run(app: &App, id: FindingId, who: &str, cmd: Command, at: &str) {
    app.execute(id, &cmd, &user(who), Source::Slack, ts(at))
        .await
        .unwrap_or_else(|e| panic!("{cmd:?} by {who} refused: {e}"));
}

/// One new finding, ingested at 2026-01-01T00:00:00Z.
async fn ingest_one(app: &App, severity: Severity) -> FindingId {
    ingest(app, vec![finding(1, severity)], "2026-01-01T00:00:00Z")
        .await
        .findings[0]
        .id
}

/// Walk a high finding from new to closed-as-fixed through every stage.
async fn close_as_fixed(app: &App, id: FindingId) {
    run(
        app,
        id,
        "owner",
        Command::Acknowledge,
        "2026-01-01T01:00:00Z",
    )
    .await;
    let triage = Command::Triage {
        answers: TriageAnswers {
            real: Some(true),
            exploitable: Some(false),
            notes: "internal only".into(),
        },
        severity: None,
        proposal: None,
    };
    run(app, id, "owner", triage, "2026-01-01T02:00:00Z").await;
    let rca = RcaAnswers {
        cause_category: "dependency".into(),
        whys: vec!["pinned an old version".into()],
        contributing_factors: String::new(),
    };
    run(
        app,
        id,
        "owner",
        Command::SubmitRca(rca),
        "2026-01-02T00:00:00Z",
    )
    .await;
    let plan = FixPlan {
        plan: "upgrade".into(),
        change_link: "https://git.example/pr/7".into(),
        target_date: None,
    };
    run(
        app,
        id,
        "owner",
        Command::PlanFix(plan),
        "2026-01-02T01:00:00Z",
    )
    .await;
    let evidence = Evidence {
        link: "https://git.example/pr/7".into(),
        rescan_result: "clean".into(),
    };
    run(
        app,
        id,
        "dev",
        Command::MarkFixed(evidence),
        "2026-01-03T00:00:00Z",
    )
    .await;
    run(
        app,
        id,
        "lead",
        Command::Vote {
            approve: true,
            reason: None,
        },
        "2026-01-03T12:00:00Z",
    )
    .await;
}

async fn ingest(
    app: &App,
    items: Vec<remedybot::domain::NewFinding>,
    at: &str,
) -> remedybot::app::IngestOutcome {
    app.ingest(
        items,
        &Actor::new("api", "ingest-token", "ingest API"),
        Source::Api,
        ts(at),
    )
    .await
    .expect("ingest")
}

#[tokio::test]
async fn ingest_creates_then_resending_changes_only_last_seen() {
    for db in TestDb::all().await {
        let app = db.app().await;
        let batch: Vec<_> = (0..25).map(|i| finding(i, Severity::High)).collect();
        let first = ingest(&app, batch.clone(), "2026-01-01T00:00:00Z").await;
        assert_eq!((first.created, first.unchanged), (25, 0), "{}", db.backend);
        let before = app
            .store
            .finding(first.findings[3].id)
            .await
            .unwrap()
            .unwrap();

        let again = ingest(&app, batch, "2026-01-02T00:00:00Z").await;
        assert_eq!(
            (again.created, again.unchanged, again.updated),
            (0, 25, 0),
            "{}",
            db.backend
        );
        let after = app
            .store
            .finding(first.findings[3].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(after.state, before.state, "{}", db.backend);
        assert_eq!(after.times_seen, 2);
        assert_eq!(after.last_seen, ts("2026-01-02T00:00:00Z"));
        assert_eq!(
            app.store.trail(after.id).await.unwrap().len(),
            1,
            "no event for an unchanged sighting"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn repeats_within_a_batch_are_one_finding_and_changes_are_recorded() {
    for db in TestDb::all().await {
        let app = db.app().await;
        let mut a = finding(1, Severity::Low);
        let mut b = a.clone();
        b.title = "second copy wins".into();
        let out = ingest(&app, vec![a.clone(), b], "2026-01-01T00:00:00Z").await;
        assert_eq!((out.received, out.created, out.findings.len()), (2, 1, 1));
        let id = out.findings[0].id;
        assert_eq!(
            app.store.finding(id).await.unwrap().unwrap().state.title,
            "second copy wins"
        );

        a.severity = Severity::Critical;
        let out = ingest(&app, vec![a], "2026-01-01T06:00:00Z").await;
        assert_eq!(out.findings[0].outcome, Outcome::Updated);
        let f = app.store.finding(id).await.unwrap().unwrap();
        assert_eq!(f.state.severity, Severity::Critical);
        assert_eq!(
            f.state.remediate_due,
            ts("2026-01-08T00:00:00Z"),
            "due date follows the new severity"
        );
        let kinds: Vec<String> = app
            .store
            .trail(id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, ["created", "updated"]);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_full_workflow_replays_to_exactly_the_stored_projection() {
    for db in TestDb::all().await {
        let app = db.app().await;
        let out = ingest(
            &app,
            vec![finding(1, Severity::High), finding(2, Severity::Medium)],
            "2026-01-01T00:00:00Z",
        )
        .await;
        let id = out.findings[0].id;
        close_as_fixed(&app, id).await;
        // The closed finding is detected again: a regression.
        let again = ingest(
            &app,
            vec![finding(1, Severity::High)],
            "2026-02-01T00:00:00Z",
        )
        .await;
        assert_eq!(again.findings[0].outcome, Outcome::Reopened);

        for item in out.findings {
            let stored = app.store.finding(item.id).await.unwrap().unwrap();
            let events: Vec<_> = app
                .store
                .trail(item.id)
                .await
                .unwrap()
                .iter()
                .map(|e| e.to_event().unwrap())
                .collect();
            let replayed = FindingState::replay(&events).unwrap();
            assert_eq!(replayed, stored.state, "{} {}", db.backend, item.id);
        }
        let f = app.store.finding(id).await.unwrap().unwrap();
        assert_eq!((f.state.stage, f.state.regressions), (Stage::Triage, 1));
        assert!(app.store.verify_chain(None).await.unwrap().is_intact());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn replay_matches_the_projection_with_real_clock_times() {
    for db in TestDb::all().await {
        let app = db.app().await;
        let now = chrono::Utc::now() + Duration::nanoseconds(123_456);
        let out = app
            .ingest(
                vec![finding(1, Severity::High)],
                &Actor::system(),
                Source::Api,
                now,
            )
            .await
            .unwrap();
        let id = out.findings[0].id;
        app.execute(
            id,
            &Command::Acknowledge,
            &user("owner"),
            Source::Slack,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        let stored = app.store.finding(id).await.unwrap().unwrap();
        let events: Vec<_> = app
            .store
            .trail(id)
            .await
            .unwrap()
            .iter()
            .map(|e| e.to_event().unwrap())
            .collect();
        assert_eq!(
            FindingState::replay(&events).unwrap(),
            stored.state,
            "{}",
            db.backend
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_refused_command_changes_nothing_and_says_why() {
    for db in TestDb::all().await {
        let mut settings = db.settings();
        settings
            .policy
            .groups
            .insert("security-approvers".into(), vec!["slack:lead".into()]);
        settings
            .policy
            .approvals
            .get_mut(&DecisionKind::FalsePositive)
            .unwrap()
            .groups = vec!["security-approvers".into()];
        let app = db.app_with(settings).await;
        let id = ingest(
            &app,
            vec![finding(1, Severity::Medium)],
            "2026-01-01T00:00:00Z",
        )
        .await
        .findings[0]
            .id;
        let propose = Command::Propose(Proposal {
            kind: DecisionKind::FalsePositive,
            reason: "test data".into(),
            duplicate_of: None,
            until: None,
            compensating_controls: String::new(),
        });
        run(
            &app,
            id,
            "owner",
            Command::Acknowledge,
            "2026-01-01T01:00:00Z",
        )
        .await;
        run(&app, id, "owner", propose, "2026-01-01T02:00:00Z").await;
        let before = app.store.trail(id).await.unwrap().len();
        let err = app
            .execute(
                id,
                &Command::Vote {
                    approve: true,
                    reason: None,
                },
                &user("mallory"),
                Source::Slack,
                ts("2026-01-01T03:00:00Z"),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "only members of security-approvers can approve; you are not one"
        );
        assert_eq!(app.store.trail(id).await.unwrap().len(), before);
        run(
            &app,
            id,
            "lead",
            Command::Vote {
                approve: true,
                reason: None,
            },
            "2026-01-01T04:00:00Z",
        )
        .await;
        assert_eq!(
            app.store.finding(id).await.unwrap().unwrap().state.stage,
            Stage::Closed
        );
        let missing = app
            .execute(
                FindingId::from_key(999),
                &Command::Acknowledge,
                &user("x"),
                Source::Cli,
                ts("2026-01-01T00:00:00Z"),
            )
            .await;
        assert!(matches!(missing, Err(AppError::NotFound(_))));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_duplicate_must_name_another_existing_finding() {
    for db in TestDb::all().await {
        let app = db.app().await;
        let out = ingest(
            &app,
            vec![finding(1, Severity::Low), finding(2, Severity::Low)],
            "2026-01-01T00:00:00Z",
        )
        .await;
        let (a, b) = (out.findings[0].id, out.findings[1].id);
        run(
            &app,
            b,
            "owner",
            Command::Acknowledge,
            "2026-01-01T01:00:00Z",
        )
        .await;
        let dup = |of: &str| {
            Command::Propose(Proposal {
                kind: DecisionKind::Duplicate,
                reason: String::new(),
                duplicate_of: Some(of.into()),
                until: None,
                compensating_controls: String::new(),
            })
        };
        for (of, message) in [
            ("F-99", "F-99 does not exist"),
            (&b.to_string()[..], "a finding cannot duplicate itself"),
            (
                "banana",
                "`banana` is not a finding id; ids look like F-1042",
            ),
        ] {
            let err = app
                .execute(
                    b,
                    &dup(of),
                    &user("owner"),
                    Source::Cli,
                    ts("2026-01-01T02:00:00Z"),
                )
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), message, "{}", db.backend);
        }
        let lower = format!("f-{}", a.key());
        run(&app, b, "owner", dup(&lower), "2026-01-01T03:00:00Z").await;
        run(
            &app,
            b,
            "lead",
            Command::Vote {
                approve: true,
                reason: None,
            },
            "2026-01-01T04:00:00Z",
        )
        .await;
        let closed = app.store.finding(b).await.unwrap().unwrap();
        assert_eq!(
            closed.state.duplicate_of,
            Some(a.to_string()),
            "stored in canonical form"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn concurrent_votes_count_each_person_once_and_reach_quorum_once() {
    for db in TestDb::all().await {
        let mut settings = db.settings();
        settings
            .policy
            .approvals
            .get_mut(&DecisionKind::Fixed)
            .unwrap()
            .quorum = 2;
        let app = db.app_with(settings).await;
        let id = ingest(
            &app,
            vec![finding(1, Severity::Low)],
            "2026-01-01T00:00:00Z",
        )
        .await
        .findings[0]
            .id;
        run(
            &app,
            id,
            "owner",
            Command::Acknowledge,
            "2026-01-01T01:00:00Z",
        )
        .await;
        let confirm = Command::Triage {
            answers: TriageAnswers::default(),
            severity: None,
            proposal: None,
        };
        run(&app, id, "owner", confirm, "2026-01-01T02:00:00Z").await;
        let evidence = Evidence {
            link: "https://x".into(),
            rescan_result: String::new(),
        };
        run(
            &app,
            id,
            "dev",
            Command::MarkFixed(evidence),
            "2026-01-01T03:00:00Z",
        )
        .await;

        // Five people click twice each, all at once.
        let mut tasks = Vec::new();
        for voter in ["a", "b", "c", "d", "e", "a", "b", "c", "d", "e"] {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                app.execute(
                    id,
                    &Command::Vote {
                        approve: true,
                        reason: None,
                    },
                    &user(voter),
                    Source::Slack,
                    ts("2026-01-01T04:00:00Z"),
                )
                .await
            }));
        }
        let mut accepted = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => accepted += 1,
                Err(AppError::Refused(Refusal::AlreadyVoted | Refusal::NoPendingRequest)) => {}
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!(
            accepted, 2,
            "{}: exactly the quorum of votes is recorded",
            db.backend
        );
        let kinds: Vec<String> = app
            .store
            .trail(id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds.iter().filter(|k| *k == "vote_cast").count(), 2);
        assert_eq!(kinds.iter().filter(|k| *k == "closed").count(), 1);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn concurrent_writers_keep_one_unbroken_chain() {
    for db in TestDb::all().await {
        // Two apps with their own pools act as two replicas: only the database's own
        // locking keeps their appends in one chain.
        let replicas = [db.app().await, db.app().await];
        let app = replicas[0].clone();
        let mut tasks = Vec::new();
        for w in 0..8usize {
            let app = replicas[w % 2].clone();
            tasks.push(tokio::spawn(async move {
                for round in 0..10usize {
                    let items = (0..5)
                        .map(|i| finding(w * 1000 + round * 10 + i, Severity::Medium))
                        .collect();
                    let out = app
                        .ingest(
                            items,
                            &Actor::system(),
                            Source::Api,
                            ts("2026-01-01T00:00:00Z"),
                        )
                        .await
                        .expect("ingest");
                    let id = out.findings[0].id;
                    app.execute(
                        id,
                        &Command::Acknowledge,
                        &Actor::system(),
                        Source::System,
                        ts("2026-01-01T01:00:00Z"),
                    )
                    .await
                    .expect("ack");
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let report = app.store.verify_chain(None).await.unwrap();
        assert!(report.is_intact(), "{}: {}", db.backend, report.describe());
        assert_eq!(report.events_checked, 8 * 10 * (5 + 1), "{}", db.backend);
        assert_eq!(report.head_seq, report.events_checked);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_failing_batch_stores_nothing() {
    for db in TestDb::all().await {
        let app = db.app().await;
        ingest(
            &app,
            vec![finding(1, Severity::Low)],
            "2026-01-01T00:00:00Z",
        )
        .await;
        // Make the database reject one event of the next batch, after others were written.
        poison_events(&db).await;
        let mut items: Vec<_> = (10..20).map(|i| finding(i, Severity::High)).collect();
        items[7].title = "POISON".into();
        let err = app
            .ingest(
                items,
                &Actor::system(),
                Source::Api,
                ts("2026-01-02T00:00:00Z"),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("poisoned"), "{err}");
        let all = app
            .store
            .list_findings(&FindingFilter::default())
            .await
            .unwrap();
        assert_eq!(
            all.len(),
            1,
            "{}: nothing from the failed batch was stored",
            db.backend
        );
        let report = app.store.verify_chain(None).await.unwrap();
        assert!(report.is_intact());
        assert_eq!(report.head_seq, 1);
        db.cleanup().await;
    }
}

/// Make the database refuse any event whose payload mentions POISON.
async fn poison_events(db: &TestDb) {
    let raw = db.raw().await;
    let trigger = match db.backend {
        "sqlite" => vec![
            "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.payload LIKE '%POISON%' \
             BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
                .to_string(),
        ],
        _ => vec![
            "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN \
             IF NEW.payload LIKE '%POISON%' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                .to_string(),
            "CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison()".to_string(),
        ],
    };
    for sql in trigger {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(raw_pool(&raw))
            .await
            .unwrap();
    }
}

fn raw_pool(store: &remedybot::store::Store) -> &sqlx::AnyPool {
    store.pool_for_tests()
}

#[tokio::test]
async fn expired_risk_acceptances_reopen() {
    for db in TestDb::all().await {
        let app = db.app().await;
        let id = ingest_one(&app, Severity::High).await;
        run(
            &app,
            id,
            "owner",
            Command::Acknowledge,
            "2026-01-01T01:00:00Z",
        )
        .await;
        let accept = Command::Propose(Proposal {
            kind: DecisionKind::AcceptRisk,
            reason: "vendor patch pending".into(),
            duplicate_of: None,
            until: Some(ts("2026-02-01T00:00:00Z")),
            compensating_controls: "WAF rule".into(),
        });
        run(&app, id, "owner", accept, "2026-01-01T02:00:00Z").await;
        run(
            &app,
            id,
            "ciso",
            Command::Vote {
                approve: true,
                reason: None,
            },
            "2026-01-01T03:00:00Z",
        )
        .await;
        assert!(
            app.expire_acceptances(ts("2026-01-31T00:00:00Z"))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            app.expire_acceptances(ts("2026-02-01T00:00:01Z"))
                .await
                .unwrap(),
            vec![id]
        );
        let f = app.store.finding(id).await.unwrap().unwrap();
        assert_eq!(f.state.stage, Stage::Triage);
        assert_eq!(
            f.state.triage_due,
            ts("2026-02-01T00:00:01Z") + Duration::hours(72)
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn listing_filters_and_the_summary_agree_with_the_data() {
    for db in TestDb::all().await {
        let app = db.app().await;
        let items = vec![
            finding(1, Severity::Critical),
            finding(2, Severity::High),
            finding(3, Severity::Low),
        ];
        let out = ingest(&app, items, "2026-01-01T00:00:00Z").await;
        close_as_fixed(&app, out.findings[1].id).await;
        let now = ts("2026-01-20T00:00:00Z");
        let overdue = app
            .store
            .list_findings(&FindingFilter {
                overdue_at: Some(now),
                ..Default::default()
            })
            .await
            .unwrap();
        // The critical one is past 7 days, the low one past its 14-day triage deadline.
        let ids: Vec<_> = overdue.iter().map(|f| f.id).collect();
        assert_eq!(
            ids,
            vec![out.findings[0].id, out.findings[2].id],
            "{}",
            db.backend
        );
        let crit = app
            .store
            .list_findings(&FindingFilter {
                severity: Some(Severity::Critical),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(crit.len(), 1);
        let closed = app
            .store
            .list_findings(&FindingFilter {
                stage: Some(Stage::Closed),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(closed[0].id, out.findings[1].id);

        let s = app.store.summary(now).await.unwrap();
        assert_eq!(s.total, 3);
        assert_eq!(s.overdue, 2);
        assert_eq!(s.closed_fixed, 1);
        // Opened 2026-01-01T00:00, closed 2026-01-03T12:00.
        assert_eq!(s.median_hours_to_remediate, Some(60.0));
        assert_eq!(
            (s.open_by_severity[0].severity, s.open_by_severity[0].count),
            (Severity::Critical, 1)
        );
        assert_eq!(
            (s.open_by_severity[1].severity, s.open_by_severity[1].count),
            (Severity::High, 0)
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn long_listings_page_through_every_row_in_order() {
    for db in TestDb::all().await {
        let app = db.app().await;
        let severities = [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ];
        // Two batches a day apart, so deadlines differ and tie within a batch.
        let first: Vec<_> = (0..6_000).map(|i| finding(i, severities[i % 5])).collect();
        let second: Vec<_> = (6_000..11_000)
            .map(|i| finding(i, severities[i % 5]))
            .collect();
        ingest(&app, first, "2025-01-01T00:00:00Z").await;
        ingest(&app, second, "2025-01-02T00:00:00Z").await;

        let all = app
            .store
            .list_findings(&FindingFilter::default())
            .await
            .unwrap();
        assert_eq!(all.len(), 11_000, "{}", db.backend);
        let ranks: Vec<Severity> = all.iter().map(|f| f.severity.parse().unwrap()).collect();
        assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "worst first");
        let ids: std::collections::BTreeSet<_> = all.iter().map(|f| f.id).collect();
        assert_eq!(ids.len(), 11_000, "no row twice");

        let overdue = app
            .store
            .list_findings(&FindingFilter {
                overdue_at: Some(ts("2026-01-01T00:00:00Z")),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(overdue.len(), 11_000);
        assert!(
            overdue
                .windows(2)
                .all(|w| (w[0].due_at, w[0].id) < (w[1].due_at, w[1].id)),
            "soonest due first"
        );

        let page = app
            .store
            .list_findings(&FindingFilter {
                limit: Some(6_000),
                offset: 4_000,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(page.len(), 6_000);
        assert_eq!(page[0].id, all[4_000].id);
        assert_eq!(page[5_999].id, all[9_999].id);
        db.cleanup().await;
    }
}

async fn full_scan(
    app: &App,
    items: Vec<remedybot::domain::NewFinding>,
    scope: &[(&str, &str)],
    at: &str,
) -> Vec<FindingId> {
    let options = IngestOptions {
        full_scan: true,
        scope: scope
            .iter()
            .map(|(s, a)| (s.to_string(), a.to_string()))
            .collect(),
        ..IngestOptions::default()
    };
    app.ingest_with(
        items,
        &options,
        &Actor::new("api", "ci", "CI"),
        Source::Api,
        ts(at),
    )
    .await
    .expect("full scan")
    .not_seen
}

#[tokio::test]
async fn a_full_scan_records_what_it_no_longer_reports_once_as_evidence() {
    for db in TestDb::all().await {
        let app = db.app().await;
        // 0, 5 and 10 are on service-0; 1 is on service-1.
        let out = ingest(
            &app,
            [0, 5, 10, 1].map(|i| finding(i, Severity::High)).to_vec(),
            "2026-01-01T00:00:00Z",
        )
        .await;
        let [f0, _f5, f10, f1] = [0, 1, 2, 3].map(|i| out.findings[i].id);

        let gone = full_scan(
            &app,
            vec![finding(0, Severity::High), finding(5, Severity::High)],
            &[],
            "2026-01-02T00:00:00Z",
        )
        .await;
        assert_eq!(
            gone,
            vec![f10],
            "{}: only service-0 was scanned",
            db.backend
        );
        let f = app.store.finding(f10).await.unwrap().unwrap();
        assert_eq!(f.state.stage, Stage::New, "evidence, never a closure");
        assert!(
            f.state.evidence[0]
                .rescan_result
                .starts_with("not seen in the latest full scan by semgrep of service-0")
        );
        assert_eq!(
            app.store.trail(f10).await.unwrap().last().unwrap().kind,
            "evidence_recorded"
        );

        // Still absent: recorded once, not on every scan.
        let again = full_scan(
            &app,
            vec![finding(0, Severity::High), finding(5, Severity::High)],
            &[],
            "2026-01-03T00:00:00Z",
        )
        .await;
        assert!(again.is_empty());
        // Seen again, then gone again: recorded again.
        full_scan(
            &app,
            [0, 5, 10].map(|i| finding(i, Severity::High)).to_vec(),
            &[],
            "2026-01-04T00:00:00Z",
        )
        .await;
        let gone = full_scan(
            &app,
            vec![finding(0, Severity::High)],
            &[],
            "2026-01-05T00:00:00Z",
        )
        .await;
        assert_eq!(gone.len(), 2, "5 and 10");
        assert!(!gone.contains(&f0));

        // A clean scan of service-1 names its scope explicitly.
        let gone = full_scan(
            &app,
            vec![],
            &[("semgrep", "service-1")],
            "2026-01-06T00:00:00Z",
        )
        .await;
        assert_eq!(gone, vec![f1]);
        // A plain ingest never records absence.
        let plain = ingest(&app, vec![], "2026-01-07T00:00:00Z").await;
        assert!(plain.not_seen.is_empty());
        assert!(app.store.verify_chain(None).await.unwrap().is_intact());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn what_a_full_scan_records_is_configurable() {
    for (policy, kind) in [
        (MissingPolicy::Comment, Some("commented")),
        (MissingPolicy::Ignore, None),
    ] {
        let db = TestDb::sqlite();
        let mut settings = db.settings();
        settings.missing_in_full_scan = policy;
        let app = db.app_with(settings).await;
        let out = ingest(
            &app,
            vec![finding(0, Severity::Low), finding(5, Severity::Low)],
            "2026-01-01T00:00:00Z",
        )
        .await;
        let gone = full_scan(
            &app,
            vec![finding(0, Severity::Low)],
            &[],
            "2026-01-02T00:00:00Z",
        )
        .await;
        let trail = app.store.trail(out.findings[1].id).await.unwrap();
        match kind {
            Some(k) => {
                assert_eq!(gone, vec![out.findings[1].id]);
                assert_eq!(trail.last().unwrap().kind, k);
                assert!(
                    app.store
                        .finding(out.findings[1].id)
                        .await
                        .unwrap()
                        .unwrap()
                        .state
                        .evidence
                        .is_empty()
                );
            }
            None => {
                assert!(gone.is_empty());
                assert_eq!(trail.len(), 1);
            }
        }
    }
}

#[tokio::test]
async fn suppression_rules_accept_until_expiry_or_only_note_in_monitor_mode() {
    let config = r#"
[[suppressions]]
name = "generated-code"
owner = "slack:ULEAD"
reason = "generated protobuf code, regenerated upstream"
expires = "2026-03-31"
rule = ["rule-1"]

[[suppressions]]
name = "info-noise"
owner = "security-team"
reason = "trying out"
expires = "2026-12-31"
mode = "monitor"
severity = ["info"]

[[suppressions]]
name = "old"
owner = "x"
reason = "long gone"
expires = "2025-01-01"
severity = ["low"]
"#;
    for db in TestDb::all().await {
        let mut settings =
            remedybot::config::Settings::from_toml(config, std::path::Path::new("t.toml")).unwrap();
        settings.database = db.settings().database;
        let app = db.app_with(settings).await;
        let sev = [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ];
        let out = ingest(
            &app,
            (0..5).map(|i| finding(i, sev[i])).collect(),
            "2026-01-01T00:00:00Z",
        )
        .await;
        let ids: Vec<FindingId> = out.findings.iter().map(|f| f.id).collect();

        // finding 1 has rule-1: suppressed until the day after `expires`.
        let f = app.store.finding(ids[1]).await.unwrap().unwrap();
        assert_eq!(f.state.stage, Stage::Accepted, "{}", db.backend);
        assert_eq!(f.state.accepted_until, Some(ts("2026-04-01T00:00:00Z")));
        let trail = app.store.trail(ids[1]).await.unwrap();
        assert_eq!(
            trail.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
            ["created", "suppressed"]
        );
        assert_eq!(
            trail[1].actor.reference(),
            "config:suppressions/generated-code"
        );
        assert!(trail[1].payload.contains("generated protobuf code"));

        // finding 4 is info: monitor mode only notes it.
        let f = app.store.finding(ids[4]).await.unwrap().unwrap();
        assert_eq!(f.state.stage, Stage::New);
        let trail = app.store.trail(ids[4]).await.unwrap();
        assert_eq!(trail.last().unwrap().kind, "commented");
        assert!(
            trail
                .last()
                .unwrap()
                .payload
                .contains("would have suppressed")
        );

        // finding 3 is low, but its rule expired: untouched.
        assert_eq!(app.store.trail(ids[3]).await.unwrap().len(), 1);

        // On expiry the suppressed finding reopens.
        assert_eq!(
            app.expire_acceptances(ts("2026-04-01T00:00:01Z"))
                .await
                .unwrap(),
            vec![ids[1]]
        );
        assert_eq!(
            app.store
                .finding(ids[1])
                .await
                .unwrap()
                .unwrap()
                .state
                .stage,
            Stage::Triage
        );
        assert!(app.store.verify_chain(None).await.unwrap().is_intact());
        db.cleanup().await;
    }
}

#[test]
fn suppressions_need_an_owner_a_reason_an_expiry_and_a_condition() {
    let parse = |text: &str| {
        remedybot::config::Settings::from_toml(text, std::path::Path::new("t.toml")).map(|_| ())
    };
    let base =
        "[[suppressions]]\nname = \"s\"\nowner = \"o\"\nreason = \"r\"\nexpires = \"2027-01-01\"\n";
    assert!(parse(&format!("{base}rule = [\"x\"]\n")).is_ok());
    let err = parse(base).unwrap_err().to_string();
    assert!(err.contains("would suppress every finding"), "{err}");
    let err = parse(
        &base
            .replace("expires = \"2027-01-01\"\n", "")
            .replace("name", "rule = [\"x\"]\nname"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("expires"), "{err}");
    let err = parse(&format!(
        "{}rule = [\"x\"]\n",
        base.replace("reason = \"r\"", "reason = \" \"")
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("suppressions[0].reason"), "{err}");
}

/// Tampering with the stored trail, directly in the database, is detected by `verify`,
/// which names the first bad event.
mod tamper {
    use super::*;

    async fn seeded(db: &TestDb) -> App {
        let app = db.app().await;
        let out = ingest(
            &app,
            (0..5).map(|i| finding(i, Severity::High)).collect(),
            "2026-01-01T00:00:00Z",
        )
        .await;
        close_as_fixed(&app, out.findings[0].id).await;
        // 5 created + 8 workflow events = 13
        assert!(app.store.verify_chain(None).await.unwrap().is_intact());
        app
    }

    async fn tamper_and_verify(sql: &[&str]) -> Vec<(String, Option<TamperKind>)> {
        let mut results = Vec::new();
        for db in TestDb::all().await {
            let app = seeded(&db).await;
            for s in sql {
                sqlx::query(sqlx::AssertSqlSafe(s.to_string()))
                    .execute(app.store.pool_for_tests())
                    .await
                    .unwrap_or_else(|e| panic!("{s}: {e}"));
            }
            let report = app.store.verify_chain(None).await.unwrap();
            results.push((db.backend.to_string(), report.problem.clone()));
            db.cleanup().await;
        }
        results
    }

    #[tokio::test]
    async fn an_edited_payload_is_named() {
        for (backend, problem) in tamper_and_verify(&[
            "UPDATE events SET payload = REPLACE(payload, 'internal only', 'public') WHERE seq = 7",
        ])
        .await
        {
            assert_eq!(
                problem,
                Some(TamperKind::HashMismatch { seq: 7 }),
                "{backend}"
            );
        }
    }

    #[tokio::test]
    async fn an_edited_actor_is_named() {
        for (backend, problem) in
            tamper_and_verify(&["UPDATE events SET actor_id = 'someone-else' WHERE seq = 13"]).await
        {
            assert_eq!(
                problem,
                Some(TamperKind::HashMismatch { seq: 13 }),
                "{backend}"
            );
        }
    }

    #[tokio::test]
    async fn a_deleted_event_is_named() {
        for (backend, problem) in tamper_and_verify(&["DELETE FROM events WHERE seq = 9"]).await {
            assert_eq!(
                problem,
                Some(TamperKind::Gap {
                    expected: 9,
                    found: 10
                }),
                "{backend}"
            );
        }
    }

    #[tokio::test]
    async fn deleting_the_newest_event_is_detected() {
        for (backend, problem) in tamper_and_verify(&["DELETE FROM events WHERE seq = 13"]).await {
            assert_eq!(
                problem,
                Some(TamperKind::HeadMismatch {
                    head_seq: 13,
                    last_seq: 12
                }),
                "{backend}"
            );
        }
    }

    #[tokio::test]
    async fn an_inserted_event_is_named() {
        // Shift the tail up by one and forge an event into the gap, copying a real row.
        for (backend, problem) in tamper_and_verify(&[
            "UPDATE events SET seq = seq + 100 WHERE seq >= 10",
            "UPDATE events SET seq = seq - 99 WHERE seq >= 110",
            "INSERT INTO events (seq, finding_key, kind, actor_platform, actor_id, actor_name, source, payload, at, hash) \
             SELECT 10, finding_key, kind, actor_platform, 'forger', actor_name, source, payload, at, hash FROM events WHERE seq = 9",
        ])
        .await
        {
            assert_eq!(problem, Some(TamperKind::HashMismatch { seq: 10 }), "{backend}");
        }
    }

    #[tokio::test]
    async fn reordered_events_are_named() {
        for (backend, problem) in tamper_and_verify(&[
            "UPDATE events SET seq = 1000 WHERE seq = 7",
            "UPDATE events SET seq = 7 WHERE seq = 8",
            "UPDATE events SET seq = 8 WHERE seq = 1000",
        ])
        .await
        {
            assert_eq!(
                problem,
                Some(TamperKind::HashMismatch { seq: 7 }),
                "{backend}"
            );
        }
    }
}

/// Commands that arrive together are committed together (group commit): each caller still
/// gets exactly its own outcome, refusals write nothing, and the trail replays to the
/// stored state with an intact chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_commands_on_many_findings_each_get_their_own_outcome() {
    for db in TestDb::all().await {
        let app = db.app().await;
        let items = (0..20).map(|i| finding(i, Severity::Medium)).collect();
        let out = ingest(&app, items, "2026-01-01T00:00:00Z").await;
        let ids: Vec<FindingId> = out.findings.iter().map(|f| f.id).collect();

        // Each finding: three people acknowledge at once (one wins), and a comment each.
        let mut tasks = Vec::new();
        for (n, id) in ids.iter().copied().enumerate() {
            for who in ["a", "b", "c"] {
                let app = app.clone();
                tasks.push(tokio::spawn(async move {
                    let ack = app
                        .execute(
                            id,
                            &Command::Acknowledge,
                            &user(who),
                            Source::Slack,
                            ts("2026-01-01T01:00:00Z"),
                        )
                        .await;
                    let comment = Command::Comment {
                        text: format!("{who} looked at finding {n}"),
                        link: None,
                    };
                    let commented = app
                        .execute(
                            id,
                            &comment,
                            &user(who),
                            Source::Slack,
                            ts("2026-01-01T01:00:01Z"),
                        )
                        .await;
                    (id, who, ack, commented)
                }));
            }
        }
        let mut acked: std::collections::HashMap<FindingId, Vec<&str>> = Default::default();
        for t in tasks {
            let (id, who, ack, commented) = t.await.unwrap();
            let c = commented.unwrap_or_else(|e| panic!("{}: comment refused: {e}", db.backend));
            assert_eq!(c.id, id, "{}: the outcome is the caller's own", db.backend);
            match ack {
                Ok(o) => {
                    assert_eq!((o.id, o.state.stage), (id, Stage::Triage));
                    acked.entry(id).or_default().push(who);
                }
                Err(AppError::Refused(_)) => {}
                Err(e) => panic!("{}: unexpected error: {e}", db.backend),
            }
        }
        for id in &ids {
            assert_eq!(
                acked[id].len(),
                1,
                "{}: one acknowledgement wins",
                db.backend
            );
            let trail = app.store.trail(*id).await.unwrap();
            let count = |k: &str| trail.iter().filter(|e| e.kind == k).count();
            assert_eq!(count("acknowledged"), 1, "{} {id}", db.backend);
            assert_eq!(count("commented"), 3, "{} {id}", db.backend);
            let events: Vec<_> = trail.iter().map(|e| e.to_event().unwrap()).collect();
            let stored = app.store.finding(*id).await.unwrap().unwrap();
            assert_eq!(FindingState::replay(&events).unwrap(), stored.state);
        }
        let report = app.store.verify_chain(None).await.unwrap();
        assert!(report.is_intact(), "{}: {}", db.backend, report.describe());
        db.cleanup().await;
    }
}

/// A command the database refuses fails alone: commands committed in the same batch are
/// retried on their own and succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_command_does_not_fail_the_commands_batched_with_it() {
    for db in TestDb::all().await {
        let app = db.app().await;
        let id = ingest_one(&app, Severity::Low).await;
        poison_events(&db).await;
        let mut tasks = Vec::new();
        for n in 0..30 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let text = if n % 6 == 0 {
                    format!("POISON {n}")
                } else {
                    format!("note {n}")
                };
                let comment = Command::Comment { text, link: None };
                let who = format!("u{n}");
                (
                    n,
                    app.execute(
                        id,
                        &comment,
                        &user(&who),
                        Source::Slack,
                        ts("2026-01-01T01:00:00Z"),
                    )
                    .await,
                )
            }));
        }
        for t in tasks {
            let (n, outcome) = t.await.unwrap();
            match (n % 6 == 0, outcome) {
                (true, Err(AppError::Store(e))) => {
                    assert!(e.to_string().contains("poisoned"), "{e}")
                }
                (false, Ok(o)) => assert_eq!(o.changes.len(), 1),
                (poisoned, other) => panic!(
                    "{}: comment {n} (poisoned: {poisoned}): {other:?}",
                    db.backend
                ),
            }
        }
        let trail = app.store.trail(id).await.unwrap();
        assert_eq!(
            trail.iter().filter(|e| e.kind == "commented").count(),
            25,
            "{}",
            db.backend
        );
        assert!(app.store.verify_chain(None).await.unwrap().is_intact());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn prompt_drafts_are_kept_per_user_replaced_deleted_and_expire_after_a_day() {
    for db in TestDb::all().await {
        let app = db.app().await;
        let id = ingest(
            &app,
            vec![finding(1, Severity::High)],
            "2026-01-01T00:00:00Z",
        )
        .await
        .findings[0]
            .id;
        let key = |user| remedybot::store::DraftKey {
            platform: "discord",
            user_id: user,
            finding: id,
            prompt: "triage",
        };
        let answers = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        let t0 = ts("2026-01-02T00:00:00Z");
        let first = answers(&[("real", "yes"), ("severity", "high")]);
        app.store.save_draft(key("1"), &first, t0).await.unwrap();
        assert_eq!(app.store.draft(key("1"), t0).await.unwrap(), Some(first));
        assert_eq!(
            app.store.draft(key("2"), t0).await.unwrap(),
            None,
            "per user"
        );

        let second = answers(&[("real", "no"), ("reason", "test data")]);
        app.store.save_draft(key("1"), &second, t0).await.unwrap();
        let later = t0 + Duration::hours(23);
        assert_eq!(
            app.store.draft(key("1"), later).await.unwrap(),
            Some(second.clone()),
            "replaced, and kept for a day"
        );
        assert_eq!(
            app.store
                .draft(key("1"), t0 + Duration::hours(25))
                .await
                .unwrap(),
            None,
            "stale"
        );
        // A later save by anyone prunes the stale rows.
        app.store
            .save_draft(key("2"), &second, t0 + Duration::hours(25))
            .await
            .unwrap();
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM prompt_drafts")
            .fetch_one(app.store.pool_for_tests())
            .await
            .unwrap();
        assert_eq!(rows, 1, "{}", db.backend);
        app.store.delete_draft(key("2")).await.unwrap();
        assert_eq!(
            app.store
                .draft(key("2"), t0 + Duration::hours(25))
                .await
                .unwrap(),
            None
        );
        db.cleanup().await;
    }
}
