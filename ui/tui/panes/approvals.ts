import type { ApprovalRequest } from "../../../src/approvals/types.ts";
import type { Risk } from "../../../src/policy/index.ts";
import { fit, formatArgv, formatClock, formatTimeLeft, shortHash } from "../format.ts";
import type { ConsoleState } from "../state.ts";
import { type Line, type Tone, seg } from "../theme.ts";
import type { ViewState } from "../view-state.ts";
import { type PaneContent, type PaneContext, clip, listRow, rule, windowStart } from "./text.ts";

/** Tone of a risk level. */
export function riskTone(risk: Risk): Tone {
  if (risk === "low") return "good";
  if (risk === "medium") return "warn";
  return "bad";
}

/** The request the approvals pane shows as selected: the picked one, else the most urgent. */
export function selectedApproval(state: ConsoleState, view: ViewState): ApprovalRequest | undefined {
  return (view.selectedApprovalId ? state.approvals.get(view.selectedApprovalId) : undefined) ?? state.approvalList()[0];
}

function signatureTone(signature: "valid" | "unsigned" | "untrusted" | "invalid"): Tone {
  return signature === "valid" ? "good" : signature === "unsigned" ? "warn" : "bad";
}

/**
 * Everything a person needs to judge a request. `full` adds the identifiers (id, whole
 * hash, pid, times) for the details overlay.
 */
export function approvalDetailLines(request: ApprovalRequest, now: number, full: boolean): Line[] {
  const timeLeft = formatTimeLeft(request.expiresAt, now);
  const lines: Line[] = [
    [seg("argv    ", "muted"), seg(formatArgv(request.argv), "plain", { bold: true })],
    [seg("image   ", "muted"), seg(request.image), seg("  runtime ", "muted"), seg(request.runtime)],
    [seg("actor   ", "muted"), seg(`${request.actor.name} (${request.actor.source})`)],
  ];
  if (request.skill) {
    lines.push([seg("skill   ", "muted"), seg(`${request.skill.name} `), seg(`signature ${request.skill.signature}`, signatureTone(request.skill.signature))]);
  }
  lines.push([
    seg("risk    ", "muted"),
    seg(request.risk.toUpperCase(), riskTone(request.risk), { bold: true }),
    seg("  expires ", "muted"),
    seg(timeLeft, timeLeft === "expired" ? "bad" : "warn"),
  ]);
  if (full) {
    lines.push([seg("id      ", "muted"), seg(request.id)]);
    lines.push([seg("hash    ", "muted"), seg(request.requestHash)]);
    lines.push([seg("created ", "muted"), seg(`${request.createdAt} (${formatClock(request.createdAt)})`)]);
    lines.push([seg("expires ", "muted"), seg(`${request.expiresAt} (${formatClock(request.expiresAt)})`)]);
    lines.push([seg("pid     ", "muted"), seg(String(request.pid))]);
  }
  lines.push([seg(`scopes (${request.scopes.length})`, "muted")]);
  if (request.scopes.length === 0) lines.push([seg("  none", "muted")]);
  for (const scope of request.scopes) {
    lines.push([seg("  "), seg(fit(scope.risk, 9), riskTone(scope.risk)), seg(scope.scope)]);
  }
  lines.push([seg(`reasons (${request.reasons.length})`, "muted")]);
  for (const reason of request.reasons) {
    const where = [reason.scope, reason.field].filter(Boolean).join(", ");
    lines.push([seg("  "), seg(reason.rule, "accent"), seg(`: ${reason.message}`), seg(where ? ` (${where})` : "", "muted")]);
  }
  return lines;
}

/** Pending approvals: the list on top, the selected request's details below. */
export function approvalsPane(ctx: PaneContext): PaneContent {
  const { state, view, size, now } = ctx;
  const requests = state.approvalList();
  const title = `Approvals (${requests.length} pending)`;
  if (requests.length === 0) return { title, lines: [clip([seg("No pending approvals.", "muted")], size.width)] };
  const current = selectedApproval(state, view);
  const selectedIndex = Math.max(0, requests.findIndex((request) => request === current));
  const listRows = Math.min(requests.length, Math.max(1, Math.floor(size.height / 4)));
  const start = windowStart(requests.length, selectedIndex, listRows);
  const lines: Line[] = requests.slice(start, start + listRows).map((request) =>
    listRow(
      [
        seg(fit(request.risk.toUpperCase(), 9), riskTone(request.risk)),
        seg(fit(formatTimeLeft(request.expiresAt, now), 14), "warn"),
        seg(fit(request.actor.name, 12), "muted"),
        seg(formatArgv(request.argv)),
      ],
      request === current,
      size.width,
    ),
  );
  if (!current) return { title, lines };
  const shown = { id: current.id, requestHash: current.requestHash };
  if (size.height - lines.length < 2) return { title, lines: lines.slice(0, size.height), shown };
  lines.push(rule(`${current.id} · hash ${shortHash(current.requestHash)}`, size.width));
  const hint: Line = [seg("a approve once · A approve for session · d deny · Enter details", "accent")];
  const details = approvalDetailLines(current, now, false);
  const room = size.height - lines.length;
  if (details.length + 1 <= room) lines.push(...details, hint);
  else lines.push(...details.slice(0, Math.max(0, room - 1)), [seg(`… ${details.length - room + 1} more lines: Enter for all details`, "warn")]);
  return { title, lines: lines.slice(0, size.height).map((line) => clip(line, size.width)), shown };
}
