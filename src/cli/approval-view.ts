import type { ApprovalRequest } from "../approvals/index.ts";

/** The full request as a person must see it before answering (CLI list and the inline prompt). */
export function describeApproval(request: ApprovalRequest, now = Date.now()): string[] {
  const left = Math.max(0, Math.round((Date.parse(request.expiresAt) - now) / 1000));
  return [
    `approval ${request.id}  (risk ${request.risk}, expires in ${left} s, process ${request.pid})`,
    `  command   ${request.argv.map(quoteArg).join(" ")}`,
    `  actor     ${request.actor.name} via ${request.actor.source}`,
    `  sandbox   image ${request.image}, runtime ${request.runtime}`,
    `  scopes    ${request.scopes.map((s) => `${s.scope} (${s.risk})`).join(", ") || "none"}`,
    ...(request.skill ? [`  skill     ${request.skill.name} (signature ${request.skill.signature})`] : []),
    ...request.reasons.map((r) => `  why       [${r.rule}] ${r.message}${r.scope ? ` (scope ${r.scope})` : ""}`),
    `  hash      ${request.requestHash}`,
  ];
}

/** Shows an argument so that spaces and control characters cannot disguise what will run. */
function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg);
}
