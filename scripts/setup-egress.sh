#!/usr/bin/env bash
# Sets up egress for net.outbound runs, idempotently (root): the internal Docker network
# sandboxes sit on, and the host firewall that lets them reach only the AegisClaw egress proxy
# ports on its gateway. Without this fence the host's own services would be reachable from a
# sandbox (an --internal network still routes to the host, see docs/sandbox.md); AegisClaw
# checks the rules before every egress run and refuses to run without them. Rules do not
# survive a reboot: run this again (scripts/setup.sh does) or persist them your usual way.
#
# The values must equal src/sandbox/egress/network.ts and fence.ts (a test compares them).
set -euo pipefail

NETWORK=aegisclaw-egress
BRIDGE=aegis-egress0
SUBNET=10.213.37.0/24
GATEWAY=10.213.37.1
PORTS=28700:28763
CHAIN=AEGISCLAW-EGRESS

if [ "$(id -u)" != 0 ]; then
  echo "setup-egress: needs root (it changes the host firewall): sudo bash scripts/setup-egress.sh" >&2
  exit 69
fi
if ! command -v iptables >/dev/null 2>&1 || ! command -v iptables-restore >/dev/null 2>&1; then
  echo "setup-egress: installing iptables from apt" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iptables >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  echo "setup-egress: the Docker engine is not running (bash scripts/start-docker.sh)" >&2
  exit 69
fi

# One writer at a time: concurrent runs of this script would interleave rule edits.
exec 9>/run/lock/aegisclaw-egress.lock
flock 9

if ! docker network inspect "$NETWORK" >/dev/null 2>&1; then
  docker network create --driver bridge --internal --subnet "$SUBNET" --gateway "$GATEWAY" \
    -o com.docker.network.bridge.name="$BRIDGE" \
    -o com.docker.network.bridge.enable_icc=false \
    -o com.docker.network.bridge.enable_ip_masquerade=false \
    --label io.aegisclaw.egress=true "$NETWORK" >/dev/null || docker network inspect "$NETWORK" >/dev/null
fi
GATEWAY=$(docker network inspect -f '{{(index .IPAM.Config 0).Gateway}}' "$NETWORK")

# The chain is replaced in one transaction (declaring it with --noflush empties it first), so
# there is no moment at which it is empty while sandboxes run.
printf '*filter\n:%s - [0:0]\n-A %s -d %s/32 -p tcp -m tcp --dport %s -j ACCEPT\n-A %s -j DROP\nCOMMIT\n' \
  "$CHAIN" "$CHAIN" "$GATEWAY" "$PORTS" "$CHAIN" | iptables-restore -w --noflush

# The jump must be the first INPUT rule: anything earlier (an ACCEPT) could open the host.
jump="-A INPUT -i $BRIDGE -j $CHAIN"
first_rule() { "$1" -w -S INPUT | sed -n 2p; }
remove_later_copies() { # $1 = iptables|ip6tables, $2 = rule line; keeps rule 1
  local numbers
  numbers=$("$1" -w -S INPUT | tail -n +2 | grep -nxF -- "$2" | cut -d: -f1 | sort -rn)
  for n in $numbers; do [ "$n" -gt 1 ] && "$1" -w -D INPUT "$n"; done
  return 0
}
if [ "$(first_rule iptables)" != "$jump" ]; then iptables -w -I INPUT 1 -i "$BRIDGE" -j "$CHAIN"; fi
remove_later_copies iptables "$jump"

# Sandboxes get no IPv6 (it is disabled in their network namespace); drop it at the host anyway.
if command -v ip6tables >/dev/null 2>&1; then
  drop6="-A INPUT -i $BRIDGE -j DROP"
  if [ "$(first_rule ip6tables)" != "$drop6" ]; then ip6tables -w -I INPUT 1 -i "$BRIDGE" -j DROP; fi
  remove_later_copies ip6tables "$drop6"
fi

echo "setup-egress: $NETWORK ($BRIDGE, gateway $GATEWAY) fenced: only tcp $GATEWAY:$PORTS reaches the host" >&2
