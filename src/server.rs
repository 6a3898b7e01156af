//! Startup as a library function: connect, migrate, serve HTTP on a given listener, run the
//! background jobs, and stop cleanly when the shutdown future resolves (in-flight requests
//! finish first).

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;
use crate::config::Settings;
use crate::store::{Store, redact_url};

/// Connect to the database from settings and apply migrations.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let store = Store::connect(&settings.database)
        .await
        .with_context(|| format!("opening database {}", redact_url(&settings.database.url)))?;
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

/// Fail with a clear message when a SQLite URL names a file that does not exist.
pub fn require_existing_sqlite(url: &str) -> anyhow::Result<()> {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Ok(());
    };
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.contains(":memory:") || std::path::Path::new(path).exists() {
        return Ok(());
    }
    anyhow::bail!(
        "database file {path} does not exist: check REMEDYBOT_DATABASE_URL or --database-url \
         (`remedybot migrate`, `ingest` and `serve` create it)"
    )
}

/// A running server: where it listens and how to wait for it.
pub struct Running {
    pub addr: SocketAddr,
    pub handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Serve `app` on `listener` until `shutdown` resolves. Returns once the server has stopped.
pub async fn serve(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let jobs = crate::jobs::spawn(app.clone(), stop_rx.clone())?;
    let router = crate::http::router(app.clone());
    let mut http_stop = stop_rx;
    let result = axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = stop_tx.send(true);
            let _ = http_stop.changed().await;
        })
        .await
        .context("serving HTTP");
    for job in jobs {
        let _ = job.await;
    }
    // Chat events are answered before they are handled: finish handling them.
    if let Some(slack) = &app.slack {
        slack.settle().await;
    }
    if let Some(discord) = &app.discord {
        discord.settle().await;
    }
    app.store.close().await;
    tracing::info!("stopped");
    result
}

/// Bind `listen`, then [`serve`] in a task. For `remedybot serve` and for tests (port 0).
pub async fn start(
    app: App,
    listen: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, database = app.store.backend().name(), "remedybot listening");
    let handle = tokio::spawn(serve(app, listener, shutdown));
    Ok(Running { addr, handle })
}
