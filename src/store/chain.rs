//! The hash chain over the event log. Each event's hash covers the previous event's hash
//! and every stored field of the event, length-prefixed, so an edited, deleted, inserted or
//! reordered row no longer matches. `chain_head` records the last seq and hash, so losing
//! the newest events is detected too.

use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Ctx, Store, StoreError};

/// The hash before the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The stored fields of one event, in hashing order.
pub(crate) struct EventFields<'a> {
    pub seq: i64,
    pub finding_key: i64,
    pub kind: &'a str,
    pub actor_platform: &'a str,
    pub actor_id: &'a str,
    pub actor_name: &'a str,
    pub source: &'a str,
    pub payload: &'a str,
    pub at: i64,
}

/// SHA-256 of the previous hash and the event's fields, hex-encoded.
pub(crate) fn event_hash(prev: &str, e: &EventFields<'_>) -> String {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(prev.as_bytes());
    field(&e.seq.to_le_bytes());
    field(&e.finding_key.to_le_bytes());
    field(e.kind.as_bytes());
    field(e.actor_platform.as_bytes());
    field(e.actor_id.as_bytes());
    field(e.actor_name.as_bytes());
    field(e.source.as_bytes());
    field(e.payload.as_bytes());
    field(&e.at.to_le_bytes());
    hex::encode(h.finalize())
}

/// What kind of damage `verify` found at the first bad event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TamperKind {
    /// The row's content or position does not match its hash (edited, inserted or reordered).
    HashMismatch { seq: i64 },
    /// A sequence number is missing: an event was deleted (or renumbered).
    Gap { expected: i64, found: i64 },
    /// The newest events are missing, or events were appended outside remedybot.
    HeadMismatch { head_seq: i64, last_seq: i64 },
}

/// The result of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub events_checked: i64,
    pub head_seq: i64,
    pub head_hash: String,
    /// `None` when the chain is intact.
    pub problem: Option<TamperKind>,
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }

    /// A sentence naming the first bad event, or saying the chain is intact.
    pub fn describe(&self) -> String {
        match &self.problem {
            None => format!(
                "chain intact: {} events, head #{} {}",
                self.events_checked, self.head_seq, self.head_hash
            ),
            Some(TamperKind::HashMismatch { seq }) => format!(
                "TAMPERED: event #{seq} does not match its hash: it was edited, inserted, or moved \
                 (events before #{seq} are intact)"
            ),
            Some(TamperKind::Gap { expected, found }) => format!(
                "TAMPERED: event #{expected} is missing (next stored event is #{found}): events were deleted"
            ),
            Some(TamperKind::HeadMismatch { head_seq, last_seq }) => format!(
                "TAMPERED: the chain head says the last event is #{head_seq} but the log ends at #{last_seq}: \
                 events were deleted from the end or added outside remedybot"
            ),
        }
    }
}

/// Called every so many events while verifying a long chain.
pub type VerifyProgress<'a> = &'a mut (dyn FnMut(i64) + Send);

impl Store {
    /// Walk every event in order, recompute each hash, and compare with the head.
    pub async fn verify_chain(
        &self,
        mut progress: Option<VerifyProgress<'_>>,
    ) -> Result<ChainReport, StoreError> {
        let head = sqlx::query("SELECT seq, hash FROM chain_head WHERE id = 1")
            .fetch_one(self.pool())
            .await
            .ctx("reading the chain head")?;
        let head_seq: i64 = head.try_get(0).ctx("reading the chain head")?;
        let head_hash: String = head.try_get(1).ctx("reading the chain head")?;

        let mut rows = sqlx::query(
            "SELECT seq, finding_key, kind, actor_platform, actor_id, actor_name, source, payload, at, hash \
             FROM events ORDER BY seq",
        )
        .fetch(self.pool());
        let mut prev = GENESIS_HASH.to_string();
        let mut expected = 1i64;
        let mut checked = 0i64;
        let report = |checked, problem| ChainReport {
            events_checked: checked,
            head_seq,
            head_hash: head_hash.clone(),
            problem,
        };
        while let Some(row) = rows.try_next().await.ctx("reading events")? {
            let seq: i64 = row.try_get(0).ctx("reading events")?;
            if seq != expected {
                return Ok(report(
                    checked,
                    Some(TamperKind::Gap {
                        expected,
                        found: seq,
                    }),
                ));
            }
            let kind: String = row.try_get(2).ctx("reading events")?;
            let platform: String = row.try_get(3).ctx("reading events")?;
            let actor_id: String = row.try_get(4).ctx("reading events")?;
            let actor_name: String = row.try_get(5).ctx("reading events")?;
            let source: String = row.try_get(6).ctx("reading events")?;
            let payload: String = row.try_get(7).ctx("reading events")?;
            let stored: String = row.try_get(9).ctx("reading events")?;
            let fields = EventFields {
                seq,
                finding_key: row.try_get(1).ctx("reading events")?,
                kind: &kind,
                actor_platform: &platform,
                actor_id: &actor_id,
                actor_name: &actor_name,
                source: &source,
                payload: &payload,
                at: row.try_get(8).ctx("reading events")?,
            };
            let hash = event_hash(&prev, &fields);
            if hash != stored {
                return Ok(report(checked, Some(TamperKind::HashMismatch { seq })));
            }
            prev = hash;
            expected += 1;
            checked += 1;
            if checked % 10_000 == 0
                && let Some(p) = progress.as_mut()
            {
                p(checked);
            }
        }
        let last_seq = expected - 1;
        if last_seq != head_seq || prev != head_hash {
            return Ok(report(
                checked,
                Some(TamperKind::HeadMismatch { head_seq, last_seq }),
            ));
        }
        Ok(report(checked, None))
    }
}
