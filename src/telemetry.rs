//! Logs (tracing) and the Prometheus metrics registry. The registry is a few mutex-guarded
//! maps: the label sets are small and fixed (routes, statuses, outcomes, event kinds).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use tracing_subscriber::EnvFilter;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// Install the global subscriber. Level comes from `REMEDYBOT_LOG` (or `RUST_LOG`),
/// default `default_level` (`info` for `serve`, `warn` for one-shot commands). Logs go to stderr so command output on stdout stays clean.
pub fn init(format: LogFormat, default_level: &str) {
    use std::io::IsTerminal;
    let var = |name| {
        std::env::var(name)
            .ok()
            .filter(|v: &String| !v.trim().is_empty())
    };
    let filter = var("REMEDYBOT_LOG")
        .or_else(|| var("RUST_LOG"))
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Upper bounds of the request latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    ingested: BTreeMap<&'static str, u64>,
    transitions: BTreeMap<&'static str, u64>,
    chat: BTreeMap<(&'static str, &'static str), u64>,
}

/// Process-wide counters exposed at `GET /metrics`.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *m.requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let h = m.latency.entry(route.to_string()).or_default();
        let secs = elapsed.as_secs_f64();
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    pub fn record_ingested(&self, outcome: &'static str, n: u64) {
        if n > 0 {
            let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            *m.ingested.entry(outcome).or_default() += n;
        }
    }

    pub fn record_transition(&self, kind: &'static str) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *m.transitions.entry(kind).or_default() += 1;
    }

    /// A chat outbox message changed state: `delivered`, `retried`, `rate_limited`, `dead`.
    pub fn record_chat_delivery(&self, platform: &'static str, outcome: &'static str) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *m.chat.entry((platform, outcome)).or_default() += 1;
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        let m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str(
            "# HELP remedybot_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE remedybot_http_requests_total counter\n");
        for ((method, route, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "remedybot_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        out.push_str(
            "# HELP remedybot_http_request_duration_seconds HTTP request latency by route.\n",
        );
        out.push_str("# TYPE remedybot_http_request_duration_seconds histogram\n");
        for (route, h) in &m.latency {
            let route = escape(route);
            for (le, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "remedybot_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "remedybot_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "remedybot_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "remedybot_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out.push_str(
            "# HELP remedybot_findings_ingested_total Findings received by ingest, by outcome.\n",
        );
        out.push_str("# TYPE remedybot_findings_ingested_total counter\n");
        for (outcome, n) in &m.ingested {
            let _ = writeln!(
                out,
                "remedybot_findings_ingested_total{{outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str("# HELP remedybot_transitions_total Workflow events recorded, by kind.\n");
        out.push_str("# TYPE remedybot_transitions_total counter\n");
        for (kind, n) in &m.transitions {
            let _ = writeln!(out, "remedybot_transitions_total{{kind=\"{kind}\"}} {n}");
        }
        out.push_str(
            "# HELP remedybot_chat_deliveries_total Chat outbox sends, by platform and outcome.\n",
        );
        out.push_str("# TYPE remedybot_chat_deliveries_total counter\n");
        for ((platform, outcome), n) in &m.chat {
            let _ = writeln!(
                out,
                "remedybot_chat_deliveries_total{{platform=\"{platform}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_histogram_buckets() {
        let m = Metrics::default();
        m.record_request("GET", "/healthz", 200, Duration::from_millis(3));
        m.record_request("GET", "/healthz", 200, Duration::from_millis(30));
        m.record_ingested("created", 5);
        m.record_transition("created");
        let text = m.render();
        assert!(text.contains(
            "remedybot_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "remedybot_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "remedybot_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 2"
        ));
        assert!(text.contains("remedybot_findings_ingested_total{outcome=\"created\"} 5"));
        assert!(text.contains("remedybot_transitions_total{kind=\"created\"} 1"));
    }
}
