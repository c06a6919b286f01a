import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readEntries } from "../../src/audit/index.ts";
import { requireDocker } from "../helpers/docker.ts";
import { body, eventually, startFixture, type ServerFixture } from "./helpers.ts";
import { readEvents } from "./sse.ts";
import { openSocket } from "./ws-client.ts";

const AWS_KEY = "AKIAIOSFODNN7EXAMPLE";
/** Prints the key without spelling it in argv (argv is recorded as given; output must be redacted). */
const PRINT_KEY = 'echo "key=AKIA$(echo IOSFODNN7EXAMPLE)"';

describe("server runs (real Docker)", () => {
  let f: ServerFixture;
  beforeAll(async () => {
    await requireDocker();
    f = await startFixture();
  });
  afterAll(() => f?.stop());

  test("runs: a run created through the API runs in Docker; its output arrives over SSE, redacted", async () => {
    const created = await f.call("/api/v1/runs", { as: "operator", method: "POST", json: { argv: ["sh", "-c", `${PRINT_KEY}; echo to-stderr >&2`] } });
    expect(created.status).toBe(201);
    const run = await body(created);
    expect(created.headers.get("location")).toBe(`/api/v1/runs/${run.runId}`);
    expect(run).toMatchObject({ status: "starting", actor: { name: "otto", source: "api" }, decision: { kind: "allow" } });
    const events = await readEvents(await f.call(`/api/v1/runs/${run.runId}/output`, { as: "operator" }));
    const output = events.filter((e) => e.event === "output").map((e) => `${e.data.stream}:${e.data.text}`).join("");
    expect(output).toContain("stdout:key=[REDACTED");
    expect(output).toContain("stderr:to-stderr");
    expect(JSON.stringify(events)).not.toContain(AWS_KEY);
    expect(events.at(-1)).toMatchObject({ event: "end", data: { status: "finished", exitCode: 0 } });
    const entries = [...readEntries(f.app.layout.audit, { runId: String(run.runId) })];
    expect(entries.map((e) => [e.type, e.actor.name, e.actor.source])).toEqual([
      ["decision", "otto", "api"],
      ["result", "otto", "api"],
    ]);
    expect(entries[1]?.redactions).toBe(1);
    // A late reader gets the same replay; a viewer may not read output at all.
    expect((await f.call(`/api/v1/runs/${run.runId}/output`, { as: "viewer" })).status).toBe(403);
    expect(await body(await f.call(`/api/v1/runs/${run.runId}`, { as: "viewer" }))).toMatchObject({ status: "finished", exitCode: 0, output: { truncated: false } });
  });

  test("runs: output also arrives over the WebSocket, redacted, for operators only", async () => {
    const operator = openSocket(`${f.url}/api/v1/events?types=run.output,run.finished`, { Authorization: `Bearer ${f.tokens.operator}` });
    const viewer = openSocket(`${f.url}/api/v1/events`, { Authorization: `Bearer ${f.tokens.viewer}` });
    expect([await operator.opened, await viewer.opened]).toEqual([true, true]);
    const created = await body(await f.call("/api/v1/runs", { as: "operator", method: "POST", json: { argv: ["sh", "-c", PRINT_KEY] } }));
    const mine = (m: { data?: unknown }) => (m.data as { runId?: string } | undefined)?.runId === created.runId;
    await eventually(() => operator.messages.find((m) => m.type === "run.finished" && mine(m)), 20_000, "run.finished over WS");
    const text = operator.messages.filter((m) => m.type === "run.output" && mine(m)).map((m) => (m.data as { text: string }).text).join("");
    expect(text).toContain("key=[REDACTED");
    expect(text).not.toContain(AWS_KEY);
    await eventually(() => viewer.messages.find((m) => m.type === "run.finished" && mine(m)), 5000, "viewer sees the finish");
    expect(viewer.messages.some((m) => m.type === "run.started" && mine(m))).toBe(true);
    expect(viewer.messages.some((m) => m.type === "run.output")).toBe(false);
    operator.ws.close();
    viewer.ws.close();
  });

  test("runs: cancel kills a running sandbox; the result is audited as cancelled", async () => {
    const run = await body(await f.call("/api/v1/runs", { as: "operator", method: "POST", json: { argv: ["sleep", "30"] } }));
    await eventually(async () => (await body(await f.call(`/api/v1/runs/${run.runId}`, { as: "viewer" }))).status === "running", 20_000, "running");
    expect((await f.call(`/api/v1/runs/${run.runId}/cancel`, { as: "viewer", method: "POST" })).status).toBe(403);
    expect((await f.call(`/api/v1/runs/${run.runId}/cancel`, { as: "operator", method: "POST" })).status).toBe(202);
    const done = await eventually(async () => {
      const view = await body(await f.call(`/api/v1/runs/${run.runId}`, { as: "viewer" }));
      return view.finishedAt ? view : undefined;
    }, 20_000, "cancelled");
    expect(done).toMatchObject({ status: "cancelled", killedBy: "cancel" });
    expect((await f.call(`/api/v1/runs/${run.runId}/cancel`, { as: "operator", method: "POST" })).status).toBe(409);
    const result = [...readEntries(f.app.layout.audit, { runId: String(run.runId), type: "result" })][0];
    expect(result?.result?.killedBy).toBe("cancel");
  });

  test("runs: listing shows this server's runs newest first; unknown ids are 404", async () => {
    const { runs } = (await body(await f.call("/api/v1/runs", { as: "viewer" }))) as { runs: Array<{ argv: string[] }> };
    expect(runs.length).toBe(3);
    expect(runs[0]?.argv).toEqual(["sleep", "30"]);
    expect((await f.call("/api/v1/runs/r-unknown", { as: "viewer" })).status).toBe(404);
  });

  test("runs: bad input is 400 and nothing is recorded", async () => {
    const before = [...readEntries(f.app.layout.audit)].length;
    const response = await f.call("/api/v1/runs", { as: "operator", method: "POST", json: { argv: ["true"], scopes: ["no.such.scope"] } });
    expect(response.status).toBe(400);
    expect([...readEntries(f.app.layout.audit)].length).toBe(before);
  });
});
