import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { AuditLog, initAuditDir, readEntries } from "../../src/audit/index.ts";
import { Config, EventBus, Gate, LockdownStore, type AuditSink, type EventEnvelope } from "../../src/core/index.ts";
import type { PolicyEngine } from "../../src/policy/index.ts";
import { createDockerRuntime, type SandboxRuntime } from "../../src/sandbox/index.ts";
import { AegisError, isAegisError } from "../../src/shared/index.ts";
import { requireDocker } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";

const actor = { name: "tester", source: "cli" as const };
const sink = { stdout: () => {}, stderr: () => {} };

interface Fixture {
  gate: Gate;
  auditDir: string;
  runs: string[];
  events: EventEnvelope[];
  lockdown: LockdownStore;
}

/** A real audit log and the real Docker runtime, wrapped only to record what reached the sandbox. */
async function fixture(options: { policy?: PolicyEngine; audit?: AuditSink; grants?: string[]; onRun?: (runId: string) => void } = {}): Promise<Fixture> {
  const dir = tempDir();
  const auditDir = join(dir, "audit");
  await initAuditDir(auditDir);
  const real = createDockerRuntime();
  const runs: string[] = [];
  const runtime: SandboxRuntime = {
    ...real,
    name: real.name,
    run: async (spec, io) => {
      runs.push(spec.runId);
      options.onRun?.(spec.runId);
      return real.run(spec, io);
    },
  };
  const bus = new EventBus();
  const events: EventEnvelope[] = [];
  bus.subscribe((event) => events.push(event));
  const lockdown = new LockdownStore(join(dir, "lockdown.json"));
  const config = Config.parse({ version: 1, policy: { grants: options.grants ?? ["shell.exec"] } });
  const audit = options.audit ?? (await AuditLog.open(auditDir));
  return { gate: new Gate({ config, home: join(dir, "home"), audit, runtime, lockdown, bus, ...(options.policy ? { policy: options.policy } : {}) }), auditDir, runs, events, lockdown };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isAegisError(error) ? error.code : `not-aegis: ${String(error)}`;
  }
  return "no error";
}

describe("gate", () => {
  beforeAll(requireDocker);

  test("gate: the allow decision is durable in the audit log before the sandbox starts", async () => {
    let seenAtStart: string[] = [];
    const f = await fixture({ onRun: () => (seenAtStart = [...readEntries(f.auditDir)].map((entry) => entry.type)) });
    const outcome = await f.gate.run({ actor, argv: ["true"] }, sink);
    expect(outcome.exitCode).toBe(0);
    expect(seenAtStart).toEqual(["decision"]);
    expect([...readEntries(f.auditDir)].map((entry) => entry.type)).toEqual(["decision", "result"]);
  });

  test("gate: events are published in order with redaction-ready output text", async () => {
    const f = await fixture();
    await f.gate.run({ actor, argv: ["echo", "hi"] }, sink);
    expect(f.events.map((event) => event.type)).toEqual(["decision", "run.started", "run.output", "run.finished"]);
    expect(f.events[2]?.data).toMatchObject({ stream: "stdout", text: "hi\n" });
  });

  test("gate: a policy engine that throws means deny; nothing runs and the deny is audited", async () => {
    const f = await fixture({ policy: { name: "broken", decide: async () => Promise.reject(new Error("wasm trap")) } });
    expect(await codeOf(f.gate.run({ actor, argv: ["true"] }, sink))).toBe("denied");
    expect(f.runs).toEqual([]);
    const [entry] = [...readEntries(f.auditDir)];
    expect(entry?.decision?.kind).toBe("deny");
    expect(entry?.decision?.reasons[0]?.rule).toBe("policy.error");
  });

  test("gate: an ask with no approver available is a deny", async () => {
    const f = await fixture({ policy: { name: "asker", decide: async () => ({ kind: "ask", risk: "high", reasons: [{ rule: "t.ask", message: "needs a human" }] }) } });
    expect(await codeOf(f.gate.run({ actor, argv: ["true"] }, sink))).toBe("denied");
    expect(f.runs).toEqual([]);
    expect([...readEntries(f.auditDir)][0]?.decision?.reasons.map((reason) => reason.rule)).toEqual(["t.ask", "approval.unavailable"]);
  });

  test("gate: if the decision cannot be audited, nothing runs", async () => {
    const failing: AuditSink = { append: async () => Promise.reject(new Error("disk full")) };
    const f = await fixture({ audit: failing });
    expect(await codeOf(f.gate.run({ actor, argv: ["true"] }, sink))).toContain("disk full");
    expect(f.runs).toEqual([]);
  });

  test("gate: lockdown refuses (code lockdown) and the refusal is audited", async () => {
    const f = await fixture();
    f.lockdown.write({ active: true, reason: "drill" });
    expect(await codeOf(f.gate.run({ actor, argv: ["true"] }, sink))).toBe("lockdown");
    expect(f.runs).toEqual([]);
    expect([...readEntries(f.auditDir)][0]?.decision?.reasons[0]?.message).toContain("drill");
  });

  test("gate: malformed requests are bad input and write nothing", async () => {
    const f = await fixture();
    for (const argv of [[], ["echo", "a\0b"]]) expect(await codeOf(f.gate.run({ actor, argv }, sink))).toBe("bad-input");
    expect(await codeOf(f.gate.run({ actor, argv: ["true"], grants: ["net.outbound:*"] }, sink))).toBe("bad-input");
    expect(await codeOf(f.gate.run({ actor: { name: "", source: "cli" }, argv: ["true"] }, sink))).toBe("bad-input");
    expect([...readEntries(f.auditDir)]).toEqual([]);
    expect(f.runs).toEqual([]);
  });

  test("gate: the request hash is the same for the same request and differs for any change", async () => {
    const f = await fixture();
    await f.gate.run({ actor, argv: ["echo", "a"] }, sink);
    await f.gate.run({ actor, argv: ["echo", "a"] }, sink);
    await f.gate.run({ actor, argv: ["echo", "b"] }, sink);
    const hashes = [...readEntries(f.auditDir)].filter((entry) => entry.type === "decision").map((entry) => entry.requestHash);
    expect(hashes[0]).toBe(hashes[1]);
    expect(hashes[2]).not.toBe(hashes[0]);
  });

  test("gate: a file scope that leads elsewhere through a symlink shows policy where, and is at least high risk", async () => {
    const dir = realpathSync(tempDir());
    mkdirSync(join(dir, "real"));
    symlinkSync(join(dir, "real"), join(dir, "link"));
    const simulation = await (await fixture()).gate.simulate({ actor, argv: ["ls"], grants: [`files.read:${join(dir, "link")}`, `files.read:${join(dir, "real")}`] });
    const [viaLink, direct] = simulation.policyInput.requested.filter((scope) => scope.kind === "files.read");
    expect(viaLink).toMatchObject({ scope: `files.read:${join(dir, "link")}`, risk: "high", resolvesTo: join(dir, "real") });
    expect(direct).toMatchObject({ scope: `files.read:${join(dir, "real")}`, risk: "medium" });
    expect(direct?.resolvesTo).toBeUndefined();
  });

  test("gate: a granted symlink swapped after the decision refuses the run at mount time, and the refusal is the audited result", async () => {
    const dir = realpathSync(tempDir());
    mkdirSync(join(dir, "a"));
    mkdirSync(join(dir, "b"));
    const link = join(dir, "link");
    symlinkSync(join(dir, "a"), link);
    const f = await fixture({ onRun: () => (rmSync(link), symlinkSync(join(dir, "b"), link)) });
    expect(await codeOf(f.gate.run({ actor, argv: ["ls", link], grants: [`files.read:${link}`] }, sink))).toBe("denied");
    const [decision, result] = [...readEntries(f.auditDir)];
    expect(decision?.decision?.kind).toBe("allow");
    expect(decision?.request).toMatchObject({ mounts: [{ source: join(dir, "a"), target: link, mode: "ro" }] });
    expect(result?.result?.error).toContain("symlink changed");
  });
});

describe("gate and lockdown races", () => {
  test("gate: a runtime failure while another process engages lockdown is reported as lockdown, not as a broken runtime", async () => {
    const dir = tempDir();
    await initAuditDir(join(dir, "audit"));
    const lockdown = new LockdownStore(join(dir, "lockdown.json"));
    const runtime: SandboxRuntime = {
      ...createDockerRuntime(),
      name: "docker",
      // What a self-test container killed by another process's lockdown looks like.
      run: async () => {
        lockdown.write({ active: true, reason: "panic" });
        throw new AegisError("unavailable", "runtime docker failed its isolation self-test");
      },
    };
    const gate = new Gate({ config: Config.parse({ version: 1, policy: { grants: ["shell.exec"] } }), home: dir, audit: await AuditLog.open(join(dir, "audit")), runtime, lockdown, bus: new EventBus() });
    expect(await codeOf(gate.run({ actor, argv: ["true"] }, sink))).toBe("lockdown");
    const result = [...readEntries(join(dir, "audit"))].find((entry) => entry.type === "result");
    expect(result?.result?.killedBy).toBe("lockdown");
  });
});
