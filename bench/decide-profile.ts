/**
 * Where a decision's time goes (issue 9): drives the Gate's decide path in process — the same
 * composition `aegisclaw serve` uses (createApp -> app.gate(), the server's metrics observer on
 * the bus) — N times with C in flight, and reports throughput, latency, CPU per decision and
 * wall time per stage. Stages are timed by wrapping the Gate's dependencies (lockdown read,
 * history, policy = builtin + OPA wasm, audit append from call to fsynced, bus publish) and the
 * audit log's own batches (records per write + fsync), so nothing in src/ carries
 * instrumentation. With C > 1 a stage's wall time includes waiting for the event loop; C = 1
 * gives each stage's own cost. For a profile by function add `--cpu-prof`.
 *
 *   node_modules/.bin/bun bench/decide-profile.ts [N=20000] [C=64]
 *
 * Needs dist/aegisclaw (for `init`), like bench/server.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../src/app.ts";
import type { AuditLog } from "../src/audit/index.ts";
import type { Assessor, Gate, GateDeps } from "../src/core/index.ts";
import { localAssessor } from "../src/core/gate-assess.ts";
import { NO_HISTORY } from "../src/core/gate-prepare.ts";
import type { PolicyEngine } from "../src/policy/index.ts";
import { ServerMetrics } from "../src/server/metrics.ts";
import { fmt, must } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
const N = Number(process.argv[2] ?? 20_000);
const CONCURRENCY = Number(process.argv[3] ?? 64);
const work = mkdtempSync(join(tmpdir(), "aegis-bench-decide-"));
const home = join(work, "home");
must(Bun.spawnSync([join(ROOT, "dist", "aegisclaw"), "init", "--yes"], { env: { ...process.env, AEGISCLAW_HOME: home }, stdout: "ignore", stderr: "pipe" }));

/** Sums of wall time per stage, and a sample of total latencies. */
class Stages {
  readonly total = new Map<string, number>();
  readonly count = new Map<string, number>();
  add(stage: string, ms: number): void {
    this.total.set(stage, (this.total.get(stage) ?? 0) + ms);
    this.count.set(stage, (this.count.get(stage) ?? 0) + 1);
  }
  time<T>(stage: string, work: () => T): T {
    const started = performance.now();
    try {
      return work();
    } finally {
      this.add(stage, performance.now() - started);
    }
  }
  async timeAsync<T>(stage: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.add(stage, performance.now() - started);
    }
  }
}

const stages = new Stages();
const app = createApp(home);
const metrics = new ServerMetrics({ auditDir: app.layout.audit, lockdownActive: () => app.lockdown.read().active, pendingApprovals: () => 0 });
app.bus.subscribe((event) => metrics.observe(event));
const gate: Gate = await app.gate();

// Wrap the Gate's dependencies (private fields, reached by cast: this is a bench, not src/).
// The assessor is rebuilt from the wrapped pieces, as the Gate builds its own from them.
const deps = (gate as unknown as { deps: GateDeps }).deps;
const inner = gate as unknown as { policy: PolicyEngine; assessor: Assessor };
const lockRead = app.lockdown.read.bind(app.lockdown);
app.lockdown.read = () => stages.time("lockdown read", lockRead);
const history = deps.history;
if (history) deps.history = (actor) => stages.time("history (recent tail)", () => history(actor));
const policy = inner.policy;
inner.policy = { name: policy.name, decide: (input) => stages.timeAsync("policy (builtin + opa)", () => policy.decide(input)) };
inner.assessor = localAssessor({ config: deps.config, home: deps.home, lockdown: app.lockdown, history: deps.history ?? NO_HISTORY, policy: inner.policy });
const audit = deps.audit as AuditLog;
const append = audit.append.bind(audit);
deps.audit = { append: (record) => stages.timeAsync("audit append (to fsynced)", () => append(record)) };
const publish = app.bus.publish.bind(app.bus);
app.bus.publish = ((type: never, data: never) => stages.time("bus publish (subscribers)", () => publish(type, data))) as typeof app.bus.publish;

// The audit log's batches: how many records share one lock + write + fsync.
// writeBatch was synchronous (fsyncSync) before the group commit moved the fsync off the event loop.
const log = audit as unknown as { writeBatch(records: unknown[]): unknown[] | Promise<unknown[]>; sync(): unknown[] };
const writeBatch = log.writeBatch.bind(log);
const batchSizes: number[] = [];
log.writeBatch = (records) => {
  batchSizes.push(records.length);
  const started = performance.now();
  const done = () => stages.add("  audit writeBatch (hash, write, fsync)", performance.now() - started);
  const written = writeBatch(records);
  if (written instanceof Promise) return written.finally(done);
  done();
  return written;
};
const sync = log.sync.bind(log);
log.sync = () => stages.time("  audit sync (stat tail)", sync);

const latencies: number[] = [];
let next = 0;
const actor = { name: "bench-operator", source: "api" } as const;
async function worker(): Promise<void> {
  while (next < N) {
    next++;
    const started = performance.now();
    const verdict = await gate.decide({ argv: ["true"], actor, grants: [] });
    latencies.push(performance.now() - started);
    if (verdict.verdict !== "allow") throw new Error(`expected allow, got ${JSON.stringify(verdict.reasons)}`);
  }
}

// Warm-up: loads zod, opa-wasm and the templates, and opens the tail.
for (let i = 0; i < 200; i++) await gate.decide({ argv: ["true"], actor, grants: [] });
stages.total.clear();
stages.count.clear();
batchSizes.length = 0;

const cpuBefore = process.cpuUsage();
const started = performance.now();
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const elapsed = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);

latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? Number.NaN;
console.log(`decide in process: ${N} decisions, ${CONCURRENCY} in flight, ${fmt(elapsed / 1000, 2)} s -> ${fmt((N / elapsed) * 1000, 0)} decisions/s`);
console.log(`latency p50 ${fmt(pct(50), 2)} ms, p99 ${fmt(pct(99), 2)} ms; CPU ${fmt((cpu.user + cpu.system) / 1000 / N, 3)} ms/decision (user ${fmt(cpu.user / 1000 / N, 3)}, system ${fmt(cpu.system / 1000 / N, 3)})`);
console.log(`audit batches: ${batchSizes.length}, mean ${fmt(N / Math.max(1, batchSizes.length), 1)} records each, max ${Math.max(0, ...batchSizes)}`);
console.log("");
console.log("| stage | calls | mean wall ms per call | wall ms per decision |");
console.log("| --- | ---: | ---: | ---: |");
for (const [stage, total] of stages.total) {
  const calls = stages.count.get(stage) ?? 0;
  console.log(`| ${stage} | ${calls} | ${fmt(total / Math.max(1, calls), 3)} | ${fmt(total / N, 3)} |`);
}
await app.close();
rmSync(work, { recursive: true, force: true });
