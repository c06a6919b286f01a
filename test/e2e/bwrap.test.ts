/**
 * `--runtime bwrap` end to end with the compiled binary: a run goes through the Gate into a
 * bubblewrap sandbox (self-tested first), the choice is audited and simulated, net.outbound is
 * refused before anything runs, doctor reports the runtime, and lockdown from a second process
 * kills a running bwrap sandbox through its cgroups. The runtime itself: test/sandbox/bwrap/.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aegis, BINARY, jsonLines, tempHome, useCompiledBinary } from "../helpers/cli.ts";

useCompiledBinary();

describe("bwrap runtime (compiled binary, real bubblewrap)", () => {
  let home: string;
  beforeAll(async () => {
    home = tempHome();
    expect((await aegis(home, ["init", "--yes"])).exitCode).toBe(0);
  }, 30_000);

  test("run --runtime bwrap: runs as 65534 under bwrap (its pid 1) with the AegisClaw filter, and the audit records runtime bwrap", async () => {
    const result = await aegis(home, ["run", "--runtime", "bwrap", "--", "sh", "-c", "id -u; cat /proc/1/comm; grep -E '^(Seccomp|CapEff):' /proc/self/status; unshare -U true 2>&1; true"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("65534\nbwrap\n");
    expect(result.stdout).toMatch(/CapEff:\s+0000000000000000/);
    expect(result.stdout).toMatch(/Seccomp:\s+2/);
    expect(result.stdout).toContain("Function not implemented");
    expect(result.exitCode).toBe(0);
    const decision = jsonLines((await aegis(home, ["logs", "--json"])).stdout).findLast((entry) => entry.type === "decision");
    expect((decision?.request as { runtime?: string }).runtime).toBe("bwrap");
  }, 60_000);

  test("simulate --runtime bwrap shows the bubblewrap profile; net.outbound is refused (69) before anything runs", async () => {
    const simulation = JSON.parse((await aegis(home, ["simulate", "--json", "--runtime", "bwrap", "--", "true"])).stdout) as { sandbox: { runtime: string; network: string } };
    expect(simulation.sandbox.runtime).toBe("bwrap (bubblewrap)");
    expect(simulation.sandbox.network).toStartWith("none");
    const before = jsonLines((await aegis(home, ["logs", "--json"])).stdout).length;
    const refused = await aegis(home, ["run", "--runtime", "bwrap", "--scope", "net.outbound:example.com", "--", "true"]);
    expect(refused.exitCode).toBe(69);
    expect(refused.stderr).toContain("net.outbound cannot be enforced under bwrap");
    expect(jsonLines((await aegis(home, ["logs", "--json"])).stdout).length).toBe(before);
  }, 30_000);

  test("doctor: the bubblewrap check says bwrap is usable", async () => {
    const doctor = JSON.parse((await aegis(home, ["doctor", "--json"])).stdout) as { checks: Array<{ id: string; status: string; message: string }> };
    expect(doctor.checks.find((check) => check.id === "bubblewrap")).toMatchObject({ status: "pass", message: expect.stringContaining("usable with --runtime bwrap") });
  }, 30_000);

  test("lockdown from a second process kills a running bwrap sandbox (counted in its report); the run ends 75", async () => {
    const locked = tempHome();
    expect((await aegis(locked, ["init", "--yes"])).exitCode).toBe(0);
    const path = join(locked, "config.yaml");
    writeFileSync(path, readFileSync(path, "utf8").replace("runtime: docker", "runtime: bwrap"));
    const run = Bun.spawn([BINARY, "run", "--", "sh", "-c", "echo started; sleep 60"], { env: { ...process.env, AEGISCLAW_HOME: locked }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const reader = run.stdout.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("started\n");
    const lockdown = await aegis(locked, ["lockdown", "--json", "--reason", "bwrap test"]);
    expect(lockdown.exitCode).toBe(0);
    expect((JSON.parse(lockdown.stdout) as { killed: number }).killed).toBeGreaterThanOrEqual(1);
    expect(await run.exited).toBe(75);
    expect((await aegis(locked, ["unlock"])).exitCode).toBe(0);
  }, 60_000);
});
