//! Suppression rules: findings that match are accepted until a mandatory expiry, in the name
//! of the rule's owner and with its reason — recorded in the trail like any decision — or,
//! in `monitor` mode, only noted ("would have been suppressed").

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::{CodeOwners, Route, RouteFile, compile, location_path};
use crate::domain::{NewFinding, Severity};

/// Whether a matching rule suppresses or only records what it would have done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Suppress,
    Monitor,
}

/// One `[[suppressions]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressionFile {
    pub name: String,
    /// Who answers for the suppression (`platform:id` or a team).
    pub owner: String,
    pub reason: String,
    /// The last day it applies (UTC); mandatory.
    pub expires: NaiveDate,
    #[serde(default)]
    pub mode: Mode,
    pub source: Option<Vec<String>>,
    pub rule: Option<Vec<String>>,
    pub severity: Option<Vec<Severity>>,
    pub tags: Option<Vec<String>>,
    pub asset: Option<Vec<String>>,
    pub path: Option<Vec<String>>,
}

/// A compiled suppression rule.
#[derive(Debug, Clone)]
pub struct Suppression {
    pub name: String,
    pub owner: String,
    pub reason: String,
    /// When it stops applying: the day after `expires`, 00:00 UTC.
    pub until: DateTime<Utc>,
    pub mode: Mode,
    conditions: Route,
}

/// All suppression rules, in config order.
#[derive(Debug, Clone, Default)]
pub struct Suppressions(Vec<Suppression>);

impl Suppressions {
    pub fn new(
        files: &[SuppressionFile],
        codeowners: Option<&CodeOwners>,
    ) -> Result<Suppressions, (String, String)> {
        let mut out = Vec::with_capacity(files.len());
        for (i, s) in files.iter().enumerate() {
            let key = |k: &str| format!("suppressions[{i}].{k}");
            for (k, v) in [("owner", &s.owner), ("reason", &s.reason)] {
                if v.trim().is_empty() {
                    return Err((
                        key(k),
                        "is required: every suppression needs an owner and a reason".into(),
                    ));
                }
            }
            let spec = RouteFile {
                name: s.name.clone(),
                source: s.source.clone(),
                rule: s.rule.clone(),
                severity: s.severity.clone(),
                tags: s.tags.clone(),
                asset: s.asset.clone(),
                path: s.path.clone(),
                ..RouteFile::default()
            };
            let conditions = compile(&format!("suppressions[{i}]"), &spec, codeowners)?;
            if conditions.is_catch_all() {
                return Err((
                    format!("suppressions[{i}] ({})", s.name),
                    "has no conditions and would suppress every finding".into(),
                ));
            }
            let until = s
                .expires
                .succ_opt()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
                .ok_or_else(|| (key("expires"), "is not a usable date".to_string()))?;
            out.push(Suppression {
                name: s.name.trim().to_string(),
                owner: s.owner.trim().to_string(),
                reason: s.reason.trim().to_string(),
                until,
                mode: s.mode,
                conditions,
            });
        }
        Ok(Suppressions(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first rule that matches `f` and has not expired at `now`.
    pub fn matching(&self, f: &NewFinding, now: DateTime<Utc>) -> Option<&Suppression> {
        let path = location_path(&f.location);
        self.0
            .iter()
            .filter(|s| s.until > now)
            .find(|s| super::check(&s.conditions, f, path, None).0)
    }

    /// Rules whose expiry has passed (for `check-config` to mention).
    pub fn expired(&self, now: DateTime<Utc>) -> impl Iterator<Item = &Suppression> {
        self.0.iter().filter(move |s| s.until <= now)
    }
}
