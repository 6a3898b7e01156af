//! Which rule a result names, and in which tool component: by index, by id (exact, then
//! without trailing `/…` parts), or, for Gitleaks 7 logs that name none, by the message.

use std::collections::HashMap;

use super::model::{Component, Reference, Rule, SarifResult, Tool};
use super::results::RunContext;
use super::text::non_empty;

/// The rule id as the result states it (`ruleId`, else `rule.id`, else the id of the rule
/// `ruleIndex`/`rule.index` points at), the rule's descriptor if the log has one, and the
/// tool component that defines it.
pub(crate) fn resolve_rule<'a>(
    ctx: &'a RunContext,
    res: &SarifResult,
) -> Result<(String, Option<&'a Rule>, &'a Component), String> {
    let reference = res.rule.as_ref();
    let component = component(ctx.tool, reference)?;
    let rules = component.rules.as_deref().unwrap_or_default();
    let stated = non_empty(res.rule_id.as_deref())
        .or_else(|| non_empty(reference.and_then(|r| r.id.as_deref())));
    let index = reference
        .and_then(|r| r.index)
        .or(res.rule_index)
        .filter(|i| *i >= 0);
    let rule = match (index, stated) {
        (Some(i), _) => {
            let rule = usize::try_from(i)
                .ok()
                .and_then(|u| rules.get(u))
                .ok_or_else(|| {
                    format!(
                        ": rule index {i} is out of range (`{}` has {} rules)",
                        component.name,
                        rules.len()
                    )
                })?;
            if let Some(id) = stated
                && !same_rule(id, &rule.id)
            {
                return Err(format!(
                    ": ruleId `{id}` does not match rule {i} of `{}` (`{}`)",
                    component.name, rule.id
                ));
            }
            Some(rule)
        }
        (None, Some(id)) => find_rule(ctx, component, id),
        // Gitleaks 7 names no rule on its results; its messages start with the rule id
        // ("AWS Access Key secret detected"). Take the longest rule id the message starts
        // with, so such logs are read rather than refused.
        (None, None) => {
            let text = res
                .message
                .as_ref()
                .and_then(|m| m.text.as_deref())
                .unwrap_or_default();
            rules
                .iter()
                .filter(|r| !r.id.is_empty() && text.starts_with(r.id.as_str()))
                .max_by_key(|r| r.id.len())
        }
    };
    let rule_id = stated
        .or_else(|| rule.and_then(|r| non_empty(Some(&r.id))))
        .ok_or_else(|| {
            ": no ruleId or rule.id, no rule index, and no rule whose id starts the message"
                .to_string()
        })?;
    Ok((rule_id.to_string(), rule, component))
}

/// `ruleId` may add hierarchical components to the rule's id (`CA5350/md5` for `CA5350`).
fn same_rule(stated: &str, id: &str) -> bool {
    stated == id
        || stated
            .strip_prefix(id)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The tool component `rule.toolComponent` names (by index, guid or name); the driver if none.
fn component<'a>(tool: &'a Tool, reference: Option<&Reference>) -> Result<&'a Component, String> {
    let Some(c) = reference.and_then(|r| r.tool_component.as_ref()) else {
        return Ok(&tool.driver);
    };
    let extensions = tool.extensions.as_deref().unwrap_or_default();
    if let Some(i) = c.index.filter(|i| *i >= 0) {
        return usize::try_from(i)
            .ok()
            .and_then(|u| extensions.get(u))
            .ok_or_else(|| {
                format!(
                    ".rule.toolComponent.index: {i} is out of range ({} extensions)",
                    extensions.len()
                )
            });
    }
    let by = |f: &dyn Fn(&Component) -> bool| {
        std::iter::once(&tool.driver)
            .chain(extensions)
            .find(|x| f(x))
    };
    let by_guid = |g: &str| {
        by(&|x: &Component| {
            x.guid
                .as_deref()
                .is_some_and(|xg| xg.eq_ignore_ascii_case(g))
        })
    };
    if let Some(found) = c.guid.as_deref().and_then(by_guid) {
        return Ok(found);
    }
    if let Some(n) = c.name.as_deref() {
        return by(&|x| x.name == n)
            .ok_or_else(|| format!(".rule.toolComponent.name: no tool component named `{n}`"));
    }
    Ok(&tool.driver)
}

/// The descriptor for `id`: exact match first, then with trailing `/…` components removed.
fn find_rule<'a>(ctx: &'a RunContext, component: &'a Component, id: &str) -> Option<&'a Rule> {
    let rules = component.rules.as_deref().unwrap_or_default();
    let lookup = |key: &str| {
        if std::ptr::eq(component, &ctx.tool.driver) {
            ctx.driver_ids.get(key).and_then(|i| rules.get(*i))
        } else {
            rules.iter().find(|r| r.id == key)
        }
    };
    let mut key = id;
    loop {
        if let Some(rule) = lookup(key) {
            return Some(rule);
        }
        key = &key[..key.rfind('/')?];
    }
}

/// The driver's rules by id, first occurrence kept.
pub(crate) fn index_rules(c: &Component) -> HashMap<&str, usize> {
    let mut ids = HashMap::new();
    for (i, rule) in c.rules.iter().flatten().enumerate() {
        ids.entry(rule.id.as_str()).or_insert(i);
    }
    ids
}
