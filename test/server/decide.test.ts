import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readEntries } from "../../src/audit/index.ts";
import type { EventEnvelope } from "../../src/core/index.ts";
import { body, eventually, startFixture, type ServerFixture } from "./helpers.ts";

type Verdict = { verdict: string; id: string; requestHash: string; lockdown: boolean; reasons: Array<{ rule: string; message: string }>; approval?: { outcome: string; by: string; via: string } };

describe("server decide: a verdict without execution", () => {
  let standard: ServerFixture;
  let strict: ServerFixture;
  const started: string[] = [];
  beforeAll(async () => {
    standard = await startFixture();
    // Asks expire after 2 s here, so the "nobody answers" case is quick.
    strict = await startFixture({ template: "strict", approvalsTimeout: "2s" });
    for (const f of [standard, strict]) f.app.bus.subscribe((event: EventEnvelope) => event.type === "run.started" && started.push(event.type));
  });
  afterAll(async () => {
    await standard?.stop();
    await strict?.stop();
  });

  const decide = (f: ServerFixture, json: unknown) => f.call("/api/v1/decide", { as: "operator", method: "POST", json });

  test("decide: allow is 200 with the policy's reasons; the decision is audited as decision-only and nothing runs", async () => {
    const response = await decide(standard, { argv: ["echo", "hi"] });
    expect(response.status).toBe(200);
    const verdict = (await body(response)) as Verdict;
    expect(verdict).toMatchObject({ verdict: "allow", lockdown: false });
    expect(verdict.reasons.length).toBeGreaterThan(0);
    const entries = [...readEntries(standard.app.layout.audit, { runId: verdict.id })];
    expect(entries.map((e) => e.type)).toEqual(["decision"]);
    expect(entries[0]).toMatchObject({ actor: { name: "otto", source: "api" }, request: { execution: "none (decision only)" } });
    expect(started).toEqual([]);
  });

  test("decide: a policy deny is 403 and the body is the verdict with the reasons", async () => {
    const response = await decide(strict, { argv: ["echo", "no grant"] });
    expect(response.status).toBe(403);
    const verdict = (await body(response)) as Verdict;
    expect(verdict.verdict).toBe("deny");
    expect(verdict.reasons.map((r) => r.rule).join(" ")).toMatch(/not-granted|no-scope|scope/);
  });

  test("decide: the token that asked cannot approve its own request (403 self-approval); another token can", async () => {
    const waiting = decide(strict, { argv: ["echo", "self"], scopes: ["shell.exec"] });
    const request = await eventually(async () => ((await body(await strict.call("/api/v1/approvals", { as: "viewer" }))).pending as Array<{ id: string; requestHash: string; argv: string[] }>).find((p) => p.argv.join(" ") === "echo self"), 2000, "the ask");
    const own = await strict.call(`/api/v1/approvals/${request.id}/approve`, { as: "operator", method: "POST", json: { requestHash: request.requestHash } });
    expect(own.status).toBe(403);
    expect(await body(own)).toMatchObject({ error: { code: "self-approval" } });
    expect(((await body(await strict.call("/api/v1/approvals", { as: "viewer" }))).pending as Array<{ id: string }>).map((p) => p.id)).toContain(request.id);
    expect((await strict.call(`/api/v1/approvals/${request.id}/approve`, { as: "admin", method: "POST", json: { requestHash: request.requestHash } })).status).toBe(200);
    expect((await waiting).status).toBe(200);
  });

  test("decide: ask waits for a person; an approval over the API makes it allow, recorded with who approved", async () => {
    const waiting = decide(strict, { argv: ["echo", "ask"], scopes: ["shell.exec"] });
    const request = await eventually(async () => ((await body(await strict.call("/api/v1/approvals", { as: "viewer" }))).pending as Array<{ id: string; requestHash: string }>)[0], 2000, "the ask");
    const approved = await strict.call(`/api/v1/approvals/${request.id}/approve`, { as: "admin", method: "POST", json: { requestHash: request.requestHash } });
    expect(approved.status).toBe(200);
    const response = await waiting;
    expect(response.status).toBe(200);
    const verdict = (await body(response)) as Verdict;
    expect(verdict).toMatchObject({ verdict: "allow", id: request.id, approval: { outcome: "approved", by: "ada", via: "api" } });
    expect([...readEntries(strict.app.layout.audit, { runId: request.id })].map((e) => e.type)).toEqual(["decision", "approval"]);
    expect(started).toEqual([]);
  });

  test("decide: an ask nobody answers expires into a 403 deny (approval.expired), audited", async () => {
    const response = await decide(strict, { argv: ["echo", "nobody"], scopes: ["shell.exec"] });
    expect(response.status).toBe(403);
    const verdict = (await body(response)) as Verdict;
    expect(verdict).toMatchObject({ verdict: "deny", approval: { outcome: "expired", via: "timeout" } });
    expect(verdict.reasons.at(-1)?.rule).toBe("approval.expired");
    const approval = [...readEntries(strict.app.layout.audit, { runId: verdict.id, type: "approval" })][0];
    expect(approval?.approval?.outcome).toBe("expired");
  });

  test("decide: an agent that disconnects while its ask waits withdraws it (audited as denied)", async () => {
    const abort = new AbortController();
    const waiting = strict.call("/api/v1/decide", { as: "operator", method: "POST", json: { argv: ["echo", "gone"], scopes: ["shell.exec"] }, signal: abort.signal }).catch(() => undefined);
    const request = await eventually(async () => ((await body(await strict.call("/api/v1/approvals", { as: "viewer" }))).pending as Array<{ id: string }>)[0], 2000, "the ask");
    abort.abort();
    await waiting;
    const approval = await eventually(() => [...readEntries(strict.app.layout.audit, { runId: request.id, type: "approval" })][0], 1500, "the withdrawal");
    expect(approval.approval).toMatchObject({ outcome: "denied", via: "system" });
  });

  test("decide: under lockdown the verdict is deny with lockdown true (423)", async () => {
    standard.app.lockdown.write({ active: true, reason: "decide test", since: new Date().toISOString(), actor: "test" });
    try {
      const response = await decide(standard, { argv: ["true"] });
      expect(response.status).toBe(423);
      expect(await body(response)).toMatchObject({ verdict: "deny", lockdown: true, reasons: [{ rule: "lockdown" }] });
    } finally {
      standard.app.lockdown.write({ active: false, since: new Date().toISOString(), actor: "test" });
    }
  });

  test("decide: a viewer may not ask for verdicts (they are audited decisions); bad input is 400", async () => {
    expect((await standard.call("/api/v1/decide", { as: "viewer", method: "POST", json: { argv: ["true"] } })).status).toBe(403);
    expect((await decide(standard, { argv: ["true"], scopes: ["files.read:/proc"] })).status).toBe(400);
  });
});
