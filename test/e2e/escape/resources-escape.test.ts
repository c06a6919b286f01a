/**
 * Resource exhaustion from inside the sandbox: a fork bomb, a memory bomb, an output flood and
 * a /tmp flood are each contained by their limit (config.yaml sandbox.limits, lowered here so
 * the attempts end quickly), the audit says how each run ended, and the host stays usable.
 * Under gVisor the bombs end the whole sandbox instead: runsc's own host threads count against
 * the container's pids and memory limits (ptrace platform), so the limits contain the bomb by
 * killing runsc itself.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jsonLines, tempHome, useCompiledBinary } from "../../helpers/cli.ts";
import { requireDocker } from "../../helpers/docker.ts";
import { requireGvisor } from "../../sandbox/gvisor-support.ts";
import { aegis } from "./support.ts";

useCompiledBinary();

const MIB = 1024 * 1024;

describe("resource escapes (compiled binary, real Docker)", () => {
  let home: string;
  beforeAll(async () => {
    await requireDocker();
    home = tempHome();
    expect((await aegis(home, ["init", "--yes", "--template", "permissive"])).exitCode).toBe(0);
    const path = join(home, "config.yaml");
    const limits = { "pids: 128": "pids: 64", "memory: 256m": "memory: 64m", "output: 16m": "output: 1m", "tmpfs: 64m": "tmpfs: 8m" };
    let config = readFileSync(path, "utf8");
    for (const [from, to] of Object.entries(limits)) {
      expect(config).toContain(from);
      config = config.replace(from, to);
    }
    writeFileSync(path, config);
  });

  /** The last run's result entry in the audit log. */
  async function lastResult(): Promise<{ runId: string; result: { exitCode: number; timedOut: boolean; killedBy?: string; stdoutBytes: number } }> {
    const entries = jsonLines((await aegis(home, ["logs", "--json"])).stdout);
    const entry = entries.findLast((e) => e.type === "result");
    return entry as unknown as { runId: string; result: { exitCode: number; timedOut: boolean; killedBy?: string; stdoutBytes: number } };
  }

  /** AegisClaw containers of a run that still exist on the engine. */
  function containersOf(runId: string): string[] {
    const ps = Bun.spawnSync(["docker", "ps", "-aq", "--filter", `label=io.aegisclaw.run=${runId}`], { stdout: "pipe" });
    return ps.stdout.toString().split("\n").filter(Boolean);
  }

  test("escape: a fork bomb hits the pids limit, the run is killed at its timeout, the host keeps forking", async () => {
    const bomb = aegis(home, ["run", "--timeout", "6s", "--", "sh", "-c", "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; bomb() { bomb | bomb & }; bomb; sleep 60"]);
    // While the bomb runs, the host can still start processes (the limit is the container's).
    await Bun.sleep(2500);
    const host = Bun.spawnSync(["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do true & done; wait; echo host-ok"], { stdout: "pipe" });
    expect(host.stdout.toString()).toBe("host-ok\n");
    const result = await bomb;
    expect(result.stdout).toBe("64\n");
    expect(result.stderr).toContain("can't fork: Resource temporarily unavailable");
    expect(result.exitCode).toBe(124);
    expect(result.stderr).toContain("aegisclaw: run timed out and was killed (exit 124)");
    const audit = await lastResult();
    expect(audit.result).toMatchObject({ exitCode: 124, timedOut: true, killedBy: "timeout" });
    expect(containersOf(audit.runId)).toEqual([]);
  }, 60_000);

  test("escape: a memory bomb is OOM-killed by the memory limit, without swap", async () => {
    const events = "cat /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null || cat /sys/fs/cgroup/memory.events";
    const result = await aegis(home, ["run", "--", "sh", "-c", `cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; head -c 400000000 /dev/zero | tail -c 300000000 > /dev/null; echo "bomb=$?"; ${events}; cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.swap.max`]);
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(String(64 * MIB));
    // tail held the bytes; the kernel's OOM killer ended it (SIGKILL, 128 + 9) inside the container.
    expect(lines).toContain("bomb=137");
    expect(result.stderr).toContain("Killed");
    expect(result.stdout).toMatch(/^oom_kill [1-9]/m);
    // cgroup v1 reports memory+swap (equal to memory: no swap); v2 reports swap alone (0).
    expect([String(64 * MIB), "0"]).toContain(lines.at(-2) ?? "missing");
  }, 60_000);

  test("escape: an output flood is cut at the output limit and the audit says output-limit", async () => {
    const result = await aegis(home, ["run", "--", "yes", "flood"]);
    expect(result.stdout.length).toBe(MIB);
    expect(result.stdout.startsWith("flood\nflood\n")).toBe(true);
    expect(result.exitCode).toBe(137);
    expect(result.stderr).toContain("aegisclaw: output limit reached; sandbox killed");
    const audit = await lastResult();
    expect(audit.result).toMatchObject({ exitCode: 137, timedOut: false, killedBy: "output-limit", stdoutBytes: MIB });
    expect(containersOf(audit.runId)).toEqual([]);
  }, 60_000);

  test("escape: filling /tmp stops at the tmpfs size", async () => {
    const result = await aegis(home, ["run", "--", "sh", "-c", "dd if=/dev/zero of=/tmp/fill bs=1M count=32; echo \"dd=$?\"; du -m /tmp/fill | cut -f1"]);
    expect(result.stderr).toContain("No space left on device");
    expect(result.stdout).toBe("dd=1\n8\n");
    expect(result.exitCode).toBe(0);
  }, 60_000);

  test("escape: under gVisor a fork bomb hits the in-guest process limit (RLIMIT_NPROC = pids), the run is killed at its timeout, the host keeps forking", async () => {
    await requireGvisor();
    const bomb = aegis(home, ["run", "--runtime", "gvisor", "--timeout", "8s", "--", "sh", "-c", "ulimit -u; bomb() { bomb | bomb & }; bomb; sleep 60; echo survived"]);
    await Bun.sleep(2500);
    expect(Bun.spawnSync(["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do true & done; wait; echo host-ok"], { stdout: "pipe" }).stdout.toString()).toBe("host-ok\n");
    const result = await bomb;
    expect(result.stdout).toBe("64\n");
    expect(result.stderr).toContain("can't fork: Resource temporarily unavailable");
    const audit = await lastResult();
    // Contained either way, and the host is fine: the sandbox lives until the timeout (124), or
    // the 64 shells and the sentry pass the 64 MiB memory limit (137, OOM), or the sentry's own
    // threads hit the host pids ceiling while the bomb churns and runsc ends the sandbox (2).
    expect([124, 137, 2]).toContain(result.exitCode);
    expect(audit.result).toMatchObject(result.exitCode === 124 ? { exitCode: 124, timedOut: true, killedBy: "timeout" } : { exitCode: result.exitCode, timedOut: false });
    expect(containersOf(audit.runId)).toEqual([]);
  }, 60_000);

  test("under gVisor the pids limit counts the sandbox's processes, not runsc's host threads: 40 of 64 run", async () => {
    await requireGvisor();
    // Before, the host cgroup's pids.max = 64 also counted the sentry's ~8 threads per task and
    // ended such a run with runsc's status 2 at about a dozen processes.
    const result = await aegis(home, ["run", "--runtime", "gvisor", "--", "sh", "-c", "for i in $(seq 40); do sleep 1 & done; wait; echo all-40"]);
    expect(result.stdout).toBe("all-40\n");
    expect(result.exitCode).toBe(0);
  }, 60_000);

  test("escape: under gVisor a memory bomb gets the whole sandbox OOM-killed (137)", async () => {
    await requireGvisor();
    const result = await aegis(home, ["run", "--runtime", "gvisor", "--", "sh", "-c", "echo started; head -c 400000000 /dev/zero | tail -c 300000000 > /dev/null; echo \"survived=$?\""], { killExpected: true });
    expect(result.stdout).toBe("started\n");
    expect(result.exitCode).toBe(137);
    const audit = await lastResult();
    expect(audit.result).toMatchObject({ exitCode: 137, timedOut: false });
    expect(containersOf(audit.runId)).toEqual([]);
  }, 60_000);
});
