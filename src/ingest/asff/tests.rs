use super::*;

/// A minimal ASFF finding; `extra` is spliced in as further top-level fields.
fn finding(id: &str, extra: &str) -> String {
    format!(
        r#"{{"SchemaVersion":"2018-10-08","Id":"{id}","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/securityhub",
        "GeneratorId":"security-control/S3.8","AwsAccountId":"111122223333","Title":"S3.8 Block public access",
        "Description":"d","Resources":[{{"Type":"AwsS3Bucket","Id":"arn:aws:s3:::b","Region":"us-east-1"}}]{extra}}}"#
    )
}

const HIGH: &str = r#","Severity":{"Label":"HIGH"}"#;

fn statuses(doc: &str) -> Vec<AsffStatus> {
    parse_with_status(doc.as_bytes())
        .unwrap()
        .into_iter()
        .map(|(_, s)| s)
        .collect()
}

#[test]
fn resolved_suppressed_and_archived_findings_are_not_open() {
    let doc = format!(
        "[{},{},{},{},{},{}]",
        finding("a", &format!(r#"{HIGH},"Workflow":{{"Status":"NEW"}}"#)),
        finding(
            "b",
            &format!(r#"{HIGH},"Workflow":{{"Status":"RESOLVED"}}"#)
        ),
        finding(
            "c",
            &format!(r#"{HIGH},"Workflow":{{"Status":"SUPPRESSED"}}"#)
        ),
        finding("d", &format!(r#"{HIGH},"RecordState":"ARCHIVED""#)),
        finding("e", &format!(r#"{HIGH},"WorkflowState":"DEFERRED""#)),
        finding(
            "f",
            &format!(r#"{HIGH},"Workflow":{{"Status":"NOTIFIED"}},"RecordState":"ACTIVE""#)
        ),
    );
    use AsffStatus::*;
    assert_eq!(
        statuses(&doc),
        vec![Active, Resolved, Suppressed, Resolved, Suppressed, Active]
    );
    let open = parse(doc.as_bytes()).unwrap();
    assert_eq!(open.len(), 2);
    assert_eq!(
        open[1].fingerprint,
        Fingerprint::derive(
            "asff",
            "arn:aws:securityhub:us-east-1::product/aws/securityhub",
            "f",
            ""
        )
    );
}

#[test]
fn passed_and_not_available_checks_are_not_findings() {
    let doc = format!(
        "[{},{},{}]",
        finding(
            "a",
            &format!(r#"{HIGH},"Compliance":{{"Status":"PASSED"}}"#)
        ),
        finding(
            "b",
            &format!(r#"{HIGH},"Compliance":{{"Status":"NOT_AVAILABLE"}}"#)
        ),
        finding(
            "c",
            &format!(r#"{HIGH},"Compliance":{{"Status":"WARNING"}}"#)
        ),
    );
    let all = parse_with_status(doc.as_bytes()).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0.title, "S3.8 Block public access");
}

#[test]
fn severity_comes_from_label_then_normalized_then_product() {
    let sev = |s: &str| {
        parse(finding("x", &format!(r#","Severity":{s}"#)).as_bytes()).map(|v| v[0].severity)
    };
    assert_eq!(
        sev(r#"{"Label":"INFORMATIONAL","Normalized":90}"#),
        Ok(Severity::Info)
    );
    assert_eq!(sev(r#"{"Normalized":0}"#), Ok(Severity::Info));
    assert_eq!(sev(r#"{"Normalized":39}"#), Ok(Severity::Low));
    assert_eq!(sev(r#"{"Normalized":40}"#), Ok(Severity::Medium));
    assert_eq!(sev(r#"{"Normalized":70}"#), Ok(Severity::High));
    assert_eq!(
        sev(r#"{"Normalized":90,"Original":"9.1"}"#),
        Ok(Severity::Critical)
    );
    assert_eq!(sev(r#"{"Product":75}"#), Ok(Severity::High));
    let provider = finding(
        "x",
        r#","FindingProviderFields":{"Severity":{"Label":"LOW"}}"#,
    );
    assert_eq!(
        parse(provider.as_bytes()).unwrap()[0].severity,
        Severity::Low
    );
    let err = sev(r#"{"Label":"SEVERE"}"#).unwrap_err();
    assert_eq!(
        err.message,
        "Severity.Label `SEVERE` is not an ASFF severity label"
    );
    let err = sev("7").unwrap_err();
    assert!(err.message.contains("Severity is the number 7"), "{err}");
    let err = parse(
        format!(
            r#"{{"Findings":[{},{}]}}"#,
            finding("a", HIGH),
            finding("b", "")
        )
        .as_bytes(),
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        "Findings[1]: no Severity.Label, Severity.Normalized or Severity.Product"
    );
}

#[test]
fn every_wrapper_shape_is_read() {
    let one = finding("a", HIGH);
    for doc in [
        one.clone(),
        format!("[{one}]"),
        format!(r#"{{"Findings":[{one}]}}"#),
        format!(r#"{{"findings":[{one}],"NextToken":"x"}}"#),
        format!(
            r#"{{"version":"0","id":"e","detail-type":"Security Hub Findings - Imported","source":"aws.securityhub",
            "account":"111122223333","region":"us-east-1","resources":["arn"],"detail":{{"findings":[{one}]}}}}"#
        ),
        format!("\u{feff}\n {one}"),
    ] {
        let v = parse(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}: {doc}"));
        assert_eq!(v.len(), 1, "{doc}");
        assert_eq!(v[0].rule_id, "security-control/S3.8");
        assert_eq!(v[0].source, "securityhub");
        assert_eq!(v[0].asset, "arn:aws:s3:::b");
        assert_eq!(v[0].location, "111122223333/us-east-1");
    }
    assert!(parse(b"").unwrap().is_empty());
    assert!(parse(b" \n").unwrap().is_empty());
    assert!(parse(br#"{"Findings":[]}"#).unwrap().is_empty());
}

#[test]
fn documents_that_are_not_findings_get_a_clear_error() {
    let err = parse(br#"{"Records":[]}"#).unwrap_err();
    assert!(err.message.contains("get-finding-history"), "{err}");
    let err =
        parse(br#"{"detail-type":"Security Hub Insight Results","detail":{"insightResults":[]}}"#)
            .unwrap_err();
    assert!(
        err.message
            .starts_with("detail: EventBridge event `Security Hub Insight Results`"),
        "{err}"
    );
    let err = parse(br#"{"detail-type":"GuardDuty Finding","detail":{"id":"x"}}"#).unwrap_err();
    assert!(err.message.contains("camelCase"), "{err}");
    let err = parse(b"{}").unwrap_err();
    assert!(err.message.starts_with("no findings"), "{err}");
    let err = parse(b"\n 42").unwrap_err();
    assert_eq!(err.position, Some((2, 2)));
    let err = parse(br#"[{"Title":"t"}]"#).unwrap_err();
    assert_eq!(
        err.message,
        "[0]: neither an ASFF finding (no ProductArn) nor a GuardDuty finding (no Arn)"
    );
    let no_id = finding("", HIGH);
    assert_eq!(parse(no_id.as_bytes()).unwrap_err().message, "Id is empty");
    let err = parse(b"[\n{\"Id\": }]").unwrap_err();
    assert_eq!(err.position, Some((2, 8)));
    let err = parse(br#"{"Findings":[{"ProductArn":"p","Id":"i","Title":"t","Types":"x"}]}"#)
        .unwrap_err();
    assert!(
        err.message.starts_with("Findings[0].Types: invalid type"),
        "{err}"
    );
}

#[test]
fn a_reused_id_with_different_titles_gets_the_title_in_its_fingerprint() {
    let a = finding("same", HIGH);
    let b = a.replace("S3.8 Block public access", "Another problem");
    let v = parse(format!("[{a},{b}]").as_bytes()).unwrap();
    assert_ne!(v[0].fingerprint, v[1].fingerprint);
    let arn = "arn:aws:securityhub:us-east-1::product/aws/securityhub";
    assert_eq!(
        v[0].fingerprint,
        Fingerprint::derive("asff", arn, "same", "S3.8 Block public access")
    );
    // An exact repeat is the same finding: the plain fingerprint, twice.
    let v = parse(format!("[{a},{a}]").as_bytes()).unwrap();
    assert_eq!(v[0].fingerprint, v[1].fingerprint);
    assert_eq!(
        v[0].fingerprint,
        Fingerprint::derive("asff", arn, "same", "")
    );
}

#[test]
fn tags_references_and_extra_resources_are_collected() {
    let doc = finding(
        "a",
        r#","Severity":{"Label":"LOW"},"Types":["T1","T1"],"SourceUrl":"https://src.test",
        "Remediation":{"Recommendation":{"Text":"Fix it.","Url":"https://fix.test"}},
        "Compliance":{"Status":"FAILED","SecurityControlId":"S3.8","RelatedRequirements":["PCI 1"]},
        "ProductFields":{"ControlId":5,"aws/securityhub/ProductName":"Security Hub"}"#,
    )
    .replace(
        r#"}]"#,
        r#"},{"Type":"AwsS3Bucket","Id":"arn:aws:s3:::other"}]"#,
    );
    let f = &parse(doc.as_bytes()).unwrap()[0];
    assert_eq!(f.rule_id, "S3.8");
    assert_eq!(
        f.tags,
        vec![
            "T1",
            "AwsS3Bucket",
            "S3.8",
            "PCI 1",
            "resource:arn:aws:s3:::other"
        ]
    );
    assert_eq!(f.references, vec!["https://fix.test", "https://src.test"]);
    assert_eq!(f.description, "d\n\nRemediation: Fix it.");
}

const GUARDDUTY: &str = r#"{"Findings":[{"SchemaVersion":"2.0","Id":"f1","AccountId":"111122223333","Region":"us-east-1","Partition":"aws",
    "Arn":"arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/f1","Type":"UnauthorizedAccess:EC2/SSHBruteForce",
    "Title":"SSH brute force","Severity":8,"Resource":{"ResourceType":"Instance","InstanceDetails":{"InstanceId":"i-1"}},
    "Service":{"ServiceName":"guardduty","Archived":false}}]}"#;

#[test]
fn guardduty_findings_match_their_security_hub_copy() {
    let v = parse_with_status(GUARDDUTY.as_bytes()).unwrap();
    let (f, status) = &v[0];
    assert_eq!(*status, AsffStatus::Active);
    assert_eq!(f.source, "guardduty");
    assert_eq!(f.rule_id, "UnauthorizedAccess:EC2/SSHBruteForce");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.asset, "arn:aws:ec2:us-east-1:111122223333:instance/i-1");
    assert_eq!(f.tags, vec!["UnauthorizedAccess", "Instance"]);
    let via_hub = finding(
        "arn:aws:guardduty:us-east-1:111122223333:detector/d/finding/f1",
        HIGH,
    )
    .replace("product/aws/securityhub", "product/aws/guardduty");
    assert_eq!(
        parse(via_hub.as_bytes()).unwrap()[0].fingerprint,
        f.fingerprint
    );

    let archived = GUARDDUTY.replace("\"Archived\":false", "\"Archived\":true");
    assert_eq!(statuses(&archived), vec![AsffStatus::Suppressed]);
    assert!(parse(archived.as_bytes()).unwrap().is_empty());
    let low = GUARDDUTY.replace("\"Severity\":8", "\"Severity\":2.5");
    assert_eq!(parse(low.as_bytes()).unwrap()[0].severity, Severity::Low);
    let bad = GUARDDUTY.replace("\"Severity\":8", "\"Severity\":80");
    assert!(
        parse(bad.as_bytes())
            .unwrap_err()
            .message
            .contains("outside 0–10")
    );
    let untyped = GUARDDUTY.replace("\"Type\":\"UnauthorizedAccess:EC2/SSHBruteForce\",", "");
    assert_eq!(
        parse(untyped.as_bytes()).unwrap_err().message,
        "Findings[0]: no Type"
    );
}

#[test]
fn looks_like_is_specific() {
    assert!(looks_like(finding("a", HIGH).as_bytes()));
    assert!(looks_like(GUARDDUTY.as_bytes()));
    assert!(looks_like(
        br#"{"detail-type":"Security Hub Insight Results","source":"aws.securityhub"}"#
    ));
    assert!(!looks_like(
        br#"[{"source":"x","rule_id":"r","asset":"a","title":"ProductArn"}]"#
    ));
    assert!(!looks_like(
        br#"{"id":"GHSA-1","modified":"2024","affected":[]}"#
    ));
    assert!(!looks_like(b"source,rule_id,title"));
}
