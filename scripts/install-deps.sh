#!/usr/bin/env bash
# Installs what the tests and the demo need and a fresh machine may lack. Idempotent.
set -euo pipefail
need_apt=()
for bin in mariadbd mariadb-install-db mariadb; do
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ] && [ ! -x "/usr/bin/$bin" ]; then
    need_apt+=(mariadb-server-core mariadb-client)
    break
  fi
done
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "install-deps: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
  echo "install-deps: rustup target add wasm32-wasip2"
  rustup target add wasm32-wasip2
fi
# The official SLS Python SDK for the SLS interop tests (tests/sls_interop), in a private venv.
SLS_VENV="${WPROC_SLS_VENV:-$HOME/.cache/wproc/venv-sls}"
SLS_SDK_VERSION=0.9.52
if ! "$SLS_VENV/bin/python" -c "import aliyun.log, importlib.metadata as m; assert m.version('aliyun-log-python-sdk') == '$SLS_SDK_VERSION'" >/dev/null 2>&1; then
  echo "install-deps: aliyun-log-python-sdk==$SLS_SDK_VERSION into $SLS_VENV"
  python3 -m venv "$SLS_VENV"
  "$SLS_VENV/bin/pip" install -q "aliyun-log-python-sdk==$SLS_SDK_VERSION"
fi
# The HDFS tests' cluster: Java 17 and the Hadoop 2.7.3 jars (cached in ~/.cache/wproc/hadoop).
if ! "$(dirname "$0")/../tests/harness/hdfs.sh" fetch >/dev/null; then
  echo "install-deps: tests/harness/hdfs.sh fetch failed (Java or the Hadoop jars)" >&2
  exit 1
fi
