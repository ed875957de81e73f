#!/usr/bin/env bash
# capture -> local SLS server -> run -> HDFS, rows/s (issue 8 bar: 100,000 rows/s; issue 4 asks
# the same into files), side by side with the embedded figure of bench/embedded.sh. Needs
# `wproc sls-server`, the SLS transport ([transport.sls]) and, for HDFS, the HDFS sink.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
figure="capture -> local SLS server -> run -> HDFS, rows/s"
bar=">= 100,000 rows/s"
build_wproc
missing=()
"$WPROC" sls-server --help >/dev/null 2>&1 || missing+=("\`wproc sls-server\`")
grep -rqs 'transport.sls' "$BENCH_ROOT/examples/" || missing+=("the SLS transport (no [transport.sls] in examples/)")
grep -rqs 'sink.hdfs' "$BENCH_ROOT/examples/" || missing+=("the HDFS sink (no [sink.hdfs] in examples/)")
if [ ${#missing[@]} -gt 0 ]; then
  why=$(IFS=';'; echo "${missing[*]}" | sed 's/;/; /g')
  not_measurable "$figure" "not landed yet: $why" "$bar"
  exit 0
fi
not_measurable "$figure" "the parts landed, but this bench does not drive them yet" "$bar"
