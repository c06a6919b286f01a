import { json } from "../http.ts";
import { caller, channelOf, route } from "../route.ts";
import { ApprovalAnswer, Results } from "../schemas.ts";

const answerResponses = {
  200: "Answered; the holder records it in the audit log before anything runs.",
  404: "No such pending approval.",
  409: "The request hash does not match the pending request (it changed since it was reviewed).",
};

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
    responses: answerResponses,
    result: Results.resolution,
    handle: async (call, ctx) => json({ resolution: await ctx.approvals.resolve(call.params.id ?? "", call.body.requestHash, "approve", caller(call).name, channelOf(call)) }),
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
