//! The permission math, case by case (Discord's "Permission Overwrites" rules).

use serde_json::json;

use super::*;

const GUILD: u64 = 100;
const OWNER: u64 = 1;
const ANN: u64 = 2;
const DEV: u64 = 300;
const OPS: u64 = 301;
const ADMINS: u64 = 302;
const CHANNEL: u64 = 500;
const THREAD: u64 = 600;

fn role(id: u64, allow: u64, deny: u64) -> Overwrite {
    Overwrite {
        id,
        member: false,
        allow,
        deny,
    }
}

fn user(id: u64, allow: u64, deny: u64) -> Overwrite {
    Overwrite {
        id,
        member: true,
        allow,
        deny,
    }
}

/// A server where `@everyone` may view channels, DEV and OPS add nothing, ADMINS
/// administrate; one text channel with `overwrites`.
fn guild(everyone: u64, overwrites: Vec<Overwrite>) -> Guild {
    let channel = Channel {
        id: CHANNEL,
        kind: 0,
        parent_id: Some(9),
        overwrites,
    };
    Guild {
        id: GUILD,
        owner_id: OWNER,
        roles: HashMap::from([
            (GUILD, everyone),
            (DEV, 0),
            (OPS, 0),
            (ADMINS, ADMINISTRATOR),
        ]),
        channels: HashMap::from([(CHANNEL, channel)]),
    }
}

fn ann(roles: &[u64]) -> Member {
    Member {
        user: ANN,
        roles: roles.to_vec(),
    }
}

fn sees(g: &Guild, m: &Member) -> bool {
    g.can_view(m, CHANNEL, &HashMap::new())
}

#[test]
fn everyone_sees_a_channel_without_overwrites() {
    assert!(sees(&guild(VIEW_CHANNEL, vec![]), &ann(&[])));
    assert!(!sees(&guild(0, vec![]), &ann(&[])));
}

#[test]
fn a_role_grants_what_everyone_lacks() {
    let mut g = guild(0, vec![]);
    g.roles.insert(DEV, VIEW_CHANNEL);
    assert!(sees(&g, &ann(&[DEV])));
    assert!(!sees(&g, &ann(&[OPS])));
}

#[test]
fn an_everyone_deny_hides_the_channel() {
    let g = guild(VIEW_CHANNEL, vec![role(GUILD, 0, VIEW_CHANNEL)]);
    assert!(!sees(&g, &ann(&[])));
    assert!(!sees(&g, &ann(&[DEV])));
}

#[test]
fn a_role_allow_beats_the_everyone_deny() {
    let g = guild(
        VIEW_CHANNEL,
        vec![role(GUILD, 0, VIEW_CHANNEL), role(DEV, VIEW_CHANNEL, 0)],
    );
    assert!(sees(&g, &ann(&[DEV])));
    assert!(!sees(&g, &ann(&[OPS])));
}

#[test]
fn role_overwrites_combine_and_allow_wins_among_roles() {
    // One role denies, another allows: the allows are applied after the denies.
    let g = guild(
        VIEW_CHANNEL,
        vec![role(DEV, 0, VIEW_CHANNEL), role(OPS, VIEW_CHANNEL, 0)],
    );
    assert!(sees(&g, &ann(&[DEV, OPS])));
    assert!(!sees(&g, &ann(&[DEV])));
}

#[test]
fn the_members_own_overwrite_comes_last() {
    let deny_me = guild(
        VIEW_CHANNEL,
        vec![role(DEV, VIEW_CHANNEL, 0), user(ANN, 0, VIEW_CHANNEL)],
    );
    assert!(!sees(&deny_me, &ann(&[DEV])));
    let allow_me = guild(
        VIEW_CHANNEL,
        vec![
            role(GUILD, 0, VIEW_CHANNEL),
            role(DEV, 0, VIEW_CHANNEL),
            user(ANN, VIEW_CHANNEL, 0),
        ],
    );
    assert!(sees(&allow_me, &ann(&[DEV])));
    // Someone else's member overwrite does not apply.
    let other = guild(0, vec![user(ANN + 1, VIEW_CHANNEL, 0)]);
    assert!(!sees(&other, &ann(&[])));
}

#[test]
fn administrators_and_the_owner_see_everything() {
    let g = guild(
        0,
        vec![
            role(GUILD, 0, VIEW_CHANNEL),
            role(ADMINS, 0, VIEW_CHANNEL),
            user(OWNER, 0, VIEW_CHANNEL),
        ],
    );
    assert!(sees(&g, &ann(&[ADMINS])));
    assert_eq!(g.base_permissions(&ann(&[ADMINS])), u64::MAX);
    let owner = Member {
        user: OWNER,
        roles: vec![],
    };
    assert!(sees(&g, &owner));
    // Administrator given to @everyone counts for everyone.
    assert!(sees(
        &guild(ADMINISTRATOR, vec![role(GUILD, 0, VIEW_CHANNEL)]),
        &ann(&[])
    ));
}

#[test]
fn roles_the_server_does_not_know_add_nothing() {
    let g = guild(0, vec![]);
    assert_eq!(g.base_permissions(&ann(&[777])), 0);
}

#[test]
fn a_thread_is_visible_when_its_parent_is() {
    let thread = Channel {
        id: THREAD,
        kind: 11,
        parent_id: Some(CHANNEL),
        // Threads have no overwrites of their own; a stray one must not matter.
        overwrites: vec![user(ANN, VIEW_CHANNEL, 0)],
    };
    let extra = HashMap::from([(THREAD, thread)]);
    let open = guild(VIEW_CHANNEL, vec![]);
    assert!(open.can_view(&ann(&[]), THREAD, &extra));
    let closed = guild(VIEW_CHANNEL, vec![role(GUILD, 0, VIEW_CHANNEL)]);
    assert!(!closed.can_view(&ann(&[]), THREAD, &extra));
    // A thread whose parent is unknown, or a channel of another server: hidden.
    let orphan = HashMap::from([(
        THREAD,
        Channel {
            id: THREAD,
            kind: 12,
            parent_id: Some(999),
            overwrites: vec![],
        },
    )]);
    assert!(!open.can_view(&ann(&[]), THREAD, &orphan));
    assert!(!open.can_view(&ann(&[]), 4242, &HashMap::new()));
}

#[test]
fn a_category_does_not_lend_its_permissions() {
    // A text channel's parent is its category: its own overwrites decide.
    let mut g = guild(VIEW_CHANNEL, vec![]);
    g.channels.insert(
        9,
        Channel {
            id: 9,
            kind: 4,
            parent_id: None,
            overwrites: vec![role(GUILD, 0, VIEW_CHANNEL)],
        },
    );
    assert!(sees(&g, &ann(&[])));
}

#[test]
fn the_server_is_read_from_discords_rest_shapes() {
    let info = json!({"id": "100", "owner_id": "1", "name": "srv"});
    let roles = json!([
        {"id": "100", "name": "@everyone", "permissions": "1024"},
        {"id": "300", "name": "dev", "permissions": "8"},
        {"id": "bad", "permissions": "1"}
    ]);
    let channels = json!([
        {"id": "500", "type": 0, "parent_id": "9", "permission_overwrites": [
            {"id": "100", "type": 0, "allow": "0", "deny": "1024"},
            {"id": "2", "type": 1, "allow": "1024", "deny": "0"}
        ]},
        {"id": "9", "type": 4, "parent_id": null, "permission_overwrites": []}
    ]);
    let g = parse_guild(100, &info, &roles, &channels).unwrap();
    assert_eq!(g.owner_id, 1);
    assert_eq!(g.roles, HashMap::from([(100, 1024), (300, 8)]));
    assert_eq!(g.channels[&500].parent_id, Some(9));
    assert_eq!(g.channels[&500].overwrites[1], user(2, 1024, 0));
    assert!(sees(&g, &ann(&[])));
    assert!(!sees(
        &g,
        &Member {
            user: 3,
            roles: vec![]
        }
    ));
    assert!(parse_guild(100, &json!({}), &roles, &channels).is_none());
    assert!(parse_guild(100, &info, &json!({}), &channels).is_none());
}

#[test]
fn cached_servers_expire_after_the_ttl() {
    let cache = GuildCache::default();
    let t0 = Instant::now();
    cache.put(Arc::new(guild(0, vec![])), t0);
    assert!(cache.get(GUILD, t0 + Duration::from_secs(59)).is_some());
    assert!(cache.get(GUILD, t0 + CACHE_TTL).is_none());
    assert!(cache.get(GUILD + 1, t0).is_none());
}
