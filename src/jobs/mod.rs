//! Background loops. Each one selects on the shutdown signal and exits when it fires.

mod expiry;
pub mod outbox;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::App;

/// Start every background job.
pub fn spawn(app: App, shutdown: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    vec![tokio::spawn(expiry::run(app, shutdown))]
}
