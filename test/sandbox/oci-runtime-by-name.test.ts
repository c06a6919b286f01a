/**
 * Any OCI runtime Docker has registered can be asked for by its name (`--runtime kata`): it is
 * accepted only once the engine lists it, it gets the same hardened create request and post-
 * create check, and its self-test must show AegisClaw's own seccomp profile before it runs.
 *
 * kata and firecracker are not installable here, so the test registers runc a second time under
 * another name (scripts/register-docker-runtime.sh, as a user would register kata): what is
 * proven is the by-name path, not a second kernel.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkRuntimes } from "../../src/doctor/runtimes.ts";
import { Config } from "../../src/core/index.ts";
import { createSandboxRuntime, DEFAULT_LIMITS, runtimeNameProblem } from "../../src/sandbox/index.ts";
import { isAegisError } from "../../src/shared/index.ts";
import { BASE_IMAGE, requireDocker } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";

const ALIAS = "aegisclaw-runc-alias";
const REPO = join(import.meta.dir, "..", "..");

beforeAll(async () => {
  await requireDocker();
  const runc = Bun.which("runc") ?? "/usr/sbin/runc";
  const registered = Bun.spawnSync(["bash", join(REPO, "scripts", "register-docker-runtime.sh"), ALIAS, runc], { stdout: "pipe", stderr: "pipe" });
  expect(registered.exitCode, registered.stderr.toString()).toBe(0);
}, 60_000);

/** Inspects the run's container while it sleeps, then lets it finish. */
async function runtimeOfLiveContainer(runId: string): Promise<string> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const ps = Bun.spawnSync(["docker", "ps", "-q", "--no-trunc", "--filter", `label=io.aegisclaw.run=${runId}`], { stdout: "pipe" });
    const id = ps.stdout.toString().trim();
    if (id) return Bun.spawnSync(["docker", "inspect", "--format", "{{.HostConfig.Runtime}}", id], { stdout: "pipe" }).stdout.toString().trim();
    await Bun.sleep(50);
  }
  throw new Error(`no running container for ${runId}`);
}

describe("a Docker OCI runtime by name", () => {
  test("doctor lists it as usable under its own name", async () => {
    const check = await checkRuntimes("/var/run/docker.sock");
    expect(check.status).toBe("pass");
    expect(check.message).toContain(`${ALIAS} (self-tested before its first run)`);
  });

  test("a run on it is self-tested, created on that OCI runtime and hardened like any other", async () => {
    const state = tempDir();
    const runtime = createSandboxRuntime(ALIAS, { stateDir: state, selfTestImage: BASE_IMAGE });
    expect((await runtime.status()).available).toBe(true);
    let stdout = "";
    const runId = `alias-${process.pid}-${Date.now()}`;
    const run = runtime.run(
      { runId, image: BASE_IMAGE, argv: ["sh", "-c", "grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status; id -u; sleep 2"], timeoutMs: 30_000, limits: DEFAULT_LIMITS },
      { stdout: (chunk) => void (stdout += new TextDecoder().decode(chunk)), stderr: () => undefined },
    );
    expect(await runtimeOfLiveContainer(runId)).toBe(ALIAS);
    const result = await run;
    expect(result.exitCode).toBe(0);
    expect(stdout).toMatch(/CapEff:\s+0000000000000000/);
    expect(stdout).toMatch(/Seccomp:\s+2/);
    expect(stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(stdout).toContain("65534\n");
    // The self-test ran first and was recorded under this runtime's name and OCI runtime.
    const cache = JSON.parse(readFileSync(join(state, "selftest.json"), "utf8")) as { runtimes: Record<string, { key: { ociRuntime: string }; report: { unshare: string } }> };
    expect(cache.runtimes[ALIAS]?.key.ociRuntime).toBe(ALIAS);
    expect(cache.runtimes[ALIAS]?.report.unshare).toContain("Function not implemented");
  }, 60_000);

  test("a well-formed name Docker has not registered refuses the run with how to register it; nothing runs", async () => {
    const runtime = createSandboxRuntime("aegisclaw-not-registered", { selfTestImage: BASE_IMAGE });
    const status = await runtime.status();
    expect(status.available).toBe(false);
    expect(status.detail).toContain("OCI runtime aegisclaw-not-registered is not registered with Docker");
    expect(status.hint).toContain("daemon.json");
    let output = "";
    const refused = await runtime
      .run({ runId: `unregistered-${Date.now()}`, image: BASE_IMAGE, argv: ["echo", "ran"], timeoutMs: 10_000, limits: DEFAULT_LIMITS }, { stdout: (chunk) => void (output += String(chunk)), stderr: () => undefined })
      .catch((error: unknown) => error);
    expect(isAegisError(refused, "unavailable")).toBe(true);
    expect(output).toBe("");
  }, 30_000);

  test("malformed names and Docker's names for the built-ins are refused everywhere a runtime is named", () => {
    for (const name of ["Kata", "../runc", "kata runtime", "", "-x", "a".repeat(65)]) expect(runtimeNameProblem(name)).toContain("is not a runtime name");
    expect(runtimeNameProblem("runc")).toContain("--runtime docker");
    expect(runtimeNameProblem("runsc")).toContain("--runtime gvisor");
    for (const name of ["docker", "gvisor", "kata", "io.containerd.kata.v2", ALIAS]) expect(runtimeNameProblem(name)).toBeUndefined();
    expect(() => createSandboxRuntime("runc", { selfTestImage: BASE_IMAGE })).toThrow("--runtime docker");
    expect(Config.safeParse({ version: 1, sandbox: { runtime: "../runc" } }).success).toBe(false);
    expect(Config.safeParse({ version: 1, sandbox: { runtime: "kata" } }).success).toBe(true);
  });
});
