#!/usr/bin/env bash
# Stop the local Kafka, PostgreSQL and Redis started by infra/up.sh. Data under .infra/ is kept.
# `down.sh redis` stops Redis alone.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

take_lock
if [[ "${1:-}" == redis ]]; then
  redis_stop
  exit 0
fi
kafka_cluster_stop
pg_stop
redis_stop
