"""Interop of `wproc sls-server` with the official SLS Python SDK (aliyun-log-python-sdk).

Run by tests/tests/sls_interop.rs against a fresh server. Exercises put_logs (lz4 and
uncompressed, load-balanced and by hash key), list_shards, get_cursor (begin, end, time),
get_cursor_time, pull_logs, the consumer-group calls, and a full ConsumerWorker that must read
every log exactly once and leave its checkpoints at the end cursors. Every check raises on a
mismatch; on success the last stdout line is a JSON summary for the Rust side.

Addressing: requests goes through http_proxy=http://127.0.0.1:PORT with the fake endpoint
sls.test:PORT, so the server sees absolute-form targets and Host: <project>.sls.test.
"""

import argparse
import collections
import json
import os
import sys
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--akid", required=True)
parser.add_argument("--project", required=True)
parser.add_argument("--logstore", required=True)
parser.add_argument("--wproc-logs", type=int, required=True,
                    help="logs that wproc's client wrote before (writer=wproc, seq=0..N-1)")
args = parser.parse_args()
secret = os.environ["SLS_INTEROP_SECRET"]

proxy = "http://127.0.0.1:%d" % args.port
for name in ("http_proxy", "HTTP_PROXY"):
    os.environ[name] = proxy
for name in ("no_proxy", "NO_PROXY"):
    os.environ.pop(name, None)

from aliyun.log import LogClient, LogException, LogItem, PutLogsRequest  # noqa: E402
from aliyun.log.consumer import (  # noqa: E402
    ConsumerProcessorBase, ConsumerWorker, CursorPosition, LogHubConfig)

ENDPOINT = "sls.test:%d" % args.port
P, LS = args.project, args.logstore
client = LogClient(ENDPOINT, args.akid, secret)


T0 = time.time()


def step(name):
    sys.stderr.write("interop: %6.2fs %s\n" % (time.time() - T0, name))


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def expect_error(code, status, fn):
    try:
        fn()
    except LogException as e:
        check(e.get_error_code() == code, "expected %s, got %s: %s" % (code, e.get_error_code(), e))
        check(e.resp_status == status, "expected HTTP %d for %s, got %s" % (status, code, e.resp_status))
        check(e.get_request_id(), "error %s has no request id" % code)
        return
    raise AssertionError("expected error %s" % code)


def flatten(log_group_list):
    """(writer, seq, text) of every log of a LogGroupList protobuf."""
    out = []
    for group in log_group_list.LogGroups:
        for log in group.Logs:
            kv = {c.Key: c.Value for c in log.Contents}
            out.append((kv["writer"], int(kv["seq"]), kv.get("text", "")))
    return out


# --- shards -----------------------------------------------------------------------------------
shards = sorted(s["shardID"] for s in client.list_shards(P, LS).get_shards_info())
check(shards == [0, 1, 2, 3], "list_shards: %r" % shards)
expect_error("LogStoreNotExist", 404, lambda: client.list_shards(P, "no-such-store"))
expect_error("SignatureNotMatch", 401,
             lambda: LogClient(ENDPOINT, args.akid, "wrong").list_shards(P, LS))

step("put_logs")
# --- put_logs ---------------------------------------------------------------------------------
expected = collections.Counter(("wproc", i, "") for i in range(args.wproc_logs))
py_seq = 0
GROUPS, PER_GROUP = 12, 5
put_started = int(time.time())
for g in range(GROUPS):
    items = []
    for _ in range(PER_GROUP):
        text = u"值-%d \u00e9 \"quoted\" \n newline" % py_seq
        items.append(LogItem(timestamp=int(time.time()),
                             contents=[("writer", "python"), ("seq", str(py_seq)), ("text", text)]))
        expected[("python", py_seq, text)] += 1
        py_seq += 1
    compress = None if g % 2 == 0 else False  # lz4 (default) and uncompressed
    hash_key = None if g % 3 else "%032x" % (g * (2 ** 123))
    req = PutLogsRequest(P, LS, "topic-py", "src-py", items, hashKey=hash_key, compress=compress)
    client.put_logs(req)

step("cursors")
# --- cursors ----------------------------------------------------------------------------------
total_groups = 0
ends = {}
for shard in shards:
    begin = client.get_cursor(P, LS, shard, "begin").get_cursor()
    end = client.get_cursor(P, LS, shard, "end").get_cursor()
    check(begin == client.get_begin_cursor(P, LS, shard).get_cursor(), "get_begin_cursor")
    check(end == client.get_end_cursor(P, LS, shard).get_cursor(), "get_end_cursor")
    n = client._get_cursor_as_int(end) - client._get_cursor_as_int(begin)
    total_groups += n
    ends[shard] = end
    # Everything was received before now + 1 hour and at or after an hour ago.
    future = client.get_cursor(P, LS, shard, int(time.time()) + 3600).get_cursor()
    check(future == end, "time cursor in the future is the end: %s != %s" % (future, end))
    past = client.get_cursor(P, LS, shard, put_started - 3600).get_cursor()
    check(past == begin, "time cursor in the past is begin")
    if n:
        t = client.get_cursor_time(P, LS, shard, begin).get_cursor_time()
        check(abs(int(t) - time.time()) < 600, "cursor_time %r" % t)
expect_error("ShardNotExist", 400, lambda: client.get_cursor(P, LS, 9, "begin"))

step("pull_logs")
# --- pull_logs --------------------------------------------------------------------------------
pulled = collections.Counter()
pulled_groups = 0
for shard in shards:
    for compress in (None, False):  # lz4 and uncompressed responses
        cursor = client.get_cursor(P, LS, shard, "begin").get_cursor()
        seen = collections.Counter()
        while True:
            res = client.pull_logs(P, LS, shard, cursor, count=3, compress=compress)
            if res.get_loggroup_count() == 0:
                check(res.get_next_cursor() == cursor, "empty pull keeps the cursor")
                break
            lgl = res.get_loggroup_list()
            for group in lgl.LogGroups:
                tags = {t.Key: t.Value for t in group.LogTags}
                check("__receive_time__" in tags, "receive time tag")
            seen.update(flatten(lgl))
            check(res.get_log_count() == len(flatten(lgl)), "log count")
            if compress is None:
                pulled_groups += res.get_loggroup_count()
            cursor = res.get_next_cursor()
        check(cursor == ends[shard], "pull ends at the end cursor")
        if compress is None:
            pulled.update(seen)
check(pulled == expected, "pull_logs returned exactly what was put: %r" % (pulled - expected or expected - pulled))
check(pulled_groups == total_groups, "groups %d != %d" % (pulled_groups, total_groups))

step("consumer-group calls")
# --- consumer-group calls ---------------------------------------------------------------------
client.create_consumer_group(P, LS, "cg-api", 30, in_order=False)
expect_error("ConsumerGroupAlreadyExist", 400,
             lambda: client.create_consumer_group(P, LS, "cg-api", 30, in_order=False))
client.update_consumer_group(P, LS, "cg-api", in_order=True, timeout=40)
groups = {g.get_consumer_group_name(): g for g in client.list_consumer_group(P, LS).get_consumer_groups()}
check(groups["cg-api"].get_timeout() == 40 and groups["cg-api"].in_order is True,
      "list: timeout %r order %r" % (groups["cg-api"].get_timeout(), groups["cg-api"].in_order))
held = client.heart_beat(P, LS, "cg-api", "c1", []).get_shards()
check(sorted(held) == shards, "heart_beat assigns every shard to the only consumer: %r" % held)
client.update_check_point(P, LS, "cg-api", 1, ends[1], consumer="c1", force_success=False)
cps = client.get_check_point(P, LS, "cg-api", 1).get_consumer_group_check_points()
check(len(cps) == 1 and cps[0]["checkpoint"] == ends[1] and cps[0]["consumer"] == "c1", "checkpoint %r" % cps)
expect_error("ConsumerNotMatch", 400 , lambda: (
    client.heart_beat(P, LS, "cg-api", "c2", []),
    client.update_check_point(P, LS, "cg-api", 0, ends[0], consumer="c2", force_success=False)))
client.delete_consumer_group(P, LS, "cg-api")
check("cg-api" not in [g.get_consumer_group_name()
                        for g in client.list_consumer_group(P, LS).get_consumer_groups()], "deleted")

step("ConsumerWorker")
# --- ConsumerWorker ---------------------------------------------------------------------------
consumed = collections.Counter()
lock = threading.Lock()


class Collector(ConsumerProcessorBase):
    def process(self, log_groups, check_point_tracker):
        with lock:
            consumed.update(flatten(log_groups))
        self.save_checkpoint(check_point_tracker)


config = LogHubConfig(ENDPOINT, args.akid, secret, P, LS, "cg-worker", "worker-1",
                      cursor_position=CursorPosition.BEGIN_CURSOR,
                      heartbeat_interval=2, data_fetch_interval=0.2)
worker = ConsumerWorker(Collector, consumer_option=config)
worker.start()
deadline = time.time() + 90
while time.time() < deadline:
    with lock:
        if sum(consumed.values()) >= sum(expected.values()):
            break
    time.sleep(0.2)
step("consumed %d logs" % sum(consumed.values()))
worker.shutdown()
worker.join(60)
check(not worker.is_alive(), "the worker stops within 60 s")
step("worker stopped")
check(consumed == expected, "ConsumerWorker read exactly what was put: missing %r, extra %r"
      % (expected - consumed, consumed - expected))
checkpoints = {c["shard"]: c["checkpoint"]
               for c in client.get_check_point(P, LS, "cg-worker").get_consumer_group_check_points()}
for shard in shards:
    check(checkpoints.get(shard) == ends[shard],
          "worker checkpoint of shard %d is %r, end is %r" % (shard, checkpoints.get(shard), ends[shard]))

# --- two ConsumerWorkers in one group: server-side assignment and hand-off ---------------------
# worker-a starts alone and takes every shard; worker-b joins while logs keep arriving. The
# server must move half the shards to worker-b only after worker-a released them (and flushed
# their checkpoints), so that together they read every log exactly once.
step("two ConsumerWorkers")
pair = {"worker-a": collections.Counter(), "worker-b": collections.Counter()}


def pair_worker(name):
    class PairCollector(ConsumerProcessorBase):
        def process(self, log_groups, check_point_tracker):
            with lock:
                pair[name].update(flatten(log_groups))
            self.save_checkpoint(check_point_tracker)

    cfg = LogHubConfig(ENDPOINT, args.akid, secret, P, LS, "cg-pair", name,
                       cursor_position=CursorPosition.BEGIN_CURSOR,
                       heartbeat_interval=1, data_fetch_interval=0.2)
    return ConsumerWorker(PairCollector, consumer_option=cfg)


def pair_total():
    with lock:
        return pair["worker-a"] + pair["worker-b"]


worker_a = pair_worker("worker-a")
worker_a.start()
deadline = time.time() + 60
while sum(pair_total().values()) < sum(expected.values()) and time.time() < deadline:
    time.sleep(0.1)
check(pair["worker-a"] == expected, "worker-a alone reads everything first")
worker_b = pair_worker("worker-b")
worker_b.start()
late_seq = 0
deadline = time.time() + 60
while time.time() < deadline:
    with lock:
        b_started = sum(pair["worker-b"].values()) > 0
    # Keep writing until worker-b has data (at least 40 logs, at most 200), then drain.
    if late_seq < 40 or (not b_started and late_seq < 200):
        items = [LogItem(timestamp=int(time.time()),
                         contents=[("writer", "late"), ("seq", str(late_seq + k))]) for k in range(2)]
        client.put_logs(PutLogsRequest(P, LS, "", "", items))
        for k in range(2):
            expected[("late", late_seq + k, "")] += 1
        late_seq += 2
    elif sum(pair_total().values()) >= sum(expected.values()):
        break
    time.sleep(0.1)
step("pair consumed %d logs (worker-a %d, worker-b %d)" % (
    sum(pair_total().values()), sum(pair["worker-a"].values()), sum(pair["worker-b"].values())))
for w in (worker_a, worker_b):
    w.shutdown()
for w in (worker_a, worker_b):
    w.join(60)
    check(not w.is_alive(), "pair worker stops")
total = pair_total()
check(sum(pair["worker-b"].values()) > 0, "worker-b was handed shards")
check(total == expected, "the pair read every log exactly once: missing %r, extra %r"
      % (expected - total, total - expected))
pair_checkpoints = {c["shard"]: c["checkpoint"]
                    for c in client.get_check_point(P, LS, "cg-pair").get_consumer_group_check_points()}
final_ends = {shard: client.get_cursor(P, LS, shard, "end").get_cursor() for shard in shards}
check(pair_checkpoints == final_ends, "pair checkpoints %r != ends %r" % (pair_checkpoints, final_ends))

print(json.dumps({
    "python_logs": py_seq,
    "groups": total_groups,
    "consumed": sum(consumed.values()),
    "ends": {str(k): v for k, v in ends.items()},
    "checkpoints": {str(k): v for k, v in checkpoints.items()},
    "late_logs": late_seq,
    "pair": {k: sum(v.values()) for k, v in pair.items()},
    "pair_checkpoints": {str(k): v for k, v in pair_checkpoints.items()},
}))
sys.stdout.flush()
step("done")
# The SDK's worker leaves non-daemon threads behind after shutdown; do not wait for them.
os._exit(0)
