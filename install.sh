#!/usr/bin/env bash
# Installs AegisClaw from this checkout: the pinned Bun (npm), the compiled binary on PATH,
# the local sandbox base image when Docker is running, and a home initialised with the
# standard policy template when none exists. Idempotent: re-running updates the binary only.
#
#   ./install.sh [--prefix DIR] [--deps] [--no-init]
#     --prefix DIR  install DIR/bin/aegisclaw (default /usr/local, or ~/.local when not root)
#     --deps        first install system packages and start Docker (scripts/setup.sh; needs root)
#     --no-init     do not create ~/.aegisclaw
set -euo pipefail
cd "$(dirname "$0")"

prefix=""; deps=0; init=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { echo "install: --prefix needs a directory" >&2; exit 64; }; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    --deps) deps=1; shift ;;
    --no-init) init=0; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install: unknown option $1 (see ./install.sh --help)" >&2; exit 64 ;;
  esac
done
if [ -z "$prefix" ]; then
  if [ "$(id -u)" = 0 ]; then prefix=/usr/local; else prefix="$HOME/.local"; fi
fi

if [ "$deps" = 1 ]; then
  bash scripts/setup.sh --runtime-only
else
  bash scripts/npm-deps.sh
  bash scripts/build.sh
  if docker info >/dev/null 2>&1; then
    bash scripts/build-base-image.sh
  else
    echo "install: Docker is not running; skipped the base image (run scripts/build-base-image.sh once Docker is up)" >&2
  fi
fi

mkdir -p "$prefix/bin"
install -m 0755 dist/aegisclaw "$prefix/bin/aegisclaw.new"
mv -f "$prefix/bin/aegisclaw.new" "$prefix/bin/aegisclaw"
# The OpenClaw plugin is loaded by OpenClaw from disk, so it cannot live inside the binary;
# `aegisclaw openclaw setup` finds it here (<bin>/../share/aegisclaw/adapters/openclaw/plugin).
plugin_dest="$prefix/share/aegisclaw/adapters/openclaw/plugin"
rm -rf "$plugin_dest.new" && mkdir -p "$plugin_dest.new"
cp -R adapters/openclaw/plugin/. "$plugin_dest.new/"
rm -rf "$plugin_dest" && mv "$plugin_dest.new" "$plugin_dest"
echo "install: $prefix/bin/aegisclaw ($("$prefix/bin/aegisclaw" --version))" >&2
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "install: add $prefix/bin to your PATH" >&2 ;; esac

home="${AEGISCLAW_HOME:-$HOME/.aegisclaw}"
if [ "$init" = 1 ] && [ ! -e "$home/config.yaml" ]; then
  "$prefix/bin/aegisclaw" init --yes
fi
