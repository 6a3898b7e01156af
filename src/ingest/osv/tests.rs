use super::*;

const RECORD: &str = r#"{"id":"GHSA-x","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2024-1"],
  "summary":"Bad thing","details":"Longer text.",
  "affected":[{"package":{"ecosystem":"PyPI","name":"foo"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2.3"}]}]},
              {"package":{"ecosystem":"npm","name":"foo"},"versions":["1.0.0"]}],
  "references":[{"type":"WEB","url":"https://x.test/a"},{"type":"WEB","url":"ftp://nope"}]}"#;

#[test]
fn one_finding_per_affected_package() {
    let v = parse(RECORD.as_bytes()).unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].asset, "PyPI/foo");
    assert_eq!(v[0].location, "ECOSYSTEM >=0 <1.2.3");
    assert_eq!(v[1].asset, "npm/foo");
    assert_eq!(v[1].location, "versions 1.0.0");
    assert_eq!(v[0].rule_id, "GHSA-x");
    assert_eq!(v[0].source, "osv");
    assert_eq!(v[0].severity, Severity::Medium, "no severity given: medium");
    assert_eq!(v[0].tags, vec!["CVE-2024-1", "ecosystem:PyPI"]);
    assert_eq!(v[0].references, vec!["https://x.test/a"]);
    assert_eq!(
        v[0].fingerprint,
        Fingerprint::derive("osv", "GHSA-x", "PyPI/foo", "")
    );
    assert_ne!(v[0].fingerprint, v[1].fingerprint);
    // Arrays of records too, and the fingerprint ignores the version ranges.
    let moved = RECORD.replace("1.2.3", "1.2.4");
    let both = parse(format!("[{RECORD},{moved}]").as_bytes()).unwrap();
    assert_eq!(both.len(), 4);
    assert_eq!(both[0].fingerprint, both[2].fingerprint);
}

#[test]
fn severity_prefers_cvss_then_labels() {
    let with = |extra: &str| {
        let doc = RECORD.replacen("\"summary\"", &format!("{extra},\"summary\""), 1);
        parse(doc.as_bytes()).unwrap()[0].severity
    };
    let v3 =
        r#""severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]"#;
    assert_eq!(with(v3), Severity::Critical);
    let v2 = r#""severity":[{"type":"CVSS_V2","score":"AV:N/AC:L/Au:N/C:P/I:N/A:N"}]"#;
    assert_eq!(with(v2), Severity::Medium);
    let v4_and_label = r#""severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}],"database_specific":{"severity":"LOW"}"#;
    assert_eq!(with(v4_and_label), Severity::Low);
    let v4_only = r#""severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N"}]"#;
    assert_eq!(with(v4_only), Severity::Medium);
    let ubuntu = r#""severity":[{"type":"Ubuntu","score":"high"}]"#;
    assert_eq!(with(ubuntu), Severity::High);
    let odd_label = r#""database_specific":{"severity":{"nested":true},"cwe_ids":"CWE-1"}"#;
    assert_eq!(with(odd_label), Severity::Medium);
    let per_entry = RECORD.replacen(
        r#""ranges""#,
        r#""ecosystem_specific":{"severity":"CRITICAL"},"ranges""#,
        1,
    );
    let v = parse(per_entry.as_bytes()).unwrap();
    assert_eq!(
        (v[0].severity, v[1].severity),
        (Severity::Critical, Severity::Medium)
    );
}

#[test]
fn entries_without_a_package_use_the_git_repo_or_fail_by_path() {
    let git = r#"{"id":"CVE-1","modified":"x","affected":[{"ranges":[{"type":"GIT","repo":"https://g.test/r","events":[{"fixed":"abc"}]}]}]}"#;
    let v = parse(git.as_bytes()).unwrap();
    assert_eq!(v[0].asset, "https://g.test/r");
    assert_eq!(v[0].location, "GIT https://g.test/r <abc");
    let bare = r#"[{"id":"CVE-1","modified":"x","affected":[{"versions":["1"]}]}]"#;
    let err = parse(bare.as_bytes()).unwrap_err();
    assert_eq!(
        err.message,
        "[0].affected[0]: no package and no GIT range with a repo, so no affected asset"
    );
    let nameless = r#"{"id":"CVE-1","modified":"x","affected":[{"package":{"ecosystem":"Go"}}]}"#;
    assert_eq!(
        parse(nameless.as_bytes()).unwrap_err().message,
        "affected[0]: package has no name"
    );
}

#[test]
fn withdrawn_records_and_records_without_affected_give_nothing() {
    let withdrawn = RECORD.replacen(
        "\"aliases\"",
        "\"withdrawn\":\"2024-02-01T00:00:00Z\",\"aliases\"",
        1,
    );
    assert!(parse(withdrawn.as_bytes()).unwrap().is_empty());
    assert!(
        parse(br#"{"id":"RHSA-1","modified":"x"}"#)
            .unwrap()
            .is_empty()
    );
    assert!(parse(b"").unwrap().is_empty());
    assert!(parse(b"[]").unwrap().is_empty());
}

#[test]
fn the_same_package_twice_is_one_finding_with_both_ranges() {
    let doc = r#"{"id":"GO-1","modified":"x","affected":[
        {"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"}]}]},
        {"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"SEMVER","events":[{"introduced":"2.0.0"},{"last_affected":"2.1.0"}]}],
         "database_specific":{"severity":"HIGH"}}]}"#;
    let v = parse(doc.as_bytes()).unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].location, "SEMVER >=0 <1.0.0; SEMVER >=2.0.0 <=2.1.0");
    assert_eq!(v[0].severity, Severity::High);
}

#[test]
fn bad_documents_name_the_problem() {
    let err = parse(br#"{"modified":"x"}"#).unwrap_err();
    assert_eq!(
        err.message,
        "neither an OSV record (no id) nor osv-scanner output (no results)"
    );
    let err = parse(b"true").unwrap_err();
    assert!(err.message.ends_with("found a boolean"), "{err}");
    let err = parse(b"{\n\"id\": 5}").unwrap_err();
    assert!(err.message.starts_with("id: invalid type"), "{err}");
    assert_eq!(err.position.map(|p| p.0), Some(2));
    let err = parse(br#"{"results":[{"packages":[]}]}"#).unwrap_err();
    assert_eq!(err.message, "results[0]: no source.path");
    let err = parse(br#"{"results":[{"source":{"path":"/a"},"packages":[{"package":{"name":"x"},"groups":[{"ids":[]}]}]}]}"#)
        .unwrap_err();
    assert_eq!(err.message, "results[0].packages[0].groups[0]: no ids");
}

#[test]
fn scanner_groups_without_max_severity_use_the_records() {
    let doc = r#"{"results":[{"packageSource":{"path":"/src/go.mod","type":"lockfile"},"packages":[
        {"package":{"name":"m","version":"1.0.0","ecosystem":"Go"},
         "vulnerabilities":[{"id":"GO-1","modified":"x","summary":"S",
            "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected":[{"package":{"name":"m","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}]}]},
           {"id":"GO-2","modified":"x","withdrawn":"y"}]}]}]}"#;
    let v = parse(doc.as_bytes()).unwrap();
    assert_eq!(v.len(), 1, "the withdrawn record's own group is dropped");
    assert_eq!(v[0].rule_id, "GO-1");
    assert_eq!(v[0].severity, Severity::High);
    assert_eq!(v[0].asset, "/src/go.mod");
    assert_eq!(v[0].location, "m@1.0.0");
    assert!(
        v[0].description.ends_with("Fixed in: 1.0.1"),
        "{}",
        v[0].description
    );
    assert_eq!(
        v[0].fingerprint,
        Fingerprint::derive("osv-scanner", "GO-1", "/src/go.mod", "Go/m")
    );
}

#[test]
fn looks_like_is_specific() {
    assert!(looks_like(RECORD.as_bytes()));
    assert!(looks_like(
        br#"{"results":[{"source":{"path":"/a"},"packages":[{"package":{"ecosystem":"Go"}}]}]}"#
    ));
    assert!(!looks_like(
        br#"[{"id":"x","modified":"y","affected":[],"rule_id":"r","asset":"a"}]"#
    ));
    assert!(!looks_like(
        br#"{"results":[{"check_id":"x","path":"a"}],"errors":[]}"#
    ));
    assert!(!looks_like(
        br#"{"Findings":[{"Id":"x","ProductArn":"p","modified":"","aliases":""}]}"#
    ));
}
