#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time each.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    # default: 60 seconds, every target
#
# Installs cargo-fuzz (cargo install, pinned, cached in ~/.cargo/bin) when missing. cargo-fuzz
# needs nightly compiler flags (-Z sanitizer, sancov); on a stable toolchain they are enabled
# with RUSTC_BOOTSTRAP=1. The address sanitizer is used when it links, else none (FUZZ_SANITIZER
# overrides). Targets: binlog_file (the offline binlog decoder), sls_log_group (PutLogs and
# PullLogs protobuf bodies), sls_pull_body (decompression then LogGroupList decoding).
#
# Unattended and bounded: every target is built once up front (into FUZZ_TARGET_DIR, default
# ~/.cache/wproc/target-fuzz; the first build takes about 20 minutes on 2 cores, a rebuild after
# a change to host/ about 3), then each runs for SECONDS under libFuzzer's -max_total_time, with
# a hard `timeout` of SECONDS + 600 behind it (reported as a hang; the margin covers cargo
# waiting for the lock of a target directory that another build holds).
# A crash, panic, timeout (-timeout=10 s per input) or out-of-memory (-rss_limit_mb=2048, also
# the malloc limit) stops that target; its input lands in fuzz/artifacts/TARGET/ and the script
# goes on with the next target, then exits 1. Each target's full libFuzzer output is kept in
# FUZZ_LOG_DIR (default ~/.cache/wproc/fuzz-logs/TARGET.log); the terminal gets it without the
# per-input NEW/REDUCE/pulse lines, and a summary line per target at the end (seconds, runs,
# exec/s, corpus size, result).
#
# Corpora live in fuzz/corpus/TARGET/ (not committed; they grow from run to run). Seeds: the
# shared binlog fixtures (beside the checkout, or $WPROC_SHARED_DIR) for binlog_file, and the
# committed crash regressions in fuzz/regressions/TARGET/ for every target.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-60}"
shift || true
case "$SECONDS_PER_TARGET" in
  '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, not '$SECONDS_PER_TARGET'" >&2; exit 2 ;;
esac
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/wproc/target-fuzz}"
export RUSTC_BOOTSTRAP=1
SHARED="${WPROC_SHARED_DIR:-$PWD/../shared}"
LOG_DIR="${FUZZ_LOG_DIR:-$HOME/.cache/wproc/fuzz-logs}"
CARGO_FUZZ_VERSION=0.13.2
mkdir -p "$LOG_DIR"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo install cargo-fuzz $CARGO_FUZZ_VERSION" >&2
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

cd fuzz
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi

# Seed corpus for a target (an empty directory is fine: libFuzzer starts from nothing).
seed() {
  local target="$1" dir="corpus/$1"
  mkdir -p "$dir"
  if [ -d "regressions/$target" ]; then
    find "regressions/$target" -type f ! -name '*.md' -exec cp -n {} "$dir/" \;
  fi
  case "$target" in
    binlog_file)
      if [ -d "$SHARED/fixtures/binlogs/mysql-common" ]; then
        find "$SHARED/fixtures/binlogs/mysql-common" -type f ! -name 'LICENSE*' -size -256k \
          -exec cp -n {} "$dir/" \;
      else
        echo "fuzz.sh: no shared fixtures at $SHARED; binlog_file starts from an empty corpus" >&2
      fi
      ;;
  esac
}

# One build of every target (cargo fuzz run would otherwise build each on first use, inside the
# time bound below).
build() {
  if [ ${#targets[@]} -eq 1 ]; then
    cargo fuzz build --sanitizer "$1" "${targets[0]}" >&2
  else
    cargo fuzz build --sanitizer "$1" >&2
  fi
}
sanitizer="${FUZZ_SANITIZER:-}"
if [ -n "$sanitizer" ]; then
  build "$sanitizer"
elif build address; then
  sanitizer=address
else
  echo "fuzz.sh: the address sanitizer does not build here; fuzzing without a sanitizer" >&2
  sanitizer=none
  build none
fi

# "N" from a libFuzzer `stat::NAME: N` line of a log, or "?".
libfuzzer_stat() {
  local value
  value="$(sed -n "s/^stat::$1: *\\([0-9]*\\).*/\\1/p" "$2" | tail -n 1)"
  echo "${value:-?}"
}

failed=()
summary=()
for target in "${targets[@]}"; do
  seed "$target"
  log="$LOG_DIR/$target.log"
  echo "==> fuzzing $target for ${SECONDS_PER_TARGET}s (sanitizer: $sanitizer; log: $log)" >&2
  # A no-op unless the sources changed since the build above; kept out of the time bound.
  cargo fuzz build --sanitizer "$sanitizer" "$target" >&2
  start=$(date +%s)
  set +e
  timeout -s INT -k 30 $((SECONDS_PER_TARGET + 600)) \
    cargo fuzz run --sanitizer "$sanitizer" "$target" "corpus/$target" -- \
      -max_total_time="$SECONDS_PER_TARGET" -max_len=262144 -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 2>&1 </dev/null | tee "$log" |
    grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)[[:space:]]' >&2
  status=${PIPESTATUS[0]}
  set -e
  elapsed=$(( $(date +%s) - start ))
  if [ "$status" -eq 0 ]; then result="no crash"
  elif [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    result="FAILED: still running after $((SECONDS_PER_TARGET + 600))s, stopped (a hang)"
    failed+=("$target")
  else
    result="FAILED (exit $status; see fuzz/artifacts/$target/)"
    failed+=("$target")
  fi
  files=$(find "corpus/$target" -type f | wc -l)
  bytes=$(du -sb "corpus/$target" | cut -f1)
  summary+=("$target: ${elapsed}s, $(libfuzzer_stat number_of_executed_units "$log") runs, \
$(libfuzzer_stat average_exec_per_sec "$log") exec/s, corpus $files files ($bytes bytes), $result")
done
echo "fuzz.sh: summary (sanitizer: $sanitizer, ${SECONDS_PER_TARGET}s per target)" >&2
printf '  %s\n' "${summary[@]}" >&2
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: crashes found in: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: no crash in ${targets[*]} (${SECONDS_PER_TARGET}s each)" >&2
