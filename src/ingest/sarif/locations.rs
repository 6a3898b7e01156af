//! Where a result is ([`Place`], from its first location) and what was scanned (the asset).
//! A result may point into its run's `artifacts` and `logicalLocations` by index, and the
//! asset comes from the run's `versionControlProvenance` or `originalUriBaseIds`, which tools
//! often write after the results: so a result keeps its location as written ([`At`]), and it
//! is resolved against the [`RunTables`] when the run ends.

use std::collections::HashMap;

use super::MAX_ITEM;
use super::model::{Artifact, ArtifactLocation, LogicalLocation, SarifResult, VersionControl};
use super::text::non_empty;
use crate::ingest::clip;

/// The run-level tables results refer to.
#[derive(Default)]
pub(crate) struct RunTables {
    pub artifacts: Option<Vec<Artifact>>,
    pub logical_locations: Option<Vec<LogicalLocation>>,
    pub version_control_provenance: Option<Vec<VersionControl>>,
    pub original_uri_base_ids: Option<HashMap<String, ArtifactLocation>>,
}

/// A result's location as written: the first location's artifact (or `analysisTarget`),
/// region and first logical location.
pub(crate) struct At {
    artifact: Option<ArtifactLocation>,
    line: Option<i64>,
    column: Option<i64>,
    /// `region.snippet.text`, whitespace collapsed.
    snippet: Option<String>,
    logical: Option<LogicalLocation>,
}

impl At {
    pub fn of(res: SarifResult) -> At {
        let mut loc = res.locations.and_then(|l| l.into_iter().next());
        let physical = loc.as_mut().and_then(|l| l.physical_location.take());
        let (artifact, region) = match physical {
            Some(p) => (p.artifact_location, p.region),
            None => (None, None),
        };
        let region = region.as_ref();
        At {
            artifact: artifact.or(res.analysis_target),
            line: region.and_then(|r| r.start_line),
            column: region.and_then(|r| r.start_column),
            snippet: region
                .and_then(|r| r.snippet.as_ref())
                .and_then(|s| s.text.as_deref())
                .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|t| !t.is_empty()),
            logical: loc
                .and_then(|l| l.logical_locations)
                .and_then(|l| l.into_iter().next()),
        }
    }
}

/// Where a result is: its first location (or `analysisTarget`).
#[derive(Default)]
pub(crate) struct Place {
    pub path: String,
    pub base: Option<String>,
    pub line: Option<i64>,
    pub column: Option<i64>,
    pub logical: String,
    pub snippet: Option<String>,
}

impl Place {
    /// `path:line`, `path`, or the logical location (e.g. a function) when there is no file.
    pub fn display(&self) -> String {
        match (self.path.is_empty(), self.line) {
            (false, Some(line)) if line > 0 => clip(&format!("{}:{line}", self.path), MAX_ITEM),
            (false, _) => clip(&self.path, MAX_ITEM),
            (true, _) => clip(&self.logical, MAX_ITEM),
        }
    }
}

impl RunTables {
    pub fn place(&self, at: At) -> Place {
        let mut place = Place {
            line: at.line,
            column: at.column,
            snippet: at.snippet,
            ..Place::default()
        };
        if let Some(a) = at.artifact {
            // An artifact location may give only an index into `run.artifacts`.
            let listed = a
                .index
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| self.artifacts.as_deref()?.get(i))
                .and_then(|x| x.location.as_ref());
            let uri = non_empty(a.uri.as_deref())
                .or_else(|| non_empty(listed.and_then(|l| l.uri.as_deref())));
            place.path = uri.unwrap_or_default().to_string();
            place.base = a
                .uri_base_id
                .or_else(|| listed.and_then(|l| l.uri_base_id.clone()));
        }
        if let Some(l) = at.logical {
            let listed = l
                .index
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| self.logical_locations.as_deref()?.get(i));
            place.logical = [&l, listed.unwrap_or(&l)]
                .iter()
                .find_map(|x| {
                    non_empty(x.fully_qualified_name.as_deref()).or(non_empty(x.name.as_deref()))
                })
                .unwrap_or_default()
                .to_string();
        }
        place
    }

    /// The run's repository (`versionControlProvenance[0].repositoryUri`), else the absolute
    /// URI the result's `uriBaseId` stands for (`run.originalUriBaseIds`), else
    /// `"<tool> (unknown asset)"`.
    pub fn asset(&self, source: &str, place: &Place) -> String {
        let repo = self
            .version_control_provenance
            .as_deref()
            .and_then(<[VersionControl]>::first)
            .and_then(|v| non_empty(v.repository_uri.as_deref()));
        let base = || {
            let bases = self.original_uri_base_ids.as_ref()?;
            non_empty(bases.get(place.base.as_deref()?)?.uri.as_deref())
        };
        match repo.or_else(base) {
            Some(a) => clip(a, MAX_ITEM),
            None => format!("{source} (unknown asset)"),
        }
    }
}
