#!/usr/bin/env bash
# Runs the whole test suite with bun and ends with one plain "N passed, N failed" line,
# which CI reads (bun's own summary is not recognised). A non-zero exit with no reported
# failure (a load error, no test files) counts as one failure, so the line never lies.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The type check counts as one test: strict TypeScript is part of what "passes" means here.
typecheck=0
if ! node_modules/.bin/tsc --noEmit -p .; then
  echo "type check failed (node_modules/.bin/tsc --noEmit -p .)" >&2
  typecheck=1
fi
# bunfig.toml's [test] timeout is not applied by this Bun; the flag is. Tests assert behaviour,
# never speed, so a generous per-test ceiling only stops a hang.
node_modules/.bin/bun test --timeout 60000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -E '^ *[0-9]+ pass$' "$log" | tail -n 1 | tr -dc '0-9')
failed=$(grep -E '^ *[0-9]+ fail$' "$log" | tail -n 1 | tr -dc '0-9')
skipped=$(grep -E '^ *[0-9]+ skip$' "$log" | tail -n 1 | tr -dc '0-9')
passed=${passed:-0}
failed=${failed:-0}
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$typecheck" -ne 0 ]; then failed=$((failed + 1)); status=1; else passed=$((passed + 1)); fi
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then failed=1; status=1; fi
line="$passed passed, $failed failed"
[ -n "${skipped:-}" ] && [ "$skipped" != 0 ] && line="$line, $skipped skipped"
echo "$line"
exit "$status"
