#!/usr/bin/env bash
# The HDFS sink alone: JSON Lines rows/s into the local HDFS of tests/harness/hdfs.sh (issue 6
# bar: 200,000 rows/s).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
figure="HDFS sink, JSON Lines rows/s into the local HDFS"
bar=">= 200,000 rows/s"
build_wproc
if ! grep -rqs 'sink.hdfs' "$BENCH_ROOT/examples/"; then
  not_measurable "$figure" "the HDFS sink has not landed (no [sink.hdfs] in examples/)" "$bar"
  exit 0
fi
not_measurable "$figure" "the HDFS sink landed, but this bench does not drive it yet" "$bar"
