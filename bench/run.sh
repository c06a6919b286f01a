#!/usr/bin/env bash
# Runs the benchmarks (all, or the ones named: `bash bench/run.sh server console`) and
# assembles bench/RESULTS.md from every bench/results/*.md. Needs a set-up machine
# (bash scripts/setup.sh), hyperfine, wrk, curl and openssl (apt-get install hyperfine wrk curl openssl).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in hyperfine wrk curl openssl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool missing: apt-get install -y $tool" >&2; exit 69; }
done
bash scripts/build.sh
benches=("$@")
[ ${#benches[@]} -eq 0 ] && benches=(cli audit policy redact gvisor egress bwrap warm-pool panic console server openclaw-plugin)
for bench in "${benches[@]}"; do
  echo "bench: $bench" >&2
  node_modules/.bin/bun "bench/$bench.ts"
done
{
  echo "# Benchmark results"
  echo
  echo "Produced by \`bash bench/run.sh\`; every ratio is against a baseline measured in the same run."
  echo
  for result in bench/results/*.md; do cat "$result"; echo; done
} >bench/RESULTS.md
echo "bench: wrote bench/RESULTS.md" >&2
