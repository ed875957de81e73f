#!/usr/bin/env bash
# wproc's benchmark table, in one command:
#
#   bench/run.sh [NAME...]      # default: every sub-bench, in the order below
#
# Builds wproc in release, runs each sub-bench `bench/NAME.sh` (each starts what it needs through
# the project's scripts: a private MariaDB via tests/harness/mariadb.sh, HDFS via
# tests/harness/hdfs.sh, python-mysql-replication in a venv under ~/.cache/wproc), prints ONE
# markdown table of their rows and writes it, with the machine, to docs/benchmarks.md.
# A sub-bench that fails prints a row saying so (with the last line of its stderr); no figure is
# ever made up. Figures are medians of BENCH_REPS (default 3) repetitions.
#
# Environment: BENCH_REPS, BENCH_WORK (scratch dir), BENCH_KEEP=1 (keep scratch), WPROC_BIN (use
# this binary instead of building), BENCH_OUT (default docs/benchmarks.md; "-" to write nothing),
# and each sub-bench's own knobs (DECODE_ROWS, EMBEDDED_ROWS, LATENCY_RATE, LATENCY_SINK, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
BENCHES=(decode embedded latency sls hdfs wasm)
[ $# -gt 0 ] && BENCHES=("$@")
OUT="${BENCH_OUT:-docs/benchmarks.md}"

scripts/install-deps.sh >&2
build_wproc
export WPROC_BIN="$WPROC"

header="| figure | wproc | peer or baseline | ratio | bar |
|---|---|---|---|---|"
rows=""
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for name in "${BENCHES[@]}"; do
  script="bench/$name.sh"
  say "== $name"
  err="$BENCH_WORK/$name.stderr"
  if out=$("$script" 2> >(tee "$err" >&2)); then
    rows+="$out"$'\n'
  else
    sleep 0.5  # let tee finish writing the stderr copy
    why=$(grep -v '^\s*$' "$err" | tail -1 | tr '|' '/')
    rows+="$out${out:+$'\n'}| $name | not measured: bench/$name.sh failed: ${why:-no message} | | | |"$'\n'
  fi
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
table="$header
${rows%$'\n'}"
echo "$table"

if [ "$OUT" != "-" ]; then
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  cat > "$OUT" <<MD
# Benchmarks

Taken by \`bench/run.sh\` (one command; it starts its own private MariaDB and other servers) on
$started. Each figure is the median of its repetitions; ratios compare wproc with the tool in
the same row, measured in the same run on the same input. Sub-benches: \`bench/*.sh\`.

| machine | |
|---|---|
| CPU | $cpu, $(nproc) cores visible |
| memory | $mem |
| OS | $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r) |
| tools | $(rustc --version), $(mariadb-binlog --version | sed 's/^.*Ver /mariadb-binlog Ver /' | cut -d, -f1-2) |
| load average before / after | $load_before / $load_after (the machine may be shared: figures vary run to run) |

$table

How each figure is taken:
- **decode**: one binlog of single-row autocommit INSERTs into \`(BIGINT PK, INT, VARCHAR(64),
  DECIMAL(12,2), DATETIME(3), DOUBLE, TEXT, TINYINT UNSIGNED, DATE)\`, written to a private
  MariaDB; wall time of \`wproc binlog dump FILE > /dev/null\` and of
  \`mariadb-binlog --base64-output=decode-rows --verbose FILE > /dev/null\`, and of
  python-mysql-replication's \`BinLogStreamReader\` reading the same file from the server as a
  replica (\`bench/py/decode_pymysqlrepl.py\`, every value of every row touched). Each tool's row
  count is checked once before timing.
- **peak RSS**: GNU time's maximum resident set size of \`wproc binlog dump\` on a binlog holding one
  1,000,000-row transaction (\`INSERT … SELECT … FROM seq_1_to_1000000\`).
- **embedded**: \`wproc run\` (MariaDB source from \`earliest\`, local log, files sink,
  \`max_wait = "1s"\`) on a pre-filled binlog; the clock runs from the process start until every row
  is in a closed (renamed) file; peak RSS is the process's VmHWM.
- **latency**: \`bench/py/latency.py\` inserts at a steady rate (multi-row INSERTs every 10 ms, each
  row's \`committed_at\` = the server's \`NOW(6)\`) while polling the output directory every 20 ms;
  a row's latency is when its closed file was first seen minus its \`committed_at\`.
- **sls**: a fresh \`wproc sls-server\` (4 shards, fsync before every PutLogs answer), \`wproc
  capture\` (MariaDB from \`earliest\`) and one \`wproc run\` (consumer group, files sink,
  \`max_wait = "1s"\`), all on this machine; the clock runs from the start of capture and run until
  every row of the pre-filled binlog is in a closed file (the final 1 s roll included). The
  embedded row of the same repetition is the baseline.
- **hdfs**: \`host/examples/hdfs_sink_bench.rs\` writes generated 8-column change events (inserts
  and updates, ~420 B of JSON each) through the HDFS sink (encode, write, hsync, close, rename) in
  batches of 100,000 over 2 shards into the project's own Hadoop 2.7.3 NameNode and DataNode;
  the baseline is Hadoop's FsShell \`-put\` of the same bytes (JVM start included).
- **wasm**: the filter and passthrough guests of \`guest-examples/\` under \`wproc transform test
  --no-output\` (time inside the transform only: lending the batch, the call, applying the output)
  on generated ten-column events in batches of 1,000; then \`wproc run\` end to end (as
  **embedded**, \`max_wait = "200ms"\`) with and without \`--transform passthrough.wasm\`, the two
  interleaved in ABBA order on the same binlog; the ratio is passthrough over no-transform rows/s.
MD
  say "wrote $OUT"
fi
if [ "${BENCH_KEEP:-}" != 1 ]; then rm -rf "$BENCH_WORK"; fi
