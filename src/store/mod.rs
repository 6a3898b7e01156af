//! Persistence with sqlx on SQLite (default) or PostgreSQL, one code path through the `Any`
//! driver. Owns: connecting and migrating, the hash-chained event log, the findings
//! projection, read queries. Must not decide workflow rules: callers pass in the changes
//! that [`crate::domain::decide`] produced.

mod chain;
mod drafts;
mod outbox;
mod read;
mod rows;
mod sql;
mod write;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use tokio::sync::Mutex;

use crate::config::DatabaseSettings;

pub use chain::{ChainReport, GENESIS_HASH, TamperKind, VerifyProgress};
pub use drafts::{DRAFT_TTL_HOURS, DraftKey};
pub use outbox::{ChatMessage, Claim, NewDelivery, OutboxDepth, QueuedDelivery};
pub use read::{FindingFilter, SeverityCount, StageCount, SummaryReport};
pub use rows::{FindingSummary, StoredEvent, StoredFinding};
pub use write::WriteTx;

/// Which database we talk to; only connection setup and migrations differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The store's one error type.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://...")]
    BadUrl(String),
    /// The database cannot be reached right now; callers answer 503 and retry later.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database schema is not migrated: {0}")]
    NotMigrated(String),
    #[error("database error while {context}: {source}")]
    Query {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Wrap a sqlx error, separating "cannot reach the database" from query failures.
    pub(crate) fn from_sqlx(context: &'static str, e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => StoreError::Unavailable(e),
            e if is_connection_lost(&e) => StoreError::Unavailable(e),
            source => StoreError::Query { context, source },
        }
    }

    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

fn is_connection_lost(e: &sqlx::Error) -> bool {
    let text = e.to_string();
    // SQLite's busy timeout ran out: another process holds the write lock.
    text.contains("database is locked")
        || text.contains("connection closed")
        || text.contains("Connection reset")
        || text.contains("terminating connection")
}

pub(crate) trait Ctx<T> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError>;
}

impl<T> Ctx<T> for Result<T, sqlx::Error> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::from_sqlx(context, e))
    }
}

/// A handle to the database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Serialises this process's writers before they queue on the database's own lock
    /// (SQLite's busy handler polls; a local queue is fairer and faster).
    write_lock: Arc<Mutex<()>>,
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Milliseconds since the epoch, the store's time format.
pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl Store {
    /// Connect (creating a SQLite file if needed). Does not migrate: see [`Store::migrate`].
    pub async fn connect(settings: &DatabaseSettings) -> Result<Store, StoreError> {
        install_default_drivers();
        let (backend, url) = normalise_url(&settings.url)?;
        let options = AnyPoolOptions::new()
            .max_connections(settings.max_connections)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
            .idle_timeout(Some(Duration::from_secs(600)));
        let options = match backend {
            Backend::Sqlite => options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON; \
                         PRAGMA mmap_size = 268435456; PRAGMA cache_size = -16384;",
                    )
                    .await?;
                    Ok(())
                })
            }),
            Backend::Postgres => options,
        };
        let pool = options.connect(&url).await.ctx("connecting")?;
        Ok(Store {
            pool,
            backend,
            write_lock: Arc::new(Mutex::new(())),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        }
    }

    /// Apply pending migrations. Safe to run concurrently from several replicas.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.migrator().run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(e) => StoreError::from_sqlx("migrating", e),
            other => StoreError::NotMigrated(other.to_string()),
        })
    }

    /// Ready means: reachable, and every migration this binary knows is applied.
    pub async fn ready(&self) -> Result<(), StoreError> {
        let applied: Vec<(i64,)> =
            sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = $1")
                .bind(true)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| match StoreError::from_sqlx("checking migrations", e) {
                    StoreError::Query { source, .. } => StoreError::NotMigrated(source.to_string()),
                    other => other,
                })?;
        for m in self.migrator().iter() {
            if !applied.iter().any(|(v,)| *v == m.version) {
                return Err(StoreError::NotMigrated(format!(
                    "migration {} ({}) is not applied; run `remedybot migrate`",
                    m.version, m.description
                )));
            }
        }
        Ok(())
    }

    /// Start a write: takes the chain lock, so appends from all writers form one chain.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let guard = self.write_lock.clone().lock_owned().await;
        WriteTx::begin(&self.pool, self.backend, guard).await
    }

    /// [`Store::begin_write`] for a caller that already holds the write lock
    /// ([`Store::local_write`]).
    pub(crate) async fn begin_write_locked(
        &self,
        guard: tokio::sync::OwnedMutexGuard<()>,
    ) -> Result<WriteTx, StoreError> {
        WriteTx::begin(&self.pool, self.backend, guard).await
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Queue behind this process's other writers before a write outside [`WriteTx`] (the
    /// outbox, inbound dedupe), so they take turns here instead of polling SQLite's busy
    /// handler, whose sleeps would add milliseconds to every contended write.
    pub(crate) async fn local_write(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.write_lock.clone().lock_owned().await
    }

    /// The raw pool, for tests that inspect or tamper with the database directly.
    #[doc(hidden)]
    pub fn pool_for_tests(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Work out the backend and make SQLite URLs create their file on first start.
fn normalise_url(url: &str) -> Result<(Backend, String), StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_string()));
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        if rest.contains(":memory:") || rest.contains("mode=") {
            return Ok((Backend::Sqlite, url.to_string()));
        }
        let sep = if rest.contains('?') { '&' } else { '?' };
        return Ok((Backend::Sqlite, format!("{url}{sep}mode=rwc")));
    }
    Err(StoreError::BadUrl(redact_url(url)))
}

/// A URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_their_file_and_others_are_refused() {
        assert_eq!(
            normalise_url("sqlite://x.db").unwrap().1,
            "sqlite://x.db?mode=rwc"
        );
        assert_eq!(
            normalise_url("sqlite://x.db?mode=ro").unwrap().1,
            "sqlite://x.db?mode=ro"
        );
        assert_eq!(
            normalise_url("postgres://h/db").unwrap().0,
            Backend::Postgres
        );
        let err = normalise_url("mysql://root:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
