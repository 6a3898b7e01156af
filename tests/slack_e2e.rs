//! One high-severity finding from ingest to closure, entirely through Slack: the real server
//! (HTTP Events API transport: signed `/slack/interactions` requests built from the corpus
//! payloads), its outbox posting to the fake Slack Web API, a real SQLite database, and at
//! the end the real `remedybot verify` binary checking the hash chain.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::fake_slack::{BOT_TOKEN, FakeSlack, StoredMessage, StoredView};
use common::slack_ui::{blocks_text, click, element, post_interaction, state_values, submission};
use common::{TestDb, TestServer};
use remedybot::config::{Secret, Settings};
use remedybot::domain::{FindingId, FindingState, Resolution, Stage};
use serde_json::{Value, json};

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const CHANNEL: &str = "C0SECURITY";
const WAIT: Duration = Duration::from_secs(30);

/// Two security approvers must verify a fix; the shipped separation-of-duties rule
/// (`implementer`) is kept. RCA, fix plan and evidence are required for high findings.
const POLICY: &str = r#"
[groups]
security = ["slack:UAPPROVER1", "slack:UAPPROVER2"]

[approvals.fixed]
quorum = 2
groups = ["security"]
exclude = ["implementer"]

[documentation]
rca_required = ["critical", "high"]
fix_plan_required = ["critical", "high"]
evidence_required = ["critical", "high"]
"#;

// ---------------------------------------------------------------------------------------
// Harness.

struct Flow {
    fake: FakeSlack,
    server: TestServer,
    db: TestDb,
}

async fn start() -> Flow {
    let fake = FakeSlack::start().await;
    let db = TestDb::sqlite();
    let mut settings = db.settings();
    settings.slack.bot_token = Some(Secret::new(BOT_TOKEN));
    settings.slack.signing_secret = Some(Secret::new(SECRET));
    settings.slack.api_url = fake.api_url();
    settings.slack.default_channel = Some(CHANNEL.into());
    settings.slack.messages_per_second_per_channel = 50.0;
    settings.policy = Settings::from_toml(POLICY, std::path::Path::new("e2e.toml"))
        .expect("policy")
        .policy;
    let server = TestServer::start(db.app_with(settings).await).await;
    Flow { fake, server, db }
}

impl Flow {
    /// POST a form-encoded interactivity `payload`, signed now as Slack signs it.
    async fn interaction(&self, payload: &Value) -> reqwest::Response {
        let resp = post_interaction(&self.server, SECRET, payload).await;
        assert_eq!(resp.status(), 200, "Slack always gets a 200");
        resp
    }

    /// `user` clicks `action_id` on `message`; the answer must be an empty 200.
    async fn click(&self, user: &str, message: &StoredMessage, action_id: &str) {
        let resp = self
            .interaction(&click(user, CHANNEL, message, action_id))
            .await;
        assert_eq!(
            resp.text().await.expect("body"),
            "",
            "a click gets an empty 200"
        );
        self.settle().await;
    }

    /// `user` clicks `action_id` on `message` and gets the modal that opened.
    async fn open_modal(&self, user: &str, message: &StoredMessage, action_id: &str) -> Value {
        let before = self.fake.views().len();
        self.click(user, message, action_id).await;
        let views: Vec<StoredView> = self.fake.views();
        assert_eq!(views.len(), before + 1, "{action_id} opened one modal");
        let opened = views.last().expect("a view").clone();
        assert_eq!(opened.kind, "open", "views.open");
        opened.view
    }

    /// `user` submits `modal` with `answers` (block id → value); the JSON answer, or
    /// `Value::Null` for the empty body that closes the modal.
    async fn submit(&self, user: &str, modal: &Value, answers: &[(&str, &str)]) -> Value {
        let resp = self
            .interaction(&submission(user, modal, state_values(modal, answers)))
            .await;
        let body = resp.text().await.expect("body");
        self.settle().await;
        if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&body).expect("a JSON answer")
        }
    }

    /// Wait for the deferred Slack work (ephemerals) and for the outbox to drain.
    async fn settle(&self) {
        let app = &self.server.app;
        app.slack.as_ref().expect("Slack is on").settle().await;
        common::outbox_drained(app).await;
    }

    async fn stage(&self, id: FindingId) -> Stage {
        self.finding(id).await.stage
    }

    async fn finding(&self, id: FindingId) -> FindingState {
        self.server
            .app
            .store
            .finding(id)
            .await
            .expect("finding")
            .expect("exists")
            .state
    }

    async fn kinds(&self, id: FindingId) -> Vec<String> {
        let trail = self.server.app.store.trail(id).await.expect("trail");
        trail.into_iter().map(|e| e.kind).collect()
    }

    /// The card (the thread's root) as the fake holds it now.
    fn card(&self, ts: &str) -> StoredMessage {
        self.fake.message(CHANNEL, ts).expect("the card")
    }

    /// The approval message in the card's thread (the reply that has or had the buttons).
    fn approval(&self, thread_ts: &str) -> StoredMessage {
        let approvals: Vec<StoredMessage> = self
            .fake
            .thread(CHANNEL, thread_ts)
            .into_iter()
            .filter(|m| m.text.as_deref().unwrap_or("").contains("closing as fixed"))
            .filter(|m| {
                let text = m.text.as_deref().unwrap_or("");
                text.contains("approval needed") || text.contains("approvals)")
            })
            .collect();
        assert_eq!(approvals.len(), 1, "one approval message: {approvals:#?}");
        approvals[0].clone()
    }
}

// ---------------------------------------------------------------------------------------
// Slack payloads.

async fn ingest(flow: &Flow, body: &str) -> FindingId {
    let resp = flow
        .server
        .post("/api/v1/findings", body.to_string())
        .send()
        .await
        .expect("POST findings");
    assert_eq!(resp.status(), 200);
    let reply: Value = resp.json().await.expect("ingest reply");
    reply["findings"][0]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("finding id")
}

// ---------------------------------------------------------------------------------------
// The flow.

#[tokio::test]
async fn a_high_finding_goes_from_ingest_to_closed_as_fixed_entirely_through_slack() {
    let flow = start().await;

    // 1. Ingest: the outbox posts the card; its ts is the finding's thread.
    let id = ingest(
        &flow,
        r#"[{"source":"trivy","rule_id":"CVE-2024-3094","title":"xz backdoor in liblzma","severity":"high","asset":"api","location":"Dockerfile:1","owner":"slack:UOWNER"}]"#,
    )
    .await;
    let cards = flow.fake.wait_for_messages(CHANNEL, 1, WAIT).await;
    assert_eq!(cards.len(), 1, "one card");
    let ts = cards[0].ts.clone();
    flow.settle().await;
    let card = flow.card(&ts);
    assert!(blocks_text(&card).contains("<@UOWNER>"), "owner mentioned");
    let (_, ack) = element(&card, "rb:acknowledge").expect("an Acknowledge button");
    assert_eq!(
        ack["value"],
        json!(id.to_string()),
        "the button names the finding"
    );
    assert_eq!(flow.stage(id).await, Stage::New);

    // 2. Acknowledge: stage triage, the card is edited in place.
    flow.click("UOWNER", &card, "rb:acknowledge").await;
    assert_eq!(flow.stage(id).await, Stage::Triage);
    let card = flow.card(&ts);
    assert!(card.update_count >= 1, "the card was updated");
    assert!(
        element(&card, "rb:acknowledge").is_none(),
        "no Acknowledge any more"
    );
    assert!(
        blocks_text(&card).contains("*Stage*\\nTriage"),
        "{}",
        blocks_text(&card)
    );

    // 3. Triage…: the modal opens; a submission missing a required answer gets inline
    // errors and changes nothing; a valid one moves the finding to root-cause analysis.
    let updates = card.update_count;
    let modal = flow.open_modal("UOWNER", &card, "rb:triage").await;
    assert_eq!(modal["callback_id"], "rb:triage");
    assert_eq!(modal["private_metadata"], json!(id.to_string()));
    let before = flow.kinds(id).await;
    let answer = flow
        .submit("UOWNER", &modal, &[("exploitable", "yes")])
        .await;
    assert_eq!(answer["response_action"], "errors", "{answer}");
    let errors = answer["errors"].as_object().expect("errors");
    assert_eq!(
        errors.keys().collect::<Vec<_>>(),
        ["real"],
        "only the missing answer is named: {answer}"
    );
    assert!(
        errors["real"].as_str().unwrap().contains("real"),
        "{answer}"
    );
    assert_eq!(flow.kinds(id).await, before, "nothing recorded");
    assert_eq!(flow.stage(id).await, Stage::Triage);

    let answer = flow
        .submit(
            "UOWNER",
            &modal,
            &[
                ("real", "yes"),
                ("exploitable", "yes"),
                ("decision", "confirm"),
                ("reason", "liblzma is linked into sshd in the api image"),
            ],
        )
        .await;
    assert_eq!(answer, Value::Null, "an empty body closes the modal");
    assert_eq!(flow.stage(id).await, Stage::Rca);
    let card = flow.card(&ts);
    assert!(card.update_count > updates, "the card shows the new stage");

    // 4. Root cause…, Fix plan…, Mark fixed….
    let modal = flow.open_modal("UOWNER", &card, "rb:rca").await;
    assert_eq!(modal["callback_id"], "rb:rca");
    let answer = flow
        .submit(
            "UOWNER",
            &modal,
            &[
                ("cause", "outdated_dependency"),
                ("why1", "the base image pinned xz 5.6.0"),
                ("why2", "nobody watched the base image's advisories"),
            ],
        )
        .await;
    assert_eq!(answer, Value::Null);
    assert_eq!(flow.stage(id).await, Stage::Fix);

    let card = flow.card(&ts);
    let modal = flow.open_modal("UOWNER", &card, "rb:plan").await;
    assert_eq!(modal["callback_id"], "rb:fix_plan");
    let answer = flow
        .submit(
            "UOWNER",
            &modal,
            &[
                ("plan", "rebuild on a base image with xz 5.6.1"),
                ("link", "https://github.com/org/api/issues/12"),
            ],
        )
        .await;
    assert_eq!(answer, Value::Null);
    assert_eq!(flow.stage(id).await, Stage::Fix, "planning keeps the stage");
    assert!(
        flow.finding(id).await.fix_plan.is_some(),
        "the plan is recorded"
    );

    let card = flow.card(&ts);
    let modal = flow.open_modal("UOWNER", &card, "rb:fixed").await;
    assert_eq!(modal["callback_id"], "rb:evidence");
    let answer = flow
        .submit(
            "UOWNER",
            &modal,
            &[("link", "https://github.com/org/api/pull/13")],
        )
        .await;
    assert_eq!(answer, Value::Null);
    assert_eq!(flow.stage(id).await, Stage::Verify);
    let approval = flow.approval(&ts);
    assert!(
        element(&approval, "rb:approve").is_some(),
        "an Approve button"
    );
    assert!(element(&approval, "rb:reject").is_some(), "a Reject button");
    let text = blocks_text(&approval);
    assert!(text.contains("0 of 2"), "{text}");
    assert!(
        text.contains("security (<@UAPPROVER1>, <@UAPPROVER2>), except the implementer"),
        "who may approve: {text}"
    );
    let card = flow.card(&ts);
    assert!(
        blocks_text(&card).contains("0 of 2 approvals"),
        "the card waits too"
    );
    assert!(
        element(&card, "rb:fixed").is_none(),
        "no more workflow buttons"
    );

    // 5. People who may not approve are told so, and nothing is recorded.
    let before = flow.kinds(id).await;
    flow.click("URANDOM", &approval, "rb:approve").await;
    // The implementer is not in the approver group either: the group check comes first
    // (docs/workflow.md: open request, voted, group, excluded).
    flow.click("UOWNER", &approval, "rb:approve").await;
    assert_eq!(flow.kinds(id).await, before, "no vote recorded");
    let ephemerals = flow.fake.ephemerals(CHANNEL);
    assert_eq!(ephemerals.len(), 2, "{ephemerals:#?}");
    for (m, who) in ephemerals.iter().zip(["URANDOM", "UOWNER"]) {
        assert_eq!(m.ephemeral_to.as_deref(), Some(who));
        assert_eq!(m.thread_ts.as_deref(), Some(ts.as_str()), "in the thread");
        let text = m.text.as_deref().unwrap_or("");
        assert!(
            text.contains("only members of security can approve"),
            "{who}: {text}"
        );
    }
    assert!(blocks_text(&flow.approval(&ts)).contains("0 of 2"));

    // 6. Two approvers: a live tally, then closure.
    flow.click("UAPPROVER1", &approval, "rb:approve").await;
    assert_eq!(flow.stage(id).await, Stage::Verify);
    let approval = flow.approval(&ts);
    assert!(approval.update_count >= 1, "the approval message is edited");
    assert!(
        blocks_text(&approval).contains("1 of 2"),
        "{}",
        blocks_text(&approval)
    );
    assert!(
        blocks_text(&approval).contains("<@UAPPROVER1>"),
        "the voter is shown"
    );
    assert!(element(&approval, "rb:approve").is_some(), "still open");
    assert!(
        blocks_text(&flow.card(&ts)).contains("1 of 2 approvals"),
        "the card too"
    );

    flow.click("UAPPROVER2", &approval, "rb:approve").await;
    let state = flow.finding(id).await;
    assert_eq!(state.stage, Stage::Closed);
    assert_eq!(state.resolution, Some(Resolution::Fixed));
    let approval = flow.approval(&ts);
    let text = blocks_text(&approval);
    assert!(text.contains("2 of 2"), "{text}");
    assert!(text.contains("*Outcome:* approved"), "{text}");
    assert!(
        element(&approval, "rb:approve").is_none(),
        "no buttons: {text}"
    );
    assert!(
        element(&approval, "rb:reject").is_none(),
        "no buttons: {text}"
    );
    let card = flow.card(&ts);
    let text = blocks_text(&card);
    assert!(text.contains("*Stage*\\nClosed (fixed)"), "{text}");
    assert!(
        !text.contains("\"type\":\"actions\""),
        "a closed card has no actions: {text}"
    );

    // 7. The thread tells the story in order, and Slack saw nothing it would refuse.
    let thread: Vec<String> = flow
        .fake
        .thread(CHANNEL, &ts)
        .iter()
        .map(|m| m.text.clone().unwrap_or_default())
        .collect();
    // Approving votes get no note of their own: they show in the approval message's tally
    // (src/chat/delivery.rs), which is the reply between "marked the fix done" and "closed".
    let expected = [
        "uowner acknowledged the finding",
        "uowner triaged the finding",
        "uowner submitted the root-cause analysis",
        "uowner planned the fix",
        "uowner marked the fix done",
        "closing as fixed: approved (2 of 2 approvals)",
        "uapprover2 closed the finding as fixed",
    ];
    assert_eq!(thread.len(), expected.len(), "{thread:#?}");
    for (text, want) in thread.iter().zip(expected) {
        assert!(
            text.contains(want),
            "expected {want:?} in order: {thread:#?}"
        );
    }
    assert_eq!(flow.approval(&ts).ts, flow.fake.thread(CHANNEL, &ts)[5].ts);
    flow.fake.assert_no_violations();

    // 8. The trail: every step by the Slack user who clicked, through Slack.
    let trail = flow.server.app.store.trail(id).await.expect("trail");
    let steps: Vec<(&str, String, &str)> = trail
        .iter()
        .map(|e| (e.kind.as_str(), e.actor.reference(), e.source.as_str()))
        .collect();
    let slack = |kind: &'static str, who: &str| (kind, format!("slack:{who}"), "slack");
    assert_eq!(steps[0].0, "created");
    assert_eq!(
        steps[1..],
        [
            slack("acknowledged", "UOWNER"),
            slack("triaged", "UOWNER"),
            slack("rca_submitted", "UOWNER"),
            slack("fix_planned", "UOWNER"),
            slack("fix_marked_done", "UOWNER"),
            slack("approval_requested", "UOWNER"),
            slack("vote_cast", "UAPPROVER1"),
            slack("vote_cast", "UAPPROVER2"),
            slack("closed", "UAPPROVER2"),
        ],
        "{steps:#?}"
    );
    assert_eq!(trail[1].actor.platform, "slack");
    assert_eq!(trail[1].actor.id, "UOWNER");
    assert_eq!(trail[1].actor.name, "uowner");
    let events = trail.len();

    // The hash chain verifies with the real binary, once the server has let go.
    let Flow { fake, server, db } = flow;
    server.stop().await;
    drop(fake);
    let out = Command::new(env!("CARGO_BIN_EXE_remedybot"))
        .arg("verify")
        .env("REMEDYBOT_DATABASE_URL", &db.url)
        .env_remove("REMEDYBOT_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run remedybot verify");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "verify failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with(&format!("chain intact: {events} events, head #{events} ")),
        "{stdout}"
    );
}
