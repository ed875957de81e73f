# Shared helpers for the bench/*.sh scripts (sourced, not run).
#
# Every sub-bench prints markdown table rows on stdout:
#   | figure | wproc | peer or baseline | ratio | bar |
# and progress on stderr. A sub-bench that cannot measure prints a row saying why and never a
# made-up figure.

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wproc/target}"
WPROC="${WPROC_BIN:-$CARGO_TARGET_DIR/release/wproc}"
# Scratch space for servers, binlogs and outputs; removed by run.sh unless BENCH_KEEP=1.
BENCH_WORK="${BENCH_WORK:-${TMPDIR:-/tmp}/wproc-bench}"
# Repetitions per timed figure (the median is quoted).
BENCH_REPS="${BENCH_REPS:-3}"
VENV="${BENCH_VENV:-$HOME/.cache/wproc/bench-venv}"
MARIADB_SH="$BENCH_ROOT/tests/harness/mariadb.sh"
mkdir -p "$BENCH_WORK"

say() { printf 'bench: %s\n' "$*" >&2; }

# A row of the table.
row() { printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5"; }

# A row for a figure that cannot be taken yet (or on this machine).
not_measurable() { row "$1" "not yet measurable: $2" "" "" "${3:-}"; }

# Nanoseconds since the epoch.
now_ns() { date +%s%N; }

# The median of the numbers on stdin (one per line).
median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) exit 1; if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# Thousands separators for an integer-ish number: 1234567.8 -> 1,234,568.
fmt_int() { LC_ALL=C printf "%.0f" "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

# A / B with one decimal, e.g. "3.4x".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }

# pass / FAIL for "A >= B" (numbers).
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "pass" : "FAIL" }'; }

# Seconds (with fractions) a command takes: time_cmd CMD ARGS... (stdout to /dev/null).
time_cmd() {
  local start end
  start=$(now_ns)
  "$@" >/dev/null
  end=$(now_ns)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.6f\n", (e - s) / 1e9 }'
}

# Peak RSS in MB of a command (GNU time's "Maximum resident set size").
peak_rss_mb() {
  local report
  report=$(mktemp)
  /usr/bin/time -v -o "$report" "$@" >/dev/null
  awk -F: '/Maximum resident set size/ { printf "%.1f\n", $2 / 1024 }' "$report"
  rm -f "$report"
}

# VmHWM (peak RSS) of a live process in MB.
vm_hwm_mb() { awk '/^VmHWM:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }

# Builds wproc in release unless WPROC_BIN names a binary.
build_wproc() {
  if [ -n "${WPROC_BIN:-}" ]; then return 0; fi
  say "building wproc (release) into $CARGO_TARGET_DIR"
  (cd "$BENCH_ROOT" && cargo build --release -p wproc --bins --quiet) >&2
}

# Starts a private MariaDB in $BENCH_WORK/<name> and sets MYSQL_* (tests/harness/mariadb.sh).
mariadb_start() {
  local dir="$BENCH_WORK/$1"
  rm -rf "$dir"
  eval "$("$MARIADB_SH" start --dir "$dir")"
  MARIADB_DIRS+=("$dir")
}

# The mariadb client as root on the server in $BENCH_WORK/<name>.
mariadb_sql() { local name="$1"; shift; "$MARIADB_SH" sql --dir "$BENCH_WORK/$name" -- "$@"; }

# Stops every server this script started.
mariadb_stop_all() {
  local dir
  for dir in "${MARIADB_DIRS[@]:-}"; do
    [ -n "$dir" ] && "$MARIADB_SH" stop --dir "$dir" >/dev/null 2>&1 || true
  done
}
MARIADB_DIRS=()

# The current binlog file of the server in $BENCH_WORK/<name>.
mariadb_binlog_file() { mariadb_sql "$1" -N -e "SHOW MASTER STATUS" | awk '{print $1}'; }

# Path of a binlog file of the server in $BENCH_WORK/<name>.
mariadb_binlog_path() { echo "$BENCH_WORK/$1/binlog/$2"; }

# A Python venv with python-mysql-replication (and PyMySQL), cached under ~/.cache/wproc.
python_venv() {
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import pymysqlreplication' 2>/dev/null; then
    say "creating $VENV with mysql-replication"
    python3 -m venv "$VENV" >&2
    "$VENV/bin/pip" install --quiet 'mysql-replication==1.0.17' 'PyMySQL==1.2.4' >&2
  fi
  echo "$VENV/bin/python"
}

# The bench table's schema (issue 3): the decode and end-to-end figures use it.
BENCH_TABLE_DDL="CREATE TABLE t (id BIGINT PRIMARY KEY, a INT, b VARCHAR(64), c DECIMAL(12,2),
  d DATETIME(3), e DOUBLE, f TEXT, g TINYINT UNSIGNED, h DATE)"

# Adds the insert rows of closed files under $1 not counted before to $counted (a closed file
# never changes; temporaries start with a dot and are not matched).
declare -gA seen
counted=0
count_new_files() {
  local f n
  while IFS= read -r -d '' f; do
    [ -n "${seen[$f]:-}" ] && continue
    seen[$f]=1
    n=$(grep -c '"op":"insert"' "$f" || true)
    counted=$((counted + n))
  done < <(find "$1" -name 'part-*.jsonl' -print0 2>/dev/null)
}
