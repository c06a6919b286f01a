import type { Envelope } from "../backend.ts";
import { cellWidth } from "../format.ts";
import type { ConsoleState } from "../state.ts";
import { type Line, type Segment, type Tone, seg } from "../theme.ts";
import { VIEWS, VIEW_TITLES, type ViewId } from "../view-state.ts";
import { clip } from "./text.ts";

function width(line: Line): number {
  return line.reduce((sum, segment) => sum + cellWidth(segment.text), 0);
}

/**
 * The envelope indicator: what protects the next run. Long labels when everything fits on one
 * line, short ones otherwise, and when even that does not fit the facts flow onto a second
 * line (never cut mid-fact), so all five stay on screen at 60 columns. It never claims a
 * value it does not have.
 */
export function envelopeLines(envelope: Envelope | undefined, error: string | undefined, lockdown: ConsoleState["lockdown"], columns: number): Line[] {
  const lock: Segment = lockdown.active ? seg("LOCKDOWN", "bad", { bold: true }) : seg("off", "good");
  if (!envelope) {
    return [clip([seg("envelope unknown", "bad", { bold: true }), seg(error ? `: ${error}` : " (loading…)", "muted"), seg("  lockdown ", "muted"), lock], columns)];
  }
  const facts: Array<[long: string, short: string, value: Segment]> = [
    ["runtime", "rt", seg(envelope.runtime, /gvisor|runsc/.test(envelope.runtime) ? "good" : "warn", { bold: true })],
    ["seccomp", "sc", seg(envelope.seccomp, /unconfined|off|disabled/.test(envelope.seccomp) ? "bad" : "good")],
    ["network", "net", seg(envelope.network, envelope.network.startsWith("none") ? "good" : "warn")],
    ["lockdown", "lock", lock],
    ["policy", "pol", seg(envelope.policyTemplate, "accent")],
  ];
  const long: Line = [];
  facts.forEach(([label, , value], index) => {
    if (index > 0) long.push(seg(" │ ", "muted"));
    long.push(seg(`${label} `, "muted"), value);
  });
  if (width(long) <= columns) return [long];
  const lines: Line[] = [[]];
  for (const [, label, value] of facts) {
    const fact: Line = [seg(`${label} `, "muted"), value];
    const current = lines[lines.length - 1] ?? [];
    const gap = current.length ? 1 : 0;
    if (current.length && width(current) + gap + width(fact) > columns && lines.length < 2) lines.push([...fact]);
    else current.push(...(gap ? [seg(" ")] : []), ...fact);
  }
  return lines.map((line) => clip(line, columns));
}

/** The view tabs with counts, and the adapter health line. */
export function tabsLine(state: ConsoleState, current: ViewId, columns: number): Line {
  const counts: Partial<Record<ViewId, number>> = { runs: state.activeRuns(), approvals: state.approvals.size };
  const line: Line = [];
  VIEWS.forEach((view, index) => {
    const count = counts[view] ? `(${counts[view]})` : "";
    const tone: Tone = view === "approvals" && count ? "warn" : view === current ? "accent" : "muted";
    line.push(seg(`${index + 1} ${VIEW_TITLES[view]}${count}`, tone, { inverse: view === current, bold: view === current }), seg(" "));
  });
  const adapter = state.envelope?.adapter ?? "unknown";
  line.push(seg("│ adapter ", "muted"), seg(adapter, adapter.includes("not configured") ? "muted" : "plain"));
  return clip(line, columns);
}

/** The lockdown banner: shown for as long as lockdown is active, whoever started it. */
export function lockdownBanner(lockdown: ConsoleState["lockdown"], columns: number): Line {
  const text = ` LOCKDOWN ACTIVE${lockdown.reason ? `: ${lockdown.reason}` : ""} · new actions refused · U unlock `;
  const padded = text + " ".repeat(Math.max(0, columns - cellWidth(text)));
  return clip([seg(padded, "alarm", { bold: true })], columns);
}

/** The header rows: envelope (one or two lines), tabs + adapter, and the banner during lockdown. */
export function headerLines(state: ConsoleState, view: ViewId, columns: number): Line[] {
  const lines = [...envelopeLines(state.envelope, state.envelopeError, state.lockdown, columns), tabsLine(state, view, columns)];
  if (state.lockdown.active) lines.push(lockdownBanner(state.lockdown, columns));
  return lines;
}
