/**
 * gVisor end to end with the compiled binary: `--runtime gvisor` and `sandbox.runtime: gvisor`
 * really run on runsc, the choice is audited and simulated, and the self-test cache on disk is
 * written and honoured. (A runtime that is not registered is refused with exit 69: proven in
 * test/sandbox/gvisor-self-test.test.ts, without touching this machine's daemon.json.)
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, jsonLines, tempHome, useCompiledBinary, type CliResult } from "../helpers/cli.ts";
import { requireGvisor } from "../sandbox/gvisor-support.ts";

useCompiledBinary();

/** Every runsc interaction is bounded: a stuck sandbox fails the test instead of hanging CI. */
async function aegis(home: string, args: string[]): Promise<CliResult> {
  const proc = Bun.spawn([BINARY, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AEGISCLAW_HOME: home },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 60_000,
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

interface CacheFile {
  runtimes: Record<string, { passedAt: string; key: { engineVersion: string; ociRuntime: string } } | undefined>;
}

const cacheOf = (home: string): CacheFile => JSON.parse(readFileSync(join(home, "state", "selftest.json"), "utf8")) as CacheFile;

describe("gvisor (compiled binary, real runsc)", () => {
  let home: string;
  beforeAll(async () => {
    await requireGvisor();
    home = tempHome();
    expect((await aegis(home, ["init", "--yes"])).exitCode).toBe(0);
  }, 30_000);

  test("run --runtime gvisor: runs on gVisor's kernel and the audit records runtime gvisor", async () => {
    const result = await aegis(home, ["run", "--runtime", "gvisor", "--", "uname", "-r"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("4.4.0\n");
    expect(result.exitCode).toBe(0);
    const logs = await aegis(home, ["logs", "--json"]);
    const decision = jsonLines(logs.stdout).findLast((entry) => entry.type === "decision");
    expect((decision?.request as { runtime?: string }).runtime).toBe("gvisor");
    expect((await aegis(home, ["logs", "verify"])).exitCode).toBe(0);
  }, 60_000);

  test("run --runtime gvisor: the self-test pass is cached on disk and reused; a changed key re-runs it", async () => {
    const first = cacheOf(home).runtimes.gvisor;
    expect(first?.key.ociRuntime).toBe("runsc");
    expect((await aegis(home, ["run", "--runtime", "gvisor", "--", "true"])).exitCode).toBe(0);
    expect(cacheOf(home).runtimes.gvisor?.passedAt).toBe(first?.passedAt ?? "");

    const edited = cacheOf(home);
    const entry = edited.runtimes.gvisor;
    if (entry) entry.key.engineVersion = "0.0.0-not-this-engine";
    writeFileSync(join(home, "state", "selftest.json"), JSON.stringify({ format: 1, ...edited }));
    expect((await aegis(home, ["run", "--runtime", "gvisor", "--", "true"])).exitCode).toBe(0);
    const rerun = cacheOf(home).runtimes.gvisor;
    expect(rerun?.key.engineVersion).toBe(first?.key.engineVersion ?? "");
    expect(Date.parse(rerun?.passedAt ?? "")).toBeGreaterThan(Date.parse(first?.passedAt ?? ""));
  }, 60_000);

  test("simulate --runtime gvisor: shows the runsc sandbox and runs nothing", async () => {
    const text = await aegis(home, ["simulate", "--runtime", "gvisor", "--", "true"]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain("runtime       gvisor (runsc)");
    const json = await aegis(home, ["simulate", "--json", "--runtime", "gvisor", "--", "true"]);
    const simulation = JSON.parse(json.stdout) as { sandbox: { runtime: string }; policyInput: { runtime: string } };
    expect(simulation.sandbox.runtime).toBe("gvisor (runsc)");
    expect(simulation.policyInput.runtime).toBe("gvisor");
  }, 30_000);

  test("run --runtime: Docker's own name for a built-in runtime is a usage error (64) naming ours", async () => {
    const result = await aegis(home, ["run", "--runtime", "runsc", "--", "true"]);
    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain("--runtime gvisor");
  }, 30_000);

  test("run --runtime kata: an OCI runtime Docker has not registered is refused (69) with how to register it", async () => {
    const result = await aegis(home, ["run", "--runtime", "kata", "--", "true"]);
    expect(result.exitCode).toBe(69);
    expect(result.stderr).toContain("OCI runtime kata is not registered with Docker");
    expect(result.stderr).toContain("daemon.json");
  }, 30_000);

  test("config sandbox.runtime gvisor: runs use gVisor without a flag; --runtime docker overrides it", async () => {
    const configured = tempHome();
    expect((await aegis(configured, ["init", "--yes"])).exitCode).toBe(0);
    const path = join(configured, "config.yaml");
    writeFileSync(path, readFileSync(path, "utf8").replace("runtime: docker", "runtime: gvisor"));
    const gvisor = await aegis(configured, ["run", "--", "uname", "-r"]);
    expect(gvisor.stdout).toBe("4.4.0\n");
    expect(gvisor.exitCode).toBe(0);
    const docker = await aegis(configured, ["run", "--runtime", "docker", "--", "uname", "-r"]);
    expect(docker.exitCode).toBe(0);
    expect(docker.stdout).not.toBe("4.4.0\n");
    expect(Object.keys(cacheOf(configured).runtimes).sort()).toEqual(["docker", "gvisor"]);
    const doctor = await aegis(configured, ["doctor", "--json"]);
    const check = (JSON.parse(doctor.stdout) as { checks: Array<{ id: string; status: string; message: string }> }).checks.find((c) => c.id === "gvisor");
    expect(check?.status).toBe("pass");
    expect(check?.message).toContain("--network=none --oci-seccomp");
  }, 60_000);

  test("config sandbox.runtime: an unknown value is rejected with the field and line (65)", async () => {
    const broken = tempHome();
    expect((await aegis(broken, ["init", "--yes"])).exitCode).toBe(0);
    const path = join(broken, "config.yaml");
    writeFileSync(path, readFileSync(path, "utf8").replace("runtime: docker", "runtime: ../runc"));
    const result = await aegis(broken, ["run", "--", "true"]);
    expect(result.exitCode).toBe(65);
    expect(result.stderr).toContain("sandbox.runtime");
  }, 30_000);
});
