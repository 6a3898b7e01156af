//! Every scanner output in the corpus through format auto-detection: each file is
//! recognised as its own format and yields findings (or zero, or a clear error for the
//! files that are broken on purpose), and the API stores them.

mod common;

use std::path::{Path, PathBuf};

use common::{TestDb, TestServer};
use remedybot::ingest::{self, Format};
use serde_json::Value;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/findings");

/// Files that must give an error, with a piece of the message.
const BROKEN: &[(&str, &str)] = &[
    ("sarif-sdk_edge_Invalid.sarif", "not recognised"),
    (
        "sarif-sdk_edge_version_2.0.0_Minimal.sarif",
        "SARIF: version `2.0.0` is not supported",
    ),
    (
        "awscli_securityhub_get-findings_INVALID_missing_colon.json",
        "AWS Security Hub (ASFF)",
    ),
    (
        "awsdocs_securityhub_eventbridge_insight_results.json",
        "AWS Security Hub (ASFF)",
    ),
    (
        "awscli_securityhub_get-finding-history.json",
        "AWS Security Hub (ASFF)",
    ),
];

fn files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(Path::new(CORPUS).join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

#[test]
fn every_corpus_file_is_recognised_as_its_format() {
    let folders = [
        ("sarif", Format::Sarif),
        ("trivy", Format::Trivy),
        ("grype", Format::Grype),
        ("aws_asff", Format::Asff),
        ("aws_guardduty", Format::Asff),
        ("osv", Format::Osv),
        ("osv_scanner", Format::Osv),
    ];
    let mut total = 0;
    for (dir, expected) in folders {
        for path in files(dir) {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let bytes = std::fs::read(&path).unwrap();
            let result = ingest::parse(None, &bytes);
            if let Some((_, fragment)) = BROKEN.iter().find(|(f, _)| *f == name) {
                let err = result.expect_err(&name).to_string();
                assert!(err.contains(fragment), "{name}: {err}");
                continue;
            }
            let (format, findings) = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            if bytes.trim_ascii().is_empty() || bytes.trim_ascii() == b"null" {
                assert!(findings.is_empty(), "{name}");
                continue;
            }
            assert_eq!(format, expected, "{name} was taken for {}", format.name());
            total += findings.len();
            // The same file named explicitly gives the same findings.
            let (_, again) = ingest::parse(Some(expected.name()), &bytes).unwrap();
            assert_eq!(again, findings, "{name}");
        }
    }
    assert!(
        total > 3_000,
        "the corpus yields thousands of findings, got {total}"
    );
}

#[test]
fn the_generic_examples_and_unknown_input_are_told_apart() {
    let example = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/examples/findings.json"
    ))
    .unwrap();
    let (format, findings) = ingest::parse(None, &example).unwrap();
    assert_eq!((format, findings.len()), (Format::Generic, 7));
    let err = ingest::parse(None, b"{\"hello\": \"world\"}").unwrap_err();
    assert!(
        err.to_string().contains("format= (API) or --format (CLI)"),
        "{err}"
    );
    let err = ingest::parse(Some("nessus"), b"{}").unwrap_err();
    assert!(
        err.to_string().contains("supported: auto, sarif, trivy"),
        "{err}"
    );
    assert!(ingest::parse(None, b"").unwrap().1.is_empty());
    assert_eq!(
        ingest::parse(None, b" [ ] ").unwrap(),
        (Format::Generic, vec![])
    );
}

#[tokio::test]
async fn scanner_files_through_the_api_are_stored_and_deduplicated() {
    let db = TestDb::sqlite();
    let server = TestServer::start(db.app().await).await;
    for (dir, file, format) in [
        ("sarif", "defectdojo_codeQL-output.sarif", "sarif"),
        ("trivy", "defectdojo_trivy_kubernetes.json", "trivy"),
        (
            "grype",
            "defectdojo_grype_same_cve_different_paths.json",
            "grype",
        ),
        (
            "aws_asff",
            "defectdojo_securityhub_inspector_ecr.json",
            "asff",
        ),
        ("osv", "osv-schema_CVE-2018-5407.json", "osv"),
    ] {
        let body = std::fs::read(Path::new(CORPUS).join(dir).join(file)).unwrap();
        let first: Value = server
            .post("/api/v1/findings", body.clone())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(first["format"], format, "{file}: {first}");
        let created = first["created"].as_u64().unwrap();
        assert!(created > 0, "{file}: {first}");
        let again: Value = server
            .post("/api/v1/findings", body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(again["created"], 0, "{file}");
        assert_eq!(
            again["unchanged"].as_u64(),
            Some(created),
            "{file}: a re-import changes nothing"
        );
    }
    let bad = std::fs::read(
        Path::new(CORPUS)
            .join("aws_asff/awscli_securityhub_get-findings_INVALID_missing_colon.json"),
    )
    .unwrap();
    let resp = server.post("/api/v1/findings", bad).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["format"], "AWS Security Hub (ASFF)");
    assert!(body["position"]["line"].as_u64().unwrap() > 1, "{body}");
    server.stop().await;
}
