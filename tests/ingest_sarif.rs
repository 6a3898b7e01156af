//! Every SARIF file of the shared corpus through `ingest::sarif::parse`, with the counts,
//! severities and values checked by reading the files; detection against the other formats'
//! corpus files; a mutation fuzz; and a 10,000-result log for speed.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use remedybot::domain::{NewFinding, Severity};
use remedybot::ingest::sarif;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/findings");

fn read(name: &str) -> Vec<u8> {
    let path = Path::new(CORPUS).join("sarif").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses a corpus file, checks the invariants every file must meet, returns the findings.
fn findings(name: &str, count: usize, severities: &[(Severity, usize)]) -> Vec<NewFinding> {
    let bytes = read(name);
    let v = sarif::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(v.len(), count, "{name}: finding count");
    let mut by_severity = BTreeMap::new();
    for f in &v {
        *by_severity.entry(format!("{:?}", f.severity)).or_insert(0) += 1;
        assert!(
            !f.rule_id.is_empty() && !f.title.is_empty() && !f.asset.is_empty(),
            "{f:?}"
        );
        assert_eq!(f.source, f.source.to_lowercase());
        assert!(
            !f.title.contains('\n'),
            "{name}: title is one line: {:?}",
            f.title
        );
        assert!(f.owner.is_none());
    }
    let expected: BTreeMap<String, usize> = severities
        .iter()
        .map(|(s, n)| (format!("{s:?}"), *n))
        .collect();
    assert_eq!(by_severity, expected, "{name}: severities");
    let unique: HashSet<_> = v.iter().map(|f| &f.fingerprint).collect();
    assert_eq!(unique.len(), v.len(), "{name}: fingerprints are unique");
    assert_eq!(
        sarif::parse(&bytes).unwrap(),
        v,
        "{name}: a second parse is identical"
    );
    v
}

fn rule_count(v: &[NewFinding], rule: &str) -> usize {
    v.iter().filter(|f| f.rule_id == rule).count()
}

fn all_assets(v: &[NewFinding]) -> HashSet<&str> {
    v.iter().map(|f| f.asset.as_str()).collect()
}

use Severity::{Critical, High, Low, Medium};

#[test]
fn codeql_rules_supply_levels_tags_and_cwe() {
    let v = findings(
        "defectdojo_codeQL-output.sarif",
        72,
        &[(High, 11), (Medium, 4), (Low, 57)],
    );
    let f = &v[0];
    assert_eq!(
        (f.source.as_str(), f.rule_id.as_str()),
        ("codeql", "py/empty-except")
    );
    assert_eq!(f.location, "good/db_init.py:39");
    assert_eq!(f.severity, Low, "rule defaultConfiguration.level note");
    assert_eq!(
        f.tags,
        [
            "reliability",
            "maintainability",
            "CWE-390",
            "precision:high"
        ]
    );
    assert_eq!(rule_count(&v, "py/unused-import"), 40);
    assert_eq!(all_assets(&v), HashSet::from(["codeql (unknown asset)"]));
    // Two rules flag the same line with the same partial fingerprints: two findings.
    let line2: Vec<_> = v
        .iter()
        .filter(|f| f.location == "bad/libuser.py:2")
        .collect();
    assert_eq!(line2.len(), 2);
    assert_ne!(line2[0].fingerprint, line2[1].fingerprint);
}

#[test]
fn grype_security_severity_scores_give_severity() {
    let v = findings(
        "defectdojo_cxf-3.4.6.sarif",
        22,
        &[(Critical, 1), (High, 11), (Medium, 4), (Low, 6)],
    );
    let f = &v[0];
    assert_eq!(f.source, "grype");
    assert_eq!(f.rule_id, "CVE-2008-0732-geronimo-j2ee-management_1.1_spec");
    assert_eq!(f.severity, Low, "security-severity 2.1");
    assert_eq!(
        f.location,
        "lib/geronimo-j2ee-management_1.1_spec-1.0.1.jar:1"
    );
    assert!(
        f.description.contains("Vulnerability CVE-2008-0732"),
        "help text is kept"
    );
    assert_eq!(f.references, ["https://github.com/anchore/grype"]);
}

#[test]
fn dependency_check_results_without_rules_use_their_level() {
    let v = findings("defectdojo_dependency_check.sarif", 13, &[(High, 13)]);
    assert_eq!(v[0].source, "dependency-check");
    assert_eq!(
        v.iter().map(|f| &f.rule_id).collect::<HashSet<_>>().len(),
        9
    );
    assert_eq!(rule_count(&v, "CVE-2015-9251"), 2);
    assert!(
        v[0].location.ends_with("/js/lib/handlebars-1.0.0.js"),
        "{}",
        v[0].location
    );
}

#[test]
fn flawfinder_pass_results_are_skipped_and_repeated_context_hashes_split() {
    // 54 results, one of them `"kind": "pass"`.
    let v = findings(
        "defectdojo_flawfinder.sarif",
        53,
        &[(High, 2), (Medium, 1), (Low, 50)],
    );
    let f = &v[0];
    assert_eq!(
        (f.rule_id.as_str(), f.location.as_str()),
        ("FF1048", "src/tree/param.cc:29")
    );
    assert_eq!(
        f.tags,
        ["CWE-327"],
        "from the rule's relationship to the CWE taxonomy"
    );
    assert_eq!(
        f.references,
        ["https://cwe.mitre.org/data/definitions/327.html"]
    );
    // Lines 29 and 75 carry the same contextHash/v1 (identical code); still two findings.
    assert_eq!(v[1].location, "src/tree/param.cc:75");
    assert_ne!(v[0].fingerprint, v[1].fingerprint);
    let v = findings(
        "sarif-sdk_FlawFinder_ValidResults.sarif",
        3,
        &[(High, 2), (Low, 1)],
    );
    assert_eq!(
        (v[0].rule_id.as_str(), v[0].location.as_str()),
        ("FF1001", "test1.cpp:32")
    );
    assert_eq!(v[0].tags, ["CWE-120"]);
}

#[test]
fn gitleaks_7_results_take_their_rule_from_the_message_and_never_carry_the_secret() {
    let v = sarif::parse(&read("defectdojo_gitleaks_7.5.0.sarif")).unwrap();
    assert_eq!(v.len(), 8);
    assert_eq!(v[0].source, "gitleaks");
    assert_eq!(v[0].rule_id, "AWS Access Key");
    for f in &v {
        // The log carries the secrets themselves in snippets and properties.
        let text = format!("{f:?}");
        assert!(!text.contains("AKIAIOSFODNN7EXAMPLE"), "{text}");
        assert!(!f.rule_id.is_empty());
    }
    let unnamed =
        br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x","rules":[{"id":"A"}]}},
        "results":[{"message":{"text":"nothing matches"}}]}]}"#;
    let err = sarif::parse(unnamed).unwrap_err();
    assert_eq!(
        err.message,
        "runs[0].results[0]: no ruleId or rule.id, no rule index, and no rule whose id starts the message"
    );
}

#[test]
fn small_tool_outputs() {
    let v = findings("defectdojo_njsscan.sarif", 2, &[(High, 1), (Medium, 1)]);
    assert_eq!(v[0].rule_id, "node_insecure_random_generator");
    assert_eq!(v[0].location, "file:///src/index.js:321");
    assert_eq!(v[0].source, "nodejsscan");

    let v = findings("sarif-sdk_CisCat_ValidResults.sarif", 1, &[(High, 1)]);
    assert_eq!(v[0].rule_id, "rule.id.2");
    assert_eq!(
        v[0].severity, High,
        "rule security-severity 8.0 beats level error"
    );
    assert_eq!(v[0].location, "benchmark://cis.benchmark.id/");

    let v = findings(
        "sarif-sdk_Nessus_ValidResults.sarif",
        2,
        &[(Critical, 1), (Low, 1)],
    );
    let hosts: Vec<_> = v.iter().map(|f| f.location.as_str()).collect();
    assert_eq!(hosts, ["host://10.0.0.1", "host://10.0.0.2"], "one per run");
    assert!(
        v.iter()
            .all(|f| f.rule_id == "12345" && f.source == "nessus")
    );
}

#[test]
fn semgrep_large_sample() {
    let v = findings(
        "defectdojo_semgrep_owasp-benchmark-sample.sarif",
        1768,
        &[(Medium, 1768)],
    );
    assert_eq!(
        v.iter().map(|f| &f.rule_id).collect::<HashSet<_>>().len(),
        7
    );
    let cookie = "java.lang.security.audit.cookie-missing-httponly.cookie-missing-httponly";
    assert_eq!(rule_count(&v, cookie), 776);
    assert!(
        v.iter()
            .all(|f| f.tags.contains(&"precision:very-high".to_string()))
    );
    assert_eq!(all_assets(&v), HashSet::from(["semgrep (unknown asset)"]));
}

#[test]
fn message_ids_resolve_through_rule_message_strings() {
    let v = findings("defectdojo_spotbugs.sarif", 56, &[(Low, 56)]);
    assert_eq!(
        v[0].title,
        "Hard coded reference to an absolute pathname in Boot.main(String[])."
    );
    assert_eq!(v[0].location, "Boot.java:23");
    assert_eq!(rule_count(&v, "NM_METHOD_NAMING_CONVENTION"), 33);

    let v = findings(
        "sarif-sdk_ContrastSecurity_WebGoat.sarif",
        30,
        &[(High, 11), (Medium, 12), (Low, 7)],
    );
    assert_eq!(v[0].rule_id, "sql-injection");
    assert!(
        v[0].title.starts_with(
            "SQL injection from untrusted source(s) 'other, ctl00$BodyContentPlaceholder$txtEmail: \
             parameter' observed on '/webgoat/Content/ForgotPassword.aspx' page."
        ),
        "{}",
        v[0].title
    );
    assert!(v.iter().all(|f| !f.title.contains("{0}")));
    assert_eq!(rule_count(&v, "sql-injection"), 7);
}

#[test]
fn repositories_from_version_control_provenance_are_the_asset() {
    let v = findings(
        "defectdojo_taint-python-report.sarif",
        11,
        &[(High, 8), (Medium, 1), (Low, 2)],
    );
    assert_eq!(
        all_assets(&v),
        HashSet::from(["https://github.com/damiencarol/django-DefectDojo"])
    );
    assert_eq!(rule_count(&v, "taint-xmli"), 7);

    let v = findings(
        "sarif-sdk_docs_ai_example_security.sarif",
        2,
        &[(High, 1), (Medium, 1)],
    );
    assert_eq!(
        all_assets(&v),
        HashSet::from(["https://dev.azure.com/contoso/my-project/_git/my-service"])
    );
    assert_eq!(
        v[0].rule_id, "CWE-78/api-handler",
        "hierarchical ruleId kept as stated"
    );
    assert_eq!(v[0].location, "src/handler.py:42");
    assert!(v[0].tags.contains(&"CWE-78".to_string()));
}

#[test]
fn converted_compliance_and_c_logs() {
    let v = findings(
        "sarif-sdk_HdfConverter_ValidResults.sarif",
        166,
        &[(High, 43), (Medium, 32), (Low, 91)],
    );
    assert_eq!(
        all_assets(&v),
        HashSet::from(["file:///"]),
        "originalUriBaseIds.ROOTPATH"
    );
    assert_eq!(rule_count(&v, "10104"), 20);

    let v = findings("sarif-sdk_CppCheck_issueLog1.sarif", 188, &[(Medium, 188)]);
    assert_eq!(rule_count(&v, "variableScope"), 79);
    assert_eq!(
        (v[0].rule_id.as_str(), v[0].location.as_str()),
        ("variableScope", "adler32.c:71")
    );
}

#[test]
fn a_bom_is_tolerated() {
    let bytes = read("sarif-sdk_edge_utf8-bom_elfie-arriba.sarif");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let v = findings(
        "sarif-sdk_edge_utf8-bom_elfie-arriba.sarif",
        5,
        &[(Medium, 5)],
    );
    assert_eq!(rule_count(&v, "CSCAN0060/0"), 4);
    assert_eq!(v[0].rule_id, "CSCAN0050/0");
    assert_eq!(all_assets(&v), HashSet::from(["spam (unknown asset)"]));
}

#[test]
fn empty_runs_give_no_findings() {
    findings("defectdojo_appendix_k1.sarif", 0, &[]);
    findings("sarif-sdk_edge_EmptyResults.sarif", 0, &[]);
    findings("sarif-sdk_edge_NullResults.sarif", 0, &[]);
}

#[test]
fn other_versions_and_non_sarif_json_are_refused_with_a_reason() {
    let err = sarif::parse(&read("sarif-sdk_edge_version_2.0.0_Minimal.sarif")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("SARIF: version `2.0.0` is not supported"),
        "{err}"
    );
    let err = sarif::parse(&read("sarif-sdk_edge_Invalid.sarif")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "SARIF: not a SARIF log: no `version` property (expected \"2.1.0\")"
    );
    let err = sarif::parse(b"{\"version\": \"2.1.0\",\n \"runs\": [1]}").unwrap_err();
    assert_eq!(err.position, Some((2, 11)));
    assert!(err.message.starts_with("runs[0]: invalid type"), "{err}");
}

fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(corpus_files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn head(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    bytes[..bytes.len().min(64 * 1024)].to_vec()
}

#[test]
fn detection_accepts_sarif_logs_only() {
    let sarif_dir = Path::new(CORPUS).join("sarif");
    let mut seen = 0;
    for path in corpus_files(&sarif_dir) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        // The schema is JSON with "runs" and "version" properties, but not a log.
        let expected = name.ends_with(".sarif") && name != "sarif-sdk_edge_Invalid.sarif";
        assert_eq!(sarif::looks_like(&head(&path)), expected, "{name}");
        seen += 1;
    }
    assert_eq!(seen, 23, "22 logs and the schema");
    let mut others = 0;
    for path in corpus_files(Path::new(CORPUS)) {
        if !path.starts_with(&sarif_dir) {
            assert!(!sarif::looks_like(&head(&path)), "{}", path.display());
            others += 1;
        }
    }
    assert!(others > 50, "{others} other-format files checked");
    let generic =
        br#"[{"source":"semgrep","rule_id":"sqli","title":"t","severity":"high","asset":"a"}]"#;
    assert!(!sarif::looks_like(generic));
}

/// A log of `n` results over 50 rules, with partial fingerprints, code flows to skip, and
/// property bags, like CodeQL writes.
fn synthetic(n: usize) -> String {
    let rules: Vec<String> = (0..50)
        .map(|r| {
            format!(
                r#"{{"id":"rule/{r}","shortDescription":{{"text":"Rule {r}"}},"fullDescription":{{"text":"Full description of rule {r}."}},"defaultConfiguration":{{"level":"warning"}},"properties":{{"tags":["security","external/cwe/cwe-{r}"],"precision":"high","security-severity":"{}.5"}}}}"#,
                r % 10
            )
        })
        .collect();
    let results: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"ruleId":"rule/{r}","ruleIndex":{r},"message":{{"text":"Problem {i} in function f{i}."}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"src/file{f}.py","uriBaseId":"%SRCROOT%"}},"region":{{"startLine":{i},"startColumn":5,"endColumn":30}}}}}}],"partialFingerprints":{{"primaryLocationLineHash":"{i:016x}:1"}},"codeFlows":[{{"threadFlows":[{{"locations":[{{"location":{{"physicalLocation":{{"artifactLocation":{{"uri":"src/x.py"}},"region":{{"startLine":1}}}}}}}}]}}]}}],"properties":{{"extra":{{"nested":[1,2,3]}}}}}}"#,
                r = i % 50,
                f = i % 300
            )
        })
        .collect();
    format!(
        r#"{{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"Synth","rules":[{}]}}}},"versionControlProvenance":[{{"repositoryUri":"https://git.test/big"}}],"results":[{}]}}]}}"#,
        rules.join(","),
        results.join(",")
    )
}

#[test]
fn ten_thousand_results_parse_into_distinct_findings() {
    let doc = synthetic(10_000);
    assert!(sarif::looks_like(doc.as_bytes()));
    // Speed is measured by bench/, not here: this checks the result of a large log.
    let v = sarif::parse(doc.as_bytes()).unwrap();
    assert_eq!(v.len(), 10_000);
    assert_eq!(
        v.iter()
            .map(|f| &f.fingerprint)
            .collect::<HashSet<_>>()
            .len(),
        10_000
    );
    assert_eq!(v[3].severity, Low, "rule 3: security-severity 3.5");
    assert_eq!(v[9].severity, Critical, "rule 9: security-severity 9.5");
    assert_eq!(v[0].asset, "https://git.test/big");
    // Debug builds are ~10× slower than release; this bound only catches pathologies.
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_corpus_files_never_panic(
        which in 0usize..3,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8)
    ) {
        let name = ["defectdojo_njsscan.sarif", "sarif-sdk_FlawFinder_ValidResults.sarif",
            "sarif-sdk_CisCat_ValidResults.sarif"][which];
        let mut doc = read(name);
        for (pos, byte, op) in edits {
            let pos = pos.index(doc.len().max(1)).min(doc.len().saturating_sub(1));
            match op {
                0 => { if let Some(b) = doc.get_mut(pos) { *b = byte; } }
                1 => { if pos < doc.len() { doc.remove(pos); } }
                _ => doc.insert(pos, byte),
            }
        }
        match sarif::parse(&doc) {
            Ok(findings) => prop_assert!(findings.len() <= 3),
            Err(e) => {
                prop_assert_eq!(e.format, "SARIF");
                prop_assert!(!e.message.is_empty());
            }
        }
    }
}
