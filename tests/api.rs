//! The HTTP API through the real router on a loopback port, against real databases.

mod common;

use common::{TOKEN, TestDb, TestServer, generic_json};
use serde_json::Value;

#[tokio::test]
async fn ingest_then_read_back_through_every_route() {
    for db in TestDb::all().await {
        let server = TestServer::start(db.app().await).await;
        let resp = server
            .post("/api/v1/findings", generic_json(20))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{}", db.backend);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["created"], 20);
        assert_eq!(body["findings"].as_array().unwrap().len(), 20);
        let id = body["findings"][0]["id"].as_str().unwrap().to_string();
        assert_eq!(id, "F-1");

        let again: Value = server
            .post("/api/v1/findings", generic_json(20))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (again["created"].as_u64(), again["unchanged"].as_u64()),
            (Some(0), Some(20))
        );

        let list: Value = server
            .get("/api/v1/findings?severity=critical")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let rows = list["findings"].as_array().unwrap();
        assert_eq!(rows.len(), 4);
        assert!(rows.iter().all(|r| r["severity"] == "critical"));
        let paged: Value = server
            .get("/api/v1/findings?limit=5&offset=5")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(paged["findings"].as_array().unwrap().len(), 5);
        let overdue: Value = server
            .get("/api/v1/findings?overdue=true")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(overdue["findings"].as_array().unwrap().len(), 0);

        let one: Value = server
            .get(&format!("/api/v1/findings/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(one["id"], "F-1");
        assert_eq!(one["stage"], "new");
        assert_eq!(one["times_seen"], 2);
        assert_eq!(one["overdue"], false);

        let trail: Value = server
            .get(&format!("/api/v1/findings/{id}/trail"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let events = trail["events"].as_array().unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["kind"], "created");
        assert_eq!(events[0]["actor"]["platform"], "api");
        assert_eq!(events[0]["payload"]["finding"]["rule_id"], "rule-0");

        let summary: Value = server
            .get("/api/v1/reports/summary")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(summary["total"], 20);
        assert_eq!(summary["overdue"], 0);

        assert_eq!(
            server
                .get("/api/v1/findings/F-999")
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        assert_eq!(
            server
                .get("/api/v1/findings/G-1/trail")
                .send()
                .await
                .unwrap()
                .status(),
            400
        );
        let bad_stage = server
            .get("/api/v1/findings?stage=done")
            .send()
            .await
            .unwrap();
        assert_eq!(bad_stage.status(), 400);
        assert!(bad_stage.text().await.unwrap().contains("new, triage, rca"));
        server.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn requests_without_the_right_token_get_401_and_change_nothing() {
    let db = TestDb::sqlite();
    let server = TestServer::start(db.app().await).await;
    let url = server.url("/api/v1/findings");
    let none = server
        .http
        .post(&url)
        .body(generic_json(1))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let wrong = server
        .http
        .post(&url)
        .bearer_auth("test-token-0123456780")
        .body(generic_json(1))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let prefix = server
        .http
        .post(&url)
        .bearer_auth(&TOKEN[..10])
        .body(generic_json(1))
        .send()
        .await
        .unwrap();
    assert_eq!(prefix.status(), 401);
    let basic = server
        .http
        .post(&url)
        .basic_auth("x", Some(TOKEN))
        .body(generic_json(1))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    assert_eq!(server.http.get(&url).send().await.unwrap().status(), 401);
    let summary = server.app.store.summary(chrono::Utc::now()).await.unwrap();
    assert_eq!(summary.total, 0);
    server.stop().await;
}

#[tokio::test]
async fn without_a_configured_token_the_api_is_closed() {
    let db = TestDb::sqlite();
    let mut settings = db.settings();
    settings.ingest_token = None;
    let server = TestServer::start(db.app_with(settings).await).await;
    let resp = server
        .post("/api/v1/findings", generic_json(1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    server.stop().await;
}

#[tokio::test]
async fn bad_bodies_get_400_with_the_reason_and_store_nothing() {
    let db = TestDb::sqlite();
    let server = TestServer::start(db.app().await).await;

    let malformed = server
        .post("/api/v1/findings", "[\n  {\"source\": \"x\",,}]")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert_eq!(body["position"]["line"], 2);
    assert_eq!(body["position"]["column"], 18);
    assert_eq!(body["format"], "JSON");
    let unknown = server
        .post("/api/v1/findings", "{\"hello\": 1}")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    let text = unknown.text().await.unwrap();
    assert!(text.contains("not recognised"), "{text}");

    let mut items: Vec<Value> = serde_json::from_str(&generic_json(3)).unwrap();
    items[2]["severity"] = "urgent".into();
    let resp = server
        .post("/api/v1/findings", serde_json::to_string(&items).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    let msg = body["error"].as_str().unwrap();
    assert!(msg.contains("[2].severity"), "{msg}");
    assert!(
        msg.contains("expected one of: critical, high, medium, low, info"),
        "{msg}"
    );

    let truncated = generic_json(3);
    let resp = server
        .post(
            "/api/v1/findings",
            truncated[..truncated.len() - 10].to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    let resp = server
        .post("/api/v1/findings?format=sarif", generic_json(1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    let empty = server.post("/api/v1/findings", "").send().await.unwrap();
    assert_eq!(empty.status(), 200);
    assert_eq!(empty.json::<Value>().await.unwrap()["received"], 0);

    assert_eq!(
        server
            .app
            .store
            .summary(chrono::Utc::now())
            .await
            .unwrap()
            .total,
        0
    );
    server.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413() {
    let db = TestDb::sqlite();
    let mut settings = db.settings();
    settings.body_limit_bytes = 4096;
    settings.ingest_body_limit_bytes = 4096;
    let server = TestServer::start(db.app_with(settings).await).await;
    let resp = server
        .post("/api/v1/findings", generic_json(200))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("4096"));
    assert_eq!(
        server
            .app
            .store
            .summary(chrono::Utc::now())
            .await
            .unwrap()
            .total,
        0
    );
    server.stop().await;
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let db = TestDb::sqlite();
    let server = TestServer::start(db.app().await).await;
    let health = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready: Value = server
        .http
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    server
        .post("/api/v1/findings", generic_json(3))
        .send()
        .await
        .unwrap();
    server.http.get(server.url("/nope")).send().await.unwrap();
    let text = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("remedybot_http_requests_total{method=\"POST\",route=\"/api/v1/findings\",status=\"200\"} 1"), "{text}");
    assert!(
        text.contains(
            "remedybot_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("remedybot_http_request_duration_seconds_count{route=\"/readyz\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("remedybot_findings_ingested_total{outcome=\"created\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("remedybot_transitions_total{kind=\"created\"} 3"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn readyz_is_503_before_migrations_and_200_after() {
    let db = TestDb::sqlite();
    let raw = db.raw().await; // connected, not migrated
    let app = remedybot::app::App::new(db.settings(), raw.clone());
    let server = TestServer::start(app).await;
    let resp = server.http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "5");
    raw.migrate().await.unwrap();
    assert_eq!(
        server
            .http
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_ingest_finish() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = TestDb::sqlite();
    let server = TestServer::start(db.app().await).await;
    let body = generic_json(500);
    let (head, tail) = body.split_at(body.len() / 2);
    let mut conn = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let request = format!(
        "POST /api/v1/findings HTTP/1.1\r\nhost: test\r\nauthorization: Bearer {TOKEN}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.flush().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    // The request is half-sent: shut down now; the server must wait for it.
    let stopping = tokio::spawn(server.stop());
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        !stopping.is_finished(),
        "the server stopped with a request in flight"
    );
    conn.write_all(tail.as_bytes()).await.unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"created\":500"), "{response}");
    stopping.await.unwrap();
    // The server closed its pool on the way out; look with a fresh connection.
    assert_eq!(
        db.raw()
            .await
            .summary(chrono::Utc::now())
            .await
            .unwrap()
            .total,
        500
    );
}

/// A TCP proxy in front of PostgreSQL that the test can cut and restore, to take the
/// database away from a running server.
struct Proxy {
    addr: std::net::SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    async fn start(addr: std::net::SocketAddr, upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    break;
                };
                let upstream = upstream.clone();
                conns.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Proxy {
            addr,
            task: Some(task),
        }
    }

    /// Close the listener and every proxied connection.
    fn cut(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

#[tokio::test]
async fn with_the_database_down_readyz_and_ingest_answer_503_and_recover() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let url = url_parts(&db.url);
    let mut proxy = Proxy::start("127.0.0.1:0".parse().unwrap(), url.host_port.clone()).await;
    let mut settings = db.settings();
    settings.database.url = format!("postgres://{}@{}/{}", url.user, proxy.addr, url.database);
    settings.database.acquire_timeout_secs = 1;
    let server = TestServer::start(db.app_with(settings).await).await;
    assert_eq!(
        server
            .post("/api/v1/findings", generic_json(5))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    proxy.cut();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let ready = server.http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let ingest = server
        .post("/api/v1/findings", generic_json(8))
        .send()
        .await
        .unwrap();
    assert_eq!(ingest.status(), 503);
    assert_eq!(ingest.headers()["retry-after"], "5");
    assert!(
        ingest
            .text()
            .await
            .unwrap()
            .contains("database is unavailable")
    );

    let _proxy = Proxy::start(proxy.addr, url.host_port.clone()).await;
    let mut recovered = false;
    for _ in 0..50 {
        if server
            .http
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            == 200
        {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered, "readyz did not recover");
    let body: Value = server
        .post("/api/v1/findings", generic_json(8))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (body["created"].as_u64(), body["unchanged"].as_u64()),
        (Some(3), Some(5))
    );
    server.stop().await;
    db.cleanup().await;
}

struct UrlParts {
    user: String,
    host_port: String,
    database: String,
}

/// Split postgres://user@host:port/db (the test URLs have no password).
fn url_parts(url: &str) -> UrlParts {
    let rest = url.split_once("://").unwrap().1;
    let (user, rest) = rest.split_once('@').unwrap();
    let (host_port, database) = rest.split_once('/').unwrap();
    UrlParts {
        user: user.to_string(),
        host_port: host_port.to_string(),
        database: database.to_string(),
    }
}

#[tokio::test]
async fn full_scan_parameters_are_checked_and_reported() {
    let db = TestDb::sqlite();
    let server = TestServer::start(db.app().await).await;
    for query in [
        "?scan=sometimes",
        "?scope_source=x&scope_asset=y",
        "?scan=full&scope_source=x",
    ] {
        let resp = server
            .post(&format!("/api/v1/findings{query}"), generic_json(1))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{query}");
    }
    let full: Value = server
        .post("/api/v1/findings?scan=full", generic_json(2))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(full["not_seen"], serde_json::json!([]));
    let one_gone: Value = server
        .post("/api/v1/findings?scan=full", generic_json(1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // generic_json's two findings sit on different assets (service-0 and service-1), so the
    // second, whose asset this scan did not cover, is not "not seen".
    assert_eq!(one_gone["not_seen"], serde_json::json!([]));
    let scoped: Value = server
        .post(
            "/api/v1/findings?scan=full&scope_source=semgrep&scope_asset=service-1",
            "[]",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(scoped["not_seen"], serde_json::json!(["F-2"]));
    server.stop().await;
}

#[tokio::test]
async fn the_ingest_route_takes_bodies_other_routes_refuse() {
    let db = TestDb::sqlite();
    let mut settings = db.settings();
    settings.body_limit_bytes = 4096;
    settings.ingest_body_limit_bytes = 64 * 1024;
    settings.github_webhook_secret = Some(remedybot::config::Secret::new("webhook-secret"));
    let server = TestServer::start(db.app_with(settings).await).await;
    let between = generic_json(100);
    assert!(
        (4096..64 * 1024).contains(&between.len()),
        "{}",
        between.len()
    );

    let resp = server
        .post("/api/v1/findings", between.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["created"], 100);

    // Another POST route keeps the general limit, and names it.
    let resp = server
        .http
        .post(server.url("/api/v1/webhooks/github"))
        .header("x-github-event", "ping")
        .body(between)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["error"],
        "request body is larger than the limit of 4096 bytes"
    );

    // Above the ingest limit, the ingest route refuses too, naming its own limit.
    let resp = server
        .post("/api/v1/findings", generic_json(1000))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["error"],
        "request body is larger than the limit of 65536 bytes"
    );
    server.stop().await;
}
