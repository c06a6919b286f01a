import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ApprovalQueue } from "../../src/approvals/index.ts";
import { AuditLog, initAuditDir, readEntries } from "../../src/audit/index.ts";
import { Config, EventBus, Gate, LockdownStore, type Approver } from "../../src/core/index.ts";
import type { PolicyEngine, PolicyInput } from "../../src/policy/index.ts";
import type { RunSecretSource } from "../../src/secrets/index.ts";
import type { SandboxRuntime } from "../../src/sandbox/index.ts";
import { failure } from "../helpers/errors.ts";
import { tempDir } from "../helpers/temp-home.ts";

const actor = { name: "openclaw-plugin", source: "openclaw" as const };
/** Tool calls run on the agent's host: the Gate must never start a sandbox for one. */
const noSandbox: SandboxRuntime = { name: "docker", run: async () => { throw new Error("a tool call must not run a sandbox"); } } as unknown as SandboxRuntime;

async function fixture(options: { grants?: string[]; policy?: PolicyEngine; approver?: (queue: ApprovalQueue) => Approver; secrets?: RunSecretSource } = {}) {
  const dir = tempDir();
  const auditDir = join(dir, "audit");
  await initAuditDir(auditDir);
  const bus = new EventBus();
  const queue = new ApprovalQueue(bus);
  const lockdown = new LockdownStore(join(dir, "lockdown.json"));
  const config = Config.parse({ version: 1, policy: { grants: options.grants ?? [] } });
  const gate = new Gate({
    config, home: join(dir, "home"), audit: await AuditLog.open(auditDir), runtime: noSandbox, lockdown, bus,
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.approver ? { approver: options.approver(queue) } : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
    approvalTimeoutMs: 2000,
  });
  return { gate, queue, lockdown, entries: () => [...readEntries(auditDir)] };
}

const call = (overrides: Record<string, unknown> = {}) => ({
  actor, adapter: "openclaw" as const, tool: "exec", argv: ["echo", "hi"], requested: ["shell.exec:echo"], context: { agentId: "main", toolCallId: "call_1" }, ...overrides,
});

describe("gate tool calls", () => {
  test("gate tool calls: a granted call is allowed and audited as executing on the agent's host", async () => {
    const f = await fixture();
    const verdict = await f.gate.decideToolCall(call({ grants: ["shell.exec:echo"] }));
    expect(verdict).toMatchObject({ verdict: "allow", lockdown: false });
    const [decision] = f.entries();
    expect(decision).toMatchObject({
      type: "decision", actor, runId: verdict.id, requestHash: verdict.requestHash,
      request: { adapter: "openclaw", tool: "exec", argv: ["echo", "hi"], requested: ["shell.exec:echo"], context: { agentId: "main", toolCallId: "call_1" } },
      decision: { kind: "allow" },
    });
    expect(String(decision?.request?.execution)).toContain("openclaw host");
  });

  test("gate tool calls: the agent's request never grants itself anything", async () => {
    const f = await fixture();
    const verdict = await f.gate.decideToolCall(call({ tool: "read", argv: ["read", "/etc/shadow"], requested: ["files.read:/etc/shadow"] }));
    expect(verdict.verdict).toBe("deny");
    expect(verdict.reasons.map((reason) => reason.message).join(" ")).toContain("files.read:/etc/shadow");
    expect(f.entries()[0]?.decision?.kind).toBe("deny");
  });

  test("gate tool calls: only the adapter's grants count (config.yaml's are for the sandbox)", async () => {
    const f = await fixture({ grants: ["shell.exec"] });
    const verdict = await f.gate.decideToolCall(call());
    expect(verdict.verdict).toBe("deny");
    expect(verdict.reasons[0]?.rule).toBe("builtin.scope-missing");
  });

  test("gate tool calls: every scope is at least high risk on the host", async () => {
    const seen: PolicyInput[] = [];
    const recording: PolicyEngine = { name: "recording", decide: async (input) => (seen.push(input), { kind: "allow", risk: "low", reasons: [{ rule: "t.allow", message: "ok" }] }) };
    const f = await fixture({ policy: recording });
    await f.gate.decideToolCall(call({ grants: ["shell.exec"] }));
    expect(seen[0]).toMatchObject({ action: "tool.call", skill: null, runtime: "openclaw-host" });
    expect(seen[0]?.requested).toEqual([expect.objectContaining({ scope: "shell.exec:echo", granted: true, grantedBy: "shell.exec", risk: "high" })]);
    expect(seen[0]?.granted.map((grant) => grant.scope)).toEqual(["shell.exec"]);
  });

  test("gate tool calls: lockdown denies, whatever the grants", async () => {
    const f = await fixture();
    f.lockdown.write({ active: true, reason: "panic test" });
    const verdict = await f.gate.decideToolCall(call({ grants: ["shell.exec"] }));
    expect(verdict).toMatchObject({ verdict: "deny", lockdown: true });
    expect(verdict.reasons[0]?.rule).toBe("lockdown");
  });

  test("gate tool calls: an ask waits for a person bound to this call; approve allows, deny refuses, both audited", async () => {
    const asker: PolicyEngine = { name: "asker", decide: async () => ({ kind: "ask", risk: "high", reasons: [{ rule: "t.ask", message: "needs a human" }] }) };
    const answering = (choice: "approve" | "deny") => (queue: ApprovalQueue): Approver => ({
      request(request, signal) {
        const waiting = queue.request(request, signal);
        queueMicrotask(() => queue.resolve(request.id, request.requestHash, choice, "alice", "api"));
        return waiting;
      },
    });
    const approved = await fixture({ policy: asker, approver: answering("approve") });
    const yes = await approved.gate.decideToolCall(call());
    expect(yes).toMatchObject({ verdict: "allow", approval: { outcome: "approved", by: "alice", via: "api" } });
    expect(approved.entries().map((entry) => entry.type)).toEqual(["decision", "approval"]);
    const denied = await fixture({ policy: asker, approver: answering("deny") });
    const no = await denied.gate.decideToolCall(call());
    expect(no.verdict).toBe("deny");
    expect(no.reasons.at(-1)?.rule).toBe("approval.denied");
  });

  test("gate tool calls: the host's report becomes the result entry; a malformed report is bad input", async () => {
    const f = await fixture();
    const verdict = await f.gate.decideToolCall(call({ grants: ["shell.exec"] }));
    const { seq } = await f.gate.recordToolResult({ actor, id: verdict.id, requestHash: verdict.requestHash, result: { status: "completed", exitCode: 0, durationMs: 12 } });
    const result = f.entries().find((entry) => entry.seq === seq);
    expect(result).toMatchObject({ type: "result", runId: verdict.id, requestHash: verdict.requestHash, result: { exitCode: 0, durationMs: 12 } });
    expect(result?.note).toContain("completed");
    const error = await failure(f.gate.recordToolResult({ actor, id: verdict.id, requestHash: verdict.requestHash, result: { status: "exploded" } as never }));
    expect(error.code).toBe("bad-input");
  });

  test("gate tool calls: a stored secret in the host's error text is redacted in the result entry, as are token formats", async () => {
    const canary = "tool-error-canary-7f3a9c2e51";
    const secrets: RunSecretSource = { backend: "age", check: async () => {}, read: async () => new Map(), known: async () => [{ name: "DB_PASSWORD", value: canary }] };
    const f = await fixture({ grants: ["shell.exec"], secrets });
    const verdict = await f.gate.decideToolCall(call());
    const error = `connect failed with password ${canary} (token ghp_${"a".repeat(36)})`;
    const { seq } = await f.gate.recordToolResult({ actor, id: verdict.id, requestHash: verdict.requestHash, result: { status: "failed", error } });
    const text = JSON.stringify(f.entries().find((entry) => entry.seq === seq));
    expect(text).not.toContain(canary);
    expect(text).toContain("[REDACTED:secret:DB_PASSWORD]");
    expect(text).not.toContain("a".repeat(36));
  });

  test("gate tool calls: the parameters' digest is part of what an approval binds", async () => {
    const f = await fixture();
    const one = await f.gate.decideToolCall(call({ tool: "write", argv: ["write", "/tmp/x"], requested: ["files.write:/tmp/x"], paramsDigest: "a".repeat(64) }));
    const two = await f.gate.decideToolCall(call({ tool: "write", argv: ["write", "/tmp/x"], requested: ["files.write:/tmp/x"], paramsDigest: "b".repeat(64) }));
    expect(one.requestHash).not.toBe(two.requestHash);
    expect(f.entries()[0]?.request?.paramsDigest).toBe("a".repeat(64));
  });

  test("gate tool calls: a malformed call is bad input and records nothing", async () => {
    const f = await fixture({ grants: ["shell.exec"] });
    for (const bad of [call({ tool: "rm -rf" }), call({ argv: [] }), call({ requested: ["files.read:relative"] }), call({ extra: 1 }), call({ adapter: "other" }), call({ paramsDigest: "xyz" })]) {
      expect((await failure(f.gate.decideToolCall(bad as never))).code).toBe("bad-input");
    }
    expect(f.entries()).toEqual([]);
  });
});
