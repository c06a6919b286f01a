/** How bwrap runs end: exit codes, timeout, abort, output flood, limits, lockdown's killAll, the self-test gate. */
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { BwrapRuntime } from "../../../src/sandbox/bwrap/bwrap-runtime.ts";
import { BWRAP_BASE_IMAGE, bwrapSelfTestReport, createBwrapRuntime } from "../../../src/sandbox/bwrap/index.ts";
import { failure } from "../../helpers/errors.ts";
import { tempDir } from "../../helpers/temp-home.ts";
import { collect, expectNoLeftovers, runtime, sh, stateDir } from "./support.ts";

afterEach(() => expectNoLeftovers());

describe("bwrap run lifecycle", () => {
  test("bwrap runtime: the command's exit code and output come back, streamed live", async () => {
    const chunks: string[] = [];
    const run = await sh("echo first; sleep 1; echo second >&2; exit 7", { onStdout: (text) => chunks.push(text) });
    expect(run.exitCode).toBe(7);
    expect(run.stdout).toBe("first\n");
    expect(run.stderr).toBe("second\n");
    expect(run.stdoutBytes).toBe(6);
    expect(chunks[0]).toBe("first\n");
    expect(run.timedOut || run.aborted || run.oomKilled || run.outputTruncated).toBe(false);
  });

  test("bwrap runtime: a run past its timeout is killed with exit code 124", async () => {
    const run = await sh("echo started; sleep 60", { timeoutMs: 1500 });
    expect(run.exitCode).toBe(124);
    expect(run.timedOut).toBe(true);
    expect(run.stdout).toBe("started\n");
  });

  test("bwrap runtime: aborting the signal kills the run with exit code 130", async () => {
    const controller = new AbortController();
    const run = await sh("echo ready; sleep 60", { signal: controller.signal, onStdout: () => controller.abort() });
    expect(run.exitCode).toBe(130);
    expect(run.aborted).toBe(true);
    const early = await sh("echo never", { signal: AbortSignal.abort() });
    expect(early.aborted).toBe(true);
    expect(early.stdout).toBe("");
  });

  test("bwrap runtime: an output flood is cut at outputBytes and the run killed", async () => {
    const run = await sh("yes flood", { limits: { outputBytes: 50_000 } });
    expect(run.outputTruncated).toBe(true);
    expect(run.stdoutBytes).toBe(50_000);
    expect(run.stdout.length).toBe(50_000);
    expect(run.exitCode).not.toBe(0);
  });

  test("bwrap runtime: a fork bomb is contained by the pids limit", async () => {
    const run = await sh("for i in $(seq 1 300); do sleep 30 & done; echo all-forked", { limits: { pids: 24 }, timeoutMs: 30_000 });
    expect(run.stderr).toContain("can't fork");
    expect(run.stdout).not.toContain("all-forked");
    expect(run.timedOut).toBe(false);
  });

  test("bwrap runtime: a memory hog is killed by the memory limit and reported oomKilled", async () => {
    const run = await sh("x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived ${#x}", { limits: { memoryBytes: 32 * 1024 * 1024 } });
    expect(run.oomKilled).toBe(true);
    expect(run.stdout).not.toContain("survived");
    expect(run.exitCode).not.toBe(0);
  });

  test("bwrap runtime: each run has cgroups of its own, removed when it ends", async () => {
    const run = await sh("cat /proc/self/cgroup | grep -c pids; echo done", { runId: `own-${process.pid}` });
    expect(run.stdout).toBe("1\ndone\n");
    expect(run.containerId).toStartWith(`own-${process.pid}.${process.pid}.`);
    for (const controller of ["pids", "memory", "cpu", "unified"]) expect(existsSync(`/sys/fs/cgroup/${controller}/aegisclaw/${run.containerId}`)).toBe(false);
  });

  test("bwrap runtime: killAll from another runtime instance kills a running sandbox", async () => {
    const running = sh("echo up; sleep 60", { timeoutMs: 60_000, limits: { pids: 40, memoryBytes: 48 * 1024 * 1024, cpus: 0.5 } });
    const other = new BwrapRuntime({ stateDir: tempDir("aegisclaw-bwrap-other-") });
    let listed: Awaited<ReturnType<typeof other.listRunning>> = [];
    for (let i = 0; i < 200 && listed.length === 0; i++) {
      await Bun.sleep(25);
      listed = (await other.listRunning()).filter((r) => r.containerId.split(".")[1] === String(process.pid));
    }
    expect(listed.length).toBe(1);
    const name = listed[0]?.containerId ?? "";
    expect(listed[0]?.runId).toStartWith(`bwraptest-${process.pid}-`);
    // The limits the kernel holds for this run (pids: the command's 40 plus bwrap's two).
    expect((await Bun.file(`/sys/fs/cgroup/pids/aegisclaw/${name}/pids.max`).text()).trim()).toBe("42");
    expect((await Bun.file(`/sys/fs/cgroup/memory/aegisclaw/${name}/memory.limit_in_bytes`).text()).trim()).toBe(String(48 * 1024 * 1024));
    expect((await Bun.file(`/sys/fs/cgroup/cpu/aegisclaw/${name}/cpu.cfs_quota_us`).text()).trim()).toBe("50000");
    expect(await other.killAll()).toBeGreaterThanOrEqual(1);
    const result = await running;
    expect(result.exitCode).toBe(137);
    expect(result.timedOut).toBe(false);
    expect(await other.listRunning()).toEqual([]);
  });

  test("bwrap runtime: when AegisClaw is killed with -9, its sandbox dies with it and the next run sweeps the cgroup", async () => {
    const child = Bun.spawn([process.execPath, `${import.meta.dir}/run-child.ts`, stateDir], { stdout: "pipe", stderr: "inherit" });
    const reader = child.stdout.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("up");
    const name = readdirSync("/sys/fs/cgroup/unified/aegisclaw").find((n) => n.split(".")[1] === String(child.pid)) ?? "";
    expect(name).not.toBe("");
    const procs = () => readFileSync(`/sys/fs/cgroup/unified/aegisclaw/${name}/cgroup.procs`, "utf8").split("\n").filter(Boolean);
    expect(procs().length).toBeGreaterThanOrEqual(3);
    child.kill("SIGKILL");
    await child.exited;
    // --die-with-parent: bwrap goes with AegisClaw, and the sandbox's pid namespace with bwrap.
    for (let i = 0; i < 400 && procs().length > 0; i++) await Bun.sleep(10);
    expect(procs()).toEqual([]);
    // The cgroup is left behind by the dead process; any later run removes it.
    expect((await sh("true")).exitCode).toBe(0);
    expect(existsSync(`/sys/fs/cgroup/unified/aegisclaw/${name}`)).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/memory/aegisclaw/${name}`)).toBe(false);
  });

  test("bwrap runtime: status, hasImage and the self-test report", async () => {
    const status = await runtime.status();
    expect(status.available).toBe(true);
    expect(status.version).toContain("bubblewrap");
    expect(await runtime.hasImage(BWRAP_BASE_IMAGE)).toBe(true);
    expect(await runtime.hasImage("alpine:3")).toBe(false);
    const report = await bwrapSelfTestReport({ stateDir, selfTestImage: BWRAP_BASE_IMAGE });
    expect(report.uid).toBe("65534");
    expect(report.seccomp).toBe("2");
    expect(report.interfaces).toEqual(["lo"]);
    expect(report.unshare).toContain("Function not implemented");
  });

  test("bwrap runtime: a state directory open to others makes the runtime unavailable, and runs are refused", async () => {
    const open = tempDir("aegisclaw-bwrap-open-");
    chmodSync(open, 0o777);
    const exposed = new BwrapRuntime({ stateDir: open });
    const status = await exposed.status();
    expect(status.available).toBe(false);
    expect(status.detail).toContain("closed to others");
    const error = await failure(collect({ argv: ["true"] }, exposed));
    expect(error.code).toBe("unavailable");
  });

  test("bwrap runtime: when the self-test cannot pass, every run is refused", async () => {
    const broken = createBwrapRuntime({ stateDir, selfTestImage: "debian:12" });
    for (let i = 0; i < 2; i++) {
      const error = await failure(collect({ argv: ["true"] }, broken));
      expect(error.code).toBe("unavailable");
      expect(error.message).toContain("self-test");
      expect(error.message).toContain("only the base image");
    }
  });
});
