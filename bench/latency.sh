#!/usr/bin/env bash
# End-to-end latency at a steady 5,000 rows/s with a 1-second roll (max_wait = "1s"): from the
# commit in MariaDB (the row's NOW(6) column) to the row being in a closed (renamed) output file
# (bench/py/latency.py). LATENCY_SINK=files (default) measures `wproc run` into local files;
# LATENCY_SINK=hdfs is for the HDFS sink once it exists. Prints markdown rows; see bench/lib.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
RATE="${LATENCY_RATE:-5000}"
SECONDS_LOAD="${LATENCY_SECONDS:-30}"
WARMUP="${LATENCY_WARMUP:-5}"
SINK="${LATENCY_SINK:-files}"
figure="latency commit -> row in a closed file at $(fmt_int "$RATE") rows/s, 1 s roll ($SINK sink), p50 / p99 ms"
if [ "$SINK" != files ]; then
  not_measurable "$figure" "bench/latency.sh measures the files sink only so far" "p99 <= 2000 ms"
  exit 0
fi
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
PY="$(python_venv)"
mariadb_start latency
mariadb_sql latency -e "CREATE TABLE wproc_test.lat (id BIGINT AUTO_INCREMENT
  PRIMARY KEY, committed_at DATETIME(6) NOT NULL, payload VARCHAR(64))"

p50s=() p99s=() rss=() achieved=()
reps=$((BENCH_REPS < 3 ? BENCH_REPS : 3))
for rep in $(seq 1 "$reps"); do
  ws="$BENCH_WORK/latency-run"
  rm -rf "$ws"
  mkdir -p "$ws"
  cat > "$ws/wproc.toml" <<TOML
version = 1
[source.mysql]
host = "$MYSQL_HOST"
port = $MYSQL_PORT
user = "$MYSQL_USER"
password = "\${WPROC_MYSQL_PASSWORD}"
start = "latest"
server_id = 4170102
[transport.local]
dir = "$ws/log"
[sink.files]
dir = "$ws/out"
max_wait = "1s"
TOML
  WPROC_MYSQL_PASSWORD="$MYSQL_PASSWORD" "$WPROC" run --config "$ws/wproc.toml" 2>"$ws/wproc.log" &
  wproc_pid=$!
  # Wait until wproc streams from the server (it logs once connected), at most 15 s.
  for _ in $(seq 1 150); do
    grep -qi 'stream\|connected\|replica' "$ws/wproc.log" 2>/dev/null && break
    sleep 0.1
  done
  sleep 1
  read -r p50 p99 max rows rate < <("$PY" "$BENCH_ROOT/bench/py/latency.py" "$MYSQL_HOST" \
    "$MYSQL_PORT" "$MYSQL_USER" "$MYSQL_PASSWORD" "$ws/out" "$RATE" "$SECONDS_LOAD" "$WARMUP")
  rss+=("$(vm_hwm_mb "$wproc_pid")")
  stop_wproc
  say "latency rep $rep/$reps: p50 ${p50} ms, p99 ${p99} ms, max ${max} ms, $rows rows at $rate rows/s"
  p50s+=("$p50") p99s+=("$p99") achieved+=("$rate")
done
p50_med=$(printf '%s\n' "${p50s[@]}" | median)
p99_med=$(printf '%s\n' "${p99s[@]}" | median)
rate_med=$(printf '%s\n' "${achieved[@]}" | median)
rss_med=$(printf '%s\n' "${rss[@]}" | median)
row "$figure, median of $reps runs of ${SECONDS_LOAD} s (first ${WARMUP} s left out; load achieved $(fmt_int "$rate_med") rows/s)" \
  "$p50_med / $p99_med" "" "" "p99 <= 2000 ms: $(awk -v a="$p99_med" 'BEGIN { print (a <= 2000) ? "pass" : "FAIL" }')"
row "peak RSS of \`wproc run\` at $(fmt_int "$RATE") rows/s (VmHWM), MB, median" "$rss_med" "" "" ""
