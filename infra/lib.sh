# Shared by infra/up.sh, down.sh, status.sh, kafka.sh and the kafka/bin wrappers: local Apache
# Kafka (KRaft, one node or a cluster of N), PostgreSQL 15 and Redis as plain processes, state under
# <repo>/.infra/ (or INFRA_STATE_DIR: a second, separate set, e.g. a test's own cluster).
# Sourcing only defines variables and functions; callers decide what to run.
set -euo pipefail

INFRA_DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
REPO_ROOT="$(dirname "$INFRA_DIR")"
STATE_DIR="${INFRA_STATE_DIR:-$REPO_ROOT/.infra}"
ENV_FILE="$STATE_DIR/env"
LOCK_FILE="$STATE_DIR/.lock"
HOST=127.0.0.1

KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
# A cluster's nodes listen on KAFKA_PORT, +1, +2...; their controllers on KAFKA_CLUSTER_CONTROLLER_PORT,
# +1, ... (the single node's controller port, KAFKA_PORT+1, is a cluster's second broker).
KAFKA_CLUSTER_CONTROLLER_PORT="${KAFKA_CLUSTER_CONTROLLER_PORT:-$((KAFKA_PORT + 100))}"
KAFKA_HOME="$INFRA_DIR/kafka"
KAFKA_LIB="$KAFKA_HOME/lib"
KAFKA_POM="$KAFKA_HOME/pom.xml"
KAFKA_JARS_STAMP="$KAFKA_LIB/.pom.sha256"
KAFKA_STATE="$STATE_DIR/kafka"
# How many nodes the last `up --brokers N` started; a plain `up` starts as many again.
KAFKA_NODES_FILE="$KAFKA_STATE/brokers"
KAFKA_CLUSTER_ID_FILE="$KAFKA_STATE/cluster.id"
KAFKA_NODES="$(cat "$KAFKA_NODES_FILE" 2>/dev/null || echo 1)"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

PGPORT="${PGPORT:-15432}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_STATE="$STATE_DIR/postgres"
PG_DATA="$PG_STATE/data"
PG_LOG="$PG_STATE/postgres.log"
PG_SOCKET_DIR="$PG_STATE"
PG_START_TIMEOUT="${PG_START_TIMEOUT:-60}"

# Redis holds the CDN request budget that every hls-fetcher shares (Bottleneck's clustering).
REDIS_PORT="${REDIS_PORT:-16379}"
REDIS_BIN="${REDIS_BIN:-/usr/bin/redis-server}"
REDIS_STATE="$STATE_DIR/redis"
REDIS_CONF="$REDIS_STATE/redis.conf"
REDIS_LOG="$REDIS_STATE/redis.log"
REDIS_PID_FILE="$REDIS_STATE/redis.pid"
REDIS_START_TIMEOUT="${REDIS_START_TIMEOUT:-30}"

DATABASE_URL="postgres://vod:vod@$HOST:$PGPORT/vod"
# The API's own login (vod_api: SELECT on what it reads, nothing else); its password is made once per
# clone, kept here, and set on the role by pg_bootstrap.
PG_API_PASSWORD_FILE="$PG_STATE/api-password"
REDIS_URL="redis://$HOST:$REDIS_PORT"

log() { printf '[infra] %s\n' "$*" >&2; }

# die MESSAGE [LOGFILE...]: explain, show the end of the relevant logs, exit 1.
die() {
  local msg="$1" f
  shift
  printf '[infra] ERROR: %s\n' "$msg" >&2
  for f in "$@"; do
    if [[ -s "$f" ]]; then
      printf '[infra] --- last lines of %s ---\n' "$f" >&2
      tail -n 40 "$f" >&2
      printf '[infra] ---\n' >&2
    fi
  done
  exit 1
}

# One up/down at a time: parallel test runs all call `npm run infra:up`.
take_lock() {
  mkdir -p "$STATE_DIR"
  exec 9>"$LOCK_FILE"
  flock -w 600 9 || die "another infra script holds $LOCK_FILE for over 10 minutes"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# ---------------------------------------------------------------- packages

APT_UPDATED=0
apt_install() {
  local -a sudo=()
  if [[ $EUID -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      die "need root to run 'apt-get install $*'; install it and re-run"
    fi
  fi
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* by hand"
  local -a apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)
  local apt_log="$STATE_DIR/apt.log"
  mkdir -p "$STATE_DIR"
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    "${apt[@]}" update -qq </dev/null >>"$apt_log" 2>&1 || die "apt-get update failed" "$apt_log"
    APT_UPDATED=1
  fi
  log "apt-get install $* (output in $apt_log)"
  "${apt[@]}" install -y -qq --no-install-recommends "$@" </dev/null >>"$apt_log" 2>&1 \
    || die "apt-get install $* failed" "$apt_log"
}

ensure_tools() {
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || apt_install maven
  command -v kcat >/dev/null 2>&1 || apt_install kcat
  [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/psql" ]] || apt_install postgresql-15
  command -v flock >/dev/null 2>&1 || apt_install util-linux
  ensure_redis_tools
}

ensure_redis_tools() {
  [[ -x "$REDIS_BIN" ]] && command -v redis-cli >/dev/null 2>&1 || apt_install redis-server
}

# Debian's ffmpeg and Chromium: the API's tests decode a served playlist and play it in the web page.
ensure_media_tools() {
  local -a missing=()
  command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  [[ ${#missing[@]} -eq 0 ]] || apt_install "${missing[@]}"
}

# Debian's wrk (C) and taskset: bench:api loads the API from a core of its own, which a Node
# generator on the same cores cannot do at five times what the API answers.
ensure_bench_tools() {
  local -a missing=()
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
  [[ ${#missing[@]} -eq 0 ]] || apt_install "${missing[@]}"
}

# ---------------------------------------------------------------- kafka jars

pom_sha() { sha256sum "$KAFKA_POM" | cut -d' ' -f1; }

kafka_jars_fresh() {
  [[ -f "$KAFKA_JARS_STAMP" && "$(cat "$KAFKA_JARS_STAMP")" == "$(pom_sha)" ]]
}

# Resolve Kafka from Maven Central into infra/kafka/lib/ unless the stamp says lib/ already
# matches this pom.xml. The stamp is written last, so an interrupted copy is redone.
ensure_kafka_jars() {
  kafka_jars_fresh && return 0
  mkdir -p "$STATE_DIR"
  local lock_fd
  exec {lock_fd}>"$STATE_DIR/.jars.lock"
  flock -w 900 "$lock_fd" || die "timed out waiting for another Kafka jar download"
  if ! kafka_jars_fresh; then
    command -v mvn >/dev/null 2>&1 || apt_install maven
    log "resolving Kafka jars from Maven Central (first run can take a few minutes)"
    local sha started=$SECONDS
    sha="$(pom_sha)"
    rm -rf "$KAFKA_LIB"
    local mvn_log="$STATE_DIR/maven.log"
    if ! mvn -B -q -f "$KAFKA_POM" package >"$mvn_log" 2>&1 </dev/null; then
      die "Maven could not resolve Kafka's jars (see $mvn_log)" "$mvn_log"
    fi
    compgen -G "$KAFKA_LIB/kafka_2.13-*.jar" >/dev/null || die "Maven finished but $KAFKA_LIB has no kafka jar" "$mvn_log"
    printf '%s\n' "$sha" >"$KAFKA_JARS_STAMP"
    log "Kafka jars ready in $((SECONDS - started))s"
  fi
  exec {lock_fd}>&-
}

# kafka_cli MAIN_CLASS ARGS...: one of Apache's CLIs, quiet logging, small heap.
kafka_cli() {
  ensure_kafka_jars
  local main="$1"
  shift
  # shellcheck disable=SC2086 # KAFKA_TOOLS_JVM_OPTS is a list of flags
  exec java ${KAFKA_TOOLS_JVM_OPTS:--Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1} \
    -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KAFKA_HOME/config/tools-log4j.properties" \
    -cp "$KAFKA_LIB/*" "$main" "$@"
}

# ---------------------------------------------------------------- kafka nodes

# kafka_set_nodes N: how many nodes to run (from `--brokers N`), checked.
kafka_set_nodes() {
  [[ "$1" =~ ^[1-9]$ ]] || die "--brokers wants a number of Kafka nodes from 1 to 9, got '$1'"
  KAFKA_NODES="$1"
}

# kafka_args ARGS...: takes `--brokers N` out of ARGS (into KAFKA_NODES); the rest is left in REST_ARGS.
kafka_args() {
  REST_ARGS=()
  while (($# > 0)); do
    case "$1" in
      --brokers)
        [[ $# -ge 2 ]] || die "--brokers wants a number of Kafka nodes"
        kafka_set_nodes "$2"
        shift 2
        ;;
      --brokers=*)
        kafka_set_nodes "${1#--brokers=}"
        shift
        ;;
      *)
        REST_ARGS+=("$1")
        shift
        ;;
    esac
  done
}

# kafka_node I: points the node variables at node I (1..KAFKA_NODES). One node keeps the layout it
# always had (.infra/kafka/{data,server.properties,...}); a cluster's node I lives in .infra/kafka/node-I/.
kafka_node() {
  [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= KAFKA_NODES)) \
    || die "no Kafka node '$1': this cluster has nodes 1 to $KAFKA_NODES"
  KAFKA_NODE_ID="$1"
  KAFKA_NODE_PORT=$((KAFKA_PORT + $1 - 1))
  if ((KAFKA_NODES == 1)); then
    KAFKA_NODE_DIR="$KAFKA_STATE"
    KAFKA_NODE_CONTROLLER_PORT="$KAFKA_CONTROLLER_PORT"
  else
    KAFKA_NODE_DIR="$KAFKA_STATE/node-$1"
    KAFKA_NODE_CONTROLLER_PORT=$((KAFKA_CLUSTER_CONTROLLER_PORT + $1 - 1))
  fi
  KAFKA_DATA="$KAFKA_NODE_DIR/data"
  KAFKA_PROPS="$KAFKA_NODE_DIR/server.properties"
  KAFKA_LOG="$KAFKA_NODE_DIR/server.log"
  KAFKA_OUT="$KAFKA_NODE_DIR/kafka.out"
  KAFKA_PID_FILE="$KAFKA_NODE_DIR/kafka.pid"
}

# Every node's client address, comma-separated (KAFKA_BROKERS).
kafka_brokers() {
  local i list=""
  for ((i = 1; i <= KAFKA_NODES; i++)); do list+="${list:+,}$HOST:$((KAFKA_PORT + i - 1))"; done
  printf '%s\n' "$list"
}

# Prints the node's pid when its pid file points at a live kafka.Kafka process.
kafka_pid() {
  [[ -f "$KAFKA_PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$KAFKA_PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # Guards against a recycled pid belonging to something else.
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q 'kafka\.Kafka' || return 1
  printf '%s\n' "$pid"
}

# Healthy = the cluster answers a metadata request listing every node.
kafka_healthy() {
  if command -v kcat >/dev/null 2>&1; then
    kcat -b "$(kafka_brokers)" -L -m 3 2>/dev/null | grep -Eq "^ *$KAFKA_NODES brokers:"
  else
    local i
    for ((i = 1; i <= KAFKA_NODES; i++)); do port_open "$((KAFKA_PORT + i - 1))" || return 1; done
  fi
}

# The current node answers a metadata request itself.
kafka_node_healthy() {
  if command -v kcat >/dev/null 2>&1; then
    kcat -b "$HOST:$KAFKA_NODE_PORT" -L -m 3 2>/dev/null | grep -Eq '^ *[1-9][0-9]* brokers:'
  else
    port_open "$KAFKA_NODE_PORT"
  fi
}

kafka_write_config() {
  mkdir -p "$KAFKA_DATA"
  local i voters="" rf=$((KAFKA_NODES < 3 ? KAFKA_NODES : 3)) isr=1
  ((rf < 3)) || isr=2
  if ((KAFKA_NODES == 1)); then
    voters="1@$HOST:$KAFKA_CONTROLLER_PORT"
  else
    for ((i = 1; i <= KAFKA_NODES; i++)); do
      voters+="${voters:+,}$i@$HOST:$((KAFKA_CLUSTER_CONTROLLER_PORT + i - 1))"
    done
  fi
  cat >"$KAFKA_PROPS" <<PROPS
# Generated by infra/lib.sh on every start; edit there.
process.roles=broker,controller
node.id=$KAFKA_NODE_ID
controller.quorum.voters=$voters
listeners=PLAINTEXT://$HOST:$KAFKA_NODE_PORT,CONTROLLER://$HOST:$KAFKA_NODE_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_NODE_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DATA

# Replicas on min(3, nodes) brokers; with three, an acknowledged record (acks=all) is on two at least,
# so any one broker may die. Internal topics (offsets, transactions) likewise.
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
default.replication.factor=$rf
min.insync.replicas=$isr

# Topics are created explicitly (npm run topics:create); a typo must fail, not create a topic.
auto.create.topics.enable=false
num.partitions=3
delete.topic.enable=true
# Consumers in tests should get partitions at once, not after the 3 s default delay.
group.initial.rebalance.delay.ms=0

# Small machine.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
PROPS
}

# A new cluster id: 16 random bytes in URL-safe base64; one starting with '-' would read as a flag.
kafka_new_cluster_id() {
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    [[ "$id" != -* ]] && break
  done
  printf '%s\n' "$id"
}

# Storage must be formatted once (KRaft) before the first start; meta.properties marks it. A cluster's
# nodes share one id, kept in .infra/kafka/cluster.id so a wiped node can be formatted into it again.
kafka_format_once() {
  [[ -f "$KAFKA_DATA/meta.properties" ]] && return 0
  local cluster_id
  if ((KAFKA_NODES == 1)); then
    cluster_id="$(kafka_new_cluster_id)"
  else
    [[ -s "$KAFKA_CLUSTER_ID_FILE" ]] || kafka_new_cluster_id >"$KAFKA_CLUSTER_ID_FILE"
    cluster_id="$(cat "$KAFKA_CLUSTER_ID_FILE")"
  fi
  log "formatting Kafka storage of node $KAFKA_NODE_ID (cluster id $cluster_id)"
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j.configuration="file:$KAFKA_HOME/config/tools-log4j.properties" \
    -cp "$KAFKA_LIB/*" kafka.tools.StorageTool format \
    -t "$cluster_id" -c "$KAFKA_PROPS" >"$KAFKA_NODE_DIR/format.log" 2>&1 </dev/null \
    || die "formatting Kafka storage failed" "$KAFKA_NODE_DIR/format.log"
}

# The listener a running node was started with (its generated config is rewritten per start).
kafka_running_listener() { sed -n 's/^advertised.listeners=PLAINTEXT:\/\///p' "$KAFKA_PROPS" 2>/dev/null; }

# die with the JVM's own output and only the server.log lines written since this start.
kafka_die() {
  local excerpt="$KAFKA_NODE_DIR/startup-failure.log"
  tail -c +"$((${KAFKA_LOG_OFFSET:-0} + 1))" "$KAFKA_LOG" 2>/dev/null >"$excerpt" || true
  die "$1" "$excerpt" "$KAFKA_OUT"
}

# Starts the current node unless it runs.
kafka_start() {
  local pid running heap
  if pid="$(kafka_pid)"; then
    running="$(kafka_running_listener)"
    [[ "$running" == "$HOST:$KAFKA_NODE_PORT" ]] \
      || die "kafka node $KAFKA_NODE_ID is already running on $running, not $HOST:$KAFKA_NODE_PORT; run infra/down.sh first"
    log "kafka node $KAFKA_NODE_ID already running (pid $pid)"
    return 0
  fi
  rm -f "$KAFKA_PID_FILE"
  if port_open "$KAFKA_NODE_PORT" || port_open "$KAFKA_NODE_CONTROLLER_PORT"; then
    die "port $KAFKA_NODE_PORT or $KAFKA_NODE_CONTROLLER_PORT is taken by a process infra/up.sh did not start; stop it or set KAFKA_PORT/KAFKA_CONTROLLER_PORT"
  fi
  kafka_write_config
  kafka_format_once
  log "starting kafka node $KAFKA_NODE_ID on $HOST:$KAFKA_NODE_PORT"
  KAFKA_LOG_OFFSET="$(stat -c %s "$KAFKA_LOG" 2>/dev/null || echo 0)"
  # Three JVMs must fit next to PostgreSQL and the tests: a cluster's nodes get a smaller heap.
  heap="${KAFKA_HEAP_OPTS:-$( ((KAFKA_NODES == 1)) && echo '-Xms256m -Xmx512m' || echo '-Xms128m -Xmx384m')}"
  # setsid: a Ctrl-C on the calling terminal must not take the broker down with it.
  # 9>&-: the broker must not inherit the infra lock.
  # shellcheck disable=SC2086 # heap is a list of flags
  setsid java $heap \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExplicitGCInvokesConcurrent \
    -XX:MaxInlineLevel=15 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_NODE_DIR" \
    -Dlog4j.configuration="file:$KAFKA_HOME/config/log4j.properties" \
    -cp "$KAFKA_LIB/*" kafka.Kafka "$KAFKA_PROPS" \
    </dev/null >"$KAFKA_OUT" 2>&1 9>&- &
  printf '%s\n' "$!" >"$KAFKA_PID_FILE"
}

# Waits until the current node answers (a cluster's node also needs a quorum of its peers up).
kafka_node_wait_ready() {
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  until kafka_node_healthy; do
    kafka_pid >/dev/null || kafka_die "kafka node $KAFKA_NODE_ID exited during startup"
    ((SECONDS < deadline)) \
      || kafka_die "kafka node $KAFKA_NODE_ID not ready on $HOST:$KAFKA_NODE_PORT after ${KAFKA_START_TIMEOUT}s"
    sleep 0.5
  done
}

# SIGTERM lets the node flush and close its logs cleanly; SIGKILL only after a timeout (or at once:
# kafka_stop KILL).
kafka_stop() {
  local pid
  pid="$(kafka_signal "${1:-TERM}")" || return 0
  kafka_wait_exit "$pid"
}

# Sends the signal to the current node and prints its pid; fails when it does not run.
kafka_signal() {
  local pid
  if ! pid="$(kafka_pid)"; then
    rm -f "$KAFKA_PID_FILE"
    log "kafka node $KAFKA_NODE_ID not running"
    return 1
  fi
  log "stopping kafka node $KAFKA_NODE_ID (pid $pid, SIG$1)"
  kill "-$1" "$pid" 2>/dev/null || true
  printf '%s\n' "$pid"
}

kafka_wait_exit() {
  local pid="$1" deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "kafka node $KAFKA_NODE_ID still running after ${KAFKA_STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$KAFKA_PID_FILE"
  log "kafka node $KAFKA_NODE_ID stopped"
}

# Whether any node of the current count runs.
kafka_any_running() {
  local i
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    kafka_node "$i"
    kafka_pid >/dev/null && return 0
  done
  return 1
}

# Every node started, then awaited: a cluster's controllers only answer once a quorum is up. A count
# other than the running one's is refused.
kafka_cluster_start() {
  local was i
  was="$(cat "$KAFKA_NODES_FILE" 2>/dev/null || echo 1)"
  if [[ "$was" != "$KAFKA_NODES" ]] && (KAFKA_NODES="$was" && kafka_any_running); then
    die "kafka runs $was node(s), not $KAFKA_NODES; run infra/down.sh (or infra/kafka.sh down) first"
  fi
  mkdir -p "$KAFKA_STATE"
  printf '%s\n' "$KAFKA_NODES" >"$KAFKA_NODES_FILE"
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    kafka_node "$i"
    kafka_start
  done
}

kafka_cluster_wait_ready() {
  local i deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    kafka_node "$i"
    kafka_node_wait_ready
  done
  until kafka_healthy; do
    ((SECONDS < deadline)) || kafka_die "kafka's $KAFKA_NODES nodes did not all register after ${KAFKA_START_TIMEOUT}s"
    sleep 0.5
  done
  log "kafka ready on $(kafka_brokers)"
}

# One line per node (kafka-N, healthy/running/down, its address); non-zero when any is not healthy.
kafka_nodes_status() {
  local i state rc=0
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    kafka_node "$i"
    if kafka_node_healthy; then
      state=healthy
    elif kafka_pid >/dev/null; then
      state=starting rc=1
    else
      state=down rc=1
    fi
    printf '%-9s %-8s %s\n' "kafka-$i" "$state" "$HOST:$KAFKA_NODE_PORT"
  done
  return "$rc"
}

# Every node is told at once: a node stopping after the others lost the controller quorum it needs
# for a clean shutdown, and would wait out the stop timeout.
kafka_cluster_stop() {
  local i
  local -a pids=()
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    kafka_node "$i"
    pids[i]="$(kafka_signal TERM)" || pids[i]=""
  done
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    kafka_node "$i"
    [[ -z "${pids[i]}" ]] || kafka_wait_exit "${pids[i]}"
  done
}

# ---------------------------------------------------------------- postgres

# PostgreSQL refuses to run as root, so root runs it as the postgres system user.
# Run from / so tools started as postgres are not left in a cwd they cannot read.
pg_as_owner() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

pg_running() { pg_as_owner "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1; }

pg_healthy() { "$PG_BIN/pg_isready" -q -h "$HOST" -p "$PGPORT" -d vod -U vod -t 3 >/dev/null 2>&1; }

# Line 4 of postmaster.pid is the port the running server listens on.
pg_running_port() { sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null; }

pg_psql_super() {
  pg_as_owner "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PGPORT" -U postgres -d postgres "$@"
}

# As root, the postgres user needs to traverse every directory above .infra/postgres; a clone
# under /root (mode 700) would otherwise be unreachable. Only the search bit is added.
pg_prepare_dirs() {
  mkdir -p "$PG_STATE"
  local sock="$PG_SOCKET_DIR/.s.PGSQL.$PGPORT"
  ((${#sock} < 100)) || die "unix socket path $sock is too long for PostgreSQL; clone the repo to a shorter path"
  [[ $EUID -eq 0 ]] || return 0
  id postgres >/dev/null 2>&1 || die "system user 'postgres' is missing (reinstall postgresql-15)"
  # Top-down, so each test only fails on that directory's own mode.
  local dir="$STATE_DIR"
  local -a dirs=()
  while [[ "$dir" != / ]]; do
    dirs=("$dir" "${dirs[@]}")
    dir="$(dirname "$dir")"
  done
  for dir in "${dirs[@]}"; do
    if ! runuser -u postgres -- test -x "$dir"; then
      log "granting search (o+x) on $dir so the postgres user can reach $PG_STATE"
      chmod o+x "$dir"
    fi
  done
  chown postgres:postgres "$PG_STATE"
}

pg_init_once() {
  [[ -f "$PG_DATA/PG_VERSION" ]] && return 0
  local locale=C
  locale -a 2>/dev/null | grep -qix 'c.utf-\?8' && locale=C.UTF-8
  log "initdb $PG_DATA"
  # initdb into a scratch dir and rename, so an interrupted run leaves nothing half-made.
  local tmp="$PG_STATE/data.initdb"
  rm -rf "$tmp"
  # Superuser "postgres" over the unix socket only; the app role authenticates with a password.
  pg_as_owner "$PG_BIN/initdb" -D "$tmp" -U postgres -E UTF8 --locale="$locale" \
    --auth-local=trust --auth-host=scram-sha-256 >"$PG_STATE/initdb.log" 2>&1 </dev/null \
    || die "initdb failed" "$PG_STATE/initdb.log"
  mv "$tmp" "$PG_DATA"
}

pg_start() {
  if pg_running; then
    local running_port
    running_port="$(pg_running_port)"
    [[ "$running_port" == "$PGPORT" ]] \
      || die "postgres is already running on port $running_port, not PGPORT=$PGPORT; run infra/down.sh first"
    log "postgres already running on port $PGPORT"
    return 0
  fi
  if port_open "$PGPORT"; then
    die "port $PGPORT is taken by a process infra/up.sh did not start; stop it or set PGPORT"
  fi
  log "starting postgres on $HOST:$PGPORT"
  # Settings that depend on the environment go on the command line, so changing PGPORT needs
  # no config edit. 9>&-: the postmaster must not inherit the infra lock.
  pg_as_owner "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t "$PG_START_TIMEOUT" \
    -o "-c port=$PGPORT -c listen_addresses=$HOST -c unix_socket_directories='$PG_SOCKET_DIR'" \
    </dev/null >/dev/null 9>&- || die "postgres did not start" "$PG_LOG"
}

# The API's password: random, made on the first up and kept, so every up sets the same one.
pg_api_password() {
  if [[ ! -s "$PG_API_PASSWORD_FILE" ]]; then
    mkdir -p "$PG_STATE"
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$PG_API_PASSWORD_FILE.tmp")
    mv "$PG_API_PASSWORD_FILE.tmp" "$PG_API_PASSWORD_FILE"
  fi
  cat "$PG_API_PASSWORD_FILE"
}

api_database_url() { printf 'postgres://vod_api:%s@%s:%s/vod' "$(pg_api_password)" "$HOST" "$PGPORT"; }

# Roles and database for the app; safe to run on every up. vod owns the data and runs the migrations
# (CREATEROLE: they create vod_api and set its attributes); vod_api is the API's login, given its
# password here so no migration holds one.
pg_bootstrap() {
  local api_password
  api_password="$(pg_api_password)"
  # Through stdin, not argv, where any local user could read it. Base64 letters and digits: no quoting needed.
  {
    printf '\\set api_password %s\n' "$api_password"
    cat <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vod') THEN
    CREATE ROLE vod LOGIN CREATEDB CREATEROLE PASSWORD 'vod';
  ELSE
    ALTER ROLE vod LOGIN CREATEDB CREATEROLE PASSWORD 'vod';
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vod_api') THEN
    CREATE ROLE vod_api NOLOGIN NOINHERIT;
  END IF;
END
$$;
ALTER ROLE vod_api PASSWORD :'api_password';
SELECT 'CREATE DATABASE vod OWNER vod' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'vod')
\gexec
SQL
  } | pg_psql_super >/dev/null || die "creating roles/database vod failed" "$PG_LOG"
}

pg_wait_ready() {
  local deadline=$((SECONDS + PG_START_TIMEOUT))
  until pg_healthy; do
    ((SECONDS < deadline)) || die "postgres not accepting connections on $HOST:$PGPORT" "$PG_LOG"
    sleep 0.3
  done
  log "postgres ready on $HOST:$PGPORT"
}

pg_stop() {
  if [[ ! -f "$PG_DATA/PG_VERSION" ]] || ! pg_running; then
    log "postgres not running"
    return 0
  fi
  log "stopping postgres"
  if ! pg_as_owner "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 >/dev/null; then
    log "fast shutdown timed out; using immediate"
    pg_as_owner "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m immediate -w -t 30 >/dev/null \
      || die "postgres would not stop" "$PG_LOG"
  fi
  log "postgres stopped"
}

# ---------------------------------------------------------------- redis

# Prints the server's pid when the pid file points at a live redis-server.
redis_pid() {
  [[ -f "$REDIS_PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$REDIS_PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q 'redis-server' || return 1
  printf '%s\n' "$pid"
}

redis_healthy() { [[ "$(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

redis_write_config() {
  mkdir -p "$REDIS_STATE"
  cat >"$REDIS_CONF" <<EOF
# Generated by infra/lib.sh on every start; edit there.
bind $HOST
port $REDIS_PORT
dir $REDIS_STATE
pidfile $REDIS_PID_FILE
logfile $REDIS_LOG
daemonize yes
# The budget is timing state that rebuilds itself within a second: nothing to persist.
save ""
appendonly no
EOF
}

redis_start() {
  local pid
  if pid="$(redis_pid)"; then
    log "redis already running (pid $pid)"
    return 0
  fi
  rm -f "$REDIS_PID_FILE"
  if port_open "$REDIS_PORT"; then
    die "port $REDIS_PORT is taken by a process infra/up.sh did not start; stop it or set REDIS_PORT"
  fi
  redis_write_config
  log "starting redis on $HOST:$REDIS_PORT"
  # daemonize: the server detaches itself; 9>&-: it must not inherit the infra lock.
  "$REDIS_BIN" "$REDIS_CONF" </dev/null >/dev/null 2>&1 9>&- || die "redis-server did not start" "$REDIS_LOG"
}

redis_wait_ready() {
  local deadline=$((SECONDS + REDIS_START_TIMEOUT))
  until redis_healthy; do
    ((SECONDS < deadline)) || die "redis not answering on $HOST:$REDIS_PORT after ${REDIS_START_TIMEOUT}s" "$REDIS_LOG"
    sleep 0.2
  done
  log "redis ready on $HOST:$REDIS_PORT"
}

redis_stop() {
  local pid
  if ! pid="$(redis_pid)"; then
    rm -f "$REDIS_PID_FILE"
    log "redis not running"
    return 0
  fi
  log "stopping redis (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$REDIS_PID_FILE"
  log "redis stopped"
}

# ---------------------------------------------------------------- env file

write_env_file() {
  local tmp="$ENV_FILE.tmp"
  (umask 077 && printf 'KAFKA_BROKERS=%s\nDATABASE_URL=%s\nAPI_DATABASE_URL=%s\nREDIS_URL=%s\n' \
    "$(kafka_brokers)" "$DATABASE_URL" "$(api_database_url)" "$REDIS_URL" >"$tmp")
  mv "$tmp" "$ENV_FILE"
}

