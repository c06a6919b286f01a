#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for AegisClaw development and tests, idempotently:
# system packages (Docker engine, static busybox, tmux, Chromium, promtool, age), the pinned Bun and npm dependencies,
# a running Docker engine, the local base image and the compiled binary.
# Usage: scripts/setup.sh [--runtime-only]
#   --runtime-only  skip what only the tests need (the Vault server built from source, ~15 min
#                   cold); install.sh --deps uses it.
set -euo pipefail
cd "$(dirname "$0")/.."
runtime_only=0
[ "${1:-}" = "--runtime-only" ] && runtime_only=1

# The test Vault server is a long, CPU-bound Go build that needs nothing else from this script:
# it runs in the background while packages install and Docker starts.
vault_pid=
if [ "$runtime_only" = 0 ]; then
  mkdir -p .tools
  bash scripts/build-vault.sh >.tools/build-vault.log 2>&1 &
  vault_pid=$!
  echo "setup: building the test Vault server in the background (log: .tools/build-vault.log)" >&2
fi

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then need_apt+=(busybox-static); fi
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)        # console and wizard tests drive a real terminal
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)  # the web dashboard's tests drive a real browser (playwright-core)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus) # promtool checks the /metrics exposition
command -v age >/dev/null 2>&1 || need_apt+=(age)              # the age CLI proves our store files interoperate
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)     # the bwrap sandbox runtime (hosts without Docker)
command -v setpriv >/dev/null 2>&1 || need_apt+=(util-linux)   # as root, bwrap is started as uid 65534 through setpriv
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing system packages: ${need_apt[*]}; install them as root (apt-get install -y ${need_apt[*]})" >&2
    exit 69
  fi
  echo "setup: installing ${need_apt[*]} from apt" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Bun is pinned once, in package.json (devDependencies.bun); npm ci installs exactly the lockfile.
bash scripts/npm-deps.sh
# The real OPA (pinned, built with Go from the module proxy) for opa test, the wasm build check
# and the differential tests; Go also runs the independent RFC 9162 proof verifier.
bash scripts/build-opa.sh
bash scripts/start-docker.sh
# gVisor (runsc) registered with Docker; its tests and `--runtime gvisor` need it.
bash scripts/setup-gvisor.sh
bash scripts/setup-egress.sh   # the egress network and the host firewall net.outbound runs need
bash scripts/build-base-image.sh
bash scripts/build.sh
bash scripts/sign-starter-skills.sh   # starter skills signed with a publisher key made here (docs/skills.md)
[ "$runtime_only" = 1 ] || bash scripts/setup-openclaw.sh   # the real OpenClaw + Node 24 for its end-to-end tests (test tooling only)
if [ -n "$vault_pid" ]; then
  # A pinned Vault server (dev mode, loopback) for the Vault secret backend's tests.
  echo "setup: waiting for the Vault server build (log: .tools/build-vault.log)" >&2
  wait "$vault_pid" || { cat .tools/build-vault.log >&2; echo "setup: scripts/build-vault.sh failed (log above)" >&2; exit 1; }
fi
echo "setup: done (bun $(node_modules/.bin/bun --version), $(docker version --format 'docker engine {{.Server.Version}}' 2>/dev/null))" >&2
