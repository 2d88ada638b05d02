#!/usr/bin/env bash
# Start local Kafka (KRaft, one node) and PostgreSQL 15, installing what is missing, and write
# .infra/env. Running it again while everything is up only re-checks health.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

take_lock
started=$SECONDS
ensure_tools
ensure_kafka_jars

# Kafka's JVM takes the longest to come up, so postgres is started while it boots.
kafka_start
pg_prepare_dirs
pg_init_once
pg_start
pg_wait_ready
pg_bootstrap
kafka_wait_ready

write_env_file
log "up in $((SECONDS - started))s; wrote $ENV_FILE"
cat "$ENV_FILE"
