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

sls_rates=() local_rates=()
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
  { echo "version = 1"; echo "$transport"; printf '[sink.files]\ndir = "%s/out"\nmax_wait = "1s"\n' "$ws"; } > "$ws/run.toml"
  start=$(now_ns)
  SLS_BENCH_SECRET=bench-secret WPROC_MYSQL_PASSWORD="$MYSQL_PASSWORD" \
    "$WPROC" -q capture --config "$ws/capture.toml" 2>"$ws/capture.log" &
  pids+=($!)
  SLS_BENCH_SECRET=bench-secret "$WPROC" -q run --config "$ws/run.toml" 2>"$ws/run.log" &
  pids+=($!)
  wait_rows "$ws/out" "$ws"
  end=$(now_ns)
  stop_all
  sls_rate=$(awk -v r="$ROWS" -v s="$start" -v e="$end" 'BEGIN { print r / ((e - s) / 1e9) }')
  say "sls rep $rep/$BENCH_REPS: SLS $(fmt_int "$sls_rate") rows/s, embedded $(fmt_int "$local_rate") rows/s"
  sls_rates+=("$sls_rate")
  local_rates+=("$local_rate")
done
sls_med=$(printf '%s\n' "${sls_rates[@]}" | median)
local_med=$(printf '%s\n' "${local_rates[@]}" | median)
row "$figure" "$(fmt_int "$sls_med")" "embedded: $(fmt_int "$local_med")" \
  "$(ratio "$sls_med" "$local_med")" "$bar: $(at_least "$sls_med" 100000)"
