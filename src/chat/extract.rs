//! Alerts posted in chat → findings. `[[listen]]` rules name channels and the bots or users
//! whose messages there are alerts, and say how to read one: a regex with named groups over
//! the text, or card (Slack attachment / Discord embed) fields. Rules are compiled once at
//! load; [`Listeners::extract`] is pure and never panics on what people post. Platform
//! payloads become a [`ChatPost`] in `post.rs`; nothing here talks to a platform or a store.

mod post;

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;

pub use post::{Author, Card, ChatPost};

use crate::chat::delivery::Platform;
use crate::domain::{Fingerprint, NewFinding, Severity};
use crate::ingest::{MAX_DESCRIPTION, clip, severity as vendor};

/// Longest title taken from a chat message; longer ones are cut with "…".
pub const MAX_TITLE: usize = 500;
/// Longest rule id, asset, location, owner or source taken from a chat message.
const MAX_SHORT: usize = 1_000;

/// What a named group or a `[listen.fields]` key may set.
const TARGETS: [&str; 8] = [
    "title",
    "severity",
    "asset",
    "rule",
    "location",
    "description",
    "owner",
    "fingerprint",
];
const TITLE: usize = 0;
const SEVERITY: usize = 1;
const ASSET: usize = 2;
const RULE: usize = 3;
const LOCATION: usize = 4;
const DESCRIPTION: usize = 5;
const OWNER: usize = 6;
const FINGERPRINT: usize = 7;

/// One `[[listen]]` table as written in the config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenFile {
    pub name: String,
    /// `None`: both platforms.
    pub platform: Option<Platform>,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub from_bots: Vec<String>,
    #[serde(default)]
    pub from_users: Vec<String>,
    pub pattern: Option<String>,
    pub fields: Option<FieldsFile>,
    /// The finding's source; default: the rule name.
    pub source: Option<String>,
    /// The severity when none was extracted (or the word is unknown); default medium.
    pub severity: Option<Severity>,
    /// Extracted word → severity name, e.g. `{ WARNING = "medium" }`.
    #[serde(default)]
    pub severity_map: BTreeMap<String, String>,
}

/// `[listen.fields]`: where each value comes from in a card: `title`, `text`, or
/// `field:<name>` (the card field with that name, case-insensitive).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldsFile {
    pub title: Option<String>,
    pub severity: Option<String>,
    pub asset: Option<String>,
    pub rule: Option<String>,
    pub location: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub fingerprint: Option<String>,
}

impl FieldsFile {
    fn entries(&self) -> [Option<&String>; 8] {
        [
            self.title.as_ref(),
            self.severity.as_ref(),
            self.asset.as_ref(),
            self.rule.as_ref(),
            self.location.as_ref(),
            self.description.as_ref(),
            self.owner.as_ref(),
            self.fingerprint.as_ref(),
        ]
    }
}

/// Where a `[listen.fields]` value is read from in a card.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CardPart {
    Title,
    Text,
    /// A field name, lower-cased.
    Field(String),
}

#[derive(Debug, Clone)]
enum Matcher {
    /// With the index in [`TARGETS`] of each recognised group.
    Pattern(Regex, Vec<(usize, String)>),
    Fields(Vec<(usize, CardPart)>),
}

/// A compiled `[[listen]]` rule.
#[derive(Debug, Clone)]
pub struct Listener {
    pub name: String,
    pub platform: Option<Platform>,
    pub channels: Vec<String>,
    pub from_bots: Vec<String>,
    pub from_users: Vec<String>,
    matcher: Matcher,
    source: String,
    severity: Severity,
    /// Lower-cased words.
    severity_map: BTreeMap<String, Severity>,
}

/// All `[[listen]]` rules, in file order.
#[derive(Debug, Clone, Default)]
pub struct Listeners(Vec<Listener>);

/// A finding read from a chat message, and the rule that read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The `[[listen]]` rule's name.
    pub rule: String,
    pub finding: NewFinding,
}

impl Listeners {
    /// Compile the rules. Errors name the key (`listen[0].pattern`) and say what is wrong.
    pub fn new(files: &[ListenFile]) -> Result<Listeners, (String, String)> {
        let mut out: Vec<Listener> = Vec::with_capacity(files.len());
        for (i, f) in files.iter().enumerate() {
            let l = compile(i, f)?;
            if let Some(j) = out.iter().position(|o| o.name == l.name) {
                return Err((
                    format!("listen[{i}].name"),
                    format!("`{}` is already the name of listen[{j}]", l.name),
                ));
            }
            out.push(l);
        }
        Ok(Listeners(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Listener> {
        self.0.iter()
    }

    /// The finding in `post`, from the first rule (in file order) whose platform, channel
    /// and author match and that finds a title; `None` when no rule does.
    pub fn extract(&self, post: &ChatPost) -> Option<Extracted> {
        self.0.iter().find_map(|l| {
            let finding = l.extract(post)?;
            Some(Extracted {
                rule: l.name.clone(),
                finding,
            })
        })
    }
}

impl Listener {
    /// Whether this rule listens to `post`'s platform, channel and author.
    pub fn hears(&self, post: &ChatPost) -> bool {
        let is = |list: &[String], id: &Option<String>| {
            id.as_deref().is_some_and(|id| list.iter().any(|x| x == id))
        };
        self.platform.is_none_or(|p| p == post.platform)
            && self.channels.contains(&post.channel)
            && (is(&self.from_bots, &post.author.bot_id)
                || is(&self.from_users, &post.author.user_id))
    }

    fn extract(&self, post: &ChatPost) -> Option<NewFinding> {
        if !self.hears(post) {
            return None;
        }
        let values = match &self.matcher {
            Matcher::Pattern(re, groups) => candidates(post).find_map(|text| {
                let caps = re.captures(&text)?;
                let mut v: [Option<String>; 8] = Default::default();
                for (target, group) in groups {
                    v[*target] = caps.name(group).map(|m| m.as_str().to_string());
                }
                has_title(v)
            }),
            Matcher::Fields(spec) => post.cards.iter().find_map(|card| {
                let mut v: [Option<String>; 8] = Default::default();
                for (target, part) in spec {
                    v[*target] = read(card, part);
                }
                has_title(v)
            }),
        }?;
        Some(self.finding(post, values))
    }

    fn finding(&self, post: &ChatPost, v: [Option<String>; 8]) -> NewFinding {
        let short = |i: usize, default: &str| {
            clip(&one_line(v[i].as_deref().unwrap_or(default)), MAX_SHORT)
        };
        let rule_id = short(RULE, &self.name);
        let asset = short(ASSET, &post.channel);
        let location = short(LOCATION, "");
        let fingerprint = match v[FINGERPRINT].as_deref().map(str::trim) {
            Some(given) if !given.is_empty() => Fingerprint::given(given)
                // Too long to keep as it is: hashed, so equal values still match.
                .unwrap_or_else(|_| Fingerprint::derive(&self.source, "", given, "")),
            _ => Fingerprint::derive(&self.source, &rule_id, &asset, &location),
        };
        let description = match &v[DESCRIPTION] {
            Some(d) => clip(d, MAX_DESCRIPTION),
            None => clip(&post.full_text(), MAX_DESCRIPTION),
        };
        NewFinding {
            fingerprint,
            source: self.source.clone(),
            title: clip(&one_line(v[TITLE].as_deref().unwrap_or("")), MAX_TITLE),
            description,
            severity: v[SEVERITY]
                .as_deref()
                .and_then(|w| self.severity_of(w))
                .unwrap_or(self.severity),
            owner: v[OWNER].as_ref().map(|_| short(OWNER, "")),
            rule_id,
            asset,
            location,
            tags: Vec::new(),
            references: Vec::new(),
        }
    }

    /// `severity_map`, then a severity name, a vendor word or a CVSS score.
    fn severity_of(&self, word: &str) -> Option<Severity> {
        let w = word.trim().to_lowercase();
        self.severity_map
            .get(&w)
            .copied()
            .or_else(|| vendor::from_label(&w))
            .or_else(|| vendor::from_score_text(&w))
    }
}

/// The texts a pattern is tried on, in order: the message text, then each card's title and
/// text on two lines.
fn candidates(post: &ChatPost) -> impl Iterator<Item = String> + '_ {
    let cards = post.cards.iter().map(|c| {
        let (t, x) = (c.title.trim(), c.text.trim());
        match (t.is_empty(), x.is_empty()) {
            (false, false) => format!("{t}\n{x}"),
            (false, true) => t.to_string(),
            _ => x.to_string(),
        }
    });
    std::iter::once(post.text.clone())
        .chain(cards)
        .filter(|s| !s.trim().is_empty())
}

fn read(card: &Card, part: &CardPart) -> Option<String> {
    let s = match part {
        CardPart::Title => card.title.as_str(),
        CardPart::Text => card.text.as_str(),
        CardPart::Field(name) => card
            .fields
            .iter()
            .find(|(n, _)| n.trim().to_lowercase() == *name)
            .map(|(_, v)| v.as_str())?,
    };
    Some(s.to_string())
}

/// Values with empty ones dropped; `None` without a title (no title, no match).
fn has_title(mut v: [Option<String>; 8]) -> Option<[Option<String>; 8]> {
    for slot in &mut v {
        if slot.as_deref().is_some_and(|s| s.trim().is_empty()) {
            *slot = None;
        }
    }
    v[TITLE].is_some().then_some(v)
}

/// Whitespace runs (newlines included) as single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn compile(i: usize, f: &ListenFile) -> Result<Listener, (String, String)> {
    let key = |k: &str| format!("listen[{i}].{k}");
    let name = f.name.trim();
    if name.is_empty() {
        return Err((key("name"), "every listen rule needs a name".into()));
    }
    if f.channels.is_empty() {
        return Err((key("channels"), "must list at least one channel id".into()));
    }
    for (k, c) in f.channels.iter().enumerate() {
        if c.trim().is_empty() || c.starts_with('#') {
            return Err((
                key(&format!("channels[{k}]")),
                format!(
                    "`{c}` is not a channel id; channels are matched by id (Slack C0123ABC, a Discord channel snowflake), not by name"
                ),
            ));
        }
    }
    if f.from_bots.is_empty() && f.from_users.is_empty() {
        return Err((
            key("from_bots"),
            "list the bots (`from_bots`) or users (`from_users`) whose messages are alerts; messages from anyone else are ignored".into(),
        ));
    }
    let matcher = match (&f.pattern, &f.fields) {
        (Some(p), None) => pattern(p).map_err(|m| (key("pattern"), m))?,
        (None, Some(fields)) => card_fields(fields).map_err(|(k, m)| (key(&k), m))?,
        (None, None) => {
            return Err((
                format!("listen[{i}]"),
                "needs `pattern` (a regex with named groups) or `[listen.fields]`".into(),
            ));
        }
        (Some(_), Some(_)) => {
            return Err((
                format!("listen[{i}]"),
                "has both `pattern` and `[listen.fields]`; use one".into(),
            ));
        }
    };
    let source = match &f.source {
        Some(s) if s.trim().is_empty() => {
            return Err((key("source"), "must not be empty".into()));
        }
        Some(s) => s.trim().to_string(),
        None => name.to_string(),
    };
    let mut severity_map = BTreeMap::new();
    for (word, sev) in &f.severity_map {
        let sev: Severity = sev
            .parse()
            .map_err(|e: <Severity as std::str::FromStr>::Err| {
                (key(&format!("severity_map.{word}")), e.to_string())
            })?;
        severity_map.insert(word.trim().to_lowercase(), sev);
    }
    Ok(Listener {
        name: name.to_string(),
        platform: f.platform,
        channels: f.channels.iter().map(|c| c.trim().to_string()).collect(),
        from_bots: f.from_bots.clone(),
        from_users: f.from_users.clone(),
        matcher,
        source,
        severity: f.severity.unwrap_or(Severity::Medium),
        severity_map,
    })
}

fn pattern(p: &str) -> Result<Matcher, String> {
    let re = Regex::new(p).map_err(|e| e.to_string())?;
    let mut groups = Vec::new();
    for name in re.capture_names().flatten() {
        let Some(t) = TARGETS.iter().position(|t| *t == name) else {
            return Err(format!(
                "unknown group `{name}`; named groups may be: {}",
                TARGETS.join(", ")
            ));
        };
        groups.push((t, name.to_string()));
    }
    if !groups.iter().any(|(t, _)| *t == TITLE) {
        return Err("has no `title` group; write one, e.g. (?P<title>.+)".into());
    }
    Ok(Matcher::Pattern(re, groups))
}

fn card_fields(f: &FieldsFile) -> Result<Matcher, (String, String)> {
    let mut spec = Vec::new();
    for (t, source) in f.entries().into_iter().enumerate() {
        let Some(source) = source else { continue };
        let key = format!("fields.{}", TARGETS[t]);
        let s = source.trim();
        let part = match s {
            "title" => CardPart::Title,
            "text" => CardPart::Text,
            _ => match s.strip_prefix("field:").map(str::trim) {
                Some(name) if !name.is_empty() => CardPart::Field(name.to_lowercase()),
                _ => {
                    return Err((
                        key,
                        format!(
                            "`{source}` is not a field target; write `title`, `text` or `field:<name>`"
                        ),
                    ));
                }
            },
        };
        spec.push((t, part));
    }
    if !spec.iter().any(|(t, _)| *t == TITLE) {
        return Err((
            "fields.title".into(),
            "is required: every finding needs a title, e.g. title = \"title\"".into(),
        ));
    }
    Ok(Matcher::Fields(spec))
}

#[cfg(test)]
mod tests;
