#!/usr/bin/env bash
# Bounded-time fuzzing of every ingest parser with cargo-fuzz (libFuzzer).
#
#   bash fuzz/run.sh                 # every target, FUZZ_SECONDS (default 60) each
#   FUZZ_SECONDS=300 bash fuzz/run.sh sarif auto   # only these targets, 5 minutes each
#
# Environment:
#   FUZZ_SECONDS    libFuzzer -max_total_time per target (default 60)
#   FUZZ_TIMEOUT    libFuzzer -timeout: one input slower than this many seconds is a
#                   failure (default 30)
#   FUZZ_SANITIZER  cargo fuzz --sanitizer: none (default; remedybot has no unsafe code, and
#                   without ASan there are about twice the executions) or address, ...
#   FUZZ_SEEDS      the real scanner outputs to seed from
#                   (default: ../shared/corpus/findings beside the repository)
#
# Prints one summary line per target (executions, seconds, result) and exits non-zero if any
# target crashed, timed out or ran out of memory; the failing input is in
# fuzz/artifacts/<target>/ and the full libFuzzer output in fuzz/target/logs/<target>.log.
set -euo pipefail

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$FUZZ_DIR")"
cd "$REPO"

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-30}"
FUZZ_SANITIZER="${FUZZ_SANITIZER:-none}"
SEEDS="${FUZZ_SEEDS:-$REPO/../shared/corpus/findings}"

ALL_TARGETS=(generic csv sarif trivy grype asff osv github auto)
if (($#)); then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
for t in "${TARGETS[@]}"; do
  [[ -f "$FUZZ_DIR/fuzz_targets/$t.rs" ]] || {
    echo "unknown target '$t'; targets: ${ALL_TARGETS[*]}" >&2
    exit 2
  }
done

# Only the stable toolchain is installed here; cargo-fuzz passes nightly-only flags to rustc
# (-Zsanitizer and friends), which RUSTC_BOOTSTRAP=1 lets stable accept.
export RUSTC_BOOTSTRAP=1
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"
# The instrumented build goes to fuzz/target/, never to the main build's target directory.
export CARGO_TARGET_DIR="$FUZZ_DIR/target"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
cargo fuzz --version

# ---- seed corpora (fuzz/corpus/<target>/, git-ignored) from the real files -------------
copy_seeds() { # target dir-or-file...
  local target="$1" src f n=0
  shift
  mkdir -p "$FUZZ_DIR/corpus/$target"
  for src in "$@"; do
    [[ -e "$src" ]] || continue
    while IFS= read -r -d '' f; do
      cp -f "$f" "$FUZZ_DIR/corpus/$target/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
      n=$((n + 1))
    done < <(find "$src" -type f -print0)
  done
  echo "   $target: $n seed files"
}

echo "== seeding corpora from $SEEDS"
[[ -d "$SEEDS" ]] || echo "   (not found: the targets start from their existing corpus only)"
for t in "${TARGETS[@]}"; do
  case "$t" in
    generic) copy_seeds generic "$REPO/docs/examples/findings.json" ;;
    csv) copy_seeds csv "$FUZZ_DIR/seeds/csv" ;;
    sarif) copy_seeds sarif "$SEEDS/sarif" "$REPO/docs/examples/defectdojo_njsscan.sarif" ;;
    trivy) copy_seeds trivy "$SEEDS/trivy" ;;
    grype) copy_seeds grype "$SEEDS/grype" ;;
    asff) copy_seeds asff "$SEEDS/aws_asff" "$SEEDS/aws_guardduty" ;;
    osv) copy_seeds osv "$SEEDS/osv" "$SEEDS/osv_scanner" ;;
    github)
      # The target reads the event from the first byte (% 5): every payload goes in once
      # behind each of the five events.
      mkdir -p "$FUZZ_DIR/corpus/github"
      n=0
      if [[ -d "$SEEDS/github_webhooks" ]]; then
        while IFS= read -r -d '' f; do
          for b in 0 1 2 3 4; do
            { printf "\\x0$b"; cat "$f"; } >"$FUZZ_DIR/corpus/github/seed-$b-$(basename "$f")"
            n=$((n + 1))
          done
        done < <(find "$SEEDS/github_webhooks" -type f -print0)
      fi
      echo "   github: $n seed files"
      ;;
    auto)
      copy_seeds auto "$SEEDS" "$REPO/docs/examples/findings.json" \
        "$REPO/docs/examples/defectdojo_njsscan.sarif" "$FUZZ_DIR/seeds/csv"
      ;;
  esac
done

# ---- build once, then run each target for a bounded time --------------------------------
BUILD_FLAGS=(--sanitizer "$FUZZ_SANITIZER")
echo "== building ${TARGETS[*]} (sanitizer: $FUZZ_SANITIZER)"
for t in "${TARGETS[@]}"; do
  cargo fuzz build "${BUILD_FLAGS[@]}" "$t"
done

LOGS="$FUZZ_DIR/target/logs"
mkdir -p "$LOGS"
summary=()
failed=0
for t in "${TARGETS[@]}"; do
  log="$LOGS/$t.log"
  echo "== fuzzing $t for ${FUZZ_SECONDS}s (log: ${log#"$REPO/"})"
  start=$SECONDS
  if cargo fuzz run "${BUILD_FLAGS[@]}" "$t" -- \
    -max_total_time="$FUZZ_SECONDS" -timeout="$FUZZ_TIMEOUT" -print_final_stats=1 \
    >"$log" 2>&1; then
    rc=0
  else
    rc=$?
  fi
  wall=$((SECONDS - start))

  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
  if [[ -z "$execs" ]]; then
    execs="$(grep -oE '^#[0-9]+' "$log" | tail -n1 | tr -d '#' || true)"
  fi
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)"
  fuzz_secs="$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$log" | tail -n1)"
  corpus="$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n1 | sed 's/corp: //' || true)"
  artifact="$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n1)"

  if ((rc == 0)); then
    result="ok (no crash)"
  elif [[ -n "$artifact" ]]; then
    result="CRASH: ${artifact#"$REPO/"}"
    failed=1
  else
    result="FAILED (exit $rc, no artifact; see ${log#"$REPO/"})"
    failed=1
  fi
  line="$(printf '%-8s executions=%-10s fuzz_time=%-5s wall=%-5s exec/s=%-7s corpus=%-14s %s' \
    "$t" "${execs:-?}" "${fuzz_secs:-?}s" "${wall}s" "${rate:-?}" "${corpus:-?}" "$result")"
  echo "   $line"
  summary+=("$line")
  if ((rc != 0)); then
    # The panic message and the top of the backtrace, for the summary reader.
    grep -m1 -A12 -E "panicked at|ERROR: libFuzzer|==ERROR" "$log" | sed 's/^/     | /' || true
  fi
done

echo
echo "== summary (FUZZ_SECONDS=$FUZZ_SECONDS, sanitizer=$FUZZ_SANITIZER, $(cargo fuzz --version))"
printf '%s\n' "${summary[@]}"
if ((failed)); then
  echo "fuzzing found a failing input: see fuzz/artifacts/<target>/ and fuzz/README.md to reproduce"
  exit 1
fi
echo "no crash in ${#TARGETS[@]} targets"
