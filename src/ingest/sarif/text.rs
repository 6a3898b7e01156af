//! The text of a finding: message (with message strings and arguments), title,
//! description, tags and references, from the result and its rule.

use std::collections::HashMap;

use super::model::{Component, Rule, SarifResult, Text};
use super::{MAX_ITEM, MAX_LIST};
use crate::ingest::{MAX_DESCRIPTION, MAX_TITLE, clip};

/// `message.text`, or the string `message.id` names in the rule's `messageStrings` or the
/// component's `globalMessageStrings`, with `{N}` placeholders replaced by `arguments`.
pub(crate) fn message_text(
    res: &SarifResult,
    rule: Option<&Rule>,
    component: &Component,
) -> Option<String> {
    let m = res.message.as_ref()?;
    let template = non_empty(m.text.as_deref()).or_else(|| {
        let id = m.id.as_deref()?;
        lookup(rule.and_then(|r| r.message_strings.as_ref()), id)
            .or_else(|| lookup(component.global_message_strings.as_ref(), id))
    })?;
    match m.arguments.as_deref() {
        Some(args) if !args.is_empty() => Some(substitute(template, args)),
        _ => Some(template.to_string()),
    }
}

fn lookup<'a>(strings: Option<&'a HashMap<String, Text>>, id: &str) -> Option<&'a str> {
    strings?.get(id)?.text.as_deref()
}

/// SARIF message-string formatting: `{N}` is argument N, `{{` and `}}` are literal braces.
/// A placeholder without an argument is kept as written.
pub(crate) fn substitute(template: &str, args: &[String]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(pos) = rest.find(['{', '}']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        let digits = tail[1..].bytes().take_while(u8::is_ascii_digit).count();
        let closed = digits > 0 && tail.as_bytes().get(1 + digits) == Some(&b'}');
        let arg = closed
            .then(|| tail[1..1 + digits].parse::<usize>().ok())
            .flatten()
            .and_then(|n| args.get(n));
        match arg {
            Some(a) => {
                out.push_str(a);
                rest = &tail[digits + 2..];
            }
            None => {
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `s` trimmed, if anything is left.
pub(crate) fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn text(t: &Option<Text>) -> Option<&str> {
    non_empty(t.as_ref()?.text.as_deref())
}

/// The message's first line, else the rule's short description, name, or id.
pub(crate) fn title(message: Option<&str>, rule: Option<&Rule>, rule_id: &str) -> String {
    message
        .and_then(|m| m.lines().map(str::trim).find(|l| !l.is_empty()))
        .or_else(|| rule.and_then(|r| text(&r.short_description)))
        .or_else(|| rule.and_then(|r| non_empty(r.name.as_deref())))
        .or_else(|| rule.and_then(|r| text(&r.full_description)))
        .map_or_else(
            || clip(rule_id, MAX_TITLE),
            |t| clip(t.lines().next().unwrap_or(t), MAX_TITLE),
        )
}

/// The message, then the rule's full (or short) description and help text, each once.
pub(crate) fn description(message: Option<&str>, rule: Option<&Rule>) -> String {
    let mut parts: Vec<&str> = message
        .and_then(|m| non_empty(Some(m)))
        .into_iter()
        .collect();
    if let Some(r) = rule {
        let about = text(&r.full_description).or_else(|| text(&r.short_description));
        for part in [about, text(&r.help)].into_iter().flatten() {
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
    }
    clip(&parts.join("\n\n"), MAX_DESCRIPTION)
}

/// Rule and result `properties.tags` (CWE tags normalised to `CWE-N`), CWE taxa from the
/// rule's relationships and the result's `taxa`, `precision:…`, and `kind:review|open`.
pub(crate) fn tags(res: &SarifResult, rule: Option<&Rule>) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    let rule_tags = rule
        .map(|r| r.properties.tags.0.as_slice())
        .unwrap_or_default();
    for t in rule_tags.iter().chain(&res.properties.tags.0) {
        all.push(cwe_tag(t).unwrap_or_else(|| t.trim().to_string()));
    }
    let relationships = rule
        .and_then(|r| r.relationships.as_deref())
        .unwrap_or_default()
        .iter()
        .filter_map(|x| x.target.as_ref());
    for target in relationships.chain(res.taxa.iter().flatten()) {
        let is_cwe = target
            .tool_component
            .as_ref()
            .and_then(|c| c.name.as_deref())
            .is_some_and(|n| n.eq_ignore_ascii_case("cwe"));
        if let (true, Some(id)) = (is_cwe, target.id.as_deref()) {
            all.extend(cwe_tag(id).or_else(|| cwe_tag(&format!("CWE-{id}"))));
        }
    }
    let precision = res
        .properties
        .precision
        .0
        .as_deref()
        .or_else(|| rule.and_then(|r| r.properties.precision.0.as_deref()));
    all.extend(non_empty(precision).map(|p| format!("precision:{p}")));
    if let Some(k @ ("review" | "open")) = res.kind.as_deref() {
        all.push(format!("kind:{k}"));
    }
    dedup(all)
}

/// `CWE-79` for `CWE-79`, `cwe-079`, `external/cwe/cwe-079` or `CWE-79: Improper …`.
pub(crate) fn cwe_tag(tag: &str) -> Option<String> {
    let lower = tag.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("external/cwe/")
        .unwrap_or(&lower)
        .strip_prefix("cwe")?;
    let rest = rest.strip_prefix(['-', '_', ':', ' ']).unwrap_or(rest);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let n: u32 = digits.parse().ok()?;
    Some(format!("CWE-{n}"))
}

pub(crate) fn references(rule: Option<&Rule>) -> Vec<String> {
    dedup(rule.and_then(|r| r.help_uri.clone()).into_iter().collect())
}

/// Trimmed, non-empty, clipped, first occurrence kept, at most [`MAX_LIST`].
fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let item = clip(&item, MAX_ITEM);
        if !item.is_empty() && !out.contains(&item) {
            out.push(item);
            if out.len() == MAX_LIST {
                break;
            }
        }
    }
    out
}
