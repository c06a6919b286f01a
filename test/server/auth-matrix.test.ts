import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { readEntries } from "../../src/audit/index.ts";
import { ROUTE_ACCESS, roleAllows, type RouteKey } from "../../src/server/index.ts";
import { requireDocker } from "../helpers/docker.ts";
import { body, eventually, IDENTITIES, startFixture, type Identity, type ServerFixture } from "./helpers.ts";
import { methodOf, prepareSamples, recordingKillAll, samples, unlockIfLocked, type SampleIds } from "./samples.ts";

/** What the matrix expects: 401 without valid credentials, 403 "forbidden" under the route's role, else the handler's answer. */
function expected(key: RouteKey, who: Identity): "unauthenticated" | "forbidden" | "handled" {
  const access = ROUTE_ACCESS[key];
  if (access === "public") return "handled";
  if (who === "none" || who === "bad") return "unauthenticated";
  return roleAllows(who, access) ? "handled" : "forbidden";
}

describe("server auth matrix", () => {
  const kills: number[] = [];
  let f: ServerFixture;
  let ids: SampleIds;

  beforeAll(async () => {
    await requireDocker();
    // The matrix sends dozens of bad tokens from one address: the failure limit is not under test here.
    f = await startFixture({ app: recordingKillAll(kills), server: { authFailures: { limit: 100_000, windowMs: 60_000 } } });
    ids = await prepareSamples(f);
  });
  afterAll(() => f?.stop());

  const keys = Object.keys(ROUTE_ACCESS) as RouteKey[];
  for (const key of keys) {
    test(`auth matrix: ${key} x {${IDENTITIES.join(", ")}}`, async () => {
      const sample = samples(ids)[key];
      const seen: string[] = [];
      for (const who of IDENTITIES) {
        const response = await f.call(sample.path, { as: who, method: methodOf(key), ...(sample.json !== undefined ? { json: sample.json } : {}) });
        const text = await response.text();
        const code = response.headers.get("content-type")?.includes("json") && text.startsWith("{\"error\"") ? (JSON.parse(text) as { error: { code: string } }).error.code : undefined;
        const want = expected(key, who);
        seen.push(`${who}:${response.status}`);
        if (want === "unauthenticated") {
          expect(response.status, `${key} as ${who}`).toBe(401);
          expect(response.headers.get("www-authenticate")).toContain("Bearer");
        } else if (want === "forbidden") {
          expect([response.status, code], `${key} as ${who}`).toEqual([403, "forbidden"]);
        } else {
          expect(response.status, `${key} as ${who}: ${text.slice(0, 300)}`).not.toBe(401);
          expect(code, `${key} as ${who}`).not.toBe("forbidden");
          expect(response.status, `${key} as ${who}: ${text.slice(0, 300)}`).toBeLessThan(500);
        }
        if (key === "POST /api/v1/lockdown") await unlockIfLocked(f);
      }
      // One line per route in the test output: the observed row of the matrix.
      expect(seen.length).toBe(IDENTITIES.length);
    });
  }

  test("auth matrix: the lockdown route engaged lockdown through the (recording) runtime, and only for admin", () => {
    expect(kills.length).toBe(1);
  });

  test("auth matrix: no GET changes state (audit log, lockdown flag, tokens file are untouched)", async () => {
    // The matrix's own runs must have recorded their results first.
    await eventually(async () => ((await body(await f.call("/api/v1/runs", { as: "viewer" }))).runs as Array<{ finishedAt?: string }>).every((run) => run.finishedAt), 30_000, "matrix runs to finish");
    const before = { audit: auditSize(f), lockdown: f.app.lockdown.read().active, tokens: readFileSync(`${f.app.layout.state}/tokens.json`, "utf8") };
    for (const key of keys.filter((k) => methodOf(k) === "GET")) {
      for (const who of IDENTITIES) await (await f.call(samples(ids)[key].path, { as: who })).arrayBuffer();
    }
    expect({ audit: auditSize(f), lockdown: f.app.lockdown.read().active, tokens: readFileSync(`${f.app.layout.state}/tokens.json`, "utf8") }).toEqual(before);
  });

  test("auth matrix: a revoked token is refused at once (the running server re-reads the store)", async () => {
    const { token, record } = await f.store.create("operator", "short-lived");
    expect((await f.call("/api/v1/status", { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    await f.store.revoke(record.id);
    expect((await f.call("/api/v1/status", { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  test("auth matrix: a token with the right id and a wrong secret, a malformed token and a non-Bearer scheme are 401", async () => {
    const wrongSecret = `${f.tokens.admin.slice(0, 17)}${"0".repeat(64)}`;
    for (const header of [`Bearer ${wrongSecret}`, "Bearer acw_short", `Basic ${btoa("ada:x")}`, "Bearer"]) {
      expect((await f.call("/api/v1/status", { headers: { Authorization: header } })).status, header).toBe(401);
    }
  });
});

function auditSize(f: ServerFixture): number {
  return [...readEntries(f.app.layout.audit)].length;
}
