/**
 * The isolation self-test and its cache: the checks as pure functions, the cache rules, and
 * the real thing against the engine (a pass is recorded, reused, and re-run on a key change;
 * an unregistered OCI runtime is refused with exit 69 and never replaced by another).
 */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AuditLog, initAuditDir, readEntries } from "../../src/audit/index.ts";
import { Config, EventBus, Gate, LockdownStore } from "../../src/core/index.ts";
import { createSandboxRuntime, DEFAULT_LIMITS, SELF_TEST_TTL_MS, type SelfTestKey } from "../../src/sandbox/index.ts";
import { SelfTestCache, type SelfTestEntry } from "../../src/sandbox/self-test-cache.ts";
import { parseSelfTest, selfTestProblems, type SelfTestReport } from "../../src/sandbox/self-test.ts";
import { AegisError, exitCodeFor, isAegisError } from "../../src/shared/index.ts";
import { BASE_IMAGE } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { requireGvisor } from "./gvisor-support.ts";
import { expectNoLeftovers } from "./support.ts";

const ZERO = "0000000000000000";
const GOOD_GVISOR: SelfTestReport = {
  uid: "65534",
  capEff: ZERO,
  capPrm: ZERO,
  capBnd: ZERO,
  seccomp: "2",
  noNewPrivs: "1",
  kernel: "4.4.0",
  interfaces: ["lo"],
  rootfs: "read-only",
  unshare: "1 unshare: unshare(0x10000000): Operation not permitted",
};
const GVISOR = { userSpaceKernel: true, hostKernel: "6.1.0-host" };

describe("self-test checks", () => {
  test("self-test: parses the probe's key=value lines and falls back to setpriv for no_new_privs", () => {
    const report = parseSelfTest("uid=65534\nCapEff=0000000000000000\nSeccomp=2\nnnp=1\nkernel=4.4.0\ninterfaces=lo,\nrootfs=read-only\nunshare=1 nope\n");
    expect(report).toMatchObject({ uid: "65534", capEff: ZERO, seccomp: "2", noNewPrivs: "1", interfaces: ["lo"], unshare: "1 nope" });
    expect(report.capBnd).toBe("");
  });

  test("self-test: a healthy gVisor report has no problems", () => {
    expect(selfTestProblems(GOOD_GVISOR, GVISOR)).toEqual([]);
  });

  test("self-test: every weakened property is reported", () => {
    const cases: Array<[Partial<SelfTestReport>, string]> = [
      [{ uid: "0" }, "uid 65534"],
      [{ capEff: "00000000a80425fb" }, "no effective capabilities"],
      [{ capBnd: "" }, "empty capability bounding set"],
      [{ seccomp: "0" }, "seccomp filter mode 2"],
      [{ noNewPrivs: "" }, "no_new_privs 1"],
      [{ interfaces: ["lo", "eth0"] }, "only the loopback interface"],
      [{ rootfs: "writable" }, "read-only root filesystem"],
      // runsc without --oci-seccomp: unshare succeeds.
      [{ unshare: "0 " }, "unshare -U refused by seccomp"],
      // An image without unshare proves nothing.
      [{ unshare: "127 sh: unshare: not found" }, "unshare -U refused by seccomp"],
      [{ kernel: "6.1.0-host" }, "a user-space kernel"],
    ];
    for (const [change, problem] of cases) {
      const problems = selfTestProblems({ ...GOOD_GVISOR, ...change }, GVISOR);
      expect(problems.length, JSON.stringify(change)).toBe(1);
      expect(problems[0]).toContain(problem);
    }
  });

  test("self-test: runc must show the AegisClaw profile's ENOSYS, not Docker's default EPERM", () => {
    const runc = { ...GOOD_GVISOR, kernel: "6.1.0-host" };
    expect(selfTestProblems(runc, { userSpaceKernel: false })[0]).toContain("ENOSYS");
    expect(selfTestProblems({ ...runc, unshare: "1 unshare: unshare(0x10000000): Function not implemented" }, { userSpaceKernel: false })).toEqual([]);
  });
});

describe("self-test cache", () => {
  const key: SelfTestKey = {
    engineId: "ENGINE",
    engineVersion: "20.10.24",
    ociRuntime: "runsc",
    registration: { path: "/usr/bin/runsc", runtimeArgs: ["--network=none", "--oci-seccomp"] },
    runtimeBinary: "/usr/bin/runsc size=1 mtime=2 ino=3",
    seccompProfileHash: "abc",
  };
  const entry = (passedAt: number): SelfTestEntry => ({ key, passedAt: new Date(passedAt).toISOString(), image: BASE_IMAGE, runtimeVersion: "runsc version 0.0~20221219.0", report: GOOD_GVISOR });

  test("self-test cache: a pass is reused only for the same key and for less than 24 h", () => {
    const cache = new SelfTestCache(join(tempDir(), "state"));
    const now = Date.now();
    expect(cache.lookup("gvisor", key, now)).toBeUndefined();
    cache.record("gvisor", entry(now - 1000));
    expect(cache.lookup("gvisor", key, now)).toBeDefined();
    expect(cache.lookup("docker", key, now)).toBeUndefined();
    for (const changed of [{ engineId: "OTHER" }, { engineVersion: "24.0.0" }, { runtimeBinary: "/usr/bin/runsc size=9 mtime=2 ino=3" }, { seccompProfileHash: "def" }, { registration: { path: "/usr/bin/runsc", runtimeArgs: ["--network=none"] } }]) {
      expect(cache.lookup("gvisor", { ...key, ...changed }, now), JSON.stringify(changed)).toBeUndefined();
    }
    expect(cache.lookup("gvisor", key, now - 1000 + SELF_TEST_TTL_MS)).toBeUndefined();
    // A pass dated in the future (clock moved back, edited file) is not trusted.
    expect(cache.lookup("gvisor", key, now - 2000)).toBeUndefined();
  });

  test("self-test cache: runtimes keep separate entries; a corrupt file is a miss, not an error", () => {
    const state = join(tempDir(), "state");
    const cache = new SelfTestCache(state);
    const now = Date.now();
    cache.record("gvisor", entry(now));
    cache.record("docker", { ...entry(now), key: { ...key, ociRuntime: "runc" } });
    expect(cache.lookup("gvisor", key, now + 1)).toBeDefined();
    writeFileSync(cache.path, "{not json");
    expect(cache.lookup("gvisor", key, now + 1)).toBeUndefined();
    cache.record("gvisor", entry(now));
    expect(cache.lookup("gvisor", key, now + 1)).toBeDefined();
  });
});

describe("self-test against the engine", () => {
  beforeAll(requireGvisor, 30_000);
  afterEach(() => expectNoLeftovers());

  const spec = (argv: string[]) => ({ runId: `selftest-case-${process.pid}-${Date.now()}`, image: BASE_IMAGE, argv, timeoutMs: 20_000, limits: DEFAULT_LIMITS });
  const quiet = { stdout: () => {}, stderr: () => {} };
  const readCache = (state: string) => JSON.parse(readFileSync(join(state, "selftest.json"), "utf8")) as { runtimes: Record<string, SelfTestEntry> };

  test("gvisor self-test: a pass is written, reused by the next process, and re-run when its key changes", async () => {
    const state = join(tempDir(), "state");
    const first = createSandboxRuntime("gvisor", { stateDir: state, selfTestImage: BASE_IMAGE });
    expect((await first.run(spec(["true"]), quiet)).exitCode).toBe(0);
    const written = readCache(state).runtimes.gvisor;
    expect(written?.key.ociRuntime).toBe("runsc");
    expect(written?.key.registration.runtimeArgs).toEqual(expect.arrayContaining(["--network=none", "--oci-seccomp"]));
    expect(written?.report.kernel).toBe("4.4.0");

    // A new runtime object is what the next CLI process builds: the cached pass is reused.
    const second = createSandboxRuntime("gvisor", { stateDir: state, selfTestImage: BASE_IMAGE });
    expect((await second.run(spec(["true"]), quiet)).exitCode).toBe(0);
    expect(readCache(state).runtimes.gvisor?.passedAt).toBe(written?.passedAt ?? "");

    // The engine "changed version": the key no longer matches, so the self-test runs again.
    const edited = readCache(state);
    if (edited.runtimes.gvisor) edited.runtimes.gvisor.key.engineVersion = "0.0.0-old";
    writeFileSync(join(state, "selftest.json"), JSON.stringify({ format: 1, ...edited }));
    const third = createSandboxRuntime("gvisor", { stateDir: state, selfTestImage: BASE_IMAGE });
    expect((await third.run(spec(["true"]), quiet)).exitCode).toBe(0);
    const rerun = readCache(state).runtimes.gvisor;
    expect(rerun?.key.engineVersion).toBe(written?.key.engineVersion ?? "");
    expect(Date.parse(rerun?.passedAt ?? "")).toBeGreaterThan(Date.parse(written?.passedAt ?? ""));
  }, 40_000);

  test("gvisor self-test: an unregistered OCI runtime refuses the run (exit 69, with a fix) and creates nothing", async () => {
    const state = join(tempDir(), "state");
    const missing = createSandboxRuntime("gvisor", { stateDir: state, selfTestImage: BASE_IMAGE, ociRuntimeOverride: "aegisclaw-test-unregistered" });
    let caught: unknown;
    try {
      await missing.run(spec(["true"]), quiet);
    } catch (error) {
      caught = error;
    }
    expect(isAegisError(caught, "unavailable")).toBe(true);
    const error = caught as AegisError;
    expect(exitCodeFor[error.code]).toBe(69);
    expect(error.message).toContain("aegisclaw-test-unregistered is not registered");
    expect(error.hint).toContain("daemon.json");
    expect(() => readFileSync(join(state, "selftest.json"))).toThrow();
  }, 20_000);

  test("gate: a run asking for an unavailable runtime is recorded and refused, never run on another runtime", async () => {
    const dir = tempDir();
    await initAuditDir(join(dir, "audit"));
    const audit = await AuditLog.open(join(dir, "audit"));
    const docker = createSandboxRuntime("docker", { selfTestImage: BASE_IMAGE });
    const ran: string[] = [];
    const spy = { ...docker, run: (...args: Parameters<typeof docker.run>) => (ran.push(args[0].runId), docker.run(...args)) };
    const missing = createSandboxRuntime("gvisor", { selfTestImage: BASE_IMAGE, ociRuntimeOverride: "aegisclaw-test-unregistered" });
    const config = Config.parse({ version: 1, policy: { grants: ["shell.exec"] } });
    const base = { config, home: dir, audit, lockdown: new LockdownStore(join(dir, "lockdown.json")), bus: new EventBus() };
    const gate = new Gate({ ...base, runtime: spy, runtimes: { docker: spy, gvisor: missing } });
    const actor = { name: "tester", source: "cli" as const };
    const refused = await gate.run({ actor, argv: ["true"], runtime: "gvisor" }, quiet).catch((error: unknown) => error);
    expect(isAegisError(refused, "unavailable")).toBe(true);
    expect(ran).toEqual([]);
    // Only docker is wired into this Gate: asking for gvisor must not fall back to it.
    const dockerOnly = new Gate({ ...base, runtime: spy });
    expect(isAegisError(await dockerOnly.run({ actor, argv: ["true"], runtime: "gvisor" }, quiet).catch((error: unknown) => error), "unavailable")).toBe(true);
    expect(ran).toEqual([]);
    await audit.close();
    const entries = [...readEntries(join(dir, "audit"))];
    expect(entries.map((entry) => entry.type)).toEqual(["decision", "result", "decision", "result"]);
    expect(entries[0]?.request?.runtime).toBe("gvisor");
    expect(String(entries[1]?.result?.error)).toContain("not registered");
  }, 20_000);

  test("gate: the runtime is part of the request hash", async () => {
    const dir = tempDir();
    const config = Config.parse({ version: 1, policy: { grants: ["shell.exec"] } });
    const docker = createSandboxRuntime("docker", { selfTestImage: BASE_IMAGE });
    const gate = new Gate({ config, home: dir, audit: { append: () => Promise.reject(new Error("unused")) }, runtime: docker, lockdown: new LockdownStore(join(dir, "lockdown.json")), bus: new EventBus() });
    const actor = { name: "tester", source: "cli" as const };
    const asDocker = await gate.simulate({ actor, argv: ["true"] });
    const asGvisor = await gate.simulate({ actor, argv: ["true"], runtime: "gvisor" });
    expect(asGvisor.requestHash).not.toBe(asDocker.requestHash);
    expect(asGvisor.sandbox.runtime).toBe("gvisor (runsc)");
    expect(asGvisor.policyInput.runtime).toBe("gvisor");
    expect((await gate.simulate({ actor, argv: ["true"], runtime: "docker" })).requestHash).toBe(asDocker.requestHash);
  });
});
