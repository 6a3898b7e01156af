//! Drafts: answers to a workflow prompt kept between the steps of a form that is filled in
//! over several platform dialogs (Discord modals hold five inputs), by platform user,
//! finding and prompt. Stored in the database, not in memory, so the next step may reach
//! another replica. A draft is not a decision: nothing here touches the trail, and drafts
//! untouched for [`DRAFT_TTL_HOURS`] are pruned.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sqlx::Row;

use super::{Ctx, Store, StoreError, to_ms};
use crate::domain::FindingId;

/// How long an untouched draft is kept.
pub const DRAFT_TTL_HOURS: i64 = 24;

/// Whose draft of which prompt about which finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DraftKey<'a> {
    pub platform: &'a str,
    pub user_id: &'a str,
    pub finding: FindingId,
    /// The prompt's key (`triage`, `rca`, …).
    pub prompt: &'a str,
}

fn cutoff(now: DateTime<Utc>) -> i64 {
    to_ms(now - Duration::hours(DRAFT_TTL_HOURS))
}

impl Store {
    /// The answers kept for `key`, if any were saved in the last day.
    pub async fn draft(
        &self,
        key: DraftKey<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<BTreeMap<String, String>>, StoreError> {
        const CTX: &str = "reading a prompt draft";
        let row = sqlx::query(
            "SELECT answers FROM prompt_drafts WHERE platform = $1 AND user_id = $2 \
               AND finding_key = $3 AND prompt = $4 AND updated_at >= $5",
        )
        .bind(key.platform)
        .bind(key.user_id)
        .bind(key.finding.key())
        .bind(key.prompt)
        .bind(cutoff(now))
        .fetch_optional(self.pool())
        .await
        .ctx(CTX)?;
        let Some(row) = row else { return Ok(None) };
        let text: String = row.try_get(0).ctx(CTX)?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("prompt draft answers: {e}")))
    }

    /// Keep `answers` for `key` (replacing what was kept), and prune stale drafts.
    pub async fn save_draft(
        &self,
        key: DraftKey<'_>,
        answers: &BTreeMap<String, String>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const CTX: &str = "saving a prompt draft";
        let text = serde_json::to_string(answers)
            .map_err(|e| StoreError::Corrupt(format!("prompt draft answers: {e}")))?;
        let _turn = self.local_write().await;
        let mut tx = self.pool().begin().await.ctx(CTX)?;
        sqlx::query("DELETE FROM prompt_drafts WHERE updated_at < $1")
            .bind(cutoff(now))
            .execute(&mut *tx)
            .await
            .ctx(CTX)?;
        sqlx::query(
            "INSERT INTO prompt_drafts (platform, user_id, finding_key, prompt, answers, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (platform, user_id, finding_key, prompt) \
             DO UPDATE SET answers = excluded.answers, updated_at = excluded.updated_at",
        )
        .bind(key.platform)
        .bind(key.user_id)
        .bind(key.finding.key())
        .bind(key.prompt)
        .bind(text)
        .bind(to_ms(now))
        .execute(&mut *tx)
        .await
        .ctx(CTX)?;
        tx.commit().await.ctx(CTX)?;
        Ok(())
    }

    /// Forget the draft for `key` (its command was recorded).
    pub async fn delete_draft(&self, key: DraftKey<'_>) -> Result<(), StoreError> {
        let _turn = self.local_write().await;
        sqlx::query(
            "DELETE FROM prompt_drafts WHERE platform = $1 AND user_id = $2 \
               AND finding_key = $3 AND prompt = $4",
        )
        .bind(key.platform)
        .bind(key.user_id)
        .bind(key.finding.key())
        .bind(key.prompt)
        .execute(self.pool())
        .await
        .ctx("deleting a prompt draft")?;
        Ok(())
    }
}
