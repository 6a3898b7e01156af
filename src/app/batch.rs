//! Group commit for workflow commands. Chat clicks arrive in bursts (a dozen approvers
//! answering the same request) and each is a small write transaction; SQLite runs one
//! writer at a time, so per-transaction overhead (begin, chain head, commit, waking the
//! next waiting writer) was most of the cost of a click.
//!
//! Commands wait in one queue. Whoever gets the process's write lock takes everything
//! queued and runs it in ONE transaction: each command is decided against the state the
//! previous ones left (same transaction), and all their events are appended and their
//! chat messages queued together. Everyone gets their own outcome once it is committed;
//! a refusal writes nothing and does not disturb the others. If the batch fails as a
//! whole (a database error), each command is retried in a transaction of its own, so one
//! bad command cannot fail its neighbours.
//!
//! The batch runs in a task of its own: a caller that goes away (an HTTP client hanging
//! up) cannot cancel a commit that others are waiting for.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use tokio::sync::{OwnedMutexGuard, oneshot};

use super::commands::CommandOutcome;
use super::{App, AppError};
use crate::domain::{Actor, Command, Event, FindingId, Source};
use crate::store::StoreError;

/// Most commands in one transaction: bounds how long the write lock is held.
const MAX_BATCH: usize = 256;

/// One command to run (see `App::execute`).
pub(crate) struct Job {
    pub id: FindingId,
    pub command: Command,
    pub actor: Actor,
    pub source: Source,
    pub groups: Option<BTreeMap<String, Vec<String>>>,
    pub now: DateTime<Utc>,
}

/// A queued command and where its outcome goes.
struct Queued {
    job: Job,
    reply: oneshot::Sender<Result<CommandOutcome, AppError>>,
}

/// The commands waiting for the write lock.
#[derive(Default)]
pub(crate) struct CommandQueue(Mutex<Vec<Queued>>);

impl std::fmt::Debug for CommandQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CommandQueue({} waiting)", self.lock().len())
    }
}

impl CommandQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Queued>> {
        // A panic while holding this lock cannot leave the Vec half-changed.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, q: Queued) {
        self.lock().push(q);
    }

    fn take(&self) -> Vec<Queued> {
        let mut queue = self.lock();
        let n = queue.len().min(MAX_BATCH);
        queue.drain(..n).collect()
    }
}

impl App {
    /// Queue a command and wait for its committed outcome, running the queue if this caller
    /// gets the write lock first.
    pub(super) async fn execute_queued(&self, job: Job) -> Result<CommandOutcome, AppError> {
        let (reply, mut answer) = oneshot::channel();
        self.commands.push(Queued { job, reply });
        loop {
            let guard = tokio::select! {
                biased;
                outcome = &mut answer => return outcome.unwrap_or_else(|_| Err(lost())),
                guard = self.store.local_write() => guard,
            };
            let batch = self.commands.take();
            if batch.is_empty() {
                // Ours was taken by the previous holder, whose answer is on its way.
                drop(guard);
                return answer.await.unwrap_or_else(|_| Err(lost()));
            }
            let app = self.clone();
            let run = tokio::spawn(async move { app.run_batch(guard, batch).await });
            // The batch answers everyone in it; a panic drops the senders (`lost`).
            let _ = run.await;
            if let Ok(outcome) = answer.try_recv() {
                return outcome;
            }
            // Ours is still queued (the batch was full): go round again.
        }
    }

    /// Run a batch and answer everyone in it before letting the next writer in (a caller
    /// woken by the lock would otherwise find its command already taken and wait again).
    async fn run_batch(&self, guard: OwnedMutexGuard<()>, batch: Vec<Queued>) {
        if batch.len() == 1 {
            let mut batch = batch;
            let q = batch.pop().expect("one command");
            let (outcome, _guard) = self.run_alone(guard, &q.job).await;
            self.answer(q, outcome);
            return;
        }
        tracing::debug!(commands = batch.len(), "committing commands together");
        match self.run_together(guard, &batch).await {
            Ok((outcomes, _guard)) => {
                for (q, outcome) in batch.into_iter().zip(outcomes) {
                    self.answer(q, outcome);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, commands = batch.len(),
                    "a batch of commands failed; running each on its own");
                for q in batch {
                    let guard = self.store.local_write().await;
                    let (outcome, _guard) = self.run_alone(guard, &q.job).await;
                    self.answer(q, outcome);
                }
            }
        }
    }

    /// One command in its own transaction; the write lock comes back unless it failed.
    async fn run_alone(
        &self,
        guard: OwnedMutexGuard<()>,
        job: &Job,
    ) -> (
        Result<CommandOutcome, AppError>,
        Option<OwnedMutexGuard<()>>,
    ) {
        let run = async {
            let mut tx = self.store.begin_write_locked(guard).await?;
            let outcome = self.execute_in(&mut tx, job).await?;
            let guard = if outcome.changes.is_empty() {
                None // nothing written: the transaction is dropped, the lock released
            } else {
                Some(tx.commit_holding_lock().await?)
            };
            Ok::<_, AppError>((outcome, guard))
        };
        match run.await {
            Ok((outcome, guard)) => (Ok(outcome), guard),
            Err(e) => (Err(e), None),
        }
    }

    /// Every command in one transaction. `Err` only for a failure of the batch as a whole
    /// (nothing is committed then); refusals are per command.
    async fn run_together(
        &self,
        guard: OwnedMutexGuard<()>,
        batch: &[Queued],
    ) -> Result<
        (
            Vec<Result<CommandOutcome, AppError>>,
            Option<OwnedMutexGuard<()>>,
        ),
        StoreError,
    > {
        let mut tx = self.store.begin_write_locked(guard).await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut events: Vec<(FindingId, Event)> = Vec::new();
        for Queued { job, .. } in batch {
            let decided = self.decide_in(&mut tx, job).await;
            match decided {
                Ok((outcome, new)) => {
                    events.extend(new.into_iter().map(|e| (job.id, e)));
                    outcomes.push(Ok(outcome));
                }
                Err(AppError::Store(e)) => return Err(e),
                Err(refused) => outcomes.push(Err(refused)),
            }
        }
        if events.is_empty() {
            return Ok((outcomes, None));
        }
        let refs: Vec<(FindingId, &Event)> = events.iter().map(|(id, e)| (*id, e)).collect();
        let now = batch
            .iter()
            .map(|q| q.job.now)
            .max()
            .unwrap_or_else(Utc::now);
        match self.record(&mut tx, &refs, now).await {
            Ok(_) => {}
            Err(AppError::Store(e)) => return Err(e),
            Err(other) => {
                return Err(StoreError::Corrupt(format!(
                    "recording a batch of commands: {other}"
                )));
            }
        }
        let guard = tx.commit_holding_lock().await?;
        Ok((outcomes, Some(guard)))
    }

    fn answer(&self, q: Queued, outcome: Result<CommandOutcome, AppError>) {
        if let Ok(o) = &outcome {
            for c in &o.changes {
                self.metrics.record_transition(c.kind());
            }
        }
        // The caller may have gone away; the outcome is committed either way.
        let _ = q.reply.send(outcome);
    }
}

/// The batch holding this command died before answering (a panic): nothing is known of
/// its outcome.
fn lost() -> AppError {
    AppError::Store(StoreError::Corrupt(
        "the command's batch ended without an answer; check the finding's trail".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_hands_out_at_most_a_batch_at_a_time() {
        let queue = CommandQueue::default();
        let mut answers = Vec::new();
        for i in 0..(MAX_BATCH + 3) {
            let (reply, answer) = oneshot::channel();
            answers.push(answer);
            let job = Job {
                id: FindingId::from_key(i as i64 + 1),
                command: Command::Acknowledge,
                actor: Actor::system(),
                source: Source::System,
                groups: None,
                now: Utc::now(),
            };
            queue.push(Queued { job, reply });
        }
        assert_eq!(queue.take().len(), MAX_BATCH);
        assert_eq!(queue.take().len(), 3);
        assert!(queue.take().is_empty());
    }
}
