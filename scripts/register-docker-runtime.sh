#!/usr/bin/env bash
# Registers an OCI runtime with the running Docker engine, idempotently:
#   bash scripts/register-docker-runtime.sh NAME PATH [RUNTIME_ARG...]
# Merges {"path": PATH, "runtimeArgs": [...]} under "runtimes".NAME in daemon.json (every other
# key kept, atomic replace), then reloads dockerd with SIGHUP (running containers keep running)
# and waits until `docker info` lists NAME with exactly those args. Needs root (or a writable
# daemon.json) and a running dockerd. Exit 69 with the reason when anything is missing.
set -euo pipefail

DAEMON_JSON=${AEGISCLAW_DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}
WAIT_SECONDS=30
[ $# -ge 2 ] || { echo "usage: $0 NAME PATH [RUNTIME_ARG...]" >&2; exit 64; }
NAME=$1
BINARY=$2
shift 2

fail() {
  echo "register-docker-runtime: $*" >&2
  exit 69
}
say() { echo "register-docker-runtime: $*" >&2; }

command -v python3 >/dev/null 2>&1 || fail "python3 is needed to edit $DAEMON_JSON (apt-get install -y python3)"
timeout 10 docker info >/dev/null 2>&1 || fail "the Docker engine is not reachable; start it first (bash scripts/start-docker.sh)"

# True when `docker info` shows NAME with exactly the wanted runtimeArgs.
registered() {
  timeout 10 docker info --format '{{json .Runtimes}}' 2>/dev/null | python3 -c '
import json, sys
runtimes = json.load(sys.stdin) or {}
entry = runtimes.get(sys.argv[1]) or {}
sys.exit(0 if entry and (entry.get("runtimeArgs") or []) == sys.argv[2:] else 1)
' "$NAME" "$@"
}

[ "$(id -u)" = 0 ] || [ -w "$(dirname "$DAEMON_JSON")" ] || fail "cannot write $DAEMON_JSON; run as root"
mkdir -p "$(dirname "$DAEMON_JSON")"
# Prints "changed" or "unchanged".
outcome=$(python3 - "$DAEMON_JSON" "$NAME" "$BINARY" "$@" <<'PY'
import json, os, sys, tempfile
path, name, binary, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
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
wanted = {"path": binary, "runtimeArgs": args} if args else {"path": binary}
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

if [ "$outcome" = unchanged ] && registered "$@"; then
  say "$NAME already registered ($BINARY $*); nothing to do"
  exit 0
fi
say "$DAEMON_JSON: runtime $NAME $([ "$outcome" = changed ] && echo written || echo present); reloading dockerd"

# dockerd re-reads daemon.json (runtimes included) on SIGHUP, without stopping containers.
pid=""
if [ -r /var/run/docker.pid ]; then pid=$(tr -dc '0-9' </var/run/docker.pid); fi
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
  pids=$(pgrep -x dockerd || true)
  [ "$(echo "$pids" | grep -c .)" = 1 ] || fail "cannot tell which dockerd to reload (pids: ${pids:-none}); send it SIGHUP by hand"
  pid=$pids
fi
kill -HUP "$pid" || fail "could not send SIGHUP to dockerd (pid $pid)"

for _ in $(seq 1 $((WAIT_SECONDS * 2))); do
  if registered "$@"; then
    say "$NAME registered ($BINARY $*; dockerd pid $pid reloaded)"
    exit 0
  fi
  sleep 0.5
done
fail "dockerd (pid $pid) did not list runtime $NAME within ${WAIT_SECONDS}s after SIGHUP; check its log (/var/log/aegisclaw-dockerd.log) for a daemon.json error"
