#!/usr/bin/env bash
# The demo on a fresh clone: installs the npm dependencies when missing, then runs `vods demo`,
# which starts the infra, the simulator, the four services and the API, restarts any that dies (with
# backoff, counted in its progress line), and stops them all on Ctrl-C.
# `npm run demo -- --instances 3` runs three of each service but the live-poller, in their groups.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
bash infra/ensure-deps.sh
exec node --import tsx packages/cli/src/main.ts demo "$@"
