import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { body, BAD_TOKEN, eventually, startFixture, type ServerFixture } from "./helpers.ts";
import { handshakeStatus, openSocket, rawHandshake } from "./ws-client.ts";

const EVIL = "https://evil.example";

describe("server WebSocket hub", () => {
  let f: ServerFixture;
  beforeAll(async () => {
    f = await startFixture({ server: { heartbeatMs: 200 } });
  });
  afterAll(() => f?.stop());

  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const clients = async () => ((await body(await f.call("/api/v1/status", { as: "viewer" }))).clients as { websocket: number }).websocket;

  test("ws: upgrades without a token, with a bad token, or from another origin are refused before the upgrade", async () => {
    expect(await handshakeStatus(f.url, "/api/v1/events", {})).toBe(401);
    expect(await handshakeStatus(f.url, "/api/v1/events", bearer(BAD_TOKEN))).toBe(401);
    expect(await handshakeStatus(f.url, "/api/v1/events", { ...bearer(f.tokens.viewer), Origin: EVIL })).toBe(403);
    for (const headers of [{}, bearer(BAD_TOKEN), { ...bearer(f.tokens.viewer), Origin: EVIL }]) {
      const socket = openSocket(`${f.url}/api/v1/events`, headers);
      expect(await socket.opened).toBe(false);
    }
  });

  test("ws: a session cookie upgrade needs an allowed Origin (browsers always send one)", async () => {
    const login = await f.call("/api/v1/session", { method: "POST", json: { token: f.tokens.viewer } });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect(await handshakeStatus(f.url, "/api/v1/events", { Cookie: cookie })).toBe(403);
    expect(await handshakeStatus(f.url, "/api/v1/events", { Cookie: cookie, Origin: EVIL })).toBe(403);
    expect(await handshakeStatus(f.url, "/api/v1/events", { Cookie: cookie, Origin: f.url })).toBe(101);
  });

  test("ws: with the right token and Origin it opens, says who it is, delivers events and heartbeats", async () => {
    const socket = openSocket(`${f.url}/api/v1/events`, { ...bearer(f.tokens.viewer), Origin: f.url });
    expect(await socket.opened).toBe(true);
    await eventually(() => socket.messages.find((m) => m.type === "hello"), 5000, "hello");
    expect(socket.messages[0]).toMatchObject({ type: "hello", role: "viewer", name: "vera" });
    expect((await f.call("/api/v1/decide", { as: "operator", method: "POST", json: { argv: ["true"] } })).status).toBe(200);
    const decision = await eventually(() => socket.messages.find((m) => m.type === "decision"), 5000, "decision event");
    expect(decision.data).toMatchObject({ decision: { kind: "allow" }, decideOnly: true });
    await eventually(() => socket.messages.find((m) => m.type === "heartbeat"), 5000, "heartbeat");
    socket.ws.close();
  });

  test("ws: per-role filtering: run output reaches operators, never viewers; filters narrow by type and run", async () => {
    const viewer = openSocket(`${f.url}/api/v1/events`, bearer(f.tokens.viewer));
    const operator = openSocket(`${f.url}/api/v1/events?types=run.output`, bearer(f.tokens.operator));
    const otherRun = openSocket(`${f.url}/api/v1/events?runId=r-other`, bearer(f.tokens.admin));
    expect([await viewer.opened, await operator.opened, await otherRun.opened]).toEqual([true, true, true]);
    f.app.bus.publish("run.output", { runId: "r-filter", stream: "stdout", text: "visible to operators\n" });
    f.app.bus.publish("run.finished", { runId: "r-filter", exitCode: 0, durationMs: 1, timedOut: false });
    await eventually(() => operator.messages.find((m) => m.type === "run.output"), 5000, "operator output");
    await eventually(() => viewer.messages.find((m) => m.type === "run.finished"), 5000, "viewer finish");
    expect(viewer.messages.some((m) => m.type === "run.output")).toBe(false);
    expect(operator.messages.some((m) => m.type === "run.finished")).toBe(false);
    expect(otherRun.messages.some((m) => m.type.startsWith("run."))).toBe(false);
    expect(await handshakeStatus(f.url, "/api/v1/events?types=no.such", bearer(f.tokens.viewer))).toBe(400);
    for (const socket of [viewer, operator, otherRun]) socket.ws.close();
  });

  test("ws: a revoked token's socket is closed at the next heartbeat (4401)", async () => {
    const { token, record } = await f.store.create("viewer", "ws-revoked");
    const socket = openSocket(`${f.url}/api/v1/events`, bearer(token));
    expect(await socket.opened).toBe(true);
    await f.store.revoke(record.id);
    expect((await socket.closed).code).toBe(4401);
  });

  test("ws: a client that stops reading is dropped; the publisher never waits and other clients keep receiving", async () => {
    await eventually(async () => (await clients()) === 0, 5000, "earlier sockets to close");
    const fast = openSocket(`${f.url}/api/v1/events?types=decision`, bearer(f.tokens.viewer));
    expect(await fast.opened).toBe(true);
    const slow = await rawHandshake(f.url, "/api/v1/events", bearer(f.tokens.operator));
    expect(slow.status).toBe(101);
    await eventually(async () => (await clients()) === 2, 5000, "both clients");
    const chunk = "x".repeat(64 * 1024);
    // About 32 MiB to a client that reads nothing: far past the kernel buffers and the hub's 1 MiB.
    for (let i = 0; i < 512; i++) f.app.bus.publish("run.output", { runId: "r-flood", stream: "stdout", text: chunk });
    await eventually(async () => (await clients()) === 1, 10_000, "the slow client to be dropped");
    expect((await f.call("/api/v1/decide", { as: "operator", method: "POST", json: { argv: ["true"] } })).status).toBe(200);
    await eventually(() => fast.messages.find((m) => m.type === "decision"), 5000, "the fast client's event");
    slow.socket.destroy();
    fast.ws.close();
  });
});
