//! `POST /discord/interactions` through the real router and a real (SQLite) database,
//! signed like Discord signs them (Ed25519 over `timestamp || body`, a keypair generated
//! here as the application's `DISCORD_PUBLIC_KEY`), built from the real payload shapes in
//! the shared corpus. Interaction responses are the HTTP bodies, so no fake Discord is
//! needed: nothing here calls Discord's REST API.

mod common;

use chrono::Utc;
use common::{TestDb, TestServer};
use ed25519_dalek::SigningKey;
use remedybot::chat::discord::signing::sign;
use remedybot::config::{Secret, Settings};
use remedybot::domain::{
    Actor, ApprovalPolicy, Command, DecisionKind, Evidence, Exclusion, FindingId, FixPlan,
    RcaAnswers, Severity, Source, Stage, TriageAnswers,
};
use serde_json::{Value, json};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/discord/interactions"
);

// ---------------------------------------------------------------------------------------
// Harness.

struct Harness {
    server: TestServer,
    key: SigningKey,
    _db: TestDb,
}

fn keypair() -> SigningKey {
    // A fresh key per run: the verifier must not depend on a fixed one.
    let seed: [u8; 32] = std::array::from_fn(|i| {
        (Utc::now().timestamp_subsec_nanos() as usize + i * 31 + std::process::id() as usize) as u8
    });
    SigningKey::from_bytes(&seed)
}

async fn harness_with(tune: impl FnOnce(&mut Settings)) -> Harness {
    let key = keypair();
    let db = TestDb::sqlite();
    let mut settings = db.settings();
    settings.discord.bot_token = Some(Secret::new("discord-test-token"));
    settings.discord.public_key = Some(key.verifying_key().to_bytes());
    // Never reached: interactions are answered in the HTTP response.
    settings.discord.api_url = "http://127.0.0.1:9".into();
    tune(&mut settings);
    let server = TestServer::start(db.app_with(settings).await).await;
    Harness {
        server,
        key,
        _db: db,
    }
}

async fn harness() -> Harness {
    harness_with(|_| {}).await
}

impl Harness {
    /// POST `body` with the given signature headers (`None`: left out).
    async fn post(
        &self,
        body: &[u8],
        ts: Option<String>,
        sig: Option<String>,
    ) -> reqwest::Response {
        let mut req = self
            .server
            .http
            .post(self.server.url("/discord/interactions"))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(ts) = ts {
            req = req.header("x-signature-timestamp", ts);
        }
        if let Some(sig) = sig {
            req = req.header("x-signature-ed25519", sig);
        }
        req.send().await.unwrap()
    }

    /// POST `body` signed now, as Discord would.
    async fn signed(&self, body: &[u8]) -> reqwest::Response {
        let now = Utc::now().timestamp();
        let sig = sign(&self.key, now, body);
        self.post(body, Some(now.to_string()), Some(sig)).await
    }

    /// Send an interaction; its response body (asserting 200 and JSON).
    async fn send(&self, interaction: &Value) -> Value {
        let resp = self.signed(interaction.to_string().as_bytes()).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
        resp.json().await.unwrap()
    }

    async fn finding(&self, i: usize) -> FindingId {
        let out = self
            .server
            .app
            .ingest(
                vec![common::finding(i, Severity::High)],
                &Actor::system(),
                Source::Cli,
                Utc::now(),
            )
            .await
            .unwrap();
        out.findings[0].id
    }

    async fn stage(&self, id: FindingId) -> Stage {
        let f = self.server.app.store.finding(id).await.unwrap().unwrap();
        f.state.stage
    }

    async fn kinds(&self, id: FindingId) -> Vec<String> {
        let trail = self.server.app.store.trail(id).await.unwrap();
        trail.into_iter().map(|e| e.kind).collect()
    }

    async fn run(&self, id: FindingId, who: &Actor, command: Command) {
        self.server
            .app
            .execute(id, &command, who, Source::Cli, Utc::now())
            .await
            .unwrap();
    }

    /// Walk a finding to the fix stage (root cause recorded).
    async fn to_fix(&self, id: FindingId) {
        let owner = Actor::new("cli", "owner", "owner");
        self.run(id, &owner, Command::Acknowledge).await;
        let triage = Command::Triage {
            answers: TriageAnswers::default(),
            severity: None,
            proposal: None,
        };
        self.run(id, &owner, triage).await;
        let rca = Command::SubmitRca(RcaAnswers {
            cause_category: "code_defect".into(),
            whys: vec!["raw SQL".into()],
            contributing_factors: String::new(),
        });
        self.run(id, &owner, rca).await;
    }

    /// Walk a finding to verification; the fix is marked done by Discord user `dev`.
    async fn to_verify(&self, id: FindingId, dev: &str) {
        self.to_fix(id).await;
        let owner = Actor::new("cli", "owner", "owner");
        let plan = Command::PlanFix(FixPlan {
            plan: "parameterise".into(),
            change_link: String::new(),
            target_date: None,
        });
        self.run(id, &owner, plan).await;
        let fixed = Command::MarkFixed(Evidence {
            link: "https://github.com/org/repo/pull/1".into(),
            rescan_result: String::new(),
        });
        self.run(id, &Actor::new("discord", dev, dev), fixed).await;
        assert_eq!(self.stage(id).await, Stage::Verify);
    }
}

fn corpus(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{CORPUS}/{name}"))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The corpus payload as guild member `user` (holding `roles`) acting.
fn as_member(mut p: Value, user: &str, roles: &[&str]) -> Value {
    p["member"]["user"]["id"] = json!(user);
    p["member"]["user"]["username"] = json!(format!("user{user}"));
    p["member"]["user"]["global_name"] = json!(format!("User {user}"));
    p["member"]["roles"] = json!(roles);
    p
}

/// The corpus button click: `user` clicking `custom_id`.
fn click(user: &str, custom_id: &str, roles: &[&str]) -> Value {
    let mut p = as_member(
        corpus("docs_message_component_button_full.json"),
        user,
        roles,
    );
    p["data"]["custom_id"] = json!(custom_id);
    p
}

/// The corpus modal submission: `user` submitting modal `custom_id` with `answers`.
fn submit(user: &str, custom_id: &str, answers: &[(&str, &str)]) -> Value {
    let mut p = as_member(corpus("docs_modal_submit_text_input.json"), user, &[]);
    let rows: Vec<Value> = answers
        .iter()
        .map(|(id, v)| json!({"type": 1, "components": [{"type": 4, "custom_id": id, "value": v}]}))
        .collect();
    p["data"] = json!({ "custom_id": custom_id, "components": rows });
    p
}

fn content(reply: &Value) -> &str {
    reply["data"]["content"].as_str().unwrap_or_default()
}

fn is_ephemeral(reply: &Value) -> bool {
    reply["type"] == 4 && reply["data"]["flags"] == 64
}

/// The text input `field` of a modal response.
fn input(modal: &Value, field: &str) -> Value {
    let rows = modal["data"]["components"].as_array().unwrap();
    rows.iter()
        .map(|r| r["components"][0].clone())
        .find(|i| i["custom_id"] == field)
        .unwrap_or_else(|| panic!("no input {field} in {modal}"))
}

/// The custom id of the one button under an ephemeral message.
fn button(reply: &Value) -> String {
    reply["data"]["components"][0]["components"][0]["custom_id"]
        .as_str()
        .unwrap()
        .to_string()
}

// ---------------------------------------------------------------------------------------
// The route: configuration and signatures.

#[tokio::test]
async fn the_route_is_404_with_a_reason_without_discord_or_its_public_key() {
    let db = TestDb::sqlite();
    let server = TestServer::start(db.app().await).await;
    let resp = server
        .http
        .post(server.url("/discord/interactions"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("DISCORD_BOT_TOKEN")
    );
    server.stop().await;

    let h = harness_with(|s| s.discord.public_key = None).await;
    let resp = h.signed(b"{\"type\":1}").await;
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("DISCORD_PUBLIC_KEY")
    );
}

#[tokio::test]
async fn a_signed_ping_gets_a_pong() {
    let h = harness().await;
    let ping = corpus("discord-interactions-js_ping.json");
    assert_eq!(h.send(&ping).await, json!({"type": 1}));
}

#[tokio::test]
async fn unsigned_stale_or_badly_signed_requests_get_401_and_change_nothing() {
    let h = harness().await;
    let id = h.finding(1).await;
    let body = click("101", &format!("rb:acknowledge:{id}"), &[]).to_string();
    let body = body.as_bytes();
    let now = Utc::now().timestamp();
    let other = SigningKey::from_bytes(&[7; 32]);
    let cases = [
        ("unsigned", None, None),
        ("no signature", Some(now.to_string()), None),
        ("no timestamp", None, Some(sign(&h.key, now, body))),
        ("not hex", Some(now.to_string()), Some("zz".repeat(64))),
        (
            "stale",
            Some((now - 600).to_string()),
            Some(sign(&h.key, now - 600, body)),
        ),
        (
            "future",
            Some((now + 600).to_string()),
            Some(sign(&h.key, now + 600, body)),
        ),
        (
            "another key",
            Some(now.to_string()),
            Some(sign(&other, now, body)),
        ),
        (
            "another timestamp",
            Some((now - 1).to_string()),
            Some(sign(&h.key, now, body)),
        ),
    ];
    for (what, ts, sig) in cases {
        let resp = h.post(body, ts, sig).await;
        assert_eq!(resp.status(), 401, "{what}");
        let reply: Value = resp.json().await.unwrap();
        assert!(reply["error"].is_string(), "{what}");
    }
    // A signature over another body does not carry over.
    let sig = sign(&h.key, now, b"{\"type\":1}");
    let resp = h.post(body, Some(now.to_string()), Some(sig)).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(h.stage(id).await, Stage::New);
    assert_eq!(h.kinds(id).await, ["created"]);
}

#[tokio::test]
async fn a_good_signature_over_bad_json_is_400() {
    let h = harness().await;
    let resp = h.signed(b"{not json").await;
    assert_eq!(resp.status(), 400);
    let resp = h.signed(b"{\"type\": 99}").await;
    assert_eq!(resp.status(), 400);
}

// ---------------------------------------------------------------------------------------
// Buttons and selects.

#[tokio::test]
async fn acknowledge_defers_the_update_and_records_the_discord_actor() {
    let h = harness().await;
    let id = h.finding(1).await;
    let reply = h
        .send(&click("101", &format!("rb:acknowledge:{id}"), &[]))
        .await;
    assert_eq!(reply, json!({"type": 6}));
    assert_eq!(h.stage(id).await, Stage::Triage);
    let trail = h.server.app.store.trail(id).await.unwrap();
    let ack = trail.last().unwrap();
    assert_eq!(ack.kind, "acknowledged");
    assert_eq!(ack.actor.reference(), "discord:101");
    assert_eq!(ack.actor.name, "User 101");
    assert_eq!(ack.source, "discord");

    // Again: refused by the workflow, told only to the clicker, nothing recorded.
    let again = h
        .send(&click("101", &format!("rb:acknowledge:{id}"), &[]))
        .await;
    assert!(is_ephemeral(&again), "{again}");
    assert!(content(&again).starts_with(&format!("{id}: ")), "{again}");
    assert_eq!(again["data"]["allowed_mentions"]["parse"], json!([]));
    assert_eq!(h.kinds(id).await, ["created", "acknowledged"]);
}

#[tokio::test]
async fn foreign_buttons_and_missing_findings_get_an_ephemeral_answer() {
    let h = harness().await;
    let reply = h.send(&click("101", "click_one", &[])).await;
    assert!(is_ephemeral(&reply));
    assert_eq!(content(&reply), "This button is not remedybot's.");
    let reply = h.send(&click("101", "rb:acknowledge:F-999", &[])).await;
    assert!(is_ephemeral(&reply));
    assert_eq!(content(&reply), "F-999 does not exist.");
    let reply = h.send(&click("101", "rb:triage:F-999", &[])).await;
    assert_eq!(content(&reply), "F-999 does not exist.");
    let reply = h.send(&submit("101", "cool_modal", &[])).await;
    assert_eq!(content(&reply), "This form is not remedybot's.");
}

#[tokio::test]
async fn the_user_select_assigns_to_the_chosen_discord_user() {
    let h = harness().await;
    let id = h.finding(1).await;
    let mut select = click("101", &format!("rb:assign:{id}"), &[]);
    select["data"]["component_type"] = json!(5);
    select["data"]["values"] = json!(["555"]);
    assert_eq!(h.send(&select).await, json!({"type": 6}));
    let f = h.server.app.store.finding(id).await.unwrap().unwrap();
    assert_eq!(f.state.owner.as_deref(), Some("discord:555"));
    assert_eq!(h.kinds(id).await.last().unwrap(), "assigned");
}

// ---------------------------------------------------------------------------------------
// Approvals: eligibility by user id or role, quorum, double clicks, separation of duties.

fn two_approvers_from_sec(settings: &mut Settings) {
    settings.policy.groups.insert(
        "sec".into(),
        vec![
            "discord:101".into(),
            "discord:102".into(),
            "discord-role:900".into(),
        ],
    );
    settings.policy.approvals.insert(
        DecisionKind::Fixed,
        ApprovalPolicy {
            quorum: 2,
            groups: vec!["sec".into()],
            exclude: vec![Exclusion::Implementer],
        },
    );
}

async fn votes(h: &Harness, id: FindingId) -> usize {
    let kinds = h.kinds(id).await;
    kinds.iter().filter(|k| *k == "vote_cast").count()
}

#[tokio::test]
async fn two_approvers_close_the_finding_and_a_double_click_counts_once() {
    let h = harness_with(two_approvers_from_sec).await;
    let id = h.finding(1).await;
    h.to_verify(id, "200").await;
    let approve = format!("rb:approve:{id}");

    assert_eq!(
        h.send(&click("101", &approve, &[])).await,
        json!({"type": 6})
    );
    assert_eq!(votes(&h, id).await, 1);
    assert_eq!(h.stage(id).await, Stage::Verify, "quorum is two");

    let again = h.send(&click("101", &approve, &[])).await;
    assert!(is_ephemeral(&again), "{again}");
    assert_eq!(votes(&h, id).await, 1, "a double click is one vote");

    assert_eq!(
        h.send(&click("102", &approve, &[])).await,
        json!({"type": 6})
    );
    assert_eq!(votes(&h, id).await, 2);
    assert_eq!(h.stage(id).await, Stage::Closed);
}

#[tokio::test]
async fn an_ineligible_clicker_is_told_why_and_nothing_changes() {
    let h = harness_with(two_approvers_from_sec).await;
    let id = h.finding(1).await;
    h.to_verify(id, "200").await;
    let before = h.kinds(id).await;
    // Holds a role, but not the approvers' one.
    let reply = h
        .send(&click("300", &format!("rb:approve:{id}"), &["901"]))
        .await;
    assert!(is_ephemeral(&reply), "{reply}");
    assert!(content(&reply).contains("only members of sec"), "{reply}");
    assert_eq!(h.kinds(id).await, before);
    assert_eq!(h.stage(id).await, Stage::Verify);
}

#[tokio::test]
async fn a_voter_eligible_only_through_a_role_counts() {
    let h = harness_with(two_approvers_from_sec).await;
    let id = h.finding(1).await;
    h.to_verify(id, "200").await;
    let approve = format!("rb:approve:{id}");
    assert_eq!(
        h.send(&click("301", &approve, &["111", "900"])).await,
        json!({"type": 6})
    );
    assert_eq!(
        h.send(&click("101", &approve, &[])).await,
        json!({"type": 6})
    );
    assert_eq!(h.stage(id).await, Stage::Closed);
    let trail = h.server.app.store.trail(id).await.unwrap();
    let voters: Vec<String> = trail
        .iter()
        .filter(|e| e.kind == "vote_cast")
        .map(|e| e.actor.reference())
        .collect();
    assert_eq!(voters, ["discord:301", "discord:101"]);
}

#[tokio::test]
async fn the_implementer_cannot_approve_their_own_fix_even_through_a_role() {
    let h = harness_with(two_approvers_from_sec).await;
    let id = h.finding(1).await;
    h.to_verify(id, "102").await;
    let reply = h
        .send(&click("102", &format!("rb:approve:{id}"), &["900"]))
        .await;
    assert!(is_ephemeral(&reply), "{reply}");
    assert_eq!(votes(&h, id).await, 0);
    assert_eq!(h.stage(id).await, Stage::Verify);
}

// ---------------------------------------------------------------------------------------
// Prompts as modals.

#[tokio::test]
async fn a_prompt_button_opens_its_first_modal() {
    let h = harness().await;
    let id = h.finding(1).await;
    let reply = h.send(&click("101", &format!("rb:triage:{id}"), &[])).await;
    assert_eq!(reply["type"], 9);
    assert_eq!(reply["data"]["custom_id"], format!("rb:m:triage:1:{id}"));
    let rows = reply["data"]["components"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    let reply = h.send(&click("101", &format!("rb:reject:{id}"), &[])).await;
    assert_eq!(reply["data"]["custom_id"], format!("rb:m:reject:1:{id}"));
    assert_eq!(reply["data"]["components"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn triage_in_two_steps_with_a_missing_answer_fixed_ends_in_the_trail() {
    let h = harness().await;
    let id = h.finding(1).await;
    h.send(&click("101", &format!("rb:acknowledge:{id}"), &[]))
        .await;
    let step1 = format!("rb:m:triage:1:{id}");
    let step2 = format!("rb:m:triage:2:{id}");

    // Step 1 without saying whether the finding is real.
    let first = [
        ("exploitable", "No"),
        ("severity", "HIGH"),
        ("severity_reason", ""),
        ("decision", "Confirm"),
    ];
    let saved = h.send(&submit("101", &step1, &first)).await;
    assert!(is_ephemeral(&saved), "{saved}");
    assert_eq!(
        content(&saved),
        "Step 1 of 2 saved. Continue with the next questions."
    );
    assert_eq!(button(&saved), format!("rb:step:triage:2:{id}"));

    // Continue: the second modal opens.
    let modal = h.send(&click("101", &button(&saved), &[])).await;
    assert_eq!(modal["type"], 9);
    assert_eq!(modal["data"]["custom_id"], step2);
    let second = [
        ("duplicate_of", ""),
        ("reason", "reachable from the public API"),
        ("until", ""),
        ("controls", ""),
    ];
    let problems = h.send(&submit("101", &step2, &second)).await;
    assert!(is_ephemeral(&problems), "{problems}");
    assert!(
        content(&problems).contains("Is the finding real?: Say whether the finding is real."),
        "{problems}"
    );
    assert_eq!(
        h.kinds(id).await,
        ["created", "acknowledged"],
        "nothing recorded yet"
    );

    // Fix answers reopens step 1, pre-filled with what was kept.
    assert_eq!(button(&problems), format!("rb:step:triage:1:{id}"));
    let reopened = h.send(&click("101", &button(&problems), &[])).await;
    assert_eq!(reopened["data"]["custom_id"], step1);
    let value = |field: &str| input(&reopened, field).get("value").cloned();
    assert_eq!(value("exploitable"), Some(json!("No")));
    assert_eq!(value("severity"), Some(json!("HIGH")));
    assert_eq!(value("real"), None);

    // Another person's draft is their own.
    let other = h.send(&click("102", &button(&problems), &[])).await;
    assert_eq!(input(&other, "exploitable").get("value"), None);

    let mut fixed = first.to_vec();
    fixed.push(("real", "yes"));
    let saved = h.send(&submit("101", &step1, &fixed)).await;
    assert_eq!(button(&saved), format!("rb:step:triage:2:{id}"));
    let done = h.send(&submit("101", &step2, &second)).await;
    assert!(is_ephemeral(&done), "{done}");
    assert_eq!(content(&done), format!("Triage: recorded for {id}."));

    assert_eq!(h.stage(id).await, Stage::Rca);
    let trail = h.server.app.store.trail(id).await.unwrap();
    let kinds: Vec<&str> = trail.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["created", "acknowledged", "triaged"]);
    let triaged = trail.last().unwrap();
    assert_eq!(triaged.actor.reference(), "discord:101");
    assert_eq!(triaged.source, "discord");
    let payload: Value = serde_json::from_str(&triaged.payload).unwrap();
    let text = payload.to_string();
    assert!(text.contains("reachable from the public API"), "{text}");

    // The draft is gone: the form opens empty again (initial values only).
    let fresh = h.send(&click("101", &format!("rb:triage:{id}"), &[])).await;
    let exploitable = input(&fresh, "exploitable");
    assert!(exploitable.get("value").is_none(), "{exploitable}");
}

#[tokio::test]
async fn a_single_step_prompt_refused_by_the_workflow_changes_nothing() {
    let h = harness().await;
    let id = h.finding(1).await;
    // Nothing awaits approval: rejecting is refused.
    let reply = h
        .send(&submit(
            "101",
            &format!("rb:m:reject:1:{id}"),
            &[("reason", "no")],
        ))
        .await;
    assert!(is_ephemeral(&reply), "{reply}");
    assert!(content(&reply).starts_with(&format!("{id}: ")), "{reply}");
    assert_eq!(h.kinds(id).await, ["created"]);
}

#[tokio::test]
async fn a_fix_plan_in_one_modal_is_recorded() {
    let h = harness().await;
    let id = h.finding(1).await;
    h.to_fix(id).await;
    let modal = format!("rb:m:plan:1:{id}");
    let bad = h
        .send(&submit(
            "101",
            &modal,
            &[("plan", "use bind parameters"), ("link", "ftp://x")],
        ))
        .await;
    assert!(content(&bad).contains("https://"), "{bad}");
    let ok = h
        .send(&submit(
            "101",
            &modal,
            &[
                ("plan", "use bind parameters"),
                ("link", "https://example.com/pr/2"),
            ],
        ))
        .await;
    assert_eq!(content(&ok), format!("Fix plan: recorded for {id}."));
    assert_eq!(h.kinds(id).await.last().unwrap(), "fix_planned");
}
