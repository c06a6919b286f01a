#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for AegisClaw development and tests, idempotently:
# system packages (Docker engine, static busybox, tmux, Chromium, promtool), the pinned Bun and npm dependencies,
# a running Docker engine, the local base image and the compiled binary.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then need_apt+=(busybox-static); fi
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)        # console and wizard tests drive a real terminal
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)  # the web dashboard's tests drive a real browser (playwright-core)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus) # promtool checks the /metrics exposition
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
echo "setup: done (bun $(node_modules/.bin/bun --version), $(docker version --format 'docker engine {{.Server.Version}}' 2>/dev/null))" >&2
