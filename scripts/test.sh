#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing (MariaDB server binaries,
# the wasm32-wasip2 target), then runs every tier: unit, host integration, SDK and guest
# examples, and the service tests against real servers the harness scripts start on 127.0.0.1.
# Build outputs are cached in ~/.cache/wproc so a warm run rebuilds little.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wproc/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "==> prerequisites"
scripts/install-deps.sh

echo "==> build"
cargo build --workspace --all-targets --locked
cargo build -p wproc --bins --locked

echo "==> tests (unit, integration, end-to-end against real MariaDB, HDFS and the SLS server)"
cargo test --workspace --locked --no-fail-fast -- --test-threads="${WPROC_TEST_THREADS:-2}"

if [ -f guest-examples/Cargo.toml ]; then
  echo "==> guest examples: build as wasm components and run their native tests"
  (cd guest-examples && CARGO_TARGET_DIR="$HOME/.cache/wproc/target-guests" cargo build --release --locked)
  (cd guest-examples && CARGO_TARGET_DIR="$HOME/.cache/wproc/target-guests" \
     cargo test --locked --target x86_64-unknown-linux-gnu)
fi
