#!/usr/bin/env bash
# One line per component; exits non-zero when any is down.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

rc=0
if kafka_healthy; then
  printf '%-9s %-8s %s\n' kafka healthy "$(kafka_brokers)"
else
  printf '%-9s %-8s %s\n' kafka down "$(kafka_brokers)"
  rc=1
fi
# A cluster: a line per node too (`infra/kafka.sh status` shows only these).
((KAFKA_NODES == 1)) || kafka_nodes_status || true
if pg_healthy; then
  printf '%-9s %-8s %s\n' postgres healthy "$HOST:$PGPORT"
else
  printf '%-9s %-8s %s\n' postgres down "$HOST:$PGPORT"
  rc=1
fi
if redis_healthy; then
  printf '%-9s %-8s %s\n' redis healthy "$HOST:$REDIS_PORT"
else
  printf '%-9s %-8s %s\n' redis down "$HOST:$REDIS_PORT"
  rc=1
fi
exit "$rc"
