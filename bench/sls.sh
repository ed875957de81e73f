#!/usr/bin/env bash
# capture -> local SLS server -> run -> HDFS, rows/s (issue 4 and 8 bar: 100,000 rows/s), side by
# side with the embedded figure of bench/embedded.sh. Needs `wproc sls-server` and the HDFS sink.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
figure="capture -> local SLS server -> run -> HDFS, rows/s"
bar=">= 100,000 rows/s"
build_wproc
if ! "$WPROC" sls-server --help >/dev/null 2>&1; then
  not_measurable "$figure" "\`wproc sls-server\` has not landed" "$bar"
  exit 0
fi
if ! grep -rqs 'sink.hdfs' "$BENCH_ROOT/examples/"; then
  not_measurable "$figure" "the HDFS sink has not landed (no [sink.hdfs] in examples/)" "$bar"
  exit 0
fi
not_measurable "$figure" "the SLS and HDFS parts landed, but this bench does not drive them yet" "$bar"
