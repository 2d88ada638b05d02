#!/usr/bin/env bash
# Start local Kafka (KRaft, one node), PostgreSQL 15 and Redis, installing what is missing, and
# write .infra/env. Running it again while everything is up only re-checks health.
# `up.sh --brokers 3` runs Kafka as a cluster of three nodes (kept for later plain `up`s; `--brokers 1`
# goes back). `up.sh redis` starts Redis alone (Kafka and PostgreSQL run elsewhere).
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

kafka_args "$@"
set -- "${REST_ARGS[@]}"
take_lock
started=$SECONDS
if [[ "${1:-}" == redis ]]; then
  ensure_redis_tools
  redis_start
  redis_wait_ready
  exit 0
fi
ensure_tools
ensure_kafka_jars

# Kafka's JVM takes the longest to come up, so postgres and redis are started while it boots.
kafka_cluster_start
redis_start
pg_prepare_dirs
pg_init_once
pg_start
pg_wait_ready
pg_bootstrap
redis_wait_ready
kafka_cluster_wait_ready

write_env_file
log "up in $((SECONDS - started))s; wrote $ENV_FILE"
# Passwords stay in the file (mode 600), out of logs.
sed -E 's#(://[^:/@]+:)[^@]*@#\1***@#' "$ENV_FILE"
