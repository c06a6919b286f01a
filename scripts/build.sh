#!/usr/bin/env bash
# Compiles the single-file binary dist/aegisclaw. .env and bunfig.toml autoloading are off:
# a security tool must not change behaviour because of files in the directory it runs from.
# ESM output: OpenTUI has a top-level await, which CommonJS bytecode cannot hold.
# The web dashboard (ui/web) needs no separate step: a Bun macro (ui/web/assets.ts) bundles it
# while this build runs and inlines it into the binary.
# src/core/assess-worker.ts is a second entrypoint: `serve` starts it as a thread (decision workers).
# Usage: scripts/build.sh [OUTFILE]   (default dist/aegisclaw)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist/aegisclaw}
mkdir -p "$(dirname "$out")"
node_modules/.bin/bun build --compile --bytecode --format=esm --minify \
  -e @opentui/core-darwin-x64 -e @opentui/core-darwin-arm64 -e @opentui/core-linux-arm64 \
  -e @opentui/core-win32-x64 -e @opentui/core-win32-arm64 \
  -e @opentui/core-linux-x64-musl -e @opentui/core-linux-arm64-musl \
  --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
  src/main.ts src/core/assess-worker.ts --outfile "$out" >/dev/null
echo "build: $out ($(du -h "$out" | cut -f1))" >&2
