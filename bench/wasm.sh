#!/usr/bin/env bash
# WASM transforms (issue 5 bars): a filter guest's records/s per core on batches of 1,000
# ten-column records, and the end-to-end cost of a passthrough guest against no transform.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
filter="WASM filter guest, records/s per core, batches of 1,000 ten-column records"
passthrough="WASM passthrough guest, end-to-end throughput cost vs no transform"
build_wproc
if ! "$WPROC" run --help 2>/dev/null | grep -q -- '--transform'; then
  not_measurable "$filter" "\`wproc run --transform\` has not landed" ">= 2,000,000 records/s"
  not_measurable "$passthrough" "\`wproc run --transform\` has not landed" "<= 15 %"
  exit 0
fi
not_measurable "$filter" "\`--transform\` landed, but this bench does not drive it yet" ">= 2,000,000 records/s"
not_measurable "$passthrough" "\`--transform\` landed, but this bench does not drive it yet" "<= 15 %"
