#!/usr/bin/env bash
# WebAssembly transform figures (not timed tests). Prints markdown rows:
#   | figure | wproc | baseline | ratio | bar |
# 1. filter guest, records/s per core on batches of 1,000 ten-column records (time inside the
#    transform: the wasm call plus the host applying the output), bar >= 2,000,000/s;
# 2. passthrough guest against no transform, end to end (a private MariaDB -> wproc run ->
#    files, time until every row is in the files), bar <= 15 % loss.
# Medians of RUNS runs (default 5). Release builds; guests built to ~/.cache/wproc/target-guests.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wproc/target}"
GUESTS="${WPROC_GUEST_TARGET_DIR:-$HOME/.cache/wproc/target-guests}"
RUNS="${RUNS:-5}"
ROWS="${ROWS:-200000}"
E2E_ROWS="${E2E_ROWS:-200000}"
cargo build --release -p wproc --locked >&2
(cd guest-examples && CARGO_TARGET_DIR="$GUESTS" cargo build --release --locked) >&2
WPROC="$CARGO_TARGET_DIR/release/wproc"
G="$GUESTS/wasm32-wasip2/release"
work="$(mktemp -d "${TMPDIR:-/tmp}/wproc-bench-wasm.XXXXXX")"
db_dir="$work/mariadb"
cleanup() {
  [ -d "$db_dir" ] && "$ROOT/tests/harness/mariadb.sh" stop --dir "$db_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
export WPROC_COMPONENT_CACHE="$work/components"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# --- 1. filter throughput -------------------------------------------------------------------
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
rates=()
for _ in $(seq "$RUNS"); do
  r=$("$WPROC" -q transform test "$G/filter.wasm" --input "$work/events.jsonl" \
        --config '{"exclude_tables": ["audit_log"]}' --batch-size 1000 --no-output 2>&1 \
        >/dev/null | sed -n 's/.*records\/s: \([0-9]*\).*/\1/p')
  rates+=("$r")
done
filter=$(printf '%s\n' "${rates[@]}" | median)
echo "| figure | wproc | baseline | ratio | bar |"
echo "|---|---|---|---|---|"
awk -v r="$filter" 'BEGIN { printf "| filter guest, records/s per core (batches of 1000, 10 columns) | %d | 2000000 (bar) | %.2f | >= 1.00 |\n", r, r / 2000000 }'

# --- 2. passthrough end to end ----------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$ROOT/tests/harness/mariadb.sh" start --dir "$db_dir" --port "$port" >/dev/null
"$ROOT/tests/harness/mariadb.sh" sql --dir "$db_dir" -- wproc_test -e "
  CREATE TABLE orders (id BIGINT PRIMARY KEY, customer INT, amount DECIMAL(10,2),
    status VARCHAR(8), country CHAR(2), created DATETIME, qty INT, price DOUBLE,
    note VARCHAR(32), flag TINYINT);
  INSERT INTO orders SELECT seq, seq % 977, (seq % 100000) / 100, ELT(1 + seq % 3, 'new', 'paid', 'sent'),
    ELT(1 + seq % 3, 'NL', 'DE', 'FR'), '2024-11-24 08:00:00', seq % 17, seq * 0.25,
    CONCAT('note ', seq), seq % 2 FROM seq_1_to_${E2E_ROWS};"

count_rows() {
  find "$1" -name '*.jsonl' ! -name '.*' -print0 2>/dev/null | xargs -0 -r cat | grep -c '"op":"insert"' || true
}

# Seconds from start until every row is in the files.
e2e_run() {
  local dir="$1" transform_args=("${@:2}")
  mkdir -p "$dir"
  cat > "$dir/wproc.toml" <<TOML
version = 1
[source.mysql]
host = "127.0.0.1"
port = $port
user = "wproc"
password = "\${BENCH_MYSQL_PASSWORD}"
start = "earliest"
server_id = 5101
[transport.local]
dir = "log"
[sink.files]
dir = "out"
max_wait = "200ms"
TOML
  local start end pid
  start=$(date +%s.%N)
  (cd "$dir" && BENCH_MYSQL_PASSWORD=wproc exec "$WPROC" -q run "${transform_args[@]}") &
  pid=$!
  while [ "$(count_rows "$dir/out")" -lt "$E2E_ROWS" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "wproc run exited early" >&2; exit 1; fi
    sleep 0.2
  done
  end=$(date +%s.%N)
  kill -TERM "$pid"; wait "$pid" || true
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}

base=(); pass=()
for i in $(seq "$RUNS"); do
  base+=("$(e2e_run "$work/base-$i")")
  pass+=("$(e2e_run "$work/pass-$i" --transform "$G/passthrough.wasm")")
done
b=$(printf '%s\n' "${base[@]}" | median)
p=$(printf '%s\n' "${pass[@]}" | median)
awk -v b="$b" -v p="$p" -v n="$E2E_ROWS" 'BEGIN {
  printf "| passthrough guest, end-to-end rows/s (%d rows, MariaDB -> files) | %d | %d (no transform) | %.2f | >= 0.85 |\n", n, n / p, n / b, b / p }'
