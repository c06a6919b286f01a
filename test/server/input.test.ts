import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { body, startFixture, type ServerFixture } from "./helpers.ts";

type ErrorBody = { error: { code: string; message: string; field?: string } };

describe("server input handling", () => {
  let f: ServerFixture;
  beforeAll(async () => {
    f = await startFixture({ server: { maxBodyBytes: 64 * 1024, idleTimeoutSeconds: 2 } });
  });
  afterAll(() => f?.stop());

  const post = (path: string, text: string, type = "application/json") => f.call(path, { as: "operator", method: "POST", body: text, headers: { "Content-Type": type } });

  test("input: malformed JSON is 400 malformed-json", async () => {
    for (const text of ["{", "{argv: [true]}", "[1,2", "nul"]) {
      const response = await post("/api/v1/decide", text);
      expect(response.status, text).toBe(400);
      expect(((await body(response)) as ErrorBody).error.code).toBe("malformed-json");
    }
  });

  test("input: wrong types and unknown fields are 400 and the message names the field", async () => {
    const cases: Array<[unknown, string]> = [
      [{ argv: "echo hi" }, "argv"],
      [{ argv: ["echo", 1] }, "argv.1"],
      [{ argv: ["true"], timeoutMs: "5s" }, "timeoutMs"],
      [{ argv: ["true"], runtime: "../chroot" }, "runtime"],
      [{ argv: ["true"], runtime: "runc" }, "runtime"],
      [{ argv: [] }, "argv"],
      [{ argv: ["true"], actor: { name: "root", source: "cli" } }, "actor"],
      [[], ""],
    ];
    for (const [json, field] of cases) {
      const response = await post("/api/v1/decide", JSON.stringify(json));
      const { error } = (await body(response)) as ErrorBody;
      expect(response.status, JSON.stringify(json)).toBe(400);
      expect(error.code).toBe("invalid-request");
      if (field) {
        expect(error.field).toBe(field);
        expect(error.message).toContain(`${field}:`);
      }
    }
    const token = await f.call("/api/v1/tokens", { as: "admin", method: "POST", json: { role: "root" } });
    expect(token.status).toBe(400);
    expect(((await body(token)) as ErrorBody).error.field).toBe("role");
    const query = await f.call("/api/v1/audit?limit=-1", { as: "viewer" });
    expect(((await body(query)) as ErrorBody).error.field).toBe("limit");
  });

  test("input: a body that is not JSON is 415; an empty body where one is required is 400", async () => {
    expect((await post("/api/v1/decide", "argv=true", "application/x-www-form-urlencoded")).status).toBe(415);
    expect((await post("/api/v1/decide", "")).status).toBe(400);
  });

  test("input: an oversized body is 413 (declared or chunked) and the server stays up", async () => {
    const big = JSON.stringify({ argv: ["echo", "x".repeat(200 * 1024)] });
    expect((await post("/api/v1/decide", big)).status).toBe(413);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode("x".repeat(16 * 1024)));
        controller.close();
      },
    });
    const streamed = await f.call("/api/v1/decide", { as: "operator", method: "POST", body: chunked, headers: { "Content-Type": "application/json" } });
    expect(streamed.status).toBe(413);
    expect((await f.call("/api/v1/health")).status).toBe(200);
  });

  test("input: unknown routes are 404, wrong methods 405 with Allow, bad escapes 404", async () => {
    expect((await f.call("/api/v1/nothing", { as: "viewer" })).status).toBe(404);
    const wrong = await f.call("/api/v1/status", { as: "viewer", method: "DELETE" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET");
    expect((await f.call("/api/v1/runs/%ZZ", { as: "viewer" })).status).toBe(404);
  });

  test("input: slowloris clients (headers a byte at a time) are cut off while other clients are served", async () => {
    const slow = Array.from({ length: 20 }, () => {
      const socket = connect(f.server.port, "127.0.0.1");
      const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
      socket.on("error", () => {});
      return { socket, closed, done: false };
    });
    for (const s of slow) void s.closed.then(() => (s.done = true));
    const request = "GET /api/v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ";
    let served = 0;
    for (let i = 0; i < 60 && slow.some((s) => !s.done); i++) {
      for (const s of slow) if (!s.done) s.socket.write(request[i % request.length] ?? "x");
      const response = await f.call("/api/v1/status", { as: "viewer" });
      if (response.status === 200) served++;
      await Bun.sleep(500);
    }
    // Every slow connection was closed by the server before it could finish its headers.
    expect(slow.every((s) => s.done)).toBe(true);
    expect(served).toBeGreaterThan(0);
    expect((await f.call("/api/v1/health")).status).toBe(200);
  }, 60_000);
});
