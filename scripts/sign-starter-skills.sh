#!/usr/bin/env bash
# Signs the starter skills (skills/*) with a publisher key made on this machine. No private key
# is ever committed: the key is generated here on first use (OUT/publisher.key, mode 0600) and
# signed copies of the skills go to OUT/<name>/, leaving skills/ unsigned and unchanged. A
# signature covers the exact image built here (Docker image ids are machine-specific), so it
# is only meaningful on this machine. Then:
#   aegisclaw skills trust add OUT/publisher.key.pub --name aegisclaw-starter
#   aegisclaw skills add OUT/git-stats
# Usage: scripts/sign-starter-skills.sh [OUT]   (default .tools/starter-skills; needs dist/aegisclaw
# and the Docker engine with the local base image)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${AEGISCLAW_BIN:-dist/aegisclaw}
out=${1:-.tools/starter-skills}
mkdir -p "$out"
chmod 700 "$out"
[ -f "$out/publisher.key" ] || "$bin" skills keygen "$out/publisher.key" >&2
for dir in skills/*/; do
  name=$(basename "$dir")
  rm -rf "${out:?}/$name"
  cp -R "$dir" "$out/$name"
  "$bin" skills sign "$out/$name" --key "$out/publisher.key" >&2
done
echo "sign-starter-skills: signed copies in $out; trust them with: aegisclaw skills trust add $out/publisher.key.pub --name aegisclaw-starter" >&2
