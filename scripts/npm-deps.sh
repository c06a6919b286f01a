#!/usr/bin/env bash
# Installs the npm dependencies (the pinned Bun included) exactly as locked, skipping the work
# when node_modules already matches package-lock.json. npm runs no install scripts of
# dependencies here (npm's default allow-list), and none are needed.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null 2>&1 || { echo "npm (Node 20+) is required to install the pinned Bun" >&2; exit 69; }
stamp=node_modules/.aegisclaw-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -x node_modules/.bin/bun ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then exit 0; fi
echo "installing npm dependencies (pinned Bun included)" >&2
npm ci --no-audit --no-fund --loglevel=error 2>&1 | { grep -v 'Unknown user config' || true; } >&2
[ -x node_modules/.bin/bun ] || { echo "npm ci did not install bun; see the npm output above" >&2; exit 69; }
echo "$want" >"$stamp"
