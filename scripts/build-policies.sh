#!/usr/bin/env bash
# Tests the Rego templates in policies/ and compiles each to the wasm the in-process engine
# embeds (src/policy/opa/wasm/<name>.wasm, committed). Fails when a test fails, when a
# template's coverage is below 90%, or when the shared block of the templates drifted apart.
#   scripts/build-policies.sh          rebuild the committed wasm files
#   scripts/build-policies.sh --check  build into a temp dir and fail if a committed file differs
# Runs from the repository root and passes relative paths to opa on purpose: policy.wasm
# embeds the source path (for error locations), so the bytes depend on it.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPLATES=(strict standard permissive)
MIN_COVERAGE=90
opa=.tools/bin/opa
out=src/policy/opa/wasm

check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  *) echo "usage: scripts/build-policies.sh [--check]" >&2; exit 64 ;;
esac

if [ ! -x "$opa" ]; then
  echo "build-policies: $opa is missing; run scripts/build-opa.sh first" >&2
  exit 69
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The templates are self-contained copies of one common block; a fix to one must reach all.
for name in "${TEMPLATES[@]}"; do
  sed -n '/^# BEGIN common/,/^# END common/p' "policies/$name.rego" >"$tmp/$name.common"
  [ -s "$tmp/$name.common" ] || { echo "build-policies: policies/$name.rego has no '# BEGIN common' ... '# END common' block" >&2; exit 1; }
  if ! cmp -s "$tmp/${TEMPLATES[0]}.common" "$tmp/$name.common"; then
    echo "build-policies: the common block of policies/$name.rego differs from policies/${TEMPLATES[0]}.rego; make them identical" >&2
    diff "$tmp/${TEMPLATES[0]}.common" "$tmp/$name.common" >&2 || true
    exit 1
  fi
done

"$opa" fmt --list --fail policies >"$tmp/fmt" || {
  echo "build-policies: not formatted (fix with $opa fmt -w policies):" >&2; cat "$tmp/fmt" >&2; exit 1; }
"$opa" check --strict policies
"$opa" test policies >&2
"$opa" test --coverage --format json policies >"$tmp/coverage.json"

# Per-template coverage from opa's JSON report (bun is there: the npm setup installs it).
node_modules/.bin/bun -e '
  const [file, min, ...names] = process.argv.slice(1);
  const report = await Bun.file(file).json();
  let low = false;
  for (const name of names) {
    const path = `policies/${name}.rego`;
    const coverage = report.files?.[path]?.coverage ?? 0;
    console.error(`build-policies: coverage ${path} ${coverage.toFixed(1)}%`);
    if (coverage < Number(min)) low = true;
  }
  if (low) { console.error(`build-policies: coverage below ${min}%; add tests to policies/<name>_test.rego`); process.exit(1); }
' "$tmp/coverage.json" "$MIN_COVERAGE" "${TEMPLATES[@]}"

# Builds one template's policy.wasm into $2.
build_wasm() {
  "$opa" build -t wasm -e "aegisclaw/$1/decision" "policies/$1.rego" -o "$tmp/bundle.tar.gz"
  tar -xzOPf "$tmp/bundle.tar.gz" /policy.wasm >"$2"
}

mkdir -p "$tmp/wasm"
differs=()
for name in "${TEMPLATES[@]}"; do
  build_wasm "$name" "$tmp/wasm/$name.wasm"
  # --check compares bytes, so the build must be reproducible; catch it here, not as a CI flake.
  build_wasm "$name" "$tmp/again.wasm"
  cmp -s "$tmp/wasm/$name.wasm" "$tmp/again.wasm" || { echo "build-policies: opa build of $name is not deterministic" >&2; exit 1; }
  if $check; then
    cmp -s "$tmp/wasm/$name.wasm" "$out/$name.wasm" || differs+=("$out/$name.wasm")
  else
    mkdir -p "$out"
    cp "$tmp/wasm/$name.wasm" "$out/$name.wasm"
    echo "build-policies: $out/$name.wasm ($(wc -c <"$out/$name.wasm") bytes)" >&2
  fi
done

if [ ${#differs[@]} -gt 0 ]; then
  echo "build-policies: ${differs[*]} differ from a fresh build of policies/; run scripts/build-policies.sh and commit the result" >&2
  exit 1
fi
$check && echo "build-policies: committed wasm matches policies/ (${TEMPLATES[*]})" >&2
exit 0
