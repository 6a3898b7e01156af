//! Foundation benchmarks (harness = false): ingest over HTTP into SQLite and PostgreSQL,
//! `findings --overdue` over 100k findings, `serve` resident memory and time to ready.
//!
//! Everything is measured against the RELEASE binary (`target/release/remedybot`, or
//! `REMEDYBOT_BIN`) spawned as a child process, from the client side. The library is used
//! only to seed databases and, for the breakdown section, to time phases in-process.
//!
//! Run with `bench/run.sh` (which also writes docs/benchmarks.md), or directly:
//! `cargo bench --bench foundation`. Knobs (environment):
//! - `BENCH_RUNS` (5): runs for the ingest metrics; `BENCH_CLI_RUNS` (10) and
//!   `BENCH_READY_RUNS` (10) for the CLI and readiness metrics.
//! - `BENCH_PG_URL` (`postgres://postgres@127.0.0.1:5432`): server for the PostgreSQL run;
//!   `BENCH_SKIP_PG=1` skips it.
//! - `BENCH_OUT` (`bench/out`): where the generated findings, logs and results go.
//! - `BENCH_ONLY_GENERATE=N`: only write `findings-N.json` and exit.

#[path = "common.rs"]
mod common;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use chrono::Utc;
use serde_json::{Value, json};

use remedybot::app::App;
use remedybot::config::Settings;
use remedybot::domain::{Actor, Source};

use common::{Metric, Server, TOKEN, Unit, binary, env_usize, mib, ms, progress, root, table};

/// The name in progress lines (`[bench] …`).
const BENCH: &str = "bench";
const SEED: u64 = 0x5eed_2024_0bad_cafe;
const N_INGEST: usize = 10_000;
const N_OVERDUE: usize = 100_000;
const SEED_BATCH: usize = 10_000;

// ---------------------------------------------------------------------------------------
// Deterministic synthetic findings
// ---------------------------------------------------------------------------------------

/// SplitMix64: tiny, deterministic, good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const SCANNERS: &[&str] = &[
    "semgrep", "trivy", "grype", "checkov", "zap", "gitleaks", "bandit", "snyk",
];
const SEVERITIES: &[&str] = &["critical", "high", "medium", "low", "info"];
/// Roughly how real backlogs look: few criticals, many mediums and lows.
const SEVERITY_WEIGHTS: &[usize] = &[5, 20, 35, 25, 15];
const TEAMS: &[&str] = &[
    "payments", "identity", "platform", "data", "mobile", "growth", "infra", "search",
];
const KINDS: &[&str] = &["api", "worker", "web", "db", "queue", "cache", "gateway"];
const ISSUES: &[&str] = &[
    "SQL injection via unsanitised query parameter",
    "Hard-coded credential in configuration file",
    "Outdated dependency with known remote code execution",
    "Container image runs as root user by default",
    "Missing TLS certificate validation on outbound call",
    "Cross-site scripting in user-controlled template field",
    "Public storage bucket allows anonymous listing",
    "Weak hashing algorithm used for password storage",
    "Server-side request forgery through URL fetcher",
    "Overly permissive IAM role attached to service",
    "Insecure deserialisation of untrusted payload",
    "Debug endpoint exposed without authentication",
];
const WORDS: &[&str] = &[
    "the",
    "service",
    "accepts",
    "input",
    "from",
    "an",
    "untrusted",
    "source",
    "and",
    "passes",
    "it",
    "without",
    "validation",
    "to",
    "a",
    "sensitive",
    "sink",
    "attacker",
    "could",
    "exploit",
    "this",
    "behaviour",
    "remote",
    "request",
    "handler",
    "configuration",
    "library",
    "version",
    "upgrade",
    "mitigate",
    "risk",
    "exposure",
    "production",
    "environment",
    "credentials",
    "network",
    "policy",
];
const EXTS: &[&str] = &["py", "go", "rs", "ts", "java", "tf", "yaml", "Dockerfile"];

fn sentence(rng: &mut Rng, target: usize) -> String {
    let mut s = String::with_capacity(target + 16);
    while s.len() < target {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(rng.pick(WORDS));
    }
    s.push('.');
    s
}

/// The 50 assets: team-kind-nn.
fn assets() -> Vec<String> {
    (0..50)
        .map(|i| {
            format!(
                "{}-{}-{:02}",
                TEAMS[i % TEAMS.len()],
                KINDS[(i / TEAMS.len()) % KINDS.len()],
                i
            )
        })
        .collect()
}

/// `n` findings in the generic JSON format, deterministic for a given `seed`. Every one has
/// a distinct (source, rule, asset, location), so a batch has `n` distinct fingerprints.
fn generate(n: usize, seed: u64) -> Vec<Value> {
    let mut rng = Rng(seed);
    let assets = assets();
    (0..n)
        .map(|i| {
            let scanner = rng.pick(SCANNERS);
            let issue = rng.pick(ISSUES);
            let rule = format!("{scanner}.rule-{:04}", rng.below(400));
            let asset = &assets[rng.below(assets.len())];
            let sev = {
                let mut r = rng.below(100);
                let mut k = 0;
                while r >= SEVERITY_WEIGHTS[k] {
                    r -= SEVERITY_WEIGHTS[k];
                    k += 1;
                }
                SEVERITIES[k]
            };
            // ~60 characters: issue text, padded with the asset if short.
            let mut title = format!("{issue} in {asset}");
            title.truncate(60);
            let mut description = sentence(&mut rng, 290);
            description.insert_str(0, &format!("{issue}. "));
            description.truncate(300);
            let ext = rng.pick(EXTS);
            let location = format!(
                "src/{}/module_{:05}.{ext}:{}",
                rng.pick(KINDS),
                i,
                1 + rng.below(2000)
            );
            let mut tags = vec![
                format!("team:{}", TEAMS[rng.below(TEAMS.len())]),
                format!("cwe-{}", 20 + rng.below(900)),
            ];
            if rng.below(3) == 0 {
                tags.push("pci".into());
            }
            let mut f = json!({
                "source": scanner,
                "rule_id": rule,
                "title": title,
                "description": description,
                "severity": sev,
                "asset": asset,
                "location": location,
                "tags": tags,
                "references": [format!("https://docs.example.com/rules/{scanner}/{rule}")],
            });
            if rng.below(4) == 0 {
                f["owner"] = json!(format!("slack:U{:08X}", rng.below(40)));
            }
            f
        })
        .collect()
}

fn generate_json(n: usize, seed: u64) -> Vec<u8> {
    serde_json::to_vec(&generate(n, seed)).expect("serialise findings")
}

/// POST the body; returns the client-side wall time and the parsed reply.
async fn post(
    client: &reqwest::Client,
    base: &str,
    body: &[u8],
) -> anyhow::Result<(Duration, Value)> {
    // Build the request (and copy the body) before the clock starts.
    let req = client
        .post(format!("{base}/api/v1/findings"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .build()?;
    let start = Instant::now();
    let resp = client.execute(req).await?;
    let status = resp.status();
    let bytes = resp.bytes().await?;
    let elapsed = start.elapsed();
    ensure!(
        status.is_success(),
        "POST answered {status}: {}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
    );
    Ok((elapsed, serde_json::from_slice(&bytes)?))
}

fn counts(reply: &Value) -> String {
    format!(
        "received {} created {} updated {} unchanged {} reopened {}",
        reply["received"],
        reply["created"],
        reply["updated"],
        reply["unchanged"],
        reply["reopened"]
    )
}

fn expect_count(reply: &Value, field: &str, n: usize) -> anyhow::Result<()> {
    ensure!(
        reply[field].as_u64() == Some(n as u64),
        "expected {field} = {n}, got {}",
        counts(reply)
    );
    Ok(())
}

fn psql(sql: &str, pg_admin: &str) -> anyhow::Result<()> {
    let out = Command::new("psql")
        .arg(format!("{pg_admin}/postgres"))
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .context("running psql")?;
    ensure!(
        out.status.success(),
        "psql `{sql}`: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

fn settings_for(url: &str) -> Settings {
    let mut s = Settings::default();
    s.database.url = url.to_string();
    s
}

/// Seed a database through the library: `n` findings, `batch` per ingest, `days_ago` old.
async fn seed(
    url: &str,
    n: usize,
    seed: u64,
    batch: usize,
    days_ago: i64,
) -> anyhow::Result<Vec<Duration>> {
    let settings = settings_for(url);
    let store = remedybot::server::open_store(&settings).await?;
    let app = App::new(settings, store);
    let all = generate(n, seed);
    let now = Utc::now() - chrono::Duration::days(days_ago);
    let mut times = Vec::new();
    for chunk in all.chunks(batch) {
        let bytes = serde_json::to_vec(chunk)?;
        let (_, findings) = remedybot::ingest::parse(None, &bytes)?;
        let t = Instant::now();
        let out = app
            .ingest(findings, &Actor::system(), Source::System, now)
            .await?;
        times.push(t.elapsed());
        ensure!(
            out.created == chunk.len(),
            "seed: expected {} created, got {}",
            chunk.len(),
            out.created
        );
    }
    app.store.close().await;
    Ok(times)
}

// ---------------------------------------------------------------------------------------
// The benchmarks
// ---------------------------------------------------------------------------------------

struct Ctx {
    out: PathBuf,
    /// Kept alive so the directory is removed at the end (unless `BENCH_TMP` is set).
    _tmp: Option<tempfile::TempDir>,
    tmp_path: PathBuf,
    client: reqwest::Client,
    body: Vec<u8>,
    runs: usize,
    notes: Vec<String>,
    breakdown: Vec<String>,
}

impl Ctx {
    fn log(&self, name: &str) -> PathBuf {
        self.out.join(format!("serve-{name}.log"))
    }
    fn sqlite(&self, name: &str) -> String {
        let path = self.tmp_path.join(format!("{name}.db"));
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
        }
        format!("sqlite://{}", path.display())
    }
}

/// Metrics 2 and 5b: 10k new, then the same 10k unchanged, into fresh SQLite files.
async fn ingest_sqlite(
    ctx: &mut Ctx,
    new: &mut Metric,
    unchanged: &mut Metric,
    rss_after: &mut Metric,
) -> anyhow::Result<()> {
    for run in 0..ctx.runs {
        let url = ctx.sqlite(&format!("ingest-{run}"));
        let mut server = Server::spawn(&url, &ctx.log("ingest-sqlite"), None, &[])?;
        server.wait_ready(&ctx.client).await?;
        let (t_new, reply) = post(&ctx.client, &server.base, &ctx.body).await?;
        expect_count(&reply, "created", N_INGEST)?;
        let (t_same, reply) = post(&ctx.client, &server.base, &ctx.body).await?;
        expect_count(&reply, "unchanged", N_INGEST)?;
        let rss = mib(server.status_bytes("VmRSS")?);
        progress(
            BENCH,
            format!(
                "sqlite run {run}: new {:.0} ms, unchanged {:.0} ms, rss after {rss:.1} MiB",
                ms(t_new),
                ms(t_same)
            ),
        );
        new.samples.push(ms(t_new));
        unchanged.samples.push(ms(t_same));
        rss_after.samples.push(rss);
        server.stop()?;
    }
    Ok(())
}

/// Metric 3: 10k new (and unchanged) into a fresh PostgreSQL database per run.
async fn ingest_postgres(
    ctx: &mut Ctx,
    new: &mut Metric,
    unchanged: &mut Metric,
    params: &str,
) -> anyhow::Result<()> {
    let admin = std::env::var("BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    for run in 0..ctx.runs {
        let db = format!("bench_{}_{run}", std::process::id());
        psql(&format!("DROP DATABASE IF EXISTS {db}"), &admin)?;
        psql(&format!("CREATE DATABASE {db}"), &admin)?;
        let result = async {
            let mut server = Server::spawn(
                &format!("{admin}/{db}{params}"),
                &ctx.log("ingest-postgres"),
                None,
                &[],
            )?;
            let r = async {
                server.wait_ready(&ctx.client).await?;
                let (t_new, reply) = post(&ctx.client, &server.base, &ctx.body).await?;
                expect_count(&reply, "created", N_INGEST)?;
                let (t_same, reply) = post(&ctx.client, &server.base, &ctx.body).await?;
                expect_count(&reply, "unchanged", N_INGEST)?;
                anyhow::Ok((t_new, t_same))
            }
            .await;
            server.stop()?;
            r
        }
        .await;
        psql(
            &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
            &admin,
        )?;
        let (t_new, t_same) = result?;
        progress(
            BENCH,
            format!(
                "postgres{params} run {run}: new {:.0} ms, unchanged {:.0} ms",
                ms(t_new),
                ms(t_same)
            ),
        );
        new.samples.push(ms(t_new));
        unchanged.samples.push(ms(t_same));
    }
    Ok(())
}

/// Metric 4: `findings --overdue` over 100k findings, `overdue` of them seeded 400 days in
/// the past (overdue now) and the rest today (not overdue).
async fn overdue_cli(ctx: &mut Ctx, m: &mut Metric, overdue: usize) -> anyhow::Result<()> {
    let url = ctx.sqlite(&format!("overdue-{overdue}-of-100k"));
    progress(
        BENCH,
        format!(
            "seeding {N_OVERDUE} findings (batches of {SEED_BATCH}, {overdue} of them 400 days ago)"
        ),
    );
    let t = Instant::now();
    let mut times = seed(&url, overdue, SEED ^ 0x100_000, SEED_BATCH, 400).await?;
    if overdue < N_OVERDUE {
        times.extend(seed(&url, N_OVERDUE - overdue, SEED ^ 0x200_000, SEED_BATCH, 0).await?);
    }
    let per: Vec<String> = times.iter().map(|d| format!("{:.0}", ms(*d))).collect();
    ctx.breakdown.push(format!(
        "Seeding 100,000 findings through `App::ingest` (10 batches of 10,000 into one growing SQLite file) took {:.1} s; per batch (ms, ingest only): {}.",
        t.elapsed().as_secs_f64(),
        per.join(", ")
    ));
    let cmd = |stdout: Stdio| {
        let mut c = Command::new(binary());
        c.args(["--database-url", &url, "findings", "--overdue"])
            .env_remove("REMEDYBOT_CONFIG")
            .env_remove("REMEDYBOT_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::inherit());
        c
    };
    // One untimed run to count rows (and warm the page cache, as every later run would be).
    let out = cmd(Stdio::piped()).output()?;
    ensure!(out.status.success(), "findings --overdue failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines = text.lines().count();
    let footer = text.lines().last().unwrap_or("").to_string();
    ctx.notes.push(format!(
        "`findings --overdue` printed {lines} lines ({} bytes) per run: a header, one row per overdue finding, and the footer \"{footer}\".",
        out.stdout.len()
    ));
    for run in 0..env_usize("BENCH_CLI_RUNS", 10) {
        let t = Instant::now();
        let status = cmd(Stdio::null()).status()?;
        let d = t.elapsed();
        ensure!(status.success(), "findings --overdue failed");
        progress(BENCH, format!("overdue run {run}: {:.0} ms", ms(d)));
        m.samples.push(ms(d));
    }
    // The same query in-process, to split process start + migrate check from query + print.
    let settings = settings_for(&url);
    let t = Instant::now();
    let store = remedybot::server::open_store(&settings).await?;
    let t_open = t.elapsed();
    let filter = remedybot::store::FindingFilter {
        overdue_at: Some(Utc::now()),
        ..Default::default()
    };
    let mut q = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let rows = store.list_findings(&filter).await?;
        q.push(ms(t.elapsed()));
        ensure!(
            rows.len() == overdue,
            "expected {overdue} overdue rows, got {}",
            rows.len()
        );
    }
    store.close().await;
    q.sort_by(|a, b| a.total_cmp(b));
    ctx.breakdown.push(format!(
        "`findings --overdue` in-process ({overdue} of 100,000 overdue): open_store (connect + migrate check) {:.1} ms; `Store::list_findings` {:.0} ms (min of 3; runs {:?} ms). The rest of the CLI time is process start-up, the runtime, and formatting/writing the table.",
        ms(t_open),
        q[0],
        q.iter().map(|x| x.round()).collect::<Vec<_>>()
    ));
    Ok(())
}

/// Metrics 5a and 6: idle RSS and time to ready on an existing 10k SQLite file.
async fn serve_idle_and_ready(
    ctx: &mut Ctx,
    idle: &mut Metric,
    ready: &mut Metric,
) -> anyhow::Result<()> {
    let url = ctx.sqlite("seeded-10k");
    seed(&url, N_INGEST, SEED, N_INGEST, 0).await?;
    for run in 0..3 {
        let mut server = Server::spawn(&url, &ctx.log("idle"), None, &[])?;
        server.wait_ready(&ctx.client).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss = mib(server.status_bytes("VmRSS")?);
        progress(BENCH, format!("idle run {run}: VmRSS {rss:.1} MiB"));
        idle.samples.push(rss);
        server.stop()?;
    }
    for run in 0..env_usize("BENCH_READY_RUNS", 10) {
        // A fresh client per run so no pooled connection from an earlier server is reused.
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .build()?;
        let start = Instant::now();
        let mut server = Server::spawn(&url, &ctx.log("ready"), None, &[])?;
        let d = server
            .wait_ready_timed(&client, start, Duration::from_millis(2))
            .await?;
        progress(BENCH, format!("ready run {run}: {:.1} ms", ms(d)));
        ready.samples.push(ms(d));
        server.stop()?;
    }
    Ok(())
}

/// Diagnostic: 10,000 rows x 18 columns into SQLite through sqlx's Any driver in
/// multi-row INSERTs of 500 rows (the store's shape), with `$N` placeholders (what the store
/// emits for both backends) and with plain `?`.
async fn placeholder_experiment(ctx: &mut Ctx) -> anyhow::Result<()> {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let mut line = String::from(
        "Placeholder experiment (sqlx `Any` on SQLite, 10,000 rows x 18 text columns, 500 rows per INSERT, one transaction):",
    );
    for style in ["$N", "?"] {
        let url = ctx.sqlite(&format!(
            "placeholders-{}",
            if style == "?" { "q" } else { "n" }
        ));
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&format!("{url}?mode=rwc"))
            .await?;
        let cols: Vec<String> = (0..18).map(|i| format!("c{i} TEXT")).collect();
        pool.execute(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE t ({})",
            cols.join(", ")
        )))
        .await?;
        let t = Instant::now();
        let mut tx = pool.begin().await?;
        for chunk in 0..20 {
            let mut sql = String::from("INSERT INTO t VALUES ");
            let mut n = 0;
            for r in 0..500 {
                sql.push_str(if r == 0 { "(" } else { ", (" });
                for c in 0..18 {
                    n += 1;
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    if style == "?" {
                        sql.push('?');
                    } else {
                        let _ = write!(sql, "${n}");
                    }
                }
                sql.push(')');
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for i in 0..n {
                q = q.bind(format!("value-{chunk}-{i}"));
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        let _ = write!(line, " `{style}` {:.0} ms;", ms(t.elapsed()));
        pool.close().await;
    }
    ctx.breakdown.push(line);
    Ok(())
}

/// Breakdown: the same work in-process (no HTTP, no child), phase by phase.
async fn breakdown(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut parse = Vec::new();
    let mut new = Vec::new();
    let mut same = Vec::new();
    let mut json_out = Vec::new();
    for run in 0..3 {
        let t = Instant::now();
        let (_, findings) = remedybot::ingest::parse(None, &ctx.body)?;
        parse.push(ms(t.elapsed()));
        let url = ctx.sqlite(&format!("inproc-{run}"));
        let settings = settings_for(&url);
        let store = remedybot::server::open_store(&settings).await?;
        let app = App::new(settings, store);
        let actor = Actor::new("api", "ingest-token", "ingest API");
        let t = Instant::now();
        let out = app
            .ingest(findings.clone(), &actor, Source::Api, Utc::now())
            .await?;
        new.push(ms(t.elapsed()));
        ensure!(out.created == N_INGEST);
        let t = Instant::now();
        let body = serde_json::to_vec(&out)?;
        json_out.push((ms(t.elapsed()), body.len()));
        let t = Instant::now();
        let out = app
            .ingest(findings, &actor, Source::Api, Utc::now())
            .await?;
        same.push(ms(t.elapsed()));
        ensure!(out.unchanged == N_INGEST);
        app.store.close().await;
    }
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    ctx.breakdown.push(format!(
        "In-process, SQLite, min of 3: `ingest::parse` of the 10k body {:.0} ms; `App::ingest` 10k new {:.0} ms; 10k unchanged {:.0} ms; serialising the reply {:.1} ms ({} bytes).",
        min(&parse),
        min(&new),
        min(&same),
        json_out.iter().map(|x| x.0).fold(f64::INFINITY, f64::min),
        json_out[0].1
    ));
    Ok(())
}

async fn run() -> anyhow::Result<()> {
    let out = std::env::var_os("BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("bench/out"));
    std::fs::create_dir_all(&out)?;

    if let Some(n) = std::env::var("BENCH_ONLY_GENERATE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        let path = out.join(format!("findings-{n}.json"));
        std::fs::write(&path, generate_json(n, SEED))?;
        println!("wrote {}", path.display());
        return Ok(());
    }

    ensure!(
        binary().exists(),
        "{} not found: run `cargo build --release` first",
        binary().display()
    );
    for f in std::fs::read_dir(&out)? {
        let p = f?.path();
        // Only the server logs from earlier runs (bench.log is being written by run.sh).
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("serve-") && name.ends_with(".log") {
            std::fs::remove_file(p)?;
        }
    }

    let t = Instant::now();
    let body = generate_json(N_INGEST, SEED);
    let gen_ms = ms(t.elapsed());
    let body_path = out.join(format!("findings-{N_INGEST}.json"));
    std::fs::write(&body_path, &body)?;
    let settings = Settings::default();
    ensure!(
        body.len() <= settings.body_limit_bytes,
        "the 10k body ({} bytes) exceeds the default body limit; raise server.body_limit_bytes",
        body.len()
    );

    // BENCH_TMP keeps the databases (e.g. to profile the CLI on the 100k file afterwards).
    let (tmp, tmp_path) = match std::env::var_os("BENCH_TMP") {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            (None, PathBuf::from(dir))
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("remedybot-bench-")
                .tempdir()?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    let mut ctx = Ctx {
        out: out.clone(),
        _tmp: tmp,
        tmp_path,
        client: reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(300))
            .build()?,
        body,
        runs: env_usize("BENCH_RUNS", 5),
        notes: Vec::new(),
        breakdown: Vec::new(),
    };
    ctx.notes.push(format!(
        "The 10k body is {:.2} MiB ({} bytes, generated in {gen_ms:.0} ms, seed {SEED:#x}), under the default 16 MiB body limit, so no config file was needed. It is saved as `{}`.",
        ctx.body.len() as f64 / 1048576.0,
        ctx.body.len(),
        body_path.strip_prefix(root()).unwrap_or(&body_path).display()
    ));
    let avg = |field: &str| {
        let v = generate(200, SEED);
        v.iter()
            .map(|f| f[field].as_str().map_or(0, str::len))
            .sum::<usize>() as f64
            / v.len() as f64
    };
    ctx.notes.push(format!(
        "Synthetic findings: average title {:.0} chars, description {:.0} chars; 5 severities (5/20/35/25/15 %), 50 assets, 8 scanners, 2–3 tags, one reference URL, an owner on ~25 %; fingerprints derived by the server (none given).",
        avg("title"),
        avg("description")
    ));

    // `whole_ms`: this bench's tables show whole milliseconds, even under 10 ms.
    let mut m_new =
        Metric::new("10k new findings, one POST, SQLite", Some(1000.0), Unit::Ms).whole_ms();
    let mut m_same = Metric::new(
        "10k unchanged findings, one POST, SQLite",
        Some(500.0),
        Unit::Ms,
    )
    .whole_ms();
    let mut m_pg_new = Metric::new(
        "10k new findings, one POST, PostgreSQL",
        Some(2000.0),
        Unit::Ms,
    )
    .whole_ms();
    let mut m_pg_same = Metric::new(
        "10k unchanged findings, one POST, PostgreSQL",
        None,
        Unit::Ms,
    )
    .whole_ms();
    let mut m_pg_plain_new = Metric::new(
        "(diagnostic) 10k new, PostgreSQL, `?sslmode=disable`",
        None,
        Unit::Ms,
    )
    .whole_ms();
    let mut m_pg_plain_same = Metric::new(
        "(diagnostic) 10k unchanged, PostgreSQL, `?sslmode=disable`",
        None,
        Unit::Ms,
    )
    .whole_ms();
    let mut m_overdue = Metric::new(
        "`findings --overdue` over 100k, all 100k overdue (CLI process, 100k rows printed)",
        Some(200.0),
        Unit::Ms,
    )
    .whole_ms();
    let mut m_overdue_10 = Metric::new(
        "`findings --overdue` over 100k, 10k overdue (CLI process, 10k rows printed)",
        Some(200.0),
        Unit::Ms,
    )
    .whole_ms();
    let mut m_idle = Metric::new(
        "`serve` idle VmRSS (10k SQLite file)",
        Some(30.0),
        Unit::MiB,
    );
    let mut m_rss_after = Metric::new(
        "`serve` VmRSS after 10k new + 10k unchanged",
        None,
        Unit::MiB,
    );
    let mut m_ready = Metric::new(
        "`serve` spawn → first 200 from /readyz",
        Some(300.0),
        Unit::Ms,
    )
    .whole_ms();

    progress(
        BENCH,
        format!("binary {}, {} runs", binary().display(), ctx.runs),
    );
    ingest_sqlite(&mut ctx, &mut m_new, &mut m_same, &mut m_rss_after).await?;
    if !std::env::var("BENCH_SKIP_PG").is_ok_and(|v| v == "1") {
        if let Err(e) = ingest_postgres(&mut ctx, &mut m_pg_new, &mut m_pg_same, "").await {
            progress(BENCH, format!("postgres failed: {e:#}"));
            ctx.notes.push(format!("PostgreSQL run failed: {e:#}"));
        }
        // Diagnostic: the same without TLS on the loopback connection (sqlx's default
        // sslmode is `prefer`, so the URL above negotiates TLS).
        if let Err(e) = ingest_postgres(
            &mut ctx,
            &mut m_pg_plain_new,
            &mut m_pg_plain_same,
            "?sslmode=disable",
        )
        .await
        {
            progress(BENCH, format!("postgres (sslmode=disable) failed: {e:#}"));
        }
    }
    serve_idle_and_ready(&mut ctx, &mut m_idle, &mut m_ready).await?;
    overdue_cli(&mut ctx, &mut m_overdue, N_OVERDUE).await?;
    overdue_cli(&mut ctx, &mut m_overdue_10, N_OVERDUE / 10).await?;
    breakdown(&mut ctx).await?;
    placeholder_experiment(&mut ctx).await?;

    let metrics = [
        m_new,
        m_same,
        m_pg_new,
        m_pg_same,
        m_overdue,
        m_overdue_10,
        m_idle,
        m_rss_after,
        m_ready,
        m_pg_plain_new,
        m_pg_plain_same,
    ];
    let mut md = String::new();
    md.push_str(&table(&metrics.iter().collect::<Vec<_>>()));
    md.push_str("\nResult: pass when the median meets the target; \"FAIL (min passes)\" when only the best run does.\n");
    md.push_str("\n### Measurement notes\n\n");
    for n in &ctx.notes {
        let _ = writeln!(md, "- {n}");
    }
    md.push_str("\n### Where the time goes (in-process, same data)\n\n");
    for b in &ctx.breakdown {
        let _ = writeln!(md, "- {b}");
    }
    md.push_str("\n### Raw samples\n\n");
    for m in &metrics {
        let _ = writeln!(md, "{}", m.raw_samples());
    }
    std::fs::write(out.join("results.md"), &md)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "\n{md}")?;
    Ok(())
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = rt.block_on(run()) {
        eprintln!("bench failed: {e:#}");
        std::process::exit(1);
    }
}
