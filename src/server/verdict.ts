import type { Verdict } from "../core/index.ts";
import { json } from "./http.ts";
import type { Call } from "./route.ts";
import type { ServerContext } from "./context.ts";

/**
 * What the decision-only routes (`POST /decide`, `POST /openclaw/tool-calls`) share: the body is
 * always the verdict, its status says which one, and an ask holds the request open for a person.
 */
export const VERDICT_RESPONSES: Readonly<Record<number, string>> = {
  200: "Allowed (by policy, or approved by a person).",
  403: "Denied (policy, a person, or nobody answered in time); the body is the verdict.",
  423: "Lockdown is active; the body is the verdict.",
};

/** 200 allow, 423 a lockdown deny, 403 any other deny; the body is the verdict either way. */
export function verdictResponse(verdict: Verdict): Response {
  return json(verdict, verdict.verdict === "allow" ? 200 : verdict.lockdown ? 423 : 403);
}

/**
 * Lifts the idle timeout for a request that may wait for a person: the approval timeout bounds
 * it instead. A client that disconnects aborts `call.request.signal`, which withdraws its ask.
 */
export function holdForApproval(call: Call<unknown, unknown>, ctx: ServerContext): AbortSignal {
  ctx.server().timeout(call.request, 0);
  return call.request.signal;
}
