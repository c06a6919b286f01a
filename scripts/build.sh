#!/usr/bin/env bash
# Compiles the single-file binary dist/aegisclaw. .env and bunfig.toml autoloading are off:
# a security tool must not change behaviour because of files in the directory it runs from.
# ESM output: OpenTUI has a top-level await, which CommonJS bytecode cannot hold.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p dist
node_modules/.bin/bun build --compile --bytecode --format=esm --minify \
  -e @opentui/core-darwin-x64 -e @opentui/core-darwin-arm64 -e @opentui/core-linux-arm64 \
  -e @opentui/core-win32-x64 -e @opentui/core-win32-arm64 \
  -e @opentui/core-linux-x64-musl -e @opentui/core-linux-arm64-musl \
  --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
  src/main.ts --outfile dist/aegisclaw >/dev/null
echo "build: dist/aegisclaw ($(du -h dist/aegisclaw | cut -f1))" >&2
