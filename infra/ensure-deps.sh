#!/usr/bin/env bash
# Installs the npm dependencies from the lockfile when they are missing (a fresh clone), so the
# README's commands work with nothing run before them.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
if [ ! -f node_modules/.package-lock.json ]; then
  echo "installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
fi
