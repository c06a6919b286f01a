import { HttpError, json } from "../http.ts";
import { caller, channelOf, route, type Call } from "../route.ts";
import type { ServerContext } from "../context.ts";
import { ApprovalAnswer, Results } from "../schemas.ts";

const answerResponses = {
  200: "Answered; the holder records it in the audit log before anything runs.",
  404: "No such pending approval.",
  409: "The request hash does not match the pending request (it changed since it was reviewed).",
};

/**
 * Requests made with a bearer token: an agent's (the API, the OpenClaw plugin). A request made
 * in a dashboard session is a person's own run, which that person may confirm like at a terminal.
 */
const AGENT_SOURCES = new Set(["api", "openclaw"]);

/**
 * An agent holding an operator token could otherwise ask and then approve its own request,
 * over the API or in a session opened with the same token: whoever approves must not be the
 * token that asked. Denying one's own request is fine.
 */
function refuseSelfApproval(call: Call<unknown, unknown>, ctx: ServerContext, id: string): void {
  const request = ctx.approvals.list().find((pending) => pending.id === id);
  if (request && AGENT_SOURCES.has(request.actor.source) && request.actor.name === caller(call).name) {
    throw new HttpError(403, "self-approval", `token ${caller(call).name} asked for this request and cannot approve it itself`, {
      hint: "approve it with another person's token, in the console, or with `aegisclaw approvals approve` on the host",
    });
  }
}

/** Approvals of the server and of every other process of the home. */
export const approvalRoutes = [
  route({
    key: "GET /api/v1/approvals",
    summary: "Requests waiting for a person: the server's own and every other AegisClaw process's.",
    responses: { 200: "Pending requests, oldest first." },
    result: Results.approvals,
    handle: (_call, ctx) => json({ pending: ctx.approvals.list() }),
  }),
  route<ApprovalAnswer>({
    key: "POST /api/v1/approvals/{id}/approve",
    summary: "Approve one request, bound to the hash the client reviewed; recorded as by=<token name> via=api.",
    body: ApprovalAnswer,
    responses: { ...answerResponses, 403: "The calling token made the request itself: a requester never approves its own request." },
    result: Results.resolution,
    handle: async (call, ctx) => {
      refuseSelfApproval(call, ctx, call.params.id ?? "");
      return json({ resolution: await ctx.approvals.resolve(call.params.id ?? "", call.body.requestHash, "approve", caller(call).name, channelOf(call)) });
    },
  }),
  route<ApprovalAnswer>({
    key: "POST /api/v1/approvals/{id}/deny",
    summary: "Deny one request, bound to the hash the client reviewed; recorded as by=<token name> via=api.",
    body: ApprovalAnswer,
    responses: answerResponses,
    result: Results.resolution,
    handle: async (call, ctx) => json({ resolution: await ctx.approvals.resolve(call.params.id ?? "", call.body.requestHash, "deny", caller(call).name, channelOf(call)) }),
  }),
];
