import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildOpenApi, ROUTE_ACCESS, ROUTES, type RouteKey } from "../../src/server/index.ts";
import { ErrorBody } from "../../src/server/schemas.ts";
import { requireDocker } from "../helpers/docker.ts";
import { startFixture, type ServerFixture } from "./helpers.ts";
import { methodOf, prepareSamples, recordingKillAll, samples, unlockIfLocked, type SampleIds } from "./samples.ts";

type Operation = { "x-aegisclaw-min-role": string; responses: Record<string, unknown>; security: unknown[] };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** Every `METHOD /path` the document describes. */
function documented(doc: Document): string[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
}

describe("server OpenAPI document", () => {
  let f: ServerFixture;
  let ids: SampleIds;
  let served: Document;
  beforeAll(async () => {
    await requireDocker();
    f = await startFixture({ app: recordingKillAll([]) });
    ids = await prepareSamples(f);
    served = (await (await f.call("/api/v1/openapi.json", { as: "viewer" })).json()) as Document;
  });
  afterAll(() => f?.stop());

  test("openapi: every route of the router is in the document and vice versa, with its RBAC role", () => {
    const routerKeys = ROUTES.map((route) => route.key).sort();
    expect(documented(served).sort()).toEqual(routerKeys);
    expect(Object.keys(ROUTE_ACCESS).sort()).toEqual(routerKeys);
    for (const key of routerKeys) {
      const [method = "", path = ""] = key.split(" ");
      const operation = served.paths[path]?.[method.toLowerCase()];
      expect(operation?.["x-aegisclaw-min-role"], key).toBe(ROUTE_ACCESS[key]);
      expect(operation?.security.length === 0, key).toBe(ROUTE_ACCESS[key] === "public");
    }
    expect(served.openapi).toBe("3.1.0");
    expect(served).toEqual(JSON.parse(JSON.stringify(buildOpenApi(ROUTES, String((served as unknown as { info: { version: string } }).info.version)))));
  });

  test("openapi: the server answers every route with a documented status, and success bodies match the documented schema", async () => {
    const table = samples(ids);
    for (const route of ROUTES) {
      const sample = table[route.key as RouteKey];
      const response = await f.call(sample.path, { as: "admin", method: methodOf(route.key as RouteKey), ...(sample.json !== undefined ? { json: sample.json } : {}) });
      const text = await response.text();
      const [method = "", path = ""] = route.key.split(" ");
      const operation = served.paths[path]?.[method.toLowerCase()];
      expect(Object.keys(operation?.responses ?? {}), `${route.key} answered ${response.status}: ${text.slice(0, 200)}`).toContain(String(response.status));
      if (response.status < 300 && route.result) {
        const parsed = route.result.safeParse(JSON.parse(text));
        expect(parsed.success, `${route.key}: ${JSON.stringify(parsed.error?.issues[0])}`).toBe(true);
      }
      // Every documented error is the shared envelope (decide's 403/423 bodies are verdicts, by design).
      if (response.status >= 400 && route.key !== "POST /api/v1/decide") expect(ErrorBody.safeParse(JSON.parse(text)).success, `${route.key}: ${text.slice(0, 200)}`).toBe(true);
      if (route.key === "POST /api/v1/lockdown") await unlockIfLocked(f);
    }
  });

  test("openapi: docs/api.md lists every route with its role, and nothing else", () => {
    const doc = readFileSync(join(import.meta.dir, "..", "..", "docs", "api.md"), "utf8");
    const rows = [...doc.matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| (\w+) \|$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    expect(rows.sort()).toEqual(Object.entries(ROUTE_ACCESS).map(([key, role]) => `${key} ${role}`).sort());
  });
});
