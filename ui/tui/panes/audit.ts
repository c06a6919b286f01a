import type { AuditEntry } from "../../../src/audit/index.ts";
import { actorLabel, describeFilter, filterAudit } from "../audit-filter.ts";
import { fit, formatClock } from "../format.ts";
import { type Line, type Segment, type Tone, seg } from "../theme.ts";
import { type PaneContent, type PaneContext, clip, listRow, rule, windowStart, wrap } from "./text.ts";

function decisionTone(kind: string | undefined): Tone {
  if (kind === "allow") return "good";
  if (kind === "deny") return "bad";
  if (kind === "ask") return "warn";
  return "muted";
}

/** The one-line gist of an entry: its first reason, its result, or its note. */
export function entryGist(entry: AuditEntry): string {
  const reason = entry.decision?.reasons[0];
  if (reason) return `${reason.rule}: ${reason.message}`;
  if (entry.result) {
    const { result } = entry;
    return result.killedBy ? `killed by ${result.killedBy}` : `exit ${result.exitCode}${result.timedOut ? " (timeout)" : ""}`;
  }
  return entry.note ?? "";
}

function entryRow(entry: AuditEntry, wide: boolean): Segment[] {
  const kind = entry.decision?.kind;
  return [
    seg(fit(`#${entry.seq}`, 7), "muted"),
    seg(fit(formatClock(entry.time), 9), "muted"),
    seg(fit(entry.type, 9)),
    seg(fit(kind ?? "", 6), decisionTone(kind), { bold: kind === "deny" }),
    seg(fit(actorLabel(entry), 16), "accent"),
    // At 80 columns the run id would leave no room for the reason; the detail lines carry it.
    seg(wide && entry.runId ? `${entry.runId} ` : "", "muted"),
    seg(entryGist(entry)),
  ];
}

/** The selected entry under the list: run id and every reason, wrapped, since rows are cut. */
function detailLines(entry: AuditEntry, width: number, rows: number): Line[] {
  const reasons = entry.decision?.reasons.map((reason) => `${reason.rule}: ${reason.message}`) ?? [];
  const text = reasons.length ? reasons.join("; ") : entryGist(entry);
  const head = `#${entry.seq}${entry.runId ? ` · ${entry.runId}` : ""}${entry.decision?.approvedBy ? ` · approved by ${entry.decision.approvedBy}` : ""}`;
  return [rule(head, width), ...wrap([seg(text)], width).slice(0, Math.max(0, rows - 1))];
}

/** The audit timeline, newest first, with the active filters on its first line. */
export function auditPane(ctx: PaneContext): PaneContent {
  const { state, view, size } = ctx;
  const entries = filterAudit(state.audit, view.auditFilter);
  const title = `Audit (${entries.length} of ${state.audit.length} newest)`;
  const lines: Line[] = [clip([seg(`filter ${describeFilter(view.auditFilter)}`, "muted"), seg("  f/w/s cycle · v verify", "muted")], size.width)];
  if (state.auditError) lines.push(clip([seg(`audit unavailable: ${state.auditError}`, "bad")], size.width));
  if (entries.length === 0) {
    lines.push(clip([seg(state.audit.length ? "No entry matches the filters." : "No audit entries yet.", "muted")], size.width));
    return { title, lines: lines.slice(0, size.height) };
  }
  const detailRows = size.height >= 8 ? 3 : 0;
  const rows = Math.max(0, size.height - lines.length - detailRows);
  const selected = Math.min(view.auditIndex, entries.length - 1);
  const start = windowStart(entries.length, selected, rows);
  const wide = size.width >= 100;
  entries.slice(start, start + rows).forEach((entry, offset) => {
    lines.push(listRow(entryRow(entry, wide), start + offset === selected, size.width));
  });
  const current = entries[selected];
  if (current && detailRows > 0) {
    while (lines.length < size.height - detailRows) lines.push([]);
    lines.push(...detailLines(current, size.width, detailRows));
  }
  return { title, lines: lines.slice(0, size.height) };
}

/** The entry selected in the audit timeline (after filtering), if any. */
export function selectedAuditEntry(ctx: Pick<PaneContext, "state" | "view">): AuditEntry | undefined {
  const entries = filterAudit(ctx.state.audit, ctx.view.auditFilter);
  return entries[Math.min(ctx.view.auditIndex, entries.length - 1)];
}
