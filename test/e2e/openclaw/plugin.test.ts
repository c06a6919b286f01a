/**
 * The real OpenClaw gateway, offline (fake model), with AegisClaw's plugin: every tool call is
 * decided by `aegisclaw serve` (policy, a person's approval, lockdown) and audited; AegisClaw
 * down means blocked. Each scenario asserts what OpenClaw did (the tool result the model got
 * back, files on disk) and what AegisClaw recorded.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { killSession, tmux, waitForScreen } from "../../helpers/tmux.ts";
import { MAIN, type AuditEntry } from "./aegis.ts";
import { FINAL_PREFIX } from "./fake-model.ts";
import { startHarness, type Harness } from "./harness.ts";
import { waitFor } from "./processes.ts";

setDefaultTimeout(120_000);

let h: Harness;
const tag = () => crypto.getRandomValues(new Uint8Array(4)).toHex();

beforeAll(async () => {
  h = await startHarness({ template: "permissive", grants: ["shell.exec:echo", "shell.exec:touch"] });
}, 180_000);

afterAll(async () => {
  await h?.stop();
});

/** The entries of AegisClaw's run id for the OpenClaw call whose argv is `argv` (waits for `types`). */
async function entriesFor(argv: string[], types: string[]): Promise<AuditEntry[]> {
  return waitFor(`audit entries ${types.join(",")} for ${argv.join(" ")}`, async () => {
    const entries = await h.aegis.logs();
    const decision = entries.find((e) => e.type === "decision" && e.actor?.source === "openclaw" && JSON.stringify(e.request?.argv) === JSON.stringify(argv));
    if (!decision) return undefined;
    const mine = entries.filter((e) => e.runId === decision.runId);
    return JSON.stringify(mine.map((e) => e.type)) === JSON.stringify(types) ? mine : undefined;
  }, 15_000);
}

describe("OpenClaw plugin e2e (real OpenClaw gateway, fake model, aegisclaw serve)", () => {
  test("openclaw plugin: an allowed exec runs on OpenClaw's host and is audited with its decision and result", async () => {
    const word = `aegis-allowed-${tag()}`;
    const { toolResult, turn } = await h.time("allowed exec", () => h.call("exec", { command: `echo ${word}` }));
    expect(toolResult.trim()).toBe(word);
    expect(turn.text).toBe(`${FINAL_PREFIX}${toolResult}`);
    const [decision, result] = await entriesFor(["echo", word], ["decision", "result"]);
    expect(decision).toMatchObject({ actor: { name: "openclaw-plugin", source: "openclaw" }, decision: { kind: "allow" } });
    expect(decision?.request).toMatchObject({ tool: "exec", requested: ["shell.exec:echo"], execution: expect.stringContaining("openclaw host") });
    expect(decision?.request?.context).toMatchObject({ agentId: "main", sessionKey: expect.stringContaining("e2e-") });
    expect(result).toMatchObject({ actor: { source: "openclaw" }, requestHash: decision?.requestHash, result: { exitCode: 0 } });
    expect(String(result?.note)).toContain("completed");
  });

  test("openclaw plugin: a call the policy denies is blocked; OpenClaw's tool result carries AegisClaw's reason", async () => {
    const dir = join(h.oc.workspace, `denied-${tag()}`);
    const { toolResult } = await h.time("denied exec", () => h.call("exec", { command: `mkdir ${dir}` }));
    expect(toolResult).toContain("AegisClaw denied exec");
    expect(toolResult).toContain("scope shell.exec:mkdir is not granted");
    expect(toolResult).toContain("[builtin.scope-missing]");
    expect(existsSync(dir)).toBe(false);
    const [decision] = await entriesFor(["mkdir", dir], ["decision"]);
    expect(decision?.decision).toMatchObject({ kind: "deny", reasons: expect.arrayContaining([expect.objectContaining({ rule: "builtin.scope-missing", scope: "shell.exec:mkdir" })]) });
  });

  test("openclaw plugin: with aegisclaw serve stopped the call is blocked (fail closed) and does not run; back up, the same call runs", async () => {
    const marker = join(h.oc.workspace, `fail-closed-${tag()}`);
    await h.aegis.stop();
    try {
      const { toolResult } = await h.time("fail closed", () => h.call("exec", { command: `touch ${marker}` }));
      expect(toolResult).toContain("blocked (fail closed)");
      expect(toolResult).toContain(`AegisClaw unreachable at ${h.aegis.url}`);
      expect(existsSync(marker)).toBe(false);
    } finally {
      await h.aegis.start();
    }
    expect((await h.aegis.logs()).some((e) => JSON.stringify(e.request?.argv ?? []).includes(marker))).toBe(false);
    const { toolResult } = await h.call("exec", { command: `touch ${marker}` });
    expect(toolResult).not.toContain("AegisClaw");
    expect(existsSync(marker)).toBe(true);
  });

  test("openclaw plugin: during lockdown every OpenClaw tool call is blocked with the lockdown reason; after unlock calls run again", async () => {
    const word = `aegis-lockdown-${tag()}`;
    expect((await h.aegis.api("/api/v1/lockdown", { json: { reason: "openclaw e2e" } })).status).toBe(200);
    try {
      const exec = await h.time("lockdown exec", () => h.call("exec", { command: `echo ${word}` }));
      expect(exec.toolResult).toContain("AegisClaw denied exec (lockdown is active)");
      expect(exec.toolResult).toContain("[lockdown]");
      expect(exec.toolResult).not.toContain(`\n${word}`);
      const other = await h.call("session_status", {});
      expect(other.toolResult).toContain("AegisClaw denied session_status (lockdown is active)");
    } finally {
      expect((await h.aegis.api("/api/v1/unlock", { json: {} })).status).toBe(200);
    }
    const [decision] = await entriesFor(["echo", word], ["decision"]);
    expect(decision?.decision).toMatchObject({ kind: "deny", reasons: expect.arrayContaining([expect.objectContaining({ rule: "lockdown" })]) });
    const types = (await h.aegis.logs()).map((e) => e.type);
    expect(types).toContain("lockdown");
    expect(types).toContain("unlock");
    const after = await h.call("exec", { command: `echo ${word}` });
    expect(after.toolResult.trim()).toBe(word);
  });

  describe("standard template: OpenClaw's host exec is high risk, so it asks a person", () => {
    beforeAll(async () => {
      h.aegis.configure("standard", "30s");
      await h.aegis.start();
    });

    test("openclaw plugin: an ask waits, is listed in GET /api/v1/approvals, is approved through the API and then runs; all of it audited", async () => {
      const word = `aegis-approved-${tag()}`;
      const pending = await h.time("ask approved", async () => {
        const call = h.call("exec", { command: `echo ${word}` });
        const request = await pendingApproval(["echo", word]);
        const approved = await h.aegis.api(`/api/v1/approvals/${request.id}/approve`, { json: { requestHash: request.requestHash } });
        expect(approved.status).toBe(200);
        const { toolResult } = await call;
        expect(toolResult.trim()).toBe(word);
        return request;
      });
      expect(pending.holder).toBe("server");
      const entries = await entriesFor(["echo", word], ["decision", "approval", "result"]);
      expect(entries.map((e) => e.runId)).toEqual([pending.id, pending.id, pending.id]);
      expect(entries[0]?.decision).toMatchObject({ kind: "ask", reasons: [expect.objectContaining({ rule: "standard.high-risk" })] });
      expect(entries[1]?.approval).toMatchObject({ outcome: "approved", by: "e2e-admin", via: "api" });
      expect(entries[2]?.result).toMatchObject({ exitCode: 0 });
    });

    test("openclaw plugin: an ask denied through the API is blocked with the denial as OpenClaw's tool result", async () => {
      const marker = join(h.oc.workspace, `ask-denied-${tag()}`);
      const call = h.call("exec", { command: `touch ${marker}` });
      const request = await pendingApproval(["touch", marker]);
      expect((await h.aegis.api(`/api/v1/approvals/${request.id}/deny`, { json: { requestHash: request.requestHash } })).status).toBe(200);
      const { toolResult } = await call;
      expect(toolResult).toContain("AegisClaw denied exec");
      expect(toolResult).toContain("[approval.denied]");
      expect(existsSync(marker)).toBe(false);
      const entries = await entriesFor(["touch", marker], ["decision", "approval"]);
      expect(entries[1]?.approval).toMatchObject({ outcome: "denied", via: "api" });
    });

    test("openclaw plugin: an ask is approved with `a` in the console (tmux) and runs", async () => {
      const word = `aegis-console-${tag()}`;
      const session = `oc-console-${tag()}`;
      const env = Object.entries(h.aegis.env).flatMap(([name, value]) => ["-e", `${name}=${value}`]);
      tmux("new-session", "-d", "-s", session, "-x", "110", "-y", "30", ...env, `${process.execPath} ${MAIN}; sleep 30`);
      try {
        await waitForScreen(session, "1 Runs", 30_000);
        const { toolResult } = await h.time("ask approved in the console", async () => {
          const call = h.call("exec", { command: `echo ${word}` });
          await waitForScreen(session, "Approvals(1)", 30_000);
          tmux("send-keys", "-t", session, "2");
          const screen = await waitForScreen(session, "Approvals (1 pending)");
          expect(screen).toContain(`echo ${word}`);
          tmux("send-keys", "-t", session, "a");
          return call;
        });
        expect(toolResult.trim()).toBe(word);
      } finally {
        killSession(session);
      }
      const entries = await entriesFor(["echo", word], ["decision", "approval", "result"]);
      expect(entries[1]).toMatchObject({ actor: { source: "tui" }, approval: { outcome: "approved", via: "console" } });
    });

    test("openclaw plugin: an ask nobody answers expires at approvals.timeout and is blocked", async () => {
      h.aegis.configure("standard", "3s");
      await h.aegis.start();
      const marker = join(h.oc.workspace, `ask-expired-${tag()}`);
      const { toolResult } = await h.time("ask expired (3 s)", async () => {
        const call = h.call("exec", { command: `touch ${marker}` });
        await pendingApproval(["touch", marker]);
        return call;
      });
      expect(toolResult).toContain("AegisClaw denied exec");
      expect(toolResult).toContain("[approval.expired]");
      expect(existsSync(marker)).toBe(false);
      const entries = await entriesFor(["touch", marker], ["decision", "approval"]);
      expect(entries[1]?.approval).toMatchObject({ outcome: "expired" });
      expect(await (await h.aegis.api("/api/v1/approvals")).json()).toEqual({ pending: [] });
    });
  });
});

interface Pending {
  id: string;
  requestHash: string;
  argv: string[];
  holder: string;
}

/** Waits until AegisClaw's approval queue holds the request for `argv`. */
async function pendingApproval(argv: string[]): Promise<Pending> {
  return waitFor(`a pending approval for ${argv.join(" ")}`, async () => {
    const response = await h.aegis.api("/api/v1/approvals");
    expect(response.status).toBe(200);
    const { pending } = (await response.json()) as { pending: Pending[] };
    return pending.find((request) => JSON.stringify(request.argv) === JSON.stringify(argv));
  }, 30_000);
}
