/**
 * gVisor start cost (issue 6), measured in one run against runc:
 * - `aegisclaw run --runtime gvisor -- true` vs `aegisclaw run -- true` (target <= 1.5x);
 * - raw `docker run --runtime=runsc` vs `docker run` with the same hardening flags, to show
 *   what the runtime itself costs apart from AegisClaw.
 * The self-test runs once per runtime during warm-up and is then cached (state/selftest.json),
 * so the timed runs measure the steady state a user sees. Every command is wrapped in
 * `timeout`: a stuck runsc start must fail the bench, not hang it (notes/stack.md §4).
 * Also times one bare `runsc --version` against `runc --version`: the cost of starting the runsc
 * (Go) binary once, which a gVisor run pays about seven times on its critical path and which
 * dominates the gap (bench/results/gvisor.md, "Where runsc's start time goes").
 * Writes bench/results/gvisor.md; its hand-written part (the runtime-flag investigation of issue
 * 6, measured with variant runtime registrations that a bench must not make) is kept (KEEP_MARKER).
 * Needs Docker, runsc registered (scripts/setup-gvisor.sh), the base image and dist/aegisclaw.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SECCOMP_PROFILE } from "../src/sandbox/index.ts";
import { fmt, hardenedDockerRun, hyperfine, machineLine, must, type Timing, writeResult } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
const BINARY = join(ROOT, "dist", "aegisclaw");
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const TIMEOUT = "timeout 60";
const work = mkdtempSync(join(tmpdir(), "aegis-bench-gvisor-"));
try {
  const home = join(work, "home");
  const env = { AEGISCLAW_HOME: home };
  must(Bun.spawnSync([BINARY, "init", "--yes"], { env: { ...process.env, ...env }, stdout: "ignore", stderr: "pipe" }));
  const seccomp = join(work, "seccomp.json");
  writeFileSync(seccomp, JSON.stringify(SECCOMP_PROFILE));
  const hardened = (runtime: string) => `${TIMEOUT} ${hardenedDockerRun(seccomp, runtime)}`;

  const [rawRunc, rawRunsc, aegisRunc, aegisRunsc] = hyperfine(
    [
      { name: "docker run (runc, hardened)", command: hardened("") },
      { name: "docker run --runtime=runsc (hardened)", command: hardened("--runtime=runsc") },
      { name: "aegisclaw run -- true", command: `${TIMEOUT} ${BINARY} run -- true` },
      { name: "aegisclaw run --runtime gvisor -- true", command: `${TIMEOUT} ${BINARY} run --runtime gvisor -- true` },
    ],
    { runs: RUNS, warmup: 2, env },
  );
  if (!rawRunc || !rawRunsc || !aegisRunc || !aegisRunsc) throw new Error("missing timings");
  const runscPath = Bun.which("runsc") ?? "runsc";
  const runcPath = Bun.which("runc") ?? "runc";
  const [runscCli, runcCli] = hyperfine(
    [
      { name: "runsc --version", command: `${runscPath} --version` },
      { name: "runc --version", command: `${runcPath} --version` },
    ],
    { runs: 30, warmup: 3 },
  );
  if (!runscCli || !runcCli) throw new Error("missing timings");

  const row = (what: string, timing: Timing, baselineName: string, baseline: Timing, target: string) =>
    `| ${what} (${timing.runs} runs) | ${fmt(timing.medianMs)} ms | ${baselineName}: ${fmt(baseline.medianMs)} ms | ${fmt(timing.medianMs / baseline.medianMs, 2)}x | ${target} |`;
  const lines = [
    "## gVisor: start cost against runc",
    "",
    machineLine(),
    "",
    "| measurement | median | baseline (same run) | ratio | target |",
    "| --- | --- | --- | --- | --- |",
    row("`aegisclaw run --runtime gvisor -- true`", aegisRunsc, "`aegisclaw run -- true` (runc)", aegisRunc, "<= 1.5x"),
    row("`docker run --runtime=runsc` hardened", rawRunsc, "`docker run` (runc) hardened", rawRunc, "(reference)"),
    row("`aegisclaw run --runtime gvisor -- true`", aegisRunsc, "`docker run --runtime=runsc` hardened", rawRunsc, "(reference)"),
    row("one runsc process start (`runsc --version`)", runscCli, "`runc --version`", runcCli, "(reference)"),
    "",
    `Issue 6 target (gVisor start <= 1.5x runc start): ${aegisRunsc.medianMs / aegisRunc.medianMs <= 1.5 ? "met" : "**missed**"} in this run.`,
    "",
    "The isolation self-test runs once per runtime during warm-up and is then reused from",
    "`state/selftest.json`, so the rows are steady-state runs.",
    "",
  ];
  writeResult("gvisor", lines);
} finally {
  rmSync(work, { recursive: true, force: true });
}
