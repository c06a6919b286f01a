/**
 * Added latency per OpenClaw tool call from AegisClaw's plugin (issue 10): the plugin's own
 * `before_tool_call` handler (adapters/openclaw/plugin/index.mjs, registered through a stub of
 * OpenClaw's plugin API) called 1,000 times in sequence against a real `aegisclaw serve` on
 * loopback whose policy allows the call (permissive template, `shell.exec:echo` granted in
 * adapters/openclaw.yaml; each decision is fsynced to the audit log before the answer), against
 * the same calls through a no-op handler (the plugin disabled), in the same run.
 * Target: p99 added <= 10 ms. Writes bench/results/openclaw-plugin.md. Needs dist/aegisclaw.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fmt, machineLine, must, writeResult } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
const BINARY = join(ROOT, "dist", "aegisclaw");
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const WARMUP = 50;
const work = mkdtempSync(join(tmpdir(), "aegis-bench-openclaw-"));
const home = join(work, "home");
const env = { ...process.env, AEGISCLAW_HOME: home };

type Handler = (event: Record<string, unknown>, ctx: Record<string, unknown>) => Promise<unknown>;

/** An initialised home whose policy allows `exec echo` from OpenClaw, and an operator token. */
function prepareHome(): string {
  must(Bun.spawnSync([BINARY, "init", "--yes", "--template", "permissive"], { env, stdout: "ignore", stderr: "pipe" }));
  const config = join(home, "config.yaml");
  writeFileSync(config, readFileSync(config, "utf8").replace(/grants: \[.*\]/, "grants: []"));
  mkdirSync(join(home, "adapters"), { recursive: true, mode: 0o700 });
  writeFileSync(join(home, "adapters", "openclaw.yaml"), "enabled: false\ngrants: [shell.exec:echo]\n");
  const token = Bun.spawnSync([BINARY, "token", "create", "--role", "operator", "--name", "bench-plugin"], { env, stdout: "pipe", stderr: "pipe" });
  must(token);
  const tokenFile = join(work, "token");
  writeFileSync(tokenFile, token.stdout.toString(), { mode: 0o600 });
  return tokenFile;
}

/** `aegisclaw serve` on a random loopback port; resolves its URL. */
async function startServe(): Promise<{ url: string; stop: () => Promise<void> }> {
  const proc = Bun.spawn([BINARY, "serve", "--port", "0", "--json"], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited: ${await new Response(proc.stderr).text()}`);
    line += new TextDecoder().decode(value);
  }
  const { url } = JSON.parse(line) as { url: string };
  return {
    url,
    stop: async () => {
      proc.kill("SIGINT");
      await proc.exited;
    },
  };
}

/** The plugin's before_tool_call as OpenClaw gets it from `register(api)`. */
async function pluginHandler(config: Record<string, unknown>): Promise<Handler> {
  const plugin = (await import(join(ROOT, "adapters", "openclaw", "plugin", "index.mjs"))) as { register(api: unknown): void };
  const handlers = new Map<string, Handler>();
  plugin.register({ pluginConfig: config, logger: { warn() {}, error: console.error }, on: (name: string, handler: Handler) => handlers.set(name, handler) });
  const handler = handlers.get("before_tool_call");
  if (!handler) throw new Error("the plugin registered no before_tool_call handler");
  return handler;
}

/** Per-call latencies (ms) of `calls` sequential calls; every call must allow (return undefined). */
async function measure(handler: Handler, calls: number, label: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const event = { toolName: "exec", params: { command: "echo bench" }, runId: `bench-${label}`, toolCallId: `call_${label}_${i}` };
    const ctx = { agentId: "main", sessionKey: "agent:main:bench", sessionId: "bench", runId: `bench-${label}`, requester: { senderIsOwner: true } };
    const start = performance.now();
    const verdict = await handler(event, ctx);
    times.push(performance.now() - start);
    if (verdict !== undefined) throw new Error(`${label}: call ${i} was not allowed: ${JSON.stringify(verdict)}`);
  }
  return times;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function stats(times: number[]): { p50: number; p99: number; mean: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: times.reduce((a, b) => a + b, 0) / times.length };
}

const tokenFile = prepareHome();
const serve = await startServe();
try {
  const plugin = await pluginHandler({ endpoint: serve.url, tokenFile, timeoutMs: 10_000 });
  const disabled: Handler = async () => undefined;
  await measure(plugin, WARMUP, "warmup");
  await measure(disabled, WARMUP, "warmup-off");
  const on = stats(await measure(plugin, CALLS, "plugin"));
  const off = stats(await measure(disabled, CALLS, "off"));
  const added = { p50: on.p50 - off.p50, p99: on.p99 - off.p99 };
  writeResult("openclaw-plugin", [
    "## OpenClaw plugin: added latency per tool call",
    "",
    machineLine(),
    "",
    `| measurement (${CALLS} sequential calls, loopback) | p50 | p99 | mean |`,
    "| --- | --- | --- | --- |",
    `| before_tool_call with the AegisClaw plugin (allow from \`aegisclaw serve\`) | ${fmt(on.p50, 2)} ms | ${fmt(on.p99, 2)} ms | ${fmt(on.mean, 2)} ms |`,
    `| same call, plugin disabled (no-op handler, same run) | ${fmt(off.p50, 3)} ms | ${fmt(off.p99, 3)} ms | ${fmt(off.mean, 3)} ms |`,
    `| **added by the plugin** | **${fmt(added.p50, 2)} ms** | **${fmt(added.p99, 2)} ms** | target p99 <= 10 ms: ${added.p99 <= 10 ? "met" : "NOT met"} |`,
    "",
    "The plugin's handler from adapters/openclaw/plugin/index.mjs, registered through a stub of OpenClaw's plugin API",
    "and run under Bun, POSTs each call to /api/v1/openclaw/tool-calls (operator token read from its tokenFile on every",
    "call): tool map, policy (permissive template, `shell.exec:echo` granted in adapters/openclaw.yaml) and the decision's",
    "audit entry, fsynced before the answer. The real gateway adds its own hook dispatch on top of both rows alike.",
  ]);
} finally {
  await serve.stop();
  rmSync(work, { recursive: true, force: true });
}
