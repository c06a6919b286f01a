import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readEntries } from "../../src/audit/index.ts";
import { openClawConfigPath } from "../../src/adapters/openclaw/config.ts";
import { ToolCallLedger } from "../../src/server/openclaw-ledger.ts";
import { body, eventually, startFixture, type ServerFixture } from "./helpers.ts";

type Verdict = { verdict: string; id: string; requestHash: string; lockdown: boolean; reasons: Array<{ rule: string; message: string }>; approval?: { outcome: string; by: string; via: string } };
type Pending = { id: string; requestHash: string; argv: string[] };

/** Grants for OpenClaw's tool calls, in the home's adapters/openclaw.yaml. */
function writeAdapterConfig(f: ServerFixture, yaml: string): void {
  const path = openClawConfigPath(f.home);
  mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
  writeFileSync(path, yaml, { mode: 0o600 });
}

// config.yaml of both templates grants shell.exec already; tool.call:session_status only comes from here.
const GRANTS = "grants:\n  - shell.exec:echo\n  - tool.call:session_status\n";
const sessionStatus = { toolName: "session_status", params: {} };
const echo = { toolName: "exec", params: { command: "echo hi" } };
const auditSize = (f: ServerFixture) => [...readEntries(f.app.layout.audit)].length;

describe("server OpenClaw tool calls", () => {
  // permissive: granted scopes are allowed even at high risk (every host tool call is high).
  let permissive: ServerFixture;
  // standard: a granted high-risk scope asks a person.
  let standard: ServerFixture;
  beforeAll(async () => {
    permissive = await startFixture({ template: "permissive" });
    standard = await startFixture({ template: "standard", approvalsTimeout: "20s" });
    for (const f of [permissive, standard]) writeAdapterConfig(f, GRANTS);
  });
  afterAll(async () => {
    await permissive?.stop();
    await standard?.stop();
  });

  const toolCall = (f: ServerFixture, json: unknown, as: "viewer" | "operator" | "admin" | "none" = "operator", init: RequestInit = {}) =>
    f.call("/api/v1/openclaw/tool-calls", { as, method: "POST", json, ...init });
  const report = (f: ServerFixture, id: string, json: unknown, init: RequestInit & { as?: "operator" | "admin" } = {}) =>
    f.call(`/api/v1/openclaw/tool-calls/${encodeURIComponent(id)}/result`, { as: "operator", method: "POST", json, ...init });
  const pending = async (f: ServerFixture) => (await body(await f.call("/api/v1/approvals", { as: "viewer" }))).pending as Pending[];

  test("openclaw tool calls: a granted exec is 200 allow, audited with source openclaw, executing on the OpenClaw host, with OpenClaw's ids", async () => {
    const response = await toolCall(permissive, { ...echo, toolCallId: "call_1", runId: "run-1", agentId: "main", sessionKey: "agent:main:t1", sessionId: "t1", requester: { channel: "webchat", senderId: "user-42", senderIsOwner: true } });
    expect(response.status).toBe(200);
    const verdict = (await body(response)) as Verdict;
    expect(verdict).toMatchObject({ verdict: "allow", lockdown: false });
    const entries = [...readEntries(permissive.app.layout.audit, { runId: verdict.id })];
    expect(entries.map((entry) => entry.type)).toEqual(["decision"]);
    expect(entries[0]).toMatchObject({
      actor: { name: "otto", source: "openclaw" },
      requestHash: verdict.requestHash,
      request: { adapter: "openclaw", tool: "exec", argv: ["echo", "hi"], requested: ["shell.exec:echo"], context: { agentId: "main", sessionKey: "agent:main:t1", sessionId: "t1", runId: "run-1", toolCallId: "call_1", channel: "webchat", senderIsOwner: true } },
      decision: { kind: "allow" },
    });
    expect(String(entries[0]?.request?.execution)).toContain("openclaw host");
    expect(JSON.stringify(entries[0])).not.toContain("user-42");
  });

  test("openclaw tool calls: an ungranted call is 403 with the policy's reasons; the body is the verdict", async () => {
    const response = await toolCall(permissive, { toolName: "read", params: { path: "/etc/shadow" } });
    expect(response.status).toBe(403);
    const verdict = (await body(response)) as Verdict;
    expect(verdict).toMatchObject({ verdict: "deny", lockdown: false });
    expect(verdict.reasons.map((reason) => reason.rule)).toContain("scope.not-granted");
    expect(verdict.reasons.map((reason) => reason.message).join(" ")).toContain("files.read:/etc/shadow");
    expect([...readEntries(permissive.app.layout.audit, { runId: verdict.id })][0]?.decision?.kind).toBe("deny");
  });

  test("openclaw tool calls: under lockdown even a granted call is 423 (verdict with lockdown true)", async () => {
    permissive.app.lockdown.write({ active: true, reason: "openclaw test", since: new Date().toISOString(), actor: "test" });
    try {
      const response = await toolCall(permissive, echo);
      expect(response.status).toBe(423);
      expect(await body(response)).toMatchObject({ verdict: "deny", lockdown: true, reasons: [{ rule: "lockdown" }] });
    } finally {
      permissive.app.lockdown.write({ active: false, since: new Date().toISOString(), actor: "test" });
    }
  });

  test("openclaw tool calls: an ask holds the request; it is in GET /approvals, and an approval over the API makes it 200 allow", async () => {
    const waiting = toolCall(standard, { ...echo, toolCallId: "call_ask" });
    const request = await eventually(async () => (await pending(standard)).find((p) => p.argv.join(" ") === "echo hi"), 5000, "the ask");
    const approved = await standard.call(`/api/v1/approvals/${request.id}/approve`, { as: "admin", method: "POST", json: { requestHash: request.requestHash } });
    expect(approved.status).toBe(200);
    const response = await waiting;
    expect(response.status).toBe(200);
    const verdict = (await body(response)) as Verdict;
    expect(verdict).toMatchObject({ verdict: "allow", id: request.id, approval: { outcome: "approved", by: "ada", via: "api" } });
    expect([...readEntries(standard.app.layout.audit, { runId: request.id })].map((entry) => entry.type)).toEqual(["decision", "approval"]);
    // The approved call may report its result like any allowed one.
    expect((await report(standard, verdict.id, { requestHash: verdict.requestHash, status: "completed", exitCode: 0 })).status).toBe(201);
  });

  test("openclaw tool calls: a plugin that disconnects while its ask waits withdraws it (audited as denied by the system)", async () => {
    const abort = new AbortController();
    const waiting = toolCall(standard, { toolName: "exec", params: { command: "echo gone" } }, "operator", { signal: abort.signal }).catch(() => undefined);
    const request = await eventually(async () => (await pending(standard)).find((p) => p.argv.join(" ") === "echo gone"), 5000, "the ask");
    abort.abort();
    await waiting;
    const approval = await eventually(() => [...readEntries(standard.app.layout.audit, { runId: request.id, type: "approval" })][0], 3000, "the withdrawal");
    expect(approval.approval).toMatchObject({ outcome: "denied", via: "system" });
    expect((await pending(standard)).find((p) => p.id === request.id)).toBeUndefined();
  });

  test("openclaw tool calls: bad bodies and calls the tool map cannot read are 400, and nothing is recorded", async () => {
    const before = auditSize(permissive);
    const bad: Array<[unknown, string]> = [
      [{ ...echo, extra: 1 }, "invalid-request"],
      [{ toolName: "exec", params: ["echo", "hi"] }, "invalid-request"],
      [{ toolName: "rm -rf /", params: {} }, "invalid-request"],
      [{ toolName: "exec" }, "invalid-request"],
      [{ ...echo, requester: { channel: "webchat", accountId: "x" } }, "invalid-request"],
      [{ ...echo, toolCallId: "" }, "invalid-request"],
      [{ toolName: "exec", params: {} }, "bad-input"],
      [{ toolName: "read", params: { path: "relative/without/workspace" } }, "bad-input"],
    ];
    for (const [json, code] of bad) {
      const response = await toolCall(permissive, json);
      const text = await response.text();
      expect(response.status, text).toBe(400);
      expect((JSON.parse(text) as { error: { code: string } }).error.code, text).toBe(code);
    }
    expect(auditSize(permissive)).toBe(before);
  });

  test("openclaw tool calls: an invalid adapters/openclaw.yaml refuses calls (503 adapter-config-invalid, naming the field); nothing is recorded", async () => {
    const before = auditSize(permissive);
    writeAdapterConfig(permissive, "grants: [shell.exec:echo]\ngrant: typo\n");
    try {
      const response = await toolCall(permissive, echo);
      expect(response.status).toBe(503);
      const error = (await body(response)).error as { code: string; message: string };
      expect(error.code).toBe("adapter-config-invalid");
      expect(error.message).toContain("grant");
    } finally {
      writeAdapterConfig(permissive, GRANTS);
    }
    expect(auditSize(permissive)).toBe(before);
    // The adapter's grants apply from the next call on; a missing file is the defaults (no grants):
    // a call only the adapter granted is then denied, not refused.
    expect((await toolCall(permissive, sessionStatus)).status).toBe(200);
    rmSync(openClawConfigPath(permissive.home));
    try {
      const response = await toolCall(permissive, sessionStatus);
      expect(response.status).toBe(403);
      expect(((await body(response)) as Verdict).reasons.map((reason) => reason.message).join(" ")).toContain("tool.call:session_status");
    } finally {
      writeAdapterConfig(permissive, GRANTS);
    }
  });

  test("openclaw tool calls: a viewer is refused (403), no token is 401; both record nothing", async () => {
    const before = auditSize(permissive);
    const viewer = await toolCall(permissive, echo, "viewer");
    expect(viewer.status).toBe(403);
    expect(((await body(viewer)).error as { code: string }).code).toBe("forbidden");
    expect((await toolCall(permissive, echo, "none")).status).toBe(401);
    expect((await report(permissive, "r-none", { requestHash: "0".repeat(64), status: "completed" }, { headers: { Authorization: `Bearer ${permissive.tokens.viewer}` } })).status).toBe(403);
    expect(auditSize(permissive)).toBe(before);
  });

  test("openclaw tool calls: a result is recorded once (201, audit result entry), then 409; unknown ids, other tokens and denied calls are 404; a wrong hash is 409", async () => {
    const verdict = (await body(await toolCall(permissive, { ...echo, toolCallId: "call_result" }))) as Verdict;
    expect(verdict.verdict).toBe("allow");
    const other = (await permissive.store.create("operator", "other-plugin")).token;
    const asOther = await report(permissive, verdict.id, { requestHash: verdict.requestHash, status: "completed" }, { headers: { Authorization: `Bearer ${other}` } });
    expect(asOther.status).toBe(404);
    const mismatch = await report(permissive, verdict.id, { requestHash: "a".repeat(64), status: "completed" });
    expect(mismatch.status).toBe(409);
    expect(((await body(mismatch)).error as { code: string }).code).toBe("hash-mismatch");
    expect((await report(permissive, verdict.id, { requestHash: verdict.requestHash, status: "exploded" })).status).toBe(400);

    const recorded = await report(permissive, verdict.id, { requestHash: verdict.requestHash, status: "failed", exitCode: 3, durationMs: 41.5, error: "exit code 3" });
    expect(recorded.status).toBe(201);
    const { seq } = (await body(recorded)) as { seq: number };
    const entries = [...readEntries(permissive.app.layout.audit, { runId: verdict.id })];
    expect(entries.map((entry) => entry.type)).toEqual(["decision", "result"]);
    expect(entries[1]).toMatchObject({ seq, actor: { name: "otto", source: "openclaw" }, requestHash: verdict.requestHash, result: { exitCode: 3, durationMs: 41.5, error: "exit code 3" } });
    expect(String(entries[1]?.note)).toContain("failed");

    const again = await report(permissive, verdict.id, { requestHash: verdict.requestHash, status: "completed" });
    expect(again.status).toBe(409);
    expect(((await body(again)).error as { code: string }).code).toBe("conflict");
    expect((await report(permissive, "r-unknown", { requestHash: verdict.requestHash, status: "completed" })).status).toBe(404);
    const denied = (await body(await toolCall(permissive, { toolName: "read", params: { path: "/etc/shadow" } }))) as Verdict;
    expect((await report(permissive, denied.id, { requestHash: denied.requestHash, status: "completed" })).status).toBe(404);
    expect([...readEntries(permissive.app.layout.audit, { runId: denied.id })].map((entry) => entry.type)).toEqual(["decision"]);
  });

  test("openclaw tool calls: decisions count in the policy metrics like any other", async () => {
    const metrics = await (await permissive.call("/metrics", { as: "viewer" })).text();
    expect(metrics).toMatch(/aegisclaw_policy_decisions_total\{decision="allow"\} [1-9]/);
    expect(metrics).toMatch(/aegisclaw_policy_decisions_total\{decision="deny"\} [1-9]/);
  });
});

describe("openclaw tool-call ledger", () => {
  test("openclaw ledger: keeps the newest ids only; a forgotten id is 404, a released claim may be reported again", () => {
    const ledger = new ToolCallLedger(3);
    for (const id of ["a", "b", "c", "d"]) ledger.remember(id, "h".repeat(64), "otto");
    expect(ledger.size).toBe(3);
    expect(() => ledger.claim("a", "otto", "h".repeat(64))).toThrow(/no tool call a/);
    ledger.claim("d", "otto", "h".repeat(64));
    expect(() => ledger.claim("d", "otto", "h".repeat(64))).toThrow(/already reported/);
    ledger.release("d");
    ledger.claim("d", "otto", "h".repeat(64));
    expect(() => ledger.claim("b", "otto", "x".repeat(64))).toThrow(/does not match/);
    expect(() => ledger.claim("b", "someone-else", "h".repeat(64))).toThrow(/no tool call b/);
  });
});
