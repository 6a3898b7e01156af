//! Test harness: fresh databases (a SQLite temp file always; PostgreSQL when reachable),
//! the real app on port 0, and helpers. PostgreSQL tests skip loudly when the server is
//! not reachable, and fail instead when REMEDYBOT_REQUIRE_POSTGRES=1 (CI sets it).
#![allow(dead_code)]

pub mod fake_discord;
pub mod fake_slack;
pub mod slack_ui;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use remedybot::app::App;
use remedybot::config::{DatabaseSettings, Secret, Settings};
use remedybot::domain::{Fingerprint, NewFinding, Severity};
use remedybot::store::Store;
use sqlx::Connection;
use tokio::sync::oneshot;

pub const TOKEN: &str = "test-token-0123456789";

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh, empty database for one test.
pub struct TestDb {
    pub url: String,
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("remedybot.db").display());
        TestDb {
            url,
            backend: "sqlite",
            _dir: Some(dir),
            pg_name: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` (with a loud message) when PostgreSQL is not
    /// reachable and not required.
    pub async fn postgres() -> Option<TestDb> {
        static N: AtomicU32 = AtomicU32::new(0);
        let admin =
            std::env::var("REMEDYBOT_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG.to_string());
        let required = std::env::var("REMEDYBOT_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
        let mut conn = match sqlx::PgConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) => {
                if required {
                    panic!(
                        "PostgreSQL is required (REMEDYBOT_REQUIRE_POSTGRES=1) but {admin} is not reachable: {e}"
                    );
                }
                eprintln!(
                    "\n*** SKIPPED: PostgreSQL tests — {admin} is not reachable ({e}). Set REMEDYBOT_TEST_POSTGRES_URL or start PostgreSQL. ***\n"
                );
                return None;
            }
        };
        let name = format!(
            "rb_test_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            Utc::now().timestamp_micros() % 1_000_000
        );
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        Some(TestDb {
            url: format!("{base}/{name}"),
            backend: "postgres",
            _dir: None,
            pg_name: Some(name),
        })
    }

    /// SQLite always, PostgreSQL when available.
    pub async fn all() -> Vec<TestDb> {
        let mut v = vec![TestDb::sqlite()];
        v.extend(TestDb::postgres().await);
        v
    }

    pub fn settings(&self) -> Settings {
        let mut settings = Settings {
            database: DatabaseSettings {
                url: self.url.clone(),
                max_connections: 8,
                acquire_timeout_secs: 2,
            },
            ingest_token: Some(Secret::new(TOKEN)),
            ..Settings::default()
        };
        // Slack's workspace-wide edit pace (50 a minute) would make every test that edits
        // a card wait; the fakes do not limit edits. `slack_outbox` tests the pacing itself.
        settings.slack.edits_per_minute = 60_000.0;
        settings
    }

    pub async fn app(&self) -> App {
        self.app_with(self.settings()).await
    }

    pub async fn app_with(&self, settings: Settings) -> App {
        let store = remedybot::server::open_store(&settings)
            .await
            .expect("open store");
        App::new(settings, store)
    }

    /// A raw store connection for tampering and inspection.
    pub async fn raw(&self) -> Store {
        Store::connect(&self.settings().database)
            .await
            .expect("raw store")
    }

    /// Drop the PostgreSQL database (SQLite temp dirs go away by themselves).
    pub async fn cleanup(self) {
        if let Some(name) = &self.pg_name {
            let admin = std::env::var("REMEDYBOT_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| DEFAULT_PG.to_string());
            if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await;
            }
        }
    }
}

/// The app served over real HTTP on a loopback port.
pub struct TestServer {
    pub addr: SocketAddr,
    pub app: App,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    pub async fn start(app: App) -> TestServer {
        let (stop, stopped) = oneshot::channel::<()>();
        let running = remedybot::server::start(app.clone(), "127.0.0.1:0", async move {
            let _ = stopped.await;
        })
        .await
        .expect("start server");
        TestServer {
            addr: running.addr,
            app,
            http: reqwest::Client::new(),
            stop: Some(stop),
            handle: Some(running.handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(TOKEN)
    }

    pub fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body)
    }

    /// Ask for a graceful shutdown and wait for the server to stop.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.expect("server task").expect("server result");
        }
    }
}

pub fn finding(i: usize, severity: Severity) -> NewFinding {
    let source = "semgrep".to_string();
    let rule_id = format!("rule-{}", i % 7);
    let asset = format!("service-{}", i % 5);
    let location = format!("src/file_{i}.py:{}", i % 100);
    NewFinding {
        fingerprint: Fingerprint::derive(&source, &rule_id, &asset, &location),
        source,
        rule_id,
        title: format!("Finding number {i}"),
        description: "A realistic description of a problem.".into(),
        severity,
        asset,
        location,
        tags: vec!["test".into()],
        references: vec![],
        owner: Some("slack:owner".into()),
    }
}

/// The generic JSON for `n` findings, as a client would POST it.
pub fn generic_json(n: usize) -> String {
    const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];
    let items: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "source": "semgrep",
                "rule_id": format!("rule-{}", i % 7),
                "title": format!("Finding number {i}"),
                "severity": SEVERITIES[i % 5],
                "asset": format!("service-{}", i % 5),
                "location": format!("src/file_{i}.py:{}", i % 100),
            })
        })
        .collect();
    serde_json::to_string(&items).unwrap()
}

pub fn ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Wait (up to 20 s) until the chat outbox has nothing pending or being sent, and assert
/// that no message was parked as undeliverable.
pub async fn outbox_drained(app: &App) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let depth = app.store.outbox_depth().await.expect("outbox depth");
        if depth.pending == 0 && depth.sending == 0 {
            assert_eq!(depth.dead, 0, "no message may be parked");
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "outbox not drained: {depth:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
