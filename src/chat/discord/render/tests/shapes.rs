//! Limits and action rows on hand-written message JSON.

use serde_json::{Value, json};

use super::embed_text_total;
use crate::chat::discord::render::components;
use crate::chat::discord::render::limits::{self, CONTENT, EMBED_TOTAL};

#[test]
fn components_are_put_into_rows_of_five() {
    let button = |i: usize| json!({"type": 2, "style": 2, "label": "b".repeat(90), "custom_id": format!("rb:b{i}:F-1")});
    let select = |i: usize| json!({"type": 5, "custom_id": format!("rb:s{i}:F-1")});
    let mut items: Vec<Value> = (0..7).map(button).collect();
    items.push(select(0));
    items.push(json!({"type": 1, "components": (7..9).map(button).collect::<Vec<_>>()}));
    items.extend((1..4).map(select));
    let rows = components::arrange(items).unwrap();
    let sizes: Vec<usize> = rows
        .iter()
        .map(|r| r["components"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [5, 2, 1, 2, 1], "at most five rows, selects alone");
    assert_eq!(
        rows[0]["components"][0]["label"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        80
    );
    assert!(components::arrange(vec![json!({"type": 4, "custom_id": "rb:x"})]).is_err());
}

#[test]
fn limits_cap_embeds_fields_and_total_text() {
    let field = json!({"name": "n".repeat(300), "value": "v".repeat(2000)});
    let embed = json!({
        "title": "", "description": "d".repeat(5000),
        "footer": {"text": "f".repeat(3000)},
        "fields": vec![field; 30],
    });
    let body = limits::finish(
        json!({"content": "c".repeat(2500), "embeds": vec![embed; 12]}),
        Some("F-3"),
    )
    .unwrap();
    let embeds = body["embeds"].as_array().unwrap();
    assert_eq!(embeds.len(), limits::MAX_EMBEDS);
    assert!(
        embeds[0].get("title").is_none(),
        "empty titles are left out"
    );
    assert_eq!(
        embeds[0]["fields"].as_array().unwrap().len(),
        limits::MAX_FIELDS
    );
    let last = embeds[0]["fields"][24]["value"].as_str().unwrap();
    assert!(last.starts_with("6 more fields were left out"), "{last}");
    assert!(
        embed_text_total(&body) <= EMBED_TOTAL,
        "{}",
        embed_text_total(&body)
    );
    let content = body["content"].as_str().unwrap();
    assert!(content.chars().count() <= CONTENT);
    assert!(
        body.get("allowed_mentions").is_none(),
        "the renderer adds it"
    );
    let err = limits::finish(
        json!({"content": "x", "allowed_mentions": {"parse": ["everyone"]}}),
        None,
    );
    assert!(err.unwrap_err().contains("allowed_mentions"));
    assert!(limits::finish(json!({"content": ""}), None).is_err());
    assert!(limits::finish(json!([]), None).is_err());
}
