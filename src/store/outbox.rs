//! The chat outbox, the messages kept per finding, and inbound dedupe.
//!
//! Rows are written by [`WriteTx::enqueue`] in the transaction that records the events they
//! report, so a message is queued exactly when its change is stored. Delivery is claimed
//! row by row with a compare-and-set on `state` (works on SQLite and across PostgreSQL
//! replicas alike); the claim carries a lease, and a claim taken over after its lease ran
//! out is marked *in doubt*: the previous sender may have crashed after the platform
//! accepted the message, so the deliverer reconciles before sending again.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::sql::Sql;
use super::write::WriteTx;
use super::{Ctx, Store, StoreError, to_ms};
use crate::domain::FindingId;

/// Columns bound per outbox row.
const OUTBOX_BINDS: usize = 6;

/// A message to queue for one platform and finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub platform: &'static str,
    pub finding: FindingId,
    /// The platform-neutral delivery as JSON.
    pub delivery: String,
    /// An edit rendered from the finding's state when it is sent: not queued again while
    /// an identical one waits, unclaimed, in the finding's lane (that one will show this
    /// change too).
    pub coalesce: bool,
}

/// A queued message as the worker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedDelivery {
    pub id: i64,
    pub platform: String,
    pub finding: FindingId,
    pub delivery: String,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
}

/// A claimed message: the worker owns it until `lease_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub item: QueuedDelivery,
    /// A previous claim expired: the message may already have been delivered.
    pub in_doubt: bool,
}

/// A message remedybot keeps per finding on one platform (see `chat_messages`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub channel: String,
    pub message_ref: String,
}

/// Counts of queued messages by state, for `/metrics` and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxDepth {
    pub pending: i64,
    pub sending: i64,
    pub dead: i64,
}

fn lane(platform: &str, finding: FindingId) -> String {
    format!("{platform}:{}", finding.key())
}

/// Records an inbound event id unless it is already there.
const RECORD_INBOUND: &str = "INSERT INTO inbound_events (platform, event_id, received_at) \
     VALUES ($1, $2, $3) ON CONFLICT (platform, event_id) DO NOTHING";

impl WriteTx {
    /// [`Store::first_delivery`] in this transaction: the id is kept exactly if the
    /// transaction commits, so an effect and its dedupe record are stored together. A
    /// concurrent transaction recording the same id waits for this one and then gets `false`.
    pub async fn first_delivery(
        &mut self,
        platform: &str,
        event_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(RECORD_INBOUND)
            .bind(platform)
            .bind(event_id)
            .bind(to_ms(now))
            .execute(self.conn())
            .await
            .ctx("recording an inbound event")?;
        Ok(done.rows_affected() == 1)
    }

    /// Queue messages in this transaction: they exist exactly if the transaction commits.
    pub async fn enqueue(
        &mut self,
        items: &[NewDelivery],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let waiting = self.waiting(items).await?;
        let items: Vec<&NewDelivery> = items
            .iter()
            .filter(|i| {
                !(i.coalesce
                    && waiting.contains(&(lane(i.platform, i.finding), i.delivery.clone())))
            })
            .collect();
        let rows = self.rows_per_statement(OUTBOX_BINDS);
        for chunk in items.chunks(rows) {
            let mut q = Sql::new(
                self.backend(),
                "INSERT INTO outbox (platform, finding_key, lane, delivery, state, not_before, created_at) VALUES ",
            );
            for (i, item) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                q.bind(item.platform)
                    .push(", ")
                    .bind(item.finding.key())
                    .push(", ")
                    .bind(lane(item.platform, item.finding))
                    .push(", ")
                    .bind(item.delivery.as_str())
                    .push(", 'pending', ")
                    .bind(to_ms(now))
                    .push(", ")
                    .bind(to_ms(now))
                    .push(")");
            }
            q.build()
                .execute(self.conn())
                .await
                .ctx("queueing chat messages")?;
        }
        Ok(())
    }

    /// The coalescible items that already have an identical, unclaimed message waiting in
    /// their lane, as (lane, delivery). On PostgreSQL those rows stay locked until this
    /// transaction ends, so a worker cannot claim (and render) one before the change it
    /// will now also show is committed; SQLite's single writer gives the same order.
    async fn waiting(
        &mut self,
        items: &[NewDelivery],
    ) -> Result<std::collections::HashSet<(String, String)>, StoreError> {
        let mut found = std::collections::HashSet::new();
        let wanted: Vec<&NewDelivery> = items.iter().filter(|i| i.coalesce).collect();
        let per = self.rows_per_statement(2);
        for chunk in wanted.chunks(per.max(1)) {
            let mut q = Sql::new(
                self.backend(),
                "SELECT lane, delivery FROM outbox WHERE state = 'pending' AND (",
            );
            for (i, item) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(lane = " } else { " OR (lane = " });
                q.bind(lane(item.platform, item.finding))
                    .push(" AND delivery = ")
                    .bind(item.delivery.as_str())
                    .push(")");
            }
            q.push(")");
            if self.backend() == super::Backend::Postgres {
                q.push(" FOR UPDATE");
            }
            for row in q
                .build()
                .fetch_all(self.conn())
                .await
                .ctx("checking the outbox")?
            {
                found.insert((
                    row.try_get(0).ctx("checking the outbox")?,
                    row.try_get(1).ctx("checking the outbox")?,
                ));
            }
        }
        Ok(found)
    }

    /// Record the message a thread hangs under when it already exists (an alert message a
    /// finding was extracted from), before the finding's first delivery runs.
    pub async fn set_chat_message(
        &mut self,
        platform: &str,
        finding: FindingId,
        role: &str,
        message: &ChatMessage,
    ) -> Result<(), StoreError> {
        upsert_chat_message(self.conn(), platform, finding, role, message).await
    }

    /// The same message with `role` for many findings (a flood summary they share).
    pub async fn set_chat_messages(
        &mut self,
        platform: &str,
        role: &str,
        findings: &[FindingId],
        message: &ChatMessage,
    ) -> Result<(), StoreError> {
        let rows = self.rows_per_statement(5);
        for chunk in findings.chunks(rows) {
            let mut q = Sql::new(
                self.backend(),
                "INSERT INTO chat_messages (platform, finding_key, role, channel, message_ref) VALUES ",
            );
            for (i, id) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                q.bind(platform)
                    .push(", ")
                    .bind(id.key())
                    .push(", ")
                    .bind(role)
                    .push(", ")
                    .bind(message.channel.as_str())
                    .push(", ")
                    .bind(message.message_ref.as_str())
                    .push(")");
            }
            q.push(
                " ON CONFLICT (platform, finding_key, role) DO UPDATE \
                 SET channel = excluded.channel, message_ref = excluded.message_ref",
            );
            q.build()
                .execute(self.conn())
                .await
                .ctx("recording chat messages")?;
        }
        Ok(())
    }
}

async fn upsert_chat_message<'c, E>(
    conn: E,
    platform: &str,
    finding: FindingId,
    role: &str,
    message: &ChatMessage,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO chat_messages (platform, finding_key, role, channel, message_ref) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (platform, finding_key, role) \
         DO UPDATE SET channel = excluded.channel, message_ref = excluded.message_ref",
    )
    .bind(platform)
    .bind(finding.key())
    .bind(role)
    .bind(message.channel.as_str())
    .bind(message.message_ref.as_str())
    .execute(conn)
    .await
    .ctx("recording a chat message")?;
    Ok(())
}

fn queued_from_row(row: &sqlx::any::AnyRow) -> Result<QueuedDelivery, StoreError> {
    const C: &str = "reading the outbox";
    Ok(QueuedDelivery {
        id: row.try_get(0).ctx(C)?,
        platform: row.try_get(1).ctx(C)?,
        finding: FindingId::from_key(row.try_get(2).ctx(C)?),
        delivery: row.try_get(3).ctx(C)?,
        attempts: row.try_get(4).ctx(C)?,
        created_at: super::from_ms(row.try_get(5).ctx(C)?),
    })
}

impl Store {
    /// Messages ready to send on `platform`: due, not dead, and first in their lane (an
    /// earlier message of the same finding still queued holds the later ones back). A row
    /// being sent under a live lease is not returned; one whose lease expired is.
    pub async fn due_deliveries(
        &self,
        platform: &str,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<QueuedDelivery>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.id, o.platform, o.finding_key, o.delivery, o.attempts, o.created_at \
             FROM outbox o \
             WHERE o.platform = $1 AND o.not_before <= $2 \
               AND (o.state = 'pending' OR (o.state = 'sending' AND o.lease_until < $2)) \
               AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.lane = o.lane AND p.id < o.id) \
             ORDER BY o.id LIMIT $3",
        )
        .bind(platform)
        .bind(to_ms(now))
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .ctx("reading due chat messages")?;
        rows.iter().map(queued_from_row).collect()
    }

    /// Take a message for sending until `lease_until`. `None` if another worker has it.
    pub async fn claim_delivery(
        &self,
        id: i64,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<Claim>, StoreError> {
        let _turn = self.local_write().await;
        let row = sqlx::query(
            "UPDATE outbox SET state = 'sending', lease_until = $1, attempts = attempts + 1, \
               in_doubt = CASE WHEN state = 'sending' OR in_doubt = 1 THEN 1 ELSE 0 END \
             WHERE id = $2 AND not_before <= $3 \
               AND (state = 'pending' OR (state = 'sending' AND lease_until < $3)) \
             RETURNING id, platform, finding_key, delivery, attempts, created_at, in_doubt",
        )
        .bind(to_ms(lease_until))
        .bind(id)
        .bind(to_ms(now))
        .fetch_optional(self.pool())
        .await
        .ctx("claiming a chat message")?;
        let Some(row) = row else { return Ok(None) };
        let in_doubt: i64 = row.try_get(6).ctx("claiming a chat message")?;
        Ok(Some(Claim {
            item: queued_from_row(&row)?,
            in_doubt: in_doubt != 0,
        }))
    }

    /// The message is on the platform: drop it from the queue and remember the message it
    /// created, in one transaction.
    pub async fn delivered(
        &self,
        id: i64,
        platform: &str,
        finding: FindingId,
        created: &[(&str, ChatMessage)],
    ) -> Result<(), StoreError> {
        let _turn = self.local_write().await;
        let mut tx = self.pool().begin().await.ctx("recording a delivery")?;
        for (role, message) in created {
            upsert_chat_message(&mut *tx, platform, finding, role, message).await?;
        }
        sqlx::query("DELETE FROM outbox WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .ctx("recording a delivery")?;
        tx.commit().await.ctx("recording a delivery")?;
        Ok(())
    }

    /// Put a claimed message back to be tried again at `not_before`. `counts` is false for
    /// a rate-limit wait, which is not a failed attempt; `maybe_sent` when the platform may
    /// have the message already (the next claim is then in doubt and reconciles).
    pub async fn retry_delivery(
        &self,
        id: i64,
        not_before: DateTime<Utc>,
        error: &str,
        counts: bool,
        maybe_sent: bool,
    ) -> Result<(), StoreError> {
        let _turn = self.local_write().await;
        sqlx::query(
            "UPDATE outbox SET state = 'pending', lease_until = NULL, not_before = $1, \
               last_error = $2, attempts = attempts - $3, \
               in_doubt = CASE WHEN in_doubt = 1 OR $4 = 1 THEN 1 ELSE 0 END WHERE id = $5",
        )
        .bind(to_ms(not_before))
        .bind(error)
        .bind(if counts { 0_i64 } else { 1 })
        .bind(i64::from(maybe_sent))
        .bind(id)
        .execute(self.pool())
        .await
        .ctx("rescheduling a chat message")?;
        Ok(())
    }

    /// Give up on a message the platform refuses for good (a deleted channel, a bad
    /// request). It stays in the table, visible in `/metrics`, and no longer holds back
    /// its lane.
    pub async fn dead_delivery(&self, id: i64, error: &str) -> Result<(), StoreError> {
        let _turn = self.local_write().await;
        let mut tx = self.pool().begin().await.ctx("parking a chat message")?;
        // A dead row keeps its data but leaves the lane, so later messages can go.
        sqlx::query(
            "UPDATE outbox SET state = 'dead', lease_until = NULL, last_error = $1, \
               lane = lane || ':dead:' || CAST(id AS TEXT) WHERE id = $2",
        )
        .bind(error)
        .bind(id)
        .execute(&mut *tx)
        .await
        .ctx("parking a chat message")?;
        tx.commit().await.ctx("parking a chat message")?;
        Ok(())
    }

    /// Drop a claimed message that no longer needs sending (superseded by a later one).
    pub async fn drop_delivery(&self, id: i64) -> Result<(), StoreError> {
        let _turn = self.local_write().await;
        sqlx::query("DELETE FROM outbox WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await
            .ctx("dropping a chat message")?;
        Ok(())
    }

    /// Whether a later message with the same delivery text is queued in this message's lane
    /// (a later refresh of the same message makes this one redundant).
    pub async fn superseded(&self, item: &QueuedDelivery) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM outbox WHERE lane = $1 AND id > $2 AND delivery = $3 \
               AND state = 'pending'",
        )
        .bind(lane(&item.platform, item.finding))
        .bind(item.id)
        .bind(item.delivery.as_str())
        .fetch_one(self.pool())
        .await
        .ctx("checking the outbox")?;
        let n: i64 = row.try_get(0).ctx("checking the outbox")?;
        Ok(n > 0)
    }

    /// Queue depth by state.
    pub async fn outbox_depth(&self) -> Result<OutboxDepth, StoreError> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM outbox GROUP BY state")
            .fetch_all(self.pool())
            .await
            .ctx("counting the outbox")?;
        let mut depth = OutboxDepth::default();
        for row in rows {
            let state: String = row.try_get(0).ctx("counting the outbox")?;
            let n: i64 = row.try_get(1).ctx("counting the outbox")?;
            match state.as_str() {
                "pending" => depth.pending = n,
                "sending" => depth.sending = n,
                _ => depth.dead += n,
            }
        }
        Ok(depth)
    }

    /// The message with `role` kept for a finding on a platform.
    pub async fn chat_message(
        &self,
        platform: &str,
        finding: FindingId,
        role: &str,
    ) -> Result<Option<ChatMessage>, StoreError> {
        let row = sqlx::query(
            "SELECT channel, message_ref FROM chat_messages \
             WHERE platform = $1 AND finding_key = $2 AND role = $3",
        )
        .bind(platform)
        .bind(finding.key())
        .bind(role)
        .fetch_optional(self.pool())
        .await
        .ctx("reading a chat message")?;
        row.map(|r| {
            Ok(ChatMessage {
                channel: r.try_get(0).ctx("reading a chat message")?,
                message_ref: r.try_get(1).ctx("reading a chat message")?,
            })
        })
        .transpose()
    }

    /// A flood summary was posted: every finding waiting on `token` now shares `posted`.
    pub async fn resolve_batch(
        &self,
        platform: &str,
        token: &str,
        posted: &ChatMessage,
    ) -> Result<u64, StoreError> {
        let _turn = self.local_write().await;
        let done = sqlx::query(
            "UPDATE chat_messages SET channel = $1, message_ref = $2 \
             WHERE platform = $3 AND role = 'batch' AND message_ref = $4",
        )
        .bind(posted.channel.as_str())
        .bind(posted.message_ref.as_str())
        .bind(platform)
        .bind(token)
        .execute(self.pool())
        .await
        .ctx("recording a flood summary")?;
        Ok(done.rows_affected())
    }

    /// The finding whose thread hangs under this message, if any.
    pub async fn finding_by_thread(
        &self,
        platform: &str,
        channel: &str,
        message_ref: &str,
    ) -> Result<Option<FindingId>, StoreError> {
        let row = sqlx::query(
            "SELECT finding_key FROM chat_messages WHERE platform = $1 AND channel = $2 \
               AND message_ref = $3 AND role = 'thread'",
        )
        .bind(platform)
        .bind(channel)
        .bind(message_ref)
        .fetch_optional(self.pool())
        .await
        .ctx("finding a thread")?;
        row.map(|r| {
            r.try_get(0)
                .ctx("finding a thread")
                .map(FindingId::from_key)
        })
        .transpose()
    }

    /// The finding whose thread is message `message_ref`, by the message alone (Discord:
    /// a thread's channel id is its root message's id, and ids are unique).
    pub async fn finding_by_thread_ref(
        &self,
        platform: &str,
        message_ref: &str,
    ) -> Result<Option<FindingId>, StoreError> {
        let row = sqlx::query(
            "SELECT finding_key FROM chat_messages WHERE platform = $1 AND message_ref = $2 \
               AND role = 'thread'",
        )
        .bind(platform)
        .bind(message_ref)
        .fetch_optional(self.pool())
        .await
        .ctx("finding a thread")?;
        row.map(|r| {
            r.try_get(0)
                .ctx("finding a thread")
                .map(FindingId::from_key)
        })
        .transpose()
    }

    /// The channels findings' threads live in on a platform, by finding.
    pub async fn thread_channels(
        &self,
        platform: &str,
        findings: &[FindingId],
    ) -> Result<std::collections::HashMap<FindingId, String>, StoreError> {
        let mut out = std::collections::HashMap::new();
        for chunk in findings.chunks(Sql::max_params(self.backend()) - 2) {
            let mut q = Sql::new(
                self.backend(),
                "SELECT finding_key, channel FROM chat_messages WHERE role = 'thread' AND platform = ",
            );
            q.bind(platform)
                .push(" AND finding_key IN ")
                .bind_list(chunk.iter().map(|f| f.key()));
            for row in q
                .build()
                .fetch_all(self.pool())
                .await
                .ctx("reading thread channels")?
            {
                let key: i64 = row.try_get(0).ctx("reading thread channels")?;
                let channel: String = row.try_get(1).ctx("reading thread channels")?;
                out.insert(FindingId::from_key(key), channel);
            }
        }
        Ok(out)
    }

    /// Record an inbound platform event id. `true` the first time, `false` for a retry or a
    /// second replica receiving the same event.
    pub async fn first_delivery(
        &self,
        platform: &str,
        event_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let _turn = self.local_write().await;
        let done = sqlx::query(RECORD_INBOUND)
            .bind(platform)
            .bind(event_id)
            .bind(to_ms(now))
            .execute(self.pool())
            .await
            .ctx("recording an inbound event")?;
        Ok(done.rows_affected() == 1)
    }

    /// Forget inbound event ids older than `before` (platforms retry within minutes).
    pub async fn prune_inbound(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let _turn = self.local_write().await;
        let done = sqlx::query("DELETE FROM inbound_events WHERE received_at < $1")
            .bind(to_ms(before))
            .execute(self.pool())
            .await
            .ctx("pruning inbound events")?;
        Ok(done.rows_affected())
    }
}
