#!/usr/bin/env bash
# WebAssembly transform figures (issue 5 bars; not timed tests).
#
#   bench/wasm.sh [--header]
#
# 1. filter guest (guest-examples/filter, dropping one table of two by config), records/s per
#    core on batches of 1,000 ten-column records: `wproc transform test --no-output`, which
#    times only the transform (lending the batch, the wasm call, validating and applying the
#    output). Bar: >= 2,000,000 records/s. The passthrough guest's rate on the same input is
#    printed as the per-call floor.
# 2. passthrough guest against no transform, end to end: a private MariaDB (pre-filled binlog)
#    -> `wproc run` (embedded local log) -> files, from process start until every row is in a
#    closed file. The two variants run interleaved (ABBA order) on the same binlog, so load
#    changes on a shared machine hit both alike. Bar: the passthrough run keeps >= 85 % of the
#    no-transform throughput (costs <= 15 %). The same runs also give the user CPU seconds of
#    `wproc run` with and without the transform, a steadier view of the same cost.
#
# Prints markdown rows (see bench/lib.sh; `--header` adds the table header for a stand-alone
# run), progress on stderr. Figures are medians of RUNS (default BENCH_REPS, 3) runs.
# Environment: RUNS, ROWS (filter input events, 200000), E2E_ROWS (pre-filled rows, 1000000:
# smaller runs are dominated by start-up and batch-timer granularity),
# WPROC_BIN (use this binary instead of building), WPROC_GUEST_TARGET_DIR (guest build dir,
# ~/.cache/wproc/target-guests), CARGO_TARGET_DIR.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$BENCH_ROOT"
RUNS="${RUNS:-$BENCH_REPS}"
ROWS="${ROWS:-200000}"
E2E_ROWS="${E2E_ROWS:-1000000}"
TX_ROWS=1000
GUESTS="${WPROC_GUEST_TARGET_DIR:-$HOME/.cache/wproc/target-guests}"
G="$GUESTS/wasm32-wasip2/release"

work="$(mktemp -d "${TMPDIR:-/tmp}/wproc-bench-wasm.XXXXXX")"
db_dir="$work/mariadb"
wproc_pid=""
stop_wproc() {
  if [ -n "$wproc_pid" ] && kill -0 "$wproc_pid" 2>/dev/null; then
    kill -TERM "$wproc_pid"
    wait "$wproc_pid" || true
  fi
  wproc_pid=""
}
cleanup() {
  stop_wproc
  if [ -d "$db_dir" ]; then "$MARIADB_SH" stop --dir "$db_dir" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
# Every run shares one component cache: only the first load compiles.
export WPROC_COMPONENT_CACHE="$work/components"

build_wproc
# A private link to the binary: other work sharing the target dir may rebuild it mid-bench.
ln -f "$WPROC" "$work/wproc" 2>/dev/null || cp "$WPROC" "$work/wproc"
WPROC="$work/wproc"
say "building the guest examples into $GUESTS"
(cd guest-examples && CARGO_TARGET_DIR="$GUESTS" cargo build --release --locked --quiet) >&2
for g in filter passthrough; do
  [ -f "$G/$g.wasm" ] || { say "missing $G/$g.wasm"; exit 1; }
done

# --- 1. in-transform throughput -------------------------------------------------------------
# 10 columns; 60 % insert, 30 % update (both images), 10 % delete; 25 % of rows in audit_log.
python3 - "$ROWS" > "$work/events.jsonl" <<'PY'
import json, sys
n = int(sys.argv[1])
for i in range(n):
    table = "audit_log" if i % 4 == 3 else "orders"
    row = {"id": i, "customer": i % 977, "amount": "%d.%02d" % (i % 1000, i % 100),
           "status": ["new", "paid", "sent"][i % 3], "country": ["NL", "DE", "FR"][i % 3],
           "created": "2024-11-24 08:00:%02d" % (i % 60), "qty": i % 17, "price": i * 0.25,
           "note": "note %d" % i, "flag": i % 2}
    k = i % 10
    op = "insert" if k < 6 else ("update" if k < 9 else "delete")
    e = {"op": op, "db": "shop", "table": table, "ts_ms": 1732435200000,
         "pos": {"file": "bin.000001", "offset": 4 + i, "row": 0, "gtid": None},
         "before": row if op != "insert" else None, "after": row if op != "delete" else None}
    print(json.dumps(e, separators=(",", ":")))
PY
kept_rows=$(awk -v n="$ROWS" 'BEGIN { print n - int(n / 4) }')

# transform_rate GUEST CONFIG EXPECTED_OUT: records/s of one `transform test` run.
transform_rate() {
  local report rate out
  if ! report=$("$WPROC" -q transform test "$G/$1.wasm" --input "$work/events.jsonl" \
      --config "$2" --batch-size 1000 --no-output 2>&1 >/dev/null); then
    say "transform test $1 failed: $report"
    return 1
  fi
  out=$(sed -n 's/.*events in: [0-9]*, out: \([0-9]*\).*/\1/p' <<<"$report")
  rate=$(sed -n 's/.*records\/s: \([0-9]*\).*/\1/p' <<<"$report")
  if [ "$out" != "$3" ] || [ -z "$rate" ]; then
    say "transform test $1: expected $3 events out, got: $report"
    return 1
  fi
  echo "$rate"
}

filter_config='{"exclude_tables": ["audit_log"]}'
filter_rates=() pass_rates=()
for i in $(seq "$RUNS"); do
  f=$(transform_rate filter "$filter_config" "$kept_rows")
  p=$(transform_rate passthrough "" "$ROWS")
  filter_rates+=("$f") pass_rates+=("$p")
  say "transform rep $i/$RUNS: filter $(fmt_int "$f") records/s, passthrough $(fmt_int "$p") records/s"
done
filter=$(printf '%s\n' "${filter_rates[@]}" | median)
pass_call=$(printf '%s\n' "${pass_rates[@]}" | median)

# --- 2. passthrough end to end ----------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
db_env=$("$MARIADB_SH" start --dir "$db_dir" --port "$port")
eval "$db_env"
say "filling $E2E_ROWS rows in transactions of $TX_ROWS"
{
  echo "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer INT, amount DECIMAL(10,2),
    status VARCHAR(8), country CHAR(2), created DATETIME, qty INT, price DOUBLE,
    note VARCHAR(32), flag TINYINT);"
  for ((k = 0; k * TX_ROWS < E2E_ROWS; k++)); do
    n=$((E2E_ROWS - k * TX_ROWS < TX_ROWS ? E2E_ROWS - k * TX_ROWS : TX_ROWS))
    echo "INSERT INTO orders SELECT seq + $((k * TX_ROWS)), seq % 977, (seq % 100000) / 100,
      ELT(1 + seq % 3, 'new', 'paid', 'sent'), ELT(1 + seq % 3, 'NL', 'DE', 'FR'),
      '2024-11-24 08:00:00', seq % 17, seq * 0.25, CONCAT('note ', seq), seq % 2
      FROM seq_1_to_$n;"
  done
} | "$MARIADB_SH" sql --dir "$db_dir" -- wproc_test

# Compiles the passthrough into the shared cache, so that no timed run pays for it.
transform_rate passthrough "" "$ROWS" >/dev/null

# e2e_run DIR [--transform FILE]: sets `secs` to the seconds from process start until every row
# is in a closed file, and `cpu_user`/`cpu_sys` to the CPU seconds wproc used until then.
# (Not in a subshell: the EXIT trap must see wproc's pid.)
e2e_run() {
  local dir="$1" start end
  local transform_args=("${@:2}")
  mkdir -p "$dir"
  cat > "$dir/wproc.toml" <<TOML
version = 1
[source.mysql]
host = "$MYSQL_HOST"
port = $MYSQL_PORT
user = "$MYSQL_USER"
password = "\${BENCH_MYSQL_PASSWORD}"
start = "earliest"
server_id = 5101
[transport.local]
dir = "$dir/log"
[sink.files]
dir = "$dir/out"
max_wait = "200ms"
TOML
  counted=0
  seen=()
  start=$(now_ns)
  BENCH_MYSQL_PASSWORD="$MYSQL_PASSWORD" "$WPROC" -q run --config "$dir/wproc.toml" \
    "${transform_args[@]}" 2>"$dir/wproc.log" &
  wproc_pid=$!
  while :; do
    count_new_files "$dir/out"
    [ "$counted" -ge "$E2E_ROWS" ] && break
    if ! kill -0 "$wproc_pid" 2>/dev/null; then
      say "wproc run exited early:"
      tail -5 "$dir/wproc.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  end=$(now_ns)
  # CPU seconds of the process so far (all threads; clock ticks in /proc/PID/stat).
  read -r cpu_user cpu_sys < <(awk -v hz="$(getconf CLK_TCK)" \
    '{ sub(/^.*\) /, ""); printf "%.2f %.2f\n", $12 / hz, $13 / hz }' "/proc/$wproc_pid/stat")
  stop_wproc
  if [ "$counted" -ne "$E2E_ROWS" ]; then
    say "expected $E2E_ROWS rows in $dir/out, found $counted"
    exit 1
  fi
  rm -rf "$dir"
  secs=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", (e - s) / 1e9 }')
}

base=() pass=() pair=() base_user=() pass_user=()
for i in $(seq "$RUNS"); do
  if ((i % 2)); then
    e2e_run "$work/base-$i"; b=$secs bu=$cpu_user bs=$cpu_sys
    e2e_run "$work/pass-$i" --transform "$G/passthrough.wasm"; p=$secs pu=$cpu_user ps=$cpu_sys
  else
    e2e_run "$work/pass-$i" --transform "$G/passthrough.wasm"; p=$secs pu=$cpu_user ps=$cpu_sys
    e2e_run "$work/base-$i"; b=$secs bu=$cpu_user bs=$cpu_sys
  fi
  base+=("$b") pass+=("$p") base_user+=("$bu") pass_user+=("$pu")
  pair+=("$(awk -v b="$b" -v p="$p" 'BEGIN { print b / p }')")
  say "e2e rep $i/$RUNS: no transform ${b} s (cpu user ${bu} s, sys ${bs} s)," \
    "passthrough ${p} s (cpu user ${pu} s, sys ${ps} s); throughput ratio ${pair[-1]}"
done
say "e2e: median of the per-pair ratios $(printf '%s\n' "${pair[@]}" | median)"
b=$(printf '%s\n' "${base[@]}" | median)
p=$(printf '%s\n' "${pass[@]}" | median)
base_rate=$(awk -v n="$E2E_ROWS" -v t="$b" 'BEGIN { print n / t }')
pass_rate=$(awk -v n="$E2E_ROWS" -v t="$p" 'BEGIN { print n / t }')
bu=$(printf '%s\n' "${base_user[@]}" | median)
pu=$(printf '%s\n' "${pass_user[@]}" | median)
kept=$(awk -v a="$pass_rate" -v b="$base_rate" 'BEGIN { printf "%.2f", a / b }')
cost=$(awk -v k="$kept" 'BEGIN { c = (1 - k) * 100; if (c > 0) printf "cost %.0f %%", c; else printf "no cost measured: %+.0f %% rows/s", -c }')

if [[ ${1:-} == --header ]]; then
  echo '| figure | wproc | peer or baseline | ratio | bar |'
  echo '|---|---|---|---|---|'
fi
row "WASM filter guest (drops 1 table of 2), records/s per core in the transform, batches of 1,000 ten-column records, median of $RUNS" \
  "$(fmt_int "$filter")" "bar: 2,000,000" "$(ratio "$filter" 2000000)" \
  ">= 2,000,000: $(at_least "$filter" 2000000)"
row "WASM passthrough guest, records/s per core in the transform (the per-call floor), same input, median of $RUNS" \
  "$(fmt_int "$pass_call")" "" "" ""
row "WASM passthrough guest end to end: MariaDB -> run (embedded local log) -> files, $(fmt_int "$E2E_ROWS") pre-filled rows, rows/s, interleaved with no transform, median of $RUNS" \
  "$(fmt_int "$pass_rate")" "no transform: $(fmt_int "$base_rate")" "${kept}x (${cost})" \
  "cost <= 15 %: $(at_least "$kept" 0.85)"
row "WASM passthrough guest end to end, same runs: user CPU seconds of \`wproc run\` (all threads), median of $RUNS" \
  "$pu" "no transform: $bu" "$(awk -v a="$pu" -v b="$bu" 'BEGIN { printf "%.2fx", a / b }')" ""
