#!/usr/bin/env bash
# Installs the npm dependencies from the lockfile when they are missing (a fresh clone), so the
# README's commands work with nothing run before them. With --media (npm test), also Debian's
# ffmpeg and Chromium, which the API's playback tests use.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
if [ ! -f node_modules/.package-lock.json ]; then
  echo "installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
fi
if [ "${1:-}" = "--media" ]; then
  source infra/lib.sh
  ensure_media_tools
fi
