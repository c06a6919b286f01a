import { cellWidth, clean, truncate } from "../format.ts";
import type { PaneSize } from "../layout.ts";
import type { ConsoleState } from "../state.ts";
import { type Line, type Segment, seg } from "../theme.ts";
import type { ShownApproval, ViewState } from "../view-state.ts";

/** What every pane builder receives. */
export interface PaneContext {
  state: ConsoleState;
  view: ViewState;
  size: PaneSize;
  /** Epoch ms, from the console's clock. */
  now: number;
  focused: boolean;
}

/** A pane's title and exactly the lines that fit it. */
export interface PaneContent {
  title: string;
  lines: Line[];
  /** Approvals pane only: the request drawn as selected (what a/A/d act on). */
  shown?: ShownApproval;
}

/**
 * Cuts a line to `width` cells. Segment text is cleaned here, the last step before drawing,
 * so no pane can forget it.
 */
export function clip(line: Line, width: number): Line {
  const out: Segment[] = [];
  let used = 0;
  for (const segment of line) {
    const text = clean(segment.text);
    const w = cellWidth(text);
    if (used + w <= width) {
      out.push({ ...segment, text });
      used += w;
      continue;
    }
    const cut = truncate(text, width - used);
    if (cut) out.push({ ...segment, text: cut });
    break;
  }
  return out;
}

/** Splits a line into rows of at most `width` cells (for overlays, where nothing may be cut). */
export function wrap(line: Line, width: number): Line[] {
  if (width <= 0) return [];
  const rows: Line[] = [];
  let row: Segment[] = [];
  let used = 0;
  for (const segment of line) {
    let piece = "";
    for (const char of clean(segment.text)) {
      const w = cellWidth(char);
      if (used + w > width) {
        if (piece) row.push({ ...segment, text: piece });
        rows.push(row);
        row = [];
        piece = "";
        used = 0;
      }
      piece += char;
      used += w;
    }
    if (piece) row.push({ ...segment, text: piece });
  }
  rows.push(row);
  return rows;
}

/** The first index of a `rows`-long window that keeps `selected` visible. */
export function windowStart(count: number, selected: number, rows: number): number {
  if (rows <= 0 || count <= rows) return 0;
  const start = selected - Math.floor(rows / 2);
  return Math.max(0, Math.min(start, count - rows));
}

/** A list row: reverse video on the selected row so selection shows without colour too. */
export function listRow(segments: Segment[], selected: boolean, width: number): Line {
  const marker = seg(selected ? "▶ " : "  ", selected ? "accent" : "muted");
  const row = clip([marker, ...segments], width);
  if (!selected) return row;
  const used = row.reduce((sum, segment) => sum + cellWidth(segment.text), 0);
  return [...row, seg(" ".repeat(Math.max(0, width - used)))].map((segment) => ({ ...segment, inverse: true }));
}

/** A titled rule: "── title ──────". */
export function rule(title: string, width: number): Line {
  const head = `── ${title} `;
  return clip([seg(head + "─".repeat(Math.max(0, width - cellWidth(head))), "muted")], width);
}

/** Scrolls `lines` by `offset` (clamped) and clips to the pane. */
export function scrolled(lines: Line[], offset: number, size: PaneSize): Line[] {
  const start = Math.max(0, Math.min(offset, lines.length - size.height));
  return lines.slice(start, start + size.height).map((line) => clip(line, size.width));
}
