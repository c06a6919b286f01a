/** Lockdown's building block: killAll reaches sandboxes started by other processes. */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { SandboxResult } from "../../src/sandbox/index.ts";
import { BASE_IMAGE, requireDocker } from "../helpers/docker.ts";
import { containersOf, expectNoLeftovers, runtime, sh } from "./support.ts";

beforeAll(requireDocker);
afterEach(() => expectNoLeftovers());

const BUN = process.execPath;
const CHILD = join(import.meta.dir, "fixtures", "run-sleep.ts");

/** Polls until `check` returns a value or the deadline passes. */
async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await Bun.sleep(100);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe("docker killAll", () => {
  test("docker runtime: killAll kills a sandbox started by another process, which sees 137", async () => {
    const runId = `killall-${process.pid}-${Date.now()}`;
    const child = Bun.spawn([BUN, CHILD, runId], { stdout: "pipe", stderr: "pipe" });
    try {
      const running = await eventually(async () => (await runtime.listRunning()).find((r) => r.runId === runId), 20_000);
      expect(running.containerId).toMatch(/^[0-9a-f]{64}$/);
      expect(Number.isNaN(Date.parse(running.startedAt))).toBe(false);
      // The container carries the child's pid, not ours: it really is another process's sandbox.
      expect(containersOf(child.pid)).toEqual([running.containerId]);

      const killed = await runtime.killAll();
      expect(killed).toBeGreaterThanOrEqual(1);

      expect(await child.exited).toBe(0);
      const result = JSON.parse(await new Response(child.stdout).text()) as SandboxResult;
      expect(result.exitCode).toBe(137);
      expect(result.timedOut || result.aborted || result.outputTruncated).toBe(false);
      expect((await runtime.listRunning()).some((r) => r.runId === runId)).toBe(false);
      expectNoLeftovers(child.pid);
    } finally {
      child.kill();
    }
  });

  test("docker runtime: killAll also removes created-but-unstarted sandboxes; runs afterwards work", async () => {
    const created = Bun.spawnSync(["docker", "create", "--label", "io.aegisclaw.managed=true", "--label", `io.aegisclaw.pid=${process.pid}`, "--network", "none", BASE_IMAGE, "true"], { stdout: "pipe", stderr: "pipe" });
    expect(created.exitCode, created.stderr.toString()).toBe(0);
    expect(containersOf(process.pid).length).toBe(1);
    expect(await runtime.killAll()).toBeGreaterThanOrEqual(1);
    expect(containersOf(process.pid)).toEqual([]);
    expect((await sh("exit 0")).exitCode).toBe(0);
  });
});
