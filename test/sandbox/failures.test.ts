/** Failure paths: every one ends in a clear AegisError and leaves nothing running. */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { ContainerInspectInfo } from "dockerode";
import { join } from "node:path";
import { containerOptions, hardeningProblems } from "../../src/sandbox/docker/container-config.ts";
import { createDockerRuntime, DEFAULT_LIMITS, type SandboxSpec } from "../../src/sandbox/index.ts";
import { AegisError, isAegisError } from "../../src/shared/index.ts";
import { BASE_IMAGE, requireDocker } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { collect, expectNoLeftovers, runtime } from "./support.ts";
import { EngineClient } from "../../src/sandbox/docker/engine-client.ts";

beforeAll(requireDocker);
afterEach(() => expectNoLeftovers());

/** The AegisError a promise rejects with (fails the test if it resolves or throws something else). */
async function rejection(promise: Promise<unknown>): Promise<AegisError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAegisError(error)).toBe(true);
  return error as AegisError;
}

const spec = (overrides: Partial<SandboxSpec> = {}): SandboxSpec => ({
  runId: `failures-${process.pid}`,
  image: BASE_IMAGE,
  argv: ["true"],
  timeoutMs: 10_000,
  limits: DEFAULT_LIMITS,
  ...overrides,
});
/** Derives a local image from the base image with Dockerfile-style changes (no build, no registry). */
function deriveImage(tag: string, changes: string[]): void {
  const docker = (...args: string[]) => Bun.spawnSync(["docker", ...args], { stdout: "pipe", stderr: "pipe" });
  const created = docker("create", BASE_IMAGE, "true");
  expect(created.exitCode, created.stderr.toString()).toBe(0);
  const id = created.stdout.toString().trim();
  const commit = docker("commit", ...changes.flatMap((change) => ["--change", change]), id, tag);
  docker("rm", "-f", id);
  expect(commit.exitCode, commit.stderr.toString()).toBe(0);
  afterAll(() => void docker("rmi", "-f", tag));
}

const quiet = { stdout: () => undefined, stderr: () => undefined };

describe("docker sandbox failures", () => {
  test("docker runtime: status reports a reachable engine with its version", async () => {
    const status = await runtime.status();
    expect(status.available).toBe(true);
    expect(status.runtime).toBe("docker");
    expect(status.version).toMatch(/^\d+\.\d+/);
  });

  test("docker runtime: hasImage is true for the base image and false for a missing one", async () => {
    expect(await runtime.hasImage(BASE_IMAGE)).toBe(true);
    expect(await runtime.hasImage("aegisclaw/does-not-exist:never")).toBe(false);
  });

  test("docker runtime: a missing image is 'unavailable' with a build hint, and nothing is pulled", async () => {
    const error = await rejection(runtime.run(spec({ image: "aegisclaw/does-not-exist:never" }), quiet));
    expect(error.code).toBe("unavailable");
    expect(error.message).toBe("sandbox image aegisclaw/does-not-exist:never is not present");
    expect(error.hint).toContain("scripts/build-base-image.sh");
    expect(await runtime.hasImage("aegisclaw/does-not-exist:never")).toBe(false);
  });

  test("docker runtime: an unreachable socket gives status unavailable and run throws 'unavailable'", async () => {
    const socketPath = join(tempDir(), "no-such-docker.sock");
    const down = createDockerRuntime({ socketPath });
    const status = await down.status();
    expect(status.available).toBe(false);
    expect(status.detail).toBe(`Docker engine is not reachable at ${socketPath}`);
    expect(status.hint).toContain("aegisclaw doctor");
    const error = await rejection(down.run(spec(), quiet));
    expect(error.code).toBe("unavailable");
    expect(error.message).toBe(`Docker engine is not reachable at ${socketPath}`);
    expect(error.hint).toContain("dockerd");
    expect((await rejection(down.killAll())).code).toBe("unavailable");
  });

  test("docker runtime: an OCI runtime the engine does not know is refused before anything runs", async () => {
    const odd = createDockerRuntime({ ociRuntime: "aegisclaw-no-such-runtime" });
    const status = await odd.status();
    expect(status.available).toBe(false);
    expect(status.detail).toContain("aegisclaw-no-such-runtime");
    expect((await rejection(odd.run(spec(), quiet))).code).toBe("unavailable");
  });

  test("docker runtime: bad specs are 'bad-input' and create nothing", async () => {
    const bad: Array<[string, Partial<SandboxSpec>]> = [
      ["empty argv", { argv: [] }],
      ["env name with =", { env: { "A=B": "x" } }],
      ["env overriding PATH", { env: { PATH: "/tmp" } }],
      ["zero pids (would mean unlimited)", { limits: { ...DEFAULT_LIMITS, pids: 0 } }],
      ["negative memory", { limits: { ...DEFAULT_LIMITS, memoryBytes: -1 } }],
      ["NaN cpus", { limits: { ...DEFAULT_LIMITS, cpus: Number.NaN } }],
      ["zero timeout", { timeoutMs: 0 }],
    ];
    for (const [what, overrides] of bad) {
      const error = await rejection(runtime.run(spec(overrides), quiet));
      expect(`${what}: ${error.code}`).toBe(`${what}: bad-input`);
    }
  });

  test("docker runtime: an image ENTRYPOINT cannot wrap the command", async () => {
    const tag = `aegisclaw/test-entrypoint:${process.pid}`;
    deriveImage(tag, ['ENTRYPOINT ["echo", "wrapped"]']);
    const run = await collect({ image: tag, argv: ["echo", "direct"] });
    expect(run.stdout).toBe("direct\n");
  });

  test("docker runtime: an image with a VOLUME (a writable mount) is refused, not run", async () => {
    const tag = `aegisclaw/test-volume:${process.pid}`;
    deriveImage(tag, ["VOLUME /data"]);
    const volumesNow = () => Bun.spawnSync(["docker", "volume", "ls", "-q"]).stdout.toString().split("\n").filter(Boolean).sort();
    const volumesBefore = volumesNow();
    const error = await rejection(runtime.run(spec({ image: tag }), quiet));
    expect(error.code).toBe("unavailable");
    expect(error.message).toContain("no mounts");
    // The anonymous volume the engine made for the refused container goes with it.
    expect(volumesNow()).toEqual(volumesBefore);
  });

  test("docker runtime: caller labels cannot override the management labels", async () => {
    const options = containerOptions(spec({ labels: { "io.aegisclaw.managed": "false", "io.aegisclaw.run": "spoof", team: "a" } }), undefined);
    expect(options.Labels).toEqual({ team: "a", "io.aegisclaw.managed": "true", "io.aegisclaw.run": `failures-${process.pid}`, "io.aegisclaw.pid": String(process.pid) });
    const run = await collect({ labels: { team: "a" } });
    expect(run.exitCode).toBe(0);
  });

  test("docker runtime: the post-create check catches every weakened setting", async () => {
    // Create (not start) a real hardened container, then tamper with its inspect data one field at a time.
    const engine = new EngineClient("/var/run/docker.sock");
    const wanted = spec({ runId: `verify-${process.pid}` });
    const { Id: container } = await engine.json<{ Id: string }>("POST", "/containers/create", { body: containerOptions(wanted, undefined) });
    try {
      const info = await engine.json<ContainerInspectInfo>("GET", `/containers/${container}/json`);
      expect(hardeningProblems(wanted, info, undefined)).toEqual([]);
      const weakenings: Array<[string, (i: typeof info) => void]> = [
        ["user", (i) => (i.Config.User = "0")],
        ["read-only", (i) => (i.HostConfig.ReadonlyRootfs = false)],
        ["privileged", (i) => (i.HostConfig.Privileged = true)],
        ["cap drop", (i) => (i.HostConfig.CapDrop = [])],
        ["cap add", (i) => (i.HostConfig.CapAdd = ["SYS_ADMIN"])],
        ["seccomp", (i) => (i.HostConfig.SecurityOpt = ["no-new-privileges", "seccomp=unconfined"])],
        ["no-new-privileges", (i) => (i.HostConfig.SecurityOpt = (i.HostConfig.SecurityOpt ?? []).filter((o: string) => o !== "no-new-privileges"))],
        ["network", (i) => (i.HostConfig.NetworkMode = "bridge")],
        ["ipc", (i) => (i.HostConfig.IpcMode = "host")],
        ["pid mode", (i) => (i.HostConfig.PidMode = "host")],
        ["pids", (i) => (i.HostConfig.PidsLimit = 0)],
        ["memory", (i) => (i.HostConfig.Memory = 0)],
        ["swap", (i) => (i.HostConfig.MemorySwap = -1)],
        ["cpus", (i) => (i.HostConfig.NanoCpus = 0)],
        ["tmpfs exec", (i) => (i.HostConfig.Tmpfs = { "/tmp": "rw,size=1" })],
        ["binds", (i) => (i.HostConfig.Binds = ["/:/host"])],
        ["volume", (i) => (i.Mounts = [{ Type: "volume", Source: "x", Destination: "/data", Mode: "", RW: true, Propagation: "" }])],
        ["labels", (i) => (i.Config.Labels = {})],
      ];
      for (const [what, weaken] of weakenings) {
        const copy = structuredClone(info);
        weaken(copy);
        expect(`${what}: ${hardeningProblems(wanted, copy, undefined).length}`).toBe(`${what}: 1`);
      }
    } finally {
      await engine.request("DELETE", `/containers/${container}`, { query: { force: 1 } });
    }
  });
});
