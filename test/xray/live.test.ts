/**
 * xray against real hardened sandboxes on the real engine (runc and gVisor). Each test file
 * shares the engine with other suites running at the same time, so this one only ever stops
 * the sandboxes it started, by their own abort signal or container id.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runXray } from "../../src/cli/commands/xray.ts";
import type { CliContext } from "../../src/cli/context.ts";
import { renderDefaultConfig } from "../../src/core/index.ts";
import { createDockerRuntime, createSandboxRuntime, DEFAULT_LIMITS, type SandboxMount, type SandboxResult, type SandboxRuntime } from "../../src/sandbox/index.ts";
import { exitCodeFor, isAegisError } from "../../src/shared/index.ts";
import { inspectSandbox, listSandboxes, type XrayReport } from "../../src/xray/index.ts";
import { tempHome } from "../helpers/cli.ts";
import { BASE_IMAGE, requireDocker } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { requireGvisor } from "../sandbox/gvisor-support.ts";

interface Sleeper {
  runId: string;
  containerId: string;
  stop(): Promise<void>;
}

const started: Sleeper[] = [];
let counter = 0;

/** Starts `sleep 300` hardened on `runtime` and waits (via the docker CLI, not xray) until it runs. */
async function startSleeper(runtime: SandboxRuntime, mounts: SandboxMount[] = []): Promise<Sleeper> {
  const runId = `xray-test-${process.pid}-${++counter}-${Date.now().toString(36)}`;
  const controller = new AbortController();
  let finished: SandboxResult | Error | undefined;
  const run = runtime
    .run({ runId, image: BASE_IMAGE, argv: ["sleep", "300"], timeoutMs: 120_000, limits: DEFAULT_LIMITS, mounts }, { stdout: () => {}, stderr: () => {}, signal: controller.signal })
    .then(
      (result) => void (finished = result),
      (error: Error) => void (finished = error),
    );
  let containerId = "";
  for (let i = 0; i < 150 && !containerId && !finished; i++) {
    await Bun.sleep(100);
    const ps = Bun.spawnSync(["docker", "ps", "-q", "--no-trunc", "--filter", `label=io.aegisclaw.run=${runId}`, "--filter", "status=running"], { stdout: "pipe" });
    containerId = ps.stdout.toString().trim();
  }
  const sleeper: Sleeper = {
    runId,
    containerId,
    async stop() {
      controller.abort();
      await run;
      // The runtime removes its own container on abort; this is only a backstop for this one id.
      if (containerId) Bun.spawnSync(["docker", "rm", "-f", containerId], { stdout: "ignore", stderr: "ignore" });
    },
  };
  started.push(sleeper);
  if (!containerId) throw new Error(`sandbox ${runId} did not start: ${finished instanceof Error ? finished.message : JSON.stringify(finished)}`);
  return sleeper;
}

function capture(home: string, json: boolean): CliContext & { out: () => string } {
  let stdout = "";
  return { home, json, isTty: false, stdout: (text) => void (stdout += text), stderr: () => {}, out: () => stdout };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "no error";
  } catch (error) {
    return isAegisError(error) ? error.code : `not an AegisError: ${String(error)}`;
  }
}

let runc: Sleeper;
let dataDir: string;

beforeAll(async () => {
  await requireDocker();
  dataDir = realpathSync(tempDir());
  writeFileSync(join(dataDir, "note.txt"), "hello");
  runc = await startSleeper(createDockerRuntime(), [{ source: dataDir, target: dataDir, readOnly: true }]);
}, 60_000);

afterAll(async () => {
  await Promise.all(started.map((sleeper) => sleeper.stop()));
}, 60_000);

describe("xray on a live runc sandbox", () => {
  test("xray list: shows the running sandbox with its run id, runtime and argv", async () => {
    const listed = (await listSandboxes()).find((summary) => summary.runId === runc.runId);
    expect(listed).toMatchObject({ containerId: runc.containerId, image: BASE_IMAGE, runtime: "runc", state: "running", argv: ["sleep", "300"] });
    expect(Number.isNaN(Date.parse(listed?.startedAt ?? ""))).toBe(false);
  });

  test("xray inspect: processes, hardening, limits, no network and the granted mount", async () => {
    const report: XrayReport = await inspectSandbox(runc.runId);
    expect(report.containerId).toBe(runc.containerId);
    expect(report.processes.map((process) => process.command)).toContain("sleep 300");
    expect(report.processes.find((process) => process.command === "sleep 300")?.user).toMatch(/^(nobody|65534)$/);
    expect(report.security).toEqual({
      user: "65534:65534",
      readOnlyRootfs: true,
      capDrop: ["ALL"],
      capAdd: [],
      seccomp: "aegisclaw",
      noNewPrivileges: true,
      networkMode: "none",
      pidsLimit: DEFAULT_LIMITS.pids,
      memoryLimitBytes: DEFAULT_LIMITS.memoryBytes,
    });
    expect(report.network).toBeNull();
    expect(report.mounts).toContainEqual({ source: dataDir, target: dataDir, readOnly: true });
    expect(report.mounts).toContainEqual({ source: "tmpfs", target: "/tmp", readOnly: false });
    expect(report.pids).toBeGreaterThanOrEqual(1);
    expect(report.memoryBytes).toBeGreaterThan(0);
    expect(report.memoryLimitBytes).toBe(DEFAULT_LIMITS.memoryBytes);
    // One-shot stats carry no previous sample to compare with.
    expect(report.cpuPercent === null || report.cpuPercent >= 0).toBe(true);
  });

  test("xray inspect: a container id prefix finds the same sandbox", async () => {
    const report = await inspectSandbox(runc.containerId.slice(0, 12).toUpperCase());
    expect(report.runId).toBe(runc.runId);
  });

  test("xray inspect: an unknown id is bad input that points to `xray list`", async () => {
    for (const id of ["no-such-run", "0000000000ff", "../../containers"]) {
      const error = await inspectSandbox(id).catch((caught: unknown) => caught);
      expect(isAegisError(error, "bad-input")).toBe(true);
      expect((error as { hint?: string }).hint).toContain("aegisclaw xray list");
    }
  });

  test("xray: an unreachable engine is 'unavailable' for list and inspect", async () => {
    const socketPath = join(tempDir(), "docker.sock");
    expect(await codeOf(listSandboxes({ socketPath }))).toBe("unavailable");
    expect(await codeOf(inspectSandbox(runc.runId, { socketPath }))).toBe("unavailable");
  });
});

describe("xray command", () => {
  test("xray cli: list --json and inspect print the live sandbox", async () => {
    const home = tempHome();
    const list = capture(home, true);
    expect(await runXray("list", [], {}, list)).toBe(0);
    const { sandboxes } = JSON.parse(list.out()) as { sandboxes: Array<{ runId: string }> };
    expect(sandboxes.map((sandbox) => sandbox.runId)).toContain(runc.runId);
    const table = capture(home, false);
    expect(await runXray("list", [], {}, table)).toBe(0);
    expect(table.out()).toMatch(/^RUN ID\s+CONTAINER\s+RUNTIME\s+STARTED\s+COMMAND\n/);
    expect(table.out()).toContain(`${runc.runId}  ${runc.containerId.slice(0, 12)}`);
    const inspect = capture(home, false);
    expect(await runXray("inspect", [runc.runId], {}, inspect)).toBe(0);
    expect(inspect.out()).toContain("root filesystem    read-only");
    expect(inspect.out()).toContain("capabilities       drop ALL; add none");
    expect(inspect.out()).toContain("sleep 300");
    const json = capture(home, true);
    expect(await runXray("inspect", [runc.containerId.slice(0, 16)], {}, json)).toBe(0);
    expect(JSON.parse(json.out())).toMatchObject({ runId: runc.runId, security: { networkMode: "none" } });
  });

  test("xray cli: bad ids, missing ids, unknown actions and a down engine map to their exit codes", async () => {
    const home = tempHome();
    expect(await codeOf(runXray("inspect", ["nope"], {}, capture(home, false)))).toBe("bad-input");
    expect(await codeOf(runXray("inspect", [], {}, capture(home, false)))).toBe("usage");
    expect(await codeOf(runXray("explode", [], {}, capture(home, false)))).toBe("usage");
    const down = tempHome();
    mkdirSync(down, { recursive: true });
    writeFileSync(join(down, "config.yaml"), renderDefaultConfig("standard").replace("/var/run/docker.sock", join(down, "nothing.sock")));
    expect(await codeOf(runXray("list", [], {}, capture(down, false)))).toBe("unavailable");
    expect(exitCodeFor.unavailable).toBe(69);
  });
});

describe("xray on a live gVisor sandbox", () => {
  test("xray inspect: runsc is reported, hardening holds, and the untrustworthy process list is replaced by a note", async () => {
    await requireGvisor();
    const sleeper = await startSleeper(createSandboxRuntime("gvisor", { selfTestImage: BASE_IMAGE }));
    const report = await inspectSandbox(sleeper.runId);
    expect(report.runtime).toBe("runsc");
    expect(report.security).toMatchObject({ readOnlyRootfs: true, capDrop: ["ALL"], seccomp: "aegisclaw", networkMode: "none" });
    expect(report.network).toBeNull();
    // The engine's `top` lists host processes for gVisor; xray must not pass them off as the sandbox's.
    expect(report.processes).toEqual([]);
    expect(report.notes?.join("\n")).toContain("gVisor");
    expect((await listSandboxes()).find((summary) => summary.runId === sleeper.runId)?.runtime).toBe("runsc");
  }, 60_000);
});
