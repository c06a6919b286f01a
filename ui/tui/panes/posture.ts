import type { PostureCheck, PostureReport } from "../../../src/posture/types.ts";
import { fit, formatClock } from "../format.ts";
import { type Line, type Tone, seg } from "../theme.ts";
import { type PaneContent, type PaneContext, clip, scrolled, wrap } from "./text.ts";

const STATUS: Record<PostureCheck["status"], { mark: string; tone: Tone }> = {
  pass: { mark: "✔ pass", tone: "good" },
  partial: { mark: "◐ partial", tone: "warn" },
  fail: { mark: "✘ fail", tone: "bad" },
  unknown: { mark: "? unknown", tone: "muted" },
};

function gradeTone(grade: PostureReport["grade"]): Tone {
  if (grade === "A" || grade === "B") return "good";
  return grade === "C" ? "warn" : "bad";
}

/** The grade line and, per check, status, points earned of its weight, what was seen, and the fix. */
export function postureLines(report: PostureReport): Line[] {
  const lines: Line[] = [
    [
      seg("Grade ", "muted"),
      seg(report.grade, gradeTone(report.grade), { bold: true }),
      seg(`  ${report.score}/100`, "plain", { bold: true }),
      seg(`  computed ${formatClock(report.computedAt)}`, "muted"),
    ],
    [],
  ];
  for (const check of report.checks) {
    const status = STATUS[check.status];
    lines.push([seg(fit(status.mark, INDENT), status.tone), seg(fit(check.title, 24), "plain", { bold: true }), seg(`${check.earned}/${check.weight}`, status.tone)]);
    lines.push([seg(" ".repeat(INDENT)), seg(check.detail, "muted")]);
    if (check.fix && check.earned < check.weight) lines.push([seg(" ".repeat(INDENT)), seg("fix: ", "accent"), seg(check.fix)]);
  }
  return lines;
}

const INDENT = 11;

/** Wraps with a hanging indent: the posture view is for reading, so nothing is cut. */
function wrapIndented(line: Line, width: number): Line[] {
  const rows = wrap(line, width);
  return rows.map((row, index) => {
    if (index === 0 || width <= INDENT * 2) return row;
    return wrap([seg(" ".repeat(INDENT)), ...row], width)[0] ?? row;
  });
}

/** The posture view: the grade with its breakdown; `r` recomputes it. */
export function posturePane(ctx: PaneContext): PaneContent {
  const { state, view, size } = ctx;
  const { posture } = state;
  const title = posture.loading ? "Posture (computing…)" : "Posture";
  const lines: Line[] = [];
  if (posture.error) lines.push([seg(`posture unavailable: ${posture.error}`, "bad")]);
  if (posture.value) lines.push(...postureLines(posture.value));
  else if (!posture.error) lines.push([seg(posture.loading ? "Computing the posture grade…" : "Press r to compute the posture grade.", "muted")]);
  const rows = lines.flatMap((line) => wrapIndented(line, size.width));
  return { title, lines: rows.length > size.height ? scrolled(rows, view.postureScroll, size) : rows.map((line) => clip(line, size.width)) };
}
