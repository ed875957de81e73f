#!/usr/bin/env bash
# Decode throughput and memory (issue 3's bars), side by side in one run:
#   - one binlog of 200,000 single-row autocommit INSERTs into the bench table, decoded by
#     `wproc binlog dump FILE`, `mariadb-binlog --base64-output=decode-rows --verbose FILE` and
#     python-mysql-replication's BinLogStreamReader reading the same file from the same server;
#   - peak RSS of `wproc binlog dump` (and of mariadb-binlog) on one 1,000,000-row transaction.
# Prints markdown rows; see bench/lib.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROWS="${DECODE_ROWS:-200000}"
BIG_TX_ROWS="${DECODE_BIG_TX_ROWS:-1000000}"
# python-mysql-replication decodes a few hundred to a few thousand rows/s: it reads the first
# PY_ROWS rows of the same file, so that its runs end in minutes.
PY_ROWS="${DECODE_PY_ROWS:-10000}"
trap mariadb_stop_all EXIT

build_wproc
PY="$(python_venv)"
mariadb_start decode
mariadb_sql decode -e "CREATE DATABASE bench; USE bench; $BENCH_TABLE_DDL;
  CREATE TABLE big LIKE t; FLUSH BINARY LOGS"

# 200k single-row INSERTs, each its own autocommit transaction (one GTID, TABLE_MAP, WRITE_ROWS and
# XID each), issued by a server-side loop so the client's round trips do not pace the writes.
inserts_file="$(mariadb_binlog_file decode)"
say "writing $ROWS single-row INSERTs into $inserts_file"
start=$(now_ns)
mariadb_sql decode bench <<SQL
DELIMITER ;;
CREATE PROCEDURE fill(n INT)
BEGIN
  DECLARE i INT DEFAULT 1;
  WHILE i <= n DO
    INSERT INTO t VALUES (i, i * 7, CONCAT('name-', i, '-abcdefghij'), i % 100000 + 0.25,
      TIMESTAMPADD(MICROSECOND, i * 1000, '2026-11-24 09:00:00'), i + 0.25,
      'text text text text text text text text text text', i % 256,
      DATE('2026-01-01') + INTERVAL (i % 365) DAY);
    SET i = i + 1;
  END WHILE;
END;;
DELIMITER ;
CALL fill($ROWS);
SQL
write_s=$(awk -v s="$start" -v e="$(now_ns)" 'BEGIN { printf "%.1f", (e - s) / 1e9 }')
mariadb_sql decode -e "FLUSH BINARY LOGS"
inserts_path="$(mariadb_binlog_path decode "$inserts_file")"
say "wrote $ROWS rows in ${write_s}s; $(du -h "$inserts_path" | cut -f1) of binlog"

# Check once that every tool sees every row (a figure for a tool that read less would be fake).
wproc_rows=$("$WPROC" -q binlog dump "$inserts_path" | grep -c '"op":"insert"')
mdb_rows=$(mariadb-binlog --base64-output=decode-rows --verbose "$inserts_path" | grep -c '^### INSERT INTO')
[ "$wproc_rows" = "$ROWS" ] || { say "wproc decoded $wproc_rows rows, expected $ROWS"; exit 1; }
[ "$mdb_rows" = "$ROWS" ] || { say "mariadb-binlog printed $mdb_rows rows, expected $ROWS"; exit 1; }

wproc_s=() mdb_s=() py_s=()
for rep in $(seq 1 "$BENCH_REPS"); do
  say "decode rep $rep/$BENCH_REPS"
  wproc_s+=("$(time_cmd "$WPROC" -q binlog dump "$inserts_path")")
  mdb_s+=("$(time_cmd mariadb-binlog --base64-output=decode-rows --verbose "$inserts_path")")
  # python-mysql-replication is slow: at most 3 runs.
  if [ "$rep" -le 3 ]; then
    py_s+=("$(time_cmd "$PY" "$BENCH_ROOT/bench/py/decode_pymysqlrepl.py" \
      "$MYSQL_HOST" "$MYSQL_PORT" "$MYSQL_USER" "$MYSQL_PASSWORD" "$inserts_file" "$PY_ROWS")")
  fi
done
say "wproc seconds: ${wproc_s[*]}; mariadb-binlog: ${mdb_s[*]}; python: ${py_s[*]}"
wproc_med=$(printf '%s\n' "${wproc_s[@]}" | median)
mdb_med=$(printf '%s\n' "${mdb_s[@]}" | median)
py_med=$(printf '%s\n' "${py_s[@]}" | median)
wproc_rps=$(awk -v r="$ROWS" -v s="$wproc_med" 'BEGIN { print r / s }')
mdb_rps=$(awk -v r="$ROWS" -v s="$mdb_med" 'BEGIN { print r / s }')
py_rps=$(awk -v r="$PY_ROWS" -v s="$py_med" 'BEGIN { print r / s }')
ratio_mdb=$(awk -v a="$wproc_rps" -v b="$mdb_rps" 'BEGIN { print a / b }')
row "decode $(fmt_int "$ROWS") single-row INSERTs (9 columns), rows/s, median of $BENCH_REPS" \
  "$(fmt_int "$wproc_rps")" "mariadb-binlog --verbose: $(fmt_int "$mdb_rps")" \
  "$(ratio "$wproc_rps" "$mdb_rps")" ">= 3x: $(at_least "$ratio_mdb" 3)"
row "decode, same file (python: its first $(fmt_int "$PY_ROWS") rows, read from the server as a replica), rows/s, median of ${#py_s[@]}" \
  "$(fmt_int "$wproc_rps")" "python-mysql-replication 1.0.17: $(fmt_int "$py_rps")" \
  "$(ratio "$wproc_rps" "$py_rps")" ""

# One 1,000,000-row transaction.
big_file="$(mariadb_binlog_file decode)"
say "writing one transaction of $BIG_TX_ROWS rows into $big_file"
mariadb_sql decode bench -e "INSERT INTO big SELECT seq, seq * 7 % 2147483647,
  CONCAT('name-', seq, '-abcdefghij'), seq % 100000 + 0.25, '2026-11-24 09:00:00.125', seq + 0.25,
  'text text text text text text text text text text', seq % 256, '2026-11-24'
  FROM seq_1_to_$BIG_TX_ROWS; FLUSH BINARY LOGS"
big_path="$(mariadb_binlog_path decode "$big_file")"
say "$(du -h "$big_path" | cut -f1) of binlog for one transaction"
wproc_big_rows=$("$WPROC" -q binlog dump "$big_path" | grep -c '"op":"insert"')
[ "$wproc_big_rows" = "$BIG_TX_ROWS" ] || { say "wproc decoded $wproc_big_rows rows, expected $BIG_TX_ROWS"; exit 1; }
wproc_rss=() mdb_rss=()
for rep in 1 2 3; do
  wproc_rss+=("$(peak_rss_mb "$WPROC" -q binlog dump "$big_path")")
  mdb_rss+=("$(peak_rss_mb mariadb-binlog --base64-output=decode-rows --verbose "$big_path")")
done
say "peak RSS MB wproc: ${wproc_rss[*]}; mariadb-binlog: ${mdb_rss[*]}"
wproc_rss_med=$(printf '%s\n' "${wproc_rss[@]}" | median)
mdb_rss_med=$(printf '%s\n' "${mdb_rss[@]}" | median)
row "peak RSS of \`binlog dump\` on one $(fmt_int "$BIG_TX_ROWS")-row transaction, MB" \
  "$wproc_rss_med" "mariadb-binlog --verbose: $mdb_rss_med" \
  "$(ratio "$wproc_rss_med" "$mdb_rss_med")" "< 50 MB: $(awk -v a="$wproc_rss_med" 'BEGIN { print (a < 50) ? "pass" : "FAIL" }')"
