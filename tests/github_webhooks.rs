//! GitHub security-alert webhooks through the real route, signed like GitHub signs them,
//! with the payloads from the corpus (octokit/webhooks) and the docs' signature vector.

mod common;

use chrono::Utc;
use common::{TestDb, TestServer, ts};
use hmac::{Hmac, Mac};
use remedybot::config::Secret;
use remedybot::domain::{
    Actor, Command, Evidence, FindingId, FixPlan, RcaAnswers, Source, Stage, TriageAnswers,
};
use serde_json::Value;
use sha2::Sha256;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/findings/github_webhooks"
);
const SECRET: &str = "webhook-secret-for-tests";

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(format!("{CORPUS}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn server(secret: Option<&str>) -> (TestServer, TestDb) {
    let db = TestDb::sqlite();
    let mut settings = db.settings();
    settings.github_webhook_secret = secret.map(Secret::new);
    (TestServer::start(db.app_with(settings).await).await, db)
}

async fn deliver(server: &TestServer, event: &str, body: Vec<u8>) -> (u16, Value) {
    let signature = sign(SECRET, &body);
    let resp = server
        .http
        .post(server.url("/api/v1/webhooks/github"))
        .header("x-github-event", event)
        .header("x-hub-signature-256", signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_docs_signature_vector_verifies_through_the_route() {
    let vector: Value =
        serde_json::from_slice(&corpus("github_docs_webhook_signature_vector.json")).unwrap();
    let secret = vector["secret"].as_str().unwrap();
    let (server, _db) = server(Some(secret)).await;
    let post = |signature: String| {
        server
            .http
            .post(server.url("/api/v1/webhooks/github"))
            .header("x-github-event", "ping")
            .header("x-hub-signature-256", signature)
            .body(vector["payload"].as_str().unwrap().to_string())
            .send()
    };
    // The signature is accepted; the body ("Hello, World!") is then not a ping payload.
    let ok = post(vector["x_hub_signature_256"].as_str().unwrap().to_string())
        .await
        .unwrap();
    assert_eq!(ok.status(), 400);
    let bad = post(
        vector["x_hub_signature_256"]
            .as_str()
            .unwrap()
            .replace('7', "8"),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 401);
    server.stop().await;
}

#[tokio::test]
async fn unsigned_or_badly_signed_deliveries_get_401_and_change_nothing() {
    let (server, _db) = server(Some(SECRET)).await;
    let body = corpus("octokit_code_scanning_alert_created.json");
    let url = server.url("/api/v1/webhooks/github");
    let unsigned = server
        .http
        .post(&url)
        .header("x-github-event", "code_scanning_alert")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let wrong = server
        .http
        .post(&url)
        .header("x-github-event", "code_scanning_alert")
        .header("x-hub-signature-256", sign("another secret", &body))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let text = wrong.text().await.unwrap();
    assert!(text.contains("invalid X-Hub-Signature-256"), "{text}");
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    let resp = server
        .http
        .post(&url)
        .header("x-github-event", "code_scanning_alert")
        .header("x-hub-signature-256", sign(SECRET, &body))
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(server.app.store.summary(Utc::now()).await.unwrap().total, 0);
    server.stop().await;

    let (closed, _db) = server_without_secret().await;
    let (status, _) = deliver(&closed, "code_scanning_alert", body).await;
    assert_eq!(status, 401, "no secret configured: nothing is accepted");
    closed.stop().await;
}

async fn server_without_secret() -> (TestServer, TestDb) {
    server(None).await
}

#[tokio::test]
async fn ping_is_answered_and_other_events_are_ignored() {
    let (server, _db) = server(Some(SECRET)).await;
    let (status, body) = deliver(&server, "ping", corpus("octokit_ping.json")).await;
    assert_eq!(status, 200);
    assert_eq!(body["pong"], true);
    assert!(!body["zen"].as_str().unwrap().is_empty());
    let (status, body) = deliver(
        &server,
        "security_advisory",
        corpus("octokit_security_advisory_published.json"),
    )
    .await;
    assert_eq!(status, 202);
    assert!(
        body["ignored"]
            .as_str()
            .unwrap()
            .contains("security_advisory")
    );
    let (status, _) = deliver(
        &server,
        "code_scanning_alert",
        b"{\"action\": \"created\"}".to_vec(),
    )
    .await;
    assert_eq!(status, 400, "a signed but incomplete payload is bad input");
    server.stop().await;
}

#[tokio::test]
async fn a_code_scanning_alert_from_creation_to_fix_to_regression() {
    let (server, _db) = server(Some(SECRET)).await;
    let app = server.app.clone();

    let (status, created) = deliver(
        &server,
        "code_scanning_alert",
        corpus("octokit_code_scanning_alert_created.json"),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["ingested"], "created");
    let id: FindingId = created["finding"].as_str().unwrap().parse().unwrap();
    let f = app.store.finding(id).await.unwrap().unwrap();
    assert_eq!(f.state.source, "codeql");
    assert_eq!(f.state.rule_id, "java/sql-injection");
    assert_eq!(f.state.asset, "Codertocat/Hello-World");
    assert_eq!(
        f.state.severity.as_str(),
        "high",
        "rule severity `error` maps to high"
    );

    // GitHub says fixed: evidence, not a closure.
    let (_, fixed) = deliver(
        &server,
        "code_scanning_alert",
        corpus("octokit_code_scanning_alert_fixed.json"),
    )
    .await;
    assert_eq!(
        fixed["finding"], created["finding"],
        "the same alert is the same finding"
    );
    assert_eq!(fixed["changes"], serde_json::json!(["evidence_recorded"]));
    let f = app.store.finding(id).await.unwrap().unwrap();
    assert_eq!(f.state.stage, Stage::New);
    assert_eq!(f.state.evidence.len(), 1);
    assert!(
        f.state.evidence[0]
            .link
            .contains("github.com/Codertocat/Hello-World/security/code-scanning/10")
    );

    // People close it through the workflow.
    let person = |id: &str| Actor::new("slack", id, id);
    let at = ts("2026-01-01T00:00:00Z");
    let steps = [
        ("owner", Command::Acknowledge),
        (
            "owner",
            Command::Triage {
                answers: TriageAnswers::default(),
                severity: None,
                proposal: None,
            },
        ),
        (
            "owner",
            Command::SubmitRca(RcaAnswers {
                cause_category: "injection".into(),
                whys: vec!["raw SQL".into()],
                contributing_factors: String::new(),
            }),
        ),
        (
            "owner",
            Command::PlanFix(FixPlan {
                plan: "parameterise".into(),
                change_link: String::new(),
                target_date: None,
            }),
        ),
        (
            "dev",
            Command::MarkFixed(Evidence {
                link: "https://github.com/pr/1".into(),
                rescan_result: String::new(),
            }),
        ),
        (
            "lead",
            Command::Vote {
                approve: true,
                reason: None,
            },
        ),
    ];
    for (who, cmd) in steps {
        app.execute(id, &cmd, &person(who), Source::Slack, at)
            .await
            .unwrap();
    }
    assert_eq!(
        app.store.finding(id).await.unwrap().unwrap().state.stage,
        Stage::Closed
    );

    // A late `fixed` delivery about the closed finding is evidence, not a new sighting.
    let (_, late) = deliver(
        &server,
        "code_scanning_alert",
        corpus("octokit_code_scanning_alert_fixed.json"),
    )
    .await;
    assert_eq!(late["ingested"], "unchanged", "{late}");
    assert_eq!(
        app.store.finding(id).await.unwrap().unwrap().state.stage,
        Stage::Closed
    );

    // GitHub reopens it: a regression.
    let (_, reopened) = deliver(
        &server,
        "code_scanning_alert",
        corpus("octokit_code_scanning_alert_reopened.json"),
    )
    .await;
    assert_eq!(reopened["finding"], created["finding"]);
    assert_eq!(reopened["ingested"], "reopened");
    let f = app.store.finding(id).await.unwrap().unwrap();
    assert_eq!((f.state.stage, f.state.regressions), (Stage::Triage, 1));
    assert!(app.store.verify_chain(None).await.unwrap().is_intact());
    server.stop().await;
}

#[tokio::test]
async fn a_dismissal_on_github_is_only_a_proposal() {
    let (server, _db) = server(Some(SECRET)).await;
    let (status, out) = deliver(
        &server,
        "repository_vulnerability_alert",
        corpus("octokit_repository_vulnerability_alert_dismiss.json"),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["changes"], serde_json::json!(["approval_requested"]));
    let id: FindingId = out["finding"].as_str().unwrap().parse().unwrap();
    let f = server.app.store.finding(id).await.unwrap().unwrap();
    assert_eq!(f.state.stage, Stage::New, "not closed until approved");
    let pending = f.state.pending.unwrap();
    assert_eq!(pending.proposal.kind.as_str(), "wont_fix");
    assert!(pending.proposal.reason.contains("No bandwidth to fix this"));
    assert_eq!(
        pending.requested_by, "github:1",
        "the dismisser (octocat, id 1) asked"
    );
    assert_eq!(f.state.rule_id, "GHSA-qqgx-2p2h-9c37");
    assert_eq!(
        f.state.severity.as_str(),
        "medium",
        "`moderate` maps to medium"
    );
    server.stop().await;
}

#[tokio::test]
async fn dependabot_and_secret_scanning_alerts_become_findings() {
    let (server, _db) = server(Some(SECRET)).await;
    let (_, dep) = deliver(
        &server,
        "dependabot_alert",
        corpus("octokit_dependabot_alert_created.json"),
    )
    .await;
    let id: FindingId = dep["finding"].as_str().unwrap().parse().unwrap();
    let f = server.app.store.finding(id).await.unwrap().unwrap();
    assert_eq!(f.state.source, "dependabot");
    assert_eq!(f.state.rule_id, "GHSA-c2qf-rxjj-qqgw");
    assert_eq!(
        f.state.title,
        "semver vulnerable to Regular Expression Denial of Service"
    );
    assert_eq!(f.state.location, "package-lock.json semver");
    assert!(f.state.tags.contains(&"CVE-2022-25883".to_string()));

    let (_, fixed) = deliver(
        &server,
        "dependabot_alert",
        corpus("octokit_dependabot_alert_fixed.json"),
    )
    .await;
    assert_eq!(
        fixed["ingested"], "created",
        "alert 1 of another repository is another finding"
    );
    assert_eq!(fixed["changes"], serde_json::json!(["evidence_recorded"]));

    let (_, secret) = deliver(
        &server,
        "secret_scanning_alert",
        corpus("octokit_secret_scanning_alert_reopened.json"),
    )
    .await;
    assert_eq!(secret["ingested"], "created");
    assert_eq!(
        secret["refused"],
        "nothing to do: the finding is already open"
    );
    let id: FindingId = secret["finding"].as_str().unwrap().parse().unwrap();
    let f = server.app.store.finding(id).await.unwrap().unwrap();
    assert_eq!(f.state.rule_id, "adafruit_io_key");
    assert_eq!(f.state.severity.as_str(), "high");
    server.stop().await;
}

async fn server_on(db: &TestDb) -> TestServer {
    let mut settings = db.settings();
    settings.github_webhook_secret = Some(Secret::new(SECRET));
    TestServer::start(db.app_with(settings).await).await
}

/// Deliver with an `X-GitHub-Delivery` id, signed or not.
async fn deliver_as(
    server: &TestServer,
    event: &str,
    body: Vec<u8>,
    delivery: Option<&str>,
    signed: bool,
) -> (u16, Value) {
    let mut req = server
        .http
        .post(server.url("/api/v1/webhooks/github"))
        .header("x-github-event", event)
        .header("content-type", "application/json");
    if signed {
        req = req.header("x-hub-signature-256", sign(SECRET, &body));
    }
    if let Some(d) = delivery {
        req = req.header("x-github-delivery", d);
    }
    let resp = req.body(body).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

const EVENT: &str = "code_scanning_alert";

#[tokio::test]
async fn a_redelivered_fix_is_recorded_once_and_answered_as_a_duplicate() {
    for db in TestDb::all().await {
        let server = server_on(&db).await;
        let created = corpus("octokit_code_scanning_alert_created.json");
        let fixed = corpus("octokit_code_scanning_alert_fixed.json");
        let (status, first) = deliver_as(&server, EVENT, created, Some("guid-1"), true).await;
        assert_eq!(status, 200, "{first}");
        assert_eq!(first["duplicate"], false);
        let id: FindingId = first["finding"].as_str().unwrap().parse().unwrap();

        let (status, fix) = deliver_as(&server, EVENT, fixed.clone(), Some("guid-2"), true).await;
        assert_eq!(
            (status, &fix["changes"]),
            (200, &serde_json::json!(["evidence_recorded"]))
        );
        let trail = server.app.store.trail(id).await.unwrap().len();

        // GitHub's "Redeliver": same id, same signed body.
        let (status, again) = deliver_as(&server, EVENT, fixed.clone(), Some("guid-2"), true).await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["duplicate"], true, "{}: {again}", db.backend);
        assert_eq!(again["finding"], first["finding"]);
        assert_eq!(again["changes"], serde_json::json!([]));
        assert_eq!(again["event"], EVENT);
        let f = server.app.store.finding(id).await.unwrap().unwrap();
        assert_eq!(f.state.evidence.len(), 1);
        assert_eq!(server.app.store.trail(id).await.unwrap().len(), trail);

        // Another delivery with the same payload is another delivery: processed as before.
        let (_, other) = deliver_as(&server, EVENT, fixed.clone(), Some("guid-3"), true).await;
        assert_eq!(other["duplicate"], false);
        assert_eq!(other["changes"], serde_json::json!(["evidence_recorded"]));
        // So is one without a delivery id (logged at warn).
        let (status, bare) = deliver_as(&server, EVENT, fixed, None, true).await;
        assert_eq!((status, &bare["duplicate"]), (200, &Value::Bool(false)));
        let f = server.app.store.finding(id).await.unwrap().unwrap();
        assert_eq!(f.state.evidence.len(), 3);
        assert!(
            server
                .app
                .store
                .verify_chain(None)
                .await
                .unwrap()
                .is_intact()
        );
        server.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn unsigned_redeliveries_are_refused_and_do_not_use_up_the_id() {
    for db in TestDb::all().await {
        let server = server_on(&db).await;
        let created = corpus("octokit_code_scanning_alert_created.json");
        let (status, _) = deliver_as(&server, EVENT, created.clone(), Some("guid-a"), true).await;
        assert_eq!(status, 200);
        let (status, _) = deliver_as(&server, EVENT, created.clone(), Some("guid-a"), false).await;
        assert_eq!(
            status, 401,
            "a duplicate id does not skip the signature check"
        );

        // An unsigned request with a fresh id is refused without recording the id.
        let fixed = corpus("octokit_code_scanning_alert_fixed.json");
        let (status, _) = deliver_as(&server, EVENT, fixed.clone(), Some("guid-b"), false).await;
        assert_eq!(status, 401);
        let (status, out) = deliver_as(&server, EVENT, fixed, Some("guid-b"), true).await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["duplicate"], false);
        assert_eq!(out["changes"], serde_json::json!(["evidence_recorded"]));
        server.stop().await;
        db.cleanup().await;
    }
}
