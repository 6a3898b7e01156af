//! "A user only sees findings routed to channels they can see", on Discord: whether a
//! server member may view a channel, from Discord's permission rules.
//!
//! Base permissions are the `@everyone` role's (its id is the server's) and the member's
//! roles', all of them for the server owner or with ADMINISTRATOR; then the channel's
//! overwrites apply in order: `@everyone`, the member's roles together, the member. A
//! thread is visible when its parent is. The server (owner, roles, channels) is read from
//! the REST API and kept per server for [`CACHE_TTL`]; the member's roles come with the
//! interaction. Anything unknown — a failed call, a channel of another server — hides the
//! finding (fail closed). This module decides nothing else about findings.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use serenity::http::{LightMethod, Route};
use serenity::model::id::{ChannelId, GuildId};
use tokio::time::Instant;

use crate::chat::deliver::SendError;
use crate::chat::discord::Discord;
use crate::chat::remedy::Failure;

/// How long one server's roles and channels are reused.
pub const CACHE_TTL: Duration = Duration::from_secs(60);
/// ADMINISTRATOR: every permission, overwrites do not apply.
pub const ADMINISTRATOR: u64 = 1 << 3;
/// VIEW_CHANNEL.
pub const VIEW_CHANNEL: u64 = 1 << 10;
/// Channel types of threads (announcement, public, private).
const THREAD_TYPES: [u64; 3] = [10, 11, 12];
/// Channels outside the server's list (threads) looked up per answer at most.
const MAX_LOOKUPS: usize = 10;

/// A permission overwrite on a channel: for a role (`member: false`) or one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overwrite {
    pub id: u64,
    pub member: bool,
    pub allow: u64,
    pub deny: u64,
}

/// A channel as far as permissions go.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Channel {
    pub id: u64,
    pub kind: u64,
    pub parent_id: Option<u64>,
    pub overwrites: Vec<Overwrite>,
}

impl Channel {
    fn is_thread(&self) -> bool {
        THREAD_TYPES.contains(&self.kind)
    }
}

/// What decides visibility in one server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Guild {
    pub id: u64,
    pub owner_id: u64,
    /// Role id → its permissions.
    pub roles: HashMap<u64, u64>,
    pub channels: HashMap<u64, Channel>,
}

/// A member: their user id and role ids (without `@everyone`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: u64,
    pub roles: Vec<u64>,
}

impl Guild {
    /// The member's server-wide permissions.
    pub fn base_permissions(&self, member: &Member) -> u64 {
        if member.user == self.owner_id {
            return u64::MAX;
        }
        let everyone = self.roles.get(&self.id).copied().unwrap_or(0);
        let perms = member
            .roles
            .iter()
            .filter_map(|r| self.roles.get(r))
            .fold(everyone, |acc, p| acc | p);
        if perms & ADMINISTRATOR != 0 {
            u64::MAX
        } else {
            perms
        }
    }

    /// The member's permissions in `channel` (not a thread: threads use their parent's).
    pub fn channel_permissions(&self, member: &Member, channel: &Channel) -> u64 {
        let mut perms = self.base_permissions(member);
        if perms & ADMINISTRATOR != 0 {
            return u64::MAX;
        }
        let ow = &channel.overwrites;
        if let Some(everyone) = ow.iter().find(|o| !o.member && o.id == self.id) {
            perms = (perms & !everyone.deny) | everyone.allow;
        }
        let (allow, deny) = ow
            .iter()
            .filter(|o| !o.member && o.id != self.id && member.roles.contains(&o.id))
            .fold((0, 0), |(a, d), o| (a | o.allow, d | o.deny));
        perms = (perms & !deny) | allow;
        if let Some(own) = ow.iter().find(|o| o.member && o.id == member.user) {
            perms = (perms & !own.deny) | own.allow;
        }
        perms
    }

    /// Whether the member may view `channel`: a channel of this server they have
    /// VIEW_CHANNEL in, or a thread whose parent is one. `extra` holds channels not in the
    /// server's list (threads looked up one by one).
    pub fn can_view(&self, member: &Member, channel: u64, extra: &HashMap<u64, Channel>) -> bool {
        let Some(c) = self.channels.get(&channel).or_else(|| extra.get(&channel)) else {
            return false;
        };
        let c = match (c.is_thread(), c.parent_id) {
            (false, _) => c,
            (true, Some(parent)) => match self.channels.get(&parent) {
                Some(p) if !p.is_thread() => p,
                _ => return false,
            },
            (true, None) => return false,
        };
        self.channel_permissions(member, c) & VIEW_CHANNEL != 0
    }
}

/// Servers read from Discord, and channels looked up one by one (threads: with the server
/// they belong to; `None`: Discord does not show it), with when.
#[derive(Debug, Default)]
pub(crate) struct GuildCache {
    entries: Mutex<HashMap<u64, (Instant, Arc<Guild>)>>,
    channels: Mutex<HashMap<u64, (Instant, Option<Located>)>>,
}

/// A channel with the server it belongs to.
type Located = (u64, Channel);

impl GuildCache {
    pub(crate) fn get(&self, guild: u64, now: Instant) -> Option<Arc<Guild>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&guild)
            .filter(|(at, _)| now.duration_since(*at) < CACHE_TTL)
            .map(|(_, g)| g.clone())
    }

    pub(crate) fn put(&self, guild: Arc<Guild>, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (at, _)| now.duration_since(*at) < CACHE_TTL);
        entries.insert(guild.id, (now, guild));
    }

    fn channel(&self, id: u64, now: Instant) -> Option<Option<Located>> {
        let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels
            .get(&id)
            .filter(|(at, _)| now.duration_since(*at) < CACHE_TTL)
            .map(|(_, c)| c.clone())
    }

    fn put_channel(&self, id: u64, channel: Option<Located>, now: Instant) {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels.retain(|_, (at, _)| now.duration_since(*at) < CACHE_TTL);
        channels.insert(id, (now, channel));
    }
}

/// The message for a caller whose channels cannot be worked out.
pub fn hidden(why: impl std::fmt::Display) -> Failure {
    Failure::Hidden(format!(
        "remedybot could not check which channels you can see ({why}), so it shows nothing"
    ))
}

/// The server `guild`, from the cache or Discord.
pub async fn guild(discord: &Discord, guild: u64) -> Result<Arc<Guild>, Failure> {
    if let Some(hit) = discord.guilds.get(guild, Instant::now()) {
        return Ok(hit);
    }
    let id = GuildId::new(guild);
    let get = |what: &'static str, route: Route<'static>| async move {
        discord
            .api
            .call(what, route, LightMethod::Get, None)
            .await
            .map(|c| c.body)
            .map_err(|e| {
                tracing::warn!(error = %e, what, "cannot read a Discord server's permissions");
                hidden(e)
            })
    };
    let info = get("get guild", Route::Guild { guild_id: id }).await?;
    let roles = get("get guild roles", Route::GuildRoles { guild_id: id }).await?;
    let channels = get("get guild channels", Route::GuildChannels { guild_id: id }).await?;
    let parsed = parse_guild(guild, &info, &roles, &channels)
        .ok_or_else(|| hidden("Discord's answer about the server is not what remedybot expects"))?;
    let parsed = Arc::new(parsed);
    discord.guilds.put(parsed.clone(), Instant::now());
    Ok(parsed)
}

/// The channels among `wanted` that `member` may view in `guild`; channels not in the
/// server's list (threads) are looked up one by one, a few at most.
pub async fn visible_channels(
    discord: &Discord,
    guild: &Guild,
    member: &Member,
    wanted: &BTreeSet<String>,
) -> Result<HashSet<String>, Failure> {
    let ids: Vec<(String, u64)> = wanted
        .iter()
        .filter_map(|c| Some((c.clone(), c.parse().ok()?)))
        .collect();
    let mut extra = HashMap::new();
    let unknown = ids
        .iter()
        .filter(|(_, id)| !guild.channels.contains_key(id));
    for (_, id) in unknown.take(MAX_LOOKUPS) {
        if let Some((_, ch)) = lookup(discord, *id).await.filter(|(g, _)| *g == guild.id) {
            extra.insert(*id, ch);
        }
    }
    Ok(ids
        .into_iter()
        .filter(|(_, id)| guild.can_view(member, *id, &extra))
        .map(|(c, _)| c)
        .collect())
}

/// A channel outside a server's list (a thread) with its server, cached; `None` when
/// Discord does not show it (or cannot be asked: that is not cached).
async fn lookup(discord: &Discord, id: u64) -> Option<Located> {
    if let Some(hit) = discord.guilds.channel(id, Instant::now()) {
        return hit;
    }
    let route = Route::Channel {
        channel_id: ChannelId::new(id),
    };
    match discord
        .api
        .call("get channel", route, LightMethod::Get, None)
        .await
    {
        Ok(c) => {
            let found = id_of(&c.body, "guild_id").zip(parse_channel(&c.body));
            discord
                .guilds
                .put_channel(id, found.clone(), Instant::now());
            found
        }
        Err(SendError::Permanent(e)) => {
            tracing::debug!(error = %e, channel = id, "channel not visible to remedybot; hidden");
            discord.guilds.put_channel(id, None, Instant::now());
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, channel = id, "cannot look up a channel; hidden");
            None
        }
    }
}

/// A snowflake field (a string, or a number in hand-written payloads).
pub fn id_of(v: &Value, key: &str) -> Option<u64> {
    let f = v.get(key)?;
    f.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| f.as_u64())
}

/// A permissions field (a decimal string).
fn bits(v: &Value, key: &str) -> Option<u64> {
    id_of(v, key)
}

fn parse_channel(c: &Value) -> Option<Channel> {
    let overwrites = c
        .get("permission_overwrites")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|o| {
                    Some(Overwrite {
                        id: id_of(o, "id")?,
                        member: o.get("type").and_then(Value::as_u64)? == 1,
                        allow: bits(o, "allow").unwrap_or(0),
                        deny: bits(o, "deny").unwrap_or(0),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Channel {
        id: id_of(c, "id")?,
        kind: c.get("type").and_then(Value::as_u64).unwrap_or(0),
        parent_id: id_of(c, "parent_id"),
        overwrites,
    })
}

/// The server from `GET /guilds/{id}`, `/roles` and `/channels`.
pub fn parse_guild(id: u64, info: &Value, roles: &Value, channels: &Value) -> Option<Guild> {
    let roles = roles
        .as_array()?
        .iter()
        .filter_map(|r| Some((id_of(r, "id")?, bits(r, "permissions")?)))
        .collect();
    let channels = channels
        .as_array()?
        .iter()
        .filter_map(parse_channel)
        .map(|c| (c.id, c))
        .collect();
    Some(Guild {
        id,
        owner_id: id_of(info, "owner_id")?,
        roles,
        channels,
    })
}

#[cfg(test)]
mod tests;
