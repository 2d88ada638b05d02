#!/usr/bin/env bash
# Stop the local Kafka and PostgreSQL started by infra/up.sh. Data under .infra/ is kept.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

take_lock
kafka_stop
pg_stop
