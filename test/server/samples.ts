import { releaseLockdown } from "../../src/core/index.ts";
import type { RouteKey } from "../../src/server/index.ts";
import type { SandboxRuntime } from "../../src/sandbox/index.ts";
import { body, type ServerFixture } from "./helpers.ts";

/** One request that reaches a route's handler (what it answers depends on the route). */
export interface Sample {
  path: string;
  json?: unknown;
  headers?: Record<string, string>;
}

/** Ids the samples point at, made once per fixture. */
export interface SampleIds {
  runId: string;
  throwawayTokenId: string;
  viewerToken: string;
}

/**
 * A sample request for every route. Typed as a full Record so a new route without a sample
 * fails the type check, and with it the auth matrix and the OpenAPI conformance test.
 */
export function samples(ids: SampleIds): Record<RouteKey, Sample> {
  const run = { argv: ["true"] };
  return {
    "GET /api/v1/health": { path: "/api/v1/health" },
    "POST /api/v1/session": { path: "/api/v1/session", json: { token: ids.viewerToken } },
    "DELETE /api/v1/session": { path: "/api/v1/session" },
    "GET /api/v1/openapi.json": { path: "/api/v1/openapi.json" },
    "GET /api/v1/status": { path: "/api/v1/status" },
    "GET /api/v1/events": { path: "/api/v1/events" },
    "GET /metrics": { path: "/metrics" },
    "GET /api/v1/runs": { path: "/api/v1/runs" },
    "POST /api/v1/runs": { path: "/api/v1/runs", json: run },
    "GET /api/v1/runs/{id}": { path: `/api/v1/runs/${ids.runId}` },
    "GET /api/v1/runs/{id}/output": { path: `/api/v1/runs/${ids.runId}/output` },
    "POST /api/v1/runs/{id}/cancel": { path: `/api/v1/runs/${ids.runId}/cancel` },
    "GET /api/v1/skills": { path: "/api/v1/skills" },
    "POST /api/v1/skills/{name}/run": { path: "/api/v1/skills/no-such-skill/run", json: {} },
    "GET /api/v1/approvals": { path: "/api/v1/approvals" },
    "POST /api/v1/approvals/{id}/approve": { path: "/api/v1/approvals/r-none/approve", json: { requestHash: "0".repeat(64) } },
    "POST /api/v1/approvals/{id}/deny": { path: "/api/v1/approvals/r-none/deny", json: { requestHash: "0".repeat(64) } },
    "GET /api/v1/audit": { path: "/api/v1/audit?limit=5" },
    "GET /api/v1/audit/verify": { path: "/api/v1/audit/verify" },
    "GET /api/v1/audit/consistency": { path: "/api/v1/audit/consistency?oldSize=1" },
    "GET /api/v1/audit/{id}/explain": { path: `/api/v1/audit/${ids.runId}/explain` },
    "GET /api/v1/audit/{seq}/proof": { path: "/api/v1/audit/1/proof" },
    "GET /api/v1/policy": { path: "/api/v1/policy" },
    "POST /api/v1/policy/simulate": { path: "/api/v1/policy/simulate", json: run },
    "POST /api/v1/decide": { path: "/api/v1/decide", json: run },
    // exec without a command: the tool map refuses it (400) before anything is decided or recorded.
    "POST /api/v1/openclaw/tool-calls": { path: "/api/v1/openclaw/tool-calls", json: { toolName: "exec", params: {} } },
    "POST /api/v1/openclaw/tool-calls/{id}/result": { path: "/api/v1/openclaw/tool-calls/r-none/result", json: { requestHash: "0".repeat(64), status: "completed" } },
    "GET /api/v1/posture": { path: "/api/v1/posture" },
    "GET /api/v1/xray": { path: "/api/v1/xray" },
    "GET /api/v1/xray/{id}": { path: "/api/v1/xray/r-none" },
    "POST /api/v1/lockdown": { path: "/api/v1/lockdown", json: { reason: "matrix test" } },
    "POST /api/v1/unlock": { path: "/api/v1/unlock" },
    "GET /api/v1/tokens": { path: "/api/v1/tokens" },
    "POST /api/v1/tokens": { path: "/api/v1/tokens", json: { role: "viewer" } },
    "DELETE /api/v1/tokens/{id}": { path: `/api/v1/tokens/${ids.throwawayTokenId}` },
  };
}

/** Makes the ids the samples need: a finished run (through the API) and a token to revoke. */
export async function prepareSamples(f: ServerFixture): Promise<SampleIds> {
  const created = await f.call("/api/v1/runs", { as: "operator", method: "POST", json: { argv: ["echo", "sample"] } });
  if (created.status !== 201) throw new Error(`sample run failed: ${created.status} ${await created.text()}`);
  const runId = String((await body(created)).runId);
  // Waits for the end of the run: its SSE stream closes after the `end` event.
  await (await f.call(`/api/v1/runs/${runId}/output`, { as: "operator" })).text();
  const throwaway = await f.store.create("viewer", "throwaway");
  return { runId, throwawayTokenId: throwaway.record.id, viewerToken: f.tokens.viewer };
}

/**
 * Replaces the runtime's killAll with a recorder: the lockdown route must never kill the
 * containers other engineers' tests run on this engine. Everything else is the real runtime.
 */
export function recordingKillAll(kills: number[]): (app: { runtime: SandboxRuntime; killAllSandboxes: () => Promise<number> }) => void {
  return (app) => {
    // Lockdown kills through killAllSandboxes; the runtime's own killAll is stubbed too.
    app.killAllSandboxes = async () => {
      kills.push(Date.now());
      return 0;
    };
    const real = app.runtime;
    app.runtime = {
      name: real.name,
      status: () => real.status(),
      hasImage: (image) => real.hasImage(image),
      run: (spec, io) => real.run(spec, io),
      listRunning: () => real.listRunning(),
      killAll: async () => {
        kills.push(Date.now());
        return 0;
      },
    };
  };
}

/** Lifts a lockdown a sample engaged (directly, like the CLI would). */
export async function unlockIfLocked(f: ServerFixture): Promise<void> {
  if (!f.app.lockdown.read().active) return;
  await releaseLockdown({ store: f.app.lockdown, bus: f.app.bus, openAudit: f.app.openAudit }, { name: "test", source: "cli" });
}

/** The HTTP method of a route key. */
export function methodOf(key: RouteKey): string {
  return key.split(" ")[0] ?? "GET";
}
