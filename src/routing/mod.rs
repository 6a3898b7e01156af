//! Routing: which rule a finding falls under, and so who owns it and which chat channels
//! hear about it. Rules are tried in order and the first match wins; a default rule (one
//! with no conditions) is required and must come last. Pure: the CODEOWNERS file is read
//! when the configuration is loaded.

mod codeowners;
pub mod suppress;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

pub use codeowners::CodeOwners;
pub use suppress::{Suppression, SuppressionFile, Suppressions};

use crate::domain::{NewFinding, Severity};

/// One `[[routes]]` table as written in the config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteFile {
    pub name: String,
    /// Globs on the finding's source (the tool), e.g. `["semgrep", "trivy*"]`.
    pub source: Option<Vec<String>>,
    /// Globs on the rule id, e.g. `["python.django.*", "CVE-2024-*"]`.
    pub rule: Option<Vec<String>>,
    pub severity: Option<Vec<Severity>>,
    /// Any of these tags.
    pub tags: Option<Vec<String>>,
    /// Globs on the asset (repository, image, resource).
    pub asset: Option<Vec<String>>,
    /// Globs on the file path of the location (`src/db.py:42` → `src/db.py`).
    pub path: Option<Vec<String>>,
    /// Any of these CODEOWNERS owners own the location's path (needs `[routing] codeowners`).
    pub codeowner: Option<Vec<String>>,
    /// Who owns matching findings. `"codeowners"` means the first CODEOWNERS owner of the
    /// path, falling back to `fallback_owner`.
    pub owner: Option<String>,
    pub fallback_owner: Option<String>,
    #[serde(default)]
    pub slack_channels: Vec<String>,
    #[serde(default)]
    pub discord_channels: Vec<String>,
    /// Severities whose findings get their own chat thread; the others are tracked (and
    /// listed by `/remedy`, the CLI and reports) but not posted one by one. Default: all.
    pub thread_severities: Option<Vec<Severity>>,
    /// A `[policies.<name>]` variant that judges matching findings (SLAs, approvals,
    /// documentation, risk acceptance); none: the base policy. Checked against the defined
    /// variants when the configuration is loaded.
    pub policy: Option<String>,
}

/// A glob list compiled once.
#[derive(Debug, Clone)]
struct Globs {
    patterns: Vec<String>,
    set: GlobSet,
}

impl Globs {
    fn new(patterns: &[String]) -> Result<Globs, String> {
        let mut b = GlobSetBuilder::new();
        for p in patterns {
            b.add(Glob::new(p).map_err(|e| format!("`{p}`: {e}"))?);
        }
        Ok(Globs {
            patterns: patterns.to_vec(),
            set: b.build().map_err(|e| e.to_string())?,
        })
    }
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Route {
    pub name: String,
    source: Option<Globs>,
    rule: Option<Globs>,
    severity: Option<Vec<Severity>>,
    tags: Option<Vec<String>>,
    asset: Option<Globs>,
    path: Option<Globs>,
    codeowner: Option<Vec<String>>,
    owner: Option<String>,
    fallback_owner: Option<String>,
    pub slack_channels: Vec<String>,
    pub discord_channels: Vec<String>,
    thread_severities: Option<Vec<Severity>>,
    /// The policy variant for matching findings; `None`: the base policy.
    pub policy: Option<String>,
}

impl Route {
    /// Whether findings of `severity` under this rule get their own chat thread.
    pub fn threads(&self, severity: Severity) -> bool {
        self.thread_severities
            .as_ref()
            .is_none_or(|list| list.contains(&severity))
    }

    /// The rule's chat channels on `platform` (`"slack"`, `"discord"`).
    pub fn channels(&self, platform: &str) -> &[String] {
        match platform {
            "slack" => &self.slack_channels,
            "discord" => &self.discord_channels,
            _ => &[],
        }
    }

    pub(crate) fn is_catch_all(&self) -> bool {
        self.source.is_none()
            && self.rule.is_none()
            && self.severity.is_none()
            && self.tags.is_none()
            && self.asset.is_none()
            && self.path.is_none()
            && self.codeowner.is_none()
    }
}

/// The rules plus the CODEOWNERS file they may consult.
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
    codeowners: Option<CodeOwners>,
}

/// Where a finding goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// The matching rule; `None` when no rules are configured.
    pub route: Option<String>,
    pub owner: Option<String>,
    pub slack_channels: Vec<String>,
    pub discord_channels: Vec<String>,
    /// The matching rule's policy variant; `None`: the base policy.
    pub policy: Option<String>,
}

/// One rule's verdict in an explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub route: String,
    pub matched: bool,
    /// Why, one clause per condition checked.
    pub reasons: Vec<String>,
}

/// The file path in a location: up to the first space, without a trailing `:line[:col]`.
pub fn location_path(location: &str) -> &str {
    let first = location.split_whitespace().next().unwrap_or("");
    let mut path = first;
    for _ in 0..2 {
        if let Some((head, tail)) = path.rsplit_once(':')
            && !tail.is_empty()
            && tail.bytes().all(|b| b.is_ascii_digit())
        {
            path = head;
        }
    }
    path
}

impl Router {
    /// Compile the rules. Errors name the rule (`routes[2] (name)`) and the key.
    pub fn new(
        files: &[RouteFile],
        codeowners: Option<CodeOwners>,
    ) -> Result<Router, (String, String)> {
        let routes = files
            .iter()
            .enumerate()
            .map(|(i, r)| compile(&format!("routes[{i}]"), r, codeowners.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let router = Router { routes, codeowners };
        if let Some((key, message)) = router.problems().into_iter().next() {
            return Err((key, message));
        }
        Ok(router)
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Rules that can never match, and a missing default. Empty when the rules are sound.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.routes.is_empty() {
            return out;
        }
        let key = |i: usize, r: &Route| format!("routes[{i}] ({})", r.name);
        for (i, r) in self.routes.iter().enumerate() {
            let empty = [
                r.source.as_ref().is_some_and(|g| g.patterns.is_empty()),
                r.rule.as_ref().is_some_and(|g| g.patterns.is_empty()),
                r.severity.as_ref().is_some_and(Vec::is_empty),
                r.tags.as_ref().is_some_and(Vec::is_empty),
                r.asset.as_ref().is_some_and(|g| g.patterns.is_empty()),
                r.path.as_ref().is_some_and(|g| g.patterns.is_empty()),
                r.codeowner.as_ref().is_some_and(Vec::is_empty),
            ];
            if empty.iter().any(|e| *e) {
                out.push((
                    key(i, r),
                    "an empty list can never match; leave the key out to match anything".into(),
                ));
            }
            if let Some((j, earlier)) = self.routes[..i]
                .iter()
                .enumerate()
                .find(|(_, e)| e.is_catch_all())
            {
                out.push((
                    key(i, r),
                    format!(
                        "can never match: `{}` (routes[{j}]) before it matches every finding",
                        earlier.name
                    ),
                ));
            } else if let Some((j, earlier)) = self.routes[..i]
                .iter()
                .enumerate()
                .find(|(_, e)| same_conditions(e, r))
            {
                out.push((
                    key(i, r),
                    format!("can never match: `{}` (routes[{j}]) has the same conditions and comes first", earlier.name),
                ));
            }
        }
        if !self.routes.iter().any(Route::is_catch_all) {
            out.push((
                "routes".into(),
                "a default route is required: add a last `[[routes]]` with a name and no conditions".into(),
            ));
        }
        out
    }

    /// The rules, in the order they are tried.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The rule called `name`, if configured.
    pub fn named(&self, name: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.name == name)
    }

    /// The first matching rule's result.
    pub fn route(&self, f: &NewFinding) -> Routed {
        self.explain(f).1
    }

    /// Every rule tried, with its reasons, and the result.
    pub fn explain(&self, f: &NewFinding) -> (Vec<Step>, Routed) {
        let path = location_path(&f.location);
        let owners = self.codeowners.as_ref().and_then(|c| c.owners_of(path));
        let mut steps = Vec::new();
        for r in &self.routes {
            let (matched, reasons) = check(r, f, path, owners);
            steps.push(Step {
                route: r.name.clone(),
                matched,
                reasons,
            });
            if matched {
                let owner = match r.owner.as_deref() {
                    Some("codeowners") => owners
                        .and_then(|(o, _)| o.first().cloned())
                        .or_else(|| r.fallback_owner.clone()),
                    other => other.map(str::to_string),
                };
                return (
                    steps,
                    Routed {
                        route: Some(r.name.clone()),
                        owner,
                        slack_channels: r.slack_channels.clone(),
                        discord_channels: r.discord_channels.clone(),
                        policy: r.policy.clone(),
                    },
                );
            }
        }
        (
            steps,
            Routed {
                route: None,
                owner: None,
                slack_channels: Vec::new(),
                discord_channels: Vec::new(),
                policy: None,
            },
        )
    }
}

/// Compile one rule's conditions and result; errors name `prefix.key`.
pub(crate) fn compile(
    prefix: &str,
    r: &RouteFile,
    codeowners: Option<&CodeOwners>,
) -> Result<Route, (String, String)> {
    let key = |k: &str| format!("{prefix}.{k}");
    if r.name.trim().is_empty() {
        return Err((key("name"), "every route needs a name".into()));
    }
    let globs = |k: &str, v: &Option<Vec<String>>| {
        v.as_deref()
            .map(Globs::new)
            .transpose()
            .map_err(|m| (key(k), m))
    };
    if r.owner.as_deref() == Some("codeowners") && codeowners.is_none() {
        return Err((
            key("owner"),
            "`codeowners` needs `[routing] codeowners = \"PATH\"`".into(),
        ));
    }
    if r.codeowner.is_some() && codeowners.is_none() {
        return Err((
            key("codeowner"),
            "needs `[routing] codeowners = \"PATH\"`".into(),
        ));
    }
    Ok(Route {
        name: r.name.trim().to_string(),
        source: globs("source", &r.source)?,
        rule: globs("rule", &r.rule)?,
        severity: r.severity.clone(),
        tags: r.tags.clone(),
        asset: globs("asset", &r.asset)?,
        path: globs("path", &r.path)?,
        codeowner: r.codeowner.clone(),
        owner: r.owner.clone(),
        fallback_owner: r.fallback_owner.clone(),
        slack_channels: r.slack_channels.clone(),
        discord_channels: r.discord_channels.clone(),
        thread_severities: r.thread_severities.clone(),
        policy: r.policy.clone(),
    })
}

fn same_conditions(a: &Route, b: &Route) -> bool {
    let pats = |g: &Option<Globs>| g.as_ref().map(|g| g.patterns.clone());
    pats(&a.source) == pats(&b.source)
        && pats(&a.rule) == pats(&b.rule)
        && a.severity == b.severity
        && a.tags == b.tags
        && pats(&a.asset) == pats(&b.asset)
        && pats(&a.path) == pats(&b.path)
        && a.codeowner == b.codeowner
}

/// Whether `r` matches, with one reason per condition (stopping at the first that fails).
pub(crate) fn check(
    r: &Route,
    f: &NewFinding,
    path: &str,
    owners: Option<(&[String], &str)>,
) -> (bool, Vec<String>) {
    let mut reasons = Vec::new();
    let mut glob = |what: &str, g: &Option<Globs>, value: &str| -> bool {
        let Some(g) = g else { return true };
        let ok = g.set.is_match(value);
        reasons.push(format!(
            "{what} `{value}` {} [{}]",
            if ok { "matches" } else { "does not match" },
            g.patterns.join(", ")
        ));
        ok
    };
    if !glob("source", &r.source, &f.source)
        || !glob("rule", &r.rule, &f.rule_id)
        || !glob("asset", &r.asset, &f.asset)
        || !glob("path", &r.path, path)
    {
        return (false, reasons);
    }
    if let Some(sev) = &r.severity {
        let ok = sev.contains(&f.severity);
        let list: Vec<&str> = sev.iter().map(|s| s.as_str()).collect();
        reasons.push(format!(
            "severity {} {} [{}]",
            f.severity,
            if ok { "in" } else { "not in" },
            list.join(", ")
        ));
        if !ok {
            return (false, reasons);
        }
    }
    if let Some(tags) = &r.tags {
        let ok = f.tags.iter().any(|t| tags.contains(t));
        reasons.push(format!(
            "tags [{}] {} [{}]",
            f.tags.join(", "),
            if ok {
                "share one with"
            } else {
                "share none with"
            },
            tags.join(", ")
        ));
        if !ok {
            return (false, reasons);
        }
    }
    if let Some(wanted) = &r.codeowner {
        let ok = owners.is_some_and(|(o, _)| o.iter().any(|x| wanted.contains(x)));
        reasons.push(match owners {
            Some((o, pattern)) => format!(
                "CODEOWNERS gives `{path}` to {} (line `{pattern}`), {} [{}]",
                o.join(" "),
                if ok { "one of" } else { "none of" },
                wanted.join(", ")
            ),
            None => format!("CODEOWNERS has no owner for `{path}`"),
        });
        if !ok {
            return (false, reasons);
        }
    }
    if reasons.is_empty() {
        reasons.push("no conditions: matches every finding".into());
    }
    (true, reasons)
}

#[cfg(test)]
mod tests;
