//! Discord's message limits, enforced on the rendered JSON so no template and no finding can
//! produce a message Discord rejects for length. Markdown text is cut on character
//! boundaries, never inside an escape or a mention, and long texts point at the CLI for the
//! full version; text Discord shows as written (titles, footers) just ends with `…`.

use serde_json::{Map, Value, json};

use super::components;
use crate::chat::discord::escape::{ZWSP, code, truncate_markdown};
use crate::chat::templates::text::{
    full_text_pointer, truncate_chars, truncated_pointer, unrenderable_text,
};

/// `content`.
pub const CONTENT: usize = 2000;
pub const EMBED_TITLE: usize = 256;
pub const EMBED_DESCRIPTION: usize = 4096;
pub const MAX_FIELDS: usize = 25;
pub const FIELD_NAME: usize = 256;
pub const FIELD_VALUE: usize = 1024;
pub const FOOTER_TEXT: usize = 2048;
pub const AUTHOR_NAME: usize = 256;
/// All text of all embeds of a message together.
pub const EMBED_TOTAL: usize = 6000;
pub const MAX_EMBEDS: usize = 10;

/// The keys a template may produce (`allowed_mentions` is remedybot's, not a template's).
const KEYS: [&str; 3] = ["content", "embeds", "components"];

/// Where the full text is: `` `remedybot show F-12` ``.
fn pointer(id: Option<&str>) -> String {
    truncated_pointer(id, code)
}

/// ` Full text: `remedybot show F-12`.` after a note that something was left out.
fn full_text(id: Option<&str>) -> String {
    full_text_pointer(id, code)
}

/// A rendered template's JSON as a message body within Discord's limits (`content`,
/// `embeds` and `components`, all present so an edit replaces each); `Err` says what is
/// wrong with its shape.
pub fn finish(value: Value, id: Option<&str>) -> Result<Value, String> {
    let Value::Object(mut top) = value else {
        return Err(
            "the template must produce a JSON object with `content`, `embeds` and \
                    `components`"
                .into(),
        );
    };
    if let Some(key) = top.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "unexpected key `{key}`; a template produces only `content`, `embeds` and \
             `components` (remedybot sets `allowed_mentions` itself)"
        ));
    }
    let mut content = match top.remove("content") {
        Some(Value::String(s)) => s,
        None => String::new(),
        _ => return Err("`content` must be a string".into()),
    };
    let mut embeds = match top.remove("embeds") {
        Some(Value::Array(e)) => e,
        None => Vec::new(),
        _ => return Err("`embeds` must be an array".into()),
    };
    let components = match top.remove("components") {
        Some(Value::Array(c)) => components::arrange(c)?,
        None => Vec::new(),
        _ => return Err("`components` must be an array".into()),
    };
    let more = pointer(id);
    if embeds.len() > MAX_EMBEDS {
        let left_out = embeds.len() - MAX_EMBEDS;
        embeds.truncate(MAX_EMBEDS);
        content.push_str(&format!(
            "\n{left_out} more embeds were left out: Discord shows at most {MAX_EMBEDS}.{}",
            full_text(id)
        ));
    }
    for embed in &mut embeds {
        let Value::Object(e) = embed else {
            return Err("each of `embeds` must be an object".into());
        };
        limit_embed(e, id, &more)?;
    }
    fit_total(&mut embeds, &more);
    let content = truncate_markdown(content.trim_end(), CONTENT, &more);
    if content.is_empty() && embeds.is_empty() {
        return Err("a message needs `content` or an embed".into());
    }
    Ok(json!({"content": content, "embeds": embeds, "components": components}))
}

/// The last resort when no template renders: a pointer at the CLI.
pub fn unrenderable(id: Option<&str>) -> Value {
    let content = unrenderable_text(id, code);
    json!({"content": content, "embeds": [], "components": []})
}

/// Cut `obj[key]` (a string) to `max` characters with `suffix`, or remove it when empty
/// (Discord refuses empty titles and descriptions).
fn cut(obj: &mut Map<String, Value>, key: &str, max: usize, suffix: &str, markdown: bool) {
    let Some(Value::String(s)) = obj.get_mut(key) else {
        return;
    };
    if s.trim().is_empty() {
        obj.remove(key);
    } else if markdown {
        *s = truncate_markdown(s, max, suffix);
    } else {
        *s = truncate_chars(s, max, suffix);
    }
}

fn limit_embed(e: &mut Map<String, Value>, id: Option<&str>, more: &str) -> Result<(), String> {
    cut(e, "title", EMBED_TITLE, "…", true);
    cut(e, "description", EMBED_DESCRIPTION, more, true);
    for (key, text, max) in [
        ("footer", "text", FOOTER_TEXT),
        ("author", "name", AUTHOR_NAME),
    ] {
        if let Some(Value::Object(o)) = e.get_mut(key) {
            cut(o, text, max, "…", false);
            if !o.contains_key(text) {
                e.remove(key);
            }
        }
    }
    let Some(fields) = e.get_mut("fields") else {
        return Ok(());
    };
    let Value::Array(fields) = fields else {
        return Err("an embed's `fields` must be an array".into());
    };
    for field in fields.iter_mut() {
        let Value::Object(f) = field else {
            return Err("each of an embed's `fields` must be an object".into());
        };
        for (key, max, suffix) in [("name", FIELD_NAME, "…"), ("value", FIELD_VALUE, more)] {
            match f.get_mut(key) {
                Some(Value::String(s)) if s.trim().is_empty() => *s = ZWSP.to_string(),
                Some(Value::String(s)) => *s = truncate_markdown(s, max, suffix),
                _ => return Err(format!("each field needs a string `{key}`")),
            }
        }
    }
    if fields.len() > MAX_FIELDS {
        let left_out = fields.len() - (MAX_FIELDS - 1);
        fields.truncate(MAX_FIELDS - 1);
        fields.push(json!({
            "name": "…",
            "value": format!(
                "{left_out} more fields were left out: Discord shows at most {MAX_FIELDS}.{}",
                full_text(id)
            ),
        }));
    }
    Ok(())
}

/// The text of an embed that counts towards [`EMBED_TOTAL`], each with whether a cut
/// points at the full text (descriptions and field values) or just ends with `…`.
fn texts(e: &mut Value) -> Vec<(&mut String, bool)> {
    let mut out = Vec::new();
    let Value::Object(e) = e else { return out };
    for (key, value) in e.iter_mut() {
        match (key.as_str(), value) {
            ("title", Value::String(s)) => out.push((s, false)),
            ("description", Value::String(s)) => out.push((s, true)),
            ("footer" | "author", Value::Object(o)) => out.extend(
                o.iter_mut()
                    .filter(|(k, _)| *k == "text" || *k == "name")
                    .filter_map(|(_, v)| match v {
                        Value::String(s) => Some((s, false)),
                        _ => None,
                    }),
            ),
            ("fields", Value::Array(fields)) => {
                for f in fields.iter_mut().filter_map(Value::as_object_mut) {
                    for (k, v) in f.iter_mut() {
                        if let Value::String(s) = v {
                            out.push((s, k == "value"));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Shorten the longest texts until all embeds together are within [`EMBED_TOTAL`].
fn fit_total(embeds: &mut [Value], more: &str) {
    let mut texts: Vec<(&mut String, bool)> = embeds.iter_mut().flat_map(texts).collect();
    loop {
        let total: usize = texts.iter().map(|(s, _)| s.chars().count()).sum();
        let Some(excess) = total.checked_sub(EMBED_TOTAL).filter(|e| *e > 0) else {
            return;
        };
        let Some((longest, pointer)) = texts.iter_mut().max_by_key(|(s, _)| s.chars().count())
        else {
            return;
        };
        let len = longest.chars().count();
        if len <= 1 {
            return;
        }
        let max = len.saturating_sub(excess).max(1);
        let suffix = if *pointer { more } else { "…" };
        **longest = truncate_markdown(longest, max, suffix);
    }
}
