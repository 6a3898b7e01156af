//! The summary posted instead of one thread per finding when an import floods a channel.

use serde::Serialize;

use super::{clip, severity_label};
use crate::domain::{FindingId, FindingState, Severity};

/// Rows listed in the summary; the rest are counted.
pub const MAX_ROWS: usize = 30;

/// One import's new findings in one channel, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchView {
    pub total: usize,
    /// Per severity, most severe first; severities with no finding are left out.
    pub counts: Vec<SeverityCount>,
    /// The most severe findings first (then by id), at most [`MAX_ROWS`].
    pub rows: Vec<BatchRow>,
    /// How many findings are not listed.
    pub more: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeverityCount {
    pub label: String,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchRow {
    pub id: String,
    pub severity: String,
    pub title: String,
}

impl BatchView {
    pub fn new(findings: &[(FindingId, FindingState)]) -> BatchView {
        let mut sorted: Vec<&(FindingId, FindingState)> = findings.iter().collect();
        sorted.sort_by_key(|(id, s)| (std::cmp::Reverse(s.severity), id.key()));
        let counts = Severity::ALL
            .iter()
            .filter_map(|sev| {
                let count = findings.iter().filter(|(_, s)| s.severity == *sev).count();
                (count > 0).then(|| SeverityCount {
                    label: severity_label(*sev).to_string(),
                    count,
                })
            })
            .collect();
        BatchView {
            total: findings.len(),
            counts,
            rows: sorted
                .iter()
                .take(MAX_ROWS)
                .map(|(id, s)| BatchRow {
                    id: id.to_string(),
                    severity: format!("{:<8}", severity_label(s.severity)),
                    title: clip(&s.title, 70),
                })
                .collect(),
            more: findings.len().saturating_sub(MAX_ROWS),
        }
    }
}
