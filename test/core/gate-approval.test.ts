import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ApprovalQueue, type ApprovalRequest } from "../../src/approvals/index.ts";
import { AuditLog, initAuditDir, readEntries } from "../../src/audit/index.ts";
import { Config, EventBus, Gate, LockdownStore, type Approver } from "../../src/core/index.ts";
import { createDockerRuntime, type SandboxRuntime } from "../../src/sandbox/index.ts";
import { requireDocker } from "../helpers/docker.ts";
import { tempDir } from "../helpers/temp-home.ts";
import { failure } from "../helpers/errors.ts";

const actor = { name: "tester", source: "cli" as const };
const asker = { name: "asker", decide: async () => ({ kind: "ask" as const, risk: "high" as const, reasons: [{ rule: "t.ask", message: "needs a human" }] }) };

/** A Gate whose policy always asks, with a real audit log, the real Docker runtime and `approver`. */
async function fixture(approver: (queue: ApprovalQueue) => Approver, approvalTimeoutMs = 5000) {
  const dir = tempDir();
  const auditDir = join(dir, "audit");
  await initAuditDir(auditDir);
  const bus = new EventBus();
  const queue = new ApprovalQueue(bus);
  const real = createDockerRuntime();
  const runs: string[] = [];
  const runtime: SandboxRuntime = { ...real, name: real.name, run: async (spec, io) => (runs.push(spec.runId), real.run(spec, io)) };
  const lockdown = new LockdownStore(join(dir, "lockdown.json"));
  const config = Config.parse({ version: 1, policy: { grants: ["shell.exec"] } });
  const gate = new Gate({ config, home: join(dir, "home"), audit: await AuditLog.open(auditDir), runtime, lockdown, bus, policy: asker, approver: approver(queue), approvalTimeoutMs });
  const entries = () => [...readEntries(auditDir)];
  return { gate, queue, runs, lockdown, entries, bus };
}

/** Answers every request as soon as it is queued. */
function answering(choice: "approve" | "deny", tamper?: (request: ApprovalRequest) => ApprovalRequest): (queue: ApprovalQueue) => Approver {
  return (queue) => ({
    request(request, signal) {
      const waiting = queue.request(request, signal);
      const shown = tamper ? tamper(request) : request;
      queueMicrotask(() => {
        try {
          queue.resolve(shown.id, shown.requestHash, choice, "alice", "console");
        } catch {
          // A refused answer leaves the request pending until it expires.
        }
      });
      return waiting;
    },
  });
}

const sink = { stdout: () => {}, stderr: () => {} };

describe("gate approvals", () => {
  beforeAll(requireDocker);

  test("gate approvals: an approved ask runs, with decision, approval and result audited in that order", async () => {
    const f = await fixture(answering("approve"));
    const outcome = await f.gate.run({ actor, argv: ["echo", "ok"] }, sink);
    expect(outcome.exitCode).toBe(0);
    const [decision, approval, result] = f.entries();
    expect([decision?.type, approval?.type, result?.type]).toEqual(["decision", "approval", "result"]);
    expect(decision?.decision?.kind).toBe("ask");
    expect(approval).toMatchObject({ actor: { name: "alice", source: "tui" }, requestHash: decision?.requestHash, approval: { outcome: "approved", by: "alice", via: "console", scope: "once" } });
    expect(approval?.decision).toMatchObject({ kind: "allow", approvedBy: "alice" });
  });

  test("gate approvals: a person's deny is exit-77 material, audited, and nothing runs", async () => {
    const f = await fixture(answering("deny"));
    const error = await failure(f.gate.run({ actor, argv: ["echo", "no"] }, sink));
    expect(error.code).toBe("denied");
    expect(error.message).toContain("denied by alice via console");
    expect(f.runs).toEqual([]);
    expect(f.entries().map((e) => [e.type, e.decision?.kind])).toEqual([["decision", "ask"], ["approval", "deny"]]);
  });

  test("gate approvals: an approval of a different (modified) request never opens this one", async () => {
    const f = await fixture(answering("approve", (r) => ({ ...r, requestHash: "e".repeat(64) })), 300);
    const error = await failure(f.gate.run({ actor, argv: ["echo", "x"] }, sink));
    expect(error.message).toContain("approval.expired");
    expect(f.runs).toEqual([]);
    // An approver that answers for another request is refused too, even if it claims "approved".
    const liar = await fixture(() => ({ request: async (r) => ({ id: r.id, requestHash: "d".repeat(64), outcome: "approved", by: "mallory", via: "api", scope: "once", at: new Date().toISOString() }) }));
    expect((await failure(liar.gate.run({ actor, argv: ["echo", "x"] }, sink))).message).toContain("approval.mismatch");
    expect(liar.runs).toEqual([]);
  });

  test("gate approvals: nobody answering means denied at the timeout, with how to approve", async () => {
    const f = await fixture((queue) => queue, 200);
    const error = await failure(f.gate.run({ actor, argv: ["echo", "late"] }, sink));
    expect(error.code).toBe("denied");
    expect(error.message).toContain("[approval.expired]");
    expect(error.hint).toContain("aegisclaw approvals approve");
    expect(f.entries().at(-1)?.approval).toMatchObject({ outcome: "expired", via: "timeout" });
    expect(f.runs).toEqual([]);
  });

  test("gate approvals: lockdown while waiting withdraws the request (code lockdown), and nothing runs", async () => {
    const f = await fixture((queue) => queue);
    const running = failure(f.gate.run({ actor, argv: ["echo", "x"] }, sink));
    await Bun.sleep(50);
    expect(f.queue.list()).toHaveLength(1);
    f.lockdown.write({ active: true, reason: "test", since: new Date().toISOString(), actor: "t" });
    expect((await running).code).toBe("lockdown");
    expect(f.queue.list()).toEqual([]);
    expect(f.runs).toEqual([]);
    expect(f.entries().at(-1)?.approval).toMatchObject({ outcome: "denied", by: "lockdown", via: "system" });
  });

  test("gate approvals: the requester cancelling while it waits withdraws the request", async () => {
    const f = await fixture((queue) => queue);
    const cancel = new AbortController();
    const running = failure(f.gate.run({ actor, argv: ["echo", "x"] }, { ...sink, signal: cancel.signal }));
    await Bun.sleep(20);
    cancel.abort();
    expect((await running).code).toBe("denied");
    expect(f.runs).toEqual([]);
  });
});
