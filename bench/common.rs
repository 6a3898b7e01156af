//! Plumbing shared by the benchmarks (`bench/foundation.rs`, `bench/formats.rs`, …): the
//! result statistics and the markdown table, paths and environment knobs, and the
//! `remedybot serve` child-process wrapper.
//!
//! Not a bench target of its own: each bench includes it with
//! `#[path = "common.rs"] mod common;`. Not every bench uses every item, hence the
//! `dead_code` allowance. The unit tests at the bottom run through `tests/bench_common.rs`,
//! which includes this file the same way (bench targets are `harness = false`, so they are
//! never built with `cfg(test)`).

#![allow(dead_code)]

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The ingest token every bench's server is started with (`REMEDYBOT_INGEST_TOKEN`).
pub const TOKEN: &str = "bench-token-0123456789abcdef";

// ---------------------------------------------------------------------------------------
// Statistics and results
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Milliseconds; lower is better.
    Ms,
    /// Mebibytes (the target is shown as "MB", as it is written in the requirements); lower
    /// is better.
    MiB,
    /// A multiple of the input size; lower is better.
    Times,
    /// A throughput, per second; higher is better.
    PerSec,
    /// A count of events (e.g. refused calls); lower is better.
    Count,
}

impl Unit {
    /// Higher is better (a throughput) rather than lower (a time or a size).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Unit::PerSec)
    }

    /// The unit as named in the "Raw samples" lines.
    pub fn raw_label(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::MiB => "MiB",
            Unit::Times => "× input",
            Unit::PerSec => "/s",
            Unit::Count => "",
        }
    }
}

pub struct Metric {
    pub name: String,
    /// Target, in `unit`.
    pub target: Option<f64>,
    pub unit: Unit,
    pub samples: Vec<f64>,
    /// `Ms` values under 10 are shown with one decimal unless this is set (see
    /// [`Metric::whole_ms`]).
    whole_ms: bool,
}

impl Metric {
    pub fn new(name: impl Into<String>, target: Option<f64>, unit: Unit) -> Metric {
        Metric {
            name: name.into(),
            target,
            unit,
            samples: Vec::new(),
            whole_ms: false,
        }
    }

    /// Show `Ms` values in whole milliseconds even under 10 ms (by default those get one
    /// decimal: "6.2 ms"; with this, "6 ms").
    pub fn whole_ms(mut self) -> Metric {
        self.whole_ms = true;
        self
    }

    pub fn push(&mut self, v: f64) {
        self.samples.push(v);
    }

    pub fn min(&self) -> Option<f64> {
        self.samples.iter().copied().reduce(f64::min)
    }

    pub fn max(&self) -> Option<f64> {
        self.samples.iter().copied().reduce(f64::max)
    }

    pub fn median(&self) -> Option<f64> {
        median(&self.samples)
    }

    /// A value in this metric's unit, as shown in the table ("n/a" for `None`).
    pub fn fmt(&self, v: Option<f64>) -> String {
        match (v, self.unit) {
            (None, _) => "n/a".into(),
            (Some(v), Unit::Ms) if v < 10.0 && !self.whole_ms => format!("{v:.1} ms"),
            (Some(v), Unit::Ms) => format!("{v:.0} ms"),
            (Some(v), Unit::MiB) => format!("{v:.1} MiB"),
            (Some(v), Unit::Times) => format!("{v:.2}×"),
            (Some(v), Unit::PerSec) => format!("{v:.0}/s"),
            (Some(v), Unit::Count) => format!("{v:.0}"),
        }
    }

    /// The target as shown in the table ("—" without one).
    pub fn fmt_target(&self) -> String {
        match (self.target, self.unit) {
            (None, _) => "—".to_string(),
            (Some(t), Unit::Ms) => format!("≤ {t:.0} ms"),
            (Some(t), Unit::MiB) => format!("≤ {t:.0} MB"),
            (Some(t), Unit::Times) => format!("≤ {t:.0}× input"),
            (Some(t), Unit::PerSec) => format!("≥ {t:.0}/s"),
            (Some(t), Unit::Count) => format!("≤ {t:.0}"),
        }
    }

    /// Judged on the median: "pass" when it meets the target (≤ for times and sizes, ≥ for
    /// throughputs); otherwise "FAIL (min passes)" / "FAIL (best passes)" when the best run
    /// (the minimum, or for a throughput the maximum) does, else "FAIL". "—" without a
    /// target, "not run" without samples.
    pub fn verdict(&self) -> &'static str {
        let Some(t) = self.target else {
            return "—";
        };
        let Some(m) = self.median() else {
            return "not run";
        };
        if self.unit.higher_is_better() {
            if m >= t {
                "pass"
            } else if self.max().is_some_and(|x| x >= t) {
                "FAIL (best passes)"
            } else {
                "FAIL"
            }
        } else if m <= t {
            "pass"
        } else if self.min().is_some_and(|x| x <= t) {
            "FAIL (min passes)"
        } else {
            "FAIL"
        }
    }

    /// The "Raw samples" line: `- name (unit): v, v, …` (two decimals for `Times`, one
    /// otherwise).
    pub fn raw_samples(&self) -> String {
        let v: Vec<String> = self
            .samples
            .iter()
            .map(|x| match self.unit {
                Unit::Times => format!("{x:.2}"),
                Unit::Ms | Unit::MiB | Unit::PerSec => format!("{x:.1}"),
                Unit::Count => format!("{x:.0}"),
            })
            .collect();
        format!(
            "- {} ({}): {}",
            self.name,
            self.unit.raw_label(),
            v.join(", ")
        )
    }
}

/// The median (the mean of the middle two for an even count); `None` when empty.
pub fn median(v: &[f64]) -> Option<f64> {
    let mut s = v.to_vec();
    if s.is_empty() {
        return None;
    }
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    })
}

/// The nearest-rank percentile: the smallest sample with at least `p` % of the samples at
/// or below it (`p = 0` gives the minimum, `p = 100` the maximum). `None` when `v` is
/// empty or `p` is outside `0..=100`.
pub fn percentile(v: &[f64], p: f64) -> Option<f64> {
    if v.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let rank = (p / 100.0 * s.len() as f64).ceil() as usize;
    Some(s[rank.clamp(1, s.len()) - 1])
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn mib(bytes: f64) -> f64 {
    bytes / 1048576.0
}

/// The results table in markdown: target, min, median, number of runs and the verdict
/// per metric. The "Min" column is the minimum for every unit, throughputs included; the
/// verdict is always judged on the median, and for throughputs (`Unit::PerSec`) higher is
/// better (see [`Metric::verdict`]).
pub fn table(metrics: &[&Metric]) -> String {
    let mut s = String::new();
    s.push_str("| Metric | Target | Min | Median | Runs | Result |\n|---|---|---|---|---|---|\n");
    for m in metrics {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            m.name,
            m.fmt_target(),
            m.fmt(m.min()),
            m.fmt(m.median()),
            m.samples.len(),
            m.verdict()
        );
    }
    s
}

// ---------------------------------------------------------------------------------------
// Paths, knobs, progress
// ---------------------------------------------------------------------------------------

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary to spawn: `REMEDYBOT_BIN`, else `target/release/remedybot`.
pub fn binary() -> PathBuf {
    std::env::var_os("REMEDYBOT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/release/remedybot"))
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// An environment knob: `default` when unset or not a number.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A progress line on stderr: `[bench] msg`.
pub fn progress(bench: &str, msg: impl AsRef<str>) {
    eprintln!("[{bench}] {}", msg.as_ref());
}

// ---------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------

/// `remedybot serve` as a child process, on a free loopback port.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Server {
    /// Spawn `remedybot serve` (with `--config` when given) on the database, with the
    /// ingest token [`TOKEN`], stderr appended to `log`, and `env` added to the child's
    /// environment; returns at once (not waiting for readiness).
    pub fn spawn(
        db_url: &str,
        log: &Path,
        config: Option<&Path>,
        env: &[(&str, String)],
    ) -> anyhow::Result<Server> {
        let port = free_port()?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let mut cmd = Command::new(binary());
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        cmd.arg("serve")
            .env("REMEDYBOT_DATABASE_URL", db_url)
            .env("REMEDYBOT_LISTEN", format!("127.0.0.1:{port}"))
            .env("REMEDYBOT_INGEST_TOKEN", TOKEN)
            .env_remove("REMEDYBOT_CONFIG")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let child = cmd
            .spawn()
            .with_context(|| format!("spawning {}", binary().display()))?;
        Ok(Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Poll `/readyz` every 5 ms until it answers 200 (error if the child exits first or
    /// after 60 s).
    pub async fn wait_ready(&mut self, client: &reqwest::Client) -> anyhow::Result<()> {
        self.wait_ready_timed(client, Instant::now(), Duration::from_millis(5))
            .await
            .map(|_| ())
    }

    /// Poll `/readyz` every `every` until it answers 200; returns the time since `since`
    /// (error if the child exits first, or 60 s after `since`).
    pub async fn wait_ready_timed(
        &mut self,
        client: &reqwest::Client,
        since: Instant,
        every: Duration,
    ) -> anyhow::Result<Duration> {
        let url = format!("{}/readyz", self.base);
        loop {
            if let Ok(r) = client.get(&url).send().await
                && r.status() == reqwest::StatusCode::OK
            {
                return Ok(since.elapsed());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("server exited before it was ready: {status}");
            }
            if since.elapsed() > Duration::from_secs(60) {
                bail!("server not ready after 60 s");
            }
            tokio::time::sleep(every).await;
        }
    }

    /// A `/proc/PID/status` field (`VmRSS`, `VmHWM`) in bytes.
    pub fn status_bytes(&self, field: &str) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let line = status
            .lines()
            .find(|l| l.starts_with(&format!("{field}:")))
            .with_context(|| format!("no {field} line"))?;
        let kb: f64 = line
            .split_whitespace()
            .nth(1)
            .with_context(|| format!("{field} value"))?
            .parse()?;
        Ok(kb * 1024.0)
    }

    /// SIGTERM, wait up to 10 s, then SIGKILL.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(target: Option<f64>, unit: Unit, samples: &[f64]) -> Metric {
        let mut m = Metric::new("m", target, unit);
        for &v in samples {
            m.push(v);
        }
        m
    }

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn percentile_nearest_rank() {
        let v: Vec<f64> = (1..=10).rev().map(f64::from).collect();
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&v, 10.0), Some(1.0));
        assert_eq!(percentile(&v, 11.0), Some(2.0));
        assert_eq!(percentile(&v, 50.0), Some(5.0));
        assert_eq!(percentile(&v, 95.0), Some(10.0));
        assert_eq!(percentile(&v, 100.0), Some(10.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&v, 101.0), None);
        assert_eq!(percentile(&v, f64::NAN), None);
    }

    #[test]
    fn verdict_lower_is_better() {
        assert_eq!(metric(None, Unit::Ms, &[1.0]).verdict(), "—");
        assert_eq!(metric(Some(10.0), Unit::Ms, &[]).verdict(), "not run");
        assert_eq!(
            metric(Some(10.0), Unit::Ms, &[5.0, 10.0, 20.0]).verdict(),
            "pass"
        );
        assert_eq!(
            metric(Some(10.0), Unit::Ms, &[5.0, 15.0, 20.0]).verdict(),
            "FAIL (min passes)"
        );
        assert_eq!(
            metric(Some(10.0), Unit::MiB, &[11.0, 12.0]).verdict(),
            "FAIL"
        );
    }

    #[test]
    fn verdict_per_sec_higher_is_better() {
        let pass = metric(Some(100.0), Unit::PerSec, &[50.0, 100.0, 200.0]);
        assert_eq!(pass.verdict(), "pass");
        let best = metric(Some(100.0), Unit::PerSec, &[50.0, 60.0, 200.0]);
        assert_eq!(best.verdict(), "FAIL (best passes)");
        assert_eq!(
            metric(Some(100.0), Unit::PerSec, &[50.0, 99.0]).verdict(),
            "FAIL"
        );
        assert_eq!(metric(Some(100.0), Unit::PerSec, &[]).verdict(), "not run");
    }

    #[test]
    fn table_rows() {
        let a = metric(Some(300.0), Unit::Ms, &[6.2, 8.4]).whole_ms();
        let b = metric(Some(300.0), Unit::Ms, &[6.2, 8.4]);
        let c = metric(Some(3.0), Unit::Times, &[1.234]);
        let d = metric(Some(1000.0), Unit::PerSec, &[900.0, 1200.0, 1100.0]);
        let e = metric(Some(30.0), Unit::MiB, &[]);
        assert_eq!(
            table(&[&a, &b, &c, &d, &e]),
            "| Metric | Target | Min | Median | Runs | Result |\n|---|---|---|---|---|---|\n\
             | m | ≤ 300 ms | 6 ms | 7 ms | 2 | pass |\n\
             | m | ≤ 300 ms | 6.2 ms | 7.3 ms | 2 | pass |\n\
             | m | ≤ 3× input | 1.23× | 1.23× | 1 | pass |\n\
             | m | ≥ 1000/s | 900/s | 1100/s | 3 | pass |\n\
             | m | ≤ 30 MB | n/a | n/a | 0 | not run |\n"
        );
        assert_eq!(c.raw_samples(), "- m (× input): 1.23");
        assert_eq!(a.raw_samples(), "- m (ms): 6.2, 8.4");
    }
}
