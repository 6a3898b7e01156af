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

impl App {
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

        let mut outcomes: Vec<(Option<FindingId>, Outcome)> = Vec::with_capacity(order.len());
        let mut new_states: Vec<FindingState> = Vec::new();
        let mut new_changes: Vec<Change> = Vec::new();
        let mut other_events: Vec<(FindingId, Event)> = Vec::new();
        let mut seen: Vec<FindingId> = Vec::new();
        let event = |change: Change| Event {
            change,
            actor: actor.clone(),
            source,
            at: now,
        };

        for f in &order {
            match existing.remove(f.fingerprint.as_str()) {
                None => {
                    let change = domain::open(f.clone(), policy, now);
                    let state = FindingState::created(&change, now).ok_or_else(|| {
                        crate::store::StoreError::Corrupt("open() did not create".into())
                    })?;
                    new_states.push(state);
                    new_changes.push(change);
                    outcomes.push((None, Outcome::Created));
                }
                Some(stored) => {
                    let changes = decide(
                        &stored.state,
                        &Command::Observe(f.content()),
                        actor,
                        policy,
                        now,
                    )?;
                    seen.push(stored.id);
                    if changes.is_empty() {
                        outcomes.push((Some(stored.id), Outcome::Unchanged));
                        continue;
                    }
                    let reopened = changes.iter().any(|c| matches!(c, Change::Reopened { .. }));
                    let mut state = stored.state;
                    for c in changes {
                        let e = event(c);
                        state.apply(&e);
                        other_events.push((stored.id, e));
                    }
                    tx.save(stored.id, &state, now).await?;
                    outcomes.push((
                        Some(stored.id),
                        if reopened {
                            Outcome::Reopened
                        } else {
                            Outcome::Updated
                        },
                    ));
                }
            }
        }

        let new_ids = tx.insert_findings(&new_states, now).await?;
        tx.touch_seen(&seen, now).await?;
        let mut events: Vec<(FindingId, Event)> = new_ids
            .iter()
            .copied()
            .zip(new_changes.into_iter().map(event))
            .collect();
        events.append(&mut other_events);
        let refs: Vec<(FindingId, &Event)> = events.iter().map(|(id, e)| (*id, e)).collect();
        tx.append(&refs).await?;
        tx.commit().await?;

        let mut new_ids = new_ids.into_iter();
        let mut result = IngestOutcome {
            received,
            ..IngestOutcome::default()
        };
        for (f, (id, outcome)) in order.iter().zip(outcomes) {
            let id = match id {
                Some(id) => id,
                None => new_ids
                    .next()
                    .ok_or_else(|| crate::store::StoreError::Corrupt("missing new id".into()))?,
            };
            match outcome {
                Outcome::Created => result.created += 1,
                Outcome::Updated => result.updated += 1,
                Outcome::Unchanged => result.unchanged += 1,
                Outcome::Reopened => result.reopened += 1,
            }
            result.findings.push(ItemOutcome {
                id,
                fingerprint: f.fingerprint.as_str().to_string(),
                outcome,
            });
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
        for (_, e) in &events {
            self.metrics.record_transition(e.change.kind());
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
