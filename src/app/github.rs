//! Apply a GitHub alert delivery: ingest the finding it describes, then carry out what the
//! action means ([`Effect`]) through the workflow like any other command — a dismissal on
//! GitHub becomes a proposal that still needs remedybot's approvals, a fix becomes
//! verification evidence, a reopen a regression.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{App, AppError, Outcome};
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
}

impl App {
    pub async fn github_alert(
        &self,
        alert: Alert,
        now: DateTime<Utc>,
    ) -> Result<GitHubOutcome, AppError> {
        // A fix or a dismissal is news about a finding we know, not a new sighting: ingesting
        // it would count a closed finding as detected again. Only unknown alerts are ingested.
        let sighting = matches!(
            alert.effect,
            Effect::Detected | Effect::Reopened | Effect::Nothing
        );
        let known = self
            .store
            .finding_id(alert.finding.fingerprint.as_str())
            .await?;
        let (id, ingested) = match known {
            Some(id) if !sighting => (id, Outcome::Unchanged),
            _ => {
                let ingested = self
                    .ingest(vec![alert.finding.clone()], &alert.actor, Source::Api, now)
                    .await?;
                let item = ingested.findings.first().ok_or_else(|| {
                    crate::store::StoreError::Corrupt("ingest returned no finding".into())
                })?;
                (item.id, item.outcome)
            }
        };
        let evidence_link = alert.html_url.clone().unwrap_or_default();
        let command = match &alert.effect {
            Effect::Detected | Effect::Nothing => None,
            Effect::Fixed => Some(Command::RecordEvidence(Evidence {
                link: evidence_link,
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
        };
        let mut outcome = GitHubOutcome {
            event: alert.event.clone(),
            action: alert.action.clone(),
            finding: id,
            ingested,
            changes: Vec::new(),
            refused: None,
        };
        if let Some(command) = command {
            match self
                .execute(id, &command, &alert.actor, Source::Api, now)
                .await
            {
                Ok(done) => outcome.changes = done.changes.iter().map(|c| c.kind()).collect(),
                Err(AppError::Refused(r)) => outcome.refused = Some(r.to_string()),
                Err(e) => return Err(e),
            }
        }
        Ok(outcome)
    }
}
