//! Run a workflow command against one finding, and the scheduled expiry of risk
//! acceptances.

use chrono::{DateTime, Utc};

use super::{App, AppError};
use crate::domain::{
    Actor, Change, Command, Event, FindingId, FindingState, Source, Stage, decide,
};

/// The finding after a command, and the changes it recorded.
#[derive(Debug, Clone)]
pub struct CommandOutcome {
    pub id: FindingId,
    pub state: FindingState,
    pub changes: Vec<Change>,
}

impl App {
    /// Decide and record one command. A refusal changes nothing.
    #[tracing::instrument(skip_all, fields(finding.id = %id, actor = %actor.reference()))]
    pub async fn execute(
        &self,
        id: FindingId,
        command: &Command,
        actor: &Actor,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<CommandOutcome, AppError> {
        let now = super::stored_precision(now);
        let mut tx = self.store.begin_write().await?;
        let stored = tx.finding(id).await?.ok_or(AppError::NotFound(id))?;
        let changes = decide(&stored.state, command, actor, &self.settings.policy, now)?;
        let mut state = stored.state;
        let events: Vec<Event> = changes
            .iter()
            .map(|c| Event {
                change: c.clone(),
                actor: actor.clone(),
                source,
                at: now,
            })
            .collect();
        for e in &events {
            state.apply(e);
        }
        if !events.is_empty() {
            tx.save(id, &state, now).await?;
            let refs: Vec<(FindingId, &Event)> = events.iter().map(|e| (id, e)).collect();
            tx.append(&refs).await?;
            tx.commit().await?;
        }
        for c in &changes {
            self.metrics.record_transition(c.kind());
        }
        Ok(CommandOutcome { id, state, changes })
    }

    /// Reopen every finding whose risk acceptance has run out. Returns the reopened ids.
    pub async fn expire_acceptances(&self, now: DateTime<Utc>) -> Result<Vec<FindingId>, AppError> {
        let filter = crate::store::FindingFilter {
            stage: Some(Stage::Accepted),
            ..Default::default()
        };
        let mut reopened = Vec::new();
        for f in self.store.list_findings(&filter).await? {
            match self
                .execute(
                    f.id,
                    &Command::ExpireAcceptance,
                    &Actor::system(),
                    Source::System,
                    now,
                )
                .await
            {
                Ok(_) => reopened.push(f.id),
                Err(AppError::Refused(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(reopened)
    }
}
