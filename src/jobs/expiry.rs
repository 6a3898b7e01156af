//! Reopen findings whose risk acceptance has expired, once a minute.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use crate::app::App;

const PERIOD: Duration = Duration::from_secs(60);

pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {
                match app.expire_acceptances(Utc::now()).await {
                    Ok(ids) if !ids.is_empty() => tracing::info!(count = ids.len(), "risk acceptances expired; findings reopened"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "risk-acceptance expiry check failed"),
                }
            }
        }
    }
}
