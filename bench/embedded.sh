#!/usr/bin/env bash
# The embedded transport end to end: MariaDB -> `wproc run` (local log) -> JSON Lines files.
# A private MariaDB is pre-filled with ROWS rows of the bench table (transactions of 1,000 rows);
# each repetition starts `wproc run` with start = "earliest" on an empty log and output, and the
# clock stops when every row is in a closed (renamed) file. Also the wproc process's peak RSS
# (VmHWM). Prints markdown rows; see bench/lib.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROWS="${EMBEDDED_ROWS:-500000}"
TX_ROWS=1000
trap 'stop_wproc; mariadb_stop_all' EXIT
wproc_pid=""
stop_wproc() {
  if [ -n "$wproc_pid" ] && kill -0 "$wproc_pid" 2>/dev/null; then
    kill -TERM "$wproc_pid"
    wait "$wproc_pid" || true
  fi
  wproc_pid=""
}

build_wproc
mariadb_start embedded
say "filling $ROWS rows in transactions of $TX_ROWS"
{
  echo "CREATE DATABASE bench; USE bench; $BENCH_TABLE_DDL;"
  for ((k = 0; k < ROWS / TX_ROWS; k++)); do
    echo "INSERT INTO t SELECT seq + $((k * TX_ROWS)), seq * 7, CONCAT('name-', seq, '-abcdefghij'),
      seq % 100000 + 0.25, '2026-11-24 09:00:00.125', seq + 0.25,
      'text text text text text text text text text text', seq % 256, '2026-11-24'
      FROM seq_1_to_$TX_ROWS;"
  done
} | mariadb_sql embedded

rates=() rss=()
for rep in $(seq 1 "$BENCH_REPS"); do
  ws="$BENCH_WORK/embedded-run"
  rm -rf "$ws"
  mkdir -p "$ws"
  cat > "$ws/wproc.toml" <<TOML
version = 1
[source.mysql]
host = "$MYSQL_HOST"
port = $MYSQL_PORT
user = "$MYSQL_USER"
password = "\${WPROC_MYSQL_PASSWORD}"
start = "earliest"
server_id = 4170101
[transport.local]
dir = "$ws/log"
[sink.files]
dir = "$ws/out"
max_wait = "1s"
TOML
  start=$(now_ns)
  WPROC_MYSQL_PASSWORD="$MYSQL_PASSWORD" "$WPROC" -q run --config "$ws/wproc.toml" 2>"$ws/wproc.log" &
  wproc_pid=$!
  peak=0 counted=0 seen=()
  while :; do
    count_new_files "$ws/out"
    hwm=$(vm_hwm_mb "$wproc_pid" || true)
    [ -n "$hwm" ] && peak="$hwm"
    [ "$counted" -ge "$ROWS" ] && break
    if ! kill -0 "$wproc_pid" 2>/dev/null; then say "wproc exited early:"; tail -5 "$ws/wproc.log" >&2; exit 1; fi
    sleep 0.05
  done
  end=$(now_ns)
  stop_wproc
  rate=$(awk -v r="$ROWS" -v s="$start" -v e="$end" 'BEGIN { print r / ((e - s) / 1e9) }')
  say "embedded rep $rep/$BENCH_REPS: $(fmt_int "$rate") rows/s, peak RSS ${peak} MB"
  rates+=("$rate")
  rss+=("$peak")
done
rate_med=$(printf '%s\n' "${rates[@]}" | median)
rss_med=$(printf '%s\n' "${rss[@]}" | median)
row "MariaDB -> run (embedded local log) -> files, rows/s from a pre-filled binlog of $(fmt_int "$ROWS") rows until all are in closed files, median of $BENCH_REPS" \
  "$(fmt_int "$rate_med")" "" "" ""
row "peak RSS of \`wproc run\` in that run (VmHWM), MB, median" "$rss_med" "" "" ""
