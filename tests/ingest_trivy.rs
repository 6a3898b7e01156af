//! Every Trivy corpus file through the Trivy parser, with values checked against the files.

use std::collections::HashSet;
use std::path::PathBuf;

use proptest::prelude::*;
use remedybot::domain::{NewFinding, Severity};
use remedybot::ingest::{grype, trivy};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/findings");

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{CORPUS}/trivy/{name}")).unwrap()
}

/// Parse twice; fingerprints must be unique within the file and identical on re-parse.
fn parse(name: &str) -> Vec<NewFinding> {
    let bytes = read(name);
    let a = trivy::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let b = trivy::parse(&bytes).unwrap();
    assert_eq!(a, b, "{name}: second parse differs");
    let unique: HashSet<_> = a.iter().map(|f| &f.fingerprint).collect();
    assert_eq!(unique.len(), a.len(), "{name}: duplicate fingerprints");
    for f in &a {
        assert_eq!(f.source, "trivy");
        assert!(
            !f.rule_id.is_empty() && !f.title.is_empty() && !f.asset.is_empty(),
            "{f:?}"
        );
        assert!(!f.title.contains('\n'), "{f:?}");
        assert!(f.owner.is_none());
    }
    a
}

fn count(findings: &[NewFinding], severity: Severity) -> usize {
    findings.iter().filter(|f| f.severity == severity).count()
}

fn rules(findings: &[NewFinding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule_id.as_str()).collect()
}

#[test]
fn every_corpus_file_is_covered_below() {
    let mut names: Vec<String> = std::fs::read_dir(format!("{CORPUS}/trivy"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 19);
    // Every file parses (the expectations per file follow).
    for n in &names {
        parse(n);
    }
}

#[test]
fn all_statuses_skips_the_vendor_not_affected_entry() {
    let f = parse("defectdojo_trivy_all_statuses.json");
    assert_eq!(
        f.len(),
        7,
        "8 vulnerabilities, CVE-2019-18276 is not_affected"
    );
    assert!(!rules(&f).contains(&"CVE-2019-18276"));
    assert_eq!(count(&f, Severity::Low), 7);
    // ArtifactName is "" in this file: the asset falls back to the target without its OS.
    assert!(
        f.iter()
            .all(|x| x.asset == "noppaknopsta/example-app:main-159")
    );
    let apt = &f[0];
    assert_eq!(apt.rule_id, "CVE-2011-3374");
    assert_eq!(
        apt.location,
        "noppaknopsta/example-app:main-159 (debian 10.13): apt@1.8.2.3"
    );
    assert_eq!(apt.tags, ["os-pkgs", "debian", "CWE-347", "status:unknown"]);
    assert_eq!(
        apt.references[0],
        "https://avd.aquasec.com/nvd/cve-2011-3374"
    );
    let statuses: Vec<_> = f
        .iter()
        .filter_map(|x| x.tags.last())
        .map(String::as_str)
        .collect();
    assert_eq!(
        statuses,
        [
            "status:unknown",
            "status:affected",
            "status:fixed",
            "status:under_investigation",
            "status:will_not_fix",
            "status:fix_deferred",
            "status:end_of_life"
        ]
    );
}

#[test]
fn issue_9333_has_thirteen_vulnerabilities_with_stable_identity() {
    let f = parse("defectdojo_trivy_issue_9333.json");
    assert_eq!(f.len(), 13);
    assert_eq!(
        (count(&f, Severity::Low), count(&f, Severity::Medium)),
        (12, 1)
    );
    let cookie = f.iter().find(|x| x.rule_id == "CVE-2023-26136").unwrap();
    assert!(cookie.location.ends_with(
        "tough-cookie@2.5.0 (usr/local/lib/node_modules/npm/node_modules/tough-cookie/package.json)"
    ));
    // The same CVE in the same package of the same image is the same finding in both files.
    let other = parse("defectdojo_trivy_all_statuses.json");
    let a = f.iter().find(|x| x.rule_id == "CVE-2018-12697").unwrap();
    let b = other
        .iter()
        .find(|x| x.rule_id == "CVE-2018-12697")
        .unwrap();
    assert_eq!(a.fingerprint, b.fingerprint);
}

#[test]
fn kubernetes_reports_name_the_workload() {
    let f = parse("defectdojo_trivy_kubernetes.json");
    assert_eq!(
        f.len(),
        20,
        "2 workloads × (5 vulnerabilities + 5 failed checks)"
    );
    let cluster = "arn:aws:eks:us-east-1:576036489467:cluster/monitoring-test-cluster";
    let follower = format!("{cluster}/default/Deployment/redis-follower");
    assert_eq!(f.iter().filter(|x| x.asset == follower).count(), 10);
    let ksv = f
        .iter()
        .find(|x| x.rule_id == "KSV001" && x.asset == follower)
        .unwrap();
    assert_eq!(ksv.location, "Deployment/redis-follower:132-143");
    assert_eq!(ksv.severity, Severity::Medium);
    assert_eq!(ksv.title, "Process can elevate its own privileges");
    let apt = f
        .iter()
        .find(|x| x.rule_id == "CVE-2020-27350" && x.asset == follower)
        .unwrap();
    assert_eq!(
        apt.location,
        "gcr.io/google_samples/gb-redis-follower:v2 (debian 10.4): apt@1.8.2.1"
    );
    assert_eq!(apt.severity, Severity::Medium);
    assert_eq!(
        rules(&f).iter().filter(|r| **r == "CVE-2020-27350").count(),
        2
    );
}

#[test]
fn the_legacy_null_report_is_zero_findings() {
    assert_eq!(
        read("defectdojo_trivy_legacy_no_vuln.json").trim_ascii(),
        b"null"
    );
    assert!(parse("defectdojo_trivy_legacy_no_vuln.json").is_empty());
}

#[test]
fn licenses_are_findings_with_the_label_severity() {
    let f = parse("defectdojo_trivy_license_scheme.json");
    assert_eq!(f.len(), 19, "17 package licences + 2 loose files");
    assert_eq!(
        (
            count(&f, Severity::High),
            count(&f, Severity::Medium),
            count(&f, Severity::Low)
        ),
        (7, 1, 11)
    );
    assert!(f.iter().all(|x| x.asset == "alpine:3.11"));
    assert_eq!(f[0].rule_id, "GPL-2.0");
    assert_eq!(f[0].location, "OS Packages: alpine-baselayout");
    assert_eq!(f[0].tags, ["license", "restricted"]);
    let loose = &f[17];
    assert_eq!(loose.location, "Loose File License(s): /etc/ssl/misc/CA.pl");
    assert_eq!(loose.references, ["https://spdx.org/licenses/OpenSSL.html"]);
}

#[test]
fn misconfigurations_and_secrets_keep_the_secret_out() {
    let f = parse("defectdojo_trivy_misconfigurations_and_secrets.json");
    assert_eq!(
        rules(&f),
        [
            "CVE-2021-33503",
            "CVE-2021-28363",
            "DS002",
            "github-pat",
            "github-pat"
        ]
    );
    assert_eq!(f[2].location, "Dockerfile");
    assert!(
        f[2].description
            .contains("Resolution: Add 'USER <non root user name>'")
    );
    let secrets = &f[3..];
    assert_eq!(secrets[0].location, "Dockerfile:24");
    assert_eq!(secrets[1].location, "secret.txt:1");
    for s in secrets {
        assert_eq!(s.severity, Severity::Critical);
        assert_eq!(s.title, "GitHub Personal Access Token");
        assert!(!s.description.contains("GITHUB_PAT") && !s.title.contains("GITHUB_PAT"));
        assert!(!s.description.contains("*****"));
    }
}

#[test]
fn reports_without_vulnerabilities_are_empty() {
    assert!(parse("defectdojo_trivy_scheme_2_no_vuln.json").is_empty());
    assert!(
        parse("trivy_helm_badname.json").is_empty(),
        "no Results at all"
    );
}

#[test]
fn image_reports_read_os_and_language_packages() {
    let f = parse("trivy_alpine-39-high-critical.json");
    assert_eq!(rules(&f), ["CVE-2019-14697", "CVE-2019-14697"]);
    assert_ne!(f[0].fingerprint, f[1].fingerprint, "musl and musl-utils");
    assert_eq!(f[0].title, "CVE-2019-14697 in musl", "no Title in the file");
    assert_eq!(count(&f, Severity::Critical), 2);
    assert_eq!(f[0].asset, "testdata/fixtures/images/alpine-39.tar.gz");
    assert!(
        f[0].description.ends_with("Fixed in musl 1.1.20-r5."),
        "{}",
        f[0].description
    );

    let f = parse("trivy_alpine-distroless.json");
    assert_eq!(
        (rules(&f), f[0].severity),
        (vec!["CVE-2022-24765"], Severity::Medium)
    );

    let f = parse("trivy_centos-7.json");
    assert_eq!(
        rules(&f),
        ["CVE-2019-18276", "CVE-2019-1559", "CVE-2018-0734"]
    );
    assert_eq!(
        f.iter().map(|x| x.severity).collect::<Vec<_>>(),
        [Severity::Low, Severity::Medium, Severity::Low]
    );

    let f = parse("trivy_fluentd-gems.json");
    assert_eq!(rules(&f), ["CVE-2019-18224", "CVE-2020-8165"]);
    assert_eq!(
        f[1].location,
        "Ruby: activesupport@6.0.2.1 (var/lib/gems/2.5.0/specifications/activesupport-6.0.2.1.gemspec)"
    );
    assert_eq!(f[1].tags[..2], ["lang-pkgs", "gemspec"]);

    let f = parse("trivy_spring4shell-jre11.json");
    assert_eq!(
        (rules(&f), f[0].severity),
        (vec!["CVE-2022-22965"], Severity::Critical)
    );
    assert!(
        f[0].location
            .starts_with("Java: org.springframework:spring-beans@5.3.15 (")
    );
}

#[test]
fn repository_reports_read_lockfiles() {
    let f = parse("trivy_npm.json");
    assert_eq!(rules(&f), ["CVE-2019-11358"]);
    assert_eq!(
        (f[0].asset.as_str(), f[0].location.as_str()),
        (
            "testdata/fixtures/repo/npm",
            "package-lock.json: jquery@3.3.9"
        )
    );
    assert!(f[0].references.len() <= 100 && f[0].references.len() > 50);

    let f = parse("trivy_pip.json");
    assert_eq!(rules(&f), ["CVE-2019-14806", "CVE-2020-28724"]);
    assert_eq!(
        f.iter().map(|x| x.severity).collect::<Vec<_>>(),
        [Severity::High, Severity::Medium]
    );

    let f = parse("trivy_test-repo.json");
    assert_eq!(rules(&f), ["CVE-2019-15542", "CVE-2021-38193"]);
    assert!(
        f.iter()
            .all(|x| x.asset == "https://github.com/knqyf263/trivy-ci-test")
    );
}

#[test]
fn vex_filtered_report_keeps_what_trivy_kept() {
    let f = parse("trivy_gomod-vex.json");
    assert_eq!(
        rules(&f),
        [
            "GMS-2022-20",
            "CVE-2021-38561",
            "GMS-2022-20",
            "GMS-2022-20"
        ]
    );
    assert_eq!(count(&f, Severity::Info), 4, "UNKNOWN and no CVSS");
    let locations: Vec<_> = f.iter().map(|x| x.location.as_str()).collect();
    assert_eq!(
        locations[2],
        "submod/go.mod: github.com/docker/distribution@v2.7.1+incompatible"
    );
    assert_eq!(
        locations[3],
        "submod2/go.mod: github.com/docker/distribution@v2.7.1+incompatible"
    );
}

#[test]
fn configuration_reports_give_failed_checks() {
    let f = parse("trivy_dockerfile.json");
    assert_eq!(
        (rules(&f), f[0].severity),
        (vec!["DS-0002"], Severity::High)
    );
    assert_eq!(f[0].tags, ["config", "dockerfile"]);

    let f = parse("trivy_terraform-remote-module.json");
    assert_eq!(rules(&f), ["AWS-0089", "AWS-0090", "AWS-0132"]);
    assert_eq!(
        f.iter().map(|x| x.severity).collect::<Vec<_>>(),
        [Severity::Low, Severity::Medium, Severity::High]
    );
    assert_eq!(
        f[0].location,
        "terraform-aws-modules/s3-bucket/aws/main.tf:25-36 (module.bucket)"
    );
}

#[test]
fn detection_claims_trivy_files_and_nothing_else() {
    // The whole shared corpus (Slack, Discord, other scanners), not just findings/.
    let all = files(&PathBuf::from(format!("{CORPUS}/..")));
    assert!(all.len() > 150, "corpus not found");
    for file in all {
        let bytes = std::fs::read(&file).unwrap();
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let head = &bytes[..bytes.len().min(64 * 1024)];
        let name = file.display().to_string();
        let expected = name.contains("/findings/trivy/") && !name.ends_with("legacy_no_vuln.json");
        assert_eq!(trivy::looks_like(head), expected, "{name}");
        assert_eq!(
            grype::looks_like(head),
            name.contains("/findings/grype/"),
            "{name}"
        );
    }
    let generic = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/examples/findings.json"
    ))
    .unwrap();
    assert!(!trivy::looks_like(&generic) && !grype::looks_like(&generic));
}

fn files(dir: &PathBuf) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn ten_thousand_vulnerabilities_parse_quickly() {
    let one = |i: usize| {
        format!(
            r#"{{"VulnerabilityID":"CVE-2024-{i}","PkgName":"pkg{i}","InstalledVersion":"1.{i}","FixedVersion":"2.0","Severity":"HIGH","Title":"Problem {i}","Description":"{}","CweIDs":["CWE-79"],"CVSS":{{"nvd":{{"V3Score":7.5}}}},"References":["https://example.test/{i}","https://example.test/b/{i}"]}}"#,
            "A long description of the problem. ".repeat(10)
        )
    };
    let vulns: Vec<String> = (0..10_000).map(one).collect();
    let doc = format!(
        r#"{{"SchemaVersion":2,"ArtifactName":"big:1","ArtifactType":"container_image","Results":[{{"Target":"big:1 (debian 12)","Class":"os-pkgs","Type":"debian","Vulnerabilities":[{}]}}]}}"#,
        vulns.join(",")
    );
    let (f, peak) = peak::measure(|| trivy::parse(doc.as_bytes()).unwrap());
    eprintln!(
        "trivy: peak {} KiB allocated for {} KiB of input",
        peak / 1024,
        doc.len() / 1024
    );
    assert!(peak < 3 * doc.len(), "peak {peak} for {} bytes", doc.len());
    assert_eq!(f.len(), 10_000);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_corpus_files_never_panic(
        pick in 0usize..3,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8)
    ) {
        let (name, most) = [
            ("defectdojo_trivy_misconfigurations_and_secrets.json", 5),
            ("trivy_fluentd-gems.json", 2),
            ("defectdojo_trivy_license_scheme.json", 19),
        ][pick];
        let mut doc = read(name);
        for (at, byte, op) in edits {
            let pos = at.index(doc.len().max(1)).min(doc.len().saturating_sub(1));
            match op {
                0 => doc[pos] = byte,
                1 => { doc.remove(pos); }
                _ => doc.insert(pos, byte),
            }
        }
        match trivy::parse(&doc) {
            Ok(findings) => prop_assert!(findings.len() <= most),
            Err(e) => { prop_assert_eq!(e.format, "Trivy JSON"); prop_assert!(!e.message.is_empty()); }
        }
    }
}

#[path = "common/peak.rs"]
mod peak;

#[global_allocator]
static ALLOC: peak::Counting = peak::Counting;
