import { PolicyTemplate } from "../../core/index.ts";
import { json } from "../http.ts";
import { actorOf, route } from "../route.ts";
import { Results, RunBody } from "../schemas.ts";
import { holdForApproval, VERDICT_RESPONSES, verdictResponse } from "../verdict.ts";
import { gateRequest } from "./runs.ts";

/** Policy reads, simulation, and the decision-only endpoint for agents. */
export const policyRoutes = [
  route({
    key: "GET /api/v1/policy",
    summary: "The policy template in force, the templates there are, and the grants config.yaml adds to every request.",
    responses: { 200: "The policy." },
    result: Results.policy,
    handle: (_call, ctx) => json({ template: ctx.app.config.policy.template, templates: PolicyTemplate.options, grants: ctx.app.config.policy.grants }),
  }),
  route<RunBody>({
    key: "POST /api/v1/policy/simulate",
    summary: "What the Gate would decide and the sandbox a run would get; executes and records nothing.",
    body: RunBody,
    responses: { 200: "The simulation." },
    result: Results.simulation,
    handle: async (call, ctx) => json(await ctx.app.simulator().simulate(gateRequest(call.body, actorOf(call)))),
  }),
  route<RunBody>({
    key: "POST /api/v1/decide",
    summary:
      "A verdict without execution: validate -> lockdown -> policy -> audit -> approval (an ask waits for a person, up to approvals.timeout) -> audit. The body is always the verdict: 200 allow, 403 deny, 423 lockdown.",
    body: RunBody,
    responses: VERDICT_RESPONSES,
    result: Results.verdict,
    handle: async (call, ctx) => {
      const signal = holdForApproval(call, ctx);
      return verdictResponse(await ctx.gate.decide(gateRequest(call.body, actorOf(call)), signal));
    },
  }),
];
