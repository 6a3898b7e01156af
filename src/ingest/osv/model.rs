//! The parts of OSV records and osv-scanner output remedybot reads. Unknown fields are
//! skipped. [`Record`] also carries osv-scanner's `results`, so one pass over a document
//! reads either shape without buffering.

use serde::Deserialize;
use serde::de::IgnoredAny;

#[derive(Deserialize, Default)]
pub(crate) struct Record {
    pub id: Option<String>,
    pub summary: Option<String>,
    pub details: Option<String>,
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    #[serde(default)]
    pub upstream: Option<Vec<String>>,
    pub withdrawn: Option<IgnoredAny>,
    #[serde(default)]
    pub severity: Option<Vec<SeverityEntry>>,
    #[serde(default)]
    pub affected: Option<Vec<Affected>>,
    #[serde(default)]
    pub references: Option<Vec<Reference>>,
    pub database_specific: Option<Specific>,
    /// osv-scanner output.
    pub results: Option<Vec<ScanResult>>,
}

#[derive(Deserialize)]
pub(crate) struct SeverityEntry {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub score: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Affected {
    pub package: Option<Package>,
    #[serde(default)]
    pub ranges: Option<Vec<Range>>,
    #[serde(default)]
    pub versions: Option<Vec<String>>,
    #[serde(default)]
    pub severity: Option<Vec<SeverityEntry>>,
    pub ecosystem_specific: Option<Specific>,
    pub database_specific: Option<Specific>,
}

#[derive(Deserialize)]
pub(crate) struct Package {
    pub ecosystem: Option<String>,
    pub name: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Range {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub repo: Option<String>,
    #[serde(default)]
    pub events: Option<Vec<Event>>,
}

#[derive(Deserialize)]
pub(crate) struct Event {
    pub introduced: Option<String>,
    pub fixed: Option<String>,
    pub last_affected: Option<String>,
    pub limit: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Reference {
    pub url: Option<String>,
}

/// `database_specific` / `ecosystem_specific`: free-form; only a few keys are read, and a
/// key with an unexpected type is ignored rather than rejected.
#[derive(Deserialize)]
pub(crate) struct Specific {
    #[serde(default)]
    pub severity: Lenient,
    #[serde(default)]
    pub cwe_ids: LenientList,
    #[serde(default)]
    pub url: Lenient,
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
pub(crate) enum Lenient {
    Text(String),
    #[default]
    #[serde(skip)]
    Missing,
    Other(IgnoredAny),
}

impl Lenient {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Lenient::Text(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
pub(crate) enum LenientList {
    List(Vec<String>),
    #[default]
    #[serde(skip)]
    Missing,
    Other(IgnoredAny),
}

impl LenientList {
    pub fn items(&self) -> &[String] {
        match self {
            LenientList::List(v) => v,
            _ => &[],
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct ScanResult {
    #[serde(alias = "packageSource")]
    pub source: Option<Source>,
    #[serde(default)]
    pub packages: Option<Vec<ScanPackage>>,
}

#[derive(Deserialize)]
pub(crate) struct Source {
    pub path: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct ScanPackage {
    pub package: Option<PackageInfo>,
    #[serde(default)]
    pub vulnerabilities: Option<Vec<Record>>,
    #[serde(default)]
    pub groups: Option<Vec<Group>>,
}

#[derive(Deserialize)]
pub(crate) struct PackageInfo {
    pub name: Option<String>,
    pub version: Option<String>,
    pub ecosystem: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Group {
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    #[serde(default)]
    pub max_severity: Lenient,
}
