#!/usr/bin/env bash
# Kafka alone, and its nodes one by one (the faults a cluster must ride out):
#   kafka.sh up [--brokers N]   start N nodes (default: as many as last time, else 1) and wait for them
#   kafka.sh down               stop every node (SIGTERM); data is kept
#   kafka.sh status             one line per node; non-zero exit if any is not healthy
#   kafka.sh brokers            print KAFKA_BROKERS (every node's address)
#   kafka.sh stop N | start N   stop node N cleanly / start it again (start waits until it answers)
#   kafka.sh kill N             SIGKILL node N (kill -9: no flush, no clean shutdown)
#   kafka.sh wipe N             kill node N, delete its data dir, format it into the cluster again and
#                               start it: it rejoins empty and copies its replicas back from the others
# INFRA_STATE_DIR and KAFKA_PORT select a second, separate cluster (a test's own).
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

kafka_args "$@"
set -- "${REST_ARGS[@]}"
cmd="${1:-}"
node="${2:-}"
usage="usage: infra/kafka.sh up [--brokers N] | down | status | brokers | stop N | start N | kill N | wipe N"
case "$cmd" in
  up | down | status | brokers) [[ $# -eq 1 ]] || die "$usage" ;;
  stop | start | kill | wipe)
    [[ $# -eq 2 ]] || die "$cmd wants a node number; $usage"
    kafka_node "$node"
    ;;
  *) die "$usage" ;;
esac

case "$cmd" in
  up)
    take_lock
    command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
    command -v kcat >/dev/null 2>&1 || apt_install kcat
    ensure_kafka_jars
    kafka_cluster_start
    kafka_cluster_wait_ready
    kafka_brokers
    ;;
  down)
    take_lock
    kafka_cluster_stop
    ;;
  status) kafka_nodes_status ;;
  brokers) kafka_brokers ;;
  stop)
    take_lock
    kafka_stop TERM
    ;;
  kill)
    take_lock
    kafka_stop KILL
    ;;
  start)
    take_lock
    kafka_start
    kafka_node_wait_ready
    log "kafka node $node ready on $HOST:$KAFKA_NODE_PORT"
    ;;
  wipe)
    ((KAFKA_NODES > 1)) || die "wipe is for a cluster's node: a single node's data is all there is"
    take_lock
    kafka_stop KILL
    log "deleting $KAFKA_DATA"
    rm -rf "$KAFKA_DATA"
    kafka_start
    kafka_node_wait_ready
    log "kafka node $node rejoined empty on $HOST:$KAFKA_NODE_PORT"
    ;;
esac
