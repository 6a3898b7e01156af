//! Fuzzing the JSON ingest path with proptest: arbitrary bytes, and valid documents with
//! random mutations, must give findings or an error — never a panic.

use proptest::prelude::*;
use remedybot::ingest;

const VALID: &str = r#"[{"source":"semgrep","rule_id":"sqli","title":"SQL injection","description":"d","severity":"high","asset":"payments","location":"db.py:4","tags":["pci"],"references":["https://x.test"],"fingerprint":"fp-1","owner":"slack:U1"}]"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = ingest::parse(None, &bytes);
    }

    #[test]
    fn mutated_valid_documents_never_panic(
        edits in prop::collection::vec((0usize..VALID.len(), any::<u8>(), 0u8..3), 1..8)
    ) {
        let mut doc = VALID.as_bytes().to_vec();
        for (pos, byte, op) in edits {
            let pos = pos.min(doc.len().saturating_sub(1));
            match op {
                0 => doc[pos] = byte,
                1 => { doc.remove(pos); }
                _ => doc.insert(pos, byte),
            }
        }
        match ingest::parse(None, &doc) {
            Ok((_, findings)) => prop_assert!(findings.len() <= 1),
            Err(e) => prop_assert!(!e.message.is_empty()),
        }
    }

    #[test]
    fn arbitrary_json_values_never_panic(v in arb_json()) {
        let text = v.to_string();
        let _ = ingest::parse(None, text.as_bytes());
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "[a-z]{0,8}".prop_map(serde_json::Value::from),
        prop::sample::select(vec!["high", "CRITICAL", "", "semgrep"])
            .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "source", "rule_id", "title", "severity", "asset", "tags", "x"
                ])
                .prop_map(str::to_string),
                inner,
                0..8
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn the_valid_document_parses() {
    assert_eq!(ingest::parse(None, VALID.as_bytes()).unwrap().1.len(), 1);
}
