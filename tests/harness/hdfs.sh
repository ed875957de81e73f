#!/usr/bin/env bash
# A real single-node HDFS (Apache Hadoop 2.7.3 NameNode + DataNode) for wproc's tests.
#
# The jars come from PyPI's pyspark 2.4.8 source package (the only registry package that
# ships Hadoop's server classes); see tests/harness/HDFS.md and, beside the checkout,
# shared/docs/hdfs-test-cluster.md.
#
#   hdfs.sh start            [--dir DIR]   start (fresh) or report the running cluster; prints KEY=VALUE lines
#   hdfs.sh stop             [--dir DIR]   stop the NameNode and DataNode started for DIR
#   hdfs.sh status           [--dir DIR]   exit 0 if both run, 3 otherwise
#   hdfs.sh fs               [--dir DIR] -- ARGS...   Hadoop's FsShell ("hdfs dfs ARGS")
#   hdfs.sh restart-namenode [--dir DIR]   stop and start the NameNode only, keeping its data
#   hdfs.sh stop-namenode    [--dir DIR]   stop the NameNode only (an outage)
#   hdfs.sh start-namenode   [--dir DIR]   start it again and wait until it serves writes
#   hdfs.sh fetch                          only fill the jar cache
#
# Only stdout of `start` (and of `fs`) is meant to be read; progress goes to stderr.
set -euo pipefail

readonly HADOOP_VERSION=2.7.3
readonly PYSPARK_VERSION=2.4.8
readonly PYSPARK_SHA256=3a19b71b8dc8dd91ebc943604a05e1ab01bce052456d42937035632d852d78dc
# The jars the NameNode, DataNode and FsShell load (traced with -Xlog:class+load, plus a few
# for safety); the other ~190 jars of the package are not needed.
readonly JARS=(
  apache-log4j-extras-1.2.17 commons-cli-1.2 commons-codec-1.10 commons-collections-3.2.2
  commons-configuration-1.6 commons-io-2.4 commons-lang-2.6 commons-logging-1.1.3 guava-14.0.1
  hadoop-annotations-2.7.3 hadoop-auth-2.7.3 hadoop-common-2.7.3 hadoop-hdfs-2.7.3
  hadoop-mapreduce-client-core-2.7.3 htrace-core-3.1.0-incubating jackson-core-asl-1.9.13
  jackson-mapper-asl-1.9.13 javax.servlet-api-3.1.0 javax.ws.rs-api-2.0.1 jcl-over-slf4j-1.7.16
  jetty-6.1.26 jetty-util-6.1.26 log4j-1.2.17 netty-all-4.1.47.Final protobuf-java-2.5.0
  slf4j-api-1.7.16 slf4j-log4j12-1.7.16 xercesImpl-2.9.1 xmlenc-0.52 commons-math3-3.4.1
  commons-lang3-3.5 commons-compress-1.20
)
readonly NN_CLASS=org.apache.hadoop.hdfs.server.namenode.NameNode
readonly DN_CLASS=org.apache.hadoop.hdfs.server.datanode.DataNode
readonly FS_CLASS=org.apache.hadoop.fs.FsShell
# The DataNode retries a missing NameNode every 250 ms for 5 minutes (Hadoop's default is 10
# tries, 1 s apart, then a pause), so it re-registers at once after restart-namenode.
readonly DN_ARGS=(-D ipc.client.connect.retry.interval=250 -D ipc.client.connect.max.retries=1200)

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
readonly HARNESS_DIR
readonly TEMPLATES=$HARNESS_DIR/hadoop
readonly CACHE=${HDFS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wproc/hadoop}
readonly JAR_DIR=$CACHE/hadoop-$HADOOP_VERSION-jars   # the 32 jars plus webapps/ (empty dirs)
readonly START_TIMEOUT=${HDFS_START_TIMEOUT:-90}       # seconds until the cluster serves writes
readonly STOP_TIMEOUT=${HDFS_STOP_TIMEOUT:-15}         # seconds between TERM and KILL

DIR=
JAVA=
STARTED=()   # daemons launched by this run (stopped again if the start-up fails)

log() { printf 'hdfs.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,/^set -euo/{/^#/{s/^# \{0,1\}//;p}}' "${BASH_SOURCE[0]}" >&2
  cat >&2 <<'EOF'

DIR defaults to ${TMPDIR:-/tmp}/wproc-hdfs. Environment: HDFS_NN_PORT (default: 19000, or the
next free port), HDFS_NN_HTTP_PORT, HDFS_DN_PORT, HDFS_DN_HTTP_PORT, HDFS_DN_IPC_PORT (default 0:
any free port), HDFS_HEAP (256m), HDFS_JAVA_OPTS, HDFS_START_TIMEOUT (90), HDFS_STOP_TIMEOUT (15),
HDFS_CACHE_DIR, HDFS_PYSPARK_SDIST (a local pyspark-2.4.8.tar.gz to take the jars from).
EOF
}

now() { date +%s; }

# ---------------------------------------------------------------------------------------------
# Installing: Java and the jar cache

as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@"
  else die "need root to run: $*"
  fi
}

apt_install() {
  command -v apt-get >/dev/null || die "cannot install $* here (no apt-get): install it by hand"
  log "installing $* with apt-get"
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

ensure_java() {
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then
    JAVA=$JAVA_HOME/bin/java
  elif command -v java >/dev/null; then
    JAVA=$(command -v java)
  else
    apt_install openjdk-17-jre-headless
    JAVA=$(command -v java) || die "java still missing after installing openjdk-17-jre-headless"
  fi
}

jars_complete() {
  local j
  for j in "${JARS[@]}"; do [[ -f $JAR_DIR/$j.jar ]] || return 1; done
  [[ -d $JAR_DIR/webapps/hdfs ]]
}

sha256_of() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# Download pyspark's sdist with pip into $1. pyspark 2.4.8's setup.py needs an old setuptools
# and wheel and fails under pip's build isolation, hence a throwaway venv.
download_sdist() {
  local tmp=$1 py venv=$1/venv
  py=$(command -v python3) || { apt_install python3 python3-venv; py=$(command -v python3); }
  if ! "$py" -m venv "$venv" >&2; then
    apt_install python3-venv
    rm -rf "$venv"
    "$py" -m venv "$venv" >&2
  fi
  local pip=("$venv/bin/python" -m pip -q --disable-pip-version-check --no-cache-dir)
  "${pip[@]}" install 'setuptools<70' wheel >&2
  log "downloading pyspark==$PYSPARK_VERSION (sdist, ~220 MB) for its Hadoop $HADOOP_VERSION jars"
  "${pip[@]}" download --no-deps --no-build-isolation --no-binary :all: -d "$tmp/dl" \
    "pyspark==$PYSPARK_VERSION" >&2
}

ensure_jars() {
  jars_complete && return 0
  mkdir -p "$CACHE"
  exec 8>"$CACHE/.fetch.lock"
  if command -v flock >/dev/null; then flock 8; fi
  if jars_complete; then exec 8>&-; return 0; fi

  local t0 tmp sdist sum j members=()
  t0=$(now)
  tmp=$(mktemp -d "$CACHE/fetch.XXXXXX")
  # shellcheck disable=SC2064  # expand $tmp now
  trap "rm -rf '$tmp'" EXIT
  if [[ -n ${HDFS_PYSPARK_SDIST:-} ]]; then
    sdist=$HDFS_PYSPARK_SDIST
  else
    download_sdist "$tmp"
    sdist=$tmp/dl/pyspark-$PYSPARK_VERSION.tar.gz
  fi
  [[ -f $sdist ]] || die "no $sdist"
  sum=$(sha256_of "$sdist")
  [[ $sum == "$PYSPARK_SHA256" ]] || die "sha256 of $sdist is $sum, expected $PYSPARK_SHA256"
  for j in "${JARS[@]}"; do members+=("pyspark-$PYSPARK_VERSION/deps/jars/$j.jar"); done
  tar -xzf "$sdist" -C "$tmp" "${members[@]}"
  mv "$tmp/pyspark-$PYSPARK_VERSION/deps/jars" "$tmp/jars"
  # The jar lacks its web resources; the NameNode and DataNode only need the directories.
  mkdir -p "$tmp"/jars/webapps/{hdfs,datanode,secondary}
  rm -rf "$JAR_DIR"
  mv "$tmp/jars" "$JAR_DIR"
  rm -rf "$tmp"
  trap - EXIT
  exec 8>&-
  jars_complete || die "jar cache $JAR_DIR is incomplete"
  log "cached ${#JARS[@]} jars ($(du -sh "$JAR_DIR" | cut -f1)) in $JAR_DIR in $(($(now) - t0)) s"
}

# ---------------------------------------------------------------------------------------------
# The cluster directory

# DIR is made absolute and canonical: the daemons' command lines name it, and stop/status
# recognise them by it. Only `start` creates it.
set_dir() {
  local d=${1:-${TMPDIR:-/tmp}/wproc-hdfs} create=$2
  [[ $create == yes ]] && mkdir -p "$d"
  if [[ -d $d ]]; then DIR=$(cd "$d" && pwd -P)
  elif [[ $d == /* ]]; then DIR=$d
  else DIR=$PWD/$d
  fi
}

lock_dir() {
  [[ -d $DIR ]] || return 0
  exec 9>"$DIR/.lock"
  if command -v flock >/dev/null; then flock 9; fi
}

classpath() { printf '%s' "$DIR/conf:$JAR_DIR:$JAR_DIR/*"; }

jvm_opts() {
  local role=$1
  # shellcheck disable=SC2206  # HDFS_JAVA_OPTS is a word list on purpose
  JVM_OPTS=(
    "-Xmx${HDFS_HEAP:-256m}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData
    -Djava.net.preferIPv4Stack=true
    "-Dhadoop.log.dir=$DIR/logs" "-Dhadoop.home.dir=$JAR_DIR"
    ${HDFS_JAVA_OPTS:-}
    "-Dwproc.hdfs.role=$role" "-Dwproc.hdfs.dir=$DIR"
  )
}

# Is a TCP port on 127.0.0.1 being listened on?
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# claim_port PORT: the port is free and, where flock exists, this run now holds
# CACHE/ports/PORT.lock on fd 7. The NameNode and DataNode inherit fd 7, so the lock lasts as
# long as either lives; two clusters started at the same time never pick the same port.
claim_port() {
  if command -v flock >/dev/null; then
    mkdir -p "$CACHE/ports"
    exec 7>"$CACHE/ports/$1.lock"
    flock -n 7 || { exec 7>&-; return 1; }
  fi
  port_busy "$1" && { exec 7>&-; return 1; }
  return 0
}

pick_nn_port() {
  if [[ -n ${HDFS_NN_PORT:-} ]]; then
    claim_port "$HDFS_NN_PORT" || die "HDFS_NN_PORT=$HDFS_NN_PORT is in use"
    NN_PORT=$HDFS_NN_PORT
    return
  fi
  local p
  for ((p = 19000; p < 19100; p++)); do
    if claim_port "$p"; then NN_PORT=$p; return; fi
  done
  die "no free port in 19000-19099; set HDFS_NN_PORT"
}

# DIR for Hadoop's storage directory settings: a file: URI, as Hadoop asks for (it warns about
# plain paths). Not for a DIR with other characters: percent-escapes in it break the DataNode
# (Hadoop 2.7 puts the path into a format string), and a plain path works.
storage_dir() {
  if [[ $DIR =~ ^[A-Za-z0-9/._~+-]+$ ]]; then printf 'file://%s' "$DIR"
  else printf '%s' "$DIR"
  fi
}

xml_escape() { local s=${1//&/&amp;}; s=${s//</&lt;}; printf '%s' "${s//>/&gt;}"; }
sed_escape() { printf '%s' "$1" | sed 's/[\\|&]/\\&/g'; }

write_conf() {
  mkdir -p "$DIR/conf"
  local f dir_value dir_uri
  dir_value=$(sed_escape "$(xml_escape "$DIR")")
  dir_uri=$(sed_escape "$(xml_escape "$(storage_dir)")")
  for f in core-site.xml hdfs-site.xml; do
    sed -e "s|@DIR@|$dir_value|g" \
        -e "s|@DIR_URI@|$dir_uri|g" \
        -e "s|@NN_PORT@|$NN_PORT|g" \
        -e "s|@NN_HTTP_PORT@|${HDFS_NN_HTTP_PORT:-0}|g" \
        -e "s|@DN_PORT@|${HDFS_DN_PORT:-0}|g" \
        -e "s|@DN_HTTP_PORT@|${HDFS_DN_HTTP_PORT:-0}|g" \
        -e "s|@DN_IPC_PORT@|${HDFS_DN_IPC_PORT:-0}|g" \
        "$TEMPLATES/$f.in" >"$DIR/conf/$f"
  done
  cp "$TEMPLATES/log4j-daemon.properties" "$DIR/conf/log4j-daemon.properties"
  cp "$TEMPLATES/log4j-client.properties" "$DIR/conf/log4j-client.properties"
}

# The NameNode RPC port recorded in DIR's config.
conf_nn_port() {
  sed -n 's|.*<name>dfs.namenode.rpc-address</name><value>127.0.0.1:\([0-9]*\)<.*|\1|p' \
    "$DIR/conf/hdfs-site.xml" 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# Processes: only those whose PID is in DIR/<role>.pid and whose command line names this DIR

cmdline_of() {
  if [[ -r /proc/$1/cmdline ]]; then tr '\0' ' ' <"/proc/$1/cmdline"
  else ps -p "$1" -o args= 2>/dev/null
  fi
}

# Print the PID of the running daemon ROLE (namenode|datanode) of DIR, or fail.
our_pid() {
  local role=$1 pid cmd
  pid=$(cat "$DIR/$role.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  cmd=$(cmdline_of "$pid") || return 1
  [[ $cmd == *"-Dwproc.hdfs.role=$role -Dwproc.hdfs.dir=$DIR "* ]] || return 1
  printf '%s\n' "$pid"
}

log_size() { if [[ -f $1 ]]; then wc -c <"$1" | tr -d ' '; else echo 0; fi; }

# launch ROLE CLASS [ARGS...]: start a daemon in the background, in its own session, with its
# PID in DIR/ROLE.pid and its output appended to DIR/logs/ROLE.log.
launch() {
  local role=$1 class=$2 pidfile=$DIR/$1.pid logf=$DIR/logs/$1.log
  shift 2
  local setsid=() i
  command -v setsid >/dev/null && setsid=(setsid)
  jvm_opts "$role"
  rm -f "$pidfile"
  printf '\n===== %s: starting %s =====\n' "$(date '+%F %T')" "$role" >>"$logf"
  # sh writes its own PID, then becomes java: the PID file names java even if setsid forks.
  # shellcheck disable=SC2016  # $$, $0 and $@ are for that sh
  "${setsid[@]}" sh -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pidfile" \
    "$JAVA" "${JVM_OPTS[@]}" "-Dlog4j.configuration=file:$DIR/conf/log4j-daemon.properties" \
    -cp "$(classpath)" "$class" "$@" </dev/null >>"$logf" 2>&1 8>&- 9>&- &
  STARTED+=("$role")
  for ((i = 0; i < 100; i++)); do
    [[ -s $pidfile ]] && return 0
    sleep 0.05
  done
  die "$role did not start (see $logf)"
}

# wait_for ROLE OFFSET REGEX DEADLINE: until ROLE's log past OFFSET matches REGEX.
wait_for() {
  local role=$1 offset=$2 regex=$3 deadline=$4 logf=$DIR/logs/$1.log r
  while :; do
    # (no grep -q: an early exit would SIGPIPE tail and fail the pipeline under pipefail)
    if tail -c "+$((offset + 1))" "$logf" 2>/dev/null | grep -E "$regex" >/dev/null; then
      return 0
    fi
    for r in "${STARTED[@]}"; do
      our_pid "$r" >/dev/null || fail "$r exited during start-up"
    done
    (($(now) < deadline)) || fail "timed out after ${START_TIMEOUT}s waiting for $role: /$regex/"
    sleep 0.2
  done
}

# Report a failed start-up with the logs' tails, stop what this run started, and exit.
fail() {
  log "error: $1"
  local r
  for r in namenode datanode; do
    [[ -f $DIR/logs/$r.log ]] || continue
    log "---- last lines of $DIR/logs/$r.log ----"
    tail -n 25 "$DIR/logs/$r.log" >&2
  done
  for r in "${STARTED[@]}"; do stop_role "$r"; done
  exit 1
}

stop_role() {
  local role=$1 pid i
  if ! pid=$(our_pid "$role"); then
    rm -f "$DIR/$role.pid"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$role (pid $pid) ignored TERM for ${STOP_TIMEOUT}s: KILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$DIR/$role.pid"
  log "stopped $role (pid $pid)"
}

# Start the NameNode on the existing name dir and wait until it left safe mode and the
# DataNode has (re-)registered and sent its block report.
start_namenode() {
  local deadline=$(($(now) + START_TIMEOUT)) nn_off dn_off
  NN_PORT=$(conf_nn_port)
  [[ -n $NN_PORT ]] || die "no config in $DIR/conf: run start first"
  port_busy "$NN_PORT" && die "port $NN_PORT of the NameNode is taken by another process"
  nn_off=$(log_size "$DIR/logs/namenode.log")
  dn_off=$(log_size "$DIR/logs/datanode.log")
  launch namenode "$NN_CLASS"
  wait_for namenode "$nn_off" 'Leaving safe mode|Safe mode is OFF' "$deadline"
  if our_pid datanode >/dev/null; then
    wait_for datanode "$dn_off" 'Successfully sent block report' "$deadline"
  fi
}

write_env() {
  local nn_http dn_port
  NN_PORT=$(conf_nn_port)
  # The actual ports behind a configured 0, as the latest start-up logged them.
  nn_http=$({ grep -Eo 'Jetty bound to port [0-9]+' "$DIR/logs/namenode.log" || true; } \
    | tail -n1 | sed 's/.* //')
  dn_port=$({ grep -Eo 'Opened streaming server at /[0-9.]+:[0-9]+' "$DIR/logs/datanode.log" || true; } \
    | tail -n1 | sed 's/.*://')
  {
    printf 'HDFS_URL=%q\n' "hdfs://127.0.0.1:$NN_PORT"
    printf 'HDFS_NN_PORT=%q\n' "$NN_PORT"
    printf 'HDFS_NN_HTTP_PORT=%q\n' "$nn_http"
    printf 'HDFS_DN_PORT=%q\n' "$dn_port"
    printf 'HDFS_DIR=%q\n' "$DIR"
    printf 'HDFS_CONF_DIR=%q\n' "$DIR/conf"
  } >"$DIR/hdfs.env.tmp"
  mv "$DIR/hdfs.env.tmp" "$DIR/hdfs.env"
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_fetch() {
  ensure_java
  ensure_jars
}

cmd_start() {
  local t0 deadline nn dn
  t0=$(now)
  lock_dir
  nn=$(our_pid namenode) || nn=
  dn=$(our_pid datanode) || dn=
  if [[ -n $nn && -n $dn ]]; then
    log "already running in $DIR (namenode pid $nn, datanode pid $dn)"
    [[ -f $DIR/hdfs.env ]] || write_env
    cat "$DIR/hdfs.env"
    return 0
  fi
  ensure_java
  ensure_jars
  deadline=$(($(now) + START_TIMEOUT))

  if [[ -n $nn || -n $dn ]]; then
    # Half a cluster (e.g. after stop-namenode): bring up the missing half, keeping the data.
    if [[ -z $dn ]]; then
      local dn_off
      dn_off=$(log_size "$DIR/logs/datanode.log")
      launch datanode "$DN_CLASS" "${DN_ARGS[@]}"
      wait_for datanode "$dn_off" 'Successfully sent block report' "$deadline"
    else
      start_namenode
    fi
  else
    # A fresh cluster: new config, an empty formatted NameNode, an empty DataNode.
    pick_nn_port
    rm -rf "$DIR/name" "$DIR/data" "$DIR/tmp" "$DIR/logs" "$DIR/conf" \
      "$DIR/namenode.pid" "$DIR/datanode.pid" "$DIR/hdfs.env"
    mkdir -p "$DIR/logs"
    write_conf
    # The DataNode's JVM boots while the NameNode is formatted; it keeps retrying to connect.
    launch datanode "$DN_CLASS" "${DN_ARGS[@]}"
    jvm_opts format
    if ! "$JAVA" "${JVM_OPTS[@]}" "-Dlog4j.configuration=file:$DIR/conf/log4j-daemon.properties" \
      -cp "$(classpath)" "$NN_CLASS" -format -nonInteractive -force \
      </dev/null >"$DIR/logs/format.log" 2>&1 8>&- 9>&-; then
      stop_role datanode
      tail -n 30 "$DIR/logs/format.log" >&2
      die "formatting the NameNode failed (see $DIR/logs/format.log)"
    fi
    launch namenode "$NN_CLASS"
    wait_for namenode 0 'Leaving safe mode|Safe mode is OFF' "$deadline"
    wait_for datanode 0 'Successfully sent block report' "$deadline"
  fi
  write_env
  log "HDFS up in $DIR after $(($(now) - t0)) s (namenode pid $(cat "$DIR/namenode.pid"), datanode pid $(cat "$DIR/datanode.pid"))"
  cat "$DIR/hdfs.env"
}

cmd_stop() {
  lock_dir
  # Both at once: TERM is sent to each before waiting.
  stop_role datanode &
  stop_role namenode
  wait
}

cmd_status() {
  local r pid rc=0
  for r in namenode datanode; do
    if pid=$(our_pid "$r"); then
      printf '%s: running (pid %s)\n' "$r" "$pid"
    else
      printf '%s: stopped\n' "$r"
      rc=3
    fi
  done
  if ((rc == 0)) && [[ -f $DIR/hdfs.env ]]; then cat "$DIR/hdfs.env"; fi
  return "$rc"
}

cmd_fs() {
  [[ -f $DIR/conf/core-site.xml ]] || die "no cluster config in $DIR/conf: run start first"
  ensure_java
  jars_complete || die "no jars in $JAR_DIR: run start first"
  jvm_opts fs
  exec "$JAVA" "${JVM_OPTS[@]}" "-Dlog4j.configuration=file:$DIR/conf/log4j-client.properties" \
    -cp "$(classpath)" "$FS_CLASS" "$@"
}

cmd_stop_namenode() {
  lock_dir
  stop_role namenode
}

cmd_start_namenode() {
  local t0
  t0=$(now)
  lock_dir
  if our_pid namenode >/dev/null; then
    log "namenode already running"
  else
    ensure_java
    jars_complete || die "no jars in $JAR_DIR: run start first"
    start_namenode
    write_env
    log "namenode up after $(($(now) - t0)) s (pid $(cat "$DIR/namenode.pid"))"
  fi
  cat "$DIR/hdfs.env"
}

cmd_restart_namenode() {
  local t0
  t0=$(now)
  lock_dir
  our_pid namenode >/dev/null || log "namenode was not running"
  stop_role namenode
  ensure_java
  jars_complete || die "no jars in $JAR_DIR: run start first"
  start_namenode
  write_env
  log "namenode restarted in $(($(now) - t0)) s (pid $(cat "$DIR/namenode.pid"))"
  cat "$DIR/hdfs.env"
}

main() {
  [[ $# -gt 0 ]] || { usage; exit 2; }
  local cmd=$1 dir=
  shift
  while [[ $# -gt 0 ]]; do
    case $1 in
      --dir) [[ $# -ge 2 ]] || die "--dir needs a value"; dir=$2; shift 2 ;;
      --dir=*) dir=${1#--dir=}; shift ;;
      --) shift; break ;;
      -h|--help) usage; exit 0 ;;
      *) if [[ $cmd == fs ]]; then break; fi; usage; die "unknown argument: $1" ;;
    esac
  done
  if [[ $cmd != fs && $# -gt 0 ]]; then usage; die "unexpected arguments: $*"; fi
  case $cmd in
    fetch) cmd_fetch; return ;;
    -h|--help|help) usage; return ;;
  esac
  if [[ $cmd == start ]]; then set_dir "$dir" yes; else set_dir "$dir" no; fi
  case $cmd in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    fs) cmd_fs "$@" ;;
    restart-namenode) cmd_restart_namenode ;;
    stop-namenode) cmd_stop_namenode ;;
    start-namenode) cmd_start_namenode ;;
    *) usage; die "unknown command: $cmd" ;;
  esac
}

main "$@"
