import type { RunRequest } from "../../core/index.ts";
import { HttpError, json } from "../http.ts";
import type { RunStreamItem } from "../run-registry.ts";
import { actorOf, route } from "../route.ts";
import { Results, RunBody } from "../schemas.ts";
import { sseResponse } from "../sse.ts";

/** Turns an API body into a Gate request; the actor is always the caller's token. */
export function gateRequest(body: RunBody, actor: { name: string; source: "api" | "web" }): RunRequest {
  return {
    actor,
    argv: body.argv,
    grants: body.scopes ?? [],
    ...(body.image !== undefined ? { image: body.image } : {}),
    ...(body.timeoutMs !== undefined ? { timeoutMs: body.timeoutMs } : {}),
    ...(body.runtime !== undefined ? { runtime: body.runtime } : {}),
  };
}

/** Runs: create through the Gate, list, get, follow output (SSE), cancel. */
export const runRoutes = [
  route<RunBody>({
    key: "POST /api/v1/runs",
    summary: "Submit a command through the Gate. Answers once the decision is durable: 201 running, 202 waiting for a person; output follows on /runs/{id}/output or the event WebSocket.",
    body: RunBody,
    responses: { 201: "Allowed; the sandbox is starting.", 202: "Policy asks a person; the run waits for an approval.", 403: "Denied by policy.", 423: "Lockdown is active.", 503: "The sandbox runtime is unavailable." },
    result: Results.run,
    handle: async (call, ctx) => {
      const view = await ctx.runs.start(gateRequest(call.body, actorOf(call)));
      return json(view, view.status === "awaiting-approval" ? 202 : 201, { Location: `/api/v1/runs/${encodeURIComponent(view.runId)}` });
    },
  }),
  route({
    key: "GET /api/v1/runs",
    summary: "Runs this server started (newest first; finished ones are kept up to a limit).",
    responses: { 200: "The runs." },
    result: Results.runs,
    handle: (_call, ctx) => json({ runs: ctx.runs.list() }),
  }),
  route({
    key: "GET /api/v1/runs/{id}",
    summary: "One run: status, decision, exit code.",
    responses: { 200: "The run.", 404: "No such run on this server." },
    result: Results.run,
    handle: (call, ctx) => json(found(ctx.runs.get(call.params.id ?? ""), call.params.id)),
  }),
  route({
    key: "GET /api/v1/runs/{id}/output",
    kind: "sse",
    summary: "Server-Sent Events: the run's redacted output (`output` events, replayed from the start), then one `end` event with the final run.",
    responses: { 200: "An event stream.", 404: "No such run on this server." },
    handle: (call, ctx) => {
      const id = call.params.id ?? "";
      found(ctx.runs.get(id), id);
      // The stream lives as long as the run; heartbeats, not the idle timeout, keep it honest.
      ctx.server().timeout(call.request, 0);
      return sseResponse((send, close) => {
        const unsubscribe = ctx.runs.follow(id, (item: RunStreamItem) => {
          if (item.type === "output") send("output", { stream: item.stream, text: item.text });
          else {
            send("end", item.run);
            close();
          }
        });
        return () => unsubscribe?.();
      }, ctx.sse);
    },
  }),
  route({
    key: "POST /api/v1/runs/{id}/cancel",
    summary: "Cancel a run: a pending approval is withdrawn (denied), a running sandbox is killed.",
    responses: { 202: "Cancellation requested.", 404: "No such run on this server.", 409: "The run is already over." },
    result: Results.run,
    handle: (call, ctx) => {
      const id = call.params.id ?? "";
      const view = found(ctx.runs.get(id), id);
      if (!ctx.runs.cancel(id)) throw new HttpError(409, "conflict", `run ${id} is already over (${view.status})`);
      return json(ctx.runs.get(id), 202);
    },
  }),
];

function found<T>(value: T | undefined, id: string | undefined): T {
  if (value === undefined) throw new HttpError(404, "not-found", `no run ${String(id).slice(0, 200)} on this server`, { hint: "GET /api/v1/runs lists them; runs of other processes are in the audit log" });
  return value;
}
