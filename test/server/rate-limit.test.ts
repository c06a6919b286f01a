import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FailureLimiter } from "../../src/server/rate-limit.ts";
import { BAD_TOKEN, body, startFixture, type ServerFixture } from "./helpers.ts";

describe("server failed-auth rate limit", () => {
  let f: ServerFixture;
  beforeAll(async () => {
    f = await startFixture({ server: { authFailures: { limit: 5, windowMs: 60_000 } } });
  });
  afterAll(() => f?.stop());

  test("rate limit: after N bad tokens from one address every credential is refused with 429 and Retry-After", async () => {
    // Requests without any credentials are not guesses and do not count.
    for (let i = 0; i < 10; i++) expect((await f.call("/api/v1/status")).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await f.call("/api/v1/status", { as: "bad" })).status).toBe(401);
    const limited = await f.call("/api/v1/status", { as: "bad" });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await body(limited)).error as { code: string }).code).toBe("rate-limited");
    // A right guess does not get through while the address is blocked, nor does a session login.
    expect((await f.call("/api/v1/status", { as: "admin" })).status).toBe(429);
    expect((await f.call("/api/v1/session", { method: "POST", json: { token: f.tokens.viewer } })).status).toBe(429);
    expect((await f.call("/api/v1/session", { method: "POST", json: { token: BAD_TOKEN } })).status).toBe(429);
    // Public liveness stays up.
    expect((await f.call("/api/v1/health")).status).toBe(200);
  });

  test("rate limit: failures leave the window and the address may try again", () => {
    const limiter = new FailureLimiter({ limit: 3, windowMs: 1000 });
    for (let t = 0; t < 3; t++) limiter.fail("a", 1000 + t);
    expect(limiter.retryAfterMs("a", 1003)).toBeGreaterThan(0);
    expect(limiter.retryAfterMs("b", 1003)).toBe(0);
    expect(limiter.retryAfterMs("a", 2001)).toBe(0);
  });
});
