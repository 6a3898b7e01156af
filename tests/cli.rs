//! The `remedybot` binary as a user runs it: ingest, list, show, report, export, verify,
//! check-config, slack manifest, and the errors it prints.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{TestDb, generic_json};

fn remedybot(db: &TestDb, args: &[&str]) -> Output {
    run_with_stdin(db, args, None)
}

fn run_with_stdin(db: &TestDb, args: &[&str], stdin: Option<&[u8]>) -> Output {
    run_as(db, "alice", args, stdin)
}

fn run_as(db: &TestDb, user: &str, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_remedybot"))
        .args(args)
        .env("REMEDYBOT_DATABASE_URL", &db.url)
        .env_remove("REMEDYBOT_CONFIG")
        .env("USER", user)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run remedybot");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write_file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn the_tour_ingest_list_show_report_export_verify() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(&dir, "findings.json", &generic_json(10));

    let out = remedybot(&db, &["ingest", &file]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("10 received, 10 created, 0 updated, 0 unchanged, 0 reopened"),
        "{}",
        stdout(&out)
    );
    let again = remedybot(&db, &["ingest", &file]);
    assert!(stdout(&again).contains("0 created, 0 updated, 10 unchanged"));

    let list = remedybot(&db, &["findings", "--severity", "critical"]);
    let text = stdout(&list);
    assert!(text.starts_with("ID "), "{text}");
    assert!(text.contains("F-1 "));
    assert!(text.contains("2 findings"), "{text}");
    let json = remedybot(&db, &["findings", "--json", "--limit", "3"]);
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 3);
    assert!(stdout(&remedybot(&db, &["findings", "--overdue"])).contains("no findings match"));

    let show = stdout(&remedybot(&db, &["show", "F-1"]));
    assert!(show.contains("F-1  Finding number 0"), "{show}");
    assert!(show.contains("Decision trail (1 event)"), "{show}");
    assert!(show.contains("alice (cli:alice) via cli"), "{show}");

    let report = stdout(&remedybot(&db, &["report"]));
    assert!(
        report.contains("Findings: 10 in total, 0 overdue"),
        "{report}"
    );

    let csv = remedybot(&db, &["export", "--format", "csv"]);
    let csv_text = stdout(&csv);
    assert_eq!(csv_text.lines().count(), 11, "header + 10 events");
    assert!(csv_text.starts_with("seq,finding,kind,at,"));
    assert!(stderr(&csv).contains("exported 10 events"));
    let json = remedybot(&db, &["export", "--format", "json", "--finding", "F-2"]);
    let events: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(events.as_array().unwrap().len(), 1);
    assert_eq!(events[0]["finding"], "F-2");

    let verify = remedybot(&db, &["verify"]);
    assert!(verify.status.success());
    assert!(
        stdout(&verify).starts_with("chain intact: 10 events"),
        "{}",
        stdout(&verify)
    );
}

#[test]
fn a_finding_is_walked_to_closure_from_the_command_line() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(&dir, "f.json", &generic_json(2));
    assert!(remedybot(&db, &["ingest", &file]).status.success());
    let steps: &[&[&str]] = &[
        &["act", "F-1", "acknowledge"],
        &[
            "act",
            "F-1",
            "triage",
            "--real",
            "yes",
            "--exploitable",
            "no",
            "--notes",
            "internal",
        ],
        &[
            "act",
            "F-1",
            "rca",
            "--cause",
            "dependency",
            "--why",
            "old pin",
            "--why",
            "no updates",
        ],
        &[
            "act",
            "F-1",
            "plan",
            "--plan",
            "upgrade",
            "--link",
            "https://git.test/pr/1",
            "--target",
            "2026-12-31",
        ],
        &[
            "act",
            "F-1",
            "fixed",
            "--link",
            "https://git.test/pr/1",
            "--rescan",
            "clean",
        ],
    ];
    for step in steps {
        let out = remedybot(&db, step);
        assert!(out.status.success(), "{step:?}: {}", stderr(&out));
    }
    // alice implemented the fix, so she may not verify it.
    let own = remedybot(&db, &["act", "F-1", "approve"]);
    assert_eq!(own.status.code(), Some(3));
    assert!(
        stderr(&own).contains("refused: you are the implementer"),
        "{}",
        stderr(&own)
    );
    let bob = run_as(&db, "bob", &["act", "F-1", "approve"], None);
    assert!(bob.status.success(), "{}", stderr(&bob));
    assert!(
        stdout(&bob).contains("F-1: closed as fixed"),
        "{}",
        stdout(&bob)
    );
    assert!(stdout(&bob).contains("F-1 is now in stage closed"));

    let show = stdout(&remedybot(&db, &["show", "F-1"]));
    assert!(show.contains("stage      closed (fixed)"), "{show}");
    assert!(show.contains("approved (1 of 1)"), "{show}");
    assert!(show.contains("bob (cli:bob) via cli"), "{show}");
    let report = stdout(&remedybot(&db, &["report"]));
    assert!(report.contains("Closed as fixed: 1"), "{report}");
    assert!(remedybot(&db, &["verify"]).status.success());

    let bad = remedybot(
        &db,
        &[
            "act",
            "F-2",
            "plan",
            "--plan",
            "x",
            "--target",
            "31/12/2026",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("write YYYY-MM-DD"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_full_scan_from_the_command_line_reports_what_disappeared() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    // Findings 0 and 5 share an asset (service-0): a scan without 5 no longer reports it.
    let all: Vec<serde_json::Value> = serde_json::from_str(&generic_json(6)).unwrap();
    let both = write_file(
        &dir,
        "both.json",
        &serde_json::to_string(&[&all[0], &all[5]]).unwrap(),
    );
    let one = write_file(
        &dir,
        "one.json",
        &serde_json::to_string(&[&all[0]]).unwrap(),
    );
    assert!(remedybot(&db, &["ingest", &both]).status.success());
    let out = remedybot(&db, &["ingest", "--full-scan", &one]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 unchanged, 0 reopened, 1 not seen in this full scan"),
        "{}",
        stdout(&out)
    );
    let show = stdout(&remedybot(&db, &["show", "F-2"]));
    assert!(
        show.contains(
            "evidence recorded: not seen in the latest full scan by semgrep of service-0"
        ),
        "{show}"
    );
    let usage = remedybot(
        &db,
        &["ingest", "--scope-source", "x", "--scope-asset", "y", &one],
    );
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn routing_rules_assign_owners_and_explain_themselves() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    write_file(
        &dir,
        "CODEOWNERS",
        "* @acme/security\nsrc/file_1*.py @acme/payments\n",
    );
    let config = write_file(
        &dir,
        "remedybot.toml",
        r##"
[routing]
codeowners = "CODEOWNERS"

[[routes]]
name = "critical"
severity = ["critical"]
owner = "slack:UCRIT"
slack_channels = ["#sec-critical"]

[[routes]]
name = "payments"
codeowner = ["@acme/payments"]
owner = "codeowners"

[[routes]]
name = "default"
owner = "security-team"
"##,
    );
    // generic_json: item 0 is critical, item 1 is high at src/file_1.py, item 2 medium.
    let file = write_file(&dir, "f.json", &generic_json(3));
    let out = remedybot(&db, &["--config", &config, "ingest", &file]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list = stdout(&remedybot(
        &db,
        &["--config", &config, "findings", "--json"],
    ));
    let rows: serde_json::Value = serde_json::from_str(&list).unwrap();
    let owner = |id: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()["owner"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(owner("F-1"), "slack:UCRIT");
    assert_eq!(owner("F-2"), "@acme/payments");
    assert_eq!(owner("F-3"), "security-team");

    let explain = stdout(&remedybot(
        &db,
        &["--config", &config, "route", "--explain", "F-2"],
    ));
    assert!(
        explain.contains("✗ critical: severity high not in [critical]"),
        "{explain}"
    );
    assert!(
        explain.contains("✓ payments: CODEOWNERS gives `src/file_1.py` to @acme/payments"),
        "{explain}"
    );
    assert!(explain.contains("→ owner @acme/payments"), "{explain}");
    let from_file = stdout(&remedybot(&db, &["--config", &config, "route", &file]));
    assert!(
        from_file.contains("#3  semgrep medium rule-2 on service-2"),
        "{from_file}"
    );
    assert!(
        from_file.contains("✓ default: no conditions: matches every finding"),
        "{from_file}"
    );

    let bad = write_file(
        &dir,
        "bad.toml",
        "[[routes]]\nname = \"everything\"\n\n[[routes]]\nname = \"late\"\nseverity = [\"low\"]\n",
    );
    let out = remedybot(&db, &["--config", &bad, "check-config"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`routes[1] (late)`: can never match: `everything` (routes[0])"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn ingest_from_stdin() {
    let db = TestDb::sqlite();
    let out = run_with_stdin(&db, &["ingest", "-"], Some(generic_json(2).as_bytes()));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("- (generic): 2 received, 2 created"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_broken_file_names_the_file_and_position_and_stores_nothing() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let json = generic_json(5);
    let file = write_file(&dir, "broken.json", &json[..json.len() / 2]);
    let out = remedybot(&db, &["ingest", &file]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("error: {file}: generic JSON:")),
        "{err}"
    );
    assert!(err.contains("(line 1, column"), "{err}");
    let missing = remedybot(&db, &["ingest", "/nonexistent/x.json"]);
    assert!(
        stderr(&missing).contains("reading /nonexistent/x.json"),
        "{}",
        stderr(&missing)
    );
    // The input was rejected before the database was opened: not even the file exists.
    assert!(!std::path::Path::new(db.url.trim_start_matches("sqlite://")).exists());
}

#[test]
fn verify_fails_and_names_the_event_after_tampering() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(&dir, "f.json", &generic_json(4));
    assert!(remedybot(&db, &["ingest", &file]).status.success());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = db.raw().await;
        sqlx::query("UPDATE events SET actor_name = 'mallory' WHERE seq = 3")
            .execute(store.pool_for_tests())
            .await
            .unwrap();
    });
    let out = remedybot(&db, &["verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("TAMPERED: event #3"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn check_config_accepts_a_good_file_and_points_at_a_bad_key() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let good = write_file(
        &dir,
        "good.toml",
        "[groups]\nsecurity-approvers = [\"slack:U1\", \"slack:U2\"]\n\n[approvals.fixed]\nquorum = 2\ngroups = [\"security-approvers\"]\nexclude = [\"implementer\"]\n",
    );
    let out = remedybot(&db, &["--config", &good, "check-config"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("OK"));

    let bad = write_file(
        &dir,
        "bad.toml",
        "[approvals.fixed]\nquorum = 1\ngroup = [\"x\"]\n",
    );
    let out = remedybot(&db, &["--config", &bad, "check-config"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("unknown field `group`"), "{err}");

    let none = remedybot(&db, &["check-config"]);
    assert!(stderr(&none).contains("--config FILE"), "{}", stderr(&none));
}

#[test]
fn check_config_reports_policy_variants_and_refuses_a_route_naming_an_unknown_one() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let routes = "[[routes]]\nname = \"payments\"\nasset = [\"payments-*\"]\npolicy = \"pci\"\n\
                  [[routes]]\nname = \"default\"\n";
    let good = write_file(
        &dir,
        "good.toml",
        &format!(
            "[policies.pci]\nrisk.max_acceptance_days = 30\n[policies.lab]\n\
             sla.low = {{ triage_hours = 48, remediate_days = 60 }}\n{routes}"
        ),
    );
    let out = remedybot(&db, &["--config", &good, "check-config"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("policy pci: routes payments"), "{text}");
    assert!(text.contains("policy lab: used by no route"), "{text}");
    let input = write_file(
        &dir,
        "payments.json",
        r#"[{"source": "semgrep", "rule_id": "r1", "title": "SQL injection", "severity": "high",
             "asset": "payments-api", "location": "src/db.py:1"}]"#,
    );
    let routed = stdout(&remedybot(&db, &["--config", &good, "route", &input]));
    assert!(routed.contains("→ owner (none), policy pci"), "{routed}");

    let bad = write_file(
        &dir,
        "bad.toml",
        &format!("[policies.lab]\nrisk.max_acceptance_days = 7\n{routes}"),
    );
    let out = remedybot(&db, &["--config", &bad, "check-config"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(
        err.contains(
            "`routes[0] (payments).policy`: unknown policy `pci`; defined policies: [lab]"
        ),
        "{err}"
    );
}

#[test]
fn show_of_an_unknown_or_malformed_id_is_a_clear_error() {
    let db = TestDb::sqlite();
    assert!(remedybot(&db, &["migrate"]).status.success());
    let out = remedybot(&db, &["show", "F-77"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("finding F-77 not found"));
    let out = remedybot(&db, &["show", "banana"]);
    assert!(
        stderr(&out).contains("`banana` is not a finding id; ids look like F-1042"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn read_commands_do_not_create_a_missing_database() {
    let db = TestDb::sqlite();
    let out = remedybot(&db, &["verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    let path = db.url.trim_start_matches("sqlite://");
    assert!(!std::path::Path::new(path).exists());
    assert!(remedybot(&db, &["migrate"]).status.success());
    assert!(remedybot(&db, &["verify"]).status.success());
}

#[test]
fn an_unsupported_database_url_is_refused_without_leaking_the_password() {
    let db = TestDb::sqlite();
    let out = remedybot(
        &db,
        &["--database-url", "mysql://root:hunter2@db/x", "findings"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("unsupported database URL"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn slack_manifest_prints_socket_mode_json_without_touching_the_database() {
    let db = TestDb::sqlite();
    let out = remedybot(&db, &["slack", "manifest"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(m["_metadata"]["major_version"], 1);
    assert_eq!(m["display_information"]["name"], "remedybot");
    assert_eq!(m["settings"]["socket_mode_enabled"], true);
    assert!(m["settings"]["event_subscriptions"]["request_url"].is_null());
    assert_eq!(m["features"]["slash_commands"][0]["command"], "/remedy");
    let scopes = m["oauth_config"]["scopes"]["bot"].as_array().unwrap();
    assert!(
        scopes.contains(&serde_json::json!("chat:write")),
        "{scopes:?}"
    );
    let path = db.url.trim_start_matches("sqlite://");
    assert!(
        !std::path::Path::new(path).exists(),
        "no database is created"
    );
}

#[test]
fn slack_manifest_in_http_mode_points_slack_at_the_public_url() {
    let db = TestDb::sqlite();
    let out = remedybot(
        &db,
        &[
            "slack",
            "manifest",
            "--http",
            "--public-url",
            "https://remedybot.example.com/",
            "--name",
            "remedybot-staging",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(m["settings"]["socket_mode_enabled"], false);
    assert_eq!(
        m["settings"]["event_subscriptions"]["request_url"],
        "https://remedybot.example.com/slack/events"
    );
    assert_eq!(
        m["settings"]["interactivity"]["request_url"],
        "https://remedybot.example.com/slack/interactions"
    );
    assert_eq!(
        m["features"]["slash_commands"][0]["url"],
        "https://remedybot.example.com/slack/commands"
    );
    assert_eq!(
        m["features"]["bot_user"]["display_name"],
        "remedybot-staging"
    );
}

#[test]
fn slack_manifest_refuses_http_mode_without_a_usable_url() {
    let db = TestDb::sqlite();
    let out = remedybot(&db, &["slack", "manifest", "--http"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--public-url"), "{}", stderr(&out));
    let out = remedybot(
        &db,
        &[
            "slack",
            "manifest",
            "--http",
            "--public-url",
            "http://x.example",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("https://"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}
