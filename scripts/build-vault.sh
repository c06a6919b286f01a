#!/usr/bin/env bash
# Installs a real Vault-API server, pinned at one version, into .tools/bin/vault (gitignored).
# The Vault secret backend's tests start it in dev mode on loopback (test/secrets/vault-server.ts).
# Idempotent: does nothing when the pinned version is there. Built with Go via the module proxy.
#
# Which server: the plan was OpenBao, but the module proxy refuses every version of its main
# module (github.com/openbao/openbao/v2: "403 Forbidden, This module version is not available"),
# so this builds HashiCorp Vault, the API OpenBao forked from. Vault >= 1.15 is BUSL-1.1: it is
# built here only to test against and is never shipped. v1.21.0 is the newest release whose
# in-tree sdk matches a published vault/sdk version (v1.21.1+ need unpublished sdk changes).
# `go install` refuses modules with replace directives, so a small wrapper module requires
# Vault and calls its CLI entry point (the same one Vault's own main.go calls).
set -euo pipefail
cd "$(dirname "$0")/.."

VAULT_VERSION=v1.21.0
bin=.tools/bin/vault
src=.tools/src/vault-server

installed_version() {
  "$bin" version 2>/dev/null | awk '/^Vault v/ { sub(",", "", $2); print $2 }'
}

if [ -x "$bin" ] && [ "$(installed_version)" = "$VAULT_VERSION" ]; then
  echo "build-vault: vault $VAULT_VERSION already at $bin" >&2
  exit 0
fi

go=$(command -v go || true)
[ -z "$go" ] && [ -x /usr/local/go/bin/go ] && go=/usr/local/go/bin/go
if [ -z "$go" ]; then
  echo "build-vault: Go is missing; install Go 1.25+ (https://go.dev/dl/ or apt-get install golang) and rerun scripts/build-vault.sh" >&2
  exit 69
fi

echo "build-vault: building vault $VAULT_VERSION with $("$go" version | cut -d' ' -f3) (a cold build takes 15-20 minutes on 2 cores)" >&2
rm -rf "$src"
mkdir -p "$src" .tools/bin
# Vault's own go.mod replaces two forks; a dependent module must repeat them. Its replaces of
# ./api and ./sdk are not needed: the published api and sdk versions it requires are used.
cat >"$src/go.mod" <<EOF
module aegisclaw.local/vault-server

go 1.25.3

require github.com/hashicorp/vault $VAULT_VERSION

replace github.com/99designs/keyring => github.com/Jeffail/keyring v1.2.3

replace github.com/ma314smith/signedxml v1.1.1 => github.com/moov-io/signedxml v1.1.1
EOF
cat >"$src/main.go" <<'EOF'
// Command vault is HashiCorp Vault's CLI and server, built for AegisClaw's tests.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() { os.Exit(command.Run(os.Args[1:])) }
EOF

# GOFLAGS=-mod=mod: ignore any go.work/vendor settings of the caller; CGO off gives a static binary.
echo "build-vault: resolving modules" >&2
(cd "$src" && GOFLAGS=-mod=mod CGO_ENABLED=0 "$go" mod tidy)
echo "build-vault: compiling (progress is quiet; this is the slow part)" >&2
out="$PWD/$bin.new"
(cd "$src" && GOFLAGS=-mod=mod CGO_ENABLED=0 "$go" build -trimpath -ldflags="-s -w" -o "$out" .)
mv "$out" "$bin"

got=$(installed_version)
if [ "$got" != "$VAULT_VERSION" ]; then
  echo "build-vault: built $bin reports version '${got:-none}', expected $VAULT_VERSION" >&2
  exit 1
fi
echo "build-vault: installed vault $VAULT_VERSION at $bin" >&2
