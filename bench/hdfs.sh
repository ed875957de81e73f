#!/usr/bin/env bash
# HDFS sink throughput (issue 6 bar: >= 200,000 rows/s of JSON Lines into the local HDFS).
#
#   bench/hdfs.sh [--header]
#
# Starts a private HDFS (tests/harness/hdfs.sh) in a temporary directory, builds the release
# example host/examples/hdfs_sink_bench.rs and runs it RUNS times: ROWS generated change events
# (typical 8-column rows; inserts and updates) in batches of BATCH over SHARDS shards, written
# through the sink (encode, write, hsync, close, rename). Prints markdown table rows
#   | figure | wproc | baseline | ratio | bar |
# with the median of the runs. The baseline is Hadoop's own Java client (FsShell -put, JVM start
# included) putting the same JSON Lines bytes as one file, also as a median, in rows/s.
# Progress goes to stderr. Environment: RUNS (5), ROWS (1000000), BATCH (100000), SHARDS (2),
# CARGO_TARGET_DIR, HDFS_JAVA_OPTS (-XX:TieredStopAtLevel=4), HDFS_HEAP (1g).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
RUNS=${RUNS:-5}
ROWS=${ROWS:-1000000}
BATCH=${BATCH:-100000}
SHARDS=${SHARDS:-2}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/wproc/target}
BIN=$CARGO_TARGET_DIR/release/examples/hdfs_sink_bench
HARNESS=$ROOT/tests/harness/hdfs.sh

log() { printf 'bench/hdfs.sh: %s\n' "$*" >&2; }

median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wproc-bench-hdfs.XXXXXX")
cleanup() {
  "$HARNESS" stop --dir "$WORK/hdfs" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

log "building the release example"
(cd "$ROOT" && cargo build --release -q -p wproc --example hdfs_sink_bench)
# The harness tunes its JVMs for quick test start-up (C1 only, 256 MiB); a DataNode in
# production runs with the full JIT, which is what a throughput figure should be measured against.
export HDFS_JAVA_OPTS=${HDFS_JAVA_OPTS:--XX:TieredStopAtLevel=4}
export HDFS_HEAP=${HDFS_HEAP:-1g}
eval "$("$HARNESS" start --dir "$WORK/hdfs")"

run_sink() { # COMPRESSION -> rows/s of each run, one per line
  local i out
  for ((i = 1; i <= RUNS; i++)); do
    out=$("$BIN" "$HDFS_URL" "$ROWS" "$BATCH" "$SHARDS" "$1" "$WORK/dump.jsonl")
    log "sink $1 run $i: $out"
    sed -n 's/.*rows_per_s=\([0-9.]*\).*/\1/p' <<<"$out"
  done
}

plain=$(run_sink none | median)
gzip=$(run_sink gzip | median)

baseline=$(
  for ((i = 1; i <= RUNS; i++)); do
    t0=$(date +%s.%N)
    "$HARNESS" fs --dir "$WORK/hdfs" -- -put "$WORK/dump.jsonl" "/baseline-$i.jsonl" 2>/dev/null
    t1=$(date +%s.%N)
    rate=$(awk -v r="$ROWS" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", r / (b - a)}')
    log "baseline FsShell -put run $i: rows_per_s=$rate"
    echo "$rate"
  done | median
)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
if [[ ${1:-} == --header ]]; then
  echo '| figure | wproc | baseline | ratio | bar |'
  echo '|---|---|---|---|---|'
fi
verdict=$(awk -v a="$plain" 'BEGIN { print (a >= 200000) ? "pass" : "FAIL" }')
printf '| HDFS sink, JSON Lines rows/s into the local Hadoop 2.7.3 (median of %d; baseline: FsShell -put of the same bytes) | %.0f | FsShell: %.0f | %sx | >= 200,000 rows/s: %s |\n' \
  "$RUNS" "$plain" "$baseline" "$(ratio "$plain" "$baseline")" "$verdict"
printf '| HDFS sink, gzip JSON Lines rows/s (median of %d; baseline: FsShell -put of the plain bytes) | %.0f | FsShell: %.0f | %sx |  |\n' \
  "$RUNS" "$gzip" "$baseline" "$(ratio "$gzip" "$baseline")"
