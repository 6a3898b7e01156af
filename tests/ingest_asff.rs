//! Every AWS Security Hub (ASFF) and GuardDuty corpus file through `ingest::asff`, with
//! values checked against the files, and a fuzz test on a real export.

use std::collections::HashSet;

use proptest::prelude::*;
use remedybot::domain::{NewFinding, Severity};
use remedybot::ingest::asff::{self, AsffStatus};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/findings/");

fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{CORPUS}{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses the file, checks fingerprints are unique and stable, and returns the findings.
fn open(path: &str) -> Vec<NewFinding> {
    let bytes = read(path);
    assert!(
        asff::looks_like(&bytes[..bytes.len().min(65_536)]),
        "{path}"
    );
    let v = asff::parse(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    let fps: HashSet<_> = v.iter().map(|f| &f.fingerprint).collect();
    assert_eq!(fps.len(), v.len(), "{path}: fingerprints must be unique");
    assert_eq!(
        asff::parse(&bytes).unwrap(),
        v,
        "{path}: a second parse must agree"
    );
    for f in &v {
        assert!(
            !f.asset.is_empty() && !f.title.is_empty() && !f.rule_id.is_empty(),
            "{path}"
        );
        assert!(f.owner.is_none());
    }
    v
}

fn count(v: &[NewFinding], s: Severity) -> usize {
    v.iter().filter(|f| f.severity == s).count()
}

#[test]
fn security_hub_sample_control_findings() {
    for (file, title, asset, region) in [
        (
            "cis_1.2.0",
            "2.7 Ensure CloudTrail logs are encrypted at rest using KMS CMKs",
            "arn:aws:cloudtrail:us-east-2:123456789012:trail/AWSMacieTrail-DO-NOT-EDIT",
            "us-east-2",
        ),
        (
            "control_tower",
            "CT.CloudTrail.2 CloudTrail should have encryption at-rest enabled",
            "AWS::::Account:123456789012",
            "us-east-1",
        ),
        (
            "fsbp",
            "CloudTrail.2 CloudTrail should have encryption at-rest enabled",
            "arn:aws:cloudtrail:us-east-2:123456789012:trail/AWSMacieTrail-DO-NOT-EDIT",
            "us-east-2",
        ),
        (
            "pci_dss",
            "PCI.CloudTrail.1 CloudTrail logs should be encrypted at rest using AWS KMS CMKs",
            "arn:aws:cloudtrail:us-east-2:123456789012:trail/AWSMacieTrail-DO-NOT-EDIT",
            "us-east-2",
        ),
    ] {
        let v = open(&format!(
            "aws_asff/awsdocs_securityhub_sample_finding_{file}.json"
        ));
        assert_eq!(v.len(), 1, "{file}");
        let f = &v[0];
        assert_eq!(f.source, "securityhub");
        assert_eq!(f.rule_id, "CloudTrail.2", "the consolidated control id");
        assert_eq!(f.severity, Severity::Medium);
        assert_eq!(f.title, title);
        assert_eq!(f.asset, asset);
        assert_eq!(f.location, format!("123456789012/{region}"));
        assert_eq!(
            f.references,
            vec!["https://docs.aws.amazon.com/console/securityhub/CloudTrail.2/remediation"]
        );
    }
}

#[test]
fn defectdojo_security_hub_exports() {
    let v = open("aws_asff/defectdojo_securityhub_config_multiple_resources.json");
    assert_eq!(v.len(), 2);
    assert_eq!(
        (v[0].rule_id.as_str(), v[0].severity),
        ("EC2.2", Severity::High)
    );
    assert_eq!(
        v[0].asset,
        "arn:aws:ec2:us-east-1:012345678912:security-group/sg-0fff2222bbbb1111a"
    );
    assert!(v[0].tags.contains(
        &"resource:arn:aws:ec2:us-east-1:012345678912:vpc/vpc-0bbb3333dddd4444c".to_string()
    ));
    assert_eq!(
        (v[1].rule_id.as_str(), v[1].severity, v[1].source.as_str()),
        ("S3.8", Severity::Medium, "config")
    );
    assert_eq!(v[1].asset, "arn:aws:s3:::zeta-reports-bucket");

    // The only finding is a PASSED check: nothing to remediate.
    assert!(open("aws_asff/defectdojo_securityhub_config_one_finding.json").is_empty());
    let all = asff::parse_with_status(&read(
        "aws_asff/defectdojo_securityhub_config_one_finding.json",
    ))
    .unwrap();
    assert!(all.is_empty(), "passed checks are not findings at all");

    let v = open("aws_asff/defectdojo_securityhub_config_one_finding_active.json");
    assert_eq!(v.len(), 1);
    assert_eq!(
        (v[0].rule_id.as_str(), v[0].severity),
        ("IAM.5", Severity::Medium)
    );
    assert_eq!(v[0].asset, "AWS::::Account:012345678912");
}

#[test]
fn inspector_findings_use_the_cve_as_rule() {
    let v = open("aws_asff/defectdojo_securityhub_inspector_ecr.json");
    assert_eq!(v.len(), 7);
    assert_eq!(
        (
            count(&v, Severity::Critical),
            count(&v, Severity::High),
            count(&v, Severity::Medium)
        ),
        (1, 5, 1)
    );
    assert!(
        v.iter()
            .all(|f| f.source == "inspector" && f.rule_id.starts_with("CVE-"))
    );
    assert_eq!(v[0].rule_id, "CVE-2023-2650");
    assert_eq!(v[0].title, "CVE-2023-2650 - openssl");
    assert!(
        v[0].asset
            .starts_with("arn:aws:ecr:eu-central-1:123456789012:repository/repo-os/sha256:")
    );
    assert!(v[0].tags.contains(&"package:openssl".to_string()));

    let v = open("aws_asff/defectdojo_securityhub_inspector_ec2_cve.json");
    assert_eq!(v.len(), 5);
    assert!(
        v.iter()
            .all(|f| f.severity == Severity::Critical && f.rule_id == "CVE-2022-3643")
    );
    let v = open("aws_asff/defectdojo_securityhub_inspector_ec2_cve_no_vulnerabilities.json");
    assert_eq!(
        (v.len(), v[0].rule_id.as_str()),
        (1, "AWSInspector"),
        "no Vulnerabilities: GeneratorId"
    );

    let v = open("aws_asff/defectdojo_asff_many_vulns.json");
    assert_eq!(v.len(), 5);
    assert_eq!(
        (count(&v, Severity::High), count(&v, Severity::Medium)),
        (2, 3)
    );
    assert_eq!(v[0].rule_id, "CVE-2017-9735");
    assert_eq!(
        v[0].asset,
        "arn:aws:ec2:eu-west-1:123456789123:instance/i-0asd2da21c8csd28s"
    );
    let v = open("aws_asff/defectdojo_asff_one_vuln.json");
    assert_eq!((v.len(), v[0].severity), (1, Severity::High));
}

#[test]
fn prowler_output_keeps_failed_and_manual_checks_only() {
    let v = open("aws_asff/defectdojo_asff_prowler-output.json");
    // 731 results: 441 PASSED are dropped; 286 FAILED and 4 INFOED (manual checks) stay.
    assert_eq!(v.len(), 290);
    assert_eq!(
        [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low
        ]
        .map(|s| count(&v, s)),
        [3, 29, 203, 55]
    );
    assert!(
        v.iter()
            .all(|f| f.source == "prowler" && f.rule_id.starts_with("prowler-"))
    );
    assert_eq!(v[0].rule_id, "prowler-accessanalyzer_enabled");
    assert_eq!(v[0].location, "123456789012/ap-northeast-1");
}

#[test]
fn trivy_reuses_ids_so_titles_keep_its_findings_apart() {
    let v = open("aws_asff/trivy_alpine-310.asff.json");
    assert_eq!(v.len(), 4, "two CVEs in two packages each, under two Ids");
    assert!(
        v.iter()
            .all(|f| f.source == "trivy" && f.severity == Severity::Medium)
    );
    assert_eq!(v[0].rule_id, "Trivy/CVE-2019-1549");
    assert_eq!(
        v[0].asset,
        "testdata/fixtures/images/alpine-310.tar.gz (alpine 3.10.2)"
    );
    assert_eq!(
        v[0].references,
        vec!["https://avd.aquasec.com/nvd/cve-2019-1549"]
    );
    let v = open("aws_asff/trivy_secrets.asff.json");
    assert_eq!(v.len(), 2);
    assert!(
        v.iter()
            .all(|f| f.severity == Severity::Critical && f.asset == "deploy.sh")
    );
    assert!(v[1].title.ends_with("GitHub Personal Access Token"));
}

#[test]
fn guardduty_native_finding() {
    let v = open("aws_guardduty/awscli_guardduty_get-findings.json");
    assert_eq!(v.len(), 1);
    let f = &v[0];
    assert_eq!(f.source, "guardduty");
    assert_eq!(f.rule_id, "Recon:IAMUser/UserPermissions");
    assert_eq!(f.severity, Severity::Medium, "GuardDuty severity 5");
    assert_eq!(f.asset, "AWS::IAM::AccessKey:ASIASZ4SI7REEEXAMPLE");
    assert_eq!(f.location, "111122223333/us-east-1");
    assert_eq!(
        f.title,
        "Unusual user permission reconnaissance activity by testuser."
    );
}

#[test]
fn files_that_are_not_findings_or_not_json_are_rejected_clearly() {
    let err = asff::parse(&read(
        "aws_asff/awscli_securityhub_get-findings_INVALID_missing_colon.json",
    ))
    .unwrap_err();
    assert_eq!(err.format, "AWS Security Hub (ASFF)");
    assert_eq!(err.position, Some((12, 37)));
    assert!(
        err.to_string()
            .contains("Findings[0]: expected `:` (line 12, column 37)"),
        "{err}"
    );

    let err = asff::parse(&read(
        "aws_asff/awsdocs_securityhub_eventbridge_insight_results.json",
    ))
    .unwrap_err();
    assert!(
        err.message.contains("insight result counts, not findings"),
        "{err}"
    );
    let err = asff::parse(&read(
        "aws_asff/awscli_securityhub_get-finding-history.json",
    ))
    .unwrap_err();
    assert!(
        err.message
            .starts_with("Records: this is `get-finding-history` output"),
        "{err}"
    );
}

#[test]
fn resolved_findings_in_a_real_export_are_reported_with_their_status() {
    let text =
        String::from_utf8(read("aws_asff/defectdojo_securityhub_inspector_ecr.json")).unwrap();
    let edited = text.replacen("\"Status\": \"NEW\"", "\"Status\": \"RESOLVED\"", 1);
    assert_ne!(edited, text);
    let all = asff::parse_with_status(edited.as_bytes()).unwrap();
    assert_eq!(all.len(), 7);
    assert_eq!(all[0].1, AsffStatus::Resolved);
    assert!(all[1..].iter().all(|(_, s)| *s == AsffStatus::Active));
    let open = asff::parse(edited.as_bytes()).unwrap();
    assert_eq!(open.len(), 6);
    assert!(!open.contains(&all[0].0));
}

#[test]
fn other_formats_are_not_claimed() {
    for dir in [
        "grype",
        "osv",
        "osv_scanner",
        "sarif",
        "trivy",
        "github_webhooks",
    ] {
        let Ok(entries) = std::fs::read_dir(format!("{CORPUS}{dir}")) else {
            continue;
        };
        for e in entries.flatten().filter(|e| e.path().is_file()) {
            let bytes = std::fs::read(e.path()).unwrap();
            assert!(
                !asff::looks_like(&bytes[..bytes.len().min(65_536)]),
                "{}",
                e.path().display()
            );
        }
    }
}

#[test]
fn ten_thousand_findings_parse_quickly() {
    let one = String::from_utf8(read(
        "aws_asff/awsdocs_securityhub_sample_finding_fsbp.json",
    ))
    .unwrap();
    let items: Vec<String> = (0..10_000)
        .map(|i| one.replacen("EXAMPLE11111", &format!("N{i}"), 1))
        .collect();
    let doc = format!("{{\"Findings\":[{}]}}", items.join(","));
    let v = asff::parse(doc.as_bytes()).unwrap();
    assert_eq!(v.len(), 10_000);
    assert_eq!(
        v.iter()
            .map(|f| &f.fingerprint)
            .collect::<HashSet<_>>()
            .len(),
        10_000
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_exports_never_panic(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..8)
    ) {
        let mut doc = read("aws_asff/defectdojo_securityhub_config_multiple_resources.json");
        for (pos, byte, op) in edits {
            let pos = pos % doc.len().max(1);
            match op {
                0 => { if let Some(b) = doc.get_mut(pos) { *b = byte } }
                1 => { if pos < doc.len() { doc.remove(pos); } }
                _ => doc.insert(pos, byte),
            }
        }
        match asff::parse_with_status(&doc) {
            Ok(v) => prop_assert!(v.len() <= 2),
            Err(e) => prop_assert!(!e.message.is_empty() && e.format == asff::FORMAT),
        }
    }
}

mod common;

use chrono::{Duration, Utc};
use common::{TestDb, TestServer};
use remedybot::app::IngestOptions;
use remedybot::domain::{Actor, Command, FindingId, Source, Stage};
use serde_json::Value;

const SAMPLE: &str = "aws_asff/awsdocs_securityhub_sample_finding_fsbp.json";
const SAMPLE_ID: &str = "arn:aws:securityhub:us-east-2:123456789012:subscription/aws-foundational-security-best-practices/v/1.0.0/CloudTrail.2/finding/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111";

/// A corpus file with its `Workflow.Status` set, and a `Note` when given.
fn with_status(path: &str, status: &str, note: Option<&str>) -> String {
    let text = String::from_utf8(read(path)).unwrap();
    let old = "\"Workflow\": {\n    \"Status\": \"NEW\"\n  }";
    assert!(text.contains(old), "{path}");
    let note = note
        .map(|n| {
            format!(
                ", \"Note\": {{\"Text\": \"{n}\", \"UpdatedBy\": \"arn:aws:iam::123456789012:user/alice\", \"UpdatedAt\": \"2021-09-29T08:00:00Z\"}}"
            )
        })
        .unwrap_or_default();
    text.replacen(
        old,
        &format!("\"Workflow\": {{\"Status\": \"{status}\"}}{note}"),
        1,
    )
}

#[test]
fn resolved_and_suppressed_findings_become_status_reports() {
    let resolved = with_status(SAMPLE, "RESOLVED", None);
    let (findings, reports) = asff::parse_reported(resolved.as_bytes()).unwrap();
    assert!(findings.is_empty());
    assert_eq!(reports.len(), 1);
    let active = asff::parse(&read(SAMPLE)).unwrap();
    assert_eq!(reports[0].fingerprint, active[0].fingerprint);
    assert_eq!(reports[0].actor.reference(), "aws:securityhub");
    let Command::RecordEvidence(evidence) = &reports[0].command else {
        panic!("{:?}", reports[0].command);
    };
    assert_eq!(
        evidence.rescan_result,
        "AWS Security Hub marks it RESOLVED (2021-09-28T16:10:00.093Z)"
    );
    assert_eq!(evidence.link, SAMPLE_ID, "no SourceUrl: the finding's Id");

    let suppressed = with_status(SAMPLE, "SUPPRESSED", Some("compensating control: SCP"));
    let (_, reports) = asff::parse_reported(suppressed.as_bytes()).unwrap();
    assert_eq!(
        reports[0].command,
        Command::Comment {
            text: "suppressed in AWS Security Hub by arn:aws:iam::123456789012:user/alice \
                   (2021-09-28T16:10:00.093Z): compensating control: SCP"
                .into(),
            link: None,
        }
    );

    // The same document also reports it active: it is open, no report.
    let active_text = String::from_utf8(read(SAMPLE)).unwrap();
    let both = format!("[{resolved}, {active_text}]");
    let (findings, reports) = asff::parse_reported(both.as_bytes()).unwrap();
    assert_eq!((findings.len(), reports.len()), (1, 0));
}

async fn post(server: &TestServer, path: &str, body: String) -> (u16, Value) {
    let resp = server.post(path, body).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

async fn trail(server: &TestServer, id: &str) -> Vec<Value> {
    let v: Value = server
        .get(&format!("/api/v1/findings/{id}/trail"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn security_hub_resolving_a_finding_records_evidence_once_and_keeps_it_open() {
    for db in TestDb::all().await {
        let server = TestServer::start(db.app().await).await;
        let (status, created) = post(
            &server,
            "/api/v1/findings",
            String::from_utf8(read(SAMPLE)).unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{created}");
        assert_eq!(created["created"], 1);
        let id = created["findings"][0]["id"].as_str().unwrap().to_string();
        let fingerprint = created["findings"][0]["fingerprint"].clone();

        let resolved = with_status(SAMPLE, "RESOLVED", None);
        let (status, reply) = post(&server, "/api/v1/findings", resolved.clone()).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["format"], "asff");
        assert_eq!(
            (reply["received"].clone(), reply["created"].clone()),
            (0.into(), 0.into())
        );
        assert_eq!(
            reply["status_updates"],
            serde_json::json!([{ "id": id, "fingerprint": fingerprint, "change": "evidence_recorded" }]),
            "{}",
            db.backend
        );
        let events = trail(&server, &id).await;
        let last = events.last().unwrap();
        assert_eq!(last["kind"], "evidence_recorded");
        assert_eq!(last["actor"]["platform"], "aws", "{last}");
        assert_eq!(
            last["payload"]["evidence"]["rescan_result"],
            "AWS Security Hub marks it RESOLVED (2021-09-28T16:10:00.093Z)",
            "{last}"
        );
        let fid: FindingId = id.parse().unwrap();
        let f = server.app.store.finding(fid).await.unwrap().unwrap();
        assert_eq!(f.state.stage, Stage::New, "evidence never closes");
        assert_eq!(f.state.evidence.len(), 1);

        // The same status again: nothing new.
        let (_, again) = post(&server, "/api/v1/findings", resolved.clone()).await;
        assert_eq!(again["status_updates"], serde_json::json!([]));
        assert_eq!(trail(&server, &id).await.len(), events.len());

        // Suppressed: a comment, still open.
        let suppressed = with_status(
            SAMPLE,
            "SUPPRESSED",
            Some("risk owned by the platform team"),
        );
        let (_, reply) = post(&server, "/api/v1/findings", suppressed).await;
        assert_eq!(reply["status_updates"][0]["change"], "commented", "{reply}");
        let events = trail(&server, &id).await;
        let last = events.last().unwrap();
        assert_eq!(last["kind"], "commented");
        assert!(
            last["payload"]["text"].as_str().unwrap().starts_with(
                "suppressed in AWS Security Hub by arn:aws:iam::123456789012:user/alice"
            ),
            "{last}"
        );
        let f = server.app.store.finding(fid).await.unwrap().unwrap();
        assert!(f.state.is_open());

        // Seen active again, then resolved again: that is a new status change.
        let app = &server.app;
        let actor = Actor::new("api", "ingest-token", "ingest API");
        let later = Utc::now() + Duration::hours(1);
        let (findings, _) = asff::parse_reported(&read(SAMPLE)).unwrap();
        let out = app
            .ingest_reported(
                findings,
                &[],
                &IngestOptions::default(),
                &actor,
                Source::Api,
                later,
            )
            .await
            .unwrap();
        assert_eq!(out.unchanged, 1);
        let (_, reports) = asff::parse_reported(resolved.as_bytes()).unwrap();
        for (hours, recorded) in [(2, 1), (3, 0)] {
            let out = app
                .ingest_reported(
                    Vec::new(),
                    &reports,
                    &IngestOptions::default(),
                    &actor,
                    Source::Api,
                    Utc::now() + Duration::hours(hours),
                )
                .await
                .unwrap();
            assert_eq!(out.status_updates.len(), recorded, "{hours}");
        }
        let f = app.store.finding(fid).await.unwrap().unwrap();
        assert_eq!(f.state.evidence.len(), 2);
        assert_eq!(f.state.stage, Stage::New);
        assert!(app.store.verify_chain(None).await.unwrap().is_intact());
        server.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn status_reports_never_create_findings_and_a_rejected_batch_records_nothing() {
    for db in TestDb::all().await {
        let server = TestServer::start(db.app().await).await;
        let (_, created) = post(
            &server,
            "/api/v1/findings",
            String::from_utf8(read(SAMPLE)).unwrap(),
        )
        .await;
        let id = created["findings"][0]["id"].as_str().unwrap().to_string();
        let before = trail(&server, &id).await.len();

        // Unknown to remedybot and resolved: not created.
        let other = with_status(
            "aws_asff/awsdocs_securityhub_sample_finding_control_tower.json",
            "RESOLVED",
            None,
        );
        let (status, reply) = post(&server, "/api/v1/findings", other).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(reply["status_updates"], serde_json::json!([]));
        assert_eq!(server.app.store.summary(Utc::now()).await.unwrap().total, 1);

        // A batch with a bad finding is refused whole: the resolved one records nothing.
        let resolved = with_status(SAMPLE, "RESOLVED", None);
        let broken = String::from_utf8(read(SAMPLE))
            .unwrap()
            .replacen("\"Title\"", "\"Untitled\"", 1)
            .replacen("EXAMPLE11111", "EXAMPLE22222", 1);
        let (status, reply) = post(
            &server,
            "/api/v1/findings",
            format!("[{resolved}, {broken}]"),
        )
        .await;
        assert_eq!(status, 400, "{reply}");
        assert_eq!(trail(&server, &id).await.len(), before);

        // A full scan of the same asset that reports it resolved does not also call it
        // missing.
        let cis = String::from_utf8(read(
            "aws_asff/awsdocs_securityhub_sample_finding_cis_1.2.0.json",
        ))
        .unwrap();
        let (_, reply) = post(
            &server,
            "/api/v1/findings?scan=full",
            format!("[{resolved}, {cis}]"),
        )
        .await;
        assert_eq!(reply["created"], 1, "{reply}");
        assert_eq!(
            reply["status_updates"][0]["change"], "evidence_recorded",
            "{reply}"
        );
        assert_eq!(reply["not_seen"], serde_json::json!([]));
        assert_eq!(trail(&server, &id).await.len(), before + 1);
        server.stop().await;
        db.cleanup().await;
    }
}
