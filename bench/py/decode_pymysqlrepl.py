"""python-mysql-replication's BinLogStreamReader reading one binlog file from a live server.

Reads FILE from offset 4 as a replica (is_mariadb=False with log_file/log_pos, as the shared
notes measured it: is_mariadb=True would switch to GTID mode), iterates every row of every
WRITE_ROWS event and every value, and stops after EXPECTED rows. Prints the row count on stderr.

usage: decode_pymysqlrepl.py HOST PORT USER PASSWORD FILE EXPECTED
"""
import sys

from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.row_event import WriteRowsEvent


def main():
    host, port, user, password, log_file, expected = sys.argv[1:7]
    expected = int(expected)
    stream = BinLogStreamReader(
        connection_settings={"host": host, "port": int(port), "user": user, "passwd": password},
        server_id=4170099,
        log_file=log_file,
        log_pos=4,
        resume_stream=True,
        blocking=False,
        only_events=[WriteRowsEvent],
        is_mariadb=False,
    )
    rows = 0
    values = 0
    try:
        for event in stream:
            for row in event.rows:
                values += len(row["values"])
                rows += 1
            if rows >= expected:
                break
    finally:
        stream.close()
    print(f"python-mysql-replication: {rows} rows, {values} values", file=sys.stderr)
    if rows != expected:
        sys.exit(f"expected {expected} rows, read {rows}")


if __name__ == "__main__":
    main()
