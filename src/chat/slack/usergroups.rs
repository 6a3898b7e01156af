//! Approver groups given as Slack user groups: a member `slack-usergroup:S0123ABC` in a
//! `[groups]` list stands for everyone in that Slack user group, resolved with
//! `usergroups.users.list` and cached for a few minutes. Resolution happens when a Slack
//! user votes: the policy the workflow sees then lists that user by id if they belong, so
//! the domain's membership rule stays a plain list check.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::api::SlackApi;
use crate::domain::{Actor, Policy};

/// The prefix that marks a Slack user group in an approver group.
pub const PREFIX: &str = "slack-usergroup:";
/// How long a user group's member list is trusted.
const TTL: Duration = Duration::from_secs(300);

/// Cached members of Slack user groups.
#[derive(Debug, Default)]
pub struct UsergroupCache {
    entries: Mutex<HashMap<String, (Instant, Vec<String>)>>,
}

impl UsergroupCache {
    /// Members (Slack user ids) of user group `id`. Fails closed: an error from Slack
    /// means nobody is a member until the next successful lookup.
    pub async fn members(&self, api: &SlackApi, id: &str) -> Vec<String> {
        if let Some((at, members)) = self.lock().get(id)
            && at.elapsed() < TTL
        {
            return members.clone();
        }
        match api
            .get("usergroups.users.list", &[("usergroup", id.to_string())])
            .await
        {
            Ok(reply) => {
                let members = user_ids(&reply);
                self.lock()
                    .insert(id.to_string(), (Instant::now(), members.clone()));
                members
            }
            Err(e) => {
                tracing::warn!(usergroup = id, error = %e, "cannot list Slack user group members; treating it as empty");
                Vec::new()
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Vec<String>)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn user_ids(reply: &Value) -> Vec<String> {
    reply["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u.as_str().map(str::to_string))
        .collect()
}

/// The Slack user groups named in the policy's approver groups, by approver group.
pub fn usergroups_in(policy: &Policy) -> BTreeMap<&str, Vec<&str>> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (group, members) in &policy.groups {
        for m in members {
            if let Some(id) = m.strip_prefix(PREFIX) {
                out.entry(group.as_str()).or_default().push(id);
            }
        }
    }
    out
}

/// `policy` with `actor` added by id to every approver group whose Slack user groups they
/// belong to; `None` when nothing changes.
pub async fn expand_for(
    policy: &Policy,
    actor: &Actor,
    api: &SlackApi,
    cache: &UsergroupCache,
) -> Option<Policy> {
    if actor.platform != "slack" {
        return None;
    }
    let mut held = BTreeSet::new();
    for id in usergroups_in(policy).into_values().flatten() {
        if !held.contains(id) && cache.members(api, id).await.contains(&actor.id) {
            held.insert(id);
        }
    }
    let groups = policy.groups_with(actor, |m| {
        m.strip_prefix(PREFIX).is_some_and(|id| held.contains(id))
    })?;
    Some(Policy {
        groups,
        ..policy.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_groups_are_found_per_approver_group() {
        let mut policy = Policy::default();
        policy.groups.insert(
            "security".into(),
            vec!["slack:U1".into(), "slack-usergroup:S1".into()],
        );
        policy
            .groups
            .insert("leads".into(), vec!["slack-usergroup:S2".into()]);
        policy.groups.insert("cli".into(), vec!["cli:root".into()]);
        let found = usergroups_in(&policy);
        assert_eq!(found.get("security"), Some(&vec!["S1"]));
        assert_eq!(found.get("leads"), Some(&vec!["S2"]));
        assert!(!found.contains_key("cli"));
    }

    #[test]
    fn member_lists_are_read_from_slacks_answer() {
        let reply = serde_json::json!({"ok": true, "users": ["U1", "W2", 3]});
        assert_eq!(user_ids(&reply), vec!["U1".to_string(), "W2".to_string()]);
    }
}
