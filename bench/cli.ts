/**
 * Foundation benchmarks (issue 3), all measured in the same run against their baselines:
 * - `aegisclaw run -- true` vs `docker run --rm` with the same hardening flags (target <= 1.15x);
 * - cold start of the compiled binary (`--version`, `logs verify` on an empty log) vs a minimal
 *   compiled Bun binary printing one line (target <= 3x);
 * - peak RSS of `aegisclaw run -- true` (target <= 80 MB).
 * Writes bench/results/cli.md. Needs Docker running, the base image and dist/aegisclaw.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SECCOMP_PROFILE } from "../src/sandbox/index.ts";
import { fmt, hardenedDockerRun, hyperfine, machineLine, must, writeResult } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
const BINARY = join(ROOT, "dist", "aegisclaw");
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const work = mkdtempSync(join(tmpdir(), "aegis-bench-cli-"));

try {
  const home = join(work, "home");
  const env = { AEGISCLAW_HOME: home };
  must(Bun.spawnSync([BINARY, "init", "--yes"], { env: { ...process.env, ...env }, stdout: "ignore", stderr: "pipe" }));

  const seccomp = join(work, "seccomp.json");
  writeFileSync(seccomp, JSON.stringify(SECCOMP_PROFILE));
  const dockerRun = hardenedDockerRun(seccomp);
  const [docker, aegis] = hyperfine(
    [
      { name: "docker run --rm (hardened)", command: dockerRun },
      { name: "aegisclaw run -- true", command: `${BINARY} run -- true` },
    ],
    { runs: RUNS, warmup: 2, env },
  );

  const minimalSource = join(work, "minimal.ts");
  writeFileSync(minimalSource, 'console.log("hello");\n');
  const minimal = join(work, "minimal");
  must(Bun.spawnSync([join(ROOT, "node_modules/.bin/bun"), "build", "--compile", minimalSource, "--outfile", minimal], { stdout: "ignore", stderr: "pipe" }));
  const emptyHome = join(work, "empty-home");
  must(Bun.spawnSync([BINARY, "init", "--yes"], { env: { ...process.env, AEGISCLAW_HOME: emptyHome }, stdout: "ignore", stderr: "pipe" }));
  const [baseline, version, verify] = hyperfine(
    [
      { name: "minimal compiled Bun binary", command: minimal },
      { name: "aegisclaw --version", command: `${BINARY} --version` },
      { name: "aegisclaw logs verify (empty log)", command: `${BINARY} logs verify` },
    ],
    { runs: 30, warmup: 3, env: { AEGISCLAW_HOME: emptyHome } },
  );

  const rss: number[] = [];
  for (let i = 0; i < 5; i++) {
    const proc = Bun.spawnSync(["/usr/bin/time", "-f", "%M", BINARY, "run", "--", "true"], { env: { ...process.env, ...env }, stdout: "ignore", stderr: "pipe" });
    rss.push(Number(proc.stderr.toString().trim().split("\n").at(-1)) / 1024);
  }
  const peakRss = Math.max(...rss);

  if (!docker || !aegis || !baseline || !version || !verify) throw new Error("missing timings");
  const lines = [
    "## Foundation: run overhead, cold start, memory",
    "",
    machineLine(),
    "",
    "| measurement | median | baseline (same run) | ratio | target |",
    "| --- | --- | --- | --- | --- |",
    `| \`aegisclaw run -- true\` (${aegis.runs} runs) | ${fmt(aegis.medianMs)} ms | \`docker run --rm\` hardened: ${fmt(docker.medianMs)} ms | ${fmt(aegis.medianMs / docker.medianMs, 2)}x | <= 1.15x |`,
    `| \`aegisclaw --version\` cold start | ${fmt(version.medianMs)} ms | minimal compiled Bun binary: ${fmt(baseline.medianMs)} ms | ${fmt(version.medianMs / baseline.medianMs, 2)}x | <= 3x |`,
    `| \`aegisclaw logs verify\` on an empty log | ${fmt(verify.medianMs)} ms | minimal compiled Bun binary: ${fmt(baseline.medianMs)} ms | ${fmt(verify.medianMs / baseline.medianMs, 2)}x | <= 3x |`,
    `| peak RSS of \`aegisclaw run -- true\` (max of 5) | ${fmt(peakRss)} MB | | | <= 80 MB |`,
    "",
  ];
  writeResult("cli", lines);
} finally {
  rmSync(work, { recursive: true, force: true });
}
