#!/usr/bin/env bash
# The SLS transport end to end: MariaDB -> `wproc capture` -> `wproc sls-server` (local,
# SLS-compatible, durable) -> `wproc run` (consumer group) -> JSON Lines files, next to the
# embedded transport (MariaDB -> `wproc run` with the local log -> files) on the same pre-filled
# binlog in the same run. Bar (issue 4): >= 100,000 rows/s on this 2-core machine.
#
# A private MariaDB is pre-filled with ROWS rows of the bench table (transactions of 1,000 rows).
# Each repetition starts from empty state (a fresh sls-server data dir, log and output); the
# clock starts when the wproc processes start and stops when every row is in a closed (renamed)
# file. Prints markdown rows (see bench/lib.sh). Knobs: SLS_ROWS (default 1000000), BENCH_REPS.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROWS="${SLS_ROWS:-1000000}"
TX_ROWS=1000
figure="MariaDB -> capture -> local SLS server -> run -> files, rows/s from a pre-filled binlog of $(fmt_int "$ROWS") rows until all are in closed files (embedded local log as baseline, same run), median of $BENCH_REPS"
bar=">= 100,000 rows/s"
pids=()
stop_all() {
  local p
  for p in "${pids[@]:-}"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  pids=()
}
trap 'stop_all; mariadb_stop_all' EXIT

build_wproc
if ! "$WPROC" sls-server --help >/dev/null 2>&1; then
  not_measurable "$figure" "\`wproc sls-server\` is not in this build" "$bar"
  exit 0
fi

# Waits until $ROWS insert rows are in closed files under $1; fails if a process in $pids died.
wait_rows() {
  counted=0 seen=()
  while :; do
    count_new_files "$1"
    [ "$counted" -ge "$ROWS" ] && return 0
    local p
    for p in "${pids[@]}"; do
      if ! kill -0 "$p" 2>/dev/null; then say "a wproc process exited early; logs in $2"; tail -5 "$2"/*.log >&2; exit 1; fi
    done
    sleep 0.05
  done
}

source_toml() {
  cat <<TOML
[source.mysql]
host = "$MYSQL_HOST"
port = $MYSQL_PORT
user = "$MYSQL_USER"
password = "\${WPROC_MYSQL_PASSWORD}"
start = "earliest"
server_id = $1
TOML
}

mariadb_start sls
say "filling $ROWS rows in transactions of $TX_ROWS"
{
  echo "CREATE DATABASE bench; USE bench; $BENCH_TABLE_DDL;"
  for ((k = 0; k < ROWS / TX_ROWS; k++)); do
    echo "INSERT INTO t SELECT seq + $((k * TX_ROWS)), seq * 7, CONCAT('name-', seq, '-abcdefghij'),
      seq % 100000 + 0.25, '2026-11-24 09:00:00.125', seq + 0.25,
      'text text text text text text text text text text', seq % 256, '2026-11-24'
      FROM seq_1_to_$TX_ROWS;"
  done
} | mariadb_sql sls

# The issue 8 figure lands in HDFS: the project's own Hadoop NameNode and DataNode, started once.
HDFS_SH="$BENCH_ROOT/tests/harness/hdfs.sh"
hdfs_dir="$BENCH_WORK/sls-hdfs-cluster"
rm -rf "$hdfs_dir"
hdfs_url=""
if env_lines=$("$HDFS_SH" start --dir "$hdfs_dir" 2>"$BENCH_WORK/sls-hdfs-start.log"); then
  hdfs_url=$(sed -n 's/^HDFS_URL=//p' <<<"$env_lines")
else
  say "HDFS did not start (see $BENCH_WORK/sls-hdfs-start.log): no SLS -> HDFS figure"
fi
trap 'stop_all; mariadb_stop_all; [ -n "$hdfs_url" ] && "$HDFS_SH" stop --dir "$hdfs_dir" >/dev/null 2>&1 || true' EXIT

# Waits until the sink of the `wproc run` serving metrics on $1 has written $ROWS events.
wait_sink_events() {
  local n p
  while :; do
    n=$(curl -s "http://$1/metrics" | awk '/^wproc_events_out_total\{stage="sink"\}/ { print $2 }')
    [ "${n:-0}" -ge "$ROWS" ] 2>/dev/null && return 0
    for p in "${pids[@]}"; do
      if ! kill -0 "$p" 2>/dev/null; then say "a wproc process exited early; logs in $2"; tail -5 "$2"/*.log >&2; exit 1; fi
    done
    sleep 0.05
  done
}

# Starts a fresh sls-server in $1 and sets $transport (the [transport.sls] section) and capture.toml.
start_sls() {
  local ws="$1" url
  rm -rf "$ws" && mkdir -p "$ws"
  cat > "$ws/server.toml" <<TOML
version = 1
[[access_keys]]
id = "bench-ak"
secret = "\${SLS_BENCH_SECRET}"
[[projects]]
name = "bench"
logstores = [{ name = "binlog", shards = 4 }]
TOML
  SLS_BENCH_SECRET=bench-secret "$WPROC" -q sls-server --listen 127.0.0.1:0 --data "$ws/data" \
    --config "$ws/server.toml" >"$ws/server.out" 2>"$ws/server.log" &
  pids=($!)
  for _ in $(seq 1 100); do grep -q 'listening on' "$ws/server.out" 2>/dev/null && break; sleep 0.05; done
  url=$(sed -n 's/^listening on //p' "$ws/server.out" | head -1)
  [ -n "$url" ] || { say "sls-server did not start"; tail -5 "$ws/server.log" >&2; exit 1; }
  transport=$(printf '[transport.sls]\nendpoint = "%s"\nproject = "bench"\nlogstore = "binlog"\naccess_key_id = "bench-ak"\naccess_key_secret = "${SLS_BENCH_SECRET}"\nstate_dir = "%s/state"\n' "$url" "$ws")
  { echo "version = 1"; source_toml 4170202; echo "$transport"; } > "$ws/capture.toml"
}

# Starts capture and run on the configs in $1.
start_capture_and_run() {
  SLS_BENCH_SECRET=bench-secret WPROC_MYSQL_PASSWORD="$MYSQL_PASSWORD" \
    "$WPROC" -q capture --config "$1/capture.toml" 2>"$1/capture.log" &
  pids+=($!)
  SLS_BENCH_SECRET=bench-secret "$WPROC" -q run --config "$1/run.toml" 2>"$1/run.log" &
  pids+=($!)
}

sls_rates=() local_rates=() hdfs_rates=()
for rep in $(seq 1 "$BENCH_REPS"); do
  # Embedded baseline.
  ws="$BENCH_WORK/sls-embedded"
  rm -rf "$ws" && mkdir -p "$ws"
  { echo "version = 1"; source_toml 4170201
    printf '[transport.local]\ndir = "%s/log"\n[sink.files]\ndir = "%s/out"\nmax_wait = "1s"\n' "$ws" "$ws"; } > "$ws/wproc.toml"
  start=$(now_ns)
  WPROC_MYSQL_PASSWORD="$MYSQL_PASSWORD" "$WPROC" -q run --config "$ws/wproc.toml" 2>"$ws/run.log" &
  pids=($!)
  wait_rows "$ws/out" "$ws"
  end=$(now_ns)
  stop_all
  local_rate=$(awk -v r="$ROWS" -v s="$start" -v e="$end" 'BEGIN { print r / ((e - s) / 1e9) }')

  # SLS: a fresh server, capture and one consumer.
  ws="$BENCH_WORK/sls-run"
  start_sls "$ws"
  { echo "version = 1"; echo "$transport"; printf '[sink.files]\ndir = "%s/out"\nmax_wait = "1s"\n' "$ws"; } > "$ws/run.toml"
  start=$(now_ns)
  start_capture_and_run "$ws"
  wait_rows "$ws/out" "$ws"
  end=$(now_ns)
  stop_all
  sls_rate=$(awk -v r="$ROWS" -v s="$start" -v e="$end" 'BEGIN { print r / ((e - s) / 1e9) }')
  # SLS into HDFS: the same, with the HDFS sink (defaults but a 1 s roll); the clock stops when
  # the sink has written every row (its events_out counter: files closed and renamed).
  hdfs_rate=0
  if [ -n "$hdfs_url" ]; then
    ws="$BENCH_WORK/sls-hdfs"
    start_sls "$ws"
    port=$((20000 + RANDOM % 20000))
    { echo "version = 1"; echo "$transport"
      printf '[sink.hdfs]\nurl = "%s"\ndir = "/bench-%s"\nmax_wait = "1s"\n[telemetry]\nlisten = "127.0.0.1:%s"\n' "$hdfs_url" "$rep" "$port"; } > "$ws/run.toml"
    start=$(now_ns)
    start_capture_and_run "$ws"
    wait_sink_events "127.0.0.1:$port" "$ws"
    end=$(now_ns)
    stop_all
    hdfs_rate=$(awk -v r="$ROWS" -v s="$start" -v e="$end" 'BEGIN { print r / ((e - s) / 1e9) }')
    hdfs_rates+=("$hdfs_rate")
  fi
  say "sls rep $rep/$BENCH_REPS: SLS $(fmt_int "$sls_rate") rows/s, SLS -> HDFS $(fmt_int "$hdfs_rate") rows/s, embedded $(fmt_int "$local_rate") rows/s"
  sls_rates+=("$sls_rate")
  local_rates+=("$local_rate")
done
sls_med=$(printf '%s\n' "${sls_rates[@]}" | median)
local_med=$(printf '%s\n' "${local_rates[@]}" | median)
row "$figure" "$(fmt_int "$sls_med")" "embedded: $(fmt_int "$local_med")" \
  "$(ratio "$sls_med" "$local_med")" "$bar: $(at_least "$sls_med" 100000)"
hdfs_figure="MariaDB -> capture -> local SLS server -> run -> HDFS (local Hadoop 2.7.3, 1 s roll), rows/s until the sink has written all $(fmt_int "$ROWS") rows, median of $BENCH_REPS"
if [ ${#hdfs_rates[@]} -gt 0 ]; then
  hdfs_med=$(printf '%s\n' "${hdfs_rates[@]}" | median)
  row "$hdfs_figure" "$(fmt_int "$hdfs_med")" "embedded -> files: $(fmt_int "$local_med")" \
    "$(ratio "$hdfs_med" "$local_med")" ">= 100,000 rows/s (issue 8): $(at_least "$hdfs_med" 100000)"
else
  not_measurable "$hdfs_figure" "HDFS did not start here" ">= 100,000 rows/s"
fi
