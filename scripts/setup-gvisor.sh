#!/usr/bin/env bash
# Installs gVisor (runsc) and registers it with the running Docker engine as runtime "runsc",
# idempotently. Needs root and a running dockerd (scripts/start-docker.sh). Exit 69 with the
# reason when anything is missing.
#
# Why these runtimeArgs (docs/notes: stack.md, section 4):
#   --network=none  gVisor's own network stack ("sandbox") cannot start on this kind of host
#                   ("cannot run with network enabled in root network namespace"); AegisClaw
#                   sandboxes have no network anyway.
#   --oci-seccomp   without it runsc silently IGNORES the container's seccomp profile.
# The default ptrace platform is kept on purpose: --platform=kvm hangs under nested virtualisation.
# No other flag is added. For issue 6 (start time), the candidate flags of this release were
# timed: --overlay2=root:memory, --file-access=shared, --cpu-num-from-quota and --dcache. None
# moved start time beyond the noise. The only flags that saved anything, --ignore-cgroups and
# dropping --oci-seccomp (about 10-30 ms), weaken isolation. Numbers: bench/results/gvisor.md.
set -euo pipefail

RUNTIME_NAME=runsc

fail() {
  echo "setup-gvisor: $*" >&2
  exit 69
}
say() { echo "setup-gvisor: $*" >&2; }

# 1. The runsc binary.
if ! command -v runsc >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || fail "runsc is not installed and this is not root; run as root or: apt-get install -y runsc"
  say "installing runsc from apt"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runsc >/dev/null; then
    apt-get update -qq || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runsc >/dev/null || fail "apt-get install runsc failed"
  fi
fi
RUNSC_PATH=$(command -v runsc)
say "using $RUNSC_PATH ($(timeout 10 "$RUNSC_PATH" --version 2>/dev/null | head -n 1 || echo 'version unknown'))"

# 2. Register it (merge into daemon.json, reload dockerd, wait until `docker info` lists it).
exec bash "$(dirname "$0")/register-docker-runtime.sh" "$RUNTIME_NAME" "$RUNSC_PATH" --network=none --oci-seccomp
