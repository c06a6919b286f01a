#!/usr/bin/env bash
# Installs the real OPA CLI, pinned at one version, into .tools/bin/opa (gitignored). The Rego
# templates are tested and compiled to wasm with it, and the differential tests compare the
# in-process wasm engine against it. Idempotent: does nothing when the pinned version is there.
# No apt or npm package ships OPA, so it is built from source with Go via the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

OPA_VERSION=v1.10.1
bin=.tools/bin/opa

installed_version() {
  "$bin" version 2>/dev/null | awk '/^Version:/ { print "v" $2 }'
}

if [ -x "$bin" ] && [ "$(installed_version)" = "$OPA_VERSION" ]; then
  echo "build-opa: opa $OPA_VERSION already at $bin" >&2
  exit 0
fi

go=$(command -v go || true)
[ -z "$go" ] && [ -x /usr/local/go/bin/go ] && go=/usr/local/go/bin/go
if [ -z "$go" ]; then
  echo "build-opa: Go is missing; install Go 1.24+ (https://go.dev/dl/ or apt-get install golang) and rerun scripts/build-opa.sh" >&2
  exit 69
fi

echo "build-opa: building opa $OPA_VERSION with $("$go" version | cut -d' ' -f3) (first build downloads modules, about a minute)" >&2
mkdir -p .tools/bin
# GOFLAGS=-mod=mod: ignore any go.work/vendor settings of the caller; CGO off gives a static binary.
GOBIN="$PWD/.tools/bin" GOFLAGS=-mod=mod CGO_ENABLED=0 \
  "$go" install "github.com/open-policy-agent/opa@$OPA_VERSION"

got=$(installed_version)
if [ "$got" != "$OPA_VERSION" ]; then
  echo "build-opa: built $bin reports version '${got:-none}', expected $OPA_VERSION" >&2
  exit 1
fi
echo "build-opa: installed opa $OPA_VERSION at $bin" >&2
