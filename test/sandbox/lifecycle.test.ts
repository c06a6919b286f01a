/** Run lifecycle: exit codes, live streaming, limits on time and output, cancellation, cleanup. */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { requireDocker } from "../helpers/docker.ts";
import { collect, containerExists, expectNoLeftovers, sh } from "./support.ts";

beforeAll(requireDocker);
afterEach(() => expectNoLeftovers());

describe("docker sandbox lifecycle", () => {
  test("docker runtime: propagates the command's exit code", async () => {
    const run = await sh("exit 3");
    expect(run.exitCode).toBe(3);
    expect(run.timedOut || run.aborted || run.outputTruncated || run.oomKilled).toBe(false);
    expect(containerExists(run.containerId)).toBe(false);
  });

  test("docker runtime: runs argv directly and captures output of a fast command", async () => {
    const run = await collect({ argv: ["echo", "hello", "$HOME"] });
    expect(run.exitCode).toBe(0);
    // No shell in between: "$HOME" is passed literally.
    expect(run.stdout).toBe("hello $HOME\n");
    expect(run.stdoutBytes).toBe(12);
  });

  test("docker runtime: streams stdout live, before the command finishes", async () => {
    let sawA = -1;
    const started = performance.now();
    const run = await sh("echo a; sleep 1; echo b", {
      onStdout: (text) => {
        if (text.includes("a") && sawA < 0) sawA = performance.now() - started;
      },
    });
    const total = performance.now() - started;
    expect(run.stdout).toBe("a\nb\n");
    expect(run.stdoutChunks).toBe(2);
    // "a" reached us while the sandbox was still sleeping.
    expect(sawA).toBeGreaterThan(0);
    expect(total - sawA).toBeGreaterThan(800);
  });

  test("docker runtime: keeps stderr separate from stdout", async () => {
    const run = await sh("echo to-out; echo to-err >&2; echo more-out");
    expect(run.stdout).toBe("to-out\nmore-out\n");
    expect(run.stderr).toBe("to-err\n");
    expect(run.stdoutBytes).toBe(16);
    expect(run.stderrBytes).toBe(7);
  });

  test("docker runtime: large output arrives intact", async () => {
    const run = await sh("seq 1 20000");
    const lines = run.stdout.trim().split("\n");
    expect(lines.length).toBe(20000);
    expect(lines.at(-1)).toBe("20000");
  });

  test("docker runtime: timeout kills the run, exits 124 and removes the container", async () => {
    const run = await sh("echo started; sleep 30", { timeoutMs: 1000 });
    expect(run.exitCode).toBe(124);
    expect(run.timedOut).toBe(true);
    expect(run.stdout).toBe("started\n");
    expect(run.durationMs).toBeLessThan(10_000);
    expect(containerExists(run.containerId)).toBe(false);
  });

  test("docker runtime: abort signal kills and removes the container, exit 130", async () => {
    const controller = new AbortController();
    const run = await sh("echo ready; sleep 30", { signal: controller.signal, onStdout: () => controller.abort() });
    expect(run.aborted).toBe(true);
    expect(run.exitCode).toBe(130);
    expect(run.timedOut).toBe(false);
    expect(run.durationMs).toBeLessThan(10_000);
    expect(containerExists(run.containerId)).toBe(false);
  });

  test("docker runtime: an already-aborted signal runs nothing", async () => {
    const controller = new AbortController();
    controller.abort();
    const run = await sh("echo should-not-run", { signal: controller.signal });
    expect(run.aborted).toBe(true);
    expect(run.exitCode).toBe(130);
    expect(run.stdout).toBe("");
  });

  test("docker runtime: output past outputBytes is cut, flagged and the sandbox killed", async () => {
    const run = await sh("while true; do echo 0123456789; done", { limits: { outputBytes: 1000 }, timeoutMs: 15_000 });
    expect(run.outputTruncated).toBe(true);
    expect(run.timedOut).toBe(false);
    expect(run.stdoutBytes + run.stderrBytes).toBe(1000);
    expect(run.stdout.length).toBe(1000);
    expect(run.exitCode).toBe(137);
  });

  test("docker runtime: the output limit counts stdout and stderr together", async () => {
    const run = await sh("head -c 600 /dev/zero; head -c 600 /dev/zero >&2; sleep 30", { limits: { outputBytes: 1000 }, timeoutMs: 15_000 });
    expect(run.outputTruncated).toBe(true);
    expect(run.stdoutBytes + run.stderrBytes).toBe(1000);
  });

  test("docker runtime: a throwing output consumer stops the sandbox and the error surfaces", async () => {
    const promise = sh("echo boom; sleep 30", {
      onStdout: () => {
        throw new Error("consumer failed");
      },
    });
    await expect(promise).rejects.toThrow("consumer failed");
  });
});
