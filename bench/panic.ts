/**
 * Panic to everything stopped (issue 8, target <= 1 s for 20 running sandboxes): the path the
 * console's `!` key takes (engageLockdown: persist the flag, kill every AegisClaw sandbox on the
 * engine, audit), timed until the engine lists none running. Baseline in the same run: the
 * same 20 sandboxes stopped with `docker rm -f $(docker ps -q --filter label=...)`.
 * Writes bench/results/panic.md. Needs Docker and the base image.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog, initAuditDir } from "../src/audit/index.ts";
import { engageLockdown, EventBus, LockdownStore } from "../src/core/index.ts";
import { createDockerRuntime, LABEL_MANAGED, type SandboxSpec } from "../src/sandbox/index.ts";
import { fmt, machineLine, writeResult } from "./lib.ts";

const SANDBOXES = 20;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const work = mkdtempSync(join(tmpdir(), "aegis-bench-panic-"));
const runtime = createDockerRuntime();
const sink = { stdout: () => {}, stderr: () => {} };

function spec(i: number): SandboxSpec {
  return {
    runId: `bench-panic-${i}-${Date.now().toString(36)}`,
    image: "aegisclaw/base:busybox",
    argv: ["sleep", "600"],
    timeoutMs: 600_000,
    limits: { pids: 16, memoryBytes: 32 * 1024 ** 2, cpus: 0.1, tmpfsBytes: 1024 ** 2, outputBytes: 1024 ** 2 },
  };
}

/** Starts SANDBOXES sandboxes and waits until the engine reports every one running. */
async function startAll(): Promise<Array<Promise<unknown>>> {
  const runs = Array.from({ length: SANDBOXES }, (_, i) => runtime.run(spec(i), sink).catch((error) => error));
  while ((await runtime.listRunning()).length < SANDBOXES) await Bun.sleep(100);
  return runs;
}

async function untilNoneRunning(): Promise<void> {
  while ((await runtime.listRunning()).length > 0) await Bun.sleep(5);
}

const panic: number[] = [];
const baseline: number[] = [];
try {
  const auditDir = join(work, "audit");
  await initAuditDir(auditDir);
  const audit = await AuditLog.open(auditDir);
  const deps = { store: new LockdownStore(join(work, "lockdown.json")), runtime, bus: new EventBus(), openAudit: async () => audit };
  for (let round = 0; round < ROUNDS; round++) {
    let runs = await startAll();
    const started = performance.now();
    await engageLockdown(deps, { name: "bench", source: "tui" }, "panic benchmark");
    await untilNoneRunning();
    panic.push(performance.now() - started);
    await Promise.all(runs);
    deps.store.write({ active: false, since: new Date().toISOString(), actor: "bench" });

    runs = await startAll();
    const t0 = performance.now();
    const ids = Bun.spawnSync(["docker", "ps", "-q", "--filter", `label=${LABEL_MANAGED}=true`]).stdout.toString().split("\n").filter(Boolean);
    Bun.spawnSync(["docker", "rm", "-f", ...ids], { stdout: "ignore" });
    await untilNoneRunning();
    baseline.push(performance.now() - t0);
    await Promise.all(runs);
    console.error(`round ${round + 1}: panic ${fmt(panic.at(-1) ?? 0, 0)} ms, docker rm -f ${fmt(baseline.at(-1) ?? 0, 0)} ms`);
  }
  await audit.close();
} finally {
  await runtime.killAll();
  rmSync(work, { recursive: true, force: true });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const worst = Math.max(...panic);
writeResult("panic", [
  "## Panic: lockdown stops every running sandbox",
  "",
  machineLine(),
  `${SANDBOXES} sandboxes (\`sleep 600\`) running; time from the panic call until the engine lists none running; ${ROUNDS} rounds.`,
  "",
  "| path | median | worst | ratio vs baseline |",
  "| --- | ---: | ---: | ---: |",
  `| \`docker rm -f\` of the same containers (baseline) | ${fmt(median(baseline), 0)} ms | ${fmt(Math.max(...baseline), 0)} ms | 1.00× |`,
  `| engageLockdown (console \`!\`, \`aegisclaw lockdown\`) | ${fmt(median(panic), 0)} ms | ${fmt(worst, 0)} ms | ${fmt(median(panic) / median(baseline), 2)}× |`,
  "",
  `Target: all ${SANDBOXES} stopped within 1 s — ${worst <= 1000 ? "met" : "**missed**"} (worst round ${fmt(worst, 0)} ms).`,
]);
