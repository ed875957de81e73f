#!/usr/bin/env bash
# A private MariaDB for wproc's tests and demo: own datadir and port, ROW binlog, FULL metadata.
#
#   tests/harness/mariadb.sh start [--dir DIR] [--port PORT] [--option NAME=VALUE]...
#                                                             # prints MYSQL_* lines to eval;
#                                                             # --option adds/overrides my.cnf lines
#   tests/harness/mariadb.sh stop  [--dir DIR]                 # stops only the server it started
#   tests/harness/mariadb.sh status [--dir DIR]
#   tests/harness/mariadb.sh sql [--dir DIR] -- ARGS...         # the mariadb client as root
#
# Installs mariadb-server-core and mariadb-client with apt when mariadbd is missing. Never touches
# a server it did not start: it stops by the PID it recorded. Creates the user wproc/wproc with
# replication privileges and the database `wproc_test`.
set -euo pipefail

cmd="${1:-}"; shift || true
DIR="${WPROC_MARIADB_DIR:-${TMPDIR:-/tmp}/wproc-mariadb}"
PORT="${WPROC_MARIADB_PORT:-}"
EXTRA=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --option) EXTRA="$EXTRA
$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "mariadb.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "$PORT" ]; then
  # Default: the first free port from 3317 (3306 is the machine's own server).
  PORT=3317
  while port_in_use "$PORT" && [ "$PORT" -lt 3399 ]; do PORT=$((PORT + 1)); done
fi
SOCK="$DIR/run/mysqld.sock"
PIDFILE="$DIR/run/started.pid"

find_bin() {
  for c in "$@"; do
    if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
    for d in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
      [ -x "$d/$c" ] && { echo "$d/$c"; return 0; }
    done
  done
  return 1
}

install_if_missing() {
  if find_bin mariadbd >/dev/null && find_bin mariadb-install-db >/dev/null && find_bin mariadb >/dev/null; then
    return 0
  fi
  echo "mariadb.sh: installing mariadb-server-core and mariadb-client with apt" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends mariadb-server-core mariadb-client >&2
}

running() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

client() {
  "$(find_bin mariadb)" --no-defaults --default-character-set=utf8mb4 --socket="$SOCK" -uroot "$@"
}

print_env() {
  echo "MYSQL_HOST=127.0.0.1"
  echo "MYSQL_PORT=$PORT"
  echo "MYSQL_USER=wproc"
  echo "MYSQL_PASSWORD=wproc"
  echo "MYSQL_SOCKET=$SOCK"
  echo "MYSQL_DIR=$DIR"
}

start() {
  if running; then
    PORT="$(cat "$DIR/run/port")"
    print_env
    return 0
  fi
  install_if_missing
  if port_in_use "$PORT"; then
    echo "mariadb.sh: port $PORT on 127.0.0.1 is in use; pass --port" >&2
    exit 1
  fi
  mkdir -p "$DIR/data" "$DIR/run" "$DIR/binlog" "$DIR/tmp"
  cat > "$DIR/my.cnf" <<CNF
[mariadbd]
datadir=$DIR/data
socket=$SOCK
pid-file=$DIR/run/mysqld.pid
port=$PORT
bind-address=127.0.0.1
user=root
server_id=101
log_bin=$DIR/binlog/mariadb-bin
binlog_format=ROW
binlog_row_image=FULL
binlog_row_metadata=FULL
max_binlog_size=64M
log_error=$DIR/run/error.log
# Own temporary files (internal temporary tables), away from a shared /tmp and its cleaners.
tmpdir=$DIR/tmp
skip-name-resolve
innodb_buffer_pool_size=128M
innodb_log_file_size=48M
innodb_flush_log_at_trx_commit=2
sync_binlog=0
performance_schema=OFF
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
default-time-zone=+00:00
$EXTRA
CNF
  if [ ! -d "$DIR/data/mysql" ]; then
    "$(find_bin mariadb-install-db)" --defaults-file="$DIR/my.cnf" \
      --auth-root-authentication-method=normal --skip-test-db >"$DIR/run/install.log" 2>&1 \
      || { cat "$DIR/run/install.log" >&2; exit 1; }
  fi
  nohup "$(find_bin mariadbd)" --defaults-file="$DIR/my.cnf" >"$DIR/run/stdout.log" 2>&1 &
  echo $! > "$PIDFILE"
  echo "$PORT" > "$DIR/run/port"
  # Up to 120 s: parallel tests on a loaded machine start several servers at once.
  for _ in $(seq 1 1200); do
    if client -e "SELECT 1" >/dev/null 2>&1; then break; fi
    if ! running; then echo "mariadb.sh: mariadbd exited; see $DIR/run/error.log" >&2; tail -20 "$DIR/run/error.log" >&2; exit 1; fi
    sleep 0.1
  done
  client -e "SELECT 1" >/dev/null
  client -e "
    CREATE USER IF NOT EXISTS 'wproc'@'127.0.0.1' IDENTIFIED BY 'wproc';
    CREATE USER IF NOT EXISTS 'wproc'@'localhost' IDENTIFIED BY 'wproc';
    GRANT REPLICATION SLAVE, BINLOG MONITOR, SELECT, RELOAD ON *.* TO 'wproc'@'127.0.0.1';
    GRANT REPLICATION SLAVE, BINLOG MONITOR, SELECT, RELOAD ON *.* TO 'wproc'@'localhost';
    GRANT ALL PRIVILEGES ON wproc_test.* TO 'wproc'@'127.0.0.1';
    GRANT ALL PRIVILEGES ON wproc_test.* TO 'wproc'@'localhost';
    CREATE DATABASE IF NOT EXISTS wproc_test;"
  print_env
}

stop() {
  if ! running; then
    echo "mariadb.sh: not running (no live PID in $PIDFILE)" >&2
    return 0
  fi
  local pid; pid="$(cat "$PIDFILE")"
  kill -TERM "$pid"
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -f "$PIDFILE"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running pid $(cat "$PIDFILE") port $(cat "$DIR/run/port")"; else echo "stopped"; exit 1; fi ;;
  sql) client "$@" ;;
  *) echo "usage: mariadb.sh start|stop|status|sql [--dir DIR] [--port PORT] [-- ARGS]" >&2; exit 2 ;;
esac
