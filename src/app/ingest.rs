//! Ingest a batch: deduplicate by fingerprint, create new findings, record changes and
//! regressions for known ones, and touch `last_seen` for the rest — all in one transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{App, AppError};
use crate::domain::{
    self, Actor, Change, Command, Event, FindingId, FindingState, NewFinding, Source, decide,
};

/// What happened to one fingerprint of the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    Reopened,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Reopened => "reopened",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemOutcome {
    pub id: FindingId,
    pub fingerprint: String,
    pub outcome: Outcome,
}

/// The reply to an ingest: counts, and one line per distinct fingerprint in input order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestOutcome {
    pub received: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub reopened: usize,
    pub findings: Vec<ItemOutcome>,
}

/// New findings stored per round trip within the batch's transaction.
const NEW_CHUNK: usize = 1_000;

impl App {
    /// Open, insert and record the `Created` events of the pending new findings; empties
    /// `pending` and returns their ids in order.
    async fn store_new(
        &self,
        tx: &mut crate::store::WriteTx,
        pending: &mut Vec<NewFinding>,
        event: &impl Fn(Change) -> Event,
        kinds: &mut Vec<&'static str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<FindingId>, AppError> {
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        let policy = &self.settings.policy;
        let changes: Vec<Change> = pending
            .drain(..)
            .map(|f| domain::open(f, policy, now))
            .collect();
        let states = changes
            .iter()
            .map(|c| FindingState::created(c, now))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| crate::store::StoreError::Corrupt("open() did not create".into()))?;
        let ids = tx.insert_findings(&states, now).await?;
        drop(states);
        let events: Vec<Event> = changes.into_iter().map(event).collect();
        kinds.extend(events.iter().map(|e| e.change.kind()));
        let refs: Vec<(FindingId, &Event)> = ids.iter().copied().zip(events.iter()).collect();
        tx.append(&refs).await?;
        Ok(ids)
    }

    /// Store a batch whole or not at all. Re-sending the same batch changes only
    /// `last_seen`/`times_seen`.
    #[tracing::instrument(skip_all, fields(batch = findings.len()))]
    pub async fn ingest(
        &self,
        findings: Vec<NewFinding>,
        actor: &Actor,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<IngestOutcome, AppError> {
        let now = super::stored_precision(now);
        let policy = &self.settings.policy;
        let received = findings.len();
        // Within one batch, a fingerprint that repeats is one finding; the last copy wins.
        let mut order: Vec<NewFinding> = Vec::with_capacity(findings.len());
        let mut index: HashMap<String, usize> = HashMap::with_capacity(findings.len());
        for f in findings {
            match index.get(f.fingerprint.as_str()) {
                Some(&i) => order[i] = f,
                None => {
                    index.insert(f.fingerprint.as_str().to_string(), order.len());
                    order.push(f);
                }
            }
        }

        let mut tx = self.store.begin_write().await?;
        let fps: Vec<&str> = order.iter().map(|f| f.fingerprint.as_str()).collect();
        let mut existing = tx.findings_by_fingerprint(&fps).await?;
        drop(fps);

        let mut result = IngestOutcome {
            received,
            ..IngestOutcome::default()
        };
        let mut kinds: Vec<&'static str> = Vec::new();
        let mut other_events: Vec<(FindingId, Event)> = Vec::new();
        let mut seen: Vec<FindingId> = Vec::new();
        // New findings are stored a chunk at a time, so a large batch never holds every
        // finding's state, event and JSON in memory at once.
        let mut pending: Vec<NewFinding> = Vec::with_capacity(NEW_CHUNK.min(order.len()));
        let mut created_ids: Vec<FindingId> = Vec::new();
        let event = |change: Change| Event {
            change,
            actor: actor.clone(),
            source,
            at: now,
        };

        for f in order {
            let fingerprint = f.fingerprint.as_str().to_string();
            let Some(stored) = existing.remove(&fingerprint) else {
                result.findings.push(ItemOutcome {
                    id: FindingId::from_key(0), // filled in once the chunk is stored
                    fingerprint,
                    outcome: Outcome::Created,
                });
                pending.push(f);
                if pending.len() == NEW_CHUNK {
                    created_ids.extend(
                        self.store_new(&mut tx, &mut pending, &event, &mut kinds, now)
                            .await?,
                    );
                }
                continue;
            };
            let changes = decide(
                &stored.state,
                &Command::Observe(f.content()),
                actor,
                policy,
                now,
            )?;
            seen.push(stored.id);
            let outcome = if changes.is_empty() {
                Outcome::Unchanged
            } else if changes.iter().any(|c| matches!(c, Change::Reopened { .. })) {
                Outcome::Reopened
            } else {
                Outcome::Updated
            };
            if !changes.is_empty() {
                let mut state = stored.state;
                for c in changes {
                    let e = event(c);
                    state.apply(&e);
                    kinds.push(e.change.kind());
                    other_events.push((stored.id, e));
                }
                tx.save(stored.id, &state, now).await?;
            }
            result.findings.push(ItemOutcome {
                id: stored.id,
                fingerprint,
                outcome,
            });
        }
        created_ids.extend(
            self.store_new(&mut tx, &mut pending, &event, &mut kinds, now)
                .await?,
        );
        tx.touch_seen(&seen, now).await?;
        let refs: Vec<(FindingId, &Event)> = other_events.iter().map(|(id, e)| (*id, e)).collect();
        tx.append(&refs).await?;
        tx.commit().await?;

        let mut created_ids = created_ids.into_iter();
        for item in &mut result.findings {
            match item.outcome {
                Outcome::Created => {
                    result.created += 1;
                    item.id = created_ids.next().ok_or_else(|| {
                        crate::store::StoreError::Corrupt("missing new id".into())
                    })?;
                }
                Outcome::Updated => result.updated += 1,
                Outcome::Unchanged => result.unchanged += 1,
                Outcome::Reopened => result.reopened += 1,
            }
        }
        for o in [
            Outcome::Created,
            Outcome::Updated,
            Outcome::Unchanged,
            Outcome::Reopened,
        ] {
            let n = result.findings.iter().filter(|i| i.outcome == o).count();
            self.metrics.record_ingested(o.as_str(), n as u64);
        }
        for kind in kinds {
            self.metrics.record_transition(kind);
        }
        tracing::info!(
            created = result.created,
            updated = result.updated,
            unchanged = result.unchanged,
            reopened = result.reopened,
            "ingested"
        );
        Ok(result)
    }
}
