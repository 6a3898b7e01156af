#!/usr/bin/env bash
# Benchmarks: build the release binary, run bench/foundation.rs, bench/formats.rs and
# bench/slack.rs against it, and write docs/benchmarks.md (machine info, the command, the
# results tables, notes).
#
# Usage: bench/run.sh            (from anywhere; needs PostgreSQL at 127.0.0.1:5432, user
#                                 postgres with trust auth, or BENCH_PG_URL / BENCH_SKIP_PG=1)
# Knobs: BENCH_RUNS (5, both benches), BENCH_CLI_RUNS (10), BENCH_READY_RUNS (10), BENCH_PG_URL,
#        BENCH_SKIP_PG.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/bench/out"
doc="$root/docs/benchmarks.md"
mkdir -p "$out"

echo "== cargo build --release" >&2
cargo build --release
# BENCH_ONLY_SLACK=1: keep the foundation and format results of the last full run (their
# files in bench/out) and measure only Slack.
only_slack=${BENCH_ONLY_SLACK:-0}
if [[ "$only_slack" != 1 ]]; then
echo "== cargo bench --bench foundation" >&2
# The harness writes bench/out/results.md; keep the full console output next to it.
cargo bench --bench foundation 2>&1 | tee "$out/bench.log"
fi

results="$out/results.md"
[[ -s "$results" ]] || { echo "no $results: the benchmark failed (see $out/bench.log)" >&2; exit 1; }

if [[ "$only_slack" != 1 ]]; then
echo "== cargo bench --bench formats" >&2
# The harness writes bench/out/formats-results.md (and the two generated scanner files).
rm -f "$out/formats-results.md"
cargo bench --bench formats 2>&1 | tee "$out/formats-bench.log"
fi
formats="$out/formats-results.md"
[[ -s "$formats" ]] || { echo "no $formats: the benchmark failed (see $out/formats-bench.log)" >&2; exit 1; }

echo "== cargo bench --bench slack" >&2
# The harness writes bench/out/slack-results.md.
rm -f "$out/slack-results.md"
cargo bench --bench slack 2>&1 | tee "$out/slack-bench.log"
slack="$out/slack-results.md"
[[ -s "$slack" ]] || { echo "no $slack: the benchmark failed (see $out/slack-bench.log)" >&2; exit 1; }

cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
cores=$(nproc)
mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
kernel=$(uname -sr)
when=$(date -u '+%Y-%m-%d %H:%M UTC')
rustc_v=$(rustc --version)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- src migrations Cargo.toml 2>/dev/null | grep -q . && echo " (with uncommitted changes under src/, migrations/ or Cargo.toml)" || true)
sqlite_v=$(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || true)
pg_v=$(psql -h 127.0.0.1 -U postgres -Atc 'show server_version' 2>/dev/null || echo "not reachable")

{
cat <<EOF
# Benchmarks

Foundation, scanner-format and Slack performance targets, measured with \`bench/run.sh\`. Numbers come from one machine
and are only comparable with runs on the same machine; re-run the script after changes that
touch ingest, the store or start-up.

## Machine

- CPU: ${cpu}, ${cores} cores (shared, noisy virtual machine)
- Memory: ${mem}; kernel ${kernel}
- Toolchain: ${rustc_v}; release profile
- PostgreSQL ${pg_v} on 127.0.0.1 (same machine)${sqlite_v:+; SQLite is the one bundled with sqlx}
- Commit ${commit}${dirty}
- Date: ${when}

## Command

\`\`\`sh
bench/run.sh
# = cargo build --release && cargo bench --bench foundation && cargo bench --bench formats
#   && cargo bench --bench slack, then this file is written
\`\`\`

The harness (\`bench/foundation.rs\`, \`harness = false\`) spawns \`target/release/remedybot\` as a
child process and measures from the client side:

1. **Ingest over HTTP**: 10,000 synthetic findings in one \`POST /api/v1/findings\` into a fresh
   SQLite file, timed from request start to the full response; then the same 10,000 again
   (all unchanged). Repeated with a fresh file each run.
2. **PostgreSQL**: the same, into a database created for the run (\`CREATE DATABASE bench_…\`)
   and dropped afterwards.
3. **\`remedybot findings --overdue\`** over 100,000 findings, seeded through the library
   (\`App::ingest\`, batches of 10,000): once with all of them seeded 400 days ago (all
   overdue, the worst case), once with 10,000 of them 400 days ago and 90,000 today; the
   whole CLI process is timed with stdout to /dev/null.
4. **Idle memory**: \`serve\` on an existing SQLite file with 10,000 findings, VmRSS from
   \`/proc/PID/status\` once ready + 2 s idle; and VmRSS after the 10k new + 10k unchanged POSTs.
5. **Time to ready**: spawn \`serve\` on that file, poll \`GET /readyz\` every 2 ms, time from
   spawn to the first 200.

The synthetic findings are deterministic (fixed seed); the 10k set is written to
\`bench/out/findings-10000.json\` for reuse (\`BENCH_ONLY_GENERATE=N cargo bench --bench foundation\`
writes \`findings-N.json\` only).

## Results

EOF
cat "$results"
cat <<'EOF'

## Scanner formats

Measured by `bench/formats.rs` (`cargo bench --bench formats`, `harness = false`), the same
way: the release binary is spawned as a child process and timed from the client side.

1. **Inputs**: two generated files (fixed seed), written to `bench/out/`:
   `sarif-10000.sarif`, a SARIF 2.1.0 log shaped like CodeQL's (one run, 300 rules with
   descriptions, help and properties, 10,000 results over 2,000 files with regions and
   partialFingerprints), and `trivy-10000.json`, a Trivy SchemaVersion 2 report of a
   container image (5 targets, 10,000 vulnerabilities over 1,500 packages), both
   pretty-printed as the tools write them. Each is checked first: auto-detected as its
   format, and parsed by `ingest::parse` into exactly 10,000 findings with distinct
   fingerprints.
2. **End to end**: `serve` on a fresh SQLite file per run, the file as the body of one
   `POST /api/v1/findings` without `format=` (so auto-detection is included): the first
   import (parse, fingerprint, dedupe, store, route: reply `created` = 10,000), then the
   same file again (reply `unchanged` = 10,000).
3. **In-process**: `ingest::parse` alone, and `App::ingest` of the parsed findings into a
   fresh SQLite file (store only), then again (unchanged).
4. **Memory**: the peak heap (a counting global allocator in the bench binary) during parse,
   and during parse + ingest + reply serialisation, as a multiple of the input size; and the
   server's VmHWM after one import minus its VmRSS before the POST. The target is judged on
   the in-process parse + ingest heap peak.

EOF
cat "$formats"
cat <<'EOF'

## Slack and Discord

Measured by `bench/slack.rs` (`cargo bench --bench slack`, `harness = false`): the release
binary is spawned with `SLACK_BOT_TOKEN`, `SLACK_SIGNING_SECRET` and `SLACK_API_URL` pointing
at the fake Slack of the tests (`tests/common/fake_slack.rs`, running in the bench process on
loopback, checking every Web API call against Slack's OpenAPI spec and Block Kit limits).

1. **Approval clicks**: 100 findings, each with an open false-positive request needing 200
   approvals from a 200-member group, seeded through the library (the server's outbox then
   posts their cards and approval messages before the clicks start). 20,000 signed
   `block_actions` requests (`rb:approve`, each (finding, voter) pair once, so every click is
   a real vote: signature check, payload parse, workflow decision, one write transaction
   with event, projection and outbox row; the last vote on each finding closes it) are POSTed
   to `/slack/interactions` over 200 keep-alive connections: the first 10,000 open loop at
   2,000 clicks/s spread over the connections (latency from each click's *scheduled* send
   time, so a server that falls behind shows it), the other 10,000 back to back on every
   connection (saturation). Afterwards the trail must hold exactly 20,000 `vote_cast` and 100
   `closed` events. The throughput target (≥ 2,000/s) is judged on the saturation rate: open
   loop, the achieved rate is bounded by the offered one (2,000/s offered gives 1,999/s
   when the server keeps up, as the last response lands a few ms after the last send), so
   that row only shows whether the server kept up. The latency target (p99 ≤ 20 ms) is
   judged at the offered 2,000/s: with 200 connections each holding one request, p99 ≤ 20 ms
   back to back would need ≥ 10,000/s (Little's law).
   Concurrent commands are committed together (group commit, `src/app/batch.rs`).
   **Discord** runs the same scenario against `POST /discord/interactions`: the server is
   spawned with `DISCORD_BOT_TOKEN`, `DISCORD_API_URL` (the fake Discord of the tests) and
   `DISCORD_PUBLIC_KEY`; each click is a component interaction (`rb:approve:F-…`, shaped
   like the corpus button click) by an approver listed as `discord:ID`, signed with Ed25519
   over timestamp and body; the same trail check follows.
2. **Outbox pacing**: 1,000 new findings in one POST, all routed to one channel
   (`[chat] flood_threshold = 0`, so each gets its own card); the fake accepts at most 50
   `chat.postMessage` calls in any sliding second per channel and answers 429 beyond that;
   remedybot is configured for 50 a second. Reported: the delivery rate between the first and
   the last accepted card, the most calls the fake accepted in any one-second window, and how
   many calls it refused.

EOF
cat "$slack"
cat <<'EOF'

## Notes

- Times are wall-clock, client side, on a 2-core shared VM: expect run-to-run noise of
  ±20 % or more. "Median" is the median of the runs listed; the verdict uses the median.
- The HTTP timings include sending the 6 MB body over loopback, parsing, the whole ingest
  transaction and serialising the per-finding reply (about 1 MB).
- SQLite runs with WAL and `synchronous = NORMAL` (set by the store on every connection).
- PostgreSQL is reached with the URL `postgres://postgres@127.0.0.1:5432/bench_…`; sqlx's
  default `sslmode=prefer` negotiates TLS even on loopback. The "(diagnostic)" rows repeat
  the PostgreSQL runs with `?sslmode=disable` to show what TLS costs here; they have no target.
- The "placeholder experiment" inserts the same number of rows and binds as the store's
  multi-row INSERTs, directly through sqlx, once with `$N` and once with `?` placeholders.
- `findings --overdue` prints every overdue finding: in the worst case all 100,000 are overdue
  by construction, so this measures printing 100k rows, not filtering.
- Logs of the spawned servers are in `bench/out/serve-*.log`; the console output is in
  `bench/out/bench.log`.
EOF
# Earlier measurements (kept by hand in bench/history.md, since this file is rewritten).
if [[ -f bench/history.md ]]; then echo; cat bench/history.md; fi
} > "$doc"

echo "== wrote $doc" >&2
