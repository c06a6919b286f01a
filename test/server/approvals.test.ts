import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { readEntries } from "../../src/audit/index.ts";
import { requireDocker } from "../helpers/docker.ts";
import { body, eventually, startFixture, type ServerFixture } from "./helpers.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");
type Pending = { id: string; requestHash: string; argv: string[]; holder: string };

describe("server approvals (strict template: every command asks; real Docker)", () => {
  let f: ServerFixture;
  beforeAll(async () => {
    await requireDocker();
    f = await startFixture({ template: "strict" });
  });
  afterAll(() => f?.stop());

  const pending = async () => ((await body(await f.call("/api/v1/approvals", { as: "viewer" }))).pending as Pending[]);
  const answer = (id: string, verb: "approve" | "deny", requestHash: string, as: "viewer" | "operator" = "operator") =>
    f.call(`/api/v1/approvals/${id}/${verb}`, { as, method: "POST", json: { requestHash } });

  test("approvals: a run that asks waits (202); the approval is bound to the hash and recorded as by=<token name> via api", async () => {
    // The agent asks with its own token (the admin one here); a person approves with the operator's.
    const created = await f.call("/api/v1/runs", { as: "admin", method: "POST", json: { argv: ["echo", "approved"], scopes: ["shell.exec"] } });
    expect(created.status).toBe(202);
    const run = await body(created);
    expect(run.status).toBe("awaiting-approval");
    const request = await eventually(async () => (await pending()).find((p) => p.id === run.runId), 5000, "pending approval");
    expect(request).toMatchObject({ holder: "server", requestHash: run.requestHash, argv: ["echo", "approved"] });
    expect((await answer(request.id, "approve", request.requestHash, "viewer")).status).toBe(403);
    const wrong = await answer(request.id, "approve", "a".repeat(64));
    expect(wrong.status).toBe(409);
    expect(((await body(wrong)).error as { code: string }).code).toBe("hash-mismatch");
    const approved = await answer(request.id, "approve", request.requestHash);
    expect(approved.status).toBe(200);
    expect((await body(approved)).resolution).toMatchObject({ outcome: "approved", by: "otto", via: "api" });
    const done = await eventually(async () => {
      const view = await body(await f.call(`/api/v1/runs/${run.runId}`, { as: "viewer" }));
      return view.finishedAt ? view : undefined;
    }, 20_000, "run to finish");
    expect(done).toMatchObject({ status: "finished", exitCode: 0 });
    const entries = [...readEntries(f.app.layout.audit, { runId: String(run.runId) })];
    expect(entries.map((e) => e.type)).toEqual(["decision", "approval", "result"]);
    expect(entries[1]).toMatchObject({ actor: { name: "otto", source: "api" }, requestHash: run.requestHash, approval: { outcome: "approved", by: "otto", via: "api" } });
    expect((await answer(request.id, "approve", request.requestHash)).status).toBe(404);
  });

  test("approvals: a deny over the API refuses the run; nothing executes", async () => {
    const run = await body(await f.call("/api/v1/runs", { as: "operator", method: "POST", json: { argv: ["echo", "never"], scopes: ["shell.exec"] } }));
    const request = await eventually(async () => (await pending()).find((p) => p.id === run.runId), 5000, "pending approval");
    expect((await answer(request.id, "deny", request.requestHash)).status).toBe(200);
    const done = await eventually(async () => {
      const view = await body(await f.call(`/api/v1/runs/${run.runId}`, { as: "viewer" }));
      return view.finishedAt ? view : undefined;
    }, 5000, "run to end");
    expect(done).toMatchObject({ status: "denied", error: { code: "denied" } });
    expect([...readEntries(f.app.layout.audit, { runId: String(run.runId) })].map((e) => e.type)).toEqual(["decision", "approval"]);
  });

  test("approvals: a command the policy denies outright is 403 with the reason", async () => {
    const response = await f.call("/api/v1/runs", { as: "operator", method: "POST", json: { argv: ["echo", "no grant"] } });
    expect(response.status).toBe(403);
    expect(((await body(response)).error as { code: string; message: string }).code).toBe("denied");
  });

  test("approvals: a run waiting in another AegisClaw process is listed and approved over the API", async () => {
    const proc = Bun.spawn([process.execPath, MAIN, "run", "--scope", "shell.exec", "--", "echo", "from-another-shell"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", AEGISCLAW_HOME: f.home },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const output = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    const request = await eventually(async () => (await pending()).find((p) => p.holder === "process"), 20_000, "the other process's approval");
    expect(request.argv).toEqual(["echo", "from-another-shell"]);
    expect((await answer(request.id, "approve", request.requestHash)).status).toBe(200);
    const [stdout, stderr, exitCode] = await output;
    expect({ stdout, exitCode }, stderr).toEqual({ stdout: "from-another-shell\n", exitCode: 0 });
    const approval = [...readEntries(f.app.layout.audit, { runId: request.id, type: "approval" })][0];
    expect(approval?.approval).toMatchObject({ outcome: "approved", by: "otto", via: "api" });
  }, 60_000);
});
