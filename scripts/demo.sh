#!/usr/bin/env bash
# The main job on the embedded defaults, from a fresh clone:
#   MariaDB/MySQL binlog -> wproc (local durable log) -> JSON Lines files.
#
# With no MySQL configured (WPROC_MYSQL_HOST unset) it starts a throwaway MariaDB with ROW binlog
# (installing mariadb-server-core with apt if needed), writes sample rows, runs `wproc run`
# until the rows have landed, shows the output files, then stops what it started.
# With WPROC_MYSQL_HOST/PORT/USER and WPROC_MYSQL_PASSWORD set it reads that server instead
# (from its current binlog position: insert rows while it runs; stop it with Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
DEMO="$ROOT/.demo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wproc/target}"
mkdir -p "$DEMO"

echo "==> building wproc (release)"
cargo build --release -p wproc --bins --quiet
WPROC="$CARGO_TARGET_DIR/release/wproc"

started_db=""
cleanup() {
  if [ -n "${wproc_pid:-}" ] && kill -0 "$wproc_pid" 2>/dev/null; then kill -TERM "$wproc_pid"; wait "$wproc_pid" || true; fi
  if [ -n "$started_db" ]; then "$ROOT/tests/harness/mariadb.sh" stop --dir "$DEMO/mariadb" || true; fi
}
trap cleanup EXIT

if [ -z "${WPROC_MYSQL_HOST:-}" ]; then
  echo "==> no MySQL configured: starting a throwaway MariaDB with ROW binlog in $DEMO/mariadb"
  rm -rf "$DEMO/mariadb" "$DEMO/data" "$DEMO/out"
  db_env="$("$ROOT/tests/harness/mariadb.sh" start --dir "$DEMO/mariadb" ${DEMO_MYSQL_PORT:+--port "$DEMO_MYSQL_PORT"})"
  eval "$db_env"
  started_db=1
  export WPROC_MYSQL_HOST=$MYSQL_HOST WPROC_MYSQL_PORT=$MYSQL_PORT WPROC_MYSQL_USER=$MYSQL_USER
  export WPROC_MYSQL_PASSWORD=$MYSQL_PASSWORD
  start=earliest
  echo "==> writing sample rows"
  "$ROOT/tests/harness/mariadb.sh" sql --dir "$DEMO/mariadb" -- -e "
    CREATE DATABASE IF NOT EXISTS shop;
    CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, customer VARCHAR(64), total DECIMAL(12,2),
      placed_at DATETIME(3), paid BOOLEAN, note TEXT);
    INSERT INTO shop.orders VALUES
      (1, 'Zhang Wei', 199.90, '2026-11-24 09:00:00.125', 1, 'first order'),
      (2, 'Ana Souza', 12.50, '2026-11-24 09:01:30.000', 0, NULL),
      (3, 'Kenji Sato', 1024.00, '2026-11-24 09:02:00.500', 1, '急ぎ');
    UPDATE shop.orders SET paid = 1, total = 13.75 WHERE id = 2;
    DELETE FROM shop.orders WHERE id = 3;"
else
  start=latest
fi

cat > "$DEMO/wproc.toml" <<TOML
version = 1
[source.mysql]
host = "${WPROC_MYSQL_HOST}"
port = ${WPROC_MYSQL_PORT:-3306}
user = "${WPROC_MYSQL_USER:-wproc}"
password = "\${WPROC_MYSQL_PASSWORD}"
start = "$start"
[transport.local]
dir = "$DEMO/data/log"
[sink.files]
dir = "$DEMO/out"
max_wait = "500ms"
TOML

echo "==> running: wproc run --config $DEMO/wproc.toml"
"$WPROC" run --config "$DEMO/wproc.toml" &
wproc_pid=$!

if [ -n "$started_db" ]; then
  for _ in $(seq 1 100); do
    if [ "$(find "$DEMO/out" -name 'part-*.jsonl' -path '*orders*' 2>/dev/null | xargs -r cat | wc -l)" -ge 5 ]; then break; fi
    sleep 0.2
  done
  kill -TERM "$wproc_pid"; wait "$wproc_pid"; wproc_pid=""
  echo
  echo "==> output files under $DEMO/out:"
  find "$DEMO/out" -name 'part-*.jsonl' | sort
  echo
  echo "==> shop.orders changes, one JSON line each:"
  find "$DEMO/out/shop/orders" -name 'part-*.jsonl' | sort | xargs cat
else
  echo "==> reading ${WPROC_MYSQL_HOST}; changes land in $DEMO/out. Ctrl-C to stop."
  wait "$wproc_pid"
fi
