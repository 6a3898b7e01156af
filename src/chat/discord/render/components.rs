//! Message components: the buttons and select menus a template lists, put into action
//! rows as Discord wants them (at most 5 rows, at most 5 buttons a row, a select menu alone
//! in its row), with labels cut to length and every `custom_id` checked.

use serde_json::{Map, Value, json};

use crate::chat::templates::text::truncate_chars;

pub const MAX_ROWS: usize = 5;
pub const ROW_BUTTONS: usize = 5;
pub const CUSTOM_ID: usize = 100;
pub const BUTTON_LABEL: usize = 80;
pub const PLACEHOLDER: usize = 150;

const ACTION_ROW: u64 = 1;
const BUTTON: u64 = 2;
/// Link buttons have a `url` and no `custom_id`.
const LINK_STYLE: u64 = 5;
/// String, user, role, mentionable and channel selects.
const SELECTS: [u64; 5] = [3, 5, 6, 7, 8];

/// A group of components that shares a row, split further if it has too many buttons.
enum Group {
    Buttons(Vec<Value>),
    Select(Value),
}

/// `components` as a template wrote them (action rows, or buttons and selects listed flat)
/// as at most [`MAX_ROWS`] action rows. Rows beyond that are left out; a component that is
/// not a button or select, or a `custom_id` that is missing, too long, not `rb:…`, or used
/// twice, is an error (a template bug).
pub fn arrange(items: Vec<Value>) -> Result<Vec<Value>, String> {
    let mut groups: Vec<Group> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut loose = Vec::new();
    for item in items {
        match kind(&item)? {
            ACTION_ROW => {
                flush(&mut loose, &mut groups);
                let Some(Value::Array(children)) = item.get("components").cloned() else {
                    return Err("an action row needs a `components` array".into());
                };
                let mut buttons = Vec::new();
                for child in children {
                    place(check(child, &mut seen)?, &mut buttons, &mut groups)?;
                }
                flush(&mut buttons, &mut groups);
            }
            _ => place(check(item, &mut seen)?, &mut loose, &mut groups)?,
        }
    }
    flush(&mut loose, &mut groups);
    let mut rows: Vec<Value> = groups
        .into_iter()
        .flat_map(|g| match g {
            Group::Select(s) => vec![vec![s]],
            Group::Buttons(b) => b.chunks(ROW_BUTTONS).map(<[Value]>::to_vec).collect(),
        })
        .map(|row| json!({"type": ACTION_ROW, "components": row}))
        .collect();
    if rows.len() > MAX_ROWS {
        tracing::warn!(
            rows = rows.len(),
            "Discord shows at most {MAX_ROWS} action rows; leaving the rest out"
        );
        rows.truncate(MAX_ROWS);
    }
    Ok(rows)
}

fn kind(item: &Value) -> Result<u64, String> {
    item.get("type")
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("a component needs an integer `type`: {item}"))
}

/// Buttons go with the buttons before them; a select ends that group and stands alone.
fn place(item: Value, buttons: &mut Vec<Value>, groups: &mut Vec<Group>) -> Result<(), String> {
    if kind(&item)? == BUTTON {
        buttons.push(item);
    } else {
        flush(buttons, groups);
        groups.push(Group::Select(item));
    }
    Ok(())
}

fn flush(buttons: &mut Vec<Value>, groups: &mut Vec<Group>) {
    if !buttons.is_empty() {
        groups.push(Group::Buttons(std::mem::take(buttons)));
    }
}

/// A button or select with its text cut to length and its `custom_id` checked.
fn check(mut item: Value, seen: &mut Vec<String>) -> Result<Value, String> {
    let kind = kind(&item)?;
    let Value::Object(c) = &mut item else {
        return Err("a component must be an object".into());
    };
    let link = kind == BUTTON && c.get("style").and_then(Value::as_u64) == Some(LINK_STYLE);
    if kind == BUTTON {
        cut(c, "label", BUTTON_LABEL);
    } else if SELECTS.contains(&kind) {
        cut(c, "placeholder", PLACEHOLDER);
    } else {
        return Err(format!(
            "component type {kind} is not a button or a select menu"
        ));
    }
    match c.get("custom_id").and_then(Value::as_str) {
        None if link => {}
        None => return Err("a button or select menu needs a `custom_id`".into()),
        Some(id) => {
            check_custom_id(id, seen)?;
            seen.push(id.to_string());
        }
    }
    Ok(item)
}

fn check_custom_id(id: &str, seen: &[String]) -> Result<(), String> {
    if id.chars().count() > CUSTOM_ID {
        return Err(format!(
            "custom_id `{id}` is longer than {CUSTOM_ID} characters"
        ));
    }
    if !id.starts_with("rb:") || id.contains(|c: char| c == '\\' || c.is_whitespace()) {
        return Err(format!(
            "custom_id `{id}` must be `rb:<action>:<finding>` without spaces or escapes \
             (use {{{{plain …}}}} for its parts)"
        ));
    }
    if seen.iter().any(|s| s == id) {
        return Err(format!("custom_id `{id}` is used twice"));
    }
    Ok(())
}

fn cut(c: &mut Map<String, Value>, key: &str, max: usize) {
    if let Some(Value::String(s)) = c.get_mut(key) {
        *s = truncate_chars(s, max, "…");
    }
}
