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
set -euo pipefail

DAEMON_JSON=${AEGISCLAW_DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}
RUNTIME_NAME=runsc
WAIT_SECONDS=30

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

# 2. The engine must be up: we register with the running daemon, not a future one.
command -v python3 >/dev/null 2>&1 || fail "python3 is needed to edit $DAEMON_JSON (apt-get install -y python3)"
timeout 10 docker info >/dev/null 2>&1 || fail "the Docker engine is not reachable; start it first (bash scripts/start-docker.sh)"

# True when `docker info` shows runsc with both required runtimeArgs.
registered() {
  timeout 10 docker info --format '{{json .Runtimes}}' 2>/dev/null | python3 -c '
import json, sys
runtimes = json.load(sys.stdin) or {}
entry = runtimes.get(sys.argv[1]) or {}
args = entry.get("runtimeArgs") or []
sys.exit(0 if "--network=none" in args and "--oci-seccomp" in args else 1)
' "$RUNTIME_NAME"
}

# 3. Merge our entry into daemon.json, keeping every other key. Prints "changed" or "unchanged".
[ "$(id -u)" = 0 ] || [ -w "$(dirname "$DAEMON_JSON")" ] || fail "cannot write $DAEMON_JSON; run as root"
mkdir -p "$(dirname "$DAEMON_JSON")"
outcome=$(python3 - "$DAEMON_JSON" "$RUNTIME_NAME" "$RUNSC_PATH" <<'PY'
import json, os, sys, tempfile
path, name, binary = sys.argv[1], sys.argv[2], sys.argv[3]
config = {}
if os.path.exists(path):
    try:
        with open(path) as handle:
            text = handle.read()
        config = json.loads(text) if text.strip() else {}
    except ValueError as error:
        sys.stderr.write(f"{path} is not valid JSON ({error}); fix it by hand, nothing was changed\n")
        sys.exit(2)
if not isinstance(config, dict):
    sys.stderr.write(f"{path} must hold a JSON object; fix it by hand, nothing was changed\n")
    sys.exit(2)
runtimes = config.get("runtimes") or {}
if not isinstance(runtimes, dict):
    sys.stderr.write(f'"runtimes" in {path} must be an object; fix it by hand, nothing was changed\n')
    sys.exit(2)
wanted = {"path": binary, "runtimeArgs": ["--network=none", "--oci-seccomp"]}
if runtimes.get(name) == wanted:
    print("unchanged")
    sys.exit(0)
runtimes[name] = wanted
config["runtimes"] = runtimes
# Atomic replace: dockerd must never read a half-written file.
mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644
fd, temp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".daemon.json.")
try:
    with os.fdopen(fd, "w") as handle:
        json.dump(config, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temp, mode)
    os.replace(temp, path)
except BaseException:
    os.unlink(temp)
    raise
print("changed")
PY
) || fail "could not update $DAEMON_JSON (see the message above)"

if [ "$outcome" = unchanged ] && registered; then
  say "runsc already registered with --network=none --oci-seccomp; nothing to do"
  exit 0
fi
say "$DAEMON_JSON: runtime $RUNTIME_NAME $([ "$outcome" = changed ] && echo written || echo present); reloading dockerd"

# 4. Reload: dockerd re-reads daemon.json (runtimes included) on SIGHUP, without stopping containers.
pid=""
if [ -r /var/run/docker.pid ]; then pid=$(tr -dc '0-9' </var/run/docker.pid); fi
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
  pids=$(pgrep -x dockerd || true)
  [ "$(echo "$pids" | grep -c .)" = 1 ] || fail "cannot tell which dockerd to reload (pids: ${pids:-none}); send it SIGHUP by hand"
  pid=$pids
fi
kill -HUP "$pid" || fail "could not send SIGHUP to dockerd (pid $pid)"

for _ in $(seq 1 $((WAIT_SECONDS * 2))); do
  if registered; then
    say "runsc registered with --network=none --oci-seccomp (dockerd pid $pid reloaded)"
    exit 0
  fi
  sleep 0.5
done
fail "dockerd (pid $pid) did not list runtime $RUNTIME_NAME within ${WAIT_SECONDS}s after SIGHUP; check its log (/var/log/aegisclaw-dockerd.log) for a daemon.json error"
