import { computePosture } from "../../posture/index.ts";
import { describeProfile, engineRuntimeOf } from "../../sandbox/index.ts";
import { isAegisError } from "../../shared/index.ts";
import { inspectSandbox, listSandboxes } from "../../xray/index.ts";
import type { App } from "../../app.ts";
import { parseDuration, parseSize, type AegisEventType } from "../../core/index.ts";
import { HttpError, json } from "../http.ts";
import { EVENT_ACCESS } from "../rbac.ts";
import { caller, route } from "../route.ts";
import { EventsQuery, Results } from "../schemas.ts";
import { tokensFile } from "../tokens.ts";

/** WebSocket clients at most; past it upgrades get 503 (each holds memory and a socket). */
const MAX_WS_CLIENTS = 256;

/** Health, status, the OpenAPI document, metrics, posture, X-ray and the event WebSocket. */
export const systemRoutes = [
  route({
    key: "GET /api/v1/health",
    summary: "Liveness: answers without a token and says nothing but that the server is up.",
    responses: { 200: "The server is up." },
    result: Results.health,
    handle: (_call, ctx) => json({ status: "ok", version: ctx.version }),
  }),
  route({
    key: "GET /api/v1/status",
    summary: "The security envelope, lockdown, policy, adapters, pending approvals and active runs.",
    responses: { 200: "Current status." },
    result: Results.status,
    handle: (_call, ctx) => {
      const lock = ctx.app.lockdown.read();
      return json({
        version: ctx.version,
        envelope: envelope(ctx.app),
        lockdown: { active: lock.active, ...(lock.reason ? { reason: lock.reason } : {}), ...(lock.since ? { since: lock.since } : {}) },
        policy: { template: ctx.app.config.policy.template, grants: ctx.app.config.policy.grants },
        adapters: [ctx.openclaw.health()],
        approvals: { pending: ctx.approvals.count() },
        runs: { active: ctx.runs.active() },
        clients: { websocket: ctx.hub.size },
      });
    },
  }),
  route({
    key: "GET /api/v1/openapi.json",
    summary: "This API's OpenAPI 3.1 document.",
    responses: { 200: "The document." },
    handle: (_call, ctx) => json(ctx.openapi),
  }),
  route({
    key: "GET /metrics",
    kind: "text",
    summary: "Prometheus metrics (text exposition format).",
    responses: { 200: "Metrics." },
    handle: async (_call, ctx) => new Response(await ctx.metrics.render(), { headers: { "Content-Type": ctx.metrics.contentType } }),
  }),
  route({
    key: "GET /api/v1/posture",
    summary: "The home's security posture: score, grade and the fix for every lost point.",
    responses: { 200: "The posture report." },
    result: Results.posture,
    handle: async (_call, ctx) => json(await computePosture(ctx.app.layout.root, { config: ctx.app.config, runtime: ctx.app.runtime, tokensFile: tokensFile(ctx.app.layout.state) })),
  }),
  route({
    key: "GET /api/v1/xray",
    summary: "Running AegisClaw sandboxes, from the Docker engine.",
    responses: { 200: "The sandboxes.", 503: "The Docker engine is unreachable." },
    result: Results.xrayList,
    handle: async (_call, ctx) => json({ sandboxes: await listSandboxes({ socketPath: ctx.app.config.sandbox.dockerSocket }) }),
  }),
  route({
    key: "GET /api/v1/xray/{id}",
    summary: "One sandbox (run id or container id prefix): processes, usage, mounts and isolation.",
    responses: { 200: "The report.", 404: "No such sandbox.", 503: "The Docker engine is unreachable." },
    result: Results.xray,
    handle: async (call, ctx) => {
      try {
        return json(await inspectSandbox(call.params.id ?? "", { socketPath: ctx.app.config.sandbox.dockerSocket }));
      } catch (error) {
        if (isAegisError(error, "bad-input")) throw new HttpError(404, "not-found", error.message, error.hint ? { hint: error.hint } : {});
        throw error;
      }
    },
  }),
  route<undefined, EventsQuery>({
    key: "GET /api/v1/events",
    kind: "websocket",
    summary: "WebSocket: every event the caller's role may see (run.output needs operator), plus heartbeats. Filters: types, runId.",
    query: EventsQuery,
    responses: { 101: "Switching to WebSocket.", 426: "Not a WebSocket request.", 503: "Too many WebSocket clients." },
    handle: (call, ctx) => {
      const types = call.query.types?.split(",");
      const unknown = types?.find((type) => !(type in EVENT_ACCESS));
      if (unknown) throw new HttpError(400, "invalid-request", `invalid query: types: unknown event type ${unknown}`, { field: "types" });
      if (ctx.hub.size >= MAX_WS_CLIENTS) throw new HttpError(503, "unavailable", "too many WebSocket clients");
      const data = { identity: caller(call), ...(types ? { types: new Set(types as AegisEventType[]) } : {}), ...(call.query.runId ? { runId: call.query.runId } : {}) };
      if (!ctx.server().upgrade(call.request, { data })) throw new HttpError(426, "upgrade-required", "this endpoint speaks WebSocket only", { headers: { Upgrade: "websocket" } });
      return undefined;
    },
  }),
];

/** What a plain run gets with the configured limits, from the same compiler `run` uses (as the console shows it). */
function envelope(app: App) {
  const { runtime, image, limits, timeout } = app.config.sandbox;
  const spec = {
    runId: "envelope",
    image,
    argv: ["true"],
    timeoutMs: parseDuration(timeout) ?? 300_000,
    limits: { pids: limits.pids, memoryBytes: parseSize(limits.memory) ?? 256 * 1024 ** 2, cpus: limits.cpus, tmpfsBytes: parseSize(limits.tmpfs) ?? 64 * 1024 ** 2, outputBytes: parseSize(limits.output) ?? 16 * 1024 ** 2 },
  };
  const profile = describeProfile(spec, runtime, engineRuntimeOf(runtime));
  return { runtime: profile.runtime, image, user: profile.user, network: profile.network, seccomp: profile.seccomp, capabilities: profile.capabilities, rootFilesystem: profile.rootFilesystem, noNewPrivileges: profile.noNewPrivileges, limits: profile.limits };
}
