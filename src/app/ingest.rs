//! Ingest a batch: deduplicate by fingerprint, create new findings, record changes and
//! regressions for known ones, touch `last_seen` for the rest, and apply the input's status
//! reports (see `reports.rs`) — all in one transaction.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::reports::StatusUpdate;
use super::{App, AppError};
use crate::chat::delivery::{Platform, role};
use crate::config::MissingPolicy;
use crate::domain::{
    self, Actor, Change, Command, Event, Evidence, FindingId, FindingState, NewFinding, Source,
    decide,
};
use crate::ingest::StatusReport;
use crate::routing::suppress::Mode as SuppressionMode;
use crate::store::ChatMessage;

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
    /// Open findings a full scan no longer reported (see [`IngestOptions::full_scan`]).
    pub not_seen: Vec<FindingId>,
    /// Open findings the input's status reports were recorded on (AWS Security Hub marks
    /// them resolved or suppressed), in input order.
    pub status_updates: Vec<StatusUpdate>,
}

/// How to treat a batch.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// The batch is a complete scan: open findings of the same source and asset that it does
    /// not report are recorded as "not seen in latest scan" (per `[ingest]
    /// missing_in_full_scan`). Never a closure: approvals still decide.
    pub full_scan: bool,
    /// (source, asset) pairs the scan covered besides those of its findings — needed when a
    /// scan of a target found nothing at all.
    pub scope: Vec<(String, String)>,
    /// The chat message the batch was read from (an alert posted in a channel): recorded,
    /// in the batch's transaction, as the thread of every finding the batch *creates*, so
    /// their card is posted as a reply under it. Findings that already exist keep theirs.
    pub anchor: Option<(Platform, ChatMessage)>,
}

/// One full scan's scope, for [`App::record_missing`].
struct Scan<'a> {
    source: &'a str,
    asset: &'a str,
    actor: &'a Actor,
    via: Source,
    at: DateTime<Utc>,
}

/// New findings stored per round trip within the batch's transaction.
const NEW_CHUNK: usize = 1_000;

impl App {
    /// Record "not seen in latest scan" on the open findings of the scan's source and asset
    /// that it did not report, once per absence (a finding is marked until a scan sees it
    /// again). Findings in `reported` are left alone: the scan named them. Returns their ids.
    async fn record_missing(
        &self,
        tx: &mut crate::store::WriteTx,
        scan: &Scan<'_>,
        reported: &HashSet<FindingId>,
        events: &mut Vec<(FindingId, Event)>,
        kinds: &mut Vec<&'static str>,
    ) -> Result<Vec<FindingId>, AppError> {
        let text = format!(
            "not seen in the latest full scan by {} of {} ({})",
            scan.source,
            scan.asset,
            scan.at.format("%Y-%m-%d %H:%M UTC")
        );
        let command = match self.settings.missing_in_full_scan {
            MissingPolicy::Ignore => return Ok(Vec::new()),
            MissingPolicy::Evidence => Command::RecordEvidence(Evidence {
                link: String::new(),
                rescan_result: text,
            }),
            MissingPolicy::Comment => Command::Comment { text, link: None },
        };
        let mut ids = tx.unseen_in_scan(scan.source, scan.asset, scan.at).await?;
        ids.retain(|id| !reported.contains(id));
        for id in &ids {
            let stored = tx.finding(*id).await?.ok_or(AppError::NotFound(*id))?;
            let policy = self
                .settings
                .policy_for_route(stored.state.route.as_deref());
            let changes = decide(&stored.state, &command, scan.actor, policy, scan.at)?;
            let mut state = stored.state;
            for change in changes {
                let e = Event {
                    change,
                    actor: scan.actor.clone(),
                    source: scan.via,
                    at: scan.at,
                };
                state.apply(&e);
                kinds.push(e.change.kind());
                events.push((*id, e));
            }
            tx.save(*id, &state, scan.at).await?;
        }
        tx.mark_missing(&ids, scan.at).await?;
        Ok(ids)
    }

    /// Open, insert and record the `Created` events of the pending new findings; empties
    /// `pending` and returns their ids in order.
    async fn store_new(
        &self,
        tx: &mut crate::store::WriteTx,
        pending: &mut Vec<NewFinding>,
        event: &impl Fn(Change) -> Event,
        kinds: &mut Vec<&'static str>,
        now: DateTime<Utc>,
        openings: Option<&mut super::Openings>,
    ) -> Result<Vec<FindingId>, AppError> {
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        let router = &self.settings.router;
        let suppressions = &self.settings.suppressions;
        // Per finding: its `created` change, then what a suppression rule adds.
        let mut opened: Vec<(Change, Vec<Event>)> = Vec::with_capacity(pending.len());
        for mut f in pending.drain(..) {
            let mut route = None;
            if !router.is_empty() {
                // The input's own owner wins; otherwise the matching rule's.
                let routed = router.route(&f);
                if f.owner.is_none() {
                    f.owner = routed.owner;
                }
                route = routed.route;
            }
            let suppression = suppressions.matching(&f, now).cloned();
            // The route's policy sets the first due dates and judges what a suppression adds.
            let policy = self.settings.policy_for_route(route.as_deref());
            let created = domain::open_routed(f, route, policy, now);
            let mut extra = Vec::new();
            if let Some(s) = suppression {
                let state = FindingState::created(&created, now).ok_or_else(|| {
                    crate::store::StoreError::Corrupt("open() did not create".into())
                })?;
                let rule_actor = Actor::new(
                    "config",
                    &format!("suppressions/{}", s.name),
                    &format!("suppression rule {}", s.name),
                );
                let command = match s.mode {
                    SuppressionMode::Suppress => Command::Suppress {
                        rule: s.name.clone(),
                        owner: s.owner.clone(),
                        reason: s.reason.clone(),
                        until: s.until,
                    },
                    SuppressionMode::Monitor => Command::Comment {
                        text: format!(
                            "monitor: suppression rule `{}` would have suppressed this until {} (owner {}): {}",
                            s.name,
                            s.until.format("%Y-%m-%d"),
                            s.owner,
                            s.reason
                        ),
                        link: None,
                    },
                };
                for change in decide(&state, &command, &rule_actor, policy, now)? {
                    extra.push(Event {
                        change,
                        actor: rule_actor.clone(),
                        source: Source::System,
                        at: now,
                    });
                }
            }
            opened.push((created, extra));
        }
        let states = opened
            .iter()
            .map(|(c, extra)| {
                let mut state = FindingState::created(c, now)?;
                for e in extra {
                    state.apply(e);
                }
                Some(state)
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| crate::store::StoreError::Corrupt("open() did not create".into()))?;
        let ids = tx.insert_findings(&states, now).await?;
        drop(states);
        let mut events: Vec<(FindingId, Event)> = Vec::with_capacity(opened.len());
        for (id, (created, extra)) in ids.iter().copied().zip(opened) {
            events.push((id, event(created)));
            events.extend(extra.into_iter().map(|e| (id, e)));
        }
        kinds.extend(events.iter().map(|(_, e)| e.change.kind()));
        let refs: Vec<(FindingId, &Event)> = events.iter().map(|(id, e)| (*id, e)).collect();
        self.record_with(tx, &refs, now, openings).await?;
        Ok(ids)
    }

    /// Store a batch whole or not at all. Re-sending the same batch changes only
    /// `last_seen`/`times_seen`.
    pub async fn ingest(
        &self,
        findings: Vec<NewFinding>,
        actor: &Actor,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<IngestOutcome, AppError> {
        self.ingest_with(findings, &IngestOptions::default(), actor, source, now)
            .await
    }

    /// [`App::ingest`] with options.
    pub async fn ingest_with(
        &self,
        findings: Vec<NewFinding>,
        options: &IngestOptions,
        actor: &Actor,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<IngestOutcome, AppError> {
        self.ingest_reported(findings, &[], options, actor, source, now)
            .await
    }

    /// [`App::ingest_with`], also applying the input's status reports to the open findings
    /// they name (see [`App::apply_reports`]), in the same transaction.
    #[tracing::instrument(skip_all, fields(batch = findings.len(), reports = reports.len(), full_scan = options.full_scan))]
    pub async fn ingest_reported(
        &self,
        findings: Vec<NewFinding>,
        reports: &[StatusReport],
        options: &IngestOptions,
        actor: &Actor,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<IngestOutcome, AppError> {
        let now = super::stored_precision(now);
        let mut tx = self.store.begin_write().await?;
        let (result, kinds) = self
            .ingest_in(&mut tx, findings, reports, options, actor, source, now)
            .await?;
        tx.commit().await?;
        self.record_ingest_metrics(&result, &kinds);
        Ok(result)
    }

    /// Count a committed ingest in the metrics and the log.
    pub(super) fn record_ingest_metrics(&self, result: &IngestOutcome, kinds: &[&'static str]) {
        for o in [
            Outcome::Created,
            Outcome::Updated,
            Outcome::Unchanged,
            Outcome::Reopened,
        ] {
            let n = result.findings.iter().filter(|i| i.outcome == o).count();
            self.metrics.record_ingested(o.as_str(), n as u64);
        }
        for kind in kinds {
            self.metrics.record_transition(kind);
        }
        tracing::info!(
            created = result.created,
            updated = result.updated,
            unchanged = result.unchanged,
            reopened = result.reopened,
            status_updates = result.status_updates.len(),
            "ingested"
        );
    }

    /// The ingest inside the caller's transaction (which commits it, then calls
    /// [`App::record_ingest_metrics`] with the returned event kinds). `now` is already cut
    /// to stored precision.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn ingest_in(
        &self,
        tx: &mut crate::store::WriteTx,
        findings: Vec<NewFinding>,
        reports: &[StatusReport],
        options: &IngestOptions,
        actor: &Actor,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<(IngestOutcome, Vec<&'static str>), AppError> {
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

        let fps: Vec<&str> = order.iter().map(|f| f.fingerprint.as_str()).collect();
        let mut existing = tx.findings_by_fingerprint(&fps).await?;
        drop(fps);

        let mut result = IngestOutcome {
            received,
            ..IngestOutcome::default()
        };
        let mut kinds: Vec<&'static str> = Vec::new();
        let mut other_events: Vec<(FindingId, Event)> = Vec::new();
        let mut seen: Vec<FindingId> = Vec::new();
        // New findings are stored a chunk at a time, so a large batch never holds every
        // finding's state, event and JSON in memory at once.
        let mut pending: Vec<NewFinding> = Vec::with_capacity(NEW_CHUNK.min(order.len()));
        // New threads are judged per channel over the whole import (the flood guard); an
        // import read from an alert message opens its thread under that message instead.
        let mut openings = super::Openings::new(options.anchor.is_some());
        let mut created_ids: Vec<FindingId> = Vec::new();
        let event = |change: Change| Event {
            change,
            actor: actor.clone(),
            source,
            at: now,
        };

        let mut scope: BTreeSet<(String, String)> = options.scope.iter().cloned().collect();
        for f in order {
            if options.full_scan {
                scope.insert((f.source.clone(), f.asset.clone()));
            }
            let fingerprint = f.fingerprint.as_str().to_string();
            let Some(stored) = existing.remove(&fingerprint) else {
                result.findings.push(ItemOutcome {
                    id: FindingId::from_key(0), // filled in once the chunk is stored
                    fingerprint,
                    outcome: Outcome::Created,
                });
                pending.push(f);
                if pending.len() == NEW_CHUNK {
                    created_ids.extend(
                        self.store_new(
                            tx,
                            &mut pending,
                            &event,
                            &mut kinds,
                            now,
                            Some(&mut openings),
                        )
                        .await?,
                    );
                }
                continue;
            };
            let policy = self
                .settings
                .policy_for_route(stored.state.route.as_deref());
            let changes = decide(
                &stored.state,
                &Command::Observe(f.content()),
                actor,
                policy,
                now,
            )?;
            seen.push(stored.id);
            let outcome = if changes.is_empty() {
                Outcome::Unchanged
            } else if changes.iter().any(|c| matches!(c, Change::Reopened { .. })) {
                Outcome::Reopened
            } else {
                Outcome::Updated
            };
            if !changes.is_empty() {
                let mut state = stored.state;
                for c in changes {
                    let e = event(c);
                    state.apply(&e);
                    kinds.push(e.change.kind());
                    other_events.push((stored.id, e));
                }
                tx.save(stored.id, &state, now).await?;
            }
            result.findings.push(ItemOutcome {
                id: stored.id,
                fingerprint,
                outcome,
            });
        }
        created_ids.extend(
            self.store_new(
                tx,
                &mut pending,
                &event,
                &mut kinds,
                now,
                Some(&mut openings),
            )
            .await?,
        );
        if let Some((platform, message)) = &options.anchor {
            for id in &created_ids {
                tx.set_chat_message(platform.as_str(), *id, role::THREAD, message)
                    .await?;
            }
        }
        tx.touch_seen(&seen, now).await?;
        let applied = self
            .apply_reports(tx, reports, source, now, &mut other_events, &mut kinds)
            .await?;
        result.status_updates = applied.updates;
        if options.full_scan {
            for (src, asset) in &scope {
                let scan = Scan {
                    source: src,
                    asset,
                    actor,
                    via: source,
                    at: now,
                };
                let missing = self
                    .record_missing(tx, &scan, &applied.named, &mut other_events, &mut kinds)
                    .await?;
                result.not_seen.extend(missing);
            }
        }
        let refs: Vec<(FindingId, &Event)> = other_events.iter().map(|(id, e)| (*id, e)).collect();
        self.record(tx, &refs, now).await?;
        self.open_threads(tx, openings, now).await?;

        let mut created_ids = created_ids.into_iter();
        for item in &mut result.findings {
            match item.outcome {
                Outcome::Created => {
                    result.created += 1;
                    item.id = created_ids.next().ok_or_else(|| {
                        crate::store::StoreError::Corrupt("missing new id".into())
                    })?;
                }
                Outcome::Updated => result.updated += 1,
                Outcome::Unchanged => result.unchanged += 1,
                Outcome::Reopened => result.reopened += 1,
            }
        }
        Ok((result, kinds))
    }
}
