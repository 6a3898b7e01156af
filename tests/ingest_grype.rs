//! Every Grype corpus file through the Grype parser, with values checked against the files.

use std::collections::HashSet;

use proptest::prelude::*;
use remedybot::domain::{NewFinding, Severity};
use remedybot::ingest::grype;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/findings/grype"
);

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{CORPUS}/{name}")).unwrap()
}

/// Parse twice; fingerprints must be unique within the file and identical on re-parse.
fn parse(name: &str) -> Vec<NewFinding> {
    let bytes = read(name);
    let a = grype::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        a,
        grype::parse(&bytes).unwrap(),
        "{name}: second parse differs"
    );
    let unique: HashSet<_> = a.iter().map(|f| &f.fingerprint).collect();
    assert_eq!(unique.len(), a.len(), "{name}: duplicate fingerprints");
    for f in &a {
        assert_eq!(f.source, "grype");
        assert!(
            !f.rule_id.is_empty() && !f.asset.is_empty() && !f.location.is_empty(),
            "{f:?}"
        );
        assert!(f.title.starts_with(&f.rule_id), "{f:?}");
        assert!(f.references.len() <= 100 && f.tags.len() <= 100);
    }
    a
}

/// (critical, high, medium, low, info)
fn severities(findings: &[NewFinding]) -> [usize; 5] {
    let n = |s| findings.iter().filter(|f| f.severity == s).count();
    [
        n(Severity::Critical),
        n(Severity::High),
        n(Severity::Medium),
        n(Severity::Low),
        n(Severity::Info),
    ]
}

#[test]
fn every_corpus_file_is_covered_below() {
    let names: Vec<_> = std::fs::read_dir(CORPUS)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 9);
    for n in names {
        parse(&n.to_string_lossy());
    }
}

#[test]
fn check_all_fields_reads_every_field_and_collapses_the_exact_repeat() {
    let f = parse("defectdojo_grype_check_all_fields.json");
    // Six matches; the two GHSA-v6rh-hp5x-86rv matches for Django 3.2.9 are byte-identical.
    assert_eq!(f.len(), 5);
    assert_eq!(severities(&f), [2, 2, 0, 0, 1]);
    assert!(f.iter().all(|x| x.asset == "vulnerable-image:latest"));
    let krb = &f[0];
    assert_eq!(
        (krb.rule_id.as_str(), krb.severity),
        ("CVE-2004-0971", Severity::Info),
        "Negligible"
    );
    assert_eq!(
        krb.location,
        "libgssapi-krb5-2@1.17-3+deb10u3 (/var/lib/dpkg/status)"
    );
    assert_eq!(krb.tags, ["deb", "debian:10", "fix:not-fixed"]);
    assert!(
        krb.description.starts_with("The krb5-send-pr script"),
        "from the related NVD record"
    );
    assert_eq!(
        krb.references[0],
        "https://security-tracker.debian.org/tracker/CVE-2004-0971"
    );
    let redis = &f[1];
    assert_eq!(
        redis.description.lines().last(),
        Some("Fixed in redis fix_1, fix_2.")
    );
    let libc: Vec<_> = f.iter().filter(|x| x.rule_id == "CVE-2021-33574").collect();
    assert_eq!(libc.len(), 2, "libc-bin and libc6");
    let django = &f[4];
    assert_eq!(django.rule_id, "GHSA-v6rh-hp5x-86rv");
    assert!(django.tags.contains(&"CVE-2021-44420".to_string()));
    assert!(django.description.ends_with("Fixed in Django 3.2.10."));
}

#[test]
fn fix_not_available() {
    let f = parse("defectdojo_grype_fix_not_available.json");
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].rule_id.as_str(), f[0].severity),
        ("CVE-2009-3882", Severity::High)
    );
    assert_eq!(f[0].asset, "REDACTED");
    assert!(f[0].tags.contains(&"fix:unknown".to_string()));
    assert_eq!(
        f[0].location,
        "java@17.0.10+7 -J-ms8m (/opt/java/openjdk/bin/java)"
    );
}

#[test]
fn issue_9618_falls_back_to_cvss_when_severity_is_missing() {
    let f = parse("defectdojo_grype_issue_9618.json");
    assert_eq!(f.len(), 35);
    // 18 High + 1 without severity whose CVSS is 7.5.
    assert_eq!(severities(&f), [1, 19, 13, 2, 0]);
    let cc = f.iter().find(|x| x.rule_id == "CVE-2024-26308").unwrap();
    assert_eq!(cc.severity, Severity::High);
    assert_eq!(
        cc.location,
        "commons-compress@1.21 (/opt/kafka/plugins/apicurio/commons-compress-1.21.jar)"
    );
    assert!(
        f.iter()
            .all(|x| x.asset == "quay.io/cloudservices/xjoin-kafka-connect-strimzi:latest")
    );
}

#[test]
fn many_vulns3_uses_the_early_grype_schema() {
    let f = parse("defectdojo_grype_many_vulns3.json");
    assert_eq!(f.len(), 327);
    // 106 Negligible + 10 Unknown without any CVSS are info.
    assert_eq!(severities(&f), [5, 24, 155, 27, 116]);
    let bash = &f[0];
    assert_eq!(
        (bash.rule_id.as_str(), bash.severity),
        ("CVE-2019-18276", Severity::Info)
    );
    assert_eq!(
        bash.references,
        ["https://security-tracker.debian.org/tracker/CVE-2019-18276"],
        "`links`"
    );
    assert_eq!(bash.asset, "defectdojo/defectdojo-django:1.13.1");
}

#[test]
fn epss_file() {
    let f = parse("defectdojo_grype_many_vulns_with_epss_values.json");
    assert_eq!(f.len(), 15);
    assert_eq!(severities(&f), [1, 10, 2, 2, 0]);
    assert_eq!(f[0].location, "busybox@1.32.1 (/bin/[)");
    assert!(f.iter().all(|x| x.asset == "busybox:1.32.1"));
}

#[test]
fn no_vuln_is_zero_findings() {
    assert!(parse("defectdojo_grype_no_vuln.json").is_empty());
}

#[test]
fn the_same_cve_at_two_paths_is_two_findings() {
    let f = parse("defectdojo_grype_same_cve_different_paths.json");
    assert_eq!(f.len(), 2);
    assert!(
        f.iter()
            .all(|x| x.rule_id == "CVE-2021-33574" && x.severity == Severity::Critical)
    );
    assert_eq!(
        f[0].location,
        "libc6@2.28-10 (/usr/lib/x86_64-linux-gnu/libc.so.6)"
    );
    assert_eq!(
        f[1].location,
        "libc6@2.28-10 (/lib/x86_64-linux-gnu/libc.so.6)"
    );
    assert_ne!(f[0].fingerprint, f[1].fingerprint);
}

#[test]
fn grype_presenter_snapshots() {
    let dirs = parse("grype_TestJsonDirsPresenter.json");
    let imgs = parse("grype_TestJsonImgsPresenter.json");
    for f in [&dirs, &imgs] {
        assert_eq!(
            f.iter().map(|x| x.rule_id.as_str()).collect::<Vec<_>>(),
            ["CVE-1999-0001", "CVE-1999-0002"]
        );
        assert_eq!(
            f.iter().map(|x| x.severity).collect::<Vec<_>>(),
            [Severity::Low, Severity::Critical]
        );
        assert!(f[1].tags.contains(&"known-exploited".to_string()));
        assert_eq!(f[0].description, "Fixed in package-1 1.2.1, 2.1.3, 3.4.0.");
    }
    assert_eq!(dirs[0].asset, "/some/path");
    assert_eq!(imgs[0].asset, "user-input");
    assert_ne!(dirs[0].fingerprint, imgs[0].fingerprint, "different assets");
}

#[test]
fn ten_thousand_matches_parse_quickly() {
    let one = |i: usize| {
        format!(
            r#"{{"vulnerability":{{"id":"CVE-2024-{i}","severity":"High","urls":["https://example.test/{i}"],"description":"{}","cvss":[{{"version":"3.1","metrics":{{"baseScore":7.5}}}}],"fix":{{"versions":["2.0"],"state":"fixed"}}}},"relatedVulnerabilities":[],"matchDetails":[{{"matcher":"dpkg-matcher"}}],"artifact":{{"name":"pkg{i}","version":"1.{i}","type":"deb","locations":[{{"path":"/var/lib/dpkg/status"}}],"purl":"pkg:deb/debian/pkg{i}@1.{i}"}}}}"#,
            "A long description of the problem. ".repeat(10)
        )
    };
    let matches: Vec<String> = (0..10_000).map(one).collect();
    let doc = format!(
        r#"{{"matches":[{}],"source":{{"type":"image","target":{{"userInput":"big:1"}}}},"descriptor":{{"name":"grype"}}}}"#,
        matches.join(",")
    );
    let (f, peak) = peak::measure(|| grype::parse(doc.as_bytes()).unwrap());
    eprintln!(
        "grype: peak {} KiB allocated for {} KiB of input",
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
            ("defectdojo_grype_same_cve_different_paths.json", 2),
            ("grype_TestJsonDirsPresenter.json", 2),
            ("defectdojo_grype_check_all_fields.json", 6),
        ][pick];
        let mut doc = read(name);
        for (at, byte, op) in edits {
            let pos = at.index(doc.len());
            match op {
                0 => doc[pos] = byte,
                1 => { doc.remove(pos); }
                _ => doc.insert(pos, byte),
            }
        }
        match grype::parse(&doc) {
            Ok(findings) => prop_assert!(findings.len() <= most),
            Err(e) => { prop_assert_eq!(e.format, "Grype JSON"); prop_assert!(!e.message.is_empty()); }
        }
    }
}

#[path = "common/peak.rs"]
mod peak;

#[global_allocator]
static ALLOC: peak::Counting = peak::Counting;
