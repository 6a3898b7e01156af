//! Row types the store returns, and their conversion from database rows.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Ctx, StoreError, from_ms};
use crate::domain::{Actor, Change, Event, FindingId, FindingState, Source};

/// One event of the decision trail as stored.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEvent {
    pub seq: i64,
    pub finding: FindingId,
    pub kind: String,
    pub actor: Actor,
    pub source: String,
    /// The change as JSON text, exactly as hashed.
    pub payload: String,
    pub at: DateTime<Utc>,
    pub hash: String,
}

impl StoredEvent {
    pub(crate) const COLUMNS: &'static str =
        "seq, finding_key, kind, actor_platform, actor_id, actor_name, source, payload, at, hash";

    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        const C: &str = "reading an event";
        Ok(StoredEvent {
            seq: row.try_get(0).ctx(C)?,
            finding: FindingId::from_key(row.try_get(1).ctx(C)?),
            kind: row.try_get(2).ctx(C)?,
            actor: Actor {
                platform: row.try_get(3).ctx(C)?,
                id: row.try_get(4).ctx(C)?,
                name: row.try_get(5).ctx(C)?,
            },
            source: row.try_get(6).ctx(C)?,
            payload: row.try_get(7).ctx(C)?,
            at: from_ms(row.try_get(8).ctx(C)?),
            hash: row.try_get(9).ctx(C)?,
        })
    }

    /// The payload decoded back into the domain event.
    pub fn to_event(&self) -> Result<Event, StoreError> {
        let change: Change = serde_json::from_str(&self.payload)
            .map_err(|e| StoreError::Corrupt(format!("event #{} payload: {e}", self.seq)))?;
        Ok(Event {
            change,
            actor: self.actor.clone(),
            source: Source::parse(&self.source).ok_or_else(|| {
                StoreError::Corrupt(format!("event #{} source `{}`", self.seq, self.source))
            })?,
            at: self.at,
        })
    }

    /// The payload as a JSON value (for exports and the API).
    pub fn payload_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.payload)
            .unwrap_or(serde_json::Value::String(self.payload.clone()))
    }
}

/// A finding with its full state and the scanner observation counters.
#[derive(Debug, Clone, Serialize)]
pub struct StoredFinding {
    pub id: FindingId,
    #[serde(flatten)]
    pub state: FindingState,
    pub last_seen: DateTime<Utc>,
    pub times_seen: i64,
}

impl StoredFinding {
    /// Columns of `findings f JOIN finding_states s` (see [`StoredFinding::FROM`]).
    pub(crate) const COLUMNS: &'static str = "f.key, s.state, f.last_seen, f.times_seen";
    pub(crate) const FROM: &'static str = "findings f JOIN finding_states s ON s.key = f.key";

    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        const C: &str = "reading a finding";
        let key: i64 = row.try_get(0).ctx(C)?;
        let state: String = row.try_get(1).ctx(C)?;
        let state: FindingState = serde_json::from_str(&state)
            .map_err(|e| StoreError::Corrupt(format!("finding F-{key} state: {e}")))?;
        Ok(StoredFinding {
            id: FindingId::from_key(key),
            state,
            last_seen: from_ms(row.try_get(2).ctx(C)?),
            times_seen: row.try_get(3).ctx(C)?,
        })
    }
}

/// The columns a listing shows.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FindingSummary {
    pub id: FindingId,
    pub severity: String,
    pub stage: String,
    pub owner: Option<String>,
    pub title: String,
    pub asset: String,
    pub source: String,
    pub due_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub times_seen: i64,
}

/// A listing row as the database's JSON aggregate encodes it: the summary columns in
/// [`FindingSummary::COLUMNS`] order, then the sort key.
pub(crate) type SummaryTuple = (
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
);

impl FindingSummary {
    pub(crate) fn from_tuple(t: SummaryTuple) -> Self {
        FindingSummary {
            id: FindingId::from_key(t.0),
            severity: t.1,
            stage: t.2,
            owner: t.3,
            title: t.4,
            asset: t.5,
            source: t.6,
            due_at: t.7.map(from_ms),
            resolution: t.8,
            first_seen: from_ms(t.9),
            last_seen: from_ms(t.10),
            times_seen: t.11,
        }
    }

    pub(crate) const COLUMNS: &'static str = "key, severity, stage, owner, title, asset, source, due_at, resolution, first_seen, last_seen, times_seen";
}
