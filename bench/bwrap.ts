/**
 * bwrap start cost (issue 6): `true` through the AegisClaw bwrap runtime, start to exit, against
 * baselines measured in the same run and the same way (Bun.spawn from this process, median):
 * - raw `bwrap` with exactly the runtime's flags (same invocation builder, same fds, same
 *   setpriv), without the cgroups and the join wrapper: what AegisClaw adds on top of bwrap;
 * - raw hardened `docker run` (bench/lib.ts): what a Docker user pays instead.
 * The three are interleaved run by run so machine noise hits them alike. The self-test runs
 * once during warm-up. Writes bench/results/bwrap.md. Needs bwrap, root (cgroups), Docker and
 * the base image.
 */
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bwrapInvocation } from "../src/sandbox/bwrap/bwrap-args.ts";
import { BWRAP_BASE_IMAGE, createBwrapRuntime } from "../src/sandbox/bwrap/index.ts";
import { prepareBaseRootfs } from "../src/sandbox/bwrap/rootfs.ts";
import { compileSeccomp } from "../src/sandbox/bwrap/seccomp-bpf.ts";
import { DEFAULT_LIMITS, SECCOMP_PROFILE, type SandboxSpec } from "../src/sandbox/index.ts";
import { fmt, hardenedDockerRun, machineLine, writeResult } from "./lib.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUP = 3;
const work = mkdtempSync(join(tmpdir(), "aegis-bench-bwrap-"));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function timed(run: () => Promise<number>): Promise<number> {
  const started = performance.now();
  const code = await run();
  if (code !== 0) throw new Error(`bench run exited ${code}`);
  return performance.now() - started;
}

try {
  const stateDir = join(work, "state");
  const runtime = createBwrapRuntime({ stateDir, selfTestImage: BWRAP_BASE_IMAGE });
  const spec = (i: number): SandboxSpec => ({ runId: `bench-${i}`, image: BWRAP_BASE_IMAGE, argv: ["true"], timeoutMs: 30_000, limits: DEFAULT_LIMITS });
  const io = { stdout: () => undefined, stderr: () => undefined };
  const aegis = async (i: number) => (await runtime.run(spec(i), io)).exitCode;

  // The raw baseline: the runtime's own argv and descriptors, spawned directly.
  const filter = join(work, "filter.bpf");
  writeFileSync(filter, compileSeccomp(SECCOMP_PROFILE).program);
  const invocation = bwrapInvocation(spec(0), prepareBaseRootfs(stateDir));
  const asRoot = process.getuid?.() === 0;
  const rawArgv = [...(asRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] : []), "bwrap", ...invocation.args];
  const raw = async () => {
    const fds = [filter, ...invocation.dataFiles].map((file) => openSync(file, constants.O_RDONLY));
    try {
      return await Bun.spawn(rawArgv, { stdio: ["ignore", "ignore", "ignore", "ignore", ...fds] }).exited;
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  };

  const seccompJson = join(work, "seccomp.json");
  writeFileSync(seccompJson, JSON.stringify(SECCOMP_PROFILE));
  const dockerArgv = hardenedDockerRun(seccompJson).split(/\s+/).filter(Boolean);
  const docker = async () => Bun.spawn(dockerArgv, { stdio: ["ignore", "ignore", "ignore"] }).exited;

  const times = { aegis: [] as number[], raw: [] as number[], docker: [] as number[] };
  const kinds = { aegis: (i: number) => aegis(i), raw, docker };
  const order = ["aegis", "raw", "docker"] as const;
  for (let i = 0; i < WARMUP + RUNS; i++) {
    // Rotated each round: dockerd keeps working (container removal) after `docker run` returns,
    // and whichever run comes next would otherwise always pay for it.
    for (let j = 0; j < order.length; j++) {
      const kind = order[(i + j) % order.length] ?? "aegis";
      const ms = await timed(() => kinds[kind](i));
      if (i >= WARMUP) times[kind].push(ms);
    }
  }
  const [m, b, d] = [median(times.aegis), median(times.raw), median(times.docker)];
  const row = (what: string, value: number, baselineName: string, baseline: number) => `| ${what} (${RUNS} runs) | ${fmt(value)} ms | ${baselineName}: ${fmt(baseline)} ms | ${fmt(value / baseline, 2)}x |`;
  writeResult("bwrap", [
    "## bwrap: start cost",
    "",
    machineLine(),
    "",
    "Start to exit of `true`, median, spawned from one Bun process; the three kinds of run are interleaved\nin rotating order (dockerd keeps removing the last container after `docker run` returns).",
    "",
    "| measurement | median | baseline (same run) | ratio |",
    "| --- | --- | --- | --- |",
    row("AegisClaw bwrap runtime", m, "raw `bwrap` with the same flags", b),
    row("AegisClaw bwrap runtime", m, "raw hardened `docker run`", d),
    row("raw `bwrap` with the same flags", b, "raw hardened `docker run`", d),
    "",
    "Notes:",
    "",
    "- Raw `bwrap` runs without any resource limit; the runtime's extra cost is what the limits take:",
    "  a `/bin/sh` wrapper that joins four per-run cgroups (v1 pids, memory, cpu and a v2 cgroup for",
    "  `cgroup.kill` on this hybrid host) before exec'ing bwrap, and creating, killing and removing",
    "  those cgroups around the run. The seccomp filter is compiled once per runtime, not per run.",
    "- The isolation self-test ran once during warm-up and is not in the numbers.",
    "- Single runs vary by several milliseconds on a 2-core machine (dockerd and other work on the",
    "  host); compare ratios from the same run, not absolute numbers across runs.",
    "",
  ]);
} finally {
  rmSync(work, { recursive: true, force: true });
}
