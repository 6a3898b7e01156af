//! The generic schema as CSV through `ingest::csv`: realistic exports, the same
//! validation as the generic JSON format, errors that name line and column, and fuzzing.

use std::collections::HashSet;

use proptest::prelude::*;
use remedybot::domain::{Fingerprint, Severity};
use remedybot::ingest::{csv, generic};

/// What a team's spreadsheet export looks like: CRLF line ends, quoted cells with commas,
/// quotes and line breaks, optional columns in any order, blank optional cells.
const EXPORT: &str = "source,rule_id,title,severity,asset,location,tags,references,description,owner,fingerprint\r\n\
pentest-2024q3,PT-014,\"Stored XSS in comment preview\",high,web-portal,\"src/comments/preview.tsx:88\",cwe-79;owasp-a03,https://tracker.example/PT-014,\"The preview renders \"\"<script>\"\" tags.\r\nReproduced in Chrome and Firefox.\",,\r\n\
pentest-2024q3,PT-015,Missing rate limit on /login,Medium,auth-service,POST /login,cwe-307,,,slack:U024BE7LH,PT-015-auth\r\n\
audit,ISO-A.8.15,Audit log retention below 12 months,low,logging-platform,,iso27001,,,,\r\n";

#[test]
fn a_spreadsheet_export_gives_validated_findings() {
    assert!(csv::looks_like(EXPORT.as_bytes()));
    let v = csv::parse(EXPORT.as_bytes()).unwrap();
    assert_eq!(v.len(), 3);
    let xss = &v[0];
    assert_eq!(xss.source, "pentest-2024q3");
    assert_eq!(xss.rule_id, "PT-014");
    assert_eq!(xss.severity, Severity::High);
    assert_eq!(xss.location, "src/comments/preview.tsx:88");
    assert_eq!(xss.tags, vec!["cwe-79", "owasp-a03"]);
    assert_eq!(xss.references, vec!["https://tracker.example/PT-014"]);
    assert_eq!(
        xss.description,
        "The preview renders \"<script>\" tags.\r\nReproduced in Chrome and Firefox."
    );
    assert_eq!(xss.owner, None);
    assert_eq!(
        xss.fingerprint,
        Fingerprint::derive(
            "pentest-2024q3",
            "PT-014",
            "web-portal",
            "src/comments/preview.tsx:88"
        )
    );
    assert_eq!(v[1].severity, Severity::Medium);
    assert_eq!(v[1].owner.as_deref(), Some("slack:U024BE7LH"));
    assert_eq!(v[1].fingerprint, Fingerprint::given("PT-015-auth").unwrap());
    assert!(v[1].references.is_empty());
    assert_eq!((v[2].severity, v[2].location.as_str()), (Severity::Low, ""));
    let fps: HashSet<_> = v.iter().map(|f| &f.fingerprint).collect();
    assert_eq!(fps.len(), 3);
    assert_eq!(
        csv::parse(EXPORT.as_bytes()).unwrap(),
        v,
        "a second parse agrees"
    );
}

#[test]
fn csv_and_generic_json_give_the_same_finding() {
    let csv_text = "source,rule_id,title,description,severity,asset,location,tags,references,fingerprint,owner\n\
        semgrep,sqli,SQL injection,d,HIGH,payments,db.py:4,pci,https://x.test,fp-1,slack:U1\n";
    let json = r#"[{"source":"semgrep","rule_id":"sqli","title":"SQL injection","description":"d","severity":"HIGH","asset":"payments","location":"db.py:4","tags":["pci"],"references":["https://x.test"],"fingerprint":"fp-1","owner":"slack:U1"}]"#;
    assert_eq!(
        csv::parse(csv_text.as_bytes()).unwrap(),
        generic::parse(json.as_bytes()).unwrap()
    );
}

#[test]
fn a_bom_an_empty_file_and_a_bare_header_are_fine() {
    let with_bom = format!("\u{feff}{EXPORT}");
    assert_eq!(csv::parse(with_bom.as_bytes()).unwrap().len(), 3);
    assert!(csv::parse(b"").unwrap().is_empty());
    assert!(
        csv::parse(b"source,rule_id,title,severity,asset\n")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn bad_rows_are_named_by_line_record_and_column() {
    let header = "source,rule_id,title,severity,asset,tags\n";
    let err = csv::parse(format!("{header}a,b,c,urgent,d,\n").as_bytes()).unwrap_err();
    assert_eq!(err.format, "CSV");
    assert_eq!(
        err.message,
        "line 2 (record 1), column `severity`: severity: unknown severity `urgent`; expected one of: critical, high, medium, low, info"
    );
    assert_eq!(err.position, Some((2, 4)));
    assert!(err.to_string().contains("(line 2, column 4)"));

    let long_title = "t".repeat(1001);
    let err = csv::parse(format!("{header}a,b,c,low,d,\na,b,{long_title},low,d,\n").as_bytes())
        .unwrap_err();
    assert_eq!(
        err.message,
        "line 3 (record 2), column `title`: title is longer than 1000 characters"
    );

    let too_many_tags = vec!["t"; 101].join(";");
    let err = csv::parse(format!("{header}a,b,c,low,d,{too_many_tags}\n").as_bytes()).unwrap_err();
    assert_eq!(
        err.message,
        "line 2 (record 1), column `tags`: tags has more than 100 entries"
    );

    let err = csv::parse(format!("{header}a,b,c,low,,\n").as_bytes()).unwrap_err();
    assert_eq!(
        err.message,
        "line 2 (record 1), column `asset`: asset must not be empty"
    );
    let err = csv::parse(format!("{header}a,b,c,,d,\n").as_bytes()).unwrap_err();
    assert_eq!(
        err.message,
        "line 2 (record 1), column `severity`: severity must not be empty"
    );

    let err = csv::parse(format!("{header}a,b,c,low,d,x\na,b,c,low\n").as_bytes()).unwrap_err();
    assert_eq!(
        err.message,
        "line 3 (record 2): 4 fields, but the header has 6"
    );
    assert_eq!(err.position, Some((3, 1)));

    let err = csv::parse(b"source,rule_id,title,severity,asset,team\n").unwrap_err();
    assert!(
        err.message
            .starts_with("line 1 (header): unknown column `team`"),
        "{err}"
    );

    let err = csv::parse(b"source,rule_id,title,severity,asset\na,b,\xff,low,d\n").unwrap_err();
    assert_eq!(err.message, "line 2 (record 1): not valid UTF-8");
}

#[test]
fn json_and_other_formats_are_not_claimed() {
    assert!(!csv::looks_like(
        br#"[{"source":"a","rule_id":"b","asset":"c"}]"#
    ));
    assert!(!csv::looks_like(b"  {\"source,rule_id\": 1}"));
    assert!(!csv::looks_like(
        b"<?xml version=\"1.0\"?><source>rule_id</source>"
    ));
    assert!(!csv::looks_like(b"rule_id;source;title"));
}

#[test]
fn ten_thousand_rows_parse_quickly() {
    let mut doc =
        String::from("source,rule_id,title,severity,asset,location,tags,references,description\n");
    for i in 0..10_000 {
        doc.push_str(&format!(
            "scanner,R-{i},\"Finding number {i}, with a comma\",high,service-{},src/file{i}.rs:{i},cwe-79;pci,https://x.test/{i},\"Line one\nline two\"\n",
            i % 50
        ));
    }
    let v = csv::parse(doc.as_bytes()).unwrap();
    assert_eq!(v.len(), 10_000);
    assert_eq!(v[9_999].rule_id, "R-9999");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_exports_never_panic(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..8)
    ) {
        let mut doc = EXPORT.as_bytes().to_vec();
        for (pos, byte, op) in edits {
            let pos = pos % doc.len().max(1);
            match op {
                0 => { if let Some(b) = doc.get_mut(pos) { *b = byte } }
                1 => { if pos < doc.len() { doc.remove(pos); } }
                _ => doc.insert(pos, byte),
            }
        }
        match csv::parse(&doc) {
            Ok(v) => prop_assert!(v.len() <= 4),
            Err(e) => prop_assert!(!e.message.is_empty() && e.format == csv::FORMAT),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = csv::parse(&bytes);
    }
}
