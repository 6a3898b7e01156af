//! Unit tests for the SARIF reader: small hand-written logs, one behaviour each.

use super::*;

/// A log with one run whose driver has two rules and the given results (JSON text).
fn log(results: &str) -> String {
    format!(
        r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"Scanner","rules":[
            {{"id":"R1","shortDescription":{{"text":"Rule one"}},"helpUri":"https://x.test/R1",
              "defaultConfiguration":{{"level":"error"}},
              "messageStrings":{{"default":{{"text":"Bad {{0}} in {{1}} {{{{ok}}}}"}}}},
              "properties":{{"tags":["security","external/cwe/cwe-079"],"precision":"high"}}}},
            {{"id":"R2","name":"rule-two","properties":{{"security-severity":"9.1"}}}}
          ]}},"extensions":[{{"name":"Ext","rules":[{{"id":"E1","properties":{{"security-severity":3.5}}}}]}}]}},
          "results":[{results}]}}]}}"#
    )
}

const LOC: &str = r#""locations":[{"physicalLocation":{"artifactLocation":{"uri":"src/a.py"},"region":{"startLine":7}}}]"#;

fn one(result: &str) -> NewFinding {
    let v = parse(log(result).as_bytes()).unwrap();
    assert_eq!(v.len(), 1, "{v:?}");
    v.into_iter().next().unwrap()
}

fn err(result: &str) -> String {
    parse(log(result).as_bytes()).unwrap_err().to_string()
}

#[test]
fn a_result_maps_onto_a_finding() {
    let f = one(&format!(
        r#"{{"ruleId":"R1","message":{{"text":"Tainted input\nmore"}},{LOC}}}"#
    ));
    assert_eq!(f.source, "scanner");
    assert_eq!(f.rule_id, "R1");
    assert_eq!(f.title, "Tainted input");
    assert_eq!(f.description, "Tainted input\nmore\n\nRule one");
    assert_eq!(f.severity, Severity::High, "rule default level error");
    assert_eq!(f.asset, "scanner (unknown asset)");
    assert_eq!(f.location, "src/a.py:7");
    assert_eq!(f.tags, ["security", "CWE-79", "precision:high"]);
    assert_eq!(f.references, ["https://x.test/R1"]);
    assert_eq!(f.owner, None);
}

#[test]
fn rules_are_found_by_rule_id_rule_index_rule_reference_and_hierarchical_id() {
    let by_index = one(r#"{"ruleIndex":1,"message":{"text":"m"}}"#);
    assert_eq!(
        (by_index.rule_id.as_str(), by_index.severity),
        ("R2", Severity::Critical)
    );
    let by_ref = one(r#"{"rule":{"index":1},"message":{"text":"m"}}"#);
    assert_eq!(by_ref.rule_id, "R2");
    let by_ref_id = one(r#"{"rule":{"id":"R2"},"message":{"text":"m"}}"#);
    assert_eq!(by_ref_id.severity, Severity::Critical);
    let sub = one(r#"{"ruleId":"R2/sub","message":{"text":"m"}}"#);
    assert_eq!(
        (sub.rule_id.as_str(), sub.severity),
        ("R2/sub", Severity::Critical)
    );
    let ext = one(
        r#"{"ruleId":"E1","rule":{"index":0,"toolComponent":{"index":0}},"message":{"text":"m"}}"#,
    );
    assert_eq!(
        ext.severity,
        Severity::Low,
        "extension rule's security-severity 3.5"
    );
    let ext_by_name =
        one(r#"{"rule":{"id":"E1","toolComponent":{"name":"Ext"}},"message":{"text":"m"}}"#);
    assert_eq!(ext_by_name.severity, Severity::Low);
    // A rule the log does not describe is still a finding, with SARIF's default level.
    let unknown = one(r#"{"ruleId":"X9","message":{"text":"m"}}"#);
    assert_eq!(
        (unknown.title.as_str(), unknown.severity),
        ("m", Severity::Medium)
    );
}

#[test]
fn broken_rule_references_are_errors_naming_the_result() {
    let e = err(r#"{"ruleId":"R1"},{"message":{"text":"no rule"}}"#);
    assert!(
        e.starts_with("SARIF: runs[0].results[1]: no ruleId or rule.id"),
        "{e}"
    );
    let e = err(r#"{"ruleIndex":5,"message":{"text":"m"}}"#);
    assert!(
        e.contains("runs[0].results[0]: rule index 5 is out of range (`Scanner` has 2 rules)"),
        "{e}"
    );
    let e = err(r#"{"ruleId":"R1","ruleIndex":1}"#);
    assert!(
        e.contains("ruleId `R1` does not match rule 1 of `Scanner` (`R2`)"),
        "{e}"
    );
    let e = err(r#"{"ruleId":"E1","rule":{"toolComponent":{"index":3}}}"#);
    assert!(
        e.contains("results[0].rule.toolComponent.index: 3 is out of range"),
        "{e}"
    );
    let e = err(r#"{"ruleId":"R1","level":"critical"}"#);
    assert!(
        e.contains("results[0].level: unknown value `critical`"),
        "{e}"
    );
    let e = err(r#"{"ruleId":"R1","kind":"maybe"}"#);
    assert!(e.contains("results[0].kind: unknown value `maybe`"), "{e}");
}

#[test]
fn severity_prefers_security_severity_then_level_then_rule_default_then_warning() {
    let s = |r: &str| one(r).severity;
    assert_eq!(
        s(r#"{"ruleId":"R1","level":"note","properties":{"security-severity":"7.5"}}"#),
        Severity::High
    );
    assert_eq!(
        s(r#"{"ruleId":"R2","level":"note"}"#),
        Severity::Critical,
        "rule score beats level"
    );
    assert_eq!(s(r#"{"ruleId":"R1","level":"note"}"#), Severity::Low);
    assert_eq!(s(r#"{"ruleId":"R1","level":"none"}"#), Severity::Info);
    assert_eq!(
        s(r#"{"ruleId":"R1"}"#),
        Severity::High,
        "defaultConfiguration error"
    );
    assert_eq!(
        s(r#"{"ruleId":"Z"}"#),
        Severity::Medium,
        "SARIF default warning"
    );
    assert_eq!(
        s(r#"{"ruleId":"R1","kind":"review"}"#),
        Severity::Info,
        "non-fail kinds default to none"
    );
    assert_eq!(
        s(r#"{"ruleId":"R1","level":"warning","properties":{"security-severity":"high"}}"#),
        Severity::Medium,
        "an unreadable score falls back to the level"
    );
}

#[test]
fn non_problems_absent_and_suppressed_results_are_skipped() {
    let results = [
        r#"{"ruleId":"R1","kind":"pass"}"#,
        r#"{"ruleId":"R1","kind":"notApplicable"}"#,
        r#"{"ruleId":"R1","kind":"informational"}"#,
        r#"{"ruleId":"R1","baselineState":"absent"}"#,
        r#"{"ruleId":"R1","suppressions":[{"kind":"inSource"}]}"#,
        r#"{"ruleId":"R1","suppressions":[{"kind":"external","status":"accepted"}]}"#,
        // Still findings: a rejected or pending suppression, an empty list, review/open kinds.
        r#"{"ruleId":"R1","message":{"text":"a"},"suppressions":[{"kind":"inSource","status":"rejected"}]}"#,
        r#"{"ruleId":"R1","message":{"text":"b"},"suppressions":[{"kind":"inSource"},{"kind":"external","status":"underReview"}]}"#,
        r#"{"ruleId":"R1","message":{"text":"c"},"suppressions":[]}"#,
        r#"{"ruleId":"R1","message":{"text":"d"},"kind":"review","baselineState":"new"}"#,
        r#"{"ruleId":"R1","message":{"text":"e"},"kind":"open","baselineState":"unchanged"}"#,
    ];
    let v = parse(log(&results.join(",")).as_bytes()).unwrap();
    let titles: Vec<_> = v.iter().map(|f| f.title.as_str()).collect();
    assert_eq!(titles, ["a", "b", "c", "d", "e"]);
    assert!(v[3].tags.contains(&"kind:review".to_string()));
}

#[test]
fn message_ids_resolve_through_message_strings_with_arguments() {
    let f = one(r#"{"ruleId":"R1","message":{"id":"default","arguments":["x","y.py"]}}"#);
    assert_eq!(f.title, "Bad x in y.py {ok}");
    // No text and no resolvable id: the rule's description is the title.
    let f = one(r#"{"ruleId":"R1","message":{"id":"nope"}}"#);
    assert_eq!(f.title, "Rule one");
    assert_eq!(
        substitute("{0}{1}{2} {x} {", &["a".into(), "b".into()]),
        "ab{2} {x} {"
    );
}

#[test]
fn fingerprints_survive_line_shifts_and_separate_files_and_repeats() {
    let r = |line: u32, file: &str, hash: &str| {
        format!(
            r#"{{"ruleId":"R1","partialFingerprints":{{"lineHash/v1":"{hash}"}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"{file}"}},"region":{{"startLine":{line}}}}}}}]}}"#
        )
    };
    let a = one(&r(7, "a.py", "h1"));
    let shifted = one(&r(40, "a.py", "h1"));
    assert_eq!(a.fingerprint, shifted.fingerprint);
    assert_ne!(a.fingerprint, one(&r(7, "b.py", "h1")).fingerprint);
    // The same hash twice in one file (same code on two lines): distinct, first one stable.
    let v = parse(log(&[r(30, "a.py", "h1"), r(9, "a.py", "h1")].join(",")).as_bytes()).unwrap();
    assert_ne!(v[0].fingerprint, v[1].fingerprint);
    assert_eq!(
        v[1].fingerprint, a.fingerprint,
        "line 9 is the first occurrence"
    );
    // An exact repeat of a result is the same finding.
    let v = parse(log(&[r(9, "a.py", "h1"), r(9, "a.py", "h1")].join(",")).as_bytes()).unwrap();
    assert_eq!(v[0].fingerprint, v[1].fingerprint);
    // Without tool fingerprints the line is used, scoped by rule.
    let plain = |line: u32, rule: &str| {
        one(&format!(r#"{{"ruleId":"{rule}","locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"a.py"}},"region":{{"startLine":{line}}}}}}}]}}"#)).fingerprint
    };
    assert_ne!(plain(1, "R1"), plain(2, "R1"));
    assert_ne!(plain(1, "R1"), plain(1, "R2"));
}

#[test]
fn assets_come_from_version_control_then_uri_base_ids() {
    let doc = r#"{"version":"2.1.0","runs":[
        {"tool":{"driver":{"name":"T"}},"versionControlProvenance":[{"repositoryUri":"https://git.test/repo"}],
         "results":[{"ruleId":"A","message":{"text":"m"}}]},
        {"tool":{"driver":{"name":"T"}},"originalUriBaseIds":{"SRC":{"uri":"file:///build/app/"}},
         "artifacts":[{"location":{"uri":"lib/x.c","uriBaseId":"SRC"}}],
         "results":[{"ruleId":"A","message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"index":0}}}]},
                    {"ruleId":"A","message":{"text":"m"},"locations":[{"logicalLocations":[{"fullyQualifiedName":"ns::f"}]}]}]}]}"#;
    let v = parse(doc.as_bytes()).unwrap();
    assert_eq!(v[0].asset, "https://git.test/repo");
    assert_eq!(
        (v[1].asset.as_str(), v[1].location.as_str()),
        ("file:///build/app/", "lib/x.c")
    );
    assert_eq!(
        (v[2].asset.as_str(), v[2].location.as_str()),
        ("t (unknown asset)", "ns::f")
    );
}

#[test]
fn versions_and_shapes_other_than_sarif_2_1_0_are_refused() {
    let e = parse(br#"{"version":"2.0.0","runs":[{"tool":{"name":"CodeScanner"},"results":[]}]}"#)
        .unwrap_err();
    assert!(
        e.message
            .starts_with("version `2.0.0` is not supported; only SARIF 2.1.0"),
        "{e}"
    );
    let e = parse(br#"{"this": "is not a valid SARIF log file."}"#).unwrap_err();
    assert_eq!(
        e.message,
        "not a SARIF log: no `version` property (expected \"2.1.0\")"
    );
    assert!(
        parse(br#"{"version":"2.1.0"}"#)
            .unwrap_err()
            .message
            .contains("no `runs`")
    );
    let e = parse(br#"{"version":"2.1.0","runs":[{"tool":{}}]}"#).unwrap_err();
    assert!(
        e.to_string()
            .contains("runs[0].tool: missing field `driver`"),
        "{e}"
    );
    assert!(
        parse(br#"{"version":"2.1.0","runs":null}"#)
            .unwrap()
            .is_empty()
    );
    assert!(parse(b"").unwrap().is_empty());
    assert!(parse(b"\xEF\xBB\xBF  ").unwrap().is_empty());
}

#[test]
fn cwe_tags_are_normalised() {
    assert_eq!(cwe_tag("external/cwe/cwe-079").as_deref(), Some("CWE-79"));
    assert_eq!(
        cwe_tag("CWE-89: Improper Neutralization").as_deref(),
        Some("CWE-89")
    );
    assert_eq!(cwe_tag("cwe"), None);
    assert_eq!(cwe_tag("security"), None);
}

#[test]
fn detection_needs_a_runs_key_and_a_version_or_the_schema() {
    assert!(looks_like(br#"{"version": "2.1.0", "runs": ["#));
    assert!(looks_like(
        br#"  {"$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs" :"#
    ));
    assert!(!looks_like(
        br#"{"description":"\"runs\": \"version\"","rule_id":"x","asset":"y"}"#
    ));
    assert!(!looks_like(br#"[{"runs":1,"version":2}]"#));
    assert!(!looks_like(br#"{"SchemaVersion": 2, "Results": []}"#));
    assert!(!looks_like(br#"{"$schema":"http://json-schema.org/draft-07/schema#","$id":"sarif","properties":{"version":{},"runs":{}}}"#));
    assert!(looks_like(
        br#"{"runs" : [], "$schema" : "https://x.test/SARIF.json"}"#
    ));
}

#[test]
fn results_before_tool_and_tables_after_results_read_the_same() {
    let result = r#"{"ruleIndex":0,"message":{"text":"m"},"partialFingerprints":{"h":"1"},
        "locations":[{"physicalLocation":{"artifactLocation":{"index":0}}}]}"#;
    let tool = r#""tool":{"driver":{"name":"T","rules":[{"id":"R1","help":{"text":"Fix it."}}]}}"#;
    let tables = r#""artifacts":[{"location":{"uri":"lib/x.c","uriBaseId":"SRC"}}],
        "originalUriBaseIds":{"SRC":{"uri":"file:///build/app/"}}"#;
    let results = format!(r#""results":[{result}]"#);
    let run = |parts: [&str; 3]| {
        let doc = format!(r#"{{"runs":[{{{}}}],"version":"2.1.0"}}"#, parts.join(","));
        parse(doc.as_bytes()).unwrap()
    };
    let usual = run([tool, tables, &results]);
    assert_eq!(usual.len(), 1);
    assert_eq!(usual[0].asset, "file:///build/app/");
    assert_eq!(usual[0].location, "lib/x.c");
    assert_eq!(usual[0].description, "m\n\nFix it.");
    assert_eq!(run([&results, tables, tool]), usual, "results before tool");
    assert_eq!(run([tool, &results, tables]), usual, "tables after results");
}

#[test]
fn errors_in_results_before_tool_still_name_the_result() {
    let doc = r#"{"version":"2.1.0","runs":[{"results":[{"ruleId":"R1"},{"ruleIndex":3}],
        "tool":{"driver":{"name":"T","rules":[{"id":"R1"}]}}}]}"#;
    let e = parse(doc.as_bytes()).unwrap_err();
    assert!(
        e.message
            .starts_with("runs[0].results[1]: rule index 3 is out of range"),
        "{e}"
    );
    let doc = r#"{"version":"2.1.0","runs":[{"results":[],"tool":{"driver":{"name":" "}}}]}"#;
    let e = parse(doc.as_bytes()).unwrap_err();
    assert_eq!(e.message, "runs[0].tool.driver.name must not be empty");
}

#[test]
fn a_shape_error_after_a_bad_result_is_the_error_reported() {
    // As with a parse into structs: the JSON must be well-formed before its meaning counts.
    let doc = "{\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"T\"}},\n\"results\":[{\"ruleIndex\":9},{\"level\":1}]}]}";
    let e = parse(doc.as_bytes()).unwrap_err();
    assert!(
        e.message
            .starts_with("runs[0].results[1].level: invalid type"),
        "{e}"
    );
    assert_eq!(e.position.map(|p| p.0), Some(2));
}

#[test]
fn text_after_the_log_is_an_error() {
    let e = parse(b"{\"version\":\"2.1.0\",\"runs\":[]}\n}").unwrap_err();
    assert_eq!(
        (e.message.as_str(), e.position),
        ("trailing characters", Some((2, 1)))
    );
    let e = parse(br#"{"version":"2.1.0","runs":[],"runs":null}"#).unwrap_err();
    assert!(e.message.contains("duplicate field `runs`"), "{e}");
}
