#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time each.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    # default: 60 seconds, every target
#
# Installs cargo-fuzz (cargo install, cached in ~/.cargo/bin) when missing. cargo-fuzz needs
# nightly compiler flags (-Z sanitizer, sancov); on a stable toolchain they are enabled with
# RUSTC_BOOTSTRAP=1. The address sanitizer is used when it links, else none (FUZZ_SANITIZER
# overrides). Targets: binlog_file (the offline binlog decoder), sls_log_group (PutLogs and
# PullLogs protobuf bodies), sls_pull_body (decompression then LogGroupList decoding). Seed
# corpora: the shared binlog fixtures (beside the checkout, or $WPROC_SHARED_DIR) for binlog_file. Crashes land in fuzz/artifacts/TARGET/; the script exits 1
# when any target found one.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-60}"
shift || true
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/wproc/target-fuzz}"
export RUSTC_BOOTSTRAP=1
SHARED="${WPROC_SHARED_DIR:-$PWD/../shared}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo install cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
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

sanitizer="${FUZZ_SANITIZER:-}"
if [ -z "$sanitizer" ]; then
  if cargo fuzz build --sanitizer address "${targets[0]}" >&2; then sanitizer=address; else
    echo "fuzz.sh: the address sanitizer does not build here; fuzzing without a sanitizer" >&2
    sanitizer=none
  fi
fi

failed=()
for target in "${targets[@]}"; do
  seed "$target"
  echo "==> fuzzing $target for ${SECONDS_PER_TARGET}s (sanitizer: $sanitizer)" >&2
  # -rss_limit_mb (also the malloc limit): an allocation sized by untrusted bytes is a crash.
  if ! cargo fuzz run --sanitizer "$sanitizer" "$target" "corpus/$target" -- \
      -max_total_time="$SECONDS_PER_TARGET" -max_len=262144 -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1; then
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: crashes found in: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: no crash in ${targets[*]} (${SECONDS_PER_TARGET}s each)" >&2
