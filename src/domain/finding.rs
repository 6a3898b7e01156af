//! Findings: the validated input from a scanner ([`NewFinding`]), the public id, the
//! fingerprint, and the projection of a finding's events ([`FindingState`]).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::severity::Severity;
use super::workflow::{
    Evidence, FixPlan, PendingDecision, RcaAnswers, Resolution, Stage, TriageAnswers,
};

/// The short, human-friendly id users type: `F-1042`. The number is the finding's internal
/// key in the store, so the two never disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FindingId(i64);

impl FindingId {
    pub fn from_key(key: i64) -> Self {
        FindingId(key)
    }

    /// The internal key (the store's primary key).
    pub fn key(self) -> i64 {
        self.0
    }
}

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "F-{}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a finding id; ids look like F-1042")]
pub struct BadFindingId(pub String);

impl FromStr for FindingId {
    type Err = BadFindingId;

    /// Accepts `F-1042`, `f-1042` and a bare `1042`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t
            .strip_prefix("F-")
            .or_else(|| t.strip_prefix("f-"))
            .unwrap_or(t);
        match digits.parse::<i64>() {
            Ok(n) if n > 0 => Ok(FindingId(n)),
            _ => Err(BadFindingId(s.to_string())),
        }
    }
}

impl TryFrom<String> for FindingId {
    type Error = BadFindingId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<FindingId> for String {
    fn from(id: FindingId) -> String {
        id.to_string()
    }
}

/// What identifies "the same finding" across scans. Either given by the scanner, or derived
/// from source + rule + asset + location (see [`Fingerprint::derive`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

/// Longest fingerprint we accept from a client.
pub const MAX_FINGERPRINT_LEN: usize = 256;

impl Fingerprint {
    /// A client-given fingerprint: trimmed, non-empty, at most 256 characters.
    pub fn given(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("fingerprint must not be empty".into());
        }
        if t.chars().count() > MAX_FINGERPRINT_LEN {
            return Err(format!(
                "fingerprint is longer than {MAX_FINGERPRINT_LEN} characters"
            ));
        }
        Ok(Fingerprint(t.to_string()))
    }

    /// SHA-256 over the four identifying fields, NUL-separated so that no two different
    /// field splits produce the same input.
    pub fn derive(source: &str, rule_id: &str, asset: &str, location: &str) -> Self {
        let mut h = Sha256::new();
        for part in [source, rule_id, asset, location] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        Fingerprint(hex::encode(h.finalize()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A finding as a scanner reports it, validated at the edge. Past this point nothing
/// re-validates these fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewFinding {
    pub fingerprint: Fingerprint,
    pub source: String,
    pub rule_id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub asset: String,
    pub location: String,
    pub tags: Vec<String>,
    pub references: Vec<String>,
    pub owner: Option<String>,
}

impl NewFinding {
    /// The scanner-owned content of an existing finding, for comparing with a re-scan.
    pub fn content_of(state: &FindingState) -> ScannerContent {
        ScannerContent {
            title: state.title.clone(),
            description: state.description.clone(),
            severity: state.reported_severity,
            tags: state.tags.clone(),
            references: state.references.clone(),
        }
    }

    pub fn content(&self) -> ScannerContent {
        ScannerContent {
            title: self.title.clone(),
            description: self.description.clone(),
            severity: self.severity,
            tags: self.tags.clone(),
            references: self.references.clone(),
        }
    }
}

/// The fields a scanner may change on a finding it reports again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannerContent {
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub tags: Vec<String>,
    pub references: Vec<String>,
}

/// Everything the workflow knows about a finding: the fold of its events. The `findings`
/// table stores this projection; replaying the events must rebuild it exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingState {
    pub fingerprint: Fingerprint,
    pub source: String,
    pub rule_id: String,
    pub title: String,
    pub description: String,
    /// The severity that applies: the scanner's, unless a person changed it.
    pub severity: Severity,
    /// The severity the scanner last reported. A re-scan is compared with this, so a
    /// person's severity decision is not undone by the next scan.
    pub reported_severity: Severity,
    pub asset: String,
    pub location: String,
    pub tags: Vec<String>,
    pub references: Vec<String>,
    pub owner: Option<String>,
    /// The routing rule the finding fell under when it was created.
    #[serde(default)]
    pub route: Option<String>,
    pub stage: Stage,
    pub resolution: Option<Resolution>,
    pub duplicate_of: Option<String>,
    /// When the finding was first detected.
    pub first_seen: DateTime<Utc>,
    /// When the current remediation cycle started: first detection, or the last reopen.
    pub opened_at: DateTime<Utc>,
    pub triage_due: DateTime<Utc>,
    pub remediate_due: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub accepted_until: Option<DateTime<Utc>>,
    pub regressions: u32,
    pub triage: Option<TriageAnswers>,
    pub rca: Option<RcaAnswers>,
    pub fix_plan: Option<FixPlan>,
    pub evidence: Vec<Evidence>,
    /// `platform:id` of whoever marked the fix done (separation of duties).
    pub implementer: Option<String>,
    pub pending: Option<PendingDecision>,
}

impl FindingState {
    /// The finding as a scanner would report it now (for routing and explanations).
    pub fn as_new_finding(&self) -> NewFinding {
        NewFinding {
            fingerprint: self.fingerprint.clone(),
            source: self.source.clone(),
            rule_id: self.rule_id.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            severity: self.severity,
            asset: self.asset.clone(),
            location: self.location.clone(),
            tags: self.tags.clone(),
            references: self.references.clone(),
            owner: None,
        }
    }

    /// Whether the finding still needs work (not closed and not under accepted risk).
    pub fn is_open(&self) -> bool {
        !matches!(self.stage, Stage::Closed | Stage::Accepted)
    }

    /// The next deadline that applies: the triage deadline while untriaged, otherwise the
    /// remediation deadline; `None` when no deadline applies (closed, accepted).
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        match self.stage {
            Stage::Closed | Stage::Accepted => None,
            Stage::New | Stage::Triage => Some(self.triage_due.min(self.remediate_due)),
            _ => Some(self.remediate_due),
        }
    }

    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.next_due().is_some_and(|due| due < now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_ids_round_trip_through_text() {
        let id: FindingId = "F-1042".parse().unwrap();
        assert_eq!(id.key(), 1042);
        assert_eq!(id.to_string(), "F-1042");
        assert_eq!("1042".parse::<FindingId>().unwrap(), id);
        assert!("F-".parse::<FindingId>().is_err());
        assert!("F-0".parse::<FindingId>().is_err());
        assert!("G-12".parse::<FindingId>().is_err());
    }

    #[test]
    fn derived_fingerprints_do_not_collide_when_fields_shift() {
        let a = Fingerprint::derive("ab", "c", "d", "e");
        let b = Fingerprint::derive("a", "bc", "d", "e");
        assert_ne!(a, b);
        assert_eq!(a, Fingerprint::derive("ab", "c", "d", "e"));
    }

    #[test]
    fn given_fingerprints_are_trimmed_and_bounded() {
        assert_eq!(Fingerprint::given("  x ").unwrap().as_str(), "x");
        assert!(Fingerprint::given(" ").is_err());
        assert!(Fingerprint::given(&"x".repeat(257)).is_err());
    }
}
