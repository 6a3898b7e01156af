//! Every OSV record and osv-scanner corpus file through `ingest::osv`, a realistic
//! osv-scanner report, and a fuzz test on a real record.

use std::collections::HashSet;

use proptest::prelude::*;
use remedybot::domain::{NewFinding, Severity};
use remedybot::ingest::osv;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/findings/");

fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{CORPUS}{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses `bytes`, checks fingerprints are unique and stable, returns the findings.
fn check(name: &str, bytes: &[u8]) -> Vec<NewFinding> {
    let v = osv::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let fps: HashSet<_> = v.iter().map(|f| &f.fingerprint).collect();
    assert_eq!(fps.len(), v.len(), "{name}: fingerprints must be unique");
    assert_eq!(
        osv::parse(bytes).unwrap(),
        v,
        "{name}: a second parse must agree"
    );
    for f in &v {
        assert!(
            !f.asset.is_empty() && !f.title.is_empty() && !f.rule_id.is_empty(),
            "{name}"
        );
        assert!(f.owner.is_none());
    }
    v
}

fn open(file: &str) -> Vec<NewFinding> {
    let bytes = read(&format!("osv/{file}"));
    assert!(osv::looks_like(&bytes[..bytes.len().min(65_536)]), "{file}");
    check(file, &bytes)
}

#[test]
fn package_advisories() {
    let v = open("osv-schema_GHSA-9v2f-6vcg-3hgv.json");
    assert_eq!(v.len(), 1);
    let f = &v[0];
    assert_eq!(
        (f.source.as_str(), f.rule_id.as_str()),
        ("osv", "GHSA-9v2f-6vcg-3hgv")
    );
    assert_eq!(
        f.severity,
        Severity::Critical,
        "CVSS 3.1 vector scoring 9.8"
    );
    assert_eq!(f.asset, "PyPI/Gradio");
    assert_eq!(f.location, "versions 4.36.1, 4.36.-1");
    assert_eq!(f.tags, vec!["CVE-2024-39236", "CWE-94", "ecosystem:PyPI"]);
    assert_eq!(f.references.len(), 2);

    let v = open("osv-schema_GO-2020-0001.json");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].asset, "Go/github.com/gin-gonic/gin");
    assert_eq!(v[0].location, "SEMVER >=0 <1.6.0");
    assert_eq!(
        v[0].severity,
        Severity::Medium,
        "Go records carry no severity: medium"
    );
    assert_eq!(
        v[0].title,
        "Arbitrary log line injection in github.com/gin-gonic/gin"
    );
    assert!(
        v[0].references
            .contains(&"https://pkg.go.dev/vuln/GO-2020-0001".to_string())
    );

    let v = open("osv-schema_GO-2024-2963.json");
    assert_eq!(v[0].location, "SEMVER >=0 <1.21.12 >=1.22.0-0 <1.22.5");
    let v = open("osv-schema_PYSEC-2023-74.json");
    assert_eq!((v.len(), v[0].asset.as_str()), (1, "PyPI/requests"));
    assert!(v[0].location.contains("ECOSYSTEM >=2.3.0 <2.31.0"));
    assert!(v[0].location.ends_with("and 56 more"), "{}", v[0].location);
    assert_eq!(
        v[0].title, "Requests is a HTTP library.",
        "first sentence of the details"
    );
}

#[test]
fn distribution_advisories_give_one_finding_per_package() {
    let v = open("osv-schema_CVE-2018-5407.json");
    assert_eq!(v.len(), 7);
    assert!(v.iter().all(|f| f.severity == Severity::Medium), "CVSS 4.7");
    assert_eq!(v[0].asset, "Alpine:v3.3/openssl");
    assert_eq!(v[5].asset, "Alpine:v3.8/openssl");
    assert_eq!(
        v[6].asset, "https://github.com/nodejs/node",
        "a GIT-only entry"
    );

    let v = open("osv-schema_redhat_RHSA-2024_6220.json");
    assert_eq!(v.len(), 228);
    assert!(
        v.iter()
            .all(|f| f.severity == Severity::High && f.rule_id == "RHSA-2024:6220")
    );
    assert_eq!(v[0].asset, "Red Hat:rhel_aus:8.6::appstream/PyYAML");
    assert!(
        v[0].tags.contains(&"CVE-2024-6345".to_string()),
        "upstream ids are tags"
    );
}

#[test]
fn records_without_affected_packages_or_withdrawn_give_nothing() {
    assert!(open("osv-schema_RHSA-2022_0216.json").is_empty());
    assert!(open("osv-schema_SUSE-FU-2022_0444-1.json").is_empty());
    assert!(open("osv-schema_ghsa_withdrawn.osv.json").is_empty());
}

#[test]
fn lint_negative_records_still_name_their_assets() {
    // No `introduced` event: the record still says which repository is affected.
    let v = open("osv-schema_lint-negative_nointroduced-CVE-2023-41045.json");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].asset, "https://github.com/graylog2/graylog2-server");
    assert_eq!(v[0].severity, Severity::Medium, "CVSS 5.3");
    // Non-distinct events: read as given; the extra GIT range shows up in the location.
    let v = open("osv-schema_lint-negative_nondistinct-CVE-2018-5407.json");
    assert_eq!(v.len(), 7);
    assert_eq!(v[6].asset, "https://github.com/nodejs/node");
    assert!(
        v[6].location
            .contains("GIT https://github.com/openssl/openssl")
    );
}

#[test]
fn the_empty_osv_scanner_file_is_zero_findings() {
    assert!(
        check(
            "no_findings",
            &read("osv_scanner/defectdojo_osv-scanner_no_findings.json")
        )
        .is_empty()
    );
}

/// osv-scanner 1.x `--format json` output for a Go module and a Cargo lockfile, shaped like
/// the sample in osv-scanner's docs/output.md, with real advisory data.
const SCANNER: &str = r#"{
  "results": [
    {
      "source": {"path": "/work/app/go.mod", "type": "lockfile"},
      "packages": [
        {
          "package": {"name": "github.com/gogo/protobuf", "version": "1.3.1", "ecosystem": "Go"},
          "vulnerabilities": [
            {"id": "GHSA-c3h9-896r-86jm", "modified": "2023-11-08T04:04:47Z", "aliases": ["CVE-2021-3121"],
             "summary": "Improper Input Validation in GoGo Protobuf",
             "details": "An issue was discovered in GoGo Protobuf before 1.3.2.",
             "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
             "affected": [{"package": {"ecosystem": "Go", "name": "github.com/gogo/protobuf"},
                           "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.2"}]}]}],
             "references": [{"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2021-3121"}],
             "database_specific": {"cwe_ids": ["CWE-129", "CWE-20"], "severity": "HIGH"}},
            {"id": "GO-2021-0053", "modified": "2024-05-20T16:03:47Z", "aliases": ["CVE-2021-3121", "GHSA-c3h9-896r-86jm"],
             "summary": "Panic due to improper input validation in github.com/gogo/protobuf",
             "affected": [{"package": {"ecosystem": "Go", "name": "github.com/gogo/protobuf"},
                           "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.2"}]}]}]}
          ],
          "groups": [{"ids": ["GHSA-c3h9-896r-86jm", "GO-2021-0053"], "aliases": ["CVE-2021-3121", "GHSA-c3h9-896r-86jm", "GO-2021-0053"], "max_severity": "7.5"}]
        }
      ]
    },
    {
      "source": {"path": "/work/app/Cargo.lock", "type": "lockfile"},
      "packages": [
        {
          "package": {"name": "regex", "version": "1.5.1", "ecosystem": "crates.io"},
          "vulnerabilities": [
            {"id": "GHSA-m5pq-gvj9-9vr8", "modified": "2023-06-13T18:58:13Z", "aliases": ["CVE-2022-24713"],
             "summary": "Regexes with large repetitions on empty sub-expressions take a very long time to parse",
             "affected": [{"package": {"ecosystem": "crates.io", "name": "regex"},
                           "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.5.5"}]}]}],
             "database_specific": {"severity": "HIGH"}},
            {"id": "RUSTSEC-2022-0013", "modified": "2023-06-13T13:10:24Z", "aliases": ["CVE-2022-24713", "GHSA-m5pq-gvj9-9vr8"],
             "summary": "Regexes with large repetitions on empty sub-expressions take a very long time to parse",
             "affected": [{"package": {"ecosystem": "crates.io", "name": "regex"},
                           "ranges": [{"type": "SEMVER", "events": [{"introduced": "0.0.0-0"}, {"fixed": "1.5.5"}]}]}]}
          ],
          "groups": [{"ids": ["GHSA-m5pq-gvj9-9vr8", "RUSTSEC-2022-0013"], "aliases": ["CVE-2022-24713"], "max_severity": ""}]
        },
        {
          "package": {"name": "time", "version": "0.1.43", "ecosystem": "crates.io"},
          "vulnerabilities": [
            {"id": "RUSTSEC-2020-0071", "modified": "2023-06-13T13:10:24Z", "aliases": ["CVE-2020-26235", "GHSA-wcg3-cvx6-7396"],
             "summary": "Potential segfault in the time crate",
             "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
             "affected": [{"package": {"ecosystem": "crates.io", "name": "time"},
                           "ranges": [{"type": "SEMVER", "events": [{"introduced": "0.0.0-0"}, {"fixed": "0.2.23"}]}]}]}
          ],
          "groups": [{"ids": ["RUSTSEC-2020-0071"], "max_severity": "6.2"}]
        }
      ]
    }
  ]
}"#;

#[test]
fn osv_scanner_output_gives_one_finding_per_source_package_and_group() {
    assert!(osv::looks_like(SCANNER.as_bytes()));
    let v = check("scanner", SCANNER.as_bytes());
    assert_eq!(v.len(), 3);
    let f = &v[0];
    assert_eq!(f.source, "osv-scanner");
    assert_eq!(f.rule_id, "CVE-2021-3121", "the CVE names the group");
    assert_eq!(f.severity, Severity::High, "max_severity 7.5");
    assert_eq!(f.asset, "/work/app/go.mod");
    assert_eq!(f.location, "github.com/gogo/protobuf@1.3.1");
    assert_eq!(f.title, "Improper Input Validation in GoGo Protobuf");
    assert!(f.description.ends_with("Fixed in: 1.3.2"));
    for tag in [
        "GHSA-c3h9-896r-86jm",
        "GO-2021-0053",
        "CWE-20",
        "ecosystem:Go",
        "source:lockfile",
    ] {
        assert!(f.tags.contains(&tag.to_string()), "{tag}: {:?}", f.tags);
    }
    assert!(!f.tags.contains(&"CVE-2021-3121".to_string()));
    assert_eq!(
        f.references[0],
        "https://osv.dev/vulnerability/GHSA-c3h9-896r-86jm"
    );

    assert_eq!(v[1].rule_id, "CVE-2022-24713");
    assert_eq!(
        v[1].severity,
        Severity::High,
        "empty max_severity: the records' label"
    );
    assert_eq!(v[1].asset, "/work/app/Cargo.lock");
    assert_eq!(
        (v[2].rule_id.as_str(), v[2].severity),
        ("CVE-2020-26235", Severity::Medium)
    );

    // A re-scan after a version bump that is still vulnerable is the same finding.
    let bumped = SCANNER.replace("\"version\": \"1.3.1\"", "\"version\": \"1.3.1-rc\"");
    assert_eq!(
        osv::parse(bumped.as_bytes()).unwrap()[0].fingerprint,
        f.fingerprint
    );
}

#[test]
fn other_formats_are_not_claimed() {
    for dir in [
        "aws_asff",
        "aws_guardduty",
        "grype",
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
                !osv::looks_like(&bytes[..bytes.len().min(65_536)]),
                "{}",
                e.path().display()
            );
        }
    }
}

#[test]
fn ten_thousand_scanner_results_parse_quickly() {
    let start = SCANNER
        .find("{\n          \"package\": {\"name\": \"time\"")
        .unwrap();
    let end = SCANNER.rfind("\n      ]\n    }\n  ]\n}").unwrap();
    let package = &SCANNER[start..end];
    let packages: Vec<String> = (0..10_000)
        .map(|i| package.replacen("\"name\": \"time\"", &format!("\"name\": \"time{i}\""), 1))
        .collect();
    let doc = format!(
        "{{\"results\":[{{\"source\":{{\"path\":\"/a/Cargo.lock\",\"type\":\"lockfile\"}},\"packages\":[{}]}}]}}",
        packages.join(",")
    );
    let v = osv::parse(doc.as_bytes()).unwrap();
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
    fn mutated_records_never_panic(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..8),
        scanner in any::<bool>(),
    ) {
        let mut doc = if scanner { SCANNER.as_bytes().to_vec() } else { read("osv/osv-schema_CVE-2018-5407.json") };
        for (pos, byte, op) in edits {
            let pos = pos % doc.len().max(1);
            match op {
                0 => { if let Some(b) = doc.get_mut(pos) { *b = byte } }
                1 => { if pos < doc.len() { doc.remove(pos); } }
                _ => doc.insert(pos, byte),
            }
        }
        match osv::parse(&doc) {
            Ok(v) => prop_assert!(v.len() <= 8),
            Err(e) => prop_assert!(!e.message.is_empty() && e.format == osv::FORMAT),
        }
    }
}
