import { engageLockdown, releaseLockdown } from "../../core/index.ts";
import { isAegisError } from "../../shared/index.ts";
import { HttpError, json } from "../http.ts";
import { actorOf, route } from "../route.ts";
import { LockdownBody, Results, TokenCreateBody } from "../schemas.ts";
import { createTokenAudited, revokeTokenAudited } from "../token-audit.ts";
import { tokenView as view } from "../tokens.ts";

/** Admin: lockdown and its release, and the API tokens themselves. */
export const adminRoutes = [
  route<LockdownBody>({
    key: "POST /api/v1/lockdown",
    summary: "Panic: persist lockdown, kill every AegisClaw sandbox on the engine, refuse new runs; audited.",
    body: LockdownBody,
    responses: { 200: "Lockdown is active (the report says how many sandboxes were killed and any kill/audit problem)." },
    result: Results.lockdown,
    handle: async (call, ctx) => {
      const reason = call.body.reason ?? "lockdown via API";
      const { app } = ctx;
      const report = await engageLockdown({ store: app.lockdown, runtime: { killAll: app.killAllSandboxes }, bus: app.bus, openAudit: app.openAudit }, actorOf(call), reason);
      if (report.killError) ctx.log(`aegisclaw serve: lockdown: could not kill sandboxes: ${report.killError}`);
      if (report.auditError) ctx.log(`aegisclaw serve: lockdown is active but could not be audited: ${report.auditError}`);
      return json({ active: true, reason, ...report });
    },
  }),
  route({
    key: "POST /api/v1/unlock",
    summary: "Lift lockdown; recorded in the audit log before the flag is lifted.",
    responses: { 200: "Lockdown is lifted (`wasActive` says whether it was on)." },
    result: Results.lockdown,
    handle: async (call, ctx) => {
      const { app } = ctx;
      const result = await releaseLockdown({ store: app.lockdown, bus: app.bus, openAudit: app.openAudit }, actorOf(call));
      return json({ active: false, ...result });
    },
  }),
  route({
    key: "GET /api/v1/tokens",
    summary: "API tokens (never their secrets), revoked ones included.",
    responses: { 200: "The tokens." },
    result: Results.tokens,
    handle: (_call, ctx) => json({ tokens: ctx.tokens.list().map(view) }),
  }),
  route<TokenCreateBody>({
    key: "POST /api/v1/tokens",
    summary: "Create a token; the response is the only time its secret is shown.",
    body: TokenCreateBody,
    responses: { 201: "Created.", 400: "Invalid or duplicate name." },
    result: Results.tokenCreated,
    handle: async (call, ctx) => {
      const { token, record } = await createTokenAudited(ctx.tokens, await ctx.app.openAudit(), actorOf(call), call.body.role, call.body.name);
      return json({ ...view(record), token }, 201);
    },
  }),
  route({
    key: "DELETE /api/v1/tokens/{id}",
    summary: "Revoke a token: its requests, sessions and WebSockets stop working.",
    responses: { 200: "Revoked.", 404: "No such live token." },
    result: Results.token,
    handle: async (call, ctx) => {
      try {
        return json(view(await revokeTokenAudited(ctx.tokens, await ctx.app.openAudit(), actorOf(call), call.params.id ?? "")));
      } catch (error) {
        if (isAegisError(error, "bad-input")) throw new HttpError(404, "not-found", error.message);
        throw error;
      }
    },
  }),
];
