#!/usr/bin/env bash
# Runs every benchmark and assembles bench/RESULTS.md from bench/results/*.md.
# Needs a set-up machine (bash scripts/setup.sh) and hyperfine (apt-get install hyperfine).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null 2>&1 || { echo "bench: hyperfine missing: apt-get install -y hyperfine" >&2; exit 69; }
bash scripts/build.sh
for bench in bench/cli.ts bench/audit.ts bench/policy.ts bench/redact.ts bench/gvisor.ts bench/panic.ts bench/console.ts; do
  echo "bench: $bench" >&2
  node_modules/.bin/bun "$bench"
done
{
  echo "# Benchmark results"
  echo
  echo "Produced by \`bash bench/run.sh\`; every ratio is against a baseline measured in the same run."
  echo
  for result in bench/results/*.md; do cat "$result"; echo; done
} >bench/RESULTS.md
echo "bench: wrote bench/RESULTS.md" >&2
