//! Work a platform handler starts after answering (platforms want an answer within 3 s),
//! counted so that shutdown and tests can wait for it.

use std::future::Future;

use tokio::sync::watch;

/// A counter of running background tasks.
#[derive(Debug, Clone)]
pub struct Tasks(watch::Sender<usize>);

impl Default for Tasks {
    fn default() -> Self {
        Tasks(watch::Sender::new(0))
    }
}

impl Tasks {
    /// Run `work` in a background task, counted until it ends (or panics).
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        self.0.send_modify(|n| *n += 1);
        let tasks = self.0.clone();
        tokio::spawn(async move {
            // Decrements even if `work` panics, so `settle` cannot wait forever.
            let _done = Done(tasks);
            work.await;
        });
    }

    /// Wait until no task started by [`Tasks::spawn`] is running.
    pub async fn settle(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

struct Done(watch::Sender<usize>);

impl Drop for Done {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settle_waits_for_running_and_panicking_tasks() {
        let tasks = Tasks::default();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tasks.spawn(async move {
            let _ = rx.await;
        });
        tasks.spawn(async { panic!("a failing task still ends") });
        let settled = tokio::time::timeout(std::time::Duration::from_millis(50), tasks.settle());
        assert!(settled.await.is_err(), "one task is still waiting");
        tx.send(()).unwrap();
        tasks.settle().await;
    }
}
