//! What chat is told about recorded events, queued in the same transaction (the outbox),
//! and the noise control that decides which new findings get a thread of their own:
//! a route's `thread_severities`, and the flood guard (`[chat] flood_threshold`) that
//! turns one import's many new threads in a channel into one summary message whose thread
//! carries the batch.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{App, AppError};
use crate::chat::delivery::{self, Delivery, Platform, role};
use crate::domain::{Change, Event, FindingId, Source};
use crate::store::{ChatMessage, NewDelivery, WriteTx};

/// New findings of one import waiting for their threads, so the whole import can be judged
/// per channel before anything is queued (ingest stores new findings a chunk at a time).
#[derive(Debug, Default)]
pub struct Openings {
    pending: Vec<Opening>,
    /// The import was read from a chat message that is already its findings' thread (see
    /// `IngestOptions::anchor`): their cards go under it, whatever the routes say.
    anchored: bool,
}

impl Openings {
    pub fn new(anchored: bool) -> Openings {
        Openings {
            pending: Vec::new(),
            anchored,
        }
    }
}

#[derive(Debug)]
struct Opening {
    platform: Platform,
    finding: FindingId,
    channel: String,
    /// What else this finding's events asked for, queued after its thread opens.
    rest: Vec<Delivery>,
}

impl App {
    /// Append events to the trail and queue what chat should be told about them, in the
    /// caller's transaction. Returns the events' sequence numbers.
    pub(crate) async fn record(
        &self,
        tx: &mut WriteTx,
        events: &[(FindingId, &Event)],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, AppError> {
        self.record_with(tx, events, now, None).await
    }

    /// [`App::record`], collecting new findings' threads in `openings` (when given) for
    /// [`App::open_threads`] instead of queueing them at once.
    pub(crate) async fn record_with(
        &self,
        tx: &mut WriteTx,
        events: &[(FindingId, &Event)],
        now: DateTime<Utc>,
        mut openings: Option<&mut Openings>,
    ) -> Result<Vec<i64>, AppError> {
        let seqs = tx.append(events).await?;
        let platforms = self.chat_platforms();
        if platforms.is_empty() || events.is_empty() {
            return Ok(seqs);
        }
        // Group by finding, keeping event order within each finding.
        let mut order: Vec<FindingId> = Vec::new();
        let mut by_finding: HashMap<FindingId, Vec<(i64, &Change, Source)>> = HashMap::new();
        for ((id, e), seq) in events.iter().zip(&seqs) {
            by_finding
                .entry(*id)
                .or_insert_with(|| {
                    order.push(*id);
                    Vec::new()
                })
                .push((*seq, &e.change, e.source));
        }
        let mut queued = Vec::new();
        for id in order {
            let changes = &by_finding[&id];
            let planned = delivery::plan(changes);
            for platform in &platforms {
                let mut items = planned.clone();
                let anchored = openings.as_deref().is_some_and(|o| o.anchored);
                if items.first() == Some(&Delivery::OpenThread) && !anchored {
                    let Some(channel) = created_home(self, *platform, changes) else {
                        // No thread on this platform (severity not threaded, no channel):
                        // the finding is tracked, not posted.
                        continue;
                    };
                    if let Some(o) = openings.as_deref_mut() {
                        items.remove(0);
                        o.pending.push(Opening {
                            platform: *platform,
                            finding: id,
                            channel,
                            rest: items,
                        });
                        continue;
                    }
                }
                queued.extend(items.iter().map(|d| NewDelivery {
                    platform: platform.as_str(),
                    finding: id,
                    delivery: d.to_json(),
                    coalesce: d.is_refresh(),
                }));
            }
        }
        self.enqueue(tx, &queued, now).await?;
        Ok(seqs)
    }

    /// Queue the collected new threads: one thread per finding, or — where one channel
    /// would get more than `[chat] flood_threshold` — one summary message for them whose
    /// thread the batch's findings share.
    pub(crate) async fn open_threads(
        &self,
        tx: &mut WriteTx,
        openings: Openings,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let threshold = self.settings.chat.flood_threshold;
        let mut groups: Vec<((Platform, String), Vec<Opening>)> = Vec::new();
        for o in openings.pending {
            let key = (o.platform, o.channel.clone());
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, list)) => list.push(o),
                None => groups.push((key, vec![o])),
            }
        }
        let mut queued = Vec::new();
        for ((platform, channel), list) in groups {
            let p = platform.as_str();
            let flood = threshold > 0 && list.len() > threshold;
            if flood {
                let first = list[0].finding;
                // Until the summary is posted its findings' messages wait (see the
                // deliverer); the token names this batch's pending rows.
                let token = format!("pending:{}:{}", now.timestamp_millis(), first.key());
                let pending = ChatMessage {
                    channel: channel.clone(),
                    message_ref: token.clone(),
                };
                let ids: Vec<FindingId> = list.iter().map(|o| o.finding).collect();
                tx.set_chat_messages(p, role::BATCH, &ids, &pending).await?;
                queued.push(NewDelivery {
                    platform: p,
                    finding: first,
                    delivery: Delivery::Batch {
                        token,
                        findings: ids.iter().map(|id| id.key()).collect(),
                    }
                    .to_json(),
                    coalesce: false,
                });
                tracing::info!(
                    platform = p,
                    channel,
                    findings = ids.len(),
                    threshold,
                    "flood guard: one summary instead of a thread per finding"
                );
            }
            for o in list {
                if !flood {
                    queued.push(NewDelivery {
                        platform: p,
                        finding: o.finding,
                        delivery: Delivery::OpenThread.to_json(),
                        coalesce: false,
                    });
                }
                queued.extend(o.rest.iter().map(|d| NewDelivery {
                    platform: p,
                    finding: o.finding,
                    delivery: d.to_json(),
                    coalesce: d.is_refresh(),
                }));
            }
        }
        self.enqueue(tx, &queued, now).await
    }

    async fn enqueue(
        &self,
        tx: &mut WriteTx,
        queued: &[NewDelivery],
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        if queued.is_empty() {
            return Ok(());
        }
        tx.enqueue(queued, now).await?;
        for platform in [Platform::Slack, Platform::Discord] {
            if queued.iter().any(|q| q.platform == platform.as_str()) {
                self.outbox_signal.of(platform).notify_one();
            }
        }
        Ok(())
    }
}

/// The channel a just-created finding's thread opens in on `platform`, if it gets one.
fn created_home(
    app: &App,
    platform: Platform,
    changes: &[(i64, &Change, Source)],
) -> Option<String> {
    changes.iter().find_map(|(_, c, _)| match c {
        Change::Created { finding, route, .. } => {
            delivery::thread_home(&app.settings, platform, finding.severity, route.as_deref())
        }
        _ => None,
    })
}
