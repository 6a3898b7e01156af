//! Run a workflow command against one finding, and the scheduled expiry of risk
//! acceptances.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::batch::Job;
use super::{App, AppError};
use crate::domain::finding::BadFindingId;
use crate::domain::{
    Actor, Change, Command, DecisionKind, Event, FindingId, FindingState, Policy, Refusal, Source,
    Stage, decide,
};
use crate::store::WriteTx;

/// A duplicate must name another existing finding; its id is written in canonical form.
async fn resolve_duplicate(
    tx: &mut WriteTx,
    id: FindingId,
    command: &Command,
) -> Result<Command, AppError> {
    let mut command = command.clone();
    let proposal = match &mut command {
        Command::Propose(p) => Some(p),
        Command::Triage { proposal, .. } => proposal.as_mut(),
        _ => None,
    };
    if let Some(p) = proposal
        && p.kind == DecisionKind::Duplicate
        && let Some(raw) = p.duplicate_of.as_deref().filter(|d| !d.trim().is_empty())
    {
        let original: FindingId = raw
            .parse()
            .map_err(|e: BadFindingId| Refusal::Invalid(e.to_string()))?;
        if original == id {
            return Err(Refusal::Invalid("a finding cannot duplicate itself".into()).into());
        }
        if tx.finding(original).await?.is_none() {
            return Err(Refusal::Invalid(format!("{original} does not exist")).into());
        }
        p.duplicate_of = Some(original.to_string());
    }
    Ok(command)
}

/// The finding after a command, and the changes it recorded.
#[derive(Debug, Clone)]
pub struct CommandOutcome {
    pub id: FindingId,
    pub state: FindingState,
    pub changes: Vec<Change>,
}

impl App {
    /// Decide and record one command. A refusal changes nothing. Concurrent commands are
    /// committed together (see `app::batch`); each caller gets its own outcome.
    #[tracing::instrument(skip_all, fields(finding.id = %id, actor = %actor.reference()))]
    pub async fn execute(
        &self,
        id: FindingId,
        command: &Command,
        actor: &Actor,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<CommandOutcome, AppError> {
        // Resolved before queueing: it may ask Slack, and writers queue on the chain.
        let groups = self.voter_groups(command, actor).await;
        self.execute_with_groups(id, command, actor, source, groups, now)
            .await
    }

    /// [`App::execute`] with the approver groups a vote is judged by given by the caller
    /// (`None`: the configured ones): for an adapter that knows memberships the request
    /// itself carries, like a Discord member's roles (see [`crate::domain::Policy::groups_with`]).
    pub async fn execute_with_groups(
        &self,
        id: FindingId,
        command: &Command,
        actor: &Actor,
        source: Source,
        groups: Option<BTreeMap<String, Vec<String>>>,
        now: DateTime<Utc>,
    ) -> Result<CommandOutcome, AppError> {
        self.execute_queued(Job {
            id,
            command: command.clone(),
            actor: actor.clone(),
            source,
            groups,
            now: super::stored_precision(now),
        })
        .await
    }

    /// [`App::execute`] inside the caller's transaction, under the policy of the finding's
    /// route (with the job's `groups`, when given, as its approver groups: see
    /// `voter_groups`); the caller commits and counts the changes. A refusal writes nothing,
    /// so the transaction stays usable.
    pub(super) async fn execute_in(
        &self,
        tx: &mut WriteTx,
        job: &Job,
    ) -> Result<CommandOutcome, AppError> {
        let (outcome, events) = self.decide_in(tx, job).await?;
        if !events.is_empty() {
            let refs: Vec<(FindingId, &Event)> = events.iter().map(|e| (job.id, e)).collect();
            self.record(tx, &refs, job.now).await?;
        }
        Ok(outcome)
    }

    /// Decide a command and save the finding's new state in the caller's transaction,
    /// returning the events for the caller to record (alone, or with a batch's others).
    pub(super) async fn decide_in(
        &self,
        tx: &mut WriteTx,
        job: &Job,
    ) -> Result<(CommandOutcome, Vec<Event>), AppError> {
        let Job {
            id,
            command,
            actor,
            source,
            groups,
            now,
        } = job;
        let (id, source, now) = (*id, *source, *now);
        let stored = tx.finding(id).await?.ok_or(AppError::NotFound(id))?;
        let command = &resolve_duplicate(tx, id, command).await?;
        let policy = self
            .settings
            .policy_for_route(stored.state.route.as_deref());
        let policy = match groups {
            Some(groups) => Cow::Owned(Policy {
                groups: groups.clone(),
                ..policy.clone()
            }),
            None => Cow::Borrowed(policy),
        };
        let changes = decide(&stored.state, command, actor, &policy, now)?;
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
        }
        Ok((CommandOutcome { id, state, changes }, events))
    }

    /// The approver groups a vote is judged by: groups that name Slack user groups list the
    /// voter by id when they belong (see `chat::slack::usergroups`). Groups are global, so
    /// this holds whichever policy the finding's route chooses. `None`: the configured
    /// groups as they are.
    async fn voter_groups(
        &self,
        command: &Command,
        actor: &Actor,
    ) -> Option<BTreeMap<String, Vec<String>>> {
        let slack = self.slack.as_ref()?;
        if !matches!(command, Command::Vote { .. }) {
            return None;
        }
        crate::chat::slack::usergroups::expand_for(
            &self.settings.policy,
            actor,
            &slack.api,
            &slack.usergroups,
        )
        .await
        .map(|p| p.groups)
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
