#!/usr/bin/env bash
# Starts the Docker engine when it is not running (this machine kind has no systemd) and waits for its socket.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "dockerd is not installed; install it with: apt-get install -y docker.io" >&2
  exit 69
fi
echo "starting dockerd (log: /var/log/aegisclaw-dockerd.log)" >&2
setsid dockerd >/var/log/aegisclaw-dockerd.log 2>&1 </dev/null &
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then exit 0; fi
  sleep 0.5
done
echo "dockerd did not become ready within 60 s; see /var/log/aegisclaw-dockerd.log" >&2
exit 69
