//! "A user only sees findings routed to channels they can see": which findings one Slack
//! user may see in chat.
//!
//! A finding is visible to a Slack user when its Slack thread is in a channel the user is a
//! member of (`users.conversations`, public and private channels, cached per user for
//! [`CACHE_TTL`]). A finding with no Slack thread (not announced in Slack: no route names a
//! Slack channel, or its first message is not delivered yet) is not shown in chat at all;
//! the CLI and the HTTP API show every finding to whoever may use them. When Slack cannot
//! say which channels the user is in, nothing is shown (fail closed).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::super::Slack;
use crate::store::StoreError;

/// How long one user's channel list is reused.
pub const CACHE_TTL: Duration = Duration::from_secs(60);
/// The longest wait for Slack's answer: the slash command must be answered within 3 s.
const LOOKUP_TIMEOUT: Duration = Duration::from_millis(2_000);
/// `users.conversations` pages read at most (1000 channels each).
const MAX_PAGES: usize = 10;

/// The channel ids one user is a member of.
pub type Channels = Arc<HashSet<String>>;

/// Channel ids per user, with when they were fetched.
#[derive(Debug, Default)]
pub(crate) struct ChannelCache {
    entries: Mutex<HashMap<String, (Instant, Channels)>>,
}

impl ChannelCache {
    fn get(&self, user: &str, now: Instant) -> Option<Arc<HashSet<String>>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(user)
            .filter(|(at, _)| now.duration_since(*at) < CACHE_TTL)
            .map(|(_, channels)| channels.clone())
    }

    fn put(&self, user: &str, now: Instant, channels: Arc<HashSet<String>>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (at, _)| now.duration_since(*at) < CACHE_TTL);
        entries.insert(user.to_string(), (now, channels));
    }
}

/// Why the findings a user may see are not known.
#[derive(Debug, thiserror::Error)]
pub enum VisibilityError {
    /// Slack did not say which channels the user is in. The message is for the user.
    #[error("remedybot could not check which channels you are in ({0}), so it shows nothing")]
    Slack(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The channels `user` is a member of.
pub async fn user_channels(
    slack: &Slack,
    user: &str,
) -> Result<Arc<HashSet<String>>, VisibilityError> {
    if let Some(hit) = slack.channels.get(user, Instant::now()) {
        return Ok(hit);
    }
    let channels = tokio::time::timeout(LOOKUP_TIMEOUT, fetch(slack, user))
        .await
        .map_err(|_| VisibilityError::Slack("Slack did not answer in time".into()))??;
    let channels = Arc::new(channels);
    slack.channels.put(user, Instant::now(), channels.clone());
    Ok(channels)
}

async fn fetch(slack: &Slack, user: &str) -> Result<HashSet<String>, VisibilityError> {
    let mut channels = HashSet::new();
    let mut cursor = String::new();
    for _ in 0..MAX_PAGES {
        let mut params = vec![
            ("user", user.to_string()),
            ("types", "public_channel,private_channel".to_string()),
            ("exclude_archived", "true".to_string()),
            ("limit", "1000".to_string()),
        ];
        if !cursor.is_empty() {
            params.push(("cursor", cursor.clone()));
        }
        let page = slack
            .api
            .get("users.conversations", &params)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "users.conversations failed");
                VisibilityError::Slack(e.to_string())
            })?;
        let list = page
            .get("channels")
            .and_then(Value::as_array)
            .ok_or_else(|| VisibilityError::Slack("users.conversations: no channel list".into()))?;
        channels.extend(
            list.iter()
                .filter_map(|c| c.get("id").and_then(Value::as_str))
                .map(str::to_string),
        );
        cursor = page
            .pointer("/response_metadata/next_cursor")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if cursor.is_empty() {
            return Ok(channels);
        }
    }
    tracing::warn!(
        user,
        "users.conversations: more pages than read; the rest are ignored"
    );
    Ok(channels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_channels_expire_after_the_ttl() {
        let cache = ChannelCache::default();
        let t0 = Instant::now();
        cache.put("U1", t0, Arc::new(HashSet::from(["C1".to_string()])));
        assert!(cache.get("U1", t0 + Duration::from_secs(59)).is_some());
        assert!(cache.get("U1", t0 + CACHE_TTL).is_none());
        assert!(cache.get("U2", t0).is_none());
    }
}
