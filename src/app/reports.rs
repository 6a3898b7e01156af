//! Apply an input's status reports (AWS Security Hub marks a finding resolved or suppressed)
//! to the open findings they name, inside the ingest's transaction. A report never creates,
//! closes or reopens a finding: it records evidence or a comment, and approvals still decide.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{App, AppError};
use crate::domain::{Event, FindingId, Source, decide};
use crate::ingest::StatusReport;
use crate::store::WriteTx;

/// A status report that was recorded on a finding.
#[derive(Debug, Clone, Serialize)]
pub struct StatusUpdate {
    pub id: FindingId,
    pub fingerprint: String,
    /// The event recorded: `evidence_recorded` or `commented`.
    pub change: &'static str,
}

/// What applying a batch's reports did.
#[derive(Default)]
pub(super) struct Applied {
    pub updates: Vec<StatusUpdate>,
    /// Every open finding a report named, recorded or not: the scan saw them, so a full
    /// scan does not also call them missing.
    pub named: HashSet<FindingId>,
}

impl App {
    /// Record each report on the open finding with its fingerprint, once per status change:
    /// a report is skipped when the latest event its reporter recorded on the finding is the
    /// same kind (evidence again for a resolved one, a comment again for a suppressed one)
    /// and no scan has seen the finding open since. Unknown, closed and accepted findings
    /// are left alone.
    pub(super) async fn apply_reports(
        &self,
        tx: &mut WriteTx,
        reports: &[StatusReport],
        via: Source,
        now: DateTime<Utc>,
        events: &mut Vec<(FindingId, Event)>,
        kinds: &mut Vec<&'static str>,
    ) -> Result<Applied, AppError> {
        let mut applied = Applied::default();
        if reports.is_empty() {
            return Ok(applied);
        }
        let fps: Vec<&str> = reports.iter().map(|r| r.fingerprint.as_str()).collect();
        let mut existing = tx.findings_by_fingerprint(&fps).await?;
        drop(fps);
        for report in reports {
            let Some(stored) = existing.remove(report.fingerprint.as_str()) else {
                continue;
            };
            if !stored.state.is_open() {
                continue;
            }
            applied.named.insert(stored.id);
            let changes = match decide(
                &stored.state,
                &report.command,
                &report.actor,
                &self.settings.policy,
                now,
            ) {
                Ok(changes) => changes,
                Err(refusal) => {
                    tracing::debug!(finding.id = %stored.id, %refusal, "status report not recorded");
                    continue;
                }
            };
            let Some(kind) = changes.first().map(|c| c.kind()) else {
                continue;
            };
            if let Some((last, at)) = tx.latest_event_by(stored.id, &report.actor).await?
                && last == kind
                && at >= stored.last_seen
            {
                continue;
            }
            let mut state = stored.state;
            for change in changes {
                let e = Event {
                    change,
                    actor: report.actor.clone(),
                    source: via,
                    at: now,
                };
                state.apply(&e);
                kinds.push(e.change.kind());
                events.push((stored.id, e));
            }
            tx.save(stored.id, &state, now).await?;
            applied.updates.push(StatusUpdate {
                id: stored.id,
                fingerprint: report.fingerprint.as_str().to_string(),
                change: kind,
            });
        }
        Ok(applied)
    }
}
