import { fit } from "../format.ts";
import { KEY_BINDINGS, type KeyScope } from "../keys.ts";
import type { ConsoleState } from "../state.ts";
import { type Line, seg } from "../theme.ts";
import { VIEW_TITLES, type Overlay } from "../view-state.ts";
import { approvalDetailLines } from "./approvals.ts";

const SCOPE_TITLES: Record<KeyScope, string> = {
  global: "Everywhere",
  runs: `1 ${VIEW_TITLES.runs}`,
  approvals: `2 ${VIEW_TITLES.approvals}`,
  audit: `3 ${VIEW_TITLES.audit}`,
  posture: `4 ${VIEW_TITLES.posture}`,
  xray: `5 ${VIEW_TITLES.xray}`,
  overlay: "Overlays",
  "approval-overlay": "Approval details",
  confirm: "Questions",
};

/** Every key binding, grouped by where it applies; generated from the key table itself. */
export function helpLines(): Line[] {
  const lines: Line[] = [];
  for (const scope of Object.keys(SCOPE_TITLES) as KeyScope[]) {
    const bindings = KEY_BINDINGS.filter((binding) => binding.scope === scope && !binding.hidden);
    if (bindings.length === 0) continue;
    if (lines.length) lines.push([]);
    lines.push([seg(SCOPE_TITLES[scope], "accent", { bold: true })]);
    for (const binding of bindings) lines.push([seg(`  ${fit(binding.label, 12)}`, "plain", { bold: true }), seg(binding.help)]);
  }
  return lines;
}

/** The overlay's title and its full content (the app scrolls and wraps it). */
export function overlayContent(overlay: Overlay, state: ConsoleState, now: number): { title: string; lines: Line[] } {
  switch (overlay.kind) {
    case "help":
      return { title: "Keys (Esc closes)", lines: helpLines() };
    case "text":
      return { title: `${overlay.title} (Esc closes)`, lines: overlay.lines };
    case "confirm":
      return { title: "Confirm", lines: [[seg(overlay.question, "warn", { bold: true })], [], [seg("y", "plain", { bold: true }), seg(" yes   "), seg("n", "plain", { bold: true }), seg(" / Esc no")]] };
    case "approval": {
      const request = state.approvals.get(overlay.id);
      // The details stay bound to the hash they were opened for: a replaced request is not shown as this one.
      if (!request || request.requestHash !== overlay.requestHash) {
        return { title: `Request ${overlay.id}`, lines: [[seg("This request is no longer pending (resolved, expired or replaced).", "warn")]] };
      }
      const hint: Line = [seg("a approve once · A approve for session · d deny · Esc close", "accent")];
      return { title: `Request ${overlay.id} (Esc closes)`, lines: [...approvalDetailLines(request, now, true), [], hint] };
    }
  }
}
