/**
 * The console under load (issue 8):
 * 1. Approval request -> visible on the console's screen, p50/p99 (target p99 <= 100 ms): a
 *    requester process queues requests; the console (real live backend, headless renderer,
 *    its own 30 fps frame scheduler) must draw them. Baseline in the same run: the same event
 *    reaching a bare control-socket client (transport only). Warm: one long-lived requester;
 *    cold: a new requester process per request (discovery through inotify + connect included).
 * 2. 2,000 output lines/s into the live pane for 60 s: RSS growth (the output ring is bounded).
 * Writes bench/results/console.md. Needs dist/aegisclaw (for init).
 */
import { createTestRenderer } from "@opentui/core/testing";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ControlClient, controlKey, controlSockets } from "../src/approvals/index.ts";
import { createApp } from "../src/app.ts";
import type { EventEnvelope } from "../src/core/index.ts";
import { startConsole } from "../ui/tui/app.ts";
import { createLiveBackend } from "../ui/tui/live-backend.ts";
import { fmt, machineLine, must, writeResult } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
const WARM = Number(process.env.BENCH_APPROVALS ?? 200);
const COLD = Number(process.env.BENCH_COLD ?? 20);
const FLOOD_SECONDS = Number(process.env.BENCH_FLOOD_SECONDS ?? 60);
// The wall clock is the one clock both processes share (1 ms resolution); per-process
// timeOrigin and hrtime origins differ between processes.
const now = () => Date.now();
const work = mkdtempSync(join(tmpdir(), "aegis-bench-console-"));
const home = join(work, "home");
must(Bun.spawnSync([join(ROOT, "dist", "aegisclaw"), "init", "--yes"], { env: { ...process.env, AEGISCLAW_HOME: home }, stdout: "ignore", stderr: "pipe" }));

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))] ?? 0;
const requester = (count: number) => Bun.spawn([process.execPath, join(import.meta.dir, "approval-requester.ts"), home, String(count)], { stdout: "inherit", stderr: "inherit" });

/** Baseline: a bare client on the requester's socket answers each request as soon as it arrives. */
async function transportOnly(count: number): Promise<number[]> {
  const child = requester(count);
  while (controlSockets(join(home, "run")).length === 0) await Bun.sleep(1);
  const [socket] = controlSockets(join(home, "run"));
  let client: ControlClient | undefined;
  while (!client) client = await ControlClient.connect(socket?.path ?? "", controlKey(join(home, "run")), "bench", true).catch(() => undefined);
  const latencies: number[] = [];
  const answer = (request: { id: string; requestHash: string; argv: string[] }) => {
    latencies.push(now() - Number(request.argv[1]));
    void client.resolve(request.id, request.requestHash, "approve", "bench", "console");
  };
  for (const request of client.pending) answer(request);
  client.subscribe((event: EventEnvelope) => {
    if (event.type === "approval.requested") answer((event as EventEnvelope<"approval.requested">).data);
  });
  await child.exited;
  client.close();
  return latencies;
}

/** The console: from queued to drawn on the headless screen, then approved from the backend. */
async function throughConsole(processes: number, perProcess: number): Promise<number[]> {
  const setup = await createTestRenderer({ width: 100, height: 30, exitOnCtrlC: false });
  const backend = await createLiveBackend(createApp(home), "bench");
  const handle = await startConsole(setup.renderer, backend, { noColor: true });
  const latencies: number[] = [];
  const seen = new Set<string>();
  let stop = false;
  // Poll the screen as a terminal would show it; the console draws on its own schedule.
  const watcher = (async () => {
    while (!stop) {
      await setup.renderOnce();
      const frame = setup.captureCharFrame();
      for (const request of backend.pendingApprovals()) {
        if (seen.has(request.id) || !frame.includes(String(request.argv[1]).slice(0, 12))) continue;
        seen.add(request.id);
        latencies.push(now() - Number(request.argv[1]));
        void backend.resolveApproval(request.id, request.requestHash, "approve");
      }
      await Bun.sleep(1);
    }
  })();
  for (let p = 0; p < processes; p++) await requester(perProcess).exited;
  stop = true;
  await watcher;
  handle.close();
  setup.renderer.destroy();
  await backend.close();
  return latencies;
}

/** 2,000 lines/s of run output into the live pane; RSS sampled every 5 s. */
async function flood(): Promise<{ samples: Array<{ second: number; rssMiB: number }>; lines: number; kept: number }> {
  const setup = await createTestRenderer({ width: 100, height: 30, exitOnCtrlC: false });
  const app = createApp(home);
  const backend = await createLiveBackend(app, "bench");
  const handle = await startConsole(setup.renderer, backend, { noColor: true });
  app.bus.publish("run.started", { runId: "r-flood", argv: ["yes"], image: "aegisclaw/base:busybox", runtime: "docker" });
  const samples: Array<{ second: number; rssMiB: number }> = [];
  const started = performance.now();
  let lines = 0;
  let lastFrame = 0;
  Bun.gc(true);
  samples.push({ second: 0, rssMiB: process.memoryUsage.rss() / 1024 ** 2 });
  while (performance.now() - started < FLOOD_SECONDS * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * 2000);
    for (; lines < due; lines++) app.bus.publish("run.output", { runId: "r-flood", stream: "stdout", text: `line ${lines} ${"x".repeat(60)}\n` });
    if (performance.now() - lastFrame >= 33) {
      await setup.renderOnce();
      lastFrame = performance.now();
    }
    const second = Math.floor((performance.now() - started) / 1000);
    if (second > 0 && second % 5 === 0 && samples.at(-1)?.second !== second) {
      Bun.gc(true);
      samples.push({ second, rssMiB: process.memoryUsage.rss() / 1024 ** 2 });
    }
    await Bun.sleep(2);
  }
  const kept = handle.state.runs.get("r-flood")?.output.lines.length ?? -1;
  handle.close();
  setup.renderer.destroy();
  await backend.close();
  return { samples, lines, kept };
}

try {
  const baseline = await transportOnly(WARM);
  const warm = await throughConsole(1, WARM);
  const cold = await throughConsole(COLD, 1);
  const { samples, lines, kept } = await flood();
  const first = samples[1] ?? samples[0];
  const last = samples.at(-1);
  const row = (name: string, values: number[], base: number[]) =>
    `| ${name} | ${values.length} | ${fmt(percentile(values, 50), 1)} ms | ${fmt(percentile(values, 99), 1)} ms | ${fmt(percentile(values, 99) / percentile(base, 99), 2)}× |`;
  writeResult("console", [
    "## Console: approvals and live output",
    "",
    machineLine(),
    "Approval latency: from the requester queuing a request to the request being drawn on the console's (headless) screen.",
    "",
    "| path | requests | p50 | p99 | p99 ratio vs transport |",
    "| --- | ---: | ---: | ---: | ---: |",
    row("control socket only (baseline)", baseline, baseline),
    row("console, requester already followed (warm)", warm, baseline),
    row("console, new requester process each time (cold: inotify + connect)", cold, baseline),
    "",
    `Target p99 <= 100 ms: warm ${percentile(warm, 99) <= 100 ? "met" : "**missed**"}, cold ${percentile(cold, 99) <= 100 ? "met" : "**missed**"}.`,
    "",
    `Live output: ${lines} lines at 2,000 lines/s for ${FLOOD_SECONDS} s into one run's pane (frames at 30 fps); the pane keeps ${kept} lines (bounded ring).`,
    `RSS after GC: ${samples.map((s) => `${s.second}s ${fmt(s.rssMiB, 0)} MiB`).join(", ")}.`,
    `Growth from 5 s to ${last?.second ?? 0} s: ${fmt((last?.rssMiB ?? 0) - (first?.rssMiB ?? 0), 1)} MiB.`,
  ]);
} finally {
  rmSync(work, { recursive: true, force: true });
}
