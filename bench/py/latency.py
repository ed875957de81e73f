"""End-to-end latency at a steady insert rate: commit in MariaDB -> row in a closed output file.

A load thread inserts RATE rows/s into `wproc_test.lat` for SECONDS, in multi-row autocommit INSERTs
every 10 ms whose `committed_at DATETIME(6)` column is the server's NOW(6) (the statement's start,
just before its commit). A poller lists OUT_DIR every 20 ms; a row's latency is the moment its
closed (renamed) `part-*.jsonl` file was first seen minus its `committed_at`. Rows committed in
the first WARMUP seconds are left out. Prints "p50_ms p99_ms max_ms rows rate" on stdout.

usage: latency.py HOST PORT USER PASSWORD OUT_DIR RATE SECONDS WARMUP
"""
import datetime
import json
import os
import sys
import threading
import time

import pymysql

BATCH_INTERVAL = 0.010
POLL_INTERVAL = 0.020


def load(conn_args, rate, seconds, done):
    try:
        insert(conn_args, rate, seconds, done)
    except Exception as e:  # reported by main
        done["error"] = repr(e)


def insert(conn_args, rate, seconds, done):
    conn = pymysql.connect(**conn_args, database="wproc_test", autocommit=True)
    per_batch = max(1, round(rate * BATCH_INTERVAL))
    cur = conn.cursor()
    start = time.time()
    sent = 0
    i = 0
    while time.time() - start < seconds:
        values = ",".join(["(NOW(6), 'payload payload payload payload')"] * per_batch)
        cur.execute("INSERT INTO lat (committed_at, payload) VALUES " + values)
        sent += per_batch
        i += 1
        delay = start + i * BATCH_INTERVAL - time.time()
        if delay > 0:
            time.sleep(delay)
    done["sent"] = sent
    done["elapsed"] = time.time() - start
    conn.close()


def parse_ts(text):
    return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def main():
    host, port, user, password, out_dir, rate, seconds, warmup = sys.argv[1:9]
    rate, seconds, warmup = float(rate), float(seconds), float(warmup)
    conn_args = {"host": host, "port": int(port), "user": user, "password": password}
    done = {}
    t0 = time.time()
    loader = threading.Thread(target=load, args=(conn_args, rate, seconds, done))
    loader.start()
    seen = set()
    latencies = []
    rows = 0
    deadline = None
    while True:
        now = time.time()
        for root, _dirs, files in os.walk(out_dir):
            for name in files:
                if not (name.startswith("part-") and name.endswith(".jsonl")):
                    continue
                path = os.path.join(root, name)
                if path in seen:
                    continue
                seen.add(path)
                with open(path) as f:
                    for line in f:
                        if '"table":"lat"' not in line or '"op":"insert"' not in line:
                            continue
                        ev = json.loads(line)
                        committed = parse_ts(ev["after"]["committed_at"])
                        rows += 1
                        if committed - t0 >= warmup:
                            latencies.append(now - committed)
        if not loader.is_alive():
            if "error" in done:
                sys.exit(f"load failed: {done['error']}")
            if deadline is None:
                deadline = time.time() + 15
            if rows >= done.get("sent", 0) or time.time() > deadline:
                break
        time.sleep(POLL_INTERVAL)
    if rows < done["sent"]:
        sys.exit(f"only {rows} of {done['sent']} rows reached closed files")
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(f"{pick(0.50):.0f} {pick(0.99):.0f} {latencies[-1] * 1000:.0f} {rows} "
          f"{done['sent'] / done['elapsed']:.0f}")


if __name__ == "__main__":
    main()
