import { fit, formatArgv, formatDuration } from "../format.ts";
import type { OutputLine, RunOutput } from "../ring.ts";
import type { ConsoleState, RunView } from "../state.ts";
import { type Line, type Tone, seg } from "../theme.ts";
import type { ViewState } from "../view-state.ts";
import { type PaneContent, type PaneContext, clip, listRow, rule, windowStart } from "./text.ts";

/** The run the runs pane follows: the one picked with j/k, else the newest. */
export function selectedRun(state: ConsoleState, view: ViewState): RunView | undefined {
  return (view.selectedRunId ? state.runs.get(view.selectedRunId) : undefined) ?? state.runList()[0];
}

/** "running", "exit 0", "exit 137 (timeout)", "killed by lockdown", with its tone. */
export function runStatusText(run: RunView): { text: string; tone: Tone } {
  const { status } = run;
  if (status.kind === "running") return { text: "running", tone: "accent" };
  if (status.kind === "killed") return { text: `killed by ${status.by}`, tone: "bad" };
  const text = `exit ${status.exitCode}${status.timedOut ? " (timeout)" : ""}`;
  return { text, tone: status.exitCode === 0 && !status.timedOut ? "good" : "bad" };
}

/** Wall time so far for a running run, the recorded duration otherwise. */
export function runDuration(run: RunView, now: number): string {
  return formatDuration(run.status.kind === "running" ? now - run.startedAt : run.status.durationMs);
}

/** Complete and unfinished lines of the window ending `scroll` lines before the newest. */
export function outputWindow(output: RunOutput, rows: number, scroll: number): OutputLine[] {
  const pending = output.pending();
  const held = output.lines.length;
  const total = held + pending.length;
  const end = Math.max(0, Math.min(total, total - scroll));
  const begin = Math.max(0, end - rows);
  const ringEnd = Math.min(end, held);
  const ringBegin = Math.min(begin, held);
  const lines = output.lines.window(ringEnd - ringBegin, held - ringEnd);
  return lines.concat(pending.slice(Math.max(0, begin - held), Math.max(0, end - held)));
}

/** Lines a run's output holds in total (for clamping the scroll offset). */
export function outputLength(output: RunOutput): number {
  return output.lines.length + output.pending().length;
}

/** The live runs pane: the run list on top, the followed run's output below. */
export function runsPane(ctx: PaneContext): PaneContent {
  const { state, view, size, now } = ctx;
  const runs = state.runList();
  const title = `Runs (${state.activeRuns()} running, ${runs.length} kept)`;
  if (runs.length === 0) {
    return { title, lines: [clip([seg("No runs yet. Runs from every AegisClaw process of this home appear here.", "muted")], size.width)] };
  }
  const current = selectedRun(state, view);
  const selectedIndex = Math.max(0, runs.findIndex((run) => run === current));
  const listRows = Math.min(runs.length, Math.max(1, Math.floor(size.height / 3)));
  const start = windowStart(runs.length, selectedIndex, listRows);
  const lines: Line[] = runs.slice(start, start + listRows).map((run) => {
    const status = runStatusText(run);
    return listRow(
      [
        seg(fit(status.text, 18), status.tone),
        seg(fit(run.runtime, 8), "muted"),
        seg(fit(runDuration(run, now), 8)),
        seg(fit(run.runId, 14), "muted"),
        seg(formatArgv(run.argv)),
      ],
      run === current,
      size.width,
    );
  });
  if (!current || size.height - lines.length < 2) return { title, lines: lines.slice(0, size.height) };
  const following = view.outputScroll === 0 ? "following" : `${view.outputScroll} lines back, End to follow`;
  lines.push(rule(`output of ${current.runId} · ${following}`, size.width));
  lines.push(...outputLines(current, size.height - lines.length, view.outputScroll, size.width));
  return { title, lines };
}

function outputLines(run: RunView, rows: number, scroll: number, width: number): Line[] {
  if (rows <= 0) return [];
  const { output } = run;
  const window = outputWindow(output, rows, scroll);
  const lines: Line[] = window.map((line) => clip([seg(line.text, line.stderr ? "warn" : "plain")], width));
  if (lines.length === 0) return [clip([seg("(no output yet)", "muted")], width)];
  const atOldest = outputLength(output) - scroll - window.length <= 0;
  if (atOldest && output.lines.dropped > 0) {
    const note = clip([seg(`… ${output.lines.dropped} earlier lines not kept (last ${output.lines.capacity} are)`, "muted")], width);
    if (lines.length >= rows) lines.shift();
    lines.unshift(note);
  }
  return lines;
}
