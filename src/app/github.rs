//! Apply a GitHub alert delivery: ingest the finding it describes, then carry out what the
//! action means ([`Effect`]) through the workflow like any other command — a dismissal on
//! GitHub becomes a proposal that still needs remedybot's approvals, a fix becomes
//! verification evidence, a reopen a regression. The ingest, the command and the record of
//! the delivery id are one transaction, so a redelivery is handled once.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::batch::Job;
use super::{App, AppError, IngestOptions, Outcome};
use crate::domain::{Command, Evidence, FindingId, Proposal, Source};
use crate::ingest::github::{Alert, Effect};

/// What a delivery did.
#[derive(Debug, Clone, Serialize)]
pub struct GitHubOutcome {
    pub event: String,
    pub action: String,
    pub finding: FindingId,
    /// What ingesting the alert did (created, unchanged, …).
    pub ingested: Outcome,
    /// The workflow change the action led to, if any (event kinds).
    pub changes: Vec<&'static str>,
    /// Why the workflow refused the action's command, if it did (e.g. already open).
    pub refused: Option<String>,
    /// The delivery id (`X-GitHub-Delivery`) was handled before: nothing was recorded.
    pub duplicate: bool,
}

/// Inbound dedupe records GitHub deliveries under this platform name.
const PLATFORM: &str = "github";

impl App {
    /// Apply one alert delivery in one transaction, together with the record of its
    /// delivery id: a redelivery (same id) records nothing and is reported as a duplicate,
    /// and a failed delivery leaves no record, so GitHub's next attempt is processed.
    #[tracing::instrument(skip_all, fields(github.event = %alert.event, github.action = %alert.action))]
    pub async fn github_alert(
        &self,
        alert: Alert,
        delivery: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<GitHubOutcome, AppError> {
        let now = super::stored_precision(now);
        let fingerprint = alert.finding.fingerprint.as_str().to_string();
        let mut tx = self.store.begin_write().await?;
        let first = match delivery {
            Some(d) => tx.first_delivery(PLATFORM, d, now).await?,
            None => true,
        };
        let known = tx
            .findings_by_fingerprint(&[fingerprint.as_str()])
            .await?
            .remove(&fingerprint)
            .map(|f| f.id);
        let mut outcome = GitHubOutcome {
            event: alert.event.clone(),
            action: alert.action.clone(),
            finding: FindingId::from_key(0),
            ingested: Outcome::Unchanged,
            changes: Vec::new(),
            refused: None,
            duplicate: !first,
        };
        if !first {
            // Dropping the transaction rolls it back; it wrote nothing.
            outcome.finding = known.ok_or_else(|| {
                crate::store::StoreError::Corrupt(
                    "a handled GitHub delivery left no finding".into(),
                )
            })?;
            tracing::info!(delivery, "GitHub redelivery ignored");
            return Ok(outcome);
        }
        // A fix or a dismissal is news about a finding we know, not a new sighting: ingesting
        // it would count a closed finding as detected again. Only unknown alerts are ingested.
        let sighting = matches!(
            alert.effect,
            Effect::Detected | Effect::Reopened | Effect::Nothing
        );
        let mut ingest = None;
        outcome.finding = match known {
            Some(id) if !sighting => id,
            _ => {
                let (ingested, kinds) = self
                    .ingest_in(
                        &mut tx,
                        vec![alert.finding.clone()],
                        &[],
                        &IngestOptions::default(),
                        &alert.actor,
                        Source::Api,
                        now,
                    )
                    .await?;
                let item = ingested.findings.first().ok_or_else(|| {
                    crate::store::StoreError::Corrupt("ingest returned no finding".into())
                })?;
                outcome.ingested = item.outcome;
                let id = item.id;
                ingest = Some((ingested, kinds));
                id
            }
        };
        if let Some(command) = command(&alert) {
            match self
                .execute_in(
                    &mut tx,
                    &Job {
                        id: outcome.finding,
                        command,
                        actor: alert.actor.clone(),
                        source: Source::Api,
                        groups: None,
                        now,
                    },
                )
                .await
            {
                Ok(done) => outcome.changes = done.changes.iter().map(|c| c.kind()).collect(),
                Err(AppError::Refused(r)) => outcome.refused = Some(r.to_string()),
                Err(e) => return Err(e),
            }
        }
        tx.commit().await?;
        if let Some((ingested, kinds)) = &ingest {
            self.record_ingest_metrics(ingested, kinds);
        }
        for kind in &outcome.changes {
            self.metrics.record_transition(kind);
        }
        Ok(outcome)
    }
}

/// The workflow command an alert's action means, if any.
fn command(alert: &Alert) -> Option<Command> {
    match &alert.effect {
        Effect::Detected | Effect::Nothing => None,
        Effect::Fixed => Some(Command::RecordEvidence(Evidence {
            link: alert.html_url.clone().unwrap_or_default(),
            rescan_result: format!(
                "GitHub reports the alert fixed ({} {})",
                alert.event, alert.action
            ),
        })),
        Effect::Reopened => Some(Command::Reopen),
        Effect::Dismissed { kind, reason } => Some(Command::Propose(Proposal {
            kind: *kind,
            reason: reason.clone(),
            duplicate_of: None,
            until: None,
            compensating_controls: String::new(),
        })),
    }
}
