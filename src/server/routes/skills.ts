import { parseDuration } from "../../core/index.ts";
import { prepareSkillRun, requireSkillImage, SkillRegistry, summarizeSkill, verifiedSkills } from "../../skills/index.ts";
import { HttpError, json } from "../http.ts";
import { actorOf, route } from "../route.ts";
import { Results, SkillRunBody } from "../schemas.ts";

/**
 * Skills: the installed ones (signatures re-verified on every listing) and a run of one
 * command through the Gate, planned exactly as `skills run` plans it (src/skills/prepare.ts).
 * The run joins the run registry, so its output follows on /runs/{id}/output and the WebSocket.
 */
export const skillRoutes = [
  route({
    key: "GET /api/v1/skills",
    summary: "Installed skills: version, description, scopes, commands (with the path parameters each needs) and the signature status, verified now against the trust store.",
    responses: { 200: "The installed skills." },
    result: Results.skills,
    handle: (_call, ctx) => json({ skills: verifiedSkills(ctx.app.layout.skills).map(({ skill, verification }) => summarizeSkill(skill, verification)) }),
  }),
  route<SkillRunBody>({
    key: "POST /api/v1/skills/{name}/run",
    summary:
      "Run one command of an installed skill through the Gate, with the skill's own scopes and image and its signature checked now (an invalid one is denied). Answers like POST /runs: 201 running, 202 waiting for a person; output on /runs/{id}/output.",
    body: SkillRunBody,
    responses: {
      201: "Allowed; the sandbox is starting.",
      202: "Policy asks a person (e.g. an unsigned or untrusted skill under the standard template).",
      400: "Unknown command, missing or unknown path parameter, or invalid body.",
      403: "Denied by policy (an invalid signature always is).",
      404: "No skill of this name is installed.",
      423: "Lockdown is active.",
      503: "The sandbox runtime is unavailable, or the skill's image is gone.",
    },
    result: Results.run,
    handle: async (call, ctx) => {
      const name = call.params.name ?? "";
      if (!new SkillRegistry(ctx.app.layout.skills).has(name)) {
        throw new HttpError(404, "not-found", `skill ${name.slice(0, 100)} is not installed`, { hint: "GET /api/v1/skills lists the installed ones; install with `aegisclaw skills add DIR`" });
      }
      const choice = { ...(call.body.command !== undefined ? { command: call.body.command } : {}), args: call.body.args ?? [] };
      const plan = prepareSkillRun(ctx.app.layout.skills, name, choice, call.body.paths ?? {}, parseDuration(ctx.app.config.sandbox.timeout));
      await requireSkillImage(ctx.app.runtime, plan);
      const view = await ctx.runs.start({ actor: actorOf(call), ...plan });
      return json(view, view.status === "awaiting-approval" ? 202 : 201, { Location: `/api/v1/runs/${encodeURIComponent(view.runId)}` });
    },
  }),
];
