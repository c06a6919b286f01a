import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { body, startFixture, type ServerFixture } from "./helpers.ts";

const EVIL = "https://evil.example";

describe("server origin and CSRF", () => {
  let f: ServerFixture;
  let own: string;
  beforeAll(async () => {
    f = await startFixture();
    own = f.url;
  });
  afterAll(() => f?.stop());

  /** Opens a browser-style session and returns its cookie and CSRF token. */
  async function login(): Promise<{ cookie: string; csrf: string; setCookie: string }> {
    const response = await f.call("/api/v1/session", { method: "POST", json: { token: f.tokens.operator }, headers: { Origin: own } });
    expect(response.status).toBe(201);
    const setCookie = response.headers.get("set-cookie") ?? "";
    const csrf = String((await body(response)).csrfToken);
    return { cookie: setCookie.split(";")[0] ?? "", csrf, setCookie };
  }

  test("csrf: a page of another origin is refused even with a valid bearer token (GET and POST)", async () => {
    for (const method of ["GET", "POST"]) {
      const response = await f.call(method === "GET" ? "/api/v1/status" : "/api/v1/decide", { as: "operator", method, headers: { Origin: EVIL }, ...(method === "POST" ? { json: { argv: ["true"] } } : {}) });
      expect(response.status).toBe(403);
      expect((await body(response)).error).toMatchObject({ code: "origin-not-allowed" });
    }
    expect((await f.call("/api/v1/status", { as: "viewer", headers: { Origin: "null" } })).status).toBe(403);
    expect((await f.call("/api/v1/status", { as: "viewer", headers: { "Sec-Fetch-Site": "cross-site" } })).status).toBe(403);
  });

  test("csrf: the server's own origins pass (127.0.0.1 and localhost spellings)", async () => {
    expect((await f.call("/api/v1/status", { as: "viewer", headers: { Origin: own } })).status).toBe(200);
    expect((await f.call("/api/v1/status", { as: "viewer", headers: { Origin: own.replace("127.0.0.1", "localhost") } })).status).toBe(200);
    expect((await f.call("/api/v1/status", { as: "viewer", headers: { Origin: own.replace(/:\d+$/, ":1") } })).status).toBe(403);
  });

  test("csrf: the session cookie is HttpOnly and SameSite=Strict; reads work with it", async () => {
    const { cookie, setCookie } = await login();
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect((await f.call("/api/v1/status", { headers: { Cookie: cookie } })).status).toBe(200);
  });

  test("csrf: a state change on a session needs an allowed Origin AND the X-CSRF-Token", async () => {
    const { cookie, csrf } = await login();
    const decide = (headers: Record<string, string>) => f.call("/api/v1/decide", { method: "POST", json: { argv: ["true"] }, headers: { Cookie: cookie, ...headers } });
    const refused: Array<Record<string, string>> = [{ Origin: own }, { Origin: own, "X-CSRF-Token": "0".repeat(64) }, { "X-CSRF-Token": csrf }, { Origin: EVIL, "X-CSRF-Token": csrf }];
    for (const headers of refused) {
      const response = await decide(headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(["csrf", "origin-not-allowed"]).toContain(String(((await body(response)).error as { code: string }).code));
    }
    const accepted = await decide({ Origin: own, "X-CSRF-Token": csrf });
    expect(accepted.status).toBe(200);
    expect((await body(accepted)).verdict).toBe("allow");
  });

  test("csrf: logout clears the session; the old cookie is then refused", async () => {
    const { cookie, csrf } = await login();
    const out = await f.call("/api/v1/session", { method: "DELETE", headers: { Cookie: cookie, Origin: own, "X-CSRF-Token": csrf } });
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    expect((await f.call("/api/v1/status", { headers: { Cookie: cookie } })).status).toBe(401);
  });

  test("csrf: revoking the token ends its browser sessions", async () => {
    const { token, record } = await f.store.create("viewer", "browser");
    const response = await f.call("/api/v1/session", { method: "POST", json: { token } });
    const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect((await f.call("/api/v1/status", { headers: { Cookie: cookie } })).status).toBe(200);
    await f.store.revoke(record.id);
    expect((await f.call("/api/v1/status", { headers: { Cookie: cookie } })).status).toBe(401);
  });

  test("csrf: no CORS is ever granted: preflights get 405 and no response carries Access-Control-Allow-*", async () => {
    const preflight = await f.call("/api/v1/decide", { method: "OPTIONS", headers: { Origin: EVIL, "Access-Control-Request-Method": "POST" } });
    expect(preflight.status).toBe(405);
    for (const response of [preflight, await f.call("/api/v1/status", { as: "viewer" }), await f.call("/api/v1/status", { as: "viewer", headers: { Origin: own } })]) {
      expect([...response.headers.keys()].filter((name) => name.startsWith("access-control-"))).toEqual([]);
    }
  });

  test("csrf: a form post (text/plain) with a session is refused before it is parsed", async () => {
    const { cookie } = await login();
    const response = await f.call("/api/v1/decide", { method: "POST", body: '{"argv":["true"]}', headers: { Cookie: cookie, Origin: own, "Content-Type": "text/plain" } });
    expect(response.status).toBe(403);
  });

  test("csrf: security headers on success, error and unknown routes", async () => {
    for (const response of [await f.call("/api/v1/health"), await f.call("/api/v1/status"), await f.call("/nope")]) {
      expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("cache-control")).toBe("no-store");
    }
  });
});
