//! Writes: one transaction that holds the chain lock, reads what it needs, appends events
//! with their hashes, updates the projection, and commits all of it or none of it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{Any, Row, Transaction};
use tokio::sync::OwnedMutexGuard;

use super::chain::{EventFields, event_hash};
use super::rows::StoredFinding;
use super::sql::Sql;
use super::{Backend, Ctx, StoreError, from_ms, to_ms};
use crate::domain::{Actor, Event, FindingId, FindingState};

/// Columns bound per row by each multi-row statement; chunk sizes follow from the
/// database's limit on bind parameters. Few, large statements: each one is a round trip.
const FINDING_BINDS: usize = 17;
const STATE_BINDS: usize = 2;
const EVENT_BINDS: usize = 10;

const FINDING_COLUMNS: &str = "fingerprint, source, rule_id, title, asset, severity, severity_rank, owner, \
     stage, resolution, due_at, first_seen, last_seen, times_seen, opened_at, closed_at, updated_at";

fn encode_state(state: &FindingState) -> Result<String, StoreError> {
    serde_json::to_string(state)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode finding state: {e}")))
}

/// An open write transaction holding the chain lock.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    head_seq: i64,
    head_hash: String,
    local: OwnedMutexGuard<()>,
}

impl WriteTx {
    pub(super) async fn begin(
        pool: &sqlx::AnyPool,
        backend: Backend,
        local: OwnedMutexGuard<()>,
    ) -> Result<WriteTx, StoreError> {
        let mut tx = pool.begin().await.ctx("starting a transaction")?;
        // Writing first takes SQLite's write lock (no stale read snapshot) and PostgreSQL's
        // row lock on the head, so concurrent writers queue here instead of forking the chain.
        // One statement (one round trip to SQLite's worker thread) for both.
        let row = sqlx::query("UPDATE chain_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut *tx)
            .await
            .ctx("locking the chain head")?;
        Ok(WriteTx {
            head_seq: row.try_get(0).ctx("reading the chain head")?,
            head_hash: row.try_get(1).ctx("reading the chain head")?,
            tx,
            backend,
            local,
        })
    }

    pub(super) fn backend(&self) -> Backend {
        self.backend
    }

    /// The transaction's connection, for statements of sibling modules.
    pub(super) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// How many rows of `binds` parameters each fit in one statement.
    pub(super) fn rows_per_statement(&self, binds: usize) -> usize {
        Sql::max_params(self.backend) / binds
    }

    /// Findings with these fingerprints, keyed by fingerprint.
    pub async fn findings_by_fingerprint(
        &mut self,
        fingerprints: &[&str],
    ) -> Result<HashMap<String, StoredFinding>, StoreError> {
        let mut found = HashMap::new();
        for chunk in fingerprints.chunks(self.rows_per_statement(1)) {
            let mut q = Sql::new(
                self.backend,
                &format!(
                    "SELECT {} FROM {} WHERE f.fingerprint IN ",
                    StoredFinding::COLUMNS,
                    StoredFinding::FROM
                ),
            );
            q.bind_list(chunk.iter().copied());
            let rows = q
                .build()
                .fetch_all(&mut *self.tx)
                .await
                .ctx("looking up fingerprints")?;
            for row in &rows {
                let f = StoredFinding::from_row(row)?;
                found.insert(f.state.fingerprint.as_str().to_string(), f);
            }
        }
        Ok(found)
    }

    /// One finding, read inside the transaction (so no other writer can change it meanwhile).
    pub async fn finding(&mut self, id: FindingId) -> Result<Option<StoredFinding>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM {} WHERE f.key = $1",
            StoredFinding::COLUMNS,
            StoredFinding::FROM
        )))
        .bind(id.key())
        .fetch_optional(&mut *self.tx)
        .await
        .ctx("loading a finding")?;
        row.as_ref().map(StoredFinding::from_row).transpose()
    }

    /// Insert new findings; returns their ids in input order.
    pub async fn insert_findings(
        &mut self,
        states: &[FindingState],
        now: DateTime<Utc>,
    ) -> Result<Vec<FindingId>, StoreError> {
        let mut keys: HashMap<String, i64> = HashMap::with_capacity(states.len());
        for chunk in states.chunks(self.rows_per_statement(FINDING_BINDS)) {
            let mut q = Sql::new(
                self.backend,
                &format!("INSERT INTO findings ({FINDING_COLUMNS}) VALUES "),
            );
            for (i, s) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                q.bind(s.fingerprint.as_str())
                    .push(", ")
                    .bind(s.source.as_str())
                    .push(", ")
                    .bind(s.rule_id.as_str())
                    .push(", ")
                    .bind(s.title.as_str())
                    .push(", ")
                    .bind(s.asset.as_str())
                    .push(", ")
                    .bind(s.severity.as_str())
                    .push(", ")
                    .bind(s.severity.rank())
                    .push(", ")
                    .bind(s.owner.clone())
                    .push(", ")
                    .bind(s.stage.as_str())
                    .push(", ")
                    .bind(s.resolution.map(|r| r.as_str()))
                    .push(", ")
                    .bind(s.next_due().map(to_ms))
                    .push(", ")
                    .bind(to_ms(s.first_seen))
                    .push(", ")
                    .bind(to_ms(now))
                    .push(", ")
                    .bind(1i64)
                    .push(", ")
                    .bind(to_ms(s.opened_at))
                    .push(", ")
                    .bind(s.closed_at.map(to_ms))
                    .push(", ")
                    .bind(to_ms(now))
                    .push(")");
            }
            q.push(" RETURNING key, fingerprint");
            let rows = q
                .build()
                .fetch_all(&mut *self.tx)
                .await
                .ctx("inserting findings")?;
            for row in &rows {
                keys.insert(
                    row.try_get(1).ctx("inserting findings")?,
                    row.try_get(0).ctx("inserting findings")?,
                );
            }
        }
        let ids: Vec<FindingId> = states
            .iter()
            .map(|s| {
                keys.get(s.fingerprint.as_str())
                    .map(|k| FindingId::from_key(*k))
                    .ok_or_else(|| {
                        StoreError::Corrupt("an inserted finding returned no key".into())
                    })
            })
            .collect::<Result<_, _>>()?;
        let rows = self.rows_per_statement(STATE_BINDS);
        for (chunk_ids, chunk) in ids.chunks(rows).zip(states.chunks(rows)) {
            let mut q = Sql::new(
                self.backend,
                "INSERT INTO finding_states (key, state) VALUES ",
            );
            for (i, (id, s)) in chunk_ids.iter().zip(chunk).enumerate() {
                q.push(if i == 0 { "(" } else { ", (" })
                    .bind(id.key())
                    .push(", ")
                    .bind(encode_state(s)?)
                    .push(")");
            }
            q.build()
                .execute(&mut *self.tx)
                .await
                .ctx("inserting finding states")?;
        }
        Ok(ids)
    }

    /// Write a finding's new projection.
    pub async fn save(
        &mut self,
        id: FindingId,
        state: &FindingState,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE finding_states SET state = $1 WHERE key = $2")
            .bind(encode_state(state)?)
            .bind(id.key())
            .execute(&mut *self.tx)
            .await
            .ctx("saving a finding")?;
        sqlx::query(
            "UPDATE findings SET title = $1, severity = $2, severity_rank = $3, owner = $4, stage = $5, \
             resolution = $6, due_at = $7, opened_at = $8, closed_at = $9, updated_at = $10 \
             WHERE key = $11",
        )
        .bind(state.title.clone())
        .bind(state.severity.as_str())
        .bind(state.severity.rank())
        .bind(state.owner.clone())
        .bind(state.stage.as_str())
        .bind(state.resolution.map(|r| r.as_str()))
        .bind(state.next_due().map(to_ms))
        .bind(to_ms(state.opened_at))
        .bind(state.closed_at.map(to_ms))
        .bind(to_ms(now))
        .bind(id.key())
        .execute(&mut *self.tx)
        .await
        .ctx("saving a finding")?;
        Ok(())
    }

    /// Record that a scanner saw these findings again: `last_seen` and `times_seen` only.
    pub async fn touch_seen(
        &mut self,
        ids: &[FindingId],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for chunk in ids.chunks(self.rows_per_statement(1) - 1) {
            let mut q = Sql::new(self.backend, "UPDATE findings SET last_seen = ");
            q.bind(to_ms(at))
                .push(", times_seen = times_seen + 1, missing_since = NULL WHERE key IN ")
                .bind_list(chunk.iter().map(|id| id.key()));
            q.build()
                .execute(&mut *self.tx)
                .await
                .ctx("recording sightings")?;
        }
        Ok(())
    }

    /// Open findings of `source` and `asset` that were not seen at `scan_at` (so not in the
    /// scan being stored) and not already marked missing.
    pub async fn unseen_in_scan(
        &mut self,
        source: &str,
        asset: &str,
        scan_at: DateTime<Utc>,
    ) -> Result<Vec<FindingId>, StoreError> {
        let rows = sqlx::query(
            "SELECT key FROM findings WHERE source = $1 AND asset = $2 AND last_seen < $3 \
             AND missing_since IS NULL AND stage NOT IN ('closed', 'accepted') ORDER BY key",
        )
        .bind(source.to_string())
        .bind(asset.to_string())
        .bind(to_ms(scan_at))
        .fetch_all(&mut *self.tx)
        .await
        .ctx("finding what a scan no longer reports")?;
        rows.iter()
            .map(|r| r.try_get::<i64, _>(0).map(FindingId::from_key))
            .collect::<Result<_, _>>()
            .ctx("finding what a scan no longer reports")
    }

    /// Mark findings as missing from a full scan since `at`.
    pub async fn mark_missing(
        &mut self,
        ids: &[FindingId],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for chunk in ids.chunks(self.rows_per_statement(1) - 1) {
            let mut q = Sql::new(self.backend, "UPDATE findings SET missing_since = ");
            q.bind(to_ms(at))
                .push(" WHERE key IN ")
                .bind_list(chunk.iter().map(|id| id.key()));
            q.build()
                .execute(&mut *self.tx)
                .await
                .ctx("marking findings missing")?;
        }
        Ok(())
    }

    /// The kind and time of the latest event `actor` recorded on a finding, if any.
    pub async fn latest_event_by(
        &mut self,
        id: FindingId,
        actor: &Actor,
    ) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        let row = sqlx::query(
            "SELECT kind, at FROM events WHERE finding_key = $1 AND actor_platform = $2 \
             AND actor_id = $3 ORDER BY seq DESC LIMIT 1",
        )
        .bind(id.key())
        .bind(actor.platform.as_str())
        .bind(actor.id.as_str())
        .fetch_optional(&mut *self.tx)
        .await
        .ctx("reading a finding's latest event by an actor")?;
        row.map(|r| {
            let kind: String = r.try_get(0)?;
            let at: i64 = r.try_get(1)?;
            Ok((kind, from_ms(at)))
        })
        .transpose()
        .ctx("reading a finding's latest event by an actor")
    }

    /// Append events to the chain, in order. Returns their sequence numbers.
    pub async fn append(&mut self, events: &[(FindingId, &Event)]) -> Result<Vec<i64>, StoreError> {
        struct Prepared {
            seq: i64,
            key: i64,
            kind: &'static str,
            payload: String,
            at: i64,
            hash: String,
        }
        let mut prepared = Vec::with_capacity(events.len());
        for (id, e) in events {
            let payload = serde_json::to_string(&e.change)
                .map_err(|err| StoreError::Corrupt(format!("cannot encode event: {err}")))?;
            let seq = self.head_seq + 1;
            let at = to_ms(e.at);
            let hash = event_hash(
                &self.head_hash,
                &EventFields {
                    seq,
                    finding_key: id.key(),
                    kind: e.change.kind(),
                    actor_platform: &e.actor.platform,
                    actor_id: &e.actor.id,
                    actor_name: &e.actor.name,
                    source: e.source.as_str(),
                    payload: &payload,
                    at,
                },
            );
            self.head_seq = seq;
            self.head_hash = hash.clone();
            prepared.push(Prepared {
                seq,
                key: id.key(),
                kind: e.change.kind(),
                payload,
                at,
                hash,
            });
        }
        let rows = self.rows_per_statement(EVENT_BINDS);
        for (chunk_events, chunk) in events.chunks(rows).zip(prepared.chunks(rows)) {
            let mut q = Sql::new(
                self.backend,
                "INSERT INTO events (seq, finding_key, kind, actor_platform, actor_id, actor_name, source, payload, at, hash) VALUES ",
            );
            for (i, (p, (_, e))) in chunk.iter().zip(chunk_events).enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                q.bind(p.seq)
                    .push(", ")
                    .bind(p.key)
                    .push(", ")
                    .bind(p.kind)
                    .push(", ")
                    .bind(e.actor.platform.as_str())
                    .push(", ")
                    .bind(e.actor.id.as_str())
                    .push(", ")
                    .bind(e.actor.name.as_str())
                    .push(", ")
                    .bind(e.source.as_str())
                    .push(", ")
                    .bind(p.payload.as_str())
                    .push(", ")
                    .bind(p.at)
                    .push(", ")
                    .bind(p.hash.as_str())
                    .push(")");
            }
            q.build()
                .execute(&mut *self.tx)
                .await
                .ctx("appending events")?;
        }
        Ok(prepared.iter().map(|p| p.seq).collect())
    }

    /// Store the new head and commit everything.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.commit_holding_lock().await.map(drop)
    }

    /// [`WriteTx::commit`], handing back this process's write lock instead of releasing
    /// it, so the caller can finish (e.g. answer the commands it committed) before the next
    /// writer starts.
    pub(crate) async fn commit_holding_lock(mut self) -> Result<OwnedMutexGuard<()>, StoreError> {
        sqlx::query("UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(self.head_seq)
            .bind(self.head_hash.clone())
            .execute(&mut *self.tx)
            .await
            .ctx("moving the chain head")?;
        self.tx.commit().await.ctx("committing")?;
        Ok(self.local)
    }
}
